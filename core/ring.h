/* ring.h: a bounded single-producer single-consumer ring of fixed-size items.
 *
 * One thread pushes, one thread pops; no locks, no allocation after creation. Head and tail
 * live on their own cache lines and each side keeps a cached copy of the other's index, so a
 * batch costs two atomic operations. Items are copied in and out (memcpy of slot_size bytes).
 * Used between receive threads and the pipeline thread (collector/rx.c). */
#ifndef TW_RING_H
#define TW_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
    _Alignas(64) _Atomic size_t head; /* next slot to write: producer's */
    size_t tail_cache;                /* producer's view of tail */
    _Alignas(64) _Atomic size_t tail; /* next slot to read: consumer's */
    size_t head_cache;                /* consumer's view of head */
    _Alignas(64) size_t mask, slot_size;
    uint8_t *slots;
};

/* capacity is rounded up to a power of two (>= 2). Returns 0 or -ENOMEM. */
int ring_init(struct ring *r, size_t capacity, size_t slot_size);
void ring_destroy(struct ring *r);
/* Producer: copy up to n items in; returns how many fitted. */
size_t ring_push(struct ring *r, const void *items, size_t n);
/* Consumer: copy up to max items out; returns how many. */
size_t ring_pop(struct ring *r, void *items, size_t max);
/* Either side: items queued now (a snapshot). */
size_t ring_count(const struct ring *r);
size_t ring_capacity(const struct ring *r);

#endif
