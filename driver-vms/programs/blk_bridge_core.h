/*
 * The logic of blk-bridge, the block driver VM's user-space bridge (the
 * LionsOS way): it serves pinion's block queue (requests in, responses out,
 * components/include/pinion/blk_queue.h) from a Linux block device opened
 * with O_DIRECT, through bounce buffers, several requests in flight. The
 * program (blk-bridge.c) supplies the system calls: the UIO device's maps,
 * doorbell and interrupt, the device's file and an io_uring (blk_uring.c);
 * the host unit tests (tests/linux/test_blk_bridge.c) drive this file with
 * fakes.
 *
 * The bridge plays the block driver's part: requests name their data by
 * physical address inside one of the clients' data regions (the block
 * virtualiser translates each client's offsets) and their blocks by number
 * on the device. A read goes from the device into a bounce buffer and is
 * copied into the client's region when it completes; a write is copied
 * into a bounce buffer and goes from there to the device. (O_DIRECT cannot
 * move data straight to or from the regions: UIO maps them as device
 * memory, which Linux cannot pin for a transfer.) Because the regions are
 * device memory, the copies are aligned 8-byte loads and stores (memcpy
 * may use unaligned or cache-zeroing instructions, which fault there), so
 * a request's data must be 8-byte aligned. Everything a peer hands over is
 * checked; what fails is answered PN_BLK_EINVAL and counted.
 */
#ifndef PINION_BLK_BRIDGE_CORE_H
#define PINION_BLK_BRIDGE_CORE_H

#include <pinion/blk_queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_BRIDGE_MAX_REGIONS 3
#define BLK_BRIDGE_MAX_SLOTS   64
#define BLK_BRIDGE_ERROR_MAX   256

/* A shared data region: where the bridge sees it, and where it is physically. */
struct blk_bridge_region {
    unsigned char *base;
    uint64_t phys;
    uint64_t bytes;
};

struct blk_bridge_counts {
    uint64_t requests, reads, writes, flushes, bytes;
    uint64_t einval;             /* refused: bad op, range, address or size */
    uint64_t eio;                /* the device failed them */
    uint64_t responses;          /* answered */
    uint64_t response_ring_full; /* answers with no room: a client with too much out */
    uint64_t corrupt_rings;
    uint64_t doorbells, irqs;
    uint64_t bytes_copied; /* between the regions and the bounce buffers */
};

/* What the bridge does to the world; in tests, fakes. */
struct blk_bridge_io {
    /*
     * Starts a transfer of `len` bytes between the device at byte `offset`
     * and `buffer` (a read when `read`), or a flush (len 0); its completion
     * comes back through blk_bridge_complete with `slot`. 0, or -errno.
     */
    int (*submit)(void *ctx, unsigned slot, bool read, bool flush, uint64_t offset,
                  unsigned char *buffer, uint32_t len);
    /* Makes the submissions so far go (one system call for a batch). */
    void (*kick)(void *ctx);
    /* Rings the doorbell (a 32-bit write of `value`). */
    void (*ring)(void *ctx, uint32_t value);
    void *ctx;
};

struct blk_bridge_slot {
    bool busy;
    struct pn_blk_request request;
    unsigned char *region_data; /* where a read's data goes when it completes */
};

struct blk_bridge {
    struct pn_blk_server queue;
    struct blk_bridge_region regions[BLK_BRIDGE_MAX_REGIONS];
    unsigned n_regions;
    uint32_t block_size;
    uint64_t device_blocks;
    /* One bounce buffer a slot, of max_bytes: the largest request served. */
    unsigned char *bounce;
    uint32_t max_bytes;
    unsigned n_slots, busy;
    struct blk_bridge_slot slots[BLK_BRIDGE_MAX_SLOTS];
    bool requests_corrupt, responses_corrupt;
    struct blk_bridge_counts counts;
};

/*
 * Attaches to the queue pair (capacity slots) and records the regions, the
 * device's size and the bounce buffers (n_slots of max_bytes each, aligned
 * for O_DIRECT). False with a message on a bad size.
 */
bool blk_bridge_init(struct blk_bridge *b, void *queue, uint64_t queue_bytes, uint32_t capacity,
                     const struct blk_bridge_region *regions, unsigned n_regions,
                     uint32_t block_size, uint64_t device_bytes, unsigned char *bounce,
                     unsigned n_slots, uint32_t max_bytes, char *err, size_t err_size);

/*
 * Takes requests while a slot is free, starting each (or answering it at
 * once when refused), then kicks them off. When the request ring is empty
 * it asks to be notified (ring.h's protocol). Returns whether it stopped
 * for want of a free slot (look again after a completion).
 */
bool blk_bridge_serve(struct blk_bridge *b, const struct blk_bridge_io *io);

/* A transfer finished: `result` is its bytes, or -errno. Answers it. */
void blk_bridge_complete(struct blk_bridge *b, const struct blk_bridge_io *io, unsigned slot,
                         long result);

/* The counts as one JSON object on one line. Returns what snprintf returns. */
int blk_bridge_counts_json(const struct blk_bridge_counts *c, char *buf, size_t size);

#endif
