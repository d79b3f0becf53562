#define _POSIX_C_SOURCE 200809L
/*
 * The echo client (net_echo_client) in the hosted backend, against a fake
 * peer (tests/components/fake_net_peer.c) that plays its rx copier and its
 * tx multiplexer: every reply checked by the peer, every counter of the
 * client against what the peer sent, no buffer lost; and a client wired or
 * configured wrongly stops at init naming what is wrong.
 */
#include "hosted_fixture.h"

#include <hosted.h>
#include <stdlib.h>

static char output[65536];

static void test_echo_against_fake_peer(void)
{
    struct sd_system *sys = hosted_load("echo-client.json", NULL, NULL);
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct pn_hosted_system *hs = hosted_run(sys, out, 60000);
    if (hs == NULL) {
        fclose(out);
        sd_system_free(sys);
        return;
    }
    struct pn_hosted_stats client, peer;
    pn_hosted_stats(hs, "client", &client);
    pn_hosted_stats(hs, "peer", &peer);
    CHECK(!client.faulted && !peer.faulted);
    if (client.faulted || peer.faulted) {
        fprintf(stderr, "client: %s\npeer: %s\n", client.fault, peer.fault);
    }
    CHECK_STR_CONTAINS(output, "peer: done\n");
    CHECK(strstr(output, "reply to frame") == NULL);

    /* Every reply checked and right, every buffer back. */
#define PEER(name)   hosted_counter(hs, "peer", name)
#define CLIENT(name) hosted_counter(hs, "client", name)
    CHECK_EQ(PEER("done"), 1);
    CHECK_EQ(PEER("replies_wrong"), 0);
    CHECK_EQ(PEER("buffers_missing"), 0);
    CHECK_EQ(PEER("replies_ok"), PEER("expect_arp") + PEER("expect_icmp") + PEER("expect_udp"));

    /* What the client counted is what the peer sent. */
    CHECK_EQ(CLIENT("arp_replies"), PEER("expect_arp"));
    CHECK_EQ(CLIENT("icmp_replies"), PEER("expect_icmp"));
    CHECK_EQ(CLIENT("udp_echoes"), PEER("expect_udp"));
    CHECK_EQ(CLIENT("tx_full"), 2); /* the two frames after the 4 held buffers */
    CHECK_EQ(PEER("expect_tx_full"), 2);
    CHECK_EQ(CLIENT("rx_bad_desc"), PEER("sent_bad_desc"));
    CHECK_EQ(CLIENT("tx_bad_desc"), 1);
    CHECK_EQ(PEER("sent_bad_tx_desc"), 1);
    CHECK_EQ(CLIENT("ring_errors"), 0);
    /* Garbage lands in one drop counter or another, so those are at least what was sent. */
    CHECK(CLIENT("not_for_us") >= PEER("expect_not_for_us"));
    CHECK(CLIENT("unsupported") >= PEER("expect_unsupported"));
    CHECK(CLIENT("short") >= PEER("expect_short"));
    CHECK(CLIENT("malformed") >= PEER("expect_malformed"));
    CHECK(CLIENT("bad_checksum") >= PEER("expect_bad_checksum"));
    uint64_t drops = CLIENT("not_for_us") + CLIENT("unsupported") + CLIENT("short") +
                     CLIENT("malformed") + CLIENT("bad_checksum");
    uint64_t expected_drops = PEER("expect_not_for_us") + PEER("expect_unsupported") +
                              PEER("expect_short") + PEER("expect_malformed") +
                              PEER("expect_bad_checksum") + PEER("sent_garbage");
    CHECK_EQ(drops, expected_drops);
    CHECK_EQ(CLIENT("rx_frames"), PEER("replies_ok") + CLIENT("tx_full") + expected_drops);

    /* The run exercised what it claims to. */
    CHECK(PEER("expect_arp") > 100 && PEER("expect_icmp") > 100 && PEER("expect_udp") > 500);
    CHECK(PEER("sent_garbage") > 100 && PEER("sent_bad_desc") >= 3);
    CHECK(PEER("expect_not_for_us") > 0 && PEER("expect_unsupported") > 0 &&
          PEER("expect_short") > 0 && PEER("expect_malformed") > 0 &&
          PEER("expect_bad_checksum") > 0);
#undef PEER
#undef CLIENT
    /* A busy client costs its peer few notifications: no more than one per frame. */
    CHECK(client.notifications_sent <= hosted_counter(hs, "client", "rx_frames"));

    pn_hosted_destroy(hs);
    fclose(out);
    sd_system_free(sys);
}

struct misconfiguration {
    const char *from, *to, *message;
};

static const struct misconfiguration misconfigurations[] = {
    {"\"mac\": \"52:54:00:00:00:02\"", "\"mac\": \"52:54:00:00:02\"", "parameter \"mac\""},
    {"\"mac\": \"52:54:00:00:00:02\"", "\"mac\": \"53:54:00:00:00:02\"", "unicast MAC"},
    {"\"ip\": \"10.0.0.2\"", "\"ip\": \"10.0.0.256\"", "parameter \"ip\""},
    {"\"udp_port\": 1235,\n                \"capacity\": 16",
     "\"udp_port\": 0,\n                \"capacity\": 16", "parameter \"udp_port\""},
    {"\"capacity\": 16, \"buffer_size\": 2048}},\n    {\"name\": \"peer\"",
     "\"capacity\": 12, \"buffer_size\": 2048}},\n    {\"name\": \"peer\"",
     "parameter \"capacity\" must be a power of two"},
    {"\"capacity\": 16, \"buffer_size\": 2048}},\n    {\"name\": \"peer\"",
     "\"capacity\": 16, \"buffer_size\": 2044}},\n    {\"name\": \"peer\"",
     "parameter \"buffer_size\" must be a multiple of 8"},
    {"\"name\": \"tx_data\", \"rights\": \"rw\"", "\"name\": \"tx_data\", \"rights\": \"r\"",
     "region \"tx_data\" must be mapped rw"},
    {"\"name\": \"rx_queue\"", "\"name\": \"rx_ring\"", "region \"rx_queue\" is not mapped"},
    {"{\"pd\": \"client\", \"name\": \"tx\"}", "{\"pd\": \"client\", \"name\": \"transmit\"}",
     "channel \"tx\" is not connected"},
};

static void test_misconfigured_client_stops_at_init(void)
{
    for (size_t i = 0; i < sizeof misconfigurations / sizeof misconfigurations[0]; i++) {
        const struct misconfiguration *m = &misconfigurations[i];
        struct sd_system *sys = hosted_load("echo-client.json", m->from, m->to);
        FILE *out = fmemopen(output, sizeof output - 1, "w");
        struct pn_hosted_options options = {
            .component_dir = PINION_COMPONENT_DIR, .output = out, .timeout_ms = 10000};
        char err[512];
        struct pn_hosted_system *hs = pn_hosted_create(sys, &options, err, sizeof err);
        CHECK(hs != NULL);
        if (hs != NULL) {
            /* The peer waits for buffers that never come: quiescent all the same. */
            CHECK(pn_hosted_run(hs, err, sizeof err));
            struct pn_hosted_stats client;
            pn_hosted_stats(hs, "client", &client);
            CHECK(client.faulted);
            CHECK_STR_CONTAINS(client.fault, m->message);
            pn_hosted_destroy(hs);
        }
        fclose(out);
        sd_system_free(sys);
    }
}

int main(void)
{
    RUN_TEST(test_echo_against_fake_peer);
    RUN_TEST(test_misconfigured_client_stops_at_init);
    return check_exit();
}
