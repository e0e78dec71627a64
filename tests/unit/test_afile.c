/* test_afile: a file replaced whole (core/afile.h): the new content after a good close, the old
 * one and no .tmp after an abandoned write or a full disk, and the errors named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>

#include "afile.h"
#include "tmpdir_test_util.h"

struct fx {
    char *dir;
    char path[512], tmp[520];
};

static void fx_init(struct fx *x)
{
    x->dir = tmpdir_make("tw_afile");
    snprintf(x->path, sizeof x->path, "%s/f", x->dir);
    snprintf(x->tmp, sizeof x->tmp, "%s.tmp", x->path);
}

static void fx_fini(struct fx *x)
{
    tmpdir_remove(x->dir);
    free(x->dir);
}

/* The file's whole content (asserted to fit). */
static const char *content(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    assert_true(feof(f));
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* Replaces path with text; the close's result. */
static int replace(const char *path, const char *text, bool ok, bool sync)
{
    struct afile a;
    assert_int_equal(afile_open(&a, path, 0600), 0);
    bool wrote = fputs(text, a.f) >= 0;
    return afile_close(&a, ok && wrote, sync);
}

static void test_replaces_whole(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x);
    assert_int_equal(replace(x.path, "one\n", true, false), 0);
    assert_string_equal(content(x.path), "one\n");
    assert_int_equal(replace(x.path, "two\n", true, true), 0);
    assert_string_equal(content(x.path), "two\n");
    struct stat st;
    assert_int_equal(stat(x.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600 & ~(unsigned)umask(022));
    assert_int_equal(access(x.tmp, F_OK), -1);
    fx_fini(&x);
}

static void test_abandoned_keeps_old(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x);
    assert_int_equal(replace(x.path, "old\n", true, true), 0);
    errno = 0;
    assert_int_equal(replace(x.path, "new\n", false, true), -EIO);
    assert_string_equal(content(x.path), "old\n");
    assert_int_equal(access(x.tmp, F_OK), -1);
    fx_fini(&x);
}

/* A disk that fills (the file size limit) while the buffered data goes out at the close. */
static void test_full_disk_keeps_old(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x);
    assert_int_equal(replace(x.path, "old\n", true, true), 0);
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    struct rlimit lim = *fsize_saved();
    lim.rlim_cur = 1000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int sync = 0; sync < 2; sync++)
        assert_int_equal(replace(x.path, big, true, sync), -EFBIG);
    fsize_restore(NULL);
    assert_string_equal(content(x.path), "old\n");
    assert_int_equal(access(x.tmp, F_OK), -1);
    fx_fini(&x);
}

static void test_errors_named(void **state)
{
    (void)state;
    struct fx x;
    fx_init(&x);
    struct afile a;
    char path[PATH_MAX + 10];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = 0;
    assert_int_equal(afile_open(&a, path, 0600), -ENAMETOOLONG);
    snprintf(path, sizeof path, "%s/no/f", x.dir);
    assert_int_equal(afile_open(&a, path, 0600), -ENOENT);
    /* the rename fails (a directory in the way): the .tmp goes, the directory stays */
    assert_int_equal(mkdir(x.path, 0700), 0);
    snprintf(path, sizeof path, "%s/inner", x.path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(replace(x.path, "x", true, false) < 0);
    assert_int_equal(access(x.tmp, F_OK), -1);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(x.path), 0);
    fx_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replaces_whole),
        cmocka_unit_test(test_abandoned_keeps_old),
        cmocka_unit_test_setup_teardown(test_full_disk_keeps_old, fsize_save, fsize_restore),
        cmocka_unit_test(test_errors_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
