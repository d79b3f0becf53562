/*
 * Test component: a client of the block virtualiser that makes, besides
 * sound requests, every kind of request no virtualiser may follow, and at
 * the end breaks its own request ring (tests/unit/test_blk_virt_hosted.c,
 * tests/data/hosted/blk-virt.json).
 *
 * Round r writes WRITES chunks (generation r + 1 of the pattern of
 * components/blk/blk_pattern.h), reads back the chunks round r - 1 wrote
 * and checks them, and makes one request of each bad kind (below); the
 * next round starts when every answer is in. Sound requests must be
 * answered OK with their count (good_ok, else good_failed) and reads must
 * hold what was written (wrong_data counts blocks that do not); bad ones
 * must be answered PN_BLK_EINVAL (bad_refused, else bad_other). After
 * `rounds` rounds it makes its request ring's tail impossible and notifies
 * (ring_broken), which the virtualiser must notice and count without
 * harm to anyone else.
 *
 * Wiring: "blk_queue" (we make requests), "data" (rw), channel "blk";
 * parameters capacity, rounds, and those generated from the device's
 * partitions: block_size, client_id, partition_start, partition_blocks.
 * Freestanding.
 */
#include "../../components/blk/blk_pattern.h"

#include <pinion/blk_queue.h>
#include <pinion/component.h>
#include <pinion/wiring.h>

#define IO_SIZE    4096u
#define WRITES     4
#define BAD_KINDS  9
#define MAX_BATCH  (2 * WRITES + BAD_KINDS)
#define UNKNOWN_OP 9
#define WORD       8

enum kind {
    GOOD_WRITE,
    GOOD_READ,
    BAD,
};

struct sent {
    enum kind kind;
    uint64_t chunk;
    uint32_t generation;
    bool answered;
};

static struct pn_blk_client queue;
static pn_channel blk_ch;
static uint8_t *data;
static uint64_t data_size, partition_start, partition_blocks, chunks, rounds, round;
static uint32_t block_size, client_id, io_blocks, capacity;
static struct sent batch[MAX_BATCH];
static uint32_t n_batch, outstanding;
static uint64_t *good_ok, *good_failed, *wrong_data, *bad_sent, *bad_refused, *bad_other;
static uint64_t *unexpected, *rounds_done, *ring_broken;

static void start_round(void);

void init(void)
{
    capacity = (uint32_t)pn_require_param_u64("capacity");
    rounds = pn_require_param_u64("rounds");
    block_size = (uint32_t)pn_require_param_u64("block_size");
    client_id = (uint32_t)pn_require_param_u64("client_id");
    partition_start = pn_require_param_u64("partition_start");
    partition_blocks = pn_require_param_u64("partition_blocks");
    io_blocks = IO_SIZE / block_size;
    chunks = partition_blocks / io_blocks;
    void *region = pn_require_region("blk_queue", pn_blk_pair_bytes(capacity), 0);
    if (capacity < MAX_BATCH || !pn_blk_client_attach(&queue, region, capacity) ||
        chunks < 2 * WRITES) {
        pn_fatal("capacity too small, not a power of two, or a partition below 8 chunks");
    }
    data = pn_require_region("data", (uint64_t)2 * WRITES * IO_SIZE, &data_size);
    blk_ch = pn_require_channel("blk");
    good_ok = pn_counter("good_ok");
    good_failed = pn_counter("good_failed");
    wrong_data = pn_counter("wrong_data");
    bad_sent = pn_counter("bad_sent");
    bad_refused = pn_counter("bad_refused");
    bad_other = pn_counter("bad_other");
    unexpected = pn_counter("unexpected");
    rounds_done = pn_counter("rounds_done");
    ring_broken = pn_counter("ring_broken");
    start_round();
    /* Answers may come before we ask to hear of them. */
    notified(blk_ch);
}

static uint64_t chunk_of(uint64_t r, uint32_t i)
{
    return (r * WRITES + i) % chunks;
}

static void send(struct pn_blk_request r, struct sent what)
{
    r.id = (uint32_t)(round << 8) | n_batch;
    batch[n_batch++] = what;
    pn_blk_submit(&queue, r); /* the ring holds a whole batch */
    outstanding++;
}

