/*
 * What the engine's two halves share: engine.c drives the phases (what to
 * send, when to give up), receive.c classifies every frame that comes back.
 */
#ifndef PINION_LOADGEN_ENGINE_INTERNAL_H
#define PINION_LOADGEN_ENGINE_INTERNAL_H

#include "loadgen.h"
#include "net.h"

/* Where one request stands. */
enum lg_seq_state {
    LG_SEQ_UNSENT,
    LG_SEQ_OUTSTANDING,
    LG_SEQ_ECHOED,
    LG_SEQ_CORRUPTED,
    LG_SEQ_LOST,
};

/* One target's requests of one kind, numbered from 0. */
struct lg_seq_track {
    uint8_t *state; /* enum lg_seq_state per sequence number, `quota` of them */
    uint64_t quota; /* how many this target is sent */
    uint64_t next;  /* the next sequence number to send */
    uint64_t low;   /* every request below this is answered or lost */
};

/* A windowed request/echo workload: the UDP echo, or ping. */
struct lg_echo_phase {
    bool is_ping;
    bool started; /* tracks allocated: echoes are recognised from then on */
    struct lg_seq_track tracks[LG_MAX_TARGETS];
    uint64_t total;       /* requests over all targets */
    uint64_t sent;        /* so far, over all targets */
    uint64_t outstanding; /* sent, neither answered nor lost */
};

struct lg_engine {
    const struct lg_config *config;
    struct lg_report *report;
    struct lg_net net;
    struct lg_echo_phase udp, ping;
    uint64_t last_progress_ms; /* the last time an echo freed a window slot */
    uint8_t frame[LG_MAX_FRAME_LEN];
    uint8_t expected[LG_MAX_UDP_PAYLOAD];
    uint8_t received[65536]; /* a UDP datagram's largest size */
    char *error;
    size_t error_len;
    bool failed; /* a socket error ended the run: `error` says which */
};

/* A target's counters for a phase's kind of request. */
static inline struct lg_echo_counts *
lg_phase_counts(struct lg_report *report, const struct lg_echo_phase *phase, size_t target)
{
    return phase->is_ping ? &report->targets[target].ping : &report->targets[target].udp;
}

/* Takes every datagram pending on the socket and classifies it. */
void lg_receive_pending(struct lg_engine *engine);

/* Waits up to timeout_ms for a datagram, then takes everything pending. */
void lg_receive_for(struct lg_engine *engine, int timeout_ms);

/* Sends one frame; false when the kernel has no room just now. A hard failure sets engine->failed.
 */
bool lg_engine_send(struct lg_engine *engine, const uint8_t *frame, size_t len);

/* The ICMP identifier of this run's pings to a target. */
uint16_t lg_ping_id(const struct lg_config *config, size_t target);

#endif
