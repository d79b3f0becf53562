/*
 * The virtual GICv3 of a VM. The guest's CPU interface is the hardware's
 * virtual one (ICV registers, list registers); what is emulated here is
 * the distributor and the redistributors, whose pages trap. Interrupts
 * wait in a vCPU's pending bits until a list register is free; device
 * interrupts and the virtual timer go in linked to their physical INTID,
 * so the guest's end of interrupt deactivates the physical one without an
 * exit.
 */
#include "vm.h"

#include "arch.h"
#include "console.h"
#include "ipi.h"
#include "sysreg.h"

#define ICH_HCR_EL2   "S3_4_C12_C11_0"
#define ICH_ELRSR_EL2 "S3_4_C12_C11_5"
#define ICH_HCR_EN    (1u << 0)
#define ICH_HCR_UIE   (1u << 1) /* maintenance interrupt when list registers run low */

#define LR_PENDING        (1ull << 62)
#define LR_ACTIVE         (1ull << 63)
#define LR_HW             (1ull << 61)
#define LR_GROUP1         (1ull << 60)
#define LR_PRIORITY_SHIFT 48
#define LR_PINTID_SHIFT   32
#define LR_VINTID_MASK    0xffffffffull

#define GICD_PIDR2_V3 0x3b /* architecture version 3 */
#define GIC_IIDR      0x43b

static bool test_bit(const uint64_t *words, uint32_t i)
{
    return (words[i / 64] >> (i % 64)) & 1;
}

static void set_bit(uint64_t *words, uint32_t i)
{
    words[i / 64] |= 1ull << (i % 64);
}

static void clear_bit(uint64_t *words, uint32_t i)
{
    words[i / 64] &= ~(1ull << (i % 64));
}

void vgic_init_vm(struct vm *vm)
{
    for (uint32_t i = 0; i < VGIC_INTIDS; i++) {
        vm->spi_priority[i] = 0xa0;
        vm->spi_target[i] = 0;
    }
    for (uint32_t i = 0; i < vm->boot->n_irqs; i++) {
        set_bit(vm->spi_hw, vm->boot->irqs[i]);
    }
}

static bool enabled(const struct vcpu *v, uint32_t intid)
{
    return intid < 32 ? (v->private_enabled >> intid) & 1 : test_bit(v->vm->spi_enabled, intid);
}

static uint8_t priority(const struct vcpu *v, uint32_t intid)
{
    return intid < 32 ? v->private_priority[intid] : v->vm->spi_priority[intid];
}

void vgic_raise(struct vcpu *v, uint32_t intid)
{
    if (intid < VGIC_INTIDS) {
        set_bit(v->pending, intid);
    }
}

/* Wakes a vCPU waiting in WFI if an interrupt for it is now deliverable. */
void vgic_wake(struct core *c, struct vcpu *v)
{
    if (v->pd->state == PD_WAITING && vgic_has_pending(v, c->guest == v)) {
        v->pd->state = PD_RUNNABLE;
        sched_make_runnable(c, v->pd);
        count(c, EV_wakeups);
    }
}

void vgic_raise_spi(struct core *c, struct vm *vm, uint32_t intid)
{
    if (intid < 32 || intid >= VGIC_INTIDS || vm->stopped) {
        return;
    }
    struct vcpu *target = vm->vcpus[vm->spi_target[intid] % vm->n_vcpus];
    if (target->pd->core == c->index) {
        vgic_raise(target, intid);
        vgic_wake(c, target);
        return;
    }
    atomic_fetch_or_explicit(&target->incoming_spis[intid / 64], 1ull << (intid % 64),
                             memory_order_relaxed);
    ipi_post(c, target->pd, 0, &vm_immediate);
}

void vgic_send_sgi(struct core *c, struct vcpu *from, uint64_t sgi1r)
{
    struct vm *vm = from->vm;
    uint32_t intid = (uint32_t)(sgi1r >> 24) & 0xf;
    bool to_others = (sgi1r >> 40) & 1;
    uint32_t range = (uint32_t)(sgi1r >> 44) & 0xf;
    uint64_t higher_affinity = sgi1r & ((0xffull << 16) | (0xffull << 32) | (0xffull << 48));
    for (uint32_t i = 0; i < vm->n_vcpus; i++) {
        struct vcpu *t = vm->vcpus[i];
        bool chosen = to_others
                          ? t != from
                          : higher_affinity == 0 && i / 16 == range && ((sgi1r >> (i % 16)) & 1);
        if (!chosen) {
            continue;
        }
        if (t->pd->core == c->index) {
            vgic_raise(t, intid);
            vgic_wake(c, t);
        } else {
            atomic_fetch_or_explicit(&t->incoming_sgis, 1u << intid, memory_order_relaxed);
            ipi_post(c, t->pd, 0, &vm_immediate);
        }
    }
}

