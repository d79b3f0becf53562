/* Split virtqueues in fixed chains (see virtqueue.h). */
#include "virtqueue.h"

#define PAGE 4096u

static uint64_t page_up(uint64_t n)
{
    return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

uint64_t virtqueue_bytes(uint16_t size)
{
    return page_up(16u * size) + page_up(6u + 2u * size) + page_up(6u + 8u * size);
}

/* Device-visible ordering: stores to the rings before the index, the index before a kick. */
static inline void device_write_barrier(void)
{
#if defined(__aarch64__)
    __asm__ volatile("dmb oshst" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_RELEASE);
#endif
}

static inline void device_read_barrier(void)
{
#if defined(__aarch64__)
    __asm__ volatile("dmb oshld" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
}

void virtqueue_init_chains(struct virtqueue *q, void *base, uint64_t base_pa, uint16_t size,
                           uint16_t chain)
{
    uint64_t avail_offset = page_up(16u * size);
    uint64_t used_offset = avail_offset + page_up(6u + 2u * size);
    q->desc = (volatile struct virtq_desc *)base;
    q->avail = (volatile struct virtq_avail *)((char *)base + avail_offset);
    q->used = (volatile struct virtq_used *)((char *)base + used_offset);
    q->desc_pa = base_pa;
    q->avail_pa = base_pa + avail_offset;
    q->used_pa = base_pa + used_offset;
    q->size = size;
    q->chain = chain;
    q->slots = size / chain;
    q->avail_next = 0;
    q->used_seen = 0;
    q->in_flight = 0;
    for (uint16_t slot = 0; slot < q->slots; slot++) {
        for (uint16_t k = 0; k < chain; k++) {
            volatile struct virtq_desc *d = virtqueue_desc(q, slot, k);
            d->flags = k + 1 < chain ? VIRTQ_DESC_F_NEXT : 0;
            d->next = k + 1 < chain ? (uint16_t)(chain * slot + k + 1) : 0;
        }
    }
    q->avail->flags = 0;
    q->avail->idx = 0;
    q->used->flags = 0;
    q->used->idx = 0;
}

void virtqueue_offer_slot(struct virtqueue *q, uint16_t slot)
{
    q->avail->ring[q->avail_next & (q->size - 1)] = (uint16_t)(q->chain * slot);
    q->avail_next++;
    q->in_flight++;
}

void virtqueue_init(struct virtqueue *q, void *base, uint64_t base_pa, uint16_t size,
                    uint64_t headers_pa, uint32_t header_size, bool device_writes)
{
    virtqueue_init_chains(q, base, base_pa, size, 2);
    uint16_t buffer_flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
    for (uint16_t slot = 0; slot < q->slots; slot++) {
        volatile struct virtq_desc *header = virtqueue_desc(q, slot, 0);
        header->addr = headers_pa + (uint64_t)slot * header_size;
        header->len = header_size;
        header->flags = (uint16_t)(VIRTQ_DESC_F_NEXT | buffer_flags);
        virtqueue_desc(q, slot, 1)->flags = buffer_flags;
    }
}

void virtqueue_offer(struct virtqueue *q, uint16_t slot, uint64_t buffer_pa, uint32_t len)
{
    volatile struct virtq_desc *buffer = virtqueue_desc(q, slot, 1);
    buffer->addr = buffer_pa;
    buffer->len = len;
    virtqueue_offer_slot(q, slot);
}

bool virtqueue_publish(struct virtqueue *q)
{
    device_write_barrier();
    q->avail->idx = q->avail_next;
    /* The index store before the device's flag is read, and before any kick. */
#if defined(__aarch64__)
    __asm__ volatile("dmb osh" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
    return !(q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtqueue_take_used(struct virtqueue *q, uint16_t *slot, uint32_t *written)
{
    if (q->used_seen == q->used->idx) {
        return false;
    }
    device_read_barrier();
    volatile struct virtq_used_elem *elem = &q->used->ring[q->used_seen & (q->size - 1)];
    uint32_t id = elem->id;
    *slot = id % q->chain == 0 && id / q->chain < q->slots ? (uint16_t)(id / q->chain) : q->slots;
    *written = elem->len;
    q->used_seen++;
    q->in_flight--;
    return true;
}
