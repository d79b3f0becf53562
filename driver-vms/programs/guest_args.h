/*
 * The command lines of the guest programs (net-bridge, uio-ping,
 * udp-echo): options with a value, written "--opt VALUE" or "--opt=VALUE",
 * and --help (or -h).
 */
#ifndef PINION_GUEST_ARGS_H
#define PINION_GUEST_ARGS_H

#include <stdbool.h>
#include <stddef.h>

enum guest_arg {
    GUEST_ARG_OPTION, /* *option is one of the options, *value its value */
    GUEST_ARG_HELP,
    GUEST_ARG_ERROR, /* the message (without the program's name) is in err */
};

/*
 * Reads the argument at *i (advancing *i past a separate value) as one of
 * `options[0..n)`: an unknown option, a stray argument or a missing value
 * is an error.
 */
enum guest_arg guest_args_next(int argc, char **argv, int *i, const char *const *options, size_t n,
                               const char **option, const char **value, char *err, size_t err_size);

/*
 * A decimal number in [min, max] and nothing else (no sign, space or
 * suffix), into *value; false otherwise, *value untouched.
 */
bool guest_args_number(const char *text, unsigned long long min, unsigned long long max,
                       unsigned long long *value);

#endif
