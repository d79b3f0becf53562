/*
 * net-bridge's command line, receive and transmit paths and counts (see
 * net_bridge_core.h). Plain C11 over pinion's freestanding queue headers,
 * built for the guest (static aarch64) and for the host tests.
 */
#define _POSIX_C_SOURCE 200809L

#include "net_bridge_core.h"

#include "guest_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char net_bridge_usage[] =
    "usage: net-bridge [--capacity N] [--buffer-size BYTES] [--interface IF] [--rx NAME]\n"
    "                  [--tx NAME] [--die-after N] [--poll-ms MS] [--report-every N]\n"
    "                  [--sysfs-root DIR]\n"
    "\n"
    "Bridges a Linux network interface to pinion's network queues from inside a\n"
    "driver VM. Frames received on IF (through a packet socket, the interface\n"
    "promiscuous) go into free buffers of the receive queue and on to its active\n"
    "ring; frames of the transmit queue's active ring are sent on IF and their\n"
    "buffers returned to its free ring. Each queue is a UIO device: map0 its\n"
    "doorbell page, map1 the queue pair, then the data: for NAME of --rx, map2\n"
    "holds the receive buffers (descriptors carry offsets into it); for --tx,\n"
    "map2.. are the clients' transmit regions (descriptors carry physical\n"
    "addresses). The doorbell is rung when the peer asked to be woken; the\n"
    "device's interrupt wakes the bridge. On SIGTERM, SIGINT or exit it prints\n"
    "its counts as one line, \"net-bridge: {...}\".\n"
    "\n"
    "  --capacity N        slots of every ring, a power of two (default 512)\n"
    "  --buffer-size BYTES bytes of a buffer, 64 to 65536 (default 2048)\n"
    "  --interface IF      the network interface (default eth0)\n"
    "  --rx NAME           the receive queue's UIO device (default rx)\n"
    "  --tx NAME           the transmit queue's UIO device (default tx)\n"
    "  --die-after N       test mode: exit with status 3 after N frames received\n"
    "  --poll-ms MS        also look at the queues every MS ms without an interrupt\n"
    "                      (for a peer that cannot interrupt, in tests; default: never)\n"
    "  --report-every N    also print the counts each time N more frames went through\n"
    "                      (received plus sent; for runs that end from outside)\n"
    "  --sysfs-root DIR    where sysfs is (default /sys)\n"
    "  --help              this text\n"
    "\n"
    "Exit status: 0 after SIGTERM or SIGINT, 1 on a failure to set up or run,\n"
    "2 on a usage error, 3 when --die-after is reached.\n";

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* A decimal number in [min, max], nothing else: no sign, no spaces, no suffix. */
static bool parse_bounded(const char *text, unsigned long long min, unsigned long long max,
                          unsigned long long *value)
{
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *value = v;
    return true;
}

static bool parse_name(const char *option, const char *value, const char **out, char *err,
                       size_t err_size)
{
    if (value[0] == '\0' || strlen(value) >= NET_BRIDGE_NAME_MAX || strchr(value, '/') != NULL) {
        set_error(err, err_size, "%s must be 1 to %d characters without '/', not \"%s\"", option,
                  NET_BRIDGE_NAME_MAX - 1, value);
        return false;
    }
    *out = value;
    return true;
}

static bool apply_option(const char *option, const char *value, struct net_bridge_options *opts,
                         char *err, size_t err_size)
{
    unsigned long long n;
    if (strcmp(option, "--capacity") == 0) {
        if (!parse_bounded(value, 1, NET_BRIDGE_MAX_CAPACITY, &n) ||
            !pn_is_power_of_two((uint32_t)n)) {
            set_error(err, err_size, "--capacity must be a power of two from 1 to %u, not \"%s\"",
                      NET_BRIDGE_MAX_CAPACITY, value);
            return false;
        }
        opts->capacity = (uint32_t)n;
    } else if (strcmp(option, "--buffer-size") == 0) {
        if (!parse_bounded(value, NET_BRIDGE_MIN_BUFFER_SIZE, NET_BRIDGE_MAX_BUFFER_SIZE, &n)) {
            set_error(err, err_size, "--buffer-size must be a number from %u to %u, not \"%s\"",
                      NET_BRIDGE_MIN_BUFFER_SIZE, NET_BRIDGE_MAX_BUFFER_SIZE, value);
            return false;
        }
        opts->buffer_size = (uint32_t)n;
    } else if (strcmp(option, "--interface") == 0) {
        /* IFNAMSIZ is 16 with its terminating zero. */
        if (value[0] == '\0' || strlen(value) > 15 || strchr(value, '/') != NULL) {
            set_error(err, err_size, "--interface must be 1 to 15 characters, not \"%s\"", value);
            return false;
        }
        opts->interface = value;
    } else if (strcmp(option, "--rx") == 0) {
        return parse_name(option, value, &opts->rx_name, err, err_size);
    } else if (strcmp(option, "--tx") == 0) {
        return parse_name(option, value, &opts->tx_name, err, err_size);
    } else if (strcmp(option, "--die-after") == 0) {
        if (!parse_bounded(value, 1, UINT64_MAX / 2, &n)) {
            set_error(err, err_size, "--die-after must be a positive number, not \"%s\"", value);
            return false;
        }
        opts->die_after = n;
    } else if (strcmp(option, "--poll-ms") == 0) {
        if (!parse_bounded(value, 1, 60000, &n)) {
            set_error(err, err_size, "--poll-ms must be a number from 1 to 60000, not \"%s\"",
                      value);
            return false;
        }
        opts->poll_ms = (int)n;
    } else if (strcmp(option, "--report-every") == 0) {
        if (!parse_bounded(value, 1, UINT64_MAX / 2, &n)) {
            set_error(err, err_size, "--report-every must be a positive number, not \"%s\"", value);
            return false;
        }
        opts->report_every = n;
    } else {
        if (value[0] == '\0') {
            set_error(err, err_size, "--sysfs-root must not be empty");
            return false;
        }
        opts->sysfs_root = value;
    }
    return true;
}

