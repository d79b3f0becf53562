/*
 * Wiring a component cannot run without: each lookup stops the PD with a
 * message naming what is missing (pn_fatal), so a mistake in the system
 * description surfaces at init, by name, instead of as a stray access.
 */
#ifndef PINION_WIRING_H
#define PINION_WIRING_H

#include <pinion/component.h>

/* The region mapped under `name`, at least `min_size` bytes long. */
void *pn_require_region(const char *name, uint64_t min_size, uint64_t *size);
pn_channel pn_require_channel(const char *name);
/* A decimal or 0x-hexadecimal parameter. */
uint64_t pn_require_param_u64(const char *key);
uint64_t pn_param_u64_or(const char *key, uint64_t fallback);
/* Parses a whole decimal or 0x-hexadecimal string; false on anything else. */
bool pn_parse_u64(const char *text, uint64_t *value);

#endif
