/*
 * net-bridge: inside a Linux driver VM, bridges the network interface that
 * Linux's own driver owns to pinion's network queues (see net_bridge_core.h
 * and --help). This file holds the system calls: the packet socket, the UIO
 * devices' maps, doorbells and interrupts, signals, and the event loop. The
 * cheaper paths of the packet socket are in files of their own: the
 * receive ring in packet_ring.c, batched transmission in packet_batch.c.
 */
#define _GNU_SOURCE /* struct mmsghdr, for packet_batch.h */

#include "net_bridge_args.h"
#include "packet_batch.h"
#include "packet_ring.h"
#include "packet_socket.h"
#include "uio_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct bridge_io_ctx {
    int sock;
    struct uio_handle *rx, *tx;
    bool rx_ring_on;
    struct packet_rx_ring rx_ring; /* --rx-ring */
    struct packet_batch tx_batch;  /* --tx-batch */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int signo)
{
    stop_signal = signo;
}

static void print_counts(const struct net_bridge_counts *counts)
{
    char json[1024];
    net_bridge_counts_json(counts, json, sizeof json);
    printf("net-bridge: %s\n", json);
    fflush(stdout);
}

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("net-bridge: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static struct net_bridge_region region_of(const struct uio_handle *h, unsigned m)
{
    return (struct net_bridge_region){
        .base = h->maps[m], .phys = h->dev.maps[m].phys, .bytes = h->dev.maps[m].bytes};
}

static long socket_receive(void *ctx, unsigned char *buf, size_t capacity)
{
    return packet_socket_receive(((struct bridge_io_ctx *)ctx)->sock, buf, capacity);
}

static int socket_send(void *ctx, const unsigned char *frame, size_t len)
{
    return packet_socket_send(((struct bridge_io_ctx *)ctx)->sock, frame, len, &stop_signal);
}

static long ring_receive(void *ctx, unsigned char *buf, size_t capacity)
{
    return packet_rx_ring_receive(&((struct bridge_io_ctx *)ctx)->rx_ring, buf, capacity);
}

static int batch_send(void *ctx, const struct net_bridge_frame *frames, uint32_t n)
{
    return packet_batch_send(&((struct bridge_io_ctx *)ctx)->tx_batch, frames, n);
}

static void ring(void *ctx, enum net_bridge_side side, uint32_t value)
{
    struct bridge_io_ctx *io = ctx;
    uio_handle_ring(side == NET_BRIDGE_RX ? io->rx : io->tx, value);
}

static int run(struct net_bridge *b, const struct net_bridge_io *io, struct bridge_io_ctx *ctx,
               int poll_ms, uint64_t report_every)
{
    uint64_t next_report = report_every;
    struct uio_handle *uio[2] = {ctx->rx, ctx->tx};
    uint64_t *irqs[2] = {&b->counts.rx_irqs, &b->counts.tx_irqs};
    for (int i = 0; i < 2; i++) {
        if (!uio_handle_unmask("net-bridge", uio[i])) {
            return 1;
        }
    }
    while (!stop_signal) {
        enum net_bridge_step step = net_bridge_service(b, io);
        if (step == NET_BRIDGE_DIE) {
            printf("net-bridge: dying after %llu frames received (--die-after)\n",
                   (unsigned long long)b->counts.rx_frames);
            return NET_BRIDGE_DIE_STATUS;
        }
        if (report_every && b->counts.rx_frames + b->counts.tx_frames >= next_report) {
            print_counts(&b->counts);
            next_report = b->counts.rx_frames + b->counts.tx_frames + report_every;
        }
        int timeout = poll_ms;
        if (step == NET_BRIDGE_MORE) {
            timeout = 0;
        } else if (step == NET_BRIDGE_STALLED && (timeout < 0 || timeout > 1)) {
            timeout = 1;
        }
        struct pollfd fds[3] = {
            {.fd = ctx->sock, .events = POLLIN},
            {.fd = uio[0]->fd, .events = POLLIN},
            {.fd = uio[1]->fd, .events = POLLIN},
        };
        b->counts.polls++;
        int ready = poll(fds, 3, timeout);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("poll: %s", strerror(errno));
            return 1;
        }
        /*
         * A socket error (ENETDOWN while the interface is down) is not fatal:
         * the next receive takes it off the socket and counts it. Receiving
         * from the ring takes nothing off the socket: take it here, or
         * poll() would report it again at once.
         */
        if (fds[0].revents & POLLNVAL) {
            fail("the packet socket is gone");
            return 1;
        }
        if (ctx->rx_ring_on && (fds[0].revents & POLLERR)) {
            unsigned char scratch[64];
            if (packet_socket_receive(ctx->sock, scratch, sizeof scratch) < 0) {
                b->counts.rx_receive_errors++;
            }
        }
        for (int i = 0; i < 2; i++) {
            if ((fds[1 + i].revents & POLLIN) &&
                !uio_handle_take_interrupt("net-bridge", uio[i], irqs[i])) {
                return 1;
            }
        }
    }
    return 0;
}

