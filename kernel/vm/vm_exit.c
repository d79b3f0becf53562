/*
 * Synchronous exits from a guest: emulated device registers and doorbells
 * (stage-2 data aborts), PSCI (HVC), WFI, trapped system registers. Each
 * is counted by reason. Anything the kernel cannot make sense of stops
 * the VM, named with what happened, and nothing else.
 */
#include "vm.h"

#include "arch.h"
#include "console.h"
#include "ipi.h"
#include "sysreg.h"

#define EC_WFX      0x01
#define EC_HVC64    0x16
#define EC_SMC64    0x17
#define EC_SYSREG   0x18
#define EC_IABT_LOW 0x20
#define EC_DABT_LOW 0x24

#define ISS_ISV   (1u << 24)
#define ISS_SSE   (1u << 21)
#define ISS_SF    (1u << 15)
#define ISS_S1PTW (1u << 7)
#define ISS_WNR   (1u << 6)

#define PSCI_VERSION       0x84000000u
#define PSCI_CPU_SUSPEND   0xc4000001u
#define PSCI_CPU_OFF       0x84000002u
#define PSCI_CPU_ON        0xc4000003u
#define PSCI_AFFINITY_INFO 0xc4000004u
#define PSCI_MIGRATE_INFO  0x84000006u
#define PSCI_SYSTEM_OFF    0x84000008u
#define PSCI_SYSTEM_RESET  0x84000009u
#define PSCI_FEATURES      0x8400000au
#define PSCI_64BIT         0x40000000u
#define PSCI_SUCCESS       0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID       (-2)
#define PSCI_ALREADY_ON    (-4)
#define PSCI_MIGRATE_NONE  2 /* no trusted OS to migrate */

/* Reports a guest problem and stops the VM; the vCPU's core goes on with its other PDs. */
static void stop_for(struct core *c, struct vcpu *v, const char *what, uint64_t address)
{
    kprintf("pinion: VM \"%s\" vCPU %u: %s (address 0x%lx, PC 0x%lx)\n", v->vm->pd->name, v->index,
            what, address, v->pd->ctx.elr);
    count(c, EV_faults);
    vm_stop(c, v->vm, what);
}

static bool ring_doorbell(struct core *c, struct vcpu *v, uint32_t channel)
{
    struct pd *vm_pd = v->vm->pd;
    if (channel >= PN_CONFIG_MAX_CHANNELS || vm_pd->channels[channel].target == 0) {
        return false;
    }
    notify_send(c, vm_pd, channel);
    return true;
}

static bool emulate(struct core *c, struct vcpu *v, uint64_t ipa, bool write, uint32_t size,
                    uint64_t *value)
{
    struct vm *vm = v->vm;
    uint64_t gicr_end = PN_GUEST_GICR_BASE + vm->n_vcpus * PN_GUEST_GICR_STRIDE;
    if ((ipa >= PN_GUEST_GICD_BASE && ipa < PN_GUEST_GICD_BASE + PN_GUEST_GICD_SIZE) ||
        (ipa >= PN_GUEST_GICR_BASE && ipa < gicr_end)) {
        vm_count_exit(v, ipa < PN_GUEST_GICR_BASE ? VM_EXIT_mmio_gicd : VM_EXIT_mmio_gicr);
        return vgic_mmio(vm, ipa, write, size, value);
    }
    if (ipa >= PN_GUEST_UART_BASE && ipa < PN_GUEST_UART_BASE + PN_GUEST_UART_SIZE) {
        vm_count_exit(v, VM_EXIT_mmio_uart);
        vm_lock(vm);
        vm_count_mmio(vm, VM_DEVICE_UART, (uint32_t)(ipa - PN_GUEST_UART_BASE));
        bool level_before = vuart_irq_level(vm);
        bool done = vuart_mmio(vm, ipa - PN_GUEST_UART_BASE, write, value);
        bool level_after = vuart_irq_level(vm);
        vm_unlock(vm);
        if (level_before && !level_after) {
            vgic_retract(v, PN_GUEST_UART_INTID);
        }
        return done;
    }
    uint64_t doorbells_end =
        PN_GUEST_DOORBELL_BASE + PN_CONFIG_MAX_CHANNELS * PN_GUEST_DOORBELL_SIZE;
    if (ipa >= PN_GUEST_DOORBELL_BASE && ipa < doorbells_end) {
        vm_count_exit(v, VM_EXIT_doorbell);
        if (!write) {
            *value = 0;
            return true;
        }
        return ring_doorbell(c, v,
                             (uint32_t)((ipa - PN_GUEST_DOORBELL_BASE) / PN_GUEST_DOORBELL_SIZE));
    }
    return false;
}

