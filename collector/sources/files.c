/* files.c: the files of a replay as one source (see files.h). */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "be.h"
#include "capture.h"
#include "conf.h"
#include "goflow2.h"
#include "log.h"

/* ---- the inputs, in time order ---- */

struct input {
    char *path;
    enum files_kind kind;
    enum flowlog_fmt fmt;
    uint64_t key; /* ms; UINT64_MAX = unknown (last) */
    size_t order;
};

struct inlist {
    struct input *v;
    size_t n, cap;
};

static bool is_capture_magic(const char *path)
{
    uint8_t h[4];
    if (conf_read_head(path, h, sizeof h) < 4)
        return false;
    uint32_t be = be_get32(h);
    return be == 0xa1b2c3d4u || be == 0xd4c3b2a1u || be == 0xa1b23c4du || be == 0x4d3cb2a1u ||
           be == 0x0a0d0d0au || (h[0] == 0x1f && h[1] == 0x8b);
}

static int add_input(struct inlist *l, const char *path, enum files_kind kind, enum flowlog_fmt fmt,
                     char *err, size_t errlen)
{
    if (l->n >= FILES_MAX) {
        snprintf(err, errlen, "more than %d input files", FILES_MAX);
        return -E2BIG;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        struct input *v = realloc(l->v, nc * sizeof *v);
        if (!v) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        l->v = v;
        l->cap = nc;
    }
    char *p = strdup(path);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    l->v[l->n] =
        (struct input){.path = p, .kind = kind, .fmt = fmt, .key = UINT64_MAX, .order = l->n};
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int expand_dir(struct inlist *l, const char *dir, int depth, char *err, size_t errlen)
{
    if (depth > 8)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(e));
        return -e;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, "nfcapd.current", 14) == 0)
            continue;
        if (n >= FILES_MAX) {
            snprintf(err, errlen, "%s: more than %d entries", dir, FILES_MAX);
            rc = -E2BIG;
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **v = realloc(names, nc * sizeof *v);
            if (!v) {
                rc = -ENOMEM;
                snprintf(err, errlen, "out of memory");
                break;
            }
            names = v;
            cap = nc;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            rc = -ENOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (rc == 0 && n)
        qsort(names, n, sizeof *names, cmp_str);
    enum flowlog_fmt fmt;
    size_t skipped = 0, first_skipped = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat sb;
        if (stat(names[i], &sb) < 0 || (S_ISREG(sb.st_mode) && access(names[i], R_OK) < 0))
            /* unreadable (no permission, a dangling link): what it is cannot be told, so it is
             * kept as a named file is, and opening it reports the error (and the exit status) */
            rc = add_input(l, names[i], FILES_CAPTURE, FLOWLOG_AUTO, err, errlen);
        else if (S_ISDIR(sb.st_mode))
            rc = expand_dir(l, names[i], depth + 1, err, errlen);
        else if (S_ISREG(sb.st_mode) && nfdump_is_archive(names[i]))
            rc = add_input(l, names[i], FILES_ARCHIVE, FLOWLOG_AUTO, err, errlen);
        else if (S_ISREG(sb.st_mode) && (fmt = flowlog_sniff(names[i])) != FLOWLOG_AUTO)
            rc = add_input(l, names[i], FILES_FLOWLOG, fmt, err, errlen);
        else if (S_ISREG(sb.st_mode) && is_capture_magic(names[i]))
            rc = add_input(l, names[i], FILES_CAPTURE, FLOWLOG_AUTO, err, errlen);
        else if (S_ISREG(sb.st_mode) && skipped++ == 0)
            first_skipped = i;
    }
    if (rc == 0 && skipped) /* said, so that an empty or cut capture is not missed unseen */
        log_warn("%s: %zu file%s skipped: no capture, nfcapd file or flow log (the first: %s)", dir,
                 skipped, skipped == 1 ? "" : "s", names[first_skipped]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int cmp_input(const void *a, const void *b)
{
    const struct input *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A named file: an nfcapd archive, a Zeek/Argus log (by content, or any file that is not a
 * capture when the format was given), else a capture (opening it reports what is wrong). */
static int add_named(struct inlist *l, const char *path, enum flowlog_fmt log_fmt, char *err,
                     size_t errlen)
{
    if (strcmp(path, "-") == 0) /* stdin: a capture, read once (nothing may peek at it) */
        return add_input(l, path, FILES_CAPTURE, FLOWLOG_AUTO, err, errlen);
    if (nfdump_is_archive(path))
        return add_input(l, path, FILES_ARCHIVE, FLOWLOG_AUTO, err, errlen);
    size_t plen = strlen(path);
    if (plen > 8 && strcmp(path + plen - 8, ".goflow2") == 0) /* no magic: by name */
        return add_input(l, path, FILES_GOFLOW2, FLOWLOG_AUTO, err, errlen);
    enum flowlog_fmt fmt = flowlog_sniff(path);
    if (fmt != FLOWLOG_AUTO)
        return add_input(l, path, FILES_FLOWLOG, log_fmt != FLOWLOG_AUTO ? log_fmt : fmt, err,
                         errlen);
    uint64_t ts;
    char e[256];
    if (log_fmt != FLOWLOG_AUTO && capture_first_ts(path, &ts, e, sizeof e) != 1)
        return add_input(l, path, FILES_FLOWLOG, log_fmt, err, errlen);
    return add_input(l, path, FILES_CAPTURE, FLOWLOG_AUTO, err, errlen);
}

int files_expand(const char *const *inputs, size_t n, enum flowlog_fmt log_fmt,
                 struct files_input **out, char *err, size_t errlen)
{
    struct inlist l = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat sb;
        if (stat(inputs[i], &sb) == 0 && S_ISDIR(sb.st_mode))
            rc = expand_dir(&l, inputs[i], 0, err, errlen);
        else /* a named file is kept even when unreadable: opening it reports the error */
            rc = add_named(&l, inputs[i], log_fmt, err, errlen);
    }
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        struct input *in = &l.v[i];
        struct stat sb;
        if (in->kind == FILES_ARCHIVE) {
            if (nfdump_name_time(in->path, &in->key) < 0 && stat(in->path, &sb) == 0)
                in->key = (uint64_t)sb.st_mtime * 1000;
        } else if (in->kind == FILES_GOFLOW2) {
            if (stat(in->path, &sb) == 0)
                in->key = (uint64_t)sb.st_mtime * 1000;
        } else if (in->kind == FILES_FLOWLOG) {
            if (flowlog_first_ms(in->path, in->fmt, &in->key) < 0 && stat(in->path, &sb) == 0)
                in->key = (uint64_t)sb.st_mtime * 1000;
        } else if (strcmp(in->path, "-") != 0) { /* stdin cannot be read twice: first */
            uint64_t ts;
            char e[256];
            if (capture_first_ts(in->path, &ts, e, sizeof e) == 1)
                in->key = ts / 1000000;
        }
    }
    if (rc < 0) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i].path);
        free(l.v);
        return rc;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_input);
    struct files_input *v = calloc(l.n ? l.n : 1, sizeof *v);
    if (!v) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i].path);
        free(l.v);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < l.n; i++)
        v[i] = (struct files_input){l.v[i].path, l.v[i].kind, l.v[i].fmt};
    free(l.v);
    *out = v;
    return (int)l.n;
}

