/* pipeline.h: from decoded flow records to alerts and summaries.
 *
 * Every source hands its records to pipeline_flow() (it is a flow_emit_fn). The pipeline looks
 * up the customer of both ends (longest-prefix match, then the exporter's AS numbers), sets the
 * direction and inside host, shards the record to a worker by (customer, inside host), where
 * the worker's host table and detectors see it. Windows close on event time (the records' own
 * end times, less the configured lateness), so a replay gives the same output every time; live,
 * pipeline_tick() also advances time when no records come.
 * At each window close: detectors report, then one summary per customer that had traffic.
 * Threads: with `workers = 1` all of it runs on the caller's thread (the main loop's). With
 * more, workers 1.. are threads that own their host tables and detector instances, worker 0
 * runs on the caller's thread (the dispatcher), which keeps time, customers, accounting and the
 * alert manager and hands records over through one ring per worker (core/ring.h). Which
 * worker holds a host is a shard map from a hash of its address, in which worker 0 has the
 * smaller share `[collector] dispatcher_cost` leaves it (the dispatcher's own work evens it). Window close,
 * reload and statistics first run every handed-over record to the end, then work on the idle
 * workers' state from the caller's thread, except that at a window close each worker closes
 * its own shard on its own thread, all at once; alerts a worker raises while records run come
 * back through its outbox and are merged in record order, those of a close worker by worker
 * after worker 0's, so a replay's output is the same on every run, and the same messages for
 * any number of workers.
 * Inside: pipeline_int.h (the façade, windows, workers, per-customer options).
 * Ownership: the customer map and feed set are taken; sinks are borrowed.
 */
#ifndef TW_PIPELINE_H
#define TW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alerts.h"
#include "customers.h"
#include "detector.h"
#include "exporter.h"
#include "feeds.h"
#include "flow.h"
#include "flowpb.h"
#include "settings.h"
#include "summary.h"

struct pipeline;

struct pipeline_stats {
    uint64_t flows;          /* records in */
    uint64_t unmatched;      /* neither end in a customer */
    uint64_t to_group;       /* a customer's host to a multicast or broadcast address: no peer */
    uint64_t by_dir[4];      /* enum flow_dir */
    uint64_t bytes, packets; /* of all records */
    uint64_t late;           /* records that ended before the open window */
    uint64_t time_skew;      /* records flagged FLOW_F_CLOCK_SKEW (daemon: far from their
                                 exporter's clock; times kept, not used by timing detectors) */
    uint64_t windows_closed;
    uint64_t summaries;
    uint64_t summaries_repeated; /* detect: re-read windows whose summary was made before */
    uint64_t host_evictions, host_evictions_active, hosts_active, host_capacity;
    uint64_t host_evictions_dark; /* addresses that never sent, pushed out first */
    uint64_t host_table_bytes; /* every worker's host table (the memory model, bench/RESULTS.md) */
    uint64_t host_slot_bytes;  /* one host's slot: struct host + the detectors' state, rounded */
    uint64_t hosts_high_water; /* the most hosts the tables held at once (slots touched) */
    uint64_t list_swaps;       /* reloads taken into use */
    uint64_t queue_waits;      /* times the pipeline thread found a worker's ring full */
    uint64_t alerts_truncated; /* alerts from worker threads whose strings did not fit */
    uint64_t outbox_waits;     /* alerts a worker thread held until its outbox had room */
    uint64_t hostility_tracked, hostility_refused; /* customer verdict table (hostility.h) */
    uint64_t alerts_without_rule; /* alerts whose rule id has no entry in core/rules.c */
    uint64_t alerts_unsorted;     /* window-close alerts raised at once, unsorted: no memory to
                                     hold them (merge.c pipe_hold_*) */
    uint64_t resets;              /* detect: pipeline_reset (rebalances) */
    uint64_t reset_failures;      /* detect: resets that could not make the workers anew */
    uint64_t forwarded;           /* collect: record parts handed on (an internal record: two) */
    uint64_t part_mismatch;       /* detect: a record's internal part that our customer map does not
                               make internal (collect ran with other lists): dropped */
    struct alert_mgr_stats alerts;
};

int pipeline_new(const struct settings *s, bool replay, struct customer_map *customers,
                 struct feed_set *feeds, struct sinks *sinks, struct pipeline **out);
void pipeline_free(struct pipeline *p);
/* flow_emit_fn: arg is the pipeline. */
void pipeline_flow(void *arg, struct flow_rec *f);
/* detect --from-kafka: a record transitwatch collect classified and published (flowpb.h), as
 * one customer's part (m->part), or a tick (FLOWPB_PART_TICK: only event time moves; f unused). Event time is the collector's: the windows before the
 * record's window close first (the source hands records on window by window), so each record
 * lands in the window a single process would have put it in. The record is classified again
 * against this pipeline's customer map (the same lists as the collector's). f is changed. */
void pipeline_flow_part(struct pipeline *p, struct flow_rec *f, const struct flowpb_meta *m);
/* detect --from-kafka, at a rebalance: drop every window's state (hosts, detector instances,
 * open-window figures, event time) as if the pipeline were new; the settings, lists,
 * statistics, the alert incidents (so an alert raised again when a window is read again folds
 * into its incident: the same event.id) and the customers' hostility trends stay. 0 or -errno
 * (out of memory, a worker thread that cannot start; logged, counted in reset_failures): the
 * pipeline is then broken, without workers: every call stays safe (records are counted in
 * flows and not run, pipeline_finish closes nothing, pipeline_stats reports the pipeline's
 * own figures and no host table's, pipeline_free frees), and the caller ends (daemon.c: exit
 * status 1). A later pipeline_reset tries again. */
