/*
 * A block benchmark client's plan, read from its parameters: the requests
 * it makes (blk_sequence.h) over which blocks. The client reads it at
 * init; the host (pinion-blkimage) reads the same parameters from the
 * system description to replay the sequence, so the rules live here, once.
 * Freestanding and header-only.
 *
 * Parameters (docs/blk.md): ios, io_size, pattern, mix, seed (default 1),
 * and those the system description generates from the device's partitions:
 * block_size, client_id, partition_start, partition_blocks.
 */
#ifndef PINION_BLK_BENCH_PLAN_H
#define PINION_BLK_BENCH_PLAN_H

#include "blk_sequence.h"

#define BLK_MIN_IO_SIZE 4096u
#define BLK_MAX_IO_SIZE (1u << 20)
#define BLK_MIN_UNIT    512u
#define BLK_MAX_UNIT    65536u
/* Chunks whose generation a client tracks: 256 KiB of its memory. */
#define BLK_MAX_CHUNKS   65536u
#define BLK_DEFAULT_SEED 1u

struct blk_bench_plan {
    struct blk_workload workload;
    uint64_t ios;              /* requests in the measured sequence */
    uint32_t block_size;       /* the queues' block unit: the device's logical block */
    uint32_t io_size;          /* bytes a request moves */
    uint32_t io_blocks;        /* io_size / block_size */
    uint64_t partition_start;  /* in blocks from the start of the device */
    uint64_t partition_blocks; /* the partition's length in blocks */
};

/* A parameter's value by key, or 0 when absent: pn_param on target, the description on the host. */
typedef const char *(*blk_param_lookup)(void *context, const char *key);

/* A whole decimal number (no sign, no suffix), as parameters are written; false otherwise. */
static inline bool blk_parse_decimal(const char *text, uint64_t *out)
{
    uint64_t value = 0;
    if (text == 0 || *text == '\0') {
        return false;
    }
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9' || value > (UINT64_MAX - 9) / 10) {
            return false;
        }
        value = value * 10 + (uint64_t)(*text - '0');
    }
    *out = value;
    return true;
}

static inline bool blk_plan_number(blk_param_lookup lookup, void *context, const char *key,
                                   uint64_t *out)
{
    return blk_parse_decimal(lookup(context, key), out);
}

/*
 * Reads and checks the plan. Returns 0 when it is sound, or what is wrong
 * with it, naming the parameter.
 */
static inline const char *blk_bench_plan_read(struct blk_bench_plan *plan, blk_param_lookup lookup,
                                              void *context)
{
    uint64_t ios, io_size, unit, client, start, blocks, seed = BLK_DEFAULT_SEED;
    if (!blk_plan_number(lookup, context, "block_size", &unit) ||
        !blk_plan_number(lookup, context, "client_id", &client) ||
        !blk_plan_number(lookup, context, "partition_start", &start) ||
        !blk_plan_number(lookup, context, "partition_blocks", &blocks)) {
        return "parameters \"block_size\", \"client_id\", \"partition_start\" and "
               "\"partition_blocks\" come from a partition of the device (docs/blk.md)";
    }
    if (unit < BLK_MIN_UNIT || unit > BLK_MAX_UNIT || (unit & (unit - 1)) != 0) {
        return "parameter \"block_size\" must be a power of two, 512..65536";
    }
    if (client > BLK_PATTERN_MAX_CLIENT) {
        return "parameter \"client_id\" must be at most 65535";
    }
    if (!blk_plan_number(lookup, context, "ios", &ios) || ios == 0) {
        return "parameter \"ios\" must be a whole number of requests, at least 1";
    }
    if (!blk_plan_number(lookup, context, "io_size", &io_size) || io_size < BLK_MIN_IO_SIZE ||
        io_size > BLK_MAX_IO_SIZE || io_size % unit != 0) {
        return "parameter \"io_size\" must be 4096..1048576 bytes, a multiple of block_size";
    }
    if (!blk_parse_access(lookup(context, "pattern"), &plan->workload.access)) {
        return "parameter \"pattern\" must be seq or rand";
    }
    if (!blk_parse_mix(lookup(context, "mix"), &plan->workload.read_percent)) {
        return "parameter \"mix\" must be read, write or Nr (N percent reads, 1..99)";
    }
    if (lookup(context, "seed") != 0 && !blk_plan_number(lookup, context, "seed", &seed)) {
        return "parameter \"seed\" must be a whole number";
    }
    uint64_t io_blocks = io_size / unit;
    if (blocks < io_blocks) {
        return "the partition is smaller than one request (io_size)";
    }
    if (blocks / io_blocks > BLK_MAX_CHUNKS) {
        return "the partition holds more than 65536 requests of io_size: a larger io_size or "
               "a smaller partition";
    }
    plan->workload.chunks = blocks / io_blocks;
    plan->workload.seed = seed;
    plan->workload.client = (uint32_t)client;
    plan->ios = ios;
    plan->block_size = (uint32_t)unit;
    plan->io_size = (uint32_t)io_size;
    plan->io_blocks = (uint32_t)io_blocks;
    plan->partition_start = start;
    plan->partition_blocks = blocks;
    return 0;
}

#endif
