/* test_sketch: the distinct counter's union (hll_merge), which the beacon detector uses to
 * combine what worker shards counted: merging per-shard sketches gives the same registers and
 * count as one sketch that saw the whole stream, whatever the sharding and order; exact below
 * HLL_EXACT, HyperLogLog above. The first-contact filter (gfilter, det_scan): the same answers
 * and fill as a filter written the plain way (two separate generation arrays, swapped on age)
 * over a seeded mix of lookups, ages and clears small enough to collide. */
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

/* hll_add_first (det_scan's new pairs) is hll_add on an empty counter. */
static void test_add_first(void **state)
{
    (void)state;
    struct hash_key k;
    hash_key_from_seed(&k, 7);
    for (uint32_t i = 0; i < 1000; i++) {
        struct hll a, b;
        hll_reset(&a);
        memset(&b, 0, sizeof b);
        uint64_t v = item(&k, i);
        assert_true(hll_add(&a, v));
        hll_add_first(&b, v);
        assert_memory_equal(&a, &b, sizeof a);
        assert_false(hll_add(&b, v));
        assert_int_equal(hll_count(&b), 1);
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

/* The plain two-generation blocked Bloom filter gfilter must answer exactly like. */
#define REF_WORDS 61
struct ref_filter {
    uint64_t w[2][REF_WORDS];
    uint64_t set_bits;
};

static bool ref_test_and_set(struct ref_filter *r, uint64_t hash)
{
    size_t w = (size_t)(hash % REF_WORDS);
    uint64_t h = hash_mix64(hash), mask = 0;
    for (int k = 0; k < 4; k++, h >>= 6)
        mask |= 1ULL << (h & 63);
    bool seen = (r->w[0][w] & mask) == mask || (r->w[1][w] & mask) == mask;
    r->set_bits += (uint64_t)__builtin_popcountll(mask & ~r->w[0][w]);
    r->w[0][w] |= mask;
    return seen;
}

static void test_gfilter_same_as_plain(void **state)
{
    (void)state;
    struct hash_key k;
    hash_key_from_seed(&k, 7);
    struct gfilter g;
    assert_int_equal(gfilter_init(&g, REF_WORDS * 16), 0);
    assert_int_equal(g.nwords, REF_WORDS);
    struct ref_filter r;
    memset(&r, 0, sizeof r);
    unsigned seen = 0, ages = 0;
    for (uint32_t i = 0; i < 20000; i++) {
        uint64_t x = item(&k, i);
        if (x % 997 == 0) { /* about 20 ages */
            gfilter_age(&g);
            memcpy(r.w[1], r.w[0], sizeof r.w[0]);
            memset(r.w[0], 0, sizeof r.w[0]);
            r.set_bits = 0;
            ages++;
        } else if (x % 7919 == 0) {
            gfilter_clear(&g);
            memset(&r, 0, sizeof r);
        }
        uint64_t key = item(&k, (uint32_t)(x % 300)); /* 300 keys: repeats and collisions */
        bool a = gfilter_test_and_set(&g, key);
        assert_int_equal(a, ref_test_and_set(&r, key));
        seen += a;
        assert_true(gfilter_fill(&g) == (double)r.set_bits / (REF_WORDS * 64.0));
    }
    assert_true(ages >= 5);
    assert_true(seen > 1000 && seen < 19000); /* both answers exercised */
    gfilter_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_equals_one_sketch),
        cmocka_unit_test(test_merge_accuracy),
        cmocka_unit_test(test_add_first),
        cmocka_unit_test(test_gfilter_same_as_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
