/*
 * The image packer's layout of a small system, to the byte: physical
 * addresses of every PD's pieces and regions, the IPAs it picks, the
 * mappings, configurations and boot information; then the image written
 * from it (segments, contents, boot information read back, --dump text)
 * and the manifest.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_image_fixture.h"

#include <jansson.h>

/*
 * Two PDs running one program: a on core 0, b alone on core 1 and polling,
 * with an IRQ. Regions: one shared, one of 2 MiB (block aligned), a device
 * page, and an unmapped 1 GiB region that takes no memory.
 */
static const char pair_system[] =
    "{\"name\": \"pair\", \"end\": \"idle\",\n"
    " \"components\": [\n"
    "  {\"name\": \"a\", \"kind\": \"test\", \"program\": \"prog\", \"priority\": 100},\n"
    "  {\"name\": \"b\", \"kind\": \"driver\", \"program\": \"prog\", \"priority\": 50,\n"
    "   \"irqs\": [{\"name\": \"dev\", \"irq\": 40, \"trigger\": \"edge\"}]}],\n"
    " \"regions\": [\n"
    "  {\"name\": \"shared\", \"size\": \"64KiB\"},\n"
    "  {\"name\": \"big\", \"size\": \"2MiB\"},\n"
    "  {\"name\": \"rtc\", \"size\": \"4KiB\", \"phys\": \"0x09010000\"},\n"
    "  {\"name\": \"unused\", \"size\": \"1GiB\"}],\n"
    " \"maps\": [\n"
    "  {\"pd\": \"a\", \"region\": \"shared\", \"rights\": \"rw\"},\n"
    "  {\"pd\": \"a\", \"region\": \"big\", \"name\": \"data\", \"rights\": \"r\"},\n"
    "  {\"pd\": \"b\", \"region\": \"shared\", \"vaddr\": \"0x30000000\", \"rights\": \"r\"},\n"
    "  {\"pd\": \"b\", \"region\": \"rtc\", \"rights\": \"rw\"},\n"
    "  {\"pd\": \"b\", \"region\": \"big\", \"rights\": \"rw\", \"cached\": false}],\n"
    " \"channels\": [{\"name\": \"ab\", \"ends\": [\"a\", \"b\"]}]}\n";

static const char pair_placement[] =
    "{\"system\": \"pair\", \"cores\": 2, \"pds\": {\"a\": 0, \"b\": 1}, \"polling\": [\"b\"],\n"
    " \"batching\": {\"channels\": {\"ab\": {\"policy\": \"coalesce\", \"count\": 8, "
    "\"window_us\": 100}}}}\n";

static struct sd_system *sys;
static struct sd_placement placement;
static struct img_plan *plan;
static struct img_elf kernel;

