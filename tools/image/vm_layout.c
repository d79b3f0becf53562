/*
 * Virtual machines in the layout: what the boot information can hold, the
 * devices passed through to them (each belongs to one PD), their maps (at
 * IPA = PA, clear of the devices the kernel emulates, see guest_layout.h),
 * and their stage-2 mappings: RAM, device pages, maps.
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include <inttypes.h>
#include <string.h>

_Static_assert(SD_MAX_VM_DEVICES <= PN_BOOT_VM_MAX_IRQS, "a VM's devices must fit pn_boot_vm.irqs");
_Static_assert(SD_MAX_VCPUS <= PN_BOOT_MAX_VCPUS, "a VM's vCPUs must fit the boot information");
_Static_assert(PN_GUEST_CHANNEL_INTID + PN_CONFIG_MAX_CHANNELS <= PN_GUEST_SPI_LIMIT,
               "every channel id needs a virtual interrupt");

/* The page of a device's virtio-mmio transport: what a VM that has the device maps. */
static uint64_t device_page(const struct sd_system *sys, const char *name)
{
    return sd_device_mmio(&sys->devices[sd_find_device(sys, name)]) & ~(IMG_PAGE_SIZE - 1);
}

static bool overlaps(uint64_t start, uint64_t end, uint64_t other_start, uint64_t other_end)
{
    return start < other_end && other_start < end;
}

/* Nobody else may reach a passed-through device: no other PD's map of its page or its IRQ. */
static bool check_device(const struct img_plan *plan, int v, uint32_t d, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    int p = plan->vm[v].pd;
    const char *name = sys->pds[p].vm.devices[d];
    const struct sd_device *device = &sys->devices[sd_find_device(sys, name)];
    uint64_t page = device_page(sys, name), page_end = page + IMG_PAGE_SIZE;
    char what[SD_PATH_MAX + 2 * PN_NAME_MAX + 96];
    snprintf(what, sizeof what,
             "%s: VM \"%s\": device \"%s\" (virtio-mmio at 0x%" PRIx64 ", INTID %u)", sys->source,
             sys->pds[p].name, name, sd_device_mmio(device), sd_device_intid(device));
    for (uint32_t q = 0; q < sys->n_pds; q++) {
        const struct sd_pd *other = &sys->pds[q];
        for (uint32_t m = 0; (int)q != p && m < other->n_maps; m++) {
            const struct sd_region *region = &sys->regions[other->maps[m].region];
            if (other->maps[m].rights != 0 && region->has_phys &&
                overlaps(region->phys, region->phys + region->size, page, page_end)) {
                return img_fail(err,
                                "%s: the VM is given its page [0x%" PRIx64 ", 0x%" PRIx64
                                "), which %s \"%s\" also maps (map \"%s\", region \"%s\"); a "
                                "device belongs to one PD",
                                what, page, page_end, other->kind == SD_KIND_VM ? "VM" : "PD",
                                other->name, other->maps[m].name, region->name);
            }
        }
        for (uint32_t i = 0; i < other->n_irqs; i++) {
            if (other->irqs[i].irq == sd_device_intid(device)) {
                return img_fail(err,
                                "%s: PD \"%s\" also takes its interrupt (IRQ \"%s\"); a device "
                                "belongs to one PD",
                                what, other->name, other->irqs[i].name);
            }
        }
    }
    for (uint32_t w = 0; w < plan->n_vms; w++) {
        const struct sd_pd *other = &sys->pds[plan->vm[w].pd];
        for (uint32_t e = 0; (int)w != v && e < other->vm.n_devices; e++) {
            if (device_page(sys, other->vm.devices[e]) != page) {
                continue;
            }
            if (strcmp(other->vm.devices[e], name) == 0) {
                return img_fail(err, "%s: VM \"%s\" has it too; a device belongs to one PD", what,
                                other->name);
            }
            return img_fail(err,
                            "%s: its page [0x%" PRIx64 ", 0x%" PRIx64
                            ") also holds device \"%s\" of VM \"%s\"; each VM is given the whole "
                            "page, so their slots must be in different groups of 8",
                            what, page, page_end, other->vm.devices[e], other->name);
        }
    }
    return true;
}

struct window {
    const char *what;
    uint64_t start, end;
};

