#include "twgen_eval.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_eval.h"
#include "gen_exportw.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: twgen eval [-f v5|v9|ipfix] [-m MINUTES] [-s SEED] [-x HOST_SCALE] [-r BG_RATE] [-z]\n"
               "                  [-t TRUTH] [-C CUSTOMERS_CSV] [-c CONFIG] -o FILE\n");
}

static int run_eval(void *arg, gen_flow_fn emit, void *emit_arg)
{
    return gen_eval_run(arg, emit, emit_arg);
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
    int version = 10, c;
    bool gz = false;
    optind = 1;
    while ((c = getopt(argc, argv, "f:m:s:x:r:zt:C:c:o:h")) != -1) {
        switch (c) {
        case 'f':
            version = gen_exportw_version_parse(optarg);
            if (version < 0) {
                fprintf(stderr, "twgen: -f takes v5, v9 or ipfix\n");
                return 2;
            }
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
        case 'C':
            csv = optarg;
            break;
        case 'c':
            conf = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!out || eo.duration_ms == 0 || !(eo.host_scale > 0 && eo.host_scale <= 100) || eo.bg_rate < 0) {
        usage(stderr);
        return 2;
    }
    eo.truth = open_w(truth);
    eo.customers_csv = open_w(csv);
    eo.config = open_w(conf);
    struct gen_exportw_stats st;
    memset(&st, 0, sizeof st);
    int rc = (truth && !eo.truth) || (csv && !eo.customers_csv) || (conf && !eo.config) ? -1 : 0;
    if (rc == 0)
        rc = gen_exportw_capture(out, version, gz, run_eval, &eo, &st);
    if (eo.truth)
        fclose(eo.truth);
    if (eo.customers_csv)
        fclose(eo.customers_csv);
    if (eo.config)
        fclose(eo.config);
    if (rc != 0) {
        fprintf(stderr, "twgen: eval failed (%d)\n", rc);
        return 1;
    }
    fprintf(stderr, "twgen: %s: %llu flows in %llu datagrams\n", out, (unsigned long long)st.flows,
            (unsigned long long)st.datagrams);
    return 0;
}
