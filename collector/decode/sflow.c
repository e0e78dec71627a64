/* sflow.c: layer 3 of the decoder (decode_int.h): sFlow version 5 datagrams (sflow.org
 * sflow_version_5.txt, the discarded-packet extension sflow_drops.txt). Called by decode.c for
 * a datagram whose first word is 5; calls layers 0-2 and the flow meter's packet parser
 * (collector/sources/pkt.h, a pure function) for raw packet header records.
 *
 * What becomes of each part (decode.h says it for the operator):
 * - The datagram: the exporter is the agent address inside it (not the UDP source: relays and
 *   NAT change that), its sub-agent id is the domain, and the datagram sequence number of each
 *   (agent, sub-agent) counts lost datagrams in seq_lost, as NetFlow's headers do.
 * - A flow sample (0:1) or expanded flow sample (0:3) becomes one flow record standing for
 *   sampling_rate packets: 1 packet and the sampled packet's IP length, multiplied by the rate
 *   in dec_emit (the [exporter] override first, as for NetFlow). The 5-tuple comes from the raw
 *   packet header record (0:1, through pkt_parse: Ethernet, 802.1Q/QinQ, MPLS, Ethernet over
 *   MPLS, IPv4/IPv6, and the inner packet of VXLAN), else from the sampled IPv4/IPv6 record (0:3/0:4). Extended
 *   gateway (0:1003) gives the source AS and the destination AS (the last AS of the path, the
 *   router's own AS when the path is empty; sflow_ext_gateway). Extended switch (0:1001:
 *   VLANs) and router (0:1002: next hop, masks) are length-checked and counted
 *   (sflow_ext_switch, sflow_ext_router), not carried: no flow_rec field or consumer reads them;
 *   other records are skipped (sflow_records_skipped). A sample with neither a raw header nor a
 *   sampled IP record is counted (sflow_samples_no_flow).
 * - Times: sFlow samples carry none; a record's first and last time are now_ms (capture time
 *   on replay, the wall clock live).
 * - The drops field (samples the agent lost for lack of resources, cumulative per source) is
 *   read per (agent, sub-agent, source id): its increases are counted in sflow_agent_drops.
 * - Counter samples (0:2, 0:4) with a generic interface record (0:1) update the interface table
 *   (decode_interfaces: octets, packets, errors, speed and the rate between two samples), bounded
 *   by cfg.max_interfaces (more interfaces: iface_limit). Other counter records are skipped.
 * - Discarded-packet samples (0:5) are counted with the packets they report dropped.
 * Hostile input: every length is checked against what encloses it (a sample against the
 * datagram, a record against its sample, a header against its record); a sample that does not
 * fit ends the datagram (bad_sample: the samples before it count), a record that does not fit
 * ends its sample (bad_record). Nothing is read outside buf. */
#include "addr.h"
#include "decode_int.h"
#include "pkt.h"

#define SF_HDR_V4 28 /* version, address type, IPv4 address, sub-agent, sequence, uptime, n */
#define SF_MAX_SAMPLES 4096 /* more declared than a 64 KiB datagram can hold: bad_sample */

/* A bounded reader over XDR (big-endian, 4-byte aligned) data. */
struct xdr {
    const uint8_t *p;
    size_t n;
    bool bad;
};

static uint32_t xu32(struct xdr *x)
{
    if (x->n < 4) {
        x->bad = true;
        x->n = 0;
        return 0;
    }
    uint32_t v = be_get32(x->p);
    x->p += 4;
    x->n -= 4;
    return v;
}

static uint64_t xu64(struct xdr *x)
{
    uint64_t hi = xu32(x);
    return hi << 32 | xu32(x);
}

/* n bytes (padded to 4 on the wire); NULL when they do not fit. */
static const uint8_t *xbytes(struct xdr *x, size_t n)
{
    size_t padded = (n + 3) & ~(size_t)3;
    if (padded < n || x->n < padded) {
        x->bad = true;
        x->n = 0;
        return NULL;
    }
    const uint8_t *p = x->p;
    x->p += padded;
    x->n -= padded;
    return p;
}

/* An address: type 1 IPv4 (stored IPv4-mapped), 2 IPv6; false for anything else. */
static bool xaddr(struct xdr *x, uint8_t out[16])
{
    uint32_t t = xu32(x);
    const uint8_t *a = t == 1 ? xbytes(x, 4) : t == 2 ? xbytes(x, 16) : NULL;
    if (!a) {
        x->bad = true;
        return false;
    }
    if (t == 1)
        addr_from_v4_bytes(out, a);
    else
        memcpy(out, a, 16);
    return true;
}

/* What one flow sample's records said. */
struct sf_flow {
    struct flow_rec r;
    bool have_hdr, have_ip; /* a parsed raw header / a sampled IPv4 or IPv6 record */
    uint32_t ip_len;
};

