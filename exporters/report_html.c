/* report_html.c: the report model as one self-contained HTML page (see report.h): inline CSS
 * and SVG only, no script, no font, no image and nothing else fetched (links to the rules' and
 * listings' reference pages are links, followed only when clicked). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "rules.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A link only for http(s) references (anything else is shown as text). */
static void link(FILE *f, const char *url, const char *text)
{
    if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) {
        fputs("<a rel=\"noreferrer\" href=\"", f);
        esc(f, url);
        fputs("\">", f);
        esc(f, text);
        fputs("</a>", f);
    } else {
        esc(f, text);
    }
}

static const char css[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222;max-width:1100px}"
    "h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:2px solid #345;margin-top:2em}"
    "h3{font-size:1.05em;margin-bottom:.3em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
    "vertical-align:top;text-align:left}th{background:#eef}"
    ".num{text-align:right}.muted{color:#777}.sev-critical{color:#a00;font-weight:bold}"
    ".sev-high{color:#c40}.sev-medium{color:#a80}.sev-low{color:#468}"
    "svg{background:#fbfbfd;border:1px solid #ddd;margin:.3em 0}svg text{font:11px sans-serif}"
    "svg.hist,svg.series{display:block}"
    "pre{background:#f4f4f4;padding:.5em;overflow:auto;max-height:30em;font-size:12px}"
    "dl.ev{margin:0;columns:2;font-size:12px}dl.ev dt{font-weight:bold;display:inline}"
    "dl.ev dd{display:inline;margin:0 0 0 .3em}dl.ev dd:after{content:'';display:block}"
    ".letter{border:1px solid #345;padding:.5em 1em;background:#f8f8ff}";

static const char *sev_color(int sev)
{
    return sev >= 99 ? "#a00" : sev >= 73 ? "#c40" : sev >= 47 ? "#a80" : "#468";
}

/* An axis's span: [t0, t1] of the customer's windows and incidents. */
static void span_of(const struct rp_customer *c, uint64_t *t0, uint64_t *t1)
{
    *t0 = UINT64_MAX;
    *t1 = 0;
    for (uint32_t i = 0; i < c->npts; i++) {
        if (c->pts[i].t0 && c->pts[i].t0 < *t0)
            *t0 = c->pts[i].t0;
        if (c->pts[i].t1 > *t1)
            *t1 = c->pts[i].t1;
    }
    for (uint32_t i = 0; i < c->ninc; i++) {
        uint64_t a = c->inc[i].first_seen ? c->inc[i].first_seen : c->inc[i].first;
        if (a && a < *t0)
            *t0 = a;
        if (c->inc[i].last > *t1)
            *t1 = c->inc[i].last;
    }
    if (*t0 == UINT64_MAX)
        *t0 = *t1;
    if (*t1 <= *t0)
        *t1 = *t0 + 1;
}

#define W 900.0
#define L 60.0 /* left margin */

static double xat(uint64_t t, uint64_t t0, uint64_t t1)
{
    return L + (W - L - 10) * (double)(t - t0) / (double)(t1 - t0);
}

static void axis(FILE *f, uint64_t t0, uint64_t t1, double y)
{
    char a[24], b[24];
    rp_time(t0, a);
    rp_time(t1, b);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>", L, y,
            W - 10, y);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s</text>", L, y + 13, a);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s UTC</text>", W - 10, y + 13, b);
}

/* A polyline of values v (one per point, at the point's middle) scaled to [0, max]. */
static void poly(FILE *f, const struct rp_customer *c, const double *v, double max, uint64_t t0,
                 uint64_t t1, double top, double h, const char *color, const char *dash)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"", color,
            dash);
    for (uint32_t i = 0; i < c->npts; i++) {
        uint64_t mid = c->pts[i].t0 / 2 + c->pts[i].t1 / 2;
        double y = top + h - (max > 0 ? h * v[i] / max : 0);
        fprintf(f, "%.1f,%.1f ", xat(mid < t0 ? t0 : mid, t0, t1), y);
    }
    fputs("\"/>", f);
}

static void legend(FILE *f, double x, double y, const char *color, const char *text)
{
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>", x, y - 9,
            color);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s</text>", x + 14, y, text);
}

