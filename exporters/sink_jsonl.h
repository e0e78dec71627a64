/* sink_jsonl.h: a JSON-lines sink (one message per line) to stdout or a file.
 *
 * Runs on the export thread like every sink (exporter.h). Output is buffered by stdio/zlib;
 * flush() pushes it out (and fflush()es stdout), reopen() (SIGHUP, logrotate) closes and
 * reopens the file by name (stdout is only flushed). With gzip the stream is a gzip file
 * (zlib gzFile); destroy() finishes it so the file is a complete gzip member. A write error
 * counts the message as lost (publish() returns -1) and is logged once per episode.
 */
#ifndef TW_SINK_JSONL_H
#define TW_SINK_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include "exporter.h"

/* Bit for one kind in kinds_mask. */
#define SINK_JSONL_KIND(k) (1u << (unsigned)(k))
#define SINK_JSONL_ALL ((1u << MSG_KIND_COUNT) - 1u)

/* path: borrowed (copied); "-" = stdout. gzip: write a gzip stream (also allowed on stdout).
 * kinds_mask: which enum msg_kind to write, one bit per kind (SINK_JSONL_KIND).
 * Files are opened for append. Returns 0 with *out filled, or -1 with err set. */
int sink_jsonl_new(const char *path, bool gzip, unsigned kinds_mask, struct sink *out, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

#endif
