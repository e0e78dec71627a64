/* gen_eval.h: the evaluation scenario for the behavioural detectors. A transit provider's
 * customers (IPv4 only, so NetFlow v5 carries every flow and the three export formats can be
 * compared) with thousands of background hosts (web, DNS, inbound service traffic), injected
 * and labelled misbehaving hosts (spam bots, fast and slow beaconing implants with jitter,
 * horizontal and vertical scanners, flooders at absolute rates and over their own baseline),
 * and benign look-alikes (allowlisted MTAs, a legitimate bulk sender, NTP/DNS clients polling
 * the customers' resolvers, busy web servers, exporter-split long sessions, inbound scans of the
 * customers). Deterministic for a seed. Writes the flows in end order, the ground truth as JSON
 * lines, the customer map CSV and the detector config the scenario assumes. */
#ifndef TW_GEN_EVAL_H
#define TW_GEN_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "gen_scenario.h"

struct gen_eval_opts {
    uint64_t start_ms;
    uint64_t duration_ms;
    uint32_t seed;
    double host_scale;      /* 1.0 = 5400 background hosts in 5 customers */
    double bg_rate;         /* background flows per host per minute */
    FILE *truth;            /* ground truth JSON lines, or NULL */
    FILE *customers_csv;    /* the customer map, or NULL */
    FILE *config;           /* detector settings the scenario assumes (allowlists), or NULL */
};

void gen_eval_defaults(struct gen_eval_opts *o);
int gen_eval_run(const struct gen_eval_opts *o, gen_flow_fn emit, void *arg);

#endif
