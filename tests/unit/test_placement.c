/*
 * Placement files: exact values from the good examples, the defaults, every
 * file under tests/data/placement/bad/ rejected with the message under its
 * "_expect", and sd_write_placement's round trip and refusals.
 */
#define _POSIX_C_SOURCE 200809L

#include "sysdesc_fixture.h"

#include "placement.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sd_placement placement;

static bool load_system(const char *relative)
{
    char path[2048];
    struct sd_error err;
    source_path(path, sizeof path, relative);
    bool ok = sd_load_file(path, sys, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    return ok;
}

static bool load_pingpong(void)
{
    char path[2048];
    struct sd_error err;
    source_path(path, sizeof path, "tests/data/placement/pingpong.json");
    bool ok = sd_load_file(path, sys, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    return ok;
}

static bool load_placement_file(const char *relative)
{
    char path[2048];
    struct sd_error err;
    source_path(path, sizeof path, relative);
    bool ok = sd_load_placement(sys, path, &placement, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    return ok;
}

static bool load_placement_text(const char *json, struct sd_error *err)
{
    return sd_load_placement_buffer(sys, json, strlen(json), "placement.json", &placement, err);
}

static void test_full(void)
{
    if (!load_pingpong() || !load_placement_file("tests/data/placement/good/full.json")) {
        return;
    }
    int ping = pd_named("ping"), pong = pd_named("pong"), log = pd_named("log");
    CHECK_EQ(placement.cores, 4);
    CHECK_EQ(placement.core[ping], 0);
    CHECK_EQ(placement.core[pong], 3);
    CHECK_EQ(placement.core[log], 1);
    CHECK(!placement.polling[ping]);
    CHECK(placement.polling[pong]);
    CHECK(!placement.polling[log]);
    CHECK_STR_CONTAINS(placement.source, "tests/data/placement/good/full.json");

    const struct sd_channel *ping_pong = channel_named("ping_pong");
    const struct sd_batching *batch = &placement.channel[ping_pong - sys->channels];
    CHECK_EQ(batch->policy, PN_BATCH_COALESCE);
    CHECK_EQ(batch->count, 8);
    CHECK_EQ(batch->window_us, 100);
    /* The default for the channels not named, and a named one that asks for immediate. */
    batch = &placement.channel[channel_named("ping_log") - sys->channels];
    CHECK_EQ(batch->policy, PN_BATCH_END_OF_HANDLER);
    CHECK_EQ(batch->count, 0);
    CHECK_EQ(batch->window_us, 0);
    CHECK_EQ(placement.channel[channel_named("pong_log") - sys->channels].policy,
             PN_BATCH_IMMEDIATE);
}

static void test_minimal_and_limits(void)
{
    if (!load_pingpong() || !load_placement_file("tests/data/placement/good/minimal.json")) {
        return;
    }
    /* Unlisted PDs keep their description's core, or 0; every channel immediate. */
    CHECK_EQ(placement.cores, 2);
    CHECK_EQ(placement.core[pd_named("ping")], 0);
    CHECK_EQ(placement.core[pd_named("pong")], 0);
    CHECK_EQ(placement.core[pd_named("log")], 1);
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        CHECK_EQ(placement.channel[c].policy, PN_BATCH_IMMEDIATE);
    }
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        CHECK(!placement.polling[p]);
    }

    if (!load_placement_file("tests/data/placement/good/limits.json")) {
        return;
    }
    CHECK_EQ(placement.cores, 8);
    CHECK_EQ(placement.core[pd_named("ping")], 7);
    const struct sd_batching *fallback =
        &placement.channel[channel_named("ping_pong") - sys->channels];
    CHECK_EQ(fallback->policy, PN_BATCH_COALESCE);
    CHECK_EQ(fallback->count, 65535);
    CHECK_EQ(fallback->window_us, 1000000);
    const struct sd_batching *smallest =
        &placement.channel[channel_named("ping_log") - sys->channels];
    CHECK_EQ(smallest->count, 1);
    CHECK_EQ(smallest->window_us, 1);
}

static void test_placement_overrides_description(void)
{
    if (!load_pingpong()) {
        return;
    }
    /* "log" says core 1 in the description; a placement may move it. */
    struct sd_error err;
    bool ok = load_placement_text("{\"system\": \"pingpong\", \"cores\": 1, \"pds\": {\"log\": 0}}",
                                  &err);
    CHECK(ok);
    CHECK_EQ(placement.core[pd_named("log")], 0);
    CHECK_EQ(placement.cores, 1);
    CHECK_STR_CONTAINS(placement.source, "placement.json");

    CHECK(!sd_load_placement_buffer(sys, "{}", 2, NULL, &placement, &err));
    CHECK_STR_CONTAINS(err.message, "<buffer>: top level: missing required field \"cores\"");
    CHECK(!sd_load_placement(sys, "/nonexistent/placement.json", &placement, &err));
    CHECK_STR_CONTAINS(err.message, "/nonexistent/placement.json: cannot open: ");
}

static void test_default_placement(void)
{
    if (!load_pingpong()) {
        return;
    }
    memset(&placement, 0x5a, sizeof placement);
    sd_default_placement(sys, &placement);
    CHECK_EQ(placement.cores, 2);
    CHECK_EQ(placement.core[pd_named("ping")], 0);
    CHECK_EQ(placement.core[pd_named("pong")], 0);
    CHECK_EQ(placement.core[pd_named("log")], 1);
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        CHECK_EQ(placement.channel[c].policy, PN_BATCH_IMMEDIATE);
        CHECK_EQ(placement.channel[c].count, 0);
    }
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        CHECK(!placement.polling[p]);
    }

    /* No cores in the description at all: one core. */
    struct sd_error err;
    CHECK(load_text("{\"name\": \"one\", \"components\": [{\"name\": \"a\", \"kind\": \"test\", "
                    "\"program\": \"a\", \"priority\": 1}]}",
                    &err));
    sd_default_placement(sys, &placement);
    CHECK_EQ(placement.cores, 1);
    CHECK_EQ(placement.core[0], 0);
}

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

