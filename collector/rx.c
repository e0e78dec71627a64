/* rx.c: receive threads (see rx.h). */
#include "rx.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cpu.h"
#include "evloop.h"
#include "ring.h"

#define RX_RING_MIN (256 * 1024)
#define RX_STOP_CHECK_MS 100         /* a receive thread looks at the stop flag this often */
#define RX_FINAL_BUDGET (4096u * 64) /* datagrams a stopping thread still takes from its sockets */

/* One datagram in a ring. */
struct rx_item {
    uint64_t ts_ms;
    uint8_t src[16];
    uint16_t sport;
    uint16_t pad[3];
    uint8_t data[];
};

struct rx_thread {
    struct rx_source *pool;
    pthread_t tid;
    bool started;
    struct source *udp; /* its UDP source until the thread's set takes it; out: the ring */
    const struct udp_listener *ul; /* that source's listener (ports for the log) */
    struct ring ring;              /* this thread produces, the main thread consumes */
    bool ring_ok;
    struct evloop *loop;
    _Atomic uint64_t ring_waits;
    /* the UDP source's counters, copied after each turn for the main thread */
    _Atomic uint64_t st[sizeof(struct udp_stats) / sizeof(uint64_t)];
};

struct rx_source {
    struct source base; /* first */
    struct rx_thread *t;
    unsigned n;
    struct ring_bell bell; /* the main thread's: every ring rings it */
    bool bell_ok;
    _Atomic bool stop;
};

/* ---- on a receive thread ---- */

/* The thread's UDP source hands each datagram here: into the ring; a full ring waits. */
static void to_ring(void *arg, const uint8_t src[16], uint16_t sport, uint64_t now_ms,
                    const uint8_t *data, size_t len)
{
    struct rx_thread *t = arg;
    assert(sizeof(struct rx_item) + len <= ring_max_item(&t->ring));
    struct rx_item *it;
    unsigned spins = 0;
    while (!(it = ring_alloc(&t->ring, sizeof *it + len))) {
        /* full: never drop; let the main thread see what is there and wake it */
        if (spins == 0) {
            atomic_fetch_add_explicit(&t->ring_waits, 1, memory_order_relaxed);
            ring_publish(&t->ring);
            ring_bell_ring(&t->pool->bell);
        }
        cpu_backoff(&spins);
    }
    it->ts_ms = now_ms;
    memcpy(it->src, src, 16);
    it->sport = sport;
    memcpy(it->data, data, len);
}

/* After each turn's reads: publish the batch and the counters. */
static void rx_publish(struct rx_thread *t)
{
    if (ring_unpublished(&t->ring))
        ring_publish(&t->ring);
    struct udp_stats us;
    udp_listener_stats(t->ul, &us);
    const uint64_t *v = (const uint64_t *)&us;
    for (size_t i = 0; i < sizeof us / sizeof *v; i++)
        atomic_store_explicit(&t->st[i], v[i], memory_order_relaxed);
}

static bool rx_before_sleep(void *arg)
{
    struct rx_thread *t = arg;
    rx_publish(t);
    if (atomic_load_explicit(&t->pool->stop, memory_order_acquire))
        evloop_stop(t->loop);
    return false;
}

static uint64_t rx_stop_check(void *arg, uint64_t now_ms)
{
    (void)arg;
    (void)now_ms;
    return RX_STOP_CHECK_MS; /* the wait ends; rx_before_sleep looks at the flag */
}

static void *rx_main(void *arg)
{
    struct rx_thread *t = arg;
    struct source_set ss;
    if (source_set_init(&ss, t->loop) < 0 ||
        evloop_add_before_sleep(t->loop, rx_before_sleep, t) < 0 ||
        evloop_add_timer(t->loop, RX_STOP_CHECK_MS, rx_stop_check, t) < 0)
        return NULL; /* cannot happen (fixed slots); rx_close closes the UDP source */
    struct source *udp = t->udp;
    t->udp = NULL; /* the set owns it now */
    if (source_set_add(&ss, udp) < 0)
        return NULL;
    evloop_run(t->loop);
    /* stopping: take what the kernel still holds */
    source_set_drain_all(&ss, RX_FINAL_BUDGET);
    rx_publish(t);
    ring_bell_ring(&t->pool->bell);
    source_set_close(&ss);
    t->udp = NULL;
    return NULL;
}

/* ---- on the main thread ---- */

static struct rx_source *rx_of(struct source *s)
{
    return (struct rx_source *)s;
}

static int rx_fd(struct source *s)
{
    return ring_bell_fd(&rx_of(s)->bell);
}

/* Before the loop waits: arm the bell, then look once more (ring.h's protocol). */
static bool rx_ready(struct source *s)
{
    struct rx_source *p = rx_of(s);
    ring_bell_arm(&p->bell);
    for (unsigned i = 0; i < p->n; i++)
        if (p->t[i].ring_ok && !ring_empty(&p->t[i].ring))
            return true;
    return false;
}

