/*
 * Unit tests of blk-bench's logic (driver-vms/programs/blk_bench_linux.c) on
 * the host: the command line; each client's plan refused as blk_bench
 * refuses it; two clients run against a RAM disk whose fake device answers
 * in a scrambled order, after which every block holds what replaying the
 * sequences (as pinion-blkimage does) says it must; and reads damaged in
 * each of the four ways, failed, short and stray answers, each counted as
 * what it is.
 */
#define _POSIX_C_SOURCE 200809L

#include "blk_bench_linux.h"
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK      512
#define WORDS      (BLOCK / 8)
#define DISK_BLOCK 2048 /* 1 MiB */

static char err[256];

static enum blk_linux_parse parse(struct blk_linux_options *o, int argc, ...)
{
    char *argv[32] = {"blk-bench"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++) {
        argv[i] = va_arg(ap, char *);
    }
    va_end(ap);
    err[0] = '\0';
    return blk_linux_parse_args(argc, argv, o, err, sizeof err);
}

#define WORKLOAD                                                                                   \
    "--ios", "500", "--io-size", "4096", "--depth", "8", "--pattern", "rand", "--mix", "70r",      \
        "--block-size", "512"

static void test_parse(void)
{
    struct blk_linux_options o;
    CHECK_EQ(parse(&o, 16, WORKLOAD, "--partition", "0:64:256", "--partition=1:512:256"),
             BLK_LINUX_RUN);
    CHECK(strcmp(o.device, "/dev/vda") == 0);
    CHECK(strcmp(o.ios, "500") == 0 && strcmp(o.io_size, "4096") == 0);
    CHECK(strcmp(o.pattern, "rand") == 0 && strcmp(o.mix, "70r") == 0);
    CHECK(o.seed == NULL && o.depth == 8 && o.clients == 2);
    CHECK(strcmp(o.partitions[1].client_id, "1") == 0);
    CHECK(strcmp(o.partitions[1].start, "512") == 0);
    CHECK(strcmp(o.partitions[1].blocks, "256") == 0);
    CHECK_EQ(
        parse(&o, 19, WORKLOAD, "--partition", "0:64:256", "--seed", "7", "--device", "/dev/vdb"),
        BLK_LINUX_RUN);
    CHECK(strcmp(o.device, "/dev/vdb") == 0 && strcmp(o.seed, "7") == 0);
    CHECK_EQ(parse(&o, 2, "--help"), BLK_LINUX_HELP);
}

static void test_parse_errors(void)
{
    struct blk_linux_options o;
    CHECK_EQ(parse(&o, 13, WORKLOAD), BLK_LINUX_USAGE_ERROR);
    CHECK_STR_CONTAINS(err, "--partition is required");
    CHECK_EQ(parse(&o, 3, "--partition", "0:1:2"), BLK_LINUX_USAGE_ERROR);
    CHECK_STR_CONTAINS(err, "--ios is required");
    const char *bad_partitions[] = {"0:1",  "a:1:2",  "0:1:2:3",
                                    "0::2", "0:1:2x", "1234567890123456789012345:0:1"};
    for (size_t i = 0; i < sizeof bad_partitions / sizeof *bad_partitions; i++) {
        CHECK_EQ(
            parse(&o, 17, WORKLOAD, "--partition", "0:64:256", "--partition", bad_partitions[i]),
            BLK_LINUX_USAGE_ERROR);
        CHECK_STR_CONTAINS(err, "CLIENT_ID:START:BLOCKS");
    }
    CHECK_EQ(parse(&o, 5, "--depth", "0", "--partition", "0:1:2"), BLK_LINUX_USAGE_ERROR);
    CHECK_STR_CONTAINS(err, "--depth 0: must be 1..256");
    CHECK_EQ(parse(&o, 3, "--depth", "257"), BLK_LINUX_USAGE_ERROR);
    CHECK_EQ(parse(&o, 2, "--bogus"), BLK_LINUX_USAGE_ERROR);
    CHECK_EQ(parse(&o, 2, "--ios"), BLK_LINUX_USAGE_ERROR);
    char *argv[40] = {"blk-bench"};
    int argc = 1;
    for (int i = 0; i < 9; i++) {
        argv[argc++] = "--partition";
        argv[argc++] = "0:0:8";
    }
    CHECK_EQ(blk_linux_parse_args(argc, argv, &o, err, sizeof err), BLK_LINUX_USAGE_ERROR);
    CHECK_STR_CONTAINS(err, "at most 8 clients");
}

