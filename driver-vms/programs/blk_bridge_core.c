/* blk-bridge's queue logic (see blk_bridge_core.h). */
#include "blk_bridge_core.h"

#include <stdio.h>
#include <string.h>

bool blk_bridge_init(struct blk_bridge *b, void *queue, uint64_t queue_bytes, uint32_t capacity,
                     const struct blk_bridge_region *regions, unsigned n_regions,
                     uint32_t block_size, uint64_t device_bytes, unsigned char *bounce,
                     unsigned n_slots, uint32_t max_bytes, char *err, size_t err_size)
{
    *b = (struct blk_bridge){
        .block_size = block_size, .bounce = bounce, .max_bytes = max_bytes, .n_slots = n_slots};
    if (!pn_is_power_of_two(capacity) || queue_bytes < pn_blk_pair_bytes(capacity)) {
        snprintf(err, err_size, "the queue (%llu bytes) holds no pair of capacity %u",
                 (unsigned long long)queue_bytes, capacity);
        return false;
    }
    if (block_size < 512 || !pn_is_power_of_two(block_size) || device_bytes < block_size) {
        snprintf(err, err_size, "a %u-byte block on a %llu-byte device", block_size,
                 (unsigned long long)device_bytes);
        return false;
    }
    if (n_regions == 0 || n_regions > BLK_BRIDGE_MAX_REGIONS) {
        snprintf(err, err_size, "%u data regions: there must be 1 to %d", n_regions,
                 BLK_BRIDGE_MAX_REGIONS);
        return false;
    }
    if (n_slots == 0 || n_slots > BLK_BRIDGE_MAX_SLOTS || max_bytes < block_size) {
        snprintf(err, err_size, "%u slots of %u bytes: 1 to %d slots of a block at least", n_slots,
                 max_bytes, BLK_BRIDGE_MAX_SLOTS);
        return false;
    }
    memcpy(b->regions, regions, n_regions * sizeof *regions);
    b->n_regions = n_regions;
    b->device_blocks = device_bytes / block_size;
    if (!pn_blk_server_attach(&b->queue, queue, capacity)) {
        snprintf(err, err_size, "cannot attach to the queue");
        return false;
    }
    return true;
}

/*
 * Copies between a bounce buffer and a region in 8-byte words: the regions are
 * device memory to the bridge, where only aligned accesses are allowed.
 */
static void copy_words(volatile uint64_t *to, const volatile uint64_t *from, uint64_t bytes)
{
    for (uint64_t i = 0; i < bytes / sizeof(uint64_t); i++) {
        to[i] = from[i];
    }
}

/* Where the bridge sees [phys, phys + bytes), wholly inside one region, or NULL. */
static unsigned char *region_data(const struct blk_bridge *b, uint64_t phys, uint64_t bytes)
{
    for (unsigned i = 0; i < b->n_regions; i++) {
        const struct blk_bridge_region *r = &b->regions[i];
        if (phys >= r->phys && phys - r->phys < r->bytes && r->bytes - (phys - r->phys) >= bytes) {
            return r->base + (phys - r->phys);
        }
    }
    return NULL;
}

static void respond(struct blk_bridge *b, const struct blk_bridge_io *io, uint32_t id,
                    uint32_t status, uint32_t count)
{
    enum pn_ring_status pushed = pn_blk_respond(
        &b->queue, (struct pn_blk_response){.id = id, .status = status, .count = count});
    if (pushed == PN_RING_CORRUPT) {
        if (!b->responses_corrupt) {
            b->responses_corrupt = true;
            b->counts.corrupt_rings++;
        }
        return;
    }
    if (pushed == PN_RING_FULL) {
        b->counts.response_ring_full++;
        return;
    }
    b->counts.responses++;
    if (status == PN_BLK_EIO) {
        b->counts.eio++;
    }
    if (pn_ring_require_signal(&b->queue.responses)) {
        io->ring(io->ctx, (uint32_t)++b->counts.doorbells);
    }
}

static unsigned free_slot(const struct blk_bridge *b)
{
    for (unsigned s = 0; s < b->n_slots; s++) {
        if (!b->slots[s].busy) {
            return s;
        }
    }
    return b->n_slots;
}

