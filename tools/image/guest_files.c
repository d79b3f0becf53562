/*
 * A VM's boot files: where its "kernel" and "initrd" are (absolute, or
 * relative to the guests directory), reading them, checking the kernel is
 * an arm64 Linux Image, and that both fit the VM's RAM with room left for
 * Linux. Linux's Documentation/arch/arm64/booting.rst defines the Image
 * header read here.
 */
#define _POSIX_C_SOURCE 200809L

#include "image_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMAGE_HEADER_SIZE  64
#define IMAGE_MAGIC_OFFSET 56
#define IMAGE_FLAG_BE      UINT64_C(1) /* flags bit 0: the kernel is big-endian */
#define IMAGE_SIZE_LIMIT   (UINT64_C(1) << 40)

static uint64_t read_le64(const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--) {
        value = value << 8 | bytes[i];
    }
    return value;
}

bool img_check_linux_image(const uint8_t *bytes, size_t size, const char *path,
                           struct img_linux_header *out, struct sd_error *err)
{
    static const uint8_t magic[4] = {'A', 'R', 'M', 0x64};
    if (size >= 4 && memcmp(bytes, "\177ELF", 4) == 0) {
        return img_fail(err,
                        "%s: an ELF file (a vmlinux?), not an arm64 Linux Image; give the "
                        "kernel's arch/arm64/boot/Image",
                        path);
    }
    if (size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
        return img_fail(err,
                        "%s: gzip-compressed (an Image.gz?), not an arm64 Linux Image; give it "
                        "uncompressed",
                        path);
    }
    if (size < IMAGE_HEADER_SIZE) {
        return img_fail(err,
                        "%s: %zu bytes, too short for an arm64 Linux Image (its header alone "
                        "is %d bytes)",
                        path, size, IMAGE_HEADER_SIZE);
    }
    if (memcmp(bytes + IMAGE_MAGIC_OFFSET, magic, sizeof magic) != 0) {
        return img_fail(err, "%s: not an arm64 Linux Image: no magic \"ARM\\x64\" at byte %d", path,
                        IMAGE_MAGIC_OFFSET);
    }
    out->text_offset = read_le64(bytes + 8);
    out->image_size = read_le64(bytes + 16);
    out->flags = read_le64(bytes + 24);
    if (out->flags & IMAGE_FLAG_BE) {
        return img_fail(err, "%s: a big-endian kernel (flags bit 0); guests run little-endian",
                        path);
    }
    if (out->image_size == 0) {
        return img_fail(err,
                        "%s: image_size is 0 (a kernel older than Linux 3.17), so where the "
                        "kernel's memory ends is unknown",
                        path);
    }
    if (out->image_size > IMAGE_SIZE_LIMIT || out->image_size < size) {
        return img_fail(err,
                        "%s: image_size 0x%" PRIx64 " does not fit a file of %zu bytes "
                        "(a corrupt header)",
                        path, out->image_size, size);
    }
    if (out->text_offset % IMG_PAGE_SIZE != 0 || out->text_offset >= IMG_BLOCK_SIZE) {
        return img_fail(err,
                        "%s: text_offset 0x%" PRIx64
                        " is not a page multiple below 2 MiB (a corrupt header)",
                        path, out->text_offset);
    }
    return true;
}

struct img_guest_offsets img_guest_offsets(const struct img_vm *vm)
{
    struct img_guest_offsets at;
    at.kernel = PN_GUEST_KERNEL_OFFSET + vm->header.text_offset;
    at.end = at.kernel + vm->header.image_size;
    at.initrd = 0;
    if (vm->initrd != NULL) {
        at.initrd = img_align_up(at.end, IMG_BLOCK_SIZE);
        at.end = at.initrd + vm->initrd_size;
    }
    return at;
}

/* Where a guest file is: absolute, or in the guests directory (default: the description's). */
static char *resolve(const struct img_plan *plan, const char *file, const char **dir)
{
    static const char here[] = ".";
    char source_dir[SD_PATH_MAX];
    *dir = plan->guests_dir;
    if (*dir == NULL) {
        snprintf(source_dir, sizeof source_dir, "%s", plan->sys->source);
        char *slash = strrchr(source_dir, '/');
        if (slash == NULL) {
            snprintf(source_dir, sizeof source_dir, "%s", here);
        } else {
            slash[slash == source_dir ? 1 : 0] = '\0';
        }
    }
    const char *base = *dir != NULL ? *dir : source_dir;
    size_t len = strlen(base) + strlen(file) + 2;
    char *path = malloc(len);
    if (path != NULL) {
        if (file[0] == '/') {
            snprintf(path, len, "%s", file);
        } else {
            snprintf(path, len, "%s/%s", base, file);
        }
    }
    return path;
}

