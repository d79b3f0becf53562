/*
 * pinion-count: a QEMU 7.2 TCG plugin that counts the instructions each
 * vCPU executes, attributed to (phase, owner, kernel/user) by the accounting
 * markers of kernel/include/pinion/markers.h. See docs/accounting.md.
 *
 *   qemu-system-aarch64 ... -plugin pinion-count.so[,mode=exact|tb][,out=PATH]
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
 * Threads: QEMU 7.2 runs each vCPU in its own thread (MTTCG). Everything
 * per vCPU lives in g_vcpu[vcpu_index] and is touched only by that vCPU's
 * thread; the phase is global and atomic. The exit callback reads the
 * per-vCPU counters after the guest has stopped.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinion/markers.h>

#include "qemu_plugin_api.h"

PN_QEMU_PLUGIN_EXPORT int qemu_plugin_version = PN_QEMU_PLUGIN_API_VERSION;

#define PN_MAX_VCPUS    64 /* arrays are sized to max_vcpus up to this */
#define N_PHASES        (PN_PHASE_MAX + 1)
#define N_OWNERS        (PN_OWNER_MAX + 1)
#define N_MODES         3
#define COUNTS_PER_VCPU ((size_t)N_PHASES * N_OWNERS * N_MODES)
#define UPPER_HALF      ((uint64_t)1 << 55)  /* TTBR1's half of the address space */
#define SEGMENT_UPPER   ((uintptr_t)1 << 62) /* in a segment's udata: it is in the upper half */

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
static unsigned g_n_vcpus;       /* entries in g_vcpu */
static _Atomic unsigned g_phase; /* current phase, set by any vCPU */
static int g_exact = 1;          /* mode=exact (1) or mode=tb (0) */
static const char *g_out;        /* out=PATH, or NULL for qemu_plugin_outs */
static int g_guest_linux;        /* guest=linux: no pinion kernel, no markers */

/* ---- run time: the callbacks the generated code calls ---- */

static inline void add(struct vcpu *v, unsigned mode, uint64_t n)
{
    unsigned phase = atomic_load_explicit(&g_phase, memory_order_acquire);
    v->counts[((size_t)phase * N_OWNERS + v->owner) * N_MODES + mode] += n;
    v->total += n;
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

/* Before a segment of n plain instructions (n, and SEGMENT_UPPER, in udata). */
static void on_segment(unsigned int vcpu_index, void *udata)
{
    struct vcpu *v = &g_vcpu[vcpu_index];
    not_a_marker(v);
    add(v, mode_at(v, (uintptr_t)udata), (uintptr_t)udata & ~SEGMENT_UPPER);
}

/* Before an eret (SEGMENT_UPPER in udata): count it, then a pending PD entry takes effect. */
static void on_eret(unsigned int vcpu_index, void *udata)
{
    struct vcpu *v = &g_vcpu[vcpu_index];
    not_a_marker(v);
    add(v, mode_at(v, (uintptr_t)udata), 1);
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
    unsigned imm = (unsigned)(uintptr_t)udata;
    unsigned nibble = imm - PN_MARK_NIBBLE_BASE;

    add(v, MODE_KERNEL, 1);
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

enum insn_kind { K_PLAIN, K_MAY_FAULT, K_MARKER, K_ERET };

/*
 * Classify an A64 instruction word (encodings from the Arm ARM's A64
 * decode tables):
 *  - marker: HINT #0x70..#0x7f;
 *  - eret: ERET, and ERETAA/ERETAB;
 *  - may fault at run time in the middle of a block:
 *      loads and stores: op0 (bits 28:25) = x1x0;
 *      the system-instruction class, bits 31:22 = 1101010100 (MSR/MRS,
 *      SYS/SYSL, MSR immediate to PSTATE, ...), except hints and barriers,
 *      which never trap -- but WFE and WFI, which can trap to EL2, do
 *      count as may-fault.
 * Everything else (data processing, branches, exception generation, which
 * always ends a block, undefined encodings, which QEMU turns into an
 * exception at translation time, ending the block) is plain.
 */
static enum insn_kind classify(uint32_t w)
{
    if ((w & ~(0xfu << 5)) == PN_HINT_ENCODING(PN_MARK_NIBBLE_BASE))
        return K_MARKER;
    if (w == 0xd69f03e0u || (w & 0xfffffbffu) == 0xd69f0bffu)
        return K_ERET;
    if ((w & 0x0a000000u) == 0x08000000u)
        return K_MAY_FAULT;
    if ((w & 0xffc00000u) == 0xd5000000u) {
        if ((w & 0xfffff01fu) == 0xd503201fu) { /* hint space */
            unsigned imm = (w >> 5) & 0x7f;
            return (imm == 2 || imm == 3) ? K_MAY_FAULT : K_PLAIN; /* WFE, WFI */
        }
        if ((w & 0xfffff01fu) == 0xd503301fu) /* barriers, CLREX */
            return K_PLAIN;
        return K_MAY_FAULT;
    }
    return K_PLAIN;
}

/* The instruction word (A64 instructions are little-endian in memory). */
static int insn_word(const struct qemu_plugin_insn *insn, uint32_t *w)
{
    const uint8_t *p = qemu_plugin_insn_data(insn);
    if (!p || qemu_plugin_insn_size(insn) != 4)
        return 0;
    *w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 1;
}

static void flush_segment(struct qemu_plugin_insn **first, uintptr_t *len, uintptr_t upper)
{
    if (*len) {
        qemu_plugin_register_vcpu_insn_exec_cb(*first, on_segment, QEMU_PLUGIN_CB_NO_REGS,
                                               (void *)(*len | upper));
        *len = 0;
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct qemu_plugin_insn *first = NULL;
    uintptr_t len = 0;
    uintptr_t upper = qemu_plugin_tb_vaddr(tb) & UPPER_HALF ? SEGMENT_UPPER : 0;

    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint32_t w = 0;

        switch (insn_word(insn, &w) ? classify(w) : K_PLAIN) {
        case K_MARKER:
            flush_segment(&first, &len, upper);
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)((w >> 5) & 0x7f));
            break;
        case K_ERET:
            flush_segment(&first, &len, upper);
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_eret, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)upper);
            break;
        case K_MAY_FAULT:
            if (!len++)
                first = insn;
            if (g_exact)
                flush_segment(&first, &len, upper);
            break;
        case K_PLAIN:
            if (!len++)
                first = insn;
            break;
        }
    }
    flush_segment(&first, &len, upper);
}

