/*
 * Policies as scores, and the lower bounds that let branch and bound skip
 * whole subtrees. A bound must never exceed the score of any completion of
 * the partial layout; it uses only what more entities and more traffic can
 * never take away: the assigned PDs' work, the cache lines between
 * assigned ends, and each notification at its most batched (1/W).
 */
#include "solve.h"

#include <math.h>
#include <string.h>

double pl_throughput_step(double throughput)
{
    if (!(throughput > 0) || isinf(throughput)) {
        return throughput > 0 ? throughput : 0;
    }
    /* The lower edge of its 0.5% band: 1.005^floor(log(t) / log(1.005)). */
    double band = floor(log(throughput) / log(PL_THROUGHPUT_BAND));
    double edge = pow(PL_THROUGHPUT_BAND, band);
    /* Rounding in log() must not put t below its own edge. */
    return edge > throughput ? pow(PL_THROUGHPUT_BAND, band - 1) : edge;
}

void pl_score_of(const struct pl_problem *p, const struct pl_result *r, struct pl_score *out)
{
    memset(out, 0, sizeof *out);
    switch (p->policy) {
    case PL_POLICY_LATENCY: {
        bool ok = r->stable && r->within_cap;
        out->key[0] = ok ? 0 : 1;
        out->key[1] = ok ? r->latency_ns : r->max_util;
        out->key[2] = r->cores_used;
        out->key[3] = r->total_cpu;
        break;
    }
    case PL_POLICY_THROUGHPUT:
        out->key[1] = -pl_throughput_step(r->throughput);
        out->key[2] = r->total_cpu;
        out->key[3] = r->cores_used;
        break;
    case PL_POLICY_EFFICIENCY: {
        bool ok = r->stable && r->within_cap;
        out->key[0] = ok ? 0 : 1;
        out->key[1] = ok ? r->cores_used : r->max_util;
        out->key[2] = r->total_cpu;
        out->key[3] = r->latency_ns;
        break;
    }
    }
}

static double tolerance(double a, double b)
{
    double scale = fmax(fabs(a), fabs(b));
    return 1e-9 * (scale > 1 ? scale : 1);
}

int pl_score_compare(const struct pl_score *a, const struct pl_score *b)
{
    for (int k = 0; k < PL_KEYS; k++) {
        double x = a->key[k], y = b->key[k];
        if (isinf(x) && isinf(y) && (x > 0) == (y > 0)) {
            continue;
        }
        double t = tolerance(x, y);
        if (x < y - t) {
            return -1;
        }
        if (x > y + t) {
            return 1;
        }
    }
    return 0;
}

bool pl_bound_prunes(const struct pl_score *bound, const struct pl_score *incumbent)
{
    for (int k = 0; k < PL_KEYS; k++) {
        double x = bound->key[k], y = incumbent->key[k];
        if (isinf(x) && isinf(y) && (x > 0) == (y > 0)) {
            continue;
        }
        double t = tolerance(x, y);
        if (x > y + t) {
            return true; /* every completion is worse on this key, ties before it */
        }
        if (x < y - t) {
            return false; /* a completion might be better here */
        }
    }
    return true; /* at best a tie: cannot improve on what is kept */
}

/* Cost factors no layout can go below: the cheaper of the two kernels where either may apply. */
struct floors {
    double work, activation, c_same, c_irq, n_min;
};

static struct floors cost_floors(const struct pl_problem *p, uint32_t cores_used)
{
    const struct pl_costs *c = &p->costs;
    struct floors f = {1, 1, c->events.notify_same_core, c->events.device_irq, 1.0 / c->window};
    if (!c->smp.present || p->kernel == PL_KERNEL_SINGLE) {
        return f;
    }
    bool certain = p->kernel == PL_KERNEL_SMP || cores_used > 1;
    f.work = certain ? c->smp.work_factor : fmin(1, c->smp.work_factor);
    f.activation = certain ? c->smp.activation_factor : fmin(1, c->smp.activation_factor);
    f.c_same = certain ? c->smp.notify_same_core : fmin(f.c_same, c->smp.notify_same_core);
    f.c_irq = certain ? c->smp.device_irq : fmin(f.c_irq, c->smp.device_irq);
    return f;
}

/*
 * The least batching factor of each core: notifications fall as a core gets
 * busier, so the most its utilisation could reach (everything assigned to
 * it at its dearest, and every unassigned entity with all its traffic)
 * bounds how few notifications survive. Near the leaves, where little is
 * unassigned, this is tight; it is what makes the bounds bite.
 */
