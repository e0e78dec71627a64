#include "gen_eval.h"

#include "gen_order.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define SLICE 10000ULL
#define MAX_FLOWS 400000

struct ecust {
    const char *id, *name, *cidr;
    uint32_t base; /* first host, host order */
    uint32_t hosts;
};

/* badco is the Intercage-like customer: few hosts, many of them hostile */
static const struct ecust custs[] = {
    {"ispa", "ISP A Broadband", "100.64.0.0/18", 0x64400001u, 3000},
    {"hostb", "Hosting B", "100.65.0.0/20", 0x64410001u, 1300},
    {"entc", "Enterprise C", "100.66.0.0/22", 0x64420001u, 600},
    {"unid", "University D", "100.68.0.0/21", 0x64440001u, 200},
    {"badco", "Badco Hosting", "100.67.0.0/22", 0x64430001u, 300},
};
#define NC (sizeof custs / sizeof custs[0])
#define BADCO 4

#define RESOLVER 0xCB007135u  /* 203.0.113.53: the provider's resolver */
#define NTPSRV 0xCB00717Bu    /* 203.0.113.123: the provider's NTP server */

enum kind {
    A_SPAM, A_FAST, A_SLOW, A_HSCAN, A_VSCAN, A_FLOOD, A_FLOODB,
    B_MTA, B_BULK, B_NTP, B_DNS, B_WEB, B_SESSION, B_INSCAN, NKIND
};
static const char *const kind_label[NKIND] = {
    "spam", "beacon_fast", "beacon_slow", "scan_h", "scan_v", "flood", "flood_baseline",
    "benign_mta", "benign_bulk", "benign_ntp", "benign_dns", "benign_webserver",
    "benign_longsession", "benign_inbound_scan",
};
/* how many of each at host_scale 1 (benign periodic clients scale with the host count) */
static const unsigned kind_count[NKIND] = {12, 12, 8, 8, 4, 5, 5, 3, 2, 300, 100, 10, 50, 3};

struct actor {
    enum kind k;
    uint32_t cust;
    uint32_t host;      /* v4, host order */
    uint32_t peer;
    uint16_t port, sport;
    uint64_t start, end, next;
    uint64_t period;
    double jitter, rate, fail;
    uint32_t bytes, pkt_size;
    uint32_t seq;
};

