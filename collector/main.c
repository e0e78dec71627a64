/* transitwatch: flow-telemetry anomaly monitor. The command line only: options parsed here,
 * then the daemon (transitwatch [--config FILE], daemon.c) or the lab replay (transitwatch
 * replay CAPTURE..., replay.c) runs. Only this file may exit(). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "json.h"
#include "log.h"
#include "customers.h"
#include "replay.h"
#include "report_cmd.h"
#include "rules.h"
#include "run.h"
#include "status.h"
#include "textfield.h"

#define REPLAY_MAX_READ 256 /* -r FILE options */

static volatile sig_atomic_t g_stop, g_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = 1;
}

static void usage_daemon(FILE *out)
{
    fprintf(out,
            "usage: transitwatch [--config FILE] [--check-config]  run the collector daemon\n"
            "       transitwatch replay [OPTIONS] CAPTURE...         replay captures (lab use;\n"
            "                                                      transitwatch replay --help)\n"
            "       transitwatch report [OPTIONS] FILE...            the report (HTML or text) of\n"
            "                                                      alerts and summaries (files\n"
            "                                                      or --kafka), or a customer's\n"
            "                                                      abuse report\n"
            "       transitwatch collect [--config FILE]            receive, decode, look up\n"
            "                            customers, publish the records to Kafka ([kafka]\n"
            "                            topic_flows); no detectors\n"
            "       transitwatch detect --from-kafka [--config FILE] [--exit-idle SECONDS]\n"
            "                            [--instance-id ID]\n"
            "                            one instance of the consumer group that reads\n"
            "                            topic_flows and runs the detectors (docs/ARCHITECTURE.md\n"
            "                            \"Beyond one box\"); --exit-idle: stop once every\n"
            "                            partition it owns has been at its end, with no\n"
            "                            record or rebalance, that long;\n"
            "                            --instance-id: group.instance.id (static membership)\n"
            "       transitwatch --example-config                    print the annotated config\n"
            "       transitwatch --version | --help\n"
            "\n"
            "daemon options:\n"
            "  -c, --config FILE   settings (default " TW_DEFAULT_CONFIG ")\n"
            "      --check-config  check the settings and the lists they name (the same checks\n"
            "                      as a start), print OK or FILE:LINE: error, and exit\n"
            "      --example-config  print every option with its default and help\n"
            "      --list-counters   print every counter: its key in the JSON totals and its\n"
            "                      /metrics name\n"
            "      --list-rules    print every alert rule as a JSON line: id, detector, name,\n"
            "                      description, reference, category and message template\n"
            "  -V, --version       print the version\n"
            "  -h, --help          this text\n"
            "\n"
            "signals:\n"
            "  SIGHUP         reload the customer map, blocklists and detector options from the\n"
            "                 config file (a bad file is rejected, the old lists stay) and\n"
            "                 reopen the JSON-lines file (log rotation)\n"
            "  SIGTERM, SIGINT  close the open window, publish alerts, summaries and totals,\n"
            "                 flush the sinks (Kafka: up to kafka.flush_timeout) and exit 0\n"
            "\n"
            "paths (defaults, all set in the config file):\n"
            "  config         " TW_DEFAULT_CONFIG "\n"
            "  Kafka spool    /var/lib/transitwatch/spool   ([kafka] spool_dir)\n"
            "  alerts         stdout as JSON lines          ([output] jsonl)\n"
            "  Relative paths in the config file are relative to its directory.\n"
            "\n"
            "HTTP endpoint ([metrics] listen, default 127.0.0.1:9464):\n"
            "  GET /metrics   Prometheus text format\n"
            "  GET /healthz   200 \"ok\", or 503 \"degraded: REASON; ...\" ([health] thresholds)\n"
            "  (both 503 \"starting: ...\" until the first figures, before the \"started\" line)\n"
            "\n"
            "Under systemd (Type=notify) it reports READY, RELOADING and STOPPING, and logs to\n"
            "the journal with priorities. Manual: man 8 transitwatch.\n");
}

