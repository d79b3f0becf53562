/* Shared between the packer's parts; not for users of the library. */
#ifndef PINION_IMAGE_INTERNAL_H
#define PINION_IMAGE_INTERNAL_H

#include "image.h"

/* Fills err->message (callers start it with the file at fault); returns false for tail calls. */
bool img_fail(struct sd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

uint64_t img_align_up(uint64_t value, uint64_t alignment); /* alignment: a power of two */

/* Appends a mapping to the boot information, named for the manifest. */
bool img_add_mapping(struct img_plan *plan, const char *name, uint64_t ipa, uint64_t pa,
                     uint64_t size, uint32_t rights, uint32_t attr, struct sd_error *err);

/* "PD \"a\": map \"m\" (region \"r\")" for messages. */
void img_describe_map(char *out, size_t size, const struct sd_system *sys, int pd, int map);

/* Index of PD `pd`'s VM in plan->vm, or -1 for a component. */
int img_vm_of_pd(const struct img_plan *plan, int pd);

/*
 * VMs, before memory is laid out (vm_layout.c): counts against what the
 * boot information holds, vCPU cores, passed-through devices that someone
 * else also has, and the VM's maps (IPA = PA, clear of the emulated
 * devices). Fills plan->vm[].pd and plan->n_vms.
 */
bool img_vm_check(struct img_plan *plan, struct sd_error *err);

/*
 * Reads each VM's kernel and initrd (guest_files.c), checks the kernel is
 * an arm64 Image and that both fit the VM's RAM with IMG_GUEST_LINUX_MIN
 * to spare.
 */
bool img_vm_read_guests(struct img_plan *plan, struct sd_error *err);

/* Offsets in a guest's RAM: its kernel, its initrd (0 without one), the end of both. */
struct img_guest_offsets {
    uint64_t kernel; /* PN_GUEST_KERNEL_OFFSET + text_offset */
    uint64_t initrd; /* after the kernel's image_size, on a 2 MiB boundary */
    uint64_t end;
};
struct img_guest_offsets img_guest_offsets(const struct img_vm *vm);

/*
 * Once every VM's RAM and every region has its PA: the VM's pieces, its map
 * addresses (a given vaddr must be the region's PA), its mappings: RAM,
 * device pages, maps (vm_layout.c).
 */
bool img_vm_place(struct img_plan *plan, int v, struct sd_error *err);

/*
 * The channel whose UIO device shows VM map `map` of PD `pd`: the channel
 * end at the VM whose local name is the map's name or, followed by '_',
 * begins it (the longest such name); -1 when none, or the map has rights
 * "none". *id is that end's channel id.
 */
int img_vm_map_channel(const struct sd_system *sys, int pd, int map, uint32_t *id);

/* The VM and vCPU entries of the boot information and each guest's device tree (vm_boot.c). */
bool img_vm_fill_boot(struct img_plan *plan, struct sd_error *err);

/*
 * The guest's whole command line: IMG_GUEST_BOOTARGS (IMG_GUEST_BOOTARGS_BASE
 * for in-kernel channel drivers), then the VM's own (vm_boot.c).
 */
void img_guest_bootargs(char *out, size_t size, const char *vm_bootargs,
                        enum sd_channel_driver channel_driver);
#define IMG_GUEST_BOOTARGS_MAX (sizeof IMG_GUEST_BOOTARGS + SD_PATH_MAX + 1)

/* What VM `v`'s device tree describes, from a finished layout (vm_boot.c). */
void img_vm_dtb_spec(const struct img_plan *plan, int v, struct img_dtb_spec *spec);

/*
 * Fills the configurations (with the IPAs chosen) and the boot information
 * from a plan whose memory, IPAs and mappings are laid out.
 */
bool img_fill_boot(struct img_plan *plan, struct sd_error *err);

/* The file bytes at physical address [pa, pa + size) in an image, or NULL (dump.c). */
const uint8_t *img_image_bytes_at(const struct img_elf *image, uint64_t pa, uint64_t size);

/* --dump for VMs (dump_vm.c): their entries checked, then shown with their guests' view. */
bool img_check_boot_vms(const char *path, const struct pn_bootinfo *boot, struct sd_error *err);
void img_print_vms(FILE *out, const struct img_elf *image, const struct pn_bootinfo *boot,
                   int width);
/*
 * Names of a VM's mappings and channel ends, from its device tree in the
 * image ("ram", a UIO map's reg-names entry, a virtio transport's node
 * name; a UIO device's name);
 * NULL when PD `pd` is no VM. `out` holds the name when one is copied.
 */
const char *img_dump_vm_mapping_name(const struct img_elf *image, const struct pn_bootinfo *boot,
                                     uint32_t pd, const struct pn_boot_mapping *mapping, char *out,
                                     size_t size);
const char *img_dump_vm_channel_name(const struct img_elf *image, const struct pn_bootinfo *boot,
                                     uint32_t pd, uint32_t id, char *out, size_t size);

/* The image ELF into an open stream; `path` is for messages. */
bool img_write_image_stream(const struct img_plan *plan, const struct img_elf *kernel, FILE *out,
                            const char *path, struct sd_error *err);

#endif
