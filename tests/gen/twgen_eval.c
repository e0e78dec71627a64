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
#include "twgen_opt.h"

/* The router the export comes from lets a flow go at its FIN or RST, else 15 s after its last
 * packet: Cisco IOS's default inactive timeout, and the flow meter's idle_timeout default, so
 * the raw packets of the traffic metered give the records at the same points of the stream. */
#define EVAL_INACTIVE_MS 15000

static void usage(FILE *o)
{
    fprintf(o, "usage: twgen eval [-f v5|v9|ipfix|raw] [-m MINUTES] [-s SEED] [-x HOST_SCALE] [-r "
               "BG_RATE]\n"
               "                  [-F] [-z] [-t TRUTH] [--write-customers CSV] [--write-config "
               "CONF] -o FILE\n"
               "  (the outputs have long names only: no letter shared with transitwatch replay's\n"
               "  inputs -c CONFIG and -C CUSTOMERS)\n"
               "  -f raw: the packets of the traffic (for the flow meter) instead of its export\n"
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
    bool gz = false, raw = false;
    optind = 1;
    static const struct option opts[] = {
        {"write-customers", required_argument, NULL, 1001},
        {"write-config", required_argument, NULL, 1002},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "f:m:s:x:r:Fzt:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            raw = strcmp(optarg, "raw") == 0;
            version = raw ? 10 : gen_exportw_version_parse(optarg);
            if (version < 0) {
                fprintf(stderr, "twgen: -f takes v5, v9, ipfix or raw\n");
                return 2;
            }
            break;
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
    uint64_t packets = 0;
    if (rc == 0 && raw)
        rc = write_raw(out, gz, &eo, &packets);
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
    else
        fprintf(stderr, "twgen: %s: %llu flows in %llu datagrams\n", out,
                (unsigned long long)st.flows, (unsigned long long)st.datagrams);
    return 0;
}
