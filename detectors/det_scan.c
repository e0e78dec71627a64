/* det_scan: customer hosts scanning the Internet (outbound only; an inbound scan of a customer
 * never raises an alert against it: the customer's answers carry ACK and are not attempts).
 *
 * An attempt is an outbound TCP flow; it failed (was unanswered or refused) when no ACK was
 * seen (flags within {SYN, RST}) or, without flags, when it is <= 3 packets and <= 180 bytes.
 * Per window, two bounded per-worker tables (refusals counted):
 *   horizontal: (host, dst port) -> attempts, failed, distinct failed destinations (exact then
 *               HyperLogLog), sample targets. Entries are made for any outbound TCP port so
 *               the unanswered share counts the successes too.
 *   vertical:   (host, dst) -> unanswered attempts, distinct unanswered ports (repeats
 *               counted once), sample ports. Made and counted by unanswered attempts only.
 * scan.horizontal: distinct failed dsts on one port >= h_threshold and unanswered share >=
 * fail_min (high severity at >= h_high). scan.vertical: distinct failed ports on one dst >=
 * v_threshold. Mail ports are left to det_spam
 * (ignore_ports). UDP and ICMP sweeps are not scored (unidirectional records cannot tell an
 * unanswered UDP probe from a one-packet query).
 * Memory: no per-host state; H_ENT/V_ENT bytes per active (host, port) / (host, dst) pair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "json.h"
#include "sketch.h"

#define SCAN_SAMPLES 6

struct scan_conf {
    uint32_t h_threshold, h_high, v_threshold;
    double fail_min;
    struct portlist ignore_ports;
    uint64_t max_pairs;
};

static const struct conf_key scan_keys[] = {
    {"h_threshold", CONF_U32, offsetof(struct scan_conf, h_threshold), 0, 1, 1e9, "50",
     "distinct unanswered destinations on one port in a window (horizontal scan)", NULL},
    {"h_high", CONF_U32, offsetof(struct scan_conf, h_high), 0, 1, 1e9, "500",
     "distinct destinations for high severity", NULL},
    {"v_threshold", CONF_U32, offsetof(struct scan_conf, v_threshold), 0, 1, 1e9, "50",
     "distinct unanswered ports on one destination in a window (vertical scan)", NULL},
    {"fail_min", CONF_DOUBLE, offsetof(struct scan_conf, fail_min), 0, 0, 1, "0.5",
     "share of the attempts that went unanswered", NULL},
    {"ignore_ports", CONF_CUSTOM, offsetof(struct scan_conf, ignore_ports), sizeof(struct portlist),
     1, 0, "25", "destination ports not scored here (mail: det_spam)", portlist_parse},
    {"max_pairs", CONF_U64, offsetof(struct scan_conf, max_pairs), 0, 16, 16777216, "131072",
     "(host, port) and (host, dst) pairs tracked per worker per window, each", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct h_key {
    uint32_t customer;
    uint8_t host[16];
    uint16_t port;
    uint16_t pad;
};
struct h_ent {
    struct h_key k;
    uint32_t attempts, failed;
    uint64_t first_ms, last_ms;
    struct hll dsts;
    uint8_t sample[SCAN_SAMPLES][16];
    uint8_t nsample;
};

struct v_key {
    uint32_t customer;
    uint8_t host[16];
    uint8_t dst[16];
};
struct v_ent {
    struct v_key k;
    uint32_t attempts, failed;
    uint64_t first_ms, last_ms;
    struct hll ports;
    uint16_t sample[SCAN_SAMPLES * 2];
    uint8_t nsample;
};

struct scan {
    struct ktab h, v;
    struct hash_key hk;
    uint64_t stat_attempts, stat_failed, stat_alerts;
};

static int scan_init(const void *conf, void **self)
{
    const struct scan_conf *c = conf;
    struct scan *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (ktab_init(&s->h, c->max_pairs, sizeof(struct h_ent), sizeof(struct h_key), 0x7363616e68ULL) < 0 ||
        ktab_init(&s->v, c->max_pairs, sizeof(struct v_ent), sizeof(struct v_key), 0x7363616e76ULL) < 0) {
        ktab_fini(&s->h);
        free(s);
        return -ENOMEM;
    }
    hash_key_from_seed(&s->hk, 0x7363616e64737431ULL);
    *self = s;
    return 0;
}

static void scan_fini(void *self)
{
    struct scan *s = self;
    if (!s)
        return;
    ktab_fini(&s->h);
    ktab_fini(&s->v);
    free(s);
}

static bool attempt_failed(const struct flow_rec *f)
{
    if (f->tcp_flags)
        return !(f->tcp_flags & 0x10) && !(f->tcp_flags & ~0x06);
    uint64_t pk = f->sampling > 1 ? f->packets / f->sampling : f->packets;
    uint64_t by = f->sampling > 1 ? f->bytes / f->sampling : f->bytes;
    return pk <= 3 && by <= 180;
}

static void scan_on_flow(void *self, struct det_ctx *ctx, struct host *hst, void *hstate,
                         const struct flow_rec *f)
{
    (void)hstate;
    struct scan *s = self;
    if (f->dir != FLOW_DIR_OUT || f->proto != 6)
        return;
    const struct scan_conf *c = det_conf(ctx, hst->customer);
    if (portlist_has(&c->ignore_ports, f->dport))
        return;
    bool failed = attempt_failed(f), ins;
    s->stat_attempts++;
    s->stat_failed += failed;

    struct h_key hk;
    memset(&hk, 0, sizeof hk);
    hk.customer = hst->customer;
    memcpy(hk.host, hst->addr, 16);
    hk.port = f->dport;
    struct h_ent *he = ktab_get(&s->h, &hk, &ins);
    if (he) {
        if (ins)
            he->first_ms = f->first_ms;
        he->attempts++;
        if (f->last_ms > he->last_ms)
            he->last_ms = f->last_ms;
        if (failed) {
            he->failed++;
            if (hll_add(&he->dsts, sk_hash_addr(&s->hk, f->dst)) && he->nsample < SCAN_SAMPLES)
                memcpy(he->sample[he->nsample++], f->dst, 16);
        }
    }

    struct v_key vk;
    memset(&vk, 0, sizeof vk);
    vk.customer = hst->customer;
    memcpy(vk.host, hst->addr, 16);
    memcpy(vk.dst, f->dst, 16);
    if (!failed) /* vertical pairs are made and counted by unanswered attempts only */
        return;
    struct v_ent *ve = ktab_get(&s->v, &vk, &ins);
    if (!ve)
        return;
    if (ins)
        ve->first_ms = f->first_ms;
    ve->attempts++;
    ve->failed++;
    if (f->last_ms > ve->last_ms)
        ve->last_ms = f->last_ms;
    uint64_t ph = hash_mix64(f->dport + 0x9E3779B97F4A7C15ULL);
    if (hll_add(&ve->ports, ph) && ve->nsample < SCAN_SAMPLES * 2)
        ve->sample[ve->nsample++] = f->dport;
}

