/* source.c: the set of open sources and how a loop drives them (see source.h). */
#include "source.h"

#include <string.h>

#include "json.h"
#include "log.h"

void source_init(struct source *s, const struct source_ops *ops, const struct source_out *out,
                 const char *name)
{
    s->ops = ops;
    s->out = *out;
    snprintf(s->name, sizeof s->name, "%s", name);
}

size_t source_one_table(size_t table, const struct ctr_def *d, size_t n, const void *st,
                        size_t size, const struct ctr_def **defs, void *snap)
{
    if (table > 0)
        return 0;
    memcpy(snap, st, size);
    *defs = d;
    return n;
}

static void end_slot(struct source_slot *sl)
{
    if (sl->ended)
        return;
    sl->ended = true;
    struct source *s = sl->s;
    int fd = s->ops->fd ? s->ops->fd(s) : -1;
    if (fd >= 0)
        evloop_del_fd(sl->ss->loop, fd);
    struct source_set *ss = sl->ss;
    if (--ss->open == 0 && ss->on_all_ended)
        ss->on_all_ended(ss->on_all_ended_arg);
}

/* One drain within budget; a source that ended or failed leaves the loop. */
static int drain_slot(struct source_slot *sl, size_t budget)
{
    if (sl->ended)
        return 0;
    int n = sl->s->ops->drain(sl->s, budget);
    if (n < 0)
        end_slot(sl);
    return n;
}

static void on_readable(void *arg, int fd)
{
    (void)fd;
    struct source_slot *sl = arg;
    drain_slot(sl, sl->s->ops->budget);
}

/* Before the wait: sources with input the fd does not show keep the loop from sleeping. */
static bool before_sleep(void *arg)
{
    struct source_set *ss = arg;
    bool busy = false;
    for (size_t i = 0; i < ss->n; i++) {
        struct source_slot *sl = &ss->slot[i];
        sl->pending = !sl->ended && sl->s->ops->ready && sl->s->ops->ready(sl->s);
        busy |= sl->pending;
    }
    return busy;
}

static bool after_sleep(void *arg)
{
    struct source_set *ss = arg;
    for (size_t i = 0; i < ss->n; i++) {
        struct source_slot *sl = &ss->slot[i];
        if (sl->pending || sl->s->ops->drain_each_turn)
            drain_slot(sl, sl->s->ops->budget);
        sl->pending = false;
    }
    return false;
}

int source_set_init(struct source_set *ss, struct evloop *loop)
{
    memset(ss, 0, sizeof *ss);
    ss->loop = loop;
    int rc = evloop_add_before_sleep(loop, before_sleep, ss);
    return rc < 0 ? rc : evloop_add_after_sleep(loop, after_sleep, ss);
}

int source_set_add(struct source_set *ss, struct source *s)
{
    if (ss->n == SOURCE_SET_MAX) {
        s->ops->close(s);
        return -ENOSPC;
    }
    struct source_slot *sl = &ss->slot[ss->n];
    *sl = (struct source_slot){.ss = ss, .s = s};
    int fd = s->ops->fd ? s->ops->fd(s) : -1;
    if (fd >= 0) {
        int rc = evloop_add_fd(ss->loop, fd, on_readable, sl);
        if (rc < 0) {
            s->ops->close(s);
            return rc;
        }
    }
    ss->n++;
    ss->open++;
    return 0;
}

void source_set_drain_all(struct source_set *ss, size_t budget)
{
    for (size_t i = 0; i < ss->n; i++) {
        struct source_slot *sl = &ss->slot[i];
        for (size_t left = budget; left > 0 && !sl->ended;) {
            int n = drain_slot(sl, left < sl->s->ops->budget ? left : sl->s->ops->budget);
            if (n <= 0)
                break;
            left -= (size_t)n < left ? (size_t)n : left;
        }
    }
}

void source_set_finish(struct source_set *ss, size_t budget)
{
    for (size_t i = 0; i < ss->n; i++) {
        struct source_slot *sl = &ss->slot[i];
        if (!sl->ended && sl->s->ops->finish)
            sl->s->ops->finish(sl->s);
    }
    source_set_drain_all(ss, budget);
}

uint64_t source_set_failures(const struct source_set *ss)
{
    uint64_t n = 0;
    for (size_t i = 0; i < ss->n; i++)
        n += ss->slot[i].s->failures;
    return n;
}

#define SOURCE_MAX_TABLES 4 /* tables per source */

struct snap_ref {
    const struct ctr_def *d;
    size_t n;
    const char *label;
    _Alignas(uint64_t) char snap[SOURCE_SNAP_MAX];
};

