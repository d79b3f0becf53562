/*
 * UDP echo client (program net_echo_client): the workload of the network
 * echo system, as in sDDF's echo server. It answers ARP requests for its
 * address and ICMP echo requests, and sends every UDP datagram to its port
 * back where it came from. The protocol logic is in echo_protocol.c; this
 * file moves buffers between the queues. docs/net-echo-client.md has the
 * wiring, the counters and the reasons.
 *
 *   rx_queue: net pair with the rx copier; we are its drainer
 *   rx_data:  our receive buffers, which the copier fills
 *   tx_queue: net pair with the tx multiplexer; we are its filler
 *   tx_data:  our transmit buffers
 *
 * Every buffer is in exactly one place. A received buffer goes back to the
 * rx free ring as soon as its frame is handled; a reply is built in a
 * transmit buffer of our own. With no transmit buffer to hand the frame is
 * dropped and counted (tx_full): never wait, never lose a buffer.
 */
#include "echo_protocol.h"
#include "net_parse.h"

#include <pinion/component.h>
#include <pinion/net_queue.h>
#include <pinion/wiring.h>

#define DEFAULT_UDP_PORT    1235
#define DEFAULT_BUFFER_SIZE 2048
/* Big enough for any frame worth answering; the echo protocol needs 42 bytes at least. */
#define MIN_BUFFER_SIZE 64
/*
 * Frames handled between two looks at whether the copier or the multiplexer
 * wait for us. Without it, while a copier on another core keeps the rx ring
 * from running dry, a multiplexer asleep on the tx ring would not hear of
 * our replies until we ran out of transmit buffers.
 */
#define SIGNAL_EVERY 32

static struct pn_net_drainer rx;
static struct pn_net_filler tx;
static pn_channel rx_ch, tx_ch;
static const uint8_t *rx_data;
static uint8_t *tx_data;
static uint64_t rx_data_size, tx_data_size;
static uint32_t buffer_size;
static struct echo_identity self;

/*
 * Transmit buffers. The tx free ring is ours to consume, not to fill: its
 * producer is the multiplexer, which returns sent buffers there, and a
 * ring side attaches only once. So at start every transmit buffer is
 * simply ours, never used: buffer i of tx_data, for i from tx_never_used
 * up to tx_buffer_count. They are handed out in order, and only once all
 * are out do we take buffers back from the free ring. The one spare holds
 * a buffer that the tx active ring had no room for (a misbehaving
 * multiplexer), so that it is not lost.
 */
static uint32_t tx_buffer_count;
static uint32_t tx_never_used;
static bool tx_spare_held;
static uint64_t tx_spare_offset;

/* Whether a peer has something new from us since we last offered a signal. */
static bool tx_given, rx_returned;

static uint64_t *verdict_counter[ECHO_VERDICTS];
static uint64_t *rx_frames, *tx_full, *rx_bad_desc, *tx_bad_desc, *ring_errors;

static void drain(void);

static uint32_t require_capacity(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    if (capacity > UINT32_MAX || !pn_is_power_of_two((uint32_t)capacity)) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
    return (uint32_t)capacity;
}

static uint32_t require_buffer_size(void)
{
    uint64_t size = pn_param_u64_or("buffer_size", DEFAULT_BUFFER_SIZE);
    /* A multiple of 8 keeps every buffer 8-byte aligned, as echo_protocol.h needs. */
    if (size < MIN_BUFFER_SIZE || size % 8 != 0 || size > UINT32_MAX) {
        pn_fatal("parameter \"buffer_size\" must be a multiple of 8, at least 64");
    }
    return (uint32_t)size;
}

static void *require_writable_region(const char *name, uint64_t min_size, uint64_t *size,
                                     const char *complaint)
{
    void *base = pn_require_region(name, min_size, size);
    if ((pn_config_region(pn_config(), name)->rights & PN_RIGHT_WRITE) == 0) {
        pn_fatal(complaint);
    }
    return base;
}

