/* test_addr.c: address and prefix parsing/printing, IPv4 mapping, containment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

static void test_addr_parse_format(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    char buf[ADDR_STRLEN];
    assert_int_equal(addr_parse("192.0.2.1", a), 0);
    assert_true(addr_is_v4(a));
    static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    assert_memory_equal(a, want, 16);
    assert_string_equal(addr_format(a, buf), "192.0.2.1");
    addr_from_v4(b, 0xc0000201u);
    assert_memory_equal(a, b, 16);
    static const uint8_t v4b[4] = {192, 0, 2, 1};
    addr_from_v4_bytes(b, v4b);
    assert_memory_equal(a, b, 16);
    /* the mapped form written as IPv6 is the same address */
    assert_int_equal(addr_parse("::ffff:192.0.2.1", b), 0);
    assert_memory_equal(a, b, 16);

    assert_int_equal(addr_parse("2001:db8::1", a), 0);
    assert_false(addr_is_v4(a));
    assert_string_equal(addr_format(a, buf), "2001:db8::1");
    assert_int_equal(addr_parse("2001:DB8:0:0:0:0:0:1", b), 0);
    assert_memory_equal(a, b, 16);
    assert_int_equal(addr_parse("::", a), 0);
    assert_string_equal(addr_format(a, buf), "::");
    assert_int_equal(addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", a), 0);
    assert_string_equal(addr_format(a, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

    const char *bad[] = {"",         "1.2.3",      "1.2.3.256",      "1.2.3.4 ",
                         " 1.2.3.4", "1.2.3.4/32", "2001:db8::1::2", "abc",
                         "1.2.3.4x", "::g",        "01.2.3.4",       NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(addr_parse(bad[i], a), -EINVAL);
    assert_int_equal(addr_parse(NULL, a), -EINVAL);
}

static void ok_prefix(const char *in, bool fix, const char *out, unsigned len, unsigned ulen)
{
    struct prefix p;
    char buf[ADDR_STRLEN + 4];
    assert_int_equal(prefix_parse(in, fix, &p), 0);
    assert_int_equal(p.len, len);
    assert_int_equal(prefix_user_len(&p), ulen);
    assert_string_equal(prefix_format(&p, buf, sizeof buf), out);
}

static void test_prefix_parse(void **state)
{
    (void)state;
    ok_prefix("1.2.3.0/24", false, "1.2.3.0/24", 120, 24);
    ok_prefix("10.0.0.0/8", false, "10.0.0.0/8", 104, 8);
    ok_prefix("0.0.0.0/0", false, "0.0.0.0/0", 96, 0);
    ok_prefix("192.0.2.1", false, "192.0.2.1/32", 128, 32);
    ok_prefix("192.0.2.1/32", false, "192.0.2.1/32", 128, 32);
    ok_prefix("2001:db8::/32", false, "2001:db8::/32", 32, 32);
    ok_prefix("2001:db8::1", false, "2001:db8::1/128", 128, 128);
    ok_prefix("::/0", false, "::/0", 0, 0);
    ok_prefix("2001:db8::/128", false, "2001:db8::/128", 128, 128);
    ok_prefix("1.2.3.4/24", true, "1.2.3.0/24", 120, 24);
    ok_prefix("2001:db8::1/32", true, "2001:db8::/32", 32, 32);
    ok_prefix("255.255.255.255/1", true, "128.0.0.0/1", 97, 1);
}

static void test_prefix_errors(void **state)
{
    (void)state;
    struct prefix p;
    assert_int_equal(prefix_parse("1.2.3.4/24", false, &p), -EDOM);
    assert_int_equal(prefix_parse("2001:db8::1/32", false, &p), -EDOM);
    assert_int_equal(prefix_parse("10.0.0.1/0", false, &p), -EDOM);
    const char *bad[] = {"",
                         "/24",
                         "1.2.3.0/",
                         "1.2.3.0/33",
                         "2001:db8::/129",
                         "1.2.3.0/-1",
                         "1.2.3.0/+24",
                         "1.2.3.0/24 ",
                         " 1.2.3.0/24",
                         "1.2.3.0/24x",
                         "1.2.3.0//24",
                         "1.2.3.0/2 4",
                         "1.2.3.0/0024",
                         "1.2.3.0/024",
                         "garbage",
                         "1.2.3/24",
                         "2001:db8::/32/1",
                         "1.2.3.0/1000",
                         "1.2.3.0/999999999999",
                         "1.2.3.0/24\n",
                         "2001:db8:::/32",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        int rc = prefix_parse(bad[i], true, &p);
        if (rc != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(prefix_parse(NULL, true, &p), -EINVAL);
    /* a long string is rejected, not overflowed */
    char lng[200];
    memset(lng, '1', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    assert_int_equal(prefix_parse(lng, true, &p), -EINVAL);
}

static void test_contains(void **state)
{
    (void)state;
    struct prefix p;
    uint8_t a[16];
    assert_int_equal(prefix_parse("10.0.0.0/8", false, &p), 0);
    addr_parse("10.255.0.1", a);
    assert_true(prefix_contains(&p, a));
    addr_parse("11.0.0.1", a);
    assert_false(prefix_contains(&p, a));
    assert_int_equal(prefix_parse("192.0.2.128/25", false, &p), 0);
    addr_parse("192.0.2.127", a);
    assert_false(prefix_contains(&p, a));
    addr_parse("192.0.2.128", a);
    assert_true(prefix_contains(&p, a));
    assert_int_equal(prefix_parse("0.0.0.0/0", false, &p), 0);
    addr_parse("2001:db8::1", a);
    assert_false(prefix_contains(&p, a)); /* v4 default does not cover IPv6 */
    addr_parse("1.1.1.1", a);
    assert_true(prefix_contains(&p, a));
    assert_int_equal(prefix_parse("::/0", false, &p), 0);
    assert_true(prefix_contains(&p, a));
    assert_int_equal(prefix_parse("2001:db8::1", false, &p), 0);
    addr_parse("2001:db8::1", a);
    assert_true(prefix_contains(&p, a));
    addr_parse("2001:db8::2", a);
    assert_false(prefix_contains(&p, a));
}

static void test_format_small_buffer(void **state)
{
    (void)state;
    struct prefix p;
    char buf[8];
    assert_int_equal(prefix_parse("192.168.100.0/24", false, &p), 0);
    memset(buf, 'Z', sizeof buf);
    prefix_format(&p, buf, 6);
    assert_string_equal(buf, "192.1");
    assert_int_equal(buf[6], 'Z');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse_format),   cmocka_unit_test(test_prefix_parse),
        cmocka_unit_test(test_prefix_errors),       cmocka_unit_test(test_contains),
        cmocka_unit_test(test_format_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
