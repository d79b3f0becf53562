/*
 * The echo client's protocol logic: Ethernet II, ARP (RFC 826), IPv4
 * (RFC 791), ICMP echo (RFC 792) and UDP (RFC 768), as far as answering
 * them needs.
 *
 * Header fields sit at even offsets of a frame that starts 8-byte aligned,
 * so they are read as aligned 16-bit words in memory order and compared
 * with constants turned into memory order at compile time (NET16): no byte
 * swapping on the path except for the two lengths and the port.
 *
 * Checksums are never summed over data. Replying swaps the source and
 * destination addresses and ports, which leaves the one's complement sums of
 * the IPv4 header and of the UDP pseudo-header unchanged (addition
 * commutes); only the words that really change (the TTL, the ICMP type) are
 * patched, incrementally as RFC 1624 eqn. 3 does it. The one sum computed
 * is the verification of the 20-byte IPv4 header.
 */
#include "echo_protocol.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NET16(x) ((uint16_t)((((x)&0xffu) << 8) | (((x) >> 8) & 0xffu)))
#else
#define NET16(x) ((uint16_t)(x))
#endif

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_ARP  0x0806u
#define IP_PROTO_ICMP  1u
#define IP_PROTO_UDP   17u

/* Offsets inside each header. */
enum {
    ETH_DST = 0,
    ETH_SRC = 6,
    ETH_TYPE = 12,

    ARP_HTYPE = 0,
    ARP_PTYPE = 2,
    ARP_LENGTHS = 4, /* hardware address length, then protocol address length */
    ARP_OPER = 6,
    ARP_SHA = 8,
    ARP_SPA = 14,
    ARP_THA = 18,
    ARP_TPA = 24,

    IP_VERSION_IHL = 0,
    IP_TOTAL_LENGTH = 2,
    IP_FLAGS_FRAGMENT = 6,
    IP_TTL = 8, /* the protocol follows in the same 16-bit word */
    IP_PROTOCOL = 9,
    IP_CHECKSUM = 10,
    IP_SRC = 12,
    IP_DST = 16,

    ICMP_TYPE_CODE = 0,
    ICMP_CHECKSUM = 2,

    UDP_SRC_PORT = 0,
    UDP_DST_PORT = 2,
    UDP_LENGTH = 4,
};

#define ARP_HTYPE_ETHERNET           1u
#define ARP_LENGTHS_ETH_IP4          0x0604u /* 6-byte MAC, 4-byte IPv4 address */
#define ARP_OPER_REQUEST             1u
#define ARP_OPER_REPLY               2u
#define IP_MORE_FRAGMENTS_AND_OFFSET 0x3fffu
#define ICMP_ECHO_REQUEST            0x0800u /* type 8, code 0 */
#define ICMP_ECHO_REPLY              0x0000u /* type 0, code 0 */

static inline uint16_t load16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, __builtin_assume_aligned(p, 2), sizeof v);
    return v;
}

static inline void store16(uint8_t *p, uint16_t v)
{
    __builtin_memcpy(__builtin_assume_aligned(p, 2), &v, sizeof v);
}

/* A big-endian field as a number, for the few that are compared by size. */
static inline uint32_t be16(const uint8_t *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap16(load16(p));
#else
    return load16(p);
#endif
}

static inline void copy_mac(uint8_t *dst, const uint8_t *src)
{
    store16(dst, load16(src));
    store16(dst + 2, load16(src + 2));
    store16(dst + 4, load16(src + 4));
}

static inline void copy_ip(uint8_t *dst, const uint8_t *src)
{
    store16(dst, load16(src));
    store16(dst + 2, load16(src + 2));
}

static inline bool same_mac(const uint8_t *a, const uint8_t *b)
{
    return ((load16(a) ^ load16(b)) | (load16(a + 2) ^ load16(b + 2)) |
            (load16(a + 4) ^ load16(b + 4))) == 0;
}

static inline bool same_ip(const uint8_t *a, const uint8_t *b)
{
    return ((load16(a) ^ load16(b)) | (load16(a + 2) ^ load16(b + 2))) == 0;
}

static inline bool is_broadcast_mac(const uint8_t *mac)
{
    return (load16(mac) & load16(mac + 2) & load16(mac + 4)) == 0xffffu;
}

/* The group bit: the first byte's least significant bit, first on the wire. */
static inline bool is_group_mac(const uint8_t *mac)
{
    return (mac[0] & 1u) != 0;
}

