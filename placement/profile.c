/*
 * Cost profiles (docs/place.md, "Profiles"): read, checked, and turned into
 * reference cycles. Every cost is {"value", "source"}; a profile that
 * leaves a cost out, or its source, is refused rather than defaulted, so a
 * prediction never rests on a number nobody can trace.
 */
#include "profile.h"

#include "jsonread.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_fields[] = {
    "profile",  "description", "unit",     "reference", "core_types", "events", "smp_kernel",
    "batching", "io",          "defaults", "programs",  "systems",    NULL};

static const char *const event_names[] = {"notify_same_core",
                                          "cross_core_notify",
                                          "cross_core_sgi",
                                          "cross_core_receive",
                                          "sgi_flight",
                                          "device_irq",
                                          "coalesce_timer",
                                          "vm_exit",
                                          "vm_inject",
                                          "copy_per_byte",
                                          "cache_line_same_cluster_ns",
                                          "cache_line_cross_cluster_ns",
                                          "poll_detect_ns",
                                          NULL};

static double *event_slot(struct pl_events *events, size_t index)
{
    double *slots[] = {
        &events->notify_same_core,
        &events->cross_core_notify,
        &events->cross_core_sgi,
        &events->cross_core_receive,
        &events->sgi_flight,
        &events->device_irq,
        &events->coalesce_timer,
        &events->vm_exit,
        &events->vm_inject,
        &events->copy_per_byte,
        &events->line_same_cluster_ns,
        &events->line_cross_cluster_ns,
        &events->poll_detect_ns,
    };
    return slots[index];
}

/* Events measured in time rather than cycles; not scaled by cycles per instruction. */
static bool event_is_time(size_t index)
{
    return strstr(event_names[index], "_ns") != NULL;
}

static bool parse_reference(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *reference;
    static const char *const fields[] = {"type", "cycles_per_instruction", NULL};
    out->reference_cpi = 1.0;
    return jr_member(ctx, "top level", root, "reference", JSON_OBJECT, true, &reference) &&
           jr_check_fields(ctx, "reference", reference, fields) &&
           jr_string(ctx, "reference", reference, "type", true, out->reference_type,
                     sizeof out->reference_type) &&
           jr_cost(ctx, "reference", reference, "cycles_per_instruction", out->instructions,
                   &out->reference_cpi);
}

static bool parse_core_types(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *types;
    if (!jr_member(ctx, "top level", root, "core_types", JSON_OBJECT, true, &types)) {
        return false;
    }
    const char *key;
    json_t *value;
    static const char *const fields[] = {"mhz", "capacity", NULL};
    json_object_foreach(types, key, value)
    {
        if (jr_is_comment(key)) {
            continue;
        }
        char where[128];
        snprintf(where, sizeof where, "core_types \"%.64s\"", key);
        if (out->n_core_types == PL_MAX_CORE_TYPES || strlen(key) >= PL_NAME_MAX) {
            return jr_fail(ctx, "%s: too many core types, or a name too long", where);
        }
        if (!json_is_object(value)) {
            return jr_fail(ctx, "%s: must be an object, not %s", where, jr_type_name(value));
        }
        struct pl_core_type *type = &out->core_types[out->n_core_types++];
        snprintf(type->type, sizeof type->type, "%s", key);
        double mhz = 0, capacity = 1024;
        if (!jr_check_fields(ctx, where, value, fields) ||
            !jr_number(ctx, where, value, "mhz", true, 1, 100000, &mhz) ||
            !jr_number(ctx, where, value, "capacity", false, 1, 1024, &capacity)) {
            return false;
        }
        type->mhz = (uint32_t)mhz;
        type->capacity = (uint32_t)capacity;
    }
    if (pl_profile_core_type(out, out->reference_type) == NULL) {
        return jr_fail(ctx, "core_types: the reference type \"%s\" has no entry",
                       out->reference_type);
    }
    return true;
}

