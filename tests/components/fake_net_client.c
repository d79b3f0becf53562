/*
 * Test component: an echo client's place in the network echo system, so
 * that the real copier and net_virt_tx are tested in the hosted backend
 * against a client that checks everything and misbehaves on purpose
 * (tests/unit/test_net_mux_hosted.c; its driver is fake_net_driver.c,
 * whose top comment describes the frames and the batches).
 *
 * Receive: we drain our copier's queue. At init we give the copier two
 * free descriptors that name no buffer (past our region, inside a buffer),
 * then every receive buffer. Each frame is checked: a descriptor naming
 * one of our buffers that is not with us already, addressed to our MAC
 * (stream 'U') or to a group ('B'), the next number of its stream, its
 * length and payload as the driver wrote them. Its buffer goes back, with
 * three more corrupt free descriptors slipped in over the first frames
 * (far past the region, inside a buffer, longer than a buffer). With
 * "slow_after_frames": N we stop giving buffers back after N frames, a
 * slow client: the copier must drop what it then has no buffer for, and
 * nobody else may suffer. With "overfill_free_ring": 1 we keep the free
 * ring full, naming each buffer many times, and never take a frame: the
 * copier's ring to us fills up, and what does not fit must be dropped and
 * counted, not counted as copied.
 *
 * Batches: we notify "ctl" once our buffers are with the copier at init.
 * Then on each "ctl", word 0 of region "ctl" holds how many frames the
 * driver has offered us so far; once we have received all of them that we
 * can get (all; a slow client no more than it ever had buffers for), and
 * given their buffers back, we notify "ctl" again.
 *
 * Transmit: we fill our net_virt_tx queue, owning our transmit buffers
 * from the start as docs/net-echo-client.md describes. We send
 * "tx_frames" numbered frames as fast as buffers come back, and before
 * every TX_CORRUPT_EVERY-th a corrupt descriptor (past the region, far
 * past it, inside a buffer, of length 0, longer than a buffer). Those name
 * no buffer we give away, so net_virt_tx must drop them; every buffer we
 * did send must come back exactly once.
 *
 * Wiring: "rx_queue", "rx_data", "tx_queue", "tx_data" (rw), "ctl" (r);
 * channels "rx", "tx", "ctl"; parameters "capacity", "buffer_size", "mac",
 * "tx_frames", optionally "slow_after_frames" and "overfill_free_ring".
 * Rings are slept on strictly, as in fake_net_driver.c. Freestanding, like
 * every component.
 */
#include "../../components/net/net_parse.h"

#include "fake_net.h"
#include <pinion/component.h>
#include <pinion/net_queue.h>
#include <pinion/wiring.h>
#include <stdatomic.h>

#define MAX_BUFFERS      512
#define ETH_HEADER       14
#define TX_HEADER        18 /* Ethernet header and our 32-bit sequence number */
#define TX_CORRUPT_EVERY 25
#define CORRUPT_LEN      60
/* Corrupt free descriptors slipped in among the returns: one each this many frames. */
#define BAD_FREE_EVERY 5
#define BAD_FREE_LATER 3

/* What we did and saw, named as the test reads them. */
static uint64_t *rx_unicast, *rx_group, *rx_wrong, *rx_bad_desc, *rx_buffers_kept, *sent_bad_free;
static uint64_t *acks, *tx_sent, *tx_sent_bad, *tx_returned, *tx_wrong_return, *tx_buffers_out;

static const uint8_t driver_mac[NET_MAC_BYTES] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};

static struct pn_net_drainer rx;
static struct pn_net_filler tx;
static pn_channel rx_ch, tx_ch, ctl_ch;
static const _Atomic uint32_t *offered_word;
static const uint8_t *rx_data;
static uint8_t *tx_data;
static uint64_t rx_data_size, tx_data_size;
static uint32_t buffer_size, rx_buffers, tx_buffers;
static uint8_t mac[NET_MAC_BYTES];

static bool rx_with_us[MAX_BUFFERS];
static uint32_t frames_received, buffers_returned, slow_after;
static bool overfill;
static uint32_t next_overfill_buffer;
static uint32_t next_unicast_seq, next_group_seq;
static uint32_t ack_target;
static bool ack_due;

static bool tx_out[MAX_BUFFERS];
static uint32_t tx_own[MAX_BUFFERS]; /* the transmit buffers we hold, as a stack */
static uint32_t tx_own_count, tx_frames, tx_next_seq, tx_corrupt_sent_before;

static bool gave_rx, gave_tx;
static bool awaiting_frames, awaiting_tx_buffers; /* asleep on rx active, on tx free */

