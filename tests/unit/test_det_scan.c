/* det_scan on hand-built flows written from descriptions of real traffic:
 *   - scanners: fast and slow horizontal sweeps (a probe every 10 s for an hour; one every 5
 *     minutes for a day), vertical scans, a bot's small wholly unanswered telnet sweep (under
 *     the per-window threshold), UDP sweeps, the ping sweep of Stratosphere's capture (18
 *     addresses in 1.6 s, 11 answering);
 *   - what is not a scan: web clients with some dead servers, retries, a DNS resolver whose
 *     answers come as separate records before or after the query, a monitoring host pinging
 *     hosts that answer, an inbound scan of the customer, the nmap ssh-brute run (67
 *     connections to one port of one host), mail (det_spam's);
 *   - how answers are judged: SYN-only and SYN+RST records, RST replies, exporters without
 *     flags, answers that are never exported (asymmetric routing), sampled exports, answers
 *     from another customer's hosts.
 * Scan alerts must carry the port (and the target for vertical scans), packets and bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"
#include "json.h"

extern const struct detector_ops det_scan_ops;
#define T0 1221868800000ULL /* a window start */
#define MIN_MS 60000ULL

static void target(char *buf, size_t len, unsigned i)
{
    snprintf(buf, len, "45.%u.%u.%u", 10 + i / 60000, (i / 250) % 240, i % 250 + 1);
}

/* A TCP probe from host to dst:port that nobody answered (SYN, one retransmission). */
static void syn_probe(struct th *t, const char *host, const char *dst, uint16_t port, uint64_t at)
{
    th_flow(t, host, dst, (uint16_t)(40000 + at % 20000), port, 6, 0x02, 2, 120, at, 1000);
}

/* A completed TCP connection from host to dst:port (both directions exported). */
static void tcp_conn(struct th *t, const char *host, const char *dst, uint16_t sport, uint16_t port,
                     uint64_t at)
{
    th_flow(t, host, dst, sport, port, 6, 0x1b, 12, 1800, at, 300);
    th_flow(t, dst, host, port, sport, 6, 0x1b, 10, 9000, at, 300);
}

static const struct alert *find_last(const struct th *t, const char *rule)
{
    for (size_t i = t->nalerts; i-- > 0;)
        if (strcmp(t->alerts[i].rule_id, rule) == 0)
            return &t->alerts[i];
    return NULL;
}

static const char *ev_of(const struct alert *a, const char *key, char *out, size_t len)
{
    const char *p = strstr(a->evidence_json, key);
    if (!p)
        return NULL;
    snprintf(out, len, "%s", p + strlen(key));
    return out;
}

static unsigned long ev_num(const struct alert *a, const char *key)
{
    char buf[64];
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    if (!ev_of(a, k, buf, sizeof buf))
        fail_msg("no %s in %s", key, a->evidence_json);
    return strtoul(buf, NULL, 10);
}

/* A probe every 10 s to a new address on port 23 for an hour: the per-window count never
 * reaches 50 (30 per 5 minutes), the hour view does, within the hour. */
static void slow_horizontal_within_an_hour(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 360; i++) {
        target(dst, sizeof dst, i);
        syn_probe(&t, "10.0.0.5", dst, 23, T0 + i * 10000ULL);
    }
    th_close(&t);
    const struct alert *a = th_find(&t, "scan.horizontal");
    assert_non_null(a);
    assert_true(a->win_end_ms <= T0 + 60 * MIN_MS);
    assert_int_equal(a->port, 23);
    assert_int_equal(a->proto, 6);
    assert_false(a->has_peer);
    assert_int_equal(a->category, CAT_SCAN);
    assert_true(a->packets > 0 && a->bytes > 0 && a->flows > 0);
    assert_true(a->packets == 2 * a->flows && a->bytes == 120 * a->flows);
    assert_true(ev_num(a, "distinct_targets_hour") >= 50);
    assert_true(ev_num(a, "distinct_targets_hour") <= ev_num(a, "unanswered"));
    assert_non_null(strstr(a->evidence_json, "sample_targets"));
    assert_int_equal(th_count(&t, "scan.vertical", NULL), 0);
    th_fini(&t);
}

/* One probe every 5 minutes for a day: 12 an hour, under every short view; the day view finds
 * it (the hour view never does). */
static void very_slow_horizontal_over_a_day(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 288; i++) {
        target(dst, sizeof dst, i);
        syn_probe(&t, "10.0.0.6", dst, 445, T0 + i * 5 * MIN_MS + 7000);
    }
    th_close(&t);
    const struct alert *a = th_find(&t, "scan.horizontal");
    assert_non_null(a);
    assert_int_equal(a->port, 445);
    assert_true(ev_num(a, "distinct_targets_hour") < 50);
    assert_true(ev_num(a, "distinct_targets_day") >= 100);
    th_fini(&t);
}

/* A vertical scan, slowly (one port every 10 s) with retries of the same ports: the target is
 * the peer, repeated ports count once. */
static void slow_vertical(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 240; i++) {
        uint16_t port = (uint16_t)(1000 + i % 120); /* every port twice */
        th_flow(&t, "10.0.0.7", "93.1.1.1", 50001, port, 6, 0x02, 1, 60, T0 + i * 10000ULL, 0);
        th_flow(&t, "93.1.1.1", "10.0.0.7", port, 50001, 6, 0x14, 1, 40, T0 + i * 10000ULL + 1, 0);
    }
    th_close(&t);
    const struct alert *a = th_find(&t, "scan.vertical");
    assert_non_null(a);
    assert_true(a->has_peer);
    char want[16];
    assert_int_equal(addr_parse("93.1.1.1", (uint8_t *)want), 0);
    assert_memory_equal(a->peer, want, 16);
    assert_true(ev_num(a, "distinct_ports_hour") >= 50);
    a = find_last(&t, "scan.vertical"); /* after the retries: 120 ports, each counted once */
    assert_true(ev_num(a, "distinct_ports_day") <= 120);
    assert_int_equal(ev_num(a, "unanswered"), 120);
    assert_true(a->packets > 0 && a->bytes > 0);
    assert_int_equal(th_count(&t, "scan.horizontal", NULL), 0);
    th_fini(&t);
}

/* A fast sweep of 300 addresses in one window: one event, one alert (the horizontal one; the
 * sequential test reaches its verdict too but does not repeat it). */
