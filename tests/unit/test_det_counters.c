/* Every registered detector declares its counters (detectors/detector.h) by the conventions
 * the renderers rely on: a JSON key without dots, unique in the detector; a Prometheus name
 * detector_NAME_..., counters ending in _total and gauges not; help text; one help text per
 * metric name; a snapshot of uint64_t values within DET_CTR_MAX; and the values it writes are
 * the ones its table describes (every row readable, nothing written past ctr_size). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detector.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_conventions(void **st)
{
    (void)st;
    size_t with = 0;
    for (size_t i = 0; i < det_registry_count; i++) {
        const struct detector_ops *ops = det_registry[i];
        assert_non_null(ops->counters);
        with++;
        assert_non_null(ops->ctr_defs);
        assert_true(ops->nctr > 0 && ops->nctr <= DET_CTR_MAX);
        assert_true(ops->ctr_size > 0 && ops->ctr_size <= DET_CTR_MAX * sizeof(uint64_t));
        assert_int_equal(ops->ctr_size % sizeof(uint64_t), 0);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "detector_%s_", ops->name);
        for (size_t k = 0; k < ops->nctr; k++) {
            const struct ctr_def *d = &ops->ctr_defs[k];
            print_message("%s: %s %s%s%s%s\n", ops->name, d->json, d->metric, d->label ? "{" : "",
                          d->label ? d->label : "", d->label ? "}" : "");
            assert_non_null(d->json);
            assert_non_null(d->metric);
            assert_null(strchr(d->json, '.'));
            assert_int_equal(strncmp(d->metric, prefix, strlen(prefix)), 0);
            assert_true(d->kind == CTR_COUNTER ? ends_with(d->metric, "_total")
                                               : !ends_with(d->metric, "_total"));
            assert_non_null(d->help);
            assert_true(strlen(d->help) > 10);
            assert_true(d->off + sizeof(uint64_t) <= ops->ctr_size);
            for (size_t m = 0; m < k; m++) {
                const struct ctr_def *e = &ops->ctr_defs[m];
                assert_string_not_equal(d->json, e->json);
                assert_false(d->off == e->off);
                if (strcmp(d->metric, e->metric) == 0) {
                    /* one metric name: one kind and help, told apart by their labels */
                    assert_int_equal(d->kind, e->kind);
                    assert_string_equal(d->help, e->help);
                    assert_non_null(d->label);
                    assert_non_null(e->label);
                    assert_string_not_equal(d->label, e->label);
                }
            }
        }
        /* no two detectors share a metric name (their HELP lines would repeat) */
        for (size_t j = 0; j < i; j++) {
            const struct detector_ops *o = det_registry[j];
            for (size_t k = 0; o->counters && k < ops->nctr; k++)
                for (size_t m = 0; m < o->nctr; m++)
                    assert_string_not_equal(ops->ctr_defs[k].metric, o->ctr_defs[m].metric);
        }
    }
    assert_true(with >= det_registry_count - 2);
}

/* ops's option struct with its defaults (free it). */
static void *default_conf(const struct detector_ops *ops)
{
    void *conf = calloc(1, ops->conf_size);
    assert_non_null(conf);
    assert_int_equal(conf_defaults(ops->conf_keys, conf), 0);
    return conf;
}

/* An instance made with the defaults writes its snapshot within ctr_size (a canary after it
 * stays untouched) and reports its tables' capacities. */
static void test_snapshot_bounds(void **st)
{
    (void)st;
    for (size_t i = 0; i < det_registry_count; i++) {
        const struct detector_ops *ops = det_registry[i];
        if (!ops->counters)
            continue;
        void *conf = default_conf(ops);
        void *self = NULL;
        assert_int_equal(ops->init(conf, DET_SHARE_ALL, &self), 0);
        uint64_t v[DET_CTR_MAX + 1];
        memset(v, 0xa5, sizeof v);
        memset(v, 0, ops->ctr_size);
        ops->counters(self, v);
        uint64_t canary;
        memset(&canary, 0xa5, sizeof canary);
        for (size_t k = ops->ctr_size / sizeof(uint64_t); k <= DET_CTR_MAX; k++)
            assert_true(v[k] == canary);
        for (size_t k = 0; k < ops->nctr; k++) {
            const struct ctr_def *d = &ops->ctr_defs[k];
            if (d->kind == CTR_COUNTER) /* nothing happened yet */
                assert_int_equal(ctr_value(d, v), 0);
            if (strstr(d->metric, "_capacity_"))
                assert_true(ctr_value(d, v) > 0);
        }
        ops->fini(self);
        free(conf);
    }
}