static void wrong(const char *why)
{
    pn_dbg_puts("rx: frame wrong: ");
    pn_dbg_puts(why);
    pn_dbg_puts("\n");
    ++*rx_wrong;
}

/* ---- Receive ---- */

static void give_free(struct pn_net_desc d)
{
    if (pn_net_give_free(&rx, d) != PN_RING_OK) {
        pn_fatal("the copier's free ring is full or corrupt");
    }
    gave_rx = true;
}

static void give_bad_free(struct pn_net_desc d)
{
    give_free(d);
    ++*sent_bad_free;
}

/* Every free slot filled, each buffer named again and again: no client should. */
static void overfill_free_ring(void)
{
    enum pn_ring_status status;
    uint32_t space = pn_ring_producer_space(&rx.free, &status);
    for (uint32_t i = 0; i < space; i++) {
        uint32_t buffer = next_overfill_buffer++ % rx_buffers;
        give_free((struct pn_net_desc){.offset = (uint64_t)buffer * buffer_size});
    }
}

/* What is wrong with a frame in one of our buffers, or NULL. */
static const char *check_frame(const uint8_t *f, uint32_t len)
{
    if (len < ETH_HEADER) {
        return "shorter than an Ethernet header";
    }
    if (get16(f + 12) != len - ETH_HEADER) {
        return "length differs from what the driver wrote";
    }
    uint8_t stream = f[7];
    uint32_t seq = get32(f + 8), *next;
    if (stream == 'U') {
        if (__builtin_memcmp(f, mac, NET_MAC_BYTES) != 0) {
            return "a unicast frame for another MAC";
        }
        ++*rx_unicast;
        next = &next_unicast_seq;
    } else if (stream == 'B') {
        if ((f[0] & 1) == 0) {
            return "a group frame with a unicast destination";
        }
        ++*rx_group;
        next = &next_group_seq;
    } else {
        return "a frame for nobody";
    }
    bool in_order = seq == *next;
    *next = seq + 1;
    if (!in_order) {
        return "out of order (lost, repeated or reordered)";
    }
    for (uint32_t i = ETH_HEADER; i < len; i++) {
        if (f[i] != pattern(stream, seq, i)) {
            return "payload";
        }
    }
    return 0;
}

/* Back to the copier, unless we are slow by now: then it stays with us. */
static void give_back_or_keep(uint32_t buffer)
{
    if (buffers_returned == slow_after) {
        ++*rx_buffers_kept;
        return;
    }
    buffers_returned++;
    if (buffers_returned % BAD_FREE_EVERY == 0 &&
        buffers_returned / BAD_FREE_EVERY <= BAD_FREE_LATER) {
        struct pn_net_desc bad[BAD_FREE_LATER] = {
            {.offset = ~(uint64_t)0 - buffer_size + 1}, /* far past: offset + size wraps */
            {.offset = buffer_size + buffer_size / 2},  /* inside a buffer */
            {.offset = 0, .len = buffer_size + 1},      /* longer than a buffer */
        };
        give_bad_free(bad[buffers_returned / BAD_FREE_EVERY - 1]);
    }
    rx_with_us[buffer] = false;
    give_free((struct pn_net_desc){.offset = (uint64_t)buffer * buffer_size});
}

static bool drain_frames(void)
{
    bool took = false;
    struct pn_net_desc d;
    enum pn_ring_status status;
    while ((status = pn_net_take_active(&rx, &d)) == PN_RING_OK) {
        took = true;
        if (!pn_net_desc_valid(d, rx_data_size, buffer_size)) {
            ++*rx_bad_desc; /* names no buffer of ours: never followed */
            continue;
        }
        uint32_t buffer = (uint32_t)(d.offset / buffer_size);
        if (buffer >= rx_buffers || rx_with_us[buffer]) {
            wrong("a buffer we did not give the copier");
            continue;
        }
        rx_with_us[buffer] = true;
        frames_received++;
        const char *why = check_frame(rx_data + d.offset, d.len);
        if (why) {
            wrong(why);
        }
        give_back_or_keep(buffer);
    }
    if (status == PN_RING_CORRUPT) {
        pn_fatal("the copier corrupted the receive ring");
    }
    return took;
}

/* The driver's word is in and we have what we can get of it: acknowledge. */
static bool maybe_acknowledge(void)
{
    if (!ack_due || frames_received < ack_target) {
        return false;
    }
    if (frames_received > ack_target) {
        wrong("more frames than the driver offered");
    }
    ack_due = false;
    ++*acks;
    pn_notify(ctl_ch);
    return true;
}

