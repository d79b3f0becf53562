/*
 * Every way the packer refuses a VM, each with one line naming the file,
 * the object and the problem, and each leaving no output behind: guest
 * files missing or not an arm64 Image, RAM too small for the kernel, the
 * initrd and Linux, vCPUs on cores that do not exist, more VMs or vCPUs
 * than the boot information holds, a device that someone else also has,
 * maps a VM cannot have, and a channel with more regions than UIO shows.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_image_fixture.h"

static struct sd_system *sys;
static struct sd_placement placement;
static char out_dir[400];

static const char component[] =
    "\"components\": [{\"name\": \"a\", \"kind\": \"test\", \"program\": \"prog\", \"priority\": "
    "1}]";
static const char net_devices[] =
    "\"devices\": [{\"name\": \"net0\", \"kind\": \"virtio-net\", \"slot\": 31}, {\"name\": "
    "\"net1\", \"kind\": \"virtio-net\", \"slot\": 30}, {\"name\": \"net2\", \"kind\": "
    "\"virtio-net\", \"slot\": 23}]";

static void write_guest(const char *name, const struct fake_linux *spec)
{
    char path[600];
    scratch_path(path, sizeof path, name);
    CHECK(write_fake_linux(path, spec));
}

static void write_filled(const char *name, size_t size, uint8_t byte)
{
    char path[600];
    scratch_path(path, sizeof path, name);
    uint8_t *bytes = malloc(size > 0 ? size : 1);
    memset(bytes, byte, size);
    CHECK(write_bytes(path, bytes, size));
    free(bytes);
}

/* How many files `dir` holds. */
static int entries_in(const char *dir)
{
    DIR *stream = opendir(dir);
    int count = 0;
    struct dirent *entry;
    while (stream != NULL && (entry = readdir(stream)) != NULL) {
        count += entry->d_name[0] != '.';
    }
    if (stream != NULL) {
        closedir(stream);
    }
    return count;
}

/*
 * Builds `json` as pinion-image would, with an image, a manifest and
 * --dtb-out all in out_dir, and expects it refused with `fragment` in a
 * one-line message, leaving out_dir empty and the scratch directory as it
 * was.
 */
static void expect_refused(const char *json, uint64_t memory, const char *fragment)
{
    char system[600], image[600], manifest[600], kernel[600];
    scratch_path(system, sizeof system, "system.json");
    scratch_path(kernel, sizeof kernel, "kernel.elf");
    snprintf(image, sizeof image, "%s/image.elf", out_dir);
    snprintf(manifest, sizeof manifest, "%s/manifest.json", out_dir);
    CHECK(write_text(system, json));
    int before = scratch_entries();
    struct img_options options = {.system_path = system,
                                  .kernel_path = kernel,
                                  .programs_dir = scratch,
                                  .memory = memory,
                                  .output_path = image,
                                  .manifest_path = manifest,
                                  .dtb_out_dir = out_dir};
    struct sd_error err;
    int failures = check_failures;
    CHECK(!img_build(&options, &err));
    CHECK_STR_CONTAINS(err.message, fragment);
    CHECK(strchr(err.message, '\n') == NULL);
    CHECK_EQ(entries_in(out_dir), 0);
    CHECK_EQ(scratch_entries(), before);
    if (check_failures != failures) {
        fprintf(stderr, "  for %s\n", json);
    }
}

static void expect_built(const char *json, uint64_t memory)
{
    char system[600], image[600], kernel[600];
    scratch_path(system, sizeof system, "system.json");
    scratch_path(kernel, sizeof kernel, "kernel.elf");
    snprintf(image, sizeof image, "%s/image.elf", out_dir);
    CHECK(write_text(system, json));
    struct img_options options = {.system_path = system,
                                  .kernel_path = kernel,
                                  .programs_dir = scratch,
                                  .memory = memory,
                                  .output_path = image};
    struct sd_error err;
    bool ok = img_build(&options, &err);
    if (!ok) {
        fprintf(stderr, "%s\n  for %s\n", err.message, json);
    }
    CHECK(ok);
    unlink(image);
}

/* A system of the component and one VM with these extra VM fields and top-level parts. */
static void vm_json(char *out, size_t size, const char *vm_fields, const char *rest)
{
    snprintf(out, size,
             "{\"name\": \"s\", %s, %s, \"vms\": [{\"name\": \"linux\", \"vcpus\": 1, "
             "\"priority\": 1, %s}]%s%s}",
             net_devices, component, vm_fields, rest[0] != '\0' ? ", " : "", rest);
}

