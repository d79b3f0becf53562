/*
 * Unit tests of the UIO sysfs lookup of the network guest programs
 * (driver-vms/programs/uio_maps.c) on the host, against fake sysfs trees
 * written as Linux 6.1's uio_pdrv_genirq shows its devices.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "uio_maps.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char err[512];

/* --- the UIO devices in a fake sysfs tree ------------------------------- */

static char root[64];

static void write_file(const char *relative, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, relative);
    for (char *slash = strchr(path + strlen(root) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* One map as Linux 6.1 prints it: addr and size with "%pa", offset "0x%llx". */
static void fake_map(unsigned dev, unsigned map, const char *name, const char *addr,
                     const char *size, const char *offset)
{
    char path[128], text[64];
    const char *files[4][2] = {{"name", name}, {"addr", addr}, {"size", size}, {"offset", offset}};
    for (int f = 0; f < 4; f++) {
        if (files[f][1] == NULL) {
            continue;
        }
        snprintf(path, sizeof path, "class/uio/uio%u/maps/map%u/%s", dev, map, files[f][0]);
        snprintf(text, sizeof text, "%s\n", files[f][1]);
        write_file(path, text);
    }
}

static void fake_name(unsigned dev, const char *name)
{
    char path[64], text[64];
    snprintf(path, sizeof path, "class/uio/uio%u/name", dev);
    snprintf(text, sizeof text, "%s\n", name);
    write_file(path, text);
}

static void test_uio_maps(void)
{
    struct uio_map_device d;
    CHECK(!uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "/class/uio: this kernel has no UIO");

    fake_name(0, "ping");
    fake_map(0, 0, "doorbell", "0x000000000b000000", "0x0000000000001000", "0x0");
    fake_name(2, "tx");
    fake_map(2, 0, "doorbell", "0x000000000b002000", "0x0000000000001000", "0x0");
    fake_map(2, 1, "tx", "0x0000000048a00000", "0x0000000000005000", "0x0");
    fake_map(2, 2, "client0_data", "0x0000000048c00000", "0x0000000000200000", "0x0");
    /* A region that starts inside a page: sysfs rounds size up, offset says where. */
    fake_map(2, 3, "client1_data", "0x0000000048e00000", "0x0000000000002000", "0x100");
    fake_name(1, "rx");
    fake_map(1, 0, "doorbell", "0x000000000b001000", "0x0000000000001000", "0x0");
    fake_map(1, 1, "rx", "0x0000000048800000", "0x0000000000005000", "0x0");

    CHECK(uio_maps_find(root, "tx", 3, &d, err, sizeof err));
    CHECK_EQ(d.index, 2);
    CHECK_EQ(d.n_maps, 4);
    CHECK(strcmp(d.maps[2].name, "client0_data") == 0);
    CHECK_EQ(d.maps[1].phys, 0x48a00000);
    CHECK_EQ(d.maps[1].bytes, 0x5000);
    CHECK_EQ(d.maps[3].page_addr, 0x48e00000);
    CHECK_EQ(d.maps[3].phys, 0x48e00100);
    CHECK_EQ(d.maps[3].bytes, 0x1f00);
    CHECK_EQ(d.maps[3].map_bytes, 0x2000);

    /* rx has only two maps: its data region is missing. */
    CHECK(!uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "uio1 \"rx\" has 2 maps, fewer than the 3 it needs");
    CHECK(!uio_maps_find(root, "net_rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "no UIO device named \"net_rx\" (found: uio0 \"ping\", uio1 \"rx\", "
                            "uio2 \"tx\")");

    /* A gap (map2 missing, map3 there) ends the maps at the gap. */
    fake_map(1, 3, "late", "0x0000000049000000", "0x0000000000001000", "0x0");
    CHECK(!uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "has 2 maps");
    /* Broken files are named. */
    fake_map(1, 2, "rx_data", "garbage", "0x1000", "0x0");
    CHECK(!uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "maps/map2/addr: missing or not a number");
    fake_map(1, 2, "rx_data", "0x49000000", "0x0", "0x0");
    CHECK(!uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "maps/map2/size: missing, zero or not a number");
    fake_map(1, 2, "rx_data", "0x49000000", "0x1000", "0x1000");
    CHECK(!uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_STR_CONTAINS(err, "offset 0x1000 does not fit in size 0x1000");
    fake_map(1, 2, "rx_data", "0x49000000", "0x100000", "0x0");
    CHECK(uio_maps_find(root, "rx", 3, &d, err, sizeof err));
    CHECK_EQ(d.n_maps, 4);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/test_uio_maps.XXXXXX");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN_TEST(test_uio_maps);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", root);
    }
    return check_exit();
}
