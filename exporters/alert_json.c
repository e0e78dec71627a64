#include "alert_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "json.h"
#include "rules.h"

#ifndef TW_VERSION
#define TW_VERSION "0"
#endif

static unsigned ecs_severity(enum alert_severity s)
{
    switch (s) {
    case SEV_LOW:
        return 21;
    case SEV_MEDIUM:
        return 47;
    case SEV_HIGH:
        return 73;
    case SEV_CRITICAL:
        return 99;
    }
    return 0;
}

static void ecs_common_json(struct json *j)
{
    json_obj_open(j, "ecs");
    json_str(j, "version", TW_ECS_VERSION);
    json_obj_close(j);
}

void metric_head_json(struct json *j, uint64_t ts_ms, const char *message, const char *dataset)
{
    json_time(j, "@timestamp", ts_ms);
    ecs_common_json(j);
    json_str(j, "message", message);
    json_obj_open(j, "event");
    json_str(j, "kind", "metric");
    json_arr_open(j, "category");
    json_str(j, NULL, "network");
    json_arr_close(j);
    json_arr_open(j, "type");
    json_str(j, NULL, "info");
    json_arr_close(j);
    json_str(j, "dataset", dataset);
    json_str(j, "module", "transitwatch");
}

/* observer: transitwatch made the event; ip and ingress: the exporter (router) that saw the
 * flows and the interface they entered it on, as Filebeat's NetFlow input names exporters. */
static void observer(struct json *j, const struct alert *a)
{
    json_obj_open(j, "observer");
    json_str(j, "vendor", "transitwatch");
    json_str(j, "product", "transitwatch");
    json_str(j, "type", "ids");
    json_str(j, "version", TW_VERSION);
    if (a && a->has_observer) {
        json_arr_open(j, "ip");
        json_addr(j, NULL, a->observer_ip);
        json_arr_close(j);
        if (a->in_if) {
            char id[16];
            snprintf(id, sizeof id, "%u", a->in_if);
            json_obj_open(j, "ingress");
            json_obj_open(j, "interface");
            json_str(j, "id", id);
            json_obj_close(j);
            json_obj_close(j);
        }
    }
    json_obj_close(j);
}

static void organization(struct json *j, const char *id, const char *name)
{
    json_obj_open(j, "organization");
    json_str(j, "id", id ? id : "");
    json_str(j, "name", name ? name : "");
    json_obj_close(j);
}

static void endpoint(struct json *j, const char *key, const uint8_t *addr, unsigned port)
{
    json_obj_open(j, key);
    if (addr)
        json_addr(j, "ip", addr);
    if (port)
        json_u64(j, "port", port);
    json_obj_close(j);
}

/* threat.enrichments[]: one per list that names the party. A listed host or peer is an
 * address of the event (matched.field says which); a listed prefix of the customer's own
 * space is matched against the customer map (no event address: the prefix is the atomic). */
static void enrichments(struct json *j, const struct alert *a, const uint8_t *src)
{
    bool prefix = !a->has_host;
    const uint8_t *listed = a->indicator_is_host || !a->has_peer ? a->host : a->peer;
    const char *field = prefix                 ? "transitwatch.evidence.customer_prefix"
                        : src && listed == src ? "source.ip"
                                               : "destination.ip";
    char ab[ADDR_STRLEN];
    json_obj_open(j, "threat");
    json_arr_open(j, "enrichments");
    for (uint32_t i = 0; i < a->nenrich && i < ALERT_ENRICH_MAX; i++) {
        const struct alert_enrichment *en = &a->enrich[i];
        const char *feed = en->feed && *en->feed ? en->feed : "unnamed";
        const char *name = en->name && *en->name ? en->name : feed;
        char desc[256];
        snprintf(desc, sizeof desc, "%s is listed on %s%s%s%s",
                 en->matched ? en->matched : addr_format(listed, ab), feed,
                 strcmp(name, feed) ? " (" : "", strcmp(name, feed) ? name : "",
                 strcmp(name, feed) ? ")" : "");
        json_obj_open(j, NULL);
        json_obj_open(j, "indicator");
        json_str(j, "type", addr_is_v4(listed) ? "ipv4-addr" : "ipv6-addr");
        if (!prefix)
            json_addr(j, "ip", listed);
        json_str(j, "provider", feed);
        json_str(j, "name", name);
        json_str(j, "description", desc);
        if (en->reference)
            json_str(j, "reference", en->reference);
        if (en->port)
            json_u64(j, "port", en->port);
        json_obj_close(j);
        json_obj_open(j, "matched");
        if (prefix && en->matched)
            json_str(j, "atomic", en->matched);
        else
            json_addr(j, "atomic", listed);
        json_str(j, "field", field);
        json_str(j, "type", "indicator_match_rule");
        json_obj_close(j);
        json_obj_close(j);
    }
    json_arr_close(j);
    json_obj_close(j);
}

