#include "alert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

static const char *copy_str(char **at, char *end, const char *str, bool *ok)
{
    if (!str)
        return NULL;
    size_t n = strlen(str) + 1;
    if (n > (size_t)(end - *at)) {
        *ok = false;
        return NULL;
    }
    char *d = memcpy(*at, str, n);
    *at += n;
    return d;
}

static size_t str_bytes(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

size_t alert_copy_bytes(const struct alert *a)
{
    size_t n = str_bytes(a->detector) + str_bytes(a->rule_id) + str_bytes(a->rule_name) +
               str_bytes(a->evidence_json) + str_bytes(a->customer_id) +
               str_bytes(a->customer_name);
    for (uint32_t i = 0; i < a->nenrich; i++)
        n += str_bytes(a->enrich[i].feed) + str_bytes(a->enrich[i].matched) +
             str_bytes(a->enrich[i].name) + str_bytes(a->enrich[i].reference);
    return n;
}

bool alert_copy(struct alert *dst, struct alert_enrichment *enr, uint32_t nenr, char *buf,
                size_t cap, const struct alert *src)
{
    *dst = *src;
    char *at = buf, *end = buf + cap;
    bool ok = true;
    dst->detector = copy_str(&at, end, src->detector, &ok);
    dst->rule_id = copy_str(&at, end, src->rule_id, &ok);
    dst->rule_name = copy_str(&at, end, src->rule_name, &ok);
    dst->customer_id = copy_str(&at, end, src->customer_id, &ok);
    dst->customer_name = copy_str(&at, end, src->customer_name, &ok);
    dst->nenrich = src->nenrich < nenr ? src->nenrich : nenr;
    ok = ok && dst->nenrich == src->nenrich;
    dst->enrich = dst->nenrich ? enr : NULL;
    for (uint32_t i = 0; i < dst->nenrich; i++) {
        enr[i] = src->enrich[i];
        enr[i].feed = copy_str(&at, end, src->enrich[i].feed, &ok);
        enr[i].matched = copy_str(&at, end, src->enrich[i].matched, &ok);
        enr[i].name = copy_str(&at, end, src->enrich[i].name, &ok);
        enr[i].reference = copy_str(&at, end, src->enrich[i].reference, &ok);
    }
    dst->evidence_json = copy_str(&at, end, src->evidence_json, &ok);
    return ok;
}
