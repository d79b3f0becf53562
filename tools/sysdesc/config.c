/*
 * Queries over a loaded system, and the generated configuration of one PD.
 */
#include "sysdesc.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    [SD_KIND_DRIVER] = "driver", [SD_KIND_MULTIPLEXER] = "multiplexer",
    [SD_KIND_COPIER] = "copier", [SD_KIND_CLIENT] = "client",
    [SD_KIND_LOAD] = "load",     [SD_KIND_ACCOUNTING] = "accounting",
    [SD_KIND_TEST] = "test",     [SD_KIND_VM] = "vm",
};

const char *sd_kind_name(enum sd_pd_kind kind)
{
    if ((unsigned)kind < sizeof kind_names / sizeof kind_names[0] && kind_names[kind] != NULL) {
        return kind_names[kind];
    }
    return "unknown";
}

int sd_find_pd(const struct sd_system *sys, const char *name)
{
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        if (strcmp(sys->pds[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int sd_find_region(const struct sd_system *sys, const char *name)
{
    for (uint32_t i = 0; i < sys->n_regions; i++) {
        if (strcmp(sys->regions[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int sd_channel_of(const struct sd_system *sys, int pd, uint32_t id, int *end)
{
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        for (int e = 0; e < 2; e++) {
            const struct sd_channel_end *this_end = &sys->channels[c].ends[e];
            if (this_end->pd == pd && this_end->id == id) {
                if (end != NULL) {
                    *end = e;
                }
                return (int)c;
            }
        }
    }
    return -1;
}

static int by_id(const void *a, const void *b)
{
    const struct pn_config_channel *left = a, *right = b;
    return (left->id > right->id) - (left->id < right->id);
}

static void copy_name(char dst[PN_NAME_MAX], const char *src)
{
    /* Loaded names always fit; strncpy also zero-fills the rest. */
    strncpy(dst, src, PN_NAME_MAX - 1);
    dst[PN_NAME_MAX - 1] = '\0';
}

void sd_build_config(const struct sd_system *sys, int pd_index, struct pn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (pd_index < 0 || (uint32_t)pd_index >= sys->n_pds) {
        return; /* left without its magic, so pn_config_valid() rejects it */
    }
    const struct sd_pd *pd = &sys->pds[pd_index];
    cfg->magic = PN_CONFIG_MAGIC;
    cfg->version = PN_CONFIG_VERSION;
    copy_name(cfg->name, pd->name);
    cfg->priority = pd->priority;

    for (uint32_t i = 0; i < pd->n_maps && i < PN_CONFIG_MAX_REGIONS; i++) {
        const struct sd_map *map = &pd->maps[i];
        struct pn_config_region *region = &cfg->regions[cfg->n_regions++];
        copy_name(region->name, map->name);
        region->vaddr = map->has_vaddr ? map->vaddr : 0;
        region->size = sys->regions[map->region].size;
        region->rights = map->rights;
    }

    for (uint32_t i = 0; i < pd->n_irqs && cfg->n_channels < PN_CONFIG_MAX_CHANNELS; i++) {
        struct pn_config_channel *channel = &cfg->channels[cfg->n_channels++];
        copy_name(channel->name, pd->irqs[i].name);
        channel->id = pd->irqs[i].id;
        channel->flags = PN_CHANNEL_IRQ;
    }
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        for (int e = 0; e < 2; e++) {
            const struct sd_channel_end *end = &sys->channels[c].ends[e];
            if (end->pd != pd_index || cfg->n_channels == PN_CONFIG_MAX_CHANNELS) {
                continue;
            }
            struct pn_config_channel *channel = &cfg->channels[cfg->n_channels++];
            copy_name(channel->name, end->name);
            channel->id = end->id;
            channel->flags = 0;
        }
    }
    /* By id, so that a PD's configuration reads the same however the file is ordered. */
    qsort(cfg->channels, cfg->n_channels, sizeof cfg->channels[0], by_id);

    for (uint32_t i = 0; i < pd->n_params && i < PN_CONFIG_MAX_PARAMS; i++) {
        copy_name(cfg->params[i].key, pd->params[i].key);
        strncpy(cfg->params[i].value, pd->params[i].value, PN_PARAM_VALUE_MAX - 1);
        cfg->n_params++;
    }
}
