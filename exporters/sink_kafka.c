/* sink_kafka.c: Kafka sink over a write-ahead spool (design in sink_kafka.h). */
#include "sink_kafka.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "spool.h"

enum { ST_NONE = 0, ST_INFLIGHT = 1, ST_ACKED = 2 };

struct sink_kafka {
    struct kafka_settings set;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[MSG_KIND_COUNT]; /* by kind; MSG_TOTALS: none */
    struct spool *sp;
    uint8_t *state; /* per sequence number in [lo, send): ST_* */
    uint64_t ring_mask;
    uint64_t window;  /* max send - lo */
    uint64_t lo;      /* lowest undelivered sequence number */
    uint64_t send;    /* next sequence number to produce */
    uint64_t hi_sent; /* sends below this are re-sends */
    bool paused;      /* a failure: wait for reports, then rewind to lo */
    bool stamp_fail;  /* take the failure time at the next poll */
    uint64_t fail_ms;
    bool fatal;
    bool degraded;               /* a failure was logged; cleared (and logged) by a delivery */
    bool err_logged;             /* error_cb logged this episode */
    int lib_log_quiet;           /* log_cb (librdkafka threads): a warning was logged; atomic */
    uint64_t lib_log_suppressed; /* warnings not logged since; atomic */
    uint64_t delivered_seen;     /* c.delivered at the last service(), for last_delivery */
    int log_reject;
    int flow_parts;          /* partitions of topic_flows (ticks), 0 = not known yet */
    uint64_t parts_asked_ms; /* when the metadata was last asked for */
    struct kafka_counters c;
};

/* ---- configuration ---- */

static int parse_fsync(void *field, const char *value, char *msg, size_t msglen)
{
    int *f = field;
    if (strcmp(value, "never") == 0)
        *f = SPOOL_FSYNC_NEVER;
    else if (strcmp(value, "batch") == 0)
        *f = SPOOL_FSYNC_BATCH;
    else if (strcmp(value, "always") == 0)
        *f = SPOOL_FSYNC_ALWAYS;
    else {
        snprintf(msg, msglen, "spool_fsync: expected never, batch or always");
        return -EINVAL;
    }
    return 0;
}

