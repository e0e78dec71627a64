/* gen_pcap.c: packet builders and capture writers for tests and benchmarks. See gen_pcap.h. */
#include "gen_pcap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GEN_BUF (1u << 20)
#define GEN_MAX_IP 65535u
#define GEN_SCRATCH (GEN_MAX_IP + 256u)

struct gen_pcap {
    struct gen_pcap_opts o;
    FILE *fp;
    gzFile gz;
    bool mem_mode;
    uint8_t *mem; /* memory mode output */
    size_t mem_len, mem_cap;
    uint8_t *buf; /* GEN_BUF staging buffer */
    size_t used;
    bool failed;
    uint16_t next_id;
    uint8_t *ipbuf;    /* GEN_SCRATCH */
    uint8_t *framebuf; /* GEN_SCRATCH */
    uint64_t ts_cur;   /* for the fragment emitter */
};

/* ---- byte helpers ---- */

static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static void w16(const struct gen_pcap *w, uint8_t *p, uint16_t v)
{
    if (w->o.big_endian)
        be16(p, v);
    else
        le16(p, v);
}
static void w32(const struct gen_pcap *w, uint8_t *p, uint32_t v)
{
    if (w->o.big_endian)
        be32(p, v);
    else
        le32(p, v);
}

void gen_addr4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    out[12] = a;
    out[13] = b;
    out[14] = c;
    out[15] = d;
}

int gen_addr(uint8_t out[16], const char *text)
{
    uint8_t v4[4];

    if (inet_pton(AF_INET, text, v4) == 1) {
        gen_addr4(out, v4[0], v4[1], v4[2], v4[3]);
        return 0;
    }
    return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

static bool is_mapped(const uint8_t a[16])
{
    static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, pfx, 12) == 0;
}

/* ---- output ---- */

static int flush_buf(struct gen_pcap *w)
{
    if (w->used == 0 || w->failed)
        return w->failed ? -1 : 0;
    if (w->mem_mode) {
        if (w->mem_len + w->used > w->mem_cap) {
            size_t nc = w->mem_cap ? w->mem_cap : GEN_BUF;
            uint8_t *nm;
            while (nc < w->mem_len + w->used)
                nc *= 2;
            nm = realloc(w->mem, nc);
            if (!nm) {
                w->failed = true;
                return -1;
            }
            w->mem = nm;
            w->mem_cap = nc;
        }
        memcpy(w->mem + w->mem_len, w->buf, w->used);
        w->mem_len += w->used;
    } else if (w->gz) {
        if (gzwrite(w->gz, w->buf, (unsigned)w->used) != (int)w->used)
            w->failed = true;
    } else if (fwrite(w->buf, 1, w->used, w->fp) != w->used) {
        w->failed = true;
    }
    w->used = 0;
    return w->failed ? -1 : 0;
}

static uint8_t *reserve(struct gen_pcap *w, size_t n)
{
    uint8_t *p;

    if (w->used + n > GEN_BUF && flush_buf(w) < 0)
        return NULL;
    if (n > GEN_BUF)
        return NULL;
    p = w->buf + w->used;
    w->used += n;
    return p;
}

static uint32_t snaplen_of(const struct gen_pcap *w)
{
    return w->o.snaplen ? w->o.snaplen : 262144;
}

static int write_file_header(struct gen_pcap *w)
{
    uint8_t *p;

    if (!w->o.pcapng) {
        p = reserve(w, 24);
        if (!p)
            return -1;
        w32(w, p, w->o.nano ? 0xa1b23c4du : 0xa1b2c3d4u);
        w16(w, p + 4, 2);
        w16(w, p + 6, 4);
        w32(w, p + 8, 0);
        w32(w, p + 12, 0);
        w32(w, p + 16, snaplen_of(w));
        w32(w, p + 20, (uint32_t)w->o.linktype);
        return 0;
    }
    /* SHB, 28 bytes, no options */
    p = reserve(w, 28);
    if (!p)
        return -1;
    w32(w, p, 0x0a0d0d0au);
    w32(w, p + 4, 28);
    w32(w, p + 8, 0x1a2b3c4du);
    w16(w, p + 12, 1);
    w16(w, p + 14, 0);
    memset(p + 16, 0xff, 8); /* section length unknown */
    w32(w, p + 24, 28);
    /* IDB: 20 bytes + if_tsresol option (8) + opt_endofopt (4) */
    p = reserve(w, 32);
    if (!p)
        return -1;
    w32(w, p, 1);
    w32(w, p + 4, 32);
    w16(w, p + 8, (uint16_t)w->o.linktype);
    w16(w, p + 10, 0);
    w32(w, p + 12, snaplen_of(w));
    w16(w, p + 16, 9); /* if_tsresol */
    w16(w, p + 18, 1);
    p[20] = w->o.nano ? 9 : 6;
    p[21] = p[22] = p[23] = 0;
    w16(w, p + 24, 0); /* opt_endofopt */
    w16(w, p + 26, 0);
    w32(w, p + 28, 32);
    return 0;
}

