/*
 * Partitions of a block device: the share of the disk each client of a
 * block virtualiser gets. They are checked where a description can get
 * them wrong (geometry, the PDs named, the queues between the virtualiser
 * and each client), then handed to the virtualiser and to each client as
 * generated params, so that no share is written twice, by hand, in two
 * places that could disagree.
 */
#include "sd_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const partition_fields[] = {"client", "start", "size", NULL};

static void device_label(const struct sd_system *sys, uint32_t index, char *out, size_t size)
{
    snprintf(out, size, "devices[%u] \"%s\"", index, sys->devices[index].name);
}

static bool overlaps(const struct sd_partition *a, const struct sd_partition *b)
{
    return a->start < b->start + b->size && b->start < a->start + a->size;
}

static bool parse_one(struct sd_ctx *ctx, const char *at, const json_t *element,
                      const struct sd_device *device, struct sd_partition *partition)
{
    if (!json_is_object(element)) {
        return sd_fail(ctx, "%s must be an object, not %s", at, sd_json_type_name(element));
    }
    if (!sd_check_fields(ctx, at, element, partition_fields) ||
        !sd_get_name(ctx, at, element, "client", true, partition->client, NULL) ||
        !sd_get_bytes(ctx, at, element, "start", true, &partition->start, NULL) ||
        !sd_get_bytes(ctx, at, element, "size", true, &partition->size, NULL)) {
        return false;
    }
    partition->client_pd = -1;
    char start[32], size[32], disk[32];
    sd_format_size(start, sizeof start, partition->start);
    sd_format_size(size, sizeof size, partition->size);
    sd_format_size(disk, sizeof disk, device->size);
    if (partition->size == 0) {
        return sd_fail(ctx, "%s: size must not be zero", at);
    }
    if (partition->start % device->block_size != 0 || partition->size % device->block_size != 0) {
        return sd_fail(ctx, "%s: start %s and size %s must be multiples of the block size (%u)", at,
                       start, size, device->block_size);
    }
    if (partition->start >= device->size || partition->size > device->size - partition->start) {
        return sd_fail(ctx, "%s: start %s plus size %s runs past the end of the disk (%s)", at,
                       start, size, disk);
    }
    return true;
}

bool sd_parse_partitions(struct sd_ctx *ctx, const char *where, const json_t *partitions,
                         struct sd_device *device)
{
    if (json_array_size(partitions) == 0) {
        return sd_fail(ctx, "%s: \"partitions\" is empty", where);
    }
    size_t index;
    json_t *element;
    json_array_foreach(partitions, index, element)
    {
        char at[SD_WHERE_MAX];
        snprintf(at, sizeof at, "%s: partitions[%zu]", where, index);
        if (device->n_partitions == SD_MAX_PARTITIONS) {
            return sd_fail(ctx, "%s: more than %d partitions", where, SD_MAX_PARTITIONS);
        }
        struct sd_partition *partition = &device->partitions[device->n_partitions];
        if (!parse_one(ctx, at, element, device, partition)) {
            return false;
        }
        for (uint32_t other = 0; other < device->n_partitions; other++) {
            if (strcmp(device->partitions[other].client, partition->client) == 0) {
                return sd_fail(ctx, "%s: client \"%s\" already has partitions[%u]", at,
                               partition->client, other);
            }
            if (overlaps(partition, &device->partitions[other])) {
                return sd_fail(ctx, "%s overlaps partitions[%u]", at, other);
            }
        }
        device->n_partitions++;
    }
    return true;
}

/* The region `pd` maps under local name `name`, or -1. */
static int region_mapped_as(const struct sd_pd *pd, const char *name)
{
    for (uint32_t i = 0; i < pd->n_maps; i++) {
        if (strcmp(pd->maps[i].name, name) == 0) {
            return pd->maps[i].region;
        }
    }
    return -1;
}

static bool maps_region(const struct sd_pd *pd, int region)
{
    for (uint32_t i = 0; i < pd->n_maps; i++) {
        if (pd->maps[i].region == region) {
            return true;
        }
    }
    return false;
}

/*
 * The virtualiser reaches partition N's client through its maps "clientN"
 * (the queue pair) and "clientN_data" (the client's data region): both
 * must be regions the client maps too, or the virtualiser would give the
 * partition to whoever else shares them.
 */
