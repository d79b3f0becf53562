/*
 * Loads a component program for one PD. Each PD gets a private copy of the
 * shared object, because the dynamic loader hands out one instance per file:
 * two PDs running the same program must not share its globals.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool copy_file(const char *from, const char *to, char *err, size_t err_len)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, err_len, "%s: %s", from, strerror(errno));
        return false;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0) {
        snprintf(err, err_len, "%s: %s", to, strerror(errno));
        close(in);
        return false;
    }
    char buf[65536];
    ssize_t n;
    bool ok = true;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            ok = false;
            break;
        }
    }
    if (n < 0 || !ok) {
        snprintf(err, err_len, "copying %s to %s: %s", from, to, strerror(errno));
        ok = false;
    }
    close(in);
    if (close(out) != 0) {
        ok = false;
    }
    return ok;
}

bool hosted_load_module(struct pn_hosted_system *hs, struct hosted_pd *pd, const char *program,
                        char *err, size_t err_len)
{
    char source[512], copy[512], why[300];
    const char *name = pd->config.name;
    snprintf(source, sizeof source, "%s/%s.so", hs->options.component_dir, program);
    if (access(source, R_OK) != 0) {
        snprintf(err, err_len, "PD \"%s\": program \"%s\" not found (looked for %s)", name, program,
                 source);
        return false;
    }
    snprintf(copy, sizeof copy, "%s/%s.so", hs->module_dir, name);
    if (!copy_file(source, copy, why, sizeof why)) {
        snprintf(err, err_len, "PD \"%s\": %s", name, why);
        return false;
    }
    pd->module = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    unlink(copy); /* the mapping stays; nothing is left behind */
    if (pd->module == NULL) {
        snprintf(err, err_len, "PD \"%s\": cannot load %s: %s", name, source, dlerror());
        return false;
    }
    *(void **)&pd->init = dlsym(pd->module, "init");
    *(void **)&pd->notified = dlsym(pd->module, "notified");
    *(void **)&pd->protected_entry = dlsym(pd->module, "protected");
    if (pd->init == NULL || pd->notified == NULL) {
        snprintf(err, err_len, "PD \"%s\": program %s defines no %s()", name, source,
                 pd->init == NULL ? "init" : "notified");
        return false;
    }
    return true;
}
