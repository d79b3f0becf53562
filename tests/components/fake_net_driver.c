/*
 * Test component: the ethernet driver's place in the network echo system
 * (systems/net-echo.json), so that the real net_virt_rx, copiers and
 * net_virt_tx are tested in the hosted backend against peers that check
 * everything and misbehave on purpose (tests/unit/test_net_mux_hosted.c,
 * tests/data/hosted/net-mux.json; the clients are fake_net_client.c).
 *
 * Receive: it fills net_virt_rx's queue in batches from a fixed script:
 * unicast frames for each client, broadcasts and multicasts, frames for
 * MAC addresses nobody has, runts, and one descriptor per batch that is
 * corrupt: past the region, far past it (offset arithmetic wraps), inside
 * a buffer, longer than a buffer, or a buffer handed out twice. All but
 * the double hand-out are made up: they give nothing away, so a buffer
 * they name stays ours and net_virt_rx must never hand it back. A frame
 * carries its stream ('U' unicast, 'B' group, 'N' nobody's) and number in
 * its source MAC, its payload length in the EtherType field and a pattern
 * in its payload, so a client checks even a bare 14-byte frame.
 *
 * Batches make every counter exact whatever the threads' timing: a batch
 * goes out only when every receive buffer is back and every client has
 * acknowledged the previous one (the first batch: has said at init that
 * its buffers are with its copier). We write how many frames we have
 * offered each client so far into word 0 of its control region ("ctlN")
 * and notify it; it notifies back once it has received all it can expect
 * and returned their buffers. So every client starts each batch with all
 * its buffers free, and a batch offers a client at most
 * UNICAST_PER_BATCH + GROUP_PER_BATCH + 1 frames (8: the clients of
 * net-mux.json have 8 buffers).
 *
 * Transmit: it drains net_virt_tx's queue, checks each frame (on a buffer
 * boundary in the transmit region of the client whose MAC it carries, its
 * length, content and place in that client's order) and returns its
 * buffer; among those it returns four addresses that are no client's
 * buffer, which net_virt_tx must drop.
 *
 * We sleep on each ring we consume strictly (sleep_on), so a multiplexer
 * that forgets a notification stalls the run instead of being covered by
 * other wake-ups.
 *
 * Wiring: "rx_queue" (we fill), "rx_dma" (rw: we write the frames),
 * "tx_queue" (we drain), "tx_dmaN" (client N's transmit region, r),
 * "ctlN" (rw), channels "rx", "tx", "ctlN"; parameters "capacity",
 * "buffer_size", "macN" (client N's MAC), "batches".
 * Freestanding, like every component.
 */
#include "../../components/net/net_parse.h"

#include "fake_net.h"
#include <pinion/component.h>
#include <pinion/net_queue.h>
#include <pinion/wiring.h>
#include <stdatomic.h>

#define MAX_CLIENTS    2
#define MAX_RX_BUFFERS 512
#define ETH_HEADER     14
#define TX_HEADER      18 /* Ethernet header and the client's 32-bit sequence number */

#define UNICAST_PER_BATCH 5 /* at most, per client */
#define GROUP_PER_BATCH   2
#define NOBODY_PER_BATCH  2
#define MAX_BATCH         (MAX_CLIENTS * UNICAST_PER_BATCH + GROUP_PER_BATCH + NOBODY_PER_BATCH + 2)
/* Descriptor length of made-up corrupt descriptors: a plausible frame. */
#define CORRUPT_LEN 60
/* One returned address in this many sent frames is no client's buffer, up to four. */
#define BOGUS_RETURN_EVERY 10

enum item {
    FOR_CLIENT0, /* FOR_CLIENT0 + k: a unicast frame for client k */
    FOR_CLIENT1,
    FOR_GROUP,
    FOR_NOBODY,
    RUNT,
    /* Corrupt, one per batch, in turn. */
    PAST_REGION,
    FAR_PAST_REGION,
    INSIDE_BUFFER,
    LONGER_THAN_BUFFER,
    HANDED_OUT_TWICE,
};
#define FIRST_CORRUPT PAST_REGION
#define CORRUPT_KINDS 5
#define TARGET_GROUP  MAX_CLIENTS /* a frame's target: client 0.., or every client */

