/* Pipeline: customer lookup and direction, records between customers to both ends, event-time
 * windows, summaries, blocklist alerts with suppression, deterministic output, late records,
 * list reload at a window boundary. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "customers.h"
#include "feeds.h"
#include "flowpb.h"
#include "kafka_dedup.h"
#include "pipeline.h"
#include "settings.h"

#define MAXMSG 8192

struct capsink {
    char *msg[MAXMSG];
    enum msg_kind kind[MAXMSG];
    char key[MAXMSG][64];
    size_t n;
};

static int cap_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                       const char *json, size_t len)
{
    struct capsink *c = self;
    if (c->n >= MAXMSG)
        return -1;
    c->msg[c->n] = strndup(json, len);
    c->kind[c->n] = kind;
    snprintf(c->key[c->n], sizeof c->key[0], "%.*s", (int)keylen, key);
    c->n++;
    return 0;
}

static void cap_destroy(void *self)
{
    struct capsink *c = self;
    for (size_t i = 0; i < c->n; i++)
        free(c->msg[i]);
    c->n = 0;
}

static const struct sink_ops cap_ops = {
    .name = "capture", .publish = cap_publish, .destroy = cap_destroy};

static const char *const MAP = "10.1.0.0/16,c1,Customer One,64501\n"
                               "10.2.0.0/16,c2,Customer Two\n"
                               "2001:db8:1::/48,c1,Customer One,64501\n";
static const char *const DROP = "; test DROP\n198.18.0.0/15 ; SBL1\n2001:db8:dead::/48 ; SBL6\n";

struct fix {
    struct settings s;
    struct sinks sinks;
    struct capsink cap;
    struct pipeline *p;
};

static struct fix *fix_new_conf(const char *map, const char *drop, const char *conf);

/* Every case runs with one worker (no threads) and again with three worker threads. */
static uint32_t g_workers = 1;
/* [collector] dispatcher_cost for the fixtures (UINT32_MAX: the setting's default) */
static uint32_t g_cost = UINT32_MAX;
static uint64_t g_lateness = 0; /* the fixtures' lateness (s) */

static struct fix *fix_new(const char *map, const char *drop)
{
    return fix_new_conf(map, drop, NULL);
}

static struct fix *fix_new_conf(const char *map, const char *drop, const char *conf)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(settings_init(&f->s), 0);
    if (conf) {
        struct conf_error e;
        assert_int_equal(settings_load_text(&f->s, "t.conf", conf, strlen(conf), &e), 0);
        assert_int_equal(settings_validate(&f->s, &e), 0);
    }
    f->s.workers = g_workers;
    if (g_cost != UINT32_MAX)
        f->s.dispatcher_cost = g_cost;
    f->s.window = 60;
    f->s.lateness = g_lateness;
    f->s.alert_suppress = 600;
    struct customer_limits lim = {100, 100};
    struct customer_map *cm;
    struct conf_error err;
    assert_int_equal(customers_load_mem("map", map, strlen(map), &lim, &cm, &err), 0);
    struct feed_set *fs;
    assert_int_equal(feed_set_new(&fs), 0);
    if (drop) {
        struct feed *fd;
        assert_int_equal(
            feed_load_mem("drop", "drop.txt", drop, strlen(drop), FEED_AUTO, 100, &fd, &err), 0);
        assert_int_equal(feed_set_add(fs, fd), 0);
    }
    sinks_add(&f->sinks, (struct sink){&cap_ops, &f->cap});
    assert_int_equal(pipeline_new(&f->s, true, cm, fs, &f->sinks, &f->p), 0);
    return f;
}

static void fix_free(struct fix *f)
{
    pipeline_free(f->p);
    sinks_destroy(&f->sinks);
    settings_free(&f->s);
    free(f);
}

/* An unsampled TCP record of 2 packets from port 40000, ending at t_ms. */
static struct flow_rec rec(const char *src, const char *dst, uint16_t dport, uint64_t t_ms,
                           uint64_t bytes)
{
    struct flow_rec r;
    memset(&r, 0, sizeof r);
    assert_int_equal(addr_parse(src, r.src), 0);
    assert_int_equal(addr_parse(dst, r.dst), 0);
    r.sport = 40000;
    r.dport = dport;
    r.proto = 6;
    r.bytes = bytes;
    r.packets = 2;
    r.first_ms = t_ms - 100;
    r.last_ms = t_ms;
    r.sampling = 1;
    return r;
}

static void flow(struct fix *f, const char *src, const char *dst, uint16_t dport, uint64_t t_ms,
                 uint64_t bytes)
{
    struct flow_rec r = rec(src, dst, dport, t_ms, bytes);
    pipeline_flow(f->p, &r);
}

static size_t count_kind(const struct capsink *c, enum msg_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->kind[i] == k;
    return n;
}

static const char *find_msg(const struct capsink *c, enum msg_kind k, const char *needle)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->kind[i] == k && strstr(c->msg[i], needle))
            return c->msg[i];
    return NULL;
}

#define T0 1699999980000ULL /* a window boundary for 60 s windows (divisible by 60000) */

/* A customer's host announcing itself on its LAN (SSDP, mDNS, DHCP, IPv6 mDNS) or to a reserved
 * address: no peer at the other end, so not analysed (a beacon to 239.255.255.250 every 15
 * minutes was an alert); counted apart from the unmatched. */
static void test_group_destinations(void **st)
{
    (void)st;
    struct fix *f = fix_new(MAP, NULL);
    flow(f, "10.1.0.5", "239.255.255.250", 1900, T0 + 1000, 900);
    flow(f, "10.1.0.5", "224.0.0.251", 5353, T0 + 1100, 120);
    flow(f, "10.1.0.5", "255.255.255.255", 67, T0 + 1200, 328);
    flow(f, "10.1.0.5", "240.0.0.1", 80, T0 + 1300, 40);
    flow(f, "2001:db8:1::9", "ff02::fb", 5353, T0 + 1400, 140);
    flow(f, "10.1.0.5", "223.255.255.255", 80, T0 + 1500, 40); /* the last unicast /8 */
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.flows, 6);
    assert_int_equal(ps.to_group, 5);
    assert_int_equal(ps.unmatched, 0);
    assert_int_equal(ps.by_dir[FLOW_DIR_OUT], 1);
    fix_free(f);
}

