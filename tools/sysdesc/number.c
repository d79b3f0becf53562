/*
 * Sizes and addresses, which a description may write as JSON integers or as
 * strings ("0x40000000", "64KiB") because JSON has no hex and large sizes
 * are unreadable in decimal.
 */
#include "sd_internal.h"

#include <inttypes.h>

#include <stdio.h>
#include <string.h>

struct size_suffix {
    const char *text;
    uint64_t multiplier;
};

/* K, M and G are accepted as the same binary units: nobody means 1000 here. */
static const struct size_suffix size_suffixes[] = {
    {"", 1},
    {"K", UINT64_C(1) << 10},
    {"KiB", UINT64_C(1) << 10},
    {"M", UINT64_C(1) << 20},
    {"MiB", UINT64_C(1) << 20},
    {"G", UINT64_C(1) << 30},
    {"GiB", UINT64_C(1) << 30},
};

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Reads the longest run of digits in `base` from s[0..len); false when there
 * are none or the number does not fit 64 bits.
 */
static bool read_digits(const char *s, size_t len, unsigned base, uint64_t *value, size_t *used,
                        bool *overflow)
{
    uint64_t number = 0;
    size_t i = 0;
    *overflow = false;
    for (; i < len; i++) {
        int digit = digit_value(s[i]);
        if (digit < 0 || (unsigned)digit >= base) {
            break;
        }
        if (number > (UINT64_MAX - (uint64_t)digit) / base) {
            *overflow = true;
            return false;
        }
        number = number * base + (uint64_t)digit;
    }
    *value = number;
    *used = i;
    return i > 0;
}

enum number_result {
    NUMBER_OK,
    NUMBER_MALFORMED,
    NUMBER_TOO_LARGE,
    NUMBER_NEGATIVE,
};

static enum number_result parse_text(const char *s, size_t len, bool allow_suffix, uint64_t *out)
{
    uint64_t number;
    size_t used;
    bool overflow;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (!read_digits(s + 2, len - 2, 16, &number, &used, &overflow)) {
            return overflow ? NUMBER_TOO_LARGE : NUMBER_MALFORMED;
        }
        if (used != len - 2) {
            return NUMBER_MALFORMED;
        }
        *out = number;
        return NUMBER_OK;
    }
    if (!read_digits(s, len, 10, &number, &used, &overflow)) {
        return overflow ? NUMBER_TOO_LARGE : NUMBER_MALFORMED;
    }
    const char *suffix = s + used;
    size_t suffix_len = len - used;
    size_t n_suffixes = allow_suffix ? sizeof size_suffixes / sizeof size_suffixes[0] : 1;
    for (size_t i = 0; i < n_suffixes; i++) {
        if (strlen(size_suffixes[i].text) == suffix_len &&
            memcmp(size_suffixes[i].text, suffix, suffix_len) == 0) {
            if (number > UINT64_MAX / size_suffixes[i].multiplier) {
                return NUMBER_TOO_LARGE;
            }
            *out = number * size_suffixes[i].multiplier;
            return NUMBER_OK;
        }
    }
    return NUMBER_MALFORMED;
}

static enum number_result parse_number(const json_t *value, bool allow_suffix, uint64_t *out)
{
    if (json_is_integer(value)) {
        long long number = json_integer_value(value);
        if (number < 0) {
            return NUMBER_NEGATIVE;
        }
        *out = (uint64_t)number;
        return NUMBER_OK;
    }
    return parse_text(json_string_value(value), json_string_length(value), allow_suffix, out);
}

/* The value as the file wrote it: 300, or "64KQ" quoted. */
static void show_value(char *out, size_t size, const json_t *value)
{
    if (json_is_integer(value)) {
        snprintf(out, size, "%lld", (long long)json_integer_value(value));
    } else {
        sd_quote(out, size, json_string_value(value), json_string_length(value));
    }
}

/*
 * What a number field holds: a size (non-zero page multiple), an address
 * (page aligned), or a byte count or offset (any value, zero included, in
 * the size syntax; the caller checks its own alignment).
 */
enum number_kind {
    KIND_SIZE,
    KIND_ADDRESS,
    KIND_BYTES,
};

