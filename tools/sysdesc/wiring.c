/*
 * What connects the PDs: "regions", "maps" of regions into PDs, and
 * "channels" between two PDs.
 */
#include "sd_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const region_fields[] = {"name", "size", "phys", NULL};
static const char *const map_fields[] = {"pd", "region", "name", "vaddr", "rights", "cached", NULL};
static const char *const channel_fields[] = {"name", "ends", NULL};
static const char *const end_fields[] = {"pd", "name", "id", NULL};

/*
 * Two regions at fixed physical addresses must not share a byte: one device
 * is one region, mapped as often as needed, so an overlap is a typo.
 */
static bool check_phys(struct sd_ctx *ctx, const char *where)
{
    const struct sd_system *sys = ctx->sys;
    const struct sd_region *region = &sys->regions[sys->n_regions];
    uint64_t start = region->phys, end = start + region->size;
    if (region->size > SD_ADDRESS_LIMIT - start) {
        return sd_fail(
            ctx, "%s: phys 0x%" PRIx64 " + size 0x%" PRIx64 " ends beyond the 48-bit address space",
            where, region->phys, region->size);
    }
    for (uint32_t r = 0; r < sys->n_regions; r++) {
        const struct sd_region *other = &sys->regions[r];
        if (!other->has_phys) {
            continue;
        }
        uint64_t other_end = other->phys + other->size;
        if (start < other_end && other->phys < end) {
            return sd_fail(ctx,
                           "%s: phys [0x%" PRIx64 ", 0x%" PRIx64
                           ") overlaps regions[%u] \"%s\" at [0x%" PRIx64 ", 0x%" PRIx64 ")",
                           where, start, end, r, other->name, other->phys, other_end);
        }
    }
    return true;
}

bool sd_parse_regions(struct sd_ctx *ctx, const json_t *regions)
{
    struct sd_system *sys = ctx->sys;
    size_t index;
    json_t *element;
    json_array_foreach(regions, index, element)
    {
        char where[SD_WHERE_MAX];
        sd_label_element(where, sizeof where, "regions", index, element);
        if (!json_is_object(element)) {
            return sd_fail(ctx, "%s must be an object, not %s", where, sd_json_type_name(element));
        }
        if (sys->n_regions == SD_MAX_REGIONS) {
            return sd_fail(ctx, "%s: more than %d regions", where, SD_MAX_REGIONS);
        }
        struct sd_region *region = &sys->regions[sys->n_regions];
        if (!sd_check_fields(ctx, where, element, region_fields) ||
            !sd_get_name(ctx, where, element, "name", true, region->name, NULL)) {
            return false;
        }
        int other = sd_find_region(sys, region->name);
        if (other >= 0) {
            return sd_fail(ctx, "%s: duplicate region name \"%s\" (also regions[%d])", where,
                           region->name, other);
        }
        if (!sd_get_size(ctx, where, element, "size", true, &region->size, NULL) ||
            !sd_get_address(ctx, where, element, "phys", false, &region->phys, &region->has_phys) ||
            (region->has_phys && !check_phys(ctx, where))) {
            return false;
        }
        sys->n_regions++;
    }
    return true;
}

static bool parse_rights(struct sd_ctx *ctx, const char *where, const json_t *element,
                         uint32_t *rights)
{
    json_t *value;
    if (!sd_get_value(ctx, where, element, "rights", true, JSON_STRING, &value)) {
        return false;
    }
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    char shown[48];
    sd_quote(shown, sizeof shown, text, len);
    if (len == 0) {
        return sd_fail(ctx, "%s: rights must not be empty (use letters from \"rwx\", or \"none\")",
                       where);
    }
    *rights = 0;
    /* "none": the PD learns where the region is physically, and can touch none of it. */
    if (len == 4 && memcmp(text, "none", 4) == 0) {
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        uint32_t right;
        switch (text[i]) {
        case 'r':
            right = PN_RIGHT_READ;
            break;
        case 'w':
            right = PN_RIGHT_WRITE;
            break;
        case 'x':
            right = PN_RIGHT_EXECUTE;
            break;
        default:
            return sd_fail(ctx,
                           "%s: rights %s may hold only the letters r, w and x, or be \"none\"",
                           where, shown);
        }
        if (*rights & right) {
            return sd_fail(ctx, "%s: rights %s name '%c' twice", where, shown, text[i]);
        }
        *rights |= right;
    }
    return true;
}

