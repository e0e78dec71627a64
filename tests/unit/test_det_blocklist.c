/* det_blocklist's host alerts: direction from who started the connections (a listed host
 * connecting to a customer's port 7547 is inbound, with the customer's service port as the
 * destination), one alert per event naming every feed that lists the party, listing names
 * never empty, a reference where the listing names one, listed ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"
#include "feeds.h"

extern const struct detector_ops det_blocklist_ops;
#define T0 1221868800000ULL

static const char *const DROP =
    "; Spamhaus DROP\n198.19.64.0/18 ; SBL000003\n45.0.0.0/16 ; SBL000044\n";
static const char *const PLAIN =
    "# a plain list: addresses, no listing names\n198.19.66.1\n45.0.9.9\n";
static const char *const FEODO =
    "# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
    "\"2025-11-02 10:11:12\",\"45.0.9.9\",\"443\",\"online\",\"2026-01-05\",\"QakBot\"\n";

static struct feed_set *make_set(void)
{
    struct feed_set *s;
    if (feed_set_new(&s) < 0)
        return NULL;
    const char *names[3] = {"drop", "plain", "feodo"};
    const char *texts[3] = {DROP, PLAIN, FEODO};
    for (int i = 0; i < 3; i++) {
        struct feed *f;
        struct conf_error err;
        if (feed_load_mem(names[i], names[i], texts[i], strlen(texts[i]), FEED_AUTO, 0, &f, &err) <
                0 ||
            feed_set_add(s, f) < 0) {
            feed_set_free(s);
            return NULL;
        }
    }
    return s;
}

static const struct alert *find_host(const struct th *t, const char *host)
{
    uint8_t a[16];
    if (addr_parse(host, a) < 0)
        return NULL;
    for (size_t i = 0; i < t->nalerts; i++)
        if (memcmp(t->alerts[i].host, a, 16) == 0)
            return &t->alerts[i];
    return NULL;
}

static bool addr_is(const uint8_t a[16], const char *text)
{
    uint8_t b[16];
    return addr_parse(text, b) == 0 && memcmp(a, b, 16) == 0;
}

static void direction_from_the_initiator(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_blocklist_ops, NULL), 0);
    struct feed_set *fs = make_set();
    assert_non_null(fs);
    t.ctx.feeds = fs;
    /* the case: a listed host reaches a customer's TR-069 port 7547; only the
     * customer's answer (SYN+ACK from 7547 to the listed host's 47700) was exported */
    th_flow(&t, "10.0.0.7", "198.19.66.1", 7547, 47700, 6, 0x12, 1, 44, T0 + 1000, 0);
    /* both directions of the same for another customer host */
    th_flow(&t, "198.19.66.1", "10.0.0.8", 47702, 7547, 6, 0x02, 1, 60, T0 + 2000, 0);
    th_flow(&t, "10.0.0.8", "198.19.66.1", 7547, 47702, 6, 0x14, 1, 40, T0 + 2001, 0);
    /* a customer host calling a listed C2 on 443 */
    th_flow(&t, "10.0.0.9", "45.0.9.9", 51000, 443, 6, 0x1b, 12, 1500, T0 + 3000, 500);
    th_flow(&t, "45.0.9.9", "10.0.0.9", 443, 51000, 6, 0x1b, 10, 8000, T0 + 3000, 500);
    /* nobody can tell: UDP between two dynamic ports */
    th_flow(&t, "10.0.0.10", "45.0.3.3", 40000, 50000, 17, 0, 1, 100, T0 + 4000, 0);
    th_close(&t);

    const struct alert *a = find_host(&t, "10.0.0.7");
    assert_non_null(a);
    assert_string_equal(a->rule_id, "blocklist.peer_listed");
    assert_false(a->host_is_source); /* the listed peer started it: inbound */
    assert_false(a->direction_unknown);
    assert_int_equal(a->port, 7547); /* the destination is the customer's service port */
    assert_int_equal(a->severity, SEV_LOW);
    assert_non_null(strstr(a->evidence_json, "\"initiator\":\"peer\""));
    a = find_host(&t, "10.0.0.8");
    assert_non_null(a);
    assert_false(a->host_is_source);
    assert_int_equal(a->port, 7547);
    assert_non_null(strstr(a->evidence_json, "\"initiator_basis\":\"tcp_syn\""));

    a = find_host(&t, "10.0.0.9");
    assert_non_null(a);
    assert_true(a->host_is_source); /* outbound */
    assert_int_equal(a->port, 443);
    assert_true(a->severity >= SEV_HIGH);
    assert_int_equal(a->flows, 2);
    assert_int_equal(a->bytes, 9500);

    a = find_host(&t, "10.0.0.10");
    assert_non_null(a);
    assert_true(a->direction_unknown);
    th_fini(&t);
    feed_set_free(fs);
}

