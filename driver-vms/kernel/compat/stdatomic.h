/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of C11's <stdatomic.h> that pinion's ring code
 * (components/include/pinion/ring.h) uses, for code built into the guest
 * kernel, which has no C library headers: the same operations, on the
 * compiler's __atomic builtins as GCC's own header defines them, so the
 * queues compile to the same instructions in the kernel as in user space.
 */
#ifndef PINION_COMPAT_STDATOMIC_H
#define PINION_COMPAT_STDATOMIC_H

typedef enum {
	memory_order_relaxed = __ATOMIC_RELAXED,
	memory_order_consume = __ATOMIC_CONSUME,
	memory_order_acquire = __ATOMIC_ACQUIRE,
	memory_order_release = __ATOMIC_RELEASE,
	memory_order_acq_rel = __ATOMIC_ACQ_REL,
	memory_order_seq_cst = __ATOMIC_SEQ_CST,
} memory_order;

#define atomic_load_explicit(object, order) __atomic_load_n(object, order)
#define atomic_store_explicit(object, value, order) \
	__atomic_store_n(object, value, order)
#define atomic_exchange_explicit(object, value, order) \
	__atomic_exchange_n(object, value, order)

#endif
