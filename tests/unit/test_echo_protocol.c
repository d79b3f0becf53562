/*
 * The echo client's protocol logic (components/net/echo_protocol.c), on the
 * host: exact ARP reply bytes, ICMP and UDP replies checked against
 * checksums recomputed here from scratch (never with the client's
 * incremental arithmetic), every drop reason, every truncation of every
 * frame kind, and a seeded fuzz loop. Frames under test live in heap blocks
 * of exactly their length, so that under ASan a read or write one byte
 * beyond them stops the test.
 */
#include "check.h"

#include "echo_protocol.h"
#include "net_parse.h"

#include <stdlib.h>

static const uint8_t client_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};
static const uint8_t client_ip[4] = {10, 0, 0, 2};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_ip[4] = {10, 0, 0, 1};
#define CLIENT_PORT 1235
#define PEER_PORT   40000

static struct echo_identity self;

static void set_identity(void)
{
    memcpy(self.mac, client_mac, 6);
    memcpy(self.ip, client_ip, 4);
    self.udp_port = CLIENT_PORT;
}

/* ---- Frames, built field by field (big-endian on the wire) ---- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* RFC 1071, the plain way: big-endian words, an odd last byte padded with zero. */
static uint32_t reference_sum(const uint8_t *data, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += get16(data + i);
    }
    if (len % 2) {
        sum += (uint32_t)data[len - 1] << 8;
    }
    return sum;
}

static uint16_t reference_checksum(const uint8_t *data, size_t len, uint32_t sum)
{
    sum = reference_sum(data, len, sum);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static bool checksum_verifies(const uint8_t *data, size_t len, uint32_t sum)
{
    return reference_checksum(data, len, sum) == 0;
}

static uint32_t udp_pseudo_header_sum(const uint8_t *ip)
{
    return reference_sum(ip + 12, 8, 0) + 17 + get16(ip + 20 + 4);
}

static void put_ethernet(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, type);
}

static void fix_ip_checksum(uint8_t *f)
{
    put16(f + 24, 0);
    put16(f + 24, reference_checksum(f + 14, 20, 0));
}

static void put_ipv4(uint8_t *f, uint32_t protocol, uint32_t payload_len)
{
    uint8_t *ip = f + 14;
    put_ethernet(f, client_mac, peer_mac, 0x0800);
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, 20 + payload_len);
    put16(ip + 4, 0x1c46);
    put16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 57;
    ip[9] = (uint8_t)protocol;
    memcpy(ip + 12, peer_ip, 4);
    memcpy(ip + 16, client_ip, 4);
    fix_ip_checksum(f);
}

/* Ethernet padding to the 60-byte minimum, as a NIC delivers short frames. */
static uint32_t padded(uint8_t *f, uint32_t len)
{
    for (; len < 60; len++) {
        f[len] = 0xee; /* not zero, so that echoing padding would show */
    }
    return len;
}

static uint32_t make_udp(uint8_t *f, uint32_t payload_len, bool with_checksum, uint32_t seed)
{
    uint8_t *ip = f + 14, *udp = ip + 20;
    put_ipv4(f, 17, 8 + payload_len);
    put16(udp, PEER_PORT);
    put16(udp + 2, CLIENT_PORT);
    put16(udp + 4, 8 + payload_len);
    put16(udp + 6, 0);
    for (uint32_t i = 0; i < payload_len; i++) {
        udp[8 + i] = (uint8_t)(i * 7 + seed);
    }
    if (with_checksum) {
        uint16_t c = reference_checksum(udp, 8 + payload_len, udp_pseudo_header_sum(ip));
        put16(udp + 6, c == 0 ? 0xffff : c); /* RFC 768: a computed 0 is sent as all ones */
    }
    return padded(f, 14 + 20 + 8 + payload_len);
}

