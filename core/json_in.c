/* json_in.c: the JSON reader (json_in.h) over json-c's tokener. */
#include "json_in.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

struct jin {
    struct json_tokener *tok;
    bool pending;
    char num[24]; /* an integer member's text, while its callback runs */
    char err[96];
};

int jin_new(int max_depth, struct jin **out)
{
    *out = NULL;
    struct jin *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->tok = json_tokener_new_ex(max_depth + 1); /* json-c counts a scalar as a level too */
    if (!j->tok) {
        free(j);
        return -ENOMEM;
    }
    json_tokener_set_flags(j->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    *out = j;
    return 0;
}

void jin_free(struct jin *j)
{
    if (!j)
        return;
    json_tokener_free(j->tok);
    free(j);
}

void jin_reset(struct jin *j)
{
    json_tokener_reset(j->tok);
    j->pending = false;
}

bool jin_pending(const struct jin *j)
{
    return j->pending;
}

const char *jin_error(const struct jin *j)
{
    return j->err;
}

static int fail(struct jin *j, const char *what)
{
    snprintf(j->err, sizeof j->err, "%s", what);
    jin_reset(j);
    return -EINVAL;
}

/* Decimal text of v (negative when neg) into buf[24]; returns its length. */
static size_t u64_text(uint64_t v, bool neg, char *buf)
{
    char tmp[24];
    size_t n = 0, k = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
    return k;
}

/* A member's value as jin_value (integers printed into j->num: json-c would go through
 * snprintf). */
static void value_of(struct jin *j, struct json_object *v, struct jin_value *out)
{
    *out = (struct jin_value){JIN_OTHER, "", 0};
    switch (json_object_get_type(v)) {
    case json_type_null:
        *out = (struct jin_value){JIN_NULL, "null", 4};
        return;
    case json_type_boolean:
        *out = json_object_get_boolean(v) ? (struct jin_value){JIN_BOOL, "true", 4}
                                          : (struct jin_value){JIN_BOOL, "false", 5};
        return;
    case json_type_int: {
        /* json-c holds an int64 or a uint64 and clamps what fits neither to INT64_MIN or
         * UINT64_MAX: those two are refused as numbers */
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MIN)
            return;
        if (i < 0) {
            size_t n = u64_text(0 - (uint64_t)i, true, j->num);
            *out = (struct jin_value){JIN_NUMBER, j->num, n};
            return;
        }
        uint64_t u = i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i;
        if (u == UINT64_MAX)
            return;
        size_t n = u64_text(u, false, j->num);
        *out = (struct jin_value){JIN_NUMBER, j->num, n};
        return;
    }
    case json_type_double: { /* json-c keeps the number's own text */
        const char *t = json_object_get_string(v);
        *out = (struct jin_value){JIN_NUMBER, t, strlen(t)};
        return;
    }
    case json_type_string: {
        const char *t = json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (!memchr(t, '\0', n))
            *out = (struct jin_value){JIN_STRING, t, n};
        return;
    }
    default: /* object, array */
        return;
    }
}

static int members(struct jin *j, struct json_object *o, jin_member_fn cb, void *arg)
{
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return fail(j, "not a JSON object");
    }
    int rc = 0;
    struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
    for (; rc >= 0 && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        struct jin_value v;
        value_of(j, json_object_iter_peek_value(&it), &v);
        rc = cb(arg, key, strlen(key), &v);
    }
    json_object_put(o);
    return rc < 0 ? rc : 0;
}

/* Bytes RFC 8259 allows nowhere: controls other than tab, LF and CR (json-c would take them
 * inside strings), and NUL (json-c would end the text there). */
static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return true;
    }
    return false;
}

/* json-c's reason for the tokener's state, or what. */
static int tok_fail(struct jin *j, const char *what)
{
    enum json_tokener_error e = json_tokener_get_error(j->tok);
    return fail(j, e == json_tokener_continue || e == json_tokener_success
                       ? what
                       : json_tokener_error_desc(e));
}

int jin_object(struct jin *j, const char *s, size_t n, jin_member_fn cb, void *arg)
{
    j->err[0] = 0;
    jin_reset(j);
    if (n > INT_MAX)
        return fail(j, "text too long");
    if (has_control(s, n))
        return fail(j, "control character");
    struct json_object *o = json_tokener_parse_ex(j->tok, s, (int)n);
    if (!o)
        return tok_fail(j, "unexpected end of the object");
    jin_reset(j);
    return members(j, o, cb, arg);
}

int jin_feed(struct jin *j, const char *s, size_t n, size_t *used, jin_member_fn cb, void *arg)
{
    j->err[0] = 0;
    if (n > INT_MAX)
        return fail(j, "text too long");
    if (has_control(s, n))
        return fail(j, "control character");
    /* Fed up to each '}' in turn: in strict mode json-c takes nothing after the object in the
     * same call, and the object can only end at one of them. */
    size_t off = 0;
    while (off < n) {
        const char *rb = memchr(s + off, '}', n - off);
        size_t piece = rb ? (size_t)(rb - (s + off)) + 1 : n - off;
        struct json_object *o = json_tokener_parse_ex(j->tok, s + off, (int)piece);
        off += piece;
        if (o) {
            jin_reset(j);
            *used = off;
            int rc = members(j, o, cb, arg);
            return rc < 0 ? rc : 1;
        }
        if (json_tokener_get_error(j->tok) != json_tokener_continue)
            return tok_fail(j, "bad object");
        j->pending = true;
    }
    *used = n;
    return 0;
}
