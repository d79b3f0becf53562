/*
 * pinion-sysdesc summary: a system as tables a person can read, with column
 * widths fitted to the names the system uses.
 */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static int widest_pd_name(const struct sd_system *sys)
{
    int width = (int)strlen("name");
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        int len = (int)strlen(sys->pds[i].name);
        width = len > width ? len : width;
    }
    return width;
}

static void print_pds(FILE *out, const struct sd_system *sys)
{
    int width = widest_pd_name(sys);
    fprintf(out, "PDs\n  %-*s  %-11s  %8s  %4s  %s\n", width, "name", "kind", "priority", "core",
            "program");
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        const struct sd_pd *pd = &sys->pds[i];
        char core[16] = "-";
        if (pd->core >= 0) {
            snprintf(core, sizeof core, "%d", pd->core);
        }
        fprintf(out, "  %-*s  %-11s  %8u  %4s  ", width, pd->name, sd_kind_name(pd->kind),
                pd->priority, core);
        if (pd->kind == SD_KIND_VM) {
            char memory[32];
            sd_format_size(memory, sizeof memory, pd->vm.memory);
            fprintf(out, "kernel %s, %u vCPU%s, %s\n", pd->vm.kernel, pd->vm.vcpus,
                    pd->vm.vcpus == 1 ? "" : "s", memory);
        } else {
            fprintf(out, "%s\n", pd->program);
        }
    }
}

static void print_regions(FILE *out, const struct sd_system *sys)
{
    int width = (int)strlen("name");
    for (uint32_t r = 0; r < sys->n_regions; r++) {
        int len = (int)strlen(sys->regions[r].name);
        width = len > width ? len : width;
    }
    fprintf(out, "\nRegions\n  %-*s  %-10s  %s\n", width, "name", "size",
            "mapped by (PD:local name rights @vaddr)");
    for (uint32_t r = 0; r < sys->n_regions; r++) {
        char size[32];
        sd_format_size(size, sizeof size, sys->regions[r].size);
        fprintf(out, "  %-*s  %-10s  ", width, sys->regions[r].name, size);
        if (sys->regions[r].has_phys) {
            fprintf(out, "phys 0x%" PRIx64 ": ", sys->regions[r].phys);
        }
        bool any = false;
        for (uint32_t p = 0; p < sys->n_pds; p++) {
            const struct sd_pd *pd = &sys->pds[p];
            for (uint32_t m = 0; m < pd->n_maps; m++) {
                const struct sd_map *map = &pd->maps[m];
                if (map->region != (int)r) {
                    continue;
                }
                char rights[4];
                sd_format_rights(rights, map->rights);
                fprintf(out, "%s%s:%s %s", any ? ", " : "", pd->name, map->name, rights);
                if (map->has_vaddr) {
                    fprintf(out, " @0x%" PRIx64, map->vaddr);
                }
                /* Only what differs from the default, which follows the region. */
                if (map->cached == sys->regions[r].has_phys) {
                    fprintf(out, " %s", map->cached ? "cached" : "uncached");
                }
                any = true;
            }
        }
        fprintf(out, "%s\n", any ? "" : "(not mapped)");
    }
}

static void format_end(char *out, size_t size, const struct sd_system *sys,
                       const struct sd_channel_end *end)
{
    snprintf(out, size, "%s:%s %u", sys->pds[end->pd].name, end->name, end->id);
}

static void print_channels(FILE *out, const struct sd_system *sys)
{
    static const char end_heading[] = "end 0 (PD:local name id)";
    int width = (int)strlen("name"), end_width = (int)strlen(end_heading);
    char text[2 * PN_NAME_MAX + 16];
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        const struct sd_channel *channel = &sys->channels[c];
        int len = (int)strlen(channel->name);
        width = len > width ? len : width;
        format_end(text, sizeof text, sys, &channel->ends[0]);
        len = (int)strlen(text);
        end_width = len > end_width ? len : end_width;
    }
    fprintf(out, "\nChannels\n  %-*s  %-*s  %s\n", width, "name", end_width, end_heading, "end 1");
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        const struct sd_channel *channel = &sys->channels[c];
        format_end(text, sizeof text, sys, &channel->ends[0]);
        fprintf(out, "  %-*s  %-*s  ", width, channel->name, end_width, text);
        format_end(text, sizeof text, sys, &channel->ends[1]);
        fprintf(out, "%s\n", text);
    }
}

static void print_irqs(FILE *out, const struct sd_system *sys)
{
    int width = widest_pd_name(sys), name_width = (int)strlen("name");
    uint32_t n_irqs = 0;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        for (uint32_t i = 0; i < sys->pds[p].n_irqs; i++) {
            int len = (int)strlen(sys->pds[p].irqs[i].name);
            name_width = len > name_width ? len : name_width;
            n_irqs++;
        }
    }
    if (n_irqs == 0) {
        return;
    }
    fprintf(out, "\nIRQs\n  %-*s  %-*s  %4s  %2s  %s\n", width, "pd", name_width, "name", "irq",
            "id", "trigger");
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        const struct sd_pd *pd = &sys->pds[p];
        for (uint32_t i = 0; i < pd->n_irqs; i++) {
            const struct sd_irq *irq = &pd->irqs[i];
            fprintf(out, "  %-*s  %-*s  %4u  %2u  %s\n", width, pd->name, name_width, irq->name,
                    irq->irq, irq->id, irq->edge ? "edge" : "level");
        }
    }
}

void sd_print_summary(FILE *out, const struct sd_system *sys)
{
    fprintf(out, "system %s (%s): %u PDs, %u regions, %u channels; a run ends %s\n\n", sys->name,
            sys->source, sys->n_pds, sys->n_regions, sys->n_channels,
            sys->end_when_idle ? "when every core is idle" : "when the runner stops it");
    print_pds(out, sys);
    print_regions(out, sys);
    print_channels(out, sys);
    print_irqs(out, sys);
}
