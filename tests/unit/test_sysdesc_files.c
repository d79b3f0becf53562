/*
 * Every example description: each under tests/data/sysdesc/good/ loads, and
 * each under tests/data/sysdesc/bad/ is rejected with a one-line message
 * that holds the fragment the file records under "_expect" (keys starting
 * with '_' are comments to the loader), naming file, object and problem.
 */
#define _POSIX_C_SOURCE 200809L

#include "sysdesc_fixture.h"

#include <dirent.h>

/* The text of "_expect" in a file, JSON escapes undone; false when there is none. */
static bool expected_fragment(const char *text, char *out, size_t size)
{
    static const char key[] = "\"_expect\": \"";
    const char *p = strstr(text, key);
    if (p == NULL) {
        return false;
    }
    p += sizeof key - 1;
    size_t n = 0;
    for (; *p != '\0' && *p != '"' && n + 1 < size; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    return *p == '"';
}

static char *read_whole_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    char *text = calloc(1, 1 << 20);
    if (text != NULL) {
        size_t len = fread(text, 1, (1 << 20) - 1, file);
        text[len] = '\0';
    }
    fclose(file);
    return text;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .json files in `relative`, sorted, as a NULL-terminated array of malloc'd names. */
static char **list_json_files(const char *relative, size_t *count)
{
    char dir_path[2048];
    source_path(dir_path, sizeof dir_path, relative);
    DIR *dir = opendir(dir_path);
    *count = 0;
    if (dir == NULL) {
        fprintf(stderr, "cannot open %s (set PINION_SOURCE_DIR to the repository)\n", dir_path);
        check_failures++;
        return NULL;
    }
    char **names = calloc(1024, sizeof *names);
    struct dirent *entry;
    while (names != NULL && (entry = readdir(dir)) != NULL && *count < 1023) {
        size_t len = strlen(entry->d_name);
        if (len > 5 && strcmp(entry->d_name + len - 5, ".json") == 0) {
            names[(*count)++] = strdup(entry->d_name);
        }
    }
    closedir(dir);
    if (names != NULL) {
        qsort(names, *count, sizeof *names, compare_names);
    }
    return names;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
}

static void test_bad_files(void)
{
    size_t count;
    char **names = list_json_files("tests/data/sysdesc/bad", &count);
    CHECK(count >= 60);
    for (size_t i = 0; i < count; i++) {
        char relative[512], path[2048], expect[SD_ERROR_MAX];
        snprintf(relative, sizeof relative, "tests/data/sysdesc/bad/%s", names[i]);
        source_path(path, sizeof path, relative);
        char *text = read_whole_file(path);
        CHECK(text != NULL);
        if (text == NULL) {
            continue;
        }
        if (!expected_fragment(text, expect, sizeof expect)) {
            fprintf(stderr, "%s has no \"_expect\"\n", path);
            check_failures++;
            free(text);
            continue;
        }
        struct sd_error err;
        int before = check_failures;
        CHECK(!sd_load_file(path, sys, &err));
        /* The file first, then the object and the problem, on one line. */
        CHECK(strncmp(err.message, path, strlen(path)) == 0);
        CHECK_STR_CONTAINS(err.message, expect);
        CHECK(strchr(err.message, '\n') == NULL);
        if (check_failures != before) {
            fprintf(stderr, "  in %s\n", names[i]);
        }
        free(text);
    }
    free_names(names, count);
}

static void test_good_files(void)
{
    size_t count;
    char **names = list_json_files("tests/data/sysdesc/good", &count);
    CHECK(count >= 3);
    for (size_t i = 0; i < count; i++) {
        char relative[512], path[2048];
        snprintf(relative, sizeof relative, "tests/data/sysdesc/good/%s", names[i]);
        source_path(path, sizeof path, relative);
        struct sd_error err;
        bool ok = sd_load_file(path, sys, &err);
        if (!ok) {
            fprintf(stderr, "%s\n", err.message);
        }
        CHECK(ok);
        for (uint32_t p = 0; ok && p < sys->n_pds; p++) {
            struct pn_config cfg;
            sd_build_config(sys, (int)p, &cfg);
            CHECK_EQ(cfg.magic, PN_CONFIG_MAGIC);
            CHECK_EQ(cfg.n_regions, sys->pds[p].n_maps);
        }
    }
    free_names(names, count);
}

int main(void)
{
    if (!fixture_setup()) {
        return 1;
    }
    RUN_TEST(test_bad_files);
    RUN_TEST(test_good_files);
    sd_system_free(sys);
    return check_exit();
}
