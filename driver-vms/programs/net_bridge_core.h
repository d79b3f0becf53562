/*
 * The logic of net-bridge, the user-space bridge between Linux's network
 * device inside a driver VM and pinion's network queues, as LionsOS bridges
 * its driver VMs: its command line, the receive and transmit paths with
 * pinion's signalling protocol, and its counts. The program (net-bridge.c)
 * supplies the system calls: a packet socket on the interface, the UIO
 * devices' maps, doorbells and interrupts. The host unit tests
 * (tests/linux/test_net_bridge.c) drive this file with fake rings and a
 * fake socket.
 *
 * The bridge takes the place of pinion's native virtio-net driver
 * (drivers/virtio/virtio_net.c) and plays its roles on the same queues:
 *   rx  it is the filler: it takes free buffers (offsets into the receive
 *       data region), receives a frame into one and gives it to the active
 *       ring with its length;
 *   tx  it is the drainer: it takes frames to send (descriptors carrying
 *       physical addresses inside the clients' transmit regions), sends
 *       each, and returns the buffer to the free ring with length 0 and
 *       the same address.
 * Everything a peer hands over is checked, and what fails is dropped and
 * counted, never followed.
 */
#ifndef PINION_NET_BRIDGE_CORE_H
#define PINION_NET_BRIDGE_CORE_H

#include <pinion/net_queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_BRIDGE_DEFAULT_CAPACITY    512u
#define NET_BRIDGE_DEFAULT_BUFFER_SIZE 2048u
#define NET_BRIDGE_MIN_BUFFER_SIZE     64u
#define NET_BRIDGE_MAX_BUFFER_SIZE     65536u
#define NET_BRIDGE_MAX_CAPACITY        32768u
/* The transmit regions are maps 2..4 of the tx device (a UIO device has 5 maps). */
#define NET_BRIDGE_MAX_TX_REGIONS 3
#define NET_BRIDGE_ERROR_MAX      512

/* A shared data region: where the bridge sees it, and where it is physically. */
struct net_bridge_region {
    unsigned char *base;
    uint64_t phys;
    uint64_t bytes;
};

struct net_bridge_counts {
    uint64_t rx_frames;            /* received and given to the rx active ring */
    uint64_t tx_frames;            /* sent from the tx active ring */
    uint64_t rx_dropped_no_buffer; /* received with no free buffer to put it in */
    uint64_t rx_dropped_too_long;  /* longer than a buffer */
    uint64_t rx_dropped_ring_full; /* the rx active ring had no room (a peer holding too much) */
    uint64_t bad_free_desc;        /* rx free descriptors that name no buffer of the region */
    uint64_t bad_tx_desc;          /* tx descriptors outside every transmit region */
    uint64_t tx_send_errors;       /* the socket refused a frame: counted, buffer returned */
    uint64_t rx_receive_errors;    /* the socket failed (other than "nothing waiting") */
    uint64_t corrupt_rings;        /* rings whose peer index became impossible */
    uint64_t rx_doorbells;         /* notifications to the rx peer */
    uint64_t tx_doorbells;         /* notifications to the tx peer */
    uint64_t rx_irqs;              /* interrupts from the rx peer */
    uint64_t tx_irqs;              /* interrupts from the tx peer */
    uint64_t rx_bytes;             /* copied into receive buffers (socket or its ring) */
    uint64_t tx_bytes;             /* copied by the socket out of transmit buffers */
    uint64_t tx_batches;           /* calls of io->send_batch */
    uint64_t polls;                /* waits for an event (the kernel bridge: none) */
};

enum net_bridge_side { NET_BRIDGE_RX, NET_BRIDGE_TX };

/* Frames handed to send_batch at most at once; a larger budget makes several batches. */
#define NET_BRIDGE_TX_BATCH_MAX 64

/* A frame to send: where it is in the bridge's view of a transmit region. */
struct net_bridge_frame {
    const unsigned char *data;
    uint32_t len;
};

