/*
 * net-bridge's receive and transmit paths and counts (see
 * net_bridge_core.h). Plain C11 over pinion's freestanding queue headers,
 * built for the guest program (static aarch64), for the host tests, and
 * into the guest kernel for the in-kernel bridge
 * (driver-vms/kernel/pinion_net_bridge.c), where driver-vms/kernel/compat/
 * supplies the few standard headers it includes.
 */
#include "net_bridge_core.h"

#include <stdarg.h>
#include <stdio.h>

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

bool net_bridge_init(struct net_bridge *b, void *rx_queue, uint64_t rx_queue_bytes,
                     struct net_bridge_region rx_data, void *tx_queue, uint64_t tx_queue_bytes,
                     const struct net_bridge_region *tx_data, unsigned n_tx_data, uint32_t capacity,
                     uint32_t buffer_size, uint64_t die_after, char *err, size_t err_size)
{
    *b = (struct net_bridge){
        .rx_data = rx_data,
        .capacity = capacity,
        .buffer_size = buffer_size,
        .die_after = die_after,
    };
    if (!pn_is_power_of_two(capacity)) {
        set_error(err, err_size, "the capacity %u is not a power of two", capacity);
        return false;
    }
    uint64_t pair = pn_net_pair_bytes(capacity);
    if (rx_queue_bytes < pair || tx_queue_bytes < pair) {
        set_error(err, err_size,
                  "a queue pair of capacity %u needs %llu bytes; the rx queue has %llu, the tx "
                  "queue %llu",
                  capacity, (unsigned long long)pair, (unsigned long long)rx_queue_bytes,
                  (unsigned long long)tx_queue_bytes);
        return false;
    }
    if (rx_data.bytes < buffer_size) {
        set_error(err, err_size, "the receive data region (%llu bytes) holds no %u-byte buffer",
                  (unsigned long long)rx_data.bytes, buffer_size);
        return false;
    }
    if (n_tx_data == 0 || n_tx_data > NET_BRIDGE_MAX_TX_REGIONS) {
        set_error(err, err_size, "%u transmit regions: there must be 1 to %d", n_tx_data,
                  NET_BRIDGE_MAX_TX_REGIONS);
        return false;
    }
    for (unsigned i = 0; i < n_tx_data; i++) {
        b->tx_data[i] = tx_data[i];
    }
    b->n_tx_data = n_tx_data;
    if (!pn_net_filler_attach(&b->rx, rx_queue, capacity) ||
        !pn_net_drainer_attach(&b->tx, tx_queue, capacity)) {
        set_error(err, err_size, "cannot attach to the queues");
        return false;
    }
    return true;
}

/* Counts a ring whose peer went wrong once; the ring then just looks empty or full. */
static void note_corrupt(struct net_bridge *b, bool *flag)
{
    if (!*flag) {
        *flag = true;
        b->counts.corrupt_rings++;
    }
}

/*
 * Takes a free receive buffer into b->held. Out of them, asks the peer to
 * signal when it returns some, with the double check of the protocol.
 */
static bool take_free_buffer(struct net_bridge *b)
{
    struct pn_net_desc d;
    for (;;) {
        enum pn_ring_status status = pn_net_take_free(&b->rx, &d);
        if (status == PN_RING_OK) {
            if (!pn_net_desc_valid(d, b->rx_data.bytes, b->buffer_size)) {
                b->counts.bad_free_desc++; /* not a buffer of ours: never written to */
                continue;
            }
            b->held = (struct pn_net_desc){.offset = d.offset};
            b->holding = true;
            return true;
        }
        if (status == PN_RING_CORRUPT) {
            note_corrupt(b, &b->rx_free_corrupt);
            return false;
        }
        pn_ring_request_signal(&b->rx.free);
        if (pn_ring_consumer_empty(&b->rx.free)) {
            return false;
        }
        pn_ring_cancel_signal(&b->rx.free);
    }
}

static void ring_doorbell(struct net_bridge *b, const struct net_bridge_io *io,
                          enum net_bridge_side side)
{
    /* The value is free; the running count lets a test peer see every ring. */
    uint64_t *count = side == NET_BRIDGE_RX ? &b->counts.rx_doorbells : &b->counts.tx_doorbells;
    ++*count;
    io->ring(io->ctx, side, (uint32_t)*count);
}

