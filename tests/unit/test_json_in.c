/* test_json_in.c: the JSON reader (core/json_in.h): members as text in order, numbers as
 * written, what is refused (control characters, bad UTF-8, text after the object, nesting past
 * the bound, integers beyond 64 bits), and the incremental reading of objects over many pieces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_in.h"

/* Members joined as "key=T:text;" (T: n null, b bool, 0 number, s string, o other). */
struct collect {
    char out[512];
    int stop_at; /* stop (-ECANCELED) at this member, 0 = never */
    int n;
};

static int collect(void *arg, const char *key, size_t klen, const struct jin_value *v)
{
    struct collect *c = arg;
    static const char tc[] = {'n', 'b', '0', 's', 'o'};
    size_t len = strlen(c->out);
    snprintf(c->out + len, sizeof c->out - len, "%.*s=%c:%.*s;", (int)klen, key, tc[v->type],
             (int)v->n, v->s);
    assert_int_equal(v->s[v->n], '\0');
    return ++c->n == c->stop_at ? -ECANCELED : 0;
}

static const char *read_one(struct jin *j, const char *s, int *rc)
{
    static struct collect c;
    memset(&c, 0, sizeof c);
    *rc = jin_object(j, s, strlen(s), collect, &c);
    return c.out;
}

static void test_members(void **state)
{
    (void)state;
    struct jin *j;
    assert_int_equal(jin_new(8, &j), 0);
    int rc;
    const char *o =
        read_one(j,
                 " {\"ts\":1300475167.096535,\"n\":null,\"t\":true,\"i\":-5,"
                 "\"big\":18446744073709551614,\"s\":\"a\\u0041\\/\",\"x\":[1,{\"y\":2}],"
                 "\"e\":1.0e3,\"s\":\"last\"} \r\n",
                 &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(o, "ts=0:1300475167.096535;n=n:null;t=b:true;i=0:-5;"
                           "big=0:18446744073709551614;s=s:last;x=o:;e=0:1.0e3;");
    /* beyond 64 bits (json-c clamps): no usable value */
    o = read_one(j, "{\"a\":99999999999999999999,\"b\":-99999999999999999999}", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(o, "a=o:;b=o:;");
    /* a string holding NUL: no usable value */
    o = read_one(j, "{\"a\":\"x\\u0000y\"}", &rc);
    assert_string_equal(o, "a=o:;");
    /* the callback stops */
    static struct collect c;
    memset(&c, 0, sizeof c);
    c.stop_at = 2;
    const char *t = "{\"a\":1,\"b\":2,\"c\":3}";
    assert_int_equal(jin_object(j, t, strlen(t), collect, &c), -ECANCELED);
    assert_string_equal(c.out, "a=0:1;b=0:2;");
    jin_free(j);
}

static void test_refused(void **state)
{
    (void)state;
    struct jin *j;
    assert_int_equal(jin_new(4, &j), 0);
    static const char *const bad[] = {
        "{\"a\":1} x",
        "{\"a\":1",
        "[1,2]",
        "\"s\"",
        "{\"a\":1,}",
        "{a:1}",
        "{\"a\":\"\\q\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":\"x\x01y\"}",
        "{\"a\":[[[[1]]]]}",
        "{\"a\":01}",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        read_one(j, bad[i], &rc);
        if (rc != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_true(jin_error(j)[0] != 0);
    }
    /* a NUL byte inside the text */
    struct collect c = {0};
    assert_int_equal(jin_object(j, "{\"a\":1}\0", 8, collect, &c), -EINVAL);
    /* nesting up to the bound is fine */
    int rc;
    read_one(j, "{\"a\":[[[1]]]}", &rc);
    assert_int_equal(rc, 0);
    jin_free(j);
}

static void test_feed(void **state)
{
    (void)state;
    struct jin *j;
    assert_int_equal(jin_new(8, &j), 0);
    struct collect c = {0};
    size_t used;
    static const char *const lines[] = {"{\n", "\t\"type\" : \"FLOW\",\n", "\t\"s\" : \"}{\",\n",
                                        "\t\"o\" : {\"p\" : 1},\n"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        assert_int_equal(jin_feed(j, lines[i], strlen(lines[i]), &used, collect, &c), 0);
        assert_int_equal(used, strlen(lines[i]));
        assert_true(jin_pending(j));
    }
    const char *end = "\t\"n\" : 5\n},\n";
    assert_int_equal(jin_feed(j, end, strlen(end), &used, collect, &c), 1);
    assert_int_equal(used, strlen(end) - 2); /* up to the closing brace: ",\n" is the caller's */
    assert_false(jin_pending(j));
    assert_string_equal(c.out, "type=s:FLOW;s=s:}{;o=o:;n=0:5;");
    /* a whole object in one piece, then a broken one: dropped, the reader starts over */
    memset(&c, 0, sizeof c);
    const char *one = "{\"a\":1}";
    assert_int_equal(jin_feed(j, one, strlen(one), &used, collect, &c), 1);
    assert_int_equal(jin_feed(j, "{\"a\":", 5, &used, collect, &c), 0);
    assert_int_equal(jin_feed(j, "]", 1, &used, collect, &c), -EINVAL);
    assert_false(jin_pending(j));
    memset(&c, 0, sizeof c);
    assert_int_equal(jin_feed(j, one, strlen(one), &used, collect, &c), 1);
    assert_string_equal(c.out, "a=0:1;");
    /* jin_reset drops a half-read object */
    assert_int_equal(jin_feed(j, "{\"a\":", 5, &used, collect, &c), 0);
    jin_reset(j);
    assert_false(jin_pending(j));
    memset(&c, 0, sizeof c);
    assert_int_equal(jin_feed(j, one, strlen(one), &used, collect, &c), 1);
    assert_string_equal(c.out, "a=0:1;");
    jin_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
