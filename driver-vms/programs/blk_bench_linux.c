/*
 * blk-bench's logic (blk_bench_linux.h): the command line, and each
 * client's plan, requests, checks and counts, as blk_bench.c makes them on
 * pinion.
 */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */

#include "blk_bench_linux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_args.h"

#define WORD 8

const char blk_linux_usage[] =
    "usage: blk-bench --ios N --io-size BYTES --depth D --pattern seq|rand --mix read|write|Nr\n"
    "                 --block-size BYTES --partition CLIENT_ID:START:BLOCKS... [--seed S]\n"
    "                 [--device PATH]\n"
    "\n"
    "Runs, for every --partition, the plan pinion's blk_bench client runs with the same\n"
    "parameters (docs/blk.md): N requests of BYTES over the partition, D in flight, every\n"
    "write a pattern naming (client, block, generation), every read checked; all clients'\n"
    "requests at once, through Linux AIO on PATH opened with O_DIRECT. Marks measurement\n"
    "phase 1 before the first request and phase 2 after the last answer, flushes the\n"
    "device, and prints its counts as one line, \"blk-bench: {...}\".\n"
    "\n"
    "  --device PATH       the block device (default /dev/vda)\n"
    "  --ios N             requests per client (blk_bench's ios)\n"
    "  --io-size BYTES     bytes per request, 4096..1048576, a multiple of --block-size\n"
    "  --depth D           requests each client keeps in flight, 1..256\n"
    "  --pattern P         seq or rand\n"
    "  --mix M             read, write, or Nr: N percent reads (1..99)\n"
    "  --seed S            the random stream's seed (default 1)\n"
    "  --block-size BYTES  the disk's logical block: the pattern's unit\n"
    "  --partition C:S:B   a client: its partition index C, first block S, length B\n"
    "                      blocks (once per client, at most 8)\n"
    "  --help              this text\n"
    "\n"
    "Exit status: 0 when every request was answered and nothing was bad, 1 otherwise,\n"
    "2 on a usage error.\n";

/* "C:S:B": three decimal numbers, each short enough to keep as text. */
static bool parse_partition(const char *text, struct blk_linux_partition *p)
{
    char *fields[3] = {p->client_id, p->start, p->blocks};
    for (int f = 0; f < 3; f++) {
        size_t n = 0;
        while (text[n] >= '0' && text[n] <= '9') {
            n++;
        }
        char end = f < 2 ? ':' : '\0';
        if (n == 0 || n >= BLK_LINUX_NUMBER_TEXT || text[n] != end) {
            return false;
        }
        memcpy(fields[f], text, n);
        fields[f][n] = '\0';
        text += n + 1;
    }
    return true;
}

