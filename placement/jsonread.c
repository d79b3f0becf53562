/* place's JSON inputs: loading, field checks and typed getters with one-line messages. */
#include "jsonread.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

bool jr_fail(struct jr_ctx *ctx, const char *fmt, ...)
{
    char message[SD_ERROR_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    return pl_fail(ctx->err, "%s: %s", ctx->origin, message);
}

bool pl_fail(struct sd_error *err, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return false;
}

json_t *jr_load_object(struct jr_ctx *ctx, const char *path)
{
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        if (error.line <= 0) {
            jr_fail(ctx, "cannot read: %s", error.text);
        } else {
            snprintf(ctx->err->message, sizeof ctx->err->message, "%s:%d:%d: %s", path, error.line,
                     error.column, error.text);
        }
        return NULL;
    }
    if (!json_is_object(root)) {
        jr_fail(ctx, "the top level must be an object, not %s", jr_type_name(root));
        json_decref(root);
        return NULL;
    }
    return root;
}

const char *jr_type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

bool jr_is_comment(const char *key)
{
    return key[0] == '_' || key[0] == '$';
}

bool jr_check_fields(struct jr_ctx *ctx, const char *where, const json_t *obj,
                     const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = jr_is_comment(key);
        for (const char *const *a = allowed; !known && *a != NULL; a++) {
            known = strcmp(*a, key) == 0;
        }
        if (!known) {
            return jr_fail(ctx, "%s: unknown field \"%s\"", where, key);
        }
    }
    return true;
}

static const char *json_type_word(json_type type)
{
    switch (type) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    default:
        return "a number";
    }
}

bool jr_member(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
               json_type type, bool required, json_t **out)
{
    *out = json_object_get(obj, key);
    if (*out == NULL) {
        return required ? jr_fail(ctx, "%s: missing required field \"%s\"", where, key) : true;
    }
    bool ok = json_typeof(*out) == type || (type == JSON_REAL && json_typeof(*out) == JSON_INTEGER);
    if (!ok) {
        return jr_fail(ctx, "%s: \"%s\" must be %s, not %s", where, key, json_type_word(type),
                       jr_type_name(*out));
    }
    return true;
}

bool jr_number(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
               bool required, double min, double max, double *out)
{
    json_t *value;
    if (!jr_member(ctx, where, obj, key, JSON_REAL, required, &value)) {
        return false;
    }
    if (value == NULL) {
        return true;
    }
    double number = json_number_value(value);
    if (!isfinite(number) || number < min || number > max) {
        return jr_fail(ctx, "%s: \"%s\" is %g, outside %g..%g", where, key, number, min, max);
    }
    *out = number;
    return true;
}

bool jr_cost(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
             bool required, double *out)
{
    json_t *cost;
    if (!jr_member(ctx, where, obj, key, JSON_OBJECT, required, &cost)) {
        return false;
    }
    if (cost == NULL) {
        return true;
    }
    char inner[256];
    snprintf(inner, sizeof inner, "%s.%s", where, key);
    static const char *const fields[] = {"value", "source", NULL};
    json_t *source;
    if (!jr_check_fields(ctx, inner, cost, fields) ||
        !jr_number(ctx, inner, cost, "value", true, 0, 1e12, out) ||
        !jr_member(ctx, inner, cost, "source", JSON_STRING, true, &source)) {
        return false;
    }
    if (json_string_length(source) == 0) {
        return jr_fail(ctx, "%s: \"source\" is empty; say where the number comes from", inner);
    }
    return true;
}

bool jr_string(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
               bool required, char *out, size_t size)
{
    json_t *value;
    if (!jr_member(ctx, where, obj, key, JSON_STRING, required, &value)) {
        return false;
    }
    if (value == NULL) {
        return true;
    }
    if (json_string_length(value) >= size) {
        return jr_fail(ctx, "%s: \"%s\" is longer than %zu characters", where, key, size - 1);
    }
    snprintf(out, size, "%s", json_string_value(value));
    return true;
}
