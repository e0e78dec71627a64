/* gen_exportw.h: turn a time-ordered stream of flows into a capture of flow-export datagrams,
 * as a router in front of a collector would send them: NetFlow v5, v9 or IPFIX, flows packed
 * into datagrams of at most ~1400 bytes, templates sent first and refreshed every
 * GEN_EXPORTW_REFRESH messages, sequence numbers, each datagram stamped one second after its
 * newest flow was released. A flow is released at its end, or, with an inactive timeout, as a
 * router's flow cache lets it go: at its end when a TCP FIN or RST ended it (or the active
 * timeout split it: gen_flow.active_end), else (a SYN left unanswered, UDP, ICMP) only when the
 * timeout has passed since its last packet - as the flow meter does (collector/meter.c), so the
 * export and the metered packets of the same traffic reach the collector in the same order.
 * Deterministic: the same flows give the same bytes.
 * Used by twgen (sample data), evaluations and benchmarks. One thread per writer. */
#ifndef TW_GEN_EXPORTW_H
#define TW_GEN_EXPORTW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen_export.h"
#include "gen_pcap.h"
#include "gen_scenario.h"

#define GEN_EXPORTW_REFRESH 20

struct gen_exportw;

struct gen_exportw_opts {
    int version;           /* 5, 9 or 10 */
    uint8_t exporter[16];  /* datagram source address */
    uint8_t collector[16]; /* datagram destination address */
    uint16_t sport, dport; /* UDP ports (dport 0: 2055, or 4739 for IPFIX) */
    uint32_t domain;       /* v9 source id / IPFIX observation domain */
    uint32_t sampling;     /* announced rate (v5 header / options data); 0 = none */
    uint32_t inactive_ms;  /* inactive timeout (see the top); 0 = every flow at its end */
};

/* w writes into pcap (borrowed; the caller closes it after gen_exportw_close). */
int gen_exportw_new(const struct gen_exportw_opts *o, struct gen_pcap *pcap,
                    struct gen_exportw **out);
/* Add one flow; flows must come in order of end time. IPv6 flows are skipped for v5 (counted).
 * Returns 0 or -1 (write error). */
int gen_exportw_add(struct gen_exportw *w, const struct gen_flow *f);
/* Flush what is buffered and free w. Returns 0 or -1. */
int gen_exportw_close(struct gen_exportw *w);
struct gen_exportw_stats {
    uint64_t flows, skipped_v6, datagrams, bytes;
};
void gen_exportw_stats(const struct gen_exportw *w, struct gen_exportw_stats *out);

/* "v5", "v9", "ipfix" -> 5, 9, 10; anything else -1. */
int gen_exportw_version_parse(const char *s);

/* Write the capture of one router (10.255.0.1 -> collector 10.255.0.100) exporting as version
 * (optionally gzipped, with the inactive timeout inactive_ms) the flows run produces:
 * run(arg, emit, emit_arg) calls emit once per flow in order of end time. Returns run's result,
 * or -1 when the file cannot be written (a message on stderr); *st (may be NULL) gets the
 * writer's figures. */
typedef int (*gen_run_fn)(void *arg, gen_flow_fn emit, void *emit_arg);
int gen_exportw_capture(const char *path, int version, bool gzip, uint32_t inactive_ms,
                        gen_run_fn run, void *arg, struct gen_exportw_stats *st);

#endif
