/*
 * pinion-loadgen's frames and payloads: checksums against values worked out
 * by hand, byte layouts of what it sends, round trips through the parser,
 * and every kind of malformed frame rejected with its own reason.
 */
#include "check.h"
#include "frames.h"
#include "payload.h"

#include <stdbool.h>

static const struct lg_endpoint us = {
    .mac = {0x52, 0x54, 0x00, 0xff, 0x00, 0x01}, .ip = 0x0a000001, .port = 40000};
static const struct lg_endpoint them = {
    .mac = {0x52, 0x54, 0x00, 0x00, 0x00, 0x10}, .ip = 0x0a00000a, .port = 1235};

static uint16_t field16(const uint8_t *frame, size_t offset)
{
    return (uint16_t)(frame[offset] << 8 | frame[offset + 1]);
}

static void set16(uint8_t *frame, size_t offset, uint16_t value)
{
    frame[offset] = (uint8_t)(value >> 8);
    frame[offset + 1] = (uint8_t)value;
}

enum { IP = LG_ETH_HEADER_LEN, L4 = LG_ETH_HEADER_LEN + LG_IPV4_HEADER_LEN };

/* After editing an IPv4 header: a fresh header checksum, so that only the edit is wrong. */
static void fix_ip_checksum(uint8_t *frame)
{
    size_t header_len = (size_t)(frame[IP] & 0x0f) * 4;
    set16(frame, IP + 10, 0);
    set16(frame, IP + 10, lg_internet_checksum(frame + IP, header_len));
}

static void test_checksum_rfc1071_example(void)
{
    /* RFC 1071 section 3: 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2, complemented 220d. */
    const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ(lg_internet_checksum(words, sizeof words), 0x220d);
    /* An odd byte counts as the high half of a word: 0001 + f200 = f201, complemented 0dfe. */
    CHECK_EQ(lg_internet_checksum(words, 3), 0x0dfe);
    /* Summing in pieces gives the same as summing at once. */
    uint32_t sum = lg_checksum_add(lg_checksum_add(0, words, 4), words + 4, 4);
    CHECK_EQ(lg_checksum_finish(sum), 0x220d);
}

static void test_checksum_ipv4_header_example(void)
{
    /* 192.168.0.1 -> 192.168.0.199, UDP, length 0x73, DF: words sum 2479c, folded 479e, checksum
     * b861. */
    uint8_t header[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                          0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    CHECK_EQ(lg_internet_checksum(header, sizeof header), 0xb861);
    set16(header, 10, 0xb861);
    CHECK_EQ(lg_internet_checksum(header, sizeof header), 0);
}

static void test_udp_frame_layout(void)
{
    uint8_t frame[LG_MAX_FRAME_LEN];
    const uint8_t payload[] = {'h', 'i'};
    size_t len = lg_build_udp(frame, sizeof frame, &us, &them, payload, sizeof payload);
    CHECK_EQ(len, 14 + 20 + 8 + 2);
    CHECK(memcmp(frame, them.mac, 6) == 0);
    CHECK(memcmp(frame + 6, us.mac, 6) == 0);
    CHECK_EQ(field16(frame, 12), 0x0800);
    CHECK_EQ(frame[IP], 0x45);
    CHECK_EQ(field16(frame, IP + 2), 30);
    CHECK_EQ(frame[IP + 8], 64);
    CHECK_EQ(frame[IP + 9], 17);
    /* 4500 001e 0000 0000 4011 0a00 0001 0a00 000a: sum 993a, checksum 66c5. */
    CHECK_EQ(field16(frame, IP + 10), 0x66c5);
    CHECK_EQ(field16(frame, L4), 40000);
    CHECK_EQ(field16(frame, L4 + 2), 1235);
    CHECK_EQ(field16(frame, L4 + 4), 10);
    /*
     * Pseudo header 0a00 0001 0a00 000a 0011 000a, then 9c40 04d3 000a 0000 6869:
     * sum 11dac, folded 1dad, checksum e252.
     */
    CHECK_EQ(field16(frame, L4 + 6), 0xe252);
    CHECK(frame[L4 + 8] == 'h' && frame[L4 + 9] == 'i');
    CHECK_EQ(lg_build_udp(frame, len - 1, &us, &them, payload, sizeof payload), 0);
    CHECK_EQ(lg_build_udp(frame, sizeof frame, &us, &them, payload, LG_MAX_UDP_PAYLOAD + 1), 0);
}

static void test_udp_round_trip(void)
{
    uint8_t frame[LG_MAX_FRAME_LEN], payload[LG_MAX_UDP_PAYLOAD];
    for (size_t i = 0; i < sizeof payload; i++) {
        payload[i] = (uint8_t)(i * 7 + 3);
    }
    const size_t sizes[] = {0, 1, 16, 64, 1471, LG_MAX_UDP_PAYLOAD};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = lg_build_udp(frame, sizeof frame, &us, &them, payload, sizes[s]);
        CHECK_EQ(len, 42 + sizes[s]);
        struct lg_frame parsed;
        CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
        CHECK_EQ(parsed.kind, LG_FRAME_UDP);
        CHECK(memcmp(parsed.eth_src, us.mac, 6) == 0 && memcmp(parsed.eth_dst, them.mac, 6) == 0);
        CHECK_EQ(parsed.ip.src, us.ip);
        CHECK_EQ(parsed.ip.dst, them.ip);
        CHECK_EQ(parsed.udp.src_port, us.port);
        CHECK_EQ(parsed.udp.dst_port, them.port);
        CHECK(parsed.udp.checksum != 0);
        CHECK_EQ(parsed.payload_len, sizes[s]);
        CHECK(parsed.payload == frame + L4 + 8);
        CHECK(memcmp(parsed.payload, payload, sizes[s]) == 0);
    }
    CHECK_EQ(lg_build_udp(frame, sizeof frame, &us, &them, payload, LG_MAX_UDP_PAYLOAD),
             LG_MAX_FRAME_LEN);
}

