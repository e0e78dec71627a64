#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "be.h"
#include "frag.h"
#include "json.h"
#include "log.h"
#include "pkt.h"
#include "udp.h"

#define INGEST_EXP_SEEN 64 /* exporter addresses a capture's reordered fragments are held for */

struct ingest {
    const struct settings *s;
    struct ingest_opts o;
    struct pipeline *p;
    struct decode_ctx *dec;
    struct frag_table *frags;
    struct meter *meter; /* NULL with route all-export */
    struct ingest_stats st;
    struct prefix exp_prefix[SETTINGS_MAX_EXPORTERS];
    uint8_t exp_seen[INGEST_EXP_SEEN][16]; /* exporters a capture carried (exporter_slot) */
    uint64_t skew_log_ms;                  /* now_ms of the last clock-skew log line (0 = never) */
    uint64_t cut_log_ms; /* now_ms of the last line on an export cut by the snaplen (0 = never) */
};

static void policy(void *arg, const uint8_t addr[16], struct exporter_policy *out)
{
    struct ingest *in = arg;
    const struct settings *s = in->s;
    int best = -1, best_len = -1;
    for (size_t i = 0; i < s->nexporters; i++) {
        if (prefix_contains(&in->exp_prefix[i], addr) && in->exp_prefix[i].len > best_len) {
            best = (int)i;
            best_len = in->exp_prefix[i].len;
        }
    }
    out->allowed = !s->exporters_allow_only;
    if (best >= 0) {
        const struct exporter_settings *e = &s->exporters[best];
        out->sampling_override = e->sampling;
        out->sampling_default = e->default_sampling;
        if (s->exporters_allow_only)
            out->allowed = e->allow;
    }
}

void ingest_opts_default(const struct settings *s, struct ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    static const uint16_t usual[] = {2055, 4739, 9995, 9996, 6343};
    for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++)
        o->ports[o->nports++] = usual[i];
    char tmp[sizeof s->listen];
    snprintf(tmp, sizeof tmp, "%s", s->listen);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ", ", &save); t && o->nports < INGEST_MAX_PORTS;
         t = strtok_r(NULL, ", ", &save)) {
        uint8_t a[16];
        uint16_t port;
        bool v6;
        if (udp_endpoint_parse(t, a, &port, &v6) == 0) {
            bool dup = false;
            for (size_t i = 0; i < o->nports; i++)
                dup |= o->ports[i] == port;
            if (!dup)
                o->ports[o->nports++] = port;
        }
    }
    o->sniff = true;
    if (ingest_route_parse(s->meter_route, &o->route) < 0)
        o->route = INGEST_ROUTE_AUTO;
}

