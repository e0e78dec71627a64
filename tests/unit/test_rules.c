/* The rule table: every entry complete (a name, a description of some length, an https
 * reference, a category, a message template using only known placeholders); every rule the
 * detectors on this branch raise has one; rule_apply takes name and category from it; the
 * templates fill from an alert and its evidence, and what cannot be filled shows as {?NAME}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "rules.h"

static bool known_placeholder(const char *name, size_t n)
{
    static const char *const names[] = {"host",    "peer",  "customer", "src",     "dst",
                                        "verb",    "port",  "proto",    "service", "flows",
                                        "packets", "bytes", "first",    "last",    "feeds"};
    if (n > 3 && strncmp(name, "ev.", 3) == 0) {
        const char *colon = memchr(name, ':', n);
        if (!colon)
            return true;
        size_t fl = n - (size_t)(colon + 1 - name);
        return (fl == 3 && strncmp(colon + 1, "pct", 3) == 0) ||
               (fl == 3 && strncmp(colon + 1, "int", 3) == 0) ||
               (fl == 4 && strncmp(colon + 1, "bits", 4) == 0) ||
               (fl == 5 && strncmp(colon + 1, "about", 5) == 0) ||
               (fl == 4 && strncmp(colon + 1, "time", 4) == 0) ||
               (fl > 2 && strncmp(colon + 1, "n ", 2) == 0); /* a count and its noun */
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
            return true;
    return false;
}

static void test_table_complete(void **st)
{
    (void)st;
    assert_true(rule_count >= 18);
    for (size_t i = 0; i < rule_count; i++) {
        const struct rule_def *r = &rule_table[i];
        print_message("%s\n", r->id);
        assert_non_null(strchr(r->id, '.'));
        assert_non_null(r->detector);
        assert_true(strlen(r->name) >= 10);
        assert_true(strlen(r->description) >= 60);
        assert_int_equal(strncmp(r->reference, "https://", 8), 0);
        assert_true((unsigned)r->category < CAT_COUNT);
        assert_ptr_equal(rule_find(r->id), r);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(rule_table[k].id, r->id);
        /* every placeholder of the template is one the renderer knows */
        for (const char *p = r->message; (p = strchr(p, '{')) != NULL;) {
            const char *e = strchr(p, '}');
            assert_non_null(e);
            if (!known_placeholder(p + 1, (size_t)(e - p - 1)))
                fail_msg("%s: unknown placeholder %.*s", r->id, (int)(e - p + 1), p);
            p = e + 1;
        }
    }
    assert_null(rule_find("nosuch.rule"));
    assert_null(rule_find(NULL));
}

/* The rule ids raised by the detectors and the collector today: each has its entry. A
 * detector added later adds its own. */
