/* det_bruteforce on hand-built flows written from descriptions of real traffic:
 *   - guessers: a fast Hydra run (16 tasks, a few passwords per SSH connection), a slow guesser
 *     (one attempt every 10-30 s for an hour), nmap's vmauthd-brute as Stratosphere's capture
 *     shows it (short handshake-only connections among the guesses), a stuffing run trying a
 *     few credentials on each of 40 telnet servers, a guesser the target starts dropping
 *     (fail2ban), exporters without TCP flags, a sampled export, IPv6;
 *   - what is not brute forcing: an administrator's few SSH sessions and quick commands, an
 *     rsync/ansible run with many SSH connections that move real data, a web client's many
 *     connections to one HTTPS server, the customer's FTP and SSH servers answering (and
 *     being attacked by) outside clients, a host attacking another customer (only the
 *     attacker is reported), SYN retries to a closed port, repeated connections whose sizes
 *     vary (no single exchange repeated), a flow meter's one-packet ACK records after each
 *     connection (not connections);
 *   - configuration: allow lists, overridden thresholds, episodes, bounded tables, port lists.
 * Alerts must carry the target, port, connections, answered share, bytes/packets, per-attempt
 * size statistics, the span, first and last. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"
#include "json.h"
#include "sketch.h"

extern const struct detector_ops det_bruteforce_ops;
#define T0 1221868800000ULL /* a window start */
#define SEC 1000ULL
#define MIN_MS 60000ULL

/* A value from an alert's evidence ("key": number), or fail. */
static double ev_val(const struct alert *a, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(a->evidence_json, k);
    if (!p)
        fail_msg("no %s in %s", key, a->evidence_json);
    return strtod(p + strlen(k), NULL);
}

/* One login attempt: the guesser's record (SYN, PSH, ACK, FIN) and the server's answer. */
static void attempt(struct th *t, const char *host, const char *dst, uint16_t port, uint16_t sport,
                    uint64_t at, uint64_t pk, uint64_t by, uint64_t dur)
{
    th_flow(t, host, dst, sport, port, 6, 0x1b, pk, by, at, dur);
    th_flow(t, dst, host, port, sport, 6, 0x1b, pk > 1 ? pk - 1 : 1, by + by / 3, at + 5, dur);
}

static size_t count_det(const struct th *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nalerts; i++)
        n += strcmp(t->alerts[i].detector, "bruteforce") == 0;
    return n;
}

static uint64_t stat_of(struct th *t, const char *key)
{
    return th_counter(t, key);
}

/* Hydra against SSH: 16 tasks, each connection tries a few passwords before the server drops
 * it (MaxAuthTries), 400 connections in three minutes; each the guesser's key exchange and
 * USERAUTH requests: 18-26 packets, 2.8-3.6 KB, 2-6 s. High severity (> 100 in the window). */
static void fast_hydra_run(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t r = 7;
    for (unsigned i = 0; i < 400; i++)
        attempt(&t, "10.0.0.7", "203.0.113.22", 22, (uint16_t)(40000 + i), T0 + 60 * SEC + i * 450,
                18 + th_rand(&r) % 9, 2800 + th_rand(&r) % 800, 2000 + th_rand(&r) % 4000);
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", NULL), 1);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    uint8_t host[16], peer[16];
    addr_parse("10.0.0.7", host);
    addr_parse("203.0.113.22", peer);
    assert_memory_equal(a->host, host, 16);
    assert_true(a->has_peer);
    assert_memory_equal(a->peer, peer, 16);
    assert_int_equal(a->port, 22);
    assert_int_equal(a->proto, 6);
    assert_true(a->host_is_source);
    assert_int_equal(a->category, CAT_BRUTEFORCE);
    assert_int_equal(a->severity, SEV_HIGH);
    assert_true(a->score > 0.8 && a->score <= 1);
    assert_int_equal(a->flows, 400);
    assert_true(a->packets >= 400 * 18 && a->bytes >= 400 * 2800);
    assert_true(a->first_ms == T0 + 60 * SEC && a->last_ms > a->first_ms);
    assert_true(a->win_end_ms == T0 + 5 * MIN_MS);
    assert_int_equal((int)ev_val(a, "login_attempts"), 400);
    assert_int_equal((int)ev_val(a, "connections"), 400);
    assert_true(ev_val(a, "answered_share") == 1.0);
    assert_int_equal((int)ev_val(a, "attempts_in_window"), 400);
    assert_int_equal((uint64_t)ev_val(a, "bytes"), a->bytes);
    assert_int_equal((uint64_t)ev_val(a, "packets"), a->packets);
    assert_true(ev_val(a, "min") >= 2800); /* attempt_bytes.min comes first */
    assert_true(ev_val(a, "mean") > 2800 && ev_val(a, "mean") < 3600);
    assert_true(ev_val(a, "stddev") > 0);
    assert_true(ev_val(a, "similar_share") >= 0.9);
    assert_true(ev_val(a, "span_s") > 170 && ev_val(a, "span_s") < 190);
    assert_non_null(strstr(a->evidence_json, "\"target\":\"203.0.113.22\""));
    assert_non_null(strstr(a->evidence_json, "\"first\":\""));
    assert_non_null(strstr(a->evidence_json, "\"last\":\""));
    assert_non_null(strstr(a->evidence_json, "\"attempt_packets\":{"));
    assert_non_null(strstr(a->evidence_json, "\"attempt_duration_ms\":{"));
    assert_int_equal(th_count(&t, "bruteforce.horizontal", NULL), 0);
    th_fini(&t);
}

