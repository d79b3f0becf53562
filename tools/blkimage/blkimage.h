/*
 * The disk image of a block device from the host's side: creating it with
 * every benchmark partition at generation 0 of its client's pattern, and
 * checking it after a run against what the clients' request sequences
 * must have left there (components/blk/blk_pattern.h, blk_sequence.h).
 * docs/blk.md, "Checking the disk".
 */
#ifndef PINION_BLKIMAGE_H
#define PINION_BLKIMAGE_H

#include "blk_bench_plan.h"
#include "sysdesc.h"

#include <jansson.h>

#define BLKIMAGE_ERROR_MAX     512
#define BLKIMAGE_BENCH_PROGRAM "blk_bench"

struct blkimage_error {
    char message[BLKIMAGE_ERROR_MAX];
};

/* One partition as the host sees it: whether its client is a benchmark, and its plan. */
struct blkimage_partition {
    const struct sd_partition *partition;
    bool bench; /* its client runs blk_bench; other partitions are left zero, unchecked */
    struct blk_bench_plan plan;
    /*
     * The client's first_failed_write counter after the run (0: no write
     * failed): from that write of its sequence on, a write may or may not
     * have reached the disk, so each block of a chunk written since may
     * hold any generation from the one before up to the last.
     */
    uint64_t first_failed_write;
};

/*
 * The partitions of device `name` in `sys`, with each benchmark client's
 * plan read from its params; false (with the reason) for a device that is
 * no block device with partitions, or a client whose params are not a plan.
 */
bool blkimage_partitions(const struct sd_system *sys, const char *name,
                         const struct sd_device **device, struct blkimage_partition *out,
                         struct blkimage_error *err);

/*
 * The generation every chunk of a partition holds after its client's
 * whole sequence: the writes to it, replayed. `generations` has
 * plan->workload.chunks entries.
 */
void blkimage_replay(const struct blk_bench_plan *plan, uint32_t *generations);
/* The same after only the first `steps` requests of the sequence. */
void blkimage_replay_steps(const struct blk_bench_plan *plan, uint64_t steps,
                           uint32_t *generations);

/*
 * Creates (or truncates) the image at `path`: a sparse file of the device's
 * size, every benchmark partition filled with its pattern at the
 * generations given (per partition, plan.workload.chunks each; NULL for
 * all generation 0, the state before a run).
 */
bool blkimage_create(const char *path, const struct sd_device *device,
                     const struct blkimage_partition *partitions, uint32_t *const *generations,
                     struct blkimage_error *err);

/*
 * Checks the image after a run: every block of a benchmark partition holds
 * its client's pattern at the generation the replayed sequence leaves (or,
 * after a failed write, one of those it may leave: first_failed_write),
 * and every byte outside the partitions is still zero. *report is the
 * result as JSON (docs/blk.md); *ok whether all held. False (with the
 * reason) only when the image cannot be read or is not the device's size.
 */
bool blkimage_verify(const char *path, const struct sd_device *device,
                     const struct blkimage_partition *partitions, json_t **report, bool *ok,
                     struct blkimage_error *err);

#endif
