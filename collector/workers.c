/* workers.c: the worker pool (see pipeline_int.h).
 *
 * Records go from the dispatcher (time, customer lookup, accounting, the shard choice) to
 * their worker through the worker's ring (core/ring.h). With one worker there is no thread:
 * the ring is a batch the dispatcher runs itself. Either way a worker takes records a batch at
 * a time, prefetches every record's host-table buckets, then runs them, so the cache misses of
 * a batch overlap instead of queueing one after another.
 *
 * With more workers, workers 1.. run on threads of their own (sleeping on their ring's bell
 * when it is empty) and worker 0 on the dispatcher. An alert raised while records run goes
 * into the worker's outbox (a ring the other way) with the sequence number of its record; the
 * dispatcher takes an alert only once no worker can still raise one for an earlier record
 * (wk_outbox_drain), so the order of the output never depends on thread timing.
 *
 * Window close (wk_close, every worker quiesced): each worker closes its own shard on its own
 * thread while the dispatcher closes worker 0's; an alert a thread raises then goes into the
 * same outbox, and the dispatcher takes them worker by worker after worker 0's own. The merge
 * holds them all (merge.c pipe_hold_*) and raises them sorted by customer, host and rule once
 * every shard has closed: the same order whatever the worker count. A full outbox makes its
 * worker wait until the dispatcher comes to it. Which path an alert takes is fixed
 * by the context it is raised through (rec_ctx or win_ctx) and the worker's thread: no thread
 * looks at which thread it is on.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "log.h"
#include "pipeline_int.h"
#include "rules.h"

#define WQ_ENTRIES                                                                                 \
    4096u /* ring room per worker thread, in records (WQ_ENTRIES / WQ_BATCH batches): 512 KiB,
           * about 2 ms of a worker's work, so a worker the scheduler pauses for a time slice
           * rarely stops the dispatcher */
#define OUTBOX_ENTRIES 32u /* alerts a worker raised that the dispatcher has not taken */
#define OUTBOX_STR 12288   /* bytes for one queued alert's strings */
#define WORKER_SPINS 200   /* an idle worker looks this often before it sleeps */

/* An alert raised while records run on a worker thread (detectors raise almost all alerts at
 * window close; a full blocklist hit table reports at once), its strings copied. */
struct outbox_ent {
    struct alert a;
    uint64_t seq, now_ms;
    struct alert_enrichment enrich[ALERT_ENRICH_MAX];
    char str[OUTBOX_STR];
};

static size_t ring_bytes(size_t entries, size_t item)
{
    return entries * RING_ALIGN(sizeof(struct ring_hdr) + item);
}

/* ---- alerts ---- */

/* The worker's part of an alert: its rule's metadata (core/rules.h), the exporter and
 * interface that last reported the host, and the host marked (its table belongs to the worker)
 * with the category and the alert's weight for the customer verdict (collector/hostility.h). */
static void mark_host(struct worker *w, struct alert *a, uint64_t win_end_ms)
{
    rule_apply(a);
    if (!a->has_host)
        return;
    struct host *h = hosttab_find(w->hosts, a->customer, a->host, NULL);
    if (h) {
        a->exporter = h->exporter;
        a->in_if = h->in_if;
        if (!a->sampling)
            a->sampling = h->sampling;
    }
    if (h && (unsigned)a->category < CAT_COUNT) {
        uint8_t wt = hostility_alert_weight(&w->p->s->hostility, a);
        h->alert_cats = (uint8_t)(h->alert_cats | 1u << a->category);
        h->cats_day = (uint8_t)(h->cats_day | 1u << a->category);
        h->last_alert_win = (uint32_t)(win_end_ms / w->p->window_ms);
        if (wt > h->weight[a->category])
            h->weight[a->category] = wt;
        if (wt > h->weight_day[a->category])
            h->weight_day[a->category] = wt;
    }
}

static void ob_fill(struct worker *w, struct outbox_ent *e, const struct alert *a, uint64_t seq,
                    uint64_t now_ms)
{
    e->seq = seq;
    e->now_ms = now_ms;
    if (!alert_copy(&e->a, e->enrich, ALERT_ENRICH_MAX, e->str, sizeof e->str, a))
        w->ob_truncated++;
}

