#define _POSIX_C_SOURCE 200809L
/*
 * The network echo system's real multiplexers and copiers (net_virt_rx,
 * net_virt_tx, two net_copier) in the hosted backend, between a fake driver
 * (tests/components/fake_net_driver.c) and two fake clients
 * (tests/components/fake_net_client.c) that check every frame and hand
 * corrupt descriptors in at every interface they have
 * (tests/data/hosted/net-mux.json). Every counter of the real components
 * must be exactly what the fakes did, every valid frame must arrive intact
 * and in order where it belongs, and no buffer may be lost. The fakes step
 * through batches together, so the counts are exact whatever the threads'
 * timing: the run is repeated to show it.
 */
#include "hosted_fixture.h"

#include <hosted.h>
#include <pinion/net_queue.h>
#include <stdlib.h>

#define BATCHES           300  /* the driver's "batches" in net-mux.json */
#define TX_FRAMES         1000 /* each client's "tx_frames" */
#define CLIENT_RX_BUFFERS 8    /* client_rx_data: 16 KiB of 2048-byte buffers */
#define SLOW_AFTER        40   /* the slow client's "slow_after_frames" */
#define RING_CAPACITY     512  /* every "capacity" */
#define REPEATS           3

static const char *const pd_names[] = {
    "ethernet_driver",    "net_virt_rx", "net_virt_tx", "client0_net_copier",
    "client1_net_copier", "client0",     "client1"};
#define N_PDS (sizeof pd_names / sizeof pd_names[0])

static char output[1 << 16];

/* Runs the system to quiescence and checks no PD faulted; NULL if it could not start. */
static struct pn_hosted_system *run(struct sd_system *sys, FILE *out)
{
    struct pn_hosted_system *hs = hosted_run(sys, out, 120000);
    for (size_t i = 0; hs && i < N_PDS; i++) {
        struct pn_hosted_stats stats;
        CHECK(pn_hosted_stats(hs, pd_names[i], &stats));
        CHECK(!stats.faulted);
        if (stats.faulted) {
            fprintf(stderr, "%s faulted: %s\n", pd_names[i], stats.fault);
        }
    }
    return hs;
}

#define DRIVER(name)    hosted_counter(hs, "ethernet_driver", name)
#define VIRT_RX(name)   hosted_counter(hs, "net_virt_rx", name)
#define VIRT_TX(name)   hosted_counter(hs, "net_virt_tx", name)
#define COPIER(k, name) hosted_counter(hs, k ? "client1_net_copier" : "client0_net_copier", name)
#define CLIENT(k, name) hosted_counter(hs, k ? "client1" : "client0", name)

static uint64_t sent_to(struct pn_hosted_system *hs, int k)
{
    return DRIVER(k ? "sent_client1" : "sent_client0");
}

/* The driver's side, and net_virt_rx, which the slow client must not affect. */
static void check_driver_and_virt_rx(struct pn_hosted_system *hs)
{
    CHECK_STR_CONTAINS(output, "ethernet_driver: done\n");
    CHECK_EQ(DRIVER("done"), 1);
    CHECK_EQ(DRIVER("batches_done"), BATCHES);
    /* Every receive buffer back, each exactly once. */
    CHECK_EQ(DRIVER("rx_buffers_out"), 0);
    CHECK_EQ(DRIVER("rx_bad_returns"), 0);

    CHECK_EQ(VIRT_RX("frames"),
             sent_to(hs, 0) + sent_to(hs, 1) + DRIVER("sent_group") + DRIVER("sent_nobody"));
    CHECK_EQ(VIRT_RX("broadcasts"), DRIVER("sent_group"));
    CHECK_EQ(VIRT_RX("no_client"), DRIVER("sent_nobody"));
    CHECK_EQ(VIRT_RX("bad_driver_desc"), DRIVER("sent_runt") + DRIVER("sent_bad_desc"));
    CHECK_EQ(VIRT_RX("client_full"), 0);
    CHECK_EQ(VIRT_RX("bad_client_desc"), 0);

    /* The script covered what it claims to: one corrupt descriptor per batch, five kinds. */
    CHECK_EQ(DRIVER("sent_bad_desc"), BATCHES);
    CHECK(sent_to(hs, 0) > 500 && sent_to(hs, 1) > 500);
    CHECK(DRIVER("sent_group") > 100 && DRIVER("sent_nobody") > 100 && DRIVER("sent_runt") > 50);
}