static bool parse_events(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *events;
    if (!jr_member(ctx, "top level", root, "events", JSON_OBJECT, true, &events) ||
        !jr_check_fields(ctx, "events", events, event_names)) {
        return false;
    }
    for (size_t i = 0; event_names[i] != NULL; i++) {
        double *slot = event_slot(&out->events, i);
        if (!jr_cost(ctx, "events", events, event_names[i], true, slot)) {
            return false;
        }
        if (!event_is_time(i)) {
            *slot *= out->reference_cpi;
        }
    }
    return true;
}

static bool parse_smp(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *smp;
    static const char *const fields[] = {"work_factor", "activation_factor", "notify_same_core",
                                         "device_irq", NULL};
    if (!jr_member(ctx, "top level", root, "smp_kernel", JSON_OBJECT, false, &smp)) {
        return false;
    }
    if (smp == NULL) {
        return true;
    }
    out->smp.present = true;
    bool ok =
        jr_check_fields(ctx, "smp_kernel", smp, fields) &&
        jr_cost(ctx, "smp_kernel", smp, "work_factor", true, &out->smp.work_factor) &&
        jr_cost(ctx, "smp_kernel", smp, "activation_factor", true, &out->smp.activation_factor) &&
        jr_cost(ctx, "smp_kernel", smp, "notify_same_core", true, &out->smp.notify_same_core) &&
        jr_cost(ctx, "smp_kernel", smp, "device_irq", true, &out->smp.device_irq);
    out->smp.notify_same_core *= out->reference_cpi;
    out->smp.device_irq *= out->reference_cpi;
    return ok;
}

static bool parse_batching(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *batching;
    static const char *const fields[] = {"shape", "window", "coalesce_count", "coalesce_window_us",
                                         NULL};
    double count = 8, window_us = 50;
    bool ok =
        jr_member(ctx, "top level", root, "batching", JSON_OBJECT, true, &batching) &&
        jr_check_fields(ctx, "batching", batching, fields) &&
        jr_cost(ctx, "batching", batching, "shape", true, &out->batching_shape) &&
        jr_cost(ctx, "batching", batching, "window", true, &out->batching_window) &&
        jr_number(ctx, "batching", batching, "coalesce_count", false, 1, 65535, &count) &&
        jr_number(ctx, "batching", batching, "coalesce_window_us", false, 1, 1000000, &window_us);
    if (ok && (out->batching_window < 1 || out->batching_shape <= 0)) {
        return jr_fail(ctx, "batching: \"window\" must be at least 1 and \"shape\" above 0");
    }
    out->coalesce_count = (uint32_t)count;
    out->coalesce_window_us = (uint32_t)window_us;
    return ok;
}

static bool parse_io(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *io;
    static const char *const fields[] = {
        "unit", "bits", "default_load", "max_load", "external_latency_us", NULL};
    char default_load[64] = "", max_load[64] = "";
    double external_us = 0;
    if (!jr_member(ctx, "top level", root, "io", JSON_OBJECT, true, &io) ||
        !jr_check_fields(ctx, "io", io, fields) ||
        !jr_string(ctx, "io", io, "unit", true, out->io_unit, sizeof out->io_unit) ||
        !jr_cost(ctx, "io", io, "bits", false, &out->io_bits) ||
        !jr_string(ctx, "io", io, "default_load", true, default_load, sizeof default_load) ||
        !jr_string(ctx, "io", io, "max_load", false, max_load, sizeof max_load) ||
        !jr_cost(ctx, "io", io, "external_latency_us", false, &external_us)) {
        return false;
    }
    out->external_latency_ns = external_us * 1000.0;
    struct sd_error inner;
    if (!pl_parse_load(default_load, out, &out->default_rate, &inner)) {
        return jr_fail(ctx, "io.default_load: %s", inner.message);
    }
    if (max_load[0] != '\0' && !pl_parse_load(max_load, out, &out->max_rate, &inner)) {
        return jr_fail(ctx, "io.max_load: %s", inner.message);
    }
    return true;
}

