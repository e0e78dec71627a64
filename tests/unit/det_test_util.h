/* det_test_util.h: a tiny harness for detector unit tests (one detector, one customer whose
 * space is 10.0.0.0/8 and 2001:db8::/32, 5 min windows, hand-built flows). Header-only, static. */
#ifndef TW_DET_TEST_UTIL_H
#define TW_DET_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ctr.h"
#include "detector.h"
#include "rules.h"

#define TH_MAX_ALERTS 128
#define TH_MAX_HOSTS 1024

struct th {
    const struct detector_ops *ops;
    void *conf;
    void *self;
    struct det_ctx ctx;
    struct hash_host_key host_key; /* ctx.host_key: the pipeline's in replay (fixed seed) */
    size_t nalerts;
    struct alert alerts[TH_MAX_ALERTS];
    char ev[TH_MAX_ALERTS][2048];
    struct alert_enrichment en[TH_MAX_ALERTS][4]; /* the first enrichments, copied */
    char en_str[TH_MAX_ALERTS][4][4][96];
    struct host hosts[TH_MAX_HOSTS];
    uint8_t *state[TH_MAX_HOSTS];
    size_t nhosts;
    uint64_t win_ms;
    struct prefix inside[2];
    struct prefix cust_prefixes[4];
    size_t ncust_prefixes;
    /* another detector's options, for det_conf_named (th_other) */
    const struct detector_ops *other_ops;
    void *other_conf;
    const void *dflt[1]; /* the detector's options for every customer (confs) */
    struct det_confs confs;
    bool two_customers; /* th_two_customers: 10.128.0.0/9, 2001:db8:8000::/33 a second customer */
    struct prefix second[2];
};

static const void *th_conf_named(void *arg, const char *name, uint32_t customer)
{
    struct th *t = arg;
    (void)customer;
    if (t->other_ops && strcmp(t->other_ops->name, name) == 0)
        return t->other_conf;
    if (strcmp(t->ops->name, name) == 0)
        return t->conf;
    return NULL;
}
static const char *th_cid(void *arg, uint32_t c)
{
    (void)arg;
    return c == 1 ? "cust" : c == 2 ? "cust2" : NULL;
}
static size_t th_cprefixes(void *arg, uint32_t c, const struct prefix **out)
{
    struct th *t = arg;
    *out = c == 1 ? t->cust_prefixes : NULL;
    return c == 1 ? t->ncust_prefixes : 0;
}
static size_t th_ccount(void *arg)
{
    return ((struct th *)arg)->two_customers ? 2 : 1;
}
static void th_alert(void *arg, const struct alert *a)
{
    struct th *t = arg;
    if (t->nalerts >= TH_MAX_ALERTS)
        return;
    t->alerts[t->nalerts] = *a;
    rule_apply(&t->alerts[t->nalerts]); /* name and category from the rule table, as the pipeline */
    snprintf(t->ev[t->nalerts], sizeof t->ev[0], "%s", a->evidence_json ? a->evidence_json : "");
    t->alerts[t->nalerts].evidence_json = t->ev[t->nalerts];
    /* the alert is borrowed for the call: keep copies of its enrichments and their strings */
    uint32_t ne = a->nenrich < 4 ? a->nenrich : 4;
    for (uint32_t i = 0; i < ne; i++) {
        struct alert_enrichment *e = &t->en[t->nalerts][i];
        char(*str)[96] = t->en_str[t->nalerts][i];
        *e = a->enrich[i];
        const char *src[4] = {e->feed, e->matched, e->name, e->reference};
        const char **dst[4] = {&e->feed, &e->matched, &e->name, &e->reference};
        for (int k = 0; k < 4; k++) {
            if (!src[k])
                continue;
            snprintf(str[k], sizeof str[k], "%s", src[k]);
            *dst[k] = str[k];
        }
    }
    t->alerts[t->nalerts].enrich = ne ? t->en[t->nalerts] : NULL;
    t->nalerts++;
}

