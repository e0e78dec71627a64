/* alerts.h: the alert manager. Detectors' alerts pass through here (on the pipeline thread):
 * repeats of the same (rule, feed, customer, host, peer) within the suppression time only bump a
 * counter and last_seen; a new one gets its deterministic event.id, is formatted to JSON once
 * and handed to the sinks, keyed by customer id. Memory is fixed at creation (max entries);
 * when full, the oldest is forgotten (counted). */
#ifndef TW_ALERTS_H
#define TW_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "exporter.h"

struct alert_mgr;

struct alert_mgr_stats {
    uint64_t raised;        /* alerts detectors raised */
    uint64_t published;     /* alerts handed to the sinks */
    uint64_t suppressed;    /* repeats folded into an earlier alert */
    uint64_t forgotten;     /* entries pushed out by the table bound */
    uint64_t format_errors; /* alert too large to format (should not happen) */
    uint64_t sink_losses;   /* sinks that reported a loss */
    uint64_t by_category[CAT_COUNT];
};

/* sinks: borrowed for the manager's life. */
int alert_mgr_new(size_t max_entries, uint64_t suppress_ms, struct sinks *sinks,
                  struct alert_mgr **out);
void alert_mgr_free(struct alert_mgr *m);
/* a: the customer fields filled by the caller; event_id/repeat_count are set here. now_ms is
 * event time. Returns 1 when published, 0 when suppressed. */
int alert_mgr_raise(struct alert_mgr *m, struct alert *a, uint64_t now_ms);
void alert_mgr_stats(const struct alert_mgr *m, struct alert_mgr_stats *out);
/* Deterministic id of an alert first raised in the window starting at first_window_ms. */
void alert_event_id(const struct alert *a, uint64_t first_window_ms, char out[33]);

#endif
