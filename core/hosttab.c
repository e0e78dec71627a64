#include "hosttab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "lines.h"
#include "tags.h"

/* Layout, for the per-record lookup: a bucket's eight 32-bit tags (a fingerprint of the key's
 * hash, 0 = empty position) and the eight slot numbers they lead to share one 64-byte block (one
 * cache line), so a lookup reads one line per candidate bucket and touches a host only when its
 * tag matches (about once per lookup). The slots are dense: a new host takes a freed slot (an
 * expired host's, a LIFO list threaded through the free slots) or the next never-used one, so the
 * slots' pages are touched up to the most hosts ever held at once (the high-water mark), not
 * spread over the whole capacity by the hash; an evicted host's slot goes to its successor. Each
 * slot holds the host and its detector state side by side (one stride). Positions and their
 * order (eviction, hosttab_foreach) are the hash's, as before the slots became dense. Measured
 * before/after in bench/RESULTS.md. */
#define BLOCK_U32 (2 * HOSTTAB_WAYS) /* a bucket: its tags, then its slot numbers */
_Static_assert(HOSTTAB_WAYS % 4 == 0 && HOSTTAB_WAYS <= TAGS_MAX, "a bucket's tags: tags_match");
#define SLOT_NONE UINT32_MAX
struct hosttab {
    uint32_t *blocks; /* nbuckets * BLOCK_U32, aligned to 64; tag 0 = free position */
    void *blocks_mem; /* what calloc_lines gave to free */
    uint8_t *slots;   /* capacity * stride: struct host, then state_size bytes */
    void *slots_mem;  /* what calloc_lines gave to free */
    size_t nbuckets, state_size, stride;
    uint64_t bucket_m; /* hash_fastmod32_m(nbuckets): a bucket number without a division */
    uint64_t *live;    /* a bit per slot: holds a host (hosttab_foreach_unordered's walk) */
    uint32_t next_unused, free_head; /* the dense slots: high-water mark, freed list */
    struct hash_host_key key;        /* hash_host's */
    struct hosttab_stats st;
};

static inline size_t live_words(size_t n)
{
    return (n + 63) / 64;
}

int hosttab_new(size_t capacity, size_t state_size, const struct hash_key *key,
                struct hosttab **out)
{
    struct hosttab *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    if (capacity < HOSTTAB_WAYS)
        capacity = HOSTTAB_WAYS;
    t->nbuckets = (capacity + HOSTTAB_WAYS - 1) / HOSTTAB_WAYS;
    size_t n = t->nbuckets * HOSTTAB_WAYS;
    t->state_size = (state_size + 7) & ~(size_t)7;
    t->stride = (sizeof(struct host) + t->state_size + 7) & ~(size_t)7;
    if (capacity >= SLOT_NONE || n >= SLOT_NONE) {
        hosttab_free(t);
        return -ENOMEM; /* slot numbers (and so bucket numbers) are 32-bit */
    }
    t->bucket_m = hash_fastmod32_m((uint32_t)t->nbuckets);
    /* calloc: untouched pages cost no memory until hosts land on them */
    t->blocks = calloc_lines(t->nbuckets * BLOCK_U32, sizeof(uint32_t), &t->blocks_mem);
    t->slots = calloc_lines(n, t->stride, &t->slots_mem);
    t->live = calloc(live_words(n), sizeof *t->live);
    if (!t->blocks || !t->slots || !t->live) {
        hosttab_free(t);
        return -ENOMEM;
    }
    t->free_head = SLOT_NONE;
    hash_host_key_init(&t->key, key);
    t->st.capacity = n;
    *out = t;
    return 0;
}

void hosttab_free(struct hosttab *t)
{
    if (!t)
        return;
    free(t->blocks_mem);
    free(t->slots_mem);
    free(t->live);
    free(t);
}

static inline struct host *slot_host(const struct hosttab *t, uint32_t s)
{
    return (struct host *)(void *)(t->slots + (size_t)s * t->stride);
}

/* Position i (bucket * BLOCK_U32 + way: where its tag is in blocks): its tag, its slot number,
 * its host and state. */
static inline uint32_t *tag_at(const struct hosttab *t, size_t i)
{
    return &t->blocks[i];
}

static inline uint32_t *slotno_at(const struct hosttab *t, size_t i)
{
    return tag_at(t, i) + HOSTTAB_WAYS;
}

static inline struct host *host_at(const struct hosttab *t, size_t i)
{
    return slot_host(t, *slotno_at(t, i));
}

