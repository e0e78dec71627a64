/* trie.c: longest-prefix match as a path-compressed binary (Patricia) trie.
 *
 * The builder inserts straight into a growable node array (indices, not pointers), so the
 * duplicate check is the insertion walk itself. trie_build() copies the nodes into one exact-size
 * array in pre-order (a node's 0-child follows it in memory), which is also address order.
 *
 * Every node is a prefix (key, len); all nodes below it extend it. Lookup walks from the root,
 * stops at the first node whose prefix does not cover the address (nothing below can), and keeps
 * the last node with a value. A node costs one 128-bit xor + count-leading-zeros; no recursion.
 * The walk starts where direct-indexed tables leave it (built with the nodes, immutable like
 * them): a first stride for IPv4 (8..16 bits) and one for IPv6, then for IPv4 a second stride of
 * up to 8 bits (to /24 at most) under the first-stride entries that need it, within a fixed
 * budget (TRIE_V4_CHUNK_MAX entries, 2 MB); IPv6 a second stride too, anchored where the first
 * one's walk stands (see struct tchunk6). A front entry that settles the match holds its value and
 * length (no node read), and a bitmap of the IPv4 first stride answers an address under no IPv4
 * prefix without reading the stride.
 */
#include "trie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TRIE_NONE UINT32_MAX
#define TRIE_DEFAULT_MAX ((size_t)16 * 1024 * 1024)
#ifndef TRIE_V4_EXTRA_BITS
#define TRIE_V4_EXTRA_BITS 2
#endif
#ifndef TRIE_V4_MAX_BITS
#define TRIE_V4_MAX_BITS 16
#endif
#ifndef TRIE_V4_CHUNK_BITS
#define TRIE_V4_CHUNK_BITS 8 /* the second IPv4 stride: 8 bits, ending at /24 at most */
#endif
#ifndef TRIE_V4_CHUNK_MAX
#define TRIE_V4_CHUNK_MAX ((size_t)1 << 18) /* second-stride entries at most (8 B each: 2 MB) */
#endif
#ifndef TRIE_V6_CHUNK_BITS
#define TRIE_V6_CHUNK_BITS 12 /* the IPv6 second stride: up to 12 bits past its anchor node */
#endif
#ifndef TRIE_V6_CHUNK_MIN
#define TRIE_V6_CHUNK_MIN 4 /* ... and at least 4 (bench_trie: chunks of 2-3 bits cost more) */
#endif
#ifndef TRIE_V6_CHUNK_MAX
#define TRIE_V6_CHUNK_MAX ((size_t)1 << 18) /* IPv6 second-stride entries at most (2 MB) */
#endif
#define TRIE_CHUNK 0x80000000u /* tjump.next: a second-stride chunk, not a node (struct trie) */
/* a jump4 entry's chunk: its bits (1..8) from TRIE_CHUNK_BSHIFT, its first entry below them; a
 * jump6 entry's: the index of its struct tchunk6 below TRIE_CHUNK */
#define TRIE_CHUNK_BSHIFT 24
#define TRIE_CHUNK_OFF 0xffffffu
_Static_assert(TRIE_V4_CHUNK_MAX <= TRIE_CHUNK_OFF + 1, "a chunk's first entry fits its bits");
/* tjump.next at or above TRIE_SETTLED (a built front's entry only): the entry settles the
 * lookup, its match's length in the low byte and its value in tjump.best (so the answer needs
 * no read of the node); TRIE_NONE (length byte 0xff) is the entry that settles it as no match */
#define TRIE_SETTLED 0xffffff00u
#define TRIE_STACK 260 /* pre-order stack: depth (<= 129) + pending siblings */

struct tnode {
    uint64_t hi, lo;   /* prefix, host order halves of the 128-bit key; bits past len zero */
    uint32_t child[2]; /* node indices or TRIE_NONE */
    uint32_t value;    /* valid when has_value */
    uint8_t len;       /* 0..128 */
    uint8_t has_value;
};

struct trie_builder {
    struct tnode *nodes;
    uint32_t n, cap;
    uint32_t root;
    size_t count, max;
};

/* First-stride jump: where the walk stands after the top `jbits4` bits of the IPv4 address (v4
 * table) or of the top `jbits` of the 128-bit address (v6 table, every address outside
 * ::ffff:0:0/96). */
