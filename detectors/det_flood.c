/* det_flood: customer hosts sending floods (e.g. taking part in a DDoS).
 *
 * Per inside host (per-host state, FLOOD_STATE bytes): the outbound packets and bytes of the
 * open window (sampling-corrected, so the rates hold under sampling), the busiest destination
 * of the window, and an exponentially weighted moving average (EWMA) of the host's own
 * per-window rates. At window close:
 *   flood.pps       packets/s >= pps_max
 *   flood.bps       bits/s >= bps_max
 *   flood.baseline  after warmup windows of history, packets/s or bits/s >= factor x the
 *                   host's own EWMA, and packets/s >= baseline_min_pps (small hosts doubling
 *                   their traffic are not floods)
 * A window that alerts does not feed the baseline, so a long flood does not become normal, and
 * a window feeds at most max(2 x baseline, baseline_min_pps / factor): a flood starting late in
 * a window cannot lift the baseline above itself, while real growth is learnt (x1.2/window).
 * Rates are window averages: a 10 s burst in a 5 min window counts as 1/30 of its rate. A
 * record that spans more than the window (a Zeek or Argus log holds a whole connection; a router
 * with a long active timeout) counts with its own rate over the window, its packets and bytes
 * times window / span: an hour's video call logged as one record at its end is its 210 packets/s,
 * not the hour's packets sent in the window it ends in (CTU-Normal-43's Teams call read as a
 * flood.baseline of 2 352 packets/s).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "json.h"

struct flood_conf {
    double pps_max, bps_max, factor, baseline_min_pps, alpha;
    uint32_t warmup;
};

static const struct conf_key flood_keys[] = {
    {"pps_max", CONF_DOUBLE, offsetof(struct flood_conf, pps_max), 0, 1, 1e12, "50000",
     "outbound packets/s of one host (window average) that alert", NULL},
    {"bps_max", CONF_DOUBLE, offsetof(struct flood_conf, bps_max), 0, 1, 1e15, "500000000",
     "outbound bits/s of one host (window average) that alert", NULL},
    {"factor", CONF_DOUBLE, offsetof(struct flood_conf, factor), 0, 1.5, 1e6, "10",
     "rate over the host's own moving average that alerts (flood.baseline)", NULL},
    {"baseline_min_pps", CONF_DOUBLE, offsetof(struct flood_conf, baseline_min_pps), 0, 0, 1e12,
     "2000", "packets/s a host must reach for flood.baseline", NULL},
    {"alpha", CONF_DOUBLE, offsetof(struct flood_conf, alpha), 0, 0.001, 1, "0.2",
     "EWMA weight of the newest window", NULL},
    {"warmup", CONF_U32, offsetof(struct flood_conf, warmup), 0, 1, 10000, "3",
     "windows of history before flood.baseline applies", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* per host: 64 bytes */
struct flood_state {
    uint64_t pkts, bytes; /* outbound, this window */
    uint64_t top_pkts;    /* packets of the busiest destination record this window */
    float ewma_pps, ewma_bps;
    uint32_t nwin; /* windows in the baseline */
    uint16_t top_port;
    uint8_t top_proto, pad;
    uint8_t top_dst[16];
    uint64_t first_ms; /* first outbound flow this window */
};

struct flood {
    uint64_t stat_alerts;
};

static int flood_init(const void *conf, struct det_share share, void **self)
{
    (void)conf;
    (void)share; /* per-host state only: no table */
    struct flood *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    *self = f;
    return 0;
}

static void flood_fini(void *self)
{
    free(self);
}

static void flood_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                          const struct flow_rec *f)
{
    (void)self;
    (void)h;
    struct flood_state *st = hstate;
    if (!st || f->dir != FLOW_DIR_OUT)
        return;
    if (!st->pkts || f->first_ms < st->first_ms)
        st->first_ms = f->first_ms;
    uint64_t pk = f->packets, by = f->bytes;
    uint64_t span = f->last_ms - f->first_ms, win = ctx->win_end_ms - ctx->win_start_ms;
    if (__builtin_expect(f->last_ms > f->first_ms && span > win && win, 0)) {
        double share = (double)win / (double)span; /* its rate over the window */
        pk = (uint64_t)((double)pk * share);
        by = (uint64_t)((double)by * share);
    }
    st->pkts += pk;
    st->bytes += by;
    if (pk > st->top_pkts) {
        st->top_pkts = pk;
        memcpy(st->top_dst, f->dst, 16);
        st->top_port = f->dport;
        st->top_proto = f->proto;
    }
}

