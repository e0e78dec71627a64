/* transitwatch: flow-telemetry anomaly monitor. The daemon (transitwatch --config FILE) and the
 * lab replay (transitwatch replay CAPTURE...). Only this file may exit(). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "ingest.h"
#include "json.h"
#include "lists.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "rx.h"
#include "replay.h"
#include "status.h"
#include "settings.h"
#include "sink_jsonl.h"
#include "sink_kafka.h"
#include "udp.h"

#define MAX_CLI_FEEDS SETTINGS_MAX_FEEDS

static volatile sig_atomic_t g_stop, g_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: transitwatch --config FILE [--check-config]     run the collector daemon\n"
            "       transitwatch replay [OPTIONS] CAPTURE...          replay captures (lab use)\n"
            "       transitwatch --example-config                     print the annotated config\n"
            "       transitwatch --version | --help\n"
            "\n"
            "replay options:\n"
            "  -c, --config FILE        settings (default: built-in defaults)\n"
            "  -C, --customers FILE     customer map CSV: prefix,customer_id,name[,asn]\n"
            "  -b, --blocklist NAME=FILE  a blocklist feed (repeatable; format detected)\n"
            "  -o, --output FILE        JSON lines to FILE instead of stdout\n"
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
            "CAPTURE: pcap or pcapng files, optionally gzip-compressed, nfcapd files (read with\n"
            "nfdump -r), Zeek conn.log or Argus binetflow files (plain or gzip) or directories\n"
            "of them; read in time order.\n"
            "Output: JSON lines (alerts: event.kind \"alert\"; summaries: event.dataset\n"
            "\"transitwatch.summary\"; last line: event.dataset \"transitwatch.totals\").\n");
}

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
        fprintf(stderr, "transitwatch: --%s: %s\n", key, err.msg);
        return -1;
    }
    return 0;
}

static int open_sinks(struct run *r, const char *out_path)
{
    char err[256];
    const char *path = out_path ? out_path : r->s.jsonl;
    if (path[0]) {
        unsigned mask = SINK_JSONL_ALL;
        struct sink sk;
        if (sink_jsonl_new(path, r->s.jsonl_gzip, mask, &sk, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
        sinks_add(&r->sinks, sk);
    }
    if (r->s.kafka_enabled) {
        struct sink sk;
        if (sink_kafka_new(&r->s.kafka, &sk, err, sizeof err) < 0) {
            log_error("kafka: %s", err);
            return -1;
        }
        sinks_add(&r->sinks, sk);
    }
    return 0;
}

static int setup(struct run *r, bool replay, const struct ingest_opts *io, const char *out_path)
{
    struct conf_error err;
    if (lists_load(&r->s, &r->customers, &r->feeds, &err) < 0) {
        log_error("%s:%u: %s", err.file, err.line, err.msg);
        return -1;
    }
    lists_warn(r->feeds);
    if (open_sinks(r, out_path) < 0)
        return -1;
    int rc = pipeline_new(&r->s, replay, r->customers, r->feeds, &r->sinks, &r->pipe);
    if (rc < 0) {
        log_error("cannot start the pipeline: %s", strerror(-rc));
        return -1;
    }
    r->customers = NULL; /* taken */
    r->feeds = NULL;
    struct ingest_opts o;
    if (io)
        o = *io;
    else
        ingest_opts_default(&r->s, &o);
    rc = ingest_new(&r->s, &o, r->pipe, &r->in);
    if (rc < 0) {
        log_error("cannot start the decoders: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

static void teardown(struct run *r)
{
    ingest_free(r->in);
    pipeline_free(r->pipe);
    if (r->reloaded) {
        settings_free(r->reloaded);
        free(r->reloaded);
        r->reloaded = NULL;
    }
    sinks_destroy(&r->sinks);
    customers_free(r->customers);
    feed_set_free(r->feeds);
    settings_free(&r->s);
}

static void publish_totals(struct run *r, const char *dataset)
{
    char buf[8192];
    struct json j;
    json_init(&j, buf, sizeof buf);
    json_obj_open(&j, NULL);
    json_obj_open(&j, "event");
    json_str(&j, "kind", "event");
    json_str(&j, "dataset", dataset);
    json_str(&j, "module", "transitwatch");
    json_obj_close(&j);
    json_obj_open(&j, "transitwatch");
    json_obj_open(&j, "totals");
    ingest_totals_json(r->in, &j);
    json_obj_close(&j);
    json_obj_close(&j);
    json_obj_close(&j);
    if (!json_error(&j))
        sinks_publish(&r->sinks, MSG_TOTALS, "", 0, buf, json_len(&j));
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
            fprintf(stderr, "transitwatch: --export-ports: bad port '%s'\n", t);
            return -1;
        }
        o->ports[o->nports++] = (uint16_t)v;
    }
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"customers", required_argument, NULL, 'C'},
        {"blocklist", required_argument, NULL, 'b'},
        {"output", required_argument, NULL, 'o'},
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
        {"log-format", required_argument, NULL, 1012},
        {NULL, 0, NULL, 0},
    };
    struct replay_opts ro = {.progress = -1, .summary = -1, .stop = &g_stop};
    const char *route = NULL;
    const char *flows_path = NULL;
    FILE *flows_file = NULL;
    struct run r;
    memset(&r, 0, sizeof r);
    if (settings_init(&r.s) < 0) {
        fprintf(stderr, "transitwatch: out of memory\n");
        return 2;
    }
    const char *config = NULL, *output = NULL, *ports = NULL;
    bool no_sniff = false, totals = true;
    /* first pass: the config file, so flags override it whatever their order */
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
            config = argv[i + 1];
    if (config) {
        struct conf_error err;
        if (settings_load(&r.s, config, &err) < 0) {
            fprintf(stderr, "transitwatch: %s:%u: %s\n", err.file, err.line, err.msg);
            settings_free(&r.s);
            return 2;
        }
    }
    r.s.jsonl[0] = '-';
    r.s.jsonl[1] = 0;
    int c, rc = 2;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:C:b:o:w:d:hi:", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            ro.interface = optarg;
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
                fprintf(stderr, "transitwatch: bad number '%s'\n", optarg);
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
                fprintf(stderr, "transitwatch: --nfdump-format takes json or csv\n");
                goto out;
            }
            ro.nfdump_fmt = strcmp(optarg, "csv") == 0 ? NFDUMP_FMT_CSV : NFDUMP_FMT_JSON;
            break;
        case 1012:
            if (flowlog_fmt_parse(optarg, &ro.log_fmt) < 0) {
                fprintf(stderr, "transitwatch: --log-format takes auto, zeek, zeek-json or argus\n");
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
                fprintf(stderr, "transitwatch: --blocklist wants NAME=FILE, got '%s'\n", optarg);
                goto out;
            }
            char text[1200];
            int n = snprintf(text, sizeof text, "[blocklist %.*s]\nfile = %s\n", (int)(eq - optarg),
                             optarg, eq + 1);
            struct conf_error err;
            if (n < 0 || (size_t)n >= sizeof text ||
                settings_load_text(&r.s, "command line", text, (size_t)n, &err) < 0) {
                fprintf(stderr, "transitwatch: --blocklist %s: %s\n", optarg,
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
            usage(stdout);
            rc = 0;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind >= argc && !ro.interface) {
        fprintf(stderr, "transitwatch replay: no capture file given\n");
        usage(stderr);
        goto out;
    }
    struct conf_error err;
    if (settings_validate(&r.s, &err) < 0) {
        fprintf(stderr, "transitwatch: %s:%u: %s\n", err.file, err.line, err.msg);
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
        fprintf(stderr, "transitwatch: --route takes auto, ports, all-meter or all-export\n");
        goto out;
    }
    ro.inputs = (const char *const *)(argv + optind);
    ro.ninputs = (size_t)(argc - optind);
    if (setup(&r, true, &io, output) < 0)
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
    if (totals)
        publish_totals(&r, "transitwatch.totals");
    if (sinks_flush(&r.sinks, (int)(r.s.kafka.flush_timeout * 1000)) < 0)
        rc = 1;
out:
    if (flows_file && flows_file != stdout && fclose(flows_file) != 0) {
        log_error("--flows %s: %s", flows_path, strerror(errno));
        rc = 1;
    }
    teardown(&r);
    return rc;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct live_arg {
    struct ingest *in;
    uint64_t now_ms;
};

static void on_datagram(void *arg, const uint8_t src[16], uint16_t sport, const uint8_t *data,
                        size_t len)
{
    struct live_arg *la = arg;
    ingest_datagram(la->in, src, sport, la->now_ms, data, len);
}

/* A datagram a receive thread queued, with the time it arrived. */
static void on_rx_datagram(void *arg, const uint8_t src[16], uint16_t sport, uint64_t ts_ms,
                           const uint8_t *data, size_t len)
{
    struct live_arg *la = arg;
    ingest_datagram(la->in, src, sport, ts_ms, data, len);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_error("daemon.user: no such user '%s'", user);
        return -1;
    }
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        log_error("cannot drop privileges to %s: %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 && pw->pw_uid != 0) {
        log_error("privileges could be regained after dropping them; refusing to run");
        return -1;
    }
    log_info("running as %s (uid %u)", user, (unsigned)pw->pw_uid);
    return 0;
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0) {
        log_error("pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

#define STATUS_TEXT_MAX (1u << 20)

/* SIGHUP: read the config file again and, if it is sound, take its customer map, blocklist
 * feeds and per-customer detector options ([customer ID]: allowlists, thresholds) and
 * [detector.NAME] thresholds into use at once. Anything else in the file (listen addresses,
 * table sizes, sinks) needs a restart. A bad file or list leaves everything as it was. */
static int reload(struct run *r)
{
    struct settings *ns = calloc(1, sizeof *ns);
    struct conf_error ce;
    struct customer_map *cm = NULL;
    struct feed_set *fs = NULL;
    if (!ns || settings_init(ns) < 0) {
        log_error("reload rejected, old configuration stays in force: out of memory");
        goto fail;
    }
    if (settings_load(ns, r->config_path, &ce) < 0 || lists_load(ns, &cm, &fs, &ce) < 0) {
        log_error("reload rejected, old configuration stays in force: %s:%u: %s", ce.file, ce.line,
                  ce.msg);
        goto fail;
    }
    lists_warn(fs);
    size_t nc = customers_count(cm), nf = feed_set_count(fs);
    int rc = pipeline_swap_lists(r->pipe, cm, fs); /* takes both */
    cm = NULL;
    fs = NULL;
    if (rc < 0) {
        log_error("reload rejected, old configuration stays in force: %s", strerror(-rc));
        goto fail;
    }
    if (pipeline_swap_overrides(r->pipe, ns) < 0)
        log_error("reload: out of memory for per-customer options; the previous ones stay");
    if (r->reloaded) {
        settings_free(r->reloaded);
        free(r->reloaded);
    }
    r->reloaded = ns;
    log_info("reload: %zu customers, %zu blocklists, %zu per-customer options in force", nc, nf,
             ns->noverrides);
    return 0;
fail:
    customers_free(cm);
    feed_set_free(fs);
    if (ns) {
        settings_free(ns);
        free(ns);
    }
    return -1;
}

static int run_daemon(struct run *r)
{
    char err[256];
    const char *eps[64];
    size_t neps = 0;
    char tmp[sizeof r->s.listen];
    snprintf(tmp, sizeof tmp, "%s", r->s.listen);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ", ", &save); t && neps < 64; t = strtok_r(NULL, ", ", &save))
        eps[neps++] = t;
    struct udp_opts uo = {.rcvbuf_bytes = (int)r->s.rcvbuf, .reuseport = r->s.reuseport,
                          .batch = r->s.batch};
    struct udp_listener *ul = NULL; /* rx_threads == 0: the sockets are ours */
    struct rx_pool *rx = NULL;      /* rx_threads >= 1: receive threads own them */
    struct capture *caps[SETTINGS_MAX_CAPTURES] = {NULL};
    size_t ncap = 0;
    struct metrics *mx = NULL;
    char *status = NULL;
    int rc = 1;
    if (r->s.rx_threads) {
        if (rx_pool_start(eps, neps, &uo, r->s.rx_threads, r->s.rx_ring, &rx, err, sizeof err) < 0) {
            log_error("%s", err);
            goto out;
        }
    } else if (udp_listener_open(eps, neps, &uo, &ul, err, sizeof err) < 0) {
        log_error("%s", err);
        goto out;
    }
    const struct udp_listener *first = rx ? rx_pool_listener(rx) : ul;
    size_t nfd = udp_listener_count(first);
    for (size_t i = 0; i < nfd; i++)
        log_info("listening on UDP port %u (receive buffer %d bytes)", udp_listener_port(first, i),
                 udp_listener_rcvbuf(first, i));
    if (rx)
        log_info("%u receive thread%s", rx_pool_threads(rx), rx_pool_threads(rx) > 1 ? "s" : "");
    /* live interfaces for the flow meter, opened before privileges are dropped */
    for (size_t i = 0; i < r->s.ncaptures; i++) {
        const struct capture_settings *cs = &r->s.captures[i];
        if (capture_open_live(cs->interface, cs->bpf, (int)cs->snaplen, cs->promisc,
                              (int)(cs->buffer >> 20), &caps[ncap], err, sizeof err) < 0) {
            log_error("[capture %s]: %s", cs->name, err);
            goto out;
        }
        ncap++;
        log_info("capturing on %s%s%s", cs->interface, cs->bpf[0] ? " filter " : "", cs->bpf);
    }
    if (r->s.metrics_listen[0]) {
        if (metrics_start(r->s.metrics_listen, 5000, &mx, err, sizeof err) < 0) {
            log_error("%s", err);
            goto out;
        }
        log_info("metrics on http://%s/metrics (port %u)", r->s.metrics_listen, metrics_port(mx));
        status = malloc(STATUS_TEXT_MAX);
        if (!status)
            goto out;
    }
    if (r->s.pidfile[0] && write_pidfile(r->s.pidfile) < 0)
        goto out;
    if (r->s.user[0] && drop_privileges(r->s.user) < 0)
        goto out;

    struct pollfd pfd[64 + SETTINGS_MAX_CAPTURES];
    int fds[64];
    if (rx) { /* one fd: the receive threads' doorbell */
        nfd = 1;
        pfd[0] = (struct pollfd){.fd = rx_pool_fd(rx), .events = POLLIN};
    } else {
        nfd = udp_listener_fds(ul, fds, 64);
        for (size_t i = 0; i < nfd; i++)
            pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    for (size_t k = 0; k < ncap; k++)
        pfd[nfd + k] = (struct pollfd){.fd = capture_fd(caps[k]), .events = POLLIN};
    struct live_arg la = {r->in, wall_ms()};
    struct udp_stats us;
    memset(&us, 0, sizeof us);
    struct status_src ss = {.in = r->in, .p = r->pipe, .udp = &us, .sinks = &r->sinks,
                            .last_reload_ok = -1, .start_unix = wall_ms() / 1000};
    uint64_t last_tick = 0, last_status = 0;
    log_info("transitwatch %s started", TW_VERSION);
    while (!g_stop) {
        bool queued = rx && rx_pool_arm(rx);
        int n = poll(pfd, (nfds_t)(nfd + ncap), queued ? 0 : 100);
        la.now_ms = wall_ms();
        if (rx) {
            rx_pool_disarm(rx);
            /* bounded per turn so timers, signals and captures keep their turn */
            rx_pool_consume(rx, on_rx_datagram, &la, 65536);
        } else if (n > 0) {
            for (size_t i = 0; i < nfd; i++) {
                if (!(pfd[i].revents & POLLIN))
                    continue;
                /* drain in batches, bounded so one busy socket cannot starve the rest */
                for (int b = 0; b < 64; b++)
                    if (udp_listener_recv(ul, i, on_datagram, &la) <= 0)
                        break;
            }
        }
        /* captures: drained every turn (libpcap may hold packets without the fd turning
         * readable), bounded so one busy interface cannot starve the sockets */
        for (size_t k = 0; k < ncap; k++) {
            struct capture_pkt cp;
            for (int b = 0; b < 4096 && capture_next(caps[k], &cp) == CAPTURE_PACKET; b++)
                ingest_packet(r->in, &cp);
        }
        uint64_t mono = mono_ms();
        if (mono - last_tick >= 100) {
            last_tick = mono;
            pipeline_tick(r->pipe, la.now_ms);
            ingest_expire(r->in, la.now_ms);
            sinks_poll(&r->sinks);
        }
        if (mx && mono - last_status >= 1000) {
            last_status = mono;
            if (rx) {
                rx_pool_udp_stats(rx, &us);
                ss.rx_ring_waits = rx_pool_ring_waits(rx);
            } else {
                udp_listener_stats(ul, &us);
            }
            ss.ncaptures = ncap;
            for (size_t k = 0; k < ss.ncaptures; k++) {
                ss.capture_name[k] = r->s.captures[k].name;
                capture_stats(caps[k], &ss.capture[k]);
            }
            size_t len = status_render(&ss, status, STATUS_TEXT_MAX);
            metrics_publish(mx, status, len, mono);
        }
        if (g_hup) {
            g_hup = 0;
            ss.reloads++;
            ss.last_reload_unix = la.now_ms / 1000;
            sinks_reopen(&r->sinks);
            if (reload(r) == 0) {
                ss.last_reload_ok = 1;
            } else {
                ss.reload_failures++;
                ss.last_reload_ok = 0;
            }
            last_status = 0; /* show the result at once */
        }
    }
    log_info("stopping: closing the open window, flushing the sinks");
    /* what is already queued in the socket buffers is still taken */
    la.now_ms = wall_ms();
    if (rx) {
        rx_pool_stop(rx, on_rx_datagram, &la);
        rx_pool_udp_stats(rx, &us);
    } else {
        for (size_t i = 0; i < nfd; i++)
            for (int b = 0; b < 1024; b++)
                if (udp_listener_recv(ul, i, on_datagram, &la) <= 0)
                    break;
        udp_listener_stats(ul, &us);
    }
    for (size_t k = 0; k < ncap; k++) {
        struct capture_stats cst;
        capture_stats(caps[k], &cst);
        log_info("capture %s: %llu packets, kernel drops %llu, interface drops %llu",
                 r->s.captures[k].name, (unsigned long long)cst.packets,
                 (unsigned long long)cst.kernel_drops, (unsigned long long)cst.if_drops);
    }
    ingest_finish(r->in);
    pipeline_finish(r->pipe);
    publish_totals(r, "transitwatch.totals");
    sinks_flush(&r->sinks, (int)(r->s.kafka.flush_timeout * 1000));
    log_info("received %llu datagrams, kernel drops %llu",
             (unsigned long long)us.datagrams, (unsigned long long)us.kernel_drops);
    rc = 0;
out:
    if (r->s.pidfile[0])
        unlink(r->s.pidfile);
    metrics_stop(mx);
    free(status);
    for (size_t k = 0; k < ncap; k++)
        capture_close(caps[k]);
    udp_listener_close(ul);
    rx_pool_stop(rx, NULL, NULL);
    rx_pool_free(rx);
    return rc;
}

static int cmd_daemon(const char *config, bool check_only)
{
    struct run r;
    memset(&r, 0, sizeof r);
    if (settings_init(&r.s) < 0)
        return 2;
    struct conf_error err;
    if (settings_load(&r.s, config, &err) < 0) {
        fprintf(stderr, "transitwatch: %s:%u: %s\n", err.file, err.line, err.msg);
        settings_free(&r.s);
        return 2;
    }
    r.config_path = config;
    enum tw_log_level lvl = TW_LOG_INFO;
    tw_log_level_parse(r.s.log_level, &lvl);
    tw_log_init("transitwatch", lvl, r.s.log_syslog);
    if (check_only) {
        struct customer_map *cm;
        struct feed_set *fs;
        if (lists_load(&r.s, &cm, &fs, &err) < 0) {
            fprintf(stderr, "transitwatch: %s:%u: %s\n", err.file, err.line, err.msg);
            settings_free(&r.s);
            return 2;
        }
        printf("%s: OK (%zu customers, %zu prefixes, %zu blocklists)\n", config,
               customers_count(cm), customers_prefix_count(cm), feed_set_count(fs));
        customers_free(cm);
        feed_set_free(fs);
        settings_free(&r.s);
        return 0;
    }
    int rc = 2;
    if (setup(&r, false, NULL, NULL) == 0)
        rc = run_daemon(&r);
    teardown(&r);
    return rc;
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

    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"example-config", no_argument, NULL, 'e'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool check = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
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
        case 'V':
            printf("transitwatch %s\n", TW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "transitwatch: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!config) {
        usage(stderr);
        return 2;
    }
    return cmd_daemon(config, check);
}
