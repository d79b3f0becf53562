/*
 * Unit tests of net-bridge's logic (driver-vms/programs/net_bridge_core.c)
 * on the host, one frame at a time as the LionsOS-style bridge moves them:
 * the bridge against fake peers, a fake socket and recording doorbells
 * (net_bridge_fixture.h). The batched transmission and the receive ring
 * are tested in test_net_bridge_batch.c, the command line in
 * test_net_bridge_args.c, the sysfs lookup in test_uio_maps.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "net_bridge_fixture.h"

static void test_init_errors(void)
{
    static _Alignas(64) unsigned char q[4096], data[4096];
    struct net_bridge b;
    struct net_bridge_region rx = {.base = data, .bytes = sizeof data};
    struct net_bridge_region tx = {.base = data, .phys = 0x1000, .bytes = sizeof data};
    CHECK(!net_bridge_init(&b, q, sizeof q, rx, q, sizeof q, &tx, 1, 6, 256, 0, err, sizeof err));
    CHECK_STR_CONTAINS(err, "the capacity 6 is not a power of two");
    CHECK(!net_bridge_init(&b, q, 100, rx, q, sizeof q, &tx, 1, 8, 256, 0, err, sizeof err));
    CHECK_STR_CONTAINS(err, "a queue pair of capacity 8 needs 512 bytes; the rx queue has 100");
    rx.bytes = 100;
    CHECK(!net_bridge_init(&b, q, sizeof q, rx, q, sizeof q, &tx, 1, 8, 256, 0, err, sizeof err));
    CHECK_STR_CONTAINS(err, "the receive data region (100 bytes) holds no 256-byte buffer");
    rx.bytes = sizeof data;
    CHECK(!net_bridge_init(&b, q, sizeof q, rx, q, sizeof q, &tx, 0, 8, 256, 0, err, sizeof err));
    CHECK_STR_CONTAINS(err, "0 transmit regions: there must be 1 to 3");
}

static void test_receive_flows_and_signals(void)
{
    struct setup *s = make(0);
    give_rx_buffers(s, RX_BUFFERS);
    arrive(&s->world, 60, 1);
    arrive(&s->world, BUFFER_SIZE, 2); /* exactly a buffer: fits */
    CHECK_EQ(net_bridge_receive(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_IDLE);
    CHECK_EQ(s->bridge.counts.rx_frames, 2);
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, 0);
    CHECK_EQ(d.len, 60);
    CHECK(memcmp(s->rx_data, s->world.frames[0], 60) == 0);
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, BUFFER_SIZE);
    CHECK_EQ(d.len, BUFFER_SIZE);
    CHECK(memcmp(s->rx_data + BUFFER_SIZE, s->world.frames[1], BUFFER_SIZE) == 0);
    /* The peer never asked to be woken: no doorbell. */
    CHECK_EQ(s->world.rings[NET_BRIDGE_RX], 0);
    /* The bridge took a third buffer while looking for a frame, and holds it. */
    CHECK(s->bridge.holding);
    CHECK_EQ(s->bridge.held.offset, 2 * BUFFER_SIZE);

    /* The peer goes to sleep asking for a signal: the next delivery rings once. */
    pn_ring_request_signal(&s->rx_peer.active);
    arrive(&s->world, 100, 3);
    arrive(&s->world, 100, 4);
    net_bridge_receive(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->world.rings[NET_BRIDGE_RX], 1);
    CHECK_EQ(s->world.last_ring_value[NET_BRIDGE_RX], 1);
    CHECK_EQ(s->bridge.counts.rx_doorbells, 1);
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, 2 * BUFFER_SIZE); /* the held buffer went first */
    /* The request was consumed: another frame rings nothing. */
    arrive(&s->world, 100, 5);
    pn_net_give_free(&s->rx_peer, (struct pn_net_desc){.offset = 0});
    net_bridge_receive(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->world.rings[NET_BRIDGE_RX], 1);
    CHECK_EQ(s->bridge.counts.rx_frames, 5);
    CHECK_EQ(s->bridge.counts.rx_dropped_no_buffer, 0);
}

