/* det_beacon: C2 beaconing, i.e. a customer host connecting to one outside (peer, port, proto)
 * at regular intervals (RITA-style scoring on connection starts, DETECTION-NOTES 2.1-2.3).
 *
 * Connections, not records: a record whose source port equals the previous record's of the
 * pair, that starts within inactive_timeout of the previous end and carries no SYN, continues
 * the previous connection (an exporter's active-timeout split) and is not a new start.
 *
 * Memory (per worker, fixed at init): a count-min sketch (cms_width x 4 x 16 bit) counts
 * connection starts per pair; a pair gets a tracking slot once it reaches `admit` starts. Slots
 * live in a set-associative pool of max_pairs (8 ways per bucket); a full bucket evicts its
 * least recently active slot that has not alerted (counted). A slot keeps the last BC_TS start
 * times (0.1 s resolution) and bytes per connection, so the heaviest/most regular peers of a
 * host are what stays tracked. Slots idle for longer than `idle` are freed at window close;
 * the sketch is cleared every cms_reset of event time.
 *
 * Scoring at window close, for slots with new starts: intervals between consecutive sorted
 * starts (zeros dropped) give median (the period), MAD and Bowley skew; ts = (1-|skew| +
 * 1-MAD/median)/2; the same on bytes per connection gives ds; score = 0.6 ts + 0.4 ds.
 * beacon.fast: period < fast_max and >= fast_min intervals (a beacon every few seconds alerts
 * within minutes); beacon.slow: period >= fast_max and >= slow_min intervals (every 5-60 min
 * alerts after hours). Both need score >= score_min and 1-MAD/median >= mad_min, so +-20 %
 * jitter (MAD ~ 10 % of the period) passes and Poisson-like traffic (MAD ~ 70 %) does not.
 * Peers in `allow` or the customer's `resolvers` (NTP/DNS clients) are never tracked.
 * Only client-side records count: the inside host's port above the peer's (equal ports only for
 * UDP, e.g. NTP 123->123), at most max_packets packets (bulk transfers and flood records are
 * not beacons), and for TCP with flags exported a SYN (a record without SYN that does not
 * continue the previous connection is the middle of something else). Known gap: a C2 port
 * above the client's ephemeral port is not seen.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "json.h"
#include "sketch.h"

#define BC_TS 32
#define BC_WAYS 8

struct beacon_conf {
    uint64_t max_pairs;
    uint32_t cms_width, admit;
    uint64_t cms_reset, idle, inactive_timeout, fast_max;
    uint32_t fast_min, slow_min;
    double score_min, mad_min;
    uint64_t max_packets;
    struct pfxlist allow, resolvers;
};

static const struct conf_key beacon_keys[] = {
    {"max_pairs", CONF_U64, offsetof(struct beacon_conf, max_pairs), 0, 64, 1e9, "65536",
     "tracked (host, peer, port) slots per worker; a full pool evicts (counted)", NULL},
    {"cms_width", CONF_U32, offsetof(struct beacon_conf, cms_width), 0, 256, 1 << 26, "65536",
     "count-min sketch width (x4 rows x 2 bytes) for admission", NULL},
    {"admit", CONF_U32, offsetof(struct beacon_conf, admit), 0, 1, 1000, "3",
     "connection starts of a pair before it gets a slot", NULL},
    {"cms_reset", CONF_DURATION, offsetof(struct beacon_conf, cms_reset), 0, 60, 604800, "6h",
     "the admission sketch is cleared this often (event time)", NULL},
    {"idle", CONF_DURATION, offsetof(struct beacon_conf, idle), 0, 60, 604800, "3h",
     "a slot with no connection for this long is freed", NULL},
    {"inactive_timeout", CONF_DURATION, offsetof(struct beacon_conf, inactive_timeout), 0, 0, 3600, "15s",
     "exporters' inactive timeout: records of one 5-tuple closer than this continue a connection", NULL},
    {"fast_max", CONF_DURATION, offsetof(struct beacon_conf, fast_max), 0, 1, 86400, "5m",
     "periods below this are beacon.fast, others beacon.slow", NULL},
    {"fast_min", CONF_U32, offsetof(struct beacon_conf, fast_min), 0, 3, BC_TS - 1, "8",
     "intervals needed for beacon.fast", NULL},
    {"slow_min", CONF_U32, offsetof(struct beacon_conf, slow_min), 0, 3, BC_TS - 1, "5",
     "intervals needed for beacon.slow", NULL},
    {"score_min", CONF_DOUBLE, offsetof(struct beacon_conf, score_min), 0, 0, 1, "0.8",
     "combined regularity score (0.6 timing + 0.4 size) that alerts", NULL},
    {"mad_min", CONF_DOUBLE, offsetof(struct beacon_conf, mad_min), 0, 0, 1, "0.8",
     "1 - MAD/median of the intervals needed", NULL},
    {"max_packets", CONF_U64, offsetof(struct beacon_conf, max_packets), 0, 1, 1e15, "10000",
     "records with more packets are bulk transfers or floods, not beacon connections", NULL},
    {"allow", CONF_CUSTOM, offsetof(struct beacon_conf, allow), sizeof(struct pfxlist), 1, 0, "",
     "peers never tracked (up to 16 prefixes: monitoring, update servers)", pfxlist_parse},
    {"resolvers", CONF_CUSTOM, offsetof(struct beacon_conf, resolvers), sizeof(struct pfxlist), 1, 0,
     "", "the customer's own DNS/NTP servers (up to 16 prefixes): never tracked", pfxlist_parse},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct pair_key {
    uint32_t customer;
    uint8_t host[16];
    uint8_t peer[16];
    uint16_t port;
    uint8_t proto, pad;
};

struct pair {
    struct pair_key k;
    uint64_t base_ms;       /* first start; ts[] are tenths of a second after it */
    uint64_t last_start_ms, last_end_ms;
    uint64_t bytes_total;
    uint32_t count;         /* connection starts */
    uint32_t cont;          /* records folded in as continuations */
    uint16_t last_sport;
    uint8_t used, alerted;  /* alerted: 1 fast, 2 slow */
    uint8_t head, n, dirty, pad;
    uint32_t ts[BC_TS];
    uint32_t by[BC_TS];
};

