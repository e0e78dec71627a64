/* det_scan: customer hosts scanning (TCP, UDP, ICMP echo), over a window, an hour and a day.
 *
 * What counts. Only the host's own attempts: records the host started (core/initiator.h
 * flow_initiator(): exporter flags, SYN without ACK, ICMP type, service ports, port ranges).
 * An inbound scan of a customer never counts against it: the customer's answers are not its
 * attempts. Only FIRST contacts count: the first attempt of a host to a (target, protocol,
 * port) within the last 30-60 minutes (a two-generation Bloom filter per worker, gfilter), so
 * retries and the repeated connections of normal clients do not add up (Jung et al. count
 * first contacts; NEMEA drops repeated ports as benign retries). TCP destination ports in
 * ignore_ports (mail, by default) are det_spam's.
 *
 * Answered or not, from what flow records really carry:
 *   - TCP: the initiator's own record says it. Its cumulative flags hold ACK only when the
 *     handshake completed (the initiator ACKs the SYN-ACK): ANSWERED. Flags without ACK (SYN
 *     only: no answer, or a RST from the target, which lands in the other direction's record
 *     that we need not see; SYN+RST: a half-open probe reset by the scanner itself; FIN, NULL
 *     and Xmas probes) are a connection never established: UNANSWERED. A RST reply record is
 *     thus never needed and never counted as an answer. Without flags (exporters that omit
 *     them) a record of <= 3 packets and <= 180 bytes is unanswered (DETECTION-NOTES 0.2).
 *   - UDP and ICMP echo: the record cannot say. The answer is a separate record in the other
 *     direction, maybe from another exporter, in any order: a probe waits in a bounded per-
 *     worker join table keyed by (host, target, protocol, target port); an answer record
 *     (target port -> host, or an echo reply) that arrives before or after it, within
 *     answer_wait of event time, makes it ANSWERED (an answer seen first waits for its probe
 *     the same way). Probes still unanswered when a window closes answer_wait after them (or
 *     at the last close, end of input or stop: no answer can come after it) are UNANSWERED - if answers to this host are visible at all (any record towards the host in
 *     the last hour); otherwise (asymmetric routing: the answers are not exported to us) the
 *     outcome is UNKNOWN and counts neither way. ICMP errors (port/host unreachable, time
 *     exceeded) are not answers: the probe stays unanswered, as the target or a router said.
 *   - Records between two customers (internal): the pipeline hands the destination's shard an
 *     inbound copy of each, so an answer from another customer's host reaches the prober's
 *     shard as an inbound record and is joined like one from outside.
 *   - Sampled exports (1:N, N > 1): a probe of one packet is seen with probability 1/N and the
 *     answer may not be sampled: UDP/ICMP outcomes are UNKNOWN, TCP ones come from the sampled
 *     flags, and the sequential test is off (DETECTION-NOTES 4.1; Mai et al., IEEE JSAC 2006:
 *     sampling biases TRW's outcomes). Distinct targets (ports) count what is seen: a probe of
 *     sampled_packets packets is seen with probability 1 - (1 - 1/N)^k, so the horizontal and
 *     vertical thresholds of a pair are scaled by that share, never below sampled_min seen
 *     (detector.h det_sampled_scale; the pair's highest rate). A sampled SYN of an answered
 *     connection looks unanswered, so the share is taken over packets: every later sampled
 *     packet with ACK to the pair's port (target) counts as answered (sampled_answer; also
 *     one whose ports cannot say who opened its connection, such as a P2P client's to a peer's
 *     dynamic port: its SYNs are the host's by their flags, so its ACKs must count beside
 *     them), and a client of k-packet connections stays near 1/k unanswered while a scanner's
 *     SYNs stay near 1; a sampled pair crosses only when its count of unanswered packets is
 *     unlikely for a client (detector.h det_sampled_unlikely_client, at trw_alpha), the
 *     packet that made the pair left out: a pair is made only by an unanswered packet (the
 *     answered ones before it are not kept), so its first is no draw. The ICMP sweep needs
 *     known outcomes and so stays silent on sampled data. TCP records of one packet at 1:1
 *     (sFlow, IPFIX packet sections; detector.h det_flow_whole) are taken the same way (their
 *     SYN says nothing of the answer, the sequential test is off; thresholds unscaled), UDP and
 *     ICMP ones as unsampled records: every answer is there to be joined.
 *
 * Rules (every threshold in the config):
 *   scan.horizontal  per (host, protocol, port): distinct unanswered targets over the last
 *                    hour >= h_threshold or over the last day >= h_day_threshold, with an
 *                    unanswered share >= fail_min. One alert per host and window naming its
 *                    strongest port (destination.port) and the others in the evidence. The
 *                    crossing ports must hold half of the host's unanswered targets (every
 *                    port; hour and day view), else only ports answered no more often than a
 *                    scanner's contacts (trw_theta1) alert: a P2P client's default ports
 *                    (horizontal_alerts).
 *                    ICMP echo sweeps are port 0 of protocol icmp.
 *   scan.vertical    per (host, target, protocol): distinct unanswered ports, hour >=
 *                    v_threshold or day >= v_day_threshold, share >= fail_min; the target is
 *                    the peer (destination.ip), the strongest port destination.port.
 *   scan.trw         Threshold Random Walk (Jung, Paxson, Berger, Balakrishnan 2004): a Wald
 *                    sequential test per host on its first contacts' outcomes, theta0/theta1
 *                    the success rates of benign hosts and scanners, alpha/beta the false
 *                    positive and detection probabilities; the walk restarts at the benign
 *                    bound and after a verdict. A verdict needs trw_min_failed unanswered first
 *                    contacts in the walk too: an abuse ticket against a customer needs more
 *                    than the paper's four, but a bot's wholly unanswered sweep of a few dozen
 *                    addresses is found within them, in whatever window it falls. Not raised
 *                    for a host that has a horizontal or vertical alert in the same window
 *                    (one event, one alert), nor when the walk's unanswered contacts share
 *                    neither a port nor a target (walk_shares_port, walk_shares_target).
 *                    An NTP daemon's requests (NTP-sized, UDP 123 to 123) take no step: pool
 *                    servers that left or filter go silent (time_client).
 *   scan.icmp_sweep  echo requests to >= icmp_burst distinct addresses within icmp_burst_window
 *                    (Juniper's ip-sweep screen and Snort sfPortscan's high sensitivity: 10
 *                    probes; Snort's and Trellix's 60 s windows), of which >= icmp_unanswered_min
 *                    (Snort's default sensitivity alerts on 5 negative responses) and a share >=
 *                    icmp_fail_min went unanswered: a sweep probes addresses whose liveness it
 *                    does not know; a monitoring host pings hosts it knows are up.
 * The hour and day views are two generations each (half an hour, half a day), so they cover
 * the last 30-60 minutes and 12-24 hours; distinct counts are exact up to HLL_EXACT, then
 * HyperLogLog, and never exceed the probes they count.
 *
 * Evidence: ports, targets (samples), distinct counts per view, unanswered share, the probes'
 * flows, packets and bytes, first/last seen. Alerts are raised when a window closes (after
 * that window's joins are settled); the alert manager keeps one event.id per ongoing incident.
 *
 * Threads and memory: one instance per worker (detectors/detector.h). Per host 40 bytes of
 * state; per worker its share (detector.h det_share_cap) of the contact filter (contact_filter
 * bytes), the join table (max_pending), the horizontal and vertical tables (max_pairs each),
 * the ICMP sweep table (max_sweepers) and the candidate list; all fixed at init, least recently used entries evicted and counted. No
 * allocation, lock or clock read per record. A probe waiting for its answer keeps pointers to
 * its host's entry in the worker's host table, whose memory is fixed for the pipeline's life;
 * the address is compared before use, so an evicted host is never confused with another.
 * Everything a host's alerts depend on is in its own records' order and the window closes,
 * so replays are identical and 1 or N workers raise the same alerts (until a table is full).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "initiator.h"
#include "json.h"
#include "sketch.h"

#define SCAN_SAMPLES 6
#define CAND_SAMPLES 4
#define HALF_HOUR_MS (1800ULL * 1000)
#define HALF_DAY_MS (43200ULL * 1000)
#define VISIBLE_MS (3600ULL * 1000) /* answers count as visible for an hour after the last */
#define SCAN_PORTS_SHOWN 8

struct scan_conf {
    uint32_t h_threshold, h_day_threshold, h_high;
    uint32_t v_threshold, v_day_threshold, v_high;
    double fail_min;
    bool trw;
    double trw_theta0, trw_theta1, trw_alpha, trw_beta;
    uint32_t trw_min_failed;
    double sampled_packets;
    uint32_t sampled_min;
    uint32_t icmp_burst;
    uint64_t icmp_burst_window;
    uint32_t icmp_unanswered_min;
    double icmp_fail_min;
    uint64_t answer_wait;
    struct portlist ignore_ports, ignore_udp_ports;
    uint64_t max_pairs, max_pending, max_sweepers, contact_filter;
};

