/* The event loop (core/evloop.h) and the source set that drives sources on it
 * (collector/sources/source.h): a readable fd runs its handler; timers fire in order, repeat and
 * end; a busy before-sleep hook keeps the loop from waiting; a loop with nothing to wait for
 * ends; sources take turns within their budgets, an always-ready source and an fd source share
 * the loop, ends and failures leave it, and their counters add up and render. */
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

#include "clock.h"
#include "evloop.h"
#include "source.h"

struct rec {
    int fd_calls, t1, t2, hooks;
    uint64_t t1_at[4];
    int busy_left;
};

static void on_fd(void *arg, int fd)
{
    struct rec *r = arg;
    char b[16];
    ssize_t n = read(fd, b, sizeof b);
    (void)n;
    r->fd_calls++;
}

static uint64_t timer1(void *arg, uint64_t now)
{
    struct rec *r = arg;
    if (r->t1 < 4)
        r->t1_at[r->t1] = now;
    return ++r->t1 < 3 ? 20 : 0; /* three times, 20 ms apart */
}

static uint64_t timer2(void *arg, uint64_t now)
{
    (void)now;
    ((struct rec *)arg)->t2++;
    return 0;
}

static bool busy_hook(void *arg)
{
    struct rec *r = arg;
    r->hooks++;
    return r->busy_left-- > 0;
}

static void test_fds_timers_hooks(void **st)
{
    (void)st;
    struct evloop *l;
    struct rec r = {.busy_left = 5};
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(evloop_new(&l), 0);
    assert_int_equal(evloop_add_fd(l, p[0], on_fd, &r), 0);
    assert_int_equal(evloop_add_fd(l, p[0], on_fd, &r), -EEXIST);
    assert_true(evloop_add_timer(l, 20, timer1, &r) >= 0);
    int t2 = evloop_add_timer(l, 10000, timer2, &r);
    assert_true(t2 >= 0);
    assert_int_equal(evloop_add_before_sleep(l, busy_hook, &r), 0);
    /* busy hook: turns without waiting */
    uint64_t t0 = clock_mono_ms();
    for (int i = 0; i < 5; i++)
        evloop_run_once(l, 1000);
    assert_true(clock_mono_ms() - t0 < 900); /* not one 1 s wait (generous: a loaded machine) */
    assert_int_equal(r.hooks, 5);
    /* a readable fd ends the wait and runs its handler */
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_true(evloop_run_once(l, 1000) >= 1);
    assert_int_equal(r.fd_calls, 1);
    /* the timer: three times, 20 ms apart, then gone */
    t0 = clock_mono_ms();
    while (r.t1 < 3 && clock_mono_ms() - t0 < 5000)
        evloop_run_once(l, -1);
    assert_int_equal(r.t1, 3);
    assert_true(r.t1_at[1] - r.t1_at[0] >= 20 && r.t1_at[2] - r.t1_at[1] >= 20);
    evloop_del_timer(l, t2);
    assert_int_equal(evloop_del_fd(l, p[0]), 0);
    assert_int_equal(evloop_del_fd(l, p[0]), -ENOENT);
    /* nothing left that could wake it: run returns */
    evloop_run(l);
    assert_int_equal(r.t2, 0);
    evloop_free(l);
    close(p[0]);
    close(p[1]);
}

/* ---- sources on a loop ---- */

struct fake { /* a source of n records, always ready or behind a pipe */
    struct source base;
    uint64_t left, taken, drains;
    size_t max_drain;
    int fd;
    bool fail;
};

static int fake_fd(struct source *s)
{
    return ((struct fake *)s)->fd;
}

static bool fake_ready(struct source *s)
{
    (void)s;
    return true;
}

static int fake_drain(struct source *s, size_t budget)
{
    struct fake *f = (struct fake *)s;
    f->drains++;
    if (budget > f->max_drain)
        f->max_drain = budget;
    if (f->fd >= 0) { /* the pipe says how many are waiting */
        char b[64];
        ssize_t n = read(f->fd, b, sizeof b);
        if (n == 0)
            return SOURCE_EOF;
        if (n < 0)
            return 0;
        budget = (size_t)n < budget ? (size_t)n : budget;
    }
    if (!f->left) {
        if (f->fail) {
            s->failures++;
            return -EIO;
        }
        return SOURCE_EOF;
    }
    size_t n = f->left < budget ? f->left : budget;
    struct flow_rec rec = {0};
    for (size_t i = 0; i < n; i++)
        s->out.record(s->out.arg, &rec);
    f->left -= n;
    f->taken += n;
    return (int)n;
}

