/* pipeline.c: the pipeline's façade (see pipeline.h; its rooms: pipeline_int.h). Set-up and
 * tear-down, classification of each record (customers, direction, accounting, the shard),
 * reload of the lists and options, statistics, the flow log. */
#include "pipeline.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_json.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "pipeline_int.h"

/* ---- set-up ---- */

/* The enabled detectors, in registry order, with their slice of each host's state. */
static void pick_detectors(struct pipeline *p)
{
    const struct settings *s = p->s;
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
}

/* The shard map (who calls: workers_new, once per set of workers). Shard 0 runs on the
 * dispatcher, which also decodes, classifies and hands over every record: with N workers and
 * that work costing c percent of a record's host-table and detector work (`dispatcher_cost`),
 * shard 0 gets s0 = (100 - (N-1) c) / N percent of the buckets (at least 0) and the N-1 worker
 * threads the rest in equal parts, so each thread carries (nearly) the same work. Buckets are
 * hash bits, so a run of them is as good a sample of the hosts as any. counts[w]: w's buckets.
 * c is measured as 100 x (the dispatcher thread's instructions per record, less its window
 * close) / (the worker's, less its close) in a run with workers = 2 and c = 100, i.e. every host
 * on the worker: each worker closes its own shard at once and the run waits for the longer
 * close, the worker's, whatever the records' balance, so the records alone set the best share
 * (bench/RESULTS.md, issue 15, nineteenth part: 845.5 / 1 311.2 Ir = 64.5; the default stays 60,
 * within 1.5 % of it by that model, because at 65 int_workers' scan counters leave its 5 %
 * bound: eighteenth part). */
static void shard_map_build(struct pipeline *p, uint32_t counts[])
{
    uint32_t n = p->nworkers;
    int64_t s0 = 100 - (int64_t)(n - 1) * p->s->dispatcher_cost;
    uint32_t c0 = n == 1    ? PIPE_SHARD_BUCKETS
                  : s0 <= 0 ? 0
                            : (uint32_t)((uint64_t)PIPE_SHARD_BUCKETS * (uint64_t)s0 / (100u * n));
    uint32_t rest = PIPE_SHARD_BUCKETS - c0;
    counts[0] = c0;
    for (uint32_t wi = 1; wi < n; wi++)
        counts[wi] = rest / (n - 1) + (wi - 1 < rest % (n - 1));
    uint32_t b = 0;
    for (uint32_t wi = 0; wi < n; wi++)
        for (uint32_t k = 0; k < counts[wi]; k++)
            p->shard_of[b++] = (uint8_t)wi;
    assert(b == PIPE_SHARD_BUCKETS);
}

