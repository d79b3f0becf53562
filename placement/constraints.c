/*
 * Constraints: parsing (flags and JSON) and consistency. Contradictions
 * ("a cycle in the pins") are defined in docs/place.md: a together chain
 * joining PDs pinned to different cores, or joining two PDs that must be
 * apart, or an exclusive PD together with another, or pinned where another
 * PD is pinned; and more cores demanded than the machine (or --max-cores)
 * gives. Each is reported with the constraints that make it.
 */
#include "constraints.h"

#include "jsonread.h"
#include "solve.h"

#include <stdlib.h>
#include <string.h>

static bool split_names(struct pl_constraint *c, const char *list, struct sd_error *err)
{
    const char *at = list;
    c->n = 0;
    while (*at != '\0') {
        const char *comma = strchr(at, ',');
        size_t len = comma != NULL ? (size_t)(comma - at) : strlen(at);
        if (len == 0 || len >= PL_NAME_MAX || c->n == PL_MAX_SET) {
            return pl_fail(err, "%s: names must be 1 to %d characters, at most %d of them",
                           c->where, PL_NAME_MAX - 1, PL_MAX_SET);
        }
        memcpy(c->names[c->n], at, len);
        c->names[c->n++][len] = '\0';
        at += len + (comma != NULL ? 1 : 0);
        if (comma != NULL && *at == '\0') {
            return pl_fail(err, "%s: a name is missing after the last comma", c->where);
        }
    }
    return c->n > 0 ? true : pl_fail(err, "%s: no names", c->where);
}

static struct pl_constraint *next_slot(struct pl_constraint *array, uint32_t *n,
                                       struct sd_error *err)
{
    if (*n == PL_MAX_CONSTRAINTS) {
        pl_fail(err, "more than %d constraints of one kind", PL_MAX_CONSTRAINTS);
        return NULL;
    }
    struct pl_constraint *c = &array[(*n)++];
    memset(c, 0, sizeof *c);
    c->core = -1;
    return c;
}

static bool parse_count(const char *text, long min, long max, long *out)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < min || value > max) {
        return false;
    }
    *out = value;
    return true;
}

bool pl_constraints_add(struct pl_constraint_spec *spec, const char *kind, const char *value,
                        struct sd_error *err)
{
    struct pl_constraint *c = NULL;
    if (strcmp(kind, "max-cores") == 0) {
        long n;
        if (!parse_count(value, 1, PL_MAX_CORES, &n)) {
            return pl_fail(err, "--max-cores %s: must be a number of cores, 1 to %d", value,
                           PL_MAX_CORES);
        }
        spec->max_cores = (uint32_t)n;
        snprintf(spec->max_cores_where, sizeof spec->max_cores_where, "--max-cores %ld", n);
        return true;
    }
    if (strcmp(kind, "pin") == 0) {
        c = next_slot(spec->pin, &spec->n_pin, err);
    } else if (strcmp(kind, "exclusive") == 0) {
        c = next_slot(spec->exclusive, &spec->n_exclusive, err);
    } else if (strcmp(kind, "apart") == 0) {
        c = next_slot(spec->apart, &spec->n_apart, err);
    } else if (strcmp(kind, "together") == 0) {
        c = next_slot(spec->together, &spec->n_together, err);
    } else {
        return pl_fail(err, "unknown constraint kind \"%s\"", kind);
    }
    if (c == NULL) {
        return false;
    }
    snprintf(c->where, sizeof c->where, "--%s %.100s", kind, value);
    if (strcmp(kind, "pin") == 0) {
        const char *equals = strrchr(value, '=');
        long core;
        if (equals == NULL || equals == value ||
            !parse_count(equals + 1, 0, PL_MAX_CORES - 1, &core)) {
            return pl_fail(err, "%s: write PD=CORE, e.g. --pin ethernet_driver=0", c->where);
        }
        c->core = (int)core;
        char name[PL_NAME_MAX * 2];
        snprintf(name, sizeof name, "%.*s", (int)(equals - value), value);
        return split_names(c, name, err);
    }
    if (!split_names(c, value, err)) {
        return false;
    }
    if ((strcmp(kind, "apart") == 0 || strcmp(kind, "together") == 0) && c->n < 2) {
        return pl_fail(err, "%s: name at least two PDs, separated by commas", c->where);
    }
    if (strcmp(kind, "exclusive") == 0 && c->n != 1) {
        return pl_fail(err, "%s: one PD per --exclusive", c->where);
    }
    return true;
}

