/* text_out.h: the messages as a person reads them (replay --format text): one line per alert
 * (time, severity, customer, host, rule, peer, and the alert's message: its key evidence in a
 * sentence), and at the end a table per customer (from the window summaries: windows, active
 * hosts, hosts with alerts and hostile hosts over the last 24 hours, alerts, flows and bytes
 * each way) and the totals' sentence. It reads the same JSON every other sink gets (the rule's
 * name and message come from the rule table through it), so what it shows is what a SIEM sees.
 *
 * Caller: the JSON-lines sink in text mode (sink_jsonl.h), on the pipeline thread. Memory: one
 * row per customer seen, at most TEXT_OUT_MAX_CUSTOMERS (the rest are summed in one row). */
#ifndef TW_TEXT_OUT_H
#define TW_TEXT_OUT_H

#include <stddef.h>

#include "exporter.h"

#define TEXT_OUT_MAX_CUSTOMERS 100000
#define TEXT_OUT_LINE_MAX 2048 /* one alert line, at most */

struct text_out;

int text_out_new(struct text_out **out);
void text_out_free(struct text_out *t);
/* The text of one message into buf (NUL-terminated, whole lines each ending in '\n'): an
 * alert's line (with the column header before the first), nothing for a summary (it goes into
 * the table), the table and the totals' sentence for the totals. Returns the length (0: nothing
 * to write). A message that is not readable JSON gives a line saying so. */
size_t text_out_message(struct text_out *t, enum msg_kind kind, const char *json, size_t len,
                        char *buf, size_t cap);
/* The customer table if it has not been written yet (the end of a run without totals), else
 * nothing. Returns the length written into buf. */
size_t text_out_finish(struct text_out *t, char *buf, size_t cap);
/* Bytes the table needs at most now (for the caller's buffer). */
size_t text_out_table_size(const struct text_out *t);

#endif
