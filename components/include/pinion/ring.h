/*
 * Single-producer single-consumer ring in shared memory, the mechanism under
 * every pinion queue kind (net, block, serial).
 *
 * The shared part holds only what the two sides must exchange: the
 * producer's tail, the consumer's head and the consumer's wish to be
 * signalled. Each side keeps its own index and the capacity privately, so a
 * faulty or hostile peer can neither change the capacity nor rewind our
 * index: what it can corrupt is detected (PN_RING_CORRUPT) instead of
 * followed.
 *
 * Indices are free-running 32-bit counters; slot = index & (capacity - 1).
 * Ordering on a weakly ordered multicore:
 *   - the producer writes the slot, then publishes tail with release; the
 *     consumer reads tail before reading the slot, with acquire or stronger;
 *   - the consumer reads the slot, then publishes head with release; the
 *     producer reads head before overwriting the slot, likewise;
 *   - the signal handshake is a store-then-load on both sides (consumer:
 *     store "signal wanted", load tail; producer: store tail, load "signal
 *     wanted"). Acquire/release cannot order a store before a later load, so
 *     all four accesses are sequentially consistent: C11's single total
 *     order then guarantees that the consumer sees the item or the producer
 *     sees the request. The producer re-publishes its own tail as the
 *     seq_cst store (it is the only writer), so ordinary pushes stay cheap
 *     release stores. No fences: on aarch64 this is stlr/ldar, which are
 *     ordered with each other, and thread sanitizers model it exactly.
 */
#ifndef PINION_RING_H
#define PINION_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Freestanding: no <string.h> on target, so copies use the compiler builtin. */
#define PN_CACHE_LINE 64

/*
 * Shared memory layout: the producer's line, the consumer's line, then the
 * slots. A zeroed region is a formatted, empty ring.
 */
struct pn_ring_shared {
    _Alignas(PN_CACHE_LINE) _Atomic uint32_t tail;
    /* Non-zero while the producer found the ring full and wants to hear of space. */
    _Atomic uint32_t space_wanted;
    _Alignas(PN_CACHE_LINE) _Atomic uint32_t head;
    /* Non-zero while the consumer is about to sleep and wants a notification. */
    _Atomic uint32_t signal_wanted;
    _Alignas(PN_CACHE_LINE) unsigned char slots[];
};

enum pn_ring_status {
    PN_RING_OK = 0,
    PN_RING_EMPTY,   /* consumer: nothing to take */
    PN_RING_FULL,    /* producer: no room */
    PN_RING_CORRUPT, /* the peer's index is impossible: the peer is faulty */
};

/* One side's private view of a ring. */
struct pn_ring_end {
    struct pn_ring_shared *shared;
    uint32_t capacity; /* power of two, never read from shared memory */
    uint32_t own;      /* our index: tail for a producer, head for a consumer */
    uint32_t elem_size;
};

/* Distinct types so a side cannot call the other side's operations. */
struct pn_ring_producer {
    struct pn_ring_end end;
};
struct pn_ring_consumer {
    struct pn_ring_end end;
};

