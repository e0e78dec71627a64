/* test_kafka_in: the Kafka consumer source (collector/sources/kafka_in.c) against librdkafka's
 * mock cluster with a real consumer group: every record of a partition goes on once, also when
 * librdkafka positions the partition again by itself after records were handed on (under a
 * loaded group coordinator: the late fetch start of an assignment, after the source's own
 * rewind had read on), which would count a window's records twice. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "flowpb.h"
#include "kafka_in.h"
#include "sink_kafka.h"

#define TOPIC "tf"
#define NREC 40
#define WIN_MS 300000ull
#define W0 1221868800000ull /* 2008-09-20 00:00 UTC */

struct seen {
    uint64_t records, ticks, resets;
};

static void on_part(void *arg, struct flow_rec *f, const struct flowpb_meta *m)
{
    (void)f;
    struct seen *s = arg;
    if (m->part == FLOWPB_PART_TICK)
        s->ticks++;
    else
        s->records++;
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

/* NREC records of window W0, then the collector's tick of the next window, to partition 0. */
static void produce(const char *boot)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", boot, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(p);
    uint8_t buf[512];
    for (int i = 0; i <= NREC; i++) {
        struct flow_rec f = {.bytes = 100 + (uint64_t)i,
                             .packets = 1,
                             .sampling = 1,
                             .proto = 6,
                             .sport = 40000,
                             .dport = 443};
        f.src[10] = f.src[11] = f.dst[10] = f.dst[11] = 0xff;
        f.src[12] = 192, f.src[15] = 1, f.dst[12] = 198, f.dst[15] = (uint8_t)i;
        f.first_ms = f.last_ms = W0 + 1000 * (uint64_t)i;
        struct flowpb_meta m = {
            .part = FLOWPB_PART_ALL, .window_start_ms = W0, .watermark_ms = f.last_ms};
        if (i == NREC) { /* the tick: the collector's window moved on */
            m.part = FLOWPB_PART_TICK;
            m.window_start_ms = m.watermark_ms = W0 + WIN_MS;
        }
        int n = flowpb_encode(&f, &m, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_VALUE(buf, (size_t)n), RD_KAFKA_V_END),
                         0);
    }
    assert_int_equal(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
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

static bool read_again(struct source *src, struct seen *s)
{
    struct kafka_in_stats st;
    kafka_in_source_stats(src, &st);
    return s->records > NREC || st.redelivered >= NREC;
}

static void test_redelivery_dropped(void **state)
{
    (void)state;
    char errstr[256], err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(mrk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    assert_non_null(mc);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC, 1, 1), 0);
    produce(boot);

    struct kafka_settings ks;
    assert_int_equal(conf_defaults(kafka_conf_keys, &ks), 0);
    snprintf(ks.brokers, sizeof ks.brokers, "%s", boot);
    snprintf(ks.topic_flows, sizeof ks.topic_flows, TOPIC);
    snprintf(ks.group_id, sizeof ks.group_id, "g");
    snprintf(ks.properties, sizeof ks.properties,
             "session.timeout.ms=6000; heartbeat.interval.ms=500; log_level=2");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redelivery_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
