/*
 * Wiring shared by the block components (driver, virtualiser, benchmark
 * client): attaching block queue pairs by name and the capacity parameter.
 * Freestanding.
 */
#ifndef PINION_BLK_WIRING_H
#define PINION_BLK_WIRING_H

#include <pinion/blk_queue.h>
#include <pinion/wiring.h>

/* Ring slots of every block queue pair the PD attaches; ids in flight fit 16 bits. */
#define BLK_MAX_CAPACITY 65536u

static inline uint32_t blk_require_capacity(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    if (capacity == 0 || capacity > BLK_MAX_CAPACITY || (capacity & (capacity - 1)) != 0) {
        pn_fatal("parameter \"capacity\" must be a power of two up to 65536");
    }
    return (uint32_t)capacity;
}

/* The pair in region `name`, where this PD answers requests. */
static inline void blk_require_server(struct pn_blk_server *server, const char *name,
                                      uint32_t capacity)
{
    void *region = pn_require_region(name, pn_blk_pair_bytes(capacity), 0);
    pn_blk_server_attach(server, region, capacity); /* the capacity is a power of two */
}

/* The pair in region `name`, where this PD makes requests. */
static inline void blk_require_client(struct pn_blk_client *client, const char *name,
                                      uint32_t capacity)
{
    void *region = pn_require_region(name, pn_blk_pair_bytes(capacity), 0);
    pn_blk_client_attach(client, region, capacity);
}

#endif
