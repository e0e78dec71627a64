/* The customer verdict: alerts weighted by severity and score, hostile hosts (not hosts with any
 * alert), a minimum number of hostile hosts as well as a share, the count rule, min_active,
 * the day view, the trend, the named hosts and incidents in the evidence, bounded state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "hostility.h"
#include "rules.h"

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
    s.hostile_hosts = hostile;
    s.hosts_by_cat[CAT_SPAM] = hostile;
    return s;
}

static struct alert al(enum alert_category cat, enum alert_severity sev, double score)
{
    struct alert a;
    memset(&a, 0, sizeof a);
    a.category = cat;
    a.severity = sev;
    a.score = score;
    return a;
}

/* A host's weights as the pipeline keeps them: per category, its weightiest alert. */
static void add(const struct hostility_conf *c, uint8_t w[CAT_COUNT], struct alert a)
{
    uint8_t x = hostility_alert_weight(c, &a);
    if (x > w[a.category])
        w[a.category] = x;
}

static void host_weights(void **st)
{
    (void)st;
    struct hostility_conf c;
    assert_int_equal(conf_defaults(hostility_conf_keys, &c), 0);
    uint8_t w[CAT_COUNT];

    /* a lone beacon barely over its detector's threshold is not a hostile host... */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_C2, SEV_MEDIUM, 0.85));
    assert_false(hostility_host_hostile(&c, w));
    /* ...nor is the same beacon raised every window of a day (repeats do not add up) */
    for (int i = 0; i < 288; i++)
        add(&c, w, al(CAT_C2, SEV_MEDIUM, 0.85));
    assert_false(hostility_host_hostile(&c, w));
    /* a low-confidence, low-severity finding never alone: a listed address knocking on it */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_BLOCKLIST, SEV_LOW, 0.4));
    add(&c, w, al(CAT_C2, SEV_LOW, 0.9));
    assert_false(hostility_host_hostile(&c, w));
    /* one confident high-severity finding is enough */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_SPAM, SEV_HIGH, 0.8));
    assert_true(hostility_host_hostile(&c, w));
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_BLOCKLIST, SEV_CRITICAL, 0.95));
    assert_true(hostility_host_hostile(&c, w));
    /* but not a high-severity alert the detector itself doubts */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_C2, SEV_HIGH, 0.5));
    assert_false(hostility_host_hostile(&c, w));
    /* two medium findings of different kinds: a beacon and a sweep from one host */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_C2, SEV_MEDIUM, 0.85));
    add(&c, w, al(CAT_SCAN, SEV_MEDIUM, 0.7));
    assert_true(hostility_host_hostile(&c, w));
    /* a brute force past det_bruteforce's `high` (100 guesses in its window) is enough; one
     * at medium severity (20-99) alone is not, with a scan of the same host it is */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_BRUTEFORCE, SEV_HIGH, 0.98));
    assert_true(hostility_host_hostile(&c, w));
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_BRUTEFORCE, SEV_MEDIUM, 0.84));
    assert_false(hostility_host_hostile(&c, w));
    add(&c, w, al(CAT_SCAN, SEV_MEDIUM, 0.7));
    assert_true(hostility_host_hostile(&c, w));
    /* customer-level findings are not a host's */
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_CUSTOMER, SEV_HIGH, 1.0));
    assert_false(hostility_host_hostile(&c, w));
    /* weights are configurable */
    c.weight_medium = 1.0;
    memset(w, 0, sizeof w);
    add(&c, w, al(CAT_C2, SEV_MEDIUM, 0.85));
    assert_true(hostility_host_hostile(&c, w));
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
    rule_apply(&a); /* as the pipeline does: the category is the rule table's */
    assert_int_equal(a.category, CAT_CUSTOMER);
    assert_int_equal(a.customer, 2);
    assert_false(a.has_host);
    assert_true(a.score > 0.5 && a.score <= 1);
    assert_non_null(strstr(ev, "\"hostile_share\":0.0750"));
    assert_non_null(strstr(ev, "\"spam\":30"));
    s = mk("tiny", 1, 5, 5); /* below min_active */
    assert_int_equal(hostility_window(h, 3, &s, &a, ev, sizeof ev), 0);
    s = mk("big", 1, 100000, 60); /* count rule */
    assert_int_equal(hostility_window(h, 4, &s, &a, ev, sizeof ev), 1);
    s = mk("two", 1, 20, 2); /* 10 % but fewer than min_hosts */
    assert_int_equal(hostility_window(h, 5, &s, &a, ev, sizeof ev), 0);
    s = mk("three", 1, 20, 3); /* min_hosts and the share */
    assert_int_equal(hostility_window(h, 6, &s, &a, ev, sizeof ev), 1);
    /* many hosts with alerts, few of them hostile: a customer whose hosts raise only weak
     * alerts (lone beacons, inbound list hits) is not condemned */
    s = mk("noisy", 1, 100, 2);
    s.hosts_alerted = 40;
    s.hosts_by_cat[CAT_C2] = 40;
    assert_int_equal(hostility_window(h, 7, &s, &a, ev, sizeof ev), 0);
    hostility_free(h);
}

