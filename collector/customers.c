/* customers.c: loader and lookups of the customer map (format in customers.h). */
#include "customers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"

#define DEF_MAX_CUSTOMERS (1u << 20)
#define DEF_MAX_PREFIXES (4u << 20)
#define MAX_FIELDS 5 /* one more than allowed, to say "too many" */

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
    struct prefix *pfx;   /* grouped by customer, file order inside a group */
    uint32_t *pfx_start;  /* ncust + 1 offsets into pfx */
    size_t npfx;
    struct as_rec *as;    /* sorted by asn, unique */
    size_t nas;
    uint32_t *idtab;      /* open addressing: index1 or 0 */
    size_t idmask;
    struct trie *trie;
};

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
};

static void set_err(struct conf_error *err, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_err(struct conf_error *err, const char *file, unsigned line, const char *fmt, ...)
{
    char msg[224];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conf_error_set(err, file ? file : "(customers)", line, "%s", msg);
}

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
        return -1;
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
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Split a CSV line in place. Returns the field count or -1 with *why set. */
static int split_csv(char *line, char *fields[MAX_FIELDS], const char **why)
{
    char *r = line;
    int n = 0;

    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (n == MAX_FIELDS) {
            *why = "too many fields (expected prefix,customer_id,name[,asn])";
            return -1;
        }
        char *start = r;
        char sep;
        if (*r == '"') {
            char *w = r;
            r++;
            for (;;) {
                if (*r == '\0') {
                    *why = "unterminated quote";
                    return -1;
                }
                if (*r == '"') {
                    if (r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            *w = '\0';
            while (*r == ' ' || *r == '\t')
                r++;
            if (*r != ',' && *r != '\0') {
                *why = "text after a closing quote";
                return -1;
            }
            sep = *r;
        } else {
            while (*r != ',' && *r != '\0') {
                if (*r == '"') {
                    *why = "quote inside an unquoted field";
                    return -1;
                }
                r++;
            }
            sep = *r;
            char *e = r;
            while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *e = '\0';
        }
        fields[n++] = start;
        if (sep == '\0')
            return n;
        r++; /* past ',' */
    }
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CUSTOMER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
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

/* "64500" or "AS64500" (any case), 1..4294967295. Returns 0 or -1. */
static int parse_asn(const char *s, uint32_t *out)
{
    if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
        s += 2;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    if (v == 0)
        return -1;
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

static int parse_line(struct cparse *ps, char *line, unsigned lineno, bool *seen_data)
{
    char *f[MAX_FIELDS];
    const char *why = NULL;
    char b1[52], b2[52];
    int n = split_csv(line, f, &why);

    if (n < 0) {
        set_err(ps->err, ps->name, lineno, "%s", why);
        return -1;
    }
    if (!*seen_data) {
        *seen_data = true;
        if (strcasecmp(f[0], "prefix") == 0)
            return 0; /* header line */
    }
    if (n < 3) {
        set_err(ps->err, ps->name, lineno,
                "missing fields: expected prefix,customer_id,name[,asn]");
        return -1;
    }
    if (n > 4) {
        set_err(ps->err, ps->name, lineno,
                "too many fields (expected prefix,customer_id,name[,asn])");
        return -1;
    }
    const char *pf = f[0], *id = f[1], *nm = f[2], *asf = n > 3 ? f[3] : "";

    if (*id == '\0') {
        set_err(ps->err, ps->name, lineno, "empty customer_id");
        return -1;
    }
    if (strlen(id) > CUSTOMER_ID_MAX) {
        set_err(ps->err, ps->name, lineno, "customer_id longer than %d characters",
                CUSTOMER_ID_MAX);
        return -1;
    }
    if (!valid_id(id)) {
        set_err(ps->err, ps->name, lineno,
                "customer_id '%s' has a character outside [A-Za-z0-9._-]", show(id, b1));
        return -1;
    }
    if (*nm == '\0') {
        set_err(ps->err, ps->name, lineno, "empty name");
        return -1;
    }
    if (strlen(nm) > CUSTOMER_NAME_MAX) {
        set_err(ps->err, ps->name, lineno, "name longer than %d bytes", CUSTOMER_NAME_MAX);
        return -1;
    }
    if (!valid_name(nm)) {
        set_err(ps->err, ps->name, lineno, "name is not valid UTF-8 or has control characters");
        return -1;
    }
    uint32_t asn = 0;
    if (*asf && parse_asn(asf, &asn) < 0) {
        set_err(ps->err, ps->name, lineno, "bad asn '%s' (1..4294967295, optional AS prefix)",
                show(asf, b1));
        return -1;
    }

    /* first column: prefix or origin ASN */
    bool is_as = is_as_field(pf);
    uint32_t map_as = 0;
    struct prefix p;
    if (*pf == '\0') {
        set_err(ps->err, ps->name, lineno, "empty prefix");
        return -1;
    }
    if (is_as) {
        if (parse_asn(pf, &map_as) < 0) {
            set_err(ps->err, ps->name, lineno, "bad ASN '%s'", show(pf, b1));
            return -1;
        }
    } else {
        int r = prefix_parse(pf, false, &p);
        if (r == -2) {
            struct prefix fixed;
            char pb[ADDR_STRLEN + 8];
            if (prefix_parse(pf, true, &fixed) == 0)
                prefix_format(&fixed, pb, sizeof(pb));
            else
                pb[0] = '\0';
            set_err(ps->err, ps->name, lineno, "host bits set in prefix '%s' (network is %s)",
                    show(pf, b1), pb);
            return -1;
        }
        if (r < 0) {
            set_err(ps->err, ps->name, lineno, "invalid prefix '%s'", show(pf, b1));
            return -1;
        }
        const char *bad = prefix_sanity(&p);
        if (bad) {
            set_err(ps->err, ps->name, lineno, "%s: '%s'", bad, show(pf, b1));
            return -1;
        }
    }

    /* find or create the customer */
    uint32_t idx1 = id_find(ps->idtab, ps->idmask, ps->cust, id);
    if (idx1) {
        struct customer *c = &ps->cust[idx1 - 1];
        if (strcmp(c->name, nm) != 0) {
            set_err(ps->err, ps->name, lineno,
                    "customer '%s': name \"%s\" differs from \"%s\" on line %u", id,
                    show(nm, b1), show(c->name, b2), c->line);
            return -1;
        }
        if (asn && c->asn && asn != c->asn) {
            set_err(ps->err, ps->name, lineno,
                    "customer '%s': asn %u differs from asn %u given earlier", id, asn, c->asn);
            return -1;
        }
        if (asn)
            c->asn = asn;
    } else {
        if (ps->ncust >= ps->max_customers) {
            set_err(ps->err, ps->name, lineno, "too many customers (limit %zu)",
                    ps->max_customers);
            return -1;
        }
        if (grow((void **)&ps->cust, &ps->capcust, ps->ncust + 1, sizeof(*ps->cust)) < 0 ||
            id_reserve(ps, ps->ncust + 1) < 0) {
            set_err(ps->err, ps->name, lineno, "out of memory");
            return -1;
        }
        struct customer *c = &ps->cust[ps->ncust];
        memset(c, 0, sizeof(*c));
        memcpy(c->id, id, strlen(id) + 1);
        memcpy(c->name, nm, strlen(nm) + 1);
        c->asn = asn;
        c->index = (uint32_t)ps->ncust;
        c->line = lineno;
        ps->ncust++;
        idx1 = (uint32_t)ps->ncust;
        id_insert(ps->idtab, ps->idmask, ps->cust, idx1);
    }

    if (ps->npfx + ps->nas >= ps->max_prefixes) {
        set_err(ps->err, ps->name, lineno, "too many prefixes and AS lines (limit %zu)",
                ps->max_prefixes);
        return -1;
    }
    if (is_as) {
        if (grow((void **)&ps->as, &ps->capas, ps->nas + 1, sizeof(*ps->as)) < 0) {
            set_err(ps->err, ps->name, lineno, "out of memory");
            return -1;
        }
        ps->as[ps->nas++] = (struct as_rec){.asn = map_as, .index1 = idx1, .line = lineno};
    } else {
        if (grow((void **)&ps->pfx, &ps->cappfx, ps->npfx + 1, sizeof(*ps->pfx)) < 0) {
            set_err(ps->err, ps->name, lineno, "out of memory");
            return -1;
        }
        ps->pfx[ps->npfx++] = (struct pfx_rec){.p = p, .index1 = idx1, .line = lineno};
        ps->cust[idx1 - 1].nprefixes++;
    }
    return 0;
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
        set_err(ps->err, ps->name, bad_line,
                "prefix %s is already mapped to customer '%s' on line %u",
                prefix_format(&bad_p, pb, sizeof(pb)), ps->cust[other_idx - 1].id, other_line);
        return -1;
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
        set_err(ps->err, ps->name, bad_line, "AS%u is already mapped to customer '%s' on line %u",
                asn, ps->cust[other_idx - 1].id, other_line);
        return -1;
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
    trie_free(m->trie);
    free(m);
}

static int build_map(struct cparse *ps, struct customer_map **out)
{
    struct customer_map *m = calloc(1, sizeof(*m));
    struct trie_builder *b = NULL;
    int rc = -1;

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
    rc = -1;
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

int customers_load_mem(const char *name, const char *text, size_t len,
                       const struct customer_limits *lim, struct customer_map **out,
                       struct conf_error *err)
{
    struct cparse ps;
    char line[CUSTOMERS_MAX_LINE + 1];
    unsigned lineno = 0;
    bool seen_data = false;
    int rc = -1;

    memset(&ps, 0, sizeof(ps));
    if (out)
        *out = NULL;
    if (!out || (!text && len)) {
        set_err(err, name, 0, "invalid arguments");
        return -1;
    }
    ps.name = name ? name : "(customers)";
    ps.err = err;
    ps.max_customers = lim && lim->max_customers ? lim->max_customers : DEF_MAX_CUSTOMERS;
    ps.max_prefixes = lim && lim->max_prefixes ? lim->max_prefixes : DEF_MAX_PREFIXES;
    if (ps.max_customers >= UINT32_MAX)
        ps.max_customers = UINT32_MAX - 1;
    if (ps.max_prefixes >= UINT32_MAX)
        ps.max_prefixes = UINT32_MAX - 1;

    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* UTF-8 byte order mark from spreadsheet exports */
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + (nl ? 1 : 0);
        lineno++;
        if (lineno == 0) {
            set_err(err, ps.name, 0, "too many lines");
            goto out;
        }
        if (l > 0 && s[l - 1] == '\r')
            l--;
        if (l > CUSTOMERS_MAX_LINE) {
            set_err(err, ps.name, lineno, "line longer than %d bytes", CUSTOMERS_MAX_LINE);
            goto out;
        }
        if (memchr(s, '\0', l)) {
            set_err(err, ps.name, lineno, "NUL byte in line");
            goto out;
        }
        memcpy(line, s, l);
        line[l] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (parse_line(&ps, p, lineno, &seen_data) < 0)
            goto out;
    }
    if (dedupe_prefixes(&ps) < 0 || dedupe_as(&ps) < 0)
        goto out;
    if (build_map(&ps, out) < 0) {
        set_err(err, ps.name, 0, "out of memory building the lookup trie");
        goto out;
    }
    rc = 0;
out:
    cparse_free(&ps);
    return rc;
}

int customers_load(const char *path, const struct customer_limits *lim,
                   struct customer_map **out, struct conf_error *err)
{
    if (out)
        *out = NULL;
    if (!path) {
        set_err(err, "(customers)", 0, "no path");
        return -1;
    }
    char *buf;
    size_t len;
    if (conf_read_file(path, CUSTOMERS_MAX_FILE, &buf, &len, err) < 0)
        return -1;
    int rc = customers_load_mem(path, buf, len, lim, out, err);
    free(buf);
    return rc;
}

uint32_t customers_lookup(const struct customer_map *m, const uint8_t addr[16])
{
    uint32_t v;
    if (!m || !trie_lookup(m->trie, addr, &v, NULL))
        return 0;
    return v;
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

size_t customers_prefixes(const struct customer_map *m, uint32_t index1,
                          const struct prefix **out)
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
