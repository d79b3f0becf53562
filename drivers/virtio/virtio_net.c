/*
 * Native virtio-net driver for QEMU virt's virtio-mmio transport (version 2).
 *
 * Zero copy: the device writes received frames straight into buffers of
 * the shared receive data region and reads frames to send straight from
 * the clients' transmit regions. The driver never maps those regions: it
 * knows them by physical address only (maps with rights "none"), hands
 * buffers to the device by address, and checks every address it is given
 * against them.
 *
 * Wiring (local names):
 *   mmio       the device's page (uncached); the transport is at `mmio_offset` in it
 *   virtq      driver memory for both virtqueues and the per-slot headers
 *   rx_queue   net queue pair with the rx multiplexer: the driver fills it
 *   tx_queue   net queue pair with the tx multiplexer: the driver drains it
 *   rx_dma     receive buffers (rights none)
 *   tx_dma0..  transmit regions the tx multiplexer may name (rights none)
 *   device     the device's interrupt; rx, tx: channels to the multiplexers
 * Parameters: capacity, buffer_size, mmio_offset; inject_bad_every (test
 * mode: after every that many received frames, hand the rx multiplexer a
 * corrupt descriptor as well, cycling through the ways one can be corrupt).
 */
#include "virtio_transport.h"
#include "virtqueue.h"

#include <pinion/component.h>
#include <pinion/dbg_line.h>
#include <pinion/net_queue.h>
#include <pinion/wiring.h>

#define RX_QUEUE         0
#define TX_QUEUE         1
#define NET_HEADER_SIZE  12 /* struct virtio_net_hdr with num_buffers (virtio 1.x) */
#define VIRTIO_NET_F_MAC 5
#define DEVICE_ID_NET    1
#define MAX_QUEUE_SIZE   1024 /* QEMU's virtio-mmio offers up to 1024 descriptors a queue */
#define MAX_TX_REGIONS   8

struct dma_range {
    uint64_t base, size;
};

static struct virtio_transport device;
static pn_channel device_ch, rx_ch, tx_ch;
static struct pn_net_filler rx;  /* free buffers in, received frames out */
static struct pn_net_drainer tx; /* frames to send in, sent buffers out */
static struct virtqueue rxq, txq;
static struct dma_range rx_dma, tx_dma[MAX_TX_REGIONS];
static uint32_t n_tx_dma, buffer_size;
static uint64_t rx_slot_offset[MAX_QUEUE_SIZE / 2]; /* offset in rx_dma of each busy slot */
static uint64_t tx_slot_pa[MAX_QUEUE_SIZE / 2];
static uint16_t rx_free_slots[MAX_QUEUE_SIZE / 2], tx_free_slots[MAX_QUEUE_SIZE / 2];
static uint16_t n_rx_free_slots, n_tx_free_slots;
static uint64_t inject_bad_every, frames_since_injection, injections;
static uint64_t *rx_frames, *rx_dropped, *tx_frames, *bad_free, *bad_tx, *bad_used, *irqs;
static uint64_t *injected;

/* The size to use for queue `index`: at least one slot of header and buffer. */
static uint16_t queue_size(uint32_t index)
{
    return virtio_queue_size(&device, index, MAX_QUEUE_SIZE, 2,
                             "the device offers no usable queue");
}

static void setup_queue(uint32_t index, struct virtqueue *q, char *memory, uint64_t memory_pa,
                        uint16_t size, uint64_t headers_pa, bool device_writes)
{
    virtqueue_init(q, memory, memory_pa, size, headers_pa, NET_HEADER_SIZE, device_writes);
    virtio_enable_queue(&device, index, q);
}

static struct dma_range require_dma_range(const char *name)
{
    struct dma_range range;
    if (!pn_region_paddr(name, &range.base, &range.size)) {
        /* Checked before init_device: there is no device to mark failed yet. */
        pn_fatal("a DMA region (rx_dma) is not described to the driver");
    }
    return range;
}

static void find_tx_regions(void)
{
    char name[8] = {'t', 'x', '_', 'd', 'm', 'a', '0', '\0'};
    for (n_tx_dma = 0; n_tx_dma < MAX_TX_REGIONS; n_tx_dma++) {
        name[6] = (char)('0' + n_tx_dma);
        if (!pn_region_paddr(name, &tx_dma[n_tx_dma].base, &tx_dma[n_tx_dma].size)) {
            break;
        }
    }
    if (n_tx_dma == 0) {
        /* Checked before init_device: there is no device to mark failed yet. */
        pn_fatal("no transmit region (tx_dma0) is described to the driver");
    }
}

