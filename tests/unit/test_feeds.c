/* test_feeds.c: blocklist feed loaders (lists/feeds.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text_fuzz_util.h"

#include "addr.h"
#include "feeds.h"

static struct feed *load_fmt(const char *text, size_t len, enum feed_format fmt)
{
    struct feed *f = NULL;
    struct conf_error err;
    memset(&err, 0, sizeof(err));
    if (feed_load_mem("t", "t.txt", text, len, fmt, 0, &f, &err) != 0)
        fail_msg("unexpected error: %s", err.msg);
    assert_non_null(f);
    return f;
}

static struct feed *load(const char *text)
{
    return load_fmt(text, strlen(text), FEED_AUTO);
}

static void load_bad(const char *text, size_t len, enum feed_format fmt, size_t max, unsigned line,
                     const char *needle)
{
    struct feed *f = (struct feed *)1;
    struct conf_error err;
    memset(&err, 0, sizeof(err));
    if (feed_load_mem("t", "bad.txt", text, len, fmt, max, &f, &err) == 0) {
        feed_free(f);
        fail_msg("expected an error for: %.80s", text);
    }
    assert_null(f);
    assert_string_equal(err.file, "bad.txt");
    if (err.line != line || !strstr(err.msg, needle))
        fail_msg("expected line %u '%s', got line %u '%s'", line, needle, err.line, err.msg);
}

static const struct feed_entry *match(const struct feed *f, const char *a)
{
    uint8_t addr[16];
    assert_int_equal(addr_parse(a, addr), 0);
    return feed_match(f, addr);
}

static const char *match_listing(const struct feed *f, const char *a)
{
    const struct feed_entry *e = match(f, a);
    return e ? e->listing : "-";
}

static const char *entry_str(const struct feed_entry *e, char *buf, size_t len)
{
    return prefix_format(&e->p, buf, len);
}

static void test_drop(void **state)
{
    (void)state;
    const char *t = "; Spamhaus DROP List 2024/01/02 - (c) 2024 The Spamhaus Project SLU\n"
                    "; https://www.spamhaus.org/drop/drop.txt\n"
                    "; Last-Modified: Tue, 02 Jan 2024 10:00:00 GMT\n"
                    "; Expires: Wed, 03 Jan 2024 11:22:33 GMT\n"
                    "1.10.16.0/20 ; SBL256894\n"
                    "  5.8.37.0/24 ;SBL284078   \r\n"
                    "2001:db8::/32 ; SBL9\n"
                    "203.0.113.0/24\n"
                    "198.51.100.0/24 ; SBL1 ; extra\n"
                    "1.10.16.0/20 ; SBL256894\n"; /* duplicate */
    struct feed *f = load(t);
    assert_int_equal(feed_format_of(f), FEED_DROP);
    assert_string_equal(feed_name(f), "t");
    const struct feed_stats *st = feed_stats(f);
    assert_int_equal(st->entries, 5);
    assert_int_equal(st->duplicates, 1);
    assert_int_equal(st->malformed, 0);
    assert_int_equal(st->lines, 10);
    assert_int_equal(st->expires_unix, 1704280953);       /* 2024-01-03 11:22:33 UTC */
    assert_int_equal(st->last_modified_unix, 1704189600); /* 2024-01-02 10:00:00 UTC */
    assert_string_equal(match_listing(f, "1.10.20.1"), "SBL256894");
    assert_string_equal(match_listing(f, "5.8.37.255"), "SBL284078");
    assert_string_equal(match_listing(f, "2001:db8:ffff::1"), "SBL9");
    assert_string_equal(match_listing(f, "203.0.113.9"), "");
    assert_string_equal(match_listing(f, "198.51.100.1"), "SBL1");
    assert_string_equal(match_listing(f, "1.10.32.0"), "-");
    assert_int_equal(match(f, "5.8.37.1")->line, 6);

    char w[512];
    assert_int_equal(feed_warning(f, 1704280953, w, sizeof(w)), 0); /* at Expires: fine */
    assert_true(feed_warning(f, 1704280954 + 3600, w, sizeof(w)) > 0);
    assert_non_null(strstr(w, "past its Expires by 3601 s"));
    feed_free(f);

    /* EDROP-style and forced format */
    const char *t2 = "; EDROP\n1.2.3.0/24 ; SBL1\n";
    f = load_fmt(t2, strlen(t2), FEED_DROP);
    assert_int_equal(feed_stats(f)->expires_unix, 0);
    feed_free(f);
}

