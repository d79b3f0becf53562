/*
 * The logic of blk-bench, the storage benchmark of the native-Linux
 * baseline (docs/blk-dvm.md, "Native Linux"): the plans of pinion's
 * blk_bench clients run by one Linux program against a block device, with
 * no system calls here, so that the host tests can drive it against a RAM
 * disk (tests/linux/test_blk_bench_linux.c).
 *
 * Each client is exactly what blk_bench is on pinion: its plan read from
 * the same parameters by blk_bench_plan.h, its requests in the order
 * blk_sequence.h gives, `depth` of them in flight, every write filled and
 * every read checked with blk_pattern.h against the generation the chunk
 * had when the read was made, and two requests for one chunk never in
 * flight together (the second waits: conflict_waits), so that writes land
 * in sequence order and pinion-blkimage's replay on the host holds.
 */
#ifndef PINION_BLK_BENCH_LINUX_H
#define PINION_BLK_BENCH_LINUX_H

#include "blk_bench_plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_LINUX_MAX_CLIENTS 8
/* blk_bench's limit. */
#define BLK_LINUX_MAX_DEPTH 256
/* O_DIRECT wants buffers aligned to the logical block; a page covers every disk. */
#define BLK_LINUX_BUFFER_ALIGN 4096
#define BLK_LINUX_NUMBER_TEXT  24

/* One client's partition, as "--partition CLIENT_ID:START:BLOCKS" gives it (in blocks). */
struct blk_linux_partition {
    char client_id[BLK_LINUX_NUMBER_TEXT];
    char start[BLK_LINUX_NUMBER_TEXT];
    char blocks[BLK_LINUX_NUMBER_TEXT];
};

/*
 * The command line. The workload is every client's (as experiments/run sets
 * it for every blk_bench client); the texts are kept as given, for
 * blk_bench_plan_read to read and judge as blk_bench reads its parameters.
 */
struct blk_linux_options {
    const char *device;
    const char *ios, *io_size, *pattern, *mix, *seed, *block_size;
    uint32_t depth;
    uint32_t clients;
    struct blk_linux_partition partitions[BLK_LINUX_MAX_CLIENTS];
};

enum blk_linux_parse {
    BLK_LINUX_RUN,
    BLK_LINUX_HELP,
    BLK_LINUX_USAGE_ERROR, /* the message is in err */
};

enum blk_linux_parse blk_linux_parse_args(int argc, char **argv, struct blk_linux_options *options,
                                          char *err, size_t err_size);

extern const char blk_linux_usage[];

struct blk_linux_counts {
    uint64_t requests; /* answered, good or not */
    uint64_t reads, writes, read_bytes, written_bytes, blocks_checked;
    uint64_t bad_blocks[BLK_BLOCK_VERDICTS]; /* by verdict; [BLK_BLOCK_OK] stays 0 */
    uint64_t errors;         /* a request that failed or moved fewer bytes than asked */
    uint64_t unexpected;     /* an answer for no request in flight */
    uint64_t conflict_waits; /* the next request's chunk was busy */
};

struct blk_linux_slot {
    bool busy;
    bool write;
    uint64_t chunk;
    uint32_t generation; /* what the chunk holds once this request is done */
    uint8_t *buffer;     /* io_size bytes, BLK_LINUX_BUFFER_ALIGN aligned */
};

struct blk_linux_client {
    struct blk_bench_plan plan;
    struct blk_sequence sequence;
    uint32_t depth, in_flight;
    uint64_t issued;
    struct blk_step next_step;
    bool have_next_step, waiting_counted;
    uint32_t *generation; /* per chunk: the times it was written */
    bool *chunk_busy;
    struct blk_linux_slot slots[BLK_LINUX_MAX_DEPTH];
    uint16_t free_slots[BLK_LINUX_MAX_DEPTH];
    uint32_t n_free_slots;
    struct blk_linux_counts counts;
};

/* A request to make: `length` bytes at byte `offset` of the device, from or into `buffer`. */
struct blk_linux_request {
    uint32_t slot;
    bool write;
    uint64_t offset;
    uint32_t length;
    uint8_t *buffer;
};

/*
 * Reads client `index`'s plan from the options and allocates its state and
 * one buffer per slot. Returns 0, or what is wrong (naming the parameter, as
 * blk_bench would); on failure nothing stays allocated.
 */
const char *blk_linux_client_init(struct blk_linux_client *c, const struct blk_linux_options *o,
                                  uint32_t index);
void blk_linux_client_free(struct blk_linux_client *c);

/*
 * The client's next request into *r (a write's buffer already filled), or
 * false when it has none to make now: `depth` in flight, its sequence all
 * issued, or the next request's chunk busy until an answer comes.
 */
bool blk_linux_client_next(struct blk_linux_client *c, struct blk_linux_request *r);

/* The answer to the request in `slot`: the bytes moved, or a negative errno. */
void blk_linux_client_complete(struct blk_linux_client *c, uint32_t slot, int64_t result);

/* Every request of the sequence made and answered. */
bool blk_linux_client_done(const struct blk_linux_client *c);

uint64_t blk_linux_bad_blocks(const struct blk_linux_counts *counts);

/* Whether the run was sound: every client done, no bad block, error, stray answer. */
bool blk_linux_all_good(const struct blk_linux_client *clients, uint32_t n, int flush_error);

/*
 * The counts as one JSON object (totals, then per client), into buf. Returns
 * the length, or the length needed when it does not fit (as snprintf).
 */
int blk_linux_format_counts(char *buf, size_t size, const struct blk_linux_client *clients,
                            uint32_t n, int flush_error);

#endif
