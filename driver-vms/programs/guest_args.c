/* The guest programs' option syntax (see guest_args.h). */
#include "guest_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool guest_args_number(const char *text, unsigned long long min, unsigned long long max,
                       unsigned long long *value)
{
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *value = v;
    return true;
}

enum guest_arg guest_args_next(int argc, char **argv, int *i, const char *const *options, size_t n,
                               const char **option, const char **value, char *err, size_t err_size)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        return GUEST_ARG_HELP;
    }
    for (size_t o = 0; o < n; o++) {
        size_t len = strlen(options[o]);
        if (strncmp(arg, options[o], len) != 0 || (arg[len] != '\0' && arg[len] != '=')) {
            continue;
        }
        *option = options[o];
        if (arg[len] == '=') {
            *value = arg + len + 1;
        } else if (*i + 1 < argc) {
            *value = argv[++*i];
        } else {
            snprintf(err, err_size, "%s needs a value", options[o]);
            return GUEST_ARG_ERROR;
        }
        return GUEST_ARG_OPTION;
    }
    snprintf(err, err_size, arg[0] == '-' ? "unknown option \"%s\"" : "unexpected argument \"%s\"",
             arg);
    return GUEST_ARG_ERROR;
}
