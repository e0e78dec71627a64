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
        cmocka_unit_test(warmup_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