static void test_guest_files(void)
{
    char json[4096], expected[1200];
    vm_json(json, sizeof json, "\"memory\": \"128MiB\", \"kernel\": \"nothere\"", "");
    snprintf(expected, sizeof expected,
             "system.json: VM \"linux\": kernel \"nothere\": cannot open %s/nothere: No such "
             "file or directory (a relative path is looked up in the description's directory, "
             "as no --guests was given)",
             scratch);
    expect_refused(json, 1u << 30, expected);

    struct {
        const char *file, *message;
    } kernels[] = {
        {"nomagic", "nomagic: not an arm64 Linux Image: no magic \"ARM\\x64\" at byte 56"},
        {"kernel.elf", "kernel.elf: an ELF file (a vmlinux?), not an arm64 Linux Image"},
        {"Image.gz", "Image.gz: gzip-compressed (an Image.gz?), not an arm64 Linux Image"},
        {"short", "short: 40 bytes, too short for an arm64 Linux Image (its header alone is 64"},
        {"bigendian", "bigendian: a big-endian kernel (flags bit 0); guests run little-endian"},
        {"nosize", "nosize: image_size is 0 (a kernel older than Linux 3.17)"},
        {"smallsize", "smallsize: image_size 0x1000 does not fit a file of 8192 bytes"},
        {"offset", "offset: text_offset 0x80010 is not a page multiple below 2 MiB"},
    };
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        char fields[200];
        snprintf(fields, sizeof fields, "\"memory\": \"128MiB\", \"kernel\": \"%s\"",
                 kernels[k].file);
        vm_json(json, sizeof json, fields, "");
        expect_refused(json, 1u << 30, kernels[k].message);
    }

    vm_json(json, sizeof json,
            "\"memory\": \"128MiB\", \"kernel\": \"Image\", \"initrd\": \"/nonexistent/initrd\"",
            "");
    expect_refused(json, 1u << 30,
                   "VM \"linux\": initrd \"/nonexistent/initrd\": cannot open /nonexistent/initrd: "
                   "No such file or directory");
    vm_json(json, sizeof json,
            "\"memory\": \"128MiB\", \"kernel\": \"Image\", \"initrd\": \"empty\"", "");
    expect_refused(json, 1u << 30, "empty: empty: an initrd needs at least one byte");
    /* A directory is no kernel. */
    vm_json(json, sizeof json, "\"memory\": \"128MiB\", \"kernel\": \"/\"", "");
    expect_refused(json, 1u << 30, "kernel \"/\": cannot open /: not a regular file");
}

/* The kernel, the initrd and IMG_GUEST_LINUX_MIN must fit; the suggested size does. */
static void test_guest_memory(void)
{
    char json[4096];
    /* Image: 64 KiB image_size at 2 MiB: ends at 0x210000; + 64 MiB = 66.06 MiB. */
    vm_json(json, sizeof json, "\"memory\": \"64MiB\", \"kernel\": \"Image\"", "");
    expect_refused(json, 1u << 30, "system.json: VM \"linux\": its kernel (");
    expect_refused(json, 1u << 30,
                   "/Image, image_size 64 KiB) end 0x210000 into its RAM, leaving 63424 KiB of its "
                   "64 MiB; Linux needs at least 64 MiB more: 2112 KiB short (\"memory\": "
                   "\"67MiB\" would do)");
    vm_json(json, sizeof json, "\"memory\": \"67MiB\", \"kernel\": \"Image\"", "");
    expect_built(json, 1u << 30);

    /* A 16 MiB initrd goes at 4 MiB and ends at 20 MiB: 84 MiB needed. */
    vm_json(json, sizeof json,
            "\"memory\": \"80MiB\", \"kernel\": \"Image\", \"initrd\": \"big-initrd\"", "");
    expect_refused(
        json, 1u << 30,
        "/big-initrd, 16 MiB) end 0x1400000 into its RAM, leaving 60 MiB of its 80 MiB; "
        "Linux needs at least 64 MiB more: 4 MiB short (\"memory\": \"84MiB\" would do)");
    vm_json(json, sizeof json,
            "\"memory\": \"84MiB\", \"kernel\": \"Image\", \"initrd\": \"big-initrd\"", "");
    expect_built(json, 1u << 30);
    /* An initrd larger than the whole RAM is not even read. */
    vm_json(json, sizeof json,
            "\"memory\": \"8MiB\", \"kernel\": \"Image\", \"initrd\": \"big-initrd\"", "");
    expect_refused(json, 1u << 30, "VM \"linux\": initrd ");
    expect_refused(json, 1u << 30, "/big-initrd: 16777216 bytes, more than the VM's 8 MiB of RAM");
    /* The machine's RAM must hold the VM's. */
    vm_json(json, sizeof json, "\"memory\": \"512MiB\", \"kernel\": \"Image\"", "");
    expect_refused(json, 512u << 20,
                   "system.json: does not fit in 512 MiB of RAM: VM \"linux\" RAM (512 MiB) would "
                   "end at 0x60a00000");
}