static bool load_lists(struct jr_ctx *ctx, const json_t *root, const char *key,
                       struct pl_constraint *array, uint32_t *n, bool single)
{
    json_t *lists;
    if (!jr_member(ctx, "top level", root, key, JSON_ARRAY, false, &lists)) {
        return false;
    }
    size_t index;
    json_t *entry;
    json_array_foreach(lists, index, entry)
    {
        struct pl_constraint *c = next_slot(array, n, ctx->err);
        if (c == NULL) {
            return false;
        }
        snprintf(c->where, sizeof c->where, "%.100s: %s[%zu]", ctx->origin, key, index);
        json_t *names = single ? NULL : entry;
        if (single && json_is_string(entry)) {
            snprintf(c->names[0], PL_NAME_MAX, "%s", json_string_value(entry));
            c->n = 1;
            continue;
        }
        if (!json_is_array(names) || json_array_size(names) < 2 ||
            json_array_size(names) > PL_MAX_SET) {
            return jr_fail(ctx, "%s[%zu]: must be %s", key, index,
                           single ? "a PD name" : "an array of 2 to 16 PD names");
        }
        size_t k;
        json_t *name;
        json_array_foreach(names, k, name)
        {
            if (!json_is_string(name) || json_string_length(name) >= PL_NAME_MAX) {
                return jr_fail(ctx, "%s[%zu][%zu]: must be a PD name", key, index, k);
            }
            snprintf(c->names[c->n++], PL_NAME_MAX, "%s", json_string_value(name));
        }
    }
    return true;
}

bool pl_constraints_load(struct pl_constraint_spec *spec, const char *path, struct sd_error *err)
{
    struct jr_ctx ctx = {.origin = path, .err = err};
    json_t *root = jr_load_object(&ctx, path);
    if (root == NULL) {
        return false;
    }
    static const char *const fields[] = {"pin",      "exclusive", "apart",
                                         "together", "max_cores", NULL};
    json_t *pins;
    double max_cores = 0;
    bool ok = jr_check_fields(&ctx, "top level", root, fields) &&
              jr_member(&ctx, "top level", root, "pin", JSON_OBJECT, false, &pins) &&
              jr_number(&ctx, "top level", root, "max_cores", false, 1, PL_MAX_CORES, &max_cores) &&
              load_lists(&ctx, root, "exclusive", spec->exclusive, &spec->n_exclusive, true) &&
              load_lists(&ctx, root, "apart", spec->apart, &spec->n_apart, false) &&
              load_lists(&ctx, root, "together", spec->together, &spec->n_together, false);
    const char *key;
    json_t *value;
    json_object_foreach(ok ? pins : NULL, key, value)
    {
        if (jr_is_comment(key)) {
            continue;
        }
        struct pl_constraint *c = next_slot(spec->pin, &spec->n_pin, err);
        if (c == NULL || !json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) >= PL_MAX_CORES || strlen(key) >= PL_NAME_MAX) {
            ok = c == NULL ? false : jr_fail(&ctx, "pin \"%.64s\": must be a core number", key);
            break;
        }
        snprintf(c->where, sizeof c->where, "%.100s: pin \"%.40s\"", path, key);
        snprintf(c->names[0], PL_NAME_MAX, "%s", key);
        c->n = 1;
        c->core = (int)json_integer_value(value);
    }
    if (ok && max_cores > 0) {
        spec->max_cores = (uint32_t)max_cores;
        snprintf(spec->max_cores_where, sizeof spec->max_cores_where, "%.100s: max_cores", path);
    }
    json_decref(root);
    return ok;
}

