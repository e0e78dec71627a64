/* report_cmd.h: `transitwatch report` (main.c parses its command line): the report
 * (exporters/report.h) from JSON lines files of alerts, summaries and totals (what replay -o
 * and the daemon's [output] write; plain or gzip) and/or from the Kafka topics the Kafka sink
 * publishes alerts and summaries to (kafka_read.h: a finite read up to the end the topics had
 * at the start), as HTML or plain text. A line of a file and a Kafka message go through the
 * same reading (report_add by the message's event.dataset), so the same messages give the same
 * document. With a customer it is the customer abuse report: only that customer's messages in
 * [since, until), addressed to its abuse contact (the customer map's abuse column,
 * customers.h). Main thread. */
#ifndef TW_REPORT_CMD_H
#define TW_REPORT_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink_kafka.h"

#define REPORT_LINE_MAX (1u << 20) /* a longer line is counted unreadable and skipped */

struct report_cmd {
    const char *customer;        /* NULL: every customer */
    uint64_t since_ms, until_ms; /* 0: open */
    bool text;                   /* plain text instead of HTML */
    const char *output;          /* NULL or "-": stdout */
    const char *customers;       /* the customer map (names, abuse contacts), or NULL */
    double threshold_share;      /* the provider's threshold ([hostility] share) */
    const char *const *files;    /* JSON lines files (borrowed), "-" = stdin */
    size_t nfiles;
    /* after the files, the topics topic_alerts and topic_summaries of these settings (brokers,
     * properties; flush_timeout bounds each wait); NULL: files only (borrowed) */
    const struct kafka_settings *kafka;
};

/* Returns the exit code: 0, 1 (a file or the topics could not be read, or the output not
 * written), 2 (the customer map). */
int report_cmd_run(const struct report_cmd *c);
/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DDTHH:MM:SS[.fff][Z]" (UTC) -> ms. */
bool report_cmd_time(const char *s, uint64_t *ms);

#endif
