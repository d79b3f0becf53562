/*
 * Promela model of pinion's net queue signalling protocol
 * (components/include/pinion/ring.h, net_queue.h). Checked by spin through
 * tests/spin/check-model; docs/signal-model.md explains the model.
 *
 * A filler and a drainer share a pair of single-producer single-consumer
 * rings, `free` and `active`, through which NBUF buffers circulate. The
 * filler takes empty buffers from free, writes an item (its sequence number)
 * into them and gives them to active; the drainer takes them from active,
 * checks the sequence number and gives the buffer back to free. Each side
 * consumes one ring and sleeps on it with request / double check / cancel;
 * each side produces into the other ring and notifies with require.
 *
 * Variants (spin runs cpp on this file):
 *   (none)          the protocol as ring.h implements it: must verify.
 *   -DBROKEN        the consumer requests a signal and sleeps without the
 *                   double check: must be rejected (lost wake-up).
 *   -DBROKEN_ORDER  the producer looks at signal_wanted before it publishes
 *                   the new tail: must be rejected (lost wake-up).
 * Size (all optional): -DNBUF=2 -DCAP=2 -DNITEMS=6 -DSPURIOUS=1.
 *
 * Properties:
 *   1. no lost wake-up: the only blocking statement is the wait for a
 *      notification, and it carries no end label, so a state in which a PD
 *      sleeps while the other cannot wake it is an invalid end state. The
 *      legitimate end (everything delivered) is process termination.
 *   2. every item is delivered once, in order: the drainer asserts each
 *      sequence number is the next expected; at the end init asserts that
 *      the counts agree.
 *   3. buffer conservation: the monitor `conservation` asserts in every
 *      reachable state that each buffer is in exactly one place.
 * Spin's interleaving semantics is sequentially consistent; the C code gets
 * sequential consistency for the signal handshake from seq_cst stores and
 * loads on both sides (see ring.h), and acquire/release for slot contents.
 */

#ifndef NBUF
#define NBUF 2          /* buffers circulating in the pair */
#endif
#ifndef CAP
#define CAP NBUF        /* ring capacity (a power of two in C) */
#endif
#ifndef NITEMS
#define NITEMS 6        /* items the filler produces, then both stop */
#endif
#ifndef SPURIOUS
#define SPURIOUS 1      /* notifications from other channels, per PD */
#endif

/*
 * Indices run freely modulo IDXMOD, as the C code's uint32_t counters run
 * modulo 2^32; slot = index % CAP. 2*CAP is the smallest modulus that keeps
 * "full" (CAP items) apart from "empty" (0 items).
 */
#define IDXMOD (2 * CAP)
#define NONE 255        /* no buffer held */

/*
 * The variants are selected by constants rather than by #ifdef around the
 * code, so that every variant keeps the same line numbers in spin's output.
 */
#ifdef BROKEN
#define DOUBLE_CHECK 0
#else
#define DOUBLE_CHECK 1
#endif
#ifdef BROKEN_ORDER
#define FLAG_BEFORE_PUBLISH 1
#else
#define FLAG_BEFORE_PUBLISH 0
#endif

#if NBUF > 4 || CAP > 4 || CAP < NBUF
#error "the model supports NBUF <= CAP <= 4"
#endif

typedef ring {
    byte tail;          /* written by the producer only */
    byte head;          /* written by the consumer only */
    bit signal_wanted;  /* owned by the consumer, cleared by the producer */
    byte slot[CAP]      /* buffer ids (descriptors) */
};

ring rfree;             /* empty buffers: drainer -> filler */
ring ractive;           /* full buffers:  filler -> drainer */

byte data[NBUF];        /* buffer contents: an item's sequence number, or NONE */

/* One notification bit per PD, shared by all its channels. */
bit notif_filler;
bit notif_drainer;

/* The buffer each side holds, if any (global so the monitor sees it). */
byte fill_hold = NONE;
byte drain_hold = NONE;

byte produced;          /* items given to active by the filler */
byte consumed;          /* items checked by the drainer */
bit filler_done;
bit drainer_done;

/* ---------------------------------------------------------------- rings */

