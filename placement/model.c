/*
 * The model's arithmetic; docs/place.md gives the equations this follows.
 * Utilisation and batching depend on each other (a busier receiver needs
 * fewer notifications, which makes it less busy), so the utilisations are
 * the fixed point of U = T(U), found by a damped Newton iteration; the
 * throughput is where the busiest core of that fixed point reaches 1.
 */
#include "model.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

struct context {
    const struct pl_problem *p;
    const struct pl_layout *layout;
    const struct pl_batching *batching;
    double work_factor, activation_factor, c_same, c_irq;
    double base[PL_MAX_CORES]; /* work and cache lines per I/O: independent of batching */
    bool used[PL_MAX_CORES];
    uint32_t n_senders; /* entities with a notification to another core that sleeps */
    uint16_t senders[PL_MAX_ENTITIES];
};

/* Cycles per I/O on each core, by cause, at utilisations `util`. */
struct cycles {
    double wakeups[PL_MAX_CORES], kernel[PL_MAX_CORES];
    double notifications_in[PL_MAX_CORES], sgis_in[PL_MAX_CORES];
    double notifications[PL_MAX_EDGES], sgis[PL_MAX_EDGES], window_ns[PL_MAX_EDGES];
};

double pl_batching_factor(const struct pl_costs *costs, double util)
{
    double idle = util >= 1 ? 0 : (util <= 0 ? 1 : 1 - util);
    /* The common shapes without pow(), which dominates an evaluation otherwise. */
    double factor =
        costs->shape == 2 ? idle * idle : (costs->shape == 1 ? idle : pow(idle, costs->shape));
    double floor = 1.0 / costs->window;
    return factor > floor ? factor : floor;
}

bool pl_uses_smp(const struct pl_problem *problem, uint32_t cores_used)
{
    if (!problem->costs.smp.present || problem->kernel == PL_KERNEL_SINGLE) {
        return false;
    }
    return problem->kernel == PL_KERNEL_SMP || cores_used > 1;
}

/*
 * SGIs of one sender: per target core and policy, notifications batched by
 * end of handler (at most one SGI per wake-up of the sender) or coalesced
 * (count or window, whichever closes first).
 */
static void sender_sgis(const struct context *x, int u, double activations, double load,
                        struct cycles *cy)
{
    const struct pl_problem *p = x->p;
    const struct pl_events *ev = &p->costs.events;
    double grouped[PL_MAX_CORES][3];
    int cu = x->layout->core[u];
    for (uint32_t k = p->out_begin[u]; k < p->out_begin[u + 1]; k++) {
        const struct pl_edge *e = &p->edges[p->out_edges[k]];
        int cv = x->layout->core[e->to];
        memset(grouped[cv], 0, sizeof grouped[cv]);
    }
    for (uint32_t k = p->out_begin[u]; k < p->out_begin[u + 1]; k++) {
        int ei = p->out_edges[k];
        const struct pl_edge *e = &p->edges[ei];
        int cv = x->layout->core[e->to];
        if (cv != cu && !x->layout->polling[e->to]) {
            grouped[cv][x->batching->policy[e->channel] % 3] += cy->notifications[ei];
        }
    }
    for (uint32_t k = p->out_begin[u]; k < p->out_begin[u + 1]; k++) {
        int ei = p->out_edges[k];
        const struct pl_edge *e = &p->edges[ei];
        int cv = x->layout->core[e->to];
        double n = cy->notifications[ei], sgis = 0;
        cy->window_ns[ei] = 0;
        if (cv == cu || x->layout->polling[e->to] || n <= 0) {
            cy->sgis[ei] = 0;
            continue;
        }
        uint8_t policy = x->batching->policy[e->channel] % 3;
        double group = grouped[cv][policy];
        if (policy == PN_BATCH_IMMEDIATE) {
            sgis = n;
        } else if (policy == PN_BATCH_END_OF_HANDLER) {
            double flushes = activations > 0 && activations < group ? activations : group;
            sgis = n * flushes / group;
        } else {
            double count = x->batching->count[e->channel];
            double rate = load * group, window_s = x->batching->window_us[e->channel] * 1e-6;
            double per_sgi = rate * window_s;
            bool by_timer = per_sgi < count;
            per_sgi = by_timer ? per_sgi : count;
            per_sgi = per_sgi < 1 ? 1 : per_sgi;
            sgis = n / per_sgi;
            if (by_timer) {
                cy->kernel[cu] += sgis * ev->coalesce_timer;
            }
            /* A notification waits, on average, half the time its window stays open. */
            double open_s = by_timer ? window_s : (rate > 0 ? count / rate : 0);
            cy->window_ns[ei] = open_s * 0.5e9;
        }
        cy->sgis[ei] = sgis;
        cy->kernel[cu] += sgis * ev->cross_core_sgi;
        cy->kernel[cv] += sgis * ev->cross_core_receive;
        cy->sgis_in[cv] += sgis;
    }
}

