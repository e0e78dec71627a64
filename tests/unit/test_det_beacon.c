/* det_beacon on hand-built flows: jittered fast and slow beacons alert with their period; an
 * NTP client to the customer's resolver, an exporter-split long session, Poisson-like traffic
 * to one server and inbound periodic traffic do not. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"

extern const struct detector_ops det_beacon_ops;
#define T0 1221868800000ULL

/* connections from host to peer:port every period_ms +- jitter (fraction), n times */
static uint64_t beacon(struct th *t, const char *host, const char *peer, uint16_t port, uint8_t proto,
                       uint64_t t0, uint64_t period_ms, double jitter, unsigned n, uint64_t *rs)
{
    uint64_t ts = t0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t by = 300 + th_rand(rs) % 20;
        th_flow(t, host, peer, (uint16_t)(40000 + i), port, proto, proto == 6 ? 0x1b : 0, 5, by, ts, 400);
        double j = ((th_rand(rs) % 2001) / 1000.0 - 1.0) * jitter;
        ts += (uint64_t)((double)period_ms * (1.0 + j));
    }
    return ts;
}

static double evidence_num(const char *ev, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(ev, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

static void fast_beacon_minutes(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 11;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end = beacon(&t, "10.0.0.5", "198.51.100.7", 443, 6, T0, 10000, 0.2, 60, &rs);
    th_advance_to(&t, end + 300000);
    assert_true(th_count(&t, "beacon.fast", "10.0.0.5") >= 1);
    const struct alert *a = th_find(&t, "beacon.fast");
    /* flagged in the first window: 30 connections in its 5 minutes */
    assert_int_equal(a->win_start_ms, T0);
    assert_int_equal(a->category, CAT_C2);
    assert_true(a->has_peer);
    double period = evidence_num(a->evidence_json, "period_s");
    assert_true(fabs(period - 10.0) < 1.0);
    assert_int_equal(th_count(&t, "beacon.slow", NULL), 0);
    th_fini(&t);
}

static void slow_beacon_hours(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 12;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end = beacon(&t, "10.0.0.6", "198.51.100.8", 8080, 6, T0, 15 * 60000, 0.15, 12, &rs);
    th_advance_to(&t, end + 300000);
    assert_true(th_count(&t, "beacon.slow", "10.0.0.6") >= 1);
    const struct alert *a = th_find(&t, "beacon.slow");
    double period = evidence_num(a->evidence_json, "period_s");
    assert_true(fabs(period - 900.0) < 90.0);
    /* needs slow_min intervals: not before about 75 min */
    assert_true(a->win_end_ms >= T0 + 75 * 60000);
    assert_int_equal(th_count(&t, "beacon.fast", NULL), 0);
    th_fini(&t);
}

static void ntp_to_resolver_quiet(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 13;
    assert_int_equal(th_init(&t, &det_beacon_ops, "resolvers=203.0.113.53/32, 203.0.113.123/32"), 0);
    beacon(&t, "10.0.0.7", "203.0.113.123", 123, 17, T0, 64000, 0.01, 120, &rs);
    beacon(&t, "10.0.0.7", "203.0.113.53", 53, 17, T0, 30000, 0.05, 200, &rs);
    th_advance_to(&t, T0 + 4 * 3600000ULL);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);

    /* the same client to an unlisted server is periodic and alerts */
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    beacon(&t, "10.0.0.7", "203.0.113.123", 123, 17, T0, 64000, 0.01, 120, &rs);
    th_advance_to(&t, T0 + 4 * 3600000ULL);
    assert_true(th_count(&t, "beacon.fast", "10.0.0.7") >= 1);
    th_fini(&t);
}

static void split_session_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    /* one 2 h TCP session, exported as a record every 60 s (active timeout) */
    for (unsigned i = 0; i < 120; i++)
        th_flow(&t, "10.0.0.8", "198.51.100.22", 51515, 22, 6, i == 0 ? 0x1a : 0x18, 40, 4000,
                T0 + i * 60000ULL, 59990);
    th_advance_to(&t, T0 + 3 * 3600000ULL);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void poisson_quiet(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 99;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0;
    for (unsigned i = 0; i < 300; i++) { /* exponential gaps, mean 30 s; sizes vary */
        double u = (th_rand(&rs) % 100000 + 1) / 100001.0;
        ts += (uint64_t)(-log(u) * 30000.0);
        th_flow(&t, "10.0.0.9", "151.101.1.1", (uint16_t)(40000 + i), 443, 6, 0x1b, 20,
                500 + th_rand(&rs) % 50000, ts, 800);
    }
    th_advance_to(&t, ts + 600000);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void inbound_periodic_quiet(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 5;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    /* an outside monitor polls a customer server every 60 s */
    beacon(&t, "198.51.100.50", "10.0.0.10", 443, 6, T0, 60000, 0.0, 100, &rs);
    th_advance_to(&t, T0 + 2 * 3600000ULL);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void allow_list(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 6;
    assert_int_equal(th_init(&t, &det_beacon_ops, "allow=198.51.100.0/24"), 0);
    beacon(&t, "10.0.0.5", "198.51.100.7", 443, 6, T0, 10000, 0.2, 60, &rs);
    th_advance_to(&t, T0 + 3600000ULL);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void bounded_pool(void **st)
{
    (void)st;
    struct th t;
    uint64_t rs = 7;
    assert_int_equal(th_init(&t, &det_beacon_ops, "max_pairs=64"), 0);
    /* 400 pairs of 4 connections each compete for 64 slots; the beacon still gets found */
    for (unsigned i = 0; i < 400; i++) {
        char peer[32];
        snprintf(peer, sizeof peer, "151.%u.%u.1", i / 200, i % 200);
        for (unsigned k = 0; k < 4; k++)
            th_flow(&t, "10.0.0.11", peer, (uint16_t)(30000 + k), 443, 6, 0x1b, 5, 300,
                    T0 + i * 500 + k * 100, 10);
    }
    uint64_t end = beacon(&t, "10.0.0.5", "198.51.100.7", 443, 6, T0 + 200000, 10000, 0.2, 60, &rs);
    th_advance_to(&t, end + 300000);
    assert_true(th_count(&t, "beacon.fast", "10.0.0.5") >= 1);
    assert_int_equal(th_count(&t, NULL, "10.0.0.11"), 0);
    th_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_beacon_minutes),
        cmocka_unit_test(slow_beacon_hours),
        cmocka_unit_test(ntp_to_resolver_quiet),
        cmocka_unit_test(split_session_quiet),
        cmocka_unit_test(poisson_quiet),
        cmocka_unit_test(inbound_periodic_quiet),
        cmocka_unit_test(allow_list),
        cmocka_unit_test(bounded_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
