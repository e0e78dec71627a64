/* settings.h: everything the daemon and replay are configured with, and the one schema
 * (conf.h) that reads it from the config file, prints the annotated example and checks it.
 * Loaded on the main thread; the struct is then read-only (a reload loads a new one). */
#ifndef TW_SETTINGS_H
#define TW_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "hostility.h"
#include "sink_kafka.h"

#define SETTINGS_MAX_EXPORTERS 256
#define SETTINGS_MAX_FEEDS 32
#define SETTINGS_MAX_DETECTORS 16
#define SETTINGS_MAX_WORKERS 64 /* [collector] workers */
#define SETTINGS_MAX_CAPTURES 8

/* [capture NAME]: a live interface the daemon meters (libpcap). */
struct capture_settings {
    char name[64];      /* section argument */
    char interface[64]; /* required */
    char bpf[512];      /* capture filter ("" = all) */
    uint32_t snaplen;   /* bytes kept per packet (counts use the IP length anyway) */
    bool promisc;
    uint64_t buffer; /* kernel buffer bytes (0 = libpcap default) */
};

struct exporter_settings {
    char addr[64];             /* section argument: an address or prefix */
    uint32_t sampling;         /* override: force this rate (0 = none) */
    uint32_t default_sampling; /* used when the exporter says nothing (0 = none) */
    bool allow;                /* listed in the allow-list (when collector.exporters_allow_only) */
};

struct feed_settings {
    char name[64]; /* section argument */
    char file[512];
    char format[32]; /* auto | drop | spamhaus-json | plain | feodo-csv */
    uint64_t max_entries;
};

/* One per-customer override line: [customer ID] DETECTOR.KEY = VALUE. */
struct override_kv {
    char customer[64];
    char det[32];
    char key[64];
    char value[256];
    unsigned line;         /* of the key */
    unsigned section_line; /* of its [customer ID] header */
};

#define SETTINGS_MAX_OVERRIDES 100000
/* The per-customer key the help texts and errors show as an example (a test loads it). */
#define SETTINGS_OVERRIDE_EXAMPLE "spam.fanout"

struct settings;
struct override_ctx {
    struct settings *s;
    char customer[64];
    unsigned line; /* of the [customer ID] header being read */
};

/* Where a value was set: its offset in struct settings and the config line (0: command line). */
struct settings_line {
    uint32_t off;
    uint32_t line;
};

struct settings {
    /* [collector] */
    char listen[1024]; /* comma-separated endpoints */
    uint64_t rcvbuf;
    uint32_t batch;
    uint32_t rx_coalesce_us; /* udp.h's receive moderation (0: off) */
    bool reuseport;
    uint32_t workers;
    uint32_t dispatcher_cost; /* percent: shard 0's share of the hosts (pipeline.c shard map) */
    uint32_t rx_threads;      /* 0 = receive on the pipeline thread */
    uint64_t rx_ring;         /* bytes per receive thread's ring */
    uint64_t hash_seed;       /* 0 = random (live); replay always uses a fixed seed */
    bool exporters_allow_only;
    /* [templates] */
    uint64_t max_exporters, max_templates, max_templates_per_source, max_domains;
    uint64_t max_interfaces; /* sFlow interfaces kept (decode_cfg.max_interfaces) */
    uint64_t template_lifetime, pending_max, pending_bytes, pending_time;
    bool ipfix_udp_withdrawal;
    /* [customers] */
    char customers_file[512];
    uint64_t max_customers, max_prefixes;
    /* [pipeline] */
    uint64_t window;       /* seconds */
    uint64_t lateness;     /* seconds */
    uint64_t idle_advance; /* seconds of no traffic after which live mode advances time */
    uint64_t hosts_max;
    uint64_t host_idle;      /* seconds */
    uint64_t alert_suppress; /* seconds */
    uint64_t incident_idle;  /* seconds */
    uint64_t alerts_max;
    char detectors[256]; /* comma-separated names, or "all" */
    bool reserve_memory; /* make the tables resident at start (core/lines.h); replay: off */
    /* [output] */
    char jsonl[512]; /* path, "-" = stdout, "" = none */
    bool jsonl_gzip;
    bool summaries;
    bool alerts;
    /* [hostility] */
    struct hostility_conf hostility;
    /* [metrics] */
    char metrics_listen[128];  /* "" = off */
    bool metrics_per_customer; /* per-customer series on /metrics */
    /* [health]: when /healthz says degraded (health.h) */
    uint64_t health_period;        /* seconds /healthz looks back for losses and clock trouble */
    bool health_unmatched;         /* no customer map, or a window where no flow matched */
    uint64_t health_kafka_stall;   /* seconds without a Kafka delivery while messages wait */
    uint32_t health_spool_pct;     /* spool fill, percent of spool_max_bytes */
    uint64_t health_skew_records;  /* records with clocks far off within the period (0 = off) */
    uint64_t health_capture_stall; /* seconds a [capture] may read nothing (0 = off) */
    /* [report] */
    char report_dir[512];      /* "" = off */
    uint64_t report_period;    /* seconds */
    uint32_t report_retention; /* pages kept per customer */
    /* [daemon] */
    char user[64]; /* drop privileges to this user after opening sockets ("" = stay) */
    char pidfile[512];
    char incidents_file[512]; /* the incidents across a restart ("" = none) */
    /* [log] */
    char log_level[16];
    bool log_syslog;
    /* [meter] */
    uint64_t meter_max_flows; /* flow table entries */
    uint64_t meter_idle;      /* seconds */
    uint64_t meter_active;    /* seconds */
    uint64_t meter_max_frags; /* fragment id -> ports map entries */
    char meter_route[16];     /* auto | ports | all-meter | all-export */
    bool meter_tcp_end;       /* FIN/RST end a metered flow */
    /* [capture NAME] */
    struct capture_settings captures[SETTINGS_MAX_CAPTURES];
    size_t ncaptures;
    /* [kafka] */
    bool kafka_enabled;
    struct kafka_settings kafka;
    /* [exporter ADDR] */
    struct exporter_settings exporters[SETTINGS_MAX_EXPORTERS];
    size_t nexporters;
    /* [blocklist NAME] */
    struct feed_settings feeds[SETTINGS_MAX_FEEDS];
    size_t nfeeds;
    /* [detector.NAME]: option structs, in registry order (NULL = none) */
    void *det_conf[SETTINGS_MAX_DETECTORS];
    char source_file[512]; /* the file loaded, for messages */
    /* [customer ID]: per-customer detector options, applied over [detector.NAME] */
    struct override_kv *overrides;
    size_t noverrides, overrides_cap;
    struct override_ctx override_ctx;
    /* the line each value and section came from, for checks after loading */
    struct settings_line *lines;
    size_t nlines, lines_cap;
};