static inline void *state_of(const struct hosttab *t, size_t i)
{
    return t->state_size ? (uint8_t *)host_at(t, i) + sizeof(struct host) : NULL;
}

/* A dense slot for a new host at a free position: a freed one, else the next never used (there
 * is one: fewer hosts than positions are held; *fresh: still calloc's zeroes, never written). */
static inline uint32_t slot_take(struct hosttab *t, bool *fresh)
{
    uint32_t s = t->free_head;
    if (s != SLOT_NONE) {
        t->free_head = slot_host(t, s)->window;
        *fresh = false;
    } else {
        *fresh = true;
        s = t->next_unused++;
    }
    t->live[s / 64] |= 1ull << (s % 64);
    return s;
}

/* A removed host's slot: its address and customer cleared, so a pointer a detector kept to it
 * (det_scan's waiting probes compare both before use) never takes it for a host; the free list's
 * link in its window field. */
static inline void slot_give(struct hosttab *t, uint32_t s)
{
    struct host *h = slot_host(t, s);
    memset(h->addr, 0, sizeof h->addr);
    h->customer = 0;
    h->window = t->free_head;
    t->free_head = s;
    t->live[s / 64] &= ~(1ull << (s % 64));
}

/* Two candidate buckets per key (two-choice hashing): a host lives in either. Inserting into
 * the emptier one keeps buckets from overflowing until the table is nearly full. The tag is
 * taken from the hash bits the bucket numbers use least; never 0. The bucket numbers are each
 * 32-bit half of the hash modulo the bucket count, by hash_fastmod32 (the same numbers as %:
 * three lookups per record each took two divisions). */
static inline size_t bucket_of(const struct hosttab *t, uint32_t half)
{
    return (size_t)hash_fastmod32(half, t->bucket_m, (uint32_t)t->nbuckets) * BLOCK_U32;
}

static inline uint32_t tag_of(uint64_t h)
{
    return (uint32_t)((h * 0x9e3779b97f4a7c15ULL) >> 32) | 1u;
}

static inline uint32_t buckets_of_hash(const struct hosttab *t, uint64_t h, size_t b[2])
{
    b[0] = bucket_of(t, (uint32_t)h);
    b[1] = bucket_of(t, (uint32_t)(h >> 32));
    return tag_of(h);
}

/* A key's two bucket numbers in one word (get_slow's argument, a probe's for a new host):
 * the first in the low half, the second in the high one (numbers < nbuckets < 2^32). */
static inline uint64_t buckets_pack(size_t b0, size_t b1)
{
    return (uint64_t)(b0 / BLOCK_U32) | (uint64_t)(b1 / BLOCK_U32) << 32;
}

static inline uint64_t buckets_packed(const struct hosttab *t, uint64_t h)
{
    size_t b[2];
    (void)buckets_of_hash(t, h, b);
    return buckets_pack(b[0], b[1]);
}

uint64_t hosttab_hash(const struct hosttab *t, const uint8_t addr[16])
{
    return hash_host(&t->key, addr);
}

const struct hash_host_key *hosttab_key(const struct hosttab *t)
{
    return &t->key;
}

/* Start loading every line of the slot at s (its host and state; rw as __builtin_prefetch's:
 * a constant, hence a macro). */
#define SLOT_PREFETCH(t, s, rw)                                                                    \
    do {                                                                                           \
        const uint8_t *slot_ = (s);                                                                \
        for (size_t off_ = 0; off_ < (t)->stride; off_ += 64)                                      \
            __builtin_prefetch(slot_ + off_, rw);                                                  \
        __builtin_prefetch(slot_ + (t)->stride - 1, rw);                                           \
    } while (0)

/* A probe: the position of the first tag match, or PROBE_MISS with both bucket numbers
 * (buckets_pack) when neither bucket has one; between the two steps, the bucket numbers alone. */
#define PROBE_MISS (1ull << 63)

uint64_t hosttab_prefetch_tags(const struct hosttab *t, uint64_t hash)
{
    size_t b[2];
    (void)buckets_of_hash(t, hash, b);
    __builtin_prefetch(t->blocks + b[0]);
    __builtin_prefetch(t->blocks + b[1]);
    return buckets_pack(b[0], b[1]);
}