static void require_identity(void)
{
    const char *mac = pn_param("mac");
    if (mac == 0 || !net_parse_mac(mac, self.mac) || (self.mac[0] & 1u) != 0) {
        pn_fatal("parameter \"mac\" must be a unicast MAC address like 52:54:00:00:00:02");
    }
    const char *ip = pn_param("ip");
    if (ip == 0 || !net_parse_ipv4(ip, self.ip)) {
        pn_fatal("parameter \"ip\" must be an IPv4 address like 10.0.0.2");
    }
    uint64_t port = pn_param_u64_or("udp_port", DEFAULT_UDP_PORT);
    if (port == 0 || port > UINT16_MAX) {
        pn_fatal("parameter \"udp_port\" must be 1..65535");
    }
    self.udp_port = (uint16_t)port;
}

static void create_counters(void)
{
    rx_frames = pn_counter("rx_frames");
    verdict_counter[ECHO_REPLY_ARP] = pn_counter("arp_replies");
    verdict_counter[ECHO_REPLY_ICMP] = pn_counter("icmp_replies");
    verdict_counter[ECHO_REPLY_UDP] = pn_counter("udp_echoes");
    tx_full = pn_counter("tx_full");
    rx_bad_desc = pn_counter("rx_bad_desc");
    tx_bad_desc = pn_counter("tx_bad_desc");
    verdict_counter[ECHO_DROP_NOT_FOR_US] = pn_counter("not_for_us");
    verdict_counter[ECHO_DROP_UNSUPPORTED] = pn_counter("unsupported");
    verdict_counter[ECHO_DROP_SHORT] = pn_counter("short");
    verdict_counter[ECHO_DROP_MALFORMED] = pn_counter("malformed");
    verdict_counter[ECHO_DROP_BAD_CHECKSUM] = pn_counter("bad_checksum");
    ring_errors = pn_counter("ring_errors");
}

/* Buffers of a data region: whole ones, and no more than a ring can hold at once. */
static uint32_t buffers_in(uint64_t region_size, uint32_t capacity)
{
    uint64_t whole = region_size / buffer_size;
    return whole < capacity ? (uint32_t)whole : capacity;
}

/* The copier can fill only what we hand it: all our receive buffers, from the start. */
static void give_all_rx_buffers(uint32_t capacity)
{
    uint32_t count = buffers_in(rx_data_size, capacity);
    for (uint32_t i = 0; i < count; i++) {
        struct pn_net_desc empty = {.offset = (uint64_t)i * buffer_size, .len = 0};
        if (pn_net_give_free(&rx, empty) != PN_RING_OK) {
            pn_fatal("the rx free ring had no room for our buffers at start");
        }
    }
    rx_returned = count > 0;
}

void init(void)
{
    uint32_t capacity = require_capacity();
    buffer_size = require_buffer_size();
    void *rx_queue = require_writable_region("rx_queue", pn_net_pair_bytes(capacity), 0,
                                             "region \"rx_queue\" must be mapped rw");
    void *tx_queue = require_writable_region("tx_queue", pn_net_pair_bytes(capacity), 0,
                                             "region \"tx_queue\" must be mapped rw");
    rx_data = pn_require_region("rx_data", buffer_size, &rx_data_size);
    tx_data = require_writable_region("tx_data", buffer_size, &tx_data_size,
                                      "region \"tx_data\" must be mapped rw");
    if (((uintptr_t)rx_data | (uintptr_t)tx_data) % 8 != 0) {
        pn_fatal("regions \"rx_data\" and \"tx_data\" must be 8-byte aligned");
    }
    /* The capacity is known to be a power of two, so attaching cannot fail. */
    pn_net_drainer_attach(&rx, rx_queue, capacity);
    pn_net_filler_attach(&tx, tx_queue, capacity);
    rx_ch = pn_require_channel("rx");
    tx_ch = pn_require_channel("tx");
    require_identity();
    create_counters();

    tx_buffer_count = buffers_in(tx_data_size, capacity);
    give_all_rx_buffers(capacity);
    /* The copier may have pushed frames before we asked to be signalled. */
    drain();
}

