// SPDX-License-Identifier: GPL-2.0
/*
 * pinion_blk_bridge: the block driver VM's bridge inside the guest kernel.
 * It serves pinion's block queue (components/include/pinion/blk_queue.h:
 * requests in, responses out, each with the id it came with) from a Linux
 * block device, driven by Linux's own unmodified driver (virtio-blk's
 * /dev/vda): each read or write becomes a bio whose pages are the client's
 * buffer itself, so the device moves the data straight to or from the
 * client's data region (zero copy), and each completion becomes a response.
 *
 * Its channel is a "pinion,channel" device tree node (docs/guest-dtb.md):
 * reg 0 the doorbell, reg 1 the queue pair, reg 2.. the clients' data
 * regions. Requests name data by physical address (the block virtualiser
 * translates each client's offsets), and the block by its number on the
 * device. The data regions must be in the guest's memory map (the VM's
 * "regions_in_guest_ram"), so that Linux has pages for them. Everything a
 * peer hands over is checked: a request whose data is not wholly inside
 * one data region, whose blocks run past the device, or whose op is
 * unknown is answered PN_BLK_EINVAL and counted, never followed.
 *
 * Requests are taken in a work item the channel's interrupt queues; it
 * takes every request there is, then asks to be notified (pinion's
 * request/cancel/require protocol, ring.h). Completions answer from the
 * block layer's completion context, under a lock (the one producer of the
 * response ring may run on any vCPU).
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>

#include <pinion/blk_queue.h>

#define MAX_DATA_REGIONS 3

static char *disk = "/dev/vda";
module_param(disk, charp, 0444);
MODULE_PARM_DESC(disk, "the block device served (default /dev/vda)");
static char *channel = "blk";
module_param(channel, charp, 0444);
MODULE_PARM_DESC(channel,
		 "the block queue's channel, by its local name (default blk)");
static uint capacity = 64;
module_param(capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "slots of each ring, a power of two (default 64)");
static uint queue_block_size = 512;
module_param_named(block_size, queue_block_size, uint, 0444);
MODULE_PARM_DESC(block_size, "bytes of the queue's block (default 512)");
static uint report_idle_ms;
module_param(report_idle_ms, uint, 0444);
MODULE_PARM_DESC(report_idle_ms, "print the counts once no request came for "
				 "this long (default 0: never)");
static unsigned long long die_after;
module_param(die_after, ullong, 0444);
MODULE_PARM_DESC(
	die_after,
	"test mode: panic after this many requests taken (default 0: never)");

struct data_region {
	phys_addr_t phys;
	u64 bytes;
};

struct counts {
	u64 requests, reads, writes, flushes, bytes, einval, eio, responses;
	u64 response_ring_full, corrupt_rings, doorbells, irqs;
};

static struct {
	bool present, up;
	void __iomem *doorbell;
	struct pn_blk_server queue;
	struct data_region data[MAX_DATA_REGIONS];
	unsigned int n_data;
	struct block_device *bdev;
	u64 device_blocks;
	bool requests_corrupt, responses_corrupt;
	spinlock_t respond_lock;
	struct work_struct serve;
	struct delayed_work attach, idle_report;
	struct counts counts;
} bridge;

static void pinion_blk_print_counts(void)
{
	struct counts *c = &bridge.counts;

	pr_notice("pinion-blk-bridge: {\"requests\": %llu, \"reads\": %llu, "
		  "\"writes\": %llu, \"flushes\": %llu, \"bytes\": %llu, "
		  "\"einval\": %llu, \"eio\": %llu, \"responses\": %llu, "
		  "\"response_ring_full\": %llu, \"corrupt_rings\": %llu, "
		  "\"doorbells\": %llu, \"irqs\": %llu}\n",
		  c->requests, c->reads, c->writes, c->flushes, c->bytes,
		  c->einval, c->eio, c->responses, c->response_ring_full,
		  c->corrupt_rings, c->doorbells, c->irqs);
}

static void pinion_blk_idle_report(struct work_struct *work)
{
	pinion_blk_print_counts();
}

/* Answers a request; from the work item or from a completion, on any vCPU. */
static void pinion_blk_respond(u32 id, u32 status, u32 count)
{
	struct pn_blk_response r = { .id = id,
				     .status = status,
				     .count = count };
	enum pn_ring_status pushed;
	unsigned long flags;
	bool notify = false;

	spin_lock_irqsave(&bridge.respond_lock, flags);
	pushed = pn_blk_respond(&bridge.queue, r);
	if (pushed == PN_RING_OK) {
		bridge.counts.responses++;
		if (status == PN_BLK_EIO)
			bridge.counts.eio++;
		notify = pn_ring_require_signal(&bridge.queue.responses);
	} else if (pushed == PN_RING_CORRUPT && !bridge.responses_corrupt) {
		bridge.responses_corrupt = true;
		bridge.counts.corrupt_rings++;
	} else if (pushed == PN_RING_FULL) {
		bridge.counts
			.response_ring_full++; /* a client with more out than the ring holds */
	}
	if (notify)
		bridge.counts.doorbells++;
	spin_unlock_irqrestore(&bridge.respond_lock, flags);
	if (notify)
		writel((u32)bridge.counts.doorbells, bridge.doorbell);
}

