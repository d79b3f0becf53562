/*
 * Unit tests of net-bridge's cheaper paths through its logic
 * (driver-vms/programs/net_bridge_core.c) on the host, with the fakes of
 * net_bridge_fixture.h:
 *   --tx-batch  frames handed to a fake send_batch (as sendmmsg: in order,
 *               up to the first refused frame): frames intact, batches as
 *               large as the free ring's room allows, refused frames counted
 *               and the rest still sent, bad descriptors dropped, and every
 *               buffer back exactly once, only after its batch;
 *   --rx-ring   the bridge receiving through packet_ring.c from a ring laid
 *               out as Linux fills it (fake_packet_ring.h): frames intact in
 *               the queue's buffers, and frames with no buffer dropped,
 *               counted and their slots handed back.
 */
#define _POSIX_C_SOURCE 200809L

#include "fake_packet_ring.h"
#include "net_bridge_fixture.h"

/* A bridge sending in batches. */
static struct setup *make_batched(uint32_t capacity)
{
    struct setup *s = make_sized(0, capacity);
    s->io.send_batch = fake_send_batch;
    return s;
}

/* Takes every buffer the bridge returned; checks each is one of `phys` and none comes twice. */
static unsigned take_returned(struct setup *s, const uint64_t *phys, unsigned n)
{
    bool seen[MAX_FRAMES] = {false};
    unsigned back = 0;
    struct pn_net_desc d;
    while (pn_net_take_free(&s->tx_peer, &d) == PN_RING_OK) {
        CHECK_EQ(d.len, 0);
        unsigned i = 0;
        while (i < n && (phys[i] != d.offset || seen[i])) {
            i++;
        }
        CHECK(i < n); /* a buffer that was queued, not yet seen */
        if (i < n) {
            seen[i] = true;
        }
        back++;
    }
    return back;
}

static void test_batch_sends_frames_intact(void)
{
    struct setup *s = make_batched(CAPACITY);
    uint64_t phys[5] = {TX0_PHYS, TX0_PHYS + BUFFER_SIZE, TX1_PHYS, TX1_PHYS + 2 * BUFFER_SIZE,
                        TX1_PHYS + 3 * BUFFER_SIZE};
    for (unsigned i = 0; i < 5; i++) {
        queue_tx(s, phys[i], i == 4 ? BUFFER_SIZE : 60 + i, (unsigned char)(10 * i));
    }
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_IDLE);
    /* One batch of all five, none sent one by one. */
    CHECK_EQ(s->world.n_batches, 1);
    CHECK_EQ(s->world.batch_sizes[0], 5);
    CHECK_EQ(s->world.single_sends, 0);
    CHECK_EQ(s->bridge.counts.tx_batches, 1);
    /* Nothing was back with the peer while the kernel had the frames. */
    CHECK_EQ(s->world.returned_at_batch[0], 0);
    CHECK_EQ(s->world.n_sent, 5);
    for (unsigned i = 0; i < 5; i++) {
        uint32_t len = i == 4 ? BUFFER_SIZE : 60 + i;
        const unsigned char *src =
            phys[i] >= TX1_PHYS ? s->tx1 + (phys[i] - TX1_PHYS) : s->tx0 + (phys[i] - TX0_PHYS);
        CHECK_EQ(s->world.sent_len[i], len);
        CHECK(memcmp(s->world.sent[i], src, len) == 0);
    }
    CHECK_EQ(s->bridge.counts.tx_frames, 5);
    CHECK_EQ(s->bridge.counts.tx_bytes, 60 + 61 + 62 + 63 + BUFFER_SIZE);
    CHECK_EQ(take_returned(s, phys, 5), 5);
    /* Drained: it asked to be woken for more, as one by one does. */
    CHECK_EQ(signal_wanted(&s->bridge.tx.active), 1);

    /* The peer waits for buffers: one doorbell for the batch. */
    pn_ring_request_signal(&s->tx_peer.free);
    queue_tx(s, TX0_PHYS, 64, 1);
    queue_tx(s, TX0_PHYS + BUFFER_SIZE, 64, 2);
    net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->world.rings[NET_BRIDGE_TX], 1);
    CHECK_EQ(s->world.n_batches, 2);
    CHECK_EQ(s->world.batch_sizes[1], 2);
}

