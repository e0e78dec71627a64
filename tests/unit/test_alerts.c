/* The alert manager's incidents: one event.id per ongoing (rule, customer, host, peer or peer
 * group), updates
 * at most once per suppression time with a rising count, a new incident after incident_idle,
 * the bound (the least recently raised incident is forgotten, counted), and the per-host
 * incident list the customer verdict names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "alerts.h"

struct cap {
    size_t n;
    char last[8192];
};

static int cap_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                       const char *json, size_t len)
{
    (void)kind;
    (void)key;
    (void)keylen;
    struct cap *c = self;
    c->n++;
    snprintf(c->last, sizeof c->last, "%.*s", (int)len, json);
    return 0;
}

static const struct sink_ops cap_ops = {.name = "cap", .publish = cap_publish};

#define MIN_MS 60000ULL
#define T0 1700000000000ULL

static struct alert mk(const char *rule, const char *host, const char *peer, uint64_t win_start)
{
    struct alert a;
    memset(&a, 0, sizeof a);
    a.detector = "test";
    a.rule_id = rule;
    a.rule_name = "test";
    a.category = CAT_C2;
    a.severity = SEV_HIGH;
    a.score = 0.9;
    a.customer = 1;
    a.customer_id = "c1";
    a.customer_name = "C1";
    a.has_host = true;
    assert_int_equal(addr_parse(host, a.host), 0);
    if (peer) {
        a.has_peer = true;
        assert_int_equal(addr_parse(peer, a.peer), 0);
    }
    a.win_start_ms = win_start;
    a.win_end_ms = win_start + 5 * MIN_MS;
    a.first_ms = win_start + 1000;
    a.last_ms = win_start + 4 * MIN_MS;
    return a;
}

/* A manager of max incidents, an hour's suppression and a day's idle, publishing into c. */
static struct alert_mgr *mgr(size_t max, struct cap *c, struct sinks *sk)
{
    sinks_add(sk, (struct sink){&cap_ops, c});
    struct alert_mgr *m;
    assert_int_equal(alert_mgr_new(max, 60 * MIN_MS, 24 * 60 * MIN_MS, sk, &m), 0);
    return m;
}

static void incidents(void **st)
{
    (void)st;
    struct cap c = {0};
    struct sinks sk = {0};
    struct alert_mgr *m = mgr(64, &c, &sk);
    char id0[33];
    /* a beacon raised in every 5-minute window for 6 hours */
    for (unsigned w = 0; w < 72; w++) {
        struct alert a = mk("beacon.slow", "10.0.0.1", "45.1.1.1", T0 + w * 5 * MIN_MS);
        int r = alert_mgr_raise(m, &a, a.win_end_ms);
        if (w == 0) {
            assert_int_equal(r, 1);
            memcpy(id0, a.event_id, sizeof id0);
        }
        assert_string_equal(a.event_id, id0); /* also when folded */
        assert_int_equal(a.repeat_count, w + 1);
        assert_int_equal(a.first_raised_ms, T0 + 5 * MIN_MS);
        assert_int_equal(a.first_ms, T0 + 1000);
        assert_int_equal(r, w == 0 ? 1 : w % 12 == 0 ? 2 : 0); /* an update per hour */
    }
    struct alert_mgr_stats s;
    alert_mgr_stats(m, &s);
    assert_int_equal(s.incidents, 1);
    assert_int_equal(s.updates, 5);
    assert_int_equal(s.published, 6);
    assert_int_equal(s.by_category[CAT_C2], 6); /* /metrics alerts_total{category="c2"} */
    assert_int_equal(s.suppressed, 66);
    assert_int_equal(c.n, 6);
    assert_non_null(strstr(c.last, id0));
    assert_non_null(strstr(c.last, "\"count\":61"));
    /* another peer of the same host is another incident */
    struct alert b = mk("beacon.slow", "10.0.0.1", "45.1.1.2", T0);
    assert_int_equal(alert_mgr_raise(m, &b, b.win_end_ms + 72 * 5 * MIN_MS), 1);
    assert_string_not_equal(b.event_id, id0);
    /* quiet for more than a day: the next alert opens a new incident */
    struct alert a =
        mk("beacon.slow", "10.0.0.1", "45.1.1.1", T0 + 72 * 5 * MIN_MS + 25 * 60 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 1);
    assert_string_not_equal(a.event_id, id0);
    assert_int_equal(a.repeat_count, 1);
    /* the host's incidents, most recently raised first */
    struct alert_incident inc[4];
    uint8_t host[16];
    assert_int_equal(addr_parse("10.0.0.1", host), 0);
    assert_int_equal(alert_mgr_host_incidents(m, "c1", host, 0, inc, 4), 2);
    assert_string_equal(inc[0].event_id, a.event_id);
    assert_string_equal(inc[0].rule_id, "beacon.slow");
    assert_string_equal(inc[1].event_id, b.event_id);
    assert_int_equal(alert_mgr_host_incidents(m, "c1", host, a.win_end_ms, inc, 4), 1);
    assert_int_equal(alert_mgr_host_incidents(m, "c2", host, 0, inc, 4), 0);
    alert_mgr_free(m);
}

