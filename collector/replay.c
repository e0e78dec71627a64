/* replay.c: the lab replay (see replay.h): the files source or a live capture on one loop,
 * a progress bar, the end-of-run summary. */
#include "replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"
#include "counters.h"
#include "customers.h"
#include "evloop.h"
#include "files.h"
#include "flowpb.h"
#include "log.h"
#include "pbwire.h"
#include "rules.h"
#include "run.h"

/* ---- alerts by detector: a sink that only counts ---- */

#define MAX_DET_NAMES 24

struct alert_counter {
    char name[MAX_DET_NAMES][32];
    uint64_t count[MAX_DET_NAMES];
    size_t n;
    uint64_t other;
};

static int ac_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                      const char *json, size_t len)
{
    struct alert_counter *ac = self;
    (void)key;
    (void)keylen;
    if (kind != MSG_ALERT)
        return 0;
    static const char pat[] = "\"ruleset\":\"";
    const char *p = memmem(json, len, pat, sizeof pat - 1);
    if (!p) {
        ac->other++;
        return 0;
    }
    p += sizeof pat - 1;
    const char *end = memchr(p, '"', len - (size_t)(p - json));
    if (!end || end - p >= 32 || end == p) {
        ac->other++;
        return 0;
    }
    size_t nl = (size_t)(end - p);
    for (size_t i = 0; i < ac->n; i++) {
        if (strlen(ac->name[i]) == nl && memcmp(ac->name[i], p, nl) == 0) {
            ac->count[i]++;
            return 0;
        }
    }
    if (ac->n == MAX_DET_NAMES) {
        ac->other++;
        return 0;
    }
    memcpy(ac->name[ac->n], p, nl);
    ac->name[ac->n][nl] = 0;
    ac->count[ac->n++] = 1;
    return 0;
}

static void ac_destroy(void *self)
{
    free(self);
}

static const struct sink_ops alert_counter_ops = {
    .name = "replay-summary",
    .publish = ac_publish,
    .destroy = ac_destroy,
};

/* ---- per-customer tallies (the pipeline's record tap) ---- */

/* A record's side of its customer's tally: out (or neither end a customer), in, internal (both
 * ends in the customer; its packets are counted, not shown). */
enum tally_side { T_OUT, T_IN, T_INT, T_SIDES };
struct tally {
    uint64_t flows[T_SIDES], pkts[T_SIDES], bytes[T_SIDES];
};
/* The side of each enum flow_dir: an index, so the tap takes no branch on it. */
static const uint8_t side_of_dir[4] = {[FLOW_DIR_NONE] = T_OUT,
                                       [FLOW_DIR_OUT] = T_OUT,
                                       [FLOW_DIR_IN] = T_IN,
                                       [FLOW_DIR_INTERNAL] = T_INT};

struct replay {
    const struct replay_opts *o;
    struct ingest *in;
    struct pipeline *p;
    struct evloop *loop;
    struct source_set ss;
    struct source *files; /* the files source (progress), or NULL (live) */
    size_t ninputs;
    struct tally *cust; /* [0] = neither end a customer */
    size_t ncust;
    uint64_t t0_ns;
    uint64_t goflow2_errors; /* --write-goflow2 writes that failed */
};

/* --write-goflow2: the record as GoFlow2 writes it (length-prefixed FlowMessage). Out of line:
 * inlined, its message buffer gave tap a stack frame (and its set-up) on every record. */
static __attribute__((noinline)) void write_goflow2(struct replay *rp, const struct flow_rec *f)
{
    uint8_t buf[PB_VARINT_MAX + FLOWPB_MAX], *msg = buf + PB_VARINT_MAX;
    int len = goflow2_encode(f, NULL, msg, FLOWPB_MAX);
    if (len <= 0)
        return; /* cannot happen: FLOWPB_MAX bounds a message */
    size_t pl = pb_varint_len((uint64_t)len);
    struct pb_writer w;
    pb_writer_init(&w, msg - pl, pl);
    pb_put_varint(&w, (uint64_t)len);
    if (fwrite(msg - pl, 1, pl + (size_t)len, rp->o->goflow2_out) != pl + (size_t)len)
        rp->goflow2_errors++;
}