enum blk_linux_parse blk_linux_parse_args(int argc, char **argv, struct blk_linux_options *o,
                                          char *err, size_t err_size)
{
    static const char *const with_value[] = {"--device", "--ios",        "--io-size",
                                             "--depth",  "--pattern",    "--mix",
                                             "--seed",   "--block-size", "--partition"};
    memset(o, 0, sizeof *o);
    o->device = "/dev/vda";
    for (int i = 1; i < argc; i++) {
        const char *option = NULL, *value = NULL;
        switch (guest_args_next(argc, argv, &i, with_value, sizeof with_value / sizeof *with_value,
                                &option, &value, err, err_size)) {
        case GUEST_ARG_HELP:
            return BLK_LINUX_HELP;
        case GUEST_ARG_ERROR:
            return BLK_LINUX_USAGE_ERROR;
        default:
            break;
        }
        unsigned long long depth;
        if (strcmp(option, "--device") == 0) {
            o->device = value;
        } else if (strcmp(option, "--ios") == 0) {
            o->ios = value;
        } else if (strcmp(option, "--io-size") == 0) {
            o->io_size = value;
        } else if (strcmp(option, "--pattern") == 0) {
            o->pattern = value;
        } else if (strcmp(option, "--mix") == 0) {
            o->mix = value;
        } else if (strcmp(option, "--seed") == 0) {
            o->seed = value;
        } else if (strcmp(option, "--block-size") == 0) {
            o->block_size = value;
        } else if (strcmp(option, "--depth") == 0) {
            if (!guest_args_number(value, 1, BLK_LINUX_MAX_DEPTH, &depth)) {
                snprintf(err, err_size, "--depth %s: must be 1..%d", value, BLK_LINUX_MAX_DEPTH);
                return BLK_LINUX_USAGE_ERROR;
            }
            o->depth = (uint32_t)depth;
        } else if (o->clients == BLK_LINUX_MAX_CLIENTS) {
            snprintf(err, err_size, "--partition: at most %d clients", BLK_LINUX_MAX_CLIENTS);
            return BLK_LINUX_USAGE_ERROR;
        } else if (!parse_partition(value, &o->partitions[o->clients++])) {
            snprintf(err, err_size,
                     "--partition %s: expected CLIENT_ID:START:BLOCKS, three whole numbers", value);
            return BLK_LINUX_USAGE_ERROR;
        }
    }
    const char *missing = !o->ios          ? "--ios"
                          : !o->io_size    ? "--io-size"
                          : !o->depth      ? "--depth"
                          : !o->pattern    ? "--pattern"
                          : !o->mix        ? "--mix"
                          : !o->block_size ? "--block-size"
                          : !o->clients    ? "--partition"
                                           : NULL;
    if (missing) {
        snprintf(err, err_size, "%s is required (--help)", missing);
        return BLK_LINUX_USAGE_ERROR;
    }
    return BLK_LINUX_RUN;
}

struct plan_source {
    const struct blk_linux_options *options;
    const struct blk_linux_partition *partition;
};

/* blk_bench's parameters, by the names blk_bench_plan_read asks for. */
static const char *plan_param(void *context, const char *key)
{
    const struct plan_source *s = context;
    const struct {
        const char *key, *value;
    } params[] = {
        {"ios", s->options->ios},
        {"io_size", s->options->io_size},
        {"pattern", s->options->pattern},
        {"mix", s->options->mix},
        {"seed", s->options->seed},
        {"block_size", s->options->block_size},
        {"client_id", s->partition->client_id},
        {"partition_start", s->partition->start},
        {"partition_blocks", s->partition->blocks},
    };
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
        if (strcmp(params[i].key, key) == 0) {
            return params[i].value;
        }
    }
    return NULL;
}

const char *blk_linux_client_init(struct blk_linux_client *c, const struct blk_linux_options *o,
                                  uint32_t index)
{
    memset(c, 0, sizeof *c);
    struct plan_source source = {o, &o->partitions[index]};
    const char *complaint = blk_bench_plan_read(&c->plan, plan_param, &source);
    if (complaint != NULL) {
        return complaint;
    }
    c->depth = o->depth;
    blk_sequence_start(&c->sequence, &c->plan.workload);
    c->generation = calloc(c->plan.workload.chunks, sizeof *c->generation);
    c->chunk_busy = calloc(c->plan.workload.chunks, sizeof *c->chunk_busy);
    bool allocated = c->generation != NULL && c->chunk_busy != NULL;
    for (uint32_t i = 0; allocated && i < c->depth; i++) {
        void *buffer = NULL;
        allocated = posix_memalign(&buffer, BLK_LINUX_BUFFER_ALIGN, c->plan.io_size) == 0;
        c->slots[i].buffer = buffer;
        /* Taken from the top, so that slot 0 goes first, as in blk_bench. */
        c->free_slots[c->n_free_slots++] = (uint16_t)(c->depth - 1 - i);
    }
    if (!allocated) {
        blk_linux_client_free(c);
        return "out of memory for the client's chunks and buffers (depth times io_size)";
    }
    return NULL;
}

void blk_linux_client_free(struct blk_linux_client *c)
{
    for (uint32_t i = 0; i < BLK_LINUX_MAX_DEPTH; i++) {
        free(c->slots[i].buffer);
        c->slots[i].buffer = NULL;
    }
    free(c->generation);
    free(c->chunk_busy);
    c->generation = NULL;
    c->chunk_busy = NULL;
}