/*
 * Sources a host must never answer (RFC 1122 3.2.1.3): "this network"
 * (0/8), loopback (127/8), and everything from 224 up (multicast, reserved,
 * limited broadcast).
 */
static inline bool is_answerable_ip(const uint8_t *ip)
{
    return ip[0] != 0 && ip[0] != 127 && ip[0] < 224;
}

static inline uint32_t fold(uint32_t sum)
{
    sum = (sum & 0xffffu) + (sum >> 16);
    return (sum & 0xffffu) + (sum >> 16);
}

/*
 * Valid when the one's complement sum over the header, checksum included,
 * is all ones. Spelled out word by word: the loop is not unrolled at -O2.
 */
static inline bool ipv4_header_checksum_ok(const uint8_t *ip)
{
    uint32_t sum = (uint32_t)load16(ip) + load16(ip + 2) + load16(ip + 4) + load16(ip + 6) +
                   load16(ip + 8) + load16(ip + 10) + load16(ip + 12) + load16(ip + 14) +
                   load16(ip + 16) + load16(ip + 18);
    return fold(sum) == 0xffffu;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). When the new data sums to -0
 * (0xffff) that gives +0, which fails verification if the data is all zero
 * (an ICMP echo with id, sequence and payload all 0); 0xffff verifies in
 * every case, so it is written instead.
 */
static inline void checksum_replace(uint8_t *checksum, uint16_t old_word, uint16_t new_word)
{
    uint32_t data_sum =
        fold((uint16_t)~load16(checksum) + (uint32_t)(uint16_t)~old_word + new_word);
    store16(checksum, data_sum == 0xffffu ? 0xffffu : (uint16_t)~data_sum);
}

static inline struct echo_decision drop(enum echo_verdict why)
{
    return (struct echo_decision){.verdict = why, .reply_len = 0};
}

static struct echo_decision decide_arp(const struct echo_identity *self, const uint8_t *frame,
                                       uint32_t len)
{
    if (len < ECHO_ARP_FRAME) {
        return drop(ECHO_DROP_SHORT);
    }
    const uint8_t *arp = frame + ECHO_ETH_HEADER;
    if (load16(arp + ARP_HTYPE) != NET16(ARP_HTYPE_ETHERNET) ||
        load16(arp + ARP_PTYPE) != NET16(ETHERTYPE_IPV4) ||
        load16(arp + ARP_LENGTHS) != NET16(ARP_LENGTHS_ETH_IP4) ||
        load16(arp + ARP_OPER) != NET16(ARP_OPER_REQUEST)) {
        return drop(ECHO_DROP_UNSUPPORTED);
    }
    if (!same_ip(arp + ARP_TPA, self->ip)) {
        return drop(ECHO_DROP_NOT_FOR_US);
    }
    if (is_group_mac(arp + ARP_SHA)) {
        return drop(ECHO_DROP_MALFORMED);
    }
    return (struct echo_decision){.verdict = ECHO_REPLY_ARP, .reply_len = ECHO_ARP_FRAME};
}

static struct echo_decision decide_icmp(const uint8_t *icmp, uint32_t ip_payload,
                                        uint32_t reply_len)
{
    if (ip_payload < ECHO_ICMP_HEADER) {
        return drop(ECHO_DROP_SHORT);
    }
    if (load16(icmp + ICMP_TYPE_CODE) != NET16(ICMP_ECHO_REQUEST)) {
        return drop(ECHO_DROP_UNSUPPORTED);
    }
    return (struct echo_decision){.verdict = ECHO_REPLY_ICMP, .reply_len = reply_len};
}

static struct echo_decision decide_udp(const struct echo_identity *self, const uint8_t *udp,
                                       uint32_t ip_payload, uint32_t reply_len)
{
    if (ip_payload < ECHO_UDP_HEADER) {
        return drop(ECHO_DROP_SHORT);
    }
    uint32_t udp_len = be16(udp + UDP_LENGTH);
    if (udp_len < ECHO_UDP_HEADER) {
        return drop(ECHO_DROP_MALFORMED);
    }
    if (udp_len > ip_payload) {
        return drop(ECHO_DROP_SHORT);
    }
    if (be16(udp + UDP_DST_PORT) != self->udp_port) {
        return drop(ECHO_DROP_NOT_FOR_US);
    }
    if (load16(udp + UDP_SRC_PORT) == 0) {
        return drop(ECHO_DROP_MALFORMED); /* "no reply expected" (RFC 768) */
    }
    return (struct echo_decision){.verdict = ECHO_REPLY_UDP, .reply_len = reply_len};
}