static void data_abort(struct core *c, struct vcpu *v, uint64_t esr)
{
    struct pd *pd = v->pd;
    uint64_t far = read_sysreg(far_el2), hpfar = read_sysreg(hpfar_el2);
    uint64_t ipa = ((hpfar >> 4) << 12) | (far & 0xfff);
    if (!(esr & ISS_ISV) || (esr & ISS_S1PTW)) {
        vm_count_exit(v, VM_EXIT_other);
        stop_for(c, v, "guest memory access the kernel cannot emulate", ipa);
        return;
    }
    uint32_t size = 1u << ((esr >> 22) & 3), reg = (uint32_t)(esr >> 16) & 31;
    bool write = (esr & ISS_WNR) != 0;
    uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    uint64_t value = write && reg != 31 ? pd->ctx.x[reg] & mask : 0;
    if (!emulate(c, v, ipa, write, size, &value)) {
        if (v->pd->state != PD_FAULTED) {
            stop_for(c, v,
                     write ? "write to an address it has no access to"
                           : "read from an address it has no access to",
                     ipa);
        }
        return;
    }
    if (!write && reg != 31) {
        value &= mask;
        if ((esr & ISS_SSE) && size < 8 && (value >> (8 * size - 1)) & 1) {
            value |= ~mask;
        }
        pd->ctx.x[reg] = (esr & ISS_SF) ? value : value & 0xffffffffu;
    }
    pd->ctx.elr += 4;
}

static struct vcpu *vcpu_by_mpidr(struct vm *vm, uint64_t mpidr)
{
    uint64_t index = mpidr & 0xff00ffffffull;
    return index < vm->n_vcpus ? vm->vcpus[index] : 0;
}

static int64_t psci_cpu_on_guest(struct core *c, struct vcpu *v)
{
    struct vcpu *target = vcpu_by_mpidr(v->vm, v->pd->ctx.x[1]);
    if (target == 0) {
        return PSCI_INVALID;
    }
    if (atomic_load(&target->powered) || atomic_load(&target->power_on)) {
        return PSCI_ALREADY_ON;
    }
    target->on_entry = v->pd->ctx.x[2];
    target->on_context = v->pd->ctx.x[3];
    atomic_store_explicit(&target->power_on, true, memory_order_release);
    if (target->pd->core == c->index) {
        vm_take_incoming(c, target->pd, 0);
    } else {
        ipi_post(c, target->pd, 0, &vm_immediate);
    }
    return PSCI_SUCCESS;
}

static bool psci_supported(uint32_t function)
{
    switch (function | PSCI_64BIT) {
    case PSCI_VERSION | PSCI_64BIT:
    case PSCI_CPU_OFF | PSCI_64BIT:
    case PSCI_CPU_ON:
    case PSCI_AFFINITY_INFO:
    case PSCI_MIGRATE_INFO | PSCI_64BIT:
    case PSCI_SYSTEM_OFF | PSCI_64BIT:
    case PSCI_SYSTEM_RESET | PSCI_64BIT:
    case PSCI_FEATURES | PSCI_64BIT:
        return true;
    default:
        return false;
    }
}

