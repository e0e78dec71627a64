/* det_blocklist: customer hosts talking to listed addresses (DROP/EDROP, Feodo C2, ...), and
 * listed addresses inside a customer's own space (the Atrivo case: C2 or DROP blocks hosted by
 * the customer).
 *
 * Per window, hits are aggregated per (customer, host, peer, listed party) in a bounded table
 * kept in first-seen order, so the alerts of a window come out in the same order on every
 * replay. A hit remembers every feed that lists the party; at window close it becomes ONE
 * alert naming them all (ECS threat.enrichments: feed, matched prefix, listing name - the SBL
 * id, the malware family, else the feed's name - and a reference URL where the listing has
 * one), with its counts; the alert manager folds repeats into one incident. When the table is
 * full, a new hit is reported at once with the counts of its first flow (never dropped), and
 * the overflow is counted. Hits point at their feed set: on reload the pipeline keeps a
 * replaced feed set alive until the window closes, so a reload mid-window loses no hit.
 *
 * Direction is who started the connections (core/initiator.h flow_initiator(): exporter
 * flags, SYN without ACK, ICMP type, service ports, port ranges), taken from the first record
 * of the hit that tells: source = the initiator, destination = the responder with its
 * (service) port, network.direction outbound when the customer host started it, inbound when
 * the listed party did. A listed address reaching into a customer (scanners on DROP hit
 * every host) is reported at low severity with half the score: it is not the customer's
 * doing. When no record tells, the direction is "unknown" and the ends are as the first
 * record had them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "detector.h"
#include "feeds.h"
#include "hash.h"
#include "initiator.h"
#include "json.h"
#include "table.h"

struct blocklist_conf {
    uint64_t max_hits;  /* hit table capacity per window (this instance's share, after init) */
    bool inside_listed; /* also report customer hosts that are themselves listed */
    double score_ip;    /* score of a hit on a feed entry without port */
    double score_port;  /* score when the entry's port matched too */
};

