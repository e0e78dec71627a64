/* det_flood on hand-built flows: absolute rates and a jump over the host's own baseline alert;
 * a steady busy server and inbound floods do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"

extern const struct detector_ops det_flood_ops;
#define T0 1221868800000ULL
#define W 300000ULL

/* one window of outbound traffic at pps/bytes-per-packet, as 10 s records */
static void send(struct th *t, const char *host, uint64_t w, double pps, unsigned bpp)
{
    for (unsigned s = 0; s < 30; s++) {
        uint64_t pk = (uint64_t)(pps * 10);
        if (pk)
            th_flow(t, host, "203.0.113.9", 4444, 53, 17, 0, pk, pk * bpp, T0 + w * W + s * 10000,
                    9000);
    }
}

static void absolute_pps(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_flood_ops, NULL), 0);
    send(&t, "10.0.0.5", 0, 80000, 60);
    th_advance_to(&t, T0 + W);
    assert_int_equal(th_count(&t, "flood.pps", "10.0.0.5"), 1);
    const struct alert *a = th_find(&t, "flood.pps");
    assert_int_equal(a->category, CAT_FLOOD);
    assert_non_null(strstr(a->evidence_json, "top_destination"));
    th_fini(&t);
}

static void absolute_bps(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_flood_ops, "bps_max=100000000"), 0);
    send(&t, "10.0.0.6", 0, 20000, 1400); /* 224 Mbit/s at 20 kpps */
    th_advance_to(&t, T0 + W);
    assert_int_equal(th_count(&t, "flood.bps", "10.0.0.6"), 1);
    th_fini(&t);
}

static void baseline_jump(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_flood_ops, NULL), 0);
    for (uint64_t w = 0; w < 5; w++)
        send(&t, "10.0.0.7", w, 100, 200);
    send(&t, "10.0.0.7", 5, 5000, 100); /* 50x its usual rate, under pps_max */
    th_advance_to(&t, T0 + 6 * W);
    assert_int_equal(t.nalerts, 1);
    assert_int_equal(th_count(&t, "flood.baseline", "10.0.0.7"), 1);
    th_fini(&t);
}

static void steady_server_and_inbound_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_flood_ops, NULL), 0);
    for (uint64_t w = 0; w < 12; w++) {
        send(&t, "10.0.0.80", w, 8000 + (w % 3) * 2000, 1000); /* busy, steady +-25 % */
        for (unsigned s = 0; s < 30; s++)                      /* a flood aimed at the customer */
            th_flow(&t, "198.18.0.1", "10.0.0.81", 53, 80, 17, 0, 900000, 900000 * 60,
                    T0 + w * W + s * 10000, 9000);
    }
    th_advance_to(&t, T0 + 12 * W);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* A log's whole connection (Zeek, Argus): CTU-Normal-43's Teams call to 52.113.203.32:3478 is
 * one record of 3 356 s and 705 577 packets out, written when the call ends - 210 packets/s, no
 * flood, however many of them land in that window. Mirai's UDP flood of the IoT-23 44-1 log, one
 * record of 301 s and 1 305 034 packets (4 338 packets/s), is one. */
static void whole_connection_records(void **st)
{
    (void)st;
    for (unsigned flood = 0; flood < 2; flood++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_flood_ops, NULL), 0);
        for (uint64_t w = 0; w < 20; w++)
            send(&t, "10.0.0.9", w, 2, 200);
        uint64_t dur = flood ? 300800 : 3355618, pk = flood ? 1305034 : 705577;
        uint64_t end = T0 + 20 * W + 200000;
        th_flow(&t, "10.0.0.9", "52.113.203.32", 55121, flood ? 80 : 3478, 17, 0, pk, pk * 620,
                end - dur, dur);
        th_advance_to(&t, T0 + 22 * W);
        assert_int_equal(th_count(&t, "flood.baseline", "10.0.0.9"), flood);
        th_fini(&t);
    }
}

static void warmup_needed(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_flood_ops, NULL), 0);
    send(&t, "10.0.0.9", 0, 10, 100);
    send(&t, "10.0.0.9", 1, 5000, 100); /* one window of history only */
    th_advance_to(&t, T0 + 2 * W);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absolute_pps),  cmocka_unit_test(absolute_bps),
        cmocka_unit_test(baseline_jump), cmocka_unit_test(steady_server_and_inbound_quiet),
        cmocka_unit_test(warmup_needed), cmocka_unit_test(whole_connection_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