static void cycles_at(const struct context *x, const double *util, double load, struct cycles *cy)
{
    const struct pl_problem *p = x->p;
    const struct pl_events *ev = &p->costs.events;
    uint32_t n_cores = p->machine.n_cores;
    double factor[PL_MAX_CORES], activations[PL_MAX_ENTITIES];
    for (uint32_t c = 0; c < n_cores; c++) {
        factor[c] = pl_batching_factor(&p->costs, util[c]);
        cy->wakeups[c] = cy->kernel[c] = cy->notifications_in[c] = cy->sgis_in[c] = 0;
    }
    for (uint32_t i = 0; i < p->n_entities; i++) {
        const struct pl_entity *e = &p->entities[i];
        int c = x->layout->core[i];
        double irqs = e->irqs * factor[c];
        activations[i] = irqs;
        cy->kernel[c] += irqs * x->c_irq;
        cy->wakeups[c] += irqs * e->activation * x->activation_factor;
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        int cu = x->layout->core[e->from], cv = x->layout->core[e->to];
        double n = e->rate * factor[cv];
        cy->notifications[k] = n;
        activations[e->to] += n;
        cy->notifications_in[cv] += n;
        cy->wakeups[cv] += n * p->entities[e->to].activation * x->activation_factor;
        cy->kernel[cu] += n * (cu == cv ? x->c_same : ev->cross_core_notify);
        if (p->entities[e->to].is_vm) {
            cy->kernel[cv] += n * ev->vm_inject;
        }
        if (p->entities[e->from].is_vm) {
            cy->kernel[cu] += n * ev->vm_exit;
        }
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        cy->sgis[k] = 0;
        cy->window_ns[k] = 0;
    }
    for (uint32_t s = 0; s < x->n_senders; s++) {
        sender_sgis(x, x->senders[s], activations[x->senders[s]], load, cy);
    }
}

static double core_util(const struct context *x, const struct cycles *cy, uint32_t c, double load)
{
    return load * (x->base[c] + cy->wakeups[c] + cy->kernel[c]) / x->p->machine.speed[c];
}

/*
 * The fixed point U = T(U). T falls as U rises, so each step is a Newton
 * step on U - T(U) per core: the first slope is measured by moving every U
 * a little, later ones by the secant through the last two steps (cheaper,
 * and faster: each core's own dependence dominates).
 */
static void solve_util(const struct context *x, double load, double *util, struct cycles *cy)
{
    uint32_t n_cores = x->p->machine.n_cores;
    double target[PL_MAX_CORES], slope[PL_MAX_CORES], last_util[PL_MAX_CORES],
        last_target[PL_MAX_CORES];
    for (int iteration = 0; iteration < 100; iteration++) {
        cycles_at(x, util, load, cy);
        double worst = 0;
        for (uint32_t c = 0; c < n_cores; c++) {
            target[c] = x->used[c] ? core_util(x, cy, c, load) : 0;
            double residual = fabs(target[c] - util[c]);
            worst = residual > worst ? residual : worst;
        }
        if (worst < 1e-11) {
            return; /* far finer than any comparison of layouts needs */
        }
        if (iteration == 0) {
            const double step = 1e-6;
            double probe[PL_MAX_CORES];
            for (uint32_t c = 0; c < n_cores; c++) {
                probe[c] = util[c] + step;
            }
            cycles_at(x, probe, load, cy);
            for (uint32_t c = 0; c < n_cores; c++) {
                double moved = x->used[c] ? core_util(x, cy, c, load) : 0;
                slope[c] = (target[c] - moved) / step; /* -dT/dU */
            }
        } else {
            for (uint32_t c = 0; c < n_cores; c++) {
                double moved = util[c] - last_util[c];
                if (fabs(moved) > 1e-15) {
                    slope[c] = -(target[c] - last_target[c]) / moved;
                }
            }
        }
        for (uint32_t c = 0; c < n_cores; c++) {
            double s = slope[c] > 0 ? slope[c] : 0;
            last_util[c] = util[c];
            last_target[c] = target[c];
            double next = util[c] + (target[c] - util[c]) / (1 + s);
            util[c] = next > 0 ? next : 0;
        }
    }
    cycles_at(x, util, load, cy);
}

