#include "alerts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afile.h"
#include "alert_json.h"
#include "customers.h"
#include "hash.h"
#include "log.h"
#include "table.h"

#define RULE_MAX 48

/* An incident's identity: the first bytes of its entry (the ltab key). */
struct ident {
    char rule[RULE_MAX];
    char customer[CUSTOMER_ID_MAX + 1]; /* the customer's id, not its index: the same incident
                                         * after a reload renumbers the map, and in the file */
    uint8_t host[16], peer[16];         /* peer zero when the alert has none */
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
    uint64_t saved_raised; /* st.raised at the last save (alert_mgr_changed) */
    bool save_failing;     /* the last save failed (logged once until one succeeds) */
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

static uint64_t host_hash(const struct hash_key *k, const char *customer, const uint8_t host[16])
{
    uint8_t buf[CUSTOMER_ID_MAX + 1 + 16] = {0};
    snprintf((char *)buf, CUSTOMER_ID_MAX + 1, "%s", customer ? customer : "");
    memcpy(buf + CUSTOMER_ID_MAX + 1, host, 16);
    return hash_bytes(k, buf, sizeof buf);
}

static void ident_of(const struct alert *a, struct ident *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->rule, sizeof id->rule, "%s", a->rule_id);
    snprintf(id->customer, sizeof id->customer, "%s", a->customer_id ? a->customer_id : "");
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
    if ((unsigned)a->category < CAT_COUNT)
        m->st.by_category[a->category]++;
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
    e->hh = host_hash(&m->key, id.customer, a->host);
    uint32_t *hb = &m->hbuckets[e->hh & (m->nbuckets - 1)];
    e->hnext = *hb;
    *hb = i;
    e->window_ms = a->win_start_ms;
    e->first_raised = e->last_raised = e->last_published = now_ms;
    e->count = 1;
    widen(e, a);
    alert_event_id(a, a->win_start_ms, e->event_id);
    describe(e, a);
    m->st.incidents++;
    return publish(m, a) < 0 ? 0 : 1;
}

