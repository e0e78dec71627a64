/* decode_tmpl.c: layer 1 of the decoder (decode_int.h): the template cache shared by NetFlow
 * v9 and IPFIX, and the compiled-template interpreter. A template is validated and compiled
 * once on arrival into a list of ops (field length + what it feeds, and where: op_place);
 * consecutive fields we do not use are merged into one skip op. A fixed-length template keeps
 * only the ops whose write stands, grouped so that a record is its addresses, then one tight
 * loop per load width (decode_fixed); what finish_record reads is resolved per template too
 * (tmpl_plan). Every template stores the kinds the record has a field for straight into it
 * (rec_fields), the others into the values v[]. A plain template's record (the common flow
 * layouts) starts from a per-set image and needs only its times (tmpl_decode_set); the others
 * go through finish_record. Records leave through dec_emit_rate or, a plain set's, through
 * dec_stamp / dec_emit_stamped / dec_count (layer 0); nothing above is called.
 *
 * Why the cache is not core/table.h's: templates are variable-size (their ops), and each
 * domain lists its own by kind in refresh order, for withdrawals and eviction per domain. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "decode_int.h"
#include "pkt.h"

/* What the interpreter decodes a record into: the flow record and the values of the kinds that
 * are not stored in it (struct tmpl_op dst: an offset in here). */
struct dec_rec {
    struct flow_rec r;
    uint64_t v[K_COUNT];
};

int tmpl_cache_init(struct decode_ctx *ctx)
{
    size_t n = 16;
    while (n < ctx->cfg.max_templates)
        n <<= 1;
    ctx->buckets = calloc(n, sizeof *ctx->buckets);
    if (!ctx->buckets)
        return -ENOMEM;
    ctx->tmask = n - 1;
    ctx->mem += n * sizeof *ctx->buckets;
    ctx->tmpl_oldest_ms = UINT64_MAX;
    return 0;
}

/* A template's field list as it arrived: after its ops (the allocation holds both). */
_Static_assert(offsetof(struct tmpl, ops) % _Alignof(struct tmpl_field) == 0 &&
                   sizeof(struct tmpl_op) % _Alignof(struct tmpl_field) == 0,
               "tmpl_fields: the fields after the ops are aligned");
static struct tmpl_field *tmpl_fields(struct tmpl *t)
{
    return (struct tmpl_field *)(void *)(t->ops + t->nops);
}

static size_t tmpl_bytes(size_t nops, size_t nfields)
{
    return sizeof(struct tmpl) + nops * sizeof(struct tmpl_op) +
           nfields * sizeof(struct tmpl_field);
}

static size_t tmpl_size(const struct tmpl *t)
{
    return tmpl_bytes(t->nops, t->nfields);
}

void tmpl_cache_free(struct decode_ctx *ctx)
{
    if (!ctx->buckets)
        return;
    for (size_t i = 0; i <= ctx->tmask; i++) {
        struct tmpl *t = ctx->buckets[i];
        while (t) {
            struct tmpl *n = t->next;
            free(t);
            t = n;
        }
    }
    free(ctx->buckets);
    ctx->buckets = NULL;
}

static size_t key_hash(const struct decode_ctx *ctx, uint32_t exp_idx, uint8_t version,
                       uint32_t dom, uint16_t tid)
{
    uint64_t x = ((uint64_t)exp_idx << 32 | (uint64_t)version << 16 | tid) ^ ctx->seed;
    x ^= (uint64_t)dom * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 32;
    return (size_t)x & ctx->tmask;
}

/* Unlink *pp (a template) and free it, keeping the counts right. O(1). */
static void tmpl_remove(struct decode_ctx *ctx, struct tmpl **pp)
{
    struct tmpl *t = *pp;
    *pp = t->next;
    struct dec_exporter *e = ctx->exps[t->exp_idx];
    struct dec_domain *d = &e->doms[t->dom_slot];
    dlist_unlink(&d->lru[t->options], &t->lru);
    if (d->templates)
        d->templates--;
    if (e->templates)
        e->templates--;
    ctx->ntemplates--;
    dec_free(ctx, t, tmpl_size(t));
}

/* Has a template refreshed at refreshed_ms expired at now_ms? Never while now_ms is not past
   refreshed_ms (time can go backwards: a capture's clock, several exporters). */
static bool expired(const struct decode_ctx *ctx, uint64_t refreshed_ms, uint64_t now_ms)
{
    return now_ms > refreshed_ms && now_ms - refreshed_ms > ctx->cfg.template_lifetime_ms;
}

/* t arrives or is refreshed at now_ms (the expiry's bound follows it down). */
static void tmpl_stamp(struct decode_ctx *ctx, struct tmpl *t, uint64_t now_ms)
{
    t->refreshed_ms = now_ms;
    t->refresh_seq = ++ctx->refresh_seq;
    if (now_ms < ctx->tmpl_oldest_ms)
        ctx->tmpl_oldest_ms = now_ms;
}

static struct tmpl **find_slot(struct decode_ctx *ctx, uint32_t exp_idx, uint8_t version,
                               uint32_t dom, uint16_t tid)
{
    struct tmpl **pp = &ctx->buckets[key_hash(ctx, exp_idx, version, dom, tid)];
    for (; *pp; pp = &(*pp)->next) {
        struct tmpl *t = *pp;
        if (t->id == tid && t->dom_id == dom && t->exp_idx == exp_idx && t->version == version)
            return pp;
    }
    return pp;
}

struct tmpl *tmpl_find(struct decode_ctx *ctx, uint32_t exp_idx, uint8_t version, uint32_t dom_id,
                       uint16_t tid, uint64_t now_ms)
{
    struct tmpl **pp = find_slot(ctx, exp_idx, version, dom_id, tid);
    if (!*pp)
        return NULL;
    if (expired(ctx, (*pp)->refreshed_ms, now_ms)) {
        ctx->c[DC_TEMPLATES_EXPIRED]++;
        tmpl_remove(ctx, pp);
        return NULL;
    }
    return *pp;
}

/* No template held was refreshed before ctx->tmpl_oldest_ms, so none has expired unless one
 * refreshed then would have (exact at any lifetime, whichever way time went): until then a tick
 * costs a comparison. Otherwise the sweep of every bucket ends the expired ones and sets the
 * bound to the oldest survivor's refresh, so it runs again only once that one may expire. */
void tmpl_expire(struct decode_ctx *ctx, uint64_t now_ms)
{
    if (!ctx->ntemplates) {
        ctx->tmpl_oldest_ms = UINT64_MAX;
        return;
    }
    if (!expired(ctx, ctx->tmpl_oldest_ms, now_ms))
        return;
    ctx->sweeps++;
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i <= ctx->tmask; i++) {
        struct tmpl **pp = &ctx->buckets[i];
        while (*pp) {
            if (expired(ctx, (*pp)->refreshed_ms, now_ms)) {
                ctx->c[DC_TEMPLATES_EXPIRED]++;
                tmpl_remove(ctx, pp);
            } else {
                if ((*pp)->refreshed_ms < oldest)
                    oldest = (*pp)->refreshed_ms;
                pp = &(*pp)->next;
            }
        }
    }
    ctx->tmpl_oldest_ms = oldest;
}

