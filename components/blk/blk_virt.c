/*
 * Block virtualiser: gives each client its own partition of one device.
 *
 * A client names its data by offset in its own data region and its blocks
 * from the start of its partition; the virtualiser translates both into
 * what the driver needs (the data's physical address, the block on the
 * device) and forwards the request under an id of its own. Each response
 * goes back to the client that asked, with that client's id, in whatever
 * order the device completes them. It never sees the data: it knows each
 * client's data region by physical address only.
 *
 * A request that reaches outside its client's partition or data region,
 * is not block aligned in the data region, moves no blocks or has an
 * unknown op is answered PN_BLK_EINVAL at once, counted, and never
 * forwarded. A response from the driver whose id is not in flight is
 * counted and dropped. A client takes turns with the others (one request
 * each per round), and its requests are taken only while its response ring
 * has room for every answer owed to it, so a client that does not read its
 * answers holds up only itself.
 *
 * A driver that stops for good (a faulted PD, a driver VM that crashed)
 * is noticed when the kernel's notification of it arrives on the driver
 * channel: the virtualiser takes the answers it gave before it died, then
 * answers every request still at it PN_BLK_EIO, to the client that asked
 * and with that client's id, and from then on answers each new request
 * PN_BLK_EIO at once, never touching the dead driver's queue again
 * ("driver_dead", "eio_answered", of them "eio_in_flight"). Its clients
 * finish, with errors, instead of waiting for ever.
 *
 * Test mode: with "inject_bad_every" = K, after every K requests forwarded
 * the virtualiser also makes one no driver may follow (in turn: data at an
 * address in no data region, data across the end of client 0's data
 * region, blocks past any device, no blocks, an unknown op), counted as
 * "injected_bad"; the driver must answer each PN_BLK_EINVAL
 * ("injected_refused"), and the answer goes to no client. The driver's
 * checks are tested with it.
 *
 * Wiring: "drv_queue" (pair with the driver: we make the requests),
 * "client0".. (pairs with the clients: we answer them), "client0_data"..
 * (each client's data region, rights none), channels "drv", "client0"..;
 * parameters "capacity" (every ring), and, generated from the device's
 * partitions in the system description, "block_size" and, per client N,
 * "partitionN_start" and "partitionN_blocks" (in blocks).
 */
#include "blk_wiring.h"

#include <pinion/component.h>

#define MAX_CLIENTS    8
#define MAX_IN_FLIGHT  1024 /* requests at the driver at once */
#define ID_INDEX_BITS  16
#define ID_INDEX_MASK  ((1u << ID_INDEX_BITS) - 1)
#define INJECTED_KINDS 5
#define UNKNOWN_OP     7

struct client {
    struct pn_blk_server q;
    pn_channel ch;
    uint64_t data_base, data_size; /* physical, as the device sees it */
    uint64_t start, blocks;        /* its partition, in blocks of the device */
    uint32_t owed;                 /* requests forwarded, not yet answered */
    bool answered;                 /* answers given since we last offered a signal */
};

/*
 * A request at the driver. The id the driver sees is the entry's index and
 * a tag that changes with every use, so a stale or repeated response is
 * told from a live one.
 */
struct in_flight {
    bool busy;
    bool injected; /* test mode: a request of ours that the driver must refuse */
    uint8_t client;
    uint16_t tag;
    uint32_t client_id;
    uint32_t count;
};

static struct pn_blk_client drv;
static pn_channel drv_ch;
static struct client clients[MAX_CLIENTS];
static uint32_t n_clients, next_client, block_size;
static struct in_flight table[MAX_IN_FLIGHT];
static uint16_t free_entries[MAX_IN_FLIGHT];
static uint32_t n_free_entries;
static uint64_t *forwarded, *einval, *bad_driver_response, *client_ring_errors;
static uint64_t *driver_ring_errors;
static uint64_t inject_bad_every, forwarded_since_injection, *injected_bad, *injected_refused;
static uint64_t *driver_dead, *eio_answered, *eio_in_flight;

static bool move_once(void);

static uint64_t require_client_param(uint32_t n, const char *suffix)
{
    char key[PN_NAME_MAX] = "partition";
    unsigned len = 9;
    key[len++] = (char)('0' + n);
    for (const char *s = suffix; *s != '\0'; s++) {
        key[len++] = *s;
    }
    key[len] = '\0';
    return pn_require_param_u64(key);
}

static void attach_clients(uint32_t capacity)
{
    char queue[8] = "client0", data[13] = "client0_data";
    for (n_clients = 0; n_clients < MAX_CLIENTS; n_clients++) {
        queue[6] = data[6] = (char)('0' + n_clients);
        if (pn_region(queue, 0) == 0) {
            break;
        }
        struct client *c = &clients[n_clients];
        blk_require_server(&c->q, queue, capacity);
        c->ch = pn_require_channel(queue);
        if (!pn_region_paddr(data, &c->data_base, &c->data_size)) {
            pn_fatal("each client queue needs its data region as \"clientN_data\"");
        }
        c->start = require_client_param(n_clients, "_start");
        c->blocks = require_client_param(n_clients, "_blocks");
    }
    if (n_clients == 0) {
        pn_fatal("no client queue (\"client0\") is mapped");
    }
}

