/*
 * Classifying what comes back from the guest. Every frame ends up in exactly
 * one counter: an ARP reply (or a request for our address, answered), an
 * echo (intact, corrupted or duplicated) of a UDP datagram or ping, or
 * unexpected with a reason. A frame is attributed to a target by its source
 * addresses, so that a misbehaving echo client shows in its own row.
 */
#include "engine_internal.h"
#include "payload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int target_by_mac(const struct lg_config *config, const uint8_t mac[LG_MAC_LEN])
{
    for (size_t t = 0; t < config->target_count; t++) {
        if (memcmp(config->targets[t].mac, mac, LG_MAC_LEN) == 0) {
            return (int)t;
        }
    }
    return -1;
}

/* By MAC and IP: targets may share a MAC (one host with two addresses, as a Linux guest is). */
static int target_by_source(const struct lg_config *config, const struct lg_frame *frame)
{
    for (size_t t = 0; t < config->target_count; t++) {
        if (memcmp(config->targets[t].mac, frame->eth_src, LG_MAC_LEN) == 0 &&
            config->targets[t].ip == frame->ip.src) {
            return (int)t;
        }
    }
    return -1;
}

/* Counts a frame as unexpected; `target` is -1 when it came from no target's MAC. */
static void count_unexpected(struct lg_engine *engine, int target, enum lg_unexpected_reason reason)
{
    struct lg_report *report = engine->report;
    report->unexpected_total++;
    report->unexpected_by_reason[reason]++;
    if (target >= 0) {
        report->targets[target].unexpected++;
    }
}

static bool addressed_to_us(const struct lg_config *config, const struct lg_frame *frame)
{
    return memcmp(frame->eth_dst, config->self.mac, LG_MAC_LEN) == 0 &&
           frame->ip.dst == config->self.ip;
}

/*
 * Records an echo of request `seq`. A request answered twice counts once and
 * then as duplicated; one counted lost that turns up after all becomes
 * echoed (or corrupted) and late.
 */
static void record_echo(struct lg_engine *engine, struct lg_echo_phase *phase, size_t target,
                        uint64_t seq, bool intact)
{
    struct lg_echo_counts *counts = lg_phase_counts(engine->report, phase, target);
    uint8_t *state = &phase->tracks[target].state[seq];
    switch (*state) {
    case LG_SEQ_OUTSTANDING:
        phase->outstanding--;
        break;
    case LG_SEQ_LOST:
        counts->lost--;
        counts->late++;
        break;
    default:
        counts->duplicated++;
        return;
    }
    /* A late echo is progress too: the guest is slow, not gone. */
    engine->last_progress_ms = lg_now_ms();
    if (intact) {
        counts->echoed++;
        *state = LG_SEQ_ECHOED;
    } else {
        counts->corrupted++;
        *state = LG_SEQ_CORRUPTED;
    }
}

static void handle_arp(struct lg_engine *engine, const struct lg_frame *frame)
{
    const struct lg_config *config = engine->config;
    struct lg_report *report = engine->report;
    if (frame->arp.op == LG_ARP_OP_REQUEST && frame->arp.target_ip == config->self.ip) {
        /* A guest stack that resolves its peer before answering must get an answer. */
        size_t len =
            lg_build_arp(engine->frame, sizeof engine->frame, LG_ARP_OP_REPLY, &config->self,
                         frame->arp.sender_mac, frame->arp.sender_mac, frame->arp.sender_ip);
        lg_engine_send(engine, engine->frame, len);
        report->arp_requests_answered++;
        return;
    }
    int from_mac = target_by_mac(config, frame->eth_src);
    if (frame->arp.op != LG_ARP_OP_REPLY || frame->arp.target_ip != config->self.ip ||
        !report->arp_run) {
        count_unexpected(engine, from_mac, LG_UNEXPECTED_OTHER);
        return;
    }
    for (size_t t = 0; t < config->target_count; t++) {
        if (config->targets[t].ip != frame->arp.sender_ip) {
            continue;
        }
        struct lg_target_report *target = &report->targets[t];
        if (memcmp(frame->arp.sender_mac, config->targets[t].mac, LG_MAC_LEN) == 0) {
            /* Repeated replies to our repeated requests are fine; a wrong MAC stays a failure. */
            if (target->arp != LG_ARP_WRONG_MAC) {
                target->arp = LG_ARP_OK;
            }
        } else {
            target->arp = LG_ARP_WRONG_MAC;
            memcpy(target->arp_mac_seen, frame->arp.sender_mac, LG_MAC_LEN);
        }
        return;
    }
    count_unexpected(engine, from_mac, LG_UNEXPECTED_UNKNOWN_SOURCE);
}

