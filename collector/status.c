/* status.c: the /metrics text (see status.h). */
#include "status.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "addr.h"
#include "counters.h"
#include "ctr.h"
#include "capture.h"
#include "decode.h"
#include "kafka_in.h"
#include "udp.h"

#define C CTR_COUNTER
#define G CTR_GAUGE

/* The daemon's own: reloads, health. */
struct daemon_snap {
    uint64_t reloads, reload_failures, reload_ok, reload_time, restart_pending, healthy, start_time,
        report_write_errors;
};
#define DAEMON_ROWS(X)                                                                             \
    X(T, reloads, NULL, "reloads_total", NULL, C, "SIGHUP reloads attempted.")                     \
    X(T, reload_failures, NULL, "reload_failures_total", NULL, C,                                  \
      "Reloads rejected (the old configuration stayed).")                                          \
    X(T, reload_ok, NULL, "last_reload_success", NULL, G,                                          \
      "1 if the configuration in force loaded without error (at start or the last reload), 0 if "  \
      "the last reload failed.")                                                                   \
    X(T, reload_time, NULL, "last_reload_time_seconds", NULL, G,                                   \
      "Unix time of the last reload (of the start before any).")                                   \
    X(T, restart_pending, NULL, "reload_restart_pending", NULL, G,                                 \
      "Settings the last successful reload found changed that only a restart applies (each "       \
      "named in a warning).")                                                                      \
    X(T, healthy, NULL, "healthy", NULL, G, "1 if /healthz says ok, 0 if degraded.")               \
    X(T, start_time, NULL, "start_time_seconds", NULL, G, "Unix time the process started.")        \
    X(T, report_write_errors, NULL, "report_write_errors_total", NULL, C,                          \
      "[report] customer pages that could not be written (a full disk, permissions; each logged: " \
      "the customer's previous page stays served).")
#define T struct daemon_snap
static const struct ctr_def daemon_defs[] = {DAEMON_ROWS(CTR_ROW)};
#undef T

static void one_table(struct ctr_text *t, const struct ctr_def *d, size_t n, const void *snap)
{
    const void *snaps[1] = {snap};
    ctr_prom(t, d, n, snaps, NULL, 1);
}

