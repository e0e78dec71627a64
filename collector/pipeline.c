#include "pipeline.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alert_json.h"
#include "detector.h"
#include "hash.h"
#include "hostility.h"
#include "hosttab.h"
#include "json.h"
#include "log.h"
#include "rules.h"
#include "summary.h"

/* Beyond this many empty windows, time jumps instead of closing each one. */
#define MAX_EMPTY_CLOSES 4
#define PIPELINE_MAX_RETIRED 8

struct cust_acc {
    struct traffic out, in, internal;
    uint64_t alerts, late, active, alerted, by_cat[CAT_COUNT];
    uint64_t active_day, alerted_day, by_cat_day[CAT_COUNT];
    uint64_t hostile, hostile_day;
    uint32_t nnamed;
    struct hostile_host named[SUMMARY_NAMED]; /* the weightiest hostile hosts (day view) */
};

#define DAY_MS (24ULL * 3600 * 1000)

/* Records go from the pipeline thread (the dispatcher: time, customer lookup, accounting, the
 * shard choice) to their worker through a single-producer single-consumer ring. With one
 * worker there is no thread: the ring is a batch the dispatcher runs itself. Either way a
 * worker takes records a batch at a time, prefetches every record's host-table buckets, then
 * runs them, so the cache misses of a batch overlap instead of queueing one after another. */
#define WQ_CAP 1024u     /* ring entries per worker (power of two) */
#define WQ_BATCH 32u     /* records looked up together; also how often the tail is published */
#define OUTBOX_CAP 32u   /* alerts a worker thread raised that the dispatcher has not taken */
#define OUTBOX_STR 12288 /* bytes for one queued alert's strings */

struct wq_ent {
    struct flow_rec f;
    uint64_t hash; /* hosttab_hash of the inside host */
    uint64_t seq;  /* dispatch order: alerts raised on worker threads are merged by it */
};

/* An alert raised on a worker thread while records flow (detectors raise almost all alerts at
 * window close, which runs on the dispatcher; a full blocklist hit table reports at once). */
struct outbox_ent {
    struct alert a;
    uint64_t seq, now_ms;
    struct alert_enrichment enrich[ALERT_ENRICH_MAX];
    char str[OUTBOX_STR];
};

struct worker {
    struct pipeline *p;
    uint32_t index;
    struct hosttab *hosts;
    void *det[SETTINGS_MAX_DETECTORS];
    struct det_ctx ctx;

    struct wq_ent *q;                   /* WQ_CAP entries */
    uint64_t tail;                      /* dispatcher: entries written */
    uint64_t head_seen;                 /* dispatcher: the worker's head when last read */
    _Alignas(64) _Atomic uint64_t tail_pub; /* written by the dispatcher */
    _Atomic uint32_t sleeping, wake;    /* futex handshake when the ring is empty */
    _Atomic bool stop;
    _Alignas(64) _Atomic uint64_t head; /* written by the worker: entries done */
    _Atomic uint64_t progress;          /* seq of the record the worker is on */
    struct outbox_ent *ob;              /* OUTBOX_CAP */
    _Atomic uint64_t ob_tail, ob_head;  /* worker writes tail, dispatcher head */
    pthread_t tid;
    bool started;                       /* its own thread runs it (else the dispatcher does) */
    uint64_t ob_truncated;              /* worker: alert strings that did not fit */
};

struct pipeline {
    const struct settings *s;
    bool replay;
    struct customer_map *customers;
    struct feed_set *feeds;
    /* replaced feed sets stay alive until the window closes: detectors hold entries of them */
    struct feed_set *retired[PIPELINE_MAX_RETIRED];
    size_t nretired;
    struct sinks *sinks;
    struct alert_mgr *alerts;
    struct hostility *hostility;

    const struct detector_ops *ops[SETTINGS_MAX_DETECTORS];
    const void *det_conf[SETTINGS_MAX_DETECTORS];
    size_t det_reg[SETTINGS_MAX_DETECTORS]; /* registry index of each enabled detector */
    /* per-customer option structs: cust_conf[customer * ndet + d], NULL = the defaults;
     * built from the [customer ID] overrides whenever a customer map comes in */
    void **cust_conf;
    size_t ncust_conf;
    const struct settings *ov; /* where [customer ID] overrides come from (reload: newer) */
    size_t state_off[SETTINGS_MAX_DETECTORS];
    size_t ndet, state_size;

    struct worker *workers;
    uint32_t nworkers;
    bool threaded;            /* workers 1.. run on threads of their own, 0 on this one */
    uint64_t seq;             /* records dispatched */

    struct cust_acc *acc;     /* customers_count + 1 */
    size_t nacc;

    uint64_t window_ms, lateness_ms, idle_ms, host_idle_ms;
    bool have_window;
    uint64_t win_start;       /* open window [win_start, win_start + window_ms) */
    uint64_t max_seen;        /* newest record end seen (event time) */
    uint64_t last_close_ms;   /* end of the last window closed */
    uint64_t last_flow_wall, max_seen_at_wall;

    struct pipeline_stats st;
    FILE *flow_log;
    pipeline_summary_fn *summary_tap; /* /metrics per-customer series (status.c) */
    pipeline_exporter_fn *exporter_addr; /* names flow_rec.exporter (the ingest's decoder) */
    void *exporter_arg;
    void *summary_tap_arg;
    char buf[ALERT_JSON_MAX];
};

static void quiesce(struct pipeline *p);
static int workers_start(struct pipeline *p);
static void workers_stop(struct pipeline *p);

static const char *ctx_customer_id(void *arg, uint32_t c)
{
    struct pipeline *p = arg;
    const struct customer *cu = customers_get(p->customers, c);
    return cu ? cu->id : NULL;
}

static size_t ctx_customer_prefixes(void *arg, uint32_t c, const struct prefix **out)
{
    struct pipeline *p = arg;
    return customers_prefixes(p->customers, c, out);
}

