/* decode_int.h: internals of collector/decode/, shared by its files only. Everything here runs
 * on the ctx's own thread (the one that calls decode_datagram).
 *
 * The files are layers; each calls only the layers below it (never up, never sideways within
 * a layer), so a datagram enters each file at most through its own layer's functions:
 *
 *   4  decode.c           the public API: ctx, decode_datagram (version dispatch), expiry,
 *                         counter and exporter getters
 *   3  nf5.c nf9.c ipfix.c  the version decoders: headers, sets, template records
 *      sflow.c            sFlow v5 datagrams (samples, records; raw headers through pkt.h)
 *   2  decode_exporter.c  the exporter table and each exporter's domain table
 *      decode_iface.c     the interface table (sFlow counter samples), bounded, first come
 *      decode_pending.c   data sets waiting for their template; a template's arrival
 *                         (dec_template: tmpl_add, then the sets that waited for it)
 *   1  decode_tmpl.c      the template cache, the template compiler and the record
 *                         interpreter (decoded records leave through dec_emit)
 *   0  decode_core.c      counters, tracked allocation, sequence numbers, samplers, sampling
 *                         resolution and dec_emit (a finished record to the caller's emit)
 *
 * tests/integration/decode_layers.sh checks the order on the object files. */
#ifndef TW_DECODE_INT_H
#define TW_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "be.h"
#include "dlist.h"
#include "hash.h"
#include "table.h"

/* The "version" of sFlow v5 messages and of their (agent, sub-agent) domains, apart from the
 * NetFlow versions 5, 9 and 10. */
#define DEC_VERSION_SFLOW 0x55

static inline bool dec_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- what a template field feeds (compiled program op kinds) ---- */
enum dec_kind {
    K_SKIP = 0,
    K_SRC4,
    K_DST4,
    K_SRC6,
    K_DST6, /* addresses: written straight into the record */
    K_SPORT,
    K_DPORT,
    K_PROTO,
    K_TCPFLAGS,
    K_IN_BYTES,
    K_IN_PKTS,
    K_OUT_BYTES,
    K_OUT_PKTS,
    K_TOT_BYTES,
    K_TOT_PKTS,
    K_INIT_BYTES,
    K_INIT_PKTS,
    K_FIRST_UP,
    K_LAST_UP,
    K_START_S,
    K_END_S,
    K_START_MS,
    K_END_MS,
    K_START_US,
    K_END_US,
    K_START_NS,
    K_END_NS,
    K_START_DUS,
    K_END_DUS,
    K_SYSINIT,
    K_SRC_AS,
    K_DST_AS,
    K_ICMP4,
    K_ICMP6,
    K_ICMP_T4,
    K_ICMP_C4,
    K_ICMP_T6,
    K_ICMP_C6,
    K_SAMP_INT,
    K_SAMP_ALGO,
    K_SAMPLER_ID,
    K_SAMPLER_MODE,
    K_SAMPLER_RINT,
    K_SELECTOR_ID,
    K_PKT_INT,
    K_PKT_SPACE,
    K_SAMP_SIZE,
    K_SAMP_POP,
    /* RFC 5103 biflows: the reverse direction's counters (PEN 29305) */
    K_REV_BYTES,
    K_REV_PKTS,
    K_REV_TOT_BYTES,
    K_REV_TOT_PKTS,
    K_REV_TCPFLAGS,
    /* YAF (CERT, PEN 6871): TCP flags of the first packet and of the rest, both directions,
     * and the reverse direction's start after the forward one */
    K_Y_INIT_FLAGS,
    K_Y_UNION_FLAGS,
    K_Y_REV_INIT_FLAGS,
    K_Y_REV_UNION_FLAGS,
    K_Y_REV_DELTA_MS,
    K_BIFLOW_DIR, /* IPFIX biflowDirection (IE 239) */
    K_IN_IF,
    K_OUT_IF, /* ingressInterface (IE 10), egressInterface (IE 14): SNMP ifIndex */
    /* packet sections (PSAMP, RFC 5477): the sampled packet itself, parsed with pkt.h when the
       record names no addresses: dataLinkFrameSection (IE 315), ipHeaderPacketSection (313) */
    K_DL_SECTION,
    K_IP_SECTION,
    K_COUNT
};
#define K_BIT(k) (1ull << (k))
#define OP_VARLEN 0xFFFFu

/* What op_apply does with a field: chosen once per template from its kind and length
 * (tmpl_compile), so a record's field costs one dispatch, not one on the kind and another on the
 * width (bench/RESULTS.md, issue 15, eighteenth part). */
