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
 * Threads: like every sink, publish/poll/flush/destroy run on the export thread; librdkafka's
 * callbacks (delivery reports, errors) are served from poll()/flush() on that thread.
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
    char properties[2048];      /* librdkafka "name=value" list, ';' or ',' separated */
    uint32_t queue_max_messages;
    char spool_dir[512];
    uint64_t spool_max_bytes;
    int spool_fsync;            /* enum spool_fsync */
    uint32_t spool_fsync_ms;
    uint64_t spool_block_bytes; /* 0: every message is written at publish(); else group commit */
    uint64_t flush_timeout;     /* seconds: the daemon's flush() at shutdown / end of replay */
    uint64_t retry_interval;    /* seconds between a failure and re-sending from the spool */
};

/* The [kafka] section's keys (offsets into struct kafka_settings); terminated by name NULL. */
extern const struct conf_key kafka_conf_keys[];

/* s: borrowed (copied). Opens (and recovers) the spool, creates the producer; nothing is sent
 * before publish()/poll(). Returns 0 with *out, or -1 with err. */
int sink_kafka_new(const struct kafka_settings *s, struct sink *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

struct kafka_counters {
    uint64_t published;      /* accepted: appended to the spool */
    uint64_t skipped;        /* MSG_TOTALS: not for Kafka */
    uint64_t queued;         /* handed to librdkafka (first sends and re-sends) */
    uint64_t delivered;      /* successful delivery reports */
    uint64_t failed;         /* failed delivery reports or produce calls (re-sent later) */
    uint64_t resent;         /* produced again: after a failure or from a previous run */
    uint64_t rejected;       /* larger than the broker accepts: dropped, counted */
    uint64_t queue_full;     /* produce refused by a full local queue (retried at poll) */
    uint64_t inflight;       /* outstanding delivery reports */
    uint64_t backlog;        /* messages in the spool not yet delivered */
    uint64_t retries;        /* re-send rounds started after failures */
    uint64_t producer_restarts; /* producer re-created after a fatal error */
    uint64_t spool_bytes, spool_max_bytes;
    uint64_t spool_lost;     /* refused: spool bound reached (or a write error) */
    uint64_t spool_lost_episodes;
    uint64_t spool_corrupt;  /* damaged spool blocks skipped */
    uint64_t spool_recovered;/* undelivered messages found in the spool at start */
    uint64_t spool_segments;
    uint64_t spool_write_errors;
    uint64_t errors;         /* librdkafka error events (connections refused, timeouts...) */
    uint64_t brokers, brokers_up; /* from librdkafka's statistics (every 5 s) */
    uint64_t last_delivery_unix;  /* wall-clock second of the last delivery (0: none yet) */
};

/* --check-config: the producer configuration (our defaults and the properties) is accepted by
 * librdkafka and the topics and spool are named. 0, or -1 with err. Nothing is opened. */
int sink_kafka_check(const struct kafka_settings *s, char *err, size_t errlen);

/* Tests and metrics: the sink's numbers now. s must come from sink_kafka_new(); returns -1
 * otherwise. */
int sink_kafka_counters(const struct sink *s, struct kafka_counters *c);

#endif
