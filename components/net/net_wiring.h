/*
 * Wiring shared by the network components: attaching net queue pairs by
 * name, and the capacity and buffer size parameters. Freestanding. (MAC
 * and IP parameters: net_parse.h.)
 */
#ifndef PINION_NET_WIRING_H
#define PINION_NET_WIRING_H

#include <pinion/net_queue.h>
#include <pinion/wiring.h>

/* The net queue pair in region `name`; stops the PD with a reason if it cannot. */
static inline void net_require_filler(struct pn_net_filler *f, const char *name, uint32_t capacity)
{
    void *region = pn_require_region(name, pn_net_pair_bytes(capacity), 0);
    if (!pn_net_filler_attach(f, region, capacity)) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
}

static inline void net_require_drainer(struct pn_net_drainer *d, const char *name,
                                       uint32_t capacity)
{
    void *region = pn_require_region(name, pn_net_pair_bytes(capacity), 0);
    if (!pn_net_drainer_attach(d, region, capacity)) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
}

static inline uint32_t net_require_capacity(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    if (capacity == 0 || capacity > (1u << 20) || (capacity & (capacity - 1))) {
        pn_fatal("parameter \"capacity\" must be a power of two up to 2^20");
    }
    return (uint32_t)capacity;
}

static inline uint32_t net_buffer_size(void)
{
    uint64_t size = pn_param_u64_or("buffer_size", 2048);
    if (size < 64 || size > 65536) {
        pn_fatal("parameter \"buffer_size\" must be 64..65536");
    }
    return (uint32_t)size;
}

#endif
