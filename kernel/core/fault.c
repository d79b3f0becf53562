/*
 * A PD that faults is stopped and named on the console with the address
 * and the reason; the other PDs run on.
 */
#include "arch.h"
#include "console.h"
#include "kernel.h"
#include "sysreg.h"

#define EC_UNKNOWN    0x00
#define EC_FP         0x07
#define EC_SMC64      0x17
#define EC_SYSREG     0x18
#define EC_IABT_LOWER 0x20
#define EC_PC_ALIGN   0x22
#define EC_DABT_LOWER 0x24
#define EC_SP_ALIGN   0x26
#define EC_BRK        0x3c

static void stop(struct core *c, struct pd *pd, const char *what, const char *detail,
                 uint64_t address, uint64_t pc)
{
    if (pd->state == PD_FAULTED) {
        return;
    }
    kprintf("pinion: PD \"%s\" faulted on core %u: %s%s%s (address 0x%lx, pc 0x%lx); stopped, "
            "the other PDs run on\n",
            pd->name, c->index, what, detail ? ", " : "", detail ? detail : "", address, pc);
    pd->state = PD_FAULTED;
    sched_block(c, pd);
    count(c, EV_faults);
    /* Its devices' interrupts stay deliverable to nobody: deactivate what it held. */
    uint64_t active = pd->irq_active;
    while (active) {
        uint32_t ch = (uint32_t)__builtin_ctzll(active);
        active &= active - 1;
        gic_deactivate(pd->irq_intid[ch]);
    }
    pd->irq_active = 0;
    /* Peers waiting for its answers must learn that none will come. */
    notify_peers_of_stop(c, pd);
}

void fault_stop_pd(struct core *c, struct pd *pd, const char *what, uint64_t address, uint64_t pc)
{
    stop(c, pd, what, 0, address, pc);
}

static const char *abort_kind(uint32_t fsc)
{
    switch (fsc & 0x3c) {
    case 0x04:
        return "translation fault: nothing mapped there";
    case 0x08:
        return "access flag fault";
    case 0x0c:
        return "permission fault: mapped without that right";
    default:
        return fsc == 0x21 ? "alignment fault" : "abort";
    }
}

void fault_from_lower_el(struct core *c, struct pd *pd, uint64_t esr)
{
    uint32_t ec = (uint32_t)(esr >> 26) & 0x3f;
    uint64_t far = read_sysreg(far_el2), pc = pd->ctx.elr;
    switch (ec) {
    case EC_DABT_LOWER:
    case EC_IABT_LOWER: {
        const char *access = ec == EC_IABT_LOWER ? "instruction fetch"
                             : (esr & (1u << 6)) ? "write"
                                                 : "read";
        /* Stage 1 is off for native PDs: the faulting address is the IPA. */
        stop(c, pd, access, abort_kind((uint32_t)esr & 0x3f), far, pc);
        return;
    }
    case EC_SMC64:
        fault_stop_pd(c, pd, "SMC: firmware calls are the kernel's", 0, pc);
        return;
    case EC_SYSREG:
        fault_stop_pd(c, pd, "system register access the kernel keeps (translation controls)",
                      esr & 0x1ffffff, pc);
        return;
    case EC_FP:
        fault_stop_pd(c, pd, "floating point or SIMD: not available to PDs", 0, pc);
        return;
    case EC_PC_ALIGN:
    case EC_SP_ALIGN:
        fault_stop_pd(c, pd, "misaligned pc or stack pointer", far, pc);
        return;
    default:
        fault_stop_pd(c, pd, "unexpected exception", esr, pc);
        return;
    }
}

/*
 * The PD's own EL1 vectors (the target runtime's) report exceptions taken
 * inside the PD, such as an undefined instruction, with this call, passing
 * ESR_EL1, ELR_EL1 and FAR_EL1 in x1..x3.
 */
void fault_from_pd_vector(struct core *c, struct pd *pd, uint64_t vector)
{
    uint64_t esr = pd->ctx.x[1], elr = pd->ctx.x[2], far = pd->ctx.x[3];
    uint32_t ec = (uint32_t)(esr >> 26) & 0x3f;
    const char *what = ec == EC_UNKNOWN ? "undefined instruction"
                       : ec == EC_BRK   ? "breakpoint instruction (brk)"
                       : vector & 1     ? "interrupt inside the PD"
                                        : "exception inside the PD";
    fault_stop_pd(c, pd, what, ec == EC_UNKNOWN || ec == EC_BRK ? elr : far, elr);
}
