/* gen_sflow.c: sFlow v5 datagrams (see gen_sflow.h). */
#include "gen_sflow.h"

#include <string.h>

#include "gen_flowpkts.h"
#include "gen_pcap.h"

static void put32(struct gen_sflow *m, uint32_t v)
{
    if (m->len + 4 > m->cap) {
        m->overflow = true;
        return;
    }
    uint8_t *p = m->buf + m->len;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    m->len += 4;
}

static void put64(struct gen_sflow *m, uint64_t v)
{
    put32(m, (uint32_t)(v >> 32));
    put32(m, (uint32_t)v);
}

static void put_bytes(struct gen_sflow *m, const uint8_t *p, size_t n)
{
    size_t padded = (n + 3) & ~(size_t)3;
    if (m->len + padded > m->cap) {
        m->overflow = true;
        return;
    }
    memcpy(m->buf + m->len, p, n);
    memset(m->buf + m->len + n, 0, padded - n);
    m->len += padded;
}

static bool is_v4(const uint8_t a[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, pre, 12) == 0;
}

static void put_addr(struct gen_sflow *m, const uint8_t a[16])
{
    put32(m, is_v4(a) ? 1 : 2);
    put_bytes(m, is_v4(a) ? a + 12 : a, is_v4(a) ? 4 : 16);
}

void gen_sflow_begin(struct gen_sflow *m, uint8_t *buf, size_t cap, const uint8_t agent[16],
                     uint32_t sub_agent, uint32_t seq, uint32_t uptime_ms)
{
    memset(m, 0, sizeof *m);
    m->buf = buf;
    m->cap = cap;
    put32(m, 5);
    put_addr(m, agent);
    put32(m, sub_agent);
    put32(m, seq);
    put32(m, uptime_ms);
    m->count_off = m->len;
    put32(m, 0);
}

/* Opens a length-prefixed structure (tag, length): returns where the length goes. */
static size_t open_tlv(struct gen_sflow *m, uint32_t tag)
{
    put32(m, tag);
    size_t at = m->len;
    put32(m, 0);
    return at;
}

static void close_tlv(struct gen_sflow *m, size_t at)
{
    if (m->overflow)
        return;
    uint32_t n = (uint32_t)(m->len - at - 4);
    uint8_t *p = m->buf + at;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

/* The sampled packet as an Ethernet frame (128 bytes kept); returns the frame's length. */
static int frame_of(const struct gen_flow *f, const struct gen_sflow_opts *o, uint8_t *out,
                    size_t cap)
{
    static uint8_t pkt[9216], inner[9216];
    struct gen_ip g;
    gen_flow_ip(f, f->tcp_flags, f->icmp,
                o->ip_len < sizeof pkt - 100 ? o->ip_len : sizeof pkt - 100, sizeof pkt, &g);
    int n = gen_ip_packet(&g, pkt, sizeof pkt);
    if (n < 0)
        return -1;
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};
    if (o->vlan) {
        l2.vlans[0] = o->vlan;
        l2.n_vlans = 1;
    }
    if (!o->vxlan)
        return gen_frame(&l2, pkt, (size_t)n, out, cap);
    /* VXLAN: 8-byte header (I flag, VNI 100) then the inner Ethernet frame */
    uint8_t *v = inner;
    memset(v, 0, 8);
    v[0] = 0x08;
    v[6] = 100;
    struct gen_l2 l2i = {.linktype = GEN_LT_EN10MB};
    int fl = gen_frame(&l2i, pkt, (size_t)n, v + 8, sizeof inner - 8);
    if (fl < 0)
        return -1;
    struct gen_ip u;
    memset(&u, 0, sizeof u);
    gen_addr4(u.src, 192, 0, 2, 40);
    gen_addr4(u.dst, 192, 0, 2, 14);
    u.proto = 17;
    u.sport = 45833;
    u.dport = 4789;
    u.payload = v;
    u.payload_len = (uint32_t)fl + 8;
    n = gen_ip_packet(&u, pkt, sizeof pkt);
    return n < 0 ? -1 : gen_frame(&l2, pkt, (size_t)n, out, cap);
}

/* The raw packet header record of an Ethernet frame: wirelen its length on the wire, its first
 * caplen bytes at fr, of which 128 are kept as agents keep them. */
static void rec_raw_frame(struct gen_sflow *m, const uint8_t *fr, uint32_t caplen, uint32_t wirelen)
{
    uint32_t keep = caplen < 128 ? caplen : 128;
    size_t at = open_tlv(m, 1);
    put32(m, 1);           /* header protocol: Ethernet */
    put32(m, wirelen + 4); /* frame length with the FCS */
    put32(m, 4);           /* stripped: the FCS */
    put32(m, keep);
    put_bytes(m, fr, keep);
    close_tlv(m, at);
}