/* The evidence names the hosts it counted and their incidents; the list is bounded. */
static void names_hosts_and_incidents(void **st)
{
    (void)st;
    struct hostility *h;
    assert_int_equal(hostility_new(NULL, &h), 0);
    struct alert a;
    char ev[HOSTILITY_EVIDENCE_MAX];
    struct summary s = mk("bad", 1, 40, 12);
    s.nnamed = SUMMARY_NAMED;
    for (uint32_t i = 0; i < SUMMARY_NAMED; i++) {
        struct summary_host *n = &s.named[i];
        char ip[32];
        snprintf(ip, sizeof ip, "10.9.0.%u", i + 1);
        assert_int_equal(addr_parse(ip, n->h.addr), 0);
        n->h.weight = n->h.weight_day = (uint16_t)(150 - i);
        n->h.cats_day = (1u << CAT_C2) | (1u << CAT_SCAN);
        n->incidents_total = 5;
        n->nincidents = SUMMARY_INCIDENTS;
        for (uint32_t k = 0; k < SUMMARY_INCIDENTS; k++) {
            snprintf(n->incidents[k].event_id, sizeof n->incidents[k].event_id, "%08x%08x%08x%08x",
                     i, k, i, k);
            snprintf(n->incidents[k].rule_id, sizeof n->incidents[k].rule_id, "%s",
                     k % 2 ? "scan.trw" : "beacon.slow");
        }
    }
    assert_int_equal(hostility_window(h, 1, &s, &a, ev, sizeof ev), 1);
    assert_non_null(a.evidence_json);
    assert_non_null(strstr(ev, "\"hostile\":[{\"ip\":\"10.9.0.1\",\"weight\":1.50"));
    assert_non_null(strstr(ev, "\"categories\":[\"c2\",\"scan\"]"));
    assert_non_null(
        strstr(ev, "{\"event_id\":\"00000000000000010000000000000001\",\"rule\":\"scan.trw\"}"));
    assert_non_null(strstr(ev, "\"ip\":\"10.9.0.8\""));
    assert_non_null(strstr(ev, "\"incidents_total\":5"));
    assert_non_null(strstr(ev, "\"hostile_hosts\":12"));
    assert_non_null(strstr(ev, "\"threshold_hosts\":3"));
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
    struct hostility_conf c;
    assert_int_equal(conf_defaults(hostility_conf_keys, &c), 0);
    c.max_customers = 2;
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
static void day_view(void **st)
{
    (void)st;
    struct hostility *h;
    assert_int_equal(hostility_new(NULL, &h), 0);
    struct alert a;
    char ev[HOSTILITY_EVIDENCE_MAX];
    struct summary s = mk("intercage", 64600, 200, 1); /* 0.5 % in this window */
    s.active_hosts_day = 400;
    s.hosts_alerted_day = 320;
    s.hostile_hosts_day = 312; /* 78 % over the day */
    assert_int_equal(hostility_window(h, 1, &s, &a, ev, sizeof ev), 1);
    assert_string_equal(a.rule_id, "customer.hostile_share");
    assert_int_equal(a.severity, SEV_HIGH);
    assert_non_null(strstr(
        ev, "\"last_24h\":{\"active_hosts\":400,\"hostile_hosts\":312,\"hostile_share\":0.7800"));
    assert_non_null(strstr(ev, "\"view\":\"last_24h\""));
    /* a clean customer in both views: nothing, however many weak alerts it had */
    struct summary c = mk("clean", 64601, 200, 1);
    c.active_hosts_day = 400;
    c.hosts_alerted_day = 150;
    c.hostile_hosts_day = 2;
    assert_int_equal(hostility_window(h, 2, &c, &a, ev, sizeof ev), 0);
    hostility_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_weights),
        cmocka_unit_test(rules),
        cmocka_unit_test(names_hosts_and_incidents),
        cmocka_unit_test(day_view),
        cmocka_unit_test(trend),
        cmocka_unit_test(bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