struct beacon {
    struct pair *pool;
    size_t nbuckets;
    uint32_t *tags;     /* per slot: 0 = empty, else a 32-bit tag of the key's hash; a bucket's
                         * tags share one cache line, so a miss touches no pair */
    struct cms cms;
    uint64_t cms_epoch;
    struct hash_key hk;
    uint64_t stat_starts, stat_cont, stat_admitted, stat_evicted, stat_expired, stat_alerts;
    size_t used;
};

static int beacon_init(const void *conf, void **self)
{
    const struct beacon_conf *c = conf;
    struct beacon *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->nbuckets = (c->max_pairs + BC_WAYS - 1) / BC_WAYS;
    b->pool = calloc(b->nbuckets * BC_WAYS, sizeof *b->pool);
    b->tags = calloc(b->nbuckets * BC_WAYS, sizeof *b->tags);
    if (!b->pool || !b->tags || cms_init(&b->cms, c->cms_width, 4) < 0) {
        free(b->pool);
        free(b->tags);
        free(b);
        return -ENOMEM;
    }
    hash_key_from_seed(&b->hk, 0x626561636f6e3031ULL);
    *self = b;
    return 0;
}

static void beacon_fini(void *self)
{
    struct beacon *b = self;
    if (!b)
        return;
    cms_fini(&b->cms);
    free(b->pool);
    free(b->tags);
    free(b);
}

static struct pair *find_or_admit(struct beacon *b, const struct beacon_conf *c,
                                  const struct pair_key *k, bool may_admit, bool *fresh)
{
    uint64_t h = hash_bytes(&b->hk, k, sizeof *k);
    size_t base = (h % b->nbuckets) * BC_WAYS;
    struct pair *bucket = &b->pool[base];
    uint32_t *tags = &b->tags[base];
    uint32_t tag = (uint32_t)(h >> 32) | 1u;
    *fresh = false;
    for (int i = 0; i < BC_WAYS; i++)
        if (tags[i] == tag && memcmp(&bucket[i].k, k, sizeof *k) == 0)
            return &bucket[i];
    if (!may_admit || cms_add(&b->cms, h) < c->admit)
        return NULL;
    struct pair *victim = NULL;
    for (int i = 0; i < BC_WAYS && !victim; i++)
        if (!bucket[i].used)
            victim = &bucket[i];
    for (int pass = 0; pass < 2 && !victim; pass++) {
        for (int i = 0; i < BC_WAYS; i++) {
            if (pass == 0 && bucket[i].alerted)
                continue;
            if (!victim || bucket[i].last_start_ms < victim->last_start_ms)
                victim = &bucket[i];
        }
    }
    if (victim->used) {
        b->stat_evicted++;
        b->used--;
    }
    memset(victim, 0, sizeof *victim);
    victim->k = *k;
    victim->used = 1;
    tags[victim - bucket] = tag;
    b->used++;
    b->stat_admitted++;
    *fresh = true;
    return victim;
}

