/*
 * What an A64 instruction means for counting, decided from its word at
 * translation time: a marker, an eret, an instruction that may take a
 * synchronous exception at run time in the middle of a block, or plain.
 */
#ifndef PN_PLUGIN_INSN_KIND_H
#define PN_PLUGIN_INSN_KIND_H

#include <stdint.h>

enum insn_kind { K_PLAIN, K_MAY_FAULT, K_MARKER, K_ERET };

/*
 * Classify an A64 instruction word (encodings from the Arm ARM's A64
 * decode tables):
 *  - marker: HINT #0x70..#0x7f;
 *  - eret: ERET, and ERETAA/ERETAB;
 *  - may fault at run time in the middle of a block:
 *      loads and stores: op0 (bits 28:25) = x1x0;
 *      the system-instruction class, bits 31:22 = 1101010100 (MSR/MRS,
 *      SYS/SYSL, MSR immediate to PSTATE, ...), except hints and barriers,
 *      which never trap -- but WFE and WFI, which can trap to EL2, do
 *      count as may-fault.
 * Everything else (data processing, branches, exception generation, which
 * always ends a block, undefined encodings, which QEMU turns into an
 * exception at translation time, ending the block) is plain.
 */
enum insn_kind classify(uint32_t w);

#endif