static void psci(struct core *c, struct vcpu *v)
{
    struct pd *pd = v->pd;
    uint32_t function = (uint32_t)pd->ctx.x[0];
    int64_t result = PSCI_NOT_SUPPORTED;
    vm_count_exit(v, VM_EXIT_psci);
    switch (function | PSCI_64BIT) {
    case PSCI_VERSION | PSCI_64BIT:
        result = 0x10000; /* 1.0 */
        break;
    case PSCI_FEATURES | PSCI_64BIT:
        result = psci_supported((uint32_t)pd->ctx.x[1]) ? PSCI_SUCCESS : PSCI_NOT_SUPPORTED;
        break;
    case PSCI_MIGRATE_INFO | PSCI_64BIT:
        result = PSCI_MIGRATE_NONE;
        break;
    case PSCI_CPU_ON:
        result = psci_cpu_on_guest(c, v);
        break;
    case PSCI_AFFINITY_INFO: {
        struct vcpu *target = vcpu_by_mpidr(v->vm, pd->ctx.x[1]);
        result = target == 0 ? PSCI_INVALID : atomic_load(&target->powered) ? 0 : 1;
        break;
    }
    case PSCI_CPU_OFF | PSCI_64BIT:
        atomic_store(&v->powered, false);
        pd->state = PD_OFF;
        sched_block(c, pd);
        return;
    case PSCI_SYSTEM_OFF | PSCI_64BIT:
        vm_stop(c, v->vm, "powered off (PSCI SYSTEM_OFF)");
        return;
    case PSCI_SYSTEM_RESET | PSCI_64BIT:
        vm_stop(c, v->vm, "asked for a reset (PSCI SYSTEM_RESET), which pinion does not do");
        return;
    default:
        break;
    }
    pd->ctx.x[0] = (uint64_t)result;
}

/* ICC_SGI1R_EL1, ICC_ASGI1R_EL1, ICC_SGI0R_EL1: op0 3, op1 0, CRn 12, CRm 11, op2 5..7. */
static bool is_sgi_register(uint64_t esr)
{
    uint32_t op0 = (uint32_t)(esr >> 20) & 3, op2 = (uint32_t)(esr >> 17) & 7;
    uint32_t op1 = (uint32_t)(esr >> 14) & 7, crn = (uint32_t)(esr >> 10) & 15;
    uint32_t crm = (uint32_t)(esr >> 1) & 15;
    return op0 == 3 && op1 == 0 && crn == 12 && crm == 11 && op2 >= 5;
}

static void system_register(struct core *c, struct vcpu *v, uint64_t esr)
{
    struct pd *pd = v->pd;
    uint32_t reg = (uint32_t)(esr >> 5) & 31;
    bool read = esr & 1;
    if (is_sgi_register(esr) && !read) {
        vm_count_exit(v, VM_EXIT_sysreg_sgi);
        vgic_send_sgi(c, v, reg == 31 ? 0 : pd->ctx.x[reg]);
    } else {
        /* Trapped registers the guest should not use (the physical timer): read as zero. */
        vm_count_exit(v, VM_EXIT_sysreg_other);
        if (read && reg != 31) {
            pd->ctx.x[reg] = 0;
        }
    }
    pd->ctx.elr += 4;
}

void vm_handle_sync(struct core *c, struct pd *pd, uint64_t esr)
{
    struct vcpu *v = pd->vcpu;
    uint32_t ec = (uint32_t)(esr >> 26) & 0x3f;
    switch (ec) {
    case EC_DABT_LOW:
        data_abort(c, v, esr);
        break;
    case EC_HVC64:
        psci(c, v);
        break;
    case EC_SMC64:
        vm_count_exit(v, VM_EXIT_psci);
        pd->ctx.x[0] = (uint64_t)(int64_t)PSCI_NOT_SUPPORTED; /* no firmware behind it */
        pd->ctx.elr += 4;
        break;
    case EC_WFX:
        pd->ctx.elr += 4;
        if (esr & 1) {
            vm_count_exit(v, VM_EXIT_wfe);
        } else {
            vm_count_exit(v, VM_EXIT_wfi);
            vm_wait(c, pd);
        }
        break;
    case EC_SYSREG:
        system_register(c, v, esr);
        break;
    case EC_IABT_LOW:
        vm_count_exit(v, VM_EXIT_other);
        stop_for(c, v, "instruction fetch from an address it has no access to",
                 ((read_sysreg(hpfar_el2) >> 4) << 12) | (read_sysreg(far_el2) & 0xfff));
        break;
    default:
        vm_count_exit(v, VM_EXIT_other);
        stop_for(c, v, "an exit the kernel does not handle (see ESR)", esr);
        break;
    }
}
