/* gen_export.c: NetFlow v5 / v9 / IPFIX datagram builder (see gen_export.h). */
#include "gen_export.h"

#include <string.h>

#define NTP_OFFSET 2208988800ull

void gen_v4(uint8_t out[16], uint32_t a)
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    out[12] = (uint8_t)(a >> 24);
    out[13] = (uint8_t)(a >> 16);
    out[14] = (uint8_t)(a >> 8);
    out[15] = (uint8_t)a;
}

void gen_flow_v4(struct gen_flow *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint8_t proto, uint8_t tcp_flags, uint64_t packets, uint64_t bytes,
                 uint64_t start_ms, uint64_t end_ms)
{
    memset(f, 0, sizeof *f);
    gen_v4(f->src, src);
    gen_v4(f->dst, dst);
    f->sport = sport;
    f->dport = dport;
    f->proto = proto;
    f->tcp_flags = tcp_flags;
    f->packets = packets;
    f->bytes = bytes;
    f->start_ms = start_ms;
    f->end_ms = end_ms;
}

void gen_v6(uint8_t out[16], const uint16_t s[8])
{
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(s[i] >> 8);
        out[2 * i + 1] = (uint8_t)s[i];
    }
}

static void put_be(uint8_t *p, uint64_t v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[len - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* ---- v5 ---- */

int gen_nf5(uint8_t *buf, size_t cap, const struct gen_nf5_hdr *h, const struct gen_flow *f,
            size_t n)
{
    size_t len = 24 + 48 * n;
    if (len > cap || n > 65535)
        return -1;
    memset(buf, 0, len);
    put_be(buf, 5, 2);
    put_be(buf + 2, n, 2);
    put_be(buf + 4, h->uptime_ms, 4);
    put_be(buf + 8, h->unix_ms / 1000, 4);
    put_be(buf + 12, (h->unix_ms % 1000) * 1000000u, 4);
    put_be(buf + 16, h->seq, 4);
    buf[20] = h->engine_type;
    buf[21] = h->engine_id;
    put_be(buf + 22, h->sampling, 2);
    uint64_t boot = h->unix_ms - h->uptime_ms;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + 24 + 48 * i;
        memcpy(p, f[i].src + 12, 4);
        memcpy(p + 4, f[i].dst + 12, 4);
        put_be(p + 12, f[i].in_if, 2);
        put_be(p + 14, f[i].out_if, 2);
        put_be(p + 16, f[i].packets, 4);
        put_be(p + 20, f[i].bytes, 4);
        put_be(p + 24, f[i].start_ms - boot, 4);
        put_be(p + 28, f[i].end_ms - boot, 4);
        put_be(p + 32, f[i].sport, 2);
        put_be(p + 34, f[i].dport, 2);
        p[37] = f[i].tcp_flags;
        p[38] = f[i].proto;
        put_be(p + 40, f[i].src_as, 2);
        put_be(p + 42, f[i].dst_as, 2);
    }
    return (int)len;
}

/* ---- templates ---- */

void gen_tmpl_init(struct gen_tmpl *t, uint16_t id)
{
    memset(t, 0, sizeof *t);
    t->id = id;
}

void gen_tmpl_add(struct gen_tmpl *t, uint16_t ie, uint16_t len, uint32_t pen)
{
    if (t->nfields >= GEN_MAX_FIELDS)
        return;
    t->f[t->nfields++] = (struct gen_field){.ie = ie, .len = len, .pen = pen};
}

void gen_tmpl_flow(struct gen_tmpl *t, uint16_t id, int version, unsigned o)
{
    gen_tmpl_init(t, id);
    uint16_t clen = (o & GEN_T_REDUCED) ? 4 : 8;
    if (o & GEN_T_V6) {
        gen_tmpl_add(t, 27, 16, 0);
        gen_tmpl_add(t, 28, 16, 0);
    } else {
        gen_tmpl_add(t, 8, 4, 0);
        gen_tmpl_add(t, 12, 4, 0);
    }
    gen_tmpl_add(t, 7, 2, 0);
    gen_tmpl_add(t, 11, 2, 0);
    gen_tmpl_add(t, 4, 1, 0);
    gen_tmpl_add(t, 6, 1, 0);
    if (o & GEN_T_ENTERPRISE)
        gen_tmpl_add(t, 1, 8, 32473); /* documentation PEN (RFC 5612): unknown, skipped */
    gen_tmpl_add(t, (o & GEN_T_OUT_COUNTERS) ? 23 : 1, clen, 0);
    gen_tmpl_add(t, (o & GEN_T_OUT_COUNTERS) ? 24 : 2, clen, 0);
    if (o & GEN_T_VARLEN)
        gen_tmpl_add(t, 82, GEN_VARLEN, 0);
    unsigned tm = o & (GEN_T_UPTIME | GEN_T_MS | GEN_T_SEC | GEN_T_US | GEN_T_NS | GEN_T_DELTA);
    if (!tm)
        tm = version == GEN_V9 ? GEN_T_UPTIME : GEN_T_MS;
    if (tm & GEN_T_UPTIME) {
        gen_tmpl_add(t, 22, 4, 0);
        gen_tmpl_add(t, 21, 4, 0);
    }
    if (tm & GEN_T_MS) {
        gen_tmpl_add(t, 152, 8, 0);
        gen_tmpl_add(t, 153, 8, 0);
    }
    if (tm & GEN_T_SEC) {
        gen_tmpl_add(t, 150, 4, 0);
        gen_tmpl_add(t, 151, 4, 0);
    }
    if (tm & GEN_T_US) {
        gen_tmpl_add(t, 154, 8, 0);
        gen_tmpl_add(t, 155, 8, 0);
    }
    if (tm & GEN_T_NS) {
        gen_tmpl_add(t, 156, 8, 0);
        gen_tmpl_add(t, 157, 8, 0);
    }
    if (tm & GEN_T_DELTA) {
        gen_tmpl_add(t, 158, 4, 0);
        gen_tmpl_add(t, 159, 4, 0);
    }
    if (o & GEN_T_SYSINIT)
        gen_tmpl_add(t, 160, 8, 0);
    if (o & GEN_T_AS) {
        gen_tmpl_add(t, 16, 4, 0);
        gen_tmpl_add(t, 17, 4, 0);
    }
    if (o & GEN_T_ICMP)
        gen_tmpl_add(t, (o & GEN_T_V6) ? 139 : 32, 2, 0);
    if (o & GEN_T_SAMPLER48)
        gen_tmpl_add(t, 48, 1, 0);
    if (o & GEN_T_SELECTOR302)
        gen_tmpl_add(t, 302, 4, 0);
    if (o & GEN_T_INLINE34)
        gen_tmpl_add(t, 34, 4, 0);
}

void gen_tmpl_sampling(struct gen_tmpl *t, uint16_t id, int version, unsigned o)
{
    gen_tmpl_init(t, id);
    if (version == GEN_V9) {
        gen_tmpl_add(t, 1, 4, 0); /* scope: system */
        t->nscope = 1;
        if (o & GEN_S_SAMPLER48)
            gen_tmpl_add(t, 48, 2, 0);
        if (o & GEN_S_SELECTOR302)
            gen_tmpl_add(t, 302, 4, 0);
    } else {
        if (o & GEN_S_SAMPLER48)
            gen_tmpl_add(t, 48, 2, 0);
        else if (o & GEN_S_SELECTOR302)
            gen_tmpl_add(t, 302, 4, 0);
        else
            gen_tmpl_add(t, 149, 4, 0); /* observationDomainId */
        t->nscope = 1;
    }
    if (o & GEN_S_INTERVAL) {
        gen_tmpl_add(t, 34, 4, 0);
        gen_tmpl_add(t, 35, 1, 0);
    }
    if (o & GEN_S_RANDOM) {
        gen_tmpl_add(t, 49, 1, 0);
        gen_tmpl_add(t, 50, 4, 0);
    }
    if (o & GEN_S_PKT) {
        gen_tmpl_add(t, 305, 4, 0);
        gen_tmpl_add(t, 306, 4, 0);
    }
    if (o & GEN_S_POP) {
        gen_tmpl_add(t, 309, 4, 0);
        gen_tmpl_add(t, 310, 4, 0);
    }
    if (o & GEN_S_SYSINIT)
        gen_tmpl_add(t, 160, 8, 0);
}

/* ---- message builder ---- */

static uint8_t *room(struct gen_msg *m, size_t n)
{
    if (m->err || m->cap - m->len < n || m->len + n > 65535) {
        m->err = true;
        return NULL;
    }
    uint8_t *p = m->buf + m->len;
    m->len += n;
    return p;
}

static void put(struct gen_msg *m, uint64_t v, size_t n)
{
    uint8_t *p = room(m, n);
    if (p)
        put_be(p, v, n);
}

static void set_fix_len(struct gen_msg *m)
{
    if (!m->err && m->set_off)
        put_be(m->buf + m->set_off + 2, m->len - m->set_off, 2);
}

static void set_open(struct gen_msg *m, uint16_t id, int kind)
{
    m->set_off = m->len;
    put(m, id, 2);
    put(m, 4, 2);
    m->set_kind = kind;
}

void gen_msg_begin(struct gen_msg *m, uint8_t *buf, size_t cap, int version, uint32_t domain,
                   uint32_t seq, uint64_t export_ms, uint32_t uptime_ms)
{
    memset(m, 0, sizeof *m);
    m->buf = buf;
    m->cap = cap;
    m->version = version;
    m->export_ms = export_ms / 1000 * 1000; /* the header carries seconds */
    m->boot_ms = m->export_ms - uptime_ms;
    if (version == GEN_V9) {
        put(m, 9, 2);
        put(m, 0, 2);
        put(m, uptime_ms, 4);
        put(m, export_ms / 1000, 4);
        put(m, seq, 4);
        put(m, domain, 4);
    } else {
        put(m, 10, 2);
        put(m, 0, 2);
        put(m, export_ms / 1000, 4);
        put(m, seq, 4);
        put(m, domain, 4);
    }
}

static void put_field_spec(struct gen_msg *m, const struct gen_field *f)
{
    if (m->version == GEN_IPFIX && f->pen) {
        put(m, f->ie | 0x8000u, 2);
        put(m, f->len, 2);
        put(m, f->pen, 4);
    } else {
        put(m, f->ie, 2);
        put(m, f->len, 2);
    }
}

void gen_add_template(struct gen_msg *m, const struct gen_tmpl *t)
{
    if (m->set_kind != 1)
        set_open(m, m->version == GEN_V9 ? 0 : 2, 1);
    put(m, t->id, 2);
    put(m, t->nfields, 2);
    for (unsigned i = 0; i < t->nfields; i++)
        put_field_spec(m, &t->f[i]);
    m->count++;
    set_fix_len(m);
}

void gen_add_options_template(struct gen_msg *m, const struct gen_tmpl *t)
{
    set_open(m, m->version == GEN_V9 ? 1 : 3, 2);
    put(m, t->id, 2);
    if (m->version == GEN_V9) {
        put(m, t->nscope * 4u, 2);
        put(m, (t->nfields - t->nscope) * 4u, 2);
    } else {
        put(m, t->nfields, 2);
        put(m, t->nscope, 2);
    }
    for (unsigned i = 0; i < t->nfields; i++)
        put_field_spec(m, &t->f[i]);
    if (m->version == GEN_V9)
        while ((m->len - m->set_off) % 4 && !m->err)
            put(m, 0, 1);
    m->count++;
    set_fix_len(m);
}

static uint64_t ntp(uint64_t ms)
{
    uint64_t s = ms / 1000 + NTP_OFFSET;
    return s << 32 | ((ms % 1000) << 32) / 1000;
}

static uint64_t gen_value(const struct gen_msg *m, const struct gen_flow *f, uint16_t ie)
{
    switch (ie) {
    case 1:
    case 23:
    case 85:
        return f->bytes;
    case 2:
    case 24:
    case 86:
        return f->packets;
    case 4:
        return f->proto;
    case 6:
        return f->tcp_flags;
    case 7:
        return f->sport;
    case 11:
        return f->dport;
    case 16:
        return f->src_as;
    case 17:
        return f->dst_as;
    case 10:
        return f->in_if;
    case 14:
        return f->out_if;
    case 32:
    case 139:
        return f->icmp;
    case 22:
        return m->version == GEN_V9 ? f->start_ms - m->boot_ms : f->start_ms - f->sysinit_ms;
    case 21:
        return m->version == GEN_V9 ? f->end_ms - m->boot_ms : f->end_ms - f->sysinit_ms;
    case 150:
        return f->start_ms / 1000;
    case 151:
        return f->end_ms / 1000;
    case 152:
        return f->start_ms;
    case 153:
        return f->end_ms;
    case 154:
    case 156:
        return ntp(f->start_ms);
    case 155:
    case 157:
        return ntp(f->end_ms);
    case 158:
        return (m->export_ms - f->start_ms) * 1000;
    case 159:
        return (m->export_ms - f->end_ms) * 1000;
    case 160:
        return f->sysinit_ms;
    case 34:
    case 50:
        return f->sampling_interval;
    case 35:
    case 49:
        return f->sampling_algo;
    case 48:
    case 302:
        return f->sampler_id;
    case 305:
        return f->pkt_interval;
    case 306:
        return f->pkt_space;
    case 309:
        return f->sampling_size;
    case 310:
        return f->sampling_population;
    case 239:
        return f->biflow_dir;
    default:
        return 0;
    }
}

static void put_value(struct gen_msg *m, const struct gen_tmpl *t, unsigned i,
                      const struct gen_flow *f)
{
    const struct gen_field *fl = &t->f[i];
    if (fl->len == GEN_VARLEN) {
        if (f->varlen_len >= 255) {
            put(m, 255, 1);
            put(m, f->varlen_len, 2);
        } else {
            put(m, f->varlen_len, 1);
        }
        uint8_t *p = room(m, f->varlen_len);
        if (p)
            memset(p, 'v', f->varlen_len);
        return;
    }
    uint8_t *p = room(m, fl->len);
    if (!p)
        return;
    memset(p, 0, fl->len);
    if (m->version == GEN_V9 && i < t->nscope)
        return;
    if (fl->pen) {
        memset(p, 0xEE, fl->len);
        return;
    }
    if ((fl->ie == 8 || fl->ie == 12) && fl->len == 4) {
        memcpy(p, (fl->ie == 8 ? f->src : f->dst) + 12, 4);
        return;
    }
    if ((fl->ie == 27 || fl->ie == 28) && fl->len == 16) {
        memcpy(p, fl->ie == 27 ? f->src : f->dst, 16);
        return;
    }
    put_be(p, gen_value(m, f, fl->ie), fl->len < 8 ? fl->len : 8);
}

void gen_add_data(struct gen_msg *m, const struct gen_tmpl *t, const struct gen_flow *f, size_t n)
{
    set_open(m, t->id, 2);
    for (size_t r = 0; r < n; r++) {
        for (unsigned i = 0; i < t->nfields; i++)
            put_value(m, t, i, &f[r]);
        m->count++;
    }
    set_fix_len(m);
}

void gen_add_withdrawal(struct gen_msg *m, uint16_t tid, bool options)
{
    set_open(m, options ? 3 : 2, 2);
    put(m, tid, 2);
    put(m, 0, 2);
    set_fix_len(m);
}

void gen_add_raw_set(struct gen_msg *m, uint16_t set_id, const uint8_t *body, size_t len)
{
    set_open(m, set_id, 2);
    uint8_t *p = room(m, len);
    if (p && len)
        memcpy(p, body, len);
    set_fix_len(m);
}

void gen_add_padding(struct gen_msg *m, size_t n)
{
    uint8_t *p = room(m, n);
    if (p)
        memset(p, 0, n);
    set_fix_len(m);
    m->set_kind = 2;
}

int gen_msg_end(struct gen_msg *m)
{
    if (m->err)
        return -1;
    if (m->version == GEN_V9)
        put_be(m->buf + 2, m->count, 2);
    else
        put_be(m->buf + 2, m->len, 2);
    return (int)m->len;
}

void gen_flow_fill(struct gen_flow *f, uint32_t seed, uint32_t i, bool v6, uint64_t base_ms)
{
    memset(f, 0, sizeof *f);
    uint32_t x = seed * 2654435761u + i * 40503u;
    if (v6) {
        uint16_t s[8] = {0x2001, 0xdb8, 0, (uint16_t)seed, 0, 0, (uint16_t)(i >> 16), (uint16_t)i};
        uint16_t d[8] = {0x2001, 0xdb8, 1, 0, 0, 0, 0, (uint16_t)(x & 0xffff)};
        gen_v6(f->src, s);
        gen_v6(f->dst, d);
    } else {
        gen_v4(f->src, 0x0a000000u | ((seed & 0xff) << 16) | (i & 0xffff));
        gen_v4(f->dst, 0xc0000200u | (x & 0xff));
    }
    f->sport = (uint16_t)(1024 + (x % 60000));
    f->dport = (uint16_t)(i % 3 == 0 ? 443 : i % 3 == 1 ? 25 : 53);
    f->proto = i % 3 == 2 ? 17 : 6;
    f->tcp_flags = f->proto == 6 ? 0x1b : 0;
    f->packets = 1 + i % 100;
    f->bytes = f->packets * (40 + x % 1400);
    f->start_ms = base_ms - 60000 + (i % 1000) * 10;
    f->end_ms = f->start_ms + (x % 50000);
    f->src_as = 64512 + seed % 1000;
    f->dst_as = 65000 + i % 500;
}