#define KOFF(f) offsetof(struct kafka_settings, f)
#define KSZ(f) sizeof(((struct kafka_settings *)0)->f)
const struct conf_key kafka_conf_keys[] = {
    {"brokers", CONF_STR, KOFF(brokers), KSZ(brokers), 1, 0, "",
     "bootstrap brokers host:port[,host:port...]; empty: Kafka off", NULL},
    {"topic_alerts", CONF_STR, KOFF(topic_alerts), KSZ(topic_alerts), 1, 0, "transitwatch.alerts",
     "topic for alerts (key: customer id)", NULL},
    {"topic_summaries", CONF_STR, KOFF(topic_summaries), KSZ(topic_summaries), 1, 0,
     "transitwatch.summaries", "topic for customer summaries (key: customer id)", NULL},
    {"topic_flows", CONF_STR, KOFF(topic_flows), KSZ(topic_flows), 1, 0, "transitwatch.flows",
     "transitwatch collect: topic for flow records (collector/proto/flow.proto; key: customer "
     "id); detect --from-kafka reads it",
     NULL},
    {"topic_prevalence", CONF_STR, KOFF(topic_prevalence), KSZ(topic_prevalence), 0, 0,
     "transitwatch.prevalence",
     "detect --from-kafka: topic (its partition 0) where the instances exchange the beacon "
     "detector's prevalence entries each window, so several instances decide as one process; "
     "empty: not shared (each instance sees only its customers' hosts)",
     NULL},
    {"group_id", CONF_STR, KOFF(group_id), KSZ(group_id), 1, 0, "transitwatch-detect",
     "detect --from-kafka: the consumer group every detect instance joins", NULL},
    {"instance_id", CONF_STR, KOFF(instance_id), KSZ(instance_id), 0, 0, "",
     "detect --from-kafka: group.instance.id, unique per instance (static membership: a restart "
     "within the session timeout keeps its partitions); empty: dynamic membership",
     NULL},
    {"input", CONF_STR, KOFF(input), KSZ(input), 1, 0, "transitwatch",
     "detect --from-kafka: what topic_flows holds: transitwatch (collect's records, "
     "collector/proto/flow.proto) or goflow2 (GoFlow2's protobuf FlowMessage)",
     NULL},
    {"partition_idle_ms", CONF_U32, KOFF(partition_idle_ms), 0, 0, 3600000, "60000",
     "detect --from-kafka: a partition at its end that has not yet brought the collector's tick "
     "of the next window holds window close back this long at most (a lost tick, a collector "
     "gone); records it brings later count as late. One not at its end that brings nothing this "
     "long while others hold their next window for it (its leader gone) degrades /healthz",
     NULL},
    {"replay_horizon", CONF_DURATION, KOFF(replay_horizon), 0, 0, 86400, "1h",
     "detect --from-kafka: the committed offsets lag the released window by this much event "
     "time (at most 288 windows), so the new owner of a partition (a crash, a rebalance) re-reads "
     "it and rebuilds the detectors' history of that span: beacon.fast and scan's hour view come "
     "out as one process gives them; 0: commit each window as it closes (re-read at most one)",
     NULL},
    {"dedup_messages", CONF_U32, KOFF(dedup_messages), 0, 0, 16777216, "1000000",
     "detect --from-kafka and report --kafka: a message byte-identical to one of the last this "
     "many read (detect: from the same partition) is a copy the Kafka sink sent again after a "
     "failed delivery or a restart, and is skipped and counted (kafka_in_resent_skipped_total); "
     "keep it "
     "at least the collectors' queue_max_messages; 44 bytes each; 0: off",
     NULL},
    {"lag_max", CONF_U64, KOFF(lag_max), 0, 0, 1e15, "1000000",
     "detect --from-kafka: /healthz is degraded while the records not yet read exceed this "
     "(0: never)",
     NULL},
    {"properties", CONF_STR, KOFF(properties), KSZ(properties), 1, 0, "",
     "librdkafka properties name=value, ';' or ',' separated (e.g. security.protocol=ssl; "
     "ssl.ca.location=/etc/ca.pem); applied last, so they override the defaults",
     NULL},
    {"queue_max_messages", CONF_U32, KOFF(queue_max_messages), 0, 16, 1000000, "100000",
     "messages outstanding towards Kafka at most; beyond, they wait in the spool", NULL},
    {"spool_dir", CONF_PATH, KOFF(spool_dir), KSZ(spool_dir), 1, 0, "/var/lib/transitwatch/spool",
     "write-ahead spool directory (one process each)", NULL},
    {"spool_max_bytes", CONF_BYTES, KOFF(spool_max_bytes), 0, 262144, 1099511627776.0, "1G",
     "spool size bound; past it new messages are lost and counted (spool_lost)", NULL},
    {"spool_fsync", CONF_CUSTOM, KOFF(spool_fsync), 0, 1, 0, "batch",
     "never (survives a process crash only) | batch (fdatasync every spool_fsync_ms) | always",
     parse_fsync},
    {"spool_fsync_ms", CONF_U32, KOFF(spool_fsync_ms), 0, 1, 3600000, "1000",
     "batch fsync interval in milliseconds (the power-cut loss window)", NULL},
    {"spool_block_bytes", CONF_BYTES, KOFF(spool_block_bytes), 0, 0, 16777216, "0",
     "0: write every message at once (survives SIGKILL); >0: group messages into blocks of "
     "this size, written at least every poll (faster, a crash loses the last poll interval)",
     NULL},
    {"flush_timeout", CONF_DURATION, KOFF(flush_timeout), 0, 0, 3600, "10s",
     "at shutdown and end of replay, wait this long for delivery; the rest stays spooled", NULL},
    {"retry_interval", CONF_DURATION, KOFF(retry_interval), 0, 0, 3600, "5s",
     "after a failed delivery, wait this long before re-sending from the spool", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* Split "a=1; b=2,c=3" into name=value pairs. A ',' separates only when a "name=" follows,
 * so list values such as "debug=broker,topic" stay whole. 0, -ENOMEM or -EINVAL with err. */
static int apply_properties(rd_kafka_conf_t *conf, const char *props, char *err, size_t errlen)
{
    size_t n = strlen(props);
    char *buf = malloc(n + 1);
    if (!buf) {
        snprintf(err, errlen, "kafka: out of memory");
        return -ENOMEM;
    }
    memcpy(buf, props, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != ',')
            continue;
        size_t j = i + 1;
        while (j < n && isspace((unsigned char)buf[j]))
            j++;
        size_t k = j;
        while (k < n &&
               (isalnum((unsigned char)buf[k]) || buf[k] == '.' || buf[k] == '_' || buf[k] == '-'))
            k++;
        while (k < n && isspace((unsigned char)buf[k]))
            k++;
        if (k > j && k < n && buf[k] == '=')
            buf[i] = ';';
    }
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        char *name = conf_trim(tok);
        if (!*name)
            continue;
        if (!eq) {
            snprintf(err, errlen, "kafka properties: '%s' is not name=value", name);
            rc = -EINVAL;
            break;
        }
        *eq = 0;
        name = conf_trim(name);
        char *val = conf_trim(eq + 1);
        char e[256];
        if (rd_kafka_conf_set(conf, name, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka property %s: %s", name, e);
            rc = -EINVAL;
            break;
        }
    }
    free(buf);
    return rc;
}

/* ---- producer ---- */

static bool poison_error(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           e == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

static void advance_lo(struct sink_kafka *k)
{
    uint64_t lo = k->lo;
    while (lo < k->send && k->state[lo & k->ring_mask] == ST_ACKED)
        k->state[lo++ & k->ring_mask] = ST_NONE;
    if (lo != k->lo) {
        k->lo = lo;
        spool_ack(k->sp, lo);
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct sink_kafka *k = opaque;
    if (m->_private == (void *)UINTPTR_MAX) { /* a tick copy (send_tick): counted, not re-sent */
        if (m->err)
            k->c.ticks_failed++;
        else
            k->c.ticks_delivered++;
        return;
    }
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    if (seq < k->lo || seq >= k->send || k->state[seq & k->ring_mask] != ST_INFLIGHT)
        return; /* not ours any more (cannot happen: rewinds wait for every report) */
    k->c.inflight--;
    if (!m->err) {
        if (k->degraded || k->err_logged) {
            uint64_t quiet = __atomic_exchange_n(&k->lib_log_suppressed, 0, __ATOMIC_RELAXED);
            log_info("kafka: delivering again; re-sending the spooled backlog (%llu librdkafka "
                     "warnings were not logged)",
                     (unsigned long long)quiet);
            k->degraded = false;
            k->err_logged = false;
            __atomic_store_n(&k->lib_log_quiet, 0, __ATOMIC_RELAXED);
        }
        k->c.delivered++;
        k->state[seq & k->ring_mask] = ST_ACKED;
        return;
    }
    k->c.failed++;
    if (poison_error(m->err)) {
        k->c.rejected++;
        k->state[seq & k->ring_mask] = ST_ACKED; /* can never be delivered: counted, dropped */
        if (tw_log_once(&k->log_reject))
            log_error("kafka: message rejected (%s); dropped and counted (logged once)",
                      rd_kafka_err2str(m->err));
        return;
    }
    k->state[seq & k->ring_mask] = ST_NONE;
    if (!k->degraded)
        log_warn("kafka: delivery failed (%s): keeping messages in the spool to re-send",
                 rd_kafka_err2str(m->err));
    k->degraded = true;
    if (!k->paused) {
        k->paused = true;
        k->stamp_fail = true;
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sink_kafka *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        log_error("kafka: fatal producer error %s: %s; re-creating the producer",
                  rd_kafka_err2name(orig), buf);
        k->fatal = true;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        k->c.brokers_up = 0;
    k->c.errors++;
    if (!k->err_logged) /* once per episode: until a delivery succeeds again */
        log_warn("kafka: %s: %s (further errors counted, logged again after a delivery)",
                 rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    k->err_logged = true;
}

/* librdkafka's own log lines, from its threads: a broker that refuses connections repeats
 * "Connect to ... failed" every second, so warnings are logged once per episode (until a
 * delivery succeeds again) and the rest only counted. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct sink_kafka *k = rd_kafka_opaque(rk);
    enum tw_log_level l = level <= 3 ? TW_LOG_WARN : level <= 5 ? TW_LOG_INFO : TW_LOG_DEBUG;
    if (k && l == TW_LOG_WARN) {
        if (__atomic_exchange_n(&k->lib_log_quiet, 1, __ATOMIC_RELAXED)) {
            __atomic_add_fetch(&k->lib_log_suppressed, 1, __ATOMIC_RELAXED);
            return;
        }
        tw_log(l,
               "kafka %s: %s (further librdkafka warnings suppressed until a delivery "
               "succeeds)",
               fac, buf);
        return;
    }
    tw_log(l, "kafka %s: %s", fac, buf);
}

/* Statistics (every statistics.interval.ms, served by rd_kafka_poll on the pipeline thread):
 * count the brokers librdkafka knows and those UP, leaving out its internal pseudo-broker. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)len;
    struct sink_kafka *k = opaque;
    const char *b = strstr(json, "\"brokers\"");
    uint64_t up = 0, all = 0;
    while (b && (b = strstr(b, "\"source\":")) != NULL) {
        b += 9;
        while (*b == ' ' || *b == '"')
            b++;
        bool internal = strncmp(b, "internal", 8) == 0;
        const char *st = strstr(b, "\"state\":");
        if (!st)
            break;
        st += 8;
        while (*st == ' ' || *st == '"')
            st++;
        if (!internal) {
            all++;
            up += strncmp(st, "UP", 2) == 0;
        }
        b = st;
    }
    k->c.brokers = all;
    k->c.brokers_up = up;
    return 0; /* json is librdkafka's to free */
}

/* sink_kafka.h. */
void *kafka_conf_build(const char *const (*defs)[2], size_t n, const char *props, char *err,
                       size_t errlen)
{
    char e[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_conf_set(conf, defs[i][0], defs[i][1], e, sizeof e) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka %s: %s", defs[i][0], e);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    if (apply_properties(conf, props, err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

void *kafka_client_new(bool consumer, void *conf, const char *what, char *err, size_t errlen)
{
    char e[512];
    rd_kafka_t *rk =
        rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "kafka %s: %s", what, e);
        return NULL;
    }
    return rk;
}

/* The producer configuration: our defaults, then the operator's properties. NULL with err.
 * Also what sink_kafka_check() (--check-config) runs. */
static rd_kafka_conf_t *build_conf(const struct kafka_settings *set, uint64_t window, char *err,
                                   size_t errlen)
{
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)window);
    const char *defs[][2] = {
        {"bootstrap.servers", set->brokers},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"queue.buffering.max.messages", num},
        {"linger.ms", "5"},
        {"compression.codec", "lz4"},
        {"client.id", "transitwatch"},
        {"statistics.interval.ms", "5000"}, /* broker states for /metrics (stats_cb) */
    };
    return kafka_conf_build(defs, sizeof defs / sizeof defs[0], set->properties, err, errlen);
}

int sink_kafka_check(const struct kafka_settings *s, char *err, size_t errlen)
{
    if (!s->topic_alerts[0] || !s->topic_summaries[0] || !s->topic_flows[0] || !s->spool_dir[0]) {
        snprintf(err, errlen, "kafka: topics and spool_dir must be set");
        return -EINVAL;
    }
    rd_kafka_conf_t *conf = build_conf(s, s->queue_max_messages, err, errlen);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_destroy(conf);
    return 0;
}

static int make_producer(struct sink_kafka *k, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = build_conf(&k->set, k->window, err, errlen);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (!(k->rk = kafka_client_new(false, conf, "producer", err, errlen)))
        return -EINVAL;
    k->rkt[MSG_ALERT] = rd_kafka_topic_new(k->rk, k->set.topic_alerts, NULL);
    k->rkt[MSG_SUMMARY] = rd_kafka_topic_new(k->rk, k->set.topic_summaries, NULL);
    k->rkt[MSG_FLOW] = rd_kafka_topic_new(k->rk, k->set.topic_flows, NULL);
    if (!k->rkt[MSG_ALERT] || !k->rkt[MSG_SUMMARY] || !k->rkt[MSG_FLOW]) {
        snprintf(err, errlen, "kafka: topic: %s", rd_kafka_err2str(rd_kafka_last_error()));
        return -EINVAL;
    }
    return 0;
}

/* Hand back what librdkafka holds (its reports mark it undelivered) and close the producer. */
static void close_producer(struct sink_kafka *k)
{
    if (!k->rk)
        return;
    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int i = 0; i < 100 && k->c.inflight > 0; i++)
        rd_kafka_poll(k->rk, i ? 10 : 0);
    for (int t = 0; t < MSG_KIND_COUNT; t++) {
        if (k->rkt[t])
            rd_kafka_topic_destroy(k->rkt[t]);
        k->rkt[t] = NULL;
    }
    rd_kafka_destroy(k->rk);
    k->rk = NULL;
    /* Reports that never came: those messages count as not delivered. */
    for (uint64_t s = k->lo; s < k->send; s++)
        if (k->state[s & k->ring_mask] == ST_INFLIGHT)
            k->state[s & k->ring_mask] = ST_NONE;
    if (k->c.inflight)
        k->paused = true;
    k->c.inflight = 0;
    k->c.ticks_failed = k->c.ticks - k->c.ticks_delivered; /* tick copies purged unreported */
}

