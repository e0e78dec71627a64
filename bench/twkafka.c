/* twkafka: a Kafka for tests, on loopback only (librdkafka's mock cluster), and a real consumer.
 *
 *   twkafka serve [--brokers N] --port-file F [--control FIFO] [--topic NAME:PARTITIONS]...
 *       Runs a mock cluster of N brokers (default 1), creates the topics (default
 *       transitwatch.alerts:4 and transitwatch.summaries:2), writes the bootstrap string to F
 *       (atomically: F appears complete) and obeys, one per line, from FIFO:
 *         down [ID]        broker ID (default: every broker) stops answering
 *         up [ID]          ... answers again
 *         rtt MS [ID]      responses of broker ID (default: all) are delayed by MS (0: off);
 *                          requests still take effect at once, so produced messages are stored
 *                          while their acknowledgements wait
 *         err N [ERROR]    the next N Produce requests fail (ERROR: a librdkafka error name such
 *                          as NOT_ENOUGH_REPLICAS; default: a mix of retriable and fatal ones)
 *         quit
 *       Signals: SIGUSR1 = every broker down, SIGUSR2 = every broker up, SIGTERM/SIGINT = quit.
 *       Every command done is echoed on stdout as "twkafka: <command>: ok" (line buffered), so
 *       a script can wait for it. Runs at most --max-time seconds (default 600). --debug
 *       CONTEXTS: librdkafka's debug contexts for the cluster (mock: its group coordinator's
 *       states and timers) on stderr.
 *   twkafka consume --bootstrap B --topic T [--topic T2...] [--count N] [--timeout S] --out FILE
 *       Reads every partition of the topics from the beginning with a real consumer and writes
 *       one line per message: topic<TAB>key<TAB>value. Stops once at least N messages were read
 *       and every partition is at its end, or after S seconds (default 30). Exit 0 when N were
 *       read, 1 otherwise (the file holds what came).
 *   twkafka end --bootstrap B --topic T [--timeout S]
 *       Prints the sum of the topic's high watermarks (every partition's next offset: the
 *       messages it ever held) on one line; each request waits at most S seconds (default 10).
 *       Exit 0, or 1 with the reason when the brokers did not answer.
 *   twkafka produce --bootstrap B --topic T [--partition P] --goflow2 FILE
 *       Produces each message of a GoFlow2 -format=bin file (varint length, FlowMessage) as one
 *       Kafka message with its length prefix, as GoFlow2's Kafka transport does, in order, to
 *       partition P (default 0). Waits at most 30 s for delivery; exit 0 when all were delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 16
#define MAX_PARTS 1024

static volatile sig_atomic_t g_quit, g_down, g_up;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        g_down = 1;
    else if (sig == SIGUSR2)
        g_up = 1;
    else
        g_quit = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ---- serve ---- */

struct topic_arg {
    char name[250];
    int parts;
};

static int err_by_name(const char *name, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *d;
    size_t n;
    rd_kafka_get_err_descs(&d, &n);
    for (size_t i = 0; i < n; i++)
        if (d[i].name && strcmp(d[i].name, name) == 0) {
            *out = d[i].code;
            return 0;
        }
    return -1;
}

static void set_all(rd_kafka_mock_cluster_t *mc, int brokers, bool up)
{
    for (int b = 1; b <= brokers; b++) {
        if (up)
            rd_kafka_mock_broker_set_up(mc, b);
        else
            rd_kafka_mock_broker_set_down(mc, b);
    }
}