/* Queue an alert for the dispatcher, strings copied (the detector's buffers are borrowed only
 * for this call). Waits while the outbox is full. While records run the dispatcher takes
 * alerts of records older than every worker's current one, and one record raises at most one
 * alert per detector, far below OUTBOX_ENTRIES; at window close it takes this worker's once it
 * has taken those of the workers before (wk_close). On the thread that runs w's records. */
static void ob_put(struct worker *w, const struct alert *a, uint64_t seq, uint64_t now_ms)
{
    struct outbox_ent *e;
    unsigned spins = 0;
    bool waited = false;
    while (!(e = ring_alloc(&w->outbox, sizeof *e))) {
        if (atomic_load_explicit(&w->stop, memory_order_relaxed))
            return;
        if (w->index == 0) { /* the dispatcher's own worker: it takes them itself */
            wk_wake(w->p);   /* the alerts before ours may wait for a sleeping worker */
            wk_outbox_drain(w->p);
        }
        waited = true;
        cpu_backoff(&spins);
    }
    w->ob_waits += waited;
    ob_fill(w, e, a, seq, now_ms);
    ring_publish(&w->outbox);
}

/* rec_ctx, threaded: into the outbox with the sequence number of the record it is on. */
static void alert_to_outbox(void *arg, const struct alert *in)
{
    struct worker *w = arg;
    struct alert a = *in;
    mark_host(w, &a, w->rec_ctx.win_end_ms);
    ob_put(w, &a, atomic_load_explicit(&w->progress, memory_order_relaxed), w->rec_ctx.win_end_ms);
}

/* rec_ctx with one worker (all on the dispatcher): straight to the merge. */
static void alert_direct(void *arg, const struct alert *in)
{
    struct worker *w = arg;
    struct alert a = *in;
    mark_host(w, &a, w->rec_ctx.win_end_ms);
    pipe_raise(w->p, &a, w->rec_ctx.win_end_ms);
}

/* win_ctx of the worker the dispatcher runs (worker 0): window close, straight to the merge
 * (which holds it until every shard has closed). */
static void alert_at_close(void *arg, const struct alert *in)
{
    struct worker *w = arg;
    struct alert a = *in;
    mark_host(w, &a, w->win_ctx.win_end_ms);
    pipe_raise(w->p, &a, w->win_ctx.win_end_ms);
}

/* win_ctx of a worker thread: window close, into the outbox (wk_close takes them in order). */
static void alert_close_queued(void *arg, const struct alert *in)
{
    struct worker *w = arg;
    struct alert a = *in;
    mark_host(w, &a, w->win_ctx.win_end_ms);
    ob_put(w, &a, 0, w->win_ctx.win_end_ms);
}

/* Dispatcher: raise e, the entry at the head of w's outbox, and free its place. */
static void ob_raise_head(struct pipeline *p, struct worker *w, struct outbox_ent *e)
{
    size_t len;
    pipe_raise(p, &e->a, e->now_ms);
    ring_take(&w->outbox, &len);
    ring_release(&w->outbox);
}

/* Dispatcher: every alert w's outbox holds, in the order raised. */
static void ob_take_all(struct pipeline *p, struct worker *w)
{
    size_t len;
    struct outbox_ent *e;
    while ((e = ring_peek(&w->outbox, &len)))
        ob_raise_head(p, w, e);
}

void wk_outbox_drain(struct pipeline *p)
{
    if (!p->threaded)
        return;
    /* no worker with records left can raise an alert for a record before the one it is on */
    uint64_t horizon = UINT64_MAX;
    for (uint32_t i = 0; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (!ring_drained(&w->q)) {
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
            size_t len;
            struct outbox_ent *e = ring_peek(&w->outbox, &len);
            if (e && e->seq < horizon && (!be || e->seq < be->seq)) {
                best = w;
                be = e;
            }
        }
        if (!best)
            return;
        ob_raise_head(p, best, be);
    }
}

/* ---- running records ---- */

_Static_assert(WQ_BATCH <= DET_BATCH_MAX, "a batch's records each have a det_memo place");

/* The worker's part of a record (place i of its batch): its host, then every detector. Inlined
 * into run_batch's loop (gcc keeps it out of line once run_batch is inlined itself). */
