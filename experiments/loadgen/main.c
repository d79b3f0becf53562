/*
 * pinion-loadgen: the host side of pinion's UDP echo benchmark. Talks to a
 * guest through QEMU's UDP socket netdev, checks every echo, and says
 * whether everything came back intact. Exit status: 0 all echoed intact,
 * 1 anything lost, damaged or unanswered (or a failure to run), 2 a usage
 * error.
 */
#define _POSIX_C_SOURCE 200809L

#include "loadgen.h"
#include "payload.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_USAGE = 2,
};

/* Sanity bounds on the command line, not limits of the method. */
enum {
    MAX_WINDOW = 1000000,
    MAX_TIMEOUT_S = 3600,
};

static const char usage_text[] =
    "usage: pinion-loadgen --port QEMU_PORT --listen LG_PORT --target MAC,IP[,UDPPORT]\n"
    "                      [--target ...] [--mode udp|arp|ping|all] [--packets N]\n"
    "                      [--pings N] [--window W] [--size BYTES] [--timeout SECONDS]\n"
    "                      [--arp-timeout SECONDS] [--mac MAC] [--ip IP] [--json FILE]\n"
    "                      [--quiet]\n"
    "       pinion-loadgen --help\n"
    "\n"
    "Drives pinion's echo clients through a QEMU socket netdev started with\n"
    "  -netdev socket,id=n0,udp=127.0.0.1:LG_PORT,localaddr=127.0.0.1:QEMU_PORT\n"
    "Every frame the guest sends reaches LG_PORT as one datagram; every datagram\n"
    "sent to QEMU_PORT reaches the guest as one frame (docs/loadgen.md).\n"
    "\n"
    "  --port QEMU_PORT     where QEMU listens (the netdev's localaddr)\n"
    "  --listen LG_PORT     where QEMU sends (the netdev's udp=); bound on 127.0.0.1\n"
    "  --target MAC,IP[,UDPPORT]\n"
    "                       an echo client: its MAC, IPv4 address and UDP echo port\n"
    "                       (default 1235); repeat for each (at most 64)\n"
    "  --mode MODE          udp (default): UDP echo of --packets datagrams in total,\n"
    "                       round-robin over the targets; arp: one ARP exchange per\n"
    "                       target; ping: --packets (default 4) ICMP echo requests\n"
    "                       per target; all: arp, ping, then udp\n"
    "  --packets N          UDP datagrams in total (default 1000); in ping mode,\n"
    "                       echo requests per target\n"
    "  --pings N            ICMP echo requests per target in ping and all modes\n"
    "                       (default 4)\n"
    "  --window W           most requests sent and not yet echoed, over all targets\n"
    "                       (default 32)\n"
    "  --size BYTES         UDP payload bytes, 16 to 1472 (default 64)\n"
    "  --timeout SECONDS    with no echo for this long, what is outstanding counts as\n"
    "                       lost (default 5; fractions allowed)\n"
    "  --arp-timeout SECONDS\n"
    "                       how long every mode first waits for all targets to answer\n"
    "                       ARP, asking every 200 ms: the guest may still be booting\n"
    "                       (default: --timeout)\n"
    "  --mac MAC, --ip IP   our own addresses (default 52:54:00:ff:00:01, 10.0.0.1);\n"
    "                       our UDP port towards target i is 40000 + i\n"
    "  --json FILE          also write the results as JSON (whole or not at all)\n"
    "  --quiet              no progress lines on stderr\n"
    "\n"
    "Exit status: 0 everything sent was echoed intact and every target answered\n"
    "ARP (and ping); 1 otherwise, or the run failed; 2 a usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("pinion-loadgen: ", stderr);
    vfprintf(stderr, fmt, args);
    fputs("\nTry 'pinion-loadgen --help'.\n", stderr);
    va_end(args);
    return EXIT_USAGE;
}

/* A whole decimal number in [min, max]; false on anything else. */
static bool parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || parsed < min || parsed > max) {
        return false;
    }
    *value = parsed;
    return true;
}

/* Seconds, fractions allowed, to milliseconds: more than 0 and at most MAX_TIMEOUT_S. */
static bool parse_seconds(const char *text, uint32_t *ms)
{
    char *end;
    errno = 0;
    double seconds = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(seconds) || seconds <= 0 ||
        seconds > MAX_TIMEOUT_S) {
        return false;
    }
    *ms = (uint32_t)ceil(seconds * 1000.0);
    return true;
}

