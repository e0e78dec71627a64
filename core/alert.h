/* alert.h: what a detector reports. Detectors fill a struct alert on their worker and hand it
 * to det_alert() (detectors/detector.h); the pipeline's alert manager suppresses repeats, adds the
 * customer's id/name/ASN, and formats it to JSON once (exporters/alert_json.c).
 * Every pointer member is borrowed for the duration of the call that receives the alert. */
#ifndef TW_ALERT_H
#define TW_ALERT_H

#include <stdbool.h>
#include <stdint.h>

enum alert_severity { SEV_LOW = 1, SEV_MEDIUM = 2, SEV_HIGH = 3, SEV_CRITICAL = 4 };

/* Categories the customer hostility score counts (one host may be in several). */
enum alert_category {
    CAT_BLOCKLIST = 0, /* talked to / is a listed address */
    CAT_SPAM = 1,
    CAT_C2 = 2,
    CAT_SCAN = 3,
    CAT_FLOOD = 4,
    CAT_CUSTOMER = 5, /* a customer-level finding (hostility score, own space listed) */
    CAT_COUNT
};

struct alert {
    const char *detector;  /* registry name, e.g. "blocklist" */
    const char *rule_id;   /* stable id, e.g. "blocklist.peer_listed" */
    const char *rule_name; /* one human sentence */
    enum alert_category category;
    enum alert_severity severity;
    double score;          /* [0, 1] */
    uint32_t customer;     /* customer index + 1 */
    bool has_host, has_peer;
    uint8_t host[16];      /* the customer's (inside) host */
    uint8_t peer[16];      /* the outside party, when one exists */
    bool host_is_source;   /* host was the flow source (outbound) */
    uint8_t proto;         /* 0 = not tied to one protocol */
    uint16_t port;         /* peer port (0 = none) */
    uint64_t win_start_ms, win_end_ms; /* the evidence window */
    uint64_t first_ms, last_ms;        /* first/last flow that supports it */
    uint64_t flows, bytes, packets;
    /* threat intel (list hits): NULL when none */
    const char *feed_name;     /* threat.feed.name */
    const char *indicator;     /* matched prefix or address, e.g. "203.0.113.0/24" */
    const char *listing_id;    /* SBL id or malware family */
    bool indicator_is_host;    /* the listed party is the host (else the peer) */
    /* detector's structured evidence: a JSON object text, or NULL */
    const char *evidence_json;
    /* filled by the alert manager, not by detectors */
    const char *customer_id, *customer_name;
    uint32_t customer_asn;
    uint64_t repeat_count;     /* occurrences folded into this alert so far */
    char event_id[33];         /* deterministic: same alert, same id */
};

const char *alert_category_name(enum alert_category c);
const char *alert_severity_name(enum alert_severity s);

#endif