static inline __attribute__((always_inline)) void track(struct worker *w, const struct flow_rec *f,
                                                        uint64_t hash, uint64_t probe, size_t i)
{
    struct pipeline *p = w->p;
    uint32_t wno = w->rec_ctx.window_no;
    struct hosttab_ref r = hosttab_get_at(w->hosts, hash, probe, f->customer, flow_inside(f), wno);
    struct host *h = r.host;
    void *state = r.state;
    uint32_t rate = f->sampling > 1 ? f->sampling : 1;
    /* a new host comes zeroed (its window the open one): sampling 0 < rate sets it */
    if (h->window != wno || rate > h->sampling)
        h->sampling = rate;
    h->window = wno;
    if (f->last_ms > h->last_ms)
        h->last_ms = f->last_ms;
    /* its own record (not one it received): an active host. The exporter and interface are
     * those its own traffic enters by (the customer's side), not the upstream interface an
     * inbound record came in on, once it has sent anything */
    if (f->dir != FLOW_DIR_IN) {
        h->sent = 1;
        h->sender = 1;
        if (f->exporter) {
            h->exporter = f->exporter;
            h->in_if = f->in_if;
        }
    } else if (f->exporter && !h->sender) {
        h->exporter = f->exporter;
        h->in_if = f->in_if;
    }
    struct det_ctx *ctx = &w->rec_ctx;
    ctx->rec = (struct det_rec){.batch_no = (uint32_t)i + 1, .host_hash = hash};
    const struct wk_call *c = w->calls;
    size_t nd = p->ndet;
    if (state) { /* NULL only when no detector keeps host state (pipeline.state_size 0) */
        for (size_t d = 0; d < nd; d++) {
            ctx->det_index = d;
            c[d].on_flow(c[d].self, ctx, h, (uint8_t *)state + c[d].state_off, f);
        }
    } else {
        for (size_t d = 0; d < nd; d++) {
            ctx->det_index = d;
            c[d].on_flow(c[d].self, ctx, h, NULL, f);
        }
    }
}

/* Record j of a batch, WQ_AHEAD records before it runs: its host slot's lines (its tag blocks,
 * tags[j], were asked for earlier), then every detector's prefetch (detector_ops.prefetch);
 * probe[j] gets its host's probe for the lookup. */
static inline __attribute__((always_inline)) void prefetch_record(struct worker *w,
                                                                  const struct wq_batch *b,
                                                                  size_t j, const uint64_t *tags,
                                                                  uint64_t *probe)
{
    probe[j] = hosttab_prefetch_slot(w->hosts, b->hash[j], tags[j]);
    for (size_t d = 0; d < w->npf; d++)
        w->pf[d].prefetch(w->pf[d].self, j, &b->e[j].f, b->hash[j]);
}

/* The next published batch of w's ring (one item: wk_dispatch fills batches in place): run its
 * records, give the room back. Its records' cache misses overlap instead of queueing one by one:
 * each record's host tag blocks were asked for when it was queued (worker 0) or are asked for
 * WQ_TAGS_AHEAD records before it runs (own_thread: a worker thread; their bucket numbers go
 * to own[] on its stack, not into the batch, whose lines the dispatcher writes next: written
 * by both cores they would move between them; bench/RESULTS.md issue 15, fifty-seventh part),
 * and its host slot and detector lines WQ_AHEAD records before it runs, so that they arrive
 * while the records before it run (asked for all at once, the last ones' lines queue behind
 * the first ones' and the first records wait for theirs). probe: where each host was found (or
 * its buckets), for its lookup (hosttab_get_at). progress tells wk_outbox_drain which record
 * the worker is on (per record, not per batch: the alerts of the records before it must be
 * takeable while a batch runs, or a full outbox would wait for itself). Returns how many
 * records (0: none published). On the thread that runs w's records (its own, or the dispatcher
 * for worker 0). Inlined into its two callers, so own_thread is a constant in each and its tests
 * leave worker 0's loop (11 instructions a record; bench/RESULTS.md issue 15, fifty-eighth
 * part). */