enum op_act {
    OA_SKIP = 0,
    OA_SECTION, /* K_DL_SECTION, K_IP_SECTION */
    OA_SRC4,
    OA_DST4,
    OA_SRC6,
    OA_DST6,
    /* the field, big-endian, of any number of bytes, as a number of the destination's width
       (1, 2, 4, 8 bytes: narrowed when the field is wider): fields of a width other than those
       of the plain loads below, and plain loads wider than their destination */
    OA_UINT1,
    OA_UINT2,
    OA_UINT4,
    OA_UINT8,
    OA_U8, /* the plain loads (of 1, 2, 4, 8 bytes, never wider than the destination, each
              storing that many bytes): last, so a fixed-length template's ops end with one run
              of each width (struct tmpl_prog seg) */
    OA_U16,
    OA_U32,
    OA_U64,
};
#define OA_COUNT (OA_U64 + 1)
#define OA_NLOAD 4 /* OA_U8 .. OA_U64 */

/* Where a record's start and end times come from, chosen once per template from the kinds it
 * has (tmpl_compile: milliseconds, else seconds, else NTP microseconds, else NTP nanoseconds,
 * else delta microseconds before the export time). */
enum tmpl_time { TT_NONE = 0, TT_MS, TT_S, TT_NTP, TT_DUS };

/* What finish_record reads, resolved once per template from its kinds (tmpl_compile), and
 * where a fixed-length template's addresses are. */
struct tmpl_plan {
    uint8_t src_act, dst_act; /* fixed-length: OA_SRC4/OA_SRC6, OA_DST4/OA_DST6, or OA_SKIP (none,
                                 or a varlen template: its ops have them) */
    uint16_t src_off, dst_off;
    uint8_t bytes, packets;       /* the kind that gives the octets / packets; K_SKIP: none */
    uint8_t up_first, up_last;    /* sysUpTime kinds of start and end (either stands for the
                                     other); K_SKIP: neither */
    uint8_t first_tt, first_kind; /* enum tmpl_time and its kind, of the start */
    uint8_t last_tt, last_kind;   /* and of the end */
    bool up_only; /* sysUpTime start/end and no other time kind (record_times' v9 shortcut) */
    bool plain;   /* fixed-length flow template with none of the kinds finish_record looks at
                   beyond the record's fields and times (no section, ICMP, YAF flags,
                   initiator, rate, sampler, reverse counters): tmpl_decode_set's plain loop */
};

struct tmpl_op {
    uint16_t len; /* bytes, or OP_VARLEN */
    uint16_t off; /* offset in the record (fixed-length templates only) */
    uint16_t dst; /* where the value goes, an offset in decode_tmpl.c's struct dec_rec (the flow
                     record, then the values v[]): the kinds the record has a field for (and the
                     plan's counters) straight into it, every other kind into its v[] slot
                     (decode_tmpl.c's rec_fields, op_place). The loads of
                     1, 2, 4 or 8 bytes (OA_U8 .. OA_U64, never wider than
                     the destination) store that many bytes there, the low-order ones of the
                     destination (on a big-endian host dst is moved to them); OA_UINT1 ..
                     OA_UINT8 store the destination's whole width, which their act names */
    uint8_t kind; /* enum dec_kind */
    uint8_t act;  /* enum op_act: a function of kind, len and dst (and so of its width) */
};

/* One field as parsed from the wire, input to tmpl_add. */
struct tmpl_field {
    uint16_t ie;  /* element id (enterprise bit removed) */
    uint16_t len; /* 65535 = variable length */
    uint32_t pen; /* enterprise number; 0 = IANA */
    bool enterprise;
    bool v9_scope; /* v9 scope field: types are a different namespace, skipped */
};

/* A template's field list validated and compiled (tmpl_compile), before it is stored. */
struct tmpl_prog {
    uint64_t layout_hash;
    uint64_t has;
    uint32_t min_len;
    bool varlen;
    uint16_t nops;
    /* fixed-length templates: the ops that feed something but the addresses (plan), one per
       destination (the last field of a kind wins, as it would in field order), ordered by
       act: ops [0, seg[0]) need a look at their act (sections, odd widths), then the plain
       loads of 1 byte up to seg[1], of 2 up to seg[2], of 4 up to seg[3], of 8 up to
       seg[4] = nops. Varlen templates: their ops are every field in order, seg all 0. */
    uint16_t seg[OA_NLOAD + 1];
    struct tmpl_plan plan;
    struct tmpl_op ops[DECODE_MAX_FIELDS];
};