/* Every file under `dir` is rejected against `system` with the message under its "_expect". */
static void check_bad_files(const char *system, const char *directory, int at_least)
{
    if (!load_system(system)) {
        return;
    }
    char dir_path[2048];
    source_path(dir_path, sizeof dir_path, directory);
    DIR *dir = opendir(dir_path);
    CHECK(dir != NULL);
    if (dir == NULL) {
        return;
    }
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 6 || strcmp(entry->d_name + len - 5, ".json") != 0) {
            continue;
        }
        files++;
        char path[4096], text[8192], expect[SD_ERROR_MAX];
        snprintf(path, sizeof path, "%s/%s", dir_path, entry->d_name);
        FILE *file = fopen(path, "rb");
        size_t got = file == NULL ? 0 : fread(text, 1, sizeof text - 1, file);
        if (file != NULL) {
            fclose(file);
        }
        text[got] = '\0';
        if (!expected_fragment(text, expect, sizeof expect)) {
            fprintf(stderr, "%s has no \"_expect\"\n", path);
            check_failures++;
            continue;
        }
        struct sd_error err;
        int before = check_failures;
        CHECK(!sd_load_placement(sys, path, &placement, &err));
        CHECK(strncmp(err.message, path, strlen(path)) == 0);
        CHECK_STR_CONTAINS(err.message, expect);
        CHECK(strchr(err.message, '\n') == NULL);
        if (check_failures != before) {
            fprintf(stderr, "  in %s\n", entry->d_name);
        }
    }
    closedir(dir);
    CHECK(files >= at_least);
}

static void test_bad_files(void)
{
    check_bad_files("tests/data/placement/pingpong.json", "tests/data/placement/bad", 30);
}

/* A scratch directory under /tmp, removed with its files by remove_scratch(). */
static char scratch[256];

static void make_scratch(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/test_placement.XXXXXX");
    CHECK(mkdtemp(scratch) != NULL);
}

static void remove_scratch(const char *const *names)
{
    for (; *names != NULL; names++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", scratch, *names);
        unlink(path);
    }
    CHECK(rmdir(scratch) == 0); /* fails when a temporary file was left behind */
}