/* det_share_cap: the whole share is the total exactly (one worker: tables as configured); a
 * part is its ceiling share, at least the minimum; the parts of a shard map add up to the
 * total within a minimum and one entry per worker. */
static void test_share_cap(void **st)
{
    (void)st;
    assert_int_equal(det_share_cap(DET_SHARE_ALL, 65536, 16), 65536);
    assert_int_equal(det_share_cap((struct det_share){4096, 4096}, 12345, 16), 12345);
    assert_int_equal(det_share_cap((struct det_share){1024, 4096}, 65536, 16), 16384);
    assert_int_equal(det_share_cap((struct det_share){1, 3}, 100, 16), 34);
    assert_int_equal(det_share_cap((struct det_share){0, 4096}, 65536, 16), 16);
    assert_int_equal(det_share_cap((struct det_share){1, 4096}, 65536, 0), 16);
    assert_int_equal(det_share_cap((struct det_share){4096, 4096}, 10000000000ULL, 4096),
                     10000000000ULL);
    uint64_t sum = 0;
    for (uint32_t part = 819, w = 0; w < 2; w++, part = 4096 - 819)
        sum += det_share_cap((struct det_share){part, 4096}, 131072, 16);
    assert_true(sum >= 131072 && sum <= 131072 + 2);
}

/* Every detector takes its share of each table keyed by the inside host (detector.h
 * det_share): an instance made for a quarter of the hosts reports a quarter of each capacity
 * (up to whole buckets), one made for none the smallest tables, the whole share the configured
 * ones (test_snapshot_bounds). A capacity that stayed whole would fail the quarter. */
static void capacities(const struct detector_ops *ops, const void *conf, struct det_share sh,
                       uint64_t *v)
{
    void *self = NULL;
    assert_int_equal(ops->init(conf, sh, &self), 0);
    memset(v, 0, ops->ctr_size);
    ops->counters(self, v);
    ops->fini(self);
}

static void test_share_sizes(void **st)
{
    (void)st;
    size_t checked = 0;
    for (size_t i = 0; i < det_registry_count; i++) {
        const struct detector_ops *ops = det_registry[i];
        if (!ops->counters)
            continue;
        void *conf = default_conf(ops);
        uint64_t all[DET_CTR_MAX], quarter[DET_CTR_MAX], none[DET_CTR_MAX];
        capacities(ops, conf, DET_SHARE_ALL, all);
        capacities(ops, conf, (struct det_share){1024, 4096}, quarter);
        capacities(ops, conf, (struct det_share){0, 4096}, none);
        for (size_t k = 0; k < ops->nctr; k++) {
            const struct ctr_def *d = &ops->ctr_defs[k];
            if (!strstr(d->json, "capacity") && !strstr(d->json, "_size"))
                continue;
            uint64_t a = ctr_value(d, all), q = ctr_value(d, quarter), z = ctr_value(d, none);
            if (!a) /* a table made at first use (none at init) */
                continue;
            if (q < a / 4 || q > a / 4 + 64 || z == 0 || z > 16384 || z > q)
                fail_msg("%s %s: capacity %llu whole, %llu a quarter, %llu none", ops->name,
                         d->json, (unsigned long long)a, (unsigned long long)q,
                         (unsigned long long)z);
            checked++;
        }
        free(conf);
    }
    assert_true(checked >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conventions),
        cmocka_unit_test(test_snapshot_bounds),
        cmocka_unit_test(test_share_cap),
        cmocka_unit_test(test_share_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