/* A slow guesser: one attempt every 10-30 s for an hour (under fail2ban's 5 per 10 min per
 * address it would not be, but flows cannot see failures): found within a quarter of an hour,
 * re-raised while it goes on (the alert manager keeps one event.id), medium severity. */
static void slow_guesser_found_within_minutes(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t r = 11, at = T0 + 30 * SEC;
    unsigned n = 0;
    while (at < T0 + 60 * MIN_MS) {
        attempt(&t, "10.0.0.8", "198.51.100.40", 22, (uint16_t)(33000 + n), at,
                14 + th_rand(&r) % 5, 2400 + th_rand(&r) % 300, 1500 + th_rand(&r) % 1500);
        at += 10 * SEC + th_rand(&r) % (20 * SEC);
        n++;
    }
    th_close(&t);
    assert_true(n > 110);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_true(a->win_end_ms <= T0 + 15 * MIN_MS);
    assert_int_equal(a->severity, SEV_MEDIUM);
    size_t k = th_count(&t, "bruteforce.login", "10.0.0.8");
    assert_true(k >= 9 && k <= 12); /* every window from the first alert on */
    const struct alert *last = &t.alerts[t.nalerts - 1];
    assert_int_equal((unsigned)ev_val(last, "login_attempts"), n);
    assert_true(ev_val(last, "attempts_in_window") >= 60 &&
                ev_val(last, "attempts_in_window") < 100);
    th_fini(&t);
}

/* Stratosphere's nmap vmauthd-brute (malicious-ssh-bruteforce.pcap) as its records look:
 * guesses of 9-13 packets and 2.1-2.5 KB, among them connections that end after the banner
 * (4-5 packets, 240-292 B), every connection followed by the meter's one-packet ACK record,
 * a SYN+RST probe first: found, the probe and the ACK records not counted as attempts. */
static void nmap_vmauthd_brute(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t r = 5, at = T0 + 100 * SEC;
    th_flow(&t, "10.0.0.40", "198.51.100.37", 36679, 902, 6, 0x06, 2, 84, at, 0);
    for (unsigned i = 0; i < 65; i++) {
        uint16_t sp = (uint16_t)(59488 + 2 * i);
        uint64_t s = at + 100 + i * 190;
        if (i % 4 == 1)
            th_flow(&t, "10.0.0.40", "198.51.100.37", sp, 902, 6, 0x1a, 4 + i % 2,
                    240 + th_rand(&r) % 53, s, 10);
        else
            th_flow(&t, "10.0.0.40", "198.51.100.37", sp, 902, 6, 0x1b, 9 + th_rand(&r) % 5,
                    2136 + th_rand(&r) % 313, s, 1800 + th_rand(&r) % 2000);
        th_flow(&t, "10.0.0.40", "198.51.100.37", sp, 902, 6, 0x10, 1, 52, s + 4000, 0);
    }
    th_close(&t);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_int_equal(a->port, 902);
    assert_int_equal((int)ev_val(a, "login_attempts"), 65);
    assert_int_equal((int)ev_val(a, "connections"), 65);
    assert_true(ev_val(a, "similar_share") > 0.6 && ev_val(a, "similar_share") < 0.85);
    assert_int_equal(stat_of(&t, "continuations"), 65);
    th_fini(&t);
}

/* An administrator: four interactive SSH sessions over a day (the exporter splits each every
 * 60 s: continuation records without SYN), and eight quick `ssh host uptime` commands in half
 * an hour (short, small, alike, but eight). Nothing. */
static void admin_logins_are_not_guessing(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t r = 3;
    for (unsigned s = 0; s < 4; s++) {
        uint64_t at = T0 + s * 5 * 60 * MIN_MS;
        uint16_t sp = (uint16_t)(51000 + s);
        for (unsigned m = 0; m < 40; m++)
            th_flow(&t, "10.0.0.9", "192.0.2.10", sp, 22, 6, m == 0 ? 0x1a : 0x18,
                    20 + th_rand(&r) % 200, 3000 + th_rand(&r) % 30000, at + m * MIN_MS, 59990);
    }
    uint64_t at = T0 + 22 * 60 * MIN_MS;
    for (unsigned i = 0; i < 8; i++)
        attempt(&t, "10.0.0.9", "192.0.2.10", 22, (uint16_t)(52000 + i), at + i * 3 * MIN_MS, 20,
                3900, 900);
    th_close(&t);
    assert_int_equal(count_det(&t), 0);
    th_fini(&t);
}

/* rsync over SSH of sixty directories in ten minutes and an ansible run without connection
 * reuse (modules copied over each connection): many SSH connections to one server, but each
 * moves real data (push: large records; pull: hundreds of ACKs). Nothing, no pair kept. */
static void rsync_and_ansible_move_data(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t r = 9;
    for (unsigned i = 0; i < 60; i++) {
        uint64_t at = T0 + i * 10 * SEC;
        if (i % 2)
            th_flow(&t, "10.0.0.11", "192.0.2.20", (uint16_t)(41000 + i), 22, 6, 0x1b,
                    300 + th_rand(&r) % 3000, 200000 + th_rand(&r) % 4000000, at,
                    3000 + th_rand(&r) % 30000);
        else /* a pull: the client's record is its ACKs */
            th_flow(&t, "10.0.0.11", "192.0.2.20", (uint16_t)(41000 + i), 22, 6, 0x1b,
                    400 + th_rand(&r) % 2000, 25000 + th_rand(&r) % 100000, at,
                    3000 + th_rand(&r) % 30000);
    }
    for (unsigned i = 0; i < 40; i++)
        th_flow(&t, "10.0.0.11", "192.0.2.21", (uint16_t)(42000 + i), 22, 6, 0x1b,
                70 + th_rand(&r) % 40, 40000 + th_rand(&r) % 40000, T0 + 12 * MIN_MS + i * 6 * SEC,
                2500);
    th_close(&t);
    assert_int_equal(count_det(&t), 0);
    assert_int_equal(stat_of(&t, "pairs"), 0);
    assert_int_equal(stat_of(&t, "connections"), 100);
    th_fini(&t);
}