uint64_t hosttab_prefetch_slot(const struct hosttab *t, uint64_t hash, uint64_t probe)
{
    const uint32_t *blocks = t->blocks;
    uint32_t tag = tag_of(hash);
    size_t bk = (size_t)(uint32_t)probe * BLOCK_U32;
    uint32_t m = tags_match(blocks + bk, HOSTTAB_WAYS, tag);
    if (!m) {
        bk = (size_t)(probe >> 32) * BLOCK_U32;
        if (!(m = tags_match(blocks + bk, HOSTTAB_WAYS, tag)))
            return probe | PROBE_MISS;
    }
    size_t at = bk + (size_t)__builtin_ctz(m);
    SLOT_PREFETCH(t, t->slots + (size_t)blocks[at + HOSTTAB_WAYS] * t->stride, 1); /* host_at */
    return at;
}

static inline bool addr_eq(const uint8_t a[16], const uint8_t b[16])
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static inline size_t find_in_bucket(const struct hosttab *t, size_t bk, uint32_t tag,
                                    const uint8_t addr[16])
{
    for (uint32_t m = tags_match(tag_at(t, bk), HOSTTAB_WAYS, tag); m; m &= m - 1) {
        size_t i = bk + (size_t)__builtin_ctz(m); /* the matching positions in order */
        if (addr_eq(host_at(t, i)->addr, addr))
            return i;
    }
    return SIZE_MAX;
}

/* The first bucket, then the second (no loop over the two: the bucket numbers stay in registers) */
static inline size_t find_in(const struct hosttab *t, const size_t b[2], uint32_t tag,
                             const uint8_t addr[16])
{
    size_t i = find_in_bucket(t, b[0], tag, addr);
    return i != SIZE_MAX ? i : find_in_bucket(t, b[1], tag, addr);
}

struct host *hosttab_find(struct hosttab *t, uint32_t customer, const uint8_t addr[16],
                          void **state)
{
    size_t b[2];
    uint32_t tag = buckets_of_hash(t, hosttab_hash(t, addr), b);
    size_t i = find_in(t, b, tag, addr);
    if (i == SIZE_MAX || (customer && host_at(t, i)->customer != customer))
        return NULL;
    if (state)
        *state = state_of(t, i);
    return host_at(t, i);
}

struct host *hosttab_get(struct hosttab *t, uint32_t customer, const uint8_t addr[16],
                         uint32_t cur_window, bool *inserted, void **state)
{
    return hosttab_get_hashed(t, hosttab_hash(t, addr), customer, addr, cur_window, inserted,
                              state);
}

/* The host found at position i (and its state: state_of(t, i)), its customer set. */
static inline struct hosttab_ref found_at(struct hosttab *t, size_t i, uint32_t customer)
{
    struct host *h = host_at(t, i);
    h->customer = customer; /* changes only when a reload moved the address */
    return (struct hosttab_ref){h, t->state_size ? (uint8_t *)h + sizeof(struct host) : NULL};
}

/* The bits set in each 8-bit mask (a bucket's free positions), written out at compile time: a
 * load instead of a count where the build has no popcnt instruction. */
#define POP2(n) n, n + 1, n + 1, n + 2
#define POP4(n) POP2(n), POP2(n + 1), POP2(n + 1), POP2(n + 2)
#define POP6(n) POP4(n), POP4(n + 1), POP4(n + 1), POP4(n + 2)
static const uint8_t pop8[256] = {POP6(0), POP6(1), POP6(1), POP6(2)};

/* Whether mask m1 has more bits set than m0 (free positions of two buckets). */
_Static_assert(HOSTTAB_WAYS <= 8, "a bucket's mask indexes pop8");
static inline bool more_set(uint32_t m1, uint32_t m0)
{
    return pop8[m1] > pop8[m0];
}

/* hosttab_get_hashed and hosttab_get_at when the position they tried is not the host: the whole
 * lookup (find_in) in the buckets bk (buckets_pack), then the insert of a host neither holds
 * (st.inserts counts it: whether it was one). Out of line (a tail call), so that a lookup the
 * first try answers (most) saves and restores no registers this needs. */
