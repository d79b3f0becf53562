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
#include "virtio_mmio.h"
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

static volatile uint32_t *regs;
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

static uint32_t reg_read(uint32_t offset)
{
    return regs[offset / 4];
}

static void reg_write(uint32_t offset, uint32_t value)
{
    regs[offset / 4] = value;
}

static void fail(const char *why)
{
    reg_write(VIRTIO_MMIO_STATUS, reg_read(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
    pn_fatal(why);
}

static void negotiate_features(void)
{
    reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint32_t high = reg_read(VIRTIO_MMIO_DEVICE_FEATURES);
    reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint32_t low = reg_read(VIRTIO_MMIO_DEVICE_FEATURES);
    if (!(high & (1u << (VIRTIO_F_VERSION_1 - 32)))) {
        fail("the device does not offer VIRTIO_F_VERSION_1");
    }
    /* No offloads, no mergeable buffers: one frame per buffer, as the queues expect. */
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES, low & (1u << VIRTIO_NET_F_MAC));
    reg_write(VIRTIO_MMIO_STATUS, reg_read(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FEATURES_OK);
    if (!(reg_read(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        fail("the device refused the features");
    }
}

/* The queue size to use: the device's maximum, capped, a power of two. */
static uint16_t queue_size(uint32_t index)
{
    reg_write(VIRTIO_MMIO_QUEUE_SEL, index);
    uint32_t max = reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX);
    uint16_t size = MAX_QUEUE_SIZE;
    while (size > max) {
        size /= 2;
    }
    if (size < 2) {
        fail("the device offers no usable queue");
    }
    return size;
}

static void setup_queue(uint32_t index, struct virtqueue *q, char *memory, uint64_t memory_pa,
                        uint16_t size, uint64_t headers_pa, bool device_writes)
{
    virtqueue_init(q, memory, memory_pa, size, headers_pa, NET_HEADER_SIZE, device_writes);
    reg_write(VIRTIO_MMIO_QUEUE_SEL, index);
    reg_write(VIRTIO_MMIO_QUEUE_NUM, size);
    reg_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc_pa);
    reg_write(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc_pa >> 32));
    reg_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail_pa);
    reg_write(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->avail_pa >> 32));
    reg_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used_pa);
    reg_write(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used_pa >> 32));
    reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
}

static struct dma_range require_dma_range(const char *name)
{
    struct dma_range range;
    if (!pn_region_paddr(name, &range.base, &range.size)) {
        fail("a DMA region (rx_dma) is not described to the driver");
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
        fail("no transmit region (tx_dma0) is described to the driver");
    }
}

static void init_device(void)
{
    uint64_t mmio_size;
    char *mmio = pn_require_region("mmio", 4096, &mmio_size);
    uint64_t offset = pn_param_u64_or("mmio_offset", 0);
    if (offset > mmio_size - 0x200) {
        fail("parameter \"mmio_offset\" lies outside the mmio region");
    }
    regs = (volatile uint32_t *)(mmio + offset);
    if (reg_read(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC) {
        pn_fatal("no virtio-mmio device at the mmio region");
    }
    if (reg_read(VIRTIO_MMIO_VERSION) != 2) {
        pn_fatal("legacy virtio-mmio device: start QEMU with -global "
                 "virtio-mmio.force-legacy=false");
    }
    if (reg_read(VIRTIO_MMIO_DEVICE_ID) != DEVICE_ID_NET) {
        pn_fatal("the virtio device is not a network device (is -device virtio-net-device "
                 "attached to the transport the description names?)");
    }
    reg_write(VIRTIO_MMIO_STATUS, 0);
    reg_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    reg_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    negotiate_features();

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
        fail("region \"virtq\" is too small for the device's queues and their headers");
    }
    setup_queue(RX_QUEUE, &rxq, virtq, virtq_pa, rx_size, virtq_pa + rx_headers, true);
    setup_queue(TX_QUEUE, &txq, virtq + rx_bytes, virtq_pa + rx_bytes, tx_size,
                virtq_pa + tx_headers, false);
    /* The header the device reads before every frame we send: no offloads, all zero. */
    for (uint64_t i = tx_headers; i < end; i++) {
        virtq[i] = 0;
    }
    reg_write(VIRTIO_MMIO_STATUS, reg_read(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
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
        reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, RX_QUEUE);
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
                reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, RX_QUEUE);
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
        reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, TX_QUEUE);
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
        reg_write(VIRTIO_MMIO_INTERRUPT_ACK, reg_read(VIRTIO_MMIO_INTERRUPT_STATUS));
        service();
        pn_irq_ack(device_ch);
    } else {
        service();
    }
}
