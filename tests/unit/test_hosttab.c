/* Host table: find/insert, bounded memory, eviction preferences and counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "host.h"
#include "hosttab.h"
#include "tags.h"

static void addr_n(uint8_t a[16], uint32_t n)
{
    addr_from_v4(a, 0x0A000000u + n);
}

static void test_insert_find(void **st)
{
    struct hash_key k;
    hash_key_from_seed(&k, 1);
    struct hosttab *t;
    assert_int_equal(hosttab_new(1024, 24, &k, &t), 0);
    uint8_t a[16];
    bool ins;
    void *s;
    for (uint32_t i = 0; i < 500; i++) {
        addr_n(a, i);
        struct host *h = hosttab_get(t, 1, a, 7, &ins, &s);
        assert_true(ins);
        assert_non_null(s);
        memset(s, (int)(i & 0xff), 24);
        h->last_ms = i;
    }
    for (uint32_t i = 0; i < 500; i++) {
        addr_n(a, i);
        struct host *h = hosttab_get(t, 1, a, 7, &ins, &s);
        assert_false(ins);
        assert_int_equal(((uint8_t *)s)[23], i & 0xff);
        assert_int_equal(h->last_ms, i);
        /* keyed by address: asking for another customer finds nothing */
        assert_null(hosttab_find(t, 2, a, NULL));
        assert_non_null(hosttab_find(t, 0, a, NULL));
    }
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    assert_int_equal(hs.used, 500);
    hosttab_free(t);
}

static void test_high_load_before_eviction(void **st)
{
    /* two-choice buckets: at 75 % of the capacity, at most 0.02 % of inserts evicted */
    struct hash_key k;
    hash_key_from_seed(&k, 9);
    struct hosttab *t;
    assert_int_equal(hosttab_new(65536, 0, &k, &t), 0);
    uint8_t a[16];
    bool ins;
    void *s;
    for (uint32_t i = 0; i < 65536 * 3 / 4; i++) {
        addr_n(a, i);
        hosttab_get(t, 1, a, 0, &ins, &s);
    }
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    assert_true(hs.evictions <= 10);
    hosttab_free(t);
}

static void test_bounded_eviction(void **st)
{
    struct hash_key k;
    hash_key_from_seed(&k, 2);
    struct hosttab *t;
    assert_int_equal(hosttab_new(256, 0, &k, &t), 0);
    size_t mem = hosttab_memory(t);
    uint8_t a[16];
    bool ins;
    void *s;
    /* a flood of a million distinct hosts: memory does not move, evictions are counted */
    for (uint32_t i = 0; i < 1000000; i++) {
        addr_n(a, i);
        struct host *h = hosttab_get(t, 1, a, i / 1000, &ins, &s);
        h->window = i / 1000;
        h->last_ms = i;
    }
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    assert_int_equal(hosttab_memory(t), mem);
    assert_true(hs.used <= hs.capacity);
    assert_int_equal(hs.inserts, 1000000);
    assert_int_equal(hs.evictions, 1000000 - hs.used);
    hosttab_free(t);
}

/* One bucket filled with HOSTTAB_WAYS hosts 10.0.0.0.. in window 5 (host 3 in window 4), last
 * seen 100 + i, senders except those in dark_mask (bit i: host i only received); then host
 * 10.0.3.232 arrives and one of them must go. */
static struct hosttab *full_bucket_plus_one(unsigned dark_mask)
{
    struct hash_key k;
    hash_key_from_seed(&k, 3);
    struct hosttab *t;
    assert_int_equal(hosttab_new(HOSTTAB_WAYS, 0, &k, &t), 0); /* one bucket */
    uint8_t a[16];
    bool ins;
    void *s;
    for (uint32_t i = 0; i < HOSTTAB_WAYS; i++) {
        addr_n(a, i);
        struct host *h = hosttab_get(t, 1, a, 5, &ins, &s);
        h->last_ms = 100 + i;
        h->window = i == 3 ? 4 : 5;
        h->sender = !(dark_mask >> i & 1);
    }
    addr_n(a, 1000);
    hosttab_get(t, 1, a, 5, &ins, &s);
    return t;
}

