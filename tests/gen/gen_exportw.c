#include "gen_exportw.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_V5 30
#define BATCH_V9 24 /* 4-byte counters, ms times: about 1400 bytes with v4 records */
#define BATCH_V6 16
#define BOOT_AGO_MS (86400ULL * 1000 * 3)

struct gen_exportw {
    struct gen_exportw_opts o;
    struct gen_pcap *pcap;
    struct gen_flow b4[BATCH_V5], b6[BATCH_V6];
    uint64_t x4[BATCH_V5], x6[BATCH_V6]; /* when each batched flow was released */
    size_t n4, n6;
    struct gen_flow *dq; /* flows waiting for the inactive timeout: a FIFO ring (release order) */
    size_t dq_head, dq_n, dq_cap;
    uint32_t seq; /* v5: flows; v9: packets; IPFIX: data records */
    uint64_t msgs;
    struct gen_tmpl t4, t6, topt;
    uint8_t buf[65536];
    struct gen_exportw_stats st;
    uint64_t boot_ms;
};

int gen_exportw_new(const struct gen_exportw_opts *o, struct gen_pcap *pcap,
                    struct gen_exportw **out)
{
    if (o->version != 5 && o->version != 9 && o->version != 10)
        return -EINVAL;
    struct gen_exportw *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->o = *o;
    if (!w->o.dport)
        w->o.dport = o->version == 10 ? 4739 : 2055;
    if (!w->o.sport)
        w->o.sport = 50000;
    w->pcap = pcap;
    if (o->version != 5) {
        unsigned base = GEN_T_AS | GEN_T_REDUCED | (o->version == 9 ? GEN_T_UPTIME : GEN_T_MS);
        gen_tmpl_flow(&w->t4, 256, o->version, base);
        gen_tmpl_flow(&w->t6, 257, o->version, base | GEN_T_V6);
        gen_tmpl_sampling(&w->topt, 258, o->version, o->version == 9 ? GEN_S_INTERVAL : GEN_S_PKT);
    }
    *out = w;
    return 0;
}

static int emit(struct gen_exportw *w, const uint8_t *p, int len, uint64_t ts_ms)
{
    if (len < 0)
        return -1;
    w->st.datagrams++;
    w->st.bytes += (uint64_t)len;
    return gen_pcap_write_udp(w->pcap, ts_ms * 1000000ULL, w->o.exporter, w->o.sport,
                              w->o.collector, w->o.dport, p, (size_t)len) < 0
               ? -1
               : 0;
}

static uint64_t newest(const uint64_t *x, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] > m)
            m = x[i];
    return m;
}

static int flush_v5(struct gen_exportw *w)
{
    if (!w->n4)
        return 0;
    uint64_t now = newest(w->x4, w->n4) + 1000;
    if (!w->boot_ms)
        w->boot_ms = now - BOOT_AGO_MS;
    struct gen_nf5_hdr h = {
        .uptime_ms = (uint32_t)(now - w->boot_ms),
        .unix_ms = now,
        .seq = w->seq,
        .sampling = (uint16_t)(w->o.sampling ? (1u << 14) | (w->o.sampling & 0x3fff) : 0),
    };
    int len = gen_nf5(w->buf, sizeof w->buf, &h, w->b4, w->n4);
    w->seq += (uint32_t)w->n4;
    w->n4 = 0;
    return emit(w, w->buf, len, now);
}

static int flush_tmpl(struct gen_exportw *w, bool v6)
{
    struct gen_flow *b = v6 ? w->b6 : w->b4;
    size_t *n = v6 ? &w->n6 : &w->n4;
    if (!*n)
        return 0;
    uint64_t now = newest(v6 ? w->x6 : w->x4, *n) + 1000;
    if (!w->boot_ms)
        w->boot_ms = now - BOOT_AGO_MS;
    struct gen_msg m;
    gen_msg_begin(&m, w->buf, sizeof w->buf, w->o.version, w->o.domain, w->seq, now,
                  (uint32_t)(now - w->boot_ms));
    if (w->msgs % GEN_EXPORTW_REFRESH == 0) {
        gen_add_template(&m, &w->t4);
        gen_add_template(&m, &w->t6);
        if (w->o.sampling) {
            gen_add_options_template(&m, &w->topt);
            struct gen_flow opt;
            memset(&opt, 0, sizeof opt);
            opt.sampling_interval = w->o.sampling;
            opt.sampling_algo = 1;
            opt.pkt_interval = 1;
            opt.pkt_space = w->o.sampling - 1;
            gen_add_data(&m, &w->topt, &opt, 1);
        }
    }
    for (size_t i = 0; i < *n; i++)
        b[i].sysinit_ms = w->boot_ms;
    gen_add_data(&m, v6 ? &w->t6 : &w->t4, b, *n);
    int len = gen_msg_end(&m);
    w->msgs++;
    w->seq += w->o.version == 9 ? 1u : (uint32_t)*n;
    *n = 0;
    return emit(w, w->buf, len, now);
}

/* Like a router's export timer: a batch waits at most this long for more records. */
#define MAX_HOLD_MS 5000

static uint64_t oldest(const uint64_t *x, size_t n)
{
    uint64_t m = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (x[i] < m)
            m = x[i];
    return m;
}

