/*
 * place: chooses a core for every PD and vCPU of a system, with the
 * batching of each cross-core channel, by a cost model of a board (or the
 * host), under a policy; prints the layout with its predicted figures and
 * why, and writes pinion's placement file or sDDF's core map.
 * docs/place.md is the manual.
 */
#define _POSIX_C_SOURCE 200809L

#include "constraints.h"
#include "jsonread.h"
#include "place_cli.h"
#include "place_options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#ifndef PINION_SOURCE_DIR
#error "the build defines PINION_SOURCE_DIR, where boards/ is"
#endif

static const char usage_text[] =
    "usage: place --system FILE (--board NAME | --dtb FILE --profile FILE | --host) [options]\n"
    "\n"
    "Chooses a core for every PD and vCPU of a system description, and the batching of\n"
    "every channel that crosses cores, by a cost model of the machine under a policy.\n"
    "Prints the layout with its predicted utilisation, throughput and latency, why it\n"
    "wins and what separates the runners-up; writes pinion's placement file (what\n"
    "`make image PLACEMENT=` takes) or sDDF's per-PD core map. docs/place.md explains\n"
    "the model.\n"
    "\n"
    "machine and costs:\n"
    "  --system FILE         the system description (JSON)\n"
    "  --board NAME          boards/NAME/NAME.dts (compiled with dtc) and its profile.json\n"
    "  --dtb FILE            a compiled device tree, e.g. from QEMU's -M virt,dumpdtb=FILE\n"
    "  --host                this machine, through hwloc and libnuma\n"
    "  --boards DIR          where boards are (default: the source tree's boards/)\n"
    "  --profile FILE        the cost profile (default: the board's profile.json; for\n"
    "                        --host, boards/host/profile.json)\n"
    "  --cores N             use only the first N cores (QEMU's -smp N)\n"
    "  --measured FILE       per-PD work from a run's summary.json (experiments/run)\n"
    "  --ios N|PD.COUNTER    the I/Os of the measured phase (required with --measured)\n"
    "  --phase P             the measured phase (default: total)\n"
    "  --measured-kernel     count each PD's kernel instructions as its work too\n"
    "\n"
    "policy:\n"
    "  --policy P            latency (default), throughput or efficiency\n"
    "  --load L              offered load: 500Mb/s, 1Gb/s, 40000/s (default: the profile's)\n"
    "  --cap U               latency, efficiency: no core above this utilisation at the\n"
    "                        load (default 0.8 for efficiency, 1 for latency)\n"
    "  --kernel K            auto (single-core kernel on one core; default), single, smp\n"
    "  --no-coalesce         never choose coalescing batching\n"
    "\n"
    "constraints (also from --constraints FILE, see docs/place.md):\n"
    "  --pin PD=CORE         --exclusive PD (alone on its core, polling)\n"
    "  --apart A,B[,...]     --together A,B[,...]     --max-cores N\n"
    "\n"
    "solver:\n"
    "  --solver S            auto (default: exact within --node-limit, then local\n"
    "                        search), exact (no node limit), local\n"
    "  --node-limit N        branch-and-bound nodes before handing over (default 2000000)\n"
    "  --evaluations N       local-search budget in evaluated layouts (default 10000)\n"
    "  --seed S              local-search seed (default 1)\n"
    "  --runners-up N        layouts shown after the best (default 3, at most 15)\n"
    "\n"
    "modes:\n"
    "  --evaluate FILE       predict a given placement instead of searching\n"
    "  --enumerate           list every distinct layout (up to core symmetry), best first\n"
    "  --limit N             list at most N layouts (default 10000)\n"
    "\n"
    "output:\n"
    "  --out FILE            write the best layout ('-': stdout) as --emit says\n"
    "  --emit KIND           placement (default) or sddf-core-map\n"
    "  --json FILE           the predictions as JSON ('-': stdout)\n"
    "  --quiet               no report on stdout\n"
    "  --help                this text\n"
    "\n"
    "Exit status: 0 done; 1 bad input, contradictory constraints, or no layout that\n"
    "carries the load; 2 usage error.\n";

static int usage_error(const char *fmt, const char *detail)
{
    fprintf(stderr, "place: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

static bool parse_number(const char *text, double min, double max, double *out)
{
    char *end;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value >= min && value <= max)) {
        return false;
    }
    *out = value;
    return true;
}