static void batch_announced(void)
{
    if (overfill) {
        overfill_free_ring();
        ack_target = 0; /* we take nothing, so there is nothing to wait for */
        ack_due = true;
        return;
    }
    uint32_t offered = atomic_load_explicit(offered_word, memory_order_acquire);
    /* A slow client gets no more frames than it ever gave the copier buffers. */
    uint32_t can_get = slow_after == UINT32_MAX ? UINT32_MAX : rx_buffers + slow_after;
    ack_target = offered < can_get ? offered : can_get;
    ack_due = true;
}

/* ---- Transmit ---- */

static void give_active(struct pn_net_desc d)
{
    if (pn_net_give_active(&tx, d) != PN_RING_OK) {
        pn_fatal("net_virt_tx's queue is full or corrupt");
    }
    gave_tx = true;
}

static uint32_t tx_frame_len(uint32_t seq)
{
    switch (seq % 8) {
    case 0:
        return TX_HEADER;
    case 1:
        return buffer_size;
    default:
        return TX_HEADER + mix(seq ^ 0x5a5a) % (buffer_size - TX_HEADER + 1);
    }
}

static void send_corrupt(uint32_t seq)
{
    uint32_t turn = seq / TX_CORRUPT_EVERY;
    uint64_t a_buffer = (uint64_t)(turn % tx_buffers) * buffer_size;
    struct pn_net_desc bad[5] = {
        {.offset = tx_data_size, .len = CORRUPT_LEN},                   /* past the region */
        {.offset = ~(uint64_t)0 - buffer_size + 1, .len = CORRUPT_LEN}, /* wrapping */
        {.offset = a_buffer + buffer_size / 2, .len = CORRUPT_LEN},     /* inside a buffer */
        {.offset = a_buffer, .len = 0},                                 /* empty */
        {.offset = a_buffer, .len = buffer_size + 1},                   /* too long */
    };
    give_active(bad[turn % 5]);
    ++*tx_sent_bad;
}

static bool send_frames(void)
{
    bool sent = false;
    while (tx_next_seq < tx_frames) {
        uint32_t seq = tx_next_seq;
        if (seq % TX_CORRUPT_EVERY == 3 && tx_corrupt_sent_before != seq) {
            send_corrupt(seq);
            tx_corrupt_sent_before = seq;
            sent = true;
        }
        if (tx_own_count == 0) {
            break;
        }
        uint32_t buffer = tx_own[--tx_own_count];
        tx_out[buffer] = true;
        ++*tx_buffers_out;
        uint8_t *f = tx_data + (uint64_t)buffer * buffer_size;
        uint32_t len = tx_frame_len(seq);
        __builtin_memcpy(f, driver_mac, NET_MAC_BYTES);
        __builtin_memcpy(f + 6, mac, NET_MAC_BYTES);
        put16(f + 12, len - ETH_HEADER);
        put16(f + 14, seq >> 16);
        put16(f + 16, seq);
        for (uint32_t i = TX_HEADER; i < len; i++) {
            f[i] = pattern('T', seq, i);
        }
        give_active((struct pn_net_desc){.offset = (uint64_t)buffer * buffer_size, .len = len});
        ++*tx_sent;
        tx_next_seq++;
        sent = true;
    }
    return sent;
}

static bool take_back_tx_buffers(void)
{
    bool took = false;
    struct pn_net_desc d;
    enum pn_ring_status status;
    while ((status = pn_net_take_free(&tx, &d)) == PN_RING_OK) {
        took = true;
        uint32_t buffer = (uint32_t)(d.offset / buffer_size);
        if (!pn_net_desc_valid(d, tx_data_size, buffer_size) || buffer >= tx_buffers ||
            !tx_out[buffer]) {
            pn_dbg_puts("tx: net_virt_tx returned a buffer we did not send\n");
            ++*tx_wrong_return;
            continue;
        }
        tx_out[buffer] = false;
        tx_own[tx_own_count++] = buffer;
        --*tx_buffers_out;
        ++*tx_returned;
    }
    if (status == PN_RING_CORRUPT) {
        pn_fatal("net_virt_tx corrupted the transmit free ring");
    }
    return took;
}

/* ---- Running ---- */

