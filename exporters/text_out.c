/* text_out.c: see text_out.h. */
#include "text_out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "rules.h"

struct cust_row {
    char id[64];
    uint64_t windows, active_day, alerted_day, hostile_day, alerts;
    uint64_t flows_out, flows_in, bytes_out, bytes_in;
};

#define TEXT_OUT_RULES 64 /* rules explained under the table, at most */

struct rule_seen {
    char id[64], name[160], description[640], reference[160];
    uint64_t alerts;
};

struct text_out {
    struct cust_row *rows;
    size_t n, cap;
    uint32_t *idx; /* open addressing over rows by id: row number + 1; 2 * cap slots */
    struct rule_seen rules[TEXT_OUT_RULES];
    size_t nrules;
    struct cust_row others; /* customers beyond TEXT_OUT_MAX_CUSTOMERS */
    bool have_others;
    bool header_done, table_done;
    uint64_t alerts;
};

int text_out_new(struct text_out **out)
{
    struct text_out *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    snprintf(t->others.id, sizeof t->others.id, "(others)");
    *out = t;
    return 0;
}

void text_out_free(struct text_out *t)
{
    if (!t)
        return;
    free(t->rows);
    free(t->idx);
    free(t);
}

struct buf {
    char *b;
    size_t len, cap;
};

static void bprintf(struct buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *o, const char *fmt, ...)
{
    if (!o->cap || o->len + 1 >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->b + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/* The text of the member at path of doc ("" when absent). */
static const char *get(const struct jr_val *doc, const char *path, char *buf, size_t cap)
{
    struct jr_val v;
    buf[0] = 0;
    if (jr_get(doc, path, &v) && v.type != JR_OBJECT && v.type != JR_ARRAY)
        jr_text(&v, buf, cap);
    return buf;
}

static uint64_t num(const struct jr_val *doc, const char *path)
{
    struct jr_val v;
    uint64_t x = 0;
    if (jr_get(doc, path, &v))
        jr_u64(&v, &x);
    return x;
}

static void alert_line(struct text_out *t, const struct jr_val *d, struct buf *o)
{
    char ts[40], sev[16], cust[64], host[48], rule[64], peer[48], dst[48], port[8], msg[1200];
    get(d, "@timestamp", ts, sizeof ts);
    get(d, "transitwatch.severity", sev, sizeof sev);
    get(d, "organization.id", cust, sizeof cust);
    get(d, "transitwatch.host", host, sizeof host);
    get(d, "rule.id", rule, sizeof rule);
    get(d, "transitwatch.peer", peer, sizeof peer);
    get(d, "destination.ip", dst, sizeof dst);
    get(d, "destination.port", port, sizeof port);
    get(d, "message", msg, sizeof msg);
    /* the peer, with the port it answered on; many peers on one port: "*:PORT" */
    char pcol[64];
    if (peer[0] && port[0] && strcmp(peer, dst) == 0)
        snprintf(pcol, sizeof pcol, strchr(peer, ':') ? "[%s]:%s" : "%s:%s", peer, port);
    else if (peer[0])
        snprintf(pcol, sizeof pcol, "%s", peer);
    else if (port[0] && !dst[0])
        snprintf(pcol, sizeof pcol, "*:%s", port);
    else
        snprintf(pcol, sizeof pcol, "-");
    if (ts[0] && strlen(ts) >= 19) { /* 2008-09-20T00:05:00.000Z -> 2008-09-20 00:05:00 */
        ts[10] = ' ';
        ts[19] = 0;
    }
    uint64_t count = num(d, "transitwatch.count");
    char rcol[96];
    if (count > 1)
        snprintf(rcol, sizeof rcol, "%s #%llu", rule, (unsigned long long)count);
    else
        snprintf(rcol, sizeof rcol, "%s", rule);
    struct rule_seen *rs = NULL;
    for (size_t i = 0; i < t->nrules && !rs; i++)
        if (strcmp(t->rules[i].id, rule) == 0)
            rs = &t->rules[i];
    if (!rs && t->nrules < TEXT_OUT_RULES) {
        rs = &t->rules[t->nrules++];
        snprintf(rs->id, sizeof rs->id, "%s", rule);
        get(d, "rule.name", rs->name, sizeof rs->name);
        get(d, "rule.description", rs->description, sizeof rs->description);
        get(d, "rule.reference", rs->reference, sizeof rs->reference);
    }
    if (rs)
        rs->alerts++;
    if (!t->header_done) {
        bprintf(o, "%-19s  %-8s  %-14s  %-15s  %-28s  %-21s  %s\n", "time (UTC)", "severity",
                "customer", "host", "rule", "peer", "what happened");
        t->header_done = true;
    }
    bprintf(o, "%-19s  %-8s  %-14s  %-15s  %-28s  %-21s  %s\n", ts, sev, cust[0] ? cust : "-",
            host[0] ? host : "-", rcol, pcol, msg);
    t->alerts++;
}

static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ULL;
    return h;
}

/* The index over rows (2 * cap slots): rebuilt when rows grow. */
static bool reindex(struct text_out *t)
{
    uint32_t *idx = calloc(2 * t->cap, sizeof *idx);
    if (!idx)
        return false;
    free(t->idx);
    t->idx = idx;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = id_hash(t->rows[i].id) & (2 * t->cap - 1);
        while (idx[k])
            k = (k + 1) & (2 * t->cap - 1);
        idx[k] = (uint32_t)i + 1;
    }
    return true;
}