static void fast_sweep_one_alert(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 300; i++) {
        target(dst, sizeof dst, 20000 + i);
        syn_probe(&t, "10.0.0.30", dst, 445, T0 + 1000 + i * 200);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.30"), 1);
    assert_int_equal(t.nalerts, 1);
    th_fini(&t);
}

/* A Mirai-style bot: 40 addresses on telnet in 20 s, none answering. Under the horizontal
 * thresholds; the sequential test flags it, naming port 23. */
static void trw_small_fast_sweep(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 40; i++) {
        target(dst, sizeof dst, i * 7);
        syn_probe(&t, "10.0.0.8", dst, 23, T0 + 1000 + i * 500);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", NULL), 0);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.8"), 1);
    const struct alert *a = th_find(&t, "scan.trw");
    assert_int_equal(a->port, 23);
    assert_int_equal(a->flows, 40);
    assert_int_equal(ev_num(a, "unanswered"), 40);
    assert_true(a->packets == 80 && a->bytes == 4800);
    th_fini(&t);
}

/* The walk's ports are a lower bound: a bot alternating telnet probes with probes of a new
 * random port each time names telnet, with at most its 40 probes, and no random port with more
 * than the one probe it had (the summary kept before gave the second counter the evicted
 * ports' counts: "port 51234: 39 unanswered"). */
static void trw_ports_lower_bound(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 80; i++) {
        target(dst, sizeof dst, 3000 + i);
        syn_probe(&t, "10.0.0.12", dst, i % 2 ? (uint16_t)(20000 + i * 97) : 23,
                  T0 + 1000 + i * 500);
    }
    th_close(&t);
    const struct alert *a = th_find(&t, "scan.trw");
    assert_non_null(a);
    assert_int_equal(a->port, 23);
    const char *p = strstr(a->evidence_json, "\"ports\":[");
    assert_non_null(p);
    unsigned long n23 = 0, nother = 0;
    for (const char *q = strstr(p, "\"port\":"); q && q < strstr(p, "]");
         q = strstr(q + 1, "\"port\":")) {
        unsigned long port = strtoul(q + 7, NULL, 10);
        unsigned long n = strtoul(strstr(q, "\"unanswered\":") + 13, NULL, 10);
        if (port == 23)
            n23 = n;
        else if (n > nother)
            nother = n;
    }
    assert_true(n23 >= 10 && n23 <= 40);
    assert_true(nother <= 1);
    th_fini(&t);
}

/* Two bots probing the same 40 telnet targets, each probe retried 3 s later, their records
 * interleaved one by one with a web client's: every contact key is the host's own (the instance
 * keeps only the last host's salt), so each bot has 40 first contacts, not the other's 40 or
 * its own retries, and one verdict naming exactly its probes. */
static void interleaved_hosts_keep_their_keys(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32], web[32];
    for (unsigned i = 0; i < 40; i++) {
        target(dst, sizeof dst, 500 + i);
        target(web, sizeof web, 9000 + i);
        uint64_t at = T0 + 1000 + i * 500;
        syn_probe(&t, "10.0.0.41", dst, 23, at);
        tcp_conn(&t, "10.0.0.50", web, (uint16_t)(50000 + i), 443, at + 10);
        syn_probe(&t, "10.0.0.42", dst, 23, at + 20);
        syn_probe(&t, "10.0.0.41", dst, 23, at + 3000);
        syn_probe(&t, "10.0.0.42", dst, 23, at + 3020);
    }
    th_close(&t);
    assert_int_equal(th_counter(&t, "first_contacts"), 3 * 40);
    const char *bots[2] = {"10.0.0.41", "10.0.0.42"};
    for (int b = 0; b < 2; b++) {
        assert_int_equal(th_count(&t, "scan.trw", bots[b]), 1);
        uint8_t host[16];
        assert_int_equal(addr_parse(bots[b], host), 0);
        for (size_t i = 0; i < t.nalerts; i++) {
            const struct alert *a = &t.alerts[i];
            if (strcmp(a->rule_id, "scan.trw") != 0 || memcmp(a->host, host, 16) != 0)
                continue;
            assert_int_equal(a->flows, 40);
            assert_int_equal(ev_num(a, "unanswered"), 40);
            assert_true(a->packets == 80 && a->bytes == 4800);
        }
    }
    assert_int_equal(th_count(&t, NULL, "10.0.0.50"), 0);
    th_fini(&t);
}

/* Flagged within a few dozen probes: 25 wholly unanswered probes are enough (the walk needs 20
 * unanswered first contacts as well as the likelihood ratio); 15 are not. */
static void trw_needs_a_few_dozen(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 25; i++) {
        target(dst, sizeof dst, 1000 + i);
        syn_probe(&t, "10.0.0.9", dst, 2323, T0 + 1000 + i * 300);
    }
    for (unsigned i = 0; i < 15; i++) {
        target(dst, sizeof dst, 2000 + i);
        syn_probe(&t, "10.0.0.10", dst, 2323, T0 + 1000 + i * 300);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.9"), 1);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.10"), 0);
    th_fini(&t);
}

/* The walk follows the options in force: a reload's set allocated where a freed one was (same
 * address, another generation) is not mistaken for it. A stricter test
 * (answered share 0.7 for a scanner, alpha 1e-9) does not flag 25 unanswered probes. */
static void trw_options_in_force(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 25; i++) {
        target(dst, sizeof dst, 1000 + i);
        syn_probe(&t, "10.0.0.9", dst, 2323, T0 + 1000 + i * 300);
    }
    void *strict = th_make_conf(&det_scan_ops, "trw_theta1=0.7;trw_alpha=1e-9");
    assert_non_null(strict);
    memcpy(t.conf, strict, det_scan_ops.conf_size); /* a reload's set, where the old one was */
    t.confs.gen++;                                  /* as the pipeline's swap does */
    free(strict);
    for (unsigned i = 0; i < 25; i++) {
        target(dst, sizeof dst, 2000 + i);
        syn_probe(&t, "10.0.0.11", dst, 2323, T0 + 1000 + i * 300);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.9"), 1);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.11"), 0);
    th_fini(&t);
}

/* A completed TCP connection as an exporter that knows the initiator (IPFIX, the flow meter,
 * a Zeek log) gives it: between two dynamic ports, only that says who called whom. */
