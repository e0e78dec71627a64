/* conf.c: the INI-like configuration reader described in conf.h.
 *
 * Decisions the header leaves open:
 * - err->msg is the bare message; print "%s:%u: %s" with err->file, err->line, err->msg
 *   (line 0: not tied to a line).
 * - A section without argument may appear once; a second [name] is an error. Whether a repeated
 *   [name ARG] is allowed is up to the section's open() (it knows its instances).
 * - open == NULL means the section's keys live in cfg itself.
 * - Key lines before the first section header are an error.
 * - A leading UTF-8 byte order mark is skipped; NUL bytes, lines over CONF_LINE_MAX bytes and
 *   files over CONF_FILE_MAX bytes are errors.
 * - Quoted values: "..." with \" and \\ escapes; after the closing quote only a comment.
 * - conf_write_example() writes [name ARG] sections entirely commented out (the header and the
 *   keys), so the example itself loads back without error.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_LINE_MAX 4096
#define CONF_FILE_MAX ((size_t)16 * 1024 * 1024)

void conf_error_set(struct conf_error *err, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

const char *conf_error_str(const struct conf_error *err, char *buf, size_t len)
{
    if (err->line)
        snprintf(buf, len, "%s:%u: %s", err->file, err->line, err->msg);
    else
        snprintf(buf, len, "%s: %s", err->file, err->msg);
    return buf;
}

char *conf_trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int conf_split(char *s, char sep, char **out, size_t max)
{
    size_t n = 0;
    s = conf_trim(s);
    if (*s == '\0')
        return 0;
    for (;;) {
        char *e = strchr(s, sep);
        if (e)
            *e = '\0';
        if (n == max)
            return -ENOSPC;
        out[n++] = conf_trim(s);
        if (!e)
            break;
        s = e + 1;
    }
    return (int)n;
}

const struct conf_key *conf_find_key(const struct conf_key *keys, const char *name)
{
    for (const struct conf_key *k = keys; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

/* ---- values ---- */

/* Decimal digits then an optional suffix (returned in *rest). Rejects signs, spaces, empty. */
static int parse_digits(const char *s, uint64_t *v, const char **rest)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    *v = (uint64_t)x;
    *rest = end;
    return 0;
}

static int mul_check(uint64_t *v, uint64_t m)
{
    if (m && *v > UINT64_MAX / m)
        return -ERANGE;
    *v *= m;
    return 0;
}

struct suffix {
    const char *s;
    uint64_t mult;
};

static const struct suffix sfx_u64[] = {{"", 1},        {"k", 1000},          {"K", 1000},
                                        {"M", 1000000}, {"G", 1000000000ULL}, {NULL, 0}};
static const struct suffix sfx_bytes[] = {{"", 1},
                                          {"k", 1ULL << 10},
                                          {"K", 1ULL << 10},
                                          {"KiB", 1ULL << 10},
                                          {"kiB", 1ULL << 10},
                                          {"M", 1ULL << 20},
                                          {"MiB", 1ULL << 20},
                                          {"G", 1ULL << 30},
                                          {"GiB", 1ULL << 30},
                                          {"T", 1ULL << 40},
                                          {"TiB", 1ULL << 40},
                                          {NULL, 0}};
static const struct suffix sfx_dur[] = {{"", 1},     {"s", 1},     {"m", 60},
                                        {"h", 3600}, {"d", 86400}, {NULL, 0}};
static const struct suffix sfx_none[] = {{"", 1}, {NULL, 0}};

/* Number with one of the suffixes. 0, -EINVAL syntax, -ERANGE overflow. */
static int parse_suffixed(const char *s, const struct suffix *sfx, uint64_t *out)
{
    uint64_t v;
    const char *rest;
    int rc = parse_digits(s, &v, &rest);
    if (rc < 0)
        return rc;
    for (const struct suffix *x = sfx; x->s; x++) {
        if (strcmp(rest, x->s) == 0) {
            if (mul_check(&v, x->mult) < 0)
                return -ERANGE;
            *out = v;
            return 0;
        }
    }
    return -EINVAL;
}

