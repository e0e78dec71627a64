/* textfield.h: the text toolkit of the operator-list loaders (lists/: customer map, blocklist
 * feeds) and of the text sources (collector/sources: nfdump output, Zeek and Argus logs): the
 * lines of a file, fields of a line (separated, or CSV with quotes), trimming, numbers,
 * addresses, protocols, and dates (UTC).
 *
 * The field parsers work on (pointer, length) and trust no NUL; the few that take a
 * NUL-terminated string say so. Nothing allocates or keeps state; each parser returns false
 * (or a negative errno) on anything it does not fully accept. Pure functions, any thread. */
#ifndef TW_TEXTFIELD_H
#define TW_TEXTFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- lines and fields ---- */

/* The lines of a file in memory: split at LF (a CR before it stays in the line), a leading
 * UTF-8 byte order mark skipped, a last line without LF included. lineno: the line's number,
 * from 1. */
struct tf_lines {
    const char *s;
    size_t n, pos;
    unsigned lineno;
};
void tf_lines_init(struct tf_lines *it, const char *text, size_t len);
/* The next line (without its LF): true, or false at the end. */
bool tf_lines_next(struct tf_lines *it, const char **line, size_t *len);

/* The fields of s[0..n) separated by sep, no quoting: n separators give n + 1 fields (an
 * empty line is one empty field). Usage:
 *     struct tf_fields it = tf_fields(s, n, ',');
 *     for (const char *f; tf_field_next(&it, &f, &fn);) ... */
struct tf_fields {
    const char *s;
    size_t n, i;
    char sep;
};
static inline struct tf_fields tf_fields(const char *s, size_t n, char sep)
{
    return (struct tf_fields){s, n, 0, sep};
}
static inline bool tf_field_next(struct tf_fields *it, const char **f, size_t *fn)
{
    if (it->i > it->n)
        return false;
    const char *s = it->s, sep = it->sep; /* locals: a char load may alias *it */
    size_t j = it->i, n = it->n;          /* fields are short: a plain scan beats memchr */
    while (j < n && s[j] != sep)
        j++;
    *f = s + it->i;
    *fn = j - it->i;
    it->i = j + 1;
    return true;
}

/* Split a NUL-terminated CSV line in place (RFC 4180 quoting: a field in double quotes may
 * hold commas, "" is one quote; spaces and tabs around fields are dropped). fields[0..n) point into
 * line. Returns n, -E2BIG when there are more than max fields, or -EINVAL with *why saying what
 * is wrong (an unterminated quote, text after a closing quote, a quote inside an unquoted
 * field). */
int tf_csv_split(char *line, char **fields, int max, const char **why);

/* Blanks: what isspace() takes in the C locale (space, tab, LF, CR, vertical tab, form feed). */
static inline bool tf_is_space(char c)
{
    return c == ' ' || (unsigned char)(c - '\t') <= '\r' - '\t';
}
/* Strip blanks on both sides; returns the new length (*s advanced). */
size_t tf_trim(const char **s, size_t n);
/* The same in place on a NUL-terminated string; returns the start. */
char *tf_trim_str(char *s);

/* ---- values ---- */

/* A name as the operator's lists give them (customer ids, feed names): 1..max characters of
 * [A-Za-z0-9._-] (NUL-terminated; NULL is no name). */
bool tf_name_ok(const char *s, size_t max);

/* Decimal digits only (no sign, no spaces), at most 20, no overflow. */
bool tf_u64(const char *s, size_t n, uint64_t *out);
/* tf_u64 and <= max. */
bool tf_uint_max(const char *s, size_t n, uint64_t max, uint64_t *out);
/* "0x" followed by 1..16 hex digits. */
bool tf_hex(const char *s, size_t n, uint64_t *out);
/* An IPv4 or IPv6 address (addr_parse) into 16 bytes. */
bool tf_addr(const char *s, size_t n, uint8_t out[16]);
/* IP protocol: a number 0..255 or a name (TCP, udp, ICMP, ipv6-icmp, ...; any case). */
bool tf_proto(const char *s, size_t n, uint8_t *out);

/* ---- times (UTC) ---- */

/* Unix seconds of a civil UTC time (what timegm gives), after checking every part: years
 * 1970..9999, the day within its month (29 February in leap years only), second 60 allowed (a
 * leap second is the next minute's first). false when a part is out of range. */
bool tf_utc(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned se,
            int64_t *out);
/* "YYYY-MM-DD HH:MM:SS[.f...]" with '-' or '/' between date parts, ' ' or 'T' before the time,
 * 1..30 fraction digits (kept to the millisecond) and an optional trailing 'Z'; taken as UTC. */
bool tf_datetime(const char *s, size_t n, uint64_t *ms);
/* RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT" (NUL-terminated; weekday optional, the month's name
 * may be written out, zone GMT, UTC, Z, +0000, -0000 or none). Unix seconds, or -1. */
int64_t tf_rfc1123(const char *s);
/* Non-negative decimal seconds, at most 12 integer and 30 fraction digits (a Unix time such as
 * "1300475167.096535" or a duration such as "0.000341"; "1e-3" is refused) into ms. */
bool tf_seconds(const char *s, size_t n, uint64_t *ms);
/* The same in microseconds. */
bool tf_seconds_us(const char *s, size_t n, uint64_t *us);

#endif
