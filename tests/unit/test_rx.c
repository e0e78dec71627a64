/* Receive threads (the rx source on an event loop): datagrams of many sizes through a small ring
 * (it wraps many times), all delivered in order with their content and source; stopping hands
 * over what is queued; the counters come through the source's table. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "evloop.h"
#include "rx.h"

#define N 6000

struct got {
    uint32_t next;
    uint32_t bad;
    uint64_t bytes;
};

static size_t size_of(uint32_t i)
{
    return 8 + (i * 7919u) % 8000u; /* 8 .. 8007 bytes */
}

static void on_dgram(void *arg, const uint8_t src[16], uint16_t sport, uint64_t ts_ms,
                     const uint8_t *data, size_t len)
{
    (void)sport;
    struct got *g = arg;
    uint32_t seq;
    memcpy(&seq, data, 4);
    bool ok = seq == g->next && len == size_of(seq) && ts_ms > 1600000000000ULL &&
              src[10] == 0xff && src[12] == 127;
    for (size_t k = 4; ok && k < len; k++)
        ok = data[k] == (uint8_t)(seq + k);
    if (!ok) {
        g->bad++;
        if (g->bad < 5)
            print_message("bad: seq %u want %u len %zu want %zu\n", seq, g->next, len,
                          size_of(seq));
    }
    g->next = seq + 1;
    g->bytes += len;
}

static void test_wraps_in_order(void **st)
{
    (void)st;
    const char *eps[] = {"127.0.0.1:0"};
    struct udp_opts o = {.rcvbuf_bytes = 32 << 20, .coalesce_us = 200}; /* and the moderation */
    struct got g = {0};
    struct source_out out = {.datagram = on_dgram, .arg = &g};
    struct source *src;
    char err[256];
    assert_int_equal(rx_source_open(eps, 1, &o, 1, 256 * 1024, &out, &src, err, sizeof err), 0);
    uint16_t port = udp_listener_port(rx_source_listener(src), 0);
    struct evloop *l;
    assert_int_equal(evloop_new(&l), 0);
    struct source_set ss;
    assert_int_equal(source_set_init(&ss, l), 0);
    assert_int_equal(source_set_add(&ss, src), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static uint8_t buf[9000];
    time_t start = time(NULL);
    for (uint32_t i = 0; i < N; i++) {
        size_t len = size_of(i);
        memcpy(buf, &i, 4);
        for (size_t k = 4; k < len; k++)
            buf[k] = (uint8_t)(i + k);
        assert_true(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len);
        /* keep the loop turning, as the main thread does; a consumer that stops lets the ring
         * fill, the receive thread wait, and the socket buffer overflow (counted drops) */
        evloop_run_once(l, 0);
        if (i % 256 == 0) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
            evloop_run_once(l, 0);
        }
    }
    /* the rest: the loop sleeps on the rings' bell until the thread rings it */
    while (g.next < N && time(NULL) - start < 20)
        evloop_run_once(l, 100);
    source_set_finish(&ss, SIZE_MAX);
    _Alignas(uint64_t) char snap[SOURCE_SNAP_MAX];
    const struct ctr_def *d;
    size_t nrows = src->ops->counters(src, 0, &d, snap);
    assert_true(nrows > 0);
    struct udp_counters us;
    memcpy(&us, snap, sizeof us);
    assert_int_equal(source_set_counter(&ss, "udp_datagrams_total"), us.us.datagrams);
    close(fd);
    source_set_close(&ss);
    evloop_free(l);
    print_message("next %u, datagrams %llu, drops %llu, truncated %llu, ring waits %llu\n", g.next,
                  (unsigned long long)us.us.datagrams, (unsigned long long)us.us.kernel_drops,
                  (unsigned long long)us.us.truncated, (unsigned long long)us.ring_waits);
    assert_int_equal(g.bad, 0);
    assert_int_equal(us.us.kernel_drops, 0);
    assert_int_equal(g.next, N);
    assert_int_equal(us.us.datagrams, N);
}

/* Stopping hands over what the sockets still hold: datagrams sent while nothing drains arrive
 * through the source's finish. */
static void test_finish_hands_over(void **st)
{
    (void)st;
    const char *eps[] = {"127.0.0.1:0"};
    struct got g = {0};
    struct source_out out = {.datagram = on_dgram, .arg = &g};
    struct source *src;
    char err[256];
    assert_int_equal(rx_source_open(eps, 1, NULL, 2, 256 * 1024, &out, &src, err, sizeof err), 0);
    uint16_t port = udp_listener_port(rx_source_listener(src), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static uint8_t buf[9000];
    for (uint32_t i = 0; i < 200; i++) { /* one sender: one thread of the two gets them all */
        size_t len = size_of(i);
        memcpy(buf, &i, 4);
        for (size_t k = 4; k < len; k++)
            buf[k] = (uint8_t)(i + k);
        assert_true(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len);
    }
    src->ops->finish(src);
    close(fd);
    src->ops->close(src);
    assert_int_equal(g.bad, 0);
    assert_int_equal(g.next, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wraps_in_order),
        cmocka_unit_test(test_finish_hands_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
