/*
 * Virtual machines: built from the boot information, notified through
 * their vCPUs, stopped when they crash or power off, reported at the end
 * of a run. A VM's PD (pds[]) is never scheduled: it holds the stage-2
 * translation and the channels; its vCPUs (vcpu_pds[]) are.
 */
#include "vm.h"

#include "arch.h"
#include "console.h"
#include "el2_config.h"
#include "ipi.h"
#include "sysreg.h"

struct vm vms[PN_BOOT_MAX_VMS];
uint32_t n_vms;
struct pd vcpu_pds[PN_BOOT_MAX_VCPUS];
uint32_t n_vcpu_pds;
static struct vcpu vcpus[PN_BOOT_MAX_VCPUS];

/* Cross-core wake-ups a VM makes itself (SGIs, power on, stop) go at once. */
const struct pn_boot_channel vm_immediate = {.policy = PN_BATCH_IMMEDIATE};

static void build_vcpu(struct vm *vm, uint32_t index)
{
    const struct pn_boot_vcpu *boot = &bootinfo->vcpus[vm->boot->first_vcpu + index];
    uint32_t k = vm->boot->first_vcpu + index;
    struct pd *pd = &vcpu_pds[k];
    struct vcpu *v = &vcpus[k];
    const struct pd *vm_pd = vm->pd;
    *pd = (struct pd){0};
    pd->kind = PD_VCPU;
    pd->vm = vm;
    pd->vcpu = v;
    pd->boot = vm_pd->boot;
    pd->name = vm_pd->name;
    pd->index = vm_pd->index;
    pd->owner = boot->owner;
    pd->core = boot->core;
    pd->priority = vm_pd->priority;
    pd->stage2_root = vm_pd->stage2_root;
    pd->vttbr = vm_pd->vttbr; /* one VMID for the VM: its TLB entries are shared by its vCPUs */
    pd->hcr = HCR_GUEST;
    pd->deferred_notify = -1;
    pd->at_line_start = true;
    v->pd = pd;
    v->vm = vm;
    v->index = index;
    for (uint32_t i = 0; i < 32; i++) {
        v->private_priority[i] = 0xa0;
    }
    v->private_edge = 0;
    vm->vcpus[index] = v;
    if (index == 0) {
        /* Linux's arm64 boot protocol: x0 holds the device tree's address. */
        vcpu_reset(v, vm->boot->entry, vm->boot->dtb);
        atomic_store(&v->powered, true);
        pd->state = PD_RUNNABLE;
    } else {
        pd->state = PD_OFF;
    }
}

void vm_build_all(void)
{
    n_vms = bootinfo->n_vms;
    n_vcpu_pds = bootinfo->n_vcpus;
    for (uint32_t i = 0; i < n_vms; i++) {
        struct vm *vm = &vms[i];
        vm->index = i;
        vm->boot = &bootinfo->vms[i];
        vm->pd = &pds[vm->boot->pd];
        vm->pd->kind = PD_VM;
        vm->pd->vm = vm;
        vm->pd->core = PD_NO_CORE;
        vm->n_vcpus = vm->boot->n_vcpus;
        atomic_flag_clear(&vm->lock);
        vgic_init_vm(vm);
        vuart_reset(vm);
        for (uint32_t v = 0; v < vm->n_vcpus; v++) {
            build_vcpu(vm, v);
        }
        /* Its device interrupts start at vCPU 0's core; the guest may move them. */
        for (uint32_t q = 0; q < vm->boot->n_irqs; q++) {
            gic_route_spi(vm->boot->irqs[q], vm->vcpus[0]->pd->core, false);
        }
    }
}