/* Device memory is uncached unless the map asks otherwise; RAM is cached unless it asks. */
static bool parse_cached(struct sd_ctx *ctx, const char *where, const json_t *element,
                         const struct sd_region *region, bool *cached)
{
    json_t *value;
    if (!sd_get_value(ctx, where, element, "cached", false, SD_ANY_TYPE, &value)) {
        return false;
    }
    if (value == NULL) {
        *cached = !region->has_phys;
        return true;
    }
    if (!json_is_boolean(value)) {
        return sd_fail(ctx, "%s: field \"cached\" must be a boolean, not %s", where,
                       sd_json_type_name(value));
    }
    *cached = json_is_true(value);
    return true;
}

/* Looks up a PD or region named by string field `key`; -1 after a message when there is none. */
static int find_named(struct sd_ctx *ctx, const char *where, const json_t *element, const char *key,
                      bool is_pd)
{
    json_t *value;
    if (!sd_get_value(ctx, where, element, key, true, JSON_STRING, &value)) {
        return -1;
    }
    const char *name = json_string_value(value);
    int found = is_pd ? sd_find_pd(ctx->sys, name) : sd_find_region(ctx->sys, name);
    if (found < 0) {
        char shown[48];
        sd_quote(shown, sizeof shown, name, json_string_length(value));
        sd_fail(ctx, "%s: unknown %s %s", where, is_pd ? "PD" : "region", shown);
    }
    return found;
}

/* Two maps of one PD at given addresses must not share a byte of address space. */
static bool check_overlap(struct sd_ctx *ctx, const char *where, int pd_index)
{
    const struct sd_pd *pd = &ctx->sys->pds[pd_index];
    const struct sd_map *map = &pd->maps[pd->n_maps];
    if (!map->has_vaddr) {
        return true;
    }
    uint64_t start = map->vaddr, end = start + ctx->sys->regions[map->region].size;
    for (uint32_t i = 0; i < pd->n_maps; i++) {
        const struct sd_map *other = &pd->maps[i];
        if (!other->has_vaddr) {
            continue;
        }
        uint64_t other_start = other->vaddr;
        uint64_t other_end = other_start + ctx->sys->regions[other->region].size;
        if (start < other_end && other_start < end) {
            return sd_fail(ctx,
                           "%s: [0x%" PRIx64 ", 0x%" PRIx64
                           ") overlaps maps[%d] \"%s\" at [0x%" PRIx64 ", 0x%" PRIx64
                           ") in PD \"%s\"",
                           where, start, end, ctx->pd[pd_index].map_index[i], other->name,
                           other_start, other_end, pd->name);
        }
    }
    return true;
}