/* One control line; returns 1 to quit, 0 done, -1 bad. */
static int command(rd_kafka_mock_cluster_t *mc, int brokers, char *line)
{
    char *save = NULL;
    char *verb = strtok_r(line, " \t\r\n", &save);
    char *a1 = verb ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    char *a2 = a1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    unsigned long v;
    if (!verb)
        return 0;
    if (strcmp(verb, "quit") == 0)
        return 1;
    if (strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0) {
        bool up = verb[0] == 'u';
        if (!a1) {
            set_all(mc, brokers, up);
        } else {
            if (parse_uint(a1, (unsigned long)brokers, &v) < 0 || v == 0)
                return -1;
            if ((up ? rd_kafka_mock_broker_set_up(mc, (int32_t)v)
                    : rd_kafka_mock_broker_set_down(mc, (int32_t)v)) != 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(verb, "rtt") == 0) { /* delay every response: requests take effect, acks wait */
        unsigned long id = 0;
        if (!a1 || parse_uint(a1, 600000, &v) < 0 ||
            (a2 && (parse_uint(a2, (unsigned long)brokers, &id) < 0 || id == 0)))
            return -1;
        for (int b = 1; b <= brokers; b++)
            if (!id || (unsigned long)b == id)
                rd_kafka_mock_broker_set_rtt(mc, b, (int)v);
        return 0;
    }
    if (strcmp(verb, "err") == 0) {
        if (!a1 || parse_uint(a1, 100000, &v) < 0)
            return -1;
        /* A mix: retried inside librdkafka, and refused (the sink re-sends from its spool). */
        static const rd_kafka_resp_err_t mix[] = {
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION};
        rd_kafka_resp_err_t one = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (a2 && err_by_name(a2, &one) < 0)
            return -1;
        rd_kafka_resp_err_t *errs = malloc((v ? v : 1) * sizeof *errs);
        if (!errs)
            return -1;
        for (unsigned long i = 0; i < v; i++)
            errs[i] = a2 ? one : mix[i % (sizeof mix / sizeof mix[0])];
        rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, v, errs);
        free(errs);
        return 0;
    }
    return -1;
}

static int write_port_file(const char *path, const char *boot)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", boot);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* The mock cluster of n brokers and its handle (*rk), or NULL (said on stderr). debug: NULL,
 * or librdkafka debug contexts logged on stderr. */
static rd_kafka_mock_cluster_t *mock_new(unsigned long n, const char *debug, rd_kafka_t **rk)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", debug ? "7" : "2", errstr, sizeof errstr);
    if (debug &&
        rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "twkafka: --debug %s: %s\n", debug, errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (!(*rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr))) {
        fprintf(stderr, "twkafka: %s\n", errstr);
        return NULL;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(*rk, (int)n);
    if (!mc) {
        fprintf(stderr, "twkafka: cannot create the mock cluster\n");
        rd_kafka_destroy(*rk);
    }
    return mc;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"port-file", required_argument, NULL, 'p'},
                                         {"control", required_argument, NULL, 'c'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"max-time", required_argument, NULL, 'm'},
                                         {"debug", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    unsigned long brokers = 1, max_time = 600, v;
    const char *port_file = NULL, *control = NULL, *debug = NULL;
    struct topic_arg topics[MAX_TOPICS];
    size_t ntopics = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (parse_uint(optarg, 16, &brokers) < 0 || brokers == 0)
                goto usage;
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'c':
            control = optarg;
            break;
        case 'd':
            debug = optarg;
            break;
        case 'm':
            if (parse_uint(optarg, 86400, &max_time) < 0)
                goto usage;
            break;
        case 't': {
            const char *colon = strrchr(optarg, ':');
            if (ntopics >= MAX_TOPICS || !colon || colon == optarg ||
                (size_t)(colon - optarg) >= sizeof topics[0].name ||
                parse_uint(colon + 1, MAX_PARTS, &v) < 0 || v == 0)
                goto usage;
            snprintf(topics[ntopics].name, sizeof topics[ntopics].name, "%.*s",
                     (int)(colon - optarg), optarg);
            topics[ntopics++].parts = (int)v;
            break;
        }
        default:
            goto usage;
        }
    }
    if (!port_file || optind != argc)
        goto usage;
    if (!ntopics) {
        topics[ntopics++] = (struct topic_arg){"transitwatch.alerts", 4};
        topics[ntopics++] = (struct topic_arg){"transitwatch.summaries", 2};
    }

    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mc = mock_new(brokers, debug, &rk);
    if (!mc)
        return 1;
    int rf = brokers < 3 ? (int)brokers : 3;
    for (size_t i = 0; i < ntopics; i++)
        if (rd_kafka_mock_topic_create(mc, topics[i].name, topics[i].parts, rf) != 0) {
            fprintf(stderr, "twkafka: cannot create topic %s\n", topics[i].name);
            goto out;
        }
    int fd = -1;
    if (control) {
        /* O_RDWR: the FIFO never reports end-of-file when a writer goes away. */
        fd = open(control, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "twkafka: %s: %s\n", control, strerror(errno));
            goto out;
        }
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    if (write_port_file(port_file, boot) < 0) {
        fprintf(stderr, "twkafka: cannot write %s\n", port_file);
        goto out;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("twkafka: serving %s (%lu broker(s))\n", boot, brokers);
    char buf[4096];
    size_t have = 0;
    double t0 = now_s();
    while (!g_quit && now_s() - t0 < (double)max_time) {
        if (g_down) {
            g_down = 0;
            set_all(mc, (int)brokers, false);
            printf("twkafka: down: ok\n");
        }
        if (g_up) {
            g_up = 0;
            set_all(mc, (int)brokers, true);
            printf("twkafka: up: ok\n");
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, fd >= 0 ? 1 : 0, 100) <= 0 || !(pfd.revents & POLLIN))
            continue;
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            continue;
        have += (size_t)n;
        char *nl;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            *nl = 0;
            char line[4096], echo[4096];
            snprintf(line, sizeof line, "%s", buf);
            snprintf(echo, sizeof echo, "%s", buf);
            int r = command(mc, (int)brokers, line);
            if (r < 0)
                printf("twkafka: %s: bad command\n", echo);
            else if (echo[0])
                printf("twkafka: %s: ok\n", echo);
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, have - used);
            have -= used;
            if (r == 1)
                g_quit = 1;
        }
        if (have >= sizeof buf - 1) /* a line too long: drop it */
            have = 0;
    }
    if (fd >= 0)
        close(fd);
    unlink(port_file);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 1;
