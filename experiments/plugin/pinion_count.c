/*
 * pinion-count: a QEMU 7.2 TCG plugin that counts the instructions each
 * vCPU executes, attributed to (phase, owner, kernel/user) by the accounting
 * markers of kernel/include/pinion/markers.h. See docs/accounting.md.
 *
 *   qemu-system-aarch64 ... -plugin pinion-count.so[,mode=exact|tb][,out=PATH]
 *                                   [,guest=linux][,symbols=PATH]
 *
 * Counting. At translation time each block is cut into segments: maximal
 * runs of instructions that contain no marker and no `eret`, and, in exact
 * mode, that end after every instruction that can take a synchronous
 * exception at run time (loads/stores and system-register/system
 * instructions). A callback placed on a segment's first instruction adds
 * the segment's length to counts[phase][vcpu][owner][mode] before any of
 * it executes. Markers and erets each get their own callback, which counts
 * the instruction itself under the state before it and then applies its
 * effect, so attribution changes exactly at that instruction.
 *
 * Guests. Instructions counted outside the kernel ("user": native PDs and
 * vCPUs) are split by address: those at an upper-half virtual address
 * (bit 55 set: where Linux's kernel runs) go to "guest_kernel", the rest
 * stay "user" (a guest's user space, or a native PD, which runs with stage
 * 1 off at low addresses). A block never spans the halves (it stays in one
 * page), so the split is decided at translation time. With guest=linux
 * there is no pinion kernel and no markers: every instruction counts as
 * owner 0 outside the kernel, split the same way (the native-Linux
 * baseline).
 *
 * Functions. With symbols=PATH (a guest kernel's System.map, symbol_map.h)
 * every segment is also attributed to the function holding it: a segment
 * is cut where a block crosses from one function into the next, the
 * function is found once, at translation time, and its index travels in
 * the callback's udata (layout below), so the run-time cost is one more
 * counter increment per segment, in counts per (vCPU, phase, function)
 * that do not depend on the owner or mode. Erets and markers are counted
 * in their function too, so a map's functions add up to every instruction
 * executed in its range.
 *
 * Threads: QEMU 7.2 runs each vCPU in its own thread (MTTCG). Everything
 * per vCPU lives in g_vcpu[vcpu_index] and is touched only by that vCPU's
 * thread; the phase is global and atomic. The exit callback reads the
 * per-vCPU counters after the guest has stopped.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinion/markers.h>

#include "insn_kind.h"
#include "json_text.h"
#include "qemu_plugin_api.h"
#include "symbol_map.h"

PN_QEMU_PLUGIN_EXPORT int qemu_plugin_version = PN_QEMU_PLUGIN_API_VERSION;

#define PN_MAX_VCPUS    64 /* arrays are sized to max_vcpus up to this */
#define N_PHASES        (PN_PHASE_MAX + 1)
#define N_OWNERS        (PN_OWNER_MAX + 1)
#define N_MODES         3
#define COUNTS_PER_VCPU ((size_t)N_PHASES * N_OWNERS * N_MODES)
#define UPPER_HALF      ((uint64_t)1 << 55) /* TTBR1's half of the address space */

/*
 * The udata of a segment's, an eret's or a marker's callback (a 64-bit
 * host pointer):
 *   bits  0..15  a segment's length (a TCG block holds at most 512
 *                instructions); a marker's hint immediate; 0 for an eret
 *   bits 16..47  1 + the index of the function holding it, 0 for none
 *   bit  62      SEGMENT_UPPER: it is in the upper half (segments, erets)
 */
#define SEGMENT_LENGTH_MASK    ((uintptr_t)0xffff)
#define SEGMENT_FUNCTION_SHIFT 16
#define SEGMENT_FUNCTION_MASK  ((uintptr_t)0xffffffff)
#define SEGMENT_UPPER          ((uintptr_t)1 << 62)
#define MAX_FUNCTIONS          ((size_t)SEGMENT_FUNCTION_MASK - 1)
_Static_assert(sizeof(uintptr_t) == 8, "udata packs a length, a function and a flag");