/* transitwatch.*: the detector's verdict, the customer, the windows, the counts, whether the
 * records were sampled, and the detector's evidence. */
static void transitwatch_json(struct json *j, const struct alert *a)
{
    json_obj_open(j, "transitwatch");
    json_str(j, "detector", a->detector);
    json_str(j, "severity", alert_severity_name(a->severity));
    json_double(j, "score", a->score, 3);
    json_obj_open(j, "customer");
    json_str(j, "id", a->customer_id ? a->customer_id : "");
    json_str(j, "name", a->customer_name ? a->customer_name : "");
    if (a->customer_asn)
        json_u64(j, "asn", a->customer_asn);
    json_obj_close(j);
    if (a->has_host)
        json_addr(j, "host", a->host);
    if (a->has_peer)
        json_addr(j, "peer", a->peer);
    json_obj_open(j, "window");
    json_time(j, "start", a->win_start_ms);
    json_time(j, "end", a->win_end_ms);
    json_obj_close(j);
    if (a->first_ms)
        json_time(j, "first_seen", a->first_ms);
    if (a->last_ms)
        json_time(j, "last_seen", a->last_ms);
    if (a->first_raised_ms)
        json_time(j, "first_raised", a->first_raised_ms);
    json_u64(j, "count", a->repeat_count ? a->repeat_count : 1);
    json_u64(j, "flows", a->flows);
    json_u64(j, "bytes", a->bytes);
    json_u64(j, "packets", a->packets);
    if (a->sampling > 1) { /* absent: unsampled (or a customer-level finding) */
        json_obj_open(j, "sampling");
        json_bool(j, "sampled", true);
        json_u64(j, "rate", a->sampling);
        json_obj_close(j);
    }
    if (a->evidence_json)
        json_raw(j, "evidence", a->evidence_json);
    json_obj_close(j);
}

