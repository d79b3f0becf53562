/*
 * What `place` writes: pinion's placement file (through sd_write_placement,
 * which checks it loads back), sDDF's per-PD core map, and the predictions
 * as JSON. Every file is written whole or not at all; "-" means stdout.
 */
#define _POSIX_C_SOURCE 200809L

#include "place_cli.h"

#include "atomic_file.h"
#include "jsonread.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool place_to_placement(const struct place_run *run, const struct place_layout *l,
                        struct sd_placement *out, struct sd_error *err)
{
    const struct pl_problem *p = run->problem;
    memset(out, 0, sizeof *out);
    int highest = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        highest = l->layout.core[i] > highest ? l->layout.core[i] : highest;
    }
    if (highest >= SD_PLACEMENT_MAX_CORES) {
        return pl_fail(err,
                       "the layout uses core %d, but placements (and the kernel) run at most %d "
                       "cores; limit the machine with --cores or the layout with --max-cores",
                       highest, SD_PLACEMENT_MAX_CORES);
    }
    out->cores = (uint32_t)highest + 1;
    snprintf(out->source, sizeof out->source, "place");
    bool all_poll[SD_MAX_PDS];
    for (uint32_t d = 0; d < run->sys->n_pds; d++) {
        all_poll[d] = true;
    }
    for (uint32_t i = 0; i < p->n_entities; i++) {
        const struct pl_entity *e = &p->entities[i];
        int core = l->layout.core[i];
        if (e->vcpu < 0) {
            out->core[e->pd] = core;
            for (uint32_t v = 0; v < SD_MAX_VCPUS; v++) {
                out->vcpu_core[e->pd][v] = core;
            }
        } else {
            out->vcpu_core[e->pd][e->vcpu] = core;
            if (e->vcpu == 0) {
                out->core[e->pd] = core;
            }
        }
        all_poll[e->pd] = all_poll[e->pd] && l->layout.polling[i];
    }
    for (uint32_t d = 0; d < run->sys->n_pds; d++) {
        out->polling[d] = all_poll[d];
    }
    for (uint32_t c = 0; c < run->sys->n_channels; c++) {
        uint8_t policy = l->result.batching.policy[c];
        out->channel[c].policy = policy;
        if (policy == PN_BATCH_COALESCE) {
            out->channel[c].count = l->result.batching.count[c];
            out->channel[c].window_us = l->result.batching.window_us[c];
        }
    }
    return true;
}

/* Copies a file to stdout: how "-" is served for outputs that are written as files. */
static bool copy_to_stdout(const char *path, struct sd_error *err)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        return pl_fail(err, "%s: cannot read back", path);
    }
    char buffer[8192];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, in)) > 0) {
        fwrite(buffer, 1, got, stdout);
    }
    fclose(in);
    return fflush(stdout) == 0 ? true : pl_fail(err, "stdout: cannot write");
}

bool place_write_placement(const struct place_run *run, const struct place_layout *l,
                           const char *path, struct sd_error *err)
{
    static struct sd_placement placement;
    if (!place_to_placement(run, l, &placement, err)) {
        return false;
    }
    if (strcmp(path, "-") != 0) {
        return sd_write_placement(run->sys, &placement, path, err);
    }
    char dir[] = "/tmp/place-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        return pl_fail(err, "cannot make a temporary directory in /tmp");
    }
    char file[64];
    snprintf(file, sizeof file, "%s/placement.json", dir);
    bool ok = sd_write_placement(run->sys, &placement, file, err) && copy_to_stdout(file, err);
    unlink(file);
    rmdir(dir);
    return ok;
}

static bool write_json(json_t *doc, const char *path, struct sd_error *err)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL) {
        return pl_fail(err, "%s: out of memory", path);
    }
    bool ok = true;
    if (strcmp(path, "-") == 0) {
        ok = printf("%s\n", text) >= 0 && fflush(stdout) == 0;
        if (!ok) {
            pl_fail(err, "stdout: cannot write");
        }
    } else {
        struct sd_atomic_file file;
        ok = sd_atomic_open(&file, path, err);
        if (ok && (fputs(text, file.file) == EOF || fputc('\n', file.file) == EOF)) {
            sd_atomic_abort(&file);
            ok = pl_fail(err, "%s: cannot write", path);
        } else if (ok) {
            ok = sd_atomic_commit(&file, err);
        }
    }
    free(text);
    return ok;
}

bool place_write_core_map(const struct place_run *run, const struct place_layout *l,
                          const char *path, struct sd_error *err)
{
    const struct pl_problem *p = run->problem;
    json_t *map = json_object();
    for (uint32_t i = 0; i < p->n_entities; i++) {
        const struct pl_entity *e = &p->entities[i];
        const char *pd = run->sys->pds[e->pd].name;
        if (e->vcpu < 0) {
            json_object_set_new(map, pd, json_integer(l->layout.core[i]));
            continue;
        }
        json_t *list = json_object_get(map, pd);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(map, pd, list);
        }
        json_array_append_new(list, json_integer(l->layout.core[i]));
    }
    return write_json(map, path, err);
}

static json_t *number_or_null(double value)
{
    return isfinite(value) ? json_real(value) : json_null();
}

