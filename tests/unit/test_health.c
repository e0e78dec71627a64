/* test_health.c: the /healthz verdict (health.c) for every condition of issue 13 item 3, its
 * thresholds from [health], and that each reason goes away when its cause does. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"
#include "settings.h"

struct fx {
    struct settings s;
    struct health h;
    struct health_in in;
    char text[1024];
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    assert_int_equal(settings_init(&f.s), 0);
    health_init(&f.h);
    f.in.now_ms = 1000000;
    f.in.now_unix = 1800000000;
    f.in.customers = 3;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    settings_free(&f->s);
    return 0;
}

static bool eval(struct fx *f, uint64_t advance_s)
{
    f->in.now_ms += advance_s * 1000;
    f->in.now_unix += advance_s;
    return health_eval(&f->h, &f->s, &f->in, f->text, sizeof f->text);
}

static void test_ok_and_no_map(void **state)
{
    struct fx *f = *state;
    assert_true(eval(f, 0));
    assert_string_equal(f->text, "ok\n");
    f->in.customers = 0;
    assert_false(eval(f, 1));
    assert_non_null(strstr(f->text, "degraded: no customer map"));
    f->s.health_unmatched = false;
    assert_true(eval(f, 1));
}

static void test_window_unmatched(void **state)
{
    struct fx *f = *state;
    assert_true(eval(f, 0));
    f->in.flows = 100; /* some matched */
    f->in.unmatched = 40;
    f->in.windows_closed = 1;
    assert_true(eval(f, 1));
    f->in.flows = 300; /* the next window: none matched */
    f->in.unmatched = 240;
    f->in.windows_closed = 2;
    assert_false(eval(f, 1));
    assert_non_null(strstr(f->text, "none of the 200 flows of the last window"));
    f->in.flows = 310; /* and a window with a match clears it */
    f->in.unmatched = 241;
    f->in.windows_closed = 3;
    assert_true(eval(f, 1));
}

static void test_kafka_stall_and_spool(void **state)
{
    struct fx *f = *state;
    f->s.health_kafka_stall = 120;
    f->in.nsinks = 1;
    f->in.sink_name[0] = "kafka";
    f->in.sink[0] = (struct sink_health){.delivers = true, .spool_max_bytes = 1000};
    assert_true(eval(f, 0));
    f->in.sink[0].waiting = 5; /* messages wait: the clock starts when that is seen */
    assert_true(eval(f, 0));
    assert_true(eval(f, 60));
    assert_true(eval(f, 59));
    assert_false(eval(f, 1));
    assert_non_null(strstr(f->text, "kafka: nothing delivered for 120s, 5 messages waiting"));
    f->in.sink[0].last_delivery_unix = f->in.now_unix; /* a delivery */
    assert_true(eval(f, 1));
    f->in.sink[0].waiting = 0;
    f->in.sink[0].spool_bytes = 800; /* 80 %: the default high-water mark */
    assert_false(eval(f, 1));
    assert_non_null(strstr(f->text, "kafka: spool 80% full"));
    f->in.sink[0].spool_bytes = 799;
    assert_true(eval(f, 1));
}

static void test_losses_and_clock_within_period(void **state)
{
    struct fx *f = *state;
    f->s.health_period = 300;
    f->in.nsinks = 1;
    f->in.sink_name[0] = "jsonl";
    assert_true(eval(f, 0));
    f->in.sink[0].where = "/var/log/transitwatch/alerts.jsonl";
    f->in.sink[0].lost = 3;
    assert_false(eval(f, 10));
    assert_non_null(strstr(f->text, "jsonl /var/log/transitwatch/alerts.jsonl: 3 messages lost in "
                                    "the last 300s"));
    f->in.clock_skew = 7; /* records far from their exporter's clock */
    snprintf(f->in.skew_exporters, sizeof f->in.skew_exporters, "192.0.2.1");
    assert_false(eval(f, 10));
    assert_non_null(strstr(f->text, "7 records with times far from their exporter's clock "
                                    "(exporters 192.0.2.1) in the last 300s"));
    assert_int_equal(health_clock_skew(&f->in), 7);
    for (int i = 0; i < 40; i++) /* the period passes without more: ok again */
        eval(f, 10);
    assert_true(eval(f, 10));
    f->s.health_skew_records = 0; /* off */
    f->in.clock_skew = 100;
    assert_true(eval(f, 1));
}

