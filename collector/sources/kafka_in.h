/* kafka_in.h: the Kafka consumer source of `transitwatch detect --from-kafka` (source.h).
 *
 * It joins the consumer group [kafka] group_id on topic_flows (cooperative-sticky assignment
 * when the brokers allow it, static membership with instance_id), reads its partitions and
 * hands every record on: collect's records (collector/proto/flow.proto) through
 * source_out.part with the part and the collector's event time, GoFlow2 FlowMessages
 * (input = goflow2) through source_out.record as finished records.
 *
 * Event time across partitions (collect's records). Each record carries the window the
 * collector's pipeline had open when it classified it (the same window a single-process replay
 * would use); whenever that window moves, the collector also sends every partition a tick
 * (flowpb.h FLOWPB_PART_TICK), so partitions without records still carry event time. The source keeps the instance's released window R: a record of a window <= R is
 * handed on at once; a record (or tick) of a later window is held (one per partition) and its
 * partition paused. Once every owned partition holds one, R becomes the smallest held window:
 * the held records of that window are handed on (the pipeline closes the windows before it
 * first), their partitions seek on past them and resume. Since the collector's tick of a new
 * window follows every record of the windows before it in each partition, a partition that
 * does not hold one yet may still bring records of the open window (its broker is slower, the
 * collector's spool is sending a backlog): it is waited for. So every record lands in the
 * window the single process gives it, whatever the partitions' interleaving and however many
 * instances share them. Only a partition at its end for partition_idle_ms (a lost tick, a
 * collector gone: 60 s by default) stops holding window close; records it brings later are late
 * (counted, and still analysed in the open window).
 *
 * Offsets: auto-commit is off. Just before a release opens window W, each owned partition's
 * commit point is taken: the held record's offset, or the next offset to read (where a re-read
 * of W starts). With [kafka] replay_horizon H = 0 it is committed once the release has run (the
 * closed windows' alerts and summaries are then in the sinks: the Kafka sink's spool), so a
 * crash or a rebalance re-reads at most the open window. With H > 0 the points of the last
 * H / window + 1 releases are kept (a ring of at most KAFKA_IN_REPLAY_MAX + 1 windows, each
 * KAFKA_IN_MAX_PARTITIONS offsets: 2 KiB a window, 578 KiB at the cap; allocated at open) and
 * the point of the oldest window W' >= W - H is committed: the commits lag by the horizon, so
 * the instance that reads a partition next re-reads H of event time before the open window and
 * its detectors rebuild the history of that span (kafka_in_commit_lag_windows/_records). At
 * shutdown (after the pipeline's last window) the same lagged point. Alerts raised again for
 * windows already published carry the same event.id (same identity, same first window); an
 * instance that re-reads its own windows finds their incidents in its alert manager (kept
 * across resets) and folds the repeats without a message.
 * Rebalance: any change of this instance's partitions (a revoke or an assignment; not an empty
 * one) drops every window's state (hooks.reset) and rewinds the partitions it keeps to their
 * commits; a moved partition starts at its commit on its new owner. Between two rewinds each
 * partition's offsets go on once: a message below the next offset to read (librdkafka placed
 * the partition itself: a late assignment fetch start, an offset reset) is dropped, counted. Cross-window state older than H (beacon
 * history beyond it, the day views, the prevalence horizon) warms up again from there.
 * Re-sent copies: the Kafka sink delivers at least once, so after a failed delivery or a
 * restart of a collector a partition holds copies of records (and ticks) at later offsets; a
 * message byte-identical to one of the last [kafka] dedup_messages of its partition taken since
 * the last rewind is skipped and counted (kafka_in_resent_skipped_total), by the mechanism
 * `report --kafka` uses (kafka_dedup.h); a rewind forgets them (what it re-reads goes on again).
 * Stop (the daemon's SIGTERM): an instance that has read every owned partition to its end first
 * publishes the open window's shared entries and waits for the other instances' (at most
 * partition_idle_ms and flush_timeout), so instances stopped together once the input ended
 * close their last window as one process does.
 * GoFlow2 input: records go on as they come (GoFlow2 keys by its own choice, so with several
 * instances a host's records may be split: run one instance per GoFlow2 topic, or put
 * `collect` in front); each partition's position at a window close is committed at the next.
 *
 * Threads: the main loop's (librdkafka runs its own I/O threads; the rebalance callback and
 * every message are served from drain on the main thread). */
