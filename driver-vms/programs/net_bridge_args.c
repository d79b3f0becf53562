/*
 * net-bridge's command line (see net_bridge_args.h): plain C11 for the
 * guest program and the host tests; the in-kernel bridge takes its
 * settings as module parameters instead.
 */
#define _POSIX_C_SOURCE 200809L

#include "net_bridge_args.h"

#include "guest_args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char net_bridge_usage[] =
    "usage: net-bridge [--capacity N] [--buffer-size BYTES] [--interface IF] [--rx NAME]\n"
    "                  [--tx NAME] [--die-after N] [--poll-ms MS] [--report-every N]\n"
    "                  [--sysfs-root DIR] [--qdisc-bypass] [--rx-ring [v2|v3]]\n"
    "                  [--rx-ring-block BYTES] [--rx-ring-timeout MS] [--tx-batch] [--fast]\n"
    "\n"
    "Bridges a Linux network interface to pinion's network queues from inside a\n"
    "driver VM. Frames received on IF (through a packet socket, the interface\n"
    "promiscuous) go into free buffers of the receive queue and on to its active\n"
    "ring; frames of the transmit queue's active ring are sent on IF and their\n"
    "buffers returned to its free ring. Each queue is a UIO device: map0 its\n"
    "doorbell page, map1 the queue pair, then the data: for NAME of --rx, map2\n"
    "holds the receive buffers (descriptors carry offsets into it); for --tx,\n"
    "map2.. are the clients' transmit regions (descriptors carry physical\n"
    "addresses). The doorbell is rung when the peer asked to be woken; the\n"
    "device's interrupt wakes the bridge. On SIGTERM, SIGINT or exit it prints\n"
    "its counts as one line, \"net-bridge: {...}\".\n"
    "\n"
    "  --capacity N        slots of every ring, a power of two (default 512)\n"
    "  --buffer-size BYTES bytes of a buffer, 64 to 65536 (default 2048)\n"
    "  --interface IF      the network interface (default eth0)\n"
    "  --rx NAME           the receive queue's UIO device (default rx)\n"
    "  --tx NAME           the transmit queue's UIO device (default tx)\n"
    "  --die-after N       test mode: exit with status 3 after N frames received\n"
    "  --poll-ms MS        also look at the queues every MS ms without an interrupt\n"
    "                      (for a peer that cannot interrupt, in tests; default: never)\n"
    "  --report-every N    also print the counts each time N more frames went through\n"
    "                      (received plus sent; for runs that end from outside)\n"
    "  --sysfs-root DIR    where sysfs is (default /sys)\n"
    "\n"
    "Cheaper paths, each off by default (one recvfrom and one send per frame):\n"
    "  --qdisc-bypass      send straight to the device's queue, past the queueing\n"
    "                      discipline (PACKET_QDISC_BYPASS)\n"
    "  --rx-ring [v2|v3]   receive through a memory-mapped ring (PACKET_RX_RING)\n"
    "                      instead of recvfrom: v2 (default) hands over and wakes the\n"
    "                      bridge frame by frame, v3 block by block\n"
    "  --rx-ring-block BYTES\n"
    "                      v3: bytes of a block, a power of two from 4096 to 4194304\n"
    "                      (default 4096)\n"
    "  --rx-ring-timeout MS\n"
    "                      v3: a block not yet full is handed over after MS ms, 1 to\n"
    "                      1000 (default 1; Linux rounds it up to a tick)\n"
    "  --tx-batch          send the frames of a batch with one sendmmsg\n"
    "  --fast              all of them: --qdisc-bypass --rx-ring --tx-batch\n"
    "  --help              this text\n"
    "\n"
    "Exit status: 0 after SIGTERM or SIGINT, 1 on a failure to set up or run,\n"
    "2 on a usage error, 3 when --die-after is reached.\n";

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

static bool parse_name(const char *option, const char *value, const char **out, char *err,
                       size_t err_size)
{
    if (value[0] == '\0' || strlen(value) >= NET_BRIDGE_NAME_MAX || strchr(value, '/') != NULL) {
        set_error(err, err_size, "%s must be 1 to %d characters without '/', not \"%s\"", option,
                  NET_BRIDGE_NAME_MAX - 1, value);
        return false;
    }
    *out = value;
    return true;
}

