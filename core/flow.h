/* flow.h: the one normalised flow record every source produces.
 *
 * Writers: the decoders (collector/decode) and the flow meter fill every field but
 * customer/dir/inside; the pipeline (collector/pipeline.c) sets those by customer lookup.
 * Readers: detectors (detectors/) and the summaries; exporters never see flow records.
 * A record is a value: it is copied into rings and never owns memory.
 */
#ifndef TW_FLOW_H
#define TW_FLOW_H

#include <stdint.h>

enum flow_dir {
    FLOW_DIR_NONE = 0,     /* neither end inside a customer (counted, not analysed) */
    FLOW_DIR_OUT = 1,      /* inside host is the source: traffic leaving the customer */
    FLOW_DIR_IN = 2,       /* inside host is the destination */
    FLOW_DIR_INTERNAL = 3, /* both ends inside customers; src is taken as the inside host (the
                              pipeline also hands the destination's shard a copy, dir IN) */
};

enum flow_flag {
    FLOW_F_V6 = 1u << 0,               /* addresses are IPv6 (else IPv4-mapped IPv6) */
    FLOW_F_SAMPLING_UNKNOWN = 1u << 1, /* no sampling rate known; counters taken as 1:1 */
    FLOW_F_LATE = 1u << 2,             /* arrived after its window closed (pipeline) */
    FLOW_F_METERED = 1u << 3,          /* made by the flow meter from raw packets */
    FLOW_F_INIT_SRC = 1u << 4,         /* the exporter or meter knows the source started the
                                          connection (core/initiator.h) */
    FLOW_F_INIT_DST = 1u << 5,         /* ... knows the destination started it */
    /* Daemon only: the record's end is more than DECODE_CLOCK_SKEW_MS from its export header's
     * time (the exporter's clock). Set by the decoder, counted per exporter and in
     * pipeline_stats.time_skew; the times are kept as the exporter sent them (never moved onto
     * "now"), the record still counts for volumes, but timing-based detectors (beacon, long
     * sessions) skip it and it never advances the pipeline's event time. Replay does not set it:
     * there the records' own times rule. */
    FLOW_F_CLOCK_SKEW = 1u << 6,
    /* One packet's header, not a flow an exporter or the meter aggregated: an sFlow flow sample
     * (raw header or sampled IPv4/IPv6 record) or an IPFIX/v9 packet section (PSAMP). Its TCP
     * flags are that packet's, never a connection's union, at any sampling rate including 1:1.
     * Set by the decoders (collector/decode/sflow.c, decode_tmpl.c); detectors ask
     * det_flow_whole() (detectors/detector.h). */
    FLOW_F_PACKET = 1u << 7,
};

/* All multi-byte integers in host byte order unless said otherwise. */
struct flow_rec {
    uint8_t src[16];   /* source address, network order, IPv4 as ::ffff:a.b.c.d */
    uint8_t dst[16];   /* destination address, same form */
    uint64_t bytes;    /* octets, multiplied by the sampling rate */
    uint64_t packets;  /* packets, multiplied by the sampling rate */
    uint64_t first_ms; /* flow start, Unix time in milliseconds */
    uint64_t last_ms;  /* flow end, Unix time in milliseconds (>= first_ms) */
    uint32_t sampling; /* the rate applied (1 = unsampled) */
    uint32_t exporter; /* exporter index (decode_ctx exporter table); 0 = none/meter */
    uint16_t sport;    /* transport source port (0 when none) */
    uint16_t dport;    /* transport destination port; ICMP: type << 8 | code */
    uint8_t proto;     /* IP protocol number */
    uint8_t
        tcp_flags; /* cumulative TCP flags (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20) */
    uint8_t flags;          /* enum flow_flag bits */
    uint8_t dir;            /* enum flow_dir, set by the pipeline */
    uint32_t src_as;        /* source AS from the exporter (0 = unknown) */
    uint32_t dst_as;        /* destination AS (0 = unknown) */
    uint32_t customer;      /* customer index + 1 (0 = none), set by the pipeline */
    uint32_t peer_customer; /* when both ends are customers' hosts (FLOW_DIR_INTERNAL, and the
                               FLOW_DIR_IN copy of it the destination's shard gets): the other
                               end's customer index + 1; else 0. Set by the pipeline */
    uint32_t in_if;         /* the exporter's ingress interface (SNMP ifIndex; v5 input, IPFIX
                             ingressInterface), 0 = unknown */
};

/* The inside host and the outside peer of a record the pipeline has classified. */
static inline const uint8_t *flow_inside(const struct flow_rec *f)
{
    return f->dir == FLOW_DIR_IN ? f->dst : f->src;
}
static inline const uint8_t *flow_outside(const struct flow_rec *f)
{
    return f->dir == FLOW_DIR_IN ? f->src : f->dst;
}

/* Callback through which every source hands records on. rec is borrowed for the call, and the
 * callee may change it (the pipeline classifies it in place: dir, customer, peer_customer,
 * flags): a source never reads back or reuses what it handed on. The template decoder rebuilds
 * every field of each record it reuses the memory of (collector/decode/decode_tmpl.c,
 * tests/unit/test_decode_scribble.c). */
typedef void (*flow_emit_fn)(void *arg, struct flow_rec *rec);

#endif
