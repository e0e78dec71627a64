#include "gen_flowpkts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_rng.h"

/* A packet to write: when, which flow (an index into the flow ring), its number in the flow. */
struct pkt {
    uint64_t ts_us;
    uint32_t flow; /* slot in flows[] */
    uint32_t i;    /* packet number in the flow */
};

struct gen_flowpkts {
    struct gen_pcap *pcap;
    struct pkt *heap;
    size_t n, cap;
    struct gen_flow *flows; /* ring of flows with packets still held */
    uint32_t *left;         /* packets of each held flow not yet written */
    size_t nflows, fcap, fnext;
    uint64_t written;
    uint16_t ip_id;
    /* packet sink and sampling (gen_flowpkts_new_sampled); fn NULL: every packet to pcap */
    gen_flowpkt_fn fn;
    void *fn_arg;
    uint32_t rate;
    struct rng rng;
    uint64_t pool_packets, pool_bytes;
};

static bool less(const struct pkt *a, const struct pkt *b)
{
    if (a->ts_us != b->ts_us)
        return a->ts_us < b->ts_us;
    return a->flow != b->flow ? a->flow < b->flow : a->i < b->i;
}

static void push(struct gen_flowpkts *w, struct pkt p)
{
    size_t i = w->n++;
    w->heap[i] = p;
    while (i && less(&w->heap[i], &w->heap[(i - 1) / 2])) {
        struct pkt t = w->heap[i];
        w->heap[i] = w->heap[(i - 1) / 2];
        w->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct pkt pop(struct gen_flowpkts *w)
{
    struct pkt top = w->heap[0];
    w->heap[0] = w->heap[--w->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < w->n && less(&w->heap[l], &w->heap[m]))
            m = l;
        if (l + 1 < w->n && less(&w->heap[l + 1], &w->heap[m]))
            m = l + 1;
        if (m == i)
            break;
        struct pkt t = w->heap[i];
        w->heap[i] = w->heap[m];
        w->heap[m] = t;
        i = m;
    }
    return top;
}

int gen_flowpkts_new(struct gen_pcap *pcap, struct gen_flowpkts **out)
{
    struct gen_flowpkts *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->pcap = pcap;
    w->cap = 1u << 16;
    w->fcap = 1u << 16;
    w->heap = malloc(w->cap * sizeof *w->heap);
    w->flows = malloc(w->fcap * sizeof *w->flows);
    w->left = calloc(w->fcap, sizeof *w->left);
    if (!w->heap || !w->flows || !w->left) {
        free(w->heap);
        free(w->flows);
        free(w->left);
        free(w);
        return -ENOMEM;
    }
    *out = w;
    return 0;
}

int gen_flowpkts_new_sampled(uint32_t rate, uint64_t seed, gen_flowpkt_fn fn, void *arg,
                             struct gen_flowpkts **out)
{
    if (rate == 0 || !fn)
        return -EINVAL;
    int rc = gen_flowpkts_new(NULL, out);
    if (rc < 0)
        return rc;
    (*out)->fn = fn;
    (*out)->fn_arg = arg;
    (*out)->rate = rate;
    (*out)->rng.s = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!(*out)->rng.s)
        (*out)->rng.s = 1;
    return 0;
}

/* Packets skipped before the next one sampled with probability 1/rate: geometric. */
static uint64_t skip(struct gen_flowpkts *w)
{
    if (w->rate <= 1)
        return 0;
    double u = u01(&w->rng) + 0.5 / 9007199254740992.0; /* (0, 1): never log(0) */
    return (uint64_t)floor(log(u) / log1p(-1.0 / (double)w->rate));
}

/* Packet i's TCP flags and IP length (of n), and the header bytes its length covers. */
static uint8_t pkt_flags(const struct gen_flow *f, uint64_t i, uint64_t n)
{
    if (f->proto != 6)
        return 0;
    uint8_t fl = f->tcp_flags, mid = fl & 0x38, end = fl & 0x05;
    if (n == 1 || (fl & ~0x02) == 0)
        return fl; /* one packet, or SYN retries */
    if (i == 0 && (fl & 0x02))
        return f->responder ? 0x12 : 0x02;
    return i == n - 1 ? (uint8_t)(mid | end) : mid;
}

void gen_flow_ip(const struct gen_flow *f, uint8_t tcp_flags, uint16_t icmp, uint64_t ip_len,
                 uint32_t max_payload, struct gen_ip *g)
{
    static const uint8_t zeros[65536];
    bool v4 = f->src[10] == 0xff && f->src[11] == 0xff;
    bool icmp_proto = f->proto == 1 || f->proto == 58;
    unsigned hdr = (v4 ? 20 : 40) + (f->proto == 6 ? 20 : f->proto == 17 || icmp_proto ? 8 : 0);
    memset(g, 0, sizeof *g);
    memcpy(g->src, f->src, 16);
    memcpy(g->dst, f->dst, 16);
    g->proto = f->proto;
    g->sport = icmp_proto ? 0 : f->sport;
    g->dport = icmp_proto ? 0 : f->dport;
    g->tcp_flags = tcp_flags;
    g->icmp_type = (uint8_t)(icmp >> 8);
    g->icmp_code = (uint8_t)icmp;
    if (max_payload > sizeof zeros)
        max_payload = sizeof zeros;
    g->payload = zeros;
    g->payload_len =
        ip_len > hdr ? (uint32_t)(ip_len - hdr < max_payload ? ip_len - hdr : max_payload) : 0;
}