/* A web client's 600 short, alike connections to one HTTPS server (and an API poller on
 * 8080): not login services, never judged. */
static void web_client_reconnecting_is_not_judged(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 600; i++) {
        attempt(&t, "10.0.0.12", "203.0.113.80", 443, (uint16_t)(43000 + i), T0 + i * 3 * SEC, 12,
                1900, 300);
        attempt(&t, "10.0.0.12", "203.0.113.81", 8080, (uint16_t)(20000 + i),
                T0 + i * 3 * SEC + 1000, 8, 900, 100);
    }
    th_close(&t);
    assert_int_equal(count_det(&t), 0);
    assert_int_equal(stat_of(&t, "records"), 0);
    th_fini(&t);
}

/* The customer's FTP, SSH and mail servers answer 300 outside clients, and an outside host
 * guesses the FTP and SSH passwords (100 attempts each): the customer hosts answer, they did
 * not start anything. Nothing against them (an attacked host is not hostile). */
static void servers_answering_and_attacked_from_outside(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    char cli[32];
    for (unsigned i = 0; i < 300; i++) { /* in time order: one client every 4 s */
        snprintf(cli, sizeof cli, "198.51.%u.%u", 100 + i / 250, 1 + i % 250);
        uint64_t at = T0 + i * 4 * SEC;
        uint16_t sp = (uint16_t)(1024 + i * 7);
        attempt(&t, cli, "10.0.0.21", 21, sp, at, 12, 700, 2000);
        attempt(&t, cli, "10.0.0.22", 22, sp, at + 500, 20, 3200, 3000);
        attempt(&t, cli, "10.0.0.25", 25, sp, at + 800, 14, 4200, 1500);  /* its MTA */
        attempt(&t, cli, "10.0.0.25", 587, sp, at + 900, 16, 5200, 1500); /* submission */
        if (i < 100) { /* an outside guesser at both servers */
            attempt(&t, "45.9.1.2", "10.0.0.21", 21, (uint16_t)(50000 + i), at + 1000, 10, 500,
                    1500);
            attempt(&t, "45.9.1.2", "10.0.0.22", 22, (uint16_t)(51000 + i), at + 1700, 18, 3000,
                    2500);
        }
        /* answers to a client whose source port happens to be a login port (2222): the
         * server's records go to a listed port, but it did not start those connections */
        if (i < 40)
            th_flow(&t, "10.0.0.22", "198.51.100.9", 22, 2222, 6, 0x1a, 14, 2900, at + 2500, 800);
    }
    th_close(&t);
    assert_int_equal(count_det(&t), 0);
    assert_int_equal(stat_of(&t, "connections"), 0); /* the servers started none */
    assert_true(stat_of(&t, "not_initiator") >= 40);
    th_fini(&t);
}

/* Both ends inside customers: the attacker 10.0.0.40 guesses 10.0.0.37's SSH. The attacker is
 * reported; the attacked host's answers never count against it. */
static void internal_victim_not_reported(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 40; i++)
        attempt(&t, "10.0.0.40", "10.0.0.37", 22, (uint16_t)(40000 + i), T0 + i * 2 * SEC, 15, 2600,
                1200);
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", "10.0.0.40"), 1);
    assert_int_equal(th_count(&t, NULL, "10.0.0.37"), 0);
    th_fini(&t);
}

/* A stuffing run: four credentials on each of 40 telnet servers in twenty minutes (each
 * target far under the per-target threshold): one horizontal alert, port 23, no peer, the
 * targets sampled. */
