#include "symbol_map.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint64_t addr;
    size_t line; /* file order, to keep the sort stable */
    char *name;
};

static int by_address_then_line(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int is_text_type(char type)
{
    return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* A mapping symbol ($x, $d) or a local label is the last choice among aliases. */
static int is_preferred_name(const char *name)
{
    return name[0] != '$' && name[0] != '.';
}

/*
 * Parses `ADDR TYPE NAME`: returns the name (inside line, terminated), or
 * NULL for a line that is not a text symbol (nm also prints undefined
 * symbols, which have no address).
 */
static char *parse_text_symbol(char *line, uint64_t *addr)
{
    char *p = line, *end;

    if (!isxdigit((unsigned char)*p))
        return NULL;
    errno = 0;
    *addr = strtoull(p, &end, 16);
    if (errno || end == p || (*end != ' ' && *end != '\t'))
        return NULL;
    p = end;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!is_text_type(*p) || (p[1] != ' ' && p[1] != '\t'))
        return NULL;
    p += 2;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p;
    while (*end && !isspace((unsigned char)*end))
        end++;
    if (end == p)
        return NULL;
    *end = '\0';
    return p;
}

/* Reads every text symbol of the file into *entries (unsorted). */
static int read_entries(FILE *f, struct entry **entries, size_t *n, char *err, size_t err_size)
{
    char line[4096];
    size_t cap = 0, count = 0, line_no = 0;
    struct entry *e = NULL;

    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        uint64_t addr;
        char *name;

        line_no++;
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            /* A name longer than any kernel's: skip the rest of the line. */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
        }
        name = parse_text_symbol(line, &addr);
        if (!name)
            continue;
        if (count == cap) {
            size_t new_cap = cap ? cap * 2 : 4096;
            struct entry *grown = realloc(e, new_cap * sizeof *e);
            if (!grown)
                goto out_of_memory;
            e = grown;
            cap = new_cap;
        }
        e[count].addr = addr;
        e[count].line = line_no;
        e[count].name = malloc(strlen(name) + 1);
        if (!e[count].name)
            goto out_of_memory;
        strcpy(e[count].name, name);
        count++;
    }
    *entries = e;
    *n = count;
    return 0;

out_of_memory:
    for (size_t i = 0; i < count; i++)
        free(e[i].name);
    free(e);
    snprintf(err, err_size, "out of memory");
    return -1;
}

int symbol_map_load(struct symbol_map *map, const char *path, char *err, size_t err_size)
{
    struct entry *e = NULL;
    size_t n = 0, kept = 0;
    FILE *f = fopen(path, "r");

    memset(map, 0, sizeof *map);
    if (!f) {
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int failed = read_entries(f, &e, &n, err, err_size);
    if (!failed && ferror(f)) {
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        failed = 1;
    }
    fclose(f);
    if (failed) {
        for (size_t i = 0; i < n; i++)
            free(e[i].name);
        free(e);
        return -1;
    }
    qsort(e, n, sizeof *e, by_address_then_line);

    /* One name per address, kept in place at e[kept]. */
    for (size_t i = 0; i < n; i++) {
        if (kept && e[kept - 1].addr == e[i].addr) {
            if (!is_preferred_name(e[kept - 1].name) && is_preferred_name(e[i].name)) {
                free(e[kept - 1].name);
                e[kept - 1].name = e[i].name;
            } else {
                free(e[i].name);
            }
            continue;
        }
        e[kept++] = e[i];
    }
    if (kept < 2) {
        snprintf(err, err_size,
                 "%s: %s text symbol (types t, T, w, W: lines 'ADDR TYPE NAME'), "
                 "nothing to attribute",
                 path, kept ? "only one" : "no");
        for (size_t i = 0; i < kept; i++)
            free(e[i].name);
        free(e);
        return -1;
    }
    map->start = malloc(kept * sizeof *map->start);
    map->name = malloc(kept * sizeof *map->name);
    if (!map->start || !map->name) {
        for (size_t i = 0; i < kept; i++)
            free(e[i].name);
        free(e);
        symbol_map_free(map);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < kept; i++) {
        map->start[i] = e[i].addr;
        map->name[i] = e[i].name;
    }
    map->n_symbols = kept;
    free(e);
    return 0;
}

size_t symbol_map_find(const struct symbol_map *map, uint64_t addr, uint64_t *range_end)
{
    size_t lo = 0, hi = map->n_symbols;

    if (!map->n_symbols || addr < map->start[0]) {
        *range_end = map->n_symbols ? map->start[0] : UINT64_MAX;
        return SYMBOL_NONE;
    }
    /* The last symbol at or below addr: start[lo] <= addr < start[hi]. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (map->start[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == map->n_symbols - 1) {
        *range_end = UINT64_MAX;
        return SYMBOL_NONE;
    }
    *range_end = map->start[lo + 1];
    return lo;
}

void symbol_map_free(struct symbol_map *map)
{
    if (map->name) {
        for (size_t i = 0; i < map->n_symbols; i++)
            free(map->name[i]);
    }
    free(map->name);
    free(map->start);
    memset(map, 0, sizeof *map);
}
