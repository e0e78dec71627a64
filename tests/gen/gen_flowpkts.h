/* gen_flowpkts.h: the packets behind a stream of flow records, so that a raw capture of the same
 * traffic can be metered and compared with the exports of it (bench/eval). Flows come in order
 * of end time (as the scenario simulators emit them) and last at most GEN_FLOWPKTS_MAX_MS; each
 * becomes `packets` IP packets spread evenly from its start to its end whose IP lengths add up to
 * `bytes` (as far as the headers allow). TCP: the first packet carries SYN when the record has
 * it, the last FIN or RST when it has them, the others the record's ACK/PSH/URG (a record of SYN
 * only gives SYNs). ICMP: type and code from dport. Packets are written in time order through a
 * bounded heap (packets of the flows of the last GEN_FLOWPKTS_MAX_MS). One thread per writer. */
#ifndef TW_GEN_FLOWPKTS_H
#define TW_GEN_FLOWPKTS_H

#include <stddef.h>
#include <stdint.h>

#include "gen_export.h"
#include "gen_pcap.h"

#define GEN_FLOWPKTS_MAX_MS 120000ULL
#define GEN_FLOWPKTS_MAX_HELD 20000000u /* packets held at once (-E2BIG beyond) */

struct gen_flowpkts;

/* Writes into pcap (borrowed; the caller closes it after gen_flowpkts_close). 0 or -ENOMEM. */
int gen_flowpkts_new(struct gen_pcap *pcap, struct gen_flowpkts **out);

/* One packet of a flow, for a packet sink (gen_flowpkts_new_sampled). */
struct gen_flowpkt {
    uint64_t ts_us;
    const struct gen_flow *flow; /* the flow it belongs to (borrowed for the call) */
    uint8_t tcp_flags;           /* this packet's TCP flags */
    uint32_t ip_len;             /* this packet's IP length */
    uint64_t pool_packets;       /* packets of every flow added so far, sampled or not */
    uint64_t pool_bytes;         /* their IP bytes */
};
typedef int (*gen_flowpkt_fn)(void *arg, const struct gen_flowpkt *p);

/* Packets to fn (in time order, as above) instead of a capture, and only a random 1-in-rate
 * sample of them: each packet independently with probability 1/rate (random packet sampling
 * as sFlow agents do it, drawn as geometric skips per flow, so a flow's unsampled packets cost
 * nothing), from a generator seeded with seed (the same packets on every run); rate 1: every
 * packet. 0, -ENOMEM or -EINVAL (rate 0). */
int gen_flowpkts_new_sampled(uint32_t rate, uint64_t seed, gen_flowpkt_fn fn, void *arg,
                             struct gen_flowpkts **out);
/* Add one flow (end order). 0, -1 (write error), -E2BIG (too many packets held), -EINVAL (a flow
 * longer than GEN_FLOWPKTS_MAX_MS). */
int gen_flowpkts_add(struct gen_flowpkts *w, const struct gen_flow *f);
/* Write what is held and free w. 0 or -1. */
int gen_flowpkts_close(struct gen_flowpkts *w, uint64_t *packets);

/* One packet of flow f as *g for gen_ip_packet: f's addresses, protocol and ports, tcp_flags,
 * ICMP type and code from icmp (type << 8 | code; ports 0), and a zero payload (static, shared)
 * that makes its IP length ip_len: at least the headers, at most max_payload (<= 65536) bytes of
 * payload. Callers: this writer's packets, gen_sflow's sampled headers. */
void gen_flow_ip(const struct gen_flow *f, uint8_t tcp_flags, uint16_t icmp, uint64_t ip_len,
                 uint32_t max_payload, struct gen_ip *g);

#endif
