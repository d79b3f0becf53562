/*
 * libFuzzer harness for the system-description loader. Besides crashes and
 * sanitizer reports, it traps when a description that loaded breaks what
 * loading promises (every name and id valid and unique where it must be),
 * since users of a loaded system do not check again.
 */
#include "sysdesc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct sd_system *sys;
static struct pn_config cfg;

static void require(bool condition)
{
    if (!condition) {
        __builtin_trap();
    }
}

static void check_name(const char *name)
{
    size_t len = strlen(name);
    require(len > 0 && len < PN_NAME_MAX);
}

static void check_config(int pd_index)
{
    const struct sd_pd *pd = &sys->pds[pd_index];
    sd_build_config(sys, pd_index, &cfg);
    require(cfg.magic == PN_CONFIG_MAGIC && cfg.version == PN_CONFIG_VERSION);
    require(strcmp(cfg.name, pd->name) == 0);
    require(cfg.n_regions == pd->n_maps && cfg.n_regions <= PN_CONFIG_MAX_REGIONS);
    require(cfg.n_params == pd->n_params && cfg.n_params <= PN_CONFIG_MAX_PARAMS);
    require(cfg.n_channels <= PN_CONFIG_MAX_CHANNELS);
    for (uint32_t i = 0; i < cfg.n_regions; i++) {
        require(cfg.regions[i].size != 0 && cfg.regions[i].size % SD_PAGE_SIZE == 0);
        require(cfg.regions[i].vaddr % SD_PAGE_SIZE == 0);
        require(cfg.regions[i].rights <= 7);
        /* Rights "none": the region is known, not mapped, so it has no address. */
        require(cfg.regions[i].rights != 0 || cfg.regions[i].vaddr == 0);
    }
    uint64_t ids_seen = 0;
    for (uint32_t i = 0; i < cfg.n_channels; i++) {
        const struct pn_config_channel *channel = &cfg.channels[i];
        check_name(channel->name);
        require(channel->id < PN_CONFIG_MAX_CHANNELS);
        require((ids_seen & (UINT64_C(1) << channel->id)) == 0);
        ids_seen |= UINT64_C(1) << channel->id;
        for (uint32_t j = 0; j < i; j++) {
            require(strcmp(cfg.channels[j].name, channel->name) != 0);
        }
        int end = -1;
        int found = sd_channel_of(sys, pd_index, channel->id, &end);
        if (channel->flags & PN_CHANNEL_IRQ) {
            require(found < 0);
        } else {
            require(found >= 0 && (end == 0 || end == 1));
            const struct sd_channel *link = &sys->channels[found];
            require(link->ends[end].pd == pd_index);
            require(link->ends[1 - end].pd != pd_index);
        }
    }
}

/* Devices: unique names and slots; every device a VM passes through exists. */
static void check_devices(void)
{
    require(sys->n_devices <= SD_MAX_DEVICES);
    for (uint32_t d = 0; d < sys->n_devices; d++) {
        check_name(sys->devices[d].name);
        require(sd_find_device(sys, sys->devices[d].name) == (int)d);
        require(sys->devices[d].slot < SD_VIRTIO_SLOTS);
        for (uint32_t e = 0; e < d; e++) {
            require(sys->devices[e].slot != sys->devices[d].slot);
        }
    }
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        const struct sd_pd *pd = &sys->pds[p];
        for (uint32_t d = 0; pd->kind == SD_KIND_VM && d < pd->vm.n_devices; d++) {
            require(sd_find_device(sys, pd->vm.devices[d]) >= 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sys == NULL) {
        sys = sd_system_new();
        if (sys == NULL) {
            abort();
        }
    }
    struct sd_error err;
    if (!sd_load_buffer((const char *)data, size, "fuzz.json", sys, &err)) {
        size_t len = strlen(err.message);
        require(len > 0 && len < SD_ERROR_MAX && memchr(err.message, '\n', len) == NULL);
        return 0;
    }
    require(sys->n_pds > 0 && sys->n_pds <= SD_MAX_PDS);
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        check_name(sys->pds[p].name);
        require(sd_find_pd(sys, sys->pds[p].name) == (int)p);
        check_config((int)p);
    }
    for (uint32_t r = 0; r < sys->n_regions; r++) {
        require(sd_find_region(sys, sys->regions[r].name) == (int)r);
    }
    check_devices();
    return 0;
}
