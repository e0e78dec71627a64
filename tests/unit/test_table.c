/* test_table.c: the bounded tables (core/table.h): ktab refuses when full (counted) and keeps
 * first-insert order until reset; ltab evicts the least recently used entry (counted, copied
 * out), touch and remove keep its order, and a random run of operations agrees with a plain
 * model (an array in recency order) at every step, with hashes forced to collide; a new entry
 * is zero past its key even where a removed or evicted one was; keys of every size are copied
 * whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

struct ent {
    uint64_t key[2]; /* 16-byte key */
    uint32_t val;
    uint32_t pad;
};

static struct ent key_of(uint64_t k)
{
    struct ent e = {{k, ~k}, 0, 0};
    return e;
}

static void test_ktab(void **state)
{
    (void)state;
    struct ktab t;
    assert_int_equal(ktab_init(&t, 4, sizeof(struct ent), 16, 42), 0);
    bool ins;
    for (uint64_t k = 0; k < 4; k++) {
        struct ent key = key_of(k * 7);
        struct ent *e = ktab_get(&t, &key, &ins);
        assert_non_null(e);
        assert_true(ins);
        e->val = (uint32_t)k + 100;
    }
    struct ent key = key_of(14);
    struct ent *e = ktab_get(&t, &key, &ins);
    assert_false(ins);
    assert_int_equal(e->val, 102);
    key = key_of(99);
    assert_null(ktab_get(&t, &key, &ins)); /* full */
    assert_null(ktab_get(&t, &key, &ins));
    assert_int_equal(t.refused, 2);
    for (size_t i = 0; i < t.n; i++) /* first-insert order */
        assert_int_equal(((struct ent *)ktab_at(&t, i))->val, 100 + i);
    ktab_reset(&t);
    assert_int_equal(t.n, 0);
    key = key_of(99);
    e = ktab_get(&t, &key, &ins);
    assert_true(ins);
    assert_int_equal(e->val, 0); /* zeroed */
    ktab_fini(&t);
}

static void test_ltab_order(void **state)
{
    (void)state;
    struct ltab t;
    assert_int_equal(ltab_init(&t, 3, sizeof(struct ent), 16), 0);
    bool ins, ev;
    struct ent gone, key;
    for (uint64_t k = 1; k <= 3; k++) {
        key = key_of(k);
        struct ent *e = ltab_get(&t, &key, 7 /* one bucket for all */, &ins, &gone, &ev);
        assert_true(ins);
        assert_false(ev);
        e->val = (uint32_t)k;
    }
    key = key_of(1);
    struct ent *one = ltab_find(&t, &key, 7);
    assert_non_null(one);
    ltab_touch(&t, one); /* order now 2, 3, 1 */
    key = key_of(4);
    struct ent *e = ltab_get(&t, &key, 7, &ins, &gone, &ev);
    assert_true(ins && ev);
    assert_int_equal(gone.val, 2);
    assert_int_equal(t.evicted, 1);
    assert_int_equal(((struct ent *)ltab_oldest(&t))->val, 3);
    e->val = 4;
    key = key_of(3);
    struct ent *three = ltab_find(&t, &key, 7);
    size_t idx = ltab_index(&t, three);
    ltab_remove(&t, three);
    assert_int_equal(three->val, 0); /* zeroed */
    assert_null(ltab_find(&t, &key, 7));
    key = key_of(5);
    e = ltab_get(&t, &key, 7, &ins, NULL, &ev);
    assert_true(ins);
    assert_false(ev);
    assert_int_equal(ltab_index(&t, e), idx); /* the freed entry is reused */
    assert_int_equal(((struct ent *)ltab_oldest(&t))->val, 1);
    ltab_fini(&t);
}

/* A walk removing the oldest entries with ltab_ahead asking for the next ones: the same entries
 * in the same order as the plain walk, for tables of every length around the cursors' reach
 * (under ASan: every cursor stays inside the table), with touched and removed entries in the
 * middle, and stopping halfway then going on. */
