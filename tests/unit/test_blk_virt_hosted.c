#define _POSIX_C_SOURCE 200809L
/*
 * The block virtualiser (blk_virt) in the hosted backend, between a fake
 * driver (tests/components/fake_blk_driver.c: a RAM disk that answers out
 * of order and with unknown and repeated ids), a fake client
 * (tests/components/fake_blk_client.c: sound requests, every malformed
 * kind, and a broken request ring at the end) and a real benchmark client
 * (blk_bench, which also makes a malformed request every 50), wired by
 * tests/data/hosted/blk-virt.json with partitions from the device. Every
 * counter of the virtualiser must be exactly what the fakes did, every
 * malformed request refused without reaching the driver, both clients'
 * sound requests done with the right data, and the disk after the run
 * what pinion-blkimage's check says it must be. The counts are exact
 * whatever the threads' timing: the run is repeated to show it.
 */
#include "blk_fixture.h"
#include "hosted_fixture.h"

#include <hosted.h>
#include <unistd.h>

#define REPEATS   3
#define ROUNDS    200 /* the fake client's "rounds" */
#define BAD_KINDS 9   /* the fake client's malformed requests a round */
#define WRITES    4   /* and its writes a round, of 4 KiB chunks */
#define BENCH_IOS 3000
/* client1's "bad_every": one after every 50 requests of its sequence but the last. */
#define BENCH_BAD      (BENCH_IOS - 1) / 50
#define CLIENT0_START  128u /* blocks: 64 KiB */
#define CLIENT0_BLOCKS 512u
#define CHUNK_BLOCKS   8u

static const char *const pd_names[] = {"blk_driver", "blk_virt", "client0", "client1"};
#define N_PDS (sizeof pd_names / sizeof pd_names[0])

static char output[1 << 16];

#define DRIVER(name) hosted_counter(hs, "blk_driver", name)
#define VIRT(name)   hosted_counter(hs, "blk_virt", name)
#define FAKE(name)   hosted_counter(hs, "client0", name)
#define BENCH(name)  hosted_counter(hs, "client1", name)

static void check_no_faults(struct pn_hosted_system *hs)
{
    for (size_t i = 0; i < N_PDS; i++) {
        struct pn_hosted_stats stats;
        CHECK(pn_hosted_stats(hs, pd_names[i], &stats));
        CHECK(!stats.faulted);
        if (stats.faulted) {
            fprintf(stderr, "%s faulted: %s\n", pd_names[i], stats.fault);
        }
    }
}

static void check_virtualiser(struct pn_hosted_system *hs)
{
    CHECK_EQ(VIRT("einval"), FAKE("bad_sent") + BENCH("bad_sent"));
    CHECK_EQ(VIRT("bad_driver_response"), DRIVER("bogus_unknown") + DRIVER("bogus_repeated"));
    CHECK(DRIVER("bogus_unknown") > 100 && DRIVER("bogus_repeated") > 100);
    CHECK_EQ(VIRT("forwarded"), DRIVER("requests") + DRIVER("flushes"));
    CHECK_EQ(VIRT("driver_ring_errors"), 0);
    /* The broken ring was seen, at least once (each look at it counts). */
    CHECK(VIRT("client_ring_errors") >= 1);
    /* Nothing malformed reached the driver but what the test mode made, all of it refused. */
    CHECK_EQ(DRIVER("bad_requests"), VIRT("injected_bad"));
    CHECK_EQ(VIRT("injected_refused"), VIRT("injected_bad"));
    CHECK_EQ(DRIVER("lost_answers"), 0);
}

static void check_fake_client(struct pn_hosted_system *hs)
{
    CHECK_EQ(FAKE("rounds_done"), ROUNDS);
    CHECK_EQ(FAKE("bad_sent"), ROUNDS * BAD_KINDS);
    CHECK_EQ(FAKE("bad_refused"), ROUNDS * BAD_KINDS);
    CHECK_EQ(FAKE("bad_other"), 0);
    CHECK_EQ(FAKE("good_ok"), ROUNDS * WRITES + (ROUNDS - 1) * WRITES);
    CHECK_EQ(FAKE("good_failed"), 0);
    CHECK_EQ(FAKE("wrong_data"), 0);
    CHECK_EQ(FAKE("unexpected"), 0);
    CHECK_EQ(FAKE("ring_broken"), 1);
}

