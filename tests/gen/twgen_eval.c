#include "twgen_eval.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_eval.h"
#include "gen_exportw.h"
#include "gen_flowpkts.h"
#include "gen_pcap.h"
#include "gen_sflow.h"
#include "twgen_opt.h"

/* The router the export comes from lets a flow go at its FIN or RST, else 15 s after its last
 * packet: Cisco IOS's default inactive timeout, and the flow meter's idle_timeout default, so
 * the raw packets of the traffic metered give the records at the same points of the stream. */
#define EVAL_INACTIVE_MS 15000

static void usage(FILE *o)
{
    fprintf(o,
            "usage: twgen eval [-f v5|v9|ipfix|raw|sflow] [-N RATE] [-m MINUTES] [-s SEED] [-x "
            "HOST_SCALE]\n"
            "                  [-r BG_RATE] [-F] [-z] [-t TRUTH] [--write-customers CSV] "
            "[--write-config CONF] -o FILE\n"
            "  (the outputs have long names only: no letter shared with transitwatch replay's\n"
            "  inputs -c CONFIG and -C CUSTOMERS)\n"
            "  -f raw: the packets of the traffic (for the flow meter) instead of its export\n"
            "  -f sflow: 1-in-RATE random samples of those packets (-N, default 1; seeded by -s)\n"
            "  exported as sFlow v5 with counter samples every 20 s\n"
            "  -F: no flooders (a raw slice stays small)\n");
}

static int run_eval(void *arg, gen_flow_fn emit, void *emit_arg)
{
    return gen_eval_run(arg, emit, emit_arg);
}

/* -f raw: the flows as packets (gen_flowpkts), Ethernet, into a capture */
struct raw_arg {
    struct gen_flowpkts *w;
    int err;
};

static int raw_flow(void *arg, const struct gen_flow *f)
{
    struct raw_arg *ra = arg;
    int rc = gen_flowpkts_add(ra->w, f);
    if (rc < 0)
        ra->err = rc;
    return rc;
}

static int write_raw(const char *path, bool gz, struct gen_eval_opts *eo, uint64_t *packets)
{
    /* headers only: the meter counts the IP length field, not the bytes captured */
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB, .gzip = gz, .snaplen = 96};
    struct gen_pcap *pc;
    if (gen_pcap_open(path, &po, &pc) < 0) {
        fprintf(stderr, "twgen: cannot write %s\n", path);
        return -1;
    }
    struct raw_arg ra = {0};
    int rc = gen_flowpkts_new(pc, &ra.w);
    if (rc == 0) {
        rc = gen_eval_run(eo, raw_flow, &ra);
        if (gen_flowpkts_close(ra.w, packets) < 0 && rc == 0)
            rc = -1;
    }
    if (gen_pcap_close(pc) < 0 && rc == 0)
        rc = -1;
    return rc;
}

/* -f sflow: the packets of the traffic, 1-in-N random packet samples of them (gen_flowpkts,
 * seeded by the scenario's seed), exported by one sFlow v5 agent (10.255.0.1, the NetFlow
 * router's address) to 10.255.0.100:6343 as raw packet header records. A datagram leaves when it
 * holds SFLOW_DGRAM_BYTES or its first sample is a second old, stamped with its last sample's
 * time (sFlow records take their time from arrival); every SFLOW_COUNTER_US of traffic time a
 * counters sample of ifIndex 1 (every packet of the traffic so far, sampled or not: the pool). */
#define SFLOW_DGRAM_BYTES 1200
#define SFLOW_COUNTERS_BYTES 116     /* gen_sflow_counters' sample: generic interface counters */
#define SFLOW_COUNTER_US 20000000ULL /* hsflowd's and most switches' polling interval, 20 s */

struct sflow_arg {
    struct gen_pcap *pc;
    struct gen_sflow m;
    uint8_t buf[1500], agent[16], collector[16];
    uint32_t rate, seq;
    uint64_t first_us, last_us, next_counter_us, t0_us;
    uint64_t datagrams, samples;
    bool open;
};