enum { MODE_KERNEL = 0, MODE_USER = 1, MODE_GUEST_KERNEL = 2 };

/* Marker decoder state (per vCPU). */
enum { DEC_IDLE = 0, DEC_SWITCH_HI, DEC_SWITCH_LO, DEC_PHASE };

/* Marker events, counted per vCPU and summed at exit. */
enum { EV_SWITCH, EV_PD_ENTRY, EV_KERNEL_ENTRY, EV_PHASE, EV_MALFORMED, EV_N };
static const char *const ev_name[EV_N] = {
    "switch", "pd_entry", "kernel_entry", "phase", "malformed",
};

struct vcpu {
    _Alignas(64) uint64_t *counts; /* [phase][owner][mode], COUNTS_PER_VCPU */
    uint64_t *function_counts;     /* [phase][function], with symbols= only */
    uint64_t total;                /* every instruction counted on this vCPU */
    uint64_t ev[EV_N];
    uint8_t owner;        /* current owner, 0..255 */
    uint8_t mode;         /* MODE_KERNEL or MODE_USER */
    uint8_t dec;          /* DEC_* */
    uint8_t hi;           /* high nibble of a switch being decoded */
    uint8_t pending_user; /* PD entry seen, user mode after next eret */
    uint8_t present;      /* the vCPU was created */
};

static struct vcpu *g_vcpu;
static unsigned g_n_vcpus;         /* entries in g_vcpu */
static _Atomic unsigned g_phase;   /* current phase, set by any vCPU */
static int g_exact = 1;            /* mode=exact (1) or mode=tb (0) */
static const char *g_out;          /* out=PATH, or NULL for qemu_plugin_outs */
static int g_guest_linux;          /* guest=linux: no pinion kernel, no markers */
static const char *g_symbols_path; /* symbols=PATH, or NULL */
static struct symbol_map g_symbols;
static size_t g_n_functions; /* functions in g_symbols, 0 without symbols= */

/* ---- run time: the callbacks the generated code calls ---- */

/* Returns the phase counted in, for the function count of the same instructions. */
static inline unsigned add(struct vcpu *v, unsigned mode, uint64_t n)
{
    unsigned phase = atomic_load_explicit(&g_phase, memory_order_acquire);
    v->counts[((size_t)phase * N_OWNERS + v->owner) * N_MODES + mode] += n;
    v->total += n;
    return phase;
}

static inline void add_to_function(struct vcpu *v, unsigned phase, uintptr_t udata, uint64_t n)
{
    size_t function = (udata >> SEGMENT_FUNCTION_SHIFT) & SEGMENT_FUNCTION_MASK;
    v->function_counts[phase * g_n_functions + function - 1] += n;
}

/* A non-marker instruction is about to run: a nibble that was still
 * expected will not come, so the sequence is malformed; drop it. */
static inline void not_a_marker(struct vcpu *v)
{
    if (v->dec != DEC_IDLE) {
        v->ev[EV_MALFORMED]++;
        v->dec = DEC_IDLE;
    }
}

/* Outside the kernel, the upper half is a guest's kernel. */
static inline unsigned mode_at(const struct vcpu *v, uintptr_t udata)
{
    return v->mode == MODE_USER && (udata & SEGMENT_UPPER) ? MODE_GUEST_KERNEL : v->mode;
}

/* Before a segment of n plain instructions outside any function (udata as above). */
static void on_segment(unsigned int vcpu_index, void *udata)
{
    struct vcpu *v = &g_vcpu[vcpu_index];
    not_a_marker(v);
    add(v, mode_at(v, (uintptr_t)udata), (uintptr_t)udata & SEGMENT_LENGTH_MASK);
}

/* The same for a segment inside a function: a separate callback, so that
 * runs without symbols= pay nothing for the function counts. */
static void on_segment_in_function(unsigned int vcpu_index, void *udata)
{
    struct vcpu *v = &g_vcpu[vcpu_index];
    uint64_t n = (uintptr_t)udata & SEGMENT_LENGTH_MASK;
    not_a_marker(v);
    add_to_function(v, add(v, mode_at(v, (uintptr_t)udata), n), (uintptr_t)udata, n);
}

