/* decode.c: layer 4 of the decoder (decode_int.h), the public API of decode.h: the context,
 * decode_datagram (exporter, expiry of pending sets, version dispatch), decode_expire and the
 * getters. Nothing in the decoder calls back into this file. */
#include "decode.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "decode_int.h"

static const char *const counter_names[DC_COUNT] = {
    [DC_DATAGRAMS] = "datagrams",
    [DC_RECORDS] = "records",
    [DC_V5_DATAGRAMS] = "v5_datagrams",
    [DC_V9_DATAGRAMS] = "v9_datagrams",
    [DC_IPFIX_DATAGRAMS] = "ipfix_datagrams",
    [DC_V5_RECORDS] = "v5_records",
    [DC_V9_RECORDS] = "v9_records",
    [DC_IPFIX_RECORDS] = "ipfix_records",
    [DC_OPTION_RECORDS] = "option_records",
    [DC_TEMPLATES_ADDED] = "templates_added",
    [DC_TEMPLATES_REFRESHED] = "templates_refreshed",
    [DC_TEMPLATES_REPLACED] = "templates_replaced",
    [DC_TEMPLATES_WITHDRAWN] = "templates_withdrawn",
    [DC_TEMPLATES_WITHDRAWAL_IGNORED] = "templates_withdrawal_ignored",
    [DC_TEMPLATES_EXPIRED] = "templates_expired",
    [DC_TEMPLATES_EVICTED] = "templates_evicted",
    [DC_BIFLOW_REVERSE] = "biflow_reverse_records",
    [DC_PENDING_BUFFERED] = "pending_buffered",
    [DC_PENDING_DECODED] = "pending_decoded",
    [DC_PENDING_EXPIRED] = "pending_expired",
    [DC_SAMPLING_UNKNOWN] = "sampling_unknown",
    [DC_SEQ_LOST] = "seq_lost",
    [DC_V9_SET_UNALIGNED] = "v9_set_unaligned",
    [DC_EXPORTERS_EVICTED] = "exporters_evicted",
    [DC_DOMAINS_EVICTED] = "domains_evicted",
    [DC_CLOCK_SKEW] = "clock_skew",
    [DC_MESSAGES_MALFORMED] = "messages_malformed",
    [DC_SFLOW_DATAGRAMS] = "sflow_datagrams",
    [DC_SFLOW_RECORDS] = "sflow_records",
    [DC_SFLOW_FLOW_SAMPLES] = "sflow_flow_samples",
    [DC_SFLOW_COUNTER_SAMPLES] = "sflow_counter_samples",
    [DC_SFLOW_DISCARD_SAMPLES] = "sflow_discard_samples",
    [DC_SFLOW_DISCARDED_PACKETS] = "sflow_discarded_packets",
    [DC_SFLOW_OTHER_SAMPLES] = "sflow_other_samples",
    [DC_SFLOW_AGENT_DROPS] = "sflow_agent_drops",
    [DC_SFLOW_NO_FLOW] = "sflow_samples_no_flow",
    [DC_SFLOW_HEADER_UNPARSED] = "sflow_headers_unparsed",
    [DC_SFLOW_INNER_HEADERS] = "sflow_inner_headers",
    [DC_SFLOW_IFACE_UPDATES] = "sflow_interface_updates",
    [DC_SFLOW_EXT_GATEWAY] = "sflow_ext_gateway",
    [DC_SFLOW_EXT_SWITCH] = "sflow_ext_switch",
    [DC_SFLOW_EXT_ROUTER] = "sflow_ext_router",
    [DC_SFLOW_RECORDS_SKIPPED] = "sflow_records_skipped",
    [DC_PACKET_SECTIONS] = "packet_section_records",
    [DC_SHORT_HEADER] = "short_header",
    [DC_BAD_VERSION] = "bad_version",
    [DC_BAD_LENGTH] = "bad_length",
    [DC_BAD_COUNT] = "bad_count",
    [DC_BAD_SET_LENGTH] = "bad_set_length",
    [DC_BAD_SET_ID] = "bad_set_id",
    [DC_TEMPLATE_INVALID] = "template_invalid",
    [DC_TEMPLATE_LIMIT] = "template_limit",
    [DC_DOMAIN_LIMIT] = "domain_limit",
    [DC_EXPORTER_LIMIT] = "exporter_limit",
    [DC_EXPORTER_DENIED] = "exporter_denied",
    [DC_NO_TEMPLATE] = "no_template",
    [DC_PENDING_DROPPED] = "pending_dropped",
    [DC_RECORD_SHORT] = "record_short",
    [DC_NO_MEMORY] = "no_memory",
    [DC_SFLOW_BAD_SAMPLE] = "sflow_bad_sample",
    [DC_SFLOW_BAD_RECORD] = "sflow_bad_record",
    [DC_IFACE_LIMIT] = "iface_limit",
};

