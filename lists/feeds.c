/* feeds.c: blocklist feed loaders (formats and rules in feeds.h). Lines, CSV fields, trimming
 * and dates through the text toolkit (core/textfield.h), the Spamhaus JSON lines through the
 * JSON reader (core/json_in.h). */
#include "feeds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_in.h"
#include "textfield.h"
#include "trie.h"

#define DEF_MAX_ENTRIES (1u << 20)
#define CSV_MAX_FIELDS 16
#define DETECT_MAX_LINES 256

struct feed {
    char name[FEED_NAME_MAX + 1];
    enum feed_format fmt;
    struct feed_stats st;
    struct feed_entry *e; /* sorted by prefix, then port; unique (prefix, port) */
    size_t n;
    struct trie *trie; /* value = index of the first entry of that prefix */
};

struct feed_set {
    struct feed *f[FEED_SET_MAX];
    size_t n;
    size_t entries; /* of every feed together (feed_set_entries) */
};

enum bad_kind { BAD_MALFORMED, BAD_HOST_BITS, BAD_TOO_WIDE };

/* Parser state (one load). */
struct fparse {
    const char *src;
    enum feed_format fmt;
    size_t max_entries;
    struct feed_stats st;
    struct feed_entry *e;
    size_t n, cap;
    size_t data_lines;
    /* Feodo CSV column numbers */
    int col_ip, col_port, col_malware;
    bool saw_metadata;
    struct jin *json; /* Spamhaus JSON lines */
};

static bool starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* "2024-01-01 12:00:00" (UTC) at s after blanks, followed by anything: unix seconds or -1. */
static int64_t iso_prefix(const char *s)
{
    uint64_t ms;
    while (tf_is_space(*s))
        s++;
    return strnlen(s, 19) == 19 && tf_datetime(s, 19, &ms) ? (int64_t)(ms / 1000) : -1;
}

/* ---- entries ---------------------------------------------------------------------------- */

static void note_bad(struct fparse *ps, unsigned lineno, enum bad_kind kind, const char *why)
{
    switch (kind) {
    case BAD_HOST_BITS:
        ps->st.host_bits++;
        break;
    case BAD_TOO_WIDE:
        ps->st.too_wide++;
        break;
    default:
        ps->st.malformed++;
        break;
    }
    if (ps->st.first_bad_line == 0) {
        ps->st.first_bad_line = lineno;
        snprintf(ps->st.first_bad_reason, sizeof(ps->st.first_bad_reason), "%s", why);
    }
    if (ps->st.nbad_kept < FEED_BAD_LINES_KEPT)
        ps->st.bad_lines[ps->st.nbad_kept++] = lineno;
}

/* Parse and check one prefix; on failure note it and return -EINVAL. */
static int take_prefix(struct fparse *ps, unsigned lineno, const char *s, struct prefix *p)
{
    static const uint8_t mapped0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    int r = prefix_parse(s, false, p);
    if (r == -EDOM) {
        note_bad(ps, lineno, BAD_HOST_BITS, "host bits set");
        return -EINVAL;
    }
    if (r < 0) {
        note_bad(ps, lineno, BAD_MALFORMED, "invalid address or prefix");
        return -EINVAL;
    }
    if (p->len >= 96 && addr_is_v4(p->addr)) {
        if (p->len < 96 + 8) {
            note_bad(ps, lineno, BAD_TOO_WIDE, "IPv4 prefix wider than /8");
            return -EINVAL;
        }
    } else if (p->len < 16) {
        note_bad(ps, lineno, BAD_TOO_WIDE, "IPv6 prefix wider than /16");
        return -EINVAL;
    } else if (p->len < 96 && prefix_contains(p, mapped0)) {
        note_bad(ps, lineno, BAD_TOO_WIDE, "IPv6 prefix covers the IPv4-mapped range");
        return -EINVAL;
    }
    return 0;
}

static int add_entry(struct fparse *ps, const struct feed_entry *e)
{
    if (ps->n >= ps->max_entries)
        return -ENOSPC;
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 256;
        if (ncap > ps->max_entries)
            ncap = ps->max_entries;
        struct feed_entry *ne = realloc(ps->e, ncap * sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        ps->e = ne;
        ps->cap = ncap;
    }
    ps->e[ps->n++] = *e;
    return 0;
}