static void fill_from_pkt(struct sf_flow *f, const struct pkt_info *pi)
{
    dec_rec_from_pkt(&f->r, pi); /* pkt.h sets ports and TCP flags only where they exist */
    f->r.flags = (uint8_t)((pi->v6 ? FLOW_F_V6 : 0) | FLOW_F_PACKET); /* one packet each */
    f->ip_len = pi->ip_len;
    f->have_hdr = true;
}

/* Raw packet header (0:1): protocol, frame length, stripped, header length, header. */
static void rec_raw_header(struct dec_msg *m, struct xdr *x, struct sf_flow *f)
{
    uint32_t proto = xu32(x), frame = xu32(x);
    (void)xu32(x); /* stripped: not used, see below */
    uint32_t hlen = xu32(x);
    const uint8_t *h = xbytes(x, hlen);
    if (!h) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_RECORD);
        return;
    }
    int lt = proto == 1 ? PKT_LINK_EN10MB : (proto == 11 || proto == 12) ? PKT_LINK_RAW : -1;
    if (lt < 0) {
        m->ctx->c[DC_SFLOW_HEADER_UNPARSED]++;
        return;
    }
    /* The frame's length bounds the sampled packet's IP length. Not less the bytes the agent
     * says it stripped (FCS, encapsulations): agents differ on that field (akvorado's
     * data-sflow-ipv4-data: frame 1390, stripped 1262 = the bytes not in the 128-byte header,
     * for an IP packet of 1344 bytes that tshark and the sampled IPv4 record show). */
    uint32_t wire = frame;
    struct pkt_info pi, inner;
    int rc = pkt_parse(lt, h, hlen, wire < hlen ? hlen : wire, &pi);
    if (rc != PKT_OK && rc != PKT_ERR_TRUNCATED_L4 && rc != PKT_ERR_BAD_L4_HEADER) {
        m->ctx->c[DC_SFLOW_HEADER_UNPARSED]++;
        return;
    }
    /* VXLAN: the tenant's packet is the flow; the underlay's is the tunnel */
    if (rc == PKT_OK && pkt_parse_inner(&pi, &inner) == PKT_OK) {
        m->ctx->c[DC_SFLOW_INNER_HEADERS]++;
        pi = inner;
    }
    fill_from_pkt(f, &pi);
}

/* Sampled IPv4 (0:3) / IPv6 (0:4): length, protocol, addresses, ports, TCP flags, TOS. */
static void rec_sampled_ip(struct dec_msg *m, struct xdr *x, struct sf_flow *f, bool v6)
{
    uint32_t len = xu32(x), proto = xu32(x);
    const uint8_t *s = xbytes(x, v6 ? 16 : 4), *d = xbytes(x, v6 ? 16 : 4);
    uint32_t sport = xu32(x), dport = xu32(x), flags = xu32(x);
    (void)xu32(x); /* TOS / priority */
    if (x->bad) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_RECORD);
        return;
    }
    if (f->have_hdr) /* the raw header said it all (and more: VXLAN inner packets) */
        return;
    if (v6) {
        memcpy(f->r.src, s, 16);
        memcpy(f->r.dst, d, 16);
    } else {
        addr_from_v4_bytes(f->r.src, s);
        addr_from_v4_bytes(f->r.dst, d);
    }
    f->r.proto = (uint8_t)proto;
    f->r.sport = (uint16_t)sport;
    f->r.dport = (uint16_t)dport;
    f->r.tcp_flags = f->r.proto == 6 ? (uint8_t)flags : 0;
    f->r.flags = (uint8_t)((v6 ? FLOW_F_V6 : 0) | FLOW_F_PACKET);
    f->ip_len = len;
    f->have_ip = true;
}

/* Extended gateway (0:1003): next hop, AS, source AS, source peer AS, AS path segments,
 * communities, local preference. */
static void rec_gateway(struct dec_msg *m, struct xdr *x, struct sf_flow *f)
{
    uint8_t nh[16];
    (void)xaddr(x, nh);
    uint32_t as = xu32(x), src_as = xu32(x);
    (void)xu32(x); /* source peer AS */
    uint32_t nseg = xu32(x), dst_as = as;
    for (uint32_t i = 0; i < nseg && !x->bad; i++) {
        (void)xu32(x); /* segment type: set or sequence */
        uint32_t n = xu32(x);
        if (n > x->n / 4) {
            x->bad = true;
            break;
        }
        for (uint32_t k = 0; k < n; k++)
            dst_as = xu32(x);
    }
    uint32_t ncomm = xu32(x);
    if (!x->bad && ncomm <= x->n / 4)
        (void)xbytes(x, (size_t)ncomm * 4);
    else
        x->bad = true;
    (void)xu32(x); /* local preference */
    if (x->bad) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_RECORD);
        return;
    }
    f->r.src_as = src_as;
    f->r.dst_as = dst_as;
    m->ctx->c[DC_SFLOW_EXT_GATEWAY]++;
}

