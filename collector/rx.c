#include "rx.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* One datagram in a ring: header then data, padded to 8 bytes. A header with len RX_WRAP
 * means "continue at offset 0". */
struct rx_hdr {
    uint32_t len;
    uint16_t sport;
    uint16_t pad;
    uint64_t ts_ms;
    uint8_t src[16];
};
#define RX_WRAP UINT32_MAX
#define RX_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

struct rx_thread {
    struct rx_pool *pool;
    pthread_t tid;
    bool started;
    struct udp_listener *ul;
    uint8_t *buf;
    size_t mask;
    _Alignas(64) _Atomic size_t head; /* written by the thread */
    _Alignas(64) _Atomic size_t tail; /* written by the consumer */
    _Alignas(64) uint64_t now_ms;     /* the thread's batch stamp */
    _Atomic uint64_t ring_waits;
    /* udp stats copied after each batch, read by the pipeline thread */
    _Atomic uint64_t st_datagrams, st_bytes, st_truncated, st_drops, st_errors;
};

struct rx_pool {
    struct rx_thread *t;
    unsigned n;
    int efd;
    _Atomic bool stop;
    _Atomic bool sleeping;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wake(struct rx_pool *p)
{
    if (atomic_load_explicit(&p->sleeping, memory_order_acquire)) {
        uint64_t one = 1;
        ssize_t w = write(p->efd, &one, sizeof one);
        (void)w;
    }
}

/* Room for need bytes at the head, wrapping if the end is too short. Returns the offset or
 * SIZE_MAX when the ring is full now. */
static size_t reserve(struct rx_thread *t, size_t head, size_t need)
{
    size_t cap = t->mask + 1;
    size_t tail = atomic_load_explicit(&t->tail, memory_order_acquire);
    size_t at = head & t->mask;
    size_t to_end = cap - at;
    if (to_end < need) { /* skip the end: needs to_end + need free */
        if (cap - (head - tail) < to_end + need)
            return SIZE_MAX;
        return at; /* caller writes the wrap marker here */
    }
    if (cap - (head - tail) < need)
        return SIZE_MAX;
    return at;
}

static void on_datagram(void *arg, const uint8_t src[16], uint16_t sport, const uint8_t *data,
                        size_t len)
{
    struct rx_thread *t = arg;
    size_t need = RX_ALIGN(sizeof(struct rx_hdr) + len);
    size_t cap = t->mask + 1;
    if (need > cap / 2) /* cannot happen with rings >= 256 KiB and 64 KiB datagrams */
        return;
    size_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
    size_t at;
    for (;;) {
        at = reserve(t, head, need);
        if (at != SIZE_MAX)
            break;
        /* full: wait for the pipeline thread, never drop */
        atomic_fetch_add_explicit(&t->ring_waits, 1, memory_order_relaxed);
        uint64_t one = 1; /* the consumer may be asleep: wake it whatever its flag says */
        ssize_t w = write(t->pool->efd, &one, sizeof one);
        (void)w;
        sched_yield();
    }
    if (cap - at < need) { /* wrap */
        struct rx_hdr w = {.len = RX_WRAP};
        if (cap - at >= sizeof w)
            memcpy(t->buf + at, &w, sizeof w);
        head += cap - at;
        at = 0;
    }
    struct rx_hdr h = {.len = (uint32_t)len, .sport = sport, .ts_ms = t->now_ms};
    memcpy(h.src, src, 16);
    memcpy(t->buf + at, &h, sizeof h);
    memcpy(t->buf + at + sizeof h, data, len);
    atomic_store_explicit(&t->head, head + need, memory_order_release);
}

static void publish_stats(struct rx_thread *t)
{
    struct udp_stats us;
    udp_listener_stats(t->ul, &us);
    atomic_store_explicit(&t->st_datagrams, us.datagrams, memory_order_relaxed);
    atomic_store_explicit(&t->st_bytes, us.bytes, memory_order_relaxed);
    atomic_store_explicit(&t->st_truncated, us.truncated, memory_order_relaxed);
    atomic_store_explicit(&t->st_drops, us.kernel_drops, memory_order_relaxed);
    atomic_store_explicit(&t->st_errors, us.recv_errors, memory_order_relaxed);
}

static void *rx_main(void *arg)
{
    struct rx_thread *t = arg;
    struct rx_pool *p = t->pool;
    int fds[64];
    struct pollfd pfd[64];
    size_t n = udp_listener_fds(t->ul, fds, 64);
    for (size_t i = 0; i < n; i++)
        pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
        int r = poll(pfd, (nfds_t)n, 100);
        if (r <= 0)
            continue;
        t->now_ms = wall_ms();
        for (size_t i = 0; i < n; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            for (int b = 0; b < 64; b++)
                if (udp_listener_recv(t->ul, i, on_datagram, t) <= 0)
                    break;
        }
        publish_stats(t);
        wake(p);
    }
    /* stopping: take what the kernel still holds */
    t->now_ms = wall_ms();
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 4096; b++)
            if (udp_listener_recv(t->ul, i, on_datagram, t) <= 0)
                break;
    publish_stats(t);
    return NULL;
}

