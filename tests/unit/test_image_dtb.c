/*
 * A guest's device tree as guest_dtb.c writes it, parsed back with libfdt:
 * every node and property docs/guest-dtb.md promises (memory, vCPUs, PSCI,
 * GICv3, timer, PL011, passed-through virtio devices, one generic-uio
 * device per channel with its doorbell, regions and interrupt, /chosen),
 * for a full spec and an empty one, and the largest spec a VM can have.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_image_fixture.h"

#include <libfdt.h>

/* Property `name` of the node at `path` as big-endian cells; *count of them, or NULL. */
static const fdt32_t *cells(const void *fdt, const char *path, const char *name, int *count)
{
    int node = fdt_path_offset(fdt, path);
    int length = 0;
    const fdt32_t *value = node >= 0 ? fdt_getprop(fdt, node, name, &length) : NULL;
    *count = value != NULL ? length / 4 : 0;
    if (value == NULL) {
        fprintf(stderr, "no property %s in %s\n", name, path);
    }
    return value;
}

static uint32_t cell(const fdt32_t *value, int count, int i)
{
    return value != NULL && i < count ? fdt32_to_cpu(value[i]) : 0xdeadbeef;
}

/* Checks that property `name` of `path` is exactly `expected` (count cells). */
static void check_cells(const void *fdt, const char *path, const char *name,
                        const uint32_t *expected, int count)
{
    int have;
    const fdt32_t *value = cells(fdt, path, name, &have);
    CHECK_EQ(have, count);
    for (int i = 0; i < count && i < have; i++) {
        if (cell(value, have, i) != expected[i]) {
            fprintf(stderr, "%s %s cell %d: 0x%x, expected 0x%x\n", path, name, i,
                    cell(value, have, i), expected[i]);
            check_failures++;
        }
    }
}

static const char *string(const void *fdt, const char *path, const char *name)
{
    int node = fdt_path_offset(fdt, path);
    return node >= 0 ? fdt_getprop(fdt, node, name, NULL) : NULL;
}

/* The n-th string of a string list, or "" when there is none. */
static const char *nth_string(const void *fdt, const char *path, const char *name, int n)
{
    int node = fdt_path_offset(fdt, path);
    const char *text = node >= 0 ? fdt_stringlist_get(fdt, node, name, n, NULL) : NULL;
    return text != NULL ? text : "";
}

static int count_compatible(const void *fdt, const char *compatible)
{
    int count = 0;
    for (int node = fdt_node_offset_by_compatible(fdt, -1, compatible); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, compatible)) {
        count++;
    }
    return count;
}

static struct img_dtb_spec full_spec(void)
{
    struct img_dtb_spec spec = {
        .vcpus = 3,
        .ram_base = 0x40a00000,
        .ram_size = 0x8000000,
        .has_initrd = true,
        .initrd_start = 0x40e00000,
        .initrd_end = 0x40e01388,
        .bootargs = "quiet loglevel=4",
        .n_virtio = 2,
        .virtio = {{.base = 0x0a003e00, .intid = 79}, {.base = 0x0a003c00, .intid = 78}},
        .n_uio = 2,
        .uio =
            {
                {.name = "rx",
                 .id = 0,
                 .n_regions = 2,
                 .regions = {{"rx", 0x48a00000, 0x10000}, {"rx_data", 0x48c00000, 0x200000}}},
                {.name = "ctl", .id = 5},
            },
    };
    return spec;
}