static const void *ctx_conf_for(void *arg, size_t det_index, uint32_t customer)
{
    struct pipeline *p = arg;
    if (det_index >= p->ndet)
        return NULL;
    if (p->cust_conf && customer < p->ncust_conf) {
        const void *c = p->cust_conf[(size_t)customer * p->ndet + det_index];
        if (c)
            return c;
    }
    /* after a reload, thresholds come from the reloaded file (capacities were fixed at init) */
    return p->ov ? p->ov->det_conf[p->det_reg[det_index]] : p->det_conf[det_index];
}

static const void *ctx_conf_named(void *arg, const char *name, uint32_t customer)
{
    struct pipeline *p = arg;
    for (size_t d = 0; d < p->ndet; d++)
        if (strcmp(p->ops[d]->name, name) == 0)
            return ctx_conf_for(p, d, customer);
    const struct settings *s = p->ov ? p->ov : p->s; /* not enabled: its section as read */
    for (size_t i = 0; i < det_registry_count && i < SETTINGS_MAX_DETECTORS; i++)
        if (strcmp(det_registry[i]->name, name) == 0)
            return s->det_conf[i];
    return NULL;
}

static void cust_conf_free(void **cc, size_t n)
{
    if (!cc)
        return;
    for (size_t i = 0; i < n; i++)
        free(cc[i]);
    free(cc);
}

/* Resolve every customer's overrides against the map m. 0 or -ENOMEM. */
static int cust_conf_build(struct pipeline *p, const struct customer_map *m, void ***out,
                           size_t *nout)
{
    *out = NULL;
    *nout = 0;
    const struct settings *ov = p->ov ? p->ov : p->s;
    if (!ov->noverrides || !p->ndet)
        return 0;
    size_t n = customers_count(m) + 1;
    void **cc = calloc(n * p->ndet, sizeof *cc);
    if (!cc)
        return -ENOMEM;
    for (size_t c = 1; c < n; c++) {
        const struct customer *cu = customers_get(m, (uint32_t)c);
        if (!cu || !settings_has_overrides(ov, cu->id))
            continue;
        for (size_t d = 0; d < p->ndet; d++) {
            void *blob = malloc(p->ops[d]->conf_size ? p->ops[d]->conf_size : 1);
            if (!blob) {
                cust_conf_free(cc, n * p->ndet);
                return -ENOMEM;
            }
            if (settings_det_conf_for(ov, p->det_reg[d], cu->id, blob) > 0) {
                cc[c * p->ndet + d] = blob;
            } else {
                free(blob);
            }
        }
    }
    *out = cc;
    *nout = n;
    return 0;
}

static size_t ctx_customer_count(void *arg)
{
    struct pipeline *p = arg;
    return customers_count(p->customers);
}

/* The worker's part of an alert: mark the host (its table belongs to the worker) with the
 * category and the alert's weight for the customer verdict (collector/hostility.h), and take
 * the exporter and interface that last reported it. */
static void mark_host(struct worker *w, struct alert *a)
{
    if (!a->has_host)
        return;
    struct host *h = hosttab_find(w->hosts, a->customer, a->host, NULL);
    if (h) {
        a->exporter = h->exporter;
        a->in_if = h->in_if;
    }
    if (h && (unsigned)a->category < CAT_COUNT) {
        uint8_t wt = hostility_alert_weight(&w->p->s->hostility, a);
        h->alert_cats |= 1u << a->category;
        h->cats_day |= 1u << a->category;
        h->last_alert_ms = w->ctx.win_end_ms;
        if (wt > h->weight[a->category])
            h->weight[a->category] = wt;
        if (wt > h->weight_day[a->category])
            h->weight_day[a->category] = wt;
    }
}

/* The dispatcher's part: name the customer and the exporter, suppress repeats, publish,
 * count. */
static void raise_alert(struct pipeline *p, const struct alert *in, uint64_t now_ms)
{
    struct alert a = *in;
    if (!rule_find(a.rule_id))
        p->st.alerts_without_rule++;
    if (a.exporter && p->exporter_addr)
        a.has_observer = p->exporter_addr(p->exporter_arg, a.exporter, a.observer_ip);
    const struct customer *cu = customers_get(p->customers, a.customer);
    a.customer_id = cu ? cu->id : "";
    a.customer_name = cu ? cu->name : "";
    a.customer_asn = cu ? cu->asn : 0;
    if (p->s->alerts && alert_mgr_raise(p->alerts, &a, now_ms) > 0 && a.customer &&
        a.customer < p->nacc)
        p->acc[a.customer].alerts++;
}

static void outbox_drain(struct pipeline *p);

/* The worker whose records this thread is running (NULL on the dispatcher otherwise). */
static _Thread_local struct worker *tl_worker;

static const char *ob_copy(char **at, char *end, const char *str, bool *cut)
{
    if (!str)
        return NULL;
    size_t n = strlen(str) + 1;
    if (n > (size_t)(end - *at)) {
        *cut = true;
        return NULL;
    }
    char *d = memcpy(*at, str, n);
    *at += n;
    return d;
}

/* Queue an alert raised on a worker thread for the dispatcher, strings copied (the detector's
 * buffers are borrowed only for this call). Waits while the outbox is full: the dispatcher
 * takes alerts of records older than every worker's current one, and one record raises at
 * most one alert per detector, far below OUTBOX_CAP. */