static void test_receive_without_buffers(void)
{
    struct setup *s = make(0);
    give_rx_buffers(s, 1);
    for (unsigned i = 0; i < 3; i++) {
        arrive(&s->world, 64, (unsigned char)i);
    }
    CHECK_EQ(net_bridge_receive(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_IDLE);
    CHECK_EQ(s->bridge.counts.rx_frames, 1);
    CHECK_EQ(s->bridge.counts.rx_dropped_no_buffer, 2);
    CHECK_EQ(s->world.next_frame, 3); /* all taken off the socket */
    /* Out of buffers, the bridge asked the peer to signal their return. */
    CHECK_EQ(signal_wanted(&s->bridge.rx.free), 1);
    /* The peer returns one; its require_signal sees the request once. */
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(pn_net_give_free(&s->rx_peer, d), PN_RING_OK);
    struct pn_ring_producer *peer_free = &s->rx_peer.free;
    CHECK(pn_ring_require_signal(peer_free));
    CHECK(!pn_ring_require_signal(peer_free));
    arrive(&s->world, 64, 9);
    net_bridge_receive(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->bridge.counts.rx_frames, 2);
    CHECK_EQ(s->bridge.counts.rx_dropped_no_buffer, 2);
}

static void test_receive_bad_and_odd(void)
{
    struct setup *s = make(0);
    /* Free descriptors that name no buffer: mid-buffer, past the region, at its end. */
    uint64_t bad[] = {BUFFER_SIZE / 2, RX_BUFFERS * BUFFER_SIZE, (RX_BUFFERS + 7) * BUFFER_SIZE,
                      UINT64_MAX - BUFFER_SIZE + 1};
    for (unsigned i = 0; i < 4; i++) {
        pn_net_give_free(&s->rx_peer, (struct pn_net_desc){.offset = bad[i]});
    }
    pn_net_give_free(&s->rx_peer, (struct pn_net_desc){.offset = BUFFER_SIZE});
    arrive(&s->world, BUFFER_SIZE + 1, 1); /* too long: cut short by the socket */
    arrive(&s->world, 70, 2);
    net_bridge_receive(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->bridge.counts.bad_free_desc, 4);
    CHECK_EQ(s->bridge.counts.rx_dropped_too_long, 1);
    CHECK_EQ(s->bridge.counts.rx_frames, 1);
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_active(&s->rx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, BUFFER_SIZE); /* the one good buffer, reused after the long frame */
    CHECK_EQ(d.len, 70);
    CHECK(memcmp(s->rx_data + BUFFER_SIZE, s->world.frames[1], 70) == 0);

    /* A socket error is counted and ends the batch. */
    s->world.receive_error = -ENETDOWN;
    pn_net_give_free(&s->rx_peer, (struct pn_net_desc){.offset = 0});
    arrive(&s->world, 70, 3);
    net_bridge_receive(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->bridge.counts.rx_receive_errors, 1);
    CHECK_EQ(s->bridge.counts.rx_frames, 1);
    net_bridge_receive(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->bridge.counts.rx_frames, 2);
}

static void test_receive_budget_and_die_after(void)
{
    struct setup *s = make(3);
    give_rx_buffers(s, RX_BUFFERS);
    for (unsigned i = 0; i < 6; i++) {
        arrive(&s->world, 64, (unsigned char)i);
    }
    CHECK_EQ(net_bridge_receive(&s->bridge, &s->io, 2), NET_BRIDGE_MORE);
    CHECK_EQ(s->bridge.counts.rx_frames, 2);
    CHECK_EQ(net_bridge_receive(&s->bridge, &s->io, 2), NET_BRIDGE_DIE);
    CHECK_EQ(s->bridge.counts.rx_frames, 3);
    CHECK_EQ(s->world.next_frame, 3); /* nothing more taken once it is to die */
    CHECK_EQ(net_bridge_service(&s->bridge, &s->io), NET_BRIDGE_DIE);
    CHECK_EQ(s->bridge.counts.rx_frames, 3);
}

static void test_transmit_flows_and_signals(void)
{
    struct setup *s = make(0);
    queue_tx(s, TX0_PHYS + BUFFER_SIZE, 60, 1);
    queue_tx(s, TX1_PHYS + 3 * BUFFER_SIZE, BUFFER_SIZE, 2); /* the last buffer, whole */
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_IDLE);
    CHECK_EQ(s->world.n_sent, 2);
    CHECK_EQ(s->world.sent_len[0], 60);
    CHECK(memcmp(s->world.sent[0], s->tx0 + BUFFER_SIZE, 60) == 0);
    CHECK_EQ(s->world.sent_len[1], BUFFER_SIZE);
    CHECK(memcmp(s->world.sent[1], s->tx1 + 3 * BUFFER_SIZE, BUFFER_SIZE) == 0);
    CHECK_EQ(s->bridge.counts.tx_frames, 2);
    /* Buffers come back with the same address and length 0. */
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_free(&s->tx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, TX0_PHYS + BUFFER_SIZE);
    CHECK_EQ(d.len, 0);
    CHECK_EQ(pn_net_take_free(&s->tx_peer, &d), PN_RING_OK);
    CHECK_EQ(d.offset, TX1_PHYS + 3 * BUFFER_SIZE);
    /* Drained, the bridge asked to be woken for more; the peer had not asked: no doorbell. */
    CHECK_EQ(signal_wanted(&s->bridge.tx.active), 1);
    CHECK_EQ(s->world.rings[NET_BRIDGE_TX], 0);
    CHECK(pn_ring_require_signal(&s->tx_peer.active));

    /* The peer waits for buffers: the next return rings its doorbell, once. */
    pn_ring_request_signal(&s->tx_peer.free);
    queue_tx(s, TX0_PHYS, 80, 3);
    queue_tx(s, TX0_PHYS + 2 * BUFFER_SIZE, 80, 4);
    net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->world.rings[NET_BRIDGE_TX], 1);
    CHECK_EQ(s->bridge.counts.tx_doorbells, 1);
    queue_tx(s, TX0_PHYS, 80, 5);
    net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->world.rings[NET_BRIDGE_TX], 1);
    CHECK_EQ(s->bridge.counts.tx_frames, 5);

    /* A refused send is counted; the buffer still goes back. */
    s->world.send_error = -ENOBUFS;
    queue_tx(s, TX0_PHYS, 80, 6);
    net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->bridge.counts.tx_send_errors, 1);
    CHECK_EQ(s->bridge.counts.tx_frames, 5);
    unsigned back = 0;
    while (pn_net_take_free(&s->tx_peer, &d) == PN_RING_OK) {
        back++;
    }
    CHECK_EQ(back, 4);
}

