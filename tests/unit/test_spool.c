/* test_spool.c: the write-ahead spool keeps records in order across reopen, deletes acknowledged
 * segments, counts what the size bound or a full disk refuses (and takes messages again once
 * the broker caught up), and recovers around damaged bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "tmpdir_test_util.h"

/* Message i: deterministic, varying length, compressible. */
static size_t msg(uint64_t i, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "{\"event\":{\"id\":\"%llu\"},\"pad\":\"%0*d\"}",
                     (unsigned long long)i, (int)(i % 300), 7);
    return (size_t)n;
}

static struct spool *open_sp(const char *dir, uint64_t max, uint64_t seg)
{
    struct spool_opts o = {.dir = dir,
                           .max_bytes = max,
                           .segment_bytes = seg,
                           .block_bytes = 4096,
                           .fsync = SPOOL_FSYNC_BATCH,
                           .fsync_ms = 10,
                           .zlevel = -1};
    struct spool *sp = NULL;
    char err[256];
    int rc = spool_open(&o, &sp, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    return sp;
}

static void check_range(struct spool *sp, uint64_t from, uint64_t to)
{
    char buf[1024], key[32];
    for (uint64_t i = from; i < to; i++) {
        struct spool_rec r;
        assert_int_equal(spool_get(sp, i, &r), 1);
        assert_int_equal(r.seq, i);
        size_t n = msg(i, buf, sizeof buf);
        assert_int_equal(r.len, n);
        assert_memory_equal(r.data, buf, n);
        int kl = snprintf(key, sizeof key, "cust%llu", (unsigned long long)(i % 7));
        assert_int_equal(r.keylen, (size_t)kl);
        assert_memory_equal(r.key, key, (size_t)kl);
        assert_int_equal(r.kind, i % 2);
    }
}

static void append_n(struct spool *sp, uint64_t n)
{
    char buf[1024], key[32];
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = spool_head(sp), seq;
        size_t len = msg(i, buf, sizeof buf);
        int kl = snprintf(key, sizeof key, "cust%llu", (unsigned long long)(i % 7));
        assert_int_equal(spool_append(sp, (uint8_t)(i % 2), key, (size_t)kl, buf, len, &seq), 0);
        assert_int_equal(seq, i);
    }
}

static void test_roundtrip_reopen(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tw_spool");
    struct spool *sp = open_sp(dir, 64u << 20, 0);
    append_n(sp, 5000);
    assert_int_equal(spool_commit(sp), 0);
    check_range(sp, 0, 5000);
    check_range(sp, 1234, 1300); /* rewind */
    spool_ack(sp, 2000);
    spool_tick(sp, 1000);
    spool_close(sp);

    sp = open_sp(dir, 64u << 20, 0);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.acked, 2000);
    assert_int_equal(st.head, 5000);
    assert_int_equal(st.recovered, 3000);
    assert_int_equal(st.corrupt_blocks, 0);
    check_range(sp, 2000, 5000);
    append_n(sp, 100); /* new records continue the sequence in a new segment */
    assert_int_equal(spool_commit(sp), 0);
    check_range(sp, 4900, 5100);
    spool_ack(sp, 5100);
    spool_close(sp);

    sp = open_sp(dir, 64u << 20, 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.recovered, 0);
    assert_int_equal(st.segments, 0);
    assert_int_equal(st.head, 5100);
    struct spool_rec r;
    assert_int_equal(spool_get(sp, 5100, &r), 0);
    spool_close(sp);
    tmpdir_remove(dir);
    free(dir);
}

static void test_segments_deleted_when_acked(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tw_spool");
    struct spool *sp = open_sp(dir, 4u << 20, 64u << 10);
    for (int round = 0; round < 50; round++) {
        append_n(sp, 500);
        assert_int_equal(spool_commit(sp), 0);
        spool_ack(sp, spool_committed(sp));
    }
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_true(st.segments <= 2);
    assert_true(st.bytes <= 2 * (64u << 10) + 8192);
    assert_int_equal(st.lost, 0);
    spool_close(sp);
    tmpdir_remove(dir);
    free(dir);
}

static void test_bound_counts_loss(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tw_spool");
    struct spool *sp = open_sp(dir, 256u << 10, 64u << 10);
    char buf[1024];
    uint64_t ok = 0, lost = 0, seq, x = 88172645463325252ull;
    for (int i = 0; i < 5000; i++) {
        for (size_t k = 0; k < 400; k++) { /* incompressible: the bound is on disk bytes */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[k] = (char)('a' + x % 26);
        }
        if (spool_append(sp, 0, "k", 1, buf, 400, &seq) == 0)
            ok++;
        else
            lost++;
    }
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_true(lost > 0);
    assert_true(ok > 100);
    assert_int_equal(st.lost, lost);
    assert_int_equal(st.lost_episodes, 1);
    assert_true(st.bytes <= (256u << 10));
    /* Delivery frees space: new messages are taken again. */
    assert_int_equal(spool_commit(sp), 0);
    spool_ack(sp, spool_committed(sp));
    append_n(sp, 10);
    assert_int_equal(spool_commit(sp), 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.lost, lost);
    assert_int_equal(st.lost_episodes, 1);
    spool_close(sp);
    tmpdir_remove(dir);
    free(dir);
}