int ingest_route_parse(const char *s, enum ingest_route *out)
{
    static const char *const names[] = {"auto", "ports", "all-meter", "all-export"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum ingest_route)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* The metered packets staged so far are counted (their finished flows go to the pipeline)
 * before anything else reaches the pipeline, so its records come in packet order. */
static void meter_sync(struct ingest *in)
{
    if (in->meter)
        meter_run(in->meter);
}

void ingest_record(struct ingest *in, struct flow_rec *f)
{
    meter_sync(in);
    in->st.archive_records++;
    pipeline_flow(in->p, f);
}

void ingest_bad_lines(struct ingest *in, bool archive, uint64_t n)
{
    if (archive)
        in->st.archive_bad_lines += n;
    else
        in->st.log_bad_lines += n;
}

static void out_datagram(void *arg, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                         const uint8_t *data, size_t len)
{
    ingest_datagram(arg, src, sport, now_ms, data, len);
}

static void out_packet(void *arg, const struct capture_pkt *pkt)
{
    ingest_packet(arg, pkt);
}

static void out_packets_end(void *arg)
{
    meter_sync(arg);
}

static void out_record(void *arg, struct flow_rec *f)
{
    ingest_record(arg, f);
}

static void out_bad_lines(void *arg, bool archive, uint64_t n)
{
    ingest_bad_lines(arg, archive, n);
}

/* collect's records (Kafka): to the pipeline with their part and event time. */
static void out_part(void *arg, struct flow_rec *f, const struct flowpb_meta *m)
{
    struct ingest *in = arg;
    pipeline_flow_part(in->p, f, m);
}

struct source_out ingest_source_out(struct ingest *in)
{
    return (struct source_out){.datagram = out_datagram,
                               .packet = out_packet,
                               .packets_end = out_packets_end,
                               .record = out_record,
                               .bad_lines = out_bad_lines,
                               .part = out_part,
                               .arg = in};
}

/* pipeline_exporter_fn: the decoder names its exporters (same thread). */
static bool exporter_name(void *arg, uint32_t idx1, uint8_t out[16])
{
    const struct ingest *in = arg;
    return decode_exporter_addr(in->dec, idx1, out);
}

int ingest_new(const struct settings *s, const struct ingest_opts *o, struct pipeline *p,
               struct ingest **out)
{
    struct ingest *in = calloc(1, sizeof *in);
    if (!in)
        return -ENOMEM;
    in->s = s;
    in->o = *o;
    in->p = p;
    for (size_t i = 0; i < s->nexporters; i++) {
        if (prefix_parse(s->exporters[i].addr, true, &in->exp_prefix[i]) < 0) {
            free(in);
            return -EINVAL; /* settings_validate catches this first */
        }
    }
    struct decode_cfg dc;
    decode_cfg_defaults(&dc);
    dc.max_exporters = s->max_exporters;
    dc.max_templates = s->max_templates;
    dc.max_templates_per_source = s->max_templates_per_source;
    dc.max_domains_per_exporter = s->max_domains;
    dc.max_interfaces = s->max_interfaces;
    dc.template_lifetime_ms = s->template_lifetime * 1000;
    dc.pending_max = s->pending_max;
    dc.pending_bytes_max = s->pending_bytes;
    dc.pending_ms = s->pending_time * 1000;
    dc.ipfix_udp_withdrawal = s->ipfix_udp_withdrawal;
    /* the daemon flags records far from their exporter's clock; a replay keeps their times */
    dc.clock_skew_ms = o->replay ? 0 : DECODE_CLOCK_SKEW_MS;
    dc.policy = policy;
    dc.policy_arg = in;
    int rc = decode_ctx_new(&dc, &in->dec);
    if (rc < 0) {
        free(in);
        return rc;
    }
    struct frag_opts fo = {0};
    if (frag_table_new(&fo, &in->frags) < 0) {
        decode_ctx_free(in->dec);
        free(in);
        return -ENOMEM;
    }
    if (o->route != INGEST_ROUTE_ALL_EXPORT) {
        struct meter_opts mo = {
            .max_flows = (uint32_t)s->meter_max_flows,
            .idle_ms = s->meter_idle * 1000,
            .active_ms = s->meter_active * 1000,
            .max_frags = (uint32_t)s->meter_max_frags,
            .hash_seed = o->replay ? 0x7477u : s->hash_seed,
            .no_tcp_end = !s->meter_tcp_end,
        };
        rc = meter_new(&mo, pipeline_flow, in->p, &in->meter);
        if (rc < 0) {
            frag_table_free(in->frags);
            decode_ctx_free(in->dec);
            free(in);
            return rc;
        }
    }
    if (p)
        pipeline_set_exporter_names(p, exporter_name, in);
    *out = in;
    return 0;
}

void ingest_free(struct ingest *in)
{
    if (!in)
        return;
    if (in->p) /* the pipeline may outlive the ingest: nobody names exporters any more */
        pipeline_set_exporter_names(in->p, NULL, NULL);
    decode_ctx_free(in->dec);
    frag_table_free(in->frags);
    meter_free(in->meter);
    free(in);
}

void ingest_datagram(struct ingest *in, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *data, size_t len)
{
    meter_sync(in);
    in->st.datagrams++;
    uint64_t before = decode_counter(in->dec, DC_CLOCK_SKEW);
    decode_datagram(in->dec, src, sport, now_ms, data, len, pipeline_flow, in->p);
    /* records far from this exporter's clock: one line a minute at most (counted always) */
    uint64_t skew = decode_counter(in->dec, DC_CLOCK_SKEW);
    if (skew != before && (in->skew_log_ms == 0 || now_ms >= in->skew_log_ms + 60000)) {
        char a[ADDR_STRLEN];
        log_warn("exporter %s: flow records more than %llu h from the export header's time "
                 "(%llu such records from all exporters so far): times kept, left out of the "
                 "timing detectors; check the exporter's clock",
                 addr_format(src, a), (unsigned long long)(DECODE_CLOCK_SKEW_MS / 3600000),
                 (unsigned long long)skew);
        in->skew_log_ms = now_ms ? now_ms : 1;
    }
}

/* Does this payload start like a flow export with consistent lengths? */
bool ingest_looks_like_export(const uint8_t *d, size_t len)
{
    if (len < 20)
        return false;
    if (be_get16(d) == 0 &&
        be_get16(d + 2) == 5) { /* sFlow v5: address type 1/2, samples that fit */
        uint32_t at = (uint32_t)be_get16(d + 4) << 16 | be_get16(d + 6);
        size_t hdr = at == 1 ? 28 : at == 2 ? 40 : 0;
        if (!hdr || len < hdr)
            return false;
        uint32_t n = (uint32_t)be_get16(d + hdr - 4) << 16 | be_get16(d + hdr - 2);
        return n <= (len - hdr) / 8;
    }
    uint16_t ver = be_get16(d);
    if (ver == 5) {
        uint16_t n = be_get16(d + 2);
        return n >= 1 && n <= 30 && len == 24 + 48u * n;
    }
    if (ver == 10)
        return len >= 16 && be_get16(d + 2) == len;
    if (ver == 9) {
        if (len < 24)
            return false;
        /* walk the flowsets: each length >= 4 and they must tile the datagram */
        size_t off = 20;
        unsigned sets = 0;
        while (off + 4 <= len) {
            uint16_t id = be_get16(d + off), sl = be_get16(d + off + 2);
            if (sl < 4 || off + sl > len || (id > 1 && id < 256))
                return false;
            off += sl;
            sets++;
        }
        return sets > 0 && len - off < 4;
    }
    return false;
}

static bool is_export_port(const struct ingest *in, uint16_t port)
{
    for (size_t i = 0; i < in->o.nports; i++)
        if (in->o.ports[i] == port)
            return true;
    return false;
}

static void to_meter(struct ingest *in, const struct pkt_info *pi, uint64_t ts_ns)
{
    in->st.non_export++;
    if (!in->meter)
        return;
    in->st.metered++;
    meter_stage(in->meter, pi, ts_ns);
}

/* The slot of address a in the cache of exporters whose export datagrams a capture carried
 * (direct-mapped, overwritten: a bounded set of the recent ones). */
static uint8_t *exporter_slot(struct ingest *in, const uint8_t a[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 16777619u;
    return in->exp_seen[h & (INGEST_EXP_SEEN - 1)];
}

static void capture_export(struct ingest *in, const uint8_t src[16], uint16_t sport,
                           uint64_t now_ms, const uint8_t *data, size_t len)
{
    memcpy(exporter_slot(in, src), src, 16);
    ingest_datagram(in, src, sport, now_ms, data, len);
}

/* An export datagram (or a piece of one) the capture's snaplen cut is lost: counted by the
 * caller, said here one line a minute at most, since the default live snaplen keeps only the
 * headers the meter needs. */
static void export_cut(struct ingest *in, const struct pkt_info *pi, uint32_t caplen, uint32_t len,
                       uint64_t now_ms)
{
    if (in->cut_log_ms && now_ms < in->cut_log_ms + 60000)
        return;
    char a[ADDR_STRLEN];
    log_warn("exporter %s: an export datagram%s to port %u was cut by the capture's snaplen (%u of "
             "its %u bytes kept): lost (counted as %s); a capture that carries exports needs a "
             "snaplen of their whole size, e.g. [capture NAME] snaplen = 65535",
             addr_format(pi->src, a), pi->fragment ? " fragment" : "", pi->dport, caplen, len,
             pi->fragment ? "bad_fragments" : "truncated_l4");
    in->cut_log_ms = now_ms ? now_ms : 1;
}

/* A UDP fragment is reassembled when its first fragment names an export port. A later one
 * that comes before its first (reordered on the way: it has no ports yet) is metered as before
 * and, when it comes from an exporter the capture carried, also held for reassembly, so the
 * export is not lost; its first fragment to another port forgets what was held. */
static void fragment(struct ingest *in, const struct pkt_info *pi, const struct capture_pkt *pkt,
                     uint64_t ts_ms)
{
    enum ingest_route r = in->o.route;
    bool reassemble = false, early = false;
    if (pi->proto == 17 && r != INGEST_ROUTE_ALL_METER) {
        if (r == INGEST_ROUTE_ALL_EXPORT) {
            reassemble = true;
        } else {
            uint16_t sp, dp;
            bool known = meter_frag_ports(in->meter, pi, pkt->ts_ns, &sp, &dp);
            bool exporter = memcmp(exporter_slot(in, pi->src), pi->src, 16) == 0;
            reassemble = known && is_export_port(in, dp);
            early = !known && !pi->first_fragment && exporter;
            if (exporter && pi->first_fragment && !reassemble)
                frag_discard(in->frags, pi);
        }
    }
    if (!reassemble) {
        to_meter(in, pi, pkt->ts_ns);
        if (!early)
            return;
    }
    if (reassemble && pi->frag_data_caplen < pi->frag_data_len)
        export_cut(in, pi, pi->frag_data_caplen, pi->frag_data_len, ts_ms);
    struct frag_datagram dg;
    if (frag_input(in->frags, pi, pkt->ts_ns, &dg) == 1 && dg.payload) {
        if (is_export_port(in, dg.dport) ||
            (in->o.sniff && ingest_looks_like_export(dg.payload, dg.payload_len)))
            capture_export(in, dg.src, dg.sport, ts_ms, dg.payload, dg.payload_len);
        else
            in->st.non_export++;
    }
}

void ingest_packet(struct ingest *in, const struct capture_pkt *pkt)
{
    in->st.packets++;
    in->st.packet_bytes += pkt->wirelen;
    uint64_t ts_ms = pkt->ts_ns / 1000000;
    struct pkt_info pi;
    int rc = pkt_parse(pkt->linktype, pkt->data, pkt->caplen, pkt->wirelen, &pi);
    if (rc < 0 && !(rc == PKT_ERR_TRUNCATED_L4 || rc == PKT_ERR_BAD_L4_HEADER)) {
        in->st.pkt_errors[-rc < PKT_ERR_COUNT ? -rc : 0]++;
        return;
    }
    if (pi.fragment) {
        fragment(in, &pi, pkt, ts_ms);
        return;
    }
    enum ingest_route r = in->o.route;
    if (rc < 0) { /* transport header cut or bad: L3 facts still count */
        in->st.pkt_errors[-rc < PKT_ERR_COUNT ? -rc : 0]++;
        if (r != INGEST_ROUTE_ALL_EXPORT)
            to_meter(in, &pi, pkt->ts_ns);
        else
            in->st.non_export++;
        return;
    }
    if (pi.proto != 17 || !pi.l4_payload || r == INGEST_ROUTE_ALL_METER) {
        to_meter(in, &pi, pkt->ts_ns);
        return;
    }
    bool export = is_export_port(in, pi.dport) ||
                  (in->o.sniff && r != INGEST_ROUTE_PORTS &&
                   ingest_looks_like_export(pi.l4_payload, pi.l4_payload_caplen));
    if (!export) {
        to_meter(in, &pi, pkt->ts_ns);
        return;
    }
    if (pi.l4_payload_caplen < pi.l4_payload_len) { /* export cut by the snaplen: unusable */
        in->st.pkt_errors[-PKT_ERR_TRUNCATED_L4]++;
        export_cut(in, &pi, pi.l4_payload_caplen, pi.l4_payload_len, ts_ms);
        return;
    }
    capture_export(in, pi.src, pi.sport, ts_ms, pi.l4_payload, pi.l4_payload_len);
}

void ingest_expire(struct ingest *in, uint64_t now_ms)
{
    meter_sync(in);
    decode_expire(in->dec, now_ms);
    frag_expire(in->frags, now_ms * 1000000);
    if (in->meter)
        meter_expire(in->meter, now_ms);
}

void ingest_finish(struct ingest *in)
{
    if (in->meter)
        meter_flush(in->meter);
}

void ingest_meter_stats(const struct ingest *in, struct meter_stats *out)
{
    if (in->meter)
        meter_get_stats(in->meter, out);
    else
        memset(out, 0, sizeof *out);
}

const struct decode_ctx *ingest_decoder(const struct ingest *in)
{
    return in->dec;
}

void ingest_stats(const struct ingest *in, struct ingest_stats *out)
{
    *out = in->st;
}

void ingest_frag_stats(const struct ingest *in, struct frag_stats *out)
{
    frag_get_stats(in->frags, out);
}
