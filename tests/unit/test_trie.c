/* test_trie.c: longest-prefix match, checked by hand-made cases and against a brute-force linear
 * LPM over a few thousand random IPv4 and IPv6 prefixes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "trie.h"

static struct prefix pfx(const char *s)
{
    struct prefix p;
    int rc = prefix_parse(s, false, &p);
    assert_int_equal(rc, 0);
    return p;
}

static void add_ok(struct trie_builder *b, const char *s, uint32_t v)
{
    struct prefix p = pfx(s);
    assert_int_equal(trie_builder_add(b, &p, v), 0);
}

/* Lookup s; expect value v and user-visible length ulen, or no match when v == UINT32_MAX. */
static void expect(const struct trie *t, const char *s, uint32_t v, int plen)
{
    uint8_t a[16];
    uint32_t got = 0xdeadbeef;
    uint8_t glen = 0;
    assert_int_equal(addr_parse(s, a), 0);
    bool hit = trie_lookup(t, a, &got, &glen);
    if (v == UINT32_MAX) {
        assert_false(hit);
        return;
    }
    assert_true(hit);
    assert_int_equal(got, v);
    assert_int_equal(glen, plen);
}

static void test_empty(void **state)
{
    (void)state;
    struct trie_builder *b;
    struct trie *t;
    uint8_t a[16];
    uint32_t v;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    assert_int_equal(trie_build(b, &t), 0);
    assert_non_null(t);
    assert_int_equal(addr_parse("10.0.0.1", a), 0);
    assert_false(trie_lookup(t, a, &v, NULL));
    assert_false(trie_lookup(NULL, a, &v, NULL));
    assert_int_equal(trie_count(t), 0);
    assert_int_equal(trie_count(NULL), 0);
    struct prefix all = pfx("::/0");
    assert_int_equal(trie_overlaps(t, &all, NULL, NULL), 0);
    assert_int_equal(trie_overlaps(NULL, &all, NULL, NULL), 0);
    assert_true(trie_memory(t) > 0);
    trie_free(t);
    trie_free(NULL);
    trie_builder_free(NULL);
}

static void test_basic(void **state)
{
    (void)state;
    struct trie_builder *b;
    struct trie *t;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    add_ok(b, "10.0.0.0/8", 1);
    add_ok(b, "10.1.0.0/16", 2);
    add_ok(b, "10.1.2.0/24", 3);
    add_ok(b, "10.1.2.3/32", 0); /* value 0 is a value like any other */
    add_ok(b, "192.0.2.0/25", 5);
    add_ok(b, "192.0.2.128/25", 6);
    add_ok(b, "2001:db8::/32", 7);
    add_ok(b, "2001:db8:1::/48", 8);
    add_ok(b, "2001:db8:1::1/128", 9);
    assert_int_equal(trie_build(b, &t), 0);
    assert_int_equal(trie_count(t), 9);

    expect(t, "10.200.0.1", 1, 96 + 8);
    expect(t, "10.1.9.9", 2, 96 + 16);
    expect(t, "10.1.2.4", 3, 96 + 24);
    expect(t, "10.1.2.3", 0, 128);
    expect(t, "11.0.0.0", UINT32_MAX, 0);
    expect(t, "9.255.255.255", UINT32_MAX, 0);
    expect(t, "192.0.2.0", 5, 96 + 25);
    expect(t, "192.0.2.127", 5, 96 + 25);
    expect(t, "192.0.2.128", 6, 96 + 25);
    expect(t, "192.0.2.255", 6, 96 + 25);
    expect(t, "192.0.3.0", UINT32_MAX, 0);
    expect(t, "2001:db8::1", 7, 32);
    expect(t, "2001:db8:1::2", 8, 48);
    expect(t, "2001:db8:1::1", 9, 128);
    expect(t, "2001:db9::", UINT32_MAX, 0);
    expect(t, "::ffff:10.1.2.3", 0, 128);  /* the same address written as IPv6 */
    expect(t, "::a01:203", UINT32_MAX, 0); /* IPv4-compatible form is not IPv4 */

    /* value and plen pointers are optional */
    uint8_t a[16];
    addr_parse("10.1.2.4", a);
    assert_true(trie_lookup(t, a, NULL, NULL));
    trie_free(t);
}

