/* replay.h: the lab replay loop (`transitwatch replay`): capture files (pcap/pcapng, gzip),
 * nfcapd archives (read through `nfdump -r`), Zeek conn.log and Argus binetflow files (flowlog.h,
 * plain or gzip), directories of any of them, or a live interface, fed
 * through the ingest (decoders and flow meter) into the pipeline, in time order.
 *
 * Caller: main.c's cmd_replay, on the main thread, after the pipeline, sinks and ingest exist.
 * replay_run borrows them all; it ends the input (meter flush, pipeline_finish) but does not
 * publish totals or flush sinks (the caller does). stdout stays JSON lines only: the progress bar
 * (only when stderr is a terminal) and the end-of-run summary go to stderr.
 */
#ifndef TW_REPLAY_H
#define TW_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter.h"
#include "flowlog.h"
#include "ingest.h"
#include "nfdump.h"
#include "pipeline.h"

struct replay_opts {
    const char *const *inputs; /* files or directories (borrowed); may be empty with interface */
    size_t ninputs;
    /* live capture instead of files */
    const char *interface;     /* NULL: files */
    const char *bpf;           /* NULL or "" = none (also applied to nothing else) */
    int snaplen;               /* <= 0: 262144 */
    bool promisc;
    int buffer_mb;             /* <= 0: libpcap default */
    uint64_t duration_ms;      /* live: stop after this long (0: until signalled) */
    uint64_t max_packets;      /* live: stop after this many packets (0: no limit) */
    /* archives */
    enum nfdump_fmt nfdump_fmt;
    const char *nfdump_bin;    /* NULL: "nfdump" from PATH */
    /* Zeek / Argus logs: FLOWLOG_AUTO = recognised by content; else every named input that is
     * neither an nfcapd archive nor a capture is read in this format */
    enum flowlog_fmt log_fmt;
    /* terminal */
    int progress;              /* 1 on, 0 off, -1 auto (when stderr is a TTY) */
    int summary;               /* same */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop reading (borrowed) */
};

/* sinks: a counting sink is added to it (alerts by detector); it is taken by sinks as usual.
 * Returns 0 when every input was read, 1 when some could not be (messages on stderr), or -1
 * when nothing could be started (e.g. the interface cannot be opened; message on stderr). */
int replay_run(const struct replay_opts *o, struct ingest *in, struct pipeline *p,
               struct sinks *sinks);

enum replay_kind { REPLAY_CAPTURE = 0, REPLAY_ARCHIVE, REPLAY_FLOWLOG };

struct replay_input {
    char *path;
    enum replay_kind kind;
    enum flowlog_fmt fmt; /* REPLAY_FLOWLOG: its format */
};

/* Expand inputs (directories recursively, at most REPLAY_MAX_FILES files; in a directory only
 * files that are captures, nfcapd archives or Zeek/Argus logs by their content, nfcapd.current.*
 * skipped) and order them by time: captures by first packet, nfcapd files by the time in their
 * name (nfcapd.YYYYMMDDhhmm[ss]), logs by their first connection, else by modification time;
 * ties keep their order. log_fmt: as replay_opts.log_fmt. *out: caller frees each path and the
 * array. Returns the count, or -1 with err. Exposed for tests. */
#define REPLAY_MAX_FILES 100000
int replay_expand(const char *const *inputs, size_t n, enum flowlog_fmt log_fmt,
                  struct replay_input **out, char *err, size_t errlen);

#endif