/* Before an eret (udata as above): count it, then a pending PD entry takes effect. */
static void on_eret(unsigned int vcpu_index, void *udata)
{
    struct vcpu *v = &g_vcpu[vcpu_index];
    not_a_marker(v);
    unsigned phase = add(v, mode_at(v, (uintptr_t)udata), 1);
    if (((uintptr_t)udata >> SEGMENT_FUNCTION_SHIFT) & SEGMENT_FUNCTION_MASK)
        add_to_function(v, phase, (uintptr_t)udata, 1); /* a guest kernel's eret */
    if (v->pending_user) {
        v->pending_user = 0;
        v->mode = MODE_USER;
    }
}

/* Before a marker hint (immediate in udata): count it as a kernel
 * instruction of the current owner and phase, then decode it. */
static void on_marker(unsigned int vcpu_index, void *udata)
{
    struct vcpu *v = &g_vcpu[vcpu_index];
    unsigned imm = (unsigned)((uintptr_t)udata & SEGMENT_LENGTH_MASK);
    unsigned nibble = imm - PN_MARK_NIBBLE_BASE;
    unsigned phase = add(v, MODE_KERNEL, 1);

    /* Markers are pinion's kernel, outside a guest's map, but count them
     * where a map covers them too, so that a map's functions add up to
     * every instruction executed in its range. */
    if (((uintptr_t)udata >> SEGMENT_FUNCTION_SHIFT) & SEGMENT_FUNCTION_MASK)
        add_to_function(v, phase, (uintptr_t)udata, 1);
    switch (v->dec) {
    case DEC_SWITCH_HI:
        v->hi = (uint8_t)nibble;
        v->dec = DEC_SWITCH_LO;
        return;
    case DEC_SWITCH_LO:
        v->owner = (uint8_t)(v->hi << 4 | nibble);
        v->dec = DEC_IDLE;
        v->ev[EV_SWITCH]++;
        return;
    case DEC_PHASE:
        atomic_store_explicit(&g_phase, nibble, memory_order_seq_cst);
        v->dec = DEC_IDLE;
        v->ev[EV_PHASE]++;
        return;
    default:
        break;
    }
    switch (imm) {
    case PN_MARK_SWITCH:
        v->dec = DEC_SWITCH_HI;
        break;
    case PN_MARK_PHASE:
        v->dec = DEC_PHASE;
        break;
    case PN_MARK_KERNEL_ENTRY:
        v->mode = MODE_KERNEL;
        v->ev[EV_KERNEL_ENTRY]++;
        break;
    case PN_MARK_PD_ENTRY:
        v->pending_user = 1;
        v->ev[EV_PD_ENTRY]++;
        break;
    default: /* a nibble nobody asked for */
        v->ev[EV_MALFORMED]++;
        break;
    }
}

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
    (void)id;
    if (vcpu_index >= g_n_vcpus) {
        fprintf(stderr, "pinion-count: vCPU %u, but arrays sized for %u vCPUs\n", vcpu_index,
                g_n_vcpus);
        abort();
    }
    g_vcpu[vcpu_index].present = 1;
}

/* ---- translation time: cutting blocks into segments ---- */

/* The instruction word (A64 instructions are little-endian in memory). */
static int insn_word(const struct qemu_plugin_insn *insn, uint32_t *w)
{
    const uint8_t *p = qemu_plugin_insn_data(insn);
    if (!p || qemu_plugin_insn_size(insn) != 4)
        return 0;
    *w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 1;
}

/* A segment being gathered: where it starts, its length, and its udata bits but the length. */
struct segment {
    struct qemu_plugin_insn *first;
    uintptr_t len;
    uintptr_t tag;         /* SEGMENT_UPPER and the function field */
    uint64_t function_end; /* the segment must stop before this address */
};

