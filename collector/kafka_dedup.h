/* kafka_dedup.h: the Kafka sink's re-sent copies recognised where its topics are read: the one
 * mechanism of `transitwatch report --kafka` (kafka_read.c) and `detect --from-kafka`
 * (sources/kafka_in.c).
 *
 * The sink delivers at least once (exporters/sink_kafka.h): after a failed delivery, or at a
 * restart, it sends again, in order, everything from its oldest unacknowledged message, also
 * what was delivered meanwhile; the copies are byte-identical, carry the same key (so land in
 * the same partition) and come within its queue_max_messages window (1 M at most) of the
 * original. A message byte-identical (a keyed 64-bit hash and the length) to one of the last
 * `cap` messages taken in the same scope is such a copy. The caller picks the scope: detect
 * the partition (the collector's window ticks are the same bytes on every partition), the
 * report 0 (its alerts and summaries never repeat across partitions, and a copy of a message
 * without a key may land in another partition). An older copy is not recognised. Two distinct
 * messages never share their bytes: a flow record carries the collector's number for it
 * (flow.proto seq), alerts and summaries their times and ids; a window tick repeated to a
 * partition is one tick. `[kafka] dedup_messages` sets cap for both readers.
 *
 * Memory: cap entries of 44 bytes (the 24-byte key, an ltab's links), allocated at init; pages
 * are touched as the table fills. Per message: one hash of its bytes and one table lookup, no
 * allocation. One thread uses a table (the reader's). */
#ifndef TW_KAFKA_DEDUP_H
#define TW_KAFKA_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "table.h"

struct kafka_dedup {
    struct ltab seen; /* {hash, length, scope << 32 | epoch} of the latest messages */
    struct hash_key hk;
    uint32_t epoch; /* kafka_dedup_forget: entries of an older epoch match nothing */
    bool on;
};

/* cap messages remembered (0: off, nothing is ever a copy). 0, -EINVAL (cap >= 2^32) or
 * -ENOMEM. */
int kafka_dedup_init(struct kafka_dedup *d, uint64_t cap) __attribute__((warn_unused_result));
void kafka_dedup_fini(struct kafka_dedup *d);
/* Is the message (len bytes at data, in scope) a copy of one taken before? true: a copy, the
 * caller skips and counts it; false: taken, remembered from now on. */
bool kafka_dedup_copy(struct kafka_dedup *d, uint32_t scope, const void *data, size_t len);
/* What was taken so far counts no more (the reader reads it again on purpose: detect's rewind
 * after a rebalance). O(1): the old entries age out of the table. */
void kafka_dedup_forget(struct kafka_dedup *d);

#endif
