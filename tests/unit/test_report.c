/* test_report.c: the report model and its writers (report.h): incidents grouped by event.id,
 * the timeline bounded by merging windows, incidents bounded with the most severe kept, the
 * customer and time filters, the HTML self-contained and escaped, the text for e-mail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_dir.h"
#include "report_int.h"
#include "textfield.h"
#include "tmpdir_test_util.h"

static char *alert_json(const char *cust, const char *id, const char *rule, const char *det,
                        int sev, const char *host, unsigned minute, const char *evidence,
                        const char *msg)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"@timestamp\":\"2008-09-20T%02u:%02u:00.000Z\",\"message\":\"%s\","
             "\"event\":{\"kind\":\"alert\",\"id\":\"%s\",\"dataset\":\"transitwatch.alert\","
             "\"severity\":%d},\"rule\":{\"id\":\"%s\",\"name\":\"N\",\"reference\":"
             "\"https://example.org/r\"},\"organization\":{\"id\":\"%s\",\"name\":\"%s Ltd\"},"
             "\"threat\":{\"enrichments\":[{\"indicator\":{\"provider\":\"feodo\",\"name\":"
             "\"SBL1\",\"description\":\"198.18.7.7/32 is listed on feodo\",\"reference\":"
             "\"https://example.org/SBL1\"}}]},"
             "\"transitwatch\":{\"detector\":\"%s\",\"severity\":\"high\",\"host\":\"%s\","
             "\"peer\":\"198.18.7.7\",\"count\":1,\"flows\":3,\"packets\":9,\"evidence\":%s}}",
             minute / 60, minute % 60, msg, id, sev, rule, cust, cust, det, host, evidence);
    return buf;
}

static char *summary_json(const char *cust, unsigned window, uint64_t out, uint64_t in,
                          double share)
{
    static char buf[2048];
    unsigned m0 = window * 5, m1 = m0 + 5;
    snprintf(buf, sizeof buf,
             "{\"@timestamp\":\"2008-09-%02uT%02u:%02u:00.000Z\",\"event\":{\"kind\":\"metric\"},"
             "\"organization\":{\"id\":\"%s\"},\"transitwatch\":{\"window\":{\"start\":"
             "\"2008-09-%02uT%02u:%02u:00.000Z\",\"end\":\"2008-09-%02uT%02u:%02u:00.000Z\"},"
             "\"outbound\":{\"bytes\":%llu,\"flows\":1},\"inbound\":{\"bytes\":%llu,\"flows\":1},"
             "\"active_hosts\":40,\"hostile_hosts\":2,\"hostile_share\":%.4f,\"last_24h\":"
             "{\"active_hosts\":40,\"hostile_hosts\":2,\"hostile_share\":%.4f}}}",
             10 + m1 / 1440, m1 / 60 % 24, m1 % 60, cust, 10 + m0 / 1440, m0 / 60 % 24, m0 % 60,
             10 + m1 / 1440, m1 / 60 % 24, m1 % 60, (unsigned long long)out, (unsigned long long)in,
             share, share);
    return buf;
}

static struct report *mk(const struct report_opts *o)
{
    struct report *r = NULL;
    struct report_opts def = {.threshold_share = 0.05};
    assert_int_equal(report_new(o ? o : &def, &r), 0);
    return r;
}

static int add(struct report *r, enum msg_kind k, const char *j)
{
    return report_add(r, k, j, strlen(j));
}

static char *render(const struct report *r, bool html, const char *only,
                    const struct report_contact *k)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(html ? report_write_html(r, only, k, f) : report_write_text(r, only, k, f), 0);
    fclose(f);
    return buf;
}

static void test_incidents_grouped(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    const char *ev = "{\"intervals_s\":[60.1,59.8,60.3,61.0],\"period_s\":60.2}";
    assert_int_equal(add(r, MSG_ALERT,
                         alert_json("acme", "e1", "beacon.fast", "beacon", 73, "192.0.2.10", 10, ev,
                                    "beacon one")),
                     0);
    assert_int_equal(add(r, MSG_ALERT,
                         alert_json("acme", "e1", "beacon.fast", "beacon", 73, "192.0.2.10", 15, ev,
                                    "beacon two")),
                     0);
    assert_int_equal(add(r, MSG_ALERT,
                         alert_json("acme", "e2", "spam.fanout", "spam", 47, "192.0.2.11", 15,
                                    "{\"distinct_dst\":30}", "spam")),
                     0);
    assert_int_equal(add(r, MSG_SUMMARY, summary_json("acme", 1, 100, 200, 0.05)), 0);
    const struct rp_customer *c = rp_find(r, "acme");
    assert_non_null(c);
    assert_int_equal(c->ninc, 2);
    assert_int_equal(c->alerts, 3);
    assert_int_equal(c->inc[0].updates, 2);
    assert_string_equal(c->inc[0].message, "beacon two"); /* the latest */
    assert_int_equal(c->inc[0].nintervals, 4);
    assert_int_equal(c->inc[0].nseries, 2);
    assert_int_equal(c->nhosts, 2);
    assert_int_equal(c->hosts[0].alerts, 2);
    assert_int_equal(c->hosts[0].incidents, 1);
    assert_non_null(strstr(c->inc[1].evidence, "distinct_dst=30"));
    /* an array of scalars is one value, its first RP_EVID_LIST named; one of objects is left
     * out; the intervals are the histogram's, not a line */
    assert_int_equal(add(r, MSG_ALERT,
                         alert_json("acme", "e3", "beacon.slow", "beacon", 73, "192.0.2.12", 20,
                                    "{\"list_peers\":8,\"list_servers\":[\"198.51.100.1\","
                                    "\"198.51.100.2\",\"198.51.100.3\",\"198.51.100.4\","
                                    "\"198.51.100.5\",\"198.51.100.6\",\"198.51.100.7\","
                                    "\"198.51.100.8\"],\"ports\":[{\"port\":443}],"
                                    "\"intervals_s\":[2953.4,2953.5]}",
                                    "list")),
                     0);
    const struct rp_incident *l = &c->inc[2];
    assert_string_equal(l->evidence, "list_peers=8\nlist_servers=198.51.100.1 198.51.100.2 "
                                     "198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6 "
                                     "(+2)\n");
    assert_int_equal(l->nintervals, 2);
    assert_non_null(strstr(c->inc[0].feeds, "feodo|SBL1|198.18.7.7/32 is listed on feodo"));
    /* bad lines are counted, not taken */
    assert_int_equal(add(r, MSG_ALERT, "{not json"), -22);
    assert_int_equal(add(r, MSG_ALERT, "{\"message\":\"no time\"}"), -22);
    assert_int_equal(r->unreadable, 2);
    report_free(r);
}