/* A tick (MSG_FLOW_TICK) to every partition of topic_flows; a copy is not re-sent (a lost one
 * only delays window close by partition_idle on the consumers; counted: ticks_dropped when the
 * local queue refuses it, ticks_failed when its delivery fails, dr_cb), but the
 * tick waits in the spool, in order, until the partition count is known: from the topic's
 * metadata, asked for (200 ms at most) at most every retry_interval. false: not yet. */
static bool send_tick(struct sink_kafka *k, const struct spool_rec *r)
{
    uint64_t now = clock_mono_ms();
    if (!k->flow_parts &&
        (!k->parts_asked_ms || now - k->parts_asked_ms >= k->set.retry_interval * 1000u)) {
        const struct rd_kafka_metadata *md = NULL;
        k->parts_asked_ms = now;
        if (rd_kafka_metadata(k->rk, 0, k->rkt[MSG_FLOW], &md, 200) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0)
            k->flow_parts = md->topics[0].partition_cnt;
        if (md)
            rd_kafka_metadata_destroy(md);
    }
    if (!k->flow_parts)
        return false;
    for (int32_t part = 0; part < k->flow_parts; part++)
        if (rd_kafka_producev(k->rk, RD_KAFKA_V_RKT(k->rkt[MSG_FLOW]), RD_KAFKA_V_PARTITION(part),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE((void *)(uintptr_t)r->data, r->len),
                              RD_KAFKA_V_OPAQUE((void *)UINTPTR_MAX), RD_KAFKA_V_END))
            k->c.ticks_dropped++;
        else
            k->c.ticks++;
    return true;
}