static bool apply_option(const char *option, const char *value, struct net_bridge_options *opts,
                         char *err, size_t err_size)
{
    unsigned long long n;
    if (strcmp(option, "--capacity") == 0) {
        if (!guest_args_number(value, 1, NET_BRIDGE_MAX_CAPACITY, &n) ||
            !pn_is_power_of_two((uint32_t)n)) {
            set_error(err, err_size, "--capacity must be a power of two from 1 to %u, not \"%s\"",
                      NET_BRIDGE_MAX_CAPACITY, value);
            return false;
        }
        opts->capacity = (uint32_t)n;
    } else if (strcmp(option, "--buffer-size") == 0) {
        if (!guest_args_number(value, NET_BRIDGE_MIN_BUFFER_SIZE, NET_BRIDGE_MAX_BUFFER_SIZE, &n)) {
            set_error(err, err_size, "--buffer-size must be a number from %u to %u, not \"%s\"",
                      NET_BRIDGE_MIN_BUFFER_SIZE, NET_BRIDGE_MAX_BUFFER_SIZE, value);
            return false;
        }
        opts->buffer_size = (uint32_t)n;
    } else if (strcmp(option, "--interface") == 0) {
        /* IFNAMSIZ is 16 with its terminating zero. */
        if (value[0] == '\0' || strlen(value) > 15 || strchr(value, '/') != NULL) {
            set_error(err, err_size, "--interface must be 1 to 15 characters, not \"%s\"", value);
            return false;
        }
        opts->interface = value;
    } else if (strcmp(option, "--rx") == 0) {
        return parse_name(option, value, &opts->rx_name, err, err_size);
    } else if (strcmp(option, "--tx") == 0) {
        return parse_name(option, value, &opts->tx_name, err, err_size);
    } else if (strcmp(option, "--die-after") == 0) {
        if (!guest_args_number(value, 1, UINT64_MAX / 2, &n)) {
            set_error(err, err_size, "--die-after must be a positive number, not \"%s\"", value);
            return false;
        }
        opts->die_after = n;
    } else if (strcmp(option, "--poll-ms") == 0) {
        if (!guest_args_number(value, 1, 60000, &n)) {
            set_error(err, err_size, "--poll-ms must be a number from 1 to 60000, not \"%s\"",
                      value);
            return false;
        }
        opts->poll_ms = (int)n;
    } else if (strcmp(option, "--rx-ring-block") == 0) {
        if (!guest_args_number(value, PACKET_RING_MIN_BLOCK_BYTES, PACKET_RING_MAX_BLOCK_BYTES,
                               &n) ||
            !pn_is_power_of_two((uint32_t)n)) {
            set_error(err, err_size,
                      "--rx-ring-block must be a power of two from %u to %u, not \"%s\"",
                      PACKET_RING_MIN_BLOCK_BYTES, PACKET_RING_MAX_BLOCK_BYTES, value);
            return false;
        }
        opts->rx_ring_layout.block_bytes = (uint32_t)n;
    } else if (strcmp(option, "--rx-ring-timeout") == 0) {
        if (!guest_args_number(value, 1, PACKET_RING_MAX_RETIRE_MS, &n)) {
            set_error(err, err_size, "--rx-ring-timeout must be a number from 1 to %u, not \"%s\"",
                      PACKET_RING_MAX_RETIRE_MS, value);
            return false;
        }
        opts->rx_ring_layout.retire_ms = (uint32_t)n;
    } else if (strcmp(option, "--report-every") == 0) {
        if (!guest_args_number(value, 1, UINT64_MAX / 2, &n)) {
            set_error(err, err_size, "--report-every must be a positive number, not \"%s\"", value);
            return false;
        }
        opts->report_every = n;
    } else {
        if (value[0] == '\0') {
            set_error(err, err_size, "--sysfs-root must not be empty");
            return false;
        }
        opts->sysfs_root = value;
    }
    return true;
}

/*
 * The options without a value: 1 when argv[*i] is one (applied), 0 when
 * it is not, -1 on an error. --rx-ring takes an optional version, as
 * "--rx-ring=v3" or as the next argument when that is no option.
 */