const char *vm_check_bootinfo(const struct pn_bootinfo *b)
{
    if (b->n_vms > PN_BOOT_MAX_VMS || b->n_vcpus > PN_BOOT_MAX_VCPUS) {
        return "VM or vCPU count out of range";
    }
    for (uint32_t i = 0; i < b->n_vms; i++) {
        const struct pn_boot_vm *vm = &b->vms[i];
        if (vm->pd >= b->n_pds || !(b->pds[vm->pd].flags & PN_PD_VM)) {
            return "a VM's PD is out of range or not marked as a VM";
        }
        if (vm->n_vcpus == 0 || vm->n_vcpus > 8 || vm->first_vcpu + vm->n_vcpus > b->n_vcpus) {
            return "a VM's vCPUs are out of range";
        }
        if (vm->n_irqs > PN_BOOT_VM_MAX_IRQS) {
            return "a VM has too many device interrupts";
        }
        for (uint32_t q = 0; q < vm->n_irqs; q++) {
            if (vm->irqs[q] < 32 || vm->irqs[q] >= PN_GUEST_SPI_LIMIT ||
                vm->irqs[q] >= PN_GUEST_CHANNEL_INTID) {
                return "a VM's device interrupt is outside the SPIs its virtual GIC has";
            }
        }
        for (uint32_t v = 0; v < vm->n_vcpus; v++) {
            const struct pn_boot_vcpu *vc = &b->vcpus[vm->first_vcpu + v];
            if (vc->vm != i || vc->index != v || vc->core >= b->n_cores) {
                return "a vCPU names the wrong VM or index, or a core out of range";
            }
        }
    }
    for (uint32_t i = 0; i < b->n_pds; i++) {
        bool listed = false;
        for (uint32_t v = 0; v < b->n_vms; v++) {
            listed |= b->vms[v].pd == i;
        }
        if (listed != ((b->pds[i].flags & PN_PD_VM) != 0)) {
            return "a PD marked as a VM has no VM entry";
        }
    }
    return 0;
}

void vm_notify(struct core *c, struct vm *vm, const struct pd_channel *ch)
{
    uint32_t intid = PN_GUEST_CHANNEL_INTID + (uint32_t)__builtin_ctzll(ch->bit);
    struct pd *target = vm->vcpus[vm->spi_target[intid] % vm->n_vcpus]->pd;
    if (target->core == c->index) {
        count(c, EV_notify_same_core);
        vm_take_incoming(c, target, ch->bit);
    } else {
        count(c, EV_notify_cross_core);
        ipi_post(c, target, ch->bit, ch->boot);
    }
}

static void enter_after(struct core *c)
{
    if (c->current && c->current->kind == PD_VCPU) {
        vm_enter(c, c->current);
    }
}

void handle_guest_sync(void)
{
    struct core *c = this_core();
    vm_handle_sync(c, c->current, read_sysreg(esr_el2));
    schedule(c);
    enter_after(c);
}

void handle_guest_irq(void)
{
    struct core *c = this_core();
    vm_count_exit(c->current->vcpu, VM_EXIT_irq);
    irq_handle_pending(c);
    notify_take_incoming(c);
    schedule(c);
    enter_after(c);
}

void handle_guest_serror(void)
{
    struct core *c = this_core();
    vm_count_exit(c->current->vcpu, VM_EXIT_other);
    vm_stop(c, c->current->vm, "asynchronous external abort (SError)");
    schedule(c);
    enter_after(c);
}

void vm_count_exit(struct vcpu *v, enum vm_exit reason)
{
    uint32_t p = atomic_load_explicit(&phase, memory_order_relaxed);
    v->exits[p][reason]++;
    count(this_core(), EV_vm_exits);
}

/* Takes a vCPU of a stopped VM off its core (its own core only). */
static void stop_vcpu(struct core *c, struct vcpu *v)
{
    if (v->pd->state != PD_FAULTED) {
        v->pd->state = PD_FAULTED;
        sched_block(c, v->pd);
        /* Its timer would keep firing into a guest that never runs again. */
        vm_timer_stop(c, v);
    }
    if (c->guest == v) {
        c->guest_timer_wait = false;
    }
}

static void power_on(struct core *c, struct vcpu *v)
{
    if (v->pd->state != PD_OFF) {
        return;
    }
    /* Whatever of its earlier life is still in the registers is stale now. */
    if (c->loaded == v->pd) {
        c->loaded = 0;
    }
    if (c->guest == v) {
        c->guest = 0;
    }
    vcpu_reset(v, v->on_entry, v->on_context);
    atomic_store(&v->powered, true);
    v->pd->state = PD_RUNNABLE;
    sched_make_runnable(c, v->pd);
}

void vm_take_incoming(struct core *c, struct pd *pd, uint64_t channel_bits)
{
    struct vcpu *v = pd->vcpu;
    struct vm *vm = v->vm;
    if (atomic_load_explicit(&vm->stopped, memory_order_acquire)) {
        stop_vcpu(c, v);
        count(c, EV_notify_dropped);
        return;
    }
    if (atomic_exchange_explicit(&v->power_on, false, memory_order_acquire)) {
        power_on(c, v);
    }
    while (channel_bits) {
        vgic_raise(v, PN_GUEST_CHANNEL_INTID + (uint32_t)__builtin_ctzll(channel_bits));
        channel_bits &= channel_bits - 1;
    }
    for (uint32_t w = 0; w < VGIC_WORDS; w++) {
        if (atomic_load_explicit(&v->incoming_spis[w], memory_order_relaxed)) {
            uint64_t bits = atomic_exchange_explicit(&v->incoming_spis[w], 0, memory_order_acquire);
            v->pending[w] |= bits;
        }
    }
    if (atomic_load_explicit(&v->incoming_sgis, memory_order_relaxed)) {
        v->pending[0] |= atomic_exchange_explicit(&v->incoming_sgis, 0, memory_order_acquire);
    }
    vgic_wake(c, v);
}

