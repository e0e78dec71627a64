/* sink_jsonl.h: a JSON-lines sink (one message per line) to stdout or a file.
 *
 * Runs on the main loop's thread (the pipeline's) like every sink (exporter.h). Output is buffered by stdio/zlib,
 * in whole lines: poll() (every 100 ms in the daemon) pushes out what was written since the
 * last one, so every message is whole in the file within a poll interval and a SIGKILL loses at
 * most that; flush() does the same at the end. reopen() (SIGHUP, logrotate) closes and
 * reopens the file by name (stdout is only flushed). With gzip the stream is a gzip file
 * (zlib gzFile); destroy() finishes it so the file is a complete gzip member. A message counts
 * as written once a flush put it in the file. A write or flush error counts every message taken
 * since the last flush as lost (publish() returns -EIO for its own), cuts a plain file back to its
 * size at that flush (never a torn last line) and is logged once per episode.
 * Text mode (sink_text_new, replay --format text): the same output, but each message rendered
 * for a person (text_out.h: a line per alert, the customer table and the rules' meaning at the
 * end: with the totals, else at flush()).
 */
#ifndef TW_SINK_JSONL_H
#define TW_SINK_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include "exporter.h"

/* Bit for one kind in kinds_mask. */
#define SINK_JSONL_KIND(k) (1u << (unsigned)(k))
#define SINK_JSONL_ALL                                                                             \
    (SINK_JSONL_KIND(MSG_ALERT) | SINK_JSONL_KIND(MSG_SUMMARY) | SINK_JSONL_KIND(MSG_TOTALS))

/* path: borrowed (copied); "-" = stdout. gzip: write a gzip stream (also allowed on stdout).
 * kinds_mask: which enum msg_kind to write, one bit per kind (SINK_JSONL_KIND).
 * truncate: the first open empties the file (replay -o); otherwise, and at every reopen, files
 * are opened for append. Returns 0 with *out filled, or a negative errno with err set
 * (the open's errno, -EINVAL: no path, -ENOMEM). */
int sink_jsonl_new(const char *path, bool gzip, bool truncate, unsigned kinds_mask,
                   struct sink *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The same sink writing text (text_out.h) instead of JSON, every kind, no gzip. */
int sink_text_new(const char *path, bool truncate, struct sink *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
