/* test_sink_jsonl.c: the JSON-lines sink writes one line per message, filters kinds, reopens
 * after a rename (logrotate), writes complete gzip files, and counts what a full disk keeps
 * from the file as lost without leaving a torn line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "exporter.h"
#include "json.h"
#include "sink_jsonl.h"
#include "tmpdir_test_util.h"

static size_t read_file(const char *path, bool gz, char *buf, size_t cap)
{
    gzFile f = gzopen(path, "rb"); /* also reads plain files transparently */
    assert_non_null(f);
    int n = gzread(f, buf, (unsigned)cap - 1);
    assert_true(n >= 0);
    if (gz) {
        int errnum = 0;
        gzerror(f, &errnum);
        assert_int_equal(errnum, Z_OK);
    }
    gzclose(f);
    buf[n] = 0;
    return (size_t)n;
}

/* A fresh directory with the sink's file name in it (and the name a rotation gives it). */
struct fx {
    char *dir;
    char path[512], rotated[520];
    struct sink s;
    char err[256];
};

static void fx_init(struct fx *x, const char *name)
{
    x->dir = tmpdir_make("tw_jsonl");
    snprintf(x->path, sizeof x->path, "%s/%s", x->dir, name);
    snprintf(x->rotated, sizeof x->rotated, "%s.1", x->path);
}

/* Open the sink on x->path (asserted to succeed). */
static void fx_open(struct fx *x, bool gzip, bool truncate, unsigned kinds_mask)
{
    assert_int_equal(
        sink_jsonl_new(x->path, gzip, truncate, kinds_mask, &x->s, x->err, sizeof x->err), 0);
}

static void fx_fini(struct fx *x)
{
    tmpdir_remove(x->dir);
    free(x->dir);
}

static void pub(struct sink *s, enum msg_kind k, const char *json)
{
    assert_int_equal(s->ops->publish(s->self, k, "c1", 2, json, strlen(json)), 0);
}

static void test_lines_and_mask(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x, "out.jsonl");
    fx_open(&x, false, false, SINK_JSONL_KIND(MSG_ALERT) | SINK_JSONL_KIND(MSG_TOTALS));
    struct sink s = x.s;
    const char *path = x.path;
    pub(&s, MSG_ALERT, "{\"a\":1}");
    pub(&s, MSG_SUMMARY, "{\"s\":1}"); /* filtered out: taken, not written */
    pub(&s, MSG_TOTALS, "{\"t\":1}");
    assert_int_equal(s.ops->flush(s.self, 0), 0);
    char buf[4096];
    read_file(path, false, buf, sizeof buf);
    assert_string_equal(buf, "{\"a\":1}\n{\"t\":1}\n");

    char sb[512];
    struct json j;
    json_init(&j, sb, sizeof sb);
    json_obj_open(&j, NULL);
    s.ops->stats_json(s.self, &j);
    json_obj_close(&j);
    assert_false(json_error(&j));
    assert_non_null(strstr(sb, "\"written\":2"));
    assert_non_null(strstr(sb, "\"skipped\":1"));
    s.ops->destroy(s.self);
    fx_fini(&x);
}

static void test_reopen_after_rename(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x, "out.jsonl");
    fx_open(&x, false, false, SINK_JSONL_ALL);
    struct sink s = x.s;
    const char *path = x.path, *rotated = x.rotated;
    pub(&s, MSG_ALERT, "{\"n\":1}");
    assert_int_equal(rename(path, rotated), 0);
    pub(&s, MSG_ALERT, "{\"n\":2}"); /* still goes to the renamed file (same inode) */
    s.ops->reopen(s.self);
    pub(&s, MSG_ALERT, "{\"n\":3}");
    s.ops->destroy(s.self);
    char buf[4096];
    read_file(rotated, false, buf, sizeof buf);
    assert_string_equal(buf, "{\"n\":1}\n{\"n\":2}\n");
    read_file(path, false, buf, sizeof buf);
    assert_string_equal(buf, "{\"n\":3}\n");
    fx_fini(&x);
}

