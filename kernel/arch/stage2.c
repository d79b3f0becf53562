/*
 * Stage-2 translation, one tree per PD: the PD's isolation. 39-bit IPAs
 * starting at level 1 with a 4 KiB granule, so a root is one page. Only
 * what the boot information maps is reachable; everything else faults to
 * the kernel. Tables come from a bump allocator over the memory the packer
 * left free.
 */
#include "arch.h"
#include "sysreg.h"

#include <pinion/pd_layout.h>

#define PAGE_SIZE            4096ull
#define BLOCK_2M             (2ull << 20)
#define DESC_VALID           1ull
#define DESC_TABLE           3ull
#define DESC_PAGE            3ull
#define DESC_BLOCK           1ull
#define DESC_AF              (1ull << 10)
#define DESC_SH_INNER        (3ull << 8)
#define DESC_XN              (1ull << 54)
#define S2AP_READ            (1ull << 6)
#define S2AP_WRITE           (1ull << 7)
#define MEMATTR_NORMAL_WB    (0xfull << 2)
#define MEMATTR_DEVICE_NGNRE (0x1ull << 2)
#define ADDRESS_MASK         0x0000fffffffff000ull

static uint64_t pool_next, pool_start, pool_end;

void stage2_init(uint64_t start, uint64_t end)
{
    pool_start = pool_next = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    pool_end = end;
}

uint64_t stage2_pool_used(void)
{
    return pool_next - pool_start;
}

static uint64_t *new_table(void)
{
    if (pool_next + PAGE_SIZE > pool_end) {
        return 0;
    }
    uint64_t *table = (uint64_t *)(uintptr_t)pool_next;
    pool_next += PAGE_SIZE;
    for (int i = 0; i < 512; i++) {
        table[i] = 0;
    }
    return table;
}

uint64_t *stage2_new_root(void)
{
    return new_table();
}

static uint64_t leaf_bits(uint32_t rights, uint32_t attr)
{
    uint64_t bits = DESC_AF;
    if (rights & PN_RIGHT_READ) {
        bits |= S2AP_READ;
    }
    if (rights & PN_RIGHT_WRITE) {
        bits |= S2AP_WRITE;
    }
    if (!(rights & PN_RIGHT_EXECUTE)) {
        bits |= DESC_XN;
    }
    bits |= attr == PN_MAP_DEVICE ? MEMATTR_DEVICE_NGNRE : MEMATTR_NORMAL_WB | DESC_SH_INNER;
    return bits;
}

/* The next-level table behind entry `index`, made if absent; 0 if a leaf is in the way. */
static uint64_t *walk(uint64_t *table, unsigned index)
{
    uint64_t entry = table[index];
    if ((entry & 3) == DESC_TABLE) {
        return (uint64_t *)(uintptr_t)(entry & ADDRESS_MASK);
    }
    if (entry & DESC_VALID) {
        return 0;
    }
    uint64_t *next = new_table();
    if (next) {
        table[index] = (uint64_t)(uintptr_t)next | DESC_TABLE;
    }
    return next;
}

bool stage2_map(uint64_t *root, uint64_t ipa, uint64_t pa, uint64_t size, uint32_t rights,
                uint32_t attr, const char **why)
{
    if ((ipa | pa | size) & (PAGE_SIZE - 1)) {
        *why = "not page aligned";
        return false;
    }
    if (ipa + size > PN_PD_IPA_LIMIT || ipa + size < ipa) {
        *why = "beyond the 39-bit IPA range";
        return false;
    }
    uint64_t leaf = leaf_bits(rights, attr);
    while (size) {
        uint64_t *l2 = walk(root, (unsigned)((ipa >> 30) & 511));
        if (l2 == 0) {
            *why = "out of table memory, or overlaps a block";
            return false;
        }
        unsigned i2 = (unsigned)((ipa >> 21) & 511);
        if (((ipa | pa) & (BLOCK_2M - 1)) == 0 && size >= BLOCK_2M && l2[i2] == 0) {
            l2[i2] = pa | leaf | DESC_BLOCK;
            ipa += BLOCK_2M, pa += BLOCK_2M, size -= BLOCK_2M;
            continue;
        }
        uint64_t *l3 = walk(l2, i2);
        if (l3 == 0) {
            *why = "out of table memory, or overlaps a block";
            return false;
        }
        unsigned i3 = (unsigned)((ipa >> 12) & 511);
        if (l3[i3] & DESC_VALID) {
            *why = "overlaps an earlier mapping";
            return false;
        }
        l3[i3] = pa | leaf | DESC_PAGE;
        ipa += PAGE_SIZE, pa += PAGE_SIZE, size -= PAGE_SIZE;
    }
    dsb_ish();
    return true;
}

/* The PA of one readable page's start, or 0. */
static uint64_t translate_page(const uint64_t *root, uint64_t page)
{
    uint64_t entry = root[(page >> 30) & 511];
    if ((entry & 3) != DESC_TABLE) {
        return 0;
    }
    const uint64_t *l2 = (const uint64_t *)(uintptr_t)(entry & ADDRESS_MASK);
    entry = l2[(page >> 21) & 511];
    uint64_t pa;
    if ((entry & 3) == DESC_BLOCK) {
        pa = (entry & ADDRESS_MASK & ~(BLOCK_2M - 1)) + (page & (BLOCK_2M - 1));
    } else if ((entry & 3) == DESC_TABLE) {
        const uint64_t *l3 = (const uint64_t *)(uintptr_t)(entry & ADDRESS_MASK);
        entry = l3[(page >> 12) & 511];
        if ((entry & 3) != DESC_PAGE) {
            return 0;
        }
        pa = entry & ADDRESS_MASK;
    } else {
        return 0;
    }
    return (entry & S2AP_READ) ? pa : 0;
}

uint64_t stage2_translate(const uint64_t *root, uint64_t ipa, uint64_t len)
{
    if (len == 0 || ipa >= PN_PD_IPA_LIMIT || PN_PD_IPA_LIMIT - ipa < len) {
        return 0;
    }
    uint64_t first_page = ipa & ~(PAGE_SIZE - 1);
    uint64_t first_pa = translate_page(root, first_page);
    if (first_pa == 0) {
        return 0;
    }
    /* The kernel reads the range as one piece: it must be physically contiguous. */
    for (uint64_t page = first_page + PAGE_SIZE; page < ipa + len; page += PAGE_SIZE) {
        if (translate_page(root, page) != first_pa + (page - first_page)) {
            return 0;
        }
    }
    return first_pa + (ipa - first_page);
}

void stage2_enable_cpu(void)
{
    /* 39-bit IPA (T0SZ 25) from level 1 (SL0 1), WB walks, inner shareable,
       4 KiB granule, 40-bit PA; bit 31 is RES1. */
    uint64_t vtcr =
        25 | (1u << 6) | (1u << 8) | (1u << 10) | (3u << 12) | (2ull << 16) | (1u << 31);
    write_sysreg(vtcr_el2, vtcr);
    isb();
}
