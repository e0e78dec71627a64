#include "alert.h"

#include <stddef.h>
#include <stdio.h>

const char *alert_category_name(enum alert_category c)
{
    static const char *const names[CAT_COUNT] = {"blocklist", "spam",       "c2",      "scan",
                                                 "flood",     "bruteforce", "customer"};
    return (unsigned)c < CAT_COUNT ? names[c] : "unknown";
}

const char *alert_severity_name(enum alert_severity s)
{
    switch (s) {
    case SEV_LOW:
        return "low";
    case SEV_MEDIUM:
        return "medium";
    case SEV_HIGH:
        return "high";
    case SEV_CRITICAL:
        return "critical";
    }
    return "unknown";
}

void alert_endpoints(const struct alert *a, const uint8_t **src, const uint8_t **dst)
{
    *src = *dst = NULL;
    if (!a->has_host)
        return;
    if (a->host_is_source) {
        *src = a->host;
        *dst = a->has_peer ? a->peer : NULL;
    } else {
        *src = a->has_peer ? a->peer : NULL;
        *dst = a->host;
    }
}

const char *alert_proto_name(unsigned p, char buf[8])
{
    switch (p) {
    case 1:
        return "icmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 58:
        return "ipv6-icmp";
    case 47:
        return "gre";
    case 50:
        return "esp";
    case 132:
        return "sctp";
    }
    snprintf(buf, 8, "%u", p);
    return buf;
}
