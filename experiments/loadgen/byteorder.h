/* Big-endian (network order) fields read and written byte by byte: no alignment or host-order
 * assumptions. */
#ifndef PINION_LOADGEN_BYTEORDER_H
#define PINION_LOADGEN_BYTEORDER_H

#include <stdint.h>

static inline void lg_put16(uint8_t *at, uint16_t value)
{
    at[0] = (uint8_t)(value >> 8);
    at[1] = (uint8_t)value;
}

static inline void lg_put32(uint8_t *at, uint32_t value)
{
    lg_put16(at, (uint16_t)(value >> 16));
    lg_put16(at + 2, (uint16_t)value);
}

static inline uint16_t lg_get16(const uint8_t *at)
{
    return (uint16_t)(at[0] << 8 | at[1]);
}

static inline uint32_t lg_get32(const uint8_t *at)
{
    return (uint32_t)lg_get16(at) << 16 | lg_get16(at + 2);
}

#endif
