/* The one SPSC ring (core/ring.h): items of every size wrap around a small ring in order and
 * intact, taken one by one or in batches; a full ring refuses (never overwrites); peek does not take; nothing is visible before
 * publish; a producer thread and a consumer thread that sleeps on the bell move a million items
 * in order without a lost wake-up (the consumer sleeps without a timeout). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cpu.h"
#include "ring.h"

static size_t len_of(uint32_t i)
{
    return 4 + (i * 2654435761u) % 700u; /* 4 .. 703 bytes */
}

static void fill(uint8_t *p, uint32_t i, size_t len)
{
    memcpy(p, &i, 4);
    for (size_t k = 4; k < len; k++)
        p[k] = (uint8_t)(i * 31 + k);
}

static bool check(const uint8_t *p, size_t len, uint32_t want)
{
    uint32_t i;
    memcpy(&i, p, 4);
    if (i != want || len != len_of(i))
        return false;
    for (size_t k = 4; k < len; k++)
        if (p[k] != (uint8_t)(i * 31 + k))
            return false;
    return true;
}

static void test_wraps_in_order(void **st)
{
    (void)st;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096, NULL), 0);
    assert_int_equal(r.mask + 1, 4096);
    uint32_t sent = 0, got = 0;
    while (got < 20000) {
        /* as many as fit, published in one go */
        uint8_t *p;
        while (sent < 20000 && (p = ring_alloc(&r, len_of(sent))) != NULL) {
            fill(p, sent, len_of(sent));
            sent++;
        }
        size_t len;
        assert_null(ring_peek(&r, &len)); /* nothing visible before publish */
        ring_publish(&r);
        const uint8_t *q;
        if (got % 2) { /* one at a time, or in batches */
            while ((q = ring_take(&r, &len)) != NULL) {
                assert_true(check(q, len, got));
                got++;
            }
        } else {
            void *items[7];
            size_t lens[7], n;
            while ((n = ring_take_n(&r, items, lens, 7)) > 0)
                for (size_t i = 0; i < n; i++, got++)
                    assert_true(check(items[i], lens[i], got));
        }
        ring_release(&r);
        assert_true(ring_drained(&r));
        assert_true(ring_empty(&r));
    }
    assert_int_equal(sent, got);
    ring_fini(&r);
}

static void test_full_refuses_and_peek(void **st)
{
    (void)st;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096, NULL), 0);
    size_t n = 0, len;
    uint8_t *p;
    while ((p = ring_alloc(&r, 100)) != NULL)
        memset(p, (int)n++, 100);
    assert_int_equal(n, 4096 / RING_ALIGN(sizeof(struct ring_hdr) + 100));
    assert_true(ring_empty(&r)); /* nothing published yet */
    assert_null(ring_peek(&r, &len));
    ring_publish(&r);
    assert_false(ring_drained(&r));
    uint8_t *a = ring_peek(&r, &len), *b = ring_peek(&r, &len);
    assert_ptr_equal(a, b); /* peek does not take */
    assert_int_equal(len, 100);
    assert_int_equal(a[0], 0);
    assert_non_null(ring_take(&r, &len));
    assert_non_null(ring_take(&r, &len));
    assert_null(ring_alloc(&r, 100)); /* taken but not released: still the consumer's */
    ring_release(&r);
    /* 36 items of 112 bytes leave 64 at the end: the next one wraps, needing 64 + 112 */
    uint8_t *w = ring_alloc(&r, 100);
    assert_ptr_equal(w, r.buf + sizeof(struct ring_hdr));
    ring_publish(&r);
    for (size_t i = 2; i < n; i++) { /* the rest, then the wrapped one */
        uint8_t *q = ring_take(&r, &len);
        assert_non_null(q);
        assert_int_equal(q[0], (uint8_t)i);
    }
    assert_ptr_equal(ring_take(&r, &len), w);
    assert_null(ring_take(&r, &len));
    ring_fini(&r);
}

/* ---- two threads, the consumer asleep on the bell ---- */

#define MANY 1000000u

struct pair {
    struct ring r;
    struct ring_bell bell;
    uint32_t got, bad, sleeps;
};

static void *consumer(void *arg)
{
    struct pair *pr = arg;
    while (pr->got < MANY) {
        size_t len;
        const uint8_t *q;
        unsigned n = 0;
        while ((q = ring_take(&pr->r, &len)) != NULL) {
            uint32_t i;
            memcpy(&i, q, 4);
            if (i != pr->got || len != 8 + (i & 63))
                pr->bad++;
            pr->got++;
            if (++n % 64 == 0)
                ring_release(&pr->r);
        }
        ring_release(&pr->r);
        if (pr->got == MANY)
            break;
        ring_bell_arm(&pr->bell);
        if (ring_empty(&pr->r)) {
            pr->sleeps++;
            ring_bell_wait(&pr->bell, -1); /* no timeout: a lost wake-up hangs the test */
        } else {
            ring_bell_disarm(&pr->bell);
        }
    }
    return NULL;
}

static void test_threads_with_bell(void **st)
{
    (void)st;
    struct pair pr = {0};
    assert_int_equal(ring_bell_init(&pr.bell), 0);
    assert_int_equal(ring_init(&pr.r, 8192, &pr.bell), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, consumer, &pr), 0);
    for (uint32_t i = 0; i < MANY; i++) {
        uint8_t *p;
        unsigned spins = 0;
        while ((p = ring_alloc(&pr.r, 8 + (i & 63))) == NULL) {
            ring_publish(&pr.r);
            cpu_backoff(&spins);
        }
        memcpy(p, &i, 4);
        if (i % 7 == 0 || i % 1000 == 999)
            ring_publish(&pr.r); /* now in bursts, now one by one */
    }
    ring_publish(&pr.r);
    pthread_join(t, NULL);
    print_message("%u items, consumer slept %u times\n", pr.got, pr.sleeps);
    assert_int_equal(pr.got, MANY);
    assert_int_equal(pr.bad, 0);
    ring_fini(&pr.r);
    ring_bell_fini(&pr.bell);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wraps_in_order),
        cmocka_unit_test(test_full_refuses_and_peek),
        cmocka_unit_test(test_threads_with_bell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
