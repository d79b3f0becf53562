/*
 * Unit tests of blk-bridge's queue logic (driver-vms/programs/blk_bridge_core.c)
 * on the host: the bridge between a fake client of its queue pair (the
 * virtualiser's side) and a fake disk that records what it was asked and
 * completes when the test says. Reads land in the client's region only once
 * they complete, writes are copied out before they are submitted, every bad
 * request is refused and counted, answers carry the ids they came with in
 * completion order, and the doorbell rings only when the client asked.
 */
#define _POSIX_C_SOURCE 200809L

#include "blk_bridge_core.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CAPACITY    16
#define SLOTS       4
#define MAX_BYTES   8192
#define BLOCK       512
#define DISK_BLOCKS 1024
#define REGION_PHYS 0x40000000u
#define REGION_SIZE 65536

struct submitted {
    unsigned slot;
    bool read, flush;
    uint64_t offset;
    unsigned char *buffer;
    uint32_t len;
};

struct world {
    struct submitted subs[64];
    unsigned n_subs, kicks, rings;
    uint32_t last_ring;
    int fail_submit; /* -errno for the next submission, or 0 */
    unsigned char disk[DISK_BLOCKS * BLOCK];
};

struct setup {
    _Alignas(64) unsigned char queue[8192];
    _Alignas(4096) unsigned char bounce[SLOTS * MAX_BYTES];
    _Alignas(64) unsigned char region[REGION_SIZE];
    struct pn_blk_client client;
    struct blk_bridge bridge;
    struct world world;
    struct blk_bridge_io io;
};

static int fake_submit(void *ctx, unsigned slot, bool read, bool flush, uint64_t offset,
                       unsigned char *buffer, uint32_t len)
{
    struct world *w = ctx;
    if (w->fail_submit) {
        int rc = w->fail_submit;
        w->fail_submit = 0;
        return rc;
    }
    w->subs[w->n_subs++] = (struct submitted){
        .slot = slot, .read = read, .flush = flush, .offset = offset, .buffer = buffer, .len = len};
    return 0;
}

static void fake_kick(void *ctx)
{
    ((struct world *)ctx)->kicks++;
}

static void fake_ring(void *ctx, uint32_t value)
{
    struct world *w = ctx;
    w->rings++;
    w->last_ring = value;
}

/* The fake disk does submission i (reading or writing its memory), then the bridge hears. */
static void complete(struct setup *s, unsigned i, long result)
{
    struct submitted *sub = &s->world.subs[i];
    if (result > 0 && !sub->flush) {
        if (sub->read) {
            memcpy(sub->buffer, s->world.disk + sub->offset, sub->len);
        } else {
            memcpy(s->world.disk + sub->offset, sub->buffer, sub->len);
        }
    }
    blk_bridge_complete(&s->bridge, &s->io, sub->slot, result);
}

static struct setup *make(void)
{
    /* The bounce buffers are page aligned, as O_DIRECT wants them: so is the setup. */
    size_t bytes = (sizeof(struct setup) + 4095) / 4096 * 4096;
    struct setup *s = aligned_alloc(4096, bytes);
    memset(s, 0, bytes);
    pn_blk_pair_format(s->queue, CAPACITY);
    CHECK(pn_blk_client_attach(&s->client, s->queue, CAPACITY));
    struct blk_bridge_region region = {
        .base = s->region, .phys = REGION_PHYS, .bytes = REGION_SIZE};
    char err[BLK_BRIDGE_ERROR_MAX];
    CHECK(blk_bridge_init(&s->bridge, s->queue, sizeof s->queue, CAPACITY, &region, 1, BLOCK,
                          DISK_BLOCKS * BLOCK, s->bounce, SLOTS, MAX_BYTES, err, sizeof err));
    s->io = (struct blk_bridge_io){
        .submit = fake_submit, .kick = fake_kick, .ring = fake_ring, .ctx = &s->world};
    for (unsigned i = 0; i < sizeof s->world.disk; i++) {
        s->world.disk[i] = (unsigned char)(i * 7 + 3);
    }
    return s;
}

static void request(struct setup *s, uint32_t id, uint32_t op, uint64_t region_offset,
                    uint64_t block, uint32_t count)
{
    struct pn_blk_request r = {
        .offset = REGION_PHYS + region_offset, .block = block, .count = count, .id = id, .op = op};
    CHECK_EQ(pn_blk_submit(&s->client, r), PN_RING_OK);
}

static struct pn_blk_response answer(struct setup *s)
{
    struct pn_blk_response r = {0};
    CHECK_EQ(pn_blk_take_response(&s->client, &r), PN_RING_OK);
    return r;
}

