/*
 * The exact solver: depth-first branch and bound over entity-to-core
 * assignments, with the symmetry of interchangeable cores removed (an
 * entity may open an empty core only if it is the lowest empty one of its
 * kind in its cluster, and an empty cluster only if it is the lowest empty
 * one of its class), and with subtrees cut when their lower bound cannot
 * beat the worst layout kept. Also: enumeration of every layout up to
 * symmetry, and brute force (no symmetry, no bounds) for the tests.
 */
#include "solve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct search {
    const struct pl_problem *p;
    const struct pl_search_order *order;
    int core[PL_MAX_ENTITIES];
    bool polling[PL_MAX_ENTITIES];
    int on_core[PL_MAX_CORES];
    int on_cluster[PL_MAX_CORES];
    int group_core[PL_MAX_ENTITIES];
    bool exclusive_core[PL_MAX_CORES];
    uint32_t cores_used;
    uint64_t nodes, leaves, node_limit;
    bool stopped, use_bounds;
    struct pl_top *top;
    /* Enumeration: every leaf kept. */
    struct pl_solution *all;
    uint64_t n_all, all_limit;
    struct pl_result scratch;
};

static double entity_weight(const struct pl_problem *p, int i)
{
    double weight = p->entities[i].work + p->entities[i].irqs * p->entities[i].activation;
    for (uint32_t k = 0; k < p->n_edges; k++) {
        if (p->edges[k].to == i) {
            weight += p->edges[k].rate * p->entities[i].activation;
        }
    }
    return weight;
}

void pl_search_order(const struct pl_problem *p, struct pl_search_order *out)
{
    const struct pl_constraints *k = &p->constraints;
    double weight[PL_MAX_ENTITIES], group_weight[PL_MAX_ENTITIES] = {0};
    bool group_pinned[PL_MAX_ENTITIES] = {false};
    for (uint32_t i = 0; i < p->n_entities; i++) {
        weight[i] = entity_weight(p, (int)i);
        group_weight[k->group[i]] += weight[i];
        group_pinned[k->group[i]] = group_pinned[k->group[i]] || k->pin[i] >= 0;
    }
    out->n = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (!p->entities[i].inert) {
            out->entity[out->n++] = (int)i;
        }
    }
    /*
     * Pinned groups first (no choice), then heavier groups, members of a
     * group together, heavier entities first within it: heavy decisions
     * early make the bounds bite early. Ties by index, so the order is fixed.
     */
    for (uint32_t a = 1; a < out->n; a++) {
        for (uint32_t b = a; b > 0; b--) {
            int x = out->entity[b - 1], y = out->entity[b];
            int gx = k->group[x], gy = k->group[y];
            bool before;
            if (group_pinned[gx] != group_pinned[gy]) {
                before = group_pinned[gy];
            } else if (gx != gy) {
                before = group_weight[gy] > group_weight[gx] ||
                         (group_weight[gy] == group_weight[gx] && gy < gx);
            } else {
                before = weight[y] > weight[x] || (weight[y] == weight[x] && y < x);
            }
            if (!before) {
                break;
            }
            out->entity[b - 1] = y;
            out->entity[b] = x;
        }
    }
}

void pl_place_inert(const struct pl_problem *p, struct pl_layout *layout)
{
    int home = -1;
    for (uint32_t c = 0; c < p->machine.n_cores && home < 0; c++) {
        bool used = false, polls = false;
        for (uint32_t i = 0; i < p->n_entities; i++) {
            if (!p->entities[i].inert && layout->core[i] == (int)c) {
                used = true;
                polls = polls || layout->polling[i];
            }
        }
        home = used && !polls ? (int)c : -1;
    }
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (p->entities[i].inert) {
            layout->core[i] = home >= 0 ? home : 0;
            layout->polling[i] = false;
        }
    }
}

void pl_solution_layout(const struct pl_problem *p, const struct pl_solution *s,
                        struct pl_layout *out)
{
    for (uint32_t i = 0; i < p->n_entities; i++) {
        out->core[i] = s->core[i];
        out->polling[i] = p->constraints.exclusive[i];
    }
    pl_place_inert(p, out);
}

