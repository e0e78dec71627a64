/* test_udp: the UDP collector sockets over 127.0.0.1 and ::1 (endpoint parsing, IPv4/IPv6,
 * batching, MSG_TRUNC, SO_REUSEPORT, IPV6_V6ONLY, the SO_RXQ_OVFL drop counter, the fd a loop
 * polls with one and with several sockets) and the UDP source's receive moderation.
 * Every loop is bounded in count and time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp.h"

struct rx {
    int n;
    size_t bytes;
    uint8_t src[16];
    uint16_t sport;
    uint8_t first[64];
    size_t first_len;
};

static void on_dgram(void *arg, const uint8_t src[16], uint16_t sport, const uint8_t *data,
                     size_t len)
{
    struct rx *r = arg;
    if (r->n == 0) {
        memcpy(r->src, src, 16);
        r->sport = sport;
        r->first_len = len < sizeof(r->first) ? len : sizeof(r->first);
        memcpy(r->first, data, r->first_len);
    }
    r->n++;
    r->bytes += len;
}

/* A client socket bound to an ephemeral port; returns fd, *port its port. */
static int client(bool v6, uint16_t *port)
{
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    assert_true(s >= 0);
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = v6 ? AF_INET6 : AF_INET;
    assert_int_equal(bind(s, (struct sockaddr *)&ss,
                          v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)),
                     0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&ss, &sl), 0);
    *port =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return s;
}

static void send_to(int s, bool v6, uint16_t port, const void *d, size_t n)
{
    ssize_t r;
    if (v6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        a.sin6_addr = in6addr_loopback;
        r = sendto(s, d, n, 0, (struct sockaddr *)&a, sizeof(a));
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = sendto(s, d, n, 0, (struct sockaddr *)&a, sizeof(a));
    }
    assert_int_equal(r, (ssize_t)n);
}

/* Receive from socket idx until want datagrams or ~2 s. */
static void drain(struct udp_listener *l, size_t idx, struct rx *r, int want)
{
    int i, fd;
    udp_listener_fds(l, &fd, 1);
    if (idx > 0) {
        int fds[8];
        udp_listener_fds(l, fds, 8);
        fd = fds[idx];
    }
    for (i = 0; i < 200 && r->n < want; i++) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        (void)poll(&pf, 1, 10);
        assert_true(udp_listener_recv(l, idx, on_dgram, r) >= 0);
    }
}

static void test_endpoint_parse(void **state)
{
    uint8_t a[16], want[16];
    uint16_t port;
    bool v6;
    struct udp_listener *l;
    char err[256];
    const char *bad[] = {"1.2.3.4",           "1.2.3.4:",    "1.2.3.4:65536", "1.2.3.4:-1",
                         "::1:2055",          "[::1]2055",   "[::1]:",        "[zz]:1",
                         "host.example:2055", "1.2.3.4:20x", "[]:1",          ""};
    size_t i;

    (void)state;
    assert_int_equal(udp_endpoint_parse("192.0.2.1:2055", a, &port, &v6), 0);
    assert_false(v6);
    assert_int_equal(port, 2055);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", want), 1);
    assert_memory_equal(a, want, 16);
    assert_int_equal(udp_endpoint_parse("[2001:db8::1]:4739", a, &port, &v6), 0);
    assert_true(v6);
    assert_int_equal(port, 4739);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", want), 1);
    assert_memory_equal(a, want, 16);
    assert_int_equal(udp_endpoint_parse("*:9995", a, &port, &v6), 0);
    assert_int_equal(udp_endpoint_parse(":9995", a, &port, &v6), 0);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:0.0.0.0", want), 1);
    assert_memory_equal(a, want, 16);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(udp_endpoint_parse(bad[i], a, &port, &v6), -EINVAL);
    {
        const char *eps[] = {"127.0.0.1:0", "bogus:12"};
        assert_int_equal(udp_listener_open(eps, 2, NULL, &l, err, sizeof(err)), -EINVAL);
        assert_null(l);
        assert_non_null(strstr(err, "'bogus:12'"));
    }
    assert_int_equal(udp_listener_open(NULL, 0, NULL, &l, err, sizeof(err)), -EINVAL);
}

