/*
 * The protocol logic of the UDP echo client, apart from any queue so that it
 * is unit-tested on the host: deciding what a received Ethernet frame is and
 * whether it earns a reply (ARP request for our address, ICMP echo request,
 * UDP datagram to our port), and writing that reply into a transmit buffer.
 *
 * Freestanding: no C library, no allocation.
 *
 * Deciding and building are two steps so the client takes a transmit buffer
 * only for frames that earn a reply. The builder copies the frame into the
 * reply buffer first and then rewrites the copy only at fixed offsets below
 * the length the decision fixed, so a peer that changes the received bytes
 * between the two steps can garble the reply but never move a read or a
 * write out of bounds.
 *
 * Alignment: frames and replies must start on an 8-byte boundary (net buffers
 * do: regions are page aligned and the client requires buffer_size to be a
 * multiple of 8). Header words are then read with aligned 16-bit loads, and
 * the copy moves 8-byte words, which -mstrict-align targets need.
 */
#ifndef PINION_ECHO_PROTOCOL_H
#define PINION_ECHO_PROTOCOL_H

#include "net_parse.h"

#include <stdbool.h>
#include <stdint.h>

/* Who the client is: replies come from, and requests must be to, these. */
struct echo_identity {
    uint8_t mac[NET_MAC_BYTES];
    uint8_t ip[NET_IPV4_BYTES];
    uint16_t udp_port;
};

/* Wire sizes the decisions refer to. */
#define ECHO_ETH_HEADER  14u
#define ECHO_ARP_PACKET  28u
#define ECHO_IPV4_HEADER 20u /* without options, the only form replied to */
#define ECHO_ICMP_HEADER 8u
#define ECHO_UDP_HEADER  8u
#define ECHO_ARP_FRAME   (ECHO_ETH_HEADER + ECHO_ARP_PACKET) /* 42: an ARP reply, unpadded */
/* TTL of every IPv4 reply, the common default (Linux's net.ipv4.ip_default_ttl). */
#define ECHO_REPLY_TTL 64u

/*
 * What to do with a frame. The replies come first so that a single
 * comparison tells them from the drops.
 */
enum echo_verdict {
    ECHO_REPLY_ARP,  /* an ARP request for our IPv4 address */
    ECHO_REPLY_ICMP, /* an ICMP echo request to our address */
    ECHO_REPLY_UDP,  /* a UDP datagram to our address and port: echo it */
    /* shorter than its headers need, or than its IPv4 or UDP length says */
    ECHO_DROP_SHORT,
    /* addressed elsewhere: MAC neither ours nor broadcast, other IP, other UDP port */
    ECHO_DROP_NOT_FOR_US,
    /* a kind this client does not answer: other EtherTypes and IP protocols, ARP
     * other than an Ethernet/IPv4 request, ICMP other than echo request, IPv4
     * options, fragments */
    ECHO_DROP_UNSUPPORTED,
    /* impossible or unanswerable headers: IPv4 version or lengths inconsistent,
     * UDP length below its header, a source one must never reply to (group MAC,
     * multicast, broadcast, zero or loopback IP, UDP port 0) */
    ECHO_DROP_MALFORMED,
    ECHO_DROP_BAD_CHECKSUM, /* the IPv4 header checksum does not verify */
    ECHO_VERDICTS
};

struct echo_decision {
    enum echo_verdict verdict;
    /* Bytes of the reply (at most the frame's length); 0 for a drop. */
    uint32_t reply_len;
};

static inline bool echo_verdict_replies(enum echo_verdict verdict)
{
    return verdict <= ECHO_REPLY_UDP;
}

/*
 * Decides what the `len` bytes at `frame` (an Ethernet II frame without its
 * FCS) earn. Reads no byte at or beyond frame + len.
 */
struct echo_decision echo_decide(const struct echo_identity *self, const uint8_t *frame,
                                 uint32_t len);

/*
 * Writes the reply a decision promised into `reply`: exactly
 * decision.reply_len bytes, reading at most as many from `frame`. The two
 * buffers must not overlap.
 */
void echo_build_reply(const struct echo_identity *self, struct echo_decision decision,
                      const uint8_t *frame, uint8_t *reply);

/*
 * Copies `len` bytes between 8-byte aligned, non-overlapping buffers a word
 * at a time (the target's memcpy goes byte by byte).
 */
void echo_copy(uint8_t *dst, const uint8_t *src, uint32_t len);

#endif
