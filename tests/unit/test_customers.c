/* test_customers.c: the customer map loader (lists/customers.c). */
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
#include "customers.h"
#include "trie.h"

static struct customer_map *load_ok(const char *text)
{
    struct customer_map *m = NULL;
    struct conf_error err;
    memset(&err, 0, sizeof(err));
    int rc = customers_load_mem("t.csv", text, strlen(text), NULL, &m, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s:%u: %s", err.file, err.line, err.msg);
    assert_non_null(m);
    return m;
}

/* Expect an error at line with msg containing needle. */
static void load_bad_lim(const char *text, size_t len, const struct customer_limits *lim,
                         unsigned line, const char *needle)
{
    struct customer_map *m = (struct customer_map *)1;
    struct conf_error err;
    memset(&err, 0, sizeof(err));
    int rc = customers_load_mem("bad.csv", text, len, lim, &m, &err);
    if (rc == 0) {
        customers_free(m);
        fail_msg("expected an error for: %.80s", text);
    }
    assert_null(m);
    assert_string_equal(err.file, "bad.csv");
    if (err.line != line || !strstr(err.msg, needle))
        fail_msg("expected line %u '%s', got line %u '%s'", line, needle, err.line, err.msg);
}

static void load_bad(const char *text, unsigned line, const char *needle)
{
    load_bad_lim(text, strlen(text), NULL, line, needle);
}

static uint32_t look(const struct customer_map *m, const char *a)
{
    uint8_t addr[16];
    assert_int_equal(addr_parse(a, addr), 0);
    return customers_lookup(m, addr);
}

static const char *look_id(const struct customer_map *m, const char *a)
{
    const struct customer *c = customers_get(m, look(m, a));
    return c ? c->id : "-";
}

static void test_basic(void **state)
{
    (void)state;
    struct customer_map *m = load_ok("\xEF\xBB\xBF# comment\r\n"
                                     "prefix,customer_id,name,asn\r\n"
                                     "\r\n"
                                     "  # indented comment\n"
                                     "192.0.2.0/24,acme,\"Acme, Inc.\",AS64500\r\n"
                                     "2001:db8::/32 , acme , \"Acme, Inc.\" ,\n"
                                     "198.51.100.7,solo,Solo Ltd\n"
                                     "AS64501,acme,\"Acme, Inc.\"\n"
                                     "203.0.113.0/24,quote,\"Say \"\"hi\"\"\",64502\n"
                                     "198.51.100.0/24,big,Big Co\n"
                                     "10.0.0.0/8,priv,Priv\n");
    assert_int_equal(customers_count(m), 5);
    assert_int_equal(customers_prefix_count(m), 6);
    assert_int_equal(customers_as_count(m), 1);

    const struct customer *acme = customers_find_id(m, "acme");
    assert_non_null(acme);
    assert_string_equal(acme->name, "Acme, Inc.");
    assert_int_equal(acme->asn, 64500);
    assert_int_equal(acme->index, 0);
    assert_int_equal(acme->nprefixes, 2);
    assert_int_equal(acme->line, 5);
    assert_ptr_equal(customers_get(m, 1), acme);

    assert_string_equal(look_id(m, "192.0.2.77"), "acme");
    assert_string_equal(look_id(m, "2001:db8:1:2::3"), "acme");
    assert_string_equal(look_id(m, "198.51.100.7"), "solo"); /* host route beats the /24 */
    assert_string_equal(look_id(m, "198.51.100.8"), "big");
    assert_string_equal(look_id(m, "10.200.0.1"), "priv");
    assert_string_equal(look_id(m, "192.0.3.1"), "-");
    assert_string_equal(look_id(m, "2001:db9::1"), "-");
    assert_string_equal(customers_find_id(m, "solo")->name, "Solo Ltd");
    assert_string_equal(customers_find_id(m, "quote")->name, "Say \"hi\"");
    assert_int_equal(customers_find_id(m, "quote")->asn, 64502);
    assert_null(customers_find_id(m, "nobody"));
    assert_null(customers_find_id(m, ""));

    assert_int_equal(customers_lookup_as(m, 64501), 1);
    assert_int_equal(customers_lookup_as(m, 64500), 0); /* the asn column maps nothing */
    assert_int_equal(customers_lookup_as(m, 0), 0);

    assert_null(customers_get(m, 0));
    assert_null(customers_get(m, 6));
    assert_non_null(customers_get(m, 5));
    assert_int_equal(customers_get(m, 5)->index, 4);

    const struct prefix *ps = NULL;
    assert_int_equal(customers_prefixes(m, 1, &ps), 2);
    char buf[64];
    assert_string_equal(prefix_format(&ps[0], buf, sizeof(buf)), "192.0.2.0/24");
    assert_string_equal(prefix_format(&ps[1], buf, sizeof(buf)), "2001:db8::/32");
    assert_int_equal(customers_prefixes(m, 99, &ps), 0);
    assert_null(ps);
    assert_int_equal(trie_count(customers_trie(m)), 6);
    customers_free(m);

    /* NULL map and empty map */
    uint8_t a[16] = {0};
    assert_int_equal(customers_lookup(NULL, a), 0);
    assert_int_equal(customers_lookup_as(NULL, 1), 0);
    assert_int_equal(customers_count(NULL), 0);
    m = load_ok("# nothing\n\n");
    assert_int_equal(customers_count(m), 0);
    assert_int_equal(customers_lookup(m, a), 0);
    customers_free(m);
    m = load_ok("");
    customers_free(m);
}

static void test_same_customer_rules(void **state)
{
    (void)state;
    /* asn may be omitted on some lines and given on a later one */
    struct customer_map *m = load_ok("192.0.2.0/24,a,A\n"
                                     "198.51.100.0/24,a,A,64500\n"
                                     "203.0.113.0/24,a,A\n"
                                     "192.0.2.0/24,a,A\n" /* repeat: accepted once */
                                     "AS64500,a,A\n"
                                     "AS64500,a,A\n");
    const struct customer *c = customers_find_id(m, "a");
    assert_int_equal(c->asn, 64500);
    assert_int_equal(c->nprefixes, 3);
    assert_int_equal(customers_prefix_count(m), 3);
    assert_int_equal(customers_as_count(m), 1);
    customers_free(m);

    load_bad("192.0.2.0/24,a,A\n198.51.100.0/24,a,B\n", 2, "differs from \"A\" on line 1");
    load_bad("192.0.2.0/24,a,A,1\n198.51.100.0/24,a,A,2\n", 2, "asn 2 differs");
    load_bad("192.0.2.0/24,a,A\n# x\n192.0.2.0/24,b,B\n", 3,
             "192.0.2.0/24 is already mapped to customer 'a' on line 1");
    /* the earliest conflicting line is reported */
    load_bad("198.51.100.0/24,a,A\n192.0.2.0/24,a,A\n192.0.2.0/24,b,B\n198.51.100.0/24,b,B\n", 3,
             "already mapped");
    load_bad("AS1,a,A\nAS1,b,B\n", 2, "AS1 is already mapped to customer 'a' on line 1");
    /* same network written two ways is the same prefix */
    load_bad("2001:db8::/32,a,A\n2001:0DB8:0:0::/32,b,B\n", 2, "already mapped");
}

/* The optional abuse column: kept per customer, may be empty on some lines; old maps (3 or 4
 * columns) load with no contact. */
static void test_abuse_column(void **state)
{
    (void)state;
    static const char text[] = "prefix,customer_id,name,asn,abuse\n"
                               "192.0.2.0/25,a,A,64500,abuse@a.example\n"
                               "198.51.100.0/24,a,A,,\n"
                               "203.0.113.0/24,b,B\n"
                               "2001:db8::/32,c,C,64501\n";
    struct customer_map *m = NULL;
    struct conf_error err;
    assert_int_equal(customers_load_mem("t.csv", text, strlen(text), NULL, &m, &err), 0);
    assert_string_equal(customers_abuse(m, customers_find_id(m, "a")), "abuse@a.example");
    assert_string_equal(customers_abuse(m, customers_find_id(m, "b")), "");
    assert_string_equal(customers_abuse(m, customers_find_id(m, "c")), "");
    assert_int_equal(customers_find_id(m, "c")->asn, 64501);
    customers_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    char id64[80], name128[200], big[CUSTOMERS_MAX_LINE + 100];

    load_bad("# c\n300.1.2.3/24,a,A\n", 2, "invalid prefix '300.1.2.3/24'");
    load_bad("192.0.2.0/33,a,A\n", 1, "invalid prefix");
    load_bad("192.0.2.0/,a,A\n", 1, "invalid prefix");
    load_bad("192.0.2.0/024,a,A\n", 1, "invalid prefix");
    load_bad("2001:db8::g/48,a,A\n", 1, "invalid prefix");
    load_bad("fe80::1%eth0,a,A\n", 1, "invalid prefix");
    load_bad("192.0.2.1/24,a,A\n", 1,
             "host bits set in prefix '192.0.2.1/24' (network is 192.0.2.0/24)");
    load_bad("2001:db8::1/32,a,A\n", 1, "host bits set");
    load_bad("0.0.0.0/0,a,A\n", 1, "wider than /8");
    load_bad("4.0.0.0/6,a,A\n", 1, "wider than /8");
    load_bad("::/0,a,A\n", 1, "wider than /16");
    load_bad("::/64,a,A\n", 1, "IPv4-mapped");
    load_bad("192.0.2.0/24\n", 1, "missing fields");
    load_bad("192.0.2.0/24,a\n", 1, "missing fields");
    load_bad("192.0.2.0/24,a,A,1,abuse@a.example,extra\n", 1, "too many fields");
    load_bad("192.0.2.0/24,a,A,1,x\x01y\n", 1, "abuse contact");
    load_bad("192.0.2.0/24,a,A,,x@a.example\n192.0.2.0/25,a,A,,y@a.example\n", 2,
             "abuse contact \"y@a.example\" differs");
    load_bad("192.0.2.0/24,,A\n", 1, "empty customer_id");
    load_bad("192.0.2.0/24,\"\",A\n", 1, "empty customer_id");
    load_bad(",a,A\n", 1, "empty prefix");
    load_bad("192.0.2.0/24,a b,A\n", 1, "outside [A-Za-z0-9._-]");
    load_bad("192.0.2.0/24,caf\xc3\xa9,A\n", 1, "outside [A-Za-z0-9._-]");
    load_bad("192.0.2.0/24,a,\n", 1, "empty name");
    load_bad("192.0.2.0/24,a,\"\"\n", 1, "empty name");
    load_bad("192.0.2.0/24,a,\"Acme\n", 1, "unterminated quote");
    load_bad("192.0.2.0/24,a,\"Acme\" Inc\n", 1, "text after a closing quote");
    load_bad("192.0.2.0/24,a,Ac\"me\n", 1, "quote inside");
    load_bad("192.0.2.0/24,a,A\x01\n", 1, "control characters");
    load_bad("192.0.2.0/24,a,\xff\xfe\n", 1, "not valid UTF-8");
    load_bad("192.0.2.0/24,a,\xc0\xaf\n", 1, "not valid UTF-8");     /* overlong */
    load_bad("192.0.2.0/24,a,\xed\xa0\x80\n", 1, "not valid UTF-8"); /* surrogate */
    load_bad("192.0.2.0/24,a,abc\xe2\x82\n", 1, "not valid UTF-8");  /* truncated */
    load_bad("192.0.2.0/24,a,A,0\n", 1, "bad asn");
    load_bad("192.0.2.0/24,a,A,4294967296\n", 1, "bad asn");
    load_bad("192.0.2.0/24,a,A,-5\n", 1, "bad asn");
    load_bad("192.0.2.0/24,a,A,AS\n", 1, "bad asn");
    load_bad("192.0.2.0/24,a,A,0123\n", 1, "bad asn");
    load_bad("192.0.2.0/24,a,A,12 34\n", 1, "bad asn");
    load_bad("AS0,a,A\n", 1, "bad ASN");
    load_bad("AS99999999999,a,A\n", 1, "bad ASN");
    load_bad("AS12x,a,A\n", 1, "bad ASN");

    memset(id64, 'x', 64);
    id64[64] = '\0';
    char line[400];
    snprintf(line, sizeof(line), "192.0.2.0/24,%s,A\n", id64);
    load_bad(line, 1, "longer than 63");
    id64[63] = '\0'; /* 63 is fine */
    snprintf(line, sizeof(line), "192.0.2.0/24,%s,A\n", id64);
    struct customer_map *m = load_ok(line);
    assert_string_equal(customers_get(m, 1)->id, id64);
    customers_free(m);

    memset(name128, 'n', 128);
    name128[128] = '\0';
    snprintf(line, sizeof(line), "192.0.2.0/24,a,%s\n", name128);
    load_bad(line, 1, "longer than 127");
    name128[127] = '\0';
    snprintf(line, sizeof(line), "192.0.2.0/24,a,\"%s\"\n", name128);
    m = load_ok(line);
    assert_int_equal(strlen(customers_get(m, 1)->name), 127);
    customers_free(m);

    /* NUL byte, overlong line */
    static const char nul[] = "192.0.2.0/24,a,A\n198.51.100.0/24,b,B\0x\n";
    load_bad_lim(nul, sizeof(nul) - 1, NULL, 2, "NUL byte");
    memset(big, 'a', sizeof(big));
    memcpy(big, "# ok\n", 5);
    load_bad_lim(big, sizeof(big), NULL, 2, "line longer than");
}

static void test_limits(void **state)
{
    (void)state;
    struct customer_limits lim = {.max_customers = 2, .max_prefixes = 3};
    const char *ok = "192.0.2.0/24,a,A\n198.51.100.0/24,b,B\nAS5,a,A\n";
    struct customer_map *m = NULL;
    struct conf_error err;
    assert_int_equal(customers_load_mem("x", ok, strlen(ok), &lim, &m, &err), 0);
    customers_free(m);
    const char *t1 = "192.0.2.0/24,a,A\n198.51.100.0/24,b,B\n203.0.113.0/24,c,C\n";
    load_bad_lim(t1, strlen(t1), &lim, 3, "too many customers (limit 2)");
    const char *t2 = "192.0.2.0/24,a,A\n198.51.100.0/24,b,B\nAS5,a,A\n203.0.113.0/24,a,A\n";
    load_bad_lim(t2, strlen(t2), &lim, 4, "too many prefixes");
}

/* Many customers and prefixes: the id table grows, lookups stay right. */
static void test_many(void **state)
{
    (void)state;
    size_t cap = 2000 * 64;
    char *t = malloc(cap);
    size_t w = 0;
    assert_non_null(t);
    for (unsigned i = 0; i < 2000; i++) {
        w += (size_t)snprintf(t + w, cap - w, "10.%u.%u.0/24,c%u,Customer %u\n", i / 256, i % 256,
                              i % 700, i % 700);
    }
    struct customer_map *m = NULL;
    struct conf_error err;
    assert_int_equal(customers_load_mem("many", t, w, NULL, &m, &err), 0);
    assert_int_equal(customers_count(m), 700);
    assert_int_equal(customers_prefix_count(m), 2000);
    for (unsigned i = 0; i < 2000; i += 37) {
        char a[32], id[16];
        snprintf(a, sizeof(a), "10.%u.%u.9", i / 256, i % 256);
        snprintf(id, sizeof(id), "c%u", i % 700);
        assert_string_equal(look_id(m, a), id);
    }
    const struct customer *c = customers_find_id(m, "c5");
    assert_int_equal(c->nprefixes, 3); /* 5, 705, 1405 */
    const struct prefix *ps;
    assert_int_equal(customers_prefixes(m, c->index + 1, &ps), 3);
    char buf[64];
    assert_string_equal(prefix_format(&ps[2], buf, sizeof(buf)), "10.5.125.0/24");
    customers_free(m);
    free(t);
}

static int count_cb(void *arg, const struct prefix *stored, uint32_t value)
{
    (void)stored;
    (void)value;
    (*(int *)arg)++;
    return 0;
}

static void test_trie_overlap(void **state)
{
    (void)state;
    struct customer_map *m = load_ok("192.0.2.0/24,a,A\n192.0.2.128/25,b,B\n198.51.100.0/24,c,C\n");
    struct prefix p;
    int n = 0;
    assert_int_equal(prefix_parse("192.0.0.0/16", false, &p), 0);
    trie_overlaps(customers_trie(m), &p, count_cb, &n);
    assert_int_equal(n, 2);
    customers_free(m);
}

static void test_file(void **state)
{
    (void)state;
    struct customer_map *m = NULL;
    struct conf_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(customers_load("/nonexistent/customers.csv", NULL, &m, &err), -ENOENT);
    assert_null(m);
    assert_string_equal(err.file, "/nonexistent/customers.csv");
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "cannot open"));

    const char *src = getenv("TW_SRC");
    if (!src) {
        print_message("TW_SRC not set: sample customers.csv not checked\n");
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/configs/customers.csv", src);
    if (customers_load(path, NULL, &m, &err) != 0)
        fail_msg("%s:%u: %s", err.file, err.line, err.msg);
    assert_true(customers_count(m) >= 4);
    assert_string_equal(look_id(m, "192.0.2.10"), "acme");
    assert_string_equal(look_id(m, "198.51.100.245"), "hooli");
    assert_string_equal(look_id(m, "198.51.100.10"), "globex");
    assert_string_equal(customers_find_id(m, "hooli")->name, "Hooli \"Nucleus\" Labs");
    assert_int_equal(customers_lookup_as(m, 64500), customers_find_id(m, "acme")->index + 1);
    customers_free(m);
}