static void test_counts(void)
{
    char json[8192];
    size_t n = (size_t)snprintf(json, sizeof json, "{\"name\": \"s\", %s, \"vms\": [", component);
    for (int v = 0; v < 5; v++) {
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "%s{\"name\": \"v%d\", \"vcpus\": 1, \"priority\": 1, \"memory\": "
                              "\"68MiB\", \"kernel\": \"Image\"}",
                              v ? ", " : "", v);
    }
    snprintf(json + n, sizeof json - n, "]}");
    expect_refused(json, 1u << 30,
                   "system.json: VM \"v4\": more than 4 VMs (boot information holds 4)");

    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"vms\": [{\"name\": \"v0\", \"vcpus\": 8, \"priority\": 1, "
             "\"memory\": \"68MiB\", \"kernel\": \"Image\"}, {\"name\": \"v1\", \"vcpus\": 8, "
             "\"priority\": 1, \"memory\": \"68MiB\", \"kernel\": \"Image\"}, {\"name\": \"v2\", "
             "\"vcpus\": 2, \"priority\": 1, \"memory\": \"68MiB\", \"kernel\": \"Image\"}]}",
             component);
    expect_refused(json, 1u << 30,
                   "system.json: VM \"v2\": its 2 vCPUs make 18 in the system, more than the 16 "
                   "the boot information holds");

    /* At most 8 passed-through devices (and so interrupts) per VM: the description says so. */
    vm_json(json, sizeof json,
            "\"memory\": \"68MiB\", \"kernel\": \"Image\", \"devices\": [\"net0\", \"net1\", "
            "\"net2\", \"d3\", \"d4\", \"d5\", \"d6\", \"d7\", \"d8\"]",
            "");
    expect_refused(json, 1u << 30, "vms[0] \"linux\": more than 8 devices");
}

/* A placement made by hand that puts a vCPU on a core the machine does not start. */
static void test_vcpu_core(void)
{
    char json[4096], path[600];
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"vms\": [{\"name\": \"linux\", \"vcpus\": 2, \"priority\": "
             "1, \"memory\": \"68MiB\", \"kernel\": \"Image\"}]}",
             component);
    scratch_path(path, sizeof path, "system.json");
    CHECK(write_text(path, json));
    struct sd_error err;
    CHECK(sd_load_file(path, sys, &err));
    sd_default_placement(sys, &placement);
    placement.vcpu_core[1][1] = 3;
    struct img_plan *plan = img_plan_new();
    CHECK(!img_plan_build(plan, sys, &placement, scratch, 1u << 30, &err));
    CHECK_STR_CONTAINS(err.message,
                       "(default placement): VM \"linux\": vCPU 1 is on core 3, out of range 0..0 "
                       "(\"cores\" is 1)");
    img_plan_free(plan);
    /* From a placement file, the loader refuses it first. */
    char placement_path[600];
    scratch_path(placement_path, sizeof placement_path, "placement.json");
    CHECK(write_text(placement_path, "{\"system\": \"s\", \"cores\": 2, \"pds\": {\"a\": 0, "
                                     "\"linux\": 1}, \"vcpus\": {\"linux\": [1, 5]}}"));
    CHECK(!sd_load_placement(sys, placement_path, &placement, &err));
    CHECK_STR_CONTAINS(err.message, "vcpus \"linux\"[1]: core 5 out of range 0..1");
    unlink(placement_path);
}

