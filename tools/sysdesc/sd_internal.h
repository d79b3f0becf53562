/*
 * Shared between the loader's parts (fields, numbers, PDs, wiring, id
 * assignment); not for users of the library.
 */
#ifndef PINION_SYSDESC_INTERNAL_H
#define PINION_SYSDESC_INTERNAL_H

#include "sysdesc.h"

#include <jansson.h>

/*
 * Sizes and address ranges end below 2^48, the aarch64 48-bit virtual
 * address space. Keeping every range there also means vaddr + size never
 * wraps and every value fits a signed 64-bit JSON integer on output.
 */
#define SD_ADDRESS_LIMIT (UINT64_C(1) << 48)

#define SD_WHERE_MAX 192 /* "components[2] \"mux\": irqs[0] \"eth\"" and the like */
#define SD_LABEL_MAX 64  /* "components[63] \"<31 chars>\"" */

/* What holds a channel id or a local channel name at one PD. */
enum sd_owner_kind {
    SD_OWNER_NONE,
    SD_OWNER_IRQ,
    SD_OWNER_END,
};

struct sd_owner {
    enum sd_owner_kind kind;
    int index; /* IRQ index within the PD, or channel index */
    int end;   /* which end, for SD_OWNER_END */
};

/* What the loader remembers per PD beyond struct sd_pd, for messages and ids. */
struct sd_pd_state {
    char label[SD_LABEL_MAX]; /* how messages name it: components[2] "mux" */
    bool irq_id_given[PN_CONFIG_MAX_CHANNELS];
    struct sd_owner id_owner[PN_CONFIG_MAX_CHANNELS];
    int map_index[PN_CONFIG_MAX_REGIONS]; /* each map's position in "maps" */
    uint32_t n_ends;                      /* channel ends at this PD */
};

/* One parse. A placement's parse uses only origin and err (sys is NULL). */
struct sd_ctx {
    const char *origin;
    struct sd_system *sys;
    struct sd_error *err;
    struct sd_pd_state pd[SD_MAX_PDS];
    bool end_id_given[SD_MAX_CHANNELS][2];
};

/*
 * Reads a whole text file (at most 16 MiB: a wrong path to a disk image must
 * not eat memory) into a malloc'd buffer. On failure fills *err with
 * "PATH: cannot open: why" or the like.
 */
bool sd_read_text_file(const char *path, char **text, size_t *len, struct sd_error *err);

/* "origin:LINE:COLUMN: jansson's text", kept on one printable line. */
void sd_report_json_error(struct sd_error *err, const char *origin, const json_error_t *error);

/* Records "origin: <message>" as the error; returns false for tail calls. */
bool sd_fail(struct sd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Writes `s` in double quotes for a message, escaping what is not printable
 * and shortening what is long, since it may be anything the file holds.
 */
void sd_quote(char *out, size_t size, const char *s, size_t len);
const char *sd_json_type_name(const json_t *value);

/* The whole string, so that "idle\u0000x" is not "idle"; false for a non-string. */
bool sd_json_string_is(const json_t *value, const char *text);

/*
 * How messages name element `index` of `array`: with its "name" when it has
 * one, valid or not, so that a message about a bad name still says where.
 */
void sd_label_element(char *out, size_t size, const char *array, size_t index,
                      const json_t *element);

/* Every key of `obj` must be in `allowed` (NULL-terminated) or start with '_' or '$'. */
bool sd_check_fields(struct sd_ctx *ctx, const char *where, const json_t *obj,
                     const char *const *allowed);
bool sd_is_comment_key(const char *key);

/* Copies a name already known to fit PN_NAME_MAX. */
void sd_copy_name(char dst[PN_NAME_MAX], const char *src);

/*
 * Field getters. `where` names the object in messages. An absent optional
 * field leaves *out alone and sets *present to false (present may be NULL).
 */
#define SD_ANY_TYPE (-1) /* for sd_get_value: the caller checks the type itself */
bool sd_get_value(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                  bool required, int type, json_t **out);
bool sd_get_string(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                   bool required, bool allow_empty, char *out, size_t size, bool *present);
bool sd_get_name(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                 bool required, char out[PN_NAME_MAX], bool *present);
bool sd_get_int(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                bool required, long long min, long long max, long long *out, bool *present);
bool sd_check_name(struct sd_ctx *ctx, const char *where, const char *what, const char *s,
                   size_t len);
bool sd_parse_params(struct sd_ctx *ctx, const char *where, const json_t *params,
                     struct sd_param *out, uint32_t *n_out);

/*
 * Sizes ("64KiB", 4096, "0x1000": non-zero page multiples below
 * SD_ADDRESS_LIMIT) and addresses (integers or "0x..." strings, page
 * aligned, below SD_ADDRESS_LIMIT), each a JSON integer or string.
 */
bool sd_get_size(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                 bool required, uint64_t *out, bool *present);
bool sd_get_address(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                    bool required, uint64_t *out, bool *present);
/*
 * A byte count or offset in the size syntax: zero allowed, no page rule,
 * below SD_ADDRESS_LIMIT (a partition's start and size).
 */
bool sd_get_bytes(struct sd_ctx *ctx, const char *where, const json_t *obj, const char *key,
                  bool required, uint64_t *out, bool *present);

/* The loader's passes, in the order they run. */
bool sd_parse_components(struct sd_ctx *ctx, const json_t *components);
bool sd_parse_vms(struct sd_ctx *ctx, const json_t *vms);
bool sd_parse_regions(struct sd_ctx *ctx, const json_t *regions);
bool sd_parse_maps(struct sd_ctx *ctx, const json_t *maps);
bool sd_parse_channels(struct sd_ctx *ctx, const json_t *channels);
bool sd_parse_devices(struct sd_ctx *ctx, const json_t *devices);
bool sd_check_vm_devices(struct sd_ctx *ctx);
/* A block device's "partitions": their geometry (clients are checked later). */
bool sd_parse_partitions(struct sd_ctx *ctx, const char *where, const json_t *partitions,
                         struct sd_device *device);
/* After every PD, map and channel: the partitions' PDs and wiring, and their generated params. */
bool sd_check_partitions(struct sd_ctx *ctx);
bool sd_assign_ids(struct sd_ctx *ctx);

/* "irqs[0] \"eth\"" or "channels[3] \"rx\" end 1", for messages about ids and names. */
void sd_describe_owner(const struct sd_ctx *ctx, int pd, struct sd_owner owner, char *out,
                       size_t size);

#endif