static void horizontal_stuffing_run(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    char dst[32];
    uint64_t r = 21;
    unsigned n = 0;
    for (unsigned tg = 0; tg < 40; tg++) {
        snprintf(dst, sizeof dst, "203.0.%u.%u", 113 + tg / 200, 1 + tg % 200);
        for (unsigned k = 0; k < 4; k++, n++)
            attempt(&t, "10.0.0.50", dst, 23, (uint16_t)(30000 + n), T0 + n * 7 * SEC,
                    8 + th_rand(&r) % 3, 320 + th_rand(&r) % 60, 900);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", NULL), 0);
    const struct alert *a = th_find(&t, "bruteforce.horizontal");
    assert_non_null(a);
    assert_false(a->has_peer);
    assert_int_equal(a->port, 23);
    assert_int_equal(a->category, CAT_BRUTEFORCE);
    assert_true(ev_val(a, "targets_in_window") >= 20);
    assert_non_null(strstr(a->evidence_json, "\"sample_targets\":[\"203.0.113.1\""));
    assert_true(a->flows >= 60 && a->flows <= 160 && a->bytes > 0 && a->packets > 0);
    assert_true(ev_val(a, "login_attempts") == (double)a->flows);
    /* the same host's run against 10 servers only is not reported */
    struct th t2;
    assert_int_equal(th_init(&t2, &det_bruteforce_ops, NULL), 0);
    n = 0;
    for (unsigned tg = 0; tg < 10; tg++) {
        snprintf(dst, sizeof dst, "203.0.113.%u", 1 + tg);
        for (unsigned k = 0; k < 4; k++, n++)
            attempt(&t2, "10.0.0.50", dst, 23, (uint16_t)(30000 + n), T0 + n * 7 * SEC, 9, 350,
                    900);
    }
    th_close(&t2);
    assert_int_equal(count_det(&t2), 0);
    th_fini(&t2);
    th_fini(&t);
}

/* Retried SYNs to a closed port are not guesses; a guesser whose target starts dropping it
 * after 30 attempts (fail2ban) is still found, the drops show in its answered share. */
static void unanswered_starts(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 60; i++)
        th_flow(&t, "10.0.0.60", "203.0.113.60", (uint16_t)(44000 + i), 3389, 6, 0x02, 3, 180,
                T0 + i * SEC, 3000);
    for (unsigned i = 0; i < 30; i++)
        attempt(&t, "10.0.0.61", "203.0.113.61", 3389, (uint16_t)(45000 + i), T0 + i * 4 * SEC, 25,
                5200, 2500);
    for (unsigned i = 0; i < 90; i++)
        th_flow(&t, "10.0.0.61", "203.0.113.61", (uint16_t)(46000 + i), 3389, 6, 0x02, 3, 180,
                T0 + 2 * MIN_MS + i * 2 * SEC, 1000);
    th_close(&t);
    assert_int_equal(th_count(&t, NULL, "10.0.0.60"), 0);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_int_equal(a->port, 3389);
    assert_int_equal((int)ev_val(a, "connections"), 120);
    assert_int_equal((int)ev_val(a, "answered"), 30);
    assert_true(ev_val(a, "answered_share") == 0.25);
    th_fini(&t);
}

/* Forty short SSH connections whose sizes spread over 300 B - 15 KB (a script running
 * different commands, git fetches of different repositories): no exchange repeated, no alert;
 * the same forty at one size are. */
static void varied_sizes_are_not_one_exchange(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t r = 17;
    for (unsigned i = 0; i < 40; i++) {
        attempt(&t, "10.0.0.70", "192.0.2.70", 22, (uint16_t)(47000 + i), T0 + i * 20 * SEC,
                10 + th_rand(&r) % 50, 300 + th_rand(&r) % 14700, 1000);
        attempt(&t, "10.0.0.71", "192.0.2.70", 22, (uint16_t)(47000 + i), T0 + i * 20 * SEC + 100,
                16, 3000, 1000);
    }
    th_close(&t);
    assert_int_equal(th_count(&t, NULL, "10.0.0.70"), 0);
    assert_true(th_count(&t, "bruteforce.login", "10.0.0.71") >= 1);
    th_fini(&t);
}

/* A monitoring host checks that SSH and RDP answer on 40 servers every minute: connect and
 * close (SYN, ACK, FIN or RST: no data sent, no PSH). Not logins, on one server or across. */
static void monitoring_connect_checks(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    char dst[32];
    for (unsigned m = 0; m < 40; m++)
        for (unsigned s = 0; s < 40; s++) {
            snprintf(dst, sizeof dst, "192.0.2.%u", 1 + s);
            uint64_t at = T0 + m * MIN_MS + s * 100;
            th_flow(&t, "10.0.0.75", dst, (uint16_t)(30000 + m * 40 + s), 22, 6, 0x13, 4, 216, at,
                    20);
            th_flow(&t, "10.0.0.75", dst, (uint16_t)(50000 + m * 40 + s), 3389, 6, 0x16, 3, 164,
                    at + 50, 10);
        }
    th_close(&t);
    assert_int_equal(count_det(&t), 0);
    assert_int_equal(stat_of(&t, "connections"), 3200);
    assert_int_equal(stat_of(&t, "login_attempts"), 0);
    th_fini(&t);
}

/* Exporters without TCP flags: a connection is a record from a new source port. Thirty
 * guesses are found; one long session whose records all carry the same source port is one
 * connection. */
static void records_without_flags(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 30; i++)
        th_flow(&t, "10.0.0.80", "203.0.113.80", (uint16_t)(48000 + i), 22, 6, 0, 15, 2600,
                T0 + i * 5 * SEC, 1500);
    /* bare connect-and-close checks (no data: headers only) are not guesses */
    for (unsigned i = 0; i < 40; i++)
        th_flow(&t, "10.0.0.82", "203.0.113.82", (uint16_t)(49000 + i), 22, 6, 0, 4, 208,
                T0 + i * 5 * SEC, 50);
    for (unsigned i = 0; i < 40; i++)
        th_flow(&t, "10.0.0.81", "203.0.113.81", 48500, 22, 6, 0, 20, 3000, T0 + i * MIN_MS, 59990);
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", "10.0.0.80"), 1);
    assert_int_equal(th_count(&t, NULL, "10.0.0.81"), 0);
    assert_int_equal(th_count(&t, NULL, "10.0.0.82"), 0);
    th_fini(&t);
}

/* A 1:10 sampled export (flags of the sampled packets say nothing about the start; records
 * carry sizes multiplied by the rate) and an IPv6 guesser. */