static void test_prefers_inactive_victim(void **st)
{
    struct hosttab *t = full_bucket_plus_one(0); /* host 3 is from an older window */
    uint8_t a[16];
    addr_n(a, 3);
    assert_null(hosttab_find(t, 1, a, NULL)); /* the inactive one went, though not the oldest */
    addr_n(a, 0);
    assert_non_null(hosttab_find(t, 1, a, NULL));
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    assert_int_equal(hs.evictions, 1);
    assert_int_equal(hs.evictions_active, 0);
    assert_int_equal(hs.evictions_dark, 0);
    hosttab_free(t);
}

/* An address that only ever received (a scan's dark target) goes before any host that sent,
 * even one from an older window and staler; among dark ones, the stalest. */
static void test_prefers_dark_victim(void **st)
{
    /* 6 and 7: probed, never answered; active, newest */
    struct hosttab *t = full_bucket_plus_one(1u << 6 | 1u << 7);
    uint8_t a[16];
    addr_n(a, 6);
    assert_null(hosttab_find(t, 1, a, NULL));
    for (uint32_t i = 0; i < HOSTTAB_WAYS; i++) {
        addr_n(a, i);
        if (i != 6)
            assert_non_null(hosttab_find(t, 1, a, NULL));
    }
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    assert_int_equal(hs.evictions, 1);
    assert_int_equal(hs.evictions_dark, 1);
    assert_int_equal(hs.evictions_active, 0);
    hosttab_free(t);
}

static bool drop_odd(void *arg, struct host *h, void *state)
{
    (*(int *)arg)++;
    return h->last_ms % 2 == 1;
}

static void test_foreach_remove(void **st)
{
    struct hash_key k;
    hash_key_from_seed(&k, 4);
    struct hosttab *t;
    assert_int_equal(hosttab_new(128, 8, &k, &t), 0);
    uint8_t a[16];
    bool ins;
    void *s;
    for (uint32_t i = 0; i < 64; i++) {
        addr_n(a, i);
        hosttab_get(t, 1, a, 0, &ins, &s)->last_ms = i;
    }
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    size_t before = hs.used;
    int visited = 0;
    hosttab_foreach(t, drop_odd, &visited);
    hosttab_stats(t, &hs);
    assert_int_equal(visited, (int)before);
    for (uint32_t i = 0; i < 64; i++) {
        addr_n(a, i);
        struct host *h = hosttab_find(t, 1, a, NULL);
        if (h)
            assert_int_equal(h->last_ms % 2, 0);
    }
    assert_int_equal(hs.used + hs.expired, before);
    hosttab_free(t);
}

/* hosttab_foreach_unordered: every host once (in slot order, not the positions'), the same hosts
 * removed, and the table left as hosttab_foreach leaves it: the freed slots are taken again in
 * the same order (the new hosts land at the same offsets from a host both tables keep). A
 * removal in slot order would hand them out in another order (det_scan's waiting probes compare
 * a kept pointer's address and customer: which slot a returning host takes is behaviour). */
struct visits {
    uint64_t sum, n;
    uint32_t last_slot_ms; /* the previous visit's last_ms: in slot order they rise */
    bool rising;
};

static bool drop_thirds(void *arg, struct host *h, void *state)
{
    (void)state;
    struct visits *v = arg;
    v->sum += h->last_ms;
    v->n++;
    if (v->n > 1 && h->last_ms < v->last_slot_ms)
        v->rising = false;
    v->last_slot_ms = (uint32_t)h->last_ms;
    return h->last_ms % 3 == 1;
}