void vm_stop(struct core *c, struct vm *vm, const char *why)
{
    vm_lock(vm);
    if (atomic_load_explicit(&vm->stopped, memory_order_relaxed)) {
        vm_unlock(vm);
        return;
    }
    atomic_store_explicit(&vm->stopped, true, memory_order_release);
    vm->pd->state = PD_FAULTED; /* notifications to it are dropped from now on */
    vuart_flush(vm);
    kprintf("pinion: VM \"%s\" stopped: %s\n", vm->pd->name, why);
    vm_unlock(vm);
    for (uint32_t q = 0; q < vm->boot->n_irqs; q++) {
        gic_disable_spi(vm->boot->irqs[q]);
    }
    for (uint32_t i = 0; i < vm->n_vcpus; i++) {
        struct vcpu *v = vm->vcpus[i];
        if (v->pd->core == c->index) {
            stop_vcpu(c, v);
        } else {
            ipi_post(c, v->pd, 0, &vm_immediate); /* it stops at its core's next look */
        }
    }
    /* Once only (the stopped flag above): the PDs it served learn that it is gone. */
    notify_peers_of_stop(c, vm->pd);
}

static const char *vcpu_state(const struct vcpu *v)
{
    switch (v->pd->state) {
    case PD_RUNNABLE:
    case PD_WOKEN:
        return "runnable";
    case PD_WAITING:
        return "waiting";
    case PD_OFF:
        return "off";
    default:
        return "stopped";
    }
}

static void report_exits(const struct vm *vm)
{
    static const char *const names[] = {
#define VM_EXIT_NAME(name) #name,
        VM_EXITS(VM_EXIT_NAME)
#undef VM_EXIT_NAME
    };
    const char *sep = "";
    kprintf(", \"phases\": [");
    for (uint32_t p = 0; p < PN_PHASE_COUNT; p++) {
        uint64_t sums[VM_EXIT_COUNT] = {0}, any = 0, virqs = 0;
        for (uint32_t i = 0; i < vm->n_vcpus; i++) {
            for (int e = 0; e < VM_EXIT_COUNT; e++) {
                sums[e] += vm->vcpus[i]->exits[p][e];
                any |= vm->vcpus[i]->exits[p][e];
            }
            virqs += vm->vcpus[i]->virqs[p];
        }
        if (!any && !virqs && p != 0) {
            continue;
        }
        kprintf("%s{\"phase\": %u, \"virqs\": %lu, \"exits\": {", sep, p, virqs);
        for (int e = 0; e < VM_EXIT_COUNT; e++) {
            kprintf("%s\"%s\": %lu", e ? ", " : "", names[e], sums[e]);
        }
        kprintf("}}");
        sep = ", ";
    }
    kprintf("]");
}

static void report_mmio(const struct vm *vm)
{
    kprintf(", \"mmio\": {");
    for (uint32_t i = 0; i < VM_MMIO_SLOTS && vm->mmio[i].name; i++) {
        kprintf("%s\"%s\": %lu", i ? ", " : "", vm->mmio[i].name, vm->mmio[i].count);
    }
    kprintf("}");
}

void vm_report(void)
{
    for (uint32_t i = 0; i < n_vms; i++) {
        const struct vm *vm = &vms[i];
        kprintf("pinion-vm {\"vm\": \"%s\", \"stopped\": %s, \"ram_bytes\": %lu, \"vcpus\": [",
                vm->pd->name, atomic_load(&vm->stopped) ? "true" : "false", vm->boot->ram_size);
        for (uint32_t v = 0; v < vm->n_vcpus; v++) {
            const struct vcpu *vc = vm->vcpus[v];
            kprintf("%s{\"vcpu\": %u, \"core\": %u, \"owner\": %u, \"state\": \"%s\"}",
                    v ? ", " : "", v, vc->pd->core, vc->pd->owner, vcpu_state(vc));
        }
        kprintf("]");
        report_exits(vm);
        report_mmio(vm);
        kprintf("}\n");
    }
}
