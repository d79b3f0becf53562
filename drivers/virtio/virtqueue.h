/*
 * A split virtqueue driven in fixed two-descriptor chains: descriptor 2i
 * holds slot i's device header (in driver memory), 2i + 1 its buffer (in a
 * shared data region, by physical address). Used entries name the chain's
 * head, so the slot of a completion is id / 2.
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
    uint16_t slots;      /* size / 2 chains */
    uint16_t avail_next; /* our copy of avail->idx */
    uint16_t used_seen;  /* used entries taken so far */
    uint16_t in_flight;  /* chains given to the device, not yet used */
};

/* Bytes of virtqueue memory for `size` descriptors, each part page aligned. */
uint64_t virtqueue_bytes(uint16_t size);
/*
 * Lays a queue out at `base` (virtual) / `base_pa` (physical), with the
 * headers of its slots at `headers` / `headers_pa` (`header_size` each).
 * `device_writes`: buffers are for the device to fill (receive).
 */
void virtqueue_init(struct virtqueue *q, void *base, uint64_t base_pa, uint16_t size,
                    uint64_t headers_pa, uint32_t header_size, bool device_writes);
/* Offers slot `slot`'s chain with a buffer at `buffer_pa` of `len` bytes. */
void virtqueue_offer(struct virtqueue *q, uint16_t slot, uint64_t buffer_pa, uint32_t len);
/* Publishes offered chains to the device; true if it wants a notification. */
bool virtqueue_publish(struct virtqueue *q);
/* The next completed chain: its slot and the bytes the device wrote; false if none. */
bool virtqueue_take_used(struct virtqueue *q, uint16_t *slot, uint32_t *written);

#endif
