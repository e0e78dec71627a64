/* health.h: what GET /healthz says. Once a second the daemon's main loop gathers a few figures
 * (struct health_in) and health_eval() turns them into "ok" or "degraded: REASON; REASON", by
 * the [health] settings:
 *   - no customer map, or no flow of the last closed window matched a customer (unmatched);
 *   - a delivering sink (Kafka) has delivered nothing for kafka_stall while messages wait;
 *   - a spool is spool_high_water percent full, or a sink lost messages within the period (the
 *     reason names the sink and its file);
 *   - clock_skew_records records within the period had times far from their exporter's clock;
 *   - a live capture read no packet for capture_stall, or it has stopped (a read error: the
 *     interface disappeared; reported at once, with the error);
 *   - the last write of the [report] directory failed (a page not written, or the directory not
 *     readable; the reason names it and the error), until a write succeeds;
 *   - detect --from-kafka: the instance owns no partition of the flows topic, more than
 *     [kafka] lag_max records wait unread, or an owned partition not at its end has brought
 *     nothing for partition_idle_ms while others hold their next window for it (its leader
 *     gone: every window of the instance waits on it).
 * The HTTP thread serves the text (metrics.c); it answers 503 unless it is "ok".
 * Main thread only; no allocation, no clock read of its own (the caller passes the time). */
#ifndef TW_HEALTH_H
#define TW_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter.h"
#include "settings.h"

#define HEALTH_SLOTS 64 /* the period is looked back over in this many steps */

struct health_in {
    uint64_t now_ms;   /* monotonic */
    uint64_t now_unix; /* wall clock, seconds (against sink_health.last_delivery_unix) */
    size_t customers;  /* in the map in force */
    uint64_t flows, unmatched, windows_closed; /* pipeline totals so far */
    /* Records whose time was far from their exporter's clock, so far: the pipeline's count of
     * records flagged FLOW_F_CLOCK_SKEW (pipeline_stats.time_skew); health_clock_skew() is the
     * one place that reads it. skew_exporters: the exporters that have such records
     * ("192.0.2.1, 192.0.2.7"; the decoder counts them per exporter), for the reason text. */
    uint64_t clock_skew;
    char skew_exporters[160];
    size_t nsinks;
    const char *sink_name[SINKS_MAX];
    struct sink_health sink[SINKS_MAX];
    size_t ncaptures;
    const char *capture_name[SETTINGS_MAX_CAPTURES];
    uint64_t capture_packets[SETTINGS_MAX_CAPTURES];
    /* the error that stopped the capture (capture_error()), NULL while it reads */
    const char *capture_stopped[SETTINGS_MAX_CAPTURES];
    /* [report] directory, when its last write failed (NULL otherwise): the pages not written
     * and the first error (errno) */
    const char *report_dir;
    unsigned report_failed;
    int report_error;
    bool kafka_in; /* detect --from-kafka: the consumer's figures below count */
    uint64_t kafka_partitions, kafka_lag;
    /* kafka_in_source_stalled: the partition read nothing for kafka_stalled_ms while
     * kafka_waiting partitions hold their next window for it (0: none waits) */
    int32_t kafka_stalled;
    uint64_t kafka_stalled_ms;
    unsigned kafka_waiting;
};

struct health_sample {
    uint64_t ms, clock_skew;
    uint64_t lost[SINKS_MAX]; /* each sink's sink_health.lost */
};

struct health {
    bool started;
    uint64_t start_ms, start_unix;
    /* the period, in HEALTH_SLOTS steps: counters as they were at each step */
    struct health_sample slot[HEALTH_SLOTS];
    size_t nslots, head;
    /* windows: the totals at the last window close, and what the last window saw */
    uint64_t win_closed, win_flows, win_unmatched;
    bool last_window_unmatched;
    uint64_t last_window_flows;
    /* sinks: since when messages wait without a delivery */
    uint64_t waiting_since_unix[SINKS_MAX];
    /* captures: the packet count and when it last moved */
    uint64_t cap_packets[SETTINGS_MAX_CAPTURES], cap_moved_ms[SETTINGS_MAX_CAPTURES];
    bool ok;
};

void health_init(struct health *h);
/* Evaluate; writes "ok\n" or "degraded: ...\n" into text. Returns true when ok. */
bool health_eval(struct health *h, const struct settings *s, const struct health_in *in, char *text,
                 size_t len);
/* The records-with-clocks-off figure health_eval() uses (see struct health_in.clock_skew). */
uint64_t health_clock_skew(const struct health_in *in);

#endif