static void init_device(void)
{
    virtio_transport_open(&device, DEVICE_ID_NET,
                          "the virtio device is not a network device (is -device "
                          "virtio-net-device attached to the transport the description names?)");
    /* No offloads, no mergeable buffers: one frame per buffer, as the queues expect. */
    virtio_negotiate_features(&device, 1u << VIRTIO_NET_F_MAC);

    /* virtq holds: the receive queue, the transmit queue, then each slot's header. */
    uint64_t virtq_size, virtq_pa;
    char *virtq = pn_require_region("virtq", 0, &virtq_size);
    pn_region_paddr("virtq", &virtq_pa, 0);
    uint16_t rx_size = queue_size(RX_QUEUE), tx_size = queue_size(TX_QUEUE);
    uint64_t rx_bytes = virtqueue_bytes(rx_size), tx_bytes = virtqueue_bytes(tx_size);
    uint64_t rx_headers = rx_bytes + tx_bytes;
    uint64_t tx_headers = rx_headers + (uint64_t)rx_size / 2 * NET_HEADER_SIZE;
    uint64_t end = tx_headers + (uint64_t)tx_size / 2 * NET_HEADER_SIZE;
    if (virtq_size < end) {
        virtio_transport_fail(
            &device, "region \"virtq\" is too small for the device's queues and their headers");
    }
    setup_queue(RX_QUEUE, &rxq, virtq, virtq_pa, rx_size, virtq_pa + rx_headers, true);
    setup_queue(TX_QUEUE, &txq, virtq + rx_bytes, virtq_pa + rx_bytes, tx_size,
                virtq_pa + tx_headers, false);
    /* The header the device reads before every frame we send: no offloads, all zero. */
    for (uint64_t i = tx_headers; i < end; i++) {
        virtq[i] = 0;
    }
    virtio_driver_ok(&device);
}

/* Gives the device every free receive buffer it has room for. */
static void refill_rx(void)
{
    bool offered = false;
    struct pn_net_desc d;
    for (;;) {
        while (n_rx_free_slots > 0 && pn_net_take_free(&rx, &d) == PN_RING_OK) {
            if (!pn_net_desc_valid(d, rx_dma.size, buffer_size)) {
                ++*bad_free; /* not a buffer of ours: dropped, never given to the device */
                continue;
            }
            uint16_t slot = rx_free_slots[--n_rx_free_slots];
            rx_slot_offset[slot] = d.offset;
            virtqueue_offer(&rxq, slot, rx_dma.base + d.offset, buffer_size);
            offered = true;
        }
        if (n_rx_free_slots == 0) {
            break;
        }
        /* Out of free buffers: ask to hear when the multiplexer returns some. */
        pn_ring_request_signal(&rx.free);
        if (pn_ring_consumer_empty(&rx.free)) {
            break;
        }
        pn_ring_cancel_signal(&rx.free);
    }
    if (offered && virtqueue_publish(&rxq)) {
        virtio_notify(&device, RX_QUEUE);
    }
}

static void inject_bad_descriptor(void)
{
    static const uint32_t kinds = 3;
    struct pn_net_desc bad;
    switch (injections++ % kinds) {
    case 0:
        bad = (struct pn_net_desc){.offset = rx_dma.size, .len = 60}; /* past the region */
        break;
    case 1:
        bad = (struct pn_net_desc){.offset = buffer_size / 2, .len = 60}; /* mid-buffer */
        break;
    default:
        bad = (struct pn_net_desc){.offset = 0, .len = buffer_size + 1}; /* too long */
        break;
    }
    if (pn_net_give_active(&rx, bad) == PN_RING_OK) {
        ++*injected;
    }
}

static bool collect_rx(void)
{
    bool delivered = false;
    uint16_t slot;
    uint32_t written;
    while (virtqueue_take_used(&rxq, &slot, &written)) {
        if (slot >= rxq.slots || written < NET_HEADER_SIZE) {
            ++*bad_used;
            continue;
        }
        uint32_t len = written - NET_HEADER_SIZE;
        struct pn_net_desc d = {.offset = rx_slot_offset[slot], .len = len};
        /*
         * Every buffer has a place in the active ring unless injected test
         * descriptors took some: then drop the frame and offer the buffer again.
         */
        if (pn_net_give_active(&rx, d) != PN_RING_OK) {
            ++*rx_dropped;
            virtqueue_offer(&rxq, slot, rx_dma.base + d.offset, buffer_size);
            if (virtqueue_publish(&rxq)) {
                virtio_notify(&device, RX_QUEUE);
            }
            continue;
        }
        rx_free_slots[n_rx_free_slots++] = slot;
        ++*rx_frames;
        delivered = true;
        if (inject_bad_every && ++frames_since_injection == inject_bad_every) {
            frames_since_injection = 0;
            inject_bad_descriptor();
        }
    }
    return delivered;
}

