/* report.c: the report model (see report.h): messages in, bounded per-customer views out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_read.h"
#include "report_int.h"
#include "textfield.h"

int report_new(const struct report_opts *o, struct report **out)
{
    struct report *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->o = *o;
    snprintf(r->customer, sizeof r->customer, "%s", o->customer ? o->customer : "");
    snprintf(r->title, sizeof r->title, "%s", o->title ? o->title : "transitwatch report");
    if (o->config && !(r->config = strdup(o->config))) {
        free(r);
        return -ENOMEM;
    }
    r->o.customer = r->customer[0] ? r->customer : NULL;
    r->o.title = r->title;
    r->o.config = r->config;
    *out = r;
    return 0;
}

void report_free(struct report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncust; i++) {
        free(r->cust[i]->inc);
        free(r->cust[i]->ids);
        free(r->cust[i]);
    }
    free(r->config);
    free(r);
}

/* ---- reading members ---- */

static const char *get(const struct jr_val *d, const char *path, char *buf, size_t cap)
{
    struct jr_val v;
    buf[0] = 0;
    if (jr_get(d, path, &v) && v.type != JR_OBJECT && v.type != JR_ARRAY)
        jr_text(&v, buf, cap);
    return buf;
}

static uint64_t u64(const struct jr_val *d, const char *path)
{
    struct jr_val v;
    uint64_t x = 0;
    if (jr_get(d, path, &v))
        jr_u64(&v, &x);
    return x;
}

static double dbl(const struct jr_val *d, const char *path)
{
    struct jr_val v;
    double x = 0;
    if (jr_get(d, path, &v))
        jr_double(&v, &x);
    return x;
}

static uint64_t ts(const struct jr_val *d, const char *path)
{
    char b[40];
    uint64_t ms = 0;
    get(d, path, b, sizeof b);
    if (b[0] && !tf_datetime(b, strlen(b), &ms))
        ms = 0;
    return ms;
}

void rp_time(uint64_t ms, char out[24])
{
    char b[32];
    json_format_time(ms, b); /* 2008-09-20T00:05:00.000Z */
    b[10] = ' ';
    memcpy(out, b, 16);
    out[16] = 0;
}

void rp_period(const struct report *r, char out[RP_PERIOD])
{
    uint64_t t0 = r->o.since_ms ? r->o.since_ms : r->t_first;
    uint64_t t1 = r->o.until_ms ? r->o.until_ms : r->t_last;
    char a[24], b[24];
    rp_time(t0, a);
    rp_time(t1, b);
    if (t0 && t1)
        snprintf(out, RP_PERIOD, "%s to %s UTC", a, b);
    else if (t0 || t1)
        snprintf(out, RP_PERIOD, "%s %s UTC", t0 ? "from" : "until", t0 ? a : b);
    else
        snprintf(out, RP_PERIOD, "no period: no alert or window summary read");
}

const char *rp_limits(const struct report *r)
{
    if (!r->have_totals && r->totals_of_run)
        return "The totals read are of whole runs, not of this period or customer: what the "
               "figures leave out (records unmatched or missing, hosts evicted) is not known here.";
    if (!r->have_totals)
        return "No totals were read: what the run left out (records unmatched or missing, "
               "hosts evicted) is not known here.";
    return r->limits;
}

/* ---- customers ---- */

const struct rp_customer *rp_find(const struct report *r, const char *id)
{
    for (size_t i = 0; i < r->ncust; i++)
        if (strcmp(r->cust[i]->id, id) == 0)
            return r->cust[i];
    return NULL;
}

static struct rp_customer *customer_of(struct report *r, const struct jr_val *d)
{
    char id[64];
    get(d, "organization.id", id, sizeof id);
    if (!id[0])
        snprintf(id, sizeof id, "-");
    for (size_t i = 0; i < r->ncust; i++) /* linear: a few hundred at most */
        if (strcmp(r->cust[i]->id, id) == 0)
            return r->cust[i];
    if (r->ncust == REPORT_MAX_CUSTOMERS)
        return NULL;
    struct rp_customer *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->id, sizeof c->id, "%s", id);
    get(d, "organization.name", c->name, sizeof c->name);
    c->per = 1;
    r->cust[r->ncust++] = c;
    return c;
}

