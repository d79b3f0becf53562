/*
 * uio-ping: round trips over a pinion channel from inside a Linux driver VM,
 * through the channel's UIO device (see uio_ping_core.h and --help). This
 * file holds what touches the device: opening /dev/uioN, mapping its
 * doorbell and shared region, and the interrupt's unmask and wait. Built
 * static for the guest's initramfs, and for the host tests.
 */
#define _POSIX_C_SOURCE 200809L

#include "uio_ping_core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct uio_fd {
    int fd;
};

/* uio_pdrv_genirq masks the interrupt in its handler; a write of 1 unmasks it. */
static int enable_interrupt(void *ctx)
{
    int fd = ((struct uio_fd *)ctx)->fd;
    int32_t on = 1;
    ssize_t n = write(fd, &on, sizeof on);
    if (n == (ssize_t)sizeof on) {
        return 0;
    }
    return n < 0 ? -errno : -EIO;
}

/* A read of /dev/uioN blocks until the next interrupt and returns the event count. */
static int wait_interrupt(void *ctx, int timeout_ms)
{
    int fd = ((struct uio_fd *)ctx)->fd;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready;
    do {
        ready = poll(&p, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) {
        return -errno;
    }
    if (ready == 0) {
        return 0;
    }
    uint32_t events;
    ssize_t n = read(fd, &events, sizeof events);
    if (n == (ssize_t)sizeof events) {
        return 1;
    }
    return n < 0 ? -errno : -EIO;
}

/*
 * Maps map `index` of the device: UIO selects the map by the mmap offset
 * (index pages), and the region starts `offset` bytes into the first page.
 */
static volatile uint32_t *map_region(int fd, int index, const struct uio_map *map, void **base,
                                     size_t *length)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *length = (size_t)((map->offset + map->size + page - 1) / page * page);
    *base = mmap(NULL, *length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)index * (off_t)page);
    if (*base == MAP_FAILED) {
        return NULL;
    }
    return (volatile uint32_t *)((char *)*base + map->offset);
}

int main(int argc, char **argv)
{
    struct uio_ping_options opts;
    char err[UIO_PING_ERROR_MAX];
    switch (uio_ping_parse_args(argc, argv, &opts, err, sizeof err)) {
    case UIO_PING_PARSE_HELP:
        fputs(uio_ping_usage, stdout);
        return 0;
    case UIO_PING_PARSE_ERROR:
        fprintf(stderr, "uio-ping: %s\nTry 'uio-ping --help'.\n", err);
        return 2;
    case UIO_PING_PARSE_OK:
        break;
    }

    struct uio_device dev;
    if (!uio_ping_find_device(opts.sysfs_root, opts.name, &dev, err, sizeof err)) {
        fprintf(stderr, "uio-ping: error: %s\n", err);
        return 1;
    }
    char path[32];
    snprintf(path, sizeof path, "/dev/uio%u", dev.index);
    struct uio_fd uio = {.fd = open(path, O_RDWR | O_CLOEXEC)};
    if (uio.fd < 0) {
        fprintf(stderr, "uio-ping: error: cannot open %s (\"%s\"): %s\n", path, dev.name,
                strerror(errno));
        return 1;
    }
    void *doorbell_base, *shared_base = NULL;
    size_t doorbell_length, shared_length = 0;
    struct uio_ping_port port = {
        .enable_interrupt = enable_interrupt,
        .wait_interrupt = wait_interrupt,
        .ctx = &uio,
    };
    port.doorbell = map_region(uio.fd, 0, &dev.doorbell, &doorbell_base, &doorbell_length);
    if (port.doorbell == NULL) {
        fprintf(stderr, "uio-ping: error: cannot map the doorbell (map0) of %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    if (dev.shared.present) {
        port.shared = map_region(uio.fd, 1, &dev.shared, &shared_base, &shared_length);
        if (port.shared == NULL) {
            fprintf(stderr, "uio-ping: error: cannot map the shared region (map1) of %s: %s\n",
                    path, strerror(errno));
            return 1;
        }
    }
    printf("uio-ping: %s \"%s\": doorbell %llu bytes, %s\n", path, dev.name,
           (unsigned long long)dev.doorbell.size,
           dev.shared.present ? "shared region mapped: values checked"
                              : "no shared region (map1): values not checked");
    fflush(stdout);

    uint32_t done = uio_ping_run(&port, opts.count, opts.timeout_ms, err, sizeof err);
    munmap(doorbell_base, doorbell_length);
    if (shared_base != NULL) {
        munmap(shared_base, shared_length);
    }
    close(uio.fd);
    if (done < opts.count) {
        fprintf(stderr, "uio-ping: error: %s (%u of %u round trips ok)\n", err, done, opts.count);
        return 1;
    }
    printf("uio-ping: %u round trips ok\n", done);
    return 0;
}
