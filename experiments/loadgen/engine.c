/*
 * The load generator's phases: ARP until every target has answered (which
 * is also how we learn that the guest is up), then windowed ping and UDP
 * echo. Each phase sends while the window has room, waits for echoes when
 * it has not, and after --timeout without progress counts what is still
 * outstanding as lost, so that a lossy run ends.
 */
#include "engine_internal.h"
#include "payload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How often a phase prints its progress line. */
enum { PROGRESS_INTERVAL_MS = 1000 };

/* When the kernel's send buffer is full: the pause before trying again, while receiving. */
enum { SEND_BUSY_PAUSE_MS = 1 };

void lg_config_defaults(struct lg_config *config)
{
    static const uint8_t default_mac[LG_MAC_LEN] = {0x52, 0x54, 0x00, 0xff, 0x00, 0x01};
    memset(config, 0, sizeof *config);
    config->mode = LG_MODE_UDP;
    memcpy(config->self.mac, default_mac, LG_MAC_LEN);
    config->self.ip = 0x0a000001; /* 10.0.0.1 */
    config->packets = 1000;
    config->pings = 4;
    config->window = 32;
    config->size = 64;
    config->timeout_ms = 5000;
    config->arp_timeout_ms = 5000;
    config->arp_retry_ms = 200;
    config->linger_ms = 200;
}

const char *lg_mode_name(enum lg_mode mode)
{
    switch (mode) {
    case LG_MODE_UDP:
        return "udp";
    case LG_MODE_ARP:
        return "arp";
    case LG_MODE_PING:
        return "ping";
    case LG_MODE_ALL:
        return "all";
    }
    return "unknown";
}

const char *lg_unexpected_reason_name(enum lg_unexpected_reason reason)
{
    switch (reason) {
    case LG_UNEXPECTED_MALFORMED:
        return "malformed";
    case LG_UNEXPECTED_UNKNOWN_SOURCE:
        return "unknown_source";
    case LG_UNEXPECTED_NOT_FOR_US:
        return "not_for_us";
    case LG_UNEXPECTED_WRONG_PORT:
        return "wrong_source_port";
    case LG_UNEXPECTED_STALE:
        return "stale";
    case LG_UNEXPECTED_OTHER:
        return "other";
    case LG_UNEXPECTED_FOREIGN:
        return "foreign_datagram";
    case LG_UNEXPECTED_REASONS:
        break;
    }
    return "unknown";
}

uint16_t lg_ping_id(const struct lg_config *config, size_t target)
{
    /* Differs between runs, so that replies to an earlier run's pings are told apart. */
    return (uint16_t)((config->run_id ^ config->run_id >> 16) + target);
}

bool lg_engine_send(struct lg_engine *engine, const uint8_t *frame, size_t len)
{
    switch (lg_net_send(&engine->net, frame, len)) {
    case LG_SEND_OK:
        return true;
    case LG_SEND_BUSY:
        return false;
    case LG_SEND_FAILED:
        break;
    }
    snprintf(engine->error, engine->error_len, "sending to 127.0.0.1:%u (--port): %s",
             (unsigned)engine->config->qemu_port, strerror(errno));
    engine->failed = true;
    return false;
}

static void sum_counts(struct lg_echo_counts *sum, const struct lg_echo_counts *add)
{
    sum->sent += add->sent;
    sum->echoed += add->echoed;
    sum->lost += add->lost;
    sum->corrupted += add->corrupted;
    sum->duplicated += add->duplicated;
    sum->late += add->late;
}