void tmpl_withdraw(struct dec_msg *m, uint16_t tid)
{
    struct tmpl **pp = find_slot(m->ctx, m->exp->idx, m->version, m->dom->id, tid);
    if (*pp) {
        m->ctx->c[DC_TEMPLATES_WITHDRAWN]++;
        tmpl_remove(m->ctx, pp);
    }
}

/* Remove the template at the head of list l (its own chain link found by its key). */
static void remove_head(struct decode_ctx *ctx, struct dlist *l)
{
    struct tmpl *t = DLIST_ENTRY(l->first, struct tmpl, lru);
    struct tmpl **pp = find_slot(ctx, t->exp_idx, t->version, t->dom_id, t->id);
    if (*pp == t) {
        tmpl_remove(ctx, pp);
    } else { /* cannot happen: every listed template is in its chain */
        dlist_unlink(l, &t->lru);
    }
}

/* Per record of a withdrawal: only the templates of this domain and kind are visited, each
   one removed (a storm of such records costs O(1) each once the list is empty). */
void tmpl_withdraw_all(struct dec_msg *m, bool options)
{
    struct dlist *l = &m->dom->lru[options];
    while (l->first) {
        m->ctx->c[DC_TEMPLATES_WITHDRAWN]++;
        remove_head(m->ctx, l);
    }
}

void tmpl_drop_exporter(struct decode_ctx *ctx, struct dec_exporter *e)
{
    for (size_t i = 0; i < e->ndoms; i++)
        for (int k = 0; k < 2; k++)
            while (e->doms[i].lru[k].first)
                remove_head(ctx, &e->doms[i].lru[k]);
}

/* What an information element feeds, given its length (wrong lengths are skipped). */
static enum dec_kind map_ie(uint16_t ie, uint16_t len)
{
    bool intlen = len >= 1 && len <= 8;
    switch (ie) {
    case 8:
        return len == 4 ? K_SRC4 : K_SKIP;
    case 12:
        return len == 4 ? K_DST4 : K_SKIP;
    case 27:
        return len == 16 ? K_SRC6 : K_SKIP;
    case 28:
        return len == 16 ? K_DST6 : K_SKIP;
    case 313: /* packet sections: any length, usually variable */
        return K_IP_SECTION;
    case 315:
        return K_DL_SECTION;
    default:
        break;
    }
    if (!intlen)
        return K_SKIP;
    switch (ie) {
    case 7:
        return K_SPORT;
    case 11:
        return K_DPORT;
    case 4:
        return K_PROTO;
    case 6:
        return K_TCPFLAGS;
    case 1:
        return K_IN_BYTES;
    case 2:
        return K_IN_PKTS;
    case 23:
        return K_OUT_BYTES;
    case 24:
        return K_OUT_PKTS;
    case 85:
        return K_TOT_BYTES;
    case 86:
        return K_TOT_PKTS;
    case 231:
        return K_INIT_BYTES;
    case 298:
        return K_INIT_PKTS;
    case 22:
        return K_FIRST_UP;
    case 21:
        return K_LAST_UP;
    case 150:
        return K_START_S;
    case 151:
        return K_END_S;
    case 152:
        return K_START_MS;
    case 153:
        return K_END_MS;
    case 154:
        return K_START_US;
    case 155:
        return K_END_US;
    case 156:
        return K_START_NS;
    case 157:
        return K_END_NS;
    case 158:
        return K_START_DUS;
    case 159:
        return K_END_DUS;
    case 160:
        return K_SYSINIT;
    case 16:
        return K_SRC_AS;
    case 17:
        return K_DST_AS;
    case 10:
        return K_IN_IF;
    case 14:
        return K_OUT_IF;
    case 32:
        return K_ICMP4;
    case 139:
        return K_ICMP6;
    case 176:
        return K_ICMP_T4;
    case 177:
        return K_ICMP_C4;
    case 178:
        return K_ICMP_T6;
    case 179:
        return K_ICMP_C6;
    case 34:
        return K_SAMP_INT;
    case 35:
        return K_SAMP_ALGO;
    case 48:
        return K_SAMPLER_ID;
    case 49:
        return K_SAMPLER_MODE;
    case 50:
        return K_SAMPLER_RINT;
    case 302:
        return K_SELECTOR_ID;
    case 305:
        return K_PKT_INT;
    case 306:
        return K_PKT_SPACE;
    case 309:
        return K_SAMP_SIZE;
    case 310:
        return K_SAMP_POP;
    case 239:
        return K_BIFLOW_DIR;
    default:
        return K_SKIP;
    }
}

#define PEN_REVERSE 29305u /* RFC 5103: reverse information elements */
#define PEN_CERT 6871u     /* YAF */