static struct echo_decision decide_ipv4(const struct echo_identity *self, const uint8_t *frame,
                                        uint32_t len)
{
    if (len < ECHO_ETH_HEADER + ECHO_IPV4_HEADER) {
        return drop(ECHO_DROP_SHORT);
    }
    const uint8_t *ip = frame + ECHO_ETH_HEADER;
    uint32_t version = ip[IP_VERSION_IHL] >> 4, header_words = ip[IP_VERSION_IHL] & 0xfu;
    if (version != 4 || header_words < ECHO_IPV4_HEADER / 4) {
        return drop(ECHO_DROP_MALFORMED);
    }
    if (header_words > ECHO_IPV4_HEADER / 4) {
        /* Options: answering them properly (record route, ...) is not worth it here. */
        return drop(ECHO_DROP_UNSUPPORTED);
    }
    if (!ipv4_header_checksum_ok(ip)) {
        return drop(ECHO_DROP_BAD_CHECKSUM);
    }
    uint32_t total = be16(ip + IP_TOTAL_LENGTH);
    if (total < ECHO_IPV4_HEADER) {
        return drop(ECHO_DROP_MALFORMED);
    }
    /* Bytes past the total length are Ethernet padding, and are not echoed. */
    if (total > len - ECHO_ETH_HEADER) {
        return drop(ECHO_DROP_SHORT);
    }
    if ((load16(ip + IP_FLAGS_FRAGMENT) & NET16(IP_MORE_FRAGMENTS_AND_OFFSET)) != 0) {
        return drop(ECHO_DROP_UNSUPPORTED); /* no reassembly */
    }
    if (!same_ip(ip + IP_DST, self->ip)) {
        return drop(ECHO_DROP_NOT_FOR_US);
    }
    if (!is_answerable_ip(ip + IP_SRC)) {
        return drop(ECHO_DROP_MALFORMED);
    }
    const uint8_t *payload = ip + ECHO_IPV4_HEADER;
    uint32_t payload_len = total - ECHO_IPV4_HEADER, reply_len = ECHO_ETH_HEADER + total;
    switch (ip[IP_PROTOCOL]) {
    case IP_PROTO_UDP:
        return decide_udp(self, payload, payload_len, reply_len);
    case IP_PROTO_ICMP:
        return decide_icmp(payload, payload_len, reply_len);
    default:
        return drop(ECHO_DROP_UNSUPPORTED);
    }
}

struct echo_decision echo_decide(const struct echo_identity *self, const uint8_t *frame,
                                 uint32_t len)
{
    if (len < ECHO_ETH_HEADER) {
        return drop(ECHO_DROP_SHORT);
    }
    if (!same_mac(frame + ETH_DST, self->mac) && !is_broadcast_mac(frame + ETH_DST)) {
        return drop(ECHO_DROP_NOT_FOR_US);
    }
    if (is_group_mac(frame + ETH_SRC)) {
        return drop(ECHO_DROP_MALFORMED);
    }
    uint16_t type = load16(frame + ETH_TYPE);
    if (type == NET16(ETHERTYPE_IPV4)) {
        return decide_ipv4(self, frame, len);
    }
    if (type == NET16(ETHERTYPE_ARP)) {
        return decide_arp(self, frame, len);
    }
    return drop(ECHO_DROP_UNSUPPORTED);
}

/* RFC 826: the request's sender becomes the target; we answer as the sender. */
static void build_arp_reply(const struct echo_identity *self, const uint8_t *frame, uint8_t *reply)
{
    const uint8_t *request = frame + ECHO_ETH_HEADER;
    uint8_t *arp = reply + ECHO_ETH_HEADER;
    copy_mac(reply + ETH_DST, request + ARP_SHA);
    copy_mac(reply + ETH_SRC, self->mac);
    store16(reply + ETH_TYPE, NET16(ETHERTYPE_ARP));
    store16(arp + ARP_HTYPE, NET16(ARP_HTYPE_ETHERNET));
    store16(arp + ARP_PTYPE, NET16(ETHERTYPE_IPV4));
    store16(arp + ARP_LENGTHS, NET16(ARP_LENGTHS_ETH_IP4));
    store16(arp + ARP_OPER, NET16(ARP_OPER_REPLY));
    copy_mac(arp + ARP_SHA, self->mac);
    copy_ip(arp + ARP_SPA, self->ip);
    copy_mac(arp + ARP_THA, request + ARP_SHA);
    copy_ip(arp + ARP_TPA, request + ARP_SPA);
}

