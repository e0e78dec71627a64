/* udp.c: UDP collector sockets with recvmmsg batching and SO_RXQ_OVFL drop counting, and the
 * UDP source. See udp.h. Linux-specific (recvmmsg, SO_RXQ_OVFL, SO_RCVBUFFORCE, epoll). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie, recvmmsg (CMake defines it too) */
#endif
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define UDP_DEFAULT_RCVBUF (32 * 1024 * 1024)
#define UDP_MAX_BATCH 1024u
#define UDP_MAX_COALESCE_US 100000u

struct udp_sock {
    int fd;
    bool v6;
    uint16_t port;
    int rcvbuf;
    uint32_t ovfl_last; /* last SO_RXQ_OVFL value seen (kernel's cumulative 32-bit counter) */
    uint64_t drops;
};

/* One cmsg slot per datagram, aligned for struct cmsghdr. */
union udp_cmsg {
    struct cmsghdr align;
    uint8_t buf[CMSG_SPACE(sizeof(uint32_t)) + 32];
};

struct udp_listener {
    struct udp_sock *socks;
    size_t n;
    int epfd; /* epoll over the sockets (-1 with one socket: the loop polls the socket) */
    unsigned batch;
    unsigned dirty; /* headers the last recvmmsg wrote into (set again before the next call) */
    unsigned coalesce_us;
    unsigned slot; /* bytes per receive slot */
    uint8_t *data; /* batch * slot */
    struct mmsghdr *msgs;
    struct iovec *iov;
    struct sockaddr_storage *names;
    union udp_cmsg *cmsgs;
    bool backlog;           /* a read since the last drop sync filled its batch */
    uint64_t drops_sync_ms; /* when the drop counts were last read (udp_listener_sync_drops) */
    struct udp_stats st;
};

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    unsigned long v;

    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > 65535)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

int udp_endpoint_parse(const char *s, uint8_t addr[16], uint16_t *port, bool *v6)
{
    char host[64];
    const char *colon;
    size_t hl;

    if (!s)
        return -EINVAL;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -EINVAL;
        hl = (size_t)(rb - s - 1);
        if (hl == 0 || hl >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (inet_pton(AF_INET6, host, addr) != 1)
            return -EINVAL;
        *v6 = true;
        return parse_port(rb + 2, port);
    }
    colon = strrchr(s, ':');
    if (!colon || strchr(s, ':') != colon) /* bare IPv6 needs brackets */
        return -EINVAL;
    hl = (size_t)(colon - s);
    if (hl >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    memset(addr, 0, 16);
    addr[10] = addr[11] = 0xff;
    if (hl != 0 && strcmp(host, "*") != 0 && inet_pton(AF_INET, host, addr + 12) != 1)
        return -EINVAL;
    *v6 = false;
    return parse_port(colon + 1, port);
}

static int open_sock(const char *ep, const struct udp_opts *o, struct udp_sock *s, char *err,
                     size_t errlen)
{
    uint8_t addr[16];
    uint16_t port;
    bool v6;
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1, want, got = 0;
    socklen_t gl = sizeof(got);

    s->fd = -1;
    if (udp_endpoint_parse(ep, addr, &port, &v6) < 0) {
        snprintf(err, errlen, "endpoint '%s': expected ADDR:PORT or [V6ADDR]:PORT", ep);
        return -EINVAL;
    }
    memset(&ss, 0, sizeof(ss));
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, addr, 16);
        a->sin6_port = htons(port);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, addr + 12, 4);
        a->sin_port = htons(port);
        sl = sizeof(*a);
    }
    s->v6 = v6;
    s->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        goto fail;
    if (v6 && setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        goto fail;
    if (o->reuseport && setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto fail;
    want = o->rcvbuf_bytes > 0 ? o->rcvbuf_bytes : UDP_DEFAULT_RCVBUF;
    /* FORCE ignores rmem_max but needs CAP_NET_ADMIN; fall back quietly. */
    if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
        (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0)
        s->rcvbuf = got;
    (void)setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)); /* best effort */
    if (bind(s->fd, (struct sockaddr *)&ss, sl) < 0)
        goto fail;
    sl = sizeof(ss);
    if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) < 0)
        goto fail;
    s->port =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
fail:;
    int e = errno;
    snprintf(err, errlen, "endpoint '%s': %s", ep, strerror(e));
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    return -e;
}

