/* decode.c: decode context, exporter/domain tables, counters, sampling resolution, the pending
 * buffer for data sets that arrive before their template, and version dispatch. */
#include "decode.h"

#include <stdlib.h>
#include <sys/random.h>

#include "decode_int.h"

static const char *const counter_names[DC_COUNT] = {
    [DC_DATAGRAMS] = "datagrams",
    [DC_RECORDS] = "records",
    [DC_V5_DATAGRAMS] = "v5_datagrams",
    [DC_V9_DATAGRAMS] = "v9_datagrams",
    [DC_IPFIX_DATAGRAMS] = "ipfix_datagrams",
    [DC_V5_RECORDS] = "v5_records",
    [DC_V9_RECORDS] = "v9_records",
    [DC_IPFIX_RECORDS] = "ipfix_records",
    [DC_OPTION_RECORDS] = "option_records",
    [DC_TEMPLATES_ADDED] = "templates_added",
    [DC_TEMPLATES_REFRESHED] = "templates_refreshed",
    [DC_TEMPLATES_REPLACED] = "templates_replaced",
    [DC_TEMPLATES_WITHDRAWN] = "templates_withdrawn",
    [DC_TEMPLATES_WITHDRAWAL_IGNORED] = "templates_withdrawal_ignored",
    [DC_TEMPLATES_EXPIRED] = "templates_expired",
    [DC_TEMPLATES_EVICTED] = "templates_evicted",
    [DC_BIFLOW_REVERSE] = "biflow_reverse_records",
    [DC_PENDING_BUFFERED] = "pending_buffered",
    [DC_PENDING_DECODED] = "pending_decoded",
    [DC_PENDING_EXPIRED] = "pending_expired",
    [DC_SAMPLING_UNKNOWN] = "sampling_unknown",
    [DC_SEQ_LOST] = "seq_lost",
    [DC_V9_SET_UNALIGNED] = "v9_set_unaligned",
    [DC_EXPORTERS_EVICTED] = "exporters_evicted",
    [DC_DOMAINS_EVICTED] = "domains_evicted",
    [DC_CLOCK_SKEW] = "clock_skew",
    [DC_MESSAGES_MALFORMED] = "messages_malformed",
    [DC_SHORT_HEADER] = "short_header",
    [DC_BAD_VERSION] = "bad_version",
    [DC_BAD_LENGTH] = "bad_length",
    [DC_BAD_COUNT] = "bad_count",
    [DC_BAD_SET_LENGTH] = "bad_set_length",
    [DC_BAD_SET_ID] = "bad_set_id",
    [DC_TEMPLATE_INVALID] = "template_invalid",
    [DC_TEMPLATE_LIMIT] = "template_limit",
    [DC_DOMAIN_LIMIT] = "domain_limit",
    [DC_EXPORTER_LIMIT] = "exporter_limit",
    [DC_EXPORTER_DENIED] = "exporter_denied",
    [DC_NO_TEMPLATE] = "no_template",
    [DC_PENDING_DROPPED] = "pending_dropped",
    [DC_RECORD_SHORT] = "record_short",
    [DC_NO_MEMORY] = "no_memory",
};

const char *decode_counter_name(enum decode_counter c)
{
    return (unsigned)c < DC_COUNT ? counter_names[c] : "unknown";
}

uint64_t decode_counter(const struct decode_ctx *ctx, enum decode_counter c)
{
    return (unsigned)c < DC_COUNT ? ctx->c[c] : 0;
}

bool decode_counter_is_error(enum decode_counter c)
{
    return c >= DC_FIRST_ERROR && c < DC_COUNT;
}

void dec_count(struct decode_ctx *ctx, enum decode_counter c) { ctx->c[c]++; }

void dec_error(struct decode_ctx *ctx, struct dec_exporter *exp, enum decode_counter c)
{
    ctx->c[c]++;
    if (exp)
        exp->errors++;
}

void *dec_alloc(struct decode_ctx *ctx, size_t n)
{
    void *p = malloc(n);
    if (p)
        ctx->mem += n;
    else
        ctx->c[DC_NO_MEMORY]++;
    return p;
}

void dec_free(struct decode_ctx *ctx, void *p, size_t n)
{
    if (!p)
        return;
    free(p);
    ctx->mem -= n;
}

void decode_cfg_defaults(struct decode_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_exporters = 1024;
    cfg->max_templates = 65536;
    cfg->max_templates_per_source = 1024;
    cfg->max_domains_per_exporter = 64;
    cfg->template_lifetime_ms = 1800 * 1000;
    cfg->pending_max = 256;
    cfg->pending_bytes_max = 1u << 20;
    cfg->pending_ms = 10 * 1000;
    cfg->ipfix_udp_withdrawal = false;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n && p < ((size_t)1 << 40))
        p <<= 1;
    return p;
}

