/* merge.c: the pipeline's lowest room (see pipeline_int.h): what detectors and the merge see
 * of the customers, and the merge every alert goes through (pipe_raise: rule check, observer,
 * customer fields, then the alert manager's suppression and incidents). Called by the workers'
 * outbox merge, by window close and by the façade, on the dispatcher thread only. */
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

void pipe_raise(struct pipeline *p, const struct alert *in, uint64_t now_ms)
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