static void test_ltab_ahead_walk(void **state)
{
    (void)state;
    for (uint32_t n = 0; n <= 3 * LTAB_AHEAD + 3; n++) {
        struct ltab t;
        assert_int_equal(ltab_init(&t, n + 1, sizeof(struct ent), 16), 0);
        bool ins;
        for (uint64_t k = 1; k <= n; k++) {
            struct ent key = key_of(k);
            ((struct ent *)ltab_get(&t, &key, k * 0x9E3779B97F4A7C15ULL, &ins, NULL, NULL))->val =
                (uint32_t)k;
        }
        uint32_t want[64], nwant = 0; /* the recency order after a touch and a removal */
        for (uint32_t k = 1; k <= n; k++)
            if (n < 3 || (k != 2 && k != 3))
                want[nwant++] = k;
        if (n >= 3) {
            struct ent key = key_of(2);
            ltab_touch(&t, ltab_find(&t, &key, 2 * 0x9E3779B97F4A7C15ULL));
            key = key_of(3);
            ltab_remove(&t, ltab_find(&t, &key, 3 * 0x9E3779B97F4A7C15ULL));
            want[nwant++] = 2;
        }
        uint32_t got = 0;
        for (struct ent *e; (e = ltab_oldest(&t)) && got < nwant / 2;) {
            ltab_ahead(&t);
            assert_int_equal(e->val, want[got++]);
            ltab_remove(&t, e);
        }
        for (struct ent *e; (e = ltab_oldest(&t));) { /* the walk stopped, then goes on */
            ltab_ahead(&t);
            assert_int_equal(e->val, want[got++]);
            ltab_remove(&t, e);
        }
        assert_int_equal(got, nwant);
        assert_int_equal(t.n, 0);
        ltab_fini(&t);
    }
}

/* Random operations against a model kept in recency order (oldest first). */
static void test_ltab_model(void **state)
{
    (void)state;
    enum { CAP = 64, KEYS = 200 };
    struct ltab t;
    assert_int_equal(ltab_init(&t, CAP, sizeof(struct ent), 16), 0);
    uint64_t model[CAP];
    size_t n = 0;
    uint64_t evicted = 0;
    uint32_t x = 1;
    for (int step = 0; step < 200000; step++) {
        x = x * 1103515245u + 12345u;
        uint64_t k = (x >> 8) % KEYS;
        uint64_t hash = (k & 1) ? k % 5 : k * 0x9E3779B97F4A7C15ull; /* odd keys collide */
        struct ent key = key_of(k);
        size_t at = n;
        for (size_t i = 0; i < n; i++)
            if (model[i] == k)
                at = i;
        int op = (x >> 24) % 4;
        if (op == 0) { /* find */
            struct ent *e = ltab_find(&t, &key, hash);
            assert_true((e != NULL) == (at < n));
            if (e) {
                assert_int_equal(e->key[0], k);
                assert_int_equal(e->val, (uint32_t)k + 1);
            }
        } else if (op == 1 && at < n) { /* remove */
            ltab_remove(&t, ltab_find(&t, &key, hash));
            memmove(&model[at], &model[at + 1], (n - at - 1) * sizeof model[0]);
            n--;
        } else { /* get, then touch: the newest */
            bool ins, ev;
            struct ent gone;
            struct ent *e = ltab_get(&t, &key, hash, &ins, &gone, &ev);
            assert_true(ins == (at == n));
            if (ins) { /* handed out zeroed past the key (a removed or evicted one's bytes too) */
                assert_int_equal(e->val, 0);
                assert_int_equal(e->pad, 0);
                e->val = (uint32_t)k + 1;
                e->pad = 0xffffffffu;
            } else {
                assert_int_equal(e->val, (uint32_t)k + 1);
            }
            if (at < n) {
                memmove(&model[at], &model[at + 1], (n - at - 1) * sizeof model[0]);
                n--;
            } else if (n == CAP) {
                assert_true(ev);
                assert_int_equal(gone.key[0], model[0]);
                memmove(&model[0], &model[1], (n - 1) * sizeof model[0]);
                n--;
                evicted++;
            } else {
                assert_false(ev);
            }
            ltab_touch(&t, e);
            model[n++] = k;
        }
        assert_int_equal(t.n, n);
        assert_true(t.head - t.tail <= t.nlog); /* the recency log stays bounded */
        struct ent *o = ltab_oldest(&t);
        assert_true((o != NULL) == (n > 0));
        if (o)
            assert_int_equal(o->key[0], model[0]);
    }
    assert_int_equal(t.evicted, evicted);
    assert_true(evicted > 100);
    ltab_fini(&t);
}