#define COUNT(r) ((r.tail + IDXMOD - r.head) % IDXMOD)
/* slot i lies in [head, tail) */
#define OCCUPIED(r, i) ((((i) + CAP - (r.head % CAP)) % CAP) < COUNT(r))
#define SLOT_HAS(r, i, b) ((OCCUPIED(r, i) && r.slot[i] == (b)) -> 1 : 0)
#if CAP == 1
#define IN_RING(r, b) (SLOT_HAS(r, 0, b))
#elif CAP == 2
#define IN_RING(r, b) (SLOT_HAS(r, 0, b) + SLOT_HAS(r, 1, b))
#elif CAP == 3
#define IN_RING(r, b) (SLOT_HAS(r, 0, b) + SLOT_HAS(r, 1, b) + SLOT_HAS(r, 2, b))
#else
#define IN_RING(r, b) (SLOT_HAS(r, 0, b) + SLOT_HAS(r, 1, b) + SLOT_HAS(r, 2, b) + SLOT_HAS(r, 3, b))
#endif

/* The number of places buffer b is in: must be exactly 1. */
#define PLACES(b) (IN_RING(rfree, b) + IN_RING(ractive, b) + \
                   ((fill_hold == (b)) -> 1 : 0) + ((drain_hold == (b)) -> 1 : 0))
#define HELD(h) (((h) != NONE) -> 1 : 0)
#define TOTAL (COUNT(rfree) + COUNT(ractive) + HELD(fill_hold) + HELD(drain_hold))

#if NBUF == 1
#define EACH_ONCE (PLACES(0) == 1)
#elif NBUF == 2
#define EACH_ONCE (PLACES(0) == 1 && PLACES(1) == 1)
#elif NBUF == 3
#define EACH_ONCE (PLACES(0) == 1 && PLACES(1) == 1 && PLACES(2) == 1)
#else
#define EACH_ONCE (PLACES(0) == 1 && PLACES(1) == 1 && PLACES(2) == 1 && PLACES(3) == 1)
#endif
/* Each buffer in exactly one place, and nothing else in any ring. */
#define CONSERVED (EACH_ONCE && TOTAL == NBUF)

/*
 * pn_ring_consumer_available: one acquire load of the producer's tail.
 * The C code reports an impossible count as PN_RING_CORRUPT; here the peer
 * is correct, so it must never happen.
 */
inline available(r, own, n)
{
    n = (r.tail + IDXMOD - own) % IDXMOD;
    assert(n <= CAP)
}

/*
 * pn_ring_pop after its availability check: copy the slot out, then
 * publish head with release. One atomic step: until head is published the
 * producer cannot reuse the slot, and nobody else reads it. The stale slot
 * is cleared (C leaves it) so that stale contents do not multiply states.
 */
inline take(r, own, hold)
{
    d_step {
        hold = r.slot[own % CAP];
        r.slot[own % CAP] = NONE;
        own = (own + 1) % IDXMOD;
        r.head = own
    }
}

/*
 * pn_ring_push: an acquire load of head for the space check, then copy into
 * the slot and publish tail with release (one step, as for take). With
 * CAP >= NBUF a ring can never be full: conservation guarantees it.
 */
inline give(r, own, hold, n)
{
    n = CAP - (own + IDXMOD - r.head) % IDXMOD;
    assert(n > 0 && n <= CAP);
    d_step {
        r.slot[own % CAP] = hold;
        hold = NONE;
        own = (own + 1) % IDXMOD;
        r.tail = own
    }
}

/*
 * pn_ring_require_signal after a push (tail re-published as a seq_cst
 * store first): a seq_cst load of signal_wanted, and only if it is set an
 * atomic exchange with 0;
 * notify if the exchange returned 1. The PD's notification is a binary
 * semaphore: notifying sets the pending bit, several notifies merge.
 */
inline require_and_notify(r, notif, old)
{
    if
    :: r.signal_wanted == 1 ->
        d_step { old = r.signal_wanted; r.signal_wanted = 0 };
        if
        :: old == 1 -> notif = 1
        :: else -> skip
        fi
    :: else -> skip
    fi;
    old = 0
}

/*
 * The consumer found the ring empty and wants to sleep:
 * pn_ring_request_signal (a seq_cst store), the double check (a seq_cst
 * load of tail), then cancel and go on, or wait. Waiting blocks
 * until the PD's notification bit is set and clears it. This statement has
 * no end label: sleeping forever is an error unless the system finished,
 * and a PD that finished has left its loop and terminated.
 */
