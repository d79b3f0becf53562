/*
 * What the kernel needs to start a VM, from a finished layout: its entry in
 * bootinfo.vms (vCPUs, passed-through interrupts, entry, device tree, RAM)
 * and one bootinfo.vcpus entry per vCPU; and the guest's device tree, from
 * what the layout decided (guest_dtb.c writes it).
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

void img_guest_bootargs(char *out, size_t size, const char *vm_bootargs,
                        enum sd_channel_driver channel_driver)
{
    const char *base =
        channel_driver == SD_CHANNEL_DRIVER_KERNEL ? IMG_GUEST_BOOTARGS_BASE : IMG_GUEST_BOOTARGS;
    snprintf(out, size, "%s%s%s", base, vm_bootargs[0] != '\0' ? " " : "", vm_bootargs);
}

void img_vm_dtb_spec(const struct img_plan *plan, int v, struct img_dtb_spec *spec)
{
    const struct sd_system *sys = plan->sys;
    const struct img_vm *vm = &plan->vm[v];
    const struct sd_pd *pd = &sys->pds[vm->pd];
    memset(spec, 0, sizeof *spec);
    spec->vcpus = pd->vm.vcpus;
    spec->ram_base = vm->ram_base;
    spec->ram_size = vm->ram_size;
    spec->has_initrd = vm->initrd != NULL;
    spec->initrd_start = vm->initrd_pa;
    spec->initrd_end = vm->initrd_pa + vm->initrd_size;
    spec->bootargs = pd->vm.bootargs;
    spec->channel_driver = pd->vm.channel_driver;
    spec->regions_in_ram = pd->vm.regions_in_guest_ram;
    for (uint32_t d = 0; d < pd->vm.n_devices; d++) {
        const struct sd_device *device = &sys->devices[sd_find_device(sys, pd->vm.devices[d])];
        spec->virtio[d].base = sd_device_mmio(device);
        spec->virtio[d].intid = sd_device_intid(device);
    }
    spec->n_virtio = pd->vm.n_devices;
    for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        int end;
        int c = sd_channel_of(sys, vm->pd, id, &end);
        if (c < 0) {
            continue;
        }
        struct img_dtb_uio *uio = &spec->uio[spec->n_uio++];
        uio->name = sys->channels[c].ends[end].name;
        uio->id = id;
        for (uint32_t m = 0; m < pd->n_maps; m++) {
            uint32_t owner;
            /* img_vm_check made sure no channel has more than IMG_UIO_MAX_REGIONS. */
            if (img_vm_map_channel(sys, vm->pd, (int)m, &owner) >= 0 && owner == id &&
                uio->n_regions < IMG_UIO_MAX_REGIONS) {
                uio->regions[uio->n_regions++] = (struct img_dtb_region){
                    .name = pd->maps[m].name,
                    .base = plan->pd[vm->pd].map_pa[m],
                    .size = sys->regions[pd->maps[m].region].size,
                };
            }
        }
    }
}

bool img_vm_fill_boot(struct img_plan *plan, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    struct pn_bootinfo *boot = &plan->bootinfo;
    boot->n_vms = plan->n_vms;
    boot->n_vcpus = 0;
    for (uint32_t v = 0; v < plan->n_vms; v++) {
        struct img_vm *vm = &plan->vm[v];
        const struct sd_pd *pd = &sys->pds[vm->pd];
        struct pn_boot_vm *boot_vm = &boot->vms[v];
        *boot_vm = (struct pn_boot_vm){
            .pd = (uint32_t)vm->pd,
            .n_vcpus = pd->vm.vcpus,
            .first_vcpu = vm->first_vcpu,
            .n_irqs = pd->vm.n_devices,
            .entry = vm->kernel_pa,
            .dtb = vm->dtb_pa,
            .ram_base = vm->ram_base,
            .ram_size = vm->ram_size,
        };
        for (uint32_t d = 0; d < pd->vm.n_devices; d++) {
            boot_vm->irqs[d] =
                sd_device_intid(&sys->devices[sd_find_device(sys, pd->vm.devices[d])]);
        }
        for (uint32_t k = 0; k < pd->vm.vcpus; k++) {
            uint32_t index = vm->first_vcpu + k;
            boot->vcpus[index] = (struct pn_boot_vcpu){
                .vm = v,
                .index = k,
                .core = (uint32_t)plan->placement->vcpu_core[vm->pd][k],
                .owner = PN_OWNER_VCPU_BASE + index,
            };
        }
        boot->n_vcpus += pd->vm.vcpus;

        struct img_dtb_spec *spec = malloc(sizeof *spec);
        if (spec == NULL) {
            return img_fail(err, "%s: out of memory", sys->source);
        }
        img_vm_dtb_spec(plan, (int)v, spec);
        char what[SD_PATH_MAX + 64];
        snprintf(what, sizeof what, "%s: VM \"%s\": device tree", sys->source, pd->name);
        bool ok = img_guest_dtb_build(spec, what, &vm->dtb, &vm->dtb_size, err);
        free(spec);
        if (!ok) {
            return false;
        }
    }
    return true;
}