static void test_known_rules_listed(void **st)
{
    (void)st;
    static const char *const ids[] = {
        "blocklist.peer_listed",
        "blocklist.host_listed",
        "blocklist.customer_space_listed",
        "spam.fanout",
        "spam.mta_fanout",
        "beacon.fast",
        "beacon.slow",
        "beacon.long_session",
        "bruteforce.login",
        "bruteforce.horizontal",
        "scan.horizontal",
        "scan.vertical",
        "scan.trw",
        "scan.icmp_sweep",
        "flood.pps",
        "flood.bps",
        "flood.baseline",
        "customer.hostile_share",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (!rule_find(ids[i]))
            fail_msg("%s has no entry in core/rules.c", ids[i]);
}

static void test_apply(void **st)
{
    (void)st;
    struct alert a = {.rule_id = "scan.vertical", .rule_name = "old", .category = CAT_SPAM};
    rule_apply(&a);
    assert_string_equal(a.rule_name, rule_find("scan.vertical")->name);
    assert_int_equal(a.category, CAT_SCAN);
    struct alert b = {.rule_id = "nosuch.rule", .category = CAT_FLOOD};
    rule_apply(&b);
    assert_string_equal(b.rule_name, "nosuch.rule");
    assert_int_equal(b.category, CAT_FLOOD);
}

static void test_render(void **st)
{
    (void)st;
    struct alert a = {
        .rule_id = "beacon.fast",
        .customer_id = "acme",
        .has_host = true,
        .has_peer = true,
        .host_is_source = true,
        .proto = 6,
        .port = 443,
        .flows = 42,
        .bytes = 9100,
        .first_ms = 1700000000000ULL,                  /* 2023-11-14 22:13:20 */
        .win_end_ms = 1700000000000ULL + 2 * 86400000, /* two days later */
        /* the pair's own first check-in: a C2 list's incident began earlier (first_ms) */
        .evidence_json = "{\"period_s\":60.2,\"mad_s\":4,\"checkins\":42,\"schedule\":\"regular\","
                         "\"first_checkin\":\"2023-11-14T23:45:01.250Z\","
                         "\"share\":0.9491,"
                         "\"bps\":1478926,\"list\":[\"a\",\"b\"],\"o\":{\"k\":7},"
                         "\"exact\":false,\"sure\":true}",
    };
    addr_parse("10.1.2.3", a.host);
    addr_parse("203.0.113.9", a.peer);
    char buf[512];
    rule_message(&a, buf, sizeof buf);
    assert_string_equal(buf,
                        "10.1.2.3 (customer acme) contacted 203.0.113.9:443 every 60.2 s "
                        "\u00b14 s (regular schedule), 42 check-ins since 2023-11-14 23:45 UTC");
    rule_render("{ev.share:pct} {ev.bps:bits} {ev.period_s:int} {ev.list} {ev.o.k} {bytes} "
                "{service} {verb} {flows}",
                &a, buf, sizeof buf);
    assert_string_equal(buf, "95 % 1.5 Mbit/s 60 a, b 7 9.1 kB tcp port 443 contacted 42");
    /* an estimated count says so ("exact": false), an exact one does not; not on a number */
    rule_render("[{ev.exact:about}{ev.checkins}] [{ev.sure:about}{ev.checkins}] {ev.mad_s:about}",
                &a, buf, sizeof buf);
    assert_string_equal(buf, "[about 42] [42] {?ev.mad_s:about}");
    /* an ISO time in the evidence, shown as {first} is (the date when another day than the
     * window's end, none when the same); not a time, not a string: not shown */
    rule_render("{ev.first_checkin:time}|{first}|{ev.schedule:time}|{ev.checkins:time}", &a, buf,
                sizeof buf);
    assert_string_equal(buf, "2023-11-14 23:45 UTC|2023-11-14 22:13 UTC|{?ev.schedule:time}|"
                             "{?ev.checkins:time}");
    uint64_t we = a.win_end_ms;
    a.win_end_ms = 1700000000000ULL + 3600000;
    rule_render("{ev.first_checkin:time}", &a, buf, sizeof buf);
    assert_string_equal(buf, "23:45 UTC");
    a.win_end_ms = we;
    /* a count with its noun, one or more */
    const char *ev0 = a.evidence_json;
    a.evidence_json = "{\"one\":1,\"two\":2,\"zero\":0,\"word\":\"x\"}";
    rule_render("{ev.one:n session}, {ev.two:n session}, {ev.zero:n host}, "
                "{ev.one:n address|addresses}, {ev.two:n address|addresses}, {ev.word:n host}",
                &a, buf, sizeof buf);
    assert_string_equal(buf, "1 session, 2 sessions, 0 hosts, 1 address, 2 addresses, "
                             "{?ev.word:n host}");
    a.evidence_json = ev0;
    /* the peer started it: it is the source; the host's side says whose it is */
    a.host_is_source = false;
    a.direction_unknown = true;
    rule_render("{src} {verb} {dst}", &a, buf, sizeof buf);
    assert_string_equal(buf, "203.0.113.9 exchanged traffic with 10.1.2.3:443 (customer acme)");
    /* what cannot be filled stays visible */
    rule_render("{ev.nosuch} {ev.o} {nosuch} {feeds} {ev.share:nosuch}", &a, buf, sizeof buf);
    assert_string_equal(buf, "{?ev.nosuch} {?ev.o} {?nosuch} {?feeds} {?ev.share:nosuch}");
    a.evidence_json = "{not json";
    rule_render("{ev.period_s}", &a, buf, sizeof buf);
    assert_string_equal(buf, "{?ev.period_s}");
    /* cut at the buffer, always terminated */
    a.evidence_json = NULL;
    assert_int_equal(rule_render("{host} and more text", &a, buf, 6), 5);
    assert_string_equal(buf, "10.1.");
    /* a rule without an entry still says what and whom */
    a.rule_id = "nosuch.rule";
    rule_message(&a, buf, sizeof buf);
    assert_string_equal(buf, "nosuch.rule alert for 10.1.2.3 (customer acme)");
    /* enrichments name their feeds and listings */
    struct alert_enrichment en[2] = {{.feed = "drop", .name = "SBL1"},
                                     {.feed = "mine", .name = "mine"}};
    a.enrich = en;
    a.nenrich = 2;
    rule_render("{feeds}", &a, buf, sizeof buf);
    assert_string_equal(buf, "drop (SBL1), mine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_known_rules_listed),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
