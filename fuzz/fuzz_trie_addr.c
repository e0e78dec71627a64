/* fuzz_trie_addr.c: prefix_parse on each input line, print/parse round trip, then a trie of the
 * accepted prefixes checked against a linear longest-prefix match. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "trie.h"

#define FZ_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct prefix pf[FZ_MAX];
    size_t n = 0, pos = 0;
    struct trie_builder *b;
    struct trie *t;
    if (trie_builder_new(&b, FZ_MAX) < 0)
        return 0;
    while (pos < size && n < FZ_MAX) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        char line[128];
        if (len < sizeof(line)) {
            memcpy(line, data + pos, len);
            line[len] = '\0';
            struct prefix p, q;
            if (prefix_parse(line, true, &p) == 0) {
                char buf[ADDR_STRLEN + 4];
                prefix_format(&p, buf, sizeof(buf));
                if (prefix_parse(buf, false, &q) != 0 || q.len != p.len ||
                    memcmp(q.addr, p.addr, 16) != 0)
                    __builtin_trap();
                if (trie_builder_add(b, &p, (uint32_t)n) == 0)
                    pf[n++] = p;
            }
        }
        pos += len + 1;
    }
    if (trie_build(b, &t) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        /* probe each prefix's first address with the last bit flipped too */
        uint8_t a[16];
        for (int flip = 0; flip < 2; flip++) {
            memcpy(a, pf[i].addr, 16);
            if (flip)
                a[15] ^= 1;
            int best = -1;
            for (size_t k = 0; k < n; k++)
                if (prefix_contains(&pf[k], a) && (best < 0 || pf[k].len > pf[best].len))
                    best = (int)k;
            uint32_t v;
            uint8_t l;
            bool hit = trie_lookup(t, a, &v, &l);
            if (hit != (best >= 0) || (hit && (v != (uint32_t)best || l != pf[best].len)))
                __builtin_trap();
        }
    }
    struct prefix all = {.len = 0};
    if (trie_overlaps(t, &all, NULL, NULL) != n)
        __builtin_trap();
    trie_free(t);
    return 0;
}
