/*
 * A fake guest for pinion-loadgen's engine test: a thread bound where QEMU's
 * socket netdev would listen, playing two echo clients that answer ARP, ICMP
 * echo and UDP echo as pinion's guest must, or misbehave in one chosen way.
 */
#ifndef PINION_TESTS_LOADGEN_FAKE_PEER_H
#define PINION_TESTS_LOADGEN_FAKE_PEER_H

#include "frames.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum peer_fault {
    FAULT_NONE,
    FAULT_DROP_EVERY_10TH,    /* the faulty client never echoes every tenth datagram */
    FAULT_CORRUPT_ONE,        /* one echo with a payload byte changed (UDP checksum 0) */
    FAULT_CORRUPT_CHECKSUMED, /* one echo with a payload byte changed, checksum left stale */
    FAULT_DUPLICATE_ONE,      /* one echo sent twice */
    FAULT_WRONG_PORT,         /* every echo from the echo port + 1 */
    FAULT_WRONG_ARP_MAC,      /* ARP replies name another MAC */
    FAULT_SILENT,             /* answers nothing at all */
    FAULT_BAD_PING_PAYLOAD,   /* one ping reply with its payload changed, checksum fixed */
    FAULT_STALE_AND_NOISE,    /* extra frames: a stale echo, a malformed frame, an ARP request */
    FAULT_HOLD_ONE,           /* one echo sent 600 ms late, after it was counted lost */
};

struct fake_peer {
    uint16_t qemu_port, loadgen_port;
    struct lg_endpoint clients[2];
    enum peer_fault fault;
    size_t faulty_client;
    int start_delay_ms; /* before binding: QEMU or the guest not up yet */
    atomic_bool stop;
    pthread_t thread;
    int fd;
    unsigned udp_seen[2]; /* datagrams received per client */
    unsigned pings_seen[2];
    unsigned arp_replies_from_loadgen;
    uint8_t held[LG_MAX_FRAME_LEN]; /* FAULT_HOLD_ONE's echo, until release_at */
    size_t held_len;
    struct timespec release_at;
};

/* The two echo clients it plays: 10.0.0.10 on port 1235 and 10.0.0.11 on port 1236. */
extern const struct lg_endpoint fake_peer_client0, fake_peer_client1;

/* A UDP port on 127.0.0.1 that was free a moment ago. */
uint16_t free_udp_port(void);

/* Starts the peer's thread (bound to qemu_port after start_delay_ms); stop joins it. */
void fake_peer_start(struct fake_peer *peer);
void fake_peer_stop(struct fake_peer *peer);

#endif
