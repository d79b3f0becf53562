/*
 * Placement files: PD to core, polling PDs, batching per channel. Read with
 * the description loader's field helpers so that messages read the same,
 * and checked against the loaded system they place.
 */
#define _POSIX_C_SOURCE 200809L

#include "placement.h"

#include "atomic_file.h"
#include "sd_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const placement_fields[] = {"system",  "cores",    "pds", "vcpus",
                                               "polling", "batching", NULL};
static const char *const batching_fields[] = {"default", "channels", NULL};
static const char *const batch_fields[] = {"policy", "count", "window_us", NULL};

static const char *const policy_names[] = {
    [PN_BATCH_IMMEDIATE] = "immediate",
    [PN_BATCH_END_OF_HANDLER] = "end_of_handler",
    [PN_BATCH_COALESCE] = "coalesce",
};

#define N_POLICIES (sizeof policy_names / sizeof policy_names[0])

const char *sd_batch_policy_name(uint8_t policy)
{
    return policy < N_POLICIES ? policy_names[policy] : "unknown";
}

struct placement_parse {
    struct sd_ctx *ctx;
    const struct sd_system *sys;
    struct sd_placement *out;
    bool listed[SD_MAX_PDS];       /* named in "pds" */
    bool vcpus_listed[SD_MAX_PDS]; /* named in "vcpus" */
    int polling_index[SD_MAX_PDS]; /* position in "polling", for messages */
};

static int find_channel(const struct sd_system *sys, const char *name)
{
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        if (strcmp(sys->channels[c].name, name) == 0) {
            return (int)c;
        }
    }
    return -1;
}

static bool parse_system_name(struct placement_parse *parse, const json_t *root)
{
    json_t *value;
    if (!sd_get_value(parse->ctx, "top level", root, "system", false, JSON_STRING, &value)) {
        return false;
    }
    if (value == NULL || sd_json_string_is(value, parse->sys->name)) {
        return true;
    }
    char shown[48];
    sd_quote(shown, sizeof shown, json_string_value(value), json_string_length(value));
    return sd_fail(parse->ctx, "system %s does not match the description's name \"%s\" (%s)", shown,
                   parse->sys->name, parse->sys->source);
}

static bool parse_pds(struct placement_parse *parse, const json_t *root)
{
    struct sd_ctx *ctx = parse->ctx;
    const struct sd_system *sys = parse->sys;
    json_t *pds;
    if (!sd_get_value(ctx, "top level", root, "pds", false, JSON_OBJECT, &pds)) {
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(pds, key, value)
    {
        if (sd_is_comment_key(key)) {
            continue;
        }
        char shown[48];
        sd_quote(shown, sizeof shown, key, strlen(key));
        int pd = sd_find_pd(sys, key);
        if (pd < 0) {
            return sd_fail(ctx, "pds %s: no such PD in system \"%s\"", shown, sys->name);
        }
        if (!json_is_integer(value)) {
            return sd_fail(ctx, "pds %s: must be a core number, not %s", shown,
                           sd_json_type_name(value));
        }
        long long core = json_integer_value(value);
        if (core < 0 || core >= (long long)parse->out->cores) {
            return sd_fail(ctx, "pds %s: core %lld out of range 0..%u (\"cores\" is %u)", shown,
                           core, parse->out->cores - 1, parse->out->cores);
        }
        parse->out->core[pd] = (int)core;
        parse->listed[pd] = true;
    }
    /* The description's core stands for every PD the placement does not move. */
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        if (parse->listed[p]) {
            continue;
        }
        int core = sys->pds[p].core < 0 ? 0 : sys->pds[p].core;
        if ((uint32_t)core >= parse->out->cores) {
            return sd_fail(ctx,
                           "pds: PD \"%s\" is not listed, and core %d from its description is "
                           "out of range 0..%u (\"cores\" is %u)",
                           sys->pds[p].name, core, parse->out->cores - 1, parse->out->cores);
        }
        parse->out->core[p] = core;
    }
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        for (uint32_t v = 0; v < SD_MAX_VCPUS; v++) {
            parse->out->vcpu_core[p][v] = parse->out->core[p];
        }
    }
    return true;
}

