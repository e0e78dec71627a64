/* ingest.h: where packets and export datagrams enter. A capture packet is parsed (pkt.h),
 * reassembled when fragmented (frag.h), and a UDP datagram that is a flow export goes to the
 * decoders (decode.h), whose records go to the pipeline. Live UDP datagrams enter directly.
 * Which UDP datagrams in a capture are exports: those to a configured export port, or, with
 * sniffing on (replay default), any whose payload starts like a NetFlow v5/v9 or IPFIX header
 * with consistent lengths. Other packets are counted (the flow meter takes them later).
 * One thread uses an ingest (the source thread); counters are read on the same thread. */
#ifndef TW_INGEST_H
#define TW_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "decode.h"
#include "pipeline.h"
#include "settings.h"

struct ingest;
struct json;

#define INGEST_MAX_PORTS 32

struct ingest_opts {
    uint16_t ports[INGEST_MAX_PORTS]; /* UDP destination ports that carry exports */
    size_t nports;
    bool sniff;                       /* also recognise exports on other ports by their header */
};

struct ingest_stats {
    uint64_t packets, packet_bytes;   /* capture packets seen */
    uint64_t datagrams;               /* export datagrams handed to the decoders */
    uint64_t non_export;              /* packets that were not export datagrams */
    uint64_t pkt_errors[9];
};

/* settings: borrowed for the ingest's life (exporter policy); pipeline borrowed. */
int ingest_new(const struct settings *s, const struct ingest_opts *o, struct pipeline *p,
               struct ingest **out);
void ingest_free(struct ingest *in);
/* Fill o with the ports of the settings' listen endpoints and the usual export ports. */
void ingest_opts_default(const struct settings *s, struct ingest_opts *o);
/* A UDP payload from an exporter (live socket or capture). */
void ingest_datagram(struct ingest *in, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *data, size_t len);
/* A captured frame. */
void ingest_packet(struct ingest *in, const struct capture_pkt *pkt);
/* Expire templates and fragments (periodically). */
void ingest_expire(struct ingest *in, uint64_t now_ms);
const struct decode_ctx *ingest_decoder(const struct ingest *in);
/* Members of a totals object: packets, datagrams, records, bytes, errors by kind, ... */
void ingest_totals_json(const struct ingest *in, struct json *j);
void ingest_stats(const struct ingest *in, struct ingest_stats *out);

#endif
