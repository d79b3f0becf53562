/* The parsed command line of `place` (main.c), and the run it starts (run.c). */
#ifndef PINION_PLACE_OPTIONS_H
#define PINION_PLACE_OPTIONS_H

#include "constraints.h"

#include <stdbool.h>

struct place_options {
    const char *system, *board, *dtb, *boards, *profile, *measured, *ios, *phase;
    bool host, measured_kernel, no_coalesce, enumerate, quiet;
    const char *policy, *load, *kernel, *solver, *evaluate, *out, *emit, *json, *constraints;
    double cap;
    long cores, runners_up, limit;
    unsigned long long node_limit, evaluations, seed;
    struct pl_constraint_spec spec;
};

/* Loads, solves (or evaluates, or enumerates), reports, writes; returns the exit status. */
int place_main(struct place_options *o);

#endif
