/*
 * A pinion channel's UIO device opened by a guest program (net-bridge,
 * blk-bridge): found by name in sysfs (uio_maps.h), every map mapped, the
 * doorbell rung, the interrupt taken and unmasked. Errors are printed as
 * "PROGRAM: error: ...".
 */
#ifndef PINION_UIO_HANDLE_H
#define PINION_UIO_HANDLE_H

#include "uio_maps.h"

#include <stdbool.h>
#include <stdint.h>

struct uio_handle {
    struct uio_map_device dev;
    int fd;
    unsigned char *maps[UIO_MAPS_MAX]; /* the region's first byte (page start + offset) */
    volatile uint32_t *doorbell;
};

/* Finds the device `name` with at least `min_maps` maps (map0 the doorbell). */
bool uio_handle_find(const char *program, const char *sysfs_root, const char *name,
                     unsigned min_maps, struct uio_handle *h);

/* Opens a device uio_handle_find found and maps its maps; from map2 on read-only if asked. */
bool uio_handle_open(const char *program, bool data_read_only, struct uio_handle *h);

/* Rings the doorbell with `value`, after every store before it. */
void uio_handle_ring(struct uio_handle *h, uint32_t value);

/* Unmasks the interrupt (a 1 written to /dev/uioN). */
bool uio_handle_unmask(const char *program, struct uio_handle *h);

/*
 * Takes one interrupt and unmasks it again, counting it: false on a
 * failure. A caller services its queues only after this, so that work the
 * peer queued while the interrupt was masked is found then.
 */
bool uio_handle_take_interrupt(const char *program, struct uio_handle *h, uint64_t *count);

#endif
