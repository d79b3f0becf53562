/* net-bridge's memory-mapped receive ring (see packet_ring.h). */
#define _DEFAULT_SOURCE

#include "packet_ring.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* Linux's alignment of a V3 block's header (V3_ALIGNMENT in af_packet.c). */
#define V3_BLOCK_HEADER_BYTES ((sizeof(struct tpacket_block_desc) + 7) & ~(size_t)7)
/*
 * Room before a frame's data beyond the tpacket header: Linux puts the
 * network header TPACKET_ALIGN(header + max(link header, 16)) bytes into
 * a slot; 32 covers an Ethernet header with VLAN tags.
 */
#define LINK_HEADER_ROOM 32u
/* V2 slots come in blocks at least this large (fewer, larger allocations). */
#define V2_MIN_BLOCK_BYTES (64u * 1024u)

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

static uint32_t power_of_two_at_least(uint32_t x)
{
    uint32_t p = 1;
    while (p < x) {
        p <<= 1;
    }
    return p;
}

bool packet_ring_plan(enum packet_ring_version version, uint32_t frame_max, uint32_t frames,
                      uint32_t block_bytes, uint32_t retire_ms, struct packet_ring_layout *layout,
                      char *err, size_t err_size)
{
    *layout = (struct packet_ring_layout){.version = version};
    if (frames == 0 || frame_max == 0 || frame_max > (1u << 20)) {
        set_error(err, err_size, "a ring of %u frames of %u bytes is no ring", frames, frame_max);
        return false;
    }
    if (version == PACKET_RING_V2) {
        uint32_t slot =
            TPACKET_ALIGN(TPACKET_ALIGN(TPACKET2_HDRLEN + LINK_HEADER_ROOM) + frame_max);
        uint32_t block = power_of_two_at_least(slot);
        if (block < V2_MIN_BLOCK_BYTES) {
            block = V2_MIN_BLOCK_BYTES;
        }
        uint32_t per_block = block / slot;
        layout->block_bytes = block;
        layout->block_count = (frames + per_block - 1) / per_block;
        layout->frame_bytes = slot;
        layout->frame_count = per_block * layout->block_count;
        return true;
    }
    uint32_t needed = (uint32_t)V3_BLOCK_HEADER_BYTES +
                      TPACKET_ALIGN(TPACKET_ALIGN(TPACKET3_HDRLEN + LINK_HEADER_ROOM) + frame_max);
    /* A power of two from the page size up: whole pages, as Linux wants them. */
    if (block_bytes < PACKET_RING_MIN_BLOCK_BYTES || block_bytes > PACKET_RING_MAX_BLOCK_BYTES ||
        (block_bytes & (block_bytes - 1)) != 0) {
        set_error(err, err_size, "a block of %u bytes: it must be a power of two from %u to %u",
                  block_bytes, PACKET_RING_MIN_BLOCK_BYTES, PACKET_RING_MAX_BLOCK_BYTES);
        return false;
    }
    if (block_bytes < needed) {
        set_error(err, err_size,
                  "a block of %u bytes cannot hold a %u-byte frame whole (%u bytes with the "
                  "kernel's headers)",
                  block_bytes, frame_max, needed);
        return false;
    }
    if (retire_ms == 0 || retire_ms > PACKET_RING_MAX_RETIRE_MS) {
        set_error(err, err_size, "a block retire timeout of %u ms: it must be 1 to %u", retire_ms,
                  PACKET_RING_MAX_RETIRE_MS);
        return false;
    }
    /* As much memory as `frames` slots of frame_max would take, in whole blocks. */
    uint64_t total = (uint64_t)frames * (needed - V3_BLOCK_HEADER_BYTES);
    layout->block_bytes = block_bytes;
    layout->block_count = (uint32_t)((total + block_bytes - 1) / block_bytes);
    if (layout->block_count < 2) {
        layout->block_count = 2; /* one for the kernel to fill while we read the other */
    }
    /* V3 packs frames back to back; the request only needs a frame count that adds up. */
    layout->frame_bytes = block_bytes;
    layout->frame_count = layout->block_count;
    layout->retire_ms = retire_ms;
    return true;
}

size_t packet_ring_bytes(const struct packet_ring_layout *layout)
{
    return (size_t)layout->block_bytes * layout->block_count;
}

void packet_rx_ring_attach(struct packet_rx_ring *ring, void *memory,
                           const struct packet_ring_layout *layout)
{
    *ring = (struct packet_rx_ring){
        .layout = *layout,
        .base = memory,
        .bytes = packet_ring_bytes(layout),
        .frames_per_block = layout->block_bytes / layout->frame_bytes,
    };
}

/*
 * The kernel writes a frame, then its status word (release); we read the
 * status (acquire), then the frame, then hand the slot back by storing
 * TP_STATUS_KERNEL (release) after we are done with it.
 */
static uint32_t status_of(const uint32_t *status)
{
    return __atomic_load_n(status, __ATOMIC_ACQUIRE);
}

