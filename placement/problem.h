/*
 * A placement problem as the model and the solvers see it: entities to
 * place (PDs, and each vCPU of a VM), the notification edges between them,
 * the paths I/Os take, the cores with their speeds and distances, the
 * resolved costs, the constraints, the policy and the offered load.
 *
 * It is built from a system, a profile and a topology by problem.c, or
 * directly by tests and the benchmark. Nothing here knows about JSON.
 */
#ifndef PINION_PLACE_PROBLEM_H
#define PINION_PLACE_PROBLEM_H

#include "profile.h"
#include "topology.h"

#include <stdbool.h>
#include <stdint.h>

#define PL_MAX_ENTITIES 128
#define PL_MAX_EDGES    1024
#define PL_MAX_APART    256
#define PL_MAX_CHANNELS 1024

enum pl_policy {
    PL_POLICY_LATENCY,
    PL_POLICY_THROUGHPUT,
    PL_POLICY_EFFICIENCY,
};

enum pl_kernel {
    PL_KERNEL_AUTO,   /* the single-core kernel on one core, the multicore one otherwise */
    PL_KERNEL_SINGLE, /* as if every layout ran the single-core kernel */
    PL_KERNEL_SMP,    /* the multicore kernel, even on one core */
};

struct pl_entity {
    char name[PL_NAME_MAX]; /* the PD's name, or "vm/vcpu1" for a vCPU */
    int pd;                 /* the system's PD index; -1 in synthetic problems */
    int vcpu;               /* -1 for a component */
    bool is_vm;
    double work;                 /* reference cycles per I/O (copies and VM exits included) */
    double activation;           /* reference cycles per wake-up, the PD's side */
    double irqs;                 /* device interrupts per I/O when nothing batches */
    double visits;               /* visits per I/O along the flows */
    bool inert;                  /* no work, no traffic, no constraint: placed after the search */
    char work_from[PL_NAME_MAX]; /* where its work came from, for the report */
};

/* Notifications from one entity to another. */
struct pl_edge {
    int from, to;
    int channel;  /* which channel's batching applies (a system channel index) */
    double rate;  /* notifications per I/O when nothing batches */
    double lines; /* cache lines the receiver pulls per I/O when the ends are on different cores */
};

struct pl_flow {
    double share;
    uint32_t n;
    int hop[PL_MAX_PATH];
};

/* Costs in reference cycles (times in ns), with the multicore kernel's variants. */
struct pl_costs {
    struct pl_events events;
    struct pl_smp_kernel smp;
    double shape, window;
    uint32_t coalesce_count, coalesce_window_us;
    double external_latency_ns;
};

struct pl_machine {
    uint32_t n_cores;
    double speed[PL_MAX_CORES]; /* reference cycles per second */
    int cluster[PL_MAX_CORES];
    double line_ns[PL_MAX_CORES][PL_MAX_CORES]; /* one cache line from core a to core b */
    /*
     * Symmetry: cores of one cluster with the same kind are interchangeable,
     * and so are whole clusters of one class. A core or cluster that a pin
     * names is set apart (kind and class unique).
     */
    int kind[PL_MAX_CORES];
    bool fixed[PL_MAX_CORES]; /* a pin names it: never swapped */
    uint32_t n_clusters;
    int cluster_class[PL_MAX_CORES];
    char label[PL_MAX_CORES][PL_NAME_MAX]; /* "0 (cortex-a53)" for the reports */
};

struct pl_constraints {
    int pin[PL_MAX_ENTITIES];        /* core, or -1 */
    bool exclusive[PL_MAX_ENTITIES]; /* alone on its core, polling */
    int group[PL_MAX_ENTITIES];      /* together: the group's lowest entity (itself when alone) */
    uint32_t n_apart;
    int apart[PL_MAX_APART][2];
    uint32_t max_cores; /* 0: any number */
};

struct pl_problem {
    uint32_t n_entities;
    struct pl_entity entities[PL_MAX_ENTITIES];
    uint32_t n_edges;
    struct pl_edge edges[PL_MAX_EDGES];
    uint32_t n_channels; /* batching is chosen per channel: 0..n_channels-1 */
    uint32_t n_flows;
    struct pl_flow flows[PL_MAX_FLOWS];
    struct pl_machine machine;
    struct pl_costs costs;
    struct pl_constraints constraints;
    enum pl_policy policy;
    enum pl_kernel kernel;
    double load;         /* offered I/Os per second */
    double cap;          /* utilisation no core may exceed at the offered load */
    bool allow_coalesce; /* may the rule pick coalescing for a channel */
    int16_t edge_between[PL_MAX_ENTITIES][PL_MAX_ENTITIES]; /* first edge from a to b, or -1 */
    /* Edges grouped by sender: out_edges[out_begin[u] .. out_begin[u + 1]). */
    uint16_t out_edges[PL_MAX_EDGES];
    uint16_t out_begin[PL_MAX_ENTITIES + 1];
};

/*
 * Fills what follows from the rest: symmetry classes (after pins), visits,
 * inert entities, edge_between. Call after setting entities, edges, flows,
 * machine and constraints.
 */
void pl_problem_finish(struct pl_problem *problem);

/* A fresh problem: no entities, no pins, groups of one, no limits. */
void pl_problem_init(struct pl_problem *problem);

/* Sets the machine from a topology and the profile's costs (line times, speeds). */
bool pl_machine_from_topology(struct pl_machine *machine, const struct pl_topology *topo,
                              const struct pl_profile *profile, struct sd_error *err);

void pl_costs_from_profile(struct pl_costs *costs, const struct pl_profile *profile);

/*
 * Builds the entities, edges and flows of `sys` with the work in `profile`
 * (by PD name, then by program). Fails naming the PD whose work is missing,
 * or a profile entry that names no PD of the system.
 */
bool pl_problem_from_system(struct pl_problem *problem, const struct sd_system *sys,
                            const struct pl_profile *profile, struct sd_error *err);

/* Index of the entity with this name, or -1. */
int pl_entity_find(const struct pl_problem *problem, const char *name);

const char *pl_policy_name(enum pl_policy policy);

#endif
