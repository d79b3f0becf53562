/*
 * Shared by the host tests of net-bridge's logic (test_net_bridge.c,
 * test_net_bridge_batch.c): the bridge on real pinion rings in ordinary
 * memory, with the test as both peers (the receive multiplexer drains rx
 * and returns buffers, the transmit multiplexer fills tx with physical
 * addresses), a fake packet socket (frames waiting in order; frames sent
 * one by one or in batches, recorded) and doorbells that record what they
 * are rung with.
 */
#ifndef PINION_TESTS_NET_BRIDGE_FIXTURE_H
#define PINION_TESTS_NET_BRIDGE_FIXTURE_H

#include "check.h"
#include "net_bridge_core.h"

#include <errno.h>
#include <string.h>

#define CAPACITY    8u
#define BUFFER_SIZE 256u
#define RX_BUFFERS  4u
#define TX0_PHYS    0x10000000ull
#define TX1_PHYS    0x20000000ull
#define TX_BYTES    (4 * BUFFER_SIZE)
/* The largest queue capacity a setup is made with (make_sized). */
#define MAX_CAPACITY 256u
#define MAX_FRAMES   512
#define MAX_BATCHES  64

static char err[NET_BRIDGE_ERROR_MAX];

struct fake_world {
    /* Frames waiting on the "interface", in order. */
    unsigned char frames[32][BUFFER_SIZE + 64];
    size_t frame_len[32];
    unsigned n_frames, next_frame;
    int receive_error; /* -errno for the next receive, once */
    /* What was sent, in order, whichever way. */
    unsigned char sent[MAX_FRAMES][BUFFER_SIZE];
    size_t sent_len[MAX_FRAMES];
    unsigned n_sent;
    unsigned single_sends; /* calls of send */
    int send_error;        /* -errno for every send while non-zero */
    /* send_batch: refuses every frame of this length (0: none), as the kernel would one. */
    uint32_t refuse_len;
    uint32_t batch_sizes[MAX_BATCHES];
    /* Buffers the transmit peer could take back when each batch was handed over. */
    uint32_t returned_at_batch[MAX_BATCHES];
    unsigned n_batches;
    struct pn_net_filler *tx_peer; /* to look at its free ring during a batch */
    uint32_t rings[2], last_ring_value[2];
};

static inline long fake_receive(void *ctx, unsigned char *buf, size_t capacity)
{
    struct fake_world *w = ctx;
    if (w->receive_error) {
        int e = w->receive_error;
        w->receive_error = 0;
        return e;
    }
    if (w->next_frame == w->n_frames) {
        return 0;
    }
    size_t len = w->frame_len[w->next_frame];
    memcpy(buf, w->frames[w->next_frame], len < capacity ? len : capacity);
    w->next_frame++;
    return (long)len;
}

static inline void record_sent(struct fake_world *w, const unsigned char *frame, size_t len)
{
    if (w->n_sent < MAX_FRAMES) {
        memcpy(w->sent[w->n_sent], frame, len);
        w->sent_len[w->n_sent] = len;
    }
    w->n_sent++;
}

static inline int fake_send(void *ctx, const unsigned char *frame, size_t len)
{
    struct fake_world *w = ctx;
    w->single_sends++;
    if (w->send_error) {
        return w->send_error;
    }
    record_sent(w, frame, len);
    return 0;
}

/* As sendmmsg: in order, up to the first refused frame; -errno if that is the first. */
static inline int fake_send_batch(void *ctx, const struct net_bridge_frame *frames, uint32_t n)
{
    struct fake_world *w = ctx;
    if (w->n_batches < MAX_BATCHES) {
        w->batch_sizes[w->n_batches] = n;
        enum pn_ring_status status;
        w->returned_at_batch[w->n_batches] = pn_ring_consumer_available(&w->tx_peer->free, &status);
    }
    w->n_batches++;
    for (uint32_t i = 0; i < n; i++) {
        if (frames[i].len == w->refuse_len) {
            return i > 0 ? (int)i : -ENOBUFS;
        }
        record_sent(w, frames[i].data, frames[i].len);
    }
    return (int)n;
}

