/* report.h: the report people look at rather than read. A model built from the same messages
 * every sink gets (alerts, per-window customer summaries, the totals: our own JSON, read back
 * with json_read.h), and two writers: one self-contained HTML page (inline CSS and SVG, no
 * script, nothing fetched from anywhere) and plain text for e-mail.
 *
 * Per customer it keeps a timeline of the windows (bytes out and in, the hostile-host share of
 * the window and of the last 24 hours), the incidents (alerts grouped by event.id) with their
 * evidence (the latest message, the scalar evidence members and the first few of an array of
 * scalars - a C2 list's servers, a scan's sample targets - feed listings with references, a
 * beacon's intervals, a spam run's destinations and a scan's targets and ports per update),
 * and the hosts with alerts per detector.
 *
 * Bounded whatever the input: at most REPORT_MAX_CUSTOMERS customers (the rest counted), a
 * timeline of at most REPORT_POINTS points (when full, neighbouring points are merged and each
 * point then covers twice as many windows), REPORT_INCIDENTS incidents per customer (a more
 * severe one replaces the least severe, the rest are counted), REPORT_HOSTS host tallies per
 * customer (the rest counted), REPORT_SERIES evidence points per incident (merged like the
 * timeline). The HTML is then bounded too (REPORT_SHOW_* rows are shown, the rest counted;
 * a report of all customers shows the REPORT_SHOW_CUSTOMERS with most alerts in full and the
 * others as one table row each).
 *
 * Callers: the report sink (sink_report.h: the replay's --report and the daemon's [report]) on
 * the main loop's thread, and `transitwatch report` reading JSON lines files or the Kafka
 * topics. Not thread-safe: one thread at a time. */
#ifndef TW_REPORT_H
#define TW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "exporter.h"

#define REPORT_MAX_CUSTOMERS 256
#define REPORT_POINTS 288 /* a day of 5-minute windows */
#define REPORT_INCIDENTS 64
#define REPORT_HOSTS 128
#define REPORT_IDS                                                                                 \
    8192 /* incident ids a customer's count tells apart (a set of 2x slots: 128 KiB) */
#define REPORT_SERIES 48
#define REPORT_INTERVALS 64 /* a beacon's intervals kept for its histogram */
#define REPORT_SHOW_INCIDENTS 40
#define REPORT_SHOW_HOSTS 5      /* per detector */
#define REPORT_SHOW_CUSTOMERS 24 /* in full in a report of all customers; the rest in a table */

struct report_opts {
    const char *customer;   /* only this customer (NULL: all) */
    uint64_t since_ms;      /* only messages with @timestamp >= since (0: no bound) */
    uint64_t until_ms;      /* ... and < until (0: no bound) */
    const char *title;      /* NULL: "transitwatch report" */
    const char *config;     /* the configuration it ran with, as text (borrowed; NULL: none) */
    double threshold_share; /* the provider's hostile-share threshold (0: from the alerts) */
};

/* What the abuse report says about the customer (customers.h: the abuse column). */
struct report_contact {
    const char *name;  /* customer's name, or NULL */
    const char *abuse; /* abuse contact, or NULL */
};

struct report;

/* o is copied (its strings too). 0, or -ENOMEM. */
int report_new(const struct report_opts *o, struct report **out);
void report_free(struct report *r);
/* Take one message. 0: used; 1: left out by the customer or time filter; -EINVAL: not one of
 * our messages (not JSON, no @timestamp); counted either way. */
int report_add(struct report *r, enum msg_kind kind, const char *json, size_t len);
/* Messages taken so far, and of them those that were not readable (report_add's -EINVAL). */
void report_counts(const struct report *r, uint64_t *msgs, uint64_t *unreadable);
/* Customers seen, in first-seen order (ids borrowed from r). */
size_t report_customers(const struct report *r, const char **ids, size_t max);
/* The page: every customer, or only `customer` (NULL: all) with the abuse report's letter
 * when contact is given. 0, or -EIO when writing fails. */
int report_write_html(const struct report *r, const char *customer,
                      const struct report_contact *contact, FILE *f);
/* The same as plain text for e-mail. */
int report_write_text(const struct report *r, const char *customer,
                      const struct report_contact *contact, FILE *f);

#endif
