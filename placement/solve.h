/*
 * The policies and the solvers. A policy turns a layout's predicted figures
 * into a score, compared key by key (lower is better); the exact solver
 * (branch and bound over layouts up to core symmetry) and the local search
 * both look for the lowest score, and keep the best few for the report.
 */
#ifndef PINION_PLACE_SOLVE_H
#define PINION_PLACE_SOLVE_H

#include "model.h"
#include "problem.h"

#include <stdint.h>

#define PL_KEYS    4
#define PL_MAX_TOP 16

/*
 * latency:    feasible?, latency (or the busiest core when not), cores, total CPU
 * throughput: 0, -throughput (its 0.5% band), total CPU, cores
 * efficiency: within the cap?, cores (or the busiest core when not), total CPU, latency
 */
struct pl_score {
    double key[PL_KEYS];
};

/* A layout as the solvers keep it: the score and each entity's core. */
struct pl_solution {
    struct pl_score score;
    uint8_t core[PL_MAX_ENTITIES];
};

struct pl_top {
    uint32_t capacity; /* how many to keep, 1..PL_MAX_TOP */
    uint32_t n;
    struct pl_solution items[PL_MAX_TOP]; /* best first */
};

/* What the search entities and their order are; shared by the solvers. */
struct pl_search_order {
    uint32_t n;                  /* entities searched (the inert ones are placed afterwards) */
    int entity[PL_MAX_ENTITIES]; /* pinned first, then together groups, then by weight */
};

struct pl_solve_options {
    uint64_t node_limit;      /* branch and bound gives up (and hands over) after this many nodes */
    double max_log10_layouts; /* skip branch and bound above 10^this many layouts (0: 9) */
    uint64_t eval_limit;      /* the local search's budget of layout evaluations */
    uint32_t keep;            /* layouts to keep (the best and its runners-up) */
    uint64_t seed;            /* the local search's random moves */
    bool local_only;          /* skip branch and bound */
};

struct pl_solve_report {
    bool found;           /* some layout satisfies the constraints */
    bool exact;           /* branch and bound finished: the best is proved best */
    bool local_used;      /* the local search ran after branch and bound gave up */
    bool exact_skipped;   /* too many layouts for branch and bound to try */
    double log10_layouts; /* about how many layouts there are, up to core symmetry */
    uint64_t nodes, leaves, evaluations;
    double seconds;
    char why_infeasible[SD_ERROR_MAX]; /* when !found */
};

void pl_score_of(const struct pl_problem *p, const struct pl_result *r, struct pl_score *out);

/*
 * Throughputs within 0.5% of each other are the same to the throughput
 * policy, which then prefers less CPU: a difference that small is below
 * what the model can tell, and should not buy a costlier layout. This is
 * the lower edge of the band a throughput falls in (monotone, so bounds
 * stay bounds).
 */
#define PL_THROUGHPUT_BAND 1.005
double pl_throughput_step(double throughput);

/* <0 when a is better, 0 when they tie (within rounding), >0 when worse. */
int pl_score_compare(const struct pl_score *a, const struct pl_score *b);

/* A partial layout: core < 0 where not yet assigned. */
struct pl_partial {
    const int *core;
    const bool *polling;
    uint32_t cores_used;
};

/*
 * A lower bound, key by key, on the score of every completion of `partial`,
 * for pruning: valid whatever the unassigned entities and the batching do.
 */
void pl_bound(const struct pl_problem *p, const struct pl_partial *partial, struct pl_score *out);

/* True when no completion with lower bound `bound` can beat `incumbent`. */
bool pl_bound_prunes(const struct pl_score *bound, const struct pl_score *incumbent);

/* Puts the inert entities where they cost nothing: on the first used core that does not poll. */
void pl_place_inert(const struct pl_problem *p, struct pl_layout *layout);

/* Expands a solution into a full layout (inert entities placed, exclusive ones polling). */
void pl_solution_layout(const struct pl_problem *p, const struct pl_solution *s,
                        struct pl_layout *out);

void pl_search_order(const struct pl_problem *p, struct pl_search_order *out);

/* Relabels interchangeable cores by first use in `order`: one form per symmetry class. */
void pl_canonical(const struct pl_problem *p, const struct pl_search_order *order, uint8_t *core);

/* Whether a full layout keeps every constraint. */
bool pl_layout_feasible(const struct pl_problem *p, const uint8_t *core);

/* Inserts a solution if it is among the best kept and not already there. */
void pl_top_insert(struct pl_top *top, const struct pl_problem *p,
                   const struct pl_search_order *order, const struct pl_solution *s);

/*
 * After the search, for the throughput and efficiency policies: tries
 * coalescing on each cross-core channel in turn and keeps it where the
 * score improves. `result` is the layout's evaluation and is updated.
 */
void pl_refine_batching(const struct pl_problem *p, const struct pl_layout *layout,
                        struct pl_result *result);

/*
 * For the throughput policy: true when `core` certainly sustains less than
 * `against` (beyond the comparison's tolerance), told by one fixed point at
 * against's throughput instead of a search. False for other policies.
 */
bool pl_throughput_below(const struct pl_problem *p, const uint8_t *core,
                         const struct pl_score *against);

/* Scores a layout: evaluates it with the policy's batching rule. */
void pl_score_layout(const struct pl_problem *p, const uint8_t *core, struct pl_result *scratch,
                     struct pl_score *out);

/*
 * Branch and bound. Returns true when it searched everything (so top holds
 * the proved best); false when it stopped at the node limit.
 */
bool pl_solve_exact(const struct pl_problem *p, const struct pl_search_order *order,
                    uint64_t node_limit, struct pl_top *top, struct pl_solve_report *report);

/* Iterated local search from the best in `top` (or from a greedy layout when empty). */
void pl_solve_local(const struct pl_problem *p, const struct pl_search_order *order,
                    const struct pl_solve_options *options, struct pl_top *top,
                    struct pl_solve_report *report);

/* Checks the constraints against each other and the machine; fills why when they cannot hold. */
bool pl_constraints_consistent(const struct pl_problem *p, char *why, size_t size);

/* The whole solve: consistency, a seed from local search, branch and bound, local search. */
void pl_solve(const struct pl_problem *p, const struct pl_solve_options *options,
              struct pl_top *top, struct pl_solve_report *report);

/* Every layout up to core symmetry (at most `limit`), best first; returns how many there are. */
uint64_t pl_enumerate(const struct pl_problem *p, struct pl_solution *out, uint64_t limit);

/* The best score over every assignment, without symmetry or bounds: for tests. */
bool pl_brute_force(const struct pl_problem *p, struct pl_score *best);

#endif
