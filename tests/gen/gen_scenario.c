#include "gen_scenario.h"

#include "addr.h"
#include "gen_order.h"
#include "gen_rng.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SLICE_MS 10000ULL
#define MAX_SLICE_FLOWS 200000

/* The sample customers (configs/customers.csv): an IPv4 base and how many hosts fit. */
struct scn_customer {
    const char *id;
    uint32_t v4_base; /* first host address, host order */
    uint32_t v4_hosts;
    uint16_t v6_prefix[3]; /* first 48 bits of its IPv6 space (0 = none) */
};

static const struct scn_customer customers[] = {
    {"acme", 0xC0000201u, 120, {0x2001, 0x0db8, 0x0100}},      /* 192.0.2.0/25 */
    {"globex", 0xC6336401u, 200, {0x2001, 0x0db8, 0x0200}},    /* 198.51.100.0/24 less /28 */
    {"initech", 0xCB007101u, 60, {0, 0, 0}},                   /* 203.0.113.0/26 */
    {"umbrella", 0x64400001u, 2000, {0x2001, 0x0db8, 0x4000}}, /* 100.64.0.0/16 */
};
#define NCUST (sizeof customers / sizeof customers[0])

struct slice {
    struct gen_flow *f;
    size_t n, cap;
    bool overflow;
};

static void push(struct slice *s, const struct gen_flow *f)
{
    if (s->n < s->cap)
        s->f[s->n++] = *f;
    else
        s->overflow = true;
}

/* Outside servers: a deterministic pool of public-looking addresses that are in no sample list. */
static uint32_t outside_v4(struct rng *r)
{
    static const uint32_t nets[] = {0x5DB8D800u, 0x97650000u, 0x8EFA0000u, 0x68100000u,
                                    0x2D3C0000u};
    return nets[below(r, 5)] | below(r, 0xFFFF);
}

static void tcp_pair(struct slice *s, const uint8_t in[16], const uint8_t out[16], uint16_t sport,
                     uint16_t dport, uint64_t start, uint32_t dur_ms, uint64_t req_bytes,
                     uint64_t resp_bytes)
{
    struct gen_flow f;
    memset(&f, 0, sizeof f);
    memcpy(f.src, in, 16);
    memcpy(f.dst, out, 16);
    f.sport = sport;
    f.dport = dport;
    f.proto = 6;
    f.tcp_flags = 0x1b; /* FIN SYN PSH ACK */
    f.bytes = req_bytes;
    f.packets = req_bytes / 500 + 3;
    f.start_ms = start;
    f.end_ms = start + dur_ms;
    push(s, &f);
    memcpy(f.src, out, 16);
    memcpy(f.dst, in, 16);
    f.sport = dport;
    f.dport = sport;
    f.tcp_flags = 0x1b;
    f.bytes = resp_bytes;
    f.packets = resp_bytes / 1400 + 3;
    f.start_ms = start + 20;
    f.end_ms = start + dur_ms;
    push(s, &f);
}

static void host_addr(const struct scn_customer *c, uint32_t i, uint8_t out[16])
{
    gen_v4(out, c->v4_base + i);
}

/* One labelled actor: a host contacting a listed peer periodically. */
struct actor {
    const char *label; /* ground-truth category */
    const char *customer;
    const char *host; /* address text */
    const char *peer;
    uint16_t dport;
    uint32_t period_ms;
    double jitter; /* fraction of the period */
    bool inbound;  /* the listed peer connects to the host */
};

static const struct actor actors[] = {
    {"blocklist", "acme", "192.0.2.10", "198.18.7.7", 443, 60000, 0.15, false},
    {"blocklist", "initech", "203.0.113.5", "203.0.113.250", 8080, 120000, 0.10, false},
    {"blocklist", "globex", "2001:db8:200::25", "2001:db8:dead::10", 443, 90000, 0.10, false},
    {"blocklist", "umbrella", "100.64.3.3", "198.19.66.1", 7547, 300000, 0.20, true},
};

static int parse_addr(const char *s, uint8_t out[16])
{
    return addr_parse(s, out);
}

void gen_scenario_defaults(struct gen_scenario_opts *o)
{
    memset(o, 0, sizeof *o);
    o->start_ms = 1221868800000ULL; /* 2008-09-20 00:00 UTC: the week Intercage went dark */
    o->duration_ms = 30 * 60 * 1000ULL;
    o->seed = 2008;
    o->hosts_per_customer = 40;
    o->flows_per_host_min = 2.0;
}