void pl_score_layout(const struct pl_problem *p, const uint8_t *core, struct pl_result *scratch,
                     struct pl_score *out)
{
    struct pl_solution s = {.score = {{0}}};
    memcpy(s.core, core, sizeof s.core);
    struct pl_layout layout;
    pl_solution_layout(p, &s, &layout);
    pl_evaluate(p, &layout, NULL, p->policy == PL_POLICY_THROUGHPUT, scratch);
    pl_score_of(p, scratch, out);
}

/* Cores the solver may swap: same speed and type, neither pinned. */
static bool interchangeable(const struct pl_machine *m, int a, int b)
{
    if (m->fixed[a] || m->fixed[b]) {
        return a == b;
    }
    return m->speed[a] == m->speed[b] && strcmp(m->label[a], m->label[b]) == 0;
}

bool pl_throughput_below(const struct pl_problem *p, const uint8_t *core,
                         const struct pl_score *against)
{
    if (p->policy != PL_POLICY_THROUGHPUT || !(against->key[1] < 0) || isinf(against->key[1])) {
        return false;
    }
    struct pl_solution s = {.score = {{0}}};
    memcpy(s.core, core, sizeof s.core);
    struct pl_layout layout;
    pl_solution_layout(p, &s, &layout);
    /* Busy beyond 100% a little below against's throughput: its own is lower still. */
    double margin = -against->key[1] * (1 - 1e-8);
    return pl_max_util_at(p, &layout, margin) >= 1;
}

void pl_canonical(const struct pl_problem *p, const struct pl_search_order *order, uint8_t *core)
{
    const struct pl_machine *m = &p->machine;
    int map[PL_MAX_CORES], cluster_map[PL_MAX_CORES];
    bool taken[PL_MAX_CORES] = {false}, cluster_taken[PL_MAX_CORES] = {false};
    for (uint32_t c = 0; c < PL_MAX_CORES; c++) {
        map[c] = cluster_map[c] = -1;
    }
    for (uint32_t k = 0; k < order->n; k++) {
        int c = core[order->entity[k]];
        if (map[c] >= 0) {
            continue;
        }
        int cluster = m->cluster[c];
        for (uint32_t j = 0; cluster_map[cluster] < 0 && j < m->n_clusters; j++) {
            if (!cluster_taken[j] && m->cluster_class[j] == m->cluster_class[cluster]) {
                cluster_map[cluster] = (int)j;
                cluster_taken[j] = true;
            }
        }
        for (uint32_t d = 0; map[c] < 0 && d < m->n_cores; d++) {
            if (!taken[d] && m->cluster[d] == cluster_map[cluster] &&
                interchangeable(m, (int)d, c)) {
                map[c] = (int)d;
            }
        }
        if (map[c] < 0) {
            map[c] = c; /* cannot happen for a consistent machine; keep the core */
        }
        taken[map[c]] = true;
    }
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (!p->entities[i].inert) {
            core[i] = (uint8_t)map[core[i]];
        }
    }
}

