/*
 * Ethernet II frames carrying ARP (RFC 826), IPv4 (RFC 791), ICMP echo
 * (RFC 792) and UDP (RFC 768): building them and taking them apart, with the
 * Internet checksum. Only what pinion's echo workload uses: no VLAN tags, no
 * fragments, IPv4 options skipped but never written.
 *
 * This file knows nothing of sockets, so the load generator's checks can be
 * tested byte by byte and the same code could be built for a guest.
 * Addresses are held in network order as byte arrays (MACs) and in host
 * order as integers (IPv4 addresses, ports).
 */
#ifndef PINION_LOADGEN_FRAMES_H
#define PINION_LOADGEN_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LG_MAC_LEN = 6,
    LG_ETH_HEADER_LEN = 14,
    LG_ARP_LEN = 28,
    LG_IPV4_HEADER_LEN = 20, /* without options, as every frame built here */
    LG_UDP_HEADER_LEN = 8,
    LG_ICMP_ECHO_HEADER_LEN = 8,
    /* The largest IPv4 packet a standard Ethernet frame carries. */
    LG_ETH_MTU = 1500,
    LG_MAX_FRAME_LEN = LG_ETH_HEADER_LEN + LG_ETH_MTU,
    LG_MAX_UDP_PAYLOAD = LG_ETH_MTU - LG_IPV4_HEADER_LEN - LG_UDP_HEADER_LEN,
    LG_MAX_ICMP_PAYLOAD = LG_ETH_MTU - LG_IPV4_HEADER_LEN - LG_ICMP_ECHO_HEADER_LEN,
};

enum {
    LG_ETHERTYPE_IPV4 = 0x0800,
    LG_ETHERTYPE_ARP = 0x0806,
    LG_IP_PROTO_ICMP = 1,
    LG_IP_PROTO_UDP = 17,
    LG_ARP_OP_REQUEST = 1,
    LG_ARP_OP_REPLY = 2,
    LG_ICMP_ECHO_REPLY = 0,
    LG_ICMP_ECHO_REQUEST = 8,
};

/* One end of a conversation: the addresses a frame carries for it. */
struct lg_endpoint {
    uint8_t mac[LG_MAC_LEN];
    uint32_t ip;
    uint16_t port; /* UDP only */
};

enum lg_frame_kind {
    LG_FRAME_ARP,
    LG_FRAME_UDP,
    LG_FRAME_ICMP_ECHO, /* an echo request or reply */
    LG_FRAME_ICMP_OTHER,
    LG_FRAME_IPV4_OTHER, /* a valid IPv4 packet of another protocol */
};

/* A frame taken apart. Payload pointers point into the frame that was parsed. */
struct lg_frame {
    enum lg_frame_kind kind;
    uint8_t eth_dst[LG_MAC_LEN];
    uint8_t eth_src[LG_MAC_LEN];
    uint16_t ethertype;
    struct {
        uint16_t op;
        uint8_t sender_mac[LG_MAC_LEN];
        uint32_t sender_ip;
        uint8_t target_mac[LG_MAC_LEN];
        uint32_t target_ip;
    } arp;
    struct {
        uint32_t src, dst;
        uint8_t protocol;
        uint8_t ttl;
    } ip;
    struct {
        uint16_t src_port, dst_port;
        uint16_t checksum; /* 0: the sender computed none */
    } udp;
    struct {
        uint8_t type, code;
        uint16_t id, seq; /* echo messages only */
    } icmp;
    const uint8_t *payload; /* UDP or ICMP echo data */
    size_t payload_len;
};

/*
 * Why a frame was rejected. Every check is one value, so that a test (and a
 * reader of the load generator's counts) can tell which rule a frame broke.
 */
