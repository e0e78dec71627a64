/* udp_sink: the benchmark's bare receiver, the loopback harness's ceiling (bench/bench.py).
 *
 *   udp_sink ADDR PORT RCVBUF
 *
 * Binds a UDP socket to ADDR:PORT (IPv4 or IPv6 literal) with a receive buffer of RCVBUF bytes
 * (SO_RCVBUFFORCE when allowed, else SO_RCVBUF) and reads datagrams with recvmmsg, 64 at a time,
 * into 64 KiB slots, doing nothing with them: no decode, no copy, no state. It is what a
 * collector costs before it does any work, so the highest rate at which it loses nothing is the
 * most any collector can be shown to take on this machine and sender. On SIGTERM or SIGINT it
 * prints "datagrams=N bytes=B" and exits 0. Loss is read by the harness from the kernel's
 * per-socket drop counter (/proc/net/udp), as for every collector. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SINK_BATCH 64
#define SINK_SLOT 65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int parse_u(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long port, rcvbuf;
    if (argc != 4 || parse_u(argv[2], 65535, &port) < 0 || parse_u(argv[3], INT_MAX, &rcvbuf) < 0) {
        fprintf(stderr, "usage: udp_sink ADDR PORT RCVBUF\n");
        return 2;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t slen;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, argv[1], &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        slen = sizeof *s4;
    } else if (inet_pton(AF_INET6, argv[1], &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        slen = sizeof *s6;
    } else {
        fprintf(stderr, "udp_sink: not an IP address: %s\n", argv[1]);
        return 2;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("udp_sink: socket");
        return 1;
    }
    int rb = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) < 0) {
        perror("udp_sink: SO_RCVBUF");
        return 1;
    }
    /* a blocked read returns every 100 ms, so a signal that lands outside it is still seen */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        perror("udp_sink: SO_RCVTIMEO");
        return 1;
    }
    if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
        perror("udp_sink: bind");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked recvmmsg returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static uint8_t buf[SINK_BATCH][SINK_SLOT];
    struct iovec iov[SINK_BATCH];
    struct mmsghdr msg[SINK_BATCH];
    memset(msg, 0, sizeof msg);
    for (int i = 0; i < SINK_BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = SINK_SLOT};
        msg[i].msg_hdr.msg_iov = &iov[i];
        msg[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t dgrams = 0, bytes = 0;
    while (!stop) {
        /* blocks for the first datagram, then takes what is queued, up to the batch */
        int n = recvmmsg(fd, msg, SINK_BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            perror("udp_sink: recvmmsg");
            return 1;
        }
        for (int i = 0; i < n; i++)
            bytes += msg[i].msg_len;
        dgrams += (uint64_t)n;
    }
    printf("datagrams=%llu bytes=%llu\n", (unsigned long long)dgrams, (unsigned long long)bytes);
    close(fd);
    return 0;
}