/* Which paths the bridge takes, so that a run's console says what it measured. */
static void print_paths(const struct net_bridge_options *opts)
{
    char ring[96] = "recvfrom";
    const struct packet_ring_layout *l = &opts->rx_ring_layout;
    if (opts->rx_ring && l->version == PACKET_RING_V2) {
        snprintf(ring, sizeof ring, "ring v2 (%u frames of %u bytes)", l->frame_count,
                 l->frame_bytes);
    } else if (opts->rx_ring) {
        snprintf(ring, sizeof ring, "ring v3 (%u blocks of %u bytes, retired after %u ms)",
                 l->block_count, l->block_bytes, l->retire_ms);
    }
    printf("net-bridge: receive: %s; transmit: %s%s\n", ring,
           opts->tx_batch ? "sendmmsg per batch" : "send per frame",
           opts->qdisc_bypass ? ", past the queueing discipline" : "");
}

int main(int argc, char **argv)
{
    struct net_bridge_options opts;
    char err[NET_BRIDGE_ERROR_MAX];
    switch (net_bridge_parse_args(argc, argv, &opts, err, sizeof err)) {
    case NET_BRIDGE_PARSE_HELP:
        fputs(net_bridge_usage, stdout);
        return 0;
    case NET_BRIDGE_PARSE_ERROR:
        fprintf(stderr, "net-bridge: %s\nTry 'net-bridge --help'.\n", err);
        return 2;
    case NET_BRIDGE_PARSE_OK:
        break;
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll() returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static struct uio_handle rx_uio, tx_uio;
    /* Both looked up before either is opened, so a missing one is named first. */
    if (!uio_handle_find("net-bridge", opts.sysfs_root, opts.rx_name, 3, &rx_uio) ||
        !uio_handle_find("net-bridge", opts.sysfs_root, opts.tx_name, 3, &tx_uio) ||
        !uio_handle_open("net-bridge", false, &rx_uio) ||
        !uio_handle_open("net-bridge", true, &tx_uio)) {
        return 1;
    }
    struct net_bridge_region tx_regions[NET_BRIDGE_MAX_TX_REGIONS];
    unsigned n_tx = 0;
    for (unsigned m = 2; m < tx_uio.dev.n_maps; m++) {
        tx_regions[n_tx++] = region_of(&tx_uio, m);
    }
    static struct net_bridge bridge;
    if (!net_bridge_init(&bridge, rx_uio.maps[1], rx_uio.dev.maps[1].bytes, region_of(&rx_uio, 2),
                         tx_uio.maps[1], tx_uio.dev.maps[1].bytes, tx_regions, n_tx, opts.capacity,
                         opts.buffer_size, opts.die_after, err, sizeof err)) {
        fail("%s", err);
        return 1;
    }
    static struct bridge_io_ctx ctx;
    ctx = (struct bridge_io_ctx){.rx = &rx_uio, .tx = &tx_uio, .rx_ring_on = opts.rx_ring};
    /* Room for as many frames as the queues hold: a burst waits in the socket, not dropped. */
    struct packet_socket_options socket_options = {
        .interface = opts.interface,
        .receive_buffer_bytes = (uint64_t)opts.capacity * (opts.buffer_size + 512),
        .qdisc_bypass = opts.qdisc_bypass,
    };
    ctx.sock = packet_socket_open("net-bridge", &socket_options);
    if (ctx.sock < 0) {
        return 1;
    }
    struct net_bridge_io io = {
        .receive = socket_receive, .send = socket_send, .ring = ring, .ctx = &ctx};
    if (opts.rx_ring) {
        if (!packet_rx_ring_open("net-bridge", ctx.sock, &opts.rx_ring_layout, &ctx.rx_ring)) {
            return 1;
        }
        io.receive = ring_receive;
    }
    if (opts.tx_batch) {
        packet_batch_init(&ctx.tx_batch, ctx.sock, &stop_signal);
        io.send_batch = batch_send;
    }
    printf("net-bridge: up: %s, rx /dev/uio%u \"%s\" (%llu-byte data region at 0x%llx), "
           "tx /dev/uio%u \"%s\" (%u transmit regions), capacity %u, buffers of %u bytes\n",
           opts.interface, rx_uio.dev.index, rx_uio.dev.name,
           (unsigned long long)bridge.rx_data.bytes, (unsigned long long)bridge.rx_data.phys,
           tx_uio.dev.index, tx_uio.dev.name, n_tx, opts.capacity, opts.buffer_size);
    print_paths(&opts);
    fflush(stdout);

    int status = run(&bridge, &io, &ctx, opts.poll_ms, opts.report_every);
    if (stop_signal) {
        printf("net-bridge: stopping on signal %d\n", (int)stop_signal);
    }
    print_counts(&bridge.counts);
    return status;
}
