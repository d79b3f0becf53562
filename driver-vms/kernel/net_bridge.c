// SPDX-License-Identifier: GPL-2.0
/*
 * pinion_net_bridge: the network driver VM's bridge inside the guest
 * kernel. It moves frames between a network interface, driven by Linux's
 * own unmodified driver, and pinion's network queues, as the user-space
 * bridge (driver-vms/programs/net-bridge) does over a packet socket and
 * UIO, with the same queue logic (net_bridge_core.c) but none of the
 * socket layer, system calls, user space or UIO on the packet path:
 *
 *   receive   an rx_handler on the interface takes every frame off the
 *             receive path (after the driver's NAPI poll, before any
 *             protocol), copies it into a free buffer of the receive queue
 *             and gives it to the active ring;
 *   transmit  pinion's notification on the transmit channel is an
 *             interrupt that schedules a NAPI poll; the poll sends the
 *             frames of the transmit queue's active ring, at most a budget
 *             per poll, and returns their buffers. Only when the ring is
 *             empty does it ask to be notified again (pinion's
 *             request/cancel/require protocol, ring.h), so a busy queue
 *             costs no interrupts at all.
 *
 * Each of the VM's channels is a "pinion,channel" device tree node that
 * pinion's packer writes (docs/guest-dtb.md): reg 0 its doorbell page
 * (a write is a notification to the peer), reg 1 the queue pair, reg 2..
 * the data regions; its interrupt is the peer's notification. The shared
 * regions are mapped as Normal cacheable memory (memremap), the doorbell
 * as Device memory.
 *
 * Module parameters (pinion_net_bridge.NAME= on the kernel command line):
 * see the MODULE_PARM_DESC lines below and docs/driver-vms.md.
 */
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include "net_bridge.h"

static char *interface = "eth0";
module_param(interface, charp, 0444);
MODULE_PARM_DESC(interface, "the network interface to bridge (default eth0)");
static char *rx_channel = "rx";
module_param(rx_channel, charp, 0444);
MODULE_PARM_DESC(rx_channel,
		 "the receive queue's channel, by its local name (default rx)");
static char *tx_channel = "tx";
module_param(tx_channel, charp, 0444);
MODULE_PARM_DESC(
	tx_channel,
	"the transmit queue's channel, by its local name (default tx)");
static uint capacity = NET_BRIDGE_DEFAULT_CAPACITY;
module_param(capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "slots of every ring, a power of two (default 512)");
static uint buffer_size = NET_BRIDGE_DEFAULT_BUFFER_SIZE;
module_param(buffer_size, uint, 0444);
MODULE_PARM_DESC(buffer_size, "bytes of a buffer (default 2048)");
static uint budget = NAPI_POLL_WEIGHT;
module_param(budget, uint, 0444);
MODULE_PARM_DESC(budget, "frames sent per NAPI poll at most (default 64)");
static int tx_cpu = -1;
module_param(tx_cpu, int, 0444);
MODULE_PARM_DESC(
	tx_cpu,
	"the CPU that takes the transmit channel's interrupt, and so runs the "
	"transmit poll (default -1: wherever Linux puts it)");
static bool qdisc_bypass;
module_param(qdisc_bypass, bool, 0444);
MODULE_PARM_DESC(
	qdisc_bypass,
	"send straight to the device's queue, past the qdisc (default off)");
static unsigned long long die_after;
module_param(die_after, ullong, 0444);
MODULE_PARM_DESC(
	die_after,
	"test mode: panic after this many frames received (default 0: never)");
static unsigned long long report_every;
module_param(report_every, ullong, 0444);
MODULE_PARM_DESC(report_every, "print the counts each time this many more "
			       "frames moved (default 0: never)");
static uint report_idle_ms;
module_param(report_idle_ms, uint, 0444);
MODULE_PARM_DESC(report_idle_ms, "print the counts once no frame has moved for "
				 "this long (default 0: never)");

static struct bridge bridge;

static long pinion_bridge_receive(void *ctx, unsigned char *buf, size_t room)
{
	struct bridge *b = ctx;
	struct sk_buff *skb = b->pending;

	if (!skb)
		return 0;
	b->pending = NULL;
	if (!skb_is_nonlinear(skb))
		memcpy(buf, skb->data, min_t(size_t, skb->len, room));
	else if (skb_copy_bits(skb, 0, buf, min_t(size_t, skb->len, room)) < 0)
		return -EFAULT;
	return skb->len;
}