/* A detector's option struct: its defaults with "key=value;key=value" overrides (NULL = none)
 * applied. NULL on error (printed). The caller frees it. */
static inline void *th_make_conf(const struct detector_ops *ops, const char *overrides)
{
    void *conf = calloc(1, ops->conf_size ? ops->conf_size : 1);
    if (!conf || (ops->conf_keys && conf_defaults(ops->conf_keys, conf) < 0)) {
        free(conf);
        return NULL;
    }
    if (overrides) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", overrides);
        for (char *s = buf, *next; s && *s; s = next) {
            next = strchr(s, ';');
            if (next)
                *next++ = 0;
            char *eq = strchr(s, '=');
            if (!eq) {
                free(conf);
                return NULL;
            }
            *eq = 0;
            const struct conf_key *k = conf_find_key(ops->conf_keys, s);
            char msg[256];
            if (!k || conf_set(k, conf, eq + 1, msg, sizeof msg) < 0) {
                fprintf(stderr, "override %s: %s\n", s, k ? msg : "unknown key");
                free(conf);
                return NULL;
            }
        }
    }
    return conf;
}

/* overrides: "key=value;key=value" applied over the defaults (NULL = none). */
static inline int th_init(struct th *t, const struct detector_ops *ops, const char *overrides)
{
    memset(t, 0, sizeof *t);
    t->ops = ops;
    t->conf = th_make_conf(ops, overrides);
    if (!t->conf)
        return -1;
    if (ops->init(t->conf, DET_SHARE_ALL, &t->self) < 0)
        return -1;
    prefix_parse("10.0.0.0/8", false, &t->inside[0]);
    prefix_parse("2001:db8::/32", false, &t->inside[1]);
    t->win_ms = 300000;
    t->ctx.win_start_ms = 1221868800000ULL;
    t->ctx.win_end_ms = t->ctx.win_start_ms + t->win_ms;
    t->ctx.window_no = (uint32_t)(t->ctx.win_start_ms / t->win_ms);
    t->ctx.customer_id = th_cid;
    t->ctx.customer_prefixes = th_cprefixes;
    t->ctx.customer_count = th_ccount;
    t->dflt[0] = t->conf;
    t->confs = (struct det_confs){.dflt = t->dflt};
    t->ctx.confs = &t->confs;
    t->ctx.conf_named = th_conf_named;
    t->ctx.customers_arg = t;
    struct hash_key hk;
    hash_key_from_seed(&hk, 0x74777265706c6179ULL);
    hash_host_key_init(&t->host_key, &hk);
    t->ctx.host_key = &t->host_key;
    t->ctx.alert = th_alert;
    t->ctx.alert_arg = t;
    return 0;
}

/* Another detector's options (defaults + overrides) that det_conf_named returns by its name. */
static inline int th_other(struct th *t, const struct detector_ops *ops, const char *overrides)
{
    free(t->other_conf);
    t->other_ops = ops;
    t->other_conf = th_make_conf(ops, overrides);
    return t->other_conf ? 0 : -1;
}

static inline void th_fini(struct th *t)
{
    t->ops->fini(t->self);
    for (size_t i = 0; i < t->nhosts; i++)
        free(t->state[i]);
    free(t->conf);
    free(t->other_conf);
}

static inline bool th_is_inside(struct th *t, const uint8_t a[16])
{
    return prefix_contains(&t->inside[0], a) || prefix_contains(&t->inside[1], a);
}

/* From now on inside hosts in 10.128.0.0/9 and 2001:db8:8000::/33 belong to a second customer
 * (index 2). */
static inline void th_two_customers(struct th *t)
{
    t->two_customers = true;
    prefix_parse("10.128.0.0/9", false, &t->second[0]);
    prefix_parse("2001:db8:8000::/33", false, &t->second[1]);
}

