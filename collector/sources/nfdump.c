#include "nfdump.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "json_in.h"
#include "log.h"
#include "source.h"
#include "textfield.h"

extern char **environ;

/* "...AP.SF" (nfdump 1.7: C E U A P R S F, '.' = clear) or "0x1b". */
static bool parse_flags(const char *s, size_t n, uint8_t *out)
{
    uint64_t v;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (n > 4 || !tf_hex(s, n, &v))
            return false;
        *out = (uint8_t)v;
        return true;
    }
    if (tf_uint_max(s, n, 255, &v)) {
        *out = (uint8_t)v;
        return true;
    }
    static const char names[8] = {'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F'};
    if (n != 8)
        return false;
    uint8_t f = 0;
    for (size_t i = 0; i < 8; i++) {
        if (s[i] == names[i])
            f |= (uint8_t)(0x80 >> i);
        else if (s[i] != '.')
            return false;
    }
    *out = f;
    return true;
}

/* ---- JSON (nfdump 1.7 -o json: an array of objects, pretty-printed) ---- */

enum {
    HAVE_SRC = 1,
    HAVE_DST = 2,
    HAVE_FIRST = 4,
    HAVE_LAST = 8,
};

/* nfdump's objects are flat; a little nesting is allowed (and skipped) for later versions. */
#define NFDUMP_JSON_DEPTH 8

int nfdump_parser_init(struct nfdump_parser *p, enum nfdump_fmt fmt)
{
    memset(p, 0, sizeof *p);
    p->fmt = fmt;
    for (size_t i = 0; i < NFDUMP_CSV_COLS; i++)
        p->col[i] = -1;
    if (fmt != NFDUMP_FMT_JSON)
        return 0;
    p->obj = malloc(NFDUMP_OBJ_MAX);
    int rc = p->obj ? jin_new(NFDUMP_JSON_DEPTH, &p->json) : -ENOMEM;
    if (rc < 0)
        nfdump_parser_fini(p);
    return rc;
}

void nfdump_parser_fini(struct nfdump_parser *p)
{
    jin_free(p->json);
    free(p->obj);
    p->json = NULL;
    p->obj = NULL;
}

static void rec_reset(struct nfdump_parser *p)
{
    memset(&p->cur, 0, sizeof p->cur);
    p->have = 0;
    p->is_flow = false;
    p->rec_bad = false;
    p->icmp_type = p->icmp_code = 0;
}

static int rec_finish(struct nfdump_parser *p, struct flow_rec *out)
{
    struct flow_rec *f = &p->cur;
    if (p->rec_bad)
        return -EINVAL;
    if (!p->is_flow)
        return 0;
    if ((p->have & (HAVE_SRC | HAVE_DST | HAVE_FIRST)) != (HAVE_SRC | HAVE_DST | HAVE_FIRST))
        return -EINVAL;
    if (!(p->have & HAVE_LAST) || f->last_ms < f->first_ms)
        f->last_ms = f->first_ms;
    if (addr_is_v4(f->src) != addr_is_v4(f->dst))
        return -EINVAL;
    if (!addr_is_v4(f->src))
        f->flags |= FLOW_F_V6;
    if (f->proto == 1 || f->proto == 58) {
        f->sport = 0;
        if (!f->dport)
            f->dport = (uint16_t)(p->icmp_type << 8 | p->icmp_code);
    }
    f->sampling = 1;
    *out = *f;
    return 1;
}

/* A number 0..max into *out (uint8/16/32 by size). */
static bool take_uint(const char *v, size_t vn, uint64_t max, void *out, size_t size)
{
    uint64_t x;
    if (!tf_uint_max(v, vn, max, &x))
        return false;
    if (size == 1)
        *(uint8_t *)out = (uint8_t)x;
    else if (size == 2)
        *(uint16_t *)out = (uint16_t)x;
    else
        *(uint32_t *)out = (uint32_t)x;
    return true;
}

