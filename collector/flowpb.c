/* flowpb.c: transitwatch FlowRecord and GoFlow2 FlowMessage (see flowpb.h, proto/flow.proto). */
#include "flowpb.h"

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "pbwire.h"

enum { /* FlowRecord field numbers (proto/flow.proto) */
       R_VERSION = 1,
       R_SRC,
       R_DST,
       R_BYTES,
       R_PACKETS,
       R_FIRST,
       R_LAST,
       R_SAMPLING,
       R_EXPORTER,
       R_SPORT,
       R_DPORT,
       R_PROTO,
       R_TCP_FLAGS,
       R_FLAGS,
       R_SRC_AS,
       R_DST_AS,
       R_IN_IF,
       R_PART,
       R_WINDOW,
       R_WATERMARK,
       R_EXPORTER_ADDR,
       R_SEQ,
};

/* An address as 4 bytes when it is IPv4-mapped and the record is not IPv6, else 16. */
static void put_addr(struct pb_writer *w, uint32_t field, const uint8_t a[16], bool v6)
{
    if (!v6 && addr_is_v4(a))
        pb_put_bytes(w, field, a + 12, 4, false);
    else
        pb_put_bytes(w, field, a, 16, false);
}

/* 4 or 16 bytes into the record's form; false for another length. */
static bool get_addr(const struct pb_field *fd, uint8_t out[16])
{
    if (fd->wire != PB_LEN)
        return false;
    if (fd->len == 16) {
        memcpy(out, fd->data, 16);
        return true;
    }
    if (fd->len != 4)
        return false;
    addr_from_v4_bytes(out, fd->data);
    return true;
}

int flowpb_encode(const struct flow_rec *f, const struct flowpb_meta *m, uint8_t *buf, size_t cap)
{
    struct pb_writer w;
    pb_writer_init(&w, buf, cap);
    pb_put_u64(&w, R_VERSION, FLOWPB_VERSION);
    if (m->part == FLOWPB_PART_TICK) { /* no record */
        pb_put_u64(&w, R_PART, m->part);
        pb_put_u64(&w, R_WINDOW, m->window_start_ms);
        pb_put_u64(&w, R_WATERMARK, m->watermark_ms);
        return w.err ? -ENOSPC : (int)(w.p - buf);
    }
    bool v6 = f->flags & FLOW_F_V6;
    put_addr(&w, R_SRC, f->src, v6);
    put_addr(&w, R_DST, f->dst, v6);
    pb_put_u64(&w, R_BYTES, f->bytes);
    pb_put_u64(&w, R_PACKETS, f->packets);
    pb_put_u64(&w, R_FIRST, f->first_ms);
    pb_put_u64(&w, R_LAST, f->last_ms);
    pb_put_u64(&w, R_SAMPLING, f->sampling);
    pb_put_u64(&w, R_EXPORTER, f->exporter);
    pb_put_u64(&w, R_SPORT, f->sport);
    pb_put_u64(&w, R_DPORT, f->dport);
    pb_put_u64(&w, R_PROTO, f->proto);
    pb_put_u64(&w, R_TCP_FLAGS, f->tcp_flags);
    pb_put_u64(&w, R_FLAGS, f->flags);
    pb_put_u64(&w, R_SRC_AS, f->src_as);
    pb_put_u64(&w, R_DST_AS, f->dst_as);
    pb_put_u64(&w, R_IN_IF, f->in_if);
    pb_put_u64(&w, R_PART, m->part);
    pb_put_u64(&w, R_WINDOW, m->window_start_ms);
    pb_put_u64(&w, R_WATERMARK, m->watermark_ms);
    if (m->has_exporter)
        put_addr(&w, R_EXPORTER_ADDR, m->exporter, false);
    if (m->seq)
        pb_put_u64(&w, R_SEQ, m->seq);
    return w.err ? -ENOSPC : (int)(w.p - buf);
}

/* A varint field's value if it fits max, else false. */
static bool get_uint(const struct pb_field *fd, uint64_t max, uint64_t *out)
{
    if (fd->wire != PB_VARINT || fd->v > max)
        return false;
    *out = fd->v;
    return true;
}