static bool parse_vcpu_list(struct placement_parse *parse, const char *shown, int pd,
                            const json_t *list)
{
    struct sd_ctx *ctx = parse->ctx;
    const struct sd_pd *vm = &parse->sys->pds[pd];
    if (!json_is_array(list)) {
        return sd_fail(ctx, "vcpus %s: must be an array of cores, one per vCPU, not %s", shown,
                       sd_json_type_name(list));
    }
    if (json_array_size(list) != vm->vm.vcpus) {
        return sd_fail(ctx, "vcpus %s: %zu cores for %u vCPUs; give one core per vCPU", shown,
                       json_array_size(list), vm->vm.vcpus);
    }
    size_t index;
    json_t *element;
    json_array_foreach(list, index, element)
    {
        if (!json_is_integer(element)) {
            return sd_fail(ctx, "vcpus %s[%zu]: must be a core number, not %s", shown, index,
                           sd_json_type_name(element));
        }
        long long core = json_integer_value(element);
        if (core < 0 || core >= (long long)parse->out->cores) {
            return sd_fail(ctx, "vcpus %s[%zu]: core %lld out of range 0..%u (\"cores\" is %u)",
                           shown, index, core, parse->out->cores - 1, parse->out->cores);
        }
        parse->out->vcpu_core[pd][index] = (int)core;
    }
    /* "pds" and "vcpus" must tell one story: a VM's core is its first vCPU's. */
    if (parse->listed[pd] && parse->out->core[pd] != parse->out->vcpu_core[pd][0]) {
        return sd_fail(ctx,
                       "vcpus %s[0]: core %d differs from pds %s: %d; a VM's core in \"pds\" is "
                       "the core of its vCPU 0",
                       shown, parse->out->vcpu_core[pd][0], shown, parse->out->core[pd]);
    }
    parse->out->core[pd] = parse->out->vcpu_core[pd][0];
    return true;
}

static bool parse_vcpus(struct placement_parse *parse, const json_t *root)
{
    struct sd_ctx *ctx = parse->ctx;
    const struct sd_system *sys = parse->sys;
    json_t *vcpus;
    if (!sd_get_value(ctx, "top level", root, "vcpus", false, JSON_OBJECT, &vcpus)) {
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(vcpus, key, value)
    {
        if (sd_is_comment_key(key)) {
            continue;
        }
        char shown[48];
        sd_quote(shown, sizeof shown, key, strlen(key));
        int pd = sd_find_pd(sys, key);
        if (pd < 0) {
            return sd_fail(ctx, "vcpus %s: no such PD in system \"%s\"", shown, sys->name);
        }
        if (sys->pds[pd].kind != SD_KIND_VM) {
            return sd_fail(ctx, "vcpus %s: is a %s, not a VM; only a VM has vCPUs to place", shown,
                           sd_kind_name(sys->pds[pd].kind));
        }
        if (!parse_vcpu_list(parse, shown, pd, value)) {
            return false;
        }
        parse->vcpus_listed[pd] = true;
    }
    return true;
}

bool sd_placement_occupies(const struct sd_system *sys, const struct sd_placement *p, int pd,
                           int core)
{
    if (sys->pds[pd].kind != SD_KIND_VM) {
        return p->core[pd] == core;
    }
    for (uint32_t v = 0; v < sys->pds[pd].vm.vcpus; v++) {
        if (p->vcpu_core[pd][v] == core) {
            return true;
        }
    }
    return false;
}

static bool parse_polling(struct placement_parse *parse, const json_t *root)
{
    struct sd_ctx *ctx = parse->ctx;
    const struct sd_system *sys = parse->sys;
    json_t *polling;
    if (!sd_get_value(ctx, "top level", root, "polling", false, JSON_ARRAY, &polling)) {
        return false;
    }
    size_t index;
    json_t *element;
    json_array_foreach(polling, index, element)
    {
        if (!json_is_string(element)) {
            return sd_fail(ctx, "polling[%zu] must be a PD name, not %s", index,
                           sd_json_type_name(element));
        }
        char shown[48];
        sd_quote(shown, sizeof shown, json_string_value(element), json_string_length(element));
        int pd = sd_find_pd(sys, json_string_value(element));
        if (pd < 0 || !sd_json_string_is(element, sys->pds[pd].name)) {
            return sd_fail(ctx, "polling[%zu] %s: no such PD in system \"%s\"", index, shown,
                           sys->name);
        }
        if (parse->out->polling[pd]) {
            return sd_fail(ctx, "polling[%zu] %s: listed twice (also polling[%d])", index, shown,
                           parse->polling_index[pd]);
        }
        parse->out->polling[pd] = true;
        parse->polling_index[pd] = (int)index;
    }
    /*
     * A polling core never sleeps, so nothing else would ever run there: not
     * another PD, nor a vCPU of a VM (a polling VM's own vCPUs included).
     */
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        if (!parse->out->polling[p]) {
            continue;
        }
        const struct sd_pd *pd = &sys->pds[p];
        uint32_t n_vcpus = pd->kind == SD_KIND_VM ? pd->vm.vcpus : 1;
        for (uint32_t v = 0; v < n_vcpus; v++) {
            int core = parse->out->vcpu_core[p][v];
            for (uint32_t w = v + 1; w < n_vcpus; w++) {
                if (parse->out->vcpu_core[p][w] == core) {
                    return sd_fail(ctx,
                                   "polling[%d] \"%s\": vCPUs %u and %u share core %d; each vCPU "
                                   "of a polling VM must be alone on its core",
                                   parse->polling_index[p], pd->name, v, w, core);
                }
            }
            for (uint32_t q = 0; q < sys->n_pds; q++) {
                if (q != p && sd_placement_occupies(sys, parse->out, (int)q, core)) {
                    return sd_fail(ctx,
                                   "polling[%d] \"%s\": shares core %d with PD \"%s\"; a "
                                   "polling PD must be alone on its core",
                                   parse->polling_index[p], pd->name, core, sys->pds[q].name);
                }
            }
        }
    }
    return true;
}