/* The entities a name stands for: a PD or vCPU, or every vCPU of a VM. */
static uint32_t resolve(const struct pl_problem *p, const char *name, int *out)
{
    int e = pl_entity_find(p, name);
    if (e >= 0) {
        out[0] = e;
        return 1;
    }
    size_t len = strlen(name);
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->n_entities && n < PL_MAX_SET * 8; i++) {
        if (strncmp(p->entities[i].name, name, len) == 0 && p->entities[i].name[len] == '/') {
            out[n++] = (int)i;
        }
    }
    return n;
}

/* Together links, kept to explain a contradiction by the chain that makes it. */
struct links {
    uint32_t n;
    int a[PL_MAX_CONSTRAINTS * PL_MAX_SET * 8], b[PL_MAX_CONSTRAINTS * PL_MAX_SET * 8];
    const char *where[PL_MAX_CONSTRAINTS * PL_MAX_SET * 8];
};

static int find_root(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* "a - b - c (--together a,b; --together b,c)": the shortest chain of together links. */
static void describe_chain(const struct pl_problem *p, const struct links *links, int from, int to,
                           char *out, size_t size)
{
    int previous[PL_MAX_ENTITIES], via[PL_MAX_ENTITIES], queue[PL_MAX_ENTITIES];
    for (int i = 0; i < PL_MAX_ENTITIES; i++) {
        previous[i] = -2;
    }
    int head = 0, tail = 0;
    queue[tail++] = from;
    previous[from] = -1;
    while (head < tail && previous[to] == -2) {
        int at = queue[head++];
        for (uint32_t k = 0; k < links->n; k++) {
            int next = links->a[k] == at ? links->b[k] : (links->b[k] == at ? links->a[k] : -1);
            if (next >= 0 && previous[next] == -2) {
                previous[next] = at;
                via[next] = (int)k;
                queue[tail++] = next;
            }
        }
    }
    int path[PL_MAX_ENTITIES], n = 0;
    for (int at = to; at >= 0 && n < PL_MAX_ENTITIES; at = previous[at]) {
        path[n++] = at;
    }
    size_t used = 0;
    out[0] = '\0';
    for (int k = n - 1; k >= 0; k--) {
        used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
                                 k == n - 1 ? "" : " - ", p->entities[path[k]].name);
    }
    used += (size_t)snprintf(out + used, used < size ? size - used : 0, " (");
    const char *last = NULL;
    for (int k = n - 2; k >= 0; k--) {
        const char *where = links->where[via[path[k]]];
        if (where != last) {
            used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
                                     last != NULL ? "; " : "", where);
            last = where;
        }
    }
    snprintf(out + used, used < size ? size - used : 0, ")");
}

struct applying {
    struct pl_problem *p;
    const struct pl_constraint_spec *spec;
    struct links links;
    int parent[PL_MAX_ENTITIES];
    const char *pin_where[PL_MAX_ENTITIES];
    struct sd_error *err;
};

static bool resolve_all(struct applying *a, const struct pl_constraint *c, int *out, uint32_t *n)
{
    *n = 0;
    for (uint32_t k = 0; k < c->n; k++) {
        uint32_t got = resolve(a->p, c->names[k], out + *n);
        if (got == 0) {
            return pl_fail(a->err, "%s: no PD or vCPU \"%s\" to place", c->where, c->names[k]);
        }
        *n += got;
    }
    return true;
}

static bool apply_pins(struct applying *a, const char *machine)
{
    struct pl_constraints *k = &a->p->constraints;
    int entities[PL_MAX_SET * 8];
    uint32_t n;
    for (uint32_t i = 0; i < a->spec->n_pin; i++) {
        const struct pl_constraint *c = &a->spec->pin[i];
        if (!resolve_all(a, c, entities, &n)) {
            return false;
        }
        if ((uint32_t)c->core >= a->p->machine.n_cores) {
            return pl_fail(a->err, "%s: core %d is not on %s (cores 0-%u)", c->where, c->core,
                           machine, a->p->machine.n_cores - 1);
        }
        for (uint32_t j = 0; j < n; j++) {
            int e = entities[j];
            if (k->pin[e] >= 0 && k->pin[e] != c->core) {
                return pl_fail(a->err, "%s contradicts %s: %s cannot be on cores %d and %d",
                               c->where, a->pin_where[e], a->p->entities[e].name, k->pin[e],
                               c->core);
            }
            k->pin[e] = c->core;
            a->pin_where[e] = c->where;
        }
    }
    return true;
}

