/*
 * A minimal assertion kit for host unit tests: every failed check prints
 * where and what, the test goes on, and check_exit() turns any failure into
 * a non-zero exit status for ctest.
 */
#ifndef PINION_TESTS_CHECK_H
#define PINION_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(actual, expected)                                                                 \
    do {                                                                                           \
        check_count++;                                                                             \
        uint64_t check_a_ = (uint64_t)(actual), check_e_ = (uint64_t)(expected);                   \
        if (check_a_ != check_e_) {                                                                \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s is %" PRIu64 ", expected %" PRIu64 "\n", __FILE__,          \
                    __LINE__, #actual, check_a_, check_e_);                                        \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        check_count++;                                                                             \
        const char *check_h_ = (haystack), *check_n_ = (needle);                                   \
        if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL) {                              \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,         \
                    check_h_ ? check_h_ : "(null)", check_n_);                                     \
        }                                                                                          \
    } while (0)

#define RUN_TEST(fn)                                                                               \
    do {                                                                                           \
        int check_before_ = check_failures;                                                        \
        fn();                                                                                      \
        fprintf(stderr, "%-48s %s\n", #fn, check_failures == check_before_ ? "ok" : "FAILED");     \
    } while (0)

static inline int check_exit(void)
{
    fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