static void batching_floors(const struct pl_problem *p, const int *core, double *n_floor)
{
    const struct pl_costs *costs = &p->costs;
    const struct pl_events *ev = &costs->events;
    bool smp = costs->smp.present && p->kernel != PL_KERNEL_SINGLE;
    double wf = smp ? fmax(1, costs->smp.work_factor) : 1;
    double af = smp ? fmax(1, costs->smp.activation_factor) : 1;
    double same =
        smp ? fmax(ev->notify_same_core, costs->smp.notify_same_core) : ev->notify_same_core;
    double irq = smp ? fmax(ev->device_irq, costs->smp.device_irq) : ev->device_irq;
    double line_ns = 0;
    for (uint32_t a = 0; a < p->machine.n_cores; a++) {
        for (uint32_t b = 0; b < p->machine.n_cores; b++) {
            line_ns = fmax(line_ns, p->machine.line_ns[a][b]);
        }
    }
    /* Each entity's dearest cycles per I/O, and its cache-line time, wherever it goes. */
    double cycles[PL_MAX_ENTITIES], time_ns[PL_MAX_ENTITIES];
    for (uint32_t i = 0; i < p->n_entities; i++) {
        const struct pl_entity *e = &p->entities[i];
        cycles[i] = e->work * wf + e->irqs * (irq + e->activation * af);
        time_ns[i] = 0;
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        double receive = p->entities[e->to].activation * af + fmax(same, ev->cross_core_receive) +
                         (p->entities[e->to].is_vm ? ev->vm_inject : 0);
        double send = fmax(same, ev->cross_core_notify + ev->cross_core_sgi + ev->coalesce_timer) +
                      (p->entities[e->from].is_vm ? ev->vm_exit : 0);
        cycles[e->to] += e->rate * (receive + send);
        cycles[e->from] += e->rate * (receive + send);
        time_ns[e->to] += e->lines * line_ns;
    }
    double anywhere_cycles = 0, anywhere_ns = 0, here_cycles[PL_MAX_CORES] = {0},
           here_ns[PL_MAX_CORES] = {0};
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (core[i] < 0) {
            anywhere_cycles += cycles[i];
            anywhere_ns += time_ns[i];
        } else {
            here_cycles[core[i]] += cycles[i];
            here_ns[core[i]] += time_ns[i];
        }
    }
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        double most = p->load * ((here_cycles[c] + anywhere_cycles) / p->machine.speed[c] +
                                 (here_ns[c] + anywhere_ns) * 1e-9);
        n_floor[c] = pl_batching_factor(costs, most);
    }
}

/* Per-core cycles per I/O that every completion must spend at least. */
static void core_floors(const struct pl_problem *p, const int *core, const struct floors *f,
                        const double *n_floor, double *cycles)
{
    const struct pl_events *ev = &p->costs.events;
    memset(cycles, 0, sizeof(double) * p->machine.n_cores);
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (core[i] >= 0) {
            const struct pl_entity *e = &p->entities[i];
            cycles[core[i]] += e->work * f->work + e->irqs * n_floor[core[i]] *
                                                       (f->c_irq + e->activation * f->activation);
        }
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        int cu = core[e->from], cv = core[e->to];
        if (cv >= 0) {
            cycles[cv] += e->rate * n_floor[cv] * p->entities[e->to].activation * f->activation;
        }
        if (cu < 0 || cv < 0) {
            continue;
        }
        double n = e->rate * n_floor[cv];
        if (cu == cv) {
            cycles[cu] += n * f->c_same;
        } else {
            cycles[cu] += n * ev->cross_core_notify;
            cycles[cv] += e->lines * p->machine.line_ns[cu][cv] * p->machine.speed[cv] * 1e-9;
        }
    }
}

static double fastest(const struct pl_problem *p)
{
    double best = 0;
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        best = p->machine.speed[c] > best ? p->machine.speed[c] : best;
    }
    return best;
}