static __attribute__((noinline)) struct hosttab_ref get_slow(struct hosttab *t, uint64_t bk,
                                                             uint64_t hash, uint32_t customer,
                                                             const uint8_t addr[16],
                                                             uint32_t cur_window)
{
    size_t b[2] = {(size_t)(uint32_t)bk * BLOCK_U32, (size_t)(bk >> 32) * BLOCK_U32};
    uint32_t tag = tag_of(hash);
    size_t hit = find_in(t, b, tag, addr);
    if (hit != SIZE_MAX)
        return found_at(t, hit, customer);
    size_t free_i = SIZE_MAX, victim = SIZE_MAX;
    /* the free positions of each bucket (the second counts none when it is the first) */
    uint32_t f0 = tags_match(tag_at(t, b[0]), HOSTTAB_WAYS, 0);
    uint32_t f1 = b[1] == b[0] ? 0 : tags_match(tag_at(t, b[1]), HOSTTAB_WAYS, 0);
    if (f0 | f1) /* the emptier bucket's first free position; the first bucket's on a tie */
        free_i =
            more_set(f1, f0) ? b[1] + (size_t)__builtin_ctz(f1) : b[0] + (size_t)__builtin_ctz(f0);
    size_t i = free_i;
    bool fresh = false;
    if (i == SIZE_MAX) {
        /* both full (rare below ~80 % load): an address that never sent (only received: a
         * scan's dark target), else a host not active in the open window, then the stalest */
        unsigned best = 3;
        for (int k = 0; k < 2; k++) {
            for (size_t j = b[k]; j < b[k] + HOSTTAB_WAYS; j++) {
                const struct host *h = host_at(t, j);
                unsigned rank = !h->sender ? 0 : h->window != cur_window ? 1 : 2;
                if (rank < best || (rank == best && h->last_ms < host_at(t, victim)->last_ms)) {
                    best = rank;
                    victim = j;
                }
            }
            if (b[1] == b[0])
                break;
        }
        i = victim;
        t->st.evictions_active += best == 2;
        t->st.evictions_dark += best == 0;
        t->st.evictions++;
    } else {
        t->st.used++;
        *slotno_at(t, i) = slot_take(t, &fresh);
    }
    *tag_at(t, i) = tag;
    t->st.inserts++;
    struct host *h = host_at(t, i);
    if (!fresh) /* the host and its state zeroed; a fresh slot is already: no store to lines
                 * this record's detectors may never touch (cold, first use of the memory) */
        memset(h, 0, t->stride);
    memcpy(h->addr, addr, 16);
    h->customer = customer;
    h->window = cur_window;
    return (struct hosttab_ref){h, state_of(t, i)};
}

/* A batch of one: the product's lookup (hosttab_prefetch_tags, hosttab_prefetch_slot,
 * hosttab_get_at), so every caller and test goes through the path the workers run; whether it
 * inserted from st.inserts. */
struct host *hosttab_get_hashed(struct hosttab *t, uint64_t hash, uint32_t customer,
                                const uint8_t addr[16], uint32_t cur_window, bool *inserted,
                                void **state)
{
    uint64_t probe, before = t->st.inserts;
    probe = hosttab_prefetch_slot(t, hash, hosttab_prefetch_tags(t, hash));
    struct hosttab_ref r = hosttab_get_at(t, hash, probe, customer, addr, cur_window);
    *inserted = t->st.inserts != before;
    *state = r.state;
    return r.host;
}

/* A probe's position (hosttab_prefetch_slot's) names the host's slot when that slot holds addr:
 * a host is in one position only, and no removal came between (hosttab.h), so the slot is live
 * and the host's. Else get_slow: the lookup from the start (the same answer as
 * hosttab_get_hashed), in the buckets the probe carries when it found no tag match. */
struct hosttab_ref hosttab_get_at(struct hosttab *t, uint64_t hash, uint64_t probe,
                                  uint32_t customer, const uint8_t addr[16], uint32_t cur_window)
{
    if (probe & PROBE_MISS)
        return get_slow(t, probe & ~PROBE_MISS, hash, customer, addr, cur_window);
    if (addr_eq(host_at(t, probe)->addr, addr))
        return found_at(t, probe, customer);
    return get_slow(t, buckets_packed(t, hash), hash, customer, addr, cur_window);
}

/* hosttab_foreach's look-ahead: the hosts of this many occupied positions past the one being
 * visited have been asked for (the positions are walked in order, their slots lie anywhere in
 * the slot array: a cache miss each, overlapped instead of one after the other). */
#define FOREACH_AHEAD 16
_Static_assert((FOREACH_AHEAD & (FOREACH_AHEAD - 1)) == 0, "a ring indexed by a mask");

/* Start loading the lines of position i's slot: its host and state. */
PREFETCH_FN void prefetch_host(const struct hosttab *t, size_t i)
{
    SLOT_PREFETCH(t, (const uint8_t *)host_at(t, i), 0);
}