/* One member of a record object (jin_member_fn): a value we cannot read makes the record bad. */
static int json_member(void *arg, const char *k, size_t kn, const struct jin_value *jv)
{
    struct nfdump_parser *p = arg;
    struct flow_rec *f = &p->cur;
    const char *v = jv->s;
    size_t vn = jv->n;
    bool ok = true;
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
    if (KEY("type")) {
        p->is_flow = jv->type == JIN_STRING && vn == 4 && memcmp(v, "FLOW", 4) == 0;
    } else if (KEY("first") || KEY("last")) {
        ok = tf_datetime(v, vn, KEY("first") ? &f->first_ms : &f->last_ms);
        p->have |= KEY("first") ? HAVE_FIRST : HAVE_LAST;
    } else if (KEY("in_packets") || KEY("in_bytes")) {
        ok = tf_u64(v, vn, KEY("in_packets") ? &f->packets : &f->bytes);
    } else if (KEY("proto")) {
        ok = take_uint(v, vn, 255, &f->proto, 1);
    } else if (KEY("tcp_flags")) {
        ok = parse_flags(v, vn, &f->tcp_flags);
    } else if (KEY("src_port") || KEY("dst_port")) {
        ok = take_uint(v, vn, 65535, KEY("src_port") ? &f->sport : &f->dport, 2);
    } else if (KEY("icmp_type") || KEY("icmp_code")) {
        ok = take_uint(v, vn, 255, KEY("icmp_type") ? &p->icmp_type : &p->icmp_code, 1);
    } else if (KEY("src4_addr") || KEY("src6_addr") || KEY("dst4_addr") || KEY("dst6_addr")) {
        bool src = k[0] == 's';
        p->have |= src ? HAVE_SRC : HAVE_DST;
        ok = tf_addr(v, vn, src ? f->src : f->dst);
    } else if (KEY("src_as") || KEY("dst_as")) {
        ok = take_uint(v, vn, UINT32_MAX, KEY("src_as") ? &f->src_as : &f->dst_as, 4);
    } /* else a field we do not use */
#undef KEY
    p->rec_bad |= !ok;
    return 0;
}

/* Blanks and the array's punctuation ('[', ',', ']') at the start of s[0..n). */
static size_t skip_punct(const char **s, size_t n)
{
    n = tf_trim(s, n);
    while (n && ((*s)[0] == '[' || (*s)[0] == ',' || (*s)[0] == ']')) {
        (*s)++;
        n = tf_trim(s, n - 1);
    }
    return n;
}

/* Drop the object being read: its remaining lines are skipped up to the next '{'. */
static void drop_object(struct nfdump_parser *p)
{
    jin_reset(p->json);
    p->obj_len = 0;
    p->resync = true;
}

/* A line of nfdump's JSON: an object's lines are gathered and handed to the JSON reader from a
 * line holding a '}' on (the reader costs per call, and an object can only end at a '}');
 * outside the objects only the array's punctuation may stand. After an object the reader
 * refused (or one too large) its remaining lines are skipped up to the next '{'. */
static int json_line(struct nfdump_parser *p, const char *s, size_t n, struct flow_rec *out)
{
    if (!jin_pending(p->json) && p->obj_len == 0) {
        n = skip_punct(&s, n);
        if (n == 0 || (p->resync && s[0] != '{'))
            return 0;
        if (s[0] != '{')
            return -EINVAL;
        p->resync = false;
        rec_reset(p);
        p->obj_bytes = 0;
    }
    p->obj_bytes += n + 1;
    if (p->obj_bytes > NFDUMP_OBJ_MAX) {
        drop_object(p);
        return -E2BIG;
    }
    memcpy(p->obj + p->obj_len, s, n);
    p->obj_len += n;
    p->obj[p->obj_len++] = '\n';
    if (!memchr(s, '}', n))
        return 0;
    size_t len = p->obj_len, used;
    p->obj_len = 0;
    int rc = jin_feed(p->json, p->obj, len, &used, json_member, p);
    if (rc < 0) {
        drop_object(p);
        return -EINVAL;
    }
    if (rc == 0)
        return 0; /* that '}' was inside a string: the object goes on */
    const char *rest = p->obj + used;
    if (skip_punct(&rest, len - used) != 0)
        return -EINVAL; /* something after the object */
    return rec_finish(p, out);
}

