/* test_hash.c: SipHash against the published 2-4 vectors (shared round and padding code), 1-3
 * against an independent byte-at-a-time model, key sensitivity, splitmix64 known outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"

/* Reference vectors: key 00..0f, message 00..(n-1), n = 0..63 (SipHash-2-4, 64-bit out). */
static const uint64_t vec24[64] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
    0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL, 0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
    0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
    0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL, 0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
    0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
    0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL, 0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
    0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
    0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL, 0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
    0xf935451de4f21df2ULL, 0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
    0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
    0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL, 0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
    0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

static const struct hash_key ref_key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

static void test_sip24_vectors(void **state)
{
    (void)state;
    uint8_t msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (int n = 0; n < 64; n++)
        assert_int_equal(hash_bytes_sip24(&ref_key, msg, (size_t)n), vec24[n]);
}

/* Independent model: builds each padded 8-byte word byte by byte, round count as parameter. */
static uint64_t model_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}
static void model_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = model_rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = model_rotl(v[0], 32);
    v[2] += v[3];
    v[3] = model_rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = model_rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = model_rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = model_rotl(v[2], 32);
}
static uint64_t model_sip(const struct hash_key *k, const uint8_t *m, size_t n, int c, int d)
{
    uint64_t v[4] = {k->k0 ^ 0x736f6d6570736575ULL, k->k1 ^ 0x646f72616e646f6dULL,
                     k->k0 ^ 0x6c7967656e657261ULL, k->k1 ^ 0x7465646279746573ULL};
    size_t words = n / 8 + 1;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = 0;
        for (int byte = 0; byte < 8; byte++) {
            size_t idx = w * 8 + (size_t)byte;
            uint64_t bv =
                idx < n ? m[idx] : (byte == 7 && w == words - 1 ? (uint64_t)(n & 0xff) : 0);
            x |= bv << (8 * byte);
        }
        v[3] ^= x;
        for (int r = 0; r < c; r++)
            model_round(v);
        v[0] ^= x;
    }
    v[2] ^= 0xff;
    for (int r = 0; r < d; r++)
        model_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void test_model_self_check(void **state)
{
    (void)state;
    uint8_t msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    /* the model itself reproduces the 2-4 vectors, so its 1-3 output is a fair reference */
    for (int n = 0; n < 64; n++)
        assert_int_equal(model_sip(&ref_key, msg, (size_t)n, 2, 4), vec24[n]);
}

static void test_sip13_vs_model(void **state)
{
    (void)state;
    uint8_t msg[300];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    struct hash_key k;
    for (uint64_t seed = 0; seed < 4; seed++) {
        hash_key_from_seed(&k, seed);
        for (size_t n = 0; n <= sizeof msg; n++) {
            assert_int_equal(hash_bytes(&k, msg, n), model_sip(&k, msg, n, 1, 3));
            /* unaligned start */
            if (n + 1 <= sizeof msg)
                assert_int_equal(hash_bytes(&k, msg + 1, n), model_sip(&k, msg + 1, n, 1, 3));
        }
    }
    /* 1-3 differs from 2-4 */
    assert_int_not_equal(hash_bytes(&ref_key, msg, 16), hash_bytes_sip24(&ref_key, msg, 16));
}

/* hash_sip13_16_zero8 (hosttab_hash's IPv4 path) gives hash_bytes's value for 16 bytes whose
 * first 8 are zero: IPv4-mapped addresses and other tails, several keys. */
static void test_sip13_zero8(void **state)
{
    (void)state;
    struct hash_key k;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (uint64_t seed = 0; seed < 8; seed++) {
        hash_key_from_seed(&k, seed);
        struct hash_sip z = hash_sip13_zero8(&k);
        for (int i = 0; i < 256; i++) {
            uint8_t a[16] = {0};
            x = hash_mix64(x + 1);
            memcpy(a + 8, &x, 8);
            if (i & 1) {
                a[10] = 0xff; /* ::ffff:a.b.c.d */
                a[11] = 0xff;
                a[8] = a[9] = 0;
            }
            assert_int_equal(hash_sip13_16_zero8(&z, a), hash_bytes(&k, a, 16));
            assert_int_equal(hash_sip13_16_zero8(&z, a), model_sip(&k, a, 16, 1, 3));
        }
    }
}

/* hash_host (the pipeline's hash of an inside host, given to the detectors) is hash_bytes of
 * the 16-byte address under its key, IPv4-mapped and IPv6; a table's salt of it depends on the
 * table's key; hash_host_mix depends on every part of the key it mixes in. */
static void test_hash_host(void **state)
{
    (void)state;
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (uint64_t seed = 0; seed < 8; seed++) {
        struct hash_key k;
        struct hash_host_key hk;
        hash_key_from_seed(&k, seed);
        hash_host_key_init(&hk, &k);
        for (int i = 0; i < 256; i++) {
            uint8_t a[16] = {0};
            x = hash_mix64(x + 1);
            memcpy(a + 8, &x, 8);
            if (i & 1) { /* IPv6: any first 8 bytes */
                x = hash_mix64(x + 1);
                memcpy(a, &x, 8);
                a[0] = 0x20;
            } else { /* ::ffff:a.b.c.d */
                a[8] = a[9] = 0;
                a[10] = a[11] = 0xff;
            }
            uint64_t h = hash_host(&hk, a);
            assert_int_equal(h, hash_bytes(&k, a, 16));
            assert_int_not_equal(hash_host_salt(h, 1), hash_host_salt(h, 2));
            assert_true(hash_host_salt(h, 1) & 1);
            uint8_t peer[16] = {0};
            uint64_t m = hash_host_mix(hash_host_salt(h, 1), peer, 0x0100);
            assert_int_not_equal(m, hash_host_mix(hash_host_salt(h, 1), NULL, 0x0101));
            peer[15] = 1;
            assert_int_not_equal(m, hash_host_mix(hash_host_salt(h, 1), peer, 0x0100));
            assert_int_not_equal(m, hash_host_mix(hash_host_salt(h, 2), NULL, 0x0100));
        }
    }
}

