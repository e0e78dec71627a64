#include "sketch.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "lines.h"

void hll_reset(struct hll *h)
{
    memset(h, 0, sizeof *h);
}

static void hll_reg_add(struct hll *h, uint32_t v)
{
    uint32_t j = v & (HLL_M - 1);
    uint32_t w = v >> HLL_P; /* 32 - HLL_P bits */
    uint8_t rank = 1;
    while (rank <= 32 - HLL_P && !(w & 1u)) {
        rank++;
        w >>= 1;
    }
    if (rank > h->u.reg[j])
        h->u.reg[j] = rank;
}

bool hll_add(struct hll *h, uint64_t hash)
{
    uint32_t v = hll_value(hash);
    if (!h->dense) {
        for (unsigned i = 0; i < h->n; i++)
            if (h->u.set[i] == v)
                return false;
        if (h->n < HLL_EXACT) {
            h->u.set[h->n++] = v;
            return true;
        }
        uint32_t old[HLL_EXACT];
        memcpy(old, h->u.set, sizeof old);
        memset(h->u.reg, 0, sizeof h->u.reg);
        h->dense = 1;
        for (unsigned i = 0; i < HLL_EXACT; i++)
            hll_reg_add(h, old[i]);
    }
    uint32_t j = v & (HLL_M - 1);
    uint8_t before = h->u.reg[j];
    hll_reg_add(h, v);
    return h->u.reg[j] != before;
}

uint32_t hll_count(const struct hll *h)
{
    if (!h->dense)
        return h->n;
    double sum = 0;
    unsigned zeros = 0;
    for (unsigned j = 0; j < HLL_M; j++) {
        sum += ldexp(1.0, -(int)h->u.reg[j]);
        zeros += h->u.reg[j] == 0;
    }
    double m = HLL_M, alpha = 0.7213 / (1.0 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros);
    if (e < HLL_EXACT) /* it held more than that when it went dense */
        e = HLL_EXACT;
    return (uint32_t)(e + 0.5);
}

void hll_merge(struct hll *dst, const struct hll *src)
{
    if (!src->dense) {
        for (unsigned i = 0; i < src->n; i++)
            hll_add(dst, src->u.set[i]); /* a 32-bit value: hll_add folds it back to itself */
        return;
    }
    if (!dst->dense) {
        struct hll d = *src;
        for (unsigned i = 0; i < dst->n; i++)
            hll_reg_add(&d, dst->u.set[i]);
        *dst = d;
        return;
    }
    for (unsigned j = 0; j < HLL_M; j++)
        if (src->u.reg[j] > dst->u.reg[j])
            dst->u.reg[j] = src->u.reg[j];
}

int cms_init(struct cms *s, uint32_t width, uint32_t depth)
{
    s->width = width ? width : 1;
    s->depth = depth ? depth : 1;
    s->c = calloc_table((size_t)s->width * s->depth, sizeof *s->c);
    return s->c ? 0 : -ENOMEM;
}

void cms_fini(struct cms *s)
{
    free(s->c);
    s->c = NULL;
}

void cms_clear(struct cms *s)
{
    memset(s->c, 0, (size_t)s->width * s->depth * sizeof *s->c);
}

static size_t cms_slot(const struct cms *s, uint64_t hash, uint32_t row)
{
    uint32_t h1 = (uint32_t)hash, h2 = (uint32_t)(hash >> 32) | 1u;
    return (size_t)row * s->width + (h1 + row * h2) % s->width;
}

uint32_t cms_get(const struct cms *s, uint64_t hash)
{
    uint32_t m = UINT16_MAX;
    for (uint32_t r = 0; r < s->depth; r++) {
        uint16_t v = s->c[cms_slot(s, hash, r)];
        if (v < m)
            m = v;
    }
    return m;
}

uint32_t cms_add(struct cms *s, uint64_t hash)
{
    uint32_t m = cms_get(s, hash);
    if (m >= UINT16_MAX)
        return m;
    for (uint32_t r = 0; r < s->depth; r++) { /* conservative: raise only the minima */
        uint16_t *c = &s->c[cms_slot(s, hash, r)];
        if (*c == m)
            (*c)++;
    }
    return m + 1;
}

/* ---- gfilter --------------------------------------------------------------------------- */

int gfilter_init(struct gfilter *g, size_t bytes)
{
    memset(g, 0, sizeof *g);
    g->nwords = bytes / 16 ? bytes / 16 : 1;
    g->w = calloc_table(g->nwords, 2 * sizeof(uint64_t));
    return g->w ? 0 : -ENOMEM;
}

void gfilter_fini(struct gfilter *g)
{
    free(g->w);
    g->w = NULL;
}

void gfilter_age(struct gfilter *g)
{
    g->cur ^= 1; /* the previous generation's words become the current one's, emptied */
    for (size_t i = 0; i < g->nwords; i++)
        if (g->w[2 * i + g->cur]) /* a page never written stays untouched */
            g->w[2 * i + g->cur] = 0;
    g->set_bits[1] = g->set_bits[0];
    g->set_bits[0] = 0;
}

void gfilter_clear(struct gfilter *g)
{
    memset(g->w, 0, g->nwords * 2 * sizeof(uint64_t));
    g->set_bits[0] = g->set_bits[1] = 0;
}

