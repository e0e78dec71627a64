/* det_beacon on hand-built flows written from published descriptions of C2 families and of
 * the benign periodic traffic every network has (not from the detector's thresholds):
 *   - beacons from seconds to an hour with +-20 % jitter (uniform, and Cobalt Strike's
 *     "sleep minus up to jitter %"), slow ones found after 6 check-ins counted from the first;
 *     HTTP check-ins 15 min apart over a 90-minute infection;
 *   - njRAT's alternating 14 s / 9 s keep-alive on its default port 5552 from an old Windows
 *     client's ports (1025-5000); retry bursts followed by long sleeps;
 *   - C2 over 53/udp and 443/tcp (no port is exempt);
 *   - long sessions: a DarkComet-style controller (port 1604) holding a session for hours, TLS
 *     C2 run as long sessions with reconnect bursts;
 * and stays quiet on: NTP clients of a pool server many hosts of several customers use (ntpd
 * 123 -> 123, poll 64-1024 s), a SaaS monitor polling one popular server, a declared MTA's
 * queue runs to port 25, popular web destinations, an SSH session of hours, an exporter's
 * active-timeout split, an outside monitor polling a customer server, random (Poisson)
 * connections to rare peers. Records go in as an exporter sends them: both directions, in
 * end-time order, with cumulative TCP flags. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"
#include "json.h"

extern const struct detector_ops det_beacon_ops;
extern const struct detector_ops det_spam_ops;
#define T0 1221868800000ULL
#define SEC 1000ULL
#define MIN 60000ULL
#define HOUR 3600000ULL

/* ---- records as an exporter sends them ----------------------------------------------- */

#define MAX_RECS 200000
static struct flow_rec recs[MAX_RECS];
static size_t nrecs;

static void add(const char *src, const char *dst, uint16_t sp, uint16_t dp, uint8_t proto,
                uint8_t flags, uint64_t pkts, uint64_t bytes, uint64_t start, uint64_t dur)
{
    if (nrecs >= MAX_RECS)
        abort();
    recs[nrecs++] = th_rec(src, dst, sp, dp, proto, flags, pkts, bytes, start, dur);
}

/* One connection: the client's record and the server's answer (cumulative flags FIN SYN PSH ACK
 * for TCP), the answer starting rtt later. */
static void conn(const char *cli, const char *srv, uint16_t cport, uint16_t sport, uint8_t proto,
                 uint64_t start, uint64_t dur, uint64_t out_bytes, uint64_t in_bytes, uint64_t rtt)
{
    uint8_t fl = proto == 6 ? 0x1b : 0;
    add(cli, srv, cport, sport, proto, fl, out_bytes / 500 + 3, out_bytes, start, dur);
    add(srv, cli, sport, cport, proto, fl, in_bytes / 1400 + 3, in_bytes, start + rtt,
        dur > rtt ? dur - rtt : 0);
}

static int by_end(const void *a, const void *b)
{
    const struct flow_rec *x = a, *y = b;
    if (x->last_ms != y->last_ms)
        return x->last_ms < y->last_ms ? -1 : 1;
    return x->first_ms < y->first_ms ? -1 : x->first_ms > y->first_ms;
}

/* Feed what was added, in end-time order (the order exporters flush in), then close windows
 * until `until`. */
static void run(struct th *t, uint64_t until)
{
    qsort(recs, nrecs, sizeof *recs, by_end);
    for (size_t i = 0; i < nrecs; i++)
        th_flow_rec(t, &recs[i]);
    nrecs = 0;
    th_advance_to(t, until);
}

/* One NTP exchange as exporters show it: the client's request and the server's answer, one
 * packet each (bytes: IP length), the answer rtt later. */
static void ntp_poll(const char *cli, const char *srv, uint16_t cport, uint64_t start,
                     uint64_t req_bytes, uint64_t resp_bytes, uint64_t rtt)
{
    add(cli, srv, cport, 123, 17, 0, 1, req_bytes, start, 0);
    add(srv, cli, 123, cport, 17, 0, 1, resp_bytes, start + rtt, 0);
}

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static double uni(double a, double b)
{
    return a + (b - a) * (th_rand(&rs) % 1000001) / 1000000.0;
}

/* A gap of a Poisson process of mean `mean` (ms): exponentially distributed. */
static uint64_t exp_gap(double mean)
{
    return (uint64_t)(-log((th_rand(&rs) % 100000 + 1) / 100001.0) * mean);
}

/* A beacon: check-ins from host to peer every period_ms with uniform +-jitter, n of them, from
 * t0; client ports from cport0 up (or random dynamic ports when cport0 is 0). Returns the
 * time of the last check-in. */
static uint64_t beacon(const char *host, const char *peer, uint16_t port, uint8_t proto,
                       uint64_t t0, uint64_t period_ms, double jitter, unsigned n, uint16_t cport0)
{
    uint64_t ts = t0, last = t0;
    for (unsigned i = 0; i < n; i++) {
        uint16_t cp = cport0 ? (uint16_t)(cport0 + i) : (uint16_t)(32768 + th_rand(&rs) % 28000);
        conn(host, peer, cp, port, proto, ts, 150 + th_rand(&rs) % 300, 300 + th_rand(&rs) % 40,
             900 + th_rand(&rs) % 400, 30);
        last = ts;
        ts += (uint64_t)((double)period_ms * (1.0 + uni(-jitter, jitter)));
    }
    return last;
}

static const char *ev_find(const char *ev, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(ev, k);
    return p ? p + strlen(k) : NULL;
}

static double ev_num(const char *ev, const char *key)
{
    const char *p = ev_find(ev, key);
    return p ? strtod(p, NULL) : -1;
}

static bool ev_is(const char *ev, const char *key, const char *val)
{
    const char *p = ev_find(ev, key);
    return p && *p == '"' && strncmp(p + 1, val, strlen(val)) == 0 && p[1 + strlen(val)] == '"';
}

static const struct alert *find_alert(const struct th *t, const char *rule, const char *host)
{
    uint8_t a[16];
    if (addr_parse(host, a) < 0)
        abort();
    for (size_t i = 0; i < t->nalerts; i++)
        if (strcmp(t->alerts[i].rule_id, rule) == 0 && memcmp(t->alerts[i].host, a, 16) == 0)
            return &t->alerts[i];
    return NULL;
}

static uint64_t stat_of(struct th *t, const char *key)
{
    return th_counter(t, key);
}

/* ---- beacons that must alert --------------------------------------------------------- */

static void fast_beacon_seconds(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end = beacon("10.0.0.5", "198.51.100.7", 443, 6, T0 + 1000, 3 * SEC, 0.2, 60, 0);
    run(&t, end + 5 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.0.5");
    assert_non_null(a);
    assert_int_equal(a->win_start_ms, T0); /* within the first window */
    assert_int_equal(a->category, CAT_C2);
    assert_true(a->has_peer && a->port == 443 && a->proto == 6);
    assert_true(a->packets > 0 && a->bytes > 0 && a->flows >= 9);
    assert_int_equal(a->first_ms, T0 + 1000); /* the first check-in */
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 3.0) < 0.4);
    assert_true(ev_is(a->evidence_json, "initiator", "service_port"));
    assert_true(ev_num(a->evidence_json, "bytes_in") > 0 &&
                ev_num(a->evidence_json, "bytes_out") > 0);
    assert_non_null(ev_find(a->evidence_json, "intervals_s"));
    assert_true(ev_num(a->evidence_json, "hosts") == 1); /* the peer's prevalence */
    assert_int_equal(th_count(&t, "beacon.slow", NULL), 0);
    th_fini(&t);
}

/* Slow beacons, 15 min to 1 h, +-20 % jitter: each alerts once its 6th check-in is in, counting
 * from the first (no admission step may drop the first ones), whatever the seed. */
static void slow_beacons_six_checkins(void **st)
{
    (void)st;
    static const uint64_t periods[] = {15 * MIN, 20 * MIN, 30 * MIN, 45 * MIN, 60 * MIN};
    for (unsigned round = 0; round < 40; round++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        uint64_t period = periods[round % 5];
        uint64_t ts = T0 + round * 7000, checkin[6];
        bool cobalt = round % 2; /* Cobalt Strike: sleep minus up to jitter % */
        for (unsigned i = 0; i < 6; i++) {
            checkin[i] = ts;
            conn("10.0.1.9", "203.0.113.77", (uint16_t)(40000 + th_rand(&rs) % 20000), 443, 6, ts,
                 400, 350 + th_rand(&rs) % 900, 2000 + th_rand(&rs) % 3000, 40);
            double f = cobalt ? 1.0 - uni(0, 0.2) : 1.0 + uni(-0.2, 0.2);
            ts += (uint64_t)((double)period * f);
        }
        run(&t, checkin[5] + 10 * MIN);
        const struct alert *a = find_alert(&t, "beacon.slow", "10.0.1.9");
        if (!a)
            fail_msg("round %u: period %llu min not found after 6 check-ins", round,
                     (unsigned long long)(period / MIN));
        assert_int_equal(a->first_ms, checkin[0]);
        assert_int_equal(a->flows, 6);
        assert_true(a->win_end_ms <= checkin[5] + 5 * MIN + SEC); /* the window of the 6th */
        double p = ev_num(a->evidence_json, "period_s");
        assert_true(p > period / 1000.0 * 0.75 && p < period / 1000.0 * 1.25);
        th_fini(&t);
    }
}

/* HTTP check-ins a quarter of an hour apart over an infection of an hour and a half, each
 * answer a different size (tasks, no tasks). */
static void http_checkins_90_minutes(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 123456;
    for (unsigned i = 0; i < 7; i++) {
        conn("10.0.2.3", "192.0.2.200", (uint16_t)(49700 + 7 * i), 80, 6, ts, 800,
             420 + 30 * (i % 3), i % 2 ? 180 : 24000, 60);
        ts += (uint64_t)(15 * MIN * (1.0 + uni(-0.1, 0.1)));
    }
    run(&t, ts + HOUR);
    const struct alert *a = find_alert(&t, "beacon.slow", "10.0.2.3");
    assert_non_null(a);
    assert_int_equal(a->port, 80);
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 900) < 120);
    th_fini(&t);
}

/* njRAT (default port 5552) from Windows XP, whose client ports run up from 1025: neither port
 * says who is the server; the fixed one does. Its keep-alive alternates 14 s and 9 s. */
static void njrat_alternating_old_ports(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 5000;
    for (unsigned i = 0; i < 40; i++) {
        conn("10.0.3.4", "185.100.87.9", (uint16_t)(1025 + i), 5552, 6, ts, 200, 90, 60, 50);
        ts += (uint64_t)((i % 2 ? 9 : 14) * SEC * (1.0 + uni(-0.05, 0.05)));
    }
    run(&t, ts + 5 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.3.4");
    assert_non_null(a);
    assert_int_equal(a->port, 5552);
    assert_true(ev_is(a->evidence_json, "initiator", "fixed_port"));
    th_fini(&t);

    /* a wider alternation (a check-in, then a follow-up 6 s later, every 56 s) */
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    ts = T0 + 5000;
    for (unsigned i = 0; i < 30; i++) {
        conn("10.0.3.5", "185.100.87.10", (uint16_t)(50000 + i), 8443, 6, ts, 200, 300, 200, 50);
        ts += (uint64_t)((i % 2 ? 6 : 50) * SEC * (1.0 + uni(-0.1, 0.1)));
    }
    run(&t, ts + 5 * MIN);
    a = find_alert(&t, "beacon.fast", "10.0.3.5");
    assert_non_null(a);
    assert_true(ev_is(a->evidence_json, "schedule", "alternating"));
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 56) < 6);
    /* the jitter is each gap's spread (+-10 %), not the gaps' difference ((50 - 6) / 56) */
    print_message("alternating 50 s / 6 s +-10 %%: jitter %.3f\n",
                  ev_num(a->evidence_json, "jitter"));
    assert_true(ev_num(a->evidence_json, "jitter") <= 0.11);
    th_fini(&t);
}

/* A C2 on a port in the dynamic range (44443) reached from an old client's low ports (Windows
 * XP/2003 pick 1025-5000): the port ranges read it the wrong way round; the pair's fixed port
 * settles it. */
static void high_c2_port_low_client_ports(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end =
        beacon("10.0.3.6", "217.78.56.231", 44443, 6, T0 + 3000, 220 * SEC, 0.1, 30, 2572);
    run(&t, end + 10 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.3.6");
    assert_non_null(a);
    assert_int_equal(a->port, 44443);
    assert_true(ev_is(a->evidence_json, "initiator", "fixed_port"));
    th_fini(&t);
}

/* The same from ports 1519 up, with nothing but cumulative flags on either record (a router's
 * NetFlow): the third check-in's client port is 1521, Oracle's, so that record alone reads as
 * the C2 calling the host's database. The pair's fixed port overrules it: all 9 check-ins of
 * a 2-minute beacon count, the 9 beacon.fast needs. A real database on 1521 polled by an outside
 * client, from changing ports or from one reused port, stays the host's service. */
static void client_port_on_a_service_number(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end = beacon("10.0.3.7", "203.0.113.77", 9001, 6, T0 + 3000, 118 * SEC, 0.08, 9, 1519);
    beacon("198.51.100.61", "10.0.3.8", 1521, 6, T0, 60 * SEC, 0.0, 60, 0);
    for (unsigned i = 0; i < 60; i++)
        conn("198.51.100.62", "10.0.3.8", 9001, 1521, 6, T0 + i * 60 * SEC, 200, 300, 900, 30);
    run(&t, end + 10 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.3.7");
    assert_non_null(a);
    assert_int_equal(a->port, 9001);
    assert_int_equal((int)ev_num(a->evidence_json, "checkins"), 9);
    assert_true(ev_is(a->evidence_json, "initiator", "fixed_port"));
    assert_int_equal(th_count(&t, NULL, "10.0.3.8"), 0);
    th_fini(&t);
}

/* An unreachable C2: three connection attempts (SYN only) a few seconds apart, then a sleep of
 * 10 minutes, over and over. */
static void retry_bursts_long_sleeps(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 1000;
    for (unsigned burst = 0; burst < 8; burst++) {
        for (unsigned k = 0; k < 3; k++)
            add("10.0.4.4", "45.77.1.2", (uint16_t)(41000 + burst * 3 + k), 443, 6, 0x02, 2, 120,
                ts + k * 3 * SEC + th_rand(&rs) % 500, 3000);
        ts += (uint64_t)(10 * MIN * (1.0 + uni(-0.1, 0.1)));
    }
    run(&t, ts + HOUR);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    const struct alert *a = find_alert(&t, "beacon.slow", "10.0.4.4");
    assert_non_null(a);
    assert_true(ev_is(a->evidence_json, "schedule", "bursts"));
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 600) < 80);
    assert_true(ev_is(a->evidence_json, "initiator", "tcp_syn"));
    th_fini(&t);
}

