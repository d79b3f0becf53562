/*
 * Output files that appear whole or not at all: written to a temporary file
 * beside the target, then renamed over it, so that a reader (an experiment
 * script, `make`) never sees half a file and a failed run leaves an older
 * file untouched.
 */
#ifndef PINION_ATOMIC_FILE_H
#define PINION_ATOMIC_FILE_H

#include "sysdesc.h"

#include <stdio.h>

struct sd_atomic_file {
    FILE *file;      /* write here between open and commit */
    char *path;      /* the file it becomes */
    char *temp_path; /* where it is written meanwhile */
};

/* Creates the temporary file; on failure fills *err ("PATH: cannot create ...: why"). */
bool sd_atomic_open(struct sd_atomic_file *out, const char *path, struct sd_error *err);

/*
 * Flushes, syncs and renames the temporary file over the target. On failure
 * fills *err and removes the temporary file. Frees what open allocated
 * either way.
 */
bool sd_atomic_commit(struct sd_atomic_file *out, struct sd_error *err);

/* Closes and removes the temporary file; the target is left as it was. */
void sd_atomic_abort(struct sd_atomic_file *out);

#endif