struct tjump {
    uint32_t next; /* where the walk goes on (a node the stride bits do not settle), or NONE;
                      in a built front, TRIE_SETTLED | length when the entry settles a match */
    uint32_t best; /* deepest valued node the stride bits settle as matching, or TRIE_NONE;
                      the match's value when next says TRIE_SETTLED */
};

/* An IPv6 second-stride chunk (struct trie): the first stride's walk (or a chunk entry's, for a
 * chunk under a chunk) stands at node `from`, which the bits so far do not settle; the chunk's
 * anchor is the first node at or below it with
 * two children (a provider's /32 with one /36 of customers under it: the /36), of prefix (hi,
 * lo, len). The chunk holds 1 << bits entries, one per value of the address bits len ..
 * len + bits, each the walk's state after them (from `from`, so the chain's values count). An
 * address outside the anchor's prefix walks the nodes from `from` (a few: a chain). */
struct tchunk6 {
    uint64_t hi, lo;
    uint32_t from, first; /* first: its first entry in chunk6 */
    uint8_t len, bits;
};

struct trie {
    struct tnode *nodes; /* nodes[0] is the root when n > 0 */
    uint32_t n;
    size_t count;
    unsigned jbits;  /* 8..16, grows with the prefix count: jump6 has 1 << jbits entries */
    unsigned jbits4; /* 8..20, grows with the IPv4 prefix count: jump4 has 1 << jbits4 */
    struct tjump *jump4;
    struct tjump *jump6;
    /* one bit per jump4 entry: set unless the entry settles "no match". An address outside
     * every IPv4 prefix (most of a transit network's peers) is answered from these 2^jbits4
     * bits (8 KB at most: cache-resident) without a read of jump4 (up to 512 KB) */
    uint64_t *occ4;
    /* IPv4 second stride (DIR-16-8 style, built with the jumps): a jump4 entry whose walk goes on
     * (next is a node) gets a chunk of 1 << b entries, one per value of the address bits
     * jbits4 .. jbits4 + b, each the walk's state after those bits; b is what the deepest
     * prefix under the entry needs, at most TRIE_V4_CHUNK_BITS and to /24 at most (a chunk of
     * /20s under a /14 entry takes 6 bits, not 8: 4x smaller, the same answers). Its next is
     * then TRIE_CHUNK | b << TRIE_CHUNK_BSHIFT | the chunk's first entry. At most
     * TRIE_V4_CHUNK_MAX entries in all: past that, entries keep walking the nodes (same
     * result, more steps). */
    struct tjump *chunk4;
    size_t nchunk4; /* entries */
    /* IPv6 second stride (struct tchunk6): a jump6 entry whose walk goes on at a node with a
     * subtree under it gets a chunk of b bits past its anchor's length, b what the subtree needs
     * (its deepest prefix, and about twice its prefix count: memory follows the prefixes),
     * TRIE_V6_CHUNK_MIN..TRIE_V6_CHUNK_BITS, within TRIE_V6_CHUNK_MAX entries in all (past that
     * the entry walks the nodes: same result, more steps). Its next is then TRIE_CHUNK | the
     * header's index, its best unchanged. A chunk entry whose walk still goes on gets a chunk
     * of its own by the same rule (several providers' /32s under one entry: the first chunk
     * parts them, one under each settles its customers). A customer map's IPv6 prefixes
     * (/40s../56s under a provider's /32, in one first-stride entry: 2001::/16 holds most of
     * them) thus settle in a few table reads instead of a walk of 10-20 nodes. */
    struct tchunk6 *hdr6;
    struct tjump *chunk6;
    size_t nhdr6, nchunk6;
};

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* Index of the first bit where (ah,al) and (bh,bl) differ; 128 when equal. */
static inline unsigned first_diff(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
    uint64_t dh = ah ^ bh, dl = al ^ bl;
    if (dh)
        return (unsigned)__builtin_clzll(dh);
    if (dl)
        return 64u + (unsigned)__builtin_clzll(dl);
    return 128u;
}

static inline unsigned bit_at(uint64_t hi, uint64_t lo, unsigned i)
{
    return i < 64 ? (unsigned)(hi >> (63 - i)) & 1u : (unsigned)(lo >> (127 - i)) & 1u;
}

