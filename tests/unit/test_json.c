/* test_json.c: the JSON writer: escaping, UTF-8 repair, numbers, times, nesting and overflow at
 * every buffer size. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "json.h"

static const char *one_str(char *buf, size_t cap, const char *s, size_t n)
{
    struct json j;
    json_init(&j, buf, cap);
    json_strn(&j, NULL, s, n);
    assert_false(json_error(&j));
    return buf;
}

static void test_escaping(void **state)
{
    (void)state;
    char buf[256];
    assert_string_equal(one_str(buf, sizeof buf, "plain", 5), "\"plain\"");
    assert_string_equal(one_str(buf, sizeof buf, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    assert_string_equal(one_str(buf, sizeof buf, "\n\t\r\b\f", 5),
                        "\"\\u000a\\u0009\\u000d\\u0008\\u000c\"");
    assert_string_equal(one_str(buf, sizeof buf, "\x01\x1f", 2), "\"\\u0001\\u001f\"");
    assert_string_equal(one_str(buf, sizeof buf, "a\0b", 3), "\"a\\u0000b\"");
    assert_string_equal(one_str(buf, sizeof buf, "/\x7f", 2), "\"/\x7f\"");
    /* valid UTF-8 passes through */
    assert_string_equal(one_str(buf, sizeof buf, "h\xc3\xa9llo", 6), "\"h\xc3\xa9llo\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xe2\x82\xac", 3), "\"\xe2\x82\xac\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xef\xbf\xbf", 3), "\"\xef\xbf\xbf\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xf4\x8f\xbf\xbf", 4), "\"\xf4\x8f\xbf\xbf\"");
    /* invalid: each bad byte becomes U+FFFD */
    assert_string_equal(one_str(buf, sizeof buf, "\xff", 1), "\"\\ufffd\"");
    assert_string_equal(one_str(buf, sizeof buf, "a\x80z", 3), "\"a\\ufffdz\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xc3", 1), "\"\\ufffd\""); /* truncated */
    assert_string_equal(one_str(buf, sizeof buf, "\xc3(", 2), "\"\\ufffd(\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xc0\xaf", 2),
                        "\"\\ufffd\\ufffd\""); /* overlong */
    assert_string_equal(one_str(buf, sizeof buf, "\xe0\x80\xaf", 3), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(one_str(buf, sizeof buf, "\xed\xa0\x80", 3),
                        "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    assert_string_equal(one_str(buf, sizeof buf, "\xf4\x90\x80\x80", 4),
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    assert_string_equal(one_str(buf, sizeof buf, "\xe2\x82", 2), "\"\\ufffd\\ufffd\"");

    /* keys are escaped too; NULL value is null */
    struct json j;
    json_init(&j, buf, sizeof buf);
    json_obj_open(&j, NULL);
    json_str(&j, "k\"y", "v");
    json_str(&j, "n", NULL);
    json_obj_close(&j);
    assert_false(json_error(&j));
    assert_string_equal(buf, "{\"k\\\"y\":\"v\",\"n\":null}");
    assert_int_equal(json_len(&j), strlen(buf));
}

static void test_numbers(void **state)
{
    (void)state;
    char buf[512];
    struct json j;
    json_init(&j, buf, sizeof buf);
    json_arr_open(&j, NULL);
    json_u64(&j, NULL, 0);
    json_u64(&j, NULL, UINT64_MAX);
    json_i64(&j, NULL, INT64_MIN);
    json_i64(&j, NULL, -5);
    json_double(&j, NULL, 1.5, 3);
    json_double(&j, NULL, 2.0 / 3.0, 2);
    json_double(&j, NULL, -0.0, 2);
    json_double(&j, NULL, -0.0001, 2);
    json_double(&j, NULL, NAN, 2);
    json_double(&j, NULL, INFINITY, 2);
    json_double(&j, NULL, 42.4, 0);
    json_double(&j, NULL, 1.25, -3);
    json_bool(&j, NULL, true);
    json_bool(&j, NULL, false);
    json_null(&j, NULL);
    json_raw(&j, NULL, "{\"x\":1}");
    json_arr_close(&j);
    assert_false(json_error(&j));
    assert_string_equal(buf, "[0,18446744073709551615,-9223372036854775808,-5,1.500,0.67,0.00,"
                             "0.00,null,null,42,1,true,false,null,{\"x\":1}]");
    /* huge doubles still fit the internal buffer */
    json_init(&j, buf, sizeof buf);
    json_double(&j, NULL, 1.7976931348623157e308, 17);
    assert_false(json_error(&j));
    assert_int_equal(json_len(&j), 309 + 1 + 17);
}

static void test_nested_and_addr(void **state)
{
    (void)state;
    char buf[512];
    struct json j;
    uint8_t a4[16], a6[16];
    assert_int_equal(addr_parse("192.0.2.1", a4), 0);
    assert_int_equal(addr_parse("2001:db8::1", a6), 0);
    json_init(&j, buf, sizeof buf);
    json_obj_open(&j, NULL);
    json_str(&j, "type", "spam");
    json_obj_open(&j, "host");
    json_addr(&j, "v4", a4);
    json_addr(&j, "v6", a6);
    json_obj_close(&j);
    json_arr_open(&j, "empty");
    json_arr_close(&j);
    json_obj_open(&j, "eo");
    json_obj_close(&j);
    json_arr_open(&j, "list");
    json_u64(&j, NULL, 1);
    json_obj_open(&j, NULL);
    json_u64(&j, "a", 2);
    json_obj_close(&j);
    json_arr_open(&j, NULL);
    json_arr_close(&j);
    json_arr_close(&j);
    json_obj_close(&j);
    assert_false(json_error(&j));
    assert_string_equal(buf,
                        "{\"type\":\"spam\",\"host\":{\"v4\":\"192.0.2.1\",\"v6\":\"2001:db8::1\"},"
                        "\"empty\":[],\"eo\":{},\"list\":[1,{\"a\":2},[]]}");
    assert_int_equal(j.depth, 0);

    /* depth limit and unbalanced close are errors, not crashes */
    json_init(&j, buf, sizeof buf);
    for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
        json_arr_open(&j, NULL);
    assert_true(json_error(&j));
    json_init(&j, buf, sizeof buf);
    json_obj_close(&j);
    assert_true(json_error(&j));
}

static void test_times(void **state)
{
    (void)state;
    char t[32];
    json_format_time(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    json_format_time(1221912000000ULL, t);
    assert_string_equal(t, "2008-09-20T12:00:00.000Z");
    json_format_time(1795356000123ULL, t);
    assert_string_equal(t, "2026-11-22T14:00:00.123Z");
    json_format_time(951782400999ULL, t); /* leap day 2000 */
    assert_string_equal(t, "2000-02-29T00:00:00.999Z");
    json_format_time(UINT64_MAX, t); /* clamped, still RFC 3339 */
    assert_string_equal(t, "9999-12-31T23:59:59.999Z");
    char buf[64];
    struct json j;
    json_init(&j, buf, sizeof buf);
    json_obj_open(&j, NULL);
    json_time(&j, "ts", 1221912000000ULL);
    json_obj_close(&j);
    assert_false(json_error(&j));
    assert_string_equal(buf, "{\"ts\":\"2008-09-20T12:00:00.000Z\"}");
}

static void build_doc(struct json *j)
{
    uint8_t a[16];
    addr_parse("10.0.0.1", a);
    json_obj_open(j, NULL);
    json_str(j, "s", "x\"y\x01\xff\xc3\xa9");
    json_u64(j, "n", 12345);
    json_double(j, "d", 3.14159, 3);
    json_arr_open(j, "a");
    json_bool(j, NULL, true);
    json_null(j, NULL);
    json_addr(j, NULL, a);
    json_arr_close(j);
    json_time(j, "t", 1000);
    json_raw(j, "r", "[1,2]");
    json_obj_close(j);
}

static void test_overflow_every_cap(void **state)
{
    (void)state;
    char full[512];
    struct json j;
    json_init(&j, full, sizeof full);
    build_doc(&j);
    assert_false(json_error(&j));
    size_t need = json_len(&j);
    assert_int_equal(need, strlen(full));

    char buf[600];
    for (size_t cap = 0; cap <= need + 2; cap++) {
        memset(buf, 0xAA, sizeof buf);
        json_init(&j, cap ? buf : NULL, cap);
        build_doc(&j);
        /* the text and its NUL need need + 1 bytes */
        assert_int_equal(json_error(&j), cap < need + 1);
        for (size_t k = cap; k < sizeof buf; k++)
            assert_int_equal((unsigned char)buf[k], 0xAA);
        if (cap > 0) {
            assert_true(json_len(&j) < cap);
            assert_int_equal(buf[json_len(&j)], '\0');
            assert_int_equal(strlen(buf), json_len(&j));
            /* what was written is a prefix of the full text */
            assert_memory_equal(buf, full, json_len(&j));
        } else {
            assert_int_equal(json_len(&j), 0);
        }
        if (!json_error(&j))
            assert_string_equal(buf, full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),           cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_nested_and_addr),    cmocka_unit_test(test_times),
        cmocka_unit_test(test_overflow_every_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
