/*
 * Batched transmission on a packet socket, the transmit path of
 * net-bridge --tx-batch: the frames of one batch go to the kernel with a
 * single sendmmsg() instead of one send() each, so the system call's entry
 * and exit and the socket's lookup are paid once per batch. The kernel
 * still copies each frame into an skb of its own before sendmmsg()
 * returns, so the buffers may be reused at once. Includers define
 * _GNU_SOURCE (struct mmsghdr) before any system header.
 */
#ifndef PINION_PACKET_BATCH_H
#define PINION_PACKET_BATCH_H

#include "net_bridge_core.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct packet_batch {
    int sock;
    const volatile sig_atomic_t *stop; /* retry an interrupted call unless this is set */
    struct mmsghdr messages[NET_BRIDGE_TX_BATCH_MAX];
    struct iovec frames[NET_BRIDGE_TX_BATCH_MAX];
};

void packet_batch_init(struct packet_batch *batch, int sock, const volatile sig_atomic_t *stop);

/*
 * Sends frames[0..n) (1 <= n <= NET_BRIDGE_TX_BATCH_MAX) in order with one
 * sendmmsg(). Returns how many of the first were sent, or -errno when the
 * first was refused (the net_bridge_io send_batch contract).
 */
int packet_batch_send(struct packet_batch *batch, const struct net_bridge_frame *frames,
                      uint32_t n);

#endif
