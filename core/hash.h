/* hash.h: keyed hashing (SipHash-1-3) for every table whose keys an attacker chooses, plus a
 * fast 64-bit mixer for keys we control. Pure functions, any thread. */
#ifndef TW_HASH_H
#define TW_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
    uint64_t k0, k1;
};

/* Key from a 64-bit seed (deterministic: replay uses a fixed seed so output repeats). */
void hash_key_from_seed(struct hash_key *k, uint64_t seed);
/* Key from the kernel's random source (getrandom); falls back to the seed mixer on failure. */
void hash_key_random(struct hash_key *k);
uint64_t hash_bytes(const struct hash_key *k, const void *data, size_t len);
/* SipHash-2-4 (the reference PRF, for keys that need more margin than 1-3; also what the
 * published test vectors cover). */
uint64_t hash_bytes_sip24(const struct hash_key *k, const void *data, size_t len);
/* splitmix64 finaliser: not keyed, for internal ids only (inline: hot paths mix with it). */
static inline uint64_t hash_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