static struct gen_pcap *writer_new(const struct gen_pcap_opts *o)
{
    struct gen_pcap *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->o = *o;
    w->next_id = 1;
    w->buf = malloc(GEN_BUF);
    w->ipbuf = malloc(GEN_SCRATCH);
    w->framebuf = malloc(GEN_SCRATCH);
    if (!w->buf || !w->ipbuf || !w->framebuf) {
        free(w->buf);
        free(w->ipbuf);
        free(w->framebuf);
        free(w);
        return NULL;
    }
    return w;
}

static void writer_free(struct gen_pcap *w)
{
    free(w->buf);
    free(w->ipbuf);
    free(w->framebuf);
    free(w->mem);
    free(w);
}

int gen_pcap_open(const char *path, const struct gen_pcap_opts *o, struct gen_pcap **out)
{
    struct gen_pcap *w = writer_new(o);

    *out = NULL;
    if (!w)
        return -1;
    if (o->gzip)
        w->gz = gzopen(path, "wb1");
    else
        w->fp = fopen(path, "wb");
    if (!w->gz && !w->fp) {
        writer_free(w);
        return -1;
    }
    if (write_file_header(w) < 0) {
        gen_pcap_close(w);
        return -1;
    }
    *out = w;
    return 0;
}

int gen_pcap_open_mem(const struct gen_pcap_opts *o, struct gen_pcap **out)
{
    struct gen_pcap *w = writer_new(o);

    *out = NULL;
    if (!w)
        return -1;
    w->mem_mode = true;
    if (write_file_header(w) < 0) {
        writer_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

int gen_pcap_write_ex(struct gen_pcap *w, uint64_t ts_ns, const uint8_t *frame, uint32_t caplen,
                      uint32_t wirelen)
{
    uint64_t sec = ts_ns / 1000000000u, ns = ts_ns % 1000000000u;
    uint8_t *p;

    if (!w->o.pcapng) {
        p = reserve(w, 16 + (size_t)caplen);
        if (!p)
            return -1;
        w32(w, p, (uint32_t)sec);
        w32(w, p + 4, (uint32_t)(w->o.nano ? ns : ns / 1000u));
        w32(w, p + 8, caplen);
        w32(w, p + 12, wirelen);
        memcpy(p + 16, frame, caplen);
        return 0;
    } else {
        uint32_t pad = (4 - (caplen & 3)) & 3;
        uint32_t tot = 32 + caplen + pad;
        uint64_t t = w->o.nano ? ts_ns : ts_ns / 1000u;
        p = reserve(w, tot);
        if (!p)
            return -1;
        w32(w, p, 6);
        w32(w, p + 4, tot);
        w32(w, p + 8, 0);
        w32(w, p + 12, (uint32_t)(t >> 32));
        w32(w, p + 16, (uint32_t)t);
        w32(w, p + 20, caplen);
        w32(w, p + 24, wirelen);
        memcpy(p + 28, frame, caplen);
        memset(p + 28 + caplen, 0, pad);
        w32(w, p + tot - 4, tot);
        return 0;
    }
}

int gen_pcap_write(struct gen_pcap *w, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
    uint32_t snap = snaplen_of(w);
    return gen_pcap_write_ex(w, ts_ns, frame, len < snap ? len : snap, len);
}

int gen_pcap_write_ip(struct gen_pcap *w, uint64_t ts_ns, const uint8_t *ip, uint32_t len)
{
    struct gen_l2 l2;
    int n;

    memset(&l2, 0, sizeof(l2));
    l2.linktype = w->o.linktype;
    n = gen_frame(&l2, ip, len, w->framebuf, GEN_SCRATCH);
    if (n < 0)
        return -1;
    return gen_pcap_write(w, ts_ns, w->framebuf, (uint32_t)n);
}

static int emit_frag(void *arg, const uint8_t *frag, size_t len)
{
    struct gen_pcap *w = arg;
    return gen_pcap_write_ip(w, w->ts_cur, frag, (uint32_t)len);
}

int gen_pcap_write_udp(struct gen_pcap *w, uint64_t ts_ns, const uint8_t src[16], uint16_t sport,
                       const uint8_t dst[16], uint16_t dport, const uint8_t *payload, size_t len)
{
    struct gen_ip g;
    int n;

    if (len > GEN_MAX_IP)
        return -1;
    memset(&g, 0, sizeof(g));
    memcpy(g.src, src, 16);
    memcpy(g.dst, dst, 16);
    g.proto = 17;
    g.sport = sport;
    g.dport = dport;
    g.ip_id = w->next_id++;
    g.payload = payload;
    g.payload_len = (uint32_t)len;
    n = gen_ip_packet(&g, w->ipbuf, GEN_SCRATCH);
    if (n < 0)
        return -1;
    if (w->o.mtu && (uint32_t)n > w->o.mtu) {
        w->ts_cur = ts_ns;
        return gen_ip_fragment(w->ipbuf, (size_t)n, w->o.mtu, g.ip_id, emit_frag, w);
    }
    return gen_pcap_write_ip(w, ts_ns, w->ipbuf, (uint32_t)n) < 0 ? -1 : 1;
}

int gen_pcap_close(struct gen_pcap *w)
{
    int rc;

    if (!w)
        return 0;
    rc = flush_buf(w);
    if (w->gz && gzclose(w->gz) != Z_OK)
        rc = -1;
    if (w->fp && fclose(w->fp) != 0)
        rc = -1;
    writer_free(w);
    return rc;
}

int gen_pcap_close_mem(struct gen_pcap *w, uint8_t **data, size_t *len)
{
    int rc = flush_buf(w);

    *data = NULL;
    *len = 0;
    if (rc == 0 && w->o.gzip) {
        z_stream zs;
        uint8_t *z;
        size_t cap;
        memset(&zs, 0, sizeof(zs));
        if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            writer_free(w);
            return -1;
        }
        cap = deflateBound(&zs, (uLong)w->mem_len) + 64;
        z = malloc(cap);
        if (!z) {
            deflateEnd(&zs);
            writer_free(w);
            return -1;
        }
        zs.next_in = w->mem;
        zs.avail_in = (uInt)w->mem_len;
        zs.next_out = z;
        zs.avail_out = (uInt)cap;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
            deflateEnd(&zs);
            free(z);
            writer_free(w);
            return -1;
        }
        *len = zs.total_out;
        *data = z;
        deflateEnd(&zs);
    } else if (rc == 0) {
        *data = w->mem;
        *len = w->mem_len;
        w->mem = NULL;
    }
    writer_free(w);
    return rc;
}

