/*
 * pinion-hosted: runs a system description's components as threads on this
 * host until the system is quiescent, then reports.
 */
#define _GNU_SOURCE
#include "hosted.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PINION_DEFAULT_COMPONENT_DIR
#define PINION_DEFAULT_COMPONENT_DIR "."
#endif

static void usage(FILE *to)
{
    fprintf(to,
            "usage: pinion-hosted [options] SYSTEM.json\n"
            "\n"
            "Runs the components of a pinion system description as threads of this\n"
            "process (regions in host memory, notifications as futex wake-ups) until\n"
            "every component waits and nothing is pending, then reports.\n"
            "\n"
            "  --components DIR   where the components' <program>.so files are\n"
            "                     (default: %s)\n"
            "  --timeout SECONDS  fail if the system is not quiescent by then (default 60)\n"
            "  --stats            print each PD's runtime statistics and counters\n"
            "  --stats-json FILE  write them as JSON to FILE\n"
            "  --help             this text\n"
            "\n"
            "Exit status: 0 quiescent with no PD faulted; 1 a PD faulted, the run timed\n"
            "out or the system could not be loaded; 2 bad usage.\n",
            PINION_DEFAULT_COMPONENT_DIR);
}

static json_t *pd_json(const struct pn_hosted_system *hs, const char *name)
{
    struct pn_hosted_stats st;
    pn_hosted_stats(hs, name, &st);
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "pd", name, "entries",
                  (json_int_t)st.entries, "notifications_sent", (json_int_t)st.notifications_sent,
                  "notifications_deferred", (json_int_t)st.notifications_deferred,
                  "notifications_received", (json_int_t)st.notifications_received, "wakeups",
                  (json_int_t)st.wakeups, "irqs_delivered", (json_int_t)st.irqs_delivered,
                  "irq_acks", (json_int_t)st.irq_acks, "ppcalls_made", (json_int_t)st.ppcalls_made,
                  "ppcalls_served", (json_int_t)st.ppcalls_served, "faulted", st.faulted);
    if (st.faulted) {
        json_object_set_new(o, "fault", json_string(st.fault));
    }
    json_t *counters = json_object();
    const struct pn_counter_table *t = pn_hosted_counters(hs, name);
    for (uint32_t i = 0; t && i < t->count && i < PN_MAX_COUNTERS; i++) {
        json_object_set_new(counters, t->slots[i].name,
                            json_integer((json_int_t)t->slots[i].value));
    }
    json_object_set_new(o, "counters", counters);
    return o;
}

static void print_stats(const struct sd_system *sys, const struct pn_hosted_system *hs)
{
    printf("\n%-16s %9s %9s %9s %9s %9s  %s\n", "PD", "entries", "notif-out", "notif-in", "wakeups",
           "irqs", "counters");
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        struct pn_hosted_stats st;
        pn_hosted_stats(hs, sys->pds[i].name, &st);
        printf("%-16s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " ",
               sys->pds[i].name, st.entries, st.notifications_sent, st.notifications_received,
               st.wakeups, st.irqs_delivered);
        const struct pn_counter_table *t = pn_hosted_counters(hs, sys->pds[i].name);
        for (uint32_t c = 0; t && c < t->count && c < PN_MAX_COUNTERS; c++) {
            printf(" %s=%" PRIu64, t->slots[c].name, t->slots[c].value);
        }
        printf("%s\n", st.faulted ? "  FAULTED" : "");
    }
}

/* Writes next to the target and renames, so a reader never sees half a file. */
static bool write_json_atomically(json_t *doc, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    if (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "pinion-hosted: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "pinion-hosted: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct pn_hosted_options options = {.component_dir = PINION_DEFAULT_COMPONENT_DIR};
    bool stats = false;
    const char *stats_json = NULL;
    static const struct option longopts[] = {
        {"components", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"stats", no_argument, NULL, 's'},
        {"stats-json", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'c':
            options.component_dir = optarg;
            break;
        case 't': {
            errno = 0;
            unsigned long seconds = strtoul(optarg, &end, 10);
            if (errno || *end || seconds == 0 || seconds > 86400) {
                fprintf(stderr, "pinion-hosted: --timeout takes 1..86400 seconds, not '%s'\n",
                        optarg);
                return 2;
            }
            options.timeout_ms = (unsigned)seconds * 1000u;
            break;
        }
        case 's':
            stats = true;
            break;
        case 'j':
            stats_json = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "pinion-hosted: expected one system description (try --help)\n");
        return 2;
    }
    struct sd_system *sys = sd_system_new();
    struct sd_error sd_err;
    if (sys == NULL) {
        fprintf(stderr, "pinion-hosted: out of memory\n");
        return 1;
    }
    if (!sd_load_file(argv[optind], sys, &sd_err)) {
        fprintf(stderr, "pinion-hosted: %s\n", sd_err.message);
        sd_system_free(sys);
        return 1;
    }
    char err[1024];
    struct pn_hosted_system *hs = pn_hosted_create(sys, &options, err, sizeof err);
    if (hs == NULL) {
        fprintf(stderr, "pinion-hosted: %s: %s\n", argv[optind], err);
        sd_system_free(sys);
        return 1;
    }
    bool ok = pn_hosted_run(hs, err, sizeof err);
    if (!ok) {
        fprintf(stderr, "pinion-hosted: %s: %s\n", argv[optind], err);
    }
    int faulted = 0;
    json_t *pds = json_array();
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        struct pn_hosted_stats st;
        pn_hosted_stats(hs, sys->pds[i].name, &st);
        faulted += st.faulted;
        json_array_append_new(pds, pd_json(hs, sys->pds[i].name));
    }
    if (stats) {
        print_stats(sys, hs);
    }
    if (stats_json) {
        json_t *doc = json_pack("{s:s, s:b, s:o}", "system", sys->name, "quiescent", ok, "pds",
                                json_incref(pds));
        ok = write_json_atomically(doc, stats_json) && ok;
        json_decref(doc);
    }
    json_decref(pds);
    if (faulted) {
        fprintf(stderr, "pinion-hosted: %d PD%s faulted\n", faulted, faulted == 1 ? "" : "s");
    }
    pn_hosted_destroy(hs);
    sd_system_free(sys);
    return ok && faulted == 0 ? 0 : 1;
}
