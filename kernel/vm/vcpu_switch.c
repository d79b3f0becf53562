/*
 * Moving a guest's state in and out of the hardware, in two parts:
 *   - its EL1 registers: saved on every switch away from the vCPU and
 *     restored on the way back, since a native PD may write some of them;
 *   - its "hardware": virtual timer, GIC virtual interface, FP/SIMD: left
 *     in place while native PDs or the kernel run on the core (they cannot
 *     touch them: the virtual interface is disabled and FP trapped for
 *     them), swapped only when another vCPU takes the core. So a vCPU
 *     alone among native PDs keeps its timer running, and its interrupt
 *     wakes the vCPU even while it waits.
 */
#include "vm.h"

#include "sysreg.h"

#define ICH_HCR_EL2   "S3_4_C12_C11_0"
#define ICH_VTR_EL2   "S3_4_C12_C11_1"
#define ICH_VMCR_EL2  "S3_4_C12_C11_7"
#define ICH_AP0R0_EL2 "S3_4_C12_C8_0"
#define ICH_AP1R0_EL2 "S3_4_C12_C9_0"

_Static_assert(sizeof(struct vcpu_fpsimd) == 528, "fpsimd.S layout");

uint32_t vgic_lr_count(void)
{
    uint32_t n = (uint32_t)(read_icc(ICH_VTR_EL2) & 0x1f) + 1;
    return n > VGIC_MAX_LRS ? VGIC_MAX_LRS : n;
}