/* ---- packets ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static size_t l4_hdr_len(uint8_t proto)
{
    switch (proto) {
    case 6:
        return 20;
    case 17:
        return 8;
    case 1:
    case 58:
        return 8;
    default:
        return 0;
    }
}

/* Fill the transport header at p (l4len bytes incl. payload already copied after it). */
static void fill_l4(const struct gen_ip *g, uint8_t *p, size_t l4len, bool v6, const uint8_t *ip)
{
    uint32_t sum = 0;
    uint8_t *ck = NULL;

    switch (g->proto) {
    case 6:
        be16(p, g->sport);
        be16(p + 2, g->dport);
        be32(p + 4, 1000);
        be32(p + 8, (g->tcp_flags & 0x10) ? 2000 : 0);
        p[12] = 5 << 4;
        p[13] = g->tcp_flags;
        be16(p + 14, 65535);
        be16(p + 16, 0);
        be16(p + 18, 0);
        ck = p + 16;
        break;
    case 17:
        be16(p, g->sport);
        be16(p + 2, g->dport);
        be16(p + 4, (uint16_t)l4len);
        be16(p + 6, 0);
        ck = p + 6;
        break;
    case 1:
    case 58:
        p[0] = g->icmp_type;
        p[1] = g->icmp_code;
        be16(p + 2, 0);
        be16(p + 4, 0x1234);
        be16(p + 6, 1);
        ck = p + 2;
        break;
    default:
        return;
    }
    if (!(g->proto == 1)) { /* pseudo-header (ICMPv4 has none) */
        if (v6) {
            uint8_t ph[8] = {0};
            sum = csum_add(sum, ip + 8, 32);
            be32(ph, (uint32_t)l4len);
            ph[7] = g->proto;
            sum = csum_add(sum, ph, 8);
        } else {
            uint8_t ph[4] = {0, g->proto, 0, 0};
            sum = csum_add(sum, ip + 12, 8);
            be16(ph + 2, (uint16_t)l4len);
            sum = csum_add(sum, ph, 4);
        }
    }
    sum = csum_add(sum, p, l4len);
    {
        uint16_t c = csum_fold(sum);
        if (c == 0 && g->proto == 17)
            c = 0xffff;
        be16(ck, c);
    }
}

