/* Creating and checking a block device's disk image (see blkimage.h). */
#define _POSIX_C_SOURCE 200809L

#include "blkimage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read or written at a time: a multiple of every block size (at most 64 KiB). */
#define BUFFER_BYTES (1u << 20)
#define WORD         8

static bool fail(struct blkimage_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool fail(struct blkimage_error *err, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return false;
}

static const char *param_of(void *context, const char *key)
{
    const struct sd_pd *pd = context;
    for (uint32_t i = 0; i < pd->n_params; i++) {
        if (strcmp(pd->params[i].key, key) == 0) {
            return pd->params[i].value;
        }
    }
    return NULL;
}

bool blkimage_partitions(const struct sd_system *sys, const char *name,
                         const struct sd_device **device_out, struct blkimage_partition *out,
                         struct blkimage_error *err)
{
    int index = sd_find_device(sys, name);
    if (index < 0) {
        return fail(err, "%s: no device \"%s\"", sys->source, name);
    }
    const struct sd_device *device = &sys->devices[index];
    if (device->kind != SD_DEVICE_VIRTIO_BLK) {
        return fail(err, "%s: device \"%s\" is a %s, not a virtio-blk device", sys->source, name,
                    sd_device_kind_name(device->kind));
    }
    for (uint32_t p = 0; p < device->n_partitions; p++) {
        const struct sd_partition *partition = &device->partitions[p];
        const struct sd_pd *client = &sys->pds[partition->client_pd];
        out[p] = (struct blkimage_partition){.partition = partition};
        if (strcmp(client->program, BLKIMAGE_BENCH_PROGRAM) != 0) {
            continue;
        }
        const char *complaint = blk_bench_plan_read(&out[p].plan, param_of, (void *)client);
        if (complaint != NULL) {
            return fail(err, "%s: client \"%s\" of device \"%s\": %s", sys->source, client->name,
                        name, complaint);
        }
        out[p].bench = true;
    }
    *device_out = device;
    return true;
}

void blkimage_replay(const struct blk_bench_plan *plan, uint32_t *generations)
{
    blkimage_replay_steps(plan, plan->ios, generations);
}

void blkimage_replay_steps(const struct blk_bench_plan *plan, uint64_t steps, uint32_t *generations)
{
    memset(generations, 0, plan->workload.chunks * sizeof *generations);
    struct blk_sequence sequence;
    blk_sequence_start(&sequence, &plan->workload);
    for (uint64_t i = 0; i < steps && i < plan->ios; i++) {
        struct blk_step step = blk_sequence_next(&sequence);
        if (step.write) {
            generations[step.chunk]++;
        }
    }
}

/* The generation relative block `block` of a partition holds: its chunk's, 0 past the last. */
static uint32_t generation_of(const struct blk_bench_plan *plan, const uint32_t *generations,
                              uint64_t block)
{
    uint64_t chunk = block / plan->io_blocks;
    return generations != NULL && chunk < plan->workload.chunks ? generations[chunk] : 0;
}

static bool write_all(int fd, const void *buffer, size_t len, off_t at)
{
    const char *p = buffer;
    while (len > 0) {
        ssize_t done = pwrite(fd, p, len, at);
        if (done < 0 && errno == EINTR) {
            continue;
        }
        if (done <= 0) {
            return false;
        }
        p += done;
        len -= (size_t)done;
        at += done;
    }
    return true;
}

static bool read_all(int fd, void *buffer, size_t len, off_t at)
{
    char *p = buffer;
    while (len > 0) {
        ssize_t done = pread(fd, p, len, at);
        if (done < 0 && errno == EINTR) {
            continue;
        }
        if (done <= 0) {
            return false;
        }
        p += done;
        len -= (size_t)done;
        at += done;
    }
    return true;
}

static bool fill_partition(int fd, const char *path, const struct sd_device *device,
                           const struct blkimage_partition *part, const uint32_t *generations,
                           uint64_t *buffer, struct blkimage_error *err)
{
    uint32_t unit = device->block_size;
    uint64_t first = part->partition->start / unit, blocks = part->partition->size / unit;
    uint64_t per_buffer = BUFFER_BYTES / unit;
    for (uint64_t done = 0; done < blocks; done += per_buffer) {
        uint64_t n = blocks - done < per_buffer ? blocks - done : per_buffer;
        for (uint64_t b = 0; b < n; b++) {
            blk_pattern_fill(buffer + b * (unit / WORD), unit / WORD, part->plan.workload.client,
                             first + done + b, generation_of(&part->plan, generations, done + b));
        }
        if (!write_all(fd, buffer, n * unit, (off_t)((first + done) * unit))) {
            return fail(err, "%s: cannot write: %s", path, strerror(errno));
        }
    }
    return true;
}

bool blkimage_create(const char *path, const struct sd_device *device,
                     const struct blkimage_partition *partitions, uint32_t *const *generations,
                     struct blkimage_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return fail(err, "%s: cannot create: %s", path, strerror(errno));
    }
    bool ok =
        ftruncate(fd, (off_t)device->size) == 0 ||
        fail(err, "%s: cannot make it %" PRIu64 " bytes: %s", path, device->size, strerror(errno));
    uint64_t *buffer = malloc(BUFFER_BYTES);
    if (ok && buffer == NULL) {
        ok = fail(err, "out of memory");
    }
    for (uint32_t p = 0; ok && p < device->n_partitions; p++) {
        if (partitions[p].bench) {
            ok = fill_partition(fd, path, device, &partitions[p],
                                generations != NULL ? generations[p] : NULL, buffer, err);
        }
    }
    free(buffer);
    if (close(fd) != 0 && ok) {
        ok = fail(err, "%s: cannot write: %s", path, strerror(errno));
    }
    return ok;
}

