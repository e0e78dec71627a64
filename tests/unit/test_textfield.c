/* test_textfield.c: the text toolkit (core/textfield.h): lines, separated and CSV fields,
 * trimming, numbers, dates (checked against a day count and against timegm over every day of
 * 1970..2400), RFC 1123 dates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "textfield.h"

static void test_lines(void **state)
{
    (void)state;
    const char text[] = "\xEF\xBB\xBF"
                        "a\r\n\nb";
    struct tf_lines it;
    const char *l;
    size_t n;
    tf_lines_init(&it, text, sizeof text - 1);
    assert_true(tf_lines_next(&it, &l, &n));
    assert_int_equal(n, 2); /* "a\r": the CR stays */
    assert_memory_equal(l, "a\r", 2);
    assert_int_equal(it.lineno, 1);
    assert_true(tf_lines_next(&it, &l, &n));
    assert_int_equal(n, 0);
    assert_true(tf_lines_next(&it, &l, &n));
    assert_int_equal(n, 1);
    assert_int_equal(l[0], 'b');
    assert_int_equal(it.lineno, 3);
    assert_false(tf_lines_next(&it, &l, &n));
    tf_lines_init(&it, "x\n", 2); /* a last LF makes no empty line */
    assert_true(tf_lines_next(&it, &l, &n));
    assert_false(tf_lines_next(&it, &l, &n));
}

static void test_fields(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        char sep;
        const char *want; /* fields joined by '|' */
    } cases[] = {
        {"a,b,c", ',', "a|b|c"}, {"", ',', ""},         {"a,", ',', "a|"},
        {",", ',', "|"},         {"a\tb", '\t', "a|b"}, {"one", ',', "one"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[64] = "";
        struct tf_fields it = tf_fields(cases[i].s, strlen(cases[i].s), cases[i].sep);
        const char *f;
        size_t fn;
        for (int k = 0; tf_field_next(&it, &f, &fn); k++) {
            if (k)
                strcat(got, "|");
            strncat(got, f, fn);
        }
        assert_string_equal(got, cases[i].want);
    }
}

static void test_csv(void **state)
{
    (void)state;
    char *f[4];
    const char *why = NULL;
    char l1[] = " a , \"b, \"\"c\"\" \" ,,d\t";
    assert_int_equal(tf_csv_split(l1, f, 4, &why), 4);
    assert_string_equal(f[0], "a");
    assert_string_equal(f[1], "b, \"c\" ");
    assert_string_equal(f[2], "");
    assert_string_equal(f[3], "d");
    char l2[] = "a,b,c,d,e";
    assert_int_equal(tf_csv_split(l2, f, 4, &why), -E2BIG);
    char l3[] = "\"open";
    assert_int_equal(tf_csv_split(l3, f, 4, &why), -EINVAL);
    assert_string_equal(why, "unterminated quote");
    char l4[] = "\"a\"b";
    assert_int_equal(tf_csv_split(l4, f, 4, &why), -EINVAL);
    assert_string_equal(why, "text after a closing quote");
    char l5[] = "a\"b";
    assert_int_equal(tf_csv_split(l5, f, 4, &why), -EINVAL);
    assert_string_equal(why, "quote inside an unquoted field");
    char l6[] = "a\v,b"; /* only spaces and tabs are dropped around fields */
    assert_int_equal(tf_csv_split(l6, f, 4, &why), 2);
    assert_string_equal(f[0], "a\v");
}

static void test_trim_and_numbers(void **state)
{
    (void)state;
    const char *s = " \t\v x y \r\f";
    size_t n = tf_trim(&s, strlen(s));
    assert_int_equal(n, 3);
    assert_memory_equal(s, "x y", 3);
    char b[] = "\r\n z \n";
    assert_string_equal(tf_trim_str(b), "z");
    uint64_t v;
    assert_true(tf_u64("18446744073709551615", 20, &v));
    assert_true(v == UINT64_MAX);
    assert_false(tf_u64("18446744073709551616", 20, &v));
    assert_false(tf_u64("", 0, &v));
    assert_false(tf_u64("-1", 2, &v));
    assert_true(tf_uint_max("65535", 5, 65535, &v));
    assert_false(tf_uint_max("65536", 5, 65535, &v));
    assert_true(tf_hex("0x1b", 4, &v));
    assert_int_equal(v, 0x1b);
    uint8_t p;
    assert_true(tf_proto("ipv6-icmp", 9, &p));
    assert_int_equal(p, 58);
    assert_true(tf_proto("17", 2, &p));
    assert_false(tf_proto("256", 3, &p));
    assert_true(tf_name_ok("acme-1.b_c", 63));
    assert_false(tf_name_ok("", 63));
    assert_false(tf_name_ok(NULL, 63));
    assert_false(tf_name_ok("a b", 63));
    assert_false(tf_name_ok("abcd", 3));
    uint8_t a[16];
    assert_true(tf_addr("192.0.2.1", 9, a));
    assert_false(tf_addr("192.0.2.1\0x", 11, a)); /* no NUL inside a field */
}

