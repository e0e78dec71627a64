/* det_bruteforce: customer hosts guessing the logins of others' services (SSH, RDP, SMB, ...).
 *
 * What a guess looks like in flow records. Credential guessing (Hydra, Medusa, ncrack, nmap's
 * *-brute scripts, bots such as Mirai and the MSSQL/Redis worms) opens one TCP connection to the
 * service for every guess or every few guesses (OpenSSH allows MaxAuthTries = 6 per connection),
 * and each connection is the same short exchange: handshake, banner, key exchange or TLS,
 * credentials, refusal, close. So, from the attacking host to one (target, port): many
 * connection starts in a short span, each ANSWERED (the handshake completes: the service is
 * there, this is not a scan), each SMALL and SHORT (no session follows a refused login), and of
 * SIMILAR size ("flat" traffic: Jonker 2014, Drasar 2013; Flowmon DICTATTACK tests the
 * variability of the transferred data). A legitimate client keeps one connection for its
 * session (SSHCure, Hofstede et al.: regular SSH reuses its connection) or moves real data
 * (rsync, scp, configuration management), so it makes few connections or large ones.
 *
 * What counts (only the host's own records: it is the record's source, outbound or internal,
 * and core/initiator.h flow_initiator() says it started the connection; a customer host being
 * attacked, or answering clients of its own FTP/SMTP/SSH server, never counts against it):
 *   - a CONNECTION START is a record with SYN (exporters that send flags, unsampled); without
 *     flags, or under sampling, a record whose source port is not one of the pair's latest
 *     BF_RECENT connections. Other records are continuations (NetFlow splits long flows at
 *     its active timeout; a flow meter ends a flow at FIN/RST and stray ACKs after it make
 *     one-packet records): their bytes count, they are not connections;
 *   - a record of ONE PACKET (FLOW_F_PACKET: sFlow samples, IPFIX packet sections; at 1:1 too)
 *     says nothing of its connection by its flags, so such records are first summed per
 *     connection (5-tuple; conn_packet: from the SYN at 1:1, from the first sampled packet at
 *     1:N, to the host's FIN or RST, the window close or a full max_connections table) and the
 *     sum is judged below as the record a flow meter or a sampling exporter makes of them;
 *   - a start is ANSWERED when det_tcp_answered() says the handshake completed;
 *   - an answered start is a LOGIN ATTEMPT when the host sent data (PSH; without flags, more
 *     than bare headers: a connect-and-close check sends nothing) and its record is at most
 *     attempt_max_packets, attempt_max_bytes and attempt_max_duration (a refused login is a few
 *     kilobytes: SSH's key exchange and a few USERAUTH requests, RDP's TLS and CredSSP, SMB's
 *     negotiate and session setup; OpenSSH drops a connection that has not logged in after
 *     LoginGraceTime = 120 s);
 *   - only TCP destination ports in `ports` (login services; see the key's help for why other
 *     ports never alert), and neither the host in allow_hosts nor the target in allow_peers.
 *
 * Rules (every threshold in [detector.bruteforce], per customer overridable):
 *   bruteforce.login       per (host, target, port): login attempts within the last `window`
 *                          (a ring of six sub-buckets, so the view slides by a sixth) >=
 *                          attempts, with a share of its attempts within one size band (a
 *                          factor of about 1.25-1.5, quarter-octave bands) >= similar_min.
 *                          Every attempt was answered; unanswered starts to the same port (the
 *                          target's fail2ban dropping the attacker, a dead service) do not
 *                          hide it, they show in the evidence's answered share. Medium
 *                          severity; high from `high` attempts in the window.
 *   bruteforce.horizontal  per (host, port): targets that each took >= spread_attempts login
 *                          attempts within the window >= spread_targets (one host trying a few
 *                          credentials on many servers: a stuffing run across a range, Flowmon's
 *                          "distributed" variant); no peer, the port is destination.port.
 * An episode of a pair (or of a host's port) ends after `window` without a connection start;
 * the evidence (connections, answered, attempts, bytes, packets, per-attempt size and duration
 * statistics, the dominant size band, first/last) is the episode's, from its first login
 * attempt on (a probe or a banner grab before it opened no pair). Records the daemon flags as
 * far from their exporter's clock (FLOW_F_CLOCK_SKEW) are counted and left out: their times
 * cannot be placed in the window. Alerts are raised when a
 * window closes, for what changed in it; the alert manager keeps one event.id per incident.
 * The attacked host (an inside host receiving the attempts) gets nothing: the project scores
 * its customers' own behaviour (DETECTION-NOTES 0.5), every SSH server on the Internet is
 * guessed at all day, and an alert on the victim would count against the victim's customer.
 *
 * Threads and memory: one instance per worker (detectors/detector.h); records are sharded by
 * inside host, so a host's pairs live on one worker. Two fixed tables per worker, each its share
 * (detector.h det_share_cap) of pairs (max_pairs) and per-port spreads (max_spread), least recently used entries evicted and
 * counted; a pair is made only by a login attempt. Per record: a port list lookup, one keyed
 * hash and a table lookup for the few records on login ports, nothing allocated, no lock or
 * clock. Everything depends on the host's own records in their order and on window closes, so
 * replays are identical and 1 or N workers raise the same alerts (until a table is full).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "initiator.h"
#include "json.h"
#include "sketch.h"

#define BF_BUCKETS 6 /* the window view: six sub-buckets */
#define BF_BANDS 40  /* attempt sizes: quarter-octave bands from 64 bytes to 64 KiB */
#define BF_RECENT 4  /* source ports of a pair's latest connections */
#define BF_SAMPLES 6 /* targets named by a horizontal alert */

struct bf_conf {
    struct portlist ports;
    uint32_t attempts, high;
    uint64_t window; /* seconds */
    double similar_min;
    uint32_t attempt_max_packets;
    uint64_t attempt_max_bytes, attempt_max_duration;
    uint32_t spread_targets, spread_attempts;
    struct pfxlist allow_hosts, allow_peers;
    uint64_t max_pairs, max_spread, max_connections;
};