static inline void mask_key(uint64_t *hi, uint64_t *lo, unsigned len)
{
    if (len == 0) {
        *hi = 0;
        *lo = 0;
    } else if (len < 64) {
        *hi &= ~0ULL << (64 - len);
        *lo = 0;
    } else if (len == 64) {
        *lo = 0;
    } else if (len < 128) {
        *lo &= ~0ULL << (128 - len);
    }
}

int trie_builder_new(struct trie_builder **out, size_t max_prefixes)
{
    struct trie_builder *b = calloc(1, sizeof(*b));
    *out = NULL;
    if (!b)
        return -ENOMEM;
    b->root = TRIE_NONE;
    /* node indices are 32-bit and a trie of n prefixes needs up to 2n - 1 nodes */
    if (max_prefixes == 0 || max_prefixes > TRIE_DEFAULT_MAX)
        max_prefixes = TRIE_DEFAULT_MAX;
    b->max = max_prefixes;
    *out = b;
    return 0;
}

void trie_builder_free(struct trie_builder *b)
{
    if (!b)
        return;
    free(b->nodes);
    free(b);
}

static int reserve(struct trie_builder *b)
{
    uint32_t ncap = b->cap ? b->cap * 2 : 64;
    struct tnode *nn = realloc(b->nodes, (size_t)ncap * sizeof(*nn));
    if (!nn)
        return -ENOMEM;
    b->nodes = nn;
    b->cap = ncap;
    return 0;
}

/* Caller has reserved room (reserve()), so this never moves the array. */
static uint32_t node_new(struct trie_builder *b, uint64_t hi, uint64_t lo, unsigned len)
{
    struct tnode *n = &b->nodes[b->n];
    mask_key(&hi, &lo, len);
    n->hi = hi;
    n->lo = lo;
    n->len = (uint8_t)len;
    n->child[0] = n->child[1] = TRIE_NONE;
    n->value = 0;
    n->has_value = 0;
    return b->n++;
}

/* Exact-match search in the builder (used for the duplicate-before-full check). */
static bool builder_has(const struct trie_builder *b, uint64_t hi, uint64_t lo, unsigned len)
{
    uint32_t i = b->root;
    while (i != TRIE_NONE) {
        const struct tnode *n = &b->nodes[i];
        if (n->len > len || first_diff(hi, lo, n->hi, n->lo) < n->len)
            return false;
        if (n->len == len)
            return n->has_value;
        i = n->child[bit_at(hi, lo, n->len)];
    }
    return false;
}

int trie_builder_add(struct trie_builder *b, const struct prefix *p, uint32_t value)
{
    if (p->len > 128)
        return -EINVAL;
    unsigned len = p->len;
    uint64_t hi = load_be64(p->addr), lo = load_be64(p->addr + 8);
    mask_key(&hi, &lo, len);

    if (b->count >= b->max)
        return builder_has(b, hi, lo, len) ? -EEXIST : -ENOSPC;
    /* at most two new nodes: make room first so indices and pointers stay valid below */
    if (b->cap - b->n < 2 && reserve(b) < 0)
        return -ENOMEM;

    uint32_t *link = &b->root;
    for (;;) {
        uint32_t ni = *link;
        if (ni == TRIE_NONE) {
            uint32_t leaf = node_new(b, hi, lo, len);
            b->nodes[leaf].value = value;
            b->nodes[leaf].has_value = 1;
            *link = leaf;
            break;
        }
        struct tnode *n = &b->nodes[ni];
        unsigned d = first_diff(hi, lo, n->hi, n->lo);
        unsigned lim = len < n->len ? len : n->len;
        if (d > lim)
            d = lim;
        if (d < n->len) {
            if (d == len) {
                /* new prefix sits above n */
                uint32_t up = node_new(b, hi, lo, len);
                struct tnode *u = &b->nodes[up];
                u->value = value;
                u->has_value = 1;
                u->child[bit_at(n->hi, n->lo, len)] = ni;
                *link = up;
            } else {
                /* diverge at bit d: a valueless branch node over both */
                uint64_t nh = n->hi, nl = n->lo;
                uint32_t br = node_new(b, hi, lo, d);
                uint32_t leaf = node_new(b, hi, lo, len);
                b->nodes[leaf].value = value;
                b->nodes[leaf].has_value = 1;
                b->nodes[br].child[bit_at(hi, lo, d)] = leaf;
                b->nodes[br].child[bit_at(nh, nl, d)] = ni;
                *link = br;
            }
            break;
        }
        /* n's prefix covers the new one */
        if (len == n->len) {
            if (n->has_value)
                return -EEXIST;
            n->value = value;
            n->has_value = 1;
            break;
        }
        link = &n->child[bit_at(hi, lo, n->len)];
    }
    b->count++;
    return 0;
}

