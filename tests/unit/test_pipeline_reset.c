/* Pipeline: a pipeline_reset (detect's rebalance) that cannot make its workers anew leaves a
 * broken pipeline without workers; every call after it (records, ticks, the detectors' shared
 * views, a reload, finish, statistics, counters, free) must stay safe and the error returned.
 * The failure is injected through pipe_fault_hook (pipeline_int.h, test-only): a worker's
 * tables (an allocation: none, or some of the workers made) or a worker thread's start (some
 * threads running). Run with 1 and with 3 workers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "customers.h"
#include "feeds.h"
#include "lines.h"
#include "pipeline.h"
#include "pipeline_int.h"
#include "settings.h"

/* What the sinks got, by kind. */
struct tally {
    size_t n[MSG_KIND_COUNT];
};

static int tally_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                         const char *json, size_t len)
{
    (void)key, (void)keylen, (void)json, (void)len;
    struct tally *t = self;
    if ((unsigned)kind < MSG_KIND_COUNT)
        t->n[kind]++;
    return 0;
}

static void tally_destroy(void *self)
{
    (void)self;
}

static const struct sink_ops tally_ops = {
    .name = "tally", .publish = tally_publish, .destroy = tally_destroy};

static const char *const MAP = "10.1.0.0/16,c1,Customer One\n10.2.0.0/16,c2,Customer Two\n";
static const char *const DROP = "198.18.0.0/15 ; SBL1\n";
#define T0 1699999980000ULL /* a window boundary for 60 s windows */

struct fix {
    struct settings s;
    struct sinks sinks;
    struct tally tally;
    struct pipeline *p;
};

/* The fault to inject: the n-th making of the workers (1: pipeline_new's, 2: the first
 * reset's, ...) fails at `at` of worker `worker` with `err`; 0: none. */
static struct {
    unsigned when, calls;
    enum pipe_fault at;
    uint32_t worker;
    int err;
} g_fault;

static int fault(enum pipe_fault at, uint32_t worker)
{
    if (at == PIPE_FAULT_WORKER_INIT && worker == 0)
        g_fault.calls++; /* fresh_workers starts with worker 0's tables */
    return g_fault.calls == g_fault.when && at == g_fault.at && worker == g_fault.worker
               ? g_fault.err
               : 0;
}

static void fault_set(unsigned when, enum pipe_fault at, uint32_t worker, int err)
{
    g_fault.when = when;
    g_fault.calls = 0;
    g_fault.at = at;
    g_fault.worker = worker;
    g_fault.err = err;
    pipe_fault_hook = fault;
}

static struct customer_map *map_new(void)
{
    struct customer_limits lim = {100, 100};
    struct customer_map *cm;
    struct conf_error err;
    assert_int_equal(customers_load_mem("map", MAP, strlen(MAP), &lim, &cm, &err), 0);
    return cm;
}

/* A pipeline of `workers` workers (0 or -errno from pipeline_new in *rc). */
static struct fix *fix_new(uint32_t workers, int *rc)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(settings_init(&f->s), 0);
    f->s.workers = workers;
    f->s.dispatcher_cost = 10; /* three workers: shard 0 holds hosts too */
    f->s.window = 60;
    f->s.lateness = 0;
    struct feed_set *fs;
    struct feed *fd;
    struct conf_error err;
    assert_int_equal(feed_set_new(&fs), 0);
    assert_int_equal(
        feed_load_mem("drop", "drop.txt", DROP, strlen(DROP), FEED_AUTO, 100, &fd, &err), 0);
    assert_int_equal(feed_set_add(fs, fd), 0);
    sinks_add(&f->sinks, (struct sink){&tally_ops, &f->tally});
    struct customer_map *cm = map_new();
    *rc = pipeline_new(&f->s, true, cm, fs, &f->sinks, &f->p);
    if (*rc < 0) { /* the caller keeps what it passed */
        customers_free(cm);
        feed_set_free(fs);
    }
    return f;
}

static void fix_free(struct fix *f)
{
    pipeline_free(f->p);
    sinks_destroy(&f->sinks);
    settings_free(&f->s);
    free(f);
}