enum net_bridge_step net_bridge_receive(struct net_bridge *b, const struct net_bridge_io *io,
                                        uint32_t budget)
{
    enum net_bridge_step step = NET_BRIDGE_IDLE;
    bool delivered = false;
    uint32_t done = 0;
    for (;;) {
        if (b->die_after != 0 && b->counts.rx_frames >= b->die_after) {
            step = NET_BRIDGE_DIE;
            break;
        }
        if (done == budget) {
            step = NET_BRIDGE_MORE;
            break;
        }
        done++;
        if (!b->holding && !take_free_buffer(b)) {
            /* Nowhere to put it: take the frame off the socket and drop it. */
            unsigned char scratch[64];
            long len = io->receive(io->ctx, scratch, sizeof scratch);
            if (len == 0) {
                break;
            }
            if (len < 0) {
                b->counts.rx_receive_errors++;
                break;
            }
            b->counts.rx_dropped_no_buffer++;
            continue;
        }
        long len = io->receive(io->ctx, b->rx_data.base + b->held.offset, b->buffer_size);
        if (len == 0) {
            break; /* nothing waiting: the buffer stays held for the next frame */
        }
        if (len < 0) {
            b->counts.rx_receive_errors++;
            break;
        }
        if ((unsigned long)len > b->buffer_size) {
            b->counts.rx_dropped_too_long++; /* cut short: dropped, the buffer reused */
            continue;
        }
        struct pn_net_desc frame = {.offset = b->held.offset, .len = (uint32_t)len};
        enum pn_ring_status status = pn_net_give_active(&b->rx, frame);
        if (status != PN_RING_OK) {
            if (status == PN_RING_CORRUPT) {
                note_corrupt(b, &b->rx_active_corrupt);
            }
            b->counts.rx_dropped_ring_full++;
            continue;
        }
        b->holding = false;
        b->counts.rx_frames++;
        b->counts.rx_bytes += (uint64_t)len;
        delivered = true;
    }
    if (delivered && pn_ring_require_signal(&b->rx.active)) {
        ring_doorbell(b, io, NET_BRIDGE_RX);
    }
    return step;
}

const unsigned char *net_bridge_tx_frame(const struct net_bridge *b, struct pn_net_desc d)
{
    if (d.len == 0 || d.len > b->buffer_size) {
        return NULL;
    }
    for (unsigned i = 0; i < b->n_tx_data; i++) {
        const struct net_bridge_region *r = &b->tx_data[i];
        if (d.offset >= r->phys && d.offset - r->phys < r->bytes &&
            r->bytes - (d.offset - r->phys) >= d.len) {
            return r->base + (d.offset - r->phys);
        }
    }
    return NULL;
}

/*
 * Takes the next descriptor off the tx active ring into *d: false when the
 * ring is empty (or broken). *frame is where its frame is, or NULL for a
 * descriptor that names no buffer, dropped and counted (neither followed
 * nor returned: it is no buffer).
 */
static bool take_tx_frame(struct net_bridge *b, struct pn_net_desc *d, const unsigned char **frame)
{
    enum pn_ring_status status = pn_net_take_active(&b->tx, d);
    if (status != PN_RING_OK) {
        if (status == PN_RING_CORRUPT) {
            note_corrupt(b, &b->tx_active_corrupt);
        }
        return false;
    }
    *frame = net_bridge_tx_frame(b, *d);
    if (*frame == NULL) {
        b->counts.bad_tx_desc++;
    }
    return true;
}

static void count_sent(struct net_bridge *b, uint32_t len)
{
    b->counts.tx_frames++;
    b->counts.tx_bytes += len;
}

/*
 * Sends the batch in b->tx_batch[0..n) with send_batch, then returns every
 * buffer. A frame the kernel refuses is counted and skipped, and the rest
 * sent after it, so each frame is sent or counted once, as one by one.
 */
static void send_tx_batch(struct net_bridge *b, const struct net_bridge_io *io, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        b->counts.tx_batches++;
        int sent = io->send_batch(io->ctx, &b->tx_batch[i], n - i);
        if (sent <= 0) {
            b->counts.tx_send_errors++; /* 0 would be no progress: taken as refused too */
            i++;
            continue;
        }
        uint32_t end = (uint32_t)sent < n - i ? i + (uint32_t)sent : n;
        for (; i < end; i++) {
            count_sent(b, b->tx_batch[i].len);
        }
    }
    for (i = 0; i < n; i++) {
        pn_net_give_free(&b->tx,
                         (struct pn_net_desc){.offset = b->tx_batch_desc[i].offset, .len = 0});
    }
}

/*
 * The batched way of net_bridge_transmit's inner loop: take as many frames
 * as the free ring has room for their buffers (at most a batch), send them
 * with one call, return their buffers, and again while the budget and the
 * room last. A buffer is out of the rings only while the kernel copies its
 * frame, and the room was counted first: none is ever stranded here.
 */
static bool transmit_in_batches(struct net_bridge *b, const struct net_bridge_io *io,
                                uint32_t budget, uint32_t *done)
{
    bool returned = false;
    for (;;) {
        enum pn_ring_status space;
        uint32_t room = pn_ring_producer_space(&b->tx.free, &space);
        uint32_t n = 0;
        bool drained = false;
        while (n < room && n < NET_BRIDGE_TX_BATCH_MAX && *done < budget) {
            struct pn_net_desc d;
            const unsigned char *frame;
            if (!take_tx_frame(b, &d, &frame)) {
                drained = true;
                break;
            }
            ++*done;
            if (frame != NULL) {
                b->tx_batch_desc[n] = d;
                b->tx_batch[n] = (struct net_bridge_frame){.data = frame, .len = d.len};
                n++;
            }
        }
        if (n > 0) {
            send_tx_batch(b, io, n);
            returned = true;
        }
        if (drained || room == 0 || *done == budget) {
            return returned;
        }
    }
}