/* Walk from `from` (the root: {0, TRIE_NONE}; or where a shorter stride left the walk) for the
 * address (hi, lo) whose bits past `stop` are zero, as far as those
 * bits decide: nodes shorter than stop are taken here; a node of exactly stop bits is taken too
 * when it is a leaf (the usual customer prefix), so its lookups end at the jump entry. */
static struct tjump jump_walk(const struct trie *t, struct tjump from, uint64_t hi, uint64_t lo,
                              unsigned stop)
{
    struct tjump j = {TRIE_NONE, from.best};
    uint32_t i = from.next;
    while (i != TRIE_NONE) {
        const struct tnode *n = &t->nodes[i];
        if (n->len > stop) {
            if (first_diff(hi, lo, n->hi, n->lo) >= stop)
                j.next = i; /* else the known bits already leave it: nothing below matches */
            break;
        }
        if (first_diff(hi, lo, n->hi, n->lo) < n->len)
            break;
        if (n->has_value)
            j.best = i;
        if (n->len == stop) {
            if (n->child[0] != TRIE_NONE || n->child[1] != TRIE_NONE)
                j.next = i; /* the next bit picks the child: the lookup goes on from here */
            break;
        }
        i = n->child[bit_at(hi, lo, n->len)];
    }
    return j;
}

static unsigned log2_ceil(size_t n)
{
    unsigned b = 0;
    while (b < 63 && ((size_t)1 << b) < n)
        b++;
    return b;
}

/* The deepest prefix length at or under node i (pre-order walk of its subtree); *nvalued (when
 * not NULL) the number of prefixes there. */
static unsigned subtree_depth(const struct trie *t, uint32_t i, size_t *nvalued)
{
    uint32_t stack[TRIE_STACK];
    int sp = 0;
    unsigned deepest = 0;
    size_t count = 0;
    stack[sp++] = i;
    while (sp > 0) {
        const struct tnode *n = &t->nodes[stack[--sp]];
        deepest = n->len > deepest ? n->len : deepest;
        count += n->has_value;
        for (int side = 0; side < 2; side++)
            if (n->child[side] != TRIE_NONE)
                stack[sp++] = n->child[side];
    }
    if (nvalued)
        *nvalued = count;
    return deepest;
}

/* The IPv4 second stride (see struct trie): chunks in address order while the budget lasts,
 * each of the bits its deepest prefix needs. */
static int build_chunks4(struct trie *t)
{
    if (t->jbits4 >= 24)
        return 0;
    unsigned maxb = 24 - t->jbits4 < TRIE_V4_CHUNK_BITS ? 24 - t->jbits4 : TRIE_V4_CHUNK_BITS;
    size_t want = 0, n4 = (size_t)1 << t->jbits4;
    uint8_t *bits = calloc(n4, 1); /* a chunk's bits per jump4 entry, 0: none */
    if (!bits)
        return -ENOMEM;
    for (size_t k = 0; k < n4; k++) {
        if (t->jump4[k].next == TRIE_NONE)
            continue;
        /* the subtree lies under the entry: its nodes are longer than the first stride, or
         * of its length with children */
        unsigned depth = subtree_depth(t, t->jump4[k].next, NULL), stride = 96 + t->jbits4;
        unsigned deep = depth > stride ? depth - stride : 0; /* bits below the first stride */
        unsigned b = deep < 1 ? 1 : deep > maxb ? maxb : deep;
        if (want + ((size_t)1 << b) <= TRIE_V4_CHUNK_MAX) {
            bits[k] = (uint8_t)b;
            want += (size_t)1 << b;
        }
    }
    t->chunk4 = want ? malloc(want * sizeof(*t->chunk4)) : NULL;
    if (want && !t->chunk4) {
        free(bits);
        return -ENOMEM;
    }
    for (size_t k = 0; k < n4; k++) {
        if (!bits[k])
            continue;
        struct tjump from = t->jump4[k];
        unsigned end = t->jbits4 + bits[k];
        struct tjump *c = &t->chunk4[t->nchunk4];
        for (size_t x = 0; x < ((size_t)1 << bits[k]); x++) {
            uint32_t a = (uint32_t)(k << (32 - t->jbits4) | x << (32 - end));
            c[x] = jump_walk(t, from, 0, 0xffff00000000ULL | a, 96 + end);
        }
        t->jump4[k].next =
            TRIE_CHUNK | (uint32_t)bits[k] << TRIE_CHUNK_BSHIFT | (uint32_t)t->nchunk4;
        t->nchunk4 += (size_t)1 << bits[k];
    }
    free(bits);
    return 0;
}

