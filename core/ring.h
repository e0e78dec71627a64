/* ring.h: the one single-producer / single-consumer ring, and the one way its consumer sleeps.
 *
 * A ring carries items of any length (datagrams, flow records, alerts) through a power-of-two
 * byte buffer allocated once: each item is an 8-byte header and its bytes, padded to 8; an item
 * that does not fit before the end of the buffer leaves a wrap marker and starts again at 0.
 * Nothing on the item path allocates, locks or makes a system call, except the wake-up below.
 *
 * Threads: exactly one producer thread and one consumer thread per ring at any time (they may
 * be the same thread). Each function says which side may call it; calling it from the other
 * side is a bug (asserted where it can be seen). A side may move to another thread only across
 * a happens-before edge (a thread start or join, a mutex, an acquire of the other side's
 * release).
 *
 * Nothing here blocks except ring_bell_wait(). A full ring makes ring_alloc() return NULL: the
 * producer decides whether to wait (cpu_backoff, core/cpu.h), do other work, or drop and count.
 *
 * Waking the consumer (struct ring_bell): a consumer that has nothing to do may sleep on a bell
 * (an eventfd, so an event loop can poll it with its other fds, or a thread can block on it).
 * Protocol (Dekker-style, both sides with a full fence): the consumer arms the bell, checks its
 * rings once more, and sleeps only if they are still empty; the producer publishes, then rings
 * the bell if it is armed. So a wake-up is never lost and a producer that finds the consumer
 * busy pays no system call. Several rings may share one bell (one consumer draining them all).
 *
 * Ownership: the ring owns its buffer; a bell is borrowed by the rings that use it and must
 * outlive them. Modelled on ipfixcol2's ring.h (which documents its locking per function) and
 * the Linux kernel's ptr_ring.
 */
#ifndef TW_RING_H
#define TW_RING_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- the bell ---- */

struct ring_bell {
    int fd;             /* eventfd, non-blocking: readable while a wake-up is pending */
    _Atomic bool armed; /* the consumer is about to sleep, or sleeping */
};

/* Any thread, before the rings that use it exist. 0 or -errno. */
int ring_bell_init(struct ring_bell *b) __attribute__((warn_unused_result));
/* After every ring that uses it is gone. */
void ring_bell_fini(struct ring_bell *b);
/* The fd an event loop polls (POLLIN) for the consumer. */
static inline int ring_bell_fd(const struct ring_bell *b)
{
    return b->fd;
}
/* Any thread: wake the consumer whether or not it is armed (stop requests, a producer that
 * waits for room and wants the consumer to look). Never blocks. */
void ring_bell_ring(struct ring_bell *b);
/* Consumer: announce that it is about to sleep. Afterwards check the rings once more (e.g.
 * ring_empty); sleep (poll the fd, or ring_bell_wait) only when they are still empty, and call
 * ring_bell_disarm() on waking either way. */
void ring_bell_arm(struct ring_bell *b);
/* Consumer: after the sleep (or instead of it): no longer armed, the pending wake-up taken. */
void ring_bell_disarm(struct ring_bell *b);
/* Consumer thread without an event loop: block until the bell rings or timeout_ms passes
 * (-1: no limit), then disarm. Call after ring_bell_arm() and a last look at the rings. */
void ring_bell_wait(struct ring_bell *b, int timeout_ms);

/* ---- the ring ---- */

struct ring_hdr {
    uint32_t len;   /* item bytes; RING_WRAP: continue at offset 0 */
    uint32_t magic; /* RING_MAGIC: a check that the consumer is where the producer wrote */
};
#define RING_WRAP UINT32_MAX
#define RING_MAGIC 0x72696e67u
#define RING_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

struct ring {
    uint8_t *buf;
    size_t mask;            /* capacity - 1 */
    struct ring_bell *bell; /* the consumer's (NULL: it never sleeps on this ring) */
    /* producer side */
    _Alignas(64) size_t p_head; /* allocated up to here (published or not) */
    size_t p_tail;              /* the consumer's release point as last read */
    /* shared */
    _Alignas(64) _Atomic size_t head; /* published by the producer */
    _Alignas(64) _Atomic size_t tail; /* released by the consumer */
    /* consumer side */
    _Alignas(64) size_t c_tail; /* taken up to here (released or not) */
    size_t c_head;              /* the producer's published head as last read */
};

/* Any thread, before either side uses it: a ring of at least bytes (rounded up to a power of
 * two, at least 4 KiB). bell: the consumer's bell, or NULL. 0 or -errno (-ENOMEM, -EINVAL). */
int ring_init(struct ring *r, size_t bytes, struct ring_bell *bell)
    __attribute__((warn_unused_result));
/* Any thread, once neither side uses it. */
void ring_fini(struct ring *r);
/* The largest item that always fits into an empty ring. */
static inline size_t ring_max_item(const struct ring *r)
{
    return (r->mask + 1) / 2 - sizeof(struct ring_hdr);
}

/* Producer: room for an item of len bytes (<= ring_max_item), 8-aligned, or NULL when the ring
 * has no room now. Never blocks. The item is invisible to the consumer until ring_publish();
 * the caller fills it before. Allocations are taken in the order they were made. */
