/*
 * The readable report: what was placed on what, the layout with each core's
 * utilisation by cause, the channels that cross cores with their batching,
 * and the predicted latency, throughput and CPU; and the enumeration list.
 */
#include "place_cli.h"

#include <math.h>
#include <string.h>

void place_layout_from_solution(const struct place_run *run, const struct pl_solution *s,
                                struct place_layout *out)
{
    pl_solution_layout(run->problem, s, &out->layout);
    pl_evaluate(run->problem, &out->layout, NULL, true, &out->result);
    pl_refine_batching(run->problem, &out->layout, &out->result);
    pl_score_of(run->problem, &out->result, &out->score);
}

static const char *short_type(const char *type)
{
    const char *comma = strchr(type, ',');
    return comma != NULL ? comma + 1 : type;
}

static uint32_t interchangeable_kinds(const struct pl_problem *p)
{
    uint32_t kinds = 0;
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        kinds += p->machine.kind[c] == (int)c ? 1 : 0;
    }
    return kinds;
}

void place_print_header(FILE *out, const struct place_run *run)
{
    const struct pl_problem *p = run->problem;
    char load[96];
    pl_format_load(load, sizeof load, p->load, run->profile);
    uint32_t vcpus = 0, inert = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        vcpus += p->entities[i].vcpu >= 0 ? 1 : 0;
        inert += p->entities[i].inert ? 1 : 0;
    }
    fprintf(out, "place: system %s (%u PDs", run->sys->name, run->sys->n_pds);
    if (vcpus) {
        fprintf(out, ", %u vCPUs", vcpus);
    }
    fprintf(out, ") on %s, policy %s, at %s\n", run->topo->name, pl_policy_name(p->policy), load);
    fprintf(out, "machine: %u cores, from %s\n", p->machine.n_cores, run->topo->source);
    pl_topology_print(out, run->topo);
    fprintf(out, "profile: %s", run->profile->source);
    uint32_t measured = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        measured += strcmp(p->entities[i].work_from, "measured run") == 0 ? 1 : 0;
    }
    if (measured) {
        fprintf(out, "; work of %u PDs from a measured run", measured);
    }
    if (p->policy == PL_POLICY_EFFICIENCY || p->cap < 1) {
        fprintf(out, "; utilisation cap %.0f%%", p->cap * 100);
    }
    fputc('\n', out);
    if (inert) {
        fprintf(out, "inert (no work or traffic per I/O, placed after the search):");
        for (uint32_t i = 0; i < p->n_entities; i++) {
            if (p->entities[i].inert) {
                fprintf(out, " %s", p->entities[i].name);
            }
        }
        fputc('\n', out);
    }
    const struct pl_solve_report *r = run->report;
    if (r == NULL) {
        return;
    }
    if (r->exact) {
        uint32_t kinds = interchangeable_kinds(p);
        char symmetry[96];
        if (kinds == 1) {
            snprintf(symmetry, sizeof symmetry, "all %u cores interchangeable", p->machine.n_cores);
        } else {
            snprintf(symmetry, sizeof symmetry, "%u classes of interchangeable cores", kinds);
        }
        fprintf(out,
                "solver: exact (branch and bound over layouts up to core symmetry, %s): %llu "
                "nodes, %llu layouts scored, %.3f s; the best layout is proved best\n",
                symmetry, (unsigned long long)r->nodes, (unsigned long long)r->evaluations,
                r->seconds);
    } else {
        fprintf(out, "solver: about 10^%.0f layouts up to core symmetry\n", r->log10_layouts);
        fprintf(out,
                "solver: heuristic (%s; local search with seeded restarts): %llu nodes, %llu "
                "layouts scored, %.3f s; the best found is NOT proved best\n",
                r->exact_skipped ? "too many layouts for branch and bound"
                : r->nodes == 0  ? "branch and bound not asked for"
                                 : "branch and bound stopped at its node limit",
                (unsigned long long)r->nodes, (unsigned long long)r->evaluations, r->seconds);
    }
}

static void print_names_on(FILE *out, const struct pl_problem *p, const struct pl_layout *l,
                           uint32_t core)
{
    bool first = true;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (l->core[i] == (int)core && !p->entities[i].inert) {
            fprintf(out, "%s%s%s", first ? "" : ", ", p->entities[i].name,
                    l->polling[i] ? " (polls)" : "");
            first = false;
        }
    }
    uint32_t inert = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        inert += l->core[i] == (int)core && p->entities[i].inert ? 1 : 0;
    }
    if (inert) {
        fprintf(out, "%s+%u inert", first ? "" : " ", inert);
    }
}

void place_layout_brief(const struct place_run *run, const struct pl_layout *layout, char *out,
                        size_t size)
{
    const struct pl_problem *p = run->problem;
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        bool any = false;
        for (uint32_t i = 0; i < p->n_entities; i++) {
            if (layout->core[i] != (int)c || p->entities[i].inert) {
                continue;
            }
            used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
                                     any ? " " : (used ? " | " : ""), "");
            if (!any) {
                used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%u: ", c);
            }
            used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s",
                                     p->entities[i].name);
            any = true;
        }
    }
}

