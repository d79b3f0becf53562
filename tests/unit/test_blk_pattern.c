/*
 * The block benchmark's pattern, request sequence and plan
 * (components/blk/blk_pattern.h, blk_sequence.h, blk_bench_plan.h), which
 * the client on the target and pinion-blkimage on the host share: what a
 * block holds, how every wrong block is told apart, that a sequence is
 * the same wherever it is replayed, and that every bad parameter is named.
 */
#include "check.h"

#include <blk_bench_plan.h>
#include <string.h>

#define WORDS 64 /* a 512-byte block */

static uint64_t block[WORDS], other[WORDS];

static void test_a_block_holds_its_pattern(void)
{
    blk_pattern_fill(block, WORDS, 3, 1000, 7);
    CHECK_EQ(block[0], 1000);
    CHECK_EQ(block[1] >> 48, BLK_PATTERN_MAGIC);
    CHECK_EQ(block[1] >> 32 & 0xffff, 3);
    CHECK_EQ((uint32_t)block[1], 7);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_OK);
    /* Any other generation, block or client fills every body word differently. */
    const uint32_t variants[][3] = {{3, 1000, 8}, {3, 1001, 7}, {4, 1000, 7}};
    for (size_t v = 0; v < 3; v++) {
        blk_pattern_fill(other, WORDS, variants[v][0], variants[v][1], variants[v][2]);
        size_t same = 0;
        for (size_t i = 2; i < WORDS; i++) {
            same += block[i] == other[i];
        }
        CHECK_EQ(same, 0);
    }
    /* The words within one block differ too: a shifted copy does not pass. */
    CHECK(block[2] != block[3]);
}

static void test_every_wrong_block_told_apart(void)
{
    /* An intact older or newer generation of itself: a write lost, or one it never made. */
    blk_pattern_fill(block, WORDS, 3, 1000, 6);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_LOST);
    blk_pattern_fill(block, WORDS, 3, 1000, 8);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_LOST);
    /* Its own header over other content: torn, whichever word differs. */
    for (size_t word = 2; word < WORDS; word += 20) {
        blk_pattern_fill(block, WORDS, 3, 1000, 7);
        block[word] ^= UINT64_C(1) << (word % 64);
        CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_TORN);
    }
    /* A new header over an old body. */
    blk_pattern_fill(block, WORDS, 3, 1000, 6);
    blk_pattern_fill(other, WORDS, 3, 1000, 7);
    memcpy(block, other, 2 * sizeof *block);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_TORN);
    /* Another block's, or another client's, intact content: misplaced. */
    blk_pattern_fill(block, WORDS, 3, 1001, 7);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_MISPLACED);
    blk_pattern_fill(block, WORDS, 4, 1000, 7);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_MISPLACED);
    /* No header at all: zeros, or a header with a broken body of someone else's. */
    memset(block, 0, sizeof block);
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_CORRUPT);
    blk_pattern_fill(block, WORDS, 3, 1001, 7);
    block[WORDS - 1] = 0;
    CHECK_EQ(blk_pattern_verdict(block, WORDS, 3, 1000, 7), BLK_BLOCK_CORRUPT);
    CHECK(strcmp(blk_verdict_name(BLK_BLOCK_MISPLACED), "misplaced") == 0);
}

static struct blk_workload workload(enum blk_access access, uint32_t read_percent)
{
    return (struct blk_workload){
        .access = access, .read_percent = read_percent, .chunks = 100, .seed = 9, .client = 1};
}

static void test_sequences_replay_identically(void)
{
    struct blk_workload w = workload(BLK_RANDOM, 70);
    struct blk_sequence a, b;
    blk_sequence_start(&a, &w);
    blk_sequence_start(&b, &w);
    uint64_t reads = 0, hits[100] = {0};
    bool same = true, in_range = true;
    for (int i = 0; i < 100000; i++) {
        struct blk_step x = blk_sequence_next(&a), y = blk_sequence_next(&b);
        same = same && x.write == y.write && x.chunk == y.chunk;
        in_range = in_range && x.chunk < 100;
        reads += !x.write;
        hits[x.chunk % 100]++;
    }
    CHECK(same && in_range);
    /* 70 percent reads, give or take one point; every chunk drawn about as often. */
    CHECK(reads > 69000 && reads < 71000);
    for (int c = 0; c < 100; c++) {
        CHECK(hits[c] > 800 && hits[c] < 1200);
    }
}