/* A group (peer_group): the failing servers of one C2 list walked in turn are one incident of
 * the host's, whatever their peer; each message names its own peer; the host's incident list
 * names it once; a server outside the group, or another host's, stays its own. */
static void peer_group(void **st)
{
    (void)st;
    struct cap c = {0};
    struct sinks sk = {0};
    struct alert_mgr *m = mgr(64, &c, &sk);
    char id0[33];
    for (unsigned i = 0; i < 20; i++) {
        char peer[32];
        snprintf(peer, sizeof peer, "92.53.66.%u", 10 + i);
        struct alert a = mk("beacon.slow", "10.0.0.1", peer, T0);
        a.peer_group = 1;
        int r = alert_mgr_raise(m, &a, a.win_end_ms);
        assert_int_equal(r, i == 0 ? 1 : 0);
        if (i == 0)
            memcpy(id0, a.event_id, sizeof id0);
        assert_string_equal(a.event_id, id0);
        assert_int_equal(a.repeat_count, i + 1);
    }
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.last, "\"92.53.66.10\""));
    /* an hour on, the next server's alert is the incident's update, naming that server */
    struct alert u = mk("beacon.slow", "10.0.0.1", "92.53.66.77", T0 + 60 * MIN_MS);
    u.peer_group = 1;
    assert_int_equal(alert_mgr_raise(m, &u, u.win_end_ms), 2);
    assert_string_equal(u.event_id, id0);
    assert_non_null(strstr(c.last, "\"92.53.66.77\""));
    assert_null(strstr(c.last, "\"92.53.66.10\""));
    /* not in a group: its own incident, and its id is not the group's (nor a peer's own id) */
    struct alert o = mk("beacon.slow", "10.0.0.1", "92.53.66.10", T0);
    assert_int_equal(alert_mgr_raise(m, &o, o.win_end_ms), 1);
    assert_string_not_equal(o.event_id, id0);
    /* another host's list: its own incident */
    struct alert h = mk("beacon.slow", "10.0.0.2", "92.53.66.10", T0);
    h.peer_group = 1;
    assert_int_equal(alert_mgr_raise(m, &h, h.win_end_ms), 1);
    assert_string_not_equal(h.event_id, id0);
    struct alert_incident inc[4];
    uint8_t host[16];
    assert_int_equal(addr_parse("10.0.0.1", host), 0);
    assert_int_equal(alert_mgr_host_incidents(m, "c1", host, 0, inc, 4), 2); /* the list, o */
    assert_true(strcmp(inc[0].event_id, id0) == 0 || strcmp(inc[1].event_id, id0) == 0);
    alert_mgr_free(m);
}

/* Bounded: with room for 8, an incident raised every window survives 100 one-off ones (the
 * least recently raised go first), and the forgotten are counted. */
static void bounded_lru(void **st)
{
    (void)st;
    struct cap c = {0};
    struct sinks sk = {0};
    struct alert_mgr *m = mgr(8, &c, &sk);
    char id0[33] = "";
    for (unsigned w = 0; w < 100; w++) {
        uint64_t ws = T0 + w * 5 * MIN_MS;
        struct alert a = mk("spam.fanout", "10.0.0.9", NULL, ws);
        alert_mgr_raise(m, &a, a.win_end_ms);
        if (!id0[0])
            memcpy(id0, a.event_id, sizeof id0);
        assert_string_equal(a.event_id, id0);
        char h[32];
        snprintf(h, sizeof h, "10.0.%u.%u", 1 + w / 200, 1 + w % 200);
        struct alert o = mk("scan.trw", h, NULL, ws);
        assert_int_equal(alert_mgr_raise(m, &o, o.win_end_ms), 1);
    }
    struct alert_mgr_stats s;
    alert_mgr_stats(m, &s);
    assert_int_equal(s.incidents, 101);
    assert_int_equal(s.forgotten, 101 - 8);
    alert_mgr_free(m);
}

/* A customer is its id, not its place in the map: a reload that renumbers the map (a customer
 * added above) leaves its ongoing incidents theirs; another customer at the old number is
 * another incident. */
