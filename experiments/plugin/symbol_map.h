/*
 * A guest kernel's functions, from a Linux System.map (or `nm -n` output):
 * lines `ADDR TYPE NAME`, ADDR in hex. Only text symbols (types t, T, w,
 * W) are kept. Sorted by address, symbol i covers [its address, the next
 * symbol's address): function i. The last symbol only ends the function
 * before it, so nothing at or after it belongs to any function. Several
 * names at one address are aliases: one is kept, preferably one not
 * starting with '$' or '.' (assembler mapping and local symbols), else the
 * first in the file.
 */
#ifndef PN_PLUGIN_SYMBOL_MAP_H
#define PN_PLUGIN_SYMBOL_MAP_H

#include <stddef.h>
#include <stdint.h>

#define SYMBOL_NONE ((size_t)-1)

struct symbol_map {
    uint64_t *start; /* n_symbols addresses, strictly increasing */
    char **name;
    size_t n_symbols;
};

/* Functions in the map: every symbol but the last. */
static inline size_t symbol_map_functions(const struct symbol_map *map)
{
    return map->n_symbols ? map->n_symbols - 1 : 0;
}

/*
 * Reads the map at path. Returns 0, or -1 with a message in err (an
 * unreadable file, or fewer than two text symbols: nothing to attribute).
 */
int symbol_map_load(struct symbol_map *map, const char *path, char *err, size_t err_size);

/*
 * The function holding addr, or SYMBOL_NONE. *range_end is where the answer
 * stops holding: the next symbol's address, or UINT64_MAX after the last.
 */
size_t symbol_map_find(const struct symbol_map *map, uint64_t addr, uint64_t *range_end);

void symbol_map_free(struct symbol_map *map);

#endif
