/* gen_eval.h: the evaluation scenario for the behavioural detectors, written from
 * descriptions of real traffic (issue 11, DETECTION-NOTES section 0, public descriptions of
 * the malware families and services), not from the detectors. A transit provider's customers
 * (IPv4 only, so NetFlow v5 carries every flow and the three export formats can be compared)
 * with thousands of background hosts following a day curve (web mostly to the same popular
 * destinations, DNS to the provider's and public resolvers, inbound service traffic).
 * Misbehaving hosts, each labelled with the detector expected to find it: spam bots; fast
 * beacons (3-120 s) and slow ones (5 min to 2 h, up to +-20 % jitter, constant or varying
 * sizes); an alternating 14 s / 9 s schedule (njRAT-like); retry bursts then long sleeps; an HTTP
 * bot's infection of 7 check-ins 15 min apart from its first; TLS C2 as long sessions with reconnect
 * bursts; a RAT holding sessions for hours on an unusual port; C2 on a high port from low
 * client ports (1025-5000); fast and slow (a probe every few seconds for hours) horizontal and
 * vertical scans; a small fast unanswered telnet sweep; UDP and ICMP sweeps; floods at absolute
 * rates and over their own baseline. Benign look-alikes: declared MTAs (with 5-minute queue
 * runs), a legitimate bulk sender, NTP clients of the provider's server and of public pool
 * servers (64 s doubling to 1024 s), a SaaS monitor many hosts poll every 60 s, update checkers
 * and other TLS polling, push services' long sessions, DNS clients, busy web servers,
 * exporter-split long sessions, inbound scans of the customers, customers' own DNS resolvers
 * (a few of whose authoritative servers never answer). Deterministic for a seed.
 * Writes the flows in end order, the ground truth as JSON lines after the run (one per labelled
 * host: label, customer, host, peer, port, period, the check-ins, polls or probes its flows hold,
 * detector expected / "benign"), the customer map CSV (every host inside its customer's prefix)
 * and the detector config the scenario assumes (declared MTAs and resolvers). */
#ifndef TW_GEN_EVAL_H
#define TW_GEN_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "gen_scenario.h"

struct gen_eval_opts {
    uint64_t start_ms;
    uint64_t duration_ms;
    uint32_t seed;
    double host_scale;   /* 1.0 = 5400 background hosts in 5 customers */
    double bg_rate;      /* background flows per host per minute (at the day curve's peak) */
    bool no_floods;      /* leave the flooders out (a raw-packet slice stays small) */
    FILE *truth;         /* ground truth JSON lines, or NULL */
    FILE *customers_csv; /* the customer map, or NULL */
    FILE *config;        /* detector settings the scenario assumes (allowlists), or NULL */
};

void gen_eval_defaults(struct gen_eval_opts *o);
/* 0, emit's first error, -ENOMEM, -E2BIG (too many flows in a slice), -ENOSPC (more actors than
 * hosts: raise host_scale) or -ERANGE (host_scale puts hosts beyond a customer's prefix). */
int gen_eval_run(const struct gen_eval_opts *o, gen_flow_fn emit, void *arg);

#endif