static void emit(struct scan *s, struct det_ctx *ctx, bool horizontal, uint32_t customer,
                 const uint8_t host[16], const uint8_t *peer, uint16_t port, uint32_t distinct,
                 uint32_t attempts, uint32_t failed, uint64_t first_ms, uint64_t last_ms,
                 bool high, const char *evidence)
{
    double share = attempts ? (double)failed / attempts : 0;
    struct alert a = {
        .detector = "scan",
        .rule_id = horizontal ? "scan.horizontal" : "scan.vertical",
        .rule_name = horizontal ? "Host probes many addresses on one port"
                                : "Host probes many ports of one address",
        .category = CAT_SCAN,
        .severity = high ? SEV_HIGH : SEV_MEDIUM,
        .score = 0.5 + 0.25 * share + (high ? 0.25 : 0.25 * distinct / (distinct + 200.0)),
        .customer = customer,
        .has_host = true,
        .has_peer = peer != NULL,
        .host_is_source = true,
        .proto = 6,
        .port = port,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = first_ms,
        .last_ms = last_ms,
        .flows = attempts,
        .evidence_json = evidence,
    };
    memcpy(a.host, host, 16);
    if (peer)
        memcpy(a.peer, peer, 16);
    s->stat_alerts++;
    det_alert(ctx, &a);
}