static bool parse_map(struct sd_ctx *ctx, size_t index, const json_t *element)
{
    struct sd_system *sys = ctx->sys;
    char where[SD_WHERE_MAX];
    snprintf(where, sizeof where, "maps[%zu]", index);
    if (!json_is_object(element)) {
        return sd_fail(ctx, "%s must be an object, not %s", where, sd_json_type_name(element));
    }
    if (!sd_check_fields(ctx, where, element, map_fields)) {
        return false;
    }
    int pd_index = find_named(ctx, where, element, "pd", true);
    int region_index = pd_index < 0 ? -1 : find_named(ctx, where, element, "region", false);
    if (region_index < 0) {
        return false;
    }
    struct sd_pd *pd = &sys->pds[pd_index];
    const struct sd_region *region = &sys->regions[region_index];
    snprintf(where, sizeof where, "maps[%zu] (PD \"%s\", region \"%s\")", index, pd->name,
             region->name);
    if (pd->n_maps == PN_CONFIG_MAX_REGIONS) {
        return sd_fail(ctx, "%s: PD \"%s\" maps more than %d regions", where, pd->name,
                       PN_CONFIG_MAX_REGIONS);
    }
    struct sd_map *map = &pd->maps[pd->n_maps];
    bool named;
    if (!sd_get_name(ctx, where, element, "name", false, map->name, &named)) {
        return false;
    }
    if (!named) {
        sd_copy_name(map->name, region->name);
    }
    for (uint32_t i = 0; i < pd->n_maps; i++) {
        if (strcmp(pd->maps[i].name, map->name) == 0) {
            return sd_fail(ctx, "%s: PD \"%s\" already has a map named \"%s\" (maps[%d])", where,
                           pd->name, map->name, ctx->pd[pd_index].map_index[i]);
        }
    }
    map->region = region_index;
    if (!sd_get_address(ctx, where, element, "vaddr", false, &map->vaddr, &map->has_vaddr) ||
        !parse_rights(ctx, where, element, &map->rights) ||
        !parse_cached(ctx, where, element, region, &map->cached)) {
        return false;
    }
    if (map->rights == 0 && map->has_vaddr) {
        return sd_fail(ctx, "%s: a map with rights \"none\" maps nothing, so it takes no vaddr",
                       where);
    }
    if (map->has_vaddr && map->vaddr + region->size > SD_ADDRESS_LIMIT) {
        return sd_fail(ctx,
                       "%s: vaddr 0x%" PRIx64 " + size 0x%" PRIx64
                       " ends beyond the 48-bit address space",
                       where, map->vaddr, region->size);
    }
    if (!check_overlap(ctx, where, pd_index)) {
        return false;
    }
    ctx->pd[pd_index].map_index[pd->n_maps] = (int)index;
    pd->n_maps++;
    return true;
}

bool sd_parse_maps(struct sd_ctx *ctx, const json_t *maps)
{
    size_t index;
    json_t *element;
    json_array_foreach(maps, index, element)
    {
        if (!parse_map(ctx, index, element)) {
            return false;
        }
    }
    return true;
}

/* A local channel name must be unique among the IRQs and channel ends of its PD. */
static bool check_local_name(struct sd_ctx *ctx, const char *where, int channel_index, int end)
{
    const struct sd_system *sys = ctx->sys;
    const struct sd_channel_end *this_end = &sys->channels[channel_index].ends[end];
    const struct sd_pd *pd = &sys->pds[this_end->pd];
    struct sd_owner clash = {.kind = SD_OWNER_NONE};
    for (uint32_t i = 0; i < pd->n_irqs && clash.kind == SD_OWNER_NONE; i++) {
        if (strcmp(pd->irqs[i].name, this_end->name) == 0) {
            clash = (struct sd_owner){.kind = SD_OWNER_IRQ, .index = (int)i};
        }
    }
    for (int c = 0; c < channel_index && clash.kind == SD_OWNER_NONE; c++) {
        for (int e = 0; e < 2; e++) {
            const struct sd_channel_end *other = &sys->channels[c].ends[e];
            if (other->pd == this_end->pd && strcmp(other->name, this_end->name) == 0) {
                clash = (struct sd_owner){.kind = SD_OWNER_END, .index = c, .end = e};
            }
        }
    }
    if (clash.kind == SD_OWNER_NONE) {
        return true;
    }
    char other[SD_WHERE_MAX];
    sd_describe_owner(ctx, this_end->pd, clash, other, sizeof other);
    return sd_fail(ctx, "%s: end %d: PD \"%s\" already has a channel or IRQ named \"%s\" (%s)",
                   where, end, pd->name, this_end->name, other);
}