static void usage_replay(FILE *out)
{
    fprintf(out,
            "usage: transitwatch replay [OPTIONS] CAPTURE...\n"
            "       transitwatch replay [OPTIONS] -i INTERFACE\n"
            "\n"
            "replay options:\n"
            "  -c, --config FILE        settings (default: built-in defaults)\n"
            "  -C, --customers FILE     customer map CSV: prefix,customer_id,name[,asn]\n"
            "  -b, --blocklist NAME=FILE  a blocklist feed (repeatable; format detected)\n"
            "  -r, --read FILE          a capture to read (repeatable; the same as naming it)\n"
            "  -o, --output FILE        write to FILE (emptied first) instead of stdout\n"
            "      --append             add to the --output file instead of emptying it\n"
            "      --format FORMAT      text (a line per alert, a table per customer and what\n"
            "                           each rule means) or json (JSON lines); default: text\n"
            "                           when stdout is a terminal, json into pipes and files\n"
            "  -w, --window DURATION    window length (e.g. 60s, 5m)\n"
            "  -d, --detectors LIST     detectors to run (all, or names)\n"
            "      --export-ports LIST  UDP ports that carry exports (default: listen ports +\n"
            "                           2055,4739,9995,9996, plus sniffing of export headers)\n"
            "      --no-sniff           only the export ports, no header sniffing\n"
            "      --no-summaries       alerts only\n"
            "      --no-totals          no final totals line\n"
            "      --reserve-memory     make the tables resident at start, as the daemon does\n"
            "                           ([pipeline] reserve_memory; off for a replay)\n"
            "      --flows FILE         also write every decoded record as a JSON line\n"
            "      --report FILE        also write the report: one self-contained HTML page\n"
            "                           (totals; per customer the traffic and hostile-share\n"
            "                           timelines, alerts by incident with their evidence,\n"
            "                           top hosts per detector; the configuration)\n"
            "      --kafka BOOTSTRAP    also publish to Kafka (brokers host:port,...)\n"
            "      --topic-alerts NAME, --topic-summaries NAME, --topic-flows NAME\n"
            "      --collect            what transitwatch collect does, from these inputs: every\n"
            "                           classified record to Kafka (topic_flows), no detectors\n"
            "      --write-goflow2 FILE every decoded record also to FILE as GoFlow2 writes it\n"
            "                           (-format=bin: length-prefixed protobuf FlowMessage)\n"
            "      --spool-dir DIR      Kafka write-ahead spool (created if missing)\n"
            "      --kafka-timeout DURATION  wait this long for delivery at the end; the\n"
            "                           rest stays spooled (exit 1)\n"
            "      --route MODE         captured packets: auto (exports to the decoders, the rest\n"
            "                           to the flow meter), ports, all-meter, all-export\n"
            "      --meter-only         the same as --route all-meter\n"
            "  -i, --interface IF       meter a live interface instead of files\n"
            "      --bpf FILTER         capture filter (live), --snaplen N, --promisc,\n"
            "      --duration SECONDS   live: stop after this long, --count N: after N packets\n"
            "      --nfdump-format F    json (default, keeps ms) or csv, for nfcapd archives\n"
            "      --log-format F       auto (default: by content), zeek (conn.log TSV),\n"
            "                           zeek-json or argus (binetflow CSV)\n"
            "      --no-progress        no progress bar (shown only when stderr is a terminal)\n"
            "      --stats, --no-stats  end-of-run summary on stderr (default: on a terminal)\n"
            "  -h, --help               this text\n"
            "CAPTURE: pcap or pcapng files, optionally gzip-compressed, nfcapd files (read with\n"
            "nfdump -r), Zeek conn.log or Argus binetflow files (plain or gzip), GoFlow2 record\n"
            "files (-format=bin) named *.goflow2, or directories\n"
            "of them; read one after the other by their first record (not merged: files\n"
            "that overlap in time give late records, and a warning). - reads a capture from\n"
            "stdin (tcpdump -w - | transitwatch replay -).\n"
            "Output (json): JSON lines (alerts: event.kind \"alert\"; summaries: event.dataset\n"
            "\"transitwatch.summary\"; last line: event.dataset \"transitwatch.totals\").\n"
            "Exit: 0 all inputs read, 1 some could not be read (or Kafka kept messages\n"
            "spooled), 2 usage or configuration error.\n");
}