static void test_v4_v6_receive(void **state)
{
    const char *eps[] = {"127.0.0.1:0", "[::1]:0"};
    struct udp_opts o = {.batch = 8};
    struct udp_listener *l;
    struct rx r;
    char err[256];
    uint8_t want[16];
    uint16_t cport;
    int fds[4], c;

    (void)state;
    assert_int_equal(udp_listener_open(eps, 2, &o, &l, err, sizeof(err)), 0);
    assert_int_equal(udp_listener_fds(l, fds, 4), 2);
    assert_int_equal(udp_listener_count(l), 2);
    assert_true(udp_listener_port(l, 0) > 0);
    assert_true(udp_listener_port(l, 1) > 0);
    assert_true(udp_listener_rcvbuf(l, 0) > 0);
    /* nothing queued: returns 0 at once */
    memset(&r, 0, sizeof(r));
    assert_int_equal(udp_listener_recv(l, 0, on_dgram, &r), 0);
    assert_int_equal(udp_listener_recv(l, 5, on_dgram, &r), -EINVAL);

    c = client(false, &cport);
    send_to(c, false, udp_listener_port(l, 0), "v4-datagram", 11);
    drain(l, 0, &r, 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.first_len, 11);
    assert_memory_equal(r.first, "v4-datagram", 11);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", want), 1);
    assert_memory_equal(r.src, want, 16);
    assert_int_equal(r.sport, cport);
    close(c);

    memset(&r, 0, sizeof(r));
    c = client(true, &cport);
    send_to(c, true, udp_listener_port(l, 1), "v6", 2);
    drain(l, 1, &r, 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(inet_pton(AF_INET6, "::1", want), 1);
    assert_memory_equal(r.src, want, 16);
    assert_int_equal(r.sport, cport);

    /* 200 datagrams arrive in batches of at most 8 */
    {
        int i, calls = 0, got;
        uint8_t buf[500] = {0};
        memset(&r, 0, sizeof(r));
        for (i = 0; i < 200; i++)
            send_to(c, true, udp_listener_port(l, 1), buf, 100 + (size_t)i);
        for (i = 0; i < 500 && r.n < 200; i++) {
            got = udp_listener_recv(l, 1, on_dgram, &r);
            assert_true(got >= 0 && got <= 8);
            if (got)
                calls++;
            else
                usleep(1000);
        }
        assert_int_equal(r.n, 200);
        assert_true(calls >= 25);
        assert_int_equal(r.bytes, 200 * 100 + 199 * 200 / 2);
    }
    close(c);
    assert_int_equal(udp_listener_datagrams(l), 202);
    assert_int_equal(udp_listener_kernel_drops(l), 0);
    udp_listener_close(l);
}

static void test_truncated(void **state)
{
    const char *eps[] = {"127.0.0.1:0"};
    struct udp_opts o = {.max_datagram = 100};
    struct udp_listener *l;
    struct udp_stats st;
    struct rx r;
    char err[256];
    uint8_t big[300] = {0};
    uint16_t cport;
    int c, i;

    (void)state;
    assert_int_equal(udp_listener_open(eps, 1, &o, &l, err, sizeof(err)), 0);
    c = client(false, &cport);
    send_to(c, false, udp_listener_port(l, 0), big, sizeof(big));
    send_to(c, false, udp_listener_port(l, 0), big, 100);
    memset(&r, 0, sizeof(r));
    for (i = 0; i < 200 && udp_listener_truncated(l) + (uint64_t)r.n < 2; i++) {
        if (udp_listener_recv(l, 0, on_dgram, &r) == 0)
            usleep(1000);
    }
    assert_int_equal(r.n, 1);
    assert_int_equal(r.bytes, 100);
    udp_listener_stats(l, &st);
    assert_int_equal(st.truncated, 1);
    assert_int_equal(st.datagrams, 1);
    close(c);
    udp_listener_close(l);
}

static void test_reuseport_v6only(void **state)
{
    const char *eps[] = {"[::]:0"};
    struct udp_opts o = {.reuseport = true};
    struct udp_listener *a, *b, *v4;
    char ep[64], err[256];
    const char *epp = ep;
    uint16_t port;

    (void)state;
    assert_int_equal(udp_listener_open(eps, 1, &o, &a, err, sizeof(err)), 0);
    port = udp_listener_port(a, 0);
    /* the same port again with SO_REUSEPORT */
    snprintf(ep, sizeof(ep), "[::]:%u", port);
    assert_int_equal(udp_listener_open(&epp, 1, &o, &b, err, sizeof(err)), 0);
    /* an IPv4 wildcard on the same port: only possible with IPV6_V6ONLY */
    snprintf(ep, sizeof(ep), "0.0.0.0:%u", port);
    assert_int_equal(udp_listener_open(&epp, 1, NULL, &v4, err, sizeof(err)), 0);
    udp_listener_close(v4);
    udp_listener_close(b);
    /* without SO_REUSEPORT the port is taken, and the error names the endpoint */
    snprintf(ep, sizeof(ep), "[::]:%u", port);
    assert_int_equal(udp_listener_open(&epp, 1, NULL, &b, err, sizeof(err)), -EADDRINUSE);
    assert_non_null(strstr(err, ep));
    assert_non_null(strstr(err, "in use"));
    udp_listener_close(a);
}

static void test_kernel_drops(void **state)
{
    const char *eps[] = {"127.0.0.1:0"};
    struct udp_opts o = {.rcvbuf_bytes = 4096, .batch = 64};
    struct udp_listener *l;
    struct rx r;
    char err[256];
    uint8_t buf[1000] = {0};
    uint16_t cport, port;
    int c, i;
    uint64_t drops;

    (void)state;
    assert_int_equal(udp_listener_open(eps, 1, &o, &l, err, sizeof(err)), 0);
    assert_true(udp_listener_rcvbuf(l, 0) < 65536);
    port = udp_listener_port(l, 0);
    c = client(false, &cport);
    for (i = 0; i < 300; i++) /* a burst the small buffer cannot hold */
        send_to(c, false, port, buf, sizeof(buf));
    memset(&r, 0, sizeof(r));
    for (i = 0; i < 100; i++)
        if (udp_listener_recv(l, 0, on_dgram, &r) == 0)
            break;
    assert_true(r.n > 0 && r.n < 300);
    /* the socket's own counter, read without a datagram after the drops (the end of a burst) */
    assert_int_equal(udp_listener_kernel_drops(l), 0);
    udp_listener_sync_drops(l);
    drops = udp_listener_kernel_drops(l);
    assert_true(drops > 0);
    assert_int_equal(drops + (uint64_t)r.n, 300);
    /* the counter riding on the next datagram read says the same: nothing counted twice */
    send_to(c, false, port, "marker", 6);
    drain(l, 0, &r, r.n + 1);
    assert_int_equal(udp_listener_kernel_drops(l), drops);
    assert_int_equal(drops + (uint64_t)r.n, 301);
    close(c);
    udp_listener_close(l);
}

/* One socket: the loop polls the socket itself; several: one epoll fd that shows each of them. */
static void test_listener_fd(void **state)
{
    (void)state;
    const char *one[] = {"127.0.0.1:0"}, *two[] = {"127.0.0.1:0", "127.0.0.1:0"};
    struct udp_listener *l;
    char err[256];
    int fds[2];
    assert_int_equal(udp_listener_open(one, 1, NULL, &l, err, sizeof err), 0);
    assert_int_equal(udp_listener_fds(l, fds, 2), 1);
    assert_int_equal(udp_listener_fd(l), fds[0]);
    udp_listener_close(l);

    assert_int_equal(udp_listener_open(two, 2, NULL, &l, err, sizeof err), 0);
    assert_int_equal(udp_listener_fds(l, fds, 2), 2);
    int fd = udp_listener_fd(l);
    assert_true(fd != fds[0] && fd != fds[1]);
    for (size_t idx = 0; idx < 2; idx++) {
        uint16_t cport;
        int c = client(false, &cport);
        send_to(c, false, udp_listener_port(l, idx), "x", 1);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&pf, 1, 2000), 1); /* bounded: 2 s */
        struct rx r = {0};
        assert_int_equal(udp_listener_recv(l, idx, on_dgram, &r), 1);
        assert_int_equal(r.n, 1);
        pf.revents = 0;
        assert_int_equal(poll(&pf, 1, 0), 0); /* read: not readable any more */
        close(c);
    }
    udp_listener_close(l);
}