/* Up to budget datagrams, oldest first per thread (no out.datagram: dropped, at close). */
static int rx_drain(struct source *s, size_t budget)
{
    struct rx_source *p = rx_of(s);
    ring_bell_disarm(&p->bell);
    size_t done = 0;
    for (unsigned i = 0; i < p->n && done < budget; i++) {
        struct rx_thread *t = &p->t[i];
        if (!t->ring_ok)
            continue;
        size_t len;
        struct rx_item *it;
        while (done < budget && (it = ring_take(&t->ring, &len))) {
            if (s->out.datagram)
                s->out.datagram(s->out.arg, it->src, it->sport, it->ts_ms, it->data,
                                len - sizeof *it);
            if ((++done & 255) == 0)
                ring_release(&t->ring); /* room for the thread early */
        }
        ring_release(&t->ring);
    }
    return (int)(done < INT32_MAX ? done : INT32_MAX);
}

static size_t rx_counters(struct source *s, size_t table, const struct ctr_def **defs, void *snap)
{
    struct rx_source *p = rx_of(s);
    struct udp_counters c;
    memset(&c, 0, sizeof c);
    uint64_t *v = (uint64_t *)&c.us;
    for (unsigned i = 0; i < p->n; i++) {
        for (size_t k = 0; k < sizeof c.us / sizeof *v; k++)
            v[k] += atomic_load_explicit(&p->t[i].st[k], memory_order_relaxed);
        c.ring_waits += atomic_load_explicit(&p->t[i].ring_waits, memory_order_relaxed);
    }
    size_t n;
    const struct ctr_def *d = udp_counter_defs(&n);
    return source_one_table(table, d, n, &c, sizeof c, defs, snap);
}

/* Stop the threads, draining the rings while they take what their sockets hold (a thread that
 * waits for room needs us), then empty the rings. */
static void rx_finish(struct source *s)
{
    struct rx_source *p = rx_of(s);
    atomic_store_explicit(&p->stop, true, memory_order_release);
    for (unsigned i = 0; i < p->n; i++) {
        struct rx_thread *t = &p->t[i];
        while (t->started) {
            rx_drain(s, SIZE_MAX);
            struct timespec ts = clock_wall_deadline(20);
            if (pthread_timedjoin_np(t->tid, NULL, &ts) == 0)
                t->started = false;
        }
    }
    rx_drain(s, SIZE_MAX);
}

static void rx_close(struct source *s)
{
    struct rx_source *p = rx_of(s);
    struct source_out none = {0};
    s->out = none; /* a close without a finish first: the rings are dropped */
    rx_finish(s);
    for (unsigned i = 0; i < p->n; i++) {
        struct rx_thread *t = &p->t[i];
        if (t->udp)
            t->udp->ops->close(t->udp);
        evloop_free(t->loop);
        if (t->ring_ok)
            ring_fini(&t->ring);
    }
    if (p->bell_ok)
        ring_bell_fini(&p->bell);
    free(p->t);
    free(p);
}

static const struct source_ops rx_source_ops = {
    .kind = "rx",
    .budget = RX_SOURCE_BUDGET,
    .fd = rx_fd,
    .ready = rx_ready,
    .drain = rx_drain,
    .finish = rx_finish,
    .counters = rx_counters,
    .close = rx_close,
};

static int open_thread(struct rx_source *p, struct rx_thread *t, const char *const *endpoints,
                       size_t nendpoints, const struct udp_opts *o, size_t ring_bytes, char *err,
                       size_t errlen)
{
    t->pool = p;
    int rc = ring_init(&t->ring, ring_bytes < RX_RING_MIN ? RX_RING_MIN : ring_bytes, &p->bell);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory for a %zu-byte ring", ring_bytes);
        return rc;
    }
    t->ring_ok = true;
    if ((rc = evloop_new(&t->loop)) < 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    struct source_out out = {.datagram = to_ring, .arg = t};
    rc = udp_source_open(endpoints, nendpoints, o, &out, &t->udp, err, errlen);
    if (rc == 0)
        t->ul = udp_source_listener(t->udp);
    return rc;
}

int rx_source_open(const char *const *endpoints, size_t nendpoints, const struct udp_opts *opts,
                   unsigned n, size_t ring_bytes, const struct source_out *out, struct source **src,
                   char *err, size_t errlen)
{
    if (n < 1 || n > 64) {
        snprintf(err, errlen, "receive threads must be 1..64");
        return -EINVAL;
    }
    struct rx_source *p = calloc(1, sizeof *p);
    if (!p || !(p->t = calloc(n, sizeof *p->t))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    source_init(&p->base, &rx_source_ops, out, "udp");
    p->n = n;
    int rc = ring_bell_init(&p->bell);
    if (rc < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(-rc));
        goto fail;
    }
    p->bell_ok = true;
    struct udp_opts o = opts ? *opts : (struct udp_opts){0};
    if (n > 1)
        o.reuseport = true;
    for (unsigned i = 0; i < n; i++)
        if ((rc = open_thread(p, &p->t[i], endpoints, nendpoints, &o, ring_bytes, err, errlen)) < 0)
            goto fail;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with the main thread */
    for (unsigned i = 0; i < n && rc == 0; i++) {
        if (pthread_create(&p->t[i].tid, NULL, rx_main, &p->t[i]) != 0) {
            snprintf(err, errlen, "cannot start a receive thread");
            rc = -EAGAIN;
            break;
        }
        p->t[i].started = true;
        pthread_setname_np(p->t[i].tid, "tw-rx");
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0)
        goto fail;
    *src = &p->base;
    return 0;
fail:
    rx_close(&p->base);
    return rc;
}

unsigned rx_source_threads(struct source *s)
{
    return rx_of(s)->n;
}

const struct udp_listener *rx_source_listener(struct source *s)
{
    return rx_of(s)->t[0].ul;
}
