/* customers.c: loader and lookups of the customer map (format in customers.h). Lines and CSV
 * fields through the text toolkit (core/textfield.h). */
#include "customers.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "textfield.h"

#define DEF_MAX_CUSTOMERS (1u << 20)
#define DEF_MAX_PREFIXES (4u << 20)
#define MAX_FIELDS 6 /* one more than allowed, to say "too many" */

struct pfx_rec {
    struct prefix p;
    uint32_t index1;
    uint32_t line;
};

struct as_rec {
    uint32_t asn;
    uint32_t index1;
    uint32_t line;
};

struct customer_map {
    struct customer *cust;
    size_t ncust;
    struct prefix *pfx;  /* grouped by customer, file order inside a group */
    uint32_t *pfx_start; /* ncust + 1 offsets into pfx */
    size_t npfx;
    struct as_rec *as; /* sorted by asn, unique */
    size_t nas;
    uint32_t *idtab; /* open addressing: index1 or 0 */
    size_t idmask;
    struct trie *trie;
    uint32_t *v4; /* the IPv4 front (v4front_build): v4n entries */
    size_t v4n;
    char *abuse; /* the abuse contacts, NUL-terminated, at struct customer.abuse offsets */
};

/* The IPv4 front: customers_lookup's answer for an IPv4(-mapped) address from at most two table
 * reads (DIR-16-8), the trie's longest-prefix answer precomputed at load (and so at reload: a
 * reload loads a new map). v4[0 .. 65535] is one entry per /16; an entry is the answer for
 * every address under it (index + 1 of the longest prefix covering it, 0 = none), or
 * V4F_CHUNK | k: the /16 holds longer prefixes, its 256 /24s' entries are v4[k .. k + 255]
 * (answers, or V4F_TRIE: a prefix longer than /24 lies under that /24), or V4F_TRIE (past the
 * chunk budget): the trie answers. Memory: 256 KiB + 1 KiB per /16 holding a prefix longer than
 * /16, at most V4F_CHUNKS_MAX of them (4 MiB), exact size (v4front_build). */
#define V4F_CHUNK 0x80000000u
#define V4F_TRIE 0xffffffffu
#define V4F_CHUNKS_MAX 4096u

/* Parser state (one load). */
struct cparse {
    const char *name;
    struct conf_error *err;
    size_t max_customers, max_prefixes;
    struct customer *cust;
    size_t ncust, capcust;
    uint32_t *idtab;
    size_t idmask;
    struct pfx_rec *pfx;
    size_t npfx, cappfx;
    struct as_rec *as;
    size_t nas, capas;
    char *abuse; /* pool of abuse contacts; offset 0 is "" (none) */
    size_t nabuse, capabuse;
};

/* Copy s for an error message: at most 48 bytes, non-printable bytes as '?'. */
static const char *show(const char *s, char buf[52])
{
    size_t i = 0;
    for (; s[i] && i < 48; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        buf[i++] = '.';
        buf[i++] = '.';
    }
    buf[i] = '\0';
    return buf;
}

/* The id index: open addressing over the customer array, at most half full, grown with the
 * array while the file loads and immutable after. Not core/table.h's bounded tables: its size
 * follows the file (max_customers is a refusal limit, not memory reserved up front). */
static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a; ids come from the operator's own file */
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ull;
    return hash_mix64(h);
}

static uint32_t id_find(const uint32_t *tab, size_t mask, const struct customer *cust,
                        const char *id)
{
    if (!tab)
        return 0;
    for (size_t i = id_hash(id) & mask, n = 0; n <= mask; i = (i + 1) & mask, n++) {
        uint32_t v = tab[i];
        if (v == 0)
            return 0;
        if (strcmp(cust[v - 1].id, id) == 0)
            return v;
    }
    return 0;
}

static void id_insert(uint32_t *tab, size_t mask, const struct customer *cust, uint32_t index1)
{
    size_t i = id_hash(cust[index1 - 1].id) & mask;
    while (tab[i] != 0)
        i = (i + 1) & mask;
    tab[i] = index1;
}

