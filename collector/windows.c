/* windows.c: event time (see pipeline_int.h). Windows close on the records' own end times
 * less the configured lateness (the watermark), so a replay gives the same output every time;
 * live, the wall clock also advances an idle watermark. At a close, with every worker quiesced:
 * detectors merge their cross-worker views (on the dispatcher, serial); then every worker closes
 * its own shard on the thread that runs its records, all at once (wk_close, close_shard): each
 * host's detectors report (on_host_window), each detector reports (on_window), and every host's
 * alert marks turn into the worker's per-customer counts and the day view; the dispatcher
 * merges the alerts (sorted by customer, host and rule: one order for any worker count) and the
 * workers' counts, and
 * one summary per customer with traffic (and its hostility verdict) goes out. Dispatcher
 * thread, except close_shard and what it calls. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_int.h"
#include "rules.h"

/* Beyond this many empty windows, time jumps instead of closing each one. */
#define MAX_EMPTY_CLOSES 4

int win_acc_resize(struct pipeline *p, size_t n, struct cust_acc **old)
{
    struct cust_acc *a[SETTINGS_MAX_WORKERS + 1]; /* the pipeline's, then each worker's */
    uint32_t k = 0;
    for (; k <= p->nworkers; k++)
        if (!(a[k] = calloc(n, sizeof *a[k])))
            break;
    if (k <= p->nworkers) {
        while (k > 0)
            free(a[--k]);
        return -ENOMEM;
    }
    if (old)
        *old = p->acc;
    else
        free(p->acc);
    p->acc = a[0];
    p->nacc = n;
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        free(p->workers[wi].acc);
        p->workers[wi].acc = a[wi + 1];
        p->workers[wi].nacc = n;
    }
    return 0;
}

void win_set_ctx(struct pipeline *p)
{
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct det_ctx *cs[2] = {&p->workers[wi].rec_ctx, &p->workers[wi].win_ctx};
        for (int k = 0; k < 2; k++) {
            cs[k]->win_start_ms = p->win_start;
            cs[k]->win_end_ms = p->win_start + p->window_ms;
            cs[k]->window_no = (uint32_t)(p->win_start / p->window_ms);
            cs[k]->feeds = p->feeds;
        }
    }
}

/* Window close reads and changes every worker's state: they must be idle (wk_quiesce). */
static void assert_quiesced(struct pipeline *p)
{
#ifndef NDEBUG
    for (uint32_t wi = 0; wi < p->nworkers; wi++)
        assert(ring_drained(&p->workers[wi].q));
#else
    (void)p;
#endif
}

/* A detector's on_host_window call, resolved once per close (close_shard) from the pipeline's
 * ops and the worker's instance, so a host's visit reads one array instead of four. */
struct close_call {
    void (*on_host_window)(void *self, struct det_ctx *ctx, struct host *h, void *hstate);
    void *self;
    size_t state_off, d;
};

struct close_arg {
    struct worker *w;
    uint32_t window_no;
    uint64_t win_end;
    /* the detectors with on_host_window, in order */
    size_t nhw;
    struct close_call hw[SETTINGS_MAX_DETECTORS];
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

static void name_add(struct cust_acc *a, const struct hostile_host *c)
{
    uint32_t at = a->nnamed < SUMMARY_NAMED ? a->nnamed : SUMMARY_NAMED;
    while (at > 0 && named_before(c, &a->named[at - 1])) {
        if (at < SUMMARY_NAMED)
            a->named[at] = a->named[at - 1];
        at--;
    }
    if (at < SUMMARY_NAMED)
        a->named[at] = *c;
    if (a->nnamed < SUMMARY_NAMED)
        a->nnamed++;
}

static void name_host(struct cust_acc *a, const struct host *h)
{
    struct hostile_host c;
    memset(&c, 0, sizeof c);
    memcpy(c.addr, h->addr, 16);
    c.weight = (uint16_t)hostility_host_weight(h->weight);
    c.weight_day = (uint16_t)hostility_host_weight(h->weight_day);
    c.cats_day = h->cats_day;
    name_add(a, &c);
}

/* A shard's figures of the close (pass 1, close_visit) into the pipeline's, and zeroed: sums,
 * and the named hosts as if one walk had seen them all (name_add keeps the same list in any
 * order). */
static void acc_merge(struct cust_acc *to, struct cust_acc *from, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        struct cust_acc *t = &to[c], *f = &from[c];
        t->active += f->active;
        t->alerted += f->alerted;
        t->hostile += f->hostile;
        t->active_day += f->active_day;
        t->alerted_day += f->alerted_day;
        t->hostile_day += f->hostile_day;
        for (int k = 0; k < CAT_COUNT; k++) {
            t->by_cat[k] += f->by_cat[k];
            t->by_cat_day[k] += f->by_cat_day[k];
        }
        for (uint32_t i = 0; i < f->nnamed && i < SUMMARY_NAMED; i++)
            name_add(t, &f->named[i]);
    }
    memset(from, 0, n * sizeof *from);
}