bool vgic_has_pending(const struct vcpu *v, bool loaded)
{
    for (uint32_t w = 0; w < VGIC_WORDS; w++) {
        uint64_t bits = v->pending[w];
        while (bits) {
            uint32_t intid = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (enabled(v, intid)) {
                return true;
            }
        }
    }
    uint32_t lrs = vgic_lr_count();
    for (uint32_t i = 0; i < lrs; i++) {
        uint64_t lr = loaded ? vgic_lr_access(i, false, 0) : v->gic.lr[i];
        if (lr & LR_PENDING) {
            return true;
        }
    }
    return false;
}

void vgic_retract(struct vcpu *v, uint32_t intid)
{
    uint32_t lrs = vgic_lr_count();
    for (uint32_t i = 0; i < lrs; i++) {
        uint64_t lr = vgic_lr_access(i, false, 0);
        if ((lr & LR_VINTID_MASK) == intid && (lr & (LR_PENDING | LR_ACTIVE)) == LR_PENDING) {
            vgic_lr_access(i, true, 0);
        }
    }
    clear_bit(v->pending, intid);
}

void vgic_unlink_timer(struct vcpu *v)
{
    for (uint32_t i = 0; i < VGIC_MAX_LRS; i++) {
        if ((v->gic.lr[i] & LR_VINTID_MASK) == PN_GUEST_VTIMER_INTID) {
            v->gic.lr[i] &= ~(LR_HW | (0x3ffull << LR_PINTID_SHIFT));
        }
    }
}

/*
 * Moves deliverable pending interrupts into free list registers; v is the
 * guest loaded on this core. Overflow asks for a maintenance interrupt
 * when the list registers drain, to move the rest in then.
 */
uint32_t vgic_flush(struct vcpu *v)
{
    uint32_t injected = 0;
    struct vm *vm = v->vm;
    uint32_t lrs = vgic_lr_count();
    uint64_t free_lrs = read_icc(ICH_ELRSR_EL2) & ((1ull << lrs) - 1);
    uint32_t in_lr[VGIC_MAX_LRS];
    for (uint32_t i = 0; i < lrs; i++) {
        in_lr[i] = (free_lrs >> i) & 1 ? UINT32_MAX
                                       : (uint32_t)(vgic_lr_access(i, false, 0) & LR_VINTID_MASK);
    }
    /* A level-triggered emulated line stays asserted until the guest clears it. */
    if (vuart_irq_level(vm) && vm->spi_target[PN_GUEST_UART_INTID] == v->index) {
        bool queued = false;
        for (uint32_t i = 0; i < lrs; i++) {
            queued |= in_lr[i] == PN_GUEST_UART_INTID;
        }
        if (!queued) {
            vgic_raise(v, PN_GUEST_UART_INTID);
        }
    }
    bool overflow = false;
    for (uint32_t w = 0; w < VGIC_WORDS; w++) {
        uint64_t bits = v->pending[w];
        while (bits) {
            uint32_t intid = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (!enabled(v, intid)) {
                continue;
            }
            bool busy = false;
            for (uint32_t i = 0; i < lrs; i++) {
                busy |= in_lr[i] == intid;
            }
            if (busy) {
                continue; /* delivered when the one in flight is done */
            }
            if (free_lrs == 0) {
                overflow = true;
                break;
            }
            uint32_t lr = (uint32_t)__builtin_ctzll(free_lrs);
            free_lrs &= free_lrs - 1;
            uint64_t value = intid | LR_GROUP1 | LR_PENDING |
                             ((uint64_t)priority(v, intid) << LR_PRIORITY_SHIFT);
            if (intid == PN_GUEST_VTIMER_INTID || (intid >= 32 && test_bit(vm->spi_hw, intid))) {
                value |= LR_HW | ((uint64_t)intid << LR_PINTID_SHIFT);
            }
            vgic_lr_access(lr, true, value);
            injected++;
            in_lr[lr] = intid;
            clear_bit(v->pending, intid);
        }
    }
    write_icc(ICH_HCR_EL2, ICH_HCR_EN | (overflow ? ICH_HCR_UIE : 0));
    return injected;
}