static const struct conf_key blocklist_keys[] = {
    {"max_hits", CONF_U64, offsetof(struct blocklist_conf, max_hits), 0, 16, 16777216, "65536",
     "distinct (host, peer, feed) hits kept per window, all workers together; more are reported "
     "at once",
     NULL},
    {"inside_listed", CONF_BOOL, offsetof(struct blocklist_conf, inside_listed), 0, 1, 0, "yes",
     "also alert when the customer's own host is on a list (it hosts C2 or a DROP block)", NULL},
    {"score", CONF_DOUBLE, offsetof(struct blocklist_conf, score_ip), 0, 0, 1, "0.8",
     "score in [0,1] of a hit on a listed address", NULL},
    {"score_port", CONF_DOUBLE, offsetof(struct blocklist_conf, score_port), 0, 0, 1, "0.95",
     "score of a hit whose listed port matched as well (Feodo CSV)", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* One (customer, host, peer, listed party) hit of the window, with every feed that lists the
 * party as a bit of `feeds` (indices into `set`, the feed set in force at the first flow; a
 * reload mid-window starts a new hit, and the alert manager folds both into one incident). */
struct hit {
    /* identity: the first HIT_KEY bytes are the hit table's key (zero padding) */
    uint8_t host[16], peer[16];
    const struct feed_set *set; /* kept alive by the pipeline until this window closes */
    uint32_t customer;
    uint8_t inside_listed; /* 1: the host is the listed party */
    /* what the window's flows said */
    uint32_t feeds;       /* feeds of `set` that list the party */
    uint32_t port_feeds;  /* ... whose listed port a flow used */
    uint16_t listed_port; /* the listed party's port on the flow that matched a listed port */
    uint8_t proto;
    uint8_t init;       /* who started the connections: INIT_HOST, INIT_PEER, 0 unknown */
    uint8_t init_basis; /* enum flow_init_basis of that decision */
    uint8_t host_src;   /* while unknown: the host was the source of the first record */
    uint16_t resp_port; /* the responder's port (service port); while unknown the first
                              record's destination port */
    uint16_t host_port, peer_port; /* each side's own port on every record so far ... */
    uint8_t ports_varied;          /* ... unless it changed: bit 0 the host's, bit 1 the peer's */
    uint64_t first_ms, last_ms, flows, bytes, packets;
};

#define HIT_KEY offsetof(struct hit, feeds)

#define INIT_HOST 1
#define INIT_PEER 2

/* No copy of the options: thresholds and scores are read through det_conf when used, so a
 * reload's and a customer's own apply. */
struct blocklist {
    struct ktab hits; /* the window's hits in first-seen order; full: reported at once */
    const struct feed_set *space_feeds; /* feeds of the last own-space check */
    uint64_t space_sig;                 /* customer prefixes of the last own-space check */
    uint64_t stat_hits, stat_alerts, stat_space_alerts, stat_space_skipped;
    uint64_t stat_inbound, stat_unknown_dir;
};

/* The hit table is keyed by (host, peer, feed set): this instance's share of max_hits. */
static int blocklist_init(const void *conf, struct det_share share, void **self)
{
    struct blocklist *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    size_t cap = det_share_cap(share, ((const struct blocklist_conf *)conf)->max_hits, 16);
    int rc = ktab_init(&b->hits, cap, sizeof(struct hit), HIT_KEY, 0x626c6f636b6c6973ULL);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *self = b;
    return 0;
}

static void blocklist_fini(void *self)
{
    struct blocklist *b = self;
    if (!b)
        return;
    ktab_fini(&b->hits);
    free(b);
}

/* The name of a listing: its SBL id, else its malware family, else the feed's name. */
static const char *listing_name(const struct feed *fd, const struct feed_entry *e)
{
    return e->listing[0] ? e->listing : e->malware[0] ? e->malware : feed_name(fd);
}

/* A reference URL the listing itself names: Spamhaus publishes every SBL record at a fixed
 * address; other feeds give none. */
static const char *listing_reference(const struct feed_entry *e, char *buf, size_t len)
{
    if (strncmp(e->listing, "SBL", 3) != 0 || !e->listing[3])
        return NULL;
    snprintf(buf, len, "https://www.spamhaus.org/sbl/query/%s", e->listing);
    return buf;
}

struct enrich_buf {
    struct alert_enrichment en[ALERT_ENRICH_MAX];
    char matched[ALERT_ENRICH_MAX][ADDR_STRLEN + 8];
    char ref[ALERT_ENRICH_MAX][64];
    uint32_t n;
};

static void enrich_add(struct enrich_buf *eb, const struct feed *fd, const struct feed_entry *e,
                       bool port_matched)
{
    if (eb->n >= ALERT_ENRICH_MAX)
        return;
    uint32_t i = eb->n++;
    prefix_format(&e->p, eb->matched[i], sizeof eb->matched[i]);
    eb->en[i] = (struct alert_enrichment){
        .feed = feed_name(fd),
        .matched = eb->matched[i],
        .name = listing_name(fd, e),
        .reference = listing_reference(e, eb->ref[i], sizeof eb->ref[i]),
        .port = e->port,
        .port_matched = port_matched,
    };
}

/* One alert per hit: every feed that lists the party, direction from who started it. */
static void hit_to_alert(const struct blocklist *b, struct det_ctx *ctx, const struct hit *h)
{
    const struct blocklist_conf *cc = det_conf(ctx, h->customer);
    const uint8_t *listed = h->inside_listed ? h->host : h->peer;
    struct enrich_buf eb;
    char evbuf[2048];
    eb.n = 0;
    struct json j;
    json_init(&j, evbuf, sizeof evbuf);
    json_obj_open(&j, NULL);
    json_arr_open(&j, "feeds");
    bool any_port = false;
    for (size_t i = 0; h->set && i < feed_set_count(h->set) && i < 32; i++) {
        if (!(h->feeds & (1u << i)))
            continue;
        const struct feed *fd = feed_set_get(h->set, i);
        bool pm = (h->port_feeds >> i) & 1u, exact = false;
        const struct feed_entry *e = feed_match_port(fd, listed, pm ? h->listed_port : 0, &exact);
        if (!e)
            continue;
        pm = pm && exact;
        any_port |= pm;
        enrich_add(&eb, fd, e, pm);
        json_obj_open(&j, NULL);
        json_str(&j, "feed", feed_name(fd));
        json_str(&j, "matched", eb.matched[eb.n - 1]);
        json_str(&j, "listing", listing_name(fd, e));
        if (e->malware[0])
            json_str(&j, "malware", e->malware);
        if (e->port) {
            json_u64(&j, "listed_port", e->port);
            json_bool(&j, "port_matched", pm);
        }
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_str(&j, "listed_party", h->inside_listed ? "host" : "peer");
    json_str(&j, "initiator",
             h->init == INIT_HOST   ? "host"
             : h->init == INIT_PEER ? "peer"
                                    : "unknown");
    json_str(&j, "initiator_basis", flow_init_basis_name((enum flow_init_basis)h->init_basis));
    json_u64(&j, "flows", h->flows);
    json_u64(&j, "bytes", h->bytes);
    json_u64(&j, "packets", h->packets);
    json_obj_close(&j);
    if (!eb.n) /* cannot happen: a hit exists because a feed listed the party */
        return;

    /* A listed address that contacts a customer host is the Internet's noise reaching the
     * customer, not the customer's doing: it is reported, at low severity and half the score. */
    bool inbound = h->init == INIT_PEER;
    bool host_src = h->init ? h->init == INIT_HOST : h->host_src;
    /* the source's own port, when every record of the pair used one (ECS source.port) */
    bool icmp = h->proto == 1 || h->proto == 58;
    uint16_t sport = icmp       ? 0
                     : host_src ? (h->ports_varied & 1 ? 0 : h->host_port)
                                : (h->ports_varied & 2 ? 0 : h->peer_port);
    double score = any_port ? cc->score_port : cc->score_ip;
    struct alert a = {
        .detector = "blocklist",
        .rule_id = h->inside_listed ? "blocklist.host_listed" : "blocklist.peer_listed",
        .severity = inbound    ? SEV_LOW
                    : any_port ? SEV_CRITICAL
                               : SEV_HIGH,
        .score = inbound ? score / 2 : score,
        .customer = h->customer,
        .has_host = true,
        .has_peer = true,
        .host_is_source = host_src,
        .direction_unknown = !h->init,
        .proto = h->proto,
        .port = h->resp_port,
        .sport = sport,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = h->first_ms,
        .last_ms = h->last_ms,
        .flows = h->flows,
        .bytes = h->bytes,
        .packets = h->packets,
        .enrich = eb.en,
        .nenrich = eb.n,
        .indicator_is_host = h->inside_listed,
        .evidence_json = json_error(&j) ? NULL : evbuf,
    };
    memcpy(a.host, h->host, 16);
    memcpy(a.peer, h->peer, 16);
    det_alert(ctx, &a);
}

/* Who started f, seen from the host: INIT_HOST, INIT_PEER or 0 (core/initiator.h). */
static uint8_t initiator_of(struct det_ctx *ctx, const struct flow_rec *f, bool host_is_src,
                            enum flow_init_basis *basis)
{
    enum flow_init w = det_initiator(ctx, f, basis);
    if (w == FLOW_INIT_UNKNOWN)
        return 0;
    return (w == FLOW_INIT_SRC) == host_is_src ? INIT_HOST : INIT_PEER;
}

static void hit_direction(struct det_ctx *ctx, struct hit *h, const struct flow_rec *f,
                          bool host_is_src)
{
    enum flow_init_basis basis;
    uint8_t init = initiator_of(ctx, f, host_is_src, &basis);
    if (!init || h->init)
        return;
    h->init = init;
    h->init_basis = (uint8_t)basis;
    /* the responder's port: the destination's when the source started it */
    bool src_started = (init == INIT_HOST) == host_is_src;
    h->resp_port = src_started ? f->dport : f->sport;
}

/* feeds: the feeds of the set in force that list the party (bit i = feed i); port_feeds: those
 * whose entry names the listed party's port on this flow. */
static void record_hit(struct blocklist *b, struct det_ctx *ctx, struct host *hst,
                       const struct flow_rec *f, uint32_t feeds, uint32_t port_feeds,
                       bool inside_listed)
{
    const uint8_t *peer = flow_outside(f);
    bool host_is_src = f->dir != FLOW_DIR_IN;
    uint16_t host_port = host_is_src ? f->sport : f->dport,
             peer_port = host_is_src ? f->dport : f->sport;
    struct hit key; /* the identity, the rest zero: the probe, or the hit of a full table */
    memset(&key, 0, sizeof key);
    memcpy(key.host, hst->addr, 16);
    memcpy(key.peer, peer, 16);
    key.set = ctx->feeds;
    key.customer = hst->customer;
    key.inside_listed = inside_listed;
    b->stat_hits++;

    bool fresh;
    struct hit *h = ktab_get(&b->hits, &key, &fresh);
    bool overflow = !h; /* full: reported at once rather than lost */
    if (overflow) {
        h = &key;
        fresh = true;
    }
    if (fresh) {
        h->proto = f->proto;
        h->host_src = host_is_src;
        h->resp_port = f->dport;
        h->host_port = host_port;
        h->peer_port = peer_port;
        h->first_ms = f->first_ms;
    }
    h->ports_varied |= (uint8_t)((host_port != h->host_port) | (peer_port != h->peer_port) << 1);
    h->feeds |= feeds;
    if (port_feeds) {
        h->port_feeds |= port_feeds;
        h->listed_port = inside_listed ? host_port : peer_port;
    }
    hit_direction(ctx, h, f, host_is_src);
    h->flows++;
    h->bytes += f->bytes;
    h->packets += f->packets;
    if (f->first_ms < h->first_ms)
        h->first_ms = f->first_ms;
    if (f->last_ms > h->last_ms)
        h->last_ms = f->last_ms;
    hst->alert_cats = (uint8_t)(hst->alert_cats | 1u << CAT_BLOCKLIST);
    if (!fresh)
        return;
    b->stat_inbound += h->init == INIT_PEER;
    b->stat_unknown_dir += !h->init;
    if (overflow) {
        b->stat_alerts++;
        hit_to_alert(b, ctx, h);
    }
}

static void blocklist_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                              const struct flow_rec *f)
{
    (void)hstate;
    struct blocklist *b = self;
    if (!feed_set_entries(ctx->feeds))
        return; /* no feed, or only empty ones: no listing to look up, no hit */
    size_t n = feed_set_count(ctx->feeds);
    const uint8_t *outside = flow_outside(f);
    bool host_is_src = f->dir != FLOW_DIR_IN;
    uint16_t host_port = host_is_src ? f->sport : f->dport,
             peer_port = host_is_src ? f->dport : f->sport;
    bool inside = ((const struct blocklist_conf *)det_conf(ctx, h->customer))->inside_listed;
    uint32_t peer_feeds = 0, peer_ports = 0, host_feeds = 0, host_ports = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        const struct feed *fd = feed_set_get(ctx->feeds, i);
        bool pm = false;
        /* Both ends inside customers: the "outside" end is another customer's host, which
         * that customer's own view reports; here only the peer-listed rule applies. */
        if (feed_match_port(fd, outside, peer_port, &pm)) {
            peer_feeds |= 1u << i;
            peer_ports |= (uint32_t)pm << i;
        }
        if (inside && feed_match_port(fd, h->addr, host_port, &pm)) {
            host_feeds |= 1u << i;
            host_ports |= (uint32_t)pm << i;
        }
    }
    if (peer_feeds)
        record_hit(b, ctx, h, f, peer_feeds, peer_ports, false);
    if (host_feeds)
        record_hit(b, ctx, h, f, host_feeds, host_ports, true);
}

/* The own-space check gathers, for one customer prefix, the entries of every feed that overlap
 * it (bounded: more are skipped and counted), then reports each listed prefix once with every
 * feed that lists it. */
#define SPACE_FOUND_MAX 256

struct space_found {
    const struct feed *fd;
    const struct feed_entry *e;
    uint32_t order; /* feed index, then entry order: ties keep it */
};

struct space_arg {
    struct blocklist *b;
    struct det_ctx *ctx;
    const struct feed *fd;
    uint32_t customer;
    size_t emitted, nfound;
    struct space_found found[SPACE_FOUND_MAX];
};

static int space_collect(void *arg, const struct feed_entry *e)
{
    struct space_arg *sa = arg;
    if (sa->nfound >= SPACE_FOUND_MAX) {
        sa->b->stat_space_skipped++;
        return 0;
    }
    sa->found[sa->nfound] = (struct space_found){sa->fd, e, (uint32_t)sa->nfound};
    sa->nfound++;
    return 0;
}

static int prefix_cmp(const struct prefix *x, const struct prefix *y)
{
    int c = memcmp(x->addr, y->addr, 16);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int found_cmp(const void *pa, const void *pb)
{
    const struct space_found *x = pa, *y = pb;
    int c = prefix_cmp(&x->e->p, &y->e->p);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static void space_report(struct space_arg *sa, const struct prefix *own, size_t from, size_t to)
{
    if (sa->emitted >= sa->b->hits.cap) {
        sa->b->stat_space_skipped++;
        return;
    }
    sa->emitted++;
    struct enrich_buf eb;
    char ownb[ADDR_STRLEN + 8], evbuf[2048];
    eb.n = 0;
    prefix_format(own, ownb, sizeof ownb);
    const struct blocklist_conf *cc = det_conf(sa->ctx, sa->customer);
    struct json j;
    json_init(&j, evbuf, sizeof evbuf);
    json_obj_open(&j, NULL);
    json_str(&j, "customer_prefix", ownb);
    json_arr_open(&j, "feeds");
    for (size_t i = from; i < to; i++) {
        const struct space_found *fo = &sa->found[i];
        if (i > from && fo->fd == sa->found[i - 1].fd)
            continue; /* one feed listing the prefix with several ports: one enrichment */
        enrich_add(&eb, fo->fd, fo->e, false);
        json_obj_open(&j, NULL);
        json_str(&j, "feed", feed_name(fo->fd));
        json_str(&j, "listed", eb.matched[eb.n - 1]);
        json_str(&j, "listing", listing_name(fo->fd, fo->e));
        if (fo->e->malware[0])
            json_str(&j, "malware", fo->e->malware);
        json_u64(&j, "feed_line", fo->e->line);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_obj_close(&j);
    struct alert a = {
        .detector = "blocklist",
        .rule_id = "blocklist.customer_space_listed",
        .severity = SEV_HIGH,
        .score = cc->score_ip, /* in force for the customer now (a reload, an override) */
        .customer = sa->customer,
        .has_host = false,
        .win_start_ms = sa->ctx->win_start_ms,
        .win_end_ms = sa->ctx->win_end_ms,
        .enrich = eb.en,
        .nenrich = eb.n,
        .indicator_is_host = true,
        .evidence_json = json_error(&j) ? NULL : evbuf,
    };
    /* the listed prefix makes the alert's identity: one alert per (customer, listed prefix) */
    memcpy(a.host, sa->found[from].e->p.addr, 16);
    sa->b->stat_space_alerts++;
    det_alert(sa->ctx, &a);
}

/* Hash of every customer's prefixes: tells a changed customer map from the same one. */
static uint64_t space_signature(struct blocklist *b, struct det_ctx *ctx)
{
    size_t nc = ctx->customer_count ? ctx->customer_count(ctx->customers_arg) : 0;
    uint64_t sig = hash_mix64(nc + 1);
    for (size_t c = 1; c <= nc; c++) {
        const struct prefix *p = NULL;
        size_t np = ctx->customer_prefixes(ctx->customers_arg, (uint32_t)c, &p);
        for (size_t i = 0; i < np; i++)
            sig = hash_mix64(sig ^ hash_bytes(&b->hits.hk, &p[i], sizeof p[i]) ^ c);
    }
    return sig;
}

static void check_own_space(struct blocklist *b, struct det_ctx *ctx)
{
    if (ctx->worker != 0 || !ctx->feeds || !ctx->customer_prefixes)
        return;
    uint64_t sig = space_signature(b, ctx);
    if (b->space_feeds == ctx->feeds && b->space_sig == sig)
        return;
    b->space_feeds = ctx->feeds;
    b->space_sig = sig;
    size_t nc = ctx->customer_count ? ctx->customer_count(ctx->customers_arg) : 0;
    struct space_arg *sa = calloc(1, sizeof *sa); /* at a reload, not per record */
    if (!sa) {
        b->space_feeds = NULL; /* try again at the next window */
        return;
    }
    sa->b = b;
    sa->ctx = ctx;
    for (size_t c = 1; c <= nc; c++) {
        const struct prefix *p = NULL;
        size_t np = ctx->customer_prefixes(ctx->customers_arg, (uint32_t)c, &p);
        sa->customer = (uint32_t)c;
        for (size_t i = 0; i < np; i++) {
            sa->nfound = 0;
            for (size_t f = 0; f < feed_set_count(ctx->feeds); f++) {
                sa->fd = feed_set_get(ctx->feeds, f);
                feed_overlaps(sa->fd, &p[i], space_collect, sa);
            }
            qsort(sa->found, sa->nfound, sizeof sa->found[0], found_cmp);
            for (size_t k = 0; k < sa->nfound;) {
                size_t e = k + 1;
                while (e < sa->nfound && prefix_cmp(&sa->found[e].e->p, &sa->found[k].e->p) == 0)
                    e++;
                space_report(sa, &p[i], k, e);
                k = e;
            }
        }
    }
    free(sa);
}

static void blocklist_on_window(void *self, struct det_ctx *ctx)
{
    struct blocklist *b = self;
    check_own_space(b, ctx);
    for (size_t i = 0; i < b->hits.n; i++) {
        hit_to_alert(b, ctx, ktab_at(&b->hits, i));
        b->stat_alerts++;
    }
    ktab_reset(&b->hits);
}

/* Counters (detector.h). */
#define C CTR_COUNTER
#define G CTR_GAUGE
#define BL_COUNTERS(X)                                                                             \
    X(T, hits, "hits", "detector_blocklist_listed_flows_total", NULL, C,                           \
      "Flow records between a customer host and a listed address.")                                \
    X(T, pairs, "pairs", "detector_blocklist_hit_pairs", NULL, G,                                  \
      "Host and listed party pairs collected in the open window.")                                 \
    X(T, cap, "pair_capacity", "detector_blocklist_hit_capacity_pairs", NULL, G,                   \
      "Capacity of the hit table (max_hits, this worker's share).")                                \
    X(T, overflow, "hit_table_overflow", "detector_blocklist_hit_table_overflows_total", NULL, C,  \
      "Hits reported at once because the hit table was full (not folded with later records).")     \
    X(T, alerts, "alerts", "detector_blocklist_alerts_total", NULL, C,                             \
      "Alerts about a host talking to, or being, a listed address.")                               \
    X(T, space_alerts, "customer_space_alerts", "detector_blocklist_customer_space_alerts_total",  \
      NULL, C, "Alerts about a listed part of a customer's own address space.")                    \
    X(T, space_skipped, "customer_space_skipped",                                                  \
      "detector_blocklist_customer_space_skipped_total", NULL, C,                                  \
      "Listed parts of customers' address space not reported (more than one check can hold).")     \
    X(T, inbound, "inbound_hits", "detector_blocklist_inbound_pairs_total", NULL, C,               \
      "Hit pairs where the listed party started the connections.")                                 \
    X(T, unknown_dir, "direction_unknown_hits",                                                    \
      "detector_blocklist_direction_unknown_pairs_total", NULL, C,                                 \
      "Hit pairs where the records did not tell who started the connections.")
#define T struct blocklist_ctr
struct blocklist_ctr {
    BL_COUNTERS(CTR_FIELD)
};
static const struct ctr_def blocklist_ctr_defs[] = {BL_COUNTERS(CTR_ROW)};
#undef T
#undef C
#undef G

static void blocklist_counters(const void *self, void *snap)
{
    const struct blocklist *b = self;
    struct blocklist_ctr *o = snap;
    o->hits = b->stat_hits;
    o->pairs = b->hits.n;
    o->cap = b->hits.cap;
    o->overflow = b->hits.refused;
    o->alerts = b->stat_alerts;
    o->space_alerts = b->stat_space_alerts;
    o->space_skipped = b->stat_space_skipped;
    o->inbound = b->stat_inbound;
    o->unknown_dir = b->stat_unknown_dir;
}

/* The options that size its tables (read by init only). */
static const char *const blocklist_sizes[] = {"max_hits", NULL};

const struct detector_ops det_blocklist_ops = {
    .name = "blocklist",
    .help = "customer hosts talking to addresses on blocklist feeds, and listed customer hosts",
    .conf_keys = blocklist_keys,
    .conf_size = sizeof(struct blocklist_conf),
    .sizes = blocklist_sizes,
    .host_state_size = 0,
    .init = blocklist_init,
    .on_flow = blocklist_on_flow,
    .on_window = blocklist_on_window,
    DET_COUNTERS(blocklist_ctr_defs, struct blocklist_ctr, blocklist_counters),
    .fini = blocklist_fini,
};
