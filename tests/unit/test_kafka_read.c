/* test_kafka_read.c: the report's finite read of Kafka topics (kafka_read.h) against librdkafka's
 * mock cluster (real protocol on loopback) with a real producer. Cases: every message of every
 * partition of two topics read exactly once, an empty partition included, re-sent copies
 * skipped and counted; a producer that keeps publishing while the read runs (the read still
 * ends, at the watermarks it saw at the start);
 * --since against a broker that cannot look up offsets by time (the mock: every partition
 * from its start); the brokers down, before the read or in its middle (-ETIMEDOUT within the
 * bound, with the reason); bad arguments. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clock.h"
#include "conf.h"
#include "kafka_read.h"

#define TOPIC_A "t.alerts"
#define TOPIC_S "t.summaries"
#define PART_A 4
#define PART_S 3 /* with N_MSG summaries keyed as below, one partition stays empty */
#define N_MSG 300u

struct env {
    rd_kafka_t *mrk; /* the mock cluster lives in this handle */
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *prod;
    struct kafka_settings ks;
};

static void produce(struct env *e, const char *topic, int part, uint32_t id)
{
    char v[64];
    int n = snprintf(v, sizeof v, "{\"id\":%u,\"topic\":\"%s\"}", (unsigned)id, topic);
    assert_int_equal(rd_kafka_producev(e->prod, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_VALUE(v, (size_t)n), RD_KAFKA_V_END),
                     0);
}

