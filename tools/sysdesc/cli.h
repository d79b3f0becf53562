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

#endif
