/*
 * Virtual machines: a VM is a PD that is not scheduled itself (it holds the
 * stage-2 translation and the channels); its vCPUs are, each a `struct pd`
 * of kind PD_VCPU on its own core, carrying a `struct vcpu` with the guest
 * state the hardware does not keep for it.
 */
#ifndef PINION_KERNEL_VM_H
#define PINION_KERNEL_VM_H

#include "kernel.h"

#include <pinion/guest_layout.h>

#define VGIC_INTIDS   PN_GUEST_SPI_LIMIT /* SGIs, PPIs and SPIs the VM has */
#define VGIC_WORDS    ((VGIC_INTIDS + 63) / 64)
#define VGIC_MAX_LRS  16
#define VM_MMIO_SLOTS 48   /* distinct emulated registers counted apiece */
#define VM_LINE_MAX   1024 /* a longer line comes out in pieces */

/* Why a vCPU left the guest: counted per VM, reported at the end of a run. */
#define VM_EXITS(X)                                                                                \
    X(mmio_gicd)                                                                                   \
    X(mmio_gicr)                                                                                   \
    X(mmio_uart)                                                                                   \
    X(doorbell)                                                                                    \
    X(psci)                                                                                        \
    X(wfi)                                                                                         \
    X(wfe)                                                                                         \
    X(sysreg_sgi)                                                                                  \
    X(sysreg_other)                                                                                \
    X(irq)                                                                                         \
    X(maintenance)                                                                                 \
    X(other)

#define VM_EXIT_ENUM(name) VM_EXIT_##name,
enum vm_exit { VM_EXITS(VM_EXIT_ENUM) VM_EXIT_COUNT };
#undef VM_EXIT_ENUM

/* The guest's EL1 registers: all of them, because anything may run between its turns. */
struct vcpu_el1 {
    uint64_t sctlr, actlr, cpacr, ttbr0, ttbr1, tcr, esr, afsr0, afsr1, far, mair, amair, vbar;
    uint64_t contextidr, tpidr_el0, tpidrro_el0, tpidr_el1, cntkctl, par, sp_el0, elr, spsr;
    uint64_t mdscr, csselr, cntv_ctl, cntv_cval;
};

struct vcpu_fpsimd {
    __uint128_t v[32];
    uint64_t fpsr, fpcr;
};

/* The GIC's virtual CPU interface, as the vCPU left it. */
struct vcpu_gic {
    uint64_t lr[VGIC_MAX_LRS];
    uint64_t vmcr, ap0r0, ap1r0;
};

struct vm;

struct vcpu {
    struct pd *pd;
    struct vm *vm;
    uint32_t index;
    struct vcpu_el1 el1;
    struct vcpu_fpsimd fp __attribute__((aligned(16)));
    struct vcpu_gic gic;
    /* Virtual interrupts waiting for a list register; own core only. */
    uint64_t pending[VGIC_WORDS];
    uint32_t private_enabled; /* SGIs and PPIs, a bit each */
    uint32_t private_edge;    /* PPIs configured edge-triggered */
    uint8_t private_priority[32];
    uint32_t waker;         /* GICR_WAKER as the guest wrote it */
    bool timer_parked;      /* its timer is out of the hardware, armed at el1.cntv_cval */
    bool timer_phys_active; /* the physical timer PPI waits for the guest's EOI */
    /* Posted by other cores (SGIs from other vCPUs, SPIs, power on), taken by its own. */
    _Atomic uint64_t incoming_spis[VGIC_WORDS];
    _Atomic uint32_t incoming_sgis;
    _Atomic bool power_on;
    uint64_t on_entry, on_context;
    _Atomic bool powered; /* started (vCPU 0 at boot, others by PSCI CPU_ON), not off */
    uint64_t exits[PN_PHASE_COUNT][VM_EXIT_COUNT]; /* own core only */
    uint64_t virqs[PN_PHASE_COUNT];                /* virtual interrupts put in list registers */
};

enum vm_device { VM_DEVICE_GICD, VM_DEVICE_GICR, VM_DEVICE_UART };

/* Exits at one emulated register (by name: a family such as GICD_IPRIORITYR is one). */
struct vm_mmio_count {
    const char *name;
    uint64_t count;
};

struct vm {
    uint32_t index;
    struct pd *pd;
    const struct pn_boot_vm *boot;
    uint32_t n_vcpus;
    struct vcpu *vcpus[8];
    atomic_flag lock; /* distributor state, console, counters */
    /* The virtual distributor: per SPI (INTID 32..VGIC_INTIDS-1). */
    uint32_t gicd_ctlr;
    uint64_t spi_enabled[VGIC_WORDS];
    uint64_t spi_edge[VGIC_WORDS];
    uint64_t spi_hw[VGIC_WORDS]; /* passed through: linked to the physical INTID */
    uint8_t spi_priority[VGIC_INTIDS];
    uint8_t spi_target[VGIC_INTIDS]; /* vCPU index, from GICD_IROUTER */
    /* The emulated PL011. */
    uint32_t uart_imsc, uart_cr, uart_lcr, uart_ibrd, uart_fbrd, uart_ifls;
    char line[VM_LINE_MAX];
    uint32_t line_len;
    _Atomic bool stopped;
    struct vm_mmio_count mmio[VM_MMIO_SLOTS];
};

