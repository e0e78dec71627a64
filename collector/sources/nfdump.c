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

/* ---- JSON (nfdump 1.7 -o json: one "key" : value per line) ---- */

enum {
    HAVE_SRC = 1, HAVE_DST = 2, HAVE_FIRST = 4, HAVE_LAST = 8,
};

void nfdump_parser_init(struct nfdump_parser *p, enum nfdump_fmt fmt)
{
    memset(p, 0, sizeof *p);
    p->fmt = fmt;
    for (size_t i = 0; i < NFDUMP_CSV_COLS; i++)
        p->col[i] = -1;
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
        return -1;
    if (!p->is_flow)
        return 0;
    if ((p->have & (HAVE_SRC | HAVE_DST | HAVE_FIRST)) != (HAVE_SRC | HAVE_DST | HAVE_FIRST))
        return -1;
    if (!(p->have & HAVE_LAST) || f->last_ms < f->first_ms)
        f->last_ms = f->first_ms;
    if (addr_is_v4(f->src) != addr_is_v4(f->dst))
        return -1;
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

/* value: a "string" (quotes removed) or a bare number */
static bool json_value(const char **v, size_t *n)
{
    *n = tf_trim(v, *n);
    if (*n && (*v)[*n - 1] == ',')
        (*n)--;
    *n = tf_trim(v, *n);
    if (*n >= 2 && (*v)[0] == '"') {
        if ((*v)[*n - 1] != '"')
            return false;
        (*v)++;
        *n -= 2;
        return memchr(*v, '"', *n) == NULL && memchr(*v, '\\', *n) == NULL;
    }
    return *n > 0;
}

static bool json_field(struct nfdump_parser *p, const char *k, size_t kn, const char *v, size_t vn)
{
    struct flow_rec *f = &p->cur;
    uint64_t x;
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
    if (KEY("type")) {
        p->is_flow = vn == 4 && memcmp(v, "FLOW", 4) == 0;
        return true;
    }
    if (KEY("first") || KEY("last")) {
        if (!tf_datetime(v, vn, &x))
            return false;
        if (KEY("first")) {
            f->first_ms = x;
            p->have |= HAVE_FIRST;
        } else {
            f->last_ms = x;
            p->have |= HAVE_LAST;
        }
        return true;
    }
    if (KEY("in_packets"))
        return tf_u64(v, vn, &f->packets);
    if (KEY("in_bytes"))
        return tf_u64(v, vn, &f->bytes);
    if (KEY("proto")) {
        if (!tf_uint_max(v, vn, 255, &x))
            return false;
        f->proto = (uint8_t)x;
        return true;
    }
    if (KEY("tcp_flags"))
        return parse_flags(v, vn, &f->tcp_flags);
    if (KEY("src_port") || KEY("dst_port")) {
        if (!tf_uint_max(v, vn, 65535, &x))
            return false;
        if (KEY("src_port"))
            f->sport = (uint16_t)x;
        else
            f->dport = (uint16_t)x;
        return true;
    }
    if (KEY("icmp_type") || KEY("icmp_code")) {
        if (!tf_uint_max(v, vn, 255, &x))
            return false;
        if (KEY("icmp_type"))
            p->icmp_type = (uint8_t)x;
        else
            p->icmp_code = (uint8_t)x;
        return true;
    }
    if (KEY("src4_addr") || KEY("src6_addr")) {
        p->have |= HAVE_SRC;
        return tf_addr(v, vn, f->src);
    }
    if (KEY("dst4_addr") || KEY("dst6_addr")) {
        p->have |= HAVE_DST;
        return tf_addr(v, vn, f->dst);
    }
    if (KEY("src_as") || KEY("dst_as")) {
        if (!tf_uint_max(v, vn, UINT32_MAX, &x))
            return false;
        if (KEY("src_as"))
            f->src_as = (uint32_t)x;
        else
            f->dst_as = (uint32_t)x;
        return true;
    }
#undef KEY
    return true; /* a field we do not use */
}

static int json_line(struct nfdump_parser *p, const char *s, size_t n, struct flow_rec *out)
{
    n = tf_trim(&s, n);
    if (n == 0 || (n == 1 && (s[0] == '[' || s[0] == ']')))
        return 0;
    if (n == 1 && s[0] == '{') {
        int rc = p->in_rec ? -1 : 0; /* an unclosed record before: malformed */
        rec_reset(p);
        p->in_rec = true;
        return rc;
    }
    if ((n == 1 && s[0] == '}') || (n == 2 && s[0] == '}' && (s[1] == ',' || s[1] == ']'))) {
        if (!p->in_rec)
            return -1;
        p->in_rec = false;
        return rec_finish(p, out);
    }
    if (!p->in_rec || s[0] != '"')
        return -1;
    const char *ke = memchr(s + 1, '"', n - 1);
    if (!ke)
        return -1;
    const char *k = s + 1;
    size_t kn = (size_t)(ke - k);
    const char *rest = ke + 1;
    size_t rn = n - (size_t)(rest - s);
    rn = tf_trim(&rest, rn);
    if (rn == 0 || rest[0] != ':') {
        p->rec_bad = true;
        return -1;
    }
    const char *v = rest + 1;
    size_t vn = rn - 1;
    if (!json_value(&v, &vn) || !json_field(p, k, kn, v, vn)) {
        p->rec_bad = true;
        return -1;
    }
    return 0;
}

/* ---- CSV (nfdump 1.7 -o csv: a header line, records, a blank line, a summary) ---- */

enum csv_role { C_TS, C_TE, C_SA, C_DA, C_SP, C_DP, C_PR, C_FLG, C_IPKT, C_IBYT, C_SAS, C_DAS,
                C_NROLES };

static int csv_header(struct nfdump_parser *p, const char *s, size_t n)
{
    static const char *const names[C_NROLES] = {"ts", "te", "sa", "da", "sp", "dp",
                                                "pr", "flg", "ipkt", "ibyt", "sas", "das"};
    unsigned seen = 0, col = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (col >= NFDUMP_CSV_COLS)
            return -1;
        const char *f = s + i;
        size_t fn = tf_trim(&f, j - i);
        p->col[col] = -1;
        for (int r = 0; r < C_NROLES; r++) {
            if (strlen(names[r]) == fn && memcmp(names[r], f, fn) == 0) {
                p->col[col] = (int8_t)r;
                seen |= 1u << r;
            }
        }
        col++;
        i = j + 1;
    }
    unsigned need = 1u << C_TS | 1u << C_SA | 1u << C_DA | 1u << C_PR;
    if ((seen & need) != need)
        return -1;
    p->ncols = col;
    p->header_seen = true;
    return 0;
}

