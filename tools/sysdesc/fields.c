/*
 * Reading single fields of JSON objects, with the messages every part of
 * the loader shares: missing, wrong type, unknown, out of range, bad name.
 */
#include "sd_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool sd_fail(struct sd_ctx *ctx, const char *fmt, ...)
{
    /* The first problem found is the one reported; later ones are echoes. */
    if (ctx->err->message[0] != '\0') {
        return false;
    }
    int prefix = snprintf(ctx->err->message, sizeof ctx->err->message, "%s: ", ctx->origin);
    if (prefix < 0 || (size_t)prefix >= sizeof ctx->err->message) {
        return false;
    }
    va_list args;
    va_start(args, fmt);
    vsnprintf(ctx->err->message + prefix, sizeof ctx->err->message - (size_t)prefix, fmt, args);
    va_end(args);
    return false;
}

void sd_quote(char *out, size_t size, const char *s, size_t len)
{
    static const char ellipsis[] = "...\"";
    /* Room for the closing quote and a possible ellipsis, plus the NUL. */
    if (size < sizeof ellipsis + 2) {
        if (size > 0) {
            out[0] = '\0';
        }
        return;
    }
    size_t limit = size - sizeof ellipsis;
    size_t pos = 0;
    out[pos++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char piece[5];
        if (c == '"' || c == '\\') {
            piece[0] = '\\';
            piece[1] = (char)c;
            piece[2] = '\0';
        } else if (c < 0x20 || c >= 0x7f) {
            snprintf(piece, sizeof piece, "\\x%02x", c);
        } else {
            piece[0] = (char)c;
            piece[1] = '\0';
        }
        size_t piece_len = strlen(piece);
        if (pos + piece_len > limit) {
            memcpy(out + pos, ellipsis, sizeof ellipsis);
            return;
        }
        memcpy(out + pos, piece, piece_len);
        pos += piece_len;
    }
    out[pos++] = '"';
    out[pos] = '\0';
}

const char *sd_json_type_name(const json_t *value)
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
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown JSON type";
}

static const char *expected_type_name(int type)
{
    switch (type) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    default:
        return "something else";
    }
}

bool sd_json_string_is(const json_t *value, const char *text)
{
    size_t len = strlen(text);
    return json_is_string(value) && json_string_length(value) == len &&
           memcmp(json_string_value(value), text, len) == 0;
}

bool sd_is_comment_key(const char *key)
{
    return key[0] == '_' || key[0] == '$';
}

bool sd_check_fields(struct sd_ctx *ctx, const char *where, const json_t *obj,
                     const char *const *allowed)
{
    const char *key;
    json_t *value;
    /* jansson's iterator is not const-correct; nothing here modifies obj. */
    json_object_foreach((json_t *)obj, key, value)
    {
        if (sd_is_comment_key(key)) {
            continue;
        }
        bool known = false;
        for (const char *const *name = allowed; *name != NULL; name++) {
            if (strcmp(key, *name) == 0) {
                known = true;
                break;
            }
        }
        if (!known) {
            char shown[48];
            sd_quote(shown, sizeof shown, key, strlen(key));
            return sd_fail(ctx, "%s: unknown field %s", where, shown);
        }
    }
    return true;
}

bool sd_get_value(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                  bool required, int type, json_t **out)
{
    json_t *value = json_object_get(obj, key);
    *out = value;
    if (value == NULL) {
        if (required) {
            return sd_fail(ctx, "%s: missing required field \"%s\"", where, key);
        }
        return true;
    }
    if (type != SD_ANY_TYPE && (int)json_typeof(value) != type) {
        return sd_fail(ctx, "%s: field \"%s\" must be %s, not %s", where, key,
                       expected_type_name(type), sd_json_type_name(value));
    }
    return true;
}

bool sd_get_string(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                   bool required, bool allow_empty, char *out, size_t size, bool *present)
{
    json_t *value;
    if (present != NULL) {
        *present = false;
    }
    if (!sd_get_value(ctx, where, obj, key, required, JSON_STRING, &value)) {
        return false;
    }
    if (value == NULL) {
        return true;
    }
    size_t len = json_string_length(value);
    if (len == 0 && !allow_empty) {
        return sd_fail(ctx, "%s: field \"%s\" must not be empty", where, key);
    }
    if (len >= size) {
        return sd_fail(ctx, "%s: field \"%s\" is longer than %zu characters", where, key, size - 1);
    }
    memcpy(out, json_string_value(value), len);
    out[len] = '\0';
    if (present != NULL) {
        *present = true;
    }
    return true;
}