static inline __attribute__((always_inline)) size_t run_batch(struct worker *w, bool own_thread)
{
    size_t len;
    const struct wq_batch *b = ring_take(&w->q, &len);
    if (!b)
        return 0;
    assert(len == sizeof *b && b->n >= 1 && b->n <= WQ_BATCH);
    const struct wq_ent *e = b->e;
    size_t n = b->n;
    uint64_t probe[WQ_BATCH], own[WQ_BATCH];
    const uint64_t *tags = b->probe;
    if (own_thread) {
        for (size_t j = 0; j < n && j < WQ_TAGS_AHEAD; j++)
            own[j] = hosttab_prefetch_tags(w->hosts, b->hash[j]);
        tags = own;
    }
    for (size_t j = 0; j < n && j < WQ_AHEAD; j++)
        prefetch_record(w, b, j, tags, probe);
    for (size_t i = 0; i < n; i++) {
        if (own_thread && i + WQ_TAGS_AHEAD < n)
            own[i + WQ_TAGS_AHEAD] = hosttab_prefetch_tags(w->hosts, b->hash[i + WQ_TAGS_AHEAD]);
        if (i + WQ_AHEAD < n)
            prefetch_record(w, b, i + WQ_AHEAD, tags, probe);
        atomic_store_explicit(&w->progress, e[i].seq, memory_order_release);
        track(w, &e[i].f, b->hash[i], probe[i], i);
    }
    ring_release(&w->q);
    return n;
}

/* Worker thread: whether the dispatcher asked for a window close it has not run (wk_close). */
static bool close_asked(struct worker *w)
{
    return atomic_load_explicit(&w->close_req, memory_order_acquire) !=
           atomic_load_explicit(&w->close_done, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        if (run_batch(w, true))
            continue;
        if (close_asked(w)) { /* the ring is drained: the dispatcher quiesced us first */
            uint32_t req = atomic_load_explicit(&w->close_req, memory_order_acquire);
            w->close_fn(w);
            atomic_store_explicit(&w->close_done, req, memory_order_release);
            continue;
        }
        if (atomic_load_explicit(&w->stop, memory_order_acquire))
            break;
        /* spin a little (records come in bursts), then sleep until the dispatcher rings */
        bool more = false;
        for (unsigned i = 0; i < WORKER_SPINS && !more; i++) {
            cpu_relax();
            more = !ring_empty(&w->q) || close_asked(w);
        }
        if (more)
            continue;
        ring_bell_arm(&w->bell);
        if (ring_empty(&w->q) && !close_asked(w) &&
            !atomic_load_explicit(&w->stop, memory_order_acquire))
            ring_bell_wait(&w->bell, -1);
        else
            ring_bell_disarm(&w->bell);
    }
    return NULL;
}

/* Dispatcher: make what it wrote for a threaded worker visible, the open batch closed with the
 * records it has (the next record opens a new one). wake: ring the worker's bell if it sleeps
 * (hand-over, a full ring); else only every WQ_WAKE_BATCHES-th batch does, so a sleeping worker
 * is woken for a few batches at once (an awake one sees every batch at once). */
static void publish(struct worker *w, bool wake)
{
    if (w->open) {
        w->open->n = w->queued;
        w->open = NULL;
    }
    if (wake || ++w->quiet >= WQ_WAKE_BATCHES) {
        ring_publish(&w->q); /* even with nothing new: earlier quiet batches may wait */
        w->quiet = 0;
    } else {
        ring_publish_quiet(&w->q);
    }
    w->queued = 0;
}

/* Dispatcher, before it waits for a worker thread: every record handed to a thread so far
 * visible, and every thread that sleeps woken (publish may have left a few batches for a
 * sleeping worker, WQ_WAKE_BATCHES). */
void wk_wake(struct pipeline *p)
{
    for (uint32_t i = 0; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (w->started)
            publish(w, true);
    }
}

/* Dispatcher: run the pending records of a worker that has no thread (worker 0) here. */
static void run_here(struct worker *w)
{
    assert(!w->started);
    publish(w, false);
    while (run_batch(w, false))
        ;
}

/* Dispatcher: w's ring is full. Do our own share (worker 0) and take alerts (w may be waiting
 * on its outbox) until w has made room. */
