/* replay.h: the lab replay (`transitwatch replay`): capture files (pcap/pcapng, gzip), nfcapd
 * archives (read through `nfdump -r`), Zeek conn.log and Argus binetflow files (flowlog.h, plain
 * or gzip), directories of any of them (one files source, files.h, in time order), or a live
 * interface (a capture source), driven by one event loop (evloop.h) through the ingest (decoders
 * and flow meter) into the pipeline. The daemon differs only in the sources it opens.
 *
 * Caller: main.c's replay command, on the main thread, after the pipeline, sinks and ingest exist.
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
#include <stdio.h>

#include "exporter.h"
#include "flowlog.h"
#include "ingest.h"
#include "nfdump.h"
#include "pipeline.h"

struct replay_opts {
    const char *const *inputs; /* files or directories (borrowed); may be empty with interface */
    size_t ninputs;
    /* live capture instead of files */
    const char *interface; /* NULL: files */
    const char *bpf;       /* NULL or "" = none (also applied to nothing else) */
    int snaplen;           /* <= 0: 262144 */
    bool promisc;
    int buffer_mb;        /* <= 0: libpcap default */
    uint64_t duration_ms; /* live: stop after this long (0: until signalled) */
    uint64_t max_packets; /* live: stop after this many packets (0: no limit) */
    /* archives */
    enum nfdump_fmt nfdump_fmt;
    const char *nfdump_bin; /* NULL: "nfdump" from PATH */
    /* Zeek / Argus logs: FLOWLOG_AUTO = recognised by content; else every named input that is
     * neither an nfcapd archive nor a capture is read in this format */
    enum flowlog_fmt log_fmt;
    /* terminal */
    int progress;                /* 1 on, 0 off, -1 auto (when stderr is a TTY) */
    int summary;                 /* same */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop reading (borrowed) */
    FILE *goflow2_out; /* --write-goflow2: every record also written there as GoFlow2 would */
};

/* What the command line gives a replay besides its settings (main.c parses it). */
struct replay_cli {
    struct replay_opts ro;
    const char *output;    /* -o FILE: JSON lines there instead of the settings' path */
    bool append;           /* --append: add to it instead of emptying it */
    const uint16_t *ports; /* --export-ports, or NULL: the defaults (ingest_opts_default) */
    size_t nports;
    bool no_sniff; /* --no-sniff */
    bool have_route;
    enum ingest_route route; /* --route, when have_route */
    const char *flows;       /* --flows FILE ("-": stdout), or NULL */
    const char *report;      /* --report FILE: the HTML report (sink_report.h), or NULL */
    bool totals;             /* the totals line at the end */
    bool text;               /* --format text: the output for a person (sink_text_new) */
    bool collect;            /* --collect: classified records to Kafka, no detectors */
    const char *goflow2_out; /* --write-goflow2 FILE, or NULL */
};

/* The replay command: r holds the settings with the command-line overrides applied (lists not
 * yet loaded); it is set up (run.h), the inputs replayed, totals published, the sinks flushed,
 * and torn down. Returns the exit code: 0, 1 (some input could not be read, or Kafka kept
 * messages spooled) or 2 (configuration, or nothing could be started). */
struct run;
int replay_main(struct run *r, const struct replay_cli *c);

/* sinks: a counting sink is added to it (alerts by detector); it is taken by sinks as usual.
 * Returns 0 when every input was read, 1 when some could not be (messages on stderr), or a
 * negative errno when nothing could be started (e.g. the interface cannot be opened; message on
 * stderr). */
int replay_run(const struct replay_opts *o, struct ingest *in, struct pipeline *p,
               struct sinks *sinks);

#endif