enum lg_parse_status {
    LG_PARSE_OK,
    LG_PARSE_SHORT_ETHERNET,    /* fewer than 14 bytes */
    LG_PARSE_UNKNOWN_ETHERTYPE, /* neither IPv4 nor ARP (VLAN tags included) */
    LG_PARSE_BAD_ARP,           /* truncated, or not Ethernet/IPv4 ARP */
    LG_PARSE_SHORT_IPV4,        /* fewer bytes than a minimal IPv4 header */
    LG_PARSE_BAD_IP_VERSION,
    LG_PARSE_BAD_IP_HEADER_LEN, /* IHL below 5 or beyond the packet */
    LG_PARSE_BAD_IP_TOTAL_LEN,  /* shorter than its header or longer than the frame */
    LG_PARSE_BAD_IP_CHECKSUM,
    LG_PARSE_IP_FRAGMENT,      /* more fragments, or an offset: never reassembled */
    LG_PARSE_TRUNCATED_UDP,    /* UDP length below 8 or beyond the IP payload */
    LG_PARSE_BAD_UDP_CHECKSUM, /* a non-zero checksum that does not verify */
    LG_PARSE_TRUNCATED_ICMP,
    LG_PARSE_BAD_ICMP_CHECKSUM,
    LG_PARSE_STATUSES /* how many there are */
};

/* A short lower-case name for a status ("bad IPv4 header checksum"). */
const char *lg_parse_status_text(enum lg_parse_status status);

/*
 * Takes apart an Ethernet frame. Bytes after the IPv4 total length are
 * Ethernet padding and ignored. Returns LG_PARSE_OK and fills *out, or why
 * not: then *out holds whatever was read before the failing check, except
 * that a bad UDP or ICMP checksum comes with the frame complete, so that the
 * caller can still tell which datagram was damaged.
 */
enum lg_parse_status lg_parse_frame(const uint8_t *frame, size_t len, struct lg_frame *out);

/*
 * Builders: each writes one complete frame into `frame` (at least
 * `capacity` bytes) and returns its length, or 0 when it would not fit.
 * IPv4 frames get a fresh header checksum, ICMP its checksum, UDP its
 * checksum over the pseudo header. No padding to 60 bytes: QEMU passes
 * frames of any length.
 */
size_t lg_build_arp(uint8_t *frame, size_t capacity, uint16_t op, const struct lg_endpoint *sender,
                    const uint8_t eth_dst[LG_MAC_LEN], const uint8_t target_mac[LG_MAC_LEN],
                    uint32_t target_ip);

/* A broadcast "who has target_ip, tell sender" request. */
size_t lg_build_arp_request(uint8_t *frame, size_t capacity, const struct lg_endpoint *sender,
                            uint32_t target_ip);

size_t lg_build_udp(uint8_t *frame, size_t capacity, const struct lg_endpoint *src,
                    const struct lg_endpoint *dst, const uint8_t *payload, size_t payload_len);

/* An ICMP echo request (LG_ICMP_ECHO_REQUEST) or reply (LG_ICMP_ECHO_REPLY). */
size_t lg_build_icmp_echo(uint8_t *frame, size_t capacity, uint8_t type,
                          const struct lg_endpoint *src, const struct lg_endpoint *dst, uint16_t id,
                          uint16_t seq, const uint8_t *payload, size_t payload_len);

/*
 * The Internet checksum (RFC 1071): the one's complement of the one's
 * complement sum of 16-bit big-endian words, an odd last byte padded with
 * zero. lg_checksum_add accumulates (start with 0), lg_checksum_finish folds
 * and complements. A region that already holds its checksum sums to 0.
 */
uint32_t lg_checksum_add(uint32_t sum, const uint8_t *data, size_t len);
uint16_t lg_checksum_finish(uint32_t sum);
uint16_t lg_internet_checksum(const uint8_t *data, size_t len);

/* The UDP checksum over the pseudo header and `udp` (header and data, checksum field as is). */
uint16_t lg_udp_checksum(uint32_t src_ip, uint32_t dst_ip, const uint8_t *udp, size_t udp_len);

/* Address text: "52:54:00:12:34:56" (also with '-') and dotted quads; false on anything else. */
bool lg_parse_mac(const char *text, uint8_t mac[LG_MAC_LEN]);
bool lg_parse_ipv4(const char *text, uint32_t *ip);

enum { LG_MAC_TEXT_LEN = 18, LG_IPV4_TEXT_LEN = 16 };
void lg_format_mac(const uint8_t mac[LG_MAC_LEN], char text[LG_MAC_TEXT_LEN]);
void lg_format_ipv4(uint32_t ip, char text[LG_IPV4_TEXT_LEN]);

extern const uint8_t lg_broadcast_mac[LG_MAC_LEN];

#endif