static void test_udp_checksum_zero_is_sent_as_ones(void)
{
    /* A payload word equal to the checksum without it makes the sum ffff: the checksum is 0. */
    uint8_t payload[2] = {0, 0}, frame[64];
    lg_build_udp(frame, sizeof frame, &us, &them, payload, sizeof payload);
    uint16_t without = field16(frame, L4 + 6);
    payload[0] = (uint8_t)(without >> 8);
    payload[1] = (uint8_t)without;
    size_t len = lg_build_udp(frame, sizeof frame, &us, &them, payload, sizeof payload);
    CHECK_EQ(field16(frame, L4 + 6), 0xffff);
    struct lg_frame parsed;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
}

static void test_udp_without_checksum_accepted(void)
{
    /* The guest may leave the UDP checksum 0: then the payload is not checked here. */
    uint8_t frame[64];
    const uint8_t payload[] = {1, 2, 3, 4};
    size_t len = lg_build_udp(frame, sizeof frame, &them, &us, payload, sizeof payload);
    set16(frame, L4 + 6, 0);
    frame[L4 + 8] ^= 0xff;
    struct lg_frame parsed;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.udp.checksum, 0);
    CHECK_EQ(parsed.payload[0], 1 ^ 0xff);
}

static void test_ethernet_padding_ignored(void)
{
    /* Short frames padded to Ethernet's 60-byte minimum: the IPv4 length says where data ends. */
    uint8_t frame[60];
    memset(frame, 0xee, sizeof frame);
    const uint8_t payload[] = {9};
    size_t len = lg_build_udp(frame, sizeof frame, &them, &us, payload, sizeof payload);
    CHECK_EQ(len, 43);
    struct lg_frame parsed;
    CHECK_EQ(lg_parse_frame(frame, sizeof frame, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.payload_len, 1);
}

static void test_arp_request_layout(void)
{
    uint8_t frame[64];
    size_t len = lg_build_arp_request(frame, sizeof frame, &us, them.ip);
    CHECK_EQ(len, 42);
    const uint8_t expected[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0xff, 0x00, 0x01, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0xff, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x0a,
    };
    CHECK(memcmp(frame, expected, sizeof expected) == 0);
    struct lg_frame parsed;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.kind, LG_FRAME_ARP);
    CHECK_EQ(parsed.arp.op, LG_ARP_OP_REQUEST);
    CHECK_EQ(parsed.arp.sender_ip, us.ip);
    CHECK_EQ(parsed.arp.target_ip, them.ip);
    CHECK(memcmp(parsed.arp.sender_mac, us.mac, 6) == 0);
    CHECK_EQ(lg_build_arp_request(frame, 41, &us, them.ip), 0);
}