static void tcp_conn_known(struct th *t, const char *host, const char *dst, uint16_t sport,
                           uint16_t port, uint64_t at)
{
    struct flow_rec f = th_rec(host, dst, sport, port, 6, 0x1b, 12, 1800, at, 300);
    f.flags |= FLOW_F_INIT_SRC;
    th_flow_rec(t, &f);
    f = th_rec(dst, host, port, sport, 6, 0x1b, 10, 9000, at + 30, 270);
    f.flags |= FLOW_F_INIT_DST;
    th_flow_rec(t, &f);
}

/* A P2P client (BitTorrent, its DHT): peers at the ports their clients chose, one new peer
 * after another, four in ten gone or behind NAT and not answering, as an exporter that tells the
 * initiator shows it and as NetFlow v5 does (a completed connection between two dynamic ports:
 * nobody can tell who started it, while an unanswered one has its SYN). Its walk has no drift: it
 * crosses the bound now and then and falls back within the window; no alert, and the crossings
 * are counted. A sweep of 60 telnet addresses in the middle of the client's traffic is still a
 * scan. */
static void p2p_client_quiet(void **st)
{
    (void)st;
    for (int run = 0; run < 3; run++) {
        bool bot = run == 2, v5 = run == 1;
        struct th t;
        assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
        uint64_t r = 11;
        char dst[32];
        for (unsigned i = 0; i < 3600; i++) { /* 2 a second for 30 minutes */
            uint64_t at = T0 + 1000 + i * 500;
            uint16_t port = (uint16_t)(1025 + th_rand(&r) % 64000);
            target(dst, sizeof dst, 20000 + i);
            if (th_rand(&r) % 10 < 4)
                syn_probe(&t, "10.0.0.60", dst, port, at);
            else if (v5) /* neither the exporter nor the ports (both dynamic) say who started */
                tcp_conn(&t, "10.0.0.60", dst, (uint16_t)(40000 + i % 20000),
                         (uint16_t)(32768 + port % 32768), at);
            else
                tcp_conn_known(&t, "10.0.0.60", dst, (uint16_t)(40000 + i % 20000), port, at);
            if (bot && i >= 1800 && i < 1860) {
                target(dst, sizeof dst, 60000 + i);
                syn_probe(&t, "10.0.0.60", dst, 23, at + 250);
            }
        }
        th_close(&t);
        if (!bot) {
            for (size_t i = 0; i < t.nalerts; i++)
                print_message("  %s %s\n", t.alerts[i].rule_id, t.alerts[i].evidence_json);
            assert_int_equal(t.nalerts, 0);
            assert_true(th_counter(&t, "trw_withdrawn") > 0);
        } else { /* as many telnet addresses as the horizontal view needs; the walk falls back
                  * under the client's traffic after it */
            const struct alert *a = th_find(&t, "scan.horizontal");
            assert_non_null(a);
            assert_int_equal(a->port, 23);
            assert_int_equal(th_count(&t, "scan.trw", NULL), 0);
        }
        th_fini(&t);
    }
}

/* A P2P client's peers listen on ports of their own, but many keep their client's default
 * (Transmission 51413, libtorrent 6881): over six hours of one new peer every two seconds, 55 in
 * 100 not answering, each default gathers hundreds of unanswered addresses, a few per cent of the
 * client's. Neither is a scan of that port, and the walk's failures share no port: no alert
 * (before: scan.horizontal on 51413 and 6881, scan.trw). Beside it a telnet sweep of 120
 * addresses in an hour, answered 1 time in 20, stands out: scan.horizontal names port 23 alone.
 * A quiet host's probes of 30 ports of one address (under the vertical thresholds) spread over
 * ports but not over targets: the walk's verdict stands. */
static void p2p_default_ports_spread(void **st)
{
    (void)st;
    for (int run = 0; run < 2; run++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
        uint64_t r = 21;
        char dst[32];
        for (unsigned i = 0; i < 10800; i++) {
            uint64_t at = T0 + 1000 + i * 2000ULL;
            unsigned pick = th_rand(&r) % 100;
            uint16_t port = pick < 8    ? 51413
                            : pick < 13 ? 6881
                                        : (uint16_t)(1025 + th_rand(&r) % 64000);
            target(dst, sizeof dst, 20000 + i);
            if (th_rand(&r) % 100 < 55)
                syn_probe(&t, "10.0.0.61", dst, port, at);
            else
                tcp_conn_known(&t, "10.0.0.61", dst, (uint16_t)(40000 + i % 20000), port, at);
            if (run == 1 && i >= 3600 && i < 3600 + 1800 && i % 15 == 0) {
                target(dst, sizeof dst, 90000 + i);
                if (i % 300 == 0)
                    tcp_conn_known(&t, "10.0.0.61", dst, (uint16_t)(30000 + i % 20000), 23,
                                   at + 500);
                else
                    syn_probe(&t, "10.0.0.61", dst, 23, at + 500);
            }
        }
        for (unsigned i = 0; i < 30; i++) /* a quiet host: 30 ports of one address */
            syn_probe(&t, "10.0.0.62", "45.200.1.1", (uint16_t)(1000 + i * 7),
                      T0 + 4 * 3600000ULL + i * 3000);
        th_close(&t);
        uint8_t client[16];
        assert_int_equal(addr_parse("10.0.0.61", client), 0);
        for (size_t i = 0; i < t.nalerts; i++)
            if (memcmp(t.alerts[i].host, client, 16) == 0)
                assert_int_equal(t.alerts[i].port, 23);
        assert_int_equal(th_count(&t, "scan.trw", "10.0.0.61"), 0);
        size_t sweep = th_count(&t, "scan.horizontal", "10.0.0.61"); /* one a window */
        assert_true(run == 1 ? sweep > 0 : sweep == 0);
        assert_true(th_counter(&t, "horizontal_spread") > 0);
        assert_true(th_counter(&t, "trw_spread") > 0);
        assert_int_equal(th_count(&t, "scan.trw", "10.0.0.62"), 1);
        assert_int_equal(th_count(&t, "scan.vertical", "10.0.0.62"), 0);
        th_fini(&t);
    }
}

/* A browser: 400 sites over 4 hours, one in six not answering (dead servers, blocked ports),
 * plus a burst of 10 dead servers at once, and retries of dead servers: no scan. */