static void test_default_routes(void **state)
{
    (void)state;
    struct trie_builder *b;
    struct trie *t;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    add_ok(b, "0.0.0.0/0", 1); /* ::ffff:0:0/96 */
    add_ok(b, "::/0", 2);
    add_ok(b, "10.0.0.0/8", 3);
    assert_int_equal(trie_build(b, &t), 0);
    expect(t, "1.2.3.4", 1, 96);
    expect(t, "10.9.9.9", 3, 104);
    expect(t, "2001:db8::1", 2, 0);
    expect(t, "::", 2, 0);
    expect(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2, 0);
    trie_free(t);

    /* only ::/0: everything matches, IPv4 included */
    assert_int_equal(trie_builder_new(&b, 0), 0);
    add_ok(b, "::/0", 42);
    assert_int_equal(trie_build(b, &t), 0);
    expect(t, "1.2.3.4", 42, 0);
    expect(t, "fe80::1", 42, 0);
    trie_free(t);
}

static void test_duplicates_and_limits(void **state)
{
    (void)state;
    struct trie_builder *b;
    struct trie *t;
    struct prefix p;
    assert_int_equal(trie_builder_new(&b, 3), 0);
    add_ok(b, "10.0.0.0/8", 1);
    p = pfx("10.0.0.0/8");
    assert_int_equal(trie_builder_add(b, &p, 99), -EEXIST);
    add_ok(b, "10.0.0.0/9", 2); /* same address, other length: not a duplicate */
    add_ok(b, "2001:db8::/32", 3);
    p = pfx("172.16.0.0/12");
    assert_int_equal(trie_builder_add(b, &p, 4), -ENOSPC);
    p = pfx("2001:db8::/32");
    assert_int_equal(trie_builder_add(b, &p, 4), -EEXIST); /* duplicate wins over full */
    /* a branch-only node (no value) is not a duplicate */
    assert_int_equal(trie_build(b, &t), 0);
    assert_int_equal(trie_count(t), 3);
    expect(t, "10.1.0.0", 2, 105);
    expect(t, "10.128.0.0", 1, 104);
    trie_free(t);

    /* a prefix equal to an internal branch node gets the value */
    assert_int_equal(trie_builder_new(&b, 0), 0);
    add_ok(b, "10.0.0.0/24", 1);
    add_ok(b, "10.0.1.0/24", 2); /* creates a branch at 10.0.0.0/23 */
    add_ok(b, "10.0.0.0/23", 3);
    p = pfx("10.0.0.0/23");
    assert_int_equal(trie_builder_add(b, &p, 4), -EEXIST);
    assert_int_equal(trie_build(b, &t), 0);
    expect(t, "10.0.0.1", 1, 120);
    expect(t, "10.0.1.1", 2, 120);
    trie_free(t);

    /* a builder freed without building */
    assert_int_equal(trie_builder_new(&b, 0), 0);
    add_ok(b, "10.0.0.0/8", 1);
    trie_builder_free(b);
}

struct collect {
    struct prefix p[64];
    uint32_t v[64];
    size_t n, stop_after;
};