static void one_alert_every_feed(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_blocklist_ops, NULL), 0);
    struct feed_set *fs = make_set();
    assert_non_null(fs);
    t.ctx.feeds = fs;
    for (int i = 0; i < 5; i++) /* 45.0.9.9 is on all three feeds, on Feodo with port 443 */
        th_flow(&t, "10.0.0.9", "45.0.9.9", (uint16_t)(51000 + i), 443, 6, 0x1b, 12, 1500,
                T0 + 3000 + i, 500);
    th_flow(&t, "10.0.0.11", "198.19.66.1", 52000, 22, 6, 0x02, 1, 60, T0 + 5000, 0); /* 2 feeds */
    th_close(&t);
    assert_int_equal(t.nalerts, 2);
    const struct alert *a = find_host(&t, "10.0.0.9");
    assert_non_null(a);
    assert_int_equal(a->nenrich, 3);
    assert_int_equal(a->severity, SEV_CRITICAL); /* the listed port was used */
    for (uint32_t i = 0; i < a->nenrich; i++) {
        assert_non_null(a->enrich[i].name);
        assert_true(a->enrich[i].name[0] != 0);
    }
    assert_string_equal(a->enrich[0].feed, "drop");
    assert_string_equal(a->enrich[0].name, "SBL000044");
    assert_string_equal(a->enrich[0].matched, "45.0.0.0/16");
    assert_string_equal(a->enrich[0].reference, "https://www.spamhaus.org/sbl/query/SBL000044");
    assert_string_equal(a->enrich[1].feed, "plain");
    assert_string_equal(a->enrich[1].name, "plain"); /* no listing name: the feed's */
    assert_null(a->enrich[1].reference);
    assert_string_equal(a->enrich[2].feed, "feodo");
    assert_string_equal(a->enrich[2].name, "QakBot");
    assert_int_equal(a->enrich[2].port, 443);
    assert_true(a->enrich[2].port_matched);
    assert_int_equal(a->flows, 5);
    assert_true(addr_is(a->peer, "45.0.9.9"));
    a = find_host(&t, "10.0.0.11");
    assert_non_null(a);
    assert_int_equal(a->nenrich, 2);
    assert_true(a->host_is_source);
    th_fini(&t);
    feed_set_free(fs);
}

static void listed_customer_host(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_blocklist_ops, NULL), 0);
    struct feed *f;
    struct feed_set *fs;
    struct conf_error err;
    const char *list = "10.0.0.66\n";
    assert_int_equal(feed_load_mem("own", "own", list, strlen(list), FEED_PLAIN, 0, &f, &err), 0);
    assert_int_equal(feed_set_new(&fs), 0);
    assert_int_equal(feed_set_add(fs, f), 0);
    t.ctx.feeds = fs;
    /* the Internet reaching a C2 panel the customer hosts on 8443 */
    th_flow(&t, "93.1.2.3", "10.0.0.66", 50123, 8443, 6, 0x02, 1, 60, T0 + 1000, 0);
    th_close(&t);
    const struct alert *a = th_find(&t, "blocklist.host_listed");
    assert_non_null(a);
    assert_true(a->indicator_is_host);
    assert_false(a->host_is_source);
    assert_int_equal(a->port, 8443);
    assert_int_equal(a->nenrich, 1);
    assert_string_equal(a->enrich[0].name, "own");
    th_fini(&t);
    feed_set_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direction_from_the_initiator),
        cmocka_unit_test(one_alert_every_feed),
        cmocka_unit_test(listed_customer_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
