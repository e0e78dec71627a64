/* run.h: what one run of the collector holds (settings, lists, sinks, pipeline, ingest), set
 * up and torn down the same way for the daemon (daemon.c) and the lab replay (main.c).
 * Main thread. */
#ifndef TW_RUN_H
#define TW_RUN_H

#include <stdbool.h>

#include "exporter.h"
#include "ingest.h"
#include "lists.h"
#include "pipeline.h"
#include "settings.h"

struct source_set;

struct run {
    struct settings s;
    const char *config_path;
    struct settings *reloaded; /* the newest reloaded settings (per-customer options) */
    struct customer_map *customers;
    struct feed_set *feeds;
    struct sinks sinks;
    struct pipeline *pipe;
    struct ingest *in;
};

/* Load the config file over the defaults and the lists it names: every check the daemon makes
 * of its configuration, each error with file and line (--check-config runs exactly this).
 * 0, or a negative errno with err. */
int run_load(struct run *r, const char *config, struct conf_error *err);
/* Load the lists of the settings already in r (replay: after command-line overrides). */
int run_load_lists(struct run *r, struct conf_error *err);
/* Open the sinks (out_path: the JSON-lines path instead of the settings', NULL = settings';
 * truncate: empty it first; text: that output as text for a person instead of JSON lines,
 * sink_text_new), the pipeline and the ingest. Lists must be loaded. io NULL: defaults from
 * the settings. With [pipeline] reserve_memory the tables are reserved (core/lines.h: begun
 * here unless the caller began before, ended and logged here). 0 or a negative errno
 * (logged). */
int run_start(struct run *r, bool replay, const struct ingest_opts *io, const char *out_path,
              bool truncate, bool text);
void run_teardown(struct run *r);
/* Add the report sink (sink_report.h) with the settings in force as its configuration text:
 * path set, it writes the page there at the flush (replay --report); *model (may be NULL)
 * gets its model for the caller to write from (the daemon's [report]). 0 or -errno (logged). */
struct report;
int run_open_report(struct run *r, const char *title, const char *path, struct report **model);
/* collect: every classified record goes to the sinks as a MSG_FLOW message (flowpb.h, keyed
 * by the customer id of its part) instead of to the detectors; the Kafka sink takes them
 * (topic_flows), behind its spool. Needs [kafka] brokers: -EINVAL (logged) without. Call after
 * run_start. */
int run_collect(struct run *r);
/* Publish the end-of-run totals as one message of event.dataset `dataset`; ss (the daemon's
 * sockets and live captures, NULL for a replay) adds their losses: the kernel's drops and the
 * like (source_set_json), and the kernel drops in the message. */
void run_publish_totals(struct run *r, const char *dataset, const struct source_set *ss);

#endif