static struct wq_batch *wait_room(struct pipeline *p, struct worker *w)
{
    assert(w->started); /* worker 0's ring never holds more than its open batch */
    p->st.queue_waits++;
    wk_wake(p); /* w, and every other worker: one may hold alerts before w's */
    run_here(&p->workers[0]);
    struct wq_batch *b;
    unsigned spins = 0;
    while (!(b = ring_alloc(&w->q, sizeof *b))) {
        wk_outbox_drain(p);
        cpu_backoff(&spins);
    }
    return b;
}

struct wq_batch *wk_open_batch(struct pipeline *p, struct worker *w)
{
    assert(!w->open && w->queued == 0);
    struct wq_batch *b = ring_alloc(&w->q, sizeof *b);
    if (!b)
        b = wait_room(p, w);
    w->open = b;
    return b;
}

void wk_batch_queued(struct pipeline *p, struct worker *w)
{
    if (!w->started) {
        run_here(w);
    } else {
        publish(w, false);
        wk_outbox_drain(p);
    }
}

void wk_hand_over(struct pipeline *p)
{
    wk_wake(p);
    for (uint32_t i = 0; i < p->nworkers; i++)
        if (!p->workers[i].started)
            run_here(&p->workers[i]);
}

void wk_quiesce(struct pipeline *p)
{
    wk_hand_over(p);
    if (!p->threaded)
        return;
    for (uint32_t i = 0; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        unsigned spins = 0;
        while (w->started && !ring_drained(&w->q)) {
            wk_outbox_drain(p);
            cpu_backoff(&spins);
        }
    }
    wk_outbox_drain(p); /* every worker idle: everything queued is taken */
#ifndef NDEBUG
    for (uint32_t i = 0; i < p->nworkers; i++) {
        size_t len;
        assert(ring_drained(&p->workers[i].q));
        assert(!p->workers[i].outbox_ok || !ring_peek(&p->workers[i].outbox, &len));
    }
#endif
}

void wk_close(struct pipeline *p, wk_close_fn *fn)
{
    pipe_hold_begin(p); /* the shards' alerts go out sorted once all have closed */
    for (uint32_t i = 1; i < p->nworkers; i++) { /* threaded: each thread its own shard */
        struct worker *w = &p->workers[i];
        assert(w->started);
        w->close_fn = fn;
        uint32_t req = atomic_load_explicit(&w->close_req, memory_order_relaxed) + 1;
        atomic_store_explicit(&w->close_req, req, memory_order_release);
        ring_bell_ring(&w->bell);
    }
    fn(&p->workers[0]); /* its alerts go straight to the merge: they come first */
    for (uint32_t i = 1; i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        uint32_t req = atomic_load_explicit(&w->close_req, memory_order_relaxed);
        unsigned spins = 0;
        for (;;) { /* done read first: what it raised before that is in the outbox by then */
            bool done = atomic_load_explicit(&w->close_done, memory_order_acquire) == req;
            ob_take_all(p, w);
            if (done)
                break;
            cpu_backoff(&spins);
        }
    }
    pipe_hold_release(p);
}

/* "key = value, ..." of the options that size a detector's tables (its ops->sizes). */
static void det_sizes_text(const struct detector_ops *op, const void *conf, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (const char *const *s = op->sizes; s && *s && n < len; s++) {
        const struct conf_key *k = conf_find_key(op->conf_keys, *s);
        if (!k || (k->type != CONF_U64 && k->type != CONF_BYTES))
            continue;
        uint64_t v;
        memcpy(&v, (const char *)conf + k->offset, sizeof v);
        n += (size_t)snprintf(buf + n, len - n, "%s%s = %llu", n ? ", " : "", k->name,
                              (unsigned long long)v);
    }
}

/* ---- set-up ---- */

int (*pipe_fault_hook)(enum pipe_fault at, uint32_t worker);

