/* decode.h: NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) decoding into flow_rec.
 *
 * Who calls what: the ingest (ingest.c) owns one decode_ctx on the main loop's thread and calls
 * decode_datagram() for every export datagram its sources hand it (receive threads only queue
 * datagrams), and decode_expire() now and then. A ctx is not thread-safe: one ctx
 * per thread (templates are per ctx, so all datagrams of one exporter must reach the same ctx).
 * The metrics reader may call the counter/exporter getters only from the ctx's own thread (or
 * after it stops).
 * Inside: collector/decode/decode_int.h (the files are layers that only call downwards).
 * Ownership: the ctx owns all its memory (bounded by cfg, see decode_memory_bound); buffers
 * passed in are borrowed for the call; each flow_rec handed to emit is borrowed for that call.
 *
 * Sampling (which rate multiplies bytes/packets), in priority order:
 *   1. exporter policy sampling_override (non-zero);
 *   2. the data record itself: samplingInterval (34), samplerRandomInterval (50),
 *      samplingPacketInterval/Space (305 with 306: rate = (interval + space) / interval; 305 alone states nothing),
 *      samplingPopulation/Size (310/309), or its sampler id (48 / 302) naming a rate that options
 *      data announced for that sampler id on this (exporter, domain);
 *   3. a rate announced by options data with no sampler id for that (exporter, domain);
 *   4. the v5 header's 14-bit interval when non-zero;
 *   5. the policy's sampling_default (non-zero);
 *   6. v5 only: header interval 0 means unsampled: rate 1, known (nfdump and pmacct read it so);
 *   7. otherwise unknown: rate 1, FLOW_F_SAMPLING_UNKNOWN, counted in sampling_unknown (records).
 * An interval of 0 in any record or option field is "no statement", never a rate.
 *
 * Choices worth knowing:
 * - Templates are keyed by (exporter address, source id / observation domain, template id); the
 *   exporter's UDP port is not part of the key (routers change source port on restart).
 * - IPFIX template withdrawals over UDP are ignored by default (RFC 7011 8.4: withdrawals MUST
 *   NOT be sent over UDP and a collector MUST ignore them; this also stops a spoofed datagram from
 *   wiping the cache); they are counted in templates_withdrawal_ignored. cfg.ipfix_udp_withdrawal
 *   = true honours them.
 * - Exporter table full (max_exporters): a new exporter takes the slot of the least recently seen
 *   one if that one has been idle longer than template_lifetime_ms, else of the least recently
 *   seen (among the 64 oldest) that holds no template and never gave a record (spoofed sources,
 *   denied exporters); its templates, domains and pending sets are freed (exporters_evicted).
 *   Otherwise the datagram is refused (exporter_limit). So a flood of spoofed addresses cannot
 *   lock out real exporters, and established ones are never pushed out by it.
 * - Domain table of an exporter full: the least recently seen domain holding no template, among
 *   its 64 least recently seen, is reused (domains_evicted), else domain_limit. Domains are
 *   hashed per exporter: finding one costs the same at any max_domains_per_exporter.
 * - A v9 or IPFIX message is checked whole (message length, every set length, every template
 *   and withdrawal record) before anything in it is applied; a malformed one changes no state
 *   and decodes no record (RFC 7011 8), and is counted in messages_malformed and by its fault.
 *   Set ids that are not used (v9 2-255, IPFIX 0, 1, 4-255) are skipped and counted
 *   (bad_set_id) without making the message malformed; so are zero bytes after the last v9
 *   flowset. A variable-length record cut by its set end (record_short) is a fault of that set
 *   only: the records before it are decoded.
 * - Work per record is bounded by the record, never by a table: template insert, refresh,
 *   eviction and one-id withdrawal are O(1) (hashed; each domain lists its data and options
 *   templates in refresh order), a "withdraw all" record costs the templates it removes, a
 *   new template finds its pending data sets by a hash, an exporter eviction costs what the
 *   victim held (tests/integration/decode_cost.sh counts it with callgrind).
 * - RFC 3954 has no variable-length fields, but H3C NetStream v9 sends length 65535 with the
 *   IPFIX meaning: v9 templates accept it like IPFIX does (checked per record).
 * - Bytes left after the last whole record of a fixed-length data set are padding, zero or not
 *   (MikroTik sends non-zero ones); a variable-length record cut by the set end is record_short.
 * - Zero-length fields are rejected (template_invalid) except (type 0, length 0) fillers, which
 *   some exporters append, and zero-length v9 scope fields (Juniper SRX sends system scope with
 *   length 0): both carry nothing and are dropped from the compiled template.
 * - RFC 5103 biflows: reverse octets/packets (PEN 29305, IEs 1/85 and 2/86) and reverse TCP
 *   flags (29305/6) make a second record with the ends and ports swapped (ICMP: no ports),
 *   the same times and sampling, counted in biflow_reverse_records; none when the reverse
 *   side is empty. YAF's own elements (PEN 6871): initial/union TCP flags (14/15, reverse
 *   16398/16399) when IE 6 is absent, and reverseFlowDeltaMilliseconds (21) as the reverse
 *   record's start. Other enterprise-specific IEs and variable-length IEs are skipped.
 * - Times: v9 FIRST/LAST_SWITCHED are relative to the header's sysuptime; IPFIX 22/21 are
 *   relative to systemInitTimeMilliseconds (160) from the record or from options data of that
 *   domain; without it, the record's end is taken as the export time. A record without any time
 *   gets the export time. last_ms is raised to first_ms if it is earlier.
 * - Bytes: IN_BYTES (1), else OUT_BYTES (23), else octetTotalCount (85), else initiatorOctets
 *   (231); packets likewise with 2, 24, 86, 298.
 * - ICMP: dport = type << 8 | code from 32/139 (or 176-179) when the protocol is ICMP/ICMPv6.
 * - Sequence gaps: a forward jump of less than 2^30 counts as lost (v5: flows, v9: packets,
 *   IPFIX: data records); backward jumps (reorder, restart) are not counted.
 * - A data set whose template is unknown is counted (no_template) and, if cfg.pending_max > 0,
 *   copied into a bounded FIFO; it is decoded when its template arrives (records go to the emit
 *   of the decode_datagram call that brought the template), dropped when it expires
 *   (pending_expired) or when the FIFO is full (pending_dropped, oldest first).
 */
