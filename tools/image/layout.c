/*
 * Planning an image: which PD sees what at which IPA, where everything goes
 * in physical memory, and the mappings that tie the two together. The boot
 * information and the configurations are filled from the plan by
 * bootinfo.c; what only VMs have is in vm_layout.c, guest_files.c and
 * vm_boot.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* sizeof(struct pn_config) and the PD counts must fit what the kernel reads. */
_Static_assert(SD_MAX_PDS <= PN_BOOT_MAX_PDS, "more PDs in a system than bootinfo holds");
_Static_assert(SD_MAX_PDS < PN_BOOT_NO_PD, "PD indices must not reach PN_BOOT_NO_PD");

bool img_fail(struct sd_error *err, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return false;
}

uint64_t img_align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

struct img_plan *img_plan_new(void)
{
    return calloc(1, sizeof(struct img_plan));
}

void img_plan_free(struct img_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    for (size_t i = 0; i < SD_MAX_PDS; i++) {
        img_elf_free(&plan->pd[i].program);
    }
    for (size_t v = 0; v < PN_BOOT_MAX_VMS; v++) {
        struct img_vm *vm = &plan->vm[v];
        free(vm->kernel_path);
        free(vm->kernel);
        free(vm->initrd_path);
        free(vm->initrd);
        free(vm->dtb);
    }
    free(plan);
}

/* Large regions get 2 MiB alignment, so that the kernel can map them with blocks. */
static uint64_t region_alignment(uint64_t size)
{
    return size >= IMG_BLOCK_SIZE ? IMG_BLOCK_SIZE : IMG_PAGE_SIZE;
}

void img_describe_map(char *out, size_t size, const struct sd_system *sys, int pd, int map)
{
    const struct sd_map *m = &sys->pds[pd].maps[map];
    snprintf(out, size, "%s \"%s\": map \"%s\" (region \"%s\")",
             sys->pds[pd].kind == SD_KIND_VM ? "VM" : "PD", sys->pds[pd].name, m->name,
             sys->regions[m->region].name);
}

int img_vm_of_pd(const struct img_plan *plan, int pd)
{
    for (uint32_t v = 0; v < plan->n_vms; v++) {
        if (plan->vm[v].pd == pd) {
            return (int)v;
        }
    }
    return -1;
}

/* The PD's maps at given addresses must lie in the window the packer leaves for regions. */
static bool check_given_ipas(const struct sd_system *sys, int pd, struct sd_error *err)
{
    for (uint32_t m = 0; m < sys->pds[pd].n_maps; m++) {
        const struct sd_map *map = &sys->pds[pd].maps[m];
        if (!map->has_vaddr) {
            continue;
        }
        uint64_t end = map->vaddr + sys->regions[map->region].size;
        char what[160];
        img_describe_map(what, sizeof what, sys, pd, (int)m);
        if (map->vaddr < PN_PD_REGIONS_IPA) {
            return img_fail(err,
                            "%s: %s: vaddr 0x%" PRIx64
                            " is below 0x%llx, where regions start (below it are the PD's "
                            "configuration, program and stack)",
                            sys->source, what, map->vaddr, PN_PD_REGIONS_IPA);
        }
        if (end > PN_PD_IPA_LIMIT) {
            return img_fail(err,
                            "%s: %s: [0x%" PRIx64 ", 0x%" PRIx64
                            ") ends beyond 0x%llx, the end of a PD's address space (39 bits)",
                            sys->source, what, map->vaddr, end, PN_PD_IPA_LIMIT);
        }
    }
    return true;
}

/*
 * Maps without a vaddr get the lowest free address from PN_PD_REGIONS_IPA
 * up, in description order, so the same description always gives the same
 * addresses and adding a map moves none placed before it.
 */