static void test_devices(void)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, %s, \"vms\": [{\"name\": \"v1\", \"vcpus\": 1, \"priority\": "
             "1, \"memory\": \"68MiB\", \"kernel\": \"Image\", \"devices\": [\"net0\"]}, "
             "{\"name\": \"v2\", \"vcpus\": 1, \"priority\": 1, \"memory\": \"68MiB\", "
             "\"kernel\": \"Image\", \"devices\": [\"net0\"]}]}",
             net_devices, component);
    expect_refused(json, 1u << 30,
                   "system.json: VM \"v1\": device \"net0\" (virtio-mmio at 0xa003e00, INTID 79): "
                   "VM \"v2\" has it too; a device belongs to one PD");
    /* Slots 31 and 30 share a page, and a VM is given the whole page. */
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, %s, \"vms\": [{\"name\": \"v1\", \"vcpus\": 1, \"priority\": "
             "1, \"memory\": \"68MiB\", \"kernel\": \"Image\", \"devices\": [\"net0\"]}, "
             "{\"name\": \"v2\", \"vcpus\": 1, \"priority\": 1, \"memory\": \"68MiB\", "
             "\"kernel\": \"Image\", \"devices\": [\"net1\"]}]}",
             net_devices, component);
    expect_refused(json, 1u << 30,
                   "its page [0xa003000, 0xa004000) also holds device \"net1\" of VM \"v2\"");
    /* Slot 23 is on the page below: fine. */
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, %s, \"vms\": [{\"name\": \"v1\", \"vcpus\": 1, \"priority\": "
             "1, \"memory\": \"68MiB\", \"kernel\": \"Image\", \"devices\": [\"net0\"]}, "
             "{\"name\": \"v2\", \"vcpus\": 1, \"priority\": 1, \"memory\": \"68MiB\", "
             "\"kernel\": \"Image\", \"devices\": [\"net2\"]}]}",
             net_devices, component);
    expect_built(json, 1u << 30);
    /* A component that maps the device's page, or takes its interrupt. */
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, %s, \"vms\": [{\"name\": \"linux\", \"vcpus\": 1, "
             "\"priority\": 1, \"memory\": \"68MiB\", \"kernel\": \"Image\", \"devices\": "
             "[\"net0\"]}], \"regions\": [{\"name\": \"regs\", \"size\": 4096, \"phys\": "
             "\"0x0a003000\"}], \"maps\": [{\"pd\": \"a\", \"region\": \"regs\", \"rights\": "
             "\"rw\"}]}",
             net_devices, component);
    expect_refused(json, 1u << 30,
                   "which PD \"a\" also maps (map \"regs\", region \"regs\"); a device belongs to "
                   "one PD");
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"components\": [{\"name\": \"a\", \"kind\": \"driver\", "
             "\"program\": \"prog\", \"priority\": 1, \"irqs\": [{\"name\": \"i\", \"irq\": "
             "79}]}], \"vms\": [{\"name\": \"linux\", \"vcpus\": 1, \"priority\": 1, \"memory\": "
             "\"68MiB\", \"kernel\": \"Image\", \"devices\": [\"net0\"]}]}",
             net_devices);
    expect_refused(json, 1u << 30,
                   "PD \"a\" also takes its interrupt (IRQ \"i\"); a device belongs to one PD");
}