/* One FlowRecord field into f/m; false: malformed. */
static bool record_field(const struct pb_field *fd, struct flow_rec *f, struct flowpb_meta *m,
                         uint64_t *version, unsigned *have)
{
    uint64_t v = 0;
    bool ok = true;
    switch (fd->num) {
    case R_SRC:
        *have |= 1;
        return get_addr(fd, f->src);
    case R_DST:
        *have |= 2;
        return get_addr(fd, f->dst);
    case R_VERSION:
        return get_uint(fd, UINT32_MAX, version);
    case R_BYTES:
        return get_uint(fd, UINT64_MAX, &f->bytes);
    case R_PACKETS:
        return get_uint(fd, UINT64_MAX, &f->packets);
    case R_FIRST:
        return get_uint(fd, UINT64_MAX, &f->first_ms);
    case R_LAST:
        return get_uint(fd, UINT64_MAX, &f->last_ms);
    case R_WINDOW:
        return get_uint(fd, UINT64_MAX, &m->window_start_ms);
    case R_WATERMARK:
        return get_uint(fd, UINT64_MAX, &m->watermark_ms);
    case R_SEQ:
        return get_uint(fd, UINT64_MAX, &m->seq);
    case R_EXPORTER_ADDR:
        m->has_exporter = true;
        return get_addr(fd, m->exporter);
    case R_SAMPLING:
        ok = get_uint(fd, UINT32_MAX, &v), f->sampling = (uint32_t)v;
        break;
    case R_EXPORTER:
        ok = get_uint(fd, UINT32_MAX, &v), f->exporter = (uint32_t)v;
        break;
    case R_SRC_AS:
        ok = get_uint(fd, UINT32_MAX, &v), f->src_as = (uint32_t)v;
        break;
    case R_DST_AS:
        ok = get_uint(fd, UINT32_MAX, &v), f->dst_as = (uint32_t)v;
        break;
    case R_IN_IF:
        ok = get_uint(fd, UINT32_MAX, &v), f->in_if = (uint32_t)v;
        break;
    case R_SPORT:
        ok = get_uint(fd, UINT16_MAX, &v), f->sport = (uint16_t)v;
        break;
    case R_DPORT:
        ok = get_uint(fd, UINT16_MAX, &v), f->dport = (uint16_t)v;
        break;
    case R_PROTO:
        ok = get_uint(fd, UINT8_MAX, &v), f->proto = (uint8_t)v;
        break;
    case R_TCP_FLAGS:
        ok = get_uint(fd, UINT8_MAX, &v), f->tcp_flags = (uint8_t)v;
        break;
    case R_FLAGS:
        ok = get_uint(fd, UINT8_MAX, &v), f->flags = (uint8_t)v;
        break;
    case R_PART:
        ok = get_uint(fd, FLOWPB_PART_TICK, &v), m->part = (uint32_t)v;
        break;
    default:
        break; /* a field of a later minor addition: skipped */
    }
    return ok;
}

int flowpb_decode(const uint8_t *buf, size_t len, struct flow_rec *f, struct flowpb_meta *m)
{
    memset(f, 0, sizeof *f);
    memset(m, 0, sizeof *m);
    const uint8_t *p = buf, *end = buf + len;
    struct pb_field fd;
    uint64_t version = 0;
    unsigned have = 0;
    int rc;
    while ((rc = pb_next(&p, end, &fd)) == 1)
        if (!record_field(&fd, f, m, &version, &have))
            return -EBADMSG;
    if (rc < 0 || version == 0 || (have != 3 && m->part != FLOWPB_PART_TICK))
        return -EBADMSG;
    if (version > FLOWPB_VERSION)
        return -EPROTONOSUPPORT;
    if (f->last_ms < f->first_ms)
        return -EBADMSG;
    return 0;
}

/* ---- GoFlow2 ---- */

