/* test_kafka_in: the Kafka consumer source (collector/sources/kafka_in.c) against librdkafka's
 * mock cluster with a real consumer group: every record of a partition goes on once, also when
 * librdkafka positions the partition again by itself after records were handed on (under a
 * loaded group coordinator: the late fetch start of an assignment, after the source's own
 * rewind had read on), which would count a window's records twice; and also when the Kafka
 * sink (the real one, as `collect` runs it) re-sent records after a delivery failure the mock
 * injected: each window gets exactly the records published, as without the failure, while a
 * consumer with the recognition off (dedup_messages = 0) counts the copies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clock.h"
#include "flowpb.h"
#include "kafka_in.h"
#include "sink_kafka.h"
#include "tmpdir_test_util.h"

#define TOPIC "tf"
#define NREC 40
#define WIN_MS 300000ull
#define W0 1221868800000ull /* 2008-09-20 00:00 UTC */

struct seen {
    uint64_t records, ticks, resets;
    uint64_t by_window[2]; /* records of W0 and of W0 + WIN_MS */
};

static void on_part(void *arg, struct flow_rec *f, const struct flowpb_meta *m)
{
    (void)f;
    struct seen *s = arg;
    if (m->part == FLOWPB_PART_TICK) {
        s->ticks++;
        return;
    }
    s->records++;
    if (m->window_start_ms == W0 || m->window_start_ms == W0 + WIN_MS)
        s->by_window[(m->window_start_ms - W0) / WIN_MS]++;
}

static int on_reset(void *arg)
{
    ((struct seen *)arg)->resets++;
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* nrec records of window win to partition part, then (tickwin, 0: none) the collector's tick
 * of window tickwin. */
static void produce_win(const char *boot, int32_t part, int nrec, uint64_t win, uint64_t tickwin)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", boot, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(p);
    uint8_t buf[512];
    for (int i = 0; i < nrec + (tickwin != 0); i++) {
        struct flow_rec f = {.bytes = 100 + (uint64_t)i,
                             .packets = 1,
                             .sampling = 1,
                             .proto = 6,
                             .sport = 40000,
                             .dport = 443};
        f.src[10] = f.src[11] = f.dst[10] = f.dst[11] = 0xff;
        f.src[12] = 192, f.src[15] = 1, f.dst[12] = 198, f.dst[15] = (uint8_t)i;
        f.first_ms = f.last_ms = win + 1000 * (uint64_t)i;
        struct flowpb_meta m = {
            .part = FLOWPB_PART_ALL, .window_start_ms = win, .watermark_ms = f.last_ms};
        if (i == nrec) { /* the tick: the collector's window moved on */
            m.part = FLOWPB_PART_TICK;
            m.window_start_ms = m.watermark_ms = tickwin;
        }
        int n = flowpb_encode(&f, &m, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(part),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_VALUE(buf, (size_t)n), RD_KAFKA_V_END),
                         0);
    }
    assert_int_equal(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

/* nrec records of window W0 to partition part, then (tick) the collector's tick of the next
 * window. */
static void produce_to(const char *boot, int32_t part, int nrec, bool tick)
{
    produce_win(boot, part, nrec, W0, tick ? W0 + WIN_MS : 0);
}

/* A mock cluster of n brokers (on *mrk, its handle). */
static rd_kafka_mock_cluster_t *mock_up(int n, rd_kafka_t **mrk)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(*mrk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(*mrk, n);
    assert_non_null(mc);
    return mc;
}

/* A mock cluster of one broker with topic TOPIC of nparts partitions, produce()'s messages in
 * partition 0. */
static rd_kafka_mock_cluster_t *mock_produced(int nparts, rd_kafka_t **mrk)
{
    rd_kafka_mock_cluster_t *mc = mock_up(1, mrk);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC, nparts, 1), 0);
    produce_to(rd_kafka_mock_cluster_bootstraps(mc), 0, NREC, true);
    return mc;
}

/* Group g's committed offset of TOPIC's partition part set to off (as an earlier instance of
 * the group leaves it), by a consumer that commits without joining. */