/* The next record of a sample in x: its tag and a reader over its body; false (counted) when
 * it runs past the sample. */
static bool next_record(struct dec_msg *m, struct xdr *x, uint32_t *tag, struct xdr *r)
{
    *tag = xu32(x);
    uint32_t len = xu32(x);
    const uint8_t *body = xbytes(x, len);
    if (!body) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_RECORD);
        return false;
    }
    *r = (struct xdr){body, len, false};
    return true;
}

/* The records of a flow sample (nrec of them in x). */
static void flow_records(struct dec_msg *m, struct xdr *x, uint32_t nrec, struct sf_flow *f)
{
    for (uint32_t i = 0; i < nrec; i++) {
        uint32_t tag;
        struct xdr r;
        if (!next_record(m, x, &tag, &r))
            return;
        switch (tag) {
        case 1:
            rec_raw_header(m, &r, f);
            break;
        case 3:
        case 4:
            rec_sampled_ip(m, &r, f, tag == 4);
            break;
        case 1001: /* extended switch: VLANs and priorities in and out */
        case 1002: /* extended router: next hop, source and destination masks */
            /* checked and counted, not carried: no flow_rec field or consumer reads VLANs,
             * next hops or prefix lengths (NetFlow's are not decoded either) */
            if (r.n < 16)
                dec_error(m->ctx, m->exp, DC_SFLOW_BAD_RECORD);
            else
                m->ctx->c[tag == 1001 ? DC_SFLOW_EXT_SWITCH : DC_SFLOW_EXT_ROUTER]++;
            break;
        case 1003:
            rec_gateway(m, &r, f);
            break;
        default: /* sampled Ethernet (0:2), other extended records, other enterprises */
            m->ctx->c[DC_SFLOW_RECORDS_SKIPPED]++;
            break;
        }
    }
}

/* Cumulative drops of a source: its increase counted (per domain, DECODE_MAX_SAMPLERS sources
 * remembered; more replace the oldest, whose next report then counts from zero again). */
static void source_drops(struct dec_msg *m, uint32_t source, uint32_t drops)
{
    struct dec_domain *d = m->dom;
    for (unsigned i = 0; i < d->nsources; i++) {
        if (d->sources[i].id == source) {
            uint32_t last = d->sources[i].rate;
            if (drops > last) {
                m->ctx->c[DC_SFLOW_AGENT_DROPS] += drops - last;
                m->exp->sflow_drops += drops - last;
            }
            d->sources[i].rate = drops;
            return;
        }
    }
    unsigned i = d->nsources < DECODE_MAX_SAMPLERS ? d->nsources++ : d->source_next;
    if (i == d->source_next && d->nsources == DECODE_MAX_SAMPLERS)
        d->source_next = (uint8_t)((d->source_next + 1) % DECODE_MAX_SAMPLERS);
    d->sources[i].id = source;
    d->sources[i].rate = drops; /* first report: the counter's base, no increase known */
}

/* Flow sample (expanded: 0:3, else 0:1) in x. */
static void flow_sample(struct dec_msg *m, struct xdr *x, bool expanded)
{
    uint32_t source;
    (void)xu32(x); /* sample sequence number */
    if (expanded) {
        uint32_t type = xu32(x), index = xu32(x);
        source = type << 24 | (index & 0xffffff);
    } else {
        source = xu32(x);
    }
    uint32_t rate = xu32(x);
    (void)xu32(x); /* sample pool */
    uint32_t drops = xu32(x), in_if;
    if (expanded) {
        (void)xu32(x); /* input format */
        in_if = xu32(x);
        (void)xu32(x); /* output format */
        (void)xu32(x); /* output value */
    } else {
        in_if = xu32(x);
        (void)xu32(x); /* output: format in the top 2 bits */
    }
    uint32_t nrec = xu32(x);
    if (x->bad || nrec > x->n / 8) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_SAMPLE);
        return;
    }
    m->ctx->c[DC_SFLOW_FLOW_SAMPLES]++;
    source_drops(m, source, drops);
    struct sf_flow f;
    memset(&f, 0, sizeof f);
    flow_records(m, x, nrec, &f);
    if (!f.have_hdr && !f.have_ip) {
        m->ctx->c[DC_SFLOW_NO_FLOW]++;
        return;
    }
    f.r.in_if = expanded || (in_if >> 30) == 0 ? in_if : 0;
    f.r.packets = 1;
    f.r.bytes = f.ip_len;
    f.r.first_ms = f.r.last_ms = m->now_ms;
    dec_emit(m, &f.r, rate, false, 0, -1);
}