int wk_init(struct pipeline *p, struct worker *w, uint32_t index, const struct hash_key *hk,
            struct det_share share)
{
    w->p = p;
    w->index = index;
    int rc = pipe_fault_hook ? pipe_fault_hook(PIPE_FAULT_WORKER_INIT, index) : 0;
    if (rc < 0)
        return rc;
    rc = hosttab_new(det_share_cap(share, p->s->hosts_max, 0), p->state_size, hk, &w->hosts);
    if (rc < 0) {
        log_error("host table: cannot make it ([pipeline] hosts_max = %llu, worker %u's share): "
                  "%s; lower it or give the process more memory",
                  (unsigned long long)p->s->hosts_max, index, strerror(-rc));
        return rc;
    }
    bool own_thread = p->threaded && index > 0;
    if (own_thread) {
        if ((rc = ring_bell_init(&w->bell)) < 0)
            return rc;
        w->bell_ok = true;
    }
    /* a worker the dispatcher runs itself (worker 0) holds one batch at most (wk_batch_queued
     * runs it when it is full): room for two, 8 KiB, whose lines stay in the cache, where a
     * thread's 512 KiB ring would put every record on a line the dispatcher last wrote a ring
     * ago (cachegrind: 2.65 D1 misses per record in the hand-off, bench/RESULTS.md) */
    size_t batches = own_thread ? WQ_ENTRIES / WQ_BATCH : 2;
    if ((rc = ring_init(&w->q, ring_bytes(batches, sizeof(struct wq_batch)),
                        own_thread ? &w->bell : NULL)) < 0)
        return rc;
    w->q_ok = true;
    if (p->threaded) {
        if ((rc = ring_init(&w->outbox, ring_bytes(OUTBOX_ENTRIES, sizeof(struct outbox_ent)),
                            NULL)) < 0)
            return rc;
        w->outbox_ok = true;
    }
    for (size_t d = 0; d < p->ndet; d++) {
        if ((rc = p->ops[d]->init(p->det_conf[d], share, &w->det[d])) < 0) {
            char sizes[256];
            det_sizes_text(p->ops[d], p->det_conf[d], sizes, sizeof sizes);
            log_error("detector %s: cannot make its tables (%s; worker %u's share): %s; lower "
                      "them in [detector.%s] or give the process more memory",
                      p->ops[d]->name, sizes, index, strerror(-rc), p->ops[d]->name);
            return rc;
        }
        w->calls[d] = (struct wk_call){p->ops[d]->on_flow, w->det[d], p->state_off[d]};
        if (p->ops[d]->prefetch)
            w->pf[w->npf++] = (struct wk_prefetch){p->ops[d]->prefetch, w->det[d]};
    }
    w->rec_ctx = (struct det_ctx){
        .worker = index,
        .feeds = p->feeds,
        .customer_id = pipe_customer_id,
        .customer_prefixes = pipe_customer_prefixes,
        .customer_count = pipe_customer_count,
        .confs = &p->confs,
        .host_key = hosttab_key(w->hosts),
        .conf_named = copt_conf_named,
        .customers_arg = p,
        .alert = p->threaded ? alert_to_outbox : alert_direct,
        .alert_arg = w,
    };
    w->win_ctx = w->rec_ctx;
    w->win_ctx.alert = own_thread ? alert_close_queued : alert_at_close;
    return 0;
}

void wk_fini(struct pipeline *p, struct worker *w)
{
    for (size_t d = 0; d < p->ndet; d++)
        if (w->det[d])
            p->ops[d]->fini(w->det[d]);
    hosttab_free(w->hosts);
    free(w->acc);
    if (w->q_ok)
        ring_fini(&w->q);
    if (w->outbox_ok)
        ring_fini(&w->outbox);
    if (w->bell_ok)
        ring_bell_fini(&w->bell);
}

int wk_start(struct pipeline *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with the main thread */
    int rc = 0;
    for (uint32_t i = 1; i < p->nworkers && rc == 0; i++) { /* worker 0: the dispatcher */
        struct worker *w = &p->workers[i];
        if (pipe_fault_hook && (rc = pipe_fault_hook(PIPE_FAULT_THREAD_START, i)) < 0)
            break;
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

void wk_stop(struct pipeline *p)
{
    for (uint32_t i = 0; p->workers && i < p->nworkers; i++) {
        struct worker *w = &p->workers[i];
        if (!w->started)
            continue;
        atomic_store_explicit(&w->stop, true, memory_order_release);
        ring_bell_ring(&w->bell);
        pthread_join(w->tid, NULL);
        w->started = false;
    }
}