static void test_timeline_bounded(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    uint64_t sum = 0;
    for (unsigned w = 0; w < 1000; w++) { /* 1000 windows: 3.5 days of 5 minutes */
        assert_int_equal(add(r, MSG_SUMMARY, summary_json("acme", w, w, 1, w == 500 ? 0.4 : 0)), 0);
        sum += w;
    }
    const struct rp_customer *c = rp_find(r, "acme");
    assert_true(c->npts <= REPORT_POINTS);
    assert_int_equal(c->per, 4);
    assert_int_equal(c->windows, 1000);
    uint64_t got = 0, win = 0;
    float top = 0;
    for (uint32_t i = 0; i < c->npts; i++) {
        got += c->pts[i].bytes_out;
        win += c->pts[i].windows;
        top = c->pts[i].share > top ? c->pts[i].share : top;
    }
    assert_int_equal(got, sum); /* nothing lost by the merging */
    assert_int_equal(win, 1000);
    assert_true(top > 0.39f); /* a peak survives as the point's highest */
    report_free(r);
}

static void test_incidents_bounded(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    char id[32];
    for (unsigned i = 0; i < 3 * REPORT_INCIDENTS; i++) {
        snprintf(id, sizeof id, "low%u", i);
        add(r, MSG_ALERT,
            alert_json("acme", id, "scan.trw", "scan", 21, "192.0.2.1", 5, "{}", "m"));
    }
    add(r, MSG_ALERT,
        alert_json("acme", "crit", "flood.pps", "flood", 99, "192.0.2.2", 9, "{}", "m"));
    const struct rp_customer *c = rp_find(r, "acme");
    assert_int_equal(c->ninc, REPORT_INCIDENTS);
    /* the 128 refused for room and the one the critical one replaced */
    assert_int_equal(c->inc_left_out, 2 * REPORT_INCIDENTS + 1);
    assert_int_equal(c->incidents, 3 * REPORT_INCIDENTS + 1);
    assert_int_equal(c->alerts_left_out, 2 * REPORT_INCIDENTS + 1);
    uint32_t idx[REPORT_INCIDENTS];
    rp_incident_order(c, idx);
    assert_string_equal(c->inc[idx[0]].id, "crit");
    char *html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "more incidents not shown"));
    assert_true(strlen(html) < 400000);
    free(html);
    report_free(r);
}

