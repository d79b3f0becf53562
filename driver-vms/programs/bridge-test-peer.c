/*
 * bridge-test-peer: pinion's side of net-bridge's queues, played inside the
 * same guest, so that the bridge is tested end to end on plain QEMU, where
 * no pinion kernel runs the multiplexers and clients. It maps the same UIO
 * devices as the bridge (over reserved RAM in the test's device tree) and
 * stands in for the receive multiplexer (drains the rx queue, returns
 * buffers), the echo clients (components/net/echo_protocol.c: ARP, ICMP
 * echo and UDP echo for each --client) and the transmit multiplexer (fills
 * the tx queue with the physical addresses of buffers in the transmit
 * regions, takes sent buffers back).
 *
 * Plain QEMU has no one to raise the UIO interrupts, so the peer polls its
 * rings, and the bridge runs with --poll-ms. The doorbell pages are plain
 * RAM here: the peer reads the last value the bridge wrote to each (the
 * bridge writes its running count of doorbells) and reports it, beside how
 * often its own side of the protocol found the bridge asking to be woken.
 *
 * Test modes: --bad-free N hands the bridge N rx free descriptors that are
 * no buffer first; --bad-tx-every K hands it a tx descriptor outside every
 * transmit region after every K replies. With --echoes N the peer stops
 * once N UDP datagrams are echoed and every transmit buffer is back, prints
 * its counts and exits 0.
 */
#define _DEFAULT_SOURCE /* usleep */

#include "echo_protocol.h"
#include "uio_maps.h"

#include <pinion/net_queue.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_CLIENTS 4
#define MAX_BUFFERS 32768

static const char usage[] =
    "usage: bridge-test-peer [--rx NAME] [--tx NAME] [--capacity N] [--buffer-size BYTES]\n"
    "                        [--client MAC,IP]... [--udp-port PORT] [--echoes N]\n"
    "                        [--bad-free N] [--bad-tx-every K]\n"
    "\n"
    "Test peer of net-bridge inside the same guest: maps the rx and tx UIO devices,\n"
    "gives the bridge receive buffers, answers ARP, ICMP echo and UDP echo for each\n"
    "client (default 52:54:00:00:00:02,10.0.0.2 and 52:54:00:00:00:03,10.0.0.3,\n"
    "UDP port 1235) through the transmit queue, and polls instead of sleeping on\n"
    "interrupts. Prints \"bridge-test-peer: {...}\" with its counts on exit.\n"
    "\n"
    "  --echoes N        exit 0 after N UDP echoes once every transmit buffer is back\n"
    "  --bad-free N      first hand over N rx free descriptors that are no buffer\n"
    "  --bad-tx-every K  after every K replies also queue a tx descriptor outside\n"
    "                    every transmit region\n"
    "  --help            this text\n";

struct peer_counts {
    uint64_t rx_frames, replies_arp, replies_icmp, replies_udp, ignored, no_tx_buffer;
    uint64_t bad_free_injected, bad_tx_injected, bad_returned, corrupt;
    uint64_t bridge_wanted_rx, bridge_wanted_tx; /* our require_signal found a request */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int signo)
{
    stop_signal = signo;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bridge-test-peer: error: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

static unsigned char *map_all(const char *name, struct uio_map_device *dev, unsigned char **maps)
{
    char err[512];
    if (!uio_maps_find("/sys", name, 3, dev, err, sizeof err)) {
        die(err, NULL);
    }
    char path[32];
    snprintf(path, sizeof path, "/dev/uio%u", dev->index);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        die(path, strerror(errno));
    }
    for (unsigned m = 0; m < dev->n_maps; m++) {
        void *base = mmap(NULL, (size_t)dev->maps[m].map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                          fd, (off_t)m * sysconf(_SC_PAGESIZE));
        if (base == MAP_FAILED) {
            die("mmap", strerror(errno));
        }
        maps[m] = (unsigned char *)base + dev->maps[m].offset;
    }
    return maps[0];
}

static unsigned long long number(const char *option, const char *text)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0') {
        fprintf(stderr, "bridge-test-peer: %s needs a number, not \"%s\"\n", option, text);
        exit(2);
    }
    return v;
}