#define SC(f) offsetof(struct scan_conf, f)
static const struct conf_key scan_keys[] = {
    {"h_threshold", CONF_U32, SC(h_threshold), 0, 1, 1e9, "50",
     "horizontal: distinct unanswered targets on one port over the last hour (NEMEA 50)", NULL},
    {"h_day_threshold", CONF_U32, SC(h_day_threshold), 0, 1, 1e9, "100",
     "horizontal: ... over the last day (slow scans; Elastic's network sweep rule: 100)", NULL},
    {"h_high", CONF_U32, SC(h_high), 0, 1, 1e9, "500", "horizontal: targets for high severity",
     NULL},
    {"v_threshold", CONF_U32, SC(v_threshold), 0, 1, 1e9, "50",
     "vertical: distinct unanswered ports on one target over the last hour", NULL},
    {"v_day_threshold", CONF_U32, SC(v_day_threshold), 0, 1, 1e9, "100",
     "vertical: ... over the last day", NULL},
    {"v_high", CONF_U32, SC(v_high), 0, 1, 1e9, "500", "vertical: ports for high severity", NULL},
    {"fail_min", CONF_DOUBLE, SC(fail_min), 0, 0, 1, "0.5",
     "share of a port's (target's) first contacts that went unanswered", NULL},
    {"trw", CONF_BOOL, SC(trw), 0, 0, 1, "yes",
     "the sequential test on first contacts (unsampled exports only)", NULL},
    {"trw_theta0", CONF_DOUBLE, SC(trw_theta0), 0, 0.01, 0.99, "0.8",
     "TRW: share of a benign host's first contacts that are answered (Jung et al.)", NULL},
    {"trw_theta1", CONF_DOUBLE, SC(trw_theta1), 0, 0.01, 0.99, "0.2",
     "TRW: share of a scanner's first contacts that are answered", NULL},
    {"trw_alpha", CONF_DOUBLE, SC(trw_alpha), 0, 1e-9, 0.5, "0.01",
     "TRW, and the test of packet-sampled pairs: false positive probability", NULL},
    {"trw_beta", CONF_DOUBLE, SC(trw_beta), 0, 0.5, 0.999999, "0.99",
     "TRW: detection probability of the test", NULL},
    {"trw_min_failed", CONF_U32, SC(trw_min_failed), 0, 1, 1e6, "20",
     "TRW: unanswered first contacts a verdict needs as well", NULL},
    {"sampled_packets", CONF_DOUBLE, SC(sampled_packets), 0, 1, 1e6, "1",
     "packet-sampled data: packets of the probe the horizontal and vertical thresholds are scaled "
     "for (a SYN or a datagram: 1)",
     NULL},
    {"sampled_min", CONF_U32, SC(sampled_min), 0, 1, 1e6, "3",
     "packet-sampled data: distinct unanswered targets (ports) seen that the scaled thresholds "
     "never go below",
     NULL},
    {"icmp_burst", CONF_U32, SC(icmp_burst), 0, 2, 1e6, "10",
     "ICMP sweep: distinct addresses pinged within icmp_burst_window", NULL},
    {"icmp_burst_window", CONF_DURATION, SC(icmp_burst_window), 0, 1, 3600, "60s",
     "ICMP sweep: the window of icmp_burst", NULL},
    {"icmp_unanswered_min", CONF_U32, SC(icmp_unanswered_min), 0, 0, 1e6, "5",
     "ICMP sweep: pinged addresses that did not answer", NULL},
    {"icmp_fail_min", CONF_DOUBLE, SC(icmp_fail_min), 0, 0, 1, "0.2",
     "ICMP sweep: share of the pinged addresses that did not answer", NULL},
    {"answer_wait", CONF_DURATION, SC(answer_wait), 0, 1, 600, "30s",
     "UDP/ICMP: how long (event time) an answer record may follow or precede its probe", NULL},
    {"ignore_ports", CONF_CUSTOM, SC(ignore_ports), sizeof(struct portlist), 1, 0, "25",
     "TCP destination ports not scored here (mail: det_spam)", portlist_parse},
    {"ignore_udp_ports", CONF_CUSTOM, SC(ignore_udp_ports), sizeof(struct portlist), 1, 0,
     "33434-33534",
     "UDP destination ports (and ranges) not scored here: traceroute's probes, one port each "
     "from 33434 on",
     portlist_parse},
    {"max_pairs", CONF_U64, SC(max_pairs), 0, 16, 16777216, "32768",
     "(host, port) and (host, target) pairs with unanswered probes kept, each, all workers "
     "together (least recently probed evicted)",
     NULL},
    {"max_pending", CONF_U64, SC(max_pending), 0, 16, 16777216, "131072",
     "UDP/ICMP first contacts awaiting their answer (oldest judged unknown), and as many "
     "answered ones awaiting their turn (oldest settled early), all workers together",
     NULL},
    {"max_sweepers", CONF_U64, SC(max_sweepers), 0, 16, 16777216, "16384",
     "hosts whose ICMP echo bursts are followed, all workers together", NULL},
    {"contact_filter", CONF_BYTES, SC(contact_filter), 0, 4096, 1e10, "4M",
     "first-contact filter, all workers together (two generations; about 1 % of a million "
     "contacts per half hour look repeated at 4M)",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

enum outcome { OUT_UNKNOWN = 0, OUT_ANSWERED = 1, OUT_UNANSWERED = 2 };

/* Per host (host table state): 40 bytes, no padding (checked below). The host's salt (keys.
 * below) is not kept here: the instance caches the last host's. */
struct scan_host {
    float llr; /* TRW: log likelihood ratio of the walk */
    uint16_t walk_failed, walk_answered;
    uint16_t port[2], port_n[2];        /* ports of the walk's unanswered contacts (Misra-Gries) */
    uint32_t walk_first_s, walk_last_s; /* Unix seconds */
    uint32_t walk_packets, walk_bytes;  /* saturating */
    uint32_t last_in_s;                 /* latest record towards the host */
    uint8_t port_proto[2];
    /* 1 + its entry in the candidate list (0 = none); the entry says which window it is for */
    unsigned cand : 13;
    unsigned trw_due : 1;   /* the walk crossed: a verdict is due at window close */
    unsigned icmp_cand : 1; /* on the candidate list for an ICMP sweep */
    unsigned has_pairs : 1; /* it has had unanswered contacts (pairs to update) */
};

#define SCAN_CAND_CAP 4096 /* candidate list entries, all workers (st_cand_full counts the rest) */
_Static_assert(SCAN_CAND_CAP < (1u << 13), "scan_host.cand holds 1 + a candidate entry");
_Static_assert(sizeof(struct scan_host) == 40, "scan's per-host state: 40 bytes");

struct pair_key {
    uint32_t customer;
    uint8_t host[16];
    uint8_t other[16]; /* horizontal: zero; vertical: the target */
    uint16_t port;     /* horizontal: the port; vertical: 0 */
    uint8_t proto;
    uint8_t pad;
};

/* A (host, port) or (host, target) pair with unanswered first contacts. */
struct pair {
    struct pair_key k;
    uint32_t epoch_h, epoch_d;     /* generation of sk_h[0], sk_d[0] */
    struct hll sk_h[2], sk_d[2];   /* distinct unanswered targets (ports): [current, previous] */
    uint32_t unanswered, answered; /* first contacts since the pair was made */
    uint64_t first_ms, last_ms, packets, bytes;
    uint32_t rate;      /* highest sampling rate of its contacts (0/1 = unsampled) */
    uint32_t touched;   /* window number + 1 when it last changed */
    uint32_t evaluated; /* window number + 1 when it was last judged */
    uint8_t nsample;
    uint8_t sample[SCAN_SAMPLES][16];       /* targets (horizontal) */
    uint16_t sample_port[SCAN_SAMPLES * 2]; /* ports (vertical) */
};

struct pend_key {
    uint32_t customer;
    uint8_t host[16], peer[16];
    uint16_t port; /* the target's port (UDP), 0 for ICMP echo */
    uint8_t proto;
    uint8_t pad;
};

/* A UDP/ICMP first contact waiting for its answer, or an answer waiting for its probe. */
struct pend {
    struct pend_key k;
    uint8_t state;   /* PEND_PROBE, PEND_ANSWER */
    uint8_t no_walk; /* a probe the sequential test does not take (time_client) */
    uint8_t pad[2];
    uint32_t packets, bytes;
    uint32_t span_ms; /* the probe's record: last - first (saturating) */
    uint64_t t_ms;    /* the probe's (or answer's) start */
    uint64_t salt;    /* a probe's: its host's salt (salt_of), for its outcome at window close */
    struct host *h;   /* the host's table entry (see the top comment) */
    struct scan_host *sh;
};
#define PEND_PROBE 1
#define PEND_ANSWER 2

/* An outcome a window close settles: a probe of the join table (unanswered) or of the answered
 * ring (p in s->done), sorted by the probe's time (key: due_key). */
struct due {
    uint32_t key;
    struct pend *p;
};
#define DUE_BITS 13 /* due_sort's digit: two passes over a 26-bit key */

struct host_key {
    uint32_t customer;
    uint8_t host[16];
};

/* A host's ICMP echo activity: first-contact echo targets in sliding buckets, the current
 * episode's outcomes. */
struct sweeper {
    struct host_key k;
    uint64_t bucket_start_ms;
    uint32_t cur, prev; /* targets in the current and previous burst window */
    uint32_t probes, answered, unanswered, unknown, peak;
    uint64_t first_ms, last_ms, packets, bytes;
    uint8_t nsample;
    uint8_t sample[SCAN_SAMPLES][16];
};

struct cand {
    struct host *h;
    struct scan_host *sh;
    uint8_t addr[16];
    uint32_t customer;
    uint32_t window; /* number + 1 of the window it is the host's entry for */
    uint8_t nsample;
    uint8_t sample[CAND_SAMPLES][16];
};

/* A horizontal pair that crosses at window close. */
struct sel {
    uint32_t idx, hour, day, customer;
    uint32_t all_hour, all_day; /* a host's first entry: its pairs' counts, every port (spread) */
    uint8_t host[16];
    uint16_t port;
    uint8_t proto;
};

/* The sequential test's steps and bounds for one option set (logs computed once): its address
 * and the generation of the sets in force (a reload's may land where a freed one was). */
struct trw_steps {
    const struct scan_conf *conf;
    uint32_t gen;
    double fail, ok, hi, lo;
};

struct scan {
    struct ltab hz, vt, pend, sweep;
    struct trw_steps steps;
    struct gfilter contacts;
    uint64_t contact_epoch;
    struct hash_key hk;
    struct hash_host_key target_key; /* hk's, for hash_host: sk_hash_addr's value, IPv4 faster */
    uint8_t salt_addr[16];           /* the host of the last salt_of (salt 0: none yet) */
    uint64_t salt;
    uint64_t epoch_ms;         /* the window start epoch_hd last computed for (zero state: 0) */
    uint32_t epoch_h, epoch_d; /* its epoch_h, epoch_d */
    struct det_memo memo; /* the batch's host salts, contact mixes, filter hashes (scan_prefetch) */
    struct cand *cands;
    size_t ncand, cand_cap;
    uint32_t *touched_h, *touched_v; /* pair numbers changed in the window */
    size_t ntouched_h, ntouched_v;
    struct sel *sel; /* window close: the horizontal pairs that cross */
    size_t nsel;
    struct host_key *alerted; /* window close: hosts with a horizontal/vertical alert */
    size_t nalerted;
    /* Answered UDP/ICMP probes waiting for their turn (pend_settle): a ring, oldest first. */
    struct pend *done;
    size_t done_cap, done_head, done_n;
    struct due *due, *due_tmp; /* window close: the outcomes settled, sorted (pend_settle) */
    size_t due_cap;
    uint32_t *due_cnt; /* due_sort's counters */
    uint64_t st_attempts, st_first, st_out[3], st_icmp_errors, st_pend_evicted, st_pend_answer_only;
    uint64_t st_udp_ignored, st_time_client;
    uint64_t st_cand_full, st_touched_full, st_alerts[4], st_done_early, st_trw_withdrawn;
    uint64_t st_trw_spread, st_h_spread;
};

static void scan_fini(void *self);

/* Every table is keyed by the inside host (the pairs, the join table, the sweepers, the
 * candidates, the contact filter's (host, target) keys): this instance's share of each. */
static int scan_init(const void *conf, struct det_share share, void **self)
{
    const struct scan_conf *c = conf;
    struct scan *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cand_cap = det_share_cap(share, SCAN_CAND_CAP, 16);
    size_t npairs = det_share_cap(share, c->max_pairs, 16);
    int rc = -ENOMEM;
    if (ltab_init(&s->hz, npairs, sizeof(struct pair), sizeof(struct pair_key)) < 0 ||
        ltab_init(&s->vt, npairs, sizeof(struct pair), sizeof(struct pair_key)) < 0 ||
        ltab_init(&s->pend, det_share_cap(share, c->max_pending, 16), sizeof(struct pend),
                  sizeof(struct pend_key)) < 0 ||
        ltab_init(&s->sweep, det_share_cap(share, c->max_sweepers, 16), sizeof(struct sweeper),
                  sizeof(struct host_key)) < 0 ||
        gfilter_init(&s->contacts, det_share_cap(share, c->contact_filter, 4096)) < 0)
        goto fail;
    s->cands = calloc(s->cand_cap, sizeof *s->cands);
    s->touched_h = calloc(npairs, sizeof *s->touched_h);
    s->touched_v = calloc(npairs, sizeof *s->touched_v);
    s->sel = calloc(npairs, sizeof *s->sel);
    s->alerted = calloc(2 * npairs, sizeof *s->alerted);
    s->done_cap = s->pend.cap;
    s->done = calloc(s->done_cap, sizeof *s->done);
    s->due_cap = s->pend.cap + s->done_cap;
    s->due = calloc(s->due_cap, sizeof *s->due);
    s->due_tmp = calloc(s->due_cap, sizeof *s->due_tmp);
    s->due_cnt = calloc((size_t)1 << DUE_BITS, sizeof *s->due_cnt);
    if (!s->due_cnt || !s->cands || !s->touched_h || !s->touched_v || !s->sel || !s->alerted ||
        !s->done || !s->due || !s->due_tmp)
        goto fail;
    hash_key_from_seed(&s->hk, 0x7363616e64737431ULL);
    hash_host_key_init(&s->target_key, &s->hk);
    *self = s;
    return 0;
fail:
    scan_fini(s);
    return rc;
}

static void scan_fini(void *self)
{
    struct scan *s = self;
    if (!s)
        return;
    ltab_fini(&s->hz);
    ltab_fini(&s->vt);
    ltab_fini(&s->pend);
    ltab_fini(&s->sweep);
    gfilter_fini(&s->contacts);
    free(s->cands);
    free(s->touched_h);
    free(s->touched_v);
    free(s->sel);
    free(s->alerted);
    free(s->done);
    free(s->due);
    free(s->due_tmp);
    free(s->due_cnt);
    free(s);
}

static uint32_t sat32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static bool unsampled(const struct flow_rec *f)
{
    return f->sampling <= 1;
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* Every table key here is a host plus something the host chose (a target, a port): hashed as
 * core/hash.h hash_host_mix says, from the host's salt (hash_host_salt of the host's keyed
 * hash, the pipeline's for a record, with this instance's key). The address alone: a reload
 * may move a host to another customer. The last host's salt is kept in the instance (a
 * record's calls are for one host), not in every host's state. */
static uint64_t salt_hash(const struct scan *s, uint64_t host_hash)
{
    return hash_host_salt(host_hash, s->hk.k0);
}

/* The instance's last salt becomes addr's, known as salt (the prefetch pass's, a probe's). */
static void salt_set(struct scan *s, const uint8_t addr[16], uint64_t salt)
{
    s->salt = salt;
    memcpy(s->salt_addr, addr, 16);
}

static uint64_t salt_of(struct scan *s, const struct det_ctx *ctx, const uint8_t addr[16])
{
    if (s->salt && memcmp(s->salt_addr, addr, 16) == 0)
        return s->salt;
    salt_set(s, addr, salt_hash(s, hash_host(ctx->host_key, addr)));
    return s->salt;
}

static uint64_t key_mix(uint64_t salt, const uint8_t *other, uint16_t port, uint8_t proto)
{
    return hash_host_mix(salt, other, (uint64_t)port << 8 | proto);
}

/* The key_mix of record f's contact (its host addr; the other end, port, protocol): the
 * prefetch pass's when it kept one, and then the instance's last salt becomes addr's (what
 * salt_of would make it); else computed. memo (may be NULL): gets the prefetch pass's values for
 * f, or NULL. */
static uint64_t rec_mix(struct scan *s, const struct det_ctx *ctx, const struct flow_rec *f,
                        const uint8_t addr[16], const uint8_t other[16], uint16_t port,
                        uint8_t proto, const uint64_t **memo)
{
    const uint64_t *v = det_memo_get(&s->memo, ctx, f);
    if (memo)
        *memo = v;
    if (!v)
        return key_mix(salt_of(s, ctx, addr), other, port, proto);
    salt_set(s, addr, v[0]);
    return v[1];
}

/* ---- two-generation views --------------------------------------------------------------- */

static void rotate(struct hll sk[2], uint32_t *epoch, uint32_t now)
{
    if (*epoch == now)
        return;
    if (*epoch + 1 == now)
        sk[1] = sk[0];
    else
        hll_reset(&sk[1]);
    hll_reset(&sk[0]);
    *epoch = now;
}

/* Distinct values of both generations (as of epoch now), never more than `most`; *exact (when
 * given) cleared when the count is a HyperLogLog estimate. */
static uint32_t view_count(const struct hll sk[2], uint32_t epoch, uint32_t now, uint32_t most,
                           bool *exact)
{
    struct hll u;
    uint32_t n;
    bool ex = true;
    if (epoch == now) {
        u = sk[0];
        hll_merge(&u, &sk[1]);
        n = hll_count(&u);
        ex = hll_exact(&u);
    } else if (epoch + 1 == now) {
        n = hll_count(&sk[0]);
        ex = hll_exact(&sk[0]);
    } else {
        n = 0;
    }
    if (exact && !ex)
        *exact = false;
    return n < most ? n : most;
}

static uint32_t epoch_h(const struct det_ctx *ctx)
{
    return (uint32_t)(ctx->win_start_ms / HALF_HOUR_MS);
}
static uint32_t epoch_d(const struct det_ctx *ctx)
{
    return (uint32_t)(ctx->win_start_ms / HALF_DAY_MS);
}
/* epoch_h and epoch_d of ctx's window in s->epoch_h, s->epoch_d: divided once per window, not
 * per pair update. */
static void epoch_hd(struct scan *s, const struct det_ctx *ctx)
{
    if (ctx->win_start_ms == s->epoch_ms)
        return;
    s->epoch_ms = ctx->win_start_ms;
    s->epoch_h = epoch_h(ctx);
    s->epoch_d = epoch_d(ctx);
}

/* ---- candidates: hosts whose verdict is due at window close ------------------------------ */

static struct cand *cand_of(struct scan *s, struct det_ctx *ctx, struct host *h,
                            struct scan_host *sh)
{
    if (sh->cand && sh->cand - 1u < s->ncand && s->cands[sh->cand - 1].sh == sh &&
        s->cands[sh->cand - 1].window == ctx->window_no + 1)
        return &s->cands[sh->cand - 1];
    if (s->ncand >= s->cand_cap) {
        s->st_cand_full++;
        return NULL;
    }
    struct cand *c = &s->cands[s->ncand];
    memset(c, 0, sizeof *c);
    c->h = h;
    c->sh = sh;
    memcpy(c->addr, h->addr, 16);
    c->customer = h->customer;
    c->window = ctx->window_no + 1;
    sh->cand = (unsigned)++s->ncand;
    return c;
}

static void cand_sample(struct cand *c, const uint8_t target[16])
{
    for (unsigned i = 0; i < c->nsample; i++)
        if (memcmp(c->sample[i], target, 16) == 0)
            return;
    if (c->nsample < CAND_SAMPLES)
        memcpy(c->sample[c->nsample++], target, 16);
}

/* ---- applying an outcome ------------------------------------------------------------------ */

struct contact {
    uint32_t customer;
    const uint8_t *host, *target;
    uint8_t proto;
    uint16_t port;
    uint64_t first_ms, last_ms, packets, bytes;
    bool trw;      /* the sequential test may use it (unsampled) */
    uint32_t rate; /* the record's sampling rate (1 = unsampled) */
    uint64_t salt; /* the host's (salt_of(host)): the pair and sweeper keys' */
};

static void walk_reset(struct scan_host *sh)
{
    struct scan_host keep = *sh;
    memset(sh, 0, sizeof *sh);
    sh->last_in_s = keep.last_in_s;
    sh->cand = keep.cand;
    sh->icmp_cand = keep.icmp_cand;
    sh->has_pairs = keep.has_pairs;
}

/* The walk's unanswered ports as a Misra-Gries summary of two counters: a port takes a free
 * counter, else both counters lose one. A count is at most the port's unanswered contacts (a
 * lower bound, off by at most a third of the walk's): a port holding over a third of them keeps
 * its counter, and ports that each saw a contact or two (a P2P client's peers) are not reported
 * as probed (Space-Saving's counts, kept before, took over the evicted port's). */
static void walk_port(struct scan_host *sh, uint8_t proto, uint16_t port)
{
    for (int i = 0; i < 2; i++)
        if (sh->port_n[i] && sh->port[i] == port && sh->port_proto[i] == proto) {
            if (sh->port_n[i] < UINT16_MAX)
                sh->port_n[i]++;
            return;
        }
    for (int i = 0; i < 2; i++)
        if (!sh->port_n[i]) {
            sh->port[i] = port;
            sh->port_proto[i] = proto;
            sh->port_n[i] = 1;
            return;
        }
    sh->port_n[0]--;
    sh->port_n[1]--;
}

/* Whether the walk's unanswered first contacts share a port. A scan probes a service (or a
 * few): one port holds a good part of its unanswered contacts. A P2P client's go to as many ports
 * as peers (each peer listens on a port of its own; the defaults, 6881 and 51413, hold a few per
 * cent). The leading port's Misra-Gries count is a lower bound, short of the port's unanswered
 * contacts by at most a third of the walk's: at least a sixth of them is certain for a port
 * holding half, and impossible for a port holding under a sixth. And the port holds at least
 * half of the unanswered contacts a verdict needs (trw_min_failed): a default port's few
 * contacts in a short walk (4 of 20, a chance of about 2 %) are no evidence of a scan of it. */
static bool walk_shares_port(const struct scan_host *sh, const struct scan_conf *c)
{
    uint16_t n = sh->port_n[0] >= sh->port_n[1] ? sh->port_n[0] : sh->port_n[1];
    return n >= 2 && 2u * n >= c->trw_min_failed && 6u * n >= sh->walk_failed;
}

/* The walk's upper bound (Wald): log(beta / alpha). */
static double trw_bound(const struct scan_conf *c)
{
    return log(c->trw_beta / c->trw_alpha);
}

static void trw_step(struct scan *s, struct det_ctx *ctx, const struct scan_conf *c, struct host *h,
                     struct scan_host *sh, const struct contact *ct, bool failed)
{
    if (!c->trw || !ct->trw)
        return;
    struct trw_steps *ts = &s->steps;
    if (ts->conf != c || ts->gen != ctx->confs->gen) { /* almost always the defaults' */
        ts->conf = c;
        ts->gen = ctx->confs->gen;
        ts->fail = log((1.0 - c->trw_theta1) / (1.0 - c->trw_theta0));
        ts->ok = log(c->trw_theta1 / c->trw_theta0);
        ts->hi = trw_bound(c);
        ts->lo = log((1.0 - c->trw_beta) / (1.0 - c->trw_alpha));
    }
    double step_fail = ts->fail, step_ok = ts->ok, hi = ts->hi, lo = ts->lo;
    uint32_t fs = (uint32_t)(ct->first_ms / 1000), ls = (uint32_t)(ct->last_ms / 1000);
    if (!sh->walk_failed && !sh->walk_answered)
        sh->walk_first_s = fs;
    if (fs < sh->walk_first_s)
        sh->walk_first_s = fs;
    if (ls > sh->walk_last_s)
        sh->walk_last_s = ls;
    sh->walk_packets = sat32((uint64_t)sh->walk_packets + ct->packets);
    sh->walk_bytes = sat32((uint64_t)sh->walk_bytes + ct->bytes);
    sh->llr += (float)(failed ? step_fail : step_ok);
    if (failed) {
        if (sh->walk_failed < UINT16_MAX)
            sh->walk_failed++;
        walk_port(sh, ct->proto, ct->port);
    } else if (sh->walk_answered < UINT16_MAX) {
        sh->walk_answered++;
    }
    if (sh->trw_due) { /* crossed already: gather evidence until the window closes */
        struct cand *cd = cand_of(s, ctx, h, sh);
        if (cd && failed)
            cand_sample(cd, ct->target);
        return;
    }
    if (sh->llr <= lo) { /* benign for now: start again */
        walk_reset(sh);
        return;
    }
    if (sh->llr >= hi && sh->walk_failed >= c->trw_min_failed) {
        struct cand *cd = cand_of(s, ctx, h, sh);
        if (!cd)
            return;
        sh->trw_due = 1;
        if (failed)
            cand_sample(cd, ct->target);
    }
}

static void pair_sample(struct pair *p, bool horizontal, const struct contact *ct)
{
    if (horizontal) {
        if (p->nsample < SCAN_SAMPLES)
            memcpy(p->sample[p->nsample++], ct->target, 16);
    } else if (p->nsample < SCAN_SAMPLES * 2) {
        p->sample_port[p->nsample++] = ct->port;
    }
}

static void touch_pair(struct scan *s, struct det_ctx *ctx, struct ltab *t, struct pair *p,
                       uint32_t *touched, size_t *ntouched)
{
    uint32_t idx = (uint32_t)ltab_index(t, p); /* once: a division by the entry size */
    ltab_touch_at(t, idx);
    if (p->touched == ctx->window_no + 1)
        return;
    p->touched = ctx->window_no + 1;
    if (*ntouched >= t->cap) {
        s->st_touched_full++;
        return;
    }
    touched[(*ntouched)++] = idx;
}

/* A pair's key: horizontal (other NULL: the port) or vertical (the target, port 0). */
static void pair_key_set(struct pair_key *k, uint32_t customer, const uint8_t host[16],
                         const uint8_t *other, uint16_t port, uint8_t proto)
{
    memset(k, 0, sizeof *k);
    k->customer = customer;
    memcpy(k->host, host, 16);
    k->proto = proto;
    if (other)
        memcpy(k->other, other, 16);
    else
        k->port = port;
}

static void pair_add(struct scan *s, struct det_ctx *ctx, bool horizontal, const struct contact *ct,
                     bool failed)
{
    struct pair_key k;
    pair_key_set(&k, ct->customer, ct->host, horizontal ? NULL : ct->target, ct->port, ct->proto);
    struct ltab *t = horizontal ? &s->hz : &s->vt;
    uint64_t hv =
        key_mix(ct->salt, horizontal ? NULL : ct->target, horizontal ? ct->port : 0, ct->proto);
    bool ins = false;
    struct pair *p = failed ? ltab_get(t, &k, hv, &ins, NULL, NULL) : ltab_find(t, &k, hv);
    if (!p)
        return; /* an answer for a pair without unanswered contacts: nothing to keep */
    if (!failed) {
        p->answered++;
        return;
    }
    epoch_hd(s, ctx);
    uint32_t eh = s->epoch_h, ed = s->epoch_d;
    if (ins) {
        p->epoch_h = eh;
        p->epoch_d = ed;
        p->first_ms = ct->first_ms;
    }
    rotate(p->sk_h, &p->epoch_h, eh);
    rotate(p->sk_d, &p->epoch_d, ed);
    uint64_t v = horizontal ? hash_host(&s->target_key, ct->target) /* = sk_hash_addr(&s->hk) */
                            : hash_mix64(ct->port + 0x9E3779B97F4A7C15ULL);
    bool fresh = true;
    if (ins) { /* a new pair (zeroed): both current views are empty */
        hll_add_first(&p->sk_h[0], v);
        hll_add_first(&p->sk_d[0], v);
    } else {
        fresh = hll_add(&p->sk_h[0], v);
        hll_add(&p->sk_d[0], v);
    }
    if (fresh && !p->sk_h[0].dense)
        pair_sample(p, horizontal, ct);
    p->unanswered++;
    if (ct->rate > p->rate)
        p->rate = ct->rate;
    p->packets += ct->packets;
    p->bytes += ct->bytes;
    if (ct->first_ms < p->first_ms)
        p->first_ms = ct->first_ms;
    if (ct->last_ms > p->last_ms)
        p->last_ms = ct->last_ms;
    touch_pair(s, ctx, t, p, horizontal ? s->touched_h : s->touched_v,
               horizontal ? &s->ntouched_h : &s->ntouched_v);
}

static void sweep_outcome(struct scan *s, const struct contact *ct, enum outcome o)
{
    struct host_key k;
    memset(&k, 0, sizeof k);
    k.customer = ct->customer;
    memcpy(k.host, ct->host, 16);
    struct sweeper *w = ltab_find(&s->sweep, &k, key_mix(ct->salt, NULL, 0, 0));
    if (!w)
        return;
    if (o == OUT_ANSWERED)
        w->answered++;
    else if (o == OUT_UNANSWERED)
        w->unanswered++;
    else
        w->unknown++;
}

/* The outcome of one first contact. c: det_conf of the contact's customer (NULL: the outcome is
 * unknown, no options needed); h/sh may be NULL (the host left the table). */
static void apply(struct scan *s, struct det_ctx *ctx, const struct scan_conf *c, struct host *h,
                  struct scan_host *sh, const struct contact *ct, enum outcome o)
{
    s->st_out[o]++;
    if (ct->proto == 1 || ct->proto == 58)
        sweep_outcome(s, ct, o);
    if (o == OUT_UNKNOWN)
        return;
    bool failed = o == OUT_UNANSWERED;
    if (h && sh)
        trw_step(s, ctx, c, h, sh, ct, failed);
    if (!failed && sh && !sh->has_pairs)
        return; /* an answer for a host without unanswered contacts: no pair to count it in */
    if (failed && sh)
        sh->has_pairs = 1;
    pair_add(s, ctx, true, ct, failed);
    if (ct->proto == 6 || ct->proto == 17)
        pair_add(s, ctx, false, ct, failed);
}

/* ---- the join of UDP/ICMP probes and their answers ----------------------------------------- */

static bool answers_visible(const struct scan_host *sh, uint64_t t_ms)
{
    return sh && sh->last_in_s && (uint64_t)sh->last_in_s * 1000 + VISIBLE_MS >= t_ms;
}

static void pend_contact(const struct pend *p, struct contact *ct)
{
    memset(ct, 0, sizeof *ct);
    ct->customer = p->k.customer;
    ct->host = p->k.host;
    ct->target = p->k.peer;
    ct->proto = p->k.proto;
    ct->port = p->k.port;
    ct->first_ms = p->t_ms;
    ct->last_ms = p->t_ms + p->span_ms;
    ct->packets = p->packets;
    ct->bytes = p->bytes;
    ct->trw = !p->no_walk;
    ct->rate = 1;
    ct->salt = p->salt;
}

/* The host of a waiting probe, if it is still in its table slot. */
static bool pend_host(const struct pend *p, struct host **h, struct scan_host **sh)
{
    if (p->h && memcmp(p->h->addr, p->k.host, 16) == 0 && p->h->customer == p->k.customer) {
        *h = p->h;
        *sh = p->sh;
        return true;
    }
    *h = NULL;
    *sh = NULL;
    return false;
}

/* Probe record f of host h into join table entry p. */
static void pend_fill(struct pend *p, const struct flow_rec *f, uint64_t salt, struct host *h,
                      struct scan_host *sh, bool no_walk)
{
    p->state = PEND_PROBE;
    p->no_walk = no_walk;
    p->t_ms = f->first_ms;
    p->span_ms = sat32(f->last_ms > f->first_ms ? f->last_ms - f->first_ms : 0);
    p->salt = salt;
    p->packets = sat32(f->packets);
    p->bytes = sat32(f->bytes);
    p->h = h;
    p->sh = sh;
}

/* The outcome of probe p (a copy, or an entry of the join table or the ring; not removed here). */
static void settle(struct scan *s, struct det_ctx *ctx, const struct pend *p, enum outcome o)
{
    struct host *h;
    struct scan_host *sh;
    bool alive = pend_host(p, &h, &sh);
    if (o == OUT_UNANSWERED && !(alive && answers_visible(sh, p->t_ms)))
        o = OUT_UNKNOWN;
    struct contact ct;
    pend_contact(p, &ct); /* points into p: apply keeps to the other tables */
    apply(s, ctx, det_conf(ctx, ct.customer), h, sh, &ct, o);
}

/* A probe (or an answer seen first) pushed out by the table bound: its outcome is unknown. */
static void pend_evicted(struct scan *s, struct det_ctx *ctx, const struct pend *old)
{
    s->st_pend_evicted++;
    if (old->state == PEND_PROBE)
        settle(s, ctx, old, OUT_UNKNOWN);
}

/* Answered probe p (a join table entry, copied) waits in the ring for the close that settles
 * the probes of its time, so that a host's outcomes reach the walk and the pairs in the order
 * of its probes: an answer is known at once, silence only answer_wait later, and taking the
 * answers as they come put them all before the silent probes between them (a resolver whose
 * queries one in twenty go unanswered read as 150 unanswered in a row). A full ring settles its
 * oldest at once (counted). */
static void done_push(struct scan *s, struct det_ctx *ctx, const struct pend *p)
{
    if (s->done_n == s->done_cap) {
        struct pend old = s->done[s->done_head];
        s->done_head = (s->done_head + 1) % s->done_cap;
        s->done_n--;
        s->st_done_early++;
        settle(s, ctx, &old, OUT_ANSWERED);
    }
    s->done[(s->done_head + s->done_n) % s->done_cap] = *p;
    s->done_n++;
}

/* Is UDP record f an NTP daemon's request to a server: NTP-sized, from port 123 to port 123?
 * ntpd (RFC 5905 symmetric and client modes) sends from its own port; a pool server that left
 * the pool, rate-limits or sits behind a filter of UDP/123 stays silent, so a host's daemon
 * can try a few dozen servers a day, most of them unanswered, and the sequential test, whose
 * model is that a benign host's first contacts are mostly answered, would call it a scanner
 * (IoT-23 Torii's host: 21 of 31 unanswered). Scanners of NTP send from any port; a sweep from
 * port 123 still fills the horizontal and vertical counts, which take these probes. */
static bool time_client(const struct flow_rec *f)
{
    return f->proto == 17 && f->sport == DET_NTP_PORT && f->dport == DET_NTP_PORT &&
           det_ntp_sized(addr_is_v4(f->src), f->bytes, f->packets);
}

/* hv: the key's key_mix (rec_mix); salt: the host's (salt_of(h->addr)). */
static void pend_probe(struct scan *s, struct det_ctx *ctx, struct host *h, struct scan_host *sh,
                       const struct flow_rec *f, uint16_t port, uint64_t hv, uint64_t salt)
{
    bool no_walk = time_client(f);
    s->st_time_client += no_walk;
    struct pend_key k;
    memset(&k, 0, sizeof k);
    k.customer = h->customer;
    memcpy(k.host, h->addr, 16);
    memcpy(k.peer, f->dst, 16);
    k.port = port;
    k.proto = f->proto;
    bool ins, ev;
    struct pend old;
    struct pend *p = ltab_get(&s->pend, &k, hv, &ins, &old, &ev);
    if (ev)
        pend_evicted(s, ctx, &old);
    if (!ins) {
        if (p->state == PEND_ANSWER) { /* the answer came first */
            pend_fill(p, f, salt, h, sh, no_walk);
            done_push(s, ctx, p);
            ltab_remove(&s->pend, p);
        }
        return; /* a second probe of a waiting one: not a first contact */
    }
    pend_fill(p, f, salt, h, sh, no_walk);
}

/* hv: the key's key_mix (rec_mix). */
static void pend_answer(struct scan *s, struct det_ctx *ctx, struct host *h, struct scan_host *sh,
                        const struct flow_rec *f, uint16_t port, uint64_t hv, bool may_wait)
{
    struct pend_key k;
    memset(&k, 0, sizeof k);
    k.customer = h->customer;
    memcpy(k.host, h->addr, 16);
    memcpy(k.peer, f->src, 16);
    k.port = port;
    k.proto = f->proto;
    /* one walk of the bucket: an answer that may wait is found or inserted at once */
    bool ins = false, ev = false;
    struct pend old;
    struct pend *p =
        may_wait ? ltab_get(&s->pend, &k, hv, &ins, &old, &ev) : ltab_find(&s->pend, &k, hv);
    if (ev)
        pend_evicted(s, ctx, &old);
    if (ins) {
        p->state = PEND_ANSWER;
        p->t_ms = f->first_ms;
        s->st_pend_answer_only++;
    } else if (p && p->state == PEND_PROBE) {
        done_push(s, ctx, p);
        ltab_remove(&s->pend, p);
    }
}

/* The sort key of probe p settled at a close whose probes start at base or later: its time
 * after base in ms, 26 bits (18 hours: a close settles probes of answer_wait and one window;
 * later ones share the last value). */
static uint32_t due_key(const struct pend *p, uint64_t base)
{
    uint64_t t = p->t_ms > base ? p->t_ms - base : 0;
    return t < (1u << 2 * DUE_BITS) ? (uint32_t)t : (1u << 2 * DUE_BITS) - 1;
}

/* Sort d[0..n) by key, stably (a radix sort of two DUE_BITS digits; tmp as large; cnt
 * 2^DUE_BITS counters): entries of one time keep the order they were gathered in, the join
 * table's (the probes' arrival) and then the ring's (the answers'), so a host's outcomes are
 * in the order of its probes' times, and at one time in the order of its own records, whatever
 * other hosts' records came between. Linear in n. */
static void due_sort(struct due *d, struct due *tmp, uint32_t *cnt, size_t n)
{
    for (unsigned sh = 0; sh < 2 * DUE_BITS; sh += DUE_BITS) {
        const uint32_t m = (1u << DUE_BITS) - 1;
        memset(cnt, 0, sizeof *cnt << DUE_BITS);
        for (size_t i = 0; i < n; i++)
            cnt[d[i].key >> sh & m]++;
        if (n == 0 || cnt[d[0].key >> sh & m] == n)
            continue;
        uint32_t at = 0;
        for (uint32_t b = 0; b <= m; b++) {
            uint32_t c = cnt[b];
            cnt[b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[d[i].key >> sh & m]++] = d[i];
        memcpy(d, tmp, n * sizeof *d);
    }
}

static bool in_ring(const struct scan *s, const struct pend *p)
{
    return p >= s->done && p < s->done + s->done_cap;
}

static bool pend_due(const struct pend *p, struct det_ctx *ctx)
{
    const struct scan_conf *c = det_conf(ctx, p->k.customer);
    return ctx->last_close || p->t_ms + c->answer_wait * 1000 <= ctx->win_end_ms;
}

/* Window close: every probe answer_wait older than the window's end is settled, wherever it is
 * in arrival order: records arrive at export, not in start order, and arrival order across
 * hosts is the input's interleaving (another with N workers, or scaled out on Kafka), so an
 * entry not due yet must not hold back the due ones behind it (a host's outcomes would then
 * depend on other hosts' records). The unanswered probes of the join table (one pass over the
 * entries there were at the start, oldest first: one not due yet is made the newest, so those
 * kept stay in their order and the table's eviction order is unchanged) and the answered ones
 * of the ring are settled together in the order of the probes' times (due_sort). The last
 * close (no record follows) settles every probe by what was seen, as a TCP attempt is judged by
 * its record: an analyst's capture that ends within answer_wait of a window's end keeps its
 * last probes. */
static void pend_settle(struct scan *s, struct det_ctx *ctx)
{
    size_t nd = 0, n = s->pend.n;
    uint64_t base = ctx->win_start_ms > 3600000 ? ctx->win_start_ms - 3600000 : 0;
    for (struct pend *p; n-- > 0 && (p = ltab_oldest(&s->pend));) {
        ltab_ahead(&s->pend);
        bool due = pend_due(p, ctx);
        if (due && p->state != PEND_PROBE) { /* an answer whose probe never came */
            ltab_remove(&s->pend, p);
            continue;
        }
        ltab_touch(&s->pend, p); /* kept in order; a due probe is removed once settled */
        if (due)
            s->due[nd++] = (struct due){due_key(p, base), p};
    }
    for (size_t i = 0; i < s->done_n; i++) {
        struct pend *p = &s->done[(s->done_head + i) % s->done_cap];
        if (pend_due(p, ctx))
            s->due[nd++] = (struct due){due_key(p, base), p};
    }
    due_sort(s->due, s->due_tmp, s->due_cnt, nd);
    for (size_t i = 0; i < nd; i++)
        settle(s, ctx, s->due[i].p, in_ring(s, s->due[i].p) ? OUT_ANSWERED : OUT_UNANSWERED);
    for (size_t i = 0; i < nd; i++)
        if (!in_ring(s, s->due[i].p))
            ltab_remove(&s->pend, s->due[i].p);
    size_t keep = 0; /* the ring without the settled ones, in its order */
    for (size_t i = 0; i < s->done_n; i++) {
        struct pend *p = &s->done[(s->done_head + i) % s->done_cap];
        if (!pend_due(p, ctx))
            s->done[(s->done_head + keep++) % s->done_cap] = *p;
    }
    s->done_n = keep;
}

/* ---- ICMP echo bursts ------------------------------------------------------------------------ */

static void sweep_probe(struct scan *s, struct det_ctx *ctx, const struct scan_conf *c,
                        struct host *h, struct scan_host *sh, const struct flow_rec *f)
{
    struct host_key k;
    memset(&k, 0, sizeof k);
    k.customer = h->customer;
    memcpy(k.host, h->addr, 16);
    bool ins;
    struct sweeper *w =
        ltab_get(&s->sweep, &k, key_mix(salt_of(s, ctx, h->addr), NULL, 0, 0), &ins, NULL, NULL);
    uint64_t win = c->icmp_burst_window * 1000, t = f->first_ms;
    if (ins)
        w->bucket_start_ms = t / win * win;
    ltab_touch(&s->sweep, w);
    if (t >= w->bucket_start_ms + win) { /* slide the burst buckets */
        uint64_t start = t / win * win;
        w->prev = start == w->bucket_start_ms + win ? w->cur : 0;
        w->cur = 0;
        w->bucket_start_ms = start;
    }
    if (w->probes && t > w->last_ms + VISIBLE_MS) { /* a new episode after an hour of quiet */
        uint64_t bs = w->bucket_start_ms;
        uint32_t cur = w->cur, prev = w->prev;
        memset((uint8_t *)w + sizeof w->k, 0, sizeof *w - sizeof w->k);
        w->bucket_start_ms = bs;
        w->cur = cur;
        w->prev = prev;
    }
    w->cur++;
    /* sliding estimate: this bucket plus the part of the previous one still in the window */
    double frac = t >= w->bucket_start_ms ? (double)(t - w->bucket_start_ms) / (double)win : 0;
    uint32_t est = w->cur + (uint32_t)(w->prev * (1.0 - frac) + 0.5);
    if (est > w->peak)
        w->peak = est;
    if (!w->probes || f->first_ms < w->first_ms)
        w->first_ms = f->first_ms;
    if (f->last_ms > w->last_ms)
        w->last_ms = f->last_ms;
    w->probes++;
    w->packets += f->packets;
    w->bytes += f->bytes;
    if (w->nsample < SCAN_SAMPLES)
        memcpy(w->sample[w->nsample++], f->dst, 16);
    if (w->peak >= c->icmp_burst && !sh->icmp_cand) {
        if (cand_of(s, ctx, h, sh))
            sh->icmp_cand = 1;
    }
}

/* ---- records ------------------------------------------------------------------------------- */

static bool is_echo_request(const struct flow_rec *f)
{
    unsigned type = f->dport >> 8;
    return (f->proto == 1 && type == 8) || (f->proto == 58 && type == 128);
}

static bool is_echo_reply(const struct flow_rec *f)
{
    unsigned type = f->dport >> 8;
    return (f->proto == 1 && type == 0) || (f->proto == 58 && type == 129);
}

static bool is_icmp_error(const struct flow_rec *f)
{
    unsigned type = f->dport >> 8;
    return (f->proto == 1 && (type == 3 || type == 11)) ||
           (f->proto == 58 && (type == 1 || type == 3));
}

/* TCP: answered when the initiator's flags show the completed handshake (see the top). */
static enum outcome tcp_outcome(const struct flow_rec *f)
{
    return det_tcp_answered(f) ? OUT_ANSWERED : OUT_UNANSWERED;
}

/* Packet-sampled TCP, and TCP records of one packet at 1:1 (sFlow, IPFIX packet sections:
 * det_flow_whole false): a first contact's packet is a SYN for an answered connection as
 * often as for a probe (every connection starts with one), so its outcome says little; what
 * tells a client from a scanner is the share of its sampled packets to the port (target) that
 * are unanswered SYNs: about 1/k for a client of k-packet connections, 1 for a scanner. So a
 * sampled packet that is not a first contact but answered (it carries ACK) counts as answered
 * in the host's pairs that exist: the unanswered share becomes that share of packets. So does
 * one whose ports cannot say who opened the connection (two dynamic ports: scan_on_flow takes
 * no attempt of it), or a P2P client's SYNs to peers' ports would count and its ACKs not. */
static void sampled_answer(struct scan *s, struct det_ctx *ctx, struct host *h,
                           struct scan_host *sh, const struct flow_rec *f, uint16_t port)
{
    if (det_flow_whole(f) || f->proto != 6 || !sh->has_pairs || !(f->tcp_flags & 0x10))
        return;
    struct contact ct = {.customer = h->customer,
                         .host = h->addr,
                         .target = f->dst,
                         .proto = f->proto,
                         .port = port,
                         .rate = f->sampling,
                         .salt = salt_of(s, ctx, h->addr)};
    pair_add(s, ctx, true, &ct, false);
    pair_add(s, ctx, false, &ct, false);
}

/* The first-contact filter's hash of a contact whose key_mix is x (the pending table's). */
static uint64_t contact_hash(uint64_t x)
{
    return hash_mix64(x + 0x9E3779B97F4A7C15ULL);
}

/* An outbound attempt's keys: its host's salt, its key_mix x (the pending table's), the
 * first-contact filter's hash c of x and c's word in the filter. */
struct attempt {
    uint64_t salt, x, c;
    size_t word;
};

/* The attempt of record f (its host addr, target, port, protocol): the prefetch pass's when it
 * kept one (and then the instance's last salt becomes addr's, as in rec_mix), else computed. */
static struct attempt attempt_of(struct scan *s, const struct det_ctx *ctx,
                                 const struct flow_rec *f, const uint8_t addr[16], uint16_t port)
{
    const uint64_t *v;
    struct attempt a = {.x = rec_mix(s, ctx, f, addr, f->dst, port, f->proto, &v)};
    a.salt = s->salt; /* addr's: rec_mix made it the instance's last */
    if (v)
        return (struct attempt){.salt = a.salt, .x = a.x, .c = v[3], .word = (size_t)v[2]};
    a.c = contact_hash(a.x);
    a.word = gfilter_word(&s->contacts, a.c);
    return a;
}

/* Is the attempt's contact (host, target, protocol, port) new in the filter's horizon? */
static bool first_contact(struct scan *s, const struct attempt *a)
{
    return !gfilter_test_and_set_at(&s->contacts, a->word, a->c);
}

/* The worker's prefetch pass (detector_ops.prefetch): the first-contact filter's line of an
 * outbound attempt, the pending table's bucket of an inbound answer, and the host's salt kept
 * and the contact's key_mix kept for on_flow (rec_mix), with an attempt's filter hash and word
 * (attempt_of). */
static void scan_prefetch(void *self, size_t i, const struct flow_rec *f, uint64_t host_hash)
{
    struct scan *s = self;
    bool in = f->dir == FLOW_DIR_IN, echo = in ? is_echo_reply(f) : is_echo_request(f);
    if (!echo && (in ? f->proto != 17 || !f->sport : f->proto != 6 && f->proto != 17)) {
        det_memo_none(&s->memo, i);
        return; /* on_flow looks nothing up for it */
    }
    uint64_t salt = salt_hash(s, host_hash);
    /* the pending table's hash of an answer's key, or of an attempt's (its probe's) */
    uint64_t x = in ? key_mix(salt, f->src, echo ? 0 : f->sport, f->proto)
                    : key_mix(salt, f->dst, echo ? 0 : f->dport, f->proto);
    if (in || f->proto != 6) /* answers, UDP and echo probes look up the pending table */
        ltab_prefetch(&s->pend, x);
    uint64_t *v = det_memo_put(&s->memo, i, f);
    if (v) {
        v[0] = salt;
        v[1] = x;
    }
    if (!in) { /* the first-contact filter's hash and word, kept for attempt_of */
        uint64_t c = contact_hash(x);
        size_t word = gfilter_word(&s->contacts, c);
        gfilter_prefetch_word(&s->contacts, word);
        if (v) {
            v[2] = word;
            v[3] = c;
        }
    }
}

/* Whether a record whose starter nobody can tell (FLOW_INIT_UNKNOWN) counts as the host's
 * attempt: a whole TCP record (not a sampled packet) whose connection completed, between ports
 * that do not say who started it (both dynamic: a P2P client and its peer), from an
 * exporter that does not say either (NetFlow v5). Its unanswered attempts always say so (a SYN
 * without ACK), so leaving these out would show a host's failures and not its successes: such
 * a connection counts as an answered attempt of the host's. When the peer started it the host
 * gains a success it did not try, which lowers its evidence; no scan is made of it. */
static bool unknown_answered(const struct flow_rec *f)
{
    return f->proto == 6 && det_flow_whole(f) && det_tcp_answered(f);
}

static void scan_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                         const struct flow_rec *f)
{
    struct scan *s = self;
    struct scan_host *sh = hstate;
    if (f->dir == FLOW_DIR_IN) {
        uint32_t ls = (uint32_t)(f->last_ms / 1000);
        if (ls > sh->last_in_s)
            sh->last_in_s = ls;
        enum flow_init w = f->proto == 17 ? det_initiator(ctx, f, NULL) : FLOW_INIT_UNKNOWN;
        bool udp = f->proto == 17 && f->sport && w != FLOW_INIT_SRC;
        if (udp || is_echo_reply(f)) {
            uint16_t port = udp ? f->sport : 0;
            uint64_t x = rec_mix(s, ctx, f, h->addr, f->src, port, f->proto, NULL);
            pend_answer(s, ctx, h, sh, f, port, x, !udp || w == FLOW_INIT_DST);
        } else if (is_icmp_error(f))
            s->st_icmp_errors++; /* not an answer: the probe stays unanswered */
        return;
    }
    /* OUT or INTERNAL: the host is the record's source */
    bool icmp = is_echo_request(f);
    if (!icmp && (f->proto != 6 && f->proto != 17))
        return;
    if (!icmp) {
        enum flow_init who = det_initiator(ctx, f, NULL);
        if (who != FLOW_INIT_SRC && !(who == FLOW_INIT_UNKNOWN && unknown_answered(f))) {
            if (who == FLOW_INIT_UNKNOWN) /* a sampled packet with ACK: its pairs' answer */
                sampled_answer(s, ctx, h, sh, f, f->dport);
            return; /* the host answering, or nobody can tell: not an attempt */
        }
    }
    const struct scan_conf *c = det_conf(ctx, h->customer);
    uint16_t port = icmp ? 0 : f->dport;
    if (f->proto == 6 && portlist_has(&c->ignore_ports, port))
        return;
    if (f->proto == 17 && portlist_has(&c->ignore_udp_ports, port)) {
        s->st_udp_ignored++; /* a traceroute's probe, by default */
        return;
    }
    s->st_attempts++;
    struct attempt a = attempt_of(s, ctx, f, h->addr, port);
    if (!first_contact(s, &a)) {
        sampled_answer(s, ctx, h, sh, f, port);
        return;
    }
    s->st_first++;
    if (icmp)
        sweep_probe(s, ctx, c, h, sh, f);
    if (f->proto != 6 && unsampled(f)) { /* UDP, ICMP echo: the outcome is the answer's (join) */
        pend_probe(s, ctx, h, sh, f, port, a.x, a.salt);
        return;
    }
    /* TCP: the record's flags say; sampled UDP, ICMP echo: unknown */
    struct contact ct = {
        .customer = h->customer,
        .host = h->addr,
        .target = f->dst,
        .proto = f->proto,
        .port = port,
        .first_ms = f->first_ms,
        .last_ms = f->last_ms,
        .packets = f->packets,
        .bytes = f->bytes,
        .trw = f->proto == 6 ? det_flow_whole(f) : unsampled(f), /* TCP: flags of one packet? */
        .rate = f->sampling > 1 ? f->sampling : 1,
        .salt = a.salt,
    };
    apply(s, ctx, c, h, sh, &ct, f->proto == 6 ? tcp_outcome(f) : OUT_UNKNOWN);
}

/* ---- window close ------------------------------------------------------------------------ */

static const char *proto_str(uint8_t p)
{
    return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : p == 58 ? "ipv6-icmp" : "other";
}

static void raise_scan(struct scan *s, struct det_ctx *ctx, int rule, uint32_t customer,
                       const uint8_t host[16], const uint8_t *peer, uint8_t proto, uint16_t port,
                       enum alert_severity sev, double score, uint64_t flows, uint64_t packets,
                       uint64_t bytes, uint64_t first_ms, uint64_t last_ms, const char *ev)
{
    static const char *const ids[4] = {"scan.horizontal", "scan.vertical", "scan.trw",
                                       "scan.icmp_sweep"};
    struct alert a = {
        .detector = "scan",
        .rule_id = ids[rule], /* name, category: core/rules.c */
        .severity = sev,
        .score = score > 1 ? 1 : score,
        .customer = customer,
        .has_host = true,
        .has_peer = peer != NULL,
        .host_is_source = true,
        .proto = proto,
        .port = port,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = first_ms,
        .last_ms = last_ms,
        .flows = flows,
        .packets = packets,
        .bytes = bytes,
        .evidence_json = ev,
    };
    memcpy(a.host, host, 16);
    if (peer)
        memcpy(a.peer, peer, 16);
    s->st_alerts[rule]++;
    if (rule <= 1) { /* remember the host: its sequential verdict is the same event */
        struct host_key *k = &s->alerted[s->nalerted++];
        memset(k, 0, sizeof *k);
        k->customer = customer;
        memcpy(k->host, host, 16);
    }
    det_alert(ctx, &a);
}

static int host_cmp(const void *pa, const void *pb)
{
    const struct host_key *a = pa, *b = pb;
    int c = (a->customer > b->customer) - (a->customer < b->customer);
    return c ? c : memcmp(a->host, b->host, 16);
}

struct judged {
    uint32_t hour, day;
    double share;
    bool cross;
    bool exact;                  /* hour and day are exact counts, not HyperLogLog estimates */
    uint32_t thr_h, thr_d, high; /* thresholds in force (scaled when sampled) */
    double scale;                /* det_sampled_scale of the pair's rate */
};

/* thr_h, thr_d, high: as configured; under sampling all three are scaled by one factor (detector.h
 * det_sampled_scale, base thr_h). */
static struct judged judge(const struct pair *p, struct det_ctx *ctx, const struct scan_conf *c,
                           uint32_t thr_h, uint32_t thr_d, uint32_t high)
{
    struct judged j;
    j.scale = det_sampled_scale(p->rate, c->sampled_packets, c->sampled_min,
                                thr_h < thr_d ? thr_h : thr_d);
    j.thr_h = det_scaled(thr_h, j.scale);
    j.thr_d = det_scaled(thr_d, j.scale);
    j.high = det_scaled(high, j.scale);
    thr_h = j.thr_h;
    thr_d = j.thr_d;
    double fail_min = c->fail_min;
    uint64_t all = (uint64_t)p->unanswered + p->answered;
    j.share = all ? (double)p->unanswered / (double)all : 0;
    j.exact = true;
    if (p->unanswered < thr_h && p->unanswered < thr_d) {
        /* the views never count more than the pair's unanswered contacts (view_count's most):
         * it cannot cross, its counts (most pairs': one contact) are not needed */
        j.hour = j.day = 0;
        j.cross = false;
        return j;
    }
    j.hour = view_count(p->sk_h, p->epoch_h, epoch_h(ctx), p->unanswered, &j.exact);
    j.day = view_count(p->sk_d, p->epoch_d, epoch_d(ctx), p->unanswered, &j.exact);
    if (j.hour > j.day)
        j.day = j.hour;
    j.cross = (j.hour >= thr_h || j.day >= thr_d) && j.share >= fail_min;
    if (p->rate > 1 && j.cross) /* the packet that made the pair is no draw (see the top) */
        j.cross = det_sampled_unlikely_client(p->unanswered - 1, all - 1, c->trw_alpha);
    return j;
}

/* Could pair p cross thresholds thr_h/thr_d (as configured)? Judge's early answer without the
 * call, for most pairs: unsampled, the thresholds in force are as configured (at least 1) and the
 * views never count more than the unanswered contacts; sampled ones are judge's to scale. */
static bool may_cross(const struct pair *p, uint32_t thr_h, uint32_t thr_d)
{
    return p->rate > 1 || p->unanswered >= thr_h || p->unanswered >= thr_d;
}

/* The thresholds in force for a pair's evidence; under sampling the rate and the scale too. */
static void thresholds_json(struct json *j, const struct pair *p, const struct judged *jd)
{
    json_u64(j, "threshold_hour", jd->thr_h);
    json_u64(j, "threshold_day", jd->thr_d);
    if (p->rate > 1) {
        json_u64(j, "sampling_rate", p->rate);
        json_double(j, "threshold_scale", jd->scale, 4);
    }
}

static int sel_host_cmp(const void *pa, const void *pb)
{
    const struct sel *a = pa, *b = pb;
    int c = (a->customer > b->customer) - (a->customer < b->customer);
    return c ? c : memcmp(a->host, b->host, 16);
}

static int sel_cmp(const void *pa, const void *pb)
{
    const struct sel *a = pa, *b = pb;
    int c = sel_host_cmp(a, b);
    if (!c) /* strongest first: the most unanswered targets over the day, then the hour */
        c = (a->day < b->day) - (a->day > b->day);
    if (!c)
        c = (a->hour < b->hour) - (a->hour > b->hour);
    if (!c)
        c = (a->proto > b->proto) - (a->proto < b->proto);
    if (!c)
        c = (a->port > b->port) - (a->port < b->port);
    return c;
}

/* For each host of s->sel (sorted by host), on its first entry: the distinct unanswered targets
 * of all its pairs in the table, every port, in the hour and the day views. One pass over the
 * table at a close that has crossings (few do); a pair evicted earlier is not counted (the
 * spread looks smaller than it was: the alert stands). */
static void host_spread(struct scan *s, struct det_ctx *ctx)
{
    uint32_t eh = epoch_h(ctx), ed = epoch_d(ctx);
    for (size_t i = 0; i < s->nsel; i++)
        s->sel[i].all_hour = s->sel[i].all_day = 0;
    for (size_t i = 0; i < s->hz.used; i++) {
        const struct pair *p = ltab_entry(&s->hz, i);
        if (!p->k.customer)
            continue; /* free */
        struct sel k;
        k.customer = p->k.customer;
        memcpy(k.host, p->k.host, 16);
        struct sel *e = bsearch(&k, s->sel, s->nsel, sizeof *s->sel, sel_host_cmp);
        if (!e)
            continue;
        while (e > s->sel && sel_host_cmp(e - 1, &k) == 0)
            e--;
        e->all_hour += view_count(p->sk_h, p->epoch_h, eh, p->unanswered, NULL);
        e->all_day += view_count(p->sk_d, p->epoch_d, ed, p->unanswered, NULL);
    }
}

/* A spread host's crossing ports s->sel[i..e) that stand out from its own failures: answered no
 * more often than a scanner's first contacts are (trw_theta1), e.g. a telnet sweep beside a P2P
 * client's peers. Not on packet-sampled data, whose answers are seldom seen (a sampled SYN
 * looks unanswered; UDP outcomes are unknown): a share of answers says nothing there. Moved to
 * the front, strongest first; returns how many. */
static size_t spread_keep(struct scan *s, struct det_ctx *ctx, size_t i, size_t e)
{
    size_t n = 0;
    for (size_t k = i; k < e; k++) {
        const struct pair *p = ltab_entry(&s->hz, s->sel[k].idx);
        const struct scan_conf *c = det_conf(ctx, p->k.customer);
        uint64_t all = (uint64_t)p->unanswered + p->answered;
        if (p->rate <= 1 && (double)p->answered <= c->trw_theta1 * (double)all)
            s->sel[i + n++] = s->sel[k];
    }
    return n;
}

/* One scan.horizontal per host and window: its crossing ports, the strongest first, named by
 * destination.port; sorted by host and strength so the order never depends on arrival. A scan
 * probes a service (or a few): its crossing ports hold at least half of the host's unanswered
 * targets in the hour and in the day view. A P2P client reaches each peer on the peer's own
 * port; the defaults (6881, 51413) that many peers keep cross the thresholds, with a few per
 * cent of its unanswered targets: spread, and only the ports answered no more often than a
 * scanner's contacts alert (spread_keep; the rest counted). The day view of a host whose
 * one-off ports were pushed out of a full table looks concentrated: either view spread is
 * spread. */
static void horizontal_alerts(struct scan *s, struct det_ctx *ctx)
{
    s->nsel = 0;
    for (size_t i = 0; i < s->ntouched_h; i++) {
        struct pair *p = ltab_entry(&s->hz, s->touched_h[i]);
        if (p->touched != ctx->window_no + 1 || p->evaluated == ctx->window_no + 1)
            continue;
        p->evaluated = ctx->window_no + 1;
        const struct scan_conf *c = det_conf(ctx, p->k.customer);
        if (!may_cross(p, c->h_threshold, c->h_day_threshold))
            continue;
        struct judged j = judge(p, ctx, c, c->h_threshold, c->h_day_threshold, c->h_high);
        if (!j.cross)
            continue;
        struct sel *e = &s->sel[s->nsel++];
        e->idx = s->touched_h[i];
        e->hour = j.hour;
        e->day = j.day;
        e->customer = p->k.customer;
        memcpy(e->host, p->k.host, 16);
        e->port = p->k.port;
        e->proto = p->k.proto;
    }
    qsort(s->sel, s->nsel, sizeof *s->sel, sel_cmp);
    if (s->nsel)
        host_spread(s, ctx);
    char ev[2048];
    for (size_t i = 0; i < s->nsel;) {
        size_t e = i + 1;
        uint64_t cross_h = s->sel[i].hour, cross_d = s->sel[i].day;
        while (e < s->nsel && s->sel[e].customer == s->sel[i].customer &&
               memcmp(s->sel[e].host, s->sel[i].host, 16) == 0) {
            cross_h += s->sel[e].hour;
            cross_d += s->sel[e].day;
            e++;
        }
        size_t end = e;
        if (2 * cross_h < s->sel[i].all_hour || 2 * cross_d < s->sel[i].all_day) {
            e = i + spread_keep(s, ctx, i, e);
            if (e == i) {
                s->st_h_spread++;
                i = end;
                continue;
            }
        }
        const struct pair *top = ltab_entry(&s->hz, s->sel[i].idx);
        const struct scan_conf *c = det_conf(ctx, top->k.customer);
        struct judged jt = judge(top, ctx, c, c->h_threshold, c->h_day_threshold, c->h_high);
        uint64_t flows = 0, packets = 0, bytes = 0, first = top->first_ms, last = top->last_ms;
        for (size_t k = i; k < e; k++) {
            const struct pair *q = ltab_entry(&s->hz, s->sel[k].idx);
            flows += (uint64_t)q->unanswered + q->answered;
            packets += q->packets;
            bytes += q->bytes;
            if (q->first_ms < first)
                first = q->first_ms;
            if (q->last_ms > last)
                last = q->last_ms;
        }
        uint64_t all = (uint64_t)top->unanswered + top->answered;
        double share = all ? (double)top->unanswered / (double)all : 0;
        struct json j;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_str(&j, "protocol", proto_str(top->k.proto));
        json_u64(&j, "port", top->k.port);
        json_u64(&j, "distinct_targets_hour", s->sel[i].hour);
        json_u64(&j, "distinct_targets_day", s->sel[i].day);
        json_bool(&j, "exact", jt.exact);
        json_u64(&j, "unanswered", top->unanswered);
        json_u64(&j, "answered", top->answered);
        json_double(&j, "unanswered_share", share, 3);
        json_arr_open(&j, "sample_targets");
        for (unsigned k = 0; k < top->nsample && k < SCAN_SAMPLES; k++)
            json_addr(&j, NULL, top->sample[k]);
        json_arr_close(&j);
        json_arr_open(&j, "ports");
        for (size_t k = i; k < e && k < i + SCAN_PORTS_SHOWN; k++) {
            json_obj_open(&j, NULL);
            json_str(&j, "protocol", proto_str(s->sel[k].proto));
            json_u64(&j, "port", s->sel[k].port);
            json_u64(&j, "distinct_targets_hour", s->sel[k].hour);
            json_u64(&j, "distinct_targets_day", s->sel[k].day);
            json_obj_close(&j);
        }
        json_arr_close(&j);
        json_u64(&j, "ports_crossing", e - i);
        thresholds_json(&j, top, &jt);
        json_u64(&j, "packets", packets);
        json_u64(&j, "bytes", bytes);
        json_obj_close(&j);
        uint32_t d = s->sel[i].day;
        bool high = d >= jt.high;
        raise_scan(s, ctx, 0, top->k.customer, top->k.host, NULL, top->k.proto, top->k.port,
                   high ? SEV_HIGH : SEV_MEDIUM,
                   0.5 + 0.25 * share + 0.25 * (high ? 1.0 : (double)d / jt.high), flows, packets,
                   bytes, first, last, json_error(&j) ? NULL : ev);
        i = end;
    }
}

static void vertical_alerts(struct scan *s, struct det_ctx *ctx)
{
    char ev[1536];
    for (size_t i = 0; i < s->ntouched_v; i++) {
        struct pair *p = ltab_entry(&s->vt, s->touched_v[i]);
        if (p->touched != ctx->window_no + 1 || p->evaluated == ctx->window_no + 1)
            continue;
        p->evaluated = ctx->window_no + 1;
        const struct scan_conf *c = det_conf(ctx, p->k.customer);
        if (!may_cross(p, c->v_threshold, c->v_day_threshold))
            continue;
        struct judged jd = judge(p, ctx, c, c->v_threshold, c->v_day_threshold, c->v_high);
        if (!jd.cross)
            continue;
        struct json j;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_str(&j, "protocol", proto_str(p->k.proto));
        json_addr(&j, "target", p->k.other);
        json_u64(&j, "distinct_ports_hour", jd.hour);
        json_u64(&j, "distinct_ports_day", jd.day);
        json_bool(&j, "exact", jd.exact);
        json_u64(&j, "unanswered", p->unanswered);
        json_u64(&j, "answered", p->answered);
        json_double(&j, "unanswered_share", jd.share, 3);
        json_arr_open(&j, "sample_ports");
        for (unsigned k = 0; k < p->nsample && k < SCAN_SAMPLES * 2; k++)
            json_u64(&j, NULL, p->sample_port[k]);
        json_arr_close(&j);
        thresholds_json(&j, p, &jd);
        json_u64(&j, "packets", p->packets);
        json_u64(&j, "bytes", p->bytes);
        json_obj_close(&j);
        bool high = jd.day >= jd.high;
        raise_scan(s, ctx, 1, p->k.customer, p->k.host, p->k.other, p->k.proto, 0,
                   high ? SEV_HIGH : SEV_MEDIUM,
                   0.5 + 0.25 * jd.share + 0.25 * (high ? 1.0 : (double)jd.day / jd.high),
                   (uint64_t)p->unanswered + p->answered, p->packets, p->bytes, p->first_ms,
                   p->last_ms, json_error(&j) ? NULL : ev);
    }
}

static void trw_alert(struct scan *s, struct det_ctx *ctx, const struct cand *cd)
{
    struct scan_host *sh = cd->sh;
    const struct scan_conf *c = det_conf(ctx, cd->customer);
    int top = sh->port_n[0] >= sh->port_n[1] ? 0 : 1;
    uint32_t all = (uint32_t)sh->walk_failed + sh->walk_answered;
    double share = all ? (double)sh->walk_failed / all : 0;
    double hi = trw_bound(c);
    char ev[1536];
    struct json j;
    json_init(&j, ev, sizeof ev);
    json_obj_open(&j, NULL);
    json_u64(&j, "first_contacts", all);
    json_u64(&j, "unanswered", sh->walk_failed);
    json_u64(&j, "answered", sh->walk_answered);
    json_double(&j, "unanswered_share", share, 3);
    json_double(&j, "log_likelihood_ratio", sh->llr, 2);
    json_double(&j, "threshold", hi, 2);
    json_arr_open(&j, "ports");
    for (int k = 0; k < 2; k++) {
        int i = k == 0 ? top : 1 - top;
        if (sh->port_n[i] < 2) /* a lower bound of one names no port the walk kept to */
            continue;
        json_obj_open(&j, NULL);
        json_str(&j, "protocol", proto_str(sh->port_proto[i]));
        json_u64(&j, "port", sh->port[i]);
        json_u64(&j, "unanswered", sh->port_n[i]);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_arr_open(&j, "sample_targets");
    for (unsigned k = 0; k < cd->nsample; k++)
        json_addr(&j, NULL, cd->sample[k]);
    json_arr_close(&j);
    json_u64(&j, "min_unanswered", c->trw_min_failed);
    json_u64(&j, "packets", sh->walk_packets);
    json_u64(&j, "bytes", sh->walk_bytes);
    json_obj_close(&j);
    bool named = sh->port_n[top] >= 2;
    raise_scan(s, ctx, 2, cd->customer, cd->addr, NULL, named ? sh->port_proto[top] : 0,
               named ? sh->port[top] : 0, SEV_MEDIUM, 0.5 + 0.5 * share, all, sh->walk_packets,
               sh->walk_bytes, (uint64_t)sh->walk_first_s * 1000, (uint64_t)sh->walk_last_s * 1000,
               json_error(&j) ? NULL : ev);
}

/* Whether these outcomes make an ICMP sweep (w's burst, c's thresholds). */
static bool sweep_is(const struct sweeper *w, const struct scan_conf *c, uint32_t answered,
                     uint32_t unanswered)
{
    uint32_t known = answered + unanswered;
    return w->peak >= c->icmp_burst && known && unanswered >= c->icmp_unanswered_min &&
           (double)unanswered / known >= c->icmp_fail_min;
}

/* The ICMP sweep of a candidate: 1 alerted (episode over), 0 not a sweep (dropped), -1 not
 * decided yet. An answer settles its probe at once, silence only answer_wait later, so while
 * probes wait the outcomes seen lean towards answered: the verdict is taken once the waiting
 * probes cannot change it (the same whether all of them end answered or all unanswered), or
 * at the last close (nothing is waiting for a later one). */
static int sweep_verdict(struct scan *s, struct det_ctx *ctx, const struct cand *cd)
{
    struct host_key k;
    memset(&k, 0, sizeof k);
    k.customer = cd->customer;
    memcpy(k.host, cd->addr, 16);
    struct sweeper *w = ltab_find(&s->sweep, &k, key_mix(salt_of(s, ctx, cd->addr), NULL, 0, 0));
    if (!w)
        return 0;
    const struct scan_conf *c = det_conf(ctx, cd->customer);
    uint32_t settled = w->answered + w->unanswered + w->unknown;
    uint32_t waiting = w->probes > settled ? w->probes - settled : 0;
    bool sweep = sweep_is(w, c, w->answered + waiting, w->unanswered);
    if (waiting && !ctx->last_close &&
        sweep != sweep_is(w, c, w->answered, w->unanswered + waiting))
        return -1;
    uint32_t known = w->answered + w->unanswered;
    double share = known ? (double)w->unanswered / known : 0;
    int r = 0;
    if (sweep) {
        char ev[1024];
        struct json j;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_u64(&j, "distinct_targets", w->probes);
        json_u64(&j, "peak_in_window", w->peak);
        json_u64(&j, "window_s", c->icmp_burst_window);
        json_u64(&j, "answered", w->answered);
        json_u64(&j, "unanswered", w->unanswered);
        json_u64(&j, "unknown", w->unknown);
        json_u64(&j, "waiting", waiting);
        json_double(&j, "unanswered_share", share, 3);
        json_arr_open(&j, "sample_targets");
        for (unsigned i = 0; i < w->nsample; i++)
            json_addr(&j, NULL, w->sample[i]);
        json_arr_close(&j);
        json_u64(&j, "threshold", c->icmp_burst);
        json_u64(&j, "threshold_unanswered", c->icmp_unanswered_min);
        json_u64(&j, "packets", w->packets);
        json_u64(&j, "bytes", w->bytes);
        json_obj_close(&j);
        uint8_t proto = addr_is_v4(cd->addr) ? 1 : 58;
        raise_scan(s, ctx, 3, cd->customer, cd->addr, NULL, proto, 0, SEV_MEDIUM, 0.5 + 0.5 * share,
                   w->probes, w->packets, w->bytes, w->first_ms, w->last_ms,
                   json_error(&j) ? NULL : ev);
        r = 1;
    }
    ltab_remove(&s->sweep, w); /* decided: the next burst is a new episode */
    return r;
}

/* Whether one of the walk's sampled targets (those after its crossing) holds at least half of
 * its unanswered contacts: a vertical scan's walk spreads over ports but not over addresses
 * (its target's distinct unanswered ports, the vertical table's day view, count them). */
static bool walk_shares_target(struct scan *s, struct det_ctx *ctx, const struct cand *cd)
{
    static const uint8_t protos[2] = {6, 17};
    uint64_t salt = salt_of(s, ctx, cd->addr);
    for (unsigned i = 0; i < cd->nsample; i++)
        for (int k = 0; k < 2; k++) {
            struct pair_key key;
            pair_key_set(&key, cd->customer, cd->addr, cd->sample[i], 0, protos[k]);
            const struct pair *p =
                ltab_find(&s->vt, &key, key_mix(salt, cd->sample[i], 0, protos[k]));
            if (p && 2ull * view_count(p->sk_d, p->epoch_d, epoch_d(ctx), p->unanswered, NULL) >=
                         cd->sh->walk_failed)
                return true;
        }
    return false;
}

static void candidates(struct scan *s, struct det_ctx *ctx)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->ncand; i++) {
        struct cand cd = s->cands[i];
        struct scan_host *sh = cd.sh;
        if (memcmp(cd.h->addr, cd.addr, 16) != 0 || cd.h->customer != cd.customer)
            continue; /* the host left the table */
        if (sh->trw_due) {
            struct host_key k;
            memset(&k, 0, sizeof k);
            k.customer = cd.customer;
            memcpy(k.host, cd.addr, 16);
            /* The walk went on to the close: its ratio must still stand at the bound. A P2P
             * client's first contacts go unanswered about as often as not (peers behind NAT,
             * gone), a walk without drift that crosses the bound by chance now and then and falls
             * back; a scanner's stays above. */
            const struct scan_conf *c = det_conf(ctx, cd.customer);
            if (sh->llr < trw_bound(c))
                s->st_trw_withdrawn++;
            else if (!walk_shares_port(sh, c) && !walk_shares_target(s, ctx, &cd))
                s->st_trw_spread++;
            /* a host alerted for the volume of its probes already: one alert for one event */
            else if (!bsearch(&k, s->alerted, s->nalerted, sizeof k, host_cmp))
                trw_alert(s, ctx, &cd);
            walk_reset(sh); /* a verdict ends the walk (flowscope does the same) */
        }
        if (sh->icmp_cand) {
            if (sweep_verdict(s, ctx, &cd) < 0) {
                cd.nsample = 0;
                cd.window = ctx->window_no + 2; /* carried into the next window */
                s->cands[keep++] = cd;
                sh->cand = (unsigned)keep;
                continue;
            }
            sh->icmp_cand = 0;
        }
        sh->cand = 0;
    }
    s->ncand = keep;
}

static void scan_on_window(void *self, struct det_ctx *ctx)
{
    struct scan *s = self;
    pend_settle(s, ctx);
    s->nalerted = 0;
    horizontal_alerts(s, ctx);
    vertical_alerts(s, ctx);
    qsort(s->alerted, s->nalerted, sizeof *s->alerted, host_cmp);
    candidates(s, ctx);
    s->ntouched_h = s->ntouched_v = 0;
    /* the first-contact filter's generations follow the half hours of event time */
    uint64_t next = ctx->win_end_ms / HALF_HOUR_MS;
    if (s->contact_epoch && next == s->contact_epoch + 1)
        gfilter_age(&s->contacts);
    else if (s->contact_epoch && next != s->contact_epoch)
        gfilter_clear(&s->contacts);
    s->contact_epoch = next;
}

/* Counters (detector.h): what the tables hold and push out, the attempts judged, alerts. */
#define C CTR_COUNTER
#define G CTR_GAUGE
#define OUTCOME "First contacts of customer hosts, by outcome (answered, unanswered, unknown)."
#define ALERTS "Scan alerts raised, by rule."
#define SCAN_COUNTERS(X)                                                                           \
    X(T, attempts, "attempts", "detector_scan_attempts_total", NULL, C,                            \
      "Connection attempts (TCP, UDP) and echo requests customer hosts started.")                  \
    X(T, first_contacts, "first_contacts", "detector_scan_first_contacts_total", NULL, C,          \
      "Attempts to a target and port the host had not tried within the contact filter's horizon.") \
    X(T, answered, "answered", "detector_scan_contact_outcomes_total", "outcome=\"answered\"", C,  \
      OUTCOME)                                                                                     \
    X(T, unanswered, "unanswered", "detector_scan_contact_outcomes_total",                         \
      "outcome=\"unanswered\"", C, OUTCOME)                                                        \
    X(T, outcome_unknown, "outcome_unknown", "detector_scan_contact_outcomes_total",               \
      "outcome=\"unknown\"", C, OUTCOME)                                                           \
    X(T, icmp_errors, "icmp_errors_received", "detector_scan_icmp_errors_total", NULL, C,          \
      "ICMP errors towards customer hosts (not taken as answers).")                                \
    X(T, udp_ignored, "udp_ports_ignored", "detector_scan_udp_ports_ignored_total", NULL, C,       \
      "UDP attempts to ignore_udp_ports (traceroute's probes, by default) not counted.")           \
    X(T, time_clients, "time_client_contacts", "detector_scan_time_client_contacts_total", NULL,   \
      C,                                                                                           \
      "NTP daemons' first contacts (NTP-sized, UDP 123 to 123) left out of the sequential test "   \
      "(the horizontal and vertical counts take them).")                                           \
    X(T, pending, "pending", "detector_scan_pending_probes", NULL, G,                              \
      "UDP and ICMP probes waiting for their answer now.")                                         \
    X(T, pending_cap, "pending_capacity", "detector_scan_pending_capacity_probes", NULL, G,        \
      "Capacity of the join table of probes waiting for an answer (max_pending, this worker's "    \
      "share).")                                                                                   \
    X(T, pending_evicted, "pending_evicted", "detector_scan_pending_evicted_total", NULL, C,       \
      "Waiting probes pushed out of a full join table (judged with an unknown outcome).")          \
    X(T, answers_first, "answers_before_probe", "detector_scan_answers_before_probe_total", NULL,  \
      C, "Answers whose probe had not been seen yet (kept for the probe to join).")                \
    X(T, done_waiting, "answered_waiting", "detector_scan_answered_waiting_probes", NULL, G,       \
      "Answered UDP and ICMP probes waiting to be settled in the order of the probes' times.")     \
    X(T, done_early, "answered_settled_early", "detector_scan_answered_settled_early_total", NULL, \
      C, "Answered probes settled before their turn because their ring (max_pending) was full.")   \
    X(T, h_pairs, "h_pairs", "detector_scan_horizontal_pairs", NULL, G,                            \
      "Host and port pairs tracked for horizontal scans now.")                                     \
    X(T, h_cap, "h_capacity", "detector_scan_horizontal_capacity_pairs", NULL, G,                  \
      "Capacity of the horizontal table (max_pairs, this worker's share).")                        \
    X(T, h_evicted, "h_evicted", "detector_scan_horizontal_evicted_total", NULL, C,                \
      "Host and port pairs pushed out of the full horizontal table (least recently probed).")      \
    X(T, v_pairs, "v_pairs", "detector_scan_vertical_pairs", NULL, G,                              \
      "Host and target pairs tracked for vertical scans now.")                                     \
    X(T, v_cap, "v_capacity", "detector_scan_vertical_capacity_pairs", NULL, G,                    \
      "Capacity of the vertical table (max_pairs, this worker's share).")                          \
    X(T, v_evicted, "v_evicted", "detector_scan_vertical_evicted_total", NULL, C,                  \
      "Host and target pairs pushed out of the full vertical table (least recently probed).")      \
    X(T, sweepers, "sweepers", "detector_scan_sweepers_hosts", NULL, G,                            \
      "Hosts tracked for ICMP sweeps now.")                                                        \
    X(T, sweepers_evicted, "sweepers_evicted", "detector_scan_sweepers_evicted_total", NULL, C,    \
      "Hosts pushed out of the full ICMP sweep table (max_sweepers, this worker's share).")        \
    X(T, cand_refused, "candidates_refused", "detector_scan_candidates_refused_total", NULL, C,    \
      "Hosts not judged at a window close because the candidate list was full.")                   \
    X(T, touched_refused, "touched_refused", "detector_scan_touched_refused_total", NULL, C,       \
      "Pairs changed in a window but not re-judged because the list of changed pairs was full.")   \
    X(T, filter_set, "contact_filter_set", "detector_scan_contact_filter_set_slots", NULL, G,      \
      "Slots (bits) set in the contact filter's current generation (fill = set / size).")          \
    X(T, filter_bits, "contact_filter_size", "detector_scan_contact_filter_size_slots", NULL, G,   \
      "Slots (bits) in one generation of the contact filter.")                                     \
    X(T, alerts_h, "alerts_horizontal", "detector_scan_alerts_total", "rule=\"scan.horizontal\"",  \
      C, ALERTS)                                                                                   \
    X(T, alerts_v, "alerts_vertical", "detector_scan_alerts_total", "rule=\"scan.vertical\"", C,   \
      ALERTS)                                                                                      \
    X(T, alerts_trw, "alerts_trw", "detector_scan_alerts_total", "rule=\"scan.trw\"", C, ALERTS)   \
    X(T, trw_withdrawn, "trw_withdrawn", "detector_scan_trw_withdrawn_total", NULL, C,             \
      "Walks that crossed the bound and stood below it at the window close (not alerted).")        \
    X(T, trw_spread, "trw_spread", "detector_scan_trw_spread_total", NULL, C,                      \
      "Walks at the bound whose unanswered contacts shared no port (a P2P client's; not "          \
      "alerted).")                                                                                 \
    X(T, h_spread, "horizontal_spread", "detector_scan_horizontal_spread_total", NULL, C,          \
      "Hosts whose crossing ports held under half of their unanswered targets (a P2P client's; "   \
      "not alerted).")                                                                             \
    X(T, alerts_sweep, "alerts_icmp_sweep", "detector_scan_alerts_total",                          \
      "rule=\"scan.icmp_sweep\"", C, ALERTS)
#define T struct scan_ctr
struct scan_ctr {
    SCAN_COUNTERS(CTR_FIELD)
};
static const struct ctr_def scan_ctr_defs[] = {SCAN_COUNTERS(CTR_ROW)};
#undef T
#undef C
#undef G

static void scan_counters(const void *self, void *snap)
{
    const struct scan *s = self;
    struct scan_ctr *o = snap;
    o->attempts = s->st_attempts;
    o->first_contacts = s->st_first;
    o->answered = s->st_out[OUT_ANSWERED];
    o->unanswered = s->st_out[OUT_UNANSWERED];
    o->outcome_unknown = s->st_out[OUT_UNKNOWN];
    o->icmp_errors = s->st_icmp_errors;
    o->udp_ignored = s->st_udp_ignored;
    o->time_clients = s->st_time_client;
    o->pending = s->pend.n;
    o->pending_cap = s->pend.cap;
    o->pending_evicted = s->st_pend_evicted;
    o->answers_first = s->st_pend_answer_only;
    o->done_waiting = s->done_n;
    o->done_early = s->st_done_early;
    o->h_pairs = s->hz.n;
    o->h_cap = s->hz.cap;
    o->h_evicted = s->hz.evicted;
    o->v_pairs = s->vt.n;
    o->v_cap = s->vt.cap;
    o->v_evicted = s->vt.evicted;
    o->sweepers = s->sweep.n;
    o->sweepers_evicted = s->sweep.evicted;
    o->cand_refused = s->st_cand_full;
    o->touched_refused = s->st_touched_full;
    o->filter_set = s->contacts.set_bits[0];
    o->filter_bits = (uint64_t)s->contacts.nwords * 64;
    o->alerts_h = s->st_alerts[0];
    o->alerts_v = s->st_alerts[1];
    o->alerts_trw = s->st_alerts[2];
    o->trw_withdrawn = s->st_trw_withdrawn;
    o->trw_spread = s->st_trw_spread;
    o->h_spread = s->st_h_spread;
    o->alerts_sweep = s->st_alerts[3];
}

/* The options that size its tables (read by init only). */
static const char *const scan_sizes[] = {"max_pairs", "max_pending", "max_sweepers",
                                         "contact_filter", NULL};

const struct detector_ops det_scan_ops = {
    .name = "scan",
    .help = "customer hosts scanning: unanswered targets per port and ports per target over an "
            "hour and a day, a sequential test on first contacts, ICMP sweeps",
    .conf_keys = scan_keys,
    .conf_size = sizeof(struct scan_conf),
    .sizes = scan_sizes,
    .host_state_size = sizeof(struct scan_host),
    .init = scan_init,
    .on_flow = scan_on_flow,
    .prefetch = scan_prefetch,
    .on_window = scan_on_window,
    DET_COUNTERS(scan_ctr_defs, struct scan_ctr, scan_counters),
    .fini = scan_fini,
};