static bool parse_batch(struct sd_ctx *ctx, const char *where, const json_t *element,
                        struct sd_batching *out)
{
    if (!json_is_object(element)) {
        return sd_fail(ctx, "%s must be an object, not %s", where, sd_json_type_name(element));
    }
    json_t *policy;
    if (!sd_check_fields(ctx, where, element, batch_fields) ||
        !sd_get_value(ctx, where, element, "policy", true, JSON_STRING, &policy)) {
        return false;
    }
    memset(out, 0, sizeof *out);
    size_t which = 0;
    while (which < N_POLICIES && !sd_json_string_is(policy, policy_names[which])) {
        which++;
    }
    if (which == N_POLICIES) {
        char shown[48];
        sd_quote(shown, sizeof shown, json_string_value(policy), json_string_length(policy));
        return sd_fail(ctx, "%s: policy %s is not one of immediate, end_of_handler, coalesce",
                       where, shown);
    }
    out->policy = (uint8_t)which;
    if (which != PN_BATCH_COALESCE) {
        static const char *const coalesce_only[] = {"count", "window_us"};
        for (size_t i = 0; i < 2; i++) {
            if (json_object_get(element, coalesce_only[i]) != NULL) {
                return sd_fail(ctx, "%s: \"%s\" is only for policy \"coalesce\", not \"%s\"", where,
                               coalesce_only[i], policy_names[which]);
            }
        }
        return true;
    }
    long long count = 0, window_us = 0;
    if (!sd_get_int(ctx, where, element, "count", true, 1, SD_COALESCE_COUNT_MAX, &count, NULL) ||
        !sd_get_int(ctx, where, element, "window_us", true, 1, SD_COALESCE_WINDOW_US_MAX,
                    &window_us, NULL)) {
        return false;
    }
    out->count = (uint16_t)count;
    out->window_us = (uint32_t)window_us;
    return true;
}

