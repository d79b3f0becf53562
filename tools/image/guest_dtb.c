/*
 * A guest's device tree, written with libfdt's sequential-write functions:
 * the machine the kernel emulates for a VM (guest_layout.h), described the
 * way QEMU's virt board describes itself, so that an unmodified Linux
 * finds its memory, vCPUs, interrupt controller, timer and console where
 * it expects; plus the devices passed through to it and one generic-uio
 * device per channel. docs/guest-dtb.md explains each node.
 *
 * Interrupt specifiers are GICv3's three cells: type (0 SPI, 1 PPI),
 * number within that type (INTID - 32 for SPIs, INTID - 16 for PPIs), and
 * flags (1 edge rising, 4 level high), as Linux's
 * include/dt-bindings/interrupt-controller/arm-gic.h defines them.
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#define GIC_PHANDLE   1
#define CLOCK_PHANDLE 2

#define DT_SPI            0
#define DT_PPI            1
#define DT_EDGE_RISING    1
#define DT_LEVEL_HIGH     4
#define SPI_INTID_BASE    32
#define PPI_INTID_BASE    16
#define VIRTIO_MMIO_SIZE  0x200
#define UART_CLOCK_HZ     24000000   /* QEMU virt's apb-pclk */
#define PL011_PERIPHID    0x00141011 /* what QEMU's PL011 reports in its ID registers */
#define DTB_INITIAL_SPACE 16384
/* The longest property: /memory's reg with every channel region (regions_in_ram). */
#define MAX_CELLS (4 * (1 + PN_CONFIG_MAX_CHANNELS * IMG_UIO_MAX_REGIONS))

/* The architected timer's PPIs, in the binding's order: secure, non-secure, virtual, hypervisor. */
static const uint32_t timer_ppis[] = {13, 14, 11, 10};

/*
 * Writing state: libfdt's first error sticks, so each node is written
 * without checking every call, and the tree is checked once at the end.
 */
struct dtb_writer {
    void *fdt;
    int error; /* the first libfdt error, 0 while all is well */
};

static void note(struct dtb_writer *w, int result)
{
    if (w->error == 0 && result < 0) {
        w->error = result;
    }
}

static void begin_node(struct dtb_writer *w, const char *name)
{
    note(w, fdt_begin_node(w->fdt, name));
}

static void end_node(struct dtb_writer *w)
{
    note(w, fdt_end_node(w->fdt));
}

static void prop_u32(struct dtb_writer *w, const char *name, uint32_t value)
{
    note(w, fdt_property_u32(w->fdt, name, value));
}

static void prop_u64(struct dtb_writer *w, const char *name, uint64_t value)
{
    note(w, fdt_property_u64(w->fdt, name, value));
}

static void prop_string(struct dtb_writer *w, const char *name, const char *value)
{
    note(w, fdt_property_string(w->fdt, name, value));
}

/* A list of strings, NUL-separated, as `compatible` and `reg-names` hold them. */
static void prop_strings(struct dtb_writer *w, const char *name, const char *joined, size_t length)
{
    note(w, fdt_property(w->fdt, name, joined, (int)length));
}

static void prop_empty(struct dtb_writer *w, const char *name)
{
    note(w, fdt_property(w->fdt, name, NULL, 0));
}

static void prop_cells(struct dtb_writer *w, const char *name, const uint32_t *cells, size_t count)
{
    fdt32_t be[MAX_CELLS];
    if (count > MAX_CELLS) {
        note(w, -FDT_ERR_INTERNAL);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        be[i] = cpu_to_fdt32(cells[i]);
    }
    note(w, fdt_property(w->fdt, name, be, (int)(count * sizeof be[0])));
}

/* `reg` entries of (address, size), two cells each, as the root's #address-cells says. */
static void prop_reg(struct dtb_writer *w, const uint64_t *pairs, size_t n_pairs)
{
    uint32_t cells[MAX_CELLS];
    for (size_t i = 0; i < n_pairs && 4 * i < MAX_CELLS; i++) {
        cells[4 * i] = (uint32_t)(pairs[2 * i] >> 32);
        cells[4 * i + 1] = (uint32_t)pairs[2 * i];
        cells[4 * i + 2] = (uint32_t)(pairs[2 * i + 1] >> 32);
        cells[4 * i + 3] = (uint32_t)pairs[2 * i + 1];
    }
    prop_cells(w, "reg", cells, 4 * n_pairs);
}