const char *decode_counter_name(enum decode_counter c)
{
    return (unsigned)c < DC_COUNT ? counter_names[c] : "unknown";
}

uint64_t decode_counter(const struct decode_ctx *ctx, enum decode_counter c)
{
    return (unsigned)c < DC_COUNT ? ctx->c[c] : 0;
}

bool decode_counter_is_error(enum decode_counter c)
{
    return c >= DC_FIRST_ERROR && c < DC_COUNT;
}

void decode_cfg_defaults(struct decode_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_exporters = 1024;
    cfg->max_templates = 65536;
    cfg->max_templates_per_source = 1024;
    cfg->max_domains_per_exporter = 64;
    cfg->template_lifetime_ms = 1800 * 1000;
    cfg->pending_max = 256;
    cfg->pending_bytes_max = 1u << 20;
    cfg->pending_ms = 10 * 1000;
    cfg->ipfix_udp_withdrawal = false;
    cfg->max_interfaces = 4096;
}

size_t decode_memory_bound(const struct decode_cfg *cfg)
{
    size_t tmpl_max = sizeof(struct tmpl) +
                      DECODE_MAX_FIELDS * (sizeof(struct tmpl_op) + sizeof(struct tmpl_field));
    return sizeof(struct decode_ctx) + cfg->max_exporters * sizeof(struct dec_exporter *) +
           dec_exp_slot_count(cfg) * sizeof(uint32_t) +
           dec_pow2_at_least(cfg->max_templates) * sizeof(struct tmpl *) +
           cfg->max_exporters *
               (sizeof(struct dec_exporter) +
                cfg->max_domains_per_exporter * sizeof(struct dec_domain) +
                dec_pow2_at_least(cfg->max_domains_per_exporter * 2) * sizeof(uint32_t)) +
           cfg->max_templates * tmpl_max + cfg->pending_max * sizeof(struct dec_pending) +
           cfg->pending_bytes_max + dec_pending_bucket_count(cfg) * sizeof(struct dlist) +
           dec_iface_bytes(cfg);
}