void init(void)
{
    uint32_t capacity = blk_require_capacity();
    uint64_t unit = pn_require_param_u64("block_size");
    if (unit == 0 || unit > 65536 || (unit & (unit - 1)) != 0) {
        pn_fatal("parameter \"block_size\" must be a power of two up to 65536");
    }
    block_size = (uint32_t)unit;
    blk_require_client(&drv, "drv_queue", capacity);
    drv_ch = pn_require_channel("drv");
    attach_clients(capacity);
    /* No more in flight than the driver's ring holds, so a push to it never finds it full. */
    uint32_t entries = capacity < MAX_IN_FLIGHT ? capacity : MAX_IN_FLIGHT;
    for (uint32_t i = 0; i < entries; i++) {
        free_entries[n_free_entries++] = (uint16_t)(entries - 1 - i);
    }
    forwarded = pn_counter("forwarded");
    einval = pn_counter("einval");
    bad_driver_response = pn_counter("bad_driver_response");
    client_ring_errors = pn_counter("client_ring_errors");
    driver_ring_errors = pn_counter("driver_ring_errors");
    inject_bad_every = pn_param_u64_or("inject_bad_every", 0);
    injected_bad = pn_counter("injected_bad");
    injected_refused = pn_counter("injected_refused");
    driver_dead = pn_counter("driver_dead");
    eio_answered = pn_counter("eio_answered");
    eio_in_flight = pn_counter("eio_in_flight");
    /* Clients may have queued requests before we asked to hear of them. */
    while (move_once()) {
    }
}

static void answer(struct client *c, uint32_t id, enum pn_blk_status status, uint32_t count)
{
    struct pn_blk_response response = {.id = id, .status = status, .count = count};
    if (pn_blk_respond(&c->q, response) != PN_RING_OK) {
        ++*client_ring_errors; /* room was checked: the client broke its ring */
        return;
    }
    c->answered = true;
}

/* The driver's request for a client's, or false if the client may not make it. */
static bool translate(const struct client *c, struct pn_blk_request *r)
{
    if (r->op == PN_BLK_FLUSH || r->op == PN_BLK_BARRIER) {
        r->offset = r->block = r->count = 0; /* the whole device: nothing to translate */
        return true;
    }
    if (!pn_blk_request_valid(*r, c->data_size, block_size, c->blocks) ||
        r->offset % block_size != 0) {
        return false;
    }
    r->offset += c->data_base;
    r->block += c->start;
    return true;
}

/* Takes a table entry for a request to the driver and gives the id the driver sees. */
static uint16_t take_entry(struct pn_blk_request *r, bool injected)
{
    uint16_t index = free_entries[--n_free_entries];
    struct in_flight *entry = &table[index];
    entry->busy = true;
    entry->injected = injected;
    entry->tag++;
    entry->client_id = r->id;
    entry->count = r->count;
    r->id = (uint32_t)entry->tag << ID_INDEX_BITS | index;
    return index;
}

static void release_entry(uint16_t index)
{
    table[index].busy = false;
    free_entries[n_free_entries++] = index;
}

/* Test mode: one request no driver may follow, of the next kind in turn. */
static void inject_bad(bool *sent)
{
    const struct client *c = &clients[0];
    struct pn_blk_request r = {.offset = c->data_base, .block = 0, .count = 1, .op = PN_BLK_READ};
    switch (*injected_bad % INJECTED_KINDS) {
    case 0:
        r.offset = 1; /* in no data region */
        break;
    case 1:
        r.offset = c->data_base + c->data_size - block_size; /* across the region's end */
        r.count = 2;
        break;
    case 2:
        r.block = UINT64_MAX / 2; /* past any device */
        break;
    case 3:
        r.count = 0;
        break;
    default:
        r.op = UNKNOWN_OP;
        break;
    }
    uint16_t index = take_entry(&r, true);
    if (pn_blk_submit(&drv, r) != PN_RING_OK) {
        ++*driver_ring_errors;
        release_entry(index);
        return;
    }
    ++*injected_bad;
    *sent = true;
}

static void forward(struct client *c, struct pn_blk_request r, bool *sent)
{
    uint32_t client_id = r.id;
    if (*driver_dead) {
        answer(c, client_id, PN_BLK_EIO, 0); /* nobody left to do it: fail it now */
        ++*eio_answered;
        return;
    }
    uint16_t index = take_entry(&r, false);
    struct in_flight *entry = &table[index];
    entry->client = (uint8_t)(c - clients);
    if (pn_blk_submit(&drv, r) != PN_RING_OK) {
        /* Never full with this many in flight: the driver broke the ring. */
        ++*driver_ring_errors;
        release_entry(index);
        answer(c, client_id, PN_BLK_EIO, 0);
        return;
    }
    c->owed++;
    ++*forwarded;
    *sent = true;
    if (inject_bad_every != 0 && ++forwarded_since_injection >= inject_bad_every &&
        n_free_entries > 0) {
        forwarded_since_injection = 0;
        inject_bad(sent);
    }
}

