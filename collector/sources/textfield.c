#include "textfield.h"

#include <string.h>
#include <strings.h>

#include "addr.h"

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
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
        if (d > 15)
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

size_t tf_trim(const char **s, size_t n)
{
    while (n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        n--;
    }
    while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\r'))
        n--;
    return n;
}

bool tf_addr(const char *s, size_t n, uint8_t out[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    return addr_parse(buf, out) == 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
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
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        return false;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((uint64_t)days * 86400 + h * 3600u + mi * 60u + se) * 1000 + frac;
    return true;
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
    static const struct { const char *name; uint8_t num; } tab[] = {
        {"ICMP", 1}, {"IGMP", 2}, {"IPIP", 4}, {"TCP", 6}, {"UDP", 17}, {"IPv6", 41},
        {"RSVP", 46}, {"GRE", 47}, {"ESP", 50}, {"AH", 51}, {"ICMP6", 58}, {"ipv6-icmp", 58},
        {"icmpv6", 58}, {"EIGRP", 88}, {"OSPF", 89}, {"PIM", 103}, {"VRRP", 112}, {"L2TP", 115},
        {"SCTP", 132},
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