/* Traffic out and in per window (bytes), and the hostile share per window and over 24 h. */
static void timelines(FILE *f, const struct report *r, const struct rp_customer *c, uint64_t t0,
                      uint64_t t1)
{
    double *vo = calloc(c->npts + 1, sizeof *vo), *vi = calloc(c->npts + 1, sizeof *vi);
    if (!vo || !vi) {
        free(vo);
        free(vi);
        return;
    }
    double max = 0, smax = 0;
    for (uint32_t i = 0; i < c->npts; i++) {
        vo[i] = (double)c->pts[i].bytes_out;
        vi[i] = (double)c->pts[i].bytes_in;
        max = fmax(max, fmax(vo[i], vi[i]));
        smax = fmax(smax, fmax(c->pts[i].share, c->pts[i].share_day));
    }
    double thr = rp_threshold(r, c);
    smax = fmax(fmax(smax, thr * 1.25), 0.01);
    char m[24];
    text_si(m, sizeof m, max, "B");
    fprintf(f, "<h3>Traffic per window (%u window%s a point)</h3>\n", c->per,
            c->per > 1 ? "s" : "");
    fprintf(f, "<svg class=\"timeline traffic\" width=\"%.0f\" height=\"165\" role=\"img\">", W);
    fprintf(f, "<text x=\"4\" y=\"22\">%s</text><text x=\"4\" y=\"128\">0</text>", m);
    poly(f, c, vo, max, t0, t1, 15, 110, "#c40", "");
    poly(f, c, vi, max, t0, t1, 15, 110, "#36a", "");
    axis(f, t0, t1, 126);
    legend(f, L + 10, 160, "#c40", "bytes out");
    legend(f, L + 110, 160, "#36a", "bytes in");
    fputs("</svg>\n", f);
    for (uint32_t i = 0; i < c->npts; i++) {
        vo[i] = c->pts[i].share;
        vi[i] = c->pts[i].share_day;
    }
    fprintf(f,
            "<h3>Hostile-host share</h3>\n<svg class=\"timeline share\" width=\"%.0f\" "
            "height=\"165\" role=\"img\">",
            W);
    fprintf(f, "<text x=\"4\" y=\"22\">%.1f %%</text><text x=\"4\" y=\"128\">0</text>", smax * 100);
    if (thr > 0) {
        double y = 15 + 110 - 110 * thr / smax;
        fprintf(f,
                "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#a00\" "
                "stroke-dasharray=\"4 3\"/><text x=\"4\" y=\"%.1f\" fill=\"#a00\">%.1f %%</text>",
                L, y, W - 10, y, y + 4, thr * 100);
    }
    poly(f, c, vo, smax, t0, t1, 15, 110, "#c40", "");
    poly(f, c, vi, smax, t0, t1, 15, 110, "#555", " stroke-dasharray=\"5 2\"");
    axis(f, t0, t1, 126);
    legend(f, L + 10, 160, "#c40", "window");
    legend(f, L + 90, 160, "#555", "last 24 hours");
    if (thr > 0)
        legend(f, L + 210, 160, "#a00", "threshold");
    fputs("</svg>\n", f);
    free(vo);
    free(vi);
}

/* Every incident shown as a bar from its first flow to its last update, on one time axis. */
static void incident_axis(FILE *f, const struct rp_customer *c, const uint32_t *idx, uint32_t n,
                          uint64_t t0, uint64_t t1)
{
    double h = 30 + 14.0 * n;
    fprintf(f, "<svg class=\"incidents-axis\" width=\"%.0f\" height=\"%.0f\" role=\"img\">", W, h);
    for (uint32_t k = 0; k < n; k++) {
        const struct rp_incident *in = &c->inc[idx[k]];
        uint64_t a = in->first_seen && in->first_seen < in->first ? in->first_seen : in->first;
        double x0 = xat(a < t0 ? t0 : a, t0, t1), x1 = xat(in->last, t0, t1), y = 12 + 14.0 * k;
        fputs("<a href=\"#i-", f);
        esc(f, in->id);
        fprintf(f, "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"9\" fill=\"%s\"><title>",
                x0, y, fmax(x1 - x0, 3), sev_color(in->sev));
        esc(f, in->rule);
        fputs(" ", f);
        esc(f, in->host);
        fputs("</title></rect></a>", f);
        fprintf(f, "<text x=\"4\" y=\"%.1f\">#%u</text>", y + 8, k + 1);
    }
    axis(f, t0, t1, h - 16);
    fputs("</svg>\n", f);
}

