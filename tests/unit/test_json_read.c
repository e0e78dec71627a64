/* json_read: values found by path, arrays iterated, strings unescaped; malformed, truncated
 * and deeply nested texts find nothing and never read past the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_read.h"

static const char DOC[] =
    " {\"a\":{\"b\":[1,2,{\"c\":\"x\\\"y\\u0041\\u00e9\"}],\"n\":-12.5e1,\"t\":true,\"z\":null},"
    "\"s\" : \"plain\", \"u\":18446744073709551615, \"e\":{}, \"l\":[] } ";

static void test_get(void **st)
{
    (void)st;
    struct jr_val d, v;
    assert_true(jr_parse(DOC, strlen(DOC), &d));
    assert_int_equal(d.type, JR_OBJECT);
    assert_true(jr_get(&d, "s", &v));
    assert_true(jr_is(&v, "plain"));
    char buf[64];
    assert_true(jr_get(&d, "a.b.2.c", &v));
    assert_int_equal(jr_text(&v, buf, sizeof buf), 5);
    assert_string_equal(buf, "x\"yA?");
    assert_true(jr_get(&d, "a.b.1", &v));
    uint64_t u;
    assert_true(jr_u64(&v, &u));
    assert_int_equal(u, 2);
    assert_true(jr_get(&d, "u", &v));
    assert_true(jr_u64(&v, &u));
    assert_true(u == UINT64_MAX);
    double x;
    assert_true(jr_get(&d, "a.n", &v));
    assert_true(jr_double(&v, &x));
    assert_true(x == -125.0);
    assert_false(jr_u64(&v, &u));
    assert_true(jr_get(&d, "a.t", &v));
    assert_int_equal(v.type, JR_TRUE);
    assert_true(jr_get(&d, "a.z", &v));
    assert_int_equal(v.type, JR_NULL);
    assert_false(jr_get(&d, "a.b.3", &v));
    assert_false(jr_get(&d, "a.q", &v));
    assert_false(jr_get(&d, "s.x", &v));
    assert_false(jr_get(&d, "a.b.x", &v));
    assert_true(jr_get(&d, "e", &v));
    assert_int_equal(v.type, JR_OBJECT);
    struct jr_val k, e;
    size_t pos = 0;
    assert_false(jr_next(&v, &pos, &k, &e));
    /* iteration: members in order, array elements without keys */
    assert_true(jr_get(&d, "a.b", &v));
    pos = 0;
    int n = 0;
    while (jr_next(&v, &pos, &k, &e)) {
        assert_int_equal(k.type, JR_NONE);
        n++;
    }
    assert_int_equal(n, 3);
    pos = 0;
    n = 0;
    while (jr_next(&d, &pos, &k, &e))
        n++;
    assert_int_equal(n, 5);
    /* cut output */
    assert_true(jr_get(&d, "s", &v));
    assert_int_equal(jr_text(&v, buf, 3), 2);
    assert_string_equal(buf, "pl");
}

static void test_malformed(void **st)
{
    (void)st;
    static const char *const bad[] = {
        "",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{\"a\":1}x",
        "{a:1}",
        "\"unterminated",
        "tru",
        "-",
        "1e",
        "{\"a\":\"ctl\x01\"}",
        "[01.]",
    };
    struct jr_val v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(jr_parse(bad[i], strlen(bad[i]), &v));
    /* every proper prefix of a valid text is refused (and read within its length) */
    size_t full = strlen(DOC) - 1; /* without the trailing blank */
    for (size_t n = 0; n < full; n++) {
        char *cut = malloc(n ? n : 1); /* exactly n bytes: ASan sees any read past them */
        memcpy(cut, DOC, n);
        assert_false(jr_parse(cut, n, &v));
        free(cut);
    }
    /* nesting is bounded */
    char deep[2 * JR_MAX_DEPTH + 8];
    size_t d = 0;
    for (int i = 0; i < JR_MAX_DEPTH + 2; i++)
        deep[d++] = '[';
    for (int i = 0; i < JR_MAX_DEPTH + 2; i++)
        deep[d++] = ']';
    assert_false(jr_parse(deep, d, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
