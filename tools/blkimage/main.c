/*
 * pinion-blkimage: creates a block device's disk image for a run and checks
 * it afterwards (docs/blk.md, "Checking the disk"). Exit status: 0 done (and
 * for verify: the image holds what it must), 1 the check failed or an input
 * is invalid or unreadable, 2 the command line is wrong.
 */
#include "blkimage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_USAGE = 2,
};

static const char usage_text[] =
    "usage: pinion-blkimage create SYSTEM.json DEVICE IMAGE\n"
    "       pinion-blkimage verify SYSTEM.json DEVICE IMAGE [CLIENT=FIRST_FAILED_WRITE ...]\n"
    "       pinion-blkimage --help\n"
    "\n"
    "The disk image of virtio-blk device DEVICE of a system description\n"
    "(docs/blk.md). Each partition whose client runs blk_bench holds that\n"
    "client's pattern (components/blk/blk_pattern.h).\n"
    "\n"
    "  create   make IMAGE a sparse file of the device's size, with every\n"
    "           benchmark partition filled with generation 0 of its pattern\n"
    "           (what every block holds before a run)\n"
    "  verify   replay each benchmark client's requests from its params in\n"
    "           SYSTEM.json and check that every block of its partition holds\n"
    "           the generation its last write left, and that every byte outside\n"
    "           the partitions is still zero; prints the result as JSON.\n"
    "           CLIENT=N: that client's first_failed_write counter (N > 0):\n"
    "           from the N-th request of its sequence on, a write may have\n"
    "           failed, so a block it wrote since may hold any generation from\n"
    "           the one before up to the last\n"
    "\n"
    "Exit status: 0 done (verify: the image is as it must be), 1 the check\n"
    "failed or an input is invalid, 2 a usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("pinion-blkimage: ", stderr);
    vfprintf(stderr, fmt, args);
    fputs("\nTry 'pinion-blkimage --help'.\n", stderr);
    va_end(args);
    return EXIT_USAGE;
}

/* CLIENT=N arguments onto the partitions; false (said) when one names no benchmark client. */
static bool set_failed_writes(struct blkimage_partition *partitions, uint32_t n_partitions,
                              char **args, int n_args)
{
    for (int i = 0; i < n_args; i++) {
        const char *eq = strchr(args[i], '=');
        char *end = NULL;
        unsigned long long value = eq ? strtoull(eq + 1, &end, 10) : 0;
        bool found = false;
        for (uint32_t p = 0; eq && end && *end == '\0' && end != eq + 1 && p < n_partitions; p++) {
            const char *client = partitions[p].partition->client;
            if (partitions[p].bench && strlen(client) == (size_t)(eq - args[i]) &&
                strncmp(client, args[i], (size_t)(eq - args[i])) == 0) {
                partitions[p].first_failed_write = value;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr,
                    "pinion-blkimage: \"%s\": not CLIENT=N for a benchmark client of the device\n",
                    args[i]);
            return false;
        }
    }
    return true;
}

static int run(const char *command, const char *system, const char *device_name, const char *image,
               char **failed_writes, int n_failed_writes)
{
    struct sd_system *sys = sd_system_new();
    struct sd_error load_err;
    if (sys == NULL || !sd_load_file(system, sys, &load_err)) {
        fprintf(stderr, "%s\n", sys == NULL ? "pinion-blkimage: out of memory" : load_err.message);
        sd_system_free(sys);
        return EXIT_FAILED;
    }
    struct blkimage_partition partitions[SD_MAX_PARTITIONS];
    const struct sd_device *device;
    struct blkimage_error err;
    int status = EXIT_FAILED;
    if (!blkimage_partitions(sys, device_name, &device, partitions, &err)) {
        fprintf(stderr, "%s\n", err.message);
    } else if (strcmp(command, "create") == 0) {
        if (blkimage_create(image, device, partitions, NULL, &err)) {
            status = EXIT_OK;
        } else {
            fprintf(stderr, "%s\n", err.message);
        }
    } else if (set_failed_writes(partitions, device->n_partitions, failed_writes,
                                 n_failed_writes)) {
        json_t *report;
        bool ok;
        if (blkimage_verify(image, device, partitions, &report, &ok, &err)) {
            json_dumpf(report, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(report);
            status = ok ? EXIT_OK : EXIT_FAILED;
        } else {
            fprintf(stderr, "%s\n", err.message);
        }
    }
    sd_system_free(sys);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "verify") != 0) {
        return usage_error("unknown command \"%s\" (create or verify)", argv[1]);
    }
    if (argc < 5 || (argc != 5 && strcmp(argv[1], "verify") != 0)) {
        return usage_error("%s needs SYSTEM.json DEVICE IMAGE", argv[1]);
    }
    return run(argv[1], argv[2], argv[3], argv[4], argv + 5, argc - 5);
}
