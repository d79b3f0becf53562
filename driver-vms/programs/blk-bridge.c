/*
 * blk-bridge: inside a Linux driver VM, serves pinion's block queue from a
 * Linux block device the LionsOS way: in user space, over the channel's UIO
 * device, the device opened with O_DIRECT, several requests in flight
 * through an io_uring (see blk_bridge_core.h for the queue logic and
 * --help). This file holds the system calls: the UIO device, the disk, the
 * ring and the event loop.
 *
 * One io_uring carries everything the bridge waits for: the disk's reads,
 * writes and flushes, a read of /dev/uioN that completes when pinion
 * notifies the channel, and (with --report-idle-ms) a timeout. So each turn
 * of the loop is one io_uring_enter that submits what the queue asked for
 * and sleeps until something completes.
 */
#define _GNU_SOURCE /* O_DIRECT */

#include "blk_bridge_core.h"
#include "blk_uring.h"
#include "guest_args.h"
#include "uio_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PROGRAM    "blk-bridge"
#define DIE_STATUS 3 /* --die-after: init stops the VM */
/* user_data of the ring's entries that are not a slot's transfer. */
#define TAG_INTERRUPT (1ull << 32)
#define TAG_TIMEOUT   (2ull << 32)

static const char usage[] =
    "usage: blk-bridge [--name NAME] [--disk PATH] [--capacity N] [--block-size B]\n"
    "                  [--slots N] [--max-bytes B] [--report-idle-ms MS] [--die-after N]\n"
    "                  [--irq-wait poll|ring] [--sysfs DIR]\n"
    "\n"
    "Serves pinion's block queue from a Linux block device: the channel's UIO\n"
    "device NAME (map0 the doorbell, map1 the queue pair, map2.. the clients'\n"
    "data regions), requests read and written with O_DIRECT through bounce\n"
    "buffers, up to --slots in flight through an io_uring.\n"
    "\n"
    "  --name NAME          the channel's UIO name (default blk)\n"
    "  --disk PATH          the block device (default /dev/vda)\n"
    "  --capacity N         ring slots of the queue pair, a power of two (default 64)\n"
    "  --block-size B       the queue's block unit in bytes (default 512)\n"
    "  --slots N            requests in flight, 1..64 (default 32)\n"
    "  --max-bytes B        the largest request, a multiple of 4096 (default 1048576)\n"
    "  --report-idle-ms MS  print the counts once no request came for MS (default 0: never)\n"
    "  --die-after N        test mode: exit with status 3 after N requests (default 0: never)\n"
    "  --irq-wait poll|ring how pinion's notifications are waited for: poll() on /dev/uioN\n"
    "                       beside the io_uring (default), or a read of /dev/uioN in it\n"
    "  --sysfs DIR          where sysfs is (default /sys)\n";

struct options {
    const char *name, *disk, *sysfs;
    bool irq_in_ring; /* --irq-wait ring: the UIO device's read goes through the io_uring */
    unsigned long long capacity, block_size, slots, max_bytes, report_idle_ms, die_after;
};

struct loop {
    struct blk_uring ring;
    struct uio_handle uio;
    int disk;
    uint32_t uio_events;
    struct __kernel_timespec idle;
    bool timeout_armed;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int signo)
{
    stop_signal = signo;
}

