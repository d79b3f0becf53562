/*
 * The logic of uio-ping, the guest-side round-trip test of a pinion channel
 * seen through Linux's UIO (uio_pdrv_genirq on a "generic-uio" device tree
 * node): its command line, finding the device in sysfs, and the round-trip
 * loop. It is kept apart from the program's system calls on /dev/uioN so that
 * the host unit tests (tests/linux/test_uio_ping.c) exercise it against a fake
 * sysfs tree and a fake peer.
 *
 * A channel's UIO device has map0, the doorbell page (a 32-bit write at
 * offset 0 notifies the peer PD), and optionally map1, a shared region. The
 * peer's notification back is the device's interrupt.
 */
#ifndef PINION_UIO_PING_CORE_H
#define PINION_UIO_PING_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UIO_PING_DEFAULT_COUNT      10u
#define UIO_PING_DEFAULT_TIMEOUT_MS 5000
#define UIO_PING_MAX_COUNT          100000000u
#define UIO_PING_MAX_TIMEOUT_MS     3600000
/* Without --name, the first device (lowest N) whose name starts with this. */
#define UIO_PING_DEFAULT_PREFIX "pinion-"
#define UIO_PING_NAME_MAX       64
#define UIO_PING_ERROR_MAX      512

struct uio_ping_options {
    const char *name; /* the exact sysfs name wanted, or NULL for the default */
    uint32_t count;
    int timeout_ms;
    const char *sysfs_root; /* "/sys" except in tests */
    bool help;
};

enum uio_ping_parse_result {
    UIO_PING_PARSE_OK,
    UIO_PING_PARSE_HELP,  /* --help: print usage, exit 0 */
    UIO_PING_PARSE_ERROR, /* the message is in err: print it with usage hint, exit 2 */
};

/* Parses argv (options as "--opt VALUE" or "--opt=VALUE"); fills opts with defaults first. */
enum uio_ping_parse_result uio_ping_parse_args(int argc, char **argv, struct uio_ping_options *opts,
                                               char *err, size_t err_size);

/* The usage text --help prints. */
extern const char uio_ping_usage[];

/* One memory map of a UIO device, from sysfs maps/mapN/{size,offset}. */
struct uio_map {
    bool present;
    uint64_t size;   /* bytes of the region */
    uint64_t offset; /* where the region starts within the first mapped page */
};

struct uio_device {
    unsigned index; /* N of uioN and /dev/uioN */
    char name[UIO_PING_NAME_MAX];
    struct uio_map doorbell; /* map0 */
    struct uio_map shared;   /* map1, if present */
};

/*
 * Finds the UIO device named `name` (or, if NULL, the first whose name
 * starts with UIO_PING_DEFAULT_PREFIX) under sysfs_root/class/uio and reads
 * its maps. Devices are tried in the order of N. Returns false with a
 * message in err if there is no such device or it has no doorbell map.
 */
bool uio_ping_find_device(const char *sysfs_root, const char *name, struct uio_device *dev,
                          char *err, size_t err_size);

/*
 * What the loop drives: the mapped doorbell and shared words, and the two
 * operations on the device's interrupt. In the program these are writes to
 * and poll()+read() of /dev/uioN; in tests, a fake peer.
 */
struct uio_ping_port {
    volatile uint32_t *doorbell; /* the word at map0 offset 0 */
    volatile uint32_t *shared;   /* the first two words of map1, or NULL */
    /* Unmasks the interrupt (uio_pdrv_genirq masks it again on each one). 0 or -errno. */
    int (*enable_interrupt)(void *ctx);
    /* Waits for one interrupt: 1 when it came, 0 on timeout, -errno on failure. */
    int (*wait_interrupt)(void *ctx, int timeout_ms);
    void *ctx;
};

/*
 * count round trips: unmask the interrupt, write sequence number i
 * (1, 2, ...) to shared word 0, ring the doorbell with i, wait for the
 * interrupt, and check that the peer wrote i + 1 to shared word 1 (offset 4).
 * Returns the number of round trips that completed; if fewer than count, err
 * says why the next one failed.
 */
uint32_t uio_ping_run(const struct uio_ping_port *port, uint32_t count, int timeout_ms, char *err,
                      size_t err_size);

#endif