static void pinion_blk_done(struct bio *bio)
{
	uintptr_t tag = (uintptr_t)bio->bi_private;

	pinion_blk_respond((u32)tag, bio->bi_status ? PN_BLK_EIO : PN_BLK_OK,
			   bio->bi_status ? 0 : (u32)(tag >> 32));
	bio_put(bio);
}

/* The data region wholly holding [phys, phys + bytes), or NULL. */
static const struct data_region *region_of(u64 phys, u64 bytes)
{
	unsigned int i;

	for (i = 0; i < bridge.n_data; i++) {
		const struct data_region *r = &bridge.data[i];

		if (phys >= r->phys && phys - r->phys < r->bytes &&
		    r->bytes - (phys - r->phys) >= bytes)
			return r;
	}
	return NULL;
}

/* One request into a bio, or an answer at once (flush, or refused). */
static void pinion_blk_start(struct pn_blk_request r)
{
	u64 bytes = (u64)r.count * queue_block_size;
	unsigned int pages, done;
	blk_opf_t opf;
	struct bio *bio;

	if (r.op == PN_BLK_FLUSH || r.op == PN_BLK_BARRIER) {
		bridge.counts.flushes++;
		pinion_blk_respond(r.id,
				   blkdev_issue_flush(bridge.bdev) ? PN_BLK_EIO
								   : PN_BLK_OK,
				   0);
		return;
	}
	if ((r.op != PN_BLK_READ && r.op != PN_BLK_WRITE) || r.count == 0 ||
	    r.block >= bridge.device_blocks ||
	    bridge.device_blocks - r.block < r.count ||
	    !region_of(r.offset, bytes) || !IS_ALIGNED(r.offset, SECTOR_SIZE)) {
		bridge.counts.einval++;
		pinion_blk_respond(r.id, PN_BLK_EINVAL, 0);
		return;
	}
	opf = r.op == PN_BLK_READ ? REQ_OP_READ : REQ_OP_WRITE;
	pages = DIV_ROUND_UP(offset_in_page(r.offset) + bytes, PAGE_SIZE);
	bio = bio_alloc(bridge.bdev, min_t(unsigned int, pages, BIO_MAX_VECS),
			opf, GFP_NOIO);
	bio->bi_iter.bi_sector = r.block * (queue_block_size >> SECTOR_SHIFT);
	bio->bi_private = (void *)((uintptr_t)r.count << 32 | r.id);
	bio->bi_end_io = pinion_blk_done;
	for (done = 0; done < bytes;) {
		phys_addr_t pa = r.offset + done;
		unsigned int len = min_t(u64, PAGE_SIZE - offset_in_page(pa),
					 bytes - done);

		if (bio_add_page(bio, phys_to_page(pa), len,
				 offset_in_page(pa)) != len) {
			/* Longer than one bio takes: refused, as the client could split it. */
			bio_put(bio);
			bridge.counts.einval++;
			pinion_blk_respond(r.id, PN_BLK_EINVAL, 0);
			return;
		}
		done += len;
	}
	if (r.op == PN_BLK_READ)
		bridge.counts.reads++;
	else
		bridge.counts.writes++;
	bridge.counts.bytes += bytes;
	submit_bio(bio);
}

static void pinion_blk_serve(struct work_struct *work)
{
	struct pn_blk_request r;

	for (;;) {
		enum pn_ring_status status =
			pn_blk_take_request(&bridge.queue, &r);

		if (status == PN_RING_OK) {
			bridge.counts.requests++;
			if (die_after && bridge.counts.requests > die_after)
				panic("pinion-blk-bridge: dying after %llu "
				      "requests (die_after)\n",
				      die_after);
			pinion_blk_start(r);
			continue;
		}
		if (status == PN_RING_CORRUPT) {
			if (!bridge.requests_corrupt) {
				bridge.requests_corrupt = true;
				bridge.counts.corrupt_rings++;
			}
			break;
		}
		pn_ring_request_signal(&bridge.queue.requests);
		if (pn_ring_consumer_empty(&bridge.queue.requests))
			break;
		pn_ring_cancel_signal(&bridge.queue.requests);
	}
	if (report_idle_ms)
		mod_delayed_work(system_wq, &bridge.idle_report,
				 msecs_to_jiffies(report_idle_ms));
}

static irqreturn_t pinion_blk_irq(int irq, void *data)
{
	bridge.counts.irqs++;
	if (READ_ONCE(bridge.up))
		queue_work(system_highpri_wq, &bridge.serve);
	return IRQ_HANDLED;
}

