/*
 * pinion-loadgen's engine against a fake guest on loopback: a thread that
 * plays QEMU's socket netdev and two echo clients behind it, answering ARP,
 * ICMP echo and UDP echo the way pinion's guest must. Then misbehaving
 * variants (dropping, corrupting, duplicating, answering from the wrong
 * port or with the wrong MAC, booting late, staying silent), each of which
 * must show in its own counter and fail the run. Timeouts are short so that
 * the whole test takes a few seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "loadgen.h"
#include "loadgen_fake_peer.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
static void test_config(struct lg_config *config, struct fake_peer *peer, enum peer_fault fault)
{
    lg_config_defaults(config);
    config->qemu_port = free_udp_port();
    config->listen_port = free_udp_port();
    config->targets[0] = fake_peer_client0;
    config->targets[1] = fake_peer_client1;
    config->target_count = 2;
    config->packets = 200;
    config->window = 8;
    /*
     * Generous: on a loaded machine (other tests, emulators) a clean echo can
     * take a few hundred milliseconds, and counting it lost would be a flake.
     * Tests of timeouts set their own.
     */
    config->timeout_ms = 600;
    config->arp_timeout_ms = 2000;
    config->arp_retry_ms = 50;
    config->linger_ms = 500;
    config->run_id = 0x1234abcd;
    config->progress = NULL;
    memset(peer, 0, sizeof *peer);
    peer->qemu_port = config->qemu_port;
    peer->loadgen_port = config->listen_port;
    peer->clients[0] = fake_peer_client0;
    peer->clients[1] = fake_peer_client1;
    peer->fault = fault;
    peer->faulty_client = 1;
}

/* Runs the engine against the peer; false (and a failed check) if it could not run. */
static bool run_against(struct lg_config *config, struct fake_peer *peer, struct lg_report *report)
{
    fake_peer_start(peer);
    char error[256] = "";
    bool ran = lg_run(config, report, error, sizeof error);
    fake_peer_stop(peer);
    if (!ran) {
        fprintf(stderr, "lg_run: %s\n", error);
    }
    CHECK(ran);
    return ran;
}

static struct lg_report report;

static void check_clean_udp(const struct lg_echo_counts *counts, uint64_t sent)
{
    CHECK_EQ(counts->sent, sent);
    CHECK_EQ(counts->echoed, sent);
    CHECK_EQ(counts->lost, 0);
    CHECK_EQ(counts->corrupted, 0);
    CHECK_EQ(counts->duplicated, 0);
}

static void test_clean_udp_echo(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_NONE);
    config.packets = 401;
    config.size = 333;
    config.window = 16;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    check_clean_udp(&report.targets[0].udp, 201);
    check_clean_udp(&report.targets[1].udp, 200);
    check_clean_udp(&report.udp_total, 401);
    CHECK_EQ(report.targets[0].arp, LG_ARP_OK);
    CHECK_EQ(report.targets[1].arp, LG_ARP_OK);
    CHECK_EQ(report.unexpected_total, 0);
    CHECK(report.udp_run && report.arp_run && !report.ping_run);
    CHECK(lg_report_ok(&report, 2));
    CHECK_EQ(peer.udp_seen[0], 201);
}

static void test_json_report(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_NONE);
    config.mode = LG_MODE_ALL;
    config.packets = 20;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    char dir[] = "/tmp/loadgen-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/result.json", dir);
    char error[256];
    CHECK(lg_report_write_json(path, &config, &report, error, sizeof error));
    json_error_t json_error;
    json_t *root = json_load_file(path, 0, &json_error);
    CHECK(root != NULL);
    if (root != NULL) {
        CHECK(strcmp(json_string_value(json_object_get(root, "mode")), "all") == 0);
        CHECK(json_is_true(json_object_get(root, "ok")));
        CHECK_EQ(json_integer_value(json_object_get(root, "window")), 8);
        CHECK_EQ(json_integer_value(json_object_get(root, "size")), 64);
        CHECK(json_is_real(json_object_get(root, "elapsed_s")));
        json_t *targets = json_object_get(root, "targets");
        CHECK_EQ(json_array_size(targets), 2);
        json_t *second = json_array_get(targets, 1);
        CHECK(strcmp(json_string_value(json_object_get(second, "mac")), "52:54:00:00:00:11") == 0);
        CHECK(strcmp(json_string_value(json_object_get(second, "ip")), "10.0.0.11") == 0);
        CHECK_EQ(json_integer_value(json_object_get(second, "port")), 1236);
        CHECK_EQ(json_integer_value(json_object_get(second, "sent")), 10);
        CHECK_EQ(json_integer_value(json_object_get(second, "echoed")), 10);
        CHECK(strcmp(json_string_value(json_object_get(second, "arp")), "ok") == 0);
        json_t *ping = json_object_get(second, "ping");
        CHECK_EQ(json_integer_value(json_object_get(ping, "sent")), 4);
        CHECK_EQ(json_integer_value(json_object_get(ping, "replied")), 4);
        CHECK_EQ(json_integer_value(json_object_get(ping, "bad")), 0);
        json_t *total = json_object_get(root, "total");
        CHECK_EQ(json_integer_value(json_object_get(total, "sent")), 20);
        CHECK_EQ(json_integer_value(json_object_get(total, "lost")), 0);
        json_decref(root);
    }
    /* Nothing but the report is left beside it. */
    char listing[128];
    snprintf(listing, sizeof listing, "ls -A %s | wc -l", dir);
    FILE *ls = popen(listing, "r");
    int files = 0;
    CHECK(ls != NULL && fscanf(ls, "%d", &files) == 1);
    CHECK_EQ(files, 1);
    if (ls != NULL) {
        pclose(ls);
    }
    unlink(path);
    rmdir(dir);
    /* An unwritable place: an error naming the file, not a crash. */
    CHECK(!lg_report_write_json("/nonexistent-dir/r.json", &config, &report, error, sizeof error));
    CHECK_STR_CONTAINS(error, "/nonexistent-dir/r.json");
}