/* A beacon's intervals as a histogram (12 bins between the shortest and the longest). */
static void histogram(FILE *f, const struct rp_incident *in)
{
    float lo = in->intervals[0], hi = in->intervals[0];
    for (uint32_t i = 1; i < in->nintervals; i++) {
        lo = fminf(lo, in->intervals[i]);
        hi = fmaxf(hi, in->intervals[i]);
    }
    unsigned bins[12] = {0}, top = 1;
    for (uint32_t i = 0; i < in->nintervals; i++) {
        unsigned b = hi > lo ? (unsigned)(11.999f * (in->intervals[i] - lo) / (hi - lo)) : 5;
        if (++bins[b] > top)
            top = bins[b];
    }
    fprintf(f,
            "<svg class=\"hist\" width=\"220\" height=\"80\" role=\"img\"><title>%u intervals "
            "between check-ins, %.1f s to %.1f s</title>",
            in->nintervals, lo, hi);
    for (int b = 0; b < 12; b++) {
        double h = 50.0 * bins[b] / top;
        fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"15\" height=\"%.1f\" fill=\"#36a\"/>",
                10 + 17 * b, 58 - h, h);
    }
    fprintf(f,
            "<text x=\"6\" y=\"74\">%.1f s</text><text x=\"214\" y=\"74\" "
            "text-anchor=\"end\">%.1f s</text><text x=\"6\" y=\"10\">%u intervals</text></svg>",
            lo, hi, in->nintervals);
}

/* The incident's evidence numbers per update, as two small bar rows. */
static void sparkline(FILE *f, const struct rp_incident *in)
{
    const char *na, *nb;
    rp_series_names(in, &na, &nb);
    double ma = 1, mb = 1;
    for (uint32_t i = 0; i < in->nseries; i++) {
        ma = fmax(ma, in->series[i].a);
        mb = fmax(mb, in->series[i].b);
    }
    double bw = 200.0 / REPORT_SERIES;
    fprintf(f, "<svg class=\"series\" width=\"230\" height=\"80\" role=\"img\">");
    for (uint32_t i = 0; i < in->nseries; i++) {
        double ha = 28 * in->series[i].a / ma, hb = 28 * in->series[i].b / mb;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c40\"/>",
                20 + bw * i, 36 - ha, bw * 0.8, ha);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#36a\"/>",
                20 + bw * i, 72 - hb, bw * 0.8, hb);
    }
    fprintf(f,
            "<text x=\"22\" y=\"10\">%s (max %.0f)</text><text x=\"22\" y=\"46\">%s (max "
            "%.0f)</text></svg>",
            na, ma, nb, mb);
}

static void evidence_list(FILE *f, const char *text)
{
    fputs("<dl class=\"ev\">", f);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n'), *eq = strchr(p, '=');
        if (!nl)
            nl = p + strlen(p);
        if (eq && eq < nl) {
            fprintf(f, "<dt>%.*s</dt><dd>", (int)(eq - p), p);
            char v[RP_EVID_VALUE];
            snprintf(v, sizeof v, "%.*s", (int)(nl - eq - 1), eq + 1);
            esc(f, v);
            fputs("</dd>", f);
        }
        p = *nl ? nl + 1 : nl;
    }
    fputs("</dl>", f);
}

