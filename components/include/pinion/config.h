/*
 * The generated configuration of one protection domain: everything a
 * component knows about its wiring (mapped regions, channels, parameters
 * such as MAC addresses or queue capacities) comes from here, never from
 * constants in its source.
 *
 * The layout is fixed-width so the same bytes are written by host tools and
 * read by target code. The image tool places it in the PD's memory; the
 * hosted backend fills one per component instance.
 */
#ifndef PINION_CONFIG_H
#define PINION_CONFIG_H

#include <stdint.h>

#define PN_CONFIG_MAGIC        0x434e4950u /* "PINC" */
#define PN_CONFIG_VERSION      1u
#define PN_NAME_MAX            32 /* including the terminating NUL */
#define PN_PARAM_VALUE_MAX     64
#define PN_CONFIG_MAX_REGIONS  16
#define PN_CONFIG_MAX_CHANNELS 63 /* channel ids 0..62, as in Microkit */
#define PN_CONFIG_MAX_PARAMS   16

enum pn_rights {
    PN_RIGHT_READ = 1u << 0,
    PN_RIGHT_WRITE = 1u << 1,
    PN_RIGHT_EXECUTE = 1u << 2,
};

enum pn_channel_flags {
    PN_CHANNEL_IRQ = 1u << 0, /* a device interrupt, acknowledged with pn_irq_ack */
};

struct pn_config_region {
    char name[PN_NAME_MAX]; /* the map's local name, as the component asks for it */
    uint64_t vaddr;         /* 0 for a map with no rights: nothing is mapped */
    /*
     * Where devices see it (no IOMMU: its physical address), for a driver
     * that hands buffers to a device or a multiplexer that translates
     * offsets into device addresses.
     */
    uint64_t paddr;
    uint64_t size;
    uint32_t rights; /* enum pn_rights; 0: the PD knows the region but cannot touch it */
    uint32_t reserved;
};

struct pn_config_channel {
    char name[PN_NAME_MAX]; /* the channel end's local name */
    uint32_t id;
    uint32_t flags; /* enum pn_channel_flags */
};

struct pn_config_param {
    char key[PN_NAME_MAX];
    char value[PN_PARAM_VALUE_MAX];
};

struct pn_config {
    uint32_t magic;
    uint32_t version;
    char name[PN_NAME_MAX]; /* the PD's name in the system description */
    uint32_t n_regions;
    uint32_t n_channels;
    uint32_t n_params;
    uint32_t priority;
    struct pn_config_region regions[PN_CONFIG_MAX_REGIONS];
    struct pn_config_channel channels[PN_CONFIG_MAX_CHANNELS];
    struct pn_config_param params[PN_CONFIG_MAX_PARAMS];
};

/*
 * Lookups over a configuration; freestanding, shared by every backend.
 * Each returns NULL (or false) when the name is absent.
 */
#include <stdbool.h>

const struct pn_config_region *pn_config_region(const struct pn_config *cfg, const char *name);
const struct pn_config_channel *pn_config_channel(const struct pn_config *cfg, const char *name);
const char *pn_config_param(const struct pn_config *cfg, const char *key);
bool pn_config_valid(const struct pn_config *cfg);

#endif
