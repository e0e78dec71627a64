/* The text rendering of the messages (replay --format text): an alert line under one header,
 * summaries into the customer table, the table, the rules' meaning and the totals' sentence at
 * the totals (or at the end without them, once); an alert of a rule without an entry says so;
 * what is not JSON gives a line, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "alert_json.h"
#include "rules.h"
#include "summary.h"
#include "text_out.h"

static size_t alert_text(struct text_out *t, const char *rule, char *out, size_t cap)
{
    struct alert a = {
        .detector = "scan",
        .rule_id = rule,
        .severity = SEV_HIGH,
        .score = 0.9,
        .customer = 1,
        .has_host = true,
        .host_is_source = true,
        .proto = 6,
        .port = 22,
        .win_start_ms = 1700000000000ULL,
        .win_end_ms = 1700000060000ULL,
        .first_ms = 1700000001000ULL,
        .last_ms = 1700000059000ULL,
        .flows = 60,
        .evidence_json = "{\"distinct_targets_hour\":60,\"distinct_targets_day\":60,"
                         "\"exact\":true,\"unanswered_share\":0.95}",
        .customer_id = "acme",
        .customer_name = "Acme",
        .repeat_count = 1,
    };
    addr_parse("192.0.2.10", a.host);
    rule_apply(&a);
    char json[ALERT_JSON_MAX];
    int n = alert_json_format(&a, json, sizeof json);
    assert_true(n > 0);
    return text_out_message(t, MSG_ALERT, json, (size_t)n, out, cap);
}

static void test_render(void **st)
{
    (void)st;
    struct text_out *t;
    assert_int_equal(text_out_new(&t), 0);
    char out[16384];
    alert_text(t, "scan.horizontal", out, sizeof out);
    assert_int_equal(strncmp(out, "time (UTC)", 10), 0);
    assert_non_null(strstr(out, "\n2023-11-14 22:14:20  high      acme            192.0.2.10       "
                                "scan.horizontal               *:22                   192.0.2.10 "
                                "(customer acme) probed 60 addresses on tcp port 22"));
    alert_text(t, "scan.horizontal", out, sizeof out); /* no second header */
    assert_null(strstr(out, "time (UTC)"));
    alert_text(t, "nosuch.rule", out, sizeof out);
    assert_non_null(strstr(out, "nosuch.rule alert for 192.0.2.10 (customer acme)"));
    struct summary s;
    memset(&s, 0, sizeof s);
    s.customer_id = "acme";
    s.customer_name = "Acme";
    s.win_start_ms = 1700000000000ULL;
    s.win_end_ms = 1700000060000ULL;
    s.out.flows = 7;
    s.out.bytes = 2500;
    s.active_hosts = 3;
    s.active_hosts_day = 9; /* the table's "active 24h": the 24-hour view, not the window's */
    s.hosts_alerted_day = 2;
    s.hostile_hosts_day = 1;
    s.alerts = 2;
    char json[ALERT_JSON_MAX];
    int n = summary_json_format(&s, json, sizeof json);
    assert_true(n > 0);
    assert_int_equal(text_out_message(t, MSG_SUMMARY, json, (size_t)n, out, sizeof out), 0);
    assert_int_equal(text_out_message(t, MSG_SUMMARY, json, (size_t)n, out, sizeof out), 0);
    static const char totals[] = "{\"message\":\"transitwatch totals: 9 flow records\"}";
    text_out_message(t, MSG_TOTALS, totals, sizeof totals - 1, out, sizeof out);
    assert_non_null(strstr(out,
                           "\nacme                   2          9           2           1       4"
                           "          14           0     5.0 kB        0 B\n"));
    assert_non_null(strstr(out, "  scan.horizontal (2): Host probes many addresses on one port\n"
                                "    A customer host tried one port"));
    assert_non_null(strstr(out, "    https://attack.mitre.org/techniques/T1046/\n"));
    assert_non_null(strstr(out, "  nosuch.rule (1): nosuch.rule\n    (no description"));
    assert_non_null(strstr(out, "\ntransitwatch totals: 9 flow records\n"));
    /* the table is given once: not again at the end */
    assert_int_equal(text_out_finish(t, out, sizeof out), 0);
    /* not JSON */
    n = (int)text_out_message(t, MSG_ALERT, "{\"x\":", 5, out, sizeof out);
    assert_true(n > 0);
    assert_non_null(strstr(out, "not JSON"));
    text_out_free(t);
}

/* Without totals (--no-totals), the table comes at the end; with no alerts it says so. */
static void test_finish(void **st)
{
    (void)st;
    struct text_out *t;
    assert_int_equal(text_out_new(&t), 0);
    char out[4096];
    assert_true(text_out_finish(t, out, sizeof out) > 0);
    assert_string_equal(out, "no alerts\n");
    assert_int_equal(text_out_finish(t, out, sizeof out), 0);
    text_out_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
