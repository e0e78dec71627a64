/* initiator.h: which end of a flow record started the connection.
 *
 * Detectors need the initiator to tell a customer host calling out (a beacon, a scan, a spam
 * run) from the same host answering (a server, a listed host scanning it). A unidirectional
 * flow record does not say it directly, so flow_initiator() weighs what the record carries,
 * strongest first, and says which evidence decided (the basis):
 *   1. the exporter or the flow meter said so (flow flags FLOW_F_INIT_SRC / FLOW_F_INIT_DST:
 *      IPFIX biflowDirection, YAF's initial TCP flags, the meter's first packet: TCP's SYN,
 *      UDP's first datagram between two sockets when the port rules below cannot tell);
 *   2. TCP flags: SYN without ACK is only ever sent by the initiator, and a one-packet record
 *      with SYN and ACK (no data, no FIN) is the responder's SYN-ACK;
 *   3. ICMP: echo requests come from the initiator, replies and errors from the other end;
 *   4. service ports: a port in the table of well-known server ports against one that is not;
 *   5. port ranges: a privileged port (< 1024) or a registered port (1024-32767) against a
 *      dynamic one (>= 32768, where Linux, BSD and Windows pick client ports) is the server.
 * Otherwise the answer is FLOW_INIT_UNKNOWN: old systems pick client ports in 1025-5000, below
 * many C2 ports, so two registered ports say nothing. Callers that see repeated connections
 * can settle it themselves: the end whose port stays fixed while the other's changes is the
 * server; with both directions seen, the end whose record of each connection starts first is
 * the client (det_beacon does both: INIT_BASIS_FIXED_PORT, INIT_BASIS_FIRST_PACKET).
 * Pure functions of the record, no state: callable from any thread.
 */
#ifndef TW_INITIATOR_H
#define TW_INITIATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

enum flow_init {
    FLOW_INIT_UNKNOWN = 0,
    FLOW_INIT_SRC = 1, /* the record's source started the connection */
    FLOW_INIT_DST = 2, /* the record's destination started it (the record is the answer) */
};

enum flow_init_basis {
    INIT_BASIS_NONE = 0,
    INIT_BASIS_EXPORTER, /* flow flags set by the decoder or the meter */
    INIT_BASIS_TCP_SYN,  /* SYN without ACK */
    INIT_BASIS_ICMP,     /* ICMP message type */
    INIT_BASIS_SERVICE,  /* one end on a well-known service port */
    INIT_BASIS_RANGE,    /* privileged/registered port against a dynamic one */
    /* Not from one record; decided by a caller that follows repeated connections: */
    INIT_BASIS_FIXED_PORT,   /* one end's port stayed fixed while the other's changed */
    INIT_BASIS_FIRST_PACKET, /* of each connection, one end's record started before the other's
                              * (both directions seen, e.g. NTP 123 -> 123) */
};

/* The service-port lists as bitmaps over all 65536 ports (initiator.c builds them before main):
 * TCP's, UDP's, and either's (every other protocol). For flow_initiator_of below. */
enum { FLOW_SVC_TCP, FLOW_SVC_UDP, FLOW_SVC_ANY, FLOW_SVC_MAPS };
extern uint64_t flow_svc_bits[FLOW_SVC_MAPS][65536 / 64];

/* A protocol's map of service ports: TCP's, UDP's, or either's (every other protocol). */
static inline const uint64_t *flow_svc_map(unsigned proto)
{
    return flow_svc_bits[proto == 6 ? FLOW_SVC_TCP : proto == 17 ? FLOW_SVC_UDP : FLOW_SVC_ANY];
}

static inline bool flow_svc_port(const uint64_t *map, unsigned port)
{
    return (map[port / 64] >> (port % 64)) & 1;
}

/* flow_initiator's rules by port, for TCP, UDP and SCTP with both ports set: service ports,
 * then port ranges (initiator.h): a dynamic port (>= 32768) against a lower one is the client;
 * with neither dynamic and neither a service port, a registered port (1024-32767) against a
 * privileged one (< 1024) is. */