static void commit_offset(const char *boot, const char *g, int32_t part, int64_t off)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", boot, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", g, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, TOPIC, part)->offset = off;
    assert_int_equal(rd_kafka_commit(c, l, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

/* The defaults with the brokers and topic_flows set. */
static void base_settings(struct kafka_settings *ks, const char *boot, const char *topic)
{
    assert_int_equal(conf_defaults(kafka_conf_keys, ks), 0);
    snprintf(ks->brokers, sizeof ks->brokers, "%s", boot);
    snprintf(ks->topic_flows, sizeof ks->topic_flows, "%s", topic);
}

/* A consumer's settings: group g, the mock's group timing, the extra properties. */
static void group_settings(struct kafka_settings *ks, const char *boot, const char *topic,
                           const char *g, const char *extra)
{
    base_settings(ks, boot, topic);
    snprintf(ks->group_id, sizeof ks->group_id, "%s", g);
    snprintf(ks->properties, sizeof ks->properties,
             "session.timeout.ms=6000; heartbeat.interval.ms=500; log_level=2%s%s",
             *extra ? "; " : "", extra);
}

/* Drain until cond holds (at most ms). */
static bool drain_until(struct source *src, int ms, bool (*cond)(struct source *, struct seen *),
                        struct seen *s)
{
    for (int t = 0; t < ms; t += 20) {
        int rc = src->ops->drain(src, 4096);
        assert_true(rc >= 0);
        if (cond(src, s))
            return true;
        sleep_ms(20);
    }
    return false;
}

static bool all_read(struct source *src, struct seen *s)
{
    (void)src;
    return s->records >= NREC && s->ticks >= 1;
}

static bool all_read_never(struct source *src, struct seen *s)
{
    (void)src;
    (void)s;
    return false;
}

static bool read_again(struct source *src, struct seen *s)
{
    struct kafka_in_stats st;
    kafka_in_source_stats(src, &st);
    return s->records > NREC || st.redelivered >= NREC;
}

static void test_redelivery_dropped(void **state)
{
    (void)state;
    char err[256];
    rd_kafka_t *mrk = NULL;
    rd_kafka_mock_cluster_t *mc = mock_produced(1, &mrk);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);

    struct kafka_settings ks;
    group_settings(&ks, boot, TOPIC, "g", "");
    struct seen s = {0};
    struct source_out out = {.part = on_part, .arg = &s};
    struct kafka_in_opts o = {
        .ks = &ks, .window_ms = WIN_MS, .hooks = {.reset = on_reset, .arg = &s}};
    struct source *src = NULL;
    int rc = kafka_in_source_open(&o, &out, &src, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);

    /* the group is joined (the mock answers the first join after 3 s), every record goes on
     * once and the tick of the next window releases it */
    assert_true(drain_until(src, 30000, all_read, &s));
    assert_int_equal(s.records, NREC);
    uint64_t resets = s.resets;

    /* librdkafka positions the partition at its start by itself (as the late fetch start of an
     * assignment does): every record is delivered again */
    assert_int_equal(kafka_in_source_test_seek(src, 0, 0), 0);
    assert_true(drain_until(src, 20000, read_again, &s));
    drain_until(src, 1000, all_read, &s); /* whatever else came */
    struct kafka_in_stats st;
    kafka_in_source_stats(src, &st);
    assert_int_equal(s.records, NREC); /* nothing went on twice */
    assert_int_equal(st.records, NREC);
    assert_true(st.redelivered >= NREC);
    assert_int_equal(s.resets, resets); /* no rebalance: nothing was dropped either */

    src->ops->close(src);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

/* A record (or tick) of a window far beyond the wall clock is no collector's (corrupt, hostile):
 * refused and counted. Held, it stalled its partition until every other window passed it,
 * then became the released window for good: here, after W0's records and tick, one record
 * 100 years ahead, then W1's records and the tick of W2: W1's records went on as late, in the
 * window of 2108, and the partition's windows never closed again. */
static bool future_read(struct source *src, struct seen *s)
{
    (void)src;
    return s->records >= 2 * NREC && s->ticks >= 2;
}

static void test_future_window_refused(void **state)
{
    (void)state;
    char err[256];
    rd_kafka_t *mrk = NULL;
    rd_kafka_mock_cluster_t *mc = mock_produced(1, &mrk);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    produce_win(boot, 0, 1, W0 + 100ull * 365 * 86400000, 0);
    produce_win(boot, 0, NREC, W0 + WIN_MS, W0 + 2 * WIN_MS);

    struct kafka_settings ks;
    group_settings(&ks, boot, TOPIC, "gf", "");
    struct seen s = {0};
    struct source_out out = {.part = on_part, .arg = &s};
    struct kafka_in_opts o = {
        .ks = &ks, .window_ms = WIN_MS, .hooks = {.reset = on_reset, .arg = &s}};
    struct source *src = NULL;
    int rc = kafka_in_source_open(&o, &out, &src, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_true(drain_until(src, 30000, future_read, &s));
    drain_until(src, 500, all_read_never, &s); /* whatever else came */
    struct kafka_in_stats st;
    kafka_in_source_stats(src, &st);
    assert_int_equal(s.records, 2 * NREC);
    assert_int_equal(s.by_window[0], NREC);
    assert_int_equal(s.by_window[1], NREC);
    assert_int_equal(st.bad_records, 1);
    assert_int_equal(st.late_records, 0);
    assert_int_equal(st.released_s, (W0 + 2 * WIN_MS) / 1000);

    src->ops->close(src);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

/* "Read to its end" (release_due's idle partition, exit_idle) comes from the partition's next
 * offset reaching the high watermark of its last fetch, not only from librdkafka's end event
 * (signalled once per fetch start; none with enable.partition.eof=false). Two partitions: 0
 * has W0's records, then the tick of W1 (held, released, its release seeks to the end); 1 is
 * empty, so W0 goes on only once 1 has idled at its end for partition_idle_ms, and the batch
 * run ends once both have been at their end for exit_idle. Within a bounded time, with the end
 * events and without them. read_tail: 1 is not empty but holds records the group has already
 * read (its commit is at the end): at its end from the start, though nothing is fetched. */
static void batch_run_ends(const char *group, bool eof_events, bool read_tail)
{
    char err[256];
    rd_kafka_t *mrk = NULL;
    rd_kafka_mock_cluster_t *mc = mock_produced(2, &mrk);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    if (read_tail) {
        produce_to(boot, 1, 10, false);
        commit_offset(boot, group, 1, 10);
    }

    struct kafka_settings ks;
    group_settings(&ks, boot, TOPIC, group,
                   eof_events ? "enable.partition.eof=true" : "enable.partition.eof=false");
    ks.partition_idle_ms = 500;
    struct seen s = {0};
    struct source_out out = {.part = on_part, .arg = &s};
    struct kafka_in_opts o = {.ks = &ks,
                              .window_ms = WIN_MS,
                              .exit_idle_ms = 1000,
                              .hooks = {.reset = on_reset, .arg = &s}};
    struct source *src = NULL;
    int rc = kafka_in_source_open(&o, &out, &src, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);

    /* the group joins after 3 s; then about partition_idle + exit_idle */
    uint64_t t0 = clock_mono_ms();
    int ms = -1;
    while (ms < 0 && clock_mono_ms() - t0 < 12000) {
        rc = src->ops->drain(src, 4096);
        if (rc == SOURCE_EOF)
            ms = (int)(clock_mono_ms() - t0);
        else
            assert_true(rc >= 0);
        sleep_ms(20);
    }
    fprintf(stderr, "end events %s%s: %llu records, %llu ticks, input ended after %d ms\n",
            eof_events ? "on" : "off", read_tail ? ", one partition read before" : "",
            (unsigned long long)s.records, (unsigned long long)s.ticks, ms);
    assert_int_equal(s.records, NREC);
    assert_int_equal(s.ticks, 1);
    assert_true(ms >= 0);

    src->ops->close(src);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

static void test_batch_run_ends(void **state)
{
    (void)state;
    batch_run_ends("e1", true, false);
    batch_run_ends("e0", false, false);
    batch_run_ends("e0r", false, true);
}

/* A partition that can never be read (its leader gone) while another holds the next window:
 * nothing but a frozen released window showed it, and it holds every window of the instance.
 * kafka_in_source_stalled names it with how long it brought nothing (what /healthz judges
 * against partition_idle_ms), and lets go once it is read again. */
static bool p0_held(struct source *src, struct seen *s)
{
    struct kafka_in_stats st;
    kafka_in_source_stats(src, &st);
    (void)s;
    return st.held == 1; /* W0's first record: nothing released yet */
}

static bool p1_read(struct source *src, struct seen *s)
{
    (void)src;
    return s->records >= 2 * NREC;
}

static void test_stalled_partition_named(void **state)
{
    (void)state;
    char err[256];
    rd_kafka_t *mrk = NULL;
    rd_kafka_mock_cluster_t *mc = mock_produced(2, &mrk); /* 0: W0's records, W1's tick */
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    produce_to(boot, 1, NREC, false);                                          /* 1: W0's records */
    assert_int_equal(rd_kafka_mock_partition_set_leader(mc, TOPIC, 1, -1), 0); /* gone */

    struct kafka_settings ks;
    group_settings(&ks, boot, TOPIC, "gs", "");
    struct seen s = {0};
    struct source_out out = {.part = on_part, .arg = &s};
    struct kafka_in_opts o = {
        .ks = &ks, .window_ms = WIN_MS, .hooks = {.reset = on_reset, .arg = &s}};
    struct source *src = NULL;
    int rc = kafka_in_source_open(&o, &out, &src, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    uint64_t idle = 0;
    unsigned waiting = 0;
    assert_true(drain_until(src, 30000, p0_held, &s));
    uint64_t t0 = clock_mono_ms();
    drain_until(src, 1500, all_read_never, &s); /* 1 still brings nothing */
    assert_int_equal(kafka_in_source_stalled(src, clock_mono_ms(), &idle, &waiting), 1);
    assert_int_equal(waiting, 1);
    assert_true(idle >= clock_mono_ms() - t0);
    assert_int_equal(s.records, 0); /* W0 waits on 1 */

    /* its leader back: read, W0 released; nothing stalls any more */
    assert_int_equal(rd_kafka_mock_partition_set_leader(mc, TOPIC, 1, 1), 0);
    assert_true(drain_until(src, 30000, p1_read, &s));
    int32_t n = kafka_in_source_stalled(src, clock_mono_ms(), &idle, &waiting);
    assert_true(n < 0 || idle < 1500);

    src->ops->close(src);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

/* ---- re-sent copies (kafka_dedup.h) ---- */

#define TOPIC_R "tr"
#define PARTS_R 4
#define NWIN 300 /* records per window */
#define NKEYS 8  /* customer ids: keys spread over the partitions */

/* A record of window w (0, 1) number i through the sink, as collect publishes it; i == NWIN:
 * the collector's tick of window w + 1 (to every partition). */
static void publish_rec(struct sink *k, int w, int i)
{
    uint64_t ws = W0 + (uint64_t)w * WIN_MS;
    struct flow_rec f = {.bytes = 1000 + (uint64_t)i, .packets = 2, .sampling = 1, .proto = 17};
    f.src[10] = f.src[11] = f.dst[10] = f.dst[11] = 0xff;
    f.src[12] = 10, f.src[14] = (uint8_t)(i % NKEYS), f.src[15] = (uint8_t)i;
    f.dst[12] = 203, f.dst[15] = (uint8_t)w;
    f.sport = (uint16_t)(1024 + i), f.dport = 53;
    f.first_ms = f.last_ms = ws + 500 * (uint64_t)i;
    struct flowpb_meta m = {
        .part = FLOWPB_PART_ALL, .window_start_ms = ws, .watermark_ms = f.last_ms};
    enum msg_kind kind = MSG_FLOW;
    if (i == NWIN) {
        kind = MSG_FLOW_TICK;
        m.part = FLOWPB_PART_TICK;
        m.window_start_ms = m.watermark_ms = ws + WIN_MS;
    }
    uint8_t buf[FLOWPB_MAX];
    int n = flowpb_encode(&f, &m, buf, sizeof buf);
    assert_true(n > 0);
    char key[16];
    int kl = snprintf(key, sizeof key, "%d", 1 + i % NKEYS);
    assert_int_equal(k->ops->publish(k->self, kind, key, (size_t)kl, (const char *)buf, (size_t)n),
                     0);
}

static struct kafka_counters sink_counters(struct sink *k)
{
    struct kafka_counters c;
    assert_int_equal(sink_kafka_counters(k, &c), 0);
    return c;
}

/* Tick copies queued whose delivery report has not come back. */
static uint64_t ticks_open(const struct kafka_counters *c)
{
    return c->ticks - c->ticks_delivered - c->ticks_failed;
}

/* Poll the sink until everything is delivered, tick copies included (their reports are not in
 * inflight), bounded. */
static void sink_drain(struct sink *k, int max_ms)
{
    uint64_t t0 = clock_mono_ms();
    struct kafka_counters c = sink_counters(k);
    while ((c.backlog || c.inflight || ticks_open(&c)) && clock_mono_ms() - t0 < (uint64_t)max_ms) {
        k->ops->poll(k->self);
        sleep_ms(5);
        c = sink_counters(k);
    }
    if (c.backlog || c.inflight || ticks_open(&c))
        fprintf(stderr, "sink not drained: backlog %llu inflight %llu tick copies %llu\n",
                (unsigned long long)c.backlog, (unsigned long long)c.inflight,
                (unsigned long long)ticks_open(&c));
    assert_true(c.backlog == 0 && c.inflight == 0 && ticks_open(&c) == 0);
}

static bool both_windows(struct source *src, struct seen *s)
{
    (void)src;
    return s->records >= 2 * NWIN && s->ticks >= 2 * PARTS_R;
}

/* A consumer of group g over the topic until both windows went on, then 2 s more (copies that
 * would come late); its figures in s and st. */
static void consume_windows(const char *boot, const char *g, uint32_t dedup, struct seen *s,
                            struct kafka_in_stats *st)
{
    char err[256];
    struct kafka_settings ks;
    group_settings(&ks, boot, TOPIC_R, g, "");
    ks.partition_idle_ms = 2000;
    ks.dedup_messages = dedup;
    memset(s, 0, sizeof *s);
    struct source_out out = {.part = on_part, .arg = s};
    struct kafka_in_opts o = {
        .ks = &ks, .window_ms = WIN_MS, .hooks = {.reset = on_reset, .arg = s}};
    struct source *src = NULL;
    int rc = kafka_in_source_open(&o, &out, &src, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    bool done = drain_until(src, 40000, both_windows, s);
    drain_until(src, 2000, all_read_never, s);
    kafka_in_source_stats(src, st);
    src->ops->close(src);
    if (!done)
        fprintf(stderr, "group %s: %llu records, %llu ticks\n", g, (unsigned long long)s->records,
                (unsigned long long)s->ticks);
    assert_true(done);
}

/* The real sink on topic TOPIC_R of boot, spooling in a new directory dir (64 bytes), with the
 * given message.timeout.ms; window W0 (its records and the tick of W1) published and delivered. */
static void sink_up_w0(const char *boot, char *dir, int timeout_ms, struct sink *k)
{
    char err[256];
    snprintf(dir, 64, "/tmp/tw_kafka_in_XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct kafka_settings ps;
    base_settings(&ps, boot, TOPIC_R);
    snprintf(ps.spool_dir, sizeof ps.spool_dir, "%s", dir);
    snprintf(ps.properties, sizeof ps.properties,
             "message.timeout.ms=%d; retry.backoff.ms=50; linger.ms=20; log_level=2", timeout_ms);
    ps.retry_interval = 0;
    ps.spool_fsync = 0;
    int rc = sink_kafka_new(&ps, k, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    for (int i = 0; i <= NWIN; i++)
        publish_rec(k, 0, i);
    sink_drain(k, 20000);
}

static void test_resent_copies_skipped(void **state)
{
    (void)state;
    char dir[64];
    rd_kafka_t *mrk = NULL;
    rd_kafka_mock_cluster_t *mc = mock_up(2, &mrk);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC_R, PARTS_R, 1), 0);
    for (int p = 0; p < PARTS_R; p++) /* broker 1 leads half the partitions, broker 2 the rest */
        assert_int_equal(rd_kafka_mock_partition_set_leader(mc, TOPIC_R, p, 1 + p % 2), 0);

    /* The real sink: window W0 and the tick of W1 delivered; then broker 1 refuses its next
     * Produce request (not retriable: TOPIC_AUTHORIZATION_FAILED, answered after 300 ms, once
     * broker 2 has taken its share), so the sink re-sends everything from the first refused
     * record, also what broker 2 took: copies of W1's records behind the originals. */
    struct sink k;
    sink_up_w0(boot, dir, 5000, &k);
    struct kafka_counters c0 = sink_counters(&k);
    assert_int_equal(c0.resent, 0);
    /* every tick copy of W1 taken before the refusal is armed (a refused copy alone would be
     * lost by design: the consumers would wait partition_idle_ms, not see all ticks) */
    assert_int_equal(c0.ticks_delivered, PARTS_R);
    assert_int_equal(
        rd_kafka_mock_broker_push_request_error_rtts(
            mc, 1, 0 /* Produce */, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 300),
        0);
    for (int i = 0; i <= NWIN; i++)
        publish_rec(&k, 1, i);
    sink_drain(&k, 30000);
    struct kafka_counters c = sink_counters(&k);
    k.ops->destroy(k.self);
    fprintf(stderr, "sink: %llu published, %llu delivered, %llu failed, %llu re-sent\n",
            (unsigned long long)c.published, (unsigned long long)c.delivered,
            (unsigned long long)c.failed, (unsigned long long)c.resent);
    assert_true(c.failed > 0 && c.resent > 0);

    /* Without the recognition the copies are counted again in their window: the topic does
     * hold copies of delivered records (else this test could not fail). */
    struct seen s;
    struct kafka_in_stats st;
    consume_windows(boot, "plain", 0, &s, &st);
    fprintf(stderr, "dedup off: W0 %llu, W1 %llu records, %llu ticks\n",
            (unsigned long long)s.by_window[0], (unsigned long long)s.by_window[1],
            (unsigned long long)s.ticks);
    assert_int_equal(s.by_window[0], NWIN);
    assert_true(s.by_window[1] > NWIN);
    assert_int_equal(st.resent, 0);

    /* With it (the default): each window exactly as published, the copies counted. */
    consume_windows(boot, "dedup", 1000000, &s, &st);
    fprintf(stderr, "dedup on: W0 %llu, W1 %llu records, %llu ticks, %llu copies skipped\n",
            (unsigned long long)s.by_window[0], (unsigned long long)s.by_window[1],
            (unsigned long long)s.ticks, (unsigned long long)st.resent);
    assert_int_equal(s.by_window[0], NWIN);
    assert_int_equal(s.by_window[1], NWIN);
    assert_int_equal(s.records, 2 * NWIN);
    assert_int_equal(st.records, 2 * NWIN);
    assert_int_equal(s.ticks, 2 * PARTS_R);
    assert_true(st.resent > 0);
    assert_int_equal(st.redelivered, 0);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    tmpdir_remove(dir);
}

/* A mock cluster of one broker (on *mrk) with topic TOPIC_R, and the sink on it with W0 sent
 * (sink_up_w0). */
static rd_kafka_mock_cluster_t *one_broker_w0(char *dir, int timeout_ms, struct sink *k,
                                              rd_kafka_t **mrk)
{
    rd_kafka_mock_cluster_t *mc = mock_up(1, mrk);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC_R, PARTS_R, 1), 0);
    sink_up_w0(rd_kafka_mock_cluster_bootstraps(mc), dir, timeout_ms, k);
    return mc;
}

static void sink_down(struct sink *k, rd_kafka_mock_cluster_t *mc, rd_kafka_t *mrk, const char *dir)
{
    k->ops->destroy(k->self);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    tmpdir_remove(dir);
}

/* The tick of the next window goes out only once every message before it is acknowledged (a
 * barrier: a failed batch of the window before, re-sent, cannot land behind the tick and be
 * counted late). A broker slow to answer (500 ms): W1's records in flight, W2's tick waits;
 * once they are acknowledged it goes to every partition. */
static void test_tick_waits_for_window(void **state)
{
    (void)state;
    char dir[64];
    rd_kafka_t *mrk = NULL;
    struct sink k;
    rd_kafka_mock_cluster_t *mc = one_broker_w0(dir, 5000, &k, &mrk);
    assert_int_equal(sink_counters(&k).ticks, PARTS_R);
    assert_int_equal(rd_kafka_mock_broker_set_rtt(mc, 1, 500), 0);
    for (int i = 0; i <= NWIN; i++)
        publish_rec(&k, 1, i);
    for (int t = 0; t < 20; t++) { /* 200 ms: the records are out, not acknowledged */
        k.ops->poll(k.self);
        sleep_ms(10);
    }
    struct kafka_counters c = sink_counters(&k);
    fprintf(stderr, "slow broker: %llu in flight, %llu ticks sent\n",
            (unsigned long long)c.inflight, (unsigned long long)c.ticks);
    assert_true(c.inflight > 0);
    assert_int_equal(c.ticks, PARTS_R);
    /* flush (a collector's stop) returns once the tick copies are in too: the last window's
     * tick, sent last, is not purged with the producer */
    assert_int_equal(rd_kafka_mock_broker_set_rtt(mc, 1, 0), 0);
    assert_int_equal(k.ops->flush(k.self, 20000), 0);
    c = sink_counters(&k);
    assert_int_equal(c.ticks, 2 * PARTS_R);
    assert_int_equal(c.ticks_delivered, 2 * PARTS_R);
    assert_int_equal(c.delivered, 2 * NWIN);
    sink_down(&k, mc, mrk, dir);
}

/* A tick copy whose delivery fails is not sent again (a lost tick only holds a window back by
 * partition_idle_ms on the consumers) but is counted: ticks_failed. Broker down while the tick
 * of W1 goes out: every partition's copy times out and is counted once; the tick of W0,
 * delivered, is not. */
static void test_tick_failure_counted(void **state)
{
    (void)state;
    char dir[64];
    rd_kafka_t *mrk = NULL;
    struct sink k;
    rd_kafka_mock_cluster_t *mc = one_broker_w0(dir, 1000, &k, &mrk);
    struct kafka_counters c = sink_counters(&k);
    assert_int_equal(c.ticks, PARTS_R);
    assert_int_equal(c.ticks_delivered, PARTS_R);
    assert_int_equal(c.ticks_failed, 0);
    assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
    publish_rec(&k, 1, NWIN);
    uint64_t t0 = clock_mono_ms();
    while (sink_counters(&k).ticks_failed < PARTS_R && clock_mono_ms() - t0 < 15000) {
        k.ops->poll(k.self);
        sleep_ms(10);
    }
    c = sink_counters(&k);
    fprintf(stderr, "ticks: %llu sent, %llu failed\n", (unsigned long long)c.ticks,
            (unsigned long long)c.ticks_failed);
    assert_int_equal(c.ticks, 2 * PARTS_R);
    assert_int_equal(c.ticks_failed, PARTS_R);
    assert_int_equal(c.delivered, NWIN); /* the records only: ticks are not tracked there */
    sink_down(&k, mc, mrk, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redelivery_dropped),
        cmocka_unit_test(test_future_window_refused),
        cmocka_unit_test(test_batch_run_ends),
        cmocka_unit_test(test_resent_copies_skipped),
        cmocka_unit_test(test_tick_waits_for_window),
        cmocka_unit_test(test_tick_failure_counted),
        cmocka_unit_test(test_stalled_partition_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