static int workers_new(struct pipeline *p)
{
    const struct settings *s = p->s;
    struct hash_key hk;
    if (p->replay || s->hash_seed)
        hash_key_from_seed(&hk, s->hash_seed ? s->hash_seed : 0x74777265706c6179ULL);
    else
        hash_key_random(&hk);
    p->nworkers = s->workers ? s->workers : 1;
    p->threaded = p->nworkers > 1;
    p->workers = calloc(p->nworkers, sizeof *p->workers);
    if (!p->workers)
        return -ENOMEM;
    uint32_t counts[SETTINGS_MAX_WORKERS];
    shard_map_build(p, counts);
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        /* one key for every worker's table: the record's host is hashed once (shard choice,
         * prefetch and lookup); its host table and detector tables hold its share of the
         * configured capacities */
        int rc = wk_init(p, &p->workers[wi], wi, &hk,
                         (struct det_share){counts[wi], PIPE_SHARD_BUCKETS});
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The workers (host tables, detector instances, threads), made anew (set-up and reset). */
static int fresh_workers(struct pipeline *p)
{
    int rc = workers_new(p);
    if (rc < 0)
        return rc;
    if (p->threaded && (rc = wk_start(p)) < 0) {
        log_error("cannot start the worker threads");
        return rc;
    }
    return 0;
}

/* Is the detector's counter snapshot slot at off a counter (not a gauge)? */
static bool det_slot_counts(const struct detector_ops *ops, size_t off)
{
    for (size_t i = 0; i < ops->nctr; i++)
        if (ops->ctr_defs[i].off == off && ops->ctr_defs[i].metric)
            return ops->ctr_defs[i].kind == CTR_COUNTER;
    return false;
}

/* The counters of the workers about to be dropped, kept: a reset does not take back what was
 * counted (a _total that went down would say it never happened). */
static void retire_counters(struct pipeline *p)
{
    for (uint32_t wi = 0; p->workers && wi < p->nworkers; wi++) {
        const struct worker *w = &p->workers[wi];
        for (size_t d = 0; d < p->ndet; d++) {
            const struct detector_ops *ops = p->ops[d];
            if (!w->det[d] || !ops->counters || ops->ctr_size > sizeof p->det_retired[d] ||
                ops->ctr_size % sizeof(uint64_t))
                continue;
            uint64_t v[DET_CTR_MAX] = {0};
            ops->counters(w->det[d], v);
            for (size_t k = 0; k < ops->ctr_size / sizeof(uint64_t); k++)
                if (det_slot_counts(ops, k * sizeof(uint64_t)))
                    p->det_retired[d][k] += v[k];
        }
        if (w->hosts) {
            struct hosttab_stats hs;
            hosttab_stats(w->hosts, &hs);
            p->retired_evictions += hs.evictions;
            p->retired_evictions_active += hs.evictions_active;
            p->retired_evictions_dark += hs.evictions_dark;
        }
        p->retired_truncated += w->ob_truncated;
        p->retired_outbox_waits += w->ob_waits;
    }
}

/* Tear down what fresh_workers made, also half-made (some tables or threads not): the pipeline
 * has no workers then (pipe_broken) until fresh_workers makes them. */
static void drop_workers(struct pipeline *p)
{
    bool ready = p->workers;
    for (uint32_t wi = 0; ready && wi < p->nworkers; wi++)
        ready = p->workers[wi].q_ok;
    if (ready)
        wk_quiesce(p);
    wk_stop(p);
    retire_counters(p);
    for (uint32_t wi = 0; p->workers && wi < p->nworkers; wi++)
        wk_fini(p, &p->workers[wi]);
    free(p->workers);
    p->workers = NULL;
    p->nworkers = 0;
}

int pipeline_new(const struct settings *s, bool replay, struct customer_map *customers,
                 struct feed_set *feeds, struct sinks *sinks, struct pipeline **out)
{
    int rc = -ENOMEM;
    void **cc = NULL;
    size_t ncc = 0;
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
    win_set_due(p); /* no window yet */
    pick_detectors(p);
    if (alert_mgr_new(s->alerts_max, s->alert_suppress * 1000, s->incident_idle * 1000, sinks,
                      &p->alerts) < 0) {
        log_error("incident table: cannot make it ([pipeline] alerts_max = %llu): %s; lower it "
                  "or give the process more memory",
                  (unsigned long long)s->alerts_max, strerror(ENOMEM));
        goto fail;
    }
    if ((rc = hostility_new(&s->hostility, &p->hostility)) < 0) {
        log_error("hostility table: cannot make it ([hostility] max_customers = %llu): %s; "
                  "lower it or give the process more memory",
                  (unsigned long long)s->hostility.max_customers, strerror(-rc));
        goto fail;
    }
    if ((rc = copt_build(p, customers, &cc, &ncc)) < 0)
        goto fail;
    copt_swap(p, cc, ncc);
    if ((rc = fresh_workers(p)) < 0 ||
        (rc = win_acc_resize(p, customers_count(customers) + 1, NULL)) < 0)
        goto fail;
    if (!(p->summarized = calloc(p->nacc, sizeof *p->summarized))) {
        rc = -ENOMEM;
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

int pipeline_reset(struct pipeline *p)
{
    drop_workers(p);
    p->have_window = false;
    p->win_start = p->max_seen = p->last_flow_wall = p->max_seen_at_wall = 0;
    win_set_due(p);
    for (size_t i = 0; i < p->nretired; i++)
        feed_set_free(p->retired[i]);
    p->nretired = 0;
    p->st.resets++;
    /* [pipeline] reserve_memory: the tables made anew are made resident, as at start */
    bool reserve = p->s->reserve_memory && !lines_reserving();
    if (reserve)
        lines_reserve_begin();
    int rc = fresh_workers(p);
    if (rc == 0)
        rc = win_acc_resize(p, p->nacc, NULL); /* the open window's figures, zeroed */
    if (reserve) {
        int e = lines_reserve_finish(" after a rebalance", rc == 0);
        rc = rc < 0 ? rc : e;
    }
    if (rc < 0) {
        drop_workers(p); /* what was made of them; the threads that started, stopped */
        p->st.reset_failures++;
        log_error("pipeline: cannot make its workers anew after a rebalance: %s; it runs no "
                  "more records",
                  strerror(-rc));
    }
    return rc;
}

bool pipeline_broken(const struct pipeline *p)
{
    return pipe_broken(p);
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    drop_workers(p);
    pipe_hold_free(p);
    alert_mgr_free(p->alerts);
    hostility_free(p->hostility);
    free(p->acc);
    free(p->summarized);
    copt_free(p->cust_conf, p->ncust_conf * p->ndet);
    customers_free(p->customers);
    feed_set_free(p->feeds);
    for (size_t i = 0; i < p->nretired; i++)
        feed_set_free(p->retired[i]);
    free(p);
}

/* ---- records ---- */

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

void pipeline_set_record_tap(struct pipeline *p, flow_emit_fn fn, void *arg)
{
    p->record_tap = fn;
    p->record_tap_arg = arg;
}

/* To the worker that owns the record's inside host: the shard map's entry for the address's hash
 * (with one worker, that worker).
 * Inlined into account_dispatch, per record: as a call of its own its register saves cost
 * about 13 instructions a record (callgrind, bench/RESULTS.md, issue 15, twenty-ninth part). */
static inline __attribute__((always_inline)) void dispatch_inside(struct pipeline *p,
                                                                  const struct flow_rec *f)
{
    uint64_t hash =
        hosttab_hash(p->workers[0].hosts, flow_inside(f)); /* one key for every worker */
    /* one worker (not threaded) owns every bucket: no mix of the hash for the map */
    struct worker *w = p->threaded ? &p->workers[p->shard_of[pipe_shard_bucket(hash)]] : p->workers;
    wk_dispatch(p, w, f, hash);
}

/* The first record since the start or a reset opens the window at start. false: the pipeline
 * is broken (a failed pipeline_reset) and runs no record. The check is here, where only the
 * first record of a run comes, so the records after it do not run it (callgrind, a replay of
 * 200 k mixed records: +1.2 of 2 500 instructions per record against main, the compiler's
 * layout of pipeline_flow, not this test). */
static bool open_window(struct pipeline *p, uint64_t start)
{
    if (pipe_broken(p))
        return false;
    wk_quiesce(p);
    p->have_window = true;
    p->win_start = start;
    win_set_due(p);
    win_set_ctx(p);
    return true;
}

/* Event time from the record's own end (replay, daemon, collect). false: not run (broken). */
static bool track_time(struct pipeline *p, const struct flow_rec *f)
{
    /* Times are never rewritten. A record the decoder found far from its exporter's clock
     * (daemon only) keeps its times but may not move event time: it is late or in the open
     * window, never the one that closes windows. */
    bool skewed = f->flags & FLOW_F_CLOCK_SKEW;
    if (skewed)
        p->st.time_skew++;
    if (!p->have_window && !open_window(p, f->last_ms / p->window_ms * p->window_ms))
        return false;
    if (!skewed && f->last_ms > p->max_seen)
        p->max_seen = f->last_ms;
    if (win_due(p))
        win_advance(p);
    return true;
}

/* Event time as the collector had it (detect): the windows before the record's close first.
 * false: not run (broken). */
static bool collector_time(struct pipeline *p, const struct flowpb_meta *m)
{
    /* the window's start rounded to our windows: a 64-bit division (tens of cycles) only when
     * the collector's window moved, its result kept for the records that follow in it */
    if (m->window_start_ms != p->part_from) {
        p->part_from = m->window_start_ms;
        p->part_start = m->window_start_ms / p->window_ms * p->window_ms;
        p->part_wm_max = p->part_start + p->window_ms + p->lateness_ms - 1;
        p->collector_clock = true;
    }
    uint64_t start = p->part_start;
    if (!p->have_window && !open_window(p, start))
        return false;
    if (start > p->win_start && start + p->lateness_ms > p->max_seen)
        p->max_seen = start + p->lateness_ms; /* closes exactly up to the record's window */
    /* the watermark closes at most the windows before the record's own: a collector's never
     * reaches that close (its window would have moved), one beyond it is not a collector's */
    if (m->watermark_ms > p->max_seen)
        p->max_seen = m->watermark_ms < p->part_wm_max ? m->watermark_ms : p->part_wm_max;
    win_advance(p);
    return true;
}

/* Customers of both ends and the direction; false (counted) when neither is a customer's, or
 * when a customer's host sends to a group address (addr_is_group: no peer to exchange with, a
 * LAN's SSDP, mDNS, LLMNR and DHCP announcements; counted apart).
 * Inlined into its two callers (pipeline_flow, pipeline_flow_part), as account_dispatch: per
 * record, their calls' register saves cost more than their bodies' branches (bench/RESULTS.md,
 * issue 15, eighth part). */
static inline __attribute__((always_inline)) bool classify(struct pipeline *p, struct flow_rec *f,
                                                           bool count)
{
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
        if (__builtin_expect(addr_is_group(f->dst), 0)) {
            f->dir = FLOW_DIR_NONE;
            p->st.to_group += count;
            return false;
        }
        f->dir = FLOW_DIR_OUT;
        f->customer = cs;
    } else if (cd) {
        f->dir = FLOW_DIR_IN;
        f->customer = cd;
    } else {
        f->dir = FLOW_DIR_NONE;
    }
    if (count) {
        p->st.by_dir[f->dir]++;
        p->st.unmatched += f->dir == FLOW_DIR_NONE;
    }
    if (f->dir != FLOW_DIR_NONE && f->last_ms < p->win_start) {
        f->flags |= FLOW_F_LATE;
        p->st.late += count;
    }
    return f->dir != FLOW_DIR_NONE;
}

/* A classified record's part (enum flowpb_part; a whole record: FLOWPB_PART_ALL) into the
 * customers' figures and to the workers that own its inside hosts. */
static inline __attribute__((always_inline)) void
account_dispatch(struct pipeline *p, struct flow_rec *f, uint32_t part)
{
    bool late = f->flags & FLOW_F_LATE;
    uint32_t cs = f->customer, cd = f->peer_customer;
    if (part != FLOWPB_PART_DST && cs < p->nacc) {
        win_account(&p->acc[cs], f->dir, f);
        if (late)
            p->acc[cs].late++;
    }
    /* the destination's customer too, when it is another one: traffic between two hosts of one
     * customer is its figures once, as every record is (its DST part, detect, is then not) */
    if (part != FLOWPB_PART_SRC && f->dir == FLOW_DIR_INTERNAL && cd < p->nacc && cd != cs)
        win_account(&p->acc[cd], FLOW_DIR_INTERNAL, f);
    if (part != FLOWPB_PART_DST)
        dispatch_inside(p, f);
    if (part != FLOWPB_PART_SRC && f->dir == FLOW_DIR_INTERNAL) {
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

static void count_record(struct pipeline *p, const struct flow_rec *f)
{
    p->st.flows++;
    p->st.bytes += f->bytes;
    p->st.packets += f->packets;
}

/* collect: when the window moved, a tick first (to every partition: pipeline.h). */
static void forward_tick(struct pipeline *p)
{
    if (!p->have_window || p->win_start == p->fwd_window)
        return;
    p->fwd_window = p->win_start;
    struct flowpb_meta m = {
        .part = FLOWPB_PART_TICK, .window_start_ms = p->win_start, .watermark_ms = p->max_seen};
    p->forward(p->forward_arg, NULL, &m);
}

/* collect: an internal record goes out once per customer (its two parts), every other
 * matched record once; the window and watermark as they are now. */
static void forward(struct pipeline *p, const struct flow_rec *f)
{
    forward_tick(p);
    struct flowpb_meta m = {.part = FLOWPB_PART_ALL,
                            .window_start_ms = p->win_start,
                            .watermark_ms = p->max_seen,
                            .seq = ++p->fwd_seq};
    if (f->exporter && p->exporter_addr)
        m.has_exporter = p->exporter_addr(p->exporter_arg, f->exporter, m.exporter);
    if (f->dir != FLOW_DIR_INTERNAL) {
        p->st.forwarded++;
        p->forward(p->forward_arg, f, &m);
        return;
    }
    p->st.forwarded += 2;
    m.part = FLOWPB_PART_SRC;
    p->forward(p->forward_arg, f, &m);
    m.part = FLOWPB_PART_DST;
    p->forward(p->forward_arg, f, &m);
}

void pipeline_flow(void *arg, struct flow_rec *f)
{
    struct pipeline *p = arg;
    count_record(p, f);
    if (track_time(p, f)) { /* else broken: counted, not run */
        if (classify(p, f, true)) {
            if (p->forward)
                forward(p, f);
            else
                account_dispatch(p, f, FLOWPB_PART_ALL);
        }
        if (p->flow_log)
            log_flow(p, f);
    }
    if (p->record_tap)
        p->record_tap(p->record_tap_arg, f);
}

void pipeline_flow_part(struct pipeline *p, struct flow_rec *f, const struct flowpb_meta *m)
{
    if (m->part == FLOWPB_PART_TICK) { /* the collector's window moved: only time */
        collector_time(p, m);
        return;
    }
    bool whole = m->part != FLOWPB_PART_DST; /* a record's DST part is counted with its SRC */
    if (whole)
        count_record(p, f);
    if (collector_time(p, m)) { /* else broken: counted, not run */
        if (classify(p, f, whole)) {
            if (m->part == FLOWPB_PART_ALL || f->dir == FLOW_DIR_INTERNAL)
                account_dispatch(p, f, m->part);
            else
                p->st.part_mismatch++; /* the collector's customer map is not ours */
        }
        if (p->flow_log && whole)
            log_flow(p, f);
    }
    if (p->record_tap && whole)
        p->record_tap(p->record_tap_arg, f);
}

void pipeline_set_forward(struct pipeline *p, pipeline_forward_fn *fn, void *arg)
{
    p->forward = fn;
    p->forward_arg = arg;
    struct timespec ts; /* records are numbered on from here (flowpb_meta.seq) */
    clock_gettime(CLOCK_REALTIME, &ts);
    p->fwd_seq = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void pipeline_tick(struct pipeline *p, uint64_t wall_ms)
{
    wk_hand_over(p); /* records waiting for a full batch go now (a quiet exporter's last ones) */
    wk_outbox_drain(p);
    win_tick(p, wall_ms);
    if (p->forward)
        forward_tick(p); /* the idle advance moved the window */
}

void pipeline_finish(struct pipeline *p)
{
    win_finish(p);
}

/* ---- reload ---- */

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
    wk_quiesce(p);
    if (feeds && p->nretired == PIPELINE_MAX_RETIRED) {
        customers_free(customers);
        feed_set_free(feeds);
        return -EBUSY;
    }
    if (customers) {
        /* Carry the open window's per-customer figures over by customer id; hosts keep their
         * state and take the customer their address now belongs to. */
        size_t n = customers_count(customers) + 1, nold = p->nacc;
        struct cust_acc *from;
        void **cc = NULL;
        size_t ncc = 0;
        uint64_t *summarized = calloc(n, sizeof *summarized);
        if (!summarized || copt_build(p, customers, &cc, &ncc) < 0 ||
            win_acc_resize(p, n, &from) < 0) {
            free(summarized);
            copt_free(cc, ncc * p->ndet);
            customers_free(customers);
            feed_set_free(feeds);
            return -ENOMEM;
        }
        copt_swap(p, cc, ncc);
        for (size_t c = 1; c < nold; c++) {
            const struct customer *old = customers_get(p->customers, (uint32_t)c);
            const struct customer *nw = old ? customers_find_id(customers, old->id) : NULL;
            if (!nw)
                continue;
            struct cust_acc *d = &p->acc[nw->index + 1], *o = &from[c];
            d->out = o->out;
            d->in = o->in;
            d->internal = o->internal;
            d->alerts = o->alerts;
            d->late = o->late;
            summarized[nw->index + 1] = p->summarized[c];
        }
        free(from);
        free(p->summarized);
        p->summarized = summarized;
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
    win_set_ctx(p);
    return 0;
}

/* ---- statistics ---- */

void pipeline_stats(struct pipeline *p, struct pipeline_stats *out)
{
    wk_quiesce(p);
    *out = p->st;
    alert_mgr_stats(p->alerts, &out->alerts);
    hostility_stats(p->hostility, &out->hostility_tracked, &out->hostility_refused);
    out->host_evictions = p->retired_evictions; /* the dropped workers' (resets) */
    out->host_evictions_active = p->retired_evictions_active;
    out->host_evictions_dark = p->retired_evictions_dark;
    out->alerts_truncated = p->retired_truncated;
    out->outbox_waits = p->retired_outbox_waits;
    for (uint32_t wi = 0; wi < p->nworkers; wi++) {
        struct hosttab_stats hs;
        hosttab_stats(p->workers[wi].hosts, &hs);
        out->host_evictions += hs.evictions;
        out->host_evictions_active += hs.evictions_active;
        out->host_evictions_dark += hs.evictions_dark;
        out->hosts_active += hs.used;
        out->host_capacity += hs.capacity;
        out->host_table_bytes += hosttab_memory_used(p->workers[wi].hosts);
        out->hosts_high_water += hs.high_water;
        out->host_slot_bytes = hosttab_slot_bytes(p->workers[wi].hosts);
        out->alerts_truncated += p->workers[wi].ob_truncated;
        out->outbox_waits += p->workers[wi].ob_waits;
    }
}

size_t pipeline_detector_counters(struct pipeline *p, struct det_counters *out, size_t max)
{
    wk_quiesce(p);
    size_t n = 0;
    for (size_t d = 0; d < p->ndet && n < max; d++) {
        const struct detector_ops *ops = p->ops[d];
        if (!ops->counters || ops->ctr_size > sizeof out->v || ops->ctr_size % sizeof(uint64_t))
            continue; /* test_det_counters keeps every registered detector within the bound */
        struct det_counters *o = &out[n++];
        memset(o, 0, sizeof *o);
        o->ops = ops;
        memcpy(o->v, p->det_retired[d], ops->ctr_size); /* the dropped workers' counters */
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

struct alert_mgr *pipeline_alert_mgr(struct pipeline *p)
{
    return p->alerts;
}

const struct customer_map *pipeline_customers(const struct pipeline *p)
{
    return p->customers;
}

int pipeline_swap_overrides(struct pipeline *p, const struct settings *from)
{
    wk_quiesce(p);
    const struct settings *old = p->ov;
    p->ov = from;
    void **cc;
    size_t ncc;
    if (copt_build(p, p->customers, &cc, &ncc) < 0) {
        p->ov = old;
        return -ENOMEM;
    }
    copt_swap(p, cc, ncc);
    return 0;
}