static int parse(int argc, char **argv, struct options *o)
{
    static const char *const names[] = {
        "--name",      "--disk",           "--capacity",  "--block-size", "--slots",
        "--max-bytes", "--report-idle-ms", "--die-after", "--sysfs",      "--irq-wait"};
    *o = (struct options){.name = "blk",
                          .disk = "/dev/vda",
                          .sysfs = "/sys",
                          .capacity = 64,
                          .block_size = 512,
                          .slots = 32,
                          .max_bytes = 1u << 20};
    for (int i = 1; i < argc; i++) {
        const char *option, *value;
        char err[160];
        switch (guest_args_next(argc, argv, &i, names, sizeof names / sizeof names[0], &option,
                                &value, err, sizeof err)) {
        case GUEST_ARG_HELP:
            fputs(usage, stdout);
            return 0;
        case GUEST_ARG_ERROR:
            fprintf(stderr, PROGRAM ": %s\nTry 'blk-bridge --help'.\n", err);
            return 2;
        case GUEST_ARG_OPTION:
            break;
        }
        struct {
            const char *name;
            unsigned long long *to, min, max;
        } numbers[] = {
            {"--capacity", &o->capacity, 1, 1u << 16},
            {"--block-size", &o->block_size, 512, 65536},
            {"--slots", &o->slots, 1, BLK_BRIDGE_MAX_SLOTS},
            {"--max-bytes", &o->max_bytes, 4096, 1u << 24},
            {"--report-idle-ms", &o->report_idle_ms, 0, 3600000},
            {"--die-after", &o->die_after, 0, ~0ull},
        };
        bool number = false;
        for (size_t n = 0; n < sizeof numbers / sizeof numbers[0]; n++) {
            if (strcmp(option, numbers[n].name) == 0) {
                number = true;
                if (!guest_args_number(value, numbers[n].min, numbers[n].max, numbers[n].to)) {
                    fprintf(stderr, PROGRAM ": %s %s: not a number in %llu..%llu\n", option, value,
                            numbers[n].min, numbers[n].max);
                    return 2;
                }
            }
        }
        if (!number && strcmp(option, "--irq-wait") == 0) {
            if (strcmp(value, "poll") != 0 && strcmp(value, "ring") != 0) {
                fprintf(stderr, PROGRAM ": --irq-wait takes poll or ring, not \"%s\"\n", value);
                return 2;
            }
            o->irq_in_ring = strcmp(value, "ring") == 0;
        } else if (!number) {
            const char **to = strcmp(option, "--name") == 0   ? &o->name
                              : strcmp(option, "--disk") == 0 ? &o->disk
                                                              : &o->sysfs;
            *to = value;
        }
    }
    if ((o->capacity & (o->capacity - 1)) || (o->block_size & (o->block_size - 1)) ||
        o->max_bytes % 4096) {
        fprintf(stderr, PROGRAM ": --capacity and --block-size must be powers of two and "
                                "--max-bytes a multiple of 4096\n");
        return 2;
    }
    return -1;
}

static int submit(void *ctx, unsigned slot, bool read, bool flush, uint64_t offset,
                  unsigned char *buffer, uint32_t len)
{
    struct loop *l = ctx;
    struct io_uring_sqe *sqe = blk_uring_get_sqe(&l->ring);
    if (sqe == NULL) {
        return -EBUSY; /* cannot be: the ring has room for every slot and the extras */
    }
    sqe->fd = l->disk;
    sqe->user_data = slot;
    if (flush) {
        sqe->opcode = IORING_OP_FSYNC;
        sqe->fsync_flags = IORING_FSYNC_DATASYNC;
        return 0;
    }
    sqe->opcode = read ? IORING_OP_READ : IORING_OP_WRITE;
    sqe->addr = (uint64_t)(uintptr_t)buffer;
    sqe->len = len;
    sqe->off = offset;
    return 0;
}

static void kick(void *ctx)
{
    (void)ctx; /* the loop's next io_uring_enter submits */
}

static void ring_doorbell(void *ctx, uint32_t value)
{
    uio_handle_ring(&((struct loop *)ctx)->uio, value);
}

/* A read of /dev/uioN in the ring: it completes at pinion's next notification. */
static bool arm_interrupt(struct loop *l)
{
    struct io_uring_sqe *sqe = blk_uring_get_sqe(&l->ring);
    if (sqe == NULL) {
        return false;
    }
    sqe->opcode = IORING_OP_READ;
    sqe->fd = l->uio.fd;
    sqe->addr = (uint64_t)(uintptr_t)&l->uio_events;
    sqe->len = sizeof l->uio_events;
    sqe->user_data = TAG_INTERRUPT;
    return true;
}

static void arm_timeout(struct loop *l)
{
    struct io_uring_sqe *sqe = blk_uring_get_sqe(&l->ring);
    if (sqe != NULL) {
        sqe->opcode = IORING_OP_TIMEOUT;
        sqe->addr = (uint64_t)(uintptr_t)&l->idle;
        sqe->len = 1;
        sqe->user_data = TAG_TIMEOUT;
        l->timeout_armed = true;
    }
}

static void print_counts(const struct blk_bridge_counts *c)
{
    char json[512];
    blk_bridge_counts_json(c, json, sizeof json);
    printf(PROGRAM ": %s\n", json);
    fflush(stdout);
}