/* Incidents are counted by event.id beyond the table: the page said "64 incidents" for a
 * customer with 69 (evaluation scenario, 6 hours), a left-out incident's updates each counted
 * as an incident of its host, and an update of an incident replaced for room made it again. */
static void test_incidents_counted_beyond_table(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    char id[32];
    for (unsigned i = 0; i < REPORT_INCIDENTS; i++) {
        snprintf(id, sizeof id, "mid%u", i);
        add(r, MSG_ALERT,
            alert_json("acme", id, "scan.trw", "scan", 47, "192.0.2.1", 5, "{}", "m"));
    }
    for (unsigned k = 0; k < 3; k++) /* a low incident with three updates: left out */
        add(r, MSG_ALERT,
            alert_json("acme", "low", "scan.trw", "scan", 21, "192.0.2.9", 5 + k, "{}", "m"));
    /* a critical one replaces mid0; mid0's later update must not make it again */
    add(r, MSG_ALERT,
        alert_json("acme", "crit", "flood.pps", "flood", 99, "192.0.2.2", 9, "{}", "m"));
    add(r, MSG_ALERT,
        alert_json("acme", "mid0", "scan.trw", "scan", 99, "192.0.2.1", 10, "{}", "m"));
    const struct rp_customer *c = rp_find(r, "acme");
    assert_int_equal(c->incidents, REPORT_INCIDENTS + 2);
    assert_int_equal(c->inc_left_out, 2);
    assert_int_equal(c->alerts_left_out, 5);
    for (uint32_t i = 0; i < c->ninc; i++)
        assert_string_not_equal(c->inc[i].id, "mid0");
    for (uint32_t i = 0; i < c->nhosts; i++) {
        if (strcmp(c->hosts[i].ip, "192.0.2.9") == 0)
            assert_int_equal(c->hosts[i].incidents, 1);
        if (strcmp(c->hosts[i].ip, "192.0.2.1") == 0)
            assert_int_equal(c->hosts[i].incidents, REPORT_INCIDENTS);
    }
    char *html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "(69 alerts, 66 incidents)"));
    free(html);
    char *txt = render(r, false, NULL, NULL);
    assert_non_null(strstr(txt, "69 alerts, 66 incidents;"));
    free(txt);
    report_free(r);
}

/* A report directory whose disk is full: the page that cannot be written is logged and the
 * customer's page written before stays listed (GET /report/ID served it no more: 404 "no
 * report for this customer" while the page was on disk); the failure is told to the caller
 * (report_write_errors_total, /healthz), which only the log knew. */
static void test_dir_full_keeps_last_page(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    assert_int_equal(add(r, MSG_SUMMARY, summary_json("acme", 0, 100, 200, 0.01)), 0);
    char *dir = tmpdir_make("tw_report_dir");
    struct report_page pages[4];
    memset(pages, 0, sizeof pages);
    struct report_dir_failure fail = {.pages = 7, .error = 1};
    assert_int_equal(report_dir_write(r, dir, 3, 1700000000000ULL, pages, 4, &fail), 1);
    assert_int_equal(fail.pages, 0);
    assert_int_equal(fail.error, 0);
    char first[sizeof pages[0].path];
    snprintf(first, sizeof first, "%s", pages[0].path);
    assert_int_equal(access(first, R_OK), 0);
    struct rlimit lim = *fsize_saved();
    lim.rlim_cur = 64; /* a page is kilobytes: a full disk */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(report_dir_write(r, dir, 3, 1700000300000ULL, pages, 4, &fail), 1);
    fsize_restore(NULL);
    assert_int_equal(fail.pages, 1);
    assert_int_equal(fail.error, EFBIG);
    assert_string_equal(pages[0].id, "acme");
    assert_string_equal(pages[0].path, first);
    assert_int_equal(access(first, R_OK), 0);
    assert_string_equal(pages[1].id, ""); /* nothing else listed */
    /* room again: the new page is listed */
    assert_int_equal(report_dir_write(r, dir, 3, 1700000600000ULL, pages, 4, &fail), 1);
    assert_int_equal(fail.pages, 0);
    assert_int_equal(fail.error, 0);
    assert_string_not_equal(pages[0].path, first);
    assert_int_equal(access(pages[0].path, R_OK), 0);
    tmpdir_remove(dir);
    free(dir);
    report_free(r);
}