static inline uint32_t th_customer_of(const struct th *t, const uint8_t a[16])
{
    return t->two_customers &&
                   (prefix_contains(&t->second[0], a) || prefix_contains(&t->second[1], a))
               ? 2
               : 1;
}

static inline struct host *th_host(struct th *t, const uint8_t a[16], uint8_t **state)
{
    for (size_t i = 0; i < t->nhosts; i++)
        if (memcmp(t->hosts[i].addr, a, 16) == 0) {
            *state = t->state[i];
            return &t->hosts[i];
        }
    if (t->nhosts >= TH_MAX_HOSTS)
        abort();
    struct host *h = &t->hosts[t->nhosts];
    memset(h, 0, sizeof *h);
    memcpy(h->addr, a, 16);
    h->customer = th_customer_of(t, a);
    t->state[t->nhosts] = calloc(1, t->ops->host_state_size ? t->ops->host_state_size : 1);
    *state = t->state[t->nhosts];
    t->nhosts++;
    return h;
}

/* Close windows until the open one contains ms. */
static inline void th_close(struct th *t)
{
    if (t->ops->on_window_merge) { /* one worker: the merge sees one instance */
        void *selves[1] = {t->self};
        t->ops->on_window_merge(selves, 1, &t->ctx);
    }
    for (size_t i = 0; i < t->nhosts; i++) {
        if (t->hosts[i].window != t->ctx.window_no || !t->ops->on_host_window)
            continue;
        t->ops->on_host_window(t->self, &t->ctx, &t->hosts[i], t->state[i]);
    }
    if (t->ops->on_window)
        t->ops->on_window(t->self, &t->ctx);
    t->ctx.win_start_ms += t->win_ms;
    t->ctx.win_end_ms += t->win_ms;
    t->ctx.window_no++;
}

static inline void th_advance_to(struct th *t, uint64_t ms)
{
    while (ms >= t->ctx.win_end_ms)
        th_close(t);
}

static inline void th_deliver(struct th *t, const struct flow_rec *f)
{
    uint8_t *st;
    struct host *h = th_host(t, flow_inside(f), &st);
    h->window = t->ctx.window_no;
    if (f->last_ms > h->last_ms)
        h->last_ms = f->last_ms;
    uint64_t hh = hash_host(&t->host_key, flow_inside(f)); /* the pipeline's, once per record */
    if (t->ops->prefetch) /* as the worker does, in a batch of one: on_flow takes what it kept */
        t->ops->prefetch(t->self, 0, f, hh);
    t->ctx.rec = (struct det_rec){.batch_no = 1, .host_hash = hh};
    t->ops->on_flow(t->self, &t->ctx, h, st, f);
    t->ctx.rec = (struct det_rec){0}; /* on_flow called directly next: no batch */
}

/* A prepared record (addresses, ports, times, counters, flags): windows advance to its end,
 * the inside end decides direction and customer. Between two customers' hosts, as the
 * pipeline does: to the source as INTERNAL, then to the destination as an inbound copy. */
static inline void th_flow_rec(struct th *t, struct flow_rec *f)
{
    th_advance_to(t, f->last_ms);
    bool si = th_is_inside(t, f->src), di = th_is_inside(t, f->dst);
    f->peer_customer = 0;
    if (si && di)
        f->dir = FLOW_DIR_INTERNAL;
    else if (si)
        f->dir = FLOW_DIR_OUT;
    else if (di)
        f->dir = FLOW_DIR_IN;
    else
        return;
    f->customer = th_customer_of(t, flow_inside(f));
    if (f->dir == FLOW_DIR_INTERNAL)
        f->peer_customer = th_customer_of(t, f->dst);
    th_deliver(t, f);
    if (f->dir == FLOW_DIR_INTERNAL) {
        struct flow_rec in = *f;
        in.dir = FLOW_DIR_IN;
        in.customer = f->peer_customer;
        in.peer_customer = f->customer;
        th_deliver(t, &in);
    }
}