/*
 * Takes every completion there is: the disk's transfers, and in ring mode the
 * interrupt's read and the idle timeout. The number taken, or -1 on a failure.
 */
static int reap(struct blk_bridge *b, const struct blk_bridge_io *io, struct loop *l,
                uint64_t *reported)
{
    int taken = 0;
    struct io_uring_cqe *cqe;
    while ((cqe = blk_uring_peek_cqe(&l->ring)) != NULL) {
        uint64_t tag = cqe->user_data;
        int result = cqe->res;
        blk_uring_cqe_seen(&l->ring);
        taken++;
        if (tag == TAG_INTERRUPT) {
            if (result < 0 && result != -EINTR) {
                fprintf(stderr, PROGRAM ": error: reading /dev/uio%u: %s\n", l->uio.dev.index,
                        strerror(-result));
                return -1;
            }
            /* Unmasked before the queue is served: work queued meanwhile is found. */
            b->counts.irqs++;
            if (!uio_handle_unmask(PROGRAM, &l->uio) || !arm_interrupt(l)) {
                return -1;
            }
        } else if (tag == TAG_TIMEOUT) {
            l->timeout_armed = false;
            if (b->counts.requests != *reported) {
                *reported = b->counts.requests;
                print_counts(&b->counts);
            }
        } else {
            blk_bridge_complete(b, io, (unsigned)tag, result);
        }
    }
    return taken;
}

static bool died(const struct blk_bridge *b, const struct options *o)
{
    if (o->die_after && b->counts.requests >= o->die_after) {
        printf(PROGRAM ": dying after %llu requests (--die-after)\n",
               (unsigned long long)b->counts.requests);
        fflush(stdout);
        return true;
    }
    return false;
}

/*
 * --irq-wait ring: one io_uring_enter a turn submits and sleeps until anything
 * completes, pinion's notification (a read of /dev/uioN) included. UIO's read
 * cannot be done without blocking, so io_uring arms a poll for it at every
 * notification, and retries: measured dearer than a poll() beside the ring.
 */
static int run_in_ring(struct blk_bridge *b, const struct blk_bridge_io *io, struct loop *l,
                       const struct options *o)
{
    uint64_t reported = 0;
    if (!uio_handle_unmask(PROGRAM, &l->uio) || !arm_interrupt(l)) {
        return 1;
    }
    while (!stop_signal) {
        blk_bridge_serve(b, io);
        if (died(b, o)) {
            return DIE_STATUS;
        }
        if (o->report_idle_ms && !l->timeout_armed) {
            arm_timeout(l);
        }
        int rc = blk_uring_enter(&l->ring, true);
        if (rc == -EINTR) {
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, PROGRAM ": error: io_uring_enter: %s\n", strerror(-rc));
            return 1;
        }
        if (reap(b, io, l, &reported) < 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * --irq-wait poll (the default): the ring carries the disk's transfers only; the
 * loop sleeps in poll() on /dev/uioN and the ring's own descriptor (readable when
 * a completion is there), and takes an interrupt with a plain read and unmask.
 */
static int run_polling(struct blk_bridge *b, const struct blk_bridge_io *io, struct loop *l,
                       const struct options *o)
{
    uint64_t reported = 0;
    if (!uio_handle_unmask(PROGRAM, &l->uio)) {
        return 1;
    }
    while (!stop_signal) {
        blk_bridge_serve(b, io);
        if (died(b, o)) {
            return DIE_STATUS;
        }
        int rc = blk_uring_enter(&l->ring, false);
        if (rc < 0 && rc != -EINTR) {
            fprintf(stderr, PROGRAM ": error: io_uring_enter: %s\n", strerror(-rc));
            return 1;
        }
        int taken = reap(b, io, l, &reported);
        if (taken < 0) {
            return 1;
        }
        if (taken > 0) {
            continue; /* slots came free: serve again before sleeping */
        }
        struct pollfd fds[2] = {{.fd = l->uio.fd, .events = POLLIN},
                                {.fd = l->ring.fd, .events = POLLIN}};
        int ready = poll(fds, 2, o->report_idle_ms ? (int)o->report_idle_ms : -1);
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, PROGRAM ": error: poll: %s\n", strerror(errno));
            return 1;
        }
        if (ready == 0 && b->counts.requests != reported) {
            reported = b->counts.requests;
            print_counts(&b->counts);
        }
        if (ready > 0 && (fds[0].revents & POLLIN) &&
            !uio_handle_take_interrupt(PROGRAM, &l->uio, &b->counts.irqs)) {
            return 1;
        }
    }
    return 0;
}

