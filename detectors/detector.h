/* detector.h: the detector interface.
 *
 * Who calls what: each worker of the pipeline owns one instance of every enabled detector
 * (made by ops->init on the main thread before traffic, used afterwards only on that worker's
 * thread, so detectors need no locks). For every classified flow record (dir OUT, IN or
 * INTERNAL) the worker finds or creates the inside host in its host table and calls on_flow
 * with that host and the detector's slice of the host's state. When the open window closes (on
 * the records' own time), the worker calls on_host_window for every host seen in that window,
 * then on_window once (every worker at once, each on its own thread). Alerts go out through
 * det_alert(); the alert is borrowed for the call.
 * A detector that needs a view across every host (hosts are sharded over the workers, each with
 * its own instance) gets on_window_merge first: once per window close, on the dispatcher thread
 * with every worker idle, with all the instances, before any of them is asked to report.
 * A detector never sees wire formats, sockets or sinks.
 *
 * Adding a detector: one file detectors/det_NAME.c defining `const struct detector_ops
 * det_NAME_ops` (with its counters, below), one line in detectors/registry.c, one entry per
 * rule it raises in core/rules.c, one tests/unit/test_det_NAME.c.
 *
 * Counters: a detector declares its counters (core/ctr.h) once, as an X-macro list next to its
 * state, and they appear in /metrics, in the JSON totals (transitwatch.totals.detectors.NAME)
 * and in the replay's end-of-run listing, each with its unit and help text:
 *     #define T struct scan_ctr
 *     #define SCAN_COUNTERS(X)                                                        \
 *         X(T, attempts, "attempts", "detector_scan_attempts_total", NULL, CTR_COUNTER, \
 *           "Connection attempts customer hosts made.") ...
 *     struct scan_ctr { SCAN_COUNTERS(CTR_FIELD) };
 *     static const struct ctr_def scan_ctr_defs[] = {SCAN_COUNTERS(CTR_ROW)};
 *     #undef T
 * and in its ops: DET_COUNTERS(scan_ctr_defs, struct scan_ctr, scan_counters). The JSON key is
 * the row's json (no dots); the Prometheus name starts with detector_NAME_ (counters end in
 * _total, gauges name their unit); tests/unit/test_det_counters.c checks every registered
 * detector. Every value is summed over the workers' instances: declare quantities that add up
 * (events, table entries, capacities), never ratios or entry sizes.
 */
#ifndef TW_DETECTOR_H
#define TW_DETECTOR_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "alert.h"
#include "conf.h"
#include "ctr.h"
#include "flow.h"
#include "hash.h"
#include "host.h"
#include "initiator.h"

struct feed_set;
struct json;

/* The record the detectors' on_flow calls are for, as the worker knows it (det_ctx.rec). */
struct det_rec {
    uint32_t batch_no; /* its place in the worker's batch + 1 (det_memo_get); 0: not from one */
    bool init_known;   /* init_who/init_basis hold flow_initiator's answer (det_initiator) */
    uint8_t init_who, init_basis;
    uint64_t host_hash; /* with batch_no: hash_host(ctx->host_key, the inside host's address) */
};

/* The option structs in force, per customer and detector (config defaults + the customers'
 * overrides): the pipeline's (collector/custopts.c), replaced only while every worker is idle,
 * so any thread reads them without locks. det_conf looks them up inline: it runs for several
 * detectors per record. */
struct det_confs {
    const void *const *cust; /* cust[customer * ndet + d]: the customer's own option struct
                              * (its [customer ID] overrides applied); NULL: dflt[d] */
    size_t ncust, ndet;      /* customers (index1 + 1) cust has rows for (0: none), detectors */
    const void *const *dflt; /* dflt[d]: detector d's [detector.NAME] section in force */
    uint32_t gen;            /* changes whenever the structs do (a reload may allocate new ones
                              * where freed ones were: a cache keyed by a struct's address
                              * checks gen too) */
};

/* Detector d's option struct in force for a customer (index1; 0 and customers without
 * overrides: the defaults). Pure. */
static inline const void *det_confs_get(const struct det_confs *t, size_t d, uint32_t customer)
{
    if (customer < t->ncust) {
        const void *c = t->cust[(size_t)customer * t->ndet + d];
        if (c)
            return c;
    }
    return t->dflt[d];
}