static int pinion_bridge_send(void *ctx, const unsigned char *frame, size_t len)
{
	struct bridge *b = ctx;
	struct sk_buff *skb = pinion_bridge_tx_skb(b, len);
	int rc;

	if (!skb)
		return -ENOMEM;
	skb_put_data(skb, frame, len);
	skb->dev = b->dev;
	skb_reset_mac_header(skb);
	skb->protocol = eth_hdr(skb)->h_proto;
	rc = pinion_bridge_xmit(b, skb);
	return net_xmit_eval(rc) == 0 ? 0 : -EIO;
}

int pinion_bridge_xmit(struct bridge *b, struct sk_buff *skb)
{
	return qdisc_bypass ? dev_direct_xmit(skb, 0) : dev_queue_xmit(skb);
}

struct bridge *pinion_bridge_instance(void)
{
	return &bridge;
}

enum net_bridge_step pinion_bridge_transmit(struct bridge *b, u32 budget)
{
	if (b->zero_copy)
		return pinion_bridge_transmit_zero_copy(b, budget);
	return net_bridge_transmit(&b->core, &b->io, budget);
}

static void pinion_bridge_ring(void *ctx, enum net_bridge_side side,
			       uint32_t value)
{
	struct bridge *b = ctx;

	writel(value, side == NET_BRIDGE_RX ? b->rx.doorbell : b->tx.doorbell);
}

void pinion_bridge_ring_tx(struct bridge *b)
{
	writel((u32)++b->core.counts.tx_doorbells, b->tx.doorbell);
}

static void pinion_bridge_print_counts(struct bridge *b)
{
	char json[512];

	net_bridge_counts_json(&b->core.counts, json, sizeof(json));
	pr_notice("pinion-net-bridge: %s\n", json);
}

static void pinion_bridge_idle_report(struct work_struct *work)
{
	pinion_bridge_print_counts(container_of(to_delayed_work(work),
						struct bridge, idle_report));
}

/*
 * After the bridge did some work: the counts each time report_every more
 * frames moved, and (re)arms the report for when it falls idle.
 */
void pinion_bridge_maybe_report(struct bridge *b)
{
	s64 moved = b->core.counts.rx_frames + b->core.counts.tx_frames;
	s64 due = atomic64_read(&b->next_report);

	if (report_idle_ms)
		mod_delayed_work(system_wq, &b->idle_report,
				 msecs_to_jiffies(report_idle_ms));
	if (!report_every || moved < due ||
	    atomic64_cmpxchg(&b->next_report, due, moved + report_every) != due)
		return;
	pinion_bridge_print_counts(b);
}

u32 pinion_bridge_budget(void)
{
	return budget;
}

static rx_handler_result_t pinion_bridge_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct bridge *b = rcu_dereference(skb->dev->rx_handler_data);
	enum net_bridge_step step;

	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;
	/* The driver pulled the Ethernet header; the queues carry whole frames. */
	skb_push(skb, skb->data - skb_mac_header(skb));
	b->pending = skb;
	step = net_bridge_receive(&b->core, &b->io, 1);
	b->pending = NULL;
	pinion_bridge_retire_rx_skb(b, skb);
	if (unlikely(step == NET_BRIDGE_DIE))
		panic("pinion-net-bridge: dying after %llu frames received "
		      "(die_after)\n",
		      (unsigned long long)b->core.counts.rx_frames);
	pinion_bridge_maybe_report(b);
	return RX_HANDLER_CONSUMED;
}

static int pinion_bridge_poll(struct napi_struct *napi, int poll_budget)
{
	struct bridge *b = container_of(napi, struct bridge, napi);
	u64 before = b->core.counts.tx_frames + b->core.counts.bad_tx_desc +
		     b->core.counts.tx_send_errors;
	enum net_bridge_step step = pinion_bridge_transmit(b, (u32)poll_budget);
	int done = (int)(b->core.counts.tx_frames + b->core.counts.bad_tx_desc +
			 b->core.counts.tx_send_errors - before);

	pinion_bridge_maybe_report(b);
	if (step == NET_BRIDGE_MORE)
		return poll_budget;
	if (napi_complete_done(napi, min(done, poll_budget - 1)) &&
	    step == NET_BRIDGE_STALLED)
		mod_timer(&b->stalled, jiffies + 1);
	return min(done, poll_budget - 1);
}

static void pinion_bridge_stalled(struct timer_list *t)
{
	struct bridge *b = from_timer(b, t, stalled);

	napi_schedule(&b->napi);
}