static int popcount64(uint64_t x)
{
    return __builtin_popcountll(x);
}

static void test_key_and_input_sensitivity(void **state)
{
    (void)state;
    struct hash_key a, b;
    hash_key_from_seed(&a, 1);
    hash_key_from_seed(&b, 1);
    assert_int_equal(a.k0, b.k0);
    assert_int_equal(a.k1, b.k1);
    hash_key_from_seed(&b, 2);
    assert_true(a.k0 != b.k0 || a.k1 != b.k1);

    uint8_t m[16] = {0};
    uint64_t h = hash_bytes(&a, m, sizeof m);
    assert_int_equal(h, hash_bytes(&a, m, sizeof m)); /* deterministic */
    assert_int_not_equal(h, hash_bytes(&b, m, sizeof m));
    /* one flipped key bit or input bit changes about half the output bits */
    long total = 0;
    int trials = 0;
    for (int bit = 0; bit < 128; bit++) {
        struct hash_key k = a;
        if (bit < 64)
            k.k0 ^= 1ULL << bit;
        else
            k.k1 ^= 1ULL << (bit - 64);
        int d = popcount64(h ^ hash_bytes(&k, m, sizeof m));
        assert_true(d > 0);
        total += d;
        trials++;
        uint8_t m2[16] = {0};
        m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        d = popcount64(h ^ hash_bytes(&a, m2, sizeof m2));
        assert_true(d > 0);
        total += d;
        trials++;
    }
    double avg = (double)total / trials;
    assert_true(avg > 28.0 && avg < 36.0);
    /* length is part of the hash: trailing zero bytes matter */
    assert_int_not_equal(hash_bytes(&a, m, 3), hash_bytes(&a, m, 4));
    assert_int_not_equal(hash_bytes(&a, m, 0), hash_bytes(&a, m, 8));
}

static void test_random_key(void **state)
{
    (void)state;
    struct hash_key a, b;
    hash_key_random(&a);
    hash_key_random(&b);
    assert_true(a.k0 != b.k0 || a.k1 != b.k1);
    assert_true(a.k0 != 0 || a.k1 != 0);
}

static void test_mix64(void **state)
{
    (void)state;
    /* splitmix64 from state 0: the first outputs are mix(n * golden) */
    const uint64_t g = 0x9e3779b97f4a7c15ULL;
    assert_int_equal(hash_mix64(g), 0xe220a8397b1dcdafULL);
    assert_int_equal(hash_mix64(2 * g), 0x6e789e6aa1b965f4ULL);
    assert_int_equal(hash_mix64(3 * g), 0x06c45d188009454fULL);
    assert_int_equal(hash_mix64(0), 0);
    assert_int_not_equal(hash_mix64(1), hash_mix64(2));
}

/* hash_fastmod32 is a % d: every divisor edge (1, 2, powers of two and their neighbours, the
 * largest) with edge and random dividends, and random divisors of every size. */
static void test_fastmod32(void **state)
{
    (void)state;
    uint32_t ds[128], nd = 0;
    ds[nd++] = 1;
    ds[nd++] = 3;
    ds[nd++] = 7;
    ds[nd++] = UINT32_MAX;
    ds[nd++] = UINT32_MAX - 1;
    for (int b = 1; b < 32; b++) {
        ds[nd++] = 1u << b;
        ds[nd++] = (1u << b) - 1;
        ds[nd++] = (1u << b) + 1;
    }
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    const uint32_t as[] = {0, 1, 2, 0x7fffffffu, 0x80000000u, UINT32_MAX - 1, UINT32_MAX};
    for (int k = 0; k < 2000 + (int)nd; k++) {
        uint32_t d;
        if (k < (int)nd) {
            d = ds[k];
        } else {
            x = hash_mix64(x);
            d = (uint32_t)(x >> (x & 31)); /* sizes of every magnitude */
            if (d == 0)
                d = 1;
        }
        uint64_t m = hash_fastmod32_m(d);
        for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++)
            assert_int_equal(hash_fastmod32(as[i], m, d), as[i] % d);
        for (uint32_t q = 0; q < 3; q++) { /* around multiples of d */
            uint32_t a = (uint32_t)(((x >> 40) % ((uint64_t)UINT32_MAX / d + 1)) * d);
            assert_int_equal(hash_fastmod32(a, m, d), a % d);
            assert_int_equal(hash_fastmod32(a - 1, m, d), (a - 1) % d);
            assert_int_equal(hash_fastmod32(a + q, m, d), (a + q) % d);
        }
        for (int r = 0; r < 500; r++) {
            x = hash_mix64(x + (uint64_t)r);
            assert_int_equal(hash_fastmod32((uint32_t)x, m, d), (uint32_t)x % d);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sip24_vectors),  cmocka_unit_test(test_model_self_check),
        cmocka_unit_test(test_sip13_vs_model), cmocka_unit_test(test_key_and_input_sensitivity),
        cmocka_unit_test(test_random_key),     cmocka_unit_test(test_mix64),
        cmocka_unit_test(test_sip13_zero8),    cmocka_unit_test(test_hash_host),
        cmocka_unit_test(test_fastmod32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
