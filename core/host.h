/* host.h: one inside host of a worker's host table (core/hosttab.h). Written by the owning
 * worker; detectors (detectors/detector.h) read it and set alert_cats. */
#ifndef TW_HOST_H
#define TW_HOST_H

#include <stdint.h>

#include "alert.h"

struct host {
    uint8_t addr[16];       /* network order, IPv4 mapped */
    uint32_t customer;      /* customer index + 1 */
    uint32_t window;        /* number of the last window the host was active in */
    uint64_t first_ms;      /* first flow seen (event time) */
    uint64_t last_ms;       /* latest flow end seen */
    uint32_t alert_cats;    /* bit (1 << enum alert_category) per category alerted this window */
    uint32_t cats_day;      /* categories alerted since the host was last clean for a day */
    uint64_t last_alert_ms; /* window end of its latest alert (0 = never) */
    /* per category, the weightiest alert (severity weight x score, in hundredths; see
     * collector/hostility.h) of this window, and since the host was last clean for a day */
    uint8_t weight[CAT_COUNT], weight_day[CAT_COUNT];
    uint32_t flags;
    /* the exporter that last reported the host's flows (flow_rec.exporter, 0 = none) and the
     * interface they entered it on: the alerts' observer (ECS observer.ip, .ingress) */
    uint32_t exporter, in_if;
    /* the highest sampling rate (flow_rec.sampling; 1 = unsampled) of the host's records since
     * its current window began: the alerts' transitwatch.sampling (fits the struct's padding) */
    uint32_t sampling;
};

#endif
