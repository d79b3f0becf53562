/*
 * Native virtio-blk driver for QEMU virt's virtio-mmio transport (version 2).
 *
 * Zero copy: every request is a chain of three descriptors, the request
 * header and the status byte in the driver's own memory and, between them,
 * the data by physical address in a client's data region, which the device
 * reads (writes) or fills (reads) directly. The driver never maps those
 * regions: it knows them by physical address only (maps with rights
 * "none") and checks every address it is given against them. As many
 * requests are in flight as the virtqueue has chains; each is answered
 * when the device completes it, in the device's order, with the id the
 * request carried.
 *
 * Wiring (local names):
 *   mmio       the device's page (uncached); the transport is at `mmio_offset` in it
 *   virtq      driver memory: the virtqueue, then every slot's header and status byte
 *   blk_queue  block queue pair with the virtualiser: the driver answers its requests
 *   data0..    the data regions requests may name (rights none)
 *   device     the device's interrupt; blk: the channel to the virtualiser
 * Parameters: capacity (ring slots), block_size (the queue's block unit,
 * which must be the device's logical block size), mmio_offset.
 *
 * A request is refused, never followed, when its op is unknown (EINVAL),
 * its count is 0, its blocks run past the device, or its data lies outside
 * every data region (EINVAL); a flush the device cannot do, a barrier, or
 * a write to a read-only device is answered EUNSUPPORTED; what the device
 * fails is EIO.
 */
#include "virtio_transport.h"
#include "virtqueue.h"

#include "blk_wiring.h"
#include <pinion/component.h>
#include <pinion/dbg_line.h>

#define REQUEST_QUEUE         0
#define DEVICE_ID_BLOCK       2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_T_IN       0u
#define VIRTIO_BLK_T_OUT      1u
#define VIRTIO_BLK_T_FLUSH    4u
#define VIRTIO_BLK_S_OK       0u
#define VIRTIO_BLK_S_IOERR    1u
#define VIRTIO_BLK_S_UNSUPP   2u
#define CONFIG_CAPACITY       0x00 /* 512-byte sectors, 64 bits */
#define CONFIG_BLK_SIZE       0x14
#define SECTOR_SIZE           512u
#define CHAIN                 3 /* header, data, status */
#define CHAIN_FLUSH_NEXT      2 /* a flush skips the data descriptor */
#define MAX_QUEUE_SIZE        1024
#define MAX_SLOTS             (MAX_QUEUE_SIZE / CHAIN)
#define MAX_DATA_REGIONS      8
/* A status the device never writes: a completion that leaves it there is an I/O error. */
#define STATUS_UNSET 0xffu

struct virtio_blk_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct dma_range {
    uint64_t base, size;
};

/* What each busy virtqueue slot answers when the device completes it. */
struct pending {
    bool busy;
    uint32_t op;
    uint32_t id;
    uint32_t count;
    uint64_t bytes;
};

static struct virtio_transport device;
static pn_channel device_ch, blk_ch;
static struct pn_blk_server queue;
static struct virtqueue vq;
static volatile struct virtio_blk_header *headers;
static volatile uint8_t *statuses;
static uint64_t headers_pa, statuses_pa;
static struct dma_range data[MAX_DATA_REGIONS];
static uint32_t n_data;
static struct pending pending[MAX_SLOTS];
static uint16_t free_slots[MAX_SLOTS], n_free_slots;
static uint32_t block_size;
static uint64_t device_blocks, max_blocks_per_request;
static bool can_flush, read_only;
static uint64_t *requests, *read_bytes, *written_bytes, *flushes, *einval, *eio, *unsupported;
static uint64_t *bad_used, *irqs, *ring_errors;