static void tap(void *arg, struct flow_rec *f)
{
    struct replay *rp = arg;
    size_t c = f->customer < rp->ncust ? f->customer : 0;
    struct tally *t = &rp->cust[c];
    unsigned s = side_of_dir[f->dir & 3];
    t->flows[s]++;
    t->pkts[s] += f->packets;
    t->bytes[s] += f->bytes;
    if (rp->o->goflow2_out) /* last: a tail call, tap keeps no register across it */
        write_goflow2(rp, f);
}

/* ---- the progress bar (stderr, a terminal) ---- */

/* Timer, 5 times a second. */
static uint64_t draw(void *arg, uint64_t now_ms)
{
    (void)now_ms;
    struct replay *rp = arg;
    uint64_t done, total;
    files_source_progress(rp->files, &done, &total);
    struct ingest_stats is;
    ingest_stats(rp->in, &is);
    double el = (double)(clock_mono_ns() - rp->t0_ns) / 1e9;
    double frac = total ? (double)done / (double)total : 0;
    if (frac > 1)
        frac = 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    char a[32], b[32], r[32], eta[32] = "--:--";
    text_si(a, sizeof a, (double)done, "B");
    text_si(b, sizeof b, (double)total, "B");
    text_si(r, sizeof r, el > 0 ? (double)is.packets / el : 0, "pkt/s");
    if (frac > 0.001 && el > 0.5) {
        unsigned left = (unsigned)(el / frac - el);
        snprintf(eta, sizeof eta, "%u:%02u", left / 60, left % 60);
    }
    fprintf(stderr, "\r[%s] %5.1f%%  %s / %s  %s  ETA %s\033[K", bar, frac * 100, a, b, r, eta);
    fflush(stderr);
    return 200;
}

/* ---- the end-of-run summary (stderr) ---- */

/* Customers with traffic, most bytes first (at most 20 rows), then the unmatched. */
static void print_customers(const struct replay *rp)
{
    const struct customer_map *cm = pipeline_customers(rp->p);
    fprintf(stderr, "  %-24s %10s %10s %10s %12s %12s %14s %14s %14s\n", "customer", "flows out",
            "flows in", "internal", "packets out", "packets in", "bytes out", "bytes in",
            "bytes int");
    size_t shown = 0;
    bool *used = calloc(rp->ncust ? rp->ncust : 1, sizeof *used);
    while (used && shown < 20) {
        size_t best = 0;
        uint64_t bb = 0;
        for (size_t c = 1; c < rp->ncust; c++) {
            const struct tally *t = &rp->cust[c];
            uint64_t b = t->bytes[T_OUT] + t->bytes[T_IN] + t->bytes[T_INT];
            uint64_t f = t->flows[T_OUT] + t->flows[T_IN] + t->flows[T_INT];
            if (!used[c] && f && (best == 0 || b > bb)) {
                best = c;
                bb = b;
            }
        }
        if (!best)
            break;
        used[best] = true;
        const struct customer *cu = customers_get(cm, (uint32_t)best);
        const struct tally *t = &rp->cust[best];
        fprintf(stderr, "  %-24.24s %10llu %10llu %10llu %12llu %12llu %14llu %14llu %14llu\n",
                cu ? cu->id : "?", (unsigned long long)t->flows[T_OUT],
                (unsigned long long)t->flows[T_IN], (unsigned long long)t->flows[T_INT],
                (unsigned long long)t->pkts[T_OUT], (unsigned long long)t->pkts[T_IN],
                (unsigned long long)t->bytes[T_OUT], (unsigned long long)t->bytes[T_IN],
                (unsigned long long)t->bytes[T_INT]);
        shown++;
    }
    free(used);
    const struct tally *t = &rp->cust[0];
    fprintf(stderr, "  %-24s %10llu %10s %10s %12llu %12s %14llu %14s %14s\n", "(no customer)",
            (unsigned long long)(t->flows[T_OUT] + t->flows[T_IN]), "", "",
            (unsigned long long)(t->pkts[T_OUT] + t->pkts[T_IN]), "",
            (unsigned long long)(t->bytes[T_OUT] + t->bytes[T_IN]), "", "");
}

