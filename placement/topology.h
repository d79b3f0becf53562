/*
 * The machine `place` lays a system on: its cores, which of them share a
 * cache (a cluster), how fast each is, and how far apart their memory
 * nodes are. It comes from a board's device tree (board.c, libfdt) or from
 * the host (host.c, hwloc and libnuma); the cost model only sees this.
 */
#ifndef PINION_PLACE_TOPOLOGY_H
#define PINION_PLACE_TOPOLOGY_H

#include "sysdesc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PL_MAX_CORES 64
#define PL_NAME_MAX  64

struct pl_core {
    char label[PL_NAME_MAX]; /* "cpu@100" from a device tree, "PU L#3" from hwloc */
    char type[PL_NAME_MAX];  /* "arm,cortex-a53"; the host's CPU kind, or "host" */
    int cluster;             /* cores of one cluster share their last-level cache */
    int package;
    int numa_node;     /* -1 when unknown */
    uint32_t capacity; /* capacity-dmips-mhz (per-MHz speed, largest 1024); 0 when not given */
    uint32_t mhz;      /* 0 when not given; the cost profile then says */
    uint64_t l1d_bytes, l2_bytes, llc_bytes; /* 0 when not given */
};

struct pl_topology {
    char name[PL_NAME_MAX];   /* the board's name, or "host" */
    char source[SD_PATH_MAX]; /* the file (or "hwloc") it came from, for messages */
    uint32_t n_cores;
    struct pl_core cores[PL_MAX_CORES];
    uint32_t n_clusters;
    /*
     * Distance between the memory nodes of two cores on libnuma's scale
     * (10 = the same node); 0 when unknown, which the model reads as 10.
     */
    uint8_t numa_distance[PL_MAX_CORES][PL_MAX_CORES];
};

/*
 * Reads boards/NAME/NAME.dts under `boards_dir`, compiling it with dtc.
 * Fails with one message naming the board and the problem (no such board,
 * dtc missing or failing, a tree without cpus).
 */
bool pl_board_load(const char *boards_dir, const char *name, struct pl_topology *out,
                   struct sd_error *err);

/* A flattened device tree already compiled (e.g. QEMU's -M virt,dumpdtb=FILE). */
bool pl_dtb_load(const char *path, struct pl_topology *out, struct sd_error *err);

/* Parses a device tree blob in memory; `origin` names it in messages. */
bool pl_dtb_parse(const void *blob, size_t size, const char *origin, const char *name,
                  struct pl_topology *out, struct sd_error *err);

/* This machine, through hwloc (cores, caches, CPU kinds) and libnuma (node distances). */
bool pl_host_load(struct pl_topology *out, struct sd_error *err);

/*
 * Keeps only the first `n` cores (QEMU's -smp n on a board described with
 * more). Fails when the machine has fewer.
 */
bool pl_topology_restrict(struct pl_topology *topo, uint32_t n, struct sd_error *err);

/* One line per cluster: "cluster 0: cores 0-3, 4 x arm,cortex-a53 @ 1800 MHz, L2 512 KiB". */
void pl_topology_print(FILE *out, const struct pl_topology *topo);

/* Numbers the clusters 0.. in order of first appearance; sets n_clusters. */
void pl_topology_renumber_clusters(struct pl_topology *topo);

#endif
