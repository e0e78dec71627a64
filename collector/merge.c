/* merge.c: the pipeline's lowest room (see pipeline_int.h): what detectors and the merge see
 * of the customers, and the merge every alert goes through (pipe_raise: rule check, observer,
 * customer fields, then the alert manager's suppression and incidents). Called by the workers'
 * outbox merge, by window close and by the façade, on the dispatcher thread only. */
#include <stdlib.h>
#include <string.h>

#include "pipeline_int.h"
#include "rules.h"

/* ---- what detectors and the merge see of the customers ---- */

const char *pipe_customer_id(void *arg, uint32_t c)
{
    struct pipeline *p = arg;
    const struct customer *cu = customers_get(p->customers, c);
    return cu ? cu->id : NULL;
}

size_t pipe_customer_prefixes(void *arg, uint32_t c, const struct prefix **out)
{
    struct pipeline *p = arg;
    return customers_prefixes(p->customers, c, out);
}

size_t pipe_customer_count(void *arg)
{
    struct pipeline *p = arg;
    return customers_count(p->customers);
}

static void raise_now(struct pipeline *p, const struct alert *in, uint64_t now_ms)
{
    struct alert a = *in;
    if (!rule_find(a.rule_id))
        p->st.alerts_without_rule++;
    if (a.exporter && p->exporter_addr)
        a.has_observer = p->exporter_addr(p->exporter_arg, a.exporter, a.observer_ip);
    const struct customer *cu = customers_get(p->customers, a.customer);
    a.customer_id = cu ? cu->id : "";
    a.customer_name = cu ? cu->name : "";
    a.customer_asn = cu ? cu->asn : 0;
    if (p->s->alerts && alert_mgr_raise(p->alerts, &a, now_ms) > 0 && a.customer &&
        a.customer < p->nacc)
        p->acc[a.customer].alerts++;
}

/* ---- the window close's alerts, in one order ---- */

struct held_alert {
    struct alert a;
    uint64_t now_ms;
    size_t n;                         /* the order held: the last tie-break */
    struct alert_enrichment enrich[]; /* a.nenrich of them, then a's strings */
};

static bool hold(struct pipeline *p, const struct alert *in, uint64_t now_ms)
{
    if (p->nheld == p->held_cap) {
        size_t cap = p->held_cap ? 2 * p->held_cap : 64;
        struct held_alert **v = realloc(p->held, cap * sizeof *v);
        if (!v)
            return false;
        p->held = v;
        p->held_cap = cap;
    }
    size_t bytes = alert_copy_bytes(in), ne = in->nenrich;
    struct held_alert *h = malloc(sizeof *h + ne * sizeof *h->enrich + bytes);
    if (!h)
        return false;
    alert_copy(&h->a, h->enrich, (uint32_t)ne, (char *)(h->enrich + ne), bytes, in);
    h->now_ms = now_ms;
    h->n = p->nheld;
    p->held[p->nheld++] = h;
    return true;
}

static int str_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

#define CMP(x, y)                                                                                  \
    do {                                                                                           \
        if ((x) != (y))                                                                            \
            return (x) < (y) ? -1 : 1;                                                             \
    } while (0)

static int held_cmp(const void *x, const void *y)
{
    const struct held_alert *a = *(const struct held_alert *const *)x;
    const struct held_alert *b = *(const struct held_alert *const *)y;
    int c;
    CMP(a->a.customer, b->a.customer);
    if ((c = memcmp(a->a.host, b->a.host, 16)) != 0)
        return c;
    if ((c = str_cmp(a->a.rule_id, b->a.rule_id)) != 0)
        return c;
    if ((c = memcmp(a->a.peer, b->a.peer, 16)) != 0)
        return c;
    CMP(a->a.proto, b->a.proto);
    CMP(a->a.port, b->a.port);
    if ((c = str_cmp(a->a.evidence_json, b->a.evidence_json)) != 0)
        return c;
    CMP(a->n, b->n);
    return 0;
}

void pipe_hold_begin(struct pipeline *p)
{
    p->holding = true;
}

void pipe_hold_release(struct pipeline *p)
{
    p->holding = false;
    if (p->nheld > 1)
        qsort(p->held, p->nheld, sizeof *p->held, held_cmp);
    for (size_t i = 0; i < p->nheld; i++) {
        raise_now(p, &p->held[i]->a, p->held[i]->now_ms);
        free(p->held[i]);
    }
    p->nheld = 0;
}

void pipe_hold_free(struct pipeline *p)
{
    for (size_t i = 0; i < p->nheld; i++)
        free(p->held[i]);
    free(p->held);
    p->held = NULL;
    p->nheld = p->held_cap = 0;
}

void pipe_raise(struct pipeline *p, const struct alert *in, uint64_t now_ms)
{
    if (p->holding) {
        if (hold(p, in, now_ms))
            return;
        p->st.alerts_unsorted++;
    }
    raise_now(p, in, now_ms);
}
