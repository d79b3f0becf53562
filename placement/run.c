/*
 * One run of `place`, once the options are parsed: load the system, the
 * machine and the costs; build the problem with its constraints; then
 * solve, evaluate a given placement, or enumerate; report and write.
 */
#define _POSIX_C_SOURCE 200809L

#include "constraints.h"
#include "jsonread.h"
#include "place_cli.h"
#include "place_options.h"

#include <stdlib.h>
#include <string.h>

static int fail(const struct sd_error *err)
{
    fprintf(stderr, "place: %s\n", err->message);
    return 1;
}

static bool load_machine(const struct place_options *o, struct pl_topology *topo, char *profile,
                         size_t size, struct sd_error *err)
{
    bool ok;
    if (o->board != NULL) {
        ok = pl_board_load(o->boards, o->board, topo, err);
        snprintf(profile, size, "%s/%s/profile.json", o->boards, o->board);
    } else if (o->dtb != NULL) {
        ok = pl_dtb_load(o->dtb, topo, err);
    } else {
        ok = pl_host_load(topo, err);
        snprintf(profile, size, "%s/host/profile.json", o->boards);
    }
    if (o->profile != NULL) {
        snprintf(profile, size, "%s", o->profile);
    }
    return ok && (o->cores == 0 || pl_topology_restrict(topo, (uint32_t)o->cores, err));
}

static bool parse_policy(const struct place_options *o, struct pl_problem *p, struct sd_error *err)
{
    static const char *const policies[] = {"latency", "throughput", "efficiency"};
    static const char *const kernels[] = {"auto", "single", "smp"};
    int policy = -1, kernel = -1;
    for (int i = 0; i < 3; i++) {
        policy = strcmp(o->policy, policies[i]) == 0 ? i : policy;
        kernel = strcmp(o->kernel, kernels[i]) == 0 ? i : kernel;
    }
    if (policy < 0) {
        return pl_fail(err, "--policy %s: latency, throughput or efficiency", o->policy);
    }
    if (kernel < 0) {
        return pl_fail(err, "--kernel %s: auto, single or smp", o->kernel);
    }
    p->policy = (enum pl_policy)policy;
    p->kernel = (enum pl_kernel)kernel;
    p->cap = o->cap > 0 ? o->cap : (p->policy == PL_POLICY_EFFICIENCY ? 0.8 : 1.0);
    p->allow_coalesce = !o->no_coalesce;
    return true;
}

static bool build_problem(const struct place_options *o, const struct sd_system *sys,
                          const struct pl_topology *topo, struct pl_profile *profile,
                          struct pl_problem *p, struct sd_error *err)
{
    if (o->measured != NULL &&
        !pl_measured_load(o->measured, o->phase, o->ios, o->measured_kernel, sys, profile, err)) {
        return false;
    }
    pl_problem_init(p);
    if (!parse_policy(o, p, err) || !pl_problem_from_system(p, sys, profile, err) ||
        !pl_machine_from_topology(&p->machine, topo, profile, err)) {
        return false;
    }
    pl_costs_from_profile(&p->costs, profile);
    p->load = profile->default_rate;
    struct sd_error load_err;
    if (o->load != NULL && !pl_parse_load(o->load, profile, &p->load, &load_err)) {
        return pl_fail(err, "--load: %.400s", load_err.message);
    }
    struct pl_constraint_spec *spec = (struct pl_constraint_spec *)&o->spec;
    if (o->constraints != NULL && !pl_constraints_load(spec, o->constraints, err)) {
        return false;
    }
    char machine[PL_NAME_MAX + 16];
    snprintf(machine, sizeof machine, "%s", topo->name);
    if (!pl_constraints_apply(spec, p, machine, err)) {
        return false;
    }
    pl_problem_finish(p);
    return true;
}

static bool write_outputs(const struct place_options *o, const struct place_run *run,
                          const struct place_layout *layouts, uint32_t n, struct sd_error *err)
{
    if (o->json != NULL && !place_write_json(run, layouts, n, o->json, err)) {
        return false;
    }
    if (o->out == NULL || n == 0) {
        return true;
    }
    if (strcmp(o->emit, "sddf-core-map") == 0) {
        return place_write_core_map(run, &layouts[0], o->out, err);
    }
    return place_write_placement(run, &layouts[0], o->out, err);
}

/* Whether the best layout carries the load as the policy asks; else why not. */
static bool carries_load(const struct place_run *run, const struct place_layout *best,
                         struct sd_error *err)
{
    const struct pl_problem *p = run->problem;
    const struct pl_result *r = &best->result;
    char load[96];
    pl_format_load(load, sizeof load, p->load, run->profile);
    if (p->policy == PL_POLICY_THROUGHPUT) {
        return true; /* it asks for the most load, not for a given one */
    }
    if (!r->stable) {
        return pl_fail(err, "no layout carries %s: even the best needs %.0f%% of core %d", load,
                       r->max_util * 100, r->busiest);
    }
    if (!r->within_cap) {
        return pl_fail(err,
                       "no layout keeps every core at or under %.0f%% at %s: the best "
                       "needs %.0f%% on core %d (raise --cap, lower --load, or allow more "
                       "cores)",
                       p->cap * 100, load, r->max_util * 100, r->busiest);
    }
    return true;
}

