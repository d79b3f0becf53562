/*
 * How EL2 configures the EL1&0 regime it returns to: one setting for
 * native PDs, one for a guest's vCPUs, swapped when a core switches
 * between the two kinds.
 */
#ifndef PINION_KERNEL_EL2_CONFIG_H
#define PINION_KERNEL_EL2_CONFIG_H

#define HCR_VM     (1ull << 0)
#define HCR_SWIO   (1ull << 1)
#define HCR_FMO    (1ull << 3)
#define HCR_IMO    (1ull << 4)
#define HCR_AMO    (1ull << 5)
#define HCR_FB     (1ull << 9)
#define HCR_BSU_IS (1ull << 10)
#define HCR_DC     (1ull << 12)
#define HCR_TWI    (1ull << 13)
#define HCR_TWE    (1ull << 14)
#define HCR_TSC    (1ull << 19)
#define HCR_TIDCP  (1ull << 20)
#define HCR_TSW    (1ull << 22)
#define HCR_TVM    (1ull << 26)
#define HCR_RW     (1ull << 31)

/*
 * Native PDs: stage 2 on, stage 1 off and memory cacheable by default (DC),
 * physical interrupts to the kernel, and traps for whatever could reach
 * beyond the PD: SMC (firmware), translation controls (TVM, shared by all
 * PDs of a core), set/way cache maintenance, WFI/WFE.
 */
#define HCR_NATIVE_PD                                                                              \
    (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_DC | HCR_TWI | HCR_TWE | HCR_TSC |      \
     HCR_TIDCP | HCR_TSW | HCR_TVM | HCR_RW)

/*
 * Guests own their EL1 translation, so they may write it without a trap.
 * WFI exits (a vCPU with nothing to do gives its core away); WFE does not,
 * since Linux's spinlocks use it and an exit would only add cost (vCPUs
 * never share a lock with a vCPU on the same core that could be waited
 * for). SMC traps (PSCI goes over HVC). Broadcast TLB and barrier
 * maintenance, for the vCPUs of one VM on several cores.
 */
#define HCR_GUEST                                                                                  \
    (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | HCR_TWI | HCR_TSC |   \
     HCR_RW)

#define CPTR_EL2_RES1    0x33ffull
#define CPTR_EL2_TFP     (1ull << 10)
#define SCTLR_EL1_RES1   0x30d00800ull /* with M, C, I clear: stage 1 off */
#define SPSR_EL1H_MASKED 0x3c5ull      /* EL1 with its own stack, D A I F masked */

#endif