static void test_init_errors(void)
{
    static _Alignas(64) unsigned char q[8192], bounce[4096], data[4096];
    struct blk_bridge b;
    struct blk_bridge_region r = {.base = data, .phys = 0x1000, .bytes = sizeof data};
    char err[BLK_BRIDGE_ERROR_MAX];
    CHECK(!blk_bridge_init(&b, q, sizeof q, 6, &r, 1, 512, 1 << 20, bounce, 1, 4096, err,
                           sizeof err));
    CHECK_STR_CONTAINS(err, "holds no pair of capacity 6");
    CHECK(!blk_bridge_init(&b, q, 100, 8, &r, 1, 512, 1 << 20, bounce, 1, 4096, err, sizeof err));
    CHECK_STR_CONTAINS(err, "the queue (100 bytes) holds no pair of capacity 8");
    CHECK(!blk_bridge_init(&b, q, sizeof q, 8, &r, 1, 500, 1 << 20, bounce, 1, 4096, err,
                           sizeof err));
    CHECK_STR_CONTAINS(err, "a 500-byte block");
    CHECK(!blk_bridge_init(&b, q, sizeof q, 8, &r, 0, 512, 1 << 20, bounce, 1, 4096, err,
                           sizeof err));
    CHECK_STR_CONTAINS(err, "0 data regions: there must be 1 to 3");
    CHECK(!blk_bridge_init(&b, q, sizeof q, 8, &r, 1, 512, 1 << 20, bounce, 65, 4096, err,
                           sizeof err));
    CHECK_STR_CONTAINS(err, "65 slots of 4096 bytes");
}

static void test_read_lands_only_on_completion(void)
{
    struct setup *s = make();
    request(s, 41, PN_BLK_READ, 4096, 10, 8); /* 4 KiB from block 10 into region + 4096 */
    blk_bridge_serve(&s->bridge, &s->io);
    CHECK_EQ(s->world.n_subs, 1);
    CHECK_EQ(s->world.kicks, 1);
    CHECK(s->world.subs[0].read && !s->world.subs[0].flush);
    CHECK_EQ(s->world.subs[0].offset, 10 * BLOCK);
    CHECK_EQ(s->world.subs[0].len, 4096);
    unsigned char zero[4096] = {0};
    CHECK(memcmp(s->region + 4096, zero, sizeof zero) == 0);
    struct pn_blk_response r;
    CHECK_EQ(pn_blk_take_response(&s->client, &r), PN_RING_EMPTY);
    complete(s, 0, 4096);
    r = answer(s);
    CHECK_EQ(r.id, 41);
    CHECK_EQ(r.status, PN_BLK_OK);
    CHECK_EQ(r.count, 8);
    CHECK(memcmp(s->region + 4096, s->world.disk + 10 * BLOCK, 4096) == 0);
    CHECK_EQ(s->bridge.counts.reads, 1);
    CHECK_EQ(s->bridge.counts.bytes_copied, 4096);
    /* The client never asked to be woken: no doorbell. */
    CHECK_EQ(s->world.rings, 0);
    free(s);
}

static void test_write_copied_out_before_submission(void)
{
    struct setup *s = make();
    memset(s->region, 0xab, 1024);
    pn_ring_request_signal(&s->client.responses);
    request(s, 7, PN_BLK_WRITE, 0, 100, 2);
    blk_bridge_serve(&s->bridge, &s->io);
    CHECK_EQ(s->world.n_subs, 1);
    CHECK(!s->world.subs[0].read);
    /* The client may reuse its buffer once answered; the bounce already holds the data. */
    memset(s->region, 0, 1024);
    complete(s, 0, 1024);
    CHECK_EQ(s->world.disk[100 * BLOCK], 0xab);
    CHECK_EQ(s->world.disk[100 * BLOCK + 1023], 0xab);
    struct pn_blk_response r = answer(s);
    CHECK_EQ(r.id, 7);
    CHECK_EQ(r.status, PN_BLK_OK);
    /* The client asked for a signal: one doorbell, numbered. */
    CHECK_EQ(s->world.rings, 1);
    CHECK_EQ(s->world.last_ring, 1);
    free(s);
}