#ifndef TW_KAFKA_IN_H
#define TW_KAFKA_IN_H

#include <stdbool.h>
#include <stdint.h>

#include "sink_kafka.h"
#include "source.h"

#define KAFKA_IN_MAX_PARTITIONS 256 /* of topic_flows; more are refused at assignment (logged) */
#define KAFKA_IN_PART_ROWS 16       /* per-partition /metrics rows, the lowest owned partitions */
#define KAFKA_IN_REPLAY_MAX 288     /* windows the commits lag at most ([kafka] replay_horizon) */
#define KAFKA_IN_EXPORTERS 1024 /* exporter addresses named in alerts; beyond: unnamed, counted */
/* a record or tick of a window starting more than this beyond the wall clock is refused
 * (kafka_in_bad_records_total): no collector's (corrupt, hostile, an exporter's clock days
 * off), and held it would stall its partition and then move every window there */
#define KAFKA_IN_FUTURE_MS (24 * 3600 * 1000ull)

struct kafka_in_hooks {
    int (*reset)(void *arg);           /* drop every window's state (rebalance); 0 or -errno */
    uint64_t (*last_close)(void *arg); /* end of the last window closed (pipeline) */
    /* the detectors' shared views (pipeline_share_export, pipeline_share_import); NULL: the
     * prevalence topic is not used */
    size_t (*share_export)(void *arg, void (*fn)(void *fa, uint32_t det, const void *e, size_t len),
                           void *fa);
    int (*share_import)(void *arg, uint32_t det, const void *entry, size_t len);
    void *arg;
};

/* The shared views' messages on topic_prevalence (partition 0). A detect instance, once every
 * partition it owns has brought a record or tick of a later window (or at its end, --exit-idle)
 * and before it closes its open window W, publishes what its detectors will add to their
 * cross-instance views at that close (today the beacon detector's prevalence entries: peer
 * key, distinct inside hosts as an exact set or HLL, customers) in chunks of at most
 * KAFKA_SHARE_MSG_MAX bytes:
 *   0  "TWPV"   4  version (1)   5  flags (bit 0: the last chunk of this publication)
 *   6  reserved (2 bytes, 0)     8  W's start, Unix ms (u64, little endian)
 *   16 the partitions of topic_flows the publisher owns (KAFKA_IN_MAX_PARTITIONS bits, bit n of
 *      byte n/8 = partition n)
 *   48 entries: detector (u8, its index in det_registry), length (u16 little endian), the
 *      entry (the detector's own layout, the same bytes on every machine: det_beacon.c)
 * Every instance reads the topic from its start (assigned, not a group member), takes the
 * entries of W into its detectors as they come and holds W's close until the last chunks of W
 * it read, with its own partitions, cover every partition of topic_flows; then the close merges
 * them (a union of distinct sets: duplicates after a rebalance change nothing), so every
 * instance decides as a single process with every host would. Messages of a later window are
 * read again after W's close (the consumer seeks back to the first one of the new window seen);
 * of an earlier one, skipped. Without full cover after partition_idle_ms (an instance gone, the
 * topic missing) W closes with what came, counted (kafka_in_share_incomplete_total). */
#define KAFKA_SHARE_MSG_MAX (256 * 1024)
#define KAFKA_SHARE_HDR 48

struct kafka_in_opts {
    const struct kafka_settings *ks; /* brokers, topic_flows, group, properties... (borrowed) */
    uint64_t window_ms;              /* the pipeline's window */
    uint64_t exit_idle_ms;           /* 0: run until stopped; else end (SOURCE_EOF) once every
                                        owned partition has been at its end this long */
    struct kafka_in_hooks hooks;
};