/* Enterprise elements we use: RFC 5103 reverse counters and YAF's TCP flags and reverse start. */
static enum dec_kind map_enterprise_ie(uint32_t pen, uint16_t ie, uint16_t len)
{
    if (len < 1 || len > 8)
        return K_SKIP;
    if (pen == PEN_REVERSE) {
        switch (ie) {
        case 1:
            return K_REV_BYTES;
        case 2:
            return K_REV_PKTS;
        case 85:
            return K_REV_TOT_BYTES;
        case 86:
            return K_REV_TOT_PKTS;
        case 6:
            return K_REV_TCPFLAGS;
        default:
            return K_SKIP;
        }
    }
    if (pen == PEN_CERT) {
        switch (ie) {
        case 14:
            return K_Y_INIT_FLAGS;
        case 15:
            return K_Y_UNION_FLAGS;
        case 16398:
            return K_Y_REV_INIT_FLAGS;
        case 16399:
            return K_Y_REV_UNION_FLAGS;
        case 21:
            return K_Y_REV_DELTA_MS;
        default:
            return K_SKIP;
        }
    }
    return K_SKIP;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The op's action: its kind (addresses, sections, skips) or the width of its number. */
static enum op_act op_act_of(enum dec_kind k, uint16_t len)
{
    switch (k) {
    case K_SKIP:
        return OA_SKIP;
    case K_DL_SECTION:
    case K_IP_SECTION:
        return OA_SECTION;
    case K_SRC4:
        return OA_SRC4;
    case K_DST4:
        return OA_DST4;
    case K_SRC6:
        return OA_SRC6;
    case K_DST6:
        return OA_DST6;
    default:
        return len == 1   ? OA_U8
               : len == 2 ? OA_U16
               : len == 4 ? OA_U32
               : len == 8 ? OA_U64
                          : OA_UINT8; /* op_place: the destination's width */
    }
}

/* The destination an op writes: its kind's value, or the record's source (with whether it is
 * IPv6), its destination, or its packet section. */
static unsigned op_dest(const struct tmpl_op *op)
{
    switch ((enum op_act)op->act) {
    case OA_SRC4:
    case OA_SRC6:
        return K_COUNT;
    case OA_DST4:
    case OA_DST6:
        return K_COUNT + 1;
    case OA_SECTION:
        return K_COUNT + 2;
    default:
        return op->kind;
    }
}

/* A fixed-length template's ops (every one applied to every record, each writing only its
 * destination) as tmpl_prog orders them: the last op of each destination, the one whose write
 * stands; the addresses go to the plan, the others are ordered by act and within one act by
 * offset. Returns how many ops are left. */
static size_t fixed_order(struct tmpl_op *ops, size_t nops, uint16_t seg[OA_NLOAD + 1],
                          struct tmpl_plan *pl)
{
    bool seen[K_COUNT + 3] = {false};
    struct tmpl_op last[K_COUNT + 3];
    size_t n = 0;
    for (size_t i = nops; i-- > 0;) {
        unsigned d = op_dest(&ops[i]);
        if (!seen[d]) {
            seen[d] = true;
            last[n++] = ops[i]; /* by descending offset */
        }
    }
    size_t at[OA_COUNT + 1] = {0}; /* where each act's run starts: counted, then summed */
    for (size_t i = 0; i < n; i++) {
        enum op_act a = (enum op_act)last[i].act;
        if (a == OA_SRC4 || a == OA_SRC6) {
            pl->src_act = (uint8_t)a;
            pl->src_off = last[i].off;
        } else if (a == OA_DST4 || a == OA_DST6) {
            pl->dst_act = (uint8_t)a;
            pl->dst_off = last[i].off;
        } else {
            at[a + 1]++;
        }
    }
    for (unsigned a = 0; a < OA_COUNT; a++)
        at[a + 1] += at[a];
    for (unsigned a = 0; a < OA_NLOAD + 1; a++)
        seg[a] = (uint16_t)at[OA_U8 + a];
    for (size_t i = n; i-- > 0;) {
        enum op_act a = (enum op_act)last[i].act;
        if (a != OA_SRC4 && a != OA_SRC6 && a != OA_DST4 && a != OA_DST6)
            ops[at[a]++] = last[i];
    }
    return seg[OA_NLOAD];
}

/* The first of kinds k[0..n) the template has (K_SKIP: none). */
static uint8_t first_kind(uint64_t has, const uint8_t *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has & K_BIT(k[i]))
            return k[i];
    return K_SKIP;
}

/* Where a time comes from: milliseconds, seconds, NTP micro- or nanoseconds, delta
 * microseconds, the first of them the template has. */
static void time_source(uint64_t has, uint8_t s, uint8_t ms, uint8_t us, uint8_t ns, uint8_t dus,
                        uint8_t *tt, uint8_t *kind)
{
    static const uint8_t how[5] = {TT_MS, TT_S, TT_NTP, TT_NTP, TT_DUS};
    const uint8_t k[5] = {ms, s, us, ns, dus};
    *tt = TT_NONE;
    *kind = K_SKIP;
    for (int i = 0; i < 5; i++) {
        if (has & K_BIT(k[i])) {
            *tt = how[i];
            *kind = k[i];
            return;
        }
    }
}

static void plan_of(uint64_t has, struct tmpl_plan *pl)
{
    static const uint8_t bytes[] = {K_IN_BYTES, K_OUT_BYTES, K_TOT_BYTES, K_INIT_BYTES};
    static const uint8_t packets[] = {K_IN_PKTS, K_OUT_PKTS, K_TOT_PKTS, K_INIT_PKTS};
    pl->bytes = first_kind(has, bytes, sizeof bytes);
    pl->packets = first_kind(has, packets, sizeof packets);
    if (has & (K_BIT(K_FIRST_UP) | K_BIT(K_LAST_UP))) {
        pl->up_first = (has & K_BIT(K_FIRST_UP)) ? K_FIRST_UP : K_LAST_UP;
        pl->up_last = (has & K_BIT(K_LAST_UP)) ? K_LAST_UP : K_FIRST_UP;
    }
    time_source(has, K_START_S, K_START_MS, K_START_US, K_START_NS, K_START_DUS, &pl->first_tt,
                &pl->first_kind);
    time_source(has, K_END_S, K_END_MS, K_END_US, K_END_NS, K_END_DUS, &pl->last_tt,
                &pl->last_kind);
    pl->up_only = pl->up_first && !pl->first_tt && !pl->last_tt;
}

/* Where each kind lands: the field of the record it is decoded into (width 0: none, its v[]
 * slot); the counters go to bytes and packets when the plan picks them (op_place). Every
 * template's ops store straight there, and finish_record reads those kinds from the record. */
#define REC_FIELD(f)                                                                               \
    {                                                                                              \
        offsetof(struct flow_rec, f), sizeof((struct flow_rec *)0)->f                              \
    }
static const struct {
    uint8_t off, width;
} rec_fields[K_COUNT] = {
    [K_SPORT] = REC_FIELD(sport),   [K_DPORT] = REC_FIELD(dport),
    [K_PROTO] = REC_FIELD(proto),   [K_TCPFLAGS] = REC_FIELD(tcp_flags),
    [K_SRC_AS] = REC_FIELD(src_as), [K_DST_AS] = REC_FIELD(dst_as),
    [K_IN_IF] = REC_FIELD(in_if),
};
#undef REC_FIELD

/* A value op's destination (struct tmpl_op dst): its record field (rec_fields, the plan's
 * counters, 8 bytes), else its kind's v[] slot (8 bytes); and its act again when it is no plain
 * load of at most the destination's width: OA_UINT1 .. OA_UINT8 by that width (op_apply
 * stores all of it, narrowing a wider field). A plain load stores only its bytes (the
 * destination's low-order ones). */
_Static_assert(OA_UINT8 + 1 == OA_U8 && OA_UINT1 + 3 == OA_UINT8,
               "the value acts are the last: OA_UINT1 .. OA_UINT8, OA_U8 .. OA_U64");
_Static_assert(sizeof(struct dec_rec) <= UINT16_MAX, "tmpl_op dst is 16 bits");
static void op_place(struct tmpl_op *op, const struct tmpl_plan *pl)
{
    size_t off = offsetof(struct dec_rec, v) + op->kind * sizeof(uint64_t);
    unsigned width = rec_fields[op->kind].width;
    if (width)
        off = rec_fields[op->kind].off;
    else if (op->kind != K_SKIP && op->kind == pl->bytes)
        off = offsetof(struct flow_rec, bytes);
    else if (op->kind != K_SKIP && op->kind == pl->packets)
        off = offsetof(struct flow_rec, packets);
    if (!width)
        width = sizeof(uint64_t);
    op->dst = (uint16_t)off;
    if (op->act < OA_U8 || op->len > width)
        op->act = (uint8_t)(width == 1   ? OA_UINT1
                            : width == 2 ? OA_UINT2
                            : width == 4 ? OA_UINT4
                                         : OA_UINT8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (op->act >= OA_U8)
        op->dst = (uint16_t)(off + width - op->len);
#endif
}

/* A varlen template's ops (every field in order): each destination written by its last op
 * only, as fixed_order keeps, the earlier ones made skips, so that a record's ops write the
 * same bytes of the same destinations as every other record's (a plain load only its own). */
static void last_writes(struct tmpl_op *ops, size_t nops)
{
    bool seen[K_COUNT + 3] = {false};
    for (size_t i = nops; i-- > 0;) {
        if (ops[i].act == OA_SKIP)
            continue;
        unsigned d = op_dest(&ops[i]);
        if (seen[d]) {
            ops[i].kind = K_SKIP;
            ops[i].act = OA_SKIP;
            ops[i].dst = 0;
        }
        seen[d] = true;
    }
}

/* Whether one of a fixed-length template's ops is a packet section (OA_SECTION). */
static bool has_section(const struct tmpl_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ops[i].act == OA_SECTION)
            return true;
    return false;
}