int udp_listener_open(const char *const *endpoints, size_t n, const struct udp_opts *opts,
                      struct udp_listener **out, char *err, size_t errlen)
{
    struct udp_opts o = {0};
    struct udp_listener *l;
    size_t i;

    *out = NULL;
    if (opts)
        o = *opts;
    if (n == 0) {
        snprintf(err, errlen, "no UDP endpoints given");
        return -EINVAL;
    }
    l = calloc(1, sizeof(*l));
    if (!l)
        goto oom;
    l->epfd = -1;
    if (n > 1 && (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        int e = errno;
        snprintf(err, errlen, "epoll: %s", strerror(e));
        free(l);
        return -e;
    }
    l->batch = o.batch ? (o.batch > UDP_MAX_BATCH ? UDP_MAX_BATCH : o.batch) : 64;
    l->dirty = l->batch; /* every header set before the first call */
    l->slot = o.max_datagram ? (o.max_datagram > 65535 ? 65535 : o.max_datagram) : 65535;
    l->coalesce_us = o.coalesce_us > UDP_MAX_COALESCE_US ? UDP_MAX_COALESCE_US : o.coalesce_us;
    l->socks = calloc(n, sizeof(*l->socks));
    l->data = malloc((size_t)l->batch * l->slot);
    l->msgs = calloc(l->batch, sizeof(*l->msgs));
    l->iov = calloc(l->batch, sizeof(*l->iov));
    l->names = calloc(l->batch, sizeof(*l->names));
    l->cmsgs = calloc(l->batch, sizeof(*l->cmsgs));
    if (!l->socks || !l->data || !l->msgs || !l->iov || !l->names || !l->cmsgs)
        goto oom;
    for (i = 0; i < n; i++) {
        int rc = open_sock(endpoints[i], &o, &l->socks[i], err, errlen);
        if (rc < 0) {
            udp_listener_close(l);
            return rc;
        }
        l->n++;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        if (l->epfd >= 0 && epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->socks[i].fd, &ev) < 0) {
            rc = -errno;
            snprintf(err, errlen, "endpoint '%s': epoll: %s", endpoints[i], strerror(-rc));
            udp_listener_close(l);
            return rc;
        }
    }
    *out = l;
    return 0;
oom:
    snprintf(err, errlen, "UDP listener: out of memory");
    udp_listener_close(l);
    return -ENOMEM;
}

size_t udp_listener_fds(const struct udp_listener *l, int *fds, size_t max)
{
    size_t i;

    for (i = 0; i < l->n && i < max; i++)
        fds[i] = l->socks[i].fd;
    return l->n;
}

int udp_listener_fd(const struct udp_listener *l)
{
    return l->epfd >= 0 ? l->epfd : l->socks[0].fd;
}

size_t udp_listener_count(const struct udp_listener *l)
{
    return l->n;
}

uint16_t udp_listener_port(const struct udp_listener *l, size_t idx)
{
    return idx < l->n ? l->socks[idx].port : 0;
}

int udp_listener_rcvbuf(const struct udp_listener *l, size_t idx)
{
    return idx < l->n ? l->socks[idx].rcvbuf : 0;
}

static void src_of(const struct sockaddr_storage *ss, uint8_t out[16], uint16_t *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        memcpy(out, &a->sin6_addr, 16);
        *port = ntohs(a->sin6_port);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a->sin_addr, 4);
        *port = ntohs(a->sin_port);
    } else {
        memset(out, 0, 16);
        *port = 0;
    }
}

/* Socket s's kernel drop counter (SO_RXQ_OVFL or SO_MEMINFO: the same cumulative 32-bit count)
 * is now v: the drops since the last reading are counted. */
static void drops_to(struct udp_listener *l, struct udp_sock *s, uint32_t v)
{
    uint32_t d = v - s->ovfl_last; /* wraps like the kernel's */
    s->drops += d;
    l->st.kernel_drops += d;
    s->ovfl_last = v;
}

