#define _POSIX_C_SOURCE 200809L
/*
 * The component API on the host: what pn_notify, pn_irq_ack, pn_ppcall and
 * the rest do when a component runs as a thread.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local struct hosted_pd *current;

void hosted_bind_thread(struct hosted_pd *pd)
{
    current = pd;
}

static struct hosted_pd *self(const char *what)
{
    if (current == NULL) {
        fprintf(stderr, "pinion-hosted: %s called outside a component thread\n", what);
        abort();
    }
    return current;
}

const struct pn_config *pn_config(void)
{
    return &self("pn_config")->config;
}

static void emit(struct hosted_pd *pd, const char *text)
{
    struct pn_hosted_system *hs = pd->hs;
    pthread_mutex_lock(&hs->out_lock);
    for (const char *p = text; *p; p++) {
        if (pd->at_line_start) {
            fprintf(hs->out, "%s: ", pd->config.name);
            pd->at_line_start = false;
        }
        fputc(*p, hs->out);
        if (*p == '\n') {
            pd->at_line_start = true;
        }
    }
    fflush(hs->out);
    pthread_mutex_unlock(&hs->out_lock);
}

void pn_phase(uint32_t phase)
{
    (void)self("pn_phase");
    (void)phase;
}

uint64_t pn_time_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

void pn_dbg_puts(const char *s)
{
    emit(self("pn_dbg_puts"), s);
}

_Noreturn void pn_fatal(const char *why)
{
    struct hosted_pd *pd = self("pn_fatal");
    if (!pd->at_line_start) {
        emit(pd, "\n");
    }
    emit(pd, "fatal: ");
    emit(pd, why);
    emit(pd, "\n");
    snprintf(pd->stats.fault, sizeof pd->stats.fault, "%s", why);
    pd->stats.faulted = true;
    longjmp(pd->fatal_exit, 1);
}

/* Wakes `target` for channel `id`; a faulted target drops it. */
void hosted_signal(struct hosted_pd *target, pn_channel id)
{
    uint64_t bit = id == 63 ? PPCALL_PENDING : UINT64_C(1) << id;
    atomic_fetch_or(&target->pending, bit);
    if (atomic_load(&target->state) == PD_IDLE) {
        struct pn_hosted_system *hs = target->hs;
        pthread_mutex_lock(&hs->lock);
        if (atomic_load(&target->state) == PD_IDLE) {
            atomic_store(&target->state, PD_AWAKE);
            pn_futex_wake_all(&target->state);
        }
        pthread_mutex_unlock(&hs->lock);
    }
}

static const struct hosted_route *route(struct hosted_pd *pd, pn_channel ch, const char *what)
{
    if (ch >= PN_CONFIG_MAX_CHANNELS || pd->routes[ch].pd < 0) {
        char why[96];
        snprintf(why, sizeof why, "%s on channel %u, which is not connected", what, ch);
        pn_fatal(why);
    }
    return &pd->routes[ch];
}

void pn_notify(pn_channel ch)
{
    struct hosted_pd *pd = self("pn_notify");
    const struct hosted_route *r = route(pd, ch, "notify");
    pd->stats.notifications_sent++;
    hosted_signal(&pd->hs->pds[r->pd], r->id);
}

bool pn_channel_peer_alive(pn_channel ch)
{
    struct hosted_pd *pd = self("pn_channel_peer_alive");
    const struct hosted_route *r = route(pd, ch, "peer query");
    return !atomic_load(&pd->hs->pds[r->pd].stopped);
}

/*
 * `pd` has just faulted: marked stopped first, then every peer is woken on
 * its channel to it, as the kernel does, so a PD waiting for its answers
 * sees it gone (pn_channel_peer_alive) and can fail over.
 */
void hosted_notify_peers_of_fault(struct hosted_pd *pd)
{
    atomic_store(&pd->stopped, true);
    for (pn_channel id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        const struct hosted_route *r = &pd->routes[id];
        if (r->pd >= 0) {
            hosted_signal(&pd->hs->pds[r->pd], r->id);
        }
    }
}

void pn_deferred_notify(pn_channel ch)
{
    struct hosted_pd *pd = self("pn_deferred_notify");
    route(pd, ch, "deferred notify");
    pd->deferred = (int)ch;
}

static void flush_deferred(struct hosted_pd *pd)
{
    if (pd->deferred >= 0) {
        pn_channel ch = (pn_channel)pd->deferred;
        pd->deferred = -1;
        pd->stats.notifications_deferred++;
        pn_notify(ch);
    }
}

/* Delivers a device interrupt unless an earlier one awaits its ack. */
static void irq_raise_locked(struct hosted_pd *pd, pn_channel ch)
{
    uint64_t bit = UINT64_C(1) << ch;
    if (pd->irq_masked & bit) {
        pd->irq_latched |= bit;
        return;
    }
    pd->irq_masked |= bit;
    pd->stats.irqs_delivered++;
    hosted_signal(pd, ch);
}

