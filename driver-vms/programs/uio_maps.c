/*
 * The sysfs side of a UIO device (see uio_maps.h). Plain C11 with POSIX
 * directory reads, built for the guest (static aarch64) and for host tests.
 */
#define _POSIX_C_SOURCE 200809L

#include "uio_maps.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

bool uio_sysfs_read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    bool ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (ok) {
        buf[strcspn(buf, "\n")] = '\0';
    }
    return ok;
}

/* sysfs numbers of a UIO map are hexadecimal with 0x ("%pa" pads with zeros). */
bool uio_sysfs_read_number(const char *path, uint64_t *value)
{
    char text[40];
    if (!uio_sysfs_read_line(path, text, sizeof text) || text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *value = v;
    return true;
}

/* Reads map `m`; absent (not an error) when its directory is not there. */
static bool read_map(const char *sysfs_root, unsigned index, unsigned m, struct uio_map_info *out,
                     char *err, size_t err_size)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/class/uio/uio%u/maps/map%u", sysfs_root, index, m);
    *out = (struct uio_map_info){0};
    DIR *d = opendir(dir);
    if (d == NULL) {
        return true;
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/addr", dir);
    if (!uio_sysfs_read_number(path, &out->page_addr)) {
        set_error(err, err_size, "%s: missing or not a number", path);
        return false;
    }
    snprintf(path, sizeof path, "%s/size", dir);
    if (!uio_sysfs_read_number(path, &out->map_bytes) || out->map_bytes == 0) {
        set_error(err, err_size, "%s: missing, zero or not a number", path);
        return false;
    }
    snprintf(path, sizeof path, "%s/offset", dir);
    if (!uio_sysfs_read_number(path, &out->offset)) {
        out->offset = 0; /* kernels without the file put every region at a page start */
    }
    if (out->offset >= out->map_bytes || out->page_addr + out->offset < out->page_addr) {
        set_error(err, err_size, "%s: offset 0x%llx does not fit in size 0x%llx", dir,
                  (unsigned long long)out->offset, (unsigned long long)out->map_bytes);
        return false;
    }
    out->phys = out->page_addr + out->offset;
    out->bytes = out->map_bytes - out->offset;
    snprintf(path, sizeof path, "%s/name", dir);
    if (!uio_sysfs_read_line(path, out->name, sizeof out->name)) {
        out->name[0] = '\0';
    }
    out->present = true;
    return true;
}

static int compare_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* The N of every uioN under sysfs_root/class/uio, ascending; -1 if the directory is missing. */
static int list_devices(const char *sysfs_root, unsigned *indices, int max)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/class/uio", sysfs_root);
    DIR *d = opendir(path);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        unsigned index;
        char tail;
        if (sscanf(e->d_name, "uio%u%c", &index, &tail) == 1) {
            indices[n++] = index;
        }
    }
    closedir(d);
    qsort(indices, (size_t)n, sizeof indices[0], compare_unsigned);
    return n;
}

static bool read_device(const char *sysfs_root, unsigned min_maps, struct uio_map_device *dev,
                        char *err, size_t err_size)
{
    dev->n_maps = 0;
    for (unsigned m = 0; m < UIO_MAPS_MAX; m++) {
        if (!read_map(sysfs_root, dev->index, m, &dev->maps[m], err, err_size)) {
            return false;
        }
        if (dev->maps[m].present && dev->n_maps == m) {
            dev->n_maps = m + 1;
        }
    }
    if (dev->n_maps < min_maps) {
        set_error(err, err_size,
                  "uio%u \"%s\" has %u maps, fewer than the %u it needs (map0 the doorbell, "
                  "then the shared regions)",
                  dev->index, dev->name, dev->n_maps, min_maps);
        return false;
    }
    return true;
}

bool uio_maps_locate(const char *sysfs_root, const char *name, bool prefix, unsigned *index,
                     char *found_name, size_t found_size, char *err, size_t err_size)
{
    enum { MAX_DEVICES = 256 };
    unsigned indices[MAX_DEVICES];
    int n = list_devices(sysfs_root, indices, MAX_DEVICES);
    if (n < 0) {
        set_error(err, err_size,
                  "no %s/class/uio: this kernel has no UIO (CONFIG_UIO) or sysfs is not mounted",
                  sysfs_root);
        return false;
    }
    /* What was seen, to name in the error if nothing matches. */
    char seen[256] = "";
    size_t seen_len = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], device_name[UIO_MAPS_NAME_MAX];
        snprintf(path, sizeof path, "%s/class/uio/uio%u/name", sysfs_root, indices[i]);
        if (!uio_sysfs_read_line(path, device_name, sizeof device_name)) {
            continue;
        }
        bool match =
            prefix ? strncmp(device_name, name, strlen(name)) == 0 : strcmp(device_name, name) == 0;
        if (!match) {
            if (seen_len < sizeof seen) {
                int w = snprintf(seen + seen_len, sizeof seen - seen_len, "%suio%u \"%s\"",
                                 seen_len ? ", " : "", indices[i], device_name);
                seen_len += w > 0 ? (size_t)w : 0;
            }
            continue;
        }
        *index = indices[i];
        snprintf(found_name, found_size, "%s", device_name);
        return true;
    }
    set_error(err, err_size,
              prefix ? "no UIO device whose name starts with \"%s\" (found: %s)"
                     : "no UIO device named \"%s\" (found: %s)",
              name, seen_len ? seen : "none");
    return false;
}

bool uio_maps_find(const char *sysfs_root, const char *name, unsigned min_maps,
                   struct uio_map_device *dev, char *err, size_t err_size)
{
    *dev = (struct uio_map_device){0};
    return uio_maps_locate(sysfs_root, name, false, &dev->index, dev->name, sizeof dev->name, err,
                           err_size) &&
           read_device(sysfs_root, min_maps, dev, err, err_size);
}