static void test_write_round_trip(void)
{
    if (!load_pingpong() || !load_placement_file("tests/data/placement/good/full.json")) {
        return;
    }
    make_scratch();
    char path[512];
    snprintf(path, sizeof path, "%s/placement.json", scratch);
    struct sd_placement *original = malloc(sizeof *original);
    *original = placement;
    struct sd_error err;
    bool ok = sd_write_placement(sys, original, path, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    CHECK(sd_load_placement(sys, path, &placement, &err));
    CHECK_EQ(placement.cores, original->cores);
    CHECK(memcmp(placement.core, original->core, sizeof placement.core) == 0);
    CHECK(memcmp(placement.polling, original->polling, sizeof placement.polling) == 0);
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        CHECK_EQ(placement.channel[c].policy, original->channel[c].policy);
        CHECK_EQ(placement.channel[c].count, original->channel[c].count);
        CHECK_EQ(placement.channel[c].window_us, original->channel[c].window_us);
    }
    /* The file names the system and lists every PD. */
    FILE *file = fopen(path, "rb");
    char text[4096] = "";
    if (file != NULL) {
        text[fread(text, 1, sizeof text - 1, file)] = '\0';
        fclose(file);
    }
    CHECK_STR_CONTAINS(text, "\"system\": \"pingpong\"");
    CHECK_STR_CONTAINS(text, "\"log\": 1");
    CHECK_STR_CONTAINS(text, "\"window_us\": 100");

    /* The default placement round-trips too, and overwrites the file. */
    sd_default_placement(sys, original);
    CHECK(sd_write_placement(sys, original, path, &err));
    CHECK(sd_load_placement(sys, path, &placement, &err));
    CHECK_EQ(placement.cores, 2);
    CHECK_EQ(placement.core[pd_named("log")], 1);
    CHECK(!placement.polling[pd_named("pong")]);

    /* A placement that would not load is refused, and the file is left as it was. */
    struct stat before, after;
    CHECK(stat(path, &before) == 0);
    original->core[pd_named("pong")] = 5;
    CHECK(!sd_write_placement(sys, original, path, &err));
    CHECK_STR_CONTAINS(err.message, "refusing to write an invalid placement: ");
    CHECK_STR_CONTAINS(err.message, "pds \"pong\": core 5 out of range 0..1");
    original->core[pd_named("pong")] = 0;
    original->polling[pd_named("pong")] = true;
    CHECK(!sd_write_placement(sys, original, path, &err));
    CHECK_STR_CONTAINS(err.message, "a polling PD must be alone on its core");
    original->polling[pd_named("pong")] = false;
    original->channel[0].policy = PN_BATCH_COALESCE; /* with count 0 */
    CHECK(!sd_write_placement(sys, original, path, &err));
    CHECK_STR_CONTAINS(err.message, "count 0 out of range 1..65535");
    CHECK(stat(path, &after) == 0);
    CHECK_EQ(after.st_size, before.st_size);
    CHECK(sd_load_placement(sys, path, &placement, &err));

    /* An unwritable place: a message naming it. */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-dir/placement.json", scratch);
    original->channel[0].policy = PN_BATCH_IMMEDIATE;
    CHECK(!sd_write_placement(sys, original, missing, &err));
    CHECK_STR_CONTAINS(err.message, missing);
    CHECK_STR_CONTAINS(err.message, "cannot create");
    free(original);
    static const char *const names[] = {"placement.json", NULL};
    remove_scratch(names);
}

static void test_policy_names(void)
{
    CHECK(strcmp(sd_batch_policy_name(PN_BATCH_IMMEDIATE), "immediate") == 0);
    CHECK(strcmp(sd_batch_policy_name(PN_BATCH_END_OF_HANDLER), "end_of_handler") == 0);
    CHECK(strcmp(sd_batch_policy_name(PN_BATCH_COALESCE), "coalesce") == 0);
    CHECK(strcmp(sd_batch_policy_name(7), "unknown") == 0);
}