static bool plain_kinds(uint64_t has);

/* Largest record a set can hold (65535 minus set and message headers). */
#define MAX_RECORD_LEN (65535u - 4u - 16u)

int tmpl_check(uint16_t tid, const struct tmpl_field *f, size_t n)
{
    if (tid < 256 || n == 0 || n > DECODE_MAX_FIELDS)
        return -EINVAL;
    uint32_t min_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].len == 0) {
            if (f[i].ie == 0 || f[i].v9_scope)
                continue; /* filler / empty scope: carries nothing */
            return -EINVAL;
        }
        min_len += f[i].len == OP_VARLEN ? 1u : f[i].len;
    }
    return min_len == 0 || min_len > MAX_RECORD_LEN ? -EINVAL : 0;
}

int tmpl_compile(uint16_t tid, bool options, const struct tmpl_field *f, size_t n,
                 struct tmpl_prog *out)
{
    struct tmpl_op *ops = out->ops;
    size_t nops = 0;
    uint32_t min_len = 0;
    uint64_t has = 0;
    bool varlen = false;
    if (tmpl_check(tid, f, n) < 0)
        return -EINVAL;
    uint64_t h = fnv1a(0xcbf29ce484222325ull, &options, 1);
    for (size_t i = 0; i < n; i++) {
        uint16_t len = f[i].len;
        h = fnv1a(h, &f[i].ie, 2);
        h = fnv1a(h, &len, 2);
        h = fnv1a(h, &f[i].pen, 4);
        h = fnv1a(h, &f[i].v9_scope, 1);
        if (len == 0)
            continue; /* filler / empty scope (tmpl_check) */
        enum dec_kind k = K_SKIP;
        if (len == OP_VARLEN) {
            varlen = true;
            min_len += 1;
            if (!f[i].enterprise && !f[i].v9_scope && (f[i].ie == 313 || f[i].ie == 315))
                k = map_ie(f[i].ie, len);
        } else {
            min_len += len;
            if (!f[i].enterprise && !f[i].v9_scope)
                k = map_ie(f[i].ie, len);
            else if (f[i].enterprise)
                k = map_enterprise_ie(f[i].pen, f[i].ie, len);
        }
        if (k != K_SKIP)
            has |= K_BIT(k);
        /* merge runs of fixed-length skips */
        if (k == K_SKIP && len != OP_VARLEN && nops && ops[nops - 1].kind == K_SKIP &&
            ops[nops - 1].len != OP_VARLEN && (uint32_t)ops[nops - 1].len + len < OP_VARLEN) {
            ops[nops - 1].len = (uint16_t)(ops[nops - 1].len + len);
            continue;
        }
        ops[nops].len = len;
        ops[nops].off = 0;
        ops[nops].dst = 0;
        ops[nops].kind = (uint8_t)k;
        ops[nops].act = (uint8_t)op_act_of(k, len);
        nops++;
    }
    memset(out->seg, 0, sizeof out->seg);
    memset(&out->plan, 0, sizeof out->plan);
    plan_of(has, &out->plan);
    out->plan.plain = !varlen && !options && plain_kinds(has) && !has_section(ops, nops);
    for (size_t i = 0; i < nops; i++)
        if (ops[i].act >= OA_UINT1) /* a value: OA_UINT1 .. OA_UINT8, OA_U8 .. OA_U64 */
            op_place(&ops[i], &out->plan);
    if (varlen) {
        last_writes(ops, nops);
    } else {
        /* fixed layout: every field at a known offset; drop the skips */
        size_t keep = 0;
        uint32_t off = 0;
        for (size_t i = 0; i < nops; i++) {
            struct tmpl_op op = ops[i];
            op.off = (uint16_t)off;
            off += op.len;
            if (op.kind != K_SKIP)
                ops[keep++] = op;
        }
        nops = fixed_order(ops, keep, out->seg, &out->plan);
    }
    out->layout_hash = h;
    out->has = has;
    out->min_len = min_len;
    out->varlen = varlen;
    out->nops = (uint16_t)nops;
    return 0;
}

/* Does old have the field list f[0..n) (a refresh that repeats it: the same compile)? */
static bool same_fields(struct tmpl *old, bool options, const struct tmpl_field *f, size_t n)
{
    if (old->options != options || old->nfields != n)
        return false;
    const struct tmpl_field *g = tmpl_fields(old);
    for (size_t i = 0; i < n; i++)
        if (g[i].ie != f[i].ie || g[i].len != f[i].len || g[i].pen != f[i].pen ||
            g[i].enterprise != f[i].enterprise || g[i].v9_scope != f[i].v9_scope)
            return false;
    return true;
}

/* Is old the same template as prog (a refresh)? */
static bool same_layout(const struct tmpl *old, const struct tmpl_prog *prog, bool options)
{
    return old->layout_hash == prog->layout_hash && old->options == options &&
           old->nops == prog->nops &&
           memcmp(old->ops, prog->ops, prog->nops * sizeof *prog->ops) == 0 &&
           memcmp(&old->plan, &prog->plan, sizeof prog->plan) == 0;
}

/* The domain is full: its least recently refreshed template goes (the older of the two lists'
 * heads). A flood of new ids from one (exporter, domain) then churns that domain only, and an
 * exporter that moved to new ids is never locked out until the old ones expire; templates in
 * use are refreshed by their exporter and come back. Returns whether one went. */
static bool evict_oldest(struct decode_ctx *ctx, struct dec_domain *d)
{
    struct dlist *l = &d->lru[0];
    if (!l->first ||
        (d->lru[1].first && DLIST_ENTRY(d->lru[1].first, struct tmpl, lru)->refresh_seq <
                                DLIST_ENTRY(l->first, struct tmpl, lru)->refresh_seq))
        l = &d->lru[1];
    if (!l->first)
        return false;
    remove_head(ctx, l);
    ctx->c[DC_TEMPLATES_EVICTED]++;
    return true;
}

/* A new template of m's domain from prog, compiled from f[0..n) (NULL: out of memory,
 * counted). */
