/*
 * The image packer: turns a system description, a placement, the kernel and
 * the component programs into one ELF that QEMU loads with -kernel: the
 * kernel, its boot information (bootinfo.h) and every PD's memory at fixed
 * physical addresses. docs/image.md describes the layout.
 *
 * The steps are separate functions so that tests can check each one:
 * reading ELF files, planning the layout, writing the image and the
 * manifest, and reading boot information back out of an image.
 */
#ifndef PINION_IMAGE_H
#define PINION_IMAGE_H

#include "placement.h"
#include "sysdesc.h"

#include <pinion/bootinfo.h>
#include <pinion/guest_layout.h>
#include <pinion/pd_layout.h>
#include <stdio.h>

#define IMG_PAGE_SIZE       UINT64_C(4096)
#define IMG_BLOCK_SIZE      (UINT64_C(2) << 20) /* a stage-2 block mapping */
#define IMG_MAX_SEGMENTS    16                  /* loadable segments of a program or kernel */
#define IMG_DEFAULT_MEMORY  (UINT64_C(1) << 30)
#define IMG_KERNEL_FREE_MIN IMG_BLOCK_SIZE /* the least the kernel must have for its tables */
/* Guest RAM left to Linux past its boot pieces (device tree, kernel, initrd). */
#define IMG_GUEST_LINUX_MIN (UINT64_C(64) << 20)
/* Regions a channel's UIO device shows: Linux's MAX_UIO_MAPS is 5, one is the doorbell. */
#define IMG_UIO_MAX_REGIONS 4
/* The start of every guest's command line; the VM's "bootargs" follow. */
#define IMG_GUEST_BOOTARGS_BASE "console=ttyAMA0 earlycon=pl011,0x09000000"
/* ... for a VM whose channels are UIO devices: uio_pdrv_genirq takes the generic-uio nodes. */
#define IMG_GUEST_BOOTARGS IMG_GUEST_BOOTARGS_BASE " uio_pdrv_genirq.of_id=generic-uio"

/* One PT_LOAD segment of an ELF file (segments with p_memsz 0 are dropped). */
struct img_segment {
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t memsz;
    uint64_t filesz;
    uint64_t offset; /* of its file bytes */
    uint64_t align;
    uint32_t flags; /* PF_R, PF_W, PF_X */
};

/* An ELF file read whole, its headers checked against its size. */
struct img_elf {
    char *path; /* for messages */
    uint8_t *bytes;
    size_t size;
    uint64_t entry;
    uint32_t n_segments;
    struct img_segment *segments; /* n_segments of them, in file order */
    bool has_counters;            /* the symbol pn_counter_table is defined */
    uint64_t counters_vaddr;
    uint64_t counters_size; /* its st_size, 0 when the symbol gives none */
};

/*
 * Reads an aarch64 little-endian ELF64 executable (ET_EXEC, no interpreter
 * or dynamic section) and its loadable segments, with every offset checked
 * against the file, and looks up pn_counter_table in .symtab when there is
 * one. img_elf_parse takes ownership of `bytes` (malloc'd) either way.
 * Both overwrite *elf: free one read before with img_elf_free, and free
 * *elf after a failure too. Messages start with the path:
 * "progs/ping.elf: truncated: ...".
 */
bool img_elf_read(const char *path, struct img_elf *elf, struct sd_error *err);
bool img_elf_parse(uint8_t *bytes, size_t size, const char *path, struct img_elf *elf,
                   struct sd_error *err);
void img_elf_free(struct img_elf *elf);

/*
 * A component program: at most IMG_MAX_SEGMENTS segments, page aligned, inside [PN_PD_PROGRAM_IPA,
 * PN_PD_PROGRAM_END), not sharing a page; the entry in an executable
 * segment; pn_counter_table, if any, inside a segment.
 */
bool img_check_program(const struct img_elf *elf, struct sd_error *err);

/*
 * The kernel: at most IMG_MAX_SEGMENTS segments, by physical address in
 * [PN_KERNEL_PA, +PN_KERNEL_MAX); the entry in an executable segment.
 */
bool img_check_kernel(const struct img_elf *elf, struct sd_error *err);

/* Where one PD's pieces went. */
struct img_pd {
    struct img_elf program;
    uint64_t config_pa;
    uint64_t segment_pa[IMG_MAX_SEGMENTS]; /* by program segment */
    uint64_t stack_pa;
    uint64_t map_ipa[PN_CONFIG_MAX_REGIONS]; /* by map, in description order */
    uint64_t map_pa[PN_CONFIG_MAX_REGIONS];
};

/* What the header of an arm64 Linux Image says (Linux: Documentation/arch/arm64/booting.rst). */
struct img_linux_header {
    uint64_t text_offset; /* where in its 2 MiB aligned slot the Image goes */
    uint64_t image_size;  /* bytes from its start the kernel uses, bss included */
    uint64_t flags;
};

/*
 * Checks that `bytes` hold a little-endian arm64 Linux Image: the magic
 * "ARM\x64" at byte 56, a non-zero image_size at least the file's size.
 * Messages start with `path` and say what the file looks like instead
 * (an ELF vmlinux, a gzip'd Image.gz).
 */
bool img_check_linux_image(const uint8_t *bytes, size_t size, const char *path,
                           struct img_linux_header *out, struct sd_error *err);

