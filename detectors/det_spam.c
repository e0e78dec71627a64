/* det_spam: customer hosts sending mail directly to many mail servers (spam bots).
 *
 * Per window, every inside host with outbound TCP flows to a mail port (default 25) gets an
 * entry in a bounded per-worker table (refusals counted): flows, failed flows (no ACK seen:
 * flags within {SYN, RST}, or <= 3 packets and <= 180 bytes), bytes, distinct destination
 * addresses and distinct /24s (/48 for IPv6) as exact-then-HyperLogLog sketches, the first
 * SPAM_SAMPLE destinations, and the most contacted destinations (Space-Saving, SPAM_TOP
 * counters with their error). Distinct counts are never multiplied by the sampling rate
 * (DETECTION-NOTES 0.3): under 1:N packet sampling the thresholds are scaled instead, by the share
 * of mail connections of sampled_packets packets that leave a sample (detector.h
 * det_sampled_scale; at least sampled_min destinations seen), for the highest rate among the
 * host's records of the window. fail_share is then the share of sampled packets that belong to
 * failed connections (a failed attempt's SYN, not a delivery's ACKs): lower than the share of
 * connections, so bots are found through distinct_nets >= fanout_high more than through it,
 * and it counts only with at least sampled_min failures seen that are also unlikely for a
 * client's sampled SYNs (detector.h det_sampled_unlikely_client: three SYNs in thirteen samples
 * of a bulk sender are noise; the scan detector's test).
 *
 * Evidence is the window's own: a record belongs to the window that holds its end time. The
 * pipeline closes a window only once records `lateness` newer than its end have been seen, so
 * records of the next window reach the detector before the close: they go to a second table
 * that becomes the current one at the close (two tables, swapped). Distinct counts are
 * estimates past HLL_EXACT and are clamped to what they count (distinct /24s <= distinct
 * addresses <= flows). top_destinations lists only destinations whose Space-Saving count is
 * guaranteed (count - error >= 2), with that guaranteed lower bound as `flows`; a bot that
 * contacts each MX once has none, and `sample_destinations` names some it did contact.
 *
 * Rule (per customer thresholds, via det_conf): a host not on the customer's MTA allowlist
 * alerts spam.fanout when distinct_dst >= fanout and distinct_nets >= fanout_nets and
 * (fail_share >= fail_min or distinct_nets >= fanout_high). A legitimate bulk sender talks to
 * few big providers (few /24s, little failure); a bot to the MXs of the whole Internet with
 * many rejections. An allowlisted MTA alerts spam.mta_fanout only past the much higher
 * mta_fanout with fail_share >= mta_fail (a hijacked mail server).
 *
 * Memory: no per-host state; two tables of max_hosts entries in all (each worker its share) (see stats
 * "entry_bytes"), each reset when its window closes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "json.h"
#include "sketch.h"

#define SPAM_TOP 8
#define SPAM_SAMPLE 4
/* Sampled failures are evidence when a client's sampled SYNs give so many with probability
 * below this (scan's trw_alpha). */
#define SPAM_SAMPLED_ALPHA 0.01

struct spam_conf {
    struct portlist ports;
    uint32_t fanout, fanout_nets, fanout_high;
    double fail_min;
    struct pfxlist mta;
    uint32_t mta_fanout;
    double mta_fail;
    uint64_t max_hosts;
    double sampled_packets;
    uint32_t sampled_min;
};