static struct flow_rec rec(const char *src, const char *dst, uint64_t t_ms)
{
    struct flow_rec r;
    memset(&r, 0, sizeof r);
    assert_int_equal(addr_parse(src, r.src), 0);
    assert_int_equal(addr_parse(dst, r.dst), 0);
    r.sport = 40000;
    r.dport = 443;
    r.proto = 6;
    r.bytes = 100;
    r.packets = 2;
    r.first_ms = t_ms - 100;
    r.last_ms = t_ms;
    r.sampling = 1;
    return r;
}

/* Records of many hosts of both customers over two windows, one of them to a listed address:
 * every worker holds hosts, one alert. */
static void feed(struct pipeline *p, uint64_t t0)
{
    char src[32];
    for (unsigned i = 0; i < 200; i++) {
        snprintf(src, sizeof src, "10.%u.%u.%u", 1 + i % 2, i / 200, i % 200);
        struct flow_rec r = rec(src, "8.8.8.8", t0 + 1000 + i * 500);
        pipeline_flow(p, &r);
    }
    struct flow_rec r = rec("10.1.0.5", "198.18.1.1", t0 + 2000);
    pipeline_flow(p, &r);
}

static void share_none(void *arg, uint32_t det, const void *entry, size_t len)
{
    (void)arg, (void)det, (void)entry, (void)len;
    fail_msg("a broken pipeline has no shared views");
}

static void count_tapped(void *arg, struct flow_rec *r)
{
    (void)r;
    (*(uint64_t *)arg)++;
}

/* Every entry point on a broken pipeline: no crash, records counted and not run (the record
 * tap still sees each), the pipeline's own figures kept. */
static void use_broken(struct fix *f, uint64_t flows_before)
{
    struct pipeline *p = f->p;
    assert_true(pipeline_broken(p));
    size_t alerts = f->tally.n[MSG_ALERT];
    uint64_t tapped = 0;
    pipeline_set_record_tap(p, count_tapped, &tapped);
    feed(p, T0 + 600000); /* records: counted, not run */
    struct flow_rec r = rec("10.1.0.9", "8.8.4.4", T0 + 700000);
    struct flowpb_meta m = {
        .part = FLOWPB_PART_ALL, .window_start_ms = T0 + 660000, .watermark_ms = T0 + 700000};
    pipeline_flow_part(p, &r, &m);
    m.part = FLOWPB_PART_TICK;
    pipeline_flow_part(p, NULL, &m);
    assert_int_equal(tapped, 202);
    pipeline_set_record_tap(p, NULL, NULL);
    pipeline_tick(p, 1);
    pipeline_tick(p, 1000000);
    assert_int_equal(pipeline_share_export(p, share_none, NULL), 0);
    assert_int_equal(pipeline_share_import(p, 0, "x", 1), -ENODEV);
    assert_int_equal(pipeline_swap_lists(p, map_new(), NULL), 0); /* a reload */
    assert_int_equal(pipeline_swap_overrides(p, &f->s), 0);
    pipeline_finish(p);
    struct pipeline_stats ps;
    pipeline_stats(p, &ps);
    assert_int_equal(ps.flows, flows_before + 202);
    assert_int_equal(ps.reset_failures, 1);
    assert_int_equal(ps.resets, 1);
    assert_int_equal(ps.hosts_active, 0);
    assert_int_equal(ps.host_capacity, 0);
    assert_int_equal(f->tally.n[MSG_ALERT], alerts); /* nothing run, nothing closed */
    struct det_counters dc[SETTINGS_MAX_DETECTORS];
    pipeline_detector_counters(p, dc, SETTINGS_MAX_DETECTORS);
    assert_true(pipeline_broken(p));
}

/* A fault of the reset's making of the workers: with `workers` workers, fail `at` of worker
 * `worker` with `err`. */
struct reset_case {
    uint32_t workers;
    enum pipe_fault at;
    uint32_t worker;
    int err;
};

static const struct reset_case reset_cases[] = {
    {1, PIPE_FAULT_WORKER_INIT, 0, -ENOMEM},  /* one worker */
    {3, PIPE_FAULT_WORKER_INIT, 0, -ENOMEM},  /* three, nothing made */
    {3, PIPE_FAULT_WORKER_INIT, 2, -ENOMEM},  /* three, half made: workers 0 and 1 made */
    {3, PIPE_FAULT_THREAD_START, 2, -EAGAIN}, /* three, worker 1's thread running, 2's not */
};