/* Counter sample (expanded: 0:4, else 0:2): generic interface records to the table. */
static void counter_sample(struct dec_msg *m, struct xdr *x, bool expanded)
{
    (void)xu32(x); /* sequence */
    (void)xu32(x); /* source id (type and index; expanded: two words) */
    if (expanded)
        (void)xu32(x);
    uint32_t nrec = xu32(x);
    if (x->bad || nrec > x->n / 8) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_SAMPLE);
        return;
    }
    m->ctx->c[DC_SFLOW_COUNTER_SAMPLES]++;
    for (uint32_t i = 0; i < nrec; i++) {
        uint32_t tag;
        struct xdr r;
        if (!next_record(m, x, &tag, &r))
            return;
        if (tag != 1)
            continue;
        struct dec_iface_sample s;
        s.ifindex = xu32(&r);
        (void)xu32(&r); /* ifType */
        s.speed = xu64(&r);
        (void)xu32(&r); /* ifDirection */
        s.status = xu32(&r);
        s.in_octets = xu64(&r);
        s.in_pkts = xu32(&r);
        s.in_pkts += xu32(&r); /* multicast */
        s.in_pkts += xu32(&r); /* broadcast */
        s.in_discards = xu32(&r);
        s.in_errors = xu32(&r);
        (void)xu32(&r); /* unknown protocols */
        s.out_octets = xu64(&r);
        s.out_pkts = xu32(&r);
        s.out_pkts += xu32(&r);
        s.out_pkts += xu32(&r);
        s.out_discards = xu32(&r);
        s.out_errors = xu32(&r);
        if (r.bad) {
            dec_error(m->ctx, m->exp, DC_SFLOW_BAD_RECORD);
            continue;
        }
        dec_iface_update(m, &s);
    }
}

/* Discarded-packet sample (0:5): sequence, source (expanded), drops, in, out, reason, records. */
static void discard_sample(struct dec_msg *m, struct xdr *x)
{
    (void)xu32(x);
    (void)xu32(x);
    (void)xu32(x);
    uint32_t drops = xu32(x);
    if (x->bad) {
        dec_error(m->ctx, m->exp, DC_SFLOW_BAD_SAMPLE);
        return;
    }
    m->ctx->c[DC_SFLOW_DISCARD_SAMPLES]++;
    m->ctx->c[DC_SFLOW_DISCARDED_PACKETS] += drops;
}

/* The samples of the datagram (n declared, x after the header). */
static void samples(struct dec_msg *m, struct xdr *x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag = xu32(x), len = xu32(x);
        const uint8_t *body = xbytes(x, len);
        if (!body) { /* past the datagram's end: the samples before it count */
            dec_error(m->ctx, m->exp, DC_SFLOW_BAD_SAMPLE);
            return;
        }
        struct xdr s = {body, len, false};
        switch (tag) {
        case 1:
        case 3:
            flow_sample(m, &s, tag == 3);
            break;
        case 2:
        case 4:
            counter_sample(m, &s, tag == 4);
            break;
        case 5:
            discard_sample(m, &s);
            break;
        default:
            m->ctx->c[DC_SFLOW_OTHER_SAMPLES]++;
            break;
        }
    }
    /* bytes after the declared samples (edited captures carry some) are ignored */
}

void sflow_decode(struct dec_msg *m, const uint8_t *buf, size_t len)
{
    struct xdr x = {buf + 4, len - 4, false};
    uint8_t agent[16];
    if (len < SF_HDR_V4 || !xaddr(&x, agent)) {
        dec_error(m->ctx, NULL, DC_SHORT_HEADER);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    uint32_t sub = xu32(&x), seq = xu32(&x);
    (void)xu32(&x); /* uptime */
    uint32_t n = xu32(&x);
    if (x.bad || n > SF_MAX_SAMPLES || n > x.n / 8) {
        dec_error(m->ctx, NULL, x.bad ? DC_SHORT_HEADER : DC_SFLOW_BAD_SAMPLE);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    m->exp = dec_exporter_get(m->ctx, agent, m->now_ms);
    if (!m->exp)
        return;
    if (!m->exp->pol.allowed) {
        dec_error(m->ctx, NULL, DC_EXPORTER_DENIED);
        return;
    }
    m->exp->datagrams++;
    m->dom = dec_domain_get(m, DEC_VERSION_SFLOW, sub);
    if (!m->dom)
        return;
    m->export_ms = m->now_ms;
    dec_seq(m, &m->dom->seq_valid, &m->dom->seq_next, seq, 1);
    samples(m, &x, n);
}
