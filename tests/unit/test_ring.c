/*
 * The ring under every queue kind: each operation, the full and empty
 * edges, index wrap-around, bulk moves, signalling flags, and detection of
 * a peer that corrupts the shared indices.
 */
#include "check.h"

#include <pinion/ring.h>
#include <stdlib.h>

#define CAPACITY 8

struct pair {
    void *memory;
    struct pn_ring_producer p;
    struct pn_ring_consumer c;
};

static struct pair make_pair(uint32_t capacity, uint32_t start)
{
    struct pair r;
    /* aligned_alloc wants a multiple of the alignment. */
    size_t bytes = (pn_ring_bytes(capacity, sizeof(uint32_t)) + PN_CACHE_LINE - 1) &
                   ~(size_t)(PN_CACHE_LINE - 1);
    r.memory = aligned_alloc(PN_CACHE_LINE, bytes);
    pn_ring_format_at(r.memory, start);
    CHECK(pn_ring_end_attach(&r.p.end, r.memory, capacity, sizeof(uint32_t), start));
    CHECK(pn_ring_end_attach(&r.c.end, r.memory, capacity, sizeof(uint32_t), start));
    return r;
}

static void test_attach_rejects_bad_capacity(void)
{
    unsigned char memory[1024];
    struct pn_ring_producer p;
    struct pn_ring_consumer c;
    CHECK(!pn_ring_producer_attach(&p, memory, 0, 4));
    CHECK(!pn_ring_producer_attach(&p, memory, 6, 4));
    CHECK(!pn_ring_consumer_attach(&c, memory, 12, 4));
    CHECK(!pn_ring_consumer_attach(&c, memory, 8, 0));
    CHECK(!pn_ring_consumer_attach(&c, NULL, 8, 4));
    CHECK(pn_ring_consumer_attach(&c, memory, 1, 4));
    CHECK(pn_ring_producer_attach(&p, memory, 1u << 31, 4));
}

static void test_empty_ring(void)
{
    struct pair r = make_pair(CAPACITY, 0);
    uint32_t v = 77;
    enum pn_ring_status status;
    CHECK(pn_ring_consumer_empty(&r.c));
    CHECK_EQ(pn_ring_pop(&r.c, &v), PN_RING_EMPTY);
    CHECK_EQ(v, 77); /* untouched */
    CHECK_EQ(pn_ring_consumer_available(&r.c, &status), 0);
    CHECK_EQ(status, PN_RING_EMPTY);
    CHECK_EQ(pn_ring_producer_space(&r.p, &status), CAPACITY);
    CHECK_EQ(status, PN_RING_OK);
    free(r.memory);
}

static void test_fill_to_full_and_drain_in_order(void)
{
    struct pair r = make_pair(CAPACITY, 0);
    for (uint32_t i = 0; i < CAPACITY; i++) {
        CHECK_EQ(pn_ring_push(&r.p, &i), PN_RING_OK);
    }
    uint32_t extra = 99;
    CHECK(pn_ring_producer_full(&r.p));
    CHECK_EQ(pn_ring_push(&r.p, &extra), PN_RING_FULL);
    enum pn_ring_status status;
    CHECK_EQ(pn_ring_consumer_available(&r.c, &status), CAPACITY);
    for (uint32_t i = 0; i < CAPACITY; i++) {
        uint32_t v;
        CHECK_EQ(pn_ring_pop(&r.c, &v), PN_RING_OK);
        CHECK_EQ(v, i);
    }
    CHECK(pn_ring_consumer_empty(&r.c));
    CHECK(!pn_ring_producer_full(&r.p));
    free(r.memory);
}

static void test_one_slot_freed_allows_one_push(void)
{
    struct pair r = make_pair(CAPACITY, 0);
    uint32_t v = 0;
    for (uint32_t i = 0; i < CAPACITY; i++) {
        pn_ring_push(&r.p, &i);
    }
    CHECK_EQ(pn_ring_pop(&r.c, &v), PN_RING_OK);
    CHECK_EQ(pn_ring_push(&r.p, &v), PN_RING_OK);
    CHECK_EQ(pn_ring_push(&r.p, &v), PN_RING_FULL);
    free(r.memory);
}