static void negotiate_features(void)
{
    /* One queue, one data descriptor per request: nothing else is needed. */
    uint32_t accepted =
        virtio_negotiate_features(&device, (1u << VIRTIO_BLK_F_RO) | (1u << VIRTIO_BLK_F_BLK_SIZE) |
                                               (1u << VIRTIO_BLK_F_FLUSH));
    can_flush = (accepted & (1u << VIRTIO_BLK_F_FLUSH)) != 0;
    read_only = (accepted & (1u << VIRTIO_BLK_F_RO)) != 0;
    bool has_block_size = (accepted & (1u << VIRTIO_BLK_F_BLK_SIZE)) != 0;

    /* The configuration is read whole, again if the device changed it meanwhile. */
    uint32_t generation, sectors_low, sectors_high, logical_block;
    do {
        generation = virtio_read(&device, VIRTIO_MMIO_CONFIG_GENERATION);
        sectors_low = virtio_read(&device, VIRTIO_MMIO_CONFIG + CONFIG_CAPACITY);
        sectors_high = virtio_read(&device, VIRTIO_MMIO_CONFIG + CONFIG_CAPACITY + 4);
        logical_block = has_block_size ? virtio_read(&device, VIRTIO_MMIO_CONFIG + CONFIG_BLK_SIZE)
                                       : SECTOR_SIZE;
    } while (generation != virtio_read(&device, VIRTIO_MMIO_CONFIG_GENERATION));
    if (logical_block != block_size) {
        struct pn_dbg_line why = {0};
        pn_dbg_line_add(&why, "parameter \"block_size\" is ");
        pn_dbg_line_add_u64(&why, block_size);
        pn_dbg_line_add(&why, " but the device's logical block is ");
        pn_dbg_line_add_u64(&why, logical_block);
        pn_dbg_line_add(&why, " bytes");
        virtio_transport_fail(&device, why.text);
    }
    uint64_t sectors = (uint64_t)sectors_high << 32 | sectors_low;
    device_blocks = sectors / (block_size / SECTOR_SIZE);
}

/* Lays the request queue, then every slot's header and status byte, out in `virtq`. */
static void setup_queue(char *virtq, uint64_t virtq_pa, uint64_t virtq_size)
{
    uint16_t size = virtio_queue_size(&device, REQUEST_QUEUE, MAX_QUEUE_SIZE, CHAIN,
                                      "the device offers no queue long enough for a request");
    uint64_t queue_bytes = virtqueue_bytes(size);
    uint16_t slots = size / CHAIN;
    uint64_t status_offset = queue_bytes + (uint64_t)slots * sizeof(struct virtio_blk_header);
    if (virtq_size < status_offset + slots) {
        virtio_transport_fail(
            &device, "region \"virtq\" is too small for the device's queue, headers and statuses");
    }
    virtqueue_init_chains(&vq, virtq, virtq_pa, size, CHAIN);
    headers = (volatile struct virtio_blk_header *)(virtq + queue_bytes);
    headers_pa = virtq_pa + queue_bytes;
    statuses = (volatile uint8_t *)(virtq + status_offset);
    statuses_pa = virtq_pa + status_offset;
    for (uint16_t slot = 0; slot < vq.slots; slot++) {
        volatile struct virtq_desc *header = virtqueue_desc(&vq, slot, 0);
        header->addr = headers_pa + (uint64_t)slot * sizeof(struct virtio_blk_header);
        header->len = sizeof(struct virtio_blk_header);
        volatile struct virtq_desc *status = virtqueue_desc(&vq, slot, 2);
        status->addr = statuses_pa + slot;
        status->len = 1;
        status->flags = VIRTQ_DESC_F_WRITE;
        free_slots[n_free_slots++] = slot;
    }
    virtio_enable_queue(&device, REQUEST_QUEUE, &vq);
}

static void init_device(void)
{
    virtio_transport_open(&device, DEVICE_ID_BLOCK,
                          "the virtio device is not a block device (is -device "
                          "virtio-blk-device attached to the transport the description names?)");
    negotiate_features();
    uint64_t virtq_size, virtq_pa;
    char *virtq = pn_require_region("virtq", 0, &virtq_size);
    pn_region_paddr("virtq", &virtq_pa, 0);
    setup_queue(virtq, virtq_pa, virtq_size);
    virtio_driver_ok(&device);
}

static void find_data_regions(void)
{
    char name[8] = {'d', 'a', 't', 'a', '0', '\0'};
    for (n_data = 0; n_data < MAX_DATA_REGIONS; n_data++) {
        name[4] = (char)('0' + n_data);
        if (!pn_region_paddr(name, &data[n_data].base, &data[n_data].size)) {
            break;
        }
    }
    if (n_data == 0) {
        pn_fatal("no data region (\"data0\") is described to the driver");
    }
}

/* Whether [pa, pa + bytes) lies inside one data region. */
static bool data_range_valid(uint64_t pa, uint64_t bytes)
{
    for (uint32_t i = 0; i < n_data; i++) {
        if (pa >= data[i].base && pa - data[i].base < data[i].size &&
            data[i].size - (pa - data[i].base) >= bytes) {
            return true;
        }
    }
    return false;
}