void report_counts(const struct report *r, uint64_t *msgs, uint64_t *unreadable)
{
    *msgs = r->msgs;
    *unreadable = r->unreadable;
}

size_t report_customers(const struct report *r, const char **ids, size_t max)
{
    size_t n = 0;
    for (; n < r->ncust && n < max; n++)
        ids[n] = r->cust[n]->id;
    return n;
}

/* ---- the timeline ---- */

static void point_merge(struct rp_point *a, const struct rp_point *b)
{
    a->t1 = b->t1;
    a->bytes_out += b->bytes_out;
    a->bytes_in += b->bytes_in;
    a->flows_out += b->flows_out;
    a->flows_in += b->flows_in;
    a->windows += b->windows;
#define RP_MAX(f) a->f = b->f > a->f ? b->f : a->f
    RP_MAX(active);
    RP_MAX(hostile);
    RP_MAX(hostile_day);
    RP_MAX(active_day);
    RP_MAX(share);
    RP_MAX(share_day);
#undef RP_MAX
}

static void summary(struct rp_customer *c, const struct jr_val *d)
{
    struct rp_point p = {
        .t0 = ts(d, "transitwatch.window.start"),
        .t1 = ts(d, "transitwatch.window.end"),
        .bytes_out = u64(d, "transitwatch.outbound.bytes"),
        .bytes_in = u64(d, "transitwatch.inbound.bytes"),
        .flows_out = u64(d, "transitwatch.outbound.flows"),
        .flows_in = u64(d, "transitwatch.inbound.flows"),
        .windows = 1,
        .active = (uint32_t)u64(d, "transitwatch.active_hosts"),
        .hostile = (uint32_t)u64(d, "transitwatch.hostile_hosts"),
        .hostile_day = (uint32_t)u64(d, "transitwatch.last_24h.hostile_hosts"),
        .active_day = (uint32_t)u64(d, "transitwatch.last_24h.active_hosts"),
        .share = (float)dbl(d, "transitwatch.hostile_share"),
        .share_day = (float)dbl(d, "transitwatch.last_24h.hostile_share"),
    };
    c->summaries++;
    c->windows++;
    if (p.share > c->max_share)
        c->max_share = p.share;
    if (p.share_day > c->max_share_day || c->summaries == 1) { /* the hosts of that share */
        c->max_share_day = p.share_day;
        c->peak_hostile_day = p.hostile_day;
        c->peak_active_day = p.active_day;
    }
    c->last_share_day = p.share_day;
    if (c->npts && c->pts[c->npts - 1].windows < c->per) {
        point_merge(&c->pts[c->npts - 1], &p);
        return;
    }
    if (c->npts == REPORT_POINTS) { /* full: halve, each point covers twice the windows */
        for (uint32_t i = 0; i < REPORT_POINTS / 2; i++) {
            c->pts[i] = c->pts[2 * i];
            point_merge(&c->pts[i], &c->pts[2 * i + 1]);
        }
        c->npts = REPORT_POINTS / 2;
        c->per *= 2;
    }
    c->pts[c->npts++] = p;
}

/* ---- incidents ---- */

void rp_series_names(const struct rp_incident *in, const char **a, const char **b)
{
    if (strcmp(in->detector, "spam") == 0) {
        *a = "mail servers";
        *b = "mail flows";
    } else if (strcmp(in->rule, "scan.vertical") == 0) {
        *a = "ports (hour)";
        *b = "unanswered";
    } else if (strcmp(in->detector, "scan") == 0) {
        *a = "targets";
        *b = "ports";
    } else if (strcmp(in->detector, "bruteforce") == 0) {
        *a = "attempts";
        *b = "targets";
    } else if (strcmp(in->detector, "customer") == 0) {
        *a = "hostile hosts";
        *b = "active hosts";
    } else {
        *a = "flows";
        *b = "packets";
    }
}

