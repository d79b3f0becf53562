/*
 * The host's topology through hwloc: one placeable core per hwloc Core
 * (hardware threads of a core are not independent cores for the model),
 * the deepest cache a core shares with others as its cluster, the CPU kind
 * (hybrid machines) as its type with its frequency when hwloc knows it,
 * and libnuma's distances between the memory nodes the cores sit on.
 */
#define _POSIX_C_SOURCE 200809L

#include "topology.h"

#include "jsonread.h"

#include <hwloc.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>

/* The deepest cache above `core` that other cores share; NULL when none is shared. */
static hwloc_obj_t shared_cache(hwloc_obj_t core)
{
    int own = hwloc_bitmap_weight(core->cpuset);
    for (hwloc_obj_t up = core->parent; up != NULL; up = up->parent) {
        if (hwloc_obj_type_is_cache(up->type) && hwloc_bitmap_weight(up->cpuset) > own) {
            return up;
        }
    }
    return NULL;
}

static void read_caches(hwloc_obj_t core, struct pl_core *out)
{
    for (hwloc_obj_t up = core->parent; up != NULL; up = up->parent) {
        if (!hwloc_obj_type_is_cache(up->type) || up->attr == NULL) {
            continue;
        }
        uint64_t bytes = up->attr->cache.size;
        if (up->attr->cache.depth == 1 && up->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION) {
            out->l1d_bytes = bytes;
        } else if (up->attr->cache.depth == 2) {
            out->l2_bytes = bytes;
        }
        if (up->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION) {
            out->llc_bytes = bytes;
        }
    }
    /* hwloc may put L1 below the core object rather than above it. */
    for (hwloc_obj_t down = core->first_child; down != NULL; down = down->first_child) {
        if (hwloc_obj_type_is_cache(down->type) && down->attr != NULL &&
            down->attr->cache.depth == 1 && down->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION) {
            out->l1d_bytes = down->attr->cache.size;
        }
    }
}

static const char *info_value(struct hwloc_info_s *infos, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(infos[i].name, name) == 0) {
            return infos[i].value;
        }
    }
    return NULL;
}

/* The CPU kind of a core: its type name and frequency, when hwloc knows them. */
static void read_kind(hwloc_topology_t topology, hwloc_obj_t core, struct pl_core *out)
{
    snprintf(out->type, sizeof out->type, "host");
    int kinds = hwloc_cpukinds_get_nr(topology, 0);
    int kind = kinds > 0 ? hwloc_cpukinds_get_by_cpuset(topology, core->cpuset, 0) : -1;
    if (kind < 0) {
        return;
    }
    int efficiency;
    unsigned n_infos = 0;
    struct hwloc_info_s *infos = NULL;
    if (hwloc_cpukinds_get_info(topology, (unsigned)kind, NULL, &efficiency, &n_infos, &infos, 0) !=
        0) {
        return;
    }
    const char *core_type = info_value(infos, n_infos, "CoreType");
    if (core_type != NULL) {
        snprintf(out->type, sizeof out->type, "%s", core_type);
    } else if (kinds > 1) {
        snprintf(out->type, sizeof out->type, "host-kind%d", kind);
    }
    const char *mhz = info_value(infos, n_infos, "FrequencyMaxMHz");
    if (mhz == NULL) {
        mhz = info_value(infos, n_infos, "FrequencyBaseMHz");
    }
    if (mhz != NULL) {
        out->mhz = (uint32_t)strtoul(mhz, NULL, 10);
    }
}

bool pl_host_load(struct pl_topology *out, struct sd_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "host");
    snprintf(out->source, sizeof out->source, "hwloc");
    hwloc_topology_t topology;
    if (hwloc_topology_init(&topology) != 0 || hwloc_topology_load(topology) != 0) {
        pl_fail(err, "--host: hwloc cannot read this machine");
        return false;
    }
    hwloc_obj_type_t unit =
        hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int n = hwloc_get_nbobjs_by_type(topology, unit);
    if (n <= 0 || n > PL_MAX_CORES) {
        hwloc_topology_destroy(topology);
        pl_fail(err, "--host: hwloc reports %d cores; place handles 1 to %d", n, PL_MAX_CORES);
        return false;
    }
    bool numa = numa_available() >= 0;
    for (int i = 0; i < n; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topology, unit, (unsigned)i);
        struct pl_core *c = &out->cores[out->n_cores++];
        snprintf(c->label, sizeof c->label, "%s L#%u", unit == HWLOC_OBJ_CORE ? "Core" : "PU",
                 core->logical_index);
        read_kind(topology, core, c);
        read_caches(core, c);
        hwloc_obj_t cache = shared_cache(core);
        hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(topology, HWLOC_OBJ_PACKAGE, core);
        c->package = package != NULL ? (int)package->logical_index : 0;
        /* Clusters are numbered by the shared cache; apart from it, by package. */
        c->cluster = cache != NULL ? (int)(cache->gp_index & 0x7fffffff) : -1 - c->package;
        hwloc_obj_t node = hwloc_get_next_obj_covering_cpuset_by_type(topology, core->cpuset,
                                                                      HWLOC_OBJ_NUMANODE, NULL);
        c->numa_node = node != NULL ? (int)node->os_index : -1;
    }
    hwloc_topology_destroy(topology);
    for (uint32_t a = 0; a < out->n_cores; a++) {
        for (uint32_t b = 0; b < out->n_cores; b++) {
            int na = out->cores[a].numa_node, nb = out->cores[b].numa_node;
            int distance = numa && na >= 0 && nb >= 0 ? numa_distance(na, nb) : 0;
            out->numa_distance[a][b] = (uint8_t)(distance > 0 && distance < 255 ? distance : 0);
        }
    }
    pl_topology_renumber_clusters(out);
    return true;
}