void files_free(struct files_input *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].path);
    free(v);
}

/* ---- the source ---- */

struct kind_acc { /* the counters of the closed files of one kind, added up */
    const struct ctr_def *d;
    size_t n;
    _Alignas(uint64_t) uint64_t v[SOURCE_SNAP_MAX / sizeof(uint64_t)];
};

struct files_source {
    struct source base; /* first */
    struct files_input *v;
    size_t n, next;
    struct files_opts o;
    struct source *cur; /* the file being read, or NULL */
    enum files_kind cur_kind;
    uint64_t cur_size, total_bytes, done_bytes;
    struct kind_acc acc[FILES_KINDS];
};

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* Add a snapshot of table d into acc: counters add up, gauges take the last value. */
static void acc_add(struct kind_acc *a, const struct ctr_def *d, size_t n, const void *snap)
{
    a->d = d;
    a->n = n;
    for (size_t i = 0; i < n; i++) {
        if (!d[i].metric)
            continue; /* an alias of another row */
        uint64_t v = ctr_value(&d[i], snap), *at = &a->v[d[i].off / sizeof(uint64_t)];
        *at = d[i].kind == CTR_COUNTER ? *at + v : v;
    }
}

static void end_current(struct files_source *fs)
{
    struct source *c = fs->cur;
    _Alignas(uint64_t) char snap[SOURCE_SNAP_MAX];
    const struct ctr_def *d;
    size_t n = c->ops->counters ? c->ops->counters(c, 0, &d, snap) : 0;
    if (n)
        acc_add(&fs->acc[fs->cur_kind], d, n, snap);
    fs->base.failures += c->failures;
    c->ops->close(c);
    fs->cur = NULL;
    fs->done_bytes += fs->cur_size;
}