static inline void visit_at(struct hosttab *t, size_t i, hosttab_visit_fn cb, void *arg)
{
    if (cb(arg, host_at(t, i), state_of(t, i))) {
        t->blocks[i] = 0;
        slot_give(t, *slotno_at(t, i));
        t->st.used--;
        t->st.expired++;
    }
}

/* The positions in order (each bucket's occupied ones from its tag block, lowest way first),
 * each visited FOREACH_AHEAD occupied positions after its host was prefetched. A visit removes
 * only its own host: the positions ahead, already read, stay as they were. */
void hosttab_foreach(struct hosttab *t, hosttab_visit_fn cb, void *arg)
{
    size_t ring[FOREACH_AHEAD];
    size_t pushed = 0, done = 0, n = t->nbuckets * BLOCK_U32;
    for (size_t bk = 0; bk < n; bk += BLOCK_U32) {
        uint32_t m = ~tags_match(tag_at(t, bk), HOSTTAB_WAYS, 0) & ((1u << HOSTTAB_WAYS) - 1);
        for (; m; m &= m - 1) {
            size_t i = bk + (size_t)__builtin_ctz(m);
            prefetch_host(t, i);
            if (pushed - done == FOREACH_AHEAD)
                visit_at(t, ring[done++ & (FOREACH_AHEAD - 1)], cb, arg);
            ring[pushed++ & (FOREACH_AHEAD - 1)] = i;
        }
    }
    while (done < pushed)
        visit_at(t, ring[done++ & (FOREACH_AHEAD - 1)], cb, arg);
}

/* The slots in memory order (a stream the hardware prefetches, whatever the table's capacity: the
 * slots up to the high-water mark, a bit each for the free ones). A host the visit removes stays
 * in its position until the walk is done; then the positions are walked in order and each such
 * host removed, so the freed slots are taken again in the order hosttab_foreach would have left
 * them (which slot a new host gets is the same as after hosttab_foreach). */
void hosttab_foreach_unordered(struct hosttab *t, hosttab_visit_fn cb, void *arg)
{
    bool removed = false;
    for (size_t w = 0; w < live_words(t->next_unused); w++) {
        for (uint64_t m = t->live[w]; m; m &= m - 1) {
            uint32_t s = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
            if (s + FOREACH_AHEAD < t->next_unused) {
                const uint8_t *ahead = (const uint8_t *)slot_host(t, s + FOREACH_AHEAD);
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + sizeof(struct host) - 1);
            }
            struct host *h = slot_host(t, s);
            if (cb(arg, h, t->state_size ? (uint8_t *)h + sizeof(struct host) : NULL)) {
                t->live[w] &= ~(1ull << (s % 64)); /* removed below */
                removed = true;
            }
        }
    }
    if (!removed)
        return;
    size_t n = t->nbuckets * BLOCK_U32;
    for (size_t bk = 0; bk < n; bk += BLOCK_U32) {
        uint32_t m = ~tags_match(tag_at(t, bk), HOSTTAB_WAYS, 0) & ((1u << HOSTTAB_WAYS) - 1);
        for (; m; m &= m - 1) {
            size_t i = bk + (size_t)__builtin_ctz(m);
            uint32_t s = *slotno_at(t, i);
            if (t->live[s / 64] & (1ull << (s % 64)))
                continue;
            t->blocks[i] = 0;
            slot_give(t, s);
            t->st.used--;
            t->st.expired++;
        }
    }
}

void hosttab_stats(const struct hosttab *t, struct hosttab_stats *out)
{
    *out = t->st;
    out->high_water = t->next_unused;
}

size_t hosttab_memory(const struct hosttab *t)
{
    size_t n = t->nbuckets * HOSTTAB_WAYS;
    return sizeof *t + 2 * CACHE_LINE + n * (t->stride + 2 * sizeof(uint32_t)) +
           live_words(n) * sizeof(uint64_t);
}

size_t hosttab_memory_used(const struct hosttab *t)
{
    size_t n = t->nbuckets * HOSTTAB_WAYS;
    return sizeof *t + 2 * CACHE_LINE + n * 2 * sizeof(uint32_t) +
           live_words(n) * sizeof(uint64_t) + t->next_unused * t->stride;
}

size_t hosttab_slot_bytes(const struct hosttab *t)
{
    return t->stride;
}

size_t hosttab_state_size(const struct hosttab *t)
{
    return t->state_size;
}
