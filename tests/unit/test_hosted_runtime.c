#define _POSIX_C_SOURCE 200809L
/*
 * The hosted backend: components as threads, with the semantics the
 * kernel will have (separate PD state, notifications that merge, deferred
 * notifications, level-triggered interrupts with acks, protected calls,
 * a fault that stops one PD only, quiescence and its timeout).
 */
#include "hosted_fixture.h"

#include <hosted.h>
#include <stdlib.h>

static char output[65536];

static void test_runtime_semantics(void)
{
    struct sd_system *sys = hosted_load("runtime.json", NULL, NULL);
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct pn_hosted_options options = {
        .component_dir = PINION_COMPONENT_DIR, .output = out, .timeout_ms = 30000};
    char err[512];
    struct pn_hosted_system *hs = pn_hosted_create(sys, &options, err, sizeof err);
    CHECK(hs != NULL);
    if (hs == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    /* Raised twice before it is handled: delivered once, then once more after the ack. */
    CHECK(pn_hosted_raise_irq(hs, "device_user", "dev"));
    CHECK(pn_hosted_raise_irq(hs, "device_user", "dev"));
    CHECK(!pn_hosted_raise_irq(hs, "device_user", "nonexistent"));
    CHECK(!pn_hosted_raise_irq(hs, "ping", "peer")); /* a channel, not an interrupt */

    CHECK(pn_hosted_run(hs, err, sizeof err));
    fflush(out);

    /*
     * One program, two PDs, each with its own globals: ping starts, so pong
     * sees the 1000th notification and stops; ping saw 999 replies.
     */
    CHECK_EQ(hosted_counter(hs, "ping", "seen"), 999);
    CHECK_EQ(hosted_counter(hs, "pong", "seen"), 1000);
    struct pn_hosted_stats ping, pong, dev, client, server, broken;
    pn_hosted_stats(hs, "ping", &ping);
    pn_hosted_stats(hs, "pong", &pong);
    CHECK_EQ(ping.notifications_received, 999);
    CHECK_EQ(pong.notifications_received, 1000);
    CHECK_EQ(ping.notifications_sent, 1000);
    CHECK_EQ(pong.notifications_sent, 999);
    CHECK_EQ(pong.notifications_deferred, 500); /* every other reply */
    CHECK_EQ(ping.entries, 1000);               /* init and 999 notifications */

    pn_hosted_stats(hs, "device_user", &dev);
    CHECK_EQ(hosted_counter(hs, "device_user", "irqs"), 2);
    CHECK_EQ(dev.irqs_delivered, 2);
    CHECK_EQ(dev.irq_acks, 2);

    pn_hosted_stats(hs, "client", &client);
    pn_hosted_stats(hs, "server", &server);
    CHECK_EQ(hosted_counter(hs, "client", "label"), 100 + 6 + 7);
    CHECK_EQ(hosted_counter(hs, "client", "product"), 42);
    CHECK_EQ(client.ppcalls_made, 1);
    CHECK_EQ(server.ppcalls_served, 1);
    CHECK_EQ(hosted_counter(hs, "server", "calls"), 1);

    pn_hosted_stats(hs, "broken", &broken);
    CHECK(broken.faulted);
    CHECK_STR_CONTAINS(broken.fault, "region \"rx_queue\" is not mapped");
    CHECK(!ping.faulted && !pong.faulted && !dev.faulted);
    CHECK_STR_CONTAINS(output, "broken: fatal: region \"rx_queue\" is not mapped");
    CHECK_STR_CONTAINS(output, "pong: done\n");
    CHECK(strstr(output, "ping: done") == NULL);
    CHECK(strstr(output, "unreachable") == NULL);

    pn_hosted_destroy(hs);
    fclose(out);
    sd_system_free(sys);
}

static void test_timeout_names_busy_pds(void)
{
    struct sd_system *sys = hosted_load("endless.json", NULL, NULL);
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct pn_hosted_options options = {
        .component_dir = PINION_COMPONENT_DIR, .output = out, .timeout_ms = 1000};
    char err[512];
    struct pn_hosted_system *hs = pn_hosted_create(sys, &options, err, sizeof err);
    CHECK(hs != NULL);
    if (hs == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(!pn_hosted_run(hs, err, sizeof err));
    CHECK_STR_CONTAINS(err, "not quiescent after 1000 ms");
    CHECK(strstr(err, "left") != NULL || strstr(err, "right") != NULL);
    CHECK(strstr(err, "bystander") == NULL);
    pn_hosted_destroy(hs);
    fclose(out);
    sd_system_free(sys);
}

static void test_missing_program_is_named(void)
{
    struct sd_system *sys = hosted_load("runtime.json", NULL, NULL);
    struct pn_hosted_options options = {.component_dir = "/nonexistent-dir"};
    char err[512];
    struct pn_hosted_system *hs = pn_hosted_create(sys, &options, err, sizeof err);
    CHECK(hs == NULL);
    CHECK_STR_CONTAINS(err, "PD \"ping\": program \"test_pingpong\" not found");
    sd_system_free(sys);
}

int main(void)
{
    RUN_TEST(test_runtime_semantics);
    RUN_TEST(test_timeout_names_busy_pds);
    RUN_TEST(test_missing_program_is_named);
    return check_exit();
}
