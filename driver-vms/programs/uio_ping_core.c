/*
 * uio-ping's command line, sysfs lookup and round-trip loop (see
 * uio_ping_core.h). Plain C11 with POSIX directory reads, built both for the
 * guest (static aarch64) and for the host tests.
 */
#define _POSIX_C_SOURCE 200809L

#include "uio_ping_core.h"

#include "guest_args.h"
#include "uio_maps.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char uio_ping_usage[] =
    "usage: uio-ping [--name NAME] [--count N] [--timeout-ms MS] [--sysfs-root DIR]\n"
    "\n"
    "Round trips over a pinion channel seen through Linux's UIO: finds the UIO\n"
    "device NAME (default: the first, by N of /dev/uioN, whose name starts with\n"
    "\"" UIO_PING_DEFAULT_PREFIX "\"), maps map0 (the doorbell page) and map1 (the shared\n"
    "region) if there is one, then N times: unmasks the interrupt, writes the\n"
    "sequence number i (1, 2, ...) to the shared region's word 0, rings the\n"
    "doorbell, waits for the peer's interrupt, and checks that the peer wrote\n"
    "i + 1 to word 1 (offset 4). Prints \"uio-ping: N round trips ok\".\n"
    "\n"
    "  --name NAME        the device's name (/sys/class/uio/uioN/name)\n"
    "  --count N          round trips (default 10)\n"
    "  --timeout-ms MS    how long to wait for each interrupt (default 5000)\n"
    "  --sysfs-root DIR   where sysfs is (default /sys; for tests)\n"
    "  --help             this text\n"
    "\n"
    "Exit status: 0 when every round trip succeeded, 1 on a failure (no device,\n"
    "no interrupt in time, a wrong value from the peer), 2 on a usage error.\n";

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* A decimal number in [min, max], nothing else: no sign, no spaces, no suffix. */
static bool parse_bounded(const char *text, unsigned long min, unsigned long max,
                          unsigned long *value)
{
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *value = v;
    return true;
}

enum uio_ping_parse_result uio_ping_parse_args(int argc, char **argv, struct uio_ping_options *opts,
                                               char *err, size_t err_size)
{
    *opts = (struct uio_ping_options){
        .name = NULL,
        .count = UIO_PING_DEFAULT_COUNT,
        .timeout_ms = UIO_PING_DEFAULT_TIMEOUT_MS,
        .sysfs_root = "/sys",
    };
    static const char *const with_value[] = {"--name", "--count", "--timeout-ms", "--sysfs-root"};
    for (int i = 1; i < argc; i++) {
        const char *option = NULL, *value = NULL;
        switch (guest_args_next(argc, argv, &i, with_value,
                                sizeof with_value / sizeof with_value[0], &option, &value, err,
                                err_size)) {
        case GUEST_ARG_HELP:
            opts->help = true;
            return UIO_PING_PARSE_HELP;
        case GUEST_ARG_ERROR:
            return UIO_PING_PARSE_ERROR;
        default:
            break;
        }
        unsigned long number;
        if (strcmp(option, "--name") == 0) {
            if (value[0] == '\0' || strlen(value) >= UIO_PING_NAME_MAX) {
                set_error(err, err_size, "--name must be 1 to %d characters",
                          UIO_PING_NAME_MAX - 1);
                return UIO_PING_PARSE_ERROR;
            }
            opts->name = value;
        } else if (strcmp(option, "--count") == 0) {
            if (!parse_bounded(value, 1, UIO_PING_MAX_COUNT, &number)) {
                set_error(err, err_size, "--count must be a number from 1 to %u, not \"%s\"",
                          UIO_PING_MAX_COUNT, value);
                return UIO_PING_PARSE_ERROR;
            }
            opts->count = (uint32_t)number;
        } else if (strcmp(option, "--timeout-ms") == 0) {
            if (!parse_bounded(value, 1, UIO_PING_MAX_TIMEOUT_MS, &number)) {
                set_error(err, err_size, "--timeout-ms must be a number from 1 to %d, not \"%s\"",
                          UIO_PING_MAX_TIMEOUT_MS, value);
                return UIO_PING_PARSE_ERROR;
            }
            opts->timeout_ms = (int)number;
        } else {
            if (value[0] == '\0') {
                set_error(err, err_size, "--sysfs-root must not be empty");
                return UIO_PING_PARSE_ERROR;
            }
            opts->sysfs_root = value;
        }
    }
    return UIO_PING_PARSE_OK;
}