void vm_count_mmio(struct vm *vm, enum vm_device device, uint32_t offset)
{
    const char *name = vm_register_name(device, offset);
    for (uint32_t i = 0; i < VM_MMIO_SLOTS; i++) {
        struct vm_mmio_count *slot = &vm->mmio[i];
        if (slot->name == 0) {
            slot->name = name;
        }
        if (slot->name == name) {
            slot->count++;
            return;
        }
    }
}

/* A 32-bit register of bits for INTIDs base..base+31, of a bitmap. */
static uint32_t word32(const uint64_t *bits, uint32_t base)
{
    return (uint32_t)(bits[base / 64] >> (base % 64));
}

static void set_word32(uint64_t *bits, uint32_t base, uint32_t value, bool set)
{
    uint64_t mask = (uint64_t)value << (base % 64);
    if (set) {
        bits[base / 64] |= mask;
    } else {
        bits[base / 64] &= ~mask;
    }
}

static void route_spi(struct vm *vm, uint32_t intid, uint64_t affinity)
{
    uint32_t target = (affinity >> 31) & 1 ? 0 : (uint32_t)(affinity & 0xff);
    if (target >= vm->n_vcpus) {
        target = 0;
    }
    vm->spi_target[intid] = (uint8_t)target;
    if (test_bit(vm->spi_hw, intid)) {
        /* The physical interrupt follows, so it arrives where its vCPU runs. */
        gic_route_spi(intid, vm->vcpus[target]->pd->core, false);
    }
}

static bool distributor(struct core *c, struct vm *vm, uint32_t off, bool write, uint32_t size,
                        uint64_t *value)
{
    uint64_t v = write ? *value : 0;
    if (off == 0x0000) { /* CTLR: ARE and single security state always on */
        if (write) {
            vm->gicd_ctlr = (uint32_t)v & 0x3;
        }
        v = vm->gicd_ctlr | (1u << 4) | (1u << 6);
    } else if (off == 0x0004) { /* TYPER */
        v = (VGIC_INTIDS / 32 - 1) | (9u << 19);
    } else if (off == 0x0008) {
        v = GIC_IIDR;
    } else if (off >= 0x0080 && off < 0x0100) { /* IGROUPR: all group 1 */
        v = 0xffffffffu;
    } else if (off >= 0x0100 && off < 0x0200) { /* ISENABLER, ICENABLER */
        uint32_t base = (off & 0x7f) * 8;
        if (base >= 32 && base < VGIC_INTIDS) {
            if (write) {
                set_word32(vm->spi_enabled, base, (uint32_t)v, off < 0x0180);
            }
            v = word32(vm->spi_enabled, base);
        } else {
            v = 0;
        }
    } else if (off >= 0x0200 && off < 0x0280) { /* ISPENDR: software trigger */
        uint32_t base = (off & 0x7f) * 8;
        for (uint32_t b = 0; write && b < 32; b++) {
            if ((v >> b) & 1) {
                vgic_raise_spi(c, vm, base + b);
            }
        }
        v = 0;
    } else if (off >= 0x0400 && off < 0x0400 + VGIC_INTIDS) { /* IPRIORITYR, bytes */
        uint32_t first = off - 0x0400;
        for (uint32_t i = 0; i < size && first + i < VGIC_INTIDS; i++) {
            if (write && first + i >= 32) {
                vm->spi_priority[first + i] = (uint8_t)(v >> (8 * i));
            }
        }
        v = 0;
        for (uint32_t i = 0; i < size && first + i < VGIC_INTIDS; i++) {
            v |= (uint64_t)(first + i >= 32 ? vm->spi_priority[first + i] : 0) << (8 * i);
        }
    } else if (off >= 0x0c00 && off < 0x0d00) { /* ICFGR: 2 bits per INTID, bit 1 edge */
        uint32_t base = (off - 0x0c00) * 4;
        uint32_t out = 0;
        for (uint32_t i = 0; i < 16 && base + i < VGIC_INTIDS; i++) {
            if (write && base + i >= 32) {
                if ((v >> (2 * i + 1)) & 1) {
                    set_bit(vm->spi_edge, base + i);
                } else {
                    clear_bit(vm->spi_edge, base + i);
                }
            }
            out |= (uint32_t)test_bit(vm->spi_edge, base + i) << (2 * i + 1);
        }
        v = out;
    } else if (off >= 0x6100 && off < 0x6000 + 8 * VGIC_INTIDS) { /* IROUTER, 64-bit */
        uint32_t intid = (off - 0x6000) / 8;
        if (write && (off & 7) == 0) {
            route_spi(vm, intid, v);
        }
        v = (off & 7) == 0 ? vm->spi_target[intid] : 0;
    } else if (off == 0xffe8) {
        v = GICD_PIDR2_V3;
    } else {
        v = 0; /* the rest reads as zero and ignores writes (active, group modifier, ...) */
    }
    if (!write) {
        *value = v;
    }
    return true;
}