static int collect_cb(void *arg, const struct prefix *stored, uint32_t value)
{
    struct collect *c = arg;
    if (c->n < 64) {
        c->p[c->n] = *stored;
        c->v[c->n] = value;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void test_overlaps(void **state)
{
    (void)state;
    struct trie_builder *b;
    struct trie *t;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    add_ok(b, "10.0.0.0/8", 1);
    add_ok(b, "10.1.0.0/16", 2);
    add_ok(b, "10.1.2.0/24", 3);
    add_ok(b, "10.2.0.0/16", 4);
    add_ok(b, "10.64.0.0/10", 5);
    add_ok(b, "11.0.0.0/8", 6);
    add_ok(b, "2001:db8::/32", 7);
    assert_int_equal(trie_build(b, &t), 0);

    struct collect c = {0};
    struct prefix q = pfx("10.0.0.0/12");
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 4);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.v[0], 1);
    assert_int_equal(c.v[1], 2);
    assert_int_equal(c.v[2], 3);
    assert_int_equal(c.v[3], 4);
    char buf[64];
    assert_string_equal(prefix_format(&c.p[2], buf, sizeof buf), "10.1.2.0/24");

    memset(&c, 0, sizeof c);
    q = pfx("10.1.0.0/16"); /* itself, its parent, its child */
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 3);
    assert_int_equal(c.v[0], 1);
    assert_int_equal(c.v[1], 2);
    assert_int_equal(c.v[2], 3);

    memset(&c, 0, sizeof c);
    q = pfx("10.1.2.128/25"); /* only containing prefixes */
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 3);
    assert_int_equal(c.v[2], 3);

    memset(&c, 0, sizeof c);
    q = pfx("12.0.0.0/8");
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 0);

    memset(&c, 0, sizeof c);
    q = pfx("0.0.0.0/0"); /* all IPv4 */
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 6);
    assert_int_equal(c.v[5], 6);

    memset(&c, 0, sizeof c);
    q = pfx("::/0"); /* everything, IPv6 2001:db8:: after ::ffff:... in address order */
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 7);
    assert_int_equal(c.v[0], 1);
    assert_int_equal(c.v[6], 7);

    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    q = pfx("10.0.0.0/8");
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 2);
    assert_int_equal(c.n, 2);

    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    q = pfx("10.1.2.0/24"); /* stop inside the ancestor walk */
    assert_int_equal(trie_overlaps(t, &q, collect_cb, &c), 1);
    trie_free(t);
}

/* ---- randomised comparison with a linear LPM ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure repeats */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void clear_host(uint8_t a[16], unsigned len)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned lo = i * 8;
        if (len >= lo + 8)
            continue;
        a[i] &= len <= lo ? 0 : (uint8_t)(0xff << (8 - (len - lo)));
    }
}

/* Prefixes clustered so they nest and share paths: a few /16 and /32 "regions". */
static void random_prefix(struct prefix *p)
{
    uint64_t r = rnd(), r2 = rnd();
    memset(p->addr, 0, 16);
    if (r & 1) {
        uint32_t v4 = (uint32_t)r2;
        if ((r >> 1) & 1)
            v4 = (v4 & 0x00ffffff) | (uint32_t)((10 + ((r >> 2) & 3)) << 24); /* nest a lot */
        addr_from_v4(p->addr, v4);
        static const unsigned lens[] = {0, 8, 12, 16, 19, 20, 22, 23, 24, 24, 24, 28, 30, 32};
        p->len = (uint8_t)(96 + lens[(r >> 8) % (sizeof lens / sizeof lens[0])]);
        if (((r >> 16) & 7) == 0)
            p->len = (uint8_t)(96 + (r >> 20) % 33);
    } else {
        p->addr[0] = 0x20;
        p->addr[1] = 0x01;
        p->addr[2] = 0x0d;
        p->addr[3] = (uint8_t)(0xb8 + ((r >> 1) & 3));
        memcpy(p->addr + 4, &r2, 8);
        uint64_t r3 = rnd();
        memcpy(p->addr + 12, &r3, 4);
        if (((r >> 3) & 15) == 0)
            p->addr[0] = (uint8_t)(r >> 24); /* some elsewhere in the space */
        static const unsigned lens[] = {0,  16, 29, 32, 36, 40,  44, 48,
                                        48, 52, 56, 60, 64, 127, 128};
        p->len = (uint8_t)lens[(r >> 8) % (sizeof lens / sizeof lens[0])];
        if (((r >> 16) & 7) == 0)
            p->len = (uint8_t)((r >> 20) % 129);
    }
    clear_host(p->addr, p->len);
}

struct ref {
    struct prefix p;
    uint32_t v;
};

static bool ref_lookup(const struct ref *r, size_t n, const uint8_t a[16], uint32_t *v, uint8_t *l)
{
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if (prefix_contains(&r[i].p, a) && (best < 0 || r[i].p.len > r[best].p.len))
            best = (int)i;
    if (best < 0)
        return false;
    *v = r[best].v;
    *l = r[best].p.len;
    return true;
}

/* Lookup a in t and in the linear reference: the same answer (asserted); true when a match. */
static bool same_as_ref(const struct trie *t, const struct ref *ref, size_t n, const uint8_t a[16])
{
    uint32_t ev = 0, gv = 0;
    uint8_t el = 0, gl = 0;
    bool e = ref_lookup(ref, n, a, &ev, &el);
    assert_int_equal(trie_lookup(t, a, &gv, &gl), e);
    if (e) {
        assert_int_equal(gv, ev);
        assert_int_equal(gl, el);
    }
    return e;
}

