/*
 * Why the best layout wins: the figures that decide it under its policy,
 * set against the simplest alternative (everything on one core) and, for
 * efficiency, against the best layout with one core fewer; then each
 * runner-up, with the PDs that sit elsewhere and the part of the
 * prediction that moves most.
 */
#include "place_cli.h"

#include <math.h>
#include <string.h>

/* Latency parts, weighted over the flows as the latency is. */
struct parts {
    double service, switches, cross, queue;
    double cross_hops;
};

static struct parts latency_parts(const struct pl_problem *p, const struct pl_result *r)
{
    struct parts parts = {0};
    double shares = 0;
    for (uint32_t f = 0; f < p->n_flows; f++) {
        double s = p->flows[f].share;
        parts.service += s * r->flow[f].service_ns;
        parts.switches += s * r->flow[f].switch_ns;
        parts.cross += s * r->flow[f].cross_ns;
        parts.queue += s * r->flow[f].queue_ns;
        parts.cross_hops += s * r->flow[f].cross_hops;
        shares += s;
    }
    if (shares > 0) {
        parts.service /= shares;
        parts.switches /= shares;
        parts.cross /= shares;
        parts.queue /= shares;
        parts.cross_hops /= shares;
    }
    return parts;
}

/* Everything on `core`, where the constraints allow it. */
static bool one_core_layout(const struct place_run *run, int core, struct place_layout *out)
{
    const struct pl_problem *p = run->problem;
    struct pl_solution s;
    memset(&s, 0, sizeof s);
    for (uint32_t i = 0; i < p->n_entities; i++) {
        s.core[i] = (uint8_t)core;
    }
    if (!pl_layout_feasible(p, s.core)) {
        return false;
    }
    place_layout_from_solution(run, &s, out);
    return true;
}

static void print_load_note(FILE *out, const struct place_run *run, double rate)
{
    char text[96];
    pl_format_load(text, sizeof text, rate, run->profile);
    fputs(text, out);
}

static void explain_latency(FILE *out, const struct place_run *run, const struct place_layout *b)
{
    const struct pl_problem *p = run->problem;
    struct parts mine = latency_parts(p, &b->result);
    fprintf(out,
            "  - an I/O spends %.1f us in the PDs' work, %.1f us switching on a core, %.1f us "
            "crossing cores (%.1f hops) and %.1f us queueing behind other work\n",
            mine.service / 1e3, mine.switches / 1e3, mine.cross / 1e3, mine.cross_hops,
            mine.queue / 1e3);
    static struct place_layout one;
    if (b->result.cores_used > 1 && one_core_layout(run, 0, &one)) {
        struct parts single = latency_parts(p, &one.result);
        if (!one.result.stable) {
            fprintf(out,
                    "  - on one core it would not keep up: that core would need %.0f%% of "
                    "its time\n",
                    one.result.max_util * 100);
        } else {
            fprintf(out,
                    "  - on one core: %.1f us (%.1f us queueing at %.0f%% busy, %s kernel "
                    "costs); spreading over %u cores saves %.1f us of queueing and costs "
                    "%.1f us in cross-core hops and %+.1f us of work and wake-ups (less "
                    "batching on quieter cores)\n",
                    one.result.latency_ns / 1e3, single.queue / 1e3, one.result.max_util * 100,
                    one.result.smp ? "multicore" : "single-core", b->result.cores_used,
                    (single.queue - mine.queue) / 1e3,
                    (mine.cross + mine.switches - single.cross - single.switches) / 1e3,
                    (mine.service - single.service) / 1e3);
        }
    } else if (b->result.cores_used == 1) {
        fprintf(out,
                "  - one core is best: at %.0f%% busy its queueing (%.1f us) costs less than "
                "the cross-core hops and lost batching that spreading would add\n",
                b->result.max_util * 100, mine.queue / 1e3);
    }
}