inline wait_for_work(r, own, notif, n)
{
    r.signal_wanted = 1;
    if
    :: DOUBLE_CHECK ->
        available(r, own, n);
        if
        :: n > 0 ->
            r.signal_wanted = 0     /* cancel: there is work after all */
        :: else ->
            atomic { notif == 1 -> notif = 0 }  /* sleep */
        fi
    :: else ->
        /* BROKEN: no double check. */
        atomic { notif == 1 -> notif = 0 }      /* sleep */
    fi;
    n = 0
}

/* ------------------------------------------------------------ the PDs */

/* E.g. a driver receiving packets: consumer of free, producer of active. */
proctype filler()
{
    byte free_own = 0;      /* head of free: we consume it */
    byte active_own = 0;    /* tail of active: we produce into it */
    byte n, old;

    do
    :: produced < NITEMS ->
        available(rfree, free_own, n);
        if
        :: n > 0 ->
            n = 0;
            take(rfree, free_own, fill_hold);
            assert(fill_hold < NBUF);
            d_step { data[fill_hold] = produced; produced++ };
            if
            :: !FLAG_BEFORE_PUBLISH ->
                give(ractive, active_own, fill_hold, n);
                require_and_notify(ractive, notif_drainer, old)
            :: else ->
                /* BROKEN_ORDER: look at the flag, then publish the item. */
                if
                :: ractive.signal_wanted == 1 ->
                    d_step { old = ractive.signal_wanted; ractive.signal_wanted = 0 }
                :: else -> skip
                fi;
                give(ractive, active_own, fill_hold, n);
                if
                :: old == 1 -> notif_drainer = 1
                :: else -> skip
                fi;
                old = 0
            fi
        :: else ->
            wait_for_work(rfree, free_own, notif_filler, n)
        fi;
        n = 0
    :: else -> break
    od;
    filler_done = 1
}

/* E.g. a client receiving packets: consumer of active, producer of free. */
proctype drainer()
{
    byte active_own = 0;            /* head of active: we consume it */
    byte free_own = NBUF % IDXMOD;  /* tail of free: it starts full */
    byte expected = 0;
    byte n, old;

    do
    :: consumed < NITEMS ->
        available(ractive, active_own, n);
        if
        :: n > 0 ->
            n = 0;
            take(ractive, active_own, drain_hold);
            d_step {
                assert(drain_hold < NBUF);
                assert(data[drain_hold] == expected);   /* in order, once */
                data[drain_hold] = NONE;    /* consumed: contents gone */
                expected++;
                consumed++
            };
            give(rfree, free_own, drain_hold, n);
            require_and_notify(rfree, notif_filler, old)
        :: else ->
            wait_for_work(ractive, active_own, notif_drainer, n)
        fi;
        n = 0
    :: else -> break
    od;
    drainer_done = 1
}

/* Notifications for other channels of the same PD: spurious wake-ups. */
proctype other_channels()
{
    byte to_filler = SPURIOUS;
    byte to_drainer = SPURIOUS;
    do
    :: to_filler > 0 -> notif_filler = 1; to_filler--
    :: to_drainer > 0 -> notif_drainer = 1; to_drainer--
    :: break
    od
}

/* Property 3, checked in every reachable state. Blocks otherwise. */
proctype conservation()
{
end:
    atomic { !CONSERVED -> assert(CONSERVED) }
}

init {
    byte i;
    /* The system builder formats the pair; the free ring starts full. */
    d_step {
        i = 0;
        do
        :: i < CAP ->
            rfree.slot[i] = ((i < NBUF) -> i : NONE);
            if
            :: i < NBUF -> data[i] = NONE
            :: else -> skip
            fi;
            ractive.slot[i] = NONE;
            i++
        :: else -> break
        od;
        rfree.tail = NBUF % IDXMOD;
        i = 0
    };
    atomic {
        run conservation();
        run filler();
        run drainer();
        run other_channels()
    };
    /* The legitimate end: both PDs stopped, everything delivered. */
    filler_done == 1 && drainer_done == 1;
    d_step {
        assert(produced == NITEMS && consumed == NITEMS);
        assert(COUNT(rfree) == NBUF && COUNT(ractive) == 0);
        assert(fill_hold == NONE && drain_hold == NONE)
    }
}