/* Writes the system, placement, program and kernel into the scratch directory and plans. */
static bool plan_pair(void)
{
    char path[600];
    struct sd_error err;
    scratch_path(path, sizeof path, "pair.json");
    CHECK(write_text(path, pair_system));
    if (!sd_load_file(path, sys, &err)) {
        fprintf(stderr, "%s\n", err.message);
        check_failures++;
        return false;
    }
    scratch_path(path, sizeof path, "placement.json");
    CHECK(write_text(path, pair_placement));
    CHECK(sd_load_placement(sys, path, &placement, &err));
    struct fake_elf program = fake_program(), kernel_spec = fake_kernel();
    scratch_path(path, sizeof path, "prog.elf");
    CHECK(write_fake_elf(path, &program, 0));
    scratch_path(path, sizeof path, "kernel.elf");
    CHECK(write_fake_elf(path, &kernel_spec, 0));
    img_elf_free(&kernel);
    CHECK(img_elf_read(path, &kernel, &err));
    img_plan_free(plan);
    plan = img_plan_new();
    bool ok = img_plan_build(plan, sys, &placement, scratch, IMG_DEFAULT_MEMORY, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    return ok;
}

static void check_mapping(uint32_t index, const char *name, uint64_t ipa, uint64_t pa,
                          uint64_t size, uint32_t rights, uint32_t attr)
{
    const struct pn_boot_mapping *mapping = &plan->bootinfo.mappings[index];
    int before = check_failures;
    CHECK(strcmp(plan->mapping_name[index], name) == 0);
    CHECK_EQ(mapping->ipa, ipa);
    CHECK_EQ(mapping->pa, pa);
    CHECK_EQ(mapping->size, size);
    CHECK_EQ(mapping->rights, rights);
    CHECK_EQ(mapping->attr, attr);
    if (check_failures != before) {
        fprintf(stderr, "  in mapping %u (%s)\n", index, name);
    }
}

enum { R = PN_RIGHT_READ, W = PN_RIGHT_WRITE, X = PN_RIGHT_EXECUTE };

static void test_layout(void)
{
    if (!plan_pair()) {
        return;
    }
    /* A configuration takes whole pages. */
    CHECK_EQ(plan->config_size, (sizeof(struct pn_config) + 4095) / 4096 * 4096);
    CHECK_EQ(plan->config_size, 0x2000);

    /* PD memory from 0x40800000: config, program segments (whole pages), stack. */
    CHECK_EQ(plan->pd[0].config_pa, 0x40800000);
    CHECK_EQ(plan->pd[0].segment_pa[0], 0x40802000);
    CHECK_EQ(plan->pd[0].segment_pa[1], 0x40803000);
    CHECK_EQ(plan->pd[0].stack_pa, 0x40805000);
    CHECK_EQ(plan->pd[1].config_pa, 0x40815000);
    CHECK_EQ(plan->pd[1].segment_pa[0], 0x40817000);
    CHECK_EQ(plan->pd[1].segment_pa[1], 0x40818000);
    CHECK_EQ(plan->pd[1].stack_pa, 0x4081a000);
    /* Then regions: a page-aligned one, a 2 MiB-aligned one, the device, nothing unmapped. */
    CHECK_EQ(plan->region_pa[0], 0x4082a000);
    CHECK_EQ(plan->region_pa[1], 0x40a00000);
    CHECK_EQ(plan->region_pa[2], 0x09010000);
    CHECK(plan->region_placed[0] && plan->region_placed[1]);
    CHECK(!plan->region_placed[2] && !plan->region_placed[3]);
    CHECK_EQ(plan->bootinfo.free_start, 0x40c00000);
    CHECK_EQ(plan->bootinfo.free_end, 0x80000000);

    /* IPAs: given ones kept, the rest from 0x20000000 up, 2 MiB regions block aligned. */
    CHECK_EQ(plan->pd[0].map_ipa[0], 0x20000000);
    CHECK_EQ(plan->pd[0].map_ipa[1], 0x20200000);
    CHECK_EQ(plan->pd[1].map_ipa[0], 0x30000000);
    CHECK_EQ(plan->pd[1].map_ipa[1], 0x20000000);
    CHECK_EQ(plan->pd[1].map_ipa[2], 0x20200000);

    /* Mappings: config, program, stack, then the maps, PD after PD. */
    const struct pn_bootinfo *boot = &plan->bootinfo;
    CHECK_EQ(boot->n_mappings, 13);
    CHECK_EQ(boot->pds[0].first_mapping, 0);
    CHECK_EQ(boot->pds[0].n_mappings, 6);
    check_mapping(0, "config", 0x100000, 0x40800000, 0x2000, R, PN_MAP_NORMAL);
    check_mapping(1, "program", 0x200000, 0x40802000, 0x1000, R | X, PN_MAP_NORMAL);
    check_mapping(2, "program", 0x202000, 0x40803000, 0x2000, R | W, PN_MAP_NORMAL);
    check_mapping(3, "stack", 0xff0000, 0x40805000, 0x10000, R | W, PN_MAP_NORMAL);
    check_mapping(4, "shared", 0x20000000, 0x4082a000, 0x10000, R | W, PN_MAP_NORMAL);
    check_mapping(5, "data", 0x20200000, 0x40a00000, 0x200000, R, PN_MAP_NORMAL);
    CHECK_EQ(boot->pds[1].first_mapping, 6);
    CHECK_EQ(boot->pds[1].n_mappings, 7);
    check_mapping(6, "config", 0x100000, 0x40815000, 0x2000, R, PN_MAP_NORMAL);
    check_mapping(9, "stack", 0xff0000, 0x4081a000, 0x10000, R | W, PN_MAP_NORMAL);
    check_mapping(10, "shared", 0x30000000, 0x4082a000, 0x10000, R, PN_MAP_NORMAL);
    check_mapping(11, "rtc", 0x20000000, 0x09010000, 0x1000, R | W, PN_MAP_DEVICE);
    check_mapping(12, "big", 0x20200000, 0x40a00000, 0x200000, R | W, PN_MAP_DEVICE);
}

static void test_boot_information(void)
{
    if (!plan_pair()) {
        return;
    }
    const struct pn_bootinfo *boot = &plan->bootinfo;
    CHECK_EQ(boot->magic, PN_BOOTINFO_MAGIC);
    CHECK_EQ(boot->version, PN_BOOTINFO_VERSION);
    CHECK_EQ(boot->size, sizeof *boot);
    CHECK(strcmp(boot->system, "pair") == 0);
    CHECK_EQ(boot->n_cores, 2);
    CHECK_EQ(boot->flags, PN_BOOT_END_WHEN_IDLE);
    CHECK_EQ(boot->n_pds, 2);

    const struct pn_boot_pd *a = &boot->pds[0], *b = &boot->pds[1];
    CHECK(strcmp(a->name, "a") == 0);
    CHECK_EQ(a->owner, 1);
    CHECK_EQ(a->core, 0);
    CHECK_EQ(a->priority, 100);
    CHECK_EQ(a->flags, 0);
    CHECK_EQ(a->entry, 0x200010);
    CHECK_EQ(a->stack_top, 0x1000000);
    CHECK_EQ(a->counters_pa, 0x40803100); /* data segment at 0x40803000, table at +0x100 */
    CHECK(strcmp(b->name, "b") == 0);
    CHECK_EQ(b->owner, 2);
    CHECK_EQ(b->core, 1);
    CHECK_EQ(b->priority, 50);
    CHECK_EQ(b->flags, PN_PD_POLLING);
    CHECK_EQ(b->counters_pa, 0x40818100);

    /* a's id 0 leads to b's id 1 (b's IRQ took id 0), and back, with the placement's batching. */
    CHECK_EQ(a->channels[0].target_pd, 1);
    CHECK_EQ(a->channels[0].target_id, 1);
    CHECK_EQ(a->channels[0].policy, PN_BATCH_COALESCE);
    CHECK_EQ(a->channels[0].coalesce_count, 8);
    CHECK_EQ(a->channels[0].coalesce_window_us, 100);
    CHECK_EQ(b->channels[1].target_pd, 0);
    CHECK_EQ(b->channels[1].target_id, 0);
    CHECK_EQ(b->channels[1].policy, PN_BATCH_COALESCE);
    /* The IRQ's id and unused ids lead nowhere. */
    CHECK_EQ(b->channels[0].target_pd, PN_BOOT_NO_PD);
    CHECK_EQ(a->channels[1].target_pd, PN_BOOT_NO_PD);
    CHECK_EQ(a->channels[62].target_pd, PN_BOOT_NO_PD);

    CHECK_EQ(boot->n_irqs, 1);
    CHECK_EQ(boot->irqs[0].intid, 40);
    CHECK_EQ(boot->irqs[0].pd, 1);
    CHECK_EQ(boot->irqs[0].channel, 0);
    CHECK_EQ(boot->irqs[0].edge, 1);

    /* Configurations carry the IPAs chosen. */
    const struct pn_config *config_a = &plan->config[0], *config_b = &plan->config[1];
    CHECK_EQ(config_a->magic, PN_CONFIG_MAGIC);
    CHECK(strcmp(config_a->name, "a") == 0);
    CHECK_EQ(config_a->n_regions, 2);
    CHECK(strcmp(config_a->regions[1].name, "data") == 0);
    CHECK_EQ(config_a->regions[0].vaddr, 0x20000000);
    CHECK_EQ(config_a->regions[1].vaddr, 0x20200000);
    CHECK_EQ(config_b->regions[0].vaddr, 0x30000000);
    CHECK_EQ(config_b->regions[1].vaddr, 0x20000000);
    CHECK_EQ(config_b->regions[2].vaddr, 0x20200000);
    CHECK_EQ(config_b->n_channels, 2);
}

/* The segment of the image at physical address `pa`, or NULL. */
static const struct img_segment *segment_at(const struct img_elf *image, uint64_t pa)
{
    for (uint32_t i = 0; i < image->n_segments; i++) {
        if (image->segments[i].paddr == pa) {
            return &image->segments[i];
        }
    }
    return NULL;
}

static void test_image_contents(void)
{
    if (!plan_pair()) {
        return;
    }
    char path[600];
    scratch_path(path, sizeof path, "image.elf");
    struct sd_error err;
    CHECK(img_write_image(plan, &kernel, path, &err));
    struct img_elf image;
    CHECK(img_elf_read(path, &image, &err));
    /* The kernel's 2 segments, the boot information, 4 per PD, 2 regions. */
    CHECK_EQ(image.n_segments, 13);
    CHECK_EQ(image.entry, 0x40200000);
    for (uint32_t i = 1; i < image.n_segments; i++) {
        CHECK(image.segments[i].paddr > image.segments[i - 1].paddr);
        CHECK_EQ(image.segments[i].vaddr, image.segments[i].paddr);
    }
    /* The kernel as it was. */
    const struct img_segment *segment = segment_at(&image, 0x40210000);
    CHECK(segment != NULL && segment->filesz == 0x40 && segment->memsz == 0x20000);
    if (segment != NULL) {
        CHECK_EQ(image.bytes[segment->offset + 7], fake_byte(1, 7));
    }
    /* Program bytes copied, the rest of the last page left to the loader to zero. */
    segment = segment_at(&image, 0x40817000);
    CHECK(segment != NULL && segment->filesz == 0x123 && segment->memsz == 0x1000);
    CHECK(segment != NULL && segment->flags == (PF_R | PF_X));
    if (segment != NULL) {
        CHECK_EQ(image.bytes[segment->offset], fake_byte(0, 0));
        CHECK_EQ(image.bytes[segment->offset + 0x122], fake_byte(0, 0x122));
        CHECK_EQ(segment->offset % 4096, 0);
    }
    /*
     * Stacks and regions take 8 zero bytes of file space: enough for QEMU to
     * zero the whole segment on every load and reset (elf_write.c says why).
     */
    segment = segment_at(&image, 0x4081a000);
    CHECK(segment != NULL && segment->filesz == 8 && segment->memsz == 0x10000);
    segment = segment_at(&image, 0x40a00000);
    CHECK(segment != NULL && segment->filesz == 8 && segment->memsz == 0x200000);
    if (segment != NULL) {
        static const uint8_t zeros[8];
        CHECK(memcmp(image.bytes + segment->offset, zeros, 8) == 0);
    }
    CHECK(segment_at(&image, 0x09010000) == NULL); /* a device is not loaded */
    /* Configuration pages hold the configurations. */
    segment = segment_at(&image, 0x40815000);
    CHECK(segment != NULL && segment->filesz == sizeof(struct pn_config));
    if (segment != NULL) {
        CHECK(memcmp(image.bytes + segment->offset, &plan->config[1], sizeof(struct pn_config)) ==
              0);
    }
    img_elf_free(&image);

    /* The boot information reads back as planned. */
    struct pn_bootinfo *boot = malloc(sizeof *boot);
    CHECK(img_read_bootinfo(path, &image, boot, &err));
    CHECK(memcmp(boot, &plan->bootinfo, sizeof *boot) == 0);
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream(&text, &text_size);
    img_print_image(out, &image, boot);
    fclose(out);
    CHECK_STR_CONTAINS(text, "system \"pair\" on 2 cores; a run ends when every core is idle");
    CHECK_STR_CONTAINS(text, "2 PDs, 13 mappings, 1 IRQ;");
    CHECK_STR_CONTAINS(text, "[0x40c00000, 0x80000000) (1012 MiB)");
    CHECK_STR_CONTAINS(text, "  b     rtc  ");
    CHECK_STR_CONTAINS(text, "[0x20000000, 0x20001000)      [0x9010000, 0x9011000)");
    CHECK_STR_CONTAINS(text, "a:0 ab -> b:1  coalesce (count 8, window 100 us)");
    CHECK_STR_CONTAINS(text, "b:1 ab -> a:0  coalesce");
    CHECK_STR_CONTAINS(text, "     40  b      0  edge");
    free(text);
    free(boot);
    img_elf_free(&image);

    /* A program is not an image. */
    scratch_path(path, sizeof path, "prog.elf");
    boot = malloc(sizeof *boot);
    CHECK(!img_read_bootinfo(path, &image, boot, &err));
    CHECK_STR_CONTAINS(err.message, "prog.elf: no pinion boot information");
    img_elf_free(&image);
    free(boot);
}

static void test_manifest(void)
{
    if (!plan_pair()) {
        return;
    }
    struct img_options options = {.output_path = "out/image.elf",
                                  .kernel_path = "kernel.elf",
                                  .placement_path = "placement.json"};
    char *text = img_manifest_text(plan, &options);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    CHECK(root != NULL);
    free(text);
    if (root == NULL) {
        return;
    }
    CHECK(strcmp(json_string_value(json_object_get(root, "system")), "pair") == 0);
    CHECK(strcmp(json_string_value(json_object_get(root, "image")), "out/image.elf") == 0);
    CHECK(strcmp(json_string_value(json_object_get(root, "kernel")), "kernel.elf") == 0);
    CHECK_EQ(json_integer_value(json_object_get(root, "cores")), 2);
    CHECK_EQ(json_integer_value(json_object_get(root, "memory")), 1u << 30);
    CHECK(json_is_true(json_object_get(root, "end_when_idle")));
    json_t *b = json_array_get(json_object_get(root, "pds"), 1);
    CHECK(strcmp(json_string_value(json_object_get(b, "name")), "b") == 0);
    CHECK_EQ(json_integer_value(json_object_get(b, "owner")), 2);
    CHECK_EQ(json_integer_value(json_object_get(b, "core")), 1);
    CHECK(strcmp(json_string_value(json_object_get(b, "program")), "prog") == 0);
    CHECK(json_is_true(json_object_get(b, "polling")));
    CHECK_EQ(json_integer_value(json_object_get(b, "entry")), 0x200010);
    CHECK_EQ(json_integer_value(json_object_get(b, "counters_pa")), 0x40818100);
    json_t *mappings = json_object_get(b, "mappings");
    CHECK_EQ(json_array_size(mappings), 7);
    json_t *rtc = json_array_get(mappings, 5);
    CHECK(strcmp(json_string_value(json_object_get(rtc, "name")), "rtc") == 0);
    CHECK_EQ(json_integer_value(json_object_get(rtc, "ipa")), 0x20000000);
    CHECK_EQ(json_integer_value(json_object_get(rtc, "pa")), 0x09010000);
    CHECK_EQ(json_integer_value(json_object_get(rtc, "size")), 4096);
    CHECK(strcmp(json_string_value(json_object_get(rtc, "rights")), "rw") == 0);
    CHECK(strcmp(json_string_value(json_object_get(rtc, "attr")), "device") == 0);
    json_t *config = json_array_get(mappings, 0);
    CHECK(strcmp(json_string_value(json_object_get(config, "name")), "config") == 0);
    CHECK(strcmp(json_string_value(json_object_get(config, "rights")), "r") == 0);
    json_t *channel = json_array_get(json_object_get(root, "channels"), 0);
    CHECK(strcmp(json_string_value(json_object_get(channel, "name")), "ab") == 0);
    CHECK(strcmp(json_string_value(json_object_get(channel, "policy")), "coalesce") == 0);
    CHECK_EQ(json_integer_value(json_object_get(channel, "count")), 8);
    CHECK_EQ(json_integer_value(json_object_get(channel, "window_us")), 100);
    json_t *end = json_array_get(json_object_get(channel, "ends"), 1);
    CHECK(strcmp(json_string_value(json_object_get(end, "pd")), "b") == 0);
    CHECK_EQ(json_integer_value(json_object_get(end, "id")), 1);
    json_t *irq = json_array_get(json_object_get(root, "irqs"), 0);
    CHECK_EQ(json_integer_value(json_object_get(irq, "irq")), 40);
    CHECK(strcmp(json_string_value(json_object_get(irq, "trigger")), "edge") == 0);
    json_decref(root);
}

/*
 * A map with rights "none": the PD's configuration gives the region's
 * physical address and size, and nothing is mapped for it, while another
 * PD maps the same region normally.
 */
static const struct pn_config_region *config_region(const struct pn_config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->n_regions; i++) {
        if (strcmp(cfg->regions[i].name, name) == 0) {
            return &cfg->regions[i];
        }
    }
    return NULL;
}