/* Keep the table at most half full. */
static int id_reserve(struct cparse *ps, size_t want)
{
    size_t cap = ps->idtab ? ps->idmask + 1 : 0;
    if (want * 2 <= cap)
        return 0;
    size_t ncap = cap ? cap * 2 : 64;
    while (ncap < want * 2)
        ncap *= 2;
    uint32_t *t = calloc(ncap, sizeof(*t));
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < ps->ncust; i++)
        id_insert(t, ncap - 1, ps->cust, (uint32_t)(i + 1));
    free(ps->idtab);
    ps->idtab = t;
    ps->idmask = ncap - 1;
    return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Valid UTF-8 without control characters (names end up in JSON alerts and logs). */
static bool valid_name(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    while (*p) {
        uint8_t c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            p++;
            continue;
        }
        int extra;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
            return false;
        p += extra + 1;
    }
    return true;
}

/* "64500" or "AS64500" (any case), 1..4294967295. Returns 0 or -EINVAL. */
static int parse_asn(const char *s, uint32_t *out)
{
    if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
        s += 2;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
        return -EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return -EINVAL;
    }
    if (v == 0)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static bool is_as_field(const char *s)
{
    return (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's') && s[2] >= '0' &&
           s[2] <= '9';
}

/* A customer owning more than a /8 (IPv4) or /16 (IPv6), or IPv6 space that covers the
 * IPv4-mapped range, is a typo that would mark most of the Internet as inside. */
static const char *prefix_sanity(const struct prefix *p)
{
    static const uint8_t mapped0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    if (p->len >= 96 && addr_is_v4(p->addr))
        return p->len < 96 + 8 ? "prefix wider than /8" : NULL;
    if (p->len < 16)
        return "prefix wider than /16";
    if (p->len < 96 && prefix_contains(p, mapped0))
        return "IPv6 prefix covers the IPv4-mapped range";
    return NULL;
}

/* customer_id, name and asn of a line: valid, or -EINVAL with the error set. */
static int check_fields(struct cparse *ps, unsigned lineno, const char *id, const char *nm,
                        const char *asf, uint32_t *asn)
{
    char b1[52];
    struct conf_error *err = ps->err;
    *asn = 0;
    if (*id == '\0')
        conf_error_set(err, ps->name, lineno, "empty customer_id");
    else if (strlen(id) > CUSTOMER_ID_MAX)
        conf_error_set(err, ps->name, lineno, "customer_id longer than %d characters",
                       CUSTOMER_ID_MAX);
    else if (!tf_name_ok(id, CUSTOMER_ID_MAX))
        conf_error_set(err, ps->name, lineno,
                       "customer_id '%s' has a character outside [A-Za-z0-9._-]", show(id, b1));
    else if (*nm == '\0')
        conf_error_set(err, ps->name, lineno, "empty name");
    else if (strlen(nm) > CUSTOMER_NAME_MAX)
        conf_error_set(err, ps->name, lineno, "name longer than %d bytes", CUSTOMER_NAME_MAX);
    else if (!valid_name(nm))
        conf_error_set(err, ps->name, lineno, "name is not valid UTF-8 or has control characters");
    else if (*asf && parse_asn(asf, asn) < 0)
        conf_error_set(err, ps->name, lineno, "bad asn '%s' (1..4294967295, optional AS prefix)",
                       show(asf, b1));
    else
        return 0;
    return -EINVAL;
}