static void explain_throughput(FILE *out, const struct place_run *run, const struct place_layout *b)
{
    const struct pl_problem *p = run->problem;
    const struct pl_result *r = &b->result;
    int c = r->bottleneck;
    fprintf(out, "  - core %d saturates first, at ", c);
    print_load_note(out, run, r->throughput);
    fprintf(out, "; it runs");
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (b->layout.core[i] == c && !p->entities[i].inert) {
            fprintf(out, " %s", p->entities[i].name);
        }
    }
    fprintf(out, ", and no split of the PDs moves that limit higher\n");
    static struct place_layout one;
    if (r->cores_used > 1 && one_core_layout(run, 0, &one)) {
        fprintf(out, "  - on one core the limit would be ");
        print_load_note(out, run, one.result.throughput);
        fprintf(out, " (%.1fx less)\n", r->throughput / one.result.throughput);
    }
    if (run->profile->max_rate > 0 && r->throughput > run->profile->max_rate) {
        fprintf(out, "  - the device's limit (");
        print_load_note(out, run, run->profile->max_rate);
        fprintf(out, ") comes first: this layout has %.0f%% headroom beyond it\n",
                (r->throughput / run->profile->max_rate - 1) * 100);
    }
}

static void explain_efficiency(FILE *out, const struct place_run *run, const struct place_layout *b)
{
    const struct pl_problem *p = run->problem;
    const struct pl_result *r = &b->result;
    if (!r->within_cap) {
        fprintf(out,
                "  - no layout keeps every core at or under %.0f%%: the least loaded needs "
                "%.0f%% on core %d\n",
                p->cap * 100, r->max_util * 100, r->busiest);
        return;
    }
    fprintf(out,
            "  - %u core%s carr%s the load with every core at or under the %.0f%% cap "
            "(busiest: core %d at %.0f%%), %.2f cores of CPU in all\n",
            r->cores_used, r->cores_used == 1 ? "" : "s", r->cores_used == 1 ? "ies" : "y",
            p->cap * 100, r->busiest, r->max_util * 100, r->total_cpu);
    if (r->cores_used < 2) {
        return;
    }
    /* The best with one core fewer, found the same way (briefly). */
    static struct pl_problem fewer;
    fewer = *p;
    fewer.constraints.max_cores = r->cores_used - 1;
    struct pl_solve_options options = {
        .node_limit = 200000, .eval_limit = 2000, .keep = 1, .seed = 1};
    static struct pl_top top;
    struct pl_solve_report report;
    pl_solve(&fewer, &options, &top, &report);
    if (report.found) {
        static struct place_layout l;
        struct place_run other = *run;
        other.problem = &fewer;
        place_layout_from_solution(&other, &top.items[0], &l);
        fprintf(out, "  - on %u core%s the %s layout needs %.0f%% on core %d, over the cap\n",
                r->cores_used - 1, r->cores_used == 2 ? "" : "s",
                report.exact ? "best" : "best found", l.result.max_util * 100, l.result.busiest);
    }
}

static void explain_batching(FILE *out, const struct place_run *run, const struct place_layout *b)
{
    const struct pl_problem *p = run->problem;
    double notified = 0, sgis = 0;
    uint32_t coalescing = 0, polled = 0;
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        if (b->layout.core[e->from] == b->layout.core[e->to]) {
            continue;
        }
        notified += b->result.notifications[k];
        sgis += b->result.sgis[k];
        coalescing += b->result.batching.policy[e->channel] == PN_BATCH_COALESCE ? 1 : 0;
        polled += b->layout.polling[e->to] ? 1 : 0;
    }
    if (notified <= 0) {
        return;
    }
    fprintf(out,
            "  - cross-core notifications: %.2f per I/O after the receivers' batching, "
            "sent as %.2f SGIs (end of handler%s%s)\n",
            notified, sgis, coalescing ? ", coalescing where it saves CPU" : "",
            polled ? ", none to polling cores" : "");
}

