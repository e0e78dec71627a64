#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ring_init(struct ring *r, size_t capacity, size_t slot_size)
{
    memset(r, 0, sizeof *r);
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    r->slots = malloc(cap * slot_size);
    if (!r->slots)
        return -ENOMEM;
    r->mask = cap - 1;
    r->slot_size = slot_size;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_destroy(struct ring *r)
{
    free(r->slots);
    r->slots = NULL;
}

/* Copy n items between the ring at index idx and flat memory, wrapping once if needed. */
static void copy_in(struct ring *r, size_t idx, const uint8_t *src, size_t n)
{
    size_t at = idx & r->mask, first = r->mask + 1 - at;
    if (first > n)
        first = n;
    memcpy(r->slots + at * r->slot_size, src, first * r->slot_size);
    if (n > first)
        memcpy(r->slots, src + first * r->slot_size, (n - first) * r->slot_size);
}

static void copy_out(const struct ring *r, size_t idx, uint8_t *dst, size_t n)
{
    size_t at = idx & r->mask, first = r->mask + 1 - at;
    if (first > n)
        first = n;
    memcpy(dst, r->slots + at * r->slot_size, first * r->slot_size);
    if (n > first)
        memcpy(dst + first * r->slot_size, r->slots, (n - first) * r->slot_size);
}

size_t ring_push(struct ring *r, const void *items, size_t n)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t cap = r->mask + 1;
    size_t free_slots = cap - (head - r->tail_cache);
    if (free_slots < n) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        free_slots = cap - (head - r->tail_cache);
    }
    if (n > free_slots)
        n = free_slots;
    if (!n)
        return 0;
    copy_in(r, head, items, n);
    atomic_store_explicit(&r->head, head + n, memory_order_release);
    return n;
}

size_t ring_pop(struct ring *r, void *items, size_t max)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t avail = r->head_cache - tail;
    if (avail < max) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        avail = r->head_cache - tail;
    }
    if (max > avail)
        max = avail;
    if (!max)
        return 0;
    copy_out(r, tail, items, max);
    atomic_store_explicit(&r->tail, tail + max, memory_order_release);
    return max;
}

size_t ring_count(const struct ring *r)
{
    size_t head = atomic_load_explicit(&((struct ring *)r)->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&((struct ring *)r)->tail, memory_order_acquire);
    return head - tail;
}

size_t ring_capacity(const struct ring *r)
{
    return r->mask + 1;
}
