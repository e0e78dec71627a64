#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "frag.h"
#include "json.h"
#include "pkt.h"
#include "udp.h"

struct ingest {
    const struct settings *s;
    struct ingest_opts o;
    struct pipeline *p;
    struct decode_ctx *dec;
    struct frag_table *frags;
    struct ingest_stats st;
    struct prefix exp_prefix[SETTINGS_MAX_EXPORTERS];
};

static const char *const pkt_err_names[9] = {
    "ok", "truncated_l2", "unknown_linktype", "not_ip", "bad_ip_header",
    "truncated_l3", "truncated_l4", "bad_l4_header", "too_many_headers",
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
    static const uint16_t usual[] = {2055, 4739, 9995, 9996};
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
    dc.template_lifetime_ms = s->template_lifetime * 1000;
    dc.pending_max = s->pending_max;
    dc.pending_bytes_max = s->pending_bytes;
    dc.pending_ms = s->pending_time * 1000;
    dc.ipfix_udp_withdrawal = s->ipfix_udp_withdrawal;
    dc.policy = policy;
    dc.policy_arg = in;
    int rc = decode_ctx_new(&dc, &in->dec);
    if (rc < 0) {
        free(in);
        return rc == -2 ? -ENOMEM : -EINVAL;
    }
    struct frag_opts fo = {0};
    if (frag_table_new(&fo, &in->frags) < 0) {
        decode_ctx_free(in->dec);
        free(in);
        return -ENOMEM;
    }
    *out = in;
    return 0;
}

void ingest_free(struct ingest *in)
{
    if (!in)
        return;
    decode_ctx_free(in->dec);
    frag_table_free(in->frags);
    free(in);
}

void ingest_datagram(struct ingest *in, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *data, size_t len)
{
    in->st.datagrams++;
    pipeline_set_ref_time(in->p, now_ms);
    decode_datagram(in->dec, src, sport, now_ms, data, len, pipeline_flow, in->p);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Does this payload start like a flow export with consistent lengths? */
static bool looks_like_export(const uint8_t *d, size_t len)
{
    if (len < 20)
        return false;
    uint16_t ver = rd16(d);
    if (ver == 5) {
        uint16_t n = rd16(d + 2);
        return n >= 1 && n <= 30 && len == 24 + 48u * n;
    }
    if (ver == 10)
        return len >= 16 && rd16(d + 2) == len;
    if (ver == 9) {
        if (len < 24)
            return false;
        /* walk the flowsets: each length >= 4 and they must tile the datagram */
        size_t off = 20;
        unsigned sets = 0;
        while (off + 4 <= len) {
            uint16_t id = rd16(d + off), sl = rd16(d + off + 2);
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

static void udp_payload(struct ingest *in, const uint8_t src[16], uint16_t sport, uint16_t dport,
                        uint64_t ts_ms, const uint8_t *data, size_t len)
{
    if (is_export_port(in, dport) || (in->o.sniff && looks_like_export(data, len)))
        ingest_datagram(in, src, sport, ts_ms, data, len);
    else
        in->st.non_export++;
}

void ingest_packet(struct ingest *in, const struct capture_pkt *pkt)
{
    in->st.packets++;
    in->st.packet_bytes += pkt->wirelen;
    uint64_t ts_ms = pkt->ts_ns / 1000000;
    struct pkt_info pi;
    int rc = pkt_parse(pkt->linktype, pkt->data, pkt->caplen, pkt->wirelen, &pi);
    if (rc < 0 && !(rc == PKT_ERR_TRUNCATED_L4 || rc == PKT_ERR_BAD_L4_HEADER)) {
        in->st.pkt_errors[-rc < 9 ? -rc : 0]++;
        return;
    }
    if (pi.fragment) {
        if (pi.proto != 17) {
            in->st.non_export++;
            return;
        }
        struct frag_datagram dg;
        if (frag_input(in->frags, &pi, pkt->ts_ns, &dg) == 1 && dg.payload)
            udp_payload(in, dg.src, dg.sport, dg.dport, ts_ms, dg.payload, dg.payload_len);
        return;
    }
    if (rc < 0) {
        in->st.pkt_errors[-rc < 9 ? -rc : 0]++;
        return;
    }
    if (pi.proto != 17 || !pi.l4_payload) {
        in->st.non_export++;
        return;
    }
    if (pi.l4_payload_caplen < pi.l4_payload_len) { /* export cut by the snaplen: unusable */
        in->st.pkt_errors[-PKT_ERR_TRUNCATED_L4]++;
        return;
    }
    udp_payload(in, pi.src, pi.sport, pi.dport, ts_ms, pi.l4_payload, pi.l4_payload_len);
}

void ingest_expire(struct ingest *in, uint64_t now_ms)
{
    decode_expire(in->dec, now_ms);
    frag_expire(in->frags, now_ms * 1000000);
}

const struct decode_ctx *ingest_decoder(const struct ingest *in)
{
    return in->dec;
}

void ingest_stats(const struct ingest *in, struct ingest_stats *out)
{
    *out = in->st;
}

void ingest_totals_json(const struct ingest *in, struct json *j)
{
    struct pipeline_stats ps;
    pipeline_stats(in->p, &ps);
    struct frag_stats fs;
    frag_get_stats(in->frags, &fs);
    json_u64(j, "packets", in->st.packets);
    json_u64(j, "datagrams", decode_counter(in->dec, DC_DATAGRAMS));
    json_u64(j, "records", decode_counter(in->dec, DC_RECORDS));
    json_u64(j, "bytes", ps.bytes);
    json_u64(j, "flow_packets", ps.packets);
    json_u64(j, "flows_outbound", ps.by_dir[FLOW_DIR_OUT]);
    json_u64(j, "flows_inbound", ps.by_dir[FLOW_DIR_IN]);
    json_u64(j, "flows_internal", ps.by_dir[FLOW_DIR_INTERNAL]);
    json_u64(j, "flows_unmatched", ps.unmatched);
    json_u64(j, "flows_late", ps.late);
    json_u64(j, "flows_time_skew", ps.time_skew);
    json_u64(j, "non_export_packets", in->st.non_export);
    json_u64(j, "windows", ps.windows_closed);
    json_u64(j, "summaries", ps.summaries);
    json_u64(j, "alerts", ps.alerts.published);
    json_u64(j, "alerts_suppressed", ps.alerts.suppressed);
    json_u64(j, "host_evictions", ps.host_evictions);
    json_obj_open(j, "decode");
    for (int c = 0; c < DC_COUNT; c++)
        if (!decode_counter_is_error((enum decode_counter)c))
            json_u64(j, decode_counter_name((enum decode_counter)c),
                     decode_counter(in->dec, (enum decode_counter)c));
    json_obj_close(j);
    json_obj_open(j, "errors");
    for (int c = 0; c < DC_COUNT; c++)
        if (decode_counter_is_error((enum decode_counter)c))
            json_u64(j, decode_counter_name((enum decode_counter)c),
                     decode_counter(in->dec, (enum decode_counter)c));
    for (int e = 1; e < 9; e++)
        json_u64(j, pkt_err_names[e], in->st.pkt_errors[e]);
    json_u64(j, "fragments_dropped", fs.timeouts + fs.evicted + fs.overlaps + fs.bad);
    json_obj_close(j);
}