#ifndef TW_DECODE_H
#define TW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct decode_ctx;

struct exporter_policy {
    bool allowed;
    uint32_t sampling_override; /* 0 = none: force this rate */
    uint32_t sampling_default;  /* 0 = none: used when no rate known */
};

struct decode_cfg {
    size_t max_exporters;            /* exporter table bound (e.g. 1024) */
    size_t max_templates;            /* all templates, all exporters (e.g. 65536) */
    size_t max_templates_per_source; /* per (exporter, domain) (e.g. 1024) */
    size_t max_domains_per_exporter; /* observation domains/source ids per exporter (e.g. 64) */
    uint64_t template_lifetime_ms;   /* a template not refreshed in this long is dropped (1800 s) */
    size_t pending_max;        /* data sets buffered while their template is unknown (0 = none) */
    size_t pending_bytes_max;  /* bytes bound of that buffer */
    uint64_t pending_ms;       /* how long a buffered set waits */
    bool ipfix_udp_withdrawal; /* honour IPFIX template withdrawal over UDP (default false) */
    size_t max_interfaces;  /* sFlow agents' interfaces kept for /metrics (e.g. 4096); 0 = none */
    uint64_t clock_skew_ms; /* a record ending further than this from its export header's
                                        time gets FLOW_F_CLOCK_SKEW and is counted (clock_skew);
                                        0 = no check (replay: the records' own times rule). The
                                        daemon uses DECODE_CLOCK_SKEW_MS. */
    /* called once when an exporter is first seen; NULL = allowed, no sampling settings.
       addr is borrowed; out is pre-set to allowed with no sampling settings. */
    void (*policy)(void *arg, const uint8_t addr[16], struct exporter_policy *out);
    void *policy_arg;
};

/* The daemon's clock check: 24 h, as far as nfcapd lets a record stray from its file's slot. */
#define DECODE_CLOCK_SKEW_MS (24ULL * 3600 * 1000)

/* Largest number of fields a template may have (more: template_invalid). */
#define DECODE_MAX_FIELDS 512
/* Sampler ids remembered per (exporter, domain); more replace the oldest. */
#define DECODE_MAX_SAMPLERS 16

void decode_cfg_defaults(struct decode_cfg *cfg);
/* 0, -EINVAL (a zero or too large bound) or -ENOMEM. *out is freed with decode_ctx_free. */
__attribute__((warn_unused_result)) int decode_ctx_new(const struct decode_cfg *cfg,
                                                       struct decode_ctx **out);
