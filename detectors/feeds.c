/* feeds.c: blocklist feed loaders (formats and rules in feeds.h). */
#include "feeds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_read.h"
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
    struct trie *trie;    /* value = index of the first entry of that prefix */
};

struct feed_set {
    struct feed *f[FEED_SET_MAX];
    size_t n;
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
};

static void set_err(struct conf_error *err, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_err(struct conf_error *err, const char *file, unsigned line, const char *fmt, ...)
{
    char msg[224];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conf_error_set(err, file ? file : "(feed)", line, "%s", msg);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && is_space(e[-1]))
        e--;
    *e = '\0';
    return s;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- dates ------------------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool read_uint(const char **ps, int mindig, int maxdig, unsigned *out)
{
    const char *s = *ps;
    unsigned v = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9' && n < maxdig) {
        v = v * 10 + (unsigned)(*s - '0');
        s++;
        n++;
    }
    if (n < mindig || (*s >= '0' && *s <= '9'))
        return false;
    *ps = s;
    *out = v;
    return true;
}

static bool valid_ymdhms(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned se)
{
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] &&
           h <= 23 && mi <= 59 && se <= 60;
}

static int64_t to_unix(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned se)
{
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

/* "HH:MM:SS" */
static bool read_hms(const char **ps, unsigned *h, unsigned *mi, unsigned *se)
{
    const char *s = *ps;
    if (!read_uint(&s, 1, 2, h) || *s++ != ':' || !read_uint(&s, 2, 2, mi) || *s++ != ':' ||
        !read_uint(&s, 2, 2, se))
        return false;
    *ps = s;
    return true;
}

/* RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT" (weekday optional, GMT/UTC/+0000 or none).
 * Returns unix seconds or -1. */
static int64_t parse_rfc1123(const char *s)
{
    static const char months[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
    unsigned d, mo = 0, y, h, mi, se;

    while (is_space(*s))
        s++;
    const char *comma = strchr(s, ',');
    if (comma && comma - s <= 9)
        s = comma + 1;
    while (is_space(*s))
        s++;
    if (!read_uint(&s, 1, 2, &d))
        return -1;
    while (is_space(*s))
        s++;
    for (unsigned i = 0; i < 12; i++)
        if (strncasecmp(s, months[i], 3) == 0)
            mo = i + 1;
    if (mo == 0)
        return -1;
    s += 3;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
        s++; /* "March" */
    while (is_space(*s))
        s++;
    if (!read_uint(&s, 4, 4, &y))
        return -1;
    while (is_space(*s))
        s++;
    if (!read_hms(&s, &h, &mi, &se))
        return -1;
    while (is_space(*s))
        s++;
    if (*s && strncasecmp(s, "GMT", 3) != 0 && strncasecmp(s, "UTC", 3) != 0 &&
        strncmp(s, "+0000", 5) != 0 && strncmp(s, "-0000", 5) != 0 && strcmp(s, "Z") != 0)
        return -1;
    if (!valid_ymdhms(y, mo, d, h, mi, se))
        return -1;
    return to_unix(y, mo, d, h, mi, se);
}

/* "2024-01-01 12:00:00" (UTC) followed by anything. Returns unix seconds or -1. */
static int64_t parse_iso(const char *s)
{
    unsigned y, mo, d, h, mi, se;
    while (is_space(*s))
        s++;
    if (!read_uint(&s, 4, 4, &y) || *s++ != '-' || !read_uint(&s, 2, 2, &mo) || *s++ != '-' ||
        !read_uint(&s, 2, 2, &d) || (*s != ' ' && *s != 'T'))
        return -1;
    s++;
    if (!read_hms(&s, &h, &mi, &se) || !valid_ymdhms(y, mo, d, h, mi, se))
        return -1;
    return to_unix(y, mo, d, h, mi, se);
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

/* Parse and check one prefix; on failure note it and return -1. */
static int take_prefix(struct fparse *ps, unsigned lineno, const char *s, struct prefix *p)
{
    static const uint8_t mapped0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    int r = prefix_parse(s, false, p);
    if (r == -2) {
        note_bad(ps, lineno, BAD_HOST_BITS, "host bits set");
        return -1;
    }
    if (r < 0) {
        note_bad(ps, lineno, BAD_MALFORMED, "invalid address or prefix");
        return -1;
    }
    if (p->len >= 96 && addr_is_v4(p->addr)) {
        if (p->len < 96 + 8) {
            note_bad(ps, lineno, BAD_TOO_WIDE, "IPv4 prefix wider than /8");
            return -1;
        }
    } else if (p->len < 16) {
        note_bad(ps, lineno, BAD_TOO_WIDE, "IPv6 prefix wider than /16");
        return -1;
    } else if (p->len < 96 && prefix_contains(p, mapped0)) {
        note_bad(ps, lineno, BAD_TOO_WIDE, "IPv6 prefix covers the IPv4-mapped range");
        return -1;
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
    while (*c == ';' || *c == '#' || is_space(*c))
        c++;
    if (starts_with_ci(c, "Expires:")) {
        int64_t t = parse_rfc1123(c + 8);
        if (t >= 0)
            ps->st.expires_unix = t;
    } else if (starts_with_ci(c, "Last-Modified:")) {
        int64_t t = parse_rfc1123(c + 14);
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
        copy_token(e->listing, sizeof(e->listing), trim(semi + 1));
    }
    s = trim(s);
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
    while (*end && !is_space(*end) && *end != '#' && *end != ';')
        end++;
    char *rest = end;
    while (is_space(*rest))
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

/* Split in place; fields trimmed and unquoted ("" is a quote). Returns count or -1. */
static int split_csv(char *r, char *f[CSV_MAX_FIELDS])
{
    int n = 0;
    for (;;) {
        while (is_space(*r))
            r++;
        if (n == CSV_MAX_FIELDS)
            return -1;
        char *start = r, sep;
        if (*r == '"') {
            char *w = r++;
            for (;;) {
                if (*r == '\0')
                    return -1;
                if (*r == '"') {
                    if (r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            *w = '\0';
            while (is_space(*r))
                r++;
            if (*r != ',' && *r != '\0')
                return -1;
            sep = *r;
        } else {
            while (*r != ',' && *r != '\0')
                r++;
            sep = *r;
            char *e = r;
            while (e > start && is_space(e[-1]))
                e--;
            *e = '\0';
        }
        f[n++] = start;
        if (sep == '\0')
            return n;
        r++;
    }
}

/* A header names the columns; returns true when s was one. */
static bool csv_header(struct fparse *ps, const char *line)
{
    char s[FEED_MAX_LINE + 1];
    if (!strstr(line, "dst_ip"))
        return false;
    snprintf(s, sizeof(s), "%s", line);
    char *f[CSV_MAX_FIELDS];
    int n = split_csv(s, f);
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
    int n = split_csv(s, f);
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

struct jline {
    char cidr[64];
    char sblid[32];
    char type[16];
    char timestamp[24];
    char records[24];
    bool has_cidr, cidr_long;
};

/* One JSON object per line (core/json_read.h); unknown members ignored, the wanted ones
 * taken when they are strings or numbers (a cidr only as a string). Returns 0 or -1. */
static int jparse(const char *s, struct jline *j)
{
    memset(j, 0, sizeof(*j));
    struct jr_val d, k, v;
    if (!jr_parse(s, strlen(s), &d) || d.type != JR_OBJECT)
        return -1;
    size_t pos = 0;
    while (jr_next(&d, &pos, &k, &v)) {
        char key[24], val[128];
        if (k.n >= sizeof key) /* no member we want has a long name */
            continue;
        jr_text(&k, key, sizeof key);
        char *dst = NULL;
        size_t dlen = 0;
        if (strcmp(key, "cidr") == 0) {
            dst = j->cidr;
            dlen = sizeof(j->cidr);
        } else if (strcmp(key, "sblid") == 0) {
            dst = j->sblid;
            dlen = sizeof(j->sblid);
        } else if (strcmp(key, "type") == 0) {
            dst = j->type;
            dlen = sizeof(j->type);
        } else if (strcmp(key, "timestamp") == 0) {
            dst = j->timestamp;
            dlen = sizeof(j->timestamp);
        } else if (strcmp(key, "records") == 0) {
            dst = j->records;
            dlen = sizeof(j->records);
        }
        if (!dst || (v.type != JR_STRING && v.type != JR_NUMBER))
            continue;
        size_t n = jr_text(&v, val, sizeof val), c = n < dlen ? n : dlen - 1;
        memcpy(dst, val, c);
        dst[c] = '\0';
        if (dst == j->cidr && v.type == JR_STRING) {
            j->has_cidr = true;
            j->cidr_long = n >= dlen;
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

static int line_json(struct fparse *ps, char *s, unsigned lineno, struct feed_entry *e)
{
    struct jline j;
    if (jparse(s, &j) < 0) {
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
    char *c = trim(j.cidr);
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
        int64_t t = parse_iso(c + 13);
        if (t >= 0)
            ps->st.last_modified_unix = t;
    }
}

/* ---- detection and the line loop -------------------------------------------------------- */

static enum feed_format detect(const char *text, size_t len)
{
    size_t pos = 0;
    int lines = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len && lines++ < DETECT_MAX_LINES) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + 1;
        size_t i = 0;
        while (i < l && is_space(s[i]))
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

static bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > FEED_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
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
    } alias[] = {{"auto", FEED_AUTO},          {"drop", FEED_DROP},
                 {"spamhaus", FEED_DROP},      {"edrop", FEED_DROP},
                 {"spamhaus-json", FEED_SPAMHAUS_JSON}, {"json", FEED_SPAMHAUS_JSON},
                 {"plain", FEED_PLAIN},        {"feodo", FEED_PLAIN},
                 {"feodo-csv", FEED_FEODO_CSV}, {"csv", FEED_FEODO_CSV}};
    if (!s || !out)
        return -1;
    for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
        if (strcasecmp(s, alias[i].name) == 0) {
            *out = alias[i].fmt;
            return 0;
        }
    }
    return -1;
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

int feed_load_mem(const char *name, const char *srcname, const char *text, size_t len,
                  enum feed_format fmt, size_t max_entries, struct feed **out,
                  struct conf_error *err)
{
    struct fparse ps;
    struct feed *f = NULL;
    char line[FEED_MAX_LINE + 1];
    unsigned lineno = 0;
    int rc = -1;

    memset(&ps, 0, sizeof(ps));
    if (out)
        *out = NULL;
    ps.src = srcname ? srcname : (name ? name : "(feed)");
    if (!out || (!text && len)) {
        set_err(err, ps.src, 0, "invalid arguments");
        return -1;
    }
    if (!valid_name(name)) {
        set_err(err, ps.src, 0, "feed name must be 1..%d characters of [A-Za-z0-9._-]",
                FEED_NAME_MAX);
        return -1;
    }
    if ((unsigned)fmt > FEED_FEODO_CSV) {
        set_err(err, ps.src, 0, "unknown feed format");
        return -1;
    }
    ps.max_entries = max_entries ? max_entries : DEF_MAX_ENTRIES;
    if (ps.max_entries > UINT32_MAX - 1)
        ps.max_entries = UINT32_MAX - 1;
    ps.st.records_declared = -1;
    ps.col_ip = 1; /* Feodo's column order when there is no header */
    ps.col_port = 2;
    ps.col_malware = 5;

    size_t nonblank = 0;
    for (size_t i = 0; i < len && nonblank == 0; i++)
        if (!is_space(text[i]) && text[i] != '\n')
            nonblank++;
    if (nonblank == 0) {
        set_err(err, ps.src, 0, "empty file (failed download?)");
        return -1;
    }
    ps.fmt = fmt == FEED_AUTO ? detect(text, len) : fmt;

    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + (nl ? 1 : 0);
        if (lineno == UINT32_MAX) {
            set_err(err, ps.src, 0, "too many lines");
            goto out;
        }
        lineno++;
        ps.st.lines++;
        if (l > FEED_MAX_LINE) {
            size_t i = 0;
            while (i < l && is_space(s[i]))
                i++;
            if (i < l && (s[i] == '#' || (s[i] == ';' && ps.fmt != FEED_FEODO_CSV)))
                continue; /* an overlong comment is still a comment */
            ps.data_lines++;
            note_bad(&ps, lineno, BAD_MALFORMED, "line too long");
            continue;
        }
        if (memchr(s, '\0', l)) {
            ps.data_lines++;
            note_bad(&ps, lineno, BAD_MALFORMED, "NUL byte");
            continue;
        }
        memcpy(line, s, l);
        line[l] = '\0';
        char *p = trim(line);
        if (*p == '\0')
            continue;
        if (*p == '#' || (*p == ';' && ps.fmt != FEED_FEODO_CSV)) {
            comment_line(&ps, p);
            continue;
        }
        struct feed_entry e;
        memset(&e, 0, sizeof(e));
        e.line = lineno;
        int r;
        switch (ps.fmt) {
        case FEED_DROP:
            r = line_drop(&ps, p, lineno, &e);
            break;
        case FEED_SPAMHAUS_JSON:
            r = line_json(&ps, p, lineno, &e);
            break;
        case FEED_FEODO_CSV:
            if (ps.data_lines == 0 && ps.n == 0 && csv_header(&ps, p))
                continue;
            r = line_csv(&ps, p, lineno, &e);
            break;
        default:
            r = line_plain(&ps, p, lineno, &e);
            break;
        }
        if (r < 0)
            continue; /* metadata */
        ps.data_lines++;
        if (r == 0)
            continue;
        r = add_entry(&ps, &e);
        if (r == -ENOSPC) {
            set_err(err, ps.src, lineno, "more than %zu entries (raise the feed's max_entries)",
                    ps.max_entries);
            goto out;
        }
        if (r < 0) {
            set_err(err, ps.src, lineno, "out of memory");
            goto out;
        }
    }

    if (ps.data_lines > 0 && ps.n == 0) {
        set_err(err, ps.src, ps.st.first_bad_line,
                "no valid entry: %zu bad lines, first at line %u (%s)",
                ps.st.malformed + ps.st.host_bits + ps.st.too_wide, ps.st.first_bad_line,
                ps.st.first_bad_reason);
        goto out;
    }
    if (ps.n == 0 && (ps.fmt == FEED_DROP || ps.fmt == FEED_SPAMHAUS_JSON)) {
        set_err(err, ps.src, 0, "no entries (a %s list is never empty)",
                feed_format_name(ps.fmt));
        goto out;
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        set_err(err, ps.src, 0, "out of memory");
        goto out;
    }
    memcpy(f->name, name, strlen(name) + 1);
    if (finish(&ps, f) < 0) {
        set_err(err, ps.src, 0, "out of memory building the lookup trie");
        goto out;
    }
    *out = f;
    f = NULL;
    rc = 0;
out:
    feed_free(f);
    free(ps.e);
    return rc;
}

int feed_load(const char *name, const char *path, enum feed_format fmt, size_t max_entries,
              struct feed **out, struct conf_error *err)
{
    if (out)
        *out = NULL;
    if (!path) {
        set_err(err, name, 0, "no path");
        return -1;
    }
    char *buf;
    size_t len;
    if (conf_read_file(path, FEED_MAX_FILE, &buf, &len, err) < 0)
        return -1;
    int rc = feed_load_mem(name, path, buf, len, fmt, max_entries, out, err);
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
    if (!f || !trie_lookup(f->trie, addr, &v, NULL) || v >= f->n)
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
    for (const struct feed_entry *e = first; e < c->f->e + c->f->n && same_prefix(e, first);
         e++) {
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
    return 0;
}

size_t feed_set_count(const struct feed_set *s)
{
    return s ? s->n : 0;
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
