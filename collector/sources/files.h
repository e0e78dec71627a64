/* files.h: the files of a replay, in time order, as one source.
 *
 * The inputs (capture files, nfcapd archives, Zeek/Argus logs, GoFlow2 record files named
 * *.goflow2 (goflow2.h), directories of any of them) are
 * expanded and ordered by time once (files_expand); the source then opens one file at a time as
 * the source of its kind (capture.h, nfdump.h, flowlog.h), drains it to its end through the
 * source interface, closes it and opens the next, so the records reach the pipeline in time
 * order. A file that cannot be opened or read whole is logged by its source and counted in
 * failures; the next one is read. The counters of the files read add up per kind (a table
 * each: capture files, archives, logs, GoFlow2 files).
 *
 * Caller: the replay (replay.c), on the main thread's loop. */
#ifndef TW_FILES_H
#define TW_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "flowlog.h"
#include "nfdump.h"
#include "source.h"

enum files_kind { FILES_CAPTURE = 0, FILES_ARCHIVE, FILES_FLOWLOG, FILES_GOFLOW2, FILES_KINDS };

struct files_input {
    char *path;
    enum files_kind kind;
    enum flowlog_fmt fmt; /* FILES_FLOWLOG: its format */
};

/* Expand inputs (directories recursively, at most FILES_MAX files; in a directory only files
 * that are captures, nfcapd archives or Zeek/Argus logs by their content, nfcapd.current.*
 * skipped) and order them by time: captures by first packet, nfcapd files by the time in their
 * name (nfcapd.YYYYMMDDhhmm[ss]), logs by their first connection, else by modification time;
 * ties keep their order. A named file is kept even when it cannot be read (opening it says
 * why). log_fmt: FLOWLOG_AUTO = logs recognised by content; else every named input that is
 * neither an nfcapd archive nor a capture is read in this format. *out: caller frees (or
 * files_source_open takes it). Returns the count, or -errno with err. */
#define FILES_MAX 100000
int files_expand(const char *const *inputs, size_t n, enum flowlog_fmt log_fmt,
                 struct files_input **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void files_free(struct files_input *v, size_t n);

struct files_opts {
    enum nfdump_fmt nfdump_fmt;
    const char *nfdump_bin; /* NULL: "nfdump" from PATH */
};

/* The source over v[0..n) (taken, also on error). Records, packets go to out (borrowed).
 * 0 or -ENOMEM. */
int files_source_open(struct files_input *v, size_t n, const struct files_opts *o,
                      const struct source_out *out, struct source **src)
    __attribute__((warn_unused_result));
/* For a progress bar: bytes of the inputs read so far (capture files as they are read, other
 * files once done) and in all. */
void files_source_progress(struct source *s, uint64_t *done, uint64_t *total);

#endif