/* A VM's guest: its boot files and where its pieces went in its RAM (IPA = PA). */
struct img_vm {
    int pd;            /* index into sys->pds */
    char *kernel_path; /* as opened: vm.kernel, resolved against the guests directory */
    uint8_t *kernel;
    size_t kernel_size;
    struct img_linux_header header;
    char *initrd_path; /* NULL when the VM has none */
    uint8_t *initrd;
    size_t initrd_size;
    uint64_t ram_base; /* 2 MiB aligned */
    uint64_t ram_size;
    uint64_t dtb_pa;    /* ram_base + PN_GUEST_DTB_OFFSET */
    uint64_t kernel_pa; /* ram_base + PN_GUEST_KERNEL_OFFSET + text_offset: the entry */
    uint64_t initrd_pa; /* after the kernel's image_size, on a 2 MiB boundary; 0 without one */
    uint8_t *dtb;       /* its device tree (guest_dtb.c) */
    size_t dtb_size;
    uint32_t first_vcpu; /* in bootinfo.vcpus */
};

/* The whole layout of an image; large, so made by img_plan_new(). */
struct img_plan {
    const struct sd_system *sys;
    const struct sd_placement *placement;
    /*
     * Where relative VM "kernel" and "initrd" paths are found; NULL: the
     * directory of the system description. Set it before img_plan_build.
     */
    const char *guests_dir;
    uint64_t memory; /* bytes of RAM from PN_RAM_BASE */
    uint64_t config_size;
    struct img_pd pd[SD_MAX_PDS];
    uint32_t n_vms;
    struct img_vm vm[PN_BOOT_MAX_VMS];  /* VMs in description order: vm[i] is bootinfo.vms[i] */
    bool region_placed[SD_MAX_REGIONS]; /* ordinary regions some PD maps */
    uint64_t region_pa[SD_MAX_REGIONS]; /* where it is: its phys, or where the packer put it */
    struct pn_config config[SD_MAX_PDS];
    char mapping_name[PN_BOOT_MAX_MAPPINGS][PN_NAME_MAX]; /* "config", "program", "stack", a map */
    struct pn_bootinfo bootinfo;
};

struct img_plan *img_plan_new(void);
void img_plan_free(struct img_plan *plan); /* and the programs it read */

/*
 * Reads each component's program from programs_dir/<program>.elf and each
 * VM's kernel and initrd (relative to plan->guests_dir) and lays out
 * everything: physical memory, each PD's IPAs, the configurations, the
 * guests' device trees and the boot information. `plan` must come fresh
 * from img_plan_new() (guests_dir may be set); `sys` and `placement` must
 * outlive it. Messages name the file and object at fault and what did not
 * fit.
 */
bool img_plan_build(struct img_plan *plan, const struct sd_system *sys,
                    const struct sd_placement *placement, const char *programs_dir, uint64_t memory,
                    struct sd_error *err);

/*
 * A guest's device tree, as guest_dtb.c writes it (docs/guest-dtb.md):
 * everything that differs from one VM to another.
 */
struct img_dtb_region {
    const char *name; /* reg-names entry: the map's local name */
    uint64_t base;
    uint64_t size;
};

struct img_dtb_uio {
    const char *name; /* the channel end's local name: linux,uio-name */
    uint32_t id;      /* its channel id: doorbell page id, interrupt PN_GUEST_CHANNEL_INTID + id */
    uint32_t n_regions;
    struct img_dtb_region regions[IMG_UIO_MAX_REGIONS];
};

struct img_dtb_spec {
    uint32_t vcpus;
    uint64_t ram_base;
    uint64_t ram_size;
    bool has_initrd;
    uint64_t initrd_start, initrd_end;     /* [start, end) */
    const char *bootargs;                  /* the VM's own, after IMG_GUEST_BOOTARGS; "" for none */
    enum sd_channel_driver channel_driver; /* the channels' nodes: generic-uio or pinion,channel */
    bool regions_in_ram;                   /* channel regions in /memory and /reserved-memory */
    uint32_t n_virtio;
    struct {
        uint64_t base; /* the transport's registers (0x200 bytes) */
        uint32_t intid;
    } virtio[SD_MAX_VM_DEVICES];
    uint32_t n_uio; /* by channel id */
    struct img_dtb_uio uio[PN_CONFIG_MAX_CHANNELS];
};

/*
 * Writes the flattened device tree of `spec` into a malloc'd buffer (*out,
 * *size). Fails, with a message starting with `what`, only when it would
 * exceed PN_GUEST_DTB_MAX or memory runs out.
 */
bool img_guest_dtb_build(const struct img_dtb_spec *spec, const char *what, uint8_t **out,
                         size_t *size, struct sd_error *err);

/* Writes the image ELF (kernel, boot information, PD memory); temporary file, then rename. */
bool img_write_image(const struct img_plan *plan, const struct img_elf *kernel, const char *path,
                     struct sd_error *err);

/* What pinion-image was asked to do. */
struct img_options {
    const char *system_path;
    const char *placement_path; /* NULL: the description's cores (sd_default_placement) */
    const char *kernel_path;
    const char *programs_dir;
    uint64_t memory;
    const char *output_path;
    const char *manifest_path; /* NULL: none */
    const char *guests_dir;    /* NULL: the system description's directory */
    const char *dtb_out_dir;   /* NULL: none; else each VM's device tree as DIR/<vm>.dtb */
};

/* The manifest JSON text (docs/image.md); NULL when out of memory. Free with free(). */
char *img_manifest_text(const struct img_plan *plan, const struct img_options *options);

/*
 * Everything pinion-image does: load, check, plan, write the image and the
 * manifest. On failure no output file is left behind and existing ones are
 * untouched.
 */
bool img_build(const struct img_options *options, struct sd_error *err);

/*
 * Finds and checks the boot information in an image (the segment at
 * PN_BOOTINFO_PA). *image stays open for img_print_image; free it after.
 */
bool img_read_bootinfo(const char *path, struct img_elf *image, struct pn_bootinfo *out,
                       struct sd_error *err);

/* The boot information as tables, with local names from the PDs' configurations. */
void img_print_image(FILE *out, const struct img_elf *image, const struct pn_bootinfo *bootinfo);

#endif