static void test_arp_reply_round_trip(void)
{
    uint8_t frame[64];
    size_t len = lg_build_arp(frame, sizeof frame, LG_ARP_OP_REPLY, &them, us.mac, us.mac, us.ip);
    struct lg_frame parsed;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.arp.op, LG_ARP_OP_REPLY);
    CHECK(memcmp(parsed.eth_dst, us.mac, 6) == 0);
    CHECK(memcmp(parsed.arp.sender_mac, them.mac, 6) == 0);
    CHECK(memcmp(parsed.arp.target_mac, us.mac, 6) == 0);
    CHECK_EQ(parsed.arp.sender_ip, them.ip);
    CHECK_EQ(parsed.arp.target_ip, us.ip);
    /* Truncated, or ARP for another protocol than IPv4: rejected. */
    CHECK_EQ(lg_parse_frame(frame, len - 1, &parsed), LG_PARSE_BAD_ARP);
    set16(frame, IP + 2, 0x86dd);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_ARP);
}

static void test_icmp_echo_layout_and_round_trip(void)
{
    uint8_t frame[128];
    const uint8_t payload[] = {'a', 'b', 'c', 'd'};
    size_t len = lg_build_icmp_echo(frame, sizeof frame, LG_ICMP_ECHO_REQUEST, &us, &them, 0x1234,
                                    1, payload, sizeof payload);
    CHECK_EQ(len, 14 + 20 + 8 + 4);
    CHECK_EQ(frame[IP + 9], 1);
    /* 0800 0000 1234 0001 6162 6364: sum defb, checksum 2104. */
    CHECK_EQ(frame[L4], 8);
    CHECK_EQ(field16(frame, L4 + 2), 0x2104);
    struct lg_frame parsed;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.kind, LG_FRAME_ICMP_ECHO);
    CHECK_EQ(parsed.icmp.type, LG_ICMP_ECHO_REQUEST);
    CHECK_EQ(parsed.icmp.id, 0x1234);
    CHECK_EQ(parsed.icmp.seq, 1);
    CHECK_EQ(parsed.payload_len, 4);
    CHECK(memcmp(parsed.payload, payload, 4) == 0);

    /* A damaged reply is rejected but still names its id and sequence. */
    len = lg_build_icmp_echo(frame, sizeof frame, LG_ICMP_ECHO_REPLY, &them, &us, 7, 9, payload,
                             sizeof payload);
    frame[len - 1] ^= 1;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_ICMP_CHECKSUM);
    CHECK_EQ(parsed.kind, LG_FRAME_ICMP_ECHO);
    CHECK_EQ(parsed.icmp.seq, 9);
    CHECK_EQ(lg_parse_frame(frame, L4 + 7, &parsed), LG_PARSE_BAD_IP_TOTAL_LEN);

    /* Other ICMP types parse, as something other than an echo. */
    len = lg_build_icmp_echo(frame, sizeof frame, LG_ICMP_ECHO_REPLY, &them, &us, 7, 9, NULL, 0);
    frame[L4] = 3; /* destination unreachable */
    set16(frame, L4 + 2, 0);
    set16(frame, L4 + 2, lg_internet_checksum(frame + L4, 8));
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.kind, LG_FRAME_ICMP_OTHER);
}

/* A valid UDP frame to break in one way at a time. */
static size_t good_udp(uint8_t *frame, size_t capacity)
{
    const uint8_t payload[] = {1, 2, 3, 4, 5, 6, 7, 8};
    return lg_build_udp(frame, capacity, &them, &us, payload, sizeof payload);
}

