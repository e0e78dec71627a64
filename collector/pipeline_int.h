/* pipeline_int.h: the pipeline's rooms and what they share (private to the pipeline; the rest
 * of the collector sees pipeline.h only).
 *
 *   pipeline.c  the façade: set-up, classification (customer lookup, direction, accounting,
 *               shard choice), reload of lists and options, statistics, the flow log
 *   windows.c   event time: the watermark, window close (detectors report, host verdicts: each
 *               worker its own shard, at once), per-customer accounting and summaries, the
 *               idle advance
 *   workers.c   the worker pool: a ring per worker (core/ring.h), the worker threads, each
 *               worker's outbox of alerts and their merge in record order, quiesce
 *   custopts.c  per-customer detector options ([customer ID] sections) and how detectors find
 *               the options in force
 *   merge.c     the customers as detectors see them, and the merge every alert goes through
 *               (pipe_raise)
 *
 * The rooms are layers: each calls only rooms below it (tests/integration/no_circles.sh):
 * merge.c and custopts.c at the bottom, then workers.c, then windows.c, then the façade.
 *
 * Threads: everything here runs on the dispatcher (the thread that calls pipeline_flow: the
 * main loop's) except what workers.c runs on worker threads: a worker's records (its host table
 * and detector instances, wk_* say which) and, at window close, its shard's part of the close
 * (windows.c close_shard, through wk_close). The dispatcher touches a worker's state only after
 * wk_quiesce() (the worker idle, every record it was handed run, its alerts merged) and, at a
 * close, after wk_close returned.
 */
#ifndef TW_PIPELINE_INT_H
#define TW_PIPELINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert_json.h"
#include "detector.h"
#include "hash.h"
#include "hostility.h"
#include "hosttab.h"
#include "pipeline.h"
#include "ring.h"

#define PIPELINE_MAX_RETIRED 8
#define DAY_MS (24ULL * 3600 * 1000)

/* One customer's figures for the open window (and the day view at its close). */
struct cust_acc {
    struct traffic out, in, internal;
    uint64_t alerts, late, active, alerted, by_cat[CAT_COUNT];
    uint64_t active_day, alerted_day, by_cat_day[CAT_COUNT];
    uint64_t hostile, hostile_day;
    uint32_t nnamed;
    struct hostile_host named[SUMMARY_NAMED]; /* the weightiest hostile hosts (day view) */
};

/* Buckets of the shard map: enough that a share is set to 1/4096 of the hosts. */
#define PIPE_SHARD_BUCKETS 4096u
/* A host's bucket: the top bits of its mixed address hash (the host table's own hash). */
static inline uint32_t pipe_shard_bucket(uint64_t hash)
{
    return (uint32_t)(hash_mix64(hash) >> 52);
}
_Static_assert(PIPE_SHARD_BUCKETS == 1u << 12, "pipe_shard_bucket takes 12 bits");
_Static_assert(SETTINGS_MAX_WORKERS <= 256, "shard_of holds a worker index in a byte");

/* One detector's per-record call, resolved at set-up (wk_init) from the pipeline's ops and the
 * worker's instances, so a record's run reads one array instead of three (workers.c track). */
struct wk_call {
    void (*on_flow)(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                    const struct flow_rec *f);
    void *self;
    size_t state_off; /* its slice of a host's state (pipeline.state_off) */
};
/* A detector's prefetch pass (detector_ops.prefetch), for the detectors that have one. */
struct wk_prefetch {
    void (*prefetch)(void *self, size_t i, const struct flow_rec *f, uint64_t host_hash);
    void *self;
};

struct wq_batch;