static void outbox_put(struct worker *w, const struct alert *a)
{
    uint64_t t = atomic_load_explicit(&w->ob_tail, memory_order_relaxed);
    for (unsigned spins = 0; t - atomic_load_explicit(&w->ob_head, memory_order_acquire) >= OUTBOX_CAP;
         spins++) {
        if (atomic_load_explicit(&w->stop, memory_order_relaxed))
            return;
        if (!w->started)
            outbox_drain(w->p); /* the dispatcher's own worker: it takes them itself */
        if (spins > 64)
            sched_yield();
    }
    struct outbox_ent *e = &w->ob[t % OUTBOX_CAP];
    e->a = *a;
    e->seq = atomic_load_explicit(&w->progress, memory_order_relaxed);
    e->now_ms = w->ctx.win_end_ms;
    char *at = e->str, *end = e->str + sizeof e->str;
    bool cut = false;
    e->a.detector = ob_copy(&at, end, a->detector, &cut);
    e->a.rule_id = ob_copy(&at, end, a->rule_id, &cut);
    e->a.rule_name = ob_copy(&at, end, a->rule_name, &cut);
    e->a.nenrich = a->nenrich < ALERT_ENRICH_MAX ? a->nenrich : ALERT_ENRICH_MAX;
    e->a.enrich = e->a.nenrich ? e->enrich : NULL;
    for (uint32_t i = 0; i < e->a.nenrich; i++) {
        e->enrich[i] = a->enrich[i];
        e->enrich[i].feed = ob_copy(&at, end, a->enrich[i].feed, &cut);
        e->enrich[i].matched = ob_copy(&at, end, a->enrich[i].matched, &cut);
        e->enrich[i].name = ob_copy(&at, end, a->enrich[i].name, &cut);
        e->enrich[i].reference = ob_copy(&at, end, a->enrich[i].reference, &cut);
    }
    e->a.evidence_json = ob_copy(&at, end, a->evidence_json, &cut);
    if (cut)
        w->ob_truncated++;
    atomic_store_explicit(&w->ob_tail, t + 1, memory_order_release);
}

static void worker_alert(void *arg, const struct alert *in)
{
    struct worker *w = arg;
    struct alert a = *in;
    rule_apply(&a);
    mark_host(w, &a);
    if (tl_worker == w)
        outbox_put(w, &a);
    else
        raise_alert(w->p, &a, w->ctx.win_end_ms);
}

/* Publish the alerts worker threads queued, in record order: an alert is taken once no worker
 * can still raise one for an earlier record (a worker with records left is on record
 * `progress` or later), so the order, and the replay output, never depend on thread timing. */
static void outbox_drain(struct pipeline *p)
{
    if (!p->threaded)
        return;
    uint64_t horizon = UINT64_MAX;
    for (uint32_t i = 0; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (atomic_load_explicit(&w->head, memory_order_acquire) != w->tail) {
            uint64_t pr = atomic_load_explicit(&w->progress, memory_order_acquire);
            if (pr < horizon)
                horizon = pr;
        }
    }
    for (;;) {
        struct worker *best = NULL;
        struct outbox_ent *be = NULL;
        for (uint32_t i = 0; i < p->nworkers; i++) {
            struct worker *w = &p->workers[i];
            uint64_t h = atomic_load_explicit(&w->ob_head, memory_order_relaxed);
            if (h == atomic_load_explicit(&w->ob_tail, memory_order_acquire))
                continue;
            struct outbox_ent *e = &w->ob[h % OUTBOX_CAP];
            if (e->seq < horizon && (!be || e->seq < be->seq)) {
                best = w;
                be = e;
            }
        }
        if (!best)
            return;
        raise_alert(p, &be->a, be->now_ms);
        atomic_store_explicit(&best->ob_head,
                              atomic_load_explicit(&best->ob_head, memory_order_relaxed) + 1,
                              memory_order_release);
    }
}

static int acc_resize(struct pipeline *p)
{
    size_t n = customers_count(p->customers) + 1;
    struct cust_acc *a = calloc(n, sizeof *a);
    if (!a)
        return -ENOMEM;
    free(p->acc);
    p->acc = a;
    p->nacc = n;
    return 0;
}

int pipeline_new(const struct settings *s, bool replay, struct customer_map *customers,
                 struct feed_set *feeds, struct sinks *sinks, struct pipeline **out)
{
    int rc = -ENOMEM;
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->s = s;
    p->replay = replay;
    p->customers = customers;
    p->feeds = feeds;
    p->sinks = sinks;
    p->window_ms = s->window * 1000;
    p->lateness_ms = s->lateness * 1000;
    p->idle_ms = s->idle_advance * 1000;
    p->host_idle_ms = s->host_idle * 1000;
    struct hash_key hk;
    if (replay || s->hash_seed)
        hash_key_from_seed(&hk, s->hash_seed ? s->hash_seed : 0x74777265706c6179ULL);
    else
        hash_key_random(&hk);

    for (size_t i = 0; i < det_registry_count && i < SETTINGS_MAX_DETECTORS; i++) {
        if (!settings_detector_enabled(s, det_registry[i]->name))
            continue;
        p->ops[p->ndet] = det_registry[i];
        p->det_conf[p->ndet] = s->det_conf[i];
        p->det_reg[p->ndet] = i;
        p->state_off[p->ndet] = p->state_size;
        p->state_size += (det_registry[i]->host_state_size + 7) & ~(size_t)7;
        p->ndet++;
    }
    if (alert_mgr_new(s->alerts_max, s->alert_suppress * 1000, s->incident_idle * 1000, sinks,
                      &p->alerts) < 0)
        goto fail;
    if ((rc = hostility_new(&s->hostility, &p->hostility)) < 0)
        goto fail;
    if (acc_resize(p) < 0)
        goto fail;
    if (cust_conf_build(p, customers, &p->cust_conf, &p->ncust_conf) < 0)
        goto fail;
    p->nworkers = s->workers ? s->workers : 1;
    p->workers = calloc(p->nworkers, sizeof *p->workers);
    if (!p->workers)
        goto fail;
    size_t per_worker = (s->hosts_max + p->nworkers - 1) / p->nworkers;
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct worker *w = &p->workers[wi];
        w->p = p;
        w->index = wi;
        /* one key for every worker's table: the record's host is hashed once (shard choice,
         * prefetch and lookup) */
        if ((rc = hosttab_new(per_worker, p->state_size, &hk, &w->hosts)) < 0)
            goto fail;
        w->q = malloc(WQ_CAP * sizeof *w->q);
        w->ob = p->nworkers > 1 ? malloc(OUTBOX_CAP * sizeof *w->ob) : NULL;
        if (!w->q || (p->nworkers > 1 && !w->ob)) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t d = 0; d < p->ndet; d++) {
            if ((rc = p->ops[d]->init(p->det_conf[d], &w->det[d])) < 0) {
                log_error("detector %s: init failed (%d)", p->ops[d]->name, rc);
                goto fail;
            }
        }
        w->ctx = (struct det_ctx){
            .worker = wi,
            .feeds = feeds,
            .customer_id = ctx_customer_id,
            .customer_prefixes = ctx_customer_prefixes,
            .customer_count = ctx_customer_count,
            .conf_for = ctx_conf_for,
            .conf_named = ctx_conf_named,
            .customers_arg = p,
            .alert = worker_alert,
            .alert_arg = w,
        };
    }
    p->threaded = p->nworkers > 1;
    if (p->threaded && (rc = workers_start(p)) < 0) {
        log_error("cannot start the worker threads");
        goto fail;
    }
    *out = p;
    return 0;
