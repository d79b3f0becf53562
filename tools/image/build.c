/*
 * pinion-image's whole job: load and check the inputs, plan, then write the
 * image and the manifest so that either both appear or neither changes.
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include "atomic_file.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Both files are written in full before either is renamed into place. */
static bool write_outputs(const struct img_plan *plan, const struct img_elf *kernel,
                          const struct img_options *options, const char *manifest,
                          struct sd_error *err)
{
    struct sd_atomic_file image, manifest_file;
    if (!sd_atomic_open(&image, options->output_path, err)) {
        return false;
    }
    if (!img_write_image_stream(plan, kernel, image.file, options->output_path, err)) {
        sd_atomic_abort(&image);
        return false;
    }
    if (manifest == NULL) {
        return sd_atomic_commit(&image, err);
    }
    if (!sd_atomic_open(&manifest_file, options->manifest_path, err)) {
        sd_atomic_abort(&image);
        return false;
    }
    if (fputs(manifest, manifest_file.file) == EOF || fputc('\n', manifest_file.file) == EOF) {
        sd_atomic_abort(&manifest_file);
        sd_atomic_abort(&image);
        return img_fail(err, "%s: cannot write", options->manifest_path);
    }
    if (!sd_atomic_commit(&image, err)) {
        sd_atomic_abort(&manifest_file);
        return false;
    }
    if (!sd_atomic_commit(&manifest_file, err)) {
        /* Too late to keep the old image; at least no image without its manifest. */
        unlink(options->output_path);
        return false;
    }
    return true;
}

bool img_build(const struct img_options *options, struct sd_error *err)
{
    struct sd_system *sys = sd_system_new();
    struct sd_placement *placement = calloc(1, sizeof *placement);
    struct img_plan *plan = img_plan_new();
    struct img_elf kernel;
    memset(&kernel, 0, sizeof kernel);
    char *manifest = NULL;
    bool ok = sys != NULL && placement != NULL && plan != NULL;
    if (!ok) {
        img_fail(err, "pinion-image: out of memory");
    }
    ok = ok && sd_load_file(options->system_path, sys, err);
    if (ok && options->placement_path != NULL) {
        ok = sd_load_placement(sys, options->placement_path, placement, err);
    } else if (ok) {
        sd_default_placement(sys, placement);
    }
    ok = ok && img_elf_read(options->kernel_path, &kernel, err) && img_check_kernel(&kernel, err);
    ok = ok && img_plan_build(plan, sys, placement, options->programs_dir, options->memory, err);
    if (ok && options->manifest_path != NULL) {
        manifest = img_manifest_text(plan, options);
        if (manifest == NULL) {
            ok = img_fail(err, "%s: out of memory", options->manifest_path);
        }
    }
    ok = ok && write_outputs(plan, &kernel, options, manifest, err);
    free(manifest);
    img_elf_free(&kernel);
    img_plan_free(plan);
    free(placement);
    sd_system_free(sys);
    return ok;
}
