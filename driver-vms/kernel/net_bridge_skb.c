// SPDX-License-Identifier: GPL-2.0
/*
 * Where pinion_net_bridge's transmitted frames get their skbs. Each frame
 * received costs an skb that the device's driver allocated and the bridge
 * frees once the frame is copied into a queue buffer; each frame
 * transmitted costs an skb the bridge allocates and the driver frees once
 * the device sent it: two allocations and two frees per echoed packet,
 * the largest part of the guest's work in the profile (docs/net-optimise.md).
 *
 * With recycle_skbs=1, a received skb that is plain (linear, neither
 * cloned nor shared, no owner) is kept, scrubbed of its receive state,
 * on a short list instead of being freed, and the next transmitted frame
 * is copied into it instead of into a new skb: one allocation and one
 * free per packet instead of two each. The Linux bridge does the same
 * when it forwards: a received skb is transmitted as it is. The receive
 * path only hands the skb over (through a lock-free ring); the transmit
 * poll scrubs it, so that with two vCPUs the busier receive side does the
 * least.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/module.h>

#include "net_bridge.h"

static bool recycle_skbs;
module_param(recycle_skbs, bool, 0444);
MODULE_PARM_DESC(
	recycle_skbs,
	"carry transmitted frames in the skbs of received ones (default off)");

void pinion_bridge_skbs_init(struct bridge *b)
{
	b->spare_head = b->spare_tail = 0;
}

static bool recyclable(const struct sk_buff *skb)
{
	return !skb_is_nonlinear(skb) && !skb_cloned(skb) &&
	       refcount_read(&skb->users) == 1 && !skb->sk &&
	       !skb->destructor && skb_end_offset(skb) >= NET_SKB_PAD;
}

/* On the receive path: as little as can be, since that vCPU is the busier one. */
void pinion_bridge_retire_rx_skb(struct bridge *b, struct sk_buff *skb)
{
	unsigned int tail = b->spare_tail;

	if (!recycle_skbs || !recyclable(skb) ||
	    tail - smp_load_acquire(&b->spare_head) == PINION_BRIDGE_SPARES) {
		consume_skb(skb);
		return;
	}
	b->spare[tail % PINION_BRIDGE_SPARES] = skb;
	smp_store_release(&b->spare_tail, tail + 1);
}

static struct sk_buff *take_spare(struct bridge *b)
{
	unsigned int head = b->spare_head;
	struct sk_buff *skb;

	if (head == smp_load_acquire(&b->spare_tail))
		return NULL;
	skb = b->spare[head % PINION_BRIDGE_SPARES];
	smp_store_release(&b->spare_head, head + 1);
	/* Nothing of the receive path may go out with the next frame. */
	skb_scrub_packet(skb, true);
	skb->ip_summed = CHECKSUM_NONE;
	skb->csum_valid = 0;
	skb_clear_hash(skb);
	__vlan_hwaccel_clear_tag(skb);
	memset(skb->cb, 0, sizeof(skb->cb));
	skb->data = skb->head + NET_SKB_PAD;
	skb->len = 0;
	skb_reset_tail_pointer(skb);
	return skb;
}

struct sk_buff *pinion_bridge_tx_skb(struct bridge *b, unsigned int len)
{
	struct sk_buff *skb = recycle_skbs ? take_spare(b) : NULL;

	if (skb) {
		if (skb_tailroom(skb) >= len)
			return skb;
		consume_skb(skb); /* a frame longer than the received one was */
	}
	return napi_alloc_skb(&b->napi, len);
}