static json_t *layout_json(const struct place_run *run, const struct place_layout *l, uint32_t rank)
{
    const struct pl_problem *p = run->problem;
    const struct pl_result *r = &l->result;
    json_t *cores = json_object(), *polling = json_array(), *batching = json_object();
    for (uint32_t i = 0; i < p->n_entities; i++) {
        json_object_set_new(cores, p->entities[i].name, json_integer(l->layout.core[i]));
        if (l->layout.polling[i]) {
            json_array_append_new(polling, json_string(p->entities[i].name));
        }
    }
    for (uint32_t c = 0; c < run->sys->n_channels; c++) {
        if (r->batching.policy[c] != PN_BATCH_IMMEDIATE) {
            json_object_set_new(batching, run->sys->channels[c].name,
                                json_string(sd_batch_policy_name(r->batching.policy[c])));
        }
    }
    json_t *per_core = json_array();
    for (uint32_t c = 0; c < p->machine.n_cores; c++) {
        const struct pl_core_figures *f = &r->core[c];
        if (f->n_entities == 0) {
            continue;
        }
        json_array_append_new(
            per_core,
            json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "core", (int)c, "util",
                      json_real(f->util), "work", json_real(f->work), "wakeups",
                      json_real(f->wakeups), "kernel", json_real(f->kernel), "lines",
                      json_real(f->lines), "notifications_per_io", json_real(f->notifications_in),
                      "sgis_per_io", json_real(f->sgis_in), "polling", f->polling));
    }
    json_t *flows = json_array();
    for (uint32_t f = 0; f < p->n_flows; f++) {
        const struct pl_flow_figures *ff = &r->flow[f];
        json_array_append_new(flows,
                              json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i}", "total_us",
                                        number_or_null(ff->total_ns / 1e3), "service_us",
                                        json_real(ff->service_ns / 1e3), "switch_us",
                                        json_real(ff->switch_ns / 1e3), "cross_core_us",
                                        json_real(ff->cross_ns / 1e3), "queueing_us",
                                        number_or_null(ff->queue_ns / 1e3), "external_us",
                                        json_real(ff->external_ns / 1e3), "cross_core_hops",
                                        (int)ff->cross_hops, "same_core_hops", (int)ff->same_hops));
    }
    json_t *score = json_array();
    for (int k = 0; k < PL_KEYS; k++) {
        json_array_append_new(score, number_or_null(l->score.key[k]));
    }
    double mbps = run->profile->io_bits > 0 ? r->throughput * run->profile->io_bits / 1e6 : 0;
    json_t *predicted = json_pack(
        "{s:o, s:o, s:o, s:o, s:i, s:o, s:i, s:i, s:b, s:b, s:o, s:o}", "latency_us",
        number_or_null(r->latency_ns / 1e3), "throughput_per_s", number_or_null(r->throughput),
        "throughput_mbps", number_or_null(mbps), "total_cpu", json_real(r->total_cpu), "cores_used",
        (int)r->cores_used, "max_util", json_real(r->max_util), "bottleneck", r->bottleneck,
        "busiest", r->busiest, "stable", r->stable, "smp_kernel", r->smp, "per_core", per_core,
        "flows", flows);
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "rank", (int)rank, "score", score, "cores",
                     cores, "polling", polling, "batching", batching, "predicted", predicted);
}

bool place_write_json(const struct place_run *run, const struct place_layout *layouts, uint32_t n,
                      const char *path, struct sd_error *err)
{
    const struct pl_problem *p = run->problem;
    json_t *list = json_array();
    for (uint32_t k = 0; k < n; k++) {
        json_array_append_new(list, layout_json(run, &layouts[k], k + 1));
    }
    json_t *solver = json_null();
    if (run->report != NULL) {
        solver = json_pack("{s:s, s:b, s:I, s:I, s:o}", "method",
                           run->report->exact ? "exact" : "heuristic", "proved_best",
                           run->report->exact, "nodes", (json_int_t)run->report->nodes,
                           "evaluations", (json_int_t)run->report->evaluations, "seconds",
                           json_real(run->report->seconds));
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o}", "system", run->sys->name, "board",
        run->topo->name, "profile", run->profile->source, "mode", run->mode, "policy",
        pl_policy_name(p->policy), "load_per_s", json_real(p->load), "cap", json_real(p->cap),
        "io_unit", run->profile->io_unit[0] ? run->profile->io_unit : "I/O", "solver", solver,
        "layouts", list);
    return write_json(doc, path, err);
}

bool place_layout_from_placement(const struct place_run *run, const char *path,
                                 struct place_layout *out, struct sd_error *err)
{
    static struct sd_placement placement;
    if (!sd_load_placement(run->sys, path, &placement, err)) {
        return false;
    }
    const struct pl_problem *p = run->problem;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < p->n_entities; i++) {
        const struct pl_entity *e = &p->entities[i];
        int core = e->vcpu < 0 ? placement.core[e->pd] : placement.vcpu_core[e->pd][e->vcpu];
        if ((uint32_t)core >= p->machine.n_cores) {
            return pl_fail(err, "%s: puts %s on core %d, but %s has %u cores", path, e->name, core,
                           run->topo->name, p->machine.n_cores);
        }
        out->layout.core[i] = core;
        out->layout.polling[i] = placement.polling[e->pd];
    }
    static struct pl_batching batching;
    for (uint32_t c = 0; c < run->sys->n_channels; c++) {
        batching.policy[c] = placement.channel[c].policy;
        batching.count[c] = placement.channel[c].count;
        batching.window_us[c] = placement.channel[c].window_us;
    }
    pl_evaluate(p, &out->layout, &batching, true, &out->result);
    pl_score_of(p, &out->result, &out->score);
    return true;
}