void decode_ctx_free(struct decode_ctx *ctx);
/* Decode one UDP payload from exporter src (16-byte IPv4-mapped/IPv6 address, port). now_ms is the
   time for template lifetimes and pending expiry: capture time on replay, wall clock live.
   Each record is handed to emit (rec borrowed). Never fails: errors are counted by kind. */
void decode_datagram(struct decode_ctx *ctx, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *buf, size_t len, flow_emit_fn emit, void *arg);
/* Expire templates / pending sets older than now_ms allows (called periodically). */
void decode_expire(struct decode_ctx *ctx, uint64_t now_ms);

enum decode_counter {
    DC_DATAGRAMS,
    DC_RECORDS, /* flow records emitted (all versions) */
    DC_V5_DATAGRAMS,
    DC_V9_DATAGRAMS,
    DC_IPFIX_DATAGRAMS,
    DC_V5_RECORDS,
    DC_V9_RECORDS,
    DC_IPFIX_RECORDS,
    DC_OPTION_RECORDS, /* options data records read (not emitted) */
    DC_TEMPLATES_ADDED,
    DC_TEMPLATES_REFRESHED, /* same layout received again */
    DC_TEMPLATES_REPLACED,  /* same key, new layout */
    DC_TEMPLATES_WITHDRAWN,
    DC_TEMPLATES_WITHDRAWAL_IGNORED, /* IPFIX withdrawal over UDP, not honoured */
    DC_TEMPLATES_EXPIRED,
    DC_TEMPLATES_EVICTED, /* a full (exporter, domain) gave up its least recently refreshed one */
    DC_BIFLOW_REVERSE,    /* reverse halves of RFC 5103 biflows, emitted as records of their own */
    DC_PENDING_BUFFERED,
    DC_PENDING_DECODED,
    DC_PENDING_EXPIRED,
    DC_SAMPLING_UNKNOWN,  /* records emitted with FLOW_F_SAMPLING_UNKNOWN */
    DC_SEQ_LOST,          /* sum of sequence gaps */
    DC_V9_SET_UNALIGNED,  /* v9 flowset length not a multiple of 4 (RFC 3954 5.3 SHOULD; Cisco
                            NBAR and PAN-OS do it): decoded anyway, not an error */
    DC_EXPORTERS_EVICTED, /* exporter table full: an idle or never-decoded exporter made room */
    DC_DOMAINS_EVICTED, /* domain table of an exporter full: a domain without templates made room */
    DC_CLOCK_SKEW,      /* records far from their export header's time (cfg.clock_skew_ms):
                             flagged FLOW_F_CLOCK_SKEW, times kept */
    DC_MESSAGES_MALFORMED, /* v5/v9/IPFIX messages dropped whole: a header, the message length,
                              a set length or a template's field list was wrong (the cause is
                              counted among the errors below); nothing in them was applied */
    DC_SFLOW_DATAGRAMS,
    DC_SFLOW_RECORDS,           /* flow records made from sFlow flow samples */
    DC_SFLOW_FLOW_SAMPLES,      /* flow and expanded flow samples read */
    DC_SFLOW_COUNTER_SAMPLES,   /* counter and expanded counter samples read */
    DC_SFLOW_DISCARD_SAMPLES,   /* discarded-packet samples (sFlow drops extension) */
    DC_SFLOW_DISCARDED_PACKETS, /* packets those samples say the device discarded */
    DC_SFLOW_OTHER_SAMPLES,     /* samples of other formats or enterprises (skipped) */
    DC_SFLOW_AGENT_DROPS,       /* samples the agents say they dropped (increases of "drops") */
    DC_SFLOW_NO_FLOW,           /* flow samples without a raw header or sampled IP record that
                             could be read (no record made) */
    DC_SFLOW_HEADER_UNPARSED,   /* raw header records that are not IP or could not be parsed */
    DC_SFLOW_INNER_HEADERS,     /* raw headers whose VXLAN inner packet made the record */
    DC_SFLOW_IFACE_UPDATES,     /* generic interface counter records read */
    DC_SFLOW_EXT_GATEWAY,       /* extended gateway records read: AS numbers to the record */
    DC_SFLOW_EXT_SWITCH,        /* extended switch records (VLANs, priorities): length-checked,
                                   skipped: no record field or consumer reads VLANs */
    DC_SFLOW_EXT_ROUTER,        /* extended router records (next hop, masks): length-checked,
                                   skipped: nothing reads next hops or prefix lengths */
    DC_SFLOW_RECORDS_SKIPPED,   /* other flow-sample records (sampled Ethernet, other formats and
                                   enterprises): skipped unread */
    DC_PACKET_SECTIONS,         /* IPFIX records whose addresses came from a packet section
                                 (IE 313 ipHeaderPacketSection, 315 dataLinkFrameSection) */
    /* errors from here on */
    DC_SHORT_HEADER,
    DC_BAD_VERSION,
    DC_BAD_LENGTH,
    DC_BAD_COUNT, /* v9 header count is neither the records nor the flowsets read (real
                     exporters use either); decoding goes on, the count never frames anything */
    DC_BAD_SET_LENGTH,
    DC_BAD_SET_ID,
    DC_TEMPLATE_INVALID,
    DC_TEMPLATE_LIMIT,
    DC_DOMAIN_LIMIT,
    DC_EXPORTER_LIMIT,
    DC_EXPORTER_DENIED,
    DC_NO_TEMPLATE, /* data sets with no (live) template */
    DC_PENDING_DROPPED,
    DC_RECORD_SHORT,
    DC_NO_MEMORY,
    DC_SFLOW_BAD_SAMPLE, /* sFlow sample past the datagram or with more records than it can hold:
                            the rest of the datagram is dropped */
    DC_SFLOW_BAD_RECORD, /* sFlow record past its sample or shorter than its format: the rest
                            of the sample is dropped */
    DC_IFACE_LIMIT,      /* interface table full (max_interfaces): counter record dropped */
    DC_COUNT
};
#define DC_FIRST_ERROR DC_SHORT_HEADER