static void flood_on_host_window(void *self, struct det_ctx *ctx, struct host *h, void *hstate)
{
    struct flood *fl = self;
    struct flood_state *st = hstate;
    if (!st)
        return;
    const struct flood_conf *c = det_conf(ctx, h->customer);
    double secs = (double)(ctx->win_end_ms - ctx->win_start_ms) / 1000.0;
    if (secs <= 0)
        secs = 1;
    double pps = (double)st->pkts / secs, bps = (double)st->bytes * 8.0 / secs;
    const char *rule = NULL;
    bool base = false;
    if (pps >= c->pps_max)
        rule = "flood.pps";
    else if (bps >= c->bps_max)
        rule = "flood.bps";
    else if (st->nwin >= c->warmup && pps >= c->baseline_min_pps &&
             (pps >= c->factor * st->ewma_pps || bps >= c->factor * st->ewma_bps)) {
        rule = "flood.baseline";
        base = true;
    }
    if (rule) {
        char ev[512];
        struct json j;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_double(&j, "pps", pps, 1);
        json_double(&j, "bps", bps, 0);
        json_double(&j, "baseline_pps", st->ewma_pps, 1);
        json_double(&j, "baseline_bps", st->ewma_bps, 0);
        json_u64(&j, "baseline_windows", st->nwin);
        json_double(&j, "pps_max", c->pps_max, 0);
        json_double(&j, "bps_max", c->bps_max, 0);
        json_addr(&j, "top_destination", st->top_dst);
        json_u64(&j, "top_port", st->top_port);
        json_u64(&j, "top_proto", st->top_proto);
        json_obj_close(&j);
        double ratio = base ? pps / (c->factor * (st->ewma_pps + 1)) : pps / c->pps_max;
        if (ratio < bps / c->bps_max)
            ratio = bps / c->bps_max;
        double sc = 0.5 + 0.5 * (ratio >= 4 ? 1.0 : ratio / 4.0);
        struct alert a = {
            .detector = "flood",
            .rule_id = rule,
            .severity = base ? SEV_MEDIUM : SEV_HIGH,
            .score = sc > 1 ? 1 : sc,
            .customer = h->customer,
            .has_host = true,
            .has_peer = true,
            .host_is_source = true,
            .proto = st->top_proto,
            .port = st->top_port,
            .win_start_ms = ctx->win_start_ms,
            .win_end_ms = ctx->win_end_ms,
            .first_ms = st->first_ms,
            .last_ms = h->last_ms,
            .bytes = st->bytes,
            .packets = st->pkts,
            .evidence_json = json_error(&j) ? NULL : ev,
        };
        memcpy(a.host, h->addr, 16);
        /* the victim is evidence, not part of the alert's identity: one alert per host */
        memset(a.peer, 0, 16);
        a.has_peer = false;
        fl->stat_alerts++;
        det_alert(ctx, &a);
    } else if (st->nwin == 0) {
        st->ewma_pps = (float)pps;
        st->ewma_bps = (float)bps;
        st->nwin = 1;
    } else {
        /* A window feeds at most twice the baseline (or the alerting floor), so a flood that
         * starts late in a window cannot lift the baseline over itself. */
        double cap_p = 2.0 * st->ewma_pps, floor_p = c->baseline_min_pps / c->factor;
        double cap_b = 2.0 * st->ewma_bps, floor_b = floor_p * 8.0 * 1500.0;
        double xp =
            pps < (cap_p > floor_p ? cap_p : floor_p) ? pps : (cap_p > floor_p ? cap_p : floor_p);
        double xb =
            bps < (cap_b > floor_b ? cap_b : floor_b) ? bps : (cap_b > floor_b ? cap_b : floor_b);
        st->ewma_pps = (float)(c->alpha * xp + (1 - c->alpha) * st->ewma_pps);
        st->ewma_bps = (float)(c->alpha * xb + (1 - c->alpha) * st->ewma_bps);
        st->nwin++;
    }
    st->pkts = st->bytes = st->top_pkts = 0;
    st->first_ms = 0;
}

/* Counters (detector.h). Its state is per host (in the host table): nothing to evict. */
#define FLOOD_COUNTERS(X)                                                                          \
    X(T, alerts, "alerts", "detector_flood_alerts_total", NULL, CTR_COUNTER, "Flood alerts raised.")
#define T struct flood_ctr
struct flood_ctr {
    FLOOD_COUNTERS(CTR_FIELD)
};
static const struct ctr_def flood_ctr_defs[] = {FLOOD_COUNTERS(CTR_ROW)};
#undef T

static void flood_counters(const void *self, void *snap)
{
    const struct flood *f = self;
    struct flood_ctr *o = snap;
    o->alerts = f->stat_alerts;
}

const struct detector_ops det_flood_ops = {
    .name = "flood",
    .help =
        "customer hosts sending floods: absolute packet/bit rates or far above their own baseline",
    .conf_keys = flood_keys,
    .conf_size = sizeof(struct flood_conf),
    .host_state_size = sizeof(struct flood_state),
    .init = flood_init,
    .on_flow = flood_on_flow,
    .on_host_window = flood_on_host_window,
    DET_COUNTERS(flood_ctr_defs, struct flood_ctr, flood_counters),
    .fini = flood_fini,
};