/* The disk appears when its driver probes; until then, look again. */
static void pinion_blk_attach(struct work_struct *work)
{
	struct block_device *bdev;
	unsigned int i;
	dev_t dev;

	dev = name_to_dev_t(disk);
	if (!dev) {
		schedule_delayed_work(&bridge.attach, HZ / 10);
		return;
	}
	bdev = blkdev_get_by_dev(dev, FMODE_READ | FMODE_WRITE | FMODE_EXCL,
				 &bridge);
	if (IS_ERR(bdev)) {
		pr_err("pinion-blk-bridge: cannot open %s: error %ld\n", disk,
		       PTR_ERR(bdev));
		return;
	}
	if (bdev_logical_block_size(bdev) > queue_block_size) {
		pr_err("pinion-blk-bridge: %s's blocks are %u bytes, more than "
		       "the queue's %u\n",
		       disk, bdev_logical_block_size(bdev), queue_block_size);
		blkdev_put(bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
		return;
	}
	for (i = 0; i < bridge.n_data; i++) {
		if (!pfn_valid(PHYS_PFN(bridge.data[i].phys))) {
			pr_err("pinion-blk-bridge: the data regions must be in "
			       "the guest's memory map (the VM's "
			       "\"regions_in_guest_ram\")\n");
			blkdev_put(bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
			return;
		}
	}
	bridge.bdev = bdev;
	bridge.device_blocks = bdev_nr_bytes(bdev) / queue_block_size;
	WRITE_ONCE(bridge.up, true);
	pr_notice("pinion-blk-bridge: up: %s, %llu blocks of %u bytes, %u data "
		  "regions\n",
		  disk, bridge.device_blocks, queue_block_size, bridge.n_data);
	/* Requests queued before we were up, and the first request for a notification. */
	queue_work(system_highpri_wq, &bridge.serve);
}

static int pinion_blk_probe(struct platform_device *pdev)
{
	struct device *d = &pdev->dev;
	struct resource *res;
	const char *name;
	void *queue;
	unsigned int i;
	int irq, rc;

	if (of_property_read_string(d->of_node, "linux,uio-name", &name))
		name = d->of_node->name;
	if (strcmp(name, channel))
		return -ENODEV; /* a channel for another driver */
	if (bridge.present)
		return -EBUSY;
	res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	bridge.doorbell =
		res ? devm_ioremap(d, res->start, resource_size(res)) : NULL;
	res = platform_get_resource(pdev, IORESOURCE_MEM, 1);
	if (!bridge.doorbell || !res)
		return dev_err_probe(d, -EINVAL,
				     "channel %s has no doorbell or queue\n",
				     name);
	queue = devm_memremap(d, res->start, resource_size(res), MEMREMAP_WB);
	if (IS_ERR(queue))
		return dev_err_probe(d, PTR_ERR(queue),
				     "cannot map %s's queue\n", name);
	if (resource_size(res) < pn_blk_pair_bytes(capacity) ||
	    !pn_blk_server_attach(&bridge.queue, queue, capacity))
		return dev_err_probe(
			d, -EINVAL, "%s's queue holds no pair of capacity %u\n",
			name, capacity);
	for (i = 0; i < MAX_DATA_REGIONS; i++) {
		res = platform_get_resource(pdev, IORESOURCE_MEM, 2 + i);
		if (!res)
			break;
		bridge.data[i] =
			(struct data_region){ .phys = res->start,
					      .bytes = resource_size(res) };
	}
	bridge.n_data = i;
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;
	rc = devm_request_irq(d, irq, pinion_blk_irq, 0, "pinion-blk-bridge",
			      &bridge);
	if (rc)
		return rc;
	bridge.present = true;
	schedule_delayed_work(&bridge.attach, 0);
	return 0;
}

static const struct of_device_id pinion_blk_of_match[] = {
	{ .compatible = "pinion,channel" }, {}
};

static struct platform_driver pinion_blk_driver = {
	.probe = pinion_blk_probe,
	.driver = {
		.name = "pinion-blk-bridge",
		.of_match_table = pinion_blk_of_match,
		.suppress_bind_attrs = true,
	},
};

static int __init pinion_blk_init(void)
{
	if (!is_power_of_2(capacity) || queue_block_size < SECTOR_SIZE ||
	    !is_power_of_2(queue_block_size)) {
		pr_err("pinion-blk-bridge: capacity and queue_block_size (at "
		       "least 512) must be powers of two\n");
		return -EINVAL;
	}
	spin_lock_init(&bridge.respond_lock);
	INIT_WORK(&bridge.serve, pinion_blk_serve);
	INIT_DELAYED_WORK(&bridge.attach, pinion_blk_attach);
	INIT_DELAYED_WORK(&bridge.idle_report, pinion_blk_idle_report);
	return platform_driver_register(&pinion_blk_driver);
}
device_initcall(pinion_blk_init);

MODULE_DESCRIPTION(
	"pinion: a block device serving pinion's block queue, in the kernel");
MODULE_LICENSE("GPL");