static void test_full_tree(void)
{
    struct img_dtb_spec spec = full_spec();
    uint8_t *fdt = NULL;
    size_t size = 0;
    struct sd_error err;
    CHECK(img_guest_dtb_build(&spec, "vm", &fdt, &size, &err));
    if (fdt == NULL) {
        return;
    }
    CHECK_EQ(fdt_check_header(fdt), 0);
    CHECK_EQ(fdt_totalsize(fdt), size);
    CHECK(size < 4096);
    CHECK_STR_CONTAINS(string(fdt, "/", "compatible"), "linux,dummy-virt");
    check_cells(fdt, "/", "#address-cells", (uint32_t[]){2}, 1);
    check_cells(fdt, "/", "#size-cells", (uint32_t[]){2}, 1);
    int gic = fdt_path_offset(fdt, "/intc@8000000");
    CHECK(gic >= 0);
    check_cells(fdt, "/", "interrupt-parent", (uint32_t[]){fdt_get_phandle(fdt, gic)}, 1);

    /* Memory and vCPUs. */
    CHECK_STR_CONTAINS(string(fdt, "/memory@40a00000", "device_type"), "memory");
    check_cells(fdt, "/memory@40a00000", "reg", (uint32_t[]){0, 0x40a00000, 0, 0x8000000}, 4);
    CHECK_EQ(count_compatible(fdt, "arm,armv8"), 3);
    check_cells(fdt, "/cpus", "#address-cells", (uint32_t[]){1}, 1);
    check_cells(fdt, "/cpus", "#size-cells", (uint32_t[]){0}, 1);
    for (uint32_t k = 0; k < 3; k++) {
        char path[32];
        snprintf(path, sizeof path, "/cpus/cpu@%u", k);
        check_cells(fdt, path, "reg", (uint32_t[]){k}, 1);
        CHECK_STR_CONTAINS(string(fdt, path, "enable-method"), "psci");
        CHECK_STR_CONTAINS(string(fdt, path, "device_type"), "cpu");
    }
    CHECK(fdt_path_offset(fdt, "/cpus/cpu@3") < 0);
    CHECK_STR_CONTAINS(nth_string(fdt, "/psci", "compatible", 0), "arm,psci-1.0");
    CHECK_STR_CONTAINS(nth_string(fdt, "/psci", "compatible", 1), "arm,psci-0.2");
    CHECK_STR_CONTAINS(string(fdt, "/psci", "method"), "hvc");

    /* GICv3: distributor and one 128 KiB redistributor per vCPU; the timer's four PPIs. */
    CHECK_STR_CONTAINS(string(fdt, "/intc@8000000", "compatible"), "arm,gic-v3");
    check_cells(fdt, "/intc@8000000", "#interrupt-cells", (uint32_t[]){3}, 1);
    CHECK(fdt_getprop(fdt, gic, "interrupt-controller", NULL) != NULL);
    check_cells(fdt, "/intc@8000000", "reg",
                (uint32_t[]){0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 3 * 0x20000}, 8);
    CHECK_STR_CONTAINS(string(fdt, "/timer", "compatible"), "arm,armv8-timer");
    check_cells(fdt, "/timer", "interrupts", (uint32_t[]){1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4},
                12);

    /* The console: a PL011 at 0x09000000, SPI 1 level high, its clock. */
    CHECK_STR_CONTAINS(nth_string(fdt, "/pl011@9000000", "compatible", 0), "arm,pl011");
    CHECK_STR_CONTAINS(nth_string(fdt, "/pl011@9000000", "compatible", 1), "arm,primecell");
    check_cells(fdt, "/pl011@9000000", "reg", (uint32_t[]){0, 0x09000000, 0, 0x1000}, 4);
    check_cells(fdt, "/pl011@9000000", "interrupts", (uint32_t[]){0, 1, 4}, 3);
    int clock = fdt_path_offset(fdt, "/apb-pclk");
    CHECK_STR_CONTAINS(string(fdt, "/apb-pclk", "compatible"), "fixed-clock");
    uint32_t clock_phandle = fdt_get_phandle(fdt, clock);
    CHECK(clock_phandle != 0 && clock_phandle != fdt_get_phandle(fdt, gic));
    check_cells(fdt, "/pl011@9000000", "clocks", (uint32_t[]){clock_phandle, clock_phandle}, 2);
    CHECK_STR_CONTAINS(nth_string(fdt, "/pl011@9000000", "clock-names", 1), "apb_pclk");

    /* Passed-through transports: their registers, their SPI, edge rising. */
    CHECK_EQ(count_compatible(fdt, "virtio,mmio"), 2);
    check_cells(fdt, "/virtio_mmio@a003e00", "reg", (uint32_t[]){0, 0x0a003e00, 0, 0x200}, 4);
    check_cells(fdt, "/virtio_mmio@a003e00", "interrupts", (uint32_t[]){0, 47, 1}, 3);
    check_cells(fdt, "/virtio_mmio@a003c00", "interrupts", (uint32_t[]){0, 46, 1}, 3);
    CHECK(fdt_getprop(fdt, fdt_path_offset(fdt, "/virtio_mmio@a003c00"), "dma-coherent", NULL) !=
          NULL);

    /* Channel 0: doorbell page 0, then its two regions; SPI 64 edge rising. */
    CHECK_EQ(count_compatible(fdt, "generic-uio"), 2);
    check_cells(fdt, "/rx@b000000", "reg",
                (uint32_t[]){0, 0x0b000000, 0, 0x1000, 0, 0x48a00000, 0, 0x10000, 0, 0x48c00000, 0,
                             0x200000},
                12);
    CHECK_STR_CONTAINS(nth_string(fdt, "/rx@b000000", "reg-names", 0), "doorbell");
    CHECK_STR_CONTAINS(nth_string(fdt, "/rx@b000000", "reg-names", 1), "rx");
    CHECK_STR_CONTAINS(nth_string(fdt, "/rx@b000000", "reg-names", 2), "rx_data");
    check_cells(fdt, "/rx@b000000", "interrupts", (uint32_t[]){0, 64, 1}, 3);
    CHECK_STR_CONTAINS(string(fdt, "/rx@b000000", "linux,uio-name"), "rx");
    check_cells(fdt, "/rx@b000000", "pinion,channel-id", (uint32_t[]){0}, 1);
    /* Channel 5: its doorbell only; INTID 101 = SPI 69. */
    check_cells(fdt, "/ctl@b005000", "reg", (uint32_t[]){0, 0x0b005000, 0, 0x1000}, 4);
    check_cells(fdt, "/ctl@b005000", "interrupts", (uint32_t[]){0, 69, 1}, 3);
    CHECK_EQ(fdt_stringlist_count(fdt, fdt_path_offset(fdt, "/ctl@b005000"), "reg-names"), 1);

    /* The command line, the console, the initrd. */
    const char *bootargs = string(fdt, "/chosen", "bootargs");
    CHECK(bootargs != NULL && strcmp(bootargs, IMG_GUEST_BOOTARGS " quiet loglevel=4") == 0);
    CHECK_STR_CONTAINS(string(fdt, "/chosen", "stdout-path"), "/pl011@9000000");
    CHECK(fdt_path_offset(fdt, string(fdt, "/chosen", "stdout-path")) >= 0);
    check_cells(fdt, "/chosen", "linux,initrd-start", (uint32_t[]){0, 0x40e00000}, 2);
    check_cells(fdt, "/chosen", "linux,initrd-end", (uint32_t[]){0, 0x40e01388}, 2);
    free(fdt);
}