struct worker {
    struct pipeline *p;
    uint32_t index;
    struct hosttab *hosts; /* owned by whoever runs the worker's records */
    void *det[SETTINGS_MAX_DETECTORS];
    /* det[] as its records' calls: every enabled detector's on_flow in pipeline order
     * (pipeline.ndet of them), and the prefetch passes of those that have one (npf) */
    struct wk_call calls[SETTINGS_MAX_DETECTORS];
    struct wk_prefetch pf[SETTINGS_MAX_DETECTORS];
    size_t npf;
    /* Two views of the detectors' context, one per phase, so the alert path is explicit:
     * rec_ctx while records run (threaded: alerts into the outbox, merged in record order;
     * one worker: straight to pipe_raise), win_ctx at window close (worker 0, on the
     * dispatcher: straight to pipe_raise; a worker thread: into the outbox, taken by wk_close;
     * the merge holds both and raises them sorted, pipe_hold_*). */
    struct det_ctx rec_ctx, win_ctx;
    /* windows.c: this shard's per-customer figures of a close (nacc of them, sized with the
     * pipeline's by win_acc_resize; merged into the pipeline's and zeroed by the dispatcher
     * after every shard closed) */
    struct cust_acc *acc;
    size_t nacc;

    /* Cache lines: the ring keeps its producer's and consumer's cursors apart; below, what
     * the dispatcher writes per record (queued) and what the worker writes per record
     * (progress) are on lines of their own, so neither thread's per-record stores pull the
     * other's line over (the dispatcher reads progress once per batch). */
    struct ring q;         /* records: the dispatcher produces, the worker consumes */
    struct ring_bell bell; /* the worker thread sleeps on it (threaded only) */
    _Atomic bool stop;
    _Alignas(64) struct wq_batch *open; /* dispatcher: the batch it fills in q (allocated, not
                                           published; wk_dispatch), NULL: none */
    uint32_t queued;                    /* dispatcher: records in open */
    /* dispatcher: batches published without a wake-up since the last publish that would have
     * woken it (workers.c publish) */
    uint32_t quiet;
    _Alignas(64) _Atomic uint64_t progress; /* seq of the record the worker is on */
    struct ring outbox; /* alerts: the worker produces, the dispatcher consumes */
    pthread_t tid;
    bool started; /* its own thread runs it (else the dispatcher does) */
    bool q_ok, outbox_ok, bell_ok;
    uint64_t ob_truncated; /* alert strings that did not fit (read after quiesce) */
    uint64_t ob_waits;     /* alerts that waited for room in the outbox (read after quiesce) */
    /* window close on the worker's thread (wk_close): the dispatcher sets close_fn and counts
     * close_req up, the worker runs close_fn and sets close_done to close_req */
    _Alignas(64) _Atomic uint32_t close_req;
    _Atomic uint32_t close_done;
    void (*close_fn)(struct worker *w);
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
     * built from the [customer ID] overrides whenever a customer map comes in (custopts.c) */
    void **cust_conf;
    size_t ncust_conf;
    const struct settings *ov; /* where [customer ID] overrides come from (reload: newer) */
    /* what det_conf reads (every worker's det_ctx.confs): cust_conf and the defaults in force,
     * conf_dflt[d] (ov's sections after a reload); set by copt_swap */
    struct det_confs confs;
    const void *conf_dflt[SETTINGS_MAX_DETECTORS];
    size_t state_off[SETTINGS_MAX_DETECTORS];
    size_t ndet, state_size;

    /* NULL and 0 together only after a pipeline_reset that could not make them anew (the
     * pipeline has no workers: pipe_broken; every entry point that would touch a worker checks
     * it, and every loop over the workers runs none) */
    struct worker *workers;
    uint32_t nworkers;
    /* the shard map: a host's bucket (pipe_shard_bucket) -> the worker that owns it; built once
     * with the workers (pipeline.c shard_map_build), read by the dispatcher only */
    uint8_t shard_of[PIPE_SHARD_BUCKETS];
    bool threaded; /* workers 1.. run on threads of their own, 0 on this one */
    uint64_t seq;  /* records dispatched */

