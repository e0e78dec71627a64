/* text_fuzz_util.h: the small in-test fuzz of the text loaders' unit tests (test_customers,
 * test_feeds): the next input of a fixed-seed sequence, alternately one of the seeds with
 * three bytes replaced and random bytes of the alphabet. Header-only, static. */
#ifndef TW_TEXT_FUZZ_UTIL_H
#define TW_TEXT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t tfz_next(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x;
}

/* Input number it into buf (cap bytes, seeds shorter than that); returns its length. x is
 * the generator's state; alphabet is NUL-terminated. */
static inline size_t tfz_input(uint32_t *x, int it, char *buf, size_t cap, const char *const *seeds,
                               size_t nseeds, const char *alphabet)
{
    size_t n, na = strlen(alphabet);
    tfz_next(x);
    if (it % 2) {
        const char *s = seeds[(*x >> 8) % nseeds];
        n = strlen(s);
        memcpy(buf, s, n);
        for (int k = 0; k < 3; k++) {
            tfz_next(x);
            buf[(*x >> 8) % n] = alphabet[(*x >> 16) % na];
        }
    } else {
        n = (*x >> 8) % cap;
        for (size_t i = 0; i < n; i++)
            buf[i] = alphabet[(tfz_next(x) >> 16) % na];
    }
    return n;
}

#endif
