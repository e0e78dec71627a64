/* decode_exporter.c: layer 2 of the decoder (decode_int.h): the exporter table (keyed by
 * address, bounded, recency-ordered, with the eviction rules of decode.h) and each exporter's
 * table of observation domains (v9 source ids). Calls layers 0 and 1 (an evicted exporter's
 * templates are dropped from the cache).
 *
 * Why these are not core/table.h's ltab: eviction here is conditional (a victim must be idle
 * past the template lifetime, or hold no template and never have given a record, else the
 * newcomer is refused), victims are chosen by what they hold, and a domain table grows with
 * its exporter instead of being allocated at max_domains_per_exporter for every exporter. */
#include <errno.h>
#include <stdlib.h>

#include "decode_int.h"

int dec_exporters_init(struct decode_ctx *ctx)
{
    size_t slots = dec_exp_slot_count(&ctx->cfg);
    ctx->exps = calloc(ctx->cfg.max_exporters, sizeof *ctx->exps);
    ctx->exp_slots = calloc(slots, sizeof *ctx->exp_slots);
    if (!ctx->exps || !ctx->exp_slots)
        return -ENOMEM;
    ctx->exp_mask = slots - 1;
    ctx->mem += ctx->cfg.max_exporters * sizeof *ctx->exps + slots * sizeof *ctx->exp_slots;
    return 0;
}

void dec_exporters_free(struct decode_ctx *ctx)
{
    if (ctx->exps) {
        for (size_t i = 0; i < ctx->nexps; i++) {
            free(ctx->exps[i]->doms);
            free(ctx->exps[i]->dom_slots);
            free(ctx->exps[i]);
        }
    }
    free(ctx->exps);
    free(ctx->exp_slots);
    ctx->exps = NULL;
    ctx->exp_slots = NULL;
}

/* ---- exporters ---- */

static size_t addr_hash(const struct decode_ctx *ctx, const uint8_t a[16])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    return (size_t)hash_mix64(x ^ hash_mix64(y ^ ctx->seed));
}

/* Both tables find their entries through open addressing: slots hold entry number + 1 (0 =
 * empty), linear probing, backward-shift deletion (no tombstones build up). */
typedef size_t (*slot_home_fn)(const void *arg, uint32_t n); /* entry n's hash */

static void slot_insert(uint32_t *slots, size_t mask, size_t hash, uint32_t n)
{
    size_t i = hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = n + 1;
}

/* Remove entry n (hash: its hash): the entries after it in the probe run move back unless
 * their home lies cyclically in (i, j]. */
static inline void slot_delete(uint32_t *slots, size_t mask, size_t hash, uint32_t n,
                               slot_home_fn home, const void *arg)
{
    size_t i = hash & mask;
    while (slots[i] != n + 1)
        i = (i + 1) & mask;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        uint32_t s = slots[j];
        if (!s)
            break;
        size_t k = home(arg, s - 1) & mask;
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            slots[i] = s;
            i = j;
        }
    }
    slots[i] = 0;
}

static size_t exp_home(const void *arg, uint32_t n)
{
    const struct decode_ctx *ctx = arg;
    return addr_hash(ctx, ctx->exps[n]->addr);
}

/* Which exporter to push out of a full table, or NULL: see decode.h. */
static struct dec_exporter *exporter_victim(const struct decode_ctx *ctx, uint64_t now_ms)
{
    const struct dlink *l = ctx->lru.last;
    if (!l)
        return NULL;
    struct dec_exporter *e = DLIST_ENTRY(l, struct dec_exporter, lru);
    if (now_ms > e->last_seen_ms && now_ms - e->last_seen_ms > ctx->cfg.template_lifetime_ms)
        return e;
    for (int n = 0; l && n < 64; n++, l = l->prev) {
        e = DLIST_ENTRY(l, struct dec_exporter, lru);
        if (!e->templates && !e->records)
            return e;
    }
    return NULL;
}

/* Free the templates and domains e holds and take it out of the tables; its index is reused
 * by the caller. O(its templates and domains): a flood of spoofed sources evicting one exporter
 * per datagram costs no more per datagram than the victim held. Its pending sets stay in the
 * FIFO until they expire or are pushed out, matching nothing (the next exporter in the slot is
 * another incarnation). */