/* Leading run of [A-Za-z0-9._:-], at most dst-1 chars. */
static void copy_token(char *dst, size_t dstlen, const char *s)
{
    size_t i = 0;
    while (i + 1 < dstlen) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            break;
        dst[i] = c;
        i++;
    }
    dst[i] = '\0';
}

/* Printable ASCII without quotes/backslashes (it goes into JSON alerts and logs). */
static void copy_label(char *dst, size_t dstlen, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < dstlen; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    dst[i] = '\0';
    while (i > 0 && dst[i - 1] == ' ')
        dst[--i] = '\0';
}

/* ---- format: DROP ----------------------------------------------------------------------- */

static void drop_comment(struct fparse *ps, const char *c)
{
    while (*c == ';' || *c == '#' || tf_is_space(*c))
        c++;
    if (starts_with_ci(c, "Expires:")) {
        int64_t t = tf_rfc1123(c + 8);
        if (t >= 0)
            ps->st.expires_unix = t;
    } else if (starts_with_ci(c, "Last-Modified:")) {
        int64_t t = tf_rfc1123(c + 14);
        if (t >= 0)
            ps->st.last_modified_unix = t;
    }
}

/* Returns 1 with *e filled, 0 for a skipped line (already noted). */
static int line_drop(struct fparse *ps, char *s, unsigned lineno, struct feed_entry *e)
{
    char *semi = strchr(s, ';');
    if (semi) {
        *semi = '\0';
        copy_token(e->listing, sizeof(e->listing), tf_trim_str(semi + 1));
    }
    s = tf_trim_str(s);
    if (*s == '\0') {
        note_bad(ps, lineno, BAD_MALFORMED, "no prefix before ';'");
        return 0;
    }
    return take_prefix(ps, lineno, s, &e->p) < 0 ? 0 : 1;
}

/* ---- format: plain ---------------------------------------------------------------------- */

static int line_plain(struct fparse *ps, char *s, unsigned lineno, struct feed_entry *e)
{
    char *end = s;
    while (*end && !tf_is_space(*end) && *end != '#' && *end != ';')
        end++;
    char *rest = end;
    while (tf_is_space(*rest))
        rest++;
    if (*rest && *rest != '#' && *rest != ';') {
        note_bad(ps, lineno, BAD_MALFORMED, "text after the address");
        return 0;
    }
    *end = '\0';
    if (*s == '\0') {
        note_bad(ps, lineno, BAD_MALFORMED, "no address");
        return 0;
    }
    return take_prefix(ps, lineno, s, &e->p) < 0 ? 0 : 1;
}

/* ---- format: Feodo CSV ------------------------------------------------------------------ */

/* A header names the columns; returns true when s was one. */
static bool csv_header(struct fparse *ps, const char *line)
{
    char s[FEED_MAX_LINE + 1];
    if (!strstr(line, "dst_ip"))
        return false;
    snprintf(s, sizeof(s), "%s", line);
    char *f[CSV_MAX_FIELDS];
    const char *why;
    int n = tf_csv_split(s, f, CSV_MAX_FIELDS, &why);
    if (n < 0)
        return false;
    int ip = -1, port = -1, mal = -1;
    for (int i = 0; i < n; i++) {
        if (strcasecmp(f[i], "dst_ip") == 0 || strcasecmp(f[i], "ip_address") == 0)
            ip = i;
        else if (strcasecmp(f[i], "dst_port") == 0 || strcasecmp(f[i], "port") == 0)
            port = i;
        else if (strcasecmp(f[i], "malware") == 0)
            mal = i;
    }
    if (ip < 0)
        return false;
    ps->col_ip = ip;
    ps->col_port = port;
    ps->col_malware = mal;
    return true;
}

