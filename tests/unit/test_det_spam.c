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
static void send_mail(struct th *t, const char *host, unsigned n, unsigned nets,
                      unsigned fail_every, uint16_t port, uint64_t t0)
{
    for (unsigned i = 0; i < n; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "93.%u.%u.%u", 10 + (i % nets) / 200, (i % nets) % 200,
                 1 + i / nets);
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
        th_flow(&t, src, "10.0.0.9", (uint16_t)(30000 + i), 25, 6, 0x1b, 20, 9000, T0 + i * 500,
                300);
        th_flow(&t, "10.0.0.9", src, 25, (uint16_t)(30000 + i), 6, 0x1b, 15, 1500, T0 + i * 500,
                300);
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

static unsigned long ev_num(const struct alert *a, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(a->evidence_json, k);
    if (!p)
        fail_msg("no %s in %s", key, a->evidence_json);
    return strtoul(p + strlen(k), NULL, 10);
}

/* The case: a bot contacts 300 MXs once each. Space-Saving with few counters would
 * report the last few addresses with ~75 flows each; the evidence may name only destinations
 * whose count is guaranteed, with that count, and its distinct counts never exceed the flows. */
static void evidence_is_the_windows_own(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    /* 300 MXs once each, and one MX that got 12 messages */
    send_mail(&t, "10.0.0.5", 300, 300, 2, 25, T0);
    for (unsigned i = 0; i < 12; i++)
        th_flow(&t, "10.0.0.5", "94.1.1.25", (uint16_t)(30000 + i), 25, 6, 0x1b, 20, 9000,
                T0 + 100 + i, 800);
    /* records that end after the window (seen before it closes, within the lateness) belong to
     * the next window and must not show up in this one's evidence */
    struct flow_rec f;
    memset(&f, 0, sizeof f);
    assert_int_equal(addr_parse("10.0.0.5", f.src), 0);
    assert_int_equal(addr_parse("95.5.5.25", f.dst), 0);
    f.sport = 41000;
    f.dport = 25;
    f.proto = 6;
    f.tcp_flags = 0x1b;
    f.packets = 20;
    f.bytes = 9000;
    f.sampling = 1;
    f.dir = FLOW_DIR_OUT;
    f.customer = 1;
    uint8_t *state;
    struct host *h = th_host(&t, f.src, &state);
    for (unsigned i = 0; i < 40; i++) {
        f.first_ms = t.ctx.win_end_ms + 1000 + i;
        f.last_ms = f.first_ms + 10;
        det_spam_ops.on_flow(t.self, &t.ctx, h, state, &f);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "spam.fanout", "10.0.0.5"), 1);
    const struct alert *a = th_find(&t, "spam.fanout");
    assert_int_equal(a->flows, 312);
    assert_true(a->last_ms <= a->win_end_ms);
    assert_true(ev_num(a, "distinct_dst") <= ev_num(a, "smtp_flows"));
    assert_true(ev_num(a, "distinct_nets") <= ev_num(a, "distinct_dst"));
    assert_null(strstr(a->evidence_json, "95.5.5.25"));
    /* the one MX with 12 messages is named, with no more than its 12 flows; none of the
     * once-contacted MXs is named among the top destinations */
    const char *top = strstr(a->evidence_json, "\"top_destinations\":[");
    assert_non_null(top);
    assert_non_null(strstr(top, "{\"addr\":\"94.1.1.25\",\"flows\":"));
    unsigned long n = strtoul(strstr(top, "\"flows\":") + 8, NULL, 10);
    assert_true(n >= 2 && n <= 12);
    const char *end = strchr(top, ']');
    assert_non_null(end);
    for (const char *p = strstr(top, "\"addr\":\""); p && p < end; p = strstr(p + 1, "\"addr\":\""))
        assert_int_equal(strncmp(p, "\"addr\":\"94.1.1.25\"", strlen("\"addr\":\"94.1.1.25\"")), 0);
    assert_non_null(strstr(a->evidence_json, "\"sample_destinations\":[\"93."));
    /* the next window holds the 40 records that ended after the first (one destination:
     * below every threshold) */
    th_close(&t);
    assert_int_equal(t.nalerts, 1);
    th_fini(&t);
}

