/* det_scan on hand-built flows: horizontal and vertical scanners alert; a busy web client, a
 * busy web server, an inbound scan of the customer and mail fan-out do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"

extern const struct detector_ops det_scan_ops;
#define T0 1221868800000ULL

static void horizontal(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 300; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "45.%u.%u.%u", i % 7, i % 251, i % 199 + 1);
        bool answered = i % 20 == 0;
        th_flow(&t, "10.0.0.5", dst, 50000, 23, 6, answered ? 0x1b : 0x02, answered ? 8 : 1,
                answered ? 600 : 44, T0 + i * 500, 0);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.5"), 1);
    assert_int_equal(th_count(&t, "scan.vertical", NULL), 0);
    const struct alert *a = th_find(&t, "scan.horizontal");
    assert_int_equal(a->port, 23);
    assert_int_equal(a->category, CAT_SCAN);
    assert_non_null(strstr(a->evidence_json, "sample_targets"));
    th_fini(&t);
}

static void vertical(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 120; i++) { /* with retries: a repeated port counts once */
        th_flow(&t, "10.0.0.6", "93.1.1.1", 50001, (uint16_t)(1 + i % 80), 6, 0x06, 2, 84,
                T0 + i * 100, 0);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.vertical", "10.0.0.6"), 1);
    const struct alert *a = th_find(&t, "scan.vertical");
    assert_true(a->has_peer);
    assert_non_null(strstr(a->evidence_json, "\"distinct_ports\":"));
    th_fini(&t);
}

static void web_client_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    uint64_t r = 7;
    for (unsigned i = 0; i < 400; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "151.%u.%u.%u", th_rand(&r) % 250, th_rand(&r) % 250, 1 + th_rand(&r) % 250);
        bool fail = i % 6 == 0; /* some dead servers */
        th_flow(&t, "10.0.0.7", dst, (uint16_t)(40000 + i), 443, 6, fail ? 0x02 : 0x1b,
                fail ? 2 : 12, fail ? 120 : 3000, T0 + i * 600, 200);
    }
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void inbound_scan_and_web_server_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 500; i++) {
        char in[32], cl[32];
        /* an outside scanner sweeps the customer; closed ports answer RST+ACK */
        snprintf(in, sizeof in, "10.1.%u.%u", i / 250, i % 250 + 1);
        th_flow(&t, "45.9.9.9", in, 61000, 22, 6, 0x02, 1, 44, T0 + i * 100, 0);
        th_flow(&t, in, "45.9.9.9", 22, 61000, 6, 0x14, 1, 40, T0 + i * 100 + 1, 0);
        /* a busy web server: many clients in, answers out */
        snprintf(cl, sizeof cl, "88.%u.%u.7", i / 250, i % 250);
        th_flow(&t, cl, "10.0.0.80", (uint16_t)(30000 + i), 443, 6, 0x1b, 10, 900, T0 + i * 100, 50);
        th_flow(&t, "10.0.0.80", cl, 443, (uint16_t)(30000 + i), 6, 0x1b, 20, 30000, T0 + i * 100, 50);
    }
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void mail_left_to_spam(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 200; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "93.%u.%u.25", i / 200, i % 200);
        th_flow(&t, "10.0.0.12", dst, 50000, 25, 6, 0x02, 1, 44, T0 + i * 100, 0);
    }
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void threshold_override(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, "h_threshold=10"), 0);
    for (unsigned i = 0; i < 12; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "45.0.0.%u", i + 1);
        th_flow(&t, "10.0.0.13", dst, 50000, 445, 6, 0x02, 1, 44, T0 + i * 100, 0);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.13"), 1);
    th_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(horizontal),
        cmocka_unit_test(vertical),
        cmocka_unit_test(web_client_quiet),
        cmocka_unit_test(inbound_scan_and_web_server_quiet),
        cmocka_unit_test(mail_left_to_spam),
        cmocka_unit_test(threshold_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