static void v4_header_csum(uint8_t *ip, size_t hl)
{
    be16(ip + 10, 0);
    be16(ip + 10, csum_fold(csum_add(0, ip, hl)));
}

int gen_ip_packet(const struct gen_ip *g, uint8_t *buf, size_t cap)
{
    bool v6 = !(is_mapped(g->src) && is_mapped(g->dst));
    size_t l4h = l4_hdr_len(g->proto), l4len = l4h + g->payload_len, hl, tot, i;
    uint8_t *l4;

    if (g->v4_opt_words > 10 || g->n_v6_ext > 8)
        return -1;
    if (!v6) {
        hl = 20 + (size_t)g->v4_opt_words * 4;
        tot = hl + l4len;
        if (tot > GEN_MAX_IP || tot > cap)
            return -1;
        buf[0] = (uint8_t)(0x40 | (hl / 4));
        buf[1] = g->tos;
        be16(buf + 2, (uint16_t)tot);
        be16(buf + 4, g->ip_id);
        be16(buf + 6, 0);
        buf[8] = g->ttl ? g->ttl : 64;
        buf[9] = g->proto;
        memcpy(buf + 12, g->src + 12, 4);
        memcpy(buf + 16, g->dst + 12, 4);
        memset(buf + 20, 1, hl - 20); /* NOP options */
        v4_header_csum(buf, hl);
    } else {
        size_t ext = 0;
        uint8_t *e;
        for (i = 0; i < g->n_v6_ext; i++)
            ext += g->v6_ext[i] == 51 ? 16 : 8;
        hl = 40 + ext;
        tot = hl + l4len;
        if (l4len + ext > GEN_MAX_IP || tot > cap)
            return -1;
        be32(buf, 0x60000000u | (uint32_t)g->tos << 20);
        be16(buf + 4, (uint16_t)(tot - 40));
        buf[6] = g->n_v6_ext ? g->v6_ext[0] : g->proto;
        buf[7] = g->ttl ? g->ttl : 64;
        memcpy(buf + 8, g->src, 16);
        memcpy(buf + 24, g->dst, 16);
        e = buf + 40;
        for (i = 0; i < g->n_v6_ext; i++) {
            uint8_t nh = i + 1 < g->n_v6_ext ? g->v6_ext[i + 1] : g->proto;
            memset(e, 0, 8);
            e[0] = nh;
            switch (g->v6_ext[i]) {
            case 0:
            case 60:
                e[2] = 1; /* PadN */
                e[3] = 4;
                break;
            case 43:
                break; /* type 0, segments left 0 */
            case 44:
                be32(e + 4, 0xabcd0000u + (uint32_t)i); /* atomic fragment */
                break;
            case 51:
                memset(e + 8, 0, 8);
                e[1] = 2; /* 16 bytes: (2 + 2) * 4 */
                be32(e + 4, 0x100);
                be32(e + 8, 1);
                e += 8;
                break;
            default:
                return -1;
            }
            e += 8;
        }
    }
    l4 = buf + hl;
    if (g->payload_len)
        memcpy(l4 + l4h, g->payload, g->payload_len);
    fill_l4(g, l4, l4len, v6, buf);
    return (int)tot;
}

