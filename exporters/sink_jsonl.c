/* sink_jsonl.c: JSON lines to stdout or a file, optionally gzip (see sink_jsonl.h). */
#include "sink_jsonl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "json.h"
#include "log.h"
#include "text_out.h"

/* The stdio buffer of a plain file. A message that would not fit in what is left of it first
 * flushes the whole lines already there, so the file never ends in the middle of a message
 * (tailing readers see whole lines or nothing). */
#define JSONL_BUF (1u << 16)

/* The sink's counters, defined once: its stats JSON and its /metrics lines. */
#define JSONL_COUNTERS(X, A)                                                                       \
    X(T, written, "written", "jsonl_written_messages_total", NULL, CTR_COUNTER,                    \
      "Messages written to the JSON-lines output (flushed to the file).")                          \
    X(T, lost, "lost", "jsonl_lost_messages_total", NULL, CTR_COUNTER,                             \
      "Messages the JSON-lines output could not write (or flush) to the file.")                    \
    X(T, skipped, "skipped", "jsonl_skipped_messages_total", NULL, CTR_COUNTER,                    \
      "Messages of a kind this output does not take.")                                             \
    X(T, reopens, "reopens", "jsonl_reopens_total", NULL, CTR_COUNTER,                             \
      "Reopens of the output file (SIGHUP, log rotation).")                                        \
    X(T, open_errors, "open_errors", "jsonl_open_errors_total", NULL, CTR_COUNTER,                 \
      "Failed opens of the output file.")                                                          \
    X(T, write_errors, "write_errors", "jsonl_write_errors_total", NULL, CTR_COUNTER,              \
      "Failed writes, flushes or closes of the output file.")

struct jsonl_counters {
    JSONL_COUNTERS(CTR_FIELD, CTR_NONE)
};
#define T struct jsonl_counters
static const struct ctr_def jsonl_defs[] = {JSONL_COUNTERS(CTR_ROW, CTR_ALIAS)};
#undef T
#define JSONL_NDEFS (sizeof jsonl_defs / sizeof jsonl_defs[0])

struct sink_jsonl {
    char *path; /* owned; "-" = stdout */
    bool is_stdout;
    bool gzip;
    unsigned mask;
    FILE *fp;              /* plain output (stdout or a file); NULL when gzip or closed */
    gzFile gz;             /* gzip output; NULL when plain or closed */
    bool truncate;         /* the first open truncates (replay -o); reopens always append */
    bool dirty;            /* written since the last flush: poll() pushes it out */
    size_t pending;        /* plain file: bytes in the stdio buffer (whole lines only) */
    uint64_t buffered;     /* messages taken since the last flush: written or lost at the next */
    off_t whole;           /* plain file: its size at the last flush, all whole lines */
    char *buf;             /* that buffer, JSONL_BUF bytes (glibc ignores the size without one) */
    bool in_error;         /* a write/open failed: logged once until one works again */
    struct text_out *text; /* text mode (sink_text_new): messages rendered for a person */
    char *tbuf;            /* its rendering buffer, tcap bytes */
    size_t tcap;
    struct jsonl_counters c;
};

static void jsonl_error(struct sink_jsonl *s, const char *what)
{
    if (!s->in_error)
        log_error("jsonl sink %s: %s: %s", s->path, what, strerror(errno ? errno : EIO));
    s->in_error = true;
}

static int jsonl_open(struct sink_jsonl *s, char *err, size_t errlen)
{
    if (s->gzip) {
        int fd = s->is_stdout ? dup(STDOUT_FILENO) : -1; /* gzclose must not close fd 1 */
        if (s->is_stdout && fd < 0)
            goto fail;
        s->gz = s->is_stdout ? gzdopen(fd, "wb") : gzopen(s->path, s->truncate ? "wb" : "ab");
        if (!s->gz) {
            if (fd >= 0)
                close(fd);
            goto fail;
        }
        gzbuffer(s->gz, 1 << 16);
    } else if (s->is_stdout) {
        s->fp = stdout;
    } else {
        s->fp = fopen(s->path, s->truncate ? "w" : "a");
        if (!s->fp)
            goto fail;
        setvbuf(s->fp, s->buf, _IOFBF, JSONL_BUF);
        struct stat st;
        s->whole = fstat(fileno(s->fp), &st) == 0 ? st.st_size : 0;
    }
    s->truncate = false; /* a reopen after rotation appends to what another run may have begun */
    s->pending = 0;
    return 0;
fail:;
    int e = errno ? errno : EIO;
    s->c.open_errors++;
    if (err)
        snprintf(err, errlen, "jsonl sink: cannot open %s: %s", s->path, strerror(e));
    return -e;
}

