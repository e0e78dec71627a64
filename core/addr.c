/* addr.c: 16-byte addresses and prefixes. IPv4 lives in ::ffff:0:0/96 so one trie and one
 * hash key form serve both families. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void addr_from_v4(uint8_t out[16], uint32_t v4_host_order)
{
    memcpy(out, v4_mapped, 12);
    out[12] = (uint8_t)(v4_host_order >> 24);
    out[13] = (uint8_t)(v4_host_order >> 16);
    out[14] = (uint8_t)(v4_host_order >> 8);
    out[15] = (uint8_t)v4_host_order;
}

void addr_from_v4_bytes(uint8_t out[16], const uint8_t v4[4])
{
    memcpy(out, v4_mapped, 12);
    memcpy(out + 12, v4, 4);
}

int addr_parse(const char *s, uint8_t out[16])
{
    uint8_t v4[4];
    if (!s)
        return -EINVAL;
    if (inet_pton(AF_INET, s, v4) == 1) {
        addr_from_v4_bytes(out, v4);
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1)
        return 0;
    return -EINVAL;
}

/* Clear bits from len on; returns true if any were set. */
static bool clear_host_bits(uint8_t a[16], unsigned len)
{
    bool had = false;
    for (unsigned i = 0; i < 16; i++) {
        unsigned lo = i * 8;
        uint8_t keep;
        if (len >= lo + 8)
            keep = 0xff;
        else if (len <= lo)
            keep = 0;
        else
            keep = (uint8_t)(0xff << (8 - (len - lo)));
        if (a[i] & (uint8_t)~keep)
            had = true;
        a[i] &= keep;
    }
    return had;
}

int prefix_parse(const char *s, bool fix_host_bits, struct prefix *out)
{
    char tmp[ADDR_STRLEN + 1];
    const char *slash;
    size_t alen;
    unsigned len, maxlen;
    uint8_t a[16];

    if (!s)
        return -EINVAL;
    slash = strchr(s, '/');
    alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    if (addr_parse(tmp, a) < 0)
        return -EINVAL;
    /* ::ffff:a.b.c.d written as IPv6 counts as IPv6 notation for the length */
    bool v4 = strchr(tmp, ':') == NULL;
    maxlen = v4 ? 32 : 128;
    if (slash) {
        const char *p = slash + 1;
        /* 1..3 decimal digits, nothing after; no signs, spaces or leading zeros beyond "0" */
        if (*p < '0' || *p > '9')
            return -EINVAL;
        len = 0;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (++nd > 3)
                return -EINVAL;
            len = len * 10 + (unsigned)(*p - '0');
            p++;
        }
        if (*p != '\0' || (nd > 1 && slash[1] == '0'))
            return -EINVAL;
        if (len > maxlen)
            return -EINVAL;
    } else {
        len = maxlen;
    }
    if (v4)
        len += 96;
    if (clear_host_bits(a, len) && !fix_host_bits)
        return -EDOM;
    memcpy(out->addr, a, 16);
    out->len = (uint8_t)len;
    return 0;
}

const char *addr_format(const uint8_t a[16], char buf[ADDR_STRLEN])
{
    if (addr_is_v4(a)) {
        if (!inet_ntop(AF_INET, a + 12, buf, ADDR_STRLEN))
            buf[0] = '\0';
    } else if (!inet_ntop(AF_INET6, a, buf, ADDR_STRLEN)) {
        buf[0] = '\0';
    }
    return buf;
}

unsigned prefix_user_len(const struct prefix *p)
{
    return addr_is_v4(p->addr) && p->len >= 96 ? p->len - 96u : p->len;
}

const char *prefix_format(const struct prefix *p, char *buf, size_t len)
{
    char a[ADDR_STRLEN];
    if (len == 0)
        return buf;
    /* a v4-mapped address with len < 96 is an IPv6 prefix (e.g. ::/0) */
    if (addr_is_v4(p->addr) && p->len >= 96) {
        if (!inet_ntop(AF_INET, p->addr + 12, a, sizeof(a)))
            a[0] = '\0';
    } else if (!inet_ntop(AF_INET6, p->addr, a, sizeof(a))) {
        a[0] = '\0';
    }
    snprintf(buf, len, "%s/%u", a, prefix_user_len(p));
    return buf;
}

bool prefix_contains(const struct prefix *p, const uint8_t a[16])
{
    unsigned len = p->len > 128 ? 128 : p->len;
    unsigned full = len / 8, rem = len % 8;
    if (memcmp(p->addr, a, full) != 0)
        return false;
    if (rem == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rem));
    return ((p->addr[full] ^ a[full]) & m) == 0;
}
