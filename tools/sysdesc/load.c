/*
 * Loading a description: the file, the JSON syntax, the top-level object,
 * then the passes over its arrays in an order where every name is defined
 * before it is referred to.
 */
#include "sd_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far beyond any real description; keeps a wrong path (a disk image, say) from eating memory. */
#define SD_FILE_MAX (16u << 20)

static const char *const top_fields[] = {
    "name", "description", "components", "vms",     "regions",
    "maps", "channels",    "end",        "devices", NULL,
};

struct sd_system *sd_system_new(void)
{
    return calloc(1, sizeof(struct sd_system));
}

void sd_system_free(struct sd_system *sys)
{
    free(sys);
}

static bool get_array(struct sd_ctx *ctx, const json_t *root, const char *key, bool required,
                      json_t **out)
{
    return sd_get_value(ctx, "top level", root, key, required, JSON_ARRAY, out);
}

/* How a run of the system ends: "external" (the runner stops it) or "idle". */
static bool parse_end(struct sd_ctx *ctx, const json_t *root)
{
    json_t *value;
    if (!sd_get_value(ctx, "top level", root, "end", false, JSON_STRING, &value)) {
        return false;
    }
    if (value == NULL || sd_json_string_is(value, "external")) {
        ctx->sys->end_when_idle = false;
        return true;
    }
    if (sd_json_string_is(value, "idle")) {
        ctx->sys->end_when_idle = true;
        return true;
    }
    char shown[48];
    sd_quote(shown, sizeof shown, json_string_value(value), json_string_length(value));
    return sd_fail(ctx, "top level: end %s is not one of external, idle", shown);
}

static bool load_root(struct sd_ctx *ctx, const json_t *root)
{
    struct sd_system *sys = ctx->sys;
    if (!json_is_object(root)) {
        return sd_fail(ctx, "the top level must be an object, not %s", sd_json_type_name(root));
    }
    json_t *description, *components, *vms, *regions, *maps, *channels, *devices;
    if (!sd_check_fields(ctx, "top level", root, top_fields) ||
        !sd_get_name(ctx, "top level", root, "name", true, sys->name, NULL) ||
        !sd_get_value(ctx, "top level", root, "description", false, JSON_STRING, &description) ||
        !get_array(ctx, root, "components", true, &components) ||
        !get_array(ctx, root, "vms", false, &vms) ||
        !get_array(ctx, root, "regions", false, &regions) ||
        !get_array(ctx, root, "maps", false, &maps) ||
        !get_array(ctx, root, "channels", false, &channels) ||
        !get_array(ctx, root, "devices", false, &devices) || !parse_end(ctx, root)) {
        return false;
    }
    if ((devices != NULL && !sd_parse_devices(ctx, devices)) ||
        !sd_parse_components(ctx, components) || (vms != NULL && !sd_parse_vms(ctx, vms)) ||
        !sd_check_vm_devices(ctx)) {
        return false;
    }
    if (sys->n_pds == 0) {
        return sd_fail(ctx, "the system has no protection domains (\"components\" is empty and "
                            "there are no \"vms\")");
    }
    return (regions == NULL || sd_parse_regions(ctx, regions)) &&
           (maps == NULL || sd_parse_maps(ctx, maps)) &&
           (channels == NULL || sd_parse_channels(ctx, channels)) && sd_assign_ids(ctx) &&
           sd_check_partitions(ctx);
}

/*
 * jansson's message quotes the text near the error, which may hold a newline
 * or other control characters; the message must stay one printable line.
 */
static void escape_controls(char *out, size_t size, const char *text)
{
    size_t n = 0;
    for (; *text != '\0' && n + 5 < size; text++) {
        unsigned char c = (unsigned char)*text;
        if (c < 0x20 || c == 0x7f) {
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
}

void sd_report_json_error(struct sd_error *err, const char *origin, const json_error_t *error)
{
    char text_shown[2 * JSON_ERROR_TEXT_LENGTH];
    escape_controls(text_shown, sizeof text_shown, error->text);
    snprintf(err->message, sizeof err->message, "%s:%d:%d: %s", origin, error->line, error->column,
             text_shown);
}

bool sd_load_buffer(const char *text, size_t len, const char *origin, struct sd_system *sys,
                    struct sd_error *err)
{
    if (origin == NULL) {
        origin = "<buffer>";
    }
    memset(sys, 0, sizeof *sys);
    err->message[0] = '\0';
    snprintf(sys->source, sizeof sys->source, "%s", origin);

    json_error_t json_error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
    if (root == NULL) {
        sd_report_json_error(err, origin, &json_error);
        return false;
    }
    struct sd_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        json_decref(root);
        snprintf(err->message, sizeof err->message, "%s: out of memory", origin);
        return false;
    }
    ctx->origin = origin;
    ctx->sys = sys;
    ctx->err = err;
    bool ok = load_root(ctx, root);
    free(ctx);
    json_decref(root);
    return ok;
}

bool sd_read_text_file(const char *path, char **text_out, size_t *len_out, struct sd_error *err)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(err->message, sizeof err->message, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    char *text = NULL;
    size_t len = 0, capacity = 0;
    bool ok = true;
    for (;;) {
        if (len == capacity) {
            if (capacity == SD_FILE_MAX) {
                snprintf(err->message, sizeof err->message, "%s: larger than %u MiB", path,
                         SD_FILE_MAX >> 20);
                ok = false;
                break;
            }
            capacity = capacity == 0 ? 16384 : capacity * 2;
            if (capacity > SD_FILE_MAX) {
                capacity = SD_FILE_MAX;
            }
            char *grown = realloc(text, capacity);
            if (grown == NULL) {
                snprintf(err->message, sizeof err->message, "%s: out of memory", path);
                ok = false;
                break;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, capacity - len, file);
        len += got;
        if (got == 0) {
            if (ferror(file)) {
                snprintf(err->message, sizeof err->message, "%s: cannot read: %s", path,
                         strerror(errno));
                ok = false;
            }
            break;
        }
    }
    fclose(file);
    if (!ok) {
        free(text);
        return false;
    }
    *text_out = text;
    *len_out = len;
    return true;
}

bool sd_load_file(const char *path, struct sd_system *sys, struct sd_error *err)
{
    char *text;
    size_t len;
    if (!sd_read_text_file(path, &text, &len, err)) {
        return false;
    }
    bool ok = sd_load_buffer(text, len, path, sys, err);
    free(text);
    return ok;
}
