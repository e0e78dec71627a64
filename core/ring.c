/* ring.c: the ring's set-up and its bell (see ring.h). */
#include "ring.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lines.h"

int ring_bell_init(struct ring_bell *b)
{
    atomic_init(&b->armed, false);
    b->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return b->fd < 0 ? -errno : 0;
}

void ring_bell_fini(struct ring_bell *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
}

void ring_bell_ring(struct ring_bell *b)
{
    uint64_t one = 1;
    ssize_t w = write(b->fd, &one, sizeof one); /* EAGAIN: the counter is full, still readable */
    (void)w;
}

void ring_bell_arm(struct ring_bell *b)
{
    atomic_store_explicit(&b->armed, true, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst); /* pairs with the fence in ring_publish_wake */
}

void ring_bell_disarm(struct ring_bell *b)
{
    atomic_store_explicit(&b->armed, false, memory_order_relaxed);
    uint64_t v;
    ssize_t r = read(b->fd, &v, sizeof v); /* EAGAIN: nothing pending */
    (void)r;
}

void ring_bell_wait(struct ring_bell *b, int timeout_ms)
{
    struct pollfd p = {.fd = b->fd, .events = POLLIN};
    while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
        ;
    ring_bell_disarm(b);
}

void ring_publish_wake(struct ring *r)
{
    /* the store of head (ring_publish) before the load of armed: a seq_cst fence on each side
     * (here and in ring_bell_arm), so either the consumer sees the items or we see it armed */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->bell->armed, memory_order_relaxed))
        ring_bell_ring(r->bell);
}

int ring_init(struct ring *r, size_t bytes, struct ring_bell *bell)
{
    memset(r, 0, sizeof *r);
    if (bytes > ((size_t)1 << 40))
        return -EINVAL;
    size_t cap = 4096;
    while (cap < bytes)
        cap <<= 1;
    r->buf = calloc_table(cap, 1); /* a configured size: reserved with the tables (lines.h) */
    if (!r->buf)
        return -ENOMEM;
    r->mask = cap - 1;
    r->bell = bell;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_fini(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
}