/* A bot that checks in every 6 hours (CTU-Malware-Capture-Botnet-207-1: two HTTP connections
 * 20-40 s apart to its C2, about 19 kB each, every 6 hours for 6 days, a check-in missed now and
 * then): a pair forgotten after `idle` between check-ins never has more than one, so idle must
 * exceed the longest period to find. With the default idle (24 h) it is found as beacon.slow;
 * with idle = 3h (the default until a full pool learnt to give up stale and futile pairs first,
 * slow_c2_outlasts_bursts) it is not. */
static void six_hour_checkins(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0); /* idle 24 h */
    static const unsigned missed[] = {4, 9};                 /* check-ins that did not happen */
    uint64_t ts = T0 + 2 * HOUR;
    uint16_t cp = 49191;
    for (unsigned i = 0; i < 14; i++, ts += 6 * HOUR + th_rand(&rs) % (40 * SEC)) {
        if (i == missed[0] || i == missed[1])
            continue;
        for (unsigned k = 0; k < 2; k++)
            conn("10.0.4.110", "203.0.113.73", cp++, 80, 6, ts + k * (20 + th_rand(&rs) % 20) * SEC,
                 102 * SEC, 1650 + th_rand(&rs) % 100, 17800 + th_rand(&rs) % 200, 40);
    }
    run(&t, ts + HOUR);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    const struct alert *a = find_alert(&t, "beacon.slow", "10.0.4.110");
    assert_non_null(a);
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 6 * 3600) < 600);
    assert_int_equal(stat_of(&t, "expired"), 0);
    th_fini(&t);

    assert_int_equal(th_init(&t, &det_beacon_ops, "idle=3h"), 0); /* forgotten each time */
    ts = T0 + 2 * HOUR;
    for (unsigned i = 0; i < 14; i++, ts += 6 * HOUR)
        for (unsigned k = 0; k < 2; k++)
            conn("10.0.4.110", "203.0.113.73", cp++, 80, 6, ts + k * 30 * SEC, 102 * SEC, 1700,
                 17900, 40);
    run(&t, ts + HOUR);
    assert_null(find_alert(&t, "beacon.slow", "10.0.4.110"));
    assert_true(stat_of(&t, "expired") > 0);
    th_fini(&t);
}

/* A full pool over a day. Ten workstations browse all day: a page every 30 s from one of them,
 * one of 3 000 sites, three connections in its first seconds (a page's resources). Each visit
 * after a site's first holds a slot, and the pool (64 slots, `idle` 24 h so nothing expires)
 * is full within minutes. A bot on one of them calls its C2 every 3.5 h (+-10 %): between two
 * calls its pair has fewer starts than most visits, and taking the fewest starts first evicted it
 * at every call. The visits ended seconds after they began (stale) and go first: the C2 alerts,
 * and evicted_live counts what could have cost a finding. */
static void slow_c2_outlasts_bursts(void **st)
{
    (void)st;
    rs = 0x6C1B5E2D4A3F9071ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, "idle=24h;max_pairs=64;pending=1024"), 0);
    const uint64_t day = 30 * HOUR;
    for (uint64_t ts = T0; ts < T0 + day; ts += 30 * SEC) {
        char host[32], site[32];
        unsigned s = (unsigned)(th_rand(&rs) % 3000);
        snprintf(host, sizeof host, "10.0.7.%u", 10 + (unsigned)(th_rand(&rs) % 10));
        snprintf(site, sizeof site, "93.%u.%u.%u", 150 + s / 200, (s / 10) % 20 + 1, s % 10 + 1);
        for (unsigned k = 0; k < 3; k++)
            conn(host, site, (uint16_t)(20000 + th_rand(&rs) % 40000), 443, 6,
                 ts + k * (th_rand(&rs) % 2000), 300, 500, 4000, 20);
    }
    beacon("10.0.7.12", "198.51.100.77", 443, 6, T0 + 1000, 210 * MIN, 0.1, 8, 0);
    run(&t, T0 + day + HOUR);
    print_message("full pool: %.0f evicted, %.0f of them live\n", (double)th_counter(&t, "evicted"),
                  (double)th_counter(&t, "evicted_live"));
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.7.12"));
    assert_true(stat_of(&t, "evicted") > 1000);
    assert_true(stat_of(&t, "evicted_live") < stat_of(&t, "evicted") / 10);
    th_fini(&t);
}

/* A full pool of pairs that cannot alert. 60 workstations of two customers fetch from three
 * addresses of a CDN's /24 at random times all day (every 20 minutes on average): 180 pairs,
 * live and with many starts, in a pool of 64 slots; the CDN is infrastructure by the prevalence
 * view within the first windows. A bot calls its C2 every 15 minutes (+-10 %) from the third
 * hour: with the fewest starts in its bucket it was evicted before its third call; the CDN's
 * pairs give way first, and it alerts. */
static void infrastructure_pairs_give_way(void **st)
{
    (void)st;
    rs = 0x3E5A7C9B1D2F4061ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, "max_pairs=64;pending=1024"), 0);
    th_two_customers(&t);
    for (unsigned h = 0; h < 60; h++) {
        char host[32], peer[32];
        snprintf(host, sizeof host, h % 2 ? "10.0.5.%u" : "10.129.5.%u", 10 + h);
        for (unsigned a = 0; a < 3; a++) {
            snprintf(peer, sizeof peer, "104.16.%u.%u", a, 17 + a);
            uint64_t ts = T0 + th_rand(&rs) % (20 * MIN);
            while (ts < T0 + 8 * HOUR) {
                conn(host, peer, (uint16_t)(20000 + th_rand(&rs) % 40000), 443, 6, ts, 500, 700,
                     9000, 20);
                ts += exp_gap(20 * MIN);
            }
        }
    }
    beacon("10.0.5.7", "198.51.100.55", 80, 6, T0 + 2 * HOUR, 15 * MIN, 0.1, 20, 0);
    run(&t, T0 + 8 * HOUR);
    print_message("CDN pairs: %.0f evicted, %.0f of them live\n", (double)th_counter(&t, "evicted"),
                  (double)th_counter(&t, "evicted_live"));
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.5.7"));
    assert_true(stat_of(&t, "evicted") > 100);
    th_fini(&t);
}

/* A RAT whose C2 server refuses it (RemcosRAT in CTU-SME-11, Slips' test18): Windows sends a
 * refused SYN twice more on the same port, 0.5 s apart, and a flow ends at its RST, so each
 * connect() is three SYN records and three refusals (Zeek: three REJ); the RAT tries again about
 * a second after the third refusal. The gaps between SYNs (0.5, 0.5, 1 s) are no schedule; the
 * connect() calls are one every 2 s. */
static void refused_c2_retries(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 1000;
    const unsigned calls = 60;
    for (unsigned i = 0; i < calls; i++) {
        uint16_t cp = (uint16_t)(51000 + i);
        for (unsigned k = 0; k < 3; k++) {
            uint64_t syn = ts + k * 530 + th_rand(&rs) % 20;
            add("10.0.4.9", "203.0.113.66", cp, 5888, 6, 0x02, 1, 52, syn, 0);
            add("203.0.113.66", "10.0.4.9", 5888, cp, 6, 0x14, 1, 40, syn + 30, 0);
        }
        ts += 2080 + th_rand(&rs) % 40;
    }
    run(&t, ts + 10 * MIN);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    assert_int_equal(stat_of(&t, "starts"), calls); /* one connection a connect() */
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.4.9");
    assert_non_null(a);
    assert_true(ev_is(a->evidence_json, "schedule", "regular"));
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 2.1) < 0.1);
    /* every connect() refused, and the evidence says so (an answered C2's says 0) */
    assert_true(ev_num(a->evidence_json, "connections") >= 8);
    assert_true(ev_num(a->evidence_json, "refused") == ev_num(a->evidence_json, "connections"));
    th_fini(&t);

    /* a client's retries of a server that is down for a while, then answers: each connect()
     * one connection, and the answered one after the refused ones on a new port */
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    ts = T0 + 1000;
    for (unsigned k = 0; k < 3; k++) {
        add("10.0.4.10", "203.0.113.67", 52000, 443, 6, 0x02, 1, 52, ts + k * 500, 0);
        add("203.0.113.67", "10.0.4.10", 443, 52000, 6, 0x14, 1, 40, ts + k * 500 + 30, 0);
    }
    conn("10.0.4.10", "203.0.113.67", 52001, 443, 6, ts + 5 * SEC, 600, 300, 900, 30);
    run(&t, ts + 10 * MIN);
    assert_int_equal(stat_of(&t, "starts"), 2);
    th_fini(&t);
}

/* C2 runs over DNS to its own server and over HTTPS: neither port is exempt. */
static void c2_over_dns_udp(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end = beacon("10.0.5.5", "192.0.2.53", 53, 17, T0, 30 * SEC, 0.2, 30, 0);
    run(&t, end + 5 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.5.5");
    assert_non_null(a);
    assert_int_equal(a->proto, 17);
    assert_int_equal(a->port, 53);
    th_fini(&t);
}

/* Only the answers are exported (asymmetric routing at the edge): the server's records, with
 * the server's port, still show who called whom. */
static void one_direction_answers(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0;
    for (unsigned i = 0; i < 30; i++) {
        add("198.51.100.80", "10.0.6.6", 443, (uint16_t)(50000 + 13 * i), 6, 0x1b, 8, 4000, ts + 20,
            300);
        ts += (uint64_t)(20 * SEC * (1.0 + uni(-0.2, 0.2)));
    }
    run(&t, ts + 5 * MIN);
    assert_non_null(find_alert(&t, "beacon.fast", "10.0.6.6"));
    th_fini(&t);
}

/* Each connection counts once, whatever the order its records come in: the answer first, the
 * request, a trailing ACK after the FIN, an active-timeout split. */
static void connections_counted_once(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 100;
    for (unsigned i = 0; i < 20; i++) {
        uint16_t cp = (uint16_t)(33000 + 17 * i);
        th_flow(&t, "198.51.100.9", "10.0.7.7", 443, cp, 6, 0x1b, 10, 6000, ts + 30, 200);
        th_flow(&t, "10.0.7.7", "198.51.100.9", cp, 443, 6, 0x1b, 12, 1500, ts, 230);
        th_flow(&t, "10.0.7.7", "198.51.100.9", cp, 443, 6, 0x10, 1, 52, ts + 231, 0);
        if (i % 5 == 0) /* a longer one, split by the exporter */
            th_flow(&t, "10.0.7.7", "198.51.100.9", cp, 443, 6, 0x18, 5, 500, ts + 232, 3000);
        ts += 10 * SEC;
    }
    th_advance_to(&t, ts + 5 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.7.7");
    assert_non_null(a);
    assert_true(a->flows <= 20);
    assert_int_equal(ev_num(a->evidence_json, "connections"), a->flows);
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 10) < 0.5);
    assert_int_equal(stat_of(&t, "starts"), 20);
    th_fini(&t);
}

/* ---- periodic traffic that must stay quiet ------------------------------------------- */

/* ntpd polls its servers from port 123 to port 123 every 64 s, backing off towards 1024 s: a
 * pool server that hosts of two customers use is infrastructure. The same schedule to a server
 * no one else uses is time synchronisation too (time_service_below); its host's record always
 * starts before the answer, so the host polls. */