static double max_util(const struct context *x, const double *util)
{
    double worst = 0;
    for (uint32_t c = 0; c < x->p->machine.n_cores; c++) {
        worst = util[c] > worst ? util[c] : worst;
    }
    return worst;
}

/* The load at which the busiest core saturates: a regula falsi (Illinois) search. */
static double find_throughput(const struct context *x, const double *util_at_load,
                              struct cycles *cy)
{
    double util[PL_MAX_CORES];
    uint32_t n_cores = x->p->machine.n_cores;
    double hi = INFINITY;
    for (uint32_t c = 0; c < n_cores; c++) {
        if (x->used[c] && x->base[c] > 0) {
            double limit = x->p->machine.speed[c] / x->base[c];
            hi = limit < hi ? limit : hi;
        }
    }
    memcpy(util, util_at_load, sizeof util);
    if (!isfinite(hi)) {
        /* No work anywhere: only notifications; find where they saturate, if ever. */
        hi = x->p->load > 0 ? x->p->load : 1;
        for (int i = 0; i < 60; i++, hi *= 2) {
            solve_util(x, hi, util, cy);
            if (max_util(x, util) >= 1) {
                break;
            }
        }
        if (max_util(x, util) < 1) {
            return INFINITY;
        }
    }
    double lo = 0, g_lo = -1;
    solve_util(x, hi, util, cy);
    double g_hi = max_util(x, util) - 1;
    int side = 0;
    for (int i = 0; i < 80 && hi - lo > 1e-10 * hi; i++) {
        double mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
        if (!(mid > lo && mid < hi)) {
            mid = 0.5 * (lo + hi);
        }
        solve_util(x, mid, util, cy);
        double g = max_util(x, util) - 1;
        if (fabs(g) < 1e-12) {
            return mid;
        }
        if (g < 0) {
            lo = mid;
            g_lo = g;
            if (side == -1) {
                g_hi *= 0.5;
            }
            side = -1;
        } else {
            hi = mid;
            g_hi = g;
            if (side == 1) {
                g_lo *= 0.5;
            }
            side = 1;
        }
    }
    return 0.5 * (lo + hi);
}

/* One cross-core or same-core hop of a flow, in ns. */
static void hop_latency(const struct context *x, const struct cycles *cy, int from, int to,
                        struct pl_flow_figures *f)
{
    const struct pl_problem *p = x->p;
    const struct pl_events *ev = &p->costs.events;
    int cu = x->layout->core[from], cv = x->layout->core[to];
    double su = p->machine.speed[cu], sv = p->machine.speed[cv];
    int edge = p->edge_between[from][to];
    double vm = (p->entities[to].is_vm ? ev->vm_inject : 0) / sv +
                (p->entities[from].is_vm ? ev->vm_exit : 0) / su;
    if (cu == cv) {
        f->switch_ns += (x->c_same / su + vm) * 1e9;
        f->same_hops++;
        return;
    }
    double lines = edge >= 0 ? p->edges[edge].lines * p->machine.line_ns[cu][cv] : 0;
    double ns;
    if (x->layout->polling[to]) {
        ns = ev->cross_core_notify / su * 1e9 + ev->poll_detect_ns;
    } else {
        ns = ((ev->cross_core_notify + ev->cross_core_sgi) / su +
              (ev->sgi_flight + ev->cross_core_receive) / sv) *
             1e9;
        ns += edge >= 0 ? cy->window_ns[edge] : 0;
    }
    f->cross_ns += ns + lines + vm * 1e9;
    f->cross_hops++;
}

