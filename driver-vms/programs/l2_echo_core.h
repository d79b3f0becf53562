/*
 * The logic of the layer-2 echo baselines: the UDP echo answered below
 * Linux's IP stack, for frames addressed to the echo clients' own MAC and
 * IPv4 addresses (the interface promiscuous), exactly as pinion's echo
 * clients answer them (components/net/echo_protocol.h): ARP requests for
 * their address, ICMP echo requests and UDP datagrams to their port.
 *
 * Shared by l2-echo (user space, a packet socket: the baseline the driver
 * VM's bridge is measured against) and pinion_l2_echo (inside the kernel,
 * on the device's receive path: the cost of the driver and the network
 * core alone). Freestanding, so that it builds into the kernel too.
 */
#ifndef PINION_L2_ECHO_CORE_H
#define PINION_L2_ECHO_CORE_H

#include "echo_protocol.h"

#include <stdbool.h>
#include <stdint.h>

#define L2_ECHO_MAX_IDENTITIES 4
#define L2_ECHO_DEFAULT_PORT   1235

struct l2_echo_counts {
    uint64_t received;      /* frames looked at */
    uint64_t udp_echoed;    /* UDP replies sent */
    uint64_t other_replies; /* ARP and ICMP replies sent */
    uint64_t dropped;       /* frames that earned no reply */
    uint64_t send_errors;   /* replies the device did not take */
    uint64_t bytes_copied;  /* by software on the way: what the caller adds up */
};

struct l2_echo {
    struct echo_identity identities[L2_ECHO_MAX_IDENTITIES];
    unsigned n_identities;
    struct l2_echo_counts counts;
};

/*
 * Adds an identity written "MAC@IP" (e.g. "52:54:00:00:00:02@10.0.0.2")
 * answering UDP on `port`. False when the text is malformed or there are
 * already L2_ECHO_MAX_IDENTITIES.
 */
bool l2_echo_add_identity(struct l2_echo *echo, const char *text, uint16_t port);

/*
 * Decides what the frame earns from whichever identity it is addressed to
 * (a broadcast ARP request: the identity whose address it asks for).
 * Returns that identity, or NULL for a drop (counted). Counts the frame as
 * received.
 */
const struct echo_identity *l2_echo_decide(struct l2_echo *echo, const uint8_t *frame, uint32_t len,
                                           struct echo_decision *decision);

/* Counts a reply the caller sent (or failed to send, sent == false). */
void l2_echo_count_reply(struct l2_echo *echo, struct echo_decision decision, bool sent);

/* The counts as one JSON object on one line; returns what snprintf returns. */
int l2_echo_counts_json(const struct l2_echo_counts *counts, char *buf, unsigned long size);

#endif