static bool parse_rate(struct jr_ctx *ctx, const char *where, const json_t *value,
                       struct pl_channel_rate *rate)
{
    static const char *const fields[] = {"forward", "backward", "lines", "source", NULL};
    if (!json_is_object(value)) {
        return jr_fail(ctx, "%s: must be an object, not %s", where, jr_type_name(value));
    }
    return jr_check_fields(ctx, where, value, fields) &&
           jr_number(ctx, where, value, "forward", false, 0, 1e6, &rate->forward) &&
           jr_number(ctx, where, value, "backward", false, 0, 1e6, &rate->backward) &&
           jr_number(ctx, where, value, "lines", false, 0, 1e6, &rate->lines);
}

static bool parse_defaults(struct jr_ctx *ctx, const json_t *root, struct pl_profile *out)
{
    json_t *defaults, *channel;
    static const char *const fields[] = {"channel", "activation", NULL};
    out->default_channel.forward = 1;
    if (!jr_member(ctx, "top level", root, "defaults", JSON_OBJECT, false, &defaults)) {
        return false;
    }
    if (defaults == NULL) {
        return true;
    }
    if (!jr_check_fields(ctx, "defaults", defaults, fields) ||
        !jr_cost(ctx, "defaults", defaults, "activation", false, &out->default_activation) ||
        !jr_member(ctx, "defaults", defaults, "channel", JSON_OBJECT, false, &channel)) {
        return false;
    }
    out->default_activation *= out->reference_cpi;
    return channel == NULL || parse_rate(ctx, "defaults.channel", channel, &out->default_channel);
}

static bool parse_work(struct jr_ctx *ctx, const char *where, const json_t *value,
                       const struct pl_profile *profile, struct pl_work *work)
{
    static const char *const fields[] = {"work",  "activation", "irqs", "copy_bytes",
                                         "exits", "source",     NULL};
    if (!json_is_object(value)) {
        return jr_fail(ctx, "%s: must be an object, not %s", where, jr_type_name(value));
    }
    if (!jr_check_fields(ctx, where, value, fields) ||
        !jr_number(ctx, where, value, "work", true, 0, 1e12, &work->work) ||
        !jr_number(ctx, where, value, "irqs", false, 0, 1e6, &work->irqs) ||
        !jr_number(ctx, where, value, "copy_bytes", false, 0, 1e12, &work->copy_bytes) ||
        !jr_number(ctx, where, value, "exits", false, 0, 1e6, &work->exits) ||
        !jr_string(ctx, where, value, "source", true, work->source, sizeof work->source)) {
        return false;
    }
    work->has_activation = json_object_get(value, "activation") != NULL;
    if (!jr_number(ctx, where, value, "activation", false, 0, 1e12, &work->activation)) {
        return false;
    }
    if (work->source[0] == '\0') {
        return jr_fail(ctx, "%s: \"source\" is empty; say where the numbers come from", where);
    }
    work->work *= profile->reference_cpi;
    work->activation *= profile->reference_cpi;
    return true;
}

static bool parse_work_table(struct jr_ctx *ctx, const char *what, const json_t *table,
                             const struct pl_profile *profile, struct pl_work *works, uint32_t *n)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)table, key, value)
    {
        if (jr_is_comment(key)) {
            continue;
        }
        char where[160];
        snprintf(where, sizeof where, "%s \"%.64s\"", what, key);
        if (*n == PL_MAX_WORK || strlen(key) >= PL_NAME_MAX) {
            return jr_fail(ctx, "%s: more than %d entries, or a name too long", where, PL_MAX_WORK);
        }
        struct pl_work *work = &works[*n];
        memset(work, 0, sizeof *work);
        snprintf(work->name, sizeof work->name, "%s", key);
        if (!parse_work(ctx, where, value, profile, work)) {
            return false;
        }
        (*n)++;
    }
    return true;
}