/* The 24-hour hostile and active hosts the page gives are those of the window with the
 * highest 24-hour share, not two maxima of different windows: the evaluation scenario's badco
 * read "at most 23 of 283 active" (8.1 %) beside "8.4 % over 24 hours" (23 of 274). */
static void test_share_with_its_hosts(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    static const unsigned day[][2] = {{23, 274}, {23, 283}, {20, 290}}; /* hostile, active */
    for (unsigned w = 0; w < 3; w++) {
        char j[1024];
        snprintf(j, sizeof j,
                 "{\"@timestamp\":\"2008-09-20T00:%02u:00.000Z\",\"event\":{\"kind\":\"metric\"},"
                 "\"organization\":{\"id\":\"acme\"},\"transitwatch\":{\"window\":{\"start\":"
                 "\"2008-09-20T00:%02u:00.000Z\"},\"active_hosts\":40,\"hostile_hosts\":1,"
                 "\"hostile_share\":0.025,\"last_24h\":{\"active_hosts\":%u,\"hostile_hosts\":%u,"
                 "\"hostile_share\":%.4f}}}",
                 5 * w + 5, 5 * w, day[w][1], day[w][0], (double)day[w][0] / day[w][1]);
        assert_int_equal(add(r, MSG_SUMMARY, j), 0);
    }
    char *html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "8.4 % over 24 hours (23 of 274 active hosts)"));
    free(html);
    char *txt = render(r, false, "acme", NULL);
    assert_non_null(strstr(txt, "8.4 % over 24 hours (23 of 274 active hosts)"));
    free(txt);
    report_free(r);
}

/* The ids a customer's incident count tells apart are bounded (REPORT_IDS): beyond them the
 * count is a lower bound and says so. */
static void test_incidents_count_bounded(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    char id[32];
    for (unsigned i = 0; i < REPORT_IDS + 10; i++) {
        snprintf(id, sizeof id, "i%u", i);
        add(r, MSG_ALERT,
            alert_json("acme", id, "scan.trw", "scan", 47, "192.0.2.1", 5, "{}", "m"));
    }
    const struct rp_customer *c = rp_find(r, "acme");
    assert_true(c->ids_full);
    assert_int_equal(c->incidents, REPORT_IDS);
    assert_true(c->cap_ids <= 2 * REPORT_IDS);
    char *html = render(r, true, NULL, NULL);
    char want[64];
    snprintf(want, sizeof want, "at least %u incidents)", REPORT_IDS);
    assert_non_null(strstr(html, want));
    free(html);
    report_free(r);
}