static void test_maps(void)
{
    char json[4096];
    vm_json(json, sizeof json, "\"memory\": \"68MiB\", \"kernel\": \"Image\"",
            "\"regions\": [{\"name\": \"r\", \"size\": 4096}], \"maps\": [{\"pd\": \"linux\", "
            "\"region\": \"r\", \"vaddr\": \"0x20000000\", \"rights\": \"rw\"}]");
    expect_refused(json, 1u << 30,
                   "system.json: VM \"linux\": map \"r\" (region \"r\"): vaddr 0x20000000 is not "
                   "the physical address the packer gave the region, 0x44e00000");
    vm_json(json, sizeof json, "\"memory\": \"68MiB\", \"kernel\": \"Image\"",
            "\"regions\": [{\"name\": \"dev\", \"size\": 8192, \"phys\": \"0x0800f000\"}], "
            "\"maps\": [{\"pd\": \"linux\", \"region\": \"dev\", \"rights\": \"rw\"}]");
    expect_refused(json, 1u << 30,
                   "VM \"linux\": map \"dev\" (region \"dev\"): [0x800f000, 0x8011000) overlaps "
                   "the VM's emulated GICv3 distributor [0x8000000, 0x8010000)");
    vm_json(json, sizeof json, "\"memory\": \"68MiB\", \"kernel\": \"Image\"",
            "\"regions\": [{\"name\": \"dev\", \"size\": 4096, \"phys\": \"0x0b010000\"}], "
            "\"maps\": [{\"pd\": \"linux\", \"region\": \"dev\", \"rights\": \"rw\"}]");
    expect_refused(json, 1u << 30, "overlaps the VM's emulated doorbells [0xb000000, 0xb03f000)");
    vm_json(json, sizeof json, "\"memory\": \"68MiB\", \"kernel\": \"Image\"",
            "\"regions\": [{\"name\": \"r\", \"size\": 4096}], \"maps\": [{\"pd\": \"linux\", "
            "\"region\": \"r\", \"name\": \"one\", \"rights\": \"rw\"}, {\"pd\": \"linux\", "
            "\"region\": \"r\", \"name\": \"two\", \"rights\": \"r\"}]");
    expect_refused(json, 1u << 30,
                   "VM \"linux\": map \"two\" (region \"r\"): the region is mapped already (map "
                   "\"one\")");
    /* Five maps named after channel end "q": one more than its UIO device shows. */
    char rest[2048];
    size_t n = (size_t)snprintf(rest, sizeof rest, "\"regions\": [");
    for (int r = 0; r < 5; r++) {
        n += (size_t)snprintf(rest + n, sizeof rest - n, "%s{\"name\": \"r%d\", \"size\": 4096}",
                              r ? ", " : "", r);
    }
    n += (size_t)snprintf(rest + n, sizeof rest - n, "], \"maps\": [");
    for (int r = 0; r < 5; r++) {
        n += (size_t)snprintf(rest + n, sizeof rest - n,
                              "%s{\"pd\": \"linux\", \"region\": \"r%d\", \"name\": \"q_%d\", "
                              "\"rights\": \"rw\"}",
                              r ? ", " : "", r, r);
    }
    snprintf(rest + n, sizeof rest - n,
             "], \"channels\": [{\"name\": \"q\", \"ends\": [\"a\", \"linux\"]}]");
    vm_json(json, sizeof json, "\"memory\": \"68MiB\", \"kernel\": \"Image\"", rest);
    expect_refused(json, 1u << 30,
                   "system.json: VM \"linux\": channel \"q\": map \"q_4\" is its 5th map named "
                   "\"q\" or \"q_...\"; its UIO device holds the doorbell and at most 4 maps");
}

int main(void)
{
    sys = sd_system_new();
    make_scratch("test_image_vm_errors");
    snprintf(out_dir, sizeof out_dir, "%s/out", scratch);
    CHECK(mkdir(out_dir, 0755) == 0);
    struct fake_elf program = fake_program(), kernel = fake_kernel();
    char path[600];
    scratch_path(path, sizeof path, "prog.elf");
    CHECK(write_fake_elf(path, &program, 0));
    scratch_path(path, sizeof path, "kernel.elf");
    CHECK(write_fake_elf(path, &kernel, 0));
    write_guest("Image", &(struct fake_linux){.size = 0x3000});
    write_guest("nomagic", &(struct fake_linux){.size = 0x3000, .no_magic = true});
    write_guest("short", &(struct fake_linux){.size = 40});
    write_guest("bigendian", &(struct fake_linux){.size = 0x3000, .flags = 0xb});
    write_guest("nosize", &(struct fake_linux){.size = 0x3000, .no_image_size = true});
    write_guest("smallsize", &(struct fake_linux){.size = 0x2000, .image_size = 0x1000});
    write_guest("offset", &(struct fake_linux){.size = 0x3000, .text_offset = 0x80010});
    scratch_path(path, sizeof path, "Image.gz");
    CHECK(write_bytes(path, "\x1f\x8b\x08\x00", 4));
    write_filled("empty", 0, 0);
    write_filled("big-initrd", 16u << 20, 0x42);
    RUN_TEST(test_guest_files);
    RUN_TEST(test_guest_memory);
    RUN_TEST(test_counts);
    RUN_TEST(test_vcpu_core);
    RUN_TEST(test_devices);
    RUN_TEST(test_maps);
    rmdir(out_dir);
    sd_system_free(sys);
    remove_scratch();
    return check_exit();
}