static void web_client_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    uint64_t r = 7;
    char dst[32];
    for (unsigned i = 0; i < 400; i++) {
        snprintf(dst, sizeof dst, "151.%u.%u.%u", th_rand(&r) % 250, th_rand(&r) % 250,
                 1 + th_rand(&r) % 250);
        uint64_t at = T0 + i * 36000ULL;
        if (i % 6 == 0)
            syn_probe(&t, "10.0.0.11", dst, 443, at);
        else
            tcp_conn(&t, "10.0.0.11", dst, (uint16_t)(40000 + i), 443, at);
        if (i == 200)
            for (unsigned k = 0; k < 10; k++) {
                snprintf(dst, sizeof dst, "152.1.%u.9", k);
                syn_probe(&t, "10.0.0.11", dst, 443, at + k * 100);
            }
    }
    for (unsigned i = 0; i < 300; i++) /* a client retrying three dead servers */
        syn_probe(&t, "10.0.0.12", i % 3 ? "152.9.9.9" : "152.9.9.8", 8443, T0 + i * 20000ULL);
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* An outside scanner sweeps the customer (closed ports answer RST+ACK, open ones SYN+ACK),
 * and a busy web server answers clients: nothing against the customer. */
static void inbound_scan_and_web_server_quiet(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 500; i++) {
        char in[32], cl[32];
        snprintf(in, sizeof in, "10.1.%u.%u", i / 250, i % 250 + 1);
        th_flow(&t, "45.9.9.9", in, 61000, 22, 6, 0x02, 1, 44, T0 + i * 100, 0);
        th_flow(&t, in, "45.9.9.9", 22, 61000, 6, i % 3 ? 0x14 : 0x12, 1, 40, T0 + i * 100 + 1, 0);
        snprintf(cl, sizeof cl, "88.%u.%u.7", i / 250, i % 250);
        th_flow(&t, cl, "10.0.0.80", (uint16_t)(30000 + i), 443, 6, 0x1b, 10, 900, T0 + i * 100,
                50);
        th_flow(&t, "10.0.0.80", cl, 443, (uint16_t)(30000 + i), 6, 0x1b, 20, 30000, T0 + i * 100,
                50);
    }
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* nmap's ssh-brute as Stratosphere recorded it: one host opens 67 connections to one port of
 * one other host, nearly all established. Many attempts, one target, one port: that is not
 * reconnaissance, and no scan rule may call it one. */
static void brute_force_is_not_a_scan(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    for (unsigned i = 0; i < 67; i++) {
        uint64_t at = T0 + 1000 + i * 190;
        if (i == 0)
            th_flow(&t, "10.0.0.40", "93.32.80.37", 36679, 902, 6, 0x06, 2, 84, at, 0);
        else
            tcp_conn(&t, "10.0.0.40", "93.32.80.37", (uint16_t)(59488 + 2 * i), 902, at);
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
    char dst[32];
    for (unsigned i = 0; i < 200; i++) {
        target(dst, sizeof dst, i);
        th_flow(&t, "10.0.0.13", dst, 50000, 25, 6, 0x02, 1, 44, T0 + i * 100, 0);
    }
    th_close(&t);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* Answers judged from what records carry: an exporter without TCP flags (the size tells), a
 * scanner that resets its own half-open probes (SYN+RST, nmap -sS on open ports), targets
 * answering RST+ACK in records of their own (never counted as answers). */
static void answers_from_records(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 80; i++) {
        target(dst, sizeof dst, 3000 + i);
        th_flow(&t, "10.0.0.14", dst, 41000, 8080, 6, 0, 1, 44, T0 + i * 1000, 0); /* no flags */
        target(dst, sizeof dst, 4000 + i);
        th_flow(&t, "10.0.0.15", dst, 41000, 3389, 6, 0x06, 2, 84, T0 + i * 1000, 5); /* SYN+RST */
        target(dst, sizeof dst, 5000 + i);
        th_flow(&t, "10.0.0.16", dst, 41000, 5900, 6, 0x02, 1, 44, T0 + i * 1000, 0);
        th_flow(&t, dst, "10.0.0.16", 5900, 41000, 6, 0x14, 1, 40, T0 + i * 1000 + 2, 0); /* RST */
    }
    /* without flags, a flow that carried data was answered */
    for (unsigned i = 0; i < 80; i++) {
        target(dst, sizeof dst, 6000 + i);
        th_flow(&t, "10.0.0.17", dst, 41000, 8443, 6, 0, 9, 4000, T0 + i * 1000, 200);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.14"), 1);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.15"), 1);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.16"), 1);
    assert_int_equal(th_count(&t, NULL, "10.0.0.17"), 0);
    th_fini(&t);
}

/* UDP: the answer is a record of its own. A host probing UDP/161 on 120 addresses (none
 * answers; its DNS answers show that answers reach us) is a UDP sweep. A resolver querying 300
 * authoritative servers whose answers arrive as separate records - some exported before the
 * query, some after, within the wait - is not. With two_customers, the same between two
 * customers (a customer's host sweeping another customer's space, a resolver asking another
 * customer's name servers): the answers are records of the other customer's hosts; the
 * pipeline hands them to the prober's side too, so they are judged as from outside. */
static void udp_sweep_and_resolver_in(bool two_customers)
{
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    if (two_customers)
        th_two_customers(&t);
    const char *res = two_customers ? "10.200.0.53" : "9.9.9.9";
    char dst[32];
    for (unsigned i = 0; i < 120; i++) {
        uint64_t at = T0 + i * 1000;
        if (two_customers)
            snprintf(dst, sizeof dst, "10.130.%u.%u", i / 200, i % 200 + 1);
        else
            target(dst, sizeof dst, 7000 + i);
        th_flow(&t, "10.0.0.18", dst, 40001, 161, 17, 0, 1, 70, at, 0);
        th_flow(&t, "10.0.0.18", res, (uint16_t)(50000 + i), 53, 17, 0, 1, 60, at, 0);
        th_flow(&t, res, "10.0.0.18", 53, (uint16_t)(50000 + i), 17, 0, 1, 120, at + 20, 0);
    }
    for (unsigned i = 0; i < 300; i++) {
        uint64_t at = T0 + i * 900;
        snprintf(dst, sizeof dst, two_customers ? "10.140.%u.%u" : "198.%u.%u.53",
                 two_customers ? i % 200 : 51 + i / 200, two_customers ? 53 : i % 200);
        uint16_t sp = (uint16_t)(30000 + i);
        if (i % 2) { /* the answer's record came first (another exporter, earlier export) */
            th_flow(&t, dst, "10.0.0.53", 53, sp, 17, 0, 1, 300, at + 40, 0);
            th_flow(&t, "10.0.0.53", dst, sp, 53, 17, 0, 1, 70, at, 0);
        } else {
            th_flow(&t, "10.0.0.53", dst, sp, 53, 17, 0, 1, 70, at, 0);
            th_flow(&t, dst, "10.0.0.53", 53, sp, 17, 0, 1, 300, at + 40, 0);
        }
    }
    th_advance_to(&t, T0 + 20 * MIN_MS);
    assert_int_equal(th_count(&t, NULL, "10.0.0.53"), 0);
    const struct alert *a = th_find(&t, "scan.horizontal");
    assert_non_null(a);
    assert_int_equal(a->proto, 17);
    assert_int_equal(a->port, 161);
    assert_non_null(strstr(a->evidence_json, "\"protocol\":\"udp\""));
    assert_int_equal(ev_num(a, "unanswered"), 120);
    assert_int_equal(t.nalerts, th_count(&t, NULL, "10.0.0.18")); /* nobody else */
    th_fini(&t);
}

