// SPDX-License-Identifier: GPL-2.0
/*
 * pinion_net_bridge's polling mode (poll_tx=1): a kernel thread, on the
 * vCPU tx_cpu names, looks at the transmit queue's active ring over and
 * over instead of waiting for pinion's notification. The multiplexer is
 * never asked to notify (the thread withdraws the request the shared
 * queue logic makes when it finds the ring empty), so a transmitted frame
 * costs no doorbell, no virtual interrupt and no NAPI scheduling; the
 * price is a vCPU that never sleeps. Its spinning is done in
 * pinion_bridge_poll_idle() alone, so a per-function profile tells the
 * useful work per packet from the waiting (docs/net-optimise.md).
 */
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "net_bridge.h"

static bool poll_tx;
module_param(poll_tx, bool, 0444);
MODULE_PARM_DESC(poll_tx, "a kernel thread polls the transmit queue, never "
			  "sleeping, instead of waiting "
			  "for notifications (default off)");

/* Looks at an empty ring between two chances for other threads to run. */
#define SPINS_PER_RESCHED 4096

bool pinion_bridge_polling(void)
{
	return poll_tx;
}

/*
 * Waits, spinning, until the multiplexer has queued a frame. Out of line
 * and alone, so the counter attributes all the waiting to it.
 */
static noinline void pinion_bridge_poll_idle(struct bridge *b)
{
	unsigned int spins = 0;

	while (pn_ring_consumer_empty(&b->core.tx.active)) {
		cpu_relax();
		if (++spins == SPINS_PER_RESCHED) {
			spins = 0;
			if (kthread_should_stop())
				return;
			cond_resched();
		}
	}
}

static int pinion_bridge_poll_thread(void *data)
{
	struct bridge *b = data;

	while (!kthread_should_stop()) {
		enum net_bridge_step step;

		pinion_bridge_poll_idle(b);
		/* Transmission allocates from, and sends in, softirq context. */
		local_bh_disable();
		step = pinion_bridge_transmit(b, pinion_bridge_budget());
		pn_ring_cancel_signal(&b->core.tx.active);
		local_bh_enable();
		pinion_bridge_maybe_report(b);
		/* The free ring full (a peer holding too much): let it catch up. */
		if (step == NET_BRIDGE_STALLED)
			schedule_timeout_uninterruptible(1);
	}
	return 0;
}

int pinion_bridge_start_polling(struct bridge *b, int cpu)
{
	struct task_struct *thread = kthread_create(pinion_bridge_poll_thread,
						    b, "pinion-bridge-poll");

	if (IS_ERR(thread))
		return PTR_ERR(thread);
	if (cpu >= 0)
		kthread_bind(thread, cpu);
	wake_up_process(thread);
	return 0;
}
