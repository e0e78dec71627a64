/* test_conf.c: the configuration reader: every type, bounds, suffixes, overflow, error lines,
 * duplicates, sections with arguments, comments, quotes, CRLF, limits, example round-trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_test_schema.h"

static struct cfg cfg;
static struct conf_error err;

static int load(const char *text)
{
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(conf_defaults(gen_keys, &cfg.gen), 0);
    memset(&err, 0, sizeof err);
    return conf_load_mem("t.conf", text, strlen(text), sections, &cfg, &err);
}

static void load_ok(const char *text)
{
    if (load(text) != 0)
        fail_msg("unexpected error: %s", err.msg);
}

/* Expect an error on line `line` whose message contains `part`. */
static void load_err(const char *text, unsigned line, const char *part)
{
    int rc = load(text);
    if (rc != -EINVAL && rc != -ERANGE && rc != -E2BIG && rc != -ENAMETOOLONG)
        fail_msg("want a negative errno for '%s', got %d", text, rc);
    if (err.line != line || !strstr(err.msg, part))
        fail_msg("want line %u '%s', got line %u '%s'", line, part, err.line, err.msg);
    assert_string_equal(err.file, "t.conf");
}

static void test_defaults(void **state)
{
    (void)state;
    load_ok("");
    assert_string_equal(cfg.gen.name, "tw");
    assert_int_equal(cfg.gen.count, 10000);
    assert_int_equal(cfg.gen.port, 2055);
    assert_true(cfg.gen.flag);
    assert_true(cfg.gen.ratio == 0.5);
    assert_int_equal(cfg.gen.window, 300);
    assert_int_equal(cfg.gen.buffer, 4 << 20);
    assert_int_equal(cfg.gen.mode, 1);
    assert_string_equal(cfg.gen.nodef, "");
    load_ok("# only a comment\n\n   \n\t# another\n");
}

static void test_all_types(void **state)
{
    (void)state;
    load_ok("[general]\n"
            "name = edge1\n"
            "count = 3M\n"
            "port = 9995\n"
            "flag = off\n"
            "ratio = 0.25\n"
            "window = 2h\n"
            "buffer = 16k\n"
            "mode = slow\n"
            "nodef = x\n");
    assert_string_equal(cfg.gen.name, "edge1");
    assert_int_equal(cfg.gen.count, 3000000);
    assert_int_equal(cfg.gen.port, 9995);
    assert_false(cfg.gen.flag);
    assert_true(cfg.gen.ratio == 0.25);
    assert_int_equal(cfg.gen.window, 7200);
    assert_int_equal(cfg.gen.buffer, 16384);
    assert_int_equal(cfg.gen.mode, 2);
    assert_string_equal(cfg.gen.nodef, "x");
}