/* The other client is unaffected by all of it. */
static void check_bench_client(struct pn_hosted_system *hs)
{
    CHECK_STR_CONTAINS(output, "client1: blk_bench done: 3000 requests, 0 bad blocks, 0 errors");
    CHECK_EQ(BENCH("done"), 1);
    CHECK_EQ(BENCH("requests"), BENCH_IOS);
    CHECK_EQ(BENCH("bad_sent"), BENCH_BAD);
    CHECK_EQ(BENCH("bad_refused"), BENCH_BAD);
    static const char *const zero[] = {"blocks_lost",    "blocks_torn",     "blocks_misplaced",
                                       "blocks_corrupt", "error_responses", "unexpected_responses",
                                       "ring_errors"};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        CHECK_EQ(BENCH(zero[i]), 0);
    }
    CHECK(BENCH("blocks_checked") > 0 && BENCH("written_bytes") > 0);
    CHECK_EQ(BENCH("read_bytes") / 4096 + BENCH("written_bytes") / 4096, BENCH_IOS);
}

/* The fake client's chunks hold the generation of their last write, the round after it. */
static void check_fake_client_partition(const uint8_t *disk)
{
    uint32_t last[CLIENT0_BLOCKS / CHUNK_BLOCKS] = {0};
    uint64_t chunks = CLIENT0_BLOCKS / CHUNK_BLOCKS, wrong = 0;
    for (uint64_t round = 0; round < ROUNDS; round++) {
        for (uint64_t i = 0; i < WRITES; i++) {
            last[(round * WRITES + i) % chunks] = (uint32_t)round + 1;
        }
    }
    for (uint64_t b = 0; b < CLIENT0_BLOCKS; b++) {
        uint64_t block = CLIENT0_START + b;
        wrong += blk_pattern_verdict((const uint64_t *)(const void *)(disk + block * 512), 64, 0,
                                     block, last[b / CHUNK_BLOCKS]) != BLK_BLOCK_OK;
    }
    CHECK_EQ(wrong, 0);
}

/* The RAM disk as an image file, checked as experiments/run checks a disk after a run. */
static void check_disk_like_the_runner(const struct sd_system *sys, const uint8_t *disk,
                                       uint64_t size)
{
    char path[] = "/tmp/pinion-blk-virt-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, disk, size) == (ssize_t)size);
    close(fd);
    struct blkimage_partition partitions[SD_MAX_PARTITIONS];
    const struct sd_device *device;
    struct blkimage_error err;
    json_t *report = NULL;
    bool ok = false;
    CHECK(blkimage_partitions(sys, "disk0", &device, partitions, &err));
    CHECK(!partitions[0].bench && partitions[1].bench);
    CHECK(blkimage_verify(path, device, partitions, &report, &ok, &err));
    CHECK(ok);
    if (!ok && report != NULL) {
        json_dumpf(report, stderr, JSON_INDENT(2));
    }
    json_decref(report);
    unlink(path);
}

/*
 * Runs blk-virt.json (with `from` replaced by `to`) `repeats` times and checks everything;
 * the virtualiser's test mode must have made at least `expected_injections` requests.
 */
static void run_and_check(const char *from, const char *to, int repeats,
                          uint64_t expected_injections)
{
    struct sd_system *sys = hosted_load("blk-virt.json", from, to);
    struct blk_bench_plan plan = blk_fixture_plan(sys, "client1");
    for (int repeat = 0; repeat < repeats; repeat++) {
        FILE *out = fmemopen(output, sizeof output - 1, "w");
        struct pn_hosted_system *hs = hosted_create(sys, out, 120000);
        uint64_t size = 0;
        uint8_t *disk = hs ? pn_hosted_region(hs, "disk", &size) : NULL;
        CHECK(disk != NULL);
        if (disk != NULL) {
            blk_fixture_fill(disk, 0, &plan);
            hosted_run_created(hs, out);
            check_no_faults(hs);
            check_virtualiser(hs);
            CHECK(VIRT("injected_bad") >= expected_injections);
            check_fake_client(hs);
            check_bench_client(hs);
            CHECK_EQ(blk_fixture_bad_blocks(disk, 0, &plan), 0);
            check_fake_client_partition(disk);
            check_disk_like_the_runner(sys, disk, size);
        }
        if (hs != NULL) {
            pn_hosted_destroy(hs);
        }
        fclose(out);
    }
    sd_system_free(sys);
}

static void test_virtualiser_against_misbehaving_peers(void)
{
    run_and_check(NULL, NULL, REPEATS, 0);
}

/*
 * Its test mode: a request no driver may follow after every 10 forwarded,
 * of each kind in turn; the fake driver must refuse every one, and no
 * client hears of them.
 */
static void test_injected_requests_for_the_driver(void)
{
    /* Forwarded: each round's writes and reads (none the first), the bench's requests and flush. */
    uint64_t forwarded = ROUNDS * WRITES * 2 - WRITES + BENCH_IOS + 1;
    run_and_check("\"params\": {\"capacity\": 64}}",
                  "\"params\": {\"capacity\": 64, \"inject_bad_every\": 10}}", 1,
                  forwarded / 10 - 1);
}

