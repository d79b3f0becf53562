/*
 * A board's topology from its device tree: boards/NAME/NAME.dts compiled
 * by dtc, then read with libfdt. What is read: the cpu nodes under /cpus
 * (compatible, capacity-dmips-mhz, clock-frequency, L1 sizes, the chain of
 * next-level-cache nodes) and /cpus/cpu-map (sockets, clusters, cores),
 * which says which cores share a cluster. A tree without cpu-map falls
 * back to "cores that share their last-level cache node are a cluster".
 */
#define _POSIX_C_SOURCE 200809L

#include "topology.h"

#include "jsonread.h"

#include <dirent.h>
#include <errno.h>
#include <libfdt.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool read_all(int fd, char **out, size_t *len)
{
    size_t capacity = 65536, used = 0;
    char *data = malloc(capacity);
    while (data != NULL) {
        if (used == capacity) {
            char *bigger = realloc(data, capacity * 2);
            if (bigger == NULL) {
                break;
            }
            data = bigger;
            capacity *= 2;
        }
        ssize_t got = read(fd, data + used, capacity - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            *out = data;
            *len = used;
            return got == 0;
        }
        used += (size_t)got;
    }
    free(data);
    return false;
}

/* The first line of dtc's complaint, for a one-line message. */
static void first_line(char *text, size_t len)
{
    text[len] = '\0';
    char *newline = strchr(text, '\n');
    if (newline != NULL) {
        *newline = '\0';
    }
}

/* Runs `dtc -I dts -O dtb -o - path` and returns the blob it writes. */
static bool compile_dts(const char *path, char **blob, size_t *size, struct sd_error *err)
{
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        return pl_fail(err, "%s: cannot run dtc: %s", path, strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    char *argv[] = {"dtc", "-q", "-I", "dts", "-O", "dtb", "-o", "-", (char *)path, NULL};
    pid_t pid;
    int spawned = posix_spawnp(&pid, "dtc", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        return pl_fail(err,
                       "%s: cannot run dtc (%s); it comes with Debian's device-tree-compiler: run "
                       "tools/install-deps",
                       path, strerror(spawned));
    }
    char *complaint = NULL;
    size_t complaint_len = 0;
    bool read_ok = read_all(out_pipe[0], blob, size);
    read_all(err_pipe[0], &complaint, &complaint_len);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    bool ok = read_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        char *shown = complaint != NULL ? complaint : "";
        if (complaint != NULL) {
            first_line(complaint, complaint_len);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
            pl_fail(err,
                    "%s: cannot run dtc; it comes with Debian's device-tree-compiler: run "
                    "tools/install-deps",
                    path);
        } else {
            pl_fail(err, "%s: dtc cannot compile it: %s", path, shown[0] ? shown : "(no message)");
        }
        free(*blob);
        *blob = NULL;
    }
    free(complaint);
    return ok;
}

/* "a, b, c": the boards under `boards_dir` (directories holding NAME/NAME.dts). */
static void list_boards(const char *boards_dir, char *out, size_t size)
{
    out[0] = '\0';
    DIR *dir = opendir(boards_dir);
    if (dir == NULL) {
        snprintf(out, size, "none (cannot read %s)", boards_dir);
        return;
    }
    char names[32][PL_NAME_MAX];
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && n < 32) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/%s.dts", boards_dir, entry->d_name, entry->d_name);
        if (entry->d_name[0] != '.' && stat(path, &st) == 0 &&
            strlen(entry->d_name) < PL_NAME_MAX) {
            snprintf(names[n++], PL_NAME_MAX, "%.63s", entry->d_name);
        }
    }
    closedir(dir);
    /* Sorted, so the message reads the same everywhere. */
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char swap[PL_NAME_MAX];
            memcpy(swap, names[j], PL_NAME_MAX);
            memcpy(names[j], names[j - 1], PL_NAME_MAX);
            memcpy(names[j - 1], swap, PL_NAME_MAX);
        }
    }
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
    }
    if (n == 0) {
        snprintf(out, size, "none");
    }
}