static void test_all_modes_clean(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_NONE);
    config.mode = LG_MODE_ALL;
    config.pings = 5;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    CHECK(report.arp_run && report.ping_run && report.udp_run);
    for (size_t t = 0; t < 2; t++) {
        CHECK_EQ(report.targets[t].arp, LG_ARP_OK);
        CHECK_EQ(report.targets[t].ping.sent, 5);
        CHECK_EQ(report.targets[t].ping.echoed, 5);
        CHECK_EQ(report.targets[t].ping.corrupted, 0);
        check_clean_udp(&report.targets[t].udp, 100);
    }
    CHECK(lg_report_ok(&report, 2));

    /* arp mode: only ARP. */
    test_config(&config, &peer, FAULT_NONE);
    config.mode = LG_MODE_ARP;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    CHECK(report.arp_run && !report.ping_run && !report.udp_run);
    CHECK_EQ(report.targets[1].arp, LG_ARP_OK);
    CHECK_EQ(peer.udp_seen[0] + peer.pings_seen[0], 0);
    CHECK(lg_report_ok(&report, 2));
}

static void test_drop_every_tenth(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_DROP_EVERY_10TH);
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    check_clean_udp(&report.targets[0].udp, 100);
    const struct lg_echo_counts *faulty = &report.targets[1].udp;
    CHECK_EQ(faulty->sent, 100);
    CHECK_EQ(faulty->lost, 10);
    CHECK_EQ(faulty->echoed, 90);
    CHECK_EQ(faulty->corrupted + faulty->duplicated, 0);
    CHECK_EQ(report.udp_total.lost, 10);
    CHECK(!report.udp_stalled);
    CHECK(!lg_report_ok(&report, 2));
}

static void test_corrupt_one(void)
{
    const enum peer_fault faults[] = {FAULT_CORRUPT_ONE, FAULT_CORRUPT_CHECKSUMED};
    for (size_t f = 0; f < 2; f++) {
        struct lg_config config;
        struct fake_peer peer;
        test_config(&config, &peer, faults[f]);
        if (!run_against(&config, &peer, &report)) {
            return;
        }
        const struct lg_echo_counts *faulty = &report.targets[1].udp;
        CHECK_EQ(faulty->corrupted, 1);
        CHECK_EQ(faulty->echoed, 99);
        CHECK_EQ(faulty->lost, 0);
        CHECK_EQ(report.udp_total.corrupted, 1);
        CHECK_EQ(report.unexpected_total, 0);
        CHECK(!lg_report_ok(&report, 2));
    }
}

static void test_duplicate_one(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_DUPLICATE_ONE);
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    const struct lg_echo_counts *faulty = &report.targets[1].udp;
    CHECK_EQ(faulty->echoed, 100);
    CHECK_EQ(faulty->duplicated, 1);
    CHECK_EQ(report.udp_total.duplicated, 1);
    CHECK_EQ(report.udp_total.lost + report.udp_total.corrupted, 0);
    CHECK(!lg_report_ok(&report, 2));
}

static void test_late_echo(void)
{
    /* Counted lost after the timeout, then echoed after all: echoed and late, not lost. */
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_HOLD_ONE);
    /* The peer holds the echo 600 ms: well past this timeout, well within the linger. */
    config.timeout_ms = 150;
    config.linger_ms = 1500;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    const struct lg_echo_counts *faulty = &report.targets[1].udp;
    CHECK_EQ(faulty->echoed, 100);
    CHECK_EQ(faulty->late, 1);
    CHECK_EQ(faulty->lost + faulty->duplicated + faulty->corrupted, 0);
    CHECK(lg_report_ok(&report, 2));
}