static void exporter_evict(struct decode_ctx *ctx, struct dec_exporter *e)
{
    if (e->templates)
        tmpl_drop_exporter(ctx, e);
    slot_delete(ctx->exp_slots, ctx->exp_mask, addr_hash(ctx, e->addr), e->idx, exp_home, ctx);
    dlist_unlink(&ctx->lru, &e->lru);
    dec_free(ctx, e->doms, e->capdoms * sizeof *e->doms);
    dec_free(ctx, e->dom_slots, e->dom_slots ? (e->dom_mask + 1) * sizeof *e->dom_slots : 0);
    if (ctx->last_exp == e)
        ctx->last_exp = NULL;
    ctx->c[DC_EXPORTERS_EVICTED]++;
}

struct dec_exporter *dec_exporter_get(struct decode_ctx *ctx, const uint8_t src[16],
                                      uint64_t now_ms)
{
    struct dec_exporter *e = NULL;
    if (ctx->last_exp && memcmp(ctx->last_exp->addr, src, 16) == 0) {
        e = ctx->last_exp;
    } else {
        size_t i = addr_hash(ctx, src) & ctx->exp_mask;
        for (uint32_t s; (s = ctx->exp_slots[i]) != 0; i = (i + 1) & ctx->exp_mask) {
            if (memcmp(ctx->exps[s - 1]->addr, src, 16) == 0) {
                e = ctx->exps[s - 1];
                break;
            }
        }
    }
    if (e) {
        e->last_seen_ms = now_ms;
        if (ctx->lru.first != &e->lru) {
            dlist_unlink(&ctx->lru, &e->lru);
            dlist_push_front(&ctx->lru, &e->lru);
        }
        ctx->last_exp = e;
        return e;
    }
    uint32_t idx;
    if (ctx->nexps >= ctx->cfg.max_exporters) {
        e = exporter_victim(ctx, now_ms);
        if (!e) {
            dec_error(ctx, NULL, DC_EXPORTER_LIMIT);
            return NULL;
        }
        exporter_evict(ctx, e);
        idx = e->idx; /* the struct is reused in place */
    } else {
        e = dec_alloc(ctx, sizeof *e);
        if (!e)
            return NULL;
        idx = (uint32_t)ctx->nexps++;
        ctx->exps[idx] = e;
    }
    memset(e, 0, sizeof *e);
    memcpy(e->addr, src, 16);
    e->idx = idx;
    e->gen = ++ctx->exp_gen;
    e->dom_newest = e->dom_oldest = DOM_NONE;
    e->last_seen_ms = now_ms;
    e->pol.allowed = true;
    if (ctx->cfg.policy)
        ctx->cfg.policy(ctx->cfg.policy_arg, src, &e->pol);
    slot_insert(ctx->exp_slots, ctx->exp_mask, addr_hash(ctx, src), idx);
    dlist_push_front(&ctx->lru, &e->lru);
    ctx->last_exp = e;
    return e;
}

/* ---- observation domains (v9 source ids) of an exporter ---- */

/* At most this many of the least recently seen domains are looked at for one to reuse. */
#define DOM_VICTIM_SCAN 64

static size_t dom_hash(const struct decode_ctx *ctx, uint8_t version, uint32_t id)
{
    return (size_t)hash_mix64(((uint64_t)version << 32 | id) ^ ctx->seed);
}

struct dom_home_arg {
    const struct decode_ctx *ctx;
    const struct dec_exporter *e;
};

static size_t dom_home(const void *arg, uint32_t n)
{
    const struct dom_home_arg *a = arg;
    return dom_hash(a->ctx, a->e->doms[n].version, a->e->doms[n].id);
}

static void dom_slot_insert(const struct decode_ctx *ctx, struct dec_exporter *e, size_t di)
{
    slot_insert(e->dom_slots, e->dom_mask, dom_home(&(struct dom_home_arg){ctx, e}, (uint32_t)di),
                (uint32_t)di);
}

static void dom_slot_delete(const struct decode_ctx *ctx, struct dec_exporter *e, size_t di)
{
    struct dom_home_arg a = {ctx, e};
    slot_delete(e->dom_slots, e->dom_mask, dom_home(&a, (uint32_t)di), (uint32_t)di, dom_home, &a);
}

