/*
 * net-bridge's command line (see net_bridge_args.h): plain C11 for the
 * guest program and the host tests; the in-kernel bridge takes its
 * settings as module parameters instead.
 */
#define _POSIX_C_SOURCE 200809L

#include "net_bridge_args.h"

#include "guest_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char net_bridge_usage[] =
    "usage: net-bridge [--capacity N] [--buffer-size BYTES] [--interface IF] [--rx NAME]\n"
    "                  [--tx NAME] [--die-after N] [--poll-ms MS] [--report-every N]\n"
    "                  [--sysfs-root DIR]\n"
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

/* A decimal number in [min, max], nothing else: no sign, no spaces, no suffix. */
static bool parse_bounded(const char *text, unsigned long long min, unsigned long long max,
                          unsigned long long *value)
{
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *value = v;
    return true;
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
        if (!parse_bounded(value, 1, NET_BRIDGE_MAX_CAPACITY, &n) ||
            !pn_is_power_of_two((uint32_t)n)) {
            set_error(err, err_size, "--capacity must be a power of two from 1 to %u, not \"%s\"",
                      NET_BRIDGE_MAX_CAPACITY, value);
            return false;
        }
        opts->capacity = (uint32_t)n;
    } else if (strcmp(option, "--buffer-size") == 0) {
        if (!parse_bounded(value, NET_BRIDGE_MIN_BUFFER_SIZE, NET_BRIDGE_MAX_BUFFER_SIZE, &n)) {
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
        if (!parse_bounded(value, 1, UINT64_MAX / 2, &n)) {
            set_error(err, err_size, "--die-after must be a positive number, not \"%s\"", value);
            return false;
        }
        opts->die_after = n;
    } else if (strcmp(option, "--poll-ms") == 0) {
        if (!parse_bounded(value, 1, 60000, &n)) {
            set_error(err, err_size, "--poll-ms must be a number from 1 to 60000, not \"%s\"",
                      value);
            return false;
        }
        opts->poll_ms = (int)n;
    } else if (strcmp(option, "--report-every") == 0) {
        if (!parse_bounded(value, 1, UINT64_MAX / 2, &n)) {
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
    };
    static const char *const with_value[] = {"--capacity", "--buffer-size",  "--interface",
                                             "--rx",       "--tx",           "--die-after",
                                             "--poll-ms",  "--report-every", "--sysfs-root"};
    for (int i = 1; i < argc; i++) {
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
    }
    if (strcmp(opts->rx_name, opts->tx_name) == 0) {
        set_error(err, err_size, "--rx and --tx name the same device \"%s\"", opts->rx_name);
        return NET_BRIDGE_PARSE_ERROR;
    }
    return NET_BRIDGE_PARSE_OK;
}