static void beacon_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                           const struct flow_rec *f)
{
    (void)hstate;
    struct beacon *b = self;
    if (f->dir != FLOW_DIR_OUT || (f->proto != 6 && f->proto != 17))
        return;
    if (f->flags & FLOW_F_CLOCK_SKEW) /* times the exporter's own clock contradicts */
        return;
    const struct beacon_conf *c = det_conf(ctx, h->customer);
    if (pfxlist_match(&c->allow, f->dst) || pfxlist_match(&c->resolvers, f->dst))
        return;
    /* Records do not come in start-time order: only a later epoch clears the admission
     * sketch (clearing on every step back and forth cost 80 % of all instructions and lost
     * admission counts around each boundary). */
    uint64_t epoch = f->first_ms / (c->cms_reset * 1000);
    if (epoch > b->cms_epoch) {
        cms_clear(&b->cms);
        b->cms_epoch = epoch;
    }
    struct pair_key k;
    memset(&k, 0, sizeof k);
    k.customer = h->customer;
    memcpy(k.host, h->addr, 16);
    memcpy(k.peer, f->dst, 16);
    k.port = f->dport;
    k.proto = f->proto;
    /* Starts are client-side: the inside host's port above the peer's (else it is answering a
     * client of its own), and not a bulk transfer or flood record. */
    if (f->sport < f->dport || (f->sport == f->dport && f->proto != 17) || f->packets > c->max_packets)
        return;
    bool fresh, no_syn = f->proto == 6 && f->tcp_flags && !(f->tcp_flags & 0x02);
    struct pair *p = find_or_admit(b, c, &k, !no_syn, &fresh);
    if (!p)
        return;
    if (!fresh && f->sport == p->last_sport && f->first_ms <= p->last_end_ms + c->inactive_timeout * 1000 &&
        !(f->proto == 6 && (f->tcp_flags & 0x02))) {
        b->stat_cont++;
        p->cont++;
        p->bytes_total += f->bytes;
        if (f->last_ms > p->last_end_ms)
            p->last_end_ms = f->last_ms;
        if (p->n) { /* the connection's bytes grow */
            uint32_t i = (p->head + BC_TS - 1) % BC_TS;
            uint64_t v = p->by[i] + f->bytes;
            p->by[i] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        }
        return;
    }
    if (no_syn)
        return; /* no SYN and not a continuation: the middle or end of something, not a start */
    b->stat_starts++;
    if (p->count == 0 || f->first_ms < p->base_ms) {
        if (p->count == 0)
            p->base_ms = f->first_ms;
    }
    uint64_t rel = f->first_ms >= p->base_ms ? (f->first_ms - p->base_ms) / 100 : 0;
    p->ts[p->head] = rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
    p->by[p->head] = f->bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)f->bytes;
    p->head = (uint8_t)((p->head + 1) % BC_TS);
    if (p->n < BC_TS)
        p->n++;
    p->count++;
    p->bytes_total += f->bytes;
    p->last_sport = f->sport;
    if (f->first_ms > p->last_start_ms)
        p->last_start_ms = f->first_ms;
    if (f->last_ms > p->last_end_ms)
        p->last_end_ms = f->last_ms;
    p->dirty = 1;
}

static double clamp01(double x)
{
    return isnan(x) || x < 0 ? 0 : x > 1 ? 1 : x;
}

struct bscore {
    size_t intervals;
    double period_s, mad_s, mad_score, skew, ts, ds, score, bytes_median;
};

static void score_pair(const struct pair *p, struct bscore *o)
{
    double t[BC_TS], d[BC_TS], tmp[BC_TS], v[BC_TS];
    size_t n = p->n;
    for (size_t i = 0; i < n; i++) {
        t[i] = p->ts[i] / 10.0;
        v[i] = p->by[i];
    }
    memset(o, 0, sizeof *o);
    struct robust r;
    robust_stats(t, tmp, n, 0, &r); /* sorts t */
    size_t nd = 0;
    for (size_t i = 1; i < n; i++)
        if (t[i] - t[i - 1] > 0)
            d[nd++] = t[i] - t[i - 1];
    o->intervals = nd;
    if (nd < 3)
        return;
    robust_stats(d, tmp, nd, 10.0, &r);
    o->period_s = r.median;
    o->mad_s = r.mad;
    o->skew = r.skew;
    double mad_score = r.median >= 0.1 ? clamp01((r.median - r.mad) / r.median) : 1;
    o->ts = (clamp01(1 - fabs(r.skew)) + mad_score) / 2;
    robust_stats(v, tmp, n, 10.0, &r);
    o->bytes_median = r.median;
    double bmad = r.median >= 1 ? clamp01((r.median - r.mad) / r.median) : 0;
    o->ds = (clamp01(1 - fabs(r.skew)) + bmad) / 2;
    o->score = 0.6 * o->ts + 0.4 * o->ds;
    o->mad_score = mad_score;
}