static bool get_number(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                       bool required, enum number_kind kind, uint64_t *out, bool *present)
{
    bool is_size = kind != KIND_ADDRESS;
    json_t *value;
    if (present != NULL) {
        *present = false;
    }
    if (!sd_get_value(ctx, where, obj, key, required, SD_ANY_TYPE, &value)) {
        return false;
    }
    if (value == NULL) {
        return true;
    }
    if (!json_is_integer(value) && !json_is_string(value)) {
        return sd_fail(ctx, "%s: field \"%s\" must be an integer or a string, not %s", where, key,
                       sd_json_type_name(value));
    }
    char shown[48];
    show_value(shown, sizeof shown, value);
    uint64_t number = 0;
    switch (parse_number(value, is_size, &number)) {
    case NUMBER_OK:
        break;
    case NUMBER_NEGATIVE:
        return sd_fail(ctx, "%s: %s %s must not be negative", where, key, shown);
    case NUMBER_TOO_LARGE:
        return sd_fail(ctx, "%s: %s %s is too large", where, key, shown);
    case NUMBER_MALFORMED:
        if (is_size) {
            return sd_fail(ctx,
                           "%s: %s %s is not a size (write bytes as 4096 or \"0x1000\", or with "
                           "a suffix: \"64KiB\", \"2MiB\", \"1GiB\")",
                           where, key, shown);
        }
        return sd_fail(ctx, "%s: %s %s is not an address (write 1073741824 or \"0x40000000\")",
                       where, key, shown);
    }
    if (kind == KIND_SIZE && number == 0) {
        return sd_fail(ctx, "%s: %s must not be zero", where, key);
    }
    if (kind != KIND_BYTES && number % SD_PAGE_SIZE != 0) {
        if (is_size) {
            return sd_fail(ctx, "%s: %s %s is not a multiple of the page size (%u)", where, key,
                           shown, SD_PAGE_SIZE);
        }
        return sd_fail(ctx, "%s: %s %s is not page aligned (a multiple of %u)", where, key, shown,
                       SD_PAGE_SIZE);
    }
    if (is_size ? number > SD_ADDRESS_LIMIT : number >= SD_ADDRESS_LIMIT) {
        return sd_fail(ctx, "%s: %s %s is beyond the 48-bit address space", where, key, shown);
    }
    *out = number;
    if (present != NULL) {
        *present = true;
    }
    return true;
}

bool sd_get_size(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                 bool required, uint64_t *out, bool *present)
{
    return get_number(ctx, where, obj, key, required, KIND_SIZE, out, present);
}

bool sd_get_address(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                    bool required, uint64_t *out, bool *present)
{
    return get_number(ctx, where, obj, key, required, KIND_ADDRESS, out, present);
}

bool sd_get_bytes(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                  bool required, uint64_t *out, bool *present)
{
    return get_number(ctx, where, obj, key, required, KIND_BYTES, out, present);
}

bool sd_parse_size_text(const char *text, const char *what, uint64_t *out, struct sd_error *err)
{
    char shown[48];
    sd_quote(shown, sizeof shown, text, strlen(text));
    uint64_t number = 0;
    switch (parse_text(text, strlen(text), true, &number)) {
    case NUMBER_OK:
    case NUMBER_NEGATIVE: /* only JSON integers can be negative */
        break;
    case NUMBER_TOO_LARGE:
        snprintf(err->message, sizeof err->message, "%s %s is too large", what, shown);
        return false;
    case NUMBER_MALFORMED:
        snprintf(err->message, sizeof err->message,
                 "%s %s is not a size (write bytes as 4096 or 0x1000, or with a suffix: 64KiB, "
                 "2MiB, 1GiB)",
                 what, shown);
        return false;
    }
    if (number == 0) {
        snprintf(err->message, sizeof err->message, "%s must not be zero", what);
        return false;
    }
    if (number % SD_PAGE_SIZE != 0) {
        snprintf(err->message, sizeof err->message, "%s %s is not a multiple of the page size (%u)",
                 what, shown, SD_PAGE_SIZE);
        return false;
    }
    if (number > SD_ADDRESS_LIMIT) {
        snprintf(err->message, sizeof err->message, "%s %s is beyond the 48-bit address space",
                 what, shown);
        return false;
    }
    *out = number;
    return true;
}

void sd_format_size(char *out, size_t size, uint64_t bytes)
{
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"GiB", 30}, {"MiB", 20}, {"KiB", 10}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t unit = UINT64_C(1) << units[i].shift;
        if (bytes >= unit && bytes % unit == 0) {
            snprintf(out, size, "%" PRIu64 " %s", bytes >> units[i].shift, units[i].unit);
            return;
        }
    }
    snprintf(out, size, "%" PRIu64 " bytes", bytes);
}

void sd_format_rights(char out[4], uint32_t rights)
{
    size_t n = 0;
    if (rights & PN_RIGHT_READ) {
        out[n++] = 'r';
    }
    if (rights & PN_RIGHT_WRITE) {
        out[n++] = 'w';
    }
    if (rights & PN_RIGHT_EXECUTE) {
        out[n++] = 'x';
    }
    out[n] = '\0';
}
