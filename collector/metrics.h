/* metrics.h: the HTTP status endpoint: GET /metrics (Prometheus text format 0.0.4) and
 * GET /healthz, served by libmicrohttpd on its own thread.
 *
 * The main loop owns every counter. Once a second it renders the metrics text itself
 * (status.c) and hands a copy here with metrics_publish(); the HTTP thread only ever serves the
 * latest copy, under a mutex, so nothing on the record path is locked or shared.
 * /healthz answers 200 "ok" when the last published health text is "ok\n" and the main loop
 * published within the last stale_ms; else 503 with the health text ("degraded: REASON; ...",
 * health.h) or "stalled: ..." as the body. GET /report/CUSTOMER answers the customer's latest
 * report page ([report], report_dir.h) read from its file, 404 for a customer without one. */
#ifndef TW_METRICS_H
#define TW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics;

/* listen: "127.0.0.1:9464" or "[::1]:9464". Returns 0 or a negative errno with err. */
int metrics_start(const char *listen, uint64_t stale_ms, struct metrics **out, char *err,
                  size_t errlen);
/* Replace the served text and health verdict (both copied; health NULL = "ok\n").
 * now_ms: monotonic ms of this publication. */
void metrics_publish(struct metrics *m, const char *text, size_t len, const char *health,
                     uint64_t now_ms);
/* The report pages served at GET /report/ID (report_dir.h): ids[i]'s latest page is paths[i]
 * (both copied; replaces the previous list). An ID not in the list is 404: the URL only
 * selects an entry, it is never a path. Main thread. */
void metrics_set_reports(struct metrics *m, const char *const *ids, const char *const *paths,
                         size_t n);
uint16_t metrics_port(const struct metrics *m);
void metrics_stop(struct metrics *m);

#endif