int alert_json_format(const struct alert *a, char *buf, size_t cap)
{
    struct json j;
    char pbuf[8], msg[1024];
    const struct rule_def *rule = rule_find(a->rule_id);
    rule_message(a, msg, sizeof msg);
    json_init(&j, buf, cap);
    json_obj_open(&j, NULL);
    json_time(&j, "@timestamp", a->win_end_ms);
    ecs_common_json(&j);
    json_str(&j, "message", msg);

    /* an IDS alert on network traffic; list hits say so in threat.enrichments (ECS keeps
     * threat/indicator for the indicator documents themselves) */
    json_obj_open(&j, "event");
    json_str(&j, "kind", "alert");
    json_arr_open(&j, "category");
    json_str(&j, NULL, "network");
    json_str(&j, NULL, "intrusion_detection");
    json_arr_close(&j);
    json_arr_open(&j, "type");
    json_str(&j, NULL, "info");
    json_arr_close(&j);
    json_str(&j, "id", a->event_id);
    json_str(&j, "dataset", "transitwatch.alert");
    json_str(&j, "module", "transitwatch");
    json_str(&j, "action", a->rule_id);
    json_u64(&j, "severity", ecs_severity(a->severity));
    json_double(&j, "risk_score", a->score * 100.0, 1);
    json_time(&j, "start", a->win_start_ms);
    json_time(&j, "end", a->win_end_ms);
    json_obj_close(&j);

    json_obj_open(&j, "rule");
    json_str(&j, "id", a->rule_id);
    json_str(&j, "name", rule ? rule->name : a->rule_name ? a->rule_name : a->rule_id);
    if (rule) {
        json_str(&j, "description", rule->description);
        json_str(&j, "reference", rule->reference);
    }
    json_str(&j, "category", alert_category_name(rule ? rule->category : a->category));
    json_str(&j, "ruleset", a->detector);
    json_obj_close(&j);

    organization(&j, a->customer_id, a->customer_name);

    const uint8_t *src, *dst;
    alert_endpoints(a, &src, &dst);
    if (a->has_host) {
        if (src)
            endpoint(&j, "source", src, a->sport);
        /* no destination address: many destinations on one port (a horizontal scan) */
        if (dst || a->port)
            endpoint(&j, "destination", dst, a->port);
        json_obj_open(&j, "related");
        json_arr_open(&j, "ip");
        json_addr(&j, NULL, a->host);
        if (a->has_peer)
            json_addr(&j, NULL, a->peer);
        json_arr_close(&j);
        json_obj_close(&j);
    }
    bool volume = a->has_host && (a->bytes || a->packets);
    if (a->proto || a->has_peer || volume) {
        json_obj_open(&j, "network");
        if (a->proto) {
            json_str(&j, "transport", alert_proto_name(a->proto, pbuf));
            snprintf(pbuf, sizeof pbuf, "%u", a->proto);
            json_str(&j, "iana_number", pbuf);
        }
        if (a->has_peer)
            json_str(&j, "direction",
                     a->direction_unknown ? "unknown"
                     : a->host_is_source  ? "outbound"
                                          : "inbound");
        if (volume && a->bytes) /* a detector that does not count one leaves it out */
            json_u64(&j, "bytes", a->bytes);
        if (volume && a->packets)
            json_u64(&j, "packets", a->packets);
        json_obj_close(&j);
    }
    observer(&j, a);
    if (a->nenrich)
        enrichments(&j, a, src);

    transitwatch_json(&j, a);

    json_obj_close(&j);
    return json_error(&j) ? -ENOSPC : (int)json_len(&j);
}

static void traffic(struct json *j, const char *key, const struct traffic *t)
{
    json_obj_open(j, key);
    json_u64(j, "bytes", t->bytes);
    json_u64(j, "packets", t->packets);
    json_u64(j, "flows", t->flows);
    json_obj_close(j);
}

void summary_hosts_json(struct json *j, const char *key, const struct summary *s)
{
    json_arr_open(j, key);
    for (uint32_t i = 0; i < s->nnamed && i < SUMMARY_NAMED; i++) {
        const struct summary_host *h = &s->named[i];
        json_obj_open(j, NULL);
        json_addr(j, "ip", h->h.addr);
        json_double(j, "weight", h->h.weight / 100.0, 2);
        json_double(j, "weight_day", h->h.weight_day / 100.0, 2);
        json_arr_open(j, "categories");
        for (int c = 0; c < CAT_COUNT; c++)
            if (h->h.cats_day & (1u << c))
                json_str(j, NULL, alert_category_name((enum alert_category)c));
        json_arr_close(j);
        json_arr_open(j, "incidents");
        for (uint32_t k = 0; k < h->nincidents && k < SUMMARY_INCIDENTS; k++) {
            json_obj_open(j, NULL);
            json_str(j, "event_id", h->incidents[k].event_id);
            json_str(j, "rule", h->incidents[k].rule_id);
            json_obj_close(j);
        }
        json_arr_close(j);
        json_u64(j, "incidents_total", h->incidents_total);
        json_obj_close(j);
    }
    json_arr_close(j);
}

/* "Customer acme: 42 active hosts, 3 with alerts (1 hostile); out 1.2 MB in 345 flows, in
 * 3.4 MB in 400 flows, internal 0 B in 0 flows in the window 00:00 to 00:05 UTC" */