    struct cust_acc *acc; /* customers_count + 1 */
    size_t nacc;
    /* per customer (nacc, by index as acc): the end of the last window this process made its
     * summary for, kept across resets and carried by id across reloads; a window that does not
     * end later (detect re-reading after a rebalance) makes none again (windows.c) */
    uint64_t *summarized;
    /* what the workers a reset dropped (detect's rebalance) had counted: the pipeline's
     * counters go on from there, gauges are the workers' of now (pipeline.c retire_counters) */
    uint64_t det_retired[SETTINGS_MAX_DETECTORS][DET_CTR_MAX];
    uint64_t retired_evictions, retired_evictions_active, retired_evictions_dark;
    uint64_t retired_truncated, retired_outbox_waits;

    uint64_t window_ms, lateness_ms, idle_ms, host_idle_ms;
    bool have_window;
    uint64_t win_start; /* open window [win_start, win_start + window_ms) */
    /* max_seen from which the open window is due to close (win_due): win_start + window_ms +
     * lateness_ms while one is open, else UINT64_MAX; set by win_set_due wherever have_window
     * or win_start changes, so the per-record test is one comparison */
    uint64_t due_at;
    uint64_t max_seen;      /* newest record end seen (event time) */
    uint64_t last_close_ms; /* end of the last window closed */
    uint64_t last_flow_wall, max_seen_at_wall;
    /* detect (pipeline.c collector_time): the last collector window start seen, and it rounded
     * down to a multiple of window_ms (0 and 0 at the start: 0 rounds to 0), and the highest
     * event time its records' watermarks may set (just before that window's close) */
    uint64_t part_from, part_start, part_wm_max;
    /* event time is the collector's (set at the first record or tick of collector_time): the
     * wall clock does not advance it (win_tick), the collector's idle advance sends ticks */
    bool collector_clock;

    /* window close (wk_close): the alerts the shards raise are held and go out sorted
     * (merge.c pipe_hold_*), so their order does not depend on which worker held which host */
    struct held_alert **held;
    size_t nheld, held_cap;
    bool holding;

    struct pipeline_stats st;
    FILE *flow_log;
    pipeline_summary_fn *summary_tap; /* /metrics per-customer series (status.c) */
    flow_emit_fn record_tap;          /* pipeline_set_record_tap (replay's tallies) */
    void *record_tap_arg;
    pipeline_exporter_fn *exporter_addr; /* names flow_rec.exporter (the ingest's decoder) */
    void *exporter_arg;
    void *summary_tap_arg;
    pipeline_forward_fn *forward; /* collect: classified records go there (pipeline.h) */
    uint64_t fwd_window;          /* collect: the window of the last tick sent */
    uint64_t fwd_seq;             /* collect: the last record's number (flowpb_meta.seq) */
    void *forward_arg;
    char buf[ALERT_JSON_MAX];
};

/* A pipeline_reset failed: no workers, nothing more is run (pipeline.h pipeline_broken). */
static inline bool pipe_broken(const struct pipeline *p)
{
    return p->nworkers == 0;
}

/* ---- pipeline.c ---- */
/* Dispatcher: an alert into the merge: name the customer and the exporter, suppress repeats,
 * publish, count. */
void pipe_raise(struct pipeline *p, const struct alert *a, uint64_t now_ms);
/* Dispatcher, window close: from pipe_hold_begin on, pipe_raise holds each alert (a copy);
 * pipe_hold_release raises them in one order -- customer, host, rule, peer, protocol, port,
 * evidence -- whatever the worker count or host-table layout, and frees them. An alert that
 * cannot be held (no memory) is raised at once and counted (alerts_unsorted). */
void pipe_hold_begin(struct pipeline *p);
void pipe_hold_release(struct pipeline *p);
void pipe_hold_free(struct pipeline *p);
/* det_ctx's customer lookups (arg: the pipeline; the map is replaced only when quiesced). */
const char *pipe_customer_id(void *arg, uint32_t c);
size_t pipe_customer_prefixes(void *arg, uint32_t c, const struct prefix **out);
size_t pipe_customer_count(void *arg);

/* ---- windows.c (dispatcher) ---- */
/* The per-customer figures sized for n customers (zeroed), all or none: the pipeline's (acc)
 * and every worker's of a close (worker.acc), so a window close never allocates. At set-up,
 * reset (the workers are new) and a reload (a new map). old: the pipeline's figures before,
 * for the caller to carry over and free (NULL: freed). 0 or -ENOMEM (nothing changed). */