/* Returns 0 or -EIO (a write or close error). */
static int jsonl_close(struct sink_jsonl *s)
{
    int rc = 0;
    if (s->gz) {
        rc = gzclose(s->gz) == Z_OK ? 0 : -EIO;
        s->gz = NULL;
    }
    if (s->fp) {
        int r = s->fp == stdout ? fflush(stdout) : fclose(s->fp);
        if (r != 0)
            rc = -EIO;
        s->fp = NULL;
    }
    return rc;
}

static bool jsonl_ready(struct sink_jsonl *s)
{
    return s->fp || s->gz;
}

/* A write or flush failed: every message taken since the last flush counts as lost, none as
 * written (what stdio had put out of them may end in the middle of a line). A plain file is cut
 * back to its size at the last flush and what stdio still holds is dropped, so the file ends in
 * a whole line and the next line never continues a torn one. */
static void jsonl_lose(struct sink_jsonl *s, const char *what)
{
    s->c.write_errors++;
    s->c.lost += s->buffered;
    s->buffered = 0;
    s->pending = 0;
    jsonl_error(s, what);
    if (!s->fp)
        return;
    if (s->fp != stdout) {
        __fpurge(s->fp);
        if (ftruncate(fileno(s->fp), s->whole) < 0 && errno != EINVAL) /* EINVAL: not a file */
            log_error("jsonl sink %s: cannot cut back a torn line: %s", s->path, strerror(errno));
    }
    clearerr(s->fp);
}

/* Push what is buffered out to the file: the messages taken since the last push are written
 * (counted) or, on a failure, lost (jsonl_lose). */
static bool jsonl_push(struct sink_jsonl *s)
{
    if (!(s->gz ? gzflush(s->gz, Z_SYNC_FLUSH) == Z_OK : fflush(s->fp) == 0)) {
        jsonl_lose(s, "flush failed");
        return false;
    }
    struct stat st;
    if (s->fp && s->fp != stdout && fstat(fileno(s->fp), &st) == 0)
        s->whole = st.st_size;
    s->c.written += s->buffered;
    s->buffered = 0;
    s->pending = 0;
    s->in_error = false;
    return true;
}

/* Write whole lines: data (a JSON message, then '\n' when nl; or text that ends its lines).
 * False when it failed (jsonl_lose has counted what was buffered before). */
static bool jsonl_write(struct sink_jsonl *s, const char *data, size_t len, bool nl)
{
    size_t all = len + nl;
    bool ok, file = s->gz == NULL && s->fp != stdout;
    if (s->gz) {
        ok = (len == 0 || gzwrite(s->gz, data, (unsigned)len) == (int)len) &&
             (!nl || gzputc(s->gz, '\n') == '\n');
    } else {
        if (file && s->pending && s->pending + all > JSONL_BUF && !jsonl_push(s))
            return false;
        ok = fwrite(data, 1, len, s->fp) == len && (!nl || putc('\n', s->fp) != EOF);
    }
    if (!ok) {
        jsonl_lose(s, "write failed");
        return false;
    }
    if (file && all >= JSONL_BUF) /* larger than the buffer: out whole, now */
        return jsonl_push(s);
    if (file)
        s->pending += all;
    return true;
}

/* Text mode: room for what the message may render to. */
static bool text_room(struct sink_jsonl *s, enum msg_kind kind)
{
    size_t want = TEXT_OUT_LINE_MAX + (kind == MSG_TOTALS ? text_out_table_size(s->text) : 0);
    if (want <= s->tcap)
        return true;
    char *b = realloc(s->tbuf, want);
    if (!b)
        return false;
    s->tbuf = b;
    s->tcap = want;
    return true;
}

static int jsonl_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                         const char *json, size_t len)
{
    struct sink_jsonl *s = self;
    (void)key;
    (void)keylen;
    if ((unsigned)kind >= MSG_KIND_COUNT || !(s->mask & SINK_JSONL_KIND(kind))) {
        s->c.skipped++;
        return 0;
    }
    if (!jsonl_ready(s) || (s->text && !text_room(s, kind))) {
        s->c.lost++;
        return -EIO;
    }
    bool ok;
    if (s->text) {
        size_t n = text_out_message(s->text, kind, json, len, s->tbuf, s->tcap);
        ok = n == 0 || jsonl_write(s, s->tbuf, n, false);
    } else {
        ok = jsonl_write(s, json, len, true);
    }
    if (!ok) {
        s->c.lost++;
        return -EIO;
    }
    s->buffered++; /* counted written once it is flushed out (jsonl_push) */
    s->dirty = true;
    return 0;
}

