/* exporter.h: sinks that take finished JSON messages (alerts, summaries, totals).
 *
 * Who calls what: the pipeline formats each message to JSON once (exporters/alert_json.c) and
 * hands the text to every sink with sinks_publish(), on the main loop's thread (the pipeline's
 * dispatcher; worker threads never publish: their alerts are merged there). A sink copies
 * what it keeps: json and key are borrowed for the call. publish() never blocks (a sink that
 * cannot take a message now spools it or counts it, never waits). poll() is called periodically
 * on the same thread to service delivery reports; flush() at the end of a replay and at
 * shutdown; reopen() on SIGHUP (log rotation). Exporters never see flow records: `collect`'s
 * records come as MSG_FLOW messages already encoded (bytes, not JSON), for the Kafka sink.
 */
#ifndef TW_EXPORTER_H
#define TW_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctr.h"

struct json;

#define SINK_SNAP_MAX 512 /* bytes of a sink's counter snapshot, at most */

enum msg_kind {
    MSG_ALERT = 0,
    MSG_SUMMARY = 1,
    MSG_TOTALS = 2, /* end-of-run totals (replay); JSON-lines sinks only */
    MSG_FLOW = 3,   /* collect: one flow record, binary (collector/proto/flow.proto); Kafka only */
    MSG_FLOW_TICK = 4, /* collect: the window moved (binary, no key): to every partition of the
                          flows topic, best effort (not tracked for delivery); Kafka only */
    MSG_KIND_COUNT
};

/* Is a message of this kind JSON text (alerts, summaries, totals)? The others are binary. */
static inline bool msg_kind_json(enum msg_kind k)
{
    return k == MSG_ALERT || k == MSG_SUMMARY || k == MSG_TOTALS;
}

/* What /healthz (collector/health.h) needs from a sink, whatever its kind. */
struct sink_health {
    bool delivers;                         /* has a remote end whose stall matters (Kafka) */
    uint64_t waiting;                      /* messages taken but not yet delivered */
    uint64_t last_delivery_unix;           /* wall-clock second of the last delivery; 0: none yet */
    uint64_t spool_bytes, spool_max_bytes; /* 0 max: no spool */
    uint64_t lost;     /* messages lost since start (a full spool, write errors) */
    const char *where; /* the file it writes, for the reasons (borrowed); NULL: none */
};

struct sink_ops {
    const char *name;
    /* 0 = taken (sent, queued or spooled), a negative errno = lost (counted by the sink). */
    int (*publish)(void *self, enum msg_kind kind, const char *key, size_t keylen, const char *json,
                   size_t len);
    void (*poll)(void *self); /* may be NULL */
    /* Wait up to timeout_ms for what is in flight; spool what is left. 0 or a negative errno. */
    int (*flush)(void *self, int timeout_ms);       /* may be NULL */
    void (*reopen)(void *self);                     /* may be NULL */
    void (*stats_json)(void *self, struct json *j); /* may be NULL; writes members of an object */
    void (*health)(void *self, struct sink_health *h); /* may be NULL: nothing to report */
    /* The sink's counters for /metrics: its table (ctr.h) and, in snap (SINK_SNAP_MAX bytes),
     * a snapshot of the values the table describes. Returns the number of rows. May be NULL.
     * The renderers never look inside a sink: this is all they see of it. */
    size_t (*counters)(void *self, const struct ctr_def **defs, void *snap);
    void (*destroy)(void *self);
};

struct sink {
    const struct sink_ops *ops;
    void *self;
};

#define SINKS_MAX 8
struct sinks {
    struct sink s[SINKS_MAX];
    size_t n;
};

/* Returns 0, or -ENOSPC when SINKS_MAX sinks are already there. The sink is taken. */
int sinks_add(struct sinks *ss, struct sink s);
/* Hand one message to every sink; returns the number of sinks that lost it. */
int sinks_publish(struct sinks *ss, enum msg_kind kind, const char *key, size_t keylen,
                  const char *json, size_t len);
void sinks_poll(struct sinks *ss);
/* Flush every sink; 0, or the negative errno of the last one that failed. */
int sinks_flush(struct sinks *ss, int timeout_ms);
void sinks_reopen(struct sinks *ss);
void sinks_destroy(struct sinks *ss);

#endif
