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

/* Two candidate buckets per key (two-choice hashing): a host lives in either. Inserting into
 * the emptier one keeps buckets from overflowing until the table is nearly full. */
static void buckets_of(const struct hosttab *t, const uint8_t addr[16], size_t b[2])
{
    uint64_t h = hash_bytes(&t->key, addr, 16);
    b[0] = (size_t)((uint32_t)h % t->nbuckets) * HOSTTAB_WAYS;
    b[1] = (size_t)((uint32_t)(h >> 32) % t->nbuckets) * HOSTTAB_WAYS;
}

static void *state_of(struct hosttab *t, size_t i)
{
    return t->state_size ? t->state + i * t->state_size : NULL;
}

static size_t find_in(const struct hosttab *t, const size_t b[2], const uint8_t addr[16])
{
    for (int k = 0; k < 2; k++)
        for (size_t i = b[k]; i < b[k] + HOSTTAB_WAYS; i++)
            if (t->used[i] && memcmp(t->hosts[i].addr, addr, 16) == 0)
                return i;
    return SIZE_MAX;
}

struct host *hosttab_find(struct hosttab *t, uint32_t customer, const uint8_t addr[16], void **state)
{
    size_t b[2];
    buckets_of(t, addr, b);
    size_t i = find_in(t, b, addr);
    if (i == SIZE_MAX || (customer && t->hosts[i].customer != customer))
        return NULL;
    if (state)
        *state = state_of(t, i);
    return &t->hosts[i];
}

struct host *hosttab_get(struct hosttab *t, uint32_t customer, const uint8_t addr[16],
                         uint32_t cur_window, bool *inserted, void **state)
{
    size_t b[2];
    buckets_of(t, addr, b);
    size_t hit = find_in(t, b, addr);
    if (hit != SIZE_MAX) {
        t->hosts[hit].customer = customer; /* changes only when a reload moved the address */
        *inserted = false;
        *state = state_of(t, hit);
        return &t->hosts[hit];
    }
    size_t free_i = SIZE_MAX, victim = SIZE_MAX, victim_active = SIZE_MAX;
    unsigned nfree[2] = {0, 0};
    size_t first_free[2] = {SIZE_MAX, SIZE_MAX};
    for (int k = 0; k < 2; k++) {
        for (size_t i = b[k]; i < b[k] + HOSTTAB_WAYS; i++) {
            if (!t->used[i]) {
                if (first_free[k] == SIZE_MAX)
                    first_free[k] = i;
                nfree[k]++;
                continue;
            }
            struct host *h = &t->hosts[i];
            /* Prefer evicting a host not active in the open window, then the stalest. */
            if (h->window != cur_window) {
                if (victim == SIZE_MAX || h->last_ms < t->hosts[victim].last_ms)
                    victim = i;
            } else if (victim_active == SIZE_MAX || h->last_ms < t->hosts[victim_active].last_ms) {
                victim_active = i;
            }
        }
        if (b[1] == b[0])
            break;
    }
    if (nfree[0] || nfree[1])
        free_i = nfree[1] > nfree[0] ? first_free[1] : first_free[0];
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
