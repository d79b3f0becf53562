/*
 * place-bench: how long `place`'s solvers take on synthetic systems of the
 * sizes that matter: 64 PDs on 16 cores (two clusters of 8; the target is
 * under a second, by local search after branch and bound gives up), and 12
 * PDs on 4 cores solved exactly (branch and bound to the end). A benchmark,
 * run by hand; never a test.
 */
#define _POSIX_C_SOURCE 200809L

#include "solve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static double uniform(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng % 1000000) / 1e6;
}

/*
 * Chains of sDDF-like stages (driver, rx mux, copier, client, tx mux), each
 * chain an I/O flow, the chains sharing nothing: a system of `pds` PDs.
 */
static void build(struct pl_problem *p, uint32_t pds, uint32_t cores, uint32_t clusters)
{
    pl_problem_init(p);
    struct pl_machine *m = &p->machine;
    m->n_cores = cores;
    m->n_clusters = clusters;
    for (uint32_t c = 0; c < cores; c++) {
        m->cluster[c] = (int)(c / (cores / clusters));
        m->speed[c] = 1.8e9;
        snprintf(m->label[c], PL_NAME_MAX, "cortex-a53");
    }
    for (uint32_t a = 0; a < cores; a++) {
        for (uint32_t b = 0; b < cores; b++) {
            m->line_ns[a][b] = a == b ? 0 : (m->cluster[a] == m->cluster[b] ? 35 : 90);
        }
    }
    struct pl_costs *c = &p->costs;
    c->events = (struct pl_events){.notify_same_core = 893,
                                   .cross_core_notify = 879,
                                   .cross_core_sgi = 686,
                                   .cross_core_receive = 861,
                                   .sgi_flight = 1198,
                                   .device_irq = 470,
                                   .coalesce_timer = 861,
                                   .line_same_cluster_ns = 35,
                                   .line_cross_cluster_ns = 90,
                                   .poll_detect_ns = 35};
    c->shape = 2;
    c->window = 64;
    c->coalesce_count = 8;
    c->coalesce_window_us = 50;
    const uint32_t stage = 5;
    for (uint32_t i = 0; i < pds; i++) {
        struct pl_entity *e = &p->entities[p->n_entities++];
        snprintf(e->name, PL_NAME_MAX, "pd%u", i);
        e->pd = e->vcpu = -1;
        e->work = uniform(1000, 8000);
        e->activation = uniform(1000, 5000);
        e->irqs = i % stage == 0 ? 1 : 0;
        if (i % stage != 0) {
            p->edges[p->n_edges++] = (struct pl_edge){.from = (int)i - 1,
                                                      .to = (int)i,
                                                      .channel = (int)p->n_edges,
                                                      .rate = 1,
                                                      .lines = 2};
        }
    }
    double total = 0;
    for (uint32_t start = 0; start < pds; start += stage) {
        struct pl_flow *f = &p->flows[p->n_flows % PL_MAX_FLOWS];
        if (p->n_flows < PL_MAX_FLOWS) {
            p->n_flows++;
            f->share = 1;
            for (uint32_t i = start; i < start + stage && i < pds; i++) {
                f->hop[f->n++] = (int)i;
            }
        }
    }
    for (uint32_t i = 0; i < pds; i++) {
        total += p->entities[i].work + 2 * p->entities[i].activation;
    }
    /* About half the machine busy. */
    p->load = 0.5 * cores * 1.8e9 / total;
    pl_problem_finish(p);
}

static void run(const char *what, struct pl_problem *p, const struct pl_solve_options *o)
{
    static struct pl_top top;
    static struct pl_result result;
    struct pl_solve_report report;
    for (int policy = 0; policy < 3; policy++) {
        p->policy = (enum pl_policy)policy;
        p->cap = policy == PL_POLICY_EFFICIENCY ? 0.8 : 1.0;
        pl_solve(p, o, &top, &report);
        printf("%-18s %-10s %-9s %7.3f s %9llu nodes %7llu layouts", what,
               pl_policy_name(p->policy), report.exact ? "exact" : "heuristic", report.seconds,
               (unsigned long long)report.nodes, (unsigned long long)report.evaluations);
        if (report.found) {
            struct pl_layout layout;
            pl_solution_layout(p, &top.items[0], &layout);
            pl_evaluate(p, &layout, NULL, true, &result);
            printf("  best: %2u cores, latency %7.1f us, throughput %8.0f/s, CPU %5.2f",
                   result.cores_used, result.latency_ns / 1e3, result.throughput, result.total_cpu);
        }
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: place-bench [--seed N]\n\n"
                   "Times place's solvers on synthetic sDDF-like systems: 64 PDs on 16 cores\n"
                   "(branch and bound with its default node limit, then local search; the\n"
                   "target is under 1 s) and 12 PDs on 4 cores solved exactly, for each policy.\n");
            return 0;
        }
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "place-bench: unknown argument \"%s\" (try --help)\n", argv[i]);
            return 2;
        }
    }
    static struct pl_problem problem;
    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    build(&problem, 64, 16, 2);
    struct pl_solve_options defaults = {
        .node_limit = 2000000, .eval_limit = 10000, .keep = 4, .seed = seed};
    run("64 PDs x 16 cores", &problem, &defaults);
    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    build(&problem, 12, 4, 1);
    struct pl_solve_options exact = defaults;
    exact.node_limit = UINT64_MAX;
    run("12 PDs x 4 cores", &problem, &exact);
    return 0;
}