static void test_foreach_unordered(void **st)
{
    (void)st;
    struct hash_key k;
    hash_key_from_seed(&k, 6);
    struct hosttab *t[2];
    struct host *kept[2];
    struct visits v[2];
    uint8_t a[16];
    bool ins;
    void *s;
    for (int x = 0; x < 2; x++) {
        assert_int_equal(hosttab_new(1024, 40, &k, &t[x]), 0);
        for (uint32_t i = 0; i < 600; i++) {
            addr_n(a, i);
            hosttab_get(t[x], 1, a, 0, &ins, &s)->last_ms = i; /* slot i: last_ms rises with it */
        }
        addr_n(a, 0);
        kept[x] = hosttab_find(t[x], 1, a, NULL);
        memset(&v[x], 0, sizeof v[x]);
        v[x].rising = true;
        if (x == 0)
            hosttab_foreach(t[x], drop_thirds, &v[x]);
        else
            hosttab_foreach_unordered(t[x], drop_thirds, &v[x]);
    }
    assert_int_equal(v[0].n, 600);
    assert_int_equal(v[1].n, 600);
    assert_int_equal(v[0].sum, v[1].sum);
    assert_false(v[0].rising); /* the positions: the hash's order */
    assert_true(v[1].rising);  /* the slots: memory order */
    struct hosttab_stats hs[2];
    for (int x = 0; x < 2; x++)
        hosttab_stats(t[x], &hs[x]);
    assert_int_equal(hs[0].used, 400);
    assert_int_equal(hs[1].used, 400);
    assert_int_equal(hs[0].expired, hs[1].expired);
    for (uint32_t i = 0; i < 600; i++) {
        addr_n(a, i);
        for (int x = 0; x < 2; x++)
            assert_true((hosttab_find(t[x], 1, a, NULL) != NULL) == (i % 3 != 1));
    }
    for (uint32_t i = 1000; i < 1300; i++) { /* 200 freed slots again, then 100 never used */
        addr_n(a, i);
        ptrdiff_t off[2];
        for (int x = 0; x < 2; x++) {
            struct host *h = hosttab_get(t[x], 2, a, 1, &ins, &s);
            assert_true(ins);
            off[x] = (uint8_t *)h - (uint8_t *)kept[x];
        }
        assert_int_equal(off[0], off[1]);
    }
    for (int x = 0; x < 2; x++) {
        memset(&v[x], 0, sizeof v[x]);
        hosttab_foreach_unordered(t[x], drop_thirds, &v[x]);
        assert_int_equal(v[x].n, 700);
        hosttab_free(t[x]);
    }
}

/* The memory model (bench/RESULTS.md): struct host is 64 bytes without padding, and a slot
 * with every detector's state (flood 64 + scan 40 = 104) is 168 bytes (rounded up to 8, the
 * widest field; slots start at 64); each position of the capacity costs 8 more (tag and slot
 * number). */
static void test_slot_bytes(void **st)
{
    (void)st;
    assert_int_equal(sizeof(struct host), 64);
    assert_int_equal(offsetof(struct host, weight_day) + CAT_COUNT, sizeof(struct host));
    struct hash_key k;
    hash_key_from_seed(&k, 1);
    struct hosttab *t;
    assert_int_equal(hosttab_new(64, 104, &k, &t), 0);
    assert_int_equal(hosttab_slot_bytes(t), 168);
    hosttab_free(t);
    assert_int_equal(hosttab_new(64, 100, &k, &t), 0); /* 164: rounded up to 8 */
    assert_int_equal(hosttab_slot_bytes(t), 168);
    hosttab_free(t);
}

/* Dense slots: memory in use follows the most hosts held at once, not the capacity; a removed
 * host's slot is taken again (its address cleared meanwhile), an evicted one's by its successor. */
static bool drop_all(void *arg, struct host *h, void *state)
{
    (void)state;
    struct host **kept = arg;
    for (int i = 0; i < 4; i++) {
        if (!kept[i]) {
            kept[i] = h;
            break;
        }
    }
    return true;
}