static bool parse_end(struct sd_ctx *ctx, const char *where, int channel_index, int end,
                      const json_t *element)
{
    struct sd_system *sys = ctx->sys;
    struct sd_channel *channel = &sys->channels[channel_index];
    struct sd_channel_end *this_end = &channel->ends[end];
    json_t *pd_name = (json_t *)element;
    long long id = 0;
    bool has_id = false, named = false;
    if (json_is_object(element)) {
        char end_where[SD_WHERE_MAX + 16];
        snprintf(end_where, sizeof end_where, "%s: end %d", where, end);
        if (!sd_check_fields(ctx, end_where, element, end_fields) ||
            !sd_get_value(ctx, end_where, element, "pd", true, JSON_STRING, &pd_name) ||
            !sd_get_name(ctx, end_where, element, "name", false, this_end->name, &named) ||
            !sd_get_int(ctx, end_where, element, "id", false, 0, PN_CONFIG_MAX_CHANNELS - 1, &id,
                        &has_id)) {
            return false;
        }
    } else if (!json_is_string(element)) {
        return sd_fail(ctx, "%s: end %d must be a PD name or an object, not %s", where, end,
                       sd_json_type_name(element));
    }
    this_end->pd = sd_find_pd(sys, json_string_value(pd_name));
    if (this_end->pd < 0) {
        char shown[48];
        sd_quote(shown, sizeof shown, json_string_value(pd_name), json_string_length(pd_name));
        return sd_fail(ctx, "%s: end %d names unknown PD %s", where, end, shown);
    }
    if (!named) {
        sd_copy_name(this_end->name, channel->name);
    }
    const struct sd_pd *pd = &sys->pds[this_end->pd];
    struct sd_pd_state *state = &ctx->pd[this_end->pd];
    if (end == 1 && channel->ends[0].pd == this_end->pd) {
        return sd_fail(ctx, "%s: both ends are at PD \"%s\"", where, pd->name);
    }
    if (!check_local_name(ctx, where, channel_index, end)) {
        return false;
    }
    if (pd->n_irqs + state->n_ends == PN_CONFIG_MAX_CHANNELS) {
        return sd_fail(ctx,
                       "%s: end %d: PD \"%s\" has more than %d channel ids (channels and "
                       "IRQs together)",
                       where, end, pd->name, PN_CONFIG_MAX_CHANNELS);
    }
    if (has_id) {
        struct sd_owner *owner = &state->id_owner[id];
        if (owner->kind != SD_OWNER_NONE) {
            char other[SD_WHERE_MAX];
            sd_describe_owner(ctx, this_end->pd, *owner, other, sizeof other);
            return sd_fail(ctx, "%s: end %d: id %lld at PD \"%s\" is already used by %s", where,
                           end, id, pd->name, other);
        }
        *owner = (struct sd_owner){.kind = SD_OWNER_END, .index = channel_index, .end = end};
        this_end->id = (uint32_t)id;
        ctx->end_id_given[channel_index][end] = true;
    }
    state->n_ends++;
    return true;
}

static bool parse_channel(struct sd_ctx *ctx, size_t index, const json_t *element)
{
    struct sd_system *sys = ctx->sys;
    char where[SD_WHERE_MAX];
    sd_label_element(where, sizeof where, "channels", index, element);
    if (!json_is_object(element)) {
        return sd_fail(ctx, "%s must be an object, not %s", where, sd_json_type_name(element));
    }
    if (sys->n_channels == SD_MAX_CHANNELS) {
        return sd_fail(ctx, "%s: more than %d channels", where, SD_MAX_CHANNELS);
    }
    struct sd_channel *channel = &sys->channels[sys->n_channels];
    if (!sd_check_fields(ctx, where, element, channel_fields) ||
        !sd_get_name(ctx, where, element, "name", true, channel->name, NULL)) {
        return false;
    }
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        if (strcmp(sys->channels[c].name, channel->name) == 0) {
            return sd_fail(ctx, "%s: duplicate channel name \"%s\" (also channels[%u])", where,
                           channel->name, c);
        }
    }
    json_t *ends;
    if (!sd_get_value(ctx, where, element, "ends", true, JSON_ARRAY, &ends)) {
        return false;
    }
    if (json_array_size(ends) != 2) {
        return sd_fail(ctx, "%s: ends must hold exactly 2 ends, not %zu", where,
                       json_array_size(ends));
    }
    for (int end = 0; end < 2; end++) {
        if (!parse_end(ctx, where, (int)sys->n_channels, end, json_array_get(ends, (size_t)end))) {
            return false;
        }
    }
    sys->n_channels++;
    return true;
}

bool sd_parse_channels(struct sd_ctx *ctx, const json_t *channels)
{
    size_t index;
    json_t *element;
    json_array_foreach(channels, index, element)
    {
        if (!parse_channel(ctx, index, element)) {
            return false;
        }
    }
    return true;
}
