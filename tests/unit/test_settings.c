/* Settings: defaults, the file over them, per-customer overrides and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detector.h"
#include "settings.h"

static int load(struct settings *s, const char *text, struct conf_error *err)
{
    assert_int_equal(settings_init(s), 0);
    snprintf(s->source_file, sizeof s->source_file, "t.conf");
    if (settings_load_text(s, "t.conf", text, strlen(text), err) < 0)
        return -1;
    return settings_validate(s, err);
}

static size_t det_index(const char *name)
{
    for (size_t i = 0; i < det_registry_count; i++)
        if (strcmp(det_registry[i]->name, name) == 0)
            return i;
    fail_msg("no detector %s", name);
    return 0;
}

/* the blocklist option struct's first fields, as det_blocklist.c lays them out */
struct bl_conf {
    uint64_t max_hits;
    bool inside_listed;
    double score_ip, score_port;
};

static void test_defaults_and_file(void **st)
{
    struct settings s;
    struct conf_error err;
    assert_int_equal(load(&s, "[pipeline]\nwindow = 2m\n[detector.blocklist]\nscore = 0.7\n", &err), 0);
    assert_int_equal(s.window, 120);
    assert_int_equal(s.lateness, 30);
    size_t d = det_index("blocklist");
    struct bl_conf c;
    assert_int_equal(settings_det_conf_for(&s, d, "nobody", &c), 0);
    assert_true(c.score_ip > 0.69 && c.score_ip < 0.71);
    settings_free(&s);
}

static void test_customer_override(void **st)
{
    struct settings s;
    struct conf_error err;
    /* the override section comes first: the global value set later still applies to others */
    const char *text = "[customer acme]\nblocklist.score = 0.3\nblocklist.inside_listed = no\n"
                       "[detector.blocklist]\nscore = 0.7\n";
    assert_int_equal(load(&s, text, &err), 0);
    size_t d = det_index("blocklist");
    struct bl_conf c;
    assert_int_equal(settings_det_conf_for(&s, d, "acme", &c), 2);
    assert_true(c.score_ip > 0.29 && c.score_ip < 0.31);
    assert_false(c.inside_listed);
    assert_int_equal(settings_det_conf_for(&s, d, "other", &c), 0);
    assert_true(c.score_ip > 0.69 && c.score_ip < 0.71);
    assert_true(c.inside_listed);
    assert_true(settings_has_overrides(&s, "acme"));
    assert_false(settings_has_overrides(&s, "other"));
    settings_free(&s);
}

static void expect_error(const char *text, unsigned line, const char *needle)
{
    struct settings s;
    struct conf_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(load(&s, text, &err), -1);
    assert_int_equal(err.line, line);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' lacks '%s'", err.msg, needle);
    settings_free(&s);
}

static void test_override_errors(void **st)
{
    expect_error("[customer a]\nnodot = 1\n", 2, "DETECTOR.KEY");
    expect_error("[customer a]\n\nnosuch.x = 1\n", 3, "unknown detector");
    expect_error("[customer a]\nblocklist.nosuch = 1\n", 2, "unknown option");
    expect_error("[customer a]\nblocklist.score = 7\n", 2, "blocklist.score");
    expect_error("[customer a]\nblocklist.score = 0.1\nblocklist.score = 0.2\n", 3, "duplicate");
    expect_error("[customer]\n", 1, "argument");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_file),
        cmocka_unit_test(test_customer_override),
        cmocka_unit_test(test_override_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