static void test_sequences_depend_on_what_they_should(void)
{
    struct blk_workload w = workload(BLK_RANDOM, 70), all_reads = workload(BLK_RANDOM, 100);
    struct blk_workload client2 = w, seed2 = w;
    client2.client = 2;
    seed2.seed = 10;
    struct blk_sequence s, r, c, d;
    blk_sequence_start(&s, &w);
    blk_sequence_start(&r, &all_reads);
    blk_sequence_start(&c, &client2);
    blk_sequence_start(&d, &seed2);
    int same_chunks_as_mix = 0, same_as_client2 = 0, same_as_seed2 = 0, writes_in_reads = 0;
    for (int i = 0; i < 1000; i++) {
        struct blk_step x = blk_sequence_next(&s), y = blk_sequence_next(&r);
        same_chunks_as_mix += x.chunk == y.chunk;
        writes_in_reads += y.write;
        same_as_client2 += x.chunk == blk_sequence_next(&c).chunk;
        same_as_seed2 += x.chunk == blk_sequence_next(&d).chunk;
    }
    /* The chunks do not depend on the mix; clients and seeds have streams of their own. */
    CHECK_EQ(same_chunks_as_mix, 1000);
    CHECK_EQ(writes_in_reads, 0);
    CHECK(same_as_client2 < 50 && same_as_seed2 < 50);

    struct blk_workload sequential = workload(BLK_SEQUENTIAL, 0);
    blk_sequence_start(&s, &sequential);
    bool in_order = true, all_writes = true;
    for (uint64_t i = 0; i < 250; i++) {
        struct blk_step x = blk_sequence_next(&s);
        in_order = in_order && x.chunk == i % 100;
        all_writes = all_writes && x.write;
    }
    CHECK(in_order && all_writes);
}

static void test_mix_and_access_names(void)
{
    uint32_t p = 0;
    enum blk_access a;
    CHECK(blk_parse_mix("read", &p) && p == 100);
    CHECK(blk_parse_mix("write", &p) && p == 0);
    CHECK(blk_parse_mix("70r", &p) && p == 70);
    CHECK(blk_parse_mix("1r", &p) && p == 1);
    CHECK(blk_parse_mix("99r", &p) && p == 99);
    const char *bad[] = {"0r", "100r", "07r", "70", "r", "70rr", "", "READ", "7 0r", "-5r"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!blk_parse_mix(bad[i], &p));
    }
    CHECK(!blk_parse_mix(NULL, &p));
    CHECK(blk_parse_access("seq", &a) && a == BLK_SEQUENTIAL);
    CHECK(blk_parse_access("rand", &a) && a == BLK_RANDOM);
    CHECK(!blk_parse_access("sequential", &a) && !blk_parse_access("", &a));
}

/* Parameters as a PD would have them: key, value pairs, one of them replaced. */
static const char *params[][2] = {
    {"ios", "1000"},
    {"io_size", "4096"},
    {"pattern", "rand"},
    {"mix", "70r"},
    {"seed", "5"},
    {"block_size", "512"},
    {"client_id", "1"},
    {"partition_start", "40960"},
    {"partition_blocks", "32768"},
};
static const char *replaced_key, *replaced_value;

static const char *lookup(void *context, const char *key)
{
    (void)context;
    if (replaced_key != NULL && strcmp(key, replaced_key) == 0) {
        return replaced_value;
    }
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        if (strcmp(params[i][0], key) == 0) {
            return params[i][1];
        }
    }
    return NULL;
}

static const char *plan_with(const char *key, const char *value, struct blk_bench_plan *plan)
{
    replaced_key = key;
    replaced_value = value;
    const char *complaint = blk_bench_plan_read(plan, lookup, NULL);
    replaced_key = NULL;
    return complaint;
}

static void test_plans_and_their_complaints(void)
{
    struct blk_bench_plan plan;
    CHECK(plan_with(NULL, NULL, &plan) == NULL);
    CHECK_EQ(plan.io_blocks, 8);
    CHECK_EQ(plan.workload.chunks, 4096);
    CHECK_EQ(plan.workload.seed, 5);
    CHECK_EQ(plan.workload.client, 1);
    CHECK_EQ(plan.partition_start, 40960);
    CHECK(plan_with("seed", NULL, &plan) == NULL && plan.workload.seed == BLK_DEFAULT_SEED);
    const char *cases[][3] = {
        {"io_size", "3000", "\"io_size\""},
        {"io_size", "2048", "\"io_size\""},
        {"io_size", "2097152", "\"io_size\""},
        {"ios", "0", "\"ios\""},
        {"ios", "x", "\"ios\""},
        {"pattern", "zigzag", "\"pattern\""},
        {"mix", "50", "\"mix\""},
        {"seed", "-1", "\"seed\""},
        {"block_size", "1000", "\"block_size\""},
        {"client_id", "70000", "\"client_id\""},
        {"partition_blocks", NULL, "partition of the device"},
        {"partition_blocks", "4", "smaller than one request"},
        {"partition_blocks", "600000", "more than 65536 requests"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *complaint = plan_with(cases[i][0], cases[i][1], &plan);
        CHECK_STR_CONTAINS(complaint, cases[i][2]);
    }
}

int main(void)
{
    RUN_TEST(test_a_block_holds_its_pattern);
    RUN_TEST(test_every_wrong_block_told_apart);
    RUN_TEST(test_sequences_replay_identically);
    RUN_TEST(test_sequences_depend_on_what_they_should);
    RUN_TEST(test_mix_and_access_names);
    RUN_TEST(test_plans_and_their_complaints);
    return check_exit();
}
