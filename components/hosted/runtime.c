/*
 * The hosted backend's life cycle: build the PDs from a system description,
 * run them as threads until the system is quiescent, report, tear down.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Called with hs->lock held whenever a PD stops being busy. */
static void check_quiescent(struct pn_hosted_system *hs)
{
    for (int i = 0; i < hs->n_pds; i++) {
        uint32_t state = atomic_load(&hs->pds[i].state);
        if (state == PD_AWAKE || (state == PD_IDLE && atomic_load(&hs->pds[i].pending) != 0)) {
            return;
        }
    }
    hs->quiescent = true;
    pthread_cond_broadcast(&hs->quiescent_changed);
}

/* Returns false when the run is over and the thread should end. */
static bool wait_for_work(struct hosted_pd *pd)
{
    struct pn_hosted_system *hs = pd->hs;
    pthread_mutex_lock(&hs->lock);
    if (hs->stopping) {
        pthread_mutex_unlock(&hs->lock);
        return false;
    }
    /* IDLE before the pending check: a notifier sets pending before it looks at state. */
    atomic_store(&pd->state, PD_IDLE);
    if (atomic_load(&pd->pending) != 0) {
        atomic_store(&pd->state, PD_AWAKE);
        pthread_mutex_unlock(&hs->lock);
        return true;
    }
    check_quiescent(hs);
    pthread_mutex_unlock(&hs->lock);
    uint32_t state;
    while ((state = atomic_load(&pd->state)) == PD_IDLE) {
        pn_futex_wait(&pd->state, PD_IDLE);
    }
    if (state == PD_STOPPED) {
        return false;
    }
    pd->stats.wakeups++;
    return true;
}

static void *pd_thread(void *arg)
{
    struct hosted_pd *pd = arg;
    hosted_bind_thread(pd);
    if (setjmp(pd->fatal_exit) == 0) {
        hosted_enter_init(pd);
        while (!atomic_load(&pd->hs->stop_requested)) {
            uint64_t bits = atomic_exchange(&pd->pending, 0);
            if (bits != 0) {
                hosted_deliver(pd, bits);
            } else if (!wait_for_work(pd)) {
                break;
            }
        }
        return NULL;
    }
    /* pn_fatal: this PD is stopped, the others run on. */
    if (pd->serving_call) {
        pd->call.callee_faulted = true;
        pn_host_signal_raise(&pd->call.done);
    }
    /* While still awake, so the run cannot look quiescent before the peers' wake-ups. */
    hosted_notify_peers_of_fault(pd);
    pthread_mutex_lock(&pd->hs->lock);
    atomic_store(&pd->state, PD_FAULTED);
    check_quiescent(pd->hs);
    pthread_mutex_unlock(&pd->hs->lock);
    return NULL;
}

static bool map_regions(struct pn_hosted_system *hs, char *err, size_t err_len)
{
    for (uint32_t r = 0; r < hs->sys->n_regions; r++) {
        void *memory = mmap(NULL, hs->sys->regions[r].size, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) {
            snprintf(err, err_len, "region \"%s\": cannot allocate %llu bytes: %s",
                     hs->sys->regions[r].name, (unsigned long long)hs->sys->regions[r].size,
                     strerror(errno));
            return false;
        }
        hs->region_memory[r] = memory;
    }
    return true;
}

static bool build_pd(struct pn_hosted_system *hs, int index, char *err, size_t err_len)
{
    const struct sd_pd *desc = &hs->sys->pds[index];
    struct hosted_pd *pd = &hs->pds[index];
    pd->hs = hs;
    pd->index = index;
    pd->deferred = -1;
    pd->at_line_start = true;
    atomic_init(&pd->state, PD_AWAKE);
    pthread_mutex_init(&pd->irq_lock, NULL);
    pthread_mutex_init(&pd->call_lock, NULL);
    if (desc->kind == SD_KIND_VM) {
        snprintf(err, err_len, "PD \"%s\" is a VM: the hosted backend runs components only",
                 desc->name);
        return false;
    }
    sd_build_config(hs->sys, index, &pd->config);
    for (uint32_t m = 0; m < desc->n_maps; m++) {
        for (uint32_t i = 0; i < pd->config.n_regions; i++) {
            if (strcmp(pd->config.regions[i].name, desc->maps[m].name) == 0) {
                /* Host memory stands in for physical memory too. */
                uint64_t host = (uint64_t)(uintptr_t)hs->region_memory[desc->maps[m].region];
                pd->config.regions[i].paddr = host;
                pd->config.regions[i].vaddr = desc->maps[m].rights ? host : 0;
            }
        }
    }
    for (pn_channel id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        int end;
        int channel = sd_channel_of(hs->sys, index, id, &end);
        pd->routes[id].pd = -1;
        if (channel >= 0) {
            const struct sd_channel_end *peer = &hs->sys->channels[channel].ends[1 - end];
            pd->routes[id].pd = peer->pd;
            pd->routes[id].id = peer->id;
        }
    }
    for (uint32_t i = 0; i < desc->n_irqs; i++) {
        pd->irq_channels |= UINT64_C(1) << desc->irqs[i].id;
    }
    return hosted_load_module(hs, pd, desc->program, err, err_len);
}

