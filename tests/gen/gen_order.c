#include "gen_order.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int by_end(const void *x, const void *y)
{
    const struct gen_flow *a = x, *b = y;
    if (a->end_ms != b->end_ms)
        return a->end_ms < b->end_ms ? -1 : 1;
    int c = memcmp(a->src, b->src, 16);
    if (c)
        return c;
    c = memcmp(a->dst, b->dst, 16);
    if (c)
        return c;
    if (a->sport != b->sport)
        return a->sport < b->sport ? -1 : 1;
    if (a->dport != b->dport)
        return a->dport < b->dport ? -1 : 1;
    return a->start_ms < b->start_ms ? -1 : a->start_ms > b->start_ms;
}

int gen_order_init(struct gen_order *o, size_t cap)
{
    o->f = calloc(cap ? cap : 1, sizeof *o->f);
    o->n = 0;
    o->cap = cap;
    return o->f ? 0 : -ENOMEM;
}

void gen_order_free(struct gen_order *o)
{
    free(o->f);
    o->f = NULL;
    o->n = o->cap = 0;
}

int gen_order_push(struct gen_order *o, const struct gen_flow *f, size_t n, uint64_t before_ms,
                   gen_flow_fn emit, void *arg)
{
    if (o->n + n > o->cap)
        return -E2BIG;
    memcpy(o->f + o->n, f, n * sizeof *f);
    o->n += n;
    qsort(o->f, o->n, sizeof *o->f, by_end);
    size_t k = 0;
    int rc = 0;
    while (k < o->n && o->f[k].end_ms < before_ms) {
        if ((rc = emit(arg, &o->f[k])) != 0)
            break;
        k++;
    }
    memmove(o->f, o->f + k, (o->n - k) * sizeof *o->f);
    o->n -= k;
    return rc;
}

int gen_order_finish(struct gen_order *o, gen_flow_fn emit, void *arg)
{
    int rc = 0;
    for (size_t k = 0; k < o->n && rc == 0; k++)
        rc = emit(arg, &o->f[k]);
    o->n = 0;
    return rc;
}