static int line_csv(struct fparse *ps, char *s, unsigned lineno, struct feed_entry *e)
{
    char *f[CSV_MAX_FIELDS];
    const char *why;
    int n = tf_csv_split(s, f, CSV_MAX_FIELDS, &why);
    if (n < 0) {
        note_bad(ps, lineno, BAD_MALFORMED, "bad CSV quoting or too many fields");
        return 0;
    }
    if (n <= ps->col_ip) {
        note_bad(ps, lineno, BAD_MALFORMED, "missing fields");
        return 0;
    }
    if (ps->col_port >= 0 && ps->col_port < n && f[ps->col_port][0] != '\0') {
        const char *p = f[ps->col_port];
        unsigned v = 0;
        int nd = 0;
        for (; *p >= '0' && *p <= '9' && nd < 6; p++, nd++)
            v = v * 10 + (unsigned)(*p - '0');
        if (*p != '\0' || nd == 0 || v > 65535) {
            note_bad(ps, lineno, BAD_MALFORMED, "bad port");
            return 0;
        }
        e->port = (uint16_t)v;
    }
    if (ps->col_malware >= 0 && ps->col_malware < n)
        copy_label(e->malware, sizeof(e->malware), f[ps->col_malware]);
    if (f[ps->col_ip][0] == '\0') {
        note_bad(ps, lineno, BAD_MALFORMED, "empty address");
        return 0;
    }
    return take_prefix(ps, lineno, f[ps->col_ip], &e->p) < 0 ? 0 : 1;
}

/* ---- format: Spamhaus JSON lines -------------------------------------------------------- */

/* The members of one line we use, as text (strings and numbers; anything else is skipped). */
struct jline {
    char cidr[64];
    char sblid[32];
    char type[16];
    char timestamp[24];
    char records[24];
    bool has_cidr, cidr_long; /* cidr given as a string; and longer than cidr holds */
};

static int jline_member(void *arg, const char *key, size_t klen, const struct jin_value *v)
{
    static const struct {
        const char *key;
        size_t off, len;
    } keep[] = {
        {"cidr", offsetof(struct jline, cidr), sizeof(((struct jline *)0)->cidr)},
        {"sblid", offsetof(struct jline, sblid), sizeof(((struct jline *)0)->sblid)},
        {"type", offsetof(struct jline, type), sizeof(((struct jline *)0)->type)},
        {"timestamp", offsetof(struct jline, timestamp), sizeof(((struct jline *)0)->timestamp)},
        {"records", offsetof(struct jline, records), sizeof(((struct jline *)0)->records)},
    };
    struct jline *j = arg;
    if (v->type != JIN_STRING && v->type != JIN_NUMBER)
        return 0;
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        if (strlen(keep[i].key) != klen || memcmp(keep[i].key, key, klen) != 0)
            continue;
        char *dst = (char *)j + keep[i].off;
        size_t n = v->n < keep[i].len ? v->n : keep[i].len - 1;
        memcpy(dst, v->s, n);
        dst[n] = '\0';
        if (dst == j->cidr && v->type == JIN_STRING) {
            j->has_cidr = true;
            j->cidr_long = v->n >= keep[i].len;
        }
    }
    return 0;
}

/* Decimal integer, whole string. */
static bool parse_i64(const char *s, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 18)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* One line of Spamhaus JSON: 1 with *e filled, 0 for a bad line (noted), -1 for the metadata
 * line (not a data line; not an error). */
static int line_json(struct fparse *ps, char *s, unsigned lineno, struct feed_entry *e)
{
    struct jline j;
    memset(&j, 0, sizeof(j));
    if (jin_object(ps->json, s, strlen(s), jline_member, &j) < 0) {
        note_bad(ps, lineno, BAD_MALFORMED, "bad JSON object");
        return 0;
    }
    if (strcmp(j.type, "metadata") == 0 && !j.has_cidr) {
        int64_t v;
        ps->saw_metadata = true;
        if (parse_i64(j.timestamp, &v))
            ps->st.last_modified_unix = v;
        if (parse_i64(j.records, &v))
            ps->st.records_declared = v;
        return -1; /* not a data line */
    }
    if (!j.has_cidr || j.cidr_long || j.cidr[0] == '\0') {
        note_bad(ps, lineno, BAD_MALFORMED, j.has_cidr ? "bad cidr" : "no cidr member");
        return 0;
    }
    copy_token(e->listing, sizeof(e->listing), j.sblid);
    char *c = tf_trim_str(j.cidr);
    return take_prefix(ps, lineno, c, &e->p) < 0 ? 0 : 1;
}

/* Comments may carry metadata: DROP's Expires/Last-Modified, Feodo's "Last updated" and the
 * (commented) CSV header. */
static void comment_line(struct fparse *ps, const char *p)
{
    if (ps->fmt == FEED_DROP) {
        drop_comment(ps, p);
        return;
    }
    if (ps->fmt == FEED_FEODO_CSV && csv_header(ps, p + 1))
        return;
    const char *c = p + 1 + strspn(p + 1, " \t");
    if (starts_with_ci(c, "Last updated:")) {
        int64_t t = iso_prefix(c + 13);
        if (t >= 0)
            ps->st.last_modified_unix = t;
    }
}

