/* det_spam on hand-built flows: a bot alerts; an allowlisted MTA, a legitimate bulk sender, a
 * host receiving mail and a submission client do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"

extern const struct detector_ops det_spam_ops;
#define T0 1221868800000ULL

/* n flows from host to n distinct MXs in nets distinct /24s; every fail_every-th fails. */
static void send_mail(struct th *t, const char *host, unsigned n, unsigned nets, unsigned fail_every,
                      uint16_t port, uint64_t t0)
{
    for (unsigned i = 0; i < n; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "93.%u.%u.%u", 10 + (i % nets) / 200, (i % nets) % 200, 1 + i / nets);
        bool fail = fail_every && i % fail_every == 0;
        th_flow(t, host, dst, (uint16_t)(40000 + i), port, 6, fail ? 0x02 : 0x1b, fail ? 2 : 20,
                fail ? 120 : 9000, t0 + i * 1000, 800);
    }
}

static void bot_alerts(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    send_mail(&t, "10.0.0.5", 120, 120, 2, 25, T0);
    th_close(&t);
    assert_int_equal(th_count(&t, "spam.fanout", "10.0.0.5"), 1);
    const struct alert *a = th_find(&t, "spam.fanout");
    assert_int_equal(a->category, CAT_SPAM);
    assert_true(a->score > 0 && a->score <= 1);
    const char *d = strstr(a->evidence_json, "\"distinct_dst\":");
    assert_non_null(d);
    unsigned long nd = strtoul(d + 15, NULL, 10); /* HyperLogLog past 32: within 3 sigma */
    assert_true(nd >= 90 && nd <= 150);
    assert_non_null(strstr(a->evidence_json, "top_destinations"));
    assert_int_equal(a->flows, 120);
    th_fini(&t);
}

static void below_threshold_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    send_mail(&t, "10.0.0.6", 20, 20, 2, 25, T0); /* 20 < fanout 25 */
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void allowlisted_mta_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, "mta=10.0.0.25/32, 10.9.0.0/24"), 0);
    send_mail(&t, "10.0.0.25", 250, 250, 3, 25, T0);
    send_mail(&t, "10.9.0.7", 250, 250, 3, 25, T0);
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void hijacked_mta_alerts(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, "mta=10.0.0.25/32;mta_fanout=100"), 0);
    send_mail(&t, "10.0.0.25", 250, 250, 1, 25, T0); /* every flow fails */
    th_close(&t);
    assert_int_equal(th_count(&t, "spam.mta_fanout", "10.0.0.25"), 1);
    th_fini(&t);
}

static void bulk_sender_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    /* many messages to the MXs of a few large providers, all delivered */
    send_mail(&t, "10.0.0.8", 200, 8, 0, 25, T0);
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void receiving_and_submission_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    for (unsigned i = 0; i < 300; i++) { /* the Internet delivering to a customer MX */
        char src[32];
        snprintf(src, sizeof src, "81.%u.%u.9", i / 200, i % 200);
        th_flow(&t, src, "10.0.0.9", (uint16_t)(30000 + i), 25, 6, 0x1b, 20, 9000, T0 + i * 500, 300);
        th_flow(&t, "10.0.0.9", src, 25, (uint16_t)(30000 + i), 6, 0x1b, 15, 1500, T0 + i * 500, 300);
    }
    send_mail(&t, "10.0.0.10", 200, 200, 2, 587, T0); /* 587 not counted by default */
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void ports_configurable(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, "ports=25, 587"), 0);
    send_mail(&t, "10.0.0.10", 200, 200, 2, 587, T0);
    th_close(&t);
    assert_int_equal(th_count(&t, "spam.fanout", "10.0.0.10"), 1);
    th_fini(&t);
}

static void windows_are_separate(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    /* 20 per window over 3 windows: never 25 in one */
    for (int w = 0; w < 3; w++)
        send_mail(&t, "10.0.0.11", 20, 20, 2, 25, T0 + (uint64_t)w * 300000);
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bot_alerts),
        cmocka_unit_test(below_threshold_quiet),
        cmocka_unit_test(allowlisted_mta_quiet),
        cmocka_unit_test(hijacked_mta_alerts),
        cmocka_unit_test(bulk_sender_quiet),
        cmocka_unit_test(receiving_and_submission_quiet),
        cmocka_unit_test(ports_configurable),
        cmocka_unit_test(windows_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
