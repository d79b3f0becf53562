/*
 * Test component: the virtualiser's place for one real blk_bench client,
 * a RAM disk of its partition that answers wrongly on purpose, so that
 * every check the client makes is tested against faults known exactly
 * (tests/unit/test_blk_bench_hosted.c, tests/data/hosted/blk-bench.json).
 * Block N of the partition is at byte N * block_size of region "disk"; the
 * test fills it with generation 0 of the client's pattern before the run.
 *
 * Data: on every DAMAGE_EVERY-th read that succeeds, the first device
 * block of what the client receives is damaged, in turn: an intact other
 * generation of itself (damaged_lost), its last word changed
 * (damaged_torn), the next block's intact content (damaged_misplaced),
 * zeros (damaged_corrupt). The disk keeps what was written, so each
 * damage shows in exactly one read.
 *
 * Answers: every EIO_EVERY-th read fails with EIO (eio_reads), every
 * SHORT_EVERY-th other read is answered OK with one block too few
 * (short_reads): reads only, so the disk stays what the client wrote.
 * After every UNKNOWN_EVERY-th answer comes one with an id the client
 * never used (bogus_unknown), after every REPEAT_EVERY-th the same answer
 * again (bogus_repeated).
 *
 * With parameter `broken` set it answers nothing: at init it makes the
 * response ring's tail impossible and notifies (ring_broken), and the
 * client must count that and follow nothing.
 *
 * A request outside the partition or the client's data region is counted
 * (bad_requests) and answered EINVAL; the client must make none.
 *
 * Wiring: "blk_queue" (we answer), "disk" (rw), "client_data" (rights
 * none: in the hosted backend its physical address is its host address),
 * channel "blk"; parameters capacity, block_size, broken. Freestanding.
 */
#include "../../components/blk/blk_pattern.h"

#include <pinion/blk_queue.h>
#include <pinion/component.h>
#include <pinion/wiring.h>

#define DAMAGE_EVERY  5
#define EIO_EVERY     13
#define SHORT_EVERY   17
#define UNKNOWN_EVERY 9
#define REPEAT_EVERY  10
#define UNKNOWN_ID    0xffu /* slot 255: more than any depth the client may have */
#define WORD          8

static struct pn_blk_server queue;
static pn_channel blk_ch;
static uint8_t *disk;
static uint64_t disk_blocks, data_base, data_size, answers, reads, good_reads;
static bool broken;
static uint32_t block_size, capacity;
static uint64_t *requests, *bad_requests, *eio_reads, *short_reads, *bogus_unknown;
static uint64_t *bogus_repeated, *ring_broken, *lost_answers;
static uint64_t *damaged[BLK_BLOCK_VERDICTS];

static void break_ring(void);

void init(void)
{
    capacity = (uint32_t)pn_require_param_u64("capacity");
    block_size = (uint32_t)pn_require_param_u64("block_size");
    broken = pn_param_u64_or("broken", 0) != 0;
    void *region = pn_require_region("blk_queue", pn_blk_pair_bytes(capacity), 0);
    if (!pn_blk_server_attach(&queue, region, capacity) || block_size < 512) {
        pn_fatal("parameters \"capacity\" or \"block_size\" wrong");
    }
    uint64_t disk_size;
    disk = pn_require_region("disk", block_size, &disk_size);
    disk_blocks = disk_size / block_size;
    if (!pn_region_paddr("client_data", &data_base, &data_size)) {
        pn_fatal("no \"client_data\"");
    }
    blk_ch = pn_require_channel("blk");
    requests = pn_counter("requests");
    bad_requests = pn_counter("bad_requests");
    eio_reads = pn_counter("eio_reads");
    short_reads = pn_counter("short_reads");
    bogus_unknown = pn_counter("bogus_unknown");
    bogus_repeated = pn_counter("bogus_repeated");
    ring_broken = pn_counter("ring_broken");
    lost_answers = pn_counter("lost_answers");
    damaged[BLK_BLOCK_LOST] = pn_counter("damaged_lost");
    damaged[BLK_BLOCK_TORN] = pn_counter("damaged_torn");
    damaged[BLK_BLOCK_MISPLACED] = pn_counter("damaged_misplaced");
    damaged[BLK_BLOCK_CORRUPT] = pn_counter("damaged_corrupt");
    if (broken) {
        break_ring();
        return;
    }
    /* The client may have made requests before we asked to hear of them. */
    notified(blk_ch);
}