/* ---- exit: the JSON report ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int need;

    if (b->failed)
        return;
    va_start(ap, fmt);
    need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        b->failed = 1;
        return;
    }
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + (size_t)need + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

static void report(struct sbuf *b)
{
    uint64_t ev[EV_N] = {0};
    unsigned present = 0;

    for (unsigned c = 0; c < g_n_vcpus; c++)
        present += g_vcpu[c].present;
    sb_printf(b,
              "{\"plugin\": \"pinion-count\", \"version\": 2, \"mode\": \"%s\", "
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
    sb_printf(b, "}}\n");
}

static int write_file(const char *path, const char *text, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    FILE *f;
    int ok;

    if (!tmp)
        return -1;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    ok = fwrite(text, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok ? 0 : -1;
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
        if (write_file(g_out, b.p, b.len) != 0)
            fprintf(stderr, "pinion-count: cannot write %s\n", g_out);
    } else {
        qemu_plugin_outs(b.p);
    }
    free(b.p);
}

/* ---- install ---- */

static void usage(void)
{
    fprintf(stderr, "usage: -plugin pinion-count.so[,mode=exact|tb][,out=PATH]\n"
                    "  mode=exact  (default) a count callback per segment ending at every\n"
                    "              load/store/system instruction: a synchronous exception\n"
                    "              overcounts by at most the faulting instruction\n"
                    "  mode=tb     a count callback per block (split at markers): faster;\n"
                    "              overcounts the rest of a block left by an exception\n"
                    "  guest=linux no pinion kernel: Linux booted directly (no markers);\n"
                    "              count all as owner 0, split into user and guest_kernel\n"
                    "  out=PATH    write the JSON report to PATH at exit (via PATH.tmp);\n"
                    "              without it, the report goes to QEMU's log (-d plugin)\n"
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
        } else {
            if (strcmp(a, "help") != 0 && strncmp(a, "help=", 5) != 0)
                fprintf(stderr, "pinion-count: unknown argument '%s'\n", a);
            usage();
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
        if (!g_vcpu[c].counts) {
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
