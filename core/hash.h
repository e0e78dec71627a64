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

/* The SipHash-1-3 state after a first block of 8 zero bytes under k: computed once per key, it
 * makes hash_sip13_16_zero8 one block shorter. */
static inline struct hash_sip hash_sip13_zero8(const struct hash_key *k)
{
    struct hash_sip s = hash_sip_start(k);
    hash_sip_block(&s, 0, 1);
    return s;
}

/* SipHash-1-3 of 16 bytes p whose first 8 are zero (an IPv4-mapped address, ::ffff:a.b.c.d),
 * from zero8 = hash_sip13_zero8(k): the same value as hash_bytes(k, p, 16). */
static inline uint64_t hash_sip13_16_zero8(const struct hash_sip *zero8, const uint8_t *p)
{
    struct hash_sip s = *zero8;
    hash_sip_block(&s, hash_load_le64(p + 8), 1);
    return hash_sip_end(s, (uint64_t)16 << 56, 1, 3);
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

#endif
