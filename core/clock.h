/* clock.h: the one place that reads the clocks. Wall time (CLOCK_REALTIME: Unix time, for what
 * is stamped on data or shown to people) and monotonic time (CLOCK_MONOTONIC: for intervals,
 * timers and timeouts; it never jumps). Any thread; no allocation. The record path never reads a
 * clock per record: callers stamp a batch once (a receive batch, a loop turn). */
#ifndef TW_CLOCK_H
#define TW_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Unix time in milliseconds / nanoseconds. */
uint64_t clock_wall_ms(void);
uint64_t clock_wall_ns(void);
/* Monotonic time in milliseconds / nanoseconds (an arbitrary origin; only differences count). */
uint64_t clock_mono_ms(void);
uint64_t clock_mono_ns(void);
/* The CLOCK_REALTIME instant ms from now, for the POSIX calls that take an absolute deadline on
 * that clock (pthread_timedjoin_np). */
struct timespec clock_wall_deadline(uint64_t ms);

#endif