int gen_scenario_run(const struct gen_scenario_opts *o, gen_flow_fn emit, void *arg)
{
    struct slice s = {calloc(MAX_SLICE_FLOWS, sizeof(struct gen_flow)), 0, MAX_SLICE_FLOWS, false};
    if (!s.f)
        return -ENOMEM;
    struct rng r = {0x9E3779B97F4A7C15ULL ^ o->seed};
    uint64_t next_contact[sizeof actors / sizeof actors[0]];
    uint8_t ahost[sizeof actors / sizeof actors[0]][16],
        apeer[sizeof actors / sizeof actors[0]][16];
    size_t nact = sizeof actors / sizeof actors[0];
    for (size_t i = 0; i < nact; i++) {
        if (parse_addr(actors[i].host, ahost[i]) < 0 || parse_addr(actors[i].peer, apeer[i]) < 0) {
            free(s.f);
            return -EINVAL;
        }
        next_contact[i] = o->start_ms + below(&r, actors[i].period_ms);
        if (o->truth)
            fprintf(o->truth,
                    "{\"label\":\"%s\",\"customer\":\"%s\",\"host\":\"%s\",\"peer\":\"%s\","
                    "\"port\":%u,\"period_s\":%.1f,\"jitter\":%.2f,\"direction\":\"%s\"}\n",
                    actors[i].label, actors[i].customer, actors[i].host, actors[i].peer,
                    actors[i].dport, actors[i].period_ms / 1000.0, actors[i].jitter,
                    actors[i].inbound ? "inbound" : "outbound");
    }
    double p_flow = o->flows_per_host_min * (double)SLICE_MS / 60000.0;
    int rc = 0;
    /* A flow is generated in the slice it starts in and lasts < 1 slice; gen_order hands them
     * on in end order one slice behind. */
    struct gen_order ord;
    if (gen_order_init(&ord, MAX_SLICE_FLOWS) < 0) {
        free(s.f);
        return -ENOMEM;
    }
    for (uint64_t t = o->start_ms; t < o->start_ms + o->duration_ms && rc == 0; t += SLICE_MS) {
        s.n = 0;
        for (size_t c = 0; c < NCUST; c++) {
            const struct scn_customer *cu = &customers[c];
            uint32_t nh =
                o->hosts_per_customer < cu->v4_hosts ? o->hosts_per_customer : cu->v4_hosts;
            for (uint32_t h = 0; h < nh; h++) {
                uint8_t in[16], out[16];
                host_addr(cu, h, in);
                double p = p_flow;
                while (p > 0 && u01(&r) < p) {
                    p -= 1.0;
                    uint64_t start = t + below(&r, (uint32_t)SLICE_MS / 2);
                    uint32_t kind = below(&r, 10);
                    uint16_t sport = (uint16_t)(32768 + below(&r, 28000));
                    if (kind < 7) { /* web */
                        gen_v4(out, outside_v4(&r));
                        tcp_pair(&s, in, out, sport, kind < 5 ? 443 : 80, start,
                                 200 + below(&r, 4000), 400 + below(&r, 2000),
                                 2000 + below(&r, 200000));
                    } else if (kind < 9) { /* DNS to the outside resolver */
                        gen_v4(out, 0x08080808u + below(&r, 2) * 0x00000404u);
                        struct gen_flow f;
                        memset(&f, 0, sizeof f);
                        memcpy(f.src, in, 16);
                        memcpy(f.dst, out, 16);
                        f.sport = sport;
                        f.dport = 53;
                        f.proto = 17;
                        f.bytes = 60 + below(&r, 40);
                        f.packets = 1;
                        f.start_ms = f.end_ms = start;
                        push(&s, &f);
                        memcpy(f.src, out, 16);
                        memcpy(f.dst, in, 16);
                        f.sport = 53;
                        f.dport = sport;
                        f.bytes = 100 + below(&r, 300);
                        f.start_ms = f.end_ms = start + 15;
                        push(&s, &f);
                    } else { /* an outside client reaching a customer server */
                        gen_v4(out, outside_v4(&r));
                        tcp_pair(&s, out, in, sport, 443, start, 100 + below(&r, 2000),
                                 300 + below(&r, 1000), 1000 + below(&r, 50000));
                    }
                }
            }
        }
        for (size_t i = 0; i < nact; i++) {
            const struct actor *a = &actors[i];
            while (next_contact[i] < t + SLICE_MS) {
                uint64_t start = next_contact[i];
                uint16_t sport = (uint16_t)(40000 + below(&r, 20000));
                if (start >= t) {
                    if (a->inbound)
                        tcp_pair(&s, apeer[i], ahost[i], sport, a->dport, start, 300, 200, 600);
                    else
                        tcp_pair(&s, ahost[i], apeer[i], sport, a->dport, start, 300, 310, 1200);
                }
                double j = ((u01(&r) * 2.0) - 1.0) * a->jitter;
                next_contact[i] = start + (uint64_t)((double)a->period_ms * (1.0 + j));
            }
        }
        rc = gen_order_push(&ord, s.f, s.n, t + SLICE_MS, emit, arg);
    }
    if (rc == 0)
        rc = gen_order_finish(&ord, emit, arg);
    if (s.overflow && rc == 0)
        rc = -E2BIG;
    gen_order_free(&ord);
    free(s.f);
    return rc;
}
