/* gen_rng.h: the scenario simulators' random numbers (gen_scenario, gen_eval): xorshift64*,
 * deterministic (a seed repeats a run exactly) and fast. Header-only, static. */
#ifndef TW_GEN_RNG_H
#define TW_GEN_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s; /* never 0 */
};

static inline uint64_t rnd(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

/* 0..n-1 (0 when n is 0). */
static inline uint32_t below(struct rng *r, uint32_t n)
{
    return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* [0, 1) with 53 bits. */
static inline double u01(struct rng *r)
{
    return (double)(rnd(r) >> 11) / 9007199254740992.0;
}

#endif
