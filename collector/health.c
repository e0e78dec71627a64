/* health.c: the /healthz verdict (see health.h). */
#include "health.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct reasons {
    char *b;
    size_t len, cap;
    unsigned n;
};

static void reason(struct reasons *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct reasons *r, const char *fmt, ...)
{
    if (r->len + 3 >= r->cap)
        return;
    int k = snprintf(r->b + r->len, r->cap - r->len, "%s", r->n++ ? "; " : "degraded: ");
    if (k > 0 && (size_t)k < r->cap - r->len)
        r->len += (size_t)k;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(r->b + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        r->len += (size_t)k < r->cap - r->len ? (size_t)k : r->cap - r->len - 1;
}

void health_init(struct health *h)
{
    memset(h, 0, sizeof *h);
    h->ok = true;
}

uint64_t health_clock_skew(const struct health_in *in)
{
    return in->clock_skew;
}

/* Keep a sample every period / HEALTH_SLOTS; return the oldest one still inside the period
 * (or the first one taken, early on). */
static const struct health_sample *period_start(struct health *h, uint64_t period_ms,
                                                const struct health_sample *now)
{
    uint64_t step = period_ms / HEALTH_SLOTS ? period_ms / HEALTH_SLOTS : 1;
    const struct health_sample *last =
        h->nslots ? &h->slot[(h->head + HEALTH_SLOTS - 1) % HEALTH_SLOTS] : NULL;
    if (!last || now->ms - last->ms >= step) {
        h->slot[h->head] = *now;
        h->head = (h->head + 1) % HEALTH_SLOTS;
        if (h->nslots < HEALTH_SLOTS)
            h->nslots++;
    }
    size_t oldest = (h->head + HEALTH_SLOTS - h->nslots) % HEALTH_SLOTS;
    for (size_t i = 0; i < h->nslots; i++) {
        const struct health_sample *x = &h->slot[(oldest + i) % HEALTH_SLOTS];
        if (now->ms - x->ms <= period_ms)
            return x;
    }
    return now;
}

bool health_eval(struct health *h, const struct settings *s, const struct health_in *in, char *text,
                 size_t len)
{
    struct reasons r = {text, 0, len, 0};
    if (len)
        text[0] = 0;
    if (!h->started) { /* the counters started at zero with the process */
        h->started = true;
        h->start_ms = in->now_ms;
        h->start_unix = in->now_unix;
        h->slot[0] = (struct health_sample){.ms = in->now_ms};
        h->nslots = 1;
        h->head = 1;
        for (size_t i = 0; i < in->ncaptures; i++)
            h->cap_moved_ms[i] = in->now_ms;
    }
    /* customers */
    if (in->windows_closed != h->win_closed) {
        h->last_window_flows = in->flows - h->win_flows;
        h->last_window_unmatched =
            h->last_window_flows && in->unmatched - h->win_unmatched == h->last_window_flows;
        h->win_closed = in->windows_closed;
        h->win_flows = in->flows;
        h->win_unmatched = in->unmatched;
    }
    if (s->health_unmatched) {
        if (in->customers == 0)
            reason(&r, "no customer map: every flow is unmatched");
        else if (h->last_window_unmatched)
            reason(&r, "none of the %llu flows of the last window matched a customer",
                   (unsigned long long)h->last_window_flows);
    }
    /* losses and clocks over the period */
    uint64_t period_ms = s->health_period * 1000;
    struct health_sample now = {.ms = in->now_ms, .clock_skew = health_clock_skew(in)};
    for (size_t i = 0; i < in->nsinks && i < SINKS_MAX; i++)
        now.lost[i] = in->sink[i].lost;
    const struct health_sample *old = period_start(h, period_ms, &now);
    uint64_t skew = now.clock_skew - old->clock_skew;
    if (s->health_skew_records && skew >= s->health_skew_records)
        reason(&r,
               "%llu records with times far from their exporter's clock%s%s%s in the last %llus",
               (unsigned long long)skew, in->skew_exporters[0] ? " (exporters " : "",
               in->skew_exporters, in->skew_exporters[0] ? ")" : "",
               (unsigned long long)s->health_period);
    /* sinks */
    for (size_t i = 0; i < in->nsinks && i < SINKS_MAX; i++) {
        const struct sink_health *sh = &in->sink[i];
        if (now.lost[i] != old->lost[i]) /* named: the operator must know which output loses */
            reason(&r, "%s%s%s: %llu messages lost in the last %llus", in->sink_name[i],
                   sh->where ? " " : "", sh->where ? sh->where : "",
                   (unsigned long long)(now.lost[i] - old->lost[i]),
                   (unsigned long long)s->health_period);
        if (!sh->waiting) {
            h->waiting_since_unix[i] = 0;
        } else if (!h->waiting_since_unix[i]) {
            h->waiting_since_unix[i] = in->now_unix;
        }
        if (sh->delivers && sh->waiting && s->health_kafka_stall) {
            uint64_t since = h->waiting_since_unix[i];
            if (sh->last_delivery_unix > since)
                since = sh->last_delivery_unix;
            if (in->now_unix - since >= s->health_kafka_stall)
                reason(&r, "%s: nothing delivered for %llus, %llu messages waiting",
                       in->sink_name[i], (unsigned long long)(in->now_unix - since),
                       (unsigned long long)sh->waiting);
        }
        if (sh->spool_max_bytes &&
            sh->spool_bytes * 100 >= (uint64_t)s->health_spool_pct * sh->spool_max_bytes)
            reason(&r, "%s: spool %llu%% full (%llu of %llu bytes)", in->sink_name[i],
                   (unsigned long long)(sh->spool_bytes * 100 / sh->spool_max_bytes),
                   (unsigned long long)sh->spool_bytes, (unsigned long long)sh->spool_max_bytes);
    }
    /* captures */
    for (size_t i = 0; i < in->ncaptures && i < SETTINGS_MAX_CAPTURES; i++) {
        if (in->capture_packets[i] != h->cap_packets[i]) {
            h->cap_packets[i] = in->capture_packets[i];
            h->cap_moved_ms[i] = in->now_ms;
        }
        uint64_t idle = in->now_ms - h->cap_moved_ms[i];
        if (in->capture_stopped[i]) /* it reads nothing more until a restart: said at once */
            reason(&r, "capture %s: stopped: %s", in->capture_name[i], in->capture_stopped[i]);
        else if (s->health_capture_stall && idle >= s->health_capture_stall * 1000)
            reason(&r, "capture %s: no packet for %llus", in->capture_name[i],
                   (unsigned long long)(idle / 1000));
    }
    /* the report pages */
    if (in->report_dir)
        reason(&r, "report directory %s: the last write failed (%u pages not written): %s",
               in->report_dir, in->report_failed, strerror(in->report_error));
    /* the Kafka consumer (detect) */
    if (in->kafka_in && in->kafka_partitions == 0)
        reason(&r, "kafka: this instance owns no partition of %s", s->kafka.topic_flows);
    if (in->kafka_in && s->kafka.lag_max && in->kafka_lag > s->kafka.lag_max)
        reason(&r, "kafka: %llu records unread (lag_max %llu)", (unsigned long long)in->kafka_lag,
               (unsigned long long)s->kafka.lag_max);
    if (in->kafka_in && in->kafka_waiting && s->kafka.partition_idle_ms &&
        in->kafka_stalled_ms >= s->kafka.partition_idle_ms)
        reason(&r,
               "kafka: partition %s/%d read nothing for %llus, not at its end, while %u "
               "partitions hold their next window for it",
               s->kafka.topic_flows, (int)in->kafka_stalled,
               (unsigned long long)(in->kafka_stalled_ms / 1000), in->kafka_waiting);
    h->ok = r.n == 0;
    if (h->ok)
        snprintf(text, len, "ok\n");
    else if (r.len + 1 < len) {
        text[r.len++] = '\n';
        text[r.len] = 0;
    }
    return h->ok;
}
