/* table.c: the bounded hash tables (table.h). */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

int ktab_init(struct ktab *t, size_t cap, size_t esz, size_t ksz, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    size_t slots = 1;
    while (slots < cap * 2)
        slots <<= 1;
    t->ent = calloc_table(cap, esz);
    t->idx = calloc_table(slots, sizeof *t->idx);
    if (!t->ent || !t->idx) {
        ktab_fini(t);
        return -ENOMEM;
    }
    t->esz = esz;
    t->ksz = ksz;
    t->cap = cap;
    t->mask = slots - 1;
    hash_key_from_seed(&t->hk, seed);
    return 0;
}

void ktab_fini(struct ktab *t)
{
    free(t->ent);
    free(t->idx);
    t->ent = NULL;
    t->idx = NULL;
}

void *ktab_get(struct ktab *t, const void *key, bool *inserted)
{
    size_t slot = hash_bytes(&t->hk, key, t->ksz) & t->mask;
    *inserted = false;
    for (;;) {
        uint32_t n = t->idx[slot];
        if (n == 0)
            break;
        uint8_t *e = ktab_at(t, n - 1);
        if (memcmp(e, key, t->ksz) == 0)
            return e;
        slot = (slot + 1) & t->mask;
    }
    if (t->n >= t->cap) {
        t->refused++;
        return NULL;
    }
    uint8_t *e = ktab_at(t, t->n);
    memset(e, 0, t->esz);
    memcpy(e, key, t->ksz);
    t->idx[slot] = (uint32_t)++t->n;
    *inserted = true;
    return e;
}

void ktab_reset(struct ktab *t)
{
    if (t->n)
        memset(t->idx, 0, (t->mask + 1) * sizeof *t->idx);
    t->n = 0;
}

/* ---- ltab ---------------------------------------------------------------------------- */

int ltab_init(struct ltab *t, size_t cap, size_t esz, size_t ksz)
{
    memset(t, 0, sizeof *t);
    if (cap == 0 || cap > (1u << 29) || ksz > esz) /* the log's positions stay below 2^31 apart */
        return -EINVAL;
    /* buckets at most half full (a probe rarely leaves its line) and a log of at least twice cap
     * records: the same power of two serves both */
    size_t nb = 2;
    while (nb < 2 * cap)
        nb <<= 1;
    size_t nlog = nb;
    size_t stride = (esz + 7) / 8 * 8 + sizeof(struct ltab_meta);
    t->ent =
        calloc_table(cap, stride); /* untouched pages cost nothing until entries land on them */
    t->bucket = calloc_table(nb, sizeof *t->bucket);
    t->log = calloc_table(nlog, sizeof *t->log);
    if (!t->ent || !t->bucket || !t->log) {
        ltab_fini(t);
        return -ENOMEM;
    }
    t->esz = esz;
    t->stride = stride;
    t->ksz = ksz;
    t->cap = cap;
    t->nbuckets = nb;
    t->nlog = (uint32_t)nlog;
    return 0;
}

void ltab_fini(struct ltab *t)
{
    free(t->ent);
    free(t->bucket);
    free(t->log);
    memset(t, 0, sizeof *t);
}

/* The log is full (nlog records, at most cap of them live): move the live ones together, in
 * order, to the tail's end. Each entry has one live record, so this frees nlog - n >= nlog / 2
 * positions. */
void ltab_log_compact(struct ltab *t)
{
    uint32_t m = t->nlog - 1, w = t->tail;
    for (uint32_t p = t->tail; p != t->head; p++) {
        uint32_t idx = t->log[p & m];
        struct ltab_meta *me = ltab_meta(t, idx);
        if (me->pos == p) {
            t->log[w & m] = idx;
            me->pos = w++;
        }
    }
    t->head = w;
    t->compacted++;
}

/* Empty bucket j and move back the links after it that it was keeping from their home
 * (linear probing's deletion: no tombstones, probes stay as short as the load says). */
static void bucket_delete(struct ltab *t, size_t j)
{
    size_t m = t->nbuckets - 1;
    for (size_t k = j;;) {
        t->bucket[j] = 0;
        for (;;) {
            k = (k + 1) & m;
            uint64_t l = t->bucket[k];
            if (!(uint32_t)l)
                return;
            size_t home = (uint32_t)(l >> 32) & m;
            if (((k - home) & m) >= ((k - j) & m)) { /* home at or before j: j can hold it */
                t->bucket[j] = l;
                j = k;
                break;
            }
        }
    }
}

void ltab_remove(struct ltab *t, void *ev)
{
    uint32_t i = (uint32_t)ltab_index(t, ev) + 1;
    struct ltab_meta *me = ltab_meta(t, i - 1);
    size_t m = t->nbuckets - 1, j = me->hv & m;
    while ((uint32_t)t->bucket[j] != i)
        j = (j + 1) & m;
    bucket_delete(t, j);
    me->pos ^= 1u << 31; /* its record in the log is stale */
    memset(ev, 0, t->esz);
    me->hv = t->free_list;
    t->free_list = i;
    t->n--;
}

/* A key copied at a size the compiler knows (LTAB_KSZ_SWITCH, as ltab_key_eq compares it). */
static void ltab_key_copy(void *dst, const void *src, size_t n)
{
#define LTAB_COPY(k)                                                                               \
    memcpy(dst, src, k);                                                                           \
    return
    LTAB_KSZ_SWITCH(n, LTAB_COPY)
#undef LTAB_COPY
}

void *ltab_insert(struct ltab *t, const void *key, uint32_t h, void *evicted, bool *was_evicted)
{
    uint32_t slot = h & (uint32_t)(t->nbuckets - 1), i;
    uint8_t *e;
    if (t->free_list) {
        i = t->free_list;
        t->free_list = ltab_meta(t, i - 1)->hv;
    } else if (t->used < t->cap) {
        i = (uint32_t)++t->used;
    } else {
        uint8_t *old = ltab_oldest(t); /* full: not NULL */
        if (evicted)
            memcpy(evicted, old, t->esz);
        if (was_evicted)
            *was_evicted = true;
        t->evicted++;
        ltab_remove(t, old);
        i = t->free_list;
        t->free_list = ltab_meta(t, i - 1)->hv;
        /* a full table evicts at every insert: the entries the next ones will push out (the
         * log's next records), asked for now, are there when their turn comes */
        ltab_ahead(t);
    }
    e = ltab_entry(t, i - 1); /* zero already: never used (calloc) or zeroed by ltab_remove */
    ltab_key_copy(e, key, t->ksz);
    ltab_meta(t, i - 1)->hv = h;
    while ((uint32_t)t->bucket[slot])
        slot = (slot + 1) & (uint32_t)(t->nbuckets - 1);
    t->bucket[slot] = LTAB_LINK(h, i);
    ltab_log_push(t, i - 1);
    t->n++;
    return e;
}