/* Per-vCPU cores ("vcpus"): loading, defaults, refusals, and the round trip. */
static void test_vcpus(void)
{
    if (!load_system("tests/data/placement/vm.json") ||
        !load_placement_file("tests/data/placement/good-vm/vcpus.json")) {
        return;
    }
    int vm = pd_named("netvm"), mux = pd_named("mux");
    CHECK_EQ(placement.cores, 5);
    CHECK_EQ(placement.core[vm], 0);
    CHECK_EQ(placement.vcpu_core[vm][0], 0);
    CHECK_EQ(placement.vcpu_core[vm][1], 1);
    CHECK_EQ(placement.vcpu_core[vm][2], 2);
    CHECK_EQ(placement.core[mux], 3);
    CHECK_EQ(placement.vcpu_core[mux][0], 3);
    CHECK(sd_placement_occupies(sys, &placement, vm, 2));
    CHECK(!sd_placement_occupies(sys, &placement, vm, 3));
    CHECK(sd_placement_occupies(sys, &placement, mux, 3));

    /* vcpus alone: the VM's core is its vCPU 0's. */
    if (!load_placement_file("tests/data/placement/good-vm/vcpus-only.json")) {
        return;
    }
    CHECK_EQ(placement.core[vm], 2);
    CHECK_EQ(placement.vcpu_core[vm][1], 1);
    /* Without vcpus, every vCPU is on the VM's core, in a file and by default. */
    struct sd_error err;
    CHECK(load_placement_text("{\"cores\": 2, \"pds\": {\"netvm\": 1}}", &err));
    for (int v = 0; v < 3; v++) {
        CHECK_EQ(placement.vcpu_core[vm][v], 1);
    }
    sd_default_placement(sys, &placement);
    CHECK_EQ(placement.vcpu_core[vm][2], placement.core[vm]);

    check_bad_files("tests/data/placement/vm.json", "tests/data/placement/bad-vm", 10);
}

static void test_vcpus_round_trip(void)
{
    if (!load_system("tests/data/placement/vm.json") ||
        !load_placement_file("tests/data/placement/good-vm/vcpus.json")) {
        return;
    }
    make_scratch();
    char path[512];
    snprintf(path, sizeof path, "%s/placement.json", scratch);
    struct sd_placement *original = malloc(sizeof *original);
    *original = placement;
    struct sd_error err;
    CHECK(sd_write_placement(sys, original, path, &err));
    CHECK(sd_load_placement(sys, path, &placement, &err));
    int vm = pd_named("netvm");
    CHECK(memcmp(placement.vcpu_core[vm], original->vcpu_core[vm], sizeof(int) * 3) == 0);
    CHECK_EQ(placement.core[vm], 0);
    FILE *file = fopen(path, "rb");
    char text[4096] = "";
    if (file != NULL) {
        text[fread(text, 1, sizeof text - 1, file)] = '\0';
        fclose(file);
    }
    CHECK_STR_CONTAINS(text, "\"vcpus\": {");
    /* All vCPUs on the VM's core: no "vcpus" written, as before it existed. */
    for (int v = 0; v < 3; v++) {
        original->vcpu_core[vm][v] = 0;
    }
    CHECK(sd_write_placement(sys, original, path, &err));
    file = fopen(path, "rb");
    text[0] = '\0';
    if (file != NULL) {
        text[fread(text, 1, sizeof text - 1, file)] = '\0';
        fclose(file);
    }
    CHECK(strstr(text, "vcpus") == NULL);
    /* A polling client beside a vCPU is refused on writing, with the loader's message. */
    original->vcpu_core[vm][2] = 4;
    CHECK(!sd_write_placement(sys, original, path, &err));
    CHECK_STR_CONTAINS(err.message, "shares core 4 with PD \"netvm\"");
    free(original);
    static const char *const names[] = {"placement.json", NULL};
    remove_scratch(names);
}

int main(void)
{
    if (!fixture_setup()) {
        return 1;
    }
    RUN_TEST(test_full);
    RUN_TEST(test_minimal_and_limits);
    RUN_TEST(test_placement_overrides_description);
    RUN_TEST(test_default_placement);
    RUN_TEST(test_bad_files);
    RUN_TEST(test_write_round_trip);
    RUN_TEST(test_policy_names);
    RUN_TEST(test_vcpus);
    RUN_TEST(test_vcpus_round_trip);
    sd_system_free(sys);
    return check_exit();
}
