#define _POSIX_C_SOURCE 200809L
/*
 * pinion-blkimage's logic (tools/blkimage/): which partitions it checks and
 * with which plan, an image created at the generations a run leaves
 * passing the check, and every way an image can be wrong found and named:
 * a block of a partition torn, lost or misplaced, a byte outside every
 * partition, an image of the wrong size or none at all; and a client's
 * failed writes, whose chunks may hold either generation.
 */
#include "check.h"

#include <blkimage.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define PAIR(n)                                                                                    \
    "{\"name\": \"q" #n "\", \"size\": \"16KiB\"}, {\"name\": \"d" #n "\", \"size\": \"64KiB\"}"
#define MAPS(n, client)                                                                            \
    "{\"pd\": \"v\", \"region\": \"q" #n "\", \"name\": \"client" #n "\", \"rights\": \"rw\"}, "   \
    "{\"pd\": \"v\", \"region\": \"d" #n "\", \"name\": \"client" #n "_data\", \"rights\": "       \
    "\"none\"}, {\"pd\": \"" client "\", \"region\": \"q" #n "\", \"rights\": \"rw\"}, "           \
    "{\"pd\": \"" client "\", \"region\": \"d" #n "\", \"name\": \"data\", \"rights\": \"rw\"}"
#define BENCH(name, mix)                                                                           \
    "{\"name\": \"" name "\", \"kind\": \"client\", \"program\": \"blk_bench\", \"priority\": 1, " \
    "\"params\": {\"ios\": 500, \"io_size\": 4096, \"pattern\": \"rand\", \"mix\": \"" mix "\"}}"

/* Partitions: a (bench, 128 KiB at 64 KiB), b (not a bench), c (bench, 256 KiB at 512 KiB). */
static const char description[] =
    "{\"name\": \"disk-test\", \"devices\": [{\"name\": \"disk0\", \"kind\": \"virtio-blk\", "
    "\"slot\": 31, \"size\": \"1MiB\", \"virtualiser\": \"v\", \"partitions\": ["
    "{\"client\": \"a\", \"start\": \"64KiB\", \"size\": \"128KiB\"}, "
    "{\"client\": \"b\", \"start\": \"256KiB\", \"size\": \"64KiB\"}, "
    "{\"client\": \"c\", \"start\": \"512KiB\", \"size\": \"256KiB\"}]}, "
    "{\"name\": \"net0\", \"kind\": \"virtio-net\", \"slot\": 30}], "
    "\"components\": [{\"name\": \"v\", \"kind\": \"multiplexer\", \"program\": \"blk_virt\", "
    "\"priority\": 2}, " BENCH(
        "a", "write") ", {\"name\": \"b\", \"kind\": \"client\", "
                      "\"program\": \"other\", \"priority\": 1}, " BENCH(
                          "c", "70r") "], "
                                      "\"regions\": [" PAIR(0) ", " PAIR(1) ", " PAIR(
                                          2) "], "
                                             "\"maps\": [" MAPS(0, "a") ", " MAPS(1, "b") ", " MAPS(
                                                 2, "c") "]}";

#define A_FIRST    128u /* device blocks */
#define C_FIRST    1024u
#define B_OFFSET   (256u * 1024)
#define GAP_OFFSET (200u * 1024)

static struct sd_system *sys;
static const struct sd_device *device;
static struct blkimage_partition partitions[SD_MAX_PARTITIONS];
static uint32_t *generations[SD_MAX_PARTITIONS];
static char image[] = "/tmp/pinion-blkimage-test-XXXXXX";