static void test_direction_and_summaries(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 1000, 100);       /* c1 out */
    flow(f, "93.184.216.34", "10.1.0.5", 50000, T0 + 2000, 1000);    /* c1 in */
    flow(f, "10.1.0.6", "10.2.0.7", 22, T0 + 3000, 10);              /* internal c1 -> c2 */
    flow(f, "8.8.8.8", "9.9.9.9", 53, T0 + 4000, 5);                 /* neither */
    flow(f, "2001:db8:1::9", "2001:db8:ffff::1", 443, T0 + 5000, 7); /* c1 out, v6 */
    flow(f, "10.1.0.6", "10.1.0.7", 445, T0 + 6000, 20);             /* internal c1 -> c1 */
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.flows, 6);
    assert_int_equal(ps.unmatched, 1);
    assert_int_equal(ps.by_dir[FLOW_DIR_OUT], 2);
    assert_int_equal(ps.by_dir[FLOW_DIR_IN], 1);
    assert_int_equal(ps.by_dir[FLOW_DIR_INTERNAL], 2);
    assert_int_equal(count_kind(&f->cap, MSG_SUMMARY), 0); /* window still open */
    pipeline_finish(f->p);
    assert_int_equal(count_kind(&f->cap, MSG_SUMMARY), 2);
    const char *c1 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c1\"");
    assert_non_null(c1);
    assert_non_null(strstr(c1, "\"outbound\":{\"bytes\":107,\"packets\":4,\"flows\":2}"));
    assert_non_null(strstr(c1, "\"inbound\":{\"bytes\":1000,\"packets\":2,\"flows\":1}"));
    /* the record between two of its own hosts counted once, as every record is */
    assert_non_null(strstr(c1, "\"internal\":{\"bytes\":30,\"packets\":4,\"flows\":2}"));
    /* 10.1.0.5, 10.1.0.6, 2001:db8:1::9; not 10.1.0.7, the internal record's receiving end,
     * which sent nothing */
    assert_non_null(strstr(c1, "\"active_hosts\":3"));
    assert_non_null(strstr(c1, "\"asn\":64501"));
    const char *c2 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c2\"");
    assert_non_null(c2);
    assert_non_null(strstr(c2, "\"internal\":{\"bytes\":10,\"packets\":2,\"flows\":1}"));
    /* the internal flow's destination got its inbound copy, but sent nothing: not active */
    assert_non_null(strstr(c2, "\"active_hosts\":0"));
    fix_free(f);
}

/* An active host sent something: the Internet's probes of a customer's space (SYNs to addresses
 * nobody answers from) make no active hosts, in the window or the day; a probed host that
 * answered is active. */
static void test_active_hosts_sent(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 1000, 100); /* c1's host, out */
    for (unsigned i = 0; i < 10; i++) {                        /* a scanner's probes, in */
        char dst[32];
        snprintf(dst, sizeof dst, "10.1.0.%u", 20 + i);
        flow(f, "203.0.113.9", dst, 22, T0 + 2000 + i, 44);
    }
    flow(f, "10.1.0.21", "203.0.113.9", 40000, T0 + 2100, 40); /* one answered */
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.hosts_active, 11); /* held: the two hosts and 9 dark addresses */
    /* two windows on: the host's next record closes both */
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 150000, 100);
    const char *c1 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c1\"");
    assert_non_null(c1);
    assert_non_null(strstr(c1, "\"inbound\":{\"bytes\":440,\"packets\":20,\"flows\":10}"));
    assert_non_null(strstr(c1, "\"active_hosts\":2,")); /* 10.1.0.5 and 10.1.0.21 */
    assert_non_null(strstr(c1, "\"last_24h\":{\"active_hosts\":2,"));
    fix_free(f);
}

static void test_windows_close_on_event_time(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 1000, 100);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 59999, 100);
    assert_int_equal(count_kind(&f->cap, MSG_SUMMARY), 0);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 60000, 100); /* next window: first closes */
    assert_int_equal(count_kind(&f->cap, MSG_SUMMARY), 1);
    assert_non_null(strstr(f->cap.msg[0], "\"flows\":2"));
    /* a record from before the open window is late: counted, not lost */
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 30000, 100);
    /* a big jump closes the open window and skips empty ones */
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 3600000, 100);
    assert_int_equal(count_kind(&f->cap, MSG_SUMMARY), 2);
    assert_non_null(strstr(f->cap.msg[1], "\"late_flows\":1"));
    assert_non_null(strstr(f->cap.msg[1], "\"flows\":2"));
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.late, 1);
    assert_true(ps.windows_closed <= 2 + 4); /* bounded closes on a jump */
    fix_free(f);
}

static void test_blocklist_alert_and_suppression(void **st)
{
    struct fix *f = fix_new(MAP, DROP);
    for (int i = 0; i < 3; i++)
        flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 1000 + (uint64_t)i * 1000, 100);
    flow(f, "2001:db8:1::9", "2001:db8:dead::1", 443, T0 + 5000, 7);
    flow(f, "198.18.9.9", "10.2.0.7", 25, T0 + 6000, 50); /* inbound from a listed address */
    flow(f, "8.8.8.8", "198.18.1.1", 443, T0 + 7000, 5);  /* not a customer: no alert */
    pipeline_finish(f->p);
    assert_int_equal(count_kind(&f->cap, MSG_ALERT), 3);
    const char *a = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.1.0.5\"");
    assert_non_null(a);
    assert_non_null(strstr(a, "\"rule\":{\"id\":\"blocklist.peer_listed\""));
    assert_non_null(strstr(a, "\"peer\":\"198.18.1.1\""));
    assert_non_null(strstr(a, "\"flows\":3"));
    assert_non_null(strstr(a, "\"description\":\"198.18.0.0/15 is listed on drop (SBL1)\""));
    assert_non_null(
        strstr(a, "\"message\":\"10.1.0.5 (customer c1) contacted 198.18.1.1:443 over tcp, "
                  "3 flows since 22:13 UTC; 198.18.1.1 is listed on drop (SBL1)\""));
    assert_non_null(strstr(a, "\"reference\":\"https://"));
    assert_non_null(strstr(a, "\"name\":\"SBL1\""));
    assert_non_null(strstr(a, "\"organization\":{\"id\":\"c1\",\"name\":\"Customer One\"}"));
    assert_non_null(strstr(a, "\"start\":\"2023-11-14T22:13:00.000Z\""));
    const char *v6 = find_msg(&f->cap, MSG_ALERT, "\"peer\":\"2001:db8:dead::1\"");
    assert_non_null(v6);
    assert_non_null(strstr(v6, "\"type\":\"ipv6-addr\""));
    const char *in = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.2.0.7\"");
    assert_non_null(in);
    assert_non_null(strstr(in, "\"source\":{\"ip\":\"198.18.9.9\""));
    assert_int_equal(strcmp(f->cap.key[0], "c1") == 0 || strcmp(f->cap.key[0], "c2") == 0, 1);
    /* same hits in the next windows within the suppression time: suppressed, counted */
    flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 61000, 100);
    pipeline_finish(f->p);
    assert_int_equal(count_kind(&f->cap, MSG_ALERT), 3);
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.alerts.suppressed, 1);
    /* after the suppression time the ongoing incident is published again: same id, the count
     * of windows it was raised in, when it was first raised */
    flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 700000, 100);
    pipeline_finish(f->p);
    assert_int_equal(count_kind(&f->cap, MSG_ALERT), 4);
    const char *last = NULL;
    for (size_t i = 0; i < f->cap.n; i++)
        if (f->cap.kind[i] == MSG_ALERT)
            last = f->cap.msg[i];
    const char *id1 = strstr(a, "\"event\":{");
    const char *id2 = strstr(last, "\"event\":{");
    assert_non_null(id1);
    assert_non_null(id2);
    id1 = strstr(id1, "\"id\":\"");
    id2 = strstr(id2, "\"id\":\"");
    assert_memory_equal(id1, id2, 38);
    assert_non_null(strstr(last, "\"host\":\"10.1.0.5\""));
    assert_non_null(strstr(last, "\"count\":3"));
    assert_non_null(strstr(last, "\"first_raised\":\"2023-11-14T22:14:00.000Z\""));
    fix_free(f);
}