/* snake_case, stable: used as metric and JSON names. */
const char *decode_counter_name(enum decode_counter c);
uint64_t decode_counter(const struct decode_ctx *ctx, enum decode_counter c);
bool decode_counter_is_error(enum decode_counter c);

/* per-exporter view for metrics: iterate */
struct decode_exporter_stats {
    uint8_t addr[16];
    uint64_t datagrams, records, errors, seq_lost;
    uint64_t clock_skew;  /* records flagged FLOW_F_CLOCK_SKEW */
    uint64_t sflow_drops; /* sFlow: samples the agent says it dropped */
    size_t templates;
    uint32_t sampling; /* last rate applied to a record of this exporter (0 = none yet) */
};
/* The address of the exporter whose records carry exporter = idx1 (index + 1): true and out
 * set, false when there is none. A slot reused after an eviction names its new exporter
 * (only idle or never-decoded exporters are evicted: decode_cfg). */
bool decode_exporter_addr(const struct decode_ctx *ctx, uint32_t idx1, uint8_t out[16]);
/* Fills out[0..n) in exporter index order; returns n (<= max). */
size_t decode_exporters(const struct decode_ctx *ctx, struct decode_exporter_stats *out,
                        size_t max);
/* An sFlow agent's interface, from its last generic interface counter record. */
struct decode_iface_stats {
    uint8_t agent[16];
    uint32_t ifindex;
    uint32_t status; /* ifAdminStatus bit 0, ifOperStatus bit 1 */
    uint64_t speed;  /* bits per second */
    uint64_t in_octets, in_pkts, in_discards, in_errors;
    uint64_t out_octets, out_pkts, out_discards, out_errors;
    uint64_t in_bps, out_bps; /* rate between its last two counter samples (0: one so far) */
    uint64_t updated_ms;      /* now_ms of the last sample */
};
/* Fills out[0..n) with the interfaces from index first on, in first-seen order; returns n.
 * max 0: returns how many interfaces there are (out unused). */
size_t decode_interfaces(const struct decode_ctx *ctx, size_t first, struct decode_iface_stats *out,
                         size_t max);
size_t decode_template_count(const struct decode_ctx *ctx);
/* Templates compiled so far (a refresh that repeats a template's field list is not): tests. */
uint64_t decode_template_compiles(const struct decode_ctx *ctx);
/* decode_expire's sweeps of the whole template table (a tick at which no template can have
 * expired makes none): tests. */
uint64_t decode_template_sweeps(const struct decode_ctx *ctx);
size_t decode_memory(const struct decode_ctx *ctx); /* bytes held, for bound tests */
/* Upper bound of decode_memory() for a ctx made with cfg. */
size_t decode_memory_bound(const struct decode_cfg *cfg);

#endif