static void summary_message(const struct summary *s, char *buf, size_t cap)
{
    char out[32], in[32], internal[32], t0[32], t1[32];
    text_si(out, sizeof out, (double)s->out.bytes, "B");
    text_si(in, sizeof in, (double)s->in.bytes, "B");
    text_si(internal, sizeof internal, (double)s->internal.bytes, "B");
    json_format_time(s->win_start_ms, t0);
    json_format_time(s->win_end_ms, t1);
    snprintf(buf, cap,
             "Customer %s: %llu active hosts, %llu with alerts (%llu hostile); out %s "
             "in %llu flows, in %s in %llu flows, internal %s in %llu flows, in the window "
             "%.5s to %.5s UTC",
             s->customer_id, (unsigned long long)s->active_hosts,
             (unsigned long long)s->hosts_alerted, (unsigned long long)s->hostile_hosts, out,
             (unsigned long long)s->out.flows, in, (unsigned long long)s->in.flows, internal,
             (unsigned long long)s->internal.flows, t0 + 11, t1 + 11);
}

int summary_json_format(const struct summary *s, char *buf, size_t cap)
{
    struct json j;
    char msg[512];
    summary_message(s, msg, sizeof msg);
    json_init(&j, buf, cap);
    json_obj_open(&j, NULL);
    metric_head_json(&j, s->win_end_ms, msg, "transitwatch.summary");
    json_time(&j, "start", s->win_start_ms);
    json_time(&j, "end", s->win_end_ms);
    json_obj_close(&j);
    organization(&j, s->customer_id, s->customer_name);
    observer(&j, NULL);
    json_obj_open(&j, "transitwatch");
    json_obj_open(&j, "customer");
    json_str(&j, "id", s->customer_id);
    json_str(&j, "name", s->customer_name);
    if (s->customer_asn)
        json_u64(&j, "asn", s->customer_asn);
    json_obj_close(&j);
    json_obj_open(&j, "window");
    json_time(&j, "start", s->win_start_ms);
    json_time(&j, "end", s->win_end_ms);
    json_obj_close(&j);
    traffic(&j, "outbound", &s->out);
    traffic(&j, "inbound", &s->in);
    traffic(&j, "internal", &s->internal);
    json_u64(&j, "active_hosts", s->active_hosts);
    json_u64(&j, "hosts_alerted", s->hosts_alerted);
    json_obj_open(&j, "hosts_by_category");
    for (int c = 0; c < CAT_COUNT; c++)
        if (c != CAT_CUSTOMER)
            json_u64(&j, alert_category_name((enum alert_category)c), s->hosts_by_cat[c]);
    json_obj_close(&j);
    json_u64(&j, "hostile_hosts", s->hostile_hosts);
    json_double(&j, "hostile_share",
                s->active_hosts ? (double)s->hostile_hosts / (double)s->active_hosts : 0.0, 4);
    json_obj_open(&j, "last_24h");
    json_u64(&j, "active_hosts", s->active_hosts_day);
    json_u64(&j, "hosts_alerted", s->hosts_alerted_day);
    json_u64(&j, "hostile_hosts", s->hostile_hosts_day);
    json_obj_open(&j, "hosts_by_category");
    for (int c = 0; c < CAT_COUNT; c++)
        if (c != CAT_CUSTOMER)
            json_u64(&j, alert_category_name((enum alert_category)c), s->hosts_by_cat_day[c]);
    json_obj_close(&j);
    json_double(
        &j, "hostile_share",
        s->active_hosts_day ? (double)s->hostile_hosts_day / (double)s->active_hosts_day : 0.0, 4);
    json_obj_close(&j);
    summary_hosts_json(&j, "hostile", s);
    json_u64(&j, "alerts", s->alerts);
    json_u64(&j, "late_flows", s->late_flows);
    json_obj_close(&j);
    json_obj_close(&j);
    return json_error(&j) ? -ENOSPC : (int)json_len(&j);
}
