/* summary.h: one customer's traffic in one window, made by the pipeline at window close and
 * formatted once by exporters/alert_json.c. */
#ifndef TW_SUMMARY_H
#define TW_SUMMARY_H

#include <stdint.h>

#include "alert.h"

struct traffic {
    uint64_t bytes, packets, flows;
};

#define SUMMARY_NAMED 8     /* hostile hosts a summary names */
#define SUMMARY_INCIDENTS 4 /* incidents named per host */

/* A hostile host (the pipeline ranks them at window close). */
struct hostile_host {
    uint8_t addr[16];
    uint16_t weight, weight_day; /* summed category weights, hundredths */
    uint32_t cats_day;           /* categories alerted over the day */
};

/* A hostile host as the summary and the customer verdict name it: with its incidents. */
struct summary_host {
    struct hostile_host h;
    uint32_t nincidents, incidents_total;
    struct {
        char event_id[33];
        char rule_id[48];
    } incidents[SUMMARY_INCIDENTS]; /* most recently raised first */
};

struct summary {
    const char *customer_id, *customer_name; /* borrowed */
    uint32_t customer_asn;
    uint64_t win_start_ms, win_end_ms;
    struct traffic out, in, internal; /* by direction, as seen from the customer */
    uint64_t active_hosts;            /* distinct inside hosts with a flow in the window */
    uint64_t hosts_alerted;           /* of those, hosts with at least one alert */
    uint64_t hosts_by_cat[CAT_COUNT]; /* hosts with an alert of each category */
    uint64_t active_hosts_day;        /* distinct inside hosts active in the last 24 h */
    uint64_t hosts_alerted_day;       /* of those, hosts with an alert in the last 24 h */
    uint64_t hosts_by_cat_day[CAT_COUNT];
    uint64_t hostile_hosts;     /* hosts whose weighted alerts make them hostile */
    uint64_t hostile_hosts_day; /* the same over the last 24 h */
    uint32_t nnamed;            /* the weightiest hostile hosts of the day view */
    struct summary_host named[SUMMARY_NAMED];
    uint64_t alerts;     /* alerts raised for the customer in the window */
    uint64_t late_flows; /* flows that ended before the window opened */
};

#endif