static void give_back(uint32_t *status)
{
    __atomic_store_n(status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

/*
 * Copies one frame of `snaplen` bytes captured out of `len` into buf. A
 * frame the ring cut short that would otherwise fit cannot be delivered
 * whole: reported as longer than buf, so it is dropped as too long
 * (packet_ring_plan sizes rings so that this does not happen).
 */
static long copy_frame(const unsigned char *data, uint32_t snaplen, uint32_t len,
                       unsigned char *buf, size_t capacity)
{
    memcpy(buf, data, snaplen < capacity ? snaplen : capacity);
    if (snaplen < len && len <= capacity) {
        return (long)capacity + 1;
    }
    return (long)len;
}

static const struct sockaddr_ll *link_address(const void *header, size_t header_bytes)
{
    return (const struct sockaddr_ll *)((const unsigned char *)header +
                                        TPACKET_ALIGN(header_bytes));
}

/* V2: slot i; a block holds frames_per_block of them, and no slot straddles two. */
static struct tpacket2_hdr *v2_slot(const struct packet_rx_ring *ring, uint32_t i)
{
    size_t block = i / ring->frames_per_block, within = i % ring->frames_per_block;
    return (struct tpacket2_hdr *)(ring->base + block * ring->layout.block_bytes +
                                   within * ring->layout.frame_bytes);
}

static struct tpacket_block_desc *v3_block(const struct packet_rx_ring *ring, uint32_t b)
{
    return (struct tpacket_block_desc *)(ring->base + (size_t)b * ring->layout.block_bytes);
}

static long receive_v2(struct packet_rx_ring *ring, unsigned char *buf, size_t capacity)
{
    for (;;) {
        uint32_t i = ring->next;
        struct tpacket2_hdr *h = v2_slot(ring, i);
        if (!(status_of(&h->tp_status) & TP_STATUS_USER)) {
            return 0;
        }
        ring->next = i + 1 == ring->layout.frame_count ? 0 : i + 1;
        bool own = link_address(h, sizeof *h)->sll_pkttype == PACKET_OUTGOING;
        long len = own ? 0
                       : copy_frame((const unsigned char *)h + h->tp_mac, h->tp_snaplen, h->tp_len,
                                    buf, capacity);
        give_back(&h->tp_status);
        if (!own) {
            return len;
        }
    }
}

static long receive_v3(struct packet_rx_ring *ring, unsigned char *buf, size_t capacity)
{
    for (;;) {
        struct tpacket_block_desc *block = v3_block(ring, ring->next);
        if (ring->next_in_block == NULL) {
            if (!(status_of(&block->hdr.bh1.block_status) & TP_STATUS_USER)) {
                return 0;
            }
            ring->left_in_block = block->hdr.bh1.num_pkts;
            ring->next_in_block = (const unsigned char *)block + block->hdr.bh1.offset_to_first_pkt;
        }
        long len = 0;
        bool own = true;
        if (ring->left_in_block > 0) {
            const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)ring->next_in_block;
            own = link_address(h, sizeof *h)->sll_pkttype == PACKET_OUTGOING;
            if (!own) {
                len = copy_frame((const unsigned char *)h + h->tp_mac, h->tp_snaplen, h->tp_len,
                                 buf, capacity);
            }
            ring->left_in_block--;
            ring->next_in_block += h->tp_next_offset;
        }
        if (ring->left_in_block == 0) {
            /* Its last frame is copied out: the whole block goes back. */
            give_back(&block->hdr.bh1.block_status);
            ring->next_in_block = NULL;
            ring->next = ring->next + 1 == ring->layout.block_count ? 0 : ring->next + 1;
        }
        if (!own) {
            return len;
        }
    }
}

long packet_rx_ring_receive(struct packet_rx_ring *ring, unsigned char *buf, size_t capacity)
{
    return ring->layout.version == PACKET_RING_V2 ? receive_v2(ring, buf, capacity)
                                                  : receive_v3(ring, buf, capacity);
}

bool packet_rx_ring_open(const char *program, int sock, const struct packet_ring_layout *layout,
                         struct packet_rx_ring *ring)
{
    int version = layout->version == PACKET_RING_V2 ? TPACKET_V2 : TPACKET_V3;
    if (setsockopt(sock, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) {
        fprintf(stderr, "%s: error: cannot use TPACKET_V%d on the packet socket: %s\n", program,
                (int)layout->version, strerror(errno));
        return false;
    }
    struct tpacket_req3 req = {
        .tp_block_size = layout->block_bytes,
        .tp_block_nr = layout->block_count,
        .tp_frame_size = layout->frame_bytes,
        .tp_frame_nr = layout->frame_count,
        .tp_retire_blk_tov = layout->retire_ms,
    };
    /* V2 reads a struct tpacket_req, the first four fields of tpacket_req3. */
    socklen_t req_bytes =
        layout->version == PACKET_RING_V2 ? sizeof(struct tpacket_req) : sizeof req;
    /*
     * Setting the ring also purges what the socket queued before: from now
     * on frames go only into the ring, and poll() reports only the ring.
     */
    if (setsockopt(sock, SOL_PACKET, PACKET_RX_RING, &req, req_bytes) < 0) {
        fprintf(stderr,
                "%s: error: cannot set up a receive ring of %u blocks of %u bytes (TPACKET_V%d): "
                "%s\n",
                program, layout->block_count, layout->block_bytes, (int)layout->version,
                strerror(errno));
        return false;
    }
    size_t bytes = packet_ring_bytes(layout);
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, sock, 0);
    if (memory == MAP_FAILED) {
        fprintf(stderr, "%s: error: cannot map the receive ring (%zu bytes): %s\n", program, bytes,
                strerror(errno));
        return false;
    }
    packet_rx_ring_attach(ring, memory, layout);
    return true;
}
