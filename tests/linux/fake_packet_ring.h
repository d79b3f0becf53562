/*
 * The kernel's side of a packet socket's receive ring, for host tests of
 * packet_ring.c: frames written into ordinary memory laid out as Linux 6.1
 * lays out a TPACKET_V2 or TPACKET_V3 ring (net/packet/af_packet.c,
 * tpacket_rcv): the header, the link-layer address after it, the frame at
 * tp_mac, and the status word written last. V2 fills slot after slot and
 * hands each over at once; V3 fills a block and hands it over when told
 * to retire it (full, or its timeout).
 */
#ifndef PINION_TESTS_FAKE_PACKET_RING_H
#define PINION_TESTS_FAKE_PACKET_RING_H

#include "packet_ring.h"

#include <linux/if_packet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* Where Linux puts an Ethernet frame in a slot: the network header 16-aligned. */
#define FAKE_ETH_HEADER 14u

struct fake_kernel_ring {
    struct packet_ring_layout layout;
    unsigned char *memory;
    uint32_t head;       /* V2: the slot it fills next; V3: the block it fills */
    uint32_t used;       /* V3: bytes of the open block taken */
    uint32_t packets;    /* V3: frames in the open block */
    unsigned char *last; /* V3: the open block's last frame */
    unsigned dropped;    /* frames it had no room for (the reader behind) */
};

static inline void fake_ring_init(struct fake_kernel_ring *k, void *memory,
                                  const struct packet_ring_layout *layout)
{
    *k = (struct fake_kernel_ring){.layout = *layout, .memory = memory};
    memset(memory, 0, packet_ring_bytes(layout));
}

static inline unsigned char *fake_ring_slot(const struct fake_kernel_ring *k, uint32_t i)
{
    uint32_t per_block = k->layout.block_bytes / k->layout.frame_bytes;
    return k->memory + (size_t)(i / per_block) * k->layout.block_bytes +
           (size_t)(i % per_block) * k->layout.frame_bytes;
}

static inline struct tpacket_block_desc *fake_ring_block(const struct fake_kernel_ring *k,
                                                         uint32_t b)
{
    return (struct tpacket_block_desc *)(k->memory + (size_t)b * k->layout.block_bytes);
}

/* Where tpacket_rcv puts an Ethernet frame after a header of header_bytes. */
static inline uint16_t fake_ring_mac_offset(size_t header_bytes)
{
    size_t net = TPACKET_ALIGN(TPACKET_ALIGN(header_bytes) + sizeof(struct sockaddr_ll) + 16);
    return (uint16_t)(net - FAKE_ETH_HEADER);
}

/* Fills in what tpacket_rcv writes around the frame; the frame's bytes at tp_mac. */
static inline uint16_t fake_ring_place(unsigned char *header, size_t header_bytes,
                                       const unsigned char *frame, uint32_t snaplen,
                                       unsigned char pkttype)
{
    uint16_t mac = fake_ring_mac_offset(header_bytes);
    struct sockaddr_ll *sll = (struct sockaddr_ll *)(header + TPACKET_ALIGN(header_bytes));
    sll->sll_family = AF_PACKET;
    sll->sll_pkttype = pkttype;
    memcpy(header + mac, frame, snaplen);
    return mac;
}

static inline void fake_ring_retire(struct fake_kernel_ring *k);

/*
 * A frame of `len` bytes arrives, of which the kernel keeps `snaplen` (and
 * in V2 no more than fits a slot): false when the reader has not handed
 * the slot (V2) or the next block (V3) back, and the frame is dropped.
 */
static inline bool fake_ring_put(struct fake_kernel_ring *k, const unsigned char *frame,
                                 uint32_t len, uint32_t snaplen, unsigned char pkttype)
{
    if (k->layout.version == PACKET_RING_V2) {
        /* Cut to what fits the slot, as tpacket_rcv does. */
        uint32_t room = k->layout.frame_bytes - fake_ring_mac_offset(sizeof(struct tpacket2_hdr));
        snaplen = snaplen < room ? snaplen : room;
        struct tpacket2_hdr *h = (struct tpacket2_hdr *)fake_ring_slot(k, k->head);
        if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_KERNEL) {
            k->dropped++;
            return false;
        }
        h->tp_mac = fake_ring_place((unsigned char *)h, sizeof *h, frame, snaplen, pkttype);
        h->tp_len = len;
        h->tp_snaplen = snaplen;
        __atomic_store_n(&h->tp_status, TP_STATUS_USER, __ATOMIC_RELEASE);
        k->head = k->head + 1 == k->layout.frame_count ? 0 : k->head + 1;
        return true;
    }
    uint32_t bytes = (fake_ring_mac_offset(sizeof(struct tpacket3_hdr)) + snaplen + 7u) & ~7u;
    if (k->used != 0 && k->used + bytes >= k->layout.block_bytes) {
        fake_ring_retire(k); /* full: handed over, and the frame goes into the next */
    }
    struct tpacket_block_desc *b = fake_ring_block(k, k->head);
    if (k->used == 0) {
        /* Open the block: only one the reader handed back. */
        if (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) != TP_STATUS_KERNEL) {
            k->dropped++;
            return false;
        }
        k->used = (uint32_t)((sizeof(struct tpacket_block_desc) + 7) & ~(size_t)7);
        b->hdr.bh1.offset_to_first_pkt = k->used;
    }
    unsigned char *at = (unsigned char *)b + k->used;
    struct tpacket3_hdr *h = (struct tpacket3_hdr *)at;
    h->tp_mac = fake_ring_place(at, sizeof *h, frame, snaplen, pkttype);
    h->tp_len = len;
    h->tp_snaplen = snaplen;
    h->tp_next_offset = bytes;
    k->used += bytes;
    k->packets++;
    k->last = at;
    return true;
}

/* V3: hands the open block over (TP_STATUS_USER), as a full block or its timeout does. */
static inline void fake_ring_retire(struct fake_kernel_ring *k)
{
    struct tpacket_block_desc *b = fake_ring_block(k, k->head);
    if (k->last != NULL) {
        ((struct tpacket3_hdr *)k->last)->tp_next_offset = 0;
    }
    b->hdr.bh1.num_pkts = k->packets;
    __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_USER, __ATOMIC_RELEASE);
    k->head = k->head + 1 == k->layout.block_count ? 0 : k->head + 1;
    k->used = k->packets = 0;
    k->last = NULL;
}

static inline bool fake_ring_frame_given_back(const struct fake_kernel_ring *k, uint32_t slot)
{
    const struct tpacket2_hdr *h = (const struct tpacket2_hdr *)fake_ring_slot(k, slot);
    return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_KERNEL;
}

static inline bool fake_ring_block_given_back(const struct fake_kernel_ring *k, uint32_t block)
{
    const struct tpacket_block_desc *b = fake_ring_block(k, block);
    return __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) == TP_STATUS_KERNEL;
}

#endif