/* A resolver whose queries to new authoritative servers (10 a second) are answered but for one
 * in 20 (lame or unreachable servers, timeouts) is not a scan: 95 % of its first contacts are
 * answered. An answer record comes at once, silence is known only answer_wait later; taken as
 * they came, the answers all went before the silent queries between them, the walk forgot them
 * and 150 unanswered queries in a row crossed it, and the port's pair, made at the close, had
 * counted none of them (horizontal, unanswered share 1.0). Beside it a host sweeping UDP/161
 * at one probe a second, one target in five answering, is one (share 0.8, both rules). */
static void resolver_some_lame(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 6000; i++) {
        uint64_t at = T0 + i * 100;
        snprintf(dst, sizeof dst, "198.%u.%u.53", 51 + i / 200, i % 200);
        uint16_t sp = (uint16_t)(30000 + i);
        th_flow(&t, "10.0.0.53", dst, sp, 53, 17, 0, 1, 70, at, 0);
        if (i % 20 != 7)
            th_flow(&t, dst, "10.0.0.53", 53, sp, 17, 0, 1, 300, at + 40, 0);
        if (i % 10 == 0) {
            target(dst, sizeof dst, 9000 + i / 10);
            th_flow(&t, "10.0.0.18", dst, 40001, 161, 17, 0, 1, 70, at, 0);
            if (i % 50 == 0)
                th_flow(&t, dst, "10.0.0.18", 161, 40001, 17, 0, 1, 90, at + 30, 0);
        }
    }
    th_advance_to(&t, T0 + 40 * MIN_MS);
    assert_int_equal(th_count(&t, NULL, "10.0.0.53"), 0);
    assert_true(th_count(&t, "scan.horizontal", "10.0.0.18") >= 1); /* one per window it goes on */
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.18"), 0);     /* one alert for one event */
    const struct alert *a = th_find(&t, "scan.horizontal");
    assert_int_equal(ev_num(a, "unanswered"), 4 * ev_num(a, "answered")); /* share 0.8 */
    assert_true(ev_num(a, "answered") >= 50);
    th_fini(&t);
}

/* A one-packet UDP record as an exporter that knows the initiator gives it (IPFIX biflows, the
 * flow meter, a Zeek log): between two equal ports only that says who asked (NetFlow v5 cannot:
 * such records are no attempts). request: src started it. */
static void udp_known(struct th *t, const char *src, const char *dst, uint16_t sport,
                      uint16_t dport, uint64_t bytes, uint64_t at, bool request)
{
    struct flow_rec f = th_rec(src, dst, sport, dport, 17, 0, 1, bytes, at, 0);
    f.flags |= request ? FLOW_F_INIT_SRC : FLOW_F_INIT_DST;
    th_flow_rec(t, &f);
}

/* An NTP daemon (ntpd, `pool` servers) on host 10.0.0.123, 12 hours: every 15 minutes it takes
 * a new server from the pool, polls it from its own port 123 every 64 s (NTP requests of 48
 * bytes, 76 on the wire), and drops it after 4 silent polls; one server in three answers, the
 * others left the pool or sit behind a filter of UDP/123 (IoT-23 Torii's host: 21 of 31
 * unanswered). sport: the requests' source port; bytes: each request's size on the wire. */
