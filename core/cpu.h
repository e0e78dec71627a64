/* cpu.h: waiting politely for another thread. cpu_relax() is the one spin-wait hint (x86 PAUSE,
 * Arm YIELD, else a compiler barrier); cpu_backoff() is the one way a thread waits for another
 * without a wake-up: spin with the hint for a while, then give the core away (sched_yield), so
 * two threads sharing one core still make progress. Any thread; no allocation. */
#ifndef TW_CPU_H
#define TW_CPU_H

#include <sched.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield" ::: "memory");
#elif defined(__powerpc64__) || defined(__ppc64__)
    __asm__ __volatile__("or 27,27,27" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

#define CPU_SPINS 64 /* relax this many times before yielding */

/* One step of a wait: *spins counts the steps of this wait (start it at 0). */
static inline void cpu_backoff(unsigned *spins)
{
    if (*spins < CPU_SPINS) {
        (*spins)++;
        cpu_relax();
    } else {
        sched_yield();
    }
}

#endif
