/* Receive threads: datagrams of many sizes through a small ring (it wraps many times), all
 * delivered in order with their content and source; stopping hands over what is queued. */
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
            print_message("bad: seq %u want %u len %zu want %zu\n", seq, g->next, len, size_of(seq));
    }
    g->next = seq + 1;
    g->bytes += len;
}

static void test_wraps_in_order(void **st)
{
    const char *eps[] = {"127.0.0.1:0"};
    struct udp_opts o = {.rcvbuf_bytes = 32 << 20};
    struct rx_pool *p;
    char err[256];
    assert_int_equal(rx_pool_start(eps, 1, &o, 1, 256 * 1024, &p, err, sizeof err), 0);
    uint16_t port = udp_listener_port(rx_pool_listener(p), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static uint8_t buf[9000];
    struct got g = {0};
    time_t start = time(NULL);
    for (uint32_t i = 0; i < N; i++) {
        size_t len = size_of(i);
        memcpy(buf, &i, 4);
        for (size_t k = 4; k < len; k++)
            buf[k] = (uint8_t)(i + k);
        assert_true(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len);
        /* keep consuming, as the pipeline thread does; a consumer that stops lets the ring
         * fill, the receive thread wait, and the socket buffer overflow (counted drops) */
        rx_pool_consume(p, on_dgram, &g, SIZE_MAX);
        if (i % 256 == 0) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
            rx_pool_consume(p, on_dgram, &g, SIZE_MAX);
        }
    }
    while (g.next < N && time(NULL) - start < 20) {
        if (!rx_pool_arm(p)) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        rx_pool_disarm(p);
        rx_pool_consume(p, on_dgram, &g, SIZE_MAX);
    }
    rx_pool_stop(p, on_dgram, &g);
    struct udp_stats us;
    rx_pool_udp_stats(p, &us);
    close(fd);
    rx_pool_free(p);
    print_message("next %u, datagrams %llu, drops %llu, truncated %llu\n", g.next,
                  (unsigned long long)us.datagrams, (unsigned long long)us.kernel_drops,
                  (unsigned long long)us.truncated);
    assert_int_equal(g.bad, 0);
    assert_int_equal(us.kernel_drops, 0);
    assert_int_equal(g.next, N);
    assert_int_equal(us.datagrams, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wraps_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