static void ntp_pool_prevalence(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    th_two_customers(&t);
    for (unsigned h = 0; h < 12; h++) {
        char host[32];
        snprintf(host, sizeof host, h % 2 ? "10.0.8.%u" : "10.200.8.%u", 10 + h);
        uint64_t ts = T0 + h * 3100, poll = 64 * SEC;
        for (unsigned i = 0; ts < T0 + 4 * HOUR; i++) {
            conn(host, "162.159.200.1", 123, 123, 17, ts, 0, 76, 76, 12 + h);
            if (i % 8 == 7 && poll < 1024 * SEC)
                poll *= 2;
            ts += poll + th_rand(&rs) % 200;
        }
    }
    run(&t, T0 + 5 * HOUR);
    assert_int_equal(t.nalerts, 0);
    assert_true(stat_of(&t, "infrastructure_suppressed") > 0);
    th_fini(&t);

    /* the same client of a server only it uses: polling every 64 s from one socket is one UDP
     * session (udp_session), every 256 s a schedule that is time synchronisation (NTP messages
     * only); one 200-byte message makes the schedule a beacon on port 123 and the session a
     * long session (not NTP), the host's record always starting before the answer: the host
     * polls */
    for (int odd = 0; odd < 4; odd++) {
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        unsigned i = 0;
        uint64_t poll = odd < 2 ? 256 * SEC : 64 * SEC;
        for (uint64_t ts = T0; ts < T0 + 3 * HOUR; ts += poll + th_rand(&rs) % 200, i++)
            ntp_poll("10.0.8.99", "192.0.2.123", 123, ts, odd % 2 && i == 20 ? 200 : 76, 76, 15);
        run(&t, T0 + 4 * HOUR);
        const struct alert *a =
            find_alert(&t, odd < 2 ? "beacon.fast" : "beacon.long_session", "10.0.8.99");
        if (odd % 2) {
            assert_non_null(a);
            assert_true(ev_is(a->evidence_json, "initiator", "first_packet"));
        } else {
            assert_int_equal(t.nalerts, 0);
            if (odd < 2)
                assert_true(stat_of(&t, "time_service_skipped") > 0);
            else
                assert_true(stat_of(&t, "udp_session_continued") > 100);
        }
        th_fini(&t);
    }

    /* a customer's NTP server answering an outside client every 64 s: the client polls */
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (uint64_t ts = T0; ts < T0 + 2 * HOUR; ts += 64 * SEC)
        conn("192.0.2.123", "10.0.8.123", 123, 123, 17, ts, 0, 76, 76, 15);
    run(&t, T0 + 3 * HOUR);
    for (size_t k = 0; k < t.nalerts; k++)
        print_message("  %s %s\n", t.alerts[k].rule_id, t.ev[k]);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* An NTP client that keeps its first poll interval (ntpd at 64 s, IoT-23's Torii capture: 66 s
 * for hours, 123 to 123) makes UDP sessions of hours (the gaps below udp_session), a new one
 * after each longer gap: several long sessions with a rare server. NTP messages and nothing
 * else are time synchronisation: no long-session alert, counted as a time service. One record
 * of data on the pair makes it a candidate again. */
static void ntp_client_long_sessions(void **st)
{
    (void)st;
    for (int c2 = 0; c2 < 2; c2++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        uint64_t ts = T0;
        for (unsigned sess = 0; sess < 4; sess++) {
            for (unsigned i = 0; i < 45; i++, ts += 66 * SEC + th_rand(&rs) % 2000)
                ntp_poll("10.0.9.6", "192.0.2.206", 123, ts, 76, 76, 20);
            ts += 6 * MIN; /* a longer gap: the next poll starts another session */
        }
        if (c2)
            add("10.0.9.6", "192.0.2.206", 123, 123, 17, 0, 3, 1400, T0 + 20 * MIN, 2000);
        run(&t, ts + 10 * MIN);
        const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.9.6");
        if (!c2) {
            assert_null(a);
            assert_true(stat_of(&t, "time_service_skipped") > 0);
        } else {
            assert_non_null(a);
            assert_true(ev_num(a->evidence_json, "long_sessions") >= 2);
        }
        th_fini(&t);
    }
}

/* Time clients of servers no other host uses (a host's own choice, or the only host of a capture:
 * no prevalence to learn), as their documentation describes them: ntpd from port 123, 64 s
 * doubling to 1024 s; chrony from a new random port each request, the same intervals a little
 * shortened at random; systemd-timesyncd from one ephemeral port, 32 s doubling to 2048 s; an
 * IPv6 client signing its requests (MD5 MAC: 68-byte messages); an exporter whose inactive
 * timeout joins two polls into one record. Each is a schedule, each only NTP messages: no
 * beacon. The same schedules carrying larger messages to UDP port 123 (a C2 on the NTP port) are
 * beacons, or a long session where one socket calls within udp_session (the IPv6 client). */
static void time_service_below(void **st)
{
    (void)st;
    for (int c2 = 0; c2 < 2; c2++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        uint64_t extra = c2 ? 60 : 0, end = T0 + 6 * HOUR;
        uint64_t poll = 64 * SEC;
        for (uint64_t ts = T0, i = 0; ts < end; ts += poll, i++) {
            ntp_poll("10.0.9.1", "192.0.2.201", 123, ts, 76 + extra, 76, 20);
            if (i % 8 == 7 && poll < 1024 * SEC)
                poll *= 2;
        }
        poll = 64 * SEC;
        for (uint64_t ts = T0 + 7 * SEC, i = 0; ts < end;
             ts += (uint64_t)(poll * uni(0.9, 1.0)), i++) {
            ntp_poll("10.0.9.2", "192.0.2.202", (uint16_t)(32768 + th_rand(&rs) % 28000), ts,
                     76 + extra, 76, 35);
            if (i % 8 == 7 && poll < 1024 * SEC)
                poll *= 2;
        }
        poll = 32 * SEC;
        for (uint64_t ts = T0 + 11 * SEC; ts < end; ts += poll + th_rand(&rs) % 20) {
            ntp_poll("10.0.9.3", "192.0.2.203", 41234, ts, 76 + extra, 76, 12);
            if (poll < 2048 * SEC)
                poll *= 2;
        }
        for (uint64_t ts = T0 + 3 * SEC; ts < end; ts += 64 * SEC + th_rand(&rs) % 100)
            ntp_poll("2001:db8:9::4", "3fff:0:123::1", 123, ts, 116 + extra, 116, 25);
        for (uint64_t ts = T0 + 5 * SEC; ts < end; ts += 256 * SEC) {
            add("10.0.9.5", "192.0.2.205", 123, 123, 17, 0, 2, 152 + 2 * extra, ts, 128 * SEC);
            add("192.0.2.205", "10.0.9.5", 123, 123, 17, 0, 2, 152, ts + 30, 128 * SEC);
        }
        run(&t, end + 10 * MIN);
        if (!c2) {
            for (size_t i = 0; i < t.nalerts; i++)
                print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
            assert_int_equal(t.nalerts, 0);
            assert_true(stat_of(&t, "time_service_skipped") >= 5);
        } else {
            const char *hosts[] = {"10.0.9.1", "10.0.9.2", "10.0.9.3", "2001:db8:9::4", "10.0.9.5"};
            for (size_t i = 0; i < 5; i++) {
                /* 2001:db8:9::4 polls from one socket within udp_session: a long session of
                 * messages that are not NTP's */
                bool found = i == 3 ? find_alert(&t, "beacon.long_session", hosts[i]) != NULL
                                    : find_alert(&t, "beacon.fast", hosts[i]) ||
                                          find_alert(&t, "beacon.slow", hosts[i]);
                if (!found)
                    print_message("  no beacon for %s\n", hosts[i]);
                assert_true(found);
            }
            assert_int_equal(stat_of(&t, "time_service_skipped"), 0);
        }
        th_fini(&t);
    }
}

/* A SaaS monitoring agent on hosts of two customers polls its collector every 60 s; a second
 * service spreads its agents over the addresses of one /24. */
static void saas_monitor_popular(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    th_two_customers(&t);
    for (unsigned h = 0; h < 15; h++) {
        char host[32], peer[32];
        snprintf(host, sizeof host, h % 3 ? "10.0.9.%u" : "10.129.9.%u", 10 + h);
        beacon(host, "34.120.5.5", 443, 6, T0 + h * 4000, 60 * SEC, 0.02, 120, 0);
        snprintf(peer, sizeof peer, "52.46.1.%u", 20 + h);
        beacon(host, peer, 443, 6, T0 + h * 4000 + 500, 5 * MIN, 0.02, 24, 0);
    }
    run(&t, T0 + 3 * HOUR);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* 24 hours of 40 workstations (half on IPv6) of two customers: each polls four cloud services (mail and presence
 * every 5 min, telemetry every 15 min, antivirus updates every hour, small jitter) at whichever
 * address of the service's /24 (IPv6: /48) its resolver gave it; no two share an address. */
static void workstations_polling_cloud(void **st)
{
    (void)st;
    static const struct {
        const char *net4, *net6;
        uint64_t period;
        uint16_t port;
    } svc[] = {
        {"52.97.146", "2603:1026:c03", 5 * MIN, 443},
        {"13.107.42", "2620:1ec:42", 5 * MIN, 443},
        {"20.189.173", "2603:1030:403", 15 * MIN, 443},
        {"23.32.248", "2600:1406:3c", HOUR, 80},
    };
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    th_two_customers(&t);
    for (unsigned h = 0; h < 40; h++) {
        bool v6 = h % 4 >= 2;
        char host[48];
        if (v6)
            snprintf(host, sizeof host, h % 2 ? "2001:db8::%u" : "2001:db8:8000::%u", 10 + h);
        else
            snprintf(host, sizeof host, h % 2 ? "10.0.17.%u" : "10.160.17.%u", 10 + h);
        for (size_t k = 0; k < sizeof svc / sizeof *svc; k++) {
            char peer[64];
            if (v6)
                snprintf(peer, sizeof peer, "%s:%x::%x", svc[k].net6, 1 + h, 20 + h);
            else
                snprintf(peer, sizeof peer, "%s.%u", svc[k].net4, 20 + h);
            beacon(host, peer, svc[k].port, 6, T0 + h * 37000 + k * 5000, svc[k].period, 0.05,
                   (unsigned)(24 * HOUR / svc[k].period), 0);
        }
    }
    run(&t, T0 + 25 * HOUR);
    for (size_t i = 0; i < t.nalerts && i < 5 && getenv("TW_VERBOSE"); i++) {
        char hb[64], pb[64];
        addr_format(t.alerts[i].host, hb);
        addr_format(t.alerts[i].peer, pb);
        print_message("  %s %s %s %s\n", t.alerts[i].rule_id, hb, pb, t.ev[i]);
    }
    assert_int_equal(t.nalerts, 0);
    assert_true(stat_of(&t, "infrastructure_suppressed") > 0);
    th_fini(&t);
}

/* Many infected hosts of one customer polling one C2 are not "infrastructure": that takes
 * hosts of several customers (infra_customers). */
static void outbreak_in_one_customer_alerts(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (unsigned h = 0; h < 12; h++) {
        char host[32];
        snprintf(host, sizeof host, "10.0.10.%u", 10 + h);
        beacon(host, "91.215.85.1", 443, 6, T0 + h * 7000, 60 * SEC, 0.1, 60, 0);
    }
    run(&t, T0 + 2 * HOUR);
    for (unsigned h = 0; h < 12; h++) {
        char host[32];
        snprintf(host, sizeof host, "10.0.10.%u", 10 + h);
        const struct alert *a = find_alert(&t, "beacon.fast", host);
        assert_non_null(a);
        assert_true(ev_num(a->evidence_json, "hosts") >= 12);
    }
    th_fini(&t);
}

/* A declared mail server's queue runner retries one MX every 15 minutes: MTAs to port 25 are
 * not beacons. Its periodic HTTPS is judged as anyone's; an undeclared host's periodic mail is. */
static void declared_mta_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    assert_int_equal(th_other(&t, &det_spam_ops, "mta=10.0.11.25/32"), 0);
    beacon("10.0.11.25", "198.51.100.25", 25, 6, T0, 15 * MIN, 0.05, 16, 0);
    beacon("10.0.11.26", "198.51.100.26", 25, 6, T0, 15 * MIN, 0.05, 16, 0);
    beacon("10.0.11.25", "198.51.100.27", 443, 6, T0, 15 * MIN, 0.05, 16, 0);
    run(&t, T0 + 5 * HOUR);
    const struct alert *a = find_alert(&t, "beacon.slow", "10.0.11.25");
    assert_non_null(a);
    assert_int_equal(a->port, 443);
    uint8_t mta[16];
    addr_parse("10.0.11.25", mta);
    for (size_t i = 0; i < t.nalerts; i++)
        assert_false(t.alerts[i].port == 25 && memcmp(t.alerts[i].host, mta, 16) == 0);
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.11.26"));
    assert_true(stat_of(&t, "mta_skipped") > 0);
    th_fini(&t);
}

/* Hosts of two customers visit a popular site at random times, one of them reloads a
 * dashboard there every 2 minutes; everyone resolves through a public resolver. */
static void popular_web_and_dns(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    th_two_customers(&t);
    for (unsigned h = 0; h < 30; h++) {
        char host[32];
        snprintf(host, sizeof host, h % 2 ? "10.0.12.%u" : "10.130.12.%u", 10 + h);
        uint64_t ts = T0 + th_rand(&rs) % 600000;
        while (ts < T0 + 3 * HOUR) {
            conn(host, "151.101.65.140", (uint16_t)(40000 + th_rand(&rs) % 20000), 443, 6, ts, 2000,
                 900, 40000 + th_rand(&rs) % 90000, 25);
            conn(host, "8.8.8.8", (uint16_t)(40000 + th_rand(&rs) % 20000), 53, 17, ts - 40, 20, 70,
                 200, 15);
            ts += exp_gap(8 * MIN);
        }
    }
    beacon("10.0.12.99", "151.101.65.140", 443, 6, T0, 2 * MIN, 0.05, 80, 0);
    run(&t, T0 + 4 * HOUR);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* Random connections to rare peers (exponential gaps, mean 10 min, 8 each): a schedule by
 * chance must be rare. 2000 pairs; measured 0 here, allowed 0.5 %. */
static void poisson_rare_peers(void **st)
{
    (void)st;
    rs = 0x5DEECE66DULL; /* its own seed: the count does not depend on the tests before it */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (unsigned h = 0; h < 2000; h++) { /* 1000 hosts, two rare peers each */
        char host[32], peer[32];
        snprintf(host, sizeof host, "10.1.%u.%u", h / 400, (h / 2) % 200 + 1);
        snprintf(peer, sizeof peer, "93.%u.%u.7", h / 200, h % 200 + 1);
        uint64_t ts = T0 + th_rand(&rs) % HOUR;
        for (unsigned i = 0; i < 8; i++) {
            conn(host, peer, (uint16_t)(40000 + th_rand(&rs) % 20000), 443, 6, ts, 500, 700, 5000,
                 30);
            ts += exp_gap(10 * MIN);
        }
    }
    run(&t, T0 + 8 * HOUR);
    print_message("poisson: %zu of 2000 rare pairs alerted\n", t.nalerts);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    assert_true(t.nalerts <= 10);
    th_fini(&t);
}

/* A customer's recursive resolver: its cache misses go to a few hundred authoritative servers,
 * the busiest asked every few seconds, the long tail every few minutes, each server's queries at
 * random (Poisson) times from random ports, answered 5-150 ms later. One resolver's times are
 * in milliseconds (as NetFlow v5 and IPFIX export them), the other's in whole seconds (an
 * exporter of second resolution): rounded times make equal intervals common, and a band of
 * equal intervals is no schedule. Each pair has up to thousands of connections and is looked
 * at every window, the host has 200 of them: a schedule by chance must stay rare (none here). */
static void busy_resolver_quiet(void **st)
{
    (void)st;
    rs = 0x2545F4914F6CDD1DULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    static uint64_t next[2][200];
    for (unsigned r = 0; r < 2; r++)
        for (unsigned j = 0; j < 200; j++)
            next[r][j] = T0 + th_rand(&rs) % (3 * SEC * (j + 1));
    for (uint64_t hour = 1; hour <= 6; hour++) {
        uint64_t end = T0 + hour * HOUR;
        for (unsigned r = 0; r < 2; r++) {
            const char *host = r ? "10.0.53.2" : "10.0.53.1";
            for (unsigned j = 0; j < 200; j++) {
                char srv[32];
                snprintf(srv, sizeof srv, "199.%u.%u.53", 7 + j / 100, j % 100 + 1);
                while (next[r][j] < end) {
                    uint64_t q = next[r][j], a = q + 5 + th_rand(&rs) % 145;
                    if (r) { /* whole seconds */
                        q -= q % SEC;
                        a -= a % SEC;
                    }
                    uint16_t sp = (uint16_t)(1024 + th_rand(&rs) % 64000);
                    add(host, srv, sp, 53, 17, 0, 1, 60 + th_rand(&rs) % 40, q, 0);
                    add(srv, host, 53, sp, 17, 0, 1, 100 + th_rand(&rs) % 400, a, 0);
                    double mean = 3.0 * SEC * (j + 1);
                    next[r][j] += 1 + exp_gap(mean);
                }
            }
        }
        run(&t, end);
    }
    print_message("resolvers: %zu alerts on 400 busy pairs\n", t.nalerts);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* A check-in every 5 minutes (a cron job's every-5-minutes line, +-1 s): its median interval is 300.0 s give or
 * take a few hundredths, on either side of fast_max (5 min) from one close to the next. Its
 * alerts keep the rule of the first: one incident for one beacon, not beacon.fast and
 * beacon.slow taking turns. */
static void five_minute_checkins_one_rule(void **st)
{
    (void)st;
    rs = 0x3C6EF372FE94F82BULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t end = beacon("10.0.8.8", "198.51.100.88", 443, 6, T0 + 1000, 300 * SEC, 0.003, 72, 0);
    run(&t, end + HOUR);
    size_t nf = th_count(&t, "beacon.fast", "10.0.8.8"),
           ns = th_count(&t, "beacon.slow", "10.0.8.8");
    print_message("5-minute check-ins: %zu fast, %zu slow alerts\n", nf, ns);
    assert_true(nf + ns >= 2);
    assert_true(nf == 0 || ns == 0);
    th_fini(&t);
}

/* A stub resolver retrying unanswered queries (IoT-23 Torii's host, 8.8.8.8 every 5.01 s): host
 * 10.0.6.6 looks names up at random times (a Poisson process, mean 4 min) for 6 hours; half the
 * lookups go unanswered and are sent again at the 5 s timeout, four sends in all, each from a
 * new port (RFC 5452); the application asks again after a pause of its own (10-60 s), once. The
 * 5 s gaps come a few in a row between silences off their grid: a retry timer, no schedule.
 * Beside it a C2 polled every 5 s (+-5 %) for 10 minutes, and two polled every minute (+-20 %),
 * one with a check-in in eight missed, one with a task's connection after one check-in in four:
 * schedules, found. */
static void retry_timer_not_a_schedule(void **st)
{
    (void)st;
    rs = 0x6A09E667F3BCC908ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t at = T0 + 1000;
    while (at < T0 + 6 * HOUR) {
        uint64_t q = at;
        for (unsigned ask = 0; ask < 2; ask++) {
            bool answered = th_rand(&rs) % 2 == 0;
            for (unsigned k = 0; k < 4; k++) {
                uint16_t sp = (uint16_t)(32768 + th_rand(&rs) % 28000);
                add("10.0.6.6", "8.8.8.8", sp, 53, 17, 0, 1, 70, q, 0);
                if (answered) {
                    add("8.8.8.8", "10.0.6.6", 53, sp, 17, 0, 1, 150, q + 20, 0);
                    break;
                }
                q += 5 * SEC + th_rand(&rs) % 8;
            }
            if (answered)
                break;
            q += (uint64_t)(uni(10, 60) * SEC);
        }
        at = q + exp_gap(4.0 * MIN);
    }
    beacon("10.0.6.7", "203.0.113.50", 8443, 6, T0 + 2 * HOUR, 5 * SEC, 0.05, 120, 0);
    for (unsigned h = 0; h < 2; h++) { /* 10.0.6.8 misses check-ins, 10.0.6.9 has tasks */
        const char *host = h ? "10.0.6.9" : "10.0.6.8";
        uint64_t ts = T0 + 3 * HOUR;
        for (unsigned i = 0; i < 90; i++) {
            uint16_t cp = (uint16_t)(32768 + th_rand(&rs) % 28000);
            if (h || th_rand(&rs) % 8)
                conn(host, "198.51.100.77", cp, 443, 6, ts, 200, 400, 1200, 30);
            if (h && th_rand(&rs) % 4 == 0)
                conn(host, "198.51.100.77", (uint16_t)(cp + 1), 443, 6,
                     ts + (uint64_t)(uni(0.2, 0.8) * MIN), 3000, 20000, 900, 30);
            ts += (uint64_t)(MIN * (1.0 + uni(-0.2, 0.2)));
        }
    }
    run(&t, T0 + 7 * HOUR);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    assert_int_equal(th_count(&t, NULL, "10.0.6.6"), 0);
    assert_non_null(find_alert(&t, "beacon.fast", "10.0.6.7"));
    for (unsigned h = 0; h < 2; h++) {
        const struct alert *a = find_alert(&t, "beacon.fast", h ? "10.0.6.9" : "10.0.6.8");
        assert_non_null(a);
        assert_true(fabs(ev_num(a->evidence_json, "period_s") - 60) < 12);
    }
    assert_true(stat_of(&t, "short_runs") > 0);
    th_fini(&t);
}

/* Reachability checks (IoT-23 CTU-Honeypot-Capture-5-1, an Amazon Echo: three connections to
 * example.com:80 every 5 minutes, 0 bytes each way; CTU-Honeypot-Capture-4-1, a Philips HUE:
 * one to Akamai:443 every 15 minutes, the same): TCP handshakes closed without data carry
 * nothing a controller could send. Device 10.0.7.1 does that for 6 hours: no alert. The same
 * schedule with an HTTP request in each connection (10.0.7.2), never answered (10.0.7.3:
 * SYNs only, a C2 that is down), or from a log whose flags come from a connection state and
 * hold no PSH but 10 kB (10.0.7.4, Argus's "FIN"): beacons. */
static void reachability_checks_quiet(void **st)
{
    (void)st;
    rs = 0xBB67AE8584CAA73BULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (unsigned i = 0; i < 72; i++) {
        uint64_t at = T0 + 1000 + i * 300 * SEC + th_rand(&rs) % 500;
        for (unsigned k = 0; k < 3; k++) { /* the checks: SYN, ACK, FIN; the answer SYN-ACK, FIN */
            uint16_t cp = (uint16_t)(40000 + i * 3 + k);
            add("10.0.7.1", "93.184.216.34", cp, 80, 6, 0x13, 4, 216, at + k * 130, 300);
            add("93.184.216.34", "10.0.7.1", 80, cp, 6, 0x13, 2, 112, at + k * 130 + 20, 280);
        }
        uint16_t cp = (uint16_t)(50000 + i);
        conn("10.0.7.2", "192.0.2.80", cp, 80, 6, at, 300, 600, 1500, 20);
        add("10.0.7.3", "192.0.2.81", cp, 8080, 6, 0x02, 3, 180, at, 6000);
        add("10.0.7.4", "192.0.2.82", cp, 80, 6, 0x13, 21, 9930, at, 1000);
    }
    run(&t, T0 + 7 * HOUR);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    assert_int_equal(th_count(&t, NULL, "10.0.7.1"), 0);
    assert_true(stat_of(&t, "empty_skipped") > 0);
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.7.2"));
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.7.3"));
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.7.4"));
    th_fini(&t);
}

/* A P2P client retrying a peer that left (CTU-Normal-7: a normal host reached 78.26.20.251:51413
 * once over uTP, then by TCP SYN every 122.6 s for 20 minutes): the peer's port reached over TCP
 * and UDP alike is a P2P peer's, not a C2 server's. Host 10.0.8.1 does that for 50 minutes: no
 * alert. The same SYNs without the uTP attempt (10.0.8.2), with it to another port of the peer
 * (10.0.8.3) or to a port below 1024, where one number is one service on both (443: HTTPS and
 * QUIC, 10.0.8.4): beacons. Host 10.0.8.5 retries over uTP on the same schedule after one TCP
 * attempt: no alert either. */
static void p2p_peer_both_transports(void **st)
{
    (void)st;
    rs = 0x3C6EF372FE94F82BULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    static const struct {
        const char *host, *peer;
        uint16_t tcp_port, udp_port;
        uint8_t proto; /* of the schedule */
    } c[] = {
        {"10.0.8.1", "198.51.100.8", 51413, 51413, 6},   {"10.0.8.2", "198.51.100.9", 51413, 0, 6},
        {"10.0.8.3", "198.51.100.10", 51413, 6881, 6},   {"10.0.8.4", "198.51.100.11", 443, 443, 6},
        {"10.0.8.5", "198.51.100.12", 51413, 51413, 17},
    };
    for (size_t j = 0; j < sizeof c / sizeof c[0]; j++) {
        uint64_t at = T0 + 1000 + j * 7 * SEC;
        uint16_t twin = c[j].proto == 6 ? c[j].udp_port : c[j].tcp_port;
        if (twin) /* the other transport's attempt, once: uTP's SYNs (4 over 12 min) or a SYN */
            add(c[j].host, c[j].peer, 59370, twin, c[j].proto == 6 ? 17 : 6,
                c[j].proto == 6 ? 0 : 0x02, 4, 248, at + 120 * SEC, 751 * SEC);
        for (unsigned i = 0; i < 25; i++) {
            uint16_t hp = (uint16_t)(35000 + j * 100 + i);
            if (c[j].proto == 6)
                add(c[j].host, c[j].peer, hp, c[j].tcp_port, 6, 0x02, 3, 222, at, 3 * SEC);
            else
                add(c[j].host, c[j].peer, hp, c[j].udp_port, 17, 0, 2, 124, at, 1 * SEC);
            at += 121 * SEC + th_rand(&rs) % (4 * SEC);
        }
    }
    run(&t, T0 + 2 * HOUR);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    assert_int_equal(th_count(&t, NULL, "10.0.8.1"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.8.5"), 0);
    assert_true(stat_of(&t, "dual_transport_skipped") >= 2);
    assert_non_null(find_alert(&t, "beacon.fast", "10.0.8.2"));
    assert_non_null(find_alert(&t, "beacon.fast", "10.0.8.3"));
    assert_non_null(find_alert(&t, "beacon.fast", "10.0.8.4"));
    th_fini(&t);
}

/* One host with thousands of peers, each contacted a few times at random (a proxy or a mail relay
 * fetching from the long tail, a resolver seen through 1-in-100 packet sampling): each pair is a
 * look at random times, and a host with thousands of looks must not get a schedule by chance
 * (`chance` is shared among a host's pairs tested at a close). The same host's real beacon
 * still alerts. */
static void many_random_pairs_one_host(void **st)
{
    (void)st;
    rs = 0x9FB21C651E98DF25ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (unsigned j = 0; j < 6000; j++) {
        char peer[32];
        snprintf(peer, sizeof peer, "93.%u.%u.%u", 100 + j / 2000, (j / 10) % 200 + 1, j % 10 + 1);
        uint64_t ts = T0 + th_rand(&rs) % (10 * MIN);
        for (unsigned i = 0; i < 7; i++) {
            conn("10.0.77.1", peer, (uint16_t)(20000 + th_rand(&rs) % 40000), 443, 6, ts, 400, 600,
                 3000, 20);
            ts += exp_gap(10 * MIN);
        }
    }
    beacon("10.0.77.1", "198.51.100.77", 8443, 6, T0 + 3000, 2 * MIN, 0.2, 60, 0);
    run(&t, T0 + 3 * HOUR);
    size_t other = 0;
    for (size_t i = 0; i < t.nalerts; i++) {
        bool c2 = t.alerts[i].peer[15] == 77 && t.alerts[i].peer[12] == 198;
        other += !c2;
        if (getenv("TW_VERBOSE") || !c2)
            print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    }
    print_message("one host, 6000 random pairs: %zu alerts on them\n", other);
    assert_int_equal(other, 0);
    assert_non_null(find_alert(&t, "beacon.fast", "10.0.77.1"));
    th_fini(&t);
}

/* A pool too small for a DHT node's routing table (150 nodes, max_pairs 128): its nodes, many
 * starts each,
 * would keep their slots and push out a C2 pair of few check-ins (the fewest starts give way).
 * Once found keeping the host's rhythm they give way first, and another host's C2 calling every
 * 15 minutes is found (before: evicted before its sixth check-in, never alerted). */
static void rhythm_pairs_give_way(void **st)
{
    (void)st;
    rs = 0x7A3D2E1F0C9B8A77ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, "max_pairs=128;pending=4096"), 0);
    for (unsigned j = 0; j < 150; j++) {
        char node[32];
        snprintf(node, sizeof node, "95.%u.%u.%u", 30 + j / 100, j % 100 + 1, 9);
        uint16_t port = (uint16_t)(1025 + th_rand(&rs) % 64000);
        uint64_t ts = T0 + th_rand(&rs) % (15 * MIN);
        for (unsigned slot = 0; slot < 28; slot++) {
            conn("10.0.88.1", node, 6881, port, 17, ts, 80, 95, 330, 40);
            ts += 15 * MIN + th_rand(&rs) % MIN;
        }
    }
    beacon("10.0.88.9", "198.51.100.89", 80, 6, T0 + 3 * HOUR, 15 * MIN, 0.1, 12, 0);
    run(&t, T0 + 7 * HOUR);
    print_message("small pool: %.0f evicted, %.0f schedules the DHT host's own\n",
                  (double)th_counter(&t, "evicted"), (double)th_counter(&t, "host_rhythm_skipped"));
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.88.9"));
    th_fini(&t);
}

/* A busy workstation's browsing: 2 000 sites, each visited 4 or 5 times at random (every 15
 * minutes on average), and its C2's HTTP check-in every 15 minutes (+-10 %). A random site's
 * intervals seldom all keep the C2's period (a chance of at most 1/256 for four; 1/64 for three,
 * which counted over ten of these sites and hid the C2): its sites are not the host's rhythm, and
 * the C2 alerts. */
static void busy_host_slow_c2(void **st)
{
    (void)st;
    rs = 0x2F1A3C5B7D9E0F11ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (unsigned j = 0; j < 2000; j++) {
        char site[32];
        snprintf(site, sizeof site, "93.%u.%u.%u", 150 + j / 200, (j / 10) % 20 + 1, j % 10 + 1);
        uint64_t ts = T0 + th_rand(&rs) % (15 * MIN);
        for (unsigned i = 0, n = 4 + j % 2; i < n; i++) {
            conn("10.0.99.1", site, (uint16_t)(20000 + th_rand(&rs) % 40000), 443, 6, ts, 400, 600,
                 3000, 20);
            ts += exp_gap(15 * MIN);
        }
    }
    beacon("10.0.99.1", "198.51.100.99", 80, 6, T0 + 4000, 15 * MIN, 0.1, 10, 0);
    run(&t, T0 + 4 * HOUR);
    print_message("busy host, 2000 sites: %.0f schedules taken as its rhythm\n",
                  (double)th_counter(&t, "host_rhythm_skipped"));
    assert_non_null(find_alert(&t, "beacon.slow", "10.0.99.1"));
    th_fini(&t);
}

/* A BitTorrent client's DHT node keeps its routing table fresh (BEP 5: a node not heard from
 * for 15 minutes is pinged): 200 nodes at the ports their clients chose, each pinged about every
 * 15 minutes - as soon as due (15 min and up to a minute of the refresh tick) or once in every
 * quarter hour - for 6 hours. Every node keeps the schedule; it is the host's own, not 200 C2
 * channels: no beacon alert (rhythm_peers; with the rule off, the nodes alert). So for an uptime
 * monitor polling 30 sites every 5 minutes. The DHT host's C2 beacon every 2 minutes still
 * alerts. */
static void dht_routing_rhythm(void **st)
{
    (void)st;
    for (int run_no = 0; run_no < 3; run_no++) {
        rs = 0x51ED270B27E1E4C3ULL; /* its own seed */
        bool loose = run_no == 1, rule_off = run_no == 2;
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, rule_off ? "rhythm_peers=1000000000" : NULL),
                         0);
        for (unsigned j = 0; j < 200; j++) {
            char node[32];
            snprintf(node, sizeof node, "95.%u.%u.%u", 10 + j / 100, j % 100 + 1, 7 + j % 3);
            uint16_t port = (uint16_t)(1025 + th_rand(&rs) % 64000);
            uint64_t ts = T0 + th_rand(&rs) % (15 * MIN);
            for (unsigned slot = 0; slot < 24; slot++) {
                conn("10.0.88.1", node, 6881, port, 17, ts, 80, 95, 330, 40);
                ts = loose ? T0 + (slot + 1) * 15 * MIN + th_rand(&rs) % (15 * MIN)
                           : ts + 15 * MIN + th_rand(&rs) % MIN;
            }
        }
        beacon("10.0.88.1", "198.51.100.88", 8443, 6, T0 + 3000, 2 * MIN, 0.2, 60, 0);
        for (unsigned j = 0; j < 30; j++) { /* an uptime monitor: 30 sites every 5 minutes */
            char site[32];
            snprintf(site, sizeof site, "95.20.%u.80", j + 1);
            beacon("10.0.88.2", site, 443, 6, T0 + j * 9 * SEC, 5 * MIN, 0.01, 80, 0);
        }
        run(&t, T0 + 7 * HOUR);
        size_t dht = 0;
        for (size_t i = 0; i < t.nalerts; i++)
            dht += t.alerts[i].peer[12] == 95;
        print_message("DHT node, %s schedule%s: %zu alerts on its nodes, %.0f schedules its own\n",
                      loose ? "quarter-hour" : "due-time", rule_off ? ", rule off" : "", dht,
                      (double)th_counter(&t, "host_rhythm_skipped"));
        if (rule_off) {
            assert_true(dht > 0);
        } else {
            assert_int_equal(dht, 0);
            assert_true(th_counter(&t, "host_rhythm_skipped") > 0);
        }
        assert_non_null(find_alert(&t, "beacon.fast", "10.0.88.1"));
        th_fini(&t);
    }
}

/* A BitTorrent client retries the peers of its list that refused it or never answered, each
 * again a minute later (CTU-Normal-7, a normal host: 12 peers on their clients' ports, every
 * 60.0-60.5 s, 4 of them from 8 minutes on). Eight peers, four more joining 8 minutes later, for
 * 30 minutes: the host's own rhythm, no alert (with the rule off, they alert; with rhythm_peers
 * 10, the first close's eight alerted). The same host's C2 every 2 minutes (+-10 %), outside
 * the retries' period band, alerts. */
static void p2p_retry_rhythm(void **st)
{
    (void)st;
    for (int rule_off = 0; rule_off < 2; rule_off++) {
        rs = 0x2B7E151628AED2A6ULL; /* its own seed */
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, rule_off ? "rhythm_peers=1000000000" : NULL),
                         0);
        for (unsigned j = 0; j < 12; j++) {
            char peer[32];
            snprintf(peer, sizeof peer, "85.17.%u.%u", 60 + j, 100 + j);
            uint16_t port = (uint16_t)(10000 + th_rand(&rs) % 55000);
            uint64_t ts = T0 + (j >= 8 ? 8 * MIN : 0) + th_rand(&rs) % (40 * SEC);
            while (ts < T0 + 30 * MIN) {
                uint16_t cp = (uint16_t)(32768 + th_rand(&rs) % 28000);
                add("10.0.77.1", peer, cp, port, 6, 0x02, 1, 60, ts, 0);
                if (j % 2 == 0) /* refused; the others never answer */
                    add(peer, "10.0.77.1", port, cp, 6, 0x14, 1, 40, ts + 40, 0);
                ts += 60 * SEC + th_rand(&rs) % 500;
            }
        }
        beacon("10.0.77.1", "198.51.100.77", 443, 6, T0 + 2000, 2 * MIN, 0.1, 16, 0);
        run(&t, T0 + 40 * MIN);
        size_t retries = 0;
        for (size_t i = 0; i < t.nalerts; i++)
            retries += t.alerts[i].peer[12] == 85;
        print_message("P2P client's retries%s: %zu alerts on its peers\n",
                      rule_off ? ", rule off" : "", retries);
        if (rule_off)
            assert_true(retries > 0);
        else
            assert_int_equal(retries, 0);
        assert_non_null(find_alert(&t, "beacon.fast", "10.0.77.1"));
        th_fini(&t);
    }
}

