/*
 * place's solvers: on many random small instances (at most 8 entities, at
 * most 4 cores, with and without constraints, clusters and two core
 * speeds), for every policy, branch and bound must find exactly the best
 * score that brute force finds over every assignment, say it is exact,
 * honour the constraints, and agree on infeasibility. Also: the local
 * search alone is deterministic for a seed, enumeration lists each layout
 * once up to symmetry, and the symmetry classes are right.
 */
#include "check.h"
#include "solve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x5eed;

static uint32_t next(uint32_t bound)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % bound);
}

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (next(1000000) / 1e6);
}

/* Costs of the order of the i.MX8MM profile's, so the instances look like real ones. */
static void set_costs(struct pl_costs *c, bool smp)
{
    memset(c, 0, sizeof *c);
    c->events.notify_same_core = 893;
    c->events.cross_core_notify = 879;
    c->events.cross_core_sgi = 686;
    c->events.cross_core_receive = 861;
    c->events.sgi_flight = 1200;
    c->events.device_irq = 470;
    c->events.coalesce_timer = 500;
    c->events.vm_exit = 1500;
    c->events.vm_inject = 800;
    c->events.line_same_cluster_ns = 35;
    c->events.line_cross_cluster_ns = 90;
    c->events.poll_detect_ns = 35;
    c->shape = 2;
    c->window = 32;
    c->coalesce_count = 8;
    c->coalesce_window_us = 50;
    c->external_latency_ns = 100000;
    if (smp) {
        c->smp.present = true;
        c->smp.work_factor = 1.2;
        c->smp.activation_factor = 1.5;
        c->smp.notify_same_core = 1412;
        c->smp.device_irq = 861;
    }
}

static void random_machine(struct pl_machine *m, uint32_t cores)
{
    memset(m, 0, sizeof *m);
    m->n_cores = cores;
    bool two_clusters = cores >= 2 && next(3) == 0;
    bool big_little = two_clusters && next(2) == 0;
    for (uint32_t c = 0; c < cores; c++) {
        m->cluster[c] = two_clusters && c >= cores / 2 ? 1 : 0;
        bool big = big_little && m->cluster[c] == 1;
        m->speed[c] = big ? 1.8e9 : 1.2e9;
        snprintf(m->label[c], sizeof m->label[c], "%s", big ? "big" : "little");
    }
    m->n_clusters = two_clusters ? 2 : 1;
    for (uint32_t a = 0; a < cores; a++) {
        for (uint32_t b = 0; b < cores; b++) {
            m->line_ns[a][b] = a == b ? 0 : (m->cluster[a] == m->cluster[b] ? 35 : 90);
        }
    }
}

/* Together groups from random pairs, merged so every group is its lowest member. */
static void random_groups(struct pl_problem *p)
{
    for (uint32_t i = 0; i < p->n_entities; i++) {
        p->constraints.group[i] = (int)i;
    }
    if (next(4) != 0) {
        return;
    }
    int a = (int)next(p->n_entities), b = (int)next(p->n_entities);
    int lo = a < b ? a : b, hi = a < b ? b : a;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (p->constraints.group[i] == hi) {
            p->constraints.group[i] = lo;
        }
    }
}

static void random_constraints(struct pl_problem *p)
{
    struct pl_constraints *k = &p->constraints;
    random_groups(p);
    if (next(4) == 0) {
        int e = (int)next(p->n_entities);
        k->pin[e] = (int)next(p->machine.n_cores);
        for (uint32_t i = 0; i < p->n_entities; i++) {
            if (k->group[i] == k->group[e]) {
                k->pin[i] = k->pin[e]; /* a group is pinned as a whole */
            }
        }
    }
    if (next(5) == 0) {
        int e = (int)next(p->n_entities);
        bool alone = true;
        for (uint32_t i = 0; i < p->n_entities; i++) {
            alone = alone && (i == (uint32_t)e || k->group[i] != k->group[e]);
        }
        k->exclusive[e] = alone;
    }
    for (uint32_t n = next(3); n > 0; n--) {
        int a = (int)next(p->n_entities), b = (int)next(p->n_entities);
        if (a != b && k->group[a] != k->group[b]) {
            k->apart[k->n_apart][0] = a;
            k->apart[k->n_apart++][1] = b;
        }
    }
    if (next(4) == 0) {
        k->max_cores = 1 + next(p->machine.n_cores);
    }
}

/*
 * Brute force costs cores^entities evaluations: instances up to 4^8 are
 * drawn, but the largest only now and then, so the test stays fast.
 */