enum { /* FlowMessage field numbers (goflow2 pb/flow.proto) */
       G_TYPE = 1,
       G_SAMPLING_RATE = 3,
       G_SRC_ADDR = 6,
       G_DST_ADDR = 7,
       G_BYTES = 9,
       G_PACKETS = 10,
       G_SAMPLER_ADDRESS = 11,
       G_SRC_AS = 14,
       G_DST_AS = 15,
       G_IN_IF = 18,
       G_PROTO = 20,
       G_SRC_PORT = 21,
       G_DST_PORT = 22,
       G_TCP_FLAGS = 26,
       G_ETYPE = 30,
       G_ICMP_TYPE = 31,
       G_ICMP_CODE = 32,
       G_TIME_RECEIVED_NS = 110,
       G_TIME_FLOW_START_NS = 111,
       G_TIME_FLOW_END_NS = 112,
};

enum { GOFLOW2_TYPE_SFLOW_5 = 1, GOFLOW2_TYPE_IPFIX = 4 }; /* FlowMessage.FlowType */

struct gf_msg {
    uint64_t type, sampling, bytes, packets, received, start, end;
    uint64_t sport, dport, proto, tcp_flags, icmp_type, icmp_code, src_as, dst_as, in_if;
    bool src6, dst6;
    unsigned have;
};

static bool gf_field(const struct pb_field *fd, struct flow_rec *f, struct gf_msg *g)
{
    uint64_t *slot = NULL;
    switch (fd->num) {
    case G_SRC_ADDR:
        g->have |= 1;
        g->src6 = fd->len == 16;
        return get_addr(fd, f->src);
    case G_DST_ADDR:
        g->have |= 2;
        g->dst6 = fd->len == 16;
        return get_addr(fd, f->dst);
    case G_TYPE:
        slot = &g->type;
        break;
    case G_SAMPLING_RATE:
        slot = &g->sampling;
        break;
    case G_BYTES:
        slot = &g->bytes;
        break;
    case G_PACKETS:
        slot = &g->packets;
        break;
    case G_TIME_RECEIVED_NS:
        slot = &g->received;
        break;
    case G_TIME_FLOW_START_NS:
        slot = &g->start;
        break;
    case G_TIME_FLOW_END_NS:
        slot = &g->end;
        break;
    case G_SRC_PORT:
        slot = &g->sport;
        break;
    case G_DST_PORT:
        slot = &g->dport;
        break;
    case G_PROTO:
        slot = &g->proto;
        break;
    case G_TCP_FLAGS:
        slot = &g->tcp_flags;
        break;
    case G_ICMP_TYPE:
        slot = &g->icmp_type;
        break;
    case G_ICMP_CODE:
        slot = &g->icmp_code;
        break;
    case G_SRC_AS:
        slot = &g->src_as;
        break;
    case G_DST_AS:
        slot = &g->dst_as;
        break;
    case G_IN_IF:
        slot = &g->in_if;
        break;
    default:
        return true; /* every other field (MACs, VLANs, MPLS, next hop...) is not used */
    }
    if (fd->wire != PB_VARINT)
        return false;
    *slot = fd->v;
    return true;
}

int goflow2_decode(const uint8_t *buf, size_t len, struct flow_rec *f)
{
    memset(f, 0, sizeof *f);
    struct gf_msg g;
    memset(&g, 0, sizeof g);
    const uint8_t *p = buf, *end = buf + len;
    struct pb_field fd;
    int rc;
    while ((rc = pb_next(&p, end, &fd)) == 1)
        if (!gf_field(&fd, f, &g))
            return -EBADMSG;
    if (rc < 0 || g.have != 3 || g.src6 != g.dst6 || g.sport > UINT16_MAX || g.dport > UINT16_MAX ||
        g.proto > UINT8_MAX || g.sampling > UINT32_MAX)
        return -EBADMSG;
    uint64_t mult = g.sampling ? g.sampling : 1;
    f->sampling = (uint32_t)mult;
    if (!g.sampling)
        f->flags |= FLOW_F_SAMPLING_UNKNOWN;
    if (g.src6)
        f->flags |= FLOW_F_V6;
    if (g.type == GOFLOW2_TYPE_SFLOW_5) /* GoFlow2 makes one message per sFlow sample */
        f->flags |= FLOW_F_PACKET;
    f->bytes = g.bytes > UINT64_MAX / mult ? UINT64_MAX : g.bytes * mult;
    f->packets = g.packets > UINT64_MAX / mult ? UINT64_MAX : g.packets * mult;
    uint64_t t0 = g.start ? g.start : g.received, t1 = g.end ? g.end : t0;
    f->first_ms = t0 / 1000000;
    f->last_ms = t1 / 1000000;
    if (f->last_ms < f->first_ms)
        f->last_ms = f->first_ms;
    f->proto = (uint8_t)g.proto;
    f->sport = (uint16_t)g.sport;
    f->dport = (uint16_t)g.dport;
    if (f->proto == 1 || f->proto == 58) /* ICMP: the record's form is type << 8 | code */
        f->dport = (uint16_t)((g.icmp_type & 0xff) << 8 | (g.icmp_code & 0xff));
    f->tcp_flags = (uint8_t)g.tcp_flags;
    f->src_as = (uint32_t)g.src_as;
    f->dst_as = (uint32_t)g.dst_as;
    f->in_if = (uint32_t)g.in_if;
    return 0;
}