static void test_suffixes(void **state)
{
    (void)state;
    struct {
        const char *text;
        uint64_t want;
        size_t off;
    } cases[] = {
        {"[general]\ncount = 7\n", 7, offsetof(struct gen, count)},
        {"[general]\ncount = 1k\n", 1000, offsetof(struct gen, count)},
        {"[general]\ncount = 2K\n", 2000, offsetof(struct gen, count)},
        {"[general]\ncount = 4G\n", 4000000000ULL, offsetof(struct gen, count)},
        {"[general]\ncount = 18446744073709551615\n", UINT64_MAX, offsetof(struct gen, count)},
        {"[general]\nbuffer = 1k\n", 1024, offsetof(struct gen, buffer)},
        {"[general]\nbuffer = 3KiB\n", 3072, offsetof(struct gen, buffer)},
        {"[general]\nbuffer = 2M\n", 2 << 20, offsetof(struct gen, buffer)},
        {"[general]\nbuffer = 1GiB\n", 1ULL << 30, offsetof(struct gen, buffer)},
        {"[general]\nbuffer = 1G\n", 1ULL << 30, offsetof(struct gen, buffer)},
        {"[general]\nwindow = 90\n", 90, offsetof(struct gen, window)},
        {"[general]\nwindow = 45s\n", 45, offsetof(struct gen, window)},
        {"[general]\nwindow = 3m\n", 180, offsetof(struct gen, window)},
        {"[general]\nwindow = 1d\n", 86400, offsetof(struct gen, window)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        load_ok(cases[i].text);
        uint64_t got;
        memcpy(&got, (char *)&cfg.gen + cases[i].off, sizeof got);
        assert_int_equal(got, cases[i].want);
    }
}

static void test_value_errors(void **state)
{
    (void)state;
    load_err("[general]\ncount = 18446744073709551616\n", 2, "too large");
    load_err("[general]\ncount = 18446744073709552G\n", 2, "too large");
    load_err("[general]\nbuffer = 99999999999999999G\n", 2, "too large");
    load_err("[general]\nwindow = 999999999999999999d\n", 2, "too large");
    load_err("[general]\nport = 4294967296\n", 2, "too large");
    load_err("[general]\nport = 0\n", 2, "out of range");
    load_err("[general]\nport = 65536\n", 2, "out of range");
    load_err("[general]\nwindow = 8d\n", 2, "out of range");
    load_err("[general]\nratio = 1.01\n", 2, "out of range");
    load_err("[general]\nratio = -0.1\n", 2, "out of range");
    const char *bad_u64[] = {"-1", "+1", "1x", "", "0x10", "1.5", "1 k", "k", "1kk", "1e3", NULL};
    char text[128];
    for (int i = 0; bad_u64[i]; i++) {
        snprintf(text, sizeof text, "[general]\ncount = %s\n", bad_u64[i]);
        load_err(text, 2, "count");
    }
    load_err("[general]\nport = 1k\n", 2, "expected a number");
    load_err("[general]\nbuffer = 1kb\n", 2, "expected a size");
    load_err("[general]\nwindow = 1w\n", 2, "expected a duration");
    load_err("[general]\nflag = maybe\n", 2, "expected yes/no");
    load_err("[general]\nflag =\n", 2, "expected yes/no");
    const char *bad_d[] = {"nan",   "inf", "-inf", "1e999", "0x1p3", "abc",
                           "1.0.0", ".",   "-",    "",      NULL};
    for (int i = 0; bad_d[i]; i++) {
        snprintf(text, sizeof text, "[general]\nratio = %s\n", bad_d[i]);
        load_err(text, 2, "ratio");
    }
    load_err("[general]\nmode = medium\n", 2, "expected fast or slow");
    load_err("[general]\nname = 0123456789abcdef\n", 2, "too long");
    load_ok("[general]\nname = 0123456789abcde\n"); /* exactly size - 1 */

    const char *good_bool[] = {"yes", "YES", "true", "on", "1", NULL};
    for (int i = 0; good_bool[i]; i++) {
        snprintf(text, sizeof text, "[general]\nflag = %s\n", good_bool[i]);
        load_ok(text);
        assert_true(cfg.gen.flag);
    }
    const char *good_nbool[] = {"no", "False", "off", "0", NULL};
    for (int i = 0; good_nbool[i]; i++) {
        snprintf(text, sizeof text, "[general]\nflag = %s\n", good_nbool[i]);
        load_ok(text);
        assert_false(cfg.gen.flag);
    }
    load_ok("[general]\nratio = .75\n");
    assert_true(cfg.gen.ratio == 0.75);
    load_ok("[general]\nratio = 1e-1\n");
    assert_true(cfg.gen.ratio == 0.1);
}

static void test_structure_errors(void **state)
{
    (void)state;
    load_err("# c\n\n[nosuch]\n", 3, "unknown section [nosuch]");
    load_err("[general]\nport = 1\n\n# x\nbogus = 1\n", 5, "unknown key 'bogus' in [general]");
    load_err("[general]\nport = 1\nflag = no\nport = 2\n", 4,
             "duplicate key 'port' (first set on line 2)");
    load_err("port = 1\n", 1, "before any [section]");
    load_err("[general\n", 1, "without ']'");
    load_err("[general] x\n", 1, "text after the section header");
    load_err("[]\n", 1, "empty section name");
    load_err("[peer]\n", 1, "needs an argument");
    load_err("[general extra]\n", 1, "takes no argument");
    load_err("[general]\n[peer a]\n[general]\n", 3, "appears twice");
    load_err("[general]\njust words\n", 2, "expected 'key = value'");
    load_err("[general]\n= 5\n", 2, "missing key");
    load_err("[general]\npo rt = 5\n", 2, "bad character");
    load_err("[peer a]\n[peer b]\n[peer c]\n", 3, "too many instances");
    load_err("[peer a]\n[peer a]\n", 2, "defined twice");
    /* the same key in two instances is not a duplicate */
    load_ok("[peer a]\nweight = 5\n[peer b]\nweight = 6\n# end");
    assert_int_equal(cfg.ninst, 2);
    assert_string_equal(cfg.inst[0].arg, "a");
    assert_int_equal(cfg.inst[0].weight, 5);
    assert_string_equal(cfg.inst[1].arg, "b");
    assert_int_equal(cfg.inst[1].weight, 6);
    assert_string_equal(cfg.inst[1].label, "a # b"); /* default applied by open */
    load_err("[peer a]\nweight = 101\n", 2, "out of range");
    load_err("[peer a]\nport = 1\n", 2, "unknown key 'port' in [peer]");
}

static void test_comments_quotes_crlf(void **state)
{
    (void)state;
    load_ok("  [ general ]   # trailing comment\n"
            "name = edge # a note\n"
            "nodef=\"a#b\"  # quoted keeps the hash\n"
            "\t port\t=\t77\t\n");
    assert_string_equal(cfg.gen.name, "edge");
    assert_string_equal(cfg.gen.nodef, "a#b");
    assert_int_equal(cfg.gen.port, 77);
    load_ok("[general]\nname = \"  sp \\\"q\\\\ \"\n");
    assert_string_equal(cfg.gen.name, "  sp \"q\\ ");
    load_ok("[general]\nname = \"\"\n");
    assert_string_equal(cfg.gen.name, "");
    load_ok("[peer \"x y\"]\n");
    assert_string_equal(cfg.inst[0].arg, "x y");
    load_ok("[peer 192.0.2.1]\nlabel = \"core # 1\"\n");
    assert_string_equal(cfg.inst[0].arg, "192.0.2.1");
    assert_string_equal(cfg.inst[0].label, "core # 1");
    load_err("[general]\nname = \"open\n", 2, "missing closing quote");
    load_err("[general]\nname = \"a\" b\n", 2, "text after the closing quote");

    /* CRLF, a BOM, no final newline */
    load_ok(
        "\xef\xbb\xbf[general]\r\nport = 99\r\n\r\n# c\r\nname = crlf\r\n[peer z]\r\nweight = 3");
    assert_int_equal(cfg.gen.port, 99);
    assert_string_equal(cfg.gen.name, "crlf");
    assert_int_equal(cfg.inst[0].weight, 3);
    load_err("[general]\r\nport = 1\r\nbad = 2\r\n", 3, "unknown key");
}

static void test_limits(void **state)
{
    (void)state;
    /* a 4096-byte line is fine, a 4097-byte line is an error naming its line */
    size_t n = 8192 + 64;
    char *t = malloc(n);
    assert_non_null(t);
    int p = snprintf(t, n, "[general]\n#");
    memset(t + p, 'x', 4095);
    p += 4095;
    t[p++] = '\n';
    t[p++] = '#';
    memset(t + p, 'x', 4096);
    p += 4096;
    t[p++] = '\n';
    t[p] = '\0';
    load_err(t, 3, "line longer than 4096");
    free(t);

    /* NUL byte */
    const char nul[] = "[general]\nport = 1\0\n";
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(conf_load_mem("t.conf", nul, sizeof nul - 1, sections, &cfg, &err), -EINVAL);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "NUL"));

    /* size limit (checked before anything is read) */
    assert_int_equal(
        conf_load_mem("t.conf", "", (size_t)16 * 1024 * 1024 + 1, sections, &cfg, &err), -EFBIG);
    assert_non_null(strstr(err.msg, "larger than"));
    /* NULL err is allowed */
    assert_int_equal(conf_load_mem("t.conf", "[x]", 3, sections, &cfg, NULL), -EINVAL);
}