static bool bounded(const struct conf_key *key)
{
    return key->min <= key->max;
}

static int out_of_range(const struct conf_key *key, const char *value, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "%s = %s: out of range %.15g..%.15g", key->name, value, key->min,
             key->max);
    return -ERANGE;
}

static int set_uint(const struct conf_key *key, void *field, const char *value,
                    const struct suffix *sfx, const char *what, uint64_t limit, char *msg,
                    size_t msglen)
{
    uint64_t v;
    int rc = parse_suffixed(value, sfx, &v);
    if (rc == -ERANGE || (rc == 0 && v > limit)) {
        snprintf(msg, msglen, "%s = %s: number too large", key->name, value);
        return -ERANGE;
    }
    if (rc < 0) {
        snprintf(msg, msglen, "%s = %s: expected %s", key->name, value, what);
        return -EINVAL;
    }
    if (bounded(key) && ((double)v < key->min || (double)v > key->max))
        return out_of_range(key, value, msg, msglen);
    if (limit == UINT32_MAX) {
        uint32_t v32 = (uint32_t)v;
        memcpy(field, &v32, sizeof(v32));
    } else {
        memcpy(field, &v, sizeof(v));
    }
    return 0;
}

int conf_set(const struct conf_key *key, void *obj, const char *value, char *msg, size_t msglen)
{
    char *field = (char *)obj + key->offset;
    if (!value)
        value = "";
    switch (key->type) {
    case CONF_STR:
    case CONF_PATH: {
        size_t n = strlen(value);
        if (key->size == 0 || n >= key->size) {
            snprintf(msg, msglen, "%s: value too long (at most %zu bytes)", key->name,
                     key->size ? key->size - 1 : 0);
            return -E2BIG;
        }
        memcpy(field, value, n + 1);
        return 0;
    }
    case CONF_U64:
        return set_uint(key, field, value, sfx_u64, "a number (suffix k, M, G: x1000)", UINT64_MAX,
                        msg, msglen);
    case CONF_U32:
        return set_uint(key, field, value, sfx_none, "a number", UINT32_MAX, msg, msglen);
    case CONF_DURATION:
        return set_uint(key, field, value, sfx_dur, "a duration (seconds, or suffix s, m, h, d)",
                        UINT64_MAX, msg, msglen);
    case CONF_BYTES:
        return set_uint(key, field, value, sfx_bytes,
                        "a size in bytes (suffix k/KiB, M/MiB, G/GiB, T/TiB: x1024)", UINT64_MAX,
                        msg, msglen);
    case CONF_BOOL: {
        static const char *const yes[] = {"yes", "true", "on", "1", NULL};
        static const char *const no[] = {"no", "false", "off", "0", NULL};
        for (int i = 0; yes[i]; i++) {
            if (strcasecmp(value, yes[i]) == 0) {
                bool b = true;
                memcpy(field, &b, sizeof(b));
                return 0;
            }
            if (strcasecmp(value, no[i]) == 0) {
                bool b = false;
                memcpy(field, &b, sizeof(b));
                return 0;
            }
        }
        snprintf(msg, msglen, "%s = %s: expected yes/no, true/false, on/off or 1/0", key->name,
                 value);
        return -EINVAL;
    }
    case CONF_DOUBLE: {
        char *end;
        /* strtod would take leading blanks, hex, "inf" and "nan": only plain decimals here */
        if (!(isdigit((unsigned char)value[0]) ||
              ((value[0] == '-' || value[0] == '+' || value[0] == '.') &&
               (isdigit((unsigned char)value[1]) ||
                (value[1] == '.' && isdigit((unsigned char)value[2])))))) {
            snprintf(msg, msglen, "%s = %s: expected a number", key->name, value);
            return -EINVAL;
        }
        if (strpbrk(value, "xXpP")) {
            snprintf(msg, msglen, "%s = %s: expected a decimal number", key->name, value);
            return -EINVAL;
        }
        errno = 0;
        double d = strtod(value, &end);
        if (*end != '\0' || end == value) {
            snprintf(msg, msglen, "%s = %s: expected a number", key->name, value);
            return -EINVAL;
        }
        if (errno == ERANGE || !isfinite(d)) {
            snprintf(msg, msglen, "%s = %s: number out of range", key->name, value);
            return -ERANGE;
        }
        if (bounded(key) && (d < key->min || d > key->max))
            return out_of_range(key, value, msg, msglen);
        memcpy(field, &d, sizeof(d));
        return 0;
    }
    case CONF_CUSTOM: {
        if (!key->parse) {
            snprintf(msg, msglen, "%s: no parser (a bug)", key->name);
            return -EINVAL;
        }
        char sub[200] = "";
        int rc = key->parse(field, value, sub, sizeof(sub));
        if (rc < 0) {
            snprintf(msg, msglen, "%s = %s: %s", key->name, value, sub[0] ? sub : "invalid");
            return rc;
        }
        return 0;
    }
    }
    snprintf(msg, msglen, "%s: unknown type (a bug)", key->name);
    return -EINVAL;
}