/* The most a layout of this machine can sustain, given the per-core floors. */
static double throughput_ceiling(const struct pl_problem *p, const int *core, const double *cycles,
                                 const struct floors *f)
{
    double ceiling = INFINITY, total_work = 0, total_speed = 0;
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        if (cycles[c] > 0) {
            ceiling = fmin(ceiling, p->machine.speed[c] / cycles[c]);
        }
    }
    /* Even spread perfectly, all the work needs the machine's (allowed) speed. */
    double speeds[PL_MAX_CORES];
    uint32_t n = p->machine.n_cores;
    memcpy(speeds, p->machine.speed, sizeof(double) * n);
    for (uint32_t a = 0; a < n; a++) {
        for (uint32_t b = a + 1; b < n; b++) {
            if (speeds[b] > speeds[a]) {
                double t = speeds[a];
                speeds[a] = speeds[b];
                speeds[b] = t;
            }
        }
    }
    uint32_t usable =
        p->constraints.max_cores && p->constraints.max_cores < n ? p->constraints.max_cores : n;
    for (uint32_t c = 0; c < usable; c++) {
        total_speed += speeds[c];
    }
    /* Each unassigned entity must join some core: the one it fits best still bounds. */
    for (uint32_t i = 0; i < p->n_entities; i++) {
        double w = p->entities[i].work * f->work;
        total_work += w;
        if (core[i] >= 0 || w <= 0) {
            continue;
        }
        double best = 0;
        for (uint32_t c = 0; c < n; c++) {
            best = fmax(best, p->machine.speed[c] / (cycles[c] + w));
        }
        ceiling = fmin(ceiling, best);
    }
    if (total_work > 0) {
        ceiling = fmin(ceiling, total_speed / total_work);
    }
    return ceiling;
}

static double hop_floor(const struct pl_problem *p, const int *core, const bool *polling,
                        const struct floors *f, int from, int to, double max_speed)
{
    const struct pl_events *ev = &p->costs.events;
    double vm =
        (p->entities[to].is_vm ? ev->vm_inject : 0) + (p->entities[from].is_vm ? ev->vm_exit : 0);
    int cu = core[from], cv = core[to];
    if (cu < 0 || cv < 0) {
        return (fmin(f->c_same, ev->cross_core_notify) + vm) / max_speed * 1e9;
    }
    double su = p->machine.speed[cu], sv = p->machine.speed[cv];
    if (cu == cv) {
        return (f->c_same + vm) / su * 1e9;
    }
    int edge = p->edge_between[from][to];
    double lines = edge >= 0 ? p->edges[edge].lines * p->machine.line_ns[cu][cv] : 0;
    double ns = polling[to] ? ev->cross_core_notify / su * 1e9 + ev->poll_detect_ns
                            : ((ev->cross_core_notify + ev->cross_core_sgi) / su +
                               (ev->sgi_flight + ev->cross_core_receive) / sv) *
                                  1e9;
    return ns + lines + vm / max_speed * 1e9;
}

static double latency_floor(const struct pl_problem *p, const struct pl_partial *partial,
                            const struct floors *f, const double *util, const double *n_floor)
{
    double max_speed = fastest(p), total = 0, shares = 0;
    const int *core = partial->core;
    double incoming[PL_MAX_ENTITIES] = {0};
    for (uint32_t k = 0; k < p->n_edges; k++) {
        incoming[p->edges[k].to] += p->edges[k].rate;
    }
    uint32_t usable = p->constraints.max_cores && p->constraints.max_cores < p->machine.n_cores
                          ? p->constraints.max_cores
                          : p->machine.n_cores;
    for (uint32_t fl = 0; fl < p->n_flows; fl++) {
        const struct pl_flow *flow = &p->flows[fl];
        double ns = p->costs.external_latency_ns;
        bool queued[PL_MAX_CORES] = {false};
        double queue_assigned = 0;
        /*
         * However the path's PDs are spread, over at most M cores, their work
         * makes the cores busy by S in all, and queueing (convex in each
         * core's load) is least when spread evenly: at least S^2/(load(M-S)).
         */
        bool seen[PL_MAX_ENTITIES] = {false};
        double spread = 0;
        uint32_t distinct = 0;
        for (uint32_t h = 0; h < flow->n; h++) {
            int i = flow->hop[h];
            if (!seen[i]) {
                seen[i] = true;
                distinct++;
                double speed = core[i] >= 0 ? p->machine.speed[core[i]] : max_speed;
                spread += p->load * p->entities[i].work * f->work / speed;
            }
        }
        double most = distinct < usable ? distinct : usable;
        double queue_spread =
            spread < most ? spread * spread / (p->load * (most - spread)) * 1e9 : INFINITY;
        for (uint32_t h = 0; h < flow->n; h++) {
            int i = flow->hop[h];
            const struct pl_entity *e = &p->entities[i];
            double speed = core[i] >= 0 ? p->machine.speed[core[i]] : max_speed;
            double own = (incoming[i] + e->irqs) * (core[i] >= 0 ? n_floor[core[i]] : f->n_min);
            double per_io = e->work * f->work + own * e->activation * f->activation;
            ns += per_io / (e->visits > 0 ? e->visits : 1) / speed * 1e9;
            if (h == 0 && e->irqs > 0) {
                ns += f->c_irq / speed * 1e9;
            }
            if (h > 0 && flow->hop[h - 1] != i) {
                ns += hop_floor(p, core, partial->polling, f, flow->hop[h - 1], i, max_speed);
            }
            if (core[i] >= 0 && !queued[core[i]]) {
                double u = util[core[i]];
                queued[core[i]] = true;
                queue_assigned += u * u / (p->load * (1 - u)) * 1e9;
            }
        }
        ns += queue_assigned > queue_spread ? queue_assigned : queue_spread;
        total += flow->share * ns;
        shares += flow->share;
    }
    return shares > 0 ? total / shares : 0;
}