/* A bot walking its list of C2 servers (Stratosphere's Trickbot captures: about 30 servers, most
 * on 443, some on 449, tried in turn, three connect()s 22 s apart each, the whole list again every
 * 49 minutes; all but three refuse or never answer): one port for many peers that all fail is a
 * fallback list, not the host's own rhythm. Host 10.0.9.1 walks 24 servers (18 on 443, 6 on
 * 449; 3 of them talk) every 49 minutes for 8 hours: its C2 pairs alert, the talking ones too.
 * Beside it the P2P client of p2p_retry_rhythm's shape on 10.0.9.2 (12 peers that left, each on
 * its own port, every 60 s): still its own rhythm, no alert. */
static void c2_list_walk_not_rhythm(void **st)
{
    (void)st;
    rs = 0x510E527FADE682D1ULL; /* its own seed */
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    const uint64_t cycle = 2953 * SEC;
    for (uint64_t c0 = T0 + 1000; c0 < T0 + 8 * HOUR; c0 += cycle) {
        uint64_t ts = c0;
        for (unsigned j = 0; j < 24; j++) {
            char peer[32];
            snprintf(peer, sizeof peer, "92.53.%u.%u", 60 + j, 10 + j);
            uint16_t port = j < 18 ? 443 : 449;
            if (j % 8 == 3) { /* a server that answers: an exchange of data */
                conn("10.0.9.1", peer, (uint16_t)(49000 + th_rand(&rs) % 16000), port, 6, ts, 900,
                     1200, 5000, 40);
                ts += 5 * SEC;
                continue;
            }
            for (unsigned k = 0; k < 3; k++, ts += 22 * SEC) {
                uint16_t cp = (uint16_t)(49000 + th_rand(&rs) % 16000);
                add("10.0.9.1", peer, cp, port, 6, 0x02, 3, 156, ts, 1000);
                if (j % 2 == 0) /* refused; the others never answer */
                    add(peer, "10.0.9.1", port, cp, 6, 0x14, 3, 120, ts + 45, 1000);
            }
        }
    }
    for (unsigned j = 0; j < 12; j++) {
        char peer[32];
        snprintf(peer, sizeof peer, "85.17.%u.%u", 60 + j, 100 + j);
        uint16_t port = (uint16_t)(10000 + th_rand(&rs) % 55000);
        for (uint64_t ts = T0 + th_rand(&rs) % (40 * SEC); ts < T0 + 30 * MIN;
             ts += 60 * SEC + th_rand(&rs) % 500) {
            uint16_t cp = (uint16_t)(32768 + th_rand(&rs) % 28000);
            add("10.0.9.2", peer, cp, port, 6, 0x02, 1, 60, ts, 0);
            if (j % 2 == 0)
                add(peer, "10.0.9.2", port, cp, 6, 0x14, 1, 40, ts + 40, 0);
        }
    }
    run(&t, T0 + 9 * HOUR);
    size_t peers = 0, listed = 0;
    uint8_t seen[24] = {0};
    for (size_t i = 0; i < t.nalerts; i++) {
        if (getenv("TW_VERBOSE"))
            print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
        unsigned j = (unsigned)t.alerts[i].peer[15] - 10;
        if (t.alerts[i].peer[12] == 92 && j < 24 && !seen[j]++)
            peers++;
        if (t.alerts[i].peer[12] != 92 || !strstr(t.ev[i], "\"list_peers\":"))
            continue;
        listed++;
        /* a failing server's alert is the host's list's one incident; a talking one its own */
        assert_int_equal(t.alerts[i].peer_group, j % 8 == 3 ? 0 : 1);
        /* the evidence names failing servers of the list, never a talking one nor itself */
        const char *ls = strstr(t.ev[i], "\"list_servers\":[\"92.53.");
        assert_non_null(ls);
        char self[32];
        snprintf(self, sizeof self, "\"92.53.%u.%u\"", 60 + j, 10 + j);
        assert_null(strstr(ls, self));
        for (unsigned k = 3; k < 24; k += 8) {
            snprintf(self, sizeof self, "\"92.53.%u.%u\"", 60 + k, 10 + k);
            assert_null(strstr(ls, self));
        }
    }
    print_message("C2 list walk: %zu of 24 servers alerted\n", peers);
    assert_true(peers >= 20);
    assert_true(seen[3] && seen[11] && seen[19]); /* the talking ones */
    assert_true(listed > 0); /* the evidence names the list's other failing servers */
    assert_int_equal(th_count(&t, NULL, "10.0.9.2"), 0);
    th_fini(&t);
}