static int csv_line(struct nfdump_parser *p, const char *s, size_t n, struct flow_rec *out)
{
    const char *t = s;
    size_t tn = tf_trim(&t, n);
    if (p->done)
        return 0;
    if (!p->header_seen) {
        if (tn == 0)
            return 0;
        return csv_header(p, t, tn);
    }
    if (tn == 0 || (tn >= 7 && memcmp(t, "Summary", 7) == 0)) {
        p->done = true; /* the rest is nfdump's summary */
        return 0;
    }
    struct flow_rec f;
    memset(&f, 0, sizeof f);
    unsigned have = 0, col = 0;
    size_t i = 0;
    uint64_t x;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (col >= p->ncols)
            return -1;
        const char *v = s + i;
        size_t vn = tf_trim(&v, j - i);
        bool ok = true;
        switch (p->col[col]) {
        case C_TS: ok = tf_datetime(v, vn, &f.first_ms); have |= HAVE_FIRST; break;
        case C_TE: ok = tf_datetime(v, vn, &f.last_ms); have |= HAVE_LAST; break;
        case C_SA: ok = tf_addr(v, vn, f.src); have |= HAVE_SRC; break;
        case C_DA: ok = tf_addr(v, vn, f.dst); have |= HAVE_DST; break;
        case C_SP:
            ok = tf_uint_max(v, vn, 65535, &x);
            f.sport = (uint16_t)x;
            break;
        case C_DP:
            ok = tf_uint_max(v, vn, 65535, &x);
            f.dport = (uint16_t)x;
            break;
        case C_PR: ok = tf_proto(v, vn, &f.proto); break;
        case C_FLG: ok = parse_flags(v, vn, &f.tcp_flags); break;
        case C_IPKT: ok = tf_u64(v, vn, &f.packets); break;
        case C_IBYT: ok = tf_u64(v, vn, &f.bytes); break;
        case C_SAS:
        case C_DAS:
            ok = tf_uint_max(v, vn, UINT32_MAX, &x);
            if (p->col[col] == C_SAS)
                f.src_as = (uint32_t)x;
            else
                f.dst_as = (uint32_t)x;
            break;
        default: break;
        }
        if (!ok)
            return -1;
        col++;
        i = j + 1;
    }
    if (col != p->ncols)
        return -1;
    if ((have & (HAVE_SRC | HAVE_DST | HAVE_FIRST)) != (HAVE_SRC | HAVE_DST | HAVE_FIRST))
        return -1;
    p->cur = f;
    p->have = have;
    p->is_flow = true;
    p->rec_bad = false;
    if (f.proto == 1 || f.proto == 58)
        p->icmp_type = p->icmp_code = 0; /* dp already holds type << 8 | code */
    return rec_finish(p, out);
}

int nfdump_parse_line(struct nfdump_parser *p, const char *line, size_t len, struct flow_rec *out)
{
    if (len > NFDUMP_LINE_MAX)
        return -1;
    return p->fmt == NFDUMP_FMT_CSV ? csv_line(p, line, len, out) : json_line(p, line, len, out);
}

/* ---- files ---- */

