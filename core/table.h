/* table.h: the bounded hash tables: capacity fixed at init (from configuration), entries of a
 * fixed size whose first bytes are the key (compared with memcmp; keys are zero-padded
 * structures), nothing allocated after init, and what does not fit is counted, never silently
 * lost. One thread uses a table. Two policies for a full table:
 *
 *   ktab  refuses a new key (counted in refused). Entries stay in first-insert order (what is
 *         reported from it at window close comes out in the same order on every replay) until
 *         ktab_reset empties it: per-window state.
 *   ltab  evicts its least recently used entry for the new key (counted in evicted; the caller
 *         gets a copy to account for it). Entries can be removed one by one: state that
 *         outlives a window (hours, a day), or that expires entry by entry.
 *
 * Users: ktab (detectors: spam per window, blocklist hits; collector: the hostility trends);
 * ltab (detectors: scan and bruteforce state; collector: alert incidents). Hand-made tables
 * elsewhere say in a comment why they are not one of these: set-associative tables with a
 * detector's own victim choice (core/hosttab.c, the beacon pair pool and prevalence table),
 * the flow meter (ltab's shape, kept for its per-packet speed: collector/meter.c), a table that
 * grows with its file (the customer id index, lists/customers.c), the decoder's tables
 * (conditional eviction, variable-size entries: collector/decode/decode_int.h), the reassembly
 * slots (a short array scanned: collector/sources/frag.c). */
#ifndef TW_TABLE_H
#define TW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hash.h"

struct ktab {
    uint8_t *ent;  /* cap entries of esz bytes, in insertion order; each starts with its key */
    uint32_t *idx; /* open addressing: entry number + 1 */
    size_t esz, ksz, n, cap, mask;
    struct hash_key hk;
    uint64_t refused; /* keys not admitted because the table was full */
};
/* cap entries of esz bytes whose first ksz bytes are the key. Returns 0 or -ENOMEM. */
int ktab_init(struct ktab *t, size_t cap, size_t esz, size_t ksz, uint64_t seed);
void ktab_fini(struct ktab *t);
/* Find or insert (zeroed, key copied) an entry. NULL when full (t->refused counted). */
void *ktab_get(struct ktab *t, const void *key, bool *inserted);
static inline void *ktab_at(const struct ktab *t, size_t i)
{
    return t->ent + i * t->esz;
}
void ktab_reset(struct ktab *t);

/* ltab: entries are esz bytes, the first ksz of which are the key. An entry's address is
 * stable until it is evicted or removed (then its bytes are zeroed). Lookups and inserts are
 * O(1); nothing is allocated after init. One thread uses a table. The caller hashes the key
 * (equal keys, equal hashes; keyed, so that nobody can choose keys that collide): callers
 * often hold a keyed hash of part of the key already and mix the rest in cheaply. */
struct ltab {
    uint8_t *ent;
    uint32_t *bucket, *chain, *prev, *next; /* entry number + 1; 0 = none */
    uint32_t *hv;                           /* each entry's hash folded to 32 bits */
    size_t esz, ksz, cap, used, n, nbuckets;
    uint32_t oldest, newest, free_list;
    uint64_t evicted; /* entries pushed out to make room */
};
int ltab_init(struct ltab *t, size_t cap, size_t esz, size_t ksz);
void ltab_fini(struct ltab *t);
void ltab_remove(struct ltab *t, void *e);
static inline size_t ltab_index(const struct ltab *t, const void *e)
{
    return (size_t)((const uint8_t *)e - t->ent) / t->esz;
}
static inline void *ltab_entry(const struct ltab *t, size_t i)
{
    return t->ent + i * t->esz;
}

/* Lookups are inline (they run per record): an entry keeps its hash folded to 32 bits, its
 * bucket and a fingerprint that spares most key comparisons along a chain; keys of 8..64
 * bytes in steps of 8 are compared at a size the compiler knows. */
