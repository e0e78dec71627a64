/* hash.h: keyed hashing (SipHash-1-3) for every table whose keys an attacker chooses, plus a
 * fast 64-bit mixer for keys we control. Pure functions, any thread. */
#ifndef TW_HASH_H
#define TW_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hash_key {
    uint64_t k0, k1;
};

static inline uint64_t hash_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t hash_load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define HASH_SIPROUND                                                                              \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = hash_rotl(v1, 13);                                                                    \
        v1 ^= v0;                                                                                  \
        v0 = hash_rotl(v0, 32);                                                                    \
        v2 += v3;                                                                                  \
        v3 = hash_rotl(v3, 16);                                                                    \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = hash_rotl(v3, 21);                                                                    \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = hash_rotl(v1, 17);                                                                    \
        v1 ^= v2;                                                                                  \
        v2 = hash_rotl(v2, 32);                                                                    \
    } while (0)

/* The round loops below run a constant count (1..4) wherever a hot caller inlines them: unrolled,
 * they save the loop's counter and branch per round (the IPv4 host hash: 3 finalisation rounds,
 * bench/RESULTS.md issue 15, thirtieth part). */
#if defined(__clang__)
#define HASH_UNROLL _Pragma("unroll 4")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define HASH_UNROLL _Pragma("GCC unroll 4")
#else
#define HASH_UNROLL
#endif

/* SipHash's state (v0..v3) between blocks, for a caller that starts from a state it computed
 * once (hash_sip13_zero8). */
struct hash_sip {
    uint64_t v0, v1, v2, v3;
};

static inline struct hash_sip hash_sip_start(const struct hash_key *k)
{
    return (struct hash_sip){0x736f6d6570736575ULL ^ k->k0, 0x646f72616e646f6dULL ^ k->k1,
                             0x6c7967656e657261ULL ^ k->k0, 0x7465646279746573ULL ^ k->k1};
}

/* One 8-byte block (m, little-endian) through c compression rounds. */
static inline void hash_sip_block(struct hash_sip *s, uint64_t m, int c)
{
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
    v3 ^= m;
    HASH_UNROLL
    for (int r = 0; r < c; r++)
        HASH_SIPROUND;
    v0 ^= m;
    *s = (struct hash_sip){v0, v1, v2, v3};
}

