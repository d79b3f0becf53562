/*
 * Shared by the hosted-backend tests: loading a test description (with one
 * text edit, for variants), running it to quiescence, reading counters.
 * Needs PINION_SOURCE_DIR and PINION_COMPONENT_DIR from the build.
 */
#ifndef PINION_TESTS_HOSTED_FIXTURE_H
#define PINION_TESTS_HOSTED_FIXTURE_H

#include "check.h"

#include <hosted.h>
#include <stdlib.h>
#include <string.h>

#define HOSTED_TEXT_MAX 65536

/* tests/data/hosted/<name>, with `from` replaced by `to` once (none when from is NULL). */
static inline struct sd_system *hosted_load(const char *name, const char *from, const char *to)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/hosted/%s", PINION_SOURCE_DIR, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    static char text[HOSTED_TEXT_MAX], edited[HOSTED_TEXT_MAX];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    const char *at = from ? strstr(text, from) : NULL;
    if (from && at == NULL) {
        fprintf(stderr, "\"%s\" is not in %s\n", from, name);
        exit(1);
    }
    if (at) {
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    } else {
        snprintf(edited, sizeof edited, "%s", text);
    }
    struct sd_system *sys = sd_system_new();
    struct sd_error err;
    if (!sd_load_buffer(edited, strlen(edited), name, sys, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    return sys;
}

/* A PD's named counter, or UINT64_MAX (said on stderr) when it has none. */
static inline uint64_t hosted_counter(struct pn_hosted_system *hs, const char *pd, const char *name)
{
    const struct pn_counter_table *t = pn_hosted_counters(hs, pd);
    for (uint32_t i = 0; t && i < t->count; i++) {
        if (strcmp(t->slots[i].name, name) == 0) {
            return t->slots[i].value;
        }
    }
    fprintf(stderr, "%s has no counter \"%s\"\n", pd, name);
    return UINT64_MAX;
}

/* Loads the system's components, ready to run; NULL (after failed checks) when it cannot. */
static inline struct pn_hosted_system *hosted_create(struct sd_system *sys, FILE *out,
                                                     unsigned timeout_ms)
{
    struct pn_hosted_options options = {
        .component_dir = PINION_COMPONENT_DIR, .output = out, .timeout_ms = timeout_ms};
    char err[512];
    struct pn_hosted_system *hs = pn_hosted_create(sys, &options, err, sizeof err);
    CHECK(hs != NULL);
    if (hs == NULL) {
        fprintf(stderr, "%s\n", err);
    }
    return hs;
}

/* Runs a created system to quiescence, checking that it got there. */
static inline void hosted_run_created(struct pn_hosted_system *hs, FILE *out)
{
    char err[512];
    bool quiescent = pn_hosted_run(hs, err, sizeof err);
    CHECK(quiescent);
    if (!quiescent) {
        fprintf(stderr, "%s\n", err);
    }
    fflush(out);
}

/* Runs the system to quiescence; NULL (after failed checks) when it cannot start. */
static inline struct pn_hosted_system *hosted_run(struct sd_system *sys, FILE *out,
                                                  unsigned timeout_ms)
{
    struct pn_hosted_system *hs = hosted_create(sys, out, timeout_ms);
    if (hs != NULL) {
        hosted_run_created(hs, out);
    }
    return hs;
}

#endif
