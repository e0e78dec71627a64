/* decode_pending.c: layer 2 of the decoder (decode_int.h): data sets that arrived before
 * their template, in a bounded FIFO (cfg.pending_max sets, cfg.pending_bytes_max bytes, each
 * kept cfg.pending_ms) and hashed by (exporter, domain, template) so that a template's arrival
 * (dec_template) finds its own sets without walking the others. Calls layers 0 and 1.
 *
 * Why not core/table.h: entries are variable-size copies of the sets, leave in arrival order
 * and are found many to one key. */
#include <errno.h>
#include <stdlib.h>

#include "decode_int.h"

int dec_pending_init(struct decode_ctx *ctx)
{
    size_t n = dec_pending_bucket_count(&ctx->cfg);
    if (!n)
        return 0;
    ctx->pbuckets = calloc(n, sizeof *ctx->pbuckets);
    if (!ctx->pbuckets)
        return -ENOMEM;
    ctx->pmask = n - 1;
    ctx->mem += n * sizeof *ctx->pbuckets;
    return 0;
}

static struct dlist *pending_bucket(const struct decode_ctx *ctx, uint32_t exp_idx, uint32_t dom,
                                    uint16_t tid, uint8_t version)
{
    uint64_t x = ((uint64_t)exp_idx << 32 | (uint64_t)version << 16 | tid) ^ ctx->seed;
    x = hash_mix64(x ^ hash_mix64((uint64_t)dom ^ ~ctx->seed));
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

/* Decode and free the sets waiting for t (of m's exporter and domain): O(those sets). */
static void pending_flush(struct dec_msg *m, const struct tmpl *t)
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

void dec_pending_free(struct decode_ctx *ctx)
{
    while (ctx->pending.first)
        pending_drop_head(ctx);
    free(ctx->pbuckets);
    ctx->pbuckets = NULL;
}

void dec_template(struct dec_msg *m, uint16_t tid, bool options, const struct tmpl_field *f,
                  size_t n)
{
    const struct tmpl *t = tmpl_add(m, tid, options, f, n);
    if (t && m->ctx->npending)
        pending_flush(m, t);
}