bool pn_hosted_raise_irq(struct pn_hosted_system *hs, const char *pd_name, const char *irq_name)
{
    int index = sd_find_pd(hs->sys, pd_name);
    if (index < 0) {
        return false;
    }
    struct hosted_pd *pd = &hs->pds[index];
    const struct pn_config_channel *c = pn_config_channel(&pd->config, irq_name);
    if (c == NULL || !(c->flags & PN_CHANNEL_IRQ)) {
        return false;
    }
    pthread_mutex_lock(&pd->irq_lock);
    irq_raise_locked(pd, c->id);
    pthread_mutex_unlock(&pd->irq_lock);
    return true;
}

void pn_irq_ack(pn_channel ch)
{
    struct hosted_pd *pd = self("pn_irq_ack");
    uint64_t bit = ch < PN_CONFIG_MAX_CHANNELS ? UINT64_C(1) << ch : 0;
    if (!(pd->irq_channels & bit)) {
        char why[80];
        snprintf(why, sizeof why, "irq_ack on channel %u, which is not an interrupt", ch);
        pn_fatal(why);
    }
    pd->stats.irq_acks++;
    pthread_mutex_lock(&pd->irq_lock);
    pd->irq_masked &= ~bit;
    if (pd->irq_latched & bit) {
        pd->irq_latched &= ~bit;
        irq_raise_locked(pd, ch);
    }
    pthread_mutex_unlock(&pd->irq_lock);
}

void pn_mr_set(unsigned index, uint64_t value)
{
    struct hosted_pd *pd = self("pn_mr_set");
    if (index >= PN_MESSAGE_REGISTERS) {
        pn_fatal("pn_mr_set: message register index out of range");
    }
    pd->mr[index] = value;
}

uint64_t pn_mr_get(unsigned index)
{
    struct hosted_pd *pd = self("pn_mr_get");
    if (index >= PN_MESSAGE_REGISTERS) {
        pn_fatal("pn_mr_get: message register index out of range");
    }
    return pd->mr[index];
}

pn_msginfo pn_ppcall(pn_channel ch, pn_msginfo info)
{
    struct hosted_pd *pd = self("pn_ppcall");
    const struct hosted_route *r = route(pd, ch, "ppcall");
    struct hosted_pd *callee = &pd->hs->pds[r->pd];
    if (callee->protected_entry == NULL) {
        char why[120];
        snprintf(why, sizeof why, "ppcall on channel %u: %s has no protected()", ch,
                 callee->config.name);
        pn_fatal(why);
    }
    if (info.count > PN_MESSAGE_REGISTERS) {
        pn_fatal("ppcall with more message registers than there are");
    }
    pthread_mutex_lock(&callee->call_lock);
    callee->call.ch = r->id;
    callee->call.info = info;
    callee->call.callee_faulted = false;
    memcpy(callee->call.mr, pd->mr, sizeof pd->mr);
    pd->stats.ppcalls_made++;
    hosted_signal(callee, 63);
    pn_host_signal_wait(&callee->call.done);
    bool faulted = callee->call.callee_faulted;
    pn_msginfo reply = callee->call.info;
    memcpy(pd->mr, callee->call.mr, sizeof pd->mr);
    pthread_mutex_unlock(&callee->call_lock);
    if (faulted) {
        char why[120];
        snprintf(why, sizeof why, "ppcall on channel %u: %s faulted", ch, callee->config.name);
        pn_fatal(why);
    }
    return reply;
}

static void serve_call(struct hosted_pd *pd)
{
    memcpy(pd->mr, pd->call.mr, sizeof pd->mr);
    pd->stats.ppcalls_served++;
    pd->stats.entries++;
    pd->serving_call = true;
    pn_msginfo reply = pd->protected_entry(pd->call.ch, pd->call.info);
    pd->serving_call = false;
    memcpy(pd->call.mr, pd->mr, sizeof pd->mr);
    pd->call.info = reply;
    pn_host_signal_raise(&pd->call.done);
    flush_deferred(pd);
}

void hosted_enter_init(struct hosted_pd *pd)
{
    pd->stats.entries++;
    pd->init();
    flush_deferred(pd);
}

void hosted_deliver(struct hosted_pd *pd, uint64_t bits)
{
    if (bits & PPCALL_PENDING) {
        if (pd->protected_entry != NULL) {
            serve_call(pd);
        }
        bits &= ~PPCALL_PENDING;
    }
    while (bits) {
        pn_channel ch = (pn_channel)__builtin_ctzll(bits);
        bits &= bits - 1;
        pd->stats.notifications_received++;
        pd->stats.entries++;
        pd->notified(ch);
        flush_deferred(pd);
    }
}