/* The two numbers of this update's evidence point (rp_series_names says what they are). */
static void series_values(const struct rp_incident *in, const struct jr_val *d, double *a,
                          double *b)
{
    const char *rule = in->rule;
    struct jr_val v;
    if (strcmp(in->detector, "spam") == 0) {
        *a = dbl(d, "transitwatch.evidence.distinct_dst");
        *b = dbl(d, "transitwatch.evidence.smtp_flows");
    } else if (strcmp(rule, "scan.vertical") == 0) {
        *a = dbl(d, "transitwatch.evidence.distinct_ports_hour");
        *b = dbl(d, "transitwatch.evidence.unanswered");
    } else if (strcmp(in->detector, "scan") == 0) {
        *a = dbl(d, "transitwatch.evidence.distinct_targets_hour");
        if (*a == 0)
            *a = dbl(d, "transitwatch.evidence.distinct_targets");
        if (*a == 0)
            *a = dbl(d, "transitwatch.evidence.first_contacts");
        *b = 1;
        if (jr_get(d, "transitwatch.evidence.ports", &v) && v.type == JR_ARRAY) {
            size_t pos = 0, n = 0;
            struct jr_val k, e;
            while (jr_next(&v, &pos, &k, &e))
                n++;
            *b = (double)n;
        }
    } else if (strcmp(in->detector, "bruteforce") == 0) {
        *a = dbl(d, "transitwatch.evidence.connections");
        *b = dbl(d, "transitwatch.evidence.targets");
        if (*b == 0)
            *b = 1;
    } else if (strcmp(in->detector, "customer") == 0) {
        *a = dbl(d, "transitwatch.evidence.hostile_hosts");
        *b = dbl(d, "transitwatch.evidence.active_hosts");
    } else {
        *a = dbl(d, "transitwatch.flows");
        *b = dbl(d, "transitwatch.packets");
    }
}

static void series_add(struct rp_incident *in, uint64_t t, double a, double b)
{
    if (!in->series_per)
        in->series_per = 1;
    if (in->nseries == REPORT_SERIES) { /* keep every other point: the shape over the whole */
        for (uint32_t i = 0; i < REPORT_SERIES / 2; i++)
            in->series[i] = in->series[2 * i + 1];
        in->nseries = REPORT_SERIES / 2;
        in->series_per *= 2;
    }
    in->series[in->nseries++] = (struct rp_spoint){t, a, b};
}

/* An array of scalars (a list's servers, a scan's sample targets) as one value: its first
 * RP_EVID_LIST elements blank-separated, "(+N)" for the rest; false when an element is an object
 * or an array (per-port tables: the series and messages say those). */
static bool list_text(const struct jr_val *arr, char *out, size_t cap)
{
    size_t p = 0, len = 0, n = 0, shown = 0;
    struct jr_val k, e;
    out[0] = 0;
    while (jr_next(arr, &p, &k, &e)) {
        if (e.type == JR_OBJECT || e.type == JR_ARRAY)
            return false;
        n++;
        char item[64];
        jr_text(&e, item, sizeof item);
        int w = shown < RP_EVID_LIST ? snprintf(out + len, cap - len, "%s%s", len ? " " : "", item)
                                     : -1;
        if (w > 0 && (size_t)w < cap - len - 12) { /* room left for " (+N)" */
            len += (size_t)w;
            shown++;
        }
        out[len] = 0;
    }
    if (n > shown)
        snprintf(out + len, cap - len, " (+%zu)", n - shown);
    return n > 0;
}

/* The scalar members of the evidence as "key=value" lines (an array of scalars as one: list_text),
 * and a beacon's intervals. */
static void evidence(struct rp_incident *in, const struct jr_val *d)
{
    struct jr_val ev, k, v;
    in->evidence[0] = 0;
    if (!jr_get(d, "transitwatch.evidence", &ev) || ev.type != JR_OBJECT)
        return;
    size_t pos = 0, len = 0;
    while (jr_next(&ev, &pos, &k, &v) && len + 1 < sizeof in->evidence) {
        char key[48], val[RP_EVID_VALUE];
        jr_text(&k, key, sizeof key);
        if (strcmp(key, "intervals_s") == 0 && v.type == JR_ARRAY) {
            size_t p2 = 0;
            struct jr_val k2, e;
            in->nintervals = 0;
            while (jr_next(&v, &p2, &k2, &e) && in->nintervals < REPORT_INTERVALS) {
                double x;
                if (jr_double(&e, &x))
                    in->intervals[in->nintervals++] = (float)x;
            }
            continue;
        }
        if (v.type == JR_OBJECT || (v.type == JR_ARRAY && !list_text(&v, val, sizeof val)))
            continue;
        if (v.type != JR_ARRAY)
            jr_text(&v, val, sizeof val);
        int n = snprintf(in->evidence + len, sizeof in->evidence - len, "%s=%s\n", key, val);
        if (n < 0 || (size_t)n >= sizeof in->evidence - len) {
            in->evidence[len] = 0;
            break;
        }
        len += (size_t)n;
    }
}