int conf_defaults(const struct conf_key *keys, void *obj)
{
    char msg[256];
    for (const struct conf_key *k = keys; k && k->name; k++) {
        int rc = k->def ? conf_set(k, obj, k->def, msg, sizeof(msg)) : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- the file ---- */

struct parse_state {
    const char *name;
    const char *base; /* directory of the file (with its '/'), for relative CONF_PATH values */
    size_t baselen;
    const struct conf_section *sections;
    void *cfg;
    struct conf_error *err;
    const struct conf_section *cur; /* NULL before the first header */
    void *obj;
    unsigned *key_line; /* per key of cur: line it was set on, 0 = not yet */
    size_t nkeys;
    bool *seen_plain; /* per section: a no-argument section already opened */
};

static bool key_char(int c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.';
}

/* Value after '=': quoted or bare; comment stripped. Writes into s in place; NULL on error. */
static char *parse_value(char *s, const char **why)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    if (*s != '"') {
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        return conf_trim(s);
    }
    char *r = s + 1, *w = s;
    for (;;) {
        if (*r == '\0') {
            *why = "missing closing quote";
            return NULL;
        }
        if (*r == '"')
            break;
        if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
            r++;
        *w++ = *r++;
    }
    *w = '\0';
    r++;
    while (*r && isspace((unsigned char)*r))
        r++;
    if (*r != '\0' && *r != '#') {
        *why = "text after the closing quote";
        return NULL;
    }
    return s;
}

static int section_header(struct parse_state *st, char *line, unsigned lineno)
{
    char *close = strchr(line, ']');
    if (!close) {
        conf_error_set(st->err, st->name, lineno, "section header without ']'");
        return -EINVAL;
    }
    char *after = close + 1;
    while (*after && isspace((unsigned char)*after))
        after++;
    if (*after != '\0' && *after != '#') {
        conf_error_set(st->err, st->name, lineno, "text after the section header");
        return -EINVAL;
    }
    *close = '\0';
    char *name = conf_trim(line + 1);
    char *arg = name;
    while (*arg && !isspace((unsigned char)*arg))
        arg++;
    if (*arg) {
        *arg++ = '\0';
        arg = conf_trim(arg);
        size_t al = strlen(arg);
        if (al >= 2 && arg[0] == '"' && arg[al - 1] == '"') {
            arg[al - 1] = '\0';
            arg++;
        }
    }
    if (*name == '\0') {
        conf_error_set(st->err, st->name, lineno, "empty section name");
        return -EINVAL;
    }
    const struct conf_section *sec = NULL;
    size_t si = 0;
    for (const struct conf_section *s = st->sections; s->name; s++, si++) {
        if (strcmp(s->name, name) == 0) {
            sec = s;
            break;
        }
    }
    if (!sec) {
        conf_error_set(st->err, st->name, lineno, "unknown section [%s]", name);
        return -EINVAL;
    }
    if (sec->has_arg && *arg == '\0') {
        conf_error_set(st->err, st->name, lineno, "section [%s] needs an argument: [%s NAME]", name,
                       name);
        return -EINVAL;
    }
    if (!sec->has_arg && *arg != '\0') {
        conf_error_set(st->err, st->name, lineno, "section [%s] takes no argument", name);
        return -EINVAL;
    }
    if (!sec->has_arg) {
        if (st->seen_plain[si]) {
            conf_error_set(st->err, st->name, lineno, "section [%s] appears twice", name);
            return -EINVAL;
        }
        st->seen_plain[si] = true;
    }
    void *obj = st->cfg;
    if (sec->open) {
        char msg[200] = "";
        obj = sec->open(st->cfg, sec, sec->has_arg ? arg : NULL, msg, sizeof(msg));
        if (!obj) {
            conf_error_set(st->err, st->name, lineno, "[%s%s%s]: %s", name, *arg ? " " : "", arg,
                           msg[0] ? msg : "cannot open section");
            return -EINVAL;
        }
    }
    size_t n = 0;
    for (const struct conf_key *k = sec->keys; k && k->name; k++)
        n++;
    free(st->key_line);
    st->key_line = calloc(n ? n : 1, sizeof(*st->key_line));
    if (!st->key_line) {
        conf_error_set(st->err, st->name, lineno, "out of memory");
        return -ENOMEM;
    }
    st->nkeys = n;
    st->cur = sec;
    st->obj = obj;
    if (sec->seen)
        sec->seen(st->cfg, NULL, obj, st->base ? lineno : 0);
    return 0;
}

static int key_line(struct parse_state *st, char *line, unsigned lineno)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        conf_error_set(st->err, st->name, lineno, "expected 'key = value' or '[section]'");
        return -EINVAL;
    }
    *eq = '\0';
    char *key = conf_trim(line);
    if (*key == '\0') {
        conf_error_set(st->err, st->name, lineno, "missing key before '='");
        return -EINVAL;
    }
    for (char *c = key; *c; c++) {
        if (!key_char((unsigned char)*c)) {
            conf_error_set(st->err, st->name, lineno, "bad character in key '%.64s'", key);
            return -EINVAL;
        }
    }
    if (!st->cur) {
        conf_error_set(st->err, st->name, lineno, "'%.64s' before any [section]", key);
        return -EINVAL;
    }
    const struct conf_key *k = conf_find_key(st->cur->keys, key);
    if (!k && st->cur->set_key) {
        const char *why = NULL;
        char *value = parse_value(eq + 1, &why);
        if (!value) {
            conf_error_set(st->err, st->name, lineno, "%s: %s", key, why);
            return -EINVAL;
        }
        char msg[200] = "";
        if (st->cur->set_key(st->obj, key, value, lineno, msg, sizeof(msg)) < 0) {
            conf_error_set(st->err, st->name, lineno, "%s", msg[0] ? msg : "bad key");
            return -EINVAL;
        }
        return 0;
    }
    if (!k) {
        conf_error_set(st->err, st->name, lineno, "unknown key '%.64s' in [%s]", key,
                       st->cur->name);
        return -EINVAL;
    }
    size_t ki = (size_t)(k - st->cur->keys);
    if (st->key_line[ki]) {
        conf_error_set(st->err, st->name, lineno, "duplicate key '%s' (first set on line %u)",
                       k->name, st->key_line[ki]);
        return -EINVAL;
    }
    const char *why = NULL;
    char *value = parse_value(eq + 1, &why);
    if (!value) {
        conf_error_set(st->err, st->name, lineno, "%s: %s", k->name, why);
        return -EINVAL;
    }
    char msg[200];
    char joined[CONF_LINE_MAX + 512];
    if (k->type == CONF_PATH && st->baselen && value[0] && value[0] != '/' &&
        strcmp(value, "-") != 0) {
        int n = snprintf(joined, sizeof(joined), "%.*s%s", (int)st->baselen, st->base, value);
        if (n < 0 || (size_t)n >= sizeof(joined)) {
            conf_error_set(st->err, st->name, lineno, "%s: path too long", k->name);
            return -ENAMETOOLONG;
        }
        value = joined;
    }
    int rc = conf_set(k, st->obj, value, msg, sizeof(msg));
    if (rc < 0) {
        conf_error_set(st->err, st->name, lineno, "%s", msg);
        return rc;
    }
    st->key_line[ki] = lineno;
    if (st->cur->seen)
        st->cur->seen(st->cfg, k, (char *)st->obj + k->offset, st->base ? lineno : 0);
    return 0;
}

