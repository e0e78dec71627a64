#include "status.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "decode.h"
#include "sink_kafka.h"

struct prom {
    char *b;
    size_t len, cap;
    bool full;
};

static void out(struct prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct prom *p, const char *fmt, ...)
{
    if (p->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->b + p->len, p->cap - p->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= p->cap - p->len) {
        p->full = true;
        p->b[p->len] = 0; /* drop the partial line */
        return;
    }
    p->len += (size_t)n;
}

static void head(struct prom *p, const char *name, const char *type, const char *help)
{
    out(p, "# HELP transitwatch_%s %s\n# TYPE transitwatch_%s %s\n", name, help, name, type);
}

static void one(struct prom *p, const char *name, const char *type, const char *help, uint64_t v)
{
    head(p, name, type, help);
    out(p, "transitwatch_%s %llu\n", name, (unsigned long long)v);
}

size_t status_render(const struct status_src *s, char *buf, size_t cap)
{
    struct prom p = {buf, 0, cap, false};
    if (cap)
        buf[0] = 0;
    out(&p, "# HELP transitwatch_build_info Version of the running binary.\n"
            "# TYPE transitwatch_build_info gauge\ntransitwatch_build_info{version=\"%s\"} 1\n",
        TW_VERSION);
    one(&p, "start_time_seconds", "gauge", "Unix time the process started.", s->start_unix);

    const struct decode_ctx *d = ingest_decoder(s->in);
    head(&p, "decode_events_total", "counter", "Decoder events by kind (datagrams, records, templates...).");
    for (int c = 0; c < DC_COUNT; c++)
        if (!decode_counter_is_error((enum decode_counter)c))
            out(&p, "transitwatch_decode_events_total{kind=\"%s\"} %llu\n",
                decode_counter_name((enum decode_counter)c),
                (unsigned long long)decode_counter(d, (enum decode_counter)c));
    head(&p, "decode_errors_total", "counter", "Datagrams or sets rejected by the decoders, by kind.");
    for (int c = 0; c < DC_COUNT; c++)
        if (decode_counter_is_error((enum decode_counter)c))
            out(&p, "transitwatch_decode_errors_total{kind=\"%s\"} %llu\n",
                decode_counter_name((enum decode_counter)c),
                (unsigned long long)decode_counter(d, (enum decode_counter)c));
    one(&p, "templates", "gauge", "Templates held in the cache.", decode_template_count(d));
    one(&p, "sampling_unknown_records_total", "counter",
        "Records with no known sampling rate (counted 1:1).", decode_counter(d, DC_SAMPLING_UNKNOWN));

    struct decode_exporter_stats ex[256];
    size_t nex = decode_exporters(d, ex, 256);
    head(&p, "exporter_datagrams_total", "counter", "Datagrams received per exporter.");
    for (size_t i = 0; i < nex; i++) {
        char a[ADDR_STRLEN];
        out(&p, "transitwatch_exporter_datagrams_total{exporter=\"%s\"} %llu\n",
            addr_format(ex[i].addr, a), (unsigned long long)ex[i].datagrams);
    }
    head(&p, "exporter_records_total", "counter", "Flow records decoded per exporter.");
    for (size_t i = 0; i < nex; i++) {
        char a[ADDR_STRLEN];
        out(&p, "transitwatch_exporter_records_total{exporter=\"%s\"} %llu\n",
            addr_format(ex[i].addr, a), (unsigned long long)ex[i].records);
    }
    head(&p, "exporter_sequence_lost_total", "counter", "Records or packets the exporter's sequence numbers say were lost.");
    for (size_t i = 0; i < nex; i++) {
        char a[ADDR_STRLEN];
        out(&p, "transitwatch_exporter_sequence_lost_total{exporter=\"%s\"} %llu\n",
            addr_format(ex[i].addr, a), (unsigned long long)ex[i].seq_lost);
    }

    head(&p, "exporter_clock_skew_total", "counter",
         "Records more than 24 h from their export header's time, per exporter.");
    for (size_t i = 0; i < nex; i++) {
        char a[ADDR_STRLEN];
        out(&p, "transitwatch_exporter_clock_skew_total{exporter=\"%s\"} %llu\n",
            addr_format(ex[i].addr, a), (unsigned long long)ex[i].clock_skew);
    }

    if (s->udp) {
        struct udp_stats us = *s->udp;
        one(&p, "udp_datagrams_total", "counter", "UDP datagrams received.", us.datagrams);
        one(&p, "udp_bytes_total", "counter", "UDP payload bytes received.", us.bytes);
        one(&p, "udp_kernel_drops_total", "counter",
            "Datagrams the kernel dropped for a full socket buffer (SO_RXQ_OVFL).", us.kernel_drops);
        one(&p, "udp_truncated_total", "counter", "Datagrams longer than the receive slot.", us.truncated);
        one(&p, "udp_receive_errors_total", "counter", "Receive calls that failed.", us.recv_errors);
        one(&p, "rx_ring_waits_total", "counter",
            "Times a receive thread waited for room in its ring to the pipeline thread.",
            s->rx_ring_waits);
    }

    struct pipeline_stats ps;
    pipeline_stats(s->p, &ps);
    head(&p, "flows_total", "counter", "Flow records by direction as seen from the customer.");
    static const char *const dirs[4] = {"unmatched", "outbound", "inbound", "internal"};
    for (int i = 0; i < 4; i++)
        out(&p, "transitwatch_flows_total{direction=\"%s\"} %llu\n", dirs[i],
            (unsigned long long)ps.by_dir[i]);
    one(&p, "flows_late_total", "counter", "Records that ended before the open window.", ps.late);
    one(&p, "flows_time_skew_total", "counter", "Records far from their exporter's clock (times kept, not used by timing detectors).", ps.time_skew);
    one(&p, "windows_closed_total", "counter", "Windows closed.", ps.windows_closed);
    one(&p, "summaries_total", "counter", "Customer summaries made.", ps.summaries);
    one(&p, "hosts_active", "gauge", "Inside hosts in the host tables.", ps.hosts_active);
    one(&p, "hosts_capacity", "gauge", "Capacity of the host tables.", ps.host_capacity);
    one(&p, "host_evictions_total", "counter", "Hosts evicted from a full host table.", ps.host_evictions);
    one(&p, "worker_queue_waits_total", "counter",
        "Times the pipeline thread waited for room in a worker's ring.", ps.queue_waits);
    head(&p, "alerts_total", "counter", "Alerts published, by category.");
    for (int c = 0; c < CAT_COUNT; c++)
        out(&p, "transitwatch_alerts_total{category=\"%s\"} %llu\n",
            alert_category_name((enum alert_category)c), (unsigned long long)ps.alerts.by_category[c]);
    one(&p, "alerts_suppressed_total", "counter", "Repeats folded into an earlier alert.", ps.alerts.suppressed);
    one(&p, "alerts_forgotten_total", "counter", "Alert suppression entries pushed out by the bound.", ps.alerts.forgotten);
    one(&p, "sink_losses_total", "counter", "Messages a sink reported lost.", ps.alerts.sink_losses);

    for (size_t i = 0; i < s->sinks->n; i++) {
        struct kafka_counters kc;
        if (sink_kafka_counters(&s->sinks->s[i], &kc) < 0)
            continue;
        one(&p, "kafka_delivered_total", "counter", "Messages Kafka acknowledged.", kc.delivered);
        one(&p, "kafka_delivery_failures_total", "counter", "Failed deliveries (re-sent from the spool).", kc.failed);
        one(&p, "kafka_inflight", "gauge", "Messages awaiting a delivery report.", kc.inflight);
        one(&p, "kafka_backlog", "gauge", "Spooled messages not yet delivered.", kc.backlog);
        one(&p, "kafka_spool_bytes", "gauge", "Bytes in the on-disk spool.", kc.spool_bytes);
        one(&p, "kafka_spool_max_bytes", "gauge", "Spool size bound.", kc.spool_max_bytes);
        one(&p, "kafka_spool_lost_total", "counter", "Messages lost because the spool bound was reached.", kc.spool_lost);
        one(&p, "kafka_spool_corrupt_total", "counter", "Damaged spool blocks skipped.", kc.spool_corrupt);
        one(&p, "kafka_spool_write_errors_total", "counter",
            "Spool writes that failed (a full disk, an I/O error).", kc.spool_write_errors);
        one(&p, "kafka_resent_total", "counter", "Messages sent again after a failure or restart.", kc.resent);
    }

    static const struct {
        const char *name, *help;
        size_t off; /* of the counter in struct capture_stats */
    } capm[] = {
        {"capture_packets_total", "Packets read from a live interface.",
         offsetof(struct capture_stats, packets)},
        {"capture_kernel_drops_total", "Packets the kernel dropped for a live capture (buffer full).",
         offsetof(struct capture_stats, kernel_drops)},
        {"capture_interface_drops_total", "Packets the interface or driver dropped for a live capture.",
         offsetof(struct capture_stats, if_drops)},
    };
    for (size_t m = 0; s->ncaptures && m < sizeof capm / sizeof capm[0]; m++) {
        head(&p, capm[m].name, "counter", capm[m].help);
        for (size_t i = 0; i < s->ncaptures; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&s->capture[i] + capm[m].off, sizeof v);
            out(&p, "transitwatch_%s{capture=\"%s\"} %llu\n", capm[m].name, s->capture_name[i],
                (unsigned long long)v);
        }
    }
    one(&p, "reloads_total", "counter", "SIGHUP reloads attempted.", s->reloads);
    one(&p, "reload_failures_total", "counter", "Reloads rejected (the old lists stayed).", s->reload_failures);
    head(&p, "last_reload_success", "gauge", "1 if the last reload succeeded, 0 if not, -1 before any.");
    out(&p, "transitwatch_last_reload_success %d\n", s->last_reload_ok);
    one(&p, "last_reload_time_seconds", "gauge", "Unix time of the last reload.", s->last_reload_unix);
    return p.len;
}