static void print_summary(struct replay *rp, const struct alert_counter *ac)
{
    struct ingest_stats is;
    ingest_stats(rp->in, &is);
    struct meter_stats ms;
    ingest_meter_stats(rp->in, &ms);
    struct pipeline_stats ps;
    pipeline_stats(rp->p, &ps);
    double el = (double)(clock_mono_ns() - rp->t0_ns) / 1e9;
    char rate[32];
    text_si(rate, sizeof rate, el > 0 ? (double)is.packets / el : 0, "pkt/s");
    fprintf(stderr, "\ntransitwatch replay: %zu input%s in %.1f s (%s)\n", rp->ninputs,
            rp->ninputs == 1 ? "" : "s", el, rate);
    fprintf(stderr,
            "  packets   %llu (%llu bytes on the wire), %llu metered, %llu export "
            "datagrams\n",
            (unsigned long long)is.packets, (unsigned long long)is.packet_bytes,
            (unsigned long long)is.metered, (unsigned long long)is.datagrams);
    fprintf(stderr,
            "  flows     %llu: %llu metered, %llu from archives and logs, %llu decoded; "
            "meter evictions %llu\n",
            (unsigned long long)ps.flows, (unsigned long long)ms.flows,
            (unsigned long long)is.archive_records,
            (unsigned long long)(ps.flows - ms.flows - is.archive_records),
            (unsigned long long)ms.evicted);
    uint64_t log_records = source_set_counter(&rp->ss, "log_records_total");
    if (log_records || is.log_bad_lines)
        fprintf(stderr, "  logs      %llu records from Zeek/Argus logs, %llu bad lines skipped\n",
                (unsigned long long)log_records, (unsigned long long)is.log_bad_lines);
    if (!rp->files)
        fprintf(stderr, "  capture   kernel drops %llu, interface drops %llu\n",
                (unsigned long long)source_set_counter(&rp->ss, "capture_kernel_drops_total"),
                (unsigned long long)source_set_counter(&rp->ss, "capture_interface_drops_total"));
    print_customers(rp);
    fprintf(stderr, "  alerts    %llu", (unsigned long long)ps.alerts.published);
    for (size_t i = 0; i < ac->n; i++)
        fprintf(stderr, "%s %s %llu", i ? "," : ":", ac->name[i], (unsigned long long)ac->count[i]);
    if (ac->other)
        fprintf(stderr, ", other %llu", (unsigned long long)ac->other);
    fprintf(stderr, " (suppressed %llu)\n", (unsigned long long)ps.alerts.suppressed);
    /* and every counter that moved, from the tables /metrics and the totals use */
    static struct counters_snap cs; /* main thread only; large */
    counters_take(rp->in, rp->p, &cs);
    fprintf(stderr, "  counters that moved:\n");
    counters_table(stderr, &cs);
    source_set_table(&rp->ss, stderr);
}

/* ---- the loop ---- */

static bool check_stop(void *arg)
{
    struct replay *rp = arg;
    if (rp->o->stop && *rp->o->stop)
        evloop_stop(rp->loop);
    return false;
}

static void all_ended(void *arg)
{
    evloop_stop(((struct replay *)arg)->loop);
}

/* Live: templates, fragments and metered flows expire on the wall clock. */
static uint64_t live_expire(void *arg, uint64_t now_ms)
{
    (void)now_ms;
    ingest_expire(((struct replay *)arg)->in, clock_wall_ms());
    return 100;
}

static uint64_t live_duration(void *arg, uint64_t now_ms)
{
    (void)now_ms;
    evloop_stop(((struct replay *)arg)->loop);
    return 0;
}