int goflow2_encode(const struct flow_rec *f, const uint8_t sampler[16], uint8_t *buf, size_t cap)
{
    struct pb_writer w;
    pb_writer_init(&w, buf, cap);
    bool v6 = f->flags & FLOW_F_V6;
    uint64_t rate = f->flags & FLOW_F_SAMPLING_UNKNOWN ? 0 : f->sampling;
    uint64_t div = rate ? rate : 1;
    pb_put_u64(&w, G_TYPE, f->flags & FLOW_F_PACKET ? GOFLOW2_TYPE_SFLOW_5 : GOFLOW2_TYPE_IPFIX);
    pb_put_u64(&w, G_SAMPLING_RATE, rate);
    put_addr(&w, G_SRC_ADDR, f->src, v6);
    put_addr(&w, G_DST_ADDR, f->dst, v6);
    pb_put_u64(&w, G_BYTES, f->bytes / div);
    pb_put_u64(&w, G_PACKETS, f->packets / div);
    if (sampler)
        put_addr(&w, G_SAMPLER_ADDRESS, sampler, false);
    pb_put_u64(&w, G_SRC_AS, f->src_as);
    pb_put_u64(&w, G_DST_AS, f->dst_as);
    pb_put_u64(&w, G_IN_IF, f->in_if);
    pb_put_u64(&w, G_PROTO, f->proto);
    bool icmp = f->proto == 1 || f->proto == 58;
    pb_put_u64(&w, G_SRC_PORT, icmp ? 0 : f->sport);
    pb_put_u64(&w, G_DST_PORT, icmp ? 0 : f->dport);
    pb_put_u64(&w, G_TCP_FLAGS, f->tcp_flags);
    pb_put_u64(&w, G_ETYPE, v6 ? 0x86dd : 0x0800);
    if (icmp) {
        pb_put_u64(&w, G_ICMP_TYPE, f->dport >> 8);
        pb_put_u64(&w, G_ICMP_CODE, f->dport & 0xff);
    }
    pb_put_u64(&w, G_TIME_RECEIVED_NS, f->last_ms * 1000000);
    pb_put_u64(&w, G_TIME_FLOW_START_NS, f->first_ms * 1000000);
    pb_put_u64(&w, G_TIME_FLOW_END_NS, f->last_ms * 1000000);
    return w.err ? -ENOSPC : (int)(w.p - buf);
}

int goflow2_next(const uint8_t **p, const uint8_t *end, const uint8_t **msg, size_t *len)
{
    if (*p >= end)
        return 0;
    const uint8_t *q = *p;
    uint64_t n;
    if (pb_get_varint(&q, end, &n) < 0 || n > (uint64_t)(end - q))
        return -EBADMSG;
    *msg = q;
    *len = (size_t)n;
    *p = q + n;
    return 1;
}

void goflow2_unframe(const uint8_t *buf, size_t len, const uint8_t **msg, size_t *msglen)
{
    const uint8_t *q = buf;
    uint64_t n;
    if (pb_get_varint(&q, buf + len, &n) == 0 && n == (uint64_t)(buf + len - q)) {
        *msg = q;
        *msglen = (size_t)n;
        return;
    }
    *msg = buf;
    *msglen = len;
}
