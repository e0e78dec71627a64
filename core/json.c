/* json.c: JSON writer into caller memory. Every value is written whole or not at all: on
 * overflow the value being written is cut back out, err is set and nothing more is written,
 * so buf always holds a NUL-ended prefix made of complete tokens. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"

void json_init(struct json *j, char *buf, size_t cap)
{
    memset(j, 0, sizeof(*j));
    j->buf = buf;
    j->cap = cap;
    j->first[0] = true;
    if (cap > 0)
        buf[0] = '\0';
    else
        j->err = true; /* no room even for the terminator */
}

/* Append n bytes; false (and err) when they and the NUL do not fit. */
static bool put(struct json *j, const char *s, size_t n)
{
    if (j->err)
        return false;
    if (n >= j->cap - j->len) {
        j->err = true;
        return false;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
    return true;
}

static bool putc1(struct json *j, char c)
{
    return put(j, &c, 1);
}

/* Undo a partly written value. */
static void rollback(struct json *j, size_t start)
{
    j->len = start;
    if (j->cap > 0)
        j->buf[start] = '\0';
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s[0] does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* > U+10FFFF */
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

static bool put_escaped(struct json *j, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    if (!putc1(j, '"'))
        return false;
    while (i < n) {
        /* copy the longest run that needs no escaping in one go */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            if (!put(j, (const char *)s + i, run - i))
                return false;
            i = run;
            continue;
        }
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            if (!put(j, e, 2))
                return false;
            i++;
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (!put(j, e, 6))
                return false;
            i++;
        } else {
            size_t k = utf8_seq(s + i, n - i);
            if (k == 0) {
                if (!put(j, "\\ufffd", 6))
                    return false;
                i++;
            } else {
                if (!put(j, (const char *)s + i, k))
                    return false;
                i += k;
            }
        }
    }
    return putc1(j, '"');
}

/* Comma and key before a value; marks the level as non-empty. */
static bool prefix(struct json *j, const char *key)
{
    if (j->err)
        return false;
    if (!j->first[j->depth] && !putc1(j, ','))
        return false;
    if (key && (!put_escaped(j, key, strlen(key)) || !putc1(j, ':')))
        return false;
    return true;
}

static void finish(struct json *j, size_t start, bool ok)
{
    if (ok)
        j->first[j->depth] = false;
    else
        rollback(j, start);
}

/* One scalar token after the prefix. */
static void scalar(struct json *j, const char *key, const char *tok, size_t n)
{
    size_t start = j->len;
    bool ok = prefix(j, key) && put(j, tok, n);
    finish(j, start, ok);
}

static void open_(struct json *j, const char *key, char c)
{
    size_t start = j->len;
    if (j->err)
        return;
    if (j->depth + 1 >= JSON_MAX_DEPTH) {
        j->err = true;
        return;
    }
    bool ok = prefix(j, key) && putc1(j, c);
    finish(j, start, ok);
    if (ok) {
        j->depth++;
        j->first[j->depth] = true;
    }
}

static void close_(struct json *j, char c)
{
    if (j->err)
        return;
    if (j->depth == 0) {
        j->err = true; /* unbalanced close: a bug in the caller */
        return;
    }
    if (putc1(j, c))
        j->depth--;
}

void json_obj_open(struct json *j, const char *key)
{
    open_(j, key, '{');
}

void json_obj_close(struct json *j)
{
    close_(j, '}');
}

void json_arr_open(struct json *j, const char *key)
{
    open_(j, key, '[');
}

void json_arr_close(struct json *j)
{
    close_(j, ']');
}

void json_strn(struct json *j, const char *key, const char *val, size_t n)
{
    if (!val) {
        json_null(j, key);
        return;
    }
    size_t start = j->len;
    bool ok = prefix(j, key) && put_escaped(j, val, n);
    finish(j, start, ok);
}

void json_str(struct json *j, const char *key, const char *val)
{
    json_strn(j, key, val, val ? strlen(val) : 0);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    scalar(j, key, tmp, (size_t)n);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    scalar(j, key, tmp, (size_t)n);
}

void json_double(struct json *j, const char *key, double v, int decimals)
{
    char tmp[400]; /* DBL_MAX in %f is 309 digits + 17 decimals */
    if (!isfinite(v)) {
        json_null(j, key);
        return;
    }
    if (decimals < 0)
        decimals = 0;
    if (decimals > 17)
        decimals = 17;
    if (v == 0)
        v = 0; /* no "-0.000" */
    int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        j->err = true;
        return;
    }
    /* a negative value that rounds to zero prints "-0.00": drop the sign */
    if (tmp[0] == '-' && strspn(tmp + 1, "0.") == (size_t)(n - 1)) {
        scalar(j, key, tmp + 1, (size_t)n - 1);
        return;
    }
    scalar(j, key, tmp, (size_t)n);
}

void json_bool(struct json *j, const char *key, bool v)
{
    if (v)
        scalar(j, key, "true", 4);
    else
        scalar(j, key, "false", 5);
}

void json_null(struct json *j, const char *key)
{
    scalar(j, key, "null", 4);
}

void json_raw(struct json *j, const char *key, const char *json_text)
{
    if (!json_text) {
        json_null(j, key);
        return;
    }
    scalar(j, key, json_text, strlen(json_text));
}

void json_addr(struct json *j, const char *key, const uint8_t addr[16])
{
    char buf[ADDR_STRLEN];
    json_str(j, key, addr_format(addr, buf));
}

void json_format_time(uint64_t unix_ms, char out[32])
{
    /* beyond 9999-12-31T23:59:59.999Z RFC 3339 has no form: clamp */
    const uint64_t max_ms = 253402300799999ULL;
    if (unix_ms > max_ms)
        unix_ms = max_ms;
    time_t secs = (time_t)(unix_ms / 1000);
    unsigned ms = (unsigned)(unix_ms % 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00.000Z");
        return;
    }
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", ms);
}

void json_time(struct json *j, const char *key, uint64_t unix_ms)
{
    char buf[32];
    json_format_time(unix_ms, buf);
    json_str(j, key, buf);
}