double gfilter_fill(const struct gfilter *g)
{
    return (double)g->set_bits[0] / ((double)g->nwords * 64.0);
}

/* The list parsers' first step: value copied into buf (cap bytes) and split at commas into at
 * most max trimmed items. Returns their count, or -E2BIG ("WHAT list too long") or -ENOSPC
 * ("at most MAX WHATS") with msg. */
static int split_list(const char *value, char *buf, size_t cap, char **items, int max,
                      const char *what, const char *whats, char *msg, size_t msglen)
{
    if (strlen(value) >= cap) {
        snprintf(msg, msglen, "%s list too long", what);
        return -E2BIG;
    }
    snprintf(buf, cap, "%s", value);
    int n = conf_split(buf, ',', items, (size_t)max);
    if (n < 0)
        snprintf(msg, msglen, "at most %d %s", max, whats);
    return n;
}

int pfxlist_parse(void *field, const char *value, char *msg, size_t msglen)
{
    struct pfxlist *l = field;
    char buf[2048], *items[PFXLIST_MAX + 1];
    int n =
        split_list(value, buf, sizeof buf, items, PFXLIST_MAX, "prefix", "prefixes", msg, msglen);
    if (n < 0)
        return n;
    memset(l, 0, sizeof *l);
    for (int i = 0; i < n; i++) {
        if (prefix_parse(items[i], false, &l->p[i]) < 0) {
            snprintf(msg, msglen, "bad prefix '%s'", items[i]);
            return -EINVAL;
        }
    }
    l->n = (uint32_t)n;
    return 0;
}

bool pfxlist_match_any(const struct pfxlist *l, const uint8_t a[16])
{
    for (uint32_t i = 0; i < l->n && i < PFXLIST_MAX; i++)
        if (prefix_contains(&l->p[i], a))
            return true;
    return false;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int portlist_parse(void *field, const char *value, char *msg, size_t msglen)
{
    struct portlist *l = field;
    char buf[512], *items[PORTLIST_MAX + 1];
    int n = split_list(value, buf, sizeof buf, items, PORTLIST_MAX, "port", "ports", msg, msglen);
    if (n < 0)
        return n;
    uint32_t r[PORTLIST_MAX]; /* first << 16 | last: sorted by the first port */
    for (int i = 0; i < n; i++) {
        char *end, *dash = strchr(items[i], '-');
        unsigned long a = strtoul(items[i], &end, 10), b = a;
        if (dash && end == dash && end != items[i])
            b = strtoul(dash + 1, &end, 10);
        if (end == items[i] || *end || a == 0 || a > 65535 || b < a || b > 65535 ||
            (dash && end == dash + 1)) {
            snprintf(msg, msglen, "bad port or range '%s'", items[i]);
            return -EINVAL;
        }
        r[i] = (uint32_t)a << 16 | (uint32_t)b;
    }
    qsort(r, (size_t)n, sizeof r[0], cmp_u32);
    memset(l, 0, sizeof *l);
    uint32_t k = 0;
    for (int i = 0; i < n; i++) { /* "22, 22", "10-20, 15-30" and "10-20, 21" are one range */
        uint16_t a = (uint16_t)(r[i] >> 16), b = (uint16_t)r[i];
        if (k && a <= (uint32_t)l->hi[k - 1] + 1) {
            if (b > l->hi[k - 1])
                l->hi[k - 1] = b;
        } else {
            l->p[k] = a;
            l->hi[k++] = b;
        }
    }
    l->n = k;
    for (uint32_t i = 0; i < k; i++)
        for (uint32_t q = l->p[i]; q <= l->hi[i] && q < l->p[i] + 1024u; q++)
            l->low[(q >> 6) & 15] |= 1ULL << (q & 63);
    return 0;
}

bool portlist_find(const struct portlist *l, uint16_t port)
{
    size_t lo = 0, hi = l->n < PORTLIST_MAX ? l->n : PORTLIST_MAX;
    while (lo < hi) { /* the last range starting at or before port */
        size_t mid = (lo + hi) / 2;
        if (l->p[mid] <= port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && port <= l->hi[lo - 1];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_sorted(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void robust_stats(double *v, double *tmp, size_t n, double min_iqr, struct robust *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_double);
    out->median = median_sorted(v, n);
    /* quartiles: medians of the lower and upper halves, the middle element excluded */
    size_t half = n / 2;
    out->q1 = n >= 2 ? median_sorted(v, half) : v[0];
    out->q3 = n >= 2 ? median_sorted(v + (n - half), half) : v[0];
    for (size_t i = 0; i < n; i++)
        tmp[i] = fabs(v[i] - out->median);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    out->mad = median_sorted(tmp, n);
    double iqr = out->q3 - out->q1;
    if (iqr >= min_iqr && iqr > 0 && out->median != out->q1 && out->median != out->q3)
        out->skew = (out->q1 + out->q3 - 2.0 * out->median) / iqr;
}

uint64_t sk_hash_addr(const struct hash_key *k, const uint8_t a[16])
{
    return hash_bytes_inline(k, a, 16);
}

uint64_t sk_hash_net(const struct hash_key *k, const uint8_t a[16])
{
    uint8_t n[16];
    memcpy(n, a, 16);
    if (addr_is_v4(a))
        n[15] = 0;
    else
        memset(n + 6, 0, 10);
    return hash_bytes_inline(k, n, 16);
}