/* A VM map is at its region's PA and must stay clear of what the kernel emulates there. */
static bool check_map(const struct img_plan *plan, int v, uint32_t m, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    int p = plan->vm[v].pd;
    const struct sd_pd *pd = &sys->pds[p];
    const struct sd_map *map = &pd->maps[m];
    const struct sd_region *region = &sys->regions[map->region];
    char what[160];
    img_describe_map(what, sizeof what, sys, p, (int)m);
    if (map->rights == 0) {
        return true; /* nothing is mapped */
    }
    if (map->has_vaddr && region->has_phys && map->vaddr != region->phys) {
        return img_fail(err,
                        "%s: %s: vaddr 0x%" PRIx64
                        " is not the region's physical address 0x%" PRIx64
                        "; a VM sees regions at their physical addresses (IPA = PA) because "
                        "there is no IOMMU and the guest gives devices the addresses it sees; "
                        "leave \"vaddr\" out",
                        sys->source, what, map->vaddr, region->phys);
    }
    for (uint32_t n = 0; n < m; n++) {
        if (pd->maps[n].rights != 0 && pd->maps[n].region == map->region) {
            return img_fail(err,
                            "%s: %s: the region is mapped already (map \"%s\"); a VM sees a "
                            "region only at its physical address, so it maps each region once",
                            sys->source, what, pd->maps[n].name);
        }
    }
    if (!region->has_phys) {
        return true; /* in RAM, where nothing is emulated */
    }
    uint64_t start = region->phys, end = region->phys + region->size;
    if (end > PN_PD_IPA_LIMIT) {
        return img_fail(err,
                        "%s: %s: [0x%" PRIx64 ", 0x%" PRIx64
                        ") ends beyond 0x%llx, the end of a VM's address space (39 bits)",
                        sys->source, what, start, end, PN_PD_IPA_LIMIT);
    }
    const struct window emulated[] = {
        {"GICv3 distributor", PN_GUEST_GICD_BASE, PN_GUEST_GICD_BASE + PN_GUEST_GICD_SIZE},
        {"GICv3 redistributors", PN_GUEST_GICR_BASE,
         PN_GUEST_GICR_BASE + pd->vm.vcpus * PN_GUEST_GICR_STRIDE},
        {"PL011 UART", PN_GUEST_UART_BASE, PN_GUEST_UART_BASE + PN_GUEST_UART_SIZE},
        {"doorbells", PN_GUEST_DOORBELL_BASE,
         PN_GUEST_DOORBELL_BASE + PN_CONFIG_MAX_CHANNELS * PN_GUEST_DOORBELL_SIZE},
    };
    for (size_t w = 0; w < sizeof emulated / sizeof emulated[0]; w++) {
        if (overlaps(start, end, emulated[w].start, emulated[w].end)) {
            return img_fail(err,
                            "%s: %s: [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps the VM's emulated %s "
                            "[0x%" PRIx64 ", 0x%" PRIx64 ") (guest_layout.h)",
                            sys->source, what, start, end, emulated[w].what, emulated[w].start,
                            emulated[w].end);
        }
    }
    for (uint32_t d = 0; d < pd->vm.n_devices; d++) {
        uint64_t page = device_page(sys, pd->vm.devices[d]);
        if (overlaps(start, end, page, page + IMG_PAGE_SIZE)) {
            return img_fail(err,
                            "%s: %s: [0x%" PRIx64 ", 0x%" PRIx64
                            ") overlaps the page of passed-through device \"%s\" [0x%" PRIx64
                            ", 0x%" PRIx64 "), which the VM has already",
                            sys->source, what, start, end, pd->vm.devices[d], page,
                            page + IMG_PAGE_SIZE);
        }
    }
    return true;
}

int img_vm_map_channel(const struct sd_system *sys, int pd, int map, uint32_t *id)
{
    const char *name = sys->pds[pd].maps[map].name;
    int best = -1;
    size_t best_len = 0;
    if (sys->pds[pd].maps[map].rights == 0) {
        return -1; /* not mapped, so no use to a UIO device */
    }
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        for (int e = 0; e < 2; e++) {
            const struct sd_channel_end *end = &sys->channels[c].ends[e];
            size_t len = strlen(end->name);
            if (end->pd != pd || strncmp(name, end->name, len) != 0 ||
                (name[len] != '\0' && name[len] != '_') || (best >= 0 && len <= best_len)) {
                continue;
            }
            best = (int)c;
            best_len = len;
            *id = end->id;
        }
    }
    return best;
}

/* A UIO device shows the doorbell and at most IMG_UIO_MAX_REGIONS more maps. */
static bool check_channel_maps(const struct img_plan *plan, int v, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    int p = plan->vm[v].pd;
    for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        int end;
        int c = sd_channel_of(sys, p, id, &end);
        uint32_t count = 0, owner;
        for (uint32_t m = 0; c >= 0 && m < sys->pds[p].n_maps; m++) {
            if (img_vm_map_channel(sys, p, (int)m, &owner) >= 0 && owner == id &&
                ++count > IMG_UIO_MAX_REGIONS) {
                const char *name = sys->channels[c].ends[end].name;
                return img_fail(err,
                                "%s: VM \"%s\": channel \"%s\": map \"%s\" is its %uth map named "
                                "\"%s\" or \"%s_...\"; its UIO device holds the doorbell and at "
                                "most %d maps",
                                sys->source, sys->pds[p].name, name, sys->pds[p].maps[m].name,
                                count, name, name, IMG_UIO_MAX_REGIONS);
            }
        }
    }
    return true;
}