static void answer(struct pn_blk_response response)
{
    if (pn_blk_respond(&queue, response) != PN_RING_OK) {
        ++*ring_errors; /* room was kept for every answer, unless the virtualiser broke the ring */
    }
}

static void refuse(struct pn_blk_request r, enum pn_blk_status status)
{
    ++*(status == PN_BLK_EINVAL ? einval : unsupported);
    answer((struct pn_blk_response){.id = r.id, .status = status, .count = 0});
}

/* Gives the device a request's chain: header, then data unless it is a flush, then status. */
static void offer(struct pn_blk_request r, uint32_t type, uint64_t bytes)
{
    uint16_t slot = free_slots[--n_free_slots];
    pending[slot] =
        (struct pending){.busy = true, .op = r.op, .id = r.id, .count = r.count, .bytes = bytes};
    headers[slot].type = type;
    headers[slot].reserved = 0;
    headers[slot].sector = type == VIRTIO_BLK_T_FLUSH ? 0 : r.block * (block_size / SECTOR_SIZE);
    statuses[slot] = STATUS_UNSET;
    volatile struct virtq_desc *header = virtqueue_desc(&vq, slot, 0);
    if (type == VIRTIO_BLK_T_FLUSH) {
        header->next = (uint16_t)(CHAIN * slot + CHAIN_FLUSH_NEXT);
    } else {
        header->next = (uint16_t)(CHAIN * slot + 1);
        volatile struct virtq_desc *buffer = virtqueue_desc(&vq, slot, 1);
        buffer->addr = r.offset;
        buffer->len = (uint32_t)bytes;
        buffer->flags =
            (uint16_t)(VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0));
    }
    virtqueue_offer_slot(&vq, slot);
}

/* What became of a request: at the device, or answered at once. */
enum outcome {
    OFFERED,
    REFUSED,
};

/* Acts on one request from the virtualiser. */
static enum outcome handle(struct pn_blk_request r)
{
    if (r.op == PN_BLK_FLUSH) {
        if (!can_flush) {
            refuse(r, PN_BLK_EUNSUPPORTED);
            return REFUSED;
        }
        offer(r, VIRTIO_BLK_T_FLUSH, 0);
        return OFFERED;
    }
    if (r.op == PN_BLK_BARRIER) {
        refuse(r, PN_BLK_EUNSUPPORTED); /* virtio 1.x has no barriers */
        return REFUSED;
    }
    if ((r.op != PN_BLK_READ && r.op != PN_BLK_WRITE) || r.count == 0 ||
        r.count > max_blocks_per_request || r.block >= device_blocks ||
        device_blocks - r.block < r.count) {
        refuse(r, PN_BLK_EINVAL);
        return REFUSED;
    }
    uint64_t bytes = (uint64_t)r.count * block_size;
    if (!data_range_valid(r.offset, bytes)) {
        refuse(r, PN_BLK_EINVAL); /* no client's data: never given to the device */
        return REFUSED;
    }
    if (r.op == PN_BLK_WRITE && read_only) {
        refuse(r, PN_BLK_EUNSUPPORTED);
        return REFUSED;
    }
    offer(r, r.op == PN_BLK_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, bytes);
    return OFFERED;
}

/*
 * Whether the response ring has room for one more answer on top of one for
 * every request at the device, so that no answer ever has to wait.
 */
static bool room_for_an_answer(void)
{
    enum pn_ring_status status;
    uint32_t space = pn_ring_producer_space(&queue.responses, &status);
    if (status == PN_RING_CORRUPT) {
        ++*ring_errors;
    }
    return space > (uint32_t)(vq.slots - n_free_slots);
}

/* Takes requests while a slot and room for their answers are free; true if any was answered. */
static bool take_requests(void)
{
    bool offered = false, answered = false;
    struct pn_blk_request r;
    for (;;) {
        enum pn_ring_status status = PN_RING_OK;
        while (n_free_slots > 0 && room_for_an_answer() &&
               (status = pn_blk_take_request(&queue, &r)) == PN_RING_OK) {
            if (handle(r) == OFFERED) {
                offered = true;
            } else {
                answered = true;
            }
        }
        if (status == PN_RING_CORRUPT) {
            ++*ring_errors;
        }
        if (n_free_slots == 0 || status != PN_RING_EMPTY) {
            /*
             * Out of slots: a completion brings us back. Out of room for
             * answers while requests wait: the virtualiser has more
             * outstanding than its ring holds, and waits on itself.
             */
            break;
        }
        pn_ring_request_signal(&queue.requests);
        if (pn_ring_consumer_empty(&queue.requests)) {
            break;
        }
        pn_ring_cancel_signal(&queue.requests);
    }
    if (offered && virtqueue_publish(&vq)) {
        virtio_notify(&device, REQUEST_QUEUE);
    }
    return answered;
}