/* Produce from the spool, in order, as far as the window allows. now: 0 = do not rewind. */
static void pump(struct sink_kafka *k, uint64_t now)
{
    if (!k->rk)
        return;
    if (k->paused) {
        if (k->c.inflight > 0 || now == 0 || k->stamp_fail ||
            now - k->fail_ms < k->set.retry_interval * 1000u)
            return;
        /* Every report is back: re-send everything from the ack point, in order (also what
         * was delivered out of order behind a failure, so per key the last copies are in
         * order). */
        for (uint64_t s = k->lo; s < k->send; s++)
            k->state[s & k->ring_mask] = ST_NONE;
        k->send = k->lo;
        k->paused = false;
        k->c.retries++;
    }
    uint64_t committed = spool_committed(k->sp);
    while (k->send < committed && k->send - k->lo < k->window) {
        struct spool_rec r;
        int got = spool_get(k->sp, k->send, &r);
        if (r.seq > k->send) { /* a gap left by spool damage: nothing to send there */
            if (k->lo != k->send)
                break; /* jump once everything before it is settled */
            k->lo = k->send = r.seq;
            spool_ack(k->sp, k->lo);
        }
        if (got != 1)
            break;
        /* A tick waits for every message before it to be acknowledged (a barrier at each window
         * of the flows): a batch of the window before that fails and is re-sent then still
         * arrives ahead of the tick on its partition, not behind it (where consumers would count
         * its records late, in the next window). One round trip per window. */
        if (r.kind == MSG_FLOW_TICK) {
            advance_lo(k);
            if (k->lo != k->send || !send_tick(k, &r))
                break; /* not yet, or the partition count is not known: the next poll again */
        }
        if (r.kind >= MSG_KIND_COUNT || !k->rkt[r.kind]) {
            k->state[r.seq & k->ring_mask] = ST_ACKED;
            k->send++;
            continue;
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(k->rkt[r.kind]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)(uintptr_t)r.data, r.len),
            RD_KAFKA_V_KEY(r.keylen ? r.key : NULL, r.keylen),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r.seq), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            k->c.queue_full++;
            break;
        }
        if (e) {
            k->c.failed++;
            if (poison_error(e)) {
                k->c.rejected++;
                k->state[r.seq & k->ring_mask] = ST_ACKED;
                k->send++;
                if (tw_log_once(&k->log_reject))
                    log_error("kafka: message rejected (%s); dropped and counted (logged once)",
                              rd_kafka_err2str(e));
                continue;
            }
            if (!k->degraded)
                log_warn("kafka: produce failed (%s); re-sending later", rd_kafka_err2str(e));
            k->degraded = true;
            k->paused = true;
            k->stamp_fail = true;
            break;
        }
        k->state[r.seq & k->ring_mask] = ST_INFLIGHT;
        k->c.inflight++;
        k->c.queued++;
        if (r.seq < k->hi_sent)
            k->c.resent++;
        else
            k->hi_sent = r.seq + 1;
        k->send++;
    }
    advance_lo(k);
}

