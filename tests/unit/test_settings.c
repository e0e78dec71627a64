/* Settings: defaults, the file over them, per-customer overrides and their errors. */
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

#include "detector.h"
#include "settings.h"

static int load(struct settings *s, const char *text, struct conf_error *err)
{
    assert_int_equal(settings_init(s), 0);
    snprintf(s->source_file, sizeof s->source_file, "t.conf");
    int rc = settings_load_text(s, "t.conf", text, strlen(text), err);
    return rc < 0 ? rc : settings_validate(s, err);
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
    assert_int_equal(load(&s, "[pipeline]\nwindow = 2m\n[detector.blocklist]\nscore = 0.7\n", &err),
                     0);
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

static void expect_error(const char *text, int rc, unsigned line, const char *needle)
{
    struct settings s;
    struct conf_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(load(&s, text, &err), rc);
    assert_int_equal(err.line, line);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' lacks '%s'", err.msg, needle);
    settings_free(&s);
}

static void test_override_errors(void **st)
{
    expect_error("[customer a]\nnodot = 1\n", -EINVAL, 2, "DETECTOR.KEY");
    expect_error("[customer a]\n\nnosuch.x = 1\n", -EINVAL, 3, "unknown detector");
    expect_error("[customer a]\nblocklist.nosuch = 1\n", -EINVAL, 2, "unknown option");
    expect_error("[customer a]\nblocklist.score = 7\n", -ERANGE, 2, "blocklist.score");
    expect_error("[customer a]\nblocklist.score = 0.1\nblocklist.score = 0.2\n", -EINVAL, 3,
                 "duplicate");
    expect_error("[customer]\n", -EINVAL, 1, "argument");
    /* the process's options: a table's size, the one prevalence view */
    expect_error("[customer a]\nbeacon.max_pairs = 100\n", -EINVAL, 2, "it sizes a table");
    expect_error("[customer a]\nbeacon.prevalence_horizon = 1h\n", -EINVAL, 2,
                 "one view for every customer");
}

/* Every detector's process-wide option names are its options. */
static void test_process_keys_exist(void **st)
{
    (void)st;
    for (size_t d = 0; d < det_registry_count; d++) {
        const struct detector_ops *op = det_registry[d];
        for (int l = 0; l < 2; l++)
            for (const char *const *n = l ? op->process_keys : op->sizes; n && *n; n++)
                if (!conf_find_key(op->conf_keys, *n))
                    fail_msg("%s: %s is no option", op->name, *n);
    }
}

static void count_change(void *arg, const char *key)
{
    char *names = arg;
    strcat(names, key);
    strcat(names, " ");
}

/* A reload names a detector's changed table size (it needs a restart), not its thresholds. */
static void test_restart_changes_sizes(void **st)
{
    (void)st;
    struct settings a, b;
    struct conf_error err;
    assert_int_equal(load(&a, "[detector.beacon]\nmax_pairs = 1000\n", &err), 0);
    assert_int_equal(load(&b,
                          "[detector.beacon]\nmax_pairs = 2000\nfast_min = 9\n[detector.spam]\n"
                          "max_hosts = 77\nfanout = 40\n",
                          &err),
                     0);
    char names[256] = "";
    assert_int_equal(settings_restart_changes(&a, &b, count_change, names), 2);
    assert_non_null(strstr(names, "detector.beacon.max_pairs "));
    assert_non_null(strstr(names, "detector.spam.max_hosts "));
    settings_free(&a);
    settings_free(&b);
}

/* [pipeline] reserve_memory: on by default (the daemon), off when the file says so, and a
 * value that is no boolean is refused with its line and key. */
static void test_reserve_memory(void **st)
{
    (void)st;
    struct settings s;
    struct conf_error err;
    assert_int_equal(load(&s, "[pipeline]\nwindow = 2m\n", &err), 0);
    assert_true(s.reserve_memory);
    settings_free(&s);
    assert_int_equal(load(&s, "[pipeline]\nreserve_memory = no\n", &err), 0);
    assert_false(s.reserve_memory);
    settings_free(&s);
    expect_error("[pipeline]\nwindow = 2m\nreserve_memory = maybe\n", -EINVAL, 3,
                 "reserve_memory = maybe: expected yes/no");
}

/* Issue 13.8: a config file in its own directory; errors name its file and the value's line,
 * relative paths are relative to it. */
static char tdir[64];
static const char *write_conf(const char *text)
{
    static char path[128];
    if (!tdir[0]) {
        snprintf(tdir, sizeof tdir, "/tmp/tw_settings_XXXXXX");
        assert_non_null(mkdtemp(tdir));
    }
    snprintf(path, sizeof path, "%s/t.conf", tdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_file_lines_and_paths(void **st)
{
    (void)st;
    struct settings s;
    struct conf_error err;
    const char *path = write_conf("[collector]\nlisten = 127.0.0.1:2055\n[pipeline]\nwindow = 1m\n"
                                  "detectors = spam, beacn\n");
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load(&s, path, &err), -EINVAL);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 5);
    assert_non_null(strstr(err.msg, "unknown detector 'beacn'"));
    settings_free(&s);

    path = write_conf("[metrics]\nlisten = localhost:19464\n");
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load(&s, path, &err), -EINVAL);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "metrics.listen"));
    settings_free(&s);

    path = write_conf("[collector]\nlisten = 127.0.0.1:2055,\n  127.0.0.1:99999\n");
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load(&s, path, &err), -EINVAL); /* a key line cannot continue */
    settings_free(&s);
    path = write_conf("[collector]\nlisten = 127.0.0.1:2055, 127.0.0.1:99999\n");
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load(&s, path, &err), -EINVAL);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "127.0.0.1:99999"));
    settings_free(&s);

    path = write_conf("[customers]\nfile = lists/map.csv\n[output]\njsonl = -\n"
                      "[kafka]\nspool_dir = /var/spool/tw\n[daemon]\npidfile = run/tw.pid\n");
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load(&s, path, &err), 0);
    char want[160];
    snprintf(want, sizeof want, "%s/lists/map.csv", tdir);
    assert_string_equal(s.customers_file, want);
    snprintf(want, sizeof want, "%s/run/tw.pid", tdir);
    assert_string_equal(s.pidfile, want);
    assert_string_equal(s.jsonl, "-");
    assert_string_equal(s.kafka.spool_dir, "/var/spool/tw");
    /* the command line's values stay as given (relative to the working directory) */
    const char *cli = "[customers]\nfile = m.csv\n";
    assert_int_equal(settings_load_text(&s, "command line", cli, strlen(cli), &err), 0);
    assert_string_equal(s.customers_file, "m.csv");
    settings_free(&s);
    unlink(path);
    rmdir(tdir);
}

/* The example per-customer key that help texts and errors show is itself valid. */
static void test_override_example_is_valid(void **st)
{
    (void)st;
    struct settings s;
    struct conf_error err;
    assert_int_equal(load(&s, "[customer acme]\n" SETTINGS_OVERRIDE_EXAMPLE " = 50\n", &err), 0);
    settings_free(&s);
    assert_int_equal(load(&s, "[customer acme]\nfanout = 5\n", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "e.g. " SETTINGS_OVERRIDE_EXAMPLE ")"));
    settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_file),
        cmocka_unit_test(test_customer_override),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_process_keys_exist),
        cmocka_unit_test(test_restart_changes_sizes),
        cmocka_unit_test(test_reserve_memory),
        cmocka_unit_test(test_file_lines_and_paths),
        cmocka_unit_test(test_override_example_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