static struct cust_row *row_of(struct text_out *t, const char *id)
{
    size_t k = 0;
    if (t->cap) {
        for (k = id_hash(id) & (2 * t->cap - 1); t->idx[k]; k = (k + 1) & (2 * t->cap - 1))
            if (strcmp(t->rows[t->idx[k] - 1].id, id) == 0)
                return &t->rows[t->idx[k] - 1];
    }
    if (t->n >= TEXT_OUT_MAX_CUSTOMERS) {
        t->have_others = true;
        return &t->others;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64; /* a power of two */
        struct cust_row *r = realloc(t->rows, nc * sizeof *r);
        if (!r) {
            t->have_others = true;
            return &t->others;
        }
        t->rows = r;
        size_t oc = t->cap;
        t->cap = nc;
        if (!reindex(t)) {
            t->cap = oc;
            t->have_others = true;
            return &t->others;
        }
        for (k = id_hash(id) & (2 * t->cap - 1); t->idx[k]; k = (k + 1) & (2 * t->cap - 1))
            ;
    }
    struct cust_row *r = &t->rows[t->n];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    t->idx[k] = (uint32_t)++t->n;
    return r;
}

static void summary(struct text_out *t, const struct jr_val *d)
{
    char id[64];
    get(d, "organization.id", id, sizeof id);
    struct cust_row *r = row_of(t, id[0] ? id : "-");
    r->windows++;
    /* the 24-hour view of the customer's latest window: its active hosts are what the
     * alerted and hostile counts are shares of */
    r->active_day = num(d, "transitwatch.last_24h.active_hosts");
    r->alerted_day = num(d, "transitwatch.last_24h.hosts_alerted");
    r->hostile_day = num(d, "transitwatch.last_24h.hostile_hosts");
    r->alerts += num(d, "transitwatch.alerts");
    r->flows_out += num(d, "transitwatch.outbound.flows");
    r->flows_in += num(d, "transitwatch.inbound.flows");
    r->bytes_out += num(d, "transitwatch.outbound.bytes");
    r->bytes_in += num(d, "transitwatch.inbound.bytes");
}

static int by_alerts(const void *x, const void *y)
{
    const struct cust_row *a = x, *b = y;
    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    if (a->hostile_day != b->hostile_day)
        return a->hostile_day > b->hostile_day ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void table_row(struct buf *o, const struct cust_row *r)
{
    char bo[24], bi[24];
    text_si(bo, sizeof bo, (double)r->bytes_out, "B");
    text_si(bi, sizeof bi, (double)r->bytes_in, "B");
    bprintf(o, "%-16.16s %7llu %10llu %11llu %11llu %7llu %11llu %11llu %10s %10s\n", r->id,
            (unsigned long long)r->windows, (unsigned long long)r->active_day,
            (unsigned long long)r->alerted_day, (unsigned long long)r->hostile_day,
            (unsigned long long)r->alerts, (unsigned long long)r->flows_out,
            (unsigned long long)r->flows_in, bo, bi);
}

size_t text_out_table_size(const struct text_out *t)
{
    return (t->n + 5) * 160 + t->nrules * sizeof(struct rule_seen) + 512;
}

static int by_alerts_p(const void *x, const void *y)
{
    return by_alerts(*(const struct cust_row *const *)x, *(const struct cust_row *const *)y);
}

static void table(struct text_out *t, struct buf *o)
{
    t->table_done = true;
    if (!t->alerts)
        bprintf(o, "no alerts\n");
    if (t->n || t->have_others) {
        const struct cust_row **order = malloc((t->n ? t->n : 1) * sizeof *order);
        bprintf(o, "\n%-16s %7s %10s %11s %11s %7s %11s %11s %10s %10s\n", "customer", "windows",
                "active 24h", "alerted 24h", "hostile 24h", "alerts", "flows out", "flows in",
                "bytes out", "bytes in");
        for (size_t i = 0; i < t->n; i++)
            if (order)
                order[i] = &t->rows[i];
        if (order)
            qsort(order, t->n, sizeof *order, by_alerts_p);
        for (size_t i = 0; i < t->n; i++)
            table_row(o, order ? order[i] : &t->rows[i]);
        if (t->have_others)
            table_row(o, &t->others);
        free(order);
    }
    /* what each rule seen means (the rule table's entry, as the alerts carry it) */
    if (t->nrules)
        bprintf(o, "\nrules:\n");
    for (size_t i = 0; i < t->nrules; i++) {
        const struct rule_seen *r = &t->rules[i];
        bprintf(o, "  %s (%llu): %s\n    %s\n    %s\n", r->id, (unsigned long long)r->alerts,
                r->name[0] ? r->name : "(no name)",
                r->description[0] ? r->description
                                  : "(no description: the rule has no entry in "
                                    "the rule table)",
                r->reference[0] ? r->reference : "(no reference)");
    }
}

size_t text_out_message(struct text_out *t, enum msg_kind kind, const char *json, size_t len,
                        char *buf, size_t cap)
{
    struct buf o = {buf, 0, cap};
    if (cap)
        buf[0] = 0;
    struct jr_val d;
    if (!jr_parse(json, len, &d) || d.type != JR_OBJECT) {
        bprintf(&o, "(a message that is not JSON: %zu bytes)\n", len);
        return o.len;
    }
    switch (kind) {
    case MSG_ALERT:
        alert_line(t, &d, &o);
        break;
    case MSG_SUMMARY:
        summary(t, &d);
        break;
    case MSG_TOTALS: {
        char msg[512];
        if (!t->table_done)
            table(t, &o);
        get(&d, "message", msg, sizeof msg);
        bprintf(&o, "\n%s\n", msg[0] ? msg : "transitwatch totals");
        break;
    }
    default:
        break;
    }
    return o.len;
}

size_t text_out_finish(struct text_out *t, char *buf, size_t cap)
{
    struct buf o = {buf, 0, cap};
    if (cap)
        buf[0] = 0;
    if (!t->table_done)
        table(t, &o);
    return o.len;
}
