/* goflow2.h: a file of GoFlow2 records as a source (source.h): what `goflow2 -format=bin
 * -transport=file` writes, each protobuf FlowMessage preceded by its length as a varint
 * (flowpb.h reads them). Records go to source_out.record as finished records; a message that is
 * not a FlowMessage is skipped and counted; a broken length prefix (the rest of the file cannot
 * be framed) or a message over GOFLOW2_MSG_MAX bytes ends the file as a failure (logged).
 * Named inputs ending in .goflow2 are read with it (files.h). Memory: one buffer of
 * GOFLOW2_BUF bytes. Threads: the loop's. */
#ifndef TW_GOFLOW2_H
#define TW_GOFLOW2_H

#include "source.h"

#define GOFLOW2_BUF 65536
#define GOFLOW2_MSG_MAX 4096

#define GOFLOW2_COUNTERS(X, A)                                                                     \
    X(T, records, "goflow2.records", "goflow2_records_total", NULL, CTR_COUNTER,                   \
      "GoFlow2 FlowMessages read from files.")                                                     \
    X(T, bad, "goflow2.bad_records", "goflow2_bad_records_total", NULL, CTR_COUNTER,               \
      "GoFlow2 messages that could not be read (skipped).")

struct goflow2_stats {
    GOFLOW2_COUNTERS(CTR_FIELD, CTR_NONE)
};

/* 0 or -errno with err. */
int goflow2_source_open(const char *path, const struct source_out *out, struct source **src,
                        char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
