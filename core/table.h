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
#include "lines.h"

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
 * often hold a keyed hash of part of the key already and mix the rest in cheaply.
 *
 * The recency order is a log, not a linked list: inserting or touching an entry appends its
 * number at the log's head and keeps that position in its meta (8 bytes after the entry's own,
 * in the same slot: an entry and its meta share the lines a lookup already brought); a record
 * whose entry has moved on (touched again: a later record; removed: the position's top bit
 * flipped) is stale and skipped where the oldest is asked for. So a removal writes only its own entry, meta and
 * bucket, never its neighbours' in the order (a list's unlink: two more cold lines), and
 * the order is still exact LRU (eviction picks the same entry as the list did). The log holds
 * at least twice cap records; when it fills, its live records (at most cap) are moved
 * together in order (ltab_log_compact: amortised at most one meta read per append).
 *
 * The index is open addressing (linear probing, at most half full; a removal moves back the
 * links after it: no tombstones) of 8-byte links that carry the entry's hash: a lookup reads
 * its bucket's line and the entry whose hash matches, a removal the same bucket line (no
 * chain to walk: chains put the oldest entries last, and a window close removes the oldest).
 * Per entry beyond esz: 8 bytes of meta (and esz rounded up to 8), 8-16 of log, 16-32 of
 * buckets (the list and chains took 20-24). */
struct ltab_meta {
    uint32_t hv;  /* the entry's hash folded to 32 bits; free entries: the free list's next */
    uint32_t pos; /* its latest log position; top bit flipped when removed */
};
/* A bucket: an entry number + 1 (0 = empty) in the low half, that entry's folded hash in the
 * high half, so that a lookup reads no entry whose hash differs. */
#define LTAB_LINK(h, i) ((uint64_t)(h) << 32 | (i))
struct ltab {
    uint8_t *ent;
    uint64_t *bucket; /* open addressing, linear probing, at most half full: links */
    uint32_t *log;    /* recency log: entry indexes at positions tail..head-1 (mod nlog) */
    /* entry i: esz bytes at ent + i * stride, its struct ltab_meta in the slot's last 8 bytes
     * (stride: esz rounded up to 8, plus 8) */
    size_t esz, stride, ksz, cap, used, n, nbuckets;
    uint32_t nlog, tail, head, free_list;
    uint64_t evicted;   /* entries pushed out to make room */
    uint64_t compacted; /* log compactions (a gauge for tests: the log stays bounded) */
};
int ltab_init(struct ltab *t, size_t cap, size_t esz, size_t ksz);
void ltab_fini(struct ltab *t);
void ltab_remove(struct ltab *t, void *e);
static inline size_t ltab_index(const struct ltab *t, const void *e)
{
    return (size_t)((const uint8_t *)e - t->ent) / t->stride;
}
static inline void *ltab_entry(const struct ltab *t, size_t i)
{
    return t->ent + i * t->stride;
}
/* Entry i's meta: the last 8 bytes of its slot. */
static inline struct ltab_meta *ltab_meta(const struct ltab *t, size_t i)
{
    return (struct ltab_meta *)(void *)(t->ent + (i + 1) * t->stride - sizeof(struct ltab_meta));
}

/* Lookups are inline (they run per record): an entry's hash folded to 32 bits picks its
 * bucket and, kept in the links, spares most key comparisons along a probe; keys of 8..64
 * bytes in steps of 8 are compared at a size the compiler knows. */
static inline uint32_t ltab_fold(uint64_t hash)
{
    return (uint32_t)(hash ^ (hash >> 32));
}
/* Ask for hash's bucket head ahead of a lookup (a worker batch's prefetch pass). */
PREFETCH_FN void ltab_prefetch(const struct ltab *t, uint64_t hash)
{
    __builtin_prefetch(&t->bucket[ltab_fold(hash) & (t->nbuckets - 1)]);
}
/* OP(k) with k the key size n as a constant for the sizes the tables use (8..64 in steps of 8:
 * a few moves or compares instead of a call), n itself otherwise. The cases do not break: OP
 * must leave the function (return). */
#define LTAB_KSZ_SWITCH(n, OP)                                                                     \
    switch (n) {                                                                                   \
    case 8:                                                                                        \
        OP(8);                                                                                     \
    case 16:                                                                                       \
        OP(16);                                                                                    \
    case 24:                                                                                       \
        OP(24);                                                                                    \
    case 32:                                                                                       \
        OP(32);                                                                                    \
    case 40:                                                                                       \
        OP(40);                                                                                    \
    case 48:                                                                                       \
        OP(48);                                                                                    \
    case 56:                                                                                       \
        OP(56);                                                                                    \
    case 64:                                                                                       \
        OP(64);                                                                                    \
    default:                                                                                       \
        OP(n);                                                                                     \
    }