void nfdump_parser_skip_line(struct nfdump_parser *p)
{
    if (p->json && (jin_pending(p->json) || p->obj_len))
        drop_object(p);
}

/* ---- CSV (nfdump 1.7 -o csv: a header line, records, a blank line, a summary) ---- */

enum csv_role {
    C_TS,
    C_TE,
    C_SA,
    C_DA,
    C_SP,
    C_DP,
    C_PR,
    C_FLG,
    C_IPKT,
    C_IBYT,
    C_SAS,
    C_DAS,
    C_NROLES
};

static int csv_header(struct nfdump_parser *p, const char *s, size_t n)
{
    static const char *const names[C_NROLES] = {"ts", "te",  "sa",   "da",   "sp",  "dp",
                                                "pr", "flg", "ipkt", "ibyt", "sas", "das"};
    unsigned seen = 0, col = 0;
    struct tf_fields it = tf_fields(s, n, ',');
    const char *f;
    size_t fn;
    while (tf_field_next(&it, &f, &fn)) {
        if (col >= NFDUMP_CSV_COLS)
            return -EINVAL;
        fn = tf_trim(&f, fn);
        p->col[col] = -1;
        for (int r = 0; r < C_NROLES; r++) {
            if (strlen(names[r]) == fn && memcmp(names[r], f, fn) == 0) {
                p->col[col] = (int8_t)r;
                seen |= 1u << r;
            }
        }
        col++;
    }
    unsigned need = 1u << C_TS | 1u << C_SA | 1u << C_DA | 1u << C_PR;
    if ((seen & need) != need)
        return -EINVAL;
    p->ncols = col;
    p->header_seen = true;
    return 0;
}

/* One CSV field of role r into f. */
static bool csv_field(struct flow_rec *f, int r, const char *v, size_t vn, unsigned *have)
{
    switch (r) {
    case C_TS:
        *have |= HAVE_FIRST;
        return tf_datetime(v, vn, &f->first_ms);
    case C_TE:
        *have |= HAVE_LAST;
        return tf_datetime(v, vn, &f->last_ms);
    case C_SA:
        *have |= HAVE_SRC;
        return tf_addr(v, vn, f->src);
    case C_DA:
        *have |= HAVE_DST;
        return tf_addr(v, vn, f->dst);
    case C_SP:
        return take_uint(v, vn, 65535, &f->sport, 2);
    case C_DP:
        return take_uint(v, vn, 65535, &f->dport, 2);
    case C_PR:
        return tf_proto(v, vn, &f->proto);
    case C_FLG:
        return parse_flags(v, vn, &f->tcp_flags);
    case C_IPKT:
        return tf_u64(v, vn, &f->packets);
    case C_IBYT:
        return tf_u64(v, vn, &f->bytes);
    case C_SAS:
        return take_uint(v, vn, UINT32_MAX, &f->src_as, 4);
    case C_DAS:
        return take_uint(v, vn, UINT32_MAX, &f->dst_as, 4);
    default:
        return true;
    }
}

static int csv_line(struct nfdump_parser *p, const char *s, size_t n, struct flow_rec *out)
{
    const char *t = s;
    size_t tn = tf_trim(&t, n);
    if (p->done)
        return 0;
    if (!p->header_seen)
        return tn == 0 ? 0 : csv_header(p, t, tn);
    if (tn == 0 || (tn >= 7 && memcmp(t, "Summary", 7) == 0)) {
        p->done = true; /* the rest is nfdump's summary */
        return 0;
    }
    rec_reset(p);
    unsigned col = 0;
    struct tf_fields it = tf_fields(s, n, ',');
    const char *v;
    size_t vn;
    while (tf_field_next(&it, &v, &vn)) {
        if (col >= p->ncols)
            return -EINVAL;
        vn = tf_trim(&v, vn);
        if (!csv_field(&p->cur, p->col[col], v, vn, &p->have))
            return -EINVAL;
        col++;
    }
    if (col != p->ncols)
        return -EINVAL;
    p->is_flow = true; /* ICMP: dp already holds type << 8 | code (icmp_type/code stay 0) */
    return rec_finish(p, out);
}