static bool same_layout(const struct pl_problem *p, const uint8_t *a, const uint8_t *b)
{
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (!p->entities[i].inert && a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

void pl_top_insert(struct pl_top *top, const struct pl_problem *p,
                   const struct pl_search_order *order, const struct pl_solution *s)
{
    struct pl_solution candidate = *s;
    pl_canonical(p, order, candidate.core);
    for (uint32_t i = 0; i < top->n; i++) {
        if (same_layout(p, top->items[i].core, candidate.core)) {
            return;
        }
    }
    uint32_t at = 0;
    while (at < top->n && pl_score_compare(&top->items[at].score, &candidate.score) <= 0) {
        at++;
    }
    if (at >= top->capacity) {
        return;
    }
    uint32_t last = top->n < top->capacity ? top->n : top->capacity - 1;
    memmove(&top->items[at + 1], &top->items[at], sizeof top->items[0] * (last - at));
    top->items[at] = candidate;
    top->n = last + 1;
}

bool pl_layout_feasible(const struct pl_problem *p, const uint8_t *core)
{
    const struct pl_constraints *k = &p->constraints;
    bool used[PL_MAX_CORES] = {false};
    uint32_t cores_used = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (p->entities[i].inert) {
            continue;
        }
        if (core[i] >= p->machine.n_cores || (k->pin[i] >= 0 && core[i] != k->pin[i]) ||
            core[i] != core[k->group[i]]) {
            return false;
        }
        cores_used += used[core[i]] ? 0 : 1;
        used[core[i]] = true;
        for (uint32_t j = 0; j < p->n_entities && k->exclusive[i]; j++) {
            if (j != i && !p->entities[j].inert && core[j] == core[i]) {
                return false;
            }
        }
    }
    for (uint32_t a = 0; a < k->n_apart; a++) {
        if (core[k->apart[a][0]] == core[k->apart[a][1]]) {
            return false;
        }
    }
    return k->max_cores == 0 || cores_used <= k->max_cores;
}

/* May entity i go on core c now? Constraints, and the symmetry rule when `symmetry`. */
static bool allowed(const struct search *s, int i, int c, bool symmetry)
{
    const struct pl_problem *p = s->p;
    const struct pl_constraints *k = &p->constraints;
    const struct pl_machine *m = &p->machine;
    if (s->exclusive_core[c] || (k->exclusive[i] && s->on_core[c] > 0)) {
        return false;
    }
    if (s->on_core[c] == 0) {
        if (k->max_cores && s->cores_used >= k->max_cores) {
            return false;
        }
        for (int d = 0; symmetry && d < c; d++) {
            if (m->kind[d] == m->kind[c] && s->on_core[d] == 0) {
                return false; /* a lower empty core of the same kind in this cluster */
            }
        }
        int cluster = m->cluster[c];
        for (int j = 0; symmetry && s->on_cluster[cluster] == 0 && j < cluster; j++) {
            if (m->cluster_class[j] == m->cluster_class[cluster] && s->on_cluster[j] == 0) {
                return false; /* a lower empty cluster of the same class */
            }
        }
    }
    for (uint32_t a = 0; a < k->n_apart; a++) {
        int other =
            k->apart[a][0] == i ? k->apart[a][1] : (k->apart[a][1] == i ? k->apart[a][0] : -1);
        if (other >= 0 && s->core[other] == c) {
            return false;
        }
    }
    return true;
}

static void place(struct search *s, int i, int c)
{
    s->core[i] = c;
    s->cores_used += s->on_core[c] == 0 ? 1 : 0;
    s->on_core[c]++;
    s->on_cluster[s->p->machine.cluster[c]]++;
    s->exclusive_core[c] = s->p->constraints.exclusive[i];
}

static void unplace(struct search *s, int i, int c)
{
    s->core[i] = -1;
    s->on_core[c]--;
    s->cores_used -= s->on_core[c] == 0 ? 1 : 0;
    s->on_cluster[s->p->machine.cluster[c]]--;
    s->exclusive_core[c] = false;
}

/*
 * Enumeration keeps the best `all_limit` layouts in a heap with the worst at
 * the top, so that a limit shows the best layouts, not the first found.
 */
static void keep_best(struct search *s, const struct pl_solution *solution)
{
    struct pl_solution *heap = s->all;
    uint64_t n = s->n_all < s->all_limit ? s->n_all : s->all_limit;
    s->n_all++;
    uint64_t at;
    if (n < s->all_limit) {
        at = n;
        while (at > 0 && pl_score_compare(&heap[(at - 1) / 2].score, &solution->score) < 0) {
            heap[at] = heap[(at - 1) / 2];
            at = (at - 1) / 2;
        }
        heap[at] = *solution;
        return;
    }
    if (n == 0 || pl_score_compare(&solution->score, &heap[0].score) >= 0) {
        return; /* no better than the worst kept */
    }
    at = 0;
    for (;;) {
        uint64_t child = 2 * at + 1;
        if (child >= n) {
            break;
        }
        if (child + 1 < n && pl_score_compare(&heap[child + 1].score, &heap[child].score) > 0) {
            child++;
        }
        if (pl_score_compare(&heap[child].score, &solution->score) <= 0) {
            break;
        }
        heap[at] = heap[child];
        at = child;
    }
    heap[at] = *solution;
}

static void leaf(struct search *s)
{
    struct pl_solution solution;
    memset(&solution, 0, sizeof solution);
    for (uint32_t i = 0; i < s->p->n_entities; i++) {
        solution.core[i] = (uint8_t)(s->core[i] < 0 ? 0 : s->core[i]);
    }
    s->leaves++;
    if (s->all == NULL && s->top->n == s->top->capacity &&
        pl_throughput_below(s->p, solution.core, &s->top->items[s->top->n - 1].score)) {
        return; /* cannot make the kept few */
    }
    pl_score_layout(s->p, solution.core, &s->scratch, &solution.score);
    if (s->all != NULL) {
        keep_best(s, &solution);
        return;
    }
    pl_top_insert(s->top, s->p, s->order, &solution);
}

static bool cut(struct search *s)
{
    if (!s->use_bounds || s->top->n < s->top->capacity) {
        return false;
    }
    struct pl_partial partial = {
        .core = s->core, .polling = s->polling, .cores_used = s->cores_used};
    struct pl_score bound;
    pl_bound(s->p, &partial, &bound);
    return pl_bound_prunes(&bound, &s->top->items[s->top->n - 1].score);
}

static void dfs(struct search *s, uint32_t depth)
{
    if (s->stopped) {
        return;
    }
    if (depth == s->order->n) {
        leaf(s);
        return;
    }
    const struct pl_problem *p = s->p;
    int i = s->order->entity[depth];
    int group = p->constraints.group[i];
    int forced = s->group_core[group];
    for (uint32_t j = 0; forced < 0 && j < p->n_entities; j++) {
        if (p->constraints.group[j] == group && p->constraints.pin[j] >= 0) {
            forced = p->constraints.pin[j];
        }
    }
    int first = forced >= 0 ? forced : 0;
    int last = forced >= 0 ? forced : (int)p->machine.n_cores - 1;
    for (int c = first; c <= last; c++) {
        if (!allowed(s, i, c, forced < 0)) {
            continue;
        }
        if (++s->nodes > s->node_limit) {
            s->stopped = true;
            return;
        }
        bool opens_group = s->group_core[group] < 0;
        place(s, i, c);
        if (opens_group) {
            s->group_core[group] = c;
        }
        if (!cut(s)) {
            dfs(s, depth + 1);
        }
        if (opens_group) {
            s->group_core[group] = -1;
        }
        unplace(s, i, c);
    }
}

static struct search *search_new(const struct pl_problem *p, const struct pl_search_order *order)
{
    struct search *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->p = p;
    s->order = order;
    for (uint32_t i = 0; i < PL_MAX_ENTITIES; i++) {
        s->core[i] = -1;
        s->group_core[i] = -1;
        s->polling[i] = i < p->n_entities && p->constraints.exclusive[i];
    }
    return s;
}

bool pl_solve_exact(const struct pl_problem *p, const struct pl_search_order *order,
                    uint64_t node_limit, struct pl_top *top, struct pl_solve_report *report)
{
    struct search *s = search_new(p, order);
    if (s == NULL) {
        return false;
    }
    s->top = top;
    s->node_limit = node_limit;
    s->use_bounds = true;
    dfs(s, 0);
    report->nodes += s->nodes;
    report->leaves += s->leaves;
    report->evaluations += s->leaves;
    bool complete = !s->stopped;
    free(s);
    return complete;
}

static int compare_solutions(const void *a, const void *b)
{
    return pl_score_compare(&((const struct pl_solution *)a)->score,
                            &((const struct pl_solution *)b)->score);
}

uint64_t pl_enumerate(const struct pl_problem *p, struct pl_solution *out, uint64_t limit)
{
    struct pl_search_order order;
    pl_search_order(p, &order);
    struct search *s = search_new(p, &order);
    if (s == NULL) {
        return 0;
    }
    s->all = out;
    s->all_limit = limit;
    s->node_limit = UINT64_MAX;
    dfs(s, 0);
    uint64_t n = s->n_all;
    free(s);
    qsort(out, n < limit ? n : limit, sizeof *out, compare_solutions);
    return n;
}

bool pl_brute_force(const struct pl_problem *p, struct pl_score *best)
{
    uint8_t core[PL_MAX_ENTITIES] = {0};
    int free_entities[PL_MAX_ENTITIES];
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (!p->entities[i].inert) {
            free_entities[n++] = (int)i;
        }
    }
    static _Thread_local struct pl_result scratch;
    bool found = false;
    for (;;) {
        if (pl_layout_feasible(p, core)) {
            struct pl_score score;
            pl_score_layout(p, core, &scratch, &score);
            if (!found || pl_score_compare(&score, best) < 0) {
                *best = score;
            }
            found = true;
        }
        uint32_t k = 0;
        while (k < n && ++core[free_entities[k]] == p->machine.n_cores) {
            core[free_entities[k++]] = 0;
        }
        if (k == n) {
            return found;
        }
    }
}