int pipeline_reset(struct pipeline *p);
/* Whether a pipeline_reset failed and left the pipeline without workers (see above). */
bool pipeline_broken(const struct pipeline *p);
/* detect --from-kafka with several instances: the detectors' views shared across processes
 * (detector.h share_export, share_import; sources/kafka_in.c sends and receives them).
 * pipeline_share_export, just before the release that closes the open window: every worker's
 * records run to the end, then each enabled detector with share_export emits the entries its
 * instances will add at that close, as fn(arg, det, entry, len) with det the detector's index
 * in det_registry; returns the number of entries. pipeline_share_import: another instance's
 * entry for the open window, to detector det (registry index); 0, -ENOENT (that detector is
 * not enabled here or shares nothing) or the detector's error. Both on the pipeline thread. */
typedef void pipeline_share_fn(void *arg, uint32_t det, const void *entry, size_t len);
size_t pipeline_share_export(struct pipeline *p, pipeline_share_fn *fn, void *arg);
int pipeline_share_import(struct pipeline *p, uint32_t det, const void *entry, size_t len);
/* collect: every classified record goes to fn instead of the detectors (an internal one twice,
 * one call per customer part, both with the record's number m->seq: one more per record, from
 * the wall clock's microseconds at this call), with the window and watermark in force;
 * unmatched records are only counted. Whenever the window moves (a record, the idle advance),
 * fn first gets a tick: f NULL, m->part FLOWPB_PART_TICK. fn runs on the pipeline's thread; f
 * and m are borrowed for the call. */
typedef void pipeline_forward_fn(void *arg, const struct flow_rec *f, const struct flowpb_meta *m);
void pipeline_set_forward(struct pipeline *p, pipeline_forward_fn *fn, void *arg);
/* Live mode: wall clock now; advances event time after idle_advance without records (not once
 * pipeline_flow_part brought the collector's event time: detect moves with its ticks). */
void pipeline_tick(struct pipeline *p, uint64_t wall_ms);
/* Close the open window (end of a replay, shutdown). */
void pipeline_finish(struct pipeline *p);
/* Reload: new lists take effect at once, for the next record, without losing window state:
 * hosts move to the customer their address now maps to (or are forgotten), the open window's
 * per-customer figures carry over by customer id, and a replaced feed set stays alive until
 * the window closes. Both taken (NULL = keep), also on error. Returns 0, -EBUSY (too many
 * reloads within one window: the old lists stay) or -ENOMEM. */
int pipeline_swap_lists(struct pipeline *p, struct customer_map *customers, struct feed_set *feeds);
/* Reload: per-customer detector options ([customer ID] sections) from a newly loaded settings
 * struct, which must stay alive until the next call or pipeline_free (the caller owns it).
 * Call after pipeline_swap_lists. Returns 0 or -ENOMEM (the old options stay). */
int pipeline_swap_overrides(struct pipeline *p, const struct settings *from);
/* Runs every record handed over so far to the end first (the workers' tables are read). */
void pipeline_stats(struct pipeline *p, struct pipeline_stats *out);
/* One enabled detector's counters (detector.h), summed over the workers' instances: v is the
 * snapshot its ops->ctr_defs describe. */
struct det_counters {
    const struct detector_ops *ops;
    uint64_t v[DET_CTR_MAX];
};
/* The enabled detectors that declare counters, in [pipeline] detectors order, at most max.
 * Runs every record handed over so far to the end first. Returns how many were filled. */
size_t pipeline_detector_counters(struct pipeline *p, struct det_counters *out, size_t max);
/* Lab use: write every record, after classification, as one JSON line to f (borrowed; NULL =
 * off): src, dst, sport, dport, proto, tcp_flags, bytes, packets, first, last (Unix ms),
 * sampling, direction, customer. */
void pipeline_set_flow_log(struct pipeline *p, FILE *f);
/* Called with every record pipeline_flow was handed, after the pipeline (classified: customer
 * and dir set; a broken pipeline's unclassified) and the flow log, and with every record of
 * pipeline_flow_part once (its SRC or ALL part, not a DST part or a tick): replay's end-of-run
 * tallies. rec borrowed for the call; NULL: none. Here, not in the ingest that hands records
 * on, so the decoders and the meter emit straight to pipeline_flow (one call a record less). */
void pipeline_set_record_tap(struct pipeline *p, flow_emit_fn fn, void *arg);
/* Called with every customer summary made at a window close (on the pipeline thread; sum
 * borrowed for the call), whether or not summaries are published. NULL: none. */
typedef void pipeline_summary_fn(void *arg, uint32_t customer_index, const struct summary *sum);
void pipeline_set_summary_tap(struct pipeline *p, pipeline_summary_fn *fn, void *arg);
/* End of the last window closed (event time, Unix ms), 0 before the first close. */
uint64_t pipeline_last_window_end(const struct pipeline *p);
/* The incidents (collector/alerts.h), for the daemon's incidents file: the pipeline thread's. */
struct alert_mgr *pipeline_alert_mgr(struct pipeline *p);
/* The address of exporter index idx1 (flow_rec.exporter, >= 1): true and out set, or false.
 * Called on the pipeline thread, which is the thread that decodes. */
typedef bool pipeline_exporter_fn(void *arg, uint32_t idx1, uint8_t out[16]);
/* Who names exporters for the alerts' observer (the ingest sets its decoder). NULL: nobody. */
void pipeline_set_exporter_names(struct pipeline *p, pipeline_exporter_fn *fn, void *arg);
/* The customer map in force (borrowed). */
const struct customer_map *pipeline_customers(const struct pipeline *p);

#endif
