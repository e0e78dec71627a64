/* bench_trie: longest-prefix-match cost (core/trie) on a customer-map-like set of prefixes.
 *
 *   bench_trie [PREFIXES] [LOOKUPS] [V6PCT] [V4BLOCK]
 *
 * PREFIXES random prefixes (default 100000: 100 - V6PCT % IPv4 of /16../28, mostly /24, V6PCT %
 * IPv6 /32../64; V6PCT default 10), then LOOKUPS (default 10000000) lookups of random addresses of
 * which half fall in a stored prefix (the other half: random IPv4, and random IPv6 in 2000::/8
 * when V6PCT > 0). Prints build time, memory, ns per lookup and the match count (a checksum).
 * V6PCT 0 measures the IPv4 path alone (the first and second strides, core/trie.c). V4BLOCK 8..15:
 * every IPv4 prefix (and random IPv4 address) inside 10.0.0.0/V4BLOCK, the way a customer map
 * clusters in the provider's own blocks (default 0: anywhere). */
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
    unsigned v6pct = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 10;
    unsigned block = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
    uint32_t in_mask = block >= 8 && block <= 15 ? 0xffffffffu >> block : 0xffffffffu;
    uint32_t in_base = in_mask == 0xffffffffu ? 0 : 0x0A000000u;
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
        if (r % 100 >= v6pct) {
            addr_from_v4(p->addr, in_base | ((uint32_t)(r >> 16) & in_mask));
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
        } else if ((r & 2) || !v6pct) {
            addr_from_v4(addrs[i], in_base | ((uint32_t)(r >> 16) & in_mask));
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
