/*
 * System descriptions: the JSON file that says which protection domains a
 * pinion system has (components and VMs), the memory regions between them,
 * who maps what with which rights, the channels, and device interrupts.
 * The schema is documented in docs/system-description.md.
 *
 * Loading validates everything; a description that loads is internally
 * consistent, so the tools behind it (hosted runner, image packer, place)
 * need not check again.
 */
#ifndef PINION_SYSDESC_H
#define PINION_SYSDESC_H

#include <pinion/config.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_MAX_PDS        64
#define SD_MAX_REGIONS    256
#define SD_MAX_CHANNELS   512
#define SD_MAX_PRIORITY   254
#define SD_MAX_CORES      64
#define SD_MAX_VCPUS      8
#define SD_PATH_MAX       256
#define SD_MAX_VM_DEVICES 8
#define SD_MAX_DEVICES    8
#define SD_MAX_PARTITIONS 8  /* per block device */
#define SD_VIRTIO_SLOTS   32 /* virtio-mmio transports of QEMU's virt board */
#define SD_ERROR_MAX      512
#define SD_PAGE_SIZE      4096u

enum sd_pd_kind {
    SD_KIND_DRIVER,
    SD_KIND_MULTIPLEXER,
    SD_KIND_COPIER,
    SD_KIND_CLIENT,
    SD_KIND_LOAD,
    SD_KIND_ACCOUNTING,
    SD_KIND_TEST,
    SD_KIND_VM, /* a virtual machine; only VMs have this kind */
};

struct sd_map {
    char name[PN_NAME_MAX]; /* local name; defaults to the region's name */
    int region;             /* index into sd_system.regions */
    bool has_vaddr;
    uint64_t vaddr;  /* page aligned when given */
    uint32_t rights; /* enum pn_rights */
    /*
     * Normal write-back memory, or device memory (uncached) when false. The
     * default follows the region: cached for RAM, uncached for "phys".
     */
    bool cached;
};

struct sd_irq {
    char name[PN_NAME_MAX];
    uint32_t irq; /* GIC INTID of a shared peripheral interrupt, 32..1019 */
    uint32_t id;  /* channel id it arrives on at this PD */
    bool edge;    /* false: level triggered (the default) */
};

struct sd_param {
    char key[PN_NAME_MAX];
    char value[PN_PARAM_VALUE_MAX];
};

/* What takes a VM's channels inside the guest (docs/guest-dtb.md). */
enum sd_channel_driver {
    SD_CHANNEL_DRIVER_UIO,    /* "generic-uio" nodes, for a bridge program in user space */
    SD_CHANNEL_DRIVER_KERNEL, /* "pinion,channel" nodes, for pinion's in-kernel drivers */
};

struct sd_vm {
    uint32_t vcpus; /* 1..SD_MAX_VCPUS */
    enum sd_channel_driver channel_driver;
    bool regions_in_guest_ram; /* its regions also in the guest's memory map, reserved */
    uint64_t memory;           /* bytes of guest RAM, page multiple */
    char kernel[SD_PATH_MAX];
    char initrd[SD_PATH_MAX]; /* empty when none */
    char bootargs[SD_PATH_MAX];
    uint32_t n_devices;
    char devices[SD_MAX_VM_DEVICES][PN_NAME_MAX]; /* passed-through devices, by name */
};

struct sd_pd {
    char name[PN_NAME_MAX];
    enum sd_pd_kind kind;
    char program[SD_PATH_MAX]; /* components: the program to run; empty for VMs */
    uint32_t priority;         /* 0..SD_MAX_PRIORITY */
    int core;                  /* -1 when the description leaves it to placement */
    uint32_t n_maps;
    struct sd_map maps[PN_CONFIG_MAX_REGIONS];
    uint32_t n_irqs;
    struct sd_irq irqs[PN_CONFIG_MAX_CHANNELS];
    uint32_t n_params;
    struct sd_param params[PN_CONFIG_MAX_PARAMS];
    struct sd_vm vm; /* meaningful when kind == SD_KIND_VM */
};

struct sd_region {
    char name[PN_NAME_MAX];
    uint64_t size; /* bytes, a page multiple */
    /*
     * Device memory (or other memory outside the packer's RAM) at a fixed
     * physical address: the packer allocates nothing for it.
     */
    bool has_phys;
    uint64_t phys; /* page aligned; phys + size ends at or below 2^48 */
};

enum sd_device_kind {
    SD_DEVICE_VIRTIO_NET,
    SD_DEVICE_VIRTIO_BLK,
    SD_DEVICE_VIRTIO_GPU,
};

