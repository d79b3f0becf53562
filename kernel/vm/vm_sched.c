/*
 * vCPUs on a core: what changes when the core switches between a vCPU and
 * a native PD or another vCPU, what happens before every return into a
 * guest, and the interrupts that belong to guests (their virtual timers,
 * the GIC's maintenance interrupt, passed-through devices).
 *
 * A guest's "hardware" state (timer, GIC virtual interface, FP/SIMD) stays
 * in the registers while native PDs run on its core, so a vCPU that shares
 * a core only with native PDs keeps its timer running and is woken by it.
 * Only another vCPU taking the core moves it out; a waiting vCPU's timer
 * is then "parked" on the EL2 timer.
 */
#include "vm.h"

#include "arch.h"
#include "el2_config.h"
#include "ipi.h"
#include "sysreg.h"

#define ICH_HCR_EL2       "S3_4_C12_C11_0"
#define MAINTENANCE_INTID 25
#define CNTV_CTL_ENABLE   (1u << 0)
#define CNTV_CTL_IMASK    (1u << 1)

extern char vectors_el2[], vectors_el2_guest[];

static bool timer_armed(uint64_t ctl)
{
    return (ctl & (CNTV_CTL_ENABLE | CNTV_CTL_IMASK)) == CNTV_CTL_ENABLE;
}

/* The EL2 timer serves the outboxes' coalescing windows and parked guest timers. */
static void update_guest_deadline(struct core *c)
{
    uint64_t earliest = UINT64_MAX;
    for (uint32_t s = 0; s < c->n_slots; s++) {
        const struct pd *pd = c->slots[s];
        if (pd->kind == PD_VCPU && pd->vcpu->timer_parked && pd->vcpu->el1.cntv_cval < earliest) {
            earliest = pd->vcpu->el1.cntv_cval;
        }
    }
    c->guest_deadline = earliest;
    ipi_rearm_timer(c);
}

static void save_guest_hw(struct core *c, struct vcpu *v)
{
    vcpu_save_hw(v);
    if (v->timer_phys_active) {
        /* The guest's EOI cannot reach the physical PPI any more: end it here. */
        gic_deactivate(PN_GUEST_VTIMER_INTID);
        vgic_unlink_timer(v);
        v->timer_phys_active = false;
    }
    if (v->pd->state == PD_WAITING && timer_armed(v->el1.cntv_ctl)) {
        v->timer_parked = true;
        update_guest_deadline(c);
    }
}

void vm_switch_in(struct core *c, struct pd *prev, struct pd *next)
{
    struct vcpu *v = next->vcpu;
    if (prev == 0 || prev->kind != PD_VCPU) {
        write_sysreg(hcr_el2, HCR_GUEST);
        write_sysreg(cptr_el2, CPTR_EL2_RES1);
        write_sysreg(vbar_el2, (uint64_t)(uintptr_t)vectors_el2_guest);
        isb();
    }
    if (c->guest != v) {
        if (c->guest) {
            save_guest_hw(c, c->guest);
        }
        vcpu_load_hw(v);
        c->guest = v;
        if (v->timer_parked) {
            v->timer_parked = false;
            update_guest_deadline(c);
        }
    }
    vcpu_load_el1(v);
    write_sysreg(vttbr_el2, next->vttbr);
}

void vm_switch_to_native(void)
{
    write_sysreg(hcr_el2, HCR_NATIVE_PD);
    write_sysreg(cptr_el2, CPTR_EL2_RES1 | CPTR_EL2_TFP);
    write_sysreg(vbar_el2, (uint64_t)(uintptr_t)vectors_el2);
    write_sysreg(sctlr_el1, SCTLR_EL1_RES1);
    write_icc(ICH_HCR_EL2, 0); /* no virtual interrupts, no maintenance interrupts */
}

void vm_enter(struct core *c, struct pd *pd)
{
    struct vcpu *v = pd->vcpu;
    if (c->guest_timer_wait && c->guest == v) {
        c->guest_timer_wait = false;
    }
    uint32_t injected = vgic_flush(v);
    if (injected) {
        v->virqs[atomic_load_explicit(&phase, memory_order_relaxed)] += injected;
        c->events[EV_virqs] += injected;
    }
}

