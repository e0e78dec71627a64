/* textfield.c: the text toolkit (textfield.h). */
#include "textfield.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

/* ---- lines and fields ---- */

void tf_lines_init(struct tf_lines *it, const char *text, size_t len)
{
    it->s = text;
    it->n = len;
    it->pos = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    it->lineno = 0;
}

bool tf_lines_next(struct tf_lines *it, const char **line, size_t *len)
{
    if (it->pos >= it->n)
        return false;
    const char *s = it->s + it->pos;
    const char *nl = memchr(s, '\n', it->n - it->pos);
    size_t l = nl ? (size_t)(nl - s) : it->n - it->pos;
    it->pos += l + (nl ? 1 : 0);
    it->lineno++;
    *line = s;
    *len = l;
    return true;
}

/* Blanks around CSV fields: spaces and tabs (other control characters stay in the field). */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One quoted field at *pr (on its opening quote), unquoted in place; *pr ends past the closing
 * quote and the blanks after it. */
static int csv_quoted(char **pr, const char **why)
{
    char *r = *pr, *w = r++;
    for (;;) {
        if (*r == '\0') {
            *why = "unterminated quote";
            return -EINVAL;
        }
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
    while (is_blank(*r))
        r++;
    if (*r != ',' && *r != '\0') {
        *why = "text after a closing quote";
        return -EINVAL;
    }
    *pr = r;
    return 0;
}

int tf_csv_split(char *line, char **fields, int max, const char **why)
{
    char *r = line;
    int n = 0;
    for (;;) {
        while (is_blank(*r))
            r++;
        if (n == max) {
            *why = "too many fields";
            return -E2BIG;
        }
        char *start = r, *end;
        if (*r == '"') {
            int rc = csv_quoted(&r, why);
            if (rc < 0)
                return rc;
            end = NULL; /* terminated by csv_quoted */
        } else {
            while (*r != ',' && *r != '\0') {
                if (*r == '"') {
                    *why = "quote inside an unquoted field";
                    return -EINVAL;
                }
                r++;
            }
            end = r;
            while (end > start && is_blank(end[-1]))
                end--;
        }
        char sep = *r;
        if (end)
            *end = '\0';
        fields[n++] = start;
        if (sep == '\0')
            return n;
        r++; /* past ',' */
    }
}

char *tf_trim_str(char *s)
{
    while (tf_is_space(*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && tf_is_space(e[-1]))
        e--;
    *e = '\0';
    return s;
}

/* ---- values ---- */

bool tf_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool tf_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool tf_uint_max(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    return tf_u64(s, n, out) && *out <= max;
}

bool tf_hex(const char *s, size_t n, uint64_t *out)
{
    if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    uint64_t v = 0;
    for (size_t i = 2; i < n; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 99;
        if (d > 15)
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

size_t tf_trim(const char **s, size_t n)
{
    while (n && tf_is_space(**s)) {
        (*s)++;
        n--;
    }
    while (n && tf_is_space((*s)[n - 1]))
        n--;
    return n;
}

bool tf_addr(const char *s, size_t n, uint8_t out[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf || memchr(s, '\0', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    return addr_parse(buf, out) == 0;
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
 * test_textfield checks it against timegm for every day of 1970..2400; it is used instead of
 * timegm because that costs about 730 instructions a call (callgrind, glibc 2.36), twice per
 * record of an nfdump or Argus file. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool tf_utc(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned se, int64_t *out)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 60 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    uint64_t v;
    if (!tf_u64(s, n, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

/* ".f..." (1..30 digits: JSON writers print doubles in full) into units of 10^-digits s */
static bool fraction(const char *s, size_t n, unsigned digits, unsigned *out)
{
    unsigned v = 0;
    if (n == 0 || n > 30)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (i < digits)
            v = v * 10 + (unsigned)(s[i] - '0');
    }
    for (size_t k = n; k < digits; k++)
        v *= 10;
    *out = v;
    return true;
}

bool tf_datetime(const char *s, size_t n, uint64_t *ms)
{
    unsigned y, mo, d, h, mi, se, frac = 0;
    if (n && s[n - 1] == 'Z')
        n--;
    if (n < 19 || (s[4] != '-' && s[4] != '/') || s[7] != s[4] || (s[10] != ' ' && s[10] != 'T') ||
        s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return false;
    if (n > 19 && (s[19] != '.' || !fraction(s + 20, n - 20, 3, &frac)))
        return false;
    int64_t t;
    if (!tf_utc(y, mo, d, h, mi, se, &t))
        return false;
    *ms = (uint64_t)t * 1000 + frac;
    return true;
}

/* Up to maxdig digits at *ps, at least mindig, not followed by another digit. */
static bool read_digits(const char **ps, int mindig, int maxdig, unsigned *out)
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

static const char *skip_space(const char *s)
{
    while (tf_is_space(*s))
        s++;
    return s;
}

int64_t tf_rfc1123(const char *s)
{
    static const char months[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
    unsigned d, mo = 0, y, h, mi, se;
    s = skip_space(s);
    const char *comma = strchr(s, ',');
    if (comma && comma - s <= 9)
        s = comma + 1; /* the weekday */
    s = skip_space(s);
    if (!read_digits(&s, 1, 2, &d))
        return -1;
    s = skip_space(s);
    for (unsigned i = 0; i < 12; i++)
        if (strncasecmp(s, months[i], 3) == 0)
            mo = i + 1;
    if (mo == 0)
        return -1;
    s += 3;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
        s++; /* "March" */
    s = skip_space(s);
    if (!read_digits(&s, 4, 4, &y))
        return -1;
    s = skip_space(s);
    if (!read_digits(&s, 1, 2, &h) || *s++ != ':' || !read_digits(&s, 2, 2, &mi) || *s++ != ':' ||
        !read_digits(&s, 2, 2, &se))
        return -1;
    s = skip_space(s);
    if (*s && strncasecmp(s, "GMT", 3) != 0 && strncasecmp(s, "UTC", 3) != 0 &&
        strncmp(s, "+0000", 5) != 0 && strncmp(s, "-0000", 5) != 0 && strcmp(s, "Z") != 0)
        return -1;
    int64_t t;
    return tf_utc(y, mo, d, h, mi, se, &t) ? t : -1;
}

bool tf_seconds_us(const char *s, size_t n, uint64_t *us)
{
    const char *dot = memchr(s, '.', n);
    size_t in = dot ? (size_t)(dot - s) : n;
    uint64_t sec;
    unsigned frac = 0;
    if (in > 12 || !tf_u64(s, in, &sec))
        return false;
    if (dot && !fraction(dot + 1, n - in - 1, 6, &frac))
        return false;
    *us = sec * 1000000 + frac;
    return true;
}

bool tf_seconds(const char *s, size_t n, uint64_t *ms)
{
    uint64_t us;
    if (!tf_seconds_us(s, n, &us))
        return false;
    *ms = us / 1000;
    return true;
}

bool tf_proto(const char *s, size_t n, uint8_t *out)
{
    static const struct {
        const char *name;
        uint8_t num;
    } tab[] = {
        {"ICMP", 1},   {"IGMP", 2},       {"IPIP", 4},    {"TCP", 6},    {"UDP", 17},
        {"IPv6", 41},  {"RSVP", 46},      {"GRE", 47},    {"ESP", 50},   {"AH", 51},
        {"ICMP6", 58}, {"ipv6-icmp", 58}, {"icmpv6", 58}, {"EIGRP", 88}, {"OSPF", 89},
        {"PIM", 103},  {"VRRP", 112},     {"L2TP", 115},  {"SCTP", 132},
    };
    uint64_t v;
    if (tf_uint_max(s, n, 255, &v)) {
        *out = (uint8_t)v;
        return true;
    }
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strlen(tab[i].name) == n && strncasecmp(tab[i].name, s, n) == 0) {
            *out = tab[i].num;
            return true;
        }
    }
    return false;
}