/* What one partition's check found. */
struct partition_result {
    uint64_t verdicts[BLK_BLOCK_VERDICTS];
    bool have_first_bad;
    uint64_t first_bad_block;
    enum blk_block_verdict first_bad_verdict;
    uint32_t first_bad_expected;
};

/*
 * `lowest` (NULL: exactly `generations`) holds, per chunk, the generation
 * before its first write that may have failed: a block may hold any
 * generation from there up to `generations`.
 */
static bool check_partition(int fd, const char *path, const struct sd_device *device,
                            const struct blkimage_partition *part, const uint32_t *generations,
                            const uint32_t *lowest, uint64_t *buffer,
                            struct partition_result *result, struct blkimage_error *err)
{
    uint32_t unit = device->block_size;
    uint64_t first = part->partition->start / unit, blocks = part->partition->size / unit;
    uint64_t per_buffer = BUFFER_BYTES / unit;
    for (uint64_t done = 0; done < blocks; done += per_buffer) {
        uint64_t n = blocks - done < per_buffer ? blocks - done : per_buffer;
        if (!read_all(fd, buffer, n * unit, (off_t)((first + done) * unit))) {
            return fail(err, "%s: cannot read: %s", path, errno ? strerror(errno) : "too short");
        }
        for (uint64_t b = 0; b < n; b++) {
            uint32_t expected = generation_of(&part->plan, generations, done + b);
            uint32_t low = lowest ? generation_of(&part->plan, lowest, done + b) : expected;
            enum blk_block_verdict verdict = blk_pattern_verdict_between(
                buffer + b * (unit / WORD), unit / WORD, part->plan.workload.client,
                first + done + b, low, expected);
            result->verdicts[verdict]++;
            if (verdict != BLK_BLOCK_OK && !result->have_first_bad) {
                result->have_first_bad = true;
                result->first_bad_block = first + done + b;
                result->first_bad_verdict = verdict;
                result->first_bad_expected = expected;
            }
        }
    }
    return true;
}

static json_t *partition_json(const struct blkimage_partition *part, const uint32_t *generations,
                              const uint32_t *lowest, const struct partition_result *result,
                              const char *client)
{
    const struct sd_partition *partition = part->partition;
    json_t *entry =
        json_pack("{s:s, s:I, s:I, s:b}", "client", client, "start", (json_int_t)partition->start,
                  "size", (json_int_t)partition->size, "checked", part->bench);
    if (!part->bench) {
        return entry;
    }
    uint64_t chunks_written = 0, chunks_uncertain = 0, bad = 0;
    for (uint64_t c = 0; c < part->plan.workload.chunks; c++) {
        chunks_written += generations[c] != 0;
        chunks_uncertain += lowest != NULL && lowest[c] != generations[c];
    }
    for (int v = BLK_BLOCK_OK + 1; v < BLK_BLOCK_VERDICTS; v++) {
        bad += result->verdicts[v];
        json_object_set_new(entry, blk_verdict_name((enum blk_block_verdict)v),
                            json_integer((json_int_t)result->verdicts[v]));
    }
    json_object_set_new(entry, "blocks",
                        json_integer((json_int_t)(partition->size / part->plan.block_size)));
    json_object_set_new(entry, "requests_replayed", json_integer((json_int_t)part->plan.ios));
    json_object_set_new(entry, "chunks_written", json_integer((json_int_t)chunks_written));
    json_object_set_new(entry, "first_failed_write",
                        json_integer((json_int_t)part->first_failed_write));
    json_object_set_new(entry, "chunks_uncertain", json_integer((json_int_t)chunks_uncertain));
    json_object_set_new(entry, "bad_blocks", json_integer((json_int_t)bad));
    json_object_set_new(
        entry, "first_bad",
        result->have_first_bad
            ? json_pack("{s:I, s:s, s:I}", "block", (json_int_t)result->first_bad_block, "verdict",
                        blk_verdict_name(result->first_bad_verdict), "expected_generation",
                        (json_int_t)result->first_bad_expected)
            : json_null());
    return entry;
}