static uint32_t make_ping(uint8_t *f, uint32_t payload_len, uint32_t id, uint32_t seq)
{
    uint8_t *icmp = f + 34;
    put_ipv4(f, 1, 8 + payload_len);
    icmp[0] = 8;
    icmp[1] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 4, id);
    put16(icmp + 6, seq);
    for (uint32_t i = 0; i < payload_len; i++) {
        icmp[8 + i] = (uint8_t)(i ^ id ^ seq);
    }
    put16(icmp + 2, reference_checksum(icmp, 8 + payload_len, 0));
    return padded(f, 34 + 8 + payload_len);
}

static uint32_t make_arp_request(uint8_t *f, const uint8_t *target_ip)
{
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t *arp = f + 14;
    put_ethernet(f, broadcast, peer_mac, 0x0806);
    put16(arp, 1);
    put16(arp + 2, 0x0800);
    arp[4] = 6;
    arp[5] = 4;
    put16(arp + 6, 1);
    memcpy(arp + 8, peer_mac, 6);
    memcpy(arp + 14, peer_ip, 4);
    memset(arp + 18, 0, 6);
    memcpy(arp + 24, target_ip, 4);
    return padded(f, 42);
}

/*
 * Runs decide and, for a reply, build, with the frame and the reply each in
 * a heap block of exactly its length. The reply is copied to `reply_out`.
 */
static struct echo_decision run_exact(const uint8_t *frame, uint32_t len, uint8_t *reply_out)
{
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, frame, len);
    struct echo_decision d = echo_decide(&self, exact, len);
    if (echo_verdict_replies(d.verdict)) {
        CHECK(d.reply_len >= ECHO_ARP_FRAME && d.reply_len <= len);
        uint8_t *reply = malloc(d.reply_len);
        echo_build_reply(&self, d, exact, reply);
        if (reply_out) {
            memcpy(reply_out, reply, d.reply_len);
        }
        free(reply);
    } else {
        CHECK_EQ(d.reply_len, 0);
    }
    free(exact);
    return d;
}

/* ---- Replies ---- */

static void test_arp_reply_bytes_exact(void)
{
    _Alignas(8) uint8_t frame[64], reply[64];
    uint32_t len = make_arp_request(frame, client_ip);
    struct echo_decision d = run_exact(frame, len, reply);
    static const uint8_t expected[42] = {
        0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x54, 0x00, 0x00, 0x00, 0x02,
        10,   0,    0,    2,    0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 10,   0,    0,    1};
    CHECK_EQ(d.verdict, ECHO_REPLY_ARP);
    CHECK_EQ(d.reply_len, 42);
    CHECK(memcmp(reply, expected, sizeof expected) == 0);
    /* Unpadded, exactly 42 bytes, also answers. */
    CHECK_EQ(run_exact(frame, 42, NULL).verdict, ECHO_REPLY_ARP);
}

static void check_ipv4_reply_common(const uint8_t *request, const uint8_t *reply, uint32_t len)
{
    const uint8_t *ip = reply + 14;
    CHECK(memcmp(reply, peer_mac, 6) == 0);
    CHECK(memcmp(reply + 6, client_mac, 6) == 0);
    CHECK_EQ(get16(reply + 12), 0x0800);
    CHECK(memcmp(ip + 12, client_ip, 4) == 0);
    CHECK(memcmp(ip + 16, peer_ip, 4) == 0);
    CHECK_EQ(ip[8], ECHO_REPLY_TTL);
    CHECK_EQ(get16(ip + 2), len - 14);
    CHECK_EQ(get16(ip + 4), get16(request + 18)); /* identification kept */
    CHECK(checksum_verifies(ip, 20, 0));
}

