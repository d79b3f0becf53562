/* Named event counters kept in the PD's memory; freestanding. */
#include <pinion/counters.h>

struct pn_counter_table pn_counter_table;

/* Names are compared as stored: at most PN_NAME_MAX - 1 characters. */
static bool same_name(const char *stored, const char *name)
{
    for (unsigned j = 0; j < PN_NAME_MAX - 1; j++) {
        if (stored[j] != name[j]) {
            return false;
        }
        if (stored[j] == '\0') {
            return true;
        }
    }
    return true;
}

uint64_t *pn_counter(const char *name)
{
    for (uint32_t i = 0; i < pn_counter_table.count; i++) {
        if (same_name(pn_counter_table.slots[i].name, name)) {
            return &pn_counter_table.slots[i].value;
        }
    }
    if (pn_counter_table.count == PN_MAX_COUNTERS) {
        pn_fatal("more counters than PN_MAX_COUNTERS");
    }
    struct pn_counter_slot *slot = &pn_counter_table.slots[pn_counter_table.count];
    unsigned j = 0;
    for (; j < PN_NAME_MAX - 1 && name[j]; j++) {
        slot->name[j] = name[j];
    }
    slot->name[j] = '\0';
    slot->value = 0;
    pn_counter_table.count++;
    return &slot->value;
}
