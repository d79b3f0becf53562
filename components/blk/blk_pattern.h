/*
 * What the block benchmark writes, and what every read of it (in the
 * benchmark client) and the disk image after a run (on the host,
 * pinion-blkimage) are checked against. Freestanding and header-only, so
 * that both sides use this one definition.
 *
 * Every device block (the device's logical block, 512 bytes or more) holds
 * 64-bit words derived from (client, device block, generation): the
 * client's partition index, the block's absolute number on the device, and
 * how many times the client has written it. The first three words are a
 * header that names all three, so that a block which is wrong can be told
 * apart: an older copy of itself (a lost write), its own header over other
 * content (a torn write), another block's intact content (misplaced), or
 * anything else (corrupt). Words are little-endian in the image, as the
 * target and the host both are.
 *
 *   word 0   the device block number
 *   word 1   BLK_PATTERN_MAGIC << 48 | client << 32 | generation
 *   word i   check ^ (i * BLK_PATTERN_STEP), i >= 2, where check mixes words 0 and 1
 *
 * A zeroed block has no valid header, so a block never written since the
 * disk was created (without the generation-0 fill) reads as corrupt.
 */
#ifndef PINION_BLK_PATTERN_H
#define PINION_BLK_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_PATTERN_MAGIC      UINT64_C(0x626b) /* "bk" */
#define BLK_PATTERN_STEP       UINT64_C(0x9e3779b97f4a7c15)
#define BLK_PATTERN_MAX_CLIENT 0xffffu
#define BLK_PATTERN_MIN_WORDS  3 /* the header */

enum blk_block_verdict {
    BLK_BLOCK_OK,
    BLK_BLOCK_LOST,      /* an intact older (or newer) generation of this very block */
    BLK_BLOCK_TORN,      /* this block's header over content that does not belong to it */
    BLK_BLOCK_MISPLACED, /* the intact content of another block, or another client's */
    BLK_BLOCK_CORRUPT,   /* no valid header: garbage, zeros */
    BLK_BLOCK_VERDICTS,
};

/* splitmix64's finaliser: every input bit reaches every output bit. */
static inline uint64_t blk_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static inline uint64_t blk_pattern_identity(uint32_t client, uint32_t generation)
{
    return BLK_PATTERN_MAGIC << 48 | (uint64_t)(client & BLK_PATTERN_MAX_CLIENT) << 32 | generation;
}

static inline uint64_t blk_pattern_check(uint64_t block, uint64_t identity)
{
    return blk_mix64(block ^ blk_mix64(identity));
}

/* Fills one device block of `words` 64-bit words. */
static inline void blk_pattern_fill(uint64_t *block_words, size_t words, uint32_t client,
                                    uint64_t block, uint32_t generation)
{
    uint64_t identity = blk_pattern_identity(client, generation);
    uint64_t check = blk_pattern_check(block, identity);
    block_words[0] = block;
    block_words[1] = identity;
    uint64_t step = 2 * BLK_PATTERN_STEP;
    for (size_t i = 2; i < words; i++) {
        block_words[i] = check ^ step;
        step += BLK_PATTERN_STEP;
    }
}

/* Whether words 2.. are the ones a block with this header holds. */
static inline bool blk_pattern_body_matches(const uint64_t *block_words, size_t words)
{
    uint64_t check = blk_pattern_check(block_words[0], block_words[1]);
    uint64_t step = 2 * BLK_PATTERN_STEP;
    for (size_t i = 2; i < words; i++) {
        if (block_words[i] != (check ^ step)) {
            return false;
        }
        step += BLK_PATTERN_STEP;
    }
    return true;
}

/* What a block that should hold (client, block, generation) holds instead, if anything. */
static inline enum blk_block_verdict blk_pattern_verdict(const uint64_t *block_words, size_t words,
                                                         uint32_t client, uint64_t block,
                                                         uint32_t generation)
{
    uint64_t identity = blk_pattern_identity(client, generation);
    if (block_words[0] == block && block_words[1] == identity &&
        blk_pattern_body_matches(block_words, words)) {
        return BLK_BLOCK_OK;
    }
    uint64_t found = block_words[1];
    bool header_valid = found >> 48 == BLK_PATTERN_MAGIC;
    bool ours =
        header_valid && block_words[0] == block &&
        (uint32_t)(found >> 32 & BLK_PATTERN_MAX_CLIENT) == (client & BLK_PATTERN_MAX_CLIENT);
    bool intact = header_valid && blk_pattern_body_matches(block_words, words);
    if (ours) {
        return intact ? BLK_BLOCK_LOST : BLK_BLOCK_TORN;
    }
    return intact ? BLK_BLOCK_MISPLACED : BLK_BLOCK_CORRUPT;
}

/*
 * The same, for a block that may hold any generation from `lowest` to
 * `highest` (a write to it failed: it may or may not have landed). A block
 * holding another generation is judged against `highest`.
 */
static inline enum blk_block_verdict blk_pattern_verdict_between(const uint64_t *block_words,
                                                                 size_t words, uint32_t client,
                                                                 uint64_t block, uint32_t lowest,
                                                                 uint32_t highest)
{
    uint32_t found = (uint32_t)block_words[1];
    uint32_t generation = found >= lowest && found <= highest ? found : highest;
    return blk_pattern_verdict(block_words, words, client, block, generation);
}

static inline const char *blk_verdict_name(enum blk_block_verdict verdict)
{
    switch (verdict) {
    case BLK_BLOCK_OK:
        return "ok";
    case BLK_BLOCK_LOST:
        return "lost";
    case BLK_BLOCK_TORN:
        return "torn";
    case BLK_BLOCK_MISPLACED:
        return "misplaced";
    default:
        return "corrupt";
    }
}

#endif
