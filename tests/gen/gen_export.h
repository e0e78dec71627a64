/* gen_export.h: builds NetFlow v5, NetFlow v9 and IPFIX datagrams from flow descriptions into
 * caller memory (no allocation, no clock), for tests, fuzz seeds, benchmarks and sample data.
 *
 * v5: one call, gen_nf5().
 * v9 / IPFIX: a message builder. Describe templates with struct gen_tmpl (gen_tmpl_flow() makes
 * the usual flow templates, gen_tmpl_sampling() options templates announcing a sampling rate,
 * gen_tmpl_add() appends any field), then:
 *
 *   struct gen_msg m;
 *   gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, domain, seq, export_ms, uptime_ms);
 *   gen_add_template(&m, &tmpl);             // opens a template set (v9: 0, IPFIX: 2) if needed
 *   gen_add_options_template(&m, &opt_tmpl); // options template set (v9: 1, IPFIX: 3)
 *   gen_add_data(&m, &tmpl, flows, n);       // one data set (set id = tmpl.id)
 *   gen_add_padding(&m, 3);                  // pad bytes inside the set just written
 *   int len = gen_msg_end(&m);               // header length/count filled; < 0 if buf too small
 *
 * Consecutive gen_add_template calls share one set; any other call closes it. Field values come
 * from struct gen_flow by element id (see gen_value in gen_export.c): addresses, ports, counters,
 * times (v9 22/21 are relative to the message's boot time export_ms - uptime_ms; IPFIX 22/21 to
 * gen_flow.sysinit_ms), sampling fields; an unknown IANA element is written as zeros, an
 * enterprise element as 0xEE bytes, a variable-length one as gen_flow.varlen_len bytes of 'v'
 * (3-byte length form when >= 255). v9 scope fields are written as zeros.
 */
#ifndef TW_GEN_EXPORT_H
#define TW_GEN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GEN_V9 9
#define GEN_IPFIX 10
#define GEN_MAX_FIELDS 64
#define GEN_VARLEN 65535

/* One flow (or one options record: then only the sampling fields matter). */
struct gen_flow {
    uint8_t src[16], dst[16]; /* network order; IPv4 as ::ffff:a.b.c.d (use gen_v4/gen_v6) */
    uint16_t sport, dport;
    uint8_t proto, tcp_flags;
    uint64_t bytes, packets;
    uint64_t start_ms, end_ms; /* Unix ms */
    uint32_t src_as, dst_as;
    uint16_t icmp;          /* type << 8 | code, for 32/139 */
    uint32_t in_if, out_if; /* 10 ingressInterface / 14 egressInterface; v5 input (16 bits) */
    /* sampling / options fields */
    uint32_t sampler_id;              /* 48 samplerId / 302 selectorId */
    uint32_t sampling_interval;       /* 34 samplingInterval / 50 samplerRandomInterval */
    uint8_t sampling_algo;            /* 35 samplingAlgorithm / 49 samplerMode */
    uint32_t pkt_interval, pkt_space; /* 305 / 306 */
    uint32_t sampling_size, sampling_population; /* 309 / 310 */
    uint64_t sysinit_ms;                         /* 160 systemInitTimeMilliseconds */
    uint16_t varlen_len;                         /* bytes written for variable-length fields */
    uint8_t biflow_dir; /* 239 biflowDirection (RFC 5103: 1 initiator, 2 reverse) */
    bool responder;     /* the answering side of a connection (gen_flowpkts: its first
                                  packet is a SYN-ACK); the export writers ignore it */
    bool active_end;    /* a long flow's part the exporter's active timeout ended: released
                                  at its end (gen_exportw's inactive timeout does not apply) */
};

struct gen_field {
    uint16_t ie;  /* element id without enterprise bit */
    uint16_t len; /* GEN_VARLEN = variable length */
    uint32_t pen; /* != 0: enterprise-specific (IPFIX only; ignored for v9) */
};

struct gen_tmpl {
    uint16_t id;
    uint16_t nfields;
    uint16_t nscope; /* options templates: the first nscope fields are scope fields */
    struct gen_field f[GEN_MAX_FIELDS];
};