static bool take_tx_buffer(uint64_t *offset)
{
    if (tx_spare_held) {
        tx_spare_held = false;
        *offset = tx_spare_offset;
        return true;
    }
    if (tx_never_used < tx_buffer_count) {
        *offset = (uint64_t)tx_never_used++ * buffer_size;
        return true;
    }
    struct pn_net_desc sent;
    enum pn_ring_status status;
    while ((status = pn_net_take_free(&tx, &sent)) == PN_RING_OK) {
        if (pn_net_desc_valid(sent, tx_data_size, buffer_size)) {
            *offset = sent.offset;
            return true;
        }
        ++*tx_bad_desc; /* names no buffer of ours: dropped, never written to */
    }
    if (status == PN_RING_CORRUPT) {
        ++*ring_errors;
    }
    return false;
}

static void send_reply(struct echo_decision decision, const uint8_t *frame)
{
    uint64_t offset;
    if (!take_tx_buffer(&offset)) {
        ++*tx_full;
        return;
    }
    echo_build_reply(&self, decision, frame, tx_data + offset);
    struct pn_net_desc reply = {.offset = offset, .len = decision.reply_len};
    enum pn_ring_status status = pn_net_give_active(&tx, reply);
    if (status != PN_RING_OK) {
        /* Room for every buffer we own, unless the multiplexer broke the ring. */
        tx_spare_held = true;
        tx_spare_offset = offset;
        ++*(status == PN_RING_FULL ? tx_full : ring_errors);
        return;
    }
    tx_given = true;
    ++*verdict_counter[decision.verdict];
}

static void handle(struct pn_net_desc received)
{
    if (!pn_net_desc_valid(received, rx_data_size, buffer_size)) {
        ++*rx_bad_desc; /* not a buffer of ours: neither read nor given back */
        return;
    }
    ++*rx_frames;
    const uint8_t *frame = rx_data + received.offset;
    struct echo_decision decision = echo_decide(&self, frame, received.len);
    if (echo_verdict_replies(decision.verdict)) {
        send_reply(decision, frame);
    } else {
        ++*verdict_counter[decision.verdict];
    }
    struct pn_net_desc empty = {.offset = received.offset, .len = 0};
    if (pn_net_give_free(&rx, empty) != PN_RING_OK) {
        /* Room for every buffer we own, unless the copier broke the ring. */
        ++*ring_errors;
        return;
    }
    rx_returned = true;
}

/* Notifies each peer that has something new from us and asked to hear of it. */
static void signal_peers(void)
{
    if (tx_given && pn_ring_require_signal(&tx.active)) {
        pn_notify(tx_ch);
    }
    if (rx_returned && pn_ring_require_signal(&rx.free)) {
        pn_notify(rx_ch);
    }
    tx_given = false;
    rx_returned = false;
}

static void drain(void)
{
    uint32_t since_signal = 0;
    for (;;) {
        struct pn_net_desc received;
        enum pn_ring_status status = pn_net_take_active(&rx, &received);
        if (status == PN_RING_OK) {
            handle(received);
            if (++since_signal == SIGNAL_EVERY) {
                signal_peers();
                since_signal = 0;
            }
            continue;
        }
        if (status == PN_RING_CORRUPT) {
            ++*ring_errors; /* the copier broke the ring: sleep, never follow it */
        }
        pn_ring_request_signal(&rx.active);
        if (pn_ring_consumer_empty(&rx.active)) {
            break;
        }
        pn_ring_cancel_signal(&rx.active);
    }
    /*
     * No signal is ever requested on the tx free ring: a frame that finds no
     * transmit buffer is dropped, so nothing here waits for one.
     */
    signal_peers();
}

void notified(pn_channel ch)
{
    /* rx: frames arrived. tx: never asked for, but draining is always safe. */
    (void)ch;
    drain();
}