static void ntp_daemon(struct th *t, uint16_t sport, uint64_t bytes)
{
    assert_int_equal(th_init(t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 48; i++) {
        target(dst, sizeof dst, 3000 + i * 7);
        uint64_t at = T0 + i * 15 * MIN_MS + 5000;
        bool answers = i % 3 == 1;
        for (unsigned k = 0; k < (answers ? 12u : 4u); k++) {
            uint64_t q = at + k * 64000;
            udp_known(t, "10.0.0.123", dst, sport, 123, bytes, q, true);
            if (answers)
                udp_known(t, dst, "10.0.0.123", 123, sport, bytes, q + 30, false);
        }
    }
    th_advance_to(t, T0 + 13 * 60 * MIN_MS);
}

/* ntpd's silent pool servers are no scan; the same requests from a dynamic port (a scanner's
 * NTP probes: zmap and masscan send from any port) or messages of another size to port 123 are
 * walked; a sweep from port 123 is still counted by the horizontal rule. */
static void ntp_daemon_pool(void **st)
{
    (void)st;
    static struct th t;
    ntp_daemon(&t, 123, 76);
    assert_int_equal(th_count(&t, NULL, "10.0.0.123"), 0);
    assert_int_equal(th_counter(&t, "time_client_contacts"), 48);
    th_fini(&t);
    ntp_daemon(&t, 40123, 76);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.123"), 1);
    assert_int_equal(th_counter(&t, "time_client_contacts"), 0);
    th_fini(&t);
    ntp_daemon(&t, 123, 300);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.123"), 1);
    th_fini(&t);
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    udp_known(&t, "192.0.2.1", "10.0.0.123", 123, 123, 76, T0, false); /* answers visible */
    for (unsigned i = 0; i < 300; i++) {
        target(dst, sizeof dst, 6000 + i);
        udp_known(&t, "10.0.0.123", dst, 123, 123, 76, T0 + 1000 + i * 500, true);
    }
    th_advance_to(&t, T0 + 20 * MIN_MS);
    assert_true(th_count(&t, "scan.horizontal", "10.0.0.123") >= 1);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.123"), 0);
    th_fini(&t);
}

static void udp_sweep_and_resolver(void **st)
{
    (void)st;
    udp_sweep_and_resolver_in(false);
}

static void udp_between_customers(void **st)
{
    (void)st;
    udp_sweep_and_resolver_in(true);
}

/* A host's outcomes depend on its own records and the window closes, never on other hosts'
 * records or their order (scaled out on Kafka an instance reads only some customers, in an
 * interleaving of partitions of its own). Host 10.0.0.18 sweeps UDP/161 as above within a
 * window; another host's UDP query starts 10 s before that window ends and its record arrives
 * before the sweep's (flow records arrive at export, not in start order): its answer is not
 * due at the close, the sweep's probes are. The sweep's alerts are the same with or without it. */
static void udp_sweep_alone(struct th *t, bool other_first)
{
    assert_int_equal(th_init(t, &det_scan_ops, NULL), 0);
    if (other_first)
        th_flow(t, "10.0.0.77", "192.0.2.53", 41000, 53, 17, 0, 1, 60, T0 + 290000, 0);
    char dst[32];
    for (unsigned i = 0; i < 120; i++) {
        uint64_t at = T0 + i * 1000;
        target(dst, sizeof dst, 7000 + i);
        th_flow(t, "10.0.0.18", dst, 40001, 161, 17, 0, 1, 70, at, 0);
        th_flow(t, "10.0.0.18", "9.9.9.9", (uint16_t)(50000 + i), 53, 17, 0, 1, 60, at, 0);
        th_flow(t, "9.9.9.9", "10.0.0.18", 53, (uint16_t)(50000 + i), 17, 0, 1, 120, at + 20, 0);
    }
    th_advance_to(t, T0 + 20 * MIN_MS);
}

static void other_hosts_order_changes_nothing(void **st)
{
    (void)st;
    static struct th a, b;
    udp_sweep_alone(&a, false);
    udp_sweep_alone(&b, true);
    size_t n = th_count(&a, NULL, "10.0.0.18");
    assert_true(n >= 1);
    assert_int_equal(th_count(&b, NULL, "10.0.0.18"), n);
    uint8_t h[16];
    assert_int_equal(addr_parse("10.0.0.18", h), 0);
    for (size_t i = 0, j = 0; i < a.nalerts; i++) {
        if (memcmp(a.alerts[i].host, h, 16) != 0)
            continue;
        while (memcmp(b.alerts[j].host, h, 16) != 0)
            j++;
        const struct alert *x = &a.alerts[i], *y = &b.alerts[j++];
        assert_string_equal(x->rule_id, y->rule_id);
        assert_int_equal(x->win_start_ms, y->win_start_ms);
        assert_int_equal(x->flows, y->flows);
        assert_string_equal(x->evidence_json, y->evidence_json);
    }
    th_fini(&a);
    th_fini(&b);
}

/* Asymmetric routing: the host's answers are never exported to us (no record towards it at
 * all). Unanswered UDP probes then prove nothing: no alert. */
static void udp_answers_not_exported(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    char dst[32];
    for (unsigned i = 0; i < 150; i++) {
        snprintf(dst, sizeof dst, "198.%u.%u.53", 51 + i / 200, i % 200);
        th_flow(&t, "10.0.0.19", dst, (uint16_t)(30000 + i), 53, 17, 0, 1, 70, T0 + i * 900, 0);
    }
    th_advance_to(&t, T0 + 20 * MIN_MS);
    assert_int_equal(t.nalerts, 0);
    th_fini(&t);
}

/* The ping sweep of Stratosphere's test12 capture: 18 addresses of one /24 in 1.6 s, 11
 * answering, starting at ms into the event time; a monitoring host that pings 40 hosts every
 * minute, all answering, is not one. last: the input ends after it (one close, the last, as at
 * the end of a replay); else later windows close as records go on. The alert, the same
 * wherever the sweep falls. */
static void icmp_sweep_at(uint64_t start, bool last)
{
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    static const unsigned octet[18] = {1,   80,  102, 117, 120, 130, 131, 171, 104,
                                       113, 114, 115, 0,   255, 100, 101, 192, 110};
    static const bool answers[18] = {1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    char dst[32];
    for (unsigned m = 0; m < 10; m++)
        for (unsigned i = 0; i < 40 && !last; i++) {
            uint64_t at = T0 + m * MIN_MS + i * 50;
            snprintf(dst, sizeof dst, "46.%u.0.%u", i, 10 + i);
            th_flow(&t, "10.0.0.120", dst, 0, 8 << 8, 1, 0, 1, 84, at, 0);
            th_flow(&t, dst, "10.0.0.120", 0, 0, 1, 0, 1, 84, at + 9, 0);
        }
    for (unsigned i = 0; i < 18; i++) {
        uint64_t at = start + i * 90;
        snprintf(dst, sizeof dst, "45.68.1.%u", octet[i]);
        th_flow(&t, "10.0.0.109", dst, 0, 8 << 8, 1, 0, 1, 28, at, 0);
        if (answers[i])
            th_flow(&t, dst, "10.0.0.109", 0, 0, 1, 0, 1, 28, at + 4, 0);
    }
    if (last) {
        t.ctx.last_close = true;
        th_close(&t);
    } else {
        th_advance_to(&t, T0 + 20 * MIN_MS);
    }
    assert_int_equal(th_count(&t, NULL, "10.0.0.120"), 0);
    assert_int_equal(th_count(&t, "scan.icmp_sweep", "10.0.0.109"), 1);
    const struct alert *a = th_find(&t, "scan.icmp_sweep");
    assert_int_equal(a->proto, 1);
    assert_int_equal(a->flows, 18);
    assert_int_equal(a->packets, 18);
    assert_int_equal(a->bytes, 18 * 28);
    assert_int_equal(ev_num(a, "answered"), 11);
    assert_int_equal(ev_num(a, "unanswered"), 7);
    assert_int_equal(ev_num(a, "waiting"), 0);
    th_fini(&t);
}

static void icmp_sweep(void **st)
{
    (void)st;
    icmp_sweep_at(T0 + 96000, false);
}

/* The same sweep in the last answer_wait (30 s) of a window: at the close its 11 answered
 * probes are settled and its 7 silent ones still wait. A verdict then would see answers only
 * (no sweep; the real capture shifted there was missed so): it waits for them, and the next
 * close finds the sweep. Also across the window's end, and when the input ends right after it
 * (the last close settles what waits). */
static void icmp_sweep_late_in_window(void **st)
{
    (void)st;
    icmp_sweep_at(T0 + 285000, false);
    icmp_sweep_at(T0 + 299000, false);
    icmp_sweep_at(T0 + 285000, true);
    icmp_sweep_at(T0 + 96000, true);
}

/* n first contacts from host to targets first.. on dport, one sampled packet each (1:rate). */
static void sampled_probes(struct th *t, const char *host, unsigned first, unsigned n,
                           uint16_t dport, uint8_t proto, uint8_t flags, uint32_t rate)
{
    char dst[32];
    for (unsigned i = 0; i < n; i++) {
        target(dst, sizeof dst, first + i);
        th_flow_sampled(t, host, dst, 41000, dport, proto, flags, 1, 44, T0 + i * 500, 0, rate);
    }
}

/* Sampled exports (1:100). A SYN probe (sampled_packets 1) is seen with probability 1/100, so
 * the horizontal threshold of 50 scales to max(50 x 0.01, sampled_min 3) = 3 seen targets: 40
 * seen SYNs stand for about 4 000 probes and alert, with the rate and the scaled thresholds in
 * the evidence; the sequential test is off; 2 seen targets are below sampled_min; sampled UDP
 * probes have unknown outcomes; sampled web clients (each connection's SYN and 9 other packets
 * sampled alike: unanswered share about 0.1, over first contacts or over packets) stay quiet. */
static void sampled_exports(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    sampled_probes(&t, "10.0.0.21", 9000, 40, 23, 6, 0x02, 100);
    sampled_probes(&t, "10.0.0.22", 9100, 2, 23, 6, 0x02, 100);
    sampled_probes(&t, "10.0.0.23", 9200, 40, 161, 17, 0, 100);
    /* a client whose first sampled packet to 3 servers was the SYN (looks unanswered), then 30
     * sampled packets of those connections with ACK: 3 of 33 unanswered, no scan */
    sampled_probes(&t, "10.0.0.27", 9600, 3, 443, 6, 0x02, 100);
    for (unsigned r = 0; r < 10; r++)
        sampled_probes(&t, "10.0.0.27", 9600, 3, 443, 6, 0x18, 100);
    /* 3 SYN samples and 2 ACK samples (share 0.6 >= fail_min): 5 samples of a client whose
     * connections are short would look so with probability about 0.2: not evidence */
    sampled_probes(&t, "10.0.0.28", 9700, 3, 443, 6, 0x02, 100);
    sampled_probes(&t, "10.0.0.28", 9700, 2, 443, 6, 0x18, 100);
    /* a P2P client: SYNs to 8 peers' port 51413 and ACKs to 40 others, all from dynamic ports
     * (neither port tells who opened a connection; the SYN's flags do): 8 of 48 unanswered */
    sampled_probes(&t, "10.0.0.30", 9800, 8, 51413, 6, 0x02, 100);
    sampled_probes(&t, "10.0.0.30", 9810, 40, 51413, 6, 0x18, 100);
    char dst[32];
    for (unsigned i = 0; i < 200; i++) {
        target(dst, sizeof dst, 9300 + i);
        th_flow_sampled(&t, "10.0.0.24", dst, (uint16_t)(42000 + i), 443, 6, i % 10 ? 0x18 : 0x02,
                        1, 500, T0 + i * 500, 0, 100);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.21"), 1);
    assert_int_equal(th_count(&t, "scan.trw", "10.0.0.21"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.22"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.23"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.24"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.27"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.28"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.30"), 0);
    assert_int_equal(t.nalerts, 1);
    const struct alert *a = th_find(&t, "scan.horizontal");
    assert_int_equal(ev_num(a, "sampling_rate"), 100);
    assert_int_equal(ev_num(a, "threshold_hour"), 3);
    assert_int_equal(ev_num(a, "threshold_day"), 6);
    unsigned long seen = ev_num(a, "distinct_targets_hour"); /* HyperLogLog past 32 */
    assert_true(seen >= 30 && seen <= 40);
    assert_int_equal(a->packets, 4000);
    th_fini(&t);

    /* 1:1000 with sampled_packets 3 (retried SYNs): p = 0.003, still the floor of 5 seen; the
     * SYN that made the pair is no draw, so 5 seen are 4 unanswered of 4 for the client test
     * (a client's chance (1/3)^4 = 0.012, not below trw_alpha 0.01): 6 seen alert */
    assert_int_equal(th_init(&t, &det_scan_ops, "sampled_min=5;sampled_packets=3"), 0);
    sampled_probes(&t, "10.0.0.25", 9400, 4, 23, 6, 0x02, 1000);
    sampled_probes(&t, "10.0.0.29", 9450, 5, 23, 6, 0x02, 1000);
    sampled_probes(&t, "10.0.0.26", 9500, 6, 23, 6, 0x02, 1000);
    th_close(&t);
    assert_int_equal(th_count(&t, NULL, "10.0.0.25"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.29"), 0);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.26"), 1);
    th_fini(&t);
}

/* Memory stays bounded: 20 000 scanning hosts through tables of 64 pairs and 64 pending
 * probes; evictions are counted, nothing breaks, the statistics say so. */
static void bounded_tables(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops,
                             "max_pairs=64;max_pending=64;max_sweepers=16;contact_filter=4096"),
                     0);
    char host[32], dst[32];
    for (unsigned i = 0; i < 20000; i++) {
        snprintf(host, sizeof host, "10.7.%u.%u", (i / 250) % 4, i % 250 + 1);
        target(dst, sizeof dst, i);
        uint64_t at = T0 + i * 10;
        switch (i % 3) {
        case 0:
            syn_probe(&t, host, dst, 23, at);
            break;
        case 1:
            th_flow(&t, host, dst, 40000, 161, 17, 0, 1, 70, at, 0);
            break;
        default:
            th_flow(&t, host, dst, 0, 8 << 8, 1, 0, 1, 28, at, 0);
            break;
        }
    }
    th_close(&t);
    /* the tables' evictions show in the detector's counters (/metrics, JSON totals) */
    uint64_t v[DET_CTR_MAX] = {0};
    det_scan_ops.counters(t.self, v);
    uint64_t h_evicted = UINT64_MAX, pending_evicted = UINT64_MAX, h_pairs = 0, h_cap = 0;
    for (size_t i = 0; i < det_scan_ops.nctr; i++) {
        const struct ctr_def *d = &det_scan_ops.ctr_defs[i];
        uint64_t x = ctr_value(d, v);
        print_message("scan counter %s = %llu\n", d->json, (unsigned long long)x);
        if (strcmp(d->json, "h_evicted") == 0)
            h_evicted = x;
        else if (strcmp(d->json, "pending_evicted") == 0)
            pending_evicted = x;
        else if (strcmp(d->json, "h_pairs") == 0)
            h_pairs = x;
        else if (strcmp(d->json, "h_capacity") == 0)
            h_cap = x;
    }
    assert_true(h_evicted > 0 && h_evicted != UINT64_MAX);
    assert_true(pending_evicted > 0 && pending_evicted != UINT64_MAX);
    assert_int_equal(h_cap, 64);
    assert_true(h_pairs > 0 && h_pairs <= h_cap);
    th_fini(&t);
}

/* UDP traceroutes (the Linux and BSD default), as the flow meter or a Zeek log gives them (the
 * initiator known: both ports are dynamic): to each of 40 peers every 15 minutes for two
 * hours, three probes a hop with a rising TTL, each to the next port from 33434 on; the
 * routers answer with time exceeded, the peer (17 to 20 hops away) with port unreachable. 51-60
 * ports of each peer, none answered, and 40 peers on 33434: no scan (ignore_udp_ports), counted as
 * ignored; the same host's UDP scan of 60 other ports of one address still is one. With the
 * default list replaced by another port, the traces are vertical scans: the list is what
 * keeps them quiet. */
static void traceroute_run(struct th *t, bool scan_too)
{
    char dst[32], hop[32];
    for (unsigned run = 0; run < 8; run++)
        for (unsigned i = 0; i < 40; i++) {
            uint64_t at = T0 + run * 15 * MIN_MS + i * 2000;
            snprintf(dst, sizeof dst, "47.%u.0.%u", i, 9 + i);
            uint16_t port = 33434;
            unsigned hops = 17 + i % 4;
            for (unsigned h = 1; h <= hops; h++)
                for (unsigned q = 0; q < 3; q++, port++) {
                    uint64_t pt = at + h * 30 + q * 10;
                    struct flow_rec f = th_rec("10.0.0.90", dst, (uint16_t)(41000 + run * 40 + i),
                                               port, 17, 0, 1, 60, pt, 0);
                    f.flags |= FLOW_F_INIT_SRC;
                    th_flow_rec(t, &f);
                    snprintf(hop, sizeof hop, "80.1.%u.%u", i, h);
                    th_flow(t, h < 16 ? hop : dst, "10.0.0.90", 0, h < 16 ? 11 << 8 : 3 << 8 | 3, 1,
                            0, 1, 88, pt + 5, 0);
                }
        }
    for (unsigned p = 0; scan_too && p < 60; p++)
        th_flow(t, "10.0.0.90", "47.200.0.1", 41999, (uint16_t)(1000 + p * 7), 17, 0, 1, 40,
                T0 + 30 * MIN_MS + p * 500, 0);
    th_advance_to(t, T0 + 150 * MIN_MS);
}

static void traceroute_is_not_a_port_scan(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, NULL), 0);
    traceroute_run(&t, true);
    assert_int_equal(th_counter(&t, "udp_ports_ignored"), 8 * 10 * 3 * (17 + 18 + 19 + 20));
    assert_int_equal(t.nalerts, 1);
    const struct alert *a = th_find(&t, "scan.vertical");
    assert_non_null(a);
    assert_int_equal(a->proto, 17);
    assert_int_equal(ev_num(a, "unanswered"), 60);
    /* 60 ports are past the exact set (HLL_EXACT): the evidence says the count is an estimate */
    assert_non_null(strstr(a->evidence_json, "\"exact\":false"));
    th_fini(&t);
    assert_int_equal(th_init(&t, &det_scan_ops, "ignore_udp_ports=9"), 0);
    traceroute_run(&t, false);
    assert_int_equal(th_counter(&t, "udp_ports_ignored"), 0);
    assert_int_equal(th_count(&t, "scan.vertical", "10.0.0.90"), 40); /* one per peer */
    th_fini(&t);
}