/* A monitor's checks (Nagios with NRPE or check_by_ssh, Zabbix's passive items: one connection
 * a check): 20 servers, 6 checks each, every check every 5 minutes at its own offset, held to a
 * second of scheduler latency, for 6 hours. The gaps between a server's starts are whatever the
 * offsets make, and schedules were found in them (19 of 20 servers alerted before the cycle
 * test); the starts repeat every 5 minutes with their phases kept, with all 20 servers: the
 * host's own rhythm, no alert (with the rule off, they alert). The same host's C2 beacon every
 * 2 minutes (+-20 %) keeps no such cycle and alerts. */
static void monitor_checks_rhythm(void **st)
{
    (void)st;
    for (int rule_off = 0; rule_off < 2; rule_off++) {
        rs = 0x7A3B9C1D5E2F4061ULL; /* its own seed */
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, rule_off ? "rhythm_peers=1000000000" : NULL),
                         0);
        for (unsigned j = 0; j < 20; j++) {
            char srv[32];
            snprintf(srv, sizeof srv, "96.20.%u.10", j + 1);
            for (unsigned c = 0; c < 6; c++) {
                uint64_t off = th_rand(&rs) % (5 * MIN);
                for (uint64_t ts = T0 + off; ts < T0 + 6 * HOUR; ts += 5 * MIN) {
                    uint64_t at = ts + th_rand(&rs) % SEC;
                    conn("10.0.77.1", srv, (uint16_t)(33000 + th_rand(&rs) % 28000), 5666, 6, at,
                         150 + th_rand(&rs) % 300, 1700, 1900 + c * 40, 20);
                }
            }
        }
        beacon("10.0.77.1", "198.51.100.77", 8443, 6, T0 + 3000, 2 * MIN, 0.2, 60, 0);
        run(&t, T0 + 7 * HOUR);
        size_t mon = 0;
        for (size_t i = 0; i < t.nalerts; i++)
            mon += t.alerts[i].peer[12] == 96;
        print_message("monitor, 20 servers x 6 checks%s: %zu alerts on its servers, %.0f schedules "
                      "its own\n",
                      rule_off ? ", rule off" : "", mon,
                      (double)th_counter(&t, "host_rhythm_skipped"));
        if (rule_off)
            assert_true(mon > 0);
        else
            assert_int_equal(mon, 0);
        assert_non_null(find_alert(&t, "beacon.fast", "10.0.77.1"));
        th_fini(&t);
    }
}

/* Not a test: a measurement of what sharing `chance` among a host's pairs costs in detection
 * (bench/RESULTS.md, sixty-fourth part), run only with PROBE set:
 *   PROBE=1 M=50 J=0.5 [P=300] build/tests/test_det_beacon
 * A host with M other peers contacted at random times (every 10 min on average, 6 hours) and
 * a beacon every P s that sleeps "P minus up to J" (Cobalt Strike's jitter), 20 seeds: the
 * check-ins at the beacon's first alert and the host's pairs under test then. */
