/*
 * Parameters of the plugin test program (prog.S). Read by the assembler
 * (through cpp) and by check_counts.py, which derives the expected counts
 * from them: keep every value a plain `#define NAME number`.
 */
#ifndef PN_PLUGIN_TEST_PARAMS_H
#define PN_PLUGIN_TEST_PARAMS_H

/* Owners (8-bit). 0xee and 0xef also exercise nibbles 0xe/0xf read as
 * nibbles (they are also the kernel-entry / switch marker values). */
#define OWNER_A     0x12 /* vCPU 0's PD */
#define OWNER_B     0x34 /* vCPU 1's first PD */
#define OWNER_C     0x56 /* vCPU 1's second PD (phase 2, set by vCPU 1) */
#define OWNER_F7    0xf7 /* reached through SWITCH, SWITCH(=nibble f), nibble 7 */
#define OWNER_MAX   0xff
#define OWNER_WAIT  0xee /* vCPU 0 waiting for vCPU 1: counted loosely */
#define OWNER_PRINT 0xef /* vCPU 0 printing the wait-loop iteration counts */
#define OWNER_BAD   0xdd /* unexpected exception: must never appear */

/* Loop iteration counts (LOOP n = 1 + 2n instructions, n < 65536). */
#define N_BOOT 1000  /* vCPU 0, owner 0, phase 0 */
#define N_AK   12345 /* vCPU 0, OWNER_A kernel, phase 0 */
#define N_AU   54321 /* vCPU 0, OWNER_A user, phase 0 */
#define N_A3   777   /* vCPU 0, OWNER_A kernel, phase 3 */
#define N_MAX  4242  /* vCPU 0, OWNER_MAX kernel, phase 15 */
#define N_BK   23456 /* vCPU 1, OWNER_B kernel, phase 1 */
#define N_BU   34567 /* vCPU 1, OWNER_B user, phase 1 */
#define N_F7   99    /* vCPU 1, OWNER_F7 kernel, phase 1 */
#define N_CK   4567  /* vCPU 1, OWNER_C kernel, phase 2 */
#define N_CU   5678  /* vCPU 1, OWNER_C user, phase 2 */

/* Straight-line instructions after each mid-block faulting instruction,
 * up to and including the branch or hvc that ends its block. */
#define K_FAULT_A 7  /* vCPU 0 EL2 load fault (skipped), OWNER_A kernel */
#define K_TRAP_A  5  /* vCPU 0 EL1 mrs trapped to EL2 (skipped), OWNER_A user */
#define K_FAULT_B 11 /* vCPU 1 EL2 load fault (skipped), OWNER_B kernel */
#define K_FAULT_C 13 /* vCPU 1 EL2 load fault (retried), OWNER_C kernel */

/* PSCI (SMC conduit) function ids. */
#define PSCI_CPU_OFF    0x84000002
#define PSCI_CPU_ON     0xc4000003
#define PSCI_SYSTEM_OFF 0x84000008

#define UART_BASE 0x09000000 /* QEMU virt PL011 */

#endif