static bool assign_ipas(struct img_plan *plan, int pd, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    const struct sd_pd *desc = &sys->pds[pd];
    uint64_t *ipa = plan->pd[pd].map_ipa;
    bool placed[PN_CONFIG_MAX_REGIONS] = {false};
    bool unmapped[PN_CONFIG_MAX_REGIONS] = {false};
    for (uint32_t m = 0; m < desc->n_maps; m++) {
        if (desc->maps[m].rights == 0) {
            unmapped[m] = true; /* rights "none": no address, only its physical one */
            ipa[m] = 0;
        } else if (desc->maps[m].has_vaddr) {
            ipa[m] = desc->maps[m].vaddr;
            placed[m] = true;
        }
    }
    for (uint32_t m = 0; m < desc->n_maps; m++) {
        if (placed[m] || unmapped[m]) {
            continue;
        }
        uint64_t size = sys->regions[desc->maps[m].region].size;
        uint64_t alignment = region_alignment(size);
        uint64_t candidate = img_align_up(PN_PD_REGIONS_IPA, alignment);
        bool moved = true;
        while (moved && candidate <= PN_PD_IPA_LIMIT && size <= PN_PD_IPA_LIMIT - candidate) {
            moved = false;
            for (uint32_t other = 0; other < desc->n_maps; other++) {
                if (!placed[other]) {
                    continue;
                }
                uint64_t other_end = ipa[other] + sys->regions[desc->maps[other].region].size;
                if (candidate < other_end && ipa[other] < candidate + size) {
                    candidate = img_align_up(other_end, alignment);
                    moved = true;
                }
            }
        }
        if (candidate > PN_PD_IPA_LIMIT || size > PN_PD_IPA_LIMIT - candidate) {
            char what[160], shown[32];
            img_describe_map(what, sizeof what, sys, pd, (int)m);
            sd_format_size(shown, sizeof shown, size);
            return img_fail(err,
                            "%s: %s: no room for %s between 0x%llx and 0x%llx beside the PD's "
                            "other maps",
                            sys->source, what, shown, PN_PD_REGIONS_IPA, PN_PD_IPA_LIMIT);
        }
        ipa[m] = candidate;
        placed[m] = true;
    }
    return true;
}

/* Physical memory handed out upward from PN_PD_MEMORY_PA; the first item past RAM is remembered. */
struct allocator {
    uint64_t next;
    uint64_t ram_end;
    char first_overflow[160]; /* what crossed the end of RAM first, "" while all fits */
    uint64_t first_overflow_end;
};

static uint64_t allocate(struct allocator *memory, uint64_t size, uint64_t alignment,
                         const char *what)
{
    uint64_t start = img_align_up(memory->next, alignment);
    memory->next = start + size;
    if (memory->next > memory->ram_end && memory->first_overflow[0] == '\0') {
        char shown[32];
        sd_format_size(shown, sizeof shown, size);
        snprintf(memory->first_overflow, sizeof memory->first_overflow, "%s (%s)", what, shown);
        memory->first_overflow_end = memory->next;
    }
    return start;
}

static bool region_is_mapped(const struct sd_system *sys, int region)
{
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        for (uint32_t m = 0; m < sys->pds[p].n_maps; m++) {
            if (sys->pds[p].maps[m].region == region) {
                return true;
            }
        }
    }
    return false;
}

/* A device region inside the RAM the packer hands out would alias PD or kernel memory. */
static bool check_phys_regions(const struct img_plan *plan, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    uint64_t ram_end = PN_RAM_BASE + plan->memory;
    for (uint32_t r = 0; r < sys->n_regions; r++) {
        const struct sd_region *region = &sys->regions[r];
        if (region->has_phys && region->phys < ram_end &&
            PN_RAM_BASE < region->phys + region->size) {
            return img_fail(err,
                            "%s: region \"%s\": phys [0x%" PRIx64 ", 0x%" PRIx64
                            ") overlaps RAM [0x%llx, 0x%" PRIx64 "), which the packer lays out",
                            sys->source, region->name, region->phys, region->phys + region->size,
                            PN_RAM_BASE, ram_end);
        }
    }
    return true;
}

static void layout_memory(struct img_plan *plan, struct allocator *memory)
{
    const struct sd_system *sys = plan->sys;
    char what[160];
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        struct img_pd *pd = &plan->pd[p];
        const char *name = sys->pds[p].name;
        int v = img_vm_of_pd(plan, (int)p);
        if (v >= 0) {
            /* Its RAM only: the guest's pieces go inside (img_vm_place). */
            snprintf(what, sizeof what, "VM \"%s\" RAM", name);
            plan->vm[v].ram_size = sys->pds[p].vm.memory;
            plan->vm[v].ram_base = allocate(memory, plan->vm[v].ram_size, IMG_BLOCK_SIZE, what);
            continue;
        }
        snprintf(what, sizeof what, "PD \"%s\" configuration", name);
        pd->config_pa = allocate(memory, plan->config_size, IMG_PAGE_SIZE, what);
        for (uint32_t s = 0; s < pd->program.n_segments; s++) {
            snprintf(what, sizeof what, "PD \"%s\" program segment %u", name, s);
            pd->segment_pa[s] =
                allocate(memory, img_align_up(pd->program.segments[s].memsz, IMG_PAGE_SIZE),
                         IMG_PAGE_SIZE, what);
        }
        snprintf(what, sizeof what, "PD \"%s\" stack", name);
        pd->stack_pa = allocate(memory, PN_PD_STACK_SIZE, IMG_PAGE_SIZE, what);
    }
    for (uint32_t r = 0; r < sys->n_regions; r++) {
        const struct sd_region *region = &sys->regions[r];
        if (region->has_phys) {
            plan->region_pa[r] = region->phys;
        } else if (region_is_mapped(sys, (int)r)) {
            snprintf(what, sizeof what, "region \"%s\"", region->name);
            plan->region_pa[r] =
                allocate(memory, region->size, region_alignment(region->size), what);
            plan->region_placed[r] = true;
        }
    }
}