usage:
    fprintf(stderr, "usage: twkafka serve [--brokers N] --port-file F [--control FIFO] "
                    "[--topic NAME:PARTITIONS]... [--max-time S] [--debug CONTEXTS]\n");
    return 2;
}

/* ---- consume ---- */

struct part {
    const char *topic;
    int32_t id;
    bool eof;
};

static int cmd_consume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'n'},     {"timeout", required_argument, NULL, 'T'},
        {"out", required_argument, NULL, 'o'},       {NULL, 0, NULL, 0}};
    const char *boot = NULL, *out = NULL, *topics[MAX_TOPICS];
    size_t ntopics = 0;
    unsigned long count = 0, timeout = 30;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            boot = optarg;
            break;
        case 't':
            if (ntopics >= MAX_TOPICS)
                goto usage;
            topics[ntopics++] = optarg;
            break;
        case 'n':
            if (parse_uint(optarg, 100000000, &count) < 0)
                goto usage;
            break;
        case 'T':
            if (parse_uint(optarg, 3600, &timeout) < 0)
                goto usage;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!boot || !out || !ntopics || optind != argc)
        goto usage;

    char errstr[512], gid[64];
    snprintf(gid, sizeof gid, "twkafka-%ld-%ld", (long)getpid(), (long)time(NULL));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", boot},
                           {"group.id", gid},
                           {"enable.auto.commit", "false"},
                           {"enable.partition.eof", "true"},
                           {"auto.offset.reset", "earliest"},
                           {"fetch.wait.max.ms", "20"},
                           {"isolation.level", "read_uncommitted"},
                           {"log_level", "2"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof errstr) != 0) {
            fprintf(stderr, "twkafka: %s: %s\n", kv[i][0], errstr);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "twkafka: %s\n", errstr);
        return 1;
    }
    double t0 = now_s(), limit = (double)timeout;
    int rc = 1;
    FILE *f = NULL;
    struct part *parts = calloc(MAX_PARTS, sizeof *parts);
    size_t nparts = 0;
    if (!parts)
        goto done;
    /* Partition counts from the metadata (retried: the cluster may still be starting). */
    for (size_t t = 0; t < ntopics; t++) {
        int n = -1;
        while (n < 0 && now_s() - t0 < limit) {
            rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[t], NULL);
            const struct rd_kafka_metadata *md = NULL;
            if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, 2000) == 0) {
                if (md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0)
                    n = md->topics[0].partition_cnt;
                rd_kafka_metadata_destroy(md);
            }
            if (rkt)
                rd_kafka_topic_destroy(rkt);
            if (n < 0)
                usleep(100000);
        }
        if (n < 0) {
            fprintf(stderr, "twkafka: no metadata for topic %s\n", topics[t]);
            goto done;
        }
        for (int p = 0; p < n && nparts < MAX_PARTS; p++)
            parts[nparts++] = (struct part){topics[t], p, false};
    }
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new((int)nparts);
    for (size_t i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(tl, parts[i].topic, parts[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t ae = rd_kafka_assign(rk, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (ae) {
        fprintf(stderr, "twkafka: assign: %s\n", rd_kafka_err2str(ae));
        goto done;
    }
    f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "twkafka: %s: %s\n", out, strerror(errno));
        goto done;
    }
    unsigned long got = 0;
    size_t at_end = 0;
    while (now_s() - t0 < limit && !(got >= count && at_end == nparts)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (!m)
            continue;
        struct part *pp = NULL;
        const char *tn = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        for (size_t i = 0; i < nparts; i++)
            if (parts[i].id == m->partition && strcmp(parts[i].topic, tn) == 0)
                pp = &parts[i];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (pp && !pp->eof) {
                pp->eof = true;
                at_end++;
            }
        } else if (m->err) {
            fprintf(stderr, "twkafka: consume: %s\n", rd_kafka_message_errstr(m));
        } else {
            if (pp && pp->eof) {
                pp->eof = false;
                at_end--;
            }
            fprintf(f, "%s\t%.*s\t%.*s\n", tn, (int)m->key_len, m->key ? (char *)m->key : "",
                    (int)m->len, m->payload ? (char *)m->payload : "");
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    fprintf(stderr, "twkafka consume: %lu message(s) in %.1f s%s\n", got, now_s() - t0,
            got >= count ? "" : " (fewer than wanted: timeout)");
    rc = got >= count ? 0 : 1;
done:
    if (f && fclose(f) != 0)
        rc = 1;
    free(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
usage:
    fprintf(stderr, "usage: twkafka consume --bootstrap B --topic T [--topic T2]... [--count N] "
                    "[--timeout S] --out FILE\n");
    return 2;
}

/* ---- produce ---- */

static int delivered_ok;

static void produce_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (!m->err)
        delivered_ok++;
}

/* The next length-prefixed message at buf[at..n): its total length with the prefix, or 0. */
static size_t next_framed(const unsigned char *buf, size_t n, size_t at)
{
    unsigned long long len = 0;
    size_t j = at;
    for (unsigned shift = 0; j < n && shift < 64; shift += 7) {
        unsigned char b = buf[j++];
        len |= (unsigned long long)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return len <= n - j ? (size_t)(j - at + len) : 0;
    }
    return 0;
}

static int produce_file(const char *boot, const char *topic, int part, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static unsigned char buf[64 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", boot, err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, produce_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "twkafka: %s\n", err);
        return 1;
    }
    int sent = 0;
    for (size_t at = 0, len; at < n && (len = next_framed(buf, n, at)) > 0; at += len) {
        for (int tries = 0; tries < 3000; tries++) { /* a full local queue: at most 30 s */
            if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                  RD_KAFKA_V_VALUE((void *)(buf + at), len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 10);
        }
        sent++;
    }
    rd_kafka_flush(rk, 30000);
    rd_kafka_destroy(rk);
    printf("twkafka: produced %d, delivered %d\n", sent, delivered_ok);
    return sent == delivered_ok ? 0 : 1;
}

static int cmd_produce(int argc, char **argv)
{
    static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"partition", required_argument, NULL, 'p'},
                                         {"goflow2", required_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    const char *boot = NULL, *topic = NULL, *file = NULL;
    unsigned long part = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'b')
            boot = optarg;
        else if (c == 't')
            topic = optarg;
        else if (c == 'g')
            file = optarg;
        else if (c != 'p' || parse_uint(optarg, 100000, &part) < 0)
            goto usage;
    }
    if (!boot || !topic || !file)
        goto usage;
    return produce_file(boot, topic, (int)part, file);
usage:
    fprintf(stderr, "usage: twkafka produce --bootstrap B --topic T [--partition P] --goflow2 F\n");
    return 2;
}