/* Indices are free-running 32-bit counters: cross 2^32 with items in flight. */
static void test_index_wrap(void)
{
    uint32_t start = UINT32_MAX - 3;
    struct pair r = make_pair(CAPACITY, start);
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 5; i++, next_in++) {
            CHECK_EQ(pn_ring_push(&r.p, &next_in), PN_RING_OK);
        }
        for (int i = 0; i < 5; i++, next_out++) {
            uint32_t v;
            CHECK_EQ(pn_ring_pop(&r.c, &v), PN_RING_OK);
            CHECK_EQ(v, next_out);
        }
    }
    /* Full exactly across the wrap point. */
    struct pair w = make_pair(CAPACITY, UINT32_MAX - 2);
    for (uint32_t i = 0; i < CAPACITY; i++) {
        CHECK_EQ(pn_ring_push(&w.p, &i), PN_RING_OK);
    }
    CHECK_EQ(pn_ring_push(&w.p, &next_in), PN_RING_FULL);
    enum pn_ring_status status;
    CHECK_EQ(pn_ring_consumer_available(&w.c, &status), CAPACITY);
    CHECK_EQ(status, PN_RING_OK);
    CHECK(atomic_load(&w.c.end.shared->tail) < CAPACITY); /* the tail really wrapped */
    free(r.memory);
    free(w.memory);
}

static void test_bulk_moves(void)
{
    struct pair r = make_pair(CAPACITY, UINT32_MAX - 1);
    uint32_t in[12], out[12] = {0};
    for (uint32_t i = 0; i < 12; i++) {
        in[i] = 1000 + i;
    }
    enum pn_ring_status status;
    CHECK_EQ(pn_ring_push_many(&r.p, in, 12, &status), CAPACITY);
    CHECK_EQ(status, PN_RING_FULL);
    CHECK_EQ(pn_ring_pop_many(&r.c, out, 3, &status), 3);
    CHECK_EQ(status, PN_RING_OK);
    CHECK_EQ(pn_ring_push_many(&r.p, in + CAPACITY, 4, &status), 3);
    CHECK_EQ(pn_ring_pop_many(&r.c, out + 3, 12, &status), CAPACITY);
    for (uint32_t i = 0; i < CAPACITY + 3; i++) {
        CHECK_EQ(out[i], 1000 + i);
    }
    CHECK_EQ(pn_ring_pop_many(&r.c, out, 12, &status), 0);
    CHECK_EQ(status, PN_RING_EMPTY);
    CHECK_EQ(pn_ring_push_many(&r.p, in, 0, &status), 0);
    CHECK_EQ(status, PN_RING_OK);
    free(r.memory);
}

static void test_consumer_signal_protocol(void)
{
    struct pair r = make_pair(CAPACITY, 0);
    uint32_t v = 1;
    /* Nobody asked: the producer must not notify. */
    pn_ring_push(&r.p, &v);
    CHECK(!pn_ring_require_signal(&r.p));
    /* Asked: exactly one notification per request. */
    pn_ring_request_signal(&r.c);
    CHECK(pn_ring_require_signal(&r.p));
    CHECK(!pn_ring_require_signal(&r.p));
    /* Asked, then cancelled after the double check found work: none. */
    pn_ring_request_signal(&r.c);
    CHECK(!pn_ring_consumer_empty(&r.c));
    pn_ring_cancel_signal(&r.c);
    CHECK(!pn_ring_require_signal(&r.p));
    free(r.memory);
}

static void test_space_signal_protocol(void)
{
    struct pair r = make_pair(2, 0);
    uint32_t v = 1;
    pn_ring_push(&r.p, &v);
    pn_ring_push(&r.p, &v);
    CHECK(!pn_ring_require_space_signal(&r.c));
    pn_ring_request_space_signal(&r.p);
    CHECK(pn_ring_producer_full(&r.p)); /* double check: still full, so it would sleep */
    pn_ring_pop(&r.c, &v);
    CHECK(pn_ring_require_space_signal(&r.c));
    CHECK(!pn_ring_require_space_signal(&r.c));
    pn_ring_request_space_signal(&r.p);
    pn_ring_cancel_space_signal(&r.p);
    CHECK(!pn_ring_require_space_signal(&r.c));
    free(r.memory);
}

