/* ctr.h: counters defined once, rendered three ways. A stats struct's counters are described
 * by one table of struct ctr_def (written as an X-macro list next to the struct's owner, see
 * collector/counters.c and the sinks), and one generic function renders such a table for
 * Prometheus (/metrics), for the JSON totals, and as the stderr end-of-run listing, so no
 * renderer can miss a counter another one has.
 * Pure functions over a snapshot the caller took; no allocation. Any thread. */
#ifndef TW_CTR_H
#define TW_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json;

enum ctr_kind { CTR_COUNTER, CTR_GAUGE };

struct ctr_def {
    /* "key" or "group.key" in the JSON totals; NULL: /metrics only */
    const char *json;
    /* Prometheus name after the "transitwatch_" prefix; one unit per name (counters end in
     * _total, gauges name their unit). NULL: a JSON-only alias of the row with the same off
     * (it then names its metric in alias_of). */
    const char *metric;
    const char *label; /* one label pair, `name="value"`, or NULL */
    enum ctr_kind kind;
    const char *help;     /* what one unit is; the same for every row of a metric name */
    size_t off;           /* of the uint64_t value in the snapshot the table describes */
    const char *alias_of; /* alias rows: the metric (and label) they repeat, for listings */
};

/* X-macro helpers. A stats struct's list is written once as
 *     #define FOO_COUNTERS(X, A) X(T, field, json, metric, label, kind, help) ... A(T, field, json, of)
 * and expanded into the struct (CTR_FIELD, CTR_NONE) and its table (CTR_ROW, CTR_ALIAS).
 * T is the snapshot type. */
#define CTR_FIELD(T, field, ...) uint64_t field;
#define CTR_NONE(...)
#define CTR_ROW(T, field, json, metric, label, kind, help)                                         \
    {json, metric, label, kind, help, offsetof(T, field), NULL},
#define CTR_ALIAS(T, field, json, of) {json, NULL, NULL, CTR_COUNTER, NULL, offsetof(T, field), of},

/* A text buffer for the Prometheus exposition. Lines that do not fit are dropped whole. */
struct ctr_text {
    char *b;
    size_t len, cap;
    bool full;
};
void ctr_text_init(struct ctr_text *t, char *buf, size_t cap);
void ctr_printf(struct ctr_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP transitwatch_NAME help\n# TYPE transitwatch_NAME type\n" */
void ctr_head(struct ctr_text *t, const char *metric, enum ctr_kind kind, const char *help);

/* Prometheus: each metric name once (HELP and TYPE), then its samples from every row of that
 * name, for each of ninst snapshots (several instances of one kind: captures). extra[i]: a
 * label pair for instance i (e.g. `capture="mirror"`), or extra NULL for none. */
void ctr_prom(struct ctr_text *t, const struct ctr_def *d, size_t n, const void *const *snaps,
              const char *const *extra, size_t ninst);
/* JSON: the rows with a json key, as members of the open object; "group.key" rows go into
 * an object "group" (consecutive rows of a group share it). */
void ctr_json(struct json *j, const struct ctr_def *d, size_t n, const void *snap);
/* Text: "  json-or-metric  value" for every row whose value is not zero; prefix (NULL: none)
 * goes before each JSON key (the key's path in the totals, e.g. "detectors.scan."). */
void ctr_table(FILE *f, const char *prefix, const struct ctr_def *d, size_t n, const void *snap);
/* Listing for tests and docs: one line per row, "prefix+json-key metric{label}". */
void ctr_list(FILE *f, const char *prefix, const struct ctr_def *d, size_t n);

static inline uint64_t ctr_value(const struct ctr_def *d, const void *snap)
{
    uint64_t v;
    __builtin_memcpy(&v, (const char *)snap + d->off, sizeof v);
    return v;
}

#endif
