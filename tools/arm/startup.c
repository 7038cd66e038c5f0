/*
 * Bare-metal start-up for the unit tests on QEMU's MPS2 boards (AN385 Cortex-M3,
 * AN386 Cortex-M4), linked with tools/arm/mps2.ld and newlib's librdimon (ARM
 * semihosting: stdio and file I/O go to the host, exit() ends QEMU with the
 * program's status).
 *
 * It replaces newlib's rdimon-crt0 (the program is linked with -nostartfiles):
 * the vector table, the reset handler that sets up .data/.bss and calls main,
 * fault handlers that say what went wrong instead of hanging, and a _sbrk that
 * serves the heap region of the linker script (newlib's own _sbrk assumes the
 * heap lies below the stack, which is not so here).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>

extern uint32_t __stack_top[], __stack_guard[], __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start__[], __bss_end__[];
extern char __heap_start[], __heap_end[];

int main(int argc, char **argv);
void initialise_monitor_handles(void);
void Reset_Handler(void);
void fault_report(const uint32_t *frame, uint32_t exc_return);
void *_sbrk(ptrdiff_t incr);
void _init(void);
void _fini(void);

/* ------------------------------------------------------------- semihosting */

#define SEMI_SYS_WRITE0 0x04
#define SEMI_SYS_EXIT 0x18
#define SEMI_RUNTIME_ERROR 0x20023   /* ADP_Stopped_RunTimeErrorUnknown: QEMU exits 1 */

static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void say(const char *s)
{
    semihost(SEMI_SYS_WRITE0, s);
}

static void say_hex(const char *label, uint32_t v)
{
    char buf[12];
    int i;
    say(label);
    say("=");
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    buf[10] = ' ';
    buf[11] = '\0';
    say(buf);
}

static void die(void)
{
    semihost(SEMI_SYS_EXIT, (const void *)SEMI_RUNTIME_ERROR);
    for (;;) {
    }
}

/* ------------------------------------------------------------------ faults */

/* Called with the exception frame the core pushed (r0-r3, r12, lr, pc, xpsr).
 * Prints the fault status registers of the emulated M3/M4 (also for an ARMv6-M
 * build, which runs on the M3). */
void fault_report(const uint32_t *frame, uint32_t exc_return)
{
    volatile const uint32_t *scb = (volatile const uint32_t *)0xE000ED00u;
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    say("\n*** CPU fault: ");
    say_hex("exception", ipsr & 0x1ff);
    say_hex("pc", frame[6]);
    say_hex("lr", frame[5]);
    say_hex("sp", (uint32_t)(uintptr_t)frame);
    say_hex("exc_return", exc_return);
    say("\n    ");
    say_hex("CFSR", scb[0x28 / 4]);
    say_hex("HFSR", scb[0x2c / 4]);
    say_hex("MMFAR", scb[0x34 / 4]);
    say_hex("BFAR", scb[0x38 / 4]);
    if ((uintptr_t)frame == (uintptr_t)__stack_top - 32)
        say("\n    the stack overflowed (sp reached the guard at the bottom of RAM)\n");
    else
        say("\n");
    die();
}

/* Finds the frame on the main stack, then reports. A stack overflow faults while
 * pushing the frame into the guard, where it cannot be read: the report then
 * runs on a fresh stack pointer at the top of the stack region (its frame values
 * are garbage, the sp it prints tells). */
__attribute__((naked)) static void Fault_Handler(void)
{
    __asm__ volatile(
        "mov r1, lr\n"
        "mrs r0, msp\n"
        "ldr r2, =__stack_guard_end + 32\n"
        "cmp r0, r2\n"
        "bhs 1f\n"
        "ldr r0, =__stack_top\n"
        "sub r0, #32\n"      /* (valid in both asm syntaxes) */
        "msr msp, r0\n"
        "1:\n"
        "ldr r2, =fault_report\n"   /* any distance, also in ARMv6-M */
        "bx r2\n"
        ".ltorg\n");
}

static void Default_Handler(void)
{
    say("\n*** unexpected interrupt\n");
    die();
}