/* --list-rules: the rule table (core/rules.c), one JSON object per line. */
static void list_rules(FILE *out)
{
    for (size_t i = 0; i < rule_count; i++) {
        const struct rule_def *r = &rule_table[i];
        char buf[4096];
        struct json j;
        json_init(&j, buf, sizeof buf);
        json_obj_open(&j, NULL);
        json_str(&j, "id", r->id);
        json_str(&j, "ruleset", r->detector);
        json_str(&j, "name", r->name);
        json_str(&j, "description", r->description);
        json_str(&j, "reference", r->reference);
        json_str(&j, "category", alert_category_name(r->category));
        json_str(&j, "message", r->message);
        json_obj_close(&j);
        if (!json_error(&j))
            fprintf(out, "%s\n", buf);
    }
}

/* A usage error: one line, and where to look. Returns 2 (the exit code). */
static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s (see %s --help)\n", cmd, msg, cmd);
    return 2;
}

/* getopt_long returned '?' or ':' (opterr is 0 and optstring starts with ':'). */
static int bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt && optopt < 256 && strncmp(arg, "--", 2) != 0)
        return usage_error(cmd, "unknown option '-%c'", optopt);
    return usage_error(cmd, "unknown option '%s'", arg);
}

static int set_key(struct settings *s, const char *section, const char *key, const char *val)
{
    /* command-line overrides go through the same schema checks as the file */
    char text[1200];
    int n = snprintf(text, sizeof text, "[%s]\n%s = %s\n", section, key, val);
    if (n < 0 || (size_t)n >= sizeof text) {
        fprintf(stderr, "transitwatch: value too long for %s.%s\n", section, key);
        return -EINVAL;
    }
    struct conf_error err;
    if (settings_load_text(s, "command line", text, (size_t)n, &err) < 0) {
        fprintf(stderr, "transitwatch: %s.%s: %s\n", section, key, err.msg);
        return -EINVAL;
    }
    return 0;
}

/* --blocklist NAME=FILE: a [blocklist NAME] section. 0, or the exit code (2) after the message. */
static int add_blocklist(struct settings *s, const char *cmd, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return usage_error(cmd, "--blocklist wants NAME=FILE, got '%s'", arg);
    char text[1200];
    int n =
        snprintf(text, sizeof text, "[blocklist %.*s]\nfile = %s\n", (int)(eq - arg), arg, eq + 1);
    struct conf_error err;
    bool too_long = n < 0 || (size_t)n >= sizeof text;
    if (too_long || settings_load_text(s, "command line", text, (size_t)n, &err) < 0) {
        fprintf(stderr, "%s: --blocklist %s: %s\n", cmd, arg, too_long ? "too long" : err.msg);
        return 2;
    }
    return 0;
}

static int parse_ports(const char *list, uint16_t *ports, size_t *nports)
{
    *nports = 0;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(t, &end, 10);
        if (errno || *end || v == 0 || v > 65535 || *nports >= INGEST_MAX_PORTS) {
            usage_error("transitwatch replay", "--export-ports: bad port '%s'", t);
            return -EINVAL;
        }
        ports[(*nports)++] = (uint16_t)v;
    }
    return 0;
}

enum { /* long-only replay options */
       OPT_BPF = 1001,
       OPT_SNAPLEN,
       OPT_PROMISC,
       OPT_DURATION,
       OPT_COUNT,
       OPT_NO_PROGRESS,
       OPT_STATS,
       OPT_NO_STATS,
       OPT_METER_ONLY,
       OPT_ROUTE,
       OPT_NFDUMP_FORMAT,
       OPT_APPEND,
       OPT_COLLECT,
       OPT_TOPIC_FLOWS,
       OPT_WRITE_GOFLOW2,
       OPT_LOG_FORMAT,
       OPT_FORMAT,
       OPT_REPORT,
       OPT_RESERVE_MEMORY,
};