static int load_mem(const char *name, const char *base, const char *text, size_t len,
                    const struct conf_section *sections, void *cfg, struct conf_error *err)
{
    int rc = -EINVAL;
    struct conf_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof(*err));
    if (!name)
        name = "(config)";
    struct parse_state st = {
        .name = name, .sections = sections, .cfg = cfg, .err = err, .base = base};
    if (base) {
        const char *slash = strrchr(base, '/');
        st.baselen = slash ? (size_t)(slash - base) + 1 : 0; /* "t.conf": the working dir */
    }
    size_t nsec = 0;
    for (const struct conf_section *s = sections; s->name; s++)
        nsec++;
    st.seen_plain = calloc(nsec ? nsec : 1, sizeof(*st.seen_plain));
    if (!st.seen_plain) {
        conf_error_set(err, name, 0, "out of memory");
        return -ENOMEM;
    }
    if (len > CONF_FILE_MAX) {
        conf_error_set(err, name, 0, "file larger than %zu bytes", CONF_FILE_MAX);
        rc = -EFBIG;
        goto out;
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    if (memchr(text, '\0', len)) {
        const char *z = memchr(text, '\0', len);
        unsigned ln = 1;
        for (const char *c = text; c < z; c++)
            ln += *c == '\n';
        conf_error_set(err, name, ln, "NUL byte in file");
        goto out;
    }
    char line[CONF_LINE_MAX + 1];
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (n > CONF_LINE_MAX) {
            conf_error_set(err, name, lineno, "line longer than %d bytes", CONF_LINE_MAX);
            rc = -EINVAL;
            goto out;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        char *s = conf_trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        rc = *s == '[' ? section_header(&st, s, lineno) : key_line(&st, s, lineno);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    free(st.key_line);
    free(st.seen_plain);
    return rc;
}

int conf_load_mem(const char *name, const char *text, size_t len,
                  const struct conf_section *sections, void *cfg, struct conf_error *err)
{
    return load_mem(name, NULL, text, len, sections, cfg, err);
}

int conf_read_file(const char *path, size_t max, char **out, size_t *len, struct conf_error *err)
{
    int rc;
    char *buf = NULL;
    struct stat sb;
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        conf_error_set(err, path, 0, "cannot open: %s", strerror(errno));
        return rc;
    }
    if (fstat(fd, &sb) < 0) {
        rc = -errno;
        conf_error_set(err, path, 0, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = -EINVAL;
        conf_error_set(err, path, 0, "not a regular file");
        goto out;
    }
    if ((uint64_t)sb.st_size > max) {
        rc = -EFBIG;
        conf_error_set(err, path, 0, "file larger than %zu bytes", max);
        goto out;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    buf = malloc(size + 1);
    if (!buf) {
        rc = -ENOMEM;
        conf_error_set(err, path, 0, "out of memory");
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            conf_error_set(err, path, 0, "read error: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break; /* shrank while reading: take what is there */
        got += (size_t)r;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

int conf_read_head(const char *path, void *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return (int)got;
}

int conf_load(const char *path, const struct conf_section *sections, void *cfg,
              struct conf_error *err)
{
    char *buf;
    size_t len;
    int rc = conf_read_file(path, CONF_FILE_MAX, &buf, &len, err);
    if (rc < 0)
        return rc;
    rc = load_mem(path, path, buf, len, sections, cfg, err);
    free(buf);
    return rc;
}

/* ---- the annotated example ---- */

static const char *type_word(enum conf_type t)
{
    switch (t) {
    case CONF_STR:
        return "text";
    case CONF_PATH:
        return "path";
    case CONF_U64:
    case CONF_U32:
        return "number";
    case CONF_BOOL:
        return "yes/no";
    case CONF_DOUBLE:
        return "decimal";
    case CONF_DURATION:
        return "duration";
    case CONF_BYTES:
        return "size";
    case CONF_CUSTOM:
        return "value";
    }
    return "value";
}

/* A default as the parser reads it back: quoted when it would not survive bare. */
static void write_value(FILE *out, const char *v)
{
    size_t n = strlen(v);
    bool quote = n == 0 || strchr(v, '#') || v[0] == '"' || isspace((unsigned char)v[0]) ||
                 isspace((unsigned char)v[n - 1]);
    if (!quote) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', out);
        fputc(*c, out);
    }
    fputc('"', out);
}

void conf_write_example(FILE *out, const struct conf_section *sections)
{
    for (const struct conf_section *s = sections; s->name; s++) {
        const char *pre = s->has_arg ? "# " : "";
        if (s->help)
            fprintf(out, "# %s\n", s->help);
        if (s->has_arg)
            fprintf(out, "# [%s ARG]   (one section per instance)\n", s->name);
        else
            fprintf(out, "[%s]\n", s->name);
        for (const struct conf_key *k = s->keys; k && k->name; k++) {
            fprintf(out, "# %s (%s", k->help ? k->help : k->name, type_word(k->type));
            if (k->def)
                fprintf(out, ", default %s", k->def[0] ? k->def : "\"\"");
            if (k->type != CONF_STR && k->type != CONF_PATH && k->type != CONF_BOOL &&
                k->type != CONF_CUSTOM && k->min <= k->max)
                fprintf(out, ", range %.15g..%.15g%s", k->min, k->max,
                        k->type == CONF_DURATION ? " s"
                        : k->type == CONF_BYTES  ? " bytes"
                                                 : "");
            fputs(")\n", out);
            if (k->def) {
                fprintf(out, "%s%s = ", pre, k->name);
                write_value(out, k->def);
                fputc('\n', out);
            } else {
                fprintf(out, "# %s =\n", k->name);
            }
        }
        fputc('\n', out);
    }
}

/* One key's value as the parser reads it back. */
static void write_key_value(FILE *out, const struct conf_key *k, const void *obj)
{
    const char *field = (const char *)obj + k->offset;
    char v[64];
    switch (k->type) {
    case CONF_STR:
    case CONF_PATH:
        fprintf(out, "%s = ", k->name);
        write_value(out, field);
        fputc('\n', out);
        return;
    case CONF_U64:
    case CONF_DURATION:
    case CONF_BYTES:
        snprintf(v, sizeof v, "%llu", (unsigned long long)*(const uint64_t *)(const void *)field);
        break;
    case CONF_U32:
        snprintf(v, sizeof v, "%u", *(const uint32_t *)(const void *)field);
        break;
    case CONF_BOOL:
        snprintf(v, sizeof v, "%s", *(const bool *)(const void *)field ? "yes" : "no");
        break;
    case CONF_DOUBLE:
        snprintf(v, sizeof v, "%.15g", *(const double *)(const void *)field);
        break;
    case CONF_CUSTOM:
        fprintf(out, "# %s: (not shown)\n", k->name);
        return;
    }
    fprintf(out, "%s = %s\n", k->name, v);
}

void conf_write_values(FILE *out, const struct conf_section *sections, void *cfg)
{
    for (const struct conf_section *s = sections; s->name; s++) {
        char msg[128];
        void *obj = s->has_arg || !s->open ? NULL : s->open(cfg, s, NULL, msg, sizeof msg);
        if (!obj)
            continue;
        fprintf(out, "[%s]\n", s->name);
        for (const struct conf_key *k = s->keys; k && k->name; k++)
            write_key_value(out, k, obj);
        fputc('\n', out);
    }
}