static void cost_probe(void **st)
{
    (void)st;
    unsigned M = (unsigned)atoi(getenv("M") ? getenv("M") : "0");
    double J = atof(getenv("J") ? getenv("J") : "0.3");
    unsigned per = (unsigned)atoi(getenv("P") ? getenv("P") : "300");
    for (unsigned seed = 1; seed <= 20; seed++) {
        rs = 0x1234567ULL * seed;
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        for (unsigned j = 0; j < M; j++) {
            char peer[32];
            snprintf(peer, sizeof peer, "93.%u.%u.9", 100 + j / 200, j % 200 + 1);
            uint64_t ts = T0 + th_rand(&rs) % (3 * MIN);
            while (ts < T0 + 6 * HOUR && nrecs < MAX_RECS - 4000) {
                conn("10.0.78.1", peer, (uint16_t)(20000 + th_rand(&rs) % 40000), 443, 6, ts, 400,
                     600, 3000, 20);
                ts += exp_gap(10 * MIN);
            }
        }
        uint64_t ts = T0 + 30 * MIN;
        for (unsigned i = 0; i < 100 && ts < T0 + 6 * HOUR; i++) {
            conn("10.0.78.1", "198.51.100.78", (uint16_t)(20000 + th_rand(&rs) % 40000), 443, 6, ts,
                 300, 320, 900, 30);
            ts += (uint64_t)(per * SEC * (1.0 - uni(0, J)));
        }
        run(&t, T0 + 6 * HOUR);
        long ck = -1, pt = -1;
        for (size_t i = 0; i < t.nalerts; i++)
            if (t.alerts[i].peer[15] == 78 && t.alerts[i].peer[12] == 198 &&
                strcmp(t.alerts[i].rule_id, "beacon.long_session") != 0) {
                ck = (long)ev_num(t.ev[i], "checkins");
                pt = (long)ev_num(t.ev[i], "pairs_tested");
                break;
            }
        print_message("PROBE M=%u J=%.2f seed=%u checkins=%ld pairs_tested=%ld\n", M, J, seed, ck,
                      pt);
        th_fini(&t);
        nrecs = 0;
    }
}

/* An exporter of second resolution: a beacon every minute (+-20 %) and a check-in with a
 * follow-up 6 s later every 56 s, their times cut to whole seconds, are still schedules. */
static void whole_second_times(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 7000, ts2 = T0 + 3000;
    for (unsigned i = 0; i < 40; i++) {
        uint64_t a = ts - ts % SEC, b = ts2 - ts2 % SEC;
        conn("10.0.9.1", "198.51.100.61", (uint16_t)(40000 + i * 7), 443, 6, a, 2000, 300, 900, 0);
        conn("10.0.9.2", "185.100.87.11", (uint16_t)(50000 + i), 8443, 6, b, 1000, 300, 200, 0);
        ts += (uint64_t)(MIN * (1.0 + uni(-0.2, 0.2)));
        ts2 += (uint64_t)((i % 2 ? 6 : 50) * SEC * (1.0 + uni(-0.1, 0.1)));
    }
    run(&t, ts + 5 * MIN);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %s\n", t.alerts[i].rule_id, t.ev[i]);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.9.1");
    assert_non_null(a);
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 60) < 8);
    a = find_alert(&t, "beacon.fast", "10.0.9.2");
    assert_non_null(a);
    assert_true(ev_is(a->evidence_json, "schedule", "alternating"));
    assert_true(fabs(ev_num(a->evidence_json, "period_s") - 56) < 6);
    th_fini(&t);
}

/* Keepalives of UDP sessions, exported one record each by an exporter whose inactive timeout
 * (15 s) is shorter than their period, as the protocols specify them: a WireGuard peer with
 * PersistentKeepalive = 25 (a 32-byte message every 25 s from one port, no answer; a handshake,
 * 148 bytes out and 92 back, every 2 min as the key ages), IPsec NAT-T (RFC 3948: a 1-byte
 * keepalive every 20 s, 4500 to 4500) and a PBX's SIP trunk (OPTIONS every 60 s each way, 5060 to
 * 5060, answered), each to a peer only its host uses: one session each, no alert. A UDP C2 that
 * opens a socket per check-in still makes starts (beacon.fast); one that keeps one socket makes a
 * long session, an alert on a port that is no service (40000) and on DNS's (53: a DNS client
 * changes its port with each query). udp_session=0 (records of 15 s only) makes the keepalives
 * check-ins again. */
static void udp_keepalive_sessions(void **st)
{
    (void)st;
    for (int off = 0; off < 2; off++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, off ? "udp_session=0" : NULL), 0);
        uint64_t end = T0 + 6 * HOUR;
        unsigned k = 0;
        for (uint64_t ts = T0 + 3 * SEC; ts < end; ts += 25 * SEC + th_rand(&rs) % 30, k++) {
            add("10.0.7.1", "198.51.100.71", 41641, 51820, 17, 0, 1, 60, ts, 0);
            if (k % 5 == 4) {
                add("10.0.7.1", "198.51.100.71", 41641, 51820, 17, 0, 1, 176, ts + 400, 0);
                add("198.51.100.71", "10.0.7.1", 51820, 41641, 17, 0, 1, 120, ts + 430, 0);
            }
        }
        for (uint64_t ts = T0 + 5 * SEC; ts < end; ts += 20 * SEC + th_rand(&rs) % 20)
            add("10.0.7.2", "198.51.100.72", 4500, 4500, 17, 0, 1, 29, ts, 0);
        for (uint64_t ts = T0 + 7 * SEC; ts < end; ts += 60 * SEC + th_rand(&rs) % 50) {
            conn("10.0.7.3", "198.51.100.73", 5060, 5060, 17, ts, 0, 520 + th_rand(&rs) % 40, 450,
                 35);
            conn("198.51.100.73", "10.0.7.3", 5060, 5060, 17, ts + 30 * SEC, 0, 510, 440, 35);
        }
        for (uint64_t ts = T0 + 9 * SEC; ts < end; ts += (uint64_t)(45 * SEC * uni(0.8, 1.2))) {
            conn("10.0.7.4", "198.51.100.74", (uint16_t)(32768 + th_rand(&rs) % 28000), 8443, 17,
                 ts, 0, 180, 300, 40);
            conn("10.0.7.5", "198.51.100.75", 40001, 40000, 17, ts + 2 * SEC, 0, 180, 300, 40);
            conn("10.0.7.6", "198.51.100.76", 31337, 53, 17, ts + 4 * SEC, 0, 90, 200, 40);
        }
        run(&t, end + 10 * MIN);
        const char *quiet[] = {"10.0.7.1", "10.0.7.2", "10.0.7.3"};
        for (size_t i = 0; i < 3; i++) {
            bool any = find_alert(&t, "beacon.fast", quiet[i]) ||
                       find_alert(&t, "beacon.slow", quiet[i]) ||
                       find_alert(&t, "beacon.long_session", quiet[i]);
            if (any != (bool)off)
                print_message("  %s: %s (udp_session %s)\n", quiet[i], any ? "alert" : "none",
                              off ? "0" : "2m");
            /* the keepalives alone are a schedule (NAT-T's, 4500 to 4500 and never answered,
             * do not say who calls in these records: undecided either way) */
            if (off && i == 0)
                assert_non_null(find_alert(&t, "beacon.fast", quiet[i]));
            else if (!off)
                assert_false(any);
        }
        assert_non_null(find_alert(&t, "beacon.fast", "10.0.7.4"));
        if (!off) {
            assert_true(stat_of(&t, "udp_session_continued") > 1000);
            assert_non_null(find_alert(&t, "beacon.long_session", "10.0.7.5"));
            assert_non_null(find_alert(&t, "beacon.long_session", "10.0.7.6"));
        }
        th_fini(&t);
    }
}

/* Records sampled 1 in 100 (sFlow, sampled NetFlow): a packet seen is not a connection. A
 * keepalive every 20 s seen 1 in 100 times comes at the schedule thinned at random; a tunnel in use
 * for hours is cut into sessions by the sampler's gaps (re-established, on its face). Not used
 * (counted), whatever they look like: here every check-in of a 30 s beacon happens to be seen, and
 * still no alert. max_sampling=100 takes them again. */
static void sampled_records_skipped(void **st)
{
    (void)st;
    for (int take = 0; take < 2; take++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, take ? "max_sampling=100" : NULL), 0);
        size_t from = nrecs;
        uint64_t end = beacon("10.0.7.9", "198.51.100.79", 8443, 6, T0, 30 * SEC, 0.1, 60, 0);
        for (size_t i = from; i < nrecs; i++)
            recs[i].sampling = 100;
        run(&t, end + 10 * MIN);
        if (take) {
            assert_non_null(find_alert(&t, "beacon.fast", "10.0.7.9"));
            assert_int_equal(stat_of(&t, "sampled_skipped"), 0);
        } else {
            assert_int_equal(t.nalerts, 0);
            assert_int_equal(stat_of(&t, "sampled_skipped"), 120);
        }
        th_fini(&t);
    }
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
    th_advance_to(&t, T0 + 3 * HOUR);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void inbound_periodic_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    /* an outside monitor polls a customer's web server every 60 s, and its old-ports client
     * polls a customer service on a registered port */
    beacon("198.51.100.50", "10.0.0.10", 443, 6, T0, 60 * SEC, 0.0, 100, 0);
    beacon("198.51.100.51", "10.0.0.11", 5000, 6, T0, 60 * SEC, 0.0, 100, 1030);
    run(&t, T0 + 2 * HOUR);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

static void allow_list(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, "allow=198.51.100.0/24"), 0);
    beacon("10.0.0.5", "198.51.100.7", 443, 6, T0, 10 * SEC, 0.2, 60, 0);
    run(&t, T0 + HOUR);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* Timing-based: records whose time contradicts their exporter's clock are not used. */
static void clock_skew_skipped(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    beacon("10.0.0.5", "198.51.100.7", 443, 6, T0, 10 * SEC, 0.1, 60, 0);
    for (size_t i = 0; i < nrecs; i++)
        recs[i].flags |= FLOW_F_CLOCK_SKEW;
    run(&t, T0 + HOUR);
    assert_int_equal(t.nalerts, 0);
    assert_int_equal(stat_of(&t, "clock_skew_skipped"), 120);
    th_fini(&t);
}

/* 400 pairs of 4 connections each compete for 64 slots; the beacon is still found, the
 * evictions are counted. */
static void bounded_pool(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, "max_pairs=64;pending=256"), 0);
    for (unsigned i = 0; i < 400; i++) {
        char peer[32];
        snprintf(peer, sizeof peer, "151.%u.%u.1", i / 200, i % 200);
        for (unsigned k = 0; k < 4; k++)
            add("10.0.0.11", peer, (uint16_t)(30000 + k), 443, 6, 0x1b, 5, 300,
                T0 + i * 500 + k * 100, 10);
    }
    uint64_t end = beacon("10.0.0.5", "198.51.100.7", 443, 6, T0 + 200000, 10 * SEC, 0.2, 60, 0);
    run(&t, end + 5 * MIN);
    const struct alert *a = find_alert(&t, "beacon.fast", "10.0.0.5");
    assert_non_null(a);
    assert_true(ev_num(a->evidence_json, "refused") == 0); /* an answered C2 */
    assert_int_equal(th_count(&t, NULL, "10.0.0.11"), 0);
    assert_true(stat_of(&t, "evicted") > 0);
    th_fini(&t);
}

/* ---- long sessions ------------------------------------------------------------------- */

/* One session of `hours`, exported every 60 s in both directions (active timeout). */
static void long_session(const char *host, const char *peer, uint16_t cport, uint16_t port,
                         uint64_t t0, uint64_t dur)
{
    for (uint64_t s = 0; s < dur; s += MIN) {
        uint64_t d = dur - s < MIN ? dur - s : MIN - 10;
        uint8_t fl = s == 0 ? 0x1a : 0x18;
        add(host, peer, cport, port, 6, fl, 6, 600 + th_rand(&rs) % 300, t0 + s, d);
        add(peer, host, port, cport, 6, fl, 5, 300 + th_rand(&rs) % 200, t0 + s + 40, d - 40);
    }
}

/* A DarkComet-style controller (port 1604) holds the host's session for two hours. */
static void long_session_rat_port(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    long_session("10.0.13.13", "5.188.10.10", 49222, 1604, T0 + 5000, 2 * HOUR);
    run(&t, T0 + 3 * HOUR);
    const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.13.13");
    assert_non_null(a);
    assert_int_equal(a->severity, SEV_LOW);
    assert_int_equal(a->port, 1604);
    assert_true(a->packets > 0 && a->bytes > 0);
    assert_true(ev_num(a->evidence_json, "total_duration_s") >= 3600);
    assert_true(ev_num(a->evidence_json, "bytes_out") > 0 &&
                ev_num(a->evidence_json, "bytes_in") > 0);
    assert_true(ev_num(a->evidence_json, "hosts") == 1);
    assert_true(ev_num(a->evidence_json, "refused") == 0);
    assert_int_equal(th_count(&t, "beacon.fast", NULL) + th_count(&t, "beacon.slow", NULL), 0);
    th_fini(&t);
}

/* The same controller while 300 other hosts each call a peer of their own about once a minute
 * (at random): the
 * prevalence table (64 peers) is full and gives the controller's entry up within the close that
 * scores it. The alert still counts its own host: "0 hosts talk to that peer" was false. */