static bool parse_batching(struct placement_parse *parse, const json_t *root)
{
    struct sd_ctx *ctx = parse->ctx;
    const struct sd_system *sys = parse->sys;
    json_t *batching, *fallback, *channels;
    if (!sd_get_value(ctx, "top level", root, "batching", false, JSON_OBJECT, &batching)) {
        return false;
    }
    if (batching == NULL) {
        return true; /* every channel stays immediate */
    }
    if (!sd_check_fields(ctx, "batching", batching, batching_fields) ||
        !sd_get_value(ctx, "batching", batching, "default", false, SD_ANY_TYPE, &fallback) ||
        !sd_get_value(ctx, "batching", batching, "channels", false, JSON_OBJECT, &channels)) {
        return false;
    }
    if (fallback != NULL) {
        struct sd_batching batch;
        if (!parse_batch(ctx, "batching.default", fallback, &batch)) {
            return false;
        }
        for (uint32_t c = 0; c < sys->n_channels; c++) {
            parse->out->channel[c] = batch;
        }
    }
    const char *key;
    json_t *value;
    json_object_foreach(channels, key, value)
    {
        if (sd_is_comment_key(key)) {
            continue;
        }
        char where[SD_WHERE_MAX], shown[48];
        sd_quote(shown, sizeof shown, key, strlen(key));
        snprintf(where, sizeof where, "batching.channels %s", shown);
        int channel = find_channel(sys, key);
        if (channel < 0) {
            return sd_fail(ctx, "%s: no such channel in system \"%s\"", where, sys->name);
        }
        if (!parse_batch(ctx, where, value, &parse->out->channel[channel])) {
            return false;
        }
    }
    return true;
}

static bool parse_root(struct placement_parse *parse, const json_t *root)
{
    struct sd_ctx *ctx = parse->ctx;
    if (!json_is_object(root)) {
        return sd_fail(ctx, "the top level must be an object, not %s", sd_json_type_name(root));
    }
    long long cores = 0;
    if (!sd_check_fields(ctx, "top level", root, placement_fields) ||
        !parse_system_name(parse, root) ||
        !sd_get_int(ctx, "top level", root, "cores", true, 1, SD_PLACEMENT_MAX_CORES, &cores,
                    NULL)) {
        return false;
    }
    parse->out->cores = (uint32_t)cores;
    return parse_pds(parse, root) && parse_vcpus(parse, root) && parse_polling(parse, root) &&
           parse_batching(parse, root);
}

bool sd_load_placement_buffer(const struct sd_system *sys, const char *text, size_t len,
                              const char *origin, struct sd_placement *out, struct sd_error *err)
{
    if (origin == NULL) {
        origin = "<buffer>";
    }
    memset(out, 0, sizeof *out);
    err->message[0] = '\0';
    snprintf(out->source, sizeof out->source, "%s", origin);

    json_error_t json_error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
    if (root == NULL) {
        sd_report_json_error(err, origin, &json_error);
        return false;
    }
    struct sd_ctx *ctx = calloc(1, sizeof *ctx);
    struct placement_parse *parse = calloc(1, sizeof *parse);
    bool ok = false;
    if (ctx == NULL || parse == NULL) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", origin);
    } else {
        ctx->origin = origin;
        ctx->err = err;
        parse->ctx = ctx;
        parse->sys = sys;
        parse->out = out;
        ok = parse_root(parse, root);
    }
    free(parse);
    free(ctx);
    json_decref(root);
    return ok;
}

bool sd_load_placement(const struct sd_system *sys, const char *path, struct sd_placement *out,
                       struct sd_error *err)
{
    char *text;
    size_t len;
    if (!sd_read_text_file(path, &text, &len, err)) {
        return false;
    }
    bool ok = sd_load_placement_buffer(sys, text, len, path, out, err);
    free(text);
    return ok;
}

void sd_default_placement(const struct sd_system *sys, struct sd_placement *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "(default placement)");
    int highest = 0;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        out->core[p] = sys->pds[p].core < 0 ? 0 : sys->pds[p].core;
        highest = out->core[p] > highest ? out->core[p] : highest;
        for (uint32_t v = 0; v < SD_MAX_VCPUS; v++) {
            out->vcpu_core[p][v] = out->core[p];
        }
    }
    out->cores = (uint32_t)highest + 1;
    /* All zero: nobody polls, every channel PN_BATCH_IMMEDIATE. */
}

static json_t *batch_json(const struct sd_batching *batch)
{
    json_t *obj = json_pack("{s:s}", "policy", sd_batch_policy_name(batch->policy));
    if (obj != NULL && batch->policy == PN_BATCH_COALESCE) {
        json_object_set_new(obj, "count", json_integer(batch->count));
        json_object_set_new(obj, "window_us", json_integer(batch->window_us));
    }
    return obj;
}

