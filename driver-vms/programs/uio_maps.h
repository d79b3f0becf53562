/*
 * Finding a pinion channel's UIO device in sysfs and describing its maps,
 * for the guest programs that run pinion's queues over it (net-bridge, its
 * test peer, uio-ping). Kept apart from any system call on /dev/uioN so that the
 * host unit tests run it against a fake sysfs tree.
 *
 * What Linux 6.1's uio_pdrv_genirq shows for map M of /dev/uioN, under
 * SYSFS/class/uio/uioN/maps/mapM/: `addr`, the region's start rounded down
 * to a page; `offset`, the start's offset within that page; `size`, offset
 * plus the region's bytes rounded up to whole pages; `name`, the entry of
 * the node's reg-names. mmap() of page index M of /dev/uioN maps it, at
 * most `size` bytes, from `addr`.
 */
#ifndef PINION_UIO_MAPS_H
#define PINION_UIO_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux's MAX_UIO_MAPS: map0, the doorbell, and at most four regions. */
#define UIO_MAPS_MAX      5
#define UIO_MAPS_NAME_MAX 64

struct uio_map_info {
    bool present;
    uint64_t page_addr;           /* sysfs addr: the first mapped page's physical address */
    uint64_t offset;              /* where the region starts within that page */
    uint64_t map_bytes;           /* sysfs size: what mmap() may map, a whole number of pages */
    uint64_t phys;                /* the region's physical address: page_addr + offset */
    uint64_t bytes;               /* the region's bytes as far as sysfs tells: map_bytes - offset */
    char name[UIO_MAPS_NAME_MAX]; /* reg-names entry, or "" */
};

struct uio_map_device {
    unsigned index; /* N of uioN and /dev/uioN */
    char name[UIO_MAPS_NAME_MAX];
    unsigned n_maps; /* maps present: map0 .. map(n_maps - 1), with no gap */
    struct uio_map_info maps[UIO_MAPS_MAX];
};

/*
 * Finds the UIO device whose sysfs name is exactly `name` (the lowest N if
 * several are) under sysfs_root/class/uio and reads its maps. Returns false
 * with a message in err when there is none (naming the devices it did
 * find), when a map's files are unreadable or inconsistent, or when it has
 * fewer than `min_maps` maps.
 */
bool uio_maps_find(const char *sysfs_root, const char *name, unsigned min_maps,
                   struct uio_map_device *dev, char *err, size_t err_size);

/*
 * The search alone: the lowest N whose sysfs name is `name` (or, with
 * `prefix`, starts with it); its name into found_name. False with a
 * message naming the devices it did find.
 */
bool uio_maps_locate(const char *sysfs_root, const char *name, bool prefix, unsigned *index,
                     char *found_name, size_t found_size, char *err, size_t err_size);

/* The first line of a sysfs file without its newline; false if it cannot be read. */
bool uio_sysfs_read_line(const char *path, char *buf, size_t size);
/* A sysfs number (decimal, or hexadecimal with 0x); false if absent or not a number. */
bool uio_sysfs_read_number(const char *path, uint64_t *value);

#endif