fail:
    if (p) {
        p->customers = NULL; /* the caller keeps what it passed when we fail */
        p->feeds = NULL;
        pipeline_free(p);
    }
    return rc;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    if (p->workers && p->workers[0].q)
        quiesce(p);
    workers_stop(p);
    for (uint32_t wi = 0; p->workers && wi < p->nworkers; wi++) {
        struct worker *w = &p->workers[wi];
        for (size_t d = 0; d < p->ndet; d++)
            if (w->det[d])
                p->ops[d]->fini(w->det[d]);
        hosttab_free(w->hosts);
        free(w->q);
        free(w->ob);
    }
    free(p->workers);
    alert_mgr_free(p->alerts);
    hostility_free(p->hostility);
    free(p->acc);
    cust_conf_free(p->cust_conf, p->ncust_conf * p->ndet);
    customers_free(p->customers);
    feed_set_free(p->feeds);
    for (size_t i = 0; i < p->nretired; i++)
        feed_set_free(p->retired[i]);
    free(p);
}

static void set_ctx_window(struct pipeline *p)
{
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct det_ctx *c = &p->workers[wi].ctx;
        c->win_start_ms = p->win_start;
        c->win_end_ms = p->win_start + p->window_ms;
        c->window_no = (uint32_t)(p->win_start / p->window_ms);
        c->feeds = p->feeds;
    }
}

struct close_arg {
    struct worker *w;
    uint32_t window_no;
    uint64_t win_end;
    int pass;
};

/* Keep the customer's SUMMARY_NAMED weightiest hostile hosts (day weight, then window
 * weight, then the lower address): the same list whatever order the hosts are visited in. */
static bool named_before(const struct hostile_host *x, const struct hostile_host *y)
{
    if (x->weight_day != y->weight_day)
        return x->weight_day > y->weight_day;
    if (x->weight != y->weight)
        return x->weight > y->weight;
    return memcmp(x->addr, y->addr, 16) < 0;
}

static void name_host(struct cust_acc *a, const struct host *h)
{
    struct hostile_host c;
    memset(&c, 0, sizeof c);
    memcpy(c.addr, h->addr, 16);
    c.weight = (uint16_t)hostility_host_weight(h->weight);
    c.weight_day = (uint16_t)hostility_host_weight(h->weight_day);
    c.cats_day = h->cats_day;
    uint32_t at = a->nnamed < SUMMARY_NAMED ? a->nnamed : SUMMARY_NAMED;
    while (at > 0 && named_before(&c, &a->named[at - 1])) {
        if (at < SUMMARY_NAMED)
            a->named[at] = a->named[at - 1];
        at--;
    }
    if (at < SUMMARY_NAMED)
        a->named[at] = c;
    if (a->nnamed < SUMMARY_NAMED)
        a->nnamed++;
}

static bool close_visit(void *arg, struct host *h, void *state)
{
    struct close_arg *ca = arg;
    struct pipeline *p = ca->w->p;
    if (ca->pass == 0) {
        if (h->window != ca->window_no)
            return false;
        for (size_t d = 0; d < p->ndet; d++) {
            if (!p->ops[d]->on_host_window)
                continue;
            ca->w->ctx.det_index = d;
            p->ops[d]->on_host_window(ca->w->det[d], &ca->w->ctx, h,
                                      state ? (uint8_t *)state + p->state_off[d] : NULL);
        }
        return false;
    }
    if (h->customer < p->nacc) {
        struct cust_acc *a = &p->acc[h->customer];
        const struct hostility_conf *hc = &p->s->hostility;
        bool hostile = false;
        if (h->window == ca->window_no) {
            a->active++;
            if (h->alert_cats)
                a->alerted++;
            for (int c = 0; c < CAT_COUNT; c++)
                if (h->alert_cats & (1u << c))
                    a->by_cat[c]++;
            hostile = h->alert_cats && hostility_host_hostile(hc, h->weight);
            a->hostile += hostile;
        }
        /* the day view: hosts seen / alerted within 24 h of this window's end (as long as the
         * host table keeps them: host_idle and its capacity bound it) */
        if (h->last_alert_ms + DAY_MS <= ca->win_end) {
            h->cats_day = 0;
            memset(h->weight_day, 0, sizeof h->weight_day);
        }
        if (h->last_ms + DAY_MS > ca->win_end) {
            a->active_day++;
            if (h->cats_day) {
                a->alerted_day++;
                for (int c = 0; c < CAT_COUNT; c++)
                    if (h->cats_day & (1u << c))
                        a->by_cat_day[c]++;
                if (hostility_host_hostile(hc, h->weight_day)) {
                    a->hostile_day++;
                    name_host(a, h);
                }
            }
        }
    }
    h->alert_cats = 0;
    memset(h->weight, 0, sizeof h->weight);
    return h->last_ms + p->host_idle_ms < ca->win_end;
}