/* A flow record from text addresses, exported with 1:sampling packet sampling (packets and
 * bytes as seen; the record carries them multiplied, as decoders do), for th_flow_rec. */
static inline struct flow_rec th_rec_sampled(const char *src, const char *dst, uint16_t sport,
                                             uint16_t dport, uint8_t proto, uint8_t flags,
                                             uint64_t packets, uint64_t bytes, uint64_t start_ms,
                                             uint64_t dur_ms, uint32_t sampling)
{
    struct flow_rec f;
    memset(&f, 0, sizeof f);
    if (addr_parse(src, f.src) < 0 || addr_parse(dst, f.dst) < 0)
        abort();
    f.sport = sport;
    f.dport = dport;
    f.proto = proto;
    f.tcp_flags = flags;
    f.packets = packets * sampling;
    f.bytes = bytes * sampling;
    f.first_ms = start_ms;
    f.last_ms = start_ms + dur_ms;
    f.sampling = sampling;
    return f;
}

/* The same, unsampled. */
static inline struct flow_rec th_rec(const char *src, const char *dst, uint16_t sport,
                                     uint16_t dport, uint8_t proto, uint8_t flags, uint64_t packets,
                                     uint64_t bytes, uint64_t start_ms, uint64_t dur_ms)
{
    return th_rec_sampled(src, dst, sport, dport, proto, flags, packets, bytes, start_ms, dur_ms,
                          1);
}

/* A flow from text addresses, sampled 1:sampling; the inside end decides the direction. */
static inline void th_flow_sampled(struct th *t, const char *src, const char *dst, uint16_t sport,
                                   uint16_t dport, uint8_t proto, uint8_t flags, uint64_t packets,
                                   uint64_t bytes, uint64_t start_ms, uint64_t dur_ms,
                                   uint32_t sampling)
{
    struct flow_rec f = th_rec_sampled(src, dst, sport, dport, proto, flags, packets, bytes,
                                       start_ms, dur_ms, sampling);
    th_flow_rec(t, &f);
}

/* A flow from text addresses (unsampled); the inside end decides the direction. */
static inline void th_flow(struct th *t, const char *src, const char *dst, uint16_t sport,
                           uint16_t dport, uint8_t proto, uint8_t flags, uint64_t packets,
                           uint64_t bytes, uint64_t start_ms, uint64_t dur_ms)
{
    th_flow_sampled(t, src, dst, sport, dport, proto, flags, packets, bytes, start_ms, dur_ms, 1);
}

static inline size_t th_count(const struct th *t, const char *rule, const char *host)
{
    uint8_t a[16];
    if (host && addr_parse(host, a) < 0)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < t->nalerts; i++)
        if ((!rule || strcmp(t->alerts[i].rule_id, rule) == 0) &&
            (!host || memcmp(t->alerts[i].host, a, 16) == 0))
            n++;
    return n;
}

static inline const struct alert *th_find(const struct th *t, const char *rule)
{
    for (size_t i = 0; i < t->nalerts; i++)
        if (strcmp(t->alerts[i].rule_id, rule) == 0)
            return &t->alerts[i];
    return NULL;
}

/* deterministic test randomness */
static inline uint32_t th_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* The detector's counter whose JSON key is key (its declared counters, detector.h), read the
 * way the pipeline reads them; aborts when the detector declares no such counter. */
static inline uint64_t th_counter(const struct th *t, const char *key)
{
    if (!t->ops->counters || t->ops->ctr_size > 4096)
        abort();
    uint64_t snap[512];
    memset(snap, 0, sizeof snap);
    t->ops->counters(t->self, snap);
    for (size_t i = 0; i < t->ops->nctr; i++)
        if (t->ops->ctr_defs[i].json && strcmp(t->ops->ctr_defs[i].json, key) == 0)
            return ctr_value(&t->ops->ctr_defs[i], snap);
    fprintf(stderr, "no counter %s in detector %s\n", key, t->ops->name);
    abort();
}

#endif
