/*
 * Block queues: requests from a client to a block server (driver or
 * multiplexer) and responses back, each request carrying an id the response
 * repeats. One region holds one pair: the request ring, then the response
 * ring. Data moves through a separate data region; a request names the
 * offset in it.
 */
#ifndef PINION_BLK_QUEUE_H
#define PINION_BLK_QUEUE_H

#include <pinion/ring.h>

enum pn_blk_op {
    PN_BLK_READ = 0,
    PN_BLK_WRITE = 1,
    PN_BLK_FLUSH = 2,
    PN_BLK_BARRIER = 3,
};

enum pn_blk_status {
    PN_BLK_OK = 0,
    PN_BLK_EIO = 1,          /* the device failed the request */
    PN_BLK_EINVAL = 2,       /* the request was malformed: bad offset, range or op */
    PN_BLK_EUNSUPPORTED = 3, /* the device cannot do this op */
};

struct pn_blk_request {
    uint64_t offset; /* in the data region */
    uint64_t block;  /* first block on the device */
    uint32_t count;  /* blocks */
    uint32_t id;
    uint32_t op;
    uint32_t reserved;
};

struct pn_blk_response {
    uint32_t id;
    uint32_t status;
    uint32_t count; /* blocks done */
    uint32_t reserved;
};

_Static_assert(sizeof(struct pn_blk_request) == 32, "block request layout is shared memory ABI");
_Static_assert(sizeof(struct pn_blk_response) == 16, "block response layout is shared memory ABI");

PN_RING_DEFINE_TYPED(pn_blk_request, struct pn_blk_request)
PN_RING_DEFINE_TYPED(pn_blk_response, struct pn_blk_response)

struct pn_blk_client {
    struct pn_ring_producer requests;
    struct pn_ring_consumer responses;
};

struct pn_blk_server {
    struct pn_ring_consumer requests;
    struct pn_ring_producer responses;
};

static inline size_t pn_blk_request_ring_bytes(uint32_t capacity)
{
    return pn_ring_bytes(capacity, sizeof(struct pn_blk_request));
}

static inline size_t pn_blk_pair_bytes(uint32_t capacity)
{
    return pn_blk_request_ring_bytes(capacity) +
           pn_ring_bytes(capacity, sizeof(struct pn_blk_response));
}

static inline void *pn_blk_response_ring(void *region, uint32_t capacity)
{
    return (unsigned char *)region + pn_blk_request_ring_bytes(capacity);
}

static inline void pn_blk_pair_format(void *region, uint32_t capacity)
{
    pn_ring_format((struct pn_ring_shared *)region);
    pn_ring_format((struct pn_ring_shared *)pn_blk_response_ring(region, capacity));
}

static inline bool pn_blk_client_attach(struct pn_blk_client *c, void *region, uint32_t capacity)
{
    return pn_ring_producer_attach(&c->requests, region, capacity, sizeof(struct pn_blk_request)) &&
           pn_ring_consumer_attach(&c->responses, pn_blk_response_ring(region, capacity), capacity,
                                   sizeof(struct pn_blk_response));
}

static inline bool pn_blk_server_attach(struct pn_blk_server *s, void *region, uint32_t capacity)
{
    return pn_ring_consumer_attach(&s->requests, region, capacity, sizeof(struct pn_blk_request)) &&
           pn_ring_producer_attach(&s->responses, pn_blk_response_ring(region, capacity), capacity,
                                   sizeof(struct pn_blk_response));
}

static inline enum pn_ring_status pn_blk_submit(struct pn_blk_client *c, struct pn_blk_request r)
{
    return pn_blk_request_push(&c->requests, r);
}

static inline enum pn_ring_status pn_blk_take_response(struct pn_blk_client *c,
                                                       struct pn_blk_response *r)
{
    return pn_blk_response_pop(&c->responses, r);
}

static inline enum pn_ring_status pn_blk_take_request(struct pn_blk_server *s,
                                                      struct pn_blk_request *r)
{
    return pn_blk_request_pop(&s->requests, r);
}

static inline enum pn_ring_status pn_blk_respond(struct pn_blk_server *s, struct pn_blk_response r)
{
    return pn_blk_response_push(&s->responses, r);
}

/*
 * Whether a request handed over by a client is one the server may act on:
 * a known op, and for reads and writes a data range inside the client's
 * data region and a block range on the device (overflow-safe).
 */
static inline bool pn_blk_request_valid(struct pn_blk_request r, uint64_t data_region_size,
                                        uint32_t block_size, uint64_t device_blocks)
{
    if (r.op == PN_BLK_FLUSH || r.op == PN_BLK_BARRIER) {
        return true;
    }
    if (r.op != PN_BLK_READ && r.op != PN_BLK_WRITE) {
        return false;
    }
    if (r.count == 0 || block_size == 0 || r.block >= device_blocks ||
        device_blocks - r.block < r.count) {
        return false;
    }
    uint64_t bytes = (uint64_t)r.count * block_size;
    return r.offset < data_region_size && data_region_size - r.offset >= bytes;
}

#endif