static void prevalence_full_table(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, "prevalence_peers=64"), 0);
    long_session("10.0.13.13", "5.188.10.10", 49222, 1604, T0 + 5000, 2 * HOUR);
    for (unsigned h = 0; h < 300; h++) {
        char host[32], peer[32];
        snprintf(host, sizeof host, "10.0.%u.%u", 20 + h / 200, h % 200 + 1);
        snprintf(peer, sizeof peer, "45.%u.%u.9", 10 + h / 100, h % 100);
        for (uint64_t ts = T0 + h * 97; ts < T0 + 3 * HOUR; ts += exp_gap(MIN))
            conn(host, peer, (uint16_t)(20000 + th_rand(&rs) % 40000), 8080, 6, ts, 300, 400, 900,
                 20);
    }
    run(&t, T0 + 3 * HOUR);
    for (size_t i = 0; i < t.nalerts && getenv("TW_VERBOSE"); i++)
        print_message("  %s %u %s\n", t.alerts[i].rule_id, t.alerts[i].host[15], t.ev[i]);
    print_message("pv evicted %.0f\n", (double)th_counter(&t, "prevalence_evicted"));
    assert_true(th_counter(&t, "prevalence_evicted") > 0);
    const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.13.13");
    assert_non_null(a);
    assert_true(ev_num(a->evidence_json, "hosts") == 1);
    assert_true(ev_num(a->evidence_json, "customers") == 1);
    assert_true(ev_num(a->evidence_json, "net_hosts") >= 1);
    th_fini(&t);
}

/* A Mirai bot holds one connection to its CNC on 23/tcp for two hours (IoT-23 44-1: one Zeek
 * record of 6 803 s, ~640 B each way): a C2 channel, not a login; so is an IRC bot's session on
 * 6667. The same session on SSH's port, or on IRC's TLS port, is one login
 * (long_sessions_benign). */
static void long_session_telnet_cnc(void **st)
{
    (void)st;
    /* a bot's channel: telnet (Mirai's CNC), plain IRC (an IRC bot idling in its herder's
     * channel); a login: SSH, IRC over TLS */
    static const struct {
        uint16_t port;
        bool alert;
    } cases[] = {{23, true}, {6667, true}, {22, false}, {6697, false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        long_session("10.0.16.16", "46.101.25.17", 45032, cases[i].port, T0 + 1000, 2 * HOUR);
        run(&t, T0 + 3 * HOUR);
        const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.16.16");
        if (!cases[i].alert) {
            assert_null(a);
        } else {
            assert_non_null(a);
            assert_int_equal(a->port, cases[i].port);
            assert_true(ev_num(a->evidence_json, "long_sessions") == 1);
            assert_true(ev_num(a->evidence_json, "total_duration_s") >= 3600);
        }
        th_fini(&t);
    }
}

/* The same CNC session as a router with a 15 s inactive timeout exports it: one record a keepalive
 * each way, a minute apart, only the first with a SYN. Within tcp_session (5 min, Zeek's
 * tcp_inactivity_timeout) the records are one session, as Zeek logs the same traffic; without
 * it (tcp_session=0: the inactive timeout) the session was never seen. Keepalives ten minutes
 * apart are separate records in Zeek too: no session. */
static void long_session_keepalive_records(void **st)
{
    (void)st;
    for (unsigned v = 0; v < 3; v++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, v == 1 ? "tcp_session=0" : NULL), 0);
        uint64_t t0 = T0 + 1000, gap = v == 2 ? 10 * MIN : MIN;
        for (uint64_t s = 0; s < 2 * HOUR; s += gap) {
            uint8_t fl = s == 0 ? 0x1a : 0x18;
            add("10.0.16.17", "46.101.25.18", 45034, 23, 6, fl, 1, 42, t0 + s, 2 * SEC);
            add("46.101.25.18", "10.0.16.17", 23, 45034, 6, (uint8_t)(s == 0 ? 0x12 : 0x18), 1, 42,
                t0 + s + 1, SEC);
        }
        run(&t, t0 + 3 * HOUR);
        const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.16.17");
        if (v == 0) {
            assert_non_null(a);
            assert_true(ev_num(a->evidence_json, "long_sessions") == 1);
            assert_true(ev_num(a->evidence_json, "total_duration_s") >= 3600);
            assert_true(ev_num(a->evidence_json, "connections") == 1);
            assert_true(th_counter(&t, "tcp_session_continued") > 100);
        } else {
            assert_null(a);
        }
        th_fini(&t);
    }
}

/* Whole connections in one record each, as Zeek and Argus log them: a C2 channel held two
 * half days on 443 with a keepalive every few seconds (Torii's, IoT-23 20-1: 8 300 packets each
 * way in 11.5 h; a day would be 17 000) is sessions, not bulk transfers, however many packets a
 * record holds. A router's records of a 20-minute download of 50 000 packets, four of them, stay
 * bulk (the host's ACKs half as many): no session. */
static void long_session_whole_records(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t t0 = T0 + 1000, half = 12 * HOUR;
    for (unsigned s = 0; s < 2; s++) {
        uint64_t ts = t0 + s * (half + MIN);
        uint16_t cp = (uint16_t)(38092 + 2 * s);
        add("10.0.17.17", "66.85.15.90", cp, 443, 6, 0x1b, 12000, 900000, ts, half);
        add("66.85.15.90", "10.0.17.17", 443, cp, 6, 0x1b, 12000, 900000, ts + 100, half - 100);
    }
    for (unsigned s = 0; s < 4; s++) {
        uint64_t ts = t0 + s * 2 * HOUR;
        uint16_t cp = (uint16_t)(51000 + s);
        add("10.0.17.18", "45.33.20.21", cp, 8443, 6, 0x1b, 25000, 1300000, ts, 20 * MIN);
        add("45.33.20.21", "10.0.17.18", 8443, cp, 6, 0x1b, 50000, 70000000, ts + 50, 20 * MIN);
    }
    run(&t, t0 + 26 * HOUR);
    const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.17.17");
    assert_non_null(a);
    assert_true(ev_num(a->evidence_json, "long_sessions") == 2);
    assert_true(ev_num(a->evidence_json, "total_duration_s") >= 86000);
    assert_null(find_alert(&t, "beacon.long_session", "10.0.17.18"));
    th_fini(&t);
}

/* TLS C2 run as sessions of about 25 minutes, each drop followed by a burst of reconnects. */
static void long_session_tls_reconnects(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t ts = T0 + 1000;
    for (unsigned s = 0; s < 5; s++) {
        for (unsigned k = 0; k < 3; k++) /* refused reconnects */
            add("10.0.14.14", "45.9.20.20", (uint16_t)(52000 + s * 10 + k), 443, 6, 0x02, 1, 60,
                ts + k * 2 * SEC, 0);
        ts += 6 * SEC;
        uint64_t d = (uint64_t)(25 * MIN * (1.0 + uni(-0.2, 0.2)));
        long_session("10.0.14.14", "45.9.20.20", (uint16_t)(52000 + s * 10 + 5), 443, ts, d);
        ts += d + 30 * SEC;
    }
    run(&t, ts + HOUR);
    const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.14.14");
    assert_non_null(a);
    assert_true(ev_num(a->evidence_json, "long_sessions") >= 2);
    th_fini(&t);
}

/* Ordinary long sessions: one SSH login of four hours; a chat service whose sessions many
 * hosts of two customers hold. */
static void long_sessions_benign(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    th_two_customers(&t);
    long_session("10.0.15.15", "198.51.100.22", 51515, 22, T0, 4 * HOUR);
    for (unsigned h = 0; h < 6; h++) {
        char host[32];
        snprintf(host, sizeof host, h % 2 ? "10.0.15.%u" : "10.140.15.%u", 20 + h);
        for (unsigned s = 0; s < 3; s++)
            long_session(host, "35.186.224.25", (uint16_t)(50000 + s), 5222,
                         T0 + s * 50 * MIN + h * 1000, 45 * MIN);
    }
    run(&t, T0 + 5 * HOUR);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* A desktop's browser and apps hold push, chat and streaming sessions on 443 with many services
 * a day, each dropped and reopened (CTU-Normal-42 and -44: 8-9 such peers a day, none shared
 * with another host of the capture). With rhythm_peers (5) other peers on the port too, none
 * is a C2 channel; with one peer fewer each still alerts, and the same host's RAT controller
 * on another port alerts all the same. */
static void long_sessions_host_habit(void **st)
{
    (void)st;
    for (unsigned peers = 5; peers <= 6; peers++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
        for (unsigned i = 0; i < peers; i++) {
            char peer[32];
            snprintf(peer, sizeof peer, "%u.%u.7.9", 3 + 30 * i, 60 + i);
            for (unsigned s = 0; s < 2; s++)
                long_session("10.0.17.17", peer, (uint16_t)(50000 + 10 * i + s), 443,
                             T0 + i * 7 * MIN + s * 50 * MIN, 40 * MIN);
        }
        long_session("10.0.17.17", "5.188.10.10", 49222, 1604, T0 + 5000, 2 * HOUR);
        run(&t, T0 + 3 * HOUR);
        uint32_t seen = 0; /* the 443 peers alerted, by their second octet */
        for (size_t i = 0; i < t.nalerts; i++)
            if (strcmp(t.alerts[i].rule_id, "beacon.long_session") == 0 && t.alerts[i].port == 443)
                seen |= 1u << (t.alerts[i].peer[13] - 60);
        assert_int_equal(seen, peers == 6 ? 0 : (1u << peers) - 1);
        assert_true(peers == 6 ? stat_of(&t, "host_sessions_skipped") >= 6
                               : stat_of(&t, "host_sessions_skipped") == 0);
        const struct alert *a = find_alert(&t, "beacon.long_session", "10.0.17.17");
        assert_non_null(a);
        assert_true(peers == 5 || a->port == 1604);
        th_fini(&t);
    }
}

/* A file sync's notifications (CTU-Normal-40's Dropbox client): a long-poll held 900 s, the
 * next opened a minute after it ends, all day - Zeek records of 900.28 s starting 959.8 s apart.
 * Each start reopens a session: no schedule of check-ins (long sessions judge the pair), while
 * the same host's short check-ins every 15 minutes to another server are one. */
static void reopened_sessions_no_schedule(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    for (unsigned i = 0; i < 16; i++) {
        uint64_t s = T0 + i * 960 * SEC;
        conn("10.0.18.18", "162.125.19.9", (uint16_t)(50000 + i), 443, 6, s, 900 * SEC, 46000, 5600,
             40);
        conn("10.0.18.18", "20.54.24.231", (uint16_t)(40000 + i), 443, 6,
             T0 + 300 * SEC + i * 900 * SEC, 100 * SEC, 1300, 3100, 40);
    }
    run(&t, T0 + 5 * HOUR);
    for (size_t i = 0; i < t.nalerts; i++)
        assert_false(strncmp(t.alerts[i].rule_id, "beacon.", 7) == 0 &&
                     strcmp(t.alerts[i].rule_id, "beacon.long_session") != 0 &&
                     t.alerts[i].peer[12] == 162);
    const struct alert *a = find_alert(&t, "beacon.slow", "10.0.18.18");
    assert_non_null(a);
    assert_int_equal(a->peer[12], 20);
    assert_true(stat_of(&t, "sessions_reopened_skipped") > 0);
    th_fini(&t);
}

/* ---- sharding: the prevalence view must not depend on which worker had which host -------- */

/* 12 hosts of two customers (10.0.X.* and 10.150.X.*) poll server (infrastructure), host
 * 10.0.X.99 a C2 at c2 (both on 443/tcp, once a minute for an hour). */
static void pollers_and_c2(unsigned x, const char *server, const char *c2)
{
    for (unsigned h = 0; h < 12; h++) {
        char host[32];
        snprintf(host, sizeof host, h % 2 ? "10.0.%u.%u" : "10.150.%u.%u", x, 10 + h);
        beacon(host, server, 443, 6, T0 + h * 3000, 60 * SEC, 0.05, 60, 0);
    }
    char host[32];
    snprintf(host, sizeof host, "10.0.%u.99", x);
    beacon(host, c2, 443, 6, T0, 60 * SEC, 0.05, 60, 0);
}

/* What was added, in end-time order, into saved (returned: the count) and through one instance
 * of two customers (one, initialised here) until T0 + 2 h. */
static size_t save_and_run_one(struct flow_rec *saved, struct th *one)
{
    qsort(recs, nrecs, sizeof *recs, by_end);
    size_t n = nrecs;
    memcpy(saved, recs, n * sizeof *recs);
    nrecs = 0;
    assert_int_equal(th_init(one, &det_beacon_ops, NULL), 0);
    th_two_customers(one);
    for (size_t i = 0; i < n; i++) {
        struct flow_rec f = saved[i];
        th_flow_rec(one, &f);
    }
    th_advance_to(one, T0 + 2 * HOUR);
    return n;
}

static void merge_across_workers(void **st)
{
    (void)st;
    pollers_and_c2(16, "20.50.2.2", "185.7.7.7");
    static struct flow_rec saved[MAX_RECS];
    struct th one;
    size_t n = save_and_run_one(saved, &one);

    /* three instances, hosts sharded by their last byte: the merge gets all three */
    struct th w[3];
    for (int k = 0; k < 3; k++) {
        assert_int_equal(th_init(&w[k], &det_beacon_ops, NULL), 0);
        th_two_customers(&w[k]);
    }
    void *selves[3] = {w[0].self, w[1].self, w[2].self};
    for (uint64_t end = T0 + 5 * MIN; end <= T0 + 2 * HOUR; end += 5 * MIN) {
        for (size_t i = 0; i < n; i++) {
            if (saved[i].last_ms < end - 5 * MIN || saved[i].last_ms >= end)
                continue;
            struct flow_rec f = saved[i];
            const uint8_t *in = th_is_inside(&w[0], f.src) ? f.src : f.dst;
            struct th *t = &w[in[15] % 3];
            /* feed without closing: the windows close below, all three together */
            bool si = th_is_inside(t, f.src);
            f.dir = si ? FLOW_DIR_OUT : FLOW_DIR_IN;
            f.customer = th_customer_of(t, flow_inside(&f));
            uint8_t *hs;
            struct host *h = th_host(t, flow_inside(&f), &hs);
            h->window = t->ctx.window_no;
            t->ops->on_flow(t->self, &t->ctx, h, hs, &f);
        }
        det_beacon_ops.on_window_merge(selves, 3, &w[0].ctx);
        for (int k = 0; k < 3; k++) {
            det_beacon_ops.on_window(w[k].self, &w[k].ctx);
            w[k].ctx.win_start_ms += w[k].win_ms;
            w[k].ctx.win_end_ms += w[k].win_ms;
            w[k].ctx.window_no++;
        }
    }
    size_t total = w[0].nalerts + w[1].nalerts + w[2].nalerts;
    assert_int_equal(total, one.nalerts);
    assert_true(one.nalerts >= 1);
    for (size_t i = 0; i < one.nalerts; i++) {
        const struct alert *a = &one.alerts[i];
        struct th *t = &w[a->host[15] % 3];
        bool found = false;
        for (size_t j = 0; j < t->nalerts; j++)
            found |= strcmp(t->alerts[j].rule_id, a->rule_id) == 0 &&
                     memcmp(t->alerts[j].host, a->host, 16) == 0 &&
                     t->alerts[j].win_start_ms == a->win_start_ms &&
                     strcmp(t->ev[j], one.ev[i]) == 0;
        assert_true(found);
    }
    assert_non_null(find_alert(&one, "beacon.fast", "10.0.16.99"));
    assert_int_equal(th_count(&one, NULL, "10.0.16.10"), 0);
    th_fini(&one);
    for (int k = 0; k < 3; k++)
        th_fini(&w[k]);
}

/* ---- sharing across processes (detect instances on Kafka: detector.h share_export/import) -- */

struct shared {
    uint8_t e[4096][DET_SHARE_ENTRY_MAX];
    size_t len[4096], n;
};

static void share_collect(void *arg, const void *entry, size_t len)
{
    struct shared *sh = arg;
    assert_true(len <= DET_SHARE_ENTRY_MAX && sh->n < 4096);
    memcpy(sh->e[sh->n], entry, len);
    sh->len[sh->n++] = len;
}

/* Two processes, each with one customer's hosts (the key of the flows topic), exchange what
 * they add to the prevalence view each window; together they raise exactly the single
 * process's alerts (the server 12 hosts of both customers poll is infrastructure: no alert).
 * Without the exchange, each sees one customer only and alerts on the server. Entries are
 * taken twice (one's own and a duplicate of the other's), which changes nothing. */
static void run_split(const struct flow_rec *saved, size_t n, struct th w[2], bool share)
{
    static struct shared out[2];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(th_init(&w[k], &det_beacon_ops, NULL), 0);
        th_two_customers(&w[k]);
    }
    for (uint64_t end = T0 + 5 * MIN; end <= T0 + 2 * HOUR; end += 5 * MIN) {
        for (size_t i = 0; i < n; i++) {
            if (saved[i].last_ms < end - 5 * MIN || saved[i].last_ms >= end)
                continue;
            struct flow_rec f = saved[i];
            struct th *t = &w[0];
            f.dir = th_is_inside(t, f.src) ? FLOW_DIR_OUT : FLOW_DIR_IN;
            f.customer = th_customer_of(t, flow_inside(&f));
            t = &w[f.customer % 2];
            uint8_t *hs;
            struct host *h = th_host(t, flow_inside(&f), &hs);
            h->window = t->ctx.window_no;
            t->ops->on_flow(t->self, &t->ctx, h, hs, &f);
        }
        for (int k = 0; k < 2 && share; k++) {
            void *selves[1] = {w[k].self};
            out[k].n = 0;
            size_t got = det_beacon_ops.share_export(selves, 1, &w[k].ctx, share_collect, &out[k]);
            assert_int_equal(got, out[k].n);
        }
        for (int k = 0; k < 2 && share; k++)
            for (int from = 0; from < 2; from++)
                for (int twice = 0; twice < 1 + (from != k); twice++)
                    for (size_t i = 0; i < out[from].n; i++)
                        assert_int_equal(det_beacon_ops.share_import(w[k].self, out[from].e[i],
                                                                     out[from].len[i]),
                                         0);
        for (int k = 0; k < 2; k++) {
            void *selves[1] = {w[k].self};
            det_beacon_ops.on_window_merge(selves, 1, &w[k].ctx);
            det_beacon_ops.on_window(w[k].self, &w[k].ctx);
            w[k].ctx.win_start_ms += w[k].win_ms;
            w[k].ctx.win_end_ms += w[k].win_ms;
            w[k].ctx.window_no++;
        }
    }
}

