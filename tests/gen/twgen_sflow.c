/* twgen_sflow.c: the sFlow fuzz seeds and a capture's sFlow export (see twgen_sflow.h). */
#include "twgen_sflow.h"

#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_pcap.h"
#include "gen_rng.h"
#include "gen_sflow.h"

static int write_file(const char *dir, const char *name, const uint8_t *p, int n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || n < 0 || fwrite(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "twgen sflow-corpus: cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int twgen_sflow_corpus_main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: twgen sflow-corpus DIR\n");
        return 2;
    }
    static const struct {
        const char *name;
        bool v6, vxlan, sampled_ip, expanded, counters;
        uint16_t vlan;
    } seeds[] = {
        {"v4-raw", false, false, false, false, false, 0},
        {"v6-raw-expanded", true, false, false, true, false, 0},
        {"v4-vlan-gateway", false, false, false, false, false, 100},
        {"v6-vxlan", true, true, false, false, false, 0},
        {"v4-sampled-ip", false, false, true, true, false, 0},
        {"counters", false, false, false, false, true, 0},
    };
    uint8_t agent[16], buf[4096];
    gen_addr4(agent, 10, 0, 0, 1);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        struct gen_sflow m;
        gen_sflow_begin(&m, buf, sizeof buf, agent, (uint32_t)i, 1, 1000);
        struct gen_flow f;
        gen_flow_fill(&f, 10, (uint32_t)i, seeds[i].v6, 1700000000000ull);
        struct gen_sflow_opts o = {.rate = 1000,
                                   .in_if = 3,
                                   .out_if = 4,
                                   .ip_len = 1200,
                                   .vlan = seeds[i].vlan,
                                   .vxlan = seeds[i].vxlan,
                                   .sampled_ip = seeds[i].sampled_ip,
                                   .expanded = seeds[i].expanded,
                                   .src_as = seeds[i].vlan ? 65001 : 0,
                                   .dst_as = seeds[i].vlan ? 65002 : 0};
        if (seeds[i].counters) {
            struct gen_sflow_iface ifc = {.ifindex = 3, .speed = 1000000000, .in_octets = 5};
            gen_sflow_counters(&m, &ifc);
        } else {
            gen_sflow_flow(&m, &f, &o);
            gen_sflow_flow(&m, &f, &o);
        }
        if (write_file(argv[1], seeds[i].name, buf, gen_sflow_end(&m)) < 0)
            return 1;
    }
    return 0;
}

static void sflowize_usage(FILE *o)
{
    fprintf(o, "usage: twgen sflowize IN.pcap OUT.pcap -r RATE [-s SEED]\n"
               "  each packet of IN (Ethernet) kept with probability 1/RATE (RATE 1: every one;\n"
               "  seeded, the same SEED keeps the same packets) becomes one sFlow v5 datagram of\n"
               "  agent 192.0.2.40: one flow sample (sampling_rate RATE, sample_pool the packets\n"
               "  seen so far) with the packet's first 128 bytes as its raw header record, in UDP\n"
               "  192.0.2.40:50000 -> 192.0.2.14:6343 at the packet's own time, written to OUT\n");
}

struct sflowize {
    struct gen_pcap *out;
    struct rng rng;
    uint32_t rate, seq;
    uint64_t t0_ms, seen, kept, errors;
    uint8_t agent[16], collector[16];
};

/* pcap_loop's callback: one packet of the input. */
static void sflowize_pkt(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct sflowize *z = (struct sflowize *)(void *)arg; /* pcap_loop hands our pointer back */
    z->seen++;
    uint64_t ms = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;
    if (!z->t0_ms)
        z->t0_ms = ms;
    if (z->rate > 1 && below(&z->rng, z->rate) != 0)
        return;
    uint8_t buf[512];
    struct gen_sflow m;
    gen_sflow_begin(&m, buf, sizeof buf, z->agent, 0, ++z->seq, (uint32_t)(ms - z->t0_ms));
    struct gen_sflow_opts o = {.rate = z->rate, .pool = (uint32_t)z->seen, .in_if = 1, .out_if = 2};
    gen_sflow_frame(&m, bytes, h->caplen, h->len, &o);
    int len = gen_sflow_end(&m);
    uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull;
    if (len < 0 ||
        gen_pcap_write_udp(z->out, ns, z->agent, 50000, z->collector, 6343, buf, (size_t)len) < 0)
        z->errors++;
    else
        z->kept++;
}

int twgen_sflowize_main(int argc, char **argv)
{
    struct sflowize z = {.rate = 0};
    uint64_t seed = 1;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "r:s:h")) != -1) {
        if (c == 'r') {
            unsigned long v = strtoul(optarg, NULL, 10);
            if (v < 1 || v > 1000000) {
                fprintf(stderr, "twgen sflowize: -r takes a sampling rate 1..1000000\n");
                return 2;
            }
            z.rate = (uint32_t)v;
        } else if (c == 's') {
            seed = strtoull(optarg, NULL, 10);
        } else {
            sflowize_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 2 || !z.rate) {
        sflowize_usage(stderr);
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(argv[optind], err);
    if (!in) {
        fprintf(stderr, "twgen sflowize: %s: %s\n", argv[optind], err);
        return 1;
    }
    if (pcap_datalink(in) != DLT_EN10MB) {
        fprintf(stderr, "twgen sflowize: %s: link type %d, only Ethernet is exported\n",
                argv[optind], pcap_datalink(in));
        pcap_close(in);
        return 1;
    }
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB};
    if (gen_pcap_open(argv[optind + 1], &po, &z.out) < 0) {
        fprintf(stderr, "twgen sflowize: cannot write %s\n", argv[optind + 1]);
        pcap_close(in);
        return 1;
    }
    z.rng.s = 0x9E3779B97F4A7C15ULL ^ (seed * 0xD1B54A32D192ED03ULL) ^ 1;
    gen_addr4(z.agent, 192, 0, 2, 40);
    gen_addr4(z.collector, 192, 0, 2, 14);
    int rc = pcap_loop(in, -1, sflowize_pkt, (u_char *)&z);
    if (rc == PCAP_ERROR)
        fprintf(stderr, "twgen sflowize: %s: %s\n", argv[optind], pcap_geterr(in));
    pcap_close(in);
    if (gen_pcap_close(z.out) < 0 || rc == PCAP_ERROR || z.errors) {
        fprintf(stderr, "twgen sflowize: %s not written whole\n", argv[optind + 1]);
        return 1;
    }
    fprintf(stderr, "twgen sflowize: %s: %llu packets, %llu sampled at 1:%u seed %llu\n",
            argv[optind], (unsigned long long)z.seen, (unsigned long long)z.kept, z.rate,
            (unsigned long long)seed);
    return 0;
}