static void test_icmp_reply(void)
{
    _Alignas(8) uint8_t frame[1600], reply[1600];
    uint32_t lengths[] = {0, 1, 2, 3, 7, 8, 17, 31, 32, 33, 56, 1000, 1472};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        /* Many id/seq values walk the checksum across its whole range, 0 and 0xffff too. */
        for (uint32_t seq = 0; seq < 300; seq++) {
            uint32_t payload = lengths[i], id = 0x1234 + seq * 977;
            uint32_t len = make_ping(frame, payload, id, seq);
            struct echo_decision d = run_exact(frame, len, reply);
            CHECK_EQ(d.verdict, ECHO_REPLY_ICMP);
            CHECK_EQ(d.reply_len, 34 + 8 + payload);
            const uint8_t *icmp = reply + 34;
            check_ipv4_reply_common(frame, reply, d.reply_len);
            CHECK_EQ(icmp[0], 0);
            CHECK_EQ(icmp[1], 0);
            CHECK(checksum_verifies(icmp, 8 + payload, 0));
            CHECK(memcmp(icmp + 4, frame + 38, 4 + payload) == 0); /* id, seq, data */
        }
    }
    /* The checksum edge: a request whose checksum is 0xffff or 0x0000 (both encode zero). */
    for (uint32_t seq = 0; seq < 65536; seq++) {
        uint32_t len = make_ping(frame, 0, 0, seq);
        uint32_t request_checksum = get16(frame + 36);
        if (request_checksum != 0xffff && request_checksum != 0x0000 &&
            request_checksum != 0xf7ff) {
            continue;
        }
        struct echo_decision d = run_exact(frame, len, reply);
        CHECK_EQ(d.verdict, ECHO_REPLY_ICMP);
        CHECK(checksum_verifies(reply + 34, 8, 0));
    }
}

static void test_udp_echo(void)
{
    _Alignas(8) uint8_t frame[1600], reply[1600];
    for (uint32_t payload = 0; payload <= 1472; payload += (payload < 70 ? 1 : 97)) {
        for (int with_checksum = 0; with_checksum < 2; with_checksum++) {
            uint32_t len = make_udp(frame, payload, with_checksum, payload);
            struct echo_decision d = run_exact(frame, len, reply);
            CHECK_EQ(d.verdict, ECHO_REPLY_UDP);
            /* Ethernet padding is not part of the datagram and is not echoed. */
            CHECK_EQ(d.reply_len, 42 + payload);
            check_ipv4_reply_common(frame, reply, d.reply_len);
            const uint8_t *udp = reply + 34;
            CHECK_EQ(get16(udp), CLIENT_PORT);
            CHECK_EQ(get16(udp + 2), PEER_PORT);
            CHECK_EQ(get16(udp + 4), 8 + payload);
            CHECK(memcmp(udp + 8, frame + 42, payload) == 0);
            if (with_checksum) {
                CHECK(checksum_verifies(udp, 8 + payload, udp_pseudo_header_sum(reply + 14)));
            } else {
                CHECK_EQ(get16(udp + 6), 0); /* "no checksum" stays so */
            }
        }
    }
    /* Sent to the broadcast MAC but our IP: still ours. */
    uint32_t len = make_udp(frame, 10, true, 1);
    memset(frame, 0xff, 6);
    CHECK_EQ(run_exact(frame, len, NULL).verdict, ECHO_REPLY_UDP);
}

/* ---- Drops ---- */

enum base { UDP, PING, ARP };

struct mutation {
    const char *what;
    enum base base;
    uint32_t offset, width, value; /* write `value` (1 or 2 bytes) at `offset`; width 0: none */
    bool fix_ip_checksum;
    int32_t len_change; /* added to the frame's length */
    enum echo_verdict expected;
};

