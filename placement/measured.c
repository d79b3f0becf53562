/*
 * Per-PD work from a measured run (experiments/run's summary.json): the
 * instructions each PD retired in a phase, per I/O. This is how measured
 * costs flow back into the model: a run on QEMU gives instructions per PD,
 * the profile gives what the events cost, and the model recombines them for
 * layouts that were never run.
 */
#include "profile.h"

#include "jsonread.h"

#include <stdlib.h>
#include <string.h>

/* The number of I/Os: a positive integer, or PD.COUNTER read from the summary's pd_counters. */
static bool io_count(struct jr_ctx *ctx, const json_t *root, const char *ios, double *out)
{
    char *end;
    double number = strtod(ios, &end);
    if (end != ios && *end == '\0') {
        if (number <= 0) {
            return jr_fail(ctx, "--ios %s: must be a positive count", ios);
        }
        *out = number;
        return true;
    }
    const char *dot = strchr(ios, '.');
    if (dot == NULL || dot == ios || dot[1] == '\0') {
        return jr_fail(ctx, "--ios %s: give a count, or PD.COUNTER (a PD's own counter)", ios);
    }
    char pd[PL_NAME_MAX];
    snprintf(pd, sizeof pd, "%.*s", (int)(dot - ios), ios);
    json_t *counters = json_object_get(json_object_get(root, "pd_counters"), pd);
    json_t *value = json_object_get(counters, dot + 1);
    if (!json_is_integer(value) || json_integer_value(value) <= 0) {
        return jr_fail(ctx, "--ios %s: pd_counters has no positive counter \"%s\" for PD \"%s\"",
                       ios, dot + 1, pd);
    }
    *out = (double)json_integer_value(value);
    return true;
}

static struct pl_work *work_entry(struct pl_profile *profile, const char *name)
{
    for (uint32_t i = 0; i < profile->n_work; i++) {
        if (strcmp(profile->work[i].name, name) == 0) {
            return &profile->work[i];
        }
    }
    if (profile->n_work == PL_MAX_WORK) {
        return NULL;
    }
    struct pl_work *work = &profile->work[profile->n_work++];
    memset(work, 0, sizeof *work);
    snprintf(work->name, sizeof work->name, "%s", name);
    return work;
}

bool pl_measured_load(const char *summary_path, const char *phase, const char *ios,
                      bool include_kernel, const struct sd_system *sys, struct pl_profile *profile,
                      struct sd_error *err)
{
    struct jr_ctx ctx = {.origin = summary_path, .err = err};
    json_t *root = jr_load_object(&ctx, summary_path);
    if (root == NULL) {
        return false;
    }
    bool ok = true;
    json_t *section = strcmp(phase, "total") == 0
                          ? json_object_get(root, "total")
                          : json_object_get(json_object_get(root, "phases"), phase);
    json_t *pds = json_object_get(section, "pds");
    double n_ios = 0;
    if (!json_is_object(pds)) {
        ok = jr_fail(&ctx,
                     "no per-PD counts for phase \"%s\" (is it a summary.json of "
                     "experiments/run, and did the run have that phase?)",
                     phase);
    } else {
        ok = io_count(&ctx, root, ios, &n_ios);
    }
    const char *name;
    json_t *entry;
    json_object_foreach(ok ? pds : NULL, name, entry)
    {
        int pd = sd_find_pd(sys, name);
        if (pd < 0) {
            ok = jr_fail(&ctx,
                         "PD \"%s\" is not in system \"%s\"; was this run of another "
                         "system?",
                         name, sys->name);
            break;
        }
        json_t *counts = json_object_get(entry, "instructions");
        json_t *user = json_object_get(counts, "user"), *kernel = json_object_get(counts, "kernel");
        if (!json_is_integer(user) || !json_is_integer(kernel)) {
            ok = jr_fail(&ctx, "PD \"%s\": no instruction counts (was the run counted?)", name);
            break;
        }
        double instructions = (double)json_integer_value(user);
        if (include_kernel) {
            instructions += (double)json_integer_value(kernel);
        }
        struct pl_work *work = work_entry(profile, name);
        if (work == NULL) {
            ok = jr_fail(&ctx, "too many PDs with work");
            break;
        }
        /* What the run measured already holds the PD's side of its wake-ups. */
        work->work = instructions / n_ios * profile->reference_cpi;
        work->activation = 0;
        work->has_activation = true;
        snprintf(work->source, sizeof work->source,
                 "measured: %s, phase %s, %s instructions / %.0f I/Os", summary_path, phase,
                 include_kernel ? "user+kernel" : "user", n_ios);
    }
    profile->has_system = profile->has_system || ok;
    json_decref(root);
    return ok;
}