/* Pass 0 (close_shard): a host active in the closing window reports to every detector with
 * on_host_window, in their order. */
static bool close_report(void *arg, struct host *h, void *state)
{
    struct close_arg *ca = arg;
    if (h->window != ca->window_no)
        return false;
    struct det_ctx *ctx = &ca->w->win_ctx;
    for (const struct close_call *c = ca->hw, *end = c + ca->nhw; c < end; c++) {
        ctx->det_index = c->d;
        c->on_host_window(c->self, ctx, h, state ? (uint8_t *)state + c->state_off : NULL);
    }
    return false;
}

/* Pass 1 (close_shard): a host's alert marks into its customer's figures and the day view; true
 * (remove it) when it has been idle for host_idle. A function of its own (not close_report's
 * with a pass flag): its calls are for alerted hosts only, so the visit of any other host
 * saves and restores fewer registers. */
static bool close_visit(void *arg, struct host *h, void *state)
{
    (void)state;
    struct close_arg *ca = arg;
    struct pipeline *p = ca->w->p;
    if (h->customer < ca->w->nacc) {
        struct cust_acc *a = &ca->w->acc[h->customer];
        const struct hostility_conf *hc = &p->s->hostility;
        bool hostile = false;
        if (h->window == ca->window_no) {
            a->active += h->sent || h->alert_cats; /* it sent, or it is one the window names */
            if (h->alert_cats) {
                a->alerted++;
                for (int c = 0; c < CAT_COUNT; c++)
                    if (h->alert_cats & (1u << c))
                        a->by_cat[c]++;
                hostile = hostility_host_hostile(hc, h->weight);
                a->hostile += hostile;
            }
        }
        /* the day view: hosts seen / alerted within 24 h of this window's end (as long as the
         * host table keeps them: host_idle and its capacity bound it) */
        if (h->cats_day && (uint64_t)h->last_alert_win * p->window_ms + DAY_MS <= ca->win_end) {
            h->cats_day = 0;
            memset(h->weight_day, 0, sizeof h->weight_day);
        }
        if (h->last_ms + DAY_MS > ca->win_end) {
            a->active_day += h->sender || h->cats_day;
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
    /* Stores only what changes: most hosts have no alert, and a store would dirty a line of
     * every held host at every close (written back to memory once the table outgrows the cache).
     * A weight is never set without its category's bit (workers.c mark_host), nor a day weight
     * without cats_day's: a host with no bit has every weight 0 already. */
    if (h->alert_cats) {
        h->alert_cats = 0;
        memset(h->weight, 0, sizeof h->weight);
    }
    if (h->sent)
        h->sent = 0;
    /* forgotten after host_idle, an address that only received too: with sampled exports a
     * host's own packets can go unsampled for windows while its answers are not, and its
     * detectors' state (flood's baseline) must outlive that. When the table is full, such
     * addresses go first (hosttab get_slow). */
    return h->last_ms + p->host_idle_ms < ca->win_end;
}

/* The incidents of the day that made each named host hostile (the alert manager's). */
static void name_incidents(struct pipeline *p, struct summary *s)
{
    uint64_t since = s->win_end_ms > DAY_MS ? s->win_end_ms - DAY_MS : 0;
    for (uint32_t i = 0; i < s->nnamed; i++) {
        struct summary_host *h = &s->named[i];
        struct alert_incident inc[SUMMARY_INCIDENTS];
        size_t n = alert_mgr_host_incidents(p->alerts, s->customer_id, h->h.addr, since, inc,
                                            SUMMARY_INCIDENTS);
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
        if (s.win_end_ms <= p->summarized[c]) { /* re-read: made before (and its verdict) */
            p->st.summaries_repeated++;
            continue;
        }
        p->summarized[c] = s.win_end_ms;
        memcpy(s.hosts_by_cat, a->by_cat, sizeof s.hosts_by_cat);
        memcpy(s.hosts_by_cat_day, a->by_cat_day, sizeof s.hosts_by_cat_day);
        for (uint32_t i = 0; i < a->nnamed && i < SUMMARY_NAMED; i++)
            s.named[i].h = a->named[i];
        name_incidents(p, &s);
        { /* the customer's hostility score (collector/hostility.c) */
            struct alert ha;
            char hev[HOSTILITY_EVIDENCE_MAX];
            if (p->s->alerts &&
                hostility_window(p->hostility, (uint32_t)c, &s, &ha, hev, sizeof hev) == 1) {
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

/* Detector d's instances of every worker into selves (the cross-worker calls: on_window_merge,
 * share_export), worker 0's context set to d; their count. */
static size_t det_selves(struct pipeline *p, size_t d, void *selves[SETTINGS_MAX_WORKERS])
{
    size_t n = 0;
    for (uint32_t wi = 0; wi < p->nworkers && n < SETTINGS_MAX_WORKERS; wi++)
        selves[n++] = p->workers[wi].det[d];
    p->workers[0].win_ctx.det_index = d;
    return n;
}

/* One shard's close: pass 0, every host of the closing window reports (on_host_window), then
 * each detector (on_window); pass 1, the hosts' alert marks (on_window's too: after it) into w's
 * per-customer figures and the day view, idle hosts evicted. Pass 0 walks the table's positions
 * in order (the alerts on_host_window raises go out in that order: the same every run), skipped
 * when no detector has on_host_window; pass 1, whose figures are the same in any order, walks
 * the slots in memory order. Reads p's settings and open window only (the dispatcher changes
 * neither during a close). On the thread that runs w's records (wk_close). */
static void close_shard(struct worker *w)
{
    struct pipeline *p = w->p;
    struct close_arg ca = {.w = w,
                           .window_no = (uint32_t)(p->win_start / p->window_ms),
                           .win_end = p->win_start + p->window_ms};
    for (size_t d = 0; d < p->ndet; d++)
        if (p->ops[d]->on_host_window)
            ca.hw[ca.nhw++] =
                (struct close_call){p->ops[d]->on_host_window, w->det[d], p->state_off[d], d};
    if (ca.nhw) /* pass 0 calls nothing else: without such a detector, no walk */
        hosttab_foreach(w->hosts, close_report, &ca);
    for (size_t d = 0; d < p->ndet; d++) {
        if (!p->ops[d]->on_window)
            continue;
        w->win_ctx.det_index = d;
        p->ops[d]->on_window(w->det[d], &w->win_ctx);
    }
    /* pass 1: sums and a sorted list (name_add): the same in any order */
    hosttab_foreach_unordered(w->hosts, close_visit, &ca);
}

static void close_window(struct pipeline *p)
{
    assert(!pipe_broken(p)); /* a broken pipeline opens no window (pipeline.c open_window) */
    assert_quiesced(p);
    /* cross-worker views first (every worker is idle: the caller quiesced them) */
    for (size_t d = 0; d < p->ndet; d++) {
        if (!p->ops[d]->on_window_merge)
            continue;
        void *selves[SETTINGS_MAX_WORKERS];
        size_t n = det_selves(p, d, selves);
        p->ops[d]->on_window_merge(selves, n, &p->workers[0].win_ctx);
    }
    wk_close(p, close_shard); /* each shard's figures were sized with the pipeline's */
    for (uint32_t wi = 0; wi < p->nworkers; wi++)
        acc_merge(p->acc, p->workers[wi].acc, p->workers[wi].nacc);
    emit_summaries(p);
    p->st.windows_closed++;
    p->last_close_ms = p->win_start + p->window_ms;
    for (size_t i = 0; i < p->nretired; i++)
        feed_set_free(p->retired[i]);
    p->nretired = 0;
}

/* pipeline.h: the detectors' shared views (detect instances on Kafka). */
struct share_emit {
    pipeline_share_fn *fn;
    void *arg;
    uint32_t det;
};

static void share_emit(void *arg, const void *entry, size_t len)
{
    struct share_emit *se = arg;
    se->fn(se->arg, se->det, entry, len);
}

static uint32_t registry_index(const struct detector_ops *ops)
{
    for (size_t i = 0; i < det_registry_count; i++)
        if (det_registry[i] == ops)
            return (uint32_t)i;
    return UINT32_MAX;
}

size_t pipeline_share_export(struct pipeline *p, pipeline_share_fn *fn, void *arg)
{
    size_t out = 0;
    if (pipe_broken(p))
        return 0;
    wk_quiesce(p);
    for (size_t d = 0; d < p->ndet; d++) {
        if (!p->ops[d]->share_export)
            continue;
        void *selves[SETTINGS_MAX_WORKERS];
        size_t n = det_selves(p, d, selves);
        struct share_emit se = {fn, arg, registry_index(p->ops[d])};
        out += p->ops[d]->share_export(selves, n, &p->workers[0].win_ctx, share_emit, &se);
    }
    return out;
}

int pipeline_share_import(struct pipeline *p, uint32_t det, const void *entry, size_t len)
{
    if (pipe_broken(p))
        return -ENODEV;
    for (size_t d = 0; d < p->ndet; d++)
        if (p->ops[d]->share_import && det < det_registry_count && p->ops[d] == det_registry[det])
            return p->ops[d]->share_import(p->workers[0].det[d], entry, len);
    return -ENOENT;
}

/* Close every window the watermark has passed. */
void win_advance(struct pipeline *p)
{
    if (!p->have_window || p->max_seen < p->lateness_ms)
        return;
    uint64_t wm = p->max_seen - p->lateness_ms;
    unsigned closes = 0;
    if (wm >= p->win_start + p->window_ms)
        wk_quiesce(p);
    while (wm >= p->win_start + p->window_ms) {
        close_window(p);
        p->win_start += p->window_ms;
        if (++closes >= MAX_EMPTY_CLOSES && wm >= p->win_start + p->window_ms)
            p->win_start = wm / p->window_ms * p->window_ms;
        win_set_due(p);
        win_set_ctx(p); /* the next close's detectors see its own window */
    }
}

void win_tick(struct pipeline *p, uint64_t wall_ms)
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
    /* detect: a wall-clock advance would close windows whose records a held, slower or
     * unreachable partition still brings (then late, in another window than the single
     * process's); the collector's idle advance reaches detect as ticks */
    if (!p->have_window || p->collector_clock || wall_ms < p->last_flow_wall + p->idle_ms)
        return;
    p->max_seen = p->max_seen_at_wall + (wall_ms - p->last_flow_wall);
    p->max_seen_at_wall = p->max_seen;
    p->last_flow_wall = wall_ms;
    win_advance(p);
}

/* The last closes: the open window, then the one after it when records that end in it came
 * before the close (within lateness: detectors keep them for that window), so no record's
 * window goes unreported; the final one with last_close set. */
void win_finish(struct pipeline *p)
{
    wk_quiesce(p);
    if (!p->have_window)
        return;
    for (bool last = false; !last;) {
        last = p->max_seen < p->win_start + p->window_ms;
        for (uint32_t wi = 0; wi < p->nworkers; wi++)
            p->workers[wi].win_ctx.last_close = last;
        close_window(p);
        p->win_start += p->window_ms;
        win_set_ctx(p);
    }
    for (uint32_t wi = 0; wi < p->nworkers; wi++)
        p->workers[wi].win_ctx.last_close = false;
    p->have_window = false;
    win_set_due(p);
}