static const struct mutation mutations[] = {
    {"unchanged UDP", UDP, 0, 0, 0, false, 0, ECHO_REPLY_UDP},
    {"unchanged ping", PING, 0, 0, 0, false, 0, ECHO_REPLY_ICMP},
    {"unchanged ARP", ARP, 0, 0, 0, false, 0, ECHO_REPLY_ARP},
    {"other unicast MAC", UDP, 5, 1, 0x03, false, 0, ECHO_DROP_NOT_FOR_US},
    {"multicast MAC", UDP, 0, 2, 0x0100, false, 0, ECHO_DROP_NOT_FOR_US},
    {"group source MAC", UDP, 6, 1, 0x01, false, 0, ECHO_DROP_MALFORMED},
    {"IPv6", UDP, 12, 2, 0x86dd, false, 0, ECHO_DROP_UNSUPPORTED},
    {"VLAN tag", UDP, 12, 2, 0x8100, false, 0, ECHO_DROP_UNSUPPORTED},
    {"IP version 6", UDP, 14, 1, 0x65, true, 0, ECHO_DROP_MALFORMED},
    {"IHL 4", UDP, 14, 1, 0x44, true, 0, ECHO_DROP_MALFORMED},
    {"IP options", UDP, 14, 1, 0x46, true, 0, ECHO_DROP_UNSUPPORTED},
    {"bad IP checksum", UDP, 24, 2, 0x1234, false, 0, ECHO_DROP_BAD_CHECKSUM},
    {"IP total length below header", UDP, 16, 2, 19, true, 0, ECHO_DROP_MALFORMED},
    {"IP total length beyond frame", UDP, 16, 2, 47, true, -14, ECHO_DROP_SHORT},
    {"more fragments", UDP, 20, 1, 0x20, true, 0, ECHO_DROP_UNSUPPORTED},
    {"fragment offset", UDP, 21, 1, 0x01, true, 0, ECHO_DROP_UNSUPPORTED},
    {"other IP", UDP, 33, 1, 3, true, 0, ECHO_DROP_NOT_FOR_US},
    {"source 0.0.0.0/8", UDP, 26, 1, 0, true, 0, ECHO_DROP_MALFORMED},
    {"source loopback", UDP, 26, 1, 127, true, 0, ECHO_DROP_MALFORMED},
    {"source multicast", UDP, 26, 1, 224, true, 0, ECHO_DROP_MALFORMED},
    {"source broadcast", UDP, 26, 1, 255, true, 0, ECHO_DROP_MALFORMED},
    {"TCP", UDP, 23, 1, 6, true, 0, ECHO_DROP_UNSUPPORTED},
    {"other UDP port", UDP, 36, 2, 1236, false, 0, ECHO_DROP_NOT_FOR_US},
    {"UDP source port 0", UDP, 34, 2, 0, false, 0, ECHO_DROP_MALFORMED},
    {"UDP length 7", UDP, 38, 2, 7, false, 0, ECHO_DROP_MALFORMED},
    {"UDP length beyond IP", UDP, 38, 2, 27, false, 0, ECHO_DROP_SHORT},
    {"IP payload below UDP header", UDP, 16, 2, 27, true, 0, ECHO_DROP_SHORT},
    {"ICMP echo reply", PING, 34, 1, 0, false, 0, ECHO_DROP_UNSUPPORTED},
    {"ICMP echo code 1", PING, 35, 1, 1, false, 0, ECHO_DROP_UNSUPPORTED},
    {"ICMP unreachable", PING, 34, 1, 3, false, 0, ECHO_DROP_UNSUPPORTED},
    {"IP payload below ICMP header", PING, 16, 2, 27, true, 0, ECHO_DROP_SHORT},
    {"ARP reply", ARP, 20, 2, 2, false, 0, ECHO_DROP_UNSUPPORTED},
    {"ARP for another IP", ARP, 41, 1, 9, false, 0, ECHO_DROP_NOT_FOR_US},
    {"ARP hardware type", ARP, 14, 2, 6, false, 0, ECHO_DROP_UNSUPPORTED},
    {"ARP protocol type", ARP, 16, 2, 0x86dd, false, 0, ECHO_DROP_UNSUPPORTED},
    {"ARP address lengths", ARP, 18, 1, 8, false, 0, ECHO_DROP_UNSUPPORTED},
    {"ARP group sender", ARP, 22, 1, 0x01, false, 0, ECHO_DROP_MALFORMED},
    {"ARP truncated", ARP, 0, 0, 0, false, -19, ECHO_DROP_SHORT},
};

