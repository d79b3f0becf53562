/* A minimal io_uring over raw system calls (see blk_uring.h). */
#define _GNU_SOURCE /* syscall(), MAP_POPULATE */
#include "blk_uring.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *map_ring(int fd, size_t bytes, off_t offset)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
    return p == MAP_FAILED ? NULL : p;
}

bool blk_uring_open(struct blk_uring *u, unsigned entries, char *err, size_t err_size)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    memset(u, 0, sizeof *u);
    u->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
    if (u->fd < 0) {
        snprintf(err, err_size, "io_uring_setup(%u): %s (is CONFIG_IO_URING on?)", entries,
                 strerror(errno));
        return false;
    }
    size_t sq_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        sq_bytes = cq_bytes = sq_bytes > cq_bytes ? sq_bytes : cq_bytes;
    }
    unsigned char *sq = map_ring(u->fd, sq_bytes, IORING_OFF_SQ_RING);
    unsigned char *cq =
        (p.features & IORING_FEAT_SINGLE_MMAP) ? sq : map_ring(u->fd, cq_bytes, IORING_OFF_CQ_RING);
    u->sqes = map_ring(u->fd, p.sq_entries * sizeof(struct io_uring_sqe), IORING_OFF_SQES);
    if (sq == NULL || cq == NULL || u->sqes == NULL) {
        snprintf(err, err_size, "mapping the io_uring: %s", strerror(errno));
        close(u->fd);
        return false;
    }
    u->entries = p.sq_entries;
    u->sq_head = (unsigned *)(sq + p.sq_off.head);
    u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    u->sq_array = (unsigned *)(sq + p.sq_off.array);
    u->sq_local_tail = *u->sq_tail;
    u->cq_head = (unsigned *)(cq + p.cq_off.head);
    u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return true;
}

struct io_uring_sqe *blk_uring_get_sqe(struct blk_uring *u)
{
    unsigned head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
    if (u->sq_local_tail - head >= u->entries) {
        return NULL;
    }
    unsigned index = u->sq_local_tail & *u->sq_mask;
    struct io_uring_sqe *sqe = &u->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    u->sq_array[index] = index;
    u->sq_local_tail++;
    u->to_submit++;
    return sqe;
}

int blk_uring_enter(struct blk_uring *u, bool wait)
{
    /* The entries are filled before the kernel may see the new tail. */
    __atomic_store_n(u->sq_tail, u->sq_local_tail, __ATOMIC_RELEASE);
    unsigned submit = u->to_submit;
    if (submit == 0 && !wait) {
        return 0; /* completions are read from the shared ring: no call needed */
    }
    long done = syscall(__NR_io_uring_enter, u->fd, submit, wait ? 1 : 0,
                        wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
    if (done < 0) {
        return -errno;
    }
    /* What the kernel did not take stays queued for the next call. */
    u->to_submit = submit - (unsigned)done;
    return 0;
}

struct io_uring_cqe *blk_uring_peek_cqe(struct blk_uring *u)
{
    unsigned head = *u->cq_head;
    if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE)) {
        return NULL;
    }
    return &u->cqes[head & *u->cq_mask];
}

void blk_uring_cqe_seen(struct blk_uring *u)
{
    __atomic_store_n(u->cq_head, *u->cq_head + 1, __ATOMIC_RELEASE);
}