static void threshold_override(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_scan_ops, "h_threshold=10;trw=no"), 0);
    char dst[32];
    for (unsigned i = 0; i < 12; i++) {
        snprintf(dst, sizeof dst, "45.0.0.%u", i + 1);
        syn_probe(&t, "10.0.0.22", dst, 445, T0 + i * 100);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "scan.horizontal", "10.0.0.22"), 1);
    assert_int_equal(th_count(&t, "scan.trw", NULL), 0);
    const struct alert *a = th_find(&t, "scan.horizontal"); /* 12 targets: counted exactly */
    assert_int_equal(ev_num(a, "distinct_targets_hour"), 12);
    assert_non_null(strstr(a->evidence_json, "\"exact\":true"));
    th_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_horizontal_within_an_hour),
        cmocka_unit_test(very_slow_horizontal_over_a_day),
        cmocka_unit_test(slow_vertical),
        cmocka_unit_test(traceroute_is_not_a_port_scan),
        cmocka_unit_test(fast_sweep_one_alert),
        cmocka_unit_test(trw_small_fast_sweep),
        cmocka_unit_test(trw_needs_a_few_dozen),
        cmocka_unit_test(trw_options_in_force),
        cmocka_unit_test(trw_ports_lower_bound),
        cmocka_unit_test(interleaved_hosts_keep_their_keys),
        cmocka_unit_test(web_client_quiet),
        cmocka_unit_test(p2p_client_quiet),
        cmocka_unit_test(p2p_default_ports_spread),
        cmocka_unit_test(inbound_scan_and_web_server_quiet),
        cmocka_unit_test(brute_force_is_not_a_scan),
        cmocka_unit_test(mail_left_to_spam),
        cmocka_unit_test(answers_from_records),
        cmocka_unit_test(udp_sweep_and_resolver),
        cmocka_unit_test(resolver_some_lame),
        cmocka_unit_test(ntp_daemon_pool),
        cmocka_unit_test(udp_between_customers),
        cmocka_unit_test(udp_answers_not_exported),
        cmocka_unit_test(other_hosts_order_changes_nothing),
        cmocka_unit_test(icmp_sweep),
        cmocka_unit_test(icmp_sweep_late_in_window),
        cmocka_unit_test(sampled_exports),
        cmocka_unit_test(bounded_tables),
        cmocka_unit_test(threshold_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
