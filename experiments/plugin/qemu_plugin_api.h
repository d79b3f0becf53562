/*
 * pinion's own declarations of the part of QEMU's TCG plugin interface that
 * pinion-count uses, written for the interface level that Debian 12's
 * qemu-system-aarch64 7.2 exports (plugin API version 1). Debian ships no
 * plugin header, so these are declared here from the documented behaviour
 * of the interface and the symbols the binary exports
 * (`nm -D $(which qemu-system-aarch64) | grep qemu_plugin`).
 *
 * Only what pinion uses is declared. The layouts and signatures below must
 * match what QEMU 7.2 passes and expects; they are ABI, not style.
 *
 * How QEMU drives a plugin (what the code in pinion_count.c relies on):
 *  - QEMU dlopen()s the shared object, reads the int `qemu_plugin_version`
 *    the plugin exports (it refuses a version outside the range it
 *    supports), then calls `qemu_plugin_install` once, before any vCPU
 *    runs. A non-zero return makes QEMU fail to start.
 *  - Arguments given as `-plugin file.so,key=value,...` reach install as
 *    argv strings "key=value" (argv stays valid for the plugin's life).
 *  - A translation callback sees each newly translated block (TB) and may
 *    attach execution callbacks to the block or to any of its
 *    instructions. Per-instruction callbacks are emitted into the
 *    generated code in front of the instruction: they run before it
 *    executes, every time it is about to execute, in registration order.
 *  - Under MTTCG each vCPU runs in its own host thread; execution
 *    callbacks are called on that thread with the vCPU's index.
 *  - The handles a translation callback receives are only valid during
 *    that callback.
 */
#ifndef PINION_QEMU_PLUGIN_API_H
#define PINION_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The plugin interface level this plugin is written against (QEMU 7.2). */
#define PN_QEMU_PLUGIN_API_VERSION 1

/* Mark a symbol QEMU looks up in the plugin (build with hidden default). */
#define PN_QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Opaque handle QEMU gives each loaded plugin. */
typedef uint64_t qemu_plugin_id_t;

/*
 * What QEMU tells install about itself and the machine. Only meaningful
 * during the install call (copy what is needed).
 */
typedef struct qemu_info_t {
    const char *target_name; /* guest architecture, e.g. "aarch64" */
    struct {
        int min; /* oldest plugin interface accepted */
        int cur; /* interface level of this QEMU */
    } version;
    bool system_emulation; /* true for qemu-system-*, false for user mode */
    union {
        struct {
            int smp_vcpus; /* vCPUs at start (-smp N) */
            int max_vcpus; /* most vCPUs there can ever be (-smp maxcpus=) */
        } system;          /* valid only when system_emulation */
    };
} qemu_info_t;

/* Opaque: a block being translated, and one instruction of it. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* Whether an execution callback needs the guest registers synchronised. */
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS = 0,
    QEMU_PLUGIN_CB_R_REGS = 1,
    QEMU_PLUGIN_CB_RW_REGS = 2,
};

/* Callback shapes. */
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

/* Exported by the plugin. */
extern PN_QEMU_PLUGIN_EXPORT int qemu_plugin_version;
PN_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                              int argc, char **argv);

/* Called once per vCPU when it is created (before it executes). */
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);

/* Called for every newly translated block. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);

/* From a translation callback: call cb(vcpu, userdata) before the block runs. */
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);

/* From a translation callback: call cb(vcpu, userdata) before insn runs. */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);

/* Instructions in a block, and the idx'th of them (0-based). */
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);

/* The instruction's bytes as fetched (guest byte order), their count, address. */
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

/* Called when QEMU exits (after the guest stopped, from the exiting thread). */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

/*
 * Write a string to QEMU's log. In 7.2 this goes through the "plugin" log
 * category: nothing appears unless QEMU runs with `-d plugin` (and it goes
 * to the file given by -D, else stderr).
 */
void qemu_plugin_outs(const char *string);

#endif