static void test_known_but_unmapped(void)
{
    static const char system[] =
        "{\"name\": \"dma\", \"components\": [\n"
        "  {\"name\": \"drv\", \"kind\": \"driver\", \"program\": \"prog\", \"priority\": 100},\n"
        "  {\"name\": \"c\", \"kind\": \"client\", \"program\": \"prog\", \"priority\": 100}],\n"
        " \"regions\": [{\"name\": \"buffers\", \"size\": \"64KiB\"}],\n"
        " \"maps\": [\n"
        "  {\"pd\": \"drv\", \"region\": \"buffers\", \"rights\": \"none\"},\n"
        "  {\"pd\": \"c\", \"region\": \"buffers\", \"rights\": \"rw\"}]}\n";
    char path[600];
    struct sd_error err;
    scratch_path(path, sizeof path, "dma.json");
    CHECK(write_text(path, system));
    struct sd_system *dma = sd_system_new();
    if (!sd_load_file(path, dma, &err)) {
        fprintf(stderr, "%s\n", err.message);
        check_failures++;
        sd_system_free(dma);
        return;
    }
    struct sd_placement none_placement;
    sd_default_placement(dma, &none_placement);
    struct fake_elf program = fake_program();
    scratch_path(path, sizeof path, "prog.elf");
    CHECK(write_fake_elf(path, &program, 0));
    struct img_plan *p = img_plan_new();
    CHECK(img_plan_build(p, dma, &none_placement, scratch, IMG_DEFAULT_MEMORY, &err));
    const struct pn_config_region *drv = config_region(&p->config[0], "buffers");
    const struct pn_config_region *client = config_region(&p->config[1], "buffers");
    CHECK(drv != NULL && client != NULL);
    if (drv && client) {
        CHECK_EQ(drv->vaddr, 0);
        CHECK_EQ(drv->rights, 0);
        CHECK_EQ(drv->size, 64 * 1024);
        CHECK(drv->paddr >= PN_PD_MEMORY_PA);
        CHECK_EQ(drv->paddr, client->paddr);
        CHECK(client->vaddr >= PN_PD_REGIONS_IPA);
    }
    /* The driver's stage-2 holds its config, program and stack, nothing for the region. */
    const struct pn_boot_pd *boot = &p->bootinfo.pds[0];
    for (uint32_t m = 0; m < boot->n_mappings; m++) {
        CHECK(strcmp(p->mapping_name[boot->first_mapping + m], "buffers") != 0);
    }
    img_plan_free(p);
    sd_system_free(dma);
}

int main(void)
{
    sys = sd_system_new();
    make_scratch("test_image_layout");
    RUN_TEST(test_layout);
    RUN_TEST(test_known_but_unmapped);
    RUN_TEST(test_boot_information);
    RUN_TEST(test_image_contents);
    RUN_TEST(test_manifest);
    img_plan_free(plan);
    img_elf_free(&kernel);
    sd_system_free(sys);
    remove_scratch();
    return check_exit();
}