enum {
    OPT_SYSTEM = 256,
    OPT_BOARD,
    OPT_DTB,
    OPT_HOST,
    OPT_BOARDS,
    OPT_PROFILE,
    OPT_CORES,
    OPT_MEASURED,
    OPT_IOS,
    OPT_PHASE,
    OPT_MEASURED_KERNEL,
    OPT_POLICY,
    OPT_LOAD,
    OPT_CAP,
    OPT_KERNEL,
    OPT_NO_COALESCE,
    OPT_CONSTRAINTS,
    OPT_PIN,
    OPT_EXCLUSIVE,
    OPT_APART,
    OPT_TOGETHER,
    OPT_MAX_CORES,
    OPT_SOLVER,
    OPT_NODE_LIMIT,
    OPT_EVALUATIONS,
    OPT_SEED,
    OPT_RUNNERS,
    OPT_EVALUATE,
    OPT_ENUMERATE,
    OPT_LIMIT,
    OPT_OUT,
    OPT_EMIT,
    OPT_JSON,
    OPT_QUIET,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"system", 1, 0, OPT_SYSTEM},
    {"board", 1, 0, OPT_BOARD},
    {"dtb", 1, 0, OPT_DTB},
    {"host", 0, 0, OPT_HOST},
    {"boards", 1, 0, OPT_BOARDS},
    {"profile", 1, 0, OPT_PROFILE},
    {"cores", 1, 0, OPT_CORES},
    {"measured", 1, 0, OPT_MEASURED},
    {"ios", 1, 0, OPT_IOS},
    {"phase", 1, 0, OPT_PHASE},
    {"measured-kernel", 0, 0, OPT_MEASURED_KERNEL},
    {"policy", 1, 0, OPT_POLICY},
    {"load", 1, 0, OPT_LOAD},
    {"cap", 1, 0, OPT_CAP},
    {"kernel", 1, 0, OPT_KERNEL},
    {"no-coalesce", 0, 0, OPT_NO_COALESCE},
    {"constraints", 1, 0, OPT_CONSTRAINTS},
    {"pin", 1, 0, OPT_PIN},
    {"exclusive", 1, 0, OPT_EXCLUSIVE},
    {"apart", 1, 0, OPT_APART},
    {"together", 1, 0, OPT_TOGETHER},
    {"max-cores", 1, 0, OPT_MAX_CORES},
    {"solver", 1, 0, OPT_SOLVER},
    {"node-limit", 1, 0, OPT_NODE_LIMIT},
    {"evaluations", 1, 0, OPT_EVALUATIONS},
    {"seed", 1, 0, OPT_SEED},
    {"runners-up", 1, 0, OPT_RUNNERS},
    {"evaluate", 1, 0, OPT_EVALUATE},
    {"enumerate", 0, 0, OPT_ENUMERATE},
    {"limit", 1, 0, OPT_LIMIT},
    {"out", 1, 0, OPT_OUT},
    {"emit", 1, 0, OPT_EMIT},
    {"json", 1, 0, OPT_JSON},
    {"quiet", 0, 0, OPT_QUIET},
    {"help", 0, 0, OPT_HELP},
    {0, 0, 0, 0},
};