/* No initrd, no bootargs of its own, no devices, no channels: none of their nodes. */
static void test_bare_tree(void)
{
    struct img_dtb_spec spec = {
        .vcpus = 1, .ram_base = 0x40a00000, .ram_size = 0x4000000, .bootargs = ""};
    uint8_t *fdt = NULL;
    size_t size = 0;
    struct sd_error err;
    CHECK(img_guest_dtb_build(&spec, "vm", &fdt, &size, &err));
    if (fdt == NULL) {
        return;
    }
    const char *bootargs = string(fdt, "/chosen", "bootargs");
    CHECK(bootargs != NULL && strcmp(bootargs, IMG_GUEST_BOOTARGS) == 0);
    int chosen = fdt_path_offset(fdt, "/chosen");
    CHECK(fdt_getprop(fdt, chosen, "linux,initrd-start", NULL) == NULL);
    CHECK(fdt_getprop(fdt, chosen, "linux,initrd-end", NULL) == NULL);
    CHECK_EQ(count_compatible(fdt, "arm,armv8"), 1);
    CHECK_EQ(count_compatible(fdt, "virtio,mmio"), 0);
    CHECK_EQ(count_compatible(fdt, "generic-uio"), 0);
    check_cells(fdt, "/intc@8000000", "reg",
                (uint32_t[]){0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 0x20000}, 8);
    free(fdt);
}

/*
 * A channel named like a root node ("chosen", "memory") must not hide the
 * real one from a lookup by path: libfdt's fdt_path_offset("/chosen")
 * matches "chosen@b000000" too, and takes the first.
 */
/*
 * A VM whose channels are taken by pinion's in-kernel drivers: "pinion,channel"
 * nodes with the same maps, and no uio_pdrv_genirq.of_id on the command line.
 */