static const struct option replay_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"customers", required_argument, NULL, 'C'},
    {"blocklist", required_argument, NULL, 'b'},
    {"read", required_argument, NULL, 'r'},
    {"output", required_argument, NULL, 'o'},
    {"append", no_argument, NULL, OPT_APPEND},
    {"collect", no_argument, NULL, OPT_COLLECT},
    {"topic-flows", required_argument, NULL, OPT_TOPIC_FLOWS},
    {"write-goflow2", required_argument, NULL, OPT_WRITE_GOFLOW2},
    {"window", required_argument, NULL, 'w'},
    {"detectors", required_argument, NULL, 'd'},
    {"export-ports", required_argument, NULL, 'P'},
    {"no-sniff", no_argument, NULL, 'S'},
    {"no-summaries", no_argument, NULL, 'N'},
    {"no-totals", no_argument, NULL, 'T'},
    {"kafka", required_argument, NULL, 'k'},
    {"topic-alerts", required_argument, NULL, 'A'},
    {"topic-summaries", required_argument, NULL, 'U'},
    {"spool-dir", required_argument, NULL, 'D'},
    {"kafka-timeout", required_argument, NULL, 'K'},
    {"flows", required_argument, NULL, 'F'},
    {"help", no_argument, NULL, 'h'},
    {"interface", required_argument, NULL, 'i'},
    {"bpf", required_argument, NULL, OPT_BPF},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"promisc", no_argument, NULL, OPT_PROMISC},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, OPT_COUNT},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"stats", no_argument, NULL, OPT_STATS},
    {"no-stats", no_argument, NULL, OPT_NO_STATS},
    {"meter-only", no_argument, NULL, OPT_METER_ONLY},
    {"route", required_argument, NULL, OPT_ROUTE},
    {"nfdump-format", required_argument, NULL, OPT_NFDUMP_FORMAT},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"report", required_argument, NULL, OPT_REPORT},
    {"reserve-memory", no_argument, NULL, OPT_RESERVE_MEMORY},
    {NULL, 0, NULL, 0},
};

/* Options that are settings keys: each sets [section] key to its value. */
static const struct {
    int opt;
    const char *section, *key;
} setting_opts[] = {
    {'C', "customers", "file"},
    {'w', "pipeline", "window"},
    {'d', "pipeline", "detectors"},
    {'k', "kafka", "brokers"},
    {'A', "kafka", "topic_alerts"},
    {'U', "kafka", "topic_summaries"},
    {'D', "kafka", "spool_dir"},
    {'K', "kafka", "flush_timeout"},
    {OPT_TOPIC_FLOWS, "kafka", "topic_flows"},
};

/* What parsing the replay's command line collects besides the settings. */
struct replay_parse {
    struct replay_cli c;
    const char *reads[REPLAY_MAX_READ];
    size_t nreads;
    const char *ports, *route;
    uint16_t portv[INGEST_MAX_PORTS];
    int fmt_text; /* --format: 1 text, 0 json, -1 by the output (a terminal: text) */
};

/* A live-capture number (--snaplen, --duration, --count). 0 or the exit code (2). */
static int live_number(struct replay_opts *ro, int opt, const char *name, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || *end || end == arg || (opt == OPT_SNAPLEN && (v < 64 || v > 262144)))
        return usage_error("transitwatch replay", "%s: bad number '%s'", name, arg);
    if (opt == OPT_SNAPLEN)
        ro->snaplen = (int)v;
    else if (opt == OPT_DURATION)
        ro->duration_ms = v * 1000;
    else
        ro->max_packets = v;
    return 0;
}

