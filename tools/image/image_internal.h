/* Shared between the packer's parts; not for users of the library. */
#ifndef PINION_IMAGE_INTERNAL_H
#define PINION_IMAGE_INTERNAL_H

#include "image.h"

/* Fills err->message (callers start it with the file at fault); returns false for tail calls. */
bool img_fail(struct sd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

uint64_t img_align_up(uint64_t value, uint64_t alignment); /* alignment: a power of two */

/*
 * Fills the configurations (with the IPAs chosen) and the boot information
 * from a plan whose memory, IPAs and mappings are laid out.
 */
bool img_fill_boot(struct img_plan *plan, struct sd_error *err);

/* The image ELF into an open stream; `path` is for messages. */
bool img_write_image_stream(const struct img_plan *plan, const struct img_elf *kernel, FILE *out,
                            const char *path, struct sd_error *err);

#endif
