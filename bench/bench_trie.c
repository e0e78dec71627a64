/* bench_trie: longest-prefix-match cost (core/trie) on a customer-map-like set of prefixes.
 *
 *   bench_trie [PREFIXES] [LOOKUPS]
 *
 * PREFIXES random prefixes (default 100000: 90 % IPv4 of /16../28, mostly /24, 10 % IPv6 /32../64),
 * then LOOKUPS (default 10000000) lookups of random addresses of which half fall in a stored
 * prefix. Prints build time, memory, ns per lookup and the match count (a checksum). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "clock.h"
#include "trie.h"

static uint64_t rng = 0x1234567;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    return (double)clock_mono_ns() / 1e9;
}

int main(int argc, char **argv)
{
    size_t np = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t nl = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
    struct prefix *ps = calloc(np, sizeof *ps);
    uint8_t(*addrs)[16] = calloc(1u << 20, 16);
    if (!ps || !addrs)
        return 1;
    static const unsigned lens4[8] = {16, 20, 22, 24, 24, 24, 24, 28};
    struct trie_builder *b;
    if (trie_builder_new(&b, 0) < 0)
        return 1;
    double t0 = now_s();
    size_t added = 0;
    for (size_t i = 0; i < np; i++) {
        uint64_t r = next();
        struct prefix *p = &ps[i];
        memset(p, 0, sizeof *p);
        if (r % 10) {
            addr_from_v4(p->addr, (uint32_t)(r >> 16));
            p->len = (uint8_t)(96 + lens4[(r >> 8) & 7]);
        } else {
            uint64_t h = next();
            memcpy(p->addr, &h, 8);
            p->addr[0] = 0x20;
            p->len = (uint8_t)(32 + (r >> 8) % 33);
        }
        struct prefix q;
        char text[64];
        if (!prefix_format(p, text, sizeof text) || prefix_parse(text, true, &q) < 0)
            continue;
        *p = q;
        if (trie_builder_add(b, p, (uint32_t)i) == 0)
            added++;
    }
    struct trie *t;
    if (trie_build(b, &t) < 0)
        return 1;
    double t1 = now_s();
    for (size_t i = 0; i < (1u << 20); i++) {
        uint64_t r = next();
        if (r & 1) { /* inside a stored prefix: its address with random host bits */
            const struct prefix *p = &ps[(r >> 1) % np];
            uint64_t h = next();
            memcpy(addrs[i], p->addr, 16);
            for (unsigned bit = p->len; bit < 128; bit++)
                if ((h >> (bit & 63)) & 1)
                    addrs[i][bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
        } else if (r & 2) {
            addr_from_v4(addrs[i], (uint32_t)(r >> 16));
        } else {
            uint64_t h = next();
            memcpy(addrs[i], &h, 8);
            memcpy(addrs[i] + 8, &r, 8);
            addrs[i][0] = 0x20;
        }
    }
    size_t hits = 0;
    uint32_t v = 0;
    double t2 = now_s();
    for (size_t i = 0; i < nl; i++)
        hits += trie_lookup(t, addrs[(i * 40503u) & ((1u << 20) - 1)], &v, NULL);
    double t3 = now_s();
    printf("bench_trie: prefixes=%zu build_ms=%.1f memory_bytes=%zu lookups=%zu ns_per_lookup=%.1f "
           "hits=%zu\n",
           added, (t1 - t0) * 1e3, trie_memory(t), nl, (t3 - t2) * 1e9 / (double)nl, hits);
    trie_free(t);
    free(ps);
    free(addrs);
    return 0;
}