/* Whether client c's next request may be taken now: an entry free, room for its answers. */
static bool can_take(struct client *c)
{
    if (n_free_entries == 0) {
        return false;
    }
    enum pn_ring_status status;
    uint32_t space = pn_ring_producer_space(&c->q.responses, &status);
    if (status == PN_RING_CORRUPT) {
        ++*client_ring_errors;
    }
    return space > c->owed;
}

/* One request from client c, if it has one that may be taken; false if none was. */
static bool take_one(struct client *c, bool *sent)
{
    struct pn_blk_request r;
    if (!can_take(c)) {
        return false;
    }
    enum pn_ring_status status = pn_blk_take_request(&c->q, &r);
    if (status != PN_RING_OK) {
        if (status == PN_RING_CORRUPT) {
            ++*client_ring_errors;
        }
        return false;
    }
    uint32_t client_id = r.id;
    if (!translate(c, &r)) {
        ++*einval; /* a client's mistake stays the client's: refused, never forwarded */
        answer(c, client_id, PN_BLK_EINVAL, 0);
        return true;
    }
    forward(c, r, sent);
    return true;
}

static enum pn_blk_status known_status(uint32_t status)
{
    return status <= PN_BLK_EUNSUPPORTED ? (enum pn_blk_status)status : PN_BLK_EIO;
}

/* Every response from the driver back to the client that asked. */
static void return_responses(void)
{
    struct pn_blk_response r;
    enum pn_ring_status status;
    while ((status = pn_blk_take_response(&drv, &r)) == PN_RING_OK) {
        uint32_t index = r.id & ID_INDEX_MASK;
        if (index >= MAX_IN_FLIGHT || !table[index].busy ||
            table[index].tag != (uint16_t)(r.id >> ID_INDEX_BITS)) {
            ++*bad_driver_response;
            continue;
        }
        struct in_flight *entry = &table[index];
        if (entry->injected) {
            *injected_refused += r.status == PN_BLK_EINVAL;
            release_entry((uint16_t)index);
            continue;
        }
        struct client *c = &clients[entry->client];
        uint32_t count = r.count < entry->count ? r.count : entry->count;
        answer(c, entry->client_id, known_status(r.status), count);
        c->owed--;
        release_entry((uint16_t)index);
    }
    if (status == PN_RING_CORRUPT) {
        ++*driver_ring_errors;
    }
}

/*
 * The driver has stopped for good: what it answered before it died goes
 * back as usual; every request still at it fails, answered to its client.
 */
static void fail_over(void)
{
    return_responses();
    *driver_dead = 1;
    for (uint32_t index = 0; index < MAX_IN_FLIGHT; index++) {
        struct in_flight *entry = &table[index];
        if (!entry->busy) {
            continue;
        }
        if (!entry->injected) {
            struct client *c = &clients[entry->client];
            answer(c, entry->client_id, PN_BLK_EIO, 0);
            c->owed--;
            ++*eio_answered;
            ++*eio_in_flight;
        }
        release_entry((uint16_t)index);
    }
}

/* One pass; true when more arrived meanwhile that can move, so another pass is due. */
static bool move_once(void)
{
    if (!*driver_dead) {
        return_responses();
    }
    bool sent = false;
    bool progress = true;
    while (progress && n_free_entries > 0) {
        progress = false;
        for (uint32_t k = 0; k < n_clients; k++) {
            progress |= take_one(&clients[(next_client + k) % n_clients], &sent);
        }
        next_client = (next_client + 1) % n_clients;
    }
    if (sent && !*driver_dead && pn_ring_require_signal(&drv.requests)) {
        pn_notify(drv_ch);
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        struct client *c = &clients[i];
        if (c->answered && pn_ring_require_signal(&c->q.responses)) {
            pn_notify(c->ch);
        }
        c->answered = false;
        pn_ring_request_signal(&c->q.requests);
    }
    if (!*driver_dead) {
        pn_ring_request_signal(&drv.responses);
        /* Double check: anything that arrived after we looked is moved now. */
        if (!pn_ring_consumer_empty(&drv.responses)) {
            return true;
        }
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        if (!pn_ring_consumer_empty(&clients[i].q.requests) && can_take(&clients[i])) {
            return true;
        }
    }
    return false;
}

void notified(pn_channel ch)
{
    /* The kernel tells of a driver's death on its channel; no system call to ask. */
    if (ch == drv_ch && !*driver_dead && !pn_channel_peer_alive(drv_ch)) {
        fail_over();
    }
    while (move_once()) {
    }
}