/* udp_listener_recv taking at most max (1..batch) datagrams: the source's budget. */
static int recv_up_to(struct udp_listener *l, size_t idx, unsigned max, udp_datagram_fn cb,
                      void *arg)
{
    struct udp_sock *s;
    unsigned i;
    int n;

    if (idx >= l->n)
        return -EINVAL;
    s = &l->socks[idx];
    /* the kernel writes only the headers of the datagrams it returns: set those again */
    for (i = 0; i < l->dirty; i++) {
        struct msghdr *h = &l->msgs[i].msg_hdr;
        l->iov[i].iov_base = l->data + (size_t)i * l->slot;
        l->iov[i].iov_len = l->slot;
        h->msg_name = &l->names[i];
        h->msg_namelen = sizeof(l->names[i]);
        h->msg_iov = &l->iov[i];
        h->msg_iovlen = 1;
        h->msg_control = l->cmsgs[i].buf;
        h->msg_controllen = sizeof(l->cmsgs[i].buf);
        h->msg_flags = 0;
        l->msgs[i].msg_len = 0;
    }
    n = recvmmsg(s->fd, l->msgs, max, MSG_DONTWAIT, NULL);
    l->dirty = n > 0 ? (unsigned)n : 0;
    l->backlog |= n == (int)max;
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        l->st.recv_errors++;
        return -errno;
    }
    for (i = 0; i < (unsigned)n; i++) {
        struct msghdr *h = &l->msgs[i].msg_hdr;
        struct cmsghdr *cm;
        uint8_t src[16];
        uint16_t sport;

        for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL &&
                cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
                uint32_t v;
                memcpy(&v, CMSG_DATA(cm), sizeof(v));
                drops_to(l, s, v);
            }
        }
        if (h->msg_flags & MSG_TRUNC) {
            l->st.truncated++;
            continue;
        }
        src_of(&l->names[i], src, &sport);
        l->st.datagrams++;
        l->st.bytes += l->msgs[i].msg_len;
        cb(arg, src, sport, l->iov[i].iov_base, l->msgs[i].msg_len);
    }
    return n;
}

int udp_listener_recv(struct udp_listener *l, size_t idx, udp_datagram_fn cb, void *arg)
{
    return recv_up_to(l, idx, l->batch, cb, arg);
}

void udp_listener_sync_drops(struct udp_listener *l)
{
    for (size_t i = 0; i < l->n; i++) {
        uint32_t mem[SK_MEMINFO_VARS];
        socklen_t len = sizeof mem;
        if (l->socks[i].fd >= 0 &&
            getsockopt(l->socks[i].fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
            len > SK_MEMINFO_DROPS * sizeof(uint32_t))
            drops_to(l, &l->socks[i], mem[SK_MEMINFO_DROPS]);
    }
    l->backlog = false;
}

uint64_t udp_listener_kernel_drops(const struct udp_listener *l)
{
    return l->st.kernel_drops;
}

uint64_t udp_listener_datagrams(const struct udp_listener *l)
{
    return l->st.datagrams;
}

uint64_t udp_listener_truncated(const struct udp_listener *l)
{
    return l->st.truncated;
}

void udp_listener_stats(const struct udp_listener *l, struct udp_stats *out)
{
    *out = l->st;
}

void udp_listener_close(struct udp_listener *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        if (l->socks[i].fd >= 0)
            close(l->socks[i].fd);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->socks);
    free(l->data);
    free(l->msgs);
    free(l->iov);
    free(l->names);
    free(l->cmsgs);
    free(l);
}

/* ---- the UDP source ---- */

#define C CTR_COUNTER
#define UDP_ROWS(X)                                                                                \
    X(T, us.datagrams, NULL, "udp_datagrams_total", NULL, C, "UDP datagrams received.")            \
    X(T, us.bytes, NULL, "udp_bytes_total", NULL, C, "UDP payload bytes received.")                \
    X(T, us.truncated, "udp_truncated", "udp_truncated_total", NULL, C,                            \
      "Datagrams longer than the receive slot, dropped.")                                          \
    X(T, us.kernel_drops, "udp_kernel_drops", "udp_kernel_drops_total", NULL, C,                   \
      "Datagrams the kernel dropped for a full socket buffer (SO_RXQ_OVFL).")                      \
    X(T, us.recv_errors, "udp_receive_errors", "udp_receive_errors_total", NULL, C,                \
      "Receive calls that failed.")                                                                \
    X(T, us.coalesce_waits, NULL, "udp_coalesce_waits_total", NULL, C,                             \
      "Reads that emptied the sockets before a batch filled and waited rx_coalesce_us for more.")  \
    X(T, ring_waits, NULL, "rx_ring_waits_total", NULL, C,                                         \
      "Times a receive thread waited for room in its ring to the pipeline thread.")