static bool prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
    return a->len <= b->len ? prefix_contains(a, b->addr) : prefix_contains(b, a->addr);
}

static int ref_cmp(const void *x, const void *y)
{
    const struct ref *a = x, *b = y;
    int c = memcmp(a->p.addr, b->p.addr, 16);
    if (c)
        return c;
    return (int)a->p.len - (int)b->p.len;
}

struct rcollect {
    struct ref out[4096];
    size_t n;
};

static int rcollect_cb(void *arg, const struct prefix *stored, uint32_t value)
{
    struct rcollect *c = arg;
    if (c->n < 4096) {
        c->out[c->n].p = *stored;
        c->out[c->n].v = value;
    }
    c->n++;
    return 0;
}

static void test_random_vs_linear(void **state)
{
    (void)state;
    enum { NPFX = 3000, NLOOK = 30000, NOVL = 300 };
    struct ref *ref = calloc(NPFX, sizeof(*ref));
    struct rcollect *rc = calloc(1, sizeof(*rc));
    assert_non_null(ref);
    assert_non_null(rc);
    size_t n = 0;
    struct trie_builder *b;
    struct trie *t;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    int dups = 0;
    for (int i = 0; i < NPFX; i++) {
        struct prefix p;
        random_prefix(&p);
        uint32_t v = (uint32_t)i;
        int r = trie_builder_add(b, &p, v);
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            if (ref[k].p.len == p.len && memcmp(ref[k].p.addr, p.addr, 16) == 0)
                seen = true;
        if (seen) {
            assert_int_equal(r, -EEXIST);
            dups++;
        } else {
            assert_int_equal(r, 0);
            ref[n].p = p;
            ref[n].v = v;
            n++;
        }
    }
    assert_true(dups > 0); /* the generator makes some: the duplicate path is exercised */
    assert_int_equal(trie_build(b, &t), 0);
    assert_int_equal(trie_count(t), n);

    int hits = 0;
    for (int i = 0; i < NLOOK; i++) {
        uint8_t a[16];
        uint64_t r = rnd();
        if (r & 1) {
            /* inside a stored prefix, random host bits */
            const struct prefix *p = &ref[(r >> 1) % n].p;
            uint64_t h1 = rnd(), h2 = rnd();
            memcpy(a, &h1, 8);
            memcpy(a + 8, &h2, 8);
            for (unsigned bit = 0; bit < p->len; bit++) {
                uint8_t m = (uint8_t)(0x80 >> (bit % 8));
                a[bit / 8] = (uint8_t)((a[bit / 8] & ~m) | (p->addr[bit / 8] & m));
            }
        } else if (r & 2) {
            addr_from_v4(a, (uint32_t)(r >> 32));
        } else {
            uint64_t h1 = rnd(), h2 = rnd();
            memcpy(a, &h1, 8);
            memcpy(a + 8, &h2, 8);
            if (r & 4) {
                a[0] = 0x20;
                a[1] = 0x01;
                a[2] = 0x0d;
                a[3] = (uint8_t)(0xb8 + ((r >> 3) & 3));
            }
        }
        hits += same_as_ref(t, ref, n, a);
    }
    assert_true(hits > NLOOK / 3);

    /* overlaps: same set, same (address) order as a sorted linear scan */
    struct ref *sorted = calloc(n, sizeof(*sorted));
    assert_non_null(sorted);
    memcpy(sorted, ref, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), ref_cmp);
    for (int i = 0; i < NOVL; i++) {
        struct prefix q;
        if (i % 3 == 0)
            q = ref[rnd() % n].p;
        else
            random_prefix(&q);
        rc->n = 0;
        size_t got = trie_overlaps(t, &q, rcollect_cb, rc);
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (!prefix_overlaps(&sorted[j].p, &q))
                continue;
            assert_true(k < got);
            assert_int_equal(rc->out[k].p.len, sorted[j].p.len);
            assert_memory_equal(rc->out[k].p.addr, sorted[j].p.addr, 16);
            assert_int_equal(rc->out[k].v, sorted[j].v);
            k++;
        }
        assert_int_equal(k, got);
    }
    free(sorted);
    trie_free(t);
    free(ref);
    free(rc);
}

