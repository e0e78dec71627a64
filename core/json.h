/* json.h: a JSON writer into caller memory (no allocation). Numbers and strings are written
 * in one fixed form so the same input gives byte-identical output.
 *
 * Usage: json_init(&j, buf, sizeof buf); json_obj_open(&j, NULL); json_str(&j, "k", "v");
 * json_obj_close(&j); if (json_error(&j)) ... ; the text is buf[0 .. json_len(&j)), NUL-ended.
 * key is NULL for values inside arrays and for the top-level value.
 * On overflow the writer stops writing and json_error() is true; it never writes past cap.
 */
#ifndef TW_JSON_H
#define TW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json {
    char *buf;
    size_t len, cap;
    bool err;
    int depth;
    bool first[JSON_MAX_DEPTH]; /* no comma needed before the next member at this depth */
};

void json_init(struct json *j, char *buf, size_t cap);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val); /* escaped; NULL -> null */
void json_strn(struct json *j, const char *key, const char *val, size_t n);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v, int decimals); /* NaN/inf -> null */
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_raw(struct json *j, const char *key, const char *json_text); /* already JSON */
void json_addr(struct json *j, const char *key, const uint8_t addr[16]);
/* RFC 3339 UTC with milliseconds: "2008-09-20T12:00:00.000Z". */
void json_time(struct json *j, const char *key, uint64_t unix_ms);
static inline bool json_error(const struct json *j)
{
    return j->err;
}
static inline size_t json_len(const struct json *j)
{
    return j->len;
}
/* Format unix_ms as RFC 3339 into out (>= 25 bytes). */
void json_format_time(uint64_t unix_ms, char out[32]);

#endif