int decode_ctx_new(const struct decode_cfg *cfg, struct decode_ctx **out)
{
    *out = NULL;
    if (!cfg->max_exporters || !cfg->max_templates || !cfg->max_templates_per_source ||
        !cfg->max_domains_per_exporter || cfg->max_exporters > (1u << 24) ||
        cfg->max_templates > (1u << 26) || cfg->max_interfaces > (1u << 24))
        return -EINVAL;
    struct decode_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return -ENOMEM;
    ctx->cfg = *cfg;
    ctx->mem = sizeof *ctx;
    if (getrandom(&ctx->seed, sizeof ctx->seed, GRND_NONBLOCK) != (ssize_t)sizeof ctx->seed)
        ctx->seed = (uint64_t)(uintptr_t)ctx * 0x9E3779B97F4A7C15ull;
    int rc = dec_exporters_init(ctx);
    if (rc == 0)
        rc = tmpl_cache_init(ctx);
    if (rc == 0)
        rc = dec_pending_init(ctx);
    if (rc == 0)
        rc = dec_iface_init(ctx);
    if (rc < 0) {
        decode_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void decode_ctx_free(struct decode_ctx *ctx)
{
    if (!ctx)
        return;
    dec_iface_free(ctx);
    dec_pending_free(ctx);
    tmpl_cache_free(ctx);
    dec_exporters_free(ctx);
    free(ctx);
}

/* ---- entry points ---- */

void decode_datagram(struct decode_ctx *ctx, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *buf, size_t len, flow_emit_fn emit, void *arg)
{
    (void)sport;
    ctx->c[DC_DATAGRAMS]++;
    if (len < 2) {
        dec_error(ctx, NULL, DC_SHORT_HEADER);
        return;
    }
    uint16_t version = be_get16(buf);
    if (version == 0 && len >= 4 && be_get32(buf) == 5) { /* sFlow v5: a 32-bit version */
        struct dec_msg m = {.ctx = ctx,
                            .version = DEC_VERSION_SFLOW,
                            .rec_ctr = (uint8_t)dec_records_counter(DEC_VERSION_SFLOW),
                            .now_ms = now_ms,
                            .emit = emit,
                            .arg = arg};
        if (ctx->npending)
            dec_pending_expire(ctx, now_ms);
        ctx->c[DC_SFLOW_DATAGRAMS]++;
        sflow_decode(&m, buf, len);
        return;
    }
    if (version != 5 && version != 9 && version != 10) {
        dec_error(ctx, NULL, DC_BAD_VERSION);
        return;
    }
    struct dec_exporter *e = dec_exporter_get(ctx, src, now_ms);
    if (!e)
        return;
    if (!e->pol.allowed) {
        dec_error(ctx, NULL, DC_EXPORTER_DENIED);
        return;
    }
    e->datagrams++;
    struct dec_msg m = {.ctx = ctx,
                        .exp = e,
                        .version = (uint8_t)version,
                        .rec_ctr = (uint8_t)dec_records_counter((uint8_t)version),
                        .now_ms = now_ms,
                        .emit = emit,
                        .arg = arg};
    if (ctx->npending)
        dec_pending_expire(ctx, now_ms);
    if (version == 5) {
        ctx->c[DC_V5_DATAGRAMS]++;
        nf5_decode(&m, buf, len);
    } else if (version == 9) {
        ctx->c[DC_V9_DATAGRAMS]++;
        nf9_decode(&m, buf, len);
    } else {
        ctx->c[DC_IPFIX_DATAGRAMS]++;
        ipfix_decode(&m, buf, len);
    }
}

void decode_expire(struct decode_ctx *ctx, uint64_t now_ms)
{
    tmpl_expire(ctx, now_ms);
    dec_pending_expire(ctx, now_ms);
}

bool decode_exporter_addr(const struct decode_ctx *ctx, uint32_t idx1, uint8_t out[16])
{
    if (idx1 == 0 || idx1 > ctx->nexps)
        return false;
    memcpy(out, ctx->exps[idx1 - 1]->addr, 16);
    return true;
}

size_t decode_exporters(const struct decode_ctx *ctx, struct decode_exporter_stats *out, size_t max)
{
    size_t n = 0;
    for (; n < ctx->nexps && n < max; n++) {
        const struct dec_exporter *e = ctx->exps[n];
        memcpy(out[n].addr, e->addr, 16);
        out[n].datagrams = e->datagrams;
        out[n].records = e->records;
        out[n].errors = e->errors;
        out[n].seq_lost = e->seq_lost;
        out[n].clock_skew = e->clock_skew;
        out[n].sflow_drops = e->sflow_drops;
        out[n].templates = e->templates;
        out[n].sampling = e->last_rate;
    }
    return n;
}

size_t decode_interfaces(const struct decode_ctx *ctx, size_t first, struct decode_iface_stats *out,
                         size_t max)
{
    if (max == 0)
        return ctx->ifaces.n;
    size_t n = 0;
    for (size_t i = first; i < ctx->ifaces.n && n < max; i++, n++) {
        const struct dec_iface *e = ktab_at(&ctx->ifaces, i);
        struct decode_iface_stats *o = &out[n];
        memcpy(o->agent, e->agent, 16);
        o->ifindex = e->ifindex;
        o->status = e->last.status;
        o->speed = e->last.speed;
        o->in_octets = e->last.in_octets;
        o->in_pkts = e->last.in_pkts;
        o->in_discards = e->last.in_discards;
        o->in_errors = e->last.in_errors;
        o->out_octets = e->last.out_octets;
        o->out_pkts = e->last.out_pkts;
        o->out_discards = e->last.out_discards;
        o->out_errors = e->last.out_errors;
        o->in_bps = e->in_bps;
        o->out_bps = e->out_bps;
        o->updated_ms = e->at_ms;
    }
    return n;
}

size_t decode_template_count(const struct decode_ctx *ctx)
{
    return ctx->ntemplates;
}

uint64_t decode_template_compiles(const struct decode_ctx *ctx)
{
    return ctx->compiles;
}

uint64_t decode_template_sweeps(const struct decode_ctx *ctx)
{
    return ctx->sweeps;
}

size_t decode_memory(const struct decode_ctx *ctx)
{
    return ctx->mem;
}