/* Days since 1970-01-01 counted one day at a time (the reference for timegm). */
static void test_utc_every_day(void **state)
{
    (void)state;
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day = 0, t;
    for (unsigned y = 1970; y <= 2400; y++) {
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (unsigned m = 1; m <= 12; m++) {
            unsigned last = mdays[m - 1] + (m == 2 && leap);
            for (unsigned d = 1; d <= last; d++, day++) {
                assert_true(tf_utc(y, m, d, 23, 59, 60, &t));
                assert_true(t == day * 86400 + 86400); /* 23:59:60 is the next day's start */
                struct tm tm = {.tm_year = (int)y - 1900,
                                .tm_mon = (int)m - 1,
                                .tm_mday = (int)d,
                                .tm_hour = 23,
                                .tm_min = 59,
                                .tm_sec = 60};
                assert_true(t == (int64_t)timegm(&tm));
            }
            assert_false(tf_utc(y, m, last + 1, 0, 0, 0, &t));
        }
    }
    assert_false(tf_utc(1969, 12, 31, 0, 0, 0, &t));
    assert_false(tf_utc(2024, 13, 1, 0, 0, 0, &t));
    assert_false(tf_utc(2024, 1, 1, 24, 0, 0, &t));
    assert_false(tf_utc(2024, 1, 1, 0, 60, 0, &t));
    assert_false(tf_utc(2024, 1, 1, 0, 0, 61, &t));
    assert_true(tf_utc(9999, 12, 31, 23, 59, 59, &t));
    assert_false(tf_utc(10000, 1, 1, 0, 0, 0, &t));
}

static void test_datetime(void **state)
{
    (void)state;
    uint64_t ms;
    assert_true(tf_datetime("2011-03-18T16:52:47.096535Z", 27, &ms));
    assert_true(ms == 1300467167096ull);
    assert_true(tf_datetime("2011/03/18 16:52:47", 19, &ms));
    assert_true(ms == 1300467167000ull);
    assert_false(tf_datetime("2023-02-29 00:00:00", 19, &ms)); /* not a leap year */
    assert_true(tf_datetime("2024-02-29 00:00:00", 19, &ms));
    assert_false(tf_datetime("2024-04-31 00:00:00", 19, &ms));
    assert_false(tf_datetime("2024-01-01 00:00", 16, &ms));
    assert_false(tf_datetime("2024-01-01 00:00:00.", 20, &ms));
    uint64_t us;
    assert_true(tf_seconds_us("1300475167.096535", 17, &us));
    assert_true(us == 1300475167096535ull);
    assert_false(tf_seconds_us("1e-3", 4, &us));
}

static void test_rfc1123(void **state)
{
    (void)state;
    assert_int_equal(tf_rfc1123("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    assert_int_equal(tf_rfc1123("  6 November 1994 08:49:37"), 784111777);
    assert_int_equal(tf_rfc1123("Thu, 29 Feb 2024 23:59:59 UTC"), 1709251199);
    assert_int_equal(tf_rfc1123("Wed, 29 Feb 2023 00:00:00 GMT"), -1);
    assert_int_equal(tf_rfc1123("Sun, 06 Nov 1994 08:49:37 PST"), -1);
    assert_int_equal(tf_rfc1123(""), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),         cmocka_unit_test(test_fields),
        cmocka_unit_test(test_csv),           cmocka_unit_test(test_trim_and_numbers),
        cmocka_unit_test(test_utc_every_day), cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_rfc1123),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