/* Per-customer detector settings the pipeline resolves (config defaults + overrides). */
struct det_ctx {
    uint64_t win_start_ms, win_end_ms; /* the open (or closing) window */
    uint32_t window_no;                /* win_start_ms / window length */
    /* The last close (end of input, or the stop of a daemon): no record and no later close
     * follow, so what a detector keeps waiting for a later window (a probe's answer) is
     * settled now, by what was seen. Set on the window context for that close only. */
    bool last_close;
    uint32_t worker;              /* worker index */
    const struct feed_set *feeds; /* blocklists in force (swapped between windows on reload) */
    /* customer lookup for detectors that need it: index1 -> id/name (NULL if none) */
    const char *(*customer_id)(void *arg, uint32_t customer);
    /* the prefixes of a customer (for "own space listed"); returns count, sets *out */
    size_t (*customer_prefixes)(void *arg, uint32_t customer, const struct prefix **out);
    size_t (*customer_count)(void *arg);
    void *customers_arg;
    /* Every detector's option structs in force: det_conf(ctx, customer) gives this detector's
     * for a customer (the [detector.NAME] section with that customer's [customer.ID] overrides
     * applied; index1 0 = the defaults). Borrowed from the pipeline. */
    const struct det_confs *confs;
    size_t det_index; /* set by the worker before each call into a detector */
    /* The key of the inside hosts' keyed hash (core/hash.h hash_host): the host table's, one
     * for every worker. A table keyed on a host and what it talks to hashes the host with it
     * once (hash_host_salt, hash_host_mix), or takes the record's (det_host_hash). */
    const struct hash_host_key *host_key;
    /* Set by the worker before a record's on_flow calls (collector/workers.c track), for all
     * of them; zero elsewhere (window close, a harness that runs no batch): what every
     * detector may reuse of the record instead of computing it again. */
    struct det_rec rec;
    /* Another detector's option struct in force for a customer, by its registry name (its
     * [detector.NAME] section with the customer's overrides when that detector is enabled; the
     * section alone when it is not); NULL when there is no such detector. Call as
     * det_conf_named(ctx, "spam", customer), and find a field through the detector's conf_keys
     * (conf_find_key), not by its private struct. May be NULL (test harnesses). */
    const void *(*conf_named)(void *arg, const char *detector, uint32_t customer);
    /* alert output */
    void (*alert)(void *arg, const struct alert *a);
    void *alert_arg;
};

static inline const void *det_conf(const struct det_ctx *ctx, uint32_t customer)
{
    return det_confs_get(ctx->confs, ctx->det_index, customer);
}

static inline const void *det_conf_named(const struct det_ctx *ctx, const char *detector,
                                         uint32_t customer)
{
    return ctx->conf_named ? ctx->conf_named(ctx->customers_arg, detector, customer) : NULL;
}

static inline void det_alert(struct det_ctx *ctx, const struct alert *a)
{
    ctx->alert(ctx->alert_arg, a);
}

/* flow_initiator(f, basis) of the record on_flow runs for, computed once for every detector
 * that asks (ctx->rec, reset by the worker per record); without a batch (rec.batch_no 0),
 * computed at each call. The first asker computes it inline (flow_initiator_of: no call on the
 * per-record path). On the worker's thread, in on_flow only. */
static inline enum flow_init det_initiator(struct det_ctx *ctx, const struct flow_rec *f,
                                           enum flow_init_basis *basis)
{
    struct det_rec *r = &ctx->rec;
    if (!r->batch_no)
        return flow_initiator(f, basis);
    if (!r->init_known) {
        enum flow_init_basis b;
        r->init_who = (uint8_t)flow_initiator_of(f, &b);
        r->init_basis = (uint8_t)b;
        r->init_known = true;
    }
    if (basis)
        *basis = (enum flow_init_basis)r->init_basis;
    return (enum flow_init)r->init_who;
}

/* hash_host of on_flow's host h (the record's inside host): the pipeline's, computed once per
 * record (det_rec.host_hash); without a batch (rec.batch_no 0), computed. In on_flow only. */
static inline uint64_t det_host_hash(const struct det_ctx *ctx, const struct host *h)
{
    return ctx->rec.batch_no ? ctx->rec.host_hash : hash_host(ctx->host_key, h->addr);
}

