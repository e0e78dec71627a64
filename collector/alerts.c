#include "alerts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_json.h"
#include "hash.h"
#include "table.h"

#define RULE_MAX 48

/* An incident's identity: the first bytes of its entry (the ltab key). */
struct ident {
    char rule[RULE_MAX];
    uint32_t customer;
    uint8_t host[16], peer[16]; /* peer zero when the alert has none */
    uint8_t has_peer;
    uint8_t group; /* the alert's peer_group: peer left zero */
    uint8_t pad[2];
};

/* One incident, in a recency table (core/table.h ltab: the least recently raised is
 * forgotten first); `hnext` chains the incidents of one (customer, host) for the verdict. */
struct entry {
    struct ident id;
    uint8_t category, severity;
    uint64_t window_ms;    /* start of the window it was first raised in (the id's part) */
    uint64_t first_raised; /* event time of the first raise */
    uint64_t last_raised, last_published;
    uint64_t first_seen, last_seen; /* flows that support it, over the whole incident */
    uint64_t count;
    uint64_t hh;    /* (customer, host) hash */
    uint32_t hnext; /* entry number + 1, 0 = end */
    char event_id[33];
};

struct alert_mgr {
    struct ltab t;
    uint32_t *hbuckets; /* (customer, host) -> entry number + 1 */
    size_t nbuckets;
    uint64_t suppress_ms, incident_ms;
    struct hash_key key;
    struct sinks *sinks;
    struct alert_mgr_stats st;
    char buf[ALERT_JSON_MAX];
};

int alert_mgr_new(size_t max_entries, uint64_t suppress_ms, uint64_t incident_ms,
                  struct sinks *sinks, struct alert_mgr **out)
{
    struct alert_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    size_t cap = max_entries ? max_entries : 16;
    m->nbuckets = 1;
    while (m->nbuckets < cap)
        m->nbuckets <<= 1;
    m->hbuckets = calloc(m->nbuckets, sizeof *m->hbuckets);
    if (!m->hbuckets || ltab_init(&m->t, cap, sizeof(struct entry), sizeof(struct ident)) < 0) {
        alert_mgr_free(m);
        return -ENOMEM;
    }
    m->suppress_ms = suppress_ms;
    m->incident_ms = incident_ms > suppress_ms ? incident_ms : suppress_ms;
    m->sinks = sinks;
    hash_key_from_seed(&m->key, 0x616c657274736d67ULL);
    *out = m;
    return 0;
}

void alert_mgr_free(struct alert_mgr *m)
{
    if (!m)
        return;
    ltab_fini(&m->t);
    free(m->hbuckets);
    free(m);
}

static uint64_t host_hash(const struct hash_key *k, uint32_t customer, const uint8_t host[16])
{
    uint8_t buf[20];
    memcpy(buf, &customer, 4);
    memcpy(buf + 4, host, 16);
    return hash_bytes(k, buf, sizeof buf);
}

static void ident_of(const struct alert *a, struct ident *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->rule, sizeof id->rule, "%s", a->rule_id);
    id->customer = a->customer;
    memcpy(id->host, a->host, 16);
    if (a->has_peer && !a->peer_group)
        memcpy(id->peer, a->peer, 16);
    id->has_peer = a->has_peer;
    id->group = a->peer_group;
}

void alert_event_id(const struct alert *a, uint64_t first_window_ms, char out[33])
{
    /* Fixed keys: the id must be the same on every run and every machine. */
    static const struct hash_key k1 = {0x7472616e73697477ULL, 0x6174636865766964ULL};
    static const struct hash_key k2 = {0x6576656e742d6964ULL, 0x2d7472616e736974ULL};
    char tmp[512];
    char hs[33], ps[33];
    size_t o = 0;
    for (int i = 0; i < 16; i++)
        o += (size_t)snprintf(hs + o, sizeof hs - o, "%02x", a->has_host ? a->host[i] : 0);
    o = 0;
    bool peer = a->has_peer && !a->peer_group;
    for (int i = 0; i < 16; i++)
        o += (size_t)snprintf(ps + o, sizeof ps - o, "%02x", peer ? a->peer[i] : 0);
    int n =
        snprintf(tmp, sizeof tmp, "%s|%s|%s|%s|%llu", a->rule_id,
                 a->customer_id ? a->customer_id : "", hs, ps, (unsigned long long)first_window_ms);
    if (a->peer_group && n >= 0 && (size_t)n < sizeof tmp) /* a group's id: its number too */
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "|g%u", (unsigned)a->peer_group);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)hash_bytes(&k1, tmp, (size_t)n),
             (unsigned long long)hash_bytes(&k2, tmp, (size_t)n));
}

static void host_unchain(struct alert_mgr *m, const struct entry *e, uint32_t i)
{
    uint32_t *p = &m->hbuckets[e->hh & (m->nbuckets - 1)];
    while (*p && *p != i)
        p = &((struct entry *)ltab_entry(&m->t, *p - 1))->hnext;
    if (*p)
        *p = e->hnext;
}