/* The source's counters, defined once (ctr.h): /metrics, and a detect daemon's totals under
 * sources.kafka_in (source_set_json); kafka_in_counter_defs gives the table. */
#define KAFKA_IN_COUNTERS(X, A)                                                                    \
    X(T, records, "kafka_in.records", "kafka_in_records_total", NULL, CTR_COUNTER,                 \
      "Flow records read from Kafka and handed on.")                                               \
    X(T, bad_records, "kafka_in.bad_records", "kafka_in_bad_records_total", NULL, CTR_COUNTER,     \
      "Kafka messages that were not a readable record, or of a window more than a day beyond "     \
      "the wall clock (skipped).")                                                                 \
    X(T, redelivered, "kafka_in.redelivered", "kafka_in_redelivered_total", NULL, CTR_COUNTER,     \
      "Messages delivered again at an offset already handed on since the last rewind (dropped).")  \
    X(T, resent, "kafka_in.resent_skipped", "kafka_in_resent_skipped_total", NULL, CTR_COUNTER,    \
      "Copies the Kafka sink sent again after a failed delivery or a restart (a message "          \
      "byte-identical to one of the partition read shortly before: kafka_dedup.h), skipped.")      \
    X(T, ticks, "kafka_in.ticks", "kafka_in_ticks_total", NULL, CTR_COUNTER,                       \
      "The collector's window ticks read (a partition's event time without records).")             \
    X(T, late_records, "kafka_in.late_records", "kafka_in_late_records_total", NULL, CTR_COUNTER,  \
      "Records of a window already released (a partition that was idle, or moved).")               \
    X(T, partitions, "kafka_in.partitions", "kafka_in_partitions_owned", NULL, CTR_GAUGE,          \
      "Partitions of the flows topic this instance owns.")                                         \
    X(T, rebalances, "kafka_in.rebalances", "kafka_in_rebalances_total", NULL, CTR_COUNTER,        \
      "Assignments and revocations of partitions.")                                                \
    X(T, resets, "kafka_in.resets", "kafka_in_state_resets_total", NULL, CTR_COUNTER,              \
      "Window state dropped and partitions rewound to their commits (rebalances).")                \
    X(T, lag, "kafka_in.lag", "kafka_in_lag_records", NULL, CTR_GAUGE,                             \
      "Records in owned partitions not yet read (from the last fetch's high watermarks).")         \
    X(T, position, "kafka_in.position", "kafka_in_position_records", NULL, CTR_GAUGE,              \
      "Messages of the owned partitions read: the sum of their next offsets (equal to the sum of " \
      "their high watermarks once everything is read).")                                           \
    X(T, held, "kafka_in.held", "kafka_in_held_partitions", NULL, CTR_GAUGE,                       \
      "Partitions paused at a record of a later window.")                                          \
    X(T, windows_released, "kafka_in.windows_released", "kafka_in_windows_released_total", NULL,   \
      CTR_COUNTER, "Windows the partitions' progress released.")                                   \
    X(T, released_s, "kafka_in.released_window", "kafka_in_released_window_seconds", NULL,         \
      CTR_GAUGE, "Start of the latest window released to the pipeline (Unix seconds).")            \
    X(T, commits, "kafka_in.commits", "kafka_in_commits_total", NULL, CTR_COUNTER,                 \
      "Offset commits sent (after a window's results were published).")                            \
    X(T, commit_lag_windows, "kafka_in.commit_lag_windows", "kafka_in_commit_lag_windows", NULL,   \
      CTR_GAUGE, "Windows between the released one and the one whose start was committed last.")   \
    X(T, commit_lag_records, "kafka_in.commit_lag_records", "kafka_in_commit_lag_records", NULL,   \
      CTR_GAUGE, "Records of owned partitions between the last commit and the released window.")   \
    X(T, commit_failures, "kafka_in.commit_failures", "kafka_in_commit_failures_total", NULL,      \
      CTR_COUNTER, "Offset commits that failed.")                                                  \
    X(T, errors, "kafka_in.errors", "kafka_in_errors_total", NULL, CTR_COUNTER,                    \
      "Consumer errors reported by librdkafka.")                                                   \
    X(T, exporters_full, "kafka_in.exporters_unnamed", "kafka_in_exporters_unnamed_total", NULL,   \
      CTR_COUNTER, "Records whose exporter did not fit the exporter table (alerts unnamed).")      \
    X(T, share_sent, "kafka_in.share_messages_sent", "kafka_in_share_messages_sent_total", NULL,   \
      CTR_COUNTER, "Messages of shared view entries published to topic_prevalence.")               \
    X(T, share_entries_out, "kafka_in.share_entries_out", "kafka_in_share_entries_out_total",      \
      NULL, CTR_COUNTER, "Shared view entries this instance published (its detectors').")          \
    X(T, share_read, "kafka_in.share_messages_read", "kafka_in_share_messages_read_total", NULL,   \
      CTR_COUNTER, "Messages read from topic_prevalence (read again after a seek back too).")      \
    X(T, share_entries_in, "kafka_in.share_entries_in", "kafka_in_share_entries_in_total", NULL,   \
      CTR_COUNTER, "Shared view entries of the open window taken into the detectors.")             \
    X(T, share_dropped, "kafka_in.share_dropped", "kafka_in_share_dropped_total", NULL,            \
      CTR_COUNTER,                                                                                 \
      "Shared view messages or entries lost: not sent (producer queue, delivery), unreadable, "    \
      "or refused by the detector.")                                                               \
    X(T, share_waits, "kafka_in.share_waits", "kafka_in_share_waits_total", NULL, CTR_COUNTER,     \
      "Window closes held until the other instances' entries covered every partition.")            \
    X(T, share_incomplete, "kafka_in.share_incomplete", "kafka_in_share_incomplete_total", NULL,   \
      CTR_COUNTER,                                                                                 \
      "Windows closed after partition_idle_ms without every partition's shared entries.")          \
    X(T, rate, "kafka_in.records_per_second", "kafka_in_records_per_second", NULL, CTR_GAUGE,      \
      "Records read per second, over the last metrics interval.")