int rx_pool_start(const char *const *endpoints, size_t nendpoints, const struct udp_opts *opts,
                  unsigned n, size_t ring_bytes, struct rx_pool **out, char *err, size_t errlen)
{
    if (n < 1 || n > 64) {
        snprintf(err, errlen, "receive threads must be 1..64");
        return -1;
    }
    struct rx_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->t = calloc(n, sizeof *p->t))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->n = n;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    for (unsigned i = 0; i < n; i++)
        p->t[i].pool = p;
    if (p->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        free(p->t);
        free(p);
        return -1;
    }
    size_t cap = 256 * 1024;
    while (cap < ring_bytes)
        cap <<= 1;
    struct udp_opts o = opts ? *opts : (struct udp_opts){0};
    if (n > 1)
        o.reuseport = true;
    for (unsigned i = 0; i < n; i++) {
        struct rx_thread *t = &p->t[i];
        t->pool = p;
        t->mask = cap - 1;
        t->buf = malloc(cap);
        if (!t->buf) {
            snprintf(err, errlen, "out of memory for a %zu-byte ring", cap);
            goto fail;
        }
        if (udp_listener_open(endpoints, nendpoints, &o, &t->ul, err, errlen) < 0)
            goto fail;
    }
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&p->t[i].tid, NULL, rx_main, &p->t[i]) != 0) {
            snprintf(err, errlen, "cannot start a receive thread");
            goto fail;
        }
        p->t[i].started = true;
    }
    *out = p;
    return 0;
fail:
    rx_pool_stop(p, NULL, NULL);
    rx_pool_free(p);
    return -1;
}

size_t rx_pool_consume(struct rx_pool *p, rx_datagram_fn cb, void *arg, size_t max)
{
    size_t done = 0;
    for (unsigned i = 0; i < p->n && done < max; i++) {
        struct rx_thread *t = &p->t[i];
        size_t tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
        size_t head = atomic_load_explicit(&t->head, memory_order_acquire);
        size_t cap = t->mask + 1;
        while (tail != head && done < max) {
            size_t at = tail & t->mask;
            struct rx_hdr h;
            if (cap - at < sizeof h) { /* too short for a header: the producer wrapped */
                tail += cap - at;
                continue;
            }
            memcpy(&h, t->buf + at, sizeof h);
            if (h.len == RX_WRAP) {
                tail += cap - at;
                continue;
            }
            cb(arg, h.src, h.sport, h.ts_ms, t->buf + at + sizeof h, h.len);
            tail += RX_ALIGN(sizeof h + h.len);
            done++;
        }
        atomic_store_explicit(&t->tail, tail, memory_order_release);
    }
    return done;
}

static bool any_queued(struct rx_pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (atomic_load_explicit(&p->t[i].head, memory_order_acquire) !=
            atomic_load_explicit(&p->t[i].tail, memory_order_relaxed))
            return true;
    return false;
}

bool rx_pool_arm(struct rx_pool *p)
{
    atomic_store_explicit(&p->sleeping, true, memory_order_seq_cst);
    return any_queued(p);
}

void rx_pool_disarm(struct rx_pool *p)
{
    atomic_store_explicit(&p->sleeping, false, memory_order_relaxed);
    uint64_t v;
    ssize_t r = read(p->efd, &v, sizeof v);
    (void)r;
}

int rx_pool_fd(const struct rx_pool *p)
{
    return p->efd;
}

void rx_pool_stop(struct rx_pool *p, rx_datagram_fn cb, void *arg)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    for (unsigned i = 0; i < p->n; i++) {
        if (!p->t[i].started)
            continue;
        /* a thread waiting on a full ring needs the consumer: keep draining while joining */
        for (;;) {
            if (cb)
                rx_pool_consume(p, cb, arg, SIZE_MAX);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20 * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_timedjoin_np(p->t[i].tid, NULL, &ts) == 0)
                break;
        }
        p->t[i].started = false;
    }
    if (cb)
        rx_pool_consume(p, cb, arg, SIZE_MAX);
}

void rx_pool_free(struct rx_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        udp_listener_close(p->t[i].ul);
        free(p->t[i].buf);
    }
    if (p->efd >= 0)
        close(p->efd);
    free(p->t);
    free(p);
}

void rx_pool_udp_stats(struct rx_pool *p, struct udp_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < p->n; i++) {
        struct rx_thread *t = &p->t[i];
        out->datagrams += atomic_load_explicit(&t->st_datagrams, memory_order_relaxed);
        out->bytes += atomic_load_explicit(&t->st_bytes, memory_order_relaxed);
        out->truncated += atomic_load_explicit(&t->st_truncated, memory_order_relaxed);
        out->kernel_drops += atomic_load_explicit(&t->st_drops, memory_order_relaxed);
        out->recv_errors += atomic_load_explicit(&t->st_errors, memory_order_relaxed);
    }
}

uint64_t rx_pool_ring_waits(struct rx_pool *p)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < p->n; i++)
        n += atomic_load_explicit(&p->t[i].ring_waits, memory_order_relaxed);
    return n;
}

unsigned rx_pool_threads(const struct rx_pool *p)
{
    return p->n;
}

const struct udp_listener *rx_pool_listener(const struct rx_pool *p)
{
    return p->t[0].ul;
}
