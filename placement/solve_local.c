/*
 * The heuristic solver and the solve as a whole. Local search: a greedy
 * start (each entity, heaviest first, where the policy's bound grows
 * least), then moves of one entity (with its together group) and swaps of
 * two, first improvement, then random restarts from the best (iterated
 * local search). Deterministic: a fixed order and a seeded generator, and
 * a budget counted in evaluations, not seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include "solve.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct local {
    const struct pl_problem *p;
    const struct pl_search_order *order;
    struct pl_top *top;
    uint64_t budget, evaluations, filtered;
    uint64_t random;
    struct pl_result scratch;
};

static uint64_t next_random(struct local *l)
{
    /* xorshift64*: small, fast, and the same sequence for the same seed everywhere. */
    l->random ^= l->random >> 12;
    l->random ^= l->random << 25;
    l->random ^= l->random >> 27;
    return l->random * 2685821657736338717ull;
}

/*
 * Scores a feasible candidate, unless its lower bound already shows it
 * cannot beat `against` (a cheap test that spares most evaluations, above
 * all the throughput policy's search over the load).
 */
static bool score_if_promising(struct local *l, struct pl_solution *s,
                               const struct pl_score *against)
{
    if (!pl_layout_feasible(l->p, s->core) || l->evaluations >= l->budget) {
        return false;
    }
    if (against != NULL) {
        int core[PL_MAX_ENTITIES];
        bool polling[PL_MAX_ENTITIES];
        bool used[PL_MAX_CORES] = {false};
        uint32_t cores_used = 0;
        for (uint32_t i = 0; i < l->p->n_entities; i++) {
            core[i] = l->p->entities[i].inert ? -1 : s->core[i];
            polling[i] = l->p->constraints.exclusive[i];
            if (core[i] >= 0 && !used[core[i]]) {
                used[core[i]] = true;
                cores_used++;
            }
        }
        struct pl_partial whole = {.core = core, .polling = polling, .cores_used = cores_used};
        struct pl_score bound;
        pl_bound(l->p, &whole, &bound);
        if (pl_bound_prunes(&bound, against) || pl_throughput_below(l->p, s->core, against)) {
            l->filtered++;
            return false;
        }
    }
    l->evaluations++;
    pl_score_layout(l->p, s->core, &l->scratch, &s->score);
    pl_top_insert(l->top, l->p, l->order, s);
    return true;
}

/* Moves entity i's together group to core c. */
static void move_group(const struct pl_problem *p, uint8_t *core, int i, int c)
{
    int group = p->constraints.group[i];
    for (uint32_t j = 0; j < p->n_entities; j++) {
        if (p->constraints.group[j] == group) {
            core[j] = (uint8_t)c;
        }
    }
}

static bool group_pinned(const struct pl_problem *p, int i)
{
    for (uint32_t j = 0; j < p->n_entities; j++) {
        if (p->constraints.group[j] == p->constraints.group[i] && p->constraints.pin[j] >= 0) {
            return true;
        }
    }
    return false;
}

static bool group_is_single(const struct pl_problem *p, int i)
{
    for (uint32_t j = 0; j < p->n_entities; j++) {
        if ((int)j != i && p->constraints.group[j] == p->constraints.group[i]) {
            return false;
        }
    }
    return true;
}

/* Greedy: in search order, each entity where the policy's lower bound grows least. */
static bool greedy(struct local *l, struct pl_solution *out)
{
    const struct pl_problem *p = l->p;
    int core[PL_MAX_ENTITIES];
    bool polling[PL_MAX_ENTITIES];
    for (uint32_t i = 0; i < PL_MAX_ENTITIES; i++) {
        core[i] = -1;
        polling[i] = i < p->n_entities && p->constraints.exclusive[i];
    }
    memset(out, 0, sizeof *out);
    for (uint32_t k = 0; k < l->order->n; k++) {
        int i = l->order->entity[k], best = -1;
        struct pl_score best_bound = {{0}};
        for (uint32_t c = 0; c < p->machine.n_cores; c++) {
            core[i] = (int)c;
            /* Feasible so far: check the assigned part as if it were the whole. */
            const struct pl_problem *pp = p;
            bool ok = true;
            uint32_t used = 0;
            bool seen[PL_MAX_CORES] = {false};
            for (uint32_t j = 0; j <= k && ok; j++) {
                int a = l->order->entity[j];
                const struct pl_constraints *kc = &pp->constraints;
                ok = (kc->pin[a] < 0 || core[a] == kc->pin[a]);
                for (uint32_t b = 0; b <= k && ok; b++) {
                    int e = l->order->entity[b];
                    if (e == a) {
                        continue;
                    }
                    ok = !(kc->group[e] == kc->group[a] && core[e] != core[a]) &&
                         !((kc->exclusive[a] || kc->exclusive[e]) && core[e] == core[a]);
                }
                used += seen[core[a]] ? 0 : 1;
                seen[core[a]] = true;
            }
            for (uint32_t a = 0; a < p->constraints.n_apart && ok; a++) {
                int x = p->constraints.apart[a][0], y = p->constraints.apart[a][1];
                ok = core[x] < 0 || core[y] < 0 || core[x] != core[y];
            }
            ok = ok && (p->constraints.max_cores == 0 || used <= p->constraints.max_cores);
            if (!ok) {
                continue;
            }
            struct pl_partial partial = {.core = core, .polling = polling, .cores_used = used};
            struct pl_score bound;
            pl_bound(p, &partial, &bound);
            if (best < 0 || pl_score_compare(&bound, &best_bound) < 0) {
                best = (int)c;
                best_bound = bound;
            }
        }
        core[i] = best;
        if (best < 0) {
            return false;
        }
    }
    for (uint32_t i = 0; i < p->n_entities; i++) {
        out->core[i] = (uint8_t)(core[i] < 0 ? 0 : core[i]);
    }
    return score_if_promising(l, out, NULL);
}