/* Bits pos .. pos + b of the 128-bit address (hi, lo), as a number (1 <= b <= 64, pos + b <= 128). */
static inline uint64_t bits_at(uint64_t hi, uint64_t lo, unsigned pos, unsigned b)
{
    uint64_t w = pos >= 64 ? lo << (pos - 64) : pos ? hi << pos | lo >> (64 - pos) : hi;
    return w >> (64 - b);
}

/* Node n lies in ::ffff:0:0/96 (an IPv4 prefix, or a branch between some). */
static bool is_v4_node(const struct tnode *n)
{
    return n->len >= 96 && n->hi == 0 && (n->lo >> 32) == 0xffff;
}

/* A chunk's anchor under node i (struct tchunk6): down its chain of one-child nodes. */
static uint32_t anchor6(const struct trie *t, uint32_t i)
{
    while (i != TRIE_NONE) {
        const uint32_t *c = t->nodes[i].child;
        if ((c[0] == TRIE_NONE) == (c[1] == TRIE_NONE)) /* a leaf, or two children */
            return i;
        i = c[0] != TRIE_NONE ? c[0] : c[1];
    }
    return i;
}

/* Room for one more chunk of n entries in chunk6 and its header (capacities doubling). */
static int chunk6_room(struct trie *t, size_t *cap_h, size_t *cap_c, size_t n)
{
    if (t->nhdr6 == *cap_h) {
        size_t c = *cap_h ? *cap_h * 2 : 16;
        struct tchunk6 *h = realloc(t->hdr6, c * sizeof(*h));
        if (!h)
            return -ENOMEM;
        t->hdr6 = h;
        *cap_h = c;
    }
    if (t->nchunk6 + n > *cap_c) {
        size_t c = *cap_c ? *cap_c * 2 : 4096;
        while (c < t->nchunk6 + n)
            c *= 2;
        struct tjump *e = realloc(t->chunk6, c * sizeof(*e));
        if (!e)
            return -ENOMEM;
        t->chunk6 = e;
        *cap_c = c;
    }
    return 0;
}

/* The IPv6 second stride (see struct trie) for the walk state `from` (a first-stride entry's, or
 * a chunk entry's: a chunk under a chunk where its walk still has a subtree to go): *out is the
 * entry that replaces it (from itself when no chunk is built: too few bits to be worth one, or
 * the budget spent). Chunks in address order, each before those under it. */
static int chunk6_build(struct trie *t, struct tjump from, struct tjump *out, size_t *cap_h,
                        size_t *cap_c)
{
    *out = from;
    uint32_t i = anchor6(t, from.next);
    if (i == TRIE_NONE || is_v4_node(&t->nodes[i]))
        return 0; /* IPv4 addresses take jump4: a chunk of IPv4 nodes would go unread */
    size_t nvalued;
    const struct tnode a = t->nodes[i];
    unsigned depth = subtree_depth(t, i, &nvalued);
    unsigned b = depth - a.len; /* the bits its deepest prefix needs past the anchor */
    unsigned by_count = log2_ceil(nvalued) + 1;
    b = b < by_count ? b : by_count;
    b = b < TRIE_V6_CHUNK_BITS ? b : TRIE_V6_CHUNK_BITS;
    size_t n = (size_t)1 << b;
    if (b < TRIE_V6_CHUNK_MIN || t->nchunk6 + n > TRIE_V6_CHUNK_MAX)
        return 0; /* a few bits save a few node visits: not worth a chunk's header and entry */
    int rc = chunk6_room(t, cap_h, cap_c, n);
    if (rc < 0)
        return rc;
    size_t hi6 = t->nhdr6++, first = t->nchunk6;
    t->hdr6[hi6] = (struct tchunk6){a.hi, a.lo, from.next, (uint32_t)first, a.len, (uint8_t)b};
    t->nchunk6 += n;
    for (uint64_t x = 0; x < n; x++) {
        uint64_t hi = a.hi, lo = a.lo;
        for (unsigned j = 0; j < b; j++) { /* x's bits after the anchor's prefix */
            unsigned pos = a.len + j;
            uint64_t bit = x >> (b - 1 - j) & 1u;
            if (pos < 64)
                hi |= bit << (63 - pos);
            else
                lo |= bit << (127 - pos);
        }
        struct tjump e = jump_walk(t, from, hi, lo, a.len + b), sub = e;
        if (e.next != TRIE_NONE && (rc = chunk6_build(t, e, &sub, cap_h, cap_c)) < 0)
            return rc;
        t->chunk6[first + x] = sub; /* chunk6 may have moved: stored by index */
    }
    *out = (struct tjump){TRIE_CHUNK | (uint32_t)hi6, from.best};
    return 0;
}