static void test_malformed_frames_rejected(void)
{
    uint8_t frame[128];
    struct lg_frame parsed;
    size_t len = good_udp(frame, sizeof frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);

    CHECK_EQ(lg_parse_frame(frame, 0, &parsed), LG_PARSE_SHORT_ETHERNET);
    CHECK_EQ(lg_parse_frame(frame, 13, &parsed), LG_PARSE_SHORT_ETHERNET);
    CHECK_EQ(lg_parse_frame(frame, 14 + 19, &parsed), LG_PARSE_SHORT_IPV4);

    set16(frame, 12, 0x8100); /* a VLAN tag: not spoken here */
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_UNKNOWN_ETHERTYPE);
    set16(frame, 12, 0x86dd);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_UNKNOWN_ETHERTYPE);

    good_udp(frame, sizeof frame);
    frame[IP] = 0x65;
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_VERSION);

    good_udp(frame, sizeof frame);
    frame[IP] = 0x44; /* a header shorter than the minimum */
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_HEADER_LEN);
    frame[IP] = 0x4f; /* 60 bytes of header in a 36-byte packet */
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_HEADER_LEN);

    good_udp(frame, sizeof frame);
    set16(frame, IP + 2, (uint16_t)(len - IP + 1)); /* longer than the frame */
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_TOTAL_LEN);
    set16(frame, IP + 2, 19); /* shorter than its own header */
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_TOTAL_LEN);

    good_udp(frame, sizeof frame);
    frame[IP + 8] = 1; /* TTL changed, checksum not */
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_CHECKSUM);
    set16(frame, IP + 10, 0);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_IP_CHECKSUM);

    good_udp(frame, sizeof frame);
    set16(frame, IP + 6, 0x2000); /* more fragments */
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_IP_FRAGMENT);
    set16(frame, IP + 6, 0x0001); /* a later fragment */
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_IP_FRAGMENT);
    set16(frame, IP + 6, 0x4000); /* don't fragment: fine */
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
}

static void test_truncated_and_damaged_udp_rejected(void)
{
    uint8_t frame[128];
    struct lg_frame parsed;
    size_t len = good_udp(frame, sizeof frame);

    /* The IPv4 packet ends inside the UDP header. */
    set16(frame, IP + 2, 20 + 7);
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_TRUNCATED_UDP);

    good_udp(frame, sizeof frame);
    set16(frame, L4 + 4, 7); /* UDP length below its header */
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_TRUNCATED_UDP);
    set16(frame, L4 + 4, 17); /* beyond the IPv4 payload */
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_TRUNCATED_UDP);

    /* One payload bit flipped: the checksum catches it, and the frame is still complete. */
    good_udp(frame, sizeof frame);
    frame[L4 + 8 + 3] ^= 0x10;
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_BAD_UDP_CHECKSUM);
    CHECK_EQ(parsed.kind, LG_FRAME_UDP);
    CHECK_EQ(parsed.udp.src_port, them.port);
    CHECK_EQ(parsed.payload_len, 8);

    /* A shorter UDP length than the IPv4 payload is legal: the rest is ignored. */
    good_udp(frame, sizeof frame);
    set16(frame, L4 + 4, 12);
    set16(frame, L4 + 6, 0);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.payload_len, 4);
}

static void test_other_ip_protocols_parse(void)
{
    uint8_t frame[128];
    struct lg_frame parsed;
    size_t len = good_udp(frame, sizeof frame);
    frame[IP + 9] = 6; /* TCP */
    fix_ip_checksum(frame);
    CHECK_EQ(lg_parse_frame(frame, len, &parsed), LG_PARSE_OK);
    CHECK_EQ(parsed.kind, LG_FRAME_IPV4_OTHER);
    CHECK_STR_CONTAINS(lg_parse_status_text(LG_PARSE_BAD_IP_CHECKSUM), "checksum");
}

static void test_address_text(void)
{
    uint8_t mac[6];
    uint32_t ip;
    char text[LG_MAC_TEXT_LEN];
    CHECK(lg_parse_mac("52:54:00:AB:cd:0f", mac));
    CHECK(mac[0] == 0x52 && mac[3] == 0xab && mac[4] == 0xcd && mac[5] == 0x0f);
    lg_format_mac(mac, text);
    CHECK(strcmp(text, "52:54:00:ab:cd:0f") == 0);
    CHECK(lg_parse_mac("52-54-00-ab-cd-0f", mac));
    const char *bad_macs[] = {"",
                              "52:54:00:ab:cd",
                              "52:54:00:ab:cd:0f:11",
                              "52:54:00:ab:cd:0",
                              "52:54-00:ab:cd:0f",
                              "5:54:00:ab:cd:0f0",
                              "52:54:00:ab:cd:0g",
                              "525400abcd0f",
                              "52:54:00:ab:cd:0f "};
    for (size_t i = 0; i < sizeof bad_macs / sizeof bad_macs[0]; i++) {
        CHECK(!lg_parse_mac(bad_macs[i], mac));
    }
    char ip_text[LG_IPV4_TEXT_LEN];
    CHECK(lg_parse_ipv4("10.0.0.1", &ip));
    CHECK_EQ(ip, 0x0a000001);
    CHECK(lg_parse_ipv4("255.255.255.255", &ip));
    lg_format_ipv4(ip, ip_text);
    CHECK(strcmp(ip_text, "255.255.255.255") == 0);
    CHECK(lg_parse_ipv4("0.0.0.0", &ip));
    CHECK_EQ(ip, 0);
    const char *bad_ips[] = {"",          "10.0.0",     "10.0.0.1.2", "10.0.0.256",
                             "10.0.0.01", "10..0.1",    "10.0.0.1 ",  "-1.0.0.1",
                             "a.b.c.d",   "1000.0.0.1", "10.0.0.1."};
    for (size_t i = 0; i < sizeof bad_ips / sizeof bad_ips[0]; i++) {
        CHECK(!lg_parse_ipv4(bad_ips[i], &ip));
    }
}