static void test_bad_requests_refused(void)
{
    struct setup *s = make();
    request(s, 1, 99, 0, 0, 1);                          /* unknown op */
    request(s, 2, PN_BLK_READ, 0, 0, 0);                 /* no blocks */
    request(s, 3, PN_BLK_READ, 0, DISK_BLOCKS, 1);       /* past the disk */
    request(s, 4, PN_BLK_READ, 0, DISK_BLOCKS - 1, 2);   /* runs past the disk */
    request(s, 5, PN_BLK_READ, REGION_SIZE - 512, 0, 2); /* runs past the region */
    request(s, 6, PN_BLK_READ, 4, 0, 1);                 /* not 8-byte aligned: device memory */
    request(s, 7, PN_BLK_WRITE, 0, 0, 32);               /* larger than a bounce buffer */
    struct pn_blk_request outside = {
        .offset = 0x1000, .block = 0, .count = 1, .id = 8, .op = PN_BLK_READ};
    CHECK_EQ(pn_blk_submit(&s->client, outside), PN_RING_OK); /* no region there */
    blk_bridge_serve(&s->bridge, &s->io);
    CHECK_EQ(s->world.n_subs, 0);
    CHECK_EQ(s->bridge.counts.einval, 8);
    for (uint32_t id = 1; id <= 8; id++) {
        struct pn_blk_response r = answer(s);
        CHECK_EQ(r.id, id);
        CHECK_EQ(r.status, PN_BLK_EINVAL);
        CHECK_EQ(r.count, 0);
    }
    free(s);
}

static void test_slots_bound_the_requests_in_flight(void)
{
    struct setup *s = make();
    for (uint32_t id = 0; id < 6; id++) {
        request(s, 100 + id, PN_BLK_READ, id * 4096, id * 8, 8);
    }
    CHECK(blk_bridge_serve(&s->bridge, &s->io)); /* stopped for want of a slot */
    CHECK_EQ(s->world.n_subs, SLOTS);
    /* Completions in another order than submission: answers follow completion. */
    complete(s, 2, 4096);
    complete(s, 0, 4096);
    CHECK_EQ(answer(s).id, 102);
    CHECK_EQ(answer(s).id, 100);
    CHECK(!blk_bridge_serve(&s->bridge, &s->io)); /* the last two found slots */
    CHECK_EQ(s->world.n_subs, 6);
    /* The freed slots were reused, each with its own bounce buffer. */
    CHECK(s->world.subs[4].slot == 2 || s->world.subs[4].slot == 0);
    CHECK(s->world.subs[4].buffer != s->world.subs[5].buffer);
    for (unsigned i = 1; i < 6; i++) {
        if (i != 2) {
            complete(s, i, 4096);
        }
    }
    for (int i = 0; i < 4; i++) {
        struct pn_blk_response r = answer(s);
        CHECK_EQ(r.status, PN_BLK_OK);
    }
    CHECK_EQ(s->bridge.busy, 0);
    free(s);
}

static void test_failures_are_eio(void)
{
    struct setup *s = make();
    request(s, 1, PN_BLK_READ, 0, 0, 8);
    request(s, 2, PN_BLK_WRITE, 4096, 8, 8);
    request(s, 3, PN_BLK_FLUSH, 0, 0, 0);
    s->world.fail_submit = -EBUSY; /* the first submission fails at once */
    blk_bridge_serve(&s->bridge, &s->io);
    CHECK_EQ(s->world.n_subs, 2);
    CHECK(s->world.subs[1].flush && s->world.subs[1].len == 0);
    complete(s, 0, -EIO);
    complete(s, 1, 0); /* a flush moves no bytes */
    struct pn_blk_response r1 = answer(s), r2 = answer(s), r3 = answer(s);
    CHECK_EQ(r1.id, 1);
    CHECK_EQ(r1.status, PN_BLK_EIO);
    CHECK_EQ(r2.id, 2);
    CHECK_EQ(r2.status, PN_BLK_EIO);
    CHECK_EQ(r3.id, 3);
    CHECK_EQ(r3.status, PN_BLK_OK);
    CHECK_EQ(s->bridge.counts.eio, 2);
    CHECK_EQ(s->bridge.counts.flushes, 1);
    /* A completion the bridge never started is ignored, not answered. */
    blk_bridge_complete(&s->bridge, &s->io, 3, 4096);
    blk_bridge_complete(&s->bridge, &s->io, 99, 4096);
    struct pn_blk_response none;
    CHECK_EQ(pn_blk_take_response(&s->client, &none), PN_RING_EMPTY);
    free(s);
}

static void test_counts_json(void)
{
    struct blk_bridge_counts c = {.requests = 3, .reads = 2, .bytes = 8192, .bytes_copied = 8192};
    char buf[512];
    blk_bridge_counts_json(&c, buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "{\"requests\": 3, \"reads\": 2, \"writes\": 0");
    CHECK_STR_CONTAINS(buf, "\"bytes\": 8192,");
    CHECK_STR_CONTAINS(buf, "\"bytes_copied\": 8192}");
}

int main(void)
{
    test_init_errors();
    test_read_lands_only_on_completion();
    test_write_copied_out_before_submission();
    test_bad_requests_refused();
    test_slots_bound_the_requests_in_flight();
    test_failures_are_eio();
    test_counts_json();
    return check_exit();
}