/* What we did and saw, named as the test reads them; per client: "..._client0" and so on. */
static uint64_t *sent_unicast[MAX_CLIENTS], *sent_group, *sent_nobody, *sent_runt, *sent_bad_desc;
static uint64_t *bytes_offered[MAX_CLIENTS], *rx_bad_returns, *rx_buffers_out;
static uint64_t *tx_frames_from[MAX_CLIENTS], *tx_wrong, *tx_bogus_returns, *batches_done, *done;

/* The fake peer's own MAC: where the clients send their frames. */
static const uint8_t driver_mac[NET_MAC_BYTES] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};

struct client {
    uint8_t mac[NET_MAC_BYTES];
    pn_channel ctl_ch;
    _Atomic uint32_t *offered_word; /* word 0 of its control region */
    uint32_t offered;               /* frames offered it so far, group frames included */
    uint32_t next_unicast_seq;
    bool acked;
    uint64_t tx_paddr, tx_size; /* its transmit region, as net_virt_tx hands us addresses */
    const uint8_t *tx_data;
    uint32_t next_tx_seq;
};

static struct pn_net_filler rx;
static struct pn_net_drainer tx;
static pn_channel rx_ch, tx_ch;
static uint8_t *rx_dma;
static uint64_t rx_dma_size, rx_dma_paddr;
static uint32_t buffer_size, n_buffers, n_clients, batches;
static struct client clients[MAX_CLIENTS];

static bool buffer_out[MAX_RX_BUFFERS]; /* handed to net_virt_rx, not back yet */
static uint32_t held[MAX_RX_BUFFERS];   /* the buffers we hold, as a stack */
static uint32_t held_count;
static uint32_t next_batch, next_group_seq, tx_frames_seen;
static bool batch_out, finished, gave_rx, gave_tx;
static bool awaiting_free, awaiting_sent; /* asleep on rx free, on tx active */

static void say(const char *what, const char *why)
{
    pn_dbg_puts(what);
    pn_dbg_puts(why);
    pn_dbg_puts("\n");
}

/* ---- Receive: the script ---- */

/* Lengths from a bare header to a full buffer, both edges often. */
static uint32_t frame_len(uint8_t stream, uint32_t seq)
{
    switch (seq % 8) {
    case 0:
        return ETH_HEADER;
    case 1:
        return buffer_size;
    default:
        return ETH_HEADER + mix(seq * 4 + stream) % (buffer_size - ETH_HEADER + 1);
    }
}

static uint32_t write_frame(uint64_t offset, const uint8_t *dest, uint8_t stream, uint32_t seq)
{
    uint8_t *f = rx_dma + offset;
    uint32_t len = frame_len(stream, seq);
    __builtin_memcpy(f, dest, NET_MAC_BYTES);
    f[6] = 0x02; /* a locally administered unicast source */
    f[7] = stream;
    put16(f + 8, seq >> 16);
    put16(f + 10, seq);
    put16(f + 12, len - ETH_HEADER);
    for (uint32_t i = ETH_HEADER; i < len; i++) {
        f[i] = pattern(stream, seq, i);
    }
    return len;
}

/* Broadcast, an IPv4 multicast, an IPv6 multicast: net_virt_rx sends each to everyone. */
static const uint8_t *group_mac(uint32_t seq)
{
    static const uint8_t groups[3][NET_MAC_BYTES] = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                                     {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb},
                                                     {0x33, 0x33, 0x00, 0x00, 0x00, 0x01}};
    return groups[seq % 3];
}