/* Reads `file` (VM `v`'s "kernel" or "initrd") whole into *bytes, *size; *path is where it was. */
static bool read_guest_file(const struct img_plan *plan, int v, const char *field, const char *file,
                            char **path, uint8_t **bytes, size_t *size, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    const struct sd_pd *pd = &sys->pds[plan->vm[v].pd];
    const char *dir;
    *path = resolve(plan, file, &dir);
    if (*path == NULL) {
        return img_fail(err, "%s: out of memory", sys->source);
    }
    char where[SD_PATH_MAX + 96] = "";
    if (file[0] != '/') {
        snprintf(where, sizeof where, " (a relative path is looked up in %s, %s)",
                 dir != NULL ? dir : "the description's directory",
                 dir != NULL ? "from --guests" : "as no --guests was given");
    }
    FILE *stream = fopen(*path, "rb");
    struct stat info;
    if (stream == NULL || fstat(fileno(stream), &info) != 0 || !S_ISREG(info.st_mode)) {
        const char *why = stream == NULL ? strerror(errno) : "not a regular file";
        if (stream != NULL) {
            fclose(stream);
        }
        return img_fail(err, "%s: VM \"%s\": %s \"%s\": cannot open %s: %s%s", sys->source,
                        pd->name, field, file, *path, why, where);
    }
    if ((uint64_t)info.st_size > pd->vm.memory) {
        fclose(stream);
        char ram[32];
        sd_format_size(ram, sizeof ram, pd->vm.memory);
        return img_fail(err, "%s: VM \"%s\": %s %s: %jd bytes, more than the VM's %s of RAM",
                        sys->source, pd->name, field, *path, (intmax_t)info.st_size, ram);
    }
    *size = (size_t)info.st_size;
    *bytes = malloc(*size > 0 ? *size : 1);
    bool ok = *bytes != NULL && fread(*bytes, 1, *size, stream) == *size;
    fclose(stream);
    if (!ok) {
        return img_fail(err, "%s: cannot read all %zu bytes", *path, *size);
    }
    return true;
}

/* The kernel, the initrd and IMG_GUEST_LINUX_MIN for Linux must fit the VM's RAM. */
static bool check_fit(const struct img_plan *plan, int v, struct sd_error *err)
{
    const struct img_vm *vm = &plan->vm[v];
    const struct sd_pd *pd = &plan->sys->pds[vm->pd];
    struct img_guest_offsets at = img_guest_offsets(vm);
    uint64_t memory = pd->vm.memory;
    if (at.end <= memory && memory - at.end >= IMG_GUEST_LINUX_MIN) {
        return true;
    }
    char image_size[32], initrd[SD_PATH_MAX + 64] = "", ram[32], left[32], short_by[32];
    sd_format_size(image_size, sizeof image_size, vm->header.image_size);
    if (vm->initrd != NULL) {
        char initrd_size[32];
        sd_format_size(initrd_size, sizeof initrd_size, vm->initrd_size);
        snprintf(initrd, sizeof initrd, " and initrd (%s, %s)", vm->initrd_path, initrd_size);
    }
    sd_format_size(ram, sizeof ram, memory);
    sd_format_size(left, sizeof left, at.end < memory ? memory - at.end : 0);
    uint64_t needed = at.end + IMG_GUEST_LINUX_MIN;
    sd_format_size(short_by, sizeof short_by, needed - memory);
    return img_fail(err,
                    "%s: VM \"%s\": its kernel (%s, image_size %s)%s end 0x%" PRIx64
                    " into its RAM, leaving %s of its %s; Linux needs at least %llu MiB more: "
                    "%s short (\"memory\": \"%" PRIu64 "MiB\" would do)",
                    plan->sys->source, pd->name, vm->kernel_path, image_size, initrd, at.end, left,
                    ram, (unsigned long long)(IMG_GUEST_LINUX_MIN >> 20), short_by,
                    img_align_up(needed, UINT64_C(1) << 20) >> 20);
}

bool img_vm_read_guests(struct img_plan *plan, struct sd_error *err)
{
    for (uint32_t v = 0; v < plan->n_vms; v++) {
        struct img_vm *vm = &plan->vm[v];
        const struct sd_vm *desc = &plan->sys->pds[vm->pd].vm;
        if (!read_guest_file(plan, (int)v, "kernel", desc->kernel, &vm->kernel_path, &vm->kernel,
                             &vm->kernel_size, err) ||
            !img_check_linux_image(vm->kernel, vm->kernel_size, vm->kernel_path, &vm->header,
                                   err)) {
            return false;
        }
        if (desc->initrd[0] != '\0') {
            if (!read_guest_file(plan, (int)v, "initrd", desc->initrd, &vm->initrd_path,
                                 &vm->initrd, &vm->initrd_size, err)) {
                return false;
            }
            if (vm->initrd_size == 0) {
                return img_fail(err, "%s: empty: an initrd needs at least one byte",
                                vm->initrd_path);
            }
        }
        if (!check_fit(plan, (int)v, err)) {
            return false;
        }
    }
    return true;
}