int nfdump_parse_line(struct nfdump_parser *p, const char *line, size_t len, struct flow_rec *out)
{
    if (len > NFDUMP_LINE_MAX)
        return -E2BIG;
    return p->fmt == NFDUMP_FMT_CSV ? csv_line(p, line, len, out) : json_line(p, line, len, out);
}

/* ---- files ---- */

bool nfdump_is_archive(const char *path)
{
    uint8_t h[4];
    return conf_read_head(path, h, sizeof h) == 4 && h[0] == 0x0c && h[1] == 0xa5 &&
           (h[2] == 1 || h[2] == 2) && h[3] == 0;
}

int nfdump_name_time(const char *path, uint64_t *ms)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (strncmp(b, "nfcapd.", 7) != 0)
        return -EINVAL;
    b += 7;
    size_t n = strspn(b, "0123456789");
    if (n != 12 && n != 14)
        return -EINVAL;
    char t[24];
    snprintf(t, sizeof t, "%.4s-%.2s-%.2s %.2s:%.2s:%.2s", b, b + 4, b + 6, b + 8, b + 10,
             n == 14 ? b + 12 : "00");
    return tf_datetime(t, strlen(t), ms) ? 0 : -EINVAL;
}

/* environ with TZ=UTC and LC_ALL=C (nfdump prints local time and locale numbers). */
static char **child_env(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **e = calloc(n + 3, sizeof *e);
    if (!e)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "TZ=", 3) != 0 && strncmp(environ[i], "LC_ALL=", 7) != 0)
            e[k++] = environ[i];
    e[k++] = (char *)"TZ=UTC";
    e[k++] = (char *)"LC_ALL=C";
    e[k] = NULL;
    return e;
}

/* Start `bin -r path -o json|csv` with its output on *fd. 0, or a negative errno (err set). */
static int spawn_nfdump(const char *path, enum nfdump_fmt fmt, const char *bin, pid_t *pid, int *fd,
                        char *err, size_t errlen)
{
    int pfd[2], rc;
    char **env = child_env();
    posix_spawn_file_actions_t fa;
    if (!env) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: pipe: %s", path, strerror(-rc));
        free(env);
        return rc;
    }
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(pfd[0]);
        close(pfd[1]);
        free(env);
        return -rc;
    }
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *const argv[] = {(char *)bin,
                          (char *)"-r",
                          (char *)path,
                          (char *)"-o",
                          (char *)(fmt == NFDUMP_FMT_CSV ? "csv" : "json"),
                          NULL};
    rc = posix_spawnp(pid, bin, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(pfd[1]);
    if (rc != 0) {
        *pid = 0;
        snprintf(err, errlen, "%s: cannot run %s: %s (install nfdump)", path, bin, strerror(rc));
        close(pfd[0]);
        return -rc;
    }
    *fd = pfd[0];
    return 0;
}