/* The recency log: one entry left alone while two others are touched over and over fills the
 * log with stale records; it is compacted (bounded at nlog records), the untouched entry stays
 * the oldest and is the one evicted (counted) when a new key needs room. */
static void test_ltab_log_compact(void **state)
{
    (void)state;
    struct ltab t;
    assert_int_equal(ltab_init(&t, 4, sizeof(struct ent), 16), 0);
    bool ins, ev;
    struct ent gone;
    for (uint64_t k = 1; k <= 3; k++) {
        struct ent key = key_of(k);
        ((struct ent *)ltab_get(&t, &key, k, &ins, NULL, NULL))->val = (uint32_t)k;
    }
    for (int r = 0; r < 1000; r++) {
        struct ent key = key_of(2 + (uint64_t)(r & 1));
        ltab_touch(&t, ltab_find(&t, &key, 2 + (uint64_t)(r & 1)));
        assert_true(t.head - t.tail <= t.nlog);
    }
    assert_true(t.compacted >= 1000 / t.nlog);
    assert_int_equal(((struct ent *)ltab_oldest(&t))->val, 1);
    struct ent key = key_of(4);
    ltab_get(&t, &key, 4, &ins, &gone, &ev); /* fills the table */
    assert_false(ev);
    key = key_of(5);
    ltab_get(&t, &key, 5, &ins, &gone, &ev);
    assert_true(ev);
    assert_int_equal(gone.val, 1);
    assert_int_equal(t.evicted, 1);
    assert_int_equal(((struct ent *)ltab_oldest(&t))->val, 2); /* 2 then 3: their last touches */
    ltab_fini(&t);
}

/* Keys of every size ltab_insert copies at a known size (8..64 in steps of 8) and of sizes it
 * copies by length (4, 20, 72): each key lands whole, nothing past it is written, and a lookup
 * finds it (and not a key differing in its last byte). */
static void test_ltab_key_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {4, 8, 16, 20, 24, 32, 40, 48, 56, 64, 72};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t ksz = sizes[z], esz = ksz + 8;
        struct ltab t;
        assert_int_equal(ltab_init(&t, 8, esz, ksz), 0);
        uint8_t key[80];
        for (uint64_t k = 1; k <= 5; k++) {
            for (size_t b = 0; b < ksz; b++)
                key[b] = (uint8_t)(k * 31 + b);
            bool ins;
            uint8_t *e = ltab_get(&t, key, k, &ins, NULL, NULL);
            assert_true(ins);
            assert_memory_equal(e, key, ksz);
            for (size_t b = ksz; b < esz; b++)
                assert_int_equal(e[b], 0);
            assert_ptr_equal(ltab_find(&t, key, k), e);
            key[ksz - 1] ^= 1;
            assert_null(ltab_find(&t, key, k));
        }
        ltab_fini(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ktab),
        cmocka_unit_test(test_ltab_order),
        cmocka_unit_test(test_ltab_model),
        cmocka_unit_test(test_ltab_ahead_walk),
        cmocka_unit_test(test_ltab_log_compact),
        cmocka_unit_test(test_ltab_key_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