/* The options that only shape the replay (not settings). 0, the exit code, or -1: unknown. */
static int replay_option(struct replay_parse *rp, int c, char **argv)
{
    static const char cmd[] = "transitwatch replay";
    struct replay_opts *ro = &rp->c.ro;
    switch (c) {
    case 'i':
        ro->interface = optarg;
        return 0;
    case 'r':
        if (rp->nreads >= REPLAY_MAX_READ)
            return usage_error(cmd, "more than %d -r options", REPLAY_MAX_READ);
        rp->reads[rp->nreads++] = optarg;
        return 0;
    case OPT_BPF:
        ro->bpf = optarg;
        return 0;
    case OPT_SNAPLEN:
    case OPT_DURATION:
    case OPT_COUNT:
        return live_number(ro, c, argv[optind - 1], optarg);
    case OPT_PROMISC:
        ro->promisc = true;
        return 0;
    case OPT_NO_PROGRESS:
        ro->progress = 0;
        return 0;
    case OPT_STATS:
    case OPT_NO_STATS:
        ro->summary = c == OPT_STATS;
        return 0;
    case OPT_METER_ONLY:
        rp->route = "all-meter";
        return 0;
    case OPT_ROUTE:
        rp->route = optarg;
        return 0;
    case OPT_NFDUMP_FORMAT:
        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "csv") != 0)
            return usage_error(cmd, "--nfdump-format takes json or csv");
        ro->nfdump_fmt = strcmp(optarg, "csv") == 0 ? NFDUMP_FMT_CSV : NFDUMP_FMT_JSON;
        return 0;
    case OPT_LOG_FORMAT:
        if (flowlog_fmt_parse(optarg, &ro->log_fmt) < 0)
            return usage_error(cmd, "--log-format takes auto, zeek, zeek-json or argus");
        return 0;
    case OPT_FORMAT:
        if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
            return usage_error(cmd, "--format takes text or json");
        rp->fmt_text = strcmp(optarg, "text") == 0;
        return 0;
    case OPT_APPEND:
        rp->c.append = true;
        return 0;
    case OPT_COLLECT:
        rp->c.collect = true;
        return 0;
    case OPT_WRITE_GOFLOW2:
        rp->c.goflow2_out = optarg;
        return 0;
    case 'o':
        rp->c.output = optarg;
        return 0;
    case 'P':
        rp->ports = optarg;
        return 0;
    case 'S':
        rp->c.no_sniff = true;
        return 0;
    case 'T':
        rp->c.totals = false;
        return 0;
    case 'F':
        rp->c.flows = optarg;
        return 0;
    case OPT_REPORT:
        rp->c.report = optarg;
        return 0;
    case 'c':
        return 0; /* read first */
    default:
        return -1;
    }
}

/* Every option, in order. 0, the exit code, or -1 after --help (not an error: exit 0). */
static int parse_replay(int argc, char **argv, struct settings *s, struct replay_parse *rp)
{
    static const char cmd[] = "transitwatch replay";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:C:b:r:o:w:d:hi:", replay_opts, NULL)) != -1) {
        int rc = replay_option(rp, c, argv);
        if (rc >= 0) {
            if (rc > 0)
                return rc;
            continue;
        }
        size_t k = 0;
        while (k < sizeof setting_opts / sizeof setting_opts[0] && setting_opts[k].opt != c)
            k++;
        if (k < sizeof setting_opts / sizeof setting_opts[0]) {
            if (set_key(s, setting_opts[k].section, setting_opts[k].key, optarg) < 0)
                return 2;
        } else if (c == 'b') {
            if ((rc = add_blocklist(s, cmd, optarg)) != 0)
                return rc;
        } else if (c == 'N') {
            s->summaries = false;
        } else if (c == OPT_RESERVE_MEMORY) {
            s->reserve_memory = true;
        } else if (c == 'h') {
            usage_replay(stdout);
            return -1;
        } else {
            return bad_option(cmd, c, argv);
        }
    }
    return 0;
}

/* Checks of what was parsed, and the inputs in command-line order (-r FILE first). 0 or the
 * exit code. *inputs: the caller frees. */