bool img_vm_check(struct img_plan *plan, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    const struct sd_placement *placement = plan->placement;
    uint32_t vcpus = 0;
    plan->n_vms = 0;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        const struct sd_pd *pd = &sys->pds[p];
        if (pd->kind != SD_KIND_VM) {
            continue;
        }
        if (plan->n_vms == PN_BOOT_MAX_VMS) {
            return img_fail(err, "%s: VM \"%s\": more than %d VMs (boot information holds %d)",
                            sys->source, pd->name, PN_BOOT_MAX_VMS, PN_BOOT_MAX_VMS);
        }
        if (vcpus + pd->vm.vcpus > PN_BOOT_MAX_VCPUS) {
            return img_fail(err,
                            "%s: VM \"%s\": its %u vCPUs make %u in the system, more than the %d "
                            "the boot information holds",
                            sys->source, pd->name, pd->vm.vcpus, vcpus + pd->vm.vcpus,
                            PN_BOOT_MAX_VCPUS);
        }
        plan->vm[plan->n_vms] = (struct img_vm){.pd = (int)p, .first_vcpu = vcpus};
        plan->n_vms++;
        vcpus += pd->vm.vcpus;
        for (uint32_t k = 0; k < pd->vm.vcpus; k++) {
            int core = placement->vcpu_core[p][k];
            if (core < 0 || (uint32_t)core >= placement->cores) {
                return img_fail(err,
                                "%s: VM \"%s\": vCPU %u is on core %d, out of range 0..%u "
                                "(\"cores\" is %u)",
                                placement->source, pd->name, k, core, placement->cores - 1,
                                placement->cores);
            }
        }
    }
    for (uint32_t v = 0; v < plan->n_vms; v++) {
        const struct sd_pd *pd = &sys->pds[plan->vm[v].pd];
        for (uint32_t d = 0; d < pd->vm.n_devices; d++) {
            if (!check_device(plan, (int)v, d, err)) {
                return false;
            }
        }
        for (uint32_t m = 0; m < pd->n_maps; m++) {
            if (!check_map(plan, (int)v, m, err)) {
                return false;
            }
        }
        if (!check_channel_maps(plan, (int)v, err)) {
            return false;
        }
    }
    return true;
}

/* RAM, then each passed-through device's page (once per page), then the maps. */
bool img_vm_place(struct img_plan *plan, int v, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    struct img_vm *vm = &plan->vm[v];
    const struct sd_pd *desc = &sys->pds[vm->pd];
    struct img_pd *pd = &plan->pd[vm->pd];
    struct pn_boot_pd *boot_pd = &plan->bootinfo.pds[vm->pd];
    struct img_guest_offsets at = img_guest_offsets(vm);
    vm->dtb_pa = vm->ram_base + PN_GUEST_DTB_OFFSET;
    vm->kernel_pa = vm->ram_base + at.kernel;
    vm->initrd_pa = vm->initrd != NULL ? vm->ram_base + at.initrd : 0;
    boot_pd->first_mapping = plan->bootinfo.n_mappings;
    if (!img_add_mapping(plan, "ram", vm->ram_base, vm->ram_base, vm->ram_size,
                         PN_RIGHT_READ | PN_RIGHT_WRITE | PN_RIGHT_EXECUTE, PN_MAP_NORMAL, err)) {
        return false;
    }
    for (uint32_t d = 0; d < desc->vm.n_devices; d++) {
        uint64_t page = device_page(sys, desc->vm.devices[d]);
        bool mapped = false;
        for (uint32_t e = 0; e < d; e++) {
            mapped = mapped || device_page(sys, desc->vm.devices[e]) == page;
        }
        if (!mapped && !img_add_mapping(plan, desc->vm.devices[d], page, page, IMG_PAGE_SIZE,
                                        PN_RIGHT_READ | PN_RIGHT_WRITE, PN_MAP_DEVICE, err)) {
            return false;
        }
    }
    for (uint32_t m = 0; m < desc->n_maps; m++) {
        const struct sd_map *map = &desc->maps[m];
        uint64_t pa = plan->region_pa[map->region];
        pd->map_pa[m] = pa;
        if (map->rights == 0) {
            continue; /* known by physical address only: nothing to map */
        }
        if (map->has_vaddr && map->vaddr != pa) {
            char what[160];
            img_describe_map(what, sizeof what, sys, vm->pd, (int)m);
            return img_fail(err,
                            "%s: %s: vaddr 0x%" PRIx64 " is not the physical address the packer "
                            "gave the region, 0x%" PRIx64
                            "; a VM sees regions at their physical addresses (IPA = PA) because "
                            "there is no IOMMU and the guest gives devices the addresses it "
                            "sees; leave \"vaddr\" out",
                            sys->source, what, map->vaddr, pa);
        }
        pd->map_ipa[m] = pa;
        if (!img_add_mapping(plan, map->name, pa, pa, sys->regions[map->region].size, map->rights,
                             map->cached ? PN_MAP_NORMAL : PN_MAP_DEVICE, err)) {
            return false;
        }
    }
    boot_pd->n_mappings = plan->bootinfo.n_mappings - boot_pd->first_mapping;
    return true;
}