/* The feeds' listings: "provider|name|description|reference" lines. */
static void feeds(struct rp_incident *in, const struct jr_val *d)
{
    struct jr_val en, k, e;
    size_t pos = 0, len = 0;
    in->feeds[0] = 0;
    if (!jr_get(d, "threat.enrichments", &en) || en.type != JR_ARRAY)
        return;
    while (jr_next(&en, &pos, &k, &e)) {
        char p[64], nm[64], ds[160], rf[160];
        get(&e, "indicator.provider", p, sizeof p);
        get(&e, "indicator.name", nm, sizeof nm);
        get(&e, "indicator.description", ds, sizeof ds);
        get(&e, "indicator.reference", rf, sizeof rf);
        int n = snprintf(in->feeds + len, sizeof in->feeds - len, "%s|%s|%s|%s\n", p, nm, ds, rf);
        if (n < 0 || (size_t)n >= sizeof in->feeds - len) {
            in->feeds[len] = 0;
            return;
        }
        len += (size_t)n;
    }
}

static uint64_t id_hash(const char *id)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return h ? h : 1;
}

/* Whether c saw the incident id before; a new one is kept in c's set of ids (while it has
 * room: REPORT_IDS, then ids_full) and counted in c->incidents. */
static bool id_seen(struct rp_customer *c, const char *id)
{
    uint64_t h = id_hash(id);
    if ((c->nids + 1) * 2 > c->cap_ids && c->cap_ids < 2 * REPORT_IDS) { /* grow: load <= 1/2 */
        uint32_t cap = c->cap_ids ? c->cap_ids * 2 : 128;
        uint64_t *t = calloc(cap, sizeof *t);
        if (t) {
            for (uint32_t i = 0; i < c->cap_ids; i++)
                for (uint32_t j = (uint32_t)c->ids[i] & (cap - 1); c->ids[i];
                     j = (j + 1) & (cap - 1))
                    if (!t[j]) {
                        t[j] = c->ids[i];
                        break;
                    }
            free(c->ids);
            c->ids = t;
            c->cap_ids = cap;
        }
    }
    if (c->cap_ids) {
        uint32_t j = (uint32_t)h & (c->cap_ids - 1);
        for (; c->ids[j]; j = (j + 1) & (c->cap_ids - 1))
            if (c->ids[j] == h)
                return true;
        if ((c->nids + 1) * 2 <= c->cap_ids) {
            c->ids[j] = h;
            c->nids++;
            c->incidents++;
            return false;
        }
    }
    c->ids_full = true; /* not kept, not counted: incidents is a lower bound from here on */
    return false;
}

/* The incident of this alert: found, new, or replacing a less severe one; NULL: left out
 * (also a known one no longer in the table: it is not made again from a later update). */
static struct rp_incident *incident_of(struct rp_customer *c, const char *id, int sev, bool known)
{
    if (!c->inc && !(c->inc = calloc(REPORT_INCIDENTS, sizeof *c->inc)))
        return NULL;
    for (uint32_t i = 0; i < c->ninc; i++)
        if (strcmp(c->inc[i].id, id) == 0)
            return &c->inc[i];
    if (known)
        return NULL;
    struct rp_incident *in = NULL;
    if (c->ninc < REPORT_INCIDENTS) {
        in = &c->inc[c->ninc++];
    } else {
        uint32_t low = 0;
        for (uint32_t i = 1; i < c->ninc; i++)
            if (c->inc[i].sev < c->inc[low].sev)
                low = i;
        if (c->inc[low].sev >= sev) {
            c->inc_left_out++;
            return NULL;
        }
        in = &c->inc[low];
        c->alerts_left_out += in->updates;
        c->inc_left_out++;
    }
    memset(in, 0, sizeof *in);
    snprintf(in->id, sizeof in->id, "%s", id);
    in->sev = sev;
    return in;
}