/* A spam bot: n SMTP attempts to MXs in distinct /24s within the minute starting at t_ms. */
static void spam_minute(struct fix *f, const char *host, unsigned n, uint64_t t_ms, unsigned salt)
{
    for (unsigned i = 0; i < n; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "93.%u.%u.25", (salt * 7 + i) % 200, (salt + i * 13) % 250);
        flow(f, host, dst, 25, t_ms + 500 + i * 400, 100);
    }
}

static const char *json_str_at(const char *msg, const char *key, char *out, size_t len)
{
    const char *p = strstr(msg, key);
    if (!p)
        return NULL;
    p += strlen(key);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < len)
        n++;
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

/* Records that end in the next window reach the pipeline before the open one closes (within
 * lateness); when the input ends then, the last closes report them too: the open window, then
 * theirs. A spam bot whose every attempt ends there is found at the end of the input. */
static void test_finish_reports_the_next_windows_records(void **st)
{
    (void)st;
    g_lateness = 30;
    struct fix *f = fix_new(MAP, NULL);
    g_lateness = 0;
    flow(f, "10.1.0.5", "93.1.1.1", 443, T0 + 10000, 100); /* opens [T0, T0 + 60 s) */
    spam_minute(f, "10.1.0.9", 40, T0 + 59000, 3);         /* ends T0 + 59.5 .. 75.1 s */
    pipeline_finish(f->p);
    size_t n = 0;
    for (size_t i = 0; i < f->cap.n; i++)
        n += f->cap.kind[i] == MSG_ALERT && strstr(f->cap.msg[i], "\"id\":\"spam.fanout\"") &&
             strstr(f->cap.msg[i], "\"10.1.0.9\"");
    assert_int_equal(n, 1);
    fix_free(f);
}

/* A SIEM that keys tickets on event.id: a spam bot going on for four hours is one ticket. Its
 * updates (one per suppression time) carry the same id, a rising count, the same first_raised
 * and a moving last_seen; after a quiet spell longer than incident_idle it is a new incident. */
static void test_siem_one_ticket_per_incident(void **st)
{
    struct fix *f = fix_new_conf(MAP, NULL, "[pipeline]\nincident_idle = 1h\n");
    for (unsigned m = 0; m < 240; m++)
        spam_minute(f, "10.1.0.9", 40, T0 + m * 60000ULL, m);
    pipeline_finish(f->p);
    char id0[40] = "", fr0[40] = "", id[40], fr[40], last[40], prev_last[40] = "";
    unsigned long prev_count = 0;
    size_t msgs = 0;
    for (size_t i = 0; i < f->cap.n; i++) {
        const char *m = f->cap.msg[i];
        if (f->cap.kind[i] != MSG_ALERT || !strstr(m, "\"id\":\"spam.fanout\""))
            continue;
        msgs++;
        assert_non_null(json_str_at(strstr(m, "\"event\":{"), "\"id\":\"", id, sizeof id));
        assert_non_null(json_str_at(m, "\"first_raised\":\"", fr, sizeof fr));
        assert_non_null(json_str_at(m, "\"last_seen\":\"", last, sizeof last));
        unsigned long count = strtoul(strstr(m, "\"count\":") + 8, NULL, 10);
        if (!id0[0]) {
            snprintf(id0, sizeof id0, "%s", id);
            snprintf(fr0, sizeof fr0, "%s", fr);
            assert_int_equal(count, 1);
        }
        assert_string_equal(id, id0);
        assert_string_equal(fr, fr0);
        assert_true(count > prev_count);
        assert_true(strcmp(last, prev_last) > 0);
        prev_count = count;
        snprintf(prev_last, sizeof prev_last, "%s", last);
    }
    assert_true(msgs >= 20 && msgs <= 30); /* one update per 10 minutes, not one per minute */
    /* raised in every window: the last update carries all but those of its last 10 minutes */
    assert_true(prev_count > 230 && prev_count <= 240);
    /* two quiet hours, then the bot again: a new incident, a new id */
    spam_minute(f, "10.1.0.9", 40, T0 + 360 * 60000ULL, 7);
    pipeline_finish(f->p);
    const char *m = f->cap.msg[f->cap.n - 2];
    assert_non_null(strstr(m, "\"id\":\"spam.fanout\""));
    assert_non_null(json_str_at(strstr(m, "\"event\":{"), "\"id\":\"", id, sizeof id));
    assert_string_not_equal(id, id0);
    assert_non_null(strstr(m, "\"count\":1,"));
    fix_free(f);
}

/* The verdict counts hostile hosts and names them: a customer with 3 spam bots among 10
 * active hosts is condemned, its verdict and summary name the three with their incidents; a
 * customer with one bot among 20 is not. */
static void test_verdict_names_hosts(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    for (unsigned h = 0; h < 10; h++) {
        char host[32];
        snprintf(host, sizeof host, "10.1.0.%u", 20 + h);
        if (h < 3)
            spam_minute(f, host, 60, T0, h);
        else
            flow(f, host, "93.184.216.34", 443, T0 + 2000 + h, 100);
    }
    for (unsigned h = 0; h < 20; h++) {
        char host[32];
        snprintf(host, sizeof host, "10.2.0.%u", 20 + h);
        if (h == 0)
            spam_minute(f, host, 60, T0, 9);
        else
            flow(f, host, "93.184.216.34", 443, T0 + 2000 + h, 100);
    }
    pipeline_finish(f->p);
    const char *v = find_msg(&f->cap, MSG_ALERT, "\"id\":\"customer.hostile_share\"");
    assert_non_null(v);
    assert_non_null(strstr(v, "\"organization\":{\"id\":\"c1\""));
    assert_null(strstr(strstr(v, "\"organization\""), "\"id\":\"c2\""));
    assert_non_null(strstr(v, "\"hostile_hosts\":3"));
    const char *named = strstr(v, "\"hostile\":[");
    assert_non_null(named);
    for (unsigned h = 0; h < 3; h++) {
        char ip[40];
        snprintf(ip, sizeof ip, "{\"ip\":\"10.1.0.%u\"", 20 + h);
        assert_non_null(strstr(named, ip));
    }
    assert_null(strstr(named, "\"ip\":\"10.1.0.23\""));
    /* each named host's incident is the spam alert that was published for it */
    const char *bot = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.1.0.21\"");
    assert_non_null(bot);
    char id[40], want[80];
    assert_non_null(json_str_at(strstr(bot, "\"event\":{"), "\"id\":\"", id, sizeof id));
    snprintf(want, sizeof want, "{\"event_id\":\"%s\",\"rule\":\"spam.fanout\"}", id);
    assert_non_null(strstr(named, want));
    /* the summary names them too; c2's counts its one hostile host and is not condemned */
    const char *s1 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c1\"");
    assert_non_null(s1);
    assert_non_null(strstr(s1, want));
    const char *s2 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c2\"");
    assert_non_null(s2);
    assert_non_null(strstr(s2, "\"hostile_hosts\":1,"));
    assert_int_equal(count_kind(&f->cap, MSG_ALERT), 5); /* 4 bots and one verdict */
    fix_free(f);
}

