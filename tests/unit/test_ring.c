/* SPSC ring: order, wrap-around, full/empty, and a two-thread stress with a checksum. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

struct item {
    uint64_t seq;
    uint64_t pad[5];
};

static void test_basic(void **st)
{
    struct ring r;
    assert_int_equal(ring_init(&r, 5, sizeof(struct item)), 0);
    assert_int_equal(ring_capacity(&r), 8);
    struct item in[20], out[20];
    for (int i = 0; i < 20; i++)
        in[i].seq = (uint64_t)i;
    assert_int_equal(ring_push(&r, in, 20), 8); /* full at 8 */
    assert_int_equal(ring_push(&r, in, 1), 0);
    assert_int_equal(ring_count(&r), 8);
    assert_int_equal(ring_pop(&r, out, 3), 3);
    assert_int_equal(out[2].seq, 2);
    assert_int_equal(ring_push(&r, in + 8, 5), 3); /* wraps */
    assert_int_equal(ring_pop(&r, out, 20), 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i].seq, (uint64_t)i + 3);
    assert_int_equal(ring_pop(&r, out, 1), 0);
    ring_destroy(&r);
}

#define N 2000000u

static void *producer(void *arg)
{
    struct ring *r = arg;
    struct item batch[37];
    uint64_t next = 0;
    while (next < N) {
        size_t n = 0;
        while (n < 37 && next + n < N) {
            batch[n].seq = next + n;
            n++;
        }
        size_t done = 0;
        while (done < n)
            done += ring_push(r, batch + done, n - done);
        next += n;
    }
    return NULL;
}

static void test_two_threads(void **st)
{
    struct ring r;
    assert_int_equal(ring_init(&r, 1024, sizeof(struct item)), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
    uint64_t expect = 0;
    struct item out[64];
    while (expect < N) {
        size_t n = ring_pop(&r, out, 64);
        for (size_t i = 0; i < n; i++) {
            if (out[i].seq != expect)
                fail_msg("got %llu, want %llu", (unsigned long long)out[i].seq,
                         (unsigned long long)expect);
            expect++;
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(ring_count(&r), 0);
    ring_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
