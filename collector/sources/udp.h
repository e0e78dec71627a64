/* udp.h: the live UDP collector sockets (NetFlow/IPFIX export datagrams), and the UDP source.
 *
 * One listener holds one non-blocking socket per endpoint, and with several endpoints one epoll fd
 * over all of them; udp_listener_fd is what a loop polls (with one endpoint the socket itself: no
 * epoll between the socket and the loop's wait). udp_listener_recv reads one batch from one socket;
 * datagrams are handed to the callback, borrowed for the call only. The thread that reads a
 * listener owns it: the main loop's (rx_threads = 0) or a receive thread's (rx.h); counters are
 * plain fields written by that thread.
 * Kernel drops (receive buffer full) come from SO_RXQ_OVFL: the kernel attaches its drop counter
 * to each datagram read, so the figure moves when the next datagram after a drop is read. The
 * same counter is read directly (SO_MEMINFO's SK_MEMINFO_DROPS, udp_listener_sync_drops) when a
 * drain empties the sockets after a backlog (a read that filled its batch) and at most once a
 * second otherwise: the drops at the end of a burst count without a datagram after them, also
 * in a stop's last drain.
 *
 * The UDP source (source.h) is a listener behind the source interface: each drain stamps its
 * datagrams with the wall clock once and reads the sockets in turn, a batch at a time, until
 * they are empty or the budget is spent. The same source runs on the main loop and, inside
 * rx.c, on each receive thread: there is one receive path.
 * Receive moderation (coalesce_us, like a NIC's rx-usecs): a drain that emptied the sockets
 * before a batch filled waits coalesce_us once and reads again, so that at moderate rates a
 * wake-up of the loop (and, with receive threads, of the pipeline thread) carries a batch of
 * datagrams instead of one or two. Nothing is dropped for it: the datagrams wait in the socket
 * buffer (coalesce_us must stay well below the time the buffer takes to fill at the peak rate);
 * at rates where batches fill it never waits. The wait holds the drain's loop (its timers and
 * other sources) for at most coalesce_us per drain.
 */
#ifndef TW_UDP_H
#define TW_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

struct udp_listener;

struct udp_opts {
    int rcvbuf_bytes;      /* wanted SO_RCVBUF (0: 32 MiB); SO_RCVBUFFORCE is tried first */
    bool reuseport;        /* SO_REUSEPORT, to spread one port over several listeners */
    unsigned batch;        /* datagrams per recvmmsg call (0: 64, max 1024) */
    unsigned max_datagram; /* receive slot size (0: 65535); longer ones are counted truncated */
    unsigned coalesce_us;  /* the source's receive moderation (see above; 0: none, max 100000) */
};

struct udp_stats {
    uint64_t datagrams;      /* delivered to the callback */
    uint64_t bytes;          /* their payload bytes */
    uint64_t truncated;      /* longer than max_datagram (MSG_TRUNC), dropped */
    uint64_t kernel_drops;   /* SO_RXQ_OVFL, summed over the sockets */
    uint64_t recv_errors;    /* recvmmsg failures other than EAGAIN */
    uint64_t coalesce_waits; /* the source's receive moderation waits (udp_source) */
};

typedef void (*udp_datagram_fn)(void *arg, const uint8_t src[16], uint16_t sport,
                                const uint8_t *data, size_t len);

/* endpoints: "1.2.3.4:2055", "0.0.0.0:2055", "[::1]:4739", "[::]:9995", "*:2055" (all IPv4),
 * port 0 picks a free port (see udp_listener_port). opts may be NULL (defaults).
 * Returns 0 or -errno with err naming the failing endpoint. *out: caller closes. */
int udp_listener_open(const char *const *endpoints, size_t n, const struct udp_opts *opts,
                      struct udp_listener **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The sockets' fds (for poll, POLLIN) into fds[0..max); returns how many sockets there are. */
size_t udp_listener_fds(const struct udp_listener *l, int *fds, size_t max);
/* One fd for all of them (the socket with one endpoint, else an epoll fd): readable while any
 * socket has a datagram queued. */
int udp_listener_fd(const struct udp_listener *l);
size_t udp_listener_count(const struct udp_listener *l);
/* Local port of socket idx (useful after binding port 0); 0 on bad idx. */
uint16_t udp_listener_port(const struct udp_listener *l, size_t idx);
/* SO_RCVBUF the kernel granted for socket idx (as getsockopt reports it). */
int udp_listener_rcvbuf(const struct udp_listener *l, size_t idx);

/* Receive up to one batch from socket idx without blocking; cb is called per datagram with
 * the source as a 16-byte IPv4-mapped address + port (host order). Returns the number of
 * datagrams read (0: none queued) or -errno on a socket error (counted; -EINVAL: bad idx). */
int udp_listener_recv(struct udp_listener *l, size_t idx, udp_datagram_fn cb, void *arg);

uint64_t udp_listener_kernel_drops(const struct udp_listener *l);
/* Bring the kernel drop counts up to date from each socket's own counter (the reading thread). */
void udp_listener_sync_drops(struct udp_listener *l);
uint64_t udp_listener_datagrams(const struct udp_listener *l);
uint64_t udp_listener_truncated(const struct udp_listener *l);
void udp_listener_stats(const struct udp_listener *l, struct udp_stats *out);

void udp_listener_close(struct udp_listener *l);

/* Parse one endpoint string (see above) into a 16-byte mapped address + port; v6 says whether
 * the socket must be IPv6. Returns 0 or -EINVAL. */
int udp_endpoint_parse(const char *s, uint8_t addr[16], uint16_t *port, bool *v6);

/* ---- the UDP source ---- */

#define UDP_SOURCE_BUDGET 4096 /* datagrams per drain (64 batches of 64) */

/* The counters of a UDP source (also of the receive threads, rx.h): the listener's, and how often
 * a receive thread waited for room in its ring (0 without receive threads). */
struct udp_counters {
    struct udp_stats us;
    uint64_t ring_waits;
};
/* The table describing struct udp_counters (/metrics: transitwatch_udp_*, rx_ring_waits_total). */
const struct ctr_def *udp_counter_defs(size_t *n);

/* Open the endpoints as a source handing datagrams to out->datagram (out borrowed).
 * 0 or -errno with err. *src: a source set or the caller closes it. */
int udp_source_open(const char *const *endpoints, size_t n, const struct udp_opts *opts,
                    const struct source_out *out, struct source **src, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Its listener (ports and buffer sizes for the log; its counters). */
struct udp_listener *udp_source_listener(struct source *s);

#endif