static struct tmpl *tmpl_new(struct dec_msg *m, uint16_t tid, bool options,
                             const struct tmpl_prog *prog, const struct tmpl_field *f, size_t n)
{
    struct dec_exporter *e = m->exp;
    struct dec_domain *d = m->dom;
    struct tmpl *t = dec_alloc(m->ctx, tmpl_bytes(prog->nops, n));
    if (!t) {
        e->errors++;
        return NULL;
    }
    t->exp_idx = e->idx;
    t->dom_slot = (uint32_t)(d - e->doms);
    t->dom_id = d->id;
    t->id = tid;
    t->version = m->version;
    t->options = options;
    t->varlen = prog->varlen;
    t->min_len = (uint16_t)prog->min_len;
    tmpl_stamp(m->ctx, t, m->now_ms);
    t->layout_hash = prog->layout_hash;
    t->has = prog->has;
    t->nops = prog->nops;
    for (unsigned i = 0; i < OA_NLOAD + 1; i++)
        t->seg_end[i] = t->ops + prog->seg[i];
    t->plan = prog->plan;
    memcpy(t->ops, prog->ops, prog->nops * sizeof *prog->ops);
    t->nfields = (uint16_t)n;
    memcpy(tmpl_fields(t), f, n * sizeof *f);
    return t;
}

const struct tmpl *tmpl_add(struct dec_msg *m, uint16_t tid, bool options,
                            const struct tmpl_field *f, size_t n)
{
    struct decode_ctx *ctx = m->ctx;
    struct dec_exporter *e = m->exp;
    struct dec_domain *d = m->dom;
    struct tmpl **pp = find_slot(ctx, e->idx, m->version, d->id, tid);
    struct tmpl *old = *pp;
    /* a refresh repeats the field list (routers resend each template every so many packets
       or seconds): it compiles to the same template, so it is not compiled again */
    bool refresh = old && same_fields(old, options, f, n);
    struct tmpl_prog prog;
    if (!refresh) {
        ctx->compiles++;
        if (tmpl_compile(tid, options, f, n, &prog) < 0) {
            dec_error(ctx, e, DC_TEMPLATE_INVALID);
            return NULL;
        }
        refresh = old && same_layout(old, &prog, options);
    }
    if (refresh) {
        tmpl_stamp(ctx, old, m->now_ms);
        dlist_unlink(&d->lru[options], &old->lru);
        dlist_push_back(&d->lru[options], &old->lru);
        ctx->c[DC_TEMPLATES_REFRESHED]++;
        return NULL;
    }
    if (!old && d->templates >= ctx->cfg.max_templates_per_source && evict_oldest(ctx, d))
        pp = find_slot(ctx, e->idx, m->version, d->id, tid); /* the chain may have moved */
    if (!old && (d->templates >= ctx->cfg.max_templates_per_source ||
                 ctx->ntemplates >= ctx->cfg.max_templates)) {
        dec_error(ctx, e, DC_TEMPLATE_LIMIT);
        return NULL;
    }
    struct tmpl *t = tmpl_new(m, tid, options, &prog, f, n);
    if (!t)
        return NULL;
    if (old) {
        t->next = old->next;
        *pp = t;
        dlist_unlink(&d->lru[old->options], &old->lru);
        dec_free(ctx, old, tmpl_size(old));
        ctx->c[DC_TEMPLATES_REPLACED]++;
    } else {
        t->next = NULL;
        *pp = t;
        d->templates++;
        e->templates++;
        ctx->ntemplates++;
        ctx->c[DC_TEMPLATES_ADDED]++;
    }
    dlist_push_back(&d->lru[options], &t->lru);
    return t;
}

/* ---- the interpreter ---- */

/* A big-endian number of a width other than 1, 2, 4 or 8 bytes (those: op_act_of's OA_U*). */
static inline uint64_t read_uint(const uint8_t *p, uint16_t len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v = v << 8 | p[i];
    return v;
}

static inline void put_v4(uint8_t out[16], const uint8_t *p)
{
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, p, 4);
}

/* put_v4 into an address still zero (a fixed-length record's: each written once). */
static inline void put_v4_zeroed(uint8_t out[16], const uint8_t *p)
{
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, p, 4);
}

#define HAS(k) (t->has & K_BIT(k))
#define NTP_UNIX_OFFSET 2208988800ull

static uint64_t ntp_to_ms(uint64_t v)
{
    uint64_t s = v >> 32;
    if (s < NTP_UNIX_OFFSET)
        return 0;
    return (s - NTP_UNIX_OFFSET) * 1000 + (((v & 0xffffffffull) * 1000 + (1ull << 31)) >> 32);
}

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Sampling rate stated by the record itself (0 = none). */
#define RATE_KINDS                                                                                 \
    (K_BIT(K_SAMP_INT) | K_BIT(K_SAMPLER_RINT) | K_BIT(K_PKT_INT) | K_BIT(K_SAMP_SIZE))
static uint32_t record_rate(const struct tmpl *t, const uint64_t *v)
{
    if (!(t->has & RATE_KINDS)) /* none of the ways below */
        return 0;
    if (HAS(K_SAMP_INT) && v[K_SAMP_INT])
        return clamp32(v[K_SAMP_INT]);
    if (HAS(K_SAMPLER_RINT) && v[K_SAMPLER_RINT])
        return clamp32(v[K_SAMPLER_RINT]);
    /* Systematic count-based sampling (RFC 5475) is stated by interval AND space together;
     * an interval alone (Cisco sends 305 = 1 beside 309/310 for random n-out-of-N) says
     * nothing about the rate. */
    if (HAS(K_PKT_INT) && HAS(K_PKT_SPACE) && v[K_PKT_INT]) {
        uint64_t space = v[K_PKT_SPACE];
        if (space > UINT32_MAX || v[K_PKT_INT] > UINT32_MAX)
            return UINT32_MAX;
        return clamp32((v[K_PKT_INT] + space) / v[K_PKT_INT]);
    }
    if (HAS(K_SAMP_SIZE) && HAS(K_SAMP_POP) && v[K_SAMP_SIZE] && v[K_SAMP_POP] >= v[K_SAMP_SIZE])
        return clamp32(v[K_SAMP_POP] / v[K_SAMP_SIZE]);
    return 0;
}

/* Unix ms of a start or end time (enum tmpl_time tt, from kind k), 0 when the template has none. */
static inline uint64_t abs_time(const uint64_t *v, const struct dec_msg *m, uint8_t tt, uint8_t k)
{
    switch ((enum tmpl_time)tt) {
    case TT_MS:
        return v[k];
    case TT_S:
        return v[k] * 1000;
    case TT_NTP:
        return ntp_to_ms(v[k]);
    case TT_DUS:
        return m->export_ms - v[k] / 1000;
    case TT_NONE:
        break;
    }
    return 0;
}

static void options_record(struct dec_msg *m, const struct tmpl *t, const uint64_t *v)
{
    m->ctx->c[DC_OPTION_RECORDS]++;
    struct dec_domain *d = m->dom;
    if (HAS(K_SYSINIT)) {
        d->has_sysinit = true;
        d->sysinit_ms = v[K_SYSINIT];
    }
    uint32_t rate = record_rate(t, v);
    if (!rate)
        return;
    if (HAS(K_SAMPLER_ID))
        dec_domain_set_sampler(d, (uint32_t)v[K_SAMPLER_ID], rate);
    else if (HAS(K_SELECTOR_ID))
        dec_domain_set_sampler(d, (uint32_t)v[K_SELECTOR_ID], rate);
    else
        d->rate = rate;
}