/* Cortex-M vector table: the initial stack pointer, then the handlers. */
typedef void (*vector_t)(void);
__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)__stack_top,
    Reset_Handler,
    Default_Handler,    /* NMI */
    Fault_Handler,      /* HardFault */
    Fault_Handler,      /* MemManage */
    Fault_Handler,      /* BusFault */
    Fault_Handler,      /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,    /* SVCall */
    Default_Handler,    /* DebugMonitor */
    0,
    Default_Handler,    /* PendSV */
    Default_Handler,    /* SysTick */
};

/* ------------------------------------------------------------------- reset */

/* The boards are a Cortex-M3 (AN385) and M4 (AN386). Faults get their own
 * handlers (better reports than a bare HardFault). A build for ARMv6-M
 * (Cortex-M0/M0+), run on the M3, also traps unaligned accesses, as a real M0+
 * always does and the M3 would silently allow: for ARMv6-M gcc never emits an
 * unaligned access itself, so a trap there is a bug in the C code. */
static void enable_traps_and_fpu(void)
{
    volatile uint32_t *shcsr = (volatile uint32_t *)0xE000ED24u;
    volatile uint32_t *ccr = (volatile uint32_t *)0xE000ED14u;
    *shcsr |= 7u << 16;     /* MemManage, BusFault, UsageFault enabled */
    *ccr |= 1u << 4;        /* division by zero traps */
#if defined(__ARM_ARCH_6M__)
    *ccr |= 1u << 3;        /* UNALIGN_TRP */
#endif
#if defined(__ARM_FP)
    {   /* the FPU is off after reset: give CP10 and CP11 full access */
        volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
        *cpacr |= 0xfu << 20;
        __asm__ volatile("dsb\n isb" ::: "memory");
    }
#endif
}

/* The code region (SSRAM1 and its mirror) is RAM on these boards: the MPU makes
 * it read-only, so that a write through a NULL pointer (a failed malloc a test
 * did not check) or a stray pointer faults at once with MMFAR = the address,
 * instead of overwriting the vector table and code and crashing later. The
 * lowest 4 KiB of the stack region become a guard that catches an overflow. */
static void protect_code(void)
{
    volatile uint32_t *mpu = (volatile uint32_t *)0xE000ED94u;    /* CTRL, RNR, RBAR, RASR */
    const uint32_t ro_4mib = (6u << 24)     /* AP: read-only, privileged and not */
                           | (1u << 17)     /* C: normal memory, write-through */
                           | (21u << 1)     /* SIZE: 2^(21+1) = 4 MiB */
                           | 1u;            /* region enabled */
    if (((*(volatile uint32_t *)0xE000ED90u >> 8) & 0xffu) < 2) return;   /* no MPU */
    mpu[1] = 0;
    mpu[2] = 0x00000000u;
    mpu[3] = ro_4mib;
    mpu[1] = 1;
    mpu[2] = 0x00400000u;
    mpu[3] = ro_4mib;
    mpu[1] = 2;             /* the stack guard: 4 KiB, no access, never executed */
    mpu[2] = (uint32_t)(uintptr_t)__stack_guard;
    mpu[3] = (1u << 28) | (11u << 1) | 1u;
    mpu[0] = 1u | 4u;       /* enabled; the default memory map everywhere else */
    __asm__ volatile("dsb\n isb" ::: "memory");
}

void Reset_Handler(void)
{
    static char arg0[] = "test";
    static char *argv[] = {arg0, NULL};
    uint32_t *src = __data_load, *dst;
    for (dst = __data_start; dst < __data_end;) *dst++ = *src++;
    for (dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
    enable_traps_and_fpu();
    protect_code();
    initialise_monitor_handles();   /* opens the host's stdin/stdout/stderr */
    exit(main(1, argv));            /* flushes stdio; QEMU exits with the status */
}

/* Without crti.o (-nostartfiles), newlib's init/fini array walkers still call
 * these: nothing to do, there are no constructors here. */
void _init(void) {}
void _fini(void) {}

/* ---------------------------------------------------------------- the heap */

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __heap_start;
    char *old = brk;
    if (incr > __heap_end - brk || incr < __heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += incr;
    return old;
}