static void print_counts(const struct peer_counts *c, volatile uint32_t *rx_bell,
                         volatile uint32_t *tx_bell)
{
    printf("bridge-test-peer: {\"rx_frames\": %llu, \"replies_arp\": %llu, \"replies_icmp\": "
           "%llu, \"replies_udp\": %llu, \"ignored\": %llu, \"no_tx_buffer\": %llu, "
           "\"bad_free_injected\": %llu, \"bad_tx_injected\": %llu, \"bad_returned\": %llu, "
           "\"corrupt\": %llu, \"bridge_wanted_rx\": %llu, \"bridge_wanted_tx\": %llu, "
           "\"rx_doorbell_value\": %u, \"tx_doorbell_value\": %u}\n",
           (unsigned long long)c->rx_frames, (unsigned long long)c->replies_arp,
           (unsigned long long)c->replies_icmp, (unsigned long long)c->replies_udp,
           (unsigned long long)c->ignored, (unsigned long long)c->no_tx_buffer,
           (unsigned long long)c->bad_free_injected, (unsigned long long)c->bad_tx_injected,
           (unsigned long long)c->bad_returned, (unsigned long long)c->corrupt,
           (unsigned long long)c->bridge_wanted_rx, (unsigned long long)c->bridge_wanted_tx,
           *rx_bell, *tx_bell);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *rx_name = "rx", *tx_name = "tx";
    uint32_t capacity = 512, buffer_size = 2048;
    struct echo_identity clients[MAX_CLIENTS];
    unsigned n_clients = 0;
    uint16_t udp_port = 1235;
    uint64_t echoes = 0, bad_free = 0, bad_tx_every = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc || strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "bridge-test-peer: bad or incomplete option \"%s\"\n", arg);
            return 2;
        }
        const char *value = argv[++i];
        if (strcmp(arg, "--rx") == 0) {
            rx_name = value;
        } else if (strcmp(arg, "--tx") == 0) {
            tx_name = value;
        } else if (strcmp(arg, "--capacity") == 0) {
            capacity = (uint32_t)number(arg, value);
        } else if (strcmp(arg, "--buffer-size") == 0) {
            buffer_size = (uint32_t)number(arg, value);
        } else if (strcmp(arg, "--udp-port") == 0) {
            udp_port = (uint16_t)number(arg, value);
        } else if (strcmp(arg, "--echoes") == 0) {
            echoes = number(arg, value);
        } else if (strcmp(arg, "--bad-free") == 0) {
            bad_free = number(arg, value);
        } else if (strcmp(arg, "--bad-tx-every") == 0) {
            bad_tx_every = number(arg, value);
        } else if (strcmp(arg, "--client") == 0 && n_clients < MAX_CLIENTS) {
            char mac[18];
            const char *comma = strchr(value, ',');
            if (comma == NULL || comma - value != 17) {
                fprintf(stderr, "bridge-test-peer: --client MAC,IP, not \"%s\"\n", value);
                return 2;
            }
            memcpy(mac, value, 17);
            mac[17] = '\0';
            if (!net_parse_mac(mac, clients[n_clients].mac) ||
                !net_parse_ipv4(comma + 1, clients[n_clients].ip)) {
                fprintf(stderr, "bridge-test-peer: --client MAC,IP, not \"%s\"\n", value);
                return 2;
            }
            n_clients++;
        } else {
            fprintf(stderr, "bridge-test-peer: unknown option \"%s\"\n", arg);
            return 2;
        }
    }
    if (n_clients == 0) {
        net_parse_mac("52:54:00:00:00:02", clients[0].mac);
        net_parse_ipv4("10.0.0.2", clients[0].ip);
        net_parse_mac("52:54:00:00:00:03", clients[1].mac);
        net_parse_ipv4("10.0.0.3", clients[1].ip);
        n_clients = 2;
    }
    for (unsigned c = 0; c < n_clients; c++) {
        clients[c].udp_port = udp_port;
    }
    if (!pn_is_power_of_two(capacity) || buffer_size < 64 || buffer_size % 8 != 0) {
        die("--capacity must be a power of two and --buffer-size a multiple of 8 from 64", NULL);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static struct uio_map_device rx_dev, tx_dev;
    static unsigned char *rx_maps[UIO_MAPS_MAX], *tx_maps[UIO_MAPS_MAX];
    volatile uint32_t *rx_bell = (volatile uint32_t *)map_all(rx_name, &rx_dev, rx_maps);
    volatile uint32_t *tx_bell = (volatile uint32_t *)map_all(tx_name, &tx_dev, tx_maps);
    struct pn_net_drainer rx; /* we are the receive multiplexer: frames in, buffers back */
    struct pn_net_filler tx;  /* and the transmit multiplexer: frames out, sent buffers in */
    if (rx_dev.maps[1].bytes < pn_net_pair_bytes(capacity) ||
        tx_dev.maps[1].bytes < pn_net_pair_bytes(capacity) ||
        !pn_net_drainer_attach(&rx, rx_maps[1], capacity) ||
        !pn_net_filler_attach(&tx, tx_maps[1], capacity)) {
        die("the queue regions are too small for the capacity", NULL);
    }

    /* Receive buffers: offsets into map2 of rx. */
    uint64_t rx_buffers = rx_dev.maps[2].bytes / buffer_size;
    if (rx_buffers > capacity) {
        rx_buffers = capacity;
    }
    /* Transmit buffers: physical addresses in map2.. of tx, at most capacity in all. */
    static uint64_t tx_stack[MAX_BUFFERS];
    uint64_t tx_total = 0;
    for (unsigned m = 2; m < tx_dev.n_maps; m++) {
        for (uint64_t k = 0; k < tx_dev.maps[m].bytes / buffer_size && tx_total < capacity; k++) {
            tx_stack[tx_total++] = tx_dev.maps[m].phys + k * buffer_size;
        }
    }
    uint64_t tx_free = tx_total;
    struct peer_counts counts = {0};
    /* Bad descriptors first (past the region, then mid-buffer), then every buffer. */
    for (uint64_t k = 0; k < bad_free && k < capacity; k++) {
        uint64_t offset = k % 2 ? buffer_size / 2 : rx_dev.maps[2].bytes;
        pn_net_give_free(&rx, (struct pn_net_desc){.offset = offset});
        counts.bad_free_injected++;
    }
    uint64_t rx_next = 0; /* buffers not yet handed over, for when the ring was full */
    printf("bridge-test-peer: up: %llu receive buffers, %llu transmit buffers in %u regions, "
           "%u clients\n",
           (unsigned long long)rx_buffers, (unsigned long long)tx_total, tx_dev.n_maps - 2,
           n_clients);
    fflush(stdout);

    static _Alignas(8) uint8_t frame[65536];
    uint64_t replies = 0;
    while (!stop_signal) {
        bool busy = false;
        while (rx_next < rx_buffers && !pn_ring_producer_full(&rx.free)) {
            pn_net_give_free(&rx, (struct pn_net_desc){.offset = rx_next++ * buffer_size});
            busy = true;
        }
        struct pn_net_desc d;
        while (pn_net_take_free(&tx, &d) == PN_RING_OK) {
            bool ours = false;
            for (unsigned m = 2; m < tx_dev.n_maps; m++) {
                uint64_t base = tx_dev.maps[m].phys;
                ours |= d.offset >= base && d.offset - base < tx_dev.maps[m].bytes &&
                        (d.offset - base) % buffer_size == 0;
            }
            if (!ours || tx_free == tx_total) {
                counts.bad_returned++;
                continue;
            }
            tx_stack[tx_free++] = d.offset;
            busy = true;
        }
        bool gave_tx = false, gave_rx = false;
        enum pn_ring_status status;
        while ((status = pn_net_take_active(&rx, &d)) == PN_RING_OK) {
            busy = true;
            counts.rx_frames++;
            if (!pn_net_desc_valid(d, rx_dev.maps[2].bytes, buffer_size)) {
                counts.bad_returned++;
                continue;
            }
            uint32_t len = d.len;
            echo_copy(frame, rx_maps[2] + d.offset, len);
            pn_net_give_free(&rx, (struct pn_net_desc){.offset = d.offset});
            gave_rx = true;
            struct echo_decision decision = {.verdict = ECHO_DROP_NOT_FOR_US};
            unsigned c = 0;
            for (; c < n_clients; c++) {
                decision = echo_decide(&clients[c], frame, len);
                if (echo_verdict_replies(decision.verdict)) {
                    break;
                }
            }
            if (c == n_clients) {
                counts.ignored++;
                continue;
            }
            if (tx_free == 0) {
                counts.no_tx_buffer++;
                continue;
            }
            uint64_t phys = tx_stack[--tx_free];
            unsigned m = 2;
            while (phys - tx_dev.maps[m].phys >= tx_dev.maps[m].bytes) {
                m++;
            }
            echo_build_reply(&clients[c], decision, frame,
                             tx_maps[m] + (phys - tx_dev.maps[m].phys));
            pn_net_give_active(&tx,
                               (struct pn_net_desc){.offset = phys, .len = decision.reply_len});
            gave_tx = true;
            counts.replies_arp += decision.verdict == ECHO_REPLY_ARP;
            counts.replies_icmp += decision.verdict == ECHO_REPLY_ICMP;
            counts.replies_udp += decision.verdict == ECHO_REPLY_UDP;
            if (bad_tx_every != 0 && ++replies % bad_tx_every == 0) {
                /* Past the end of the last transmit region. */
                const struct uio_map_info *last = &tx_dev.maps[tx_dev.n_maps - 1];
                pn_net_give_active(
                    &tx, (struct pn_net_desc){.offset = last->phys + last->bytes, .len = 60});
                counts.bad_tx_injected++;
            }
        }
        if (status == PN_RING_CORRUPT) {
            counts.corrupt++;
        }
        /* Our half of the protocol: the bridge sleeps on these only if it asked. */
        if (gave_tx && pn_ring_require_signal(&tx.active)) {
            counts.bridge_wanted_tx++;
        }
        if (gave_rx && pn_ring_require_signal(&rx.free)) {
            counts.bridge_wanted_rx++;
        }
        if (echoes != 0 && counts.replies_udp >= echoes && tx_free == tx_total) {
            break;
        }
        if (!busy) {
            /*
             * Ask as a sleeping multiplexer would, so the bridge's doorbells
             * are exercised; here the "sleep" is a short nap either way.
             */
            pn_ring_request_signal(&rx.active);
            pn_ring_request_signal(&tx.free);
            if (pn_ring_consumer_empty(&rx.active) && pn_ring_consumer_empty(&tx.free)) {
                usleep(200);
            }
            pn_ring_cancel_signal(&rx.active);
            pn_ring_cancel_signal(&tx.free);
        }
    }
    print_counts(&counts, rx_bell, tx_bell);
    return 0;
}
