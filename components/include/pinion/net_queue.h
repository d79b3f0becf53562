/*
 * Network queues: buffer descriptors circulating between a free ring and an
 * active ring, sDDF style. Every buffer is in exactly one place at a time:
 * a free ring, an active ring, or held by one side.
 *
 * Naming by role rather than by direction, because the same pair serves
 * both: the filler takes empty buffers from free and gives full ones to
 * active (the driver on receive, the client on transmit); the drainer takes
 * full buffers from active and returns empty ones to free (the client on
 * receive, the driver on transmit).
 *
 * One region holds one pair: the free ring, then the active ring.
 */
#ifndef PINION_NET_QUEUE_H
#define PINION_NET_QUEUE_H

#include <pinion/ring.h>

/* A buffer: its offset in the data region and the bytes it holds. */
struct pn_net_desc {
    uint64_t offset;
    uint32_t len;
    uint32_t reserved; /* zero; keeps the descriptor 16 bytes on every ABI */
};

_Static_assert(sizeof(struct pn_net_desc) == 16, "net descriptor layout is shared memory ABI");

struct pn_net_filler {
    struct pn_ring_consumer free;
    struct pn_ring_producer active;
};

struct pn_net_drainer {
    struct pn_ring_consumer active;
    struct pn_ring_producer free;
};

static inline size_t pn_net_ring_bytes(uint32_t capacity)
{
    return pn_ring_bytes(capacity, sizeof(struct pn_net_desc));
}

/* Bytes of one region holding a free/active pair of this capacity. */
static inline size_t pn_net_pair_bytes(uint32_t capacity)
{
    return 2 * pn_net_ring_bytes(capacity);
}

static inline void *pn_net_free_ring(void *region)
{
    return region;
}

static inline void *pn_net_active_ring(void *region, uint32_t capacity)
{
    return (unsigned char *)region + pn_net_ring_bytes(capacity);
}

/* Formats both rings of a pair; done once by the system's builder. */
static inline void pn_net_pair_format(void *region, uint32_t capacity)
{
    pn_ring_format((struct pn_ring_shared *)pn_net_free_ring(region));
    pn_ring_format((struct pn_ring_shared *)pn_net_active_ring(region, capacity));
}

static inline bool pn_net_filler_attach(struct pn_net_filler *f, void *region, uint32_t capacity)
{
    return pn_ring_consumer_attach(&f->free, pn_net_free_ring(region), capacity,
                                   sizeof(struct pn_net_desc)) &&
           pn_ring_producer_attach(&f->active, pn_net_active_ring(region, capacity), capacity,
                                   sizeof(struct pn_net_desc));
}

static inline bool pn_net_drainer_attach(struct pn_net_drainer *d, void *region, uint32_t capacity)
{
    return pn_ring_consumer_attach(&d->active, pn_net_active_ring(region, capacity), capacity,
                                   sizeof(struct pn_net_desc)) &&
           pn_ring_producer_attach(&d->free, pn_net_free_ring(region), capacity,
                                   sizeof(struct pn_net_desc));
}

PN_RING_DEFINE_TYPED(pn_net, struct pn_net_desc)

static inline enum pn_ring_status pn_net_take_free(struct pn_net_filler *f, struct pn_net_desc *d)
{
    return pn_net_pop(&f->free, d);
}

static inline enum pn_ring_status pn_net_give_active(struct pn_net_filler *f, struct pn_net_desc d)
{
    return pn_net_push(&f->active, d);
}

static inline enum pn_ring_status pn_net_take_active(struct pn_net_drainer *dr,
                                                     struct pn_net_desc *d)
{
    return pn_net_pop(&dr->active, d);
}

static inline enum pn_ring_status pn_net_give_free(struct pn_net_drainer *dr, struct pn_net_desc d)
{
    return pn_net_push(&dr->free, d);
}

/*
 * Whether a descriptor handed over by the peer names a buffer inside a data
 * region of `region_size` bytes cut into `buffer_size` slots: aligned to a
 * slot, and its length within the slot. The caller drops and counts a
 * descriptor that fails, never follows it.
 */
static inline bool pn_net_desc_valid(struct pn_net_desc d, uint64_t region_size,
                                     uint32_t buffer_size)
{
    return buffer_size != 0 && d.offset < region_size && d.offset % buffer_size == 0 &&
           region_size - d.offset >= buffer_size && d.len <= buffer_size;
}

#endif
