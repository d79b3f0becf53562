/*
 * Test component: everything the echo client (net_echo_client) talks to, in
 * one PD. It plays the rx copier (fills the client's receive buffers with
 * frames: ARP, ping, UDP, frames that must be dropped, garbage, and
 * descriptors naming no buffer) and the tx multiplexer (takes the client's
 * replies and checks each against the frame that earned it, rebuilding
 * that frame and checking every field and checksum from scratch; it shares
 * no code with the client).
 *
 * Two phases, so that the outcome is exact whatever the threads' timing:
 *   hold: every reply buffer is kept, none returned. The client has
 *     tx_buffers of them, so the first tx_buffers replies arrive and the
 *     two frames after them must be dropped as tx_full.
 *   echo: the buffers go back, one descriptor naming no buffer among them,
 *     and `rounds` more frames follow, with never more replies outstanding
 *     than the client has buffers, so none is dropped.
 * Counters say what the client must have counted (expect_*, sent_*), how
 * the replies were (replies_ok, replies_wrong), and buffers_missing (receive
 * buffers not given back at the end); "done" is 1 once all went through.
 *
 * Wiring: "client_rx_queue" (we fill), "client_rx_data" (rw),
 * "client_tx_queue" (we drain), "client_tx_data", channels "client_rx",
 * "client_tx"; parameters "capacity", "buffer_size", "client_mac",
 * "client_ip", "udp_port", "rounds", and optionally "udp_only_payload" (every
 * frame a UDP datagram of that many bytes, for measuring the client).
 * Freestanding: it runs on the kernel too.
 */
#include "../../components/net/net_parse.h"

#include "fake_net.h"
#include <pinion/component.h>
#include <pinion/net_queue.h>
#include <pinion/wiring.h>

#define MAX_BUFFERS 256
#define TTL_IN      57

/* Kinds of frame; the first ten also number the counters of frames sent. */
enum kind {
    K_UDP,
    K_PING,
    K_ARP,
    K_NOT_FOR_US,
    K_UNSUPPORTED,
    K_SHORT,
    K_BAD_CHECKSUM,
    K_MALFORMED,
    K_GARBAGE,
    K_BAD_DESC,
    K_UDP_NO_CHECKSUM
};
/* Further counters, after those of the kinds. */
enum {
    C_TX_FULL = K_UDP_NO_CHECKSUM,
    C_BAD_TX_DESC,
    C_REPLIES_OK,
    C_REPLIES_WRONG,
    C_BUFFERS_MISSING,
    C_DONE,
    COUNTERS
};

static const enum kind cycle[] = {K_UDP,     K_PING,         K_NOT_FOR_US, K_UDP_NO_CHECKSUM,
                                  K_ARP,     K_UNSUPPORTED,  K_UDP,        K_SHORT,
                                  K_GARBAGE, K_BAD_CHECKSUM, K_UDP,        K_MALFORMED};
#define CYCLE_LEN (sizeof cycle / sizeof cycle[0])

static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_ip[4] = {10, 0, 0, 1};

static struct pn_net_filler rx;
static struct pn_net_drainer tx;
static pn_channel rx_ch, tx_ch;
static uint8_t *rx_data;
static const uint8_t *tx_data;
static uint64_t rx_data_size, tx_data_size;
static uint32_t ring_capacity, buffer_size, rx_buffers, tx_buffers;
static uint8_t client_mac[6], client_ip[4];
static uint32_t client_port, rounds;
/* For measuring: every frame a UDP datagram with this many payload bytes (0: the mix). */
static uint32_t udp_only_payload;

static uint64_t free_rx[MAX_BUFFERS]; /* client receive buffers we hold */
static uint32_t free_rx_count;
/*
 * Frames with the client: frames sent, less the buffers that came back
 * beyond the rx_buffers it handed over empty at start.
 */
static uint32_t frames_sent, rx_buffers_taken;
static uint32_t awaited[MAX_BUFFERS]; /* frame numbers whose replies are due, oldest first */
static uint32_t awaited_head, awaited_count;
static uint64_t held_tx[MAX_BUFFERS];
static uint32_t held_tx_count;
static uint32_t next_frame, replies_earned, hold_end;
static bool echo_phase, finished, gave_rx, gave_tx;
static bool awaiting_buffers, awaiting_replies; /* asleep on rx free, on tx active */
static _Alignas(8) uint8_t scratch[2048];

