#include "settings.h"

#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "detector.h"
#include "udp.h"

#define S(f) offsetof(struct settings, f)
#define NOB 1, 0 /* unbounded */

static const struct conf_key collector_keys[] = {
    {"listen", CONF_STR, S(listen), sizeof(((struct settings *)0)->listen), NOB,
     "0.0.0.0:2055, [::]:2055, 0.0.0.0:4739, [::]:4739, 0.0.0.0:9995, [::]:9995, 0.0.0.0:6343, "
     "[::]:6343",
     "UDP endpoints for NetFlow v5/v9, IPFIX and sFlow v5 (addr:port, [v6]:port), comma-separated; "
     "every endpoint takes every format",
     NULL},
    {"rcvbuf", CONF_BYTES, S(rcvbuf), 0, 65536, 2147483647.0, "32M",
     "socket receive buffer asked of the kernel (root may exceed net.core.rmem_max)", NULL},
    {"batch", CONF_U32, S(batch), 0, 1, 1024, "64", "datagrams per recvmmsg call", NULL},
    {"rx_coalesce_us", CONF_U32, S(rx_coalesce_us), 0, 0, 100000, "500",
     "receive moderation in microseconds: a read that empties the sockets before a batch fills "
     "waits this long once and reads again, so a wake-up carries many datagrams at moderate rates "
     "(they wait in the socket buffer: keep it well below the time rcvbuf takes to fill at the "
     "peak rate); 0 = off",
     NULL},
    {"reuseport", CONF_BOOL, S(reuseport), 0, 0, 1, "no",
     "set SO_REUSEPORT (several receive threads or processes on one port)", NULL},
    {"workers", CONF_U32, S(workers), 0, 1, SETTINGS_MAX_WORKERS, "1",
     "host-table and detector shards, by inside address: 1 = all on the pipeline thread; N = the "
     "pipeline thread and N-1 worker threads",
     NULL},
    {"dispatcher_cost", CONF_U32, S(dispatcher_cost), 0, 0, 1000, "60",
     "with workers >= 2: the pipeline thread's own work per record (decoding, customer lookup, "
     "hand-over) in percent of a record's host-table and detector work; shard 0, which runs on "
     "the pipeline thread, gets (100 - (N-1) x this) / N percent of the hosts (at least 0), the "
     "worker threads the rest in equal parts, so every thread carries the same work (alerts do "
     "not depend on it)",
     NULL},
    {"rx_threads", CONF_U32, S(rx_threads), 0, 0, 64, "1",
     "receive threads (each with its own SO_REUSEPORT sockets) feeding the pipeline thread "
     "through a ring; 0 = receive on the pipeline thread itself",
     NULL},
    {"rx_ring", CONF_BYTES, S(rx_ring), 0, 262144, 4294967296.0, "16M",
     "ring between each receive thread and the pipeline thread (a full ring makes the receive "
     "thread wait; the socket buffer then absorbs, and the kernel's drops are counted)",
     NULL},
    {"hash_seed", CONF_U64, S(hash_seed), 0, NOB, "0",
     "seed of the keyed hashes; 0 = random at start (replay always uses a fixed seed)", NULL},
    {"exporters_allow_only", CONF_BOOL, S(exporters_allow_only), 0, 0, 1, "no",
     "accept datagrams only from exporters that have an [exporter ADDR] section with allow = yes",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key template_keys[] = {
    {"max_exporters", CONF_U64, S(max_exporters), 0, 1, 1000000, "1024", "exporters tracked", NULL},
    {"max_templates", CONF_U64, S(max_templates), 0, 1, 10000000, "65536",
     "templates held, all exporters together (beyond it new ones are refused and counted)", NULL},
    {"max_templates_per_source", CONF_U64, S(max_templates_per_source), 0, 1, 65535, "1024",
     "templates per (exporter, observation domain); a new one beyond it replaces the domain's "
     "least recently refreshed",
     NULL},
    {"max_domains", CONF_U64, S(max_domains), 0, 1, 65536, "64",
     "observation domains (source ids; sFlow sub-agents) per exporter", NULL},
    {"max_interfaces", CONF_U64, S(max_interfaces), 0, 0, 1000000, "4096",
     "sFlow agents' interfaces whose counters are kept for /metrics (beyond it counted in "
     "iface_limit; 0 = none)",
     NULL},
    {"lifetime", CONF_DURATION, S(template_lifetime), 0, 1, 604800, "30m",
     "a template not refreshed for this long is dropped", NULL},
    {"pending_max", CONF_U64, S(pending_max), 0, 0, 1000000, "256",
     "data sets buffered while their template is unknown (0 = none)", NULL},
    {"pending_bytes", CONF_BYTES, S(pending_bytes), 0, 0, 1073741824.0, "4M",
     "bytes of such buffered data sets", NULL},
    {"pending_time", CONF_DURATION, S(pending_time), 0, 0, 3600, "10s",
     "how long a buffered data set waits for its template", NULL},
    {"ipfix_udp_withdrawal", CONF_BOOL, S(ipfix_udp_withdrawal), 0, 0, 1, "no",
     "honour IPFIX template withdrawals received over UDP (RFC 7011 8.4 says ignore them)", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key customer_keys[] = {
    {"file", CONF_PATH, S(customers_file), sizeof(((struct settings *)0)->customers_file), NOB, "",
     "customer map: CSV lines prefix,customer_id,name[,asn[,abuse]] (also ASnnn,customer_id,name)",
     NULL},
    {"max_customers", CONF_U64, S(max_customers), 0, 1, 10000000, "100000", "customers", NULL},
    {"max_prefixes", CONF_U64, S(max_prefixes), 0, 1, 100000000, "1000000", "prefixes", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key pipeline_keys[] = {
    {"window", CONF_DURATION, S(window), 0, 10, 86400, "5m",
     "length of the tumbling windows summaries and detectors report on (event time)", NULL},
    {"lateness", CONF_DURATION, S(lateness), 0, 0, 3600, "30s",
     "a window closes when records this much newer than its end have been seen", NULL},
    {"idle_advance", CONF_DURATION, S(idle_advance), 0, 1, 86400, "60s",
     "live mode: after this long without records, wall time advances event time (not in detect: "
     "the collector's ticks move its windows)",
     NULL},
    {"hosts_max", CONF_U64, S(hosts_max), 0, 64, 1000000000.0, "1048576",
     "inside hosts tracked, all workers together (each holds its share of the hosts; "
     "set-associative: the stalest is evicted)",
     NULL},
    {"host_idle", CONF_DURATION, S(host_idle), 0, 60, 2592000, "25h",
     "a host without flows for this long is forgotten (keep above 24h for the day view of "
     "the hostility score)",
     NULL},
    {"alert_suppress", CONF_DURATION, S(alert_suppress), 0, 0, 2592000, "1h",
     "an ongoing incident (rule, customer, host, peer) is published again (same event.id, "
     "count and last_seen updated) at most once per this time",
     NULL},
    {"incident_idle", CONF_DURATION, S(incident_idle), 0, 60, 2592000, "24h",
     "an incident not raised for this long is closed: its next alert opens a new incident "
     "with a new event.id (at least alert_suppress)",
     NULL},
    {"alerts_max", CONF_U64, S(alerts_max), 0, 16, 100000000, "262144",
     "incidents remembered (the least recently raised is forgotten first)", NULL},
    {"detectors", CONF_STR, S(detectors), sizeof(((struct settings *)0)->detectors), NOB, "all",
     "detectors to run: all, or a comma-separated list of names", NULL},
    {"reserve_memory", CONF_BOOL, S(reserve_memory), 0, 0, 1, "yes",
     "make the tables the configuration sizes (host table, detector tables, the meter) resident "
     "at start, before the first datagram is read, so the first traffic after a start pays no "
     "page faults (replay: off unless --reserve-memory); the start fails with a clear error "
     "where the kernel says the memory is not there",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key output_keys[] = {
    {"jsonl", CONF_PATH, S(jsonl), sizeof(((struct settings *)0)->jsonl), NOB, "-",
     "JSON-lines output of alerts and summaries: a file (appended to; whole lines reach it "
     "within 100 ms), - for stdout, empty for none",
     NULL},
    {"gzip", CONF_BOOL, S(jsonl_gzip), 0, 0, 1, "no", "gzip the JSON-lines output", NULL},
    {"summaries", CONF_BOOL, S(summaries), 0, 0, 1, "yes", "publish per-customer window summaries",
     NULL},
    {"alerts", CONF_BOOL, S(alerts), 0, 0, 1, "yes", "publish alerts", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key metrics_keys[] = {
    {"listen", CONF_STR, S(metrics_listen), sizeof(((struct settings *)0)->metrics_listen), NOB,
     "127.0.0.1:9464",
     "HTTP address (ADDR:PORT or [V6ADDR]:PORT, no names) of /metrics (Prometheus) and "
     "/healthz; empty: off",
     NULL},
    {"per_customer", CONF_BOOL, S(metrics_per_customer), 0, 0, 1, "yes",
     "per-customer series on /metrics (bytes, flows, active and hostile hosts; one set per "
     "customer in the map)",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key health_keys[] = {
    {"period", CONF_DURATION, S(health_period), 0, 10, 86400, "5m",
     "how far back /healthz looks for lost messages and records with clocks far off", NULL},
    {"unmatched", CONF_BOOL, S(health_unmatched), 0, 0, 1, "yes",
     "degraded without a customer map, or when no flow of the last closed window matched a "
     "customer",
     NULL},
    {"kafka_stall", CONF_DURATION, S(health_kafka_stall), 0, 0, 86400, "2m",
     "degraded when Kafka has delivered nothing for this long while messages wait (0: off)", NULL},
    {"spool_high_water", CONF_U32, S(health_spool_pct), 0, 1, 100, "80",
     "degraded when the Kafka spool is this full (percent of spool_max_bytes)", NULL},
    {"clock_skew_records", CONF_U64, S(health_skew_records), 0, 0, 1000000000, "1",
     "degraded when this many records within the period had times far from their exporter's "
     "clock (0: off)",
     NULL},
    {"capture_stall", CONF_DURATION, S(health_capture_stall), 0, 0, 86400, "5m",
     "degraded when a [capture] interface has read no packet for this long (0: off)", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key report_keys[] = {
    {"directory", CONF_PATH, S(report_dir), sizeof(((struct settings *)0)->report_dir), NOB, "",
     "write each customer's report page (HTML) here on a schedule, served at GET "
     "/report/CUSTOMER on the metrics listener (empty: off); created for [daemon] user",
     NULL},
    {"period", CONF_DURATION, S(report_period), 0, 1, 86400, "300",
     "how often the pages are written", NULL},
    {"retention", CONF_U32, S(report_retention), 0, 1, 10000, "12",
     "pages kept per customer (the oldest are removed)", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key daemon_keys[] = {
    {"user", CONF_STR, S(user), sizeof(((struct settings *)0)->user), NOB, "",
     "drop privileges to this user once sockets are open (empty: keep running as started)", NULL},
    {"pidfile", CONF_PATH, S(pidfile), sizeof(((struct settings *)0)->pidfile), NOB, "",
     "write the process id here (empty: none); locked while the daemon runs, so a second "
     "instance on the same file is refused; removed at exit, so its directory must be writable "
     "by the user",
     NULL},
    {"incidents_file", CONF_PATH, S(incidents_file), sizeof(((struct settings *)0)->incidents_file),
     NOB, "",
     "keep the incidents (event.id, count, first raised, suppression) across a restart in this "
     "file: read at start, written after each window close that raised alerts and at stop "
     "(empty: none; one file per process; its directory must be writable by the user)",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static int parse_level(void *field, const char *value, char *msg, size_t msglen)
{
    static const char *const ok[] = {"error", "warn", "info", "debug"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(value, ok[i]) == 0) {
            snprintf(field, 16, "%s", value);
            return 0;
        }
    }
    snprintf(msg, msglen, "log level must be error, warn, info or debug");
    return -EINVAL;
}

static const struct conf_key log_keys[] = {
    {"level", CONF_CUSTOM, S(log_level), 16, NOB, "info", "error, warn, info or debug",
     parse_level},
    {"syslog", CONF_BOOL, S(log_syslog), 0, 0, 1, "no", "log to syslog instead of stderr", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

#define E(f) offsetof(struct exporter_settings, f)
static const struct conf_key exporter_keys[] = {
    {"sampling", CONF_U32, E(sampling), 0, 0, 16777216, "0",
     "force this sampling rate for the exporter's records (0 = use what it announces)", NULL},
    {"default_sampling", CONF_U32, E(default_sampling), 0, 0, 16777216, "0",
     "rate used when the exporter announces none (0 = count as unknown, 1:1)", NULL},
    {"allow", CONF_BOOL, E(allow), 0, 0, 1, "yes",
     "accept this exporter when collector.exporters_allow_only is set", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

#define F(f) offsetof(struct feed_settings, f)
static const struct conf_key feed_keys[] = {
    {"file", CONF_PATH, F(file), sizeof(((struct feed_settings *)0)->file), NOB, NULL,
     "list file (required)", NULL},
    {"format", CONF_STR, F(format), sizeof(((struct feed_settings *)0)->format), NOB, "auto",
     "auto, drop (Spamhaus DROP/EDROP 'prefix ; SBL'), spamhaus-json, plain (one address or "
     "prefix a line), feodo-csv",
     NULL},
    {"max_entries", CONF_U64, F(max_entries), 0, 1, 100000000, "1000000", "entries kept", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static int parse_route(void *field, const char *value, char *msg, size_t msglen)
{
    static const char *const ok[] = {"auto", "ports", "all-meter", "all-export"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(value, ok[i]) == 0) {
            snprintf(field, 16, "%s", value);
            return 0;
        }
    }
    snprintf(msg, msglen, "route must be auto, ports, all-meter or all-export");
    return -EINVAL;
}

static const struct conf_key meter_keys[] = {
    {"max_flows", CONF_U64, S(meter_max_flows), 0, 16, 1073741824.0, "262144",
     "flows the packet meter tracks at once (fixed table; when full the stalest flow is "
     "emitted early and counted)",
     NULL},
    {"idle_timeout", CONF_DURATION, S(meter_idle), 0, 1, 3600, "15s",
     "a metered flow without packets for this long ends (packet time)", NULL},
    {"active_timeout", CONF_DURATION, S(meter_active), 0, 1, 86400, "120s",
     "a metered flow older than this ends at its next packet and starts again", NULL},
    {"max_fragments", CONF_U64, S(meter_max_frags), 0, 16, 16777216, "4096",
     "IP fragment ids remembered to count later fragments to their flow", NULL},
    {"tcp_end", CONF_BOOL, S(meter_tcp_end), 0, 0, 1, "yes",
     "a TCP FIN or RST ends its flow (no: only the timeouts do, as nfpcapd 1.7 does)", NULL},
    {"route", CONF_CUSTOM, S(meter_route), 16, NOB, "auto",
     "captured packets: auto (UDP to export ports or looking like an export -> decoders, the "
     "rest -> meter), ports (only export ports -> decoders), all-meter, all-export",
     parse_route},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

#define CS(f) offsetof(struct capture_settings, f)
static const struct conf_key capture_keys[] = {
    {"interface", CONF_STR, CS(interface), sizeof(((struct capture_settings *)0)->interface), NOB,
     NULL, "interface to capture on (required), e.g. eth1 (a mirror port)", NULL},
    {"bpf", CONF_STR, CS(bpf), sizeof(((struct capture_settings *)0)->bpf), NOB, "",
     "capture filter in pcap-filter syntax (empty: every packet)", NULL},
    {"snaplen", CONF_U32, CS(snaplen), 0, 64, 262144, "256",
     "bytes kept per packet (headers suffice for the meter: byte counts come from the IP "
     "length; export datagrams the interface carries need their whole size, e.g. 65535, or they "
     "are lost: truncated_l4, logged)",
     NULL},
    {"promisc", CONF_BOOL, CS(promisc), 0, 0, 1, "yes", "put the interface in promiscuous mode",
     NULL},
    {"buffer", CONF_BYTES, CS(buffer), 0, 0, 2147483647.0, "32M",
     "kernel capture buffer (0: libpcap's default)", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static void *open_capture(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                          size_t msglen)
{
    struct settings *s = cfg;
    for (size_t i = 0; i < s->ncaptures; i++) {
        if (strcmp(s->captures[i].name, arg) == 0) {
            snprintf(msg, msglen, "capture %s configured twice", arg);
            return NULL;
        }
    }
    if (s->ncaptures >= SETTINGS_MAX_CAPTURES) {
        snprintf(msg, msglen, "more than %d [capture] sections", SETTINGS_MAX_CAPTURES);
        return NULL;
    }
    if (strlen(arg) >= sizeof s->captures[0].name) {
        snprintf(msg, msglen, "capture name too long");
        return NULL;
    }
    struct capture_settings *c = &s->captures[s->ncaptures++];
    memset(c, 0, sizeof *c);
    if (conf_defaults(capture_keys, c) < 0)
        return NULL;
    snprintf(c->name, sizeof c->name, "%s", arg);
    return c;
}

static void *open_self(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                       size_t msglen)
{
    return cfg;
}

static void *open_kafka(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                        size_t msglen)
{
    struct settings *s = cfg;
    return &s->kafka;
}

static void *open_hostility(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                            size_t msglen)
{
    struct settings *s = cfg;
    return &s->hostility;
}

static void *open_exporter(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                           size_t msglen)
{
    struct settings *s = cfg;
    for (size_t i = 0; i < s->nexporters; i++) {
        if (strcmp(s->exporters[i].addr, arg) == 0) {
            snprintf(msg, msglen, "exporter %s configured twice", arg);
            return NULL;
        }
    }
    if (s->nexporters >= SETTINGS_MAX_EXPORTERS) {
        snprintf(msg, msglen, "more than %d [exporter] sections", SETTINGS_MAX_EXPORTERS);
        return NULL;
    }
    if (strlen(arg) >= sizeof s->exporters[0].addr) {
        snprintf(msg, msglen, "exporter address too long");
        return NULL;
    }
    struct exporter_settings *e = &s->exporters[s->nexporters++];
    memset(e, 0, sizeof *e);
    if (conf_defaults(exporter_keys, e) < 0)
        return NULL;
    snprintf(e->addr, sizeof e->addr, "%s", arg);
    return e;
}

static void *open_feed(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                       size_t msglen)
{
    struct settings *s = cfg;
    for (size_t i = 0; i < s->nfeeds; i++) {
        if (strcmp(s->feeds[i].name, arg) == 0) {
            snprintf(msg, msglen, "blocklist %s configured twice", arg);
            return NULL;
        }
    }
    if (s->nfeeds >= SETTINGS_MAX_FEEDS) {
        snprintf(msg, msglen, "more than %d [blocklist] sections", SETTINGS_MAX_FEEDS);
        return NULL;
    }
    if (strlen(arg) >= sizeof s->feeds[0].name) {
        snprintf(msg, msglen, "blocklist name too long");
        return NULL;
    }
    struct feed_settings *f = &s->feeds[s->nfeeds++];
    memset(f, 0, sizeof *f);
    if (conf_defaults(feed_keys, f) < 0)
        return NULL;
    snprintf(f->name, sizeof f->name, "%s", arg);
    return f;
}

/* Detector sections are named "detector.NAME"; each carries its detector's ops in data, so one
 * open function serves every detector. */
static struct conf_section det_sections[SETTINGS_MAX_DETECTORS];
static char det_section_names[SETTINGS_MAX_DETECTORS][48];

static void *open_detector(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                           size_t msglen)
{
    struct settings *s = cfg;
    for (size_t i = 0; i < det_registry_count && i < SETTINGS_MAX_DETECTORS; i++)
        if (det_registry[i] == sec->data)
            return s->det_conf[i];
    snprintf(msg, msglen, "no such detector");
    return NULL;
}

static void *open_customer(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                           size_t msglen)
{
    struct settings *s = cfg;
    if (strlen(arg) >= sizeof s->override_ctx.customer) {
        snprintf(msg, msglen, "customer id too long");
        return NULL;
    }
    s->override_ctx.s = s;
    s->override_ctx.line = 0;
    snprintf(s->override_ctx.customer, sizeof s->override_ctx.customer, "%s", arg);
    return &s->override_ctx;
}

/* conf_section.seen for every section: remember which line set each value (and opened each
 * section instance), by offset in struct settings; values outside it (detector options) are
 * checked where they are parsed. */
static void note_line(void *cfg, const struct conf_key *key, const void *field, unsigned line)
{
    struct settings *s = cfg;
    if (field == &s->override_ctx) {
        s->override_ctx.line = line;
        return;
    }
    const char *f = field, *base = (const char *)s;
    if (f < base || f >= base + sizeof *s || (!key && f == base))
        return; /* outside, or the header of a section whose keys live in s itself */
    uint32_t off = (uint32_t)(f - base);
    for (size_t i = 0; i < s->nlines; i++) {
        if (s->lines[i].off == off) {
            s->lines[i].line = line;
            return;
        }
    }
    if (s->nlines == s->lines_cap) {
        size_t nc = s->lines_cap ? s->lines_cap * 2 : 64;
        struct settings_line *n = realloc(s->lines, nc * sizeof *n);
        if (!n)
            return; /* only messages lose their line */
        s->lines = n;
        s->lines_cap = nc;
    }
    s->lines[s->nlines++] = (struct settings_line){off, line};
}

void settings_error_at(const struct settings *s, const void *field, struct conf_error *err,
                       const char *fmt, ...)
{
    const char *file = s->source_file[0] ? s->source_file : "(defaults)";
    unsigned line = 0;
    const char *f = field, *base = (const char *)s;
    if (f >= base && f < base + sizeof *s) {
        for (size_t i = 0; i < s->nlines; i++) {
            if (s->lines[i].off == (uint32_t)(f - base)) {
                line = s->lines[i].line;
                if (!line)
                    file = "command line";
                break;
            }
        }
    }
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    conf_error_set(err, file, line, "%s", msg);
}

static int set_override(void *obj, const char *key, const char *value, unsigned line, char *msg,
                        size_t msglen)
{
    struct override_ctx *oc = obj;
    struct settings *s = oc->s;
    const char *dot = strchr(key, '.');
    if (!dot || dot == key || !dot[1] || (size_t)(dot - key) >= sizeof s->overrides[0].det ||
        strlen(dot + 1) >= sizeof s->overrides[0].key) {
        snprintf(msg, msglen,
                 "'%s': per-customer keys are DETECTOR.KEY (e.g. " SETTINGS_OVERRIDE_EXAMPLE ")",
                 key);
        return -EINVAL;
    }
    if (strlen(value) >= sizeof s->overrides[0].value) {
        snprintf(msg, msglen, "%s: value too long", key);
        return -E2BIG;
    }
    for (size_t i = 0; i < s->noverrides; i++) {
        if (strcmp(s->overrides[i].customer, oc->customer) == 0 &&
            strncmp(s->overrides[i].det, key, (size_t)(dot - key)) == 0 &&
            s->overrides[i].det[dot - key] == 0 && strcmp(s->overrides[i].key, dot + 1) == 0) {
            snprintf(msg, msglen, "duplicate key '%s' (first set on line %u)", key,
                     s->overrides[i].line);
            return -EINVAL;
        }
    }
    if (s->noverrides == s->overrides_cap) {
        if (s->overrides_cap >= SETTINGS_MAX_OVERRIDES) {
            snprintf(msg, msglen, "more than %d per-customer overrides", SETTINGS_MAX_OVERRIDES);
            return -ENOSPC;
        }
        size_t nc = s->overrides_cap ? s->overrides_cap * 2 : 16;
        struct override_kv *n = realloc(s->overrides, nc * sizeof *n);
        if (!n) {
            snprintf(msg, msglen, "out of memory");
            return -ENOMEM;
        }
        s->overrides = n;
        s->overrides_cap = nc;
    }
    struct override_kv *o = &s->overrides[s->noverrides++];
    memset(o, 0, sizeof *o);
    snprintf(o->customer, sizeof o->customer, "%s", oc->customer);
    snprintf(o->det, sizeof o->det, "%.*s", (int)(dot - key), key);
    snprintf(o->key, sizeof o->key, "%s", dot + 1);
    snprintf(o->value, sizeof o->value, "%s", value);
    o->line = line;
    o->section_line = oc->line;
    return 0;
}

#define NSTATIC 16
static struct conf_section all_sections[NSTATIC + SETTINGS_MAX_DETECTORS + 1];

static const struct conf_section *sections(void)
{
    if (all_sections[0].name)
        return all_sections;
    const struct conf_section st[NSTATIC] = {
        {"collector", false, collector_keys, open_self, "receiving flow exports"},
        {"templates", false, template_keys, open_self, "NetFlow v9 / IPFIX template cache bounds"},
        {"exporter", true, exporter_keys, open_exporter,
         "per-exporter settings: [exporter 192.0.2.1] or [exporter 192.0.2.0/24] (the longest "
         "match applies)"},
        {"customers", false, customer_keys, open_self, "the downstream customers"},
        {"blocklist", true, feed_keys, open_feed,
         "a named blocklist feed: [blocklist spamhaus-drop] (one section per feed)"},
        {"pipeline", false, pipeline_keys, open_self, "windows, host table, alerts"},
        {"output", false, output_keys, open_self, "JSON-lines output"},
        {"hostility", false, hostility_conf_keys, open_hostility,
         "the customer hostility score: the share of a customer's active hosts with alerts, per "
         "window and over the last 24 hours (customer.hostile_share)"},
        {"metrics", false, metrics_keys, open_self, "the HTTP status endpoint"},
        {"health", false, health_keys, open_self,
         "when GET /healthz answers 503 \"degraded\" with the reasons (else 200 \"ok\")"},
        {"report", false, report_keys, open_self,
         "the per-customer report pages the daemon writes and serves (transitwatch report "
         "makes the same from files)"},
        {"daemon", false, daemon_keys, open_self, "running as a service"},
        {"log", false, log_keys, open_self, "logging"},
        {"meter", false, meter_keys, open_self,
         "the packet flow meter (captures and live interfaces -> flows)"},
        {"capture", true, capture_keys, open_capture,
         "a live interface to meter: [capture mirror] interface = eth1 (one section each)"},
        {"customer", true, NULL, open_customer,
         "per-customer detector options over [detector.NAME]: [customer ID] (an id of the "
         "customer map) then lines DETECTOR.KEY = VALUE, e.g. " SETTINGS_OVERRIDE_EXAMPLE " = 50",
         set_override},
    };
    memcpy(all_sections, st, sizeof st);
    for (size_t i = 0; i < NSTATIC; i++)
        all_sections[i].seen = note_line;
    size_t n = NSTATIC;
    all_sections[n++] = (struct conf_section){"kafka",
                                              false,
                                              kafka_conf_keys,
                                              open_kafka,
                                              "publish alerts and summaries to Kafka (on when "
                                              "brokers is set)",
                                              .seen = note_line};
    for (size_t i = 0; i < det_registry_count && i < SETTINGS_MAX_DETECTORS - 1; i++) {
        snprintf(det_section_names[i], sizeof det_section_names[i], "detector.%s",
                 det_registry[i]->name);
        det_sections[i] = (struct conf_section){.name = det_section_names[i],
                                                .keys = det_registry[i]->conf_keys,
                                                .open = open_detector,
                                                .help = det_registry[i]->help,
                                                .data = det_registry[i],
                                                .seen = note_line};
        all_sections[n++] = det_sections[i];
    }
    all_sections[n].name = NULL;
    return all_sections;
}

int settings_init(struct settings *s)
{
    memset(s, 0, sizeof *s);
    const struct conf_section *sec = sections();
    for (size_t i = 0; sec[i].name; i++) {
        if (sec[i].has_arg)
            continue;
        if (strcmp(sec[i].name, "kafka") == 0) {
            if (conf_defaults(sec[i].keys, &s->kafka) < 0)
                return -EINVAL;
        } else if (strcmp(sec[i].name, "hostility") == 0) {
            if (conf_defaults(sec[i].keys, &s->hostility) < 0)
                return -EINVAL;
        } else if (strncmp(sec[i].name, "detector.", 9) != 0) {
            if (conf_defaults(sec[i].keys, s) < 0)
                return -EINVAL;
        }
    }
    for (size_t i = 0; i < det_registry_count && i < SETTINGS_MAX_DETECTORS; i++) {
        const struct detector_ops *op = det_registry[i];
        s->det_conf[i] = calloc(1, op->conf_size ? op->conf_size : 1);
        if (!s->det_conf[i])
            return -ENOMEM;
        if (op->conf_keys && conf_defaults(op->conf_keys, s->det_conf[i]) < 0)
            return -EINVAL;
    }
    s->kafka_enabled = false;
    return 0;
}

int settings_load(struct settings *s, const char *path, struct conf_error *err)
{
    snprintf(s->source_file, sizeof s->source_file, "%s", path);
    int rc = conf_load(path, sections(), s, err);
    if (rc < 0)
        return rc;
    return settings_validate(s, err);
}

int settings_load_text(struct settings *s, const char *name, const char *text, size_t len,
                       struct conf_error *err)
{
    return conf_load_mem(name, text, len, sections(), s, err);
}

/* An endpoint list "a:p, [v6]:p" as the UDP listener and the metrics server parse it. */
static int check_endpoints(const struct settings *s, const char *list, const char *key, bool one,
                           struct conf_error *err)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *items[64];
    int n = conf_split(tmp, ',', items, 64);
    if (n < 0) {
        settings_error_at(s, list, err, "%s: more than 64 endpoints", key);
        return -EINVAL;
    }
    if (n == 0 || (one && n > 1)) {
        settings_error_at(s, list, err, "%s: expected %s ADDR:PORT or [V6ADDR]:PORT", key,
                          one ? "one" : "at least one");
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        uint8_t a[16];
        uint16_t port;
        bool v6;
        if (udp_endpoint_parse(items[i], a, &port, &v6) < 0) {
            settings_error_at(s, list, err,
                              "%s: bad endpoint '%s' (want ADDR:PORT or [V6ADDR]:PORT with a "
                              "numeric address and a port 0..65535)",
                              key, items[i]);
            return -EINVAL;
        }
    }
    return 0;
}

/* Is name one of list's (NULL-terminated, may be NULL)? */
static bool name_in(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

int settings_validate(struct settings *s, struct conf_error *err)
{
    s->kafka_enabled = s->kafka.brokers[0] != 0;
    int rc = check_endpoints(s, s->listen, "collector.listen", false, err);
    if (rc == 0 && s->metrics_listen[0])
        rc = check_endpoints(s, s->metrics_listen, "metrics.listen", true, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < s->nexporters; i++) {
        struct prefix p;
        if (prefix_parse(s->exporters[i].addr, true, &p) < 0) {
            settings_error_at(s, &s->exporters[i], err, "[exporter %s]: not an address or prefix",
                              s->exporters[i].addr);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < s->nfeeds; i++) {
        if (!s->feeds[i].file[0]) {
            settings_error_at(s, &s->feeds[i], err, "[blocklist %s]: file is required",
                              s->feeds[i].name);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < s->ncaptures; i++) {
        if (!s->captures[i].interface[0]) {
            settings_error_at(s, &s->captures[i], err, "[capture %s]: interface is required",
                              s->captures[i].name);
            return -EINVAL;
        }
        if (if_nametoindex(s->captures[i].interface) == 0) {
            settings_error_at(s, s->captures[i].interface, err,
                              "[capture %s]: no such interface '%s'", s->captures[i].name,
                              s->captures[i].interface);
            return -ENODEV;
        }
    }
    if (s->user[0] && !getpwnam(s->user)) {
        settings_error_at(s, s->user, err, "daemon.user: no such user '%s'", s->user);
        return -EINVAL;
    }
    if (s->kafka_enabled) {
        char msg[200];
        if (sink_kafka_check(&s->kafka, msg, sizeof msg) < 0) {
            settings_error_at(s, s->kafka.properties, err, "%s", msg);
            return -EINVAL;
        }
    }
    const char *file = s->source_file[0] ? s->source_file : "command line";
    for (size_t i = 0; i < s->noverrides; i++) {
        const struct override_kv *o = &s->overrides[i];
        const struct detector_ops *op = det_find(o->det);
        const struct conf_key *k =
            op && op->conf_keys ? conf_find_key(op->conf_keys, o->key) : NULL;
        if (!op || !k) {
            conf_error_set(err, file, o->line, "[customer %s]: unknown %s '%s.%s'", o->customer,
                           op ? "option" : "detector", o->det, o->key);
            return -EINVAL;
        }
        bool size = name_in(op->sizes, o->key);
        if (size || name_in(op->process_keys, o->key)) {
            conf_error_set(err, file, o->line,
                           "[customer %s]: %s.%s is the process's (%s), not a customer's: set it "
                           "in [detector.%s]",
                           o->customer, o->det, o->key,
                           size ? "it sizes a table" : "one view for every customer", o->det);
            return -EINVAL;
        }
        size_t d = 0;
        while (d < det_registry_count && det_registry[d] != op)
            d++;
        char *tmp = malloc(op->conf_size ? op->conf_size : 1);
        if (!tmp) {
            conf_error_set(err, file, o->line, "out of memory");
            return -ENOMEM;
        }
        memcpy(tmp, s->det_conf[d], op->conf_size);
        char msg[200];
        rc = conf_set(k, tmp, o->value, msg, sizeof msg);
        free(tmp);
        if (rc < 0) {
            conf_error_set(err, file, o->line, "[customer %s] %s.%s: %s", o->customer, o->det,
                           o->key, msg);
            return rc;
        }
    }
    if (s->detectors[0] && strcmp(s->detectors, "all") != 0) {
        char tmp[sizeof s->detectors];
        snprintf(tmp, sizeof tmp, "%s", s->detectors);
        char *save = NULL;
        for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (!det_find(t)) {
                char names[256];
                size_t len = 0;
                names[0] = 0;
                for (size_t d = 0; d < det_registry_count && len < sizeof names; d++)
                    len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", d ? ", " : "",
                                            det_registry[d]->name);
                settings_error_at(s, s->detectors, err,
                                  "pipeline.detectors: unknown detector '%s' (known: all, %s)", t,
                                  names);
                return -EINVAL;
            }
        }
    }
    if (s->lateness >= s->window * 4) {
        settings_error_at(s, &s->lateness, err,
                          "pipeline.lateness (%llus) must be less than 4 windows",
                          (unsigned long long)s->lateness);
        return -EINVAL;
    }
    return 0;
}

int settings_det_conf_for(const struct settings *s, size_t det_index, const char *customer_id,
                          void *out)
{
    const struct detector_ops *op = det_registry[det_index];
    memcpy(out, s->det_conf[det_index], op->conf_size);
    int n = 0;
    for (size_t i = 0; i < s->noverrides; i++) {
        const struct override_kv *o = &s->overrides[i];
        if (strcmp(o->customer, customer_id) != 0 || strcmp(o->det, op->name) != 0)
            continue;
        const struct conf_key *k = conf_find_key(op->conf_keys, o->key);
        char msg[200];
        if (k && conf_set(k, out, o->value, msg, sizeof msg) == 0) /* checked at load */
            n++;
    }
    return n;
}

bool settings_has_overrides(const struct settings *s, const char *customer_id)
{
    for (size_t i = 0; i < s->noverrides; i++)
        if (strcmp(s->overrides[i].customer, customer_id) == 0)
            return true;
    return false;
}

void settings_free(struct settings *s)
{
    free(s->lines);
    s->lines = NULL;
    s->nlines = s->lines_cap = 0;
    free(s->overrides);
    s->overrides = NULL;
    s->noverrides = s->overrides_cap = 0;
    for (size_t i = 0; i < SETTINGS_MAX_DETECTORS; i++) {
        free(s->det_conf[i]);
        s->det_conf[i] = NULL;
    }
}

void settings_write_example(FILE *out)
{
    conf_write_example(out, sections());
}

bool settings_detector_enabled(const struct settings *s, const char *name)
{
    if (!s->detectors[0] || strcmp(s->detectors, "all") == 0)
        return true;
    char tmp[sizeof s->detectors];
    snprintf(tmp, sizeof tmp, "%s", s->detectors);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (strcmp(t, name) == 0)
            return true;
    return false;
}

void settings_write_values(const struct settings *s, FILE *out)
{
    const struct conf_section *sec = sections();
    struct conf_section shown[NSTATIC + SETTINGS_MAX_DETECTORS + 1];
    size_t n = 0;
    for (size_t i = 0; sec[i].name; i++) /* [kafka] may hold credentials: never shown */
        if (strcmp(sec[i].name, "kafka") != 0)
            shown[n++] = sec[i];
    shown[n].name = NULL;
    conf_write_values(out, shown, (void *)(uintptr_t)s); /* the open()s only find structs */
    for (size_t i = 0; i < s->nfeeds; i++) {
        fprintf(out, "[blocklist %s]\nfile = %s\nformat = %s\n\n", s->feeds[i].name,
                s->feeds[i].file, s->feeds[i].format);
    }
    if (s->noverrides)
        fprintf(out, "# %zu per-customer detector options ([customer ID] sections)\n",
                s->noverrides);
    fputs("# [kafka]: not shown\n", out);
}

/* The bytes a key's value takes in its struct (0: cannot tell, a custom key without a size). */
static size_t key_size(const struct conf_key *k)
{
    switch (k->type) {
    case CONF_STR:
    case CONF_PATH:
    case CONF_CUSTOM:
        return k->size;
    case CONF_U32:
        return sizeof(uint32_t);
    case CONF_BOOL:
        return sizeof(bool);
    case CONF_DOUBLE:
        return sizeof(double);
    default:
        return sizeof(uint64_t);
    }
}

/* Does key k's value differ between a and b (the section's structs)? Then fn, 1; else 0. */
static size_t diff_key(const char *section, const struct conf_key *k, const void *a, const void *b,
                       settings_change_fn *fn, void *arg)
{
    const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
    size_t len = key_size(k);
    bool text = k->type == CONF_STR || k->type == CONF_PATH;
    if (!len || (text ? strncmp(fa, fb, len) : memcmp(fa, fb, len)) == 0)
        return 0;
    char name[160];
    snprintf(name, sizeof name, "%s.%s", section, k->name);
    fn(arg, name);
    return 1;
}

/* fn for each key of keys whose value differs between a and b (the section's structs). */
static size_t diff_keys(const char *section, const struct conf_key *keys, const void *a,
                        const void *b, settings_change_fn *fn, void *arg)
{
    size_t n = 0;
    for (const struct conf_key *k = keys; k && k->name; k++)
        n += diff_key(section, k, a, b, fn, arg);
    return n;
}

/* [detector.NAME]: the options that size its tables (ops->sizes), which init alone reads. */
static size_t diff_sizes(const struct settings *a, const struct settings *b, settings_change_fn *fn,
                         void *arg)
{
    size_t n = 0;
    for (size_t d = 0; d < det_registry_count && d < SETTINGS_MAX_DETECTORS; d++) {
        const struct detector_ops *op = det_registry[d];
        if (!op->sizes || !a->det_conf[d] || !b->det_conf[d])
            continue;
        char section[64];
        snprintf(section, sizeof section, "detector.%s", op->name);
        for (const char *const *s = op->sizes; *s; s++) {
            const struct conf_key *k = conf_find_key(op->conf_keys, *s);
            if (k)
                n += diff_key(section, k, a->det_conf[d], b->det_conf[d], fn, arg);
        }
    }
    return n;
}

/* [capture NAME] and [exporter ADDR]: each instance by its name, added, removed or changed. */
static size_t diff_instances(const char *section, const struct conf_key *keys, const char *a,
                             size_t na, const char *b, size_t nb, size_t stride,
                             settings_change_fn *fn, void *arg)
{
    size_t n = 0;
    char name[160];
    for (size_t i = 0; i < nb; i++) { /* the name is each struct's first member */
        const char *ib = b + i * stride, *ia = NULL;
        for (size_t j = 0; j < na && !ia; j++)
            if (strcmp(a + j * stride, ib) == 0)
                ia = a + j * stride;
        snprintf(name, sizeof name, "[%s %s]", section, ib);
        if (ia) {
            n += diff_keys(name, keys, ia, ib, fn, arg);
        } else {
            fn(arg, name);
            n++;
        }
    }
    for (size_t j = 0; j < na; j++) {
        bool kept = false;
        for (size_t i = 0; i < nb && !kept; i++)
            kept = strcmp(a + j * stride, b + i * stride) == 0;
        if (!kept) {
            snprintf(name, sizeof name, "[%s %s]", section, a + j * stride);
            fn(arg, name);
            n++;
        }
    }
    return n;
}

size_t settings_restart_changes(const struct settings *a, const struct settings *b,
                                settings_change_fn *fn, void *arg)
{
    const struct conf_section *sec = sections();
    size_t n = 0;
    char msg[64];
    for (size_t i = 0; sec[i].name; i++) {
        /* what a reload applies: the map, the feeds, [customer ID] and [detector.NAME] */
        if (sec[i].has_arg || strcmp(sec[i].name, "customers") == 0 ||
            strncmp(sec[i].name, "detector.", 9) == 0)
            continue;
        /* the open()s of sections without argument only find the struct */
        const void *sa = sec[i].open((void *)(uintptr_t)a, &sec[i], NULL, msg, sizeof msg);
        const void *sb = sec[i].open((void *)(uintptr_t)b, &sec[i], NULL, msg, sizeof msg);
        n += diff_keys(sec[i].name, sec[i].keys, sa, sb, fn, arg);
    }
    n += diff_instances("capture", capture_keys, (const char *)a->captures, a->ncaptures,
                        (const char *)b->captures, b->ncaptures, sizeof a->captures[0], fn, arg);
    n += diff_instances("exporter", exporter_keys, (const char *)a->exporters, a->nexporters,
                        (const char *)b->exporters, b->nexporters, sizeof a->exporters[0], fn, arg);
    return n + diff_sizes(a, b, fn, arg);
}