/* Options for gen_tmpl_flow. */
enum gen_tmpl_opt {
    GEN_T_V6 = 1u << 0,           /* 27/28 instead of 8/12 */
    GEN_T_AS = 1u << 1,           /* 16/17 (4 bytes) */
    GEN_T_UPTIME = 1u << 2,       /* 22/21 (default for v9) */
    GEN_T_MS = 1u << 3,           /* 152/153 (default for IPFIX) */
    GEN_T_SEC = 1u << 4,          /* 150/151 */
    GEN_T_US = 1u << 5,           /* 154/155 (NTP format) */
    GEN_T_NS = 1u << 6,           /* 156/157 (NTP format) */
    GEN_T_DELTA = 1u << 7,        /* 158/159 flowStart/EndDeltaMicroseconds */
    GEN_T_SYSINIT = 1u << 8,      /* add 160 to the data record */
    GEN_T_SAMPLER48 = 1u << 9,    /* samplerId 48 (1 byte) in the record */
    GEN_T_SELECTOR302 = 1u << 10, /* selectorId 302 (4 bytes) */
    GEN_T_INLINE34 = 1u << 11,    /* samplingInterval 34 (4 bytes) in the record */
    GEN_T_ENTERPRISE =
        1u << 12,             /* an enterprise IE the decoder does not know (PEN 32473, 8 bytes) */
    GEN_T_VARLEN = 1u << 13,  /* a variable-length IE (82 interfaceName) */
    GEN_T_REDUCED = 1u << 14, /* counters as 4 bytes (reduced-size), else 8 */
    GEN_T_ICMP = 1u << 15,    /* 32 (v4) / 139 (v6) icmpTypeCode */
    GEN_T_OUT_COUNTERS = 1u << 16, /* 23/24 OUT_BYTES/OUT_PKTS instead of 1/2 */
};

/* Options for gen_tmpl_sampling: which fields announce the rate. */
enum gen_samp_opt {
    GEN_S_INTERVAL = 1u << 0,    /* 34 + 35 */
    GEN_S_RANDOM = 1u << 1,      /* 49 samplerMode + 50 samplerRandomInterval */
    GEN_S_PKT = 1u << 2,         /* 305 + 306 */
    GEN_S_POP = 1u << 3,         /* 309 + 310 */
    GEN_S_SAMPLER48 = 1u << 4,   /* scope/field samplerId 48 */
    GEN_S_SELECTOR302 = 1u << 5, /* selectorId 302 */
    GEN_S_SYSINIT = 1u << 6,     /* 160 systemInitTimeMilliseconds */
};

struct gen_msg {
    uint8_t *buf;
    size_t cap, len;
    int version;
    bool err;
    size_t set_off; /* offset of the open set header, 0 = none */
    int set_kind;   /* 0 none, 1 template set, 2 other */
    unsigned count; /* v9 header count: records of all kinds */
    uint64_t export_ms, boot_ms;
};

void gen_v4(uint8_t out[16], uint32_t host_order);
/* An IPv4 flow (addresses in host order); every other field zero. */
void gen_flow_v4(struct gen_flow *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint8_t proto, uint8_t tcp_flags, uint64_t packets, uint64_t bytes,
                 uint64_t start_ms, uint64_t end_ms);
/* s: 8 16-bit groups, host order */
void gen_v6(uint8_t out[16], const uint16_t s[8]);

struct gen_nf5_hdr {
    uint32_t uptime_ms;
    uint64_t unix_ms;
    uint32_t seq;
    uint8_t engine_type, engine_id;
    uint16_t sampling; /* raw 16-bit field: mode << 14 | interval */
};
/* A v5 datagram of n flows (n <= 30 for real routers; not enforced). Returns length or -1. */
int gen_nf5(uint8_t *buf, size_t cap, const struct gen_nf5_hdr *h, const struct gen_flow *f,
            size_t n);

void gen_tmpl_init(struct gen_tmpl *t, uint16_t id);
void gen_tmpl_add(struct gen_tmpl *t, uint16_t ie, uint16_t len, uint32_t pen);
/* Flow template for version (GEN_V9/GEN_IPFIX) with enum gen_tmpl_opt bits. */
void gen_tmpl_flow(struct gen_tmpl *t, uint16_t id, int version, unsigned opts);
/* Options template: scope (v9: system 1 / 4 bytes; IPFIX: 48/302 when asked, else
   observationDomainId 149) + enum gen_samp_opt fields. */
void gen_tmpl_sampling(struct gen_tmpl *t, uint16_t id, int version, unsigned opts);

void gen_msg_begin(struct gen_msg *m, uint8_t *buf, size_t cap, int version, uint32_t domain,
                   uint32_t seq, uint64_t export_ms, uint32_t uptime_ms);
void gen_add_template(struct gen_msg *m, const struct gen_tmpl *t);
void gen_add_options_template(struct gen_msg *m, const struct gen_tmpl *t);
void gen_add_data(struct gen_msg *m, const struct gen_tmpl *t, const struct gen_flow *f, size_t n);
/* IPFIX withdrawal of tid (tid == 2 or 3: all templates / all options templates). */
void gen_add_withdrawal(struct gen_msg *m, uint16_t tid, bool options);
/* A set with any id and body (for malformed input). */
void gen_add_raw_set(struct gen_msg *m, uint16_t set_id, const uint8_t *body, size_t len);
/* n zero bytes at the end of the set just written (its length grows). */
void gen_add_padding(struct gen_msg *m, size_t n);
/* Returns the message length, or -1 if it did not fit. */
int gen_msg_end(struct gen_msg *m);

/* Deterministic test flows: flow i of a run seeded with seed (v4 10.x -> 192.0.2.x, or v6). */
void gen_flow_fill(struct gen_flow *f, uint32_t seed, uint32_t i, bool v6, uint64_t base_ms);

#endif