static void test_transmit_bad_descriptors(void)
{
    struct setup *s = make(0);
    struct pn_net_desc bad[] = {
        {.offset = TX0_PHYS - 1, .len = 60},              /* before the region */
        {.offset = TX0_PHYS + TX_BYTES, .len = 60},       /* just past it */
        {.offset = TX0_PHYS + TX_BYTES - 10, .len = 60},  /* straddles its end */
        {.offset = (TX0_PHYS + TX1_PHYS) / 2, .len = 60}, /* between the regions */
        {.offset = TX0_PHYS, .len = 0},                   /* empty */
        {.offset = TX0_PHYS, .len = BUFFER_SIZE + 1},     /* longer than a buffer */
        {.offset = UINT64_MAX - 20, .len = 60},           /* wraps around */
        {.offset = TX1_PHYS + TX_BYTES - 59, .len = 60},  /* one byte too far */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(net_bridge_tx_frame(&s->bridge, bad[i]) == NULL);
        pn_net_give_active(&s->tx_peer, bad[i]);
    }
    CHECK(net_bridge_tx_frame(
              &s->bridge, (struct pn_net_desc){.offset = TX1_PHYS + TX_BYTES - 60, .len = 60}) ==
          s->tx1 + TX_BYTES - 60);
    net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    CHECK_EQ(s->bridge.counts.bad_tx_desc, 8);
    CHECK_EQ(s->world.n_sent, 0);
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_free(&s->tx_peer, &d), PN_RING_EMPTY); /* none followed or returned */
}