bool pl_board_load(const char *boards_dir, const char *name, struct pl_topology *out,
                   struct sd_error *err)
{
    char path[SD_PATH_MAX + 128];
    struct stat st;
    bool plain = name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
                 strcmp(name, "..") != 0;
    snprintf(path, sizeof path, "%s/%s/%s.dts", boards_dir, name, name);
    if (!plain || strlen(name) >= PL_NAME_MAX || stat(path, &st) != 0) {
        char known[1024];
        list_boards(boards_dir, known, sizeof known);
        return pl_fail(err, "--board %s: no such board (no %s); boards: %s", name, path, known);
    }
    char *blob = NULL;
    size_t size = 0;
    if (!compile_dts(path, &blob, &size, err)) {
        return false;
    }
    bool ok = pl_dtb_parse(blob, size, path, name, out, err);
    free(blob);
    return ok;
}

bool pl_dtb_load(const char *path, struct pl_topology *out, struct sd_error *err)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return pl_fail(err, "%s: cannot open: %s", path, strerror(errno));
    }
    char *blob = NULL;
    size_t size = 0;
    bool ok = read_all(fileno(file), &blob, &size);
    fclose(file);
    if (!ok) {
        free(blob);
        return pl_fail(err, "%s: cannot read", path);
    }
    const char *base = strrchr(path, '/');
    char name[PL_NAME_MAX];
    snprintf(name, sizeof name, "%s", base != NULL ? base + 1 : path);
    char *dot = strrchr(name, '.');
    if (dot != NULL && dot != name) {
        *dot = '\0';
    }
    ok = pl_dtb_parse(blob, size, path, name, out, err);
    free(blob);
    return ok;
}

static uint32_t prop_u32(const void *fdt, int node, const char *name, uint32_t fallback)
{
    int len;
    const fdt32_t *value = fdt_getprop(fdt, node, name, &len);
    return value != NULL && len >= 4 ? fdt32_to_cpu(value[len / 4 - 1]) : fallback;
}

/* Follows next-level-cache from a cpu node: L2 size, and the last level's size and node. */
static void read_caches(const void *fdt, int cpu, struct pl_core *core, int *llc_node)
{
    *llc_node = -1;
    int node = cpu;
    for (int depth = 0; depth < 8; depth++) {
        uint32_t phandle = prop_u32(fdt, node, "next-level-cache", 0);
        if (phandle == 0) {
            break;
        }
        int next = fdt_node_offset_by_phandle(fdt, phandle);
        if (next < 0) {
            break;
        }
        uint32_t level = prop_u32(fdt, next, "cache-level", (uint32_t)depth + 2);
        uint64_t bytes = prop_u32(fdt, next, "cache-size", 0);
        if (level == 2) {
            core->l2_bytes = bytes;
        }
        core->llc_bytes = bytes;
        *llc_node = next;
        node = next;
    }
    core->l1d_bytes = prop_u32(fdt, cpu, "d-cache-size", 0);
}

struct cpu_map_walk {
    const void *fdt;
    struct pl_topology *topo;
    int cpu_nodes[PL_MAX_CORES];
    int next_cluster;
};

/* Marks every core under a cpu-map node with the cluster and package it belongs to. */
static void walk_cpu_map(struct cpu_map_walk *walk, int node, int cluster, int package)
{
    int child;
    fdt_for_each_subnode(child, walk->fdt, node)
    {
        const char *name = fdt_get_name(walk->fdt, child, NULL);
        if (name == NULL) {
            continue;
        }
        if (strncmp(name, "socket", 6) == 0) {
            walk_cpu_map(walk, child, cluster, atoi(name + 6));
        } else if (strncmp(name, "cluster", 7) == 0) {
            walk_cpu_map(walk, child, walk->next_cluster++, package);
        } else if (strncmp(name, "core", 4) == 0 || strncmp(name, "thread", 6) == 0) {
            uint32_t phandle = prop_u32(walk->fdt, child, "cpu", 0);
            int target = phandle ? fdt_node_offset_by_phandle(walk->fdt, phandle) : -1;
            for (uint32_t c = 0; target >= 0 && c < walk->topo->n_cores; c++) {
                if (walk->cpu_nodes[c] == target) {
                    walk->topo->cores[c].cluster = cluster;
                    walk->topo->cores[c].package = package;
                }
            }
            walk_cpu_map(walk, child, cluster, package); /* threads under a core */
        }
    }
}