/* Transmit: every frame each client sent reached the driver, corrupt ones stopped. */
static void check_transmit(struct pn_hosted_system *hs)
{
    CHECK_EQ(DRIVER("tx_wrong"), 0);
    CHECK_EQ(DRIVER("tx_bogus_returns"), 4);
    CHECK_EQ(VIRT_TX("frames"), 2 * TX_FRAMES);
    CHECK_EQ(VIRT_TX("bad_client_desc"), CLIENT(0, "tx_sent_bad") + CLIENT(1, "tx_sent_bad"));
    CHECK_EQ(VIRT_TX("bad_driver_desc"), DRIVER("tx_bogus_returns"));
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(CLIENT(k, "tx_sent"), TX_FRAMES);
        CHECK_EQ(CLIENT(k, "tx_sent_bad"), TX_FRAMES / 25); /* every 25th frame */
        CHECK_EQ(DRIVER(k ? "tx_frames_client1" : "tx_frames_client0"), TX_FRAMES);
        CHECK_EQ(CLIENT(k, "tx_returned"), TX_FRAMES);
        CHECK_EQ(CLIENT(k, "tx_wrong_return"), 0);
        CHECK_EQ(CLIENT(k, "tx_buffers_out"), 0);
    }
}

/* Client k received every frame offered it, intact and in order, and its copier counted so. */
static void check_steady_client(struct pn_hosted_system *hs, int k)
{
    CHECK_EQ(CLIENT(k, "rx_wrong"), 0);
    CHECK_EQ(CLIENT(k, "rx_bad_desc"), 0);
    CHECK_EQ(CLIENT(k, "rx_unicast"), sent_to(hs, k));
    CHECK_EQ(CLIENT(k, "rx_group"), DRIVER("sent_group"));
    CHECK_EQ(CLIENT(k, "rx_buffers_kept"), 0);
    CHECK_EQ(CLIENT(k, "acks"), BATCHES);
    CHECK_EQ(CLIENT(k, "sent_bad_free"), 5); /* two at init, three among the returns */

    CHECK_EQ(COPIER(k, "copied"), sent_to(hs, k) + DRIVER("sent_group"));
    CHECK_EQ(COPIER(k, "copied_bytes"), DRIVER(k ? "bytes_client1" : "bytes_client0"));
    CHECK_EQ(COPIER(k, "client_no_buffer"), 0);
    CHECK_EQ(COPIER(k, "bad_virt_desc"), 0);
    CHECK_EQ(COPIER(k, "bad_client_desc"), CLIENT(k, "sent_bad_free"));
}

static void test_mux_and_copiers_against_fake_peers(void)
{
    struct sd_system *sys = hosted_load("net-mux.json", NULL, NULL);
    for (int repeat = 0; repeat < REPEATS; repeat++) {
        FILE *out = fmemopen(output, sizeof output - 1, "w");
        struct pn_hosted_system *hs = run(sys, out);
        if (hs != NULL) {
            check_driver_and_virt_rx(hs);
            check_transmit(hs);
            check_steady_client(hs, 0);
            check_steady_client(hs, 1);
            pn_hosted_destroy(hs);
        }
        fclose(out);
    }
    sd_system_free(sys);
}

/*
 * Client 1 stops returning receive buffers after SLOW_AFTER frames: its
 * copier gets no buffer for anything after the first CLIENT_RX_BUFFERS +
 * SLOW_AFTER frames and must drop those, while client 0 receives all and
 * every driver buffer still comes back.
 */