/* A list register by number: the number is part of the instruction, hence the switch. */
#define LR_CASE(n, crm, op2)                                                                       \
    case n:                                                                                        \
        if (write) {                                                                               \
            __asm__ volatile("msr S3_4_C12_" #crm "_" #op2 ", %0" ::"r"(value));                   \
        } else {                                                                                   \
            __asm__ volatile("mrs %0, S3_4_C12_" #crm "_" #op2 : "=r"(value));                     \
        }                                                                                          \
        break;

uint64_t vgic_lr_access(uint32_t n, bool write, uint64_t value)
{
    switch (n) {
        LR_CASE(0, C12, 0)
        LR_CASE(1, C12, 1)
        LR_CASE(2, C12, 2)
        LR_CASE(3, C12, 3)
        LR_CASE(4, C12, 4)
        LR_CASE(5, C12, 5)
        LR_CASE(6, C12, 6)
        LR_CASE(7, C12, 7)
        LR_CASE(8, C13, 0)
        LR_CASE(9, C13, 1)
        LR_CASE(10, C13, 2)
        LR_CASE(11, C13, 3)
        LR_CASE(12, C13, 4)
        LR_CASE(13, C13, 5)
        LR_CASE(14, C13, 6)
        LR_CASE(15, C13, 7)
    default:
        break;
    }
    return value;
}

void vcpu_save_el1(struct vcpu *v)
{
    struct vcpu_el1 *r = &v->el1;
    r->sctlr = read_sysreg(sctlr_el1);
    r->actlr = read_sysreg(actlr_el1);
    r->cpacr = read_sysreg(cpacr_el1);
    r->ttbr0 = read_sysreg(ttbr0_el1);
    r->ttbr1 = read_sysreg(ttbr1_el1);
    r->tcr = read_sysreg(tcr_el1);
    r->esr = read_sysreg(esr_el1);
    r->afsr0 = read_sysreg(afsr0_el1);
    r->afsr1 = read_sysreg(afsr1_el1);
    r->far = read_sysreg(far_el1);
    r->mair = read_sysreg(mair_el1);
    r->amair = read_sysreg(amair_el1);
    r->vbar = read_sysreg(vbar_el1);
    r->contextidr = read_sysreg(contextidr_el1);
    r->tpidr_el0 = read_sysreg(tpidr_el0);
    r->tpidrro_el0 = read_sysreg(tpidrro_el0);
    r->tpidr_el1 = read_sysreg(tpidr_el1);
    r->cntkctl = read_sysreg(cntkctl_el1);
    r->par = read_sysreg(par_el1);
    r->sp_el0 = read_sysreg(sp_el0);
    r->elr = read_sysreg(elr_el1);
    r->spsr = read_sysreg(spsr_el1);
    r->mdscr = read_sysreg(mdscr_el1);
    r->csselr = read_sysreg(csselr_el1);
}

void vcpu_load_el1(const struct vcpu *v)
{
    const struct vcpu_el1 *r = &v->el1;
    write_sysreg(sctlr_el1, r->sctlr);
    write_sysreg(actlr_el1, r->actlr);
    write_sysreg(cpacr_el1, r->cpacr);
    write_sysreg(ttbr0_el1, r->ttbr0);
    write_sysreg(ttbr1_el1, r->ttbr1);
    write_sysreg(tcr_el1, r->tcr);
    write_sysreg(esr_el1, r->esr);
    write_sysreg(afsr0_el1, r->afsr0);
    write_sysreg(afsr1_el1, r->afsr1);
    write_sysreg(far_el1, r->far);
    write_sysreg(mair_el1, r->mair);
    write_sysreg(amair_el1, r->amair);
    write_sysreg(vbar_el1, r->vbar);
    write_sysreg(contextidr_el1, r->contextidr);
    write_sysreg(tpidr_el0, r->tpidr_el0);
    write_sysreg(tpidrro_el0, r->tpidrro_el0);
    write_sysreg(tpidr_el1, r->tpidr_el1);
    write_sysreg(cntkctl_el1, r->cntkctl);
    write_sysreg(par_el1, r->par);
    write_sysreg(sp_el0, r->sp_el0);
    write_sysreg(elr_el1, r->elr);
    write_sysreg(spsr_el1, r->spsr);
    write_sysreg(mdscr_el1, r->mdscr);
    write_sysreg(csselr_el1, r->csselr);
    write_sysreg(vmpidr_el2, (1ull << 31) | v->index);
}

/* Takes the guest's timer, virtual interface and FP/SIMD out of the hardware (FP untrapped). */
void vcpu_save_hw(struct vcpu *v)
{
    v->el1.cntv_ctl = read_sysreg(cntv_ctl_el0);
    v->el1.cntv_cval = read_sysreg(cntv_cval_el0);
    /* The next guest on this core must not take this one's timer. */
    write_sysreg(cntv_ctl_el0, 0);
    uint32_t lrs = vgic_lr_count();
    for (uint32_t i = 0; i < lrs; i++) {
        v->gic.lr[i] = vgic_lr_access(i, false, 0);
        vgic_lr_access(i, true, 0);
    }
    v->gic.vmcr = read_icc(ICH_VMCR_EL2);
    v->gic.ap0r0 = read_icc(ICH_AP0R0_EL2);
    v->gic.ap1r0 = read_icc(ICH_AP1R0_EL2);
    fpsimd_save(&v->fp);
}

void vcpu_load_hw(const struct vcpu *v)
{
    write_sysreg(cntv_cval_el0, v->el1.cntv_cval);
    write_sysreg(cntv_ctl_el0, v->el1.cntv_ctl);
    uint32_t lrs = vgic_lr_count();
    for (uint32_t i = 0; i < lrs; i++) {
        vgic_lr_access(i, true, v->gic.lr[i]);
    }
    write_icc(ICH_VMCR_EL2, v->gic.vmcr);
    write_icc(ICH_AP0R0_EL2, v->gic.ap0r0);
    write_icc(ICH_AP1R0_EL2, v->gic.ap1r0);
    fpsimd_load(&v->fp);
}

#define SPSR_EL1H_MASKED 0x3c5ull
#define SCTLR_EL1_RESET  0x30d00800ull /* RES1 bits; MMU and caches off, as Linux expects */

void vcpu_reset(struct vcpu *v, uint64_t entry, uint64_t x0)
{
    for (int i = 0; i < 31; i++) {
        v->pd->ctx.x[i] = 0;
    }
    v->pd->ctx.x[0] = x0;
    v->pd->ctx.elr = entry;
    v->pd->ctx.spsr = SPSR_EL1H_MASKED;
    v->pd->ctx.sp_el1 = 0;
    v->el1 = (struct vcpu_el1){.sctlr = SCTLR_EL1_RESET};
    for (int i = 0; i < VGIC_MAX_LRS; i++) {
        v->gic.lr[i] = 0;
    }
    v->gic.vmcr = v->gic.ap0r0 = v->gic.ap1r0 = 0;
    v->fp = (struct vcpu_fpsimd){0};
}