static void host_tally(struct rp_customer *c, const char *ip, const char *det, bool new_incident)
{
    if (!ip[0])
        return;
    for (uint32_t i = 0; i < c->nhosts; i++) {
        struct rp_host *h = &c->hosts[i];
        if (strcmp(h->ip, ip) == 0 && strcmp(h->detector, det) == 0) {
            h->alerts++;
            h->incidents += new_incident;
            return;
        }
    }
    if (c->nhosts == REPORT_HOSTS) {
        c->host_alerts_left_out++;
        return;
    }
    struct rp_host *h = &c->hosts[c->nhosts++];
    snprintf(h->ip, sizeof h->ip, "%s", ip);
    snprintf(h->detector, sizeof h->detector, "%s", det);
    h->alerts = 1;
    h->incidents = new_incident;
}

static void alert(struct rp_customer *c, const struct jr_val *d, uint64_t t)
{
    char id[40], det[24], host[48];
    get(d, "event.id", id, sizeof id);
    get(d, "transitwatch.detector", det, sizeof det);
    get(d, "transitwatch.host", host, sizeof host);
    int sev = (int)u64(d, "event.severity");
    c->alerts++;
    bool known = id_seen(c, id);
    struct rp_incident *in = incident_of(c, id, sev, known);
    bool fresh = in && in->updates == 0;
    host_tally(c, host, det, !known);
    if (!in) {
        c->alerts_left_out++;
        return;
    }
    if (fresh) {
        snprintf(in->detector, sizeof in->detector, "%s", det);
        snprintf(in->host, sizeof in->host, "%s", host);
        get(d, "rule.id", in->rule, sizeof in->rule);
        get(d, "rule.name", in->rule_name, sizeof in->rule_name);
        get(d, "rule.reference", in->reference, sizeof in->reference);
        get(d, "transitwatch.peer", in->peer, sizeof in->peer);
        get(d, "destination.port", in->port, sizeof in->port);
        in->first = t;
        in->first_seen = ts(d, "transitwatch.first_seen");
    }
    if (sev >= in->sev || !in->severity[0]) { /* the incident's highest severity */
        in->sev = sev;
        get(d, "transitwatch.severity", in->severity, sizeof in->severity);
    }
    in->updates++;
    in->last = t;
    in->last_seen = ts(d, "transitwatch.last_seen");
    in->count = u64(d, "transitwatch.count");
    get(d, "message", in->message, sizeof in->message);
    evidence(in, d);
    feeds(in, d);
    double a, b;
    series_values(in, d, &a, &b);
    series_add(in, t, a, b);
    if (strcmp(in->rule, "customer.hostile_share") == 0)
        c->threshold = dbl(d, "transitwatch.evidence.threshold_share");
}

/* The run's counters of what its figures leave out, as the totals line carries them. */
static const struct {
    const char *path, *what;
} not_seen_rows[] = {
    {"transitwatch.totals.flows_unmatched", "flow records matched no customer"},
    {"transitwatch.totals.decode.seq_lost",
     "missing by the exporters' sequence numbers (records; v9 and sFlow: datagrams)"},
    {"transitwatch.totals.decode.messages_malformed", "export messages malformed"},
    {"transitwatch.totals.errors.no_template", "data sets without a template, not decoded"},
    {"transitwatch.totals.errors.pending_dropped", "data sets dropped waiting for a template"},
    {"transitwatch.totals.host_evictions",
     "hosts evicted from the full host table (their counts started again)"},
    {"transitwatch.totals.hostility_refused", "customers without a hostile-share trend"},
    {"transitwatch.totals.flows_late", "flow records late, counted in a later window"},
    {"transitwatch.totals.detectors.beacon.sampled_skipped",
     "sampled records the beacon detector did not use (on sampled records no beacon, scan.trw, "
     "UDP scan or ICMP sweep is found)"},
    {"transitwatch.totals.decode.sampling_unknown",
     "flow records without a sampling rate, counted 1:1"},
};

static void totals_not_seen(struct report *r, const struct jr_val *d)
{
    size_t n = (size_t)snprintf(r->limits, sizeof r->limits, "Limits of these figures: ");
    bool any = false;
    for (size_t i = 0; i < sizeof not_seen_rows / sizeof not_seen_rows[0]; i++) {
        uint64_t v = u64(d, not_seen_rows[i].path);
        if (v && n < sizeof r->limits) {
            int w = snprintf(r->limits + n, sizeof r->limits - n, "%s%llu %s", any ? "; " : "",
                             (unsigned long long)v, not_seen_rows[i].what);
            n += w > 0 ? (size_t)w : 0;
            any = true;
        }
    }
    if (n < sizeof r->limits)
        snprintf(r->limits + n, sizeof r->limits - n, "%s",
                 any ? "."
                     : "nothing (no record unmatched, missing, malformed, undecoded, late "
                       "or sampled; no host evicted).");
}