static void send_bad(uint32_t kind)
{
    struct pn_blk_request r = {.offset = 0, .block = 0, .count = 1, .op = PN_BLK_READ};
    switch (kind) {
    case 0:
        r.block = partition_blocks; /* past the partition */
        break;
    case 1:
        r.block = partition_blocks - 1; /* across its end */
        r.count = 2;
        break;
    case 2:
        r.offset = WORD; /* not block aligned */
        break;
    case 3:
        r.offset = data_size - block_size; /* past the data region */
        r.count = 2;
        break;
    case 4:
        r.count = 0;
        break;
    case 5:
        r.op = UNKNOWN_OP;
        break;
    case 6:
        r.count = UINT32_MAX; /* bytes that overflow 32 bits */
        break;
    case 7:
        r.block = UINT64_MAX - 1; /* a block range that wraps */
        r.count = 2;
        break;
    default:
        r.offset = UINT64_MAX - block_size + 1; /* a data range that wraps */
        break;
    }
    ++*bad_sent;
    send(r, (struct sent){.kind = BAD});
}

static void start_round(void)
{
    n_batch = 0;
    for (uint32_t i = 0; i < WRITES; i++) {
        uint64_t chunk = chunk_of(round, i);
        uint8_t *buffer = data + (uint64_t)i * IO_SIZE;
        for (uint32_t b = 0; b < io_blocks; b++) {
            blk_pattern_fill((uint64_t *)(void *)(buffer + (uint64_t)b * block_size),
                             block_size / WORD, client_id, partition_start + chunk * io_blocks + b,
                             (uint32_t)round + 1);
        }
        send((struct pn_blk_request){.offset = (uint64_t)i * IO_SIZE,
                                     .block = chunk * io_blocks,
                                     .count = io_blocks,
                                     .op = PN_BLK_WRITE},
             (struct sent){.kind = GOOD_WRITE, .chunk = chunk});
    }
    for (uint32_t i = 0; round > 0 && i < WRITES; i++) {
        uint64_t chunk = chunk_of(round - 1, i);
        send((struct pn_blk_request){.offset = (uint64_t)(WRITES + i) * IO_SIZE,
                                     .block = chunk * io_blocks,
                                     .count = io_blocks,
                                     .op = PN_BLK_READ},
             (struct sent){.kind = GOOD_READ, .chunk = chunk, .generation = (uint32_t)round});
    }
    for (uint32_t kind = 0; kind < BAD_KINDS; kind++) {
        send_bad(kind);
    }
    if (pn_ring_require_signal(&queue.requests)) {
        pn_notify(blk_ch);
    }
}

static void check_read(const struct sent *s, uint32_t index)
{
    const uint8_t *buffer = data + (uint64_t)index * IO_SIZE;
    for (uint32_t b = 0; b < io_blocks; b++) {
        const uint64_t *block = (const uint64_t *)(const void *)(buffer + (uint64_t)b * block_size);
        if (blk_pattern_verdict(block, block_size / WORD, client_id,
                                partition_start + s->chunk * io_blocks + b,
                                s->generation) != BLK_BLOCK_OK) {
            ++*wrong_data;
        }
    }
}

static void take(struct pn_blk_response r)
{
    uint32_t index = r.id & 0xff;
    if (r.id >> 8 != (uint32_t)round || index >= n_batch || batch[index].answered) {
        ++*unexpected;
        return;
    }
    struct sent *s = &batch[index];
    s->answered = true;
    outstanding--;
    if (s->kind == BAD) {
        ++*(r.status == PN_BLK_EINVAL ? bad_refused : bad_other);
        return;
    }
    if (r.status != PN_BLK_OK || r.count != io_blocks) {
        ++*good_failed;
        return;
    }
    ++*good_ok;
    if (s->kind == GOOD_READ) {
        check_read(s, index);
    }
}

/* An impossible tail: more requests than the ring can hold. */
static void break_ring(void)
{
    uint32_t tail = atomic_load_explicit(&queue.requests.end.shared->head, memory_order_acquire);
    atomic_store_explicit(&queue.requests.end.shared->tail, tail + capacity + 5,
                          memory_order_release);
    ++*ring_broken;
    pn_notify(blk_ch);
}

void notified(pn_channel ch)
{
    (void)ch;
    for (;;) {
        struct pn_blk_response r;
        while (pn_blk_take_response(&queue, &r) == PN_RING_OK) {
            take(r);
        }
        if (outstanding == 0 && round < rounds) {
            ++*rounds_done;
            if (++round < rounds) {
                start_round();
            } else {
                break_ring();
            }
        }
        pn_ring_request_signal(&queue.responses);
        if (pn_ring_consumer_empty(&queue.responses)) {
            return;
        }
        pn_ring_cancel_signal(&queue.responses);
    }
}