/* MAC,IP[,UDPPORT]; on failure, which part was wrong. */
static const char *parse_target(const char *text, struct lg_endpoint *target)
{
    char copy[96];
    if (strlen(text) >= sizeof copy) {
        return "too long";
    }
    strcpy(copy, text);
    char *ip = strchr(copy, ',');
    if (ip == NULL) {
        return "no IPv4 address after the MAC";
    }
    *ip++ = '\0';
    char *port = strchr(ip, ',');
    if (port != NULL) {
        *port++ = '\0';
    }
    uint64_t port_value = LG_DEFAULT_TARGET_PORT;
    if (!lg_parse_mac(copy, target->mac)) {
        return "the MAC is not six hex pairs like 52:54:00:00:00:10";
    }
    if (!lg_parse_ipv4(ip, &target->ip)) {
        return "the IPv4 address is not a dotted quad like 10.0.0.10";
    }
    if (port != NULL && !parse_count(port, 1, 65535, &port_value)) {
        return "the UDP port is not a number from 1 to 65535";
    }
    target->port = (uint16_t)port_value;
    return NULL;
}

static bool parse_mode(const char *text, enum lg_mode *mode)
{
    const enum lg_mode modes[] = {LG_MODE_UDP, LG_MODE_ARP, LG_MODE_PING, LG_MODE_ALL};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        if (strcmp(text, lg_mode_name(modes[m])) == 0) {
            *mode = modes[m];
            return true;
        }
    }
    return false;
}

/* The options that take a value: all but --quiet and --help. */
static const char *const value_options[] = {
    "--port", "--listen",  "--target",      "--mode", "--packets", "--pings", "--window",
    "--size", "--timeout", "--arp-timeout", "--mac",  "--ip",      "--json",
};
enum { VALUE_OPTIONS = sizeof value_options / sizeof value_options[0] };

static int value_option_index(const char *name)
{
    for (int n = 0; n < VALUE_OPTIONS; n++) {
        if (strcmp(name, value_options[n]) == 0) {
            return n;
        }
    }
    return -1;
}

struct arguments {
    struct lg_config config;
    const char *json_path;
    bool seen[VALUE_OPTIONS]; /* which options were given */
};

static bool given(const struct arguments *args, const char *name)
{
    return args->seen[value_option_index(name)];
}

/* Checks what single options cannot: combinations, and addresses used twice. */
static int check_arguments(struct arguments *args)
{
    struct lg_config *config = &args->config;
    if (!given(args, "--port")) {
        return usage_error("--port is required (the port QEMU's netdev listens on)");
    }
    if (!given(args, "--listen")) {
        return usage_error("--listen is required (the port QEMU's netdev sends to)");
    }
    if (config->qemu_port == config->listen_port) {
        return usage_error("--port and --listen must differ (both are %u)",
                           (unsigned)config->qemu_port);
    }
    if (config->target_count == 0) {
        return usage_error("no --target given: name at least one echo client");
    }
    for (size_t a = 0; a < config->target_count; a++) {
        const struct lg_endpoint *target = &config->targets[a];
        if (memcmp(target->mac, config->self.mac, LG_MAC_LEN) == 0 ||
            target->ip == config->self.ip) {
            return usage_error("--target %zu has our own MAC or IP address (--mac/--ip)", a + 1);
        }
        for (size_t b = 0; b < a; b++) {
            /*
             * Echoes are told apart by their source IP (and MAC): two
             * addresses of one host may share its MAC, not an address.
             */
            if (target->ip == config->targets[b].ip) {
                return usage_error("--target %zu and --target %zu share an IP address", b + 1,
                                   a + 1);
            }
        }
    }
    if (config->mode == LG_MODE_PING && given(args, "--packets")) {
        if (given(args, "--pings")) {
            return usage_error("in ping mode give --packets or --pings, not both");
        }
        if (config->packets > LG_MAX_PINGS) {
            return usage_error("--packets %llu: in ping mode at most %d per target",
                               (unsigned long long)config->packets, LG_MAX_PINGS);
        }
        config->pings = (uint32_t)config->packets;
    }
    if (config->packets / config->target_count >= UINT32_MAX) {
        return usage_error("--packets: too many for %zu targets (sequence numbers are 32 bits)",
                           config->target_count);
    }
    if (!given(args, "--arp-timeout")) {
        config->arp_timeout_ms = config->timeout_ms;
    }
    return EXIT_OK;
}