static void run_seq(struct fix *f)
{
    for (int i = 0; i < 200; i++) {
        char src[32], dst[32];
        snprintf(src, sizeof src, "10.%d.0.%d", 1 + i % 2, i % 50);
        snprintf(dst, sizeof dst, "198.18.%d.%d", i % 3, i % 7);
        flow(f, src, i % 5 ? "93.184.216.34" : dst, 443, T0 + (uint64_t)i * 1500, (uint64_t)i);
    }
    pipeline_finish(f->p);
}

static void test_deterministic(void **st)
{
    struct fix *a = fix_new(MAP, DROP), *b = fix_new(MAP, DROP);
    run_seq(a);
    run_seq(b);
    assert_int_equal(a->cap.n, b->cap.n);
    assert_true(a->cap.n > 5);
    for (size_t i = 0; i < a->cap.n; i++)
        assert_string_equal(a->cap.msg[i], b->cap.msg[i]);
    fix_free(a);
    fix_free(b);
}

/* An ICMP echo record between two customers' hosts, at t_ms. */
static void echo(struct fix *f, const char *src, const char *dst, bool reply, uint64_t t_ms)
{
    struct flow_rec r;
    memset(&r, 0, sizeof r);
    assert_int_equal(addr_parse(src, r.src), 0);
    assert_int_equal(addr_parse(dst, r.dst), 0);
    r.dport = reply ? 0 : 8 << 8;
    r.proto = 1;
    r.bytes = 84;
    r.packets = 1;
    r.first_ms = r.last_ms = t_ms;
    r.sampling = 1;
    pipeline_flow(f->p, &r);
}

/* c1's host 10.1.0.9 pings 12 hosts of c2 from t_ms on, one every 0.5 s; every third answers. */
static void ping_sweep(struct fix *f, uint64_t t_ms)
{
    char dst[32];
    for (unsigned i = 0; i < 12; i++) {
        snprintf(dst, sizeof dst, "10.2.0.%u", 20 + i);
        echo(f, "10.1.0.9", dst, false, t_ms + i * 500);
        if (i % 3 == 0)
            echo(f, dst, "10.1.0.9", true, t_ms + 20 + i * 500);
    }
}

/* The sweep's alert, judged: 8 unanswered, 4 answered, none unknown. */
static void assert_sweep_judged(const struct fix *f)
{
    const char *a = find_msg(&f->cap, MSG_ALERT, "\"scan.icmp_sweep\"");
    assert_non_null(a);
    assert_non_null(strstr(a, "\"answered\":4,\"unanswered\":8,\"unknown\":0"));
}

/* A record between two customers reaches both ends' hosts: c1's host pings 12 hosts of c2,
 * 4 answer; the answers (records of c2's hosts) reach the pinging host's shard, so the sweep
 * is judged: 8 unanswered, 4 answered, none unknown (one worker and three). */
static void test_internal_reaches_both_ends(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    ping_sweep(f, T0 + 1000);
    pipeline_finish(f->p);
    assert_sweep_judged(f);
    const char *c2 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c2\"");
    assert_non_null(c2);
    /* the 4 that answered; the 8 others only received, as a scan's dark targets from outside */
    assert_non_null(strstr(c2, "\"active_hosts\":4"));
    assert_null(find_msg(&f->cap, MSG_ALERT, "\"organization\":{\"id\":\"c2\""));
    fix_free(f);
}

/* Windows closed together (a gap in the records) each close with their own times: pings at
 * T0 + 40 s wait answer_wait (30 s) past the end of [T0, T0 + 60 s), so the sweep is judged at
 * the close of [T0 + 60 s, T0 + 120 s), which a record at T0 + 200 s brings with two more. With
 * the first window's times for all three closes it was judged only at the end of the run. */
static void test_gap_closes_each_window_in_its_time(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    ping_sweep(f, T0 + 40000);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 200000, 100);
    assert_sweep_judged(f);
    pipeline_finish(f->p);
    fix_free(f);
}

/* The last-24h view keeps an alerted host's categories until exactly a day after the end of
 * the window of its latest alert (struct host keeps that end as end / window_ms): alerted in
 * [T0, T0 + 60 s), still counted in the window ending T0 + DAY, cleared in the one ending
 * T0 + 60 s + DAY. */
static const char *summary_after(const struct capsink *c, size_t from, const char *needle)
{
    for (size_t i = from; i < c->n; i++)
        if (c->kind[i] == MSG_SUMMARY && strstr(c->msg[i], needle))
            return c->msg[i];
    return NULL;
}

static void test_day_view_ends_a_day_after_the_alert(void **st)
{
    const uint64_t day = 86400000;
    struct fix *f = fix_new(MAP, DROP);
    flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 1000, 100);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + day - 30000, 100);
    assert_int_equal(count_kind(&f->cap, MSG_ALERT), 1);
    size_t n = f->cap.n;
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + day + 30000, 100); /* closes [.., T0+DAY) */
    const char *s = summary_after(&f->cap, n, "\"id\":\"c1\"");
    assert_non_null(s);
    assert_non_null(strstr(s, "\"last_24h\":{\"active_hosts\":1,\"hosts_alerted\":1"));
    n = f->cap.n;
    pipeline_finish(f->p); /* closes [T0+DAY, T0+DAY+60 s) */
    s = summary_after(&f->cap, n, "\"id\":\"c1\"");
    assert_non_null(s);
    assert_non_null(strstr(s, "\"last_24h\":{\"active_hosts\":1,\"hosts_alerted\":0"));
    fix_free(f);
}

static void test_reload_mid_window(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    flow(f, "10.3.0.1", "93.184.216.34", 443, T0 + 1000, 100); /* no customer yet */
    struct customer_limits lim = {100, 100};
    struct customer_map *cm;
    struct conf_error err;
    const char *map2 = "10.3.0.0/16,c3,Customer Three\n";
    assert_int_equal(customers_load_mem("map2", map2, strlen(map2), &lim, &cm, &err), 0);
    flow(f, "10.1.0.1", "93.184.216.34", 443, T0 + 1500, 100); /* c1 before the reload */
    assert_int_equal(pipeline_swap_lists(f->p, cm, NULL), 0);
    flow(f, "10.3.0.1", "93.184.216.34", 443, T0 + 2000, 100); /* the new map at once */
    flow(f, "10.1.0.1", "93.184.216.34", 443, T0 + 2500, 100); /* c1 is gone */
    pipeline_finish(f->p);
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.unmatched, 2);
    assert_int_equal(ps.list_swaps, 1);
    const char *c3 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c3\"");
    assert_non_null(c3);
    assert_non_null(strstr(c3, "\"active_hosts\":1"));
    /* c1 is not in the new map: its part of the window is not reported under another id */
    assert_null(find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c1\""));
    fix_free(f);
}

