/*
 * pinion-sysdesc: checks system descriptions and shows what they generate.
 * Exit status: 0 all good, 1 a description is invalid (or names no such PD),
 * 2 the command line is wrong.
 */
#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    EXIT_OK = 0,
    EXIT_INVALID = 1,
    EXIT_USAGE = 2,
};

static const char usage_text[] =
    "usage: pinion-sysdesc check FILE...\n"
    "       pinion-sysdesc config FILE PD\n"
    "       pinion-sysdesc summary FILE\n"
    "       pinion-sysdesc --help\n"
    "\n"
    "Checks pinion system descriptions (JSON; see docs/system-description.md)\n"
    "and shows what they generate.\n"
    "\n"
    "  check FILE...    validate each FILE: prints \"FILE: ok (N PDs, N regions,\n"
    "                   N channels)\" on stdout, or the problem on stderr\n"
    "  config FILE PD   print the generated configuration of protection domain PD\n"
    "                   as JSON: name, priority, regions, channels, params\n"
    "  summary FILE     print tables of the PDs, regions, maps, channels and IRQs\n"
    "\n"
    "Exit status: 0 ok, 1 an invalid description or unknown PD, 2 a usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("pinion-sysdesc: ", stderr);
    vfprintf(stderr, fmt, args);
    fputs("\nTry 'pinion-sysdesc --help'.\n", stderr);
    va_end(args);
    return EXIT_USAGE;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Loads `path`, printing the loader's message when it fails; NULL then. */
static struct sd_system *load_or_report(const char *path)
{
    struct sd_system *sys = sd_system_new();
    if (sys == NULL) {
        fprintf(stderr, "pinion-sysdesc: out of memory\n");
        return NULL;
    }
    struct sd_error err;
    if (!sd_load_file(path, sys, &err)) {
        fprintf(stderr, "%s\n", err.message);
        sd_system_free(sys);
        return NULL;
    }
    return sys;
}

static int command_check(int argc, char **argv)
{
    if (argc < 1) {
        return usage_error("check needs at least one FILE");
    }
    int status = EXIT_OK;
    for (int i = 0; i < argc; i++) {
        struct sd_system *sys = load_or_report(argv[i]);
        if (sys == NULL) {
            status = EXIT_INVALID;
            continue;
        }
        printf("%s: ok (%u PDs, %u regions, %u channels)\n", argv[i], sys->n_pds, sys->n_regions,
               sys->n_channels);
        sd_system_free(sys);
    }
    return status;
}

static json_t *config_json(const struct pn_config *cfg)
{
    json_t *regions = json_array();
    for (uint32_t i = 0; i < cfg->n_regions; i++) {
        const struct pn_config_region *region = &cfg->regions[i];
        char rights[4];
        sd_format_rights(rights, region->rights);
        /* The loader keeps addresses and sizes below 2^48, so they fit json_int_t. */
        json_array_append_new(regions, json_pack("{s:s, s:I, s:I, s:s}", "name", region->name,
                                                 "vaddr", (json_int_t)region->vaddr, "size",
                                                 (json_int_t)region->size, "rights", rights));
    }
    json_t *channels = json_array();
    for (uint32_t i = 0; i < cfg->n_channels; i++) {
        const struct pn_config_channel *channel = &cfg->channels[i];
        json_array_append_new(channels, json_pack("{s:s, s:I, s:I, s:b}", "name", channel->name,
                                                  "id", (json_int_t)channel->id, "flags",
                                                  (json_int_t)channel->flags, "irq",
                                                  (channel->flags & PN_CHANNEL_IRQ) != 0));
    }
    json_t *params = json_object();
    for (uint32_t i = 0; i < cfg->n_params; i++) {
        json_object_set_new(params, cfg->params[i].key, json_string(cfg->params[i].value));
    }
    return json_pack("{s:s, s:I, s:o, s:o, s:o}", "name", cfg->name, "priority",
                     (json_int_t)cfg->priority, "regions", regions, "channels", channels, "params",
                     params);
}

static int command_config(int argc, char **argv)
{
    if (argc != 2) {
        return usage_error("config needs a FILE and a PD name");
    }
    struct sd_system *sys = load_or_report(argv[0]);
    if (sys == NULL) {
        return EXIT_INVALID;
    }
    int pd = sd_find_pd(sys, argv[1]);
    if (pd < 0) {
        fprintf(stderr, "%s: no PD named \"%s\"\n", argv[0], argv[1]);
        sd_system_free(sys);
        return EXIT_INVALID;
    }
    struct pn_config *cfg = malloc(sizeof *cfg);
    json_t *json = NULL;
    char *text = NULL;
    if (cfg != NULL) {
        sd_build_config(sys, pd, cfg);
        json = config_json(cfg);
    }
    if (json != NULL) {
        text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    int status = EXIT_OK;
    if (text == NULL) {
        fprintf(stderr, "pinion-sysdesc: out of memory\n");
        status = EXIT_INVALID;
    } else {
        printf("%s\n", text);
    }
    free(text);
    json_decref(json);
    free(cfg);
    sd_system_free(sys);
    return status;
}

static int command_summary(int argc, char **argv)
{
    if (argc != 1) {
        return usage_error("summary needs exactly one FILE");
    }
    struct sd_system *sys = load_or_report(argv[0]);
    if (sys == NULL) {
        return EXIT_INVALID;
    }
    sd_print_summary(stdout, sys);
    sd_system_free(sys);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *command = argv[1];
    if (is_help(command) || (argc > 2 && is_help(argv[2]))) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    int status;
    if (strcmp(command, "check") == 0) {
        status = command_check(argc - 2, argv + 2);
    } else if (strcmp(command, "config") == 0) {
        status = command_config(argc - 2, argv + 2);
    } else if (strcmp(command, "summary") == 0) {
        status = command_summary(argc - 2, argv + 2);
    } else if (command[0] == '-') {
        return usage_error("unknown option \"%s\"", command);
    } else {
        return usage_error("unknown command \"%s\" (commands: check, config, summary)", command);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "pinion-sysdesc: cannot write output\n");
        return EXIT_INVALID;
    }
    return status;
}