static void src_dgram(void *arg, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                      const uint8_t *data, size_t len)
{
    (void)src;
    (void)sport;
    (void)data;
    (void)len;
    assert_true(now_ms > 1600000000000ULL);
    (*(int *)arg)++;
}

/* Send n datagrams to the source and wait until its fd is readable (loopback delivers within
 * the send; the pause is slack). */
static void send_n(struct source *s, int c, int n)
{
    for (int i = 0; i < n; i++)
        send_to(c, false, udp_listener_port(udp_source_listener(s), 0), "abcd", 4);
    struct pollfd pf = {.fd = s->ops->fd(s), .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 2000), 1);
    usleep(20000);
}

static uint64_t waits_of(struct source *s)
{
    struct udp_stats st;
    udp_listener_stats(udp_source_listener(s), &st);
    return st.coalesce_waits;
}

/* The receive moderation: a drain that empties the socket before a batch fills waits once (and
 * takes what came meanwhile); a full batch, a spent budget, an empty socket or coalesce_us 0
 * never wait; every datagram is handed on either way. */
static void test_source_coalesce(void **state)
{
    (void)state;
    const char *eps[] = {"127.0.0.1:0"};
    struct udp_opts o = {.batch = 4, .coalesce_us = 1000};
    int got = 0;
    struct source_out out = {.datagram = src_dgram, .arg = &got};
    struct source *s;
    char err[256];
    uint16_t cport;
    int c = client(false, &cport);
    assert_int_equal(udp_source_open(eps, 1, &o, &out, &s, err, sizeof err), 0);

    assert_int_equal(s->ops->drain(s, 64), 0); /* nothing queued: no wait */
    assert_int_equal(waits_of(s), 0);
    send_n(s, c, 1);
    assert_int_equal(s->ops->drain(s, 64), 1); /* one of a batch of 4: waited once */
    assert_int_equal(waits_of(s), 1);
    send_n(s, c, 4);
    assert_int_equal(s->ops->drain(s, 64), 4); /* a full batch: no wait */
    assert_int_equal(waits_of(s), 1);
    send_n(s, c, 2);
    assert_int_equal(s->ops->drain(s, 1), 1); /* the budget spent: no wait */
    assert_int_equal(s->ops->drain(s, 64), 1);
    assert_int_equal(waits_of(s), 2);
    assert_int_equal(got, 7);
    s->ops->close(s);

    o.coalesce_us = 0;
    got = 0;
    assert_int_equal(udp_source_open(eps, 1, &o, &out, &s, err, sizeof err), 0);
    send_n(s, c, 1);
    assert_int_equal(s->ops->drain(s, 64), 1);
    assert_int_equal(waits_of(s), 0);
    assert_int_equal(got, 1);
    s->ops->close(s);
    close(c);
}