static void setup(void)
{
    sys = sd_system_new();
    struct sd_error err;
    if (!sd_load_buffer(description, sizeof description - 1, "disk-test.json", sys, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    struct blkimage_error error;
    CHECK(blkimage_partitions(sys, "disk0", &device, partitions, &error));
    for (uint32_t p = 0; p < device->n_partitions; p++) {
        if (partitions[p].bench) {
            generations[p] = calloc(partitions[p].plan.workload.chunks, sizeof(uint32_t));
            blkimage_replay(&partitions[p].plan, generations[p]);
        }
    }
    int fd = mkstemp(image);
    close(fd);
}

static void test_partitions_and_plans(void)
{
    CHECK_EQ(device->n_partitions, 3);
    CHECK(partitions[0].bench && !partitions[1].bench && partitions[2].bench);
    CHECK_EQ(partitions[0].plan.workload.client, 0);
    CHECK_EQ(partitions[2].plan.workload.client, 2);
    CHECK_EQ(partitions[2].plan.partition_start, C_FIRST);
    CHECK_EQ(partitions[0].plan.workload.chunks, 32);
    CHECK_EQ(partitions[0].plan.workload.read_percent, 0);
    /* Client a writes 500 times over 32 chunks: its generations add up to that. */
    uint64_t total = 0;
    for (uint32_t c = 0; c < 32; c++) {
        total += generations[0][c];
    }
    CHECK_EQ(total, 500);

    struct blkimage_error err;
    const struct sd_device *d;
    struct blkimage_partition p[SD_MAX_PARTITIONS];
    CHECK(!blkimage_partitions(sys, "disk9", &d, p, &err));
    CHECK_STR_CONTAINS(err.message, "no device \"disk9\"");
    CHECK(!blkimage_partitions(sys, "net0", &d, p, &err));
    CHECK_STR_CONTAINS(err.message, "is a virtio-net, not a virtio-blk device");
}

/* Creates the image at the generations the runs leave, damages it with `damage`, checks it. */
static json_t *check_image(void (*damage)(int fd), bool *ok)
{
    struct blkimage_error err;
    CHECK(blkimage_create(image, device, partitions, generations, &err));
    if (damage != NULL) {
        int fd = open(image, O_RDWR);
        damage(fd);
        close(fd);
    }
    json_t *report = NULL;
    CHECK(blkimage_verify(image, device, partitions, &report, ok, &err));
    return report;
}

static json_t *partition_report(json_t *report, size_t index)
{
    return json_array_get(json_object_get(report, "partitions"), index);
}

static uint64_t field(json_t *object, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(object, key));
}

static void test_image_as_the_runs_leave_it(void)
{
    bool ok = false;
    json_t *report = check_image(NULL, &ok);
    CHECK(ok);
    CHECK(json_is_true(json_object_get(report, "ok")));
    json_t *a = partition_report(report, 0), *b = partition_report(report, 1);
    CHECK_EQ(field(a, "bad_blocks"), 0);
    CHECK_EQ(field(a, "blocks"), 256);
    CHECK(field(a, "chunks_written") > 20);
    CHECK(json_is_false(json_object_get(b, "checked")));
    json_t *outside = json_object_get(report, "outside");
    CHECK_EQ(field(outside, "bytes"), 1024 * 1024 - (128 + 64 + 256) * 1024);
    CHECK_EQ(field(outside, "changed_bytes"), 0);
    json_decref(report);

    /* Before a run, generation 0 everywhere: a partition that was to be written fails. */
    struct blkimage_error err;
    CHECK(blkimage_create(image, device, partitions, NULL, &err));
    CHECK(blkimage_verify(image, device, partitions, &report, &ok, &err));
    CHECK(!ok);
    CHECK_EQ(field(partition_report(report, 0), "lost"),
             field(partition_report(report, 0), "chunks_written") * 8);
    json_decref(report);
}

static void put(int fd, const void *bytes, size_t len, off_t at)
{
    CHECK(pwrite(fd, bytes, len, at) == (ssize_t)len);
}

static void flip_a_word(int fd)
{
    uint64_t word = 0x5a5a5a5a5a5a5a5aull;
    put(fd, &word, sizeof word, (off_t)(C_FIRST + 17) * 512 + 200);
}

static void older_copy(int fd)
{
    uint64_t words[64];
    uint64_t block = A_FIRST + 3 * 8; /* chunk 3 */
    blk_pattern_fill(words, 64, 0, block, generations[0][3] + 1);
    put(fd, words, sizeof words, (off_t)block * 512);
}

static void copy_of_another_block(int fd)
{
    uint64_t words[64];
    CHECK(pread(fd, words, sizeof words, (off_t)(C_FIRST + 5) * 512) == sizeof words);
    put(fd, words, sizeof words, (off_t)(C_FIRST + 6) * 512);
}

static void outside_byte(int fd)
{
    put(fd, "x", 1, GAP_OFFSET);
}

static void unchecked_partition(int fd)
{
    put(fd, "x", 1, B_OFFSET + 7);
}

static void test_every_damage_found_and_named(void)
{
    struct {
        void (*damage)(int fd);
        size_t partition;
        const char *verdict;
        uint64_t block;
    } cases[] = {
        {flip_a_word, 2, "torn", C_FIRST + 17},
        {older_copy, 0, "lost", A_FIRST + 24},
        {copy_of_another_block, 2, "misplaced", C_FIRST + 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool ok = true;
        json_t *report = check_image(cases[i].damage, &ok);
        CHECK(!ok);
        json_t *p = partition_report(report, cases[i].partition);
        CHECK_EQ(field(p, "bad_blocks"), 1);
        CHECK_EQ(field(p, cases[i].verdict), 1);
        json_t *first = json_object_get(p, "first_bad");
        CHECK_EQ(field(first, "block"), cases[i].block);
        CHECK(strcmp(json_string_value(json_object_get(first, "verdict")), cases[i].verdict) == 0);
        json_decref(report);
    }
    bool ok = true;
    json_t *report = check_image(outside_byte, &ok);
    CHECK(!ok);
    json_t *outside = json_object_get(report, "outside");
    CHECK_EQ(field(outside, "changed_bytes"), 1);
    CHECK_EQ(field(outside, "first_changed"), GAP_OFFSET);
    json_decref(report);
    /* A partition whose client is no benchmark is not the check's to judge. */
    report = check_image(unchecked_partition, &ok);
    CHECK(ok);
    json_decref(report);
}

/* Verifies the image at `at` (per partition) with client a's first failed write `first`. */
static json_t *check_failed_writes(uint32_t *const *at, uint64_t first, bool *ok)
{
    struct blkimage_error err;
    CHECK(blkimage_create(image, device, partitions, at, &err));
    partitions[0].first_failed_write = first;
    json_t *report = NULL;
    CHECK(blkimage_verify(image, device, partitions, &report, ok, &err));
    partitions[0].first_failed_write = 0;
    return report;
}

/*
 * Client a's writes failed from its 301st request on (first_failed_write
 * 301): each chunk written since may hold any generation from the one
 * before up to the last, and the check accepts exactly those; a chunk
 * behind what the first 300 requests left is still lost.
 */
static void test_failed_writes_leave_chunks_uncertain(void)
{
    uint32_t early[32], mixed[32], behind[32];
    blkimage_replay_steps(&partitions[0].plan, 300, early);
    blkimage_replay_steps(&partitions[0].plan, 250, behind);
    for (uint32_t c = 0; c < 32; c++) {
        mixed[c] = c % 2 ? early[c] : generations[0][c]; /* half of the failed writes landed */
    }
    uint32_t *at[SD_MAX_PARTITIONS] = {early, NULL, generations[2]};
    bool ok = true;
    json_t *report = check_failed_writes(at, 0, &ok);
    CHECK(!ok); /* without being told, the writes that never landed are lost blocks */
    CHECK(field(partition_report(report, 0), "lost") > 0);
    json_decref(report);

    report = check_failed_writes(at, 301, &ok);
    CHECK(ok);
    json_t *a = partition_report(report, 0);
    CHECK_EQ(field(a, "bad_blocks"), 0);
    CHECK_EQ(field(a, "first_failed_write"), 301);
    CHECK(field(a, "chunks_uncertain") > 0 && field(a, "chunks_uncertain") <= 32);
    CHECK_EQ(field(partition_report(report, 2), "chunks_uncertain"), 0);
    json_decref(report);

    at[0] = mixed;
    report = check_failed_writes(at, 301, &ok);
    CHECK(ok);
    json_decref(report);

    at[0] = behind;
    report = check_failed_writes(at, 301, &ok);
    CHECK(!ok);
    CHECK(field(partition_report(report, 0), "lost") > 0);
    json_decref(report);
}

static void test_images_that_cannot_be_checked(void)
{
    struct blkimage_error err;
    json_t *report = NULL;
    bool ok;
    CHECK(truncate(image, 4096) == 0);
    CHECK(!blkimage_verify(image, device, partitions, &report, &ok, &err));
    CHECK_STR_CONTAINS(err.message, "4096 bytes, but device \"disk0\" is 1048576 bytes");
    CHECK(report == NULL);
    unlink(image);
    CHECK(!blkimage_verify(image, device, partitions, &report, &ok, &err));
    CHECK_STR_CONTAINS(err.message, "cannot open");
    CHECK(!blkimage_create("/nonexistent/dir/x.img", device, partitions, NULL, &err));
    CHECK_STR_CONTAINS(err.message, "cannot create");
}

int main(void)
{
    setup();
    RUN_TEST(test_partitions_and_plans);
    RUN_TEST(test_image_as_the_runs_leave_it);
    RUN_TEST(test_every_damage_found_and_named);
    RUN_TEST(test_failed_writes_leave_chunks_uncertain);
    RUN_TEST(test_images_that_cannot_be_checked);
    unlink(image);
    return check_exit();
}