int win_acc_resize(struct pipeline *p, size_t n, struct cust_acc **old);
/* Add a record to a customer's figures for dir (per record: inline). */
static inline void win_account(struct cust_acc *a, int dir, const struct flow_rec *f)
{
    struct traffic *t = dir == FLOW_DIR_OUT ? &a->out : dir == FLOW_DIR_IN ? &a->in : &a->internal;
    t->bytes += f->bytes;
    t->packets += f->packets;
    t->flows++;
}
/* Every worker's detector context: the open window, the feeds in force. */
void win_set_ctx(struct pipeline *p);
/* A record's end time moved event time: close every window the watermark passed. */
void win_advance(struct pipeline *p);
/* Whether win_advance has a window to close now (the watermark, max_seen - lateness, reached
 * the open window's end): what the dispatcher checks per record before calling it. */
static inline bool win_due(const struct pipeline *p)
{
    return p->max_seen >= p->due_at;
}
/* due_at from have_window and win_start (after every change of either). */
static inline void win_set_due(struct pipeline *p)
{
    p->due_at = p->have_window ? p->win_start + p->window_ms + p->lateness_ms : UINT64_MAX;
}
/* Live: the wall clock advances event time after idle_advance without records (not when the
 * collector's records and ticks carry it: detect). */
void win_tick(struct pipeline *p, uint64_t wall_ms);
/* The end of input: close the open window. */
void win_finish(struct pipeline *p);

/* ---- workers.c ---- */
/* Dispatcher, at set-up: worker w's host table, rings, detector instances and contexts, the
 * tables sized by share (the part of the shard map's buckets w holds: hosts_max and every
 * detector's host-keyed capacities are the process's totals). 0 or -errno. */
int wk_init(struct pipeline *p, struct worker *w, uint32_t index, const struct hash_key *hk,
            struct det_share share);
/* Dispatcher, at tear-down (after wk_stop). */
void wk_fini(struct pipeline *p, struct worker *w);
/* Dispatcher: start the threads of workers 1.. (threaded), stop and join them. */
int wk_start(struct pipeline *p);
void wk_stop(struct pipeline *p);
/* Test-only fault injection: NULL in every program, so no option, environment variable or
 * signal can reach it; a unit test (tests/unit/test_pipeline_reset.c) sets it to make the
 * making of the workers fail at a point: before worker `worker`'s tables (wk_init: a failed
 * allocation, the workers before it made) or before its thread starts (wk_start: the threads
 * before it running). Returns 0 (go on) or the -errno to fail with. Called at set-up and at
 * pipeline_reset only, never per record. */
enum pipe_fault { PIPE_FAULT_WORKER_INIT, PIPE_FAULT_THREAD_START };
extern int (*pipe_fault_hook)(enum pipe_fault at, uint32_t worker);
/* A record in a worker's ring (its host's hash beside it: wq_batch.hash). */
struct wq_ent {
    struct flow_rec f;
    uint64_t seq; /* dispatch order: alerts raised on worker threads are merged by it */
};
#define WQ_BATCH 32u /* records looked up together; also how often a ring is published */
/* records between a record's host slot and detector prefetches and its run (run_batch): enough
 * for its lines to arrive while the records before it run (4-16 measured alike, bench/RESULTS.md
 * issue 15, fifty-sixth part) */
#define WQ_AHEAD 8u
/* A worker thread asks for a record's host tag blocks this many records before it runs (then
 * its slot WQ_AHEAD before, once they have arrived): asked for by the dispatcher when it
 * queues the record, as for worker 0, they would load into the dispatcher's core's cache, not
 * the worker's, and cost the busiest thread two prefetches a record for nothing (1 -> 2
 * workers, bench/RESULTS.md issue 15, fifty-seventh part). */
