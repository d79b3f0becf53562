/*
 * blk-bench: the storage benchmark of the native-Linux baseline
 * (docs/blk-dvm.md, "Native Linux"). Linux runs on the machine directly
 * with its own virtio-blk driver, and this program makes the requests that
 * pinion's two blk_bench clients make (blk_bench_linux.c holds the plans
 * and the checks), so that the two are counted for the same I/O and the
 * disk image is checked by the same host tool afterwards.
 *
 * Linux AIO (io_setup, io_submit, io_getevents through syscall(); the C
 * library has no wrappers) on the device opened with O_DIRECT: every
 * request goes to the block layer and the device from the client's own
 * buffer, nothing through the page cache, and all clients' requests are in
 * flight at once, as pinion's clients keep theirs. AIO rather than
 * io_uring: one submission and one completion system call per batch either
 * way at these depths, and AIO needs no shared rings to set up, so the
 * program stays small and its kernel path is the plain block layer's.
 */
#define _GNU_SOURCE /* O_DIRECT */

#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blk_bench_linux.h"
#include "guest_phase.h"

#define SLOT_BITS 32 /* an iocb's aio_data: client << 32 | slot */

struct bench {
    int fd;
    aio_context_t aio;
    struct blk_linux_client clients[BLK_LINUX_MAX_CLIENTS];
    uint32_t n_clients;
    uint32_t capacity; /* every client's depth: the most requests in flight at once */
    struct iocb *iocbs;
    struct iocb **to_submit;
    struct io_event *events;
};

static long io_setup_call(unsigned nr, aio_context_t *ctx)
{
    return syscall(SYS_io_setup, nr, ctx);
}

static long io_submit_call(aio_context_t ctx, long n, struct iocb **iocbs)
{
    return syscall(SYS_io_submit, ctx, n, iocbs);
}

static long io_getevents_call(aio_context_t ctx, long min, long max, struct io_event *events)
{
    return syscall(SYS_io_getevents, ctx, min, max, events, NULL);
}

static void complete(struct bench *b, uint64_t data, int64_t result)
{
    uint64_t client = data >> SLOT_BITS;
    uint32_t slot = (uint32_t)data;
    if (client < b->n_clients) {
        blk_linux_client_complete(&b->clients[client], slot, result);
    } else {
        b->clients[0].counts.unexpected++;
    }
}

/* One request from each client in turn until none has more to make now: into b->iocbs. */
static long gather(struct bench *b)
{
    long n = 0;
    for (bool more = true; more;) {
        more = false;
        for (uint32_t i = 0; i < b->n_clients; i++) {
            struct blk_linux_request r;
            if (!blk_linux_client_next(&b->clients[i], &r)) {
                continue;
            }
            struct iocb *cb = &b->iocbs[n];
            memset(cb, 0, sizeof *cb);
            cb->aio_data = (uint64_t)i << SLOT_BITS | r.slot;
            cb->aio_lio_opcode = r.write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
            cb->aio_fildes = (uint32_t)b->fd;
            cb->aio_buf = (uint64_t)(uintptr_t)r.buffer;
            cb->aio_nbytes = r.length;
            cb->aio_offset = (int64_t)r.offset;
            b->to_submit[n++] = cb;
            more = true;
        }
    }
    return n;
}

/* Submits what gather() made; a request Linux refuses is answered with its error at once. */
static void submit(struct bench *b, long n)
{
    long done = 0;
    while (done < n) {
        long taken = io_submit_call(b->aio, n - done, b->to_submit + done);
        if (taken < 0 && errno == EINTR) {
            continue;
        }
        if (taken <= 0) {
            /* The first request of the rest is refused (io_submit says why for it alone). */
            complete(b, b->to_submit[done]->aio_data, taken < 0 ? -errno : -EIO);
            done++;
            continue;
        }
        done += taken;
    }
}

static bool all_done(const struct bench *b)
{
    for (uint32_t i = 0; i < b->n_clients; i++) {
        if (!blk_linux_client_done(&b->clients[i])) {
            return false;
        }
    }
    return true;
}

static uint32_t in_flight(const struct bench *b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->n_clients; i++) {
        n += b->clients[i].in_flight;
    }
    return n;
}

