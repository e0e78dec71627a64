#include "hostility.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alert_json.h"
#include "json.h"
#include "table.h"

#define HC(f) offsetof(struct hostility_conf, f)
const struct conf_key hostility_conf_keys[] = {
    {"min_active", CONF_U32, HC(min_active), 0, 1, 1e9, "10",
     "active hosts a customer needs in a window before its hostile share is judged", NULL},
    {"min_hosts", CONF_U32, HC(min_hosts), 0, 1, 1e9, "3",
     "hostile hosts needed, as well as the share, for the share rule", NULL},
    {"share", CONF_DOUBLE, HC(share), 0, 0, 1, "0.05",
     "share of active hosts that are hostile that raises customer.hostile_share", NULL},
    {"count", CONF_U32, HC(count), 0, 1, 1e9, "50",
     "hostile hosts that raise it whatever the share", NULL},
    {"host_weight", CONF_DOUBLE, HC(host_weight), 0, 0.01, 10, "0.6",
     "a host is hostile when, over its alert categories, the weightiest alert of each "
     "(severity weight x score) sums to this: one confident high-severity alert, or two "
     "medium ones of different kinds",
     NULL},
    {"weight_low", CONF_DOUBLE, HC(weight_low), 0, 0, 10, "0.2", "weight of a low-severity alert",
     NULL},
    {"weight_medium", CONF_DOUBLE, HC(weight_medium), 0, 0, 10, "0.5",
     "weight of a medium-severity alert", NULL},
    {"weight_high", CONF_DOUBLE, HC(weight_high), 0, 0, 10, "1", "weight of a high-severity alert",
     NULL},
    {"weight_critical", CONF_DOUBLE, HC(weight_critical), 0, 0, 10, "1",
     "weight of a critical alert (e.g. a listed C2 on its listed port)", NULL},
    {"max_customers", CONF_U64, HC(max_customers), 0, 1, 16777216, "65536",
     "customers whose trend is kept; more are refused and counted", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* A customer's trend; the id (zero-padded) is the table's key. */
struct hentry {
    char id[64];
    uint32_t active[HOSTILITY_TREND], hostile[HOSTILITY_TREND];
    uint8_t head, n;
};

struct hostility {
    struct hostility_conf c;
    struct ktab tab; /* customers by id, max_customers of them; more are refused (counted) */
};

uint8_t hostility_alert_weight(const struct hostility_conf *c, const struct alert *a)
{
    double sw = a->severity == SEV_CRITICAL ? c->weight_critical
                : a->severity == SEV_HIGH   ? c->weight_high
                : a->severity == SEV_MEDIUM ? c->weight_medium
                                            : c->weight_low;
    double w = sw * (a->score < 0 ? 0 : a->score > 1 ? 1 : a->score) * 100.0 + 0.5;
    return (uint8_t)(w > 255 ? 255 : w);
}

uint32_t hostility_host_weight(const uint8_t w[CAT_COUNT])
{
    uint32_t sum = 0;
    for (int k = 0; k < CAT_COUNT; k++)
        if (k != CAT_CUSTOMER)
            sum += w[k];
    return sum;
}

bool hostility_host_hostile(const struct hostility_conf *c, const uint8_t w[CAT_COUNT])
{
    return hostility_host_weight(w) >= (uint32_t)(c->host_weight * 100.0 + 0.5);
}

int hostility_new(const struct hostility_conf *c, struct hostility **out)
{
    struct hostility *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    if (c)
        h->c = *c;
    else if (conf_defaults(hostility_conf_keys, &h->c) < 0) {
        free(h);
        return -EINVAL;
    }
    int rc = ktab_init(&h->tab, h->c.max_customers, sizeof(struct hentry),
                       sizeof(((struct hentry *)0)->id), 0x686f7374696c6974ULL);
    if (rc < 0) {
        free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void hostility_free(struct hostility *h)
{
    if (!h)
        return;
    ktab_fini(&h->tab);
    free(h);
}

/* The trend of customer id (at most 63 characters count), found or made; NULL when the table
 * is full (refused, counted). */
static struct hentry *lookup(struct hostility *h, const char *id)
{
    char key[sizeof(((struct hentry *)0)->id)] = {0};
    memcpy(key, id, strnlen(id, sizeof key - 1));
    bool inserted;
    return ktab_get(&h->tab, key, &inserted);
}

int hostility_window(struct hostility *h, uint32_t customer, const struct summary *s,
                     struct alert *a, char *ev, size_t evlen)
{
    if (!h || !s->customer_id)
        return 0;
    struct hentry *e = lookup(h, s->customer_id);
    if (!e)
        return 0;
    uint32_t act = s->active_hosts > UINT32_MAX ? UINT32_MAX : (uint32_t)s->active_hosts;
    uint32_t hos = s->hostile_hosts > UINT32_MAX ? UINT32_MAX : (uint32_t)s->hostile_hosts;
    e->active[e->head] = act;
    e->hostile[e->head] = hos;
    e->head = (uint8_t)((e->head + 1) % HOSTILITY_TREND);
    if (e->n < HOSTILITY_TREND)
        e->n++;
    const struct hostility_conf *c = &h->c;
    /* Two views of the same rule: this window, and the last 24 hours (distinct hosts seen and
     * hostile within a day of the window's end). Bad hosts spread over a day stay below the
     * share in every window, yet condemn the customer over the day, as Intercage's did. */
    double share = act ? (double)hos / act : 0;
    uint64_t dact = s->active_hosts_day, dhos = s->hostile_hosts_day;
    double dshare = dact ? (double)dhos / (double)dact : 0;
    bool win_rule =
        act >= c->min_active && ((hos >= c->min_hosts && share >= c->share) || hos >= c->count);
    bool day_rule =
        dact >= c->min_active && ((dhos >= c->min_hosts && dshare >= c->share) || dhos >= c->count);
    if (!win_rule && !day_rule)
        return 0;
    double top = share > dshare ? share : dshare;
    uint64_t top_hosts = hos > dhos ? hos : dhos;

    struct json j;
    json_init(&j, ev, evlen);
    json_obj_open(&j, NULL);
    json_u64(&j, "active_hosts", act);
    json_u64(&j, "hostile_hosts", hos);
    json_double(&j, "hostile_share", share, 4);
    json_u64(&j, "hosts_alerted", s->hosts_alerted);
    json_obj_open(&j, "hosts_by_category");
    for (int k = 0; k < CAT_COUNT; k++)
        if (k != CAT_CUSTOMER)
            json_u64(&j, alert_category_name((enum alert_category)k), s->hosts_by_cat[k]);
    json_obj_close(&j);
    json_arr_open(&j, "trend_share"); /* oldest first, this window last */
    for (unsigned i = 0; i < e->n; i++) {
        unsigned k = (e->head + HOSTILITY_TREND - e->n + i) % HOSTILITY_TREND;
        json_double(&j, NULL, e->active[k] ? (double)e->hostile[k] / e->active[k] : 0, 4);
    }
    json_arr_close(&j);
    json_arr_open(&j, "trend_hostile");
    for (unsigned i = 0; i < e->n; i++)
        json_u64(&j, NULL, e->hostile[(e->head + HOSTILITY_TREND - e->n + i) % HOSTILITY_TREND]);
    json_arr_close(&j);
    json_obj_open(&j, "last_24h");
    json_u64(&j, "active_hosts", dact);
    json_u64(&j, "hostile_hosts", dhos);
    json_double(&j, "hostile_share", dshare, 4);
    json_u64(&j, "hosts_alerted", s->hosts_alerted_day);
    json_obj_open(&j, "hosts_by_category");
    for (int k = 0; k < CAT_COUNT; k++)
        if (k != CAT_CUSTOMER)
            json_u64(&j, alert_category_name((enum alert_category)k), s->hosts_by_cat_day[k]);
    json_obj_close(&j);
    json_obj_close(&j);
    summary_hosts_json(&j, "hostile", s);
    json_str(&j, "view", win_rule ? (day_rule ? "window,last_24h" : "window") : "last_24h");
    json_double(&j, "threshold_share", c->share, 4);
    json_u64(&j, "threshold_hosts", c->min_hosts);
    json_u64(&j, "threshold_count", c->count);
    json_double(&j, "host_weight", c->host_weight, 2);
    json_obj_close(&j);

    memset(a, 0, sizeof *a);
    a->detector = "hostility";
    a->rule_id = "customer.hostile_share"; /* name and category: core/rules.c */
    a->severity = top >= 2 * c->share || top_hosts >= c->count ? SEV_HIGH : SEV_MEDIUM;
    double sc = 0.5 + 0.5 * (c->share > 0 ? top / (4 * c->share) : 1);
    a->score = sc > 1 ? 1 : sc;
    a->customer = customer;
    a->win_start_ms = s->win_start_ms;
    a->win_end_ms = s->win_end_ms;
    a->first_ms = s->win_start_ms;
    a->last_ms = s->win_end_ms;
    a->flows = s->out.flows;
    a->bytes = s->out.bytes;
    a->packets = s->out.packets;
    a->evidence_json = json_error(&j) ? NULL : ev;
    a->customer_id = s->customer_id;
    a->customer_name = s->customer_name;
    a->customer_asn = s->customer_asn;
    return 1;
}

void hostility_stats(const struct hostility *h, uint64_t *tracked, uint64_t *refused)
{
    *tracked = h ? h->tab.n : 0;
    *refused = h ? h->tab.refused : 0;
}