/* The plan's own complaints, naming blk_bench's parameter. */
static void test_plans_refused(void)
{
    static const struct {
        const char *option, *value, *partition, *complaint;
    } cases[] = {
        {"--io-size", "4000", "0:64:256", "\"io_size\""},
        {"--io-size", "2048", "0:64:256", "\"io_size\""},
        {"--pattern", "zigzag", "0:64:256", "\"pattern\""},
        {"--mix", "100r", "0:64:256", "\"mix\""},
        {"--block-size", "520", "0:64:256", "\"block_size\""},
        {"--seed", "-1", "0:64:256", "\"seed\""},
        {"--ios", "0", "0:64:256", "\"ios\""},
        {"--ios", "5", "0:64:7", "smaller than one request"},
        {"--ios", "5", "0:64:9999999", "more than 65536 requests"},
        {"--ios", "5", "65536:64:256", "\"client_id\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct blk_linux_options o;
        CHECK_EQ(parse(&o, 17, WORKLOAD, "--partition", cases[i].partition, cases[i].option,
                       cases[i].value),
                 BLK_LINUX_RUN);
        static struct blk_linux_client c;
        const char *complaint = blk_linux_client_init(&c, &o, 0);
        CHECK_STR_CONTAINS(complaint, cases[i].complaint);
        CHECK(c.generation == NULL && c.slots[0].buffer == NULL);
    }
}

/* A RAM disk, its partitions at generation 0 as pinion-blkimage create leaves them. */
static uint8_t disk[DISK_BLOCK * BLOCK];

static void fill_generation_zero(uint32_t client, uint64_t start, uint64_t blocks)
{
    for (uint64_t b = start; b < start + blocks; b++) {
        blk_pattern_fill((uint64_t *)(void *)(disk + b * BLOCK), WORDS, client, b, 0);
    }
}

struct pending {
    uint32_t client;
    struct blk_linux_request r;
};

/* Moves the data when the request completes, as a device would. */
static int64_t serve(const struct blk_linux_request *r)
{
    if (r->write) {
        memcpy(disk + r->offset, r->buffer, r->length);
    } else {
        memcpy(r->buffer, disk + r->offset, r->length);
    }
    return r->length;
}

/*
 * Runs every client to its end: each round takes every request the clients
 * will make and answers a scrambled part of those outstanding (the newest
 * first, every third one left for later), so answers overtake each other.
 */
static void run_scrambled(struct blk_linux_client *clients, uint32_t n)
{
    static struct pending outstanding[BLK_LINUX_MAX_CLIENTS * BLK_LINUX_MAX_DEPTH];
    static struct pending later[BLK_LINUX_MAX_CLIENTS * BLK_LINUX_MAX_DEPTH];
    size_t count = 0;
    for (int rounds = 0; rounds < 100000; rounds++) {
        bool all_done = true;
        for (uint32_t i = 0; i < n; i++) {
            all_done = all_done && blk_linux_client_done(&clients[i]);
        }
        if (all_done) {
            return;
        }
        for (bool more = true; more;) {
            more = false;
            for (uint32_t i = 0; i < n; i++) {
                if (blk_linux_client_next(&clients[i], &outstanding[count].r)) {
                    CHECK((uintptr_t)outstanding[count].r.buffer % BLK_LINUX_BUFFER_ALIGN == 0);
                    outstanding[count++].client = i;
                    more = true;
                }
            }
        }
        size_t kept = 0;
        for (size_t k = count; k-- > 0;) {
            if (k % 3 == 1 && rounds % 2 == 0) {
                later[kept++] = outstanding[k];
                continue;
            }
            blk_linux_client_complete(&clients[outstanding[k].client], outstanding[k].r.slot,
                                      serve(&outstanding[k].r));
        }
        memcpy(outstanding, later, kept * sizeof *later);
        count = kept;
    }
    CHECK(!"the clients never finished");
}

/* Every block of the partition holds the generation the replayed sequence leaves. */
static void check_disk_replays(const struct blk_linux_client *c)
{
    static uint32_t generation[BLK_MAX_CHUNKS];
    memset(generation, 0, sizeof generation);
    struct blk_sequence s;
    blk_sequence_start(&s, &c->plan.workload);
    uint64_t reads = 0;
    for (uint64_t i = 0; i < c->plan.ios; i++) {
        struct blk_step step = blk_sequence_next(&s);
        generation[step.chunk] += step.write;
        reads += !step.write;
    }
    CHECK_EQ(c->counts.reads, reads);
    CHECK_EQ(c->counts.writes, c->plan.ios - reads);
    uint64_t bad = 0;
    for (uint64_t chunk = 0; chunk < c->plan.workload.chunks; chunk++) {
        CHECK_EQ(c->generation[chunk], generation[chunk]);
        for (uint32_t b = 0; b < c->plan.io_blocks; b++) {
            uint64_t block = c->plan.partition_start + chunk * c->plan.io_blocks + b;
            bad += blk_pattern_verdict((const uint64_t *)(const void *)(disk + block * BLOCK),
                                       WORDS, c->plan.workload.client, block,
                                       generation[chunk]) != BLK_BLOCK_OK;
        }
    }
    CHECK_EQ(bad, 0);
}

static void test_two_clients_scrambled(void)
{
    struct blk_linux_options o;
    CHECK_EQ(parse(&o, 17, WORKLOAD, "--partition", "0:64:256", "--partition", "1:512:256"),
             BLK_LINUX_RUN);
    memset(disk, 0, sizeof disk);
    fill_generation_zero(0, 64, 256);
    fill_generation_zero(1, 512, 256);
    static struct blk_linux_client clients[2];
    for (uint32_t i = 0; i < 2; i++) {
        CHECK(blk_linux_client_init(&clients[i], &o, i) == NULL);
        CHECK_EQ(clients[i].plan.workload.chunks, 32);
    }
    run_scrambled(clients, 2);
    uint64_t conflict_waits = 0;
    for (uint32_t i = 0; i < 2; i++) {
        const struct blk_linux_counts *k = &clients[i].counts;
        CHECK_EQ(k->requests, 500);
        CHECK_EQ(blk_linux_bad_blocks(k), 0);
        CHECK_EQ(k->errors + k->unexpected, 0);
        CHECK_EQ(k->blocks_checked, k->reads * 8);
        CHECK_EQ(k->read_bytes + k->written_bytes, 500 * 4096);
        conflict_waits += k->conflict_waits;
        check_disk_replays(&clients[i]);
    }
    /* 32 chunks, 8 in flight, random: the same chunk comes up while busy. */
    CHECK(conflict_waits > 0);
    CHECK(blk_linux_all_good(clients, 2, 0));
    CHECK(!blk_linux_all_good(clients, 2, 5));
    /* Nothing but the partitions was touched. */
    for (size_t b = 0; b < DISK_BLOCK; b++) {
        if ((b >= 64 && b < 64 + 256) || (b >= 512 && b < 512 + 256)) {
            continue;
        }
        for (size_t i = 0; i < BLOCK; i++) {
            CHECK(disk[b * BLOCK + i] == 0);
        }
    }
    char json[2048];
    int length = blk_linux_format_counts(json, sizeof json, clients, 2, 0);
    CHECK(length > 0 && (size_t)length < sizeof json);
    CHECK_STR_CONTAINS(json, "\"requests\": 1000, ");
    CHECK_STR_CONTAINS(json, "\"bytes\": 4096000, ");
    CHECK_STR_CONTAINS(json, "\"blocks_torn\": 0, ");
    CHECK_STR_CONTAINS(json, "\"flush_error\": 0, \"clients\": [{\"client_id\": 0, ");
    CHECK_STR_CONTAINS(json, "{\"client_id\": 1, \"requests\": 500, ");
    char small[16];
    CHECK_EQ(blk_linux_format_counts(small, sizeof small, clients, 2, 0), length);
    CHECK(small[sizeof small - 1] == '\0');
    for (uint32_t i = 0; i < 2; i++) {
        blk_linux_client_free(&clients[i]);
    }
}

/* Damages block 1 of a read's buffer: each verdict once, by the header it leaves. */
static void damage(uint8_t *buffer, const struct blk_linux_client *c, uint64_t offset, int kind)
{
    uint64_t *words = (uint64_t *)(void *)(buffer + BLOCK);
    uint64_t block = offset / BLOCK + 1;
    uint32_t client = c->plan.workload.client;
    switch (kind) {
    case 0:
        blk_pattern_fill(words, WORDS, client, block, 3); /* lost: another generation */
        break;
    case 1:
        words[7] ^= 1; /* torn */
        break;
    case 2:
        blk_pattern_fill(words, WORDS, client, block + 1, 0); /* misplaced */
        break;
    default:
        memset(words, 0, BLOCK); /* corrupt */
        break;
    }
}

static void test_bad_answers_counted(void)
{
    struct blk_linux_options o;
    CHECK_EQ(parse(&o, 15, "--ios", "8", "--io-size", "4096", "--depth", "1", "--pattern", "seq",
                   "--mix", "read", "--block-size", "512", "--partition", "0:64:256"),
             BLK_LINUX_RUN);
    memset(disk, 0, sizeof disk);
    fill_generation_zero(0, 64, 256);
    static struct blk_linux_client c;
    CHECK(blk_linux_client_init(&c, &o, 0) == NULL);
    struct blk_linux_request r;
    for (int i = 0; i < 8; i++) {
        CHECK(blk_linux_client_next(&c, &r));
        CHECK(!blk_linux_client_next(&c, &r) || !"depth 1 allows one in flight");
        CHECK_EQ(r.offset, (64 + 8 * (uint64_t)i) * BLOCK);
        int64_t result = serve(&r);
        if (i < 4) {
            damage(r.buffer, &c, r.offset, i);
        } else if (i == 4) {
            result = -5; /* EIO */
        } else if (i == 5) {
            result -= BLOCK; /* short */
        }
        if (i == 6) {
            blk_linux_client_complete(&c, 0, result);
            blk_linux_client_complete(&c, 0, result);   /* again: nothing in flight there */
            blk_linux_client_complete(&c, 200, result); /* a slot it has not */
            continue;
        }
        blk_linux_client_complete(&c, r.slot, result);
    }
    CHECK(blk_linux_client_done(&c));
    CHECK(!blk_linux_client_next(&c, &r));
    CHECK_EQ(c.counts.requests, 8);
    CHECK_EQ(c.counts.bad_blocks[BLK_BLOCK_LOST], 1);
    CHECK_EQ(c.counts.bad_blocks[BLK_BLOCK_TORN], 1);
    CHECK_EQ(c.counts.bad_blocks[BLK_BLOCK_MISPLACED], 1);
    CHECK_EQ(c.counts.bad_blocks[BLK_BLOCK_CORRUPT], 1);
    CHECK_EQ(c.counts.errors, 2);
    CHECK_EQ(c.counts.unexpected, 2);
    CHECK_EQ(c.counts.reads, 6);
    CHECK_EQ(c.counts.blocks_checked, 6 * 8);
    CHECK(!blk_linux_all_good(&c, 1, 0));
    char json[2048];
    blk_linux_format_counts(json, sizeof json, &c, 1, 0);
    CHECK_STR_CONTAINS(json, "\"blocks_lost\": 1, \"blocks_torn\": 1, \"blocks_misplaced\": 1, "
                             "\"blocks_corrupt\": 1, \"errors\": 2, \"unexpected\": 2, ");
    blk_linux_client_free(&c);
}

int main(void)
{
    RUN_TEST(test_parse);
    RUN_TEST(test_parse_errors);
    RUN_TEST(test_plans_refused);
    RUN_TEST(test_two_clients_scrambled);
    RUN_TEST(test_bad_answers_counted);
    return check_exit();
}
