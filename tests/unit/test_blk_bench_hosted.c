#define _POSIX_C_SOURCE 200809L
/*
 * The block benchmark client (blk_bench) in the hosted backend against a
 * fake virtualiser (tests/components/fake_blk_server.c,
 * tests/data/hosted/blk-bench.json): a RAM disk of its partition that
 * damages blocks of the data it returns in each of the four ways the
 * client tells apart, fails reads, answers short, sends answers with ids
 * the client never used or already had answered, and, in a variant,
 * breaks the response ring. Every fault must be counted exactly where the
 * client says it counts it, and the disk must hold what the client's
 * replayed sequence leaves there (the damage was only in what it was sent).
 */
#include "blk_fixture.h"
#include "hosted_fixture.h"

#include <hosted.h>

#define IOS 2000 /* client0's "ios" */

static char output[1 << 16];

#define SERVER(name) hosted_counter(hs, "blk_virt", name)
#define CLIENT(name) hosted_counter(hs, "client0", name)

static void check_no_faults(struct pn_hosted_system *hs)
{
    static const char *const names[] = {"blk_virt", "client0"};
    for (size_t i = 0; i < 2; i++) {
        struct pn_hosted_stats stats;
        CHECK(pn_hosted_stats(hs, names[i], &stats));
        CHECK(!stats.faulted);
        if (stats.faulted) {
            fprintf(stderr, "%s faulted: %s\n", names[i], stats.fault);
        }
    }
}

/* Loads, fills the RAM disk at generation 0, runs; NULL when the system would not start. */
static struct pn_hosted_system *run(struct sd_system *sys, struct blk_bench_plan *plan,
                                    uint8_t **disk, FILE *out)
{
    *plan = blk_fixture_plan(sys, "client0");
    struct pn_hosted_system *hs = hosted_create(sys, out, 120000);
    *disk = hs ? pn_hosted_region(hs, "disk", 0) : NULL;
    CHECK(*disk != NULL);
    if (*disk == NULL) {
        return hs;
    }
    blk_fixture_fill(*disk, plan->partition_start, plan);
    hosted_run_created(hs, out);
    check_no_faults(hs);
    return hs;
}

static void test_every_fault_counted_where_it_belongs(void)
{
    struct sd_system *sys = hosted_load("blk-bench.json", NULL, NULL);
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct blk_bench_plan plan;
    uint8_t *disk;
    struct pn_hosted_system *hs = run(sys, &plan, &disk, out);
    if (disk != NULL) {
        CHECK_EQ(CLIENT("done"), 1);
        CHECK_EQ(CLIENT("requests"), IOS);
        CHECK_EQ(SERVER("requests"), IOS);
        CHECK_EQ(SERVER("bad_requests"), 0);
        CHECK_EQ(SERVER("lost_answers"), 0);
        /* Each kind of damage was made, and counted as that kind, once per damaged block. */
        static const char *const kinds[][2] = {{"blocks_lost", "damaged_lost"},
                                               {"blocks_torn", "damaged_torn"},
                                               {"blocks_misplaced", "damaged_misplaced"},
                                               {"blocks_corrupt", "damaged_corrupt"}};
        for (size_t i = 0; i < 4; i++) {
            CHECK(SERVER(kinds[i][1]) >= 10);
            CHECK_EQ(CLIENT(kinds[i][0]), SERVER(kinds[i][1]));
        }
        CHECK(SERVER("eio_reads") > 0 && SERVER("short_reads") > 0);
        CHECK_EQ(CLIENT("error_responses"), SERVER("eio_reads") + SERVER("short_reads"));
        CHECK(SERVER("bogus_unknown") > 0 && SERVER("bogus_repeated") > 0);
        CHECK_EQ(CLIENT("unexpected_responses"),
                 SERVER("bogus_unknown") + SERVER("bogus_repeated"));
        CHECK_EQ(CLIENT("ring_errors"), 0);
        CHECK_EQ(CLIENT("bad_sent"), 0);
        /* Reads that were answered, whole: every block checked. */
        uint64_t good_reads = CLIENT("read_bytes") / plan.io_size;
        CHECK_EQ(CLIENT("blocks_checked"), good_reads * plan.io_blocks);
        CHECK_EQ(CLIENT("read_bytes") / plan.io_size + CLIENT("written_bytes") / plan.io_size +
                     SERVER("eio_reads") + SERVER("short_reads"),
                 IOS);
        CHECK_EQ(blk_fixture_bad_blocks(disk, plan.partition_start, &plan), 0);
        CHECK_STR_CONTAINS(output, "client0: blk_bench done: 2000 requests, ");
    }
    if (hs != NULL) {
        pn_hosted_destroy(hs);
    }
    fclose(out);
    sd_system_free(sys);
}

/* Writes in sequence, one at a time: the disk ends as the replay says, every chunk written. */
static void test_sequential_writes_land_in_order(void)
{
    struct sd_system *sys = hosted_load(
        "blk-bench.json", "\"depth\": 8, \"pattern\": \"rand\",\n                \"mix\": \"70r\"",
        "\"depth\": 1, \"pattern\": \"seq\", \"mix\": \"write\"");
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct blk_bench_plan plan;
    uint8_t *disk;
    struct pn_hosted_system *hs = run(sys, &plan, &disk, out);
    if (disk != NULL) {
        CHECK_EQ(plan.workload.read_percent, 0);
        CHECK_EQ(CLIENT("done"), 1);
        CHECK_EQ(CLIENT("written_bytes"), (uint64_t)IOS * plan.io_size);
        CHECK_EQ(CLIENT("conflict_waits"), 0);
        CHECK_EQ(blk_fixture_bad_blocks(disk, plan.partition_start, &plan), 0);
        /* 2000 writes over 64 chunks: chunk k written 32 or 31 times, the last at its end. */
        uint32_t generations[64];
        blkimage_replay(&plan, generations);
        CHECK_EQ(generations[0], 32);
        CHECK_EQ(generations[63], 31);
    }
    if (hs != NULL) {
        pn_hosted_destroy(hs);
    }
    fclose(out);
    sd_system_free(sys);
}

/* A server that breaks the response ring: counted, nothing followed, no fault. */
static void test_broken_response_ring(void)
{
    struct sd_system *sys = hosted_load("blk-bench.json", "\"broken\": 0", "\"broken\": 1");
    FILE *out = fmemopen(output, sizeof output - 1, "w");
    struct blk_bench_plan plan;
    uint8_t *disk;
    struct pn_hosted_system *hs = run(sys, &plan, &disk, out);
    if (disk != NULL) {
        CHECK_EQ(SERVER("ring_broken"), 1);
        CHECK(CLIENT("ring_errors") >= 1);
        CHECK_EQ(CLIENT("unexpected_responses"), 0);
        CHECK_EQ(CLIENT("requests"), 0);
        CHECK_EQ(CLIENT("done"), 0);
    }
    if (hs != NULL) {
        pn_hosted_destroy(hs);
    }
    fclose(out);
    sd_system_free(sys);
}

int main(void)
{
    RUN_TEST(test_every_fault_counted_where_it_belongs);
    RUN_TEST(test_sequential_writes_land_in_order);
    RUN_TEST(test_broken_response_ring);
    return check_exit();
}