static void feed_list(FILE *f, const char *text)
{
    fputs("<ul class=\"feeds\">", f);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        char line[RP_FEEDS_TEXT], *fld[4] = {0};
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        fld[0] = line;
        for (int i = 1; i < 4 && fld[i - 1]; i++) {
            char *bar = strchr(fld[i - 1], '|');
            if (bar)
                *bar = 0;
            fld[i] = bar ? bar + 1 : NULL;
        }
        fputs("<li>", f);
        esc(f, fld[2] ? fld[2] : line);
        if (fld[3] && fld[3][0]) {
            fputs(" — ", f);
            link(f, fld[3], fld[1] ? fld[1] : fld[3]);
        }
        fputs("</li>", f);
        p = *nl ? nl + 1 : nl;
    }
    fputs("</ul>", f);
}

static void incident_row(FILE *f, const struct rp_incident *in, uint32_t k)
{
    char a[24], b[24];
    rp_time(in->first_seen && in->first_seen < in->first ? in->first_seen : in->first, a);
    rp_time(in->last, b);
    fputs("<tr id=\"i-", f);
    esc(f, in->id);
    fprintf(f, "\"><td>#%u</td><td>%s<br>to %s</td><td class=\"sev-", k + 1, a, b);
    esc(f, in->severity);
    fputs("\">", f);
    esc(f, in->severity);
    fputs("</td><td>", f);
    esc(f, in->host[0] ? in->host : "-");
    fputs("</td><td>", f);
    link(f, in->reference, in->rule);
    fputs("<br><span class=\"muted\">", f);
    esc(f, in->rule_name);
    fprintf(f, "</span></td><td class=\"num\">%llu</td><td>", (unsigned long long)in->updates);
    esc(f, in->message);
    if (in->feeds[0])
        feed_list(f, in->feeds);
    if (in->nintervals > 1)
        histogram(f, in);
    if (in->nseries > 1)
        sparkline(f, in);
    evidence_list(f, in->evidence);
    fputs("<span class=\"muted\">incident ", f);
    esc(f, in->id);
    fputs("</span></td></tr>\n", f);
}

static void incidents(FILE *f, const struct rp_customer *c, uint64_t t0, uint64_t t1)
{
    fprintf(f, "<h3>Alerts by incident (%llu alert%s, %s%llu incident%s)</h3>\n",
            (unsigned long long)c->alerts, c->alerts == 1 ? "" : "s",
            c->ids_full ? "at least " : "", (unsigned long long)c->incidents,
            c->incidents == 1 ? "" : "s");
    if (!c->ninc) {
        fputs("<p class=\"alerts\">No alerts.</p>\n", f);
        return;
    }
    uint32_t idx[REPORT_INCIDENTS];
    rp_incident_order(c, idx);
    uint32_t n = c->ninc < REPORT_SHOW_INCIDENTS ? c->ninc : REPORT_SHOW_INCIDENTS;
    incident_axis(f, c, idx, n, t0, t1);
    fputs("<table class=\"alerts\"><tr><th></th><th>when (UTC)</th><th>severity</th><th>host</th>"
          "<th>rule</th><th>alerts</th><th>what happened, evidence</th></tr>\n",
          f);
    for (uint32_t k = 0; k < n; k++)
        incident_row(f, &c->inc[idx[k]], k);
    fputs("</table>\n", f);
    if (c->ninc > n || c->inc_left_out)
        fprintf(f,
                "<p class=\"muted\">%u more incidents not shown; %llu left out of the report "
                "for room (%llu alerts).</p>\n",
                c->ninc - n, (unsigned long long)c->inc_left_out,
                (unsigned long long)c->alerts_left_out);
}

static const struct rp_customer *host_c;

static int by_alerts(const void *x, const void *y)
{
    const struct rp_host *a = &host_c->hosts[*(const uint32_t *)x];
    const struct rp_host *b = &host_c->hosts[*(const uint32_t *)y];
    int d = strcmp(a->detector, b->detector);
    if (d)
        return d;
    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    return strcmp(a->ip, b->ip);
}