/* Open the next input that can be opened; false when none is left. */
static bool open_next(struct files_source *fs)
{
    char err[512];
    while (fs->next < fs->n) {
        const struct files_input *in = &fs->v[fs->next++];
        int rc;
        if (in->kind == FILES_ARCHIVE)
            rc = nfdump_source_open(in->path, fs->o.nfdump_fmt, fs->o.nfdump_bin, &fs->base.out,
                                    &fs->cur, err, sizeof err);
        else if (in->kind == FILES_FLOWLOG)
            rc = flowlog_source_open(in->path, in->fmt, &fs->base.out, &fs->cur, err, sizeof err);
        else if (in->kind == FILES_GOFLOW2)
            rc = goflow2_source_open(in->path, &fs->base.out, &fs->cur, err, sizeof err);
        else
            rc = capture_source_open_file(in->path, &fs->base.out, &fs->cur, err, sizeof err);
        fs->cur_size = file_size(in->path);
        if (rc == 0) {
            fs->cur_kind = in->kind;
            return true;
        }
        log_error("%s", err);
        fs->base.failures++;
        fs->done_bytes += fs->cur_size;
    }
    return false;
}

static bool files_ready(struct source *s)
{
    (void)s;
    return true; /* files: always something to read, or the end to report */
}

static int files_drain(struct source *s, size_t budget)
{
    struct files_source *fs = (struct files_source *)s;
    if (!fs->cur && !open_next(fs))
        return SOURCE_EOF;
    int n = fs->cur->ops->drain(fs->cur, budget);
    if (n >= 0)
        return n;
    end_current(fs); /* its end or its failure (logged, counted): the next file */
    return 0;
}

static size_t files_counters(struct source *s, size_t table, const struct ctr_def **defs,
                             void *snap)
{
    struct files_source *fs = (struct files_source *)s;
    size_t t = 0;
    for (int k = 0; k < FILES_KINDS; k++) {
        struct kind_acc a = fs->acc[k];
        if (fs->cur && fs->cur_kind == (enum files_kind)k) { /* and the file being read */
            _Alignas(uint64_t) char cs[SOURCE_SNAP_MAX];
            const struct ctr_def *d;
            size_t n = fs->cur->ops->counters ? fs->cur->ops->counters(fs->cur, 0, &d, cs) : 0;
            if (n)
                acc_add(&a, d, n, cs);
        }
        if (!a.n || t++ != table)
            continue;
        memcpy(snap, a.v, sizeof a.v);
        *defs = a.d;
        return a.n;
    }
    return 0;
}

static void files_close(struct source *s)
{
    struct files_source *fs = (struct files_source *)s;
    if (fs->cur)
        fs->cur->ops->close(fs->cur);
    files_free(fs->v, fs->n);
    free(fs);
}

static const struct source_ops files_source_ops = {
    .kind = "files",
    .budget = 1024,
    .ready = files_ready,
    .drain = files_drain,
    .counters = files_counters,
    .close = files_close,
};

int files_source_open(struct files_input *v, size_t n, const struct files_opts *o,
                      const struct source_out *out, struct source **src)
{
    struct files_source *fs = calloc(1, sizeof *fs);
    if (!fs) {
        files_free(v, n);
        return -ENOMEM;
    }
    source_init(&fs->base, &files_source_ops, out, "files");
    fs->v = v;
    fs->n = n;
    fs->o = *o;
    for (size_t i = 0; i < n; i++)
        fs->total_bytes += file_size(v[i].path);
    *src = &fs->base;
    return 0;
}

void files_source_progress(struct source *s, uint64_t *done, uint64_t *total)
{
    struct files_source *fs = (struct files_source *)s;
    *done = fs->done_bytes;
    if (fs->cur && fs->cur_kind == FILES_CAPTURE)
        *done += capture_bytes_read(capture_source_capture(fs->cur));
    *total = fs->total_bytes;
}