void pl_bound(const struct pl_problem *p, const struct pl_partial *partial, struct pl_score *out)
{
    struct floors f = cost_floors(p, partial->cores_used);
    double cycles[PL_MAX_CORES] = {0}, util[PL_MAX_CORES] = {0}, n_floor[PL_MAX_CORES] = {0};
    batching_floors(p, partial->core, n_floor);
    core_floors(p, partial->core, &f, n_floor, cycles);
    double worst = 0, total_cpu = 0, max_speed = fastest(p);
    uint32_t must_open = 0;
    bool polls[PL_MAX_CORES] = {false};
    for (uint32_t i = 0; i < p->n_entities; i++) {
        int c = partial->core[i];
        if (c < 0 && p->constraints.exclusive[i]) {
            must_open++;
            total_cpu += 1; /* its own polling core, used whole */
        } else if (c < 0) {
            total_cpu += p->load * p->entities[i].work * f.work / max_speed;
        } else if (partial->polling[i]) {
            polls[c] = true;
        }
    }
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        util[c] = p->load * cycles[c] / p->machine.speed[c];
        worst = fmax(worst, util[c]);
        total_cpu += polls[c] ? 1 : util[c]; /* a polling core counts whole, never more */
    }
    memset(out, 0, sizeof *out);
    switch (p->policy) {
    case PL_POLICY_LATENCY: {
        bool over = worst >= 1 || worst > p->cap + 1e-12;
        out->key[0] = over ? 1 : 0;
        out->key[1] = over ? worst : latency_floor(p, partial, &f, util, n_floor);
        out->key[2] = partial->cores_used + must_open;
        out->key[3] = total_cpu;
        break;
    }
    case PL_POLICY_THROUGHPUT: {
        /*
         * At the throughput the cores are busier than at the offered load, so
         * the floors above (taken there) could be too high: only the most
         * batched notifications are certain.
         */
        double most_batched[PL_MAX_CORES] = {0}, ceiling_cycles[PL_MAX_CORES] = {0};
        for (uint32_t c = 0; c < p->machine.n_cores; c++) {
            most_batched[c] = f.n_min;
        }
        core_floors(p, partial->core, &f, most_batched, ceiling_cycles);
        out->key[1] = -pl_throughput_step(throughput_ceiling(p, partial->core, ceiling_cycles, &f));
        out->key[2] = total_cpu;
        out->key[3] = partial->cores_used + must_open;
        break;
    }
    case PL_POLICY_EFFICIENCY: {
        bool over = worst >= 1 || worst > p->cap + 1e-12;
        out->key[0] = over ? 1 : 0;
        out->key[1] = over ? worst : partial->cores_used + must_open;
        out->key[2] = total_cpu;
        out->key[3] = worst >= 1 ? INFINITY : latency_floor(p, partial, &f, util, n_floor);
        break;
    }
    }
}

void pl_refine_batching(const struct pl_problem *p, const struct pl_layout *layout,
                        struct pl_result *result)
{
    if (!p->allow_coalesce || p->policy == PL_POLICY_LATENCY) {
        return;
    }
    static _Thread_local struct pl_result trial;
    static _Thread_local struct pl_batching batching;
    struct pl_score best, score;
    bool want_throughput = p->policy == PL_POLICY_THROUGHPUT;
    pl_score_of(p, result, &best);
    for (uint32_t c = 0; c < p->n_channels && c < PL_MAX_CHANNELS; c++) {
        if (result->batching.policy[c] != PN_BATCH_END_OF_HANDLER) {
            continue; /* same-core channels, and any already coalescing */
        }
        batching = result->batching;
        batching.policy[c] = PN_BATCH_COALESCE;
        pl_evaluate(p, layout, &batching, want_throughput, &trial);
        pl_score_of(p, &trial, &score);
        if (pl_score_compare(&score, &best) < 0) {
            *result = trial;
            best = score;
        }
    }
}
