/*
 * A system with a driver VM beside a native PD, packed to the byte: where
 * the VM's RAM, device tree, kernel and initrd go, its stage-2 mappings
 * (IPA = PA), its VM and vCPU entries in the boot information, its
 * device tree built from the layout (UIO devices for its channels), the
 * image segments, --dump, the manifest, --dtb-out, where guest files are
 * looked for, and the arm64 Image header checks.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_image_fixture.h"

#include <jansson.h>
#include <libfdt.h>

/*
 * a (a component on core 0) and linux (2 vCPUs on cores 1 and 2, 128 MiB,
 * virtio-net slot 31 passed through). Channel "net" shows the VM regions
 * "rx" and "rx_data" (named after its end "rx"); channel "ctl" (id 5 at
 * the VM) has none; map "scratchpad" belongs to no channel.
 */
static const char vm_system[] =
    "{\"name\": \"with-vm\",\n"
    " \"devices\": [{\"name\": \"net0\", \"kind\": \"virtio-net\", \"slot\": 31}],\n"
    " \"components\": [{\"name\": \"a\", \"kind\": \"test\", \"program\": \"prog\", "
    "\"priority\": 100}],\n"
    " \"vms\": [{\"name\": \"linux\", \"vcpus\": 2, \"priority\": 90, \"memory\": \"128MiB\",\n"
    "   \"kernel\": \"Image\", \"initrd\": \"initrd.img\", \"bootargs\": \"quiet\", \"devices\": "
    "[\"net0\"]}],\n"
    " \"regions\": [{\"name\": \"queues\", \"size\": \"64KiB\"}, {\"name\": \"buffers\", "
    "\"size\": \"2MiB\"},\n"
    "   {\"name\": \"pad\", \"size\": \"4KiB\"}],\n"
    " \"maps\": [{\"pd\": \"a\", \"region\": \"queues\", \"rights\": \"rw\"},\n"
    "   {\"pd\": \"linux\", \"region\": \"queues\", \"name\": \"rx\", \"rights\": \"rw\"},\n"
    "   {\"pd\": \"linux\", \"region\": \"buffers\", \"name\": \"rx_data\", \"rights\": "
    "\"rw\"},\n"
    "   {\"pd\": \"linux\", \"region\": \"pad\", \"name\": \"scratchpad\", \"rights\": \"r\"}],\n"
    " \"channels\": [{\"name\": \"net\", \"ends\": [{\"pd\": \"a\"}, {\"pd\": \"linux\", "
    "\"name\": \"rx\"}]},\n"
    "   {\"name\": \"ctl\", \"ends\": [{\"pd\": \"a\"}, {\"pd\": \"linux\", \"id\": 5}]}]}\n";

static const char vm_placement[] = "{\"system\": \"with-vm\", \"cores\": 3, \"pds\": {\"a\": 0, "
                                   "\"linux\": 1}, \"vcpus\": {\"linux\": [1, 2]}}\n";

/* text_offset 0x80000 (as Linux before 5.8), 12 KiB of file, 256 KiB with its bss. */
static const struct fake_linux guest_kernel = {
    .size = 0x3000, .text_offset = 0x80000, .image_size = 0x40000};
#define INITRD_SIZE 5000u

#define RAM_BASE   UINT64_C(0x40a00000)
#define KERNEL_PA  (RAM_BASE + 0x200000 + 0x80000)
#define INITRD_PA  (RAM_BASE + 0x400000) /* the kernel ends at +0x2c0000; next 2 MiB */
#define QUEUES_PA  UINT64_C(0x48a00000)  /* regions follow the VM's 128 MiB */
#define BUFFERS_PA UINT64_C(0x48c00000)
#define PAD_PA     UINT64_C(0x48e00000)

static struct sd_system *sys;
static struct sd_placement placement;
static struct img_plan *plan;
static struct img_elf kernel;