static void test_reload_feeds_keeps_hits(void **st)
{
    struct fix *f = fix_new(MAP, DROP);
    flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 1000, 100); /* hit on the old list */
    struct feed_set *fs;
    struct feed *fd;
    struct conf_error err;
    const char *drop2 = "203.0.113.0/24 ; SBL9\n";
    assert_int_equal(feed_set_new(&fs), 0);
    assert_int_equal(
        feed_load_mem("drop", "drop2.txt", drop2, strlen(drop2), FEED_AUTO, 10, &fd, &err), 0);
    assert_int_equal(feed_set_add(fs, fd), 0);
    assert_int_equal(pipeline_swap_lists(f->p, NULL, fs), 0);
    flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 2000, 100);  /* no longer listed */
    flow(f, "10.1.0.6", "203.0.113.7", 443, T0 + 3000, 100); /* newly listed */
    pipeline_finish(f->p);
    assert_int_equal(count_kind(&f->cap, MSG_ALERT), 2);
    const char *old = find_msg(&f->cap, MSG_ALERT, "\"peer\":\"198.18.1.1\"");
    assert_non_null(old);
    assert_non_null(strstr(old, "\"flows\":1"));
    assert_non_null(strstr(old, "SBL1"));
    assert_non_null(find_msg(&f->cap, MSG_ALERT, "SBL9"));
    fix_free(f);
}

static void test_reload_carries_customer_state(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 1000, 100);
    struct customer_limits lim = {100, 100};
    struct customer_map *cm;
    struct conf_error err;
    /* c1 keeps its id, gains a prefix, and its index changes (c0 comes first now) */
    const char *map2 =
        "10.9.0.0/16,c0,Zero\n10.1.0.0/16,c1,Customer One\n10.4.0.0/16,c1,Customer One\n";
    assert_int_equal(customers_load_mem("map2", map2, strlen(map2), &lim, &cm, &err), 0);
    assert_int_equal(pipeline_swap_lists(f->p, cm, NULL), 0);
    flow(f, "10.4.0.1", "93.184.216.34", 443, T0 + 2000, 100);
    pipeline_finish(f->p);
    const char *c1 = find_msg(&f->cap, MSG_SUMMARY, "\"id\":\"c1\"");
    assert_non_null(c1);
    assert_non_null(strstr(c1, "\"outbound\":{\"bytes\":200,\"packets\":4,\"flows\":2}"));
    assert_non_null(strstr(c1, "\"active_hosts\":2"));
    fix_free(f);
}

static void test_customer_override_applies(void **st)
{
    struct fix *f = fix_new_conf(MAP, DROP, "[customer c2]\nblocklist.score = 0.25\n");
    flow(f, "10.1.0.5", "198.18.1.1", 443, T0 + 1000, 100);
    flow(f, "10.2.0.5", "198.18.1.1", 443, T0 + 1000, 100);
    pipeline_finish(f->p);
    const char *a1 = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.1.0.5\"");
    const char *a2 = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.2.0.5\"");
    assert_non_null(a1);
    assert_non_null(a2);
    assert_non_null(strstr(a1, "\"score\":0.800"));
    assert_non_null(strstr(a2, "\"score\":0.250"));
    fix_free(f);
}

/* Many hosts over several windows, with a blocklist hit table so small that hits are reported
 * at once from the workers (the alerts worker threads queue for the pipeline thread). */