static void service(struct sink_kafka *k, uint64_t now)
{
    if (k->fatal) {
        char err[256];
        close_producer(k);
        k->fatal = false;
        k->paused = true;
        k->stamp_fail = true;
        k->c.producer_restarts++;
        if (make_producer(k, err, sizeof err) < 0)
            log_error("%s (retrying at the next poll)", err), k->fatal = true;
    }
    if (k->stamp_fail) {
        k->fail_ms = now;
        k->stamp_fail = false;
    }
    if (k->c.delivered != k->delivered_seen) { /* one clock read per poll, not per message */
        k->delivered_seen = k->c.delivered;
        k->c.last_delivery_unix = (uint64_t)time(NULL);
    }
    advance_lo(k);
    spool_commit(k->sp);
    pump(k, now);
    spool_tick(k->sp, now);
}

/* ---- sink ops ---- */

static int kafka_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                         const char *json, size_t len)
{
    struct sink_kafka *k = self;
    if (kind != MSG_ALERT && kind != MSG_SUMMARY && kind != MSG_FLOW && kind != MSG_FLOW_TICK) {
        k->c.skipped++;
        return 0;
    }
    uint64_t seq;
    int rc = spool_append(k->sp, (uint8_t)kind, key, keylen, json, len, &seq);
    if (rc < 0)
        return rc; /* counted by the spool (spool_lost) */
    k->c.published++;
    if (!k->paused && spool_committed(k->sp) > k->send)
        pump(k, 0); /* a block was just committed: hand it over */
    return 0;
}