/* The vCPUs of the VMs that do not keep all their vCPUs on the VM's core; NULL when none. */
static json_t *vcpus_json(const struct sd_system *sys, const struct sd_placement *p)
{
    json_t *vcpus = NULL;
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        const struct sd_pd *pd = &sys->pds[i];
        bool spread = false;
        for (uint32_t v = 0; pd->kind == SD_KIND_VM && v < pd->vm.vcpus; v++) {
            spread = spread || p->vcpu_core[i][v] != p->core[i];
        }
        if (!spread) {
            continue;
        }
        json_t *list = json_array();
        for (uint32_t v = 0; v < pd->vm.vcpus; v++) {
            json_array_append_new(list, json_integer(p->vcpu_core[i][v]));
        }
        if (vcpus == NULL) {
            vcpus = json_object();
        }
        json_object_set_new(vcpus, pd->name, list);
    }
    return vcpus;
}

/* Every PD listed, the default immediate, and each channel that differs from it. */
static json_t *placement_json(const struct sd_system *sys, const struct sd_placement *p)
{
    json_t *pds = json_object(), *polling = json_array(), *channels = json_object();
    for (uint32_t i = 0; i < sys->n_pds; i++) {
        /* A VM's core is its vCPU 0's (the reader insists). */
        int core = sys->pds[i].kind == SD_KIND_VM ? p->vcpu_core[i][0] : p->core[i];
        json_object_set_new(pds, sys->pds[i].name, json_integer(core));
        if (p->polling[i]) {
            json_array_append_new(polling, json_string(sys->pds[i].name));
        }
    }
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        if (p->channel[c].policy != PN_BATCH_IMMEDIATE) {
            json_object_set_new(channels, sys->channels[c].name, batch_json(&p->channel[c]));
        }
    }
    json_t *batching =
        json_pack("{s:{s:s}, s:o}", "default", "policy", "immediate", "channels", channels);
    json_t *root = json_pack("{s:s, s:I, s:o}", "system", sys->name, "cores", (json_int_t)p->cores,
                             "pds", pds);
    json_t *vcpus = vcpus_json(sys, p);
    if (root == NULL) {
        json_decref(vcpus);
        json_decref(polling);
        json_decref(batching);
        return NULL;
    }
    if (vcpus != NULL) {
        json_object_set_new(root, "vcpus", vcpus); /* after "pds", where a reader looks for it */
    }
    json_object_set_new(root, "polling", polling);
    json_object_set_new(root, "batching", batching);
    return root;
}

static void prefix_message(struct sd_error *err, const char *prefix)
{
    size_t prefix_len = strlen(prefix), len = strlen(err->message);
    if (prefix_len + len >= sizeof err->message) {
        len = sizeof err->message - 1 - prefix_len;
    }
    memmove(err->message + prefix_len, err->message, len);
    memcpy(err->message, prefix, prefix_len);
    err->message[prefix_len + len] = '\0';
}

bool sd_write_placement(const struct sd_system *sys, const struct sd_placement *p, const char *path,
                        struct sd_error *err)
{
    json_t *json = placement_json(sys, p);
    char *text = json == NULL ? NULL : json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(json);
    if (text == NULL) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", path);
        return false;
    }
    /* What is written must load back: checked here, by the code that will read it. */
    struct sd_placement *check = malloc(sizeof *check);
    bool ok = check != NULL;
    if (!ok) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", path);
    } else if (!sd_load_placement_buffer(sys, text, strlen(text), path, check, err)) {
        prefix_message(err, "refusing to write an invalid placement: ");
        ok = false;
    }
    free(check);
    struct sd_atomic_file out;
    if (ok && (ok = sd_atomic_open(&out, path, err))) {
        if (fputs(text, out.file) == EOF || fputc('\n', out.file) == EOF) {
            sd_atomic_abort(&out);
            snprintf(err->message, sizeof err->message, "%s: cannot write", path);
            ok = false;
        } else {
            ok = sd_atomic_commit(&out, err);
        }
    }
    free(text);
    return ok;
}