/* A source's drains count the drops at the end of a burst without a datagram after them: the
 * drain that empties the socket after a backlog reads the socket's own drop counter. */
static void test_source_burst_drops(void **state)
{
    (void)state;
    const char *eps[] = {"127.0.0.1:0"};
    struct udp_opts o = {.rcvbuf_bytes = 4096, .batch = 8};
    int got = 0;
    struct source_out out = {.datagram = src_dgram, .arg = &got};
    struct source *s;
    char err[256];
    uint8_t buf[1000] = {0};
    uint16_t cport;
    int c = client(false, &cport);
    assert_int_equal(udp_source_open(eps, 1, &o, &out, &s, err, sizeof err), 0);
    uint16_t port = udp_listener_port(udp_source_listener(s), 0);
    for (int i = 0; i < 300; i++) /* a burst the small buffer cannot hold, and nothing after it */
        send_to(c, false, port, buf, sizeof buf);
    for (int i = 0; i < 100 && s->ops->drain(s, 64) > 0; i++)
        ;
    assert_true(got > 0 && got < 300);
    assert_int_equal(udp_listener_kernel_drops(udp_source_listener(s)) + (uint64_t)got, 300);
    s->ops->close(s);
    close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_parse),     cmocka_unit_test(test_v4_v6_receive),
        cmocka_unit_test(test_truncated),          cmocka_unit_test(test_reuseport_v6only),
        cmocka_unit_test(test_kernel_drops),       cmocka_unit_test(test_listener_fd),
        cmocka_unit_test(test_source_burst_drops), cmocka_unit_test(test_source_coalesce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
