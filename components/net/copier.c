/*
 * Receive copier, one per client: copies each frame from the device's
 * receive buffer into one of the client's own buffers and gives the
 * device's buffer straight back. So a client never sees another's data,
 * and a slow client cannot hold the device's buffers: when it has no free
 * buffer, or no room for another frame, the frame is dropped here and
 * counted (client_no_buffer).
 *
 * Wiring: "virt_queue" (pair with the rx multiplexer, which fills it; we
 * drain it), "rx_dma" (device buffers, read-only), "client_queue" (pair
 * with the client, which drains it; we fill it), "client_data" (the
 * client's receive buffers), channels "virt", "client", parameters
 * "capacity", "buffer_size".
 */
#include "net_wiring.h"

#include <pinion/component.h>

static struct pn_net_drainer virt;
static struct pn_net_filler client;
static pn_channel virt_ch, client_ch;
static const uint8_t *rx_dma;
static uint8_t *client_data;
static uint64_t rx_dma_size, client_data_size;
static uint32_t buffer_size;
static uint64_t *copied, *copied_bytes, *no_buffer, *bad_virt_desc, *bad_client_desc;

static void copy_frames(void);

void init(void)
{
    uint32_t capacity = net_require_capacity();
    buffer_size = net_buffer_size();
    net_require_drainer(&virt, "virt_queue", capacity);
    net_require_filler(&client, "client_queue", capacity);
    virt_ch = pn_require_channel("virt");
    client_ch = pn_require_channel("client");
    rx_dma = pn_require_region("rx_dma", buffer_size, &rx_dma_size);
    client_data = pn_require_region("client_data", buffer_size, &client_data_size);
    copied = pn_counter("copied");
    copied_bytes = pn_counter("copied_bytes");
    no_buffer = pn_counter("client_no_buffer");
    bad_virt_desc = pn_counter("bad_virt_desc");
    bad_client_desc = pn_counter("bad_client_desc");
    /* Ask to be signalled: frames may have come before we asked. */
    copy_frames();
}

/* A free buffer of the client's, checked; false when the client has none. */
static bool take_client_buffer(struct pn_net_desc *out)
{
    while (pn_net_take_free(&client, out) == PN_RING_OK) {
        if (pn_net_desc_valid(*out, client_data_size, buffer_size)) {
            return true;
        }
        ++*bad_client_desc;
    }
    return false;
}

static void copy_frames(void)
{
    bool gave = false, returned = false;
    struct pn_net_desc from;
    for (;;) {
        if (pn_net_take_active(&virt, &from) != PN_RING_OK) {
            pn_ring_request_signal(&virt.active);
            if (pn_ring_consumer_empty(&virt.active)) {
                break;
            }
            pn_ring_cancel_signal(&virt.active);
            continue;
        }
        if (!pn_net_desc_valid(from, rx_dma_size, buffer_size)) {
            ++*bad_virt_desc; /* not a device buffer: never followed, never returned */
            continue;
        }
        struct pn_net_desc to;
        /* Room in the client's ring first: a buffer taken for a frame that cannot go is lost. */
        if (!pn_ring_producer_full(&client.active) && take_client_buffer(&to)) {
            __builtin_memcpy(client_data + to.offset, rx_dma + from.offset, from.len);
            to.len = from.len;
            pn_net_give_active(&client, to);
            ++*copied;
            *copied_bytes += from.len;
            gave = true;
        } else {
            ++*no_buffer;
        }
        pn_net_give_free(&virt, (struct pn_net_desc){.offset = from.offset});
        returned = true;
    }
    if (gave && pn_ring_require_signal(&client.active)) {
        pn_notify(client_ch);
    }
    if (returned && pn_ring_require_signal(&virt.free)) {
        pn_notify(virt_ch);
    }
}

void notified(pn_channel ch)
{
    (void)ch; /* frames from the multiplexer or buffers from the client: copy what can be */
    copy_frames();
}
