/* udp.h: the live UDP collector sockets (NetFlow/IPFIX export datagrams).
 *
 * One listener holds one non-blocking socket per endpoint. The rx thread that opened it polls
 * the fds (udp_listener_fds) and calls udp_listener_recv for a ready one; datagrams are handed to
 * the callback, borrowed for the call only. Counters are plain fields written by that thread;
 * read them from it (or accept slightly stale values).
 * Kernel drops (receive buffer full) come from SO_RXQ_OVFL: the kernel attaches its drop counter
 * to each datagram read, so the figure moves when the next datagram after a drop is read.
 */
#ifndef TW_UDP_H
#define TW_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct udp_listener;

struct udp_opts {
    int rcvbuf_bytes;     /* wanted SO_RCVBUF (0: 32 MiB); SO_RCVBUFFORCE is tried first */
    bool reuseport;       /* SO_REUSEPORT, to spread one port over several listeners */
    unsigned batch;       /* datagrams per recvmmsg call (0: 64, max 1024) */
    unsigned max_datagram; /* receive slot size (0: 65535); longer ones are counted truncated */
};

struct udp_stats {
    uint64_t datagrams;    /* delivered to the callback */
    uint64_t bytes;        /* their payload bytes */
    uint64_t truncated;    /* longer than max_datagram (MSG_TRUNC), dropped */
    uint64_t kernel_drops; /* SO_RXQ_OVFL, summed over the sockets */
    uint64_t recv_errors;  /* recvmmsg failures other than EAGAIN */
};

typedef void (*udp_datagram_fn)(void *arg, const uint8_t src[16], uint16_t sport,
                                const uint8_t *data, size_t len);

/* endpoints: "1.2.3.4:2055", "0.0.0.0:2055", "[::1]:4739", "[::]:9995", "*:2055" (all IPv4),
 * port 0 picks a free port (see udp_listener_port). opts may be NULL (defaults).
 * Returns 0 or -1 with err naming the failing endpoint. *out: caller closes. */
int udp_listener_open(const char *const *endpoints, size_t n, const struct udp_opts *opts,
                      struct udp_listener **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The sockets' fds (for poll, POLLIN) into fds[0..max); returns how many sockets there are. */
size_t udp_listener_fds(const struct udp_listener *l, int *fds, size_t max);
size_t udp_listener_count(const struct udp_listener *l);
/* Local port of socket idx (useful after binding port 0); 0 on bad idx. */
uint16_t udp_listener_port(const struct udp_listener *l, size_t idx);
/* SO_RCVBUF the kernel granted for socket idx (as getsockopt reports it). */
int udp_listener_rcvbuf(const struct udp_listener *l, size_t idx);

/* Receive up to one batch from socket idx without blocking; cb is called per datagram with
 * the source as a 16-byte IPv4-mapped address + port (host order). Returns the number of
 * datagrams read (0: none queued) or -1 on a socket error (counted). */
int udp_listener_recv(struct udp_listener *l, size_t idx, udp_datagram_fn cb, void *arg);

uint64_t udp_listener_kernel_drops(const struct udp_listener *l);
uint64_t udp_listener_datagrams(const struct udp_listener *l);
uint64_t udp_listener_truncated(const struct udp_listener *l);
void udp_listener_stats(const struct udp_listener *l, struct udp_stats *out);

void udp_listener_close(struct udp_listener *l);

/* Parse one endpoint string (see above) into a 16-byte mapped address + port; v6 says whether
 * the socket must be IPv6. Returns 0 or -1. */
int udp_endpoint_parse(const char *s, uint8_t addr[16], uint16_t *port, bool *v6);

#endif