/* Table sizes, shared by decode_ctx_new and decode_memory_bound. */
static size_t exp_slot_count(const struct decode_cfg *cfg) { return pow2_at_least(cfg->max_exporters * 2); }
static size_t pending_bucket_count(const struct decode_cfg *cfg)
{
    return cfg->pending_max ? pow2_at_least(cfg->pending_max) : 0;
}

size_t decode_memory_bound(const struct decode_cfg *cfg)
{
    size_t tmpl_max = sizeof(struct tmpl) + DECODE_MAX_FIELDS * sizeof(struct tmpl_op);
    return sizeof(struct decode_ctx) + cfg->max_exporters * sizeof(struct dec_exporter *) +
           exp_slot_count(cfg) * sizeof(uint32_t) +
           pow2_at_least(cfg->max_templates) * sizeof(struct tmpl *) +
           cfg->max_exporters * (sizeof(struct dec_exporter) +
                                 cfg->max_domains_per_exporter * sizeof(struct dec_domain) +
                                 pow2_at_least(cfg->max_domains_per_exporter * 2) * sizeof(uint32_t)) +
           cfg->max_templates * tmpl_max + cfg->pending_max * sizeof(struct dec_pending) +
           cfg->pending_bytes_max + pending_bucket_count(cfg) * sizeof(struct dlist);
}

int decode_ctx_new(const struct decode_cfg *cfg, struct decode_ctx **out)
{
    *out = NULL;
    if (!cfg->max_exporters || !cfg->max_templates || !cfg->max_templates_per_source ||
        !cfg->max_domains_per_exporter || cfg->max_exporters > (1u << 24) ||
        cfg->max_templates > (1u << 26))
        return -1;
    struct decode_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return -2;
    ctx->cfg = *cfg;
    ctx->mem = sizeof *ctx;
    if (getrandom(&ctx->seed, sizeof ctx->seed, GRND_NONBLOCK) != (ssize_t)sizeof ctx->seed)
        ctx->seed = (uint64_t)(uintptr_t)ctx * 0x9E3779B97F4A7C15ull;
    size_t slots = exp_slot_count(cfg);
    ctx->exps = calloc(cfg->max_exporters, sizeof *ctx->exps);
    ctx->exp_slots = calloc(slots, sizeof *ctx->exp_slots);
    if (!ctx->exps || !ctx->exp_slots || tmpl_cache_init(ctx) < 0 || dec_pending_init(ctx) < 0) {
        decode_ctx_free(ctx);
        return -2;
    }
    ctx->exp_mask = slots - 1;
    ctx->mem += cfg->max_exporters * sizeof *ctx->exps + slots * sizeof *ctx->exp_slots;
    *out = ctx;
    return 0;
}

void decode_ctx_free(struct decode_ctx *ctx)
{
    if (!ctx)
        return;
    dec_pending_free_all(ctx);
    free(ctx->pbuckets);
    tmpl_cache_free(ctx);
    if (ctx->exps) {
        for (size_t i = 0; i < ctx->nexps; i++) {
            free(ctx->exps[i]->doms);
            free(ctx->exps[i]->dom_slots);
            free(ctx->exps[i]);
        }
    }
    free(ctx->exps);
    free(ctx->exp_slots);
    free(ctx);
}

/* ---- exporters ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static size_t addr_hash(const struct decode_ctx *ctx, const uint8_t a[16])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    return (size_t)mix64(x ^ mix64(y ^ ctx->seed));
}

/* Slot index of e in the open-addressing table. */
static size_t exp_slot_of(const struct decode_ctx *ctx, const struct dec_exporter *e)
{
    size_t i = addr_hash(ctx, e->addr) & ctx->exp_mask;
    while (ctx->exp_slots[i] != e->idx + 1)
        i = (i + 1) & ctx->exp_mask;
    return i;
}