static int finish_replay_args(int argc, char **argv, struct replay_parse *rp, const char ***inputs)
{
    static const char cmd[] = "transitwatch replay";
    struct replay_cli *c = &rp->c;
    if (optind >= argc && !rp->nreads && !c->ro.interface)
        return usage_error(cmd, "no capture file given (name files, -r FILE, - for stdin, or -i "
                                "INTERFACE)");
    if (c->append && !c->output)
        return usage_error(cmd, "--append goes with --output FILE");
    if (rp->ports) {
        if (parse_ports(rp->ports, rp->portv, &c->nports) < 0)
            return 2;
        c->ports = rp->portv;
    }
    if (rp->route) {
        if (ingest_route_parse(rp->route, &c->route) < 0)
            return usage_error(cmd, "--route takes auto, ports, all-meter or all-export");
        c->have_route = true;
    }
    size_t nin = rp->nreads + (size_t)(argc - optind);
    *inputs = calloc(nin ? nin : 1, sizeof **inputs);
    if (!*inputs)
        return 2;
    for (size_t i = 0; i < rp->nreads; i++)
        (*inputs)[i] = rp->reads[i];
    for (int i = optind; i < argc; i++)
        (*inputs)[rp->nreads + (size_t)(i - optind)] = argv[i];
    c->ro.inputs = *inputs;
    c->ro.ninputs = nin;
    if (rp->fmt_text < 0) /* a person at a terminal reads text; pipes and files get JSON lines */
        rp->fmt_text = (!c->output || strcmp(c->output, "-") == 0) && isatty(STDOUT_FILENO);
    c->text = rp->fmt_text == 1;
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    static const char cmd[] = "transitwatch replay";
    struct replay_parse *rp = calloc(1, sizeof *rp);
    struct run r;
    memset(&r, 0, sizeof r);
    if (!rp || settings_init(&r.s) < 0) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        free(rp);
        return 2;
    }
    rp->c.ro = (struct replay_opts){.progress = -1, .summary = -1, .stop = &g_stop};
    rp->c.totals = true;
    rp->fmt_text = -1;
    /* first pass: the config file, so flags override it whatever their order */
    const char *config = NULL;
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
            config = argv[i + 1];
    struct conf_error err;
    char msg[600];
    const char **inputs = NULL;
    int rc = 2;
    if (config && settings_load(&r.s, config, &err) < 0) {
        fprintf(stderr, "%s: %s\n", cmd, conf_error_str(&err, msg, sizeof msg));
        goto out;
    }
    r.s.jsonl[0] = '-'; /* stdout unless -o */
    r.s.jsonl[1] = 0;
    r.s.reserve_memory = false; /* a lab replay of a small capture: unless --reserve-memory */
    rc = parse_replay(argc, argv, &r.s, rp);
    if (rc == 0)
        rc = finish_replay_args(argc, argv, rp, &inputs);
    if (rc == 0) {
        rc = replay_main(&r, &rp->c); /* tears r down */
        free(inputs);
        free(rp);
        return rc;
    }
    if (rc < 0)
        rc = 0; /* --help */
out:
    free(inputs);
    free(rp);
    run_teardown(&r);
    return rc;
}

static void usage_report(FILE *out)
{
    fprintf(out,
            "usage: transitwatch report [OPTIONS] FILE...\n"
            "       transitwatch report [OPTIONS] --kafka BROKERS | --from-kafka [FILE...]\n"
            "The report from JSON lines files of alerts, summaries and totals (replay -o, the\n"
            "daemon's [output]; plain or .gz; - for stdin) and/or from the Kafka topics of the\n"
            "alerts and summaries (every partition, up to its end at the start; no group, no\n"
            "commits): one self-contained HTML page, or plain text. With --customer, the\n"
            "customer abuse report: which of its hosts did what, when, the evidence, the feeds'\n"
            "listings and the hostile share against the threshold, addressed to the abuse\n"
            "contact of the customer map's abuse column.\n"
            "  -C, --customers FILE   the customer map (names, abuse contacts)\n"
            "  -c, --config FILE      the daemon's config: its customer map, threshold, [kafka]\n"
            "      --customer ID      only this customer (the abuse report)\n"
            "      --since TIME       from TIME (UTC: 2026-11-30, 2026-11-30 08:00, ...)\n"
            "      --until TIME       up to TIME (excluded)\n"
            "      --format FORMAT    html (default) or text (for e-mail)\n"
            "  -o, --output FILE      write there instead of stdout\n"
            "      --kafka BROKERS    read the topics from these brokers (host:port,...)\n"
            "      --from-kafka       read the topics from --config's [kafka] brokers\n"
            "      --topic-alerts T, --topic-summaries T  the topics (default: [kafka]'s)\n"
            "      --kafka-timeout DURATION  bound of each wait for the brokers ([kafka]\n"
            "                         flush_timeout, 10s): past it, exit 1 with the reason\n"
            "  -h, --help             this text\n"
            "Exit status: 0, 1 a file or the topics could not be read or the output written,\n"
            "2 usage or configuration.\n");
}

