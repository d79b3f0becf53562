/*
 * Receive multiplexer: takes the frames the driver received, hands each to
 * the client whose MAC address it is for (through that client's copier),
 * broadcasts and multicasts to every client, and returns the driver's
 * buffers once every copier has given them back.
 *
 * Wiring: "drv_queue" (pair with the driver, which fills it; we drain it),
 * "rx_dma" (the receive buffers, read-only: we read destination MACs),
 * "client0".. (pairs with the copiers, which drain them; we fill them),
 * channels "drv", "client0".., parameters "capacity", "buffer_size", and
 * "mac0".. (the MAC address of each client, in the same order).
 *
 * Everything handed over is checked: a descriptor from the driver or a
 * copier that names no buffer of the region, a length beyond a buffer, a
 * buffer still out with a copier (from the driver), or a buffer not out
 * with that very copier (from a copier), is dropped and counted, never
 * followed. A buffer named by a descriptor that failed is not returned to
 * the driver, except a runt frame's: returning a forged descriptor would
 * put a buffer in circulation twice, and the driver's buffers are its own.
 *
 * Test mode: with "inject_bad_every" = N, every Nth buffer returned to the
 * driver is followed, when the free ring has room, by a free descriptor
 * that names no buffer (in turn: an offset inside a buffer, and one past
 * the region), counted as "injected_bad_desc"; the driver must never write
 * where it points. The driver's robustness is tested with it.
 */
#include "net_parse.h"
#include "net_wiring.h"

#include <pinion/component.h>

#define MAX_CLIENTS 8
#define MAX_BUFFERS 4096
#define ETH_HEADER  14

struct client {
    struct pn_net_filler q;
    pn_channel ch;
    uint8_t mac[NET_MAC_BYTES];
    bool gave; /* gave frames since the last notification check */
};

static struct pn_net_drainer drv;
static pn_channel drv_ch;
static struct client clients[MAX_CLIENTS];
static uint32_t n_clients, buffer_size, n_buffers;
static const uint8_t *rx_dma;
static uint64_t rx_dma_size;
/*
 * Which copiers hold each buffer, a bit per client: it goes back to the
 * driver when the last one returns it, and only a holder may return it.
 */
static uint8_t holders[MAX_BUFFERS];
_Static_assert(MAX_CLIENTS <= 8, "holders keeps a bit per client in a byte");
static uint64_t *frames, *broadcasts, *no_client, *client_full, *bad_driver_desc;
static uint64_t *bad_client_desc;
static uint64_t inject_bad_every, returns_since_injection, *injected_bad_desc;

static bool forward_once(void);

static void attach_clients(uint32_t capacity)
{
    char queue[8] = "client0", mac_key[5] = "mac0";
    for (n_clients = 0; n_clients < MAX_CLIENTS; n_clients++) {
        queue[6] = (char)('0' + n_clients);
        mac_key[3] = (char)('0' + n_clients);
        if (pn_region(queue, 0) == 0) {
            break;
        }
        struct client *c = &clients[n_clients];
        net_require_filler(&c->q, queue, capacity);
        c->ch = pn_require_channel(queue);
        const char *mac = pn_param(mac_key);
        if (mac == 0 || !net_parse_mac(mac, c->mac)) {
            pn_fatal("each client queue needs its MAC as parameter \"macN\" (52:54:00:..)");
        }
    }
    if (n_clients == 0) {
        pn_fatal("no client queue (\"client0\") is mapped");
    }
}

void init(void)
{
    uint32_t capacity = net_require_capacity();
    buffer_size = net_buffer_size();
    net_require_drainer(&drv, "drv_queue", capacity);
    drv_ch = pn_require_channel("drv");
    rx_dma = pn_require_region("rx_dma", buffer_size, &rx_dma_size);
    attach_clients(capacity);
    frames = pn_counter("frames");
    broadcasts = pn_counter("broadcasts");
    no_client = pn_counter("no_client");
    client_full = pn_counter("client_full");
    bad_driver_desc = pn_counter("bad_driver_desc");
    bad_client_desc = pn_counter("bad_client_desc");
    inject_bad_every = pn_param_u64_or("inject_bad_every", 0);
    injected_bad_desc = pn_counter("injected_bad_desc");

    /* Every receive buffer starts with the driver. */
    n_buffers = (uint32_t)(rx_dma_size / buffer_size);
    if (n_buffers > capacity) {
        n_buffers = capacity;
    }
    if (n_buffers > MAX_BUFFERS) {
        n_buffers = MAX_BUFFERS;
    }
    for (uint32_t i = 0; i < n_buffers; i++) {
        pn_net_give_free(&drv, (struct pn_net_desc){.offset = (uint64_t)i * buffer_size});
    }
    if (pn_ring_require_signal(&drv.free)) {
        pn_notify(drv_ch);
    }
    /* Ask to be signalled: the driver may have received before we asked. */
    while (forward_once()) {
    }
}