static void sampled_and_ipv6(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 30; i++)
        th_flow_sampled(&t, "10.0.0.90", "203.0.113.90", (uint16_t)(40000 + i), 22, 6, 0x18, 2, 260,
                        T0 + i * 3 * SEC, 1000, 10);
    for (unsigned i = 0; i < 30; i++)
        attempt(&t, "2001:db8::90", "2a00:1450::22", 22, (uint16_t)(40000 + i), T0 + i * 3 * SEC,
                16, 3100, 1500);
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", "10.0.0.90"), 1);
    assert_int_equal(th_count(&t, "bruteforce.login", "2001:db8::90"), 1);
    th_fini(&t);
}

/* Records the daemon flags as far from their exporter's clock are counted, not judged. */
static void clock_skewed_records(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 30; i++) {
        struct flow_rec f;
        memset(&f, 0, sizeof f);
        addr_parse("10.0.0.95", f.src);
        addr_parse("203.0.113.95", f.dst);
        f.sport = (uint16_t)(40000 + i);
        f.dport = 22;
        f.proto = 6;
        f.tcp_flags = 0x1b;
        f.packets = 15;
        f.bytes = 2600;
        f.first_ms = T0 + i * 2 * SEC;
        f.last_ms = f.first_ms + 1200;
        f.sampling = 1;
        f.flags = FLOW_F_CLOCK_SKEW;
        th_flow_rec(&t, &f);
    }
    th_close(&t);
    assert_int_equal(count_det(&t), 0);
    assert_int_equal(stat_of(&t, "clock_skewed"), 30);
    th_fini(&t);
}

/* allow_hosts and allow_peers; a customer's own threshold. */
static void allow_lists_and_overrides(void **st)
{
    (void)st;
    static const char *const cases[] = {
        "allow_hosts=10.0.0.100/31",
        "allow_peers=203.0.113.0/24, 2001:db8:ffff::/48",
        "attempts=50",
        "ports=22",
        NULL,
    };
    for (int c = 0; cases[c]; c++) {
        struct th t;
        assert_int_equal(th_init(&t, &det_bruteforce_ops, cases[c]), 0);
        for (unsigned i = 0; i < 40; i++)
            attempt(&t, "10.0.0.101", "203.0.113.100", 2222, (uint16_t)(40000 + i),
                    T0 + i * 2 * SEC, 15, 2600, 1200);
        th_close(&t);
        assert_int_equal(count_det(&t), 0);
        th_fini(&t);
    }
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, "attempts=50;ports=22,2222"), 0);
    for (unsigned i = 0; i < 60; i++)
        attempt(&t, "10.0.0.101", "203.0.113.100", 2222, (uint16_t)(40000 + i), T0 + i * 2 * SEC,
                15, 2600, 1200);
    th_close(&t);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_int_equal((int)ev_val(a, "threshold_attempts"), 50);
    th_fini(&t);
}

/* An episode ends after `window` without a connection: the second burst two hours later is
 * reported with its own figures. */
static void episodes(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 25; i++)
        attempt(&t, "10.0.0.110", "203.0.113.110", 22, (uint16_t)(40000 + i), T0 + i * 5 * SEC, 15,
                2600, 1200);
    for (unsigned i = 0; i < 22; i++)
        attempt(&t, "10.0.0.110", "203.0.113.110", 22, (uint16_t)(41000 + i),
                T0 + 120 * MIN_MS + i * 5 * SEC, 15, 2600, 1200);
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", NULL), 2);
    const struct alert *a = &t.alerts[1];
    assert_int_equal((int)ev_val(a, "login_attempts"), 22);
    assert_true(a->first_ms == T0 + 120 * MIN_MS);
    /* the view slides: 15 attempts, 20 minutes apart from 15 more, are never 20 at once */
    struct th t2;
    assert_int_equal(th_init(&t2, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 30; i++)
        attempt(&t2, "10.0.0.111", "203.0.113.111", 22, (uint16_t)(40000 + i),
                T0 + (i < 15 ? i * SEC : 25 * MIN_MS + i * SEC), 15, 2600, 1200);
    th_close(&t2);
    assert_int_equal(count_det(&t2), 1); /* 30 within 30 minutes */
    th_fini(&t2);
    struct th t3;
    assert_int_equal(th_init(&t3, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 30; i++)
        attempt(&t3, "10.0.0.112", "203.0.113.112", 22, (uint16_t)(40000 + i),
                T0 + (i < 15 ? i * SEC : 40 * MIN_MS + i * SEC), 15, 2600, 1200);
    th_close(&t3);
    assert_int_equal(count_det(&t3), 0); /* 15 and 15, 40 minutes apart */
    th_fini(&t3);
    /* a 6-minute view (one-minute sub-buckets) judged at the end of each 5-minute window: a
     * burst at the start of one window is out of the view when a lone retry touches the pair
     * near the end of the next; no second alert on stale counts */
    struct th t4;
    assert_int_equal(th_init(&t4, &det_bruteforce_ops, "window=6m"), 0);
    for (unsigned i = 0; i < 25; i++)
        attempt(&t4, "10.0.0.113", "203.0.113.113", 22, (uint16_t)(40000 + i), T0 + i * SEC, 15,
                2600, 1200);
    th_flow(&t4, "10.0.0.113", "203.0.113.113", 45000, 22, 6, 0x02, 2, 120, T0 + 5 * MIN_MS + SEC,
            1000);
    th_close(&t4);
    th_close(&t4);
    assert_int_equal(count_det(&t4), 1);
    th_fini(&t4);
    /* a reload doubles the window between two bursts of 15: the count starts again with the
     * new sub-buckets (never stuck behind the old ones), and 10 more attempts make 25 */
    struct th t5;
    assert_int_equal(th_init(&t5, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 15; i++)
        attempt(&t5, "10.0.0.114", "203.0.113.114", 22, (uint16_t)(40000 + i), T0 + i * SEC, 15,
                2600, 1200);
    char msg[128];
    assert_int_equal(conf_set(conf_find_key(det_bruteforce_ops.conf_keys, "window"), t5.conf, "60m",
                              msg, sizeof msg),
                     0);
    for (unsigned i = 0; i < 25; i++)
        attempt(&t5, "10.0.0.114", "203.0.113.114", 22, (uint16_t)(41000 + i),
                T0 + MIN_MS + i * SEC, 15, 2600, 1200);
    th_close(&t5);
    const struct alert *a5 = th_find(&t5, "bruteforce.login");
    assert_non_null(a5);
    assert_int_equal((int)ev_val(a5, "attempts_in_window"), 25);
    assert_int_equal((int)ev_val(a5, "login_attempts"), 40);
    th_fini(&t5);
    th_fini(&t);
}

/* Bounded tables: 64 guessers through a 16-pair table, interleaved; evictions are counted and
 * nothing breaks. */
static void bounded_tables(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, "max_pairs=16;max_spread=16"), 0);
    char host[32], dst[32];
    for (unsigned i = 0; i < 30; i++)
        for (unsigned h = 0; h < 64; h++) {
            snprintf(host, sizeof host, "10.0.1.%u", h);
            snprintf(dst, sizeof dst, "203.0.113.%u", h);
            attempt(&t, host, dst, 22, (uint16_t)(40000 + i), T0 + i * 5 * SEC + h * 10, 15, 2600,
                    1200);
        }
    th_close(&t);
    assert_true(stat_of(&t, "pairs") <= 16);
    assert_true(stat_of(&t, "pairs_evicted") > 0);
    assert_int_equal(stat_of(&t, "pairs_capacity"), 16);
    th_fini(&t);
}