static bool tx_address_valid(struct pn_net_desc d)
{
    if (d.len == 0 || d.len > buffer_size) {
        return false;
    }
    for (uint32_t i = 0; i < n_tx_dma; i++) {
        if (d.offset >= tx_dma[i].base && d.offset - tx_dma[i].base < tx_dma[i].size &&
            tx_dma[i].size - (d.offset - tx_dma[i].base) >= d.len) {
            return true;
        }
    }
    return false;
}

/* Sends what the tx multiplexer queued; its descriptors carry device addresses. */
static void transmit(void)
{
    bool offered = false;
    struct pn_net_desc d;
    for (;;) {
        while (n_tx_free_slots > 0 && pn_net_take_active(&tx, &d) == PN_RING_OK) {
            if (!tx_address_valid(d)) {
                ++*bad_tx;
                continue;
            }
            uint16_t slot = tx_free_slots[--n_tx_free_slots];
            tx_slot_pa[slot] = d.offset;
            virtqueue_offer(&txq, slot, d.offset, d.len);
            offered = true;
        }
        if (n_tx_free_slots == 0) {
            break;
        }
        pn_ring_request_signal(&tx.active);
        if (pn_ring_consumer_empty(&tx.active)) {
            break;
        }
        pn_ring_cancel_signal(&tx.active);
    }
    if (offered && virtqueue_publish(&txq)) {
        virtio_notify(&device, TX_QUEUE);
    }
}

static bool collect_tx(void)
{
    bool returned = false;
    uint16_t slot;
    uint32_t written;
    while (virtqueue_take_used(&txq, &slot, &written)) {
        if (slot >= txq.slots) {
            ++*bad_used;
            continue;
        }
        tx_free_slots[n_tx_free_slots++] = slot;
        pn_net_give_free(&tx, (struct pn_net_desc){.offset = tx_slot_pa[slot], .len = 0});
        ++*tx_frames;
        returned = true;
    }
    return returned;
}

static void service(void)
{
    bool delivered = collect_rx();
    bool returned = collect_tx();
    refill_rx();
    transmit();
    if (delivered && pn_ring_require_signal(&rx.active)) {
        pn_notify(rx_ch);
    }
    if (returned && pn_ring_require_signal(&tx.free)) {
        pn_notify(tx_ch);
    }
}

/* "virtio-net up: N receive, M transmit slots" (no printf in a PD). */
static void report_up(void)
{
    struct pn_dbg_line line = {0};
    pn_dbg_line_add(&line, "virtio-net up: ");
    pn_dbg_line_add_u64(&line, rxq.slots);
    pn_dbg_line_add(&line, " receive, ");
    pn_dbg_line_add_u64(&line, txq.slots);
    pn_dbg_line_add(&line, " transmit slots\n");
    pn_dbg_puts(line.text);
}

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    buffer_size = (uint32_t)pn_param_u64_or("buffer_size", 2048);
    inject_bad_every = pn_param_u64_or("inject_bad_every", 0);
    if (capacity > UINT32_MAX || buffer_size < 64 || buffer_size > 65536) {
        pn_fatal("parameters \"capacity\" or \"buffer_size\" out of range");
    }
    void *rx_region = pn_require_region("rx_queue", pn_net_pair_bytes((uint32_t)capacity), 0);
    void *tx_region = pn_require_region("tx_queue", pn_net_pair_bytes((uint32_t)capacity), 0);
    if (!pn_net_filler_attach(&rx, rx_region, (uint32_t)capacity) ||
        !pn_net_drainer_attach(&tx, tx_region, (uint32_t)capacity)) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
    rx_dma = require_dma_range("rx_dma");
    find_tx_regions();
    device_ch = pn_require_channel("device");
    rx_ch = pn_require_channel("rx");
    tx_ch = pn_require_channel("tx");
    rx_frames = pn_counter("rx_frames");
    rx_dropped = pn_counter("rx_dropped_ring_full");
    tx_frames = pn_counter("tx_frames");
    bad_free = pn_counter("bad_free_desc");
    bad_tx = pn_counter("bad_tx_desc");
    bad_used = pn_counter("bad_used_entry");
    irqs = pn_counter("irqs");
    injected = pn_counter("injected_bad_desc");
    init_device();
    for (uint16_t slot = 0; slot < rxq.slots; slot++) {
        rx_free_slots[n_rx_free_slots++] = slot;
    }
    for (uint16_t slot = 0; slot < txq.slots; slot++) {
        tx_free_slots[n_tx_free_slots++] = slot;
    }
    report_up();
    service();
}

void notified(pn_channel ch)
{
    if (ch == device_ch) {
        ++*irqs;
        virtio_ack_interrupt(&device);
        service();
        pn_irq_ack(device_ch);
    } else {
        service();
    }
}
