/* det_blocklist: customer hosts talking to listed addresses (DROP/EDROP, Feodo C2, ...), and
 * listed addresses inside a customer's own space (the Atrivo case: C2 or DROP blocks hosted by
 * the customer).
 *
 * Per window, hits are aggregated per (customer, host, peer, feed) in a bounded table kept in
 * first-seen order, so the alerts of a window come out in the same order on every replay. At
 * window close every hit becomes one alert with its counts; the alert manager suppresses
 * repeats within its suppression window. When the table is full, a new hit is reported at once
 * with the counts of its first flow (never dropped), and the overflow is counted.
 * Hits point at their feed and entry: on reload the pipeline keeps a replaced feed set alive
 * until the window closes, so a reload mid-window loses no hit.
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
#include "json.h"

struct blocklist_conf {
    uint64_t max_hits;      /* hit table capacity per worker per window */
    bool inside_listed;     /* also report customer hosts that are themselves listed */
    double score_ip;        /* score of a hit on a feed entry without port */
    double score_port;      /* score when the entry's port matched too */
};

static const struct conf_key blocklist_keys[] = {
    {"max_hits", CONF_U64, offsetof(struct blocklist_conf, max_hits), 0, 16, 16777216, "65536",
     "distinct (host, peer, feed) hits kept per window per worker; more are reported at once", NULL},
    {"inside_listed", CONF_BOOL, offsetof(struct blocklist_conf, inside_listed), 0, 1, 0, "yes",
     "also alert when the customer's own host is on a list (it hosts C2 or a DROP block)", NULL},
    {"score", CONF_DOUBLE, offsetof(struct blocklist_conf, score_ip), 0, 0, 1, "0.8",
     "score in [0,1] of a hit on a listed address", NULL},
    {"score_port", CONF_DOUBLE, offsetof(struct blocklist_conf, score_port), 0, 0, 1, "0.95",
     "score of a hit whose listed port matched as well (Feodo CSV)", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct hit {
    uint8_t host[16], peer[16];
    uint32_t customer;
    const struct feed *feed; /* kept alive by the pipeline until this window closes */
    uint8_t inside_listed; /* 1: the host is the listed party */
    uint8_t port_matched;
    uint8_t proto;
    uint16_t port;         /* the peer's port on the first flow */
    bool host_is_source;
    const struct feed_entry *entry;
    uint64_t first_ms, last_ms, flows, bytes, packets;
};

struct blocklist {
    struct blocklist_conf conf;
    struct hash_key hk;
    struct hit *hits;      /* in first-seen order */
    uint32_t *index;       /* open addressing: slot -> hit number + 1 */
    size_t nhits, cap, index_mask;
    const struct feed_set *space_feeds; /* feeds of the last own-space check */
    uint64_t space_sig;                 /* customer prefixes of the last own-space check */
    uint64_t stat_hits, stat_overflow, stat_alerts, stat_space_alerts, stat_space_skipped;
};

static int blocklist_init(const void *conf, void **self)
{
    struct blocklist *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->conf = *(const struct blocklist_conf *)conf;
    hash_key_from_seed(&b->hk, 0x626c6f636b6c6973ULL);
    b->cap = b->conf.max_hits;
    size_t slots = 1;
    while (slots < b->cap * 2)
        slots <<= 1;
    b->hits = calloc(b->cap, sizeof *b->hits);
    b->index = calloc(slots, sizeof *b->index);
    if (!b->hits || !b->index) {
        free(b->hits);
        free(b->index);
        free(b);
        return -ENOMEM;
    }
    b->index_mask = slots - 1;
    *self = b;
    return 0;
}

static void blocklist_fini(void *self)
{
    struct blocklist *b = self;
    if (!b)
        return;
    free(b->hits);
    free(b->index);
    free(b);
}

static void hit_to_alert(const struct blocklist *b, struct det_ctx *ctx, const struct hit *h)
{
    const struct blocklist_conf *cc = det_conf(ctx, h->customer);
    const struct feed *fd = h->feed;
    char ind[ADDR_STRLEN + 8], evbuf[768];
    prefix_format(&h->entry->p, ind, sizeof ind);

    struct json j;
    json_init(&j, evbuf, sizeof evbuf);
    json_obj_open(&j, NULL);
    json_str(&j, "feed", feed_name(fd));
    json_str(&j, "matched", ind);
    json_str(&j, "listing_id", h->entry->listing);
    if (h->entry->malware[0])
        json_str(&j, "malware", h->entry->malware);
    if (h->entry->port) {
        json_u64(&j, "listed_port", h->entry->port);
        json_bool(&j, "port_matched", h->port_matched);
    }
    json_str(&j, "listed_party", h->inside_listed ? "host" : "peer");
    json_str(&j, "host_role", h->host_is_source ? "source" : "destination");
    json_u64(&j, "flows", h->flows);
    json_u64(&j, "bytes", h->bytes);
    json_u64(&j, "packets", h->packets);
    json_obj_close(&j);

    struct alert a = {
        .detector = "blocklist",
        .rule_id = h->inside_listed ? "blocklist.host_listed" : "blocklist.peer_listed",
        .rule_name = h->inside_listed ? "Customer host is on a blocklist"
                                      : "Customer host talked to a listed address",
        .category = CAT_BLOCKLIST,
        .severity = h->port_matched ? SEV_CRITICAL : SEV_HIGH,
        .score = h->port_matched ? cc->score_port : cc->score_ip,
        .customer = h->customer,
        .has_host = true,
        .has_peer = true,
        .host_is_source = h->host_is_source,
        .proto = h->proto,
        .port = h->port,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = h->first_ms,
        .last_ms = h->last_ms,
        .flows = h->flows,
        .bytes = h->bytes,
        .packets = h->packets,
        .feed_name = feed_name(fd),
        .indicator = ind,
        .listing_id = h->entry->listing[0] ? h->entry->listing : h->entry->malware,
        .indicator_is_host = h->inside_listed,
        .evidence_json = json_error(&j) ? NULL : evbuf,
    };
    memcpy(a.host, h->host, 16);
    memcpy(a.peer, h->peer, 16);
    det_alert(ctx, &a);
}

static void blocklist_reset(struct blocklist *b)
{
    memset(b->index, 0, (b->index_mask + 1) * sizeof *b->index);
    b->nhits = 0;
}

static void record_hit(struct blocklist *b, struct det_ctx *ctx, struct host *hst,
                       const struct flow_rec *f, const struct feed *feed,
                       const struct feed_entry *e, bool inside_listed)
{
    const uint8_t *peer = flow_outside(f);
    bool host_is_source = f->dir != FLOW_DIR_IN;
    uint16_t peer_port = host_is_source ? f->dport : f->sport;
    struct {
        uint8_t host[16], peer[16];
        const struct feed *feed;
        uint32_t customer;
        uint8_t inside;
    } key;
    memset(&key, 0, sizeof key);
    memcpy(key.host, hst->addr, 16);
    memcpy(key.peer, peer, 16);
    key.customer = hst->customer;
    key.feed = feed;
    key.inside = inside_listed;
    b->stat_hits++;

    size_t slot = hash_bytes(&b->hk, &key, sizeof key) & b->index_mask;
    for (;;) {
        uint32_t n = b->index[slot];
        if (n == 0)
            break;
        struct hit *h = &b->hits[n - 1];
        if (h->customer == key.customer && h->feed == feed && h->inside_listed == inside_listed &&
            memcmp(h->host, key.host, 16) == 0 && memcmp(h->peer, key.peer, 16) == 0) {
            h->flows++;
            h->bytes += f->bytes;
            h->packets += f->packets;
            if (f->first_ms < h->first_ms)
                h->first_ms = f->first_ms;
            if (f->last_ms > h->last_ms)
                h->last_ms = f->last_ms;
            if (e->port && (peer_port == e->port || (inside_listed && (host_is_source ? f->sport : f->dport) == e->port)))
                h->port_matched = 1;
            return;
        }
        slot = (slot + 1) & b->index_mask;
    }
    struct hit nh = {
        .customer = hst->customer,
        .feed = feed,
        .inside_listed = inside_listed,
        .proto = f->proto,
        .port = peer_port,
        .host_is_source = host_is_source,
        .entry = e,
        .first_ms = f->first_ms,
        .last_ms = f->last_ms,
        .flows = 1,
        .bytes = f->bytes,
        .packets = f->packets,
    };
    memcpy(nh.host, hst->addr, 16);
    memcpy(nh.peer, peer, 16);
    if (e->port) {
        uint16_t listed_side_port = inside_listed ? (host_is_source ? f->sport : f->dport) : peer_port;
        nh.port_matched = listed_side_port == e->port;
    }
    if (b->nhits >= b->cap) { /* full: report now rather than lose it */
        b->stat_overflow++;
        b->stat_alerts++;
        hit_to_alert(b, ctx, &nh);
        hst->alert_cats |= 1u << CAT_BLOCKLIST;
        return;
    }
    b->hits[b->nhits] = nh;
    b->index[slot] = (uint32_t)++b->nhits;
    hst->alert_cats |= 1u << CAT_BLOCKLIST;
}

static void blocklist_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                              const struct flow_rec *f)
{
    struct blocklist *b = self;
    if (!ctx->feeds)
        return;
    size_t n = feed_set_count(ctx->feeds);
    const uint8_t *outside = flow_outside(f);
    for (size_t i = 0; i < n; i++) {
        const struct feed *fd = feed_set_get(ctx->feeds, i);
        const struct feed_entry *e = feed_match(fd, outside);
        /* Both ends inside customers: the "outside" end is another customer's host, which
         * that customer's own view reports; here only the peer-listed rule applies. */
        if (e)
            record_hit(b, ctx, h, f, fd, e, false);
        if (((const struct blocklist_conf *)det_conf(ctx, h->customer))->inside_listed) {
            e = feed_match(fd, h->addr);
            if (e)
                record_hit(b, ctx, h, f, fd, e, true);
        }
    }
}

struct space_arg {
    struct blocklist *b;
    struct det_ctx *ctx;
    const struct feed *fd;
    const struct prefix *own;
    uint32_t customer;
    size_t emitted;
};

static int space_hit(void *arg, const struct feed_entry *e)
{
    struct space_arg *sa = arg;
    if (sa->emitted >= sa->b->cap) {
        sa->b->stat_space_skipped++;
        return 0;
    }
    sa->emitted++;
    char ind[ADDR_STRLEN + 8], own[ADDR_STRLEN + 8], evbuf[512];
    prefix_format(&e->p, ind, sizeof ind);
    prefix_format(sa->own, own, sizeof own);
    struct json j;
    json_init(&j, evbuf, sizeof evbuf);
    json_obj_open(&j, NULL);
    json_str(&j, "feed", feed_name(sa->fd));
    json_str(&j, "listed", ind);
    json_str(&j, "customer_prefix", own);
    json_str(&j, "listing_id", e->listing);
    if (e->malware[0])
        json_str(&j, "malware", e->malware);
    json_u64(&j, "feed_line", e->line);
    json_obj_close(&j);
    struct alert a = {
        .detector = "blocklist",
        .rule_id = "blocklist.customer_space_listed",
        .rule_name = "Part of the customer's own address space is on a blocklist",
        .category = CAT_CUSTOMER,
        .severity = SEV_HIGH,
        .score = sa->b->conf.score_ip,
        .customer = sa->customer,
        .has_host = false,
        .win_start_ms = sa->ctx->win_start_ms,
        .win_end_ms = sa->ctx->win_end_ms,
        .feed_name = feed_name(sa->fd),
        .indicator = ind,
        .listing_id = e->listing[0] ? e->listing : e->malware,
        .indicator_is_host = true,
        .evidence_json = json_error(&j) ? NULL : evbuf,
    };
    /* the listed prefix makes the alert's identity: one alert per (customer, feed entry) */
    memcpy(a.host, e->p.addr, 16);
    sa->b->stat_space_alerts++;
    det_alert(sa->ctx, &a);
    return 0;
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
            sig = hash_mix64(sig ^ hash_bytes(&b->hk, &p[i], sizeof p[i]) ^ c);
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
    struct space_arg sa = {.b = b, .ctx = ctx};
    for (size_t c = 1; c <= nc; c++) {
        const struct prefix *p = NULL;
        size_t np = ctx->customer_prefixes(ctx->customers_arg, (uint32_t)c, &p);
        sa.customer = (uint32_t)c;
        for (size_t i = 0; i < np; i++) {
            sa.own = &p[i];
            for (size_t f = 0; f < feed_set_count(ctx->feeds); f++) {
                sa.fd = feed_set_get(ctx->feeds, f);
                feed_overlaps(sa.fd, &p[i], space_hit, &sa);
            }
        }
    }
}

static void blocklist_on_window(void *self, struct det_ctx *ctx)
{
    struct blocklist *b = self;
    check_own_space(b, ctx);
    for (size_t i = 0; i < b->nhits; i++) {
        hit_to_alert(b, ctx, &b->hits[i]);
        b->stat_alerts++;
    }
    blocklist_reset(b);
}

static void blocklist_stats(void *self, struct json *j)
{
    struct blocklist *b = self;
    json_u64(j, "hits", b->stat_hits);
    json_u64(j, "hit_table_overflow", b->stat_overflow);
    json_u64(j, "alerts", b->stat_alerts);
    json_u64(j, "customer_space_alerts", b->stat_space_alerts);
    json_u64(j, "customer_space_skipped", b->stat_space_skipped);
}

const struct detector_ops det_blocklist_ops = {
    .name = "blocklist",
    .help = "customer hosts talking to addresses on blocklist feeds, and listed customer hosts",
    .conf_keys = blocklist_keys,
    .conf_size = sizeof(struct blocklist_conf),
    .host_state_size = 0,
    .init = blocklist_init,
    .on_flow = blocklist_on_flow,
    .on_window = blocklist_on_window,
    .stats_json = blocklist_stats,
    .fini = blocklist_fini,
};