static bool open_disk(const struct options *o, struct loop *l, uint64_t *bytes)
{
    l->disk = open(o->disk, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (l->disk < 0) {
        fprintf(stderr, PROGRAM ": error: cannot open %s: %s\n", o->disk, strerror(errno));
        return false;
    }
    int logical = 0;
    if (ioctl(l->disk, BLKGETSIZE64, bytes) != 0 || ioctl(l->disk, BLKSSZGET, &logical) != 0) {
        fprintf(stderr, PROGRAM ": error: %s is not a block device: %s\n", o->disk,
                strerror(errno));
        return false;
    }
    if ((unsigned long long)logical > o->block_size) {
        fprintf(stderr, PROGRAM ": error: %s's blocks are %d bytes, more than the queue's %llu\n",
                o->disk, logical, o->block_size);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct options o;
    int parsed = parse(argc, argv, &o);
    if (parsed >= 0) {
        return parsed;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static struct loop l;
    uint64_t disk_bytes;
    if (!uio_handle_find(PROGRAM, o.sysfs, o.name, 3, &l.uio) ||
        !uio_handle_open(PROGRAM, false, &l.uio) || !open_disk(&o, &l, &disk_bytes)) {
        return 1;
    }
    struct blk_bridge_region regions[BLK_BRIDGE_MAX_REGIONS];
    unsigned n_regions = 0;
    for (unsigned m = 2; m < l.uio.dev.n_maps && n_regions < BLK_BRIDGE_MAX_REGIONS; m++) {
        regions[n_regions++] = (struct blk_bridge_region){.base = l.uio.maps[m],
                                                          .phys = l.uio.dev.maps[m].phys,
                                                          .bytes = l.uio.dev.maps[m].bytes};
    }
    void *bounce = NULL;
    if (posix_memalign(&bounce, 4096, (size_t)(o.slots * o.max_bytes)) != 0) {
        fprintf(stderr, PROGRAM ": error: no memory for %llu bounce buffers of %llu bytes\n",
                o.slots, o.max_bytes);
        return 1;
    }
    static struct blk_bridge bridge;
    char err[BLK_BRIDGE_ERROR_MAX];
    if (!blk_bridge_init(&bridge, l.uio.maps[1], l.uio.dev.maps[1].bytes, (uint32_t)o.capacity,
                         regions, n_regions, (uint32_t)o.block_size, disk_bytes, bounce,
                         (unsigned)o.slots, (uint32_t)o.max_bytes, err, sizeof err)) {
        fprintf(stderr, PROGRAM ": error: %s\n", err);
        return 1;
    }
    /* Every slot's transfer, the interrupt's read and the timeout, with room to spare. */
    unsigned entries = 4;
    while (entries < o.slots + 2) {
        entries *= 2;
    }
    if (!blk_uring_open(&l.ring, entries, err, sizeof err)) {
        fprintf(stderr, PROGRAM ": error: %s\n", err);
        return 1;
    }
    l.idle = (struct __kernel_timespec){.tv_sec = (long long)(o.report_idle_ms / 1000),
                                        .tv_nsec = (long long)(o.report_idle_ms % 1000) * 1000000};
    printf(PROGRAM ": up: %s, %llu blocks of %llu bytes, /dev/uio%u \"%s\" (%u data regions), "
                   "%llu in flight through an io_uring, bounce buffers of %llu bytes, "
                   "notifications by %s\n",
           o.disk, (unsigned long long)(disk_bytes / o.block_size), o.block_size, l.uio.dev.index,
           l.uio.dev.name, n_regions, o.slots, o.max_bytes,
           o.irq_in_ring ? "a read in the ring" : "poll()");
    fflush(stdout);
    struct blk_bridge_io io = {.submit = submit, .kick = kick, .ring = ring_doorbell, .ctx = &l};
    int status =
        o.irq_in_ring ? run_in_ring(&bridge, &io, &l, &o) : run_polling(&bridge, &io, &l, &o);
    if (stop_signal) {
        printf(PROGRAM ": stopping on signal %d\n", (int)stop_signal);
    }
    print_counts(&bridge.counts);
    return status;
}