/* Which entities sit on another core in `other`, after matching interchangeable cores. */
static void print_moves(FILE *out, const struct place_run *run, const struct pl_layout *best,
                        const struct pl_layout *other)
{
    const struct pl_problem *p = run->problem;
    uint32_t n = p->machine.n_cores;
    int map[PL_MAX_CORES];
    bool taken[PL_MAX_CORES] = {false};
    for (uint32_t c = 0; c < n; c++) {
        map[c] = -1;
    }
    /* Greedy matching of the runner's cores to the best's, by shared PDs, same kind only. */
    for (int round = 0; round < (int)n; round++) {
        int best_from = -1, best_to = -1, best_shared = -1;
        for (uint32_t a = 0; a < n; a++) {
            for (uint32_t c = 0; map[a] < 0 && c < n; c++) {
                bool same = p->machine.speed[a] == p->machine.speed[c] && !p->machine.fixed[a] &&
                            !p->machine.fixed[c];
                if (taken[c] || (a != c && !same)) {
                    continue;
                }
                int shared = 0;
                for (uint32_t i = 0; i < p->n_entities; i++) {
                    shared += other->core[i] == (int)a && best->core[i] == (int)c;
                }
                if (shared > best_shared) {
                    best_shared = shared;
                    best_from = (int)a;
                    best_to = (int)c;
                }
            }
        }
        if (best_from < 0) {
            break;
        }
        map[best_from] = best_to;
        taken[best_to] = true;
    }
    int moved = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        int c = map[other->core[i]] >= 0 ? map[other->core[i]] : other->core[i];
        if (!p->entities[i].inert && c != best->core[i]) {
            fprintf(out, "%s%s on core %d (not %d)", moved ? ", " : "", p->entities[i].name, c,
                    best->core[i]);
            moved++;
        }
    }
    if (!moved) {
        fprintf(out, "the same PDs together, batching aside");
    }
}

static void explain_runner(FILE *out, const struct place_run *run, const struct place_layout *b,
                           const struct place_layout *r, uint32_t rank)
{
    const struct pl_problem *p = run->problem;
    fprintf(out, "  %u. ", rank);
    print_moves(out, run, &b->layout, &r->layout);
    fprintf(out, "\n     ");
    if (p->policy == PL_POLICY_THROUGHPUT) {
        fprintf(out, "throughput %.0f%% of the best's (core %d saturates first)",
                100 * r->result.throughput / b->result.throughput, r->result.bottleneck);
    } else if (p->policy == PL_POLICY_EFFICIENCY && r->result.cores_used != b->result.cores_used) {
        fprintf(out, "%u cores instead of %u", r->result.cores_used, b->result.cores_used);
    } else if (p->policy == PL_POLICY_EFFICIENCY) {
        fprintf(out, "%+.3f cores of CPU", r->result.total_cpu - b->result.total_cpu);
    } else if (!r->result.stable) {
        fprintf(out, "does not keep up (core %d at %.0f%%)", r->result.busiest,
                r->result.max_util * 100);
    }
    if (r->result.stable && b->result.stable) {
        struct parts x = latency_parts(p, &b->result), y = latency_parts(p, &r->result);
        double deltas[4] = {y.service - x.service, y.switches - x.switches, y.cross - x.cross,
                            y.queue - x.queue};
        static const char *const names[4] = {"work and wake-ups", "same-core switches",
                                             "cross-core hops", "queueing"};
        int largest = 0;
        for (int k = 1; k < 4; k++) {
            largest = fabs(deltas[k]) > fabs(deltas[largest]) ? k : largest;
        }
        fprintf(out, "%slatency %+.2f us, mostly %s (%+.2f us)",
                p->policy == PL_POLICY_LATENCY ? "" : "; ",
                (r->result.latency_ns - b->result.latency_ns) / 1e3, names[largest],
                deltas[largest] / 1e3);
    }
    if (p->policy != PL_POLICY_EFFICIENCY) {
        fprintf(out, "; CPU %+.3f cores", r->result.total_cpu - b->result.total_cpu);
    }
    if (r->result.smp != b->result.smp) {
        fprintf(out, "; %s the multicore kernel's costs", r->result.smp ? "pays" : "escapes");
    }
    fputc('\n', out);
}

void place_print_reasons(FILE *out, const struct place_run *run, const struct place_layout *best,
                         const struct place_layout *runners, uint32_t n_runners)
{
    fprintf(out, "\nwhy this layout\n");
    switch (run->problem->policy) {
    case PL_POLICY_LATENCY:
        explain_latency(out, run, best);
        break;
    case PL_POLICY_THROUGHPUT:
        explain_throughput(out, run, best);
        break;
    case PL_POLICY_EFFICIENCY:
        explain_efficiency(out, run, best);
        break;
    }
    explain_batching(out, run, best);
    if (n_runners == 0) {
        return;
    }
    fprintf(out, "\nrunners-up (what differs from the best)\n");
    for (uint32_t k = 0; k < n_runners; k++) {
        explain_runner(out, run, best, &runners[k], k + 2);
    }
}