static int apply_flag(int argc, char **argv, int *i, struct net_bridge_options *opts, char *err,
                      size_t err_size)
{
    static const char *const flags[] = {"--qdisc-bypass", "--rx-ring", "--tx-batch", "--fast"};
    const char *arg = argv[*i];
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        size_t len = strlen(flags[f]);
        if (strncmp(arg, flags[f], len) != 0 || (arg[len] != '\0' && arg[len] != '=')) {
            continue;
        }
        const char *value = arg[len] == '=' ? arg + len + 1 : NULL;
        if (strcmp(flags[f], "--rx-ring") == 0) {
            if (value == NULL && *i + 1 < argc && argv[*i + 1][0] != '-') {
                value = argv[++*i];
            }
            if (value != NULL && strcmp(value, "v2") != 0 && strcmp(value, "v3") != 0) {
                set_error(err, err_size, "--rx-ring takes v2 or v3, not \"%s\"", value);
                return -1;
            }
            opts->rx_ring = true;
            if (value != NULL) {
                opts->rx_ring_layout.version = value[1] == '2' ? PACKET_RING_V2 : PACKET_RING_V3;
            }
            return 1;
        }
        if (value != NULL) {
            set_error(err, err_size, "%s takes no value, not \"%s\"", flags[f], value);
            return -1;
        }
        if (strcmp(flags[f], "--qdisc-bypass") == 0) {
            opts->qdisc_bypass = true;
        } else if (strcmp(flags[f], "--tx-batch") == 0) {
            opts->tx_batch = true;

        } else {
            opts->qdisc_bypass = opts->rx_ring = opts->tx_batch = true;
        }
        return 1;
    }
    return 0;
}

/* The receive ring's layout, checked against the buffers it must fill. */
static bool plan_rx_ring(struct net_bridge_options *opts, bool v3_options_given, char *err,
                         size_t err_size)
{
    struct packet_ring_layout *wanted = &opts->rx_ring_layout;
    if (v3_options_given && (!opts->rx_ring || wanted->version != PACKET_RING_V3)) {
        set_error(err, err_size,
                  "--rx-ring-block and --rx-ring-timeout apply to --rx-ring v3 only");
        return false;
    }
    if (!opts->rx_ring) {
        return true;
    }
    char why[NET_BRIDGE_ERROR_MAX];
    if (!packet_ring_plan(wanted->version, opts->buffer_size, opts->capacity, wanted->block_bytes,
                          wanted->retire_ms, wanted, why, sizeof why)) {
        set_error(err, err_size, "--rx-ring: %s", why);
        return false;
    }
    return true;
}

enum net_bridge_parse_result net_bridge_parse_args(int argc, char **argv,
                                                   struct net_bridge_options *opts, char *err,
                                                   size_t err_size)
{
    *opts = (struct net_bridge_options){
        .capacity = NET_BRIDGE_DEFAULT_CAPACITY,
        .buffer_size = NET_BRIDGE_DEFAULT_BUFFER_SIZE,
        .interface = "eth0",
        .rx_name = "rx",
        .tx_name = "tx",
        .die_after = 0,
        .poll_ms = -1,
        .sysfs_root = "/sys",
        .rx_ring_layout = {.version = PACKET_RING_DEFAULT_VERSION,
                           .block_bytes = PACKET_RING_DEFAULT_BLOCK_BYTES,
                           .retire_ms = PACKET_RING_DEFAULT_RETIRE_MS},
    };
    static const char *const with_value[] = {
        "--capacity",   "--buffer-size",   "--interface",      "--rx",
        "--tx",         "--die-after",     "--poll-ms",        "--report-every",
        "--sysfs-root", "--rx-ring-block", "--rx-ring-timeout"};
    bool v3_options_given = false;
    for (int i = 1; i < argc; i++) {
        switch (apply_flag(argc, argv, &i, opts, err, err_size)) {
        case 1:
            continue;
        case -1:
            return NET_BRIDGE_PARSE_ERROR;
        default:
            break;
        }
        const char *option = NULL, *value = NULL;
        switch (guest_args_next(argc, argv, &i, with_value,
                                sizeof with_value / sizeof with_value[0], &option, &value, err,
                                err_size)) {
        case GUEST_ARG_HELP:
            return NET_BRIDGE_PARSE_HELP;
        case GUEST_ARG_ERROR:
            return NET_BRIDGE_PARSE_ERROR;
        default:
            break;
        }
        if (!apply_option(option, value, opts, err, err_size)) {
            return NET_BRIDGE_PARSE_ERROR;
        }
        v3_options_given |= strncmp(option, "--rx-ring-", 10) == 0;
    }
    if (strcmp(opts->rx_name, opts->tx_name) == 0) {
        set_error(err, err_size, "--rx and --tx name the same device \"%s\"", opts->rx_name);
        return NET_BRIDGE_PARSE_ERROR;
    }
    if (!plan_rx_ring(opts, v3_options_given, err, err_size)) {
        return NET_BRIDGE_PARSE_ERROR;
    }
    return NET_BRIDGE_PARSE_OK;
}