static void test_kernel_channels(void)
{
    struct img_dtb_spec spec = {.vcpus = 1,
                                .ram_base = 0x40a00000,
                                .ram_size = 0x4000000,
                                .bootargs = "loglevel=6",
                                .channel_driver = SD_CHANNEL_DRIVER_KERNEL,
                                .n_uio = 1};
    spec.uio[0] =
        (struct img_dtb_uio){.name = "tx",
                             .id = 1,
                             .n_regions = 1,
                             .regions = {{.name = "tx", .base = 0x48a00000, .size = 0x10000}}};
    uint8_t *fdt = NULL;
    size_t size = 0;
    struct sd_error err;
    CHECK(img_guest_dtb_build(&spec, "vm", &fdt, &size, &err));
    if (fdt == NULL) {
        return;
    }
    CHECK_EQ(count_compatible(fdt, "pinion,channel"), 1);
    CHECK_EQ(count_compatible(fdt, "generic-uio"), 0);
    check_cells(fdt, "/tx@b001000", "reg",
                (uint32_t[]){0, 0x0b001000, 0, 0x1000, 0, 0x48a00000, 0, 0x10000}, 8);
    check_cells(fdt, "/tx@b001000", "interrupts", (uint32_t[]){0, 65, 1}, 3);
    CHECK_STR_CONTAINS(string(fdt, "/tx@b001000", "linux,uio-name"), "tx");
    const char *bootargs = string(fdt, "/chosen", "bootargs");
    CHECK(bootargs != NULL && strcmp(bootargs, IMG_GUEST_BOOTARGS_BASE " loglevel=6") == 0);
    CHECK(bootargs != NULL && strstr(bootargs, "uio_pdrv_genirq") == NULL);
    free(fdt);
}

/* Channel regions in the guest's memory map too, each reserved (without no-map). */
static void test_regions_in_ram(void)
{
    struct img_dtb_spec spec = {.vcpus = 1,
                                .ram_base = 0x40a00000,
                                .ram_size = 0x4000000,
                                .bootargs = "",
                                .channel_driver = SD_CHANNEL_DRIVER_KERNEL,
                                .regions_in_ram = true,
                                .n_uio = 2};
    spec.uio[0] = (struct img_dtb_uio){
        .name = "rx",
        .id = 0,
        .n_regions = 2,
        .regions = {{.name = "rx", .base = 0x48a00000, .size = 0x10000},
                    {.name = "rx_data", .base = 0x48c00000, .size = 0x200000}}};
    spec.uio[1] =
        (struct img_dtb_uio){.name = "tx",
                             .id = 1,
                             .n_regions = 1,
                             .regions = {{.name = "tx", .base = 0x48b00000, .size = 0x10000}}};
    uint8_t *fdt = NULL;
    size_t size = 0;
    struct sd_error err;
    CHECK(img_guest_dtb_build(&spec, "vm", &fdt, &size, &err));
    if (fdt == NULL) {
        return;
    }
    check_cells(fdt, "/memory@40a00000", "reg",
                (uint32_t[]){0, 0x40a00000, 0, 0x4000000, 0, 0x48a00000, 0, 0x10000, 0, 0x48c00000,
                             0, 0x200000, 0, 0x48b00000, 0, 0x10000},
                16);
    check_cells(fdt, "/reserved-memory", "#address-cells", (uint32_t[]){2}, 1);
    CHECK(fdt_getprop(fdt, fdt_path_offset(fdt, "/reserved-memory"), "ranges", NULL) != NULL);
    check_cells(fdt, "/reserved-memory/pinion-region@48c00000", "reg",
                (uint32_t[]){0, 0x48c00000, 0, 0x200000}, 4);
    check_cells(fdt, "/reserved-memory/pinion-region@48b00000", "reg",
                (uint32_t[]){0, 0x48b00000, 0, 0x10000}, 4);
    /* Linux must map them: no-map would leave it without pages for them. */
    CHECK(fdt_getprop(fdt, fdt_path_offset(fdt, "/reserved-memory/pinion-region@48a00000"),
                      "no-map", NULL) == NULL);
    free(fdt);
    /* Without the switch, neither the memory map nor any reservation has them. */
    spec.regions_in_ram = false;
    CHECK(img_guest_dtb_build(&spec, "vm", &fdt, &size, &err));
    if (fdt != NULL) {
        check_cells(fdt, "/memory@40a00000", "reg", (uint32_t[]){0, 0x40a00000, 0, 0x4000000}, 4);
        CHECK(fdt_path_offset(fdt, "/reserved-memory") < 0);
        free(fdt);
    }
}