/*
 * The IPv4 part every reply shares: copied, then sent back where it came
 * from, from us, with a fresh TTL. The header checksum needs patching for
 * the TTL only: the addresses merely changed places.
 */
static void build_ipv4_reply(const struct echo_identity *self, const uint8_t *frame, uint8_t *reply,
                             uint32_t len)
{
    echo_copy(reply, frame, len);
    copy_mac(reply + ETH_DST, reply + ETH_SRC);
    copy_mac(reply + ETH_SRC, self->mac);
    uint8_t *ip = reply + ECHO_ETH_HEADER;
    copy_ip(ip + IP_DST, ip + IP_SRC);
    copy_ip(ip + IP_SRC, self->ip);
    uint16_t ttl_and_protocol = load16(ip + IP_TTL);
    ip[IP_TTL] = ECHO_REPLY_TTL;
    checksum_replace(ip + IP_CHECKSUM, ttl_and_protocol, load16(ip + IP_TTL));
}

void echo_build_reply(const struct echo_identity *self, struct echo_decision decision,
                      const uint8_t *frame, uint8_t *reply)
{
    /* Every reply rewrites its first 42 bytes; a decision promising fewer is not ours. */
    if (decision.reply_len < ECHO_ARP_FRAME) {
        return;
    }
    uint8_t *transport = reply + ECHO_ETH_HEADER + ECHO_IPV4_HEADER;
    switch (decision.verdict) {
    case ECHO_REPLY_ARP:
        build_arp_reply(self, frame, reply);
        break;
    case ECHO_REPLY_UDP: {
        build_ipv4_reply(self, frame, reply, decision.reply_len);
        /* The UDP checksum stays valid (or stays 0, "none"): the ports only changed places. */
        uint16_t source_port = load16(transport + UDP_SRC_PORT);
        store16(transport + UDP_SRC_PORT, load16(transport + UDP_DST_PORT));
        store16(transport + UDP_DST_PORT, source_port);
        break;
    }
    case ECHO_REPLY_ICMP:
        build_ipv4_reply(self, frame, reply, decision.reply_len);
        store16(transport + ICMP_TYPE_CODE, NET16(ICMP_ECHO_REPLY));
        checksum_replace(transport + ICMP_CHECKSUM, NET16(ICMP_ECHO_REQUEST),
                         NET16(ICMP_ECHO_REPLY));
        break;
    default:
        break;
    }
}

/*
 * Words that may alias the bytes of a frame: the buffers are plain bytes
 * in a shared region, and may_alias keeps word access to them defined.
 */
typedef uint64_t __attribute__((may_alias)) echo_word;

void echo_copy(uint8_t *dst, const uint8_t *src, uint32_t len)
{
    echo_word *d = __builtin_assume_aligned(dst, 8);
    const echo_word *s = __builtin_assume_aligned(src, 8);
    const echo_word *blocks_end = s + (len / 32) * 4;
    /* Four loads, then four stores: the compiler pairs them into ldp/stp. */
    while (s != blocks_end) {
        echo_word w0 = s[0], w1 = s[1], w2 = s[2], w3 = s[3];
        d[0] = w0;
        d[1] = w1;
        d[2] = w2;
        d[3] = w3;
        s += 4;
        d += 4;
    }
    uint32_t rest = len % 32;
    for (; rest >= 8; rest -= 8) {
        *d++ = *s++;
    }
    /* Constant sizes, so each piece is inlined rather than a call to the byte-wise memcpy. */
    uint8_t *dst_tail = (uint8_t *)d;
    const uint8_t *src_tail = (const uint8_t *)s;
    if (rest & 4) {
        __builtin_memcpy(dst_tail, src_tail, 4);
        dst_tail += 4;
        src_tail += 4;
    }
    if (rest & 2) {
        __builtin_memcpy(dst_tail, src_tail, 2);
        dst_tail += 2;
        src_tail += 2;
    }
    if (rest & 1) {
        *dst_tail = *src_tail;
    }
}