static int sflow_send(struct sflow_arg *sa)
{
    if (!sa->open)
        return 0;
    sa->open = false;
    int len = gen_sflow_end(&sa->m);
    if (len < 0)
        return -1;
    sa->datagrams++;
    return gen_pcap_write_udp(sa->pc, sa->last_us * 1000, sa->agent, 50001, sa->collector, 6343,
                              sa->buf, (size_t)len);
}

static void sflow_begin(struct sflow_arg *sa, uint64_t ts_us)
{
    if (sa->open)
        return;
    if (!sa->t0_us)
        sa->t0_us = ts_us;
    gen_sflow_begin(&sa->m, sa->buf, sizeof sa->buf, sa->agent, 0, ++sa->seq,
                    (uint32_t)((ts_us - sa->t0_us) / 1000 + 60000));
    sa->open = true;
    sa->first_us = ts_us;
}

static int sflow_pkt(void *arg, const struct gen_flowpkt *p)
{
    struct sflow_arg *sa = arg;
    if (sa->open && (sa->m.len > SFLOW_DGRAM_BYTES || p->ts_us > sa->first_us + 1000000) &&
        sflow_send(sa) < 0)
        return -1;
    sflow_begin(sa, p->ts_us);
    sa->last_us = p->ts_us;
    struct gen_flow f = *p->flow;
    f.tcp_flags = p->tcp_flags;
    if ((f.proto == 1 || f.proto == 58) && !f.icmp)
        f.icmp = f.dport;
    struct gen_sflow_opts o = {.rate = sa->rate,
                               .pool = (uint32_t)p->pool_packets,
                               .in_if = 1,
                               .out_if = 2,
                               .ip_len = p->ip_len};
    gen_sflow_flow(&sa->m, &f, &o);
    sa->samples++;
    if (p->ts_us >= sa->next_counter_us) {
        if (sa->next_counter_us)
            sa->next_counter_us +=
                SFLOW_COUNTER_US * ((p->ts_us - sa->next_counter_us) / SFLOW_COUNTER_US + 1);
        else
            sa->next_counter_us = p->ts_us + SFLOW_COUNTER_US;
        /* a datagram that a flow sample filled past SFLOW_DGRAM_BYTES has no room left for the
         * counters: they open the next one */
        if (sa->m.len + SFLOW_COUNTERS_BYTES > sizeof sa->buf) {
            if (sflow_send(sa) < 0)
                return -1;
            sflow_begin(sa, p->ts_us);
        }
        struct gen_sflow_iface ifc = {.ifindex = 1,
                                      .speed = 10000000000ULL,
                                      .in_octets = p->pool_bytes,
                                      .in_pkts = (uint32_t)p->pool_packets};
        gen_sflow_counters(&sa->m, &ifc);
    }
    return 0;
}

static int write_sflow(const char *path, bool gz, struct gen_eval_opts *eo, uint32_t rate,
                       uint64_t *samples, uint64_t *datagrams)
{
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB, .gzip = gz};
    static struct sflow_arg sa;
    memset(&sa, 0, sizeof sa);
    sa.rate = rate;
    gen_addr4(sa.agent, 10, 255, 0, 1);
    gen_addr4(sa.collector, 10, 255, 0, 100);
    if (gen_pcap_open(path, &po, &sa.pc) < 0) {
        fprintf(stderr, "twgen: cannot write %s\n", path);
        return -1;
    }
    struct raw_arg ra = {0};
    int rc = gen_flowpkts_new_sampled(rate, eo->seed, sflow_pkt, &sa, &ra.w);
    if (rc == 0) {
        rc = gen_eval_run(eo, raw_flow, &ra);
        if (gen_flowpkts_close(ra.w, NULL) < 0 && rc == 0)
            rc = -1;
        if (sflow_send(&sa) < 0 && rc == 0)
            rc = -1;
    }
    if (gen_pcap_close(sa.pc) < 0 && rc == 0)
        rc = -1;
    *samples = sa.samples;
    *datagrams = sa.datagrams;
    return rc;
}

