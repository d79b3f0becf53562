/*
 * A cost profile: what things cost on a board (per-event costs of the
 * kernel, copies, cache-line transfers), how notifications batch, what an
 * I/O is, and how much work each PD of a system does per I/O. One JSON file
 * per board (boards/NAME/profile.json); the format is in docs/place.md.
 * Every cost carries the source it was derived from.
 *
 * All costs are held in reference cycles: cycles of the profile's reference
 * core type (instructions times its cycles per instruction when the profile
 * counts instructions). The model scales them to each core by its speed.
 */
#ifndef PINION_PLACE_PROFILE_H
#define PINION_PLACE_PROFILE_H

#include "sysdesc.h"
#include "topology.h"

#include <stdbool.h>
#include <stdint.h>

#define PL_MAX_CORE_TYPES 8
#define PL_MAX_WORK       96
#define PL_MAX_RATES      128
#define PL_MAX_FLOWS      8
#define PL_MAX_PATH       32
#define PL_SOURCE_MAX     512

struct pl_core_type {
    char type[PL_NAME_MAX];
    uint32_t mhz;
    uint32_t capacity;
};

/* Per-I/O work of one PD (or one vCPU, "vm/vcpu1"), or of every PD running a program. */
struct pl_work {
    char name[PL_NAME_MAX];
    double work;       /* reference cycles per I/O, batching aside */
    double activation; /* reference cycles each time the PD is woken (its handler's fixed cost) */
    double irqs;       /* device interrupts per I/O when nothing batches */
    double copy_bytes; /* bytes copied per I/O, at events.copy_per_byte */
    double exits;      /* VM exits per I/O besides notifications (VMs only) */
    bool has_activation;
    char source[PL_SOURCE_MAX];
};

/* Notifications per I/O on a channel when nothing batches, each way, and cache lines moved. */
struct pl_channel_rate {
    char name[PL_NAME_MAX];
    double forward;  /* end 0 to end 1 */
    double backward; /* end 1 to end 0 */
    double lines;    /* cache lines the receiver pulls from the sender per I/O */
};

struct pl_flow_spec {
    double share; /* of the I/Os */
    uint32_t n;
    char path[PL_MAX_PATH][PL_NAME_MAX]; /* PD or vCPU names, in the order an I/O visits them */
};

struct pl_events {
    double notify_same_core;   /* signal and switch to a PD on the same core */
    double cross_core_notify;  /* sender: a notification queued for another core */
    double cross_core_sgi;     /* sender: one SGI sent */
    double cross_core_receive; /* receiving core: an SGI taken, the PD switched in */
    double sgi_flight;         /* latency only: from the SGI sent to the receiver running */
    double device_irq;         /* a device interrupt delivered to its PD */
    double coalesce_timer;     /* sender: a coalescing window closed by the timer */
    double vm_exit;            /* a VM exit and return (a vCPU's notification out) */
    double vm_inject;          /* a virtual interrupt injected (a notification into a vCPU) */
    double copy_per_byte;
    double line_same_cluster_ns;
    double line_cross_cluster_ns;
    double poll_detect_ns; /* latency only: a polling core noticing work */
};

struct pl_smp_kernel {
    bool present;
    double work_factor;       /* per-I/O work on the multicore kernel, relative */
    double activation_factor; /* per-wake-up costs (kernel and handler) on it, relative */
    double notify_same_core;
    double device_irq;
};

struct pl_profile {
    char name[PL_NAME_MAX];
    char source[SD_PATH_MAX];
    bool instructions; /* the file counts instructions (converted to cycles on load) */
    char reference_type[PL_NAME_MAX];
    double reference_cpi;
    uint32_t n_core_types;
    struct pl_core_type core_types[PL_MAX_CORE_TYPES];
    struct pl_events events;
    struct pl_smp_kernel smp;
    double batching_shape;  /* beta: notifications fall as (1 - utilisation)^beta */
    double batching_window; /* W: at most W I/Os share one notification */
    uint32_t coalesce_count, coalesce_window_us;
    char io_unit[PL_NAME_MAX];
    double io_bits;             /* bits of offered load per I/O (for Mb/s); 0 when not given */
    double default_rate;        /* I/Os per second when --load is not given */
    double max_rate;            /* what the device or link can carry, I/Os per second; 0 none */
    double external_latency_ns; /* the part of a round trip outside the system */
    struct pl_channel_rate default_channel;
    double default_activation;
    uint32_t n_programs;
    struct pl_work programs[PL_MAX_WORK];
    /* The section for the system being placed (systems.NAME), when the profile has one. */
    bool has_system;
    uint32_t n_work;
    struct pl_work work[PL_MAX_WORK];
    uint32_t n_rates;
    struct pl_channel_rate rates[PL_MAX_RATES];
    uint32_t n_flows;
    struct pl_flow_spec flows[PL_MAX_FLOWS];
};

/*
 * Loads a profile, keeping the systems.<system_name> section. Fails with one
 * message naming the file, the object and the problem.
 */
bool pl_profile_load(const char *path, const char *system_name, struct pl_profile *out,
                     struct sd_error *err);

/* The core type's fallbacks for what a device tree leaves out; NULL when the profile has none. */
const struct pl_core_type *pl_profile_core_type(const struct pl_profile *profile, const char *type);

/*
 * Parses a load: "500Mb/s", "1.2Gb/s", "42000/s", or a bare number of I/Os
 * per second. Mb/s needs the profile's io.bits. Fails with a message.
 */
bool pl_parse_load(const char *text, const struct pl_profile *profile, double *rate,
                   struct sd_error *err);

/* "500 Mb/s (42,460 packet/s)" or "42,460 packet/s", for the reports. */
void pl_format_load(char *out, size_t size, double rate, const struct pl_profile *profile);

/*
 * Per-PD work measured by experiments/run: from summary.json, a phase's user
 * instructions of each PD (and its kernel ones with include_kernel), divided
 * by the I/O count. `ios` is a number or PD.COUNTER (a PD's own counter in
 * the summary). The result replaces the profile's work for those PDs.
 */
bool pl_measured_load(const char *summary_path, const char *phase, const char *ios,
                      bool include_kernel, const struct sd_system *sys, struct pl_profile *profile,
                      struct sd_error *err);

#endif