/* The last block b (the tail bytes, the length in its top byte), then d finalisation rounds. */
static inline uint64_t hash_sip_end(struct hash_sip s, uint64_t b, int c, int d)
{
    hash_sip_block(&s, b, c);
    uint64_t v0 = s.v0, v1 = s.v1, v2 = s.v2 ^ 0xff, v3 = s.v3;
    HASH_UNROLL
    for (int r = 0; r < d; r++)
        HASH_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-c-d written from the SipHash paper (Aumasson & Bernstein): c compression rounds per
 * 8-byte block, d finalisation rounds. The one implementation: hash_bytes (1-3) and
 * hash_bytes_sip24 call it out of line; a hot caller hashing a key of constant length calls
 * hash_bytes_inline, which the compiler unrolls for that length (same value as hash_bytes). */
static inline uint64_t hash_siphash(const struct hash_key *k, const void *data, size_t len, int c,
                                    int d)
{
    const uint8_t *p = data;
    struct hash_sip s = hash_sip_start(k);
    size_t blocks = len / 8;

    for (size_t i = 0; i < blocks; i++, p += 8)
        hash_sip_block(&s, hash_load_le64(p), c);
    /* last block: remaining bytes little-endian, length mod 256 in the top byte */
    uint64_t b = (uint64_t)len << 56;
    switch (len & 7) {
    case 7:
        b |= (uint64_t)p[6] << 48;
        /* fall through */
    case 6:
        b |= (uint64_t)p[5] << 40;
        /* fall through */
    case 5:
        b |= (uint64_t)p[4] << 32;
        /* fall through */
    case 4:
        b |= (uint64_t)p[3] << 24;
        /* fall through */
    case 3:
        b |= (uint64_t)p[2] << 16;
        /* fall through */
    case 2:
        b |= (uint64_t)p[1] << 8;
        /* fall through */
    case 1:
        b |= (uint64_t)p[0];
        break;
    default:
        break;
    }
    return hash_sip_end(s, b, c, d);
}

/* The SipHash-1-3 state after a first block of 8 zero bytes under k, and the first steps of the
 * second block's round (those on v0 and v1 alone: no message word in them yet): computed once per
 * key, it makes hash_sip13_16_zero8 one block and four instructions shorter. */
static inline struct hash_sip hash_sip13_zero8(const struct hash_key *k)
{
    struct hash_sip s = hash_sip_start(k);
    hash_sip_block(&s, 0, 1);
    s.v0 += s.v1;
    s.v1 = hash_rotl(s.v1, 13);
    s.v1 ^= s.v0;
    s.v0 = hash_rotl(s.v0, 32);
    return s;
}

/* SipHash-1-3 of 16 bytes p whose first 8 are zero (an IPv4-mapped address, ::ffff:a.b.c.d),
 * from zero8 = hash_sip13_zero8(k): the same value as hash_bytes(k, p, 16). The second block's
 * round from where hash_sip13_zero8 left it (HASH_SIPROUND's steps after its first four). */
static inline uint64_t hash_sip13_16_zero8(const struct hash_sip *zero8, const uint8_t *p)
{
    uint64_t m = hash_load_le64(p + 8);
    uint64_t v0 = zero8->v0, v1 = zero8->v1, v2 = zero8->v2, v3 = zero8->v3 ^ m;
    v2 += v3;
    v3 = hash_rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = hash_rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = hash_rotl(v1, 17);
    v1 ^= v2;
    v2 = hash_rotl(v2, 32);
    v0 ^= m;
    return hash_sip_end((struct hash_sip){v0, v1, v2, v3}, (uint64_t)16 << 56, 1, 3);
}

/* Key from a 64-bit seed (deterministic: replay uses a fixed seed so output repeats). */
void hash_key_from_seed(struct hash_key *k, uint64_t seed);
/* Key from the kernel's random source (getrandom); falls back to the seed mixer on failure. */
void hash_key_random(struct hash_key *k);
uint64_t hash_bytes(const struct hash_key *k, const void *data, size_t len);
/* SipHash-2-4 (the reference PRF, for keys that need more margin than 1-3; also what the
 * published test vectors cover). */
uint64_t hash_bytes_sip24(const struct hash_key *k, const void *data, size_t len);
/* SipHash-1-3 of a key whose length is a constant at the call site, inline: the same value as
 * hash_bytes without its call and its loop over the length (per-record hashes of hot tables). */
static inline uint64_t hash_bytes_inline(const struct hash_key *k, const void *data, size_t len)
{
    return hash_siphash(k, data, len, 1, 3);
}

/* splitmix64 finaliser: not keyed, for internal ids only (inline: hot paths mix with it). */
static inline uint64_t hash_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* a % d for any 32-bit a and d >= 1 without a division (Lemire, Kaser, Kurz, "Faster remainder by
 * direct computation", 2019: exact for every 32-bit a and d with a 64-bit m): m =
 * hash_fastmod32_m(d), computed once per divisor (a table's bucket count). A division is one
 * instruction but 20-40 cycles' latency; this is two multiplications. test_hash checks it
 * against % on edge and random values. */
static inline uint64_t hash_fastmod32_m(uint32_t d)
{
    return UINT64_MAX / d + 1; /* d = 1: 0, and the product below is 0 = a % 1 */
}

static inline uint32_t hash_fastmod32(uint32_t a, uint64_t m, uint32_t d)
{
#if defined(__SIZEOF_INT128__)
    uint64_t low = m * a;
    return (uint32_t)(((unsigned __int128)low * d) >> 64);
#else
    (void)m;
    return a % d;
#endif
}

/* The keyed hash of an inside host's address (16 bytes, IPv4 mapped): SipHash-1-3 under a
 * secret key (random in the daemon, seeded in replay), IPv4 one block shorter from zero8.
 * Computed once per record by the pipeline (it picks the worker, the host table's buckets) and
 * given to the detectors (detectors/detector.h det_ctx.host_key, det_rec.host_hash), whose
 * tables key on the host and something else (hash_host_salt, hash_host_mix). */
struct hash_host_key {
    struct hash_key key;
    struct hash_sip zero8; /* hash_sip13_zero8(key) */
};

static inline void hash_host_key_init(struct hash_host_key *hk, const struct hash_key *key)
{
    hk->key = *key;
    hk->zero8 = hash_sip13_zero8(key);
}

/* The same value as hash_bytes(&hk->key, addr, 16). */
static inline uint64_t hash_host(const struct hash_host_key *hk, const uint8_t addr[16])
{
    uint64_t hi;
    memcpy(&hi, addr, 8);
    return hi == 0 ? hash_sip13_16_zero8(&hk->zero8, addr) : hash_siphash(&hk->key, addr, 16, 1, 3);
}

/* A table's own value of a host from its hash_host value h and the table's key k (a constant
 * per detector instance): two tables keyed on the same hosts do not share bucket positions.
 * Odd, so never 0. */
static inline uint64_t hash_host_salt(uint64_t h, uint64_t k)
{
    return hash_mix64(h ^ k) | 1u;
}

/* The hash of a key made of a host and what the host (or whoever talks to it) chose: another
 * address (other, 16 bytes; NULL: none) and up to 64 bits more (ports, protocol, customer),
 * mixed into the host's salt (hash_host_salt) with a cheap finaliser. Whoever picks the other
 * ends and ports cannot predict where they land without the salt, which comes from the secret
 * host key; a record costs a few multiplications instead of a keyed hash of the whole key per
 * table. */
static inline uint64_t hash_host_mix(uint64_t salt, const uint8_t *other, uint64_t extra)
{
    uint64_t a = 0, b = 0;
    if (other) {
        memcpy(&a, other, 8);
        memcpy(&b, other + 8, 8);
    }
    uint64_t x = hash_mix64(a ^ salt);
    x = hash_mix64(x ^ b);
    return hash_mix64(x ^ extra ^ salt);
}

#endif