static void beacon_report(struct beacon *b, struct det_ctx *ctx, struct pair *p,
                          const struct beacon_conf *c)
{
    struct bscore s;
    score_pair(p, &s);
    if (s.intervals < 3)
        return;
    bool fast = s.period_s < (double)c->fast_max;
    if (s.intervals < (fast ? c->fast_min : c->slow_min))
        return;
    if (s.score < c->score_min || s.mad_score < c->mad_min)
        return;
    char ev[1024];
    struct json j;
    json_init(&j, ev, sizeof ev);
    json_obj_open(&j, NULL);
    json_double(&j, "period_s", s.period_s, 1);
    json_double(&j, "mad_s", s.mad_s, 2);
    json_double(&j, "jitter", s.period_s > 0 ? s.mad_s / s.period_s : 0, 3);
    json_double(&j, "skew", s.skew, 3);
    json_double(&j, "ts_score", s.ts, 3);
    json_double(&j, "ds_score", s.ds, 3);
    json_u64(&j, "connections", p->count);
    json_u64(&j, "intervals_scored", s.intervals);
    json_u64(&j, "continuations", p->cont);
    json_double(&j, "bytes_per_conn", s.bytes_median, 0);
    json_u64(&j, "bytes", p->bytes_total);
    json_time(&j, "first_seen", p->base_ms);
    json_time(&j, "last_seen", p->last_start_ms);
    json_obj_close(&j);
    struct alert a = {
        .detector = "beacon",
        .rule_id = fast ? "beacon.fast" : "beacon.slow",
        .rule_name = fast ? "Host connects to one peer at short regular intervals (C2 beacon)"
                          : "Host connects to one peer at long regular intervals (C2 beacon)",
        .category = CAT_C2,
        .severity = s.score >= 0.9 ? SEV_HIGH : SEV_MEDIUM,
        .score = s.score,
        .customer = p->k.customer,
        .has_host = true,
        .has_peer = true,
        .host_is_source = true,
        .proto = p->k.proto,
        .port = p->k.port,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = p->base_ms,
        .last_ms = p->last_start_ms,
        .flows = p->count,
        .bytes = p->bytes_total,
        .evidence_json = json_error(&j) ? NULL : ev,
    };
    memcpy(a.host, p->k.host, 16);
    memcpy(a.peer, p->k.peer, 16);
    p->alerted |= fast ? 1 : 2;
    b->stat_alerts++;
    det_alert(ctx, &a);
}

static void beacon_on_window(void *self, struct det_ctx *ctx)
{
    struct beacon *b = self;
    size_t total = b->nbuckets * BC_WAYS;
    for (size_t i = 0; i < total; i++) {
        struct pair *p = &b->pool[i];
        if (!p->used)
            continue;
        const struct beacon_conf *c = det_conf(ctx, p->k.customer);
        if (p->last_end_ms + c->idle * 1000 < ctx->win_end_ms) {
            p->used = 0;
            b->tags[i] = 0;
            b->used--;
            b->stat_expired++;
            continue;
        }
        if (!p->dirty)
            continue;
        p->dirty = 0;
        beacon_report(b, ctx, p, c);
    }
}

static void beacon_stats(void *self, struct json *j)
{
    struct beacon *b = self;
    json_u64(j, "starts", b->stat_starts);
    json_u64(j, "continuations", b->stat_cont);
    json_u64(j, "admitted", b->stat_admitted);
    json_u64(j, "evicted", b->stat_evicted);
    json_u64(j, "expired", b->stat_expired);
    json_u64(j, "slots_used", b->used);
    json_u64(j, "slots", b->nbuckets * BC_WAYS);
    json_u64(j, "slot_bytes", sizeof(struct pair));
    json_u64(j, "alerts", b->stat_alerts);
}

const struct detector_ops det_beacon_ops = {
    .name = "beacon",
    .help = "C2 beaconing: a host connecting to one peer at regular intervals",
    .conf_keys = beacon_keys,
    .conf_size = sizeof(struct beacon_conf),
    .host_state_size = 0,
    .init = beacon_init,
    .on_flow = beacon_on_flow,
    .on_window = beacon_on_window,
    .stats_json = beacon_stats,
    .fini = beacon_fini,
};