extern struct vm vms[PN_BOOT_MAX_VMS];
extern uint32_t n_vms;
extern const struct pn_boot_channel vm_immediate;

/* vm.c: set-up, delivery, stopping, the report */
void vm_build_all(void);
const char *vm_check_bootinfo(const struct pn_bootinfo *b); /* a problem, or 0 */
/* A notification on channel `ch` to the VM: an interrupt for the vCPU its SPI targets. */
void vm_notify(struct core *c, struct vm *vm, const struct pd_channel *ch);
/* vectors.S, from a guest */
void handle_guest_sync(void);
void handle_guest_irq(void);
void handle_guest_serror(void);
void vm_take_incoming(struct core *c, struct pd *pd, uint64_t channel_bits);
void vm_stop(struct core *c, struct vm *vm, const char *why);
void vm_count_exit(struct vcpu *v, enum vm_exit reason);
void vm_report(void);

/* vm_sched.c: vCPUs on and off a core, and the interrupts that concern them */
void vm_switch_in(struct core *c, struct pd *prev, struct pd *next);
void vm_switch_to_native(void);
void vm_enter(struct core *c, struct pd *pd); /* before every return into a vCPU */
void vm_wait(struct core *c, struct pd *pd);  /* the vCPU executed WFI */
bool vm_timer_irq(struct core *c);
/* Silences a stopped vCPU's timer, loaded or parked (its own core only). */
void vm_timer_stop(struct core *c, struct vcpu *v);
void vm_maintenance_irq(struct core *c);
bool vm_device_irq(struct core *c, uint32_t intid);
void vm_parked_timers_expired(struct core *c);
void vm_setup_core(struct core *c);

/* vm_exit.c: why a vCPU left the guest, and what the kernel does about it */
void vm_handle_sync(struct core *c, struct pd *pd, uint64_t esr);

/* vcpu_switch.c: the guest state in and out of the hardware */
void vcpu_save_el1(struct vcpu *v);
void vcpu_load_el1(const struct vcpu *v);
void vcpu_save_hw(struct vcpu *v);
void vcpu_load_hw(const struct vcpu *v);
void vcpu_reset(struct vcpu *v, uint64_t entry, uint64_t x0);
uint32_t vgic_lr_count(void);
uint64_t vgic_lr_access(uint32_t n, bool write, uint64_t value);

/* vgic.c: the virtual distributor and redistributors, and list registers */
void vgic_init_vm(struct vm *vm);
void vgic_raise(struct vcpu *v, uint32_t intid);
void vgic_raise_spi(struct core *c, struct vm *vm, uint32_t intid);
uint32_t vgic_flush(struct vcpu *v); /* pending into free list registers; how many went in */
void vgic_wake(struct core *c, struct vcpu *v);
bool vgic_has_pending(const struct vcpu *v, bool loaded);
void vgic_retract(struct vcpu *v, uint32_t intid); /* an emulated line fell: drop it if not taken */
void vgic_unlink_timer(struct vcpu *v); /* its saved list registers, before another guest */
bool vgic_mmio(struct vm *vm, uint64_t ipa, bool write, uint32_t size, uint64_t *value);
void vgic_send_sgi(struct core *c, struct vcpu *from, uint64_t sgi1r);
void vm_count_mmio(struct vm *vm, enum vm_device device, uint32_t offset); /* under vm->lock */

/* mmio_names.c */
const char *vm_register_name(enum vm_device device, uint32_t offset);

/* vuart.c: the PL011 console */
bool vuart_mmio(struct vm *vm, uint64_t offset, bool write, uint64_t *value);
bool vuart_irq_level(const struct vm *vm);
void vuart_flush(struct vm *vm); /* a partial line out, when the VM stops */
void vuart_reset(struct vm *vm);

/* fpsimd.S */
void fpsimd_save(struct vcpu_fpsimd *fp);
void fpsimd_load(const struct vcpu_fpsimd *fp);

static inline void vm_lock(struct vm *vm)
{
    while (atomic_flag_test_and_set_explicit(&vm->lock, memory_order_acquire)) {
    }
}

static inline void vm_unlock(struct vm *vm)
{
    atomic_flag_clear_explicit(&vm->lock, memory_order_release);
}

#endif