static void test_dense_slots(void **st)
{
    (void)st;
    struct hash_key k;
    hash_key_from_seed(&k, 5);
    struct hosttab *t;
    assert_int_equal(hosttab_new(4096, 104, &k, &t), 0);
    size_t base = hosttab_memory_used(t);
    assert_true(base < 4096 * 8 + 1024);
    assert_int_equal(hosttab_memory(t) - base, 4096 * 168);
    uint8_t a[16];
    bool ins;
    void *s;
    for (uint32_t i = 0; i < 1000; i++) { /* never-used slots: zero without a memset */
        addr_n(a, i);
        struct host *h = hosttab_get(t, 1, a, 0, &ins, &s);
        assert_true(ins);
        assert_int_equal(h->last_ms + h->sampling + h->exporter + h->alert_cats, 0);
        for (size_t b = 0; b < 104; b++)
            assert_int_equal(((uint8_t *)s)[b], 0);
        h->last_ms = 7;
        h->sampling = 9;
        memset(s, 0xab, 104); /* dirty: a slot freed and taken again must come back zeroed */
    }
    struct hosttab_stats hs;
    hosttab_stats(t, &hs);
    assert_int_equal(hs.high_water, 1000);
    assert_int_equal(hosttab_memory_used(t), base + 1000 * 168);
    struct host *kept[4] = {NULL, NULL, NULL, NULL};
    hosttab_foreach(t, drop_all, kept);
    hosttab_stats(t, &hs);
    assert_int_equal(hs.used, 0);
    for (int i = 0; i < 4; i++) { /* freed: never taken for a host by a pointer kept to it */
        assert_non_null(kept[i]);
        assert_int_equal(kept[i]->customer, 0);
        static const uint8_t zero[16];
        assert_memory_equal(kept[i]->addr, zero, 16);
    }
    for (uint32_t i = 5000; i < 6000; i++) { /* the freed slots again: no page more */
        addr_n(a, i);
        struct host *h = hosttab_get(t, 2, a, 1, &ins, &s);
        assert_true(ins);
        assert_int_equal(h->last_ms + h->sampling, 0); /* zeroed, host and state */
        for (size_t b = 0; b < 104; b++)
            assert_int_equal(((uint8_t *)s)[b], 0);
    }
    for (uint32_t i = 5000; i < 6000; i++) {
        addr_n(a, i);
        assert_non_null(hosttab_find(t, 2, a, NULL));
    }
    hosttab_stats(t, &hs);
    assert_int_equal(hs.high_water, 1000);
    assert_int_equal(hs.used, 1000);
    /* past the capacity: evictions reuse their victims' slots; the high-water mark stays within */
    for (uint32_t i = 10000; i < 30000; i++) {
        addr_n(a, i);
        hosttab_get(t, 3, a, 2, &ins, &s);
    }
    hosttab_stats(t, &hs);
    assert_true(hs.evictions > 0);
    assert_int_equal(hs.high_water, hs.used);
    assert_true(hs.high_water <= hs.capacity);
    assert_int_equal(hosttab_memory_used(t), base + hs.high_water * 168);
    hosttab_free(t);
}

/* tags_match (the tables' tag compare, SSE2 or a loop) against a plain loop over the same tags,
 * on blocks of every size it takes, drawn from few values so that many positions match (free
 * positions: tag 0) and at every alignment; tags_count against counting bits one by one. */
static void test_tags_match(void **st)
{
    (void)st;
    uint32_t raw[TAGS_MAX + 1];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 4000; round++) {
        for (size_t i = 0; i < TAGS_MAX + 1; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t v = (uint32_t)(x >> 40) % 5; /* 0 (free), 1-3, or a large value */
            raw[i] = v == 4 ? 0x80000001u + (uint32_t)(x & 0xff) : v;
        }
        const uint32_t *tags = raw + round % 2; /* aligned or not */
        size_t n = 4 * (1 + (size_t)round % (TAGS_MAX / 4));
        uint32_t tag =
            round % 7 == 6 ? 0x80000001u + (uint32_t)(x >> 8 & 0xff) : (uint32_t)(round % 4);
        uint32_t want = 0;
        for (size_t i = 0; i < n; i++)
            if (tags[i] == tag)
                want |= 1u << i;
        assert_int_equal(tags_match(tags, n, tag), want);
        unsigned bits = 0;
        for (uint32_t m = want; m; m >>= 1)
            bits += m & 1;
        assert_int_equal(tags_count(want), bits);
    }
    assert_int_equal(tags_count(0xffffffffu), 32);
    assert_int_equal(tags_count(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find),
        cmocka_unit_test(test_high_load_before_eviction),
        cmocka_unit_test(test_bounded_eviction),
        cmocka_unit_test(test_prefers_inactive_victim),
        cmocka_unit_test(test_prefers_dark_victim),
        cmocka_unit_test(test_foreach_remove),
        cmocka_unit_test(test_slot_bytes),
        cmocka_unit_test(test_dense_slots),
        cmocka_unit_test(test_tags_match),
        cmocka_unit_test(test_foreach_unordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