static void env_up(struct env *e)
{
    char errstr[256];
    memset(e, 0, sizeof *e);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    e->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(e->mrk);
    e->mc = rd_kafka_mock_cluster_new(e->mrk, 1);
    assert_non_null(e->mc);
    const char *boot = rd_kafka_mock_cluster_bootstraps(e->mc);
    assert_int_equal(rd_kafka_mock_topic_create(e->mc, TOPIC_A, PART_A, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(e->mc, TOPIC_S, PART_S, 1), 0);
    conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", boot, errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "batch.num.messages", "1", errstr, sizeof errstr); /* a batch each */
    e->prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(e->prod);
    /* alerts spread over every partition; summaries on partitions 0 and 1 only */
    for (uint32_t i = 0; i < N_MSG; i++)
        produce(e, i % 3 ? TOPIC_A : TOPIC_S, i % 3 ? (int)(i % PART_A) : (int)(i % 2), i);
    assert_int_equal(rd_kafka_flush(e->prod, 10000), 0);
    assert_int_equal(conf_defaults(kafka_conf_keys, &e->ks), 0);
    snprintf(e->ks.brokers, sizeof e->ks.brokers, "%s", boot);
    snprintf(e->ks.properties, sizeof e->ks.properties,
             "reconnect.backoff.max.ms=200; log_level=2");
}

static void env_down(struct env *e)
{
    rd_kafka_destroy(e->prod);
    rd_kafka_mock_cluster_destroy(e->mc);
    rd_kafka_destroy(e->mrk);
}

struct got {
    uint8_t seen[N_MSG * 2];
    uint32_t n, dup, bad;
    struct env *e;
    uint32_t more; /* produce this many more messages, one per message read */
    bool down;     /* take the broker down at the first message */
};

static void on_msg(void *arg, const char *v, size_t len)
{
    struct got *g = arg;
    char b[80];
    unsigned id = 0;
    snprintf(b, sizeof b, "%.*s", (int)(len < 79 ? len : 79), v);
    if (sscanf(b, "{\"id\":%u,", &id) != 1 || id >= N_MSG * 2) {
        g->bad++;
        return;
    }
    g->dup += g->seen[id]++ > 0;
    g->n++;
    if (g->down && g->n == 1)
        assert_int_equal(rd_kafka_mock_broker_set_down(g->e->mc, 1), 0);
    if (g->more) { /* the daemon keeps publishing while the report reads */
        g->more--;
        produce(g->e, TOPIC_A, (int)(g->more % PART_A), N_MSG + g->more);
        rd_kafka_flush(g->e->prod, 5000);
    }
}

static int read_all(struct env *e, uint64_t since, uint64_t tmo, struct got *g,
                    struct kafka_read_stats *st, char *err, size_t errlen)
{
    const char *topics[] = {TOPIC_A, TOPIC_S};
    struct kafka_read_opts o = {
        .ks = &e->ks, .topics = topics, .ntopics = 2, .since_ms = since, .timeout_ms = tmo};
    return kafka_read_topics(&o, on_msg, g, st, err, errlen);
}

/* Each case's cluster (env_up: both topics filled) and its record of what was read. */
struct fx {
    struct env e;
    struct got g;
    struct kafka_read_stats st;
    char err[512];
};

static int fx_up(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    env_up(&f->e);
    f->g.e = &f->e;
    *state = f;
    return 0;
}

static int fx_down(void **state)
{
    struct fx *f = *state;
    env_down(&f->e);
    free(f);
    return 0;
}

/* The read of both topics into f (since 0: from their start); its return. */
static int read_f(struct fx *f, uint64_t since, uint64_t tmo)
{
    int rc = read_all(&f->e, since, tmo, &f->g, &f->st, f->err, sizeof f->err);
    if (rc)
        fprintf(stderr, "read: %d %s\n", rc, f->err);
    return rc;
}

static void test_read_all(void **state)
{
    struct fx *f = *state;
    /* the sink's re-sends: byte-identical copies later in the same partitions */
    for (uint32_t i = 0; i < 30; i++)
        produce(&f->e, i % 3 ? TOPIC_A : TOPIC_S, i % 3 ? (int)(i % PART_A) : (int)(i % 2), i);
    assert_int_equal(rd_kafka_flush(f->e.prod, 10000), 0);
    assert_int_equal(read_f(f, 0, 10000), 0);
    assert_int_equal(f->g.n, N_MSG);
    assert_int_equal(f->g.dup, 0);
    assert_int_equal(f->g.bad, 0);
    assert_int_equal(f->st.messages, N_MSG);
    assert_int_equal(f->st.duplicates, 30);
    assert_int_equal(f->st.partitions, PART_A + PART_S);
    assert_int_equal(f->st.by_time, 0);
}

/* Messages produced while the read runs (after its watermarks were taken) are not read, and
 * the read ends. */
static void test_ends_at_watermark(void **state)
{
    struct fx *f = *state;
    f->g.more = N_MSG / 2;
    uint64_t t0 = clock_mono_ms();
    assert_int_equal(read_f(f, 0, 10000), 0);
    assert_int_equal(f->g.n, N_MSG);
    assert_int_equal(f->g.dup, 0);
    assert_true(f->g.more < N_MSG / 2); /* it did produce during the read */
    assert_true(clock_mono_ms() - t0 < 60000);
    /* a second read sees them */
    memset(&f->g, 0, sizeof f->g);
    assert_int_equal(read_f(f, 0, 10000), 0);
    assert_true(f->g.n > N_MSG);
    assert_int_equal(f->g.dup, 0);
}

/* The mock cluster answers -1 to every offsets-by-time request: every partition is then read
 * from its start (nothing lost; the report filters on @timestamp). */
static void test_since_fallback(void **state)
{
    struct fx *f = *state;
    assert_int_equal(read_f(f, clock_wall_ms() - 3600000, 10000), 0);
    assert_int_equal(f->g.n, N_MSG);
    assert_int_equal(f->st.by_time, 0);
}

static void test_brokers_down(void **state)
{
    struct fx *f = *state;
    assert_int_equal(rd_kafka_mock_broker_set_down(f->e.mc, 1), 0);
    uint64_t t0 = clock_mono_ms();
    assert_int_equal(read_f(f, 0, 1500), -ETIMEDOUT);
    uint64_t took = clock_mono_ms() - t0;
    assert_true(took >= 1000 && took < 15000); /* each request bounded; generous under load */
    assert_non_null(strstr(f->err, "no answer within 1500 ms"));
    assert_int_equal(f->g.n, 0);
    /* nothing listens at all */
    snprintf(f->e.ks.brokers, sizeof f->e.ks.brokers, "127.0.0.1:1");
    t0 = clock_mono_ms();
    assert_int_equal(read_f(f, 0, 1500), -ETIMEDOUT);
    assert_true(clock_mono_ms() - t0 < 15000);
}

/* The broker goes away in the middle of the read: -ETIMEDOUT within the bound, not a hang.
 * Every message is its own record batch and a fetch returns a few, so the read cannot have
 * everything before the broker is down. */
static void test_brokers_gone_midway(void **state)
{
    struct fx *f = *state;
    snprintf(f->e.ks.properties, sizeof f->e.ks.properties,
             "reconnect.backoff.max.ms=200; log_level=0; max.partition.fetch.bytes=1; "
             "message.max.bytes=1000; fetch.max.bytes=1000; queued.max.messages.kbytes=1");
    f->g.down = true;
    uint64_t t0 = clock_mono_ms();
    assert_int_equal(read_f(f, 0, 1500), -ETIMEDOUT);
    assert_true(clock_mono_ms() - t0 < 20000);
    assert_true(f->g.n >= 1 && f->g.n < N_MSG);
    assert_non_null(strstr(f->err, "not read to their end"));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct kafka_settings ks;
    assert_int_equal(conf_defaults(kafka_conf_keys, &ks), 0);
    struct kafka_read_stats st;
    char err[256];
    const char *topics[] = {"a"};
    struct kafka_read_opts o = {.ks = &ks, .topics = topics, .ntopics = 1, .timeout_ms = 100};
    assert_int_equal(kafka_read_topics(&o, on_msg, NULL, &st, err, sizeof err), -EINVAL);
    snprintf(ks.brokers, sizeof ks.brokers, "127.0.0.1:1");
    snprintf(ks.properties, sizeof ks.properties, "no.such.property=1");
    assert_int_equal(kafka_read_topics(&o, on_msg, NULL, &st, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "no.such.property"));
    o.ntopics = 0;
    assert_int_equal(kafka_read_topics(&o, on_msg, NULL, &st, err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test_setup_teardown(test_read_all, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_ends_at_watermark, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_since_fallback, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_brokers_down, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_brokers_gone_midway, fx_up, fx_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