static bool apply_together(struct applying *a)
{
    int entities[PL_MAX_SET * 8];
    uint32_t n;
    for (uint32_t i = 0; i < a->spec->n_together; i++) {
        const struct pl_constraint *c = &a->spec->together[i];
        if (!resolve_all(a, c, entities, &n)) {
            return false;
        }
        for (uint32_t j = 1; j < n; j++) {
            struct links *l = &a->links;
            l->a[l->n] = entities[j - 1];
            l->b[l->n] = entities[j];
            l->where[l->n++] = c->where;
            int x = find_root(a->parent, entities[j - 1]), y = find_root(a->parent, entities[j]);
            a->parent[x > y ? x : y] = x < y ? x : y;
        }
    }
    struct pl_problem *p = a->p;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        p->constraints.group[i] = find_root(a->parent, (int)i);
    }
    /* Two pins in one together group must agree. */
    int group_pin[PL_MAX_ENTITIES];
    for (uint32_t i = 0; i < p->n_entities; i++) {
        group_pin[i] = -1;
    }
    for (uint32_t i = 0; i < p->n_entities; i++) {
        int g = p->constraints.group[i], pin = p->constraints.pin[i];
        if (pin < 0) {
            continue;
        }
        if (group_pin[g] >= 0 && p->constraints.pin[group_pin[g]] != pin) {
            int other = group_pin[g];
            char chain[SD_ERROR_MAX];
            describe_chain(p, &a->links, other, (int)i, chain, sizeof chain);
            return pl_fail(a->err,
                           "constraints contradict each other: %s is pinned to core %d (%s) and "
                           "%s to core %d (%s), but together chain %s puts them on one core",
                           p->entities[other].name, p->constraints.pin[other], a->pin_where[other],
                           p->entities[i].name, pin, a->pin_where[i], chain);
        }
        group_pin[g] = (int)i;
    }
    return true;
}

/* The core a whole group is pinned to, or -1. */
static int group_pin(const struct pl_problem *p, int group, int *pinned_by)
{
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (p->constraints.group[i] == group && p->constraints.pin[i] >= 0) {
            *pinned_by = (int)i;
            return p->constraints.pin[i];
        }
    }
    return -1;
}

static bool apply_exclusive(struct applying *a)
{
    struct pl_problem *p = a->p;
    int entities[PL_MAX_SET * 8];
    uint32_t n;
    for (uint32_t i = 0; i < a->spec->n_exclusive; i++) {
        const struct pl_constraint *c = &a->spec->exclusive[i];
        if (!resolve_all(a, c, entities, &n)) {
            return false;
        }
        for (uint32_t j = 0; j < n; j++) {
            int e = entities[j];
            p->constraints.exclusive[e] = true;
            for (uint32_t o = 0; o < p->n_entities; o++) {
                if ((int)o != e && p->constraints.group[o] == p->constraints.group[e]) {
                    char chain[SD_ERROR_MAX];
                    describe_chain(p, &a->links, e, (int)o, chain, sizeof chain);
                    return pl_fail(a->err,
                                   "constraints contradict each other: %s must have a core of "
                                   "its own (%s), but together chain %s puts %s with it",
                                   p->entities[e].name, c->where, chain, p->entities[o].name);
                }
            }
            int by = -1, core = group_pin(p, p->constraints.group[e], &by);
            for (uint32_t o = 0; core >= 0 && o < p->n_entities; o++) {
                int other_by = -1;
                if ((int)o != e && group_pin(p, p->constraints.group[o], &other_by) == core) {
                    return pl_fail(a->err,
                                   "constraints contradict each other: %s must have core %d to "
                                   "itself (%s; %s), but %s is pinned there too (%s)",
                                   p->entities[e].name, core, c->where, a->pin_where[by],
                                   p->entities[o].name, a->pin_where[other_by]);
                }
            }
        }
    }
    return true;
}