bool sd_check_name(struct sd_ctx *ctx, const char *where, const char *what, const char *s,
                   size_t len)
{
    char shown[48];
    sd_quote(shown, sizeof shown, s, len);
    if (len == 0) {
        return sd_fail(ctx, "%s: %s must not be empty", where, what);
    }
    if (len >= PN_NAME_MAX) {
        return sd_fail(ctx, "%s: %s %s is longer than %d characters", where, what, shown,
                       PN_NAME_MAX - 1);
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) {
            return sd_fail(ctx, "%s: %s %s may hold only letters, digits, '_' and '-'", where, what,
                           shown);
        }
    }
    return true;
}

bool sd_get_name(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                 bool required, char out[PN_NAME_MAX], bool *present)
{
    json_t *value;
    if (present != NULL) {
        *present = false;
    }
    if (!sd_get_value(ctx, where, obj, key, required, JSON_STRING, &value)) {
        return false;
    }
    if (value == NULL) {
        return true;
    }
    size_t len = json_string_length(value);
    if (!sd_check_name(ctx, where, key, json_string_value(value), len)) {
        return false;
    }
    memcpy(out, json_string_value(value), len);
    out[len] = '\0';
    if (present != NULL) {
        *present = true;
    }
    return true;
}

bool sd_get_int(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                bool required, long long min, long long max, long long *out, bool *present)
{
    json_t *value;
    if (present != NULL) {
        *present = false;
    }
    if (!sd_get_value(ctx, where, obj, key, required, JSON_INTEGER, &value)) {
        return false;
    }
    if (value == NULL) {
        return true;
    }
    long long number = json_integer_value(value);
    if (number < min || number > max) {
        return sd_fail(ctx, "%s: %s %lld out of range %lld..%lld", where, key, number, min, max);
    }
    *out = number;
    if (present != NULL) {
        *present = true;
    }
    return true;
}

bool sd_parse_params(struct sd_ctx *ctx, const char *where, const json_t *params,
                     struct sd_param *out, uint32_t *n_out)
{
    const char *key;
    json_t *value;
    uint32_t n = 0;
    json_object_foreach((json_t *)params, key, value)
    {
        if (sd_is_comment_key(key)) {
            continue;
        }
        if (!sd_check_name(ctx, where, "param key", key, strlen(key))) {
            return false;
        }
        if (n == PN_CONFIG_MAX_PARAMS) {
            return sd_fail(ctx, "%s: more than %d params", where, PN_CONFIG_MAX_PARAMS);
        }
        struct sd_param *param = &out[n];
        sd_copy_name(param->key, key);
        switch (json_typeof(value)) {
        case JSON_STRING: {
            size_t len = json_string_length(value);
            if (len >= sizeof param->value) {
                return sd_fail(ctx, "%s: param \"%s\" is longer than %zu characters", where, key,
                               sizeof param->value - 1);
            }
            memcpy(param->value, json_string_value(value), len);
            param->value[len] = '\0';
            break;
        }
        case JSON_INTEGER:
            snprintf(param->value, sizeof param->value, "%lld",
                     (long long)json_integer_value(value));
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            snprintf(param->value, sizeof param->value, "%s",
                     json_is_true(value) ? "true" : "false");
            break;
        default:
            return sd_fail(ctx,
                           "%s: param \"%s\" must be a string, an integer or a boolean, not %s",
                           where, key, sd_json_type_name(value));
        }
        n++;
    }
    *n_out = n;
    return true;
}

void sd_label_element(char *out, size_t size, const char *array, size_t index,
                      const json_t *element)
{
    const json_t *name = json_is_object(element) ? json_object_get(element, "name") : NULL;
    if (json_is_string(name)) {
        char shown[44];
        sd_quote(shown, sizeof shown, json_string_value(name), json_string_length(name));
        snprintf(out, size, "%s[%zu] %s", array, index, shown);
    } else {
        snprintf(out, size, "%s[%zu]", array, index);
    }
}

void sd_copy_name(char dst[PN_NAME_MAX], const char *src)
{
    size_t len = 0;
    while (len < PN_NAME_MAX - 1 && src[len] != '\0') {
        len++;
    }
    memmove(dst, src, len);
    dst[len] = '\0';
}