static int write_pkt(struct gen_flowpkts *w, const struct pkt *p)
{
    const struct gen_flow *f = &w->flows[p->flow];
    uint64_t n = f->packets ? f->packets : 1;
    if (w->fn) {
        uint64_t len = f->bytes / n + (p->i < f->bytes % n ? 1 : 0);
        struct gen_flowpkt fp = {.ts_us = p->ts_us,
                                 .flow = f,
                                 .tcp_flags = pkt_flags(f, p->i, n),
                                 .ip_len = (uint32_t)(len < 65535 ? len : 65535),
                                 .pool_packets = w->pool_packets,
                                 .pool_bytes = w->pool_bytes};
        w->written++;
        return w->fn(w->fn_arg, &fp);
    }
    struct gen_ip g;
    uint64_t len = f->bytes / n + (p->i < f->bytes % n ? 1 : 0);
    gen_flow_ip(f, f->proto == 6 ? pkt_flags(f, p->i, n) : 0, f->dport, len, 9000, &g);
    g.ip_id = w->ip_id++;
    uint8_t buf[65536 + 128];
    int len_ip = gen_ip_packet(&g, buf, sizeof buf);
    if (len_ip < 0)
        return -1;
    w->written++;
    return gen_pcap_write_ip(w->pcap, p->ts_us * 1000, buf, (uint32_t)len_ip);
}

/* Write every held packet before until_us; release the flows that are done. */
static int flush(struct gen_flowpkts *w, uint64_t until_us)
{
    while (w->n && w->heap[0].ts_us < until_us) {
        struct pkt p = pop(w);
        if (write_pkt(w, &p) < 0)
            return -1;
        w->left[p.flow]--;
    }
    return 0;
}

int gen_flowpkts_add(struct gen_flowpkts *w, const struct gen_flow *f)
{
    uint64_t dur = f->end_ms > f->start_ms ? f->end_ms - f->start_ms : 0;
    if (dur > GEN_FLOWPKTS_MAX_MS)
        return -EINVAL;
    uint64_t n = f->packets ? f->packets : 1;
    w->pool_packets += n;
    w->pool_bytes += f->bytes;
    /* the packets written: all, or the sampled ones (indices drawn by geometric skips) */
    struct rng saved = w->rng;
    uint64_t first = 0, m = n;
    if (w->rate > 1) {
        m = 0;
        for (uint64_t i = skip(w); i < n; i += 1 + skip(w))
            m++;
        if (m == 0)
            return 0;
        w->rng = saved; /* the same draws again below, for the packets themselves */
        first = skip(w);
    }
    if (w->n + m > GEN_FLOWPKTS_MAX_HELD)
        return -E2BIG;
    /* a free flow slot (flows are released once all their packets are written) */
    size_t slot = w->fnext;
    size_t tries = 0;
    while (w->left[slot] && tries < w->fcap) {
        slot = (slot + 1) % w->fcap;
        tries++;
    }
    if (w->left[slot]) { /* every slot busy: write the oldest packets first */
        if (flush(w, f->end_ms * 1000 - GEN_FLOWPKTS_MAX_MS * 1000) < 0)
            return -1;
        while (w->left[slot] && w->n) {
            struct pkt p = pop(w);
            if (write_pkt(w, &p) < 0)
                return -1;
            w->left[p.flow]--;
        }
    }
    w->fnext = (slot + 1) % w->fcap;
    w->flows[slot] = *f;
    w->left[slot] = (uint32_t)m;
    while (w->n + m > w->cap) {
        size_t nc = w->cap * 2;
        struct pkt *h = realloc(w->heap, nc * sizeof *h);
        if (!h)
            return -ENOMEM;
        w->heap = h;
        w->cap = nc;
    }
    uint64_t start_us = f->start_ms * 1000, span = dur * 1000;
    for (uint64_t i = first; i < n; i += 1 + skip(w))
        push(w, (struct pkt){start_us + (n > 1 ? span * i / (n - 1) : 0), (uint32_t)slot,
                             (uint32_t)i});
    /* flows come in end order and last at most MAX_MS: nothing earlier than this can come */
    uint64_t safe = f->end_ms > GEN_FLOWPKTS_MAX_MS ? (f->end_ms - GEN_FLOWPKTS_MAX_MS) * 1000 : 0;
    return flush(w, safe);
}

int gen_flowpkts_close(struct gen_flowpkts *w, uint64_t *packets)
{
    int rc = flush(w, UINT64_MAX);
    if (packets)
        *packets = w->written;
    free(w->heap);
    free(w->flows);
    free(w->left);
    free(w);
    return rc;
}