static void prop_spi(struct dtb_writer *w, uint32_t intid, uint32_t flags)
{
    const uint32_t cells[3] = {DT_SPI, intid - SPI_INTID_BASE, flags};
    prop_cells(w, "interrupts", cells, 3);
}

static void begin_node_at(struct dtb_writer *w, const char *name, uint64_t address)
{
    char node[PN_NAME_MAX + 24];
    snprintf(node, sizeof node, "%s@%llx", name, (unsigned long long)address);
    begin_node(w, node);
}

static void write_chosen(struct dtb_writer *w, const struct img_dtb_spec *spec)
{
    char bootargs[IMG_GUEST_BOOTARGS_MAX];
    img_guest_bootargs(bootargs, sizeof bootargs, spec->bootargs, spec->channel_driver);
    char stdout_path[48];
    snprintf(stdout_path, sizeof stdout_path, "/pl011@%llx", PN_GUEST_UART_BASE);
    begin_node(w, "chosen");
    prop_string(w, "bootargs", bootargs);
    prop_string(w, "stdout-path", stdout_path);
    if (spec->has_initrd) {
        prop_u64(w, "linux,initrd-start", spec->initrd_start);
        prop_u64(w, "linux,initrd-end", spec->initrd_end);
    }
    end_node(w);
}

/*
 * With regions_in_ram, every channel region joins the guest's memory (so
 * Linux has pages for it and maps it cacheable) and is reserved, without
 * no-map, so that Linux never allocates from it.
 */
static void write_memory(struct dtb_writer *w, const struct img_dtb_spec *spec)
{
    uint64_t reg[2 * (1 + PN_CONFIG_MAX_CHANNELS * IMG_UIO_MAX_REGIONS)] = {spec->ram_base,
                                                                            spec->ram_size};
    uint32_t n = 1;
    for (uint32_t u = 0; spec->regions_in_ram && u < spec->n_uio; u++) {
        for (uint32_t r = 0; r < spec->uio[u].n_regions && r < IMG_UIO_MAX_REGIONS; r++) {
            reg[2 * n] = spec->uio[u].regions[r].base;
            reg[2 * n + 1] = spec->uio[u].regions[r].size;
            n++;
        }
    }
    begin_node_at(w, "memory", spec->ram_base);
    prop_string(w, "device_type", "memory");
    prop_reg(w, reg, n);
    end_node(w);
    if (n == 1) {
        return;
    }
    begin_node(w, "reserved-memory");
    prop_u32(w, "#address-cells", 2);
    prop_u32(w, "#size-cells", 2);
    prop_empty(w, "ranges");
    for (uint32_t k = 1; k < n; k++) {
        begin_node_at(w, "pinion-region", reg[2 * k]);
        prop_reg(w, reg + 2 * k, 1);
        end_node(w);
    }
    end_node(w);
}

static void write_memory_and_cpus(struct dtb_writer *w, const struct img_dtb_spec *spec)
{
    static const char psci_compatible[] = "arm,psci-1.0\0arm,psci-0.2";
    write_memory(w, spec);

    /* reg is the vCPU's MPIDR affinity, which the kernel makes its index within the VM. */
    begin_node(w, "cpus");
    prop_u32(w, "#address-cells", 1);
    prop_u32(w, "#size-cells", 0);
    for (uint32_t k = 0; k < spec->vcpus; k++) {
        begin_node_at(w, "cpu", k);
        prop_string(w, "device_type", "cpu");
        prop_string(w, "compatible", "arm,armv8");
        prop_u32(w, "reg", k);
        prop_string(w, "enable-method", "psci");
        end_node(w);
    }
    end_node(w);

    /* PSCI 0.2 and later have fixed function ids, so no cpu_on / cpu_off properties. */
    begin_node(w, "psci");
    prop_strings(w, "compatible", psci_compatible, sizeof psci_compatible);
    prop_string(w, "method", "hvc");
    end_node(w);
}

