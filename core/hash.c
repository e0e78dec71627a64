/* hash.c: SipHash-1-3 and 2-4 out of line (the rounds: hash.h's hash_siphash), the keys. */
#include "hash.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

uint64_t hash_bytes(const struct hash_key *k, const void *data, size_t len)
{
    return hash_siphash(k, data, len, 1, 3);
}

uint64_t hash_bytes_sip24(const struct hash_key *k, const void *data, size_t len)
{
    return hash_siphash(k, data, len, 2, 4);
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