/* ---- packet records: sFlow samples, IPFIX packet sections (one packet each, FLOW_F_PACKET) --- */

/* One packet of the host's (or the server's) side as an sFlow agent samples it 1:rate (len as
 * seen: the record carries it times rate, as the decoder makes it). */
static void pkt(struct th *t, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                uint8_t flags, uint64_t len, uint64_t at, uint32_t rate)
{
    struct flow_rec f = th_rec_sampled(src, dst, sport, dport, 6, flags, 1, len, at, 0, rate);
    f.flags |= FLOW_F_PACKET;
    th_flow_rec(t, &f);
}

/* The packets of one SSH login attempt as a guesser sends them (nmap/hydra: handshake,
 * banner, key exchange, one USERAUTH, refusal, close: 10 packets, 2 KB from the guesser) and
 * the server's answers; step i of 14 (fin: the guesser closes with FIN, else it just stops). */
static void attempt_step(struct th *t, const char *host, const char *dst, uint16_t sport,
                         unsigned i, uint64_t at, bool fin)
{
    static const struct {
        bool out;
        uint8_t flags;
        uint16_t len;
    } s[14] = {
        {true, 0x02, 60},   {false, 0x12, 60}, {true, 0x10, 52},   {false, 0x18, 93},
        {true, 0x18, 93},   {true, 0x18, 590}, {false, 0x18, 900}, {true, 0x18, 300},
        {false, 0x18, 500}, {true, 0x18, 120}, {true, 0x18, 200},  {false, 0x18, 100},
        {true, 0x11, 52},   {false, 0x11, 52},
    };
    if (i == 12 && !fin)
        return;
    if (s[i].out)
        pkt(t, host, dst, sport, 22, s[i].flags, s[i].len, at, 1);
    else
        pkt(t, dst, host, 22, sport, s[i].flags, s[i].len, at, 1);
}

static void packet_attempt(struct th *t, const char *host, const char *dst, uint16_t sport,
                           uint64_t at, bool fin)
{
    for (unsigned i = 0; i < 14; i++)
        attempt_step(t, host, dst, sport, i, at + i * 20, fin);
}

/* 1:1 sFlow of a guesser: each connection is 7-8 records of one packet, only the first with
 * SYN and none with every flag; summed per connection they are the 30 attempts a flow meter
 * sees (a packet's flags alone gave connections without attempts). The last connection never
 * closes: the window close judges it. */
static void packet_records_are_summed_per_connection(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 30; i++)
        packet_attempt(&t, "10.0.0.40", "203.0.113.40", (uint16_t)(41000 + i),
                       T0 + 10 * SEC + i * 2 * SEC, i != 29);
    th_close(&t);
    assert_int_equal(th_count(&t, "bruteforce.login", "10.0.0.40"), 1);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_int_equal((int)ev_val(a, "connections"), 30);
    assert_int_equal((int)ev_val(a, "login_attempts"), 30);
    assert_true(ev_val(a, "answered_share") == 1.0);
    assert_int_equal((int)ev_val(a, "min"), 1415); /* 7 packets: the unclosed one */
    assert_int_equal((int)ev_val(a, "max"), 1467); /* 8 packets, 1 467 B: a closed one */
    assert_int_equal(stat_of(&t, "packet_records"), 30 * 8 - 1);
    assert_int_equal(stat_of(&t, "connections_ended"), 30);
    assert_int_equal(stat_of(&t, "connections_open"), 0);
    assert_int_equal(stat_of(&t, "not_initiator"), 0);
    th_fini(&t);
}

/* Hydra's 16 tasks: the packets of 16 connections interleaved; each connection still one
 * start and one attempt (its client port keeps them apart), however the packets mix. */