/*
 * The driver dies holding requests (the fake driver's die_after): what it
 * answered before goes back as usual; every request still at it is answered
 * PN_BLK_EIO to the client that made it, under that client's id; every
 * later request is answered PN_BLK_EIO at once, never forwarded; both
 * clients finish their sequences, counting the errors; nothing hangs.
 */
static void test_driver_dies_with_requests_in_flight(void)
{
    struct sd_system *sys =
        hosted_load("blk-virt.json", "\"params\": {\"capacity\": 64, \"block_size\": 512}}",
                    "\"params\": {\"capacity\": 64, \"block_size\": 512, "
                    "\"die_after\": 700}}");
    struct blk_bench_plan plan = blk_fixture_plan(sys, "client1");
    for (int repeat = 0; repeat < REPEATS; repeat++) {
        FILE *out = fmemopen(output, sizeof output - 1, "w");
        struct pn_hosted_system *hs = hosted_create(sys, out, 120000);
        uint8_t *disk = hs ? pn_hosted_region(hs, "disk", NULL) : NULL;
        if (disk == NULL) {
            CHECK(disk != NULL);
            fclose(out);
            break;
        }
        blk_fixture_fill(disk, 0, &plan);
        hosted_run_created(hs, out);
        struct pn_hosted_stats stats;
        CHECK(pn_hosted_stats(hs, "blk_driver", &stats) && stats.faulted);
        CHECK_STR_CONTAINS(output, "blk_driver: fatal: dying on purpose (die_after)");
        for (size_t i = 1; i < N_PDS; i++) {
            CHECK(pn_hosted_stats(hs, pd_names[i], &stats) && !stats.faulted);
        }
        /* The driver served 700 and died holding at least one more. */
        uint64_t served = DRIVER("requests") + DRIVER("flushes") + DRIVER("bad_requests");
        CHECK_EQ(served, 700);
        CHECK(DRIVER("held_at_death") >= 1);
        CHECK_EQ(VIRT("driver_dead"), 1);
        /* Everything forwarded and not served failed at the failover, and nothing more went. */
        CHECK_EQ(VIRT("eio_in_flight"), VIRT("forwarded") - served);
        CHECK(VIRT("eio_in_flight") >= DRIVER("held_at_death"));
        CHECK(VIRT("eio_answered") > VIRT("eio_in_flight")); /* later requests failed at once */
        CHECK_EQ(VIRT("bad_driver_response"), DRIVER("bogus_unknown") + DRIVER("bogus_repeated"));
        CHECK_EQ(VIRT("driver_ring_errors"), 0);
        CHECK_EQ(VIRT("einval"), FAKE("bad_sent") + BENCH("bad_sent"));
        /* Each EIO went to the client that asked, under its id (no answer unexpected). */
        CHECK_EQ(FAKE("good_failed") + BENCH("error_responses"), VIRT("eio_answered"));
        CHECK(FAKE("good_failed") > 0 && BENCH("error_responses") > 0);
        CHECK_EQ(FAKE("unexpected"), 0);
        CHECK_EQ(BENCH("unexpected_responses"), 0);
        /* The fake client went through every round, each sound request answered once. */
        CHECK_EQ(FAKE("rounds_done"), ROUNDS);
        CHECK_EQ(FAKE("good_ok") + FAKE("good_failed"), ROUNDS * WRITES + (ROUNDS - 1) * WRITES);
        CHECK_EQ(FAKE("bad_refused"), ROUNDS * BAD_KINDS);
        CHECK_EQ(FAKE("wrong_data"), 0);
        /* The benchmark finished its sequence, counting the errors, and said so. */
        CHECK_EQ(BENCH("done"), 1);
        CHECK_EQ(BENCH("requests"), BENCH_IOS);
        CHECK_EQ(BENCH("bad_refused"), BENCH("bad_sent"));
        CHECK_STR_CONTAINS(output, "client1: blk_bench done: 3000 requests, 0 bad blocks, ");
        static const char *const zero[] = {"blocks_lost", "blocks_torn", "blocks_misplaced",
                                           "blocks_corrupt", "ring_errors"};
        for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
            CHECK_EQ(BENCH(zero[i]), 0);
        }
        pn_hosted_destroy(hs);
        fclose(out);
    }
    sd_system_free(sys);
}

int main(void)
{
    RUN_TEST(test_virtualiser_against_misbehaving_peers);
    RUN_TEST(test_injected_requests_for_the_driver);
    RUN_TEST(test_driver_dies_with_requests_in_flight);
    return check_exit();
}