static void write_gic_and_timer(struct dtb_writer *w, const struct img_dtb_spec *spec)
{
    begin_node_at(w, "intc", PN_GUEST_GICD_BASE);
    prop_string(w, "compatible", "arm,gic-v3");
    prop_u32(w, "#interrupt-cells", 3);
    prop_empty(w, "interrupt-controller");
    prop_u32(w, "#redistributor-regions", 1);
    prop_u32(w, "#address-cells", 0); /* no children (no ITS); dtc expects the property */
    const uint64_t reg[4] = {PN_GUEST_GICD_BASE, PN_GUEST_GICD_SIZE, PN_GUEST_GICR_BASE,
                             spec->vcpus * PN_GUEST_GICR_STRIDE};
    prop_reg(w, reg, 2);
    prop_u32(w, "phandle", GIC_PHANDLE);
    end_node(w);

    /* Level high, as QEMU's virt board says for its timer on a GICv3. */
    uint32_t cells[3 * sizeof timer_ppis / sizeof timer_ppis[0]];
    _Static_assert(sizeof cells / sizeof cells[0] <= MAX_CELLS, "the timer's cells fit");
    for (size_t i = 0; i < sizeof timer_ppis / sizeof timer_ppis[0]; i++) {
        cells[3 * i] = DT_PPI;
        cells[3 * i + 1] = timer_ppis[i];
        cells[3 * i + 2] = DT_LEVEL_HIGH;
    }
    _Static_assert(PN_GUEST_VTIMER_INTID == PPI_INTID_BASE + 11, "the virtual timer is PPI 11");
    begin_node(w, "timer");
    prop_string(w, "compatible", "arm,armv8-timer");
    prop_cells(w, "interrupts", cells, sizeof cells / sizeof cells[0]);
    prop_empty(w, "always-on");
    end_node(w);
}

static void write_uart(struct dtb_writer *w)
{
    static const char compatible[] = "arm,pl011\0arm,primecell";
    static const char clock_names[] = "uartclk\0apb_pclk";
    /* The clock the AMBA bus and the PL011 driver ask for; it never changes. */
    begin_node(w, "apb-pclk");
    prop_string(w, "compatible", "fixed-clock");
    prop_u32(w, "#clock-cells", 0);
    prop_u32(w, "clock-frequency", UART_CLOCK_HZ);
    prop_string(w, "clock-output-names", "clk24mhz");
    prop_u32(w, "phandle", CLOCK_PHANDLE);
    end_node(w);

    begin_node_at(w, "pl011", PN_GUEST_UART_BASE);
    prop_strings(w, "compatible", compatible, sizeof compatible);
    const uint64_t reg[2] = {PN_GUEST_UART_BASE, PN_GUEST_UART_SIZE};
    prop_reg(w, reg, 1);
    prop_spi(w, PN_GUEST_UART_INTID, DT_LEVEL_HIGH);
    const uint32_t clocks[2] = {CLOCK_PHANDLE, CLOCK_PHANDLE};
    prop_cells(w, "clocks", clocks, 2);
    prop_strings(w, "clock-names", clock_names, sizeof clock_names);
    /* Given here, so Linux's AMBA bus does not read the ID registers (each read an exit). */
    prop_u32(w, "arm,primecell-periphid", PL011_PERIPHID);
    end_node(w);
}

static void write_virtio(struct dtb_writer *w, const struct img_dtb_spec *spec)
{
    for (uint32_t d = 0; d < spec->n_virtio; d++) {
        begin_node_at(w, "virtio_mmio", spec->virtio[d].base);
        prop_string(w, "compatible", "virtio,mmio");
        const uint64_t reg[2] = {spec->virtio[d].base, VIRTIO_MMIO_SIZE};
        prop_reg(w, reg, 1);
        prop_spi(w, spec->virtio[d].intid, DT_EDGE_RISING);
        /* The device (QEMU) sees the guest's memory coherently: no cache maintenance. */
        prop_empty(w, "dma-coherent");
        end_node(w);
    }
}