static void test_transmit_budget_stall_and_corruption(void)
{
    struct setup *s = make(0);
    for (unsigned i = 0; i < 4; i++) {
        queue_tx(s, TX0_PHYS + i * BUFFER_SIZE, 60, (unsigned char)i);
    }
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, 3), NET_BRIDGE_MORE);
    CHECK_EQ(s->world.n_sent, 3);
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, 3), NET_BRIDGE_IDLE);
    CHECK_EQ(s->world.n_sent, 4);

    /* The peer never takes its buffers back: the free ring fills and frames wait. */
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 4; i++) {
            queue_tx(s, TX1_PHYS + i * BUFFER_SIZE, 60, (unsigned char)i);
        }
        net_bridge_transmit(&s->bridge, &s->io, CAPACITY);
    }
    CHECK_EQ(s->world.n_sent, CAPACITY);
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_STALLED);
    CHECK_EQ(s->world.n_sent, CAPACITY);
    CHECK_EQ(net_bridge_service(&s->bridge, &s->io), NET_BRIDGE_STALLED);
    struct pn_net_desc d;
    CHECK_EQ(pn_net_take_free(&s->tx_peer, &d), PN_RING_OK);
    CHECK_EQ(net_bridge_transmit(&s->bridge, &s->io, CAPACITY), NET_BRIDGE_STALLED);
    CHECK_EQ(s->world.n_sent, CAPACITY + 1);
    CHECK_EQ(s->bridge.counts.corrupt_rings, 0);

    /* A peer that writes an impossible tail is counted once and not followed. */
    struct setup *t = make(0);
    atomic_store(&((struct pn_ring_shared *)pn_net_active_ring(t->tx_queue, CAPACITY))->tail,
                 CAPACITY * 5);
    net_bridge_transmit(&t->bridge, &t->io, CAPACITY);
    net_bridge_transmit(&t->bridge, &t->io, CAPACITY);
    CHECK_EQ(t->bridge.counts.corrupt_rings, 1);
    CHECK_EQ(t->world.n_sent, 0);
}

static void test_service_both_ways_and_json(void)
{
    struct setup *s = make(0);
    give_rx_buffers(s, 2);
    arrive(&s->world, 64, 1);
    queue_tx(s, TX0_PHYS, 64, 2);
    CHECK_EQ(net_bridge_service(&s->bridge, &s->io), NET_BRIDGE_IDLE);
    CHECK_EQ(s->bridge.counts.rx_frames, 1);
    CHECK_EQ(s->bridge.counts.tx_frames, 1);
    s->bridge.counts.rx_irqs = 7;
    char json[1024];
    int n = net_bridge_counts_json(&s->bridge.counts, json, sizeof json);
    CHECK(n > 0 && (size_t)n < sizeof json);
    CHECK(json[0] == '{' && json[n - 1] == '}' && strchr(json, '\n') == NULL);
    CHECK_STR_CONTAINS(json, "\"rx_frames\": 1, \"tx_frames\": 1, \"rx_dropped_no_buffer\": 0");
    CHECK_STR_CONTAINS(json, "\"bad_tx_desc\": 0");
    CHECK_STR_CONTAINS(json, "\"rx_irqs\": 7, \"tx_irqs\": 0, \"rx_bytes\": 64, \"tx_bytes\": 64, "
                             "\"tx_batches\": 0, \"polls\": 0}");
    /* One by one: no batch was made. */
    CHECK_EQ(s->world.single_sends, 1);
    CHECK_EQ(s->world.n_batches, 0);
}

int main(void)
{
    RUN_TEST(test_init_errors);
    RUN_TEST(test_receive_flows_and_signals);
    RUN_TEST(test_receive_without_buffers);
    RUN_TEST(test_receive_bad_and_odd);
    RUN_TEST(test_receive_budget_and_die_after);
    RUN_TEST(test_transmit_flows_and_signals);
    RUN_TEST(test_transmit_bad_descriptors);
    RUN_TEST(test_transmit_budget_stall_and_corruption);
    RUN_TEST(test_service_both_ways_and_json);
    return check_exit();
}