/* Unicast MACs nobody has: a client's with one bit of its first or last byte flipped, or others. */
static void nobody_mac(uint32_t seq, uint8_t *mac)
{
    static const uint8_t strangers[2][NET_MAC_BYTES] = {{0}, {0x52, 0x54, 0x00, 0x00, 0x00, 0x04}};
    if (seq % 4 < 2) {
        __builtin_memcpy(mac, clients[seq % n_clients].mac, NET_MAC_BYTES);
        mac[seq % 4 ? NET_MAC_BYTES - 1 : 0] ^= seq % 4 ? 0x80 : 0x04;
    } else {
        __builtin_memcpy(mac, strangers[seq % 4 - 2], NET_MAC_BYTES);
    }
}

static uint64_t take_buffer(void)
{
    if (held_count == 0) {
        pn_fatal("a batch needs more receive buffers than we hold");
    }
    uint32_t buffer = held[--held_count];
    buffer_out[buffer] = true;
    ++*rx_buffers_out;
    return (uint64_t)buffer * buffer_size;
}

static void give(struct pn_net_desc d)
{
    if (pn_net_give_active(&rx, d) != PN_RING_OK) {
        pn_fatal("net_virt_rx's queue is full or corrupt");
    }
    gave_rx = true;
}

/* A frame net_virt_rx must deliver, to client `target` or to every client. */
static struct pn_net_desc deliverable_frame(uint32_t target)
{
    uint64_t offset = take_buffer();
    uint32_t len;
    if (target == TARGET_GROUP) {
        uint32_t seq = next_group_seq++;
        len = write_frame(offset, group_mac(seq), 'B', seq);
        ++*sent_group;
        for (uint32_t k = 0; k < n_clients; k++) {
            clients[k].offered++;
            *bytes_offered[k] += len;
        }
    } else {
        struct client *c = &clients[target];
        len = write_frame(offset, c->mac, 'U', c->next_unicast_seq++);
        ++*sent_unicast[target];
        c->offered++;
        *bytes_offered[target] += len;
    }
    return (struct pn_net_desc){.offset = offset, .len = len};
}

static void send_item(enum item item, uint32_t batch)
{
    uint32_t turn = batch / CORRUPT_KINDS; /* varies each corrupt kind's details */
    /* A buffer we hold and keep: made-up corrupt descriptors name it. */
    uint64_t held_buffer = (uint64_t)held[held_count - 1] * buffer_size;
    struct pn_net_desc d = {0};
    switch (item) {
    case FOR_CLIENT0:
    case FOR_CLIENT1:
        give(deliverable_frame(item - FOR_CLIENT0));
        return;
    case FOR_GROUP:
        give(deliverable_frame(TARGET_GROUP));
        return;
    case FOR_NOBODY: {
        uint8_t mac[NET_MAC_BYTES];
        uint32_t seq = (uint32_t)*sent_nobody;
        nobody_mac(seq, mac);
        d.offset = take_buffer();
        d.len = write_frame(d.offset, mac, 'N', seq);
        ++*sent_nobody;
        give(d);
        return;
    }
    case RUNT: { /* a real buffer: it must come back */
        static const uint32_t runt_lens[3] = {0, 1, ETH_HEADER - 1};
        d.offset = take_buffer();
        write_frame(d.offset, clients[0].mac, 'N', 0);
        d.len = runt_lens[*sent_runt % 3];
        ++*sent_runt;
        give(d);
        return;
    }
    case PAST_REGION:
        d = (struct pn_net_desc){.offset =
                                     turn % 2 ? rx_dma_size : (uint64_t)n_buffers * buffer_size,
                                 .len = CORRUPT_LEN};
        break;
    case FAR_PAST_REGION: /* offset + buffer_size wraps to a small number */
        d = (struct pn_net_desc){.offset = turn % 2 ? ~(uint64_t)0 - buffer_size + 1 : ~(uint64_t)0,
                                 .len = CORRUPT_LEN};
        break;
    case INSIDE_BUFFER:
        d = (struct pn_net_desc){.offset = held_buffer + (turn % 2 ? 8 : buffer_size / 2),
                                 .len = CORRUPT_LEN};
        break;
    case LONGER_THAN_BUFFER:
        d = (struct pn_net_desc){.offset = held_buffer,
                                 .len = turn % 2 ? ~(uint32_t)0 : buffer_size + 1};
        break;
    case HANDED_OUT_TWICE: {
        /*
         * Both in one publication: net_virt_rx takes them in one pass, in
         * which it collects no returns, so the first is still out with a
         * copier when it meets the second, whatever the timing.
         */
        struct pn_net_desc twice[2];
        uint32_t target = turn % (n_clients + 1);
        twice[0] = deliverable_frame(target == n_clients ? TARGET_GROUP : target);
        twice[1] = (struct pn_net_desc){.offset = twice[0].offset, .len = CORRUPT_LEN};
        enum pn_ring_status status;
        if (pn_ring_push_many(&rx.active, twice, 2, &status) != 2) {
            pn_fatal("net_virt_rx's queue is full or corrupt");
        }
        gave_rx = true;
        ++*sent_bad_desc;
        return;
    }
    }
    ++*sent_bad_desc;
    give(d);
}