static void flow_latency(const struct context *x, const struct cycles *cy, const double *util,
                         double load, const struct pl_flow *flow, struct pl_flow_figures *f)
{
    const struct pl_problem *p = x->p;
    memset(f, 0, sizeof *f);
    f->external_ns = p->costs.external_latency_ns;
    double activations[PL_MAX_ENTITIES] = {0};
    for (uint32_t k = 0; k < p->n_edges; k++) {
        activations[p->edges[k].to] += cy->notifications[k];
    }
    for (uint32_t h = 0; h < flow->n; h++) {
        int i = flow->hop[h];
        const struct pl_entity *e = &p->entities[i];
        int c = x->layout->core[i];
        double speed = p->machine.speed[c];
        double own = activations[i] + e->irqs * pl_batching_factor(&p->costs, util[c]);
        double per_io = e->work * x->work_factor + own * e->activation * x->activation_factor;
        f->service_ns += per_io / (e->visits > 0 ? e->visits : 1) / speed * 1e9;
        if (h == 0 && e->irqs > 0) {
            f->service_ns += x->c_irq / speed * 1e9;
        }
        if (h > 0 && flow->hop[h - 1] != i) {
            hop_latency(x, cy, flow->hop[h - 1], i, f);
        }
        /* Each stretch of the path on one core queues there once (M/M/1 on the core's work). */
        if (h == 0 || x->layout->core[flow->hop[h - 1]] != c) {
            double u = util[c];
            f->queue_ns += u < 1 ? u * u / (load * (1 - u)) * 1e9 : INFINITY;
        }
    }
    f->total_ns = f->external_ns + f->service_ns + f->switch_ns + f->cross_ns + f->queue_ns;
}

static void rule_batching(const struct pl_problem *p, const struct pl_layout *layout,
                          struct pl_batching *out)
{
    memset(out->policy, 0, sizeof out->policy);
    for (uint32_t c = 0; c < p->n_channels && c < PL_MAX_CHANNELS; c++) {
        out->count[c] = (uint16_t)p->costs.coalesce_count;
        out->window_us[c] = p->costs.coalesce_window_us;
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        if (layout->core[e->from] != layout->core[e->to]) {
            out->policy[e->channel] = PN_BATCH_END_OF_HANDLER;
        }
    }
}

/* What an evaluation needs before the fixed point: batching, kernel costs, work and lines. */
static void set_up(struct context *x, const struct pl_problem *p, const struct pl_layout *layout,
                   const struct pl_batching *batching, struct pl_result *out, double *work,
                   double *lines)
{
    x->p = p;
    x->layout = layout;
    x->batching = batching;
    uint32_t cores_used = 0;
    memset(x->used, 0, sizeof x->used);
    for (uint32_t i = 0; i < p->n_entities; i++) {
        int c = layout->core[i];
        if (!x->used[c]) {
            x->used[c] = true;
            cores_used++;
        }
        if (out != NULL) {
            out->core[c].n_entities++;
            out->core[c].polling = out->core[c].polling || layout->polling[i];
        }
    }
    bool smp = pl_uses_smp(p, cores_used);
    if (out != NULL) {
        out->cores_used = cores_used;
        out->smp = smp;
    }
    const struct pl_costs *costs = &p->costs;
    x->work_factor = smp ? costs->smp.work_factor : 1;
    x->activation_factor = smp ? costs->smp.activation_factor : 1;
    x->c_same = smp ? costs->smp.notify_same_core : costs->events.notify_same_core;
    x->c_irq = smp ? costs->smp.device_irq : costs->events.device_irq;
    memset(work, 0, sizeof(double) * p->machine.n_cores);
    memset(lines, 0, sizeof(double) * p->machine.n_cores);
    for (uint32_t i = 0; i < p->n_entities; i++) {
        work[layout->core[i]] += p->entities[i].work * x->work_factor;
    }
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        int cu = layout->core[e->from], cv = layout->core[e->to];
        lines[cv] += e->lines * p->machine.line_ns[cu][cv] * p->machine.speed[cv] * 1e-9;
    }
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        x->base[c] = work[c] + lines[c];
    }
    /* Only these send SGIs; the rest need no look in cycles_at. */
    x->n_senders = 0;
    for (uint32_t u = 0; u < p->n_entities; u++) {
        for (uint32_t k = p->out_begin[u]; k < p->out_begin[u + 1]; k++) {
            int to = p->edges[p->out_edges[k]].to;
            if (layout->core[to] != layout->core[u] && !layout->polling[to]) {
                x->senders[x->n_senders++] = (uint16_t)u;
                break;
            }
        }
    }
}

