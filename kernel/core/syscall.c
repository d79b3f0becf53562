/* The system calls of native PDs (pinion/syscalls.h). */
#include "arch.h"
#include "console.h"
#include "kernel.h"
#include "sysreg.h"

#include <pinion/syscalls.h>

static void sys_wait(struct core *c, struct pd *pd)
{
    uint64_t deferred_notify = pd->ctx.x[0], deferred_ack = pd->ctx.x[1];
    count(c, EV_waits);
    if (deferred_ack) {
        irq_ack(c, pd, (uint32_t)(deferred_ack - 1));
    }
    if (deferred_notify) {
        notify_send(c, pd, (uint32_t)(deferred_notify - 1));
    }
    if (pd->state == PD_FAULTED) {
        return;
    }
    notify_take_incoming(c);
    if (pd->pending) {
        pd->ctx.x[0] = pd->pending;
        pd->ctx.x[1] = atomic_load_explicit(&pd->peers_stopped, memory_order_relaxed);
        pd->pending = 0;
        return;
    }
    pd->state = PD_WAITING;
    sched_block(c, pd);
}

/* Reads a PD's buffer through its own translation, so it can name only its own memory. */
static const char *pd_buffer(struct pd *pd, uint64_t ipa, uint64_t len)
{
    uint64_t pa = stage2_translate(pd->stage2_root, ipa, len);
    return pa ? (const char *)(uintptr_t)pa : 0;
}

static void sys_puts(struct core *c, struct pd *pd, bool fatal)
{
    uint64_t ipa = pd->ctx.x[0], len = pd->ctx.x[1];
    if (len > PN_PUTS_MAX) {
        len = PN_PUTS_MAX;
    }
    const char *text = len ? pd_buffer(pd, ipa, len) : "";
    if (text == 0) {
        fault_stop_pd(c, pd, "debug output from memory it cannot read", ipa, pd->ctx.elr);
        return;
    }
    if (!fatal) {
        console_write_pd(pd->name, text, len, &pd->at_line_start);
        return;
    }
    if (!pd->at_line_start) {
        console_write_pd(pd->name, "\n", 1, &pd->at_line_start);
    }
    console_write_pd(pd->name, "fatal: ", 7, &pd->at_line_start);
    console_write_pd(pd->name, text, len, &pd->at_line_start);
    console_write_pd(pd->name, "\n", 1, &pd->at_line_start);
    fault_stop_pd(c, pd, "stopped itself (pn_fatal)", 0, pd->ctx.elr);
}

static uint64_t nanoseconds(void)
{
    uint64_t ticks = timer_now(), hz = read_sysreg(cntfrq_el0);
    return ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
}

void syscall_dispatch(struct core *c, struct pd *pd, uint32_t number)
{
    switch (number) {
    case PN_SYS_WAIT:
        sys_wait(c, pd);
        break;
    case PN_SYS_NOTIFY:
        notify_send(c, pd, (uint32_t)pd->ctx.x[0]);
        break;
    case PN_SYS_IRQ_ACK:
        irq_ack(c, pd, (uint32_t)pd->ctx.x[0]);
        break;
    case PN_SYS_PUTS:
        sys_puts(c, pd, false);
        break;
    case PN_SYS_FATAL:
        sys_puts(c, pd, true);
        break;
    case PN_SYS_TIME:
        pd->ctx.x[0] = nanoseconds();
        break;
    case PN_SYS_PHASE:
        if (pd->ctx.x[0] >= PN_PHASE_COUNT) {
            fault_stop_pd(c, pd, "measurement phase out of range", pd->ctx.x[0], pd->ctx.elr);
            break;
        }
        counters_set_phase((uint32_t)pd->ctx.x[0]);
        mark_phase((uint32_t)pd->ctx.x[0]);
        break;
    case PN_SYS_FAULT:
        fault_from_pd_vector(c, pd, pd->ctx.x[0]);
        break;
    default:
        fault_stop_pd(c, pd, "unknown system call", number, pd->ctx.elr);
        break;
    }
}