static bool check_fits(const struct img_plan *plan, const struct allocator *memory,
                       struct sd_error *err)
{
    uint64_t free_start = img_align_up(memory->next, IMG_BLOCK_SIZE);
    uint64_t needed = free_start + IMG_KERNEL_FREE_MIN - PN_RAM_BASE;
    if (needed <= plan->memory) {
        return true;
    }
    /* needed is a multiple of 2 MiB, so the suggestion in MiB is exact. */
    char have[32], need[32];
    sd_format_size(have, sizeof have, plan->memory);
    sd_format_size(need, sizeof need, needed);
    if (memory->first_overflow[0] != '\0') {
        return img_fail(err,
                        "%s: does not fit in %s of RAM: %s would end at 0x%" PRIx64
                        ", beyond 0x%" PRIx64 "; the image needs %s (--memory %" PRIu64 "MiB)",
                        plan->sys->source, have, memory->first_overflow, memory->first_overflow_end,
                        (uint64_t)(PN_RAM_BASE + plan->memory), need, needed >> 20);
    }
    return img_fail(err,
                    "%s: does not fit in %s of RAM: the PDs' memory ends at 0x%" PRIx64
                    ", leaving the kernel less than %llu MiB for its tables; the image needs %s "
                    "(--memory %" PRIu64 "MiB)",
                    plan->sys->source, have, memory->next,
                    (unsigned long long)(IMG_KERNEL_FREE_MIN >> 20), need, needed >> 20);
}

static uint32_t rights_of_segment(uint32_t flags)
{
    return ((flags & PF_R) ? PN_RIGHT_READ : 0) | ((flags & PF_W) ? PN_RIGHT_WRITE : 0) |
           ((flags & PF_X) ? PN_RIGHT_EXECUTE : 0);
}

bool img_add_mapping(struct img_plan *plan, const char *name, uint64_t ipa, uint64_t pa,
                     uint64_t size, uint32_t rights, uint32_t attr, struct sd_error *err)
{
    struct pn_bootinfo *boot = &plan->bootinfo;
    if (boot->n_mappings == PN_BOOT_MAX_MAPPINGS) {
        return img_fail(err, "%s: more than %d mappings in the system (boot information holds %d)",
                        plan->sys->source, PN_BOOT_MAX_MAPPINGS, PN_BOOT_MAX_MAPPINGS);
    }
    snprintf(plan->mapping_name[boot->n_mappings], PN_NAME_MAX, "%s", name);
    boot->mappings[boot->n_mappings++] = (struct pn_boot_mapping){
        .ipa = ipa, .pa = pa, .size = size, .rights = rights, .attr = attr};
    return true;
}

