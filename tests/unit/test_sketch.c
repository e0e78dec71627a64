/* test_sketch: the distinct counter's union (hll_merge), which the beacon detector uses to
 * combine what worker shards counted: merging per-shard sketches gives the same registers and
 * count as one sketch that saw the whole stream, whatever the sharding and order; exact below
 * HLL_EXACT, HyperLogLog above. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "sketch.h"

static uint64_t item(const struct hash_key *k, uint32_t i)
{
    return hash_bytes(k, &i, sizeof i);
}

/* n items, shards of them by i % nshards, merged in the given order */
static void check(uint32_t n, unsigned nshards, bool reverse)
{
    struct hash_key k;
    hash_key_from_seed(&k, 42);
    struct hll one, shard[7], merged;
    hll_reset(&one);
    for (unsigned s = 0; s < nshards; s++)
        hll_reset(&shard[s]);
    for (uint32_t i = 0; i < n; i++) {
        hll_add(&one, item(&k, i));
        hll_add(&shard[i % nshards], item(&k, i));
        if (i % 3 == 0) /* repeats count once */
            hll_add(&shard[(i + 1) % nshards], item(&k, i));
    }
    hll_reset(&merged);
    for (unsigned s = 0; s < nshards; s++)
        hll_merge(&merged, &shard[reverse ? nshards - 1 - s : s]);
    assert_int_equal(hll_count(&merged), hll_count(&one));
    assert_int_equal(merged.dense, one.dense);
    if (one.dense)
        assert_memory_equal(merged.u.reg, one.u.reg, sizeof one.u.reg);
    if (n <= HLL_EXACT)
        assert_int_equal(hll_count(&merged), n);
}

static void test_merge_equals_one_sketch(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {0, 1, 5, 31, 32, 33, 40, 64, 100, 1000, 20000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (unsigned shards = 1; shards <= 7; shards += 2) {
            check(sizes[i], shards, false);
            check(sizes[i], shards, true);
        }
}

static void test_merge_accuracy(void **state)
{
    (void)state;
    struct hash_key k;
    hash_key_from_seed(&k, 7);
    /* two overlapping halves of 3000: the union is 4000 within the sketch's error (9.2 %) */
    struct hll a, b;
    hll_reset(&a);
    hll_reset(&b);
    for (uint32_t i = 0; i < 3000; i++) {
        hll_add(&a, item(&k, i));
        hll_add(&b, item(&k, i + 1000));
    }
    hll_merge(&a, &b);
    uint32_t c = hll_count(&a);
    assert_true(c > 4000 * 0.8 && c < 4000 * 1.2);
    /* an exact set merged into a dense one, and a dense into an exact one */
    struct hll small, big;
    hll_reset(&small);
    hll_reset(&big);
    for (uint32_t i = 0; i < 10; i++)
        hll_add(&small, item(&k, 100000 + i));
    for (uint32_t i = 0; i < 500; i++)
        hll_add(&big, item(&k, i));
    struct hll x = small;
    hll_merge(&x, &big);
    struct hll y = big;
    hll_merge(&y, &small);
    assert_int_equal(hll_count(&x), hll_count(&y));
    assert_memory_equal(x.u.reg, y.u.reg, sizeof x.u.reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_equals_one_sketch),
        cmocka_unit_test(test_merge_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