struct rng {
    uint64_t s;
};
static uint64_t rnd(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
static uint32_t below(struct rng *r, uint32_t n) { return n ? (uint32_t)(rnd(r) % n) : 0; }
static double u01(struct rng *r) { return (double)(rnd(r) >> 11) / 9007199254740992.0; }
static double uni(struct rng *r, double a, double b) { return a + (b - a) * u01(r); }

static uint32_t outside(struct rng *r)
{
    static const uint8_t o[] = {23, 31, 45, 62, 77, 81, 88, 93, 109, 141, 151, 176, 185, 193, 212, 217};
    return (uint32_t)o[below(r, sizeof o)] << 24 | below(r, 1u << 24);
}

struct out {
    struct gen_flow *f;
    size_t n, cap;
    bool overflow;
};

static void rec(struct out *o, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                uint8_t flags, uint64_t pkts, uint64_t bytes, uint64_t start, uint64_t dur)
{
    if (o->n >= o->cap) {
        o->overflow = true;
        return;
    }
    struct gen_flow *f = &o->f[o->n++];
    memset(f, 0, sizeof *f);
    gen_v4(f->src, src);
    gen_v4(f->dst, dst);
    f->sport = sport;
    f->dport = dport;
    f->proto = proto;
    f->tcp_flags = flags;
    f->packets = pkts ? pkts : 1;
    f->bytes = bytes;
    f->start_ms = start;
    f->end_ms = start + dur;
}

/* a TCP connection: the request record and the answer */
static void conn(struct out *o, struct rng *r, uint32_t cli, uint32_t srv, uint16_t sport, uint16_t dport,
                 uint64_t start, uint32_t req, uint32_t resp)
{
    uint64_t dur = 50 + below(r, 2000);
    rec(o, cli, srv, sport, dport, 6, 0x1b, req / 500 + 4, req, start, dur);
    rec(o, srv, cli, dport, sport, 6, 0x1b, resp / 1400 + 4, resp, start + 20, dur - 20);
}

static uint16_t eph(struct rng *r) { return (uint16_t)(32768 + below(r, 28000)); }

static uint64_t jittered(struct rng *r, uint64_t period, double jitter)
{
    return (uint64_t)((double)period * (1.0 + uni(r, -jitter, jitter)));
}

static uint32_t mx_bulk(struct rng *r)
{
    static const uint32_t nets[8] = {0x8EFA1B00u, 0x8EFA1C00u, 0x4A7DC800u, 0x4A7DC900u,
                                     0x28658800u, 0x28658900u, 0x62884000u, 0x62884100u};
    return nets[below(r, 8)] | (1 + below(r, 5));
}

static void actor_slice(struct out *o, struct rng *r, struct actor *a, uint64_t t)
{
    uint64_t t1 = t + SLICE;
    if (t1 <= a->start || t >= a->end)
        return;
    switch (a->k) {
    case A_SPAM:
    case B_MTA:
    case B_BULK: {
        double n = a->rate * SLICE / 60000.0;
        while (n > 0 && u01(r) < n) {
            n -= 1;
            uint64_t s = t + below(r, SLICE);
            if (s < a->start || s >= a->end)
                continue;
            uint32_t mx = a->k == B_BULK ? mx_bulk(r) : outside(r);
            if (u01(r) < a->fail)
                rec(o, a->host, mx, eph(r), 25, 6, 0x02, 1 + below(r, 2), 60 + below(r, 60), s, below(r, 3000));
            else
                conn(o, r, a->host, mx, eph(r), 25, s, 3000 + below(r, 30000), 400 + below(r, 600));
        }
        break;
    }
    case A_FAST:
    case A_SLOW:
    case B_NTP:
    case B_DNS:
        while (a->next < t1) {
            uint64_t s = a->next;
            a->next = s + jittered(r, a->period, a->jitter);
            if (s < t || s >= a->end)
                continue;
            if (a->k == B_NTP) {
                rec(o, a->host, a->peer, 123, 123, 17, 0, 1, 76, s, 0);
                rec(o, a->peer, a->host, 123, 123, 17, 0, 1, 76, s + 15, 0);
            } else if (a->k == B_DNS) {
                uint16_t sp = eph(r);
                rec(o, a->host, a->peer, sp, 53, 17, 0, 1, 70, s, 0);
                rec(o, a->peer, a->host, 53, sp, 17, 0, 1, 180, s + 10, 0);
            } else {
                uint32_t by = (uint32_t)(a->bytes * uni(r, 0.95, 1.05));
                conn(o, r, a->host, a->peer, eph(r), a->port, s, by, by * 3);
            }
        }
        break;
    case A_HSCAN: {
        double n = a->rate * SLICE / 300000.0;
        for (; n > 0; n -= 1) {
            if (n < 1 && u01(r) >= n)
                break;
            uint64_t s = t + below(r, SLICE);
            uint32_t d = outside(r);
            if (u01(r) < 0.04)
                conn(o, r, a->host, d, a->sport, a->port, s, 200, 300);
            else
                rec(o, a->host, d, a->sport, a->port, 6, 0x02, 1, 44, s, 0);
        }
        break;
    }
    case A_VSCAN:
        for (unsigned i = 0; i < 20; i++) {
            uint16_t port = (uint16_t)(1 + a->seq++ % 1024);
            uint64_t s = t + i * (SLICE / 20);
            if (port == 22 || port == 80 || port == 443)
                conn(o, r, a->host, a->peer, a->sport, port, s, 100, 300);
            else
                rec(o, a->host, a->peer, a->sport, port, 6, 0x02, 1, 44, s, 0);
        }
        break;
    case A_FLOOD:
    case A_FLOODB: {
        uint64_t pk = (uint64_t)(a->rate * SLICE / 1000.0 * uni(r, 0.9, 1.1));
        /* one 5-tuple, exported every 10 s (a SYN flood's records carry SYN only) */
        rec(o, a->host, a->peer, a->sport, a->port, a->port == 80 ? 6 : 17, a->port == 80 ? 0x02 : 0, pk,
            pk * a->pkt_size, t + below(r, 500), SLICE - 1000);
        break;
    }
    case B_WEB: {
        double n = a->rate * SLICE / 60000.0;
        while (n > 0 && u01(r) < n) {
            n -= 1;
            conn(o, r, outside(r), a->host, eph(r), 443, t + below(r, SLICE), 400 + below(r, 1000),
                 2000 + below(r, 100000));
        }
        break;
    }
    case B_SESSION:
        while (a->next < t1) { /* one ssh session split every 60 s by the exporter */
            uint64_t s = a->next;
            a->next += 60000;
            if (s < t)
                continue;
            uint8_t fl = a->seq++ == 0 ? 0x1a : 0x18;
            rec(o, a->host, a->peer, a->sport, 22, 6, fl, 30, 3000 + below(r, 3000), s, 59990);
            rec(o, a->peer, a->host, 22, a->sport, 6, fl, 30, 6000 + below(r, 6000), s, 59990);
        }
        break;
    case B_INSCAN:
        for (unsigned i = 0; i < 40; i++) { /* an outside scanner sweeps the customers */
            const struct ecust *c = &custs[below(r, NC)];
            uint32_t v = c->base + below(r, c->hosts);
            uint64_t s = t + below(r, SLICE);
            rec(o, a->peer, v, a->sport, a->port, 6, 0x02, 1, 44, s, 0);
            if (u01(r) < 0.3)
                rec(o, v, a->peer, a->port, a->sport, 6, 0x14, 1, 40, s + 1, 0);
        }
        break;
    default:
        break;
    }
}

void gen_eval_defaults(struct gen_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->start_ms = 1221868800000ULL;
    o->duration_ms = 6 * 3600000ULL;
    o->seed = 2008;
    o->host_scale = 1.0;
    o->bg_rate = 0.3;
}

static void addr_text(uint32_t v, char *buf)
{
    uint8_t a[16];
    gen_v4(a, v);
    addr_format(a, buf); /* buf: ADDR_STRLEN bytes */
}

int gen_eval_run(const struct gen_eval_opts *o, gen_flow_fn emit, void *arg)
{
    struct rng r = {0x5DEECE66DULL ^ ((uint64_t)o->seed << 20) ^ 0xA5A5A5A5ULL};
    uint32_t nh[NC];
    uint8_t *used[NC];
    size_t total_hosts = 0;
    for (size_t c = 0; c < NC; c++) {
        nh[c] = (uint32_t)(custs[c].hosts * o->host_scale);
        if (nh[c] < 50)
            nh[c] = 50;
        used[c] = calloc(nh[c], 1);
        total_hosts += nh[c];
    }
    size_t nact = 0, cap = 0;
    for (int k = 0; k < NKIND; k++)
        cap += (size_t)(kind_count[k] * (k >= B_NTP && k <= B_DNS ? o->host_scale : 1.0)) + 1;
    struct actor *act = calloc(cap, sizeof *act);
    struct out s = {calloc(MAX_FLOWS, sizeof(struct gen_flow)), 0, MAX_FLOWS, false};
    struct gen_order ord = {0};
    int rc = 0;
    if (!act || !s.f || gen_order_init(&ord, MAX_FLOWS) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t T0 = o->start_ms, T1 = o->start_ms + o->duration_ms, H = 3600000ULL, M = 60000ULL;
    for (int k = 0; k < NKIND; k++) {
        unsigned n = (unsigned)(kind_count[k] * (k >= B_NTP && k <= B_DNS ? o->host_scale : 1.0));
        for (unsigned i = 0; i < n; i++) {
            struct actor *a = &act[nact++];
            memset(a, 0, sizeof *a);
            a->k = (enum kind)k;
            /* half the misbehaving hosts sit in badco, the rest spread over the others */
            a->cust = k < B_MTA ? (i % 2 == 0 ? BADCO : (i / 2) % (NC - 1)) : i % (NC - 1);
            uint32_t hi;
            do
                hi = below(&r, nh[a->cust]);
            while (used[a->cust][hi]);
            used[a->cust][hi] = 1;
            a->host = custs[a->cust].base + hi;
            a->start = T0;
            a->end = T1;
            a->sport = eph(&r);
            switch (a->k) {
            case A_SPAM:
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 60, 120) * M;
                a->rate = uni(&r, 20, 60);
                a->fail = uni(&r, 0.35, 0.7);
                break;
            case B_MTA:
                a->rate = uni(&r, 30, 50);
                a->fail = 0.2;
                break;
            case B_BULK:
                a->start = T0 + H;
                a->end = a->start + 2 * H;
                a->rate = 80;
                a->fail = 0.02;
                break;
            case A_FAST:
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 2));
                a->period = (uint64_t)uni(&r, 3, 120) * 1000;
                a->jitter = uni(&r, 0.1, 0.2);
                a->peer = outside(&r);
                a->port = i % 3 ? 443 : 8080;
                a->bytes = 200 + below(&r, 800);
                break;
            case A_SLOW:
                a->start = T0 + below(&r, (uint32_t)(30 * M));
                a->period = (uint64_t)uni(&r, 5, 30) * M;
                a->jitter = uni(&r, 0.1, 0.2);
                a->peer = outside(&r);
                a->port = 443;
                a->bytes = 300 + below(&r, 1500);
                break;
            case B_NTP:
                a->period = 64000;
                a->jitter = 0.005;
                a->peer = NTPSRV;
                break;
            case B_DNS:
                a->period = 30000;
                a->jitter = 0.05;
                a->peer = RESOLVER;
                break;
            case A_HSCAN:
                a->start = T0 + H / 2 + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 20, 60) * M;
                a->rate = uni(&r, 150, 1000);
                a->port = (uint16_t[]){23, 445, 22, 3389}[i % 4];
                break;
            case A_VSCAN:
                a->start = T0 + H / 2 + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + 15 * M;
                a->peer = outside(&r);
                break;
            case A_FLOOD:
                a->start = T0 + H + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 15, 30) * M;
                a->rate = uni(&r, 60000, 150000);
                a->peer = outside(&r);
                a->port = i % 2 ? 80 : 53;
                a->pkt_size = 60 + below(&r, 400);
                break;
            case A_FLOODB:
                a->start = T0 + H + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 15, 30) * M;
                a->rate = uni(&r, 3000, 8000);
                a->peer = outside(&r);
                a->port = 53;
                a->pkt_size = 100 + below(&r, 400);
                break;
            case B_WEB:
                a->rate = uni(&r, 20, 60);
                break;
            case B_SESSION:
                a->start = T0 + below(&r, (uint32_t)H);
                a->end = a->start + 4 * H;
                a->peer = outside(&r);
                break;
            case B_INSCAN:
                a->peer = outside(&r);
                a->port = i % 2 ? 23 : 22;
                a->start = T0 + i * H;
                a->end = a->start + H;
                break;
            default:
                break;
            }
            a->next = a->start + (a->period ? below(&r, (uint32_t)a->period) : 0);
            if (o->truth) {
                char h[ADDR_STRLEN], p[ADDR_STRLEN];
                addr_text(a->host, h);
                addr_text(a->peer, p);
                if (a->k == B_INSCAN)
                    fprintf(o->truth, "{\"label\":\"%s\",\"customer\":\"*\",\"peer\":\"%s\",\"start_ms\":%llu,"
                            "\"end_ms\":%llu}\n", kind_label[a->k], p, (unsigned long long)a->start,
                            (unsigned long long)a->end);
                else
                    fprintf(o->truth, "{\"label\":\"%s\",\"customer\":\"%s\",\"host\":\"%s\",\"peer\":\"%s\","
                            "\"port\":%u,\"period_s\":%.1f,\"jitter\":%.2f,\"rate\":%.1f,\"start_ms\":%llu,"
                            "\"end_ms\":%llu}\n", kind_label[a->k], custs[a->cust].id, h, a->peer ? p : "",
                            a->port, a->period / 1000.0, a->jitter, a->rate, (unsigned long long)a->start,
                            (unsigned long long)(a->end < T1 ? a->end : T1));
            }
        }
    }
    if (o->truth) {
        for (size_t c = 0; c < NC; c++)
            fprintf(o->truth, "{\"label\":\"customer\",\"customer\":\"%s\",\"hosts\":%u%s}\n", custs[c].id,
                    nh[c], c == BADCO ? ",\"hostile\":true" : "");
        fprintf(o->truth, "{\"label\":\"scenario\",\"hosts\":%zu,\"duration_s\":%llu,\"start_ms\":%llu}\n",
                total_hosts, (unsigned long long)(o->duration_ms / 1000), (unsigned long long)T0);
    }
    if (o->customers_csv) {
        fprintf(o->customers_csv, "# evaluation customers (tests/gen/gen_eval.c)\nprefix,customer_id,name,asn\n");
        for (size_t c = 0; c < NC; c++)
            fprintf(o->customers_csv, "%s,%s,%s,%zu\n", custs[c].cidr, custs[c].id, custs[c].name, 64600 + c);
    }
    if (o->config) {
        fprintf(o->config, "# detector settings the evaluation scenario assumes (tests/gen/gen_eval.c)\n"
                           "[detector.spam]\nmta = ");
        bool first = true;
        for (size_t i = 0; i < nact; i++) {
            if (act[i].k != B_MTA)
                continue;
            char h[ADDR_STRLEN];
            addr_text(act[i].host, h);
            fprintf(o->config, "%s%s/32", first ? "" : ", ", h);
            first = false;
        }
        fprintf(o->config, "\n[detector.beacon]\nresolvers = 203.0.113.53/32, 203.0.113.123/32\n");
    }

    double pbg = o->bg_rate * SLICE / 60000.0;
    for (uint64_t t = T0; t < T1 && rc == 0; t += SLICE) {
        s.n = 0;
        for (size_t c = 0; c < NC; c++) {
            for (uint32_t h = 0; h < nh[c]; h++) {
                if (u01(&r) >= pbg)
                    continue;
                uint32_t in = custs[c].base + h;
                uint64_t st = t + below(&r, SLICE);
                uint32_t kind = below(&r, 20);
                if (kind < 14)
                    conn(&s, &r, in, outside(&r), eph(&r), kind < 10 ? 443 : 80, st, 300 + below(&r, 2000),
                         1000 + below(&r, 200000));
                else if (kind < 17) {
                    uint16_t sp = eph(&r);
                    rec(&s, in, RESOLVER, sp, 53, 17, 0, 1, 60 + below(&r, 40), st, 0);
                    rec(&s, RESOLVER, in, 53, sp, 17, 0, 1, 100 + below(&r, 300), st + 8, 0);
                } else if (kind < 19)
                    conn(&s, &r, outside(&r), in, eph(&r), kind == 17 ? 443 : 22, st, 300 + below(&r, 900),
                         1000 + below(&r, 30000));
                else
                    rec(&s, in, outside(&r), eph(&r), (uint16_t)(1024 + below(&r, 60000)), 17, 0,
                        1 + below(&r, 5), 100 + below(&r, 1000), st, below(&r, 2000));
            }
        }
        for (size_t i = 0; i < nact; i++)
            actor_slice(&s, &r, &act[i], t);
        if (s.overflow) {
            rc = -E2BIG;
            break;
        }
        if ((rc = gen_order_push(&ord, s.f, s.n, t + SLICE, emit, arg)) != 0)
            break;
    }
    if (rc == 0)
        rc = gen_order_finish(&ord, emit, arg);
out:
    for (size_t c = 0; c < NC; c++)
        free(used[c]);
    free(act);
    free(s.f);
    gen_order_free(&ord);
    return rc;
}