/* All 129 lengths of one address: a deep single path, across the first-stride jump. */
static void deep_chain_one(const char *addr)
{
    struct trie_builder *b;
    struct trie *t;
    uint8_t a[16], x[16];
    uint32_t v;
    uint8_t l;
    assert_int_equal(addr_parse(addr, a), 0);
    assert_int_equal(trie_builder_new(&b, 0), 0);
    for (unsigned len = 0; len <= 128; len++) {
        struct prefix p;
        memcpy(p.addr, a, 16);
        clear_host(p.addr, len);
        p.len = (uint8_t)len;
        assert_int_equal(trie_builder_add(b, &p, len), 0);
    }
    assert_int_equal(trie_build(b, &t), 0);
    assert_true(trie_lookup(t, a, &v, &l));
    assert_int_equal(v, 128);
    for (unsigned len = 0; len < 128; len++) {
        /* flip the bit right after len: the match is exactly len */
        memcpy(x, a, 16);
        x[len / 8] ^= (uint8_t)(0x80 >> (len % 8));
        assert_true(trie_lookup(t, x, &v, &l));
        assert_int_equal(v, len);
        assert_int_equal(l, len);
    }
    struct prefix all = {.len = 0};
    assert_int_equal(trie_overlaps(t, &all, NULL, NULL), 129);
    trie_free(t);
}