static void step(void)
{
    for (;;) {
        bool progress = !overfill && !awaiting_frames && drain_frames();
        progress |= !awaiting_tx_buffers && take_back_tx_buffers();
        progress |= send_frames();
        progress |= maybe_acknowledge();
        if (progress) {
            continue;
        }
        /* Even with no buffer out: a buffer net_virt_tx wrongly returns must be seen. */
        bool frames_asleep = overfill || sleep_on(&rx.active, &awaiting_frames);
        if (sleep_on(&tx.free, &awaiting_tx_buffers) && frames_asleep) {
            break;
        }
    }
    if (gave_tx && pn_ring_require_signal(&tx.active)) {
        pn_notify(tx_ch);
    }
    if (gave_rx && pn_ring_require_signal(&rx.free)) {
        pn_notify(rx_ch);
    }
    gave_rx = gave_tx = false;
}

static uint32_t buffers_in(uint64_t size, uint32_t capacity)
{
    uint64_t whole = size / buffer_size;
    uint32_t n = whole < capacity ? (uint32_t)whole : capacity;
    if (n > MAX_BUFFERS) {
        pn_fatal("a data region holds more than 512 buffers");
    }
    return n;
}

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    buffer_size = (uint32_t)pn_param_u64_or("buffer_size", 2048);
    if (capacity == 0 || capacity > (1u << 20) || (capacity & (capacity - 1))) {
        pn_fatal("parameter \"capacity\" must be a power of two up to 2^20");
    }
    if (buffer_size < 64 || buffer_size > 65536) {
        pn_fatal("parameter \"buffer_size\" must be 64..65536");
    }
    uint32_t ring_capacity = (uint32_t)capacity;
    pn_net_drainer_attach(&rx, pn_require_region("rx_queue", pn_net_pair_bytes(ring_capacity), 0),
                          ring_capacity);
    pn_net_filler_attach(&tx, pn_require_region("tx_queue", pn_net_pair_bytes(ring_capacity), 0),
                         ring_capacity);
    rx_data = pn_require_region("rx_data", buffer_size, &rx_data_size);
    tx_data = pn_require_region("tx_data", buffer_size, &tx_data_size);
    offered_word = pn_require_region("ctl", sizeof *offered_word, 0);
    rx_ch = pn_require_channel("rx");
    tx_ch = pn_require_channel("tx");
    ctl_ch = pn_require_channel("ctl");
    const char *mac_text = pn_param("mac");
    if (mac_text == 0 || !net_parse_mac(mac_text, mac)) {
        pn_fatal("parameter \"mac\" is needed");
    }
    tx_frames = (uint32_t)pn_require_param_u64("tx_frames");
    slow_after = (uint32_t)pn_param_u64_or("slow_after_frames", UINT32_MAX);
    overfill = pn_param_u64_or("overfill_free_ring", 0) != 0;
    rx_buffers = buffers_in(rx_data_size, ring_capacity);
    tx_buffers = buffers_in(tx_data_size, ring_capacity);
    if (rx_buffers + 2 + BAD_FREE_LATER > ring_capacity || tx_buffers == 0) {
        pn_fatal("the rings must hold every receive buffer and the corrupt ones");
    }
    rx_unicast = pn_counter("rx_unicast");
    rx_group = pn_counter("rx_group");
    rx_wrong = pn_counter("rx_wrong");
    rx_bad_desc = pn_counter("rx_bad_desc");
    rx_buffers_kept = pn_counter("rx_buffers_kept");
    sent_bad_free = pn_counter("sent_bad_free");
    acks = pn_counter("acks");
    tx_sent = pn_counter("tx_sent");
    tx_sent_bad = pn_counter("tx_sent_bad");
    tx_returned = pn_counter("tx_returned");
    tx_wrong_return = pn_counter("tx_wrong_return");
    tx_buffers_out = pn_counter("tx_buffers_out");

    /* Corrupt ones first, so the copier meets them with its first frame. */
    give_bad_free((struct pn_net_desc){.offset = rx_data_size});
    give_bad_free((struct pn_net_desc){.offset = 8});
    for (uint32_t i = 0; i < rx_buffers && !overfill; i++) {
        give_free((struct pn_net_desc){.offset = (uint64_t)i * buffer_size});
    }
    if (overfill) {
        overfill_free_ring();
    }
    for (uint32_t i = 0; i < tx_buffers; i++) {
        tx_own[tx_own_count++] = tx_buffers - 1 - i;
    }
    tx_corrupt_sent_before = UINT32_MAX;
    /* Ready: the driver's first batch must not find the copier without our buffers. */
    pn_notify(ctl_ch);
    step();
}

void notified(pn_channel ch)
{
    if (ch == rx_ch) {
        awaiting_frames = false;
    } else if (ch == tx_ch) {
        awaiting_tx_buffers = false;
    } else if (ch == ctl_ch) {
        batch_announced();
    }
    step();
}
