/*
 * The parts of the `place` tool (main.c): what a run knows, and the
 * printers (report.c, explain.c) and emitters (emit.c) that use it.
 */
#ifndef PINION_PLACE_CLI_H
#define PINION_PLACE_CLI_H

#include "placement.h"
#include "profile.h"
#include "solve.h"
#include "topology.h"

#include <stdio.h>

struct place_run {
    const struct sd_system *sys;
    const struct pl_topology *topo;
    const struct pl_profile *profile;
    const struct pl_problem *problem;
    const struct pl_solve_report *report; /* NULL when evaluating a given placement */
    const char *mode;                     /* "solve", "evaluate", "enumerate" */
};

/* A layout with its evaluation, as the printers and emitters take it. */
struct place_layout {
    struct pl_layout layout;
    struct pl_result result;
    struct pl_score score;
};

/* Evaluates a solution (batching by the rule, refined for throughput and efficiency). */
void place_layout_from_solution(const struct place_run *run, const struct pl_solution *s,
                                struct place_layout *out);

void place_print_header(FILE *out, const struct place_run *run);
void place_print_layout(FILE *out, const struct place_run *run, const struct place_layout *l);
void place_print_enumeration(FILE *out, const struct place_run *run, const struct pl_solution *all,
                             uint64_t shown, uint64_t total);

/* Why the best layout wins, and what separates the runners-up from it. */
void place_print_reasons(FILE *out, const struct place_run *run, const struct place_layout *best,
                         const struct place_layout *runners, uint32_t n_runners);

/* "core 0: a, b" lines into a string: the layout in one line, for lists. */
void place_layout_brief(const struct place_run *run, const struct pl_layout *layout, char *out,
                        size_t size);

/* The placement file (docs/placement-format.md) for a layout; fails naming the problem. */
bool place_to_placement(const struct place_run *run, const struct place_layout *l,
                        struct sd_placement *out, struct sd_error *err);
bool place_write_placement(const struct place_run *run, const struct place_layout *l,
                           const char *path, struct sd_error *err);
/* sDDF's per-PD core map: {"pd": core, "vm": [cores of its vCPUs]}. */
bool place_write_core_map(const struct place_run *run, const struct place_layout *l,
                          const char *path, struct sd_error *err);
/* The predictions of each layout, for sweeps and for issue 8's comparisons. */
bool place_write_json(const struct place_run *run, const struct place_layout *layouts, uint32_t n,
                      const char *path, struct sd_error *err);

/* Loads a placement file as a layout and its batching, for --evaluate. */
bool place_layout_from_placement(const struct place_run *run, const char *path,
                                 struct place_layout *out, struct sd_error *err);

#endif
