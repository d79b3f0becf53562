/*
 * Test component: the block driver's place in the storage path, so that
 * the real blk_virt is tested in the hosted backend between it and clients
 * that misbehave (tests/unit/test_blk_virt_hosted.c,
 * tests/data/hosted/blk-virt.json).
 *
 * It is a RAM disk: region "disk" holds the device's bytes, and it moves
 * data between the disk and the clients' data regions itself, as the
 * device would, by physical address (in the hosted backend a region's
 * physical address is its host address; the driver's maps of the data
 * regions, "data0".., have rights none, as the real driver's). Every
 * request must lie on the disk with its data inside one data region: one
 * that does not is counted (bad_requests) and answered EINVAL, for the
 * virtualiser must never pass one on.
 *
 * It misbehaves towards the virtualiser: it answers each batch of
 * requests in reverse order, and after every UNKNOWN_EVERY-th answer it
 * also sends one with an id the virtualiser never gave (bogus_unknown),
 * after every REPEAT_EVERY-th the same answer a second time
 * (bogus_repeated), each counted only if it went into the ring. The
 * virtualiser must drop and count exactly those. The bogus answers take
 * room in the response ring that the virtualiser does not know of, so the
 * description keeps the requests it can have in flight (the clients'
 * depths together) well below the ring's capacity; a real answer that
 * finds no room anyway is counted (lost_answers).
 *
 * With "die_after" = N it dies (pn_fatal) on taking its N+1-th request,
 * holding that one and the rest of its batch unanswered (held_at_death),
 * after answering the batch's earlier ones: the virtualiser's failover is
 * tested with it.
 *
 * Wiring: "blk_queue" (we answer), "disk" (rw), "data0".. (rights none),
 * channel "blk"; parameters capacity, block_size, die_after (0: never).
 * Freestanding.
 */
#include <pinion/blk_queue.h>
#include <pinion/component.h>
#include <pinion/wiring.h>

#define MAX_BATCH     1024
#define MAX_DATA      8
#define UNKNOWN_EVERY 7
#define REPEAT_EVERY  11

struct range {
    uint64_t base, size;
};

static struct pn_blk_server queue;
static pn_channel blk_ch;
static uint8_t *disk;
static uint64_t disk_blocks;
static uint32_t block_size, capacity;
static struct range data[MAX_DATA];
static uint32_t n_data, answers;
static struct pn_blk_request batch[MAX_BATCH];
static uint64_t *requests, *flushes, *bad_requests, *bogus_unknown, *bogus_repeated;
static uint64_t *read_bytes, *written_bytes, *lost_answers, *held_at_death;
static uint64_t die_after, taken;

void init(void)
{
    capacity = (uint32_t)pn_require_param_u64("capacity");
    block_size = (uint32_t)pn_require_param_u64("block_size");
    if (capacity == 0 || capacity > MAX_BATCH || (capacity & (capacity - 1)) != 0 ||
        block_size == 0) {
        pn_fatal("parameters \"capacity\" (a power of two up to 1024) or \"block_size\" wrong");
    }
    void *region = pn_require_region("blk_queue", pn_blk_pair_bytes(capacity), 0);
    pn_blk_server_attach(&queue, region, capacity);
    uint64_t disk_size;
    disk = pn_require_region("disk", block_size, &disk_size);
    disk_blocks = disk_size / block_size;
    char name[6] = "data0";
    for (n_data = 0; n_data < MAX_DATA; n_data++) {
        name[4] = (char)('0' + n_data);
        if (!pn_region_paddr(name, &data[n_data].base, &data[n_data].size)) {
            break;
        }
    }
    blk_ch = pn_require_channel("blk");
    requests = pn_counter("requests");
    flushes = pn_counter("flushes");
    bad_requests = pn_counter("bad_requests");
    bogus_unknown = pn_counter("bogus_unknown");
    bogus_repeated = pn_counter("bogus_repeated");
    read_bytes = pn_counter("read_bytes");
    written_bytes = pn_counter("written_bytes");
    lost_answers = pn_counter("lost_answers");
    held_at_death = pn_counter("held_at_death");
    die_after = pn_param_u64_or("die_after", 0);
    /* The virtualiser may have made requests before we asked to hear of them. */
    notified(blk_ch);
}

/* The data of a request, if it lies inside one data region. */
static uint8_t *data_of(uint64_t pa, uint64_t bytes)
{
    for (uint32_t i = 0; i < n_data; i++) {
        if (pa >= data[i].base && pa - data[i].base < data[i].size &&
            data[i].size - (pa - data[i].base) >= bytes) {
            return (uint8_t *)(uintptr_t)pa;
        }
    }
    return 0;
}

static struct pn_blk_response serve(struct pn_blk_request r)
{
    struct pn_blk_response answer = {.id = r.id, .status = PN_BLK_OK, .count = r.count};
    if (r.op == PN_BLK_FLUSH) {
        ++*flushes;
        return answer;
    }
    uint64_t bytes = (uint64_t)r.count * block_size;
    uint8_t *buffer = data_of(r.offset, bytes);
    if ((r.op != PN_BLK_READ && r.op != PN_BLK_WRITE) || r.count == 0 || buffer == 0 ||
        r.block >= disk_blocks || disk_blocks - r.block < r.count) {
        ++*bad_requests;
        answer.status = PN_BLK_EINVAL;
        answer.count = 0;
        return answer;
    }
    uint8_t *at = disk + r.block * block_size;
    if (r.op == PN_BLK_READ) {
        __builtin_memcpy(buffer, at, bytes);
        *read_bytes += bytes;
    } else {
        __builtin_memcpy(at, buffer, bytes);
        *written_bytes += bytes;
    }
    ++*requests;
    return answer;
}

static void misbehave(struct pn_blk_response answer)
{
    if (answers % UNKNOWN_EVERY == 0) {
        /* An index the virtualiser's table does not have, then a tag it never used. */
        uint32_t id = *bogus_unknown % 2 == 0 ? 0xffffu : 0xfffeu << 16;
        struct pn_blk_response bogus = {.id = id, .status = PN_BLK_OK, .count = 1};
        if (pn_blk_respond(&queue, bogus) == PN_RING_OK) {
            ++*bogus_unknown;
        }
    }
    if (answers % REPEAT_EVERY == 0 && pn_blk_respond(&queue, answer) == PN_RING_OK) {
        ++*bogus_repeated;
    }
}

static void answer_batch(void)
{
    uint32_t n = 0;
    while (n < capacity && pn_blk_take_request(&queue, &batch[n]) == PN_RING_OK) {
        n++;
    }
    uint32_t held = 0;
    if (die_after != 0 && taken + n > die_after) {
        held = n - (uint32_t)(die_after - taken); /* from the batch's end: the latest taken */
    }
    taken += n;
    while (n > held) {
        struct pn_blk_response answer = serve(batch[--n - held]);
        if (pn_blk_respond(&queue, answer) != PN_RING_OK) {
            ++*lost_answers;
            continue;
        }
        answers++;
        misbehave(answer);
    }
    if (held != 0) {
        *held_at_death = held;
        pn_fatal("dying on purpose (die_after), requests in hand");
    }
}

void notified(pn_channel ch)
{
    (void)ch;
    for (;;) {
        answer_batch();
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