static void test_batch_refused_and_bad_frames(void)
{
    struct setup *s = make_batched(CAPACITY);
    /* Good, bad (past the region), refused, good, bad (empty), refused, good. */
    s->world.refuse_len = 77;
    uint64_t good[5] = {TX0_PHYS, TX0_PHYS + 2 * BUFFER_SIZE, TX1_PHYS, TX0_PHYS + BUFFER_SIZE,
                        TX1_PHYS + BUFFER_SIZE};
    queue_tx(s, good[0], 60, 1);
    CHECK_EQ(pn_net_give_active(&s->tx_peer,
                                (struct pn_net_desc){.offset = TX0_PHYS + TX_BYTES, .len = 60}),
             PN_RING_OK);
    queue_tx(s, good[1], 77, 2);
    queue_tx(s, good[2], 61, 3);
    CHECK_EQ(pn_net_give_active(&s->tx_peer, (struct pn_net_desc){.offset = TX1_PHYS, .len = 0}),
             PN_RING_OK);
    queue_tx(s, good[3], 77, 4);
    queue_tx(s, good[4], 62, 5);
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_IDLE);
    CHECK_EQ(s->bridge.counts.bad_tx_desc, 2);
    CHECK_EQ(s->bridge.counts.tx_send_errors, 2);
    CHECK_EQ(s->bridge.counts.tx_frames, 3);
    CHECK_EQ(s->bridge.counts.tx_bytes, 60 + 61 + 62);
    /* The bad ones never reached the kernel; after each refusal the rest went on. */
    CHECK_EQ(s->world.batch_sizes[0], 5);
    CHECK_EQ(s->world.n_sent, 3);
    CHECK_EQ(s->world.sent_len[0], 60);
    CHECK_EQ(s->world.sent_len[1], 61);
    CHECK_EQ(s->world.sent_len[2], 62);
    CHECK_EQ(s->bridge.counts.tx_batches, s->world.n_batches);
    /* Every real buffer back once (refused ones too), the bad ones never. */
    CHECK_EQ(take_returned(s, good, 5), 5);
}

static void test_batch_bounded_by_room_budget_and_size(void)
{
    /* The peer holds on to its buffers: a batch is only as large as the free ring's room. */
    struct setup *s = make_batched(CAPACITY);
    for (unsigned i = 0; i < 6; i++) {
        queue_tx(s, TX0_PHYS + (i % 4) * BUFFER_SIZE, 64, (unsigned char)i);
    }
    net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->world.n_sent, 6);
    for (unsigned i = 0; i < 4; i++) {
        queue_tx(s, TX1_PHYS + i * BUFFER_SIZE, 64, (unsigned char)i);
    }
    /* Room for 2 more buffers: 2 go, 2 wait in the active ring, none is stranded. */
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_STALLED);
    CHECK_EQ(s->world.batch_sizes[1], 2);
    CHECK_EQ(s->world.n_sent, 8);
    enum pn_ring_status status;
    CHECK_EQ(pn_ring_consumer_available(&s->tx_peer.free, &status), CAPACITY);
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_free(&s->tx_peer, &d), PN_RING_OK);
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_STALLED);
    CHECK_EQ(s->world.batch_sizes[2], 1);
    CHECK_EQ(s->world.n_sent, 9);

    /* The budget bounds a call: the rest waits for the next. */
    struct setup *t = make_batched(CAPACITY);
    for (unsigned i = 0; i < 5; i++) {
        queue_tx(t, TX0_PHYS + (i % 4) * BUFFER_SIZE, 64, (unsigned char)i);
    }
    CHECK_EQ(net_bridge_transmit(&t->bridge, &t->io, 3), NET_BRIDGE_MORE);
    CHECK_EQ(t->world.batch_sizes[0], 3);
    CHECK_EQ(net_bridge_transmit(&t->bridge, &t->io, 3), NET_BRIDGE_IDLE);
    CHECK_EQ(t->world.batch_sizes[1], 2);

    /* More frames than a batch holds: batches of NET_BRIDGE_TX_BATCH_MAX, then the rest. */
    struct setup *u = make_batched(256);
    unsigned n = NET_BRIDGE_TX_BATCH_MAX * 2 + 5;
    for (unsigned i = 0; i < n; i++) {
        queue_tx(u, TX1_PHYS + (i % 4) * BUFFER_SIZE, 60 + i % 7, (unsigned char)i);
    }
    CHECK_EQ(net_bridge_transmit(&u->bridge, &u->io, 256), NET_BRIDGE_IDLE);
    CHECK_EQ(u->world.n_batches, 3);
    CHECK_EQ(u->world.batch_sizes[0], NET_BRIDGE_TX_BATCH_MAX);
    CHECK_EQ(u->world.batch_sizes[1], NET_BRIDGE_TX_BATCH_MAX);
    CHECK_EQ(u->world.batch_sizes[2], 5);
    /* Each batch's buffers went back before the next batch, not before their own. */
    CHECK_EQ(u->world.returned_at_batch[0], 0);
    CHECK_EQ(u->world.returned_at_batch[1], NET_BRIDGE_TX_BATCH_MAX);
    CHECK_EQ(u->world.returned_at_batch[2], 2 * NET_BRIDGE_TX_BATCH_MAX);
    CHECK_EQ(u->bridge.counts.tx_frames, n);
    CHECK_EQ(pn_ring_consumer_available(&u->tx_peer.free, &status), n);
}

