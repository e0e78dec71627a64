/* test_log.c: line format, level filter, one line per call, truncation, tw_log_once. */
#include <pthread.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr redirected to a temp file; return what was written (static buffer). */
static char captured[262144];
static const char *capture(void (*fn)(void))
{
    char path[] = "/tmp/tw_test_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    off_t end = lseek(fd, 0, SEEK_END);
    assert_true(end >= 0 && (size_t)end < sizeof captured);
    assert_int_equal(pread(fd, captured, (size_t)end, 0), end);
    captured[end] = '\0';
    close(fd);
    return captured;
}

static void emit_levels(void)
{
    tw_log_init("twtest", TW_LOG_WARN, false);
    log_error("bad %d", 1);
    log_warn("careful");
    log_info("hidden");
    log_debug("hidden too");
    tw_log_set_level(TW_LOG_DEBUG);
    log_debug("now shown\n");
    log_info("two\nlines");
}

static void test_format_and_levels(void **state)
{
    (void)state;
    const char *out = capture(emit_levels);
    char want[128];
    snprintf(want, sizeof want, " twtest[%ld]: error: bad 1\n", (long)getpid());
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "]: warn: careful\n"));
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "]: debug: now shown\n"));
    assert_non_null(strstr(out, "]: info: two lines\n"));
    /* every line starts with an RFC 3339 UTC second: "YYYY-MM-DDTHH:MM:SSZ " */
    int lines = 0;
    for (const char *p = out; *p; lines++) {
        assert_true(strlen(p) > 21);
        assert_int_equal(p[4], '-');
        assert_int_equal(p[7], '-');
        assert_int_equal(p[10], 'T');
        assert_int_equal(p[13], ':');
        assert_int_equal(p[16], ':');
        assert_int_equal(p[19], 'Z');
        assert_int_equal(p[20], ' ');
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        p = nl + 1;
    }
    assert_int_equal(lines, 4);
}

static void emit_long(void)
{
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tw_log_init("twtest", TW_LOG_INFO, false);
    log_info("%s", big);
    log_info("after");
}

/* Issue 13.14: when stderr is the journal (JOURNAL_STREAM = its dev:inode), no time stamp of
 * our own and an sd-daemon "<N>" priority prefix, so journald files errors as errors. */
static void emit_journal(void)
{
    struct stat st;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    char js[64];
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    tw_log_init("twtest", TW_LOG_DEBUG, false);
    log_error("disk full");
    log_warn("slow");
    log_info("started");
    log_debug("detail");
    setenv("JOURNAL_STREAM", "1:2", 1); /* another stream: not the journal */
    tw_log_init("twtest", TW_LOG_DEBUG, false);
    log_error("plain again");
    unsetenv("JOURNAL_STREAM");
    tw_log_init("twtest", TW_LOG_INFO, false);
}

static void test_journal_format(void **state)
{
    (void)state;
    const char *out = capture(emit_journal);
    assert_non_null(strstr(out, "<3>error: disk full\n<4>warn: slow\n<6>info: started\n"
                                "<7>debug: detail\n"));
    char want[128];
    snprintf(want, sizeof want, "Z twtest[%ld]: error: plain again\n", (long)getpid());
    assert_non_null(strstr(out, want));
}

static void test_truncation(void **state)
{
    (void)state;
    const char *out = capture(emit_long);
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_true(nl - out < 4096);
    assert_memory_equal(nl - 3, "...", 3);
    assert_non_null(strstr(nl + 1, "info: after\n"));
}

static void *log_thread(void *arg)
{
    for (int i = 0; i < 200; i++)
        log_info("thread %ld line %d padding-padding-padding-padding", (long)(intptr_t)arg, i);
    return NULL;
}

static void emit_threads(void)
{
    tw_log_init("twtest", TW_LOG_INFO, false);
    pthread_t th[4];
    for (intptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_thread, (void *)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
}

static void test_threads_whole_lines(void **state)
{
    (void)state;
    const char *out = capture(emit_threads);
    int lines = 0;
    for (const char *p = out; *p; lines++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        /* each line is exactly one record */
        const char *pad = strstr(p, "padding-padding-padding-padding");
        assert_true(pad && pad < nl && pad + 31 == nl);
        p = nl + 1;
    }
    assert_int_equal(lines, 800);
}

static void test_level_parse_and_once(void **state)
{
    (void)state;
    enum tw_log_level l;
    assert_int_equal(tw_log_level_parse("error", &l), 0);
    assert_int_equal(l, TW_LOG_ERROR);
    assert_int_equal(tw_log_level_parse("WARN", &l), 0);
    assert_int_equal(l, TW_LOG_WARN);
    assert_int_equal(tw_log_level_parse("warning", &l), 0);
    assert_int_equal(l, TW_LOG_WARN);
    assert_int_equal(tw_log_level_parse("info", &l), 0);
    assert_int_equal(l, TW_LOG_INFO);
    assert_int_equal(tw_log_level_parse("debug", &l), 0);
    assert_int_equal(l, TW_LOG_DEBUG);
    assert_int_equal(tw_log_level_parse("verbose", &l), -EINVAL);
    assert_int_equal(tw_log_level_parse("", &l), -EINVAL);
    assert_int_equal(tw_log_level_parse(NULL, &l), -EINVAL);

    static int flag;
    assert_true(tw_log_once(&flag));
    assert_false(tw_log_once(&flag));
    assert_false(tw_log_once(&flag));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_levels),    cmocka_unit_test(test_journal_format),
        cmocka_unit_test(test_truncation),           cmocka_unit_test(test_threads_whole_lines),
        cmocka_unit_test(test_level_parse_and_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