static void top_hosts(FILE *f, const struct rp_customer *c)
{
    if (!c->nhosts)
        return;
    uint32_t idx[REPORT_HOSTS];
    for (uint32_t i = 0; i < c->nhosts; i++)
        idx[i] = i;
    host_c = c;
    qsort(idx, c->nhosts, sizeof *idx, by_alerts);
    host_c = NULL;
    fputs("<h3>Top hosts per detector</h3>\n<table class=\"hosts\"><tr><th>detector</th>"
          "<th>host</th><th>incidents</th><th>alerts</th></tr>\n",
          f);
    for (uint32_t i = 0, shown = 0, more = 0; i < c->nhosts; i++) {
        const struct rp_host *h = &c->hosts[idx[i]];
        bool first = i == 0 || strcmp(h->detector, c->hosts[idx[i - 1]].detector);
        if (first)
            shown = more = 0;
        if (shown++ < REPORT_SHOW_HOSTS) {
            fputs("<tr><td>", f);
            esc(f, h->detector);
            fputs("</td><td>", f);
            esc(f, h->ip);
            fprintf(f, "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td></tr>\n",
                    (unsigned long long)h->incidents, (unsigned long long)h->alerts);
        } else {
            more++;
        }
        bool last = i + 1 == c->nhosts || strcmp(h->detector, c->hosts[idx[i + 1]].detector);
        if (last && more)
            fprintf(f,
                    "<tr><td></td><td colspan=\"3\" class=\"muted\">and %u more hosts</td>"
                    "</tr>\n",
                    more);
    }
    fputs("</table>\n", f);
    if (c->host_alerts_left_out)
        fprintf(f, "<p class=\"muted\">%llu alerts of further hosts not tallied.</p>\n",
                (unsigned long long)c->host_alerts_left_out);
}

static void customer_head(FILE *f, const struct report *r, const struct rp_customer *c)
{
    fputs("<section class=\"customer\" id=\"c-", f);
    esc(f, c->id);
    fputs("\"><h2>Customer ", f);
    esc(f, c->id);
    if (c->name[0]) {
        fputs(" — ", f);
        esc(f, c->name);
    }
    fprintf(f,
            "</h2>\n<p>%llu windows, %llu alerts. Hostile share at most %.1f %% in a window, "
            "%.1f %% over 24 hours (%u of %u active hosts)",
            (unsigned long long)c->windows, (unsigned long long)c->alerts, c->max_share * 100,
            c->max_share_day * 100, c->peak_hostile_day, c->peak_active_day);
    double thr = rp_threshold(r, c);
    if (thr > 0)
        fprintf(f, " (threshold %.1f %%: %s)", thr * 100,
                c->max_share >= thr || c->max_share_day >= thr ? "<b>crossed</b>" : "not crossed");
    fputs(".</p>\n", f);
}

static void customer(FILE *f, const struct report *r, const struct rp_customer *c)
{
    uint64_t t0, t1;
    span_of(c, &t0, &t1);
    customer_head(f, r, c);
    timelines(f, r, c, t0, t1);
    incidents(f, c, t0, t1);
    top_hosts(f, c);
    fputs("</section>\n", f);
}

static void letter(FILE *f, const struct report *r, const struct rp_customer *c,
                   const struct report_contact *k)
{
    char period[RP_PERIOD];
    rp_period(r, period);
    fputs("<div class=\"letter\"><p>To: ", f);
    esc(f, k->abuse && k->abuse[0] ? k->abuse : "(no abuse contact on file)");
    fputs("<br>Customer: ", f);
    esc(f, c->id);
    if (k->name && k->name[0]) {
        fputs(" (", f);
        esc(f, k->name);
        fputs(")", f);
    }
    fprintf(f,
            "<br>Period: %s</p><p>Our flow monitoring saw the hosts of your network "
            "listed below misbehave in this period: %s%llu incident%s (%llu alerts). For each "
            "incident you find what the host did, when, the evidence in numbers, and where the "
            "address or its peer is listed. ",
            period, c->ids_full ? "at least " : "", (unsigned long long)c->incidents,
            c->incidents == 1 ? "" : "s", (unsigned long long)c->alerts);
    double thr = rp_threshold(r, c);
    if (thr > 0)
        fprintf(f,
                "The share of your active hosts that misbehaved reached %.1f %% over 24 hours "
                "(%u hosts); our threshold for action is %.1f %%.",
                c->max_share_day * 100, c->peak_hostile_day, thr * 100);
    fputs(" Please investigate these hosts and tell us what you found.</p></div>\n", f);
}

