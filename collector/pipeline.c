#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alert_json.h"
#include "detector.h"
#include "hash.h"
#include "hostility.h"
#include "hosttab.h"
#include "json.h"
#include "log.h"
#include "summary.h"

#define MAX_SKEW_MS (24ULL * 3600 * 1000)
/* Beyond this many empty windows, time jumps instead of closing each one. */
#define MAX_EMPTY_CLOSES 4
#define PIPELINE_MAX_RETIRED 8

struct cust_acc {
    struct traffic out, in, internal;
    uint64_t alerts, late, active, alerted, by_cat[CAT_COUNT];
    uint64_t active_day, alerted_day, by_cat_day[CAT_COUNT];
};

#define DAY_MS (24ULL * 3600 * 1000)

struct worker {
    struct pipeline *p;
    uint32_t index;
    struct hosttab *hosts;
    void *det[SETTINGS_MAX_DETECTORS];
    struct det_ctx ctx;
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
    struct hash_key shard_key;

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

    struct cust_acc *acc;     /* customers_count + 1 */
    size_t nacc;

    uint64_t window_ms, lateness_ms, idle_ms, host_idle_ms;
    bool have_window;
    uint64_t win_start;       /* open window [win_start, win_start + window_ms) */
    uint64_t max_seen;        /* newest record end seen (event time) */
    uint64_t ref_ms;
    uint64_t last_flow_wall, max_seen_at_wall;

    struct pipeline_stats st;
    FILE *flow_log;
    char buf[ALERT_JSON_MAX];
};

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

static void worker_alert(void *arg, const struct alert *in)
{
    struct worker *w = arg;
    struct pipeline *p = w->p;
    struct alert a = *in;
    const struct customer *cu = customers_get(p->customers, a.customer);
    a.customer_id = cu ? cu->id : "";
    a.customer_name = cu ? cu->name : "";
    a.customer_asn = cu ? cu->asn : 0;
    if (a.has_host && (unsigned)a.category < CAT_COUNT) {
        struct host *h = hosttab_find(w->hosts, a.customer, a.host, NULL);
        if (h) {
            h->alert_cats |= 1u << a.category;
            h->cats_day |= 1u << a.category;
            h->last_alert_ms = w->ctx.win_end_ms;
        }
    }
    if (p->s->alerts && alert_mgr_raise(p->alerts, &a, w->ctx.win_end_ms) == 1 && a.customer &&
        a.customer < p->nacc)
        p->acc[a.customer].alerts++;
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
    p->shard_key = hk;

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
    if (alert_mgr_new(s->alerts_max, s->alert_suppress * 1000, sinks, &p->alerts) < 0)
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
        struct hash_key wk;
        hash_key_from_seed(&wk, hash_mix64(hk.k0 ^ (wi + 1)));
        if ((rc = hosttab_new(per_worker, p->state_size, &wk, &w->hosts)) < 0)
            goto fail;
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
            .customers_arg = p,
            .alert = worker_alert,
            .alert_arg = w,
        };
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
    for (uint32_t wi = 0; p->workers && wi < p->nworkers; wi++) {
        struct worker *w = &p->workers[wi];
        for (size_t d = 0; d < p->ndet; d++)
            if (w->det[d])
                p->ops[d]->fini(w->det[d]);
        hosttab_free(w->hosts);
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
        if (h->window == ca->window_no) {
            a->active++;
            if (h->alert_cats)
                a->alerted++;
            for (int c = 0; c < CAT_COUNT; c++)
                if (h->alert_cats & (1u << c))
                    a->by_cat[c]++;
        }
        /* the day view: hosts seen / alerted within 24 h of this window's end (as long as the
         * host table keeps them: host_idle and its capacity bound it) */
        if (h->last_alert_ms + DAY_MS <= ca->win_end)
            h->cats_day = 0;
        if (h->last_ms + DAY_MS > ca->win_end) {
            a->active_day++;
            if (h->cats_day) {
                a->alerted_day++;
                for (int c = 0; c < CAT_COUNT; c++)
                    if (h->cats_day & (1u << c))
                        a->by_cat_day[c]++;
            }
        }
    }
    h->alert_cats = 0;
    return h->last_ms + p->host_idle_ms < ca->win_end;
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
            .alerts = a->alerts,
            .late_flows = a->late,
        };
        memcpy(s.hosts_by_cat, a->by_cat, sizeof s.hosts_by_cat);
        memcpy(s.hosts_by_cat_day, a->by_cat_day, sizeof s.hosts_by_cat_day);
        { /* the customer's hostility score (collector/hostility.c) */
            struct alert ha;
            char hev[HOSTILITY_EVIDENCE_MAX];
            if (p->s->alerts && hostility_window(p->hostility, (uint32_t)c, &s, &ha, hev, sizeof hev) == 1 &&
                alert_mgr_raise(p->alerts, &ha, s.win_end_ms) == 1)
                s.alerts++;
        }
        p->st.summaries++;
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

