/*
 * What the image packer (tools/image/) tells the kernel: the system's PDs,
 * where each one's memory is, its channels and their batching, its
 * interrupts. The packer writes this structure at PN_BOOTINFO_PA in the
 * image; the kernel reads it at boot and trusts nothing else about the
 * system. Fixed-width fields only: written on the host, read on target.
 *
 * Physical memory of an image (QEMU virt, RAM from 0x40000000):
 *   0x40000000  QEMU's device tree                         (2 MiB, untouched)
 *   0x40200000  the kernel                                 (PN_KERNEL_MAX)
 *   0x40600000  this boot information                      (PN_BOOTINFO_MAX)
 *   0x40800000  PD memory, laid out by the packer: config pages, program
 *               segments, stacks, shared regions
 *   free_start  .. free_end: the kernel's own (stage-2 tables)
 *
 * Each PD sees intermediate physical addresses (IPAs) through its own
 * stage-2 translation, laid out as in pd_layout.h.
 */
#ifndef PINION_BOOTINFO_H
#define PINION_BOOTINFO_H

#include <pinion/config.h>
#include <stdint.h>

#define PN_RAM_BASE         0x40000000ull
#define PN_KERNEL_PA        0x40200000ull
#define PN_KERNEL_MAX       0x00400000ull
#define PN_BOOTINFO_PA      0x40600000ull
#define PN_BOOTINFO_MAX     0x00200000ull
#define PN_PD_MEMORY_PA     0x40800000ull
#define PN_BOOTINFO_MAGIC   0x31544f4f424e5950ull /* "PNBOOT1" */
#define PN_BOOTINFO_VERSION 2u

#define PN_BOOT_MAX_PDS      64
#define PN_BOOT_MAX_MAPPINGS 1024
#define PN_BOOT_MAX_IRQS     128
#define PN_BOOT_MAX_CORES    8
#define PN_BOOT_MAX_VMS      4
#define PN_BOOT_MAX_VCPUS    16 /* over all VMs */
#define PN_BOOT_VM_MAX_IRQS  8  /* passed-through device interrupts per VM */
#define PN_BOOT_NO_PD        0xffffu
#define PN_OWNER_VCPU_BASE   128 /* accounting owner of vCPU i: 128 + i */

/* How a cross-core notification on a channel reaches the other core. */
enum pn_batch_policy {
    PN_BATCH_IMMEDIATE = 0,      /* one SGI per notification */
    PN_BATCH_END_OF_HANDLER = 1, /* one SGI per target core when the sender waits */
    PN_BATCH_COALESCE = 2,       /* when `count` are pending, or `window_us` passed */
};

enum pn_map_attr {
    PN_MAP_NORMAL = 0, /* RAM: write-back cacheable */
    PN_MAP_DEVICE = 1, /* MMIO: Device-nGnRE */
};

enum pn_boot_pd_flags {
    PN_PD_POLLING = 1u << 0, /* alone on its core, which polls instead of sleeping */
    PN_PD_VM = 1u << 1,      /* a virtual machine: its vCPUs are in vms[], its memory in mappings */
};

enum pn_boot_flags {
    PN_BOOT_END_WHEN_IDLE = 1u << 0, /* the run ends when every core is idle, nothing pending */
};

struct pn_boot_mapping {
    uint64_t ipa;
    uint64_t pa;
    uint64_t size;   /* page multiple */
    uint32_t rights; /* enum pn_rights */
    uint32_t attr;   /* enum pn_map_attr */
};

/* Local channel id i of a PD is channels[i]. */
struct pn_boot_channel {
    uint16_t target_pd; /* index into pds, PN_BOOT_NO_PD when unused */
    uint8_t target_id;  /* the channel id at the target */
    uint8_t policy;     /* enum pn_batch_policy, for sends on this channel */
    uint16_t coalesce_count;
    uint16_t reserved;
    uint32_t coalesce_window_us;
};

struct pn_boot_irq {
    uint32_t intid;   /* GIC INTID of a shared peripheral interrupt */
    uint32_t pd;      /* index into pds */
    uint32_t channel; /* the channel id it arrives on */
    uint32_t edge;    /* 1: edge triggered, 0: level */
};

struct pn_boot_pd {
    char name[PN_NAME_MAX];
    uint32_t owner; /* accounting id in markers (markers.h), 1..PN_BOOT_MAX_PDS */
    uint32_t core;
    uint32_t priority;
    uint32_t flags;       /* enum pn_boot_pd_flags */
    uint64_t entry;       /* IPA where the PD starts */
    uint64_t stack_top;   /* IPA */
    uint64_t counters_pa; /* PA of its pn_counter_table, 0 when it keeps none */
    uint32_t first_mapping;
    uint32_t n_mappings;
    struct pn_boot_channel channels[PN_CONFIG_MAX_CHANNELS];
};

/*
 * A virtual machine. Its PD entry (pds[pd]) holds its name, priority,
 * stage-2 mappings (guest RAM, passed-through device pages, shared
 * regions: all at IPA = PA, see guest_layout.h) and channels; here is what
 * only a VM has. A channel id i of a VM is, to the guest, a doorbell page
 * (writing to it notifies the peer) and a virtual interrupt (a
 * notification from the peer), both at fixed places (guest_layout.h).
 */
struct pn_boot_vm {
    uint32_t pd;      /* index into pds */
    uint32_t n_vcpus; /* 1..8; vCPUs first_vcpu.. in vcpus[] */
    uint32_t first_vcpu;
    uint32_t n_irqs;                    /* passed-through device interrupts */
    uint32_t irqs[PN_BOOT_VM_MAX_IRQS]; /* physical INTIDs, the same INTID in the guest */
    uint64_t entry;                     /* IPA where vCPU 0 starts (the guest kernel), at EL1 */
    uint64_t dtb;                       /* IPA of its device tree: x0 at entry */
    uint64_t ram_base;                  /* IPA (= PA) and size of its RAM */
    uint64_t ram_size;
};

struct pn_boot_vcpu {
    uint32_t vm;    /* index into vms */
    uint32_t index; /* within the VM: 0 starts at entry, others by PSCI CPU_ON */
    uint32_t core;
    uint32_t owner; /* accounting id: PN_OWNER_VCPU_BASE + its index in vcpus[] */
};

struct pn_bootinfo {
    uint64_t magic;
    uint32_t version;
    uint32_t size; /* sizeof(struct pn_bootinfo), checked by the kernel */
    char system[PN_NAME_MAX];
    uint32_t n_cores; /* cores the placement uses; the kernel starts this many */
    uint32_t flags;   /* enum pn_boot_flags */
    uint32_t n_pds;
    uint32_t n_mappings;
    uint32_t n_irqs;
    uint32_t n_vms;
    uint32_t n_vcpus;
    uint32_t reserved;
    uint64_t free_start; /* physical memory left for the kernel's tables */
    uint64_t free_end;
    struct pn_boot_pd pds[PN_BOOT_MAX_PDS];
    struct pn_boot_mapping mappings[PN_BOOT_MAX_MAPPINGS];
    struct pn_boot_irq irqs[PN_BOOT_MAX_IRQS];
    struct pn_boot_vm vms[PN_BOOT_MAX_VMS];
    struct pn_boot_vcpu vcpus[PN_BOOT_MAX_VCPUS];
};

_Static_assert(sizeof(struct pn_bootinfo) <= PN_BOOTINFO_MAX, "boot information outgrew its area");

#endif