/* Distinct counts are estimates past 32: never more destinations than flows. */
static void distinct_never_exceeds_flows(void **st)
{
    (void)st;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_spam_ops, "fanout=20;fanout_nets=10"), 0);
        uint64_t r = seed;
        unsigned n = 40 + th_rand(&r) % 200;
        for (unsigned i = 0; i < n; i++) {
            char dst[32];
            snprintf(dst, sizeof dst, "%u.%u.%u.25", 20 + th_rand(&r) % 200, th_rand(&r) % 250,
                     th_rand(&r) % 250);
            th_flow(&t, "10.0.0.6", dst, (uint16_t)(30000 + i), 25, 6, 0x02, 1, 60, T0 + i * 100,
                    0);
        }
        th_close(&t);
        const struct alert *a = th_find(&t, "spam.fanout");
        assert_non_null(a);
        assert_true(ev_num(a, "distinct_dst") <= ev_num(a, "smtp_flows"));
        assert_true(ev_num(a, "distinct_nets") <= ev_num(a, "distinct_dst"));
        assert_int_equal(ev_num(a, "smtp_flows"), n);
        th_fini(&t);
    }
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

/* n sampled mail packets (1:rate) from host to n distinct MXs in n distinct /24s; every
 * fail_every-th a failed attempt's SYN, the others a delivery's pure ACK (as small as the SYN:
 * sampled, only the flags tell them apart). */
static void send_sampled(struct th *t, const char *host, unsigned n, unsigned fail_every,
                         uint32_t rate, unsigned first)
{
    for (unsigned i = 0; i < n; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "95.%u.%u.25", (first + i) / 200, (first + i) % 200);
        bool fail = fail_every && i % fail_every == 0;
        th_flow_sampled(t, host, dst, (uint16_t)(40000 + i), 25, 6, fail ? 0x02 : 0x10, 1,
                        fail ? 60 : 52, T0 + i * 1000, 0, rate);
    }
}

/* At 1:100 a mail connection attempt of 3 packets leaves a sample with p = 0.0297: the
 * thresholds (fanout 25, nets 20, high 100) are scaled by max(p, sampled_min 3 / 20) = 0.15 to
 * 4, 3 and 15 seen. A bot's 30 seen MXs in 30 /24s alert (fail_share 0.5: its SYNs), the
 * evidence names the rate and the thresholds in force; 3 seen MXs (below 4) and a sender of 10
 * delivered messages in 10 /24s (its small ACKs are no failures, fewer than 15 /24s) do not,
 * nor one whose 10 samples hold 2 SYNs (fail_share 0.2 from fewer than sampled_min failures). Unsampled (rate 1), 20 such destinations stay
 * below fanout 25: the configured thresholds apply as they are. */
static void sampled_thresholds(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    send_sampled(&t, "10.0.0.41", 30, 2, 100, 0);
    send_sampled(&t, "10.0.0.42", 3, 1, 100, 100);
    send_sampled(&t, "10.0.0.43", 10, 0, 100, 200);
    send_sampled(&t, "10.0.0.45", 10, 5, 100, 300); /* fail_share 0.2, but 2 failures seen */
    th_close(&t);
    assert_int_equal(th_count(&t, "spam.fanout", "10.0.0.41"), 1);
    assert_int_equal(t.nalerts, 1);
    const struct alert *a = th_find(&t, "spam.fanout");
    assert_int_equal(ev_num(a, "sampling_rate"), 100);
    assert_int_equal(ev_num(a, "threshold_fanout"), 4);
    assert_int_equal(ev_num(a, "threshold_nets"), 3);
    assert_int_equal(ev_num(a, "distinct_nets"), 30);
    assert_non_null(strstr(a->evidence_json, "\"fail_share\":0.5"));
    assert_int_equal(a->packets, 3000);
    assert_int_equal(a->severity, SEV_HIGH); /* 30 /24s >= the scaled fanout_high 15 */
    th_fini(&t);

    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    send_sampled(&t, "10.0.0.44", 20, 2, 1, 0);
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);

    /* At 1:1000 a bulk sender's 13 samples in 13 /24s (under the scaled fanout_high 15) hold 3
     * SYNs (fail_share 0.23 >= fail_min, 3 >= sampled_min): a client's sampled SYNs do that by
     * chance (the evaluation's benign_bulk at CI size did, spam.fanout), no evidence of failure.
     * A bot's 13 samples that are all SYNs are: it alerts. */
    assert_int_equal(th_init(&t, &det_spam_ops, NULL), 0);
    send_sampled(&t, "10.0.0.46", 13, 5, 1000, 0);
    send_sampled(&t, "10.0.0.47", 13, 1, 1000, 100);
    th_close(&t);
    assert_int_equal(th_count(&t, "spam.fanout", "10.0.0.47"), 1);
    assert_int_equal(t.nalerts, 1);
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
        cmocka_unit_test(evidence_is_the_windows_own),
        cmocka_unit_test(distinct_never_exceeds_flows),
        cmocka_unit_test(sampled_thresholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