/* Reads maps/mapN of uio<index>; absent (not an error) when the directory is not there. */
static bool read_map(const char *sysfs_root, unsigned index, int map, struct uio_map *out,
                     char *err, size_t err_size)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/class/uio/uio%u/maps/map%d", sysfs_root, index, map);
    *out = (struct uio_map){0};
    DIR *d = opendir(dir);
    if (d == NULL) {
        return true;
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/size", dir);
    if (!uio_sysfs_read_number(path, &out->size) || out->size == 0) {
        set_error(err, err_size, "%s: no size, or not a number", path);
        return false;
    }
    snprintf(path, sizeof path, "%s/offset", dir);
    if (!uio_sysfs_read_number(path, &out->offset)) {
        /* Kernels before 3.x had no offset file: the region starts the page. */
        out->offset = 0;
    }
    out->present = true;
    return true;
}

bool uio_ping_find_device(const char *sysfs_root, const char *name, struct uio_device *dev,
                          char *err, size_t err_size)
{
    *dev = (struct uio_device){0};
    if (!uio_maps_locate(sysfs_root, name != NULL ? name : UIO_PING_DEFAULT_PREFIX, name == NULL,
                         &dev->index, dev->name, sizeof dev->name, err, err_size)) {
        return false;
    }
    if (!read_map(sysfs_root, dev->index, 0, &dev->doorbell, err, err_size) ||
        !read_map(sysfs_root, dev->index, 1, &dev->shared, err, err_size)) {
        return false;
    }
    if (!dev->doorbell.present) {
        set_error(err, err_size, "uio%u \"%s\" has no map0 (the doorbell page)", dev->index,
                  dev->name);
        return false;
    }
    if (dev->shared.present && dev->shared.size < 2 * sizeof(uint32_t)) {
        set_error(err, err_size,
                  "uio%u \"%s\": map1 (the shared region) has %llu bytes, fewer than the "
                  "8 a round trip uses",
                  dev->index, dev->name, (unsigned long long)dev->shared.size);
        return false;
    }
    return true;
}

uint32_t uio_ping_run(const struct uio_ping_port *port, uint32_t count, int timeout_ms, char *err,
                      size_t err_size)
{
    for (uint32_t done = 0; done < count; done++) {
        uint32_t sequence = done + 1;
        int rc = port->enable_interrupt(port->ctx);
        if (rc < 0) {
            set_error(err, err_size, "round trip %u of %u: cannot unmask the interrupt: %s",
                      sequence, count, strerror(-rc));
            return done;
        }
        if (port->shared != NULL) {
            port->shared[0] = sequence;
        }
        /* The peer must see the sequence number once the doorbell has rung it. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        *port->doorbell = sequence;
        rc = port->wait_interrupt(port->ctx, timeout_ms);
        if (rc == 0) {
            set_error(err, err_size, "round trip %u of %u: no interrupt from the peer within %d ms",
                      sequence, count, timeout_ms);
            return done;
        }
        if (rc < 0) {
            set_error(err, err_size, "round trip %u of %u: waiting for the interrupt: %s", sequence,
                      count, strerror(-rc));
            return done;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (port->shared != NULL) {
            uint32_t answer = port->shared[1];
            if (answer != sequence + 1) {
                set_error(err, err_size,
                          "round trip %u of %u: the peer wrote %u at offset 4 of the shared "
                          "region, expected %u",
                          sequence, count, answer, sequence + 1);
                return done;
            }
        }
    }
    return count;
}
