/*
 * pinion-image --dump, for VMs: their boot information entries checked
 * and shown, and what each guest is told, read back from its device tree
 * in the image (the names of its UIO devices and their regions, its
 * command line), so that the dump shows what the guest will see.
 */
#include "image_internal.h"

#include <inttypes.h>
#include <libfdt.h>
#include <string.h>

bool img_check_boot_vms(const char *path, const struct pn_bootinfo *boot, struct sd_error *err)
{
    if (boot->n_vms > PN_BOOT_MAX_VMS || boot->n_vcpus > PN_BOOT_MAX_VCPUS) {
        return img_fail(err, "%s: boot information is corrupt (%u VMs, %u vCPUs)", path,
                        boot->n_vms, boot->n_vcpus);
    }
    for (uint32_t v = 0; v < boot->n_vms; v++) {
        const struct pn_boot_vm *vm = &boot->vms[v];
        if (vm->pd >= boot->n_pds || vm->n_vcpus == 0 || vm->first_vcpu > boot->n_vcpus ||
            vm->n_vcpus > boot->n_vcpus - vm->first_vcpu || vm->n_irqs > PN_BOOT_VM_MAX_IRQS) {
            return img_fail(err, "%s: boot information is corrupt (VM %u)", path, v);
        }
    }
    for (uint32_t k = 0; k < boot->n_vcpus; k++) {
        if (boot->vcpus[k].vm >= boot->n_vms) {
            return img_fail(err, "%s: boot information is corrupt (vCPU %u)", path, k);
        }
    }
    return true;
}

/* The VM entry of PD `pd`, or NULL for a component. */
static const struct pn_boot_vm *vm_of_pd(const struct pn_bootinfo *boot, uint32_t pd)
{
    for (uint32_t v = 0; v < boot->n_vms; v++) {
        if (boot->vms[v].pd == pd) {
            return &boot->vms[v];
        }
    }
    return NULL;
}

/* The guest's device tree in the image, checked, or NULL. */
static const void *guest_dtb(const struct img_elf *image, const struct pn_boot_vm *vm)
{
    const uint8_t *header = img_image_bytes_at(image, vm->dtb, sizeof(struct fdt_header));
    if (header == NULL || fdt_magic(header) != FDT_MAGIC ||
        fdt_totalsize(header) > PN_GUEST_DTB_MAX ||
        img_image_bytes_at(image, vm->dtb, fdt_totalsize(header)) == NULL ||
        fdt_check_header(header) != 0) {
        return NULL;
    }
    return header;
}

/* The n-th (address, size) of a node's reg, two cells each as the guest tree writes them. */
static bool reg_entry(const void *fdt, int node, int n, uint64_t *address, uint64_t *size)
{
    int length;
    const fdt32_t *cells = fdt_getprop(fdt, node, "reg", &length);
    if (cells == NULL || length < (n + 1) * 16) {
        return false;
    }
    cells += 4 * n;
    *address = (uint64_t)fdt32_ld(&cells[0]) << 32 | fdt32_ld(&cells[1]);
    *size = (uint64_t)fdt32_ld(&cells[2]) << 32 | fdt32_ld(&cells[3]);
    return true;
}

/* The n-th string of a string-list property, copied (bounded) into out; false when none. */
static bool string_entry(const void *fdt, int node, const char *property, int n, char *out,
                         size_t size)
{
    int length;
    const char *text = fdt_stringlist_get(fdt, node, property, n, &length);
    if (text == NULL) {
        return false;
    }
    snprintf(out, size, "%.*s", length, text);
    return true;
}

const char *img_dump_vm_mapping_name(const struct img_elf *image, const struct pn_bootinfo *boot,
                                     uint32_t pd, const struct pn_boot_mapping *mapping, char *out,
                                     size_t size)
{
    const struct pn_boot_vm *vm = vm_of_pd(boot, pd);
    if (vm == NULL) {
        return NULL;
    }
    if (mapping->ipa == vm->ram_base && mapping->size == vm->ram_size) {
        return "ram";
    }
    const void *fdt = guest_dtb(image, vm);
    for (int node = fdt != NULL ? fdt_node_offset_by_compatible(fdt, -1, "generic-uio") : -1;
         node >= 0; node = fdt_node_offset_by_compatible(fdt, node, "generic-uio")) {
        uint64_t address, length;
        for (int n = 0; reg_entry(fdt, node, n, &address, &length); n++) {
            if (address == mapping->ipa && string_entry(fdt, node, "reg-names", n, out, size)) {
                return out;
            }
        }
    }
    /* A passed-through device's page: named after the (first) transport in it. */
    for (int node = fdt != NULL ? fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio") : -1;
         node >= 0; node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
        uint64_t address, length;
        const char *name = fdt_get_name(fdt, node, NULL);
        if (reg_entry(fdt, node, 0, &address, &length) && address >= mapping->ipa &&
            address - mapping->ipa < mapping->size && name != NULL) {
            snprintf(out, size, "%s", name);
            return out;
        }
    }
    return "?";
}