static inline uint32_t ltab_fold(uint64_t hash)
{
    return (uint32_t)(hash ^ (hash >> 32));
}
/* Ask for hash's bucket head ahead of a lookup (a worker batch's prefetch pass). */
static inline void ltab_prefetch(const struct ltab *t, uint64_t hash)
{
    __builtin_prefetch(&t->bucket[ltab_fold(hash) & (t->nbuckets - 1)]);
}
static inline bool ltab_key_eq(const void *a, const void *b, size_t n)
{
    switch (n) {
    case 8:
        return memcmp(a, b, 8) == 0;
    case 16:
        return memcmp(a, b, 16) == 0;
    case 24:
        return memcmp(a, b, 24) == 0;
    case 32:
        return memcmp(a, b, 32) == 0;
    case 40:
        return memcmp(a, b, 40) == 0;
    case 48:
        return memcmp(a, b, 48) == 0;
    case 56:
        return memcmp(a, b, 56) == 0;
    case 64:
        return memcmp(a, b, 64) == 0;
    default:
        return memcmp(a, b, n) == 0;
    }
}
/* Entry number + 1 of key (folded hash h), 0 when absent. */
static inline uint32_t ltab_find_index(const struct ltab *t, const void *key, uint32_t h)
{
    for (uint32_t i = t->bucket[h & (t->nbuckets - 1)]; i; i = t->chain[i - 1])
        if (t->hv[i - 1] == h && ltab_key_eq(ltab_entry(t, i - 1), key, t->ksz))
            return i;
    return 0;
}
static inline void *ltab_find(const struct ltab *t, const void *key, uint64_t hash)
{
    uint32_t i = ltab_find_index(t, key, ltab_fold(hash));
    return i ? ltab_entry(t, i - 1) : NULL;
}
/* Make e the newest entry. */
static inline void ltab_touch(struct ltab *t, void *e)
{
    uint32_t i = (uint32_t)ltab_index(t, e) + 1;
    if (t->newest == i)
        return;
    uint32_t p = t->prev[i - 1], n = t->next[i - 1]; /* n != 0: e is not the newest */
    if (p)
        t->next[p - 1] = n;
    else
        t->oldest = n;
    t->prev[n - 1] = p;
    t->prev[i - 1] = t->newest;
    t->next[i - 1] = 0;
    t->next[t->newest - 1] = i;
    t->newest = i;
}
/* The insertion half of ltab_get (key absent, folded hash h). */
void *ltab_insert(struct ltab *t, const void *key, uint32_t h, void *evicted, bool *was_evicted);
/* Find or insert (zeroed, key copied, made the newest). When full, the oldest entry is evicted
 * first; *evicted (may be NULL) receives a copy of it (esz bytes) so the caller can account
 * for it, and the return tells whether that happened through *was_evicted. */
static inline void *ltab_get(struct ltab *t, const void *key, uint64_t hash, bool *inserted,
                             void *evicted, bool *was_evicted)
{
    uint32_t h = ltab_fold(hash), i = ltab_find_index(t, key, h);
    if (was_evicted)
        *was_evicted = false;
    *inserted = i == 0;
    return i ? ltab_entry(t, i - 1) : ltab_insert(t, key, h, evicted, was_evicted);
}
/* The least recently used entry, NULL when empty. */
static inline void *ltab_oldest(const struct ltab *t)
{
    return t->oldest ? ltab_entry(t, t->oldest - 1) : NULL;
}

/* A walk that removes the oldest entries one after another (a window close settling or ending
 * them: det_scan pend_settle, det_bruteforce conns_end_all). Each removal touches lines of its
 * own (the entry, its hash, chain and list words, its bucket head), cold by then; ltab_ahead,
 * called once per step before the oldest is handled, asks for those of the entries a few steps
 * later, so that the walk's misses overlap instead of coming one by one. Only prefetches: what
 * the walk does is the same with or without it. The cursors start zeroed. */
#define LTAB_AHEAD 4 /* steps between asking for an entry's bucket head and its removal */
struct ltab_ahead {
    uint32_t near, far; /* entry numbers + 1: LTAB_AHEAD and 2 x LTAB_AHEAD after the oldest */
    bool placed;
};
static inline void ltab_ahead_lines(const struct ltab *t, uint32_t i)
{
    __builtin_prefetch(ltab_entry(t, i - 1));
    __builtin_prefetch(&t->hv[i - 1]);
    __builtin_prefetch(&t->chain[i - 1]);
    __builtin_prefetch(&t->prev[i - 1]);
}
static inline void ltab_ahead(const struct ltab *t, struct ltab_ahead *a)
{
    if (!a->placed && t->oldest) { /* first step: place the cursors */
        a->placed = true;
        uint32_t i = t->next[t->oldest - 1];
        for (int k = 0; i && k < 2 * LTAB_AHEAD; k++, i = t->next[i - 1]) {
            if (k == LTAB_AHEAD)
                a->near = i;
            ltab_ahead_lines(t, i);
        }
        a->far = i;
    }
    if (a->far) { /* its list word is the one cold load the walk waits for, overlapped */
        ltab_ahead_lines(t, a->far);
        a->far = t->next[a->far - 1];
    }
    if (a->near) { /* its hash, asked for LTAB_AHEAD steps ago, gives the bucket */
        __builtin_prefetch(&t->bucket[t->hv[a->near - 1] & (t->nbuckets - 1)]);
        a->near = t->next[a->near - 1];
    }
}

#endif