/* The incidents of the day that made each named host hostile (the alert manager's). */
static void name_incidents(struct pipeline *p, uint32_t customer, struct summary *s)
{
    uint64_t since = s->win_end_ms > DAY_MS ? s->win_end_ms - DAY_MS : 0;
    for (uint32_t i = 0; i < s->nnamed; i++) {
        struct summary_host *h = &s->named[i];
        struct alert_incident inc[SUMMARY_INCIDENTS];
        size_t n = alert_mgr_host_incidents(p->alerts, customer, h->h.addr, since, inc, SUMMARY_INCIDENTS);
        h->incidents_total = (uint32_t)n;
        h->nincidents = n < SUMMARY_INCIDENTS ? (uint32_t)n : SUMMARY_INCIDENTS;
        for (uint32_t k = 0; k < h->nincidents; k++) {
            memcpy(h->incidents[k].event_id, inc[k].event_id, sizeof h->incidents[k].event_id);
            snprintf(h->incidents[k].rule_id, sizeof h->incidents[k].rule_id, "%s", inc[k].rule_id);
        }
    }
}

static void emit_summaries(struct pipeline *p)
{
    for (size_t c = 1; c < p->nacc; c++) {
        struct cust_acc *a = &p->acc[c];
        if (!a->out.flows && !a->in.flows && !a->internal.flows && !a->alerts && !a->alerted_day)
            continue;
        const struct customer *cu = customers_get(p->customers, (uint32_t)c);
        struct summary s = {
            .customer_id = cu ? cu->id : "",
            .customer_name = cu ? cu->name : "",
            .customer_asn = cu ? cu->asn : 0,
            .win_start_ms = p->win_start,
            .win_end_ms = p->win_start + p->window_ms,
            .out = a->out,
            .in = a->in,
            .internal = a->internal,
            .active_hosts = a->active,
            .hosts_alerted = a->alerted,
            .active_hosts_day = a->active_day,
            .hosts_alerted_day = a->alerted_day,
            .hostile_hosts = a->hostile,
            .hostile_hosts_day = a->hostile_day,
            .nnamed = a->nnamed,
            .alerts = a->alerts,
            .late_flows = a->late,
        };
        memcpy(s.hosts_by_cat, a->by_cat, sizeof s.hosts_by_cat);
        memcpy(s.hosts_by_cat_day, a->by_cat_day, sizeof s.hosts_by_cat_day);
        for (uint32_t i = 0; i < a->nnamed && i < SUMMARY_NAMED; i++)
            s.named[i].h = a->named[i];
        name_incidents(p, (uint32_t)c, &s);
        { /* the customer's hostility score (collector/hostility.c) */
            struct alert ha;
            char hev[HOSTILITY_EVIDENCE_MAX];
            if (p->s->alerts && hostility_window(p->hostility, (uint32_t)c, &s, &ha, hev, sizeof hev) == 1) {
                rule_apply(&ha);
                if (alert_mgr_raise(p->alerts, &ha, s.win_end_ms) > 0)
                    s.alerts++;
            }
        }
        p->st.summaries++;
        if (p->summary_tap)
            p->summary_tap(p->summary_tap_arg, (uint32_t)c, &s);
        if (!p->s->summaries)
            continue;
        int len = summary_json_format(&s, p->buf, sizeof p->buf);
        if (len > 0)
            sinks_publish(p->sinks, MSG_SUMMARY, s.customer_id, strlen(s.customer_id), p->buf,
                          (size_t)len);
    }
    memset(p->acc, 0, p->nacc * sizeof *p->acc);
}

static void close_window(struct pipeline *p)
{
    uint32_t wno = (uint32_t)(p->win_start / p->window_ms);
    /* cross-worker views first (every worker is idle: the caller quiesced them) */
    for (size_t d = 0; d < p->ndet; d++) {
        if (!p->ops[d]->on_window_merge)
            continue;
        void *selves[SETTINGS_MAX_WORKERS];
        size_t n = 0;
        for (uint32_t wi = 0; wi < p->nworkers && n < SETTINGS_MAX_WORKERS; wi++)
            selves[n++] = p->workers[wi].det[d];
        p->workers[0].ctx.det_index = d;
        p->ops[d]->on_window_merge(selves, n, &p->workers[0].ctx);
    }
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct close_arg ca = {&p->workers[wi], wno, p->win_start + p->window_ms, 0};
        hosttab_foreach(p->workers[wi].hosts, close_visit, &ca);
        for (size_t d = 0; d < p->ndet; d++) {
            if (!p->ops[d]->on_window)
                continue;
            p->workers[wi].ctx.det_index = d;
            p->ops[d]->on_window(p->workers[wi].det[d], &p->workers[wi].ctx);
        }
    }
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct close_arg ca = {&p->workers[wi], wno, p->win_start + p->window_ms, 1};
        hosttab_foreach(p->workers[wi].hosts, close_visit, &ca);
    }
    emit_summaries(p);
    p->st.windows_closed++;
    p->last_close_ms = p->win_start + p->window_ms;
    for (size_t i = 0; i < p->nretired; i++)
        feed_set_free(p->retired[i]);
    p->nretired = 0;
}

/* Close every window the watermark has passed. */
static void advance(struct pipeline *p)
{
    if (!p->have_window || p->max_seen < p->lateness_ms)
        return;
    uint64_t wm = p->max_seen - p->lateness_ms;
    unsigned closes = 0;
    if (wm >= p->win_start + p->window_ms)
        quiesce(p);
    while (wm >= p->win_start + p->window_ms) {
        close_window(p);
        p->win_start += p->window_ms;
        if (++closes >= MAX_EMPTY_CLOSES && wm >= p->win_start + p->window_ms)
            p->win_start = wm / p->window_ms * p->window_ms;
    }
    if (closes)
        set_ctx_window(p);
}

static void account(struct cust_acc *a, int dir, const struct flow_rec *f)
{
    struct traffic *t = dir == FLOW_DIR_OUT ? &a->out : dir == FLOW_DIR_IN ? &a->in : &a->internal;
    t->bytes += f->bytes;
    t->packets += f->packets;
    t->flows++;
}