int gen_frame(const struct gen_l2 *l2, const uint8_t *ip, size_t len, uint8_t *buf, size_t cap)
{
    static const uint8_t dmac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    static const uint8_t smac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    bool v6 = len > 0 && (ip[0] >> 4) == 6;
    uint16_t et = v6 ? 0x86dd : 0x0800;
    size_t h = 0, i;

    if (l2->n_vlans > 8)
        return -1;
    switch (l2->linktype) {
    case GEN_LT_EN10MB:
        h = 14 + (size_t)l2->n_vlans * 4;
        if (h + len > cap)
            return -1;
        memcpy(buf, dmac, 6);
        memcpy(buf + 6, smac, 6);
        for (i = 0; i < l2->n_vlans; i++) {
            uint16_t tpid = (l2->qinq && i + 1 < l2->n_vlans) ? 0x88a8 : 0x8100;
            be16(buf + 12 + i * 4, tpid);
            be16(buf + 14 + i * 4, l2->vlans[i] & 0x0fff);
        }
        be16(buf + h - 2, et);
        break;
    case GEN_LT_SLL:
        h = 16;
        if (h + len > cap)
            return -1;
        be16(buf, 0);
        be16(buf + 2, 1);
        be16(buf + 4, 6);
        memcpy(buf + 6, smac, 6);
        be16(buf + 12, 0);
        be16(buf + 14, et);
        break;
    case GEN_LT_SLL2:
        h = 20;
        if (h + len > cap)
            return -1;
        be16(buf, et);
        be16(buf + 2, 0);
        be32(buf + 4, 1);
        be16(buf + 8, 1);
        buf[10] = 0;
        buf[11] = 6;
        memcpy(buf + 12, smac, 6);
        be16(buf + 18, 0);
        break;
    case GEN_LT_RAW:
    case GEN_LT_IPV4:
    case GEN_LT_IPV6:
        h = 0;
        if (len > cap)
            return -1;
        break;
    case GEN_LT_NULL:
    case GEN_LT_LOOP: {
        uint32_t af = v6 ? (l2->null_af6 ? l2->null_af6 : 24) : 2;
        bool big = l2->linktype == GEN_LT_LOOP;
        h = 4;
        if (h + len > cap)
            return -1;
        if (l2->null_swap)
            big = !big;
        if (big)
            be32(buf, af);
        else
            le32(buf, af);
        break;
    }
    default:
        return -1;
    }
    memcpy(buf + h, ip, len);
    return (int)(h + len);
}

int gen_ip_fragment_piece(const uint8_t *ip, uint32_t id, size_t off, bool more,
                          const uint8_t *data, size_t c, uint8_t *buf, size_t cap)
{
    bool v6 = (ip[0] >> 4) == 6;
    size_t hl = v6 ? 40 : (size_t)(ip[0] & 15) * 4;

    if (off % 8 || off > 0xfff8 || hl < 20 || hl + (v6 ? 8 : 0) + c > cap ||
        hl + (v6 ? 8 : 0) + c > 0xffff + (v6 ? 40u : 0u))
        return -1;
    if (v6) {
        memcpy(buf, ip, 40);
        buf[6] = 44;
        be16(buf + 4, (uint16_t)(8 + c));
        buf[40] = ip[6];
        buf[41] = 0;
        be16(buf + 42, (uint16_t)(off | (more ? 1 : 0)));
        be32(buf + 44, id);
        memcpy(buf + 48, data, c);
        return (int)(48 + c);
    }
    memcpy(buf, ip, hl);
    be16(buf + 2, (uint16_t)(hl + c));
    be16(buf + 4, (uint16_t)id);
    be16(buf + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
    v4_header_csum(buf, hl);
    memcpy(buf + hl, data, c);
    return (int)(hl + c);
}

int gen_ip_fragment(const uint8_t *ip, size_t len, size_t mtu, uint32_t id,
                    int (*emit)(void *arg, const uint8_t *frag, size_t len), void *arg)
{
    uint8_t *f;
    size_t hl, data, chunk, off;
    bool v6;
    int n = 0;

    if (len < 20)
        return -1;
    v6 = (ip[0] >> 4) == 6;
    hl = v6 ? 40 : (size_t)(ip[0] & 15) * 4;
    if (len < hl || mtu < hl + (v6 ? 8u : 0u) + 8)
        return -1;
    data = len - hl;
    chunk = ((mtu - hl - (v6 ? 8 : 0)) / 8) * 8;
    f = malloc(mtu + 8);
    if (!f)
        return -1;
    for (off = 0; off < data || (data == 0 && n == 0); off += chunk) {
        size_t c = data - off < chunk ? data - off : chunk;
        int flen = gen_ip_fragment_piece(ip, id, off, off + c < data, ip + hl + off, c, f, mtu + 8);
        n++;
        if (flen < 0 || emit(arg, f, (size_t)flen) != 0) {
            free(f);
            return -1;
        }
        if (data == 0)
            break;
    }
    free(f);
    return n;
}