static void totals(FILE *f, const struct report *r)
{
    char period[RP_PERIOD], by[24];
    rp_period(r, period);
    fprintf(f,
            "<section class=\"totals\"><h2>Totals</h2><p>%llu messages read (%llu alerts, "
            "%llu window summaries), %s; %zu customers",
            (unsigned long long)r->msgs, (unsigned long long)r->alerts,
            (unsigned long long)r->summaries, period, r->ncust);
    if (r->cust_left_out)
        fprintf(f, " (messages of further customers left out: %llu)",
                (unsigned long long)r->cust_left_out);
    if (r->unreadable)
        fprintf(f, "; %llu unreadable lines", (unsigned long long)r->unreadable);
    fputs(".</p>\n", f);
    if (r->have_totals) {
        text_si(by, sizeof by, (double)r->tot_bytes, "B");
        fprintf(f,
                "<table><tr><th>flow records</th><th>bytes</th><th>windows</th><th>alerts</th>"
                "<th>suppressed</th><th>summaries</th></tr><tr><td class=\"num\">%llu</td>"
                "<td class=\"num\">%s</td><td class=\"num\">%llu</td><td class=\"num\">%llu"
                "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td></tr></table>"
                "<p>",
                (unsigned long long)r->tot_records, by, (unsigned long long)r->tot_windows,
                (unsigned long long)r->tot_alerts, (unsigned long long)r->tot_suppressed,
                (unsigned long long)r->tot_summaries);
        esc(f, r->totals_msg);
        fputs("</p>\n", f);
    }
    fputs("<p class=\"notseen\">", f);
    esc(f, rp_limits(r));
    fputs("</p>\n", f);
    fputs("</section>\n", f);
}

/* Every customer: the first REPORT_SHOW_CUSTOMERS (most alerts) in full, a row for the rest. */
static void customers(FILE *f, const struct report *r)
{
    uint32_t idx[REPORT_MAX_CUSTOMERS];
    rp_customer_order(r, idx);
    for (size_t i = 0; i < r->ncust && i < REPORT_SHOW_CUSTOMERS; i++)
        customer(f, r, r->cust[idx[i]]);
    if (r->ncust <= REPORT_SHOW_CUSTOMERS)
        return;
    fprintf(f,
            "<section class=\"others\"><h2>%zu more customers</h2><table><tr><th>customer"
            "</th><th>windows</th><th>alerts</th><th>incidents</th><th>hostile share (24 h, "
            "at most)</th></tr>\n",
            r->ncust - REPORT_SHOW_CUSTOMERS);
    for (size_t i = REPORT_SHOW_CUSTOMERS; i < r->ncust; i++) {
        const struct rp_customer *c = r->cust[idx[i]];
        fputs("<tr><td>", f);
        esc(f, c->id);
        fprintf(f,
                "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td><td "
                "class=\"num\">%s%llu</td><td class=\"num\">%.1f %%</td></tr>\n",
                (unsigned long long)c->windows, (unsigned long long)c->alerts,
                c->ids_full ? "&ge;" : "", (unsigned long long)c->incidents,
                c->max_share_day * 100);
    }
    fputs("</table></section>\n", f);
}

int report_write_html(const struct report *r, const char *only, const struct report_contact *k,
                      FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\"><title>",
          f);
    esc(f, r->title);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
    esc(f, r->title);
    fputs("</h1>\n", f);
    const struct rp_customer *one = only ? rp_find(r, only) : NULL;
    if (only && k && one)
        letter(f, r, one, k);
    else if (only && !one)
        fputs("<p class=\"alerts\">No alerts or summaries of this customer in the period.</p>\n",
              f);
    if (!only)
        totals(f, r);
    if (only && one)
        customer(f, r, one);
    else if (!only)
        customers(f, r);
    if (r->config) {
        fputs("<section class=\"config\"><h2>Configuration</h2><pre>", f);
        esc(f, r->config);
        fputs("</pre></section>\n", f);
    }
    fputs("<p class=\"muted\">Made by transitwatch from its alerts and window summaries.</p>"
          "</body></html>\n",
          f);
    return ferror(f) ? -EIO : 0;
}