/* The function field of udata for an instruction at vaddr, and where that function ends. */
static uintptr_t function_field(uint64_t vaddr, uint64_t *function_end)
{
    size_t function;

    if (!g_n_functions) {
        *function_end = UINT64_MAX;
        return 0;
    }
    function = symbol_map_find(&g_symbols, vaddr, function_end);
    return function == SYMBOL_NONE ? 0 : (uintptr_t)(function + 1) << SEGMENT_FUNCTION_SHIFT;
}

static void flush_segment(struct segment *seg)
{
    if (seg->len) {
        int in_function = ((seg->tag >> SEGMENT_FUNCTION_SHIFT) & SEGMENT_FUNCTION_MASK) != 0;
        qemu_plugin_register_vcpu_insn_exec_cb(
            seg->first, in_function ? on_segment_in_function : on_segment, QEMU_PLUGIN_CB_NO_REGS,
            (void *)(seg->len | seg->tag));
        seg->len = 0;
    }
}

/* A plain or may-fault instruction joins the segment, which first ends
 * if the instruction is in another function. */
static void extend_segment(struct segment *seg, struct qemu_plugin_insn *insn, uintptr_t upper)
{
    uint64_t vaddr = g_n_functions ? qemu_plugin_insn_vaddr(insn) : 0;

    if (seg->len && vaddr >= seg->function_end)
        flush_segment(seg);
    if (!seg->len++) {
        seg->first = insn;
        seg->tag = upper | function_field(vaddr, &seg->function_end);
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct segment seg = {0};
    uintptr_t upper = qemu_plugin_tb_vaddr(tb) & UPPER_HALF ? SEGMENT_UPPER : 0;
    uint64_t unused_end;

    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint32_t w = 0;

        switch (insn_word(insn, &w) ? classify(w) : K_PLAIN) {
        case K_MARKER:
            flush_segment(&seg);
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                (void *)(((w >> 5) & 0x7f) |
                         function_field(qemu_plugin_insn_vaddr(insn), &unused_end)));
            break;
        case K_ERET:
            flush_segment(&seg);
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, on_eret, QEMU_PLUGIN_CB_NO_REGS,
                (void *)(upper | function_field(qemu_plugin_insn_vaddr(insn), &unused_end)));
            break;
        case K_MAY_FAULT:
            extend_segment(&seg, insn, upper);
            if (g_exact)
                flush_segment(&seg);
            break;
        case K_PLAIN:
            extend_segment(&seg, insn, upper);
            break;
        }
    }
    flush_segment(&seg);
}

/* ---- exit: the JSON report ---- */

struct function_count {
    size_t function;
    uint64_t count;
};

static int by_name(const void *a, const void *b)
{
    const struct function_count *x = a, *y = b;
    int order = strcmp(g_symbols.name[x->function], g_symbols.name[y->function]);
    if (order)
        return order;
    return x->function < y->function ? -1 : x->function > y->function;
}

/* Static functions of different files can share a name: one entry each name, summed. */
static size_t merge_equal_names(struct function_count *row, size_t used)
{
    size_t kept = 0;

    qsort(row, used, sizeof *row, by_name);
    for (size_t i = 0; i < used; i++) {
        if (kept &&
            strcmp(g_symbols.name[row[kept - 1].function], g_symbols.name[row[i].function]) == 0)
            row[kept - 1].count += row[i].count;
        else
            row[kept++] = row[i];
    }
    return kept;
}

static int by_count_descending(const void *a, const void *b)
{
    const struct function_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->function < y->function ? -1 : x->function > y->function;
}

