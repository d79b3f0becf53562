/*
 * The parts of pinion-sysdesc, one per command that needs more than a few
 * lines.
 */
#ifndef PINION_SYSDESC_CLI_H
#define PINION_SYSDESC_CLI_H

#include "sysdesc.h"

#include <stdio.h>

/* Writes the system as readable tables: PDs, regions with their maps, channels, IRQs. */
void sd_print_summary(FILE *out, const struct sd_system *sys);

/* "64 KiB", "2 MiB" or "12288 bytes": the largest binary unit that divides the size. */
void sd_format_size(char *out, size_t size, uint64_t bytes);

/* "rwx" letters for enum pn_rights. */
void sd_format_rights(char out[4], uint32_t rights);

#endif