static uint64_t first_block_of(const struct blk_linux_client *c, uint64_t chunk)
{
    return c->plan.partition_start + chunk * c->plan.io_blocks;
}

static void fill(const struct blk_linux_client *c, uint8_t *buffer, uint64_t chunk, uint32_t gen)
{
    size_t words = c->plan.block_size / WORD;
    uint64_t first = first_block_of(c, chunk);
    for (uint32_t b = 0; b < c->plan.io_blocks; b++) {
        uint64_t *block = (uint64_t *)(void *)(buffer + (size_t)b * c->plan.block_size);
        blk_pattern_fill(block, words, c->plan.workload.client, first + b, gen);
    }
}

static void check(struct blk_linux_client *c, const uint8_t *buffer, uint64_t chunk, uint32_t gen)
{
    size_t words = c->plan.block_size / WORD;
    uint64_t first = first_block_of(c, chunk);
    for (uint32_t b = 0; b < c->plan.io_blocks; b++) {
        const uint64_t *block =
            (const uint64_t *)(const void *)(buffer + (size_t)b * c->plan.block_size);
        enum blk_block_verdict verdict =
            blk_pattern_verdict(block, words, c->plan.workload.client, first + b, gen);
        if (verdict != BLK_BLOCK_OK) {
            c->counts.bad_blocks[verdict]++;
        }
    }
    c->counts.blocks_checked += c->plan.io_blocks;
}

bool blk_linux_client_next(struct blk_linux_client *c, struct blk_linux_request *r)
{
    if (c->n_free_slots == 0 || c->issued == c->plan.ios) {
        return false;
    }
    if (!c->have_next_step) {
        c->next_step = blk_sequence_next(&c->sequence);
        c->have_next_step = true;
        c->waiting_counted = false;
    }
    uint64_t chunk = c->next_step.chunk;
    if (c->chunk_busy[chunk]) {
        if (!c->waiting_counted) {
            c->counts.conflict_waits++;
            c->waiting_counted = true;
        }
        return false;
    }
    uint32_t index = c->free_slots[--c->n_free_slots];
    struct blk_linux_slot *s = &c->slots[index];
    if (c->next_step.write) {
        fill(c, s->buffer, chunk, ++c->generation[chunk]);
    }
    s->busy = true;
    s->write = c->next_step.write;
    s->chunk = chunk;
    s->generation = c->generation[chunk];
    c->chunk_busy[chunk] = true;
    c->have_next_step = false;
    c->issued++;
    c->in_flight++;
    *r = (struct blk_linux_request){
        .slot = index,
        .write = s->write,
        .offset = first_block_of(c, chunk) * c->plan.block_size,
        .length = c->plan.io_size,
        .buffer = s->buffer,
    };
    return true;
}

void blk_linux_client_complete(struct blk_linux_client *c, uint32_t slot, int64_t result)
{
    if (slot >= c->depth || !c->slots[slot].busy) {
        c->counts.unexpected++;
        return;
    }
    struct blk_linux_slot *s = &c->slots[slot];
    if (result != (int64_t)c->plan.io_size) {
        c->counts.errors++;
    } else if (s->write) {
        c->counts.writes++;
        c->counts.written_bytes += c->plan.io_size;
    } else {
        check(c, s->buffer, s->chunk, s->generation);
        c->counts.reads++;
        c->counts.read_bytes += c->plan.io_size;
    }
    c->counts.requests++;
    c->chunk_busy[s->chunk] = false;
    s->busy = false;
    c->free_slots[c->n_free_slots++] = (uint16_t)slot;
    c->in_flight--;
}

bool blk_linux_client_done(const struct blk_linux_client *c)
{
    return c->issued == c->plan.ios && c->in_flight == 0;
}