/* A live interface as the one source, with its expiry and duration timers. 0 or -errno. */
static int open_live(struct replay *rp, const struct source_out *out)
{
    const struct replay_opts *o = rp->o;
    struct source *src;
    char err[512];
    int rc = capture_source_open_live(o->interface, o->interface, o->bpf, o->snaplen, o->promisc,
                                      o->buffer_mb, o->max_packets, out, &src, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "transitwatch: %s\n", err);
        return rc;
    }
    rp->ninputs = 1;
    if (evloop_add_timer(rp->loop, 100, live_expire, rp) < 0 ||
        (o->duration_ms && evloop_add_timer(rp->loop, o->duration_ms, live_duration, rp) < 0)) {
        src->ops->close(src);
        return -ENOSPC;
    }
    return source_set_add(&rp->ss, src);
}

/* The inputs as sources: a live interface, or the files in time order. Returns 0, 1 (no input
 * found), or -errno (cannot start; message on stderr). */
static int open_sources(struct replay *rp)
{
    const struct replay_opts *o = rp->o;
    struct source_out out = ingest_source_out(rp->in);
    if (o->interface)
        return open_live(rp, &out);
    struct files_input *files = NULL;
    char err[512];
    int n = files_expand(o->inputs, o->ninputs, o->log_fmt, &files, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "transitwatch: %s\n", err);
        return n;
    }
    if (n == 0) {
        free(files);
        fprintf(stderr, "transitwatch: no capture, nfcapd file or flow log among the inputs\n");
        return 1;
    }
    rp->ninputs = (size_t)n;
    struct files_opts fo = {.nfdump_fmt = o->nfdump_fmt, .nfdump_bin = o->nfdump_bin};
    struct source *src;
    int rc = files_source_open(files, (size_t)n, &fo, &out, &src);
    if (rc < 0 || (rc = source_set_add(&rp->ss, src)) < 0)
        return rc;
    rp->files = src;
    return 0;
}

/* Run the loop over the inputs; the return as replay_run's. */
static int run_inputs(struct replay *rp, bool progress)
{
    int rc = source_set_init(&rp->ss, rp->loop);
    if (rc < 0 || (rc = evloop_add_before_sleep(rp->loop, check_stop, rp)) < 0)
        return rc;
    rp->ss.on_all_ended = all_ended;
    rp->ss.on_all_ended_arg = rp;
    rc = open_sources(rp);
    if (rc != 0)
        return rc;
    if (progress && rp->files && (rc = evloop_add_timer(rp->loop, 200, draw, rp)) < 0)
        return rc;
    evloop_run(rp->loop);
    if (progress && rp->files)
        fprintf(stderr, "\r\033[K");
    return source_set_failures(&rp->ss) ? 1 : 0;
}

/* Files are read one after the other in the order of their first record, not merged: a file
 * that starts before the one before it ended gives records whose window had closed (late,
 * counted in the open one, so its alerts and summaries are not those of its own time). */
static void warn_overlap(const struct replay *rp)
{
    struct pipeline_stats ps;
    pipeline_stats(rp->p, &ps);
    if (rp->files && rp->ninputs > 1 && ps.late)
        log_warn("%llu records came after their window had closed (flows_late): the %zu inputs "
                 "overlap in time and are read one after the other, not merged (merge captures of "
                 "one period into one first: mergecap)",
                 (unsigned long long)ps.late, rp->ninputs);
}

