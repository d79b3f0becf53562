/*
 * pinion-image's whole job: load and check the inputs, plan, then write the
 * image, the manifest and the guests' device trees so that on an error none
 * of them changes.
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every output file of a build, each written to a temporary file first. */
struct outputs {
    struct sd_atomic_file image;
    struct sd_atomic_file manifest;
    uint32_t n_dtbs;
    struct sd_atomic_file dtb[PN_BOOT_MAX_VMS];
};

static void abort_outputs(struct outputs *out, bool image, bool manifest)
{
    for (uint32_t v = 0; v < out->n_dtbs; v++) {
        sd_atomic_abort(&out->dtb[v]);
    }
    out->n_dtbs = 0;
    if (manifest) {
        sd_atomic_abort(&out->manifest);
    }
    if (image) {
        sd_atomic_abort(&out->image);
    }
}

/* Each VM's device tree into a temporary DIR/<vm>.dtb, open in out->dtb[]. */
static bool write_dtbs(const struct img_plan *plan, const char *dir, struct outputs *out,
                       struct sd_error *err)
{
    for (uint32_t v = 0; v < plan->n_vms; v++) {
        const struct img_vm *vm = &plan->vm[v];
        char path[SD_PATH_MAX + PN_NAME_MAX + 8];
        snprintf(path, sizeof path, "%s/%s.dtb", dir, plan->sys->pds[vm->pd].name);
        if (!sd_atomic_open(&out->dtb[v], path, err)) {
            return false;
        }
        out->n_dtbs++;
        if (fwrite(vm->dtb, 1, vm->dtb_size, out->dtb[v].file) != vm->dtb_size) {
            return img_fail(err, "%s: cannot write", path);
        }
    }
    return true;
}

/*
 * Every file is written in full before any is renamed into place: the
 * device trees first, then the image, then the manifest.
 */
static bool write_outputs(const struct img_plan *plan, const struct img_elf *kernel,
                          const struct img_options *options, const char *manifest,
                          struct sd_error *err)
{
    struct outputs out = {.n_dtbs = 0};
    if (!sd_atomic_open(&out.image, options->output_path, err)) {
        return false;
    }
    if (!img_write_image_stream(plan, kernel, out.image.file, options->output_path, err)) {
        abort_outputs(&out, true, false);
        return false;
    }
    if (manifest != NULL) {
        if (!sd_atomic_open(&out.manifest, options->manifest_path, err)) {
            abort_outputs(&out, true, false);
            return false;
        }
        if (fputs(manifest, out.manifest.file) == EOF || fputc('\n', out.manifest.file) == EOF) {
            abort_outputs(&out, true, true);
            return img_fail(err, "%s: cannot write", options->manifest_path);
        }
    }
    if (options->dtb_out_dir != NULL && !write_dtbs(plan, options->dtb_out_dir, &out, err)) {
        abort_outputs(&out, true, manifest != NULL);
        return false;
    }
    for (uint32_t v = 0; v < out.n_dtbs; v++) {
        if (!sd_atomic_commit(&out.dtb[v], err)) {
            for (uint32_t w = v + 1; w < out.n_dtbs; w++) {
                sd_atomic_abort(&out.dtb[w]);
            }
            out.n_dtbs = 0;
            abort_outputs(&out, true, manifest != NULL);
            return false;
        }
    }
    if (!sd_atomic_commit(&out.image, err)) {
        if (manifest != NULL) {
            sd_atomic_abort(&out.manifest);
        }
        return false;
    }
    if (manifest != NULL && !sd_atomic_commit(&out.manifest, err)) {
        /* Too late to keep the old image; at least no image without its manifest. */
        unlink(options->output_path);
        return false;
    }
    return true;
}

/* --dtb-out names a directory that exists: the packer makes files, not directories. */
static bool check_dtb_dir(const char *dir, struct sd_error *err)
{
    struct stat info;
    if (stat(dir, &info) != 0) {
        return img_fail(err, "%s: cannot use as --dtb-out: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(info.st_mode)) {
        return img_fail(err, "%s: cannot use as --dtb-out: not a directory", dir);
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
    if (ok && options->dtb_out_dir != NULL) {
        ok = check_dtb_dir(options->dtb_out_dir, err);
    }
    ok = ok && sd_load_file(options->system_path, sys, err);
    if (ok && options->placement_path != NULL) {
        ok = sd_load_placement(sys, options->placement_path, placement, err);
    } else if (ok) {
        sd_default_placement(sys, placement);
    }
    ok = ok && img_elf_read(options->kernel_path, &kernel, err) && img_check_kernel(&kernel, err);
    if (ok) {
        plan->guests_dir = options->guests_dir;
    }
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