static void test_deep_chain(void **state)
{
    (void)state;
    deep_chain_one("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    deep_chain_one("10.1.2.3");
    deep_chain_one("::1");
    deep_chain_one("255.255.255.255");
}

/* The IPv4 second stride (bits jbits4 .. 24, core/trie.c): a customer-map-like set (nested
 * /12../32 in one /8, every chunk built) and a spread one (random /20../30 over the whole space:
 * more chunks wanted than the budget holds, so some entries walk the nodes), and one of /20s and /21s
 * only (chunks of the bits each entry's prefixes need), each against the linear reference for addresses in, next to and outside the prefixes. */
static void stride_case(bool spread, size_t npfx, bool short_only)
{
    struct ref *ref = calloc(npfx, sizeof(*ref));
    assert_non_null(ref);
    struct trie_builder *b;
    struct trie *t;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    size_t n = 0;
    static const unsigned lens[8] = {12, 16, 20, 22, 24, 24, 28, 32};
    for (size_t i = 0; i < npfx; i++) {
        uint64_t r = rnd();
        unsigned len = short_only ? 20 + (r % 64 == 0) : spread ? 20 + r % 11 : lens[r % 8];
        struct prefix p = {.len = (uint8_t)(96 + len)};
        uint32_t a = spread ? (uint32_t)(r >> 32) : 0x0A000000u | ((uint32_t)(r >> 32) & 0xffffffu);
        addr_from_v4(p.addr, a);
        clear_host(p.addr, p.len);
        if (trie_builder_add(b, &p, (uint32_t)i) == 0)
            ref[n++] = (struct ref){p, (uint32_t)i};
    }
    assert_int_equal(trie_build(b, &t), 0);
    size_t hits = 0;
    for (size_t i = 0; i < 40000; i++) {
        uint64_t r = rnd();
        uint8_t a[16];
        uint32_t x = (uint32_t)(r >> 32);
        if (r & 1) {
            memcpy(a, ref[(r >> 1) % n].p.addr, 16);
            x = ((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15]) ^
                ((uint32_t)(r >> 8) & 0x3ff);
        } else if (!spread) {
            x = 0x0A000000u | (x & 0xffffffu);
        }
        addr_from_v4(a, x);
        hits += same_as_ref(t, ref, n, a);
    }
    assert_true(hits > 5000);
    trie_free(t);
    free(ref);
}

static void test_v4_second_stride(void **state)
{
    (void)state;
    stride_case(false, 4000, false);
    stride_case(true, 3000, false); /* 3000 prefixes: jbits4 14, 2700-odd chunks wanted, 256 fit */
    /* /20s and a few /21s clustered in 10/8 (jbits4 14): chunks of 6 bits (only /20s under the
     * entry) and of 7, as deep as each entry's prefixes go */
    stride_case(false, 3000, true);
}

/* 4096 /48s: clustered (2001:db8:0::/48 .. 2001:db8:fff::/48, one first-stride entry over all of
 * them) or spread (one per value of the top 12 bits, each settled by its first-stride entry).
 * Both are full binary tries of 4096 leaves and four more nodes: the same nodes, the same first
 * stride. */
static struct trie *v6_set(bool clustered, struct ref *ref, size_t *n)
{
    struct trie_builder *b;
    struct trie *t;
    assert_int_equal(trie_builder_new(&b, 0), 0);
    *n = 0;
    for (uint32_t i = 0; i < 4096; i++) {
        struct prefix p = {.len = 48};
        if (clustered) {
            const uint8_t a[6] = {0x20, 0x01, 0x0d, 0xb8, (uint8_t)(i >> 8), (uint8_t)i};
            memcpy(p.addr, a, 6);
        } else {
            p.addr[0] = (uint8_t)(i >> 4);
            p.addr[1] = (uint8_t)(i << 4);
        }
        assert_int_equal(trie_builder_add(b, &p, i), 0);
        ref[(*n)++] = (struct ref){p, i};
    }
    /* four more, four nodes: around and under the cluster (the walk's best before and after
     * it; the /20 a branch over the /24 and the cluster's /36, so that the first chunk, of bits
     * 20..31, leaves the cluster to a chunk under it), or one under each of four spread /48s */
    static const char *const more[2][4] = {
        {"100:0:0:1::/64", "200:0:0:1::/64", "300:0:0:1::/64", "400:0:0:1::/64"},
        {"2001::/16", "2001::/20", "2001:100::/24", "2001:db8:123:4500::/56"}};
    for (size_t i = 0; i < 4; i++) {
        struct prefix p = pfx(more[clustered][i]);
        assert_int_equal(trie_builder_add(b, &p, 5000 + (uint32_t)i), 0);
        ref[(*n)++] = (struct ref){p, 5000 + (uint32_t)i};
    }
    assert_int_equal(trie_build(b, &t), 0);
    return t;
}

/* The IPv6 second stride (core/trie.c struct tchunk6): a provider's /48s under its /32 are one
 * first-stride entry; a chunk of 12 bits from the /20 branch above them, and a chunk of 12 bits
 * under its entry for the cluster's /36, settle each (their memory is what tells they were
 * built: without them the two sets' tries are the same size), and lookups in, next to, under,
 * around and outside the cluster match the linear reference. */
static void test_v6_second_stride(void **state)
{
    (void)state;
    struct ref *ref = calloc(4100, sizeof(*ref));
    assert_non_null(ref);
    size_t n, ns;
    struct trie *spread = v6_set(false, ref, &ns);
    size_t spread_mem = trie_memory(spread);
    trie_free(spread);
    struct trie *t = v6_set(true, ref, &n);
    assert_int_equal(ns, n);
    assert_true(trie_memory(t) >= spread_mem + 2 * 4096 * 8);
    expect(t, "2001:db8:abc:1::1", 0xabc, 48);
    expect(t, "2001:db8:123:45ff::9", 5003, 56);
    expect(t, "2001:db9::1", 5001, 20);      /* the first chunk's entry settles it */
    expect(t, "2001:db8:1000::1", 5001, 20); /* outside the second chunk's /36 */
    expect(t, "2001:100:1::1", 5002, 24);
    expect(t, "2001:1000::1", 5000, 16); /* outside the first chunk's /20 */
    expect(t, "2002::1", UINT32_MAX, -1);
    size_t hits = 0;
    for (size_t i = 0; i < 40000; i++) {
        uint64_t r = rnd(), r2 = rnd();
        uint8_t a[16];
        memcpy(a, ref[r % n].p.addr, 16);
        memcpy(a + 8, &r2, 8);
        if (r & 0x100) /* a few bits of the prefix flipped: next to it */
            a[2 + (r >> 9) % 6] ^= (uint8_t)(1u << ((r >> 12) % 8));
        hits += same_as_ref(t, ref, n, a);
    }
    assert_true(hits > 30000);
    trie_free(t);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_default_routes),
        cmocka_unit_test(test_duplicates_and_limits),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_random_vs_linear),
        cmocka_unit_test(test_deep_chain),
        cmocka_unit_test(test_v4_second_stride),
        cmocka_unit_test(test_v6_second_stride),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