static void scan_on_window(void *self, struct det_ctx *ctx)
{
    struct scan *s = self;
    char ev[1024];
    struct json j;
    for (size_t i = 0; i < s->h.n; i++) {
        const struct h_ent *e = ktab_at(&s->h, i);
        const struct scan_conf *c = det_conf(ctx, e->k.customer);
        uint32_t d = hll_count(&e->dsts);
        double share = e->attempts ? (double)e->failed / e->attempts : 0;
        if (d < c->h_threshold || share < c->fail_min)
            continue;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_u64(&j, "port", e->k.port);
        json_u64(&j, "distinct_targets", d);
        json_u64(&j, "attempts", e->attempts);
        json_u64(&j, "unanswered", e->failed);
        json_double(&j, "unanswered_share", share, 3);
        json_arr_open(&j, "sample_targets");
        for (unsigned k = 0; k < e->nsample; k++)
            json_addr(&j, NULL, e->sample[k]);
        json_arr_close(&j);
        json_u64(&j, "threshold", c->h_threshold);
        json_obj_close(&j);
        emit(s, ctx, true, e->k.customer, e->k.host, NULL, e->k.port, d, e->attempts, e->failed,
             e->first_ms, e->last_ms, d >= c->h_high, json_error(&j) ? NULL : ev);
    }
    for (size_t i = 0; i < s->v.n; i++) {
        const struct v_ent *e = ktab_at(&s->v, i);
        const struct scan_conf *c = det_conf(ctx, e->k.customer);
        uint32_t d = hll_count(&e->ports);
        double share = e->attempts ? (double)e->failed / e->attempts : 0;
        if (d < c->v_threshold || share < c->fail_min)
            continue;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_addr(&j, "target", e->k.dst);
        json_u64(&j, "distinct_ports", d);
        json_u64(&j, "attempts", e->attempts);
        json_u64(&j, "unanswered", e->failed);
        json_arr_open(&j, "sample_ports");
        for (unsigned k = 0; k < e->nsample; k++)
            json_u64(&j, NULL, e->sample[k]);
        json_arr_close(&j);
        json_u64(&j, "threshold", c->v_threshold);
        json_obj_close(&j);
        emit(s, ctx, false, e->k.customer, e->k.host, e->k.dst, 0, d, e->attempts, e->failed,
             e->first_ms, e->last_ms, d >= 10 * c->v_threshold, json_error(&j) ? NULL : ev);
    }
    ktab_reset(&s->h);
    ktab_reset(&s->v);
}

static void scan_stats(void *self, struct json *j)
{
    struct scan *s = self;
    json_u64(j, "attempts", s->stat_attempts);
    json_u64(j, "unanswered", s->stat_failed);
    json_u64(j, "alerts", s->stat_alerts);
    json_u64(j, "h_refused", s->h.refused);
    json_u64(j, "v_refused", s->v.refused);
    json_u64(j, "h_entry_bytes", sizeof(struct h_ent));
    json_u64(j, "v_entry_bytes", sizeof(struct v_ent));
}

const struct detector_ops det_scan_ops = {
    .name = "scan",
    .help = "customer hosts scanning: many unanswered destinations on a port, or ports on a destination",
    .conf_keys = scan_keys,
    .conf_size = sizeof(struct scan_conf),
    .host_state_size = 0,
    .init = scan_init,
    .on_flow = scan_on_flow,
    .on_window = scan_on_window,
    .stats_json = scan_stats,
    .fini = scan_fini,
};