static bool redistributor(struct vm *vm, uint32_t off, bool write, uint32_t size, uint64_t *value)
{
    uint32_t index = off / (uint32_t)PN_GUEST_GICR_STRIDE;
    if (index >= vm->n_vcpus) {
        return false;
    }
    struct vcpu *v = vm->vcpus[index];
    uint32_t reg = off % (uint32_t)PN_GUEST_GICR_STRIDE;
    uint64_t in = write ? *value : 0, out = 0;
    bool last = index == vm->n_vcpus - 1;
    uint64_t typer = ((uint64_t)index << 32) | ((uint64_t)index << 8) | (last ? 1u << 4 : 0);
    switch (reg) {
    case 0x0004:
        out = GIC_IIDR;
        break;
    case 0x0008:
        out = size == 8 ? typer : (uint32_t)typer;
        break;
    case 0x000c:
        out = typer >> 32;
        break;
    case 0x0014: /* WAKER: children asleep follows processor sleep */
        if (write) {
            v->waker = (uint32_t)in & 2;
        }
        out = v->waker | (v->waker << 1);
        break;
    case 0xffe8:
        out = GICD_PIDR2_V3;
        break;
    case 0x10080: /* IGROUPR0 */
        out = 0xffffffffu;
        break;
    case 0x10100:
    case 0x10180: /* ISENABLER0, ICENABLER0 */
        if (write) {
            v->private_enabled = reg == 0x10100 ? v->private_enabled | (uint32_t)in
                                                : v->private_enabled & ~(uint32_t)in;
        }
        out = v->private_enabled;
        break;
    case 0x10c04: /* ICFGR1: the PPIs */
        if (write) {
            v->private_edge = (uint32_t)in;
        }
        out = v->private_edge;
        break;
    case 0x10c00: /* ICFGR0: SGIs are edge */
        out = 0xaaaaaaaau;
        break;
    default:
        if (reg >= 0x10400 && reg < 0x10420) { /* IPRIORITYR0..7 */
            uint32_t first = reg - 0x10400;
            for (uint32_t i = 0; i < size && first + i < 32; i++) {
                if (write) {
                    v->private_priority[first + i] = (uint8_t)(in >> (8 * i));
                }
                out |= (uint64_t)v->private_priority[first + i] << (8 * i);
            }
        }
        break; /* everything else: reads as zero, writes ignored */
    }
    if (!write) {
        *value = out;
    }
    return true;
}

bool vgic_mmio(struct vm *vm, uint64_t ipa, bool write, uint32_t size, uint64_t *value)
{
    struct core *c = this_core();
    bool done;
    vm_lock(vm);
    if (ipa >= PN_GUEST_GICD_BASE && ipa < PN_GUEST_GICD_BASE + PN_GUEST_GICD_SIZE) {
        uint32_t off = (uint32_t)(ipa - PN_GUEST_GICD_BASE);
        vm_count_mmio(vm, VM_DEVICE_GICD, off);
        done = distributor(c, vm, off, write, size, value);
    } else {
        uint32_t off = (uint32_t)(ipa - PN_GUEST_GICR_BASE);
        vm_count_mmio(vm, VM_DEVICE_GICR, off % (uint32_t)PN_GUEST_GICR_STRIDE);
        done = redistributor(vm, off, write, size, value);
    }
    vm_unlock(vm);
    return done;
}
