/* summary.h: one customer's traffic in one window, made by the pipeline at window close and
 * formatted once by exporters/alert_json.c. */
#ifndef TW_SUMMARY_H
#define TW_SUMMARY_H

#include <stdint.h>

#include "alert.h"

struct traffic {
    uint64_t bytes, packets, flows;
};

struct summary {
    const char *customer_id, *customer_name; /* borrowed */
    uint32_t customer_asn;
    uint64_t win_start_ms, win_end_ms;
    struct traffic out, in, internal;    /* by direction, as seen from the customer */
    uint64_t active_hosts;               /* distinct inside hosts with a flow in the window */
    uint64_t hosts_alerted;              /* of those, hosts with at least one alert */
    uint64_t hosts_by_cat[CAT_COUNT];    /* hosts with an alert of each category */
    uint64_t active_hosts_day;           /* distinct inside hosts active in the last 24 h */
    uint64_t hosts_alerted_day;          /* of those, hosts with an alert in the last 24 h */
    uint64_t hosts_by_cat_day[CAT_COUNT];
    uint64_t alerts;                     /* alerts raised for the customer in the window */
    uint64_t late_flows;                 /* flows that ended before the window opened */
};

#endif
