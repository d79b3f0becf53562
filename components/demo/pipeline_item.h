/*
 * The hosted pipeline demo's item: which consumer it is for, its sequence
 * number for that consumer, and a check value derived from both, so a
 * consumer detects loss, duplication, reordering and corruption.
 */
#ifndef PINION_DEMO_PIPELINE_ITEM_H
#define PINION_DEMO_PIPELINE_ITEM_H

#include <stdint.h>

struct pipeline_item {
    uint32_t consumer;
    uint32_t seq;
    uint64_t check;
};

static inline uint64_t pipeline_check(uint32_t consumer, uint32_t seq)
{
    uint64_t z = ((uint64_t)consumer << 32 | seq) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