static void classify_and_track(struct pipeline *p, struct flow_rec *f);

void pipeline_flow(void *arg, struct flow_rec *f)
{
    struct pipeline *p = arg;
    classify_and_track(p, f);
    if (p->flow_log)
        log_flow(p, f);
}

static void classify_and_track(struct pipeline *p, struct flow_rec *f)
{
    p->st.flows++;
    p->st.bytes += f->bytes;
    p->st.packets += f->packets;

    if (p->ref_ms) {
        uint64_t d = f->last_ms > p->ref_ms ? f->last_ms - p->ref_ms : p->ref_ms - f->last_ms;
        if (d > MAX_SKEW_MS) {
            uint64_t dur = f->last_ms >= f->first_ms ? f->last_ms - f->first_ms : 0;
            f->last_ms = p->ref_ms;
            f->first_ms = dur < p->ref_ms ? p->ref_ms - dur : 0;
            p->st.time_skew++;
        }
    }
    if (!p->have_window) {
        p->have_window = true;
        p->win_start = f->last_ms / p->window_ms * p->window_ms;
        set_ctx_window(p);
    }
    if (f->last_ms > p->max_seen)
        p->max_seen = f->last_ms;
    advance(p);

    uint32_t cs = customers_lookup(p->customers, f->src);
    uint32_t cd = customers_lookup(p->customers, f->dst);
    if (!cs && f->src_as)
        cs = customers_lookup_as(p->customers, f->src_as);
    if (!cd && f->dst_as)
        cd = customers_lookup_as(p->customers, f->dst_as);
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

    const uint8_t *inside = flow_inside(f);
    uint32_t wi = 0;
    if (p->nworkers > 1) {
        uint8_t k[20];
        memcpy(k, inside, 16);
        memcpy(k + 16, &f->customer, 4);
        wi = (uint32_t)(hash_bytes(&p->shard_key, k, sizeof k) % p->nworkers);
    }
    struct worker *w = &p->workers[wi];
    bool inserted;
    void *state;
    uint32_t wno = w->ctx.window_no;
    struct host *h = hosttab_get(w->hosts, f->customer, inside, wno, &inserted, &state);
    if (inserted)
        h->first_ms = f->first_ms;
    h->window = wno;
    if (f->last_ms > h->last_ms)
        h->last_ms = f->last_ms;
    for (size_t d = 0; d < p->ndet; d++) {
        w->ctx.det_index = d;
        p->ops[d]->on_flow(w->det[d], &w->ctx, h, state ? (uint8_t *)state + p->state_off[d] : NULL, f);
    }
}

void pipeline_set_ref_time(struct pipeline *p, uint64_t ref_ms)
{
    p->ref_ms = ref_ms;
}

void pipeline_tick(struct pipeline *p, uint64_t wall_ms)
{
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

void pipeline_stats(const struct pipeline *p, struct pipeline_stats *out)
{
    *out = p->st;
    alert_mgr_stats(p->alerts, &out->alerts);
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct hosttab_stats hs;
        hosttab_stats(p->workers[wi].hosts, &hs);
        out->host_evictions += hs.evictions;
        out->host_evictions_active += hs.evictions_active;
        out->hosts_active += hs.used;
        out->host_capacity += hs.capacity;
    }
}

const struct customer_map *pipeline_customers(const struct pipeline *p)
{
    return p->customers;
}
