#include "replay.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "counters.h"
#include "customers.h"
#include "log.h"
#include "rules.h"

/* ---- inputs ---- */

struct input {
    char *path;
    enum replay_kind kind;
    enum flowlog_fmt fmt;
    uint64_t key; /* ms; UINT64_MAX = unknown (last) */
    size_t order;
};

struct inlist {
    struct input *v;
    size_t n, cap;
};

static bool is_capture_magic(const char *path)
{
    uint8_t h[4];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n < 4)
        return false;
    uint32_t be = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return be == 0xa1b2c3d4u || be == 0xd4c3b2a1u || be == 0xa1b23c4du || be == 0x4d3cb2a1u ||
           be == 0x0a0d0d0au || (h[0] == 0x1f && h[1] == 0x8b);
}

static int add_input(struct inlist *l, const char *path, enum replay_kind kind,
                     enum flowlog_fmt fmt, char *err, size_t errlen)
{
    if (l->n >= REPLAY_MAX_FILES) {
        snprintf(err, errlen, "more than %d input files", REPLAY_MAX_FILES);
        return -1;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        struct input *v = realloc(l->v, nc * sizeof *v);
        if (!v) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        l->v = v;
        l->cap = nc;
    }
    char *p = strdup(path);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->v[l->n] = (struct input){.path = p, .kind = kind, .fmt = fmt, .key = UINT64_MAX,
                                .order = l->n};
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int expand_dir(struct inlist *l, const char *dir, int depth, char *err, size_t errlen)
{
    if (depth > 8)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, "nfcapd.current", 14) == 0)
            continue;
        if (n >= REPLAY_MAX_FILES) {
            snprintf(err, errlen, "%s: more than %d entries", dir, REPLAY_MAX_FILES);
            rc = -1;
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **v = realloc(names, nc * sizeof *v);
            if (!v) {
                rc = -1;
                snprintf(err, errlen, "out of memory");
                break;
            }
            names = v;
            cap = nc;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            rc = -1;
            snprintf(err, errlen, "out of memory");
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (rc == 0 && n)
        qsort(names, n, sizeof *names, cmp_str);
    enum flowlog_fmt fmt;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat sb;
        if (stat(names[i], &sb) < 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            rc = expand_dir(l, names[i], depth + 1, err, errlen);
        else if (S_ISREG(sb.st_mode) && nfdump_is_archive(names[i]))
            rc = add_input(l, names[i], REPLAY_ARCHIVE, FLOWLOG_AUTO, err, errlen);
        else if (S_ISREG(sb.st_mode) && (fmt = flowlog_sniff(names[i])) != FLOWLOG_AUTO)
            rc = add_input(l, names[i], REPLAY_FLOWLOG, fmt, err, errlen);
        else if (S_ISREG(sb.st_mode) && is_capture_magic(names[i]))
            rc = add_input(l, names[i], REPLAY_CAPTURE, FLOWLOG_AUTO, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int cmp_input(const void *a, const void *b)
{
    const struct input *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A named file: an nfcapd archive, a Zeek/Argus log (by content, or any file that is not a
 * capture when the format was given), else a capture (opening it reports what is wrong). */
static int add_named(struct inlist *l, const char *path, enum flowlog_fmt log_fmt, char *err,
                     size_t errlen)
{
    if (strcmp(path, "-") == 0) /* stdin: a capture, read once (nothing may peek at it) */
        return add_input(l, path, REPLAY_CAPTURE, FLOWLOG_AUTO, err, errlen);
    if (nfdump_is_archive(path))
        return add_input(l, path, REPLAY_ARCHIVE, FLOWLOG_AUTO, err, errlen);
    enum flowlog_fmt fmt = flowlog_sniff(path);
    if (fmt != FLOWLOG_AUTO)
        return add_input(l, path, REPLAY_FLOWLOG, log_fmt != FLOWLOG_AUTO ? log_fmt : fmt, err,
                         errlen);
    uint64_t ts;
    char e[256];
    if (log_fmt != FLOWLOG_AUTO && capture_first_ts(path, &ts, e, sizeof e) != 1)
        return add_input(l, path, REPLAY_FLOWLOG, log_fmt, err, errlen);
    return add_input(l, path, REPLAY_CAPTURE, FLOWLOG_AUTO, err, errlen);
}

int replay_expand(const char *const *inputs, size_t n, enum flowlog_fmt log_fmt,
                  struct replay_input **out, char *err, size_t errlen)
{
    struct inlist l = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat sb;
        if (stat(inputs[i], &sb) == 0 && S_ISDIR(sb.st_mode))
            rc = expand_dir(&l, inputs[i], 0, err, errlen);
        else /* a named file is kept even when unreadable: opening it reports the error */
            rc = add_named(&l, inputs[i], log_fmt, err, errlen);
    }
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        struct input *in = &l.v[i];
        struct stat sb;
        if (in->kind == REPLAY_ARCHIVE) {
            if (nfdump_name_time(in->path, &in->key) < 0 && stat(in->path, &sb) == 0)
                in->key = (uint64_t)sb.st_mtime * 1000;
        } else if (in->kind == REPLAY_FLOWLOG) {
            if (flowlog_first_ms(in->path, in->fmt, &in->key) < 0 && stat(in->path, &sb) == 0)
                in->key = (uint64_t)sb.st_mtime * 1000;
        } else if (strcmp(in->path, "-") != 0) { /* stdin cannot be read twice: first */
            uint64_t ts;
            char e[256];
            if (capture_first_ts(in->path, &ts, e, sizeof e) == 1)
                in->key = ts / 1000000;
        }
    }
    if (rc < 0) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i].path);
        free(l.v);
        return -1;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_input);
    struct replay_input *v = calloc(l.n ? l.n : 1, sizeof *v);
    if (!v) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i].path);
        free(l.v);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < l.n; i++)
        v[i] = (struct replay_input){l.v[i].path, l.v[i].kind, l.v[i].fmt};
    free(l.v);
    *out = v;
    return (int)l.n;
}

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