/* A full disk (here the file size limit, below the segment size: the active segment can neither
 * grow nor roll): the blocks that do not fit are lost, counted, and not waiting for delivery;
 * once everything written is acknowledged, the segment's space comes back and new messages are
 * spooled and read back again. */
static void test_full_disk_recovers_after_delivery(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tw_spool");
    struct spool *sp = open_sp(dir, 4u << 20, 64u << 10);
    struct rlimit lim = *fsize_saved();
    lim.rlim_cur = 16u << 10;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct spool_stats st;
    do {
        append_n(sp, 1);
        spool_get_stats(sp, &st);
    } while (st.write_errors == 0 && st.appended < 100000);
    spool_get_stats(sp, &st);
    assert_true(st.lost > 0);
    assert_int_equal(st.head, st.committed);
    assert_int_equal(st.head - st.acked, st.appended - st.lost); /* waiting: the spooled ones */
    check_range(sp, 0, st.committed);

    spool_ack(sp, spool_committed(sp)); /* the broker took everything spooled */
    uint64_t from = spool_head(sp), lost = st.lost;
    append_n(sp, 10);
    assert_int_equal(spool_commit(sp), 0);
    check_range(sp, from, from + 10);
    spool_get_stats(sp, &st);
    assert_int_equal(st.lost, lost);
    assert_int_equal(st.committed, from + 10);
    spool_ack(sp, spool_committed(sp));
    spool_tick(sp, 1000);
    spool_close(sp);

    sp = open_sp(dir, 4u << 20, 64u << 10); /* and the ack point was persisted */
    spool_get_stats(sp, &st);
    assert_int_equal(st.acked, from + 10);
    assert_int_equal(st.recovered, 0);
    spool_close(sp);
    tmpdir_remove(dir);
    free(dir);
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static int count_rec(void *ctx, const struct spool_rec *r)
{
    (void)r;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void test_corruption_recovered(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tw_spool");
    struct spool *sp = open_sp(dir, 64u << 20, 0);
    append_n(sp, 3000);
    spool_close(sp);
    char seg[1024];
    snprintf(seg, sizeof seg, "%s/%016llx.tws", dir, 0ULL);
    struct stat stb;
    assert_int_equal(stat(seg, &stb), 0);
    flip_byte(seg, stb.st_size / 2);         /* a damaged block in the middle */
    int fd = open(seg, O_WRONLY | O_APPEND); /* a torn write at the tail */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "TWS1\x10\x00\x00", 7), 7);
    close(fd);
    char junk[1024];
    snprintf(junk, sizeof junk, "%s/%016llx.tws", dir, 0x100000ULL); /* pure garbage file */
    fd = open(junk, O_WRONLY | O_CREAT, 0640);
    assert_true(fd >= 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(write(fd, "garbage TWS1 garbage", 20), 20);
    close(fd);

    sp = open_sp(dir, 64u << 20, 0);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_true(st.corrupt_blocks >= 3);
    assert_true(st.recovered > 2000 && st.recovered < 3000);
    /* the segment rewritten with its valid blocks only, replaced whole (no .tmp left) */
    struct stat st2;
    assert_int_equal(stat(seg, &st2), 0);
    assert_true(st2.st_size < stb.st_size);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", seg);
    assert_int_equal(access(tmp, F_OK), -1);
    /* Every remaining record reads back intact and in order; the gap is skipped. */
    uint64_t seen = 0, prev = 0;
    struct spool_rec r;
    for (uint64_t s = 0; spool_get(sp, s, &r) == 1; s = r.seq + 1) {
        assert_true(seen == 0 || r.seq > prev);
        check_range(sp, r.seq, r.seq + 1);
        assert_int_equal(spool_get(sp, r.seq, &r), 1);
        prev = r.seq;
        seen++;
    }
    assert_int_equal(seen, st.recovered);
    append_n(sp, 10);
    assert_int_equal(spool_commit(sp), 0);
    check_range(sp, 3000, 3010);
    spool_close(sp);

    /* The memory parser on garbage: no crash, nothing found. */
    uint8_t g[4096];
    for (size_t i = 0; i < sizeof g; i++)
        g[i] = (uint8_t)(i * 131u + 7u);
    memcpy(g + 100, "TWS1", 4);
    uint64_t n = 0, cb = 0, cby = 0;
    assert_int_equal(spool_scan_mem(g, sizeof g, count_rec, &n, &cb, &cby), 0);
    assert_int_equal(n, 0);
    assert_true(cb >= 1);
    tmpdir_remove(dir);
    free(dir);
}

static void test_locked(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tw_spool");
    struct spool *sp = open_sp(dir, 1u << 20, 0);
    struct spool_opts o = {.dir = dir, .max_bytes = 1u << 20};
    struct spool *sp2 = NULL;
    char err[256];
    assert_int_equal(spool_open(&o, &sp2, err, sizeof err), -EWOULDBLOCK);
    assert_non_null(strstr(err, "in use"));
    spool_close(sp);
    tmpdir_remove(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_reopen),
        cmocka_unit_test(test_segments_deleted_when_acked),
        cmocka_unit_test(test_bound_counts_loss),
        cmocka_unit_test_setup_teardown(test_full_disk_recovers_after_delivery, fsize_save,
                                        fsize_restore),
        cmocka_unit_test(test_corruption_recovered),
        cmocka_unit_test(test_locked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