/* A peer that writes nonsense indices is detected, not followed. */
static void test_corrupt_peer_index_detected(void)
{
    struct pair r = make_pair(CAPACITY, 0);
    uint32_t v = 5;
    enum pn_ring_status status;
    /* The producer claims more items than the ring can hold. */
    atomic_store(&((struct pn_ring_shared *)r.memory)->tail, CAPACITY + 1);
    CHECK_EQ(pn_ring_pop(&r.c, &v), PN_RING_CORRUPT);
    CHECK_EQ(pn_ring_consumer_available(&r.c, &status), 0);
    CHECK_EQ(status, PN_RING_CORRUPT);
    CHECK_EQ(pn_ring_pop_many(&r.c, &v, 1, &status), 0);
    CHECK_EQ(status, PN_RING_CORRUPT);
    CHECK_EQ(v, 5);

    struct pair s = make_pair(CAPACITY, 0);
    pn_ring_push(&s.p, &v);
    /* The consumer claims to have taken items that were never pushed. */
    atomic_store(&((struct pn_ring_shared *)s.memory)->head, 3);
    CHECK_EQ(pn_ring_push(&s.p, &v), PN_RING_CORRUPT);
    CHECK_EQ(pn_ring_push_many(&s.p, &v, 1, &status), 0);
    CHECK_EQ(status, PN_RING_CORRUPT);
    /* Our own index lives privately: the peer cannot rewind it. */
    CHECK_EQ(s.p.end.own, 1);
    free(r.memory);
    free(s.memory);
}

static void test_zeroed_memory_is_an_empty_ring(void)
{
    void *memory = calloc(1, pn_ring_bytes(4, 8));
    struct pn_ring_producer p;
    struct pn_ring_consumer c;
    CHECK(pn_ring_producer_attach(&p, memory, 4, 8));
    CHECK(pn_ring_consumer_attach(&c, memory, 4, 8));
    CHECK(pn_ring_consumer_empty(&c));
    uint64_t v = 0x1122334455667788ull, w = 0;
    CHECK_EQ(pn_ring_push(&p, &v), PN_RING_OK);
    CHECK_EQ(pn_ring_pop(&c, &w), PN_RING_OK);
    CHECK_EQ(w, v);
    free(memory);
}

static void test_layout_keeps_sides_on_separate_lines(void)
{
    CHECK_EQ(offsetof(struct pn_ring_shared, tail) / PN_CACHE_LINE, 0);
    CHECK_EQ(offsetof(struct pn_ring_shared, space_wanted) / PN_CACHE_LINE, 0);
    CHECK_EQ(offsetof(struct pn_ring_shared, head) / PN_CACHE_LINE, 1);
    CHECK_EQ(offsetof(struct pn_ring_shared, signal_wanted) / PN_CACHE_LINE, 1);
    CHECK_EQ(offsetof(struct pn_ring_shared, slots), 2 * PN_CACHE_LINE);
    CHECK_EQ(pn_ring_bytes(512, 16), 2 * PN_CACHE_LINE + 512 * 16);
}

int main(void)
{
    RUN_TEST(test_attach_rejects_bad_capacity);
    RUN_TEST(test_empty_ring);
    RUN_TEST(test_fill_to_full_and_drain_in_order);
    RUN_TEST(test_one_slot_freed_allows_one_push);
    RUN_TEST(test_index_wrap);
    RUN_TEST(test_bulk_moves);
    RUN_TEST(test_consumer_signal_protocol);
    RUN_TEST(test_space_signal_protocol);
    RUN_TEST(test_corrupt_peer_index_detected);
    RUN_TEST(test_zeroed_memory_is_an_empty_ring);
    RUN_TEST(test_layout_keeps_sides_on_separate_lines);
    return check_exit();
}