/* Issue 13.1: a tailing reader sees every message whole within a poll (100 ms in the daemon),
 * never a file ending mid-message, however the messages fall against the stdio buffer. */
static void test_poll_flushes_whole_lines(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x, "out.jsonl");
    fx_open(&x, false, false, SINK_JSONL_ALL);
    struct sink s = x.s;
    const char *path = x.path;
    static char msg[3001], big[70001];
    static char buf[1 << 20];
    memset(msg, 'x', sizeof msg - 1);
    memcpy(msg, "{\"a\":\"", 6);
    memcpy(msg + sizeof msg - 3, "\"}", 2);
    msg[sizeof msg - 1] = 0;
    memcpy(big, msg, 6);
    memset(big + 6, 'y', sizeof big - 9);
    memcpy(big + sizeof big - 3, "\"}", 2);
    big[sizeof big - 1] = 0;
    size_t want = 0;
    for (int i = 0; i < 60; i++) {
        pub(&s, MSG_ALERT, i == 30 ? big : msg);
        want += (i == 30 ? strlen(big) : strlen(msg)) + 1;
        size_t n = read_file(path, false, buf, sizeof buf);
        assert_true(n == 0 || buf[n - 1] == '\n'); /* whole lines or nothing, always */
    }
    s.ops->poll(s.self);
    assert_int_equal(read_file(path, false, buf, sizeof buf), want);
    pub(&s, MSG_SUMMARY, "{\"s\":1}");
    s.ops->poll(s.self);
    assert_int_equal(read_file(path, false, buf, sizeof buf), want + 8);
    s.ops->destroy(s.self);
    fx_fini(&x);
}

/* Issue 13.9: replay -o truncates; without it (the daemon, --append) the file is appended to. */
static void test_truncate_or_append(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x, "out.jsonl");
    const char *path = x.path;
    char buf[256];
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"old\":1}\n", f);
    fclose(f);
    fx_open(&x, false, false, SINK_JSONL_ALL);
    struct sink s = x.s;
    pub(&s, MSG_ALERT, "{\"n\":1}");
    s.ops->destroy(s.self);
    read_file(path, false, buf, sizeof buf);
    assert_string_equal(buf, "{\"old\":1}\n{\"n\":1}\n");
    fx_open(&x, false, true, SINK_JSONL_ALL);
    s = x.s;
    pub(&s, MSG_ALERT, "{\"n\":2}");
    s.ops->reopen(s.self); /* a reopen appends */
    pub(&s, MSG_ALERT, "{\"n\":3}");
    s.ops->destroy(s.self);
    read_file(path, false, buf, sizeof buf);
    assert_string_equal(buf, "{\"n\":2}\n{\"n\":3}\n");
    fx_fini(&x);
}

static void test_gzip(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x, "out.jsonl.gz");
    fx_open(&x, true, false, SINK_JSONL_ALL);
    struct sink s = x.s;
    const char *path = x.path, *rotated = x.rotated;
    char line[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(line, sizeof line, "{\"i\":%d}", i);
        pub(&s, MSG_ALERT, line);
    }
    assert_int_equal(s.ops->flush(s.self, 0), 0);
    assert_int_equal(rename(path, rotated), 0);
    s.ops->reopen(s.self); /* finishes the first gzip member */
    pub(&s, MSG_SUMMARY, "{\"last\":true}");
    s.ops->destroy(s.self);

    static char buf[1 << 16];
    size_t n = read_file(rotated, true, buf, sizeof buf);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, 1000);
    assert_memory_equal(buf, "{\"i\":0}\n{\"i\":1}\n", 16);
    assert_non_null(strstr(buf, "{\"i\":999}\n"));
    read_file(path, true, buf, sizeof buf);
    assert_string_equal(buf, "{\"last\":true}\n");
    /* Both files are real gzip (magic bytes). */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char magic[2];
    assert_int_equal(fread(magic, 1, 2, f), 2);
    fclose(f);
    assert_int_equal(magic[0], 0x1f);
    assert_int_equal(magic[1], 0x8b);
    fx_fini(&x);
}