static void test_payload_header_and_pattern(void)
{
    uint8_t a[LG_MAX_UDP_PAYLOAD], b[LG_MAX_UDP_PAYLOAD];
    lg_payload_fill(a, 64, LG_PAYLOAD_MAGIC_UDP, 0xdeadbeef, 3, 77);
    const uint8_t header[16] = {0x50, 0x4e, 0x4c, 0x55, 0xde, 0xad, 0xbe, 0xef,
                                0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x00, 0x4d};
    CHECK(memcmp(a, header, sizeof header) == 0);
    struct lg_payload_header read;
    CHECK(lg_payload_read_header(a, 64, &read));
    CHECK_EQ(read.magic, LG_PAYLOAD_MAGIC_UDP);
    CHECK_EQ(read.run_id, 0xdeadbeef);
    CHECK_EQ(read.target, 3);
    CHECK_EQ(read.length, 64);
    CHECK_EQ(read.seq, 77);
    CHECK(!lg_payload_read_header(a, 15, &read));

    /* The same (target, sequence) gives the same bytes; a neighbour differs almost everywhere. */
    lg_payload_fill(b, 64, LG_PAYLOAD_MAGIC_UDP, 0xdeadbeef, 3, 77);
    CHECK(memcmp(a, b, 64) == 0);
    lg_payload_fill(b, 64, LG_PAYLOAD_MAGIC_UDP, 0xdeadbeef, 3, 78);
    int equal = 0;
    for (size_t i = 16; i < 64; i++) {
        equal += a[i] == b[i];
    }
    CHECK(equal < 8);
    lg_payload_fill(b, 64, LG_PAYLOAD_MAGIC_UDP, 0xdeadbeef, 4, 77);
    CHECK(memcmp(a + 16, b + 16, 48) != 0);
    /* The pattern depends on (target, sequence) only: a longer payload starts the same. */
    lg_payload_fill(b, LG_MAX_UDP_PAYLOAD, LG_PAYLOAD_MAGIC_UDP, 1, 3, 77);
    CHECK(memcmp(a + 16, b + 16, 48) == 0);
    /* The header alone is a valid payload. */
    lg_payload_fill(b, 16, LG_PAYLOAD_MAGIC_PING, 1, 0, 0);
    CHECK(lg_payload_read_header(b, 16, &read) && read.length == 16);
}

int main(void)
{
    RUN_TEST(test_checksum_rfc1071_example);
    RUN_TEST(test_checksum_ipv4_header_example);
    RUN_TEST(test_udp_frame_layout);
    RUN_TEST(test_udp_round_trip);
    RUN_TEST(test_udp_checksum_zero_is_sent_as_ones);
    RUN_TEST(test_udp_without_checksum_accepted);
    RUN_TEST(test_ethernet_padding_ignored);
    RUN_TEST(test_arp_request_layout);
    RUN_TEST(test_arp_reply_round_trip);
    RUN_TEST(test_icmp_echo_layout_and_round_trip);
    RUN_TEST(test_malformed_frames_rejected);
    RUN_TEST(test_truncated_and_damaged_udp_rejected);
    RUN_TEST(test_other_ip_protocols_parse);
    RUN_TEST(test_address_text);
    RUN_TEST(test_payload_header_and_pattern);
    return check_exit();
}