/* Counts the non-zero bytes in [from, to) of the image. */
static bool count_changed(int fd, const char *path, uint64_t from, uint64_t to, uint8_t *buffer,
                          uint64_t *changed, uint64_t *first_changed, bool *have_first,
                          struct blkimage_error *err)
{
    for (uint64_t at = from; at < to; at += BUFFER_BYTES) {
        uint64_t n = to - at < BUFFER_BYTES ? to - at : BUFFER_BYTES;
        if (!read_all(fd, buffer, n, (off_t)at)) {
            return fail(err, "%s: cannot read: %s", path, errno ? strerror(errno) : "too short");
        }
        for (uint64_t i = 0; i < n; i++) {
            if (buffer[i] != 0) {
                if (!*have_first) {
                    *have_first = true;
                    *first_changed = at + i;
                }
                ++*changed;
            }
        }
    }
    return true;
}

/* Every byte outside the partitions, which no client may reach, must still be zero. */
static bool check_outside(int fd, const char *path, const struct sd_device *device, uint8_t *buffer,
                          json_t **outside, bool *ok, struct blkimage_error *err)
{
    uint64_t bytes = 0, changed = 0, first_changed = 0, at = 0;
    bool have_first = false;
    while (at < device->size) {
        /* The next partition at or after `at`, or the end of the disk. */
        uint64_t gap_end = device->size, resume = device->size;
        for (uint32_t p = 0; p < device->n_partitions; p++) {
            const struct sd_partition *partition = &device->partitions[p];
            if (partition->start + partition->size > at && partition->start < gap_end) {
                gap_end = partition->start > at ? partition->start : at;
                resume = partition->start + partition->size;
            }
        }
        if (!count_changed(fd, path, at, gap_end, buffer, &changed, &first_changed, &have_first,
                           err)) {
            return false;
        }
        bytes += gap_end - at;
        at = resume;
    }
    *outside = json_pack("{s:I, s:I, s:o}", "bytes", (json_int_t)bytes, "changed_bytes",
                         (json_int_t)changed, "first_changed",
                         have_first ? json_integer((json_int_t)first_changed) : json_null());
    *ok = changed == 0;
    return true;
}

static bool verify_open(int fd, const char *path, const struct sd_device *device,
                        const struct blkimage_partition *partitions, json_t *report, bool *ok,
                        struct blkimage_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return fail(err, "%s: cannot read: %s", path, strerror(errno));
    }
    if ((uint64_t)st.st_size != device->size) {
        return fail(err, "%s: %" PRIu64 " bytes, but device \"%s\" is %" PRIu64 " bytes", path,
                    (uint64_t)st.st_size, device->name, device->size);
    }
    uint64_t *buffer = malloc(BUFFER_BYTES);
    uint32_t *generations = NULL, *lowest = NULL;
    bool done = buffer != NULL || fail(err, "out of memory");
    json_t *list = json_array();
    json_object_set_new(report, "partitions", list);
    *ok = true;
    for (uint32_t p = 0; done && p < device->n_partitions; p++) {
        const struct blkimage_partition *part = &partitions[p];
        struct partition_result result = {0};
        if (part->bench) {
            free(generations);
            free(lowest);
            lowest = NULL;
            generations = malloc(part->plan.workload.chunks * sizeof *generations);
            if (part->first_failed_write != 0) {
                lowest = malloc(part->plan.workload.chunks * sizeof *lowest);
            }
            if (generations == NULL || (part->first_failed_write != 0 && lowest == NULL)) {
                done = fail(err, "out of memory");
                break;
            }
            blkimage_replay(&part->plan, generations);
            if (lowest != NULL) {
                blkimage_replay_steps(&part->plan, part->first_failed_write - 1, lowest);
            }
            done =
                check_partition(fd, path, device, part, generations, lowest, buffer, &result, err);
            *ok =
                *ok && result.verdicts[BLK_BLOCK_OK] == part->partition->size / device->block_size;
        }
        if (done) {
            json_array_append_new(
                list, partition_json(part, generations, lowest, &result, part->partition->client));
        }
    }
    json_t *outside = NULL;
    bool outside_ok = false;
    if (done) {
        done = check_outside(fd, path, device, (uint8_t *)buffer, &outside, &outside_ok, err);
    }
    if (done) {
        json_object_set_new(report, "outside", outside);
        *ok = *ok && outside_ok;
    }
    free(generations);
    free(lowest);
    free(buffer);
    return done;
}

bool blkimage_verify(const char *path, const struct sd_device *device,
                     const struct blkimage_partition *partitions, json_t **report, bool *ok,
                     struct blkimage_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return fail(err, "%s: cannot open: %s", path, strerror(errno));
    }
    *report = json_pack("{s:s, s:s, s:I, s:I}", "image", path, "device", device->name, "size",
                        (json_int_t)device->size, "block_size", (json_int_t)device->block_size);
    bool done = verify_open(fd, path, device, partitions, *report, ok, err);
    close(fd);
    if (!done) {
        json_decref(*report);
        *report = NULL;
        return false;
    }
    json_object_set_new(*report, "ok", json_boolean(*ok));
    return true;
}