static void test_capture_stall(void **state)
{
    struct fx *f = *state;
    f->s.health_capture_stall = 60;
    f->in.ncaptures = 1;
    f->in.capture_name[0] = "mirror";
    f->in.capture_packets[0] = 10;
    assert_true(eval(f, 0));
    f->in.capture_packets[0] = 20;
    assert_true(eval(f, 59));
    assert_true(eval(f, 59));
    assert_false(eval(f, 1));
    assert_non_null(strstr(f->text, "capture mirror: no packet for 60s"));
    f->in.capture_packets[0] = 21;
    assert_true(eval(f, 1));
}

/* A capture stopped by a read error (its interface removed) reads nothing more until a
 * restart: /healthz says so at once, with the error, not a capture_stall later as a quiet
 * link. */
static void test_capture_stopped(void **state)
{
    struct fx *f = *state;
    f->s.health_capture_stall = 300;
    f->in.ncaptures = 2;
    f->in.capture_name[0] = "mirror";
    f->in.capture_name[1] = "span";
    f->in.capture_packets[0] = f->in.capture_packets[1] = 10;
    assert_true(eval(f, 0));
    f->in.capture_stopped[1] = "eth9: The interface disappeared (after 10 packets)";
    assert_false(eval(f, 1));
    assert_string_equal(f->text,
                        "degraded: capture span: stopped: eth9: The interface disappeared (after "
                        "10 packets)\n");
    f->in.capture_packets[0] = 11; /* the other capture reading does not hide it */
    assert_false(eval(f, 400));
    assert_null(strstr(f->text, "no packet for"));
    assert_non_null(strstr(f->text, "capture span: stopped"));
}

/* A report directory whose last write failed (a full disk): named with its error until a write
 * succeeds; it was only logged. */
static void test_report_dir_failed(void **state)
{
    struct fx *f = *state;
    assert_true(eval(f, 0));
    f->in.report_dir = "/var/lib/transitwatch/reports";
    f->in.report_failed = 2;
    f->in.report_error = ENOSPC;
    assert_false(eval(f, 1));
    assert_string_equal(f->text, "degraded: report directory /var/lib/transitwatch/reports: the "
                                 "last write failed (2 pages not written): No space left on "
                                 "device\n");
    f->in.report_dir = NULL; /* the next write succeeded */
    assert_true(eval(f, 1));
}

/* detect: an owned partition not at its end brought nothing while another holds the next window
 * for it (its leader gone): named once that lasts partition_idle_ms, ok again when it moves. */
static void test_kafka_partition_stalled(void **state)
{
    struct fx *f = *state;
    snprintf(f->s.kafka.topic_flows, sizeof f->s.kafka.topic_flows, "flows");
    f->s.kafka.partition_idle_ms = 60000;
    f->in.kafka_in = true;
    f->in.kafka_partitions = 4;
    f->in.kafka_stalled = 2;
    f->in.kafka_waiting = 3;
    f->in.kafka_stalled_ms = 59999;
    assert_true(eval(f, 0));
    f->in.kafka_stalled_ms = 61000;
    assert_false(eval(f, 1));
    assert_string_equal(f->text, "degraded: kafka: partition flows/2 read nothing for 61s, not at "
                                 "its end, while 3 partitions hold their next window for it\n");
    f->in.kafka_stalled_ms = 10; /* it moved */
    assert_true(eval(f, 1));
    f->in.kafka_stalled_ms = 61000;
    f->in.kafka_waiting = 0; /* nothing waits on it */
    assert_true(eval(f, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_and_no_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_unmatched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kafka_stall_and_spool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_losses_and_clock_within_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_dir_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kafka_partition_stalled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
