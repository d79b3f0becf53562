/*
 * A stand-in kernel that checks how QEMU loads a pinion image, so that the
 * packer's reliance on it is tested rather than assumed:
 *   - the boot information, configuration pages and program data arrive at
 *     their physical addresses (QEMU loads segments at p_paddr);
 *   - memory-only segments (filesz 0: stacks, regions) and the part of a
 *     program segment past its file bytes (bss: the counter table) read as
 *     zero, and are zeroed again when the machine resets, so the zeroes come
 *     from the loader and not from fresh host memory.
 * The first boot checks, dirties all of that memory, leaves a flag in
 * memory no segment covers (the kernel's free memory) and resets through
 * PSCI; the second boot checks again and powers off. It runs at EL1 (QEMU
 * virt without virtualization, PSCI over HVC) with the MMU off, so every
 * access is aligned.
 */
#include <pinion/bootinfo.h>
#include <pinion/counters.h>
#include <pinion/pd_layout.h>

#define UART_DATA    ((volatile uint32_t *)0x09000000)
#define UART_FLAGS   ((volatile uint32_t *)0x09000018)
#define UART_TX_FULL (1u << 5)
#define PSCI_OFF     0x84000008u
#define PSCI_RESET   0x84000009u
#define RESET_FLAG   0x7465736572746573ull
#define TEST_MARKER  0x2121545345544e50ull
#define DIRT         0xa5a5a5a5a5a5a5a5ull

static void put_char(char c)
{
    while (*UART_FLAGS & UART_TX_FULL) {
    }
    *UART_DATA = (uint32_t)(unsigned char)c;
}

static void put_text(const char *s)
{
    while (*s != '\0') {
        put_char(*s++);
    }
}

static void put_hex(uint64_t value)
{
    put_text("0x");
    for (int shift = 60; shift >= 0; shift -= 4) {
        put_char("0123456789abcdef"[(value >> shift) & 0xf]);
    }
}

static void psci(uint64_t function)
{
    register uint64_t x0 __asm__("x0") = function;
    __asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
}

struct area {
    uint64_t pa;
    uint64_t size;
    const char *what;
};

static struct area areas[32];
static unsigned n_areas;
static unsigned failures;

static void add_area(uint64_t pa, uint64_t size, const char *what)
{
    if (n_areas < sizeof areas / sizeof areas[0]) {
        areas[n_areas++] = (struct area){pa, size, what};
    }
}

static void fail(const char *what, uint64_t pa, uint64_t value)
{
    put_text("image-load-check: FAIL ");
    put_text(what);
    put_text(" at ");
    put_hex(pa);
    put_text(": ");
    put_hex(value);
    put_text("\n");
    failures++;
}

static void check_loaded(const struct pn_bootinfo *boot)
{
    const struct pn_boot_pd *pd = &boot->pds[0];
    for (uint32_t i = 0; i < pd->n_mappings; i++) {
        const struct pn_boot_mapping *mapping = &boot->mappings[pd->first_mapping + i];
        volatile const uint64_t *first = (volatile const uint64_t *)mapping->pa;
        if (mapping->ipa == PN_PD_CONFIG_IPA) {
            const volatile struct pn_config *config = (const volatile struct pn_config *)first;
            if (config->magic != PN_CONFIG_MAGIC || config->name[0] != pd->name[0]) {
                fail("configuration page", mapping->pa, config->magic);
            }
        } else if (mapping->ipa >= PN_PD_PROGRAM_IPA && mapping->ipa < PN_PD_PROGRAM_END &&
                   (mapping->rights & PN_RIGHT_WRITE) && *first != TEST_MARKER) {
            fail("program data marker", mapping->pa, *first);
        }
    }
}

/* Memory the loader must zero: stack, regions in RAM, the counter table in the program's bss. */
static void collect_zeroed_areas(const struct pn_bootinfo *boot)
{
    const struct pn_boot_pd *pd = &boot->pds[0];
    for (uint32_t i = 0; i < pd->n_mappings; i++) {
        const struct pn_boot_mapping *mapping = &boot->mappings[pd->first_mapping + i];
        if (mapping->ipa == PN_PD_STACK_TOP - PN_PD_STACK_SIZE) {
            add_area(mapping->pa, mapping->size, "stack");
        } else if (mapping->ipa >= PN_PD_REGIONS_IPA && mapping->pa >= PN_RAM_BASE) {
            add_area(mapping->pa, mapping->size, "region");
        }
    }
    if (pd->counters_pa != 0) {
        add_area(pd->counters_pa, sizeof(struct pn_counter_table), "counter table (bss)");
    }
}

static void check_zero(void)
{
    for (unsigned a = 0; a < n_areas; a++) {
        volatile const uint64_t *word = (volatile const uint64_t *)areas[a].pa;
        for (uint64_t i = 0; i < areas[a].size / 8; i++) {
            if (word[i] != 0) {
                fail(areas[a].what, areas[a].pa + 8 * i, word[i]);
                break;
            }
        }
    }
}

static void dirty(void)
{
    for (unsigned a = 0; a < n_areas; a++) {
        volatile uint64_t *word = (volatile uint64_t *)areas[a].pa;
        for (uint64_t i = 0; i < areas[a].size / 8; i++) {
            word[i] = DIRT;
        }
    }
}

void loadcheck_main(void)
{
    /* This kernel's own bss is a memory-only segment too: not zeroed on a reset. */
    n_areas = 0;
    failures = 0;
    const struct pn_bootinfo *boot = (const struct pn_bootinfo *)PN_BOOTINFO_PA;
    if (boot->magic != PN_BOOTINFO_MAGIC || boot->n_pds == 0) {
        fail("boot information", PN_BOOTINFO_PA, boot->magic);
        psci(PSCI_OFF);
        return;
    }
    volatile uint64_t *flag = (volatile uint64_t *)boot->free_start;
    bool second_boot = *flag == RESET_FLAG;
    check_loaded(boot);
    collect_zeroed_areas(boot);
    check_zero();
    if (!second_boot) {
        put_text("image-load-check: first boot: ");
        put_text(failures == 0 ? "loaded as packed" : "NOT loaded as packed");
        put_text("; dirtying memory-only segments and resetting\n");
        dirty();
        *flag = RESET_FLAG;
        psci(PSCI_RESET);
        return;
    }
    *flag = 0;
    put_text(failures == 0 ? "image-load-check: ok: after a reset, memory-only segments read "
                             "zero again and file contents are back\n"
                           : "image-load-check: FAILED\n");
    psci(PSCI_OFF);
}
