/* twgen bulk: a large, deterministic export capture and its customer map (see twgen_bulk.h). */
#include "twgen_bulk.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_export.h"
#include "gen_exportw.h"
#include "gen_pcap.h"
#include "twgen_opt.h"

#define BULK_MAX_EXPORTERS 1000
#define BULK_PEERS (1u << 20)
#define BULK_T0_MS 1704067200000ULL /* 2024-01-01T00:00:00Z */
#define BULK_SCANNERS 16
#define BULK_MAILERS 16

struct bulk {
    uint64_t records, hosts, prefixes, customers, span_ms;
    unsigned exporters, v6pct, plen;
    int format; /* 5, 9, 10, or 0 = mixed */
    bool sweep; /* the uniform part walks every host in turn */
    uint64_t rng;
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t mix(uint64_t x)
{
    uint64_t s = x;
    return splitmix(&s);
}

static bool host_is_v6(const struct bulk *b, uint64_t j)
{
    return b->v6pct && mix(j ^ 0x6666) % 100 < b->v6pct;
}

/* Inside host j: prefix j % P, the (j / P + 1)-th address in it. */
static void host_addr(const struct bulk *b, uint64_t j, uint8_t out[16])
{
    uint64_t pi = j % b->prefixes, k = j / b->prefixes + 1;
    if (host_is_v6(b, j)) {
        uint16_t s[8] = {0x2001, 0x0db8, (uint16_t)pi, 0, 0, 0, (uint16_t)(k >> 16), (uint16_t)k};
        gen_v6(out, s);
        return;
    }
    uint32_t base = 0x0A000000u | (uint32_t)(pi << (32 - b->plen));
    gen_v4(out, base + (uint32_t)k);
}

/* Outside peer k of the pool: public-looking, never in 10/8 or the v6 customer space. */
static void peer_addr(uint64_t k, bool v6, uint8_t out[16])
{
    uint64_t h = mix(k * 0x9e37u + 17);
    if (v6) {
        uint16_t s[8] = {(uint16_t)(0x2a00 | (h & 0xff)),
                         (uint16_t)(h >> 8),
                         (uint16_t)(h >> 24),
                         0,
                         0,
                         0,
                         (uint16_t)(h >> 40),
                         (uint16_t)(h >> 48) | 1};
        gen_v6(out, s);
        return;
    }
    uint32_t first = 11 + (uint32_t)(h % 212); /* 11..222 */
    if (first == 127)
        first = 128;
    gen_v4(out, first << 24 | ((uint32_t)(h >> 8) & 0xffffffu));
}

static int write_customers(const struct bulk *b, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (uint64_t pi = 0; pi < b->prefixes; pi++) {
        uint64_t c = pi % b->customers + 1;
        uint32_t base = 0x0A000000u | (uint32_t)(pi << (32 - b->plen));
        fprintf(f, "10.%u.%u.%u/%u,c%llu,Customer %llu,%llu\n", (base >> 16) & 255,
                (base >> 8) & 255, base & 255, b->plen, (unsigned long long)c,
                (unsigned long long)c, (unsigned long long)(64512 + c));
        if (b->v6pct)
            fprintf(f, "2001:db8:%llx::/48,c%llu,Customer %llu,%llu\n", (unsigned long long)pi,
                    (unsigned long long)c, (unsigned long long)c, (unsigned long long)(64512 + c));
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int version_of(const struct bulk *b, unsigned e)
{
    static const int mixed[3] = {5, 9, 10};
    return b->format ? b->format : mixed[e % 3];
}

static const uint16_t common_ports[8] = {443, 80, 53, 443, 993, 123, 8080, 443};

static void make_flow(struct bulk *b, uint64_t i, int version, struct gen_flow *f)
{
    memset(f, 0, sizeof *f);
    uint64_t r = splitmix(&b->rng), r2 = splitmix(&b->rng);
    uint64_t j;
    unsigned kind = (unsigned)(r % 1000);
    if (kind < 2)
        j = mix(r2 % BULK_SCANNERS) % b->hosts; /* scanner */
    else if (kind < 4)
        j = mix((r2 % BULK_MAILERS) + 100) % b->hosts; /* mass mailer */
    else if (kind < 200)
        j = (r2 % ((b->hosts + 99) / 100)) * 100 % b->hosts; /* busy 1 % */
    else
        j = b->sweep ? i % b->hosts : r2 % b->hosts;
    if (version == 5) /* v5 cannot carry IPv6: take the next IPv4 host */
        for (unsigned k = 0; k < 200 && host_is_v6(b, j); k++)
            j = (j + 1) % b->hosts;
    bool v6 = host_is_v6(b, j);
    uint8_t inside[16], peer[16];
    host_addr(b, j, inside);
    uint64_t pk = (r >> 20) % BULK_PEERS;
    peer_addr(pk, v6, peer);
    uint16_t eph = (uint16_t)(32768 + (r2 >> 32) % 28000);
    uint16_t svc = common_ports[(r >> 12) & 7];
    bool out = (r >> 10) & 1;
    f->proto = (svc == 53 || svc == 123) ? 17 : 6;
    f->tcp_flags = f->proto == 6 ? 0x1b : 0;
    f->packets = 1 + (r2 >> 8) % 40;
    f->bytes = f->packets * (40 + (r2 >> 16) % 1400);
    if (kind < 4) { /* scanners and mailers originate toward many peers */
        out = true;
        peer_addr(r2 >> 7, v6, peer);
        svc = kind < 2 ? ((r2 & 1) ? 22 : 445) : 25;
        f->proto = 6;
        f->tcp_flags = kind < 2 ? 0x02 : 0x1b;
        f->packets = kind < 2 ? 1 : 8;
        f->bytes = kind < 2 ? 60 : 3000;
    }
    if (out) {
        memcpy(f->src, inside, 16);
        memcpy(f->dst, peer, 16);
        f->sport = eph;
        f->dport = svc;
    } else {
        memcpy(f->src, peer, 16);
        memcpy(f->dst, inside, 16);
        f->sport = svc;
        f->dport = eph;
    }
    f->end_ms = BULK_T0_MS + i * b->span_ms / b->records;
    uint64_t dur = (r >> 40) % 30000;
    f->start_ms = f->end_ms > dur ? f->end_ms - dur : f->end_ms;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void usage(FILE *o)
{
    fprintf(o,
            "usage: twgen bulk [-f v5|v9|ipfix|mixed] [-n RECORDS] [-e EXPORTERS] [-H HOSTS]\n"
            "                  [-c CUSTOMERS] [-p PREFIXES] [-d SECONDS] [-6 PERCENT] [-s SEED]\n"
            "                  [-S] [--write-customers CSV] -o FILE\n");
}

int twgen_bulk_main(int argc, char **argv)
{
    struct bulk b = {.records = 2000000,
                     .hosts = 100000,
                     .prefixes = 4096,
                     .customers = 50,
                     .span_ms = 300000,
                     .exporters = 4,
                     .v6pct = 10,
                     .format = 10,
                     .rng = 1};
    const char *out = NULL, *csv = NULL;
    int status;
    bool v6_given = false;
    int c;
    uint64_t v;
    optind = 1;
    static const struct option opts[] = {
        {"write-customers", required_argument, NULL, 1001},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "f:n:e:H:c:p:d:6:s:So:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'f':
            b.format = strcmp(optarg, "mixed") == 0 ? 0 : gen_exportw_version_parse(optarg);
            bad = b.format < 0;
            break;
        case 'n':
            bad = parse_u64(optarg, 1, 1ULL << 34, &b.records);
            break;
        case 'e':
            bad = parse_u64(optarg, 1, BULK_MAX_EXPORTERS, &v);
            b.exporters = (unsigned)v;
            break;
        case 'H':
            bad = parse_u64(optarg, 1, 100000000, &b.hosts);
            break;
        case 'c':
            bad = parse_u64(optarg, 1, 1000000, &b.customers);
            break;
        case 'p':
            bad = parse_u64(optarg, 1, 1u << 20, &b.prefixes);
            break;
        case 'd':
            bad = parse_u64(optarg, 1, 86400 * 30, &v);
            b.span_ms = v * 1000;
            break;
        case '6':
            bad = parse_u64(optarg, 0, 100, &v);
            b.v6pct = (unsigned)v;
            v6_given = true;
            break;
        case 's':
            bad = parse_u64(optarg, 0, UINT64_MAX, &v);
            b.rng = v;
            break;
        case 'S':
            b.sweep = true;
            break;
        case 1001:
            csv = optarg;
            break;
        default:
            if (twgen_opt_exit(c, &out, usage, &status))
                return status;
        }
        if (bad) {
            fprintf(stderr, "twgen bulk: bad value for -%c: '%s'\n", c, optarg);
            return 2;
        }
    }
    if (!out || optind < argc) {
        usage(stderr);
        return 2;
    }
    if (b.format == 5 && !v6_given)
        b.v6pct = 0;
    if (b.v6pct == 100 && b.format == 5) {
        fprintf(stderr, "twgen bulk: v5 cannot carry IPv6 hosts\n");
        return 2;
    }
    /* prefix length: P prefixes side by side in 10.0.0.0/8 */
    unsigned bits = 0;
    while (((uint64_t)1 << bits) < b.prefixes)
        bits++;
    if (bits > 22) {
        fprintf(stderr, "twgen bulk: at most 4194304 prefixes\n");
        return 2;
    }
    b.plen = 8 + bits;
    uint64_t per = (b.hosts + b.prefixes - 1) / b.prefixes;
    if (per + 2 > ((uint64_t)1 << (32 - b.plen)) || per > 65535 * 65536ULL) {
        fprintf(stderr, "twgen bulk: %llu hosts do not fit in %llu prefixes of /%u\n",
                (unsigned long long)b.hosts, (unsigned long long)b.prefixes, b.plen);
        return 2;
    }
    if (b.customers > b.prefixes)
        b.customers = b.prefixes;
    if (csv && write_customers(&b, csv) < 0) {
        fprintf(stderr, "twgen bulk: cannot write %s\n", csv);
        return 1;
    }
    struct gen_pcap_opts po = {.linktype = 1};
    struct gen_pcap *pc;
    if (gen_pcap_open(out, &po, &pc) < 0) {
        fprintf(stderr, "twgen bulk: cannot write %s\n", out);
        return 1;
    }
    struct gen_exportw *w[BULK_MAX_EXPORTERS];
    int rc = 0;
    unsigned nw = 0;
    for (; nw < b.exporters; nw++) {
        struct gen_exportw_opts eo = {.version = version_of(&b, nw), .domain = nw + 1};
        uint32_t ea = nw < 250 ? 0xC0000201u + nw : 0xC6120000u + nw; /* 192.0.2.x, 198.18/15 */
        gen_v4(eo.exporter, ea);
        gen_v4(eo.collector, 0xC00002FEu);
        if (gen_exportw_new(&eo, pc, &w[nw]) < 0) {
            rc = -1;
            break;
        }
    }
    for (uint64_t i = 0; rc == 0 && i < b.records; i++) {
        unsigned e = (unsigned)(i % b.exporters);
        struct gen_flow f;
        make_flow(&b, i, version_of(&b, e), &f);
        if (gen_exportw_add(w[e], &f) < 0)
            rc = -1;
    }
    uint64_t flows = 0, skipped = 0;
    for (unsigned e = 0; e < nw; e++) {
        struct gen_exportw_stats st;
        gen_exportw_stats(w[e], &st);
        flows += st.flows;
        skipped += st.skipped_v6;
        if (gen_exportw_close(w[e]) < 0)
            rc = -1;
    }
    if (gen_pcap_close(pc) < 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "twgen bulk: write failed\n");
        return 1;
    }
    fprintf(stderr,
            "twgen bulk: %s: records=%llu skipped_v6=%llu hosts=%llu prefixes=%llu/%u "
            "customers=%llu exporters=%u\n",
            out, (unsigned long long)flows, (unsigned long long)skipped,
            (unsigned long long)b.hosts, (unsigned long long)b.prefixes, b.plen,
            (unsigned long long)b.customers, b.exporters);
    return 0;
}
