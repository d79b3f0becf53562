// SPDX-License-Identifier: GPL-2.0
/*
 * pinion_l2_echo: the UDP echo answered inside the kernel, on the receive
 * path of a network interface, with no socket and no user space: the
 * lowest baseline of the network driver VM's decomposition (the driver and
 * the network core alone; docs/net-optimise.md). An rx_handler takes every
 * frame; those addressed to one of the configured clients (MAC and IPv4
 * address, the interface promiscuous) are answered as pinion's echo
 * clients pinion_echo_answer them (l2_echo_core.c, echo_protocol.c): ARP requests,
 * ICMP echo requests and UDP datagrams to the port; the reply is built in
 * a new frame and sent with dev_queue_xmit. Everything else is dropped.
 *
 * Idle unless clients= is given: pinion_l2_echo.clients=MAC@IP[,MAC@IP]...
 * With phases=N it marks pinion's measurement window (phase 1 from the
 * first UDP datagram, phase 2 after the Nth echo), prints its counts and
 * powers the machine off, as udp-echo and l2-echo end their runs.
 */
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>

#include "guest_phase.h"
#include "l2_echo_core.h"

#define FRAME_MAX 2048

static char *interface = "eth0";
module_param(interface, charp, 0444);
MODULE_PARM_DESC(interface, "the network interface (default eth0)");
static char *clients;
module_param(clients, charp, 0444);
MODULE_PARM_DESC(
	clients,
	"the clients answered for: MAC@IP[,MAC@IP]... (default none: idle)");
static ushort port = L2_ECHO_DEFAULT_PORT;
module_param(port, ushort, 0444);
MODULE_PARM_DESC(port, "the UDP port echoed (default 1235)");
static unsigned long long phases;
module_param(phases, ullong, 0444);
MODULE_PARM_DESC(phases, "mark the measurement window around this many UDP "
			 "echoes, then power off (default 0: never)");

static struct l2_echo echo;
static struct work_struct attach_work, finish_work;
static bool attached;
/* Where a frame that does not start 8-byte aligned is read from (echo_protocol.h). */
static DEFINE_PER_CPU_ALIGNED(u8[FRAME_MAX], aligned_frame);

static void pinion_echo_finish(struct work_struct *work)
{
	char json[512];

	l2_echo_counts_json(&echo.counts, json, sizeof(json));
	pr_notice("pinion-l2-echo: %s\n", json);
	kernel_power_off();
}

static rx_handler_result_t pinion_echo_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	const struct echo_identity *id;
	struct echo_decision decision;
	struct sk_buff *reply;
	const u8 *frame;
	int rc;

	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;
	skb_push(skb, skb->data - skb_mac_header(skb));
	if (skb_linearize(skb) || skb->len > FRAME_MAX) {
		echo.counts.received++;
		echo.counts.dropped++;
		goto done;
	}
	frame = skb->data;
	if (!IS_ALIGNED((unsigned long)frame, 8)) {
		u8 *copy = *this_cpu_ptr(&aligned_frame);

		memcpy(copy, frame, skb->len);
		frame = copy;
	}
	id = l2_echo_decide(&echo, frame, skb->len, &decision);
	if (!id)
		goto done;
	if (phases && decision.verdict == ECHO_REPLY_UDP &&
	    !echo.counts.udp_echoed)
		GUEST_MARK_PHASE(1);
	reply = netdev_alloc_skb(skb->dev, decision.reply_len);
	if (reply && !IS_ALIGNED((unsigned long)reply->data, 8)) {
		kfree_skb(
			reply); /* cannot happen: skb data starts NET_SKB_PAD in */
		reply = NULL;
	}
	if (!reply) {
		l2_echo_count_reply(&echo, decision, false);
		goto done;
	}
	echo_build_reply(id, decision, frame,
			 skb_put(reply, decision.reply_len));
	skb_reset_mac_header(reply);
	reply->protocol = eth_hdr(reply)->h_proto;
	rc = dev_queue_xmit(reply);
	/* net_xmit_eval() evaluates its argument twice: never hand it the call. */
	l2_echo_count_reply(&echo, decision, net_xmit_eval(rc) == 0);
	if (phases && echo.counts.udp_echoed == phases &&
	    decision.verdict == ECHO_REPLY_UDP) {
		GUEST_MARK_PHASE(2);
		schedule_work(&finish_work);
	}
done:
	consume_skb(skb);
	return RX_HANDLER_CONSUMED;
}

static void pinion_echo_attach(struct work_struct *work)
{
	struct net_device *dev;
	int rc;

	rtnl_lock();
	dev = __dev_get_by_name(&init_net, interface);
	/* Taken over once up (init brings it up), when its driver is done setting it up. */
	if (!dev || !netif_running(dev) || attached) {
		rtnl_unlock();
		return;
	}
	dev->wanted_features &= ~NETIF_F_GRO;
	netdev_update_features(dev);
	rc = dev_set_promiscuity(dev, 1);
	if (!rc)
		rc = netdev_rx_handler_register(dev, pinion_echo_rx_handler,
						NULL);
	attached = !rc;
	rtnl_unlock();
	if (rc)
		pr_err("pinion-l2-echo: cannot take over %s: error %d\n",
		       interface, rc);
	else
		pr_notice("pinion-l2-echo: answering %u client(s) on %s, UDP "
			  "port %u\n",
			  echo.n_identities, interface, port);
}

static int pinion_echo_netdev_event(struct notifier_block *nb,
				    unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_UP && !strcmp(dev->name, interface))
		schedule_work(&attach_work);
	return NOTIFY_DONE;
}

static struct notifier_block echo_notifier = {
	.notifier_call = pinion_echo_netdev_event,
};

static int __init pinion_echo_init(void)
{
	char *list, *next, *client;

	if (!clients || !*clients)
		return 0;
	list = kstrdup(clients, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	next = list;
	while ((client = strsep(&next, ",")) != NULL) {
		if (!l2_echo_add_identity(&echo, client, port)) {
			pr_err("pinion-l2-echo: clients= wants "
			       "MAC@IP[,MAC@IP]... (at most %d) and a nonzero "
			       "port, not \"%s\"\n",
			       L2_ECHO_MAX_IDENTITIES, client);
			kfree(list);
			return -EINVAL;
		}
	}
	kfree(list);
	INIT_WORK(&attach_work, pinion_echo_attach);
	INIT_WORK(&finish_work, pinion_echo_finish);
	return register_netdevice_notifier(&echo_notifier);
}
device_initcall(pinion_echo_init);

MODULE_DESCRIPTION(
	"pinion: the UDP echo answered on a network interface's receive path");
MODULE_LICENSE("GPL");