static void test_dates(void **state)
{
    (void)state;
    static const struct {
        const char *hdr;
        int64_t want;
    } cases[] = {
        {"; Expires: Thu, 01 Jan 1970 00:00:01 GMT", 1},
        {"; Expires: Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
        {"; Expires: 6 Nov 1994 08:49:37 GMT", 784111777},
        {"; expires:   Sun, 06 Nov 1994 08:49:37 +0000", 784111777},
        {"; Expires: Sun, 06 Nov 1994 08:49:37", 784111777},
        {"; Expires: Thu, 29 Feb 2024 23:59:59 UTC", 1709251199},
        {"; Expires: Fri, 31 Dec 2species 00:00:00 GMT", 0},
        {"; Expires: Sun, 32 Nov 1994 08:49:37 GMT", 0},
        {"; Expires: Sun, 06 Foo 1994 08:49:37 GMT", 0},
        {"; Expires: Sun, 06 Nov 1994 24:00:00 GMT", 0},
        {"; Expires: Sun, 06 Nov 1994 08:49:37 PST", 0},
        {"; Expires: ", 0},
        {"; Expires: 99999999999999999999", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char t[256];
        snprintf(t, sizeof(t), "%s\n192.0.2.0/24 ; SBL1\n", cases[i].hdr);
        struct feed *f = load(t);
        if (feed_stats(f)->expires_unix != cases[i].want)
            fail_msg("%s: got %lld", cases[i].hdr, (long long)feed_stats(f)->expires_unix);
        feed_free(f);
    }
}

static void test_json(void **state)
{
    (void)state;
    const char *t =
        "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n"
        "  { \"rir\" : \"ripencc\", \"cidr\" : \"5.8.37.0\\/24\", \"sblid\":\"SBL\\u0032\" }\r\n"
        "{\"cidr\":\"2001:db8::/32\",\"sblid\":\"SBL3\",\"extra\":{\"a\":[1,2,{\"b\":\"}\"}]},"
        "\"n\":-1.5e3,\"t\":true,\"z\":null}\n"
        "{\"cidr\":\"1.2.3.4/24\",\"sblid\":\"SBL4\"}\n" /* host bits */
        "{\"cidr\":\"2.0.0.0/7\",\"sblid\":\"SBL5\"}\n"  /* too wide */
        "{\"cidr\":\"1.2.3.0/24\",\"sblid\":\"SBL6\"\n"  /* no closing brace */
        "{\"sblid\":\"SBL7\"}\n"                         /* no cidr */
        "{\"cidr\":\"1.2.3.0/24\"} trailing\n"
        "{\"cidr\":\"1.2.3.0/24\",\"x\":\"\\q\"}\n" /* bad escape */
        "{\"cidr\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n"
        "{\"cidr\":42}\n"
        "[1,2]\n"
        "{\"type\":\"metadata\",\"timestamp\":1704189600,\"size\":1234,\"records\":12,"
        "\"copyright\":\"(c) 2024 The Spamhaus Project SLU\",\"terms\":\"https://x\"}\n";
    struct feed *f = load(t);
    assert_int_equal(feed_format_of(f), FEED_SPAMHAUS_JSON);
    const struct feed_stats *st = feed_stats(f);
    assert_int_equal(st->entries, 3);
    assert_int_equal(st->host_bits, 1);
    assert_int_equal(st->too_wide, 1);
    assert_int_equal(st->malformed, 7);
    assert_int_equal(st->first_bad_line, 4);
    assert_int_equal(st->nbad_kept, FEED_BAD_LINES_KEPT);
    assert_int_equal(st->bad_lines[1], 5);
    assert_int_equal(st->bad_lines[3], 7);
    assert_int_equal(st->last_modified_unix, 1704189600);
    assert_int_equal(st->records_declared, 12);
    assert_string_equal(match_listing(f, "1.10.16.1"), "SBL256894");
    assert_string_equal(match_listing(f, "5.8.37.1"), "SBL2");
    assert_string_equal(match_listing(f, "2001:db8::1"), "SBL3");
    char w[512];
    assert_true(feed_warning(f, 0, w, sizeof(w)) > 0);
    assert_non_null(strstr(w, "skipped 9 bad lines"));
    assert_non_null(strstr(w, "lines 4,5,6,7,..."));
    assert_null(strstr(w, "metadata declares")); /* 12 data lines = 12 records */
    feed_free(f);

    /* no metadata line: loads, warns */
    const char *t2 = "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL1\"}\n";
    f = load(t2);
    assert_true(feed_warning(f, 0, w, sizeof(w)) > 0);
    assert_non_null(strstr(w, "no metadata line"));
    feed_free(f);
    /* metadata only: a DROP JSON list is never empty */
    const char *t3 = "{\"type\":\"metadata\",\"timestamp\":1,\"records\":0}\n";
    load_bad(t3, strlen(t3), FEED_AUTO, 0, 0, "never empty");
}

static void test_plain(void **state)
{
    (void)state;
    const char *t = "################################################################\n"
                    "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist                #\n"
                    "# Last updated: 2024-01-02 10:00:00 UTC                        #\n"
                    "#\n"
                    "# DstIP\n"
                    "192.0.2.1\n"
                    "198.51.100.0/24   # a whole net\n"
                    "203.0.113.7;note\n"
                    "\t2001:DB8::1 \n"
                    "::ffff:198.18.0.1\n"
                    "192.0.2.1\n"
                    "192.0.2.2 junk\n"
                    "192.0.2.3,x\n"
                    "fe80::1%eth0\n"
                    "1.2.3.4.5\n"
                    "0.0.0.0/0\n"
                    "::/0\n"
                    "::/8\n"
                    "::/80\n"
                    "\xe2\x98\x83\xf0\x9f\x92\xa9\n"
                    "192.0.3.0/23\n" /* host bits */
                    "# END\n";
    struct feed *f = load(t);
    assert_int_equal(feed_format_of(f), FEED_PLAIN);
    const struct feed_stats *st = feed_stats(f);
    assert_int_equal(st->entries, 5);
    assert_int_equal(st->duplicates, 1);
    assert_int_equal(st->last_modified_unix, 1704189600);
    assert_int_equal(st->malformed, 5);
    assert_int_equal(st->too_wide, 4);
    assert_int_equal(st->host_bits, 1);
    assert_int_equal(st->first_bad_line, 12);
    assert_string_equal(st->first_bad_reason, "text after the address");
    assert_non_null(match(f, "192.0.2.1"));
    assert_null(match(f, "192.0.2.2"));
    assert_non_null(match(f, "198.51.100.200"));
    assert_non_null(match(f, "203.0.113.7"));
    assert_non_null(match(f, "2001:db8::1"));
    assert_null(match(f, "2001:db8::2"));
    assert_non_null(match(f, "198.18.0.1")); /* mapped form is the IPv4 address */
    feed_free(f);

    /* comments only: a valid empty list (Feodo "recommended" is often empty) */
    const char *t2 = "# abuse.ch Feodo Tracker\n# Last updated: 2024-01-02 10:00:00 UTC\n";
    f = load(t2);
    assert_int_equal(feed_stats(f)->entries, 0);
    assert_null(match(f, "192.0.2.1"));
    feed_free(f);
}

static void test_feodo_csv(void **state)
{
    (void)state;
    const char *t =
        "################################################################\n"
        "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #\n"
        "# Last updated: 2024-01-02 10:00:00 UTC                        #\n"
        "#\n"
        "# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
        "\"2021-01-17 07:44:46\",\"51.178.161.32\",\"4643\",\"online\",\"2021-08-18\",\"Dridex\"\n"
        "\"2021-01-18 07:44:46\",\"51.178.161.32\",\"443\",\"online\",\"2021-08-18\",\"Dridex\"\n"
        "\"2021-01-19 07:44:46\",\"51.178.161.32\",\"443\",\"online\",\"2021-08-18\",\"Emotet\"\n"
        "\"2021-01-20 07:44:46\",\"192.0.2.9\",\"\",\"offline\",\"2021-08-18\",\"Qak\"\"Bot\\x\"\n"
        "\"2021-01-20 07:44:46\",\"192.0.2.10\",\"65536\",\"offline\",\"\",\"X\"\n"
        "\"2021-01-20 07:44:46\",\"192.0.2.11\",\"44x\",\"offline\",\"\",\"X\"\n"
        "\"2021-01-20 07:44:46\"\n"
        "\"2021-01-20 07:44:46\",\"192.0.2.12\n"
        "\"2021-01-20\",\"192.0.2.13\",\"80\",\"online\",\"2021\","
        "\"AVeryLongMalwareFamilyNameIndeed\"\n"
        "# Number of entries: 4\n";
    struct feed *f = load(t);
    assert_int_equal(feed_format_of(f), FEED_FEODO_CSV);
    const struct feed_stats *st = feed_stats(f);
    assert_int_equal(st->entries, 4); /* .32:443, .32:4643, .9, .13 */
    assert_int_equal(st->duplicates, 1);
    assert_int_equal(st->malformed, 4);
    assert_int_equal(st->first_bad_line, 10);
    assert_string_equal(st->first_bad_reason, "bad port");
    assert_int_equal(st->last_modified_unix, 1704189600);

    uint8_t a[16];
    bool pm;
    assert_int_equal(addr_parse("51.178.161.32", a), 0);
    const struct feed_entry *e = feed_match_port(f, a, 443, &pm);
    assert_non_null(e);
    assert_true(pm);
    assert_int_equal(e->port, 443);
    assert_string_equal(e->malware, "Dridex"); /* the first line wins on a duplicate */
    assert_int_equal(e->line, 7);
    e = feed_match_port(f, a, 4643, &pm);
    assert_true(pm);
    assert_int_equal(e->port, 4643);
    e = feed_match_port(f, a, 22, &pm);
    assert_non_null(e);
    assert_false(pm);
    assert_non_null(feed_match(f, a));

    assert_int_equal(addr_parse("192.0.2.9", a), 0);
    e = feed_match_port(f, a, 22, &pm);
    assert_non_null(e);
    assert_int_equal(e->port, 0);
    assert_false(pm);
    assert_string_equal(e->malware, "Qak?Bot?x");
    e = match(f, "192.0.2.13");
    assert_int_equal(strlen(e->malware), sizeof(e->malware) - 1);
    feed_free(f);

    /* header-less CSV in Feodo's column order, and a header in another order */
    const char *t2 =
        "\"2021-01-17 07:44:46\",\"192.0.2.1\",\"8080\",\"online\",\"x\",\"TrickBot\"\n";
    f = load(t2);
    assert_int_equal(feed_format_of(f), FEED_FEODO_CSV);
    assert_int_equal(match(f, "192.0.2.1")->port, 8080);
    feed_free(f);
    const char *t3 = "malware,dst_port,dst_ip\nPikabot,2222,192.0.2.5\n";
    f = load_fmt(t3, strlen(t3), FEED_FEODO_CSV);
    e = match(f, "192.0.2.5");
    assert_int_equal(e->port, 2222);
    assert_string_equal(e->malware, "Pikabot");
    feed_free(f);
}

static void test_detect_and_names(void **state)
{
    (void)state;
    enum feed_format fmt;
    assert_int_equal(feed_format_parse("drop", &fmt), 0);
    assert_int_equal(fmt, FEED_DROP);
    assert_int_equal(feed_format_parse("SPAMHAUS-JSON", &fmt), 0);
    assert_int_equal(fmt, FEED_SPAMHAUS_JSON);
    assert_int_equal(feed_format_parse("feodo-csv", &fmt), 0);
    assert_int_equal(fmt, FEED_FEODO_CSV);
    assert_int_equal(feed_format_parse("plain", &fmt), 0);
    assert_int_equal(fmt, FEED_PLAIN);
    assert_int_equal(feed_format_parse("auto", &fmt), 0);
    assert_int_equal(fmt, FEED_AUTO);
    assert_int_equal(feed_format_parse("xml", &fmt), -EINVAL);
    assert_int_equal(feed_format_parse(NULL, &fmt), -EINVAL);
    assert_string_equal(feed_format_name(FEED_FEODO_CSV), "feodo-csv");

    struct {
        const char *text;
        enum feed_format want;
    } cases[] = {
        {"\n\n# x\n1.2.3.0/24 ; SBL1\n", FEED_DROP},
        {"# x\n1.2.3.4\n", FEED_PLAIN},
        {"1.2.3.4 # x;y\n", FEED_PLAIN},
        {"\xEF\xBB\xBF{\"cidr\":\"1.2.3.0/24\"}\n", FEED_SPAMHAUS_JSON},
        {"x,1.2.3.4,443\n", FEED_FEODO_CSV},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct feed *f = load(cases[i].text);
        assert_int_equal(feed_format_of(f), cases[i].want);
        feed_free(f);
    }

    struct feed *f = NULL;
    struct conf_error err;
    assert_int_equal(feed_load_mem("bad name", "x", "1.2.3.4\n", 8, FEED_AUTO, 0, &f, &err),
                     -EINVAL);
    assert_int_equal(feed_load_mem("", "x", "1.2.3.4\n", 8, FEED_AUTO, 0, &f, &err), -EINVAL);
    assert_int_equal(feed_load_mem("a-very-long-feed-name-over-31-chars", "x", "1.2.3.4\n", 8,
                                   FEED_AUTO, 0, &f, &err),
                     -EINVAL);
    assert_int_equal(feed_load_mem("ok", "x", "1.2.3.4\n", 8, (enum feed_format)99, 0, &f, &err),
                     -EINVAL);
}

static void test_hostile_lines(void **state)
{
    (void)state;
    /* overlong lines, NUL bytes, CRLF, unicode junk: skipped and counted */
    size_t cap = 3 * FEED_MAX_LINE + 200;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t w = 0;
    w += (size_t)snprintf(t + w, cap - w, "192.0.2.1\r\n");
    memset(t + w, '1', FEED_MAX_LINE + 1);
    w += FEED_MAX_LINE + 1;
    t[w++] = '\n';
    t[w++] = '#'; /* an overlong comment is still a comment */
    memset(t + w, 'c', FEED_MAX_LINE + 10);
    w += FEED_MAX_LINE + 10;
    t[w++] = '\n';
    memcpy(t + w, "192.0.2.2\0\n", 11);
    w += 11;
    memcpy(t + w, "192.0.2.3\r\n", 11);
    w += 11;
    memcpy(t + w, "\xff\xfe\x00\x01\n\xc3\x28\n", 8);
    w += 8;
    memcpy(t + w, "192.0.2.4", 9); /* no final newline */
    w += 9;
    struct feed *f = load_fmt(t, w, FEED_PLAIN);
    const struct feed_stats *st = feed_stats(f);
    assert_int_equal(st->entries, 3);
    assert_int_equal(st->malformed, 4);
    assert_int_equal(st->first_bad_line, 2);
    assert_string_equal(st->first_bad_reason, "line too long");
    assert_int_equal(st->bad_lines[1], 4);
    assert_int_equal(st->lines, 8);
    assert_null(match(f, "192.0.2.2"));
    assert_non_null(match(f, "192.0.2.4"));
    feed_free(f);
    free(t);
}

static void test_load_errors(void **state)
{
    (void)state;
    load_bad("", 0, FEED_AUTO, 0, 0, "empty file");
    load_bad(" \r\n\n\t\n", 5, FEED_AUTO, 0, 0, "empty file");
    const char *t = "# header\nnot-an-ip\n1.2.3.4/99\n";
    load_bad(t, strlen(t), FEED_AUTO, 0, 2, "no valid entry: 2 bad lines, first at line 2");
    t = "; DROP header only\n; Expires: Sun, 06 Nov 1994 08:49:37 GMT\n";
    load_bad(t, strlen(t), FEED_AUTO, 0, 0, "never empty");
    t = "1.2.3.4\n1.2.3.5\n1.2.3.6\n";
    load_bad(t, strlen(t), FEED_PLAIN, 2, 3, "more than 2 entries");
    struct feed *f = NULL;
    struct conf_error err;
    assert_int_equal(feed_load_mem("t", "x", t, strlen(t), FEED_PLAIN, 3, &f, &err), 0);
    assert_int_equal(feed_stats(f)->entries, 3);
    feed_free(f);
    memset(&err, 0, sizeof(err));
    assert_int_equal(feed_load("t", "/nonexistent/drop.txt", FEED_AUTO, 0, &f, &err), -ENOENT);
    assert_null(f);
    assert_string_equal(err.file, "/nonexistent/drop.txt");
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(feed_load("t", "/", FEED_AUTO, 0, &f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a regular file"));
}

struct ov {
    char seen[8][64];
    int n, stop_at;
};

static int ov_cb(void *arg, const struct feed_entry *e)
{
    struct ov *o = arg;
    if (o->n < 8)
        prefix_format(&e->p, o->seen[o->n], sizeof(o->seen[0]));
    o->n++;
    return o->stop_at && o->n >= o->stop_at;
}

static void test_overlaps(void **state)
{
    (void)state;
    const char *t = "10.0.0.0/8 ; SBL1\n10.1.0.0/16 ; SBL2\n10.1.2.0/24 ; SBL3\n"
                    "11.0.0.0/8 ; SBL4\n2001:db8::/32 ; SBL5\n";
    struct feed *f = load(t);
    struct prefix p;
    struct ov o;

    /* a customer's /24 inside listed space: the /8, /16 and /24 all overlap it */
    memset(&o, 0, sizeof(o));
    assert_int_equal(prefix_parse("10.1.2.0/24", false, &p), 0);
    assert_int_equal(feed_overlaps(f, &p, ov_cb, &o), 3);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.seen[0], "10.0.0.0/8");
    assert_string_equal(o.seen[2], "10.1.2.0/24");

    /* a customer's /15 holding listed space */
    memset(&o, 0, sizeof(o));
    assert_int_equal(prefix_parse("10.0.0.0/15", false, &p), 0);
    assert_int_equal(feed_overlaps(f, &p, ov_cb, &o), 3);

    memset(&o, 0, sizeof(o));
    assert_int_equal(prefix_parse("12.0.0.0/8", false, &p), 0);
    assert_int_equal(feed_overlaps(f, &p, ov_cb, &o), 0);

    memset(&o, 0, sizeof(o));
    assert_int_equal(prefix_parse("2001:db8:1::/48", false, &p), 0);
    assert_int_equal(feed_overlaps(f, &p, ov_cb, &o), 1);

    /* stop early */
    memset(&o, 0, sizeof(o));
    o.stop_at = 1;
    assert_int_equal(prefix_parse("10.1.2.0/24", false, &p), 0);
    assert_int_equal(feed_overlaps(f, &p, ov_cb, &o), 1);
    assert_int_equal(feed_overlaps(f, &p, NULL, NULL), 3);
    assert_int_equal(feed_overlaps(NULL, &p, NULL, NULL), 0);

    /* longest match */
    assert_string_equal(match_listing(f, "10.1.2.3"), "SBL3");
    assert_string_equal(match_listing(f, "10.1.3.3"), "SBL2");
    assert_string_equal(match_listing(f, "10.2.3.3"), "SBL1");
    assert_int_equal(feed_entry_count(f), 5);
    char buf[64];
    assert_string_equal(entry_str(feed_entry_at(f, 0), buf, sizeof(buf)), "10.0.0.0/8");
    assert_string_equal(entry_str(feed_entry_at(f, 4), buf, sizeof(buf)), "2001:db8::/32");
    assert_null(feed_entry_at(f, 5));
    feed_free(f);
}

static void test_set(void **state)
{
    (void)state;
    struct feed_set *s = NULL;
    assert_int_equal(feed_set_new(&s), 0);
    for (int i = 0; i < FEED_SET_MAX; i++) {
        char name[16];
        struct feed *f = NULL;
        struct conf_error err;
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(feed_load_mem(name, name, "192.0.2.1\n", 10, FEED_AUTO, 0, &f, &err), 0);
        assert_int_equal(feed_set_add(s, f), 0);
    }
    struct feed *f = NULL;
    struct conf_error err;
    assert_int_equal(feed_load_mem("f3", "x", "192.0.2.1\n", 10, FEED_AUTO, 0, &f, &err), 0);
    assert_int_equal(feed_set_add(s, f), -EEXIST); /* f freed */
    assert_int_equal(feed_load_mem("extra", "x", "192.0.2.1\n", 10, FEED_AUTO, 0, &f, &err), 0);
    assert_int_equal(feed_set_add(s, f), -ENOSPC);
    assert_int_equal(feed_set_add(s, NULL), -EINVAL);
    assert_int_equal(feed_set_count(s), FEED_SET_MAX);
    assert_string_equal(feed_name(feed_set_get(s, 7)), "f7");
    assert_null(feed_set_get(s, FEED_SET_MAX));
    assert_ptr_equal(feed_set_find(s, "f9"), feed_set_get(s, 9));
    assert_null(feed_set_find(s, "nope"));
    feed_set_free(s);
    feed_set_free(NULL);
}

static void test_samples(void **state)
{
    (void)state;
    const char *src = getenv("TW_SRC");
    if (!src) {
        print_message("TW_SRC not set: sample blocklists not checked\n");
        return;
    }
    static const struct {
        const char *file;
        enum feed_format fmt;
        size_t entries;
        const char *probe;
    } cases[] = {
        {"drop.txt", FEED_DROP, 5, "198.18.1.1"},
        {"drop_v6.txt", FEED_DROP, 3, "2001:db8:dead::1"},
        {"drop_v4.json", FEED_SPAMHAUS_JSON, 5, "203.0.113.200"},
        {"feodo.txt", FEED_PLAIN, 4, "192.0.2.200"},
        {"feodo.csv", FEED_FEODO_CSV, 4, "198.18.7.7"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[1024];
        struct feed *f = NULL;
        struct conf_error err;
        snprintf(path, sizeof(path), "%s/configs/blocklists/%s", src, cases[i].file);
        if (feed_load("sample", path, FEED_AUTO, 0, &f, &err) != 0)
            fail_msg("%s", err.msg);
        const struct feed_stats *st = feed_stats(f);
        assert_int_equal(feed_format_of(f), cases[i].fmt);
        assert_int_equal(st->entries, cases[i].entries);
        assert_int_equal(st->malformed + st->host_bits + st->too_wide + st->duplicates, 0);
        assert_non_null(match(f, cases[i].probe));
        assert_true(st->last_modified_unix > 0);
        char w[256];
        assert_int_equal(feed_warning(f, 1767592800, w, sizeof(w)), 0);
        feed_free(f);
    }
}

/* Random and mutated input must never crash (a small in-test fuzz; fixed seed). */
static void test_hostile_random(void **state)
{
    (void)state;
    static const char *seeds[] = {
        "; Expires: Sun, 06 Nov 1994 08:49:37 GMT\n1.10.16.0/20 ; SBL1\n",
        "{\"cidr\":\"1.2.3.0/24\",\"sblid\":\"SBL1\"}\n{\"type\":\"metadata\",\"records\":1}\n",
        "# x\n192.0.2.1 # c\n2001:db8::/32\n",
        "# \"first_seen_utc\",\"dst_ip\",\"dst_port\"\n\"a\",\"192.0.2.1\",\"443\"\n"};
    static const char alphabet[] = "0123456789abcdef.:/,;\"#{}[]\\u\n\r \t\xc3\xff";
    uint32_t x = 777;
    char buf[512];
    for (int it = 0; it < 20000; it++) {
        size_t n =
            tfz_input(&x, it, buf, sizeof(buf), seeds, sizeof(seeds) / sizeof(seeds[0]), alphabet);
        struct feed *f = NULL;
        struct conf_error err;
        if (feed_load_mem("r", "r", buf, n, (enum feed_format)(it % 5), 0, &f, &err) == 0) {
            uint8_t a[16] = {0};
            struct prefix p = {{0}, 0};
            char w[128];
            (void)feed_match_port(f, a, 1, NULL);
            (void)feed_overlaps(f, &p, NULL, NULL);
            (void)feed_warning(f, 1, w, sizeof(w));
            feed_free(f);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop),          cmocka_unit_test(test_dates),
        cmocka_unit_test(test_json),          cmocka_unit_test(test_plain),
        cmocka_unit_test(test_feodo_csv),     cmocka_unit_test(test_detect_and_names),
        cmocka_unit_test(test_hostile_lines), cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_overlaps),      cmocka_unit_test(test_set),
        cmocka_unit_test(test_samples),       cmocka_unit_test(test_hostile_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
