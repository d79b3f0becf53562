/*
 * Building and parsing Ethernet/ARP/IPv4/ICMP/UDP frames. Every multi-byte
 * field is read and written byte by byte in network order, so the code does
 * not care about the host's byte order or alignment.
 */
#include "frames.h"

#include "byteorder.h"

#include <string.h>

const uint8_t lg_broadcast_mac[LG_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

enum {
    IP_DEFAULT_TTL = 64,
    IP_FLAG_MORE_FRAGMENTS = 0x2000,
    IP_FRAGMENT_OFFSET_MASK = 0x1fff,
    ARP_HTYPE_ETHERNET = 1,
};

uint32_t lg_checksum_add(uint32_t sum, const uint8_t *data, size_t len)
{
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        sum += lg_get16(data + i);
        /* Fold as we go so that any length fits in 32 bits. */
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (i < len) {
        sum += (uint32_t)data[i] << 8;
    }
    return sum;
}

uint16_t lg_checksum_finish(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

uint16_t lg_internet_checksum(const uint8_t *data, size_t len)
{
    return lg_checksum_finish(lg_checksum_add(0, data, len));
}

uint16_t lg_udp_checksum(uint32_t src_ip, uint32_t dst_ip, const uint8_t *udp, size_t udp_len)
{
    uint8_t pseudo[12];
    lg_put32(pseudo, src_ip);
    lg_put32(pseudo + 4, dst_ip);
    pseudo[8] = 0;
    pseudo[9] = LG_IP_PROTO_UDP;
    lg_put16(pseudo + 10, (uint16_t)udp_len);
    return lg_checksum_finish(
        lg_checksum_add(lg_checksum_add(0, pseudo, sizeof pseudo), udp, udp_len));
}

static void put_ethernet(uint8_t *frame, const uint8_t dst[LG_MAC_LEN],
                         const uint8_t src[LG_MAC_LEN], uint16_t ethertype)
{
    memcpy(frame, dst, LG_MAC_LEN);
    memcpy(frame + LG_MAC_LEN, src, LG_MAC_LEN);
    lg_put16(frame + 2 * LG_MAC_LEN, ethertype);
}

size_t lg_build_arp(uint8_t *frame, size_t capacity, uint16_t op, const struct lg_endpoint *sender,
                    const uint8_t eth_dst[LG_MAC_LEN], const uint8_t target_mac[LG_MAC_LEN],
                    uint32_t target_ip)
{
    size_t len = LG_ETH_HEADER_LEN + LG_ARP_LEN;
    if (capacity < len) {
        return 0;
    }
    put_ethernet(frame, eth_dst, sender->mac, LG_ETHERTYPE_ARP);
    uint8_t *arp = frame + LG_ETH_HEADER_LEN;
    lg_put16(arp, ARP_HTYPE_ETHERNET);
    lg_put16(arp + 2, LG_ETHERTYPE_IPV4);
    arp[4] = LG_MAC_LEN;
    arp[5] = 4;
    lg_put16(arp + 6, op);
    memcpy(arp + 8, sender->mac, LG_MAC_LEN);
    lg_put32(arp + 14, sender->ip);
    memcpy(arp + 18, target_mac, LG_MAC_LEN);
    lg_put32(arp + 24, target_ip);
    return len;
}

size_t lg_build_arp_request(uint8_t *frame, size_t capacity, const struct lg_endpoint *sender,
                            uint32_t target_ip)
{
    static const uint8_t unknown_mac[LG_MAC_LEN] = {0};
    return lg_build_arp(frame, capacity, LG_ARP_OP_REQUEST, sender, lg_broadcast_mac, unknown_mac,
                        target_ip);
}

/* Writes Ethernet and IPv4 headers for `ip_payload_len` bytes of `protocol`; returns the IPv4
 * header. */
static uint8_t *put_ipv4(uint8_t *frame, const struct lg_endpoint *src,
                         const struct lg_endpoint *dst, uint8_t protocol, size_t ip_payload_len)
{
    put_ethernet(frame, dst->mac, src->mac, LG_ETHERTYPE_IPV4);
    uint8_t *ip = frame + LG_ETH_HEADER_LEN;
    ip[0] = 0x45; /* version 4, five 32-bit words of header */
    ip[1] = 0;    /* DSCP and ECN */
    lg_put16(ip + 2, (uint16_t)(LG_IPV4_HEADER_LEN + ip_payload_len));
    lg_put16(ip + 4, 0); /* identification: unused, nothing is ever fragmented */
    lg_put16(ip + 6, 0);
    ip[8] = IP_DEFAULT_TTL;
    ip[9] = protocol;
    lg_put16(ip + 10, 0);
    lg_put32(ip + 12, src->ip);
    lg_put32(ip + 16, dst->ip);
    lg_put16(ip + 10, lg_internet_checksum(ip, LG_IPV4_HEADER_LEN));
    return ip;
}

size_t lg_build_udp(uint8_t *frame, size_t capacity, const struct lg_endpoint *src,
                    const struct lg_endpoint *dst, const uint8_t *payload, size_t payload_len)
{
    size_t udp_len = LG_UDP_HEADER_LEN + payload_len;
    size_t len = LG_ETH_HEADER_LEN + LG_IPV4_HEADER_LEN + udp_len;
    if (payload_len > LG_MAX_UDP_PAYLOAD || capacity < len) {
        return 0;
    }
    uint8_t *udp = put_ipv4(frame, src, dst, LG_IP_PROTO_UDP, udp_len) + LG_IPV4_HEADER_LEN;
    lg_put16(udp, src->port);
    lg_put16(udp + 2, dst->port);
    lg_put16(udp + 4, (uint16_t)udp_len);
    lg_put16(udp + 6, 0);
    if (payload_len > 0) {
        memcpy(udp + LG_UDP_HEADER_LEN, payload, payload_len);
    }
    uint16_t checksum = lg_udp_checksum(src->ip, dst->ip, udp, udp_len);
    /* RFC 768: a computed 0 is sent as all ones, since 0 means "no checksum". */
    lg_put16(udp + 6, checksum == 0 ? 0xffff : checksum);
    return len;
}

size_t lg_build_icmp_echo(uint8_t *frame, size_t capacity, uint8_t type,
                          const struct lg_endpoint *src, const struct lg_endpoint *dst, uint16_t id,
                          uint16_t seq, const uint8_t *payload, size_t payload_len)
{
    size_t icmp_len = LG_ICMP_ECHO_HEADER_LEN + payload_len;
    size_t len = LG_ETH_HEADER_LEN + LG_IPV4_HEADER_LEN + icmp_len;
    if (payload_len > LG_MAX_ICMP_PAYLOAD || capacity < len) {
        return 0;
    }
    uint8_t *icmp = put_ipv4(frame, src, dst, LG_IP_PROTO_ICMP, icmp_len) + LG_IPV4_HEADER_LEN;
    icmp[0] = type;
    icmp[1] = 0;
    lg_put16(icmp + 2, 0);
    lg_put16(icmp + 4, id);
    lg_put16(icmp + 6, seq);
    if (payload_len > 0) {
        memcpy(icmp + LG_ICMP_ECHO_HEADER_LEN, payload, payload_len);
    }
    lg_put16(icmp + 2, lg_internet_checksum(icmp, icmp_len));
    return len;
}

static enum lg_parse_status parse_arp(const uint8_t *arp, size_t len, struct lg_frame *out)
{
    if (len < LG_ARP_LEN || lg_get16(arp) != ARP_HTYPE_ETHERNET ||
        lg_get16(arp + 2) != LG_ETHERTYPE_IPV4 || arp[4] != LG_MAC_LEN || arp[5] != 4) {
        return LG_PARSE_BAD_ARP;
    }
    out->kind = LG_FRAME_ARP;
    out->arp.op = lg_get16(arp + 6);
    memcpy(out->arp.sender_mac, arp + 8, LG_MAC_LEN);
    out->arp.sender_ip = lg_get32(arp + 14);
    memcpy(out->arp.target_mac, arp + 18, LG_MAC_LEN);
    out->arp.target_ip = lg_get32(arp + 24);
    return LG_PARSE_OK;
}

static enum lg_parse_status parse_udp(const uint8_t *udp, size_t len, struct lg_frame *out)
{
    if (len < LG_UDP_HEADER_LEN) {
        return LG_PARSE_TRUNCATED_UDP;
    }
    size_t udp_len = lg_get16(udp + 4);
    if (udp_len < LG_UDP_HEADER_LEN || udp_len > len) {
        return LG_PARSE_TRUNCATED_UDP;
    }
    out->udp.src_port = lg_get16(udp);
    out->udp.dst_port = lg_get16(udp + 2);
    out->udp.checksum = lg_get16(udp + 6);
    out->kind = LG_FRAME_UDP;
    out->payload = udp + LG_UDP_HEADER_LEN;
    out->payload_len = udp_len - LG_UDP_HEADER_LEN;
    if (out->udp.checksum != 0 && lg_udp_checksum(out->ip.src, out->ip.dst, udp, udp_len) != 0) {
        return LG_PARSE_BAD_UDP_CHECKSUM;
    }
    return LG_PARSE_OK;
}

static enum lg_parse_status parse_icmp(const uint8_t *icmp, size_t len, struct lg_frame *out)
{
    if (len < LG_ICMP_ECHO_HEADER_LEN) {
        return LG_PARSE_TRUNCATED_ICMP;
    }
    out->icmp.type = icmp[0];
    out->icmp.code = icmp[1];
    bool echo = icmp[0] == LG_ICMP_ECHO_REQUEST || icmp[0] == LG_ICMP_ECHO_REPLY;
    out->kind = echo ? LG_FRAME_ICMP_ECHO : LG_FRAME_ICMP_OTHER;
    out->icmp.id = lg_get16(icmp + 4);
    out->icmp.seq = lg_get16(icmp + 6);
    out->payload = icmp + LG_ICMP_ECHO_HEADER_LEN;
    out->payload_len = len - LG_ICMP_ECHO_HEADER_LEN;
    if (lg_internet_checksum(icmp, len) != 0) {
        return LG_PARSE_BAD_ICMP_CHECKSUM;
    }
    return LG_PARSE_OK;
}

static enum lg_parse_status parse_ipv4(const uint8_t *ip, size_t len, struct lg_frame *out)
{
    if (len < LG_IPV4_HEADER_LEN) {
        return LG_PARSE_SHORT_IPV4;
    }
    if (ip[0] >> 4 != 4) {
        return LG_PARSE_BAD_IP_VERSION;
    }
    size_t header_len = (size_t)(ip[0] & 0x0f) * 4;
    if (header_len < LG_IPV4_HEADER_LEN || header_len > len) {
        return LG_PARSE_BAD_IP_HEADER_LEN;
    }
    size_t total_len = lg_get16(ip + 2);
    if (total_len < header_len || total_len > len) {
        return LG_PARSE_BAD_IP_TOTAL_LEN;
    }
    if (lg_internet_checksum(ip, header_len) != 0) {
        return LG_PARSE_BAD_IP_CHECKSUM;
    }
    uint16_t fragment = lg_get16(ip + 6);
    if ((fragment & (IP_FLAG_MORE_FRAGMENTS | IP_FRAGMENT_OFFSET_MASK)) != 0) {
        return LG_PARSE_IP_FRAGMENT;
    }
    out->ip.ttl = ip[8];
    out->ip.protocol = ip[9];
    out->ip.src = lg_get32(ip + 12);
    out->ip.dst = lg_get32(ip + 16);
    const uint8_t *data = ip + header_len;
    size_t data_len = total_len - header_len;
    switch (out->ip.protocol) {
    case LG_IP_PROTO_UDP:
        return parse_udp(data, data_len, out);
    case LG_IP_PROTO_ICMP:
        return parse_icmp(data, data_len, out);
    default:
        out->kind = LG_FRAME_IPV4_OTHER;
        out->payload = data;
        out->payload_len = data_len;
        return LG_PARSE_OK;
    }
}

enum lg_parse_status lg_parse_frame(const uint8_t *frame, size_t len, struct lg_frame *out)
{
    memset(out, 0, sizeof *out);
    if (len < LG_ETH_HEADER_LEN) {
        return LG_PARSE_SHORT_ETHERNET;
    }
    memcpy(out->eth_dst, frame, LG_MAC_LEN);
    memcpy(out->eth_src, frame + LG_MAC_LEN, LG_MAC_LEN);
    out->ethertype = lg_get16(frame + 2 * LG_MAC_LEN);
    const uint8_t *body = frame + LG_ETH_HEADER_LEN;
    size_t body_len = len - LG_ETH_HEADER_LEN;
    switch (out->ethertype) {
    case LG_ETHERTYPE_ARP:
        return parse_arp(body, body_len, out);
    case LG_ETHERTYPE_IPV4:
        return parse_ipv4(body, body_len, out);
    default:
        return LG_PARSE_UNKNOWN_ETHERTYPE;
    }
}

const char *lg_parse_status_text(enum lg_parse_status status)
{
    switch (status) {
    case LG_PARSE_OK:
        return "ok";
    case LG_PARSE_SHORT_ETHERNET:
        return "shorter than an Ethernet header";
    case LG_PARSE_UNKNOWN_ETHERTYPE:
        return "ethertype neither IPv4 nor ARP";
    case LG_PARSE_BAD_ARP:
        return "truncated or non-IPv4 ARP";
    case LG_PARSE_SHORT_IPV4:
        return "shorter than an IPv4 header";
    case LG_PARSE_BAD_IP_VERSION:
        return "IP version not 4";
    case LG_PARSE_BAD_IP_HEADER_LEN:
        return "bad IPv4 header length";
    case LG_PARSE_BAD_IP_TOTAL_LEN:
        return "bad IPv4 total length";
    case LG_PARSE_BAD_IP_CHECKSUM:
        return "bad IPv4 header checksum";
    case LG_PARSE_IP_FRAGMENT:
        return "IPv4 fragment";
    case LG_PARSE_TRUNCATED_UDP:
        return "truncated UDP";
    case LG_PARSE_BAD_UDP_CHECKSUM:
        return "bad UDP checksum";
    case LG_PARSE_TRUNCATED_ICMP:
        return "truncated ICMP";
    case LG_PARSE_BAD_ICMP_CHECKSUM:
        return "bad ICMP checksum";
    case LG_PARSE_STATUSES:
        break;
    }
    return "unknown parse status";
}