static void incidents_by_customer_id(void **st)
{
    (void)st;
    struct cap c = {0};
    struct sinks sk = {0};
    struct alert_mgr *m = mgr(64, &c, &sk);
    struct alert a = mk("scan.trw", "10.0.0.1", NULL, T0);
    assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 1);
    struct alert b = mk("scan.trw", "10.0.0.1", NULL, T0 + 5 * MIN_MS);
    b.customer = 7; /* the map reloaded: c1 is now its 7th customer */
    assert_int_equal(alert_mgr_raise(m, &b, b.win_end_ms), 0);
    assert_string_equal(b.event_id, a.event_id);
    assert_int_equal(b.repeat_count, 2);
    struct alert o = mk("scan.trw", "10.0.0.1", NULL, T0 + 5 * MIN_MS);
    o.customer_id = "c2"; /* the old number, another customer */
    assert_int_equal(alert_mgr_raise(m, &o, o.win_end_ms), 1);
    assert_string_not_equal(o.event_id, a.event_id);
    alert_mgr_free(m);
}

static void tmp_path(char *out, size_t len, const char *name)
{
    const char *d = getenv("TMPDIR");
    snprintf(out, len, "%s/tw-test-alerts-%ld-%s", d && d[0] ? d : "/tmp", (long)getpid(), name);
}

/* Across a restart (the daemon's incidents_file): the incidents saved, a new manager loads them,
 * and an incident that goes on keeps its event.id, count, first raise and suppression; a new
 * one still opens; the recency order comes back (the least recent is forgotten first). */