/* The sink's counter with this metric name. */
static uint64_t counter(struct sink *s, const char *metric)
{
    uint64_t snap[SINK_SNAP_MAX / sizeof(uint64_t)];
    const struct ctr_def *d;
    size_t n = s->ops->counters(s->self, &d, snap);
    for (size_t i = 0; i < n; i++)
        if (d[i].metric && strcmp(d[i].metric, metric) == 0)
            return snap[d[i].off / sizeof(uint64_t)];
    fail_msg("no counter %s", metric);
    return 0;
}

/* A full disk (here the file size limit: the flush puts part of the buffer out, then fails):
 * every message buffered since the last flush is lost and counted so, the file is cut back to
 * its last whole line, /healthz sees the loss with the file's name, and the next messages are
 * whole lines again. /dev/full: nothing reaches it, everything is lost. */
static void test_full_disk_loses_whole_messages(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x, "out.jsonl");
    fx_open(&x, false, false, SINK_JSONL_ALL);
    struct sink s = x.s;
    static char msg[3001], buf[1 << 16];
    memset(msg, 'x', sizeof msg - 1);
    memcpy(msg, "{\"a\":\"", 6);
    memcpy(msg + sizeof msg - 3, "\"}", 2);
    msg[sizeof msg - 1] = 0;
    pub(&s, MSG_ALERT, msg);
    s.ops->poll(s.self);
    assert_int_equal(counter(&s, "jsonl_written_messages_total"), 1);

    struct rlimit lim = *fsize_saved();
    lim.rlim_cur = 10000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int i = 0; i < 5; i++)
        pub(&s, MSG_ALERT, msg);
    s.ops->poll(s.self);
    assert_int_equal(counter(&s, "jsonl_written_messages_total"), 1);
    assert_int_equal(counter(&s, "jsonl_lost_messages_total"), 5);
    assert_int_equal(read_file(x.path, false, buf, sizeof buf), strlen(msg) + 1);
    struct sink_health h = {0};
    s.ops->health(s.self, &h);
    assert_int_equal(h.lost, 5);
    assert_string_equal(h.where, x.path);

    pub(&s, MSG_SUMMARY, "{\"s\":1}");
    s.ops->poll(s.self);
    size_t n = read_file(x.path, false, buf, sizeof buf);
    assert_int_equal(n, strlen(msg) + 1 + 8);
    assert_string_equal(buf + n - 8, "{\"s\":1}\n");
    assert_int_equal(counter(&s, "jsonl_written_messages_total"), 2);
    s.ops->destroy(s.self);
    fx_fini(&x);

    char err[256];
    assert_int_equal(sink_jsonl_new("/dev/full", false, false, SINK_JSONL_ALL, &s, err, sizeof err),
                     0);
    pub(&s, MSG_ALERT, "{\"a\":1}");
    pub(&s, MSG_ALERT, "{\"a\":2}");
    assert_int_equal(s.ops->flush(s.self, 0), -EIO);
    assert_int_equal(counter(&s, "jsonl_written_messages_total"), 0);
    assert_int_equal(counter(&s, "jsonl_lost_messages_total"), 2);
    s.ops->destroy(s.self);
}

static void test_stdout_and_errors(void **state)
{
    (void)state;
    struct sink s;
    char err[256];
    assert_int_equal(
        sink_jsonl_new("-", false, false, SINK_JSONL_KIND(MSG_TOTALS), &s, err, sizeof err), 0);
    pub(&s, MSG_ALERT, "{\"not\":\"written\"}");
    assert_int_equal(s.ops->flush(s.self, 0), 0);
    s.ops->reopen(s.self);
    s.ops->destroy(s.self);
    err[0] = 0;
    assert_int_equal(sink_jsonl_new("/nonexistent-dir/x/y.jsonl", false, false, SINK_JSONL_ALL, &s,
                                    err, sizeof err),
                     -ENOENT);
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_mask),
        cmocka_unit_test(test_reopen_after_rename),
        cmocka_unit_test(test_poll_flushes_whole_lines),
        cmocka_unit_test(test_truncate_or_append),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test_setup_teardown(test_full_disk_loses_whole_messages, fsize_save,
                                        fsize_restore),
        cmocka_unit_test(test_stdout_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