static void handle_udp(struct lg_engine *engine, const struct lg_frame *frame, bool checksum_ok)
{
    const struct lg_config *config = engine->config;
    int t = target_by_source(config, frame);
    if (t < 0) {
        count_unexpected(engine, target_by_mac(config, frame->eth_src),
                         LG_UNEXPECTED_UNKNOWN_SOURCE);
        return;
    }
    if (!engine->udp.started) {
        count_unexpected(engine, t, LG_UNEXPECTED_OTHER);
        return;
    }
    if (frame->udp.src_port != config->targets[t].port) {
        count_unexpected(engine, t, LG_UNEXPECTED_WRONG_PORT);
        return;
    }
    if (!addressed_to_us(config, frame) || frame->udp.dst_port != LG_SOURCE_PORT_BASE + t) {
        count_unexpected(engine, t, LG_UNEXPECTED_NOT_FOR_US);
        return;
    }
    struct lg_payload_header header;
    bool readable = lg_payload_read_header(frame->payload, frame->payload_len, &header) &&
                    header.magic == LG_PAYLOAD_MAGIC_UDP;
    if (readable && header.run_id != config->run_id) {
        count_unexpected(engine, t, LG_UNEXPECTED_STALE);
        return;
    }
    struct lg_seq_track *track = &engine->udp.tracks[t];
    if (!readable || header.target != t || header.seq >= track->next) {
        /* Right addresses, wrong content, and no telling which datagram it was. */
        engine->report->targets[t].udp.corrupted++;
        return;
    }
    lg_payload_fill(engine->expected, config->size, LG_PAYLOAD_MAGIC_UDP, config->run_id,
                    (uint16_t)t, header.seq);
    bool intact = checksum_ok && frame->payload_len == config->size &&
                  memcmp(frame->payload, engine->expected, config->size) == 0;
    record_echo(engine, &engine->udp, (size_t)t, header.seq, intact);
}

static void handle_icmp_echo(struct lg_engine *engine, const struct lg_frame *frame,
                             bool checksum_ok)
{
    const struct lg_config *config = engine->config;
    int t = target_by_source(config, frame);
    if (t < 0) {
        count_unexpected(engine, target_by_mac(config, frame->eth_src),
                         LG_UNEXPECTED_UNKNOWN_SOURCE);
        return;
    }
    if (frame->icmp.type != LG_ICMP_ECHO_REPLY || !engine->ping.started) {
        count_unexpected(engine, t, LG_UNEXPECTED_OTHER);
        return;
    }
    if (!addressed_to_us(config, frame)) {
        count_unexpected(engine, t, LG_UNEXPECTED_NOT_FOR_US);
        return;
    }
    struct lg_payload_header header;
    if (lg_payload_read_header(frame->payload, frame->payload_len, &header) &&
        header.magic == LG_PAYLOAD_MAGIC_PING && header.run_id != config->run_id) {
        count_unexpected(engine, t, LG_UNEXPECTED_STALE);
        return;
    }
    struct lg_seq_track *track = &engine->ping.tracks[t];
    if (frame->icmp.id != lg_ping_id(config, (size_t)t) || frame->icmp.seq >= track->next) {
        engine->report->targets[t].ping.corrupted++;
        return;
    }
    lg_payload_fill(engine->expected, LG_PING_PAYLOAD_LEN, LG_PAYLOAD_MAGIC_PING, config->run_id,
                    (uint16_t)t, frame->icmp.seq);
    bool intact = checksum_ok && frame->icmp.code == 0 &&
                  frame->payload_len == LG_PING_PAYLOAD_LEN &&
                  memcmp(frame->payload, engine->expected, LG_PING_PAYLOAD_LEN) == 0;
    record_echo(engine, &engine->ping, (size_t)t, frame->icmp.seq, intact);
}

/* Classifies one received Ethernet frame. */
static void handle_frame(struct lg_engine *engine, const uint8_t *data, size_t len)
{
    struct lg_frame frame;
    enum lg_parse_status status = lg_parse_frame(data, len, &frame);
    switch (status) {
    case LG_PARSE_OK:
        break;
    case LG_PARSE_BAD_UDP_CHECKSUM:
        /* Still an echo of something: let the payload say of what. */
        handle_udp(engine, &frame, false);
        return;
    case LG_PARSE_BAD_ICMP_CHECKSUM:
        if (frame.kind == LG_FRAME_ICMP_ECHO) {
            handle_icmp_echo(engine, &frame, false);
            return;
        }
        /* fall through */
    default:
        engine->report->malformed_by_status[status]++;
        count_unexpected(engine, target_by_mac(engine->config, frame.eth_src),
                         LG_UNEXPECTED_MALFORMED);
        return;
    }
    switch (frame.kind) {
    case LG_FRAME_ARP:
        handle_arp(engine, &frame);
        break;
    case LG_FRAME_UDP:
        handle_udp(engine, &frame, true);
        break;
    case LG_FRAME_ICMP_ECHO:
        handle_icmp_echo(engine, &frame, true);
        break;
    default:
        count_unexpected(engine, target_by_source(engine->config, &frame), LG_UNEXPECTED_OTHER);
        break;
    }
}

void lg_receive_pending(struct lg_engine *engine)
{
    while (!engine->failed) {
        size_t len;
        bool from_qemu;
        int got = lg_net_receive(&engine->net, engine->received, sizeof engine->received, &len,
                                 &from_qemu);
        if (got == 0) {
            return;
        }
        if (got < 0) {
            snprintf(engine->error, engine->error_len, "receiving from the socket: %s",
                     strerror(errno));
            engine->failed = true;
            return;
        }
        engine->report->frames_received++;
        if (!from_qemu) {
            count_unexpected(engine, -1, LG_UNEXPECTED_FOREIGN);
            continue;
        }
        handle_frame(engine, engine->received, len);
    }
}

void lg_receive_for(struct lg_engine *engine, int timeout_ms)
{
    if (!lg_net_wait(&engine->net, timeout_ms)) {
        snprintf(engine->error, engine->error_len, "waiting on the socket: %s", strerror(errno));
        engine->failed = true;
        return;
    }
    lg_receive_pending(engine);
}
