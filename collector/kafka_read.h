/* kafka_read.h: a bounded, finite read of whole Kafka topics: the input of `transitwatch report
 * --kafka` (report_cmd.h), which reads the alerts and summaries the Kafka sink published.
 *
 * Not a source (source.h): it feeds no pipeline and runs no event loop; it is a one-shot read
 * like the report's read of a JSON lines file. No consumer group and no commits: every
 * partition of the topics is assigned directly, from the offset of `since` (offsets by time,
 * rd_kafka_offsets_for_times, of since - KAFKA_READ_SLACK_MS; the beginning when the brokers
 * cannot say or answer -1: librdkafka's mock cluster answers -1 to every time, and a real
 * broker's -1, no message since then, costs a read of the whole partition whose messages the
 * caller's filter then drops) up to the high watermark read at the start, so the read ends
 * even while the daemon keeps publishing. Every wait is bounded by timeout_ms: the metadata and offset
 * requests each, and the read itself (no message for that long while partitions are left is
 * an error, -ETIMEDOUT, with the last consumer error in err).
 *
 * Duplicates: the Kafka sink delivers at least once (after a broker failure or a restart it
 * sends again what was not acknowledged: byte-identical copies, in order per partition, within
 * its queue_max_messages window, 1 M at most). A copy of one of the last [kafka] dedup_messages
 * messages read is skipped and counted (kafka_dedup.h, the mechanism detect --from-kafka uses
 * too); an older copy is not recognized.
 *
 * Kafka timestamps are the producer's clock when it sent the message, not the alert's
 * @timestamp (event time, the exporters' clocks), so the offset lookup starts a day early
 * (an exporter clock ahead by up to a day still has its alerts read); the caller filters on
 * @timestamp exactly. Main thread; librdkafka runs its own I/O threads. */
#ifndef TW_KAFKA_READ_H
#define TW_KAFKA_READ_H

#include <stddef.h>
#include <stdint.h>

#include "sink_kafka.h"

#define KAFKA_READ_MAX_TOPICS 8
#define KAFKA_READ_MAX_PARTITIONS 4096  /* over all topics; more is refused (-E2BIG) */
#define KAFKA_READ_SLACK_MS 86400000ull /* offsets by time: since minus a day (see above) */

struct kafka_read_opts {
    const struct kafka_settings *ks; /* brokers and properties (borrowed) */
    const char *const *topics;       /* borrowed */
    size_t ntopics;
    uint64_t since_ms;   /* 0: every partition from its beginning */
    uint64_t timeout_ms; /* bound of each broker request and of a read without progress */
};

struct kafka_read_stats {
    uint64_t messages;   /* handed to fn */
    uint64_t duplicates; /* copies of a message read before (not handed on) */
    uint32_t partitions; /* of the topics */
    uint32_t by_time;    /* partitions started at their offset for since */
    uint32_t errors;     /* consumer errors seen (librdkafka retries them) */
};

/* fn gets each message's value (borrowed for the call; not NUL-terminated). */
typedef void (*kafka_read_fn)(void *arg, const char *value, size_t len);

/* Read the topics as above. 0; or with err: -EINVAL (settings librdkafka refuses), -ENOENT (a
 * topic the brokers do not have), -E2BIG (too many partitions), -ETIMEDOUT (brokers not
 * reached, or no progress within timeout_ms), -EIO (another broker error), -ENOMEM. */
int kafka_read_topics(const struct kafka_read_opts *o, kafka_read_fn fn, void *arg,
                      struct kafka_read_stats *st, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
