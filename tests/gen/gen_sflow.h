/* gen_sflow.h: builds sFlow v5 datagrams into caller memory (no allocation, no clock), for
 * tests, fuzz seeds, the evaluation (twgen eval --sflow) and benchmarks.
 *
 *   struct gen_sflow m;
 *   gen_sflow_begin(&m, buf, sizeof buf, agent, sub_agent, seq, uptime_ms);
 *   gen_sflow_flow(&m, &flow, &opt);          // one flow sample: a raw packet header record
 *   gen_sflow_counters(&m, &ifc);             // one counters sample: a generic interface record
 *   int len = gen_sflow_end(&m);              // sample count filled; < 0 if buf was too small
 *
 * A flow sample stands for one packet of the flow f: its addresses, ports (ICMP: f->icmp),
 * protocol and TCP flags, IP length opt->ip_len; written as an Ethernet frame (opt->vlan: one
 * 802.1Q tag; opt->vxlan: the packet inside VXLAN over a fixed underlay) cut to 128 bytes, as
 * agents send it, or as a sampled IPv4/IPv6 record (opt->sampled_ip). */
#ifndef TW_GEN_SFLOW_H
#define TW_GEN_SFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen_export.h"

struct gen_sflow {
    uint8_t *buf;
    size_t cap, len, count_off;
    uint32_t samples, sample_seq;
    bool overflow;
};

struct gen_sflow_opts {
    uint32_t rate;  /* sampling rate (1 in N) */
    uint32_t pool;  /* sample pool (packets seen) */
    uint32_t drops; /* samples dropped so far */
    uint32_t in_if, out_if;
    uint32_t ip_len;         /* IP length of the sampled packet (>= its headers) */
    uint16_t vlan;           /* 0: no tag */
    bool vxlan;              /* wrap the packet in VXLAN (VNI 100) */
    bool sampled_ip;         /* a sampled IPv4/IPv6 record instead of the raw header */
    bool expanded;           /* expanded flow sample (0:3) */
    uint32_t src_as, dst_as; /* non-zero: an extended gateway record (path [dst_as]) */
};

struct gen_sflow_iface {
    uint32_t ifindex;
    uint64_t speed, in_octets, out_octets;
    uint32_t in_pkts, out_pkts, in_errors, out_errors;
};

void gen_sflow_begin(struct gen_sflow *m, uint8_t *buf, size_t cap, const uint8_t agent[16],
                     uint32_t sub_agent, uint32_t seq, uint32_t uptime_ms);
void gen_sflow_flow(struct gen_sflow *m, const struct gen_flow *f, const struct gen_sflow_opts *o);
/* One flow sample of a captured Ethernet frame (caplen bytes at frame, wirelen on the wire): its
 * raw header record, the first 128 bytes (twgen sflowize). o's rate, pool, drops and interfaces
 * apply; its packet-building fields do not. */
void gen_sflow_frame(struct gen_sflow *m, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                     const struct gen_sflow_opts *o);
void gen_sflow_counters(struct gen_sflow *m, const struct gen_sflow_iface *i);
/* Datagram length, or -1 when it did not fit. */
int gen_sflow_end(struct gen_sflow *m);

#endif
