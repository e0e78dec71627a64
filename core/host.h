/* host.h: one inside host of a worker's host table (core/hosttab.h). Written by the owning
 * worker; detectors (detectors/detector.h) read it and set alert_cats. */
#ifndef TW_HOST_H
#define TW_HOST_H

#include <stdint.h>

#include "alert.h"

/* 64 bytes, no padding (tests/unit/test_hosttab.c checks it): a slot of the host table is this
 * plus the detectors' per-host state (bench/RESULTS.md, "Memory model"). Addresses keep their 16
 * bytes so an IPv6 host is counted at its real size; the category sets are one byte each. */
struct host {
    uint8_t addr[16];  /* network order, IPv4 mapped */
    uint32_t customer; /* customer index + 1 */
    uint32_t window;   /* number of the last window the host was active in */
    uint64_t last_ms;  /* latest flow end seen */
    /* the window of its latest alert as that window's end / window_ms, i.e. its number + 1
     * (0 = never). Window ends are whole multiples of window_ms (collector/windows.c), so this
     * is the end time exactly, in the range of `window`, in 4 bytes instead of 8 */
    uint32_t last_alert_win;
    /* the highest sampling rate (flow_rec.sampling; 1 = unsampled) of the host's records since
     * its current window began: the alerts' transitwatch.sampling */
    uint32_t sampling;
    /* the exporter that last reported the host's flows (flow_rec.exporter, 0 = none) and the
     * interface they entered it on: the alerts' observer (ECS observer.ip, .ingress) */
    uint32_t exporter, in_if;
    uint8_t alert_cats : 7; /* bit (1 << enum alert_category) per category alerted this window */
    /* the host sent a record in this window (its own: outbound, or the source of an internal
     * one): an active host. An address that only received (a scan's target nobody answers
     * from, the Internet's background probing a customer's space) is not one */
    uint8_t sent : 1;
    uint8_t cats_day : 7; /* categories alerted since the host was last clean for a day */
    uint8_t sender : 1;   /* the host has sent a record since it entered the table: a host, not
                           * a dark address (the day view's active hosts; evicted first when
                           * it has not) */
    /* per category, the weightiest alert (severity weight x score, in hundredths; see
     * collector/hostility.h) of this window, and since the host was last clean for a day */
    uint8_t weight[CAT_COUNT], weight_day[CAT_COUNT];
};

_Static_assert(CAT_COUNT <= 7, "struct host keeps the category sets in 7 bits of a byte");

#endif
