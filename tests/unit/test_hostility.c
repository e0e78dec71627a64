/* The customer hostility score: share and count rules, min_active, trend, per-customer state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hostility.h"

static struct summary mk(const char *id, uint64_t win, uint64_t active, uint64_t hostile)
{
    struct summary s;
    memset(&s, 0, sizeof s);
    s.customer_id = id;
    s.customer_name = id;
    s.win_start_ms = win * 300000;
    s.win_end_ms = s.win_start_ms + 300000;
    s.active_hosts = active;
    s.hosts_alerted = hostile;
    s.hosts_by_cat[CAT_SPAM] = hostile;
    return s;
}

static void rules(void **st)
{
    (void)st;
    struct hostility *h;
    assert_int_equal(hostility_new(NULL, &h), 0);
    struct alert a;
    char ev[HOSTILITY_EVIDENCE_MAX];
    struct summary s = mk("isp", 1, 3000, 20); /* 0.7 %: no */
    assert_int_equal(hostility_window(h, 1, &s, &a, ev, sizeof ev), 0);
    s = mk("bad", 1, 400, 30); /* 7.5 %: yes */
    assert_int_equal(hostility_window(h, 2, &s, &a, ev, sizeof ev), 1);
    assert_string_equal(a.rule_id, "customer.hostile_share");
    assert_int_equal(a.category, CAT_CUSTOMER);
    assert_int_equal(a.customer, 2);
    assert_false(a.has_host);
    assert_true(a.score > 0.5 && a.score <= 1);
    assert_non_null(strstr(ev, "\"hostile_share\":0.075"));
    assert_non_null(strstr(ev, "\"spam\":30"));
    s = mk("tiny", 1, 5, 5); /* below min_active */
    assert_int_equal(hostility_window(h, 3, &s, &a, ev, sizeof ev), 0);
    s = mk("big", 1, 100000, 60); /* count rule */
    assert_int_equal(hostility_window(h, 4, &s, &a, ev, sizeof ev), 1);
    s = mk("two", 1, 20, 2); /* 10 % but fewer than min_hosts */
    assert_int_equal(hostility_window(h, 5, &s, &a, ev, sizeof ev), 0);
    hostility_free(h);
}

static void trend(void **st)
{
    (void)st;
    struct hostility *h;
    assert_int_equal(hostility_new(NULL, &h), 0);
    struct alert a;
    char ev[HOSTILITY_EVIDENCE_MAX];
    int r = 0;
    for (uint64_t w = 0; w < 15; w++) {
        struct summary s = mk("bad", w, 100, w); /* rising */
        r = hostility_window(h, 1, &s, &a, ev, sizeof ev);
    }
    assert_int_equal(r, 1);
    /* 12 windows kept, oldest first */
    assert_non_null(strstr(ev, "\"trend_hostile\":[3,4,5,6,7,8,9,10,11,12,13,14]"));
    uint64_t tracked, refused;
    hostility_stats(h, &tracked, &refused);
    assert_int_equal(tracked, 1);
    hostility_free(h);
}

static void bounded(void **st)
{
    (void)st;
    struct hostility_conf c = {.min_active = 10, .min_hosts = 3, .share = 0.05, .count = 50, .max_customers = 2};
    struct hostility *h;
    assert_int_equal(hostility_new(&c, &h), 0);
    struct alert a;
    char ev[HOSTILITY_EVIDENCE_MAX];
    const char *ids[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        struct summary s = mk(ids[i], 1, 100, 50);
        int r = hostility_window(h, (uint32_t)i + 1, &s, &a, ev, sizeof ev);
        assert_int_equal(r, i < 2 ? 1 : 0);
    }
    uint64_t tracked, refused;
    hostility_stats(h, &tracked, &refused);
    assert_int_equal(tracked, 2);
    assert_int_equal(refused, 1);
    hostility_free(h);
}

/* Bad hosts spread over a day: below the share in the window, condemned over 24 hours. */
static void test_day_view(void **st)
{
    struct hostility *h;
    assert_int_equal(hostility_new(NULL, &h), 0);
    struct alert a;
    char ev[HOSTILITY_EVIDENCE_MAX];
    struct summary s = mk("intercage", 64600, 200, 1); /* 0.5 % in this window */
    s.active_hosts_day = 400;
    s.hosts_alerted_day = 312; /* 78 % over the day */
    assert_int_equal(hostility_window(h, 1, &s, &a, ev, sizeof ev), 1);
    assert_string_equal(a.rule_id, "customer.hostile_share");
    assert_int_equal(a.severity, SEV_HIGH);
    assert_non_null(strstr(ev, "\"last_24h\":{\"active_hosts\":400,\"hostile_hosts\":312,\"hostile_share\":0.7800"));
    assert_non_null(strstr(ev, "\"view\":\"last_24h\""));
    /* a clean customer in both views: nothing */
    struct summary c = mk("clean", 64601, 200, 1);
    c.active_hosts_day = 400;
    c.hosts_alerted_day = 2;
    assert_int_equal(hostility_window(h, 2, &c, &a, ev, sizeof ev), 0);
    hostility_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_view),
        cmocka_unit_test(rules),
        cmocka_unit_test(trend),
        cmocka_unit_test(bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