static irqreturn_t pinion_bridge_tx_irq(int irq, void *data)
{
	struct bridge *b = data;

	b->core.counts.tx_irqs++;
	/* Polling, it asks for no notification: one that raced with the withdrawal is ignored. */
	if (READ_ONCE(b->up) && !pinion_bridge_polling())
		napi_schedule(&b->napi);
	return IRQ_HANDLED;
}

/*
 * Frames are never held back for want of a buffer (they are dropped and
 * counted, as the user-space bridge drops them), so the receive queue's
 * notification has nothing to resume: it is only counted.
 */
static irqreturn_t pinion_bridge_rx_irq(int irq, void *data)
{
	struct bridge *b = data;

	b->core.counts.rx_irqs++;
	return IRQ_HANDLED;
}

/* Starts once both channels are probed and the interface exists. */
static void pinion_bridge_attach(struct work_struct *work)
{
	struct bridge *b = container_of(work, struct bridge, attach);
	char err[NET_BRIDGE_ERROR_MAX];
	struct net_device *dev;
	int rc;

	if (!b->rx.present || !b->tx.present || b->up)
		return;
	rtnl_lock();
	dev = __dev_get_by_name(&init_net, interface);
	/*
	 * Taken over only once up (init brings it up), when its driver is done
	 * setting it up; the netdevice notifier calls again when it comes up.
	 */
	if (!dev || !netif_running(dev)) {
		rtnl_unlock();
		return;
	}
	if (!net_bridge_init(&b->core, b->rx.queue, b->rx.queue_bytes,
			     b->rx.data[0], b->tx.queue, b->tx.queue_bytes,
			     b->tx.data, b->tx.n_data, capacity, buffer_size,
			     die_after, err, sizeof(err))) {
		rtnl_unlock();
		pr_err("pinion-net-bridge: %s\n", err);
		return;
	}
	b->dev = dev;
	/* Frames must reach the queues as they came off the wire (no merged segments). */
	dev->wanted_features &= ~NETIF_F_GRO;
	netdev_update_features(dev);
	rc = dev_set_promiscuity(dev, 1);
	if (!rc)
		rc = netdev_rx_handler_register(dev, pinion_bridge_rx_handler,
						b);
	rtnl_unlock();
	if (rc) {
		pr_err("pinion-net-bridge: cannot take over %s: error %d\n",
		       interface, rc);
		return;
	}
	b->zero_copy = pinion_bridge_zero_copy(b);
	napi_enable(&b->napi);
	if (pinion_bridge_polling()) {
		rc = pinion_bridge_start_polling(b, tx_cpu);
		if (rc) {
			pr_err("pinion-net-bridge: cannot start polling: error "
			       "%d\n",
			       rc);
			return;
		}
	}
	WRITE_ONCE(b->up, true);
	pr_notice("pinion-net-bridge: up: %s, %u transmit regions, capacity "
		  "%u, buffers of %u bytes%s%s\n",
		  interface, b->tx.n_data, capacity, buffer_size,
		  qdisc_bypass ? ", qdisc bypassed" : "",
		  b->zero_copy ? ", zero-copy transmission" : "");
	/* Frames the peer queued before we were up, and the first signal request. */
	if (!pinion_bridge_polling())
		napi_schedule(&b->napi);
}

static int pinion_bridge_netdev_event(struct notifier_block *nb,
				      unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_UP && !strcmp(dev->name, interface))
		schedule_work(&bridge.attach);
	return NOTIFY_DONE;
}

static struct notifier_block bridge_notifier = {
	.notifier_call = pinion_bridge_netdev_event,
};

