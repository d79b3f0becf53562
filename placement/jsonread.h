/*
 * Reading `place`'s own JSON inputs (profiles, constraints, measured
 * summaries) with messages in the sysdesc style: "FILE: OBJECT: PROBLEM".
 * Keys starting with '_' or '$' are comments; other unknown keys are errors.
 */
#ifndef PINION_PLACE_JSONREAD_H
#define PINION_PLACE_JSONREAD_H

#include "sysdesc.h"

#include <jansson.h>
#include <stdbool.h>

struct jr_ctx {
    const char *origin;
    struct sd_error *err;
};

bool jr_fail(struct jr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets err's message (cut to fit, as every message may be); returns false for tail calls. */
bool pl_fail(struct sd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Loads a file (rejecting duplicate keys) whose top level must be an object. */
json_t *jr_load_object(struct jr_ctx *ctx, const char *path);

bool jr_is_comment(const char *key);
bool jr_check_fields(struct jr_ctx *ctx, const char *where, const json_t *obj,
                     const char *const *allowed);

/* An optional member of a given JSON type; *out is NULL when absent. */
bool jr_member(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
               json_type type, bool required, json_t **out);

/* A number (integer or real) in [min, max]; *out untouched when absent and optional. */
bool jr_number(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
               bool required, double min, double max, double *out);

/*
 * A cost: {"value": number >= 0, "source": "non-empty text"}; a cost
 * without its source is refused, so every number says where it came from.
 */
bool jr_cost(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
             bool required, double *out);

bool jr_string(struct jr_ctx *ctx, const char *where, const json_t *obj, const char *key,
               bool required, char *out, size_t size);

const char *jr_type_name(const json_t *value);

#endif
