/* hash.c: SipHash-c-d (1-3 for tables, 2-4 on request) written from the SipHash paper
 * (Aumasson & Bernstein), and the splitmix64 finaliser. */
#include "hash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

/* c compression rounds per 8-byte block, d finalisation rounds; both inlined constants. */
static inline uint64_t siphash(const struct hash_key *k, const void *data, size_t len, int c, int d)
{
    const uint8_t *p = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k->k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k->k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k->k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k->k1;
    size_t blocks = len / 8;

    for (size_t i = 0; i < blocks; i++, p += 8) {
        uint64_t m = load_le64(p);
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND;
        v0 ^= m;
    }
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
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t hash_bytes(const struct hash_key *k, const void *data, size_t len)
{
    return siphash(k, data, len, 1, 3);
}

uint64_t hash_bytes_sip24(const struct hash_key *k, const void *data, size_t len)
{
    return siphash(k, data, len, 2, 4);
}

void hash_key_from_seed(struct hash_key *k, uint64_t seed)
{
    /* splitmix64 sequence from seed: two successive outputs */
    k->k0 = hash_mix64(seed + 0x9e3779b97f4a7c15ULL);
    k->k1 = hash_mix64(seed + 2 * 0x9e3779b97f4a7c15ULL);
}

void hash_key_random(struct hash_key *k)
{
    uint64_t buf[2];
    size_t got = 0;
    /* bounded: getrandom on a 16-byte request only returns short when interrupted */
    for (int tries = 0; got < sizeof(buf) && tries < 8; tries++) {
        ssize_t r = getrandom((uint8_t *)buf + got, sizeof(buf) - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r < 0 && errno != EINTR)
            break;
    }
    if (got == sizeof(buf)) {
        k->k0 = buf[0];
        k->k1 = buf[1];
        return;
    }
    /* weak fallback: time, pid and an address; still unpredictable enough for table keys */
    uint64_t seed = clock_wall_ns();
    seed ^= (uint64_t)getpid() << 32;
    seed ^= (uint64_t)(uintptr_t)&seed;
    hash_key_from_seed(k, seed);
}