/* Remove slot i with backward shift (linear probing keeps no tombstones). */
static void exp_slot_delete(struct decode_ctx *ctx, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & ctx->exp_mask;
        uint32_t s = ctx->exp_slots[j];
        if (!s)
            break;
        size_t k = addr_hash(ctx, ctx->exps[s - 1]->addr) & ctx->exp_mask;
        /* move s back to i unless its home k lies cyclically in (i, j] */
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            ctx->exp_slots[i] = s;
            i = j;
        }
    }
    ctx->exp_slots[i] = 0;
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
    exp_slot_delete(ctx, exp_slot_of(ctx, e));
    dlist_unlink(&ctx->lru, &e->lru);
    dec_free(ctx, e->doms, e->capdoms * sizeof *e->doms);
    dec_free(ctx, e->dom_slots, e->dom_slots ? (e->dom_mask + 1) * sizeof *e->dom_slots : 0);
    if (ctx->last_exp == e)
        ctx->last_exp = NULL;
    ctx->c[DC_EXPORTERS_EVICTED]++;
}

static struct dec_exporter *exporter_get(struct decode_ctx *ctx, const uint8_t src[16], uint64_t now_ms)
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
    size_t i = addr_hash(ctx, src) & ctx->exp_mask;
    while (ctx->exp_slots[i])
        i = (i + 1) & ctx->exp_mask;
    ctx->exp_slots[i] = idx + 1;
    dlist_push_front(&ctx->lru, &e->lru);
    ctx->last_exp = e;
    return e;
}

/* ---- observation domains (v9 source ids) of an exporter ---- */

/* At most this many of the least recently seen domains are looked at for one to reuse. */
#define DOM_VICTIM_SCAN 64

static size_t dom_hash(const struct decode_ctx *ctx, uint8_t version, uint32_t id)
{
    return (size_t)mix64(((uint64_t)version << 32 | id) ^ ctx->seed);
}

static void dom_slot_insert(const struct decode_ctx *ctx, struct dec_exporter *e, size_t di)
{
    size_t i = dom_hash(ctx, e->doms[di].version, e->doms[di].id) & e->dom_mask;
    while (e->dom_slots[i])
        i = (i + 1) & e->dom_mask;
    e->dom_slots[i] = (uint32_t)di + 1;
}

/* Remove domain di's slot (backward shift, as for the exporter slots). */
static void dom_slot_delete(const struct decode_ctx *ctx, struct dec_exporter *e, size_t di)
{
    size_t i = dom_hash(ctx, e->doms[di].version, e->doms[di].id) & e->dom_mask;
    while (e->dom_slots[i] != di + 1)
        i = (i + 1) & e->dom_mask;
    size_t j = i;
    for (;;) {
        j = (j + 1) & e->dom_mask;
        uint32_t s = e->dom_slots[j];
        if (!s)
            break;
        size_t k = dom_hash(ctx, e->doms[s - 1].version, e->doms[s - 1].id) & e->dom_mask;
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            e->dom_slots[i] = s;
            i = j;
        }
    }
    e->dom_slots[i] = 0;
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
    size_t nslots = pow2_at_least(cap * 2);
    uint32_t *slots = calloc(nslots, sizeof *slots);
    struct dec_domain *d = slots ? realloc(e->doms, cap * sizeof *d) : NULL;
    if (!d) {
        free(slots);
        return -1;
    }
    ctx->mem += (cap - e->capdoms) * sizeof *d + (nslots - (e->dom_slots ? e->dom_mask + 1 : 0)) * sizeof *slots;
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
    if (e->last_dom < e->ndoms && e->doms[e->last_dom].id == id && e->doms[e->last_dom].version == version)
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

void dec_seq(struct dec_msg *m, bool *valid, uint32_t *next, uint32_t seq, uint32_t advance)
{
    if (*valid && seq != *next) {
        uint32_t gap = seq - *next;
        if (gap < (1u << 30)) {
            m->ctx->c[DC_SEQ_LOST] += gap;
            m->exp->seq_lost += gap;
        }
    }
    *valid = true;
    *next = seq + advance;
}

