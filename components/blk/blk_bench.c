/*
 * Block benchmark client (program blk_bench): makes `ios` requests of
 * `io_size` bytes over its partition, `depth` of them in flight, in the
 * sequence blk_sequence.h defines (sequential or random chunks; reads,
 * writes or a mix), writes every block with the pattern of
 * blk_pattern.h and checks every block it reads against the generation it
 * last wrote there (generation 0 is what the runner fills the disk with
 * before the run). docs/blk.md has the parameters, counters and reasons.
 *
 * Measurement: a first request, a flush, shows that the whole path is up;
 * once it is answered the client starts measurement phase 1 and its
 * sequence. When the last answer is in it prints "done"; the runner, once
 * every client has, starts phase 2 and ends the run (experiments/run).
 *
 * Two requests for one chunk are never in flight together (the second
 * waits for the first, counted in conflict_waits), so every write lands in
 * sequence order and the host can replay the sequence to know what the
 * disk must hold.
 *
 * A write answered with an error may or may not have reached the disk (a
 * driver that died with it in hand, a device error part way): its chunk
 * then holds, block by block, any generation from the last one known to
 * be written up to the one that failed. A later read of it accepts any of
 * those, and the runner's disk check accepts them for every chunk written
 * from the first failed write on (first_failed_write: its index in the
 * sequence plus one; 0 when no write failed).
 *
 * Test mode: with bad_every = K, after every K requests of the sequence
 * (but the last) the client also makes one no virtualiser may follow (in turn: past its
 * partition, across the partition's end, not block aligned in its data
 * region, past its data region, of no blocks, of an unknown op); each must
 * be answered PN_BLK_EINVAL (bad_sent, bad_refused).
 *
 * Wiring: "blk_queue" (pair with the virtualiser: we make requests),
 * "data" (rw, our data region: depth * io_size bytes at least), channel
 * "blk"; parameters capacity, depth, bad_every and the plan
 * (blk_bench_plan.h).
 */
#include "blk_bench_plan.h"
#include "blk_wiring.h"

#include <pinion/component.h>
#include <pinion/dbg_line.h>

#define MAX_DEPTH    256 /* a slot number fits the low byte of a request id */
#define SLOT_ID_BITS 8
#define BAD_KINDS    6
#define UNKNOWN_OP   7
#define WORD         8

enum request_kind {
    WARM_UP,
    MEASURED,
    BAD,
};

struct slot {
    bool busy;
    enum request_kind kind;
    uint32_t id;
    bool write;
    uint64_t chunk;
    uint64_t step;       /* its index in the sequence */
    uint32_t generation; /* what the chunk holds once this request is done */
};

enum stage {
    WARMING_UP,
    MEASURING,
    DONE,
};

static struct pn_blk_client queue;
static pn_channel blk_ch;
static uint8_t *data;
static uint64_t data_size;
static struct blk_bench_plan plan;
static struct blk_sequence sequence;
static uint32_t depth, in_flight, next_tag;
static struct slot slots[MAX_DEPTH];
static uint16_t free_slots[MAX_DEPTH];
static uint32_t n_free_slots;
static uint32_t generation[BLK_MAX_CHUNKS];
/* The generation a chunk surely holds: below generation[] after a failed write to it. */
static uint32_t known_generation[BLK_MAX_CHUNKS];
static bool chunk_busy[BLK_MAX_CHUNKS];
static struct blk_step next_step;
static bool have_next_step, waiting_counted;
static uint64_t issued, bad_every, since_bad;
static enum stage stage;
static bool pushed;

static uint64_t *requests, *read_bytes, *written_bytes, *blocks_checked;
static uint64_t *verdicts[BLK_BLOCK_VERDICTS];
static uint64_t *error_responses, *unexpected_responses, *conflict_waits, *bad_sent, *bad_refused;
static uint64_t *ring_errors, *done, *first_failed_write;

static void send_warm_up(void);
static void work(void);

static const char *param_of(void *context, const char *key)
{
    (void)context;
    return pn_param(key);
}

static void create_counters(void)
{
    requests = pn_counter("requests");
    read_bytes = pn_counter("read_bytes");
    written_bytes = pn_counter("written_bytes");
    blocks_checked = pn_counter("blocks_checked");
    verdicts[BLK_BLOCK_LOST] = pn_counter("blocks_lost");
    verdicts[BLK_BLOCK_TORN] = pn_counter("blocks_torn");
    verdicts[BLK_BLOCK_MISPLACED] = pn_counter("blocks_misplaced");
    verdicts[BLK_BLOCK_CORRUPT] = pn_counter("blocks_corrupt");
    error_responses = pn_counter("error_responses");
    unexpected_responses = pn_counter("unexpected_responses");
    conflict_waits = pn_counter("conflict_waits");
    bad_sent = pn_counter("bad_sent");
    bad_refused = pn_counter("bad_refused");
    ring_errors = pn_counter("ring_errors");
    done = pn_counter("done");
    first_failed_write = pn_counter("first_failed_write");
}