/*
 * For the throughput policy only the busiest core's load limits the score,
 * so only moves that touch it (its PDs, and the PDs that notify them) are
 * tried; for the others every entity may move.
 */
static void find_focus(struct local *l, const struct pl_solution *current, bool *focus)
{
    const struct pl_problem *p = l->p;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        focus[i] = true;
    }
    if (p->policy != PL_POLICY_THROUGHPUT) {
        return;
    }
    struct pl_layout layout;
    pl_solution_layout(p, current, &layout);
    pl_evaluate(p, &layout, NULL, true, &l->scratch);
    int busiest = l->scratch.bottleneck;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        focus[i] = current->core[i] == busiest;
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        if (current->core[e->to] == busiest || current->core[e->from] == busiest) {
            focus[e->from] = focus[e->to] = true;
        }
    }
}

/* Moves and swaps, first improvement, until none improves or the budget is spent. */
static void improve(struct local *l, struct pl_solution *current)
{
    const struct pl_problem *p = l->p;
    bool changed = true, focus[PL_MAX_ENTITIES];
    while (changed && l->evaluations < l->budget) {
        changed = false;
        find_focus(l, current, focus);
        for (uint32_t k = 0; k < l->order->n; k++) {
            int i = l->order->entity[k];
            if (p->constraints.group[i] != i || group_pinned(p, i) || !focus[i]) {
                continue; /* a group moves with its first member; a pinned one not at all */
            }
            for (uint32_t c = 0; c < p->machine.n_cores; c++) {
                if (c == current->core[i]) {
                    continue;
                }
                struct pl_solution candidate = *current;
                move_group(p, candidate.core, i, (int)c);
                if (score_if_promising(l, &candidate, &current->score) &&
                    pl_score_compare(&candidate.score, &current->score) < 0) {
                    *current = candidate;
                    changed = true;
                }
            }
        }
        for (uint32_t a = 0; a < l->order->n; a++) {
            int x = l->order->entity[a];
            if (p->constraints.pin[x] >= 0 || !group_is_single(p, x)) {
                continue;
            }
            for (uint32_t b = a + 1; b < l->order->n; b++) {
                int y = l->order->entity[b];
                if (current->core[x] == current->core[y] || p->constraints.pin[y] >= 0 ||
                    !group_is_single(p, y) || !(focus[x] || focus[y])) {
                    continue;
                }
                struct pl_solution candidate = *current;
                candidate.core[x] = current->core[y];
                candidate.core[y] = current->core[x];
                if (score_if_promising(l, &candidate, &current->score) &&
                    pl_score_compare(&candidate.score, &current->score) < 0) {
                    *current = candidate;
                    changed = true;
                }
            }
        }
    }
}

