/*
 * From a system description, a cost profile and a topology to a placement
 * problem: entities with their work, notification edges with their rates,
 * the flows I/Os follow, the machine's speeds and cache distances, and the
 * symmetry the exact solver may exploit.
 */
#include "problem.h"

#include "jsonread.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *pl_policy_name(enum pl_policy policy)
{
    static const char *const names[] = {"latency", "throughput", "efficiency"};
    return policy <= PL_POLICY_EFFICIENCY ? names[policy] : "unknown";
}

void pl_problem_init(struct pl_problem *problem)
{
    memset(problem, 0, sizeof *problem);
    for (int i = 0; i < PL_MAX_ENTITIES; i++) {
        problem->constraints.pin[i] = -1;
        problem->constraints.group[i] = i;
    }
    problem->cap = 1.0;
}

int pl_entity_find(const struct pl_problem *problem, const char *name)
{
    for (uint32_t i = 0; i < problem->n_entities; i++) {
        if (strcmp(problem->entities[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void pl_costs_from_profile(struct pl_costs *costs, const struct pl_profile *profile)
{
    memset(costs, 0, sizeof *costs);
    costs->events = profile->events;
    costs->smp = profile->smp;
    costs->shape = profile->batching_shape;
    costs->window = profile->batching_window;
    costs->coalesce_count = profile->coalesce_count;
    costs->coalesce_window_us = profile->coalesce_window_us;
    costs->external_latency_ns = profile->external_latency_ns;
}

bool pl_machine_from_topology(struct pl_machine *machine, const struct pl_topology *topo,
                              const struct pl_profile *profile, struct sd_error *err)
{
    memset(machine, 0, sizeof *machine);
    const struct pl_core_type *reference = pl_profile_core_type(profile, profile->reference_type);
    double reference_capacity =
        reference != NULL && reference->capacity ? reference->capacity : 1024.0;
    machine->n_cores = topo->n_cores;
    machine->n_clusters = topo->n_clusters;
    for (uint32_t c = 0; c < topo->n_cores; c++) {
        const struct pl_core *core = &topo->cores[c];
        const struct pl_core_type *type = pl_profile_core_type(profile, core->type);
        uint32_t mhz = core->mhz ? core->mhz : (type != NULL ? type->mhz : 0);
        uint32_t capacity = core->capacity ? core->capacity : (type != NULL ? type->capacity : 0);
        if (mhz == 0) {
            return pl_fail(err,
                           "%s: core %u (%s, %s) has no clock-frequency, and profile %s has no "
                           "core_types entry for \"%s\" to give one",
                           topo->source, c, core->label, core->type, profile->source, core->type);
        }
        /* capacity-dmips-mhz is per MHz; a type the profile does not know counts as the reference.
         */
        double relative = capacity ? capacity / reference_capacity : 1.0;
        machine->speed[c] = mhz * 1e6 * relative;
        machine->cluster[c] = core->cluster;
        snprintf(machine->label[c], sizeof machine->label[c], "%s", core->type);
    }
    for (uint32_t a = 0; a < topo->n_cores; a++) {
        for (uint32_t b = 0; b < topo->n_cores; b++) {
            double ns = 0;
            if (a != b) {
                bool same = topo->cores[a].cluster == topo->cores[b].cluster;
                ns = same ? profile->events.line_same_cluster_ns
                          : profile->events.line_cross_cluster_ns;
                /* Across memory nodes a line travels further, in libnuma's proportion. */
                int distance = topo->numa_distance[a][b];
                if (!same && distance > 10) {
                    ns *= distance / 10.0;
                }
            }
            machine->line_ns[a][b] = ns;
        }
    }
    return true;
}

/* The profile's work for a PD (or vCPU): by its own name, then by the PD's program. */
static const struct pl_work *find_work(const struct pl_profile *profile, const char *name,
                                       const char *program, const char **from)
{
    for (uint32_t i = 0; i < profile->n_work; i++) {
        if (strcmp(profile->work[i].name, name) == 0) {
            *from = "profile (by PD)";
            return &profile->work[i];
        }
    }
    for (uint32_t i = 0; program != NULL && i < profile->n_programs; i++) {
        if (strcmp(profile->programs[i].name, program) == 0) {
            *from = "profile (by program)";
            return &profile->programs[i];
        }
    }
    return NULL;
}

static bool add_entity(struct pl_problem *problem, const struct sd_system *sys, int pd, int vcpu,
                       const struct pl_profile *profile, struct sd_error *err)
{
    const struct sd_pd *desc = &sys->pds[pd];
    if (problem->n_entities == PL_MAX_ENTITIES) {
        pl_fail(err, "%s: more than %d PDs and vCPUs to place", sys->source, PL_MAX_ENTITIES);
        return false;
    }
    struct pl_entity *e = &problem->entities[problem->n_entities++];
    e->pd = pd;
    e->vcpu = vcpu;
    e->is_vm = desc->kind == SD_KIND_VM;
    if (vcpu < 0) {
        snprintf(e->name, sizeof e->name, "%s", desc->name);
    } else {
        snprintf(e->name, sizeof e->name, "%s/vcpu%d", desc->name, vcpu);
    }
    const char *from = "";
    const struct pl_work *work =
        find_work(profile, e->name, e->is_vm ? NULL : desc->program, &from);
    double split = 1.0;
    if (work == NULL && e->is_vm) {
        /* A VM's work given as a whole is shared evenly by its vCPUs. */
        work = find_work(profile, desc->name, NULL, &from);
        split = desc->vm.vcpus;
    }
    if (work == NULL) {
        pl_fail(err,
                "profile %s has no work for PD \"%s\" of system \"%s\": add it under "
                "systems.\"%s\".work%s%s%s, or give a measured run (--measured)",
                profile->source, e->name, sys->name, sys->name, e->is_vm ? "" : " or programs.\"",
                e->is_vm ? "" : desc->program, e->is_vm ? "" : "\"");
        return false;
    }
    e->work = (work->work + work->copy_bytes * profile->events.copy_per_byte +
               work->exits * profile->events.vm_exit) /
              split;
    e->activation = work->has_activation ? work->activation : profile->default_activation;
    e->irqs = work->irqs / split;
    snprintf(e->work_from, sizeof e->work_from, "%s", from);
    if (strncmp(work->source, "measured:", 9) == 0) {
        snprintf(e->work_from, sizeof e->work_from, "measured run");
    }
    return true;
}

/* Entity of a PD as a channel end sees it: a component, or its VM's vCPU 0 (which takes
 * interrupts). */
static int end_entity(const int *first_entity, int pd)
{
    return first_entity[pd];
}

static bool add_edge(struct pl_problem *problem, int from, int to, int channel, double rate,
                     double lines, struct sd_error *err)
{
    if (rate <= 0 && lines <= 0) {
        return true;
    }
    if (problem->n_edges == PL_MAX_EDGES) {
        pl_fail(err, "more than %d notification edges", PL_MAX_EDGES);
        return false;
    }
    problem->edges[problem->n_edges++] =
        (struct pl_edge){.from = from, .to = to, .channel = channel, .rate = rate, .lines = lines};
    return true;
}

static bool check_profile_names(const struct pl_problem *problem, const struct sd_system *sys,
                                const struct pl_profile *profile, struct sd_error *err)
{
    for (uint32_t i = 0; i < profile->n_work; i++) {
        const char *name = profile->work[i].name;
        if (pl_entity_find(problem, name) < 0 && sd_find_pd(sys, name) < 0) {
            pl_fail(err, "%s: systems.\"%s\".work \"%s\": no such PD or vCPU in system \"%s\"",
                    profile->source, sys->name, name, sys->name);
            return false;
        }
    }
    for (uint32_t r = 0; r < profile->n_rates; r++) {
        bool found = false;
        for (uint32_t c = 0; c < sys->n_channels && !found; c++) {
            found = strcmp(sys->channels[c].name, profile->rates[r].name) == 0;
        }
        if (!found) {
            pl_fail(err, "%s: systems.\"%s\".channels \"%s\": no such channel in system \"%s\"",
                    profile->source, sys->name, profile->rates[r].name, sys->name);
            return false;
        }
    }
    return true;
}

static bool build_flows(struct pl_problem *problem, const struct sd_system *sys,
                        const struct pl_profile *profile, struct sd_error *err)
{
    for (uint32_t f = 0; f < profile->n_flows; f++) {
        const struct pl_flow_spec *spec = &profile->flows[f];
        struct pl_flow *flow = &problem->flows[problem->n_flows++];
        flow->share = spec->share;
        flow->n = spec->n;
        for (uint32_t h = 0; h < spec->n; h++) {
            int e = pl_entity_find(problem, spec->path[h]);
            int pd = sd_find_pd(sys, spec->path[h]);
            if (e < 0 && pd >= 0 && sys->pds[pd].kind == SD_KIND_VM) {
                char vcpu0[PL_NAME_MAX + 8];
                snprintf(vcpu0, sizeof vcpu0, "%s/vcpu0", spec->path[h]);
                e = pl_entity_find(problem, vcpu0); /* a VM on a path: its vCPU 0 */
            }
            if (e < 0) {
                pl_fail(err, "%s: systems.\"%s\".flows[%u].path[%u] \"%s\": no such PD or vCPU",
                        profile->source, sys->name, f, h, spec->path[h]);
                return false;
            }
            flow->hop[h] = e;
        }
    }
    return true;
}

/*
 * Without declared flows, one: from the first entity that takes device
 * interrupts (else the first with work) along the heaviest unvisited
 * notification edge, ending when none is left, and back to the start if
 * an edge leads there (a round trip, as an echo makes).
 */
static void default_flow(struct pl_problem *problem)
{
    int start = -1;
    for (uint32_t i = 0; i < problem->n_entities && start < 0; i++) {
        start = problem->entities[i].irqs > 0 ? (int)i : -1;
    }
    for (uint32_t i = 0; i < problem->n_entities && start < 0; i++) {
        start = problem->entities[i].work > 0 ? (int)i : -1;
    }
    if (start < 0) {
        return;
    }
    struct pl_flow *flow = &problem->flows[problem->n_flows++];
    flow->share = 1.0;
    bool visited[PL_MAX_ENTITIES] = {false};
    int at = start;
    while (at >= 0 && flow->n < PL_MAX_PATH - 1) {
        flow->hop[flow->n++] = at;
        visited[at] = true;
        int next = -1;
        double best = 0;
        for (uint32_t e = 0; e < problem->n_edges; e++) {
            const struct pl_edge *edge = &problem->edges[e];
            if (edge->from == at && !visited[edge->to] && edge->rate > best) {
                best = edge->rate;
                next = edge->to;
            }
        }
        at = next;
    }
    int last = flow->hop[flow->n - 1];
    for (uint32_t e = 0; e < problem->n_edges && flow->n > 1; e++) {
        if (problem->edges[e].from == last && problem->edges[e].to == start &&
            problem->edges[e].rate > 0) {
            flow->hop[flow->n++] = start;
            break;
        }
    }
}

bool pl_problem_from_system(struct pl_problem *problem, const struct sd_system *sys,
                            const struct pl_profile *profile, struct sd_error *err)
{
    int first_entity[SD_MAX_PDS];
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        first_entity[p] = (int)problem->n_entities;
        const struct sd_pd *pd = &sys->pds[p];
        int n_vcpus = pd->kind == SD_KIND_VM ? (int)pd->vm.vcpus : 0;
        for (int v = n_vcpus ? 0 : -1; v < n_vcpus; v++) {
            if (!add_entity(problem, sys, (int)p, v, profile, err)) {
                return false;
            }
        }
    }
    if (!check_profile_names(problem, sys, profile, err)) {
        return false;
    }
    problem->n_channels = sys->n_channels;
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        const struct sd_channel *channel = &sys->channels[c];
        struct pl_channel_rate rate = profile->default_channel;
        for (uint32_t r = 0; r < profile->n_rates; r++) {
            if (strcmp(profile->rates[r].name, channel->name) == 0) {
                rate = profile->rates[r];
            }
        }
        int a = end_entity(first_entity, channel->ends[0].pd);
        int b = end_entity(first_entity, channel->ends[1].pd);
        if (!add_edge(problem, a, b, (int)c, rate.forward, rate.forward > 0 ? rate.lines : 0,
                      err) ||
            !add_edge(problem, b, a, (int)c, rate.backward, rate.backward > 0 ? rate.lines : 0,
                      err)) {
            return false;
        }
    }
    if (profile->n_flows > 0) {
        if (!build_flows(problem, sys, profile, err)) {
            return false;
        }
    } else {
        default_flow(problem);
    }
    return true;
}

/* Symmetry classes: which cores, and which whole clusters, the exact solver may swap. */
static void classify_cores(struct pl_problem *problem)
{
    struct pl_machine *m = &problem->machine;
    bool pinned_core[PL_MAX_CORES] = {false};
    bool pinned_cluster[PL_MAX_CORES] = {false};
    for (uint32_t i = 0; i < problem->n_entities; i++) {
        int core = problem->constraints.pin[i];
        if (core >= 0 && (uint32_t)core < m->n_cores) {
            pinned_core[core] = true;
            pinned_cluster[m->cluster[core]] = true;
        }
    }
    /* Kinds: same speed and label within a cluster; a pinned core is a kind of its own. */
    for (uint32_t c = 0; c < m->n_cores; c++) {
        m->fixed[c] = pinned_core[c];
        m->kind[c] = (int)c;
        for (uint32_t d = 0; d < c && !pinned_core[c]; d++) {
            if (!pinned_core[d] && m->cluster[d] == m->cluster[c] && m->speed[d] == m->speed[c] &&
                strcmp(m->label[d], m->label[c]) == 0) {
                m->kind[c] = m->kind[d];
                break;
            }
        }
    }
    /*
     * Whole clusters are interchangeable when they hold the same cores and
     * every line between clusters costs the same (no NUMA distances).
     */
    bool uniform = true;
    double cross = -1;
    for (uint32_t a = 0; a < m->n_cores; a++) {
        for (uint32_t b = 0; b < m->n_cores; b++) {
            if (m->cluster[a] != m->cluster[b]) {
                uniform = uniform && (cross < 0 || m->line_ns[a][b] == cross);
                cross = m->line_ns[a][b];
            }
        }
    }
    for (uint32_t k = 0; k < m->n_clusters; k++) {
        m->cluster_class[k] = (int)k;
        for (uint32_t j = 0; j < k && uniform && !pinned_cluster[k]; j++) {
            if (pinned_cluster[j]) {
                continue;
            }
            /* Same size, and core by core the same speed and label, in order. */
            uint32_t ck[PL_MAX_CORES], cj[PL_MAX_CORES], nk = 0, nj = 0;
            for (uint32_t c = 0; c < m->n_cores; c++) {
                if ((uint32_t)m->cluster[c] == k) {
                    ck[nk++] = c;
                } else if ((uint32_t)m->cluster[c] == j) {
                    cj[nj++] = c;
                }
            }
            bool same = nk == nj;
            for (uint32_t i = 0; same && i < nk; i++) {
                same = m->speed[ck[i]] == m->speed[cj[i]] &&
                       strcmp(m->label[ck[i]], m->label[cj[i]]) == 0;
            }
            if (same) {
                m->cluster_class[k] = m->cluster_class[j];
                break;
            }
        }
    }
}

void pl_problem_finish(struct pl_problem *problem)
{
    memset(problem->edge_between, 0xff, sizeof problem->edge_between);
    for (uint32_t e = problem->n_edges; e-- > 0;) {
        problem->edge_between[problem->edges[e].from][problem->edges[e].to] = (int16_t)e;
    }
    uint32_t n_out = 0;
    for (uint32_t u = 0; u < problem->n_entities; u++) {
        problem->out_begin[u] = (uint16_t)n_out;
        for (uint32_t e = 0; e < problem->n_edges; e++) {
            if (problem->edges[e].from == (int)u) {
                problem->out_edges[n_out++] = (uint16_t)e;
            }
        }
    }
    problem->out_begin[problem->n_entities] = (uint16_t)n_out;
    if (problem->n_channels == 0) {
        for (uint32_t e = 0; e < problem->n_edges; e++) {
            if ((uint32_t)problem->edges[e].channel >= problem->n_channels) {
                problem->n_channels = (uint32_t)problem->edges[e].channel + 1;
            }
        }
    }
    double total_share = 0;
    for (uint32_t f = 0; f < problem->n_flows; f++) {
        total_share += problem->flows[f].share;
    }
    for (uint32_t i = 0; i < problem->n_entities; i++) {
        problem->entities[i].visits = 0;
    }
    for (uint32_t f = 0; f < problem->n_flows && total_share > 0; f++) {
        for (uint32_t h = 0; h < problem->flows[f].n; h++) {
            problem->entities[problem->flows[f].hop[h]].visits +=
                problem->flows[f].share / total_share;
        }
    }
    const struct pl_constraints *k = &problem->constraints;
    for (uint32_t i = 0; i < problem->n_entities; i++) {
        struct pl_entity *e = &problem->entities[i];
        bool traffic = e->irqs > 0 || e->visits > 0;
        for (uint32_t j = 0; j < problem->n_edges && !traffic; j++) {
            traffic = problem->edges[j].from == (int)i || problem->edges[j].to == (int)i;
        }
        bool constrained = k->pin[i] >= 0 || k->exclusive[i] || k->group[i] != (int)i;
        for (uint32_t j = 0; j < problem->n_entities && !constrained; j++) {
            constrained = j != i && k->group[j] == (int)i;
        }
        for (uint32_t a = 0; a < k->n_apart && !constrained; a++) {
            constrained = k->apart[a][0] == (int)i || k->apart[a][1] == (int)i;
        }
        e->inert = e->work <= 0 && !traffic && !constrained;
    }
    classify_cores(problem);
}
