/* goflow2.c: GoFlow2 record files (see goflow2.h). */
#include "goflow2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowpb.h"
#include "log.h"

struct goflow2_source {
    struct source base;
    FILE *f;
    size_t have, at; /* bytes in buf, and read from */
    bool eof;
    struct goflow2_stats st;
    uint8_t buf[GOFLOW2_BUF];
};

/* Keep what is left at the start of buf and read more. */
static int refill(struct goflow2_source *g)
{
    memmove(g->buf, g->buf + g->at, g->have - g->at);
    g->have -= g->at;
    g->at = 0;
    size_t n = fread(g->buf + g->have, 1, sizeof g->buf - g->have, g->f);
    g->have += n;
    if (n == 0) {
        if (ferror(g->f)) {
            log_error("%s: read error", g->base.name);
            return -EIO;
        }
        g->eof = true;
    }
    return 0;
}

static int fail(struct goflow2_source *g, const char *why)
{
    log_error("%s: %s at byte offset %ld; the rest of the file is not read", g->base.name, why,
              ftell(g->f) - (long)(g->have - g->at));
    g->base.failures++;
    return -EBADMSG;
}

static int gf_drain(struct source *s, size_t budget)
{
    struct goflow2_source *g = (struct goflow2_source *)s;
    size_t n = 0;
    while (n < budget) {
        const uint8_t *p = g->buf + g->at, *end = g->buf + g->have, *msg;
        size_t len;
        int rc = goflow2_next(&p, end, &msg, &len);
        if (rc == 1 && len > GOFLOW2_MSG_MAX)
            return fail(g, "a message longer than 4096 bytes");
        if (rc != 1) { /* the end of what is buffered: a prefix or message cut there */
            if (g->eof) {
                if (g->at == g->have)
                    return n ? (int)n : SOURCE_EOF;
                return fail(g, "a message cut short");
            }
            if (g->have - g->at > GOFLOW2_MSG_MAX + 16)
                return fail(g, "a broken length prefix");
            if ((rc = refill(g)) < 0) {
                g->base.failures++;
                return rc;
            }
            continue;
        }
        g->at = (size_t)(p - g->buf);
        struct flow_rec f;
        if (goflow2_decode(msg, len, &f) < 0) {
            g->st.bad++;
            continue;
        }
        g->st.records++;
        g->base.out.record(g->base.out.arg, &f);
        n++;
    }
    return (int)n;
}

static bool gf_ready(struct source *s)
{
    (void)s;
    return true;
}

static size_t gf_counters(struct source *s, size_t table, const struct ctr_def **defs, void *snap)
{
    struct goflow2_source *g = (struct goflow2_source *)s;
#define T struct goflow2_stats
    static const struct ctr_def d[] = {GOFLOW2_COUNTERS(CTR_ROW, CTR_ALIAS)};
#undef T
    return source_one_table(table, d, sizeof d / sizeof d[0], &g->st, sizeof g->st, defs, snap);
}

static void gf_close(struct source *s)
{
    struct goflow2_source *g = (struct goflow2_source *)s;
    if (g->f)
        fclose(g->f);
    free(g);
}

static const struct source_ops goflow2_ops = {
    .kind = "goflow2",
    .budget = 1024,
    .ready = gf_ready,
    .drain = gf_drain,
    .counters = gf_counters,
    .close = gf_close,
};

int goflow2_source_open(const char *path, const struct source_out *out, struct source **src,
                        char *err, size_t errlen)
{
    struct goflow2_source *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    g->f = fopen(path, "rb");
    if (!g->f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        free(g);
        return -e;
    }
    source_init(&g->base, &goflow2_ops, out, path);
    *src = &g->base;
    return 0;
}
