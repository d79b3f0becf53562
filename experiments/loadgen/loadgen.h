/*
 * pinion-loadgen's engine: sends ARP requests, ICMP echo requests and UDP
 * datagrams as Ethernet frames to a QEMU socket netdev, and checks what the
 * guest's echo clients send back. docs/loadgen.md describes the workload.
 *
 * One UDP socket carries everything: bound to 127.0.0.1:listen_port (where
 * QEMU sends each frame the guest transmits, as one datagram), sending to
 * 127.0.0.1:qemu_port (where QEMU takes each datagram as one received frame).
 */
#ifndef PINION_LOADGEN_H
#define PINION_LOADGEN_H

#include "frames.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum lg_mode {
    LG_MODE_UDP,
    LG_MODE_ARP,
    LG_MODE_PING,
    LG_MODE_ALL, /* arp, then ping, then udp */
};

enum {
    LG_MAX_TARGETS = 64,
    LG_SOURCE_PORT_BASE = 40000, /* our UDP port towards target i is this + i */
    LG_DEFAULT_TARGET_PORT = 1235,
    LG_PING_PAYLOAD_LEN = 56, /* what ping(8) sends by default */
    LG_MAX_PINGS = 65536,     /* ICMP sequence numbers are 16 bits */
    /* A guest silent for this many timeouts in a row is not coming back: stop sending. */
    LG_STALLED_TIMEOUTS = 3,
};

/* Most datagrams one run sends: each costs a byte of bookkeeping. */
#define LG_MAX_PACKETS 1000000000ull

struct lg_config {
    enum lg_mode mode;
    uint16_t qemu_port;   /* where QEMU's netdev listens (its localaddr) */
    uint16_t listen_port; /* where QEMU sends (its udp=) */
    struct lg_endpoint self;
    struct lg_endpoint targets[LG_MAX_TARGETS];
    size_t target_count;
    uint64_t packets;        /* UDP datagrams in total, over all targets */
    uint32_t pings;          /* ICMP echo requests per target */
    uint32_t window;         /* most requests outstanding at once, over all targets */
    uint32_t size;           /* UDP payload bytes */
    uint32_t timeout_ms;     /* no echo for this long: what is outstanding is lost */
    uint32_t arp_timeout_ms; /* how long to wait for the guest's first ARP replies */
    uint32_t arp_retry_ms;   /* between ARP requests to a silent target */
    uint32_t linger_ms;      /* listening after the last phase, for late duplicates */
    uint32_t run_id;         /* in every payload: tells this run's echoes from older ones */
    FILE *progress;          /* a line per second while sending; NULL for none */
};

/* Defaults: udp mode, 1000 datagrams of 64 bytes, window 32, 5 s timeouts, our own addresses. */
void lg_config_defaults(struct lg_config *config);

/*
 * Counts of one kind of echo traffic (UDP datagrams, or ICMP echo requests)
 * for one target or all. At the end of a run, sent = echoed + lost +
 * corrupted, except that an echo too damaged to say which request it
 * answers counts as corrupted while its request also ends up lost.
 */
struct lg_echo_counts {
    uint64_t sent;
    uint64_t echoed;     /* first echo of a request, byte-identical */
    uint64_t lost;       /* no echo within the timeout */
    uint64_t corrupted;  /* an echo with the right addresses but the wrong content */
    uint64_t duplicated; /* a further echo of a request already answered */
    uint64_t late;       /* echoes that came after their request was counted lost (now echoed) */
};

enum lg_arp_result {
    LG_ARP_NOT_RUN,
    LG_ARP_OK,
    LG_ARP_NO_REPLY,
    LG_ARP_WRONG_MAC,
};

/* Why a received frame was counted as unexpected: one counter each. */
enum lg_unexpected_reason {
    LG_UNEXPECTED_MALFORMED,      /* failed to parse (the parse status says how) */
    LG_UNEXPECTED_UNKNOWN_SOURCE, /* from no target's MAC and IPv4 address */
    LG_UNEXPECTED_NOT_FOR_US,     /* wrong destination MAC, IPv4 address or UDP port */
    LG_UNEXPECTED_WRONG_PORT,     /* UDP from a target's address but not its port */
    LG_UNEXPECTED_STALE,          /* an echo of a previous run (other run id or ping id) */
    LG_UNEXPECTED_OTHER,          /* valid but nothing we asked for (an ICMP error, stray ARP) */
    LG_UNEXPECTED_FOREIGN,        /* a datagram not from QEMU's address */
    LG_UNEXPECTED_REASONS
};

const char *lg_unexpected_reason_name(enum lg_unexpected_reason reason);

struct lg_target_report {
    struct lg_echo_counts udp;
    struct lg_echo_counts ping;
    uint64_t unexpected; /* frames from this target's MAC that were none of the above */
    enum lg_arp_result arp;
    uint8_t arp_mac_seen[LG_MAC_LEN]; /* with LG_ARP_WRONG_MAC: what the reply said */
};

struct lg_report {
    struct lg_target_report targets[LG_MAX_TARGETS];
    struct lg_echo_counts udp_total;
    struct lg_echo_counts ping_total;
    uint64_t unexpected_total; /* the targets' and those from no target */
    uint64_t unexpected_by_reason[LG_UNEXPECTED_REASONS];
    uint64_t malformed_by_status[LG_PARSE_STATUSES];
    uint64_t frames_received;
    uint64_t arp_requests_answered; /* the guest asked for our MAC */
    bool arp_run, ping_run, udp_run;
    /* A phase that stopped sending after LG_STALLED_TIMEOUTS timeouts in a row without an echo. */
    bool ping_stalled, udp_stalled;
    /*
     * The host's UDP receive-buffer overflows during the run, over all
     * sockets (-1: unknown). Loss that shows here was a full socket buffer
     * on the host, most likely QEMU's, not the guest.
     */
    int64_t host_rcvbuf_drops;
    double elapsed_s; /* informational: pinion's costs are instructions, never time */
};

/*
 * Runs the configured workload. False only when it could not run at all
 * (the socket could not be bound, memory ran out): then `error` says why.
 * Everything the guest did wrong is in *report instead.
 */
bool lg_run(const struct lg_config *config, struct lg_report *report, char *error,
            size_t error_len);

/* True when everything sent was echoed intact and every ARP and ping phase that ran succeeded. */
bool lg_report_ok(const struct lg_report *report, size_t target_count);

const char *lg_mode_name(enum lg_mode mode);

/* The human-readable summary. */
void lg_report_print(FILE *out, const struct lg_config *config, const struct lg_report *report);

/* The JSON document, written whole or not at all (temporary file, then rename). */
bool lg_report_write_json(const char *path, const struct lg_config *config,
                          const struct lg_report *report, char *error, size_t error_len);

#endif
