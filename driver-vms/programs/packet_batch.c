/* net-bridge's batched transmission (see packet_batch.h). */
#define _GNU_SOURCE /* sendmmsg */

#include "packet_batch.h"

#include <errno.h>

void packet_batch_init(struct packet_batch *batch, int sock, const volatile sig_atomic_t *stop)
{
    *batch = (struct packet_batch){.sock = sock, .stop = stop};
    for (uint32_t i = 0; i < NET_BRIDGE_TX_BATCH_MAX; i++) {
        /* One frame per message; the socket is bound, so no address. */
        batch->messages[i].msg_hdr.msg_iov = &batch->frames[i];
        batch->messages[i].msg_hdr.msg_iovlen = 1;
    }
}

int packet_batch_send(struct packet_batch *batch, const struct net_bridge_frame *frames, uint32_t n)
{
    if (n == 0 || n > NET_BRIDGE_TX_BATCH_MAX) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < n; i++) {
        /* sendmsg takes a non-const base; the kernel only reads it. */
        batch->frames[i].iov_base = (void *)(uintptr_t)frames[i].data;
        batch->frames[i].iov_len = frames[i].len;
    }
    int sent;
    do {
        /*
         * A failure after some frames went out is reported as their count;
         * the caller then calls again from the refused frame, which fails
         * first and comes back as -errno.
         */
        sent = sendmmsg(batch->sock, batch->messages, n, 0);
    } while (sent < 0 && errno == EINTR && !*batch->stop);
    return sent < 0 ? -errno : sent;
}