/* ---- detection and the line loop -------------------------------------------------------- */

static enum feed_format detect(const char *text, size_t len)
{
    struct tf_lines it;
    const char *s;
    size_t l;
    tf_lines_init(&it, text, len);
    while (it.lineno < DETECT_MAX_LINES && tf_lines_next(&it, &s, &l)) {
        size_t i = 0;
        while (i < l && tf_is_space(s[i]))
            i++;
        if (i == l)
            continue;
        switch (s[i]) {
        case ';':
            return FEED_DROP;
        case '{':
            return FEED_SPAMHAUS_JSON;
        case '"':
            return FEED_FEODO_CSV;
        case '#':
            if (l - i > 6 && memmem(s + i, l - i, "dst_ip", 6))
                return FEED_FEODO_CSV;
            continue;
        default:
            break;
        }
        const char *semi = memchr(s + i, ';', l - i);
        const char *comma = memchr(s + i, ',', l - i);
        const char *hash = memchr(s + i, '#', l - i);
        if (semi && (!hash || semi < hash))
            return FEED_DROP;
        if (comma && (!hash || comma < hash))
            return FEED_FEODO_CSV;
        return FEED_PLAIN;
    }
    return FEED_PLAIN;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct feed_entry *x = a, *y = b;
    int c = memcmp(x->p.addr, y->p.addr, 16);
    if (c)
        return c;
    if (x->p.len != y->p.len)
        return x->p.len < y->p.len ? -1 : 1;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static bool same_prefix(const struct feed_entry *a, const struct feed_entry *b)
{
    return a->p.len == b->p.len && memcmp(a->p.addr, b->p.addr, 16) == 0;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    trie_free(f->trie);
    free(f->e);
    free(f);
}

static const char *fmt_names[] = {"auto", "drop", "spamhaus-json", "plain", "feodo-csv"};

const char *feed_format_name(enum feed_format fmt)
{
    if ((unsigned)fmt < sizeof(fmt_names) / sizeof(fmt_names[0]))
        return fmt_names[fmt];
    return "?";
}

int feed_format_parse(const char *s, enum feed_format *out)
{
    static const struct {
        const char *name;
        enum feed_format fmt;
    } alias[] = {{"auto", FEED_AUTO},
                 {"drop", FEED_DROP},
                 {"spamhaus", FEED_DROP},
                 {"edrop", FEED_DROP},
                 {"spamhaus-json", FEED_SPAMHAUS_JSON},
                 {"json", FEED_SPAMHAUS_JSON},
                 {"plain", FEED_PLAIN},
                 {"feodo", FEED_PLAIN},
                 {"feodo-csv", FEED_FEODO_CSV},
                 {"csv", FEED_FEODO_CSV}};
    if (!s || !out)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
        if (strcasecmp(s, alias[i].name) == 0) {
            *out = alias[i].fmt;
            return 0;
        }
    }
    return -EINVAL;
}

/* Sort, merge duplicates, build the trie. */
static int finish(struct fparse *ps, struct feed *f)
{
    struct trie_builder *b = NULL;
    size_t w = 0;

    if (ps->n)
        qsort(ps->e, ps->n, sizeof(*ps->e), cmp_entry);
    for (size_t i = 0; i < ps->n; i++) {
        if (w > 0 && same_prefix(&ps->e[w - 1], &ps->e[i]) && ps->e[w - 1].port == ps->e[i].port) {
            ps->st.duplicates++;
            continue;
        }
        ps->e[w++] = ps->e[i];
    }
    ps->n = w;
    if (trie_builder_new(&b, w ? w : 1) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < w; i++) {
        if (i > 0 && same_prefix(&ps->e[i - 1], &ps->e[i]))
            continue;
        int r = trie_builder_add(b, &ps->e[i].p, (uint32_t)i);
        if (r < 0 && r != -EEXIST) {
            trie_builder_free(b);
            return r;
        }
    }
    if (trie_build(b, &f->trie) < 0) {
        f->trie = NULL;
        return -ENOMEM;
    }
    f->e = ps->e;
    f->n = w;
    ps->e = NULL;
    ps->st.entries = w;
    f->st = ps->st;
    f->fmt = ps->fmt;
    return 0;
}

