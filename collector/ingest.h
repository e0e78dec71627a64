/* ingest.h: where packets and export datagrams enter. A capture packet is parsed (pkt.h),
 * reassembled when fragmented (frag.h), and a UDP datagram that is a flow export goes to the
 * decoders (decode.h), whose records go to the pipeline. Live UDP datagrams enter directly.
 * Which UDP datagrams in a capture are exports: those to a configured export port, or, with
 * sniffing on (replay default), any whose payload starts like a NetFlow v5/v9 or IPFIX header
 * with consistent lengths. Every other packet goes to the flow meter (meter.h), whose flows go
 * to the pipeline like decoded ones; the route option changes that split (enum ingest_route).
 * Fragments: UDP fragments whose flow's destination port (from the first fragment) is an export
 * port are reassembled for the decoders; all other fragments are metered. So an export that is
 * both fragmented and sent to a port that is not an export port is metered, not decoded.
 * Sources (source.h) hand what they read to the ingest through ingest_source_out().
 * Threads: one thread uses an ingest, the main loop's (daemon and replay), which also reads its
 * counters. */
#ifndef TW_INGEST_H
#define TW_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "decode.h"
#include "frag.h"
#include "meter.h"
#include "pipeline.h"
#include "pkt.h"
#include "settings.h"
#include "source.h"

struct ingest;
struct json;

#define INGEST_MAX_PORTS 32

enum ingest_route {
    INGEST_ROUTE_AUTO = 0,   /* exports (port or sniffed header) -> decoders, rest -> meter */
    INGEST_ROUTE_PORTS,      /* only UDP to the export ports -> decoders, rest -> meter */
    INGEST_ROUTE_ALL_METER,  /* every packet -> meter (exports are metered as UDP) */
    INGEST_ROUTE_ALL_EXPORT, /* exports -> decoders, the rest only counted (no meter) */
};

struct ingest_opts {
    uint16_t ports[INGEST_MAX_PORTS]; /* UDP destination ports that carry exports */
    size_t nports;
    bool sniff;              /* also recognise exports on other ports by their header */
    enum ingest_route route; /* from settings meter.route (ingest_opts_default) */
    bool replay;             /* fixed hash seed: output repeats exactly */
};

struct ingest_stats {
    uint64_t packets, packet_bytes; /* capture packets seen */
    uint64_t datagrams;             /* export datagrams handed to the decoders */
    uint64_t non_export;            /* packets that were not export datagrams */
    uint64_t metered;               /* packets handed to the meter */
    uint64_t archive_records; /* records from nfcapd archives and Zeek/Argus logs (ingest_record) */
    uint64_t archive_bad_lines; /* malformed nfdump lines of nfcapd archives (skipped) */
    uint64_t log_bad_lines;     /* malformed Zeek/Argus log lines (skipped) */
    uint64_t pkt_errors[PKT_ERR_COUNT];
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
/* A finished record from another source (nfcapd archive, Zeek/Argus log): to the pipeline as it is. */
void ingest_record(struct ingest *in, struct flow_rec *f);
/* Lines of such a source that could not be read (skipped; the source names the first with its
 * file:line): counted with the ingest's counters (archive: an nfcapd archive's nfdump output,
 * else a Zeek/Argus log). Sources call it through source_out.bad_lines after each file. */
void ingest_bad_lines(struct ingest *in, bool archive, uint64_t n);
/* Where a source hands its datagrams, packets and records: this ingest (borrowed). */
struct source_out ingest_source_out(struct ingest *in);
/* Does this UDP payload start like a NetFlow v5/v9 or IPFIX message with consistent lengths?
 * (v5: count and length agree; v9: flowsets tile the datagram; IPFIX: length field.) */
bool ingest_looks_like_export(const uint8_t *d, size_t len);
/* A captured frame. A metered packet may be staged (meter_stage): counted at the end of the
 * run of packets (the source's out.packets_end), before the next datagram or record, or by
 * ingest_expire / ingest_finish. */
void ingest_packet(struct ingest *in, const struct capture_pkt *pkt);
/* Expire templates, fragments and idle metered flows (periodically; live: wall clock). */
void ingest_expire(struct ingest *in, uint64_t now_ms);
/* End of input: emit every flow the meter still holds (call before pipeline_finish). */
void ingest_finish(struct ingest *in);
/* Parse "auto" | "ports" | "all-meter" | "all-export"; 0 or -EINVAL. */
int ingest_route_parse(const char *s, enum ingest_route *out);
void ingest_meter_stats(const struct ingest *in, struct meter_stats *out);
const struct decode_ctx *ingest_decoder(const struct ingest *in);
/* The reassembly counters (export datagrams in fragments); counters.h renders them all. */
void ingest_frag_stats(const struct ingest *in, struct frag_stats *out);
void ingest_stats(const struct ingest *in, struct ingest_stats *out);

#endif
