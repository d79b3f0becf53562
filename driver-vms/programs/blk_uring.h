/*
 * A minimal io_uring over raw system calls, for blk-bridge (the guest's C
 * library has no liburing, and nothing may be downloaded): one ring, its
 * submission and completion queues mapped once, submission entries filled
 * by the caller, and one io_uring_enter both submitting and waiting.
 */
#ifndef PINION_BLK_URING_H
#define PINION_BLK_URING_H

#include <linux/io_uring.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_uring {
    int fd;
    unsigned entries;
    /* Submission queue: the kernel's head, our tail, the index array, the entries. */
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    struct io_uring_sqe *sqes;
    unsigned sq_local_tail, to_submit;
    /* Completion queue: our head, the kernel's tail, the entries. */
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
};

/* Sets up a ring of `entries` (a power of two). False with a message in err. */
bool blk_uring_open(struct blk_uring *u, unsigned entries, char *err, size_t err_size);

/* A cleared submission entry to fill, or NULL when the submission queue is full. */
struct io_uring_sqe *blk_uring_get_sqe(struct blk_uring *u);

/*
 * Submits what was filled since the last call and, when `wait`, waits for at
 * least one completion. 0, or -errno (-EINTR when a signal came).
 */
int blk_uring_enter(struct blk_uring *u, bool wait);

/* The next completion, or NULL; blk_uring_cqe_seen hands its entry back. */
struct io_uring_cqe *blk_uring_peek_cqe(struct blk_uring *u);
void blk_uring_cqe_seen(struct blk_uring *u);

#endif