static void share_across_processes(void **st)
{
    (void)st;
    pollers_and_c2(17, "20.50.3.3", "185.7.7.8");
    beacon("10.150.17.98", "185.7.7.9", 8443, 6, T0 + 7000, 90 * SEC, 0.05, 40, 0);
    static struct flow_rec saved[MAX_RECS];
    struct th one;
    size_t n = save_and_run_one(saved, &one);
    assert_non_null(find_alert(&one, "beacon.fast", "10.0.17.99"));
    assert_int_equal(th_count(&one, NULL, "10.0.17.10"), 0);

    struct th w[2];
    run_split(saved, n, w, true);
    assert_int_equal(w[0].nalerts + w[1].nalerts, one.nalerts);
    for (size_t i = 0; i < one.nalerts; i++) {
        bool found = false;
        for (int k = 0; k < 2; k++)
            for (size_t j = 0; j < w[k].nalerts; j++)
                found |= strcmp(w[k].alerts[j].rule_id, one.alerts[i].rule_id) == 0 &&
                         memcmp(w[k].alerts[j].host, one.alerts[i].host, 16) == 0 &&
                         w[k].alerts[j].win_start_ms == one.alerts[i].win_start_ms &&
                         strcmp(w[k].ev[j], one.ev[i]) == 0;
        assert_true(found);
    }
    for (int k = 0; k < 2; k++)
        th_fini(&w[k]);

    /* the control: without the exchange the server's pollers alert */
    run_split(saved, n, w, false);
    assert_true(th_count(&w[0], NULL, "10.150.17.10") + th_count(&w[1], NULL, "10.0.17.11") > 0);
    for (int k = 0; k < 2; k++)
        th_fini(&w[k]);

    /* an entry that is not one is refused */
    assert_int_equal(th_init(&w[0], &det_beacon_ops, NULL), 0);
    uint8_t junk[30] = {0};
    junk[20] = 200; /* 200 exact values: more than an exact set holds */
    assert_int_equal(det_beacon_ops.share_import(w[0].self, junk, sizeof junk), -EINVAL);
    th_fini(&w[0]);
    th_fini(&one);
}

/* A reload that moves an inside host to another customer (the host table sets the host's
 * customer; its keyed hash, of the address alone, stays): the pair key holds the customer, so
 * the host's first connection under the old customer is not the second of a pair under the
 * new one. Pending first connections are found by the pair hash alone, so this holds only
 * while the customer is mixed into the hash (hash_host_mix's extra). */
static void reload_moves_host(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    uint64_t start = T0 + SEC;
    for (int i = 0; i < 3; i++, start += 20 * SEC) {
        struct flow_rec f = th_rec("10.0.18.10", "20.50.4.4", (uint16_t)(40000 + i), 8443, 6, 0x1b,
                                   5, 900, start, 40);
        f.dir = FLOW_DIR_OUT;
        f.customer = i == 0 ? 1 : 2;
        uint8_t *hs;
        th_host(&t, flow_inside(&f), &hs)->customer = f.customer; /* as hosttab_get_hashed */
        th_deliver(&t, &f);
        if (i == 0)
            assert_int_equal(th_counter(&t, "pending_inserted"), 1);
        if (i == 1) { /* the new customer's first connection: pending, not a pair */
            assert_int_equal(th_counter(&t, "pending_inserted"), 2);
            assert_int_equal(th_counter(&t, "admitted"), 0);
        }
    }
    assert_int_equal(th_counter(&t, "admitted"), 1); /* the new customer's pair */
    th_fini(&t);
}

/* The entries' bytes are the same on every machine (instances may run on machines of other
 * byte orders): one host's pair with a peer, exported at its window's close, gives exactly
 * these two entries (the address level and the network level: key, port little endian, one
 * host hash as a little-endian u32, one customer index as a little-endian u32); each reads
 * back, and a byte more or less, too many values or customers, or a bad level is refused. */
static void share_entry_bytes(void **st)
{
    (void)st;
    beacon("10.0.18.10", "20.50.4.4", 8443, 6, T0, 20 * SEC, 0.05, 10, 0);
    qsort(recs, nrecs, sizeof *recs, by_end);
    struct th t;
    assert_int_equal(th_init(&t, &det_beacon_ops, NULL), 0);
    th_two_customers(&t);
    for (size_t i = 0; i < nrecs; i++) {
        struct flow_rec f = recs[i];
        f.dir = th_is_inside(&t, f.src) ? FLOW_DIR_OUT : FLOW_DIR_IN;
        f.customer = th_customer_of(&t, flow_inside(&f));
        uint8_t *hs;
        struct host *h = th_host(&t, flow_inside(&f), &hs);
        h->window = t.ctx.window_no;
        t.ops->on_flow(t.self, &t.ctx, h, hs, &f);
    }
    nrecs = 0;
    static struct shared out;
    out.n = 0;
    void *selves[1] = {t.self};
    assert_int_equal(det_beacon_ops.share_export(selves, 1, &t.ctx, share_collect, &out), 2);
    static const uint8_t want[2][31] = {
        {0,    0,    0,    0,    0,    0,    0, 0,
         0,    0,    0xff, 0xff, 20,   50,   4, 0, /* 20.50.4.0/24 */
         0xfb, 0x20, 6,    1,                      /* 8443, TCP, network */
         1,    0,    0xd4, 0xc1, 0x68, 0xdd,       /* 1 host: its hash */
         1,    1,    0,    0,    0},               /* 1 customer: index 1 */
        {0,    0,    0, 0, 0, 0, 0,    0,    0,    0,    0xff, 0xff, 20, 50, 4, 4, /* 20.50.4.4 */
         0xfb, 0x20, 6, 0, 1, 0, 0xd4, 0xc1, 0x68, 0xdd, 1,    1,    0,  0,  0}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(out.len[i], sizeof want[i]);
        assert_memory_equal(out.e[i], want[i], sizeof want[i]);
    }
    struct th u;
    assert_int_equal(th_init(&u, &det_beacon_ops, NULL), 0);
    uint8_t e[64];
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(det_beacon_ops.share_import(u.self, want[i], sizeof want[i]), 0);
        memcpy(e, want[i], sizeof want[i]);
        e[31] = 0;
        assert_int_equal(det_beacon_ops.share_import(u.self, e, 32), -EINVAL);
        assert_int_equal(det_beacon_ops.share_import(u.self, e, 30), -EINVAL);
        e[19] = 2; /* level */
        assert_int_equal(det_beacon_ops.share_import(u.self, e, 31), -EINVAL);
        e[19] = want[i][19];
        e[20] = 33; /* exact values: an exact set holds 32 */
        assert_int_equal(det_beacon_ops.share_import(u.self, e, 31), -EINVAL);
        e[20] = 1;
        e[26] = 5; /* customers: at most 4 */
        assert_int_equal(det_beacon_ops.share_import(u.self, e, 31), -EINVAL);
    }
    th_fini(&u);
    th_fini(&t);
}

int main(void)
{
    if (getenv("PROBE")) {
        const struct CMUnitTest probe[] = {cmocka_unit_test(cost_probe)};
        return cmocka_run_group_tests(probe, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_beacon_seconds),
        cmocka_unit_test(slow_beacons_six_checkins),
        cmocka_unit_test(http_checkins_90_minutes),
        cmocka_unit_test(njrat_alternating_old_ports),
        cmocka_unit_test(high_c2_port_low_client_ports),
        cmocka_unit_test(client_port_on_a_service_number),
        cmocka_unit_test(retry_bursts_long_sleeps),
        cmocka_unit_test(refused_c2_retries),
        cmocka_unit_test(six_hour_checkins),
        cmocka_unit_test(slow_c2_outlasts_bursts),
        cmocka_unit_test(infrastructure_pairs_give_way),
        cmocka_unit_test(c2_over_dns_udp),
        cmocka_unit_test(one_direction_answers),
        cmocka_unit_test(connections_counted_once),
        cmocka_unit_test(ntp_pool_prevalence),
        cmocka_unit_test(time_service_below),
        cmocka_unit_test(ntp_client_long_sessions),
        cmocka_unit_test(saas_monitor_popular),
        cmocka_unit_test(workstations_polling_cloud),
        cmocka_unit_test(outbreak_in_one_customer_alerts),
        cmocka_unit_test(declared_mta_quiet),
        cmocka_unit_test(popular_web_and_dns),
        cmocka_unit_test(poisson_rare_peers),
        cmocka_unit_test(busy_resolver_quiet),
        cmocka_unit_test(five_minute_checkins_one_rule),
        cmocka_unit_test(retry_timer_not_a_schedule),
        cmocka_unit_test(reachability_checks_quiet),
        cmocka_unit_test(p2p_peer_both_transports),
        cmocka_unit_test(whole_second_times),
        cmocka_unit_test(many_random_pairs_one_host),
        cmocka_unit_test(dht_routing_rhythm),
        cmocka_unit_test(p2p_retry_rhythm),
        cmocka_unit_test(c2_list_walk_not_rhythm),
        cmocka_unit_test(monitor_checks_rhythm),
        cmocka_unit_test(busy_host_slow_c2),
        cmocka_unit_test(rhythm_pairs_give_way),
        cmocka_unit_test(udp_keepalive_sessions),
        cmocka_unit_test(sampled_records_skipped),
        cmocka_unit_test(split_session_quiet),
        cmocka_unit_test(inbound_periodic_quiet),
        cmocka_unit_test(allow_list),
        cmocka_unit_test(clock_skew_skipped),
        cmocka_unit_test(bounded_pool),
        cmocka_unit_test(long_session_rat_port),
        cmocka_unit_test(prevalence_full_table),
        cmocka_unit_test(long_session_telnet_cnc),
        cmocka_unit_test(long_sessions_host_habit),
        cmocka_unit_test(reopened_sessions_no_schedule),
        cmocka_unit_test(long_session_whole_records),
        cmocka_unit_test(long_session_keepalive_records),
        cmocka_unit_test(long_session_tls_reconnects),
        cmocka_unit_test(long_sessions_benign),
        cmocka_unit_test(merge_across_workers),
        cmocka_unit_test(share_across_processes),
        cmocka_unit_test(share_entry_bytes),
        cmocka_unit_test(reload_moves_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