/* A data line (trimmed, not a comment) into an entry, or counted as bad. 0, or a negative
 * errno that ends the load (err set). */
static int data_line(struct fparse *ps, char *p, unsigned lineno, struct conf_error *err)
{
    struct feed_entry e;
    memset(&e, 0, sizeof(e));
    e.line = lineno;
    int r;
    switch (ps->fmt) {
    case FEED_DROP:
        r = line_drop(ps, p, lineno, &e);
        break;
    case FEED_SPAMHAUS_JSON:
        r = line_json(ps, p, lineno, &e);
        break;
    case FEED_FEODO_CSV:
        if (ps->data_lines == 0 && ps->n == 0 && csv_header(ps, p))
            return 0;
        r = line_csv(ps, p, lineno, &e);
        break;
    default:
        r = line_plain(ps, p, lineno, &e);
        break;
    }
    if (r < 0)
        return 0; /* metadata */
    ps->data_lines++;
    if (r == 0)
        return 0;
    r = add_entry(ps, &e);
    if (r == -ENOSPC)
        conf_error_set(err, ps->src, lineno, "more than %zu entries (raise the feed's max_entries)",
                       ps->max_entries);
    else if (r < 0)
        conf_error_set(err, ps->src, lineno, "out of memory");
    return r;
}

/* Is the line at s[0..l) a comment ('#', or ';' except in CSV) after blanks? */
static bool is_comment(const struct fparse *ps, const char *s, size_t l)
{
    size_t i = 0;
    while (i < l && tf_is_space(s[i]))
        i++;
    return i < l && (s[i] == '#' || (s[i] == ';' && ps->fmt != FEED_FEODO_CSV));
}

/* One line of the file, as read: 0, or a negative errno that ends the load (err set). */
static int take_line(struct fparse *ps, const char *s, size_t l, unsigned lineno,
                     struct conf_error *err)
{
    char line[FEED_MAX_LINE + 1];
    ps->st.lines++;
    if (l > FEED_MAX_LINE) {
        if (is_comment(ps, s, l))
            return 0; /* an overlong comment is still a comment */
        ps->data_lines++;
        note_bad(ps, lineno, BAD_MALFORMED, "line too long");
        return 0;
    }
    if (memchr(s, '\0', l)) {
        ps->data_lines++;
        note_bad(ps, lineno, BAD_MALFORMED, "NUL byte");
        return 0;
    }
    memcpy(line, s, l);
    line[l] = '\0';
    char *p = tf_trim_str(line);
    if (*p == '\0')
        return 0;
    if (is_comment(ps, p, strlen(p))) {
        comment_line(ps, p);
        return 0;
    }
    return data_line(ps, p, lineno, err);
}

/* The arguments of a load, checked (err set on -EINVAL). */
static int check_args(const char *name, const char *src, const char *text, size_t len,
                      enum feed_format fmt, struct feed **out, struct conf_error *err)
{
    if (!out || (!text && len)) {
        conf_error_set(err, src, 0, "invalid arguments");
        return -EINVAL;
    }
    if (!tf_name_ok(name, FEED_NAME_MAX)) {
        conf_error_set(err, src, 0, "feed name must be 1..%d characters of [A-Za-z0-9._-]",
                       FEED_NAME_MAX);
        return -EINVAL;
    }
    if ((unsigned)fmt > FEED_FEODO_CSV) {
        conf_error_set(err, src, 0, "unknown feed format");
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++)
        if (!tf_is_space(text[i]))
            return 0;
    conf_error_set(err, src, 0, "empty file (failed download?)");
    return -EINVAL;
}

/* After the last line: is what was read a list? (err set on -EINVAL) */
static int check_loaded(const struct fparse *ps, struct conf_error *err)
{
    if (ps->data_lines > 0 && ps->n == 0) {
        conf_error_set(err, ps->src, ps->st.first_bad_line,
                       "no valid entry: %zu bad lines, first at line %u (%s)",
                       ps->st.malformed + ps->st.host_bits + ps->st.too_wide, ps->st.first_bad_line,
                       ps->st.first_bad_reason);
        return -EINVAL;
    }
    if (ps->n == 0 && (ps->fmt == FEED_DROP || ps->fmt == FEED_SPAMHAUS_JSON)) {
        conf_error_set(err, ps->src, 0, "no entries (a %s list is never empty)",
                       feed_format_name(ps->fmt));
        return -EINVAL;
    }
    return 0;
}

