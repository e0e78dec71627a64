/* sketch.h: bounded-memory building blocks the behavioural detectors share (one worker each;
 * nothing here locks or allocates after init).
 *
 *   hll      distinct counter: an exact set of up to HLL_EXACT 32-bit hashes, promoted to a
 *            HyperLogLog of HLL_M one-byte registers (std. error 1.04/sqrt(128) = 9.2 %) past
 *            it, so thresholds near 10-30 are exact. 132 bytes.
 *   cms      count-min sketch with conservative update and saturating 16-bit counters
 *            (admission filter: overestimates only, so no key that qualifies is missed).
 *   ktab, ltab  the bounded tables, from core/table.h (included here).
 *   gfilter  a two-generation blocked Bloom filter: "seen within the last one to two
 *            generations?" for keys such as (host, target, port), in fixed memory.
 *   pfxlist  up to PFXLIST_MAX prefixes as plain data (a per-customer conf copy needs no
 *            pointers), with a CONF_CUSTOM parser: "192.0.2.25/32, 2001:db8::/48".
 *   portlist up to PORTLIST_MAX ports or ranges, CONF_CUSTOM parser "25, 465, 587, 33434-33534"
 *            (kept sorted, overlapping and adjacent ones merged, with a 1024-bit filter of the
 *            ports' low bits: every record may ask, and portlist_has answers most with one bit
 *            test, the rest with a binary search).
 *   robust statistics on small arrays (median, MAD, Bowley skew) for beacon scoring.
 */
#ifndef TW_SKETCH_H
#define TW_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "hash.h"
#include "table.h"

#define HLL_P 7
#define HLL_M (1u << HLL_P)
#define HLL_EXACT 32

struct hll {
    uint8_t n;     /* exact values held (while !dense) */
    uint8_t dense; /* 1: registers in use */
    uint8_t pad[2];
    union {
        uint32_t set[HLL_EXACT];
        uint8_t reg[HLL_M];
    } u;
};

void hll_reset(struct hll *h);
/* Add an element by its 64-bit hash. Returns true when it was (exactly) new; in dense mode
 * true when a register grew (an approximation). */
bool hll_add(struct hll *h, uint64_t hash);
uint32_t hll_count(const struct hll *h);
/* Is h's count exact (its values still held one by one), not a HyperLogLog estimate? */
static inline bool hll_exact(const struct hll *h)
{
    return !h->dense;
}
/* The 32-bit value hll_add keeps of a hash (the exact set's member, the registers' input). */
static inline uint32_t hll_value(uint64_t hash)
{
    return (uint32_t)(hash ^ (hash >> 32));
}
/* hll_add to an empty counter (hll_reset, or zeroed memory), inline: its first exact value (what
 * hll_add does there, and it would return true). */
static inline void hll_add_first(struct hll *h, uint64_t hash)
{
    h->u.set[0] = hll_value(hash);
    h->n = 1;
}
/* dst := dst union src (register-wise max; exact sets merged while they fit). */
void hll_merge(struct hll *dst, const struct hll *src);

struct cms {
    uint32_t width, depth;
    uint16_t *c; /* depth * width */
};
int cms_init(struct cms *s, uint32_t width, uint32_t depth);
void cms_fini(struct cms *s);
void cms_clear(struct cms *s);
/* Count one more occurrence of the key (conservative update). Returns the new estimate. */
uint32_t cms_add(struct cms *s, uint64_t hash);
uint32_t cms_get(const struct cms *s, uint64_t hash);

/* gfilter: test-and-set of 64-bit key hashes in the current generation; a key counts as seen
 * when it is in either generation. gfilter_age() starts a new generation (the older one is
 * forgotten). Blocked: four bits of one 64-bit word per key and generation; the two
 * generations' words of a key side by side (16 bytes: one cache line per lookup). */