static void log_flow(struct pipeline *p, const struct flow_rec *f)
{
    static const char *const dirs[4] = {"none", "outbound", "inbound", "internal"};
    char buf[512];
    struct json j;
    json_init(&j, buf, sizeof buf - 1);
    json_obj_open(&j, NULL);
    json_addr(&j, "src", f->src);
    json_addr(&j, "dst", f->dst);
    json_u64(&j, "sport", f->sport);
    json_u64(&j, "dport", f->dport);
    json_u64(&j, "proto", f->proto);
    json_u64(&j, "tcp_flags", f->tcp_flags);
    json_u64(&j, "bytes", f->bytes);
    json_u64(&j, "packets", f->packets);
    json_u64(&j, "first", f->first_ms);
    json_u64(&j, "last", f->last_ms);
    json_u64(&j, "sampling", f->sampling);
    json_str(&j, "direction", dirs[f->dir & 3]);
    const struct customer *cu = customers_get(p->customers, f->customer);
    json_str(&j, "customer", cu ? cu->id : "");
    json_obj_close(&j);
    if (!json_error(&j)) {
        buf[json_len(&j)] = '\n';
        fwrite(buf, 1, json_len(&j) + 1, p->flow_log);
    }
}

void pipeline_set_flow_log(struct pipeline *p, FILE *f)
{
    p->flow_log = f;
}

void pipeline_set_exporter_names(struct pipeline *p, pipeline_exporter_fn *fn, void *arg)
{
    p->exporter_addr = fn;
    p->exporter_arg = arg;
}

void pipeline_set_summary_tap(struct pipeline *p, pipeline_summary_fn *fn, void *arg)
{
    p->summary_tap = fn;
    p->summary_tap_arg = arg;
}

/* The worker's part of a record: its host, then every detector. */
static void track(struct worker *w, const struct flow_rec *f, uint64_t hash)
{
    struct pipeline *p = w->p;
    bool inserted;
    void *state;
    uint32_t wno = w->ctx.window_no;
    struct host *h = hosttab_get_hashed(w->hosts, hash, f->customer, flow_inside(f), wno,
                                        &inserted, &state);
    if (inserted)
        h->first_ms = f->first_ms;
    h->window = wno;
    if (f->last_ms > h->last_ms)
        h->last_ms = f->last_ms;
    if (f->exporter) {
        h->exporter = f->exporter;
        h->in_if = f->in_if;
    }
    for (size_t d = 0; d < p->ndet; d++) {
        w->ctx.det_index = d;
        p->ops[d]->on_flow(w->det[d], &w->ctx, h,
                           state ? (uint8_t *)state + p->state_off[d] : NULL, f);
    }
}

/* Entries [from, from + n) of w's ring: prefetch all their buckets, then run them. progress
 * tells outbox_drain which record the worker is on. */
static void worker_batch(struct worker *w, uint64_t from, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        hosttab_prefetch(w->hosts, w->q[(from + i) & (WQ_CAP - 1)].hash);
    for (uint64_t i = 0; i < n; i++) {
        const struct wq_ent *e = &w->q[(from + i) & (WQ_CAP - 1)];
        atomic_store_explicit(&w->progress, e->seq, memory_order_release);
        track(w, &e->f, e->hash);
    }
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val)
{
    return syscall(SYS_futex, (uint32_t *)addr, op, val, NULL, NULL, 0);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    tl_worker = w;
    uint64_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    for (;;) {
        uint64_t tail = atomic_load_explicit(&w->tail_pub, memory_order_acquire);
        if (tail == head) {
            if (atomic_load_explicit(&w->stop, memory_order_acquire))
                break;
            /* spin a little (records come in bursts), then sleep until the dispatcher wakes */
            bool more = false;
            for (unsigned i = 0; i < 200 && !more; i++) {
                __builtin_ia32_pause();
                more = atomic_load_explicit(&w->tail_pub, memory_order_acquire) != head;
            }
            if (more)
                continue;
            uint32_t v = atomic_load(&w->wake);
            atomic_store(&w->sleeping, 1);
            if (atomic_load(&w->tail_pub) == head && !atomic_load(&w->stop))
                futex(&w->wake, FUTEX_WAIT_PRIVATE, v);
            atomic_store(&w->sleeping, 0);
            continue;
        }
        uint64_t n = tail - head < WQ_BATCH ? tail - head : WQ_BATCH;
        worker_batch(w, head, n);
        head += n;
        atomic_store_explicit(&w->head, head, memory_order_release);
    }
    return NULL;
}

static void worker_wake(struct worker *w)
{
    if (atomic_load(&w->sleeping)) {
        atomic_fetch_add(&w->wake, 1);
        futex(&w->wake, FUTEX_WAKE_PRIVATE, 1);
    }
}

/* Make what the dispatcher wrote visible to the worker. */
static void publish(struct worker *w)
{
    if (atomic_load_explicit(&w->tail_pub, memory_order_relaxed) == w->tail)
        return;
    atomic_store(&w->tail_pub, w->tail); /* sequentially consistent: pairs with `sleeping` */
    worker_wake(w);
}

/* Run the pending records of a worker that has no thread (worker 0) on this one. With other
 * workers on threads its alerts queue too, so all are merged in record order. */
static void run_here(struct pipeline *p, struct worker *w)
{
    if (w->tail == w->head_seen)
        return;
    if (p->threaded)
        tl_worker = w;
    worker_batch(w, w->head_seen, w->tail - w->head_seen);
    tl_worker = NULL;
    w->head_seen = w->tail;
    atomic_store_explicit(&w->head, w->tail, memory_order_release);
}