/* Defaults for everything (no file). Returns 0 or <0 (out of memory). */
int settings_init(struct settings *s);
/* Load a config file over the defaults. 0, or a negative errno with err
 * (file:line): conf_load's, or settings_validate's. */
int settings_load(struct settings *s, const char *path, struct conf_error *err);
/* Load settings text (command-line overrides: "[section]\nkey = value\n"), name for errors.
 * Does not run settings_validate. */
int settings_load_text(struct settings *s, const char *name, const char *text, size_t len,
                       struct conf_error *err);
/* Checks across options (after load and command-line overrides): everything the daemon and
 * replay would refuse later (endpoints, detector names, users, interfaces, Kafka properties),
 * each error with the file and line that set the value. 0 or a negative errno
 * with err (-EINVAL; -ENOMEM; -ENODEV for a capture interface that does not exist). */
int settings_validate(struct settings *s, struct conf_error *err);
/* Fill err with file and line of the value at field (a member of s, or a section's struct
 * inside s) and the message. Not set in a file: the config file (or "command line") alone. */
void settings_error_at(const struct settings *s, const void *field, struct conf_error *err,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void settings_free(struct settings *s);
/* The annotated example config (every option, default, bounds, help). */
void settings_write_example(FILE *out);
/* The values in force, as a config file would set them ([kafka] left out: it may hold
 * credentials; [blocklist] names and files; the number of per-customer options). For the
 * report's "configuration it ran with". */
void settings_write_values(const struct settings *s, FILE *out);
/* Detector registry entry det_index's options for a customer: [detector.NAME] with that
 * customer's overrides applied, written to out (the detector's conf_size bytes). Returns the
 * number of overrides applied (0: out is the plain defaults). */
int settings_det_conf_for(const struct settings *s, size_t det_index, const char *customer_id,
                          void *out);
/* Does the customer have any override? */
bool settings_has_overrides(const struct settings *s, const char *customer_id);
/* The keys whose change a SIGHUP reload does not apply: fn(arg, "section.key") for each one
 * whose value differs between a (in force) and b (the file read again), "[capture NAME]" or
 * "[exporter ADDR]" for an instance added or removed. Everything but what the reload takes:
 * [customers], [blocklist NAME], [customer ID] and [detector.NAME]'s thresholds; its table
 * sizes (the detector's ops->sizes, fixed at start) are compared. Returns the count. */
typedef void settings_change_fn(void *arg, const char *key);
size_t settings_restart_changes(const struct settings *a, const struct settings *b,
                                settings_change_fn *fn, void *arg);
/* Is detector NAME enabled by the [pipeline] detectors option? */
bool settings_detector_enabled(const struct settings *s, const char *name);

#endif
