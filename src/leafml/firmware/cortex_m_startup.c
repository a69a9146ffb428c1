/* Reset and fault handling for the leafml Cortex-M harness, for every core
 * in machines.py (ARMv6-M, ARMv7-M, ARMv8-M and ARMv8.1-M).  The machine's
 * linker script (cortex_m_sections.ld) provides the symbols declared below.
 * No interrupt is ever enabled, so the vector table stops after the 16
 * system exceptions. */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

extern uint32_t __stack_top[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __data_load[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];

int main(void);
void Reset_Handler(void);
void Fault_Handler(void);
void fault_report(const uint32_t *frame);

/* System control block registers (ARMv7-M and ARMv8-M Architecture
 * Reference Manuals).  ARMv6-M has no fault status registers, and reading
 * one there would fault inside the fault handler. */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define CPACR_CP10_CP11_FULL (0xFu << 20)
#define HAS_FAULT_STATUS (__ARM_ARCH_ISA_THUMB >= 2)

typedef void (*vector_t)(void);

/* Entry 0 is the initial stack pointer, not a handler; the cast is the
 * usual way to put it in a table of function pointers. */
__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)__stack_top,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault on ARMv8-M with TrustZone, reserved elsewhere */
    0, 0, 0,       /* reserved */
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,             /* reserved */
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};

void Reset_Handler(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* The model may use float and the compiler may use FPU (or, on
     * Cortex-M55, MVE) registers anywhere after this point; without CP10/CP11
     * access the first such instruction is a UsageFault (NOCP). */
    SCB_CPACR |= CPACR_CP10_CP11_FULL;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));

    semihost_exit(main() == 0);
}

/* Naked so that r0 receives the stack pointer as it was at exception entry,
 * which points at the hardware-stacked frame r0-r3, r12, lr, pc, xpsr.
 * bl rather than b: ARMv6-M's 16-bit b reaches only 2 KiB, and
 * fault_report never returns, so the clobbered lr does not matter. */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile("mrs r0, msp\n\t"
                     "bl fault_report");
}

void fault_report(const uint32_t *frame)
{
    char line[128];
    char *p = line;
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));

    p = append_text(p, "leafml firmware: fault: exception ");
    p = append_decimal(p, (int32_t)(ipsr & 0x1FFu));
    p = append_text(p, " at pc=0x");
    p = append_hex(p, frame[6], 8);
#if HAS_FAULT_STATUS
    p = append_text(p, " cfsr=0x");
    p = append_hex(p, SCB_CFSR, 8);
    p = append_text(p, " hfsr=0x");
    p = append_hex(p, SCB_HFSR, 8);
#endif
    *p++ = '\n';
    *p = '\0';
    semihost_write0(line);
    semihost_exit(0);
}