/* The progress line of the ARP phase (phase NULL) or of an echo phase. */
static void print_progress(struct lg_engine *engine, const struct lg_echo_phase *phase)
{
    FILE *out = engine->config->progress;
    if (out == NULL) {
        return;
    }
    size_t targets = engine->config->target_count;
    struct lg_report *report = engine->report;
    if (phase == NULL) {
        size_t answered = 0;
        for (size_t t = 0; t < targets; t++) {
            answered += report->targets[t].arp != LG_ARP_NO_REPLY;
        }
        fprintf(out, "arp: %zu of %zu targets answered\n", answered, targets);
        fflush(out);
        return;
    }
    struct lg_echo_counts sum = {0};
    for (size_t t = 0; t < targets; t++) {
        sum_counts(&sum, lg_phase_counts(report, phase, t));
    }
    fprintf(out, "%ssent %llu echoed %llu lost %llu", phase->is_ping ? "ping: " : "",
            (unsigned long long)sum.sent, (unsigned long long)sum.echoed,
            (unsigned long long)sum.lost);
    if (sum.corrupted > 0) {
        fprintf(out, " corrupted %llu", (unsigned long long)sum.corrupted);
    }
    if (sum.duplicated > 0) {
        fprintf(out, " duplicated %llu", (unsigned long long)sum.duplicated);
    }
    fputc('\n', out);
    fflush(out);
}

/*
 * Sends ARP requests to every silent target every arp_retry_ms until all
 * have answered or arp_timeout_ms has passed. A target that never answers
 * stays LG_ARP_NO_REPLY; later phases still run, and its loss shows there.
 */
static void run_arp_phase(struct lg_engine *engine)
{
    const struct lg_config *config = engine->config;
    struct lg_report *report = engine->report;
    report->arp_run = true;
    for (size_t t = 0; t < config->target_count; t++) {
        report->targets[t].arp = LG_ARP_NO_REPLY;
    }
    uint64_t start = lg_now_ms();
    uint64_t deadline = start + config->arp_timeout_ms;
    uint64_t next_request = start;
    uint64_t next_print = start + PROGRESS_INTERVAL_MS;
    for (;;) {
        size_t silent = 0;
        for (size_t t = 0; t < config->target_count; t++) {
            silent += report->targets[t].arp == LG_ARP_NO_REPLY;
        }
        uint64_t now = lg_now_ms();
        if (silent == 0 || now >= deadline || engine->failed) {
            break;
        }
        if (now >= next_request) {
            for (size_t t = 0; t < config->target_count && !engine->failed; t++) {
                if (report->targets[t].arp == LG_ARP_NO_REPLY) {
                    size_t len = lg_build_arp_request(engine->frame, sizeof engine->frame,
                                                      &config->self, config->targets[t].ip);
                    /* A request the kernel had no room for is simply sent at the next retry. */
                    lg_engine_send(engine, engine->frame, len);
                }
            }
            next_request = now + config->arp_retry_ms;
        }
        if (now >= next_print) {
            print_progress(engine, NULL);
            next_print = now + PROGRESS_INTERVAL_MS;
        }
        uint64_t wake = next_request < deadline ? next_request : deadline;
        lg_receive_for(engine, (int)(wake - now));
    }
    if (!engine->failed) {
        print_progress(engine, NULL);
    }
}

/* Splits `total` requests round-robin over the targets and allocates their bookkeeping. */
static bool start_echo_phase(struct lg_engine *engine, struct lg_echo_phase *phase, uint64_t total)
{
    size_t targets = engine->config->target_count;
    phase->total = total;
    for (size_t t = 0; t < targets; t++) {
        struct lg_seq_track *track = &phase->tracks[t];
        track->quota = total / targets + (t < total % targets ? 1 : 0);
        track->state = calloc(track->quota > 0 ? track->quota : 1, 1);
        if (track->state == NULL) {
            snprintf(engine->error, engine->error_len,
                     "out of memory for %llu requests' bookkeeping",
                     (unsigned long long)track->quota);
            engine->failed = true;
            return false;
        }
    }
    phase->started = true;
    return true;
}

static void free_echo_phase(struct lg_echo_phase *phase)
{
    for (size_t t = 0; t < LG_MAX_TARGETS; t++) {
        free(phase->tracks[t].state);
        phase->tracks[t].state = NULL;
    }
}