static uint32_t make_base(uint8_t *frame, enum base base)
{
    switch (base) {
    case UDP:
        return make_udp(frame, 18, true, 3);
    case PING:
        return make_ping(frame, 18, 7, 9);
    default:
        return make_arp_request(frame, client_ip);
    }
}

static void test_each_drop_reason(void)
{
    unsigned seen[ECHO_VERDICTS] = {0};
    for (size_t i = 0; i < sizeof mutations / sizeof mutations[0]; i++) {
        const struct mutation *m = &mutations[i];
        _Alignas(8) uint8_t frame[128];
        uint32_t len = make_base(frame, m->base);
        if (m->width == 1) {
            frame[m->offset] = (uint8_t)m->value;
        } else if (m->width == 2) {
            put16(frame + m->offset, m->value);
        }
        if (m->fix_ip_checksum) {
            fix_ip_checksum(frame);
        }
        len = (uint32_t)((int32_t)len + m->len_change);
        struct echo_decision d = run_exact(frame, len, NULL);
        if (d.verdict != m->expected) {
            fprintf(stderr, "mutation \"%s\": verdict %d, expected %d\n", m->what, d.verdict,
                    m->expected);
        }
        CHECK_EQ(d.verdict, m->expected);
        seen[m->expected]++;
    }
    for (int v = 0; v < ECHO_VERDICTS; v++) {
        CHECK(seen[v] > 0); /* the table exercises every verdict */
    }
}

/* Every prefix of every kind of frame: short, never a reply, never out of bounds. */
static void test_every_truncation(void)
{
    _Alignas(8) uint8_t frame[1600];
    for (enum base base = UDP; base <= ARP; base++) {
        for (uint32_t payload = 0; payload < 40; payload += 13) {
            uint32_t len = base == UDP    ? make_udp(frame, payload, true, 5)
                           : base == PING ? make_ping(frame, payload, 1, 2)
                                          : make_arp_request(frame, client_ip);
            uint32_t needed = base == ARP ? 42 : 14 + get16(frame + 16);
            for (uint32_t cut = 0; cut <= len; cut++) {
                struct echo_decision d = run_exact(frame, cut, NULL);
                if (cut < needed) {
                    CHECK_EQ(d.verdict, ECHO_DROP_SHORT);
                } else {
                    CHECK(echo_verdict_replies(d.verdict));
                }
            }
        }
    }
}

/* ---- Fuzz ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/*
 * Valid frames with a few bytes changed, lengths cut or stretched, the IP
 * checksum sometimes repaired so the damage reaches the later checks. What
 * must hold whatever the verdict: no access out of bounds (ASan), a reply
 * never longer than its frame, and every IPv4 reply's header checksum
 * valid, its ICMP checksum valid exactly when the request's was.
 */