static int report_option(struct report_cmd *rc, int c, const char *cmd)
{
    switch (c) {
    case 'C':
        rc->customers = optarg;
        return 0;
    case 'c':
        return 0; /* read first */
    case 'u':
        if (!tf_name_ok(optarg, CUSTOMER_ID_MAX))
            return usage_error(cmd, "--customer: '%s' is not a customer id", optarg);
        rc->customer = optarg;
        return 0;
    case 's':
    case 'U':
        if (!report_cmd_time(optarg, c == 's' ? &rc->since_ms : &rc->until_ms))
            return usage_error(cmd, "%s: bad time '%s' (YYYY-MM-DD[ HH:MM[:SS]], UTC)",
                               c == 's' ? "--since" : "--until", optarg);
        return 0;
    case 'f':
        if (strcmp(optarg, "html") != 0 && strcmp(optarg, "text") != 0)
            return usage_error(cmd, "--format takes html or text");
        rc->text = strcmp(optarg, "text") == 0;
        return 0;
    case 'o':
        rc->output = optarg;
        return 0;
    default:
        return -1;
    }
}

/* report's Kafka options: [kafka] keys, set once --config is read whatever their order. */
static const struct {
    int opt;
    const char *key;
} report_kafka_opts[] = {
    {'k', "brokers"},
    {'A', "topic_alerts"},
    {'T', "topic_summaries"},
    {'K', "flush_timeout"},
};
#define REPORT_KAFKA_OPTS (sizeof report_kafka_opts / sizeof report_kafka_opts[0])

/* The Kafka options collected by cmd_report onto s (--from-kafka: from_kafka); sets rc->kafka.
 * 0, or the exit code (2) after the message. */
static int report_kafka(struct report_cmd *rc, struct settings *s, const char *const *val,
                        bool from_kafka, const char *cmd)
{
    bool any = false;
    for (size_t i = 0; i < REPORT_KAFKA_OPTS; i++) {
        if (val[i] && set_key(s, "kafka", report_kafka_opts[i].key, val[i]) < 0)
            return 2;
        any = any || val[i];
    }
    from_kafka = from_kafka || val[0];
    if (any && !from_kafka)
        return usage_error(cmd, "the topic and timeout options go with --kafka or --from-kafka");
    if (from_kafka && !s->kafka.brokers[0])
        return usage_error(cmd, "--from-kafka: no [kafka] brokers in the configuration");
    rc->kafka = from_kafka ? &s->kafka : NULL;
    return 0;
}

static int cmd_report(int argc, char **argv)
{
    static const char cmd[] = "transitwatch report";
    static const struct option opts[] = {
        {"customers", required_argument, NULL, 'C'},
        {"config", required_argument, NULL, 'c'},
        {"customer", required_argument, NULL, 'u'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'U'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"kafka", required_argument, NULL, 'k'},
        {"from-kafka", no_argument, NULL, 'F'},
        {"topic-alerts", required_argument, NULL, 'A'},
        {"topic-summaries", required_argument, NULL, 'T'},
        {"kafka-timeout", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct report_cmd rc = {0};
    const char *kval[REPORT_KAFKA_OPTS] = {0};
    bool from_kafka = false;
    struct settings s;
    struct conf_error err;
    char msg[600];
    if (settings_init(&s) < 0)
        return 2;
    int c, ret = 2;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":C:c:o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage_report(stdout);
            ret = 0;
            goto out;
        }
        if (c == 'c' && settings_load(&s, optarg, &err) < 0) {
            fprintf(stderr, "%s: %s\n", cmd, conf_error_str(&err, msg, sizeof msg));
            goto out;
        }
        size_t k = 0;
        while (k < REPORT_KAFKA_OPTS && report_kafka_opts[k].opt != c)
            k++;
        if (k < REPORT_KAFKA_OPTS || c == 'F') {
            if (k < REPORT_KAFKA_OPTS)
                kval[k] = optarg;
            from_kafka = from_kafka || c == 'F';
            continue;
        }
        int r = report_option(&rc, c, cmd);
        if (r > 0)
            goto out;
        if (r < 0) {
            ret = bad_option(cmd, c, argv);
            goto out;
        }
    }
    if ((ret = report_kafka(&rc, &s, kval, from_kafka, cmd)) != 0)
        goto out;
    ret = 2;
    if (optind >= argc && !rc.kafka) {
        ret = usage_error(cmd, "no JSON lines file given (nor --kafka)");
        goto out;
    }
    if (rc.since_ms && rc.until_ms && rc.until_ms <= rc.since_ms) {
        ret = usage_error(cmd, "--until is not after --since");
        goto out;
    }
    if (!rc.customers && s.customers_file[0])
        rc.customers = s.customers_file;
    rc.threshold_share = s.hostility.share;
    rc.files = (const char *const *)argv + optind;
    rc.nfiles = (size_t)(argc - optind);
    ret = report_cmd_run(&rc);
out:
    settings_free(&s);
    return ret;
}