void dec_domain_set_sampler(struct dec_domain *d, uint32_t id, uint32_t rate)
{
    for (unsigned i = 0; i < d->nsamplers; i++) {
        if (d->samplers[i].id == id) {
            d->samplers[i].rate = rate;
            return;
        }
    }
    unsigned i;
    if (d->nsamplers < DECODE_MAX_SAMPLERS) {
        i = d->nsamplers++;
    } else {
        i = d->sampler_next;
        d->sampler_next = (uint8_t)((d->sampler_next + 1) % DECODE_MAX_SAMPLERS);
    }
    d->samplers[i].id = id;
    d->samplers[i].rate = rate;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

void dec_emit(struct dec_msg *m, struct flow_rec *r, uint32_t rate_rec, bool has_sampler,
              uint32_t sampler_id, int v5_interval)
{
    struct dec_exporter *e = m->exp;
    uint32_t rate = e->pol.sampling_override;
    if (!rate)
        rate = rate_rec;
    if (!rate && has_sampler && m->dom) {
        for (unsigned i = 0; i < m->dom->nsamplers; i++) {
            if (m->dom->samplers[i].id == sampler_id) {
                rate = m->dom->samplers[i].rate;
                break;
            }
        }
    }
    if (!rate && m->dom)
        rate = m->dom->rate;
    if (!rate && v5_interval > 0)
        rate = (uint32_t)v5_interval;
    if (!rate)
        rate = e->pol.sampling_default;
    if (!rate && v5_interval == 0)
        rate = 1; /* v5 header says unsampled */
    if (!rate) {
        rate = 1;
        r->flags |= FLOW_F_SAMPLING_UNKNOWN;
        m->ctx->c[DC_SAMPLING_UNKNOWN]++;
    }
    if (rate != 1) {
        r->bytes = mul_sat(r->bytes, rate);
        r->packets = mul_sat(r->packets, rate);
    }
    r->sampling = rate;
    r->exporter = e->idx + 1;
    if (r->last_ms < r->first_ms)
        r->last_ms = r->first_ms;
    uint64_t skew = r->last_ms > m->export_ms ? r->last_ms - m->export_ms : m->export_ms - r->last_ms;
    if (m->ctx->cfg.clock_skew_ms && skew > m->ctx->cfg.clock_skew_ms) {
        r->flags |= FLOW_F_CLOCK_SKEW; /* times kept: the pipeline and detectors decide */
        e->clock_skew++;
        m->ctx->c[DC_CLOCK_SKEW]++;
    }
    e->last_rate = rate;
    e->records++;
    m->ctx->c[DC_RECORDS]++;
    m->ctx->c[m->version == 5 ? DC_V5_RECORDS : m->version == 9 ? DC_V9_RECORDS : DC_IPFIX_RECORDS]++;
    m->emit(m->arg, r);
}

/* ---- pending data sets ---- */

int dec_pending_init(struct decode_ctx *ctx)
{
    size_t n = pending_bucket_count(&ctx->cfg);
    if (!n)
        return 0;
    ctx->pbuckets = calloc(n, sizeof *ctx->pbuckets);
    if (!ctx->pbuckets)
        return -1;
    ctx->pmask = n - 1;
    ctx->mem += n * sizeof *ctx->pbuckets;
    return 0;
}

static struct dlist *pending_bucket(const struct decode_ctx *ctx, uint32_t exp_idx, uint32_t dom,
                                    uint16_t tid, uint8_t version)
{
    uint64_t x = ((uint64_t)exp_idx << 32 | (uint64_t)version << 16 | tid) ^ ctx->seed;
    x = mix64(x ^ mix64((uint64_t)dom ^ ~ctx->seed));
    return &ctx->pbuckets[x & ctx->pmask];
}

static void pending_remove(struct decode_ctx *ctx, struct dec_pending *p)
{
    dlist_unlink(&ctx->pending, &p->fifo);
    dlist_unlink(pending_bucket(ctx, p->exp_idx, p->dom_id, p->tid, p->version), &p->chain);
    ctx->npending--;
    ctx->pending_bytes -= p->len;
}

static void pending_drop_head(struct decode_ctx *ctx)
{
    struct dec_pending *p = DLIST_ENTRY(ctx->pending.first, struct dec_pending, fifo);
    pending_remove(ctx, p);
    dec_free(ctx, p, sizeof *p + p->len);
}

void dec_pending_push(struct dec_msg *m, uint16_t tid, const uint8_t *data, size_t len)
{
    struct decode_ctx *ctx = m->ctx;
    if (!ctx->cfg.pending_max || len > ctx->cfg.pending_bytes_max)
        return;
    while (ctx->pending.first && (ctx->npending >= ctx->cfg.pending_max ||
                                  ctx->pending_bytes + len > ctx->cfg.pending_bytes_max)) {
        dec_error(ctx, NULL, DC_PENDING_DROPPED);
        pending_drop_head(ctx);
    }
    struct dec_pending *p = dec_alloc(ctx, sizeof *p + len);
    if (!p)
        return;
    p->exp_gen = m->exp->gen;
    p->exp_idx = m->exp->idx;
    p->dom_id = m->dom->id;
    p->tid = tid;
    p->version = m->version;
    p->at_ms = m->now_ms;
    p->export_ms = m->export_ms;
    p->uptime = m->uptime;
    p->len = len;
    memcpy(p->data, data, len);
    dlist_push_back(&ctx->pending, &p->fifo);
    dlist_push_back(pending_bucket(ctx, p->exp_idx, p->dom_id, tid, p->version), &p->chain);
    ctx->npending++;
    ctx->pending_bytes += len;
    ctx->c[DC_PENDING_BUFFERED]++;
}

void dec_pending_flush(struct dec_msg *m, const struct tmpl *t)
{
    struct decode_ctx *ctx = m->ctx;
    struct dlist *b = pending_bucket(ctx, t->exp_idx, t->dom_id, t->id, t->version);
    struct dlink *l = b->first;
    while (l) {
        struct dec_pending *p = DLIST_ENTRY(l, struct dec_pending, chain);
        l = l->next;
        if (p->exp_idx != t->exp_idx || p->exp_gen != m->exp->gen || p->dom_id != t->dom_id ||
            p->tid != t->id || p->version != t->version)
            continue;
        pending_remove(ctx, p);
        struct dec_msg pm = *m;
        pm.export_ms = p->export_ms;
        pm.uptime = p->uptime;
        pm.records = 0;
        tmpl_decode_set(&pm, t, p->data, p->len);
        ctx->c[DC_PENDING_DECODED]++;
        dec_free(ctx, p, sizeof *p + p->len);
    }
}

void dec_pending_expire(struct decode_ctx *ctx, uint64_t now_ms)
{
    while (ctx->pending.first) {
        const struct dec_pending *p = DLIST_ENTRY(ctx->pending.first, struct dec_pending, fifo);
        if (!(now_ms >= p->at_ms && now_ms - p->at_ms > ctx->cfg.pending_ms))
            break;
        ctx->c[DC_PENDING_EXPIRED]++;
        pending_drop_head(ctx);
    }
}

void dec_pending_free_all(struct decode_ctx *ctx)
{
    while (ctx->pending.first)
        pending_drop_head(ctx);
}

/* ---- entry points ---- */

void decode_datagram(struct decode_ctx *ctx, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *buf, size_t len, flow_emit_fn emit, void *arg)
{
    (void)sport;
    ctx->c[DC_DATAGRAMS]++;
    if (len < 2) {
        dec_error(ctx, NULL, DC_SHORT_HEADER);
        return;
    }
    uint16_t version = dec_be16(buf);
    if (version != 5 && version != 9 && version != 10) {
        dec_error(ctx, NULL, DC_BAD_VERSION);
        return;
    }
    struct dec_exporter *e = exporter_get(ctx, src, now_ms);
    if (!e)
        return;
    if (!e->pol.allowed) {
        dec_error(ctx, NULL, DC_EXPORTER_DENIED);
        return;
    }
    e->datagrams++;
    struct dec_msg m = {.ctx = ctx, .exp = e, .version = (uint8_t)version, .now_ms = now_ms,
                        .emit = emit, .arg = arg};
    if (ctx->npending)
        dec_pending_expire(ctx, now_ms);
    if (version == 5) {
        ctx->c[DC_V5_DATAGRAMS]++;
        nf5_decode(&m, buf, len);
    } else if (version == 9) {
        ctx->c[DC_V9_DATAGRAMS]++;
        nf9_decode(&m, buf, len);
    } else {
        ctx->c[DC_IPFIX_DATAGRAMS]++;
        ipfix_decode(&m, buf, len);
    }
}

void decode_expire(struct decode_ctx *ctx, uint64_t now_ms)
{
    tmpl_expire(ctx, now_ms);
    dec_pending_expire(ctx, now_ms);
}

bool decode_exporter_addr(const struct decode_ctx *ctx, uint32_t idx1, uint8_t out[16])
{
    if (idx1 == 0 || idx1 > ctx->nexps)
        return false;
    memcpy(out, ctx->exps[idx1 - 1]->addr, 16);
    return true;
}

size_t decode_exporters(const struct decode_ctx *ctx, struct decode_exporter_stats *out, size_t max)
{
    size_t n = 0;
    for (; n < ctx->nexps && n < max; n++) {
        const struct dec_exporter *e = ctx->exps[n];
        memcpy(out[n].addr, e->addr, 16);
        out[n].datagrams = e->datagrams;
        out[n].records = e->records;
        out[n].errors = e->errors;
        out[n].seq_lost = e->seq_lost;
        out[n].clock_skew = e->clock_skew;
        out[n].templates = e->templates;
        out[n].sampling = e->last_rate;
    }
    return n;
}

size_t decode_template_count(const struct decode_ctx *ctx) { return ctx->ntemplates; }

size_t decode_memory(const struct decode_ctx *ctx) { return ctx->mem; }