/* The first column: an origin ASN line ("AS64500": *map_as set) or a prefix (*p set). */
static int parse_key(struct cparse *ps, unsigned lineno, const char *pf, uint32_t *map_as,
                     struct prefix *p)
{
    char b1[52];
    *map_as = 0;
    if (*pf == '\0') {
        conf_error_set(ps->err, ps->name, lineno, "empty prefix");
        return -EINVAL;
    }
    if (is_as_field(pf)) {
        if (parse_asn(pf, map_as) < 0) {
            conf_error_set(ps->err, ps->name, lineno, "bad ASN '%s'", show(pf, b1));
            return -EINVAL;
        }
        return 0;
    }
    int r = prefix_parse(pf, false, p);
    if (r == -EDOM) {
        struct prefix fixed;
        char pb[ADDR_STRLEN + 8];
        if (prefix_parse(pf, true, &fixed) == 0)
            prefix_format(&fixed, pb, sizeof(pb));
        else
            pb[0] = '\0';
        conf_error_set(ps->err, ps->name, lineno, "host bits set in prefix '%s' (network is %s)",
                       show(pf, b1), pb);
        return -EINVAL;
    }
    if (r < 0) {
        conf_error_set(ps->err, ps->name, lineno, "invalid prefix '%s'", show(pf, b1));
        return -EINVAL;
    }
    const char *bad = prefix_sanity(p);
    if (bad) {
        conf_error_set(ps->err, ps->name, lineno, "%s: '%s'", bad, show(pf, b1));
        return -EINVAL;
    }
    return 0;
}

/* The customer named by the line, found (its name and asn must agree) or made: *idx1 = its
 * index + 1, or a negative errno with the error set. */
static int customer_of(struct cparse *ps, unsigned lineno, const char *id, const char *nm,
                       uint32_t asn, uint32_t *idx1)
{
    char b1[52], b2[52];
    *idx1 = id_find(ps->idtab, ps->idmask, ps->cust, id);
    if (*idx1) {
        struct customer *c = &ps->cust[*idx1 - 1];
        if (strcmp(c->name, nm) != 0) {
            conf_error_set(ps->err, ps->name, lineno,
                           "customer '%s': name \"%s\" differs from \"%s\" on line %u", id,
                           show(nm, b1), show(c->name, b2), c->line);
            return -EINVAL;
        }
        if (asn && c->asn && asn != c->asn) {
            conf_error_set(ps->err, ps->name, lineno,
                           "customer '%s': asn %u differs from asn %u given earlier", id, asn,
                           c->asn);
            return -EINVAL;
        }
        if (asn)
            c->asn = asn;
        return 0;
    }
    if (ps->ncust >= ps->max_customers) {
        conf_error_set(ps->err, ps->name, lineno, "too many customers (limit %zu)",
                       ps->max_customers);
        return -ENOSPC;
    }
    if (grow((void **)&ps->cust, &ps->capcust, ps->ncust + 1, sizeof(*ps->cust)) < 0 ||
        id_reserve(ps, ps->ncust + 1) < 0) {
        conf_error_set(ps->err, ps->name, lineno, "out of memory");
        return -ENOMEM;
    }
    struct customer *c = &ps->cust[ps->ncust];
    memset(c, 0, sizeof(*c));
    memcpy(c->id, id, strlen(id) + 1);
    memcpy(c->name, nm, strlen(nm) + 1);
    c->asn = asn;
    c->index = (uint32_t)ps->ncust;
    c->line = lineno;
    ps->ncust++;
    *idx1 = (uint32_t)ps->ncust;
    id_insert(ps->idtab, ps->idmask, ps->cust, *idx1);
    return 0;
}

/* Record the line's mapping: an origin ASN (map_as) or prefix p to customer idx1. */
static int add_mapping(struct cparse *ps, unsigned lineno, uint32_t idx1, uint32_t map_as,
                       const struct prefix *p)
{
    if (ps->npfx + ps->nas >= ps->max_prefixes) {
        conf_error_set(ps->err, ps->name, lineno, "too many prefixes and AS lines (limit %zu)",
                       ps->max_prefixes);
        return -ENOSPC;
    }
    int rc = map_as ? grow((void **)&ps->as, &ps->capas, ps->nas + 1, sizeof(*ps->as))
                    : grow((void **)&ps->pfx, &ps->cappfx, ps->npfx + 1, sizeof(*ps->pfx));
    if (rc < 0) {
        conf_error_set(ps->err, ps->name, lineno, "out of memory");
        return rc;
    }
    if (map_as) {
        ps->as[ps->nas++] = (struct as_rec){.asn = map_as, .index1 = idx1, .line = lineno};
    } else {
        ps->pfx[ps->npfx++] = (struct pfx_rec){.p = *p, .index1 = idx1, .line = lineno};
        ps->cust[idx1 - 1].nprefixes++;
    }
    return 0;
}