/* Batch b's items, in an order of its own; their number. */
static uint32_t plan_batch(uint32_t b, enum item *items)
{
    uint32_t r = mix(b + 1), n = 0;
    for (uint32_t k = 0; k < n_clients; k++) {
        uint32_t unicasts = 1 + (r >> (4 * k)) % UNICAST_PER_BATCH;
        for (uint32_t i = 0; i < unicasts; i++) {
            items[n++] = (enum item)(FOR_CLIENT0 + k);
        }
    }
    for (uint32_t i = 0; i < (r >> 8) % (GROUP_PER_BATCH + 1); i++) {
        items[n++] = FOR_GROUP;
    }
    for (uint32_t i = 0; i < (r >> 12) % (NOBODY_PER_BATCH + 1); i++) {
        items[n++] = FOR_NOBODY;
    }
    if ((r >> 16) % 3 == 0) {
        items[n++] = RUNT;
    }
    items[n++] = (enum item)(FIRST_CORRUPT + b % CORRUPT_KINDS);
    for (uint32_t i = n - 1; i > 0; i--) {
        r = mix(r);
        uint32_t j = r % (i + 1);
        enum item swap = items[i];
        items[i] = items[j];
        items[j] = swap;
    }
    return n;
}

static void send_batch(uint32_t b)
{
    enum item items[MAX_BATCH];
    uint32_t n = plan_batch(b, items);
    for (uint32_t i = 0; i < n; i++) {
        send_item(items[i], b);
    }
    for (uint32_t k = 0; k < n_clients; k++) {
        struct client *c = &clients[k];
        atomic_store_explicit(c->offered_word, c->offered, memory_order_release);
        c->acked = false;
        pn_notify(c->ctl_ch);
    }
}

/* The next batch, once the last is through: every buffer back, every client's word in. */
static bool advance_batches(void)
{
    if (finished || held_count != n_buffers) {
        return false;
    }
    for (uint32_t k = 0; k < n_clients; k++) {
        if (!clients[k].acked) {
            return false;
        }
    }
    if (batch_out) {
        ++*batches_done;
        batch_out = false;
    }
    if (next_batch == batches) {
        finished = true;
        *done = 1;
        pn_dbg_puts("done\n");
        return false;
    }
    send_batch(next_batch++);
    batch_out = true;
    return true;
}

static bool take_free_buffers(void)
{
    bool took = false;
    struct pn_net_desc d;
    enum pn_ring_status status;
    while ((status = pn_net_take_free(&rx, &d)) == PN_RING_OK) {
        took = true;
        uint32_t buffer = (uint32_t)(d.offset / buffer_size);
        if (!pn_net_desc_valid(d, (uint64_t)n_buffers * buffer_size, buffer_size) ||
            !buffer_out[buffer]) {
            say("rx: ", "net_virt_rx returned a buffer we hold, or none at all");
            ++*rx_bad_returns;
            continue;
        }
        buffer_out[buffer] = false;
        held[held_count++] = buffer;
        --*rx_buffers_out;
    }
    if (status == PN_RING_CORRUPT) {
        pn_fatal("net_virt_rx corrupted the free ring");
    }
    return took;
}