/* A detector's per-batch memo: up to DET_MEMO_VALUES values per record of the worker's batch
 * that its prefetch pass computed (a key's hash, a salt) for on_flow to take instead of
 * computing them again. prefetch(self, i, f) sets place i for every record: det_memo_put
 * (then fills the values it returns) or det_memo_none (a place left as it was could hold an
 * earlier batch's values for a record at the same address). on_flow asks det_memo_get, which
 * answers only for the record the worker runs at that place (ctx->rec.batch_no). The worker
 * guarantees that on_flow's host is flow_inside(f) of f->customer, so a value computed from
 * the record is the one on_flow would compute. */
#define DET_BATCH_MAX 32  /* records in a worker's batch, at most (collector WQ_BATCH) */
#define DET_MEMO_VALUES 4 /* values kept per record */
struct det_memo {
    const struct flow_rec *f[DET_BATCH_MAX];
    uint64_t v[DET_BATCH_MAX][DET_MEMO_VALUES];
};

/* Place i now holds f's values: the caller writes them (NULL past the memo: keep nothing). */
static inline uint64_t *det_memo_put(struct det_memo *m, size_t i, const struct flow_rec *f)
{
    if (i >= DET_BATCH_MAX)
        return NULL;
    m->f[i] = f;
    return m->v[i];
}

static inline void det_memo_none(struct det_memo *m, size_t i)
{
    if (i < DET_BATCH_MAX)
        m->f[i] = NULL;
}

/* The values the prefetch pass kept for f (the record on_flow runs for), or NULL. */
static inline const uint64_t *det_memo_get(const struct det_memo *m, const struct det_ctx *ctx,
                                           const struct flow_rec *f)
{
    size_t i = (size_t)ctx->rec.batch_no - 1;
    return ctx->rec.batch_no && i < DET_BATCH_MAX && m->f[i] == f ? m->v[i] : NULL;
}

/* The share of the inside hosts one instance serves: part / whole of the shard map's buckets
 * its worker holds (collector/pipeline.c workers_new; 1/1 with one worker, 0/N for a worker
 * the map gives no host). Records are sharded by inside host, so a table keyed by the inside
 * host (with whatever else: peer, port, feed) fills in proportion to it. A detector's
 * capacity options are totals for the process: init takes its own part of each such table
 * with det_share_cap, so N workers hold about what one worker would, not N times it. */
struct det_share {
    uint32_t part, whole; /* whole > 0; part <= whole */
};

#define DET_SHARE_ALL ((struct det_share){1, 1})

/* An instance's part of a process-wide capacity `total`: ceil(total x part / whole), and at
 * least `min` (the option's own minimum: a worker with no hosts still gets a working table).
 * With part == whole it is `total` exactly; summed over the workers it stays within total +
 * workers x (min + 1). total up to 1e12, whole up to 2^20 (no overflow). */
static inline size_t det_share_cap(struct det_share sh, uint64_t total, uint64_t min)
{
    uint64_t c = sh.part >= sh.whole ? total : (total * sh.part + sh.whole - 1) / sh.whole;
    return (size_t)(c < min ? min : c);
}