static inline void *ring_alloc(struct ring *r, size_t len)
{
    assert(len <= ring_max_item(r));
    size_t cap = r->mask + 1;
    size_t need = RING_ALIGN(sizeof(struct ring_hdr) + len);
    size_t at = r->p_head & r->mask;
    size_t to_end = cap - at;
    size_t want = to_end < need ? to_end + need : need; /* a wrap skips the end */
    if (cap - (r->p_head - r->p_tail) < want) {
        r->p_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        assert(r->p_head - r->p_tail <= cap);
        if (cap - (r->p_head - r->p_tail) < want)
            return NULL;
    }
    if (to_end < need) { /* to_end >= 8: every item is 8-aligned */
        struct ring_hdr w = {RING_WRAP, RING_MAGIC};
        memcpy(r->buf + at, &w, sizeof w);
        r->p_head += to_end;
        at = 0;
    }
    struct ring_hdr h = {(uint32_t)len, RING_MAGIC};
    memcpy(r->buf + at, &h, sizeof h);
    r->p_head += need;
    return r->buf + at + sizeof h;
}

/* Producer: make every item allocated so far visible to the consumer, and wake it if it is
 * asleep on its bell (the only system call on the item path, and only then). */
void ring_publish_wake(struct ring *r);
static inline void ring_publish(struct ring *r)
{
    atomic_store_explicit(&r->head, r->p_head, memory_order_release);
    if (r->bell)
        ring_publish_wake(r);
}
/* Producer: like ring_publish, but never wakes the consumer: a consumer that looks sees the
 * items, one asleep on its bell does not wake for them. For a producer that wakes it later
 * itself (a ring_publish, which wakes whenever the consumer sleeps, or ring_bell_ring), e.g.
 * only once enough items wait to be worth a wake-up. */
static inline void ring_publish_quiet(struct ring *r)
{
    atomic_store_explicit(&r->head, r->p_head, memory_order_release);
}
/* Producer: items allocated and not yet published. */
static inline bool ring_unpublished(const struct ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) != r->p_head;
}
/* Producer: has the consumer released every item allocated so far (nothing in flight)? */
static inline bool ring_drained(struct ring *r)
{
    r->p_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->p_tail == r->p_head;
}

/* Consumer: the next published item without taking it (NULL: none now), its length in *len.
 * Valid until ring_release(). */
static inline void *ring_peek(struct ring *r, size_t *len)
{
    for (;;) {
        if (r->c_tail == r->c_head) {
            r->c_head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (r->c_tail == r->c_head)
                return NULL;
        }
        size_t at = r->c_tail & r->mask;
        struct ring_hdr h;
        memcpy(&h, r->buf + at, sizeof h);
        assert(h.magic == RING_MAGIC); /* the consumer is where the producer wrote */
        if (h.len == RING_WRAP) {
            r->c_tail += r->mask + 1 - at;
            continue;
        }
        assert(h.len <= ring_max_item(r));
        *len = h.len;
        return r->buf + at + sizeof h;
    }
}
/* Consumer: take the next published item (NULL: none now). Its bytes stay valid, and its room
 * stays the consumer's, until ring_release(). */
static inline void *ring_take(struct ring *r, size_t *len)
{
    void *p = ring_peek(r, len);
    if (p)
        r->c_tail += RING_ALIGN(sizeof(struct ring_hdr) + *len);
    return p;
}
/* Consumer: take up to max published items at once (a batch: the cursors stay in registers);
 * their addresses in items[], their lengths in lens[] (may be NULL). Returns how many. The same
 * rules as ring_take. */
static inline size_t ring_take_n(struct ring *r, void **items, size_t *lens, size_t max)
{
    size_t tail = r->c_tail, head = r->c_head, n = 0;
    if (tail == head)
        head = r->c_head = atomic_load_explicit(&r->head, memory_order_acquire);
    while (n < max && tail != head) {
        size_t at = tail & r->mask;
        struct ring_hdr h;
        memcpy(&h, r->buf + at, sizeof h);
        assert(h.magic == RING_MAGIC);
        if (h.len == RING_WRAP) {
            tail += r->mask + 1 - at;
            continue;
        }
        assert(h.len <= ring_max_item(r));
        items[n] = r->buf + at + sizeof h;
        if (lens)
            lens[n] = h.len;
        n++;
        tail += RING_ALIGN(sizeof h + h.len);
    }
    r->c_tail = tail;
    return n;
}
/* Consumer: hand the room of every item taken so far back to the producer. */
static inline void ring_release(struct ring *r)
{
    assert(r->c_tail - atomic_load_explicit(&r->tail, memory_order_relaxed) <= r->mask + 1);
    atomic_store_explicit(&r->tail, r->c_tail, memory_order_release);
}
/* Consumer: is nothing published that it has not taken? (Call after ring_bell_arm() before
 * sleeping: the acquire load pairs with ring_publish.) */
static inline bool ring_empty(struct ring *r)
{
    if (r->c_tail != r->c_head)
        return false;
    r->c_head = atomic_load_explicit(&r->head, memory_order_acquire);
    return r->c_tail == r->c_head;
}

#endif
