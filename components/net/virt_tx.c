/*
 * Transmit multiplexer: takes frames from every client in turn (one each
 * per round, so no client can starve another), translates each buffer's
 * offset in the client's transmit region into the address the device
 * reads it at, and hands it to the driver; buffers the driver has sent go
 * back to the client they came from, found by address.
 *
 * Wiring: "drv_queue" (pair with the driver, which drains it; we fill it),
 * "client0".. (pairs with the clients, which fill them; we drain them),
 * "client0_data".. (each client's transmit region, rights none: we need its
 * address, not its contents), channels "drv", "client0"..; parameters
 * "capacity", "buffer_size". A descriptor that names no buffer of its
 * client's region, or an address from the driver that is no client's, is
 * dropped and counted, never followed.
 *
 * Test mode: with "inject_bad_every" = N, every Nth frame handed to the
 * driver is followed by a descriptor no driver may follow (in turn: an
 * address in no client's region, and a frame running past the end of
 * client 0's region), counted as "injected_bad_desc"; the driver must drop
 * it and never hand it back. The driver's robustness is tested with it.
 */
#include "net_wiring.h"

#include <pinion/component.h>

#define MAX_CLIENTS 8

struct client {
    struct pn_net_drainer q;
    pn_channel ch;
    uint64_t data_base, data_size; /* physical, as the device sees it */
    bool got_back;
};

static struct pn_net_filler drv;
static pn_channel drv_ch;
static struct client clients[MAX_CLIENTS];
static uint32_t n_clients, buffer_size, next_client;
static uint64_t *frames, *bad_client_desc, *bad_driver_desc;
static uint64_t inject_bad_every, frames_since_injection, *injected_bad_desc;

static bool move_once(void);

void init(void)
{
    uint32_t capacity = net_require_capacity();
    buffer_size = net_buffer_size();
    net_require_filler(&drv, "drv_queue", capacity);
    drv_ch = pn_require_channel("drv");
    char queue[8] = "client0", data[13] = "client0_data";
    for (n_clients = 0; n_clients < MAX_CLIENTS; n_clients++) {
        queue[6] = data[6] = (char)('0' + n_clients);
        if (pn_region(queue, 0) == 0) {
            break;
        }
        struct client *c = &clients[n_clients];
        net_require_drainer(&c->q, queue, capacity);
        c->ch = pn_require_channel(queue);
        if (!pn_region_paddr(data, &c->data_base, &c->data_size)) {
            pn_fatal("each client queue needs its transmit region as \"clientN_data\"");
        }
    }
    if (n_clients == 0) {
        pn_fatal("no client queue (\"client0\") is mapped");
    }
    frames = pn_counter("frames");
    bad_client_desc = pn_counter("bad_client_desc");
    bad_driver_desc = pn_counter("bad_driver_desc");
    inject_bad_every = pn_param_u64_or("inject_bad_every", 0);
    injected_bad_desc = pn_counter("injected_bad_desc");
    /* Ask to be signalled: a client may have queued frames before we asked. */
    while (move_once()) {
    }
}

static void return_sent(void)
{
    struct pn_net_desc d;
    while (pn_net_take_free(&drv, &d) == PN_RING_OK) {
        struct client *owner = 0;
        for (uint32_t i = 0; i < n_clients; i++) {
            if (d.offset >= clients[i].data_base &&
                d.offset - clients[i].data_base < clients[i].data_size) {
                owner = &clients[i];
                break;
            }
        }
        struct pn_net_desc back = {.offset = owner ? d.offset - owner->data_base : 0};
        if (owner == 0 || !pn_net_desc_valid(back, owner->data_size, buffer_size)) {
            ++*bad_driver_desc;
            continue;
        }
        pn_net_give_free(&owner->q, back);
        owner->got_back = true;
    }
}

/* Test mode: a descriptor that names no whole buffer of any client's region. */
static void inject_bad_descriptor(void)
{
    struct pn_net_desc bad = {.offset = 1, .len = 64};
    if (*injected_bad_desc % 2 == 1) {
        bad.offset = clients[0].data_base + clients[0].data_size - 16;
    }
    if (pn_net_give_active(&drv, bad) == PN_RING_OK) {
        ++*injected_bad_desc;
    }
}

/* One frame from client `i`, if it has one and it is sound; false if none was taken. */
static bool take_one(struct client *c, bool *sent)
{
    struct pn_net_desc d;
    if (pn_net_take_active(&c->q, &d) != PN_RING_OK) {
        return false;
    }
    if (!pn_net_desc_valid(d, c->data_size, buffer_size) || d.len == 0) {
        ++*bad_client_desc; /* a client's mistake stays the client's: dropped */
        return true;
    }
    d.offset += c->data_base;
    pn_net_give_active(&drv, d);
    ++*frames;
    *sent = true;
    if (inject_bad_every && ++frames_since_injection == inject_bad_every) {
        frames_since_injection = 0;
        inject_bad_descriptor();
    }
    return true;
}

/* One pass; true when more arrived meanwhile that can move, so another pass is due. */
static bool move_once(void)
{
    return_sent();
    bool sent = false;
    bool progress = true;
    while (progress && !pn_ring_producer_full(&drv.active)) {
        progress = false;
        for (uint32_t k = 0; k < n_clients && !pn_ring_producer_full(&drv.active); k++) {
            struct client *c = &clients[(next_client + k) % n_clients];
            progress |= take_one(c, &sent);
        }
        next_client = (next_client + 1) % n_clients;
    }
    if (sent && pn_ring_require_signal(&drv.active)) {
        pn_notify(drv_ch);
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        struct client *c = &clients[i];
        if (c->got_back && pn_ring_require_signal(&c->q.free)) {
            pn_notify(c->ch);
        }
        c->got_back = false;
        pn_ring_request_signal(&c->q.active);
    }
    pn_ring_request_signal(&drv.free);
    /* Double check: anything that arrived after we looked is moved now. */
    if (!pn_ring_consumer_empty(&drv.free)) {
        return true;
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        if (!pn_ring_consumer_empty(&clients[i].q.active) && !pn_ring_producer_full(&drv.active)) {
            return true;
        }
    }
    return false;
}

void notified(pn_channel ch)
{
    (void)ch;
    while (move_once()) {
    }
}