static FILE *open_w(const char *path)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (path && !f)
        fprintf(stderr, "twgen: cannot write %s\n", path);
    return f;
}

int twgen_eval_main(int argc, char **argv)
{
    struct gen_eval_opts eo;
    gen_eval_defaults(&eo);
    const char *out = NULL, *truth = NULL, *csv = NULL, *conf = NULL;
    int status;
    int version = 10, c;
    bool gz = false, raw = false, sflow = false;
    uint32_t rate = 1;
    optind = 1;
    static const struct option opts[] = {
        {"write-customers", required_argument, NULL, 1001},
        {"write-config", required_argument, NULL, 1002},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "f:N:m:s:x:r:Fzt:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            raw = strcmp(optarg, "raw") == 0;
            sflow = strcmp(optarg, "sflow") == 0;
            version = raw || sflow ? 10 : gen_exportw_version_parse(optarg);
            if (version < 0) {
                fprintf(stderr, "twgen: -f takes v5, v9, ipfix, raw or sflow\n");
                return 2;
            }
            break;
        case 'N': {
            unsigned long v = strtoul(optarg, NULL, 10);
            if (v < 1 || v > 1000000) {
                fprintf(stderr, "twgen: -N takes a sampling rate 1..1000000\n");
                return 2;
            }
            rate = (uint32_t)v;
            break;
        }
        case 'F':
            eo.no_floods = true;
            break;
        case 'm':
            eo.duration_ms = strtoull(optarg, NULL, 10) * 60000ULL;
            break;
        case 's':
            eo.seed = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'x':
            eo.host_scale = strtod(optarg, NULL);
            break;
        case 'r':
            eo.bg_rate = strtod(optarg, NULL);
            break;
        case 'z':
            gz = true;
            break;
        case 't':
            truth = optarg;
            break;
        case 1001:
            csv = optarg;
            break;
        case 1002:
            conf = optarg;
            break;
        default:
            if (twgen_opt_exit(c, &out, usage, &status))
                return status;
        }
    }
    if (!out || eo.duration_ms == 0 || !(eo.host_scale > 0 && eo.host_scale <= 100) ||
        eo.bg_rate < 0) {
        usage(stderr);
        return 2;
    }
    eo.truth = open_w(truth);
    eo.customers_csv = open_w(csv);
    eo.config = open_w(conf);
    struct gen_exportw_stats st;
    memset(&st, 0, sizeof st);
    int rc = (truth && !eo.truth) || (csv && !eo.customers_csv) || (conf && !eo.config) ? -1 : 0;
    uint64_t packets = 0, datagrams = 0;
    if (rc == 0 && raw)
        rc = write_raw(out, gz, &eo, &packets);
    else if (rc == 0 && sflow)
        rc = write_sflow(out, gz, &eo, rate, &packets, &datagrams);
    else if (rc == 0)
        rc = gen_exportw_capture(out, version, gz, EVAL_INACTIVE_MS, run_eval, &eo, &st);
    if (eo.truth)
        fclose(eo.truth);
    if (eo.customers_csv)
        fclose(eo.customers_csv);
    if (eo.config)
        fclose(eo.config);
    if (rc == -ERANGE) {
        fprintf(stderr, "twgen: -x %g puts hosts beyond their customer's prefix\n", eo.host_scale);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "twgen: eval failed (%d)\n", rc);
        return 1;
    }
    if (raw)
        fprintf(stderr, "twgen: %s: %llu packets\n", out, (unsigned long long)packets);
    else if (sflow)
        fprintf(stderr, "twgen: %s: %llu flow samples (1:%u) in %llu datagrams\n", out,
                (unsigned long long)packets, rate, (unsigned long long)datagrams);
    else
        fprintf(stderr, "twgen: %s: %llu flows in %llu datagrams\n", out,
                (unsigned long long)st.flows, (unsigned long long)st.datagrams);
    return 0;
}