/* The io receive hook over a ring, as net-bridge.c's (the doorbells keep the fake world). */
static struct packet_rx_ring ring;

static long ring_receive(void *ctx, unsigned char *buf, size_t capacity)
{
    (void)ctx;
    return packet_rx_ring_receive(&ring, buf, capacity);
}

static void test_receive_through_ring(void)
{
    static _Alignas(4096) unsigned char ring_memory[1 << 18];
    struct setup *s = make(0);
    struct packet_ring_layout layout;
    CHECK(packet_ring_plan(PACKET_RING_V2, BUFFER_SIZE, 8, 0, 0, &layout, err, sizeof err));
    CHECK(packet_ring_bytes(&layout) <= sizeof ring_memory);
    struct fake_kernel_ring kernel;
    fake_ring_init(&kernel, ring_memory, &layout);
    packet_rx_ring_attach(&ring, ring_memory, &layout);
    struct net_bridge_io io = s->io;
    io.receive = ring_receive;

    give_rx_buffers(s, 2);
    static unsigned char frame[BUFFER_SIZE];
    for (unsigned n = 0; n < 5; n++) {
        for (unsigned i = 0; i < BUFFER_SIZE; i++) {
            frame[i] = (unsigned char)(n * 31 + i);
        }
        uint32_t len = n == 1 ? BUFFER_SIZE : 60 + n;
        CHECK(fake_ring_put(&kernel, frame, len, len, PACKET_HOST));
    }
    net_bridge_receive(&s->bridge, &io, CAPACITY);
    /* Two buffers: two frames delivered whole, three dropped and counted. */
    CHECK_EQ(s->bridge.counts.rx_frames, 2);
    CHECK_EQ(s->bridge.counts.rx_dropped_no_buffer, 3);
    CHECK_EQ(s->bridge.counts.rx_bytes, 60 + BUFFER_SIZE);
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, 0);
    CHECK_EQ(d.len, 60);
    for (unsigned i = 0; i < 60; i++) {
        CHECK_EQ(s->rx_data[i], (unsigned char)i);
    }
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, BUFFER_SIZE);
    CHECK_EQ(d.len, BUFFER_SIZE);
    CHECK_EQ(s->rx_data[BUFFER_SIZE + 100], (unsigned char)(31 + 100));
    /* Every slot, dropped ones too, is the kernel's again: the ring never stalls on us. */
    for (unsigned i = 0; i < 5; i++) {
        CHECK(fake_ring_frame_given_back(&kernel, i));
    }
    /* Out of buffers, it asked the peer to signal their return, as with recvfrom. */
    CHECK_EQ(signal_wanted(&s->bridge.rx.free), 1);
    /* Buffers back: the next frame goes in. */
    CHECK_EQ(pn_net_give_free(&s->rx_peer, d), PN_RING_OK);
    CHECK(fake_ring_put(&kernel, frame, 70, 70, PACKET_HOST));
    net_bridge_receive(&s->bridge, &io, CAPACITY);
    CHECK_EQ(s->bridge.counts.rx_frames, 3);
    CHECK_EQ(s->bridge.counts.rx_dropped_no_buffer, 3);
}

int main(void)
{
    RUN_TEST(test_batch_sends_frames_intact);
    RUN_TEST(test_batch_refused_and_bad_frames);
    RUN_TEST(test_batch_bounded_by_room_budget_and_size);
    RUN_TEST(test_receive_through_ring);
    return check_exit();
}
