/* alerts.h: the alert manager. Detectors' alerts pass through here (on the pipeline thread).
 *
 * Incidents: an alert's identity is (rule, customer, host, peer). The first alert of an
 * identity opens an incident with a deterministic event.id (hash of the identity and the start
 * of the window it was first raised in) and is published. Later alerts of the same identity
 * belong to the same incident as long as it stays ongoing (raised again within incident_ms of
 * its last raise): each raises the incident's count and moves its last_seen; at most once per
 * suppress_ms the incident is published again as an update carrying the same event.id, the
 * count so far, first_seen and first_raised of the incident and the latest evidence. A SIEM
 * that keys documents on event.id thus keeps one ticket per incident and sees it grow. An
 * identity not raised for incident_ms is closed: its next alert opens a new incident (new id).
 *
 * Memory is fixed at creation (max entries), recency-ordered: when full, the incident raised
 * least recently is forgotten (counted). Incidents are also indexed by (customer, host), so the
 * customer verdict can name the incidents it counted (alert_mgr_host_incidents). */
#ifndef TW_ALERTS_H
#define TW_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "exporter.h"

struct alert_mgr;

struct alert_mgr_stats {
    uint64_t raised;                 /* alerts detectors raised */
    uint64_t published;              /* messages handed to the sinks (new incidents and updates) */
    uint64_t incidents;              /* incidents opened (each published once as new) */
    uint64_t updates;                /* updates of ongoing incidents published */
    uint64_t suppressed;             /* repeats folded into an incident without a message */
    uint64_t forgotten;              /* incidents pushed out by the table bound */
    uint64_t format_errors;          /* alert too large to format (should not happen) */
    uint64_t sink_losses;            /* sinks that reported a loss */
    uint64_t state_saves;            /* incidents file written (alert_mgr_save) */
    uint64_t state_errors;           /* incidents file writes that failed */
    uint64_t state_restored;         /* incidents read back at start (alert_mgr_load) */
    uint64_t state_unsound;          /* entries of that file refused as unsound */
    uint64_t by_category[CAT_COUNT]; /* messages published (new and updates), by category */
};

/* One incident as alert_mgr_host_incidents reports it. rule_id is the detector's static
 * string; valid until the next alert_mgr_raise. */
struct alert_incident {
    const char *rule_id;
    char event_id[33];
    enum alert_category category;
    enum alert_severity severity; /* of its latest alert */
    uint64_t count, first_raised_ms, last_raised_ms;
};

/* sinks: borrowed for the manager's life. suppress_ms: least time between two messages of one
 * incident; incident_ms: quiet time that closes an incident (raised to suppress_ms if less). */
int alert_mgr_new(size_t max_entries, uint64_t suppress_ms, uint64_t incident_ms,
                  struct sinks *sinks, struct alert_mgr **out);
void alert_mgr_free(struct alert_mgr *m);
/* a: the customer fields filled by the caller; event_id, repeat_count, first_raised_ms are set
 * here (also when the alert is folded), first_ms/last_ms widened to the incident's. now_ms is
 * event time (the end of the window raising it). Returns 1 when a new incident was published,
 * 2 when an update was published, 0 when folded without a message. */
int alert_mgr_raise(struct alert_mgr *m, struct alert *a, uint64_t now_ms);
void alert_mgr_stats(const struct alert_mgr *m, struct alert_mgr_stats *out);
/* The incidents of (customer, host) raised at or after since_ms, most recently raised first, at
 * most max into out. Returns how many there are in all (may exceed max). */
size_t alert_mgr_host_incidents(const struct alert_mgr *m, const char *customer_id,
                                const uint8_t host[16], uint64_t since_ms,
                                struct alert_incident *out, size_t max);
/* The incidents across a restart (the daemon's [daemon] incidents_file; replay never). Save:
 * every incident, the least recently raised first, to path (written beside it and renamed
 * over it, so a crash leaves the old file or the new one); wall_ms is recorded. A failure is
 * logged once until a save succeeds and counted. Load (into a new manager, before any alert):
 * the incidents of such a file, so an incident that goes on after the restart keeps its
 * event.id, count, first_raised and suppression; entries beyond max_entries go least recent
 * first (forgotten), unsound ones are skipped (counted); a file that is not one, of another
 * build, cut short or too long is refused whole (err says why; the manager stays empty).
 * Both 0 or -errno. changed: alerts raised since the last save. */
int alert_mgr_save(struct alert_mgr *m, const char *path, uint64_t wall_ms);
int alert_mgr_load(struct alert_mgr *m, const char *path, uint64_t *restored, char *err,
                   size_t errlen);
bool alert_mgr_changed(const struct alert_mgr *m);
/* Deterministic id of an alert whose incident was first raised in the window starting at
 * first_window_ms. */
void alert_event_id(const struct alert *a, uint64_t first_window_ms, char out[33]);

#endif