static void write_inputs(void)
{
    char path[600];
    scratch_path(path, sizeof path, "system.json");
    CHECK(write_text(path, vm_system));
    scratch_path(path, sizeof path, "placement.json");
    CHECK(write_text(path, vm_placement));
    struct fake_elf program = fake_program(), kernel_spec = fake_kernel();
    scratch_path(path, sizeof path, "prog.elf");
    CHECK(write_fake_elf(path, &program, 0));
    scratch_path(path, sizeof path, "kernel.elf");
    CHECK(write_fake_elf(path, &kernel_spec, 0));
    scratch_path(path, sizeof path, "Image");
    CHECK(write_fake_linux(path, &guest_kernel));
    uint8_t *initrd = malloc(INITRD_SIZE);
    memset(initrd, 0xc5, INITRD_SIZE);
    scratch_path(path, sizeof path, "initrd.img");
    CHECK(write_bytes(path, initrd, INITRD_SIZE));
    free(initrd);
}

static bool plan_vm(void)
{
    char path[600];
    struct sd_error err;
    scratch_path(path, sizeof path, "system.json");
    if (!sd_load_file(path, sys, &err)) {
        fprintf(stderr, "%s\n", err.message);
        check_failures++;
        return false;
    }
    scratch_path(path, sizeof path, "placement.json");
    CHECK(sd_load_placement(sys, path, &placement, &err));
    scratch_path(path, sizeof path, "kernel.elf");
    img_elf_free(&kernel);
    CHECK(img_elf_read(path, &kernel, &err));
    img_plan_free(plan);
    plan = img_plan_new();
    bool ok = img_plan_build(plan, sys, &placement, scratch, 1u << 30, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    return ok;
}

static void test_layout(void)
{
    if (!plan_vm()) {
        return;
    }
    const struct img_vm *vm = &plan->vm[0];
    CHECK_EQ(plan->n_vms, 1);
    CHECK_EQ(vm->pd, 1);
    /* a's configuration, program and stack end at 0x40815000; the RAM starts on 2 MiB. */
    CHECK_EQ(vm->ram_base, RAM_BASE);
    CHECK_EQ(vm->ram_size, 128u << 20);
    CHECK_EQ(vm->dtb_pa, RAM_BASE);
    CHECK_EQ(vm->kernel_pa, KERNEL_PA);
    CHECK_EQ(vm->initrd_pa, INITRD_PA);
    CHECK_EQ(vm->kernel_size, 0x3000);
    CHECK_EQ(vm->header.text_offset, 0x80000);
    CHECK_EQ(vm->header.image_size, 0x40000);
    CHECK_EQ(vm->initrd_size, INITRD_SIZE);
    CHECK(vm->dtb != NULL && vm->dtb_size > 0 && vm->dtb_size < PN_GUEST_DTB_MAX);
    CHECK_EQ(plan->region_pa[0], QUEUES_PA);
    CHECK_EQ(plan->region_pa[1], BUFFERS_PA);
    CHECK_EQ(plan->region_pa[2], PAD_PA);
    CHECK_EQ(plan->bootinfo.free_start, 0x49000000);
    /* The VM's maps are at their regions' PAs. */
    CHECK_EQ(plan->pd[1].map_ipa[0], QUEUES_PA);
    CHECK_EQ(plan->pd[1].map_ipa[1], BUFFERS_PA);
    CHECK_EQ(plan->pd[1].map_ipa[2], PAD_PA);
    CHECK_EQ(plan->pd[0].map_ipa[0], 0x20000000);
}

static void check_mapping(uint32_t index, const char *name, uint64_t address, uint64_t size,
                          uint32_t rights, uint32_t attr)
{
    const struct pn_boot_mapping *m = &plan->bootinfo.mappings[index];
    CHECK(strcmp(plan->mapping_name[index], name) == 0);
    CHECK_EQ(m->ipa, address);
    CHECK_EQ(m->pa, address);
    CHECK_EQ(m->size, size);
    CHECK_EQ(m->rights, rights);
    CHECK_EQ(m->attr, attr);
}

static void test_boot_information(void)
{
    if (!plan_vm()) {
        return;
    }
    const struct pn_bootinfo *boot = &plan->bootinfo;
    CHECK_EQ(boot->version, 2);
    CHECK_EQ(boot->n_pds, 2);
    CHECK_EQ(boot->n_vms, 1);
    CHECK_EQ(boot->n_vcpus, 2);
    const struct pn_boot_pd *pd = &boot->pds[1];
    CHECK(strcmp(pd->name, "linux") == 0);
    CHECK_EQ(pd->flags, PN_PD_VM);
    CHECK_EQ(pd->owner, 2);
    CHECK_EQ(pd->core, 1);
    CHECK_EQ(pd->priority, 90);
    /* RAM, the device's page, then the maps. */
    CHECK_EQ(pd->n_mappings, 5);
    uint32_t m = pd->first_mapping;
    const uint32_t rw = PN_RIGHT_READ | PN_RIGHT_WRITE;
    check_mapping(m, "ram", RAM_BASE, 128u << 20, rw | PN_RIGHT_EXECUTE, PN_MAP_NORMAL);
    check_mapping(m + 1, "net0", 0x0a003000, 0x1000, rw, PN_MAP_DEVICE);
    check_mapping(m + 2, "rx", QUEUES_PA, 0x10000, rw, PN_MAP_NORMAL);
    check_mapping(m + 3, "rx_data", BUFFERS_PA, 0x200000, rw, PN_MAP_NORMAL);
    check_mapping(m + 4, "scratchpad", PAD_PA, 0x1000, PN_RIGHT_READ, PN_MAP_NORMAL);
    /* Channels: the VM's ids 0 (net, assigned) and 5 (ctl, given) lead to a's 0 and 1. */
    CHECK_EQ(pd->channels[0].target_pd, 0);
    CHECK_EQ(pd->channels[0].target_id, 0);
    CHECK_EQ(pd->channels[5].target_pd, 0);
    CHECK_EQ(pd->channels[5].target_id, 1);
    CHECK_EQ(boot->pds[0].channels[1].target_pd, 1);
    CHECK_EQ(boot->pds[0].channels[1].target_id, 5);
    CHECK_EQ(pd->channels[1].target_pd, PN_BOOT_NO_PD);

    const struct pn_boot_vm *vm = &boot->vms[0];
    CHECK_EQ(vm->pd, 1);
    CHECK_EQ(vm->n_vcpus, 2);
    CHECK_EQ(vm->first_vcpu, 0);
    CHECK_EQ(vm->n_irqs, 1);
    CHECK_EQ(vm->irqs[0], 79);
    CHECK_EQ(vm->entry, KERNEL_PA);
    CHECK_EQ(vm->dtb, RAM_BASE);
    CHECK_EQ(vm->ram_base, RAM_BASE);
    CHECK_EQ(vm->ram_size, 128u << 20);
    for (uint32_t k = 0; k < 2; k++) {
        CHECK_EQ(boot->vcpus[k].vm, 0);
        CHECK_EQ(boot->vcpus[k].index, k);
        CHECK_EQ(boot->vcpus[k].core, 1 + k);
        CHECK_EQ(boot->vcpus[k].owner, PN_OWNER_VCPU_BASE + k);
    }
    /* A VM gets no configuration page: nothing of it is at PN_PD_CONFIG_IPA. */
    CHECK_EQ(plan->config[1].magic, 0);
}

/* The device tree of the plan describes what the layout decided. */
static void test_device_tree(void)
{
    if (!plan_vm()) {
        return;
    }
    const uint8_t *fdt = plan->vm[0].dtb;
    CHECK_EQ(fdt_check_header(fdt), 0);
    int node = fdt_path_offset(fdt, "/rx@b000000");
    int length = 0;
    const fdt32_t *reg = node >= 0 ? fdt_getprop(fdt, node, "reg", &length) : NULL;
    CHECK_EQ(length, 3 * 16); /* the doorbell, rx and rx_data; not scratchpad */
    if (reg != NULL && length == 48) {
        CHECK_EQ(fdt32_to_cpu(reg[1]), 0x0b000000);
        CHECK_EQ(fdt32_to_cpu(reg[5]), QUEUES_PA);
        CHECK_EQ(fdt32_to_cpu(reg[9]), BUFFERS_PA);
        CHECK_EQ(fdt32_to_cpu(reg[11]), 0x200000);
    }
    /* ctl is channel id 5 at the VM: doorbell page 5, INTID 101. */
    node = fdt_path_offset(fdt, "/ctl@b005000");
    const fdt32_t *irq = node >= 0 ? fdt_getprop(fdt, node, "interrupts", &length) : NULL;
    CHECK(irq != NULL && length == 12 && fdt32_to_cpu(irq[1]) == 101 - 32);
    node = fdt_path_offset(fdt, "/chosen");
    const char *bootargs = fdt_getprop(fdt, node, "bootargs", NULL);
    CHECK(bootargs != NULL && strcmp(bootargs, IMG_GUEST_BOOTARGS " quiet") == 0);
    const fdt64_t *start = fdt_getprop(fdt, node, "linux,initrd-start", &length);
    CHECK(start != NULL && length == 8 && fdt64_ld(start) == INITRD_PA);
    const fdt64_t *end = fdt_getprop(fdt, node, "linux,initrd-end", &length);
    CHECK(end != NULL && length == 8 && fdt64_ld(end) == INITRD_PA + INITRD_SIZE);
    CHECK(fdt_path_offset(fdt, "/memory@40a00000") >= 0);
    CHECK(fdt_path_offset(fdt, "/cpus/cpu@1") >= 0);
    CHECK(fdt_path_offset(fdt, "/virtio_mmio@a003e00") >= 0);
}

static const struct img_segment *segment_at(const struct img_elf *image, uint64_t pa)
{
    for (uint32_t i = 0; i < image->n_segments; i++) {
        if (image->segments[i].paddr == pa) {
            return &image->segments[i];
        }
    }
    return NULL;
}

static void test_image_and_dump(void)
{
    if (!plan_vm()) {
        return;
    }
    char path[600];
    scratch_path(path, sizeof path, "image.elf");
    struct sd_error err;
    CHECK(img_write_image(plan, &kernel, path, &err));
    struct img_elf image;
    CHECK(img_elf_read(path, &image, &err));
    /* The kernel's 2, the boot information, a's 4, 3 regions, the guest's 3 pieces. */
    CHECK_EQ(image.n_segments, 13);
    const struct img_segment *dtb = segment_at(&image, RAM_BASE);
    CHECK(dtb != NULL && dtb->filesz == plan->vm[0].dtb_size && dtb->memsz == 0x1000);
    if (dtb != NULL) {
        CHECK(memcmp(image.bytes + dtb->offset, plan->vm[0].dtb, dtb->filesz) == 0);
    }
    const struct img_segment *guest = segment_at(&image, KERNEL_PA);
    CHECK(guest != NULL && guest->filesz == 0x3000 && guest->memsz == 0x40000);
    if (guest != NULL) {
        CHECK(memcmp(image.bytes + guest->offset + 56, "ARM\x64", 4) == 0);
        CHECK_EQ(image.bytes[guest->offset + 0x2fff], fake_linux_byte(0x2fff));
    }
    const struct img_segment *initrd = segment_at(&image, INITRD_PA);
    CHECK(initrd != NULL && initrd->filesz == INITRD_SIZE && initrd->memsz == 0x2000);
    /* Regions are zeroed on every load, those only the VM maps too (elf_write.c). */
    const struct img_segment *pad = segment_at(&image, PAD_PA);
    CHECK(pad != NULL && pad->filesz == 8 && pad->memsz == 0x1000);
    CHECK(segment_at(&image, BUFFERS_PA) != NULL);
    /* Nothing else of the guest's RAM is in the file: Linux zeroes what it needs. */
    for (uint32_t i = 0; i < image.n_segments; i++) {
        uint64_t pa = image.segments[i].paddr;
        CHECK(pa < RAM_BASE || pa >= RAM_BASE + (128u << 20) || pa == RAM_BASE || pa == KERNEL_PA ||
              pa == INITRD_PA);
    }
    img_elf_free(&image);

    struct pn_bootinfo *boot = malloc(sizeof *boot);
    CHECK(img_read_bootinfo(path, &image, boot, &err));
    CHECK(memcmp(boot, &plan->bootinfo, sizeof *boot) == 0);
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream(&text, &text_size);
    img_print_image(out, &image, boot);
    fclose(out);
    CHECK_STR_CONTAINS(text, "2 PDs, 10 mappings, 0 IRQs, 1 VM, 2 vCPUs;");
    CHECK_STR_CONTAINS(text, "   1  linux      2     1        90  no       (a VM)      -");
    CHECK_STR_CONTAINS(text, "  linux  ram               [0x40a00000, 0x48a00000)");
    CHECK_STR_CONTAINS(text, "  linux  virtio_mmio@a003e00  [0xa003000, 0xa004000)");
    CHECK_STR_CONTAINS(text, "  linux  rx_data           [0x48c00000, 0x48e00000)");
    CHECK_STR_CONTAINS(text, "  linux  ?                 [0x48e00000, 0x48e01000)");
    CHECK_STR_CONTAINS(text, "linux:5 ctl -> a:1  immediate");
    CHECK_STR_CONTAINS(text, "a:1 ctl -> linux:5  immediate");
    CHECK_STR_CONTAINS(text, "linux: 2 vCPUs, RAM [0x40a00000, 0x48a00000) (128 MiB), entry "
                             "0x40c80000, device tree 0x40a00000; passed-through INTIDs: 79\n");
    CHECK_STR_CONTAINS(text, "    bootargs: " IMG_GUEST_BOOTARGS " quiet\n");
    CHECK_STR_CONTAINS(text, "    uio rx: INTID 96; map0 doorbell [0xb000000, 0xb001000) map1 rx "
                             "[0x48a00000, 0x48a10000) map2 rx_data [0x48c00000, 0x48e00000)\n");
    CHECK_STR_CONTAINS(text, "    uio ctl: INTID 101; map0 doorbell [0xb005000, 0xb006000)\n");
    CHECK_STR_CONTAINS(text, "   1  linux      1     2    129\n");
    free(text);
    free(boot);
    img_elf_free(&image);
}

static json_t *find(json_t *array, const char *name)
{
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "name")), name) == 0) {
            return item;
        }
    }
    return NULL;
}