/* Login services, from the services Hydra and nmap's *-brute scripts attack: ftp 21, ssh 22,
 * telnet 23, netbios-ssn 139 and smb 445, rexec/rlogin 512/513, vmauthd 902 (nmap
 * vmauthd-brute), mssql 1433, oracle 1521, alt-ssh 2222, alt-telnet 2323 (Mirai), mysql 3306,
 * rdp 3389, postgres 5432, vnc 5900/5901, winrm 5985/5986, redis 6379, mikrotik winbox 8291,
 * mongodb 27017. Not by default: mail retrieval and submission (110, 143, 465, 587, 993, 995)
 * and LDAP (389, 636), whose clients legitimately reconnect to one server on a schedule, many
 * of them behind one NAT or CGNAT address (the reason sites disable ET's "Rapid POP3/IMAP
 * Connections" rules); add them per customer where that does not hold. */
#define BF_PORTS                                                                                   \
    "21, 22, 23, 139, 445, 512, 513, 902, 1433, 1521, 2222, 2323, 3306, 3389, 5432, "              \
    "5900, 5901, 5985, 5986, 6379, 8291, 27017"

#define BC(f) offsetof(struct bf_conf, f)
static const struct conf_key bf_keys[] = {
    {"ports", CONF_CUSTOM, BC(ports), sizeof(struct portlist), 1, 0, BF_PORTS,
     "TCP login services (up to 64 ports). Other ports never alert: reconnecting to one server "
     "with short, similar connections is what HTTP and API clients, pollers and health checks "
     "do all day",
     portlist_parse},
    {"attempts", CONF_U32, BC(attempts), 0, 2, 1e9, "20",
     "login attempts to one target's port within the window (Flowmon SSHDICT/RDPDICT: 20 per "
     "attacker/victim pair; Zeek: 30 failed logins per 30 min)",
     NULL},
    {"window", CONF_DURATION, BC(window), 0, 60, 86400, "30m",
     "the span attempts are counted over; an episode ends after as long without a connection "
     "(Zeek's guessing_timeout and Flowmon's AttackHole: 30 min)",
     NULL},
    {"high", CONF_U32, BC(high), 0, 2, 1e9, "100",
     "attempts within the window for high severity (NIST SP 800-63B 5.2.2: a verifier allows "
     "no more than 100 failed attempts on one account)",
     NULL},
    {"similar_min", CONF_DOUBLE, BC(similar_min), 0, 0, 1, "0.5",
     "share of the attempts within one size band (factor 1.25-1.5): repeated identical "
     "exchanges",
     NULL},
    {"attempt_max_packets", CONF_U32, BC(attempt_max_packets), 0, 1, 1e9, "64",
     "packets of one login attempt (the host's record) at most", NULL},
    {"attempt_max_bytes", CONF_BYTES, BC(attempt_max_bytes), 0, 64, 65536, "16k",
     "bytes of one login attempt (the host's record) at most", NULL},
    {"attempt_max_duration", CONF_DURATION, BC(attempt_max_duration), 0, 1, 86400, "120s",
     "duration of one login attempt at most (OpenSSH LoginGraceTime: 120 s)", NULL},
    {"spread_targets", CONF_U32, BC(spread_targets), 0, 0, 1e9, "20",
     "horizontal: targets on one port each taking spread_attempts within the window (0 = off)",
     NULL},
    {"spread_attempts", CONF_U32, BC(spread_attempts), 0, 1, 1e9, "3",
     "horizontal: login attempts that make a target count", NULL},
    {"allow_hosts", CONF_CUSTOM, BC(allow_hosts), sizeof(struct pfxlist), 1, 0, "",
     "the customer's hosts never judged (up to 16 prefixes: jump hosts, monitoring and "
     "automation that log in without reusing connections; Zeek's ignore_guessers)",
     pfxlist_parse},
    {"allow_peers", CONF_CUSTOM, BC(allow_peers), sizeof(struct pfxlist), 1, 0, "",
     "targets whose logins never count (up to 16 prefixes: the customer's own servers "
     "elsewhere, a code forge reached over SSH)",
     pfxlist_parse},
    {"max_pairs", CONF_U64, BC(max_pairs), 0, 16, 16777216, "65536",
     "(host, target, port) pairs with login attempts kept, all workers together (least recent "
     "evicted)",
     NULL},
    {"max_spread", CONF_U64, BC(max_spread), 0, 16, 16777216, "16384",
     "(host, port) entries of the horizontal rule kept, all workers together (least recent "
     "evicted)",
     NULL},
    {"max_connections", CONF_U64, BC(max_connections), 0, 16, 16777216, "16384",
     "open connections followed (all workers together) from packet records (sFlow samples, IPFIX "
     "packet "
     "sections), by 5-tuple until FIN or RST; least recent judged early when full",
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct bf_key {
    uint32_t customer;
    uint8_t host[16];
    uint8_t peer[16]; /* spread entries: zero */
    uint16_t port;
    uint16_t pad;
};

/* One episode's figures (a pair's, or a host's port's over its qualifying targets). */
struct bf_stats {
    uint64_t first_ms, last_ms;                    /* first connection start, latest record end */
    uint64_t bytes, packets;                       /* every record, continuations included */
    uint64_t att_bytes, att_packets, att_dur_ms;   /* sums over the login attempts */
    double att_bytes_sq;                           /* sum of squares (standard deviation) */
    uint32_t starts, answered, attempts, sessions; /* sessions: answered, not login-sized */
    uint32_t min_bytes, max_bytes, max_dur_ms;
    uint16_t min_packets, max_packets;
    uint16_t band[BF_BANDS]; /* attempts per size band */
};

/* Counts per sub-bucket of the window (bucket_ms = window / BF_BUCKETS, as configured when the
 * ring was last used: a reload that changes the window starts the ring again); newest = bucket
 * number + 1 of n[newest % BF_BUCKETS] (0: empty). */
struct bf_ring {
    uint64_t newest;
    uint32_t bucket_ms;
    uint16_t n[BF_BUCKETS];
};

struct bf_pair {
    struct bf_key k;
    struct bf_stats st;
    struct bf_ring ring;         /* login attempts */
    uint32_t touched, evaluated; /* window number + 1 */
    uint16_t recent[BF_RECENT];  /* source ports of the latest connection starts */
    uint8_t nrecent, spread;     /* spread: counted for its host's port this episode */
    uint8_t pad[2];
};

struct bf_spread {
    struct bf_key k;
    struct bf_stats st;  /* of the qualifying targets' pairs */
    struct bf_ring ring; /* targets qualifying */
    uint32_t touched, evaluated;
    uint32_t targets; /* qualifying targets this episode */
    uint8_t nsample, pad[3];
    uint8_t sample[BF_SAMPLES][16];
};

/* A connection followed from packet records (sFlow samples, IPFIX packet sections: each record
 * one packet, its flags that packet's): the host's packets of one 5-tuple summed as a flow meter
 * (at 1:1) or a sampling exporter (1:N) sums them, judged as that one record when it ends. */
struct bf_ckey {
    uint32_t customer;
    uint8_t host[16], peer[16];
    uint16_t sport, dport;
};

struct bf_conn {
    struct bf_ckey k;
    uint64_t first_ms, last_ms, bytes, packets; /* bytes and packets as the records carry them */
    uint32_t sampling;                          /* the highest rate of its packets */
    uint8_t tcp_flags, v6;
    uint8_t ended; /* judged at its FIN or RST; kept so that its last packets continue it */
    uint8_t pad;
};
_Static_assert(sizeof(struct bf_conn) == 80, "bench/RESULTS.md: a connection entry is 80 B");

struct bf {
    struct ltab pairs, spreads, conns;
    uint32_t *touched_p, *touched_s;
    size_t ntouched_p, ntouched_s;
    struct hash_key hk;
    uint64_t st_records, st_starts, st_attempts, st_continuations, st_not_initiator, st_allowed,
        st_skewed, st_touched_full, st_alerts[2], st_packets, st_conns_ended;
};

static void bf_fini(void *self);

/* Every table is keyed by the inside host (pairs, spreads, connections): this instance's share
 * of each capacity. */
static int bf_init(const void *conf, struct det_share share, void **self)
{
    const struct bf_conf *c = conf;
    struct bf *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    size_t npairs = det_share_cap(share, c->max_pairs, 16);
    size_t nspread = det_share_cap(share, c->max_spread, 16);
    size_t nconns = det_share_cap(share, c->max_connections, 16);
    if (ltab_init(&b->pairs, npairs, sizeof(struct bf_pair), sizeof(struct bf_key)) < 0 ||
        ltab_init(&b->spreads, nspread, sizeof(struct bf_spread), sizeof(struct bf_key)) < 0 ||
        ltab_init(&b->conns, nconns, sizeof(struct bf_conn), sizeof(struct bf_ckey)) < 0 ||
        !(b->touched_p = calloc(npairs, sizeof *b->touched_p)) ||
        !(b->touched_s = calloc(nspread, sizeof *b->touched_s))) {
        bf_fini(b);
        return -ENOMEM;
    }
    hash_key_from_seed(&b->hk, 0x6272757465666f31ULL);
    *self = b;
    return 0;
}

static void bf_fini(void *self)
{
    struct bf *b = self;
    if (!b)
        return;
    ltab_fini(&b->pairs);
    ltab_fini(&b->spreads);
    ltab_fini(&b->conns);
    free(b->touched_p);
    free(b->touched_s);
    free(b);
}

/* ---- sizes and windows ------------------------------------------------------------------ */

/* Quarter-octave band of a size (bands of 1, 1.25, 1.5, 1.75 times a power of two): 0 below
 * 80 bytes, BF_BANDS - 1 from 56 KiB up. */
static unsigned band_of(uint64_t bytes)
{
    if (bytes < 64)
        return 0;
    unsigned msb = 63u - (unsigned)__builtin_clzll(bytes);
    unsigned b = (msb - 6) * 4 + (unsigned)((bytes >> (msb - 2)) & 3);
    return b < BF_BANDS ? b : BF_BANDS - 1;
}

static uint64_t band_low(unsigned b)
{
    return (uint64_t)(4 + b % 4) << (b / 4 + 4);
}

/* The two adjacent bands holding the most attempts: their share and byte range. */
static double similar_share(const struct bf_stats *s, uint64_t *lo, uint64_t *hi)
{
    unsigned best = 0, top = 0;
    for (unsigned b = 0; b + 1 < BF_BANDS; b++) {
        unsigned n = (unsigned)s->band[b] + s->band[b + 1];
        if (n > top) {
            top = n;
            best = b;
        }
    }
    if (lo)
        *lo = band_low(best);
    if (hi)
        *hi = best + 2 < BF_BANDS ? band_low(best + 2) - 1 : 65535;
    return s->attempts ? (double)top / (double)s->attempts : 0;
}

static uint16_t sat16(uint32_t v)
{
    return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

/* Move the ring's newest bucket to the one holding t_ms (older buckets that leave the view are
 * cleared); returns that bucket's number. */
static uint64_t ring_advance(struct bf_ring *r, uint64_t t_ms, uint32_t bms)
{
    uint64_t idx = t_ms / bms;
    if (r->bucket_ms != bms) {
        memset(r, 0, sizeof *r);
        r->bucket_ms = bms;
    }
    if (!r->newest) {
        r->newest = idx + 1;
        return idx;
    }
    uint64_t nw = r->newest - 1;
    if (idx <= nw)
        return idx;
    if (idx - nw >= BF_BUCKETS)
        memset(r->n, 0, sizeof r->n);
    else
        for (uint64_t k = nw + 1; k <= idx; k++)
            r->n[k % BF_BUCKETS] = 0;
    r->newest = idx + 1;
    return idx;
}

static void ring_add(struct bf_ring *r, uint64_t t_ms, uint32_t bms)
{
    uint64_t idx = ring_advance(r, t_ms, bms);
    if (idx + BF_BUCKETS <= r->newest - 1)
        return; /* older than the view */
    uint16_t *n = &r->n[idx % BF_BUCKETS];
    if (*n < UINT16_MAX)
        (*n)++;
}

static uint32_t ring_sum(const struct bf_ring *r)
{
    uint32_t s = 0;
    for (unsigned i = 0; i < BF_BUCKETS; i++)
        s += r->n[i];
    return s;
}

static uint32_t bucket_ms(const struct bf_conf *c)
{
    return (uint32_t)(c->window * 1000 / BF_BUCKETS);
}

/* ---- one record ----------------------------------------------------------------------------- */

/* The host sent data on the connection: PSH (the last segment of every write carries it);
 * without reliable flags, more than a bare segment per packet (52 bytes of IPv4 and TCP with
 * timestamps, 72 with IPv6) and a SYN's options. A connect-and-close check sends nothing. */
static bool sent_data(const struct flow_rec *f)
{
    if (f->tcp_flags && det_flow_whole(f))
        return (f->tcp_flags & 0x08) != 0;
    uint64_t per = (f->flags & FLOW_F_V6) ? 72 : 52;
    return f->packets && f->bytes > f->packets * per + 12;
}

static bool login_sized(const struct bf_conf *c, const struct flow_rec *f)
{
    return f->packets <= c->attempt_max_packets && f->bytes <= c->attempt_max_bytes &&
           f->last_ms - f->first_ms <= c->attempt_max_duration * 1000 && sent_data(f);
}

static void stats_record(struct bf_stats *s, const struct flow_rec *f)
{
    s->bytes += f->bytes;
    s->packets += f->packets;
    if (f->last_ms > s->last_ms)
        s->last_ms = f->last_ms;
}

static void stats_start(struct bf_stats *s, const struct flow_rec *f, bool answered, bool attempt)
{
    if (!s->starts || f->first_ms < s->first_ms)
        s->first_ms = f->first_ms;
    s->starts++;
    s->answered += answered;
    stats_record(s, f);
    if (!attempt) {
        s->sessions += answered;
        return;
    }
    uint32_t by = f->bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)f->bytes;
    uint16_t pk = sat16(f->packets > UINT32_MAX ? UINT32_MAX : (uint32_t)f->packets);
    uint32_t dur = (uint32_t)(f->last_ms - f->first_ms);
    if (!s->attempts || by < s->min_bytes)
        s->min_bytes = by;
    if (!s->attempts || pk < s->min_packets)
        s->min_packets = pk;
    if (by > s->max_bytes)
        s->max_bytes = by;
    if (pk > s->max_packets)
        s->max_packets = pk;
    if (dur > s->max_dur_ms)
        s->max_dur_ms = dur;
    s->attempts++;
    s->att_bytes += by;
    s->att_bytes_sq += (double)by * (double)by;
    s->att_packets += pk;
    s->att_dur_ms += dur;
    uint16_t *n = &s->band[band_of(by)];
    if (*n < UINT16_MAX)
        (*n)++;
}

/* s += o (a pair's episode joining its host's port's). */
static void stats_merge(struct bf_stats *s, const struct bf_stats *o)
{
    if (!o->starts)
        return;
    if (!s->starts || o->first_ms < s->first_ms)
        s->first_ms = o->first_ms;
    if (o->last_ms > s->last_ms)
        s->last_ms = o->last_ms;
    if (o->attempts) {
        if (!s->attempts || o->min_bytes < s->min_bytes)
            s->min_bytes = o->min_bytes;
        if (!s->attempts || o->min_packets < s->min_packets)
            s->min_packets = o->min_packets;
        if (o->max_bytes > s->max_bytes)
            s->max_bytes = o->max_bytes;
        if (o->max_packets > s->max_packets)
            s->max_packets = o->max_packets;
        if (o->max_dur_ms > s->max_dur_ms)
            s->max_dur_ms = o->max_dur_ms;
    }
    s->bytes += o->bytes;
    s->packets += o->packets;
    s->att_bytes += o->att_bytes;
    s->att_bytes_sq += o->att_bytes_sq;
    s->att_packets += o->att_packets;
    s->att_dur_ms += o->att_dur_ms;
    s->starts += o->starts;
    s->answered += o->answered;
    s->attempts += o->attempts;
    s->sessions += o->sessions;
    for (unsigned b = 0; b < BF_BANDS; b++)
        s->band[b] = sat16((uint32_t)s->band[b] + o->band[b]);
}

static uint64_t key_hash(const struct bf *b, const struct bf_key *k)
{
    return hash_bytes(&b->hk, k, sizeof *k);
}

static void touch(struct bf *b, struct det_ctx *ctx, struct ltab *t, void *e,
                  uint32_t *touched_field, uint32_t *list, size_t *n)
{
    ltab_touch(t, e);
    if (*touched_field == ctx->window_no + 1)
        return;
    *touched_field = ctx->window_no + 1;
    if (*n >= t->cap) {
        b->st_touched_full++;
        return;
    }
    list[(*n)++] = (uint32_t)ltab_index(t, e);
}

static bool recent_has(const struct bf_pair *p, uint16_t sport)
{
    for (unsigned i = 0; i < p->nrecent && i < BF_RECENT; i++)
        if (p->recent[i] == sport)
            return true;
    return false;
}

static void recent_push(struct bf_pair *p, uint16_t sport)
{
    memmove(p->recent + 1, p->recent, (BF_RECENT - 1) * sizeof p->recent[0]);
    p->recent[0] = sport;
    if (p->nrecent < BF_RECENT)
        p->nrecent++;
}

/* The host's port entry of a pair (NULL: none, or evicted). */
static struct bf_spread *spread_of(struct bf *b, const struct bf_pair *p, bool create,
                                   uint64_t now_ms, const struct bf_conf *c)
{
    struct bf_key k = p->k;
    memset(k.peer, 0, sizeof k.peer);
    uint64_t hv = key_hash(b, &k);
    if (!create)
        return ltab_find(&b->spreads, &k, hv);
    bool ins;
    struct bf_spread *s = ltab_get(&b->spreads, &k, hv, &ins, NULL, NULL);
    if (!ins && s->st.last_ms + c->window * 1000 < now_ms) { /* a new episode */
        struct bf_key keep = s->k;
        memset(s, 0, sizeof *s);
        s->k = keep;
    }
    return s;
}

/* A pair reached spread_attempts: its target counts for the host's port, and from now on its
 * records join the port's figures. */
static void spread_qualify(struct bf *b, struct det_ctx *ctx, const struct bf_conf *c,
                           struct bf_pair *p, uint64_t now_ms)
{
    struct bf_spread *s = spread_of(b, p, true, now_ms, c);
    p->spread = 1;
    stats_merge(&s->st, &p->st);
    ring_add(&s->ring, now_ms, bucket_ms(c));
    s->targets++;
    if (s->nsample < BF_SAMPLES)
        memcpy(s->sample[s->nsample++], p->k.peer, 16);
    touch(b, ctx, &b->spreads, s, &s->touched, b->touched_s, &b->ntouched_s);
}

/* One record of the host's connection to (target, port), judged: a connection start (SYN in
 * a whole record; without flags or under sampling, a new source port), or a continuation
 * whose bytes count (cont: the caller knows it continues a connection). */
static void bf_record(struct bf *b, struct det_ctx *ctx, const struct bf_conf *c, uint32_t customer,
                      const uint8_t host[16], const struct flow_rec *f, bool cont)
{
    struct bf_key k;
    memset(&k, 0, sizeof k);
    k.customer = customer;
    memcpy(k.host, host, 16);
    memcpy(k.peer, f->dst, 16);
    k.port = f->dport;
    uint64_t hv = key_hash(b, &k);
    struct bf_pair *p = ltab_find(&b->pairs, &k, hv);
    bool flags = f->tcp_flags && det_flow_whole(f);
    bool start = !cont && (flags ? (f->tcp_flags & 0x02) != 0 : !(p && recent_has(p, f->sport)));
    if (!start) {
        b->st_continuations++;
        if (p) {
            stats_record(&p->st, f);
            struct bf_spread *s = p->spread ? spread_of(b, p, false, 0, c) : NULL;
            if (s)
                stats_record(&s->st, f);
        }
        return;
    }
    b->st_starts++;
    bool answered = det_tcp_answered(f);
    bool attempt = answered && login_sized(c, f);
    if (!p) {
        if (!attempt)
            return; /* only a login attempt opens a pair */
        bool ins;
        p = ltab_get(&b->pairs, &k, hv, &ins, NULL, NULL);
    } else if (f->first_ms > p->st.last_ms + c->window * 1000) { /* a new episode */
        struct bf_key keep = p->k;
        memset(p, 0, sizeof *p);
        p->k = keep;
    }
    b->st_attempts += attempt;
    stats_start(&p->st, f, answered, attempt);
    recent_push(p, f->sport);
    if (attempt)
        ring_add(&p->ring, f->first_ms, bucket_ms(c));
    else
        ring_advance(&p->ring, f->first_ms, bucket_ms(c));
    touch(b, ctx, &b->pairs, p, &p->touched, b->touched_p, &b->ntouched_p);
    if (!c->spread_targets)
        return;
    if (p->spread) {
        struct bf_spread *s = spread_of(b, p, false, 0, c);
        if (s) {
            stats_start(&s->st, f, answered, attempt);
            touch(b, ctx, &b->spreads, s, &s->touched, b->touched_s, &b->ntouched_s);
        }
    } else if (attempt && ring_sum(&p->ring) >= c->spread_attempts) {
        spread_qualify(b, ctx, c, p, f->first_ms);
    }
}

/* A followed connection is over (the host's FIN or RST, its table full, a window close): its
 * packets' sum is judged as the whole record a flow meter would have made of them. e may be a
 * copy (the table entry gone); conn_end does not touch the connection table. */
static void conn_end(struct bf *b, struct det_ctx *ctx, const struct bf_conn *e)
{
    struct flow_rec r;
    memset(&r, 0, sizeof r);
    memcpy(r.src, e->k.host, 16);
    memcpy(r.dst, e->k.peer, 16);
    r.sport = e->k.sport;
    r.dport = e->k.dport;
    r.proto = 6;
    r.tcp_flags = e->tcp_flags;
    r.flags = (uint8_t)(FLOW_F_INIT_SRC | (e->v6 ? FLOW_F_V6 : 0));
    r.sampling = e->sampling;
    r.bytes = e->bytes;
    r.packets = e->packets;
    r.first_ms = e->first_ms;
    r.last_ms = e->last_ms;
    b->st_conns_ended++;
    bf_record(b, ctx, det_conf(ctx, e->k.customer), e->k.customer, e->k.host, &r, false);
}

/* One packet record of the host to a login port: the host's packets of one 5-tuple are summed
 * into one connection, ended by its FIN or RST (conn_end) and judged as a flow record of the
 * same rate is; the ended entry stays (until a window close or the table needs room) so that
 * the packets after the FIN continue it, as a meter's later one-packet records do. At 1:1 (every packet seen) a connection opens at its SYN without ACK, and a
 * packet of no followed connection continues one that began before (or is the host answering:
 * never counted against it). At 1:N the SYN is seldom among the samples: any packet the host
 * sent as the initiator (flow_initiator) opens one, as a sampling exporter's flow cache does. */
static void conn_packet(struct bf *b, struct det_ctx *ctx, const struct bf_conf *c,
                        const struct host *h, const struct flow_rec *f)
{
    struct bf_ckey k;
    memset(&k, 0, sizeof k);
    k.customer = h->customer;
    memcpy(k.host, h->addr, 16);
    memcpy(k.peer, f->dst, 16);
    k.sport = f->sport;
    k.dport = f->dport;
    uint64_t hv = hash_bytes(&b->hk, &k, sizeof k);
    bool syn = (f->tcp_flags & 0x12) == 0x02;
    struct bf_conn *e = ltab_find(&b->conns, &k, hv), old;
    b->st_packets++;
    if (e && syn && (e->ended || (e->tcp_flags & ~0x02))) { /* the port reused: a new one */
        old = *e;
        ltab_remove(&b->conns, e);
        if (!old.ended)
            conn_end(b, ctx, &old);
        e = NULL;
    }
    if (e && e->ended) { /* the ACK after the FIN, a RST after it: the ended one's */
        ltab_touch(&b->conns, e);
        bf_record(b, ctx, c, h->customer, h->addr, f, true);
        return;
    }
    if (!e) {
        if (!syn && det_initiator(ctx, f, NULL) != FLOW_INIT_SRC) {
            b->st_not_initiator++;
            return;
        }
        if (!syn && f->sampling <= 1) { /* 1:1: of a connection that began before */
            bf_record(b, ctx, c, h->customer, h->addr, f, true);
            return;
        }
        bool ins, ev;
        e = ltab_get(&b->conns, &k, hv, &ins, &old, &ev);
        if (ev && !old.ended)
            conn_end(b, ctx, &old);
        e->first_ms = f->first_ms;
        e->v6 = (f->flags & FLOW_F_V6) != 0;
    }
    ltab_touch(&b->conns, e);
    e->bytes += f->bytes;
    e->packets += f->packets;
    e->tcp_flags |= f->tcp_flags;
    if (f->sampling > e->sampling)
        e->sampling = f->sampling;
    if (f->first_ms < e->first_ms)
        e->first_ms = f->first_ms;
    if (f->last_ms > e->last_ms)
        e->last_ms = f->last_ms;
    if (f->tcp_flags & 0x05) { /* FIN or RST: over */
        e->ended = 1;
        conn_end(b, ctx, e);
    }
}

static void bf_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                       const struct flow_rec *f)
{
    (void)hstate;
    struct bf *b = self;
    /* the host is the record's source: outbound or internal records only */
    if (f->proto != 6 || (f->dir != FLOW_DIR_OUT && f->dir != FLOW_DIR_INTERNAL))
        return;
    const struct bf_conf *c = det_conf(ctx, h->customer);
    if (!portlist_has(&c->ports, f->dport))
        return;
    b->st_records++;
    /* one packet: its connection is followed (conn_packet) */
    bool packet = (f->flags & FLOW_F_PACKET) != 0;
    if (!packet && det_initiator(ctx, f, NULL) != FLOW_INIT_SRC) {
        b->st_not_initiator++; /* the host answering on that port, or nobody can tell */
        return;
    }
    if (f->flags & FLOW_F_CLOCK_SKEW) {
        b->st_skewed++; /* its time cannot be placed in the window */
        return;
    }
    if (pfxlist_match(&c->allow_hosts, h->addr) || pfxlist_match(&c->allow_peers, f->dst)) {
        b->st_allowed++;
        return;
    }
    if (packet)
        conn_packet(b, ctx, c, h, f);
    else
        bf_record(b, ctx, c, h->customer, h->addr, f, false);
}

/* At a window close every followed connection ends (a flow exporter's active timeout at the
 * window's edge): what it sent so far is judged now, its later packets are continuations. In
 * the order they were last used, so replays are identical. */
static void conns_end_all(struct bf *b, struct det_ctx *ctx)
{
    struct bf_conn *e, old;
    while ((e = ltab_oldest(&b->conns))) {
        ltab_ahead(&b->conns);
        old = *e;
        ltab_remove(&b->conns, e);
        if (!old.ended)
            conn_end(b, ctx, &old);
    }
}

/* ---- window close ------------------------------------------------------------------------- */

static void stats_json(struct json *j, const struct bf_stats *s)
{
    uint64_t lo, hi;
    double sim = similar_share(s, &lo, &hi);
    double n = s->attempts ? (double)s->attempts : 1;
    double mean = (double)s->att_bytes / n;
    double var = s->att_bytes_sq / n - mean * mean;
    json_u64(j, "connections", s->starts);
    json_u64(j, "answered", s->answered);
    json_double(j, "answered_share", s->starts ? (double)s->answered / s->starts : 0, 3);
    json_u64(j, "login_attempts", s->attempts);
    json_u64(j, "other_sessions", s->sessions);
    json_u64(j, "bytes", s->bytes);
    json_u64(j, "packets", s->packets);
    json_obj_open(j, "attempt_bytes");
    json_u64(j, "min", s->min_bytes);
    json_double(j, "mean", mean, 1);
    json_u64(j, "max", s->max_bytes);
    json_double(j, "stddev", var > 0 ? sqrt(var) : 0, 1);
    json_obj_close(j);
    json_obj_open(j, "attempt_packets");
    json_u64(j, "min", s->min_packets);
    json_double(j, "mean", (double)s->att_packets / n, 1);
    json_u64(j, "max", s->max_packets);
    json_obj_close(j);
    json_obj_open(j, "attempt_duration_ms");
    json_double(j, "mean", (double)s->att_dur_ms / n, 1);
    json_u64(j, "max", s->max_dur_ms);
    json_obj_close(j);
    json_double(j, "similar_share", sim, 3);
    json_arr_open(j, "similar_bytes");
    json_u64(j, NULL, lo);
    json_u64(j, NULL, hi);
    json_arr_close(j);
    double span = (double)(s->last_ms > s->first_ms ? s->last_ms - s->first_ms : 0) / 1000.0;
    json_double(j, "span_s", span, 1);
    json_double(j, "attempts_per_minute", span >= 1 ? s->attempts * 60.0 / span : s->attempts, 1);
    json_time(j, "first", s->first_ms);
    json_time(j, "last", s->last_ms);
}

static void raise_bf(struct bf *b, struct det_ctx *ctx, int rule, const struct bf_key *k, bool peer,
                     const struct bf_stats *s, uint32_t in_window, const struct bf_conf *c,
                     const char *ev)
{
    static const char *const ids[2] = {"bruteforce.login", "bruteforce.horizontal"};
    bool high = s->attempts && in_window >= c->high;
    double sim = similar_share(s, NULL, NULL);
    double strength = (double)in_window / (double)c->high;
    double sc = 0.5 + 0.3 * (strength > 1 ? 1 : strength) + 0.2 * sim;
    struct alert a = {
        .detector = "bruteforce",
        .rule_id = ids[rule],
        .severity = high ? SEV_HIGH : SEV_MEDIUM,
        .score = sc > 1 ? 1 : sc,
        .customer = k->customer,
        .has_host = true,
        .has_peer = peer,
        .host_is_source = true,
        .proto = 6,
        .port = k->port,
        .win_start_ms = ctx->win_start_ms,
        .win_end_ms = ctx->win_end_ms,
        .first_ms = s->first_ms,
        .last_ms = s->last_ms,
        .flows = s->starts,
        .bytes = s->bytes,
        .packets = s->packets,
        .evidence_json = ev,
    };
    memcpy(a.host, k->host, 16);
    if (peer)
        memcpy(a.peer, k->peer, 16);
    b->st_alerts[rule]++;
    det_alert(ctx, &a);
}

static bool judged_alike(const struct bf_conf *c, const struct bf_stats *s)
{
    return similar_share(s, NULL, NULL) >= c->similar_min;
}

static void pair_alerts(struct bf *b, struct det_ctx *ctx)
{
    char ev[1536];
    for (size_t i = 0; i < b->ntouched_p; i++) {
        struct bf_pair *p = ltab_entry(&b->pairs, b->touched_p[i]);
        if (p->touched != ctx->window_no + 1 || p->evaluated == ctx->window_no + 1)
            continue;
        p->evaluated = ctx->window_no + 1;
        const struct bf_conf *c = det_conf(ctx, p->k.customer);
        ring_advance(&p->ring, ctx->win_end_ms - 1, bucket_ms(c));
        uint32_t n = ring_sum(&p->ring);
        if (n < c->attempts || !judged_alike(c, &p->st))
            continue;
        struct json j;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_str(&j, "protocol", "tcp");
        json_addr(&j, "target", p->k.peer);
        json_u64(&j, "port", p->k.port);
        json_u64(&j, "attempts_in_window", n);
        json_u64(&j, "window_s", c->window);
        stats_json(&j, &p->st);
        json_u64(&j, "threshold_attempts", c->attempts);
        json_u64(&j, "threshold_high", c->high);
        json_obj_close(&j);
        raise_bf(b, ctx, 0, &p->k, true, &p->st, n, c, json_error(&j) ? NULL : ev);
    }
}

static void spread_alerts(struct bf *b, struct det_ctx *ctx)
{
    char ev[2048];
    for (size_t i = 0; i < b->ntouched_s; i++) {
        struct bf_spread *s = ltab_entry(&b->spreads, b->touched_s[i]);
        if (s->touched != ctx->window_no + 1 || s->evaluated == ctx->window_no + 1)
            continue;
        s->evaluated = ctx->window_no + 1;
        const struct bf_conf *c = det_conf(ctx, s->k.customer);
        if (!c->spread_targets)
            continue;
        ring_advance(&s->ring, ctx->win_end_ms - 1, bucket_ms(c));
        uint32_t n = ring_sum(&s->ring);
        if (n < c->spread_targets || !judged_alike(c, &s->st))
            continue;
        struct json j;
        json_init(&j, ev, sizeof ev);
        json_obj_open(&j, NULL);
        json_str(&j, "protocol", "tcp");
        json_u64(&j, "port", s->k.port);
        json_u64(&j, "targets_in_window", n);
        json_u64(&j, "targets", s->targets);
        json_arr_open(&j, "sample_targets");
        for (unsigned k = 0; k < s->nsample && k < BF_SAMPLES; k++)
            json_addr(&j, NULL, s->sample[k]);
        json_arr_close(&j);
        json_u64(&j, "window_s", c->window);
        stats_json(&j, &s->st);
        json_u64(&j, "threshold_targets", c->spread_targets);
        json_u64(&j, "threshold_attempts_per_target", c->spread_attempts);
        json_obj_close(&j);
        /* severity from the attempts over the qualifying targets within the window: the
         * targets' count times the least that made each count is a lower bound */
        uint64_t lower = (uint64_t)n * c->spread_attempts;
        raise_bf(b, ctx, 1, &s->k, false, &s->st, lower > UINT32_MAX ? UINT32_MAX : (uint32_t)lower,
                 c, json_error(&j) ? NULL : ev);
    }
}

static void bf_on_window(void *self, struct det_ctx *ctx)
{
    struct bf *b = self;
    conns_end_all(b, ctx);
    pair_alerts(b, ctx);
    spread_alerts(b, ctx);
    b->ntouched_p = b->ntouched_s = 0;
}

/* Counters (detector.h). */
#define T struct bf_ctr
#define C CTR_COUNTER
#define G CTR_GAUGE
#define ALERTS "Brute-force alerts raised, by rule."
#define BF_COUNTERS(X)                                                                             \
    X(T, records, "records", "detector_bruteforce_records_total", NULL, C,                         \
      "TCP records of customer hosts to a login port.")                                            \
    X(T, not_initiator, "not_initiator", "detector_bruteforce_not_initiator_total", NULL, C,       \
      "Records where the customer host answered (never counted as attempts).")                     \
    X(T, skewed, "clock_skewed", "detector_bruteforce_clock_skewed_total", NULL, C,                \
      "Records far from their exporter's clock, counted but not judged.")                          \
    X(T, allowed, "allowed", "detector_bruteforce_allowed_total", NULL, C,                         \
      "Records of allow-listed hosts or peers.")                                                   \
    X(T, starts, "connections", "detector_bruteforce_connections_total", NULL, C,                  \
      "Connection starts to login services.")                                                      \
    X(T, cont, "continuations", "detector_bruteforce_continuations_total", NULL, C,                \
      "Records continuing a connection already counted.")                                          \
    X(T, attempts, "login_attempts", "detector_bruteforce_login_attempts_total", NULL, C,          \
      "Answered, login-sized connections (attempts).")                                             \
    X(T, pairs, "pairs", "detector_bruteforce_pairs", NULL, G,                                     \
      "Host, target and port triples tracked now.")                                                \
    X(T, pairs_cap, "pairs_capacity", "detector_bruteforce_pairs_capacity", NULL, G,               \
      "Capacity of the pair table (max_pairs, this worker's share).")                              \
    X(T, pairs_evicted, "pairs_evicted", "detector_bruteforce_pairs_evicted_total", NULL, C,       \
      "Pairs pushed out of the full pair table (least recent).")                                   \
    X(T, spreads, "spreads", "detector_bruteforce_spreads", NULL, G,                               \
      "Host and port pairs tracked for the horizontal rule now.")                                  \
    X(T, spreads_cap, "spreads_capacity", "detector_bruteforce_spreads_capacity", NULL, G,         \
      "Capacity of the spread table (max_spread, this worker's share).")                           \
    X(T, spreads_evicted, "spreads_evicted", "detector_bruteforce_spreads_evicted_total", NULL, C, \
      "Spreads pushed out of the full spread table (least recent).")                               \
    X(T, packets, "packet_records", "detector_bruteforce_packet_records_total", NULL, C,           \
      "Records of one packet (sFlow, IPFIX packet sections), summed per connection.")              \
    X(T, conns, "connections_open", "detector_bruteforce_connections_open", NULL, G,               \
      "Connections followed from packet records now (open, or ended and kept for their last "      \
      "packets).")                                                                                 \
    X(T, conns_cap, "connections_capacity", "detector_bruteforce_connections_capacity", NULL, G,   \
      "Capacity of the connection table (max_connections, this worker's share).")                  \
    X(T, conns_ended, "connections_ended", "detector_bruteforce_connections_ended_total", NULL, C, \
      "Followed connections judged (FIN, RST, table full, window close).")                         \
    X(T, conns_evicted, "connections_evicted", "detector_bruteforce_connections_evicted_total",    \
      NULL, C, "Connections judged early because the full connection table needed room.")          \
    X(T, touched_refused, "touched_refused", "detector_bruteforce_touched_refused_total", NULL, C, \
      "Entries changed in a window but not judged because the changed list was full.")             \
    X(T, alerts_login, "alerts_login", "detector_bruteforce_alerts_total",                         \
      "rule=\"bruteforce.login\"", C, ALERTS)                                                      \
    X(T, alerts_h, "alerts_horizontal", "detector_bruteforce_alerts_total",                        \
      "rule=\"bruteforce.horizontal\"", C, ALERTS)
struct bf_ctr {
    BF_COUNTERS(CTR_FIELD)
};
static const struct ctr_def bf_ctr_defs[] = {BF_COUNTERS(CTR_ROW)};
#undef T
#undef C
#undef G
#undef ALERTS

static void bf_counters(const void *self, void *snap)
{
    const struct bf *b = self;
    struct bf_ctr *o = snap;
    o->records = b->st_records;
    o->not_initiator = b->st_not_initiator;
    o->skewed = b->st_skewed;
    o->allowed = b->st_allowed;
    o->starts = b->st_starts;
    o->cont = b->st_continuations;
    o->attempts = b->st_attempts;
    o->pairs = b->pairs.n;
    o->pairs_cap = b->pairs.cap;
    o->pairs_evicted = b->pairs.evicted;
    o->spreads = b->spreads.n;
    o->spreads_cap = b->spreads.cap;
    o->spreads_evicted = b->spreads.evicted;
    o->packets = b->st_packets;
    o->conns = b->conns.n;
    o->conns_cap = b->conns.cap;
    o->conns_ended = b->st_conns_ended;
    o->conns_evicted = b->conns.evicted;
    o->touched_refused = b->st_touched_full;
    o->alerts_login = b->st_alerts[0];
    o->alerts_h = b->st_alerts[1];
}

/* The options that size its tables (read by init only). */
static const char *const bf_sizes[] = {"max_pairs", "max_spread", "max_connections", NULL};

const struct detector_ops det_bruteforce_ops = {
    .name = "bruteforce",
    .help = "customer hosts guessing logins: many short, answered, similar connections to one "
            "login service, or a few to each of many servers",
    .conf_keys = bf_keys,
    .conf_size = sizeof(struct bf_conf),
    .sizes = bf_sizes,
    .host_state_size = 0,
    .init = bf_init,
    .on_flow = bf_on_flow,
    .on_window = bf_on_window,
    DET_COUNTERS(bf_ctr_defs, struct bf_ctr, bf_counters),
    .fini = bf_fini,
};
