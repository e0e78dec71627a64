/* sink_kafka.h: the Kafka sink. Alerts and summaries go to Kafka with the customer id as key,
 * through an idempotent producer (acks=all), and none is lost while the broker is away.
 *
 * Design (write-ahead spool): publish() appends every message to the on-disk spool (spool.h)
 * and returns at once; messages are handed to librdkafka from the spool, in sequence order,
 * once their block is committed (write()), so a message is on disk before Kafka can see it.
 * With spool_block_bytes = 0 (default) every publish() commits its message: when publish()
 * returns, the message survives a SIGKILL. With spool_block_bytes > 0 messages are grouped into
 * blocks of that size (or until the next poll()/flush()): fewer syscalls and better compression,
 * but a SIGKILL loses what publish() took since the last commit (at most one poll interval). A delivery report marks its sequence number
 * delivered; the lowest undelivered one is the ack point, persisted at every poll(). A failed
 * report (broker away, timeouts, injected errors) pauses sending; once every outstanding report
 * is back and retry_interval has passed, sending restarts from the ack point, in order. At a
 * restart (also after SIGKILL) everything above the persisted ack point is sent again first, so
 * delivery is at-least-once: duplicates are possible (after a failure or a crash), and the
 * alert JSON carries a deterministic event.id for consumers to drop them. Per key, the
 * re-sent stream is in order (the last copy of each message comes in produce order).
 * Segments whose messages are all delivered are deleted; spool_max_bytes bounds the disk: past
 * it new messages are refused, counted in spool_lost and logged once per episode.
 * At most queue_max_messages messages are outstanding beyond the ack point.
 *
 * Threads: like every sink, publish/poll/flush/destroy run on the main loop's thread (the
 * pipeline's); librdkafka's callbacks (delivery reports, errors) are served from poll()/flush()
 * on that thread.
 * MSG_TOTALS are not sent to Kafka (taken and counted as skipped).
 *
 * fsync policy (spool_fsync): "never": a message survives a crash of the process (SIGKILL) as
 * soon as its block is written, but a power cut may lose what the kernel had not written back;
 * "batch" (default): fdatasync at most every spool_fsync_ms from poll(), bounding that window;
 * "always": fdatasync after every block, the slowest and safest.
 */
#ifndef TW_SINK_KAFKA_H
#define TW_SINK_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "exporter.h"

struct kafka_settings {
    char brokers[512];          /* bootstrap.servers; empty: Kafka off */
    char topic_alerts[250];     /* MSG_ALERT */
    char topic_summaries[250];  /* MSG_SUMMARY */
    char topic_flows[250];      /* MSG_FLOW (collect); what detect --from-kafka reads */
    char topic_prevalence[250]; /* detect: the instances' shared views; empty: not shared */
    /* detect --from-kafka, the consumer (collector/sources/kafka_in.h) */
    char group_id[250];         /* group.id */
    char instance_id[250];      /* group.instance.id (static membership); empty: dynamic */
    char input[16];             /* "transitwatch" (flow.proto) or "goflow2" (FlowMessage) */
    uint32_t partition_idle_ms; /* a partition at its end this long no longer holds windows */
                                /* (normally every partition brings the collector's ticks) */
    uint64_t lag_max;           /* /healthz: degraded beyond this many records behind */
    uint64_t replay_horizon;    /* seconds the committed offsets lag the released window */
    uint32_t dedup_messages;    /* readers: latest messages remembered for re-sent copies */
    char properties[2048];      /* librdkafka "name=value" list, ';' or ',' separated */
    uint32_t queue_max_messages;
    char spool_dir[512];
    uint64_t spool_max_bytes;
    int spool_fsync; /* enum spool_fsync */
    uint32_t spool_fsync_ms;
    uint64_t spool_block_bytes; /* 0: every message is written at publish(); else group commit */
    uint64_t flush_timeout;     /* seconds: the daemon's flush() at shutdown / end of replay */
    uint64_t retry_interval;    /* seconds between a failure and re-sending from the spool */
};

/* The [kafka] section's keys (offsets into struct kafka_settings); terminated by name NULL. */
extern const struct conf_key kafka_conf_keys[];

/* s: borrowed (copied). Opens (and recovers) the spool, creates the producer; nothing is sent
 * before publish()/poll(). Returns 0 with *out, or a negative errno with err
 * (-EINVAL: settings librdkafka refuses, -ENOMEM, spool_open's). */