enum net_bridge_parse_result net_bridge_parse_args(int argc, char **argv,
                                                   struct net_bridge_options *opts, char *err,
                                                   size_t err_size)
{
    *opts = (struct net_bridge_options){
        .capacity = NET_BRIDGE_DEFAULT_CAPACITY,
        .buffer_size = NET_BRIDGE_DEFAULT_BUFFER_SIZE,
        .interface = "eth0",
        .rx_name = "rx",
        .tx_name = "tx",
        .die_after = 0,
        .poll_ms = -1,
        .sysfs_root = "/sys",
    };
    static const char *const with_value[] = {"--capacity", "--buffer-size",  "--interface",
                                             "--rx",       "--tx",           "--die-after",
                                             "--poll-ms",  "--report-every", "--sysfs-root"};
    for (int i = 1; i < argc; i++) {
        const char *option = NULL, *value = NULL;
        switch (guest_args_next(argc, argv, &i, with_value,
                                sizeof with_value / sizeof with_value[0], &option, &value, err,
                                err_size)) {
        case GUEST_ARG_HELP:
            return NET_BRIDGE_PARSE_HELP;
        case GUEST_ARG_ERROR:
            return NET_BRIDGE_PARSE_ERROR;
        default:
            break;
        }
        if (!apply_option(option, value, opts, err, err_size)) {
            return NET_BRIDGE_PARSE_ERROR;
        }
    }
    if (strcmp(opts->rx_name, opts->tx_name) == 0) {
        set_error(err, err_size, "--rx and --tx name the same device \"%s\"", opts->rx_name);
        return NET_BRIDGE_PARSE_ERROR;
    }
    return NET_BRIDGE_PARSE_OK;
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

enum net_bridge_step net_bridge_transmit(struct net_bridge *b, const struct net_bridge_io *io,
                                         uint32_t budget)
{
    enum net_bridge_step step = NET_BRIDGE_IDLE;
    bool returned = false;
    uint32_t done = 0;
    struct pn_net_desc d;
    for (;;) {
        /*
         * Take a frame only when its buffer can go back at once: then every
         * buffer is always in a ring, never stranded here.
         */
        while (done < budget && !pn_ring_producer_full(&b->tx.free)) {
            enum pn_ring_status status = pn_net_take_active(&b->tx, &d);
            if (status != PN_RING_OK) {
                if (status == PN_RING_CORRUPT) {
                    note_corrupt(b, &b->tx_active_corrupt);
                }
                break;
            }
            done++;
            const unsigned char *frame = net_bridge_tx_frame(b, d);
            if (frame == NULL) {
                b->counts.bad_tx_desc++; /* not followed, and not returned: it is no buffer */
                continue;
            }
            if (io->send(io->ctx, frame, d.len) < 0) {
                b->counts.tx_send_errors++;
            } else {
                b->counts.tx_frames++;
                b->counts.tx_bytes += d.len;
            }
            pn_net_give_free(&b->tx, (struct pn_net_desc){.offset = d.offset, .len = 0});
            returned = true;
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
        "\"rx_irqs\": %llu, \"tx_irqs\": %llu, \"rx_bytes\": %llu, \"tx_bytes\": %llu}",
        (unsigned long long)c->rx_frames, (unsigned long long)c->tx_frames,
        (unsigned long long)c->rx_dropped_no_buffer, (unsigned long long)c->rx_dropped_too_long,
        (unsigned long long)c->rx_dropped_ring_full, (unsigned long long)c->bad_free_desc,
        (unsigned long long)c->bad_tx_desc, (unsigned long long)c->tx_send_errors,
        (unsigned long long)c->rx_receive_errors, (unsigned long long)c->corrupt_rings,
        (unsigned long long)c->rx_doorbells, (unsigned long long)c->tx_doorbells,
        (unsigned long long)c->rx_irqs, (unsigned long long)c->tx_irqs,
        (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_bytes);
}