static void test_file_and_example_roundtrip(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    conf_write_example(m, sections);
    fclose(m);
    assert_non_null(strstr(text, "[general]\n"));
    assert_non_null(strstr(text, "# [peer ARG]"));
    assert_non_null(
        strstr(text, "# UDP port (number, default 2055, range 1..65535)\nport = 2055\n"));
    assert_non_null(strstr(text, "# nodef =\n"));
    assert_non_null(strstr(text, "# label = \"a # b\"\n"));

    /* to a file and back through conf_load */
    char path[] = "/tmp/tw_test_conf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    memset(&cfg, 0, sizeof cfg);
    int rc = conf_load(path, sections, &cfg, &err);
    if (rc != 0)
        fail_msg("example does not load: %s\n%s", err.msg, text);
    assert_int_equal(cfg.gen.count, 10000);
    assert_int_equal(cfg.gen.port, 2055);
    assert_int_equal(cfg.gen.buffer, 4 << 20);

    /* the example with the instance section uncommented also loads */
    char *t2 = malloc(len + 64);
    assert_non_null(t2);
    snprintf(t2, len + 64, "%s[peer p1]\nweight = 7\n", text);
    load_ok(t2);
    assert_int_equal(cfg.inst[0].weight, 7);
    free(t2);
    unlink(path);
    free(text);

    assert_int_equal(conf_load("/nonexistent/tw.conf", sections, &cfg, &err), -ENOENT);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.file, "/nonexistent/tw.conf");
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(conf_load("/tmp", sections, &cfg, &err), -EINVAL);
}