const char *img_dump_vm_channel_name(const struct img_elf *image, const struct pn_bootinfo *boot,
                                     uint32_t pd, uint32_t id, char *out, size_t size)
{
    const struct pn_boot_vm *vm = vm_of_pd(boot, pd);
    const void *fdt = vm != NULL ? guest_dtb(image, vm) : NULL;
    for (int node = fdt != NULL ? fdt_node_offset_by_compatible(fdt, -1, "generic-uio") : -1;
         node >= 0; node = fdt_node_offset_by_compatible(fdt, node, "generic-uio")) {
        int length;
        const fdt32_t *channel = fdt_getprop(fdt, node, "pinion,channel-id", &length);
        if (channel != NULL && length == 4 && fdt32_ld(channel) == id &&
            string_entry(fdt, node, "linux,uio-name", 0, out, size)) {
            return out;
        }
    }
    return vm != NULL ? "?" : NULL;
}

/* What the guest's device tree tells it: its command line and its UIO devices. */
static void print_guest_view(FILE *out, const void *fdt)
{
    int chosen = fdt_path_offset(fdt, "/chosen");
    const char *bootargs = chosen >= 0 ? fdt_getprop(fdt, chosen, "bootargs", NULL) : NULL;
    fprintf(out, "    bootargs: %s\n", bootargs != NULL ? bootargs : "(none)");
    for (int node = fdt_node_offset_by_compatible(fdt, -1, "generic-uio"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "generic-uio")) {
        char name[PN_NAME_MAX], map[PN_NAME_MAX];
        int length;
        const fdt32_t *irq = fdt_getprop(fdt, node, "interrupts", &length);
        uint32_t intid = irq != NULL && length == 12 ? fdt32_ld(&irq[1]) + 32 : 0;
        if (!string_entry(fdt, node, "linux,uio-name", 0, name, sizeof name)) {
            snprintf(name, sizeof name, "?");
        }
        fprintf(out, "    uio %s: INTID %u;", name, intid);
        uint64_t address, size;
        for (int n = 0; reg_entry(fdt, node, n, &address, &size); n++) {
            if (!string_entry(fdt, node, "reg-names", n, map, sizeof map)) {
                snprintf(map, sizeof map, "?");
            }
            fprintf(out, " map%d %s [0x%" PRIx64 ", 0x%" PRIx64 ")", n, map, address,
                    address + size);
        }
        fputc('\n', out);
    }
}

void img_print_vms(FILE *out, const struct img_elf *image, const struct pn_bootinfo *boot,
                   int width)
{
    if (boot->n_vms == 0) {
        return;
    }
    fprintf(out, "\nVMs\n");
    for (uint32_t v = 0; v < boot->n_vms; v++) {
        const struct pn_boot_vm *vm = &boot->vms[v];
        char ram[32];
        sd_format_size(ram, sizeof ram, vm->ram_size);
        fprintf(out,
                "  %s: %u vCPU%s, RAM [0x%" PRIx64 ", 0x%" PRIx64 ") (%s), entry 0x%" PRIx64
                ", device tree 0x%" PRIx64 "; passed-through INTIDs:",
                boot->pds[vm->pd].name, vm->n_vcpus, vm->n_vcpus == 1 ? "" : "s", vm->ram_base,
                vm->ram_base + vm->ram_size, ram, vm->entry, vm->dtb);
        for (uint32_t i = 0; i < vm->n_irqs; i++) {
            fprintf(out, " %u", vm->irqs[i]);
        }
        fprintf(out, "%s\n", vm->n_irqs == 0 ? " none" : "");
        const void *fdt = guest_dtb(image, vm);
        if (fdt != NULL) {
            print_guest_view(out, fdt);
        } else {
            fprintf(out, "    (no valid device tree at 0x%" PRIx64 " in the image)\n", vm->dtb);
        }
    }
    fprintf(out, "\nvCPUs\n  %2s  %-*s  %5s  %4s  %5s\n", "#", width, "vm", "index", "core",
            "owner");
    for (uint32_t k = 0; k < boot->n_vcpus; k++) {
        const struct pn_boot_vcpu *vcpu = &boot->vcpus[k];
        fprintf(out, "  %2u  %-*s  %5u  %4u  %5u\n", k, width,
                boot->pds[boot->vms[vcpu->vm].pd].name, vcpu->index, vcpu->core, vcpu->owner);
    }
}