static void incidents_across_restart(void **st)
{
    (void)st;
    char path[256];
    tmp_path(path, sizeof path, "restart");
    struct cap c = {0};
    struct sinks sk = {0};
    struct alert_mgr *m = mgr(4, &c, &sk);
    char ids[4][33];
    for (unsigned i = 0; i < 4; i++) { /* .1 raised first: the least recent */
        char h[32];
        snprintf(h, sizeof h, "10.0.0.%u", i + 1);
        struct alert a = mk("beacon.slow", h, "45.1.1.1", T0 + i * 5 * MIN_MS);
        assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 1);
        memcpy(ids[i], a.event_id, sizeof ids[i]);
    }
    assert_true(alert_mgr_changed(m));
    assert_int_equal(alert_mgr_save(m, path, 1234), 0);
    assert_false(alert_mgr_changed(m));
    alert_mgr_free(m);

    struct cap c2 = {0};
    struct sinks sk2 = {0};
    m = mgr(4, &c2, &sk2);
    uint64_t n = 0;
    char err[256] = "";
    assert_int_equal(alert_mgr_load(m, path, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    /* .2 goes on 10 min later: folded (suppressed), same id, count 2, first raise kept */
    struct alert a = mk("beacon.slow", "10.0.0.2", "45.1.1.1", T0 + 15 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 0);
    assert_string_equal(a.event_id, ids[1]);
    assert_int_equal(a.repeat_count, 2);
    assert_int_equal(a.first_raised_ms, T0 + 10 * MIN_MS);
    assert_int_equal(c2.n, 0);
    /* an hour after its first raise: the update, same id */
    a = mk("beacon.slow", "10.0.0.2", "45.1.1.1", T0 + 70 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 2);
    assert_string_equal(a.event_id, ids[1]);
    /* the host's incident list has it */
    struct alert_incident inc[4];
    uint8_t host[16];
    assert_int_equal(addr_parse("10.0.0.2", host), 0);
    assert_int_equal(alert_mgr_host_incidents(m, "c1", host, 0, inc, 4), 1);
    assert_string_equal(inc[0].event_id, ids[1]);
    /* a new incident makes room by forgetting the least recently raised: .1, as before */
    struct alert e = mk("scan.trw", "10.0.0.9", NULL, T0 + 70 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &e, e.win_end_ms), 1);
    struct alert a3 = mk("beacon.slow", "10.0.0.3", "45.1.1.1", T0 + 75 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a3, a3.win_end_ms), 2); /* kept: an update */
    assert_string_equal(a3.event_id, ids[2]);
    struct alert a1 = mk("beacon.slow", "10.0.0.1", "45.1.1.1", T0 + 75 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a1, a1.win_end_ms), 1); /* forgotten: new */
    struct alert_mgr_stats s;
    alert_mgr_stats(m, &s);
    assert_int_equal(s.state_restored, 4);
    alert_mgr_free(m);

    /* a smaller table keeps the most recent */
    struct cap c3 = {0};
    struct sinks sk3 = {0};
    m = mgr(2, &c3, &sk3);
    assert_int_equal(alert_mgr_load(m, path, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    a = mk("beacon.slow", "10.0.0.4", "45.1.1.1", T0 + 20 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 0);
    assert_string_equal(a.event_id, ids[3]);
    a = mk("beacon.slow", "10.0.0.1", "45.1.1.1", T0 + 20 * MIN_MS);
    assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 1);
    alert_mgr_stats(m, &s);
    assert_int_equal(s.forgotten, 2 + 1);
    alert_mgr_free(m);
    unlink(path);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* A file that is not one, cut short, too long: refused whole (the manager stays empty, so the
 * next alert opens a new incident); an entry that is not sound is skipped and counted, the
 * others restored; no file: -ENOENT. A save where it cannot write fails and is counted. */
static void incidents_file_refused(void **st)
{
    (void)st;
    char path[256], bad[256];
    tmp_path(path, sizeof path, "good");
    tmp_path(bad, sizeof bad, "bad");
    struct cap c = {0};
    struct sinks sk = {0};
    struct alert_mgr *m = mgr(8, &c, &sk);
    char id0[33];
    for (unsigned i = 0; i < 3; i++) {
        char h[32];
        snprintf(h, sizeof h, "10.0.1.%u", i + 1);
        struct alert a = mk("spam.fanout", h, NULL, T0);
        assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 1);
        if (i == 0)
            memcpy(id0, a.event_id, sizeof id0);
    }
    assert_int_equal(alert_mgr_save(m, path, 1), 0);
    assert_int_equal(alert_mgr_save(m, "/nonexistent-dir/x", 1), -ENOENT);
    struct alert_mgr_stats s;
    alert_mgr_stats(m, &s);
    assert_int_equal(s.state_errors, 1);
    assert_int_equal(s.state_saves, 1);
    alert_mgr_free(m);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t esz = (len - 32) / 3;
    assert_int_equal(32 + 3 * esz, len);
    uint64_t n = 0;
    char err[256];
    struct {
        size_t cut;   /* bytes kept (0: all) */
        size_t extra; /* bytes added */
        long flip;    /* a byte changed (-1: none) */
        int rc;       /* load's answer */
        uint64_t n;   /* restored */
    } cases[] = {
        {len - 10, 0, -1, -EINVAL, 0}, /* cut short */
        {0, 7, -1, -EINVAL, 0},        /* too long */
        {0, 0, 0, -EINVAL, 0},         /* the magic */
        {0, 0, 8, -EINVAL, 0},         /* another version */
        {0, 0, 0, 0, 2},               /* entry 1's event id: set below */
    };
    const unsigned char *at = memmem(buf, len, id0, 32);
    assert_non_null(at);
    cases[4].flip = (long)(at - buf) + 5; /* not a hex digit any more */
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        static unsigned char b2[sizeof buf + 16];
        memcpy(b2, buf, len);
        size_t l = cases[k].cut ? cases[k].cut : len;
        memset(b2 + l, 0x41, cases[k].extra);
        l += cases[k].extra;
        if (cases[k].flip >= 0)
            b2[cases[k].flip] = 'Z';
        write_bytes(bad, b2, l);
        struct cap c2 = {0};
        struct sinks sk2 = {0};
        m = mgr(8, &c2, &sk2);
        err[0] = 0;
        assert_int_equal(alert_mgr_load(m, bad, &n, err, sizeof err), cases[k].rc);
        assert_int_equal(n, cases[k].n);
        if (cases[k].rc < 0)
            assert_true(err[0] != 0);
        alert_mgr_stats(m, &s);
        assert_int_equal(s.state_unsound, cases[k].rc == 0 ? 1 : 0);
        /* a sound incident: restored only where the file was read */
        struct alert a = mk("spam.fanout", "10.0.1.2", NULL, T0 + 5 * MIN_MS);
        assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), cases[k].rc == 0 ? 0 : 1);
        /* the unsound one: a new incident */
        a = mk("spam.fanout", "10.0.1.1", NULL, T0 + 5 * MIN_MS);
        assert_int_equal(alert_mgr_raise(m, &a, a.win_end_ms), 1);
        alert_mgr_free(m);
    }
    m = mgr(8, &c, &sk);
    assert_int_equal(alert_mgr_load(m, "/nonexistent-dir/x", &n, err, sizeof err), -ENOENT);
    alert_mgr_free(m);
    unlink(path);
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(incidents),
        cmocka_unit_test(peer_group),
        cmocka_unit_test(bounded_lru),
        cmocka_unit_test(incidents_by_customer_id),
        cmocka_unit_test(incidents_across_restart),
        cmocka_unit_test(incidents_file_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