/* A pipeline with records in its open window, then a reset that fails with the case's fault:
 * the error returned, then use_broken, free. */
static void test_reset_fails(void **st)
{
    const struct reset_case *c = *st;
    int rc;
    struct fix *f = fix_new(c->workers, &rc);
    assert_int_equal(rc, 0);
    feed(f->p, T0);
    feed(f->p, T0 + 60000); /* the first window closed: its alert out */
    assert_true(f->tally.n[MSG_ALERT] >= 1);
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_true(ps.hosts_active > 0);
    assert_false(pipeline_broken(f->p));
    fault_set(1, c->at, c->worker, c->err); /* counted from now: the reset's making is the first */
    assert_int_equal(pipeline_reset(f->p), c->err);
    pipe_fault_hook = NULL;
    use_broken(f, ps.flows);
    fix_free(f);
}

/* A later reset makes the workers again: the pipeline runs records and closes windows. */
static void test_reset_again_recovers(void **st)
{
    (void)st;
    int rc;
    struct fix *f = fix_new(3, &rc);
    assert_int_equal(rc, 0);
    feed(f->p, T0);
    fault_set(1, PIPE_FAULT_THREAD_START, 1, -EAGAIN);
    assert_int_equal(pipeline_reset(f->p), -EAGAIN);
    pipe_fault_hook = NULL;
    assert_true(pipeline_broken(f->p));
    assert_int_equal(pipeline_reset(f->p), 0);
    assert_false(pipeline_broken(f->p));
    size_t alerts = f->tally.n[MSG_ALERT];
    feed(f->p, T0 + 600000);
    pipeline_finish(f->p);
    assert_int_equal(f->tally.n[MSG_ALERT], alerts + 1);
    struct pipeline_stats ps;
    pipeline_stats(f->p, &ps);
    assert_int_equal(ps.resets, 2);
    assert_int_equal(ps.reset_failures, 1);
    assert_true(ps.hosts_active > 0);
    fix_free(f);
}

/* detect's re-read after a rebalance closes windows this process closed before: their
 * summaries are not made again (a consumer adding them up would count them twice), the later
 * windows' are; the same summaries in all as a run without the reset (a reload between keeps
 * what was made, by customer id). */
static void test_reread_summaries_once(void **st)
{
    (void)st;
    size_t want = 0;
    for (int reset = 0; reset <= 1; reset++) {
        int rc;
        struct fix *f = fix_new(1, &rc);
        assert_int_equal(rc, 0);
        feed(f->p, T0); /* the first window closes, the second stays open */
        if (reset) {
            assert_int_equal(pipeline_swap_lists(f->p, map_new(), NULL), 0); /* carried by id */
            assert_int_equal(pipeline_reset(f->p), 0);
            feed(f->p, T0); /* read again from the start */
        }
        feed(f->p, T0 + 120000);
        pipeline_finish(f->p);
        struct pipeline_stats ps;
        pipeline_stats(f->p, &ps);
        if (!reset) {
            want = f->tally.n[MSG_SUMMARY];
            assert_true(want >= 6); /* two customers, three windows at least */
            assert_int_equal(ps.summaries_repeated, 0);
        } else {
            assert_int_equal(f->tally.n[MSG_SUMMARY], want);
            assert_int_equal(ps.summaries_repeated, 2); /* the first window, both customers */
        }
        fix_free(f);
    }
}

/* A detector's value (its counter row named json) summed over the pipeline's workers. */
static uint64_t det_value(struct pipeline *p, const char *det, const char *json)
{
    struct det_counters dc[SETTINGS_MAX_DETECTORS];
    size_t n = pipeline_detector_counters(p, dc, SETTINGS_MAX_DETECTORS);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; strcmp(dc[i].ops->name, det) == 0 && k < dc[i].ops->nctr; k++)
            if (dc[i].ops->ctr_defs[k].json && strcmp(dc[i].ops->ctr_defs[k].json, json) == 0)
                return dc[i].v[dc[i].ops->ctr_defs[k].off / sizeof(uint64_t)];
    fail_msg("no counter %s.%s", det, json);
    return 0;
}