static void run_many(struct fix *f)
{
    for (int i = 0; i < 6000; i++) {
        char src[32], dst[32];
        snprintf(src, sizeof src, "10.%d.%d.%d", 1 + i % 2, (i / 7) % 4, i % 97);
        snprintf(dst, sizeof dst, "198.18.%d.%d", (i / 3) % 5, i % 11);
        flow(f, src, i % 4 ? "93.184.216.34" : dst, 443, T0 + (uint64_t)i * 90, (uint64_t)i);
    }
    pipeline_finish(f->p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* a's messages are one's, in any order (a window's alerts may come in another order). */
static void assert_same_messages(struct fix *one, struct fix *a)
{
    assert_int_equal(a->cap.n, one->cap.n);
    char **x = malloc(a->cap.n * sizeof *x), **y = malloc(a->cap.n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    memcpy(x, a->cap.msg, a->cap.n * sizeof *x);
    memcpy(y, one->cap.msg, a->cap.n * sizeof *y);
    qsort(x, a->cap.n, sizeof *x, cmp_str);
    qsort(y, a->cap.n, sizeof *y, cmp_str);
    for (size_t i = 0; i < a->cap.n; i++)
        assert_string_equal(x[i], y[i]);
    free(x);
    free(y);
}

/* Two runs with threads (a, b) of what one ran with one worker: message for message the same
 * output on every run, and the same messages as one worker (a window's alerts may come in
 * another order). Frees the three. */
static void threads_agree_then_free(struct fix *one, struct fix *a, struct fix *b)
{
    assert_int_equal(a->cap.n, b->cap.n);
    for (size_t i = 0; i < a->cap.n; i++)
        assert_string_equal(a->cap.msg[i], b->cap.msg[i]);
    assert_same_messages(one, a);
    fix_free(one);
    fix_free(a);
    fix_free(b);
}

static void test_threads_same_alerts(void **st)
{
    (void)st;
    const char *conf = "[detector.blocklist]\nmax_hits = 16\n";
    uint32_t saved = g_workers;
    g_workers = 1;
    struct fix *one = fix_new_conf(MAP, DROP, conf);
    g_workers = 3;
    struct fix *a = fix_new_conf(MAP, DROP, conf), *b = fix_new_conf(MAP, DROP, conf);
    g_workers = saved;
    run_many(one);
    run_many(a);
    run_many(b);
    struct pipeline_stats ps;
    pipeline_stats(a->p, &ps);
    assert_int_equal(ps.flows, 6000);
    assert_int_equal(ps.alerts_truncated, 0);
    fprintf(stderr, "threads: %zu alerts, %zu messages\n", count_kind(&one->cap, MSG_ALERT),
            one->cap.n);
    assert_true(count_kind(&one->cap, MSG_ALERT) > 100); /* most came from full hit tables */
    threads_agree_then_free(one, a, b);
}

/* Window close on the worker threads (windows.c close_shard, workers.c wk_close): 900 hosts,
 * each with a blocklist hit in each of two windows, so at each close every thread raises about
 * 300 alerts, far more than its outbox holds (32). A thread whose outbox is full waits until
 * the pipeline thread comes to it, which is only after worker 0's part of the close (shard 0
 * holds a third of the hosts here) and every earlier worker's alerts. No alert is lost or
 * reordered: the same messages as one worker, and message for message the same on every run. */
static void run_close_burst(struct fix *f)
{
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 900; i++) {
            char src[32], dst[32];
            snprintf(src, sizeof src, "10.%d.%d.%d", 1 + i % 2, i / 200, i % 200);
            snprintf(dst, sizeof dst, "198.18.%d.%d", w, 1 + i % 50);
            flow(f, src, dst, 443, T0 + (uint64_t)w * 60000 + 1000 + (uint64_t)i, 100);
        }
    pipeline_finish(f->p);
}

static void test_threads_close_queue_full(void **st)
{
    (void)st;
    uint32_t saved = g_workers, saved_cost = g_cost;
    g_workers = 1;
    struct fix *one = fix_new(MAP, DROP);
    g_workers = 3;
    g_cost = 0; /* equal shares: worker 0's part of the close is as long as the threads' */
    struct fix *a = fix_new(MAP, DROP), *b = fix_new(MAP, DROP);
    g_workers = saved;
    g_cost = saved_cost;
    run_close_burst(one);
    run_close_burst(a);
    run_close_burst(b);
    struct pipeline_stats ps1, ps;
    pipeline_stats(one->p, &ps1);
    pipeline_stats(a->p, &ps);
    assert_int_equal(ps1.outbox_waits, 0); /* one worker: no thread, no outbox */
    assert_int_equal(ps.windows_closed, 2);
    assert_int_equal(ps.alerts_truncated, 0);
    /* every alert came at a close (the hit table holds every pair): the threads' outboxes
     * filled up there */
    assert_true(ps.outbox_waits > 0);
    fprintf(stderr, "close burst: %zu alerts, %" PRIu64 " held for room\n",
            count_kind(&one->cap, MSG_ALERT), ps.outbox_waits);
    assert_true(count_kind(&one->cap, MSG_ALERT) >= 900);
    threads_agree_then_free(one, a, b);
}

/* The shard map (pipeline.c shard_map_build: shard 0, on the pipeline thread, gets
 * (100 - (N-1) x dispatcher_cost) / N percent of the hosts) decides only which thread runs a
 * host: 2 workers with shard 0 holding half, a quarter or none of the hosts, and 3 workers
 * with equal shares or none on shard 0, give one worker's messages; the host tables together
 * hold hosts_max (each its share), and hold the same hosts; every detector's tables together
 * hold what one worker's do (each its share, up to whole buckets and a minimum per table). */
static void det_capacities(struct pipeline *p, uint64_t *caps, size_t max)
{
    struct det_counters dc[SETTINGS_MAX_DETECTORS];
    size_t n = pipeline_detector_counters(p, dc, SETTINGS_MAX_DETECTORS), m = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < dc[i].ops->nctr; k++)
            if (strstr(dc[i].ops->ctr_defs[k].json, "capacity") && m < max)
                caps[m++] = ctr_value(&dc[i].ops->ctr_defs[k], dc[i].v);
    assert_true(m >= 8 && m < max);
    caps[m] = 0;
}

static void test_shard_map_changes_nothing(void **st)
{
    (void)st;
    const char *conf = "[detector.blocklist]\nmax_hits = 16\n[pipeline]\nhosts_max = 65536\n";
    static const struct {
        uint32_t workers, cost;
    } maps[] = {{2, 0}, {2, 50}, {2, 100}, {2, 1000}, {3, 0}, {3, 25}, {3, 50}};
    uint32_t saved = g_workers, saved_cost = g_cost;
    g_workers = 1;
    struct fix *one = fix_new_conf(MAP, DROP, conf);
    run_many(one);
    struct pipeline_stats ps1;
    pipeline_stats(one->p, &ps1);
    assert_true(count_kind(&one->cap, MSG_ALERT) > 100);
    uint64_t caps1[32], caps[32];
    det_capacities(one->p, caps1, 32);
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++) {
        g_workers = maps[m].workers;
        g_cost = maps[m].cost;
        struct fix *a = fix_new_conf(MAP, DROP, conf);
        run_many(a);
        assert_same_messages(one, a);
        struct pipeline_stats ps;
        pipeline_stats(a->p, &ps);
        assert_int_equal(ps.hosts_active, ps1.hosts_active);
        assert_int_equal(ps.hosts_high_water, ps1.hosts_high_water);
        /* each table its share of 65 536, rounded up to whole buckets (a table with no share
         * keeps the smallest size) */
        assert_true(ps.host_capacity >= 65536 && ps.host_capacity <= 65536 + 64 * maps[m].workers);
        det_capacities(a->p, caps, 32);
        for (size_t k = 0; caps1[k]; k++)
            assert_true(caps[k] >= caps1[k] && caps[k] <= caps1[k] + 80 * maps[m].workers);
        fix_free(a);
    }
    g_workers = saved;
    g_cost = saved_cost;
    fix_free(one);
}

/* The beacon detector's peer prevalence is merged from every worker at window close: hosts of
 * two customers polling one server (infrastructure) stay quiet and a lone host polling a C2
 * alerts, the same with one worker and with three (the pollers are spread over the shards). */
static void run_pollers(struct fix *f)
{
    for (int n = 0; n < 45; n++) {
        for (int h = 0; h < 13; h++) {
            char src[32];
            snprintf(src, sizeof src, "10.%d.7.%d", 1 + h % 2, 10 + h);
            struct flow_rec r;
            memset(&r, 0, sizeof r);
            assert_int_equal(addr_parse(src, r.src), 0);
            assert_int_equal(addr_parse(h == 12 ? "185.7.7.7" : "93.184.216.99", r.dst), 0);
            r.sport = (uint16_t)(40000 + n * 13 + h);
            r.dport = 443;
            r.proto = 6;
            r.tcp_flags = 0x1b;
            r.bytes = 500;
            r.packets = 6;
            r.first_ms = T0 + (uint64_t)n * 60000 + (uint64_t)h * 1700 +
                         (uint64_t)((n * 7919 + h * 104729) % 3000);
            r.last_ms = r.first_ms + 300;
            r.sampling = 1;
            pipeline_flow(f->p, &r);
        }
    }
    pipeline_finish(f->p);
}

static void test_threads_beacon_prevalence(void **st)
{
    (void)st;
    uint32_t saved = g_workers;
    g_workers = 1;
    struct fix *one = fix_new(MAP, NULL);
    g_workers = 3;
    struct fix *three = fix_new(MAP, NULL);
    g_workers = saved;
    run_pollers(one);
    run_pollers(three);
    size_t na = count_kind(&one->cap, MSG_ALERT);
    assert_int_equal(count_kind(&three->cap, MSG_ALERT), na);
    assert_true(na >= 1);
    for (size_t i = 0; i < one->cap.n; i++) {
        if (one->cap.kind[i] != MSG_ALERT)
            continue;
        assert_non_null(strstr(one->cap.msg[i], "185.7.7.7"));
        bool same = false;
        for (size_t j = 0; j < three->cap.n; j++)
            same |= strcmp(one->cap.msg[i], three->cap.msg[j]) == 0;
        assert_true(same);
    }
    assert_non_null(find_msg(&one->cap, MSG_ALERT, "\"beacon.fast\""));
    fix_free(one);
    fix_free(three);
    /* what keeps the pollers quiet is their number: counted as rare, they alert */
    g_workers = 3;
    struct fix *strict = fix_new_conf(MAP, NULL, "[detector.beacon]\ninfra_hosts = 100\n");
    g_workers = saved;
    run_pollers(strict);
    assert_non_null(find_msg(&strict->cap, MSG_ALERT, "93.184.216.99"));
    fix_free(strict);
}

static bool name_exporter(void *arg, uint32_t idx1, uint8_t out[16])
{
    (void)arg;
    if (idx1 != 3)
        return false;
    return addr_parse("192.0.2.77", out) == 0;
}

/* An alert names the exporter that last reported its host's flows and the interface they
 * entered it on (ECS observer.ip, observer.ingress.interface.id); without an exporter (metered
 * flows, archives) no observer address. */
static void test_alert_observer(void **st)
{
    struct fix *f = fix_new(MAP, DROP);
    pipeline_set_exporter_names(f->p, name_exporter, NULL);
    struct flow_rec r = rec("10.1.0.5", "198.18.1.1", 443, T0 + 1000, 100);
    r.exporter = 3;
    r.in_if = 517;
    pipeline_flow(f->p, &r);
    flow(f, "10.2.0.7", "198.18.1.1", 443, T0 + 2000, 100); /* no exporter */
    pipeline_finish(f->p);
    const char *a = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.1.0.5\"");
    assert_non_null(a);
    assert_non_null(
        strstr(a, "\"ip\":[\"192.0.2.77\"],\"ingress\":{\"interface\":{\"id\":\"517\"}}"));
    assert_non_null(strstr(a, "\"source\":{\"ip\":\"10.1.0.5\",\"port\":40000}"));
    const char *b = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.2.0.7\"");
    assert_non_null(b);
    assert_null(strstr(b, "\"ingress\""));
    assert_non_null(strstr(b, "\"type\":\"ids\",\"version\":\"" TW_VERSION "\"},"));
    fix_free(f);
}