double pl_max_util_at(const struct pl_problem *p, const struct pl_layout *layout, double load)
{
    static _Thread_local struct cycles cy;
    static _Thread_local struct pl_batching batching;
    struct context x;
    double work[PL_MAX_CORES], lines[PL_MAX_CORES], util[PL_MAX_CORES];
    rule_batching(p, layout, &batching);
    set_up(&x, p, layout, &batching, NULL, work, lines);
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        util[c] = load * x.base[c] / p->machine.speed[c];
    }
    solve_util(&x, load, util, &cy);
    return max_util(&x, util);
}

void pl_evaluate(const struct pl_problem *p, const struct pl_layout *layout,
                 const struct pl_batching *given, bool want_throughput, struct pl_result *out)
{
    static _Thread_local struct cycles cy;
    struct context x;
    uint32_t n_cores = p->machine.n_cores;
    memset(out, 0, offsetof(struct pl_result, notifications));
    if (given != NULL) {
        out->batching = *given;
    } else {
        rule_batching(p, layout, &out->batching);
    }
    double work[PL_MAX_CORES], lines[PL_MAX_CORES], util[PL_MAX_CORES];
    set_up(&x, p, layout, &out->batching, out, work, lines);
    for (uint32_t c = 0; c < n_cores; c++) {
        util[c] = p->load * x.base[c] / p->machine.speed[c];
    }
    solve_util(&x, p->load, util, &cy);
    out->stable = true;
    out->within_cap = true;
    for (uint32_t c = 0; c < n_cores; c++) {
        struct pl_core_figures *core = &out->core[c];
        double scale = p->load / p->machine.speed[c];
        core->util = util[c];
        core->work = work[c] * scale;
        core->lines = lines[c] * scale;
        core->wakeups = cy.wakeups[c] * scale;
        core->kernel = cy.kernel[c] * scale;
        core->notifications_in = cy.notifications_in[c];
        core->sgis_in = cy.sgis_in[c];
        out->stable = out->stable && util[c] < 1;
        out->within_cap = out->within_cap && util[c] <= p->cap + 1e-12;
        if (util[c] > out->max_util) {
            out->max_util = util[c];
            out->busiest = (int)c;
        }
        out->total_cpu += core->polling ? 1.0 : (x.used[c] ? util[c] : 0);
    }
    memcpy(out->notifications, cy.notifications, sizeof(double) * p->n_edges);
    memcpy(out->sgis, cy.sgis, sizeof(double) * p->n_edges);
    double shares = 0;
    for (uint32_t f = 0; f < p->n_flows; f++) {
        flow_latency(&x, &cy, util, p->load, &p->flows[f], &out->flow[f]);
        out->latency_ns += p->flows[f].share * out->flow[f].total_ns;
        shares += p->flows[f].share;
    }
    out->latency_ns = !out->stable ? INFINITY : (shares > 0 ? out->latency_ns / shares : 0);
    out->bottleneck = out->busiest;
    if (want_throughput) {
        out->throughput = find_throughput(&x, util, &cy);
        solve_util(&x, out->throughput, util, &cy);
        out->bottleneck = 0;
        for (uint32_t c = 1; c < n_cores; c++) {
            out->bottleneck = util[c] > util[out->bottleneck] ? (int)c : out->bottleneck;
        }
    }
}