/* The workers a reset makes anew start their counters at 0: the pipeline's go on from what the
 * dropped ones had counted (a _total never goes down), while gauges are the new workers'. */
static void test_reset_keeps_counters(void **st)
{
    (void)st;
    int rc;
    struct fix *f = fix_new(3, &rc);
    assert_int_equal(rc, 0);
    feed(f->p, T0);
    uint64_t hits = det_value(f->p, "blocklist", "hits");
    uint64_t cap = det_value(f->p, "blocklist", "pair_capacity");
    assert_true(hits >= 1);
    assert_int_equal(pipeline_reset(f->p), 0);
    assert_int_equal(det_value(f->p, "blocklist", "hits"), hits);
    assert_int_equal(det_value(f->p, "blocklist", "pair_capacity"), cap);
    feed(f->p, T0);
    assert_int_equal(det_value(f->p, "blocklist", "hits"), 2 * hits);
    fix_free(f);
}

/* Each swap of the option sets (a reload) is a new generation of det_confs, so that a
 * detector's cache keyed by a set's address is not fooled by a new set where a freed one was. */
static void test_swap_overrides_generation(void **st)
{
    (void)st;
    int rc;
    struct fix *f = fix_new(1, &rc);
    assert_int_equal(rc, 0);
    uint32_t gen = f->p->confs.gen;
    assert_int_equal(pipeline_swap_overrides(f->p, &f->s), 0);
    assert_int_equal(f->p->confs.gen, gen + 1);
    assert_int_equal(pipeline_swap_overrides(f->p, &f->s), 0);
    assert_int_equal(f->p->confs.gen, gen + 2);
    fix_free(f);
}

/* [pipeline] reserve_memory: the workers a reset makes anew are made resident as at start (the
 * reserved bytes grow by their tables: several MB at the defaults) and the pipeline runs on;
 * with the setting off nothing is reserved. Either way the reservation has ended. */
static void test_reset_reserves(void **st)
{
    (void)st;
    for (int on = 0; on <= 1; on++) {
        int rc;
        struct fix *f = fix_new(2, &rc);
        assert_int_equal(rc, 0);
        f->s.reserve_memory = on; /* the pipeline reads its settings through a pointer */
        feed(f->p, T0);
        uint64_t before = lines_reserved_bytes();
        assert_int_equal(pipeline_reset(f->p), 0);
        uint64_t got = lines_reserved_bytes() - before;
        assert_false(lines_reserving());
        if (on)
            assert_true(got >= (uint64_t)4 << 20);
        else
            assert_int_equal(got, 0);
        size_t alerts = f->tally.n[MSG_ALERT];
        feed(f->p, T0 + 600000);
        pipeline_finish(f->p);
        assert_int_equal(f->tally.n[MSG_ALERT], alerts + 1);
        fix_free(f);
    }
}

/* pipeline_new's own failures at the same points: the error, nothing left (ASan: no leak). */
static void test_new_fails(void **st)
{
    (void)st;
    const struct reset_case *c = reset_cases;
    for (size_t i = 0; i < sizeof reset_cases / sizeof reset_cases[0]; i++) {
        fault_set(1, c[i].at, c[i].worker, c[i].err);
        int rc;
        struct fix *f = fix_new(c[i].workers, &rc);
        pipe_fault_hook = NULL;
        assert_int_equal(rc, c[i].err);
        assert_null(f->p);
        fix_free(f);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]); /* one case (checking each fails without the fix) */
    const struct CMUnitTest tests[] = {
#define CASE(name, i) {name, test_reset_fails, NULL, NULL, (void *)&reset_cases[i]}
        CASE("reset_fails_one_worker", 0),
        CASE("reset_fails_three_workers_none_made", 1),
        CASE("reset_fails_three_workers_half_made", 2),
        CASE("reset_fails_thread_start", 3),
        cmocka_unit_test(test_reset_again_recovers),
        cmocka_unit_test(test_swap_overrides_generation),
        cmocka_unit_test(test_reread_summaries_once),
        cmocka_unit_test(test_reset_keeps_counters),
        cmocka_unit_test(test_reset_reserves),
        cmocka_unit_test(test_new_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