/* Every alert about a host says when its records were packet-sampled and at what rate (the
 * highest of the host's records in the window), whatever the detector: here a list hit from a
 * host seen through 1:512 sampled records (one of them unsampled); a host seen unsampled has no
 * transitwatch.sampling. */
static void test_alert_sampling(void **st)
{
    (void)st;
    struct fix *f = fix_new(MAP, DROP);
    struct flow_rec r = rec("10.1.0.5", "198.18.1.1", 443, T0 + 1000, 512 * 60);
    r.packets = 512;
    r.sampling = 512;
    pipeline_flow(f->p, &r);
    r.sampling = 1;
    r.first_ms += 1000;
    r.last_ms += 1000;
    pipeline_flow(f->p, &r);
    flow(f, "10.2.0.7", "198.18.1.1", 443, T0 + 2000, 100);
    pipeline_finish(f->p);
    const char *a = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.1.0.5\"");
    assert_non_null(a);
    assert_non_null(strstr(a, "\"sampling\":{\"sampled\":true,\"rate\":512}"));
    const char *b = find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.2.0.7\"");
    assert_non_null(b);
    assert_null(strstr(b, "\"sampling\""));
    fix_free(f);
}

/* A detector's counters are summed over every worker's instance: 40 listed flows from 40
 * hosts (spread over the workers) count 40 hits, whatever the number of workers. */
static void test_detector_counters_summed(void **st)
{
    struct fix *f = fix_new(MAP, DROP);
    char host[32];
    for (unsigned i = 0; i < 40; i++) {
        snprintf(host, sizeof host, "10.1.%u.%u", i / 200, i % 200 + 1);
        flow(f, host, "198.18.0.9", 443, T0 + 1000 + i, 100);
    }
    struct det_counters dc[SETTINGS_MAX_DETECTORS];
    size_t n = pipeline_detector_counters(f->p, dc, SETTINGS_MAX_DETECTORS);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(dc[i].ops->name, "blocklist") != 0)
            continue;
        for (size_t k = 0; k < dc[i].ops->nctr; k++) {
            const struct ctr_def *d = &dc[i].ops->ctr_defs[k];
            if (strcmp(d->json, "hits") == 0) {
                assert_int_equal(ctr_value(d, dc[i].v), 40);
                found = true;
            } else if (strcmp(d->json, "pair_capacity") == 0) {
                /* max_hits is the process's total: each worker its share, at least 16 */
                uint64_t cap = ctr_value(d, dc[i].v);
                assert_true(cap >= 65536 && cap <= 65536 + 17 * (uint64_t)g_workers);
            }
        }
    }
    assert_true(found);
    fix_free(f);
}

/* What the record tap sees: every record pipeline_flow was handed, classified, once; of
 * pipeline_flow_part the whole records (ALL and SRC parts), not a DST part or a tick. */
struct tapped {
    size_t n;
    uint8_t dir[8];
    uint32_t customer[8];
};

static void tap_rec(void *arg, struct flow_rec *r)
{
    struct tapped *t = arg;
    assert_true(t->n < 8);
    t->dir[t->n] = r->dir;
    t->customer[t->n++] = r->customer;
}

static void test_record_tap(void **st)
{
    struct fix *f = fix_new(MAP, NULL);
    struct tapped t = {0};
    pipeline_set_record_tap(f->p, tap_rec, &t);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 1000, 100); /* c1 out */
    flow(f, "8.8.8.8", "9.9.9.9", 53, T0 + 2000, 5);           /* neither */
    flow(f, "10.1.0.6", "10.2.0.7", 22, T0 + 3000, 10);        /* internal c1 -> c2 */
    assert_int_equal(t.n, 3);
    assert_int_equal(t.dir[0], FLOW_DIR_OUT);
    assert_int_equal(t.dir[1], FLOW_DIR_NONE);
    assert_int_equal(t.customer[1], 0);
    assert_int_equal(t.dir[2], FLOW_DIR_INTERNAL);
    assert_int_equal(t.customer[0], t.customer[2]); /* both c1 */
    struct flow_rec r = rec("93.184.216.34", "10.1.0.5", 50000, T0 + 4000, 7);
    struct flowpb_meta m = {
        .part = FLOWPB_PART_ALL, .window_start_ms = T0, .watermark_ms = T0 + 4000};
    pipeline_flow_part(f->p, &r, &m);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.dir[3], FLOW_DIR_IN);
    r = rec("10.1.0.6", "10.2.0.7", 22, T0 + 5000, 10);
    m.part = FLOWPB_PART_SRC;
    pipeline_flow_part(f->p, &r, &m);
    assert_int_equal(t.n, 5);
    r = rec("10.1.0.6", "10.2.0.7", 22, T0 + 5000, 10);
    m.part = FLOWPB_PART_DST; /* counted with its SRC part */
    pipeline_flow_part(f->p, &r, &m);
    m.part = FLOWPB_PART_TICK;
    pipeline_flow_part(f->p, NULL, &m);
    assert_int_equal(t.n, 5);
    pipeline_set_record_tap(f->p, NULL, NULL);
    flow(f, "10.1.0.5", "93.184.216.34", 443, T0 + 6000, 100);
    assert_int_equal(t.n, 5);
    fix_free(f);
}

/* detect: event time is the collector's. A window's records that a slower partition (or the
 * broker back after an outage) brings minutes later still land in it, as in the single
 * process: the wall clock does not close it (the daemon's idle advance closed it after
 * idle_advance, 60 s, and the records came late into another window). The collector's tick of
 * the next window closes it. */
static void test_detect_no_idle_advance(void **st)
{
    (void)st;
    struct fix *f = fix_new(MAP, DROP);
    struct flow_rec r = rec("10.1.0.5", "198.18.1.1", 443, T0 + 1000, 100);
    struct flowpb_meta m = {
        .part = FLOWPB_PART_ALL, .window_start_ms = T0, .watermark_ms = T0 + 1000};
    pipeline_flow_part(f->p, &r, &m);
    for (uint64_t wall = 5000000; wall <= 5000000 + 600000; wall += 1000) /* 10 quiet minutes */
        pipeline_tick(f->p, wall);
    assert_int_equal(pipeline_last_window_end(f->p), 0);
    r = rec("10.1.0.6", "198.18.1.2", 443, T0 + 50000, 100);
    m.watermark_ms = T0 + 50000;
    pipeline_flow_part(f->p, &r, &m);
    m.part = FLOWPB_PART_TICK;
    m.window_start_ms = m.watermark_ms = T0 + 60000;
    pipeline_flow_part(f->p, NULL, &m);
    assert_int_equal(pipeline_last_window_end(f->p), T0 + 60000);
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.late, 0);
    assert_non_null(find_msg(&f->cap, MSG_ALERT, "\"host\":\"10.1.0.6\""));
    fix_free(f);
}