/* YAF's TCP flags of one direction: those of the first packet | those of the rest. */
static uint8_t yaf_flags(const struct tmpl *t, const uint64_t *v, int first, int rest)
{
    return (uint8_t)(((t->has & K_BIT(first)) ? v[first] : 0) |
                     ((t->has & K_BIT(rest)) ? v[rest] : 0));
}

/* Who started the connection, when the exporter says (core/initiator.h): biflowDirection
 * (RFC 5103 5.3: 1 initiator, 2 reverseInitiator; 0 arbitrary and 3 perimeter say nothing),
 * else the flags of the first packet of the forward direction (YAF initialTCPFlags): SYN alone
 * opens a connection, SYN+ACK answers one. */
static uint8_t initiator_flags(const struct tmpl *t, const uint64_t *v)
{
    if (!(t->has & (K_BIT(K_BIFLOW_DIR) | K_BIT(K_Y_INIT_FLAGS))))
        return 0;
    if (HAS(K_BIFLOW_DIR) && v[K_BIFLOW_DIR] == 1)
        return FLOW_F_INIT_SRC;
    if (HAS(K_BIFLOW_DIR) && v[K_BIFLOW_DIR] == 2)
        return FLOW_F_INIT_DST;
    if (HAS(K_Y_INIT_FLAGS)) {
        uint8_t first = (uint8_t)v[K_Y_INIT_FLAGS];
        if ((first & 0x12) == 0x02)
            return FLOW_F_INIT_SRC;
        if ((first & 0x12) == 0x12)
            return FLOW_F_INIT_DST;
    }
    return 0;
}

#define ICMP_KINDS (K_BIT(K_ICMP4) | K_BIT(K_ICMP6) | K_BIT(K_ICMP_T4) | K_BIT(K_ICMP_T6))
#define REV_KINDS                                                                                  \
    (K_BIT(K_REV_BYTES) | K_BIT(K_REV_PKTS) | K_BIT(K_REV_TOT_BYTES) | K_BIT(K_REV_TOT_PKTS))

/* The kinds finish_record reads beyond the record's fields and times, checked once per
 * record. */
#define RARE_KINDS                                                                                 \
    (ICMP_KINDS | K_BIT(K_Y_INIT_FLAGS) | K_BIT(K_Y_UNION_FLAGS) | K_BIT(K_BIFLOW_DIR))

/* Unix ms of a v9 sysUpTime value u: relative to the header's sysuptime, wrap-aware. */
static inline uint64_t v9_uptime_ms(const struct dec_msg *m, uint64_t u)
{
    return m->export_ms - (uint64_t)(int64_t)(int32_t)(m->uptime - (uint32_t)u);
}

/* r's start and end times from the record's values v (plan: the template's time kinds). */
static inline __attribute__((always_inline)) void
record_times(const struct dec_msg *m, const struct tmpl *t, const uint64_t *v, struct flow_rec *r)
{
    uint64_t first = 0, last = 0;
    if (t->plan.up_only && m->version == 9) {
        /* the common v9 layout: what the general way below comes to, without its tests */
        first = v9_uptime_ms(m, v[t->plan.up_first]);
        last = v9_uptime_ms(m, v[t->plan.up_last]);
    } else {
        if (t->plan.first_tt)
            first = abs_time(v, m, t->plan.first_tt, t->plan.first_kind);
        if (t->plan.last_tt)
            last = abs_time(v, m, t->plan.last_tt, t->plan.last_kind);
        if ((!first || !last) && t->plan.up_first) {
            uint64_t fu = v[t->plan.up_first];
            uint64_t lu = v[t->plan.up_last];
            uint64_t f2, l2;
            if (m->version == 9) {
                f2 = v9_uptime_ms(m, fu);
                l2 = v9_uptime_ms(m, lu);
            } else if (HAS(K_SYSINIT) || m->dom->has_sysinit) {
                uint64_t base = HAS(K_SYSINIT) ? v[K_SYSINIT] : m->dom->sysinit_ms;
                f2 = base + fu;
                l2 = base + lu;
            } else {
                /* no boot time: anchor the end at the export time */
                l2 = m->export_ms;
                f2 = lu >= fu ? m->export_ms - (lu - fu) : m->export_ms;
            }
            if (!first)
                first = f2;
            if (!last)
                last = l2;
        }
    }
    /* a time still 0: the other one, or the export time */
    if (!first)
        first = last ? last : m->export_ms;
    if (!last)
        last = first;
    r->first_ms = first;
    r->last_ms = last;
}

static bool plain_kinds(uint64_t has)
{
    return !(has &
             (RARE_KINDS | RATE_KINDS | K_BIT(K_SAMPLER_ID) | K_BIT(K_SELECTOR_ID) | REV_KINDS));
}

/* A packet section of the record being decoded (NULL p: none). */
struct dec_section {
    const uint8_t *p;
    size_t len;
    bool ip; /* ipHeaderPacketSection: starts at the IP header */
};

/* A record without addresses that carries the sampled packet (PSAMP): the packet parser of the
 * flow meter (pkt.h) gives its addresses, protocol, ports or ICMP type and TCP flags, each
 * where the template has no field of its own (those win); a record without packet or octet
 * counters stands for that one packet. Returns whether it is IPv6. */
static bool from_section(struct dec_msg *m, const struct tmpl *t, const struct dec_section *sec,
                         struct flow_rec *r)
{
    struct pkt_info pi;
    uint32_t n = sec->len > UINT32_MAX ? UINT32_MAX : (uint32_t)sec->len;
    int rc = sec->ip ? pkt_parse_ip(sec->p, n, UINT32_MAX, &pi)
                     : pkt_parse(PKT_LINK_EN10MB, sec->p, n, UINT32_MAX, &pi);
    if (rc != PKT_OK && rc != PKT_ERR_TRUNCATED_L4 && rc != PKT_ERR_BAD_L4_HEADER)
        return false;
    struct flow_rec pk;
    dec_rec_from_pkt(&pk, &pi);
    memcpy(r->src, pk.src, 16);
    memcpy(r->dst, pk.dst, 16);
    if (!HAS(K_PROTO))
        r->proto = pk.proto;
    if (!HAS(K_SPORT))
        r->sport = pk.sport;
    if (!HAS(K_DPORT))
        r->dport = pk.dport;
    if (!(t->has & (K_BIT(K_TCPFLAGS) | K_BIT(K_Y_INIT_FLAGS) | K_BIT(K_Y_UNION_FLAGS))))
        r->tcp_flags = pk.tcp_flags;
    r->flags |= FLOW_F_PACKET; /* its TCP flags are that packet's (flow.h) */
    if (!t->plan.packets)
        r->packets = 1;
    if (!t->plan.bytes)
        r->bytes = pi.ip_len;
    m->ctx->c[DC_PACKET_SECTIONS]++;
    return pi.v6;
}

