/* State shared by the hosted backend's files; not part of its interface. */
#ifndef PINION_HOSTED_INTERNAL_H
#define PINION_HOSTED_INTERNAL_H

#include "hosted.h"
#include "hostsync.h"

#include <pinion/component.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>

enum hosted_pd_state {
    PD_AWAKE = 0,   /* running, or about to */
    PD_IDLE = 1,    /* waiting for a notification */
    PD_FAULTED = 2, /* stopped by pn_fatal; other PDs run on */
    PD_STOPPED = 3, /* the run is over */
};

/* Pending bit 63 is not a channel: it asks the PD to serve a call. */
#define PPCALL_PENDING (UINT64_C(1) << 63)

struct hosted_call {
    pn_channel ch; /* the callee's channel id */
    pn_msginfo info;
    uint64_t mr[PN_MESSAGE_REGISTERS];
    bool callee_faulted;
    struct pn_host_signal done;
};

struct hosted_route {
    int pd; /* peer PD, -1 when the channel id is unused */
    pn_channel id;
};

struct hosted_pd {
    struct pn_hosted_system *hs;
    int index;
    struct pn_config config;
    void *module;
    void (*init)(void);
    void (*notified)(pn_channel ch);
    pn_msginfo (*protected_entry)(pn_channel ch, pn_msginfo info);
    pthread_t thread;
    bool thread_started;

    _Atomic uint64_t pending;
    _Atomic uint32_t state; /* enum hosted_pd_state; also the futex word */
    _Atomic bool stopped;   /* faulted: set before its peers are woken, read by them */
    int deferred;           /* channel to notify when the entry returns, or -1 */
    uint64_t mr[PN_MESSAGE_REGISTERS];
    bool at_line_start;

    uint64_t irq_channels;
    pthread_mutex_t irq_lock;
    uint64_t irq_masked;  /* delivered, not yet acknowledged */
    uint64_t irq_latched; /* raised again while masked */

    pthread_mutex_t call_lock; /* one caller at a time */
    struct hosted_call call;
    bool serving_call;

    struct hosted_route routes[PN_CONFIG_MAX_CHANNELS];
    jmp_buf fatal_exit;
    struct pn_hosted_stats stats;
};

struct pn_hosted_system {
    const struct sd_system *sys;
    struct pn_hosted_options options;
    FILE *out;
    pthread_mutex_t out_lock;
    int n_pds;
    struct hosted_pd *pds;
    void *region_memory[SD_MAX_REGIONS];
    pthread_mutex_t lock; /* guards state transitions out of IDLE, and quiescence */
    pthread_cond_t quiescent_changed;
    bool quiescent;
    bool stopping;
    _Atomic bool stop_requested; /* read by busy PDs between entries, outside the lock */
    char module_dir[256];
};

/* api.c */
void hosted_enter_init(struct hosted_pd *pd);
void hosted_deliver(struct hosted_pd *pd, uint64_t bits);
void hosted_signal(struct hosted_pd *target, pn_channel id);
void hosted_notify_peers_of_fault(struct hosted_pd *pd);
void hosted_bind_thread(struct hosted_pd *pd);

/* loader.c */
bool hosted_load_module(struct pn_hosted_system *hs, struct hosted_pd *pd, const char *program,
                        char *err, size_t err_len);

#endif