static const struct conf_key spam_keys[] = {
    {"ports", CONF_CUSTOM, offsetof(struct spam_conf, ports), sizeof(struct portlist), 1, 0, "25",
     "TCP destination ports counted as mail delivery (e.g. 25, 465, 587)", portlist_parse},
    {"fanout", CONF_U32, offsetof(struct spam_conf, fanout), 0, 1, 1e9, "25",
     "distinct destination addresses on mail ports in one window", NULL},
    {"fanout_nets", CONF_U32, offsetof(struct spam_conf, fanout_nets), 0, 1, 1e9, "20",
     "distinct destination /24s (IPv6 /48s) in one window", NULL},
    {"fanout_high", CONF_U32, offsetof(struct spam_conf, fanout_high), 0, 1, 1e9, "100",
     "distinct /24s that alert (high severity) whatever the failure share", NULL},
    {"fail_min", CONF_DOUBLE, offsetof(struct spam_conf, fail_min), 0, 0, 1, "0.2",
     "share of failed or tiny mail flows needed below fanout_high", NULL},
    {"mta", CONF_CUSTOM, offsetof(struct spam_conf, mta), sizeof(struct pfxlist), 1, 0, "",
     "the customer's own mail servers (up to 16 prefixes): exempt from spam.fanout", pfxlist_parse},
    {"mta_fanout", CONF_U32, offsetof(struct spam_conf, mta_fanout), 0, 1, 1e9, "2000",
     "distinct /24s an allowlisted MTA must reach (with mta_fail) to alert as hijacked", NULL},
    {"mta_fail", CONF_DOUBLE, offsetof(struct spam_conf, mta_fail), 0, 0, 1, "0.5",
     "failure share of a hijacked MTA", NULL},
    {"max_hosts", CONF_U64, offsetof(struct spam_conf, max_hosts), 0, 16, 16777216, "65536",
     "mail-sending hosts tracked per window, all workers together; more are refused and "
     "counted",
     NULL},
    {"sampled_packets", CONF_DOUBLE, offsetof(struct spam_conf, sampled_packets), 0, 1, 1e6, "3",
     "packet-sampled data: client packets of the mail connection the thresholds are scaled for "
     "(a failed or rejected attempt: SYN and retries, <= 3)",
     NULL},
    {"sampled_min", CONF_U32, offsetof(struct spam_conf, sampled_min), 0, 1, 1e6, "3",
     "packet-sampled data: distinct destinations and /24s seen that the scaled thresholds never "
     "go below",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct spam_key {
    uint32_t customer;
    uint8_t host[16];
};

struct spam_ent {
    struct spam_key k;
    uint32_t flows, failed;
    uint64_t bytes, packets, first_ms, last_ms;
    uint32_t rate; /* highest sampling rate of its records (1 = unsampled) */
    uint16_t port; /* first mail port seen */
    bool mta;
    uint8_t nsample;
    struct hll dst, nets;
    uint8_t sample[SPAM_SAMPLE][16];
    struct {
        uint8_t addr[16];
        uint32_t n, err; /* Space-Saving count and its overestimate bound */
    } top[SPAM_TOP];
};

struct spam {
    struct ktab tab[2]; /* [cur]: the open window; [cur ^ 1]: records ending after it */
    unsigned cur;
    struct hash_key hk;
    uint64_t stat_flows, stat_alerts, stat_next_window;
};

/* Both tables are keyed by the inside host: this instance's share of max_hosts. */
static int spam_init(const void *conf, struct det_share share, void **self)
{
    const struct spam_conf *c = conf;
    struct spam *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    size_t cap = det_share_cap(share, c->max_hosts, 16);
    if (ktab_init(&s->tab[0], cap, sizeof(struct spam_ent), sizeof(struct spam_key),
                  0x7370616d74616231ULL) < 0 ||
        ktab_init(&s->tab[1], cap, sizeof(struct spam_ent), sizeof(struct spam_key),
                  0x7370616d74616232ULL) < 0) {
        ktab_fini(&s->tab[0]);
        free(s);
        return -ENOMEM;
    }
    hash_key_from_seed(&s->hk, 0x7370616d64737431ULL);
    *self = s;
    return 0;
}

static void spam_fini(void *self)
{
    struct spam *s = self;
    if (!s)
        return;
    ktab_fini(&s->tab[0]);
    ktab_fini(&s->tab[1]);
    free(s);
}

/* Failed or tiny TCP flow: no ACK ever seen, or too small to have carried a handshake and a
 * greeting (the fallback when flags are not exported). A record that is not a whole connection
 * (det_flow_whole: packet-sampled, or one packet, as every sFlow sample and IPFIX packet section
 * is, also at 1:1) is judged by its flags alone: a delivery's pure ACK is as small as a failed
 * attempt's SYN. */
static bool flow_failed(const struct flow_rec *f)
{
    bool syn_rst_only = f->tcp_flags && !(f->tcp_flags & 0x10) && !(f->tcp_flags & ~0x06);
    if (syn_rst_only || !det_flow_whole(f))
        return syn_rst_only;
    return f->packets <= 3 && f->bytes <= 180; /* unsampled here: the counts are the flow's */
}

static void top_add(struct spam_ent *e, const uint8_t a[16])
{
    int min = 0;
    for (int i = 0; i < SPAM_TOP; i++) {
        if (e->top[i].n && memcmp(e->top[i].addr, a, 16) == 0) {
            e->top[i].n++;
            return;
        }
        if (e->top[i].n < e->top[min].n)
            min = i;
    }
    /* Space-Saving: the least counted makes room; its count carries over as the newcomer's
     * possible overestimate (the newcomer's true count is at least n - err) */
    memcpy(e->top[min].addr, a, 16);
    e->top[min].err = e->top[min].n;
    e->top[min].n++;
}

static void spam_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                         const struct flow_rec *f)
{
    (void)hstate;
    struct spam *s = self;
    if (f->dir != FLOW_DIR_OUT || f->proto != 6)
        return;
    const struct spam_conf *c = det_conf(ctx, h->customer);
    if (!portlist_has(&c->ports, f->dport))
        return;
    struct spam_key k;
    memset(&k, 0, sizeof k);
    k.customer = h->customer;
    memcpy(k.host, h->addr, 16);
    bool ins, next = f->last_ms >= ctx->win_end_ms; /* the next window's record, seen early */
    struct spam_ent *e = ktab_get(&s->tab[s->cur ^ next], &k, &ins);
    if (!e)
        return;
    s->stat_flows++;
    s->stat_next_window += next;
    if (ins) {
        e->first_ms = f->first_ms;
        e->port = f->dport;
        e->mta = pfxlist_match(&c->mta, h->addr);
    }
    e->flows++;
    if (f->sampling > e->rate)
        e->rate = f->sampling;
    e->failed += flow_failed(f);
    e->bytes += f->bytes;
    e->packets += f->packets;
    if (f->first_ms < e->first_ms)
        e->first_ms = f->first_ms;
    if (f->last_ms > e->last_ms)
        e->last_ms = f->last_ms;
    if (hll_add(&e->dst, sk_hash_addr(&s->hk, f->dst)) && !e->dst.dense && e->nsample < SPAM_SAMPLE)
        memcpy(e->sample[e->nsample++], f->dst, 16);
    hll_add(&e->nets, sk_hash_net(&s->hk, f->dst));
    top_add(e, f->dst);
}

/* The destinations with a guaranteed count of at least 2, most flows first (ties: the lower
 * address first, so the order does not depend on arrival order). */
static void top_json(struct json *j, const struct spam_ent *e)
{
    int idx[SPAM_TOP], n = 0;
    for (int i = 0; i < SPAM_TOP; i++)
        if (e->top[i].n >= e->top[i].err + 2)
            idx[n++] = i;
    for (int a = 1; a < n; a++) { /* insertion sort of at most SPAM_TOP */
        int v = idx[a], b = a - 1;
        uint32_t gv = e->top[v].n - e->top[v].err;
        while (b >= 0) {
            uint32_t gb = e->top[idx[b]].n - e->top[idx[b]].err;
            if (gb > gv || (gb == gv && memcmp(e->top[idx[b]].addr, e->top[v].addr, 16) < 0))
                break;
            idx[b + 1] = idx[b];
            b--;
        }
        idx[b + 1] = v;
    }
    json_arr_open(j, "top_destinations");
    for (int i = 0; i < n; i++) {
        json_obj_open(j, NULL);
        json_addr(j, "addr", e->top[idx[i]].addr);
        json_u64(j, "flows", e->top[idx[i]].n - e->top[idx[i]].err);
        json_obj_close(j);
    }
    json_arr_close(j);
}

static void spam_report(struct spam *s, struct det_ctx *ctx, const struct spam_ent *e,
                        const struct spam_conf *c)
{
    uint32_t nd = hll_count(&e->dst), nn = hll_count(&e->nets);
    /* estimates past HLL_EXACT: never more addresses than flows, nor /24s than addresses */
    if (nd > e->flows)
        nd = e->flows;
    if (nn > nd)
        nn = nd;
    double fail = e->flows ? (double)e->failed / e->flows : 0;
    /* thresholds in force: as configured, or scaled to what 1:rate sampling lets through */
    uint32_t base = c->fanout < c->fanout_nets ? c->fanout : c->fanout_nets;
    double sc = det_sampled_scale(e->rate, c->sampled_packets, c->sampled_min, base);
    uint32_t t_dst = det_scaled(c->fanout, sc), t_nets = det_scaled(c->fanout_nets, sc),
             t_high = det_scaled(c->fanout_high, sc),
             t_mta = det_scaled(c->mta_fanout, det_sampled_scale(e->rate, c->sampled_packets,
                                                                 c->sampled_min, c->mta_fanout));
    /* sampled, the failure share counts too only when its failures are more than noise: at least
     * sampled_min of them seen, as the distinct counts must be, and more than a client's sampled
     * SYNs would give by chance (det_sampled_unlikely_client at SPAM_SAMPLED_ALPHA) */
    bool fail_seen =
        e->rate <= 1 || (e->failed >= c->sampled_min &&
                         det_sampled_unlikely_client(e->failed, e->flows, SPAM_SAMPLED_ALPHA));
    bool alert;
    if (e->mta)
        alert = nn >= t_mta && fail >= c->mta_fail && fail_seen;
    else
        alert = nd >= t_dst && nn >= t_nets && ((fail >= c->fail_min && fail_seen) || nn >= t_high);
    if (!alert)
        return;
    char ev[1536];
    struct json j;
    json_init(&j, ev, sizeof ev);
    json_obj_open(&j, NULL);
    json_u64(&j, "smtp_flows", e->flows);
    json_u64(&j, "failed_flows", e->failed);
    json_double(&j, "fail_share", fail, 3);
    json_u64(&j, "distinct_dst", nd);
    json_u64(&j, "distinct_nets", nn);
    json_bool(&j, "exact", hll_exact(&e->dst));
    json_bool(&j, "allowlisted_mta", e->mta);
    json_u64(&j, "bytes", e->bytes);
    json_u64(&j, "packets", e->packets);
    top_json(&j, e);
    json_arr_open(&j, "sample_destinations");
    for (unsigned i = 0; i < e->nsample; i++)
        json_addr(&j, NULL, e->sample[i]);
    json_arr_close(&j);
    json_u64(&j, "threshold_fanout", t_dst);
    json_u64(&j, "threshold_nets", t_nets);
    if (e->rate > 1) {
        json_u64(&j, "sampling_rate", e->rate);
        json_double(&j, "threshold_scale", sc, 4);
    }
    json_obj_close(&j);

    double score = 0.4 + 0.3 * (nn >= t_high ? 1.0 : (double)nn / t_high) + 0.3 * fail;
    struct alert a = {
        .detector = "spam",
        .rule_id = e->mta ? "spam.mta_fanout" : "spam.fanout",
        .severity = (nn >= t_high || fail >= 0.3) ? SEV_HIGH : SEV_MEDIUM,
        .score = score > 1 ? 1 : score,
        .customer = e->k.customer,
        .has_host = true,
        .host_is_source = true,
        .proto = 6,
        .port = e->port,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = e->first_ms,
        .last_ms = e->last_ms,
        .flows = e->flows,
        .bytes = e->bytes,
        .packets = e->packets,
        .evidence_json = json_error(&j) ? NULL : ev,
    };
    memcpy(a.host, e->k.host, 16);
    s->stat_alerts++;
    det_alert(ctx, &a);
}

static void spam_on_window(void *self, struct det_ctx *ctx)
{
    struct spam *s = self;
    struct ktab *t = &s->tab[s->cur];
    for (size_t i = 0; i < t->n; i++) {
        const struct spam_ent *e = ktab_at(t, i);
        spam_report(s, ctx, e, det_conf(ctx, e->k.customer));
    }
    ktab_reset(t);
    s->cur ^= 1; /* what arrived early for the next window is now the open window's */
}

/* Counters (detector.h). */
#define SPAM_COUNTERS(X)                                                                           \
    X(T, flows, "mail_flows", "detector_spam_mail_flows_total", NULL, CTR_COUNTER,                 \
      "SMTP flow records from customer hosts the spam detector counted.")                          \
    X(T, next_window, "next_window_flows", "detector_spam_next_window_flows_total", NULL,          \
      CTR_COUNTER, "Of those, records ending after the open window (kept for the next one).")      \
    X(T, hosts, "hosts", "detector_spam_hosts", NULL, CTR_GAUGE,                                   \
      "Mail-sending hosts tracked now (open window and the next).")                                \
    X(T, cap, "host_capacity", "detector_spam_capacity_hosts", NULL, CTR_GAUGE,                    \
      "Capacity of the mail-sender tables (max_hosts, this worker's share, for each of two "       \
      "windows).")                                                                                 \
    X(T, refused, "table_refused", "detector_spam_refused_total", NULL, CTR_COUNTER,               \
      "Mail-sending hosts not tracked because the table was full (their mail is not counted).")    \
    X(T, alerts, "alerts", "detector_spam_alerts_total", NULL, CTR_COUNTER, "Spam alerts raised.")
#define T struct spam_ctr
struct spam_ctr {
    SPAM_COUNTERS(CTR_FIELD)
};
static const struct ctr_def spam_ctr_defs[] = {SPAM_COUNTERS(CTR_ROW)};
#undef T

static void spam_counters(const void *self, void *snap)
{
    const struct spam *s = self;
    struct spam_ctr *o = snap;
    o->flows = s->stat_flows;
    o->next_window = s->stat_next_window;
    o->hosts = s->tab[0].n + s->tab[1].n;
    o->cap = s->tab[0].cap + s->tab[1].cap;
    o->refused = s->tab[0].refused + s->tab[1].refused;
    o->alerts = s->stat_alerts;
}

/* The options that size its tables (read by init only). */
static const char *const spam_sizes[] = {"max_hosts", NULL};

const struct detector_ops det_spam_ops = {
    .name = "spam",
    .help = "hosts sending mail directly to many mail servers (SMTP fan-out)",
    .conf_keys = spam_keys,
    .conf_size = sizeof(struct spam_conf),
    .sizes = spam_sizes,
    .host_state_size = 0,
    .init = spam_init,
    .on_flow = spam_on_flow,
    .on_window = spam_on_window,
    DET_COUNTERS(spam_ctr_defs, struct spam_ctr, spam_counters),
    .fini = spam_fini,
};