static uint32_t require_depth(uint32_t capacity)
{
    uint64_t value = pn_require_param_u64("depth");
    if (value == 0 || value > capacity || value > MAX_DEPTH) {
        pn_fatal("parameter \"depth\" must be 1..capacity, at most 256");
    }
    return (uint32_t)value;
}

void init(void)
{
    uint32_t capacity = blk_require_capacity();
    const char *complaint = blk_bench_plan_read(&plan, param_of, 0);
    if (complaint != 0) {
        pn_fatal(complaint);
    }
    depth = require_depth(capacity);
    bad_every = pn_param_u64_or("bad_every", 0);
    blk_require_client(&queue, "blk_queue", capacity);
    blk_ch = pn_require_channel("blk");
    data = pn_require_region("data", (uint64_t)depth * plan.io_size, &data_size);
    if ((pn_config_region(pn_config(), "data")->rights & PN_RIGHT_WRITE) == 0 ||
        (uintptr_t)data % WORD != 0) {
        pn_fatal("region \"data\" must be mapped rw, 8-byte aligned");
    }
    create_counters();
    blk_sequence_start(&sequence, &plan.workload);
    for (uint32_t i = 0; i < depth; i++) {
        free_slots[n_free_slots++] = (uint16_t)(depth - 1 - i);
    }
    send_warm_up();
    work();
}

/* Takes a free slot for a request of `kind`; the request's id names it. */
static struct slot *take_slot(enum request_kind kind, uint32_t *index)
{
    *index = free_slots[--n_free_slots];
    struct slot *s = &slots[*index];
    s->busy = true;
    s->kind = kind;
    s->id = (next_tag++ << SLOT_ID_BITS) | *index;
    in_flight++;
    return s;
}

static void release_slot(uint32_t index)
{
    slots[index].busy = false;
    free_slots[n_free_slots++] = (uint16_t)index;
    in_flight--;
}

static void submit(struct pn_blk_request r)
{
    if (pn_blk_submit(&queue, r) != PN_RING_OK) {
        /* Room for every request in flight, unless the virtualiser broke the ring. */
        ++*ring_errors;
        return;
    }
    pushed = true;
}

static void send_warm_up(void)
{
    uint32_t index;
    struct slot *s = take_slot(WARM_UP, &index);
    submit((struct pn_blk_request){.op = PN_BLK_FLUSH, .id = s->id});
}

/* One request no virtualiser may follow, of the next kind in turn. */
static void send_bad(void)
{
    uint32_t index;
    struct slot *s = take_slot(BAD, &index);
    uint64_t offset = (uint64_t)index * plan.io_size;
    struct pn_blk_request r = {
        .offset = offset, .block = 0, .count = 1, .id = s->id, .op = PN_BLK_READ};
    switch (*bad_sent % BAD_KINDS) {
    case 0:
        r.block = plan.partition_blocks; /* past the partition */
        break;
    case 1:
        r.block = plan.partition_blocks - 1; /* across its end */
        r.count = 2;
        break;
    case 2:
        r.offset = offset + 1; /* not block aligned in the data region */
        break;
    case 3:
        r.offset = data_size - plan.block_size; /* past the data region */
        r.count = 2;
        break;
    case 4:
        r.count = 0;
        break;
    default:
        r.op = UNKNOWN_OP;
        break;
    }
    ++*bad_sent;
    submit(r);
}

static void fill(uint8_t *buffer, uint64_t chunk, uint32_t gen)
{
    size_t words = plan.block_size / WORD;
    uint64_t first = plan.partition_start + chunk * plan.io_blocks;
    for (uint32_t b = 0; b < plan.io_blocks; b++) {
        uint64_t *block = (uint64_t *)(void *)(buffer + (size_t)b * plan.block_size);
        blk_pattern_fill(block, words, plan.workload.client, first + b, gen);
    }
}

/* Checks a chunk read back: each block must hold a generation in [lowest, gen]. */
static void check(const uint8_t *buffer, uint64_t chunk, uint32_t lowest, uint32_t gen)
{
    size_t words = plan.block_size / WORD;
    uint64_t first = plan.partition_start + chunk * plan.io_blocks;
    for (uint32_t b = 0; b < plan.io_blocks; b++) {
        const uint64_t *block =
            (const uint64_t *)(const void *)(buffer + (size_t)b * plan.block_size);
        enum blk_block_verdict verdict =
            blk_pattern_verdict_between(block, words, plan.workload.client, first + b, lowest, gen);
        if (verdict != BLK_BLOCK_OK) {
            ++*verdicts[verdict];
        }
    }
    *blocks_checked += plan.io_blocks;
}