static inline bool pn_is_power_of_two(uint32_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Bytes of shared memory a ring of this capacity and element size needs. */
static inline size_t pn_ring_bytes(uint32_t capacity, uint32_t elem_size)
{
    return sizeof(struct pn_ring_shared) + (size_t)capacity * elem_size;
}

/*
 * Resets the shared indices to `start`. Only whoever sets the system up may
 * call this, before either side runs; each side then attaches with the same
 * start. Real systems start at 0; tests start near the wrap point.
 */
static inline void pn_ring_format_at(struct pn_ring_shared *shared, uint32_t start)
{
    atomic_store_explicit(&shared->tail, start, memory_order_release);
    atomic_store_explicit(&shared->head, start, memory_order_release);
    atomic_store_explicit(&shared->signal_wanted, 0, memory_order_release);
    atomic_store_explicit(&shared->space_wanted, 0, memory_order_release);
}

static inline void pn_ring_format(struct pn_ring_shared *shared)
{
    pn_ring_format_at(shared, 0);
}

/* Attaches one side; `own_index` is the start the ring was formatted at. */
static inline bool pn_ring_end_attach(struct pn_ring_end *end, void *shared_memory,
                                      uint32_t capacity, uint32_t elem_size, uint32_t own_index)
{
    if (!pn_is_power_of_two(capacity) || elem_size == 0 || shared_memory == NULL) {
        *end = (struct pn_ring_end){0};
        return false;
    }
    end->shared = (struct pn_ring_shared *)shared_memory;
    end->capacity = capacity;
    end->own = own_index;
    end->elem_size = elem_size;
    return true;
}

/* Attaches to a freshly formatted ring. Returns false on a bad capacity. */
static inline bool pn_ring_producer_attach(struct pn_ring_producer *p, void *shared_memory,
                                           uint32_t capacity, uint32_t elem_size)
{
    return pn_ring_end_attach(&p->end, shared_memory, capacity, elem_size, 0);
}

static inline bool pn_ring_consumer_attach(struct pn_ring_consumer *c, void *shared_memory,
                                           uint32_t capacity, uint32_t elem_size)
{
    return pn_ring_end_attach(&c->end, shared_memory, capacity, elem_size, 0);
}

static inline unsigned char *pn_ring_slot(const struct pn_ring_end *end, uint32_t index)
{
    return end->shared->slots + (size_t)(index & (end->capacity - 1)) * end->elem_size;
}

/* Items the consumer can take now, or PN_RING_CORRUPT via *status. */
static inline uint32_t pn_ring_consumer_available(const struct pn_ring_consumer *c,
                                                  enum pn_ring_status *status)
{
    /* seq_cst, not just acquire: this load is the consumer's double check. */
    uint32_t tail = atomic_load_explicit(&c->end.shared->tail, memory_order_seq_cst);
    uint32_t count = tail - c->end.own;
    if (count > c->end.capacity) {
        *status = PN_RING_CORRUPT;
        return 0;
    }
    *status = count ? PN_RING_OK : PN_RING_EMPTY;
    return count;
}

/* Free slots the producer can fill now, or PN_RING_CORRUPT via *status. */
static inline uint32_t pn_ring_producer_space(const struct pn_ring_producer *p,
                                              enum pn_ring_status *status)
{
    /* seq_cst, not just acquire: this load is the producer's double check. */
    uint32_t head = atomic_load_explicit(&p->end.shared->head, memory_order_seq_cst);
    uint32_t used = p->end.own - head;
    if (used > p->end.capacity) {
        *status = PN_RING_CORRUPT;
        return 0;
    }
    uint32_t space = p->end.capacity - used;
    *status = space ? PN_RING_OK : PN_RING_FULL;
    return space;
}

/*
 * The slot the next push fills, or NULL (with *status FULL or CORRUPT).
 * Typed queues write their element into it as a struct, so the compiler
 * copies by words even on targets built with strict alignment, then
 * commit it.
 */
static inline void *pn_ring_reserve(struct pn_ring_producer *p, enum pn_ring_status *status)
{
    if (pn_ring_producer_space(p, status) == 0) {
        return NULL;
    }
    return pn_ring_slot(&p->end, p->end.own);
}

/* Publishes the slot pn_ring_reserve gave. */
static inline void pn_ring_commit(struct pn_ring_producer *p)
{
    p->end.own++;
    atomic_store_explicit(&p->end.shared->tail, p->end.own, memory_order_release);
}

/*
 * The slot the next pop takes, or NULL (with *status EMPTY or CORRUPT).
 * The caller copies the element out, then releases the slot, so it goes on
 * with a private copy the producer can no longer change.
 */
static inline const void *pn_ring_peek(struct pn_ring_consumer *c, enum pn_ring_status *status)
{
    if (pn_ring_consumer_available(c, status) == 0) {
        return NULL;
    }
    return pn_ring_slot(&c->end, c->end.own);
}

static inline void pn_ring_release(struct pn_ring_consumer *c)
{
    c->end.own++;
    atomic_store_explicit(&c->end.shared->head, c->end.own, memory_order_release);
}

/*
 * Typed push and pop for a queue kind's element type: the slot is copied as
 * a `type`, so the compiler moves it by words even where alignment is
 * strict. Defines prefix##_push and prefix##_pop.
 */
#define PN_RING_DEFINE_TYPED(prefix, type)                                                         \
    static inline enum pn_ring_status prefix##_push(struct pn_ring_producer *p, type value)        \
    {                                                                                              \
        enum pn_ring_status status;                                                                \
        type *slot = (type *)pn_ring_reserve(p, &status);                                          \
        if (slot == NULL) {                                                                        \
            return status;                                                                         \
        }                                                                                          \
        *slot = value;                                                                             \
        pn_ring_commit(p);                                                                         \
        return PN_RING_OK;                                                                         \
    }                                                                                              \
    static inline enum pn_ring_status prefix##_pop(struct pn_ring_consumer *c, type *out)          \
    {                                                                                              \
        enum pn_ring_status status;                                                                \
        const type *slot = (const type *)pn_ring_peek(c, &status);                                 \
        if (slot == NULL) {                                                                        \
            return status;                                                                         \
        }                                                                                          \
        *out = *slot;                                                                              \
        pn_ring_release(c);                                                                        \
        return PN_RING_OK;                                                                         \
    }

/* `size` is the ring's element size. */
static inline enum pn_ring_status pn_ring_push_sized(struct pn_ring_producer *p, const void *elem,
                                                     uint32_t size)
{
    enum pn_ring_status status;
    void *slot = pn_ring_reserve(p, &status);
    if (slot == NULL) {
        return status;
    }
    __builtin_memcpy(slot, elem, size);
    pn_ring_commit(p);
    return PN_RING_OK;
}

static inline enum pn_ring_status pn_ring_pop_sized(struct pn_ring_consumer *c, void *elem,
                                                    uint32_t size)
{
    enum pn_ring_status status;
    const void *slot = pn_ring_peek(c, &status);
    if (slot == NULL) {
        return status;
    }
    __builtin_memcpy(elem, slot, size);
    pn_ring_release(c);
    return PN_RING_OK;
}

static inline enum pn_ring_status pn_ring_push(struct pn_ring_producer *p, const void *elem)
{
    return pn_ring_push_sized(p, elem, p->end.elem_size);
}

static inline enum pn_ring_status pn_ring_pop(struct pn_ring_consumer *c, void *elem)
{
    return pn_ring_pop_sized(c, elem, c->end.elem_size);
}

/*
 * Bulk forms: copy up to `count` elements with one index publication, which
 * is what makes byte streams (serial) and batches cheap. They return the
 * number moved; *status says why fewer moved (FULL, EMPTY or CORRUPT).
 */
static inline uint32_t pn_ring_push_many(struct pn_ring_producer *p, const void *elems,
                                         uint32_t count, enum pn_ring_status *status)
{
    uint32_t space = pn_ring_producer_space(p, status);
    uint32_t n = count < space ? count : space;
    const unsigned char *src = (const unsigned char *)elems;
    for (uint32_t i = 0; i < n; i++) {
        __builtin_memcpy(pn_ring_slot(&p->end, p->end.own + i), src + (size_t)i * p->end.elem_size,
                         p->end.elem_size);
    }
    if (n > 0) {
        p->end.own += n;
        atomic_store_explicit(&p->end.shared->tail, p->end.own, memory_order_release);
    }
    if (*status == PN_RING_OK && n < count) {
        *status = PN_RING_FULL;
    }
    return n;
}

static inline uint32_t pn_ring_pop_many(struct pn_ring_consumer *c, void *elems, uint32_t max,
                                        enum pn_ring_status *status)
{
    uint32_t available = pn_ring_consumer_available(c, status);
    uint32_t n = max < available ? max : available;
    unsigned char *dst = (unsigned char *)elems;
    for (uint32_t i = 0; i < n; i++) {
        __builtin_memcpy(dst + (size_t)i * c->end.elem_size, pn_ring_slot(&c->end, c->end.own + i),
                         c->end.elem_size);
    }
    if (n > 0) {
        c->end.own += n;
        atomic_store_explicit(&c->end.shared->head, c->end.own, memory_order_release);
    }
    return n;
}

static inline bool pn_ring_consumer_empty(const struct pn_ring_consumer *c)
{
    enum pn_ring_status status;
    return pn_ring_consumer_available(c, &status) == 0;
}

static inline bool pn_ring_producer_full(const struct pn_ring_producer *p)
{
    enum pn_ring_status status;
    return pn_ring_producer_space(p, &status) == 0;
}

/*
 * Signalling: request / cancel / require with a double check.
 *
 * Consumer, before it sleeps:
 *     pn_ring_request_signal(c);
 *     if (!pn_ring_consumer_empty(c)) { pn_ring_cancel_signal(c); keep working; }
 *     else sleep until notified;
 * Producer, after it pushed:
 *     if (pn_ring_require_signal(p)) notify the consumer;
 */
static inline void pn_ring_request_signal(struct pn_ring_consumer *c)
{
    atomic_store_explicit(&c->end.shared->signal_wanted, 1, memory_order_seq_cst);
}

static inline void pn_ring_cancel_signal(struct pn_ring_consumer *c)
{
    atomic_store_explicit(&c->end.shared->signal_wanted, 0, memory_order_relaxed);
}

/*
 * True when the consumer asked to be woken; the request is consumed, so the
 * producer sends one notification per request, not one per item.
 */
static inline bool pn_ring_require_signal(struct pn_ring_producer *p)
{
    /* The seq_cst half of the handshake: republish our tail, then look. */
    atomic_store_explicit(&p->end.shared->tail, p->end.own, memory_order_seq_cst);
    if (atomic_load_explicit(&p->end.shared->signal_wanted, memory_order_seq_cst) == 0) {
        return false;
    }
    return atomic_exchange_explicit(&p->end.shared->signal_wanted, 0, memory_order_relaxed) != 0;
}

/*
 * The same handshake in the other direction, for a producer that found the
 * ring full and has no other ring to wait on (a serial stream, a pipeline):
 *     pn_ring_request_space_signal(p);
 *     if (!pn_ring_producer_full(p)) { pn_ring_cancel_space_signal(p); push on; }
 *     else sleep until notified;
 * and the consumer, after it popped:
 *     if (pn_ring_require_space_signal(c)) notify the producer;
 * Net queue pairs do not need it: there the producer waits on the free ring.
 */
static inline void pn_ring_request_space_signal(struct pn_ring_producer *p)
{
    atomic_store_explicit(&p->end.shared->space_wanted, 1, memory_order_seq_cst);
}

static inline void pn_ring_cancel_space_signal(struct pn_ring_producer *p)
{
    atomic_store_explicit(&p->end.shared->space_wanted, 0, memory_order_relaxed);
}

static inline bool pn_ring_require_space_signal(struct pn_ring_consumer *c)
{
    atomic_store_explicit(&c->end.shared->head, c->end.own, memory_order_seq_cst);
    if (atomic_load_explicit(&c->end.shared->space_wanted, memory_order_seq_cst) == 0) {
        return false;
    }
    return atomic_exchange_explicit(&c->end.shared->space_wanted, 0, memory_order_relaxed) != 0;
}

#endif
