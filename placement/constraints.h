/*
 * Constraints on a placement, from a JSON file (--constraints) and from
 * command-line flags: pin a PD to a core, give a PD a core of its own
 * (exclusive, and then it polls), keep PDs apart or together, use at most
 * N cores. They are checked against each other before any search, and a
 * contradiction is reported with the chain of constraints that makes it.
 */
#ifndef PINION_PLACE_CONSTRAINTS_H
#define PINION_PLACE_CONSTRAINTS_H

#include "problem.h"

#define PL_MAX_CONSTRAINTS 128
#define PL_MAX_SET         16
#define PL_WHERE_MAX       160

/* One constraint as written: its names (PDs, vCPUs, or VMs for all their vCPUs). */
struct pl_constraint {
    char where[PL_WHERE_MAX]; /* "--apart a,b" or "c.json: apart[0]", for messages */
    uint32_t n;
    char names[PL_MAX_SET][PL_NAME_MAX];
    int core; /* pins */
};

struct pl_constraint_spec {
    uint32_t n_pin, n_exclusive, n_apart, n_together;
    struct pl_constraint pin[PL_MAX_CONSTRAINTS];
    struct pl_constraint exclusive[PL_MAX_CONSTRAINTS];
    struct pl_constraint apart[PL_MAX_CONSTRAINTS];
    struct pl_constraint together[PL_MAX_CONSTRAINTS];
    uint32_t max_cores;
    char max_cores_where[PL_WHERE_MAX];
};

/*
 * A command-line constraint: kind is "pin" (value "pd=core"), "exclusive"
 * ("pd"), "apart" or "together" ("a,b[,c...]"), "max-cores" ("N").
 */
bool pl_constraints_add(struct pl_constraint_spec *spec, const char *kind, const char *value,
                        struct sd_error *err);

/* {"pin": {"pd": core}, "exclusive": [..], "apart": [[..]], "together": [[..]], "max_cores": N} */
bool pl_constraints_load(struct pl_constraint_spec *spec, const char *path, struct sd_error *err);

/*
 * Resolves the names against the problem's entities and sets its
 * constraints; fails with one message for an unknown name, a core the
 * machine lacks, or constraints that contradict each other.
 */
bool pl_constraints_apply(const struct pl_constraint_spec *spec, struct pl_problem *problem,
                          const char *machine, struct sd_error *err);

#endif