static inline enum flow_init flow_by_ports(const struct flow_rec *f, enum flow_init_basis *why)
{
    unsigned sp = f->sport, dp = f->dport;
    const uint64_t *map = flow_svc_map(f->proto);
    bool ss = flow_svc_port(map, sp), ds = flow_svc_port(map, dp);
    if (ds != ss) {
        *why = INIT_BASIS_SERVICE;
        return ds ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    bool sdyn = sp >= 32768, ddyn = dp >= 32768;
    if (sdyn != ddyn) {
        *why = INIT_BASIS_RANGE;
        return sdyn ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    if (!sdyn && !ss) { /* ss == ds here */
        bool sreg = sp >= 1024, dreg = dp >= 1024;
        if (sreg != dreg) {
            *why = INIT_BASIS_RANGE;
            return sreg ? FLOW_INIT_SRC : FLOW_INIT_DST;
        }
    }
    *why = INIT_BASIS_NONE;
    return FLOW_INIT_UNKNOWN;
}

/* ICMP (1) and ICMPv6 (58): the message type. */
static inline enum flow_init flow_by_icmp(const struct flow_rec *f, enum flow_init_basis *why)
{
    unsigned type = f->dport >> 8;
    bool v6 = f->proto == 58;
    /* requests: echo, timestamp, address mask (v4); echo, MLD/ND solicitations (v6) */
    bool request =
        v6 ? (type == 128 || type == 133 || type == 135) : (type == 8 || type == 13 || type == 17);
    /* replies and errors answer something the other end sent */
    bool answer = v6 ? (type < 128 || type == 129 || type == 134 || type == 136)
                     : (type == 0 || type == 3 || type == 4 || type == 5 || type == 11 ||
                        type == 12 || type == 14 || type == 18);
    *why = request || answer ? INIT_BASIS_ICMP : INIT_BASIS_NONE;
    return request ? FLOW_INIT_SRC : answer ? FLOW_INIT_DST : FLOW_INIT_UNKNOWN;
}

/* flow_initiator with *why always set (INIT_BASIS_NONE with FLOW_INIT_UNKNOWN): the rules of
 * initiator.h in their order, each protocol's tested once. Inline for the per-record caller
 * (detectors/detector.h det_initiator: no call, no basis through memory; bench/RESULTS.md issue
 * 15, fiftieth part); flow_initiator is the same out of line. */
static inline enum flow_init flow_initiator_of(const struct flow_rec *f, enum flow_init_basis *why)
{
    if (f->flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST)) {
        *why = INIT_BASIS_EXPORTER;
        return f->flags & FLOW_F_INIT_SRC ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    unsigned proto = f->proto;
    if (proto == 6) {
        unsigned fl = f->tcp_flags;
        if ((fl & 0x12) == 0x02) { /* SYN, no ACK */
            *why = INIT_BASIS_TCP_SYN;
            return FLOW_INIT_SRC;
        }
        /* A one-packet record carrying SYN and ACK (no FIN, no PSH) is a SYN-ACK on its own (the
         * initiator can only send SYN and ACK in two packets): the answer of the destination's
         * connection attempt (packets are sampling-corrected: one sampled packet counts as
         * `sampling`). */
        if ((fl & 0x1b) == 0x12 && f->packets <= (f->sampling ? f->sampling : 1)) {
            *why = INIT_BASIS_TCP_SYN;
            return FLOW_INIT_DST;
        }
    } else if (proto == 1 || proto == 58) {
        return flow_by_icmp(f, why);
    } else if (proto != 17 && proto != 132) {
        *why = INIT_BASIS_NONE;
        return FLOW_INIT_UNKNOWN;
    }
    if (!f->sport || !f->dport) {
        *why = INIT_BASIS_NONE;
        return FLOW_INIT_UNKNOWN;
    }
    return flow_by_ports(f, why);
}

/* The initiator of f; *basis (may be NULL) gets the evidence that decided. */
enum flow_init flow_initiator(const struct flow_rec *f, enum flow_init_basis *basis);
/* Is port a well-known server port for this protocol (6 TCP, 17 UDP, other: either)? */
bool port_is_service(uint8_t proto, uint16_t port);
/* Name of a basis for evidence fields: "exporter", "tcp_syn", "icmp", "service_port",
 * "port_range", "fixed_port", "first_packet", "none". */
const char *flow_init_basis_name(enum flow_init_basis b);

#endif