/* "functions": per phase, every function that counted, summed over vCPUs, largest first. */
static void report_functions(struct sbuf *b)
{
    struct function_count *row = malloc(g_n_functions * sizeof *row);
    const char *psep = "";

    if (!row) {
        b->failed = 1;
        return;
    }
    sb_printf(b, ",\n \"functions\": {\"symbols\": ");
    sb_json_string(b, g_symbols_path);
    sb_printf(b, ", \"phases\": [");
    for (unsigned ph = 0; ph < N_PHASES; ph++) {
        size_t used = 0;
        for (size_t f = 0; f < g_n_functions; f++) {
            uint64_t sum = 0;
            for (unsigned c = 0; c < g_n_vcpus; c++)
                sum += g_vcpu[c].function_counts[(size_t)ph * g_n_functions + f];
            if (sum)
                row[used++] = (struct function_count){f, sum};
        }
        if (!used)
            continue;
        used = merge_equal_names(row, used);
        qsort(row, used, sizeof *row, by_count_descending);
        sb_printf(b, "%s\n  {\"phase\": %u, \"counts\": [", psep, ph);
        psep = ",";
        for (size_t i = 0; i < used; i++) {
            sb_printf(b, "%s[", i ? (i % 4 ? ", " : ",\n   ") : "\n   ");
            sb_json_string(b, g_symbols.name[row[i].function]);
            sb_printf(b, ", %llu]", (unsigned long long)row[i].count);
        }
        sb_printf(b, "]}");
    }
    sb_printf(b, "]}");
    free(row);
}

static void report(struct sbuf *b)
{
    uint64_t ev[EV_N] = {0};
    unsigned present = 0;

    for (unsigned c = 0; c < g_n_vcpus; c++)
        present += g_vcpu[c].present;
    sb_printf(b,
              "{\"plugin\": \"pinion-count\", \"version\": 3, \"mode\": \"%s\", "
              "\"guest\": \"%s\", \"vcpus\": %u,\n \"per_vcpu\": [",
              g_exact ? "exact" : "tb", g_guest_linux ? "linux" : "pinion", present);
    const char *vsep = "";
    for (unsigned c = 0; c < g_n_vcpus; c++) {
        const struct vcpu *v = &g_vcpu[c];
        if (!v->present)
            continue;
        for (int e = 0; e < EV_N; e++)
            ev[e] += v->ev[e];
        sb_printf(b, "%s\n  {\"vcpu\": %u, \"total\": %llu, \"phases\": [", vsep, c,
                  (unsigned long long)v->total);
        vsep = ",";
        const char *psep = "";
        for (unsigned ph = 0; ph < N_PHASES; ph++) {
            const uint64_t *row = v->counts + (size_t)ph * N_OWNERS * N_MODES;
            int any = 0;
            for (unsigned i = 0; i < N_OWNERS * N_MODES && !any; i++)
                any = row[i] != 0;
            if (!any)
                continue;
            sb_printf(b, "%s\n    {\"phase\": %u, \"owners\": [", psep, ph);
            psep = ",";
            const char *osep = "";
            for (unsigned o = 0; o < N_OWNERS; o++) {
                uint64_t k = row[o * N_MODES + MODE_KERNEL];
                uint64_t u = row[o * N_MODES + MODE_USER];
                uint64_t g = row[o * N_MODES + MODE_GUEST_KERNEL];
                if (!k && !u && !g)
                    continue;
                sb_printf(b,
                          "%s\n      {\"owner\": %u, \"kernel\": %llu, \"user\": %llu, "
                          "\"guest_kernel\": %llu}",
                          osep, o, (unsigned long long)k, (unsigned long long)u,
                          (unsigned long long)g);
                osep = ",";
            }
            sb_printf(b, "]}");
        }
        sb_printf(b, "]}");
    }
    sb_printf(b, "],\n \"markers\": {");
    for (int e = 0; e < EV_N; e++)
        sb_printf(b, "%s\"%s\": %llu", e ? ", " : "", ev_name[e], (unsigned long long)ev[e]);
    sb_printf(b, "}");
    if (g_n_functions)
        report_functions(b);
    sb_printf(b, "}\n");
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata)
{
    struct sbuf b = {0};

    (void)id;
    (void)udata;
    report(&b);
    if (b.failed) {
        fprintf(stderr, "pinion-count: out of memory writing the report\n");
    } else if (g_out) {
        if (write_file_atomically(g_out, b.p, b.len) != 0)
            fprintf(stderr, "pinion-count: cannot write %s\n", g_out);
    } else {
        qemu_plugin_outs(b.p);
    }
    free(b.p);
}

/* ---- install ---- */