/* process_* as the Prometheus client libraries name them (no transitwatch_ prefix). */
static void process_metrics(struct ctr_text *t, uint64_t start_unix)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        ctr_printf(t,
                   "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                   "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                   "process_cpu_seconds_total %.3f\n",
                   cpu);
    }
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long vsz = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &vsz, &rss) == 2 && page > 0) {
            ctr_printf(t,
                       "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                       "# TYPE process_resident_memory_bytes gauge\n"
                       "process_resident_memory_bytes %llu\n",
                       rss * (unsigned long long)page);
            ctr_printf(t,
                       "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                       "# TYPE process_virtual_memory_bytes gauge\n"
                       "process_virtual_memory_bytes %llu\n",
                       vsz * (unsigned long long)page);
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        unsigned long long n = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            n += e->d_name[0] != '.';
        closedir(d);
        ctr_printf(t,
                   "# HELP process_open_fds Number of open file descriptors.\n"
                   "# TYPE process_open_fds gauge\nprocess_open_fds %llu\n",
                   n ? n - 1 : 0);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        ctr_printf(t,
                   "# HELP process_max_fds Maximum number of open file descriptors.\n"
                   "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                   (unsigned long long)rl.rlim_cur);
    ctr_printf(t,
               "# HELP process_start_time_seconds Start time of the process since unix epoch "
               "in seconds.\n# TYPE process_start_time_seconds gauge\n"
               "process_start_time_seconds %llu\n",
               (unsigned long long)start_unix);
}

static void exporter_metrics(struct ctr_text *t, const struct decode_ctx *d)
{
    static struct decode_exporter_stats ex[256]; /* main thread only */
    size_t nex = decode_exporters(d, ex, 256);
    static const struct {
        const char *name, *help;
        size_t off;
    } em[] = {
        {"exporter_datagrams_total", "Datagrams received per exporter.",
         offsetof(struct decode_exporter_stats, datagrams)},
        {"exporter_records_total", "Flow records decoded per exporter.",
         offsetof(struct decode_exporter_stats, records)},
        {"exporter_sequence_lost_total",
         "Records or packets the exporter's sequence numbers say were lost.",
         offsetof(struct decode_exporter_stats, seq_lost)},
        {"exporter_clock_skew_total",
         "Records more than 24 h from their export header's time, per exporter.",
         offsetof(struct decode_exporter_stats, clock_skew)},
        {"exporter_sflow_drops_total",
         "Samples an sFlow agent says it dropped for lack of resources (its drops counters).",
         offsetof(struct decode_exporter_stats, sflow_drops)},
    };
    for (size_t m = 0; m < sizeof em / sizeof em[0]; m++) {
        ctr_head(t, em[m].name, CTR_COUNTER, em[m].help);
        for (size_t i = 0; i < nex; i++) {
            char a[ADDR_STRLEN];
            uint64_t v;
            memcpy(&v, (const char *)&ex[i] + em[m].off, sizeof v);
            ctr_printf(t, "transitwatch_%s{exporter=\"%s\"} %llu\n", em[m].name,
                       addr_format(ex[i].addr, a), (unsigned long long)v);
        }
    }
}

/* sFlow agents' interfaces (counter samples): one table, one instance per interface. Each
 * in_F/out_F field pair is one metric with a direction label (IFACE_DIR). */
#define IFACE_DIR(X, f, metric, kind, help)                                                        \
    X(T, in_##f, NULL, metric, "direction=\"in\"", kind, help)                                     \
    X(T, out_##f, NULL, metric, "direction=\"out\"", kind, help)
#define IFACE_ROWS(X)                                                                              \
    IFACE_DIR(X, octets, "sflow_interface_octets_total", C,                                        \
              "Octets an sFlow agent counted on an interface (ifIn/OutOctets), by direction.")     \
    IFACE_DIR(X, pkts, "sflow_interface_packets_total", C,                                         \
              "Packets (unicast, multicast, broadcast) on an interface, by direction.")            \
    IFACE_DIR(X, errors, "sflow_interface_errors_total", C,                                        \
              "Errored packets on an interface, by direction.")                                    \
    IFACE_DIR(X, discards, "sflow_interface_discards_total", C,                                    \
              "Discarded packets on an interface, by direction.")                                  \
    IFACE_DIR(X, bps, "sflow_interface_rate_bits_per_second", G,                                   \
              "Rate between an interface's last two counter samples, by direction.")               \
    X(T, speed, NULL, "sflow_interface_speed_bits_per_second", NULL, G,                            \
      "An interface's speed as its agent reports it.")
#define T struct decode_iface_stats
static const struct ctr_def iface_rows[] = {IFACE_ROWS(CTR_ROW)};
#undef T

/* Every interface of the table (at most max_interfaces): the arrays grow to the table's size
 * once (the 1 s status timer, main thread; not a per-record path). */
static void iface_metrics(struct ctr_text *t, const struct decode_ctx *d)
{
    struct row {
        struct decode_iface_stats st;
        char label[ADDR_STRLEN + 40];
        const void *snap;
        const char *extra;
    };
    static struct row *rows; /* main thread only */
    static const void **snaps;
    static const char **extra;
    static size_t cap;
    size_t total = decode_interfaces(d, 0, NULL, 0);
    if (total > cap) {
        struct row *r = realloc(rows, total * sizeof *r);
        const void **s2 = r ? realloc(snaps, total * sizeof *s2) : NULL;
        const char **e2 = s2 ? realloc(extra, total * sizeof *e2) : NULL;
        if (r)
            rows = r;
        if (s2)
            snaps = s2;
        if (!e2)
            return;
        extra = e2;
        cap = total;
    }
    size_t n = 0;
    for (; n < total; n++) {
        if (decode_interfaces(d, n, &rows[n].st, 1) != 1)
            break;
        char a[ADDR_STRLEN];
        snprintf(rows[n].label, sizeof rows[n].label, "agent=\"%s\",ifindex=\"%u\"",
                 addr_format(rows[n].st.agent, a), rows[n].st.ifindex);
        snaps[n] = &rows[n].st;
        extra[n] = rows[n].label;
    }
    if (n)
        ctr_prom(t, iface_rows, sizeof iface_rows / sizeof iface_rows[0], snaps, extra, n);
}

static void customer_metrics(struct ctr_text *t, const struct status_src *s)
{
    static const struct {
        const char *name, *help;
        enum ctr_kind kind;
        size_t off;
        const char *dir;
    } cm[] = {
        {"customer_bytes_total", "Bytes of a customer's flows in closed windows, by direction.", C,
         offsetof(struct status_customer, bytes_out), "outbound"},
        {"customer_bytes_total", NULL, C, offsetof(struct status_customer, bytes_in), "inbound"},
        {"customer_bytes_total", NULL, C, offsetof(struct status_customer, bytes_internal),
         "internal"},
        {"customer_flows_total", "Flow records of a customer in closed windows, by direction.", C,
         offsetof(struct status_customer, flows_out), "outbound"},
        {"customer_flows_total", NULL, C, offsetof(struct status_customer, flows_in), "inbound"},
        {"customer_flows_total", NULL, C, offsetof(struct status_customer, flows_internal),
         "internal"},
        {"customer_active_hosts", "Inside hosts with flows in the customer's last closed window.",
         G, offsetof(struct status_customer, active_hosts), NULL},
        {"customer_hostile_hosts", "Inside hosts with alerts in the customer's last closed window.",
         G, offsetof(struct status_customer, hostile_hosts), NULL},
    };
    for (size_t m = 0; m < sizeof cm / sizeof cm[0]; m++) {
        if (cm[m].help)
            ctr_head(t, cm[m].name, cm[m].kind, cm[m].help);
        for (size_t i = 0; i < s->ncust; i++) {
            const struct status_customer *c = &s->cust[i];
            if (!c->id[0])
                continue;
            uint64_t v;
            memcpy(&v, (const char *)c + cm[m].off, sizeof v);
            if (cm[m].dir)
                ctr_printf(t, "transitwatch_%s{customer=\"%s\",direction=\"%s\"} %llu\n",
                           cm[m].name, c->id, cm[m].dir, (unsigned long long)v);
            else
                ctr_printf(t, "transitwatch_%s{customer=\"%s\"} %llu\n", cm[m].name, c->id,
                           (unsigned long long)v);
        }
    }
}

size_t status_render(const struct status_src *s, char *buf, size_t cap)
{
    struct ctr_text t;
    ctr_text_init(&t, buf, cap);
    ctr_printf(&t,
               "# HELP transitwatch_build_info Version of the running binary.\n"
               "# TYPE transitwatch_build_info gauge\n"
               "transitwatch_build_info{version=\"%s\"} 1\n",
               TW_VERSION);
    process_metrics(&t, s->start_unix);
    struct daemon_snap ds = {s->reloads,          s->reload_failures,    s->last_reload_ok,
                             s->last_reload_unix, s->restart_pending,    s->healthy,
                             s->start_unix,       s->report_write_errors};
    one_table(&t, daemon_defs, sizeof daemon_defs / sizeof daemon_defs[0], &ds);

    static struct counters_snap cs; /* main thread only; large */
    counters_take(s->in, s->p, &cs);
    counters_prom(&t, &cs);
    { /* alerts by category: the alert manager's array */
        ctr_head(&t, "alerts_total", CTR_COUNTER,
                 "Alerts published (new incidents and their updates), by category; they add up to "
                 "alerts_published_total.");
        for (int c = 0; c < CAT_COUNT; c++)
            ctr_printf(&t, "transitwatch_alerts_total{category=\"%s\"} %llu\n",
                       alert_category_name((enum alert_category)c),
                       (unsigned long long)cs.ps.alerts.by_category[c]);
    }
    exporter_metrics(&t, ingest_decoder(s->in));
    iface_metrics(&t, ingest_decoder(s->in));
    if (s->sources)
        source_set_prom(s->sources, &t);
    for (size_t i = 0; i < s->sinks->n; i++) { /* each sink through its own table */
        const struct sink *sk = &s->sinks->s[i];
        if (!sk->ops->counters)
            continue;
        _Alignas(uint64_t) char snap[SINK_SNAP_MAX];
        const struct ctr_def *sd;
        size_t sn = sk->ops->counters(sk->self, &sd, snap);
        one_table(&t, sd, sn, snap);
    }
    if (s->per_customer)
        customer_metrics(&t, s);
    return t.len;
}

void status_follow_map(struct status_src *s)
{
    if (!s->per_customer)
        return;
    const struct customer_map *m = pipeline_customers(s->p);
    size_t n = customers_count(m) + 1; /* slot 0: no customer */
    struct status_customer *c = calloc(n, sizeof *c);
    if (!c) /* the old slots stay; summaries of customers they do not name are left out */
        return;
    for (size_t i = 1; i < n; i++)
        snprintf(c[i].id, sizeof c[i].id, "%s", customers_get(m, (uint32_t)i)->id);
    for (size_t i = 0; i < s->ncust; i++) {
        const struct customer *cu = s->cust[i].id[0] ? customers_find_id(m, s->cust[i].id) : NULL;
        if (cu)
            c[cu->index + 1] = s->cust[i];
    }
    free(s->cust);
    s->cust = c;
    s->ncust = n;
}

void status_on_summary(void *arg, uint32_t customer_index, const struct summary *sum)
{
    struct status_src *s = arg;
    /* the slots follow the map the summaries come from (status_follow_map after each reload,
     * on this thread) */
    if (!s->per_customer || customer_index >= s->ncust ||
        strcmp(s->cust[customer_index].id, sum->customer_id) != 0)
        return;
    struct status_customer *c = &s->cust[customer_index];
    c->bytes_out += sum->out.bytes;
    c->bytes_in += sum->in.bytes;
    c->bytes_internal += sum->internal.bytes;
    c->flows_out += sum->out.flows;
    c->flows_in += sum->in.flows;
    c->flows_internal += sum->internal.flows;
    c->active_hosts = sum->active_hosts;
    c->hostile_hosts = sum->hosts_alerted;
}

void status_free(struct status_src *s)
{
    free(s->cust);
    s->cust = NULL;
    s->ncust = 0;
}

void status_list_counters(FILE *out)
{
    counters_list(out);
    /* the daemon's sockets and live captures: their losses under "sources" (source_set_json),
     * summed over the sockets and over the captures (labelled capture="NAME" on /metrics) */
    size_t nu, nc;
    const struct ctr_def *u = udp_counter_defs(&nu), *c = capture_counter_defs(&nc);
    for (size_t i = 0; i < nu; i++)
        if (u[i].json)
            fprintf(out, "sources.%s transitwatch_%s\n", u[i].json, u[i].metric);
    for (size_t i = 0; i < nc; i++)
        if (c[i].json)
            fprintf(out, "sources.%s transitwatch_%s{capture=\"*\"}\n", c[i].json, c[i].metric);
    c = kafka_in_counter_defs(&nc); /* detect --from-kafka: the consumer's, under kafka_in */
    ctr_list(out, "sources.", c, nc);
    /* the totals' per-exporter object: one key per exporter address */
    fprintf(out, "exporter_clock_skew.* transitwatch_exporter_clock_skew_total{exporter=\"*\"}\n");
}