static void kafka_poll(void *self)
{
    struct sink_kafka *k = self;
    if (k->rk)
        rd_kafka_poll(k->rk, 0);
    service(k, clock_mono_ms());
}

static int kafka_flush(void *self, int timeout_ms)
{
    struct sink_kafka *k = self;
    uint64_t t0 = clock_mono_ms(), now = t0;
    spool_commit(k->sp);
    for (;;) {
        if (k->rk)
            rd_kafka_poll(k->rk, 0);
        service(k, now);
        /* done when everything is acknowledged, the tick copies too (best effort: they are
         * not in the spool; the last window's tick would go with the producer otherwise) */
        bool ticks_out = k->c.ticks == k->c.ticks_delivered + k->c.ticks_failed;
        if ((k->lo >= spool_committed(k->sp) && ticks_out) || timeout_ms <= 0 ||
            now - t0 >= (uint64_t)timeout_ms)
            break;
        if (k->rk)
            rd_kafka_poll(k->rk, 10);
        now = clock_mono_ms();
    }
    if (k->lo >= spool_committed(k->sp))
        return 0;
    /* The rest stays in the spool: say so, a lab replay ends here. */
    log_warn("kafka: %llu message(s) not delivered within %d ms stay in the spool %s and are sent "
             "at the next start",
             (unsigned long long)(spool_committed(k->sp) - k->lo), timeout_ms, k->set.spool_dir);
    return -ETIMEDOUT;
}