static const char *const counter_names[COUNTERS] = {
    "expect_udp",         "expect_icmp",   "expect_arp",          "expect_not_for_us",
    "expect_unsupported", "expect_short",  "expect_bad_checksum", "expect_malformed",
    "sent_garbage",       "sent_bad_desc", "expect_tx_full",      "sent_bad_tx_desc",
    "replies_ok",         "replies_wrong", "buffers_missing",     "done"};
static uint64_t *count[COUNTERS];

/* ---- Frames ---- */

static uint32_t sum_bytes(const uint8_t *p, uint32_t len, uint32_t sum)
{
    for (uint32_t i = 0; i + 1 < len; i += 2) {
        sum += get16(p + i);
    }
    if (len % 2) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint32_t checksum(const uint8_t *p, uint32_t len, uint32_t sum)
{
    sum = sum_bytes(p, len, sum);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

static uint32_t udp_pseudo_sum(const uint8_t *ip)
{
    return sum_bytes(ip + 12, 8, 0) + 17 + get16(ip + 24);
}

static void ipv4(uint8_t *f, uint32_t protocol, uint32_t payload_len, uint32_t n)
{
    uint8_t *ip = f + 14;
    __builtin_memcpy(f, client_mac, 6);
    __builtin_memcpy(f + 6, peer_mac, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, 20 + payload_len);
    put16(ip + 4, n & 0xffff);
    put16(ip + 6, 0x4000);
    ip[8] = TTL_IN;
    ip[9] = (uint8_t)protocol;
    put16(ip + 10, 0);
    __builtin_memcpy(ip + 12, peer_ip, 4);
    __builtin_memcpy(ip + 16, client_ip, 4);
    put16(ip + 10, checksum(ip, 20, 0));
}

static uint32_t udp(uint8_t *f, uint32_t n, uint32_t payload_len, bool with_checksum)
{
    uint8_t *u = f + 34;
    ipv4(f, 17, 8 + payload_len, n);
    put16(u, 10000 + n % 50000);
    put16(u + 2, client_port);
    put16(u + 4, 8 + payload_len);
    put16(u + 6, 0);
    for (uint32_t i = 0; i < payload_len; i++) {
        u[8 + i] = (uint8_t)(n + i * 31);
    }
    if (with_checksum) {
        uint32_t c = checksum(u, 8 + payload_len, udp_pseudo_sum(f + 14));
        put16(u + 6, c ? c : 0xffff);
    }
    return 42 + payload_len;
}

static uint32_t ping(uint8_t *f, uint32_t n, uint32_t payload_len)
{
    uint8_t *icmp = f + 34;
    ipv4(f, 1, 8 + payload_len, n);
    put16(icmp, 0x0800);
    put16(icmp + 2, 0);
    put16(icmp + 4, 0x4242);
    put16(icmp + 6, n & 0xffff);
    for (uint32_t i = 0; i < payload_len; i++) {
        icmp[8 + i] = (uint8_t)(n ^ i);
    }
    put16(icmp + 2, checksum(icmp, 8 + payload_len, 0));
    return 42 + payload_len;
}

static uint32_t arp(uint8_t *f, const uint8_t *target_ip)
{
    uint8_t *a = f + 14;
    __builtin_memset(f, 0xff, 6);
    __builtin_memcpy(f + 6, peer_mac, 6);
    put16(f + 12, 0x0806);
    put16(a, 1);
    put16(a + 2, 0x0800);
    put16(a + 4, 0x0604);
    put16(a + 6, 1);
    __builtin_memcpy(a + 8, peer_mac, 6);
    __builtin_memcpy(a + 14, peer_ip, 4);
    __builtin_memset(a + 18, 0, 6);
    __builtin_memcpy(a + 24, target_ip, 4);
    __builtin_memset(f + 42, 0, 18);
    return 60; /* padded to the Ethernet minimum, as received from a wire */
}

/* Flips `bits` of byte `at` of a frame of `len` bytes, keeping its IPv4 checksum right. */
static uint32_t damaged(uint8_t *f, uint32_t len, uint32_t at, uint32_t bits)
{
    f[at] ^= (uint8_t)bits;
    put16(f + 24, 0);
    put16(f + 24, checksum(f + 14, 20, 0));
    return len;
}

static enum kind kind_of(uint32_t n)
{
    if (udp_only_payload) {
        return K_UDP;
    }
    return n % 50 == 7 ? K_BAD_DESC : cycle[n % CYCLE_LEN];
}

static bool earns_reply(enum kind k)
{
    return k <= K_ARP || k == K_UDP_NO_CHECKSUM;
}

/* Frame number n, written at f; its length. Frames are a pure function of n. */
static uint32_t make_frame(uint8_t *f, uint32_t n)
{
    uint32_t variant = n / CYCLE_LEN, r = mix(n + 1);
    switch (kind_of(n)) {
    case K_UDP:
        if (udp_only_payload) {
            return udp(f, n, udp_only_payload, true);
        }
        return udp(f, n, (n * 37) % (buffer_size - 42 + 1), true);
    case K_UDP_NO_CHECKSUM:
        return udp(f, n, n % 64, false);
    case K_PING:
        return ping(f, n, (n * 13) % 200);
    case K_ARP:
        return arp(f, client_ip);
    case K_NOT_FOR_US: /* another host's MAC, IP or UDP port; ARP for another IP */
        if (variant % 4 == 3) {
            return arp(f, peer_ip);
        }
        return damaged(f, udp(f, n, 20, true), (const uint8_t[]){5, 33, 37}[variant % 4], 0x10);
    case K_UNSUPPORTED: /* EtherType 0x0900, TCP, an ICMP echo reply */
        if (variant % 3 == 2) {
            return damaged(f, ping(f, n, 8), 34, 0x08);
        }
        return damaged(f, udp(f, n, 20, true), variant % 3 ? 23 : 12, variant % 3 ? 17 ^ 6 : 0x01);
    case K_SHORT: {
        uint32_t len = udp(f, n, 100, true);
        return variant % 2 ? 10 : len - 1; /* no Ethernet header; cut inside the datagram */
    }
    case K_BAD_CHECKSUM: {
        uint32_t len = ping(f, n, 30);
        f[24] ^= 0x01;
        return len;
    }
    case K_MALFORMED: /* from loopback or multicast: nowhere to reply to */
        return damaged(f, udp(f, n, 20, true), 26, variant % 2 ? 10 ^ 127 : 10 ^ 224);
    case K_GARBAGE: {
        uint32_t len = 14 + r % 120;
        for (uint32_t i = 0; i < len; i++) {
            r = mix(r + i);
            f[i] = (uint8_t)r;
        }
        __builtin_memcpy(f, client_mac, 6); /* so it gets past the first check */
        f[6] &= 0xfe;
        return len;
    }
    default:
        return 0;
    }
}

/* ---- Checking replies ---- */

static void wrong(const char *why)
{
    pn_dbg_puts("reply wrong: ");
    pn_dbg_puts(why);
    pn_dbg_puts("\n");
    ++*count[C_REPLIES_WRONG];
}

static const char *check_arp_reply(const uint8_t *q, const uint8_t *r, uint32_t len)
{
    static const uint8_t head[8] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02};
    if (len != 42) {
        return "ARP reply is not 42 bytes";
    }
    if (__builtin_memcmp(r, peer_mac, 6) || __builtin_memcmp(r + 6, client_mac, 6) ||
        get16(r + 12) != 0x0806 || __builtin_memcmp(r + 14, head, 8)) {
        return "ARP reply header";
    }
    if (__builtin_memcmp(r + 22, client_mac, 6) || __builtin_memcmp(r + 28, client_ip, 4) ||
        __builtin_memcmp(r + 32, q + 22, 10)) {
        return "ARP reply addresses";
    }
    return 0;
}

static const char *check_ip_reply(const uint8_t *q, const uint8_t *r, uint32_t len, bool icmp)
{
    if (len != 14 + get16(q + 16)) {
        return "length";
    }
    if (__builtin_memcmp(r, peer_mac, 6) || __builtin_memcmp(r + 6, client_mac, 6) ||
        get16(r + 12) != 0x0800) {
        return "Ethernet header";
    }
    if (r[14] != 0x45 || __builtin_memcmp(r + 15, q + 15, 7) || r[22] == 0 || r[23] != q[23] ||
        checksum(r + 14, 20, 0) != 0) {
        return "IPv4 header";
    }
    if (__builtin_memcmp(r + 26, client_ip, 4) || __builtin_memcmp(r + 30, peer_ip, 4)) {
        return "IPv4 addresses";
    }
    if (icmp) {
        bool ok = get16(r + 34) == 0 && checksum(r + 34, len - 34, 0) == 0 &&
                  __builtin_memcmp(r + 38, q + 38, len - 38) == 0;
        return ok ? 0 : "ICMP type, checksum, identifier, sequence or data";
    }
    if (get16(r + 34) != client_port || get16(r + 36) != get16(q + 34) ||
        get16(r + 38) != get16(q + 38) || __builtin_memcmp(r + 42, q + 42, len - 42)) {
        return "UDP ports, length or payload";
    }
    bool checked = get16(q + 40) != 0;
    if (checked ? checksum(r + 34, len - 34, udp_pseudo_sum(r + 14)) != 0 : get16(r + 40) != 0) {
        return "UDP checksum";
    }
    return 0;
}

static void check_reply(struct pn_net_desc d)
{
    if (awaited_count == 0) {
        wrong("a reply no frame earned");
        return;
    }
    uint32_t n = awaited[awaited_head];
    awaited_head = (awaited_head + 1) % MAX_BUFFERS;
    awaited_count--;
    if (!pn_net_desc_valid(d, tx_data_size, buffer_size) || d.len < 42) {
        wrong("descriptor names no transmit buffer");
        return;
    }
    const uint8_t *r = tx_data + d.offset;
    make_frame(scratch, n);
    enum kind k = kind_of(n);
    const char *why = k == K_ARP ? check_arp_reply(scratch, r, d.len)
                                 : check_ip_reply(scratch, r, d.len, k == K_PING);
    if (why) {
        wrong(why);
    } else {
        ++*count[C_REPLIES_OK];
    }
}

/* ---- Moving buffers ---- */

/*
 * Whether frame n may go now: in the echo phase a frame earning a reply
 * waits while as many replies are due as the client has buffers.
 */
static bool may_send(uint32_t n)
{
    if (!echo_phase) {
        return replies_earned < tx_buffers + 2;
    }
    if (n >= hold_end + rounds) {
        return false;
    }
    return !earns_reply(kind_of(n)) || awaited_count < tx_buffers;
}

static bool send_frames(void)
{
    bool sent = false;
    while (may_send(next_frame) && !pn_ring_producer_full(&rx.active)) {
        uint32_t n = next_frame;
        enum kind k = kind_of(n);
        struct pn_net_desc d;
        if (k == K_BAD_DESC) {
            /* naming no buffer of the client's: misaligned, past the end, far past it */
            uint64_t offsets[3] = {8, rx_data_size, ~(uint64_t)0 - buffer_size + 1};
            d = (struct pn_net_desc){.offset = offsets[(n / 50) % 3], .len = 60};
        } else {
            if (free_rx_count == 0) {
                break;
            }
            d.offset = free_rx[--free_rx_count];
            d.len = make_frame(rx_data + d.offset, n);
            frames_sent++;
        }
        d.reserved = 0;
        pn_net_give_active(&rx, d);
        next_frame++;
        sent = gave_rx = true;
        bool reply_due = earns_reply(k) && (echo_phase || replies_earned < tx_buffers);
        if (earns_reply(k)) {
            replies_earned++;
        }
        if (reply_due) {
            awaited[(awaited_head + awaited_count) % MAX_BUFFERS] = n;
            awaited_count++;
        }
        enum kind counted = k == K_UDP_NO_CHECKSUM ? K_UDP : k;
        ++*count[reply_due || !earns_reply(k) ? counted : C_TX_FULL];
    }
    return sent;
}

static bool take_back_rx_buffers(void)
{
    bool took = false;
    struct pn_net_desc d;
    while (pn_net_take_free(&rx, &d) == PN_RING_OK) {
        if (!pn_net_desc_valid(d, rx_data_size, buffer_size) || free_rx_count == MAX_BUFFERS) {
            pn_fatal("the client returned a descriptor naming no receive buffer");
        }
        free_rx[free_rx_count++] = d.offset;
        rx_buffers_taken++;
        took = true;
    }
    return took;
}

/* The current phase is through: all sent, every frame back, every reply due in. */
static bool phase_through(void)
{
    return !may_send(next_frame) && frames_sent + rx_buffers == rx_buffers_taken &&
           awaited_count == 0;
}

static bool take_replies(void)
{
    bool took = false;
    struct pn_net_desc d;
    while (pn_net_take_active(&tx, &d) == PN_RING_OK) {
        check_reply(d);
        if (echo_phase) {
            pn_net_give_free(&tx, (struct pn_net_desc){.offset = d.offset});
            gave_tx = true;
        } else if (held_tx_count < MAX_BUFFERS) {
            held_tx[held_tx_count++] = d.offset;
        } else {
            wrong("more replies than transmit buffers");
        }
        took = true;
    }
    return took;
}

static bool maybe_start_echo_phase(void)
{
    if (echo_phase || !phase_through()) {
        return false;
    }
    echo_phase = true;
    hold_end = next_frame;
    if (held_tx_count != tx_buffers) {
        pn_fatal("the hold phase ended without a reply in every transmit buffer");
    }
    /* Before the real buffers, so the client meets it on its first look. */
    if (tx_buffers < ring_capacity) {
        pn_net_give_free(&tx, (struct pn_net_desc){.offset = 4, .len = 0});
        ++*count[C_BAD_TX_DESC];
    }
    for (uint32_t i = 0; i < held_tx_count; i++) {
        pn_net_give_free(&tx, (struct pn_net_desc){.offset = held_tx[i]});
    }
    held_tx_count = 0;
    gave_tx = true;
    return true;
}

static void maybe_finish(void)
{
    if (finished || !echo_phase || !phase_through()) {
        return;
    }
    finished = true;
    *count[C_BUFFERS_MISSING] = rx_buffers - free_rx_count;
    *count[C_DONE] = 1;
    pn_dbg_puts("done\n");
}

static void step(void)
{
    for (;;) {
        bool progress = !awaiting_buffers && take_back_rx_buffers();
        progress |= !awaiting_replies && take_replies();
        progress |= maybe_start_echo_phase();
        progress |= send_frames();
        maybe_finish();
        if (progress) {
            continue;
        }
        if (finished) {
            break;
        }
        bool buffers_asleep = sleep_on(&rx.free, &awaiting_buffers);
        if (sleep_on(&tx.active, &awaiting_replies) && buffers_asleep) {
            break;
        }
    }
    if (gave_rx && pn_ring_require_signal(&rx.active)) {
        pn_notify(rx_ch);
    }
    if (gave_tx && pn_ring_require_signal(&tx.free)) {
        pn_notify(tx_ch);
    }
    gave_rx = gave_tx = false;
}

/* ---- Start ---- */

static uint32_t buffers_in(uint64_t size, uint32_t capacity)
{
    uint64_t whole = size / buffer_size;
    return whole < capacity ? (uint32_t)whole : capacity;
}

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    buffer_size = (uint32_t)pn_param_u64_or("buffer_size", 2048);
    if (capacity == 0 || capacity > MAX_BUFFERS || (capacity & (capacity - 1))) {
        pn_fatal("parameter \"capacity\" must be a power of two up to 256");
    }
    if (buffer_size < 64 || buffer_size > sizeof scratch || buffer_size % 8) {
        pn_fatal("parameter \"buffer_size\" must be a multiple of 8 in 64..2048");
    }
    void *rxq = pn_require_region("client_rx_queue", pn_net_pair_bytes((uint32_t)capacity), 0);
    void *txq = pn_require_region("client_tx_queue", pn_net_pair_bytes((uint32_t)capacity), 0);
    pn_net_filler_attach(&rx, rxq, (uint32_t)capacity);
    pn_net_drainer_attach(&tx, txq, (uint32_t)capacity);
    rx_data = pn_require_region("client_rx_data", buffer_size, &rx_data_size);
    tx_data = pn_require_region("client_tx_data", buffer_size, &tx_data_size);
    ring_capacity = (uint32_t)capacity;
    rx_buffers = buffers_in(rx_data_size, (uint32_t)capacity);
    tx_buffers = buffers_in(tx_data_size, (uint32_t)capacity);
    rx_ch = pn_require_channel("client_rx");
    tx_ch = pn_require_channel("client_tx");
    const char *mac = pn_param("client_mac"), *ip = pn_param("client_ip");
    if (!mac || !net_parse_mac(mac, client_mac) || !ip || !net_parse_ipv4(ip, client_ip)) {
        pn_fatal("parameters \"client_mac\" and \"client_ip\" are needed");
    }
    client_port = (uint32_t)pn_param_u64_or("udp_port", 1235);
    rounds = (uint32_t)pn_require_param_u64("rounds");
    udp_only_payload = (uint32_t)pn_param_u64_or("udp_only_payload", 0);
    if (udp_only_payload > buffer_size - 42) {
        pn_fatal("parameter \"udp_only_payload\" does not fit a buffer");
    }

    for (int c = 0; c < COUNTERS; c++) {
        count[c] = pn_counter(counter_names[c]);
    }
    step();
}

void notified(pn_channel ch)
{
    if (ch == rx_ch) {
        awaiting_buffers = false;
    } else if (ch == tx_ch) {
        awaiting_replies = false;
    }
    step();
}