/* A compiled template. Allocated once on arrival with exactly nops ops. */
_Static_assert(K_COUNT <= 64, "template kinds must fit the 64-bit has mask");

struct tmpl {
    struct tmpl *next;    /* hash chain */
    struct dlink lru;     /* in its domain's refresh list of its kind (lru[options]) */
    uint64_t refresh_seq; /* ctx-wide order of arrivals/refreshes (eviction compares the lists) */
    uint32_t exp_idx;     /* exporter index */
    uint32_t dom_slot;    /* its domain's index in the exporter's doms: a domain holding
                            templates is never reused, so this stays valid while it lives */
    uint32_t dom_id;      /* v9 source id / IPFIX observation domain */
    uint16_t id;          /* template id */
    uint8_t version;      /* 9 or 10 */
    bool options;         /* options template: records update sampling state, not emitted */
    bool varlen;          /* has variable-length fields */
    uint16_t min_len;     /* record length (fixed) or its lower bound (varlen: 1 byte each) */
    uint64_t refreshed_ms;
    uint64_t layout_hash;
    uint64_t has;     /* K_BIT of every kind it fills */
    uint16_t nops;    /* fixed-length templates keep only the ops that feed something, with
                         offsets; varlen ones walk every field in order */
    uint16_t nfields; /* its field list as it arrived, after ops[] (tmpl_fields): a refresh
                         that repeats it is recognised without a compile */
    const struct tmpl_op *seg_end[OA_NLOAD + 1]; /* ops + struct tmpl_prog's seg: where each
                                                    run of decode_fixed ends */
    struct tmpl_plan plan;
    struct tmpl_op ops[]; /* then its nfields struct tmpl_field */
};

struct dec_sampler {
    uint32_t id;
    uint32_t rate;
};

struct dec_domain {
    uint32_t id;
    uint8_t version;
    bool seq_valid;
    uint32_t seq_next;
    size_t templates;
    struct dlist lru[2];   /* its data [0] and options [1] templates by last refresh, oldest
                             first: eviction takes the older head, a withdrawal of all of one
                             kind walks only that list */
    uint64_t last_seen_ms; /* now_ms of the last message of this domain */
    uint32_t newer, older; /* recency list of the exporter's domains, by index (the array
                              moves when it grows); DOM_NONE ends it */
    uint32_t rate;         /* rate announced by options data without sampler id; 0 none */
    bool has_sysinit;
    uint64_t sysinit_ms; /* IPFIX systemInitTimeMilliseconds from options data */
    uint8_t nsamplers, sampler_next;
    struct dec_sampler samplers[DECODE_MAX_SAMPLERS];
    /* sFlow: the last cumulative drops count of each data source (id, count in .rate) */
    uint8_t nsources, source_next;
    struct dec_sampler sources[DECODE_MAX_SAMPLERS];
};

#define DOM_NONE UINT32_MAX

struct dec_exporter {
    uint8_t addr[16];
    uint32_t idx;
    uint64_t gen; /* incarnation: pending sets of an evicted exporter never match the
                             next one in its slot (they age out instead of being searched for) */
    struct exporter_policy pol;
    uint64_t datagrams, records, errors, seq_lost, clock_skew;
    uint64_t sflow_drops; /* sFlow: samples the agent says it dropped (increases seen) */
    size_t templates;
    uint32_t last_rate;
    uint64_t last_seen_ms; /* now_ms of its last datagram */
    struct dlink lru;      /* in the recency list, first = most recent */
    bool v5_seq_valid;
    uint32_t v5_seq_next;
    size_t ndoms, capdoms, last_dom;
    struct dec_domain *doms;
    uint32_t *dom_slots; /* open addressing over (version, id): domain index + 1, 0 = empty;
                             2 * capdoms slots or more, so a lookup is O(1) at any max_domains */
    size_t dom_mask;
    uint32_t dom_newest, dom_oldest;
};

struct dec_pending {
    struct dlink fifo;  /* ctx->pending: arrival order (expiry, drops when full) */
    struct dlink chain; /* ctx->pbuckets[key]: found by its template's key */
    uint64_t exp_gen;
    uint32_t exp_idx, dom_id;
    uint16_t tid;
    uint8_t version;
    uint64_t at_ms;     /* arrival (now_ms) */
    uint64_t export_ms; /* header time of the message it came in */
    uint32_t uptime;    /* v9 sysuptime */
    size_t len;
    uint8_t data[];
};

