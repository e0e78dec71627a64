/* ctr.c: the generic counter renderers (see ctr.h). */
#include "ctr.h"

#include <stdarg.h>
#include <string.h>

#include "json.h"

void ctr_text_init(struct ctr_text *t, char *buf, size_t cap)
{
    *t = (struct ctr_text){buf, 0, cap, false};
    if (cap)
        buf[0] = 0;
}

void ctr_printf(struct ctr_text *t, const char *fmt, ...)
{
    if (t->full || t->len >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->b + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->full = true;
        t->b[t->len] = 0; /* drop the partial line */
        return;
    }
    t->len += (size_t)n;
}

void ctr_head(struct ctr_text *t, const char *metric, enum ctr_kind kind, const char *help)
{
    ctr_printf(t, "# HELP transitwatch_%s %s\n# TYPE transitwatch_%s %s\n", metric, help, metric,
               kind == CTR_COUNTER ? "counter" : "gauge");
}

static void sample(struct ctr_text *t, const struct ctr_def *d, const void *snap, const char *l2)
{
    const char *l1 = d->label;
    unsigned long long v = (unsigned long long)ctr_value(d, snap);
    if (l1 && l2)
        ctr_printf(t, "transitwatch_%s{%s,%s} %llu\n", d->metric, l2, l1, v);
    else if (l1 || l2)
        ctr_printf(t, "transitwatch_%s{%s} %llu\n", d->metric, l1 ? l1 : l2, v);
    else
        ctr_printf(t, "transitwatch_%s %llu\n", d->metric, v);
}

void ctr_prom(struct ctr_text *t, const struct ctr_def *d, size_t n, const void *const *snaps,
              const char *const *extra, size_t ninst)
{
    for (size_t i = 0; i < n; i++) {
        if (!d[i].metric)
            continue;      /* a JSON alias */
        bool seen = false; /* rendered with an earlier row of the same name */
        for (size_t k = 0; k < i && !seen; k++)
            seen = d[k].metric && strcmp(d[k].metric, d[i].metric) == 0;
        if (seen)
            continue;
        ctr_head(t, d[i].metric, d[i].kind, d[i].help);
        for (size_t x = 0; x < ninst; x++)
            for (size_t k = i; k < n; k++)
                if (d[k].metric && strcmp(d[k].metric, d[i].metric) == 0)
                    sample(t, &d[k], snaps[x], extra ? extra[x] : NULL);
    }
}

void ctr_json(struct json *j, const struct ctr_def *d, size_t n, const void *snap)
{
    char group[64] = "";
    for (size_t i = 0; i < n; i++) {
        if (!d[i].json)
            continue;
        const char *dot = strchr(d[i].json, '.');
        size_t gl = dot ? (size_t)(dot - d[i].json) : 0;
        if (gl != strlen(group) || strncmp(group, d[i].json, gl) != 0) {
            if (group[0])
                json_obj_close(j);
            snprintf(group, sizeof group, "%.*s", (int)gl, d[i].json);
            if (group[0])
                json_obj_open(j, group);
        }
        json_u64(j, dot ? dot + 1 : d[i].json, ctr_value(&d[i], snap));
    }
    if (group[0])
        json_obj_close(j);
}

void ctr_table(FILE *f, const char *prefix, const struct ctr_def *d, size_t n, const void *snap)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = ctr_value(&d[i], snap);
        if (!v || !d[i].metric)
            continue;
        char key[128];
        if (d[i].json)
            snprintf(key, sizeof key, "%s%s", prefix ? prefix : "", d[i].json);
        else
            snprintf(key, sizeof key, "%s", d[i].label ? d[i].label : d[i].metric);
        fprintf(f, "  %-44s %llu\n", key, (unsigned long long)v);
    }
}

void ctr_list(FILE *f, const char *prefix, const struct ctr_def *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *m = d[i].metric ? d[i].metric : d[i].alias_of;
        fprintf(f, "%s%s transitwatch_%s%s%s%s\n", d[i].json && prefix ? prefix : "",
                d[i].json ? d[i].json : "-", m, d[i].label ? "{" : "", d[i].label ? d[i].label : "",
                d[i].label ? "}" : "");
    }
}