static inline bool ltab_key_eq(const void *a, const void *b, size_t n)
{
#define LTAB_EQ(k) return memcmp(a, b, k) == 0
    LTAB_KSZ_SWITCH(n, LTAB_EQ)
#undef LTAB_EQ
}
/* Entry number + 1 of key (folded hash h), 0 when absent. */
static inline uint32_t ltab_find_index(const struct ltab *t, const void *key, uint32_t h)
{
    size_t m = t->nbuckets - 1;
    for (size_t j = h & m;; j = (j + 1) & m) {
        uint64_t l = t->bucket[j];
        if (!(uint32_t)l)
            return 0;
        if ((uint32_t)(l >> 32) == h && ltab_key_eq(ltab_entry(t, (uint32_t)l - 1), key, t->ksz))
            return (uint32_t)l;
    }
}
static inline void *ltab_find(const struct ltab *t, const void *key, uint64_t hash)
{
    uint32_t i = ltab_find_index(t, key, ltab_fold(hash));
    return i ? ltab_entry(t, i - 1) : NULL;
}
/* Append entry idx's record to the log (it becomes the newest). */
void ltab_log_compact(struct ltab *t);
static inline void ltab_log_push(struct ltab *t, uint32_t idx)
{
    if (t->head - t->tail == t->nlog)
        ltab_log_compact(t);
    t->log[t->head & (t->nlog - 1)] = idx;
    ltab_meta(t, idx)->pos = t->head++;
}
/* Make entry number idx (ltab_index) the newest. */
static inline void ltab_touch_at(struct ltab *t, uint32_t idx)
{
    if (ltab_meta(t, idx)->pos != t->head - 1)
        ltab_log_push(t, idx);
}
/* Make e the newest entry. */
static inline void ltab_touch(struct ltab *t, void *e)
{
    ltab_touch_at(t, (uint32_t)ltab_index(t, e));
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
/* The least recently used entry, NULL when empty (stale records at the log's tail are
 * dropped on the way). */
static inline void *ltab_oldest(struct ltab *t)
{
    for (; t->tail != t->head; t->tail++) {
        uint32_t idx = t->log[t->tail & (t->nlog - 1)];
        if (ltab_meta(t, idx)->pos == t->tail)
            return ltab_entry(t, idx);
    }
    return NULL;
}

/* Call fn on every entry, the least recently used first: inserting them in this order into an
 * empty table rebuilds the order (collector/alerts.c's incidents file). */
static inline void ltab_each_by_age(const struct ltab *t, void (*fn)(void *arg, const void *e),
                                    void *arg)
{
    for (uint32_t p = t->tail; p != t->head; p++) {
        uint32_t idx = t->log[p & (t->nlog - 1)];
        if (ltab_meta(t, idx)->pos == p)
            fn(arg, ltab_entry(t, idx));
    }
}

/* A walk that removes the oldest entries one after another (a window close settling or ending
 * them: det_scan pend_settle, det_bruteforce conns_end_all). Each removal touches lines of
 * its own (the entry with its meta, its bucket head), cold by then; ltab_ahead, called once per step
 * before the oldest is handled, asks for those of the records a few steps later in the log,
 * so that the walk's misses overlap instead of coming one by one. Only prefetches (a stale
 * record's are wasted): what the walk does is the same with or without it. */
#define LTAB_AHEAD 4 /* steps between asking for an entry's bucket head and its removal */
PREFETCH_FN void ltab_ahead_lines(const struct ltab *t, uint32_t idx)
{
    __builtin_prefetch(ltab_entry(t, idx));
    __builtin_prefetch(ltab_meta(t, idx));
}
PREFETCH_FN void ltab_ahead(const struct ltab *t)
{
    uint32_t m = t->nlog - 1, len = t->head - t->tail;
    if (len > 2 * LTAB_AHEAD)
        ltab_ahead_lines(t, t->log[(t->tail + 2 * LTAB_AHEAD) & m]);
    if (len > LTAB_AHEAD) /* its hash, asked for LTAB_AHEAD steps ago, gives the bucket */
        __builtin_prefetch(
            &t->bucket[ltab_meta(t, t->log[(t->tail + LTAB_AHEAD) & m])->hv & (t->nbuckets - 1)]);
}

#endif