static bool apply_apart(struct applying *a)
{
    struct pl_problem *p = a->p;
    struct pl_constraints *k = &p->constraints;
    int entities[PL_MAX_SET * 8];
    uint32_t n, usable = k->max_cores && k->max_cores < p->machine.n_cores ? k->max_cores
                                                                           : p->machine.n_cores;
    for (uint32_t i = 0; i < a->spec->n_apart; i++) {
        const struct pl_constraint *c = &a->spec->apart[i];
        if (!resolve_all(a, c, entities, &n)) {
            return false;
        }
        if (n > usable) {
            return pl_fail(a->err,
                           "%s: %u PDs and vCPUs to keep apart need %u cores; %u can be used",
                           c->where, n, n, usable);
        }
        for (uint32_t x = 0; x < n; x++) {
            for (uint32_t y = x + 1; y < n; y++) {
                int e = entities[x], f = entities[y];
                if (e == f) {
                    return pl_fail(a->err, "%s: %s cannot be apart from itself", c->where,
                                   p->entities[e].name);
                }
                if (k->group[e] == k->group[f]) {
                    char chain[SD_ERROR_MAX];
                    describe_chain(p, &a->links, e, f, chain, sizeof chain);
                    return pl_fail(a->err,
                                   "constraints contradict each other: %s keeps %s and %s apart, "
                                   "but together chain %s puts them on one core",
                                   c->where, p->entities[e].name, p->entities[f].name, chain);
                }
                int by_e = -1, by_f = -1;
                int core_e = group_pin(p, k->group[e], &by_e),
                    core_f = group_pin(p, k->group[f], &by_f);
                if (core_e >= 0 && core_e == core_f) {
                    return pl_fail(a->err,
                                   "constraints contradict each other: %s keeps %s and %s apart, "
                                   "but both are pinned to core %d (%s; %s)",
                                   c->where, p->entities[e].name, p->entities[f].name, core_e,
                                   a->pin_where[by_e], a->pin_where[by_f]);
                }
                if (k->n_apart == PL_MAX_APART) {
                    return pl_fail(a->err, "%s: more than %d apart pairs", c->where, PL_MAX_APART);
                }
                k->apart[k->n_apart][0] = e;
                k->apart[k->n_apart++][1] = f;
            }
        }
    }
    return true;
}

/* Pins that, with the exclusive PDs, need more distinct cores than may be used. */
static bool check_counts(struct applying *a)
{
    struct pl_problem *p = a->p;
    struct pl_constraints *k = &p->constraints;
    if (k->max_cores == 0) {
        return true;
    }
    bool pinned[PL_MAX_CORES] = {false};
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < p->n_entities; i++) {
        if (k->pin[i] >= 0 && !pinned[k->pin[i]]) {
            pinned[k->pin[i]] = true;
            distinct++;
        }
    }
    if (distinct > k->max_cores) {
        return pl_fail(a->err,
                       "constraints contradict each other: the pins use %u different "
                       "cores, but %s allows %u",
                       distinct, a->spec->max_cores_where, k->max_cores);
    }
    return true;
}

bool pl_constraints_apply(const struct pl_constraint_spec *spec, struct pl_problem *problem,
                          const char *machine, struct sd_error *err)
{
    static _Thread_local struct applying a;
    memset(&a, 0, sizeof a);
    a.p = problem;
    a.spec = spec;
    a.err = err;
    for (int i = 0; i < PL_MAX_ENTITIES; i++) {
        a.parent[i] = i;
        problem->constraints.pin[i] = -1;
        problem->constraints.group[i] = i;
        problem->constraints.exclusive[i] = false;
    }
    problem->constraints.n_apart = 0;
    problem->constraints.max_cores = spec->max_cores;
    if (!apply_pins(&a, machine) || !apply_together(&a) || !apply_exclusive(&a) ||
        !apply_apart(&a) || !check_counts(&a)) {
        return false;
    }
    char why[SD_ERROR_MAX];
    if (!pl_constraints_consistent(problem, why, sizeof why)) {
        return pl_fail(err, "constraints cannot hold on %s: %s", machine, why);
    }
    return true;
}