struct detector_ops {
    const char *name; /* registry and config name: [detector NAME] */
    const char *help;
    const struct conf_key *conf_keys; /* its options (section [detector NAME]), NULL-terminated */
    size_t conf_size;                 /* size of its option struct */
    /* Options that are the process's, not a customer's (NULL-terminated names, may be NULL): a
     * [customer ID] override of one is refused. sizes: those init reads to size its tables (a
     * SIGHUP that changes one warns: it needs a restart); process_keys: the others, read from
     * the defaults' set (det_conf(ctx, 0)). */
    const char *const *sizes, *const *process_keys;
    size_t host_state_size; /* bytes of per-host state (0 = none), zeroed on host insert */
    /* conf: its option struct (defaults applied, then the file); share: the part of the inside
     * hosts this instance will serve, applied with det_share_cap to every table whose key
     * holds the inside host (its capacity option is the process's total). Returns 0 or <0. */
    int (*init)(const void *conf, struct det_share share, void **self);
    void (*on_flow)(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                    const struct flow_rec *f);
    /* May be NULL. Called for every record of the worker's batch a few records before on_flow
     * runs for it (collector/workers.c run_batch, on the thread that then runs them, between
     * the on_flow calls of the records before it; places 0..WQ_AHEAD-1 before any): start
     * loading the table lines on_flow will read for record f (__builtin_prefetch), so that the
     * records' cache misses overlap instead of coming one after the other. i is f's place in
     * the batch (0 starts a new one), host_hash hash_host(det_ctx.host_key, flow_inside(f))
     * (the pipeline's: no detector hashes the host again); on_flow then gets the same records
     * in the same order, with the host flow_inside(f) of customer f->customer and
     * ctx->rec.batch_no = i + 1. It changes no state on_flow decides on, and keeps (in a struct
     * det_memo, for on_flow to take instead of computing it again) only what on_flow's calls
     * for the records before f cannot change: values of f's keys (a hash, a bucket number). */
    void (*prefetch)(void *self, size_t i, const struct flow_rec *f, uint64_t host_hash);
    /* may be NULL */
    void (*on_host_window)(void *self, struct det_ctx *ctx, struct host *h, void *hstate);
    void (*on_window)(void *self, struct det_ctx *ctx); /* may be NULL */
    /* May be NULL. Once per window close, before every worker's on_host_window/on_window, on the
     * dispatcher thread while every worker is idle: selves[0..n) are the workers' instances in
     * worker order, ctx is worker 0's. For combining what the workers learnt into one view that
     * their on_window then reads (det_beacon's peer prevalence); the result must not depend on
     * how hosts were sharded. Every worker's on_host_window and on_window then run at once,
     * each on its worker's thread: they only read such a shared view. */
    void (*on_window_merge)(void *const *selves, size_t n, struct det_ctx *ctx);
    /* May be NULL (both). The same view shared by several processes (detect --from-kafka
     * instances, each with some customers' hosts; README "Beyond one box"): share_export, on the
     * pipeline thread with every worker idle, just before the window close whose
     * on_window_merge would add them, emits what selves[0..n) add to the view at that close as
     * entries of at most DET_SHARE_ENTRY_MAX bytes (the caller sends them to the other
     * instances); returns the number emitted. share_import, on the pipeline thread (workers may
     * run: it touches only state they never read), takes an entry another instance exported
     * for the open window into worker 0's instance; the next on_window_merge merges it into the
     * view. 0, or -EINVAL for an entry it cannot read. Merging must be idempotent and not
     * depend on order (an entry may come twice), so the view is the one a single process with
     * every host builds. */
    size_t (*share_export)(void *const *selves, size_t n, struct det_ctx *ctx,
                           void (*emit)(void *arg, const void *entry, size_t len), void *arg);
    int (*share_import)(void *self0, const void *entry, size_t len);
    /* Its counters (see the top of this file; DET_COUNTERS fills these four): rows describing
     * a snapshot struct of ctr_size bytes of uint64_t values, and counters() writing an
     * instance's values into snap (zeroed by the caller). Called on the pipeline thread while
     * the instance's worker is idle (pipeline_detector_counters). */
    const struct ctr_def *ctr_defs;
    size_t nctr, ctr_size;
    void (*counters)(const void *self, void *snap);
    void (*fini)(void *self);
};

#define DET_CTR_MAX 40          /* counter rows of one detector, at most */
#define DET_SHARE_ENTRY_MAX 512 /* bytes of one shared view entry (share_export) */
#define DET_COUNTERS(defs, type, fn)                                                               \
    .ctr_defs = defs, .nctr = sizeof defs / sizeof defs[0], .ctr_size = sizeof(type), .counters = fn

/* Do f's TCP flags and counters describe a whole connection (a flow record of every packet)?
 * Not when packets were sampled (1:N, N > 1: the SYN or the PSH may be missing), nor when the
 * record is one packet (FLOW_F_PACKET: sFlow, IPFIX packet sections, also at 1:1). The one
 * test a detector makes before it takes a record's flags as a connection's start, answer,
 * delivery or failure (det_bruteforce, det_spam, det_scan). Pure. */
static inline bool det_flow_whole(const struct flow_rec *f)
{
    return f->sampling <= 1 && !(f->flags & FLOW_F_PACKET);
}

/* NTP (RFC 5905) on the wire: UDP port 123; a message is the 48-byte header with at most a MAC (a
 * key id and a 16- or 20-byte digest) after it. */
#define DET_NTP_PORT 123
#define DET_NTP_MSG_MIN 48
#define DET_NTP_MSG_MAX 72

/* Are these packets NTP messages by their size: on average between the smallest and the largest
 * an NTP message makes with its UDP and IP (v4: IPv4) headers? Pure (det_beacon, det_scan). */