static int jsonl_flush(void *self, int timeout_ms)
{
    struct sink_jsonl *s = self;
    (void)timeout_ms;
    if (!jsonl_ready(s))
        return -EIO;
    bool ok = true;
    if (s->text && text_room(s, MSG_TOTALS)) { /* the end of a run without totals */
        size_t n = text_out_finish(s->text, s->tbuf, s->tcap);
        ok = n == 0 || jsonl_write(s, s->tbuf, n, false);
    }
    ok = jsonl_push(s) && ok;
    s->dirty = false;
    return ok ? 0 : -EIO;
}

/* Called every 100 ms by the daemon (sinks_poll): what was written since the last call goes
 * out to the file now, so a tailing reader (Filebeat, Vector, Splunk) has every message within
 * a poll interval and a SIGKILL loses at most that much. */
static void jsonl_poll(void *self)
{
    struct sink_jsonl *s = self;
    if (!jsonl_ready(s) && jsonl_open(s, NULL, 0) == 0) { /* a failed reopen: retry */
        log_info("jsonl sink %s: reopened", s->path);
        s->in_error = false;
    }
    if (s->dirty && jsonl_ready(s))
        jsonl_flush(s, 0);
}

static void jsonl_reopen(void *self)
{
    struct sink_jsonl *s = self;
    if (s->is_stdout && !s->gzip) {
        jsonl_push(s);
        return;
    }
    if (jsonl_ready(s))
        jsonl_push(s); /* what was taken is counted written or lost before the file goes */
    if (jsonl_close(s) < 0) {
        s->c.write_errors++;
        jsonl_error(s, "close failed");
    }
    s->c.reopens++;
    char err[256];
    if (jsonl_open(s, err, sizeof err) < 0) {
        log_error("%s (will retry)", err);
        s->in_error = true;
    }
}

static void jsonl_stats(void *self, struct json *j)
{
    struct sink_jsonl *s = self;
    ctr_json(j, jsonl_defs, JSONL_NDEFS, &s->c);
}

static size_t jsonl_counters_op(void *self, const struct ctr_def **defs, void *snap)
{
    struct sink_jsonl *s = self;
    memcpy(snap, &s->c, sizeof s->c);
    *defs = jsonl_defs;
    return JSONL_NDEFS;
}

static void jsonl_health(void *self, struct sink_health *h)
{
    struct sink_jsonl *s = self;
    h->lost = s->c.lost;
    h->where = s->path;
}

static void jsonl_destroy(void *self)
{
    struct sink_jsonl *s = self;
    if (!s)
        return;
    if (jsonl_close(s) < 0)
        log_error("jsonl sink %s: final flush/close failed", s->path);
    text_out_free(s->text);
    free(s->tbuf);
    free(s->buf);
    free(s->path);
    free(s);
}

static const struct sink_ops jsonl_ops = {
    .name = "jsonl",
    .publish = jsonl_publish,
    .poll = jsonl_poll,
    .flush = jsonl_flush,
    .reopen = jsonl_reopen,
    .stats_json = jsonl_stats,
    .health = jsonl_health,
    .counters = jsonl_counters_op,
    .destroy = jsonl_destroy,
};

int sink_text_new(const char *path, bool truncate, struct sink *out, char *err, size_t errlen)
{
    int rc = sink_jsonl_new(path, false, truncate, SINK_JSONL_ALL, out, err, errlen);
    if (rc < 0)
        return rc;
    struct sink_jsonl *s = out->self;
    if (text_out_new(&s->text) < 0 || !text_room(s, MSG_ALERT)) {
        jsonl_ops.destroy(s);
        snprintf(err, errlen, "text sink: out of memory");
        return -ENOMEM;
    }
    return 0;
}

int sink_jsonl_new(const char *path, bool gzip, bool truncate, unsigned kinds_mask,
                   struct sink *out, char *err, size_t errlen)
{
    if (!path || !*path || !out) {
        snprintf(err, errlen, "jsonl sink: no path");
        return -EINVAL;
    }
    struct sink_jsonl *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || !(s->buf = malloc(JSONL_BUF))) {
        if (s)
            free(s->path);
        free(s);
        snprintf(err, errlen, "jsonl sink: out of memory");
        return -ENOMEM;
    }
    s->is_stdout = strcmp(path, "-") == 0;
    s->gzip = gzip;
    s->truncate = truncate && !s->is_stdout;
    s->mask = kinds_mask;
    int rc = jsonl_open(s, err, errlen);
    if (rc < 0) {
        free(s->buf);
        free(s->path);
        free(s);
        return rc;
    }
    out->ops = &jsonl_ops;
    out->self = s;
    return 0;
}