int feed_load_mem(const char *name, const char *srcname, const char *text, size_t len,
                  enum feed_format fmt, size_t max_entries, struct feed **out,
                  struct conf_error *err)
{
    struct fparse ps;
    struct feed *f = NULL;
    memset(&ps, 0, sizeof(ps));
    if (out)
        *out = NULL;
    ps.src = srcname ? srcname : (name ? name : "(feed)");
    int rc = check_args(name, ps.src, text, len, fmt, out, err);
    if (rc < 0)
        return rc;
    ps.max_entries = max_entries ? max_entries : DEF_MAX_ENTRIES;
    if (ps.max_entries > UINT32_MAX - 1)
        ps.max_entries = UINT32_MAX - 1;
    ps.st.records_declared = -1;
    ps.col_ip = 1; /* Feodo's column order when there is no header */
    ps.col_port = 2;
    ps.col_malware = 5;
    ps.fmt = fmt == FEED_AUTO ? detect(text, len) : fmt;
    /* one flat object a line; 16 levels of nesting inside it are skipped */
    if (ps.fmt == FEED_SPAMHAUS_JSON && (rc = jin_new(17, &ps.json)) < 0)
        conf_error_set(err, ps.src, 0, "out of memory");

    struct tf_lines it;
    const char *s;
    size_t l;
    tf_lines_init(&it, text, len);
    while (rc == 0 && tf_lines_next(&it, &s, &l)) {
        if (it.lineno == UINT32_MAX) {
            conf_error_set(err, ps.src, 0, "too many lines");
            rc = -EFBIG;
        } else {
            rc = take_line(&ps, s, l, it.lineno, err);
        }
    }
    if (rc == 0)
        rc = check_loaded(&ps, err);
    if (rc == 0 && !(f = calloc(1, sizeof(*f)))) {
        conf_error_set(err, ps.src, 0, "out of memory");
        rc = -ENOMEM;
    }
    if (rc == 0) {
        memcpy(f->name, name, strlen(name) + 1);
        if ((rc = finish(&ps, f)) < 0)
            conf_error_set(err, ps.src, 0, "out of memory building the lookup trie");
    }
    if (rc == 0) {
        *out = f;
        f = NULL;
    }
    feed_free(f);
    free(ps.e);
    jin_free(ps.json);
    return rc;
}

int feed_load(const char *name, const char *path, enum feed_format fmt, size_t max_entries,
              struct feed **out, struct conf_error *err)
{
    if (out)
        *out = NULL;
    if (!path) {
        conf_error_set(err, name ? name : "(feed)", 0, "no path");
        return -EINVAL;
    }
    char *buf;
    size_t len;
    int rc = conf_read_file(path, FEED_MAX_FILE, &buf, &len, err);
    if (rc < 0)
        return rc;
    rc = feed_load_mem(name, path, buf, len, fmt, max_entries, out, err);
    free(buf);
    return rc;
}

const char *feed_name(const struct feed *f)
{
    return f ? f->name : "";
}

const struct feed_stats *feed_stats(const struct feed *f)
{
    return f ? &f->st : NULL;
}

enum feed_format feed_format_of(const struct feed *f)
{
    return f ? f->fmt : FEED_AUTO;
}

size_t feed_entry_count(const struct feed *f)
{
    return f ? f->n : 0;
}

const struct feed_entry *feed_entry_at(const struct feed *f, size_t i)
{
    return f && i < f->n ? &f->e[i] : NULL;
}