/* r with what the record's values v say, emitted (and its reverse direction, if any); set_rate
 * is dec_rate's for a record of m that states neither rate nor sampler. The kinds of
 * rec_fields and the plan's counters are in r already (op_place); v holds the others, 0 for
 * every kind the template does not have (tmpl_decode_set zeroes it once per set, and a
 * template's records write the same kinds). */
static void finish_record(struct dec_msg *m, const struct tmpl *t, const uint64_t *v,
                          struct flow_rec *r, uint32_t set_rate, const struct dec_section *sec)
{
    if (sec->p && !(t->has & (K_BIT(K_SRC4) | K_BIT(K_SRC6))) && from_section(m, t, sec, r))
        r->flags |= FLOW_F_V6;
    if (t->has & RARE_KINDS) {
        if (!HAS(K_TCPFLAGS) && (HAS(K_Y_INIT_FLAGS) || HAS(K_Y_UNION_FLAGS)))
            r->tcp_flags = yaf_flags(t, v, K_Y_INIT_FLAGS, K_Y_UNION_FLAGS);
        r->flags |= initiator_flags(t, v);
        if ((t->has & ICMP_KINDS) && (r->proto == 1 || r->proto == 58)) {
            if (HAS(K_ICMP4) && r->proto == 1)
                r->dport = (uint16_t)v[K_ICMP4];
            else if (HAS(K_ICMP6) && r->proto == 58)
                r->dport = (uint16_t)v[K_ICMP6];
            else if (HAS(K_ICMP_T4) && r->proto == 1)
                r->dport = (uint16_t)((v[K_ICMP_T4] & 0xff) << 8 |
                                      (HAS(K_ICMP_C4) ? v[K_ICMP_C4] & 0xff : 0));
            else if (HAS(K_ICMP_T6) && r->proto == 58)
                r->dport = (uint16_t)((v[K_ICMP_T6] & 0xff) << 8 |
                                      (HAS(K_ICMP_C6) ? v[K_ICMP_C6] & 0xff : 0));
        }
    }
    record_times(m, t, v, r);
    uint64_t first = r->first_ms, last = r->last_ms;
    uint32_t rate = set_rate; /* a record that states neither rate nor sampler */
    if (t->has & (RATE_KINDS | K_BIT(K_SAMPLER_ID) | K_BIT(K_SELECTOR_ID))) {
        bool has_sampler = HAS(K_SAMPLER_ID) || HAS(K_SELECTOR_ID);
        uint32_t sid = HAS(K_SAMPLER_ID)    ? (uint32_t)v[K_SAMPLER_ID]
                       : HAS(K_SELECTOR_ID) ? (uint32_t)v[K_SELECTOR_ID]
                                            : 0;
        rate = dec_rate(m, record_rate(t, v), has_sampler, sid, -1);
    }
    /* RFC 5103 biflow: the reverse direction is a flow of its own (the detectors count what
     * a host sends and receives); a biflow whose reverse side saw no packet has none. */
    uint64_t rpk = 0, rby = 0;
    if (t->has & REV_KINDS) {
        rpk = HAS(K_REV_PKTS) ? v[K_REV_PKTS] : HAS(K_REV_TOT_PKTS) ? v[K_REV_TOT_PKTS] : 0;
        rby = HAS(K_REV_BYTES) ? v[K_REV_BYTES] : HAS(K_REV_TOT_BYTES) ? v[K_REV_TOT_BYTES] : 0;
    }
    struct flow_rec rev;
    bool have_rev = rpk > 0 || rby > 0;
    if (have_rev) {
        rev = *r;
        memcpy(rev.src, r->dst, 16);
        memcpy(rev.dst, r->src, 16);
        rev.src_as = r->dst_as;
        rev.dst_as = r->src_as;
        /* the answers entered the exporter where the forward flow left it */
        rev.in_if = HAS(K_OUT_IF) ? (uint32_t)v[K_OUT_IF] : 0;
        bool icmp = r->proto == 1 || r->proto == 58;
        rev.sport = icmp ? 0 : r->dport;
        rev.dport = icmp ? 0 : r->sport;
        rev.bytes = rby;
        rev.packets = rpk;
        rev.tcp_flags = HAS(K_REV_TCPFLAGS)
                            ? (uint8_t)v[K_REV_TCPFLAGS]
                            : yaf_flags(t, v, K_Y_REV_INIT_FLAGS, K_Y_REV_UNION_FLAGS);
        /* the other side of the same connection: the initiator is mirrored */
        uint8_t init = r->flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST);
        rev.flags = (uint8_t)((r->flags & ~init) | (init == FLOW_F_INIT_SRC   ? FLOW_F_INIT_DST
                                                    : init == FLOW_F_INIT_DST ? FLOW_F_INIT_SRC
                                                                              : 0));
        if (HAS(K_Y_REV_DELTA_MS)) {
            uint64_t d = v[K_Y_REV_DELTA_MS];
            rev.first_ms = d < last - first ? first + d : last;
        }
    }
    dec_emit_rate(m, r, rate);
    if (have_rev) {
        m->ctx->c[DC_BIFLOW_REVERSE]++;
        dec_emit_rate(m, &rev, rate);
    }
}

/* x into a destination of width bytes (op_apply: a constant). */
static inline void store_uint(uint8_t *dst, uint64_t x, unsigned width)
{
    switch (width) {
    case 1:
        *dst = (uint8_t)x;
        break;
    case 2: {
        uint16_t y = (uint16_t)x;
        memcpy(dst, &y, 2);
        break;
    }
    case 4: {
        uint32_t y = (uint32_t)x;
        memcpy(dst, &y, 4);
        break;
    }
    default:
        memcpy(dst, &x, 8);
        break;
    }
}

static inline __attribute__((always_inline)) void op_apply(const struct tmpl_op *op,
                                                           const uint8_t *q, size_t qlen,
                                                           struct dec_rec *d, bool *v6,
                                                           struct dec_section *sec)
{
    uint8_t *dst = (uint8_t *)d + op->dst;
    switch ((enum op_act)op->act) {
    case OA_SKIP:
        return;
    case OA_SECTION:
        sec->p = q;
        sec->len = qlen;
        sec->ip = op->kind == K_IP_SECTION;
        return;
    case OA_SRC4:
        put_v4(d->r.src, q);
        *v6 = false;
        return;
    case OA_DST4:
        put_v4(d->r.dst, q);
        return;
    case OA_SRC6:
        memcpy(d->r.src, q, 16);
        *v6 = true;
        return;
    case OA_DST6:
        memcpy(d->r.dst, q, 16);
        return;
    case OA_UINT1:
        store_uint(dst, read_uint(q, op->len), 1);
        return;
    case OA_UINT2:
        store_uint(dst, read_uint(q, op->len), 2);
        return;
    case OA_UINT4:
        store_uint(dst, read_uint(q, op->len), 4);
        return;
    case OA_UINT8:
        store_uint(dst, read_uint(q, op->len), 8);
        return;
    case OA_U8:
        store_uint(dst, q[0], 1);
        return;
    case OA_U16:
        store_uint(dst, be_get16(q), 2);
        return;
    case OA_U32:
        store_uint(dst, be_get32(q), 4);
        return;
    case OA_U64:
        store_uint(dst, be_get64(q), 8);
        return;
    }
}