struct gfilter {
    uint64_t *w;          /* nwords pairs: w[2 i + cur] current, w[2 i + (cur ^ 1)] previous */
    size_t nwords;        /* per generation */
    unsigned cur;         /* 0 or 1 */
    uint64_t set_bits[2]; /* [0] current, [1] previous */
};
int gfilter_init(struct gfilter *g, size_t bytes); /* bytes for both generations */
void gfilter_fini(struct gfilter *g);
/* The word pair a key hash lands in (a batch's prefetch pass may keep it for the test). */
static inline size_t gfilter_word(const struct gfilter *g, uint64_t hash)
{
    return (size_t)(hash % g->nwords);
}
/* gfilter_test_and_set with the hash's gfilter_word already known (inline: once per attempt). */
static inline bool gfilter_test_and_set_at(struct gfilter *g, size_t word, uint64_t hash)
{
    uint64_t *pair = &g->w[2 * word];
    uint64_t h = hash_mix64(hash); /* four bits from its low 24, six each */
    uint64_t mask =
        1ULL << (h & 63) | 1ULL << (h >> 6 & 63) | 1ULL << (h >> 12 & 63) | 1ULL << (h >> 18 & 63);
    uint64_t *now = &pair[g->cur];
    /* the bits this key sets anew (at most mask's 4): none for a key in this generation */
    uint64_t add = mask & ~*now;
    if (!add)
        return true;
    bool seen = (pair[g->cur ^ 1] & mask) == mask;
    /* counted in the word's halves (no libgcc popcount call in a build without the popcnt
     * instruction) */
    add -= (add >> 1) & 0x5555555555555555ULL;
    add = (add & 0x3333333333333333ULL) + ((add >> 2) & 0x3333333333333333ULL);
    add = (add + (add >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    g->set_bits[0] += (add * 0x0101010101010101ULL) >> 56;
    *now |= mask;
    return seen;
}
static inline bool gfilter_test_and_set(struct gfilter *g, uint64_t hash)
{
    return gfilter_test_and_set_at(g, gfilter_word(g, hash), hash);
}
/* Start loading the line gfilter_test_and_set_at(g, word, ...) will read (a prefetch pass). */
PREFETCH_FN void gfilter_prefetch_word(const struct gfilter *g, size_t word)
{
    __builtin_prefetch(&g->w[2 * word]);
}
void gfilter_age(struct gfilter *g);
void gfilter_clear(struct gfilter *g);
/* Share of the current generation's bits set (a saturation gauge). */
double gfilter_fill(const struct gfilter *g);

#define PFXLIST_MAX 16
struct pfxlist {
    uint32_t n;
    struct prefix p[PFXLIST_MAX];
};
/* Both: conf_key parsers (CONF_CUSTOM); 0, or -E2BIG, -ENOSPC (too many items), -EINVAL. */
int pfxlist_parse(void *field, const char *value, char *msg, size_t msglen);
bool pfxlist_match_any(const struct pfxlist *l, const uint8_t a[16]);
/* Is a in one of l's prefixes? Inline where it runs per record: an empty list (most of them)
 * answers without a call. */
static inline bool pfxlist_match(const struct pfxlist *l, const uint8_t a[16])
{
    return l->n && pfxlist_match_any(l, a);
}

#define PORTLIST_MAX 64
struct portlist {
    uint32_t n;                /* ranges */
    uint16_t p[PORTLIST_MAX];  /* each range's first port, ascending */
    uint16_t hi[PORTLIST_MAX]; /* and its last (p[i] for a single port) */
    uint64_t low[16]; /* bit (port & 1023) set for every port: most ports are out at one test */
};
int portlist_parse(void *field, const char *value, char *msg, size_t msglen);
bool portlist_find(const struct portlist *l, uint16_t port);
/* Is port in l? Inline where it runs per record: the bit test answers most ports without a
 * call (and every port of an empty list); the rest is portlist_find's binary search. */
static inline bool portlist_has(const struct portlist *l, uint16_t port)
{
    return ((l->low[(port >> 6) & 15] >> (port & 63)) & 1) && portlist_find(l, port);
}

/* On n values (sorted in place): median, median absolute deviation, Bowley skew of the
 * quartiles (0 when the interquartile range is below min_iqr). tmp: n scratch values. */
struct robust {
    double q1, median, q3, mad, skew;
};
void robust_stats(double *v, double *tmp, size_t n, double min_iqr, struct robust *out);

/* 64-bit hash of an address (for distinct counts); of its /24 (IPv4) or /48 (IPv6). */
uint64_t sk_hash_addr(const struct hash_key *k, const uint8_t a[16]);
uint64_t sk_hash_net(const struct hash_key *k, const uint8_t a[16]);

#endif