static void packet_records_interleaved(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned round = 0; round < 2; round++)
        for (unsigned i = 0; i < 14; i++)
            for (unsigned c = 0; c < 16; c++)
                attempt_step(&t, "10.0.0.41", "203.0.113.41", (uint16_t)(42000 + round * 16 + c), i,
                             T0 + 20 * SEC + round * 5 * SEC + i * 100 + c, true);
    th_close(&t);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_int_equal((int)ev_val(a, "connections"), 32);
    assert_int_equal((int)ev_val(a, "login_attempts"), 32);
    assert_int_equal(stat_of(&t, "connections_ended"), 32);
    th_fini(&t);
}

/* What is not an attempt, in packets: SYN then RST (a probe: never answered), a connect check
 * (SYN, ACK, FIN: no data); a retransmitted SYN stays one connection. 20 attempts among 40
 * such connections alert with the answered share of the 60 starts. */
static void packet_records_rst_fin(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    uint64_t at = T0 + 5 * SEC;
    for (unsigned i = 0; i < 20; i++, at += 3 * SEC) {
        uint16_t p = (uint16_t)(43000 + i * 3);
        pkt(&t, "10.0.0.42", "203.0.113.42", p, 22, 0x02, 60, at, 1);
        pkt(&t, "10.0.0.42", "203.0.113.42", p, 22, 0x02, 60, at + 1000, 1); /* retry */
        pkt(&t, "10.0.0.42", "203.0.113.42", p, 22, 0x04, 40, at + 1100, 1);
        pkt(&t, "10.0.0.42", "203.0.113.42", (uint16_t)(p + 1), 22, 0x02, 60, at + 1200, 1);
        pkt(&t, "10.0.0.42", "203.0.113.42", (uint16_t)(p + 1), 22, 0x10, 52, at + 1300, 1);
        pkt(&t, "10.0.0.42", "203.0.113.42", (uint16_t)(p + 1), 22, 0x11, 52, at + 1400, 1);
        packet_attempt(&t, "10.0.0.42", "203.0.113.42", (uint16_t)(p + 2), at + 1500, true);
    }
    th_close(&t);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    /* the pair opens at the first attempt: the first probe and check come before it */
    assert_int_equal((int)ev_val(a, "connections"), 58);
    assert_int_equal((int)ev_val(a, "answered"), 39);
    assert_int_equal((int)ev_val(a, "login_attempts"), 20);
    assert_int_equal((int)ev_val(a, "other_sessions"), 19); /* the connect checks */
    assert_int_equal(stat_of(&t, "connections"), 60);
    assert_int_equal(stat_of(&t, "connections_ended"), 60);
    /* the probes and checks alone: connections, no attempt, no alert */
    struct th u;
    assert_int_equal(th_init(&u, &det_bruteforce_ops, NULL), 0);
    for (unsigned i = 0; i < 40; i++) {
        uint16_t p = (uint16_t)(44000 + i);
        pkt(&u, "10.0.0.43", "203.0.113.43", p, 22, 0x02, 60, T0 + i * SEC, 1);
        pkt(&u, "10.0.0.43", "203.0.113.43", p, 22, i % 2 ? 0x04 : 0x10, 52, T0 + i * SEC + 5, 1);
        pkt(&u, "10.0.0.43", "203.0.113.43", p, 22, 0x11, 52, T0 + i * SEC + 9, 1);
    }
    th_close(&u);
    assert_int_equal(count_det(&u), 0);
    assert_int_equal(stat_of(&u, "login_attempts"), 0);
    assert_int_equal(stat_of(&u, "connections"), 40);
    th_fini(&u);
    th_fini(&t);
}

/* Memory stays bounded by max_connections under any packets: 200 connections opened at once
 * (SYNs only, as a SYN flood or a scan makes them) in a table of 16; the least recent are judged
 * early (an unanswered start each) and counted. */
static void packet_records_table_full(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, "max_connections=16"), 0);
    for (unsigned i = 0; i < 200; i++)
        pkt(&t, "10.0.0.44", "203.0.113.44", (uint16_t)(45000 + i), 22, 0x02, 60, T0 + i * 10, 1);
    assert_int_equal(stat_of(&t, "connections_open"), 16);
    assert_int_equal(stat_of(&t, "connections_capacity"), 16);
    assert_int_equal(stat_of(&t, "connections_evicted"), 184);
    assert_int_equal(stat_of(&t, "connections_ended"), 184);
    th_close(&t);
    assert_int_equal(stat_of(&t, "connections_open"), 0);
    assert_int_equal(stat_of(&t, "connections"), 200);
    assert_int_equal(stat_of(&t, "login_attempts"), 0);
    th_fini(&t);
}

/* 1:N packet samples: the SYN is seldom sampled, so a connection is the host's sampled packets
 * of one 5-tuple (from its first to its FIN; a packet after that continues it), summed into one
 * sampled record as an exporter's flow cache
 * would and judged as sampled NetFlow is (thresholds as configured, README). 16 tasks
 * interleaved, two sampled data packets each: 32 connections, not 64 (the latest source ports
 * of a pair alone cannot keep 16 parallel tasks apart). */