int sink_kafka_new(const struct kafka_settings *s, struct sink *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The sink's counters, defined once: the struct, its stats JSON and its /metrics lines. */
#define KAFKA_COUNTERS(X, A)                                                                       \
    X(T, published, "published", "kafka_published_messages_total", NULL, CTR_COUNTER,              \
      "Messages accepted (appended to the spool).")                                                \
    X(T, skipped, "skipped", "kafka_skipped_messages_total", NULL, CTR_COUNTER,                    \
      "Messages not for Kafka (end-of-run totals).")                                               \
    X(T, queued, "queued", "kafka_queued_messages_total", NULL, CTR_COUNTER,                       \
      "Messages handed to librdkafka (first sends and re-sends).")                                 \
    X(T, delivered, "delivered", "kafka_delivered_total", NULL, CTR_COUNTER,                       \
      "Messages Kafka acknowledged.")                                                              \
    X(T, failed, "failed", "kafka_delivery_failures_total", NULL, CTR_COUNTER,                     \
      "Failed delivery reports or produce calls (re-sent from the spool).")                        \
    X(T, resent, "resent", "kafka_resent_total", NULL, CTR_COUNTER,                                \
      "Messages produced again: after a failure or from a previous run.")                          \
    X(T, rejected, "rejected", "kafka_rejected_messages_total", NULL, CTR_COUNTER,                 \
      "Messages larger than the broker accepts: dropped.")                                         \
    X(T, queue_full, "queue_full", "kafka_queue_full_total", NULL, CTR_COUNTER,                    \
      "Produce calls refused by a full local queue (retried at the next poll).")                   \
    X(T, inflight, "inflight", "kafka_inflight_messages", NULL, CTR_GAUGE,                         \
      "Messages awaiting a delivery report.")                                                      \
    X(T, backlog, "backlog", "kafka_backlog_messages", NULL, CTR_GAUGE,                            \
      "Messages in the spool not yet delivered.")                                                  \
    X(T, retries, "retries", "kafka_retries_total", NULL, CTR_COUNTER,                             \
      "Re-send rounds started after failures.")                                                    \
    X(T, producer_restarts, "producer_restarts", "kafka_producer_restarts_total", NULL,            \
      CTR_COUNTER, "Producers re-created after a fatal error.")                                    \
    A(T, published, "spooled", "kafka_published_messages_total")                                   \
    X(T, spool_bytes, "spool_bytes", "kafka_spool_bytes", NULL, CTR_GAUGE,                         \
      "Bytes in the on-disk spool.")                                                               \
    X(T, spool_max_bytes, "spool_max_bytes", "kafka_spool_max_bytes", NULL, CTR_GAUGE,             \
      "Spool size bound, in bytes.")                                                               \
    X(T, spool_lost, "spool_lost", "kafka_spool_lost_total", NULL, CTR_COUNTER,                    \
      "Messages refused: spool bound reached or a write error.")                                   \
    X(T, spool_lost_episodes, "spool_lost_episodes", "kafka_spool_lost_episodes_total", NULL,      \
      CTR_COUNTER, "Times the spool bound was reached.")                                           \
    X(T, spool_corrupt, "spool_corrupt", "kafka_spool_corrupt_blocks_total", NULL, CTR_COUNTER,    \
      "Damaged spool blocks skipped.")                                                             \
    X(T, spool_recovered, "spool_recovered", "kafka_spool_recovered_messages_total", NULL,         \
      CTR_COUNTER, "Undelivered messages found in the spool at start.")                            \
    X(T, spool_segments, "spool_segments", "kafka_spool_segments", NULL, CTR_GAUGE,                \
      "Segment files in the spool.")                                                               \
    X(T, spool_write_errors, "spool_write_errors", "kafka_spool_write_errors_total", NULL,         \
      CTR_COUNTER, "Spool writes that failed (a full disk, an I/O error).")                        \
    X(T, ticks, "flow_ticks", "kafka_flow_ticks_total", NULL, CTR_COUNTER,                         \
      "collect: window ticks sent (one per partition of the flows topic).")                        \
    X(T, ticks_dropped, "flow_ticks_dropped", "kafka_flow_ticks_dropped_total", NULL, CTR_COUNTER, \
      "collect: window tick copies the local queue refused (not sent again).")                     \
    X(T, ticks_delivered, "flow_ticks_delivered", "kafka_flow_ticks_delivered_total", NULL,        \
      CTR_COUNTER, "collect: window tick copies the broker took.")                                 \
    X(T, ticks_failed, "flow_ticks_failed", "kafka_flow_ticks_failed_total", NULL, CTR_COUNTER,    \
      "collect: window tick copies the broker did not take (not sent again; consumers close "      \
      "that window after partition_idle_ms).")                                                     \
    X(T, errors, "errors", "kafka_errors_total", NULL, CTR_COUNTER,                                \
      "librdkafka error events (connections refused, timeouts...).")                               \
    X(T, brokers, "brokers", "kafka_brokers", NULL, CTR_GAUGE,                                     \
      "Brokers librdkafka knows (from its statistics, every 5 s).")                                \
    X(T, brokers_up, "brokers_up", "kafka_brokers_up", NULL, CTR_GAUGE,                            \
      "Brokers in state UP (from librdkafka's statistics, every 5 s).")                            \
    X(T, last_delivery_unix, "last_delivery_time_seconds", "kafka_last_delivery_time_seconds",     \
      NULL, CTR_GAUGE, "Unix time of the last delivery (0: none yet).")

struct kafka_counters {
    KAFKA_COUNTERS(CTR_FIELD, CTR_NONE)
};

/* A librdkafka configuration: defs[0..n) (name, value), then the [kafka] properties ("a=1;
 * b=2,c=3": a ',' separates only when a "name=" follows, so list values such as
 * "debug=broker,topic" stay whole), which override them. The producer's and the consumer's
 * (kafka_in.c) one way. Returns a new rd_kafka_conf_t (void * here so this header needs no
 * librdkafka; the caller owns it), or NULL with err. */
void *kafka_conf_build(const char *const (*defs)[2], size_t n, const char *props, char *err,
                       size_t errlen);
/* rd_kafka_new of a producer or a consumer from conf (kafka_conf_build's, callbacks set; taken,
 * also on failure). The rd_kafka_t (void * as above), or NULL with err "kafka <what>: <why>". */
void *kafka_client_new(bool consumer, void *conf, const char *what, char *err, size_t errlen);

/* --check-config: the producer configuration (our defaults and the properties) is accepted by
 * librdkafka and the topics and spool are named. 0, or -EINVAL with err. Nothing is opened. */
int sink_kafka_check(const struct kafka_settings *s, char *err, size_t errlen);

/* Tests and metrics: the sink's numbers now. s must come from sink_kafka_new(); returns -EINVAL
 * otherwise. */
int sink_kafka_counters(const struct sink *s, struct kafka_counters *c);

#endif
