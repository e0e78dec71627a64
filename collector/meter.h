/* meter.h: the flow meter. Raw packets (pkt_parse results) in, normalised flow records out.
 *
 * Who calls what: the ingest (ingest.c), on the main loop's thread that drains the captures,
 * calls meter_stage() per parsed packet and meter_run() at the end of each run of packets (a
 * source's drain), meter_expire() periodically (live: with wall time) and meter_flush() at the end
 * of input; every finished flow is handed to the emit callback (borrowed for the call) on that
 * same thread. One meter is used by one thread.
 *
 * A flow is unidirectional: (src, dst, sport, dport, proto), ICMP keyed by type/code (dport =
 * type << 8 | code, sport 0), like NetFlow exporters and nfpcapd. The table is fixed-size (from
 * config), allocated once; when it is full the least recently seen flow is emitted early
 * (counted as evicted). A flow ends when it has seen no packet for the idle timeout, when it is
 * older than the active timeout at its next packet, or at a TCP FIN or RST (that packet is
 * counted in it). The flow says who opened the connection (FLOW_F_INIT_SRC/DST) when its first
 * packet can tell: TCP by SYN or SYN+ACK; UDP whose ports cannot tell (core/initiator.h) by
 * whether the other direction's flow is open in the table (an answer) or not (the opener, as
 * Argus and Zeek take the first datagram between two sockets); one more probe of the table per
 * such new UDP flow, none per packet. Time is only
 * ever packet time (max seen so far), so a replay repeats exactly.
 * Bytes are the IP length (v6: 40 + payload length), not the captured length, so a short
 * snaplen does not change the counts.
 * Fragments: the first fragment's ports are remembered in a small bounded map keyed by
 * (src, dst, proto, fragment id); later fragments take them from there and count to the same
 * flow; without an entry (first fragment lost or late) they count to a flow with ports 0
 * (counted as portless).
 * Per packet: one keyed hash (SipHash, the key is random unless a seed is given), one probe
 * sequence, no allocation, clock read or logging. Packets are staged METER_STAGE at a time
 * (key and hash computed, the index slot prefetched; then the flows those slots point to
 * prefetched, then every packet counted in order), so the table's cache misses of a stage
 * overlap; the counting order, and so every flow and its emission order, is the packets'.
 */
#ifndef TW_METER_H
#define TW_METER_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "pkt.h"

struct meter;

struct meter_opts {
    uint32_t max_flows; /* flows in the table (0: 262144; min 16) */
    uint64_t idle_ms;   /* idle timeout (0: 15 s) */
    uint64_t active_ms; /* active timeout (0: 120 s) */
    uint32_t max_frags; /* fragment id -> ports entries (0: 4096) */
    uint64_t hash_seed; /* 0: random key */
    bool no_tcp_end;    /* FIN/RST do not end a flow (only timeouts do), like nfpcapd 1.7 */
};

struct meter_stats {
    uint64_t packets;          /* packets metered */
    uint64_t bytes;            /* their IP lengths */
    uint64_t flows;            /* flows emitted */
    uint64_t created;          /* flows started */
    uint64_t ended_idle;       /* emitted by the idle timeout */
    uint64_t ended_active;     /* emitted by the active timeout */
    uint64_t ended_tcp;        /* emitted at FIN / RST */
    uint64_t ended_flush;      /* emitted by meter_flush (end of input) */
    uint64_t evicted;          /* emitted early because the table was full */
    uint64_t frag_attributed;  /* later fragments counted to their flow via the map */
    uint64_t frag_portless;    /* later fragments whose ports were unknown */
    uint64_t frag_map_evicted; /* fragment map entries overwritten while still live */
    uint64_t no_ports;         /* transport header missing (cut by snaplen / bad): ports 0 */
    uint32_t active;           /* flows in the table now */
    uint32_t capacity;
};

/* opts may be NULL (defaults). emit/arg: where finished flows go (arg borrowed).
 * Returns 0 or -ENOMEM/-EINVAL. *out: caller frees with meter_free (which does not flush). */
int meter_new(const struct meter_opts *opts, flow_emit_fn emit, void *arg, struct meter **out)
    __attribute__((warn_unused_result));
void meter_free(struct meter *m);

#define METER_STAGE 16 /* packets staged before they are counted (meter_stage) */

/* Count one packet now (packets staged before it first). pi: from pkt_parse (PKT_OK, or PKT_ERR_TRUNCATED_L4 / PKT_ERR_BAD_L4_HEADER
 * with valid L3 fields: metered with ports 0); borrowed. ts_ns: packet time. */
void meter_packet(struct meter *m, const struct pkt_info *pi, uint64_t ts_ns);

/* Count one packet like meter_packet, staged: its key hashed and its index slot prefetched now;
 * counted when METER_STAGE packets are staged or at the next meter_run (which every other meter
 * call makes first, so nothing observes the table out of order). The caller runs the stage
 * before anything it does that may depend on the meter's flows (the ingest: before a datagram,
 * a record, and at the end of each drain). pi borrowed for the call only. */
void meter_stage(struct meter *m, const struct pkt_info *pi, uint64_t ts_ns);
/* Count the staged packets, in order (their finished flows emitted). */
void meter_run(struct meter *m);

/* Ports of a fragment's flow: a first fragment's own (remembered for later ones), a later
 * fragment's from the map. Returns true when known. Used to route fragments before metering. */
bool meter_frag_ports(struct meter *m, const struct pkt_info *pi, uint64_t ts_ns, uint16_t *sport,
                      uint16_t *dport);

/* Emit flows idle at now_ms (live mode: wall clock; packets do this by themselves). */
void meter_expire(struct meter *m, uint64_t now_ms);
/* Emit every flow (end of input). The table is empty afterwards. */
void meter_flush(struct meter *m);
/* Latest packet time counted, ms (0: none yet); staged packets are not in it, nor in the stats. */
uint64_t meter_now_ms(const struct meter *m);

void meter_get_stats(const struct meter *m, struct meter_stats *out);

#endif