/* After --timeout without progress: whatever is still outstanding will not come. */
static void declare_outstanding_lost(struct lg_engine *engine, struct lg_echo_phase *phase)
{
    for (size_t t = 0; t < engine->config->target_count; t++) {
        struct lg_seq_track *track = &phase->tracks[t];
        struct lg_echo_counts *counts = lg_phase_counts(engine->report, phase, t);
        for (uint64_t seq = track->low; seq < track->next; seq++) {
            if (track->state[seq] == LG_SEQ_OUTSTANDING) {
                track->state[seq] = LG_SEQ_LOST;
                counts->lost++;
            }
        }
        track->low = track->next;
    }
    phase->outstanding = 0;
}

static size_t build_udp_request(struct lg_engine *engine, size_t t, uint64_t seq)
{
    const struct lg_config *config = engine->config;
    struct lg_endpoint self = config->self;
    self.port = (uint16_t)(LG_SOURCE_PORT_BASE + t);
    lg_payload_fill(engine->expected, config->size, LG_PAYLOAD_MAGIC_UDP, config->run_id,
                    (uint16_t)t, (uint32_t)seq);
    return lg_build_udp(engine->frame, sizeof engine->frame, &self, &config->targets[t],
                        engine->expected, config->size);
}

static size_t build_ping_request(struct lg_engine *engine, size_t t, uint64_t seq)
{
    const struct lg_config *config = engine->config;
    lg_payload_fill(engine->expected, LG_PING_PAYLOAD_LEN, LG_PAYLOAD_MAGIC_PING, config->run_id,
                    (uint16_t)t, (uint32_t)seq);
    return lg_build_icmp_echo(engine->frame, sizeof engine->frame, LG_ICMP_ECHO_REQUEST,
                              &config->self, &config->targets[t], lg_ping_id(config, t),
                              (uint16_t)seq, engine->expected, LG_PING_PAYLOAD_LEN);
}

/*
 * The windowed loop shared by ping and UDP echo: round-robin over the
 * targets, at most config->window requests outstanding over all of them.
 */
static void run_echo_phase(struct lg_engine *engine, struct lg_echo_phase *phase,
                           size_t (*build)(struct lg_engine *, size_t, uint64_t))
{
    const struct lg_config *config = engine->config;
    size_t targets = config->target_count;
    uint64_t now = lg_now_ms();
    uint64_t next_print = now + PROGRESS_INTERVAL_MS;
    engine->last_progress_ms = now;
    unsigned silent_timeouts = 0;
    uint64_t progress_at_last_timeout = 0;
    while ((phase->sent < phase->total || phase->outstanding > 0) && !engine->failed) {
        bool busy = false;
        while (phase->sent < phase->total && phase->outstanding < config->window && !busy) {
            size_t t = (size_t)(phase->sent % targets);
            struct lg_seq_track *track = &phase->tracks[t];
            size_t len = build(engine, t, track->next);
            if (!lg_engine_send(engine, engine->frame, len)) {
                busy = !engine->failed;
                break;
            }
            track->state[track->next++] = LG_SEQ_OUTSTANDING;
            lg_phase_counts(engine->report, phase, t)->sent++;
            phase->sent++;
            phase->outstanding++;
            /* Keep echoes flowing out of our receive buffer during long bursts. */
            if (phase->sent % 64 == 0) {
                lg_receive_pending(engine);
            }
        }
        if (engine->failed) {
            break;
        }
        now = lg_now_ms();
        if (now >= next_print) {
            print_progress(engine, phase);
            next_print = now + PROGRESS_INTERVAL_MS;
        }
        if (phase->outstanding > 0 && now - engine->last_progress_ms >= config->timeout_ms) {
            declare_outstanding_lost(engine, phase);
            bool echo_since = engine->last_progress_ms != progress_at_last_timeout;
            silent_timeouts = echo_since ? 1 : silent_timeouts + 1;
            engine->last_progress_ms = progress_at_last_timeout = now;
            if (silent_timeouts >= LG_STALLED_TIMEOUTS) {
                *(phase->is_ping ? &engine->report->ping_stalled : &engine->report->udp_stalled) =
                    true;
                break;
            }
            continue;
        }
        /* Here the window is full, everything is sent, or the kernel had no room. */
        if (busy) {
            lg_receive_for(engine, SEND_BUSY_PAUSE_MS);
        } else {
            uint64_t loss_at = engine->last_progress_ms + config->timeout_ms;
            uint64_t wake = loss_at < next_print ? loss_at : next_print;
            lg_receive_for(engine, wake > now ? (int)(wake - now) : 0);
        }
    }
    if (!engine->failed) {
        print_progress(engine, phase);
    }
}

