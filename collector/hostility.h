/* hostility.h: the customer verdict (the Atrivo/Intercage figure: the share of a customer's
 * active hosts that misbehave), computed once per window after the workers, from the
 * pipeline's per-customer window summary (collector/pipeline.c emit_summaries, pipeline
 * thread).
 *
 * Hostile hosts, not hosts with any alert: every alert weighs its severity weight (weight_low
 * .. weight_critical) times its score (the detector's confidence, 0..1). A host keeps, per
 * category, its weightiest alert of the window and of the last day (struct host weight[],
 * weight_day[], set by the pipeline's worker as alerts are raised: hostility_alert_weight),
 * and is hostile when the sum over categories reaches host_weight. With the defaults one
 * confident high-severity finding makes a host hostile; a medium one does not alone (a
 * beacon barely over its threshold, a sweep), two of different kinds do; low-severity alerts
 * (a listed address reaching into the customer, long sessions) never do alone. Repeats of one
 * incident do not add up.
 *
 * The verdict (customer.hostile_share, category CAT_CUSTOMER, no host) is due when, with at
 * least min_active active hosts, the hostile hosts are >= min_hosts AND their share >= share,
 * or they are >= count whatever the share - judged on the window and on the last 24 hours
 * (the summary's day view), whichever crosses. Its evidence names the hostile hosts it counted
 * (the weightiest SUMMARY_NAMED, by weight then address, so the list is the same whatever the
 * order the workers visit them) with their weights, categories and incidents (event.id and
 * rule of each, from the alert manager), the counts by category and the trend of the last
 * HOSTILITY_TREND windows. Per customer (keyed by customer id, so a reload of the customer map
 * keeps the history). Memory: max_customers entries, fixed.
 */
#ifndef TW_HOSTILITY_H
#define TW_HOSTILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "conf.h"
#include "summary.h"

#define HOSTILITY_TREND 12
#define HOSTILITY_EVIDENCE_MAX 5120

struct hostility_conf {
    uint32_t min_active; /* active hosts needed before a share means anything */
    uint32_t min_hosts;  /* hostile hosts needed for the share rule */
    double share;        /* hostile share that alerts */
    uint32_t count;      /* hostile hosts that alert whatever the share */
    double host_weight;  /* summed category weights that make a host hostile */
    double weight_low, weight_medium, weight_high, weight_critical; /* per severity */
    uint64_t max_customers;
};

/* Schema of a [hostility] section (for the settings reader), NULL-terminated. */
extern const struct conf_key hostility_conf_keys[];

struct hostility;

/* The weight of one alert in hundredths (0..100): its severity's weight times its score.
 * Pure: any thread (the workers call it as they raise alerts). */
uint8_t hostility_alert_weight(const struct hostility_conf *c, const struct alert *a);
/* The summed category weights of a host (hundredths; CAT_CUSTOMER left out) and whether they
 * make it hostile. */
uint32_t hostility_host_weight(const uint8_t w[CAT_COUNT]);
bool hostility_host_hostile(const struct hostility_conf *c, const uint8_t w[CAT_COUNT]);

/* c: NULL = the defaults of hostility_conf_keys. Returns 0 or -ENOMEM/-EINVAL. */
int hostility_new(const struct hostility_conf *c, struct hostility **out);
void hostility_free(struct hostility *h);
/* Account one customer's window (s: its summary; customer: index + 1). Returns 1 and fills *a
 * (its strings and evidence point into s and ev, valid until the next call) when an alert is
 * due, 0 otherwise. */
int hostility_window(struct hostility *h, uint32_t customer, const struct summary *s,
                     struct alert *a, char *ev, size_t evlen);
/* Customers tracked and those refused because the table was full. */
void hostility_stats(const struct hostility *h, uint64_t *tracked, uint64_t *refused);

#endif
