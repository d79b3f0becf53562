/*
 * Lookups over a PD's generated configuration, shared by every backend.
 * Freestanding: no libc, since target PDs link no C library.
 */
#include <pinion/component.h>
#include <pinion/config.h>

static bool names_equal(const char *a, const char *b, unsigned max)
{
    for (unsigned i = 0; i < max; i++) {
        if (a[i] != b[i]) {
            return false;
        }
        if (a[i] == '\0') {
            return true;
        }
    }
    /* A name without NUL inside its field is corrupt: never matches. */
    return false;
}

bool pn_config_valid(const struct pn_config *cfg)
{
    return cfg != 0 && cfg->magic == PN_CONFIG_MAGIC && cfg->version == PN_CONFIG_VERSION &&
           cfg->n_regions <= PN_CONFIG_MAX_REGIONS && cfg->n_channels <= PN_CONFIG_MAX_CHANNELS &&
           cfg->n_params <= PN_CONFIG_MAX_PARAMS;
}

const struct pn_config_region *pn_config_region(const struct pn_config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->n_regions; i++) {
        if (names_equal(cfg->regions[i].name, name, PN_NAME_MAX)) {
            return &cfg->regions[i];
        }
    }
    return 0;
}

const struct pn_config_channel *pn_config_channel(const struct pn_config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->n_channels; i++) {
        if (names_equal(cfg->channels[i].name, name, PN_NAME_MAX)) {
            return &cfg->channels[i];
        }
    }
    return 0;
}

const char *pn_config_param(const struct pn_config *cfg, const char *key)
{
    for (uint32_t i = 0; i < cfg->n_params; i++) {
        if (names_equal(cfg->params[i].key, key, PN_NAME_MAX)) {
            const char *value = cfg->params[i].value;
            /* Only hand out NUL-terminated values. */
            for (unsigned j = 0; j < PN_PARAM_VALUE_MAX; j++) {
                if (value[j] == '\0') {
                    return value;
                }
            }
            return 0;
        }
    }
    return 0;
}

void *pn_region(const char *name, uint64_t *size)
{
    const struct pn_config_region *r = pn_config_region(pn_config(), name);
    if (r == 0 || r->rights == 0) {
        return 0;
    }
    if (size) {
        *size = r->size;
    }
    return (void *)(uintptr_t)r->vaddr;
}

bool pn_region_paddr(const char *name, uint64_t *paddr, uint64_t *size)
{
    const struct pn_config_region *r = pn_config_region(pn_config(), name);
    if (r == 0) {
        return false;
    }
    *paddr = r->paddr;
    if (size) {
        *size = r->size;
    }
    return true;
}

bool pn_channel_named(const char *name, pn_channel *ch)
{
    const struct pn_config_channel *c = pn_config_channel(pn_config(), name);
    if (c == 0) {
        return false;
    }
    *ch = c->id;
    return true;
}

const char *pn_param(const char *key)
{
    return pn_config_param(pn_config(), key);
}
