/* clock.c: see clock.h. */
#include "clock.h"

static uint64_t ns_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_wall_ns(void)
{
    return ns_of(CLOCK_REALTIME);
}

uint64_t clock_wall_ms(void)
{
    return ns_of(CLOCK_REALTIME) / 1000000u;
}

uint64_t clock_mono_ns(void)
{
    return ns_of(CLOCK_MONOTONIC);
}

uint64_t clock_mono_ms(void)
{
    return ns_of(CLOCK_MONOTONIC) / 1000000u;
}

struct timespec clock_wall_deadline(uint64_t ms)
{
    uint64_t ns = ns_of(CLOCK_REALTIME) + ms * 1000000u;
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}