/* ---- Transmit ---- */

/* What is wrong with a sent frame, or NULL; *owner is the client whose buffer it is. */
static const char *check_sent(struct pn_net_desc d, struct client **owner)
{
    *owner = 0;
    for (uint32_t k = 0; k < n_clients; k++) {
        if (d.offset >= clients[k].tx_paddr &&
            d.offset - clients[k].tx_paddr < clients[k].tx_size) {
            *owner = &clients[k];
        }
    }
    struct client *c = *owner;
    if (c == 0) {
        return "address in no client's transmit region";
    }
    uint64_t at = d.offset - c->tx_paddr;
    if (at % buffer_size != 0 || c->tx_size - at < buffer_size) {
        *owner = 0;
        return "address not on a transmit buffer's boundary";
    }
    if (d.len < TX_HEADER || d.len > buffer_size) {
        return "length";
    }
    const uint8_t *f = c->tx_data + at;
    if (__builtin_memcmp(f, driver_mac, NET_MAC_BYTES) != 0) {
        return "destination MAC";
    }
    if (__builtin_memcmp(f + 6, c->mac, NET_MAC_BYTES) != 0) {
        return "source MAC is not that of the client whose region holds the frame";
    }
    if (get16(f + 12) != d.len - ETH_HEADER) {
        return "length differs from what the client wrote";
    }
    uint32_t seq = get16(f + ETH_HEADER) << 16 | get16(f + ETH_HEADER + 2);
    bool in_order = seq == c->next_tx_seq;
    c->next_tx_seq = seq + 1;
    if (!in_order) {
        return "out of the client's order (lost, repeated or reordered)";
    }
    for (uint32_t i = TX_HEADER; i < d.len; i++) {
        if (f[i] != pattern('T', seq, i)) {
            return "payload";
        }
    }
    ++*tx_frames_from[c - clients];
    return 0;
}

static void give_sent_back(uint64_t address)
{
    if (pn_net_give_free(&tx, (struct pn_net_desc){.offset = address}) != PN_RING_OK) {
        pn_fatal("net_virt_tx's free ring is full or corrupt");
    }
    gave_tx = true;
}

/* Addresses that are no client's buffer: net_virt_tx must drop them. */
static void return_bogus_address(void)
{
    uint64_t bogus[4] = {rx_dma_paddr, 8, clients[0].tx_paddr + 8, ~(uint64_t)0};
    uint32_t nth = (uint32_t)*tx_bogus_returns;
    if (nth < 4) {
        give_sent_back(bogus[nth]);
        ++*tx_bogus_returns;
    }
}

static bool take_sent_frames(void)
{
    bool took = false;
    struct pn_net_desc d;
    enum pn_ring_status status;
    while ((status = pn_net_take_active(&tx, &d)) == PN_RING_OK) {
        took = true;
        struct client *owner;
        const char *why = check_sent(d, &owner);
        if (why) {
            say("tx: frame wrong: ", why);
            ++*tx_wrong;
        }
        if (owner) {
            give_sent_back(d.offset);
        }
        if (++tx_frames_seen % BOGUS_RETURN_EVERY == 0) {
            return_bogus_address();
        }
    }
    if (status == PN_RING_CORRUPT) {
        pn_fatal("net_virt_tx corrupted the transmit ring");
    }
    return took;
}

/* ---- Running ---- */