int replay_run(const struct replay_opts *o, struct ingest *in, struct pipeline *p,
               struct sinks *sinks)
{
    struct replay rp = {.o = o, .in = in, .p = p};
    bool tty = isatty(STDERR_FILENO);
    bool progress = o->progress < 0 ? tty : o->progress;
    bool summary = o->summary < 0 ? tty : o->summary;
    rp.ncust = customers_count(pipeline_customers(p)) + 1;
    rp.cust = calloc(rp.ncust, sizeof *rp.cust);
    struct alert_counter *ac = calloc(1, sizeof *ac);
    if (!rp.cust || !ac || evloop_new(&rp.loop) < 0) {
        free(rp.cust);
        free(ac);
        fprintf(stderr, "transitwatch: out of memory\n");
        return -ENOMEM;
    }
    struct alert_counter acs; /* the sink owns ac; keep a view for the summary */
    if (sinks_add(sinks, (struct sink){&alert_counter_ops, ac}) < 0) {
        free(ac);
        ac = NULL;
    }
    pipeline_set_record_tap(p, tap, &rp);
    rp.t0_ns = clock_mono_ns();
    int rc = run_inputs(&rp, progress);
    ingest_finish(in);
    pipeline_finish(p);
    pipeline_set_record_tap(p, NULL, NULL);
    warn_overlap(&rp);
    if (o->goflow2_out && (rp.goflow2_errors || fflush(o->goflow2_out) != 0)) {
        log_error("--write-goflow2: cannot write every record");
        rc = rc < 0 ? rc : 1;
    }
    if (summary && rc >= 0) {
        if (ac)
            acs = *ac;
        else
            memset(&acs, 0, sizeof acs);
        print_summary(&rp, &acs);
    }
    source_set_close(&rp.ss);
    evloop_free(rp.loop);
    free(rp.cust);
    return rc;
}

/* ---- the command ---- */

static int flows_open(const char *path, FILE **out)
{
    *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (*out)
        return 0;
    int e = errno;
    log_error("--flows %s: %s", path, strerror(e));
    return -e;
}

int replay_main(struct run *r, const struct replay_cli *c)
{
    struct conf_error err;
    char msg[600];
    FILE *flows = NULL;
    struct replay_opts ro = c->ro;
    int rc = 2;
    if (settings_validate(&r->s, &err) < 0 || run_load_lists(r, &err) < 0) {
        fprintf(stderr, "transitwatch replay: %s\n", conf_error_str(&err, msg, sizeof msg));
        goto out;
    }
    struct ingest_opts io;
    ingest_opts_default(&r->s, &io);
    io.replay = true;
    if (c->ports) {
        memcpy(io.ports, c->ports, c->nports * sizeof *io.ports);
        io.nports = c->nports;
    }
    if (c->no_sniff)
        io.sniff = false;
    if (c->have_route)
        io.route = c->route;
    if (run_start(r, true, &io, c->output, !c->append, c->text) < 0 ||
        (c->collect && run_collect(r) < 0))
        goto out;
    if (c->flows) {
        if (flows_open(c->flows, &flows) < 0)
            goto out;
        pipeline_set_flow_log(r->pipe, flows);
    }
    if (c->report && run_open_report(r, "transitwatch replay report", c->report, NULL) < 0)
        goto out;
    if (c->goflow2_out && !(ro.goflow2_out = fopen(c->goflow2_out, "wb"))) {
        log_error("--write-goflow2 %s: %s", c->goflow2_out, strerror(errno));
        goto out;
    }
    rc = replay_run(&ro, r->in, r->pipe, &r->sinks);
    if (rc < 0) {
        rc = 2;
        goto out;
    }
    /* a replay that read nothing at all has no totals to give (not a line of zeros); lines it
     * could not read are something to report */
    struct ingest_stats ist;
    ingest_stats(r->in, &ist);
    if (c->totals && (rc == 0 || ist.packets || ist.archive_records || ist.archive_bad_lines ||
                      ist.log_bad_lines))
        run_publish_totals(r, "transitwatch.totals", NULL);
    if (sinks_flush(&r->sinks, (int)(r->s.kafka.flush_timeout * 1000)) < 0)
        rc = 1;
out:
    if (ro.goflow2_out && fclose(ro.goflow2_out) != 0) {
        log_error("--write-goflow2 %s: %s", c->goflow2_out, strerror(errno));
        rc = 1;
    }
    if (flows && flows != stdout && fclose(flows) != 0) {
        log_error("--flows %s: %s", c->flows, strerror(errno));
        rc = 1;
    }
    run_teardown(r);
    return rc;
}