static void test_fuzz(void)
{
    _Alignas(8) uint8_t frame[1600], reply[1600];
    unsigned verdicts[ECHO_VERDICTS] = {0};
    for (int round = 0; round < 200000; round++) {
        uint32_t len;
        switch (rng() % 4) {
        case 0:
            len = make_udp(frame, rng() % 200, rng() & 1, rng());
            break;
        case 1:
            len = make_ping(frame, rng() % 200, rng(), rng());
            break;
        case 2:
            len = make_arp_request(frame, rng() % 8 ? client_ip : peer_ip);
            break;
        default:
            len = rng() % 128;
            for (uint32_t i = 0; i < len; i++) {
                frame[i] = (uint8_t)rng();
            }
        }
        for (uint32_t k = rng() % 4; k > 0 && len > 0; k--) {
            frame[rng() % len] = (uint8_t)rng();
        }
        if (len >= 34 && rng() % 2) {
            fix_ip_checksum(frame);
        }
        if (rng() % 4 == 0) {
            len = rng() % (len + 32);
        }
        bool icmp_valid = len >= 42 && checksum_verifies(frame + 34, len - 34, 0);
        struct echo_decision d = run_exact(frame, len, reply);
        verdicts[d.verdict]++;
        if (d.verdict == ECHO_REPLY_ICMP || d.verdict == ECHO_REPLY_UDP) {
            CHECK(checksum_verifies(reply + 14, 20, 0));
            CHECK(memcmp(reply + 26, client_ip, 4) == 0);
        }
        if (d.verdict == ECHO_REPLY_ICMP && d.reply_len == len) {
            CHECK_EQ(checksum_verifies(reply + 34, d.reply_len - 34, 0), icmp_valid);
        }
    }
    for (int v = 0; v < ECHO_VERDICTS; v++) {
        CHECK(verdicts[v] > 0); /* the fuzzer reached every verdict */
    }
}

/* ---- The copy and the parameter parsers ---- */

static void test_copy_every_length(void)
{
    _Alignas(8) uint8_t src[320], dst[336];
    for (uint32_t i = 0; i < sizeof src; i++) {
        src[i] = (uint8_t)(i * 13 + 1);
    }
    for (uint32_t len = 0; len <= 300; len++) {
        memset(dst, 0xa5, sizeof dst);
        echo_copy(dst, src, len);
        CHECK(memcmp(dst, src, len) == 0);
        bool untouched = true;
        for (uint32_t i = len; i < sizeof dst; i++) {
            untouched &= dst[i] == 0xa5;
        }
        CHECK(untouched);
    }
}

static void test_parse_parameters(void)
{
    uint8_t mac[6], ip[4];
    CHECK(net_parse_mac("52:54:00:00:00:02", mac) && memcmp(mac, client_mac, 6) == 0);
    CHECK(net_parse_mac("FF:ff:0a:Bc:00:9F", mac) && mac[0] == 0xff && mac[3] == 0xbc);
    const char *bad_macs[] = {"",
                              "52:54:00:00:00",
                              "52:54:00:00:00:02:",
                              "52:54:00:00:00:2",
                              "52-54-00-00-00-02",
                              "52:54:00:00:00:0g",
                              "52:54:00:00:00:022",
                              " 52:54:00:00:00:02"};
    for (size_t i = 0; i < sizeof bad_macs / sizeof bad_macs[0]; i++) {
        memcpy(mac, client_mac, 6);
        CHECK(!net_parse_mac(bad_macs[i], mac));
        CHECK(memcmp(mac, client_mac, 6) == 0); /* untouched on failure */
    }
    CHECK(net_parse_ipv4("10.0.0.2", ip) && memcmp(ip, client_ip, 4) == 0);
    CHECK(net_parse_ipv4("255.0.199.0", ip) && ip[0] == 255 && ip[2] == 199 && ip[3] == 0);
    const char *bad_ips[] = {"",          "10.0.0",     "10.0.0.2.", "10.0.0.256", "10..0.2",
                             "010.0.0.2", "1000.0.0.2", "10.0.0.2 ", "a.b.c.d",    "10.0.0.-1"};
    for (size_t i = 0; i < sizeof bad_ips / sizeof bad_ips[0]; i++) {
        CHECK(!net_parse_ipv4(bad_ips[i], ip));
    }
}

int main(void)
{
    set_identity();
    RUN_TEST(test_arp_reply_bytes_exact);
    RUN_TEST(test_icmp_reply);
    RUN_TEST(test_udp_echo);
    RUN_TEST(test_each_drop_reason);
    RUN_TEST(test_every_truncation);
    RUN_TEST(test_fuzz);
    RUN_TEST(test_copy_every_length);
    RUN_TEST(test_parse_parameters);
    return check_exit();
}