/* The abuse column of a line: kept in the pool; every line naming one must agree. */
static int set_abuse(struct cparse *ps, unsigned lineno, uint32_t idx1, const char *v)
{
    char b1[52], b2[52];
    struct customer *c = &ps->cust[idx1 - 1];
    size_t n = strlen(v);
    if (n > CUSTOMER_ABUSE_MAX || !valid_name(v)) {
        conf_error_set(ps->err, ps->name, lineno,
                       "abuse contact '%s': at most %d bytes of UTF-8 without control characters",
                       show(v, b1), CUSTOMER_ABUSE_MAX);
        return -EINVAL;
    }
    if (c->abuse) {
        if (strcmp(ps->abuse + c->abuse, v) == 0)
            return 0;
        conf_error_set(ps->err, ps->name, lineno,
                       "customer '%s': abuse contact \"%s\" differs from \"%s\" given earlier",
                       c->id, show(v, b1), show(ps->abuse + c->abuse, b2));
        return -EINVAL;
    }
    size_t at = ps->nabuse ? ps->nabuse : 1; /* offset 0: none */
    if (at + n + 1 > UINT32_MAX || grow((void **)&ps->abuse, &ps->capabuse, at + n + 1, 1) < 0) {
        conf_error_set(ps->err, ps->name, lineno, "out of memory");
        return -ENOMEM;
    }
    ps->abuse[0] = 0;
    memcpy(ps->abuse + at, v, n + 1);
    ps->nabuse = at + n + 1;
    c->abuse = (uint32_t)at;
    return 0;
}

static int parse_line(struct cparse *ps, char *line, unsigned lineno, bool *seen_data)
{
    char *f[MAX_FIELDS];
    const char *why = NULL;
    int n = tf_csv_split(line, f, MAX_FIELDS, &why);
    if (n == -E2BIG)
        why = "too many fields (expected prefix,customer_id,name[,asn])";
    if (n < 0) {
        conf_error_set(ps->err, ps->name, lineno, "%s", why);
        return n;
    }
    if (!*seen_data) {
        *seen_data = true;
        if (strcasecmp(f[0], "prefix") == 0)
            return 0; /* header line */
    }
    if (n < 3 || n > 5) {
        conf_error_set(ps->err, ps->name, lineno,
                       n < 3 ? "missing fields: expected prefix,customer_id,name[,asn[,abuse]]"
                             : "too many fields (expected prefix,customer_id,name[,asn[,abuse]])");
        return -EINVAL;
    }
    uint32_t asn, map_as, idx1;
    struct prefix p;
    int rc = check_fields(ps, lineno, f[1], f[2], n > 3 ? f[3] : "", &asn);
    if (rc == 0)
        rc = parse_key(ps, lineno, f[0], &map_as, &p);
    if (rc == 0)
        rc = customer_of(ps, lineno, f[1], f[2], asn, &idx1);
    if (rc == 0 && n > 4 && f[4][0])
        rc = set_abuse(ps, lineno, idx1, f[4]);
    return rc < 0 ? rc : add_mapping(ps, lineno, idx1, map_as, &p);
}