struct fake_snap {
    uint64_t taken, drains;
};
static const struct ctr_def fake_defs[] = {
    {NULL, "fake_records_total", NULL, CTR_COUNTER, "Records.", offsetof(struct fake_snap, taken),
     NULL},
    {NULL, "fake_drains_total", NULL, CTR_COUNTER, "Drains.", offsetof(struct fake_snap, drains),
     NULL},
};

static size_t fake_counters(struct source *s, size_t table, const struct ctr_def **d, void *snap)
{
    if (table)
        return 0;
    struct fake *f = (struct fake *)s;
    struct fake_snap fs = {f->taken, f->drains};
    memcpy(snap, &fs, sizeof fs);
    *d = fake_defs;
    return 2;
}

static void fake_close(struct source *s)
{
    (void)s;
}

static const struct source_ops file_like = {
    .kind = "fake-file",
    .budget = 100,
    .ready = fake_ready,
    .drain = fake_drain,
    .counters = fake_counters,
    .close = fake_close,
};
static const struct source_ops fd_like = {
    .kind = "fake-fd",
    .budget = 100,
    .fd = fake_fd,
    .drain = fake_drain,
    .counters = fake_counters,
    .close = fake_close,
};

static void count_rec(void *arg, struct flow_rec *f)
{
    (void)f;
    (*(uint64_t *)arg)++;
}

static void ended(void *arg)
{
    evloop_stop(arg);
}

static void test_sources_share_the_loop(void **st)
{
    (void)st;
    struct evloop *l;
    assert_int_equal(evloop_new(&l), 0);
    struct source_set ss;
    assert_int_equal(source_set_init(&ss, l), 0);
    ss.on_all_ended = ended;
    ss.on_all_ended_arg = l;
    uint64_t got = 0;
    struct source_out out = {.record = count_rec, .arg = &got};
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fake a = {.base = {.ops = &file_like, .out = out}, .left = 1050, .fd = -1};
    struct fake b = {.base = {.ops = &file_like, .out = out}, .left = 30, .fd = -1, .fail = true};
    struct fake c = {.base = {.ops = &fd_like, .out = out}, .left = 1000, .fd = p[0]};
    assert_int_equal(source_set_add(&ss, &a.base), 0);
    assert_int_equal(source_set_add(&ss, &b.base), 0);
    assert_int_equal(source_set_add(&ss, &c.base), 0);
    /* c gets input only through its fd: 20 records "arrive", then its writer closes */
    assert_int_equal(write(p[1], "01234567890123456789", 20), 20);
    close(p[1]);
    evloop_run(l);
    assert_int_equal(a.taken, 1050);
    assert_int_equal(a.max_drain, 100); /* the budget, every turn */
    assert_true(a.drains >= 11);
    assert_int_equal(b.taken, 30);
    assert_int_equal(c.taken, 20);
    assert_int_equal(got, 1100);
    assert_int_equal(source_set_failures(&ss), 1); /* b failed at its end */
    assert_int_equal(source_set_counter(&ss, "fake_records_total"), 1100);
    char buf[4096];
    struct ctr_text t;
    ctr_text_init(&t, buf, sizeof buf);
    source_set_prom(&ss, &t);
    /* one HELP for the three instances, their values summed by a reader */
    assert_non_null(strstr(buf, "# HELP transitwatch_fake_records_total Records.\n"));
    assert_null(strstr(strstr(buf, "# HELP transitwatch_fake_records_total") + 1,
                       "# HELP transitwatch_fake_records_total"));
    assert_non_null(strstr(buf, "transitwatch_fake_records_total 1050\n"));
    source_set_close(&ss);
    close(p[0]);
    evloop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fds_timers_hooks),
        cmocka_unit_test(test_sources_share_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