static void print_cross_channels(FILE *out, const struct place_run *run,
                                 const struct place_layout *l)
{
    const struct pl_problem *p = run->problem;
    bool header = false;
    for (uint32_t k = 0; k < p->n_edges; k++) {
        const struct pl_edge *e = &p->edges[k];
        int cu = l->layout.core[e->from], cv = l->layout.core[e->to];
        if (cu == cv || e->rate <= 0) {
            continue;
        }
        if (!header) {
            fprintf(out, "\ncross-core notifications (per %s at this load)\n",
                    run->profile->io_unit[0] ? run->profile->io_unit : "I/O");
            fprintf(out, "  %-24s %-46s %-15s %8s %8s\n", "channel", "from -> to (cores)",
                    "batching", "notified", "SGIs");
            header = true;
        }
        char ends[192];
        snprintf(ends, sizeof ends, "%s (%d) -> %s (%d)", p->entities[e->from].name, cu,
                 p->entities[e->to].name, cv);
        const char *policy = l->layout.polling[e->to]
                                 ? "polled"
                                 : sd_batch_policy_name(l->result.batching.policy[e->channel]);
        fprintf(out, "  %-24s %-46s %-15s %8.3f %8.3f\n",
                e->channel >= 0 && (uint32_t)e->channel < run->sys->n_channels
                    ? run->sys->channels[e->channel].name
                    : "-",
                ends, policy, l->result.notifications[k], l->result.sgis[k]);
    }
    if (!header) {
        fprintf(out, "\nno notification crosses cores\n");
    }
}

static void print_predictions(FILE *out, const struct place_run *run, const struct place_layout *l)
{
    const struct pl_problem *p = run->problem;
    const struct pl_result *r = &l->result;
    char load[96];
    pl_format_load(load, sizeof load, p->load, run->profile);
    fprintf(out, "\npredicted at %s\n", load);
    if (!r->stable) {
        fprintf(out, "  latency     unbounded: core %d would need %.0f%% of its time\n", r->busiest,
                r->max_util * 100);
    }
    for (uint32_t f = 0; r->stable && f < p->n_flows; f++) {
        const struct pl_flow_figures *ff = &r->flow[f];
        if (p->n_flows > 1) {
            fprintf(out, "  flow %u (%.0f%% of %ss)\n", f, p->flows[f].share * 100,
                    run->profile->io_unit[0] ? run->profile->io_unit : "I/O");
        }
        fprintf(out,
                "  latency     %.1f us: %.1f outside the system, %.1f in the PDs, %.1f in %u "
                "same-core switches, %.1f in %u cross-core hops, %.1f queueing\n",
                ff->total_ns / 1e3, ff->external_ns / 1e3, ff->service_ns / 1e3,
                ff->switch_ns / 1e3, ff->same_hops, ff->cross_ns / 1e3, ff->cross_hops,
                ff->queue_ns / 1e3);
    }
    if (r->stable && p->n_flows > 1) {
        fprintf(out, "  latency     %.1f us on average\n", r->latency_ns / 1e3);
    }
    char tput[96];
    pl_format_load(tput, sizeof tput, r->throughput, run->profile);
    if (isfinite(r->throughput)) {
        fprintf(out, "  throughput  %s before core %d saturates", tput, r->bottleneck);
    } else {
        fprintf(out, "  throughput  not limited by any core");
    }
    if (run->profile->max_rate > 0) {
        char link[96];
        pl_format_load(link, sizeof link, run->profile->max_rate, run->profile);
        fprintf(out, "; the device carries at most %s", link);
    }
    fprintf(out, "\n  CPU         %.2f cores in all; busiest core %d at %.1f%%\n", r->total_cpu,
            r->busiest, r->max_util * 100);
}

void place_print_layout(FILE *out, const struct place_run *run, const struct place_layout *l)
{
    const struct pl_problem *p = run->problem;
    const struct pl_result *r = &l->result;
    fprintf(out, "\nlayout: %u core%s in use, %s\n", r->cores_used, r->cores_used == 1 ? "" : "s",
            !p->costs.smp.present ? "one kernel for any number of cores"
            : r->smp              ? "multicore kernel costs"
                                  : "single-core kernel costs");
    fprintf(out, "  %4s %-14s %7s %7s %8s %7s %6s  %s\n", "core", "type", "busy", "work",
            "wake-ups", "kernel", "lines", "PDs");
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        const struct pl_core_figures *f = &r->core[c];
        const char *type = short_type(run->topo->cores[c].type);
        if (f->n_entities == 0) {
            fprintf(out, "  %4u %-14s %7s\n", c, type, "-");
            continue;
        }
        fprintf(out, "  %4u %-14s %6.1f%% %6.1f%% %7.1f%% %6.1f%% %5.1f%%  ", c, type,
                f->polling ? 100.0 : f->util * 100, f->work * 100, f->wakeups * 100,
                f->kernel * 100, f->lines * 100);
        print_names_on(out, p, &l->layout, c);
        fputc('\n', out);
    }
    print_cross_channels(out, run, l);
    print_predictions(out, run, l);
}

void place_print_enumeration(FILE *out, const struct place_run *run, const struct pl_solution *all,
                             uint64_t shown, uint64_t total)
{
    const struct pl_problem *p = run->problem;
    fprintf(out, "\n%llu distinct layouts up to core symmetry%s, best first by policy %s\n",
            (unsigned long long)total,
            shown < total ? " (only the first listed: raise --limit)" : "",
            pl_policy_name(p->policy));
    fprintf(out, "  %5s %5s %11s %13s %8s %6s  %s\n", "rank", "cores", "latency_us", "throughput/s",
            "busiest", "cpu", "layout (core: PDs)");
    static struct place_layout l;
    for (uint64_t k = 0; k < shown; k++) {
        place_layout_from_solution(run, &all[k], &l);
        char brief[2048];
        place_layout_brief(run, &l.layout, brief, sizeof brief);
        fprintf(out, "  %5llu %5u %11.1f %13.0f %7.1f%% %6.2f  %s\n", (unsigned long long)k + 1,
                l.result.cores_used, l.result.latency_ns / 1e3, l.result.throughput,
                l.result.max_util * 100, l.result.total_cpu, brief);
    }
}