static void widen(struct entry *e, const struct alert *a)
{
    if (a->first_ms && (!e->first_seen || a->first_ms < e->first_seen))
        e->first_seen = a->first_ms;
    if (a->last_ms > e->last_seen)
        e->last_seen = a->last_ms;
}

/* What the message says about the incident (also for a folded repeat: callers may read it). */
static void describe(const struct entry *e, struct alert *a)
{
    memcpy(a->event_id, e->event_id, sizeof a->event_id);
    a->repeat_count = e->count;
    a->first_raised_ms = e->first_raised;
    a->first_ms = e->first_seen;
    a->last_ms = e->last_seen;
}

static int publish(struct alert_mgr *m, const struct alert *a)
{
    int len = alert_json_format(a, m->buf, sizeof m->buf);
    if (len < 0) {
        m->st.format_errors++;
        return len;
    }
    m->st.published++;
    const char *key = a->customer_id ? a->customer_id : "";
    m->st.sink_losses +=
        (uint64_t)sinks_publish(m->sinks, MSG_ALERT, key, strlen(key), m->buf, (size_t)len);
    return 0;
}

int alert_mgr_raise(struct alert_mgr *m, struct alert *a, uint64_t now_ms)
{
    m->st.raised++;
    struct ident id;
    ident_of(a, &id);
    uint64_t h = hash_bytes(&m->key, &id, sizeof id);
    struct entry *e = ltab_find(&m->t, &id, h);
    if (e && now_ms <= e->last_raised + m->incident_ms) { /* the incident goes on */
        e->count++;
        e->last_raised = now_ms;
        e->severity = (uint8_t)a->severity;
        widen(e, a);
        ltab_touch(&m->t, e);
        describe(e, a);
        if (now_ms < e->last_published + m->suppress_ms) {
            m->st.suppressed++;
            return 0;
        }
        e->last_published = now_ms;
        if (publish(m, a) < 0)
            return 0;
        m->st.updates++;
        return 2;
    }
    if (e) { /* closed long ago: the next incident of the same identity starts afresh */
        host_unchain(m, e, (uint32_t)ltab_index(&m->t, e) + 1);
        ltab_remove(&m->t, e);
    }
    bool ins, evicted;
    struct entry old;
    e = ltab_get(&m->t, &id, h, &ins, &old, &evicted);
    uint32_t i = (uint32_t)ltab_index(&m->t, e) + 1;
    if (evicted) { /* the least recently raised incident made room (its entry is this one) */
        host_unchain(m, &old, i);
        m->st.forgotten++;
    }
    e->category = (uint8_t)a->category;
    e->severity = (uint8_t)a->severity;
    e->hh = host_hash(&m->key, a->customer, a->host);
    uint32_t *hb = &m->hbuckets[e->hh & (m->nbuckets - 1)];
    e->hnext = *hb;
    *hb = i;
    e->window_ms = a->win_start_ms;
    e->first_raised = e->last_raised = e->last_published = now_ms;
    e->count = 1;
    widen(e, a);
    alert_event_id(a, a->win_start_ms, e->event_id);
    describe(e, a);
    if ((unsigned)a->category < CAT_COUNT)
        m->st.by_category[a->category]++;
    m->st.incidents++;
    return publish(m, a) < 0 ? 0 : 1;
}

size_t alert_mgr_host_incidents(const struct alert_mgr *m, uint32_t customer,
                                const uint8_t host[16], uint64_t since_ms,
                                struct alert_incident *out, size_t max)
{
    uint64_t hh = host_hash(&m->key, customer, host);
    size_t n = 0;
    for (uint32_t i = m->hbuckets[hh & (m->nbuckets - 1)]; i;) {
        const struct entry *e = ltab_entry(&m->t, i - 1);
        i = e->hnext;
        if (e->hh != hh || e->id.customer != customer || memcmp(e->id.host, host, 16) != 0 ||
            e->last_raised < since_ms)
            continue;
        struct alert_incident c = {
            .rule_id = e->id.rule,
            .category = (enum alert_category)e->category,
            .severity = (enum alert_severity)e->severity,
            .count = e->count,
            .first_raised_ms = e->first_raised,
            .last_raised_ms = e->last_raised,
        };
        memcpy(c.event_id, e->event_id, sizeof c.event_id);
        /* keep the max most recent, ties by event id: the same list whatever the chain order */
        size_t at = n < max ? n : max;
        while (at > 0 && (out[at - 1].last_raised_ms < c.last_raised_ms ||
                          (out[at - 1].last_raised_ms == c.last_raised_ms &&
                           strcmp(out[at - 1].event_id, c.event_id) > 0))) {
            if (at < max)
                out[at] = out[at - 1];
            at--;
        }
        if (at < max)
            out[at] = c;
        n++;
    }
    return n;
}

void alert_mgr_stats(const struct alert_mgr *m, struct alert_mgr_stats *out)
{
    *out = m->st;
}