/* The daemon and its collect and detect forms: options, then daemon_main. */
static int cmd_daemon(int argc, char **argv, struct daemon_opts *o)
{
    static const char *const names[] = {"transitwatch", "transitwatch collect",
                                        "transitwatch detect"};
    const char *cmd = names[o->mode];
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"example-config", no_argument, NULL, 'e'},
        {"list-counters", no_argument, NULL, 'L'},
        {"list-rules", no_argument, NULL, 'R'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"from-kafka", no_argument, NULL, 'K'},
        {"exit-idle", required_argument, NULL, 'X'},
        {"instance-id", required_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool from_kafka = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'k':
            o->check_only = true;
            break;
        case 'K':
            from_kafka = true;
            break;
        case 'I':
            if (!optarg[0] || strlen(optarg) >= 250)
                return usage_error(cmd, "--instance-id: 1 to 249 characters");
            o->instance_id = optarg;
            break;
        case 'X': {
            uint64_t v;
            if (!tf_uint_max(optarg, strlen(optarg), 86400, &v) || v == 0)
                return usage_error(cmd, "--exit-idle: seconds, 1 to 86400");
            o->exit_idle_ms = v * 1000;
            break;
        }
        case 'e':
            settings_write_example(stdout);
            return 0;
        case 'L':
            status_list_counters(stdout);
            return 0;
        case 'R':
            list_rules(stdout);
            return 0;
        case 'V':
            printf("transitwatch %s\n", TW_VERSION);
            return 0;
        case 'h':
            usage_daemon(stdout);
            return 0;
        default:
            return bad_option(cmd, c, argv);
        }
    }
    if (optind < argc)
        return usage_error(cmd,
                           "unexpected argument '%s' (a replay is: transitwatch replay "
                           "CAPTURE...)",
                           argv[optind]);
    if (!config) {
        config = TW_DEFAULT_CONFIG;
        if (access(config, F_OK) != 0)
            return usage_error(cmd, "no --config FILE given, and the default %s %s", config,
                               errno == ENOENT ? "does not exist" : strerror(errno));
    }
    if (o->mode == DAEMON_DETECT && !from_kafka)
        return usage_error(cmd, "--from-kafka is required (the only input detect has)");
    if (o->mode != DAEMON_DETECT && (from_kafka || o->exit_idle_ms || o->instance_id))
        return usage_error(cmd, "--from-kafka, --exit-idle and --instance-id are options of "
                                "transitwatch detect");
    o->config = config;
    return daemon_main(o);
}

int main(int argc, char **argv)
{
    tw_log_init("transitwatch", TW_LOG_INFO, false);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (argc >= 2 && strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    struct daemon_opts o = {.stop = &g_stop, .hup = &g_hup};
    if (argc >= 2 && strcmp(argv[1], "collect") == 0)
        o.mode = DAEMON_COLLECT;
    if (argc >= 2 && strcmp(argv[1], "detect") == 0)
        o.mode = DAEMON_DETECT;
    if (o.mode != DAEMON_ALL)
        argc--, argv++;
    return cmd_daemon(argc, argv, &o);
}