static void usage(void)
{
    fprintf(stderr, "usage: -plugin pinion-count.so[,mode=exact|tb][,out=PATH][,guest=linux]\n"
                    "                                   [,symbols=PATH]\n"
                    "  mode=exact  (default) a count callback per segment ending at every\n"
                    "              load/store/system instruction: a synchronous exception\n"
                    "              overcounts by at most the faulting instruction\n"
                    "  mode=tb     a count callback per block (split at markers): faster;\n"
                    "              overcounts the rest of a block left by an exception\n"
                    "  guest=linux no pinion kernel: Linux booted directly (no markers);\n"
                    "              count all as owner 0, split into user and guest_kernel\n"
                    "  out=PATH    write the JSON report to PATH at exit (via PATH.tmp);\n"
                    "              without it, the report goes to QEMU's log (-d plugin)\n"
                    "  symbols=PATH\n"
                    "              a guest kernel's System.map (lines 'ADDR TYPE NAME'):\n"
                    "              also count instructions per phase and function (text\n"
                    "              symbols: types t T w W), reported under \"functions\"\n"
                    "  help        this text (and QEMU does not start)\n");
}

PN_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                              int argc, char **argv)
{
    unsigned n;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "mode=exact") == 0) {
            g_exact = 1;
        } else if (strcmp(a, "mode=tb") == 0) {
            g_exact = 0;
        } else if (strcmp(a, "guest=linux") == 0) {
            g_guest_linux = 1;
        } else if (strncmp(a, "out=", 4) == 0 && a[4]) {
            g_out = a + 4;
        } else if (strncmp(a, "symbols=", 8) == 0 && a[8]) {
            g_symbols_path = a + 8;
        } else {
            if (strcmp(a, "help") != 0 && strncmp(a, "help=", 5) != 0)
                fprintf(stderr, "pinion-count: unknown argument '%s'\n", a);
            usage();
            return -1;
        }
    }
    if (g_symbols_path) {
        char err[512];
        if (symbol_map_load(&g_symbols, g_symbols_path, err, sizeof err) != 0) {
            fprintf(stderr, "pinion-count: symbols=: %s\n", err);
            usage();
            return -1;
        }
        g_n_functions = symbol_map_functions(&g_symbols);
        if (g_n_functions > MAX_FUNCTIONS) {
            fprintf(stderr, "pinion-count: symbols=%s: %zu functions, at most %zu supported\n",
                    g_symbols_path, g_n_functions, MAX_FUNCTIONS);
            return -1;
        }
    }
    if (!info->target_name || strcmp(info->target_name, "aarch64") != 0) {
        fprintf(stderr, "pinion-count: decodes aarch64 only, not '%s'\n",
                info->target_name ? info->target_name : "?");
        return -1;
    }
    if (info->system_emulation) {
        if (info->system.max_vcpus > PN_MAX_VCPUS) {
            fprintf(stderr, "pinion-count: %d vCPUs, at most %d supported\n",
                    info->system.max_vcpus, PN_MAX_VCPUS);
            return -1;
        }
        n = info->system.max_vcpus > 0 ? (unsigned)info->system.max_vcpus : 1;
    } else {
        n = PN_MAX_VCPUS; /* user mode: one per thread, checked at init */
    }
    g_vcpu = aligned_alloc(64, n * sizeof *g_vcpu);
    if (!g_vcpu) {
        fprintf(stderr, "pinion-count: out of memory\n");
        return -1;
    }
    memset(g_vcpu, 0, n * sizeof *g_vcpu);
    for (unsigned c = 0; c < n; c++) {
        g_vcpu[c].mode = g_guest_linux ? MODE_USER : MODE_KERNEL;
        g_vcpu[c].counts = calloc(COUNTS_PER_VCPU, sizeof(uint64_t));
        if (g_n_functions)
            g_vcpu[c].function_counts = calloc((size_t)N_PHASES * g_n_functions, sizeof(uint64_t));
        if (!g_vcpu[c].counts || (g_n_functions && !g_vcpu[c].function_counts)) {
            fprintf(stderr, "pinion-count: out of memory\n");
            return -1;
        }
    }
    g_n_vcpus = n;
    atomic_store(&g_phase, 0);

    qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