/* What the bridge does to the world; in tests, fakes. */
struct net_bridge_io {
    /*
     * Receives the next frame waiting on the interface into buf (at most
     * capacity bytes). Returns its whole length, which exceeds capacity
     * when it was cut short; 0 when no frame is waiting; -errno on failure.
     */
    long (*receive)(void *ctx, unsigned char *buf, size_t capacity);
    /* Sends one frame: 0, or -errno. */
    int (*send)(void *ctx, const unsigned char *frame, size_t len);
    /*
     * Optional (NULL: `send` for each frame). Sends frames[0..n), 1 <= n <=
     * NET_BRIDGE_TX_BATCH_MAX, in order. Returns how many of the first went
     * out, each copied out of its buffer by then (the buffers go back to
     * the peer as soon as it returns), or -errno when the first could not.
     */
    int (*send_batch)(void *ctx, const struct net_bridge_frame *frames, uint32_t n);
    /* Rings a side's doorbell (a 32-bit write of `value` at its offset 0). */
    void (*ring)(void *ctx, enum net_bridge_side side, uint32_t value);
    void *ctx;
};

struct net_bridge {
    struct pn_net_filler rx;  /* free receive buffers in, received frames out */
    struct pn_net_drainer tx; /* frames to send in, sent buffers out */
    struct net_bridge_region rx_data;
    struct net_bridge_region tx_data[NET_BRIDGE_MAX_TX_REGIONS];
    unsigned n_tx_data;
    uint32_t capacity, buffer_size;
    uint64_t die_after;
    /* A free buffer taken before a frame was there to fill it. */
    bool holding;
    struct pn_net_desc held;
    bool rx_free_corrupt, rx_active_corrupt, tx_active_corrupt, tx_free_corrupt;
    struct net_bridge_counts counts;
    /* The batch being sent with send_batch: its descriptors, and its frames. */
    struct pn_net_desc tx_batch_desc[NET_BRIDGE_TX_BATCH_MAX];
    struct net_bridge_frame tx_batch[NET_BRIDGE_TX_BATCH_MAX];
};

/*
 * Attaches to the rx queue pair (we fill it) and the tx queue pair (we
 * drain it), both formatted by whoever built the system, and records the
 * data regions. False with a message if the capacity is not a power of
 * two or a region cannot hold what it must.
 */
bool net_bridge_init(struct net_bridge *b, void *rx_queue, uint64_t rx_queue_bytes,
                     struct net_bridge_region rx_data, void *tx_queue, uint64_t tx_queue_bytes,
                     const struct net_bridge_region *tx_data, unsigned n_tx_data, uint32_t capacity,
                     uint32_t buffer_size, uint64_t die_after, char *err, size_t err_size);

enum net_bridge_step {
    NET_BRIDGE_IDLE,    /* nothing left to do: wait for an event */
    NET_BRIDGE_MORE,    /* stopped at the batch limit: call again before waiting */
    NET_BRIDGE_STALLED, /* the tx free ring is full: frames wait; look again soon */
    NET_BRIDGE_DIE,     /* --die-after reached */
};

/*
 * Moves frames waiting on the interface into receive buffers and on to the
 * rx active ring, at most `budget` of them, then rings the rx doorbell if
 * the peer asked to be woken. Out of free buffers, it asks the peer to
 * signal when it returns some, and drops (and counts) what arrives
 * meanwhile.
 */
enum net_bridge_step net_bridge_receive(struct net_bridge *b, const struct net_bridge_io *io,
                                        uint32_t budget);

/*
 * Sends the frames of the tx active ring, at most `budget`, returns their
 * buffers to the free ring, asks to be signalled once the active ring is
 * empty, and rings the tx doorbell if the peer asked to be woken. With
 * io->send_batch, the frames go in batches of as many as the free ring has
 * room for (at most NET_BRIDGE_TX_BATCH_MAX), their buffers returned after
 * the batch.
 */
enum net_bridge_step net_bridge_transmit(struct net_bridge *b, const struct net_bridge_io *io,
                                         uint32_t budget);

/* Both directions, a batch of `capacity` each. */
enum net_bridge_step net_bridge_service(struct net_bridge *b, const struct net_bridge_io *io);

/*
 * Where the frame a tx descriptor names lies in the bridge's view of the
 * transmit regions, or NULL when it is empty, longer than a buffer, or not
 * wholly inside one region.
 */
const unsigned char *net_bridge_tx_frame(const struct net_bridge *b, struct pn_net_desc d);

/* The counts as one JSON object on one line. Returns what snprintf returns. */
int net_bridge_counts_json(const struct net_bridge_counts *c, char *buf, size_t size);

#endif
