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
    if (cap == 0 || cap >= UINT32_MAX || ksz > esz)
        return -EINVAL;
    size_t nb = 1;
    while (nb < cap)
        nb <<= 1;
    t->ent = calloc_table(cap, esz); /* untouched pages cost nothing until entries land on them */
    t->bucket = calloc_table(nb, sizeof *t->bucket);
    t->chain = calloc_table(cap, sizeof *t->chain);
    t->prev = calloc_table(cap, sizeof *t->prev);
    t->next = calloc_table(cap, sizeof *t->next);
    t->hv = calloc_table(cap, sizeof *t->hv);
    if (!t->ent || !t->bucket || !t->chain || !t->prev || !t->next || !t->hv) {
        ltab_fini(t);
        return -ENOMEM;
    }
    t->esz = esz;
    t->ksz = ksz;
    t->cap = cap;
    t->nbuckets = nb;
    return 0;
}

void ltab_fini(struct ltab *t)
{
    free(t->ent);
    free(t->bucket);
    free(t->chain);
    free(t->prev);
    free(t->next);
    free(t->hv);
    memset(t, 0, sizeof *t);
}

static inline void lru_unlink(struct ltab *t, uint32_t i) /* i: entry number + 1 */
{
    uint32_t p = t->prev[i - 1], n = t->next[i - 1];
    if (p)
        t->next[p - 1] = n;
    else
        t->oldest = n;
    if (n)
        t->prev[n - 1] = p;
    else
        t->newest = p;
    t->prev[i - 1] = t->next[i - 1] = 0;
}

static inline void lru_push(struct ltab *t, uint32_t i)
{
    t->prev[i - 1] = t->newest;
    t->next[i - 1] = 0;
    if (t->newest)
        t->next[t->newest - 1] = i;
    else
        t->oldest = i;
    t->newest = i;
}

void ltab_remove(struct ltab *t, void *ev)
{
    uint32_t i = (uint32_t)ltab_index(t, ev) + 1;
    uint32_t *p = &t->bucket[t->hv[i - 1] & (t->nbuckets - 1)];
    while (*p && *p != i)
        p = &t->chain[*p - 1];
    if (*p)
        *p = t->chain[i - 1];
    lru_unlink(t, i);
    memset(ev, 0, t->esz);
    t->chain[i - 1] = t->free_list;
    t->free_list = i;
    t->n--;
}

void *ltab_insert(struct ltab *t, const void *key, uint32_t h, void *evicted, bool *was_evicted)
{
    uint32_t slot = h & (uint32_t)(t->nbuckets - 1), i;
    uint8_t *e;
    if (t->free_list) {
        i = t->free_list;
        t->free_list = t->chain[i - 1];
    } else if (t->used < t->cap) {
        i = (uint32_t)++t->used;
    } else {
        uint8_t *old = ltab_entry(t, t->oldest - 1);
        if (evicted)
            memcpy(evicted, old, t->esz);
        if (was_evicted)
            *was_evicted = true;
        t->evicted++;
        ltab_remove(t, old);
        i = t->free_list;
        t->free_list = t->chain[i - 1];
    }
    e = ltab_entry(t, i - 1);
    memset(e, 0, t->esz);
    memcpy(e, key, t->ksz);
    t->hv[i - 1] = h;
    t->chain[i - 1] = t->bucket[slot];
    t->bucket[slot] = i;
    lru_push(t, i);
    t->n++;
    return e;
}
