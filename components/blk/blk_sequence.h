/*
 * The block benchmark's request sequence: which requests a client makes,
 * in which order, from its parameters alone. The client (blk_bench.c)
 * issues it; the host (pinion-blkimage) replays it after the run to know
 * what every block of the disk must hold. Freestanding and header-only,
 * one definition for both.
 *
 * A partition is cut into chunks of one request's size (the trailing
 * remainder is never touched). Request i is a read or a write (drawn with
 * probability read_percent / 100) of one chunk: chunk i mod chunks for
 * sequential access, or one drawn uniformly for random access, from a
 * splitmix64 stream seeded with (seed, client). Both draws are made for
 * every request whatever the mix, so that the chunks of a sequence do not
 * depend on its mix.
 */
#ifndef PINION_BLK_SEQUENCE_H
#define PINION_BLK_SEQUENCE_H

#include "blk_pattern.h"

#include <stdbool.h>
#include <stdint.h>

enum blk_access {
    BLK_SEQUENTIAL,
    BLK_RANDOM,
};

struct blk_workload {
    enum blk_access access;
    uint32_t read_percent; /* 0: every request a write .. 100: every request a read */
    uint64_t chunks;       /* whole requests that fit the partition */
    uint64_t seed;
    uint32_t client; /* the partition's index: client streams differ for one seed */
};

struct blk_sequence {
    struct blk_workload workload;
    uint64_t state;
    uint64_t issued;
};

struct blk_step {
    bool write;
    uint64_t chunk;
};

static inline void blk_sequence_start(struct blk_sequence *s, const struct blk_workload *w)
{
    s->workload = *w;
    s->state = blk_mix64(w->seed ^ blk_mix64((uint64_t)w->client + 1));
    s->issued = 0;
}

static inline uint64_t blk_sequence_draw(struct blk_sequence *s)
{
    s->state += BLK_PATTERN_STEP;
    return blk_mix64(s->state);
}

/* The next request of the sequence. */
static inline struct blk_step blk_sequence_next(struct blk_sequence *s)
{
    const struct blk_workload *w = &s->workload;
    uint64_t op_draw = blk_sequence_draw(s);
    uint64_t chunk_draw = blk_sequence_draw(s);
    struct blk_step step = {
        .write = op_draw % 100 >= w->read_percent,
        .chunk = w->access == BLK_SEQUENTIAL ? s->issued % w->chunks : chunk_draw % w->chunks,
    };
    s->issued++;
    return step;
}

static inline bool blk_text_equal(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* "seq" or "rand". */
static inline bool blk_parse_access(const char *text, enum blk_access *out)
{
    if (text != 0 && blk_text_equal(text, "seq")) {
        *out = BLK_SEQUENTIAL;
        return true;
    }
    if (text != 0 && blk_text_equal(text, "rand")) {
        *out = BLK_RANDOM;
        return true;
    }
    return false;
}

/* "read" (100), "write" (0) or "<N>r" with N in 1..99: N percent reads, the rest writes. */
static inline bool blk_parse_mix(const char *text, uint32_t *read_percent)
{
    if (text == 0) {
        return false;
    }
    if (blk_text_equal(text, "read")) {
        *read_percent = 100;
        return true;
    }
    if (blk_text_equal(text, "write")) {
        *read_percent = 0;
        return true;
    }
    uint32_t n = 0, digits = 0;
    for (; text[digits] >= '0' && text[digits] <= '9' && digits < 2; digits++) {
        n = n * 10 + (uint32_t)(text[digits] - '0');
    }
    if (digits == 0 || text[0] == '0' || !blk_text_equal(text + digits, "r") || n < 1 || n > 99) {
        return false;
    }
    *read_percent = n;
    return true;
}

#endif
