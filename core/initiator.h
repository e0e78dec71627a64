/* initiator.h: which end of a flow record started the connection.
 *
 * Detectors need the initiator to tell a customer host calling out (a beacon, a scan, a spam
 * run) from the same host answering (a server, a listed host scanning it). A unidirectional
 * flow record does not say it directly, so flow_initiator() weighs what the record carries,
 * strongest first, and says which evidence decided (the basis):
 *   1. the exporter or the flow meter said so (flow flags FLOW_F_INIT_SRC / FLOW_F_INIT_DST:
 *      IPFIX biflowDirection, YAF's initial TCP flags, the meter's first packet);
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

/* The initiator of f; *basis (may be NULL) gets the evidence that decided. */
enum flow_init flow_initiator(const struct flow_rec *f, enum flow_init_basis *basis);
/* Is port a well-known server port for this protocol (6 TCP, 17 UDP, other: either)? */
bool port_is_service(uint8_t proto, uint16_t port);
/* Name of a basis for evidence fields: "exporter", "tcp_syn", "icmp", "service_port",
 * "port_range", "fixed_port", "first_packet", "none". */
const char *flow_init_basis_name(enum flow_init_basis b);

#endif
