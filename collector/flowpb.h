/* flowpb.h: flow records on Kafka. Two schemas, both protobuf read and written by hand over
 * core/pbwire.h:
 *   - transitwatch's own FlowRecord (collector/proto/flow.proto, versioned): what `collect`
 *     publishes and `detect --from-kafka` reads, with the record's part (which customer's view)
 *     and the collector's event time;
 *   - GoFlow2's FlowMessage (netsampler/goflow2, pb/flow.proto; the fields listed in
 *     goflow2_decode), as GoFlow2 writes it to Kafka or a file with -format=bin: each message
 *     preceded by its length as a varint. Read as flow input; the writer exists for the tests
 *     and the lab (replay --write-goflow2).
 * Threads: none (pure functions over caller buffers; no allocation). */
#ifndef TW_FLOWPB_H
#define TW_FLOWPB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define FLOWPB_VERSION 1
#define FLOWPB_MAX 192 /* bytes of an encoded FlowRecord or FlowMessage, at most */

enum flowpb_part {
    FLOWPB_PART_ALL = 0,  /* the record as it is */
    FLOWPB_PART_SRC = 1,  /* internal record: the source customer's half */
    FLOWPB_PART_DST = 2,  /* internal record: the destination customer's copy */
    FLOWPB_PART_TICK = 3, /* no record: the collector's window moved (to every partition) */
};

struct flowpb_meta {
    uint32_t part; /* enum flowpb_part */
    bool has_exporter;
    uint64_t window_start_ms, watermark_ms;
    uint8_t exporter[16]; /* the exporter's address (IPv4-mapped for IPv4), when has_exporter */
    uint64_t seq;         /* the collector's record number (flow.proto seq); 0: none (ticks) */
};

/* Encode f (its unclassified fields; dir/customer are not carried: the reader classifies
 * against its own customer map) and m; a tick (m->part FLOWPB_PART_TICK) carries m only (f is
 * not read). Returns the length, or -ENOSPC. */
int flowpb_encode(const struct flow_rec *f, const struct flowpb_meta *m, uint8_t *buf, size_t cap);
/* Decode one FlowRecord. 0, -EBADMSG (not a FlowRecord: truncated, wrong field types, bad
 * address length, part out of range) or -EPROTONOSUPPORT (a newer version). */
int flowpb_decode(const uint8_t *buf, size_t len, struct flow_rec *f, struct flowpb_meta *m);

/* One GoFlow2 FlowMessage to a record: addresses (4 or 16 bytes), bytes and packets times
 * sampling_rate (GoFlow2 reports them as sampled), times from time_flow_start_ns /
 * time_flow_end_ns (time_received_ns when they are 0), ports, ICMP type/code as dport,
 * proto, tcp_flags, src_as, dst_as, in_if. 0 or -EBADMSG (also: no source or destination
 * address, an etype that is neither IPv4 nor IPv6 when addresses are absent). */
int goflow2_decode(const uint8_t *buf, size_t len, struct flow_rec *f);
/* A record as GoFlow2 would write it (sampler: the exporter's address, 16 bytes, or NULL).
 * Returns the length, or -ENOSPC. */
int goflow2_encode(const struct flow_rec *f, const uint8_t sampler[16], uint8_t *buf, size_t cap);
/* A length-prefixed stream: the next message at *p (< end): 1 with *msg and *len and *p moved,
 * 0 at the end, -EBADMSG for a bad or truncated prefix (the rest of the stream is unusable). */
int goflow2_next(const uint8_t **p, const uint8_t *end, const uint8_t **msg, size_t *len);
/* A Kafka message from GoFlow2: with its length prefix (-format=bin) or without: the message itself. */
void goflow2_unframe(const uint8_t *buf, size_t len, const uint8_t **msg, size_t *msglen);

#endif
