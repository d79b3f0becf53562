/*
 * Unit tests of the layer-2 echo baselines' logic
 * (driver-vms/programs/l2_echo_core.c): identities from "MAC@IP", frames
 * answered by the identity they are addressed to (a broadcast ARP request
 * by the one whose address it asks for), drops and counts. What a reply
 * holds is echo_protocol's, tested in tests/unit/test_echo_protocol.c.
 */
#include "check.h"
#include "l2_echo_core.h"

#include <stdio.h>
#include <string.h>

static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_ip[4] = {10, 0, 0, 1};
static const uint8_t mac0[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};
static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x03};
static const uint8_t ip0[4] = {10, 0, 0, 2};
static const uint8_t ip1[4] = {10, 0, 0, 3};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned ip_checksum(const uint8_t *header)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(header[i] << 8 | header[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/* A 60-byte frame: UDP from the peer to (mac, ip):port with 10 payload bytes. */
static uint32_t make_udp(uint8_t *f, const uint8_t *mac, const uint8_t *ip, unsigned port)
{
    memset(f, 0, 60);
    memcpy(f, mac, 6);
    memcpy(f + 6, peer_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *h = f + 14;
    h[0] = 0x45;
    put16(h + 2, 20 + 8 + 10);
    h[8] = 64;
    h[9] = 17;
    memcpy(h + 12, peer_ip, 4);
    memcpy(h + 16, ip, 4);
    put16(h + 10, ip_checksum(h));
    put16(h + 20, 40000);
    put16(h + 22, port);
    put16(h + 24, 8 + 10);
    return 60;
}

static uint32_t make_arp_request(uint8_t *f, const uint8_t *target_ip)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    put16(f + 12, 0x0806);
    uint8_t *arp = f + 14;
    put16(arp, 1);
    put16(arp + 2, 0x0800);
    arp[4] = 6;
    arp[5] = 4;
    put16(arp + 6, 1);
    memcpy(arp + 8, peer_mac, 6);
    memcpy(arp + 14, peer_ip, 4);
    memcpy(arp + 24, target_ip, 4);
    return 60;
}

static void test_identities(void)
{
    struct l2_echo echo = {0};
    CHECK(l2_echo_add_identity(&echo, "52:54:00:00:00:02@10.0.0.2", 1235));
    CHECK_EQ(echo.n_identities, 1);
    CHECK(memcmp(echo.identities[0].mac, mac0, 6) == 0);
    CHECK(memcmp(echo.identities[0].ip, ip0, 4) == 0);
    CHECK_EQ(echo.identities[0].udp_port, 1235);
    /* Malformed: a comma, a short MAC, a bad IP, nothing after '@', port 0. */
    CHECK(!l2_echo_add_identity(&echo, "52:54:00:00:00:02,10.0.0.2", 1235));
    CHECK(!l2_echo_add_identity(&echo, "52:54:00:00:02@10.0.0.2", 1235));
    CHECK(!l2_echo_add_identity(&echo, "52:54:00:00:00:02@10.0.0.256", 1235));
    CHECK(!l2_echo_add_identity(&echo, "52:54:00:00:00:02@", 1235));
    CHECK(!l2_echo_add_identity(&echo, "52:54:00:00:00:02@10.0.0.2", 0));
    CHECK_EQ(echo.n_identities, 1);
    for (unsigned i = 1; i < L2_ECHO_MAX_IDENTITIES; i++) {
        CHECK(l2_echo_add_identity(&echo, "52:54:00:00:00:03@10.0.0.3", 1235));
    }
    CHECK(!l2_echo_add_identity(&echo, "52:54:00:00:00:03@10.0.0.3", 1235));
    CHECK_EQ(echo.n_identities, L2_ECHO_MAX_IDENTITIES);
}

static void test_decide(void)
{
    struct l2_echo echo = {0};
    CHECK(l2_echo_add_identity(&echo, "52:54:00:00:00:02@10.0.0.2", 1235));
    CHECK(l2_echo_add_identity(&echo, "52:54:00:00:00:03@10.0.0.3", 1235));
    _Alignas(8) uint8_t frame[64];
    struct echo_decision d;

    uint32_t len = make_udp(frame, mac1, ip1, 1235);
    const struct echo_identity *id = l2_echo_decide(&echo, frame, len, &d);
    CHECK(id == &echo.identities[1]);
    CHECK_EQ(d.verdict, ECHO_REPLY_UDP);
    l2_echo_count_reply(&echo, d, true);

    len = make_udp(frame, mac0, ip0, 1235);
    CHECK(l2_echo_decide(&echo, frame, len, &d) == &echo.identities[0]);
    l2_echo_count_reply(&echo, d, false);

    /* A broadcast ARP request: answered by whoever owns the address asked for. */
    len = make_arp_request(frame, ip1);
    CHECK(l2_echo_decide(&echo, frame, len, &d) == &echo.identities[1]);
    CHECK_EQ(d.verdict, ECHO_REPLY_ARP);
    l2_echo_count_reply(&echo, d, true);

    /* Dropped: another port, a MAC nobody has, a MAC and IP of two identities. */
    len = make_udp(frame, mac0, ip0, 9);
    CHECK(l2_echo_decide(&echo, frame, len, &d) == NULL);
    static const uint8_t stranger[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x09};
    len = make_udp(frame, stranger, ip0, 1235);
    CHECK(l2_echo_decide(&echo, frame, len, &d) == NULL);
    len = make_udp(frame, mac0, ip1, 1235);
    CHECK(l2_echo_decide(&echo, frame, len, &d) == NULL);
    len = make_arp_request(frame, peer_ip);
    CHECK(l2_echo_decide(&echo, frame, len, &d) == NULL);

    CHECK_EQ(echo.counts.received, 7);
    CHECK_EQ(echo.counts.udp_echoed, 1);
    CHECK_EQ(echo.counts.other_replies, 1);
    CHECK_EQ(echo.counts.send_errors, 1);
    CHECK_EQ(echo.counts.dropped, 4);

    echo.counts.bytes_copied = 212;
    char json[256];
    l2_echo_counts_json(&echo.counts, json, sizeof json);
    CHECK(strcmp(json, "{\"received\": 7, \"echoed\": 1, \"other_replies\": 1, \"dropped\": 4, "
                       "\"send_errors\": 1, \"bytes_copied\": 212}") == 0);
}

int main(void)
{
    RUN_TEST(test_identities);
    RUN_TEST(test_decide);
    return check_exit();
}
