/*
 * The table behind pn_counter(): one per PD, in the PD's own memory, found
 * by the runtime through the symbol pn_counter_table (dlsym on the host, the
 * ELF symbol table on target) when it reads counters out.
 */
#ifndef PINION_COUNTERS_H
#define PINION_COUNTERS_H

#include <pinion/component.h>

struct pn_counter_slot {
    char name[PN_NAME_MAX];
    uint64_t value;
};

struct pn_counter_table {
    uint32_t count;
    uint32_t reserved;
    struct pn_counter_slot slots[PN_MAX_COUNTERS];
};

#define PN_COUNTER_TABLE_SYMBOL "pn_counter_table"

#endif
