/* source.h: the one interface every input sits behind, and the set of open sources an event
 * loop drives (in the manner of ipfixcol2's input-plugin callbacks and nfdump's flowsource).
 *
 * A source reads one input: UDP sockets (udp.c), receive threads (rx.c), a live interface or a
 * capture file (capture.c), an nfcapd archive (nfdump.c), a Zeek or Argus log (flowlog.c), the
 * files of a replay in time order (files.c); later sFlow (a UDP source: its datagrams go to the
 * decoders like NetFlow) and Kafka (records). What it reads it hands on through its
 * struct source_out, as export datagrams, captured packets or finished flow records; normally
 * into the ingest (ingest_source_out, ingest.h), a receive thread into its ring. Each source:
 *   - says how the loop learns it has input: an fd that turns readable, or ready() (a file is
 *     always ready; a ring is when it holds items), or both;
 *   - takes at most `budget` items per drain (ops->budget in the loop, so one busy input cannot
 *     starve the others, the timers or the signals; libuv's udp.c reads 32 per turn);
 *   - keeps its own counters, rendered by ctr.h from its table (ops->counters): /metrics, the
 *     replay's end-of-run listing;
 *   - reports failures itself (log_error, with the file or interface), counts them in failures,
 *     and ends.
 * The daemon and the replay differ only in which sources they open (daemon.c, replay.c).
 *
 * Threads: a source and its set belong to the thread of the loop that drives them (the main
 * thread; a receive thread for its own UDP source). Ownership: the set owns the sources added to
 * it (ops->close frees them); a source borrows its source_out target.
 */
#ifndef TW_SOURCE_H
#define TW_SOURCE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "ctr.h"
#include "evloop.h"
#include "flow.h"
#include "flowpb.h"

/* Where a source hands what it reads; each item is borrowed for the call. A source uses the
 * entries of its kind of input only. */
struct source_out {
    /* an export datagram (NetFlow/IPFIX, later sFlow) from src:sport, received at now_ms */
    void (*datagram)(void *arg, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                     const uint8_t *data, size_t len);
    void (*packet)(void *arg, const struct capture_pkt *pkt); /* a captured frame */
    /* the end of a run of packets (each drain that handed any): what the consumer held back to
     * batch them goes on now. NULL: nothing held back */
    void (*packets_end)(void *arg);
    void (*record)(void *arg, struct flow_rec *f); /* a finished flow record */
    /* lines of a text input that could not be read (skipped; the source names the first), at
     * the end of each file: archive = nfcapd archive's nfdump output, else a Zeek/Argus log */
    void (*bad_lines)(void *arg, bool archive, uint64_t n);
    /* a record `collect` classified and published: one customer's part of it, with the
     * collector's event time (flowpb.h; the Kafka consumer source, kafka_in.h) */
    void (*part)(void *arg, struct flow_rec *f, const struct flowpb_meta *m);
    void *arg;
};

#define SOURCE_EOF (-ENODATA) /* drain: the input has ended; nothing more will come */
#define SOURCE_SNAP_MAX 256   /* bytes of a source's counter snapshot, at most */

struct source;

struct source_ops {
    const char *kind; /* "udp", "rx", "capture", "pcap-file", "nfcapd", "flowlog", "files",
                         "kafka" */
    size_t budget;    /* items per drain in a loop turn */
    /* A pollable fd (readable when input waits), or -1. NULL: none. */
    int (*fd)(struct source *s);
    /* Before the loop waits: is input waiting that the fd does not show (a file; a ring with
     * items)? The loop then drains without waiting. NULL: never. */
    bool (*ready)(struct source *s);
    bool drain_each_turn; /* drained after every wait (libpcap may hold packets without the
                             fd turning readable) */
    /* Hand on up to budget items. Returns the number handed on (>= 0), SOURCE_EOF when the input
     * has ended, or another negative errno when it failed (logged; the source has ended). */
    int (*drain)(struct source *s, size_t budget);
    /* Shutdown: stop taking new input; what is already queued stays to be drained (receive
     * threads: joined while their rings are drained). NULL: nothing to stop. */
    void (*finish)(struct source *s);
    /* Its counters: table number `table` (ctr.h; most sources have one, table 0) and, in snap
     * (SOURCE_SNAP_MAX bytes), the values now. Returns the number of rows, 0 past the last
     * table. NULL: none. */
    size_t (*counters)(struct source *s, size_t table, const struct ctr_def **defs, void *snap);
    /* Free it (after a last drain, if the caller wanted one). */
    void (*close)(struct source *s);
};

/* Every source starts with this (the concrete source embeds it first). */
struct source {
    const struct source_ops *ops;
    struct source_out out;
    char name[256];    /* for logs: the capture's name, "udp", a file's path */
    const char *label; /* the Prometheus label pair of its counters (`capture="mirror"`), or NULL */
    char label_buf[96];
    uint64_t failures; /* inputs that could not be read whole (logged by the source) */
};

/* For the sources' own use: set the common part (name: for logs, cut at 255 bytes). */
void source_init(struct source *s, const struct source_ops *ops, const struct source_out *out,
                 const char *name);
/* For a counters op with a single table: table 0 is d[0..n) over the value st (size bytes,
 * copied into snap); returns n, or 0 for any other table. */
size_t source_one_table(size_t table, const struct ctr_def *d, size_t n, const void *st,
                        size_t size, const struct ctr_def **defs, void *snap);

/* ---- the set of open sources, driven by one loop ---- */

#define SOURCE_SET_MAX 16

struct source_set;

struct source_slot {
    struct source_set *ss; /* back to the set (the fd handler's argument is the slot) */
    struct source *s;
    bool ended;   /* drained to its end, or failed: out of the loop */
    bool pending; /* ready() said so before the wait */
};

struct source_set {
    struct evloop *loop;
    struct source_slot slot[SOURCE_SET_MAX];
    size_t n, open;
    /* called once when the last source has ended (the replay stops its loop); may be NULL */
    void (*on_all_ended)(void *arg);
    void *on_all_ended_arg;
};

/* Attach the set to loop (its hooks). 0 or -errno. */
int source_set_init(struct source_set *ss, struct evloop *loop) __attribute__((warn_unused_result));
/* Add a source (taken, also on error: closed then). 0 or -errno. */
int source_set_add(struct source_set *ss, struct source *s) __attribute__((warn_unused_result));
/* Drain every open source until it has nothing more or `budget` items each. */
void source_set_drain_all(struct source_set *ss, size_t budget);
/* Shutdown: every source's finish, then what is queued is still taken (up to budget each). */
void source_set_finish(struct source_set *ss, size_t budget);
/* Failures so far, summed over the sources. */
uint64_t source_set_failures(const struct source_set *ss);
/* Render every source's counters (instances of one table together, labelled) / list them. */
void source_set_prom(const struct source_set *ss, struct ctr_text *t);
void source_set_table(const struct source_set *ss, FILE *f);
/* The totals' "sources" object: each counter of the sources' tables that has a JSON key (the
 * sockets' and captures' losses: kernel drops, truncated datagrams, read errors; the Kafka
 * consumer's kafka_in.*), summed over the instances of its table; nothing when no source has
 * one. */
void source_set_json(const struct source_set *ss, struct json *j);
/* The sum of a counter (by its /metrics name) over every source and table. */
uint64_t source_set_counter(const struct source_set *ss, const char *metric);
/* Close every source (ops->close). */
void source_set_close(struct source_set *ss);

#endif