static bool is_cpu_node(const void *fdt, int node)
{
    int len;
    const char *type = fdt_getprop(fdt, node, "device_type", &len);
    return type != NULL && len >= 4 && strcmp(type, "cpu") == 0;
}

bool pl_dtb_parse(const void *blob, size_t size, const char *origin, const char *name,
                  struct pl_topology *out, struct sd_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->source, sizeof out->source, "%s", origin);
    int header = size < sizeof(struct fdt_header) ? -FDT_ERR_TRUNCATED : fdt_check_header(blob);
    if (header != 0 || fdt_totalsize(blob) > size) {
        return pl_fail(err, "%s: not a device tree blob (%s)", origin,
                       fdt_strerror(header ? header : -FDT_ERR_TRUNCATED));
    }
    int cpus = fdt_path_offset(blob, "/cpus");
    if (cpus < 0) {
        return pl_fail(err, "%s: no /cpus node, so no cores to place on", origin);
    }
    struct cpu_map_walk walk = {.fdt = blob, .topo = out};
    int llc_nodes[PL_MAX_CORES];
    int node;
    fdt_for_each_subnode(node, blob, cpus)
    {
        if (!is_cpu_node(blob, node)) {
            continue;
        }
        if (out->n_cores == PL_MAX_CORES) {
            return pl_fail(err, "%s: more than %d cpus", origin, PL_MAX_CORES);
        }
        struct pl_core *core = &out->cores[out->n_cores];
        const char *label = fdt_get_name(blob, node, NULL);
        snprintf(core->label, sizeof core->label, "%s", label ? label : "cpu");
        const char *compatible = fdt_getprop(blob, node, "compatible", NULL);
        snprintf(core->type, sizeof core->type, "%s", compatible ? compatible : "unknown");
        core->capacity = prop_u32(blob, node, "capacity-dmips-mhz", 0);
        core->mhz = prop_u32(blob, node, "clock-frequency", 0) / 1000000u;
        core->numa_node = (int)prop_u32(blob, node, "numa-node-id", (uint32_t)-1);
        core->cluster = -1;
        read_caches(blob, node, core, &llc_nodes[out->n_cores]);
        walk.cpu_nodes[out->n_cores] = node;
        out->n_cores++;
    }
    if (out->n_cores == 0) {
        return pl_fail(err, "%s: /cpus has no node with device_type \"cpu\"", origin);
    }
    int map = fdt_subnode_offset(blob, cpus, "cpu-map");
    if (map >= 0) {
        walk_cpu_map(&walk, map, -1, 0);
    }
    /* Without cpu-map (or cores it leaves out): cores sharing a last-level cache node. */
    for (uint32_t c = 0; c < out->n_cores; c++) {
        if (out->cores[c].cluster >= 0) {
            continue;
        }
        out->cores[c].cluster = walk.next_cluster++;
        for (uint32_t d = 0; d < c; d++) {
            if (llc_nodes[c] >= 0 && llc_nodes[d] == llc_nodes[c] && map < 0) {
                out->cores[c].cluster = out->cores[d].cluster;
                break;
            }
        }
    }
    /* With neither, one cluster: nothing says the cores are apart. */
    if (map < 0) {
        bool any_cache = false;
        for (uint32_t c = 0; c < out->n_cores; c++) {
            any_cache = any_cache || llc_nodes[c] >= 0;
        }
        for (uint32_t c = 0; !any_cache && c < out->n_cores; c++) {
            out->cores[c].cluster = 0;
        }
    }
    pl_topology_renumber_clusters(out);
    return true;
}
