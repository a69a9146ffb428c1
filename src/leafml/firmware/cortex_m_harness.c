/* Cortex-M harness, the same for every core leafml measures: runs
 * leafml_invoke on every embedded input and prints over semihosting, one line
 * each:
 *   "o <hex bytes of the output vector>"
 * then, after the last input,
 *   "stack <bytes>"   the deepest stack use of any one leafml_invoke call.
 * A nonzero leafml_invoke status or a stack overflow prints a line starting
 * "leafml firmware:" and exits with failure.
 *
 * Built with -DLEAFML_HARNESS_INPUT_SIZE / -DLEAFML_HARNESS_OUTPUT_SIZE (the
 * sizes the caller expects) and the generated leafml_inputs.h, which defines
 * LEAFML_N_INPUTS and leafml_inputs[LEAFML_N_INPUTS][LEAFML_INPUT_SIZE]. */
#include <stdint.h>

/* model.h first: leafml_inputs.h sizes its array with LEAFML_INPUT_SIZE. */
#include "model.h"

#include "leafml_inputs.h"
#include "semihost.h"

#if LEAFML_HARNESS_INPUT_SIZE != LEAFML_INPUT_SIZE
#error "the inputs' row length differs from LEAFML_INPUT_SIZE in model.h"
#endif
#if LEAFML_HARNESS_OUTPUT_SIZE != LEAFML_OUTPUT_SIZE
#error "the expected output size differs from LEAFML_OUTPUT_SIZE in model.h"
#endif

/* The instruction-count plugin snapshots its counter when the instructions
 * at the global labels leafml_mark_start and leafml_mark_end execute.  They
 * sit directly on the call, so a count covers exactly the `bl` plus every
 * instruction leafml_invoke executes up to and including its return.
 * Labels rather than marker functions: a call to a marker would add its own
 * instructions and depend on how the compiler schedules around it. */
int leafml_measured_invoke(const int8_t *input, int8_t *output);
__asm__(".syntax unified\n"
        ".thumb\n"
        ".text\n"
        ".global leafml_measured_invoke\n"
        ".type leafml_measured_invoke, %function\n"
        ".thumb_func\n"
        "leafml_measured_invoke:\n"
        /* r4 is pushed only to keep the stack 8-byte aligned (AAPCS). */
        "    push {r4, lr}\n"
        ".global leafml_mark_start\n"
        "leafml_mark_start:\n"
        "    bl leafml_invoke\n"
        ".global leafml_mark_end\n"
        "leafml_mark_end:\n"
        "    pop {r4, pc}\n"
        ".size leafml_measured_invoke, . - leafml_measured_invoke\n");
#define TRAMPOLINE_PUSH_BYTES 8u

/* Stack high-water measurement: paint the free stack before each call and
 * find the deepest overwritten word afterwards. */
extern uint32_t __stack_limit[];
#define STACK_PAINT 0x5AFEC0DEu

static int8_t output[LEAFML_OUTPUT_SIZE];
static char line[2 * LEAFML_OUTPUT_SIZE + 32];

static void report_error(uint32_t index, int status)
{
    char *p = line;
    p = append_text(p, "leafml firmware: leafml_invoke returned ");
    p = append_decimal(p, status);
    p = append_text(p, " on input ");
    p = append_decimal(p, (int32_t)index);
    *p++ = '\n';
    *p = '\0';
    semihost_write0(line);
}

static void report_output(void)
{
    char *p = append_text(line, "o ");
    for (uint32_t i = 0; i < LEAFML_OUTPUT_SIZE; ++i) {
        p = append_hex(p, (uint8_t)output[i], 2);
    }
    *p++ = '\n';
    *p = '\0';
    semihost_write0(line);
}

int main(void)
{
    uint32_t *sp;
    uint32_t deepest_use = 0;

    /* main's stack pointer stays put after its prologue (no alloca, no
     * stack arguments), so one reading serves every call. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));

    for (uint32_t i = 0; i < LEAFML_N_INPUTS; ++i) {
        /* volatile: keeps the compiler from turning the loop into a memset
         * call, whose own frame would lie inside the area being painted. */
        for (volatile uint32_t *w = __stack_limit; w < sp; ++w) {
            *w = STACK_PAINT;
        }

        int status = leafml_measured_invoke(leafml_inputs[i], output);

        const volatile uint32_t *w = __stack_limit;
        while (w < sp && *w == STACK_PAINT) {
            ++w;
        }
        if (w == __stack_limit) {
            /* Even the last word was overwritten: the call most likely ran
             * past the stack into .bss, so nothing after it can be trusted. */
            semihost_write0("leafml firmware: stack overflow: leafml_invoke used the whole stack "
                            "(the STACK region of the machine's linker script)\n");
            return 1;
        }
        uint32_t use = (uint32_t)((const char *)sp - (const char *)w) - TRAMPOLINE_PUSH_BYTES;
        if (use > deepest_use) {
            deepest_use = use;
        }

        if (status != 0) {
            report_error(i, status);
            return 1;
        }
        report_output();
    }

    char *p = append_text(line, "stack ");
    p = append_decimal(p, (int32_t)deepest_use);
    *p++ = '\n';
    *p = '\0';
    semihost_write0(line);
    return 0;
}
