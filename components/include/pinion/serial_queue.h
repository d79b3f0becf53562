/*
 * Serial queues: a byte stream in one ring per direction. Bytes travel in
 * the ring itself (no data region), moved in bulk so that a line costs one
 * index publication, not one per byte.
 */
#ifndef PINION_SERIAL_QUEUE_H
#define PINION_SERIAL_QUEUE_H

#include <pinion/ring.h>

static inline size_t pn_serial_ring_bytes(uint32_t capacity)
{
    return pn_ring_bytes(capacity, 1);
}

static inline bool pn_serial_writer_attach(struct pn_ring_producer *p, void *region,
                                           uint32_t capacity)
{
    return pn_ring_producer_attach(p, region, capacity, 1);
}

static inline bool pn_serial_reader_attach(struct pn_ring_consumer *c, void *region,
                                           uint32_t capacity)
{
    return pn_ring_consumer_attach(c, region, capacity, 1);
}

/* Writes as many of `len` bytes as fit; returns how many. */
static inline uint32_t pn_serial_write(struct pn_ring_producer *p, const char *bytes, uint32_t len,
                                       enum pn_ring_status *status)
{
    return pn_ring_push_many(p, bytes, len, status);
}

/* Reads up to `max` bytes; returns how many. */
static inline uint32_t pn_serial_read(struct pn_ring_consumer *c, char *bytes, uint32_t max,
                                      enum pn_ring_status *status)
{
    return pn_ring_pop_many(c, bytes, max, status);
}

#endif