static inline void fake_ring(void *ctx, enum net_bridge_side side, uint32_t value)
{
    struct fake_world *w = ctx;
    w->rings[side]++;
    w->last_ring_value[side] = value;
}

/* A frame on the interface: `len` bytes, each (seed + i). */
static inline void arrive(struct fake_world *w, size_t len, unsigned char seed)
{
    for (size_t i = 0; i < len; i++) {
        w->frames[w->n_frames][i] = (unsigned char)(seed + i);
    }
    w->frame_len[w->n_frames++] = len;
}

struct setup {
    _Alignas(64) unsigned char rx_queue[16384];
    _Alignas(64) unsigned char tx_queue[16384];
    _Alignas(64) unsigned char rx_data[RX_BUFFERS * BUFFER_SIZE];
    _Alignas(64) unsigned char tx0[TX_BYTES], tx1[TX_BYTES];
    uint32_t capacity;
    struct net_bridge bridge;
    struct pn_net_drainer rx_peer; /* the receive multiplexer */
    struct pn_net_filler tx_peer;  /* the transmit multiplexer */
    struct fake_world world;
    struct net_bridge_io io;
};

/* A bridge of queues of `capacity` slots, sending one frame at a time. */
static inline struct setup *make_sized(uint64_t die_after, uint32_t capacity)
{
    static struct setup s;
    memset(&s, 0, sizeof s);
    s.capacity = capacity;
    CHECK(capacity <= MAX_CAPACITY && pn_net_pair_bytes(capacity) <= sizeof s.rx_queue);
    pn_net_pair_format(s.rx_queue, capacity);
    pn_net_pair_format(s.tx_queue, capacity);
    struct net_bridge_region rx = {
        .base = s.rx_data, .phys = 0x30000000, .bytes = sizeof s.rx_data};
    struct net_bridge_region tx[2] = {{.base = s.tx0, .phys = TX0_PHYS, .bytes = TX_BYTES},
                                      {.base = s.tx1, .phys = TX1_PHYS, .bytes = TX_BYTES}};
    bool ok =
        net_bridge_init(&s.bridge, s.rx_queue, sizeof s.rx_queue, rx, s.tx_queue, sizeof s.tx_queue,
                        tx, 2, capacity, BUFFER_SIZE, die_after, err, sizeof err);
    CHECK(ok);
    CHECK(pn_net_drainer_attach(&s.rx_peer, s.rx_queue, capacity));
    CHECK(pn_net_filler_attach(&s.tx_peer, s.tx_queue, capacity));
    s.world.tx_peer = &s.tx_peer;
    s.io = (struct net_bridge_io){
        .receive = fake_receive, .send = fake_send, .ring = fake_ring, .ctx = &s.world};
    return &s;
}

static inline struct setup *make(uint64_t die_after)
{
    return make_sized(die_after, CAPACITY);
}

static inline void give_rx_buffers(struct setup *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(pn_net_give_free(&s->rx_peer,
                                  (struct pn_net_desc){.offset = (uint64_t)i * BUFFER_SIZE}),
                 PN_RING_OK);
    }
}

static inline uint32_t signal_wanted(struct pn_ring_consumer *c)
{
    return atomic_load(&c->end.shared->signal_wanted);
}

/* A frame in a transmit region: `len` bytes at physical `phys`, each (seed + i). */
static inline void queue_tx(struct setup *s, uint64_t phys, uint32_t len, unsigned char seed)
{
    unsigned char *base =
        phys >= TX1_PHYS ? s->tx1 + (phys - TX1_PHYS) : s->tx0 + (phys - TX0_PHYS);
    for (uint32_t i = 0; i < len; i++) {
        base[i] = (unsigned char)(seed + i);
    }
    CHECK_EQ(pn_net_give_active(&s->tx_peer, (struct pn_net_desc){.offset = phys, .len = len}),
             PN_RING_OK);
}

#endif