static void test_helpers(void **state)
{
    (void)state;
    char s[64] = "  \t a b \r\n";
    assert_string_equal(conf_trim(s), "a b");
    char l[64] = " a, b ,c,, d ";
    char *items[8];
    assert_int_equal(conf_split(l, ',', items, 8), 5);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[1], "b");
    assert_string_equal(items[2], "c");
    assert_string_equal(items[3], "");
    assert_string_equal(items[4], "d");
    char l2[64] = "x,y,z";
    assert_int_equal(conf_split(l2, ',', items, 2), -ENOSPC);
    char l3[8] = "   ";
    assert_int_equal(conf_split(l3, ',', items, 2), 0);
    assert_non_null(conf_find_key(gen_keys, "port"));
    assert_null(conf_find_key(gen_keys, "nope"));
    struct conf_error e;
    conf_error_set(&e, "f.csv", 0, "bad %d", 7);
    assert_string_equal(e.msg, "bad 7");
    assert_string_equal(e.file, "f.csv");
    assert_int_equal(e.line, 0);
    conf_error_set(&e, "f.csv", 12, "bad");
    assert_string_equal(e.msg, "bad");
    assert_int_equal(e.line, 12);
    conf_error_set(NULL, "f", 1, "x");

    /* conf_set directly, and a default out of bounds is reported */
    char msg[128];
    struct gen g;
    memset(&g, 0, sizeof g);
    assert_int_equal(conf_set(&gen_keys[2], &g, "80", msg, sizeof msg), 0);
    assert_int_equal(g.port, 80);
    assert_int_equal(conf_set(&gen_keys[2], &g, "x", msg, sizeof msg), -EINVAL);
    assert_non_null(strstr(msg, "port"));
    static const struct conf_key badkeys[] = {
        {"p", CONF_U32, 0, 0, 1, 10, "11", "x", NULL},
        {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
    };
    uint32_t v;
    assert_int_equal(conf_defaults(badkeys, &v), -ERANGE);

    /* a file's first bytes: as many as there are, or the open's errno */
    char path[] = "/tmp/tw_conf_head_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x1f\x8b\x08", 3), 3);
    close(fd);
    unsigned char h[4] = {0};
    assert_int_equal(conf_read_head(path, h, 2), 2);
    assert_int_equal(h[0], 0x1f);
    assert_int_equal(h[1], 0x8b);
    assert_int_equal(conf_read_head(path, h, sizeof h), 3); /* short file */
    unlink(path);
    assert_int_equal(conf_read_head(path, h, sizeof h), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_suffixes),         cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_structure_errors), cmocka_unit_test(test_comments_quotes_crlf),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_file_and_example_roundtrip),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