static int cmp_pfx_addr(const void *a, const void *b)
{
    const struct pfx_rec *x = a, *y = b;
    int c = memcmp(x->p.addr, y->p.addr, 16);
    if (c)
        return c;
    if (x->p.len != y->p.len)
        return x->p.len < y->p.len ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_pfx_cust(const void *a, const void *b)
{
    const struct pfx_rec *x = a, *y = b;
    if (x->index1 != y->index1)
        return x->index1 < y->index1 ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_as(const void *a, const void *b)
{
    const struct as_rec *x = a, *y = b;
    if (x->asn != y->asn)
        return x->asn < y->asn ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Drop repeats of the same prefix for the same customer; a prefix given to two customers is an
 * error, reported at the earliest line where that happens. */
static int dedupe_prefixes(struct cparse *ps)
{
    if (ps->npfx == 0)
        return 0;
    qsort(ps->pfx, ps->npfx, sizeof(*ps->pfx), cmp_pfx_addr);
    uint32_t bad_line = 0, other_line = 0, other_idx = 0;
    struct prefix bad_p = {{0}, 0};
    size_t w = 0;
    for (size_t i = 0; i < ps->npfx; i++) {
        const struct pfx_rec *prev = w > 0 ? &ps->pfx[w - 1] : NULL;
        const struct pfx_rec *cur = &ps->pfx[i];
        if (prev && prev->p.len == cur->p.len && memcmp(prev->p.addr, cur->p.addr, 16) == 0) {
            if (prev->index1 != cur->index1) {
                if (bad_line == 0 || cur->line < bad_line) {
                    bad_line = cur->line;
                    other_line = prev->line;
                    other_idx = prev->index1;
                    bad_p = cur->p;
                }
            } else {
                ps->cust[cur->index1 - 1].nprefixes--;
            }
            continue;
        }
        ps->pfx[w++] = *cur;
    }
    if (bad_line) {
        char pb[ADDR_STRLEN + 8];
        conf_error_set(
            ps->err, ps->name, bad_line, "prefix %s is already mapped to customer '%s' on line %u",
            prefix_format(&bad_p, pb, sizeof(pb)), ps->cust[other_idx - 1].id, other_line);
        return -EINVAL;
    }
    ps->npfx = w;
    return 0;
}

static int dedupe_as(struct cparse *ps)
{
    if (ps->nas == 0)
        return 0;
    qsort(ps->as, ps->nas, sizeof(*ps->as), cmp_as);
    uint32_t bad_line = 0, other_line = 0, asn = 0, other_idx = 0;
    size_t w = 0;
    for (size_t i = 0; i < ps->nas; i++) {
        if (w > 0 && ps->as[w - 1].asn == ps->as[i].asn) {
            if (ps->as[w - 1].index1 != ps->as[i].index1 &&
                (bad_line == 0 || ps->as[i].line < bad_line)) {
                bad_line = ps->as[i].line;
                other_line = ps->as[w - 1].line;
                other_idx = ps->as[w - 1].index1;
                asn = ps->as[i].asn;
            }
            continue;
        }
        ps->as[w++] = ps->as[i];
    }
    if (bad_line) {
        conf_error_set(ps->err, ps->name, bad_line,
                       "AS%u is already mapped to customer '%s' on line %u", asn,
                       ps->cust[other_idx - 1].id, other_line);
        return -EINVAL;
    }
    ps->nas = w;
    return 0;
}

static void cparse_free(struct cparse *ps)
{
    free(ps->cust);
    free(ps->idtab);
    free(ps->pfx);
    free(ps->as);
    free(ps->abuse);
}

void customers_free(struct customer_map *m)
{
    if (!m)
        return;
    free(m->cust);
    free(m->pfx);
    free(m->pfx_start);
    free(m->as);
    free(m->idtab);
    free(m->abuse);
    free(m->v4);
    trie_free(m->trie);
    free(m);
}

/* The part of the IPv4 space (::ffff:0:0/96) prefix p covers: its first address (host order) and
 * length there (0..32); false when p covers none of it. */
static bool v4_part(const struct prefix *p, uint32_t *base, unsigned *len)
{
    static const uint8_t mapped0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    if (p->len <= 96) {
        *base = 0;
        *len = 0;
        return prefix_contains(p, mapped0);
    }
    if (!addr_is_v4(p->addr))
        return false;
    *base = (uint32_t)p->addr[12] << 24 | (uint32_t)p->addr[13] << 16 | (uint32_t)p->addr[14] << 8 |
            p->addr[15];
    *len = p->len - 96u;
    return true;
}

/* /16 entry i's chunk, made on first need from its answer so far; V4F_TRIE when past the
 * budget (the /16 then takes the trie). */
static uint32_t v4front_chunk(struct customer_map *m, uint32_t i, size_t *used)
{
    uint32_t e = m->v4[i];
    if (e == V4F_TRIE || (e & V4F_CHUNK))
        return e;
    if (65536 + *used + 256 > m->v4n)
        return m->v4[i] = V4F_TRIE;
    uint32_t k = (uint32_t)(65536 + *used);
    for (size_t x = 0; x < 256; x++)
        m->v4[k + x] = e;
    *used += 256;
    return m->v4[i] = V4F_CHUNK | k;
}

/* One prefix's answer painted over the entries it covers (prefixes in order of length, so the
 * longest covering prefix is the last painted: the trie's longest match). */
static void v4front_paint(struct customer_map *m, uint32_t base, unsigned len, uint32_t value,
                          size_t *used)
{
    if (len <= 16) {
        for (size_t i = base >> 16, n = (size_t)1 << (16 - len); n; n--, i++)
            m->v4[i] = value;
        return;
    }
    uint32_t e = v4front_chunk(m, base >> 16, used);
    if (e == V4F_TRIE)
        return;
    uint32_t *c = &m->v4[e & ~V4F_CHUNK];
    if (len > 24) {
        c[base >> 8 & 0xff] = V4F_TRIE;
        return;
    }
    for (size_t i = base >> 8 & 0xff, n = (size_t)1 << (24 - len); n; n--, i++)
        c[i] = value;
}

/* The IPv4 front (struct customer_map) from the deduplicated prefixes (the trie's). */
static int v4front_build(struct customer_map *m, const struct pfx_rec *pfx, size_t npfx,
                         size_t ncust)
{
    if (ncust >= V4F_CHUNK) { /* an index + 1 would read as a chunk: the trie answers all */
        m->v4n = 65536;
        if (!(m->v4 = malloc(m->v4n * sizeof(*m->v4))))
            return -ENOMEM;
        for (size_t i = 0; i < m->v4n; i++)
            m->v4[i] = V4F_TRIE;
        return 0;
    }
    uint64_t need[65536 / 64] = {0}; /* the /16s holding a prefix longer than /16 */
    size_t nchunks = 0, nlen[33] = {0};
    for (size_t i = 0; i < npfx; i++) {
        uint32_t base;
        unsigned len;
        if (!v4_part(&pfx[i].p, &base, &len))
            continue;
        nlen[len]++;
        uint32_t x = base >> 16;
        if (len > 16 && !(need[x / 64] >> (x % 64) & 1)) {
            need[x / 64] |= 1ull << (x % 64);
            nchunks++;
        }
    }
    nchunks = nchunks < V4F_CHUNKS_MAX ? nchunks : V4F_CHUNKS_MAX;
    size_t at[34] = {0}, nv4 = 0; /* the IPv4 prefixes by length (a counting sort) */
    for (unsigned len = 0; len <= 32; len++) {
        at[len] = nv4;
        nv4 += nlen[len];
    }
    uint32_t *order = malloc((nv4 ? nv4 : 1) * sizeof(*order));
    m->v4n = 65536 + nchunks * 256;
    m->v4 = calloc(m->v4n, sizeof(*m->v4));
    if (!order || !m->v4) {
        free(order);
        return -ENOMEM;
    }
    for (size_t i = 0; i < npfx; i++) {
        uint32_t base;
        unsigned len;
        if (v4_part(&pfx[i].p, &base, &len))
            order[at[len]++] = (uint32_t)i;
    }
    size_t used = 0;
    for (size_t k = 0; k < nv4; k++) {
        uint32_t base;
        unsigned len;
        (void)v4_part(&pfx[order[k]].p, &base, &len);
        v4front_paint(m, base, len, pfx[order[k]].index1, &used);
    }
    free(order);
    return 0;
}

static int build_map(struct cparse *ps, struct customer_map **out)
{
    struct customer_map *m = calloc(1, sizeof(*m));
    struct trie_builder *b = NULL;
    int rc = -ENOMEM;

    if (!m)
        goto out;
    m->pfx_start = calloc(ps->ncust + 1, sizeof(*m->pfx_start));
    if (ps->npfx)
        m->pfx = malloc(ps->npfx * sizeof(*m->pfx));
    if (!m->pfx_start || (ps->npfx && !m->pfx))
        goto out;
    if (trie_builder_new(&b, ps->npfx ? ps->npfx : 1) < 0) {
        b = NULL;
        goto out;
    }
    for (size_t i = 0; i < ps->npfx; i++) {
        int r = trie_builder_add(b, &ps->pfx[i].p, ps->pfx[i].index1);
        if (r < 0 && r != -EEXIST)
            goto out;
    }
    rc = trie_build(b, &m->trie);
    b = NULL;
    if (rc < 0) {
        m->trie = NULL;
        goto out;
    }
    if ((rc = v4front_build(m, ps->pfx, ps->npfx, ps->ncust)) < 0)
        goto out;
    /* per-customer prefix lists in file order */
    if (ps->npfx)
        qsort(ps->pfx, ps->npfx, sizeof(*ps->pfx), cmp_pfx_cust);
    for (size_t i = 0, c = 0; c < ps->ncust; c++) {
        m->pfx_start[c] = (uint32_t)i;
        while (i < ps->npfx && ps->pfx[i].index1 == c + 1) {
            m->pfx[i] = ps->pfx[i].p;
            i++;
        }
    }
    m->pfx_start[ps->ncust] = (uint32_t)ps->npfx;
    m->npfx = ps->npfx;
    /* take the rest */
    m->cust = ps->cust;
    m->ncust = ps->ncust;
    m->idtab = ps->idtab;
    m->idmask = ps->idmask;
    m->as = ps->as;
    m->nas = ps->nas;
    m->abuse = ps->abuse;
    ps->abuse = NULL;
    ps->cust = NULL;
    ps->idtab = NULL;
    ps->as = NULL;
    ps->ncust = ps->nas = 0;
    *out = m;
    m = NULL;
    rc = 0;
out:
    if (b)
        trie_builder_free(b);
    customers_free(m);
    return rc;
}

/* Parser state for one load, with the limits applied. */
static void cparse_init(struct cparse *ps, const char *name, const struct customer_limits *lim,
                        struct conf_error *err)
{
    memset(ps, 0, sizeof(*ps));
    ps->name = name ? name : "(customers)";
    ps->err = err;
    ps->max_customers = lim && lim->max_customers ? lim->max_customers : DEF_MAX_CUSTOMERS;
    ps->max_prefixes = lim && lim->max_prefixes ? lim->max_prefixes : DEF_MAX_PREFIXES;
    if (ps->max_customers >= UINT32_MAX)
        ps->max_customers = UINT32_MAX - 1;
    if (ps->max_prefixes >= UINT32_MAX)
        ps->max_prefixes = UINT32_MAX - 1;
}

int customers_load_mem(const char *name, const char *text, size_t len,
                       const struct customer_limits *lim, struct customer_map **out,
                       struct conf_error *err)
{
    struct cparse ps;
    char line[CUSTOMERS_MAX_LINE + 1];
    bool seen_data = false;
    int rc = 0;

    if (out)
        *out = NULL;
    if (!out || (!text && len)) {
        conf_error_set(err, name ? name : "(customers)", 0, "invalid arguments");
        return -EINVAL;
    }
    cparse_init(&ps, name, lim, err);
    struct tf_lines it;
    const char *s;
    size_t l;
    tf_lines_init(&it, text, len); /* a UTF-8 byte order mark from spreadsheet exports skipped */
    while (rc == 0 && tf_lines_next(&it, &s, &l)) {
        if (it.lineno == 0) {
            conf_error_set(err, ps.name, 0, "too many lines");
            rc = -EFBIG;
            break;
        }
        if (l > 0 && s[l - 1] == '\r')
            l--;
        if (l > CUSTOMERS_MAX_LINE) {
            conf_error_set(err, ps.name, it.lineno, "line longer than %d bytes",
                           CUSTOMERS_MAX_LINE);
            rc = -EINVAL;
        } else if (memchr(s, '\0', l)) {
            conf_error_set(err, ps.name, it.lineno, "NUL byte in line");
            rc = -EINVAL;
        } else {
            memcpy(line, s, l);
            line[l] = '\0';
            char *p = line + strspn(line, " \t");
            if (*p != '\0' && *p != '#')
                rc = parse_line(&ps, p, it.lineno, &seen_data);
        }
    }
    if (rc == 0)
        rc = dedupe_prefixes(&ps);
    if (rc == 0)
        rc = dedupe_as(&ps);
    if (rc == 0 && (rc = build_map(&ps, out)) < 0)
        conf_error_set(err, ps.name, 0, "out of memory building the lookup trie");
    cparse_free(&ps);
    return rc;
}

int customers_load(const char *path, const struct customer_limits *lim, struct customer_map **out,
                   struct conf_error *err)
{
    if (out)
        *out = NULL;
    if (!path) {
        conf_error_set(err, "(customers)", 0, "no path");
        return -EINVAL;
    }
    char *buf;
    size_t len;
    int rc = conf_read_file(path, CUSTOMERS_MAX_FILE, &buf, &len, err);
    if (rc < 0)
        return rc;
    rc = customers_load_mem(path, buf, len, lim, out, err);
    free(buf);
    return rc;
}

/* customers_lookup's IPv4 answer from the front: index + 1, 0, or V4F_TRIE. */
static inline uint32_t v4front_lookup(const uint32_t *v4, const uint8_t addr[16])
{
    uint32_t a;
    memcpy(&a, addr + 12, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    a = __builtin_bswap32(a);
#endif
    uint32_t e = v4[a >> 16];
    if (e < V4F_CHUNK || e == V4F_TRIE)
        return e;
    return v4[(e & ~V4F_CHUNK) + (a >> 8 & 0xff)];
}

uint32_t customers_lookup(const struct customer_map *m, const uint8_t addr[16])
{
    if (!m)
        return 0;
    if (addr_is_v4(addr)) {
        uint32_t e = v4front_lookup(m->v4, addr);
        if (e != V4F_TRIE)
            return e;
    }
    uint32_t v;
    return trie_lookup(m->trie, addr, &v, NULL) ? v : 0;
}

const char *customers_abuse(const struct customer_map *m, const struct customer *c)
{
    return m && c && c->abuse && m->abuse ? m->abuse + c->abuse : "";
}

uint32_t customers_lookup_as(const struct customer_map *m, uint32_t asn)
{
    if (!m || asn == 0)
        return 0;
    size_t lo = 0, hi = m->nas;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->as[mid].asn == asn)
            return m->as[mid].index1;
        if (m->as[mid].asn < asn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

const struct customer *customers_get(const struct customer_map *m, uint32_t index1)
{
    if (!m || index1 == 0 || index1 > m->ncust)
        return NULL;
    return &m->cust[index1 - 1];
}

const struct customer *customers_find_id(const struct customer_map *m, const char *id)
{
    if (!m || !id)
        return NULL;
    return customers_get(m, id_find(m->idtab, m->idmask, m->cust, id));
}

size_t customers_count(const struct customer_map *m)
{
    return m ? m->ncust : 0;
}

size_t customers_prefix_count(const struct customer_map *m)
{
    return m ? m->npfx : 0;
}

size_t customers_as_count(const struct customer_map *m)
{
    return m ? m->nas : 0;
}

const struct trie *customers_trie(const struct customer_map *m)
{
    return m ? m->trie : NULL;
}

size_t customers_prefixes(const struct customer_map *m, uint32_t index1, const struct prefix **out)
{
    if (out)
        *out = NULL;
    if (!m || index1 == 0 || index1 > m->ncust)
        return 0;
    size_t a = m->pfx_start[index1 - 1], b = m->pfx_start[index1];
    if (out && b > a)
        *out = &m->pfx[a];
    return b - a;
}