static void random_problem_sized(struct pl_problem *p, bool constraints, bool large)
{
    pl_problem_init(p);
    uint32_t cores, entities;
    do {
        cores = 1 + next(4);
        entities = 2 + next(7);
    } while (!large && pow(cores, entities) > 5000);
    p->n_entities = entities;
    random_machine(&p->machine, cores);
    set_costs(&p->costs, next(2) == 0);
    for (uint32_t i = 0; i < p->n_entities; i++) {
        struct pl_entity *e = &p->entities[i];
        snprintf(e->name, sizeof e->name, "pd%u", i);
        e->pd = -1;
        e->vcpu = -1;
        e->work = next(6) == 0 ? 0 : uniform(500, 20000);
        e->activation = uniform(0, 4000);
        e->irqs = i == 0 ? 1 : 0;
        e->is_vm = next(10) == 0;
    }
    uint32_t edges = next(2 * p->n_entities);
    for (uint32_t k = 0; k < edges; k++) {
        int a = (int)next(p->n_entities), b = (int)next(p->n_entities);
        if (a != b) {
            p->edges[p->n_edges++] = (struct pl_edge){.from = a,
                                                      .to = b,
                                                      .channel = (int)k,
                                                      .rate = 0.5 * (1 + next(4)),
                                                      .lines = next(5)};
        }
    }
    p->n_flows = 1 + next(2);
    for (uint32_t f = 0; f < p->n_flows; f++) {
        struct pl_flow *flow = &p->flows[f];
        flow->share = f == 0 ? 0.7 : 0.3;
        flow->n = 2 + next(p->n_entities);
        for (uint32_t h = 0; h < flow->n; h++) {
            flow->hop[h] = (int)next(p->n_entities);
        }
    }
    if (constraints) {
        random_constraints(p);
    }
    p->policy = (enum pl_policy)next(3);
    p->kernel = PL_KERNEL_AUTO;
    double total = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        total += p->entities[i].work + 3 * p->entities[i].activation;
    }
    /* Loads from light to more than one core can carry. */
    p->load = uniform(0.05, 1.6) * 1.2e9 / (total > 0 ? total : 1);
    p->cap = p->policy == PL_POLICY_EFFICIENCY ? 0.8 : 1.0;
    pl_problem_finish(p);
}

static void random_problem(struct pl_problem *p, bool constraints)
{
    random_problem_sized(p, constraints, false);
}

static struct pl_problem problem;
static struct pl_top top;

static void test_exact_matches_brute_force(void)
{
    struct pl_solve_options options = {
        .node_limit = 50000000, .eval_limit = 2000, .keep = 3, .seed = 1};
    int compared = 0, infeasible = 0, with_constraints = 0;
    for (int instance = 0; instance < 1200; instance++) {
        bool constraints = instance % 2 == 1;
        random_problem_sized(&problem, constraints, instance % 100 == 0);
        struct pl_score best;
        bool feasible = pl_brute_force(&problem, &best);
        struct pl_solve_report report;
        pl_solve(&problem, &options, &top, &report);
        int before = check_failures;
        CHECK(report.exact);
        CHECK_EQ(report.found, feasible);
        if (feasible && report.found) {
            CHECK(pl_score_compare(&top.items[0].score, &best) == 0);
            CHECK(pl_layout_feasible(&problem, top.items[0].core));
            /* The score kept is the layout's own. */
            static struct pl_result scratch;
            struct pl_score again;
            pl_score_layout(&problem, top.items[0].core, &scratch, &again);
            CHECK(pl_score_compare(&again, &top.items[0].score) == 0);
            for (uint32_t k = 1; k < top.n; k++) {
                CHECK(pl_score_compare(&top.items[k - 1].score, &top.items[k].score) <= 0);
            }
            compared++;
            with_constraints += constraints;
        } else {
            infeasible++;
        }
        if (check_failures != before) {
            fprintf(stderr,
                    "  instance %d: %u entities, %u cores, policy %s: best %g %g, "
                    "solver %g %g\n",
                    instance, problem.n_entities, problem.machine.n_cores,
                    pl_policy_name(problem.policy), best.key[0], best.key[1],
                    top.items[0].score.key[0], top.items[0].score.key[1]);
            break;
        }
    }
    fprintf(stderr, "  %d instances compared (%d with constraints), %d infeasible\n", compared,
            with_constraints, infeasible);
    CHECK(compared > 900);
    CHECK(with_constraints > 350);
}

static void test_local_search_deterministic(void)
{
    struct pl_solve_options options = {
        .node_limit = 0, .eval_limit = 3000, .keep = 3, .seed = 7, .local_only = true};
    int optimal = 0, feasible = 0;
    for (int instance = 0; instance < 100; instance++) {
        random_problem(&problem, false);
        struct pl_solve_report a, b;
        static struct pl_top first;
        pl_solve(&problem, &options, &first, &a);
        pl_solve(&problem, &options, &top, &b);
        CHECK(!a.exact);
        CHECK_EQ(a.evaluations, b.evaluations);
        CHECK_EQ(first.n, top.n);
        CHECK(memcmp(first.items, top.items, sizeof first.items[0] * first.n) == 0);
        /* A heuristic need not find the best, but on instances this small it mostly should. */
        struct pl_score best;
        if (pl_brute_force(&problem, &best)) {
            feasible++;
            optimal += top.n > 0 && pl_score_compare(&top.items[0].score, &best) == 0;
        }
    }
    fprintf(stderr, "  local search alone found the best in %d of %d instances\n", optimal,
            feasible);
    CHECK(optimal >= feasible * 9 / 10);
}

