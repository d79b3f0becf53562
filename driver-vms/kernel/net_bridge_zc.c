// SPDX-License-Identifier: GPL-2.0
/*
 * pinion_net_bridge's zero-copy transmission (zero_copy_tx=1). Copying,
 * the bridge copies every frame of the transmit queue into an skb and
 * returns its buffer at once. Zero-copy, the skb carries no copy: its one
 * fragment is the client's buffer itself, which the device reads, and the
 * buffer goes back to the free ring only when the device is done with it
 * and the driver frees the skb (the skb's destructor). That needs pages
 * for the clients' regions, which Linux has when they are in the guest's
 * memory map (the VM's "regions_in_guest_ram": they are then reserved
 * memory, mapped cacheable, never allocated).
 *
 * Every buffer is still always somewhere it can be found: in a ring, or in
 * flight in the device. A frame is taken only while the free ring has room
 * for every buffer in flight, so that each return finds room.
 *
 * A frame in a fragment needs a device that gathers (NETIF_F_SG): for one
 * that does not, Linux copies every such frame into one piece before the
 * driver sees it, which only moves the copy. virtio-net gathers only with
 * its checksum offload, which QEMU's socket backend (pinion's runs) does
 * not offer; zero_copy_tx=1 then says so and copies, zero_copy_tx=2 goes
 * on regardless (to test this path on such a device).
 */
#include <linux/etherdevice.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "net_bridge.h"

static uint zero_copy_tx;
module_param(zero_copy_tx, uint, 0444);
MODULE_PARM_DESC(
	zero_copy_tx,
	"transmit frames from the clients' buffers themselves, without copying "
	"them, when the device gathers (1) or always (2); needs the VM's "
	"regions in its memory map (default 0: copy)");

/* Only the zero-copy path itself and its destructor touch the free ring then. */
static DEFINE_SPINLOCK(free_ring_lock);

bool pinion_bridge_zero_copy(struct bridge *b)
{
	unsigned int i;

	if (!zero_copy_tx)
		return false;
	for (i = 0; i < b->tx.n_data; i++) {
		if (!virt_addr_valid(b->tx.data[i].base)) {
			pr_err("pinion-net-bridge: zero_copy_tx needs the "
			       "transmit regions in the guest's memory map "
			       "(the VM's \"regions_in_guest_ram\"): "
			       "copying\n");
			return false;
		}
	}
	if (!(b->dev->features & NETIF_F_SG) && zero_copy_tx == 1) {
		pr_notice("pinion-net-bridge: %s cannot gather (no "
			  "NETIF_F_SG): Linux would copy each frame anyway, so "
			  "the bridge copies\n",
			  b->dev->name);
		return false;
	}
	return true;
}

/* The device is done with the frame: its buffer goes back to the client. */
static void pinion_bridge_zc_done(struct sk_buff *skb)
{
	struct bridge *b = pinion_bridge_instance();
	/* The buffer's address as its descriptor gave it: the fragment may have been pulled. */
	struct pn_net_desc back = {
		.offset = (uintptr_t)skb_shinfo(skb)->destructor_arg,
	};
	unsigned long flags;
	bool ring;

	spin_lock_irqsave(&free_ring_lock, flags);
	pn_net_give_free(&b->core.tx, back);
	b->in_flight--;
	ring = pn_ring_require_signal(&b->core.tx.free);
	spin_unlock_irqrestore(&free_ring_lock, flags);
	if (ring)
		pinion_bridge_ring_tx(b);
}

/* Counts a ring whose peer went wrong, once; it then looks empty or full. */
static void note_corrupt(struct net_bridge *core, bool *flag)
{
	if (!*flag) {
		*flag = true;
		core->counts.corrupt_rings++;
	}
}

/* One frame, sent from its buffer: false when it could not be sent (counted). */
static bool send_in_place(struct bridge *b, const unsigned char *frame,
			  struct pn_net_desc d)
{
	struct sk_buff *skb = pinion_bridge_tx_skb(b, 0);
	struct page *page = virt_to_page(frame);
	unsigned long flags;
	int rc;

	if (!skb)
		return false;
	get_page(page);
	skb_fill_page_desc(skb, 0, page, offset_in_page(frame), d.len);
	skb->len = skb->data_len = d.len;
	skb->truesize += d.len;
	skb->dev = b->dev;
	skb_reset_mac_header(skb);
	skb->protocol = ((const struct ethhdr *)frame)->h_proto;
	skb->destructor = pinion_bridge_zc_done;
	skb_shinfo(skb)->destructor_arg = (void *)(uintptr_t)d.offset;
	spin_lock_irqsave(&free_ring_lock, flags);
	b->in_flight++;
	spin_unlock_irqrestore(&free_ring_lock, flags);
	/* Failed or not, the skb is freed in the end, and its destructor returns the buffer. */
	rc = pinion_bridge_xmit(b, skb);
	return net_xmit_eval(rc) == 0;
}

enum net_bridge_step pinion_bridge_transmit_zero_copy(struct bridge *b,
						      u32 budget)
{
	struct net_bridge *core = &b->core;
	enum pn_ring_status status;
	struct pn_net_desc d;
	unsigned long flags;
	u32 done = 0;

	for (;;) {
		u32 space;

		if (done == budget)
			return NET_BRIDGE_MORE;
		spin_lock_irqsave(&free_ring_lock, flags);
		space = pn_ring_producer_space(&core->tx.free, &status);
		space = space > b->in_flight ? space - b->in_flight : 0;
		spin_unlock_irqrestore(&free_ring_lock, flags);
		if (!space) {
			if (status != PN_RING_CORRUPT)
				return NET_BRIDGE_STALLED;
			note_corrupt(core, &core->tx_free_corrupt);
			return NET_BRIDGE_IDLE;
		}
		status = pn_net_take_active(&core->tx, &d);
		if (status == PN_RING_OK) {
			const unsigned char *frame =
				net_bridge_tx_frame(core, d);

			done++;
			if (!frame) {
				core->counts
					.bad_tx_desc++; /* not followed, not returned */
				continue;
			}
			if (!send_in_place(b, frame, d)) {
				core->counts.tx_send_errors++;
				continue;
			}
			core->counts.tx_frames++;
			/* A device that cannot gather has Linux copy the frame: still a copy. */
			if (!(b->dev->features & NETIF_F_SG))
				core->counts.tx_bytes += d.len;
			continue;
		}
		if (status == PN_RING_CORRUPT) {
			note_corrupt(core, &core->tx_active_corrupt);
			return NET_BRIDGE_IDLE;
		}
		/* Empty: ask to be notified, then look once more (ring.h's protocol). */
		pn_ring_request_signal(&core->tx.active);
		if (pn_ring_consumer_empty(&core->tx.active))
			return NET_BRIDGE_IDLE;
		pn_ring_cancel_signal(&core->tx.active);
	}
}
