#include "alerts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_json.h"
#include "hash.h"

struct entry {
    const char *rule_id;    /* static string of the detector */
    char feed[64];          /* feed name (part of the key for list hits), "" = none */
    uint32_t customer;
    bool has_peer;
    uint8_t host[16], peer[16];
    uint64_t first_ms;      /* when it was published */
    uint64_t window_ms;     /* window start of that first alert */
    uint64_t last_ms;
    uint64_t count;
    uint32_t next;          /* chain: entry number + 1, 0 = end */
    uint64_t h;
    char event_id[33];
};

struct alert_mgr {
    struct entry *ring;     /* insertion order; oldest at head */
    uint32_t *buckets;      /* entry number + 1 */
    size_t cap, head, n, nbuckets;
    uint64_t suppress_ms;
    struct hash_key key;
    struct sinks *sinks;
    struct alert_mgr_stats st;
    char buf[ALERT_JSON_MAX];
};

int alert_mgr_new(size_t max_entries, uint64_t suppress_ms, struct sinks *sinks,
                  struct alert_mgr **out)
{
    struct alert_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->cap = max_entries ? max_entries : 16;
    m->nbuckets = 1;
    while (m->nbuckets < m->cap)
        m->nbuckets <<= 1;
    m->ring = calloc(m->cap, sizeof *m->ring);
    m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
    if (!m->ring || !m->buckets) {
        alert_mgr_free(m);
        return -ENOMEM;
    }
    m->suppress_ms = suppress_ms;
    m->sinks = sinks;
    hash_key_from_seed(&m->key, 0x616c657274736d67ULL);
    *out = m;
    return 0;
}

void alert_mgr_free(struct alert_mgr *m)
{
    if (!m)
        return;
    free(m->ring);
    free(m->buckets);
    free(m);
}

static uint64_t alert_hash(const struct hash_key *k, const struct alert *a)
{
    uint8_t buf[128 + 40];
    size_t rl = strnlen(a->rule_id, 64);
    memcpy(buf, a->rule_id, rl);
    if (a->feed_name) {
        size_t fl = strnlen(a->feed_name, 63);
        buf[rl++] = '|';
        memcpy(buf + rl, a->feed_name, fl);
        rl += fl;
    }
    memcpy(buf + rl, &a->customer, 4);
    memcpy(buf + rl + 4, a->host, 16);
    memset(buf + rl + 20, 0, 16);
    if (a->has_peer)
        memcpy(buf + rl + 20, a->peer, 16);
    return hash_bytes(k, buf, rl + 36);
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
    for (int i = 0; i < 16; i++)
        o += (size_t)snprintf(ps + o, sizeof ps - o, "%02x", a->has_peer ? a->peer[i] : 0);
    int n = snprintf(tmp, sizeof tmp, "%s|%s|%s|%s|%s|%llu", a->rule_id,
                     a->feed_name ? a->feed_name : "", a->customer_id ? a->customer_id : "", hs, ps,
                     (unsigned long long)first_window_ms);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)hash_bytes(&k1, tmp, (size_t)n),
             (unsigned long long)hash_bytes(&k2, tmp, (size_t)n));
}

static bool same(const struct entry *e, const struct alert *a)
{
    return e->customer == a->customer && e->has_peer == a->has_peer &&
           strcmp(e->rule_id, a->rule_id) == 0 && memcmp(e->host, a->host, 16) == 0 &&
           strncmp(e->feed, a->feed_name ? a->feed_name : "", sizeof e->feed - 1) == 0 &&
           (!a->has_peer || memcmp(e->peer, a->peer, 16) == 0);
}

static void unlink_entry(struct alert_mgr *m, size_t idx)
{
    struct entry *e = &m->ring[idx];
    uint32_t *p = &m->buckets[e->h & (m->nbuckets - 1)];
    while (*p) {
        if (*p == idx + 1) {
            *p = e->next;
            return;
        }
        p = &m->ring[*p - 1].next;
    }
}

int alert_mgr_raise(struct alert_mgr *m, struct alert *a, uint64_t now_ms)
{
    m->st.raised++;
    uint64_t h = alert_hash(&m->key, a);
    uint32_t *bucket = &m->buckets[h & (m->nbuckets - 1)];
    for (uint32_t i = *bucket; i; i = m->ring[i - 1].next) {
        struct entry *e = &m->ring[i - 1];
        if (e->h != h || !same(e, a))
            continue;
        if (now_ms < e->first_ms + m->suppress_ms) {
            e->count++;
            if (a->last_ms > e->last_ms)
                e->last_ms = a->last_ms;
            m->st.suppressed++;
            return 0;
        }
        /* Suppression over: this entry is stale; a fresh one follows. */
        break;
    }
    if (m->n == m->cap) { /* forget the oldest */
        unlink_entry(m, m->head);
        m->head = (m->head + 1) % m->cap;
        m->n--;
        m->st.forgotten++;
    }
    size_t idx = (m->head + m->n) % m->cap;
    struct entry *e = &m->ring[idx];
    memset(e, 0, sizeof *e);
    e->rule_id = a->rule_id;
    snprintf(e->feed, sizeof e->feed, "%s", a->feed_name ? a->feed_name : "");
    e->customer = a->customer;
    e->has_peer = a->has_peer;
    memcpy(e->host, a->host, 16);
    if (a->has_peer)
        memcpy(e->peer, a->peer, 16);
    e->first_ms = now_ms;
    e->window_ms = a->win_start_ms;
    e->last_ms = a->last_ms;
    e->count = 1;
    e->h = h;
    e->next = *bucket;
    *bucket = (uint32_t)idx + 1;
    m->n++;
    alert_event_id(a, a->win_start_ms, e->event_id);
    memcpy(a->event_id, e->event_id, sizeof a->event_id);
    a->repeat_count = 1;
    if ((unsigned)a->category < CAT_COUNT)
        m->st.by_category[a->category]++;
    int len = alert_json_format(a, m->buf, sizeof m->buf);
    if (len < 0) {
        m->st.format_errors++;
        return 0;
    }
    m->st.published++;
    const char *key = a->customer_id ? a->customer_id : "";
    m->st.sink_losses += (uint64_t)sinks_publish(m->sinks, MSG_ALERT, key, strlen(key), m->buf, (size_t)len);
    return 1;
}

void alert_mgr_stats(const struct alert_mgr *m, struct alert_mgr_stats *out)
{
    *out = m->st;
}