static inline bool det_ntp_sized(bool v4, uint64_t bytes, uint64_t packets)
{
    if (!packets)
        return false;
    uint64_t hdr = v4 ? 20 + 8 : 40 + 8, mean = bytes / packets;
    return mean >= hdr + DET_NTP_MSG_MIN &&
           (mean < hdr + DET_NTP_MSG_MAX ||
            (mean == hdr + DET_NTP_MSG_MAX && bytes % packets == 0));
}

/* Did the TCP connection whose initiator's record is f complete its handshake? With flags:
 * the initiator's cumulative flags hold ACK only when it acknowledged the SYN-ACK; SYN alone,
 * SYN+RST and the FIN/NULL/Xmas probes are connections never established (the RST reply is
 * the other direction's record, never needed). Without flags (exporters that omit them): more
 * than 3 packets or 180 bytes as seen before sampling (DETECTION-NOTES 0.2). Pure: det_scan
 * and det_bruteforce call it on their workers. */
static inline bool det_tcp_answered(const struct flow_rec *f)
{
    if (f->tcp_flags)
        return (f->tcp_flags & 0x10) != 0;
    uint64_t pk = f->sampling > 1 ? f->packets / f->sampling : f->packets;
    uint64_t by = f->sampling > 1 ? f->bytes / f->sampling : f->bytes;
    return pk > 3 || by > 180;
}

/* Packet sampling and counts of distinct things (DETECTION-NOTES 0.3; README "Detectors on
 * sampled data"). Under 1:N packet sampling a connection of k packets leaves at least one sampled
 * packet with probability p = 1 - (1 - 1/N)^k (det_seen_share), so a host that really contacted
 * D destinations with such connections shows about D * p of them. Bytes and packets need nothing:
 * the record carries them multiplied by N. A rule's count thresholds, meant for unsampled data,
 * are therefore all multiplied by one scale (det_sampled_scale): p, but never so low that the
 * rule's smallest threshold `base` asks for fewer than min_seen distinct things seen (a count
 * that small is a Poisson draw whose relative spread is 1/sqrt(count): noise, not evidence).
 * One scale for all of a rule's thresholds keeps their ratios (a rule's "high" stays a multiple
 * of its "alert"). det_scaled() applies it: ceil(thr * scale), at least 1. rate <= 1: scale 1,
 * thresholds as configured. Pure; the detectors call them at window close on their workers. */
static inline double det_seen_share(uint32_t rate, double k)
{
    if (rate <= 1)
        return 1.0;
    return 1.0 - exp(k * log1p(-1.0 / (double)rate));
}

static inline double det_sampled_scale(uint32_t rate, double k, uint32_t min_seen, uint32_t base)
{
    if (rate <= 1)
        return 1.0;
    double p = det_seen_share(rate, k), floor = base ? (double)min_seen / (double)base : 1.0;
    if (floor > 1)
        floor = 1;
    return p > floor ? p : floor;
}

/* Packet-sampled TCP: a completed connection sends at least three packets (SYN, the
 * handshake's ACK, FIN or RST), so at most a third of a client's sampled packets to a service
 * look unanswered or failed (SYN only); a scanner's or a spam bot's failed attempts are all
 * SYNs. With few samples the share is noise: u such packets of n sampled are evidence only when
 * they would have probability below alpha for a client. The Chernoff bound exp(-n KL(u/n ||
 * 1/3)) is at least the binomial tail, so the test errs towards silence (n SYNs of n need n >= 5
 * at alpha 0.01). Pure. */
static inline bool det_sampled_unlikely_client(uint64_t u, uint64_t n, double alpha)
{
    if (!n || u * 3 <= n)
        return false;
    double q = (double)u / (double)n, p = 1.0 / 3.0;
    double kl = q * log(q / p) + (q < 1 ? (1 - q) * log((1 - q) / (1 - p)) : 0);
    return exp(-(double)n * kl) < alpha;
}

static inline uint32_t det_scaled(uint32_t thr, double scale)
{
    if (scale >= 1.0) /* unsampled (the common case): thr itself, at least 1, no floating point */
        return thr ? thr : 1;
    double t = ceil((double)thr * scale - 1e-9);
    return t < 1 ? 1 : t >= (double)thr ? thr : (uint32_t)t;
}

extern const struct detector_ops *const det_registry[];
extern const size_t det_registry_count;
const struct detector_ops *det_find(const char *name);

#endif