struct pn_hosted_system *pn_hosted_create(const struct sd_system *sys,
                                          const struct pn_hosted_options *options, char *err,
                                          size_t err_len)
{
    struct pn_hosted_system *hs = calloc(1, sizeof *hs);
    if (hs == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    hs->sys = sys;
    hs->options = *options;
    hs->out = options->output ? options->output : stdout;
    if (hs->options.timeout_ms == 0) {
        hs->options.timeout_ms = 60000;
    }
    pthread_mutex_init(&hs->out_lock, NULL);
    pthread_mutex_init(&hs->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&hs->quiescent_changed, &attr);
    pthread_condattr_destroy(&attr);
    hs->n_pds = (int)sys->n_pds;
    hs->pds = calloc(sys->n_pds ? sys->n_pds : 1, sizeof *hs->pds);
    const char *tmp = getenv("TMPDIR");
    snprintf(hs->module_dir, sizeof hs->module_dir, "%s/pinion-hosted-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (hs->pds == NULL || mkdtemp(hs->module_dir) == NULL) {
        snprintf(err, err_len, "cannot set up: %s", strerror(errno));
        hs->module_dir[0] = '\0';
        pn_hosted_destroy(hs);
        return NULL;
    }
    bool ok = map_regions(hs, err, err_len);
    for (int i = 0; ok && i < hs->n_pds; i++) {
        ok = build_pd(hs, i, err, err_len);
    }
    if (!ok) {
        pn_hosted_destroy(hs);
        return NULL;
    }
    return hs;
}

static void describe_busy(struct pn_hosted_system *hs, char *err, size_t err_len)
{
    size_t len =
        (size_t)snprintf(err, err_len, "not quiescent after %u ms; busy:", hs->options.timeout_ms);
    for (int i = 0; i < hs->n_pds && len < err_len; i++) {
        struct hosted_pd *pd = &hs->pds[i];
        if (atomic_load(&pd->state) == PD_AWAKE || atomic_load(&pd->pending) != 0) {
            len += (size_t)snprintf(err + len, err_len - len, " %s", pd->config.name);
        }
    }
}

bool pn_hosted_run(struct pn_hosted_system *hs, char *err, size_t err_len)
{
    for (int i = 0; i < hs->n_pds; i++) {
        if (pthread_create(&hs->pds[i].thread, NULL, pd_thread, &hs->pds[i]) != 0) {
            snprintf(err, err_len, "cannot start a thread for \"%s\"", hs->pds[i].config.name);
            return false;
        }
        hs->pds[i].thread_started = true;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += hs->options.timeout_ms / 1000;
    deadline.tv_nsec += (long)(hs->options.timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&hs->lock);
    int rc = 0;
    while (!hs->quiescent && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&hs->quiescent_changed, &hs->lock, &deadline);
    }
    bool quiescent = hs->quiescent;
    if (!quiescent) {
        describe_busy(hs, err, err_len);
    }
    pthread_mutex_unlock(&hs->lock);
    return quiescent;
}

bool pn_hosted_stats(const struct pn_hosted_system *hs, const char *pd,
                     struct pn_hosted_stats *stats)
{
    int index = sd_find_pd(hs->sys, pd);
    if (index < 0) {
        return false;
    }
    *stats = hs->pds[index].stats;
    return true;
}

const struct pn_counter_table *pn_hosted_counters(const struct pn_hosted_system *hs, const char *pd)
{
    int index = sd_find_pd(hs->sys, pd);
    if (index < 0 || hs->pds[index].module == NULL) {
        return NULL;
    }
    return dlsym(hs->pds[index].module, PN_COUNTER_TABLE_SYMBOL);
}

void *pn_hosted_region(const struct pn_hosted_system *hs, const char *region, uint64_t *size)
{
    int index = sd_find_region(hs->sys, region);
    if (index < 0) {
        return NULL;
    }
    if (size) {
        *size = hs->sys->regions[index].size;
    }
    return hs->region_memory[index];
}

/*
 * Ends every thread: idle ones are woken to stop, busy ones stop between
 * entries. A PD stuck inside an entry point cannot be stopped; it is left
 * running (detached), and false is returned.
 */
static bool stop_threads(struct pn_hosted_system *hs)
{
    bool all_joined = true;
    pthread_mutex_lock(&hs->lock);
    hs->stopping = true;
    atomic_store(&hs->stop_requested, true);
    for (int i = 0; i < hs->n_pds; i++) {
        uint32_t idle = PD_IDLE;
        if (atomic_compare_exchange_strong(&hs->pds[i].state, &idle, PD_STOPPED)) {
            pn_futex_wake_all(&hs->pds[i].state);
        }
    }
    pthread_mutex_unlock(&hs->lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    for (int i = 0; i < hs->n_pds; i++) {
        struct hosted_pd *pd = &hs->pds[i];
        if (!pd->thread_started) {
            continue;
        }
        if (pthread_timedjoin_np(pd->thread, NULL, &deadline) != 0) {
            all_joined = false;
            pthread_detach(pd->thread);
        }
    }
    return all_joined;
}

void pn_hosted_destroy(struct pn_hosted_system *hs)
{
    if (hs == NULL) {
        return;
    }
    bool joined = hs->pds ? stop_threads(hs) : true;
    /* Code and memory a runaway thread may still use stay mapped. */
    if (joined) {
        for (int i = 0; hs->pds && i < hs->n_pds; i++) {
            if (hs->pds[i].module) {
                dlclose(hs->pds[i].module);
            }
            pthread_mutex_destroy(&hs->pds[i].irq_lock);
            pthread_mutex_destroy(&hs->pds[i].call_lock);
        }
        for (uint32_t r = 0; r < hs->sys->n_regions; r++) {
            if (hs->region_memory[r]) {
                munmap(hs->region_memory[r], hs->sys->regions[r].size);
            }
        }
        free(hs->pds);
    }
    if (hs->module_dir[0]) {
        rmdir(hs->module_dir);
    }
    if (joined) {
        pthread_mutex_destroy(&hs->out_lock);
        pthread_mutex_destroy(&hs->lock);
        pthread_cond_destroy(&hs->quiescent_changed);
        free(hs);
    }
}