/* Config, program segments, stack, then the maps in description order. */
static bool add_mappings(struct img_plan *plan, int p, struct sd_error *err)
{
    const struct sd_pd *desc = &plan->sys->pds[p];
    struct img_pd *pd = &plan->pd[p];
    struct pn_boot_pd *boot_pd = &plan->bootinfo.pds[p];
    boot_pd->first_mapping = plan->bootinfo.n_mappings;
    if (!img_add_mapping(plan, "config", PN_PD_CONFIG_IPA, pd->config_pa, plan->config_size,
                         PN_RIGHT_READ, PN_MAP_NORMAL, err)) {
        return false;
    }
    for (uint32_t s = 0; s < pd->program.n_segments; s++) {
        const struct img_segment *segment = &pd->program.segments[s];
        if (!img_add_mapping(plan, "program", segment->vaddr, pd->segment_pa[s],
                             img_align_up(segment->memsz, IMG_PAGE_SIZE),
                             rights_of_segment(segment->flags), PN_MAP_NORMAL, err)) {
            return false;
        }
    }
    if (!img_add_mapping(plan, "stack", PN_PD_STACK_TOP - PN_PD_STACK_SIZE, pd->stack_pa,
                         PN_PD_STACK_SIZE, PN_RIGHT_READ | PN_RIGHT_WRITE, PN_MAP_NORMAL, err)) {
        return false;
    }
    for (uint32_t m = 0; m < desc->n_maps; m++) {
        const struct sd_map *map = &desc->maps[m];
        pd->map_pa[m] = plan->region_pa[map->region];
        if (map->rights == 0) {
            continue; /* known by physical address only: nothing to map */
        }
        if (!img_add_mapping(plan, map->name, pd->map_ipa[m], pd->map_pa[m],
                             plan->sys->regions[map->region].size, map->rights,
                             map->cached ? PN_MAP_NORMAL : PN_MAP_DEVICE, err)) {
            return false;
        }
    }
    boot_pd->n_mappings = plan->bootinfo.n_mappings - boot_pd->first_mapping;
    return true;
}

static bool check_system(const struct img_plan *plan, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    const struct sd_placement *placement = plan->placement;
    if (placement->cores < 1 || placement->cores > PN_BOOT_MAX_CORES) {
        return img_fail(err, "%s: the placement needs %u cores; the kernel starts 1 to %d",
                        placement->source, placement->cores, PN_BOOT_MAX_CORES);
    }
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        if (placement->core[p] < 0 || (uint32_t)placement->core[p] >= placement->cores) {
            return img_fail(err,
                            "%s: PD \"%s\" is on core %d, out of range 0..%u (\"cores\" is %u)",
                            placement->source, sys->pds[p].name, placement->core[p],
                            placement->cores - 1, placement->cores);
        }
    }
    return true;
}

static bool read_programs(struct img_plan *plan, const char *programs_dir, struct sd_error *err)
{
    for (uint32_t p = 0; p < plan->sys->n_pds; p++) {
        if (plan->sys->pds[p].kind == SD_KIND_VM) {
            continue; /* a VM runs its guest kernel (img_vm_read_guests) */
        }
        const char *program = plan->sys->pds[p].program;
        size_t len = strlen(programs_dir) + strlen(program) + 8;
        char *path = malloc(len);
        if (path == NULL) {
            return img_fail(err, "%s: out of memory", programs_dir);
        }
        snprintf(path, len, "%s/%s.elf", programs_dir, program);
        bool ok = img_elf_read(path, &plan->pd[p].program, err) &&
                  img_check_program(&plan->pd[p].program, err);
        free(path);
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool img_plan_build(struct img_plan *plan, const struct sd_system *sys,
                    const struct sd_placement *placement, const char *programs_dir, uint64_t memory,
                    struct sd_error *err)
{
    plan->sys = sys;
    plan->placement = placement;
    plan->memory = memory;
    plan->config_size = img_align_up(sizeof(struct pn_config), IMG_PAGE_SIZE);
    if (!check_system(plan, err) || !check_phys_regions(plan, err) || !img_vm_check(plan, err)) {
        return false;
    }
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        if (sys->pds[p].kind == SD_KIND_VM) {
            continue; /* a VM's maps are at their regions' PAs (img_vm_place) */
        }
        if (!check_given_ipas(sys, (int)p, err) || !assign_ipas(plan, (int)p, err)) {
            return false;
        }
    }
    if (!read_programs(plan, programs_dir, err) || !img_vm_read_guests(plan, err)) {
        return false;
    }
    struct allocator allocator = {.next = PN_PD_MEMORY_PA, .ram_end = PN_RAM_BASE + memory};
    layout_memory(plan, &allocator);
    if (!check_fits(plan, &allocator, err)) {
        return false;
    }
    plan->bootinfo.free_start = img_align_up(allocator.next, IMG_BLOCK_SIZE);
    plan->bootinfo.free_end = PN_RAM_BASE + memory;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        int v = img_vm_of_pd(plan, (int)p);
        if (v >= 0 ? !img_vm_place(plan, v, err) : !add_mappings(plan, (int)p, err)) {
            return false;
        }
    }
    return img_fill_boot(plan, err) && img_vm_fill_boot(plan, err);
}