/* Random and mutated input must never crash (a small in-test fuzz; fixed seed). */
static void test_hostile_random(void **state)
{
    (void)state;
    static const char *seeds[] = {"192.0.2.0/24,a,\"A, B\",AS1\n", "AS64500,x,Y\n",
                                  "2001:db8::/32,v6,V\r\n", "# c\nprefix,customer_id,name\n"};
    static const char alphabet[] = "0123456789abcdefAS.:/,\"#\n\r \t\xc3\xa9\xff";
    uint32_t x = 12345;
    char buf[512];
    for (int it = 0; it < 20000; it++) {
        size_t n =
            tfz_input(&x, it, buf, sizeof(buf), seeds, sizeof(seeds) / sizeof(seeds[0]), alphabet);
        struct customer_map *m = NULL;
        struct conf_error err;
        if (customers_load_mem("r", buf, n, NULL, &m, &err) == 0) {
            uint8_t a[16] = {0};
            (void)customers_lookup(m, a);
            customers_free(m);
        } else {
            assert_true(err.line <= 64);
        }
    }
}

/* ---- the IPv4 front (customers_lookup's direct tables) against the trie ---- */

static uint32_t rnd32(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* The trie's answer (what customers_lookup answered before the front). */
static uint32_t trie_answer(const struct customer_map *m, const uint8_t a[16])
{
    uint32_t v;
    return trie_lookup(customers_trie(m), a, &v, NULL) ? v : 0;
}

static void check_v4(const struct customer_map *m, uint32_t v4)
{
    uint8_t a[16];
    addr_from_v4(a, v4);
    uint32_t want = trie_answer(m, a), got = customers_lookup(m, a);
    if (got != want)
        fail_msg("%u.%u.%u.%u: front %u, trie %u", v4 >> 24, v4 >> 16 & 0xff, v4 >> 8 & 0xff,
                 v4 & 0xff, got, want);
}

/* A map of the given IPv4 prefixes (base, len; the customer a function of the prefix, so a
 * repeat is the same line) and a few IPv6 ones; every prefix's edges and their neighbours, and
 * random addresses under base_mask, looked up both ways. */
static void front_vs_trie(const uint32_t *base, const unsigned *len, size_t n, uint32_t seed,
                          uint32_t spread_mask, uint32_t spread_base)
{
    size_t cap = n * 64 + 256, at = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        uint32_t b = len[i] ? base[i] & (uint32_t)(~0ull << (32 - len[i])) : 0;
        at += (size_t)snprintf(text + at, cap - at, "%u.%u.%u.%u/%u,c%u,C%u\n", b >> 24,
                               b >> 16 & 0xff, b >> 8 & 0xff, b & 0xff, len[i],
                               (b * 2654435761u ^ len[i]) % 37, (b * 2654435761u ^ len[i]) % 37);
    }
    at += (size_t)snprintf(text + at, cap - at, "2001:db8::/32,c1,C1\n2001:db8:1::/48,c2,C2\n");
    struct customer_map *m = NULL;
    struct conf_error err;
    memset(&err, 0, sizeof(err));
    if (customers_load_mem("f.csv", text, at, NULL, &m, &err) != 0)
        fail_msg("%s:%u: %s", err.file, err.line, err.msg);
    for (size_t i = 0; i < n; i++) {
        uint32_t b = len[i] ? base[i] & (uint32_t)(~0ull << (32 - len[i])) : 0;
        uint32_t last = b | (len[i] ? (uint32_t)((1ull << (32 - len[i])) - 1) : UINT32_MAX);
        check_v4(m, b);
        check_v4(m, b - 1);
        check_v4(m, last);
        check_v4(m, last + 1);
        check_v4(m, b | (rnd32(&seed) & (last - b)));
    }
    for (int k = 0; k < 200000; k++) {
        uint32_t r = rnd32(&seed);
        check_v4(m, k & 1 ? r : spread_base | (r & spread_mask));
    }
    uint8_t a6[16];
    assert_int_equal(addr_parse("2001:db8:1::5", a6), 0);
    assert_int_equal(customers_lookup(m, a6), trie_answer(m, a6));
    assert_int_not_equal(customers_lookup(m, a6), 0);
    customers_free(m);
    free(text);
}