/* Hand a classified record to its worker. */
static void dispatch(struct pipeline *p, struct worker *w, const struct flow_rec *f, uint64_t hash)
{
    if (w->started && w->tail - w->head_seen >= WQ_CAP) {
        w->head_seen = atomic_load_explicit(&w->head, memory_order_acquire);
        if (w->tail - w->head_seen >= WQ_CAP) {
            p->st.queue_waits++;
            publish(w);
            run_here(p, &p->workers[0]); /* do our own share while waiting */
            for (unsigned spins = 0; w->tail - w->head_seen >= WQ_CAP; spins++) {
                outbox_drain(p); /* the worker may wait on its outbox */
                if (spins > 64)
                    sched_yield();
                else
                    __builtin_ia32_pause();
                w->head_seen = atomic_load_explicit(&w->head, memory_order_acquire);
            }
        }
    }
    struct wq_ent *e = &w->q[w->tail & (WQ_CAP - 1)];
    e->f = *f;
    e->hash = hash;
    e->seq = ++p->seq;
    w->tail++;
    if (!w->started) {
        if (w->tail - w->head_seen >= WQ_BATCH)
            run_here(p, w);
    } else if (w->tail - atomic_load_explicit(&w->tail_pub, memory_order_relaxed) >= WQ_BATCH) {
        publish(w);
        outbox_drain(p);
    }
}

/* Every worker's pending records go: published to its thread, or run here for worker 0. */
static void hand_over(struct pipeline *p)
{
    for (uint32_t i = 0; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (w->started)
            publish(w);
        else
            run_here(p, w);
    }
}

/* Run every dispatched record to the end and take the alerts it raised: afterwards the
 * dispatcher may read and change worker state (window close, reload, statistics). */
static void quiesce(struct pipeline *p)
{
    hand_over(p);
    if (!p->threaded)
        return;
    for (uint32_t i = 0; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (!w->started)
            continue;
        for (unsigned spins = 0; atomic_load_explicit(&w->head, memory_order_acquire) != w->tail;
             spins++) {
            outbox_drain(p);
            if (spins > 64)
                sched_yield();
            else
                __builtin_ia32_pause();
        }
        w->head_seen = w->tail;
    }
    outbox_drain(p); /* every worker idle: everything queued is taken */
}