static void test_filters(void **state)
{
    (void)state;
    struct report_opts o = {.customer = "acme", .threshold_share = 0.05};
    uint64_t since = 0, until = 0;
    assert_true(tf_datetime("2008-09-20 00:10:00", 19, &since));
    assert_true(tf_datetime("2008-09-20T00:20:00Z", 20, &until));
    o.since_ms = since;
    o.until_ms = until;
    struct report *r = mk(&o);
    assert_int_equal(
        add(r, MSG_ALERT,
            alert_json("acme", "a", "scan.trw", "scan", 47, "h", 5, "{}", "too early")),
        1);
    assert_int_equal(
        add(r, MSG_ALERT, alert_json("acme", "b", "scan.trw", "scan", 47, "h", 12, "{}", "in")), 0);
    assert_int_equal(
        add(r, MSG_ALERT, alert_json("other", "c", "scan.trw", "scan", 47, "h", 12, "{}", "other")),
        1);
    assert_int_equal(
        add(r, MSG_ALERT,
            alert_json("acme", "d", "scan.trw", "scan", 47, "h", 20, "{}", "too late")),
        1);
    /* the run's totals are not of the period: the report says so, not that none were read */
    const char *tot = "{\"message\":\"transitwatch totals\",\"@timestamp\":"
                      "\"2008-09-20T00:30:00.000Z\",\"transitwatch\":{\"totals\":{\"records\":9}}}";
    assert_int_equal(add(r, MSG_TOTALS, tot), 1);
    assert_string_equal(rp_limits(r), "The totals read are of whole runs, not of this period or "
                                      "customer: what the figures leave out (records unmatched "
                                      "or missing, hosts evicted) is not known here.");
    assert_int_equal(r->ncust, 1);
    assert_int_equal(r->filtered, 4);
    struct report_contact k = {.name = "Acme", .abuse = "abuse@acme.example"};
    char *txt = render(r, false, "acme", &k);
    assert_non_null(strstr(txt, "To: abuse@acme.example"));
    assert_non_null(strstr(txt, "scan.trw"));
    assert_non_null(
        strstr(txt, "listed: 198.18.7.7/32 is listed on feodo <https://example.org/SBL1>"));
    assert_null(strstr(txt, "too early"));
    free(txt);
    report_free(r);
}

/* The period a report states starts where its earliest window starts, not at that window's
 * end (@timestamp): an abuse report said "00:05 to 00:15" above an incident of 00:00; a run
 * without alerts or summaries said "from 1970-01-01 00:00 to 1970-01-01 00:00 UTC". */
static void test_period_from_window_start(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    /* only a totals line (a run whose records matched no customer): no period, not 1970 */
    const char *tot = "{\"message\":\"transitwatch totals\",\"@timestamp\":"
                      "\"2008-09-10T00:10:00.000Z\",\"transitwatch\":{\"totals\":{\"records\":9}}}";
    assert_int_equal(add(r, MSG_TOTALS, tot), 0);
    char *page = render(r, true, NULL, NULL);
    assert_non_null(strstr(page, "no period: no alert or window summary read"));
    assert_null(strstr(page, "1970"));
    free(page);
    page = render(r, false, NULL, NULL);
    assert_null(strstr(page, "1970"));
    free(page);
    assert_int_equal(add(r, MSG_SUMMARY, summary_json("acme", 0, 100, 200, 0.01)), 0);
    assert_int_equal(add(r, MSG_SUMMARY, summary_json("acme", 1, 100, 200, 0.01)), 0);
    struct report_contact k = {.name = "Acme", .abuse = "abuse@acme.example"};
    char *txt = render(r, false, "acme", &k);
    assert_non_null(strstr(txt, "\n2008-09-10 00:00 to 2008-09-10 00:10 UTC\n"));
    free(txt);
    char *html = render(r, true, "acme", &k);
    assert_non_null(strstr(html, "Period: 2008-09-10 00:00 to 2008-09-10 00:10 UTC"));
    free(html);
    html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "summaries), 2008-09-10 00:00 to 2008-09-10 00:10 UTC;"));
    free(html);
    report_free(r);
}

/* The whole report says what the run's figures leave out, from its totals line: records that
 * matched no customer or went missing, hosts evicted from a full host table (the evaluation
 * scenario with hosts_max 1024 evicted 16 224 and the page said nothing of it). */
static void test_totals_not_seen(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    assert_int_equal(add(r, MSG_SUMMARY, summary_json("acme", 0, 100, 200, 0.01)), 0);
    char *html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "No totals were read"));
    free(html);
    const char *lossy = "{\"message\":\"transitwatch totals\",\"transitwatch\":{\"totals\":"
                        "{\"records\":90,\"flows_unmatched\":3,\"host_evictions\":16224,"
                        "\"decode\":{\"seq_lost\":38},\"detectors\":{\"beacon\":"
                        "{\"sampled_skipped\":218782}}}}}";
    assert_int_equal(add(r, MSG_TOTALS, lossy), 0);
    html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "Limits of these figures: 3 flow records matched no customer; "
                                 "38 missing by the exporters"));
    assert_non_null(strstr(html, "; 16224 hosts evicted from the full host table"));
    assert_non_null(strstr(html, "; 218782 sampled records the beacon detector did not use"));
    free(html);
    char *txt = render(r, false, NULL, NULL); /* the text report says it too */
    assert_non_null(strstr(txt, "\nLimits of these figures: 3 flow records matched no customer; "));
    free(txt);
    const char *clean = "{\"message\":\"transitwatch totals\",\"transitwatch\":{\"totals\":"
                        "{\"records\":90,\"flows_unmatched\":0,\"host_evictions\":0}}}";
    assert_int_equal(add(r, MSG_TOTALS, clean), 0);
    html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "Limits of these figures: nothing"));
    assert_null(strstr(html, "evicted from"));
    free(html);
    report_free(r);
}