struct decode_ctx {
    struct decode_cfg cfg;
    uint64_t c[DC_COUNT];
    size_t mem;    /* bytes held by tracked allocations */
    uint64_t seed; /* hash seed (keyed: template/domain ids are attacker-chosen) */
    /* exporters */
    struct dec_exporter **exps;
    size_t nexps;
    uint32_t *exp_slots; /* open addressing: exporter index + 1, 0 = empty */
    size_t exp_mask;
    struct dec_exporter *last_exp;
    struct dlist lru; /* exporters by recency, first = most recent */
    uint64_t exp_gen; /* last exporter incarnation handed out */
    /* templates */
    struct tmpl **buckets;
    size_t tmask;
    size_t ntemplates;
    uint64_t refresh_seq;
    uint64_t compiles;       /* tmpl_add's compiles (decode_template_compiles) */
    uint64_t tmpl_oldest_ms; /* no template held was refreshed before this (a lower bound, exact
                                after a sweep; UINT64_MAX: none held): tmpl_expire sweeps only
                                once a template refreshed then would have expired */
    uint64_t sweeps;         /* tmpl_expire's sweeps of every bucket (decode_template_sweeps) */
    /* pending data sets: a FIFO, and hashed by (exporter, domain, template) so a new template
       finds its own sets without walking the others */
    struct dlist pending;
    struct dlist *pbuckets;
    size_t pmask;
    size_t npending, pending_bytes;
    /* interfaces of sFlow counter samples (decode_iface.c): struct dec_iface entries */
    struct ktab ifaces;
};

/* Per-message state handed to the decoders. Each message is walked twice: first to check it
 * as a whole (apply false: m->dom is NULL, nothing changes; any malformation found is counted
 * and the message is dropped), then to apply it (templates, withdrawals, data). */
struct dec_msg {
    struct decode_ctx *ctx;
    struct dec_exporter *exp;
    struct dec_domain *dom;
    uint8_t version;
    uint8_t rec_ctr; /* enum decode_counter: the version's records (dec_records_counter) */
    uint64_t now_ms;
    uint64_t export_ms; /* v5/v9: unix time of the header; IPFIX: export time */
    uint32_t uptime;    /* v9 sysuptime (ms) */
    flow_emit_fn emit;
    void *arg;
    size_t records;  /* data records decoded in this message (IPFIX sequence) */
    bool seq_broken; /* a data set could not be decoded: record count unknown */
};

/* Smallest power of two >= n, at least 16 (table sizes). */
static inline size_t dec_pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n && p < ((size_t)1 << 40))
        p <<= 1;
    return p;
}

/* Table sizes, shared by the tables' init and decode_memory_bound. */
static inline size_t dec_exp_slot_count(const struct decode_cfg *cfg)
{
    return dec_pow2_at_least(cfg->max_exporters * 2);
}
static inline size_t dec_pending_bucket_count(const struct decode_cfg *cfg)
{
    return cfg->pending_max ? dec_pow2_at_least(cfg->pending_max) : 0;
}

/* One generic interface counter record (sFlow counters sample 0:1), as read. */
struct dec_iface_sample {
    uint32_t ifindex, status;
    uint64_t speed;
    uint64_t in_octets, in_pkts, in_discards, in_errors;
    uint64_t out_octets, out_pkts, out_discards, out_errors;
};
/* An entry of ctx->ifaces: the key (agent address, ifIndex) first. */
struct dec_iface {
    uint8_t agent[16];
    uint32_t ifindex, pad;
    struct dec_iface_sample last;
    uint64_t at_ms, samples;
    uint64_t in_bps, out_bps; /* between the last two samples (0 until there are two) */
};
/* Bytes of the interface table (init and decode_memory_bound). */
static inline size_t dec_iface_bytes(const struct decode_cfg *cfg)
{
    size_t slots = 1;
    while (slots < cfg->max_interfaces * 2)
        slots <<= 1;
    return cfg->max_interfaces ? cfg->max_interfaces * sizeof(struct dec_iface) + slots * 4 : 0;
}

/* ---- layer 0: decode_core.c ---- */
void dec_error(struct decode_ctx *ctx, struct dec_exporter *exp, enum decode_counter c);
/* A sampled packet's fields (pkt.h's parse) into r: addresses, protocol, ports (ICMP: type and
 * code in dport, as exporters put them), TCP flags. Packet sections (decode_tmpl.c) and sFlow
 * raw headers (sflow.c). */