static void fill_counters(const struct sink_kafka *k, struct kafka_counters *c)
{
    struct spool_stats st;
    spool_get_stats(k->sp, &st);
    *c = k->c;
    c->backlog = st.head - k->lo;
    c->spool_bytes = st.bytes;
    c->spool_max_bytes = st.max_bytes;
    c->spool_lost = st.lost;
    c->spool_lost_episodes = st.lost_episodes;
    c->spool_corrupt = st.corrupt_blocks;
    c->spool_recovered = st.recovered;
    c->spool_segments = st.segments;
    c->spool_write_errors = st.write_errors;
}

#define T struct kafka_counters
static const struct ctr_def kafka_defs[] = {KAFKA_COUNTERS(CTR_ROW, CTR_ALIAS)};
#undef T
#define KAFKA_NDEFS (sizeof kafka_defs / sizeof kafka_defs[0])
_Static_assert(sizeof(struct kafka_counters) <= SINK_SNAP_MAX, "snapshot too large");

static void kafka_stats(void *self, struct json *j)
{
    struct kafka_counters c;
    fill_counters(self, &c);
    ctr_json(j, kafka_defs, KAFKA_NDEFS, &c);
}

static size_t kafka_counters_op(void *self, const struct ctr_def **defs, void *snap)
{
    fill_counters(self, snap);
    *defs = kafka_defs;
    return KAFKA_NDEFS;
}

static void kafka_health(void *self, struct sink_health *h)
{
    struct sink_kafka *k = self;
    struct kafka_counters c;
    fill_counters(k, &c);
    h->delivers = true;
    h->waiting = c.backlog;
    h->last_delivery_unix = c.last_delivery_unix;
    h->spool_bytes = c.spool_bytes;
    h->spool_max_bytes = c.spool_max_bytes;
    h->lost = c.spool_lost + c.rejected;
}

static void kafka_destroy(void *self)
{
    struct sink_kafka *k = self;
    if (!k)
        return;
    if (k->sp)
        spool_commit(k->sp);
    close_producer(k);
    if (k->sp) {
        advance_lo(k);
        spool_close(k->sp); /* persists the ack point; the rest is re-sent at the next start */
    }
    free(k->state);
    free(k);
}

static const struct sink_ops kafka_ops = {
    .name = "kafka",
    .publish = kafka_publish,
    .poll = kafka_poll,
    .flush = kafka_flush,
    .reopen = NULL,
    .stats_json = kafka_stats,
    .health = kafka_health,
    .counters = kafka_counters_op,
    .destroy = kafka_destroy,
};

int sink_kafka_counters(const struct sink *s, struct kafka_counters *c)
{
    if (!s || s->ops != &kafka_ops)
        return -EINVAL;
    fill_counters(s->self, c);
    return 0;
}

int sink_kafka_new(const struct kafka_settings *s, struct sink *out, char *err, size_t errlen)
{
    if (!s->brokers[0] || !s->topic_alerts[0] || !s->topic_summaries[0] || !s->topic_flows[0] ||
        !s->spool_dir[0]) {
        snprintf(err, errlen, "kafka: brokers, topics and spool_dir must be set");
        return -EINVAL;
    }
    struct sink_kafka *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "kafka: out of memory");
        return -ENOMEM;
    }
    int rc = -ENOMEM;
    k->set = *s;
    k->window = s->queue_max_messages ? s->queue_max_messages : 100000;
    uint64_t ring = 1;
    while (ring < k->window)
        ring <<= 1;
    k->ring_mask = ring - 1;
    k->state = calloc(ring, 1);
    struct spool_opts so = {.dir = s->spool_dir,
                            .max_bytes = s->spool_max_bytes,
                            .fsync = (enum spool_fsync)s->spool_fsync,
                            .fsync_ms = s->spool_fsync_ms,
                            .zlevel = -1,
                            .block_bytes =
                                s->spool_block_bytes ? (uint32_t)s->spool_block_bytes : 1u};
    if (!k->state) {
        snprintf(err, errlen, "kafka: out of memory");
        goto fail;
    }
    rc = spool_open(&so, &k->sp, err, errlen);
    if (rc < 0) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (set [kafka] spool_dir, or replay --spool-dir DIR)");
        goto fail;
    }
    k->lo = k->send = spool_acked(k->sp);
    k->hi_sent = spool_committed(k->sp); /* what a previous run left is a re-send */
    rc = make_producer(k, err, errlen);
    if (rc < 0)
        goto fail;
    out->ops = &kafka_ops;
    out->self = k;
    return 0;
fail:
    kafka_destroy(k);
    return rc;
}