static void test_html_self_contained(void **state)
{
    (void)state;
    struct report_opts o = {.config = "[pipeline]\nwindow = 300 <b>\n", .threshold_share = 0.05};
    struct report *r = mk(&o);
    add(r, MSG_ALERT,
        alert_json("acme", "e1", "beacon.fast", "beacon", 73, "192.0.2.10", 10,
                   "{\"intervals_s\":[60.1,59.8,60.3]}", "<script>x</script> & co"));
    add(r, MSG_SUMMARY, summary_json("acme", 1, 100, 200, 0.07));
    add(r, MSG_SUMMARY, summary_json("acme", 2, 100, 200, 0.02));
    char *html = render(r, true, NULL, NULL);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt; &amp; co"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    assert_non_null(strstr(html, "class=\"timeline traffic\""));
    assert_non_null(strstr(html, "class=\"timeline share\""));
    assert_non_null(strstr(html, "class=\"alerts\""));
    assert_non_null(strstr(html, "class=\"hist\""));
    assert_non_null(strstr(html, "window = 300 &lt;b&gt;"));
    assert_non_null(strstr(html, "threshold 5.0 %: <b>crossed</b>"));
    free(html);
    report_free(r);
}

/* The worst case: every customer and incident slot full of long messages. The page stays
 * under 5 MB: REPORT_SHOW_CUSTOMERS customers in full, a row for each of the others. */
static void test_page_bounded(void **state)
{
    (void)state;
    struct report *r = mk(NULL);
    char cust[32], id[32], msg[400];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    const char *ev = "{\"intervals_s\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"
                     "\"a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                     "\"b\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
                     "\"c\":\"ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"}";
    for (unsigned c = 0; c < REPORT_MAX_CUSTOMERS + 10; c++) {
        snprintf(cust, sizeof cust, "c%u", c);
        for (unsigned w = 0; w < REPORT_POINTS; w++)
            add(r, MSG_SUMMARY, summary_json(cust, w, 1000 + w, 2000, 0.1));
        for (unsigned i = 0; i < REPORT_INCIDENTS; i++) {
            snprintf(id, sizeof id, "%u-%u", c, i);
            for (unsigned u = 0; u < 3; u++)
                add(r, MSG_ALERT,
                    alert_json(cust, id, "beacon.fast", "beacon", 73, "192.0.2.1", 5 * u, ev, msg));
        }
    }
    assert_int_equal(r->ncust, REPORT_MAX_CUSTOMERS);
    assert_true(r->cust_left_out > 0);
    char *html = render(r, true, NULL, NULL);
    size_t len = strlen(html);
    assert_true(len < 5000000);
    assert_non_null(strstr(html, "more customers</h2>"));
    free(html);
    html = render(r, true, "c3", NULL); /* one customer's page (the daemon's) */
    assert_true(strlen(html) < 400000);
    free(html);
    report_free(r);
    print_message("worst-case page: %zu bytes\n", len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incidents_grouped),
        cmocka_unit_test(test_timeline_bounded),
        cmocka_unit_test(test_incidents_bounded),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_period_from_window_start),
        cmocka_unit_test(test_totals_not_seen),
        cmocka_unit_test(test_share_with_its_hosts),
        cmocka_unit_test(test_incidents_count_bounded),
        cmocka_unit_test(test_incidents_counted_beyond_table),
        cmocka_unit_test_setup_teardown(test_dir_full_keeps_last_page, fsize_save, fsize_restore),
        cmocka_unit_test(test_html_self_contained),
        cmocka_unit_test(test_page_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