struct pkt_info;
void dec_rec_from_pkt(struct flow_rec *r, const struct pkt_info *pi);
/* malloc/free with ctx->mem kept (a failed malloc counts no_memory). */
void *dec_alloc(struct decode_ctx *ctx, size_t n);
void dec_free(struct decode_ctx *ctx, void *p, size_t n);
/* A sequence number seq that should be *next (when *valid): a forward gap is counted as lost. */
void dec_seq(struct dec_msg *m, bool *valid, uint32_t *next, uint32_t seq, uint32_t advance);
void dec_domain_set_sampler(struct dec_domain *d, uint32_t id, uint32_t rate);
_Static_assert(DC_COUNT <= 256, "dec_msg.rec_ctr holds a counter in a byte");
/* The counter of a version's records (DC_V5_RECORDS ...): dec_msg.rec_ctr, set once per message. */
enum decode_counter dec_records_counter(uint8_t version);
/* Finish and emit one decoded record: sampling, counters. rate_rec = rate from the record (0 none),
   sampler_id/has_sampler = its sampler id, v5_interval = v5 header rate (0 none, -1 not v5).
   The same as dec_emit_rate(m, r, dec_rate(m, rate_rec, has_sampler, sampler_id, v5_interval)). */
void dec_emit(struct dec_msg *m, struct flow_rec *r, uint32_t rate_rec, bool has_sampler,
              uint32_t sampler_id, int v5_interval);
/* The sampling rate of a record, in the priority order of decode.h (0: unknown). It reads the
   exporter's policy and m's domain's samplers and rate, which only options records change: a
   caller may keep it for records that state none of their own between two of those. */
uint32_t dec_rate(const struct dec_msg *m, uint32_t rate_rec, bool has_sampler, uint32_t sampler_id,
                  int v5_interval);
static inline uint64_t dec_mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
/* Emitting records of m at rate (dec_rate's; 0: unknown, counted, and 1 applied) is in three
   parts, so that a run of records at one rate (a plain template's set, decode_tmpl.c) does the
   first two once: dec_stamp (what r gets from the rate and the exporter alone), dec_count (the
   counters of n records) and dec_emit_stamped (per record: counters scaled, times, clock, emit).
   dec_emit_rate is the three for one record. Inline: once per record of every format. */

/* r's sampling, exporter and FLOW_F_SAMPLING_UNKNOWN at rate; returns the rate applied. */
static inline uint32_t dec_stamp(const struct dec_msg *m, struct flow_rec *r, uint32_t rate)
{
    if (!rate) {
        rate = 1;
        r->flags |= FLOW_F_SAMPLING_UNKNOWN;
    }
    r->sampling = rate;
    r->exporter = m->exp->idx + 1;
    return rate;
}

/* The counters of n > 0 records of m emitted at rate. */
static inline void dec_count(struct dec_msg *m, uint32_t rate, size_t n)
{
    struct dec_exporter *e = m->exp;
    if (!rate)
        m->ctx->c[DC_SAMPLING_UNKNOWN] += n;
    e->last_rate = rate ? rate : 1;
    e->records += n;
    m->ctx->c[DC_RECORDS] += n;
    m->ctx->c[m->rec_ctr] += n;
}

/* Emit r, stamped (dec_stamp) at rate (the rate applied, never 0). */
static inline void dec_emit_stamped(struct dec_msg *m, struct flow_rec *r, uint32_t rate)
{
    if (rate != 1) {
        r->bytes = dec_mul_sat(r->bytes, rate);
        r->packets = dec_mul_sat(r->packets, rate);
    }
    if (r->last_ms < r->first_ms)
        r->last_ms = r->first_ms;
    uint64_t max_skew = m->ctx->cfg.clock_skew_ms; /* 0: not checked (replay) */
    if (max_skew) {
        uint64_t skew =
            r->last_ms > m->export_ms ? r->last_ms - m->export_ms : m->export_ms - r->last_ms;
        if (skew > max_skew) {
            r->flags |= FLOW_F_CLOCK_SKEW; /* times kept: the pipeline and detectors decide */
            m->exp->clock_skew++;
            m->ctx->c[DC_CLOCK_SKEW]++;
        }
    }
    m->emit(m->arg, r);
}

