/*
 * Shared by the hosted tests of the block components: a benchmark client's
 * plan read from a loaded description, and RAM disks (a region standing
 * for the disk) filled before a run and checked after it against the
 * client's replayed sequence, with the pattern and sequence the client and
 * pinion-blkimage use (components/blk/).
 */
#ifndef PINION_TESTS_BLK_FIXTURE_H
#define PINION_TESTS_BLK_FIXTURE_H

#include "check.h"

#include <blkimage.h>
#include <stdlib.h>
#include <string.h>

static inline const char *blk_fixture_param(void *context, const char *key)
{
    const struct sd_pd *pd = context;
    for (uint32_t i = 0; i < pd->n_params; i++) {
        if (strcmp(pd->params[i].key, key) == 0) {
            return pd->params[i].value;
        }
    }
    return NULL;
}

/* PD `name`'s benchmark plan; a failed check (and a zeroed plan) when it has none. */
static inline struct blk_bench_plan blk_fixture_plan(const struct sd_system *sys, const char *name)
{
    struct blk_bench_plan plan = {0};
    int pd = sd_find_pd(sys, name);
    CHECK(pd >= 0);
    const char *complaint =
        pd < 0 ? "no such PD"
               : blk_bench_plan_read(&plan, blk_fixture_param, (void *)&sys->pds[pd]);
    CHECK(complaint == NULL);
    if (complaint != NULL) {
        fprintf(stderr, "%s: %s\n", name, complaint);
    }
    return plan;
}

/*
 * A client's partition in a RAM disk whose byte 0 is device block
 * `disk_first_block`: every block at generation 0 (before a run).
 */
static inline void blk_fixture_fill(uint8_t *disk, uint64_t disk_first_block,
                                    const struct blk_bench_plan *plan)
{
    for (uint64_t b = 0; b < plan->partition_blocks; b++) {
        uint64_t block = plan->partition_start + b;
        blk_pattern_fill((uint64_t *)(void *)(disk + (block - disk_first_block) * plan->block_size),
                         plan->block_size / 8, plan->workload.client, block, 0);
    }
}

/*
 * The blocks of the client's partition in the RAM disk that do not hold
 * what its whole replayed sequence leaves there.
 */
static inline uint64_t blk_fixture_bad_blocks(const uint8_t *disk, uint64_t disk_first_block,
                                              const struct blk_bench_plan *plan)
{
    uint32_t *generations = calloc(plan->workload.chunks, sizeof *generations);
    blkimage_replay(plan, generations);
    uint64_t bad = 0;
    for (uint64_t b = 0; b < plan->partition_blocks; b++) {
        uint64_t chunk = b / plan->io_blocks;
        uint32_t expected = chunk < plan->workload.chunks ? generations[chunk] : 0;
        uint64_t block = plan->partition_start + b;
        const uint8_t *at = disk + (block - disk_first_block) * plan->block_size;
        bad += blk_pattern_verdict((const uint64_t *)(const void *)at, plan->block_size / 8,
                                   plan->workload.client, block, expected) != BLK_BLOCK_OK;
    }
    free(generations);
    return bad;
}

#endif