/* One frame at a time: each sent, then its buffer returned. */
static bool transmit_one_by_one(struct net_bridge *b, const struct net_bridge_io *io,
                                uint32_t budget, uint32_t *done)
{
    bool returned = false;
    /*
     * Take a frame only when its buffer can go back at once: then every
     * buffer is always in a ring, never stranded here.
     */
    while (*done < budget && !pn_ring_producer_full(&b->tx.free)) {
        struct pn_net_desc d;
        const unsigned char *frame;
        if (!take_tx_frame(b, &d, &frame)) {
            break;
        }
        ++*done;
        if (frame == NULL) {
            continue;
        }
        if (io->send(io->ctx, frame, d.len) < 0) {
            b->counts.tx_send_errors++;
        } else {
            count_sent(b, d.len);
        }
        pn_net_give_free(&b->tx, (struct pn_net_desc){.offset = d.offset, .len = 0});
        returned = true;
    }
    return returned;
}

enum net_bridge_step net_bridge_transmit(struct net_bridge *b, const struct net_bridge_io *io,
                                         uint32_t budget)
{
    enum net_bridge_step step = NET_BRIDGE_IDLE;
    bool returned = false;
    uint32_t done = 0;
    for (;;) {
        if (io->send_batch != NULL) {
            returned |= transmit_in_batches(b, io, budget, &done);
        } else {
            returned |= transmit_one_by_one(b, io, budget, &done);
        }
        if (done == budget) {
            step = NET_BRIDGE_MORE;
            break;
        }
        enum pn_ring_status space;
        if (pn_ring_producer_space(&b->tx.free, &space) == 0) {
            /*
             * The peer keeps more buffers in flight than the ring holds, or
             * broke it. Frames wait in the active ring; poll again.
             */
            if (space == PN_RING_CORRUPT) {
                note_corrupt(b, &b->tx_free_corrupt);
            } else {
                step = NET_BRIDGE_STALLED;
            }
            break;
        }
        pn_ring_request_signal(&b->tx.active);
        if (pn_ring_consumer_empty(&b->tx.active)) {
            break;
        }
        pn_ring_cancel_signal(&b->tx.active);
    }
    if (returned && pn_ring_require_signal(&b->tx.free)) {
        ring_doorbell(b, io, NET_BRIDGE_TX);
    }
    return step;
}

enum net_bridge_step net_bridge_service(struct net_bridge *b, const struct net_bridge_io *io)
{
    /* Transmit first: sent buffers go back to the clients while frames come in. */
    enum net_bridge_step tx = net_bridge_transmit(b, io, b->capacity);
    enum net_bridge_step rx = net_bridge_receive(b, io, b->capacity);
    if (rx == NET_BRIDGE_DIE) {
        return NET_BRIDGE_DIE;
    }
    if (tx == NET_BRIDGE_MORE || rx == NET_BRIDGE_MORE) {
        return NET_BRIDGE_MORE;
    }
    return tx;
}

int net_bridge_counts_json(const struct net_bridge_counts *c, char *buf, size_t size)
{
    return snprintf(
        buf, size,
        "{\"rx_frames\": %llu, \"tx_frames\": %llu, \"rx_dropped_no_buffer\": %llu, "
        "\"rx_dropped_too_long\": %llu, \"rx_dropped_ring_full\": %llu, \"bad_free_desc\": %llu, "
        "\"bad_tx_desc\": %llu, \"tx_send_errors\": %llu, \"rx_receive_errors\": %llu, "
        "\"corrupt_rings\": %llu, \"rx_doorbells\": %llu, \"tx_doorbells\": %llu, "
        "\"rx_irqs\": %llu, \"tx_irqs\": %llu, \"rx_bytes\": %llu, \"tx_bytes\": %llu, "
        "\"tx_batches\": %llu, \"polls\": %llu}",
        (unsigned long long)c->rx_frames, (unsigned long long)c->tx_frames,
        (unsigned long long)c->rx_dropped_no_buffer, (unsigned long long)c->rx_dropped_too_long,
        (unsigned long long)c->rx_dropped_ring_full, (unsigned long long)c->bad_free_desc,
        (unsigned long long)c->bad_tx_desc, (unsigned long long)c->tx_send_errors,
        (unsigned long long)c->rx_receive_errors, (unsigned long long)c->corrupt_rings,
        (unsigned long long)c->rx_doorbells, (unsigned long long)c->tx_doorbells,
        (unsigned long long)c->rx_irqs, (unsigned long long)c->tx_irqs,
        (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_bytes,
        (unsigned long long)c->tx_batches, (unsigned long long)c->polls);
}