/* ---- end: the topic's high watermarks, summed ---- */

static int topic_end(const char *boot, const char *topic, int tmo_ms)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", boot, errstr, sizeof errstr) != 0 ||
        rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr) != 0) {
        fprintf(stderr, "twkafka: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "twkafka: %s\n", errstr);
        return 1;
    }
    int rc = 1, n = -1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e =
        rkt ? rd_kafka_metadata(rk, 0, rkt, &md, tmo_ms) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (!e) {
        if (md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (n <= 0) {
        fprintf(stderr, "twkafka: topic %s: %s\n", topic,
                e ? rd_kafka_err2str(e) : "no partitions");
        goto done;
    }
    int64_t sum = 0;
    for (int p = 0; p < n; p++) {
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, tmo_ms);
        if (e) {
            fprintf(stderr, "twkafka: %s [%d]: %s\n", topic, p, rd_kafka_err2str(e));
            goto done;
        }
        sum += hi;
    }
    printf("%lld\n", (long long)sum);
    rc = 0;
done:
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

static int cmd_end(int argc, char **argv)
{
    static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"timeout", required_argument, NULL, 'T'},
                                         {NULL, 0, NULL, 0}};
    const char *boot = NULL, *topic = NULL;
    unsigned long timeout = 10;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'b')
            boot = optarg;
        else if (c == 't')
            topic = optarg;
        else if (c != 'T' || parse_uint(optarg, 3600, &timeout) < 0 || timeout == 0)
            goto usage;
    }
    if (!boot || !topic || optind != argc)
        goto usage;
    return topic_end(boot, topic, (int)timeout * 1000);
usage:
    fprintf(stderr, "usage: twkafka end --bootstrap B --topic T [--timeout S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "consume") == 0)
        return cmd_consume(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "produce") == 0)
        return cmd_produce(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "end") == 0)
        return cmd_end(argc - 1, argv + 1);
    fprintf(stderr, "usage: twkafka serve|consume|produce|end ... (see bench/twkafka.c)\n");
    return 2;
}