/* Every table of every source, snapshots taken now. Returns how many. */
static size_t take_all(const struct source_set *ss, struct snap_ref *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < ss->n; i++) {
        struct source *s = ss->slot[i].s;
        for (size_t t = 0; s->ops->counters && t < SOURCE_MAX_TABLES && k < max; t++) {
            out[k].n = s->ops->counters(s, t, &out[k].d, out[k].snap);
            if (!out[k].n)
                break;
            out[k++].label = s->label;
        }
    }
    return k;
}

/* /metrics: the instances of one table go out together (its HELP and TYPE once). */
void source_set_prom(const struct source_set *ss, struct ctr_text *t)
{
    static struct snap_ref refs[SOURCE_SET_MAX * SOURCE_MAX_TABLES]; /* the loop's thread */
    size_t nrefs = take_all(ss, refs, sizeof refs / sizeof refs[0]);
    bool done[SOURCE_SET_MAX * SOURCE_MAX_TABLES] = {false};
    for (size_t i = 0; i < nrefs; i++) {
        if (done[i])
            continue;
        const void *snap[SOURCE_SET_MAX * SOURCE_MAX_TABLES];
        const char *label[SOURCE_SET_MAX * SOURCE_MAX_TABLES];
        size_t ninst = 0;
        bool labelled = false;
        for (size_t k = i; k < nrefs; k++) {
            if (done[k] || refs[k].d != refs[i].d)
                continue;
            done[k] = true;
            snap[ninst] = refs[k].snap;
            labelled |= refs[k].label != NULL;
            label[ninst++] = refs[k].label;
        }
        ctr_prom(t, refs[i].d, refs[i].n, snap, labelled ? label : NULL, ninst);
    }
}

void source_set_json(const struct source_set *ss, struct json *j)
{
    static struct snap_ref refs[SOURCE_SET_MAX * SOURCE_MAX_TABLES]; /* the loop's thread */
    size_t nrefs = take_all(ss, refs, sizeof refs / sizeof refs[0]);
    bool open = false;
    for (size_t i = 0; i < nrefs; i++) {
        bool first = true, keyed = false; /* the first instance of its table writes the sums */
        for (size_t k = 0; k < i && first; k++)
            first = refs[k].d != refs[i].d;
        for (size_t r = 0; first && r < refs[i].n; r++)
            keyed |= refs[i].d[r].json != NULL;
        if (!keyed)
            continue;
        uint64_t sum[SOURCE_SNAP_MAX / sizeof(uint64_t)] = {0}; /* a snapshot is uint64_t */
        for (size_t k = i; k < nrefs; k++)
            for (size_t w = 0; refs[k].d == refs[i].d && w < sizeof sum / sizeof sum[0]; w++) {
                uint64_t v;
                memcpy(&v, refs[k].snap + w * sizeof v, sizeof v);
                sum[w] += v;
            }
        if (!open)
            json_obj_open(j, "sources");
        open = true;
        ctr_json(j, refs[i].d, refs[i].n, sum);
    }
    if (open)
        json_obj_close(j);
}

uint64_t source_set_counter(const struct source_set *ss, const char *metric)
{
    static struct snap_ref refs[SOURCE_SET_MAX * SOURCE_MAX_TABLES]; /* the loop's thread */
    size_t nrefs = take_all(ss, refs, sizeof refs / sizeof refs[0]);
    uint64_t v = 0;
    for (size_t i = 0; i < nrefs; i++)
        for (size_t k = 0; k < refs[i].n; k++)
            if (refs[i].d[k].metric && strcmp(refs[i].d[k].metric, metric) == 0)
                v += ctr_value(&refs[i].d[k], refs[i].snap);
    return v;
}

void source_set_table(const struct source_set *ss, FILE *f)
{
    static struct snap_ref refs[SOURCE_SET_MAX * SOURCE_MAX_TABLES]; /* the loop's thread */
    size_t nrefs = take_all(ss, refs, sizeof refs / sizeof refs[0]);
    for (size_t i = 0; i < nrefs; i++)
        ctr_table(f, NULL, refs[i].d, refs[i].n, refs[i].snap);
}

void source_set_close(struct source_set *ss)
{
    for (size_t i = 0; i < ss->n; i++) {
        struct source_slot *sl = &ss->slot[i];
        if (!sl->ended) {
            int fd = sl->s->ops->fd ? sl->s->ops->fd(sl->s) : -1;
            if (fd >= 0)
                evloop_del_fd(ss->loop, fd);
        }
        sl->s->ops->close(sl->s);
    }
    ss->n = ss->open = 0;
}