/* The next request of the sequence, unless its chunk is busy; false if it must wait. */
static bool send_next(void)
{
    if (!have_next_step) {
        next_step = blk_sequence_next(&sequence);
        have_next_step = true;
        waiting_counted = false;
    }
    if (chunk_busy[next_step.chunk]) {
        if (!waiting_counted) {
            ++*conflict_waits;
            waiting_counted = true;
        }
        return false;
    }
    uint32_t index;
    struct slot *s = take_slot(MEASURED, &index);
    uint8_t *buffer = data + (size_t)index * plan.io_size;
    uint64_t chunk = next_step.chunk;
    if (next_step.write) {
        fill(buffer, chunk, ++generation[chunk]);
    }
    s->write = next_step.write;
    s->chunk = chunk;
    s->step = issued;
    s->generation = generation[chunk];
    chunk_busy[chunk] = true;
    have_next_step = false;
    issued++;
    since_bad++;
    submit((struct pn_blk_request){.offset = (uint64_t)index * plan.io_size,
                                   .block = chunk * plan.io_blocks,
                                   .count = plan.io_blocks,
                                   .id = s->id,
                                   .op = next_step.write ? PN_BLK_WRITE : PN_BLK_READ});
    return true;
}

static void pump(void)
{
    while (stage == MEASURING && n_free_slots > 0 && issued < plan.ios) {
        if (bad_every != 0 && since_bad == bad_every) {
            since_bad = 0;
            send_bad();
        } else if (!send_next()) {
            break;
        }
    }
}

static void complete_measured(const struct slot *s, struct pn_blk_response r, uint32_t index)
{
    if (r.status != PN_BLK_OK || r.count != plan.io_blocks) {
        ++*error_responses;
        /* Its chunk's content is unknown now; the first such write is what the host needs. */
        if (s->write && (*first_failed_write == 0 || s->step < *first_failed_write - 1)) {
            *first_failed_write = s->step + 1;
        }
    } else if (s->write) {
        known_generation[s->chunk] = s->generation;
        *written_bytes += plan.io_size;
    } else {
        check(data + (size_t)index * plan.io_size, s->chunk, known_generation[s->chunk],
              s->generation);
        *read_bytes += plan.io_size;
    }
    chunk_busy[s->chunk] = false;
    ++*requests;
}

static void collect(void)
{
    struct pn_blk_response r;
    enum pn_ring_status status;
    while ((status = pn_blk_take_response(&queue, &r)) == PN_RING_OK) {
        uint32_t index = r.id & ((1u << SLOT_ID_BITS) - 1);
        struct slot *s = &slots[index];
        if (index >= depth || !s->busy || s->id != r.id) {
            ++*unexpected_responses;
            continue;
        }
        switch (s->kind) {
        case WARM_UP:
            if (r.status != PN_BLK_OK && r.status != PN_BLK_EUNSUPPORTED) {
                ++*error_responses;
            }
            stage = MEASURING;
            pn_phase(1);
            break;
        case BAD:
            if (r.status == PN_BLK_EINVAL) {
                ++*bad_refused;
            }
            break;
        default:
            complete_measured(s, r, index);
            break;
        }
        release_slot(index);
    }
    if (status == PN_RING_CORRUPT) {
        ++*ring_errors;
    }
}

static void report_done(void)
{
    uint64_t bad_blocks = 0;
    for (int v = BLK_BLOCK_OK + 1; v < BLK_BLOCK_VERDICTS; v++) {
        bad_blocks += *verdicts[v];
    }
    struct pn_dbg_line line = {0};
    pn_dbg_line_add(&line, "blk_bench done: ");
    pn_dbg_line_add_u64(&line, *requests);
    pn_dbg_line_add(&line, " requests, ");
    pn_dbg_line_add_u64(&line, bad_blocks);
    pn_dbg_line_add(&line, " bad blocks, ");
    pn_dbg_line_add_u64(&line, *error_responses);
    pn_dbg_line_add(&line, " errors\n");
    pn_dbg_puts(line.text);
}

/* Answers in, requests out, until nothing is left to do for now. */
static void work(void)
{
    for (;;) {
        collect();
        pump();
        if (stage == MEASURING && issued == plan.ios && in_flight == 0) {
            stage = DONE;
            *done = 1;
            report_done();
        }
        if (pushed && pn_ring_require_signal(&queue.requests)) {
            pn_notify(blk_ch);
        }
        pushed = false;
        pn_ring_request_signal(&queue.responses);
        if (pn_ring_consumer_empty(&queue.responses)) {
            return;
        }
        pn_ring_cancel_signal(&queue.responses);
    }
}

void notified(pn_channel ch)
{
    (void)ch;
    work();
}