/* detect: a record's watermark moves event time at most to just before its own window's close
 * (a collector's never reaches it: the window would have moved and the record carry the next).
 * One message with a watermark years ahead (a corrupt or hostile producer on the flows topic)
 * closed every window up to it: the window's further records came late, and every window after
 * it stayed open until records of that far time came. */
static void test_detect_watermark_bounded(void **st)
{
    (void)st;
    struct fix *f = fix_new(MAP, DROP);
    struct flow_rec r = rec("10.1.0.5", "198.18.1.1", 443, T0 + 1000, 100);
    struct flowpb_meta m = {
        .part = FLOWPB_PART_ALL, .window_start_ms = T0, .watermark_ms = T0 + 1000};
    pipeline_flow_part(f->p, &r, &m);
    r = rec("10.1.0.7", "93.184.216.34", 443, T0 + 2000, 100);
    m.watermark_ms = T0 + 10ull * 365 * 86400000; /* ten years ahead */
    pipeline_flow_part(f->p, &r, &m);
    assert_int_equal(pipeline_last_window_end(f->p), 0);
    r = rec("10.1.0.6", "198.18.1.2", 443, T0 + 50000, 100);
    m.watermark_ms = T0 + 50000;
    pipeline_flow_part(f->p, &r, &m);
    m.part = FLOWPB_PART_TICK;
    m.window_start_ms = m.watermark_ms = T0 + 60000;
    pipeline_flow_part(f->p, NULL, &m);
    assert_int_equal(pipeline_last_window_end(f->p), T0 + 60000);
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.late, 0);
    fix_free(f);
}

/* collect: each record forwarded has a number of its own (flowpb_meta.seq), an internal
 * record's two parts the same one. Two records with every field equal (an sFlow datagram's
 * samples of one elephant flow: same 5-tuple, size and millisecond) encode to different
 * bytes, so the readers' recognition of the sink's re-sent copies (kafka_dedup: equal bytes)
 * takes both; it took them as one before. A copy of the same message is still recognised. */
struct fwd_seen {
    size_t n;
    uint64_t seq[8];
    uint32_t part[8];
    uint8_t msg[8][FLOWPB_MAX];
    int len[8];
};

static void fwd_rec(void *arg, const struct flow_rec *r, const struct flowpb_meta *m)
{
    struct fwd_seen *s = arg;
    if (m->part == FLOWPB_PART_TICK || s->n == 8)
        return;
    s->seq[s->n] = m->seq;
    s->part[s->n] = m->part;
    s->len[s->n] = flowpb_encode(r, m, s->msg[s->n], FLOWPB_MAX);
    s->n++;
}

static void test_forward_numbers_records(void **st)
{
    (void)st;
    struct fix *f = fix_new(MAP, NULL);
    struct fwd_seen s = {0};
    pipeline_set_forward(f->p, fwd_rec, &s);
    flow(f, "93.184.216.34", "10.1.0.5", 40000, T0 + 1000, 1514);
    flow(f, "93.184.216.34", "10.1.0.5", 40000, T0 + 1000, 1514); /* every field the same */
    flow(f, "10.1.0.6", "10.2.0.7", 22, T0 + 1000, 10);           /* internal: two parts */
    assert_int_equal(s.n, 4);
    assert_true(s.seq[0] > 1000000000000000ULL); /* from the wall clock's microseconds */
    assert_int_equal(s.seq[1], s.seq[0] + 1);
    assert_int_equal(s.seq[2], s.seq[1] + 1);
    assert_int_equal(s.seq[3], s.seq[2]); /* the internal record's DST part */
    assert_int_equal(s.part[2], FLOWPB_PART_SRC);
    assert_int_equal(s.part[3], FLOWPB_PART_DST);
    assert_int_equal(s.len[0], s.len[1]);
    assert_true(memcmp(s.msg[0], s.msg[1], (size_t)s.len[0]) != 0);
    struct flow_rec a, b;
    struct flowpb_meta ma, mb;
    assert_int_equal(flowpb_decode(s.msg[0], (size_t)s.len[0], &a, &ma), 0);
    assert_int_equal(flowpb_decode(s.msg[1], (size_t)s.len[1], &b, &mb), 0);
    assert_memory_equal(&a, &b, sizeof a); /* the records themselves are equal */
    assert_int_equal(mb.seq, s.seq[1]);
    struct kafka_dedup d;
    assert_int_equal(kafka_dedup_init(&d, 64), 0);
    assert_false(kafka_dedup_copy(&d, 0, s.msg[0], (size_t)s.len[0]));
    assert_false(kafka_dedup_copy(&d, 0, s.msg[1], (size_t)s.len[1])); /* taken: not a copy */
    assert_true(kafka_dedup_copy(&d, 0, s.msg[1], (size_t)s.len[1]));  /* a re-sent copy */
    kafka_dedup_fini(&d);
    fix_free(f);
}

static int workers_three(void **st)
{
    (void)st;
    g_workers = 3;
    g_cost = 10; /* shard 0 (on the pipeline thread) takes its part too: 26 % of the hosts */
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direction_and_summaries),
        cmocka_unit_test(test_group_destinations),
        cmocka_unit_test(test_windows_close_on_event_time),
        cmocka_unit_test(test_blocklist_alert_and_suppression),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_internal_reaches_both_ends),
        cmocka_unit_test(test_active_hosts_sent),
        cmocka_unit_test(test_gap_closes_each_window_in_its_time),
        cmocka_unit_test(test_reload_mid_window),
        cmocka_unit_test(test_day_view_ends_a_day_after_the_alert),
        cmocka_unit_test(test_customer_override_applies),
        cmocka_unit_test(test_reload_feeds_keeps_hits),
        cmocka_unit_test(test_reload_carries_customer_state),
        cmocka_unit_test(test_finish_reports_the_next_windows_records),
        cmocka_unit_test(test_siem_one_ticket_per_incident),
        cmocka_unit_test(test_verdict_names_hosts),
        cmocka_unit_test(test_detector_counters_summed),
        cmocka_unit_test(test_record_tap),
        cmocka_unit_test(test_detect_no_idle_advance),
        cmocka_unit_test(test_detect_watermark_bounded),
        cmocka_unit_test(test_forward_numbers_records),
        cmocka_unit_test(test_alert_observer),
        cmocka_unit_test(test_alert_sampling),
    };
    const struct CMUnitTest threaded[] = {
        cmocka_unit_test(test_threads_same_alerts),
        cmocka_unit_test(test_threads_beacon_prevalence),
        cmocka_unit_test(test_shard_map_changes_nothing),
        cmocka_unit_test(test_threads_close_queue_full),
    };
    int rc = cmocka_run_group_tests_name("one worker", tests, NULL, NULL);
    rc += cmocka_run_group_tests_name("three worker threads", tests, workers_three, NULL);
    rc += cmocka_run_group_tests_name("threads against one worker", threaded, NULL, NULL);
    return rc;
}