static enum pn_blk_status status_of(uint8_t device_status)
{
    switch (device_status) {
    case VIRTIO_BLK_S_OK:
        return PN_BLK_OK;
    case VIRTIO_BLK_S_UNSUPP:
        return PN_BLK_EUNSUPPORTED;
    default:
        return PN_BLK_EIO; /* VIRTIO_BLK_S_IOERR, or a status never written */
    }
}

/* Answers every request the device completed; true if any. */
static bool collect(void)
{
    bool answered = false;
    uint16_t slot;
    uint32_t written;
    while (virtqueue_take_used(&vq, &slot, &written)) {
        if (slot >= vq.slots || !pending[slot].busy) {
            ++*bad_used;
            continue;
        }
        struct pending *p = &pending[slot];
        enum pn_blk_status status = status_of(statuses[slot]);
        if (status == PN_BLK_OK) {
            ++*requests;
            if (p->op == PN_BLK_FLUSH) {
                ++*flushes;
            } else {
                *(p->op == PN_BLK_READ ? read_bytes : written_bytes) += p->bytes;
            }
        } else {
            ++*(status == PN_BLK_EIO ? eio : unsupported);
        }
        answer((struct pn_blk_response){
            .id = p->id, .status = status, .count = status == PN_BLK_OK ? p->count : 0});
        p->busy = false;
        free_slots[n_free_slots++] = slot;
        answered = true;
    }
    return answered;
}

static void serve(void)
{
    bool answered = collect();
    answered |= take_requests();
    if (answered && pn_ring_require_signal(&queue.responses)) {
        pn_notify(blk_ch);
    }
}

/* "virtio-blk up: S slots, N blocks of B bytes, flush" (no printf in a PD). */
static void report_up(void)
{
    struct pn_dbg_line line = {0};
    pn_dbg_line_add(&line, "virtio-blk up: ");
    pn_dbg_line_add_u64(&line, vq.slots);
    pn_dbg_line_add(&line, " slots, ");
    pn_dbg_line_add_u64(&line, device_blocks);
    pn_dbg_line_add(&line, " blocks of ");
    pn_dbg_line_add_u64(&line, block_size);
    pn_dbg_line_add(&line, " bytes");
    pn_dbg_line_add(&line, can_flush ? ", flush" : ", no flush");
    pn_dbg_line_add(&line, read_only ? ", read-only\n" : "\n");
    pn_dbg_puts(line.text);
}

void init(void)
{
    uint32_t capacity = blk_require_capacity();
    uint64_t unit = pn_require_param_u64("block_size");
    if (unit < SECTOR_SIZE || unit > 65536 || (unit & (unit - 1)) != 0) {
        pn_fatal("parameter \"block_size\" must be a power of two, 512..65536");
    }
    block_size = (uint32_t)unit;
    /* A request's data is one descriptor, whose length is 32 bits. */
    max_blocks_per_request = UINT32_MAX / block_size;
    blk_require_server(&queue, "blk_queue", capacity);
    find_data_regions();
    device_ch = pn_require_channel("device");
    blk_ch = pn_require_channel("blk");
    requests = pn_counter("requests");
    read_bytes = pn_counter("read_bytes");
    written_bytes = pn_counter("written_bytes");
    flushes = pn_counter("flushes");
    einval = pn_counter("einval");
    eio = pn_counter("eio");
    unsupported = pn_counter("unsupported");
    bad_used = pn_counter("bad_used_entry");
    irqs = pn_counter("irqs");
    ring_errors = pn_counter("ring_errors");
    init_device();
    report_up();
    serve();
}

void notified(pn_channel ch)
{
    if (ch == device_ch) {
        ++*irqs;
        virtio_ack_interrupt(&device);
        serve();
        pn_irq_ack(device_ch);
    } else {
        serve();
    }
}