/* Emit r at rate (dec_rate's; 0: unknown, counted, and 1 applied). */
static inline void dec_emit_rate(struct dec_msg *m, struct flow_rec *r, uint32_t rate)
{
    dec_count(m, rate, 1);
    dec_emit_stamped(m, r, dec_stamp(m, r, rate));
}

/* ---- layer 1: decode_tmpl.c (cache, compiler, interpreter) ---- */
/* 0 or -ENOMEM. */
int tmpl_cache_init(struct decode_ctx *ctx);
void tmpl_cache_free(struct decode_ctx *ctx);
/* Look up a live template (expired ones are dropped here). */
struct tmpl *tmpl_find(struct decode_ctx *ctx, uint32_t exp_idx, uint8_t version, uint32_t dom_id,
                       uint16_t tid, uint64_t now_ms);
/* Validate a field list without compiling it (the check pass of a message); touches no state.
   0, or -EINVAL when the template is invalid (reserved id, no or too many fields, a zero-length
   field, an empty record or one too long). */
int tmpl_check(uint16_t tid, const struct tmpl_field *f, size_t n);
/* Validate (tmpl_check) and compile a field list; touches no state. 0 or -EINVAL. */
int tmpl_compile(uint16_t tid, bool options, const struct tmpl_field *f, size_t n,
                 struct tmpl_prog *out);
/* Validate, compile and insert into m's domain; counts the outcome. Returns the template when
   it is new or replaced one (data sets may be waiting for it), NULL when it only refreshed one
   or was refused. */
const struct tmpl *tmpl_add(struct dec_msg *m, uint16_t tid, bool options,
                            const struct tmpl_field *f, size_t n);
/* Withdrawals: O(1) for one id, O(templates withdrawn) for all of a kind. */
void tmpl_withdraw(struct dec_msg *m, uint16_t tid);
void tmpl_withdraw_all(struct dec_msg *m, bool options);
/* Drop every template of exporter e (exporter eviction): O(its templates and domains). */
void tmpl_drop_exporter(struct decode_ctx *ctx, struct dec_exporter *e);
/* End the templates past their lifetime: O(1) while none can be (tmpl_oldest_ms), else a sweep
   of every bucket. */
void tmpl_expire(struct decode_ctx *ctx, uint64_t now_ms);
/* Decode every record of a data set with template t; returns records read. */
size_t tmpl_decode_set(struct dec_msg *m, const struct tmpl *t, const uint8_t *p, size_t len);

/* ---- layer 2: decode_exporter.c ---- */
/* 0 or -ENOMEM. */
int dec_exporters_init(struct decode_ctx *ctx);
void dec_exporters_free(struct decode_ctx *ctx);
/* The exporter of a datagram from src, found or made (NULL: table full, counted). */
struct dec_exporter *dec_exporter_get(struct decode_ctx *ctx, const uint8_t src[16],
                                      uint64_t now_ms);
/* The domain of this message, found or made (NULL: counted). */
struct dec_domain *dec_domain_get(struct dec_msg *m, uint8_t version, uint32_t id);

/* ---- layer 2: decode_iface.c ---- */
/* 0 or -ENOMEM. */
int dec_iface_init(struct decode_ctx *ctx);
void dec_iface_free(struct decode_ctx *ctx);
/* A counter record of m's exporter: its interface found or added (table full: iface_limit). */
void dec_iface_update(struct dec_msg *m, const struct dec_iface_sample *s);

/* ---- layer 2: decode_pending.c ---- */
/* 0 or -ENOMEM. */
int dec_pending_init(struct decode_ctx *ctx);
void dec_pending_free(struct decode_ctx *ctx);
void dec_pending_push(struct dec_msg *m, uint16_t tid, const uint8_t *p, size_t len);
void dec_pending_expire(struct decode_ctx *ctx, uint64_t now_ms);
/* A template record of m: tmpl_add, then the data sets that waited for that template are
   decoded (O(those sets)). */
void dec_template(struct dec_msg *m, uint16_t tid, bool options, const struct tmpl_field *f,
                  size_t n);

/* ---- layer 3: nf5.c, nf9.c, ipfix.c ---- */
void nf5_decode(struct dec_msg *m, const uint8_t *buf, size_t len);
void nf9_decode(struct dec_msg *m, const uint8_t *buf, size_t len);
void ipfix_decode(struct dec_msg *m, const uint8_t *buf, size_t len);
/* m->exp is NULL on entry: the exporter is the agent named inside the datagram. */
void sflow_decode(struct dec_msg *m, const uint8_t *buf, size_t len);

#endif