static void packet_records_sampled(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_bruteforce_ops, NULL), 0);
    for (unsigned round = 0; round < 2; round++)
        for (unsigned k = 0; k < 2; k++)
            for (unsigned c = 0; c < 16; c++)
                pkt(&t, "10.0.0.45", "203.0.113.45", (uint16_t)(46000 + round * 16 + c), 22, 0x18,
                    400, T0 + 30 * SEC + round * 5 * SEC + k * 200 + c, 10);
    /* each closes (a sampled FIN) and its last ACK is sampled too: the ended connection's */
    for (unsigned k = 0; k < 2; k++)
        for (unsigned c = 0; c < 32; c++)
            pkt(&t, "10.0.0.45", "203.0.113.45", (uint16_t)(46000 + c), 22, k ? 0x10 : 0x11, 52,
                T0 + 50 * SEC + k * 100 + c, 10);
    th_close(&t);
    const struct alert *a = th_find(&t, "bruteforce.login");
    assert_non_null(a);
    assert_int_equal((int)ev_val(a, "connections"), 32);
    assert_int_equal((int)ev_val(a, "login_attempts"), 32);
    assert_int_equal((int)ev_val(a, "min"), 8520); /* 400 + 400 + the FIN's 52 B, times 10 */
    assert_int_equal(stat_of(&t, "packet_records"), 128);
    assert_int_equal(stat_of(&t, "continuations"), 32);
    th_fini(&t);
}

/* The port list: sorted, duplicates dropped, up to PORTLIST_MAX ports or ranges. */
static void port_lists(void **st)
{
    (void)st;
    struct portlist l;
    char msg[128];
    assert_int_equal(portlist_parse(&l, "3389, 22, 21, 22", msg, sizeof msg), 0);
    assert_int_equal(l.n, 2); /* 21-22 and 3389 */
    assert_int_equal(l.p[0], 21);
    assert_int_equal(l.hi[0], 22);
    assert_int_equal(l.p[1], 3389);
    assert_true(portlist_has(&l, 22) && portlist_has(&l, 3389) && portlist_has(&l, 21));
    assert_false(portlist_has(&l, 23) || portlist_has(&l, 0) || portlist_has(&l, 65535));
    assert_false(portlist_has(&l, 22 + 1024) || portlist_has(&l, 3389 + 2048)); /* same low bits */
    char many[1024] = "";
    for (int i = 1; i <= PORTLIST_MAX + 1; i++) {
        char one[16];
        snprintf(one, sizeof one, "%s%d", i > 1 ? "," : "", 1000 + 2 * i); /* not adjacent */
        strcat(many, one);
        if (i == PORTLIST_MAX)
            assert_int_equal(portlist_parse(&l, many, msg, sizeof msg), 0);
    }
    assert_int_equal(l.n, PORTLIST_MAX);
    assert_true(portlist_has(&l, 1002) && portlist_has(&l, 1000 + 2 * PORTLIST_MAX));
    assert_false(portlist_has(&l, 1003));
    assert_int_equal(portlist_parse(&l, many, msg, sizeof msg), -ENOSPC);
    assert_int_equal(portlist_parse(&l, "22, x", msg, sizeof msg), -EINVAL);
    assert_int_equal(portlist_parse(&l, "0", msg, sizeof msg), -EINVAL);
    struct portlist empty;
    memset(&empty, 0, sizeof empty);
    assert_false(portlist_has(&empty, 22));
    /* ranges: overlapping and adjacent ones merged, with single ports */
    assert_int_equal(
        portlist_parse(&l, "33434-33534, 22, 8000-8010, 8005-8020, 8021, 65535", msg, sizeof msg),
        0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.p[1], 8000);
    assert_int_equal(l.hi[1], 8021);
    for (unsigned q = 1; q <= 65535; q++) /* every port against the list's meaning */
        assert_int_equal(portlist_has(&l, (uint16_t)q), q == 22 || (q >= 8000 && q <= 8021) ||
                                                            (q >= 33434 && q <= 33534) ||
                                                            q == 65535);
    assert_int_equal(portlist_parse(&l, "1-65535", msg, sizeof msg), 0);
    assert_true(portlist_has(&l, 1) && portlist_has(&l, 40000) && portlist_has(&l, 65535));
    assert_false(portlist_has(&l, 0));
    const char *const bad[] = {"20-10", "10-", "-10", "10-20-30", "0-5", "5-70000", "a-b", "-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(portlist_parse(&l, bad[i], msg, sizeof msg), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_hydra_run),
        cmocka_unit_test(slow_guesser_found_within_minutes),
        cmocka_unit_test(nmap_vmauthd_brute),
        cmocka_unit_test(admin_logins_are_not_guessing),
        cmocka_unit_test(rsync_and_ansible_move_data),
        cmocka_unit_test(web_client_reconnecting_is_not_judged),
        cmocka_unit_test(servers_answering_and_attacked_from_outside),
        cmocka_unit_test(internal_victim_not_reported),
        cmocka_unit_test(horizontal_stuffing_run),
        cmocka_unit_test(unanswered_starts),
        cmocka_unit_test(varied_sizes_are_not_one_exchange),
        cmocka_unit_test(monitoring_connect_checks),
        cmocka_unit_test(records_without_flags),
        cmocka_unit_test(sampled_and_ipv6),
        cmocka_unit_test(clock_skewed_records),
        cmocka_unit_test(allow_lists_and_overrides),
        cmocka_unit_test(episodes),
        cmocka_unit_test(bounded_tables),
        cmocka_unit_test(port_lists),
        cmocka_unit_test(packet_records_are_summed_per_connection),
        cmocka_unit_test(packet_records_interleaved),
        cmocka_unit_test(packet_records_rst_fin),
        cmocka_unit_test(packet_records_table_full),
        cmocka_unit_test(packet_records_sampled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
