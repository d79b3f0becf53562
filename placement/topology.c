/* What all topologies share: renumbering clusters, restricting cores, printing. */
#include "topology.h"

#include "jsonread.h"

#include <string.h>

void pl_topology_renumber_clusters(struct pl_topology *topo)
{
    int seen[PL_MAX_CORES];
    uint32_t n = 0;
    for (uint32_t c = 0; c < topo->n_cores; c++) {
        uint32_t k = 0;
        while (k < n && seen[k] != topo->cores[c].cluster) {
            k++;
        }
        if (k == n) {
            seen[n++] = topo->cores[c].cluster;
        }
        topo->cores[c].cluster = (int)k;
    }
    topo->n_clusters = n;
}

bool pl_topology_restrict(struct pl_topology *topo, uint32_t n, struct sd_error *err)
{
    if (n == 0 || n > topo->n_cores) {
        pl_fail(err, "--cores %u: %s has %u cores (%s)", n, topo->name, topo->n_cores,
                topo->source);
        return false;
    }
    topo->n_cores = n;
    pl_topology_renumber_clusters(topo);
    return true;
}

static void format_bytes(char *out, size_t size, uint64_t bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
        snprintf(out, size, "%llu MiB", (unsigned long long)(bytes / (1024 * 1024)));
    } else {
        snprintf(out, size, "%llu KiB", (unsigned long long)(bytes / 1024));
    }
}

void pl_topology_print(FILE *out, const struct pl_topology *topo)
{
    for (uint32_t k = 0; k < topo->n_clusters; k++) {
        uint32_t first = topo->n_cores, last = 0, count = 0;
        const struct pl_core *sample = NULL;
        for (uint32_t c = 0; c < topo->n_cores; c++) {
            if ((uint32_t)topo->cores[c].cluster == k) {
                first = c < first ? c : first;
                last = c;
                count++;
                sample = &topo->cores[c];
            }
        }
        if (sample == NULL) {
            continue;
        }
        fprintf(out, "  cluster %u: core%s %u", k, count > 1 ? "s" : "", first);
        if (count > 1) {
            fprintf(out, "%s%u", last == first + count - 1 ? "-" : "..", last);
        }
        fprintf(out, ", %u x %s", count, sample->type);
        if (sample->mhz) {
            fprintf(out, " @ %u MHz", sample->mhz);
        }
        if (sample->capacity) {
            fprintf(out, ", capacity %u", sample->capacity);
        }
        if (sample->l2_bytes) {
            char size[32];
            format_bytes(size, sizeof size, sample->l2_bytes);
            fprintf(out, ", L2 %s", size);
        } else if (sample->llc_bytes) {
            char size[32];
            format_bytes(size, sizeof size, sample->llc_bytes);
            fprintf(out, ", last-level cache %s", size);
        }
        fputc('\n', out);
    }
}