/* One UIO device per channel: map 0 the doorbell, maps 1.. the channel's regions. */
static void write_uio(struct dtb_writer *w, const struct img_dtb_spec *spec)
{
    for (uint32_t u = 0; u < spec->n_uio; u++) {
        const struct img_dtb_uio *uio = &spec->uio[u];
        uint64_t doorbell = PN_GUEST_DOORBELL_BASE + uio->id * PN_GUEST_DOORBELL_SIZE;
        uint64_t reg[2 * (IMG_UIO_MAX_REGIONS + 1)] = {doorbell, PN_GUEST_DOORBELL_SIZE};
        char names[(IMG_UIO_MAX_REGIONS + 1) * PN_NAME_MAX] = "doorbell";
        size_t names_length = sizeof "doorbell";
        uint32_t n_regions =
            uio->n_regions < IMG_UIO_MAX_REGIONS ? uio->n_regions : IMG_UIO_MAX_REGIONS;
        for (uint32_t r = 0; r < n_regions; r++) {
            reg[2 * (r + 1)] = uio->regions[r].base;
            reg[2 * (r + 1) + 1] = uio->regions[r].size;
            size_t length = strnlen(uio->regions[r].name, PN_NAME_MAX - 1);
            memcpy(names + names_length, uio->regions[r].name, length);
            names[names_length + length] = '\0';
            names_length += length + 1;
        }
        begin_node_at(w, uio->name, doorbell);
        prop_string(w, "compatible",
                    spec->channel_driver == SD_CHANNEL_DRIVER_KERNEL ? "pinion,channel"
                                                                     : "generic-uio");
        prop_reg(w, reg, n_regions + 1);
        prop_strings(w, "reg-names", names, names_length);
        prop_spi(w, PN_GUEST_CHANNEL_INTID + uio->id, DT_EDGE_RISING);
        prop_string(w, "linux,uio-name", uio->name);
        prop_u32(w, "pinion,channel-id", uio->id);
        end_node(w);
    }
}

/* The whole tree into `buffer`; 0, or the first libfdt error (-FDT_ERR_NOSPACE: grow it). */
static int write_tree(const struct img_dtb_spec *spec, void *buffer, int size)
{
    struct dtb_writer w = {.fdt = buffer, .error = 0};
    note(&w, fdt_create(buffer, size));
    note(&w, fdt_finish_reservemap(buffer));
    begin_node(&w, "");
    prop_string(&w, "compatible", "linux,dummy-virt");
    prop_string(&w, "model", "pinion virtual machine");
    prop_u32(&w, "#address-cells", 2);
    prop_u32(&w, "#size-cells", 2);
    prop_u32(&w, "interrupt-parent", GIC_PHANDLE);
    /* /chosen, /memory, /cpus and /psci before any UIO node, whatever a channel is called. */
    write_chosen(&w, spec);
    write_memory_and_cpus(&w, spec);
    write_gic_and_timer(&w, spec);
    write_uart(&w);
    write_virtio(&w, spec);
    write_uio(&w, spec);
    end_node(&w);
    note(&w, fdt_finish(buffer));
    return w.error;
}

bool img_guest_dtb_build(const struct img_dtb_spec *spec, const char *what, uint8_t **out,
                         size_t *size, struct sd_error *err)
{
    *out = NULL;
    *size = 0;
    for (size_t space = DTB_INITIAL_SPACE; space <= PN_GUEST_DTB_MAX; space *= 2) {
        uint8_t *buffer = calloc(1, space);
        if (buffer == NULL) {
            return img_fail(err, "%s: out of memory", what);
        }
        int result = write_tree(spec, buffer, (int)space);
        if (result == 0) {
            *out = buffer;
            *size = fdt_totalsize(buffer);
            return true;
        }
        free(buffer);
        if (result != -FDT_ERR_NOSPACE) {
            return img_fail(err, "%s: libfdt: %s", what, fdt_strerror(result));
        }
    }
    return img_fail(err, "%s: larger than the %llu KiB a guest's device tree may take", what,
                    PN_GUEST_DTB_MAX >> 10);
}