/* Nested prefixes of every length /8../32 clustered in 10/8 and 172.16/12 (the front's /16
 * entries, its /24 chunks and the /24s that hand over to the trie), then more /16s with long
 * prefixes than the front has chunks for (those /16s take the trie), several seeds. */
static void test_v4_front_matches_trie(void **state)
{
    (void)state;
    enum { N = 3000, WIDE = 4200 };
    static uint32_t base[WIDE + 8];
    static unsigned len[WIDE + 8];
    for (uint32_t seed = 1; seed <= 4; seed++) {
        uint32_t x = seed * 7919u;
        for (size_t i = 0; i < N; i++) {
            uint32_t r = rnd32(&x);
            base[i] = (i % 3 ? 0x0a000000u | (r & 0x00ffffffu) : 0xac100000u | (r & 0x000fffffu));
            unsigned l = 8 + rnd32(&x) % 25;              /* 8..32 */
            len[i] = i % 5 == 0 ? 16 + rnd32(&x) % 9 : l; /* many /16../24 */
        }
        front_vs_trie(base, len, N, seed, 0x00ffffffu, 0x0a000000u);
    }
    /* a /24 (or longer) in each of WIDE distinct /16s: past the chunk budget */
    for (size_t i = 0; i < WIDE; i++) {
        base[i] = (uint32_t)(i + 0x0b00) << 16 | 0x0100u;
        len[i] = i % 7 == 0 ? 28 : 24;
    }
    base[WIDE] = 0x0b000000u;
    len[WIDE] = 8; /* under everything above */
    base[WIDE + 1] = 0x0b200000u;
    len[WIDE + 1] = 12;
    front_vs_trie(base, len, WIDE + 2, 99, 0x1fffffffu, 0x0b000000u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),          cmocka_unit_test(test_same_customer_rules),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_limits),
        cmocka_unit_test(test_abuse_column),   cmocka_unit_test(test_many),
        cmocka_unit_test(test_trie_overlap),   cmocka_unit_test(test_file),
        cmocka_unit_test(test_hostile_random), cmocka_unit_test(test_v4_front_matches_trie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
