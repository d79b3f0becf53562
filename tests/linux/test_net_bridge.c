/*
 * Unit tests of net-bridge's logic (driver-vms/programs/net_bridge_core.c)
 * on the host. The bridge runs against real pinion rings in ordinary
 * memory, with this file playing the peers (the receive multiplexer drains
 * rx and returns buffers, the transmit multiplexer fills tx with physical
 * addresses), a fake packet socket, and doorbells that record what they
 * are rung with. The command line is tested here too; the sysfs lookup in
 * test_uio_maps.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "net_bridge_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPACITY    8u
#define BUFFER_SIZE 256u
#define RX_BUFFERS  4u
#define TX0_PHYS    0x10000000ull
#define TX1_PHYS    0x20000000ull
#define TX_BYTES    (4 * BUFFER_SIZE)

static char err[NET_BRIDGE_ERROR_MAX];

/* --- the command line --------------------------------------------------- */

static enum net_bridge_parse_result parse(struct net_bridge_options *o, int argc, ...)
{
    char *argv[16] = {"net-bridge"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++) {
        argv[i] = va_arg(ap, char *);
    }
    va_end(ap);
    err[0] = '\0';
    return net_bridge_parse_args(argc, argv, o, err, sizeof err);
}

static void test_parse(void)
{
    struct net_bridge_options o;
    CHECK_EQ(parse(&o, 1), NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.capacity, 512);
    CHECK_EQ(o.buffer_size, 2048);
    CHECK(strcmp(o.interface, "eth0") == 0);
    CHECK(strcmp(o.rx_name, "rx") == 0 && strcmp(o.tx_name, "tx") == 0);
    CHECK_EQ(o.die_after, 0);
    CHECK_EQ(o.poll_ms, -1);
    CHECK_EQ(o.report_every, 0);
    CHECK(strcmp(o.sysfs_root, "/sys") == 0);
    CHECK_EQ(parse(&o, 2, "--report-every=20000"), NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.report_every, 20000);
    CHECK_EQ(parse(&o, 2, "--report-every=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--report-every must be a positive number");

    CHECK_EQ(parse(&o, 11, "--capacity", "1024", "--buffer-size=4096", "--interface", "eth1",
                   "--rx=net_rx", "--tx", "net_tx", "--die-after=500", "--poll-ms=5"),
             NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.capacity, 1024);
    CHECK_EQ(o.buffer_size, 4096);
    CHECK(strcmp(o.interface, "eth1") == 0);
    CHECK(strcmp(o.rx_name, "net_rx") == 0 && strcmp(o.tx_name, "net_tx") == 0);
    CHECK_EQ(o.die_after, 500);
    CHECK_EQ(o.poll_ms, 5);
    CHECK_EQ(parse(&o, 4, "--capacity", "4", "--help"), NET_BRIDGE_PARSE_HELP);

    CHECK_EQ(parse(&o, 2, "--capacity=100"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--capacity must be a power of two from 1 to 32768, not \"100\"");
    CHECK_EQ(parse(&o, 2, "--capacity=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--buffer-size=63"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--buffer-size must be a number from 64 to 65536");
    CHECK_EQ(parse(&o, 2, "--buffer-size=2048k"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--die-after=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--die-after must be a positive number");
    CHECK_EQ(parse(&o, 2, "--interface=averyveryverylongname"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--rx=a/b"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 3, "--rx=q", "--tx=q"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx and --tx name the same device \"q\"");
    CHECK_EQ(parse(&o, 2, "--tx"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--tx needs a value");
    CHECK_EQ(parse(&o, 2, "--capacities=4"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unknown option \"--capacities=4\"");
    CHECK_EQ(parse(&o, 2, "eth0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unexpected argument \"eth0\"");
}

/* --- the bridge against fake peers and a fake socket --------------------- */

#define MAX_FRAMES 32

struct fake_world {
    /* Frames waiting on the "interface", in order. */
    unsigned char frames[MAX_FRAMES][BUFFER_SIZE + 64];
    size_t frame_len[MAX_FRAMES];
    unsigned n_frames, next_frame;
    int receive_error; /* -errno for the next receive, once */
    /* What was sent. */
    unsigned char sent[MAX_FRAMES][BUFFER_SIZE];
    size_t sent_len[MAX_FRAMES];
    unsigned n_sent;
    int send_error; /* -errno for every send while non-zero */
    uint32_t rings[2], last_ring_value[2];
};

static long fake_receive(void *ctx, unsigned char *buf, size_t capacity)
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

static int fake_send(void *ctx, const unsigned char *frame, size_t len)
{
    struct fake_world *w = ctx;
    if (w->send_error) {
        return w->send_error;
    }
    memcpy(w->sent[w->n_sent], frame, len);
    w->sent_len[w->n_sent++] = len;
    return 0;
}

static void fake_ring(void *ctx, enum net_bridge_side side, uint32_t value)
{
    struct fake_world *w = ctx;
    w->rings[side]++;
    w->last_ring_value[side] = value;
}

/* A frame on the interface: `len` bytes, each (seed + i). */
static void arrive(struct fake_world *w, size_t len, unsigned char seed)
{
    for (size_t i = 0; i < len; i++) {
        w->frames[w->n_frames][i] = (unsigned char)(seed + i);
    }
    w->frame_len[w->n_frames++] = len;
}

struct setup {
    _Alignas(64) unsigned char rx_queue[4096];
    _Alignas(64) unsigned char tx_queue[4096];
    _Alignas(64) unsigned char rx_data[RX_BUFFERS * BUFFER_SIZE];
    _Alignas(64) unsigned char tx0[TX_BYTES], tx1[TX_BYTES];
    struct net_bridge bridge;
    struct pn_net_drainer rx_peer; /* the receive multiplexer */
    struct pn_net_filler tx_peer;  /* the transmit multiplexer */
    struct fake_world world;
    struct net_bridge_io io;
};

static struct setup *make(uint64_t die_after)
{
    static struct setup s;
    memset(&s, 0, sizeof s);
    pn_net_pair_format(s.rx_queue, CAPACITY);
    pn_net_pair_format(s.tx_queue, CAPACITY);
    struct net_bridge_region rx = {
        .base = s.rx_data, .phys = 0x30000000, .bytes = sizeof s.rx_data};
    struct net_bridge_region tx[2] = {{.base = s.tx0, .phys = TX0_PHYS, .bytes = TX_BYTES},
                                      {.base = s.tx1, .phys = TX1_PHYS, .bytes = TX_BYTES}};
    bool ok =
        net_bridge_init(&s.bridge, s.rx_queue, sizeof s.rx_queue, rx, s.tx_queue, sizeof s.tx_queue,
                        tx, 2, CAPACITY, BUFFER_SIZE, die_after, err, sizeof err);
    CHECK(ok);
    CHECK(pn_net_drainer_attach(&s.rx_peer, s.rx_queue, CAPACITY));
    CHECK(pn_net_filler_attach(&s.tx_peer, s.tx_queue, CAPACITY));
    s.io = (struct net_bridge_io){
        .receive = fake_receive, .send = fake_send, .ring = fake_ring, .ctx = &s.world};
    return &s;
}

static void give_rx_buffers(struct setup *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(pn_net_give_free(&s->rx_peer,
                                  (struct pn_net_desc){.offset = (uint64_t)i * BUFFER_SIZE}),
                 PN_RING_OK);
    }
}

static uint32_t signal_wanted(struct pn_ring_consumer *c)
{
    return atomic_load(&c->end.shared->signal_wanted);
}

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

/* A frame in a transmit region: `len` bytes at physical `phys`, each (seed + i). */
static void queue_tx(struct setup *s, uint64_t phys, uint32_t len, unsigned char seed)
{
    unsigned char *base =
        phys >= TX1_PHYS ? s->tx1 + (phys - TX1_PHYS) : s->tx0 + (phys - TX0_PHYS);
    for (uint32_t i = 0; i < len; i++) {
        base[i] = (unsigned char)(seed + i);
    }
    CHECK_EQ(pn_net_give_active(&s->tx_peer, (struct pn_net_desc){.offset = phys, .len = len}),
             PN_RING_OK);
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
    CHECK_STR_CONTAINS(json, "\"rx_irqs\": 7, \"tx_irqs\": 0, \"rx_bytes\": 64, \"tx_bytes\": 64}");
}

int main(void)
{
    RUN_TEST(test_parse);
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
