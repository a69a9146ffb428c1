/* ARM semihosting for the leafml Cortex-M harness, plus the few text
 * formatters it needs (the harness links no printf: it would dwarf the model
 * in the size report and needs syscalls newlib-nano does not provide here).
 *
 * Semihosting: the guest executes `bkpt 0xAB` with an operation number in r0
 * and a parameter (or a pointer to a parameter block) in r1; the debugger or
 * emulator (QEMU with -semihosting-config enable=on) performs the operation.
 * Operation numbers are those of ARM's "Semihosting for AArch32 and AArch64"
 * specification. */
#ifndef LEAFML_SEMIHOST_H
#define LEAFML_SEMIHOST_H

#include <stdint.h>

#define SEMIHOST_SYS_WRITE0 0x04u /* r1: NUL-terminated string to the console */
#define SEMIHOST_SYS_EXIT 0x18u   /* r1: reason code; never returns */

/* SYS_EXIT reason codes.  On AArch32 QEMU turns ApplicationExit into host
 * exit status 0 and every other reason into exit status 1. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023u

static inline uint32_t semihost_call(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    /* "memory": the host reads guest memory through r1, so pending stores
     * to the string must be done before the trap. */
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static inline void semihost_write0(const char *text)
{
    semihost_call(SEMIHOST_SYS_WRITE0, (uint32_t)(uintptr_t)text);
}

static inline __attribute__((noreturn)) void semihost_exit(int success)
{
    semihost_call(SEMIHOST_SYS_EXIT, success ? ADP_STOPPED_APPLICATION_EXIT
                                             : ADP_STOPPED_RUNTIME_ERROR_UNKNOWN);
    for (;;) {
        /* Unreachable under QEMU; spin if a debugger ignores the exit. */
    }
}

/* Append helpers: each writes at `p`, returns the new end, writes no NUL. */
static inline char *append_text(char *p, const char *text)
{
    while (*text != '\0') {
        *p++ = *text++;
    }
    return p;
}

static inline char *append_hex(char *p, uint32_t value, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
        *p++ = hex[(value >> shift) & 0xFu];
    }
    return p;
}

static inline char *append_decimal(char *p, int32_t value)
{
    char digits[10];
    int n = 0;
    /* Negate in unsigned arithmetic so INT32_MIN does not overflow. */
    uint32_t magnitude = (uint32_t)value;
    if (value < 0) {
        *p++ = '-';
        magnitude = 0u - magnitude;
    }
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

#endif /* LEAFML_SEMIHOST_H */
