/* alert_json.h: the one place alerts, summaries and totals become JSON (ECS field names where
 * ECS has them, the rest under "transitwatch"). Output is deterministic: same input, same bytes.
 * The schemas are configs/alert.schema.json and configs/summary.schema.json. */
#ifndef TW_ALERT_JSON_H
#define TW_ALERT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "summary.h"

#define ALERT_JSON_MAX 8192
/* The ECS version the messages follow (ecs.version); tests/integration/ecs_fields.json holds
 * the definitions of every ECS field we write, transcribed from that version's reference. */
#define TW_ECS_VERSION "9.3.0"

/* Write a's JSON (no newline) to buf. Returns the length, or -ENOSPC when cap is too small (summary_json_format too). */
int alert_json_format(const struct alert *a, char *buf, size_t cap);
int summary_json_format(const struct summary *s, char *buf, size_t cap);
struct json;
/* The start of a metric message (summaries, totals): @timestamp, ecs.version, message, and
 * the "event" object (kind metric, category network, type info, dataset, module) left open for
 * the caller's own event fields; the caller closes it. */
void metric_head_json(struct json *j, uint64_t ts_ms, const char *message, const char *dataset);
/* The summary's named hostile hosts as an array under key (shared by the summary and the
 * customer verdict's evidence). */
void summary_hosts_json(struct json *j, const char *key, const struct summary *s);

#endif