size_t alert_mgr_host_incidents(const struct alert_mgr *m, const char *customer,
                                const uint8_t host[16], uint64_t since_ms,
                                struct alert_incident *out, size_t max)
{
    uint64_t hh = host_hash(&m->key, customer, host);
    size_t n = 0;
    for (uint32_t i = m->hbuckets[hh & (m->nbuckets - 1)]; i;) {
        const struct entry *e = ltab_entry(&m->t, i - 1);
        i = e->hnext;
        if (e->hh != hh || strcmp(e->id.customer, customer ? customer : "") != 0 ||
            memcmp(e->id.host, host, 16) != 0 || e->last_raised < since_ms)
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

/* ---- the incidents across a restart ---- */

/* The file: this head, then `count` entries as the table holds them (chain fields zeroed), the
 * least recently raised first, so a load that inserts them in order rebuilds the recency order.
 * Host byte order and this build's layout: the head's version and entry size must match, else
 * the file is refused (a start without it, logged), never misread. */
#define INC_MAGIC "TWINCID\n"
#define INC_VERSION 1u
struct inc_head {
    char magic[8];
    uint32_t version, entry_size;
    uint64_t count;
    uint64_t saved_ms; /* wall time of the save */
};

struct inc_writer {
    FILE *f;
    uint64_t n;
    bool err;
};

static void inc_put(void *arg, const void *ep)
{
    struct inc_writer *w = arg;
    struct entry e;
    memcpy(&e, ep, sizeof e); /* every byte, padding too (zero since the insert) */
    e.hh = 0;
    e.hnext = 0;
    if (!w->err && fwrite(&e, sizeof e, 1, w->f) != 1)
        w->err = true;
    w->n++;
}

/* 0 or -errno. Replaces path whole, on disk (core/afile.h). */
static int inc_write(const struct alert_mgr *m, const char *path, uint64_t wall_ms, uint64_t *count)
{
    struct afile a;
    int rc = afile_open(&a, path, 0666);
    if (rc < 0)
        return rc;
    struct inc_head h = {.version = INC_VERSION,
                         .entry_size = (uint32_t)sizeof(struct entry),
                         .count = m->t.used,
                         .saved_ms = wall_ms};
    memcpy(h.magic, INC_MAGIC, sizeof h.magic);
    struct inc_writer w = {.f = a.f};
    bool ok = fwrite(&h, sizeof h, 1, a.f) == 1;
    ltab_each_by_age(&m->t, inc_put, &w);
    rc = afile_close(&a, ok && !w.err && w.n == h.count, true);
    if (rc == 0)
        *count = w.n;
    return rc;
}

int alert_mgr_save(struct alert_mgr *m, const char *path, uint64_t wall_ms)
{
    uint64_t n = 0;
    int rc = inc_write(m, path, wall_ms, &n);
    if (rc < 0) {
        m->st.state_errors++;
        if (!m->save_failing)
            log_error("incidents file %s: cannot write: %s (the incidents stay in memory; "
                      "logged once until a save succeeds)",
                      path, strerror(-rc));
        m->save_failing = true;
        return rc;
    }
    if (m->save_failing)
        log_info("incidents file %s: written again (%llu incidents)", path, (unsigned long long)n);
    m->save_failing = false;
    m->st.state_saves++;
    m->saved_raised = m->st.raised;
    return 0;
}

bool alert_mgr_changed(const struct alert_mgr *m)
{
    return m->st.raised != m->saved_raised;
}

/* Is e, read from a file, an entry this build could have written? Strings end within their
 * fields, the id is 32 hex digits, the times are in order. */
static bool inc_sound(const struct entry *e)
{
    if (!memchr(e->id.rule, 0, sizeof e->id.rule) || !e->id.rule[0] ||
        !memchr(e->id.customer, 0, sizeof e->id.customer) || e->event_id[32] != 0 ||
        strspn(e->event_id, "0123456789abcdef") != 32 || e->count == 0 ||
        e->first_raised > e->last_raised || e->category >= CAT_COUNT)
        return false;
    return true;
}

/* Insert a sound entry read from the file (the newest so far). */
static void inc_restore(struct alert_mgr *m, const struct entry *in)
{
    uint64_t h = hash_bytes(&m->key, &in->id, sizeof in->id);
    bool ins, evicted;
    struct entry old;
    struct entry *e = ltab_get(&m->t, &in->id, h, &ins, &old, &evicted);
    uint32_t i = (uint32_t)ltab_index(&m->t, e) + 1;
    if (!ins) /* twice in one file: the later copy is the newer */
        host_unchain(m, e, i);
    if (evicted) {
        host_unchain(m, &old, i);
        m->st.forgotten++;
    }
    memcpy(e, in, sizeof *e);
    e->hh = host_hash(&m->key, e->id.customer, e->id.host);
    uint32_t *hb = &m->hbuckets[e->hh & (m->nbuckets - 1)];
    e->hnext = *hb;
    *hb = i;
}

int alert_mgr_load(struct alert_mgr *m, const char *path, uint64_t *restored, char *err,
                   size_t errlen)
{
    *restored = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    struct inc_head h;
    int rc = 0;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, INC_MAGIC, sizeof h.magic) != 0) {
        snprintf(err, errlen, "not an incidents file");
        rc = -EINVAL;
    } else if (h.version != INC_VERSION || h.entry_size != sizeof(struct entry)) {
        snprintf(err, errlen,
                 "written by another build (version %u, entry %u bytes; this one "
                 "reads version %u, %zu bytes)",
                 h.version, h.entry_size, INC_VERSION, sizeof(struct entry));
        rc = -EINVAL;
    }
    struct entry e;
    for (uint64_t k = 0; rc == 0 && k < h.count; k++) {
        if (fread(&e, sizeof e, 1, f) != 1) {
            snprintf(err, errlen, "cut short: %llu of %llu incidents", (unsigned long long)k,
                     (unsigned long long)h.count);
            rc = -EINVAL;
        } else if (!inc_sound(&e)) {
            m->st.state_unsound++;
        } else {
            inc_restore(m, &e);
        }
    }
    if (rc == 0 && fgetc(f) != EOF) {
        snprintf(err, errlen, "bytes after the last of its %llu incidents",
                 (unsigned long long)h.count);
        rc = -EINVAL;
    }
    fclose(f);
    if (rc < 0) { /* nothing half-read stays */
        for (void *o; (o = ltab_oldest(&m->t));)
            ltab_remove(&m->t, o);
        memset(m->hbuckets, 0, m->nbuckets * sizeof *m->hbuckets);
        m->st.state_unsound = 0;
        m->st.forgotten = 0;
        return rc;
    }
    *restored = m->t.used;
    m->st.state_restored = m->t.used;
    return 0;
}
