/* report_text.c: the report model as plain text for e-mail (see report.h): the same content
 * as the HTML page (report_html.c) in lines of at most ~100 characters, numbers instead of
 * pictures. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "report_int.h"
#include "rules.h"

/* "key=value" lines as "key value, key value, ..." wrapped at 96 columns. */
static void pairs(FILE *f, const char *text, const char *indent)
{
    size_t col = 0;
    bool first = true;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        int n = (int)(nl - p);
        if (col && col + (size_t)n > 96) {
            fputs(",\n", f);
            col = 0;
        } else if (col) {
            fputs(", ", f);
            col += 2;
        }
        if (!col) {
            fprintf(f, "%*s", first ? 0 : (int)strlen(indent), first ? indent : "");
            col = strlen(indent);
            first = false;
        }
        fprintf(f, "%.*s", n, p);
        col += (size_t)n;
        p = *nl ? nl + 1 : nl;
    }
    if (col)
        fputc('\n', f);
}

static void feeds(FILE *f, const char *text)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        char line[RP_FEEDS_TEXT];
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        char *fld[4] = {line, NULL, NULL, NULL};
        for (int i = 1; i < 4 && fld[i - 1]; i++) {
            char *bar = strchr(fld[i - 1], '|');
            if (bar)
                *bar = 0;
            fld[i] = bar ? bar + 1 : NULL;
        }
        bool ref = fld[3] && fld[3][0];
        fprintf(f, "      listed: %s%s%s%s\n", fld[2] ? fld[2] : line, ref ? " <" : "",
                ref ? fld[3] : "", ref ? ">" : "");
        p = *nl ? nl + 1 : nl;
    }
}

static void incident(FILE *f, const struct rp_incident *in, uint32_t k)
{
    char a[24], b[24];
    rp_time(in->first_seen && in->first_seen < in->first ? in->first_seen : in->first, a);
    rp_time(in->last, b);
    fprintf(f, "\n  #%u  %s  %s  host %s  %s to %s UTC, %llu alert%s\n", k + 1, in->severity,
            in->rule, in->host[0] ? in->host : "-", a, b, (unsigned long long)in->updates,
            in->updates == 1 ? "" : "s");
    fprintf(f, "      %s\n", in->message);
    if (in->rule_name[0])
        fprintf(f, "      rule: %s%s%s%s\n", in->rule_name, in->reference[0] ? " (" : "",
                in->reference, in->reference[0] ? ")" : "");
    if (in->feeds[0])
        feeds(f, in->feeds);
    if (in->nintervals > 1) {
        fputs("      intervals between check-ins (s):", f);
        for (uint32_t i = 0; i < in->nintervals && i < 24; i++)
            fprintf(f, " %.1f", in->intervals[i]);
        fputs(in->nintervals > 24 ? " ...\n" : "\n", f);
    }
    if (in->nseries > 1) {
        const char *na, *nb;
        rp_series_names(in, &na, &nb);
        fprintf(f, "      per update (%s / %s):", na, nb);
        for (uint32_t i = 0; i < in->nseries && i < 16; i++)
            fprintf(f, " %.0f/%.0f", in->series[i].a, in->series[i].b);
        fputs(in->nseries > 16 ? " ...\n" : "\n", f);
    }
    pairs(f, in->evidence, "      evidence: ");
}

static void customer(FILE *f, const struct report *r, const struct rp_customer *c)
{
    fprintf(f, "\nCustomer %s%s%s%s\n", c->id, c->name[0] ? " (" : "", c->name,
            c->name[0] ? ")" : "");
    fprintf(f,
            "  %llu windows, %llu alerts, %s%llu incidents;\n  hostile share at most %.1f %% in a "
            "window, %.1f %% over 24 hours (%u of %u active hosts)",
            (unsigned long long)c->windows, (unsigned long long)c->alerts,
            c->ids_full ? "at least " : "", (unsigned long long)c->incidents, c->max_share * 100,
            c->max_share_day * 100, c->peak_hostile_day, c->peak_active_day);
    double thr = rp_threshold(r, c);
    if (thr > 0)
        fprintf(f, " (threshold %.1f %%: %s)", thr * 100,
                c->max_share >= thr || c->max_share_day >= thr ? "crossed" : "not crossed");
    fputs("\n", f);
    uint64_t bo = 0, bi = 0;
    for (uint32_t i = 0; i < c->npts; i++) {
        bo += c->pts[i].bytes_out;
        bi += c->pts[i].bytes_in;
    }
    char so[24], si[24];
    text_si(so, sizeof so, (double)bo, "B");
    text_si(si, sizeof si, (double)bi, "B");
    fprintf(f, "  traffic: %s out, %s in\n", so, si);
    if (!c->ninc)
        return;
    uint32_t idx[REPORT_INCIDENTS];
    rp_incident_order(c, idx);
    uint32_t n = c->ninc < REPORT_SHOW_INCIDENTS ? c->ninc : REPORT_SHOW_INCIDENTS;
    for (uint32_t k = 0; k < n; k++)
        incident(f, &c->inc[idx[k]], k);
    if (c->ninc > n || c->inc_left_out)
        fprintf(f, "\n  %u more incidents not shown; %llu left out for room (%llu alerts)\n",
                c->ninc - n, (unsigned long long)c->inc_left_out,
                (unsigned long long)c->alerts_left_out);
}

int report_write_text(const struct report *r, const char *only, const struct report_contact *k,
                      FILE *f)
{
    char period[RP_PERIOD];
    rp_period(r, period);
    fprintf(f, "%s\n%s\n", r->title, period);
    const struct rp_customer *one = only ? rp_find(r, only) : NULL;
    if (only && k) {
        fprintf(f, "\nTo: %s\nCustomer: %s%s%s%s\n",
                k->abuse && k->abuse[0] ? k->abuse : "(no abuse contact)", only,
                k->name && k->name[0] ? " (" : "", k->name ? k->name : "",
                k->name && k->name[0] ? ")" : "");
        fprintf(f, "\nOur flow monitoring saw the hosts of your network listed below misbehave "
                   "in this period.\nFor each incident: what the host did, when, the evidence "
                   "and where the address or its\npeer is listed. Please investigate these hosts "
                   "and tell us what you found.\n");
    }
    if (only && !one)
        fputs("\nNo alerts or summaries of this customer in the period.\n", f);
    if (only) {
        if (one)
            customer(f, r, one);
        return ferror(f) ? -EIO : 0;
    }
    if (r->have_totals)
        fprintf(f, "\n%s\n", r->totals_msg);
    fprintf(f, "%s\n", rp_limits(r));
    uint32_t idx[REPORT_MAX_CUSTOMERS];
    rp_customer_order(r, idx);
    for (size_t i = 0; i < r->ncust; i++) {
        const struct rp_customer *c = r->cust[idx[i]];
        if (i < REPORT_SHOW_CUSTOMERS)
            customer(f, r, c);
        else
            fprintf(f,
                    "%s  %s: %llu windows, %llu alerts, %s%llu incidents, hostile share at most "
                    "%.1f %% over 24 hours\n",
                    i == REPORT_SHOW_CUSTOMERS ? "\nMore customers:\n" : "", c->id,
                    (unsigned long long)c->windows, (unsigned long long)c->alerts,
                    c->ids_full ? "at least " : "", (unsigned long long)c->incidents,
                    c->max_share_day * 100);
    }
    return ferror(f) ? -EIO : 0;
}