/* Wait for the child; 0 when it ended well (or was stopped), else -EIO with err (may be NULL). */
static int reap(const char *path, pid_t pid, bool stopped, char *err, size_t errlen)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (stopped || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        return 0;
    if (err && WIFEXITED(status))
        snprintf(err, errlen, "%s: nfdump exited with status %d", path, WEXITSTATUS(status));
    else if (err)
        snprintf(err, errlen, "%s: nfdump killed by signal %d", path,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -EIO;
}

/* ---- the reader: nfdump's output, a record at a time ---- */

struct nfdump_reader {
    char *path;
    enum nfdump_fmt fmt;
    int fd; /* nfdump's stdout */
    pid_t pid;
    char *line, *buf;
    size_t ll, pos, len; /* line length; buf[pos, len) not yet looked at */
    bool skipping, eof;
    struct nfdump_parser p;
    struct nfdump_stats st;
};

int nfdump_open(const char *path, enum nfdump_fmt fmt, const char *bin, struct nfdump_reader **out,
                char *err, size_t errlen)
{
    int rc = -ENOMEM;
    struct nfdump_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path)) || !(r->line = malloc(NFDUMP_LINE_MAX + 1)) ||
        !(r->buf = malloc(65536))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    r->fmt = fmt;
    r->fd = -1;
    if ((rc = nfdump_parser_init(&r->p, fmt)) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    rc = spawn_nfdump(path, fmt, bin ? bin : "nfdump", &r->pid, &r->fd, err, errlen);
    if (rc < 0)
        goto fail;
    *out = r;
    return 0;
fail:
    nfdump_close(r, NULL, 0);
    return rc;
}

int nfdump_fd(const struct nfdump_reader *r)
{
    return r->fd;
}

/* One complete line (without its newline) to the parser: 1 with *f, else 0. */
static int take_line(struct nfdump_reader *r, struct flow_rec *f)
{
    r->st.lines++;
    int pr = nfdump_parse_line(&r->p, r->line, r->ll, f);
    r->ll = 0;
    if (pr < 0)
        r->st.errors++;
    else if (pr > 0)
        r->st.records++;
    return pr > 0;
}

/* The next byte chunk of nfdump's output; false at its end (or a read error: the exit status
 * tells). */