static int pinion_bridge_probe(struct platform_device *pdev)
{
	struct device *d = &pdev->dev;
	struct bridge_channel *ch;
	const char *name;
	struct resource *res;
	unsigned int i;
	int rc;

	if (of_property_read_string(d->of_node, "linux,uio-name", &name))
		name = d->of_node->name;
	if (!strcmp(name, rx_channel))
		ch = &bridge.rx;
	else if (!strcmp(name, tx_channel))
		ch = &bridge.tx;
	else
		return -ENODEV; /* a channel for some other driver */
	if (ch->present)
		return -EBUSY;

	res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	if (!res)
		return dev_err_probe(d, -EINVAL, "channel %s has no doorbell\n",
				     name);
	ch->doorbell = devm_ioremap(d, res->start, resource_size(res));
	res = platform_get_resource(pdev, IORESOURCE_MEM, 1);
	if (!ch->doorbell || !res)
		return dev_err_probe(d, -EINVAL, "channel %s has no queue\n",
				     name);
	ch->queue =
		devm_memremap(d, res->start, resource_size(res), MEMREMAP_WB);
	if (IS_ERR(ch->queue))
		return dev_err_probe(d, PTR_ERR(ch->queue),
				     "cannot map %s's queue\n", name);
	ch->queue_bytes = resource_size(res);
	for (i = 0; i < NET_BRIDGE_MAX_TX_REGIONS; i++) {
		void *base;

		res = platform_get_resource(pdev, IORESOURCE_MEM, 2 + i);
		if (!res)
			break;
		base = devm_memremap(d, res->start, resource_size(res),
				     MEMREMAP_WB);
		if (IS_ERR(base))
			return dev_err_probe(d, PTR_ERR(base),
					     "cannot map %s's region %u\n",
					     name, i);
		ch->data[i] = (struct net_bridge_region){
			.base = base,
			.phys = res->start,
			.bytes = resource_size(res)
		};
	}
	ch->n_data = i;
	if (!ch->n_data)
		return dev_err_probe(d, -EINVAL,
				     "channel %s has no data region\n", name);
	ch->irq = platform_get_irq(pdev, 0);
	if (ch->irq < 0)
		return ch->irq;
	rc = devm_request_irq(d, ch->irq,
			      ch == &bridge.tx ? pinion_bridge_tx_irq
					       : pinion_bridge_rx_irq,
			      0,
			      ch == &bridge.tx ? "pinion-net-bridge-tx"
					       : "pinion-net-bridge-rx",
			      &bridge);
	if (rc)
		return rc;
	/*
	 * With two vCPUs the transmit work can run beside the receive work
	 * (on the CPU of the device's interrupt) instead of after it.
	 */
	if (ch == &bridge.tx && tx_cpu >= 0) {
		if (!cpu_possible(tx_cpu))
			return dev_err_probe(
				d, -EINVAL, "tx_cpu %d: no such CPU\n", tx_cpu);
		rc = irq_set_affinity(ch->irq, cpumask_of(tx_cpu));
		if (rc)
			return dev_err_probe(d, rc,
					     "cannot send the transmit "
					     "interrupt to CPU %d\n",
					     tx_cpu);
	}
	ch->present = true;
	schedule_work(&bridge.attach);
	return 0;
}

static const struct of_device_id bridge_of_match[] = {
	{ .compatible = "pinion,channel" }, {}
};

static struct platform_driver bridge_driver = {
	.probe = pinion_bridge_probe,
	.driver = {
		.name = "pinion-net-bridge",
		.of_match_table = bridge_of_match,
		.suppress_bind_attrs = true,
	},
};

static int __init pinion_bridge_init(void)
{
	int rc;

	if (!is_power_of_2(capacity) ||
	    buffer_size < NET_BRIDGE_MIN_BUFFER_SIZE ||
	    buffer_size > NET_BRIDGE_MAX_BUFFER_SIZE || !budget) {
		pr_err("pinion-net-bridge: capacity must be a power of two, "
		       "buffer_size %u to %u, budget positive\n",
		       NET_BRIDGE_MIN_BUFFER_SIZE, NET_BRIDGE_MAX_BUFFER_SIZE);
		return -EINVAL;
	}
	bridge.io = (struct net_bridge_io){
		.receive = pinion_bridge_receive,
		.send = pinion_bridge_send,
		.ring = pinion_bridge_ring,
		.ctx = &bridge,
	};
	atomic64_set(&bridge.next_report, report_every);
	pinion_bridge_skbs_init(&bridge);
	INIT_WORK(&bridge.attach, pinion_bridge_attach);
	INIT_DELAYED_WORK(&bridge.idle_report, pinion_bridge_idle_report);
	timer_setup(&bridge.stalled, pinion_bridge_stalled, 0);
	init_dummy_netdev(&bridge.napi_dev);
	netif_napi_add_weight(&bridge.napi_dev, &bridge.napi,
			      pinion_bridge_poll, budget);
	rc = register_netdevice_notifier(&bridge_notifier);
	if (rc)
		return rc;
	return platform_driver_register(&bridge_driver);
}
device_initcall(pinion_bridge_init);

MODULE_DESCRIPTION("pinion: a network interface bridged to pinion's queues, in "
		   "the kernel");
MODULE_LICENSE("GPL");