static int64_t integer(json_t *object, const char *key)
{
    return json_integer_value(json_object_get(object, key));
}

static void test_manifest(void)
{
    if (!plan_vm()) {
        return;
    }
    struct img_options options = {
        .system_path = "system.json", .kernel_path = "kernel.elf", .output_path = "out.elf"};
    char *text = img_manifest_text(plan, &options);
    json_error_t error;
    json_t *root = text != NULL ? json_loads(text, 0, &error) : NULL;
    CHECK(root != NULL);
    free(text);
    if (root == NULL) {
        return;
    }
    json_t *pd = find(json_object_get(root, "pds"), "linux");
    CHECK(pd != NULL && json_is_null(json_object_get(pd, "program")));
    json_t *vms = json_object_get(root, "vms");
    CHECK_EQ(json_array_size(vms), 1);
    json_t *vm = json_array_get(vms, 0);
    CHECK(strcmp(json_string_value(json_object_get(vm, "name")), "linux") == 0);
    CHECK_EQ(integer(vm, "ram_base"), RAM_BASE);
    CHECK_EQ(integer(vm, "ram_size"), 128u << 20);
    CHECK_EQ(integer(vm, "entry"), KERNEL_PA);
    CHECK_EQ(integer(vm, "dtb"), RAM_BASE);
    CHECK_EQ(integer(vm, "dtb_size"), plan->vm[0].dtb_size);
    CHECK_EQ(integer(vm, "initrd_start"), INITRD_PA);
    CHECK_EQ(integer(vm, "initrd_end"), INITRD_PA + INITRD_SIZE);
    CHECK_STR_CONTAINS(json_string_value(json_object_get(vm, "kernel")), "/Image");
    CHECK_STR_CONTAINS(json_string_value(json_object_get(vm, "bootargs")),
                       IMG_GUEST_BOOTARGS " quiet");
    json_t *vcpus = json_object_get(vm, "vcpus");
    CHECK_EQ(json_array_size(vcpus), 2);
    CHECK_EQ(integer(json_array_get(vcpus, 1), "core"), 2);
    CHECK_EQ(integer(json_array_get(vcpus, 1), "owner"), 129);
    json_t *device = find(json_object_get(vm, "devices"), "net0");
    CHECK(device != NULL && integer(device, "intid") == 79 &&
          integer(device, "mmio") == 0x0a003e00);
    json_t *channels = json_object_get(vm, "channels");
    CHECK_EQ(json_array_size(channels), 2);
    json_t *rx = find(channels, "rx"), *ctl = find(channels, "ctl");
    CHECK(rx != NULL && integer(rx, "id") == 0 && integer(rx, "doorbell") == 0x0b000000 &&
          integer(rx, "intid") == 96 && integer(rx, "peer_id") == 0);
    CHECK(rx != NULL && strcmp(json_string_value(json_object_get(rx, "peer")), "a") == 0);
    json_t *regions = rx != NULL ? json_object_get(rx, "regions") : NULL;
    CHECK_EQ(json_array_size(regions), 2);
    CHECK_EQ(integer(find(regions, "rx_data"), "base"), BUFFERS_PA);
    CHECK(ctl != NULL && integer(ctl, "id") == 5 && integer(ctl, "doorbell") == 0x0b005000 &&
          integer(ctl, "intid") == 101 && integer(ctl, "peer_id") == 1);
    json_decref(root);
}

