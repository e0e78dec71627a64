/* json_read.c: see json_read.h. A recursive-descent reader over the text in place. */
#include "json_read.h"

#include <stdlib.h>
#include <string.h>

static size_t ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool value(const char *s, size_t n, size_t *i, int depth, struct jr_val *out);

static int hexval(char c);

/* The string at s[*i] (on the quote); out's text is between the quotes. Escapes are checked:
 * \" \\ \/ \b \f \n \r \t and \u with four hex digits. */
static bool string(const char *s, size_t n, size_t *i, struct jr_val *out)
{
    size_t j = *i + 1;
    while (j < n && s[j] != '"') {
        if ((unsigned char)s[j] < 0x20)
            return false;
        if (s[j] != '\\') {
            j++;
            continue;
        }
        if (j + 1 >= n || !strchr("\"\\/bfnrtu", s[j + 1]) || s[j + 1] == 0)
            return false;
        if (s[j + 1] == 'u') {
            for (size_t k = 2; k < 6; k++)
                if (j + k >= n || hexval(s[j + k]) < 0)
                    return false;
            j += 6;
        } else {
            j += 2;
        }
    }
    if (j >= n)
        return false;
    *out = (struct jr_val){JR_STRING, s + *i + 1, j - *i - 1};
    *i = j + 1;
    return true;
}

static bool number(const char *s, size_t n, size_t *i, struct jr_val *out)
{
    size_t j = *i, d;
    if (j < n && s[j] == '-')
        j++;
    for (d = j; j < n && is_digit(s[j]); j++)
        ;
    if (j == d || (j - d > 1 && s[d] == '0')) /* no digit, or a leading zero */
        return false;
    if (j < n && s[j] == '.') {
        for (d = ++j; j < n && is_digit(s[j]); j++)
            ;
        if (j == d)
            return false;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        for (d = j; j < n && is_digit(s[j]); j++)
            ;
        if (j == d)
            return false;
    }
    *out = (struct jr_val){JR_NUMBER, s + *i, j - *i};
    *i = j;
    return true;
}

static bool literal(const char *s, size_t n, size_t *i, const char *word, enum jr_type t,
                    struct jr_val *out)
{
    size_t len = strlen(word);
    if (n - *i < len || memcmp(s + *i, word, len) != 0)
        return false;
    *out = (struct jr_val){t, s + *i, len};
    *i += len;
    return true;
}

/* An object or array at s[*i]: every member checked, out spans the brackets. */
static bool container(const char *s, size_t n, size_t *i, int depth, struct jr_val *out)
{
    if (depth >= JR_MAX_DEPTH)
        return false;
    bool obj = s[*i] == '{';
    char close = obj ? '}' : ']';
    size_t j = ws(s, n, *i + 1);
    if (j < n && s[j] == close) {
        *out = (struct jr_val){obj ? JR_OBJECT : JR_ARRAY, s + *i, j + 1 - *i};
        *i = j + 1;
        return true;
    }
    for (;;) {
        struct jr_val k, v;
        if (obj) {
            if (j >= n || s[j] != '"' || !string(s, n, &j, &k))
                return false;
            j = ws(s, n, j);
            if (j >= n || s[j] != ':')
                return false;
            j = ws(s, n, j + 1);
        }
        if (!value(s, n, &j, depth + 1, &v))
            return false;
        j = ws(s, n, j);
        if (j < n && s[j] == ',') {
            j = ws(s, n, j + 1);
            continue;
        }
        if (j < n && s[j] == close)
            break;
        return false;
    }
    *out = (struct jr_val){obj ? JR_OBJECT : JR_ARRAY, s + *i, j + 1 - *i};
    *i = j + 1;
    return true;
}

static bool value(const char *s, size_t n, size_t *i, int depth, struct jr_val *out)
{
    if (*i >= n)
        return false;
    switch (s[*i]) {
    case '"':
        return string(s, n, i, out);
    case '{':
    case '[':
        return container(s, n, i, depth, out);
    case 't':
        return literal(s, n, i, "true", JR_TRUE, out);
    case 'f':
        return literal(s, n, i, "false", JR_FALSE, out);
    case 'n':
        return literal(s, n, i, "null", JR_NULL, out);
    default:
        return number(s, n, i, out);
    }
}

