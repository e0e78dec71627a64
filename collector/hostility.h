/* hostility.h: the per-customer hostility score (the Atrivo/Intercage figure: the share of a
 * customer's active hosts that misbehave), computed once per window after the workers, from
 * the pipeline's per-customer window summary (collector/pipeline.c emit_summaries, pipeline
 * thread). Per customer (keyed by customer id, so a reload of the customer map keeps the
 * history) it keeps the last HOSTILITY_TREND windows. A customer-level alert
 * (customer.hostile_share, category CAT_CUSTOMER, no host) is due when, with at least
 * min_active active hosts, the hosts with alerts are >= min_hosts and their share >= share, or
 * they are >= count whatever the share — judged on the window and on the last 24 hours (the
 * summary's day view), whichever crosses. The evidence carries the counts by category and the
 * trend of the last windows. Memory: max_customers entries of HOSTILITY_ENTRY_BYTES, fixed.
 */
#ifndef TW_HOSTILITY_H
#define TW_HOSTILITY_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "conf.h"
#include "summary.h"

#define HOSTILITY_TREND 12
#define HOSTILITY_EVIDENCE_MAX 1024

struct hostility_conf {
    uint32_t min_active;  /* active hosts needed before a share means anything */
    uint32_t min_hosts;   /* hostile hosts needed for the share rule */
    double share;         /* hostile share that alerts */
    uint32_t count;       /* hostile hosts that alert whatever the share */
    uint64_t max_customers;
};

/* Schema of a [hostility] section (for the settings reader), NULL-terminated. */
extern const struct conf_key hostility_conf_keys[];

struct hostility;

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
