/* A pinion channel's UIO device opened by a guest program (see uio_handle.h). */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC */
#include "uio_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ERROR_MAX 256

bool uio_handle_find(const char *program, const char *sysfs_root, const char *name,
                     unsigned min_maps, struct uio_handle *h)
{
    char err[ERROR_MAX];
    if (!uio_maps_find(sysfs_root, name, min_maps, &h->dev, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", program, err);
        return false;
    }
    return true;
}

bool uio_handle_open(const char *program, bool data_read_only, struct uio_handle *h)
{
    char path[32];
    snprintf(path, sizeof path, "/dev/uio%u", h->dev.index);
    h->fd = open(path, O_RDWR | O_CLOEXEC);
    if (h->fd < 0) {
        fprintf(stderr, "%s: error: cannot open %s (\"%s\"): %s\n", program, path, h->dev.name,
                strerror(errno));
        return false;
    }
    long page = sysconf(_SC_PAGESIZE);
    for (unsigned m = 0; m < h->dev.n_maps; m++) {
        const struct uio_map_info *map = &h->dev.maps[m];
        int prot = data_read_only && m >= 2 ? PROT_READ : PROT_READ | PROT_WRITE;
        /* UIO picks the map by the page index of the offset; at most sysfs size bytes. */
        void *base = mmap(NULL, (size_t)map->map_bytes, prot, MAP_SHARED, h->fd, (off_t)m * page);
        if (base == MAP_FAILED) {
            fprintf(stderr, "%s: error: cannot map map%u (%llu bytes) of %s (\"%s\"): %s\n",
                    program, m, (unsigned long long)map->map_bytes, path, h->dev.name,
                    strerror(errno));
            return false;
        }
        h->maps[m] = (unsigned char *)base + map->offset;
    }
    h->doorbell = (volatile uint32_t *)h->maps[0];
    return true;
}

void uio_handle_ring(struct uio_handle *h, uint32_t value)
{
    /*
     * The ring indices the peer will read were published before; keep the
     * doorbell's store (to Device memory, trapped by pinion's kernel) after them.
     */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *h->doorbell = value;
}

bool uio_handle_unmask(const char *program, struct uio_handle *h)
{
    int32_t on = 1;
    if (write(h->fd, &on, sizeof on) != (ssize_t)sizeof on) {
        fprintf(stderr, "%s: error: unmasking the interrupt of /dev/uio%u: %s\n", program,
                h->dev.index, strerror(errno));
        return false;
    }
    return true;
}

bool uio_handle_take_interrupt(const char *program, struct uio_handle *h, uint64_t *count)
{
    uint32_t events;
    ssize_t n = read(h->fd, &events, sizeof events);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    if (n != (ssize_t)sizeof events) {
        fprintf(stderr, "%s: error: reading the interrupt of /dev/uio%u: %s\n", program,
                h->dev.index, n < 0 ? strerror(errno) : "short read");
        return false;
    }
    ++*count;
    return uio_handle_unmask(program, h);
}