static bool parse_flows(struct jr_ctx *ctx, const char *where, const json_t *flows,
                        struct pl_profile *out)
{
    size_t index;
    json_t *flow;
    static const char *const fields[] = {"share", "path", "name", NULL};
    json_array_foreach(flows, index, flow)
    {
        char at[192];
        snprintf(at, sizeof at, "%s.flows[%zu]", where, index);
        if (index == PL_MAX_FLOWS) {
            return jr_fail(ctx, "%s: at most %d flows", at, PL_MAX_FLOWS);
        }
        json_t *path;
        struct pl_flow_spec *spec = &out->flows[out->n_flows];
        spec->share = 1.0;
        if (!json_is_object(flow) || !jr_check_fields(ctx, at, flow, fields) ||
            !jr_number(ctx, at, flow, "share", false, 0, 1, &spec->share) ||
            !jr_member(ctx, at, flow, "path", JSON_ARRAY, true, &path)) {
            return json_is_object(flow) ? false : jr_fail(ctx, "%s: must be an object", at);
        }
        size_t hop;
        json_t *name;
        json_array_foreach(path, hop, name)
        {
            if (hop == PL_MAX_PATH || !json_is_string(name) ||
                json_string_length(name) >= PL_NAME_MAX) {
                return jr_fail(ctx, "%s: path[%zu] must be a PD name (at most %d hops)", at, hop,
                               PL_MAX_PATH);
            }
            snprintf(spec->path[hop], PL_NAME_MAX, "%s", json_string_value(name));
            spec->n++;
        }
        if (spec->n == 0) {
            return jr_fail(ctx, "%s: the path is empty", at);
        }
        out->n_flows++;
    }
    return true;
}

