/* tmpdir_test_util.h: the scratch directories of the unit tests that write files (test_spool,
 * test_kafka, test_sink_jsonl, test_afile): make one under /tmp, remove it with the files in it
 * (one level: the tests make no subdirectories). Header-only, static; include after cmocka.h. */
#ifndef TW_TMPDIR_TEST_UTIL_H
#define TW_TMPDIR_TEST_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A new directory /tmp/PREFIX_XXXXXX (asserted); the caller frees the name. */
static inline char *tmpdir_make(const char *prefix)
{
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/%s_XXXXXX", prefix);
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

/* Remove the files in dir, then dir. A missing dir is no error. */
static inline void tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* The file size limit a test lowers to make a full disk (test_sink_jsonl, test_spool), kept by
 * its setup and given back by its teardown, also when it fails (cmocka leaves a test by a
 * longjmp). fsize_saved: the limit in force before the test. */
static inline struct rlimit *fsize_saved(void)
{
    static struct rlimit saved;
    return &saved;
}

static inline int fsize_save(void **state)
{
    (void)state;
    return getrlimit(RLIMIT_FSIZE, fsize_saved());
}

static inline int fsize_restore(void **state)
{
    (void)state;
    signal(SIGXFSZ, SIG_DFL);
    return setrlimit(RLIMIT_FSIZE, fsize_saved());
}

#endif