bool nfdump_is_archive(const char *path)
{
    uint8_t h[4];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    return n == 4 && h[0] == 0x0c && h[1] == 0xa5 && (h[2] == 1 || h[2] == 2) && h[3] == 0;
}

int nfdump_name_time(const char *path, uint64_t *ms)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (strncmp(b, "nfcapd.", 7) != 0)
        return -1;
    b += 7;
    size_t n = strspn(b, "0123456789");
    if (n != 12 && n != 14)
        return -1;
    char t[24];
    snprintf(t, sizeof t, "%.4s-%.2s-%.2s %.2s:%.2s:%.2s", b, b + 4, b + 6, b + 8, b + 10,
             n == 14 ? b + 12 : "00");
    return tf_datetime(t, strlen(t), ms) ? 0 : -1;
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

/* ---- the reader: nfdump's output, a record at a time ---- */

struct nfdump_reader {
    char *path;
    enum nfdump_fmt fmt;
    int fd;             /* nfdump's stdout */
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
    int pfd[2] = {-1, -1}, rc = -ENOMEM;
    char **env = child_env();
    posix_spawn_file_actions_t fa;
    bool fa_ok = false;
    struct nfdump_reader *r = calloc(1, sizeof *r);
    if (!bin)
        bin = "nfdump";
    if (!r || !env || !(r->path = strdup(path)) || !(r->line = malloc(NFDUMP_LINE_MAX + 1)) ||
        !(r->buf = malloc(65536))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    r->fmt = fmt;
    r->fd = -1;
    nfdump_parser_init(&r->p, fmt);
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: pipe: %s", path, strerror(-rc));
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    fa_ok = true;
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *const argv[] = {(char *)bin, (char *)"-r", (char *)path, (char *)"-o",
                          (char *)(fmt == NFDUMP_FMT_CSV ? "csv" : "json"), NULL};
    int se = posix_spawnp(&r->pid, bin, &fa, NULL, argv, env);
    if (se != 0) {
        r->pid = 0;
        rc = -se;
        snprintf(err, errlen, "%s: cannot run %s: %s (install nfdump)", path, bin, strerror(se));
        goto out;
    }
    r->fd = pfd[0];
    pfd[0] = -1;
    rc = 0;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 2; i++)
        if (pfd[i] >= 0)
            close(pfd[i]);
    free(env);
    if (rc < 0)
        nfdump_close(r, NULL, 0);
    else
        *out = r;
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
        char c = r->buf[r->pos++];
        if (c != '\n') {
            if (r->skipping)
                continue;
            if (r->ll >= NFDUMP_LINE_MAX) {
                r->skipping = true;
                r->st.too_long++;
                r->st.lines++;
                continue;
            }
            r->line[r->ll++] = c;
            continue;
        }
        if (r->skipping) {
            r->skipping = false;
            r->ll = 0;
            if (r->fmt == NFDUMP_FMT_JSON && r->p.in_rec)
                r->p.rec_bad = true;
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
    bool early = !r->eof;
    if (r->fd >= 0)
        close(r->fd);
    if (r->pid > 0) {
        if (early) /* stopped before the end: nfdump may still be writing */
            kill(r->pid, SIGTERM);
        int status = 0;
        while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!early && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            rc = -EIO;
            if (err && WIFEXITED(status))
                snprintf(err, errlen, "%s: nfdump exited with status %d", r->path,
                         WEXITSTATUS(status));
            else if (err)
                snprintf(err, errlen, "%s: nfdump killed by signal %d", r->path,
                         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
    }
    free(r->path);
    free(r->line);
    free(r->buf);
    free(r);
    return rc;
}

/* ---- the nfcapd source ---- */

#define C CTR_COUNTER
#define NFDUMP_ROWS(X)                                                                            \
    X(T, lines, NULL, "archive_lines_total", NULL, C, "Lines of nfdump output read.")             \
    X(T, records, NULL, "archive_flows_total", NULL, C,                                         \
      "Flow records parsed from nfdump output.")                                                 \
    X(T, errors, NULL, "archive_malformed_lines_total", NULL, C,                                \
      "Malformed nfdump lines or records (skipped).")                                            \
    X(T, too_long, NULL, "archive_long_lines_total", NULL, C,                                   \
      "nfdump lines longer than the line bound (skipped).")                                      \
    X(T, skipped, NULL, "archive_other_records_total", NULL, C,                                 \
      "Well-formed nfdump records that are not flows.")
#define T struct nfdump_stats
static const struct ctr_def nfdump_defs[] = {NFDUMP_ROWS(CTR_ROW)};
#undef T
#undef C
_Static_assert(sizeof(struct nfdump_stats) == sizeof nfdump_defs / sizeof nfdump_defs[0] * 8,
               "an nfdump_stats counter without its row");

struct nfdump_source {
    struct source base;     /* first */
    struct nfdump_reader *r; /* NULL once ended */
    struct nfdump_stats st; /* the reader's, kept at the end */
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
                       const struct source_out *out, struct source **src, char *err,
                       size_t errlen)
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