struct kafka_in_stats {
    KAFKA_IN_COUNTERS(CTR_FIELD, CTR_NONE)
};

/* Open the consumer and subscribe (the group is joined in the first drains). 0 or -errno with
 * err. */
int kafka_in_source_open(const struct kafka_in_opts *o, const struct source_out *out,
                         struct source **src, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* pipeline_exporter_fn (arg: the source): the address of exporter index idx1 of the records
 * this source handed on. */
bool kafka_in_exporter_addr(void *arg, uint32_t idx1, uint8_t out[16]);
/* The figures now (health, tests). */
void kafka_in_source_stats(struct source *src, struct kafka_in_stats *st);
/* The owned partition, not at its end and not holding a record, that has brought nothing for
 * the longest (*idle_ms, to now_ms: monotonic) while *waiting others hold their next window
 * for it (its leader gone: librdkafka fetches nothing and it holds every window of the
 * instance, with no timeout); -1 when none holds or none is read. /healthz judges it against
 * partition_idle_ms. */
int32_t kafka_in_source_stalled(struct source *src, uint64_t now_ms, uint64_t *idle_ms,
                                unsigned *waiting);
/* Tests only: position partition n of topic_flows at offset off behind the source's back, as
 * librdkafka itself does (the fetch start of an assignment whose committed offsets came back
 * after the source's rewind; an offset reset). 0 or -EIO. */
int kafka_in_source_test_seek(struct source *src, int32_t n, int64_t off);

const struct ctr_def *kafka_in_counter_defs(size_t *n);

#endif
