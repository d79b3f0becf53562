#include "insn_kind.h"

#include <pinion/markers.h>

enum insn_kind classify(uint32_t w)
{
    if ((w & ~(0xfu << 5)) == PN_HINT_ENCODING(PN_MARK_NIBBLE_BASE))
        return K_MARKER;
    if (w == 0xd69f03e0u || (w & 0xfffffbffu) == 0xd69f0bffu)
        return K_ERET;
    if ((w & 0x0a000000u) == 0x08000000u)
        return K_MAY_FAULT;
    if ((w & 0xffc00000u) == 0xd5000000u) {
        if ((w & 0xfffff01fu) == 0xd503201fu) { /* hint space */
            unsigned imm = (w >> 5) & 0x7f;
            return (imm == 2 || imm == 3) ? K_MAY_FAULT : K_PLAIN; /* WFE, WFI */
        }
        if ((w & 0xfffff01fu) == 0xd503301fu) /* barriers, CLREX */
            return K_PLAIN;
        return K_MAY_FAULT;
    }
    return K_PLAIN;
}