#define T struct udp_counters
static const struct ctr_def udp_defs[] = {UDP_ROWS(CTR_ROW)};
#undef T
#undef C
_Static_assert(sizeof(struct udp_counters) == sizeof udp_defs / sizeof udp_defs[0] * 8,
               "a udp counter without its row");
_Static_assert(sizeof(struct udp_counters) <= SOURCE_SNAP_MAX, "snapshot too large");

const struct ctr_def *udp_counter_defs(size_t *n)
{
    *n = sizeof udp_defs / sizeof udp_defs[0];
    return udp_defs;
}

struct udp_source {
    struct source base; /* first */
    struct udp_listener *l;
    uint64_t now_ms; /* this drain's stamp */
    size_t next;     /* the socket to read first next time (round robin) */
};

static void src_datagram(void *arg, const uint8_t src[16], uint16_t sport, const uint8_t *data,
                         size_t len)
{
    struct udp_source *u = arg;
    u->base.out.datagram(u->base.out.arg, src, sport, u->now_ms, data, len);
}

static int udp_src_fd(struct source *s)
{
    return udp_listener_fd(((struct udp_source *)s)->l);
}

/* Read the sockets in turn, a batch each, until all are empty or done reaches budget; the
 * datagrams read are added to *done. */
static void read_round(struct udp_source *u, size_t budget, size_t *done)
{
    struct udp_listener *l = u->l;
    size_t idle = 0;
    while (*done < budget && idle < l->n) {
        size_t i = u->next;
        u->next = (u->next + 1) % l->n;
        size_t left = budget - *done;
        int got = recv_up_to(l, i, left < l->batch ? (unsigned)left : l->batch, src_datagram, u);
        if (got > 0) {
            *done += (size_t)got;
            idle = 0;
        } else {
            idle++; /* empty, or an error (counted): the next socket */
        }
    }
}

/* Read until the sockets are empty or the budget is spent; sockets emptied before a batch
 * filled: the receive moderation's one wait (udp.h), then read again. */
static int udp_src_drain(struct source *s, size_t budget)
{
    struct udp_source *u = (struct udp_source *)s;
    struct udp_listener *l = u->l;
    u->now_ms = clock_wall_ms();
    size_t done = 0;
    read_round(u, budget, &done);
    if (l->coalesce_us && done > 0 && done < l->batch && done < budget) {
        struct timespec ts = {0, (long)l->coalesce_us * 1000};
        l->st.coalesce_waits++;
        nanosleep(&ts, NULL); /* EINTR: a signal; read what is there now */
        u->now_ms = clock_wall_ms();
        read_round(u, budget, &done);
    }
    /* emptied after a backlog (the drops, if any, are behind us now), or a second on */
    if (done < budget && (l->backlog || u->now_ms >= l->drops_sync_ms + 1000)) {
        udp_listener_sync_drops(l);
        l->drops_sync_ms = u->now_ms;
    }
    return (int)(done < INT32_MAX ? done : INT32_MAX);
}

static size_t udp_src_counters(struct source *s, size_t table, const struct ctr_def **defs,
                               void *snap)
{
    struct udp_counters c = {.us = ((struct udp_source *)s)->l->st};
    size_t n;
    const struct ctr_def *d = udp_counter_defs(&n);
    return source_one_table(table, d, n, &c, sizeof c, defs, snap);
}

static void udp_src_close(struct source *s)
{
    struct udp_source *u = (struct udp_source *)s;
    udp_listener_close(u->l);
    free(u);
}

static const struct source_ops udp_source_ops = {
    .kind = "udp",
    .budget = UDP_SOURCE_BUDGET,
    .fd = udp_src_fd,
    .drain = udp_src_drain,
    .counters = udp_src_counters,
    .close = udp_src_close,
};

int udp_source_open(const char *const *endpoints, size_t n, const struct udp_opts *opts,
                    const struct source_out *out, struct source **src, char *err, size_t errlen)
{
    struct udp_source *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "UDP listener: out of memory");
        return -ENOMEM;
    }
    int rc = udp_listener_open(endpoints, n, opts, &u->l, err, errlen);
    if (rc < 0) {
        free(u);
        return rc;
    }
    source_init(&u->base, &udp_source_ops, out, "udp");
    *src = &u->base;
    return 0;
}

struct udp_listener *udp_source_listener(struct source *s)
{
    return ((struct udp_source *)s)->l;
}