static void step(void)
{
    for (;;) {
        bool progress = !awaiting_free && take_free_buffers();
        progress |= !awaiting_sent && take_sent_frames();
        progress |= advance_batches();
        if (progress) {
            continue;
        }
        bool free_asleep = sleep_on(&rx.free, &awaiting_free);
        if (sleep_on(&tx.active, &awaiting_sent) && free_asleep) {
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

static void attach_clients(void)
{
    char ctl[] = "ctl0", mac_key[] = "mac0", tx_dma[] = "tx_dma0";
    char sent[] = "sent_client0", bytes[] = "bytes_client0", tx_frames[] = "tx_frames_client0";
    for (n_clients = 0; n_clients < MAX_CLIENTS; n_clients++) {
        char digit = (char)('0' + n_clients);
        ctl[3] = mac_key[3] = tx_dma[6] = sent[11] = bytes[12] = tx_frames[16] = digit;
        if (pn_region(ctl, 0) == 0) {
            break;
        }
        sent_unicast[n_clients] = pn_counter(sent);
        bytes_offered[n_clients] = pn_counter(bytes);
        tx_frames_from[n_clients] = pn_counter(tx_frames);
        struct client *c = &clients[n_clients];
        c->offered_word = pn_require_region(ctl, sizeof *c->offered_word, 0);
        c->ctl_ch = pn_require_channel(ctl);
        const char *mac = pn_param(mac_key);
        if (mac == 0 || !net_parse_mac(mac, c->mac)) {
            pn_fatal("each client needs its MAC as parameter \"macN\"");
        }
        c->tx_data = pn_require_region(tx_dma, buffer_size, 0);
        pn_region_paddr(tx_dma, &c->tx_paddr, &c->tx_size);
    }
    if (n_clients == 0) {
        pn_fatal("no client control region (\"ctl0\") is mapped");
    }
}

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    buffer_size = (uint32_t)pn_param_u64_or("buffer_size", 2048);
    if (capacity < 2 * MAX_BATCH || capacity > (1u << 20) || (capacity & (capacity - 1))) {
        pn_fatal("parameter \"capacity\" must be a power of two, at least two batches");
    }
    if (buffer_size < 64 || buffer_size > 65536) {
        pn_fatal("parameter \"buffer_size\" must be 64..65536");
    }
    uint32_t ring_capacity = (uint32_t)capacity;
    void *rx_queue = pn_require_region("rx_queue", pn_net_pair_bytes(ring_capacity), 0);
    void *tx_queue = pn_require_region("tx_queue", pn_net_pair_bytes(ring_capacity), 0);
    pn_net_filler_attach(&rx, rx_queue, ring_capacity);
    pn_net_drainer_attach(&tx, tx_queue, ring_capacity);
    rx_ch = pn_require_channel("rx");
    tx_ch = pn_require_channel("tx");
    rx_dma = pn_require_region("rx_dma", buffer_size, &rx_dma_size);
    pn_region_paddr("rx_dma", &rx_dma_paddr, 0);
    /* As many buffers as net_virt_rx makes of the region. */
    uint64_t whole = rx_dma_size / buffer_size;
    n_buffers = (uint32_t)(whole < capacity ? whole : capacity);
    if (n_buffers > MAX_RX_BUFFERS || n_buffers <= MAX_BATCH) {
        pn_fatal("region \"rx_dma\" must hold more buffers than a batch needs, at most 512");
    }
    attach_clients();
    batches = (uint32_t)pn_require_param_u64("batches");
    sent_group = pn_counter("sent_group");
    sent_nobody = pn_counter("sent_nobody");
    sent_runt = pn_counter("sent_runt");
    sent_bad_desc = pn_counter("sent_bad_desc");
    rx_bad_returns = pn_counter("rx_bad_returns");
    rx_buffers_out = pn_counter("rx_buffers_out");
    tx_wrong = pn_counter("tx_wrong");
    tx_bogus_returns = pn_counter("tx_bogus_returns");
    batches_done = pn_counter("batches_done");
    done = pn_counter("done");
    /* Every receive buffer starts with net_virt_rx, which gives them to us. */
    for (uint32_t i = 0; i < n_buffers; i++) {
        buffer_out[i] = true;
    }
    *rx_buffers_out = n_buffers;
    step();
}

void notified(pn_channel ch)
{
    if (ch == rx_ch) {
        awaiting_free = false;
    } else if (ch == tx_ch) {
        awaiting_sent = false;
    }
    for (uint32_t k = 0; k < n_clients; k++) {
        if (ch == clients[k].ctl_ch) {
            clients[k].acked = true;
        }
    }
    step();
}