static int workers_start(struct pipeline *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with the main thread */
    int rc = 0;
    for (uint32_t i = 1; i < p->nworkers && rc == 0; i++) { /* worker 0: the dispatcher */
        struct worker *w = &p->workers[i];
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            rc = -EAGAIN;
            break;
        }
        w->started = true;
        char name[16]; /* the kernel's limit; workers <= 64 keeps the number short */
        snprintf(name, sizeof name, "tw-worker-%u", (unsigned)(uint8_t)i);
        pthread_setname_np(w->tid, name);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void workers_stop(struct pipeline *p)
{
    for (uint32_t i = 0; p->workers && i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (!w->started)
            continue;
        atomic_store(&w->stop, true);
        atomic_fetch_add(&w->wake, 1);
        futex(&w->wake, FUTEX_WAKE_PRIVATE, 1);
        pthread_join(w->tid, NULL);
        w->started = false;
    }
}

static void classify_and_track(struct pipeline *p, struct flow_rec *f);

void pipeline_flow(void *arg, struct flow_rec *f)
{
    struct pipeline *p = arg;
    classify_and_track(p, f);
    if (p->flow_log)
        log_flow(p, f);
}

/* To the worker that owns the record's inside host (a hash of the address alone). */
static void dispatch_inside(struct pipeline *p, const struct flow_rec *f)
{
    uint64_t hash = hosttab_hash(p->workers[0].hosts, flow_inside(f)); /* one key for every worker */
    uint32_t wi = p->nworkers > 1 ? (uint32_t)(hash_mix64(hash) % p->nworkers) : 0;
    dispatch(p, &p->workers[wi], f, hash);
}

static void classify_and_track(struct pipeline *p, struct flow_rec *f)
{
    p->st.flows++;
    p->st.bytes += f->bytes;
    p->st.packets += f->packets;

    /* Times are never rewritten. A record the decoder found far from its exporter's clock
     * (daemon only) keeps its times but may not move event time: it is late or in the open
     * window, never the one that closes windows. */
    bool skewed = f->flags & FLOW_F_CLOCK_SKEW;
    if (skewed)
        p->st.time_skew++;
    if (!p->have_window) {
        quiesce(p);
        p->have_window = true;
        p->win_start = f->last_ms / p->window_ms * p->window_ms;
        set_ctx_window(p);
    }
    if (!skewed && f->last_ms > p->max_seen)
        p->max_seen = f->last_ms;
    advance(p);

    uint32_t cs = customers_lookup(p->customers, f->src);
    uint32_t cd = customers_lookup(p->customers, f->dst);
    if (!cs && f->src_as)
        cs = customers_lookup_as(p->customers, f->src_as);
    if (!cd && f->dst_as)
        cd = customers_lookup_as(p->customers, f->dst_as);
    f->peer_customer = 0;
    if (cs && cd) {
        f->dir = FLOW_DIR_INTERNAL;
        f->customer = cs;
        f->peer_customer = cd;
    } else if (cs) {
        f->dir = FLOW_DIR_OUT;
        f->customer = cs;
    } else if (cd) {
        f->dir = FLOW_DIR_IN;
        f->customer = cd;
    } else {
        f->dir = FLOW_DIR_NONE;
        p->st.unmatched++;
        p->st.by_dir[FLOW_DIR_NONE]++;
        return;
    }
    p->st.by_dir[f->dir]++;
    bool late = f->last_ms < p->win_start;
    if (late) {
        f->flags |= FLOW_F_LATE;
        p->st.late++;
    }
    if (f->customer < p->nacc) {
        account(&p->acc[f->customer], f->dir, f);
        if (late)
            p->acc[f->customer].late++;
    }
    if (f->dir == FLOW_DIR_INTERNAL && f->peer_customer < p->nacc)
        account(&p->acc[f->peer_customer], FLOW_DIR_INTERNAL, f);

    dispatch_inside(p, f);
    if (f->dir == FLOW_DIR_INTERNAL) {
        /* Both ends are customers' hosts: the destination's shard gets the record too, as an
         * inbound one of its customer (what the destination received: a probe's answer that
         * the prober's shard joins, an answer's bytes), exactly as if it came from outside.
         * Counted once above; the flow log shows the record once. */
        struct flow_rec in = *f;
        in.dir = FLOW_DIR_IN;
        in.customer = cd;
        in.peer_customer = cs;
        dispatch_inside(p, &in);
    }
}

void pipeline_tick(struct pipeline *p, uint64_t wall_ms)
{
    hand_over(p); /* records waiting for a full batch go now (a quiet exporter's last ones) */
    outbox_drain(p);
    if (p->st.flows && p->last_flow_wall == 0) {
        p->last_flow_wall = wall_ms;
        p->max_seen_at_wall = p->max_seen;
    }
    if (p->max_seen != p->max_seen_at_wall) { /* records came since the last tick */
        p->last_flow_wall = wall_ms;
        p->max_seen_at_wall = p->max_seen;
        return;
    }
    if (!p->have_window || wall_ms < p->last_flow_wall + p->idle_ms)
        return;
    p->max_seen = p->max_seen_at_wall + (wall_ms - p->last_flow_wall);
    p->max_seen_at_wall = p->max_seen;
    p->last_flow_wall = wall_ms;
    advance(p);
}

void pipeline_finish(struct pipeline *p)
{
    quiesce(p);
    if (!p->have_window)
        return;
    close_window(p);
    p->win_start += p->window_ms;
    set_ctx_window(p);
    p->have_window = false;
}

struct remap_arg {
    const struct customer_map *m;
};

static bool remap_host(void *arg, struct host *h, void *state)
{
    const struct remap_arg *ra = arg;
    h->customer = customers_lookup(ra->m, h->addr);
    return h->customer == 0; /* its address left every customer: forget it */
}

int pipeline_swap_lists(struct pipeline *p, struct customer_map *customers, struct feed_set *feeds)
{
    quiesce(p);
    if (feeds && p->nretired == PIPELINE_MAX_RETIRED) {
        customers_free(customers);
        feed_set_free(feeds);
        return -EBUSY;
    }
    if (customers) {
        /* Carry the open window's per-customer figures over by customer id; hosts keep their
         * state and take the customer their address now belongs to. */
        size_t n = customers_count(customers) + 1;
        struct cust_acc *acc = calloc(n, sizeof *acc);
        void **cc = NULL;
        size_t ncc = 0;
        if (!acc || cust_conf_build(p, customers, &cc, &ncc) < 0) {
            free(acc);
            customers_free(customers);
            feed_set_free(feeds);
            return -ENOMEM;
        }
        cust_conf_free(p->cust_conf, p->ncust_conf * p->ndet);
        p->cust_conf = cc;
        p->ncust_conf = ncc;
        for (size_t c = 1; c < p->nacc; c++) {
            const struct customer *old = customers_get(p->customers, (uint32_t)c);
            const struct customer *nw = old ? customers_find_id(customers, old->id) : NULL;
            if (!nw)
                continue;
            struct cust_acc *d = &acc[nw->index + 1], *o = &p->acc[c];
            d->out = o->out;
            d->in = o->in;
            d->internal = o->internal;
            d->alerts = o->alerts;
            d->late = o->late;
        }
        free(p->acc);
        p->acc = acc;
        p->nacc = n;
        struct remap_arg ra = {customers};
        for (uint32_t wi = 0; wi < p->nworkers; wi++)
            hosttab_foreach(p->workers[wi].hosts, remap_host, &ra);
        customers_free(p->customers);
        p->customers = customers;
    }
    if (feeds) {
        p->retired[p->nretired++] = p->feeds;
        p->feeds = feeds;
    }
    p->st.list_swaps++;
    set_ctx_window(p);
    return 0;
}

int pipeline_swap_overrides(struct pipeline *p, const struct settings *from)
{
    quiesce(p);
    const struct settings *old = p->ov;
    p->ov = from;
    void **cc;
    size_t ncc;
    if (cust_conf_build(p, p->customers, &cc, &ncc) < 0) {
        p->ov = old;
        return -ENOMEM;
    }
    cust_conf_free(p->cust_conf, p->ncust_conf * p->ndet);
    p->cust_conf = cc;
    p->ncust_conf = ncc;
    return 0;
}

void pipeline_stats(struct pipeline *p, struct pipeline_stats *out)
{
    quiesce(p);
    *out = p->st;
    alert_mgr_stats(p->alerts, &out->alerts);
    hostility_stats(p->hostility, &out->hostility_tracked, &out->hostility_refused);
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct hosttab_stats hs;
        hosttab_stats(p->workers[wi].hosts, &hs);
        out->host_evictions += hs.evictions;
        out->host_evictions_active += hs.evictions_active;
        out->hosts_active += hs.used;
        out->host_capacity += hs.capacity;
        out->alerts_truncated += p->workers[wi].ob_truncated;
    }
}

size_t pipeline_detector_counters(struct pipeline *p, struct det_counters *out, size_t max)
{
    quiesce(p);
    size_t n = 0;
    for (size_t d = 0; d < p->ndet && n < max; d++) {
        const struct detector_ops *ops = p->ops[d];
        if (!ops->counters || ops->ctr_size > sizeof out->v || ops->ctr_size % sizeof(uint64_t))
            continue; /* test_det_counters keeps every registered detector within the bound */
        struct det_counters *o = &out[n++];
        memset(o, 0, sizeof *o);
        o->ops = ops;
        for (uint32_t wi = 0; wi < p->nworkers; wi++) {
            uint64_t v[DET_CTR_MAX] = {0};
            ops->counters(p->workers[wi].det[d], v);
            for (size_t k = 0; k < ops->ctr_size / sizeof(uint64_t); k++)
                o->v[k] += v[k];
        }
    }
    return n;
}

uint64_t pipeline_last_window_end(const struct pipeline *p)
{
    return p->last_close_ms;
}

const struct customer_map *pipeline_customers(const struct pipeline *p)
{
    return p->customers;
}