/* Damages the first device block the client receives, in the next way in turn. */
static void damage(uint64_t *block)
{
    size_t words = block_size / WORD;
    uint32_t client = (uint32_t)(block[1] >> 32 & BLK_PATTERN_MAX_CLIENT);
    uint32_t generation = (uint32_t)block[1];
    enum blk_block_verdict kind =
        (enum blk_block_verdict)(BLK_BLOCK_LOST + good_reads / DAMAGE_EVERY % 4);
    switch (kind) {
    case BLK_BLOCK_LOST:
        blk_pattern_fill(block, words, client, block[0], generation + 1);
        break;
    case BLK_BLOCK_TORN:
        block[words - 1] ^= 1;
        break;
    case BLK_BLOCK_MISPLACED:
        blk_pattern_fill(block, words, client, block[0] + 1, generation);
        break;
    default:
        __builtin_memset(block, 0, block_size);
        break;
    }
    ++*damaged[kind];
}

static struct pn_blk_response serve(struct pn_blk_request r)
{
    struct pn_blk_response answer = {.id = r.id, .status = PN_BLK_OK, .count = r.count};
    if (r.op == PN_BLK_FLUSH) {
        return answer;
    }
    uint64_t bytes = (uint64_t)r.count * block_size;
    if ((r.op != PN_BLK_READ && r.op != PN_BLK_WRITE) || r.count == 0 || r.block >= disk_blocks ||
        disk_blocks - r.block < r.count || r.offset >= data_size || data_size - r.offset < bytes) {
        ++*bad_requests;
        return (struct pn_blk_response){.id = r.id, .status = PN_BLK_EINVAL};
    }
    ++*requests;
    /* The client names offsets in its data region; the "device" reaches it by address. */
    uint8_t *buffer = (uint8_t *)(uintptr_t)(data_base + r.offset);
    uint8_t *at = disk + r.block * block_size;
    if (r.op == PN_BLK_WRITE) {
        __builtin_memcpy(at, buffer, bytes);
        return answer;
    }
    reads++;
    if (reads % EIO_EVERY == 0) {
        ++*eio_reads;
        return (struct pn_blk_response){.id = r.id, .status = PN_BLK_EIO};
    }
    if (reads % SHORT_EVERY == 0) {
        ++*short_reads;
        answer.count = r.count - 1;
        return answer;
    }
    __builtin_memcpy(buffer, at, bytes);
    if (++good_reads % DAMAGE_EVERY == 0) {
        damage((uint64_t *)(void *)buffer);
    }
    return answer;
}

static void misbehave(struct pn_blk_response answer)
{
    if (answers % UNKNOWN_EVERY == 0) {
        struct pn_blk_response bogus = {.id = UNKNOWN_ID, .status = PN_BLK_OK, .count = 1};
        if (pn_blk_respond(&queue, bogus) == PN_RING_OK) {
            ++*bogus_unknown;
        }
    }
    if (answers % REPEAT_EVERY == 0 && pn_blk_respond(&queue, answer) == PN_RING_OK) {
        ++*bogus_repeated;
    }
}

/* An impossible tail: more answers than the ring can hold. */
static void break_ring(void)
{
    uint32_t head = atomic_load_explicit(&queue.responses.end.shared->head, memory_order_acquire);
    atomic_store_explicit(&queue.responses.end.shared->tail, head + capacity + 3,
                          memory_order_release);
    ++*ring_broken;
    pn_notify(blk_ch);
}

void notified(pn_channel ch)
{
    (void)ch;
    if (broken) {
        return; /* publishing our own tail again would mend the ring */
    }
    for (;;) {
        struct pn_blk_request r;
        while (pn_blk_take_request(&queue, &r) == PN_RING_OK) {
            struct pn_blk_response answer = serve(r);
            if (pn_blk_respond(&queue, answer) != PN_RING_OK) {
                ++*lost_answers;
                continue;
            }
            answers++;
            misbehave(answer);
        }
        if (pn_ring_require_signal(&queue.responses)) {
            pn_notify(blk_ch);
        }
        pn_ring_request_signal(&queue.requests);
        if (pn_ring_consumer_empty(&queue.requests)) {
            return;
        }
        pn_ring_cancel_signal(&queue.requests);
    }
}