/*
 * An emulated device the system expects the machine to have, on QEMU
 * virt's virtio-mmio transport number `slot`: its registers at
 * 0x0a000000 + 0x200 * slot, its interrupt INTID 48 + slot. Experiment
 * scripts start QEMU with these devices; PDs reach them through regions
 * with "phys" and "irqs" as usual.
 */
/*
 * A share of a block device given to one client PD: bytes [start, start +
 * size) of the disk, block aligned, overlapping no other partition.
 */
struct sd_partition {
    char client[PN_NAME_MAX];
    int client_pd; /* index into sd_system.pds */
    uint64_t start, size;
};

struct sd_device {
    char name[PN_NAME_MAX];
    enum sd_device_kind kind;
    uint32_t slot;
    bool has_mac;
    uint8_t mac[6]; /* virtio-net: the MAC QEMU gives it */
    /* virtio-blk: the disk image's bytes and logical block size (the queues' block unit). */
    uint64_t size;
    uint32_t block_size;
    /*
     * virtio-blk with partitions: the virtualiser PD that splits the disk
     * between clients, and the partitions in its client order (partition N
     * is its client N). The loader hands both their shares as generated
     * params (docs/system-description.md, "Partitions").
     */
    char virtualiser[PN_NAME_MAX];
    int virtualiser_pd; /* index into sd_system.pds; -1 without partitions */
    uint32_t n_partitions;
    struct sd_partition partitions[SD_MAX_PARTITIONS];
};

struct sd_channel_end {
    int pd;                 /* index into sd_system.pds */
    char name[PN_NAME_MAX]; /* local name at this end; defaults to the channel's name */
    uint32_t id;            /* channel id at this end, explicit or assigned */
};

struct sd_channel {
    char name[PN_NAME_MAX];
    struct sd_channel_end ends[2];
};

struct sd_system {
    char name[PN_NAME_MAX];
    char source[SD_PATH_MAX]; /* the file it came from, for messages */
    uint32_t n_pds;
    struct sd_pd pds[SD_MAX_PDS];
    uint32_t n_regions;
    struct sd_region regions[SD_MAX_REGIONS];
    uint32_t n_channels;
    struct sd_channel channels[SD_MAX_CHANNELS];
    uint32_t n_devices;
    struct sd_device devices[SD_MAX_DEVICES];
    /*
     * "end": "idle": the run ends when every core is idle and nothing is
     * pending. false ("external", the default): the experiment runner
     * stops it.
     */
    bool end_when_idle;
};

/* One message naming the file, the object and the problem. */
struct sd_error {
    char message[SD_ERROR_MAX];
};

/*
 * Loads and validates a description. On failure returns false and fills
 * *err; *sys is then unspecified. `origin` names the source in messages.
 * The system is large: allocate it with sd_system_new().
 */
bool sd_load_file(const char *path, struct sd_system *sys, struct sd_error *err);
bool sd_load_buffer(const char *text, size_t len, const char *origin, struct sd_system *sys,
                    struct sd_error *err);

struct sd_system *sd_system_new(void); /* zeroed, or NULL when out of memory */
void sd_system_free(struct sd_system *sys);

/* Index of the PD or region with this name, or -1. */
int sd_find_pd(const struct sd_system *sys, const char *name);
int sd_find_region(const struct sd_system *sys, const char *name);

const char *sd_kind_name(enum sd_pd_kind kind);
const char *sd_device_kind_name(enum sd_device_kind kind); /* "virtio-net", ... */
int sd_find_device(const struct sd_system *sys, const char *name);
/* The device's registers and interrupt on QEMU virt. */
uint64_t sd_device_mmio(const struct sd_device *device);
uint32_t sd_device_intid(const struct sd_device *device);

/* "64 KiB", "2 MiB", or "4100 bytes": a size as the descriptions write it. */
void sd_format_size(char *out, size_t size, uint64_t bytes);
/* "rw", "r", "rx": rights (enum pn_rights) as the descriptions write them. */
void sd_format_rights(char out[4], uint32_t rights);

/*
 * Fills the generated configuration of PD `pd`: its regions (with the
 * description's vaddr, or 0 where none is given: the packer or hosted
 * runner sets it), its channel ends and IRQs as channels, its parameters.
 */
void sd_build_config(const struct sd_system *sys, int pd, struct pn_config *cfg);

/* Where channel end (pd, id) leads: the channel index and which end, or -1. */
int sd_channel_of(const struct sd_system *sys, int pd, uint32_t id, int *end);

/*
 * Parses a size written as on the command line of a tool ("1GiB", "0x1000",
 * "4096"), with the rules of sizes in descriptions: a non-zero page multiple
 * at most 2^48. On failure fills *err with "<what> <text> is not ...".
 */
bool sd_parse_size_text(const char *text, const char *what, uint64_t *out, struct sd_error *err);

#endif