static bool fill(struct nfdump_reader *r)
{
    for (;;) {
        ssize_t n = read(r->fd, r->buf, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        r->pos = 0;
        r->len = (size_t)n;
        return true;
    }
}

int nfdump_next(struct nfdump_reader *r, struct flow_rec *f)
{
    while (!r->eof) {
        if (r->pos == r->len && !fill(r)) {
            r->eof = true;
            if (r->ll && !r->skipping && take_line(r, f)) /* last line without newline */
                return 1;
            break;
        }
        const char *s = r->buf + r->pos;
        const char *nl = memchr(s, '\n', r->len - r->pos);
        size_t seg = nl ? (size_t)(nl - s) : r->len - r->pos;
        r->pos += nl ? seg + 1 : seg;
        if (!r->skipping && r->ll + seg > NFDUMP_LINE_MAX) {
            r->skipping = true;
            r->st.too_long++;
            r->st.lines++;
        } else if (!r->skipping) {
            memcpy(r->line + r->ll, s, seg);
            r->ll += seg;
        }
        if (!nl)
            continue;
        if (r->skipping) {
            r->skipping = false;
            r->ll = 0;
            nfdump_parser_skip_line(&r->p);
            continue;
        }
        if (take_line(r, f))
            return 1;
    }
    return 0;
}

void nfdump_reader_stats(const struct nfdump_reader *r, struct nfdump_stats *out)
{
    *out = r->st;
}

int nfdump_close(struct nfdump_reader *r, char *err, size_t errlen)
{
    if (!r)
        return 0;
    int rc = 0;
    bool early = !r->eof; /* stopped before the end: nfdump may still be writing */
    if (r->fd >= 0)
        close(r->fd);
    if (r->pid > 0) {
        if (early)
            kill(r->pid, SIGTERM);
        rc = reap(r->path, r->pid, early, err, errlen);
    }
    nfdump_parser_fini(&r->p);
    free(r->path);
    free(r->line);
    free(r->buf);
    free(r);
    return rc;
}

/* ---- the nfcapd source ---- */

#define C CTR_COUNTER
#define NFDUMP_ROWS(X)                                                                             \
    X(T, lines, NULL, "archive_lines_total", NULL, C, "Lines of nfdump output read.")              \
    X(T, records, NULL, "archive_flows_total", NULL, C, "Flow records parsed from nfdump output.") \
    X(T, errors, NULL, "archive_malformed_lines_total", NULL, C,                                   \
      "Malformed nfdump lines or records (skipped).")                                              \
    X(T, too_long, NULL, "archive_long_lines_total", NULL, C,                                      \
      "nfdump lines longer than the line bound (skipped).")                                        \
    X(T, skipped, NULL, "archive_other_records_total", NULL, C,                                    \
      "Well-formed nfdump records that are not flows.")
#define T struct nfdump_stats
static const struct ctr_def nfdump_defs[] = {NFDUMP_ROWS(CTR_ROW)};
#undef T
#undef C
_Static_assert(sizeof(struct nfdump_stats) == sizeof nfdump_defs / sizeof nfdump_defs[0] * 8,
               "an nfdump_stats counter without its row");

struct nfdump_source {
    struct source base;      /* first */
    struct nfdump_reader *r; /* NULL once ended */
    struct nfdump_stats st;  /* the reader's, kept at the end */
};

static int nfd_src_fd(struct source *s)
{
    struct nfdump_source *ns = (struct nfdump_source *)s;
    return ns->r ? ns->r->fd : -1;
}

/* At the end: nfdump's exit status and the lines it could not give us are failures. */
static int nfd_src_end(struct nfdump_source *ns)
{
    char err[512];
    ns->st = ns->r->st;
    int rc = nfdump_close(ns->r, err, sizeof err);
    ns->r = NULL;
    if (rc < 0) {
        log_error("%s", err);
        ns->base.failures++;
    }
    if (ns->base.out.bad_lines)
        ns->base.out.bad_lines(ns->base.out.arg, true, ns->st.errors + ns->st.too_long);
    if (ns->st.errors || ns->st.too_long) {
        log_error("%s: %llu malformed nfdump lines skipped", ns->base.name,
                  (unsigned long long)(ns->st.errors + ns->st.too_long));
        ns->base.failures++;
    }
    return SOURCE_EOF;
}

/* May block on the pipe until nfdump writes (an archive is read start to end). */
static int nfd_src_drain(struct source *s, size_t budget)
{
    struct nfdump_source *ns = (struct nfdump_source *)s;
    if (!ns->r)
        return SOURCE_EOF;
    size_t n = 0;
    struct flow_rec f;
    while (n < budget) {
        if (nfdump_next(ns->r, &f) != 1)
            return n ? (int)n : nfd_src_end(ns);
        s->out.record(s->out.arg, &f);
        n++;
    }
    return (int)n;
}

static size_t nfd_src_counters(struct source *s, size_t table, const struct ctr_def **defs,
                               void *snap)
{
    struct nfdump_source *ns = (struct nfdump_source *)s;
    return source_one_table(table, nfdump_defs, sizeof nfdump_defs / sizeof nfdump_defs[0],
                            ns->r ? &ns->r->st : &ns->st, sizeof ns->st, defs, snap);
}

static void nfd_src_close(struct source *s)
{
    struct nfdump_source *ns = (struct nfdump_source *)s;
    nfdump_close(ns->r, NULL, 0);
    free(ns);
}

static const struct source_ops nfdump_source_ops = {
    .kind = "nfcapd",
    .budget = NFDUMP_SOURCE_BUDGET,
    .fd = nfd_src_fd,
    .drain = nfd_src_drain,
    .counters = nfd_src_counters,
    .close = nfd_src_close,
};

int nfdump_source_open(const char *path, enum nfdump_fmt fmt, const char *bin,
                       const struct source_out *out, struct source **src, char *err, size_t errlen)
{
    struct nfdump_source *ns = calloc(1, sizeof *ns);
    if (!ns) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    int rc = nfdump_open(path, fmt, bin, &ns->r, err, errlen);
    if (rc < 0) {
        free(ns);
        return rc;
    }
    source_init(&ns->base, &nfdump_source_ops, out, path);
    *src = &ns->base;
    return 0;
}