static void test_wrong_source_port(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_WRONG_PORT);
    config.packets = 40;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    check_clean_udp(&report.targets[0].udp, 20);
    const struct lg_echo_counts *faulty = &report.targets[1].udp;
    CHECK_EQ(faulty->sent, 20);
    CHECK_EQ(faulty->echoed, 0);
    CHECK_EQ(faulty->lost, 20);
    CHECK_EQ(report.targets[1].unexpected, 20);
    CHECK_EQ(report.unexpected_by_reason[LG_UNEXPECTED_WRONG_PORT], 20);
    CHECK(!lg_report_ok(&report, 2));
}

static void test_wrong_arp_mac(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_WRONG_ARP_MAC);
    config.mode = LG_MODE_ARP;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    CHECK_EQ(report.targets[0].arp, LG_ARP_OK);
    CHECK_EQ(report.targets[1].arp, LG_ARP_WRONG_MAC);
    CHECK_EQ(report.targets[1].arp_mac_seen[5], 0x11 ^ 0x80);
    CHECK(!lg_report_ok(&report, 2));
}

static void test_bad_ping_reply(void)
{
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_BAD_PING_PAYLOAD);
    config.mode = LG_MODE_PING;
    config.pings = 6;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    CHECK_EQ(report.targets[0].ping.echoed, 6);
    CHECK_EQ(report.targets[1].ping.sent, 6);
    CHECK_EQ(report.targets[1].ping.echoed, 5);
    CHECK_EQ(report.targets[1].ping.corrupted, 1);
    CHECK(!report.udp_run);
    CHECK(!lg_report_ok(&report, 2));
}

static void test_late_guest(void)
{
    /* Nothing listens for the first 400 ms: ARP retries until it does, then all goes through. */
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_NONE);
    peer.start_delay_ms = 400;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    CHECK_EQ(report.targets[0].arp, LG_ARP_OK);
    CHECK_EQ(report.targets[1].arp, LG_ARP_OK);
    check_clean_udp(&report.udp_total, 200);
    CHECK(lg_report_ok(&report, 2));
}

static void test_silent_guest(void)
{
    /* No ARP replies within the ARP timeout, then a few timeouts of silence end the run. */
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_SILENT);
    config.arp_timeout_ms = 200;
    config.timeout_ms = 100;
    config.packets = 100000;
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    CHECK_EQ(report.targets[0].arp, LG_ARP_NO_REPLY);
    CHECK_EQ(report.targets[1].arp, LG_ARP_NO_REPLY);
    CHECK(report.udp_stalled);
    CHECK_EQ(report.udp_total.sent, (uint64_t)config.window * LG_STALLED_TIMEOUTS);
    CHECK_EQ(report.udp_total.lost, report.udp_total.sent);
    CHECK_EQ(report.udp_total.echoed, 0);
    CHECK(!lg_report_ok(&report, 2));
}

static void test_stale_and_noise(void)
{
    /* Frames that are none of ours are counted with their reason but fail nothing. */
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_STALE_AND_NOISE);
    if (!run_against(&config, &peer, &report)) {
        return;
    }
    check_clean_udp(&report.udp_total, 200);
    CHECK_EQ(report.unexpected_by_reason[LG_UNEXPECTED_STALE], 1);
    CHECK_EQ(report.unexpected_by_reason[LG_UNEXPECTED_MALFORMED], 1);
    CHECK_EQ(report.malformed_by_status[LG_PARSE_BAD_IP_CHECKSUM], 1);
    CHECK_EQ(report.targets[1].unexpected, 2);
    CHECK_EQ(report.unexpected_total, 2);
    CHECK_EQ(report.arp_requests_answered, 1);
    CHECK_EQ(peer.arp_replies_from_loadgen, 1);
    CHECK(lg_report_ok(&report, 2));
}

static void test_port_in_use(void)
{
    /* The listening port is taken: lg_run says so instead of running. */
    struct lg_config config;
    struct fake_peer peer;
    test_config(&config, &peer, FAULT_NONE);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons(config.listen_port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&address, sizeof address) == 0);
    char error[256] = "";
    CHECK(!lg_run(&config, &report, error, sizeof error));
    CHECK_STR_CONTAINS(error, "--listen");
    close(fd);
}

int main(void)
{
    RUN_TEST(test_clean_udp_echo);
    RUN_TEST(test_json_report);
    RUN_TEST(test_all_modes_clean);
    RUN_TEST(test_drop_every_tenth);
    RUN_TEST(test_corrupt_one);
    RUN_TEST(test_duplicate_one);
    RUN_TEST(test_late_echo);
    RUN_TEST(test_wrong_source_port);
    RUN_TEST(test_wrong_arp_mac);
    RUN_TEST(test_bad_ping_reply);
    RUN_TEST(test_late_guest);
    RUN_TEST(test_silent_guest);
    RUN_TEST(test_stale_and_noise);
    RUN_TEST(test_port_in_use);
    return check_exit();
}