static int run_solve(const struct place_options *o, struct place_run *run)
{
    const struct pl_problem *p = run->problem;
    struct pl_solve_options options = {
        .node_limit = strcmp(o->solver, "exact") == 0 ? UINT64_MAX : o->node_limit,
        .eval_limit = o->evaluations,
        .keep = (uint32_t)o->runners_up + 1,
        .seed = o->seed,
        .local_only = strcmp(o->solver, "local") == 0,
    };
    if (strcmp(o->solver, "auto") != 0 && strcmp(o->solver, "exact") != 0 &&
        strcmp(o->solver, "local") != 0) {
        fprintf(stderr, "place: --solver %s: auto, exact or local (try --help)\n", o->solver);
        return 2;
    }
    static struct pl_top top;
    static struct pl_solve_report report;
    pl_solve(p, &options, &top, &report);
    run->report = &report;
    if (!report.found) {
        fprintf(stderr, "place: infeasible: %s\n", report.why_infeasible);
        return 1;
    }
    static struct place_layout layouts[PL_MAX_TOP];
    for (uint32_t k = 0; k < top.n; k++) {
        place_layout_from_solution(run, &top.items[k], &layouts[k]);
    }
    if (!o->quiet) {
        place_print_header(stdout, run);
        place_print_layout(stdout, run, &layouts[0]);
        place_print_reasons(stdout, run, &layouts[0], &layouts[1], top.n - 1);
    }
    struct sd_error err;
    if (!carries_load(run, &layouts[0], &err)) {
        return fail(&err);
    }
    return write_outputs(o, run, layouts, top.n, &err) ? 0 : fail(&err);
}

static int run_evaluate(const struct place_options *o, struct place_run *run)
{
    static struct place_layout layout;
    struct sd_error err;
    if (!place_layout_from_placement(run, o->evaluate, &layout, &err)) {
        return fail(&err);
    }
    if (!o->quiet) {
        place_print_header(stdout, run);
        printf("evaluating: %s\n", o->evaluate);
        place_print_layout(stdout, run, &layout);
    }
    return write_outputs(o, run, &layout, 1, &err) ? 0 : fail(&err);
}

static int run_enumerate(const struct place_options *o, struct place_run *run)
{
    struct pl_solution *all = calloc((size_t)o->limit, sizeof *all);
    if (all == NULL) {
        fprintf(stderr, "place: --limit %ld: out of memory\n", o->limit);
        return 1;
    }
    uint64_t total = pl_enumerate(run->problem, all, (uint64_t)o->limit);
    uint64_t shown = total < (uint64_t)o->limit ? total : (uint64_t)o->limit;
    if (!o->quiet) {
        place_print_header(stdout, run);
        place_print_enumeration(stdout, run, all, shown, total);
    }
    struct sd_error err;
    bool ok = true;
    if (o->json != NULL || o->out != NULL) {
        struct place_layout *layouts = calloc(shown ? shown : 1, sizeof *layouts);
        ok = layouts != NULL;
        for (uint64_t k = 0; ok && k < shown; k++) {
            place_layout_from_solution(run, &all[k], &layouts[k]);
        }
        ok = ok ? write_outputs(o, run, layouts, (uint32_t)shown, &err)
                : pl_fail(&err, "out of memory");
        free(layouts);
    }
    free(all);
    if (total == 0) {
        fprintf(stderr, "place: infeasible: no layout keeps every constraint\n");
        return 1;
    }
    return ok ? 0 : fail(&err);
}

int place_main(struct place_options *o)
{
    static struct pl_topology topo;
    static struct pl_profile profile;
    static struct pl_problem problem;
    struct sd_system *sys = sd_system_new();
    struct sd_error err;
    char profile_path[SD_PATH_MAX + 64] = "";
    if (sys == NULL) {
        fprintf(stderr, "place: out of memory\n");
        return 1;
    }
    int status;
    if (!sd_load_file(o->system, sys, &err) ||
        !load_machine(o, &topo, profile_path, sizeof profile_path, &err) ||
        !pl_profile_load(profile_path, sys->name, &profile, &err) ||
        !build_problem(o, sys, &topo, &profile, &problem, &err)) {
        status = fail(&err);
    } else {
        struct place_run run = {
            .sys = sys, .topo = &topo, .profile = &profile, .problem = &problem};
        if (o->evaluate != NULL) {
            run.mode = "evaluate";
            status = run_evaluate(o, &run);
        } else if (o->enumerate) {
            run.mode = "enumerate";
            status = run_enumerate(o, &run);
        } else {
            run.mode = "solve";
            status = run_solve(o, &run);
        }
    }
    sd_system_free(sys);
    return status;
}
