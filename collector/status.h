/* status.h: render every counter of a running collector as Prometheus text (for /metrics):
 * the ingest's and pipeline's table (counters.h), per exporter, each source through its counters
 * hook (source.h: the sockets, the receive threads, live captures), each sink through its
 * counters hook (exporter.h), reloads, health, per-customer series and the process (CPU, memory,
 * fds, start time).
 * Called on the main loop's thread, which owns all the counters it reads. */
#ifndef TW_STATUS_H
#define TW_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter.h"
#include "ingest.h"
#include "pipeline.h"
#include "source.h"
#include "summary.h"

/* Per-customer series, from the summaries of closed windows: one slot per customer of the map
 * in force, by its index (status_follow_map), zero until the customer's first summary. */
struct status_customer {
    char id[64];
    uint64_t bytes_out, bytes_in, bytes_internal;
    uint64_t flows_out, flows_in, flows_internal;
    uint64_t active_hosts, hostile_hosts; /* of the customer's last closed window */
};

struct status_src {
    const struct ingest *in;
    struct pipeline *p;
    const struct source_set *sources; /* the open sources (NULL: none) */
    const struct sinks *sinks;
    uint64_t reloads, reload_failures;
    bool last_reload_ok;       /* the configuration in force loaded fine (start or reload) */
    uint64_t last_reload_unix; /* start time until the first reload */
    uint64_t restart_pending;  /* keys changed in the file that only a restart applies */
    uint64_t start_unix;
    bool per_customer;            /* [metrics] per_customer */
    bool healthy;                 /* the last /healthz verdict */
    uint64_t report_write_errors; /* [report] pages that could not be written */
    /* per-customer series (status_on_summary fills them) */
    struct status_customer *cust;
    size_t ncust;
};

/* Writes the text into buf (NUL-terminated). Returns its length (cap - 1 at most; the text is
 * cut at a line boundary if it does not fit). */
size_t status_render(const struct status_src *s, char *buf, size_t cap);
/* The per-customer slots made anew for the pipeline's customer map, one per customer, each
 * customer's values carried over by its id (a reload renumbers, adds and removes customers):
 * at start and after every reload that took a map. */
void status_follow_map(struct status_src *s);
/* A pipeline summary tap (pipeline_set_summary_tap): arg is the struct status_src. */
void status_on_summary(void *arg, uint32_t customer_index, const struct summary *sum);
void status_free(struct status_src *s);
/* The /metrics names of the counter tables, one per line "json-key transitwatch_metric" (the
 * JSON totals' keys against /metrics; transitwatch --list-counters). */
void status_list_counters(FILE *out);

#endif