static void dom_unlink(struct dec_exporter *e, uint32_t di)
{
    struct dec_domain *d = &e->doms[di];
    if (d->newer != DOM_NONE)
        e->doms[d->newer].older = d->older;
    else
        e->dom_newest = d->older;
    if (d->older != DOM_NONE)
        e->doms[d->older].newer = d->newer;
    else
        e->dom_oldest = d->newer;
}

static void dom_push_newest(struct dec_exporter *e, uint32_t di)
{
    struct dec_domain *d = &e->doms[di];
    d->newer = DOM_NONE;
    d->older = e->dom_newest;
    if (e->dom_newest != DOM_NONE)
        e->doms[e->dom_newest].newer = di;
    else
        e->dom_oldest = di;
    e->dom_newest = di;
}

static struct dec_domain *dom_seen(struct dec_msg *m, size_t di)
{
    struct dec_exporter *e = m->exp;
    if (e->dom_newest != di) {
        dom_unlink(e, (uint32_t)di);
        dom_push_newest(e, (uint32_t)di);
    }
    e->last_dom = di;
    e->doms[di].last_seen_ms = m->now_ms;
    return &e->doms[di];
}

/* Room for one more domain: the array and its slots double (capped at max_domains). */
static int dom_grow(struct decode_ctx *ctx, struct dec_exporter *e)
{
    size_t cap = e->capdoms ? e->capdoms * 2 : 2;
    if (cap > ctx->cfg.max_domains_per_exporter)
        cap = ctx->cfg.max_domains_per_exporter;
    size_t nslots = dec_pow2_at_least(cap * 2);
    uint32_t *slots = calloc(nslots, sizeof *slots);
    struct dec_domain *d = slots ? realloc(e->doms, cap * sizeof *d) : NULL;
    if (!d) {
        free(slots);
        return -ENOMEM;
    }
    ctx->mem += (cap - e->capdoms) * sizeof *d +
                (nslots - (e->dom_slots ? e->dom_mask + 1 : 0)) * sizeof *slots;
    free(e->dom_slots);
    e->doms = d;
    e->capdoms = cap;
    e->dom_slots = slots;
    e->dom_mask = nslots - 1;
    for (size_t i = 0; i < e->ndoms; i++)
        dom_slot_insert(ctx, e, i);
    return 0;
}

/* The domain of this message, found or made: O(1) (hashed), O(DOM_VICTIM_SCAN) when a full
 * table has to give up its least recently seen domain that holds no template. */
struct dec_domain *dec_domain_get(struct dec_msg *m, uint8_t version, uint32_t id)
{
    struct dec_exporter *e = m->exp;
    struct decode_ctx *ctx = m->ctx;
    if (e->last_dom < e->ndoms && e->doms[e->last_dom].id == id &&
        e->doms[e->last_dom].version == version)
        return dom_seen(m, e->last_dom);
    if (e->ndoms) {
        size_t i = dom_hash(ctx, version, id) & e->dom_mask;
        for (uint32_t s; (s = e->dom_slots[i]) != 0; i = (i + 1) & e->dom_mask)
            if (e->doms[s - 1].id == id && e->doms[s - 1].version == version)
                return dom_seen(m, s - 1);
    }
    size_t di;
    if (e->ndoms >= ctx->cfg.max_domains_per_exporter) {
        /* reuse the least recently seen domain that holds no template (a flood of new domain
           ids then churns those slots and never locks out the exporter's real domains) */
        uint32_t v = e->dom_oldest;
        for (int n = 0; v != DOM_NONE && e->doms[v].templates; n++)
            v = n + 1 < DOM_VICTIM_SCAN ? e->doms[v].newer : DOM_NONE;
        if (v == DOM_NONE) {
            dec_error(ctx, e, DC_DOMAIN_LIMIT);
            return NULL;
        }
        ctx->c[DC_DOMAINS_EVICTED]++;
        dom_slot_delete(ctx, e, v);
        dom_unlink(e, v);
        di = v;
    } else {
        if (e->ndoms == e->capdoms && dom_grow(ctx, e) < 0) {
            dec_error(ctx, e, DC_NO_MEMORY);
            return NULL;
        }
        di = e->ndoms++;
    }
    struct dec_domain *d = &e->doms[di];
    memset(d, 0, sizeof *d);
    d->id = id;
    d->version = version;
    dom_slot_insert(ctx, e, di);
    dom_push_newest(e, (uint32_t)di);
    return dom_seen(m, di);
}