void vm_wait(struct core *c, struct pd *pd)
{
    struct vcpu *v = pd->vcpu;
    if (vgic_has_pending(v, c->guest == v)) {
        return; /* WFI completes at once: an interrupt is already there */
    }
    pd->state = PD_WAITING;
    sched_block(c, pd);
    if (c->guest == v && timer_armed(read_sysreg(cntv_ctl_el0))) {
        c->guest_timer_wait = true; /* the run is not over while a guest waits for time */
    }
}

/*
 * The timer's PPI is level-triggered: while the timer in the registers is
 * enabled, unmasked and past its compare value, the line stays high, and
 * deactivating the PPI without handing it to a guest makes it pending
 * again at once, so irq_handle_pending would take it for ever (with the
 * core not idle, the run never ends). A timer no guest will handle is
 * therefore turned off at its source.
 */
static void timer_off_in_hardware(void)
{
    write_sysreg(cntv_ctl_el0, 0);
    isb(); /* the line is low before the caller deactivates the PPI */
}

void vm_timer_stop(struct core *c, struct vcpu *v)
{
    if (c->guest == v) {
        timer_off_in_hardware();
        if (v->timer_phys_active) {
            /* Its guest will never end it: end it here, or it blocks the next guest's timer. */
            gic_deactivate(PN_GUEST_VTIMER_INTID);
            v->timer_phys_active = false;
        }
    }
    if (v->timer_parked) {
        v->timer_parked = false;
        update_guest_deadline(c);
    }
}

bool vm_timer_irq(struct core *c)
{
    struct vcpu *v = c->guest;
    if (v == 0 || v->pd->state == PD_FAULTED || v->pd->state == PD_OFF) {
        /* Stopped or off (power_on resets the timer), or no guest: the timer is nobody's. */
        timer_off_in_hardware();
        return false;
    }
    v->timer_phys_active = true; /* linked in the list register: the guest's EOI ends it */
    c->guest_timer_wait = false;
    vgic_raise(v, PN_GUEST_VTIMER_INTID);
    vgic_wake(c, v);
    return true;
}

void vm_maintenance_irq(struct core *c)
{
    /* The list registers drained: vm_enter refills them on the way back into the guest. */
    write_icc(ICH_HCR_EL2, 0);
    if (c->current && c->current->kind == PD_VCPU) {
        vm_count_exit(c->current->vcpu, VM_EXIT_maintenance);
    }
}

bool vm_device_irq(struct core *c, uint32_t intid)
{
    for (uint32_t i = 0; i < n_vms; i++) {
        struct vm *vm = &vms[i];
        if (intid >= VGIC_INTIDS || !(vm->spi_hw[intid / 64] >> (intid % 64) & 1)) {
            continue;
        }
        struct vcpu *v = vm->vcpus[vm->spi_target[intid] % vm->n_vcpus];
        if (atomic_load(&vm->stopped) || v->pd->core != c->index) {
            gic_deactivate(intid);
            return true;
        }
        count(c, EV_device_irqs);
        vgic_raise(v, intid); /* linked: the guest's EOI deactivates the physical one */
        vgic_wake(c, v);
        return true;
    }
    return false;
}

void vm_parked_timers_expired(struct core *c)
{
    if (c->guest_deadline == UINT64_MAX) {
        return;
    }
    uint64_t now = timer_now();
    for (uint32_t s = 0; s < c->n_slots; s++) {
        struct pd *pd = c->slots[s];
        if (pd->kind == PD_VCPU && pd->vcpu->timer_parked && pd->vcpu->el1.cntv_cval <= now) {
            pd->vcpu->timer_parked = false;
            vgic_raise(pd->vcpu, PN_GUEST_VTIMER_INTID);
            vgic_wake(c, pd->vcpu);
        }
    }
    update_guest_deadline(c);
}

void vm_setup_core(struct core *c)
{
    c->guest_deadline = UINT64_MAX;
    for (uint32_t s = 0; s < c->n_slots; s++) {
        if (c->slots[s]->kind == PD_VCPU) {
            gic_enable_ppi(c->index, PN_GUEST_VTIMER_INTID);
            gic_enable_ppi(c->index, MAINTENANCE_INTID);
            return;
        }
    }
}