/* One record of a fixed-length template (tmpl_prog's order) into d: its addresses into the
 * record, whose bytes they do not write must be zero (as must those of every destination a
 * plain load does not fill; v4_pre: an IPv4 address's ::ffff: prefix is there already, the
 * plain loop's image, and only its 4 bytes are written), the ops that need a look at their
 * act, then one tight loop per width of the plain loads. */
static inline __attribute__((always_inline)) void decode_fixed(const struct tmpl *t,
                                                               const uint8_t *p, struct dec_rec *d,
                                                               bool *v6, struct dec_section *sec,
                                                               bool v4_pre)
{
    const struct tmpl_plan *pl = &t->plan;
    if (pl->src_act == OA_SRC4) {
        if (v4_pre)
            memcpy(d->r.src + 12, p + pl->src_off, 4);
        else
            put_v4_zeroed(d->r.src, p + pl->src_off);
        *v6 = false;
    } else if (pl->src_act == OA_SRC6) {
        memcpy(d->r.src, p + pl->src_off, 16);
        *v6 = true;
    }
    if (pl->dst_act == OA_DST4 && v4_pre)
        memcpy(d->r.dst + 12, p + pl->dst_off, 4);
    else if (pl->dst_act == OA_DST4)
        put_v4_zeroed(d->r.dst, p + pl->dst_off);
    else if (pl->dst_act == OA_DST6)
        memcpy(d->r.dst, p + pl->dst_off, 16);
    /* each run from where the one before ends (not from the op its loop stopped at: the same,
       but gcc then computes that op again after each loop) */
    uint8_t *b = (uint8_t *)d;
    const struct tmpl_op *const *seg = t->seg_end;
    for (const struct tmpl_op *op = t->ops; op < seg[0]; op++)
        op_apply(op, p + op->off, op->len, d, v6, sec);
    for (const struct tmpl_op *op = seg[0]; op < seg[1]; op++)
        b[op->dst] = p[op->off];
    for (const struct tmpl_op *op = seg[1]; op < seg[2]; op++) {
        uint16_t x = be_get16(p + op->off);
        memcpy(b + op->dst, &x, sizeof x);
    }
    for (const struct tmpl_op *op = seg[2]; op < seg[3]; op++) {
        uint32_t x = be_get32(p + op->off);
        memcpy(b + op->dst, &x, sizeof x);
    }
    for (const struct tmpl_op *op = seg[3]; op < seg[4]; op++) {
        uint64_t x = be_get64(p + op->off);
        memcpy(b + op->dst, &x, sizeof x);
    }
}

/* One varlen record at *pp; false if it runs past end. */
static bool decode_varlen(const struct tmpl *t, const uint8_t **pp, const uint8_t *end,
                          struct dec_rec *d, bool *v6, struct dec_section *sec)
{
    const uint8_t *p = *pp;
    for (unsigned i = 0; i < t->nops; i++) {
        const struct tmpl_op *op = &t->ops[i];
        size_t flen = op->len;
        if (flen == OP_VARLEN) {
            if (end - p < 1)
                return false;
            flen = *p++;
            if (flen == 255) {
                if (end - p < 2)
                    return false;
                flen = be_get16(p);
                p += 2;
            }
        } else {
            if ((size_t)(end - p) < flen)
                return false;
            op_apply(op, p, flen, d, v6, sec);
        }
        if ((size_t)(end - p) < flen)
            return false;
        if (op->len == OP_VARLEN && op->kind != K_SKIP)
            op_apply(op, p, flen, d, v6, sec);
        p += flen;
    }
    *pp = p;
    return true;
}

size_t tmpl_decode_set(struct dec_msg *m, const struct tmpl *t, const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    size_t n = 0;
    struct dec_rec d;
    /* each slot 0 until its kind's op writes it: the kinds t lacks stay 0 (finish_record), and
       a load narrower than its slot writes only its own bytes, always the same ones */
    memset(d.v, 0, sizeof d.v);
    /* nothing below changes what dec_rate reads but options records (not emitted) */
    uint32_t set_rate = t->options ? 0 : dec_rate(m, 0, false, 0, -1);
    if (t->plan.plain) {
        /* The common case: one flow layout, fixed offsets, stores and times only. What does
         * not change within the set is in img, and every record starts as a copy of it: its
         * stores and times then write the rest, so each record's every field is the decoder's
         * whatever the consumer of the previous one did to it (flow.h's flow_emit_fn). The
         * image has the prefix of each IPv4 address (decode_fixed's v4_pre) */
        struct flow_rec img;
        memset(&img, 0, sizeof img);
        if (t->plan.src_act == OA_SRC6)
            img.flags = FLOW_F_V6;
        if (t->plan.src_act == OA_SRC4)
            img.src[10] = img.src[11] = 0xff;
        if (t->plan.dst_act == OA_DST4)
            img.dst[10] = img.dst[11] = 0xff;
        uint32_t rate = dec_stamp(m, &img, set_rate);
        while ((size_t)(end - p) >= t->min_len) {
            d.r = img;
            bool v6 = false;                           /* img has it */
            struct dec_section sec = {NULL, 0, false}; /* none: not plain */
            decode_fixed(t, p, &d, &v6, &sec, true);
            p += t->min_len;
            n++;
            record_times(m, t, d.v, &d.r);
            dec_emit_stamped(m, &d.r, rate);
        }
        if (n)
            dec_count(m, set_rate, n);
        m->records += n;
        return n;
    }
    while ((size_t)(end - p) >= t->min_len) {
        memset(&d.r, 0, sizeof d.r);
        bool v6 = false;
        struct dec_section sec = {NULL, 0, false};
        if (!t->varlen) {
            /* the length check above covers every op */
            decode_fixed(t, p, &d, &v6, &sec, false);
            p += t->min_len;
        } else {
            const uint8_t *start = p;
            if (!decode_varlen(t, &p, end, &d, &v6, &sec)) {
                if (!dec_all_zero(start, (size_t)(end - start)))
                    dec_error(m->ctx, m->exp, DC_RECORD_SHORT);
                break;
            }
        }
        n++;
        if (t->options) {
            options_record(m, t, d.v);
            continue;
        }
        if (v6)
            d.r.flags |= FLOW_F_V6;
        finish_record(m, t, d.v, &d.r, set_rate, &sec);
    }
    /* what is left is shorter than a record: padding (RFC 7011 3.3.1). It is not checked for
       zeros: MikroTik fills it with non-zero bytes, and it carries nothing either way. */
    m->records += n;
    return n;
}
