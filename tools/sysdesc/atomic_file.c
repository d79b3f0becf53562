/* Whole-or-nothing output files: a temporary file beside the target, renamed over it. */
#define _POSIX_C_SOURCE 200809L

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(struct sd_atomic_file *out)
{
    free(out->path);
    free(out->temp_path);
    out->path = NULL;
    out->temp_path = NULL;
    out->file = NULL;
}

bool sd_atomic_open(struct sd_atomic_file *out, const char *path, struct sd_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(path);
    out->path = strdup(path);
    out->temp_path = malloc(len + 64);
    if (out->path == NULL || out->temp_path == NULL) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", path);
        release(out);
        return false;
    }
    /*
     * Beside the target, so that rename() stays within one file system;
     * O_EXCL with a per-process name, so two runs never share one.
     */
    int fd = -1;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(out->temp_path, len + 64, "%s.tmp.%ld.%u", path, (long)getpid(), attempt);
        fd = open(out->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) {
            break;
        }
    }
    if (fd < 0) {
        snprintf(err->message, sizeof err->message, "%s: cannot create %s: %s", path,
                 out->temp_path, strerror(errno));
        release(out);
        return false;
    }
    out->file = fdopen(fd, "wb");
    if (out->file == NULL) {
        snprintf(err->message, sizeof err->message, "%s: cannot open %s: %s", path, out->temp_path,
                 strerror(errno));
        close(fd);
        unlink(out->temp_path);
        release(out);
        return false;
    }
    return true;
}

bool sd_atomic_commit(struct sd_atomic_file *out, struct sd_error *err)
{
    bool ok = fflush(out->file) == 0 && !ferror(out->file) && fsync(fileno(out->file)) == 0;
    int saved = errno;
    if (fclose(out->file) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        snprintf(err->message, sizeof err->message, "%s: cannot write: %s", out->path,
                 strerror(saved));
    } else if (rename(out->temp_path, out->path) != 0) {
        snprintf(err->message, sizeof err->message, "%s: cannot rename %s to it: %s", out->path,
                 out->temp_path, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(out->temp_path);
    }
    release(out);
    return ok;
}

void sd_atomic_abort(struct sd_atomic_file *out)
{
    if (out->file != NULL) {
        fclose(out->file);
        unlink(out->temp_path);
    }
    release(out);
}