static void test_enumerate_up_to_symmetry(void)
{
    /* Four identical cores, four unconstrained entities: the 15 set partitions of 4. */
    pl_problem_init(&problem);
    random_machine(&problem.machine, 1);
    problem.machine.n_cores = 4;
    for (uint32_t c = 0; c < 4; c++) {
        problem.machine.speed[c] = 1e9;
        problem.machine.cluster[c] = 0;
        snprintf(problem.machine.label[c], PL_NAME_MAX, "same");
    }
    problem.machine.n_clusters = 1;
    set_costs(&problem.costs, false);
    problem.n_entities = 4;
    for (uint32_t i = 0; i < 4; i++) {
        snprintf(problem.entities[i].name, PL_NAME_MAX, "e%u", i);
        problem.entities[i].work = 1000 * (i + 1);
    }
    problem.n_flows = 1;
    problem.flows[0] = (struct pl_flow){.share = 1, .n = 4, .hop = {0, 1, 2, 3}};
    problem.load = 1e4;
    pl_problem_finish(&problem);
    static struct pl_solution all[64];
    CHECK_EQ(pl_enumerate(&problem, all, 64), 15);
    /* Pinning entity 3 to core 2 sets core 2 apart: partitions with 3's block on core 2. */
    problem.constraints.pin[3] = 2;
    pl_problem_finish(&problem);
    CHECK(problem.machine.fixed[2]);
    CHECK(problem.machine.kind[3] != problem.machine.kind[2]);
    /* Others: 3 free identical cores besides core 2, so set partitions of {0,1,2} where one
     * block may join entity 3: sum over k of S(3,k) choices... counted by brute force here. */
    uint64_t listed = pl_enumerate(&problem, all, 64);
    CHECK_EQ(listed, 15);
    for (uint64_t k = 0; k < listed && k < 64; k++) {
        CHECK_EQ(all[k].core[3], 2);
    }
}

static void test_constraints_honoured(void)
{
    /* A chain a-b-c-d with b and c apart, a exclusive, d pinned to core 3, at most 3 cores. */
    pl_problem_init(&problem);
    random_machine(&problem.machine, 4);
    set_costs(&problem.costs, false);
    problem.n_entities = 4;
    for (uint32_t i = 0; i < 4; i++) {
        snprintf(problem.entities[i].name, PL_NAME_MAX, "%c", 'a' + i);
        problem.entities[i].work = 5000;
    }
    for (int i = 0; i < 3; i++) {
        problem.edges[problem.n_edges++] =
            (struct pl_edge){.from = i, .to = i + 1, .channel = i, .rate = 1, .lines = 2};
    }
    problem.n_flows = 1;
    problem.flows[0] = (struct pl_flow){.share = 1, .n = 4, .hop = {0, 1, 2, 3}};
    problem.load = 1000;
    problem.constraints.exclusive[0] = true;
    problem.constraints.apart[0][0] = 1;
    problem.constraints.apart[0][1] = 2;
    problem.constraints.n_apart = 1;
    problem.constraints.pin[3] = 3;
    problem.constraints.max_cores = 3;
    for (int policy = 0; policy < 3; policy++) {
        problem.policy = (enum pl_policy)policy;
        pl_problem_finish(&problem);
        struct pl_solve_options options = {.node_limit = 1000000, .eval_limit = 1000, .keep = 4};
        struct pl_solve_report report;
        pl_solve(&problem, &options, &top, &report);
        CHECK(report.found && report.exact);
        for (uint32_t k = 0; k < top.n; k++) {
            const uint8_t *core = top.items[k].core;
            CHECK(core[1] != core[2]);
            CHECK(core[3] == 3);
            CHECK(core[0] != core[1] && core[0] != core[2] && core[0] != core[3]);
        }
    }
    /* Five exclusive entities on four cores: reported, with the reason. */
    for (uint32_t i = 0; i < 4; i++) {
        problem.constraints.exclusive[i] = true;
    }
    problem.constraints.max_cores = 0;
    problem.constraints.pin[3] = -1;
    problem.constraints.n_apart = 0;
    problem.entities[4] = problem.entities[0];
    snprintf(problem.entities[4].name, PL_NAME_MAX, "e");
    problem.n_entities = 5;
    problem.constraints.exclusive[4] = true;
    pl_problem_finish(&problem);
    struct pl_solve_options options = {.node_limit = 1000000, .eval_limit = 1000, .keep = 1};
    struct pl_solve_report report;
    pl_solve(&problem, &options, &top, &report);
    CHECK(!report.found);
    CHECK_STR_CONTAINS(report.why_infeasible, "more exclusive PDs than cores: 5");
}

int main(void)
{
    RUN_TEST(test_exact_matches_brute_force);
    RUN_TEST(test_local_search_deterministic);
    RUN_TEST(test_enumerate_up_to_symmetry);
    RUN_TEST(test_constraints_honoured);
    return check_exit();
}