uint64_t blk_linux_bad_blocks(const struct blk_linux_counts *counts)
{
    uint64_t bad = 0;
    for (int v = BLK_BLOCK_OK + 1; v < BLK_BLOCK_VERDICTS; v++) {
        bad += counts->bad_blocks[v];
    }
    return bad;
}

bool blk_linux_all_good(const struct blk_linux_client *clients, uint32_t n, int flush_error)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct blk_linux_counts *k = &clients[i].counts;
        if (!blk_linux_client_done(&clients[i]) || k->requests != clients[i].plan.ios ||
            blk_linux_bad_blocks(k) != 0 || k->errors != 0 || k->unexpected != 0) {
            return false;
        }
    }
    return flush_error == 0;
}

/* snprintf that keeps counting past the end of buf, so the caller learns the size needed. */
#define APPEND(...)                                                                                \
    do {                                                                                           \
        size_t at = (size_t)length < size ? (size_t)length : size;                                 \
        length += snprintf(buf + at, size - at, __VA_ARGS__);                                      \
    } while (0)

static int format_client(char *buf, size_t size, const struct blk_linux_client *c)
{
    int length = 0;
    const struct blk_linux_counts *k = &c->counts;
    APPEND("{\"client_id\": %u, \"requests\": %llu, \"reads\": %llu, \"writes\": %llu, "
           "\"bad_blocks\": %llu, \"errors\": %llu, \"conflict_waits\": %llu}",
           (unsigned)c->plan.workload.client, (unsigned long long)k->requests,
           (unsigned long long)k->reads, (unsigned long long)k->writes,
           (unsigned long long)blk_linux_bad_blocks(k), (unsigned long long)k->errors,
           (unsigned long long)k->conflict_waits);
    return length;
}

int blk_linux_format_counts(char *buf, size_t size, const struct blk_linux_client *clients,
                            uint32_t n, int flush_error)
{
    struct blk_linux_counts sum = {0};
    for (uint32_t i = 0; i < n; i++) {
        const struct blk_linux_counts *k = &clients[i].counts;
        sum.requests += k->requests;
        sum.reads += k->reads;
        sum.writes += k->writes;
        sum.read_bytes += k->read_bytes;
        sum.written_bytes += k->written_bytes;
        sum.blocks_checked += k->blocks_checked;
        for (int v = 0; v < BLK_BLOCK_VERDICTS; v++) {
            sum.bad_blocks[v] += k->bad_blocks[v];
        }
        sum.errors += k->errors;
        sum.unexpected += k->unexpected;
        sum.conflict_waits += k->conflict_waits;
    }
    int length = 0;
    APPEND("{\"requests\": %llu, \"reads\": %llu, \"writes\": %llu, \"bytes\": %llu, "
           "\"read_bytes\": %llu, \"written_bytes\": %llu, \"blocks_checked\": %llu, ",
           (unsigned long long)sum.requests, (unsigned long long)sum.reads,
           (unsigned long long)sum.writes, (unsigned long long)(sum.read_bytes + sum.written_bytes),
           (unsigned long long)sum.read_bytes, (unsigned long long)sum.written_bytes,
           (unsigned long long)sum.blocks_checked);
    for (int v = BLK_BLOCK_OK + 1; v < BLK_BLOCK_VERDICTS; v++) {
        APPEND("\"blocks_%s\": %llu, ", blk_verdict_name((enum blk_block_verdict)v),
               (unsigned long long)sum.bad_blocks[v]);
    }
    APPEND("\"errors\": %llu, \"unexpected\": %llu, \"conflict_waits\": %llu, "
           "\"flush_error\": %d, \"clients\": [",
           (unsigned long long)sum.errors, (unsigned long long)sum.unexpected,
           (unsigned long long)sum.conflict_waits, flush_error);
    for (uint32_t i = 0; i < n; i++) {
        size_t at = (size_t)length < size ? (size_t)length : size;
        length += format_client(buf + at, size - at, &clients[i]);
        APPEND("%s", i + 1 < n ? ", " : "");
    }
    APPEND("]}");
    return length;
}