/* Every client's sequence, all at once; false if the device stopped answering. */
static bool run(struct bench *b)
{
    GUEST_MARK_PHASE(1);
    while (!all_done(b)) {
        submit(b, gather(b));
        if (in_flight(b) == 0) {
            continue; /* every request of this round was refused: make the next ones */
        }
        long got = io_getevents_call(b->aio, 1, b->capacity, b->events);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "blk-bench: io_getevents: %s\n", strerror(errno));
            return false;
        }
        for (long e = 0; e < got; e++) {
            complete(b, b->events[e].data, b->events[e].res);
        }
    }
    GUEST_MARK_PHASE(2);
    return true;
}

/* The device holds every partition: else a request would fail for a reason not the path's. */
static bool device_holds_partitions(const struct bench *b, const char *path)
{
    uint64_t bytes = 0;
    if (ioctl(b->fd, BLKGETSIZE64, &bytes) != 0) {
        fprintf(stderr, "blk-bench: %s: cannot read its size: %s\n", path, strerror(errno));
        return false;
    }
    for (uint32_t i = 0; i < b->n_clients; i++) {
        const struct blk_bench_plan *p = &b->clients[i].plan;
        if ((p->partition_start + p->partition_blocks) * p->block_size > bytes) {
            fprintf(stderr, "blk-bench: client %u's partition ends past %s's %llu bytes\n",
                    (unsigned)p->workload.client, path, (unsigned long long)bytes);
            return false;
        }
    }
    return true;
}

static int set_up(struct bench *b, const struct blk_linux_options *o)
{
    for (uint32_t i = 0; i < o->clients; i++) {
        const char *complaint = blk_linux_client_init(&b->clients[i], o, i);
        if (complaint != NULL) {
            fprintf(stderr, "blk-bench: client %u (--partition %s:%s:%s): %s\n", (unsigned)i,
                    o->partitions[i].client_id, o->partitions[i].start, o->partitions[i].blocks,
                    complaint);
            return 2;
        }
        b->n_clients++;
        b->capacity += b->clients[i].depth;
    }
    b->iocbs = calloc(b->capacity, sizeof *b->iocbs);
    b->to_submit = calloc(b->capacity, sizeof *b->to_submit);
    b->events = calloc(b->capacity, sizeof *b->events);
    if (b->iocbs == NULL || b->to_submit == NULL || b->events == NULL) {
        fprintf(stderr, "blk-bench: out of memory\n");
        return 1;
    }
    b->fd = open(o->device, O_RDWR | O_DIRECT);
    if (b->fd < 0) {
        fprintf(stderr, "blk-bench: %s: %s\n", o->device, strerror(errno));
        return 1;
    }
    if (!device_holds_partitions(b, o->device)) {
        return 1;
    }
    if (io_setup_call(b->capacity, &b->aio) != 0) {
        fprintf(stderr, "blk-bench: io_setup(%u): %s\n", (unsigned)b->capacity, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench b = {.fd = -1};
    struct blk_linux_options o;
    char err[256];
    switch (blk_linux_parse_args(argc, argv, &o, err, sizeof err)) {
    case BLK_LINUX_HELP:
        fputs(blk_linux_usage, stdout);
        return 0;
    case BLK_LINUX_USAGE_ERROR:
        fprintf(stderr, "blk-bench: %s\n", err);
        return 2;
    default:
        break;
    }
    int status = set_up(&b, &o);
    if (status == 0) {
        printf("blk-bench: %s, %u clients, %s requests of %s bytes each, depth %u\n", o.device,
               (unsigned)b.n_clients, o.ios, o.io_size, (unsigned)o.depth);
        fflush(stdout);
        bool answered = run(&b);
        /* Outside the measured window, as the flush of pinion's clients is. */
        int flush_error = fdatasync(b.fd) == 0 ? 0 : errno;
        char line[2048];
        blk_linux_format_counts(line, sizeof line, b.clients, b.n_clients, flush_error);
        printf("blk-bench: %s\n", line);
        status = answered && blk_linux_all_good(b.clients, b.n_clients, flush_error) ? 0 : 1;
    }
    if (b.aio != 0) {
        syscall(SYS_io_destroy, b.aio);
    }
    if (b.fd >= 0) {
        close(b.fd);
    }
    for (uint32_t i = 0; i < b.n_clients; i++) {
        blk_linux_client_free(&b.clients[i]);
    }
    free(b.iocbs);
    free(b.to_submit);
    free(b.events);
    return status;
}
