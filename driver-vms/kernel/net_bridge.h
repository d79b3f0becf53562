/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinion_net_bridge's state, shared by its files: net_bridge.c (the
 * channels, the interface, receive and transmit) and net_bridge_skb.c
 * (where a transmitted frame's skb comes from).
 */
#ifndef PINION_NET_BRIDGE_H
#define PINION_NET_BRIDGE_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include "net_bridge_core.h"

/* Received skbs kept for transmission at most (a power of two): enough to absorb a burst. */
#define PINION_BRIDGE_SPARES 64

/* One of the VM's channels: its doorbell, its queue pair and data regions, its interrupt. */
struct bridge_channel {
	bool present;
	void __iomem *doorbell;
	void *queue;
	u64 queue_bytes;
	struct net_bridge_region data[NET_BRIDGE_MAX_TX_REGIONS];
	unsigned int n_data;
	int irq;
};

struct bridge {
	struct bridge_channel rx, tx;
	struct net_device *dev;
	struct net_bridge core;
	struct net_bridge_io io;
	/* The frame the rx_handler is handing to the core's receive path. */
	struct sk_buff *pending;
	/* A NAPI context on a dummy device: where the transmit work runs. */
	struct net_device napi_dev;
	struct napi_struct napi;
	/* Retries a transmit that found the free ring full (a peer holding too much). */
	struct timer_list stalled;
	struct work_struct attach;
	/* The counts printed once the bridge has been idle for report_idle_ms. */
	struct delayed_work idle_report;
	bool up;
	atomic64_t next_report;
	/*
	 * Received skbs kept to carry transmitted frames (recycle_skbs): a
	 * ring with one producer (the receive path, which runs in one NAPI
	 * poll at a time) and one consumer (the transmit poll), so neither
	 * side takes a lock, even with the two on different vCPUs.
	 */
	struct sk_buff *spare[PINION_BRIDGE_SPARES];
	unsigned int spare_head, spare_tail;
	/* zero_copy_tx: buffers the device holds, to be returned by the skbs' destructor. */
	u32 in_flight;
	bool zero_copy;
};

void pinion_bridge_skbs_init(struct bridge *b);

/* A received skb whose frame went into the queues: kept for a transmission, or freed. */
void pinion_bridge_retire_rx_skb(struct bridge *b, struct sk_buff *skb);

/* An skb with room for a frame of len bytes, empty, from the spares or new; NULL when out of memory. */
struct sk_buff *pinion_bridge_tx_skb(struct bridge *b, unsigned int len);

/* net_bridge.c: the one bridge; frames a transmit poll sends at most; the counts when due. */
struct bridge *pinion_bridge_instance(void);
u32 pinion_bridge_budget(void);
void pinion_bridge_maybe_report(struct bridge *b);
/* Sends the frames of the transmit queue, at most budget, copying or not. */
enum net_bridge_step pinion_bridge_transmit(struct bridge *b, u32 budget);
/* Hands an skb to the device (the qdisc bypassed or not); a dev_queue_xmit status. */
int pinion_bridge_xmit(struct bridge *b, struct sk_buff *skb);
/* Notifies the transmit multiplexer (buffers it asked to hear of came back). */
void pinion_bridge_ring_tx(struct bridge *b);

/* net_bridge_zc.c: whether zero_copy_tx=1 (and its regions have pages), and its transmit. */
bool pinion_bridge_zero_copy(struct bridge *b);
enum net_bridge_step pinion_bridge_transmit_zero_copy(struct bridge *b,
						      u32 budget);

/* net_bridge_poll.c: whether poll_tx=1, and its thread, bound to cpu (or anywhere, -1). */
bool pinion_bridge_polling(void);
int pinion_bridge_start_polling(struct bridge *b, int cpu);

#endif