/* ---- per-customer tallies (ingest tap) ---- */

struct tally {
    uint64_t flows_out, flows_in, pkts_out, pkts_in, bytes_out, bytes_in;
    uint64_t flows_int, bytes_int; /* both ends in the customer */
};

struct run_state {
    const struct replay_opts *o;
    struct ingest *in;
    struct pipeline *p;
    struct tally *cust; /* [0] = neither end a customer */
    size_t ncust;
    uint64_t flows;
    uint64_t log_records; /* Zeek/Argus logs: records handed on (bad lines: ingest_stats) */
    /* progress */
    bool progress;
    uint64_t total_bytes, done_bytes; /* done: finished inputs */
    struct capture *cur;
    uint64_t t0_ns, last_draw_ns, packets;
    unsigned tick;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tap(void *arg, struct flow_rec *f)
{
    struct run_state *rs = arg;
    rs->flows++;
    size_t c = f->customer < rs->ncust ? f->customer : 0;
    struct tally *t = &rs->cust[c];
    if (f->dir == FLOW_DIR_IN) {
        t->flows_in++;
        t->pkts_in += f->packets;
        t->bytes_in += f->bytes;
    } else if (f->dir == FLOW_DIR_INTERNAL) {
        t->flows_int++;
        t->bytes_int += f->bytes;
    } else {
        t->flows_out++;
        t->pkts_out += f->packets;
        t->bytes_out += f->bytes;
    }
}

static void draw(struct run_state *rs, uint64_t now)
{
    uint64_t done = rs->done_bytes + (rs->cur ? capture_bytes_read(rs->cur) : 0);
    double el = (double)(now - rs->t0_ns) / 1e9;
    double frac = rs->total_bytes ? (double)done / (double)rs->total_bytes : 0;
    if (frac > 1)
        frac = 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    char a[32], b[32], r[32], eta[32] = "--:--";
    text_si(a, sizeof a, (double)done, "B");
    text_si(b, sizeof b, (double)rs->total_bytes, "B");
    text_si(r, sizeof r, el > 0 ? (double)rs->packets / el : 0, "pkt/s");
    if (frac > 0.001 && el > 0.5) {
        unsigned left = (unsigned)(el / frac - el);
        snprintf(eta, sizeof eta, "%u:%02u", left / 60, left % 60);
    }
    fprintf(stderr, "\r[%s] %5.1f%%  %s / %s  %s  ETA %s\033[K", bar, frac * 100, a, b, r, eta);
    fflush(stderr);
}

/* Called every 1024 packets/records: redraws at most 5 times a second. */
static void progress_tick(struct run_state *rs)
{
    if (!rs->progress)
        return;
    uint64_t now = mono_ns();
    if (now - rs->last_draw_ns < 200000000u)
        return;
    rs->last_draw_ns = now;
    draw(rs, now);
}

static void on_archive_record(void *arg, struct flow_rec *f)
{
    struct run_state *rs = arg;
    ingest_record(rs->in, f);
    if ((++rs->tick & 1023) == 0)
        progress_tick(rs);
}

/* A Zeek or Argus log: every record to the ingest like an archive's; bad lines are counted and
 * the first one is named with its file:line (the run then exits 1). Returns 0 or -1. */
static int read_flowlog(struct run_state *rs, const char *path, enum flowlog_fmt fmt)
{
    char err[512];
    struct flowlog *fl;
    if (flowlog_open(path, fmt, &fl, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    int rc = 0, nr;
    struct flow_rec f;
    while ((nr = flowlog_next(fl, &f, err, sizeof err)) == 1) {
        on_archive_record(rs, &f);
        if ((rs->tick & 1023) == 0 && rs->o->stop && *rs->o->stop)
            break;
    }
    if (nr < 0) {
        log_error("%s", err);
        rc = -1;
    }
    struct flowlog_stats st;
    flowlog_stats(fl, &st);
    rs->log_records += st.records;
    ingest_bad_lines(rs->in, false, st.bad_lines);
    if (st.bad_lines) {
        log_error("%s:%llu: %s (%llu bad line%s skipped, %llu connections read)", path,
                  (unsigned long long)st.first_bad_line, st.first_error,
                  (unsigned long long)st.bad_lines, st.bad_lines == 1 ? "" : "s",
                  (unsigned long long)st.conns);
        rc = -1;
    }
    flowlog_close(fl);
    return rc;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int run_live(struct run_state *rs, struct capture_stats *cst)
{
    const struct replay_opts *o = rs->o;
    char err[512];
    struct capture *cap;
    if (capture_open_live(o->interface, o->bpf, o->snaplen, o->promisc, o->buffer_mb, &cap, err,
                          sizeof err) < 0) {
        fprintf(stderr, "transitwatch: %s\n", err);
        return -1;
    }
    uint64_t start = mono_ns(), last_exp = 0;
    struct pollfd pfd = {.fd = capture_fd(cap), .events = POLLIN};
    int rc = 0;
    bool done = false;
    while (!done && !(o->stop && *o->stop)) {
        uint64_t now = mono_ns();
        if (o->duration_ms && now - start >= o->duration_ms * 1000000u)
            break;
        if (pfd.fd >= 0)
            poll(&pfd, 1, 100);
        for (int i = 0; i < 10000; i++) {
            struct capture_pkt pkt;
            int cr = capture_next(cap, &pkt);
            if (cr == CAPTURE_PACKET) {
                ingest_packet(rs->in, &pkt);
                rs->packets++;
                if (o->max_packets && rs->packets >= o->max_packets) {
                    done = true;
                    break;
                }
                continue;
            }
            if (cr == CAPTURE_ERROR) {
                fprintf(stderr, "transitwatch: %s: %s\n", o->interface, capture_error(cap));
                rc = 1;
                done = true;
            } else if (cr == CAPTURE_END) {
                done = true;
            }
            break;
        }
        if (now - last_exp >= 100000000u) {
            last_exp = now;
            ingest_expire(rs->in, wall_ms());
        }
    }
    capture_stats(cap, cst);
    capture_close(cap);
    return rc;
}

static void print_summary(struct run_state *rs, const struct alert_counter *ac, size_t ninputs,
                          const struct capture_stats *live)
{
    struct ingest_stats is;
    ingest_stats(rs->in, &is);
    struct meter_stats ms;
    ingest_meter_stats(rs->in, &ms);
    struct pipeline_stats ps;
    pipeline_stats(rs->p, &ps);
    double el = (double)(mono_ns() - rs->t0_ns) / 1e9;
    char rate[32];
    text_si(rate, sizeof rate, el > 0 ? (double)is.packets / el : 0, "pkt/s");
    fprintf(stderr, "\ntransitwatch replay: %zu input%s in %.1f s (%s)\n", ninputs,
            ninputs == 1 ? "" : "s", el, rate);
    fprintf(stderr, "  packets   %llu (%llu bytes on the wire), %llu metered, %llu export "
                    "datagrams\n",
            (unsigned long long)is.packets, (unsigned long long)is.packet_bytes,
            (unsigned long long)is.metered, (unsigned long long)is.datagrams);
    fprintf(stderr, "  flows     %llu: %llu metered, %llu from archives and logs, %llu decoded; "
                    "meter evictions %llu\n",
            (unsigned long long)ps.flows, (unsigned long long)ms.flows,
            (unsigned long long)is.archive_records,
            (unsigned long long)(ps.flows - ms.flows - is.archive_records),
            (unsigned long long)ms.evicted);
    if (rs->log_records || is.log_bad_lines)
        fprintf(stderr, "  logs      %llu records from Zeek/Argus logs, %llu bad lines skipped\n",
                (unsigned long long)rs->log_records, (unsigned long long)is.log_bad_lines);
    if (live)
        fprintf(stderr, "  capture   kernel drops %llu, interface drops %llu\n",
                (unsigned long long)live->kernel_drops, (unsigned long long)live->if_drops);
    const struct customer_map *cm = pipeline_customers(rs->p);
    fprintf(stderr, "  %-24s %10s %10s %10s %12s %12s %14s %14s %14s\n", "customer", "flows out",
            "flows in", "internal", "packets out", "packets in", "bytes out", "bytes in",
            "bytes int");
    /* customers with traffic, most bytes first (at most 20 rows), then the unmatched */
    size_t shown = 0;
    bool *used = calloc(rs->ncust ? rs->ncust : 1, sizeof *used);
    while (used && shown < 20) {
        size_t best = 0;
        uint64_t bb = 0;
        for (size_t c = 1; c < rs->ncust; c++) {
            uint64_t b = rs->cust[c].bytes_out + rs->cust[c].bytes_in + rs->cust[c].bytes_int;
            uint64_t f = rs->cust[c].flows_out + rs->cust[c].flows_in + rs->cust[c].flows_int;
            if (!used[c] && f && (best == 0 || b > bb)) {
                best = c;
                bb = b;
            }
        }
        if (!best)
            break;
        used[best] = true;
        const struct customer *cu = customers_get(cm, (uint32_t)best);
        const struct tally *t = &rs->cust[best];
        fprintf(stderr, "  %-24.24s %10llu %10llu %10llu %12llu %12llu %14llu %14llu %14llu\n",
                cu ? cu->id : "?", (unsigned long long)t->flows_out,
                (unsigned long long)t->flows_in, (unsigned long long)t->flows_int,
                (unsigned long long)t->pkts_out, (unsigned long long)t->pkts_in,
                (unsigned long long)t->bytes_out, (unsigned long long)t->bytes_in,
                (unsigned long long)t->bytes_int);
        shown++;
    }
    free(used);
    const struct tally *t = &rs->cust[0];
    fprintf(stderr, "  %-24s %10llu %10s %10s %12llu %12s %14llu %14s %14s\n", "(no customer)",
            (unsigned long long)(t->flows_out + t->flows_in), "", "",
            (unsigned long long)(t->pkts_out + t->pkts_in), "",
            (unsigned long long)(t->bytes_out + t->bytes_in), "", "");
    fprintf(stderr, "  alerts    %llu", (unsigned long long)ps.alerts.published);
    for (size_t i = 0; i < ac->n; i++)
        fprintf(stderr, "%s %s %llu", i ? "," : ":", ac->name[i], (unsigned long long)ac->count[i]);
    if (ac->other)
        fprintf(stderr, ", other %llu", (unsigned long long)ac->other);
    fprintf(stderr, " (suppressed %llu)\n", (unsigned long long)ps.alerts.suppressed);
    /* and every counter that moved, from the one table /metrics and the totals use */
    static struct counters_snap cs; /* main thread only; large */
    counters_take(rs->in, rs->p, &cs);
    fprintf(stderr, "  counters that moved:\n");
    counters_table(stderr, &cs);
}

int replay_run(const struct replay_opts *o, struct ingest *in, struct pipeline *p,
               struct sinks *sinks)
{
    struct run_state rs;
    memset(&rs, 0, sizeof rs);
    rs.o = o;
    rs.in = in;
    rs.p = p;
    bool tty = isatty(STDERR_FILENO);
    rs.progress = o->progress < 0 ? tty : o->progress;
    bool summary = o->summary < 0 ? tty : o->summary;
    rs.ncust = customers_count(pipeline_customers(p)) + 1;
    rs.cust = calloc(rs.ncust, sizeof *rs.cust);
    struct alert_counter *ac = calloc(1, sizeof *ac);
    if (!rs.cust || !ac) {
        free(rs.cust);
        free(ac);
        fprintf(stderr, "transitwatch: out of memory\n");
        return -1;
    }
    struct alert_counter acs; /* the sink owns ac; keep a view for the summary */
    if (sinks_add(sinks, (struct sink){&alert_counter_ops, ac}) < 0) {
        free(ac);
        ac = NULL;
    }
    ingest_set_tap(in, tap, &rs);
    rs.t0_ns = rs.last_draw_ns = mono_ns();

    int rc = 0;
    size_t ninputs = 0;
    struct capture_stats live;
    bool was_live = false;
    if (o->interface) {
        was_live = true;
        ninputs = 1;
        rs.progress = false;
        rc = run_live(&rs, &live);
    } else {
        struct replay_input *files = NULL;
        char err[512];
        int n = replay_expand(o->inputs, o->ninputs, o->log_fmt, &files, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "transitwatch: %s\n", err);
            rc = -1;
        } else if (n == 0) {
            fprintf(stderr, "transitwatch: no capture, nfcapd file or flow log among the inputs\n");
            rc = 1;
        }
        ninputs = n > 0 ? (size_t)n : 0;
        for (size_t i = 0; i < ninputs; i++)
            rs.total_bytes += file_size(files[i].path);
        for (size_t i = 0; i < ninputs && !(o->stop && *o->stop); i++) {
            const char *path = files[i].path;
            if (files[i].kind == REPLAY_ARCHIVE) {
                struct nfdump_stats st = {0};
                if (nfdump_read(path, o->nfdump_fmt, o->nfdump_bin, on_archive_record, &rs,
                                &st, o->stop, err, sizeof err) < 0) {
                    log_error("%s", err);
                    rc = 1;
                }
                ingest_bad_lines(in, true, st.errors + st.too_long);
                if (st.errors || st.too_long) {
                    log_error("%s: %llu malformed nfdump lines skipped", path,
                              (unsigned long long)(st.errors + st.too_long));
                    rc = 1;
                }
                rs.done_bytes += file_size(path);
                continue;
            }
            if (files[i].kind == REPLAY_FLOWLOG) {
                if (read_flowlog(&rs, path, files[i].fmt) < 0)
                    rc = 1;
                rs.done_bytes += file_size(path);
                continue;
            }
            struct capture *cap;
            if (capture_open_file(path, &cap, err, sizeof err) < 0) {
                log_error("%s", err);
                rc = 1;
                continue;
            }
            rs.cur = cap;
            struct capture_pkt pkt;
            int cr = CAPTURE_END;
            while ((cr = capture_next(cap, &pkt)) == CAPTURE_PACKET) {
                ingest_packet(in, &pkt);
                rs.packets++;
                if ((rs.packets & 1023) == 0) {
                    if (o->stop && *o->stop)
                        break;
                    progress_tick(&rs);
                }
            }
            if (cr == CAPTURE_ERROR) {
                log_error("%s: %s", path, capture_error(cap));
                rc = 1;
            }
            rs.done_bytes += file_size(path);
            rs.cur = NULL;
            capture_close(cap);
        }
        for (size_t i = 0; i < ninputs; i++)
            free(files[i].path);
        free(files);
    }
    if (rs.progress)
        fprintf(stderr, "\r\033[K");
    ingest_finish(in);
    pipeline_finish(p);
    ingest_set_tap(in, NULL, NULL);
    if (summary && rc >= 0) {
        if (ac)
            acs = *ac;
        else
            memset(&acs, 0, sizeof acs);
        print_summary(&rs, &acs, ninputs, was_live ? &live : NULL);
    }
    free(rs.cust);
    return rc;
}
