/* counters.h: every counter of the ingest and the pipeline (capture packets, decoders, flow
 * meter, fragments, classification, windows, alerts), defined once in one table (counters.c)
 * and rendered by ctr.h's generic functions: the JSON totals line, /metrics, and the replay's
 * end-of-run listing. The main thread takes a snapshot, then renders it. */
#ifndef TW_COUNTERS_H
#define TW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "ctr.h"
#include "decode.h"
#include "frag.h"
#include "ingest.h"
#include "meter.h"
#include "pipeline.h"

struct counters_snap {
    struct ingest_stats in;
    uint64_t decode[DC_COUNT];
    uint64_t templates; /* held in the cache now */
    struct pipeline_stats ps;
    struct meter_stats ms;
    uint64_t meter_active, meter_capacity; /* widened from struct meter_stats */
    struct frag_stats fs;
    uint64_t frag_in_progress; /* widened from struct frag_stats */
    uint64_t frag_dropped;     /* timeouts + evicted + overlaps + beyond_end + bad */
    uint64_t reserved_bytes;   /* lines_reserved_bytes: tables made resident (start, rebalances) */
    /* the enabled detectors' own counters (detector.h), each with its own table */
    struct det_counters det[SETTINGS_MAX_DETECTORS];
    size_t ndet;
};

/* Fill the snapshot (runs every handed-over record to the end first: pipeline_stats). */
void counters_take(const struct ingest *in, struct pipeline *p, struct counters_snap *out);
/* The table describing struct counters_snap. */
const struct ctr_def *counters_defs(size_t *n);
/* The totals object's members (JSON totals line). */
void counters_totals_json(const struct ingest *in, struct pipeline *p, struct json *j);
/* Every counter of the snapshot as Prometheus text (the table, then each detector's). */
void counters_prom(struct ctr_text *t, const struct counters_snap *s);
/* "  key  value" for every counter that is not zero (the replay's end-of-run listing). */
void counters_table(FILE *f, const struct counters_snap *s);
/* One line per counter, "json-key transitwatch_metric{label}": the table, then every
 * registered detector's (whether enabled or not). */
void counters_list(FILE *f);

#endif