static bool is_buffer(struct pn_net_desc d)
{
    return pn_net_desc_valid(d, (uint64_t)n_buffers * buffer_size, buffer_size);
}

/* A buffer goes back to the driver (and, in test mode, now and then a bad one after it). */
static void give_back(uint64_t offset)
{
    pn_net_give_free(&drv, (struct pn_net_desc){.offset = offset});
    if (inject_bad_every && ++returns_since_injection == inject_bad_every) {
        returns_since_injection = 0;
        uint64_t bad = *injected_bad_desc % 2 ? rx_dma_size : buffer_size / 2;
        if (pn_net_give_free(&drv, (struct pn_net_desc){.offset = bad}) == PN_RING_OK) {
            ++*injected_bad_desc;
        }
    }
}

/* Buffers the copiers are done with go back to the driver. */
static bool collect_returns(void)
{
    bool returned = false;
    for (uint32_t i = 0; i < n_clients; i++) {
        struct pn_net_desc d;
        uint8_t bit = (uint8_t)(1u << i);
        while (pn_net_take_free(&clients[i].q, &d) == PN_RING_OK) {
            uint32_t buffer = (uint32_t)(d.offset / buffer_size);
            /* Only a copier we gave the buffer to may give it back, once. */
            if (!is_buffer(d) || !(holders[buffer] & bit)) {
                ++*bad_client_desc;
                continue;
            }
            holders[buffer] &= (uint8_t)~bit;
            if (holders[buffer] == 0) {
                give_back(d.offset);
                returned = true;
            }
        }
    }
    return returned;
}

/* Hands one frame to its clients; returns the clients that took it, a bit each. */
static uint8_t deliver(struct pn_net_desc d)
{
    const uint8_t *dest = rx_dma + d.offset;
    uint8_t taken = 0;
    if (dest[0] & 1) { /* broadcast or multicast: everyone */
        ++*broadcasts;
        for (uint32_t i = 0; i < n_clients; i++) {
            if (pn_net_give_active(&clients[i].q, d) == PN_RING_OK) {
                clients[i].gave = true;
                taken |= (uint8_t)(1u << i);
            } else {
                ++*client_full;
            }
        }
        return taken;
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        const uint8_t *mac = clients[i].mac;
        if (dest[0] == mac[0] && dest[1] == mac[1] && dest[2] == mac[2] && dest[3] == mac[3] &&
            dest[4] == mac[4] && dest[5] == mac[5]) {
            if (pn_net_give_active(&clients[i].q, d) == PN_RING_OK) {
                clients[i].gave = true;
                return (uint8_t)(1u << i);
            }
            ++*client_full;
            return 0;
        }
    }
    ++*no_client;
    return 0;
}

/* One pass; true when a copier returned buffers meanwhile, so another pass is due. */
static bool forward_once(void)
{
    bool returned = collect_returns();
    struct pn_net_desc d;
    for (;;) {
        if (pn_net_take_active(&drv, &d) != PN_RING_OK) {
            pn_ring_request_signal(&drv.active);
            if (pn_ring_consumer_empty(&drv.active)) {
                break;
            }
            pn_ring_cancel_signal(&drv.active);
            continue;
        }
        uint32_t buffer = (uint32_t)(d.offset / buffer_size);
        if (!is_buffer(d) || holders[buffer] != 0 || d.len < ETH_HEADER) {
            ++*bad_driver_desc;
            if (is_buffer(d) && holders[buffer] == 0) {
                /* A real buffer with a runt frame: back to the driver. */
                give_back(d.offset);
                returned = true;
            }
            continue;
        }
        ++*frames;
        holders[buffer] = deliver(d);
        if (holders[buffer] == 0) {
            give_back(d.offset);
            returned = true;
        }
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        if (clients[i].gave && pn_ring_require_signal(&clients[i].q.active)) {
            pn_notify(clients[i].ch);
        }
        clients[i].gave = false;
        pn_ring_request_signal(&clients[i].q.free);
    }
    if (returned && pn_ring_require_signal(&drv.free)) {
        pn_notify(drv_ch);
    }
    /* A copier may have returned buffers after we looked: look again before sleeping. */
    for (uint32_t i = 0; i < n_clients; i++) {
        if (!pn_ring_consumer_empty(&clients[i].q.free)) {
            return true;
        }
    }
    return false;
}

void notified(pn_channel ch)
{
    (void)ch; /* driver or copier: either way, move what can move */
    while (forward_once()) {
    }
}