static void totals(struct report *r, const struct jr_val *d)
{
    r->have_totals = true;
    totals_not_seen(r, d);
    get(d, "message", r->totals_msg, sizeof r->totals_msg);
    r->tot_records = u64(d, "transitwatch.totals.records");
    r->tot_bytes = u64(d, "transitwatch.totals.bytes");
    r->tot_windows = u64(d, "transitwatch.totals.windows");
    r->tot_alerts = u64(d, "transitwatch.totals.alerts");
    r->tot_summaries = u64(d, "transitwatch.totals.summaries");
    r->tot_suppressed = u64(d, "transitwatch.totals.alerts_suppressed");
}

int report_add(struct report *r, enum msg_kind kind, const char *json, size_t len)
{
    struct jr_val d;
    r->msgs++;
    if (!jr_parse(json, len, &d) || d.type != JR_OBJECT) {
        r->unreadable++;
        return -EINVAL;
    }
    uint64_t t = ts(&d, "@timestamp");
    if (!t && kind != MSG_TOTALS) {
        r->unreadable++;
        return -EINVAL;
    }
    if (kind == MSG_TOTALS) { /* of the whole run: kept only for the whole report */
        if (r->o.customer || r->o.since_ms || r->o.until_ms) {
            r->filtered++;
            r->totals_of_run = true;
            return 1;
        }
        totals(r, &d);
        return 0;
    }
    char id[64];
    if ((r->o.since_ms && t < r->o.since_ms) || (r->o.until_ms && t >= r->o.until_ms) ||
        (r->o.customer && strcmp(get(&d, "organization.id", id, sizeof id), r->o.customer))) {
        r->filtered++;
        return 1;
    }
    struct rp_customer *c = customer_of(r, &d);
    if (!c) {
        r->cust_left_out++;
        return 0;
    }
    /* the period starts where the earliest window taken starts (@timestamp is its end) */
    uint64_t t0 = ts(&d, "transitwatch.window.start");
    if (!t0 || t0 > t)
        t0 = t;
    if (!r->t_first || t0 < r->t_first)
        r->t_first = t0;
    if (t > r->t_last)
        r->t_last = t;
    if (kind == MSG_ALERT) {
        r->alerts++;
        alert(c, &d, t);
    } else if (kind == MSG_SUMMARY) {
        r->summaries++;
        summary(c, &d);
    }
    return 0;
}

/* ---- for the writers ---- */

static const struct rp_customer *order_c;

static int by_weight(const void *x, const void *y)
{
    const struct rp_incident *a = &order_c->inc[*(const uint32_t *)x];
    const struct rp_incident *b = &order_c->inc[*(const uint32_t *)y];
    if (a->sev != b->sev)
        return a->sev > b->sev ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return strcmp(a->id, b->id);
}

void rp_incident_order(const struct rp_customer *c, uint32_t *idx)
{
    for (uint32_t i = 0; i < c->ninc; i++)
        idx[i] = i;
    order_c = c; /* qsort has no argument; one thread at a time (report.h) */
    qsort(idx, c->ninc, sizeof *idx, by_weight);
    order_c = NULL;
}

static const struct report *order_r;

static int by_alerts(const void *x, const void *y)
{
    const struct rp_customer *a = order_r->cust[*(const uint32_t *)x];
    const struct rp_customer *b = order_r->cust[*(const uint32_t *)y];
    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    if (a->max_share_day != b->max_share_day)
        return a->max_share_day > b->max_share_day ? -1 : 1;
    return strcmp(a->id, b->id);
}

void rp_customer_order(const struct report *r, uint32_t *idx)
{
    for (uint32_t i = 0; i < r->ncust; i++)
        idx[i] = i;
    order_r = r; /* qsort has no argument; one thread at a time (report.h) */
    qsort(idx, r->ncust, sizeof *idx, by_alerts);
    order_r = NULL;
}

double rp_threshold(const struct report *r, const struct rp_customer *c)
{
    return c->threshold > 0 ? c->threshold : r->o.threshold_share;
}
