/* transitwatch: flow-telemetry anomaly monitor. The command line: the daemon (transitwatch
 * [--config FILE], daemon.c) and the lab replay (transitwatch replay CAPTURE..., replay.c).
 * Only this file may exit(). */
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
#include "replay.h"
#include "rules.h"
#include "run.h"
#include "status.h"

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
            "      --flows FILE         also write every decoded record as a JSON line\n"
            "      --kafka BOOTSTRAP    also publish to Kafka (brokers host:port,...)\n"
            "      --topic-alerts NAME, --topic-summaries NAME\n"
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
            "nfdump -r), Zeek conn.log or Argus binetflow files (plain or gzip) or directories\n"
            "of them; read in time order. - reads a capture from stdin\n"
            "(tcpdump -w - | transitwatch replay -).\n"
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
        return -1;
    }
    struct conf_error err;
    if (settings_load_text(s, "command line", text, (size_t)n, &err) < 0) {
        fprintf(stderr, "transitwatch replay: %s.%s: %s\n", section, key, err.msg);
        return -1;
    }
    return 0;
}

static int parse_ports(const char *list, struct ingest_opts *o)
{
    o->nports = 0;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(t, &end, 10);
        if (errno || *end || v == 0 || v > 65535 || o->nports >= INGEST_MAX_PORTS) {
            usage_error("transitwatch replay", "--export-ports: bad port '%s'", t);
            return -1;
        }
        o->ports[o->nports++] = (uint16_t)v;
    }
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    static const char cmd[] = "transitwatch replay";
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"customers", required_argument, NULL, 'C'},
        {"blocklist", required_argument, NULL, 'b'},
        {"read", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"append", no_argument, NULL, 1012},
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
        {"bpf", required_argument, NULL, 1001},
        {"snaplen", required_argument, NULL, 1002},
        {"promisc", no_argument, NULL, 1003},
        {"duration", required_argument, NULL, 1004},
        {"count", required_argument, NULL, 1005},
        {"no-progress", no_argument, NULL, 1006},
        {"stats", no_argument, NULL, 1007},
        {"no-stats", no_argument, NULL, 1008},
        {"meter-only", no_argument, NULL, 1009},
        {"route", required_argument, NULL, 1010},
        {"nfdump-format", required_argument, NULL, 1011},
        {"log-format", required_argument, NULL, 1013},
        {"format", required_argument, NULL, 1014},
        {NULL, 0, NULL, 0},
    };
    struct replay_opts ro = {.progress = -1, .summary = -1, .stop = &g_stop};
    const char *route = NULL;
    const char *flows_path = NULL;
    FILE *flows_file = NULL;
    const char *reads[REPLAY_MAX_READ];
    const char **inputs = NULL;
    size_t nreads = 0;
    struct run r;
    memset(&r, 0, sizeof r);
    if (settings_init(&r.s) < 0) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return 2;
    }
    const char *config = NULL, *output = NULL, *ports = NULL;
    bool no_sniff = false, totals = true, append = false;
    int fmt_text = -1; /* --format: 1 text, 0 json, -1 by the output (a terminal: text) */
    char msg[600];
    /* first pass: the config file, so flags override it whatever their order */
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
            config = argv[i + 1];
    if (config) {
        struct conf_error err;
        if (settings_load(&r.s, config, &err) < 0) {
            fprintf(stderr, "%s: %s\n", cmd, conf_error_str(&err, msg, sizeof msg));
            settings_free(&r.s);
            return 2;
        }
    }
    r.s.jsonl[0] = '-';
    r.s.jsonl[1] = 0;
    int c, rc = 2;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:C:b:r:o:w:d:hi:", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            ro.interface = optarg;
            break;
        case 'r':
            if (nreads >= REPLAY_MAX_READ) {
                rc = usage_error(cmd, "more than %d -r options", REPLAY_MAX_READ);
                goto out;
            }
            reads[nreads++] = optarg;
            break;
        case 1001:
            ro.bpf = optarg;
            break;
        case 1002:
        case 1004:
        case 1005: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || (c == 1002 && (v < 64 || v > 262144))) {
                rc = usage_error(cmd, "%s: bad number '%s'", argv[optind - 1], optarg);
                goto out;
            }
            if (c == 1002)
                ro.snaplen = (int)v;
            else if (c == 1004)
                ro.duration_ms = v * 1000;
            else
                ro.max_packets = v;
            break;
        }
        case 1003:
            ro.promisc = true;
            break;
        case 1006:
            ro.progress = 0;
            break;
        case 1007:
        case 1008:
            ro.summary = c == 1007;
            break;
        case 1009:
            route = "all-meter";
            break;
        case 1010:
            route = optarg;
            break;
        case 1011:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "csv") != 0) {
                rc = usage_error(cmd, "--nfdump-format takes json or csv");
                goto out;
            }
            ro.nfdump_fmt = strcmp(optarg, "csv") == 0 ? NFDUMP_FMT_CSV : NFDUMP_FMT_JSON;
            break;
        case 1012:
            append = true;
            break;
        case 1014:
            if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0) {
                rc = usage_error(cmd, "--format takes text or json");
                goto out;
            }
            fmt_text = strcmp(optarg, "text") == 0;
            break;
        case 1013:
            if (flowlog_fmt_parse(optarg, &ro.log_fmt) < 0) {
                rc = usage_error(cmd, "--log-format takes auto, zeek, zeek-json or argus");
                goto out;
            }
            break;
        case 'c':
            break;
        case 'C':
            if (set_key(&r.s, "customers", "file", optarg) < 0)
                goto out;
            break;
        case 'b': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                rc = usage_error(cmd, "--blocklist wants NAME=FILE, got '%s'", optarg);
                goto out;
            }
            char text[1200];
            int n = snprintf(text, sizeof text, "[blocklist %.*s]\nfile = %s\n", (int)(eq - optarg),
                             optarg, eq + 1);
            struct conf_error err;
            if (n < 0 || (size_t)n >= sizeof text ||
                settings_load_text(&r.s, "command line", text, (size_t)n, &err) < 0) {
                fprintf(stderr, "%s: --blocklist %s: %s\n", cmd, optarg,
                        n < 0 || (size_t)n >= sizeof text ? "too long" : err.msg);
                goto out;
            }
            break;
        }
        case 'o':
            output = optarg;
            break;
        case 'w':
            if (set_key(&r.s, "pipeline", "window", optarg) < 0)
                goto out;
            break;
        case 'd':
            if (set_key(&r.s, "pipeline", "detectors", optarg) < 0)
                goto out;
            break;
        case 'P':
            ports = optarg;
            break;
        case 'S':
            no_sniff = true;
            break;
        case 'N':
            r.s.summaries = false;
            break;
        case 'T':
            totals = false;
            break;
        case 'k':
            if (set_key(&r.s, "kafka", "brokers", optarg) < 0)
                goto out;
            break;
        case 'A':
            if (set_key(&r.s, "kafka", "topic_alerts", optarg) < 0)
                goto out;
            break;
        case 'U':
            if (set_key(&r.s, "kafka", "topic_summaries", optarg) < 0)
                goto out;
            break;
        case 'D':
            if (set_key(&r.s, "kafka", "spool_dir", optarg) < 0)
                goto out;
            break;
        case 'K':
            if (set_key(&r.s, "kafka", "flush_timeout", optarg) < 0)
                goto out;
            break;
        case 'F':
            flows_path = optarg;
            break;
        case 'h':
            usage_replay(stdout);
            rc = 0;
            goto out;
        default:
            rc = bad_option(cmd, c, argv);
            goto out;
        }
    }
    if (optind >= argc && !nreads && !ro.interface) {
        rc = usage_error(cmd, "no capture file given (name files, -r FILE, - for stdin, or -i "
                              "INTERFACE)");
        goto out;
    }
    if (append && !output) {
        rc = usage_error(cmd, "--append goes with --output FILE");
        goto out;
    }
    struct conf_error err;
    if (settings_validate(&r.s, &err) < 0 || run_load_lists(&r, &err) < 0) {
        fprintf(stderr, "%s: %s\n", cmd, conf_error_str(&err, msg, sizeof msg));
        goto out;
    }
    struct ingest_opts io;
    ingest_opts_default(&r.s, &io);
    io.replay = true;
    if (ports && parse_ports(ports, &io) < 0)
        goto out;
    if (no_sniff)
        io.sniff = false;
    if (route && ingest_route_parse(route, &io.route) < 0) {
        rc = usage_error(cmd, "--route takes auto, ports, all-meter or all-export");
        goto out;
    }
    /* the inputs: -r FILE ones first, then the named ones (time order is sorted out later) */
    size_t nin = nreads + (size_t)(argc - optind);
    inputs = calloc(nin ? nin : 1, sizeof *inputs);
    if (!inputs)
        goto out;
    for (size_t i = 0; i < nreads; i++)
        inputs[i] = reads[i];
    for (int i = optind; i < argc; i++)
        inputs[nreads + (size_t)(i - optind)] = argv[i];
    ro.inputs = inputs;
    ro.ninputs = nin;
    if (fmt_text < 0) /* a person at a terminal reads text; pipes and files get JSON lines */
        fmt_text = (!output || strcmp(output, "-") == 0) && isatty(STDOUT_FILENO);
    if (run_start(&r, true, &io, output, !append, fmt_text == 1) < 0)
        goto out;
    if (flows_path) {
        flows_file = strcmp(flows_path, "-") == 0 ? stdout : fopen(flows_path, "w");
        if (!flows_file) {
            log_error("--flows %s: %s", flows_path, strerror(errno));
            goto out;
        }
        pipeline_set_flow_log(r.pipe, flows_file);
    }
    rc = replay_run(&ro, r.in, r.pipe, &r.sinks);
    if (rc < 0) {
        rc = 2;
        goto out;
    }
    /* a replay that read nothing at all has no totals to give (not a line of zeros); lines it
     * could not read are something to report */
    struct ingest_stats ist;
    ingest_stats(r.in, &ist);
    if (totals && (rc == 0 || ist.packets || ist.archive_records || ist.archive_bad_lines ||
                   ist.log_bad_lines))
        run_publish_totals(&r, "transitwatch.totals");
    if (sinks_flush(&r.sinks, (int)(r.s.kafka.flush_timeout * 1000)) < 0)
        rc = 1;
out:
    if (flows_file && flows_file != stdout && fclose(flows_file) != 0) {
        log_error("--flows %s: %s", flows_path, strerror(errno));
        rc = 1;
    }
    free(inputs);
    run_teardown(&r);
    return rc;
}

int main(int argc, char **argv)
{
    static const char cmd[] = "transitwatch";
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

    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"example-config", no_argument, NULL, 'e'},
        {"list-counters", no_argument, NULL, 'L'},
        {"list-rules", no_argument, NULL, 'R'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool check = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'k':
            check = true;
            break;
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
        return usage_error(cmd, "unexpected argument '%s' (a replay is: transitwatch replay "
                                "CAPTURE...)", argv[optind]);
    if (!config) {
        config = TW_DEFAULT_CONFIG;
        if (access(config, F_OK) != 0)
            return usage_error(cmd, "no --config FILE given, and the default %s %s", config,
                               errno == ENOENT ? "does not exist" : strerror(errno));
    }
    return daemon_main(config, check, &g_stop, &g_hup);
}
