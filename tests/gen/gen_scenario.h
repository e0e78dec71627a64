/* gen_scenario.h: a deterministic traffic simulator. It produces the flows of a small transit
 * provider's customers (the sample map configs/customers.csv) over a span of time, in order of
 * flow end, with background traffic (web, DNS, mail, NTP) and injected, labelled misbehaviour.
 * Each injected actor is written to the ground-truth stream as one JSON line. The same options
 * give the same flows. Used by twgen (the README's sample data) and by tests. */
#ifndef TW_GEN_SCENARIO_H
#define TW_GEN_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "gen_export.h"

struct gen_scenario_opts {
    uint64_t start_ms;    /* first flow start (Unix ms) */
    uint64_t duration_ms; /* simulated span */
    uint32_t seed;
    uint32_t hosts_per_customer; /* active background hosts per customer (capped by its space) */
    double flows_per_host_min;   /* mean background flows per host per minute */
    FILE *truth;                 /* ground truth JSON lines, or NULL */
};

typedef int (*gen_flow_fn)(void *arg, const struct gen_flow *f);

void gen_scenario_defaults(struct gen_scenario_opts *o);
/* Calls emit for every flow in order of end time; stops at emit's first error (returned). */
int gen_scenario_run(const struct gen_scenario_opts *o, gen_flow_fn emit, void *arg);

#endif
