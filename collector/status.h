/* status.h: render every counter of a running collector as Prometheus text (for /metrics).
 * Called on the main loop's thread, which owns all the counters it reads. */
#ifndef TW_STATUS_H
#define TW_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "exporter.h"
#include "ingest.h"
#include "pipeline.h"
#include "udp.h"

struct status_src {
    const struct ingest *in;
    struct pipeline *p;
    const struct udp_stats *udp;     /* NULL when not listening */
    uint64_t rx_ring_waits;          /* receive threads waiting on a full ring */
    const struct sinks *sinks;
    uint64_t reloads, reload_failures;
    int last_reload_ok;              /* 1 ok, 0 failed, -1 none yet */
    uint64_t last_reload_unix;
    uint64_t start_unix;
    bool per_customer;               /* [metrics] per_customer */
    bool healthy;                    /* the last /healthz verdict */
    /* live captures ([capture NAME]): name and counters, read by the main loop */
    size_t ncaptures;
    const char *capture_name[SETTINGS_MAX_CAPTURES];
    struct capture_stats capture[SETTINGS_MAX_CAPTURES];
};

/* Writes the text into buf (NUL-terminated). Returns its length (cap - 1 at most; the text is
 * cut at a line boundary if it does not fit). */
size_t status_render(const struct status_src *s, char *buf, size_t cap);

#endif