static int parse_counts(struct place_options *o, int option, const char *arg)
{
    double value;
    switch (option) {
    case OPT_CORES:
        if (!parse_number(arg, 1, PL_MAX_CORES, &value)) {
            return usage_error("--cores %s: give 1 to 64", arg);
        }
        o->cores = (long)value;
        return 0;
    case OPT_CAP:
        if (!parse_number(arg, 0.01, 1, &o->cap)) {
            return usage_error("--cap %s: give a utilisation above 0 and at most 1", arg);
        }
        return 0;
    case OPT_NODE_LIMIT:
    case OPT_EVALUATIONS:
    case OPT_SEED:
    case OPT_RUNNERS:
    case OPT_LIMIT:
        if (!parse_number(arg, option == OPT_SEED || option == OPT_RUNNERS ? 0 : 1, 1e15, &value) ||
            (option == OPT_RUNNERS && value > PL_MAX_TOP - 1)) {
            return usage_error("%s: not a count in range", arg);
        }
        if (option == OPT_NODE_LIMIT) {
            o->node_limit = (unsigned long long)value;
        } else if (option == OPT_EVALUATIONS) {
            o->evaluations = (unsigned long long)value;
        } else if (option == OPT_SEED) {
            o->seed = (unsigned long long)value;
        } else if (option == OPT_RUNNERS) {
            o->runners_up = (long)value;
        } else {
            o->limit = (long)value;
        }
        return 0;
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct place_options *o)
{
    o->phase = "total";
    o->policy = "latency";
    o->kernel = "auto";
    o->solver = "auto";
    o->emit = "placement";
    o->boards = PINION_SOURCE_DIR "/boards";
    o->node_limit = 2000000;
    o->evaluations = 10000;
    o->seed = 1;
    o->runners_up = 3;
    o->limit = 10000;
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        const char *arg = optarg;
        struct sd_error err;
        int counted = parse_counts(o, option, arg);
        if (counted >= 0) {
            if (counted > 0) {
                return counted;
            }
            continue;
        }
        switch (option) {
        case OPT_SYSTEM:
            o->system = arg;
            break;
        case OPT_BOARD:
            o->board = arg;
            break;
        case OPT_DTB:
            o->dtb = arg;
            break;
        case OPT_HOST:
            o->host = true;
            break;
        case OPT_BOARDS:
            o->boards = arg;
            break;
        case OPT_PROFILE:
            o->profile = arg;
            break;
        case OPT_MEASURED:
            o->measured = arg;
            break;
        case OPT_IOS:
            o->ios = arg;
            break;
        case OPT_PHASE:
            o->phase = arg;
            break;
        case OPT_MEASURED_KERNEL:
            o->measured_kernel = true;
            break;
        case OPT_POLICY:
            o->policy = arg;
            break;
        case OPT_LOAD:
            o->load = arg;
            break;
        case OPT_KERNEL:
            o->kernel = arg;
            break;
        case OPT_NO_COALESCE:
            o->no_coalesce = true;
            break;
        case OPT_CONSTRAINTS:
            o->constraints = arg;
            break;
        case OPT_SOLVER:
            o->solver = arg;
            break;
        case OPT_EVALUATE:
            o->evaluate = arg;
            break;
        case OPT_ENUMERATE:
            o->enumerate = true;
            break;
        case OPT_OUT:
            o->out = arg;
            break;
        case OPT_EMIT:
            o->emit = arg;
            break;
        case OPT_JSON:
            o->json = arg;
            break;
        case OPT_QUIET:
            o->quiet = true;
            break;
        case 'h':
        case OPT_HELP:
            fputs(usage_text, stdout);
            exit(0);
        case OPT_PIN:
        case OPT_EXCLUSIVE:
        case OPT_APART:
        case OPT_TOGETHER:
        case OPT_MAX_CORES: {
            const char *kind = option == OPT_PIN         ? "pin"
                               : option == OPT_EXCLUSIVE ? "exclusive"
                               : option == OPT_APART     ? "apart"
                               : option == OPT_TOGETHER  ? "together"
                                                         : "max-cores";
            if (!pl_constraints_add(&o->spec, kind, arg, &err)) {
                fprintf(stderr, "place: %s\n", err.message);
                return 2;
            }
            break;
        }
        default:
            return usage_error("unknown option or missing value: \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    }
    int machines = (o->board != NULL) + (o->dtb != NULL) + o->host;
    if (o->system == NULL) {
        return usage_error("%s", "--system FILE is required");
    }
    if (machines != 1) {
        return usage_error("%s", "give exactly one of --board NAME, --dtb FILE, --host");
    }
    if (o->dtb != NULL && o->profile == NULL) {
        return usage_error("%s", "--dtb needs --profile FILE (a device tree has no costs)");
    }
    if ((o->measured != NULL) != (o->ios != NULL)) {
        return usage_error("%s", "--measured and --ios go together");
    }
    if (strcmp(o->emit, "placement") != 0 && strcmp(o->emit, "sddf-core-map") != 0) {
        return usage_error("--emit %s: placement or sddf-core-map", o->emit);
    }
    static const char *const choices[][4] = {{"latency", "throughput", "efficiency", NULL},
                                             {"auto", "single", "smp", NULL},
                                             {"auto", "exact", "local", NULL}};
    const char *given[] = {o->policy, o->kernel, o->solver};
    static const char *const flags[] = {"--policy", "--kernel", "--solver"};
    for (int k = 0; k < 3; k++) {
        bool known = false;
        for (int j = 0; choices[k][j] != NULL; j++) {
            known = known || strcmp(given[k], choices[k][j]) == 0;
        }
        if (!known) {
            fprintf(stderr, "place: %s %s: one of %s, %s, %s (try --help)\n", flags[k], given[k],
                    choices[k][0], choices[k][1], choices[k][2]);
            return 2;
        }
    }
    if (o->evaluate != NULL && o->enumerate) {
        return usage_error("%s", "--evaluate and --enumerate are different modes; pick one");
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct place_options options;
    int status = parse_options(argc, argv, &options);
    return status != 0 ? status : place_main(&options);
}
