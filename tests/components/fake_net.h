/*
 * Shared by the fake network peers of the hosted tests (fake_net_driver,
 * fake_net_client, fake_net_peer): big-endian field access, the payload
 * pattern frames are written and checked by, and sleeping on a ring the
 * strict way. Freestanding, like every component.
 */
#ifndef PINION_TESTS_FAKE_NET_H
#define PINION_TESTS_FAKE_NET_H

#include <pinion/ring.h>
#include <stdbool.h>
#include <stdint.h>

static inline void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t get32(const uint8_t *p)
{
    return get16(p) << 16 | get16(p + 2);
}

/* A 32-bit integer hash, for deterministic variety in what the fakes send. */
static inline uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    return x ^ (x >> 16);
}

/* Payload byte i of frame `seq` of a stream: the fake driver writes, the fake clients check. */
static inline uint8_t pattern(uint8_t stream, uint32_t seq, uint32_t i)
{
    return (uint8_t)(seq * 7 + i * 13 + (i >> 8) + stream);
}

/*
 * Sleeps on a ring the strict way: once the request is made and the double
 * check found the ring empty, the ring is not looked at again until its
 * channel fires, so a peer that fails to notify stalls the run instead of
 * being covered by other wake-ups. True when asleep.
 */
static inline bool sleep_on(struct pn_ring_consumer *ring, bool *asleep)
{
    if (*asleep) {
        return true;
    }
    pn_ring_request_signal(ring);
    if (pn_ring_consumer_empty(ring)) {
        *asleep = true;
        return true;
    }
    pn_ring_cancel_signal(ring);
    return false;
}

#endif