static void rec_raw(struct gen_sflow *m, const struct gen_flow *f, const struct gen_sflow_opts *o)
{
    static uint8_t fr[9400];
    int n = frame_of(f, o, fr, sizeof fr);
    if (n < 0) {
        m->overflow = true;
        return;
    }
    rec_raw_frame(m, fr, (uint32_t)n, (uint32_t)n);
}

static void rec_sampled_ip(struct gen_sflow *m, const struct gen_flow *f,
                           const struct gen_sflow_opts *o)
{
    bool v4 = is_v4(f->src);
    size_t at = open_tlv(m, v4 ? 3 : 4);
    put32(m, o->ip_len);
    put32(m, f->proto);
    put_bytes(m, v4 ? f->src + 12 : f->src, v4 ? 4 : 16);
    put_bytes(m, v4 ? f->dst + 12 : f->dst, v4 ? 4 : 16);
    put32(m, f->sport);
    put32(m, f->dport);
    put32(m, f->tcp_flags);
    put32(m, 0);
    close_tlv(m, at);
}

static void rec_gateway(struct gen_sflow *m, const struct gen_sflow_opts *o)
{
    static const uint8_t nh[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    size_t at = open_tlv(m, 1003);
    put_addr(m, nh);
    put32(m, 64500); /* the router's AS */
    put32(m, o->src_as);
    put32(m, o->src_as); /* source peer AS */
    put32(m, 1);         /* one segment */
    put32(m, 2);         /* AS_SEQUENCE */
    put32(m, 1);
    put32(m, o->dst_as);
    put32(m, 0); /* communities */
    put32(m, 100);
    close_tlv(m, at);
}

/* A flow sample's fields up to its record count (nrec records follow); returns where its
 * length goes (close_tlv). */
static size_t sample_open(struct gen_sflow *m, const struct gen_sflow_opts *o, uint32_t nrec)
{
    size_t at = open_tlv(m, o->expanded ? 3 : 1);
    put32(m, ++m->sample_seq);
    if (o->expanded) {
        put32(m, 0);
        put32(m, o->in_if);
    } else {
        put32(m, o->in_if & 0xffffff);
    }
    put32(m, o->rate);
    put32(m, o->pool);
    put32(m, o->drops);
    if (o->expanded) {
        put32(m, 0);
        put32(m, o->in_if);
        put32(m, 0);
        put32(m, o->out_if);
    } else {
        put32(m, o->in_if);
        put32(m, o->out_if & 0x3fffffff);
    }
    put32(m, nrec);
    return at;
}

void gen_sflow_flow(struct gen_sflow *m, const struct gen_flow *f, const struct gen_sflow_opts *o)
{
    size_t at = sample_open(m, o, o->src_as || o->dst_as ? 2 : 1);
    if (o->sampled_ip)
        rec_sampled_ip(m, f, o);
    else
        rec_raw(m, f, o);
    if (o->src_as || o->dst_as)
        rec_gateway(m, o);
    close_tlv(m, at);
    m->samples++;
}

void gen_sflow_frame(struct gen_sflow *m, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                     const struct gen_sflow_opts *o)
{
    size_t at = sample_open(m, o, 1);
    rec_raw_frame(m, frame, caplen, wirelen);
    close_tlv(m, at);
    m->samples++;
}

void gen_sflow_counters(struct gen_sflow *m, const struct gen_sflow_iface *i)
{
    size_t at = open_tlv(m, 2);
    put32(m, ++m->sample_seq);
    put32(m, i->ifindex);
    put32(m, 1);
    size_t r = open_tlv(m, 1);
    put32(m, i->ifindex);
    put32(m, 6); /* ethernetCsmacd */
    put64(m, i->speed);
    put32(m, 1); /* full duplex */
    put32(m, 3); /* admin and oper up */
    put64(m, i->in_octets);
    put32(m, i->in_pkts);
    put32(m, 0);
    put32(m, 0);
    put32(m, 0);
    put32(m, i->in_errors);
    put32(m, 0);
    put64(m, i->out_octets);
    put32(m, i->out_pkts);
    put32(m, 0);
    put32(m, 0);
    put32(m, 0);
    put32(m, i->out_errors);
    put32(m, 0); /* promiscuous */
    close_tlv(m, r);
    close_tlv(m, at);
    m->samples++;
}

int gen_sflow_end(struct gen_sflow *m)
{
    if (m->overflow)
        return -1;
    uint8_t *p = m->buf + m->count_off;
    p[0] = (uint8_t)(m->samples >> 24);
    p[1] = (uint8_t)(m->samples >> 16);
    p[2] = (uint8_t)(m->samples >> 8);
    p[3] = (uint8_t)m->samples;
    return (int)m->len;
}