static void test_channel_named_like_a_node(void)
{
    struct img_dtb_spec spec = {.vcpus = 1,
                                .ram_base = 0x40a00000,
                                .ram_size = 0x4000000,
                                .bootargs = "",
                                .n_uio = 2,
                                .uio = {{.name = "chosen", .id = 0}, {.name = "memory", .id = 1}}};
    uint8_t *fdt = NULL;
    size_t size = 0;
    struct sd_error err;
    CHECK(img_guest_dtb_build(&spec, "vm", &fdt, &size, &err));
    if (fdt == NULL) {
        return;
    }
    CHECK(string(fdt, "/chosen", "bootargs") != NULL);
    CHECK_STR_CONTAINS(string(fdt, "/memory", "device_type"), "memory");
    CHECK_STR_CONTAINS(string(fdt, "/chosen@b000000", "compatible"), "generic-uio");
    free(fdt);
}

/* The most a VM can have still makes a valid tree, well under PN_GUEST_DTB_MAX. */
static void test_largest_tree(void)
{
    static char names[PN_CONFIG_MAX_CHANNELS][PN_NAME_MAX];
    static const char region_names[IMG_UIO_MAX_REGIONS][PN_NAME_MAX] = {
        "region_with_a_long_name_number0", "region_with_a_long_name_number1",
        "region_with_a_long_name_number2", "region_with_a_long_name_number3"};
    static char bootargs[SD_PATH_MAX];
    memset(bootargs, 'x', sizeof bootargs - 1);
    struct img_dtb_spec *spec = calloc(1, sizeof *spec);
    *spec = (struct img_dtb_spec){.vcpus = SD_MAX_VCPUS,
                                  .ram_base = 0x40a00000,
                                  .ram_size = 0x40000000,
                                  .bootargs = bootargs,
                                  .n_virtio = SD_MAX_VM_DEVICES,
                                  .n_uio = PN_CONFIG_MAX_CHANNELS};
    for (uint32_t d = 0; d < SD_MAX_VM_DEVICES; d++) {
        spec->virtio[d].base = 0x0a003e00 - 0x200 * d;
        spec->virtio[d].intid = 79 - d;
    }
    for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        snprintf(names[id], PN_NAME_MAX, "channel_with_a_long_name_%02u", id);
        spec->uio[id].name = names[id];
        spec->uio[id].id = id;
        spec->uio[id].n_regions = IMG_UIO_MAX_REGIONS;
        for (uint32_t r = 0; r < IMG_UIO_MAX_REGIONS; r++) {
            spec->uio[id].regions[r] = (struct img_dtb_region){
                region_names[r], 0x50000000 + (uint64_t)(id * 4 + r) * 0x10000, 0x10000};
        }
    }
    uint8_t *fdt = NULL;
    size_t size = 0;
    struct sd_error err;
    CHECK(img_guest_dtb_build(spec, "vm", &fdt, &size, &err));
    CHECK(size > 16384 && size < PN_GUEST_DTB_MAX); /* it outgrew the first buffer */
    if (fdt != NULL) {
        CHECK_EQ(fdt_check_header(fdt), 0);
        CHECK_EQ(count_compatible(fdt, "generic-uio"), PN_CONFIG_MAX_CHANNELS);
        CHECK_EQ(count_compatible(fdt, "arm,armv8"), SD_MAX_VCPUS);
        check_cells(fdt, "/channel_with_a_long_name_62@b03e000", "interrupts",
                    (uint32_t[]){0, 96 + 62 - 32, 1}, 3);
        CHECK_EQ(strlen(string(fdt, "/chosen", "bootargs")),
                 strlen(IMG_GUEST_BOOTARGS) + 1 + SD_PATH_MAX - 1);
    }
    free(fdt);
    free(spec);
}

int main(void)
{
    RUN_TEST(test_full_tree);
    RUN_TEST(test_bare_tree);
    RUN_TEST(test_kernel_channels);
    RUN_TEST(test_regions_in_ram);
    RUN_TEST(test_channel_named_like_a_node);
    RUN_TEST(test_largest_tree);
    return check_exit();
}