static bool parse_system(struct jr_ctx *ctx, const json_t *root, const char *system_name,
                         struct pl_profile *out)
{
    json_t *systems, *section, *work, *channels, *flows;
    if (!jr_member(ctx, "top level", root, "systems", JSON_OBJECT, false, &systems)) {
        return false;
    }
    section = systems != NULL ? json_object_get(systems, system_name) : NULL;
    if (section == NULL) {
        return true;
    }
    char where[128];
    snprintf(where, sizeof where, "systems \"%s\"", system_name);
    static const char *const fields[] = {"work", "channels", "flows", "description", NULL};
    if (!json_is_object(section) || !jr_check_fields(ctx, where, section, fields) ||
        !jr_member(ctx, where, section, "work", JSON_OBJECT, false, &work) ||
        !jr_member(ctx, where, section, "channels", JSON_OBJECT, false, &channels) ||
        !jr_member(ctx, where, section, "flows", JSON_ARRAY, false, &flows)) {
        return json_is_object(section) ? false : jr_fail(ctx, "%s: must be an object", where);
    }
    out->has_system = true;
    char what[160];
    snprintf(what, sizeof what, "%s: work", where);
    if (work != NULL && !parse_work_table(ctx, what, work, out, out->work, &out->n_work)) {
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(channels, key, value)
    {
        if (jr_is_comment(key)) {
            continue;
        }
        char at[256];
        snprintf(at, sizeof at, "%s: channels \"%.64s\"", where, key);
        if (out->n_rates == PL_MAX_RATES || strlen(key) >= PL_NAME_MAX) {
            return jr_fail(ctx, "%s: too many channels, or a name too long", at);
        }
        struct pl_channel_rate *rate = &out->rates[out->n_rates++];
        *rate = out->default_channel;
        snprintf(rate->name, sizeof rate->name, "%s", key);
        if (!parse_rate(ctx, at, value, rate)) {
            return false;
        }
    }
    return flows == NULL || parse_flows(ctx, where, flows, out);
}

bool pl_profile_load(const char *path, const char *system_name, struct pl_profile *out,
                     struct sd_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", path);
    struct jr_ctx ctx = {.origin = path, .err = err};
    json_t *root = jr_load_object(&ctx, path);
    if (root == NULL) {
        return false;
    }
    char unit[32] = "cycles";
    json_t *programs;
    bool ok = jr_check_fields(&ctx, "top level", root, top_fields) &&
              jr_string(&ctx, "top level", root, "profile", true, out->name, sizeof out->name) &&
              jr_string(&ctx, "top level", root, "unit", true, unit, sizeof unit);
    if (ok && strcmp(unit, "cycles") != 0 && strcmp(unit, "instructions") != 0) {
        ok = jr_fail(&ctx, "unit \"%s\" is not \"cycles\" or \"instructions\"", unit);
    }
    out->instructions = strcmp(unit, "instructions") == 0;
    ok = ok && parse_reference(&ctx, root, out) && parse_core_types(&ctx, root, out) &&
         parse_events(&ctx, root, out) && parse_smp(&ctx, root, out) &&
         parse_batching(&ctx, root, out) && parse_io(&ctx, root, out) &&
         parse_defaults(&ctx, root, out) &&
         jr_member(&ctx, "top level", root, "programs", JSON_OBJECT, false, &programs);
    if (ok && programs != NULL) {
        ok = parse_work_table(&ctx, "programs", programs, out, out->programs, &out->n_programs);
    }
    ok = ok && parse_system(&ctx, root, system_name, out);
    json_decref(root);
    return ok;
}

const struct pl_core_type *pl_profile_core_type(const struct pl_profile *profile, const char *type)
{
    for (uint32_t i = 0; i < profile->n_core_types; i++) {
        if (strcmp(profile->core_types[i].type, type) == 0) {
            return &profile->core_types[i];
        }
    }
    return NULL;
}

bool pl_parse_load(const char *text, const struct pl_profile *profile, double *rate,
                   struct sd_error *err)
{
    char *end;
    double number = strtod(text, &end);
    if (end == text || !isfinite(number) || number <= 0) {
        pl_fail(err, "load \"%s\" is not a positive number with a unit (500Mb/s, 1Gb/s, 42000/s)",
                text);
        return false;
    }
    double bits_scale = 0;
    if (*end == '\0' || strcmp(end, "/s") == 0) {
        *rate = number;
        return true;
    }
    if (strcmp(end, "k/s") == 0) {
        *rate = number * 1e3;
        return true;
    }
    if (strcmp(end, "Mb/s") == 0 || strcmp(end, "Mbps") == 0) {
        bits_scale = 1e6;
    } else if (strcmp(end, "Gb/s") == 0 || strcmp(end, "Gbps") == 0) {
        bits_scale = 1e9;
    } else {
        pl_fail(err, "load \"%s\": unknown unit \"%s\" (use Mb/s, Gb/s, /s or k/s)", text, end);
        return false;
    }
    if (profile->io_bits <= 0) {
        pl_fail(err,
                "load \"%s\": the profile gives no io.bits, so a bit rate cannot become %s/s; "
                "give I/Os per second (e.g. 40000/s)",
                text, profile->io_unit[0] ? profile->io_unit : "I/O");
        return false;
    }
    *rate = number * bits_scale / profile->io_bits;
    return true;
}

static void group_thousands(char *out, size_t size, double value)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", value);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

void pl_format_load(char *out, size_t size, double rate, const struct pl_profile *profile)
{
    char count[40];
    group_thousands(count, sizeof count, rate);
    const char *unit = profile->io_unit[0] ? profile->io_unit : "I/O";
    if (profile->io_bits > 0) {
        snprintf(out, size, "%.0f Mb/s (%s %s/s)", rate * profile->io_bits / 1e6, count, unit);
    } else {
        snprintf(out, size, "%s %s/s", count, unit);
    }
}
