/*
 * The cost model (docs/place.md, "The model"): for a layout (entity to
 * core, who polls, batching per channel) and an offered load, each core's
 * utilisation by cause, the sustainable throughput (where the busiest core
 * saturates), and the end-to-end latency along each flow.
 */
#ifndef PINION_PLACE_MODEL_H
#define PINION_PLACE_MODEL_H

#include "problem.h"

#include <pinion/bootinfo.h>

/* A layout: where each entity runs and which poll. */
struct pl_layout {
    int core[PL_MAX_ENTITIES];
    bool polling[PL_MAX_ENTITIES];
};

/* Batching of each channel, as the placement format knows it. */
struct pl_batching {
    uint8_t policy[PL_MAX_CHANNELS];     /* enum pn_batch_policy */
    uint16_t count[PL_MAX_CHANNELS];     /* coalesce: flush at this many, */
    uint32_t window_us[PL_MAX_CHANNELS]; /* or this long after the first */
};

struct pl_core_figures {
    double util;    /* busy fraction at the offered load (a polling core spins the rest) */
    double work;    /* parts of util: the PDs' work per I/O, */
    double wakeups; /* their handlers' fixed cost per wake-up, */
    double kernel;  /* the kernel's notifications, SGIs, interrupts, VM exits and injections, */
    double lines;   /* and cache lines pulled from other cores */
    double notifications_in; /* per I/O, delivered to PDs here */
    double sgis_in;          /* per I/O, taken here */
    bool polling;
    uint32_t n_entities;
};

struct pl_flow_figures {
    double total_ns, service_ns, switch_ns, cross_ns, queue_ns, external_ns;
    uint32_t cross_hops, same_hops;
};

struct pl_result {
    bool smp;    /* the multicore kernel's costs applied */
    bool stable; /* every core below 100% at the offered load */
    bool within_cap;
    double latency_ns; /* mean over the flows, weighted by share; INFINITY when not stable */
    double throughput; /* I/Os per second at which the busiest core saturates */
    int bottleneck;    /* that core */
    int busiest;       /* the busiest core at the offered load */
    double max_util;   /* its utilisation */
    double total_cpu;  /* sum of utilisations, a polling core counted whole */
    uint32_t cores_used;
    struct pl_core_figures core[PL_MAX_CORES];
    struct pl_flow_figures flow[PL_MAX_FLOWS];
    struct pl_batching batching;        /* what was used (chosen by the rule, or given) */
    double notifications[PL_MAX_EDGES]; /* per I/O, after batching by the receiver's load */
    double sgis[PL_MAX_EDGES];          /* per I/O */
};

/*
 * Evaluates `layout`. With `given` NULL the batching of each channel is
 * chosen by the policy's rule (end of handler across cores; coalescing
 * instead where it saves CPU and the policy is not latency); otherwise
 * `given` is used as it is. With `want_throughput` false, throughput is
 * left 0 (it costs a search over the load).
 */
void pl_evaluate(const struct pl_problem *problem, const struct pl_layout *layout,
                 const struct pl_batching *given, bool want_throughput, struct pl_result *out);

/*
 * The busiest core's utilisation if `layout` carried `load` (batching by the
 * rule): one fixed point, where the throughput needs a search. The solvers
 * use it to tell whether a layout can beat a throughput already found.
 */
double pl_max_util_at(const struct pl_problem *p, const struct pl_layout *layout, double load);

/* The notifications per I/O that survive batching when the receiving core is `util` busy. */
double pl_batching_factor(const struct pl_costs *costs, double util);

/* Whether the multicore kernel's costs apply to a layout using `cores_used` cores. */
bool pl_uses_smp(const struct pl_problem *problem, uint32_t cores_used);

#endif