static bool check_wiring(struct sd_ctx *ctx, const char *where, uint32_t n,
                         const struct sd_pd *virtualiser, const struct sd_pd *client)
{
    char local[2][PN_NAME_MAX];
    snprintf(local[0], sizeof local[0], "client%u", n);
    snprintf(local[1], sizeof local[1], "client%u_data", n);
    const char *role[2] = {"its queue pair with", "the data region of"};
    for (int i = 0; i < 2; i++) {
        int region = region_mapped_as(virtualiser, local[i]);
        if (region < 0) {
            return sd_fail(ctx,
                           "%s: partitions[%u]: virtualiser \"%s\" maps no region as \"%s\" "
                           "(%s the partition's client)",
                           where, n, virtualiser->name, local[i], role[i]);
        }
        if (!maps_region(client, region)) {
            return sd_fail(ctx,
                           "%s: partitions[%u] is for \"%s\", but region \"%s\", which "
                           "\"%s\" maps as \"%s\", is not mapped by \"%s\"",
                           where, n, client->name, ctx->sys->regions[region].name,
                           virtualiser->name, local[i], client->name);
        }
    }
    return true;
}

/* Appends a generated param, which the description must not set itself. */
static bool add_param(struct sd_ctx *ctx, int pd_index, const char *from, const char *key,
                      uint64_t value)
{
    struct sd_pd *pd = &ctx->sys->pds[pd_index];
    const char *label = ctx->pd[pd_index].label;
    for (uint32_t i = 0; i < pd->n_params; i++) {
        if (strcmp(pd->params[i].key, key) == 0) {
            return sd_fail(ctx,
                           "%s: param \"%s\" is set already, but %s generates it for its "
                           "partitions (and a PD has at most one partition)",
                           label, key, from);
        }
    }
    if (pd->n_params == PN_CONFIG_MAX_PARAMS) {
        return sd_fail(ctx,
                       "%s: no room for param \"%s\", which %s generates for its "
                       "partitions: at most %d params",
                       label, key, from, PN_CONFIG_MAX_PARAMS);
    }
    struct sd_param *param = &pd->params[pd->n_params++];
    sd_copy_name(param->key, key);
    snprintf(param->value, sizeof param->value, "%" PRIu64, value);
    return true;
}

static bool generate_params(struct sd_ctx *ctx, const char *where, const struct sd_device *device)
{
    const char *from = where;
    uint64_t block = device->block_size;
    if (!add_param(ctx, device->virtualiser_pd, from, "block_size", block)) {
        return false;
    }
    for (uint32_t n = 0; n < device->n_partitions; n++) {
        const struct sd_partition *partition = &device->partitions[n];
        char start_key[PN_NAME_MAX], blocks_key[PN_NAME_MAX];
        snprintf(start_key, sizeof start_key, "partition%u_start", n);
        snprintf(blocks_key, sizeof blocks_key, "partition%u_blocks", n);
        if (!add_param(ctx, device->virtualiser_pd, from, start_key, partition->start / block) ||
            !add_param(ctx, device->virtualiser_pd, from, blocks_key, partition->size / block) ||
            !add_param(ctx, partition->client_pd, from, "block_size", block) ||
            !add_param(ctx, partition->client_pd, from, "client_id", n) ||
            !add_param(ctx, partition->client_pd, from, "partition_start",
                       partition->start / block) ||
            !add_param(ctx, partition->client_pd, from, "partition_blocks",
                       partition->size / block)) {
            return false;
        }
    }
    return true;
}

bool sd_check_partitions(struct sd_ctx *ctx)
{
    struct sd_system *sys = ctx->sys;
    for (uint32_t d = 0; d < sys->n_devices; d++) {
        struct sd_device *device = &sys->devices[d];
        if (device->n_partitions == 0) {
            continue;
        }
        char where[SD_LABEL_MAX];
        device_label(sys, d, where, sizeof where);
        device->virtualiser_pd = sd_find_pd(sys, device->virtualiser);
        if (device->virtualiser_pd < 0) {
            return sd_fail(ctx, "%s: virtualiser \"%s\" is not a PD of the system", where,
                           device->virtualiser);
        }
        const struct sd_pd *virtualiser = &sys->pds[device->virtualiser_pd];
        for (uint32_t n = 0; n < device->n_partitions; n++) {
            struct sd_partition *partition = &device->partitions[n];
            partition->client_pd = sd_find_pd(sys, partition->client);
            if (partition->client_pd < 0) {
                return sd_fail(ctx, "%s: partitions[%u]: client \"%s\" is not a PD of the system",
                               where, n, partition->client);
            }
            if (partition->client_pd == device->virtualiser_pd) {
                return sd_fail(ctx, "%s: partitions[%u]: client \"%s\" is the virtualiser itself",
                               where, n, partition->client);
            }
            if (!check_wiring(ctx, where, n, virtualiser, &sys->pds[partition->client_pd])) {
                return false;
            }
        }
        if (!generate_params(ctx, where, device)) {
            return false;
        }
    }
    return true;
}