static bool is_v6(const struct gen_flow *f)
{
    return memcmp(f->src, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0;
}

/* Into a datagram batch: flows come here in order of release time x. */
static int batch(struct gen_exportw *w, const struct gen_flow *f, uint64_t x)
{
    if (w->o.version == 5) {
        if (w->n4 && oldest(w->x4, w->n4) + MAX_HOLD_MS < x && flush_v5(w) < 0)
            return -1;
    } else {
        if (w->n4 && oldest(w->x4, w->n4) + MAX_HOLD_MS < x && flush_tmpl(w, false) < 0)
            return -1;
        if (w->n6 && oldest(w->x6, w->n6) + MAX_HOLD_MS < x && flush_tmpl(w, true) < 0)
            return -1;
    }
    if (w->o.version == 5) {
        w->x4[w->n4] = x;
        w->b4[w->n4++] = *f;
        return w->n4 == BATCH_V5 ? flush_v5(w) : 0;
    }
    if (is_v6(f)) {
        w->x6[w->n6] = x;
        w->b6[w->n6++] = *f;
        return w->n6 == BATCH_V6 ? flush_tmpl(w, true) : 0;
    }
    w->x4[w->n4] = x;
    w->b4[w->n4++] = *f;
    return w->n4 == BATCH_V9 ? flush_tmpl(w, false) : 0;
}

/* Does the flow cache let the flow go at its end (see gen_exportw.h)? */
static bool ends_at_once(const struct gen_flow *f)
{
    return f->active_end || (f->proto == 6 && (f->tcp_flags & 0x05)); /* FIN or RST */
}

/* Release the waiting flows whose timeout passed by t. Flows come in order of end time, so
 * both the waiting ones (end + timeout) and those that go at once (end) are in release order:
 * merging the two keeps the whole stream in it. */
static int release(struct gen_exportw *w, uint64_t t)
{
    while (w->dq_n) {
        const struct gen_flow *f = &w->dq[w->dq_head];
        uint64_t x = f->end_ms + w->o.inactive_ms;
        if (x > t)
            break;
        if (batch(w, f, x) < 0)
            return -1;
        w->dq_head = (w->dq_head + 1) % w->dq_cap;
        w->dq_n--;
    }
    return 0;
}

static int wait_inactive(struct gen_exportw *w, const struct gen_flow *f)
{
    if (w->dq_n == w->dq_cap) { /* grow the ring, oldest first */
        size_t cap = w->dq_cap ? w->dq_cap * 2 : 4096;
        struct gen_flow *q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < w->dq_n; i++)
            q[i] = w->dq[(w->dq_head + i) % w->dq_cap];
        free(w->dq);
        w->dq = q;
        w->dq_cap = cap;
        w->dq_head = 0;
    }
    w->dq[(w->dq_head + w->dq_n) % w->dq_cap] = *f;
    w->dq_n++;
    return 0;
}

int gen_exportw_add(struct gen_exportw *w, const struct gen_flow *f)
{
    if (is_v6(f) && w->o.version == 5) {
        w->st.skipped_v6++;
        return 0;
    }
    w->st.flows++;
    if (!w->o.inactive_ms)
        return batch(w, f, f->end_ms);
    if (release(w, f->end_ms) < 0)
        return -1;
    return ends_at_once(f) ? batch(w, f, f->end_ms) : wait_inactive(w, f);
}

int gen_exportw_close(struct gen_exportw *w)
{
    int rc = release(w, UINT64_MAX);
    if (w->o.version == 5) {
        if (flush_v5(w) < 0)
            rc = -1;
    } else {
        /* the older batch first, so datagram times stay ordered */
        bool v6_first = w->n6 && (!w->n4 || newest(w->x6, w->n6) < newest(w->x4, w->n4));
        if (flush_tmpl(w, v6_first) < 0 || flush_tmpl(w, !v6_first) < 0)
            rc = -1;
    }
    free(w->dq);
    free(w);
    return rc;
}

void gen_exportw_stats(const struct gen_exportw *w, struct gen_exportw_stats *out)
{
    *out = w->st;
}

int gen_exportw_version_parse(const char *s)
{
    return strcmp(s, "v5") == 0 ? 5 : strcmp(s, "v9") == 0 ? 9 : strcmp(s, "ipfix") == 0 ? 10 : -1;
}

static int add_flow(void *arg, const struct gen_flow *f)
{
    return gen_exportw_add(arg, f);
}

int gen_exportw_capture(const char *path, int version, bool gzip, uint32_t inactive_ms,
                        gen_run_fn run, void *arg, struct gen_exportw_stats *st)
{
    struct gen_pcap_opts po = {.linktype = 1, .gzip = gzip};
    struct gen_pcap *pc;
    if (gen_pcap_open(path, &po, &pc) < 0) {
        fprintf(stderr, "twgen: cannot write %s\n", path);
        return -1;
    }
    struct gen_exportw_opts eo = {.version = version, .inactive_ms = inactive_ms};
    gen_v4(eo.exporter, 0x0AFF0001u);
    gen_v4(eo.collector, 0x0AFF0064u);
    struct gen_exportw *w;
    if (gen_exportw_new(&eo, pc, &w) < 0) {
        gen_pcap_close(pc);
        return -1;
    }
    int rc = run(arg, add_flow, w);
    if (st)
        gen_exportw_stats(w, st);
    if (gen_exportw_close(w) < 0 && rc == 0)
        rc = -1;
    if (gen_pcap_close(pc) < 0 && rc == 0) {
        fprintf(stderr, "twgen: cannot write %s\n", path);
        rc = -1;
    }
    return rc;
}
