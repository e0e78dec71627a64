/* tags.h: a bucket's 32-bit tags compared with one key's tag at once. The set-associative
 * tables keep a fingerprint (tag) of each position's key side by side on one line and look at a
 * position's key only when its tag matches (core/hosttab.c, det_beacon's pair pool); comparing
 * the tags one by one was most of a lookup's instructions (8 or 16 compares and branches per
 * record). With SSE2 (every x86-64) four tags take one compare; elsewhere the same answer
 * comes from a plain loop. Pure, any thread. */
#ifndef TW_TAGS_H
#define TW_TAGS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define TAGS_MAX 32 /* tags one call compares, at most (the answer is a 32-bit mask) */

/* Bit i set for every i < n with tags[i] == tag; n a multiple of 4, at most TAGS_MAX. The
 * positions in the order a loop over them would visit: lowest bit first (__builtin_ctz, then
 * m &= m - 1). */
static inline uint32_t tags_match(const uint32_t *tags, size_t n, uint32_t tag)
{
    uint32_t m = 0;
#if defined(__SSE2__)
    __m128i t = _mm_set1_epi32((int)tag);
    for (size_t i = 0; i < n; i += 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(tags + i));
        __m128i eq = _mm_cmpeq_epi32(v, t);
        m |= (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(eq)) << i;
    }
#else
    for (size_t i = 0; i < n; i++)
        m |= (uint32_t)(tags[i] == tag) << i;
#endif
    return m;
}

/* Set bits of a mask (a SWAR count: no libgcc call in a build without popcnt). */
static inline unsigned tags_count(uint32_t m)
{
    m = m - ((m >> 1) & 0x55555555u);
    m = (m & 0x33333333u) + ((m >> 2) & 0x33333333u);
    return (((m + (m >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

#endif
