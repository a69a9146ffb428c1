/* QEMU TCG plugin: exact count of guest instructions executed between two
 * code addresses, once per pass.
 *
 *   qemu-system-arm ... -plugin insn_count_plugin.so,start=0xADDR,end=0xADDR,out=PATH
 *
 * Every time the instruction at `start` and then the one at `end` execute,
 * one line with the number of instructions executed from `start` (included)
 * to `end` (excluded) is appended to PATH.  The leafml harness puts `start`
 * on the `bl leafml_invoke` and `end` on the instruction after it.
 *
 * Every translated instruction gets an inline "add 1" on a counter, so the
 * count is exact even when a translation block is left early; only the two
 * marker instructions also get a callback, which reads the counter.  Whether
 * QEMU runs an instruction's inline op before or after its callback, both
 * markers see the same order, so the difference is the same either way.
 *
 * Debian ships QEMU 7.2 with plugin support but without qemu-plugin.h, so
 * the few API declarations used are written out below, as QEMU 7.2's
 * plugin API (version 1) defines them.  QEMU refuses to load a plugin whose
 * qemu_plugin_version is outside the range it supports. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- QEMU plugin API (declarations only; QEMU provides the symbols) --- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* not inspected here */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv);
/* --- end of QEMU plugin API --- */

/* The harness machine has one vCPU, so plain globals are race-free. */
static uint64_t executed;
static uint64_t start_address;
static uint64_t end_address;
static uint64_t count_at_start;
static bool in_region;
static FILE *out;

/* Distinct addresses to tell the two markers apart in the shared callback. */
static char start_tag;
static char end_tag;

static void on_marker(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    if (userdata == &start_tag) {
        count_at_start = executed;
        in_region = true;
    } else if (in_region) {
        fprintf(out, "%" PRIu64 "\n", executed - count_at_start);
        /* Flushed per line: a guest that faults later still leaves every
         * finished count behind. */
        fflush(out);
        in_region = false;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
        if (vaddr == start_address || vaddr == end_address) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                                   vaddr == start_address ? &start_tag : &end_tag);
        }
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    fclose(out);
}

static bool parse_address(const char *text, uint64_t *address)
{
    char *end;
    *address = strtoull(text, &end, 0);
    return *text != '\0' && *end == '\0';
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    const char *out_path = NULL;
    bool have_start = false;
    bool have_end = false;

    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "start=", 6) == 0) {
            have_start = parse_address(argv[i] + 6, &start_address);
        } else if (strncmp(argv[i], "end=", 4) == 0) {
            have_end = parse_address(argv[i] + 4, &end_address);
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            out_path = argv[i] + 4;
        }
    }
    /* qemu_plugin_outs text is shown only with QEMU's `-d plugin`; without
     * it QEMU still reports that qemu_plugin_install returned an error. */
    if (!have_start || !have_end || out_path == NULL) {
        qemu_plugin_outs("insn_count_plugin: needs start=ADDRESS,end=ADDRESS,out=PATH\n");
        return 1;
    }
    out = fopen(out_path, "w");
    if (out == NULL) {
        qemu_plugin_outs("insn_count_plugin: cannot open the out= file\n");
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