bool lg_run(const struct lg_config *config, struct lg_report *report, char *error, size_t error_len)
{
    memset(report, 0, sizeof *report);
    struct lg_engine *engine = calloc(1, sizeof *engine);
    if (engine == NULL) {
        snprintf(error, error_len, "out of memory");
        return false;
    }
    engine->config = config;
    engine->report = report;
    engine->error = error;
    engine->error_len = error_len;
    if (!lg_net_open(&engine->net, config->listen_port, config->qemu_port, error, error_len)) {
        free(engine);
        return false;
    }
    uint64_t start = lg_now_ms();
    uint64_t drops_before = 0, drops_after = 0;
    bool drops_known = lg_host_udp_rcvbuf_errors(&drops_before);
    run_arp_phase(engine);
    bool ping = config->mode == LG_MODE_PING || config->mode == LG_MODE_ALL;
    bool udp = config->mode == LG_MODE_UDP || config->mode == LG_MODE_ALL;
    engine->ping.is_ping = true;
    if (ping && !engine->failed &&
        start_echo_phase(engine, &engine->ping, (uint64_t)config->pings * config->target_count)) {
        report->ping_run = true;
        run_echo_phase(engine, &engine->ping, build_ping_request);
    }
    if (udp && !engine->failed && start_echo_phase(engine, &engine->udp, config->packets)) {
        report->udp_run = true;
        run_echo_phase(engine, &engine->udp, build_udp_request);
    }
    /* Late duplicates of the last echoes would otherwise go unseen. */
    uint64_t linger_end = lg_now_ms() + config->linger_ms;
    for (uint64_t now = lg_now_ms(); now < linger_end && !engine->failed; now = lg_now_ms()) {
        lg_receive_for(engine, (int)(linger_end - now));
    }
    report->elapsed_s = (double)(lg_now_ms() - start) / 1000.0;
    drops_known = drops_known && lg_host_udp_rcvbuf_errors(&drops_after);
    report->host_rcvbuf_drops = drops_known ? (int64_t)(drops_after - drops_before) : -1;
    for (size_t t = 0; t < config->target_count; t++) {
        sum_counts(&report->udp_total, &report->targets[t].udp);
        sum_counts(&report->ping_total, &report->targets[t].ping);
    }
    bool ok = !engine->failed;
    lg_net_close(&engine->net);
    free_echo_phase(&engine->udp);
    free_echo_phase(&engine->ping);
    free(engine);
    return ok;
}

bool lg_report_ok(const struct lg_report *report, size_t target_count)
{
    if (report->ping_stalled || report->udp_stalled) {
        return false;
    }
    for (size_t t = 0; t < target_count; t++) {
        const struct lg_target_report *target = &report->targets[t];
        if (report->arp_run && target->arp != LG_ARP_OK) {
            return false;
        }
    }
    const struct lg_echo_counts *phases[] = {&report->ping_total, &report->udp_total};
    for (size_t p = 0; p < 2; p++) {
        const struct lg_echo_counts *c = phases[p];
        if (c->echoed != c->sent || c->lost || c->corrupted || c->duplicated) {
            return false;
        }
    }
    return true;
}
