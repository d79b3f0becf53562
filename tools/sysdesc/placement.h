/*
 * Placements: where each PD of a system runs, which PDs poll, and how each
 * channel's cross-core notifications are batched. `make image` (through
 * pinion-image) reads one; `place` writes them. The format is documented in
 * docs/placement-format.md.
 *
 * A placement is loaded against a loaded system description and checked
 * against it, so that what loads names only PDs and channels that exist and
 * puts every PD on a core the machine has.
 */
#ifndef PINION_PLACEMENT_H
#define PINION_PLACEMENT_H

#include "sysdesc.h"

#include <pinion/bootinfo.h>

#define SD_PLACEMENT_MAX_CORES    PN_BOOT_MAX_CORES
#define SD_COALESCE_COUNT_MAX     65535u
#define SD_COALESCE_WINDOW_US_MAX 1000000u

struct sd_batching {
    uint8_t policy;     /* enum pn_batch_policy */
    uint16_t count;     /* PN_BATCH_COALESCE: flush when this many are pending, 1..65535 */
    uint32_t window_us; /* PN_BATCH_COALESCE: or when this much time passed, 1..1000000 */
};

struct sd_placement {
    uint32_t cores;       /* 1..SD_PLACEMENT_MAX_CORES */
    int core[SD_MAX_PDS]; /* by PD index: 0..cores-1; a VM's is its vCPU 0's */
    /*
     * By PD index and vCPU: where each vCPU of a VM runs (the optional
     * "vcpus" object); every vCPU on core[] when the file does not say.
     * For components only [0] is set, equal to core[].
     */
    int vcpu_core[SD_MAX_PDS][SD_MAX_VCPUS];
    bool polling[SD_MAX_PDS];                    /* by PD index: alone on its core, polls */
    struct sd_batching channel[SD_MAX_CHANNELS]; /* by channel index */
    char source[SD_PATH_MAX];                    /* the file it came from, for messages */
};

/*
 * Loads a placement and checks it against `sys`. On failure returns false
 * and fills *err with one line naming the file, the object and the problem;
 * *out is then unspecified. `origin` names the source in messages.
 */
bool sd_load_placement(const struct sd_system *sys, const char *path, struct sd_placement *out,
                       struct sd_error *err);
bool sd_load_placement_buffer(const struct sd_system *sys, const char *text, size_t len,
                              const char *origin, struct sd_placement *out, struct sd_error *err);

/*
 * The placement of a system given none: each PD on its description's core
 * (core 0 where it gives none), as many cores as the highest one used needs,
 * nobody polling, every channel immediate. It may need more cores than a
 * placement file allows; pinion-image then says so.
 */
void sd_default_placement(const struct sd_system *sys, struct sd_placement *out);

/*
 * Writes `p` in the format sd_load_placement reads (every PD listed, and
 * "vcpus" for each VM whose vCPUs do not all share its core), to a
 * temporary file renamed over `path`. Refuses, with a message, a placement
 * that would not load back against `sys`.
 */
bool sd_write_placement(const struct sd_system *sys, const struct sd_placement *p, const char *path,
                        struct sd_error *err);

/*
 * True when PD `pd` runs anything on `core`: a component on its core, a VM
 * on the core of any of its vCPUs.
 */
bool sd_placement_occupies(const struct sd_system *sys, const struct sd_placement *p, int pd,
                           int core);

/* "immediate", "end_of_handler", "coalesce"; "unknown" for anything else. */
const char *sd_batch_policy_name(uint8_t policy);

#endif
