/*
 * A split virtqueue driven in fixed chains: slot i owns descriptors
 * chain * i .. chain * i + chain - 1, linked in that order, so a used entry
 * names its slot by its head (id / chain) and nothing is allocated per
 * request. The network driver uses chains of two (device header in driver
 * memory, then the buffer in a shared data region, by physical address);
 * the block driver chains of three (request header, data, status byte).
 */
#ifndef PINION_VIRTQUEUE_H
#define PINION_VIRTQUEUE_H

#include "virtio_mmio.h"

#include <stdbool.h>

struct virtqueue {
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint64_t desc_pa, avail_pa, used_pa;
    uint16_t size;       /* descriptors: a power of two */
    uint16_t chain;      /* descriptors per slot */
    uint16_t slots;      /* size / chain */
    uint16_t avail_next; /* our copy of avail->idx */
    uint16_t used_seen;  /* used entries taken so far */
    uint16_t in_flight;  /* chains given to the device, not yet used */
};

/* Bytes of virtqueue memory for `size` descriptors, each part page aligned. */
uint64_t virtqueue_bytes(uint16_t size);
/*
 * Lays a queue of `size` descriptors out at `base` (virtual) / `base_pa`
 * (physical) in slots of `chain` descriptors, each linked to the next; the
 * caller fills in addresses, lengths and flags.
 */
void virtqueue_init_chains(struct virtqueue *q, void *base, uint64_t base_pa, uint16_t size,
                           uint16_t chain);
/* Descriptor `k` of slot `slot`'s chain. */
static inline volatile struct virtq_desc *virtqueue_desc(struct virtqueue *q, uint16_t slot,
                                                         uint16_t k)
{
    return &q->desc[q->chain * slot + k];
}
/* Queues slot `slot`'s chain for the device (published by virtqueue_publish). */
void virtqueue_offer_slot(struct virtqueue *q, uint16_t slot);

/*
 * Two-descriptor chains: slot i's device header at `headers_pa` + i *
 * `header_size`, then its buffer. `device_writes`: buffers are for the
 * device to fill (receive).
 */
void virtqueue_init(struct virtqueue *q, void *base, uint64_t base_pa, uint16_t size,
                    uint64_t headers_pa, uint32_t header_size, bool device_writes);
/* Offers slot `slot`'s two-descriptor chain with a buffer at `buffer_pa` of `len` bytes. */
void virtqueue_offer(struct virtqueue *q, uint16_t slot, uint64_t buffer_pa, uint32_t len);

/* Publishes offered chains to the device; true if it wants a notification. */
bool virtqueue_publish(struct virtqueue *q);
/*
 * The next completed chain: its slot and the bytes the device wrote; false
 * if none. A used entry that names no chain's head gives a slot of
 * q->slots or more, which the caller must refuse.
 */
bool virtqueue_take_used(struct virtqueue *q, uint16_t *slot, uint32_t *written);

#endif
