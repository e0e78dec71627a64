/* alert.h: what a detector reports. Detectors fill a struct alert on their worker and hand it
 * to det_alert() (detectors/detector.h); the pipeline's alert manager (collector/alerts.h)
 * folds repeats of an ongoing incident into one event.id, adds the customer's id/name/ASN, and
 * formats it to JSON once (exporters/alert_json.c).
 * Every pointer member is borrowed for the duration of the call that receives the alert. */
#ifndef TW_ALERT_H
#define TW_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum alert_severity { SEV_LOW = 1, SEV_MEDIUM = 2, SEV_HIGH = 3, SEV_CRITICAL = 4 };

/* Categories the customer hostility score counts (one host may be in several). */
enum alert_category {
    CAT_BLOCKLIST = 0, /* talked to / is a listed address */
    CAT_SPAM = 1,
    CAT_C2 = 2,
    CAT_SCAN = 3,
    CAT_FLOOD = 4,
    CAT_BRUTEFORCE = 5, /* guessing logins of others' services */
    CAT_CUSTOMER = 6,   /* a customer-level finding (hostility score, own space listed) */
    CAT_COUNT
};

/* One list that names the listed party (ECS threat.enrichments[]). */
struct alert_enrichment {
    const char *feed;      /* feed name: indicator.provider */
    const char *matched;   /* the listed prefix or address, e.g. "203.0.113.0/24" */
    const char *name;      /* the listing: SBL id, malware family, else the feed name; never "" */
    const char *reference; /* a URL for the listing when the feed gives one, or NULL */
    uint16_t port;         /* the listed port (Feodo), 0 = any */
    bool port_matched;     /* a flow used the listed port */
};

#define ALERT_ENRICH_MAX 32 /* every feed of a feed set (FEED_SET_MAX) */

struct alert {
    const char *detector; /* registry name, e.g. "blocklist" */
    const char *rule_id;  /* stable id, e.g. "blocklist.peer_listed": its entry in core/rules.c
                              gives the name, description, reference, category and message */
    /* Set by the pipeline from the rule table (a detector leaves them unset; det_beacon.c still
     * sets them until its rewrite lands, and a rule without an entry keeps its own). */
    const char *rule_name;
    enum alert_category category;
    enum alert_severity severity;
    double score;      /* [0, 1] */
    uint32_t customer; /* customer index + 1 */
    bool has_host, has_peer;
    uint8_t host[16];       /* the customer's (inside) host */
    uint8_t peer[16];       /* the outside party, when one exists */
    uint8_t peer_group;     /* 0: the incident is this peer's. Else the host's alerts of this rule
                              with this group are one incident whatever their peer (servers of one
                              C2 fallback list walked in turn: detectors/det_beacon.c); each
                              message still names its own peer */
    bool host_is_source;    /* the host started the connections (source.*, outbound); else the
                              peer did (source.* = peer, inbound) */
    bool direction_unknown; /* who started them could not be told (network.direction unknown;
                              source/destination then as the first record had them) */
    uint8_t proto;          /* 0 = not tied to one protocol */
    uint16_t port;          /* the destination's (responder's) port, 0 = none */
    uint16_t sport;         /* the source's (initiator's) port when every flow behind the alert
                              used that one port, else 0 */
    uint64_t win_start_ms, win_end_ms; /* the evidence window */
    uint64_t first_ms, last_ms;        /* first/last flow that supports it */
    uint64_t flows, bytes, packets;
    /* threat intel (list hits): every feed that lists the party; nenrich = 0 when none */
    const struct alert_enrichment *enrich;
    uint32_t nenrich;
    bool indicator_is_host; /* the listed party is the host (else the peer) */
    /* detector's structured evidence: a JSON object text, or NULL */
    const char *evidence_json;
    /* filled by the pipeline, not by detectors: the exporter (router) that last reported the
     * host's flows and the interface they entered it on (ECS observer.ip, observer.ingress) */
    uint32_t exporter; /* its index + 1 in the decoder (0 = none: metered, archives) */
    uint32_t in_if;    /* SNMP ifIndex of the ingress interface, 0 = unknown */
    /* the highest packet-sampling rate of the host's records behind the alert (1 or 0 =
     * unsampled; transitwatch.sampling): a detector may set it, else the pipeline fills it from
     * the host's records of the window */
    uint32_t sampling;
    bool has_observer;
    uint8_t observer_ip[16]; /* the exporter's address (from exporter) */
    /* filled by the alert manager, not by detectors */
    const char *customer_id, *customer_name;
    uint32_t customer_asn;
    uint64_t repeat_count;    /* times this incident was raised so far (transitwatch.count) */
    uint64_t first_raised_ms; /* window end when the incident was first raised */
    char event_id[33];        /* deterministic: one id per incident */
};

const char *alert_category_name(enum alert_category c);
/* The transport's name as ECS network.transport has it ("tcp", "ipv6-icmp"), else the number
 * written into buf. */
const char *alert_proto_name(unsigned proto, char buf[8]);
/* The alert's ECS source and destination addresses (NULL when it has none): the party that
 * started the connections is the source; a host alone is the source of what it sent. The
 * one rule for alert_json.c and the message templates (core/rules.h). */
void alert_endpoints(const struct alert *a, const uint8_t **src, const uint8_t **dst);
const char *alert_severity_name(enum alert_severity s);
/* A copy of src that owns its strings and enrichment: *dst = *src, the first nenr enrichments
 * into enr, every string (and the enrichments') into [buf, buf + cap). A string that does not
 * fit is left out (NULL) and the result is false. alert_copy_bytes(src): the room that takes. */
bool alert_copy(struct alert *dst, struct alert_enrichment *enr, uint32_t nenr, char *buf,
                size_t cap, const struct alert *src);
size_t alert_copy_bytes(const struct alert *src);

#endif