static int build_chunks6(struct trie *t)
{
    size_t cap_h = 0, cap_c = 0;
    for (size_t k = 0; k < ((size_t)1 << t->jbits); k++) {
        if (t->jump6[k].next == TRIE_NONE)
            continue;
        int rc = chunk6_build(t, t->jump6[k], &t->jump6[k], &cap_h, &cap_c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A front entry that settles a match gets the match's value and length in place of its node
 * (trie_lookup then reads no node); after every walk from the entries is done (build_jump). */
static void settle(const struct trie *t, struct tjump *e, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (e[k].next == TRIE_NONE && e[k].best != TRIE_NONE)
            e[k] =
                (struct tjump){TRIE_SETTLED | t->nodes[e[k].best].len, t->nodes[e[k].best].value};
}

/* IPv4 gets its own first stride, sized by the IPv4 prefix count (2^(log2 n + 2), 8..16 bits).
 * Measured with bench/bench_trie (100k prefixes, 1M distinct addresses): 45-65 ns a lookup
 * either way on a 2-core EPYC VM; a DIR-24-8-like 2^20-entry table (8 MB) was slower
 * (~100 ns: one cache miss it always pays against a few node visits that mostly hit). The second
 * stride (build_chunks4) is only built under first-stride entries the walk does not settle, so a
 * spread-out prefix set keeps its one-node lookups while a customer map clustered in a provider's
 * blocks (many prefixes under one entry: a walk of 10-20 nodes) settles in two table reads:
 * bench/RESULTS.md, issue 15, "Customer lookup". */
static int build_jump(struct trie *t)
{
    size_t n4 = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct tnode *nd = &t->nodes[i];
        if (nd->has_value && is_v4_node(nd))
            n4++;
    }
    unsigned bits = 8;
    while (bits < 16 && ((size_t)1 << bits) < t->count)
        bits++;
    unsigned bits4 = log2_ceil(n4 ? n4 : 1) + TRIE_V4_EXTRA_BITS;
    bits4 = bits4 < 8 ? 8 : bits4 > TRIE_V4_MAX_BITS ? TRIE_V4_MAX_BITS : bits4;
    t->jbits = bits;
    t->jbits4 = bits4;
    t->jump4 = malloc(((size_t)1 << bits4) * sizeof(*t->jump4));
    t->jump6 = malloc(((size_t)1 << bits) * sizeof(*t->jump6));
    if (!t->jump4 || !t->jump6)
        return -ENOMEM;
    const struct tjump root = {0, TRIE_NONE};
    for (size_t k = 0; k < ((size_t)1 << bits4); k++) {
        uint64_t v4lo = 0xffff00000000ULL | ((uint64_t)k << (32 - bits4));
        t->jump4[k] = jump_walk(t, root, 0, v4lo, 96 + bits4);
    }
    for (size_t k = 0; k < ((size_t)1 << bits); k++)
        t->jump6[k] = jump_walk(t, root, (uint64_t)k << (64 - bits), 0, bits);
    int rc = build_chunks4(t);
    if (rc == 0)
        rc = build_chunks6(t);
    if (rc < 0)
        return rc;
    size_t nj4 = (size_t)1 << bits4;
    t->occ4 = calloc((nj4 + 63) / 64, sizeof(*t->occ4));
    if (!t->occ4)
        return -ENOMEM;
    settle(t, t->jump4, nj4);
    settle(t, t->jump6, (size_t)1 << bits);
    settle(t, t->chunk4, t->nchunk4);
    settle(t, t->chunk6, t->nchunk6);
    for (size_t k = 0; k < nj4; k++)
        if (t->jump4[k].next != TRIE_NONE)
            t->occ4[k / 64] |= 1ULL << (k % 64);
    return 0;
}

int trie_build(struct trie_builder *b, struct trie **out)
{
    int rc = -ENOMEM;
    *out = NULL;
    if (!b)
        return -EINVAL;
    struct trie *t = calloc(1, sizeof(*t));
    if (!t)
        goto out;
    t->count = b->count;
    if (b->n > 0) {
        t->nodes = malloc((size_t)b->n * sizeof(*t->nodes));
        if (!t->nodes) {
            free(t);
            t = NULL;
            goto out;
        }
        /* pre-order copy; each stack entry: builder index + link to patch in the new array */
        uint32_t stack[TRIE_STACK];
        uint32_t from[TRIE_STACK]; /* new index of parent << 1 | side, or TRIE_NONE for root */
        int sp = 0;
        stack[sp] = b->root;
        from[sp++] = TRIE_NONE;
        uint32_t n = 0;
        while (sp > 0) {
            sp--;
            uint32_t bi = stack[sp], f = from[sp];
            uint32_t ni = n++;
            t->nodes[ni] = b->nodes[bi];
            if (f != TRIE_NONE)
                t->nodes[f >> 1].child[f & 1] = ni;
            const struct tnode *bn = &b->nodes[bi];
            for (int side = 1; side >= 0; side--) {
                if (bn->child[side] != TRIE_NONE) {
                    stack[sp] = bn->child[side];
                    from[sp++] = ni << 1 | (uint32_t)side;
                }
            }
        }
        t->n = n;
        if (build_jump(t) < 0) {
            trie_free(t);
            t = NULL;
            goto out;
        }
    }
    *out = t;
    rc = 0;
out:
    trie_builder_free(b);
    return rc;
}

/* trie_lookup's walk of the nodes from where the front left it (j not settled); out of line,
 * so that the lookups the front settles (most) pay for no registers it needs. */
static __attribute__((noinline)) bool walk_nodes(const struct trie *t, struct tjump j, uint64_t ah,
                                                 uint64_t al, uint32_t *value, uint8_t *plen)
{
    const struct tnode *nodes = t->nodes;
    uint32_t best = j.best, i = j.next;
    while (i != TRIE_NONE) {
        const struct tnode *n = &nodes[i];
        unsigned len = n->len;
        if (first_diff(ah, al, n->hi, n->lo) < len)
            break;
        if (n->has_value)
            best = i;
        if (len == 128)
            break;
        i = n->child[bit_at(ah, al, len)];
    }
    if (best == TRIE_NONE)
        return false;
    if (value)
        *value = nodes[best].value;
    if (plen)
        *plen = nodes[best].len;
    return true;
}

/* The answer from where the front left the walk: a node to walk from, or settled. */
static inline bool front_answer(const struct trie *t, struct tjump j, uint64_t ah, uint64_t al,
                                uint32_t *value, uint8_t *plen)
{
    if (j.next < TRIE_SETTLED)
        return walk_nodes(t, j, ah, al, value, plen);
    if (j.next == TRIE_NONE) /* the front answers (see TRIE_SETTLED) */
        return false;
    if (value)
        *value = j.best;
    if (plen)
        *plen = (uint8_t)(j.next & 0xffu);
    return true;
}

/* trie_lookup for an address outside ::ffff:0:0/96: the first stride, then a chunk (struct
 * tchunk6; an address outside the chunk's anchor walks from the first stride's node). Out of
 * line, so that the IPv4 lookups (most) pay for no registers it needs. */
static __attribute__((noinline)) bool lookup6(const struct trie *t, uint64_t ah, uint64_t al,
                                              uint32_t *value, uint8_t *plen)
{
    struct tjump j = t->jump6[ah >> (64 - t->jbits)];
    while (j.next < TRIE_SETTLED && (j.next & TRIE_CHUNK)) {
        const struct tchunk6 *h = &t->hdr6[j.next & ~TRIE_CHUNK];
        if (first_diff(ah, al, h->hi, h->lo) < h->len) {
            j = (struct tjump){h->from, j.best};
            break;
        }
        j = t->chunk6[h->first + bits_at(ah, al, h->len, h->bits)];
    }
    return front_answer(t, j, ah, al, value, plen);
}

bool trie_lookup(const struct trie *t, const uint8_t addr[16], uint32_t *value, uint8_t *plen)
{
    if (!t || t->n == 0)
        return false;
    const uint64_t ah = load_be64(addr), al = load_be64(addr + 8);
    if (ah != 0 || (al >> 32) != 0xffff)
        return lookup6(t, ah, al, value, plen);
    uint32_t k = (uint32_t)al >> (32 - t->jbits4);
    if (!(t->occ4[k / 64] >> (k % 64) & 1))
        return false;
    struct tjump j = t->jump4[k];
    if (j.next < TRIE_SETTLED && (j.next & TRIE_CHUNK)) {
        unsigned b = (j.next >> TRIE_CHUNK_BSHIFT) & 0xfu;
        uint32_t x = ((uint32_t)al << t->jbits4) >> (32 - b); /* the b bits after jbits4 */
        j = t->chunk4[(j.next & TRIE_CHUNK_OFF) + x];
    }
    return front_answer(t, j, ah, al, value, plen);
}

static void node_prefix(const struct tnode *n, struct prefix *p)
{
    store_be64(p->addr, n->hi);
    store_be64(p->addr + 8, n->lo);
    p->len = n->len;
}

/* Visit one valued node; returns nonzero when the callback asks to stop. */
static int visit(const struct tnode *n, trie_visit_fn cb, void *arg, size_t *count)
{
    struct prefix sp;
    if (!n->has_value)
        return 0;
    (*count)++;
    if (!cb)
        return 0;
    node_prefix(n, &sp);
    return cb(arg, &sp, n->value);
}

size_t trie_overlaps(const struct trie *t, const struct prefix *p, trie_visit_fn cb, void *arg)
{
    size_t count = 0;
    if (!t || t->n == 0 || p->len > 128)
        return 0;
    uint64_t ph = load_be64(p->addr), pl = load_be64(p->addr + 8);
    unsigned plen = p->len;
    mask_key(&ph, &pl, plen);
    uint32_t i = 0, sub = TRIE_NONE;
    /* ancestors (containing p) in order of length, which is address order */
    while (i != TRIE_NONE) {
        const struct tnode *n = &t->nodes[i];
        unsigned d = first_diff(ph, pl, n->hi, n->lo);
        if (n->len <= plen) {
            if (d < n->len)
                return count;
            if (n->len == plen) {
                sub = i; /* n == p: it and its subtree */
                break;
            }
            if (visit(n, cb, arg, &count))
                return count;
            i = n->child[bit_at(ph, pl, n->len)];
        } else {
            if (d < plen)
                return count;
            sub = i; /* n lies within p */
            break;
        }
    }
    if (sub == TRIE_NONE)
        return count;
    /* pre-order walk of the subtree: address order */
    uint32_t stack[TRIE_STACK];
    int sp = 0;
    stack[sp++] = sub;
    while (sp > 0) {
        const struct tnode *n = &t->nodes[stack[--sp]];
        if (visit(n, cb, arg, &count))
            return count;
        if (n->child[1] != TRIE_NONE)
            stack[sp++] = n->child[1];
        if (n->child[0] != TRIE_NONE)
            stack[sp++] = n->child[0];
    }
    return count;
}

size_t trie_count(const struct trie *t)
{
    return t ? t->count : 0;
}

size_t trie_memory(const struct trie *t)
{
    if (!t)
        return 0;
    size_t jump =
        t->jump4 ? (((size_t)1 << t->jbits) + ((size_t)1 << t->jbits4)) * sizeof(struct tjump) : 0;
    jump += (t->nchunk4 + t->nchunk6) * sizeof(struct tjump) + t->nhdr6 * sizeof(struct tchunk6);
    jump += t->occ4 ? (((size_t)1 << t->jbits4) + 63) / 64 * sizeof(*t->occ4) : 0;
    return sizeof(*t) + (size_t)t->n * sizeof(struct tnode) + jump;
}

void trie_free(struct trie *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t->jump4);
    free(t->jump6);
    free(t->chunk4);
    free(t->hdr6);
    free(t->chunk6);
    free(t->occ4);
    free(t);
}