bool jr_parse(const char *s, size_t n, struct jr_val *out)
{
    size_t i = ws(s, n, 0);
    struct jr_val v;
    if (!value(s, n, &i, 0, &v) || ws(s, n, i) != n)
        return false;
    *out = v;
    return true;
}

bool jr_next(const struct jr_val *c, size_t *pos, struct jr_val *key, struct jr_val *val)
{
    if ((c->type != JR_OBJECT && c->type != JR_ARRAY) || c->n < 2)
        return false;
    const char *s = c->p;
    size_t n = c->n - 1; /* up to the closing bracket */
    size_t i = ws(s, n, *pos ? *pos : 1);
    if (i < n && s[i] == ',')
        i = ws(s, n, i + 1);
    if (i >= n)
        return false;
    *key = (struct jr_val){JR_NONE, NULL, 0};
    if (c->type == JR_OBJECT) {
        if (s[i] != '"' || !string(s, n, &i, key))
            return false;
        i = ws(s, n, i);
        if (i >= n || s[i] != ':')
            return false;
        i = ws(s, n, i + 1);
    }
    if (!value(s, n, &i, 1, val))
        return false;
    *pos = i;
    return true;
}

bool jr_get(const struct jr_val *v, const char *path, struct jr_val *out)
{
    struct jr_val cur = *v;
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        bool found = false;
        struct jr_val k, x;
        size_t pos = 0;
        if (cur.type == JR_OBJECT) {
            while (!found && jr_next(&cur, &pos, &k, &x))
                found = k.n == len && memcmp(k.p, path, len) == 0;
        } else if (cur.type == JR_ARRAY && len > 0 && len < 10) {
            size_t want = 0, idx = 0;
            for (size_t c = 0; c < len; c++) {
                if (!is_digit(path[c]))
                    return false;
                want = want * 10 + (size_t)(path[c] - '0');
            }
            while (!found && jr_next(&cur, &pos, &k, &x))
                found = idx++ == want;
        }
        if (!found)
            return false;
        cur = x;
        path += len + (dot ? 1 : 0);
    }
    *out = cur;
    return true;
}

/* 0..15, or -1 for a character that is no hex digit (not an errno). */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t jr_text(const struct jr_val *v, char *buf, size_t cap)
{
    if (!cap)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < v->n && o + 1 < cap; i++) {
        char c = v->p[i];
        if (v->type != JR_STRING || c != '\\' || i + 1 >= v->n) {
            buf[o++] = c;
            continue;
        }
        c = v->p[++i];
        switch (c) {
        case 'n':
            c = '\n';
            break;
        case 't':
            c = '\t';
            break;
        case 'r':
            c = '\r';
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'u': {
            int cp = 0;
            for (int k = 1; k <= 4; k++) {
                int h = i + (size_t)k < v->n ? hexval(v->p[i + (size_t)k]) : -1;
                cp = h < 0 ? -1 : cp * 16 + h;
                if (cp < 0)
                    break;
            }
            if (cp >= 0)
                i += 4;
            c = cp >= 0x20 && cp < 0x7f ? (char)cp : '?';
            break;
        }
        default:
            break; /* \" \\ \/ */
        }
        buf[o++] = c;
    }
    buf[o] = 0;
    return o;
}

bool jr_double(const struct jr_val *v, double *out)
{
    char b[64];
    if (v->type != JR_NUMBER || v->n >= sizeof b)
        return false;
    memcpy(b, v->p, v->n);
    b[v->n] = 0;
    *out = strtod(b, NULL);
    return true;
}

bool jr_u64(const struct jr_val *v, uint64_t *out)
{
    if (v->type != JR_NUMBER || v->n == 0 || v->n > 20)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (!is_digit(v->p[i]))
            return false;
        uint64_t d = (uint64_t)(v->p[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

bool jr_is(const struct jr_val *v, const char *s)
{
    size_t len = strlen(s);
    return v->type == JR_STRING && v->n == len && memcmp(v->p, s, len) == 0;
}
