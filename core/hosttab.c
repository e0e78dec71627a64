#include "hosttab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

struct hosttab {
    struct host *hosts;     /* nbuckets * HOSTTAB_WAYS */
    uint8_t *state;         /* same count * state_size */
    uint8_t *used;          /* 1 per entry */
    size_t nbuckets, state_size;
    struct hash_key key;
    struct hosttab_stats st;
};

int hosttab_new(size_t capacity, size_t state_size, const struct hash_key *key, struct hosttab **out)
{
    struct hosttab *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    if (capacity < HOSTTAB_WAYS)
        capacity = HOSTTAB_WAYS;
    t->nbuckets = (capacity + HOSTTAB_WAYS - 1) / HOSTTAB_WAYS;
    size_t n = t->nbuckets * HOSTTAB_WAYS;
    t->state_size = (state_size + 7) & ~(size_t)7;
    t->hosts = calloc(n, sizeof *t->hosts);
    t->used = calloc(n, 1);
    t->state = t->state_size ? calloc(n, t->state_size) : NULL;
    if (!t->hosts || !t->used || (t->state_size && !t->state)) {
        hosttab_free(t);
        return -ENOMEM;
    }
    t->key = *key;
    t->st.capacity = n;
    *out = t;
    return 0;
}

void hosttab_free(struct hosttab *t)
{
    if (!t)
        return;
    free(t->hosts);
    free(t->state);
    free(t->used);
    free(t);
}

static size_t bucket_of(const struct hosttab *t, uint32_t customer, const uint8_t addr[16])
{
    uint8_t k[20];
    memcpy(k, addr, 16);
    memcpy(k + 16, &customer, 4);
    return (size_t)(hash_bytes(&t->key, k, sizeof k) % t->nbuckets);
}

static void *state_of(struct hosttab *t, size_t i)
{
    return t->state_size ? t->state + i * t->state_size : NULL;
}

struct host *hosttab_find(struct hosttab *t, uint32_t customer, const uint8_t addr[16], void **state)
{
    size_t base = bucket_of(t, customer, addr) * HOSTTAB_WAYS;
    for (size_t i = base; i < base + HOSTTAB_WAYS; i++) {
        if (t->used[i] && t->hosts[i].customer == customer && memcmp(t->hosts[i].addr, addr, 16) == 0) {
            if (state)
                *state = state_of(t, i);
            return &t->hosts[i];
        }
    }
    return NULL;
}

struct host *hosttab_get(struct hosttab *t, uint32_t customer, const uint8_t addr[16],
                         uint32_t cur_window, bool *inserted, void **state)
{
    size_t base = bucket_of(t, customer, addr) * HOSTTAB_WAYS;
    size_t free_i = SIZE_MAX, victim = SIZE_MAX, victim_active = SIZE_MAX;
    for (size_t i = base; i < base + HOSTTAB_WAYS; i++) {
        if (!t->used[i]) {
            if (free_i == SIZE_MAX)
                free_i = i;
            continue;
        }
        struct host *h = &t->hosts[i];
        if (h->customer == customer && memcmp(h->addr, addr, 16) == 0) {
            *inserted = false;
            *state = state_of(t, i);
            return h;
        }
        /* Prefer evicting a host not active in the open window, then the stalest. */
        if (h->window != cur_window) {
            if (victim == SIZE_MAX || h->last_ms < t->hosts[victim].last_ms)
                victim = i;
        } else if (victim_active == SIZE_MAX || h->last_ms < t->hosts[victim_active].last_ms) {
            victim_active = i;
        }
    }
    size_t i = free_i;
    if (i == SIZE_MAX) {
        if (victim != SIZE_MAX) {
            i = victim;
        } else {
            i = victim_active;
            t->st.evictions_active++;
        }
        t->st.evictions++;
    } else {
        t->used[i] = 1;
        t->st.used++;
    }
    t->st.inserts++;
    struct host *h = &t->hosts[i];
    memset(h, 0, sizeof *h);
    memcpy(h->addr, addr, 16);
    h->customer = customer;
    h->window = cur_window;
    void *s = state_of(t, i);
    if (s)
        memset(s, 0, t->state_size);
    *inserted = true;
    *state = s;
    return h;
}

void hosttab_foreach(struct hosttab *t, hosttab_visit_fn cb, void *arg)
{
    size_t n = t->nbuckets * HOSTTAB_WAYS;
    for (size_t i = 0; i < n; i++) {
        if (!t->used[i])
            continue;
        if (cb(arg, &t->hosts[i], state_of(t, i))) {
            t->used[i] = 0;
            t->st.used--;
            t->st.expired++;
        }
    }
}

void hosttab_stats(const struct hosttab *t, struct hosttab_stats *out)
{
    *out = t->st;
}

size_t hosttab_memory(const struct hosttab *t)
{
    size_t n = t->nbuckets * HOSTTAB_WAYS;
    return sizeof *t + n * (sizeof(struct host) + t->state_size + 1);
}

size_t hosttab_state_size(const struct hosttab *t)
{
    return t->state_size;
}