/* Starts one request in a free slot, or answers it at once when it is refused or fails. */
static void start(struct blk_bridge *b, const struct blk_bridge_io *io, unsigned s,
                  struct pn_blk_request r)
{
    struct blk_bridge_slot *slot = &b->slots[s];
    unsigned char *bounce = b->bounce + (size_t)s * b->max_bytes;
    bool flush = r.op == PN_BLK_FLUSH || r.op == PN_BLK_BARRIER;
    uint64_t bytes = (uint64_t)r.count * b->block_size;
    unsigned char *data = NULL;
    if (!flush) {
        data = region_data(b, r.offset, bytes);
        if ((r.op != PN_BLK_READ && r.op != PN_BLK_WRITE) || r.count == 0 ||
            r.block >= b->device_blocks || b->device_blocks - r.block < r.count ||
            bytes > b->max_bytes || data == NULL || r.offset % sizeof(uint64_t) != 0) {
            b->counts.einval++;
            respond(b, io, r.id, PN_BLK_EINVAL, 0);
            return;
        }
    }
    bool read = r.op == PN_BLK_READ;
    if (r.op == PN_BLK_WRITE) {
        copy_words((uint64_t *)bounce, (const uint64_t *)data, bytes);
        b->counts.bytes_copied += bytes;
    }
    *slot = (struct blk_bridge_slot){.busy = true, .request = r, .region_data = data};
    if (io->submit(io->ctx, s, read, flush, r.block * b->block_size, bounce,
                   flush ? 0 : (uint32_t)bytes) != 0) {
        slot->busy = false;
        respond(b, io, r.id, PN_BLK_EIO, 0);
        return;
    }
    b->busy++;
    if (flush) {
        b->counts.flushes++;
    } else if (read) {
        b->counts.reads++;
    } else {
        b->counts.writes++;
    }
    b->counts.bytes += bytes;
}

bool blk_bridge_serve(struct blk_bridge *b, const struct blk_bridge_io *io)
{
    bool started = false, out_of_slots = false;
    for (;;) {
        unsigned s = free_slot(b);
        if (s == b->n_slots) {
            /* Requests left behind wait for a completion to free a slot. */
            out_of_slots = !pn_ring_consumer_empty(&b->queue.requests);
            break;
        }
        struct pn_blk_request r;
        enum pn_ring_status status = pn_blk_take_request(&b->queue, &r);
        if (status == PN_RING_OK) {
            b->counts.requests++;
            start(b, io, s, r);
            started = true;
            continue;
        }
        if (status == PN_RING_CORRUPT) {
            if (!b->requests_corrupt) {
                b->requests_corrupt = true;
                b->counts.corrupt_rings++;
            }
            break;
        }
        pn_ring_request_signal(&b->queue.requests);
        if (pn_ring_consumer_empty(&b->queue.requests)) {
            break;
        }
        pn_ring_cancel_signal(&b->queue.requests);
    }
    if (started) {
        io->kick(io->ctx);
    }
    return out_of_slots;
}

void blk_bridge_complete(struct blk_bridge *b, const struct blk_bridge_io *io, unsigned s,
                         long result)
{
    if (s >= b->n_slots || !b->slots[s].busy) {
        return; /* not ours: the io layer is wrong, nothing to answer */
    }
    struct blk_bridge_slot *slot = &b->slots[s];
    struct pn_blk_request r = slot->request;
    uint64_t bytes =
        r.op == PN_BLK_READ || r.op == PN_BLK_WRITE ? (uint64_t)r.count * b->block_size : 0;
    slot->busy = false;
    b->busy--;
    if (result < 0 || (uint64_t)result != bytes) {
        respond(b, io, r.id, PN_BLK_EIO, 0);
        return;
    }
    if (r.op == PN_BLK_READ) {
        copy_words((uint64_t *)slot->region_data,
                   (const uint64_t *)(b->bounce + (size_t)s * b->max_bytes), bytes);
        b->counts.bytes_copied += bytes;
    }
    respond(b, io, r.id, PN_BLK_OK, r.op == PN_BLK_READ || r.op == PN_BLK_WRITE ? r.count : 0);
}

int blk_bridge_counts_json(const struct blk_bridge_counts *c, char *buf, size_t size)
{
    return snprintf(buf, size,
                    "{\"requests\": %llu, \"reads\": %llu, \"writes\": %llu, \"flushes\": %llu, "
                    "\"bytes\": %llu, "
                    "\"einval\": %llu, \"eio\": %llu, \"responses\": %llu, "
                    "\"response_ring_full\": %llu, \"corrupt_rings\": %llu, \"doorbells\": %llu, "
                    "\"irqs\": %llu, \"bytes_copied\": %llu}",
                    (unsigned long long)c->requests, (unsigned long long)c->reads,
                    (unsigned long long)c->writes, (unsigned long long)c->flushes,
                    (unsigned long long)c->bytes, (unsigned long long)c->einval,
                    (unsigned long long)c->eio, (unsigned long long)c->responses,
                    (unsigned long long)c->response_ring_full, (unsigned long long)c->corrupt_rings,
                    (unsigned long long)c->doorbells, (unsigned long long)c->irqs,
                    (unsigned long long)c->bytes_copied);
}