static void test_slow_client_costs_only_itself(void)
{
    char slow[128];
    snprintf(slow, sizeof slow, "\"mac\": \"52:54:00:00:00:03\", \"slow_after_frames\": %d",
             SLOW_AFTER);
    struct sd_system *sys = hosted_load("net-mux.json", "\"mac\": \"52:54:00:00:00:03\"", slow);
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct pn_hosted_system *hs = run(sys, out);
    if (hs != NULL) {
        check_driver_and_virt_rx(hs);
        check_transmit(hs);
        check_steady_client(hs, 0);

        uint64_t got = CLIENT_RX_BUFFERS + SLOW_AFTER;
        uint64_t offered = sent_to(hs, 1) + DRIVER("sent_group");
        CHECK_EQ(CLIENT(1, "rx_unicast") + CLIENT(1, "rx_group"), got);
        CHECK_EQ(CLIENT(1, "rx_wrong"), 0);
        CHECK_EQ(CLIENT(1, "rx_bad_desc"), 0);
        CHECK_EQ(CLIENT(1, "rx_buffers_kept"), CLIENT_RX_BUFFERS);
        CHECK_EQ(CLIENT(1, "acks"), BATCHES);
        CHECK_EQ(COPIER(1, "copied"), got);
        CHECK_EQ(COPIER(1, "client_no_buffer"), offered - got);
        CHECK_EQ(COPIER(1, "bad_virt_desc"), 0);
        /* Its corrupt free descriptors all came before it stopped; the copier met them all. */
        CHECK_EQ(CLIENT(1, "sent_bad_free"), 5);
        CHECK_EQ(COPIER(1, "bad_client_desc"), 5);
        pn_hosted_destroy(hs);
    }
    fclose(out);
    sd_system_free(sys);
}

/*
 * Client 1 keeps its free ring full, naming each of its buffers many times,
 * and never takes a frame. Only it suffers (its frames overwrite each other
 * in its buffers), but what the copier counts must still be true: once the
 * copier's ring to the client is full, a frame has nowhere to go and must
 * be dropped and counted as such, and "copied" must be what the ring holds.
 */
static void test_client_overfilling_its_free_ring(void)
{
    struct sd_system *sys =
        hosted_load("net-mux.json", "\"mac\": \"52:54:00:00:00:03\"",
                    "\"mac\": \"52:54:00:00:00:03\", \"overfill_free_ring\": 1");
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct pn_hosted_system *hs = run(sys, out);
    if (hs != NULL) {
        check_driver_and_virt_rx(hs);
        check_transmit(hs);
        check_steady_client(hs, 0);

        uint64_t size = 0, in_ring = 0;
        unsigned char *queue = pn_hosted_region(hs, "rx_client1_q", &size);
        CHECK(queue != NULL && size >= pn_net_pair_bytes(RING_CAPACITY));
        if (queue != NULL) {
            struct pn_ring_shared *active = pn_net_active_ring(queue, RING_CAPACITY);
            in_ring = atomic_load(&active->tail);
        }
        uint64_t offered = sent_to(hs, 1) + DRIVER("sent_group");
        CHECK_EQ(in_ring, RING_CAPACITY); /* the client never took one */
        CHECK_EQ(COPIER(1, "copied"), in_ring);
        /* client_no_buffer, or whichever counter a fix adds for a full ring */
        CHECK_EQ(COPIER(1, "copied") + COPIER(1, "client_no_buffer"), offered);
        CHECK_EQ(COPIER(1, "bad_client_desc"), 2);
        CHECK_EQ(CLIENT(1, "sent_bad_free"), 2);
        CHECK_EQ(CLIENT(1, "acks"), BATCHES);
        pn_hosted_destroy(hs);
    }
    fclose(out);
    sd_system_free(sys);
}

int main(void)
{
    RUN_TEST(test_mux_and_copiers_against_fake_peers);
    RUN_TEST(test_slow_client_costs_only_itself);
    RUN_TEST(test_client_overfilling_its_free_ring);
    return check_exit();
}
