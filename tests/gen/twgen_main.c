/* twgen: the project's generator of sample data.
 *
 *   twgen sample [-f v5|v9|ipfix] [-m MINUTES] [-s SEED] [-n HOSTS] [-z] [-t TRUTH] -o FILE
 *
 * writes a capture of flow-export datagrams (router 10.255.0.1 -> collector 10.255.0.100) of the
 * simulated traffic of the sample customers (configs/customers.csv), with labelled misbehaviour;
 * -t writes the ground truth as JSON lines.
 *
 *   twgen eval [-f v5|v9|ipfix] [-m MINUTES] [-s SEED] [-x HOST_SCALE] [-r BG_RATE] [-z]
 *              -t TRUTH --write-customers CSV --write-config CONF -o FILE
 *
 * writes the detector evaluation scenario (tests/gen/gen_eval.h): thousands of hosts in five
 * customers (IPv4 only), labelled misbehaving hosts and benign look-alikes, its customer map
 * and the detector settings it assumes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_eval.h"
#include "gen_exportw.h"
#include "gen_scenario.h"
#include "twgen_eval.h"
#include "twgen_hostile.h"
#include "twgen_packets.h"
#include "twgen_send.h"
#include "twgen_sflow.h"
#include "twgen_bulk.h"
#include "twgen_opt.h"

static void usage(FILE *o)
{
    fprintf(o,
            "usage: twgen sample [-f v5|v9|ipfix] [-m MINUTES] [-s SEED] [-n HOSTS] [-z] "
            "[-t TRUTH] -o FILE\n"
            "       twgen eval [-f v5|v9|ipfix] [-m MINUTES] [-s SEED] [-x HOST_SCALE] [-r "
            "BG_RATE] [-z]\n"
            "                  [-t TRUTH] [--write-customers CSV] [--write-config CONF] -o FILE\n"
            "       twgen bulk ...      many records fast, for benchmarks (twgen bulk -h)\n"
            "       twgen packets ...   raw packet captures, for the flow meter (-h)\n"
            "       twgen send ...      replay a capture's export datagrams to 127.0.0.1 (-h)\n"
            "       twgen hostile DIR   the crafted hostile inputs and their manifest\n"
            "       twgen sflow-corpus DIR   sFlow v5 seeds of fuzz/fuzz_sflow.c\n"
            "       twgen sflowize IN.pcap OUT.pcap -r RATE [-s SEED]   a capture as sFlow (-h)\n"
            "       twgen flood ...     a key-explosion capture (-h)\n"
            "       twgen storm KIND -n MESSAGES -o FILE   decoder work storms (decode_cost.sh)\n");
}

static int run_scenario(void *arg, gen_flow_fn emit, void *emit_arg)
{
    return gen_scenario_run(arg, emit, emit_arg);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "send") == 0)
        return twgen_send_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "packets") == 0)
        return twgen_packets_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "bulk") == 0)
        return twgen_bulk_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "eval") == 0)
        return twgen_eval_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "sflow-corpus") == 0)
        return twgen_sflow_corpus_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "sflowize") == 0)
        return twgen_sflowize_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "hostile") == 0)
        return twgen_hostile_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "flood") == 0)
        return twgen_flood_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "storm") == 0)
        return twgen_storm_main(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "sample") != 0) {
        usage(stderr);
        return 2;
    }
    struct gen_scenario_opts so;
    gen_scenario_defaults(&so);
    const char *out = NULL, *truth = NULL;
    int status;
    int version = 10, c;
    bool gz = false;
    optind = 2;
    while ((c = getopt(argc, argv, "f:m:s:n:zt:o:h")) != -1) {
        switch (c) {
        case 'f':
            version = gen_exportw_version_parse(optarg);
            if (version < 0) {
                fprintf(stderr, "twgen: -f takes v5, v9 or ipfix\n");
                return 2;
            }
            break;
        case 'm':
            so.duration_ms = strtoull(optarg, NULL, 10) * 60000ULL;
            break;
        case 's':
            so.seed = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'n':
            so.hosts_per_customer = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'z':
            gz = true;
            break;
        case 't':
            truth = optarg;
            break;
        default:
            if (twgen_opt_exit(c, &out, usage, &status))
                return status;
        }
    }
    if (!out || so.duration_ms == 0) {
        usage(stderr);
        return 2;
    }
    if (truth && !(so.truth = fopen(truth, "w"))) {
        fprintf(stderr, "twgen: cannot write %s\n", truth);
        return 1;
    }
    struct gen_exportw_stats st;
    int rc = gen_exportw_capture(out, version, gz, 0, run_scenario, &so, &st);
    if (so.truth)
        fclose(so.truth);
    if (rc != 0) {
        fprintf(stderr, "twgen: failed (%d)\n", rc);
        return 1;
    }
    fprintf(stderr,
            "twgen: %s: %llu flows in %llu datagrams (%llu IPv6 flows not expressible in v5)\n",
            out, (unsigned long long)st.flows, (unsigned long long)st.datagrams,
            (unsigned long long)st.skipped_v6);
    return 0;
}