size_t feed_warning(const struct feed *f, int64_t now, char *buf, size_t len)
{
    size_t w = 0;
    if (!f || !buf || len == 0)
        return 0;
    buf[0] = '\0';
    const struct feed_stats *st = &f->st;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (w < len) {                                                                             \
            int k_ = snprintf(buf + w, len - w, __VA_ARGS__);                                      \
            if (k_ > 0)                                                                            \
                w += (size_t)k_ < len - w ? (size_t)k_ : len - w - 1;                              \
        }                                                                                          \
    } while (0)
    size_t bad = st->malformed + st->host_bits + st->too_wide;
    if (bad) {
        ADD("feed %s: skipped %zu bad lines (%zu malformed, %zu host bits set, %zu too wide), "
            "first at line %u (%s), lines",
            f->name, bad, st->malformed, st->host_bits, st->too_wide, st->first_bad_line,
            st->first_bad_reason);
        for (unsigned i = 0; i < st->nbad_kept; i++)
            ADD("%s%u", i ? "," : " ", st->bad_lines[i]);
        if (bad > st->nbad_kept)
            ADD(",...");
    }
    if (st->expires_unix > 0 && now > st->expires_unix)
        ADD("%sfeed %s: past its Expires by %lld s (stale copy)", w ? "; " : "", f->name,
            (long long)(now - st->expires_unix));
    if (f->fmt == FEED_SPAMHAUS_JSON && st->records_declared < 0)
        ADD("%sfeed %s: no metadata line (truncated download?)", w ? "; " : "", f->name);
    else if (f->fmt == FEED_SPAMHAUS_JSON &&
             (size_t)st->records_declared != st->entries + st->duplicates + bad)
        ADD("%sfeed %s: metadata declares %lld records, file has %zu", w ? "; " : "", f->name,
            (long long)st->records_declared, st->entries + st->duplicates + bad);
#undef ADD
    return w;
}

/* ---- lookups ---------------------------------------------------------------------------- */

const struct feed_entry *feed_match(const struct feed *f, const uint8_t addr[16])
{
    uint32_t v;
    if (!f || !f->n || !trie_lookup(f->trie, addr, &v, NULL) || v >= f->n) /* empty: no walk */
        return NULL;
    return &f->e[v];
}

const struct feed_entry *feed_match_port(const struct feed *f, const uint8_t addr[16],
                                         uint16_t port, bool *port_matched)
{
    const struct feed_entry *first = feed_match(f, addr), *any = NULL;
    if (port_matched)
        *port_matched = false;
    if (!first)
        return NULL;
    for (const struct feed_entry *e = first; e < f->e + f->n && same_prefix(e, first); e++) {
        if (e->port == port && port != 0) {
            if (port_matched)
                *port_matched = true;
            return e;
        }
        if (e->port == 0 && !any)
            any = e;
    }
    return any ? any : first;
}

struct ov_ctx {
    const struct feed *f;
    int (*cb)(void *arg, const struct feed_entry *e);
    void *arg;
    size_t n;
    bool stop;
};

static int ov_visit(void *arg, const struct prefix *stored, uint32_t value)
{
    struct ov_ctx *c = arg;
    (void)stored;
    if (value >= c->f->n)
        return 0;
    const struct feed_entry *first = &c->f->e[value];
    for (const struct feed_entry *e = first; e < c->f->e + c->f->n && same_prefix(e, first); e++) {
        c->n++;
        if (c->cb && c->cb(c->arg, e)) {
            c->stop = true;
            return 1;
        }
    }
    return 0;
}

size_t feed_overlaps(const struct feed *f, const struct prefix *p,
                     int (*cb)(void *arg, const struct feed_entry *e), void *arg)
{
    struct ov_ctx c = {.f = f, .cb = cb, .arg = arg};
    if (!f || !p || !f->trie)
        return 0;
    trie_overlaps(f->trie, p, ov_visit, &c);
    return c.n;
}

/* ---- feed sets -------------------------------------------------------------------------- */

int feed_set_new(struct feed_set **out)
{
    if (!out)
        return -EINVAL;
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

int feed_set_add(struct feed_set *s, struct feed *f)
{
    if (!s || !f) {
        feed_free(f);
        return -EINVAL;
    }
    if (feed_set_find(s, f->name)) {
        feed_free(f);
        return -EEXIST;
    }
    if (s->n >= FEED_SET_MAX) {
        feed_free(f);
        return -ENOSPC;
    }
    s->f[s->n++] = f;
    s->entries += f->n;
    return 0;
}

size_t feed_set_count(const struct feed_set *s)
{
    return s ? s->n : 0;
}

size_t feed_set_entries(const struct feed_set *s)
{
    return s ? s->entries : 0;
}

const struct feed *feed_set_get(const struct feed_set *s, size_t i)
{
    return s && i < s->n ? s->f[i] : NULL;
}

const struct feed *feed_set_find(const struct feed_set *s, const char *name)
{
    if (!s || !name)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->f[i]->name, name) == 0)
            return s->f[i];
    return NULL;
}

void feed_set_free(struct feed_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        feed_free(s->f[i]);
    free(s);
}