#define WQ_TAGS_AHEAD (2 * WQ_AHEAD)
/* The item of a worker's ring: a batch of records, allocated when its first record comes
 * (wk_open_batch), filled in place (wk_dispatch) and closed (n set) when it is full or the
 * dispatcher publishes the ring earlier (a hand-over); the worker takes and runs it whole
 * (run_batch). The ring's header and cursor arithmetic are paid once per batch, not per
 * record. */
struct wq_batch {
    uint32_t n; /* records in e, 1..WQ_BATCH (set when closed) */
    /* hash[i]: hosttab_hash of e[i]'s inside host; probe[i] (worker 0 only): its host's bucket
     * numbers, their tag blocks asked for when the dispatcher queued it (hosttab_prefetch_tags;
     * a worker thread asks for its own, WQ_TAGS_AHEAD, and keeps them on its stack) */
    uint64_t hash[WQ_BATCH], probe[WQ_BATCH];
    struct wq_ent e[WQ_BATCH];
};
/* A sleeping worker is woken once this many batches wait for it (or at once when the
 * dispatcher hands over or waits for room): a wake-up (eventfd write, a reschedule on both
 * sides) costs about what 10 records do, so a worker that is faster than its share sleeps
 * and wakes once per this many batches, not once per batch. */
#define WQ_WAKE_BATCHES 4u
/* Dispatcher: w has no open batch: a batch's room in its ring (waiting for the worker while
 * the ring is full), made w's open batch (workers.c). */
struct wq_batch *wk_open_batch(struct pipeline *p, struct worker *w);
/* Dispatcher: a batch is queued for w: run it (worker 0) or publish it (workers.c). */
void wk_batch_queued(struct pipeline *p, struct worker *w);
/* Dispatcher: a classified record (hash: hosttab_hash of its inside host) to worker w. Per
 * record: inline. */
static inline void wk_dispatch(struct pipeline *p, struct worker *w, const struct flow_rec *f,
                               uint64_t hash)
{
    struct wq_batch *b = w->open;
    if (!b)
        b = wk_open_batch(p, w);
    struct wq_ent *e = &b->e[w->queued];
    e->f = *f;
    b->hash[w->queued] = hash;
    if (!w->started) /* a worker thread asks for its tag blocks itself: WQ_TAGS_AHEAD */
        b->probe[w->queued] = hosttab_prefetch_tags(w->hosts, hash);
    e->seq = ++p->seq;
    if (++w->queued >= WQ_BATCH)
        wk_batch_queued(p, w);
}
/* Dispatcher: records waiting for a full batch go to their workers now. */
void wk_hand_over(struct pipeline *p);
/* Dispatcher: every record handed to a worker thread visible, every sleeping thread woken
 * (before the dispatcher waits for one). */
void wk_wake(struct pipeline *p);
/* Dispatcher: take the alerts the workers queued that are final (record order). */
void wk_outbox_drain(struct pipeline *p);
/* Dispatcher: run every dispatched record to the end and take the alerts it raised; afterwards
 * the dispatcher may read and change every worker's state (window close, reload, statistics). */
void wk_quiesce(struct pipeline *p);

/* Dispatcher, every worker quiesced: the window close of every shard, fn(w) for each worker
 * on the thread that runs its records (worker 0's here, the threads' on their own at the same
 * time); the alerts they raise are held and raised sorted (pipe_hold_*) once every shard has
 * closed. Returns once every shard closed and its alerts are merged. */
typedef void wk_close_fn(struct worker *w);
void wk_close(struct pipeline *p, wk_close_fn *fn);

/* ---- custopts.c ---- */
/* det_ctx.conf_named: the option struct in force for a customer. arg: pipeline. */
const void *copt_conf_named(void *arg, const char *name, uint32_t customer);
/* Resolve every customer's overrides against the map m. 0 or -ENOMEM. */
int copt_build(struct pipeline *p, const struct customer_map *m, void ***out, size_t *nout);
void copt_free(void **cc, size_t n);
/* Take cc (n customers) into use, freeing the previous ones, and make p->confs (what det_conf
 * reads) say so, with the defaults of p->ov (or p's settings). */
void copt_swap(struct pipeline *p, void **cc, size_t n);

#endif
