/* decode_core.c: layer 0 of the decoder (decode_int.h): counters, tracked allocation,
 * sequence numbers, samplers, and the record's way out: sampling resolution, the clock check
 * and the caller's emit. Calls nothing of the decoder. */
#include <stdlib.h>

#include "decode_int.h"
#include "pkt.h"

void dec_error(struct decode_ctx *ctx, struct dec_exporter *exp, enum decode_counter c)
{
    ctx->c[c]++;
    if (exp)
        exp->errors++;
}

void *dec_alloc(struct decode_ctx *ctx, size_t n)
{
    void *p = malloc(n);
    if (p)
        ctx->mem += n;
    else
        ctx->c[DC_NO_MEMORY]++;
    return p;
}

void dec_free(struct decode_ctx *ctx, void *p, size_t n)
{
    if (!p)
        return;
    free(p);
    ctx->mem -= n;
}

void dec_seq(struct dec_msg *m, bool *valid, uint32_t *next, uint32_t seq, uint32_t advance)
{
    if (*valid && seq != *next) {
        uint32_t gap = seq - *next;
        if (gap < (1u << 30)) {
            m->ctx->c[DC_SEQ_LOST] += gap;
            m->exp->seq_lost += gap;
        }
    }
    *valid = true;
    *next = seq + advance;
}

void dec_domain_set_sampler(struct dec_domain *d, uint32_t id, uint32_t rate)
{
    for (unsigned i = 0; i < d->nsamplers; i++) {
        if (d->samplers[i].id == id) {
            d->samplers[i].rate = rate;
            return;
        }
    }
    unsigned i;
    if (d->nsamplers < DECODE_MAX_SAMPLERS) {
        i = d->nsamplers++;
    } else {
        i = d->sampler_next;
        d->sampler_next = (uint8_t)((d->sampler_next + 1) % DECODE_MAX_SAMPLERS);
    }
    d->samplers[i].id = id;
    d->samplers[i].rate = rate;
}

/* dec_rate's body; dec_emit has it inlined (sFlow records: one call each). */
static inline uint32_t resolve_rate(const struct dec_msg *m, uint32_t rate_rec, bool has_sampler,
                                    uint32_t sampler_id, int v5_interval)
{
    const struct dec_exporter *e = m->exp;
    uint32_t rate = e->pol.sampling_override;
    if (!rate)
        rate = rate_rec;
    if (!rate && has_sampler && m->dom) {
        for (unsigned i = 0; i < m->dom->nsamplers; i++) {
            if (m->dom->samplers[i].id == sampler_id) {
                rate = m->dom->samplers[i].rate;
                break;
            }
        }
    }
    if (!rate && m->dom)
        rate = m->dom->rate;
    if (!rate && v5_interval > 0)
        rate = (uint32_t)v5_interval;
    if (!rate)
        rate = e->pol.sampling_default;
    if (!rate && v5_interval == 0)
        rate = 1; /* v5 header says unsampled */
    return rate;
}

uint32_t dec_rate(const struct dec_msg *m, uint32_t rate_rec, bool has_sampler, uint32_t sampler_id,
                  int v5_interval)
{
    return resolve_rate(m, rate_rec, has_sampler, sampler_id, v5_interval);
}

void dec_emit(struct dec_msg *m, struct flow_rec *r, uint32_t rate_rec, bool has_sampler,
              uint32_t sampler_id, int v5_interval)
{
    dec_emit_rate(m, r, resolve_rate(m, rate_rec, has_sampler, sampler_id, v5_interval));
}

enum decode_counter dec_records_counter(uint8_t version)
{
    return version == 5                   ? DC_V5_RECORDS
           : version == 9                 ? DC_V9_RECORDS
           : version == DEC_VERSION_SFLOW ? DC_SFLOW_RECORDS
                                          : DC_IPFIX_RECORDS;
}

void dec_rec_from_pkt(struct flow_rec *r, const struct pkt_info *pi)
{
    memcpy(r->src, pi->src, 16);
    memcpy(r->dst, pi->dst, 16);
    r->proto = pi->proto;
    r->sport = pi->sport;
    r->dport = pi->proto == 1 || pi->proto == 58 ? (uint16_t)(pi->icmp_type << 8 | pi->icmp_code)
                                                 : pi->dport;
    r->tcp_flags = pi->tcp_flags;
}