void pl_solve_local(const struct pl_problem *p, const struct pl_search_order *order,
                    const struct pl_solve_options *options, struct pl_top *top,
                    struct pl_solve_report *report)
{
    static _Thread_local struct local l;
    memset(&l, 0, sizeof l);
    l.p = p;
    l.order = order;
    l.top = top;
    l.budget = options->eval_limit;
    l.random = options->seed * 0x9e3779b97f4a7c15ull + 1;
    struct pl_solution best;
    if (top->n > 0) {
        best = top->items[0];
    } else if (!greedy(&l, &best)) {
        report->evaluations += l.evaluations;
        return; /* the greedy start found no feasible layout; branch and bound decides */
    }
    improve(&l, &best);
    uint32_t movable[PL_MAX_ENTITIES], n_movable = 0;
    for (uint32_t k = 0; k < order->n; k++) {
        int i = order->entity[k];
        if (p->constraints.group[i] == i && !group_pinned(p, i)) {
            movable[n_movable++] = (uint32_t)i;
        }
    }
    /* Restarts: a few random moves away from the best, then improve again. */
    for (int round = 0; n_movable > 0 && l.evaluations < l.budget && round < 2000; round++) {
        struct pl_solution start = best;
        uint32_t kicks = 2 + (uint32_t)(next_random(&l) % 3);
        for (uint32_t m = 0; m < kicks; m++) {
            for (int attempt = 0; attempt < 20; attempt++) {
                struct pl_solution trial = start;
                int i = (int)movable[next_random(&l) % n_movable];
                move_group(p, trial.core, i, (int)(next_random(&l) % p->machine.n_cores));
                if (pl_layout_feasible(p, trial.core)) {
                    start = trial;
                    break;
                }
            }
        }
        if (!score_if_promising(&l, &start, NULL)) {
            continue;
        }
        improve(&l, &start);
        if (pl_score_compare(&start.score, &best.score) < 0) {
            best = start;
        }
    }
    report->evaluations += l.evaluations;
}

bool pl_constraints_consistent(const struct pl_problem *p, char *why, size_t size)
{
    uint32_t usable = p->machine.n_cores, exclusive = 0, others = 0;
    if (p->constraints.max_cores && p->constraints.max_cores < usable) {
        usable = p->constraints.max_cores;
    }
    char names[SD_ERROR_MAX] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (p->constraints.exclusive[i]) {
            used += (size_t)snprintf(names + used, used < sizeof names ? sizeof names - used : 0,
                                     "%s%s", exclusive ? ", " : "", p->entities[i].name);
            exclusive++;
        } else {
            others++;
        }
    }
    uint32_t needed = exclusive + (others > 0 ? 1 : 0);
    if (needed > usable) {
        snprintf(why, size,
                 "more exclusive PDs than cores: %u (%.200s) each need a core of their own%s, "
                 "%u cores in all, but only %u can be used",
                 exclusive, names, others > 0 ? " and the other PDs one more" : "", needed, usable);
        return false;
    }
    return true;
}

/*
 * About how many layouts there are up to symmetry, as a power of ten:
 * cores^entities divided by the orderings of each class of interchangeable
 * cores (an estimate: it ignores constraints and empty cores).
 */
static double log10_layouts(const struct pl_problem *p, const struct pl_search_order *order)
{
    double log = order->n * log10((double)p->machine.n_cores);
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        uint32_t same = 0;
        for (uint32_t d = 0; d <= c; d++) {
            same += p->machine.kind[d] == p->machine.kind[c] ? 1 : 0;
        }
        log -= log10((double)same); /* together: log10 of each class size's factorial */
    }
    return log > 0 ? log : 0;
}

void pl_solve(const struct pl_problem *p, const struct pl_solve_options *options,
              struct pl_top *top, struct pl_solve_report *report)
{
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    memset(report, 0, sizeof *report);
    top->n = 0;
    top->capacity =
        options->keep < 1 ? 1 : (options->keep > PL_MAX_TOP ? PL_MAX_TOP : options->keep);
    struct pl_search_order order;
    pl_search_order(p, &order);
    if (!pl_constraints_consistent(p, report->why_infeasible, sizeof report->why_infeasible)) {
        report->exact = true; /* proved: no layout can exist */
        return;
    }
    /* A good layout early makes the bounds bite: seed with a short local search. */
    struct pl_solve_options seed = *options;
    seed.eval_limit = options->eval_limit / 20 < 500 ? options->eval_limit / 20 : 500;
    report->log10_layouts = log10_layouts(p, &order);
    double limit = options->max_log10_layouts > 0 ? options->max_log10_layouts : 9;
    report->exact_skipped =
        !options->local_only && options->node_limit != UINT64_MAX && report->log10_layouts > limit;
    if (!options->local_only && !report->exact_skipped) {
        if (report->log10_layouts > 4) { /* below, branch and bound is quicker alone */
            pl_solve_local(p, &order, &seed, top, report);
        }
        report->exact = pl_solve_exact(p, &order, options->node_limit, top, report);
    }
    if (!report->exact) {
        report->local_used = true;
        pl_solve_local(p, &order, options, top, report);
    }
    report->found = top->n > 0;
    if (!report->found) {
        snprintf(report->why_infeasible, sizeof report->why_infeasible,
                 "no layout on %u cores keeps every pin, apart, together and exclusive "
                 "constraint%s",
                 p->machine.n_cores,
                 report->exact ? "" : " (none found; the search was not exhaustive)");
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    report->seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) * 1e-9;
}
