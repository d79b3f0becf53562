/*
 * A packet socket's memory-mapped receive ring (PACKET_RX_RING), the
 * receive path of net-bridge --rx-ring: the kernel copies each frame into
 * the ring (tpacket_rcv) instead of queueing an skb for recvfrom, and the
 * bridge takes frames out of the ring with no system call at all.
 *
 * Two layouts, chosen at set-up:
 *   TPACKET_V2  fixed-size frame slots, each with its own status word; the
 *               kernel wakes a reader in poll() at every frame;
 *   TPACKET_V3  blocks filled with frames back to back; the kernel hands
 *               over (and wakes a reader for) a whole block at once, when
 *               it is full or when its retire timeout expires.
 *
 * The ring's layout and reading (packet_ring_plan, packet_rx_ring_attach,
 * packet_rx_ring_receive) touch no system call, so the host tests run
 * them on rings laid out in ordinary memory as the kernel lays them out.
 */
#ifndef PINION_PACKET_RING_H
#define PINION_PACKET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum packet_ring_version { PACKET_RING_V2 = 2, PACKET_RING_V3 = 3 };

#define PACKET_RING_DEFAULT_VERSION PACKET_RING_V2
/* TPACKET_V3 only: the size of a block and its retire timeout. */
#define PACKET_RING_DEFAULT_BLOCK_BYTES 4096u
#define PACKET_RING_MIN_BLOCK_BYTES     4096u
#define PACKET_RING_MAX_BLOCK_BYTES     (4u << 20)
#define PACKET_RING_DEFAULT_RETIRE_MS   1u
#define PACKET_RING_MAX_RETIRE_MS       1000u

/* What to ask the kernel for (struct tpacket_req3), worked out by packet_ring_plan. */
struct packet_ring_layout {
    enum packet_ring_version version;
    uint32_t block_bytes, block_count;
    uint32_t frame_bytes, frame_count; /* V2: the slots; V3: only what the request must hold */
    uint32_t retire_ms;                /* V3 */
};

/*
 * The layout of a ring that holds `frames` frames of up to frame_max
 * bytes each whole (never cut short by the ring): V2 slots of frame_max
 * plus the kernel's headers, in blocks of at least 64 KiB; V3 blocks of
 * block_bytes (a power of two, at least the page size and large enough
 * for one such frame) and enough of them for `frames` frames of
 * frame_max. False with a message when the numbers do not make one.
 */
bool packet_ring_plan(enum packet_ring_version version, uint32_t frame_max, uint32_t frames,
                      uint32_t block_bytes, uint32_t retire_ms, struct packet_ring_layout *layout,
                      char *err, size_t err_size);

/* The reader's side of a ring: where it is mapped and where reading stands. */
struct packet_rx_ring {
    struct packet_ring_layout layout;
    unsigned char *base;
    size_t bytes;
    uint32_t frames_per_block; /* V2 */
    uint32_t next;             /* V2: the next frame slot; V3: the block being read */
    /* V3: the next frame of the block being read, and how many are left. */
    const unsigned char *next_in_block;
    uint32_t left_in_block;
};

/* Bytes of memory a ring of this layout takes. */
size_t packet_ring_bytes(const struct packet_ring_layout *layout);

/* Starts reading a ring of this layout mapped (or, in tests, laid out) at memory. */
void packet_rx_ring_attach(struct packet_rx_ring *ring, void *memory,
                           const struct packet_ring_layout *layout);

/*
 * Copies the next frame the kernel handed over into buf (at most capacity
 * bytes), and hands its slot (V2) or, after its last frame, its block (V3)
 * back to the kernel. Returns the frame's whole length, which exceeds
 * capacity when it was cut short; 0 when no frame is waiting. Frames the
 * socket sent itself are skipped. Never blocks, makes no system call.
 */
long packet_rx_ring_receive(struct packet_rx_ring *ring, unsigned char *buf, size_t capacity);

/*
 * Sets up a receive ring of this layout on the packet socket `sock` and
 * maps it; frames the socket queued before are taken off it and dropped,
 * so that poll() then reports only the ring. Returns false after printing
 * why on stderr, each message starting with `program`.
 */
bool packet_rx_ring_open(const char *program, int sock, const struct packet_ring_layout *layout,
                         struct packet_rx_ring *ring);

#endif