/* img_build with --dtb-out and --guests: the tree on disk is the one in the image. */
static void test_build_outputs(void)
{
    char system[600], image[600], guests[600], dtb_path[700], kernel_path[600];
    scratch_path(system, sizeof system, "system.json");
    scratch_path(image, sizeof image, "built.elf");
    scratch_path(kernel_path, sizeof kernel_path, "kernel.elf");
    scratch_path(guests, sizeof guests, "guests");
    CHECK(mkdir(guests, 0755) == 0);
    snprintf(dtb_path, sizeof dtb_path, "%s/linux.dtb", guests);
    struct img_options options = {.system_path = system,
                                  .kernel_path = kernel_path,
                                  .programs_dir = scratch,
                                  .memory = 1u << 30,
                                  .output_path = image,
                                  .dtb_out_dir = guests};
    struct sd_error err;
    /* The guest's files are in the description's directory, found without --guests. */
    CHECK(img_build(&options, &err));
    size_t size = 0;
    uint8_t *written = read_bytes(dtb_path, &size);
    CHECK(written != NULL && fdt_check_header(written) == 0 && size == fdt_totalsize(written));
    struct img_elf built;
    CHECK(img_elf_read(image, &built, &err));
    const struct img_segment *segment = segment_at(&built, RAM_BASE);
    CHECK(segment != NULL && written != NULL && segment->filesz == size &&
          memcmp(built.bytes + segment->offset, written, size) == 0);
    img_elf_free(&built);
    free(written);
    unlink(dtb_path);

    /* With --guests naming a directory without them, the kernel is not found there. */
    options.guests_dir = guests;
    options.dtb_out_dir = NULL;
    CHECK(!img_build(&options, &err));
    char expected[1600];
    snprintf(expected, sizeof expected,
             "system.json: VM \"linux\": kernel \"Image\": cannot open %s/Image: No such file or "
             "directory (a relative path is looked up in %s, from --guests)",
             guests, guests);
    CHECK_STR_CONTAINS(err.message, expected);
    /* --dtb-out must be a directory. */
    options.guests_dir = NULL;
    options.dtb_out_dir = system;
    CHECK(!img_build(&options, &err));
    CHECK_STR_CONTAINS(err.message, "system.json: cannot use as --dtb-out: not a directory");
    rmdir(guests);
}

int main(void)
{
    sys = sd_system_new();
    make_scratch("test_image_vm");
    write_inputs();
    RUN_TEST(test_layout);
    RUN_TEST(test_boot_information);
    RUN_TEST(test_device_tree);
    RUN_TEST(test_image_and_dump);
    RUN_TEST(test_manifest);
    RUN_TEST(test_build_outputs);
    img_plan_free(plan);
    img_elf_free(&kernel);
    sd_system_free(sys);
    remove_scratch();
    return check_exit();
}