static int parse_option(struct arguments *args, const char *name, const char *value)
{
    struct lg_config *config = &args->config;
    uint64_t number;
    if (strcmp(name, "--port") == 0 || strcmp(name, "--listen") == 0) {
        if (!parse_count(value, 1, 65535, &number)) {
            return usage_error("%s \"%s\": not a port number (1 to 65535)", name, value);
        }
        bool is_port = strcmp(name, "--port") == 0;
        *(is_port ? &config->qemu_port : &config->listen_port) = (uint16_t)number;
    } else if (strcmp(name, "--target") == 0) {
        if (config->target_count == LG_MAX_TARGETS) {
            return usage_error("--target: at most %d targets", LG_MAX_TARGETS);
        }
        const char *why = parse_target(value, &config->targets[config->target_count]);
        if (why != NULL) {
            return usage_error("--target \"%s\": %s (expected MAC,IP[,UDPPORT], for example "
                               "52:54:00:00:00:10,10.0.0.10,1235)",
                               value, why);
        }
        config->target_count++;
    } else if (strcmp(name, "--mode") == 0) {
        if (!parse_mode(value, &config->mode)) {
            return usage_error("--mode \"%s\": expected udp, arp, ping or all", value);
        }
    } else if (strcmp(name, "--packets") == 0) {
        if (!parse_count(value, 1, LG_MAX_PACKETS, &config->packets)) {
            return usage_error("--packets \"%s\": expected a count from 1 to %llu", value,
                               LG_MAX_PACKETS);
        }
    } else if (strcmp(name, "--pings") == 0) {
        if (!parse_count(value, 1, LG_MAX_PINGS, &number)) {
            return usage_error("--pings \"%s\": expected a count from 1 to %d", value,
                               LG_MAX_PINGS);
        }
        config->pings = (uint32_t)number;
    } else if (strcmp(name, "--window") == 0) {
        if (!parse_count(value, 1, MAX_WINDOW, &number)) {
            return usage_error("--window \"%s\": expected a count from 1 to %d", value, MAX_WINDOW);
        }
        config->window = (uint32_t)number;
    } else if (strcmp(name, "--size") == 0) {
        if (!parse_count(value, LG_PAYLOAD_HEADER_LEN, LG_MAX_UDP_PAYLOAD, &number)) {
            return usage_error("--size \"%s\": expected payload bytes from %d to %d", value,
                               LG_PAYLOAD_HEADER_LEN, LG_MAX_UDP_PAYLOAD);
        }
        config->size = (uint32_t)number;
    } else if (strcmp(name, "--timeout") == 0 || strcmp(name, "--arp-timeout") == 0) {
        bool is_arp = strcmp(name, "--arp-timeout") == 0;
        if (!parse_seconds(value, is_arp ? &config->arp_timeout_ms : &config->timeout_ms)) {
            return usage_error("%s \"%s\": expected seconds, more than 0 and at most %d", name,
                               value, MAX_TIMEOUT_S);
        }
    } else if (strcmp(name, "--mac") == 0) {
        if (!lg_parse_mac(value, config->self.mac)) {
            return usage_error("--mac \"%s\": expected a MAC address like 52:54:00:ff:00:01",
                               value);
        }
    } else if (strcmp(name, "--ip") == 0) {
        if (!lg_parse_ipv4(value, &config->self.ip)) {
            return usage_error("--ip \"%s\": expected an IPv4 address like 10.0.0.1", value);
        }
    } else if (strcmp(name, "--json") == 0) {
        args->json_path = value;
    }
    return EXIT_OK;
}

static int parse_arguments(int argc, char **argv, struct arguments *args)
{
    bool *seen = args->seen;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            args->config.progress = NULL;
            continue;
        }
        /* "--name VALUE" or "--name=VALUE" */
        char name[32];
        const char *equals = strchr(arg, '=');
        size_t name_len = equals != NULL ? (size_t)(equals - arg) : strlen(arg);
        if (name_len < sizeof name) {
            memcpy(name, arg, name_len);
            name[name_len] = '\0';
        }
        int option = name_len < sizeof name ? value_option_index(name) : -1;
        if (option < 0) {
            return arg[0] == '-' ? usage_error("unknown option \"%s\"", arg)
                                 : usage_error("unexpected argument \"%s\"", arg);
        }
        if (seen[option] && strcmp(name, "--target") != 0) {
            return usage_error("%s given twice", name);
        }
        seen[option] = true;
        const char *value = equals != NULL ? equals + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (value == NULL || value[0] == '\0') {
            return usage_error("%s needs a value", name);
        }
        int status = parse_option(args, name, value);
        if (status != EXIT_OK) {
            return status;
        }
    }
    return check_arguments(args);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    struct arguments args;
    memset(&args, 0, sizeof args);
    lg_config_defaults(&args.config);
    args.config.progress = stderr;
    int status = parse_arguments(argc, argv, &args);
    if (status != EXIT_OK) {
        return status;
    }
    /* Different in every run, so that echoes still in flight from an earlier run are not counted.
     */
    args.config.run_id = (uint32_t)time(NULL) * 2654435761u ^ (uint32_t)getpid();

    struct lg_report *report = malloc(sizeof *report);
    if (report == NULL) {
        fprintf(stderr, "pinion-loadgen: out of memory\n");
        return EXIT_FAILED;
    }
    char error[256];
    if (!lg_run(&args.config, report, error, sizeof error)) {
        fprintf(stderr, "pinion-loadgen: %s\n", error);
        free(report);
        return EXIT_FAILED;
    }
    lg_report_print(stdout, &args.config, report);
    status = lg_report_ok(report, args.config.target_count) ? EXIT_OK : EXIT_FAILED;
    if (args.json_path != NULL &&
        !lg_report_write_json(args.json_path, &args.config, report, error, sizeof error)) {
        fprintf(stderr, "pinion-loadgen: %s\n", error);
        status = EXIT_FAILED;
    }
    free(report);
    return status;
}
