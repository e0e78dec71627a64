/* det_beacon: C2 beaconing and long sessions, i.e. a customer host that connects to one outside
 * (peer, port, proto) on a schedule (RITA-style, DETECTION-NOTES 2.1-2.3), or that keeps long
 * sessions to a peer few inside hosts talk to (RITA's long connections).
 *
 * Orientation. A pair is (customer, inside host, peer, the peer's port, proto): the inside host
 * is the client. core/initiator.h decides who started each record's connection (exporter word,
 * SYN without ACK, a lone SYN-ACK, service ports); records the inside host answers (an outside
 * client's connection) are not ours. When a record says nothing (an old client's port 1025-5000
 * against a registered C2 port, two dynamic ports, NTP 123 -> 123), or only the port ranges
 * guess (an old client's 1025-5000 against a C2 port above 32767 reads the wrong way round), it
 * is taken provisionally as the host's, keyed by the peer's port, and the pair settles it from
 * repeated connections: the host's port changed while the peer's stayed fixed (fixed_port), or
 * the host's record of each connection started before the peer's (first_packet). A pair never
 * settled is not scored (counted as `undecided`); the reverse orientation never gathers a pair,
 * because the key port (the other end's client port) changes with every connection. A service
 * port on the host's side (not a privileged one) that says the peer called is overruled the
 * same way when the host already calls the peer's port from other ports (a pair or pending
 * connection under that key): an old client's changing port hits 1433, 1521 or 3389 now and
 * then (counted as `service_port_overruled`).
 *
 * Connections, not records. Up to BC_RECENT connections of a pair are followed by the host's
 * port and their times: a record of the same host port that starts within inactive_timeout of
 * the connection's end (for TCP with SYN: within its span, i.e. the answer's SYN-ACK) continues
 * it (an exporter's active-timeout split, the other direction, a trailing ACK) and adds bytes
 * and duration; anything else with a SYN (or without TCP flags) is a new connection start.
 * For UDP the gap is udp_session (2 min) when longer: packets between one socket pair closer
 * than a NAT keeps a UDP mapping (RFC 4787) are one session to the NATs and firewalls on the
 * path, and to Zeek (1 min). A tunnel's keepalive (IPsec NAT-T every 20 s, WireGuard 25 s),
 * SIP's OPTIONS every minute, exported one record each by an exporter whose inactive timeout is
 * shorter, continue the session instead of making a schedule of starts; the session is then a
 * long session on its service port. A check-in from a new socket (a new host port) still starts.
 * For a TCP record without SYN (flags exported: a segment within a connection) the gap is
 * tcp_session (5 min) when longer, as Zeek's tcp_inactivity_timeout: a channel held open with a
 * keepalive a minute (Mirai's CNC session), exported one record per keepalive by a router whose
 * inactive timeout is 15 s, is one session, as the log of the same traffic has it.
 *
 * Admission without losing the first check-in. A pair's first start goes into a pending cache
 * (`pending` entries in all, each worker its share, 4-way sets, 32 bytes): its time, host port, bytes and span.
 * The second start, or the first connection reaching long_session, promotes it to a pair slot
 * seeded with that first connection, so every start counts from the first. A full set
 * overwrites its oldest entry (counted as pending_overwritten; `pending` should hold the new
 * pairs of a worker over the longest period to be found).
 *
 * Slots live in a set-associative pool of max_pairs (8 ways): a full bucket evicts first a slot
 * that cannot alert (pair_futile: its host's own rhythm, below; a time service; a peer the
 * prevalence view counts as infrastructure), else one that has not alerted: a stale one (quiet
 * for more than four of its mean intervals: a burst that ended), then the fewest starts, then
 * the least recently active (counted; evicted_live counts those neither futile nor stale). By
 * the fewest starts alone, a slow schedule between check-ins went before CDN, resolver and NTP
 * pairs of many starts, and the pool could not keep a 6-hour check-in for a day. A slot keeps
 * the last BC_TS starts (10 ms) and bytes out per connection; it is freed after `idle` without
 * activity.
 *
 * Prevalence (a cross-host view, learnt from the traffic). Hosts are sharded over the workers,
 * so no worker sees every host of a peer. At each window close, on_window_merge (dispatcher
 * thread, every worker idle) adds every slot active in the window to one table owned by worker
 * 0's instance: per (peer address, port, proto) and per (peer /24 or /48, port, proto), the
 * distinct inside hosts (hll: exact up to 32, then HyperLogLog) and customers (up to PV_CUST)
 * with repeated or long contact, in two generations of prevalence_horizon/2 (a peer's count is
 * over the last half to whole horizon). Then every worker scores with that view, so the view
 * includes the closing window (no delay) and is the same whatever the sharding (a union of
 * distinct sets does not depend on order; only a full table's evictions can differ). A peer
 * counted at >= infra_hosts hosts from >= infra_customers customers at either level is
 * infrastructure (NTP pools, SaaS monitors, update services, public resolvers): no beacon alert
 * (counted). No port is exempt: C2 runs over 53/udp and 443/tcp.
 *
 * Scoring (window close, pairs with new starts): the starts sorted, intervals between them.
 * A schedule is a band of k of the n intervals within a ratio (1+jitter)/(1-jitter), k at least
 * n_min (fast_min below fast_max, else slow_min), that connections at random (Poisson) times
 * would give with a chance of at most `chance`: sizes * C(n, k) * P(k exponentials within the
 * band's ratio), a union bound over the band sizes that could pass and the choices of k of n,
 * which needs no rate estimate (the ratio of the largest to the smallest of k exponentials does
 * not depend on it). The ratio scored is the widest the true intervals could have, the times
 * being known to 10 ms, or to 1 s when every start is on a whole second (an exporter of second
 * resolution): rounding makes equal intervals common, and they are no schedule. `chance` is per
 * host: divided among the host's pairs with enough starts to be tested at the close (all on one
 * worker: a host's pairs share its shard), so a host testing hundreds of pairs of random
 * connections (a resolver, a proxy) stays at `chance` in all. The default 0.001 is what the
 * issue's requirement implies: 6 check-ins with +-20 % jitter (a ratio up to 1.5) of a host's
 * only tested pair have exactly that chance. Each
 * interval beyond n_min must add EVIDENCE_PER_INTERVAL, because a pair is looked at every
 * window. Periods under MIN_PERIOD_S are not check-ins. A band must show itself as a schedule
 * once: n_min check-ins in one run (band_run: another connection between two check-ins or one
 * check-in missed keeps the run, a longer silence ends it); regular gaps only a few in a row
 * between silences are a retry timer's (a stub resolver's query sent again at its 5 s timeout,
 * then nothing until the next lookup), counted as `short_runs`. Tried in turn: (1) retry bursts, when
 * the sorted intervals jump by >= BURST_RATIO and at least half the check-ins are bursts:
 * starts closer than the jump merge into one check-in, and the check-ins must be a schedule;
 * (2) the plain intervals (zeros, i.e. parallel connections, dropped); (3) two alternating
 * gaps of a second or more (njRAT's 14 s / 9 s when wider than a schedule's spread): the odd
 * and the even intervals each a band, their chances multiplied and held to Fisher's bound.
 * The schedule decides; RITA's ts (skew and MAD of the intervals) and ds (of bytes per
 * connection, which may vary) only make the score and the severity. Rules beacon.fast / beacon.slow by period. A declared
 * MTA ([detector.spam] mta) to port 25 is not a beacon; neither is a peer of the host's own
 * customer (INTERNAL records within one customer).
 *
 * The host's own rhythm (the mirror of prevalence): a schedule that at least rhythm_peers of the
 * host's other pairs (under test, or with RHYTHM_STARTS) keep too (host_rhythm, keeps_period)
 * belongs to the host's software - a DHT
 * node refreshing its routing table, a monitor polling its list - not to a C2 channel, which
 * calls one server at a time: no alert (counted). So does a cycle the pair's starts keep, phases
 * and all, with as many others (keeps_cycle: a monitor's several checks on each server).
 *
 * Long sessions (rule beacon.long_session, low severity): a pair whose connections of at least
 * long_session add up to long_total, to a peer at most long_rare inside hosts have repeated or
 * long contact with, when the port is not a well-known service port (a RAT controller on an
 * unusual port) or the long sessions were re-established (TLS C2 run as long sessions with
 * reconnects). One long SSH/VPN session on its service port is ordinary use; a UDP session to
 * port 53 (DNS clients change ports, RFC 5452) or of non-NTP messages to 123 is not (a C2
 * channel on one socket, calling within udp_session). Long sessions the host holds on one port
 * with rhythm_peers other peers too are its own use of the port (mark_habits: a browser's push
 * and streaming connections), and a pair most of whose connections are long sessions has no
 * schedule of check-ins (each start reopens a session: beacon_report leaves it to this rule).
 *
 * Reachability checks (pair_empty): a TCP pair whose connections the host completed and closed
 * without data either way (an IoT device testing its link) raises neither rule (counted as
 * `empty_skipped`); attempts never answered or refused (a C2 down) still do. Nor does a pair
 * whose host reaches the same peer port (1024 and up) over TCP and UDP alike (pair_dual): a P2P
 * client's peer, tried both ways (`dual_transport_skipped`).
 *
 * Records whose time contradicts their exporter's clock (FLOW_F_CLOCK_SKEW) are skipped: this
 * detector is all timing. So are records sampled 1 in more than max_sampling (1): a packet seen
 * 1 in N is not a connection; a check-in of a few packets is seen about once in N/k, at times
 * that are the schedule thinned at random (no schedule left to find), and a session's gaps are
 * the sampler's (one tunnel in use for hours looks re-established again and again).
 *
 * Per record: one keyed hash, one bucket of tags, at most one pending set; no allocation (the
 * prevalence table is allocated once, by the first window close).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "initiator.h"
#include "json.h"
#include "le.h"
#include "lines.h"
#include "log.h"
#include "sketch.h"
#include "tags.h"

extern const struct detector_ops det_spam_ops; /* det_spam.c: its "mta" option */

#define BC_TS 32         /* starts kept per pair */
#define BC_WAYS 8        /* pair pool: slots per bucket */
#define BC_LIST_SHOWN 16 /* servers of a C2 list named in an alert's evidence (list_servers) */
#define BC_RECENT 4      /* connections per pair followed for continuations */
#define PD_WAYS 4        /* pending cache: entries per set */
#define PV_WAYS 8        /* prevalence table: entries per bucket */
#define PV_CUST 4        /* customers counted per peer (saturates) */
#define BURST_RATIO 4.0  /* a jump this large in the sorted intervals separates bursts */
#define TCP_BARE_MAX 80  /* IPv4 bytes of a TCP segment without data, at most (a 60-byte header) */
#define UNIT_MS 10       /* pair times are hundredths of a second after the pair's first start */
#define MIN_PERIOD_S                                                                               \
    1.0 /* faster than once a second is a stream of work, not check-ins (RITA:
                          * a strobe) */

struct beacon_conf {
    uint64_t max_pairs, pending, prevalence_peers, prevalence_horizon;
    uint32_t infra_hosts, infra_customers, rhythm_peers, max_sampling;
    uint64_t idle, inactive_timeout, udp_session, tcp_session, fast_max;
    uint32_t fast_min, slow_min;
    double jitter, chance;
    uint64_t max_packets;
    uint64_t long_session, long_total;
    uint32_t long_rare;
    struct pfxlist allow, resolvers;
};

static const struct conf_key beacon_keys[] = {
    {"max_pairs", CONF_U64, offsetof(struct beacon_conf, max_pairs), 0, 64, 1e9, "65536",
     "tracked (host, peer, port) slots, all workers together (each holds its share of the "
     "hosts' part; about 450 bytes each); a full pool evicts (counted)",
     NULL},
    {"pending", CONF_U64, offsetof(struct beacon_conf, pending), 0, 64, 1e9, "524288",
     "first connections of pairs waiting for a second one, all workers together (32 bytes each); "
     "should hold the new pairs over the longest period to find (overwrites counted)",
     NULL},
    {"prevalence_peers", CONF_U64, offsetof(struct beacon_conf, prevalence_peers), 0, 64, 1e9,
     "65536",
     "peers (address and /24 or /48, with port) whose inside hosts are counted, for all workers "
     "together (about 330 bytes each); a full table evicts the least prevalent (counted)",
     NULL},
    {"prevalence_horizon", CONF_DURATION, offsetof(struct beacon_conf, prevalence_horizon), 0, 600,
     2592000, "24h",
     "a peer's prevalence counts the hosts of the last half to whole of this (event time)", NULL},
    {"infra_hosts", CONF_U32, offsetof(struct beacon_conf, infra_hosts), 0, 2, 1e9, "10",
     "inside hosts with repeated contact that make a peer (its address or its /24 or /48, with "
     "the port) infrastructure: no beacon alert",
     NULL},
    {"infra_customers", CONF_U32, offsetof(struct beacon_conf, infra_customers), 0, 1, PV_CUST, "2",
     "... from at least this many customers (1: a deployment with one customer)", NULL},
    {"rhythm_peers", CONF_U32, offsetof(struct beacon_conf, rhythm_peers), 0, 1, 1e9, "5",
     "other peers that keep a schedule's period too (at least half of their intervals, and as "
     "many as a schedule needs, within jitter of it, or all of four or more) that make it the "
     "host's own rhythm, kept with many peers at once (a DHT node refreshing its routing table, "
     "a P2P client retrying the peers that refused it, a monitor polling its list; a C2 implant "
     "calls one server at a time, and the failing servers of a fallback list walked in turn on "
     "one port are not counted): no beacon alert; so too long sessions the host holds on one "
     "port with as many other peers (a browser's push, chat and streaming connections; a RAT "
     "holds one with its controller): no beacon.long_session",
     NULL},
    {"idle", CONF_DURATION, offsetof(struct beacon_conf, idle), 0, 60, 604800, "24h",
     "a pair with no connection for this long is forgotten (above the longest period to find)",
     NULL},
    {"inactive_timeout", CONF_DURATION, offsetof(struct beacon_conf, inactive_timeout), 0, 0, 3600,
     "15s", "exporters' inactive timeout: records of one connection closer than this continue it",
     NULL},
    {"udp_session", CONF_DURATION, offsetof(struct beacon_conf, udp_session), 0, 0, 3600, "2m",
     "UDP records between the same host port and the peer's with no gap this long are one "
     "session, as the path's NATs keep it (RFC 4787: a UDP mapping lasts at least 2 min): a "
     "tunnel's or a signalling protocol's keepalives (IPsec NAT-T, WireGuard, OpenVPN, SIP) are "
     "not check-ins; 0 or below inactive_timeout: inactive_timeout",
     NULL},
    {"tcp_session", CONF_DURATION, offsetof(struct beacon_conf, tcp_session), 0, 0, 3600, "5m",
     "TCP records of one socket pair without SYN (flags exported) no later than this after its "
     "connection's last continue it, as Zeek's tcp_inactivity_timeout keeps a connection: a "
     "channel held open with a keepalive a minute, which a router with a 15 s inactive timeout "
     "exports one record per keepalive, is one session, as a log of the same traffic shows it; "
     "0 or below inactive_timeout: inactive_timeout",
     NULL},
    {"max_sampling", CONF_U32, offsetof(struct beacon_conf, max_sampling), 0, 1, 1e9, "1",
     "records sampled 1 in more than this are not used (counted): a packet seen 1 in N is not a "
     "connection, so check-ins and session lengths cannot be rebuilt from them (1:100 in the "
     "evaluation: no beacon found, only chance schedules and sessions cut by the sampling)",
     NULL},
    {"fast_max", CONF_DURATION, offsetof(struct beacon_conf, fast_max), 0, 1, 86400, "5m",
     "periods below this are beacon.fast, others beacon.slow", NULL},
    {"fast_min", CONF_U32, offsetof(struct beacon_conf, fast_min), 0, 3, BC_TS - 1, "8",
     "intervals (check-ins - 1) needed for beacon.fast", NULL},
    {"slow_min", CONF_U32, offsetof(struct beacon_conf, slow_min), 0, 3, BC_TS - 1, "5",
     "intervals (check-ins - 1) needed for beacon.slow", NULL},
    {"jitter", CONF_DOUBLE, offsetof(struct beacon_conf, jitter), 0, 0.01, 0.6, "0.33",
     "the widest schedule: intervals within (1 +- jitter) x period, i.e. the largest at most "
     "(1+j)/(1-j) times the smallest (0.33: 2x, Cobalt Strike's sleep minus up to 50 %)",
     NULL},
    {"chance", CONF_DOUBLE, offsetof(struct beacon_conf, chance), 0, 1e-9, 0.1, "0.001",
     "a schedule alerts when connections at random (Poisson) times would look as regular with "
     "at most this chance, per host: shared among the host's pairs tested at a window close "
     "(0.001: 6 check-ins with +-20 % jitter of a host's only tested pair just pass)",
     NULL},
    {"max_packets", CONF_U64, offsetof(struct beacon_conf, max_packets), 0, 1, 1e15, "10000",
     "records with more packets (in each 30 minutes they span) are bulk transfers or floods: never "
     "a check-in",
     NULL},
    {"long_session", CONF_DURATION, offsetof(struct beacon_conf, long_session), 0, 60, 604800,
     "10m", "a connection at least this long is a long session", NULL},
    {"long_total", CONF_DURATION, offsetof(struct beacon_conf, long_total), 0, 60, 2592000, "1h",
     "long sessions of a pair adding up to this alert beacon.long_session (RITA's base threshold)",
     NULL},
    {"long_rare", CONF_U32, offsetof(struct beacon_conf, long_rare), 0, 1, 1e9, "3",
     "... when at most this many inside hosts have repeated or long contact with the peer", NULL},
    {"allow", CONF_CUSTOM, offsetof(struct beacon_conf, allow), sizeof(struct pfxlist), 1, 0, "",
     "peers never tracked (up to 16 prefixes: monitoring, update servers)", pfxlist_parse},
    {"resolvers", CONF_CUSTOM, offsetof(struct beacon_conf, resolvers), sizeof(struct pfxlist), 1,
     0, "", "the customer's own DNS/NTP servers (up to 16 prefixes): never tracked", pfxlist_parse},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct pair_key {
    uint32_t customer;
    uint8_t host[16];
    uint8_t peer[16];
    uint16_t port; /* the peer's */
    uint8_t proto, pad;
};

/* A first connection waiting for the pair's second one (its tag: its set's, struct pset). Packed
 * (start_ms on 4 bytes): 28 bytes, so that a set's four entries and their tags fill two lines. */
struct __attribute__((packed, aligned(4))) pend {
    uint16_t hport;      /* the inside host's port */
    uint8_t basis;       /* enum flow_init_basis of its start (NONE: provisional) */
    uint8_t dirs : 2;    /* 1: a record of the host seen, 2: one of the peer */
    uint8_t opened : 2;  /* both seen: 1 the host's record started first, 2 the peer's */
    uint8_t range : 2;   /* the port ranges' guess of its start (struct obs) */
    uint8_t attempt : 1; /* only bare attempts so far (struct obs) */
    uint8_t talked : 1;  /* a record that carried data or could not say (struct obs) */
    uint64_t start_ms;
    uint32_t span_ms;
    uint32_t bytes_out, bytes_in, packets; /* saturating */
};
/* A set of the pending cache: its entries' tags side by side (one compare for all four,
 * core/tags.h), then the entries. */
struct pset {
    uint32_t tag[PD_WAYS]; /* 0 = empty */
    struct pend e[PD_WAYS];
};
_Static_assert(sizeof(struct pset) == 2 * CACHE_LINE,
               "a pending set is two whole lines (beacon_prefetch loads both)");

/* A followed connection; times in UNIT_MS after the pair's base. */
struct conn {
    uint32_t start, end;
    uint32_t seq;     /* its start's number: ring slot seq % BC_TS while count - seq <= n */
    uint32_t open_ms; /* low 32 bits of the first-seen direction's start, in ms */
    uint16_t hport;
    uint8_t dirs; /* 1: a record of the host seen, 2: one of the peer */
    uint8_t is_long : 1, valid : 1;
    uint8_t attempt : 1; /* only bare attempts so far (struct obs): no exchange yet */
};

struct pair {
    struct pair_key k;
    uint64_t base_ms; /* first start (the first check-in) */
    uint64_t last_ms; /* latest start or end, event time */
    uint64_t bytes_out, bytes_in, packets;
    uint64_t dur_ms, long_ms, longest_ms; /* all connections; those >= long_session; longest */
    uint32_t count;                       /* connection starts */
    uint32_t cont;                        /* records folded into a connection */
    uint32_t long_n;                      /* connections that reached long_session */
    uint16_t hport_changes; /* starts whose host port differed from the previous start's */
    uint16_t last_hport;
    uint16_t opened_out, opened_in; /* connections whose host's / peer's record started first */
    uint16_t range_out, range_in;   /* provisional starts the port ranges guess the host / the
                                     * peer started */
    uint8_t basis;                  /* strongest decided basis of a start (NONE: all provisional) */
    uint8_t used, alerted;          /* alerted: 1 fast, 2 slow, 4 long */
    uint8_t head, n, dirty, touched;
    uint8_t not_ntp;    /* a record not sized as NTP messages (struct obs; read for UDP/123 only) */
    uint8_t rhythm : 1; /* found keeping its host's own rhythm (host_rhythm): evicted first */
    uint8_t infra : 1;  /* its peer infrastructure by the view at its last active close */
    uint8_t talked : 1; /* a record that carried data or could not say (struct obs) */
    uint8_t opened : 1; /* a TCP connection of the host's established (struct obs) */
    uint8_t heard : 1;  /* a record of the peer's seen */
    uint8_t dual : 1;   /* its peer's port taken over TCP and UDP alike (pair_dual) */
    uint8_t habit : 1;  /* its host holds long sessions on its port with many peers (mark_habits) */
    uint16_t refused;   /* connections ended refused: the peer's RST, no exchange (conn_refused) */
    struct conn recent[BC_RECENT];
    uint32_t ts[BC_TS]; /* starts, UNIT_MS after base */
    uint32_t by[BC_TS]; /* bytes out of each connection */
};

struct pv_key {
    uint8_t peer[16]; /* the address, or its /24 (/48) with the host bits zero */
    uint16_t port;
    uint8_t proto, level; /* level 0: address, 1: network */
};

struct pv_gen {
    struct hll hosts;
    uint32_t cust[PV_CUST];
    uint8_t ncust;
};

struct pv_ent {
    struct pv_key k;
    uint32_t tag;       /* 0 = empty */
    struct pv_gen g[2]; /* [cur], [cur ^ 1] the previous generation */
};

/* The prevalence table and the pair pool are set-associative with victims chosen by what the
 * entries say (the least prevalent peer; the pair with the fewest starts that has not alerted),
 * not by recency: not core/table.h's tables. */
struct pv_table {
    struct pv_ent *ent;
    size_t nbuckets;
    uint64_t gen_no; /* number of the current generation (event time / half horizon) */
    uint8_t cur;
    uint64_t used, evicted, rolls;
};

struct beacon {
    struct pair *pool;
    uint32_t *tags; /* per slot: 0 = empty, else a tag of the key's hash; a bucket's tags
                              * share one cache line, so a miss touches no pair */
    size_t nbuckets;
    struct pset *pend;         /* sets of PD_WAYS (128 bytes), each on two whole lines */
    void *tags_mem, *pend_mem; /* what calloc_lines gave to free */
    size_t npsets;
    struct hash_key hk, pvk;
    size_t cap_prevalence;
    struct pv_table *pv; /* worker 0's instance: owned; others: NULL (they read worker 0's) */
    const struct pv_table *view; /* set by on_window_merge */
    /* worker 0's, sharing with other processes only (share_export, share_import): the
     * window's own entries (rebuilt at each export) and the other instances' (merged into pv
     * and emptied at each close); one generation each (g[0]), allocated at first use */
    struct pv_table *share_out, *share_in;
    uint64_t stat_shared_out, stat_shared_in, stat_shared_bad;
    size_t mta_off; /* offset of [detector.spam] mta in its option struct, or SIZE_MAX */
    /* stat_starts: the starts of pairs' connections (a promotion's not again); a pending
     * entry's start is counted by stat_pending: the "starts" counter is their sum */
    uint64_t stat_starts, stat_cont, stat_udp_sess, stat_tcp_sess, stat_sampled, stat_pending,
        stat_pend_over, stat_admitted, stat_evicted, stat_evicted_live, stat_expired, stat_alerts,
        stat_alerts_fast, stat_long_alerts, stat_infra, stat_mta, stat_undecided, stat_skew,
        stat_answers, stat_pv_nomem, stat_service_overruled, stat_time_service, stat_rhythm,
        stat_short_runs, stat_empty, stat_dual, stat_habit, stat_reopened;
    size_t used;
    struct det_memo memo;  /* the batch's pair hashes and places (beacon_prefetch, beacon_at) */
    struct tested *tested; /* a close's pairs to test, by host (beacon_on_window); pool size */
    uint32_t *ports;       /* host_rhythm's failing peers' ports (port_key); pool size */
    size_t nports;         /* of them sorted by rhythm_peers_of's last run that needed them */
};

/* A pair under test at a close (enough starts to make a schedule), or with RHYTHM_STARTS (the
 * host's rhythm, host_rhythm, looks at it too), keyed by its host. */
struct tested {
    uint8_t host[16];
    uint32_t customer;
    uint32_t slot;
    uint16_t port; /* the peer's, with proto: mark_habits' groups */
    uint8_t proto;
    bool dirty;  /* under test with new starts since the last close: scored now */
    bool tested; /* enough starts to make a schedule */
};
#define RHYTHM_STARTS 5 /* four intervals */

/* The pair pool and the pending sets are keyed by (host, peer, port): this instance's share of
 * max_pairs and pending. prevalence_peers is keyed by the peer and held once, by worker 0's
 * instance, for every worker: not shared out. */
static int beacon_init(const void *conf, struct det_share share, void **self)
{
    const struct beacon_conf *c = conf;
    struct beacon *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->nbuckets = (det_share_cap(share, c->max_pairs, 64) + BC_WAYS - 1) / BC_WAYS;
    b->npsets = (det_share_cap(share, c->pending, 64) + PD_WAYS - 1) / PD_WAYS;
    b->pool = calloc_table(b->nbuckets * BC_WAYS, sizeof *b->pool);
    b->tags = calloc_lines(b->nbuckets * BC_WAYS, sizeof *b->tags, &b->tags_mem);
    b->pend = calloc_lines(b->npsets, sizeof *b->pend, &b->pend_mem);
    b->tested = calloc_table(b->nbuckets * BC_WAYS, sizeof *b->tested);
    b->ports = calloc_table(b->nbuckets * BC_WAYS + 1, sizeof *b->ports);
    if (!b->pool || !b->tags || !b->pend || !b->tested || !b->ports) {
        free(b->ports);
        free(b->tested);
        free(b->pool);
        free(b->tags_mem);
        free(b->pend_mem);
        free(b);
        return -ENOMEM;
    }
    b->cap_prevalence = c->prevalence_peers;
    hash_key_from_seed(&b->hk, 0x626561636f6e3031ULL);
    hash_key_from_seed(&b->pvk, 0x6265616376696577ULL);
    b->mta_off = SIZE_MAX;
    /* the spam detector's declared MTAs (its option struct, by the key's offset) */
    const struct conf_key *mk = conf_find_key(det_spam_ops.conf_keys, "mta");
    if (mk && mk->type == CONF_CUSTOM && mk->parse == pfxlist_parse &&
        mk->size == sizeof(struct pfxlist))
        b->mta_off = mk->offset;
    *self = b;
    return 0;
}

static void pv_free(struct pv_table *t)
{
    if (t)
        free(t->ent);
    free(t);
}

/* A table of cap entries, or NULL (no memory). */
static struct pv_table *pv_new(size_t cap)
{
    struct pv_table *t = calloc(1, sizeof *t);
    size_t nb = (cap + PV_WAYS - 1) / PV_WAYS;
    if (t)
        t->ent = calloc_table(nb ? nb * PV_WAYS : PV_WAYS, sizeof *t->ent);
    if (!t || !t->ent) {
        pv_free(t);
        return NULL;
    }
    t->nbuckets = nb ? nb : 1;
    return t;
}

static void pv_clear(struct pv_table *t)
{
    memset(t->ent, 0, t->nbuckets * PV_WAYS * sizeof *t->ent);
    t->used = 0;
}

static void beacon_fini(void *self)
{
    struct beacon *b = self;
    if (!b)
        return;
    pv_free(b->pv);
    pv_free(b->share_out);
    pv_free(b->share_in);
    free(b->pool);
    free(b->tested);
    free(b->ports);
    free(b->tags_mem);
    free(b->pend_mem);
    free(b);
}

/* ---- per record ---------------------------------------------------------------------- */

static uint32_t sat32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint32_t rel_units(const struct pair *p, uint64_t ms)
{
    return ms > p->base_ms ? sat32((ms - p->base_ms) / UNIT_MS) : 0;
}

/* The pair's base moves back to ms (a record older than its first start): shift every time. */
static void pair_rebase(struct pair *p, uint64_t ms)
{
    uint64_t d = (p->base_ms - ms + UNIT_MS - 1) / UNIT_MS;
    uint32_t du = sat32(d);
    p->base_ms -= (uint64_t)du * UNIT_MS;
    for (unsigned i = 0; i < p->n; i++)
        p->ts[i] = sat32((uint64_t)p->ts[i] + du);
    for (unsigned i = 0; i < BC_RECENT; i++) {
        if (!p->recent[i].valid)
            continue;
        p->recent[i].start = sat32((uint64_t)p->recent[i].start + du);
        p->recent[i].end = sat32((uint64_t)p->recent[i].end + du);
    }
}

/* A pair key's hash from its host's keyed hash (host_hash: hash_host of the host, the
 * pipeline's for a record) and the key's other fields (no key built): the host's salt with this
 * instance's key, the peer, port, protocol and customer mixed into it (core/hash.h
 * hash_host_mix: a peer or port chosen from outside cannot aim at a bucket without the secret
 * host key). The customer is in the key: a reload that moves the host to another customer
 * starts new pairs. */
static inline uint64_t pair_hash(const struct beacon *b, uint64_t host_hash, uint32_t customer,
                                 const uint8_t peer[16], uint16_t port, uint8_t proto)
{
    return hash_host_mix(hash_host_salt(host_hash, b->hk.k0), peer,
                         (uint64_t)customer << 32 | (uint64_t)port << 8 | proto);
}

/* Where a pair key of hash h lives: its bucket of the pair pool and its pending set (indices; at
 * most max_pairs / BC_WAYS and pending / PD_WAYS, below 2^32 by the options' limits). The
 * prefetch pass keeps them with the hash (det_memo), so on_flow divides by neither size again. */
struct bc_at {
    uint64_t h;
    uint32_t bucket, pset;
};

static struct bc_at bc_at(const struct beacon *b, uint64_t h)
{
    return (struct bc_at){h, (uint32_t)(h % b->nbuckets), (uint32_t)((h >> 16) % b->npsets)};
}

_Static_assert(BC_WAYS % 4 == 0 && BC_WAYS <= TAGS_MAX, "a bucket's tags: tags_match");

/* The peer's side of record f for a pair key (host_side: the inside host sent f): the peer's
 * address and port. One definition for the key, its hash and its comparison. */
static inline const uint8_t *peer_addr(const struct flow_rec *f, bool host_side)
{
    return host_side ? f->dst : f->src;
}

static inline uint16_t peer_port(const struct flow_rec *f, bool host_side)
{
    return host_side ? f->dport : f->sport;
}

/* The pair of record f's key (customer, host, peer, port, proto: pair_key_of's fields, compared
 * where they are: no key is built for a record whose pair is not there), or NULL. A pool key's
 * pad is zero (pair_key_of), so this is the whole key's comparison. */
static inline struct pair *pair_find(struct beacon *b, struct bc_at at, uint32_t customer,
                                     const uint8_t host[16], const struct flow_rec *f,
                                     bool host_side)
{
    size_t base = (size_t)at.bucket * BC_WAYS;
    uint32_t tag = (uint32_t)(at.h >> 32) | 1u;
    uint32_t m = tags_match(&b->tags[base], BC_WAYS, tag);
    if (__builtin_expect(!m, 1)) /* most records: their pair is not in the pool */
        return NULL;
    for (; m; m &= m - 1) {
        struct pair *p =
            &b->pool[base + (size_t)__builtin_ctz(m)]; /* the matching slots in order */
        if (p->k.customer == customer && p->k.proto == f->proto &&
            p->k.port == peer_port(f, host_side) && memcmp(p->k.host, host, 16) == 0 &&
            memcmp(p->k.peer, peer_addr(f, host_side), 16) == 0)
            return p;
    }
    return NULL;
}

/* Is the pair's peer port NTP's (UDP 123): the pairs whose not_ntp flag is read. */
static inline bool ntp_pair(const struct pair_key *k)
{
    return k->proto == 17 && k->port == DET_NTP_PORT;
}

/* Is pair p a time service: NTP messages and nothing else to UDP/123 (no schedule, no long
 * session alert; a record not NTP-sized makes it a candidate again)? */
static inline bool pair_time_service(const struct pair *p)
{
    return ntp_pair(&p->k) && !p->not_ntp;
}

/* Are pair p's connections reachability checks: TCP handshakes the host completed and closed
 * with no data either way (records of both ends seen, none with PSH or more bytes than segments
 * without data make, every one with flags), perhaps beside attempts that went unanswered? A
 * device testing that it can reach the Internet (an Amazon Echo opens and closes three
 * connections to example.com:80 every 5 minutes, IoT-23 CTU-Honeypot-Capture-5-1) carries
 * nothing a controller could send or read; a bot that reaches its C2 sends its check-in. A bot whose C2 never answers (only attempts, njRAT's 23 s) or
 * refuses it completes no handshake and stays a candidate; one record with data makes the pair
 * a candidate again. */
static inline bool pair_empty(const struct pair *p)
{
    return p->k.proto == 6 && p->opened && p->heard && !p->talked;
}

/* Can pair p not alert, as things stand: a schedule its host keeps with many peers (rhythm), NTP
 * messages and nothing else (a time service), reachability checks (pair_empty), a P2P client's
 * peer (pair_dual, as last found), a peer the
 * prevalence view counted as infrastructure at the pair's last active close (beacon_on_window)?
 * Such a pair holds a slot for nothing and gives way first (pair_admit). */
static bool pair_futile(const struct pair *p)
{
    return p->rhythm ||
           (!p->alerted && (p->infra || p->dual || pair_time_service(p) || pair_empty(p)));
}

/* A pair quiet for more than STALE_GAPS of its own mean intervals (and a minute) at now_ms has
 * stopped whatever rhythm it had: a burst of visits that ended, not a check-in on its way. A
 * schedule that misses three check-ins in a row is no longer being kept either. */
#define STALE_GAPS 4
static bool pair_stale(const struct pair *p, uint64_t now_ms)
{
    if (p->count < 2 || now_ms <= p->last_ms)
        return false;
    uint64_t mean = (p->last_ms - p->base_ms) / (p->count - 1);
    return now_ms - p->last_ms > STALE_GAPS * mean + 60000;
}

/* A slot for key k in at's bucket, at event time now_ms: a free one, else a victim. */
static struct pair *pair_admit(struct beacon *b, const struct pair_key *k, struct bc_at at,
                               uint64_t now_ms)
{
    size_t base = (size_t)at.bucket * BC_WAYS;
    struct pair *bucket = &b->pool[base], *victim = NULL;
    for (int i = 0; i < BC_WAYS && !victim; i++)
        if (!bucket[i].used)
            victim = &bucket[i];
    /* a pair that cannot alert (its host's own rhythm, a time service, an infrastructure peer)
     * gives way first, the least recently active of them */
    bool full = !victim;
    for (int i = 0; i < BC_WAYS && full; i++)
        if ((!victim || bucket[i].last_ms < victim->last_ms) && pair_futile(&bucket[i]))
            victim = &bucket[i];
    bool full_futile = full && victim;
    /* then one that has not alerted: a stale one first (a slow schedule between two check-ins
     * has few starts, and is kept over a burst that ended), the fewest starts, the least recent */
    for (int pass = 0; pass < 3 && !victim; pass++) {
        for (int i = 0; i < BC_WAYS; i++) {
            const struct pair *q = &bucket[i];
            if (pass < 2 && q->alerted)
                continue;
            if (pass == 0 && !pair_stale(q, now_ms))
                continue;
            if (!victim || q->count < victim->count ||
                (q->count == victim->count && q->last_ms < victim->last_ms))
                victim = &bucket[i];
        }
    }
    if (victim->used) {
        b->stat_evicted++;
        b->stat_evicted_live += !full_futile && !pair_stale(victim, now_ms);
        b->used--;
    }
    memset(victim, 0, sizeof *victim);
    victim->k = *k;
    victim->used = 1;
    b->tags[base + (size_t)(victim - bucket)] = (uint32_t)(at.h >> 32) | 1u;
    b->used++;
    b->stat_admitted++;
    return victim;
}

static struct pset *pend_set(struct beacon *b, struct bc_at at)
{
    return &b->pend[at.pset];
}

_Static_assert(PD_WAYS % 4 == 0 && PD_WAYS <= TAGS_MAX, "a pending set's tags: tags_match");

/* The entry of at's pending set holding its tag, or NULL: the first in order. */
static inline struct pend *pend_find(struct beacon *b, struct bc_at at)
{
    struct pset *set = pend_set(b, at);
    uint32_t m = tags_match(set->tag, PD_WAYS, (uint32_t)(at.h >> 32) | 1u);
    return m ? &set->e[__builtin_ctz(m)] : NULL;
}

/* A TCP record whose flags (exported) hold no SYN: a segment within a connection. */
static inline bool tcp_mid(const struct flow_rec *f)
{
    return f->proto == 6 && f->tcp_flags && !(f->tcp_flags & 0x02);
}

/* What one record says, from the pair's side. */
struct obs {
    bool host_side; /* the inside host sent it */
    bool syn;       /* TCP with SYN */
    bool mid;       /* TCP with flags exported, none of them a SYN: a segment within a connection */
    bool may_start; /* may be a connection start */
    uint8_t basis;  /* enum flow_init_basis (NONE: provisional) */
    uint8_t range;  /* provisional: 1 the port ranges guess the host started it, 2 the peer */
    bool not_ntp;   /* UDP port 123 at either end, not sized as NTP messages (det_ntp_sized) */
    bool udp;
    /* a bare TCP attempt: the host's SYN without ACK, or the peer's refusal (RST, no SYN, FIN or
     * PSH). The host's SYN after one is the same connect() retried on its port, not a new
     * connection: Windows sends a refused SYN twice more, 0.5 s apart, and a flow ends at a RST
     * (Zeek: one REJ each), a sampled or metered packet is a record of its own */
    bool attempt;
    /* talked: not TCP, or TCP with PSH (data pushed), without flags (the exporter cannot say) or
     * with more bytes than segments without data can make (flags a log made from a connection
     * state, as Argus's "FIN", hold no PSH); opened: the host's TCP record says its connection
     * was established (det_tcp_answered) */
    bool talked, opened;
    uint16_t hport;
    uint64_t first_ms, last_ms, bytes, packets;
};

/* How long after a connection's end (only bare attempts so far: attempt) record o may still
 * continue it: inact, except a SYN, which starts another unless both are bare attempts (the same
 * connect() retried, struct obs). */
static inline uint64_t cont_after_end(const struct obs *o, bool attempt, uint64_t inact)
{
    return o->syn && !(o->attempt && attempt) ? 0 : inact;
}

/* Does record o continue connection c (times in units)? */
static bool conn_match(const struct conn *c, const struct obs *o, uint32_t rf, uint32_t rl,
                       uint32_t inact)
{
    if (!c->valid || c->hport != o->hport)
        return false;
    uint64_t lim = (uint64_t)c->end + cont_after_end(o, c->attempt, inact);
    return rf <= lim && (uint64_t)rl + inact >= c->start;
}

/* Which end opened a connection, once both directions were seen: the side whose record started
 * first (ms; a tie decides nothing), when the other side's first record came within answer_ms
 * (the inactive timeout) of it - an answer; a later one is a later exchange of a session whose
 * first answer was not seen (a UDP session's record that came before the session was followed).
 * dirs/open_ms: the connection's; returns 1 (host), 2 (peer) or 0 when not decided by this
 * record. */
static int opener_update(uint8_t *dirs, uint32_t *open_ms, bool host_side, uint64_t first_ms,
                         uint64_t answer_ms)
{
    uint8_t bit = host_side ? 1 : 2;
    uint32_t t = (uint32_t)first_ms;
    if (!*dirs) {
        *dirs = bit;
        *open_ms = t;
        return 0;
    }
    if (*dirs & bit) {
        if (*dirs == bit && (int32_t)(t - *open_ms) < 0)
            *open_ms = t; /* an earlier record of the only side seen so far */
        return 0;
    }
    *dirs |= bit;
    int32_t d = (int32_t)(t - *open_ms);
    if (d == 0 || (uint64_t)(d < 0 ? -(int64_t)d : d) > answer_ms)
        return 0;
    return ((d < 0) == host_side) ? 1 : 2;
}

static void count_opener(struct pair *p, int who)
{
    if (who == 1 && p->opened_out < UINT16_MAX)
        p->opened_out++;
    else if (who == 2 && p->opened_in < UINT16_MAX)
        p->opened_in++;
}

static void conn_span_grew(struct pair *p, struct conn *c, uint32_t old_span,
                           const struct beacon_conf *cf)
{
    uint32_t span = c->end - c->start;
    uint64_t grow = (uint64_t)(span - old_span) * UNIT_MS, span_ms = (uint64_t)span * UNIT_MS;
    p->dur_ms += grow;
    if (span_ms > p->longest_ms)
        p->longest_ms = span_ms;
    if (c->is_long) {
        p->long_ms += grow;
    } else if (span_ms >= cf->long_session * 1000) {
        c->is_long = 1;
        p->long_n++;
        p->long_ms += span_ms;
    }
}

static bool in_ring(const struct pair *p, uint32_t seq)
{
    return p->count - seq <= p->n;
}

static void fold(struct beacon *b, struct pair *p, struct conn *c, const struct obs *o, uint32_t rf,
                 uint32_t rl, const struct beacon_conf *cf)
{
    uint32_t old_span = c->end - c->start;
    c->attempt &= o->attempt;
    count_opener(p, opener_update(&c->dirs, &c->open_ms, o->host_side, o->first_ms,
                                  cf->inactive_timeout * 1000));
    if (rf < c->start) {
        c->start = rf;
        if (in_ring(p, c->seq))
            p->ts[c->seq % BC_TS] = rf;
    }
    if (rl > c->end)
        c->end = rl;
    conn_span_grew(p, c, old_span, cf);
    if (o->host_side) {
        p->bytes_out += o->bytes;
        if (in_ring(p, c->seq))
            p->by[c->seq % BC_TS] = sat32((uint64_t)p->by[c->seq % BC_TS] + o->bytes);
    } else {
        p->bytes_in += o->bytes;
    }
    p->packets += o->packets;
    p->not_ntp |= o->not_ntp;
    p->talked |= o->talked;
    p->opened |= o->opened;
    p->heard |= !o->host_side;
    p->cont++;
    b->stat_cont++;
    if (o->last_ms > p->last_ms)
        p->last_ms = o->last_ms;
    p->touched = 1;
}

/* Did the peer refuse connection c: a record of the peer's seen, and every record of it a bare
 * attempt (the host's SYN, the peer's RST; struct obs)? A C2 server down or turning its bots
 * away. No answer at all is not counted: an exporter may see one direction only. */
static inline bool conn_refused(const struct conn *c)
{
    return c->valid && c->attempt && (c->dirs & 2);
}

/* Connections of pair p the peer refused: those ended (counted as their slots were reused) and
 * those still followed. */
static uint32_t pair_refused(const struct pair *p)
{
    uint32_t n = p->refused;
    for (int i = 0; i < BC_RECENT; i++)
        n += conn_refused(&p->recent[i]);
    return n;
}

/* A new connection of pair p; returns it. */
static struct conn *pair_start(struct beacon *b, struct pair *p, const struct obs *o,
                               const struct beacon_conf *cf)
{
    if (p->count == 0)
        p->base_ms = o->first_ms;
    else if (o->first_ms < p->base_ms)
        pair_rebase(p, o->first_ms);
    uint32_t rf = rel_units(p, o->first_ms), rl = rel_units(p, o->last_ms);
    struct conn *c = &p->recent[0];
    for (int i = 1; i < BC_RECENT && c->valid; i++) /* a free one, else the one idle longest */
        if (!p->recent[i].valid || p->recent[i].end < c->end)
            c = &p->recent[i];
    if (conn_refused(c) && p->refused < UINT16_MAX)
        p->refused++; /* its fate is final */
    memset(c, 0, sizeof *c);
    c->valid = 1;
    c->start = rf;
    c->end = rl;
    c->hport = o->hport;
    c->attempt = o->attempt;
    c->seq = p->count;
    opener_update(&c->dirs, &c->open_ms, o->host_side, o->first_ms, 0);
    p->ts[p->head] = rf;
    p->by[p->head] = o->host_side ? sat32(o->bytes) : 0;
    p->head = (uint8_t)((p->head + 1) % BC_TS);
    if (p->n < BC_TS)
        p->n++;
    if (p->count && o->hport != p->last_hport && p->hport_changes < UINT16_MAX)
        p->hport_changes++;
    p->last_hport = o->hport;
    p->count++;
    if (o->basis != INIT_BASIS_NONE && (p->basis == INIT_BASIS_NONE || o->basis < p->basis))
        p->basis = o->basis;
    if (o->range == 1 && p->range_out < UINT16_MAX)
        p->range_out++;
    else if (o->range == 2 && p->range_in < UINT16_MAX)
        p->range_in++;
    if (o->host_side)
        p->bytes_out += o->bytes;
    else
        p->bytes_in += o->bytes;
    p->packets += o->packets;
    p->not_ntp |= o->not_ntp;
    p->talked |= o->talked;
    p->opened |= o->opened;
    p->heard |= !o->host_side;
    conn_span_grew(p, c, 0, cf);
    if (o->last_ms > p->last_ms)
        p->last_ms = o->last_ms;
    p->dirty = 1;
    p->touched = 1;
    b->stat_starts++;
    return c;
}

/* The longest gap (s) within which record o continues a connection of its host port: a UDP
 * socket pair's session (udp_session), a TCP segment's without SYN (tcp_session), else the
 * exporters' inactive timeout. */
static inline uint64_t cont_gap_s(const struct beacon_conf *cf, const struct obs *o)
{
    uint64_t g = o->udp ? cf->udp_session : o->mid ? cf->tcp_session : 0;
    return g > cf->inactive_timeout ? g : cf->inactive_timeout;
}

/* Count a record that continued its connection after a gap above the inactive timeout (late):
 * a UDP socket pair's session or a TCP connection's segment joined over the longer gap. */
static inline void count_session_gap(struct beacon *b, const struct obs *o, bool late)
{
    b->stat_udp_sess += o->udp && late;
    b->stat_tcp_sess += o->mid && late;
}

/* A record for pair p: continue a followed connection, or start one. */
static void pair_record(struct beacon *b, struct pair *p, const struct obs *o,
                        const struct beacon_conf *cf)
{
    if (o->first_ms < p->base_ms)
        pair_rebase(p, o->first_ms);
    uint32_t rf = rel_units(p, o->first_ms), rl = rel_units(p, o->last_ms);
    uint32_t inact = sat32(cont_gap_s(cf, o) * 1000 / UNIT_MS);
    for (int i = 0; i < BC_RECENT; i++) {
        if (conn_match(&p->recent[i], o, rf, rl, inact)) {
            count_session_gap(
                b, o, rf > (uint64_t)p->recent[i].end + cf->inactive_timeout * 1000 / UNIT_MS);
            fold(b, p, &p->recent[i], o, rf, rl, cf);
            return;
        }
    }
    if (o->may_start)
        pair_start(b, p, o, cf);
}

/* Promote a pending first connection to a slot seeded with it (its start was counted when it
 * went pending). */
static struct pair *promote(struct beacon *b, const struct pair_key *k, struct bc_at at,
                            struct pend *pd, const struct beacon_conf *cf, uint64_t now_ms)
{
    struct pair *p = pair_admit(b, k, at, now_ms);
    struct obs first = {
        .host_side = pd->dirs != 2,
        .may_start = true,
        .basis = pd->basis,
        .range = pd->range,
        /* its records as one: a first connection is one exchange */
        .not_ntp =
            ntp_pair(k) && !det_ntp_sized(addr_is_v4(k->host),
                                          (uint64_t)pd->bytes_out + pd->bytes_in, pd->packets),
        .attempt = pd->attempt,
        .talked = pd->talked,
        .hport = pd->hport,
        .first_ms = pd->start_ms,
        .last_ms = pd->start_ms + pd->span_ms,
        .bytes = pd->bytes_out,
        .packets = pd->packets,
    };
    struct conn *c = pair_start(b, p, &first, cf);
    b->stat_starts--;
    p->bytes_in += pd->bytes_in;
    c->dirs = pd->dirs;
    p->heard |= (pd->dirs & 2) != 0;
    c->open_ms = (uint32_t)pd->start_ms;
    count_opener(p, pd->opened);
    struct pset *set = pend_set(b, at);
    set->tag[pd - set->e] = 0;
    return p;
}

/* A new pending first connection, record o's (its pair at at): a free entry of the set, else
 * the one whose connection ended first. */
static inline struct pend *pend_new(struct beacon *b, struct bc_at at, const struct obs *o,
                                    uint64_t idle_ms)
{
    struct pset *set = pend_set(b, at);
    uint32_t m = tags_match(set->tag, PD_WAYS, 0);
    unsigned v = 0;
    if (__builtin_expect(m != 0, 1)) { /* a free entry (a full set: a busy or small cache) */
        v = (unsigned)__builtin_ctz(m);
    } else {
        for (unsigned i = 1; i < PD_WAYS; i++)
            if (set->e[i].start_ms + set->e[i].span_ms < set->e[v].start_ms + set->e[v].span_ms)
                v = i;
        if (set->e[v].start_ms + set->e[v].span_ms + idle_ms >= o->first_ms)
            b->stat_pend_over++; /* not stale yet (within idle): a first check-in may be lost */
    }
    set->tag[v] = (uint32_t)(at.h >> 32) | 1u;
    struct pend *e = &set->e[v];
    *e = (struct pend){
        .hport = o->hport,
        .basis = o->basis,
        .dirs = o->host_side ? 1 : 2,
        .range = o->range & 3,
        .attempt = o->attempt,
        .talked = o->talked,
        .start_ms = o->first_ms,
    };
    /* the wide fields stored one by one (gcc assembles them in a vector register otherwise) */
    uint32_t bytes = sat32(o->bytes);
    e->span_ms = sat32(o->last_ms - o->first_ms);
    e->bytes_out = o->host_side ? bytes : 0;
    e->bytes_in = o->host_side ? 0 : bytes;
    e->packets = sat32(o->packets);
    b->stat_pending++;
    return e;
}

/* A record for a pending first connection: 1 folded into it, 0 not its connection. */
static int pend_record(struct beacon *b, struct pend *pd, const struct obs *o,
                       const struct beacon_conf *cf)
{
    uint64_t end = pd->start_ms + pd->span_ms, inact = cont_gap_s(cf, o) * 1000;
    if (o->hport != pd->hport || o->first_ms > end + cont_after_end(o, pd->attempt, inact) ||
        o->last_ms + inact < pd->start_ms)
        return 0;
    pd->attempt &= o->attempt;
    pd->talked |= o->talked;
    uint8_t dirs = pd->dirs;
    uint32_t open_ms = (uint32_t)pd->start_ms;
    int who =
        opener_update(&dirs, &open_ms, o->host_side, o->first_ms, cf->inactive_timeout * 1000);
    pd->dirs = dirs & 3;
    if (who)
        pd->opened = (uint8_t)who;
    if (o->first_ms < pd->start_ms) {
        pd->span_ms = sat32(end - o->first_ms);
        pd->start_ms = o->first_ms;
    }
    if (o->last_ms > pd->start_ms + pd->span_ms)
        pd->span_ms = sat32(o->last_ms - pd->start_ms);
    if (o->host_side)
        pd->bytes_out = sat32((uint64_t)pd->bytes_out + o->bytes);
    else
        pd->bytes_in = sat32((uint64_t)pd->bytes_in + o->bytes);
    pd->packets = sat32((uint64_t)pd->packets + o->packets);
    b->stat_cont++;
    count_session_gap(b, o, o->first_ms > end + cf->inactive_timeout * 1000);
    return 1;
}

/* The pair key of record f for the inside host addr of customer (host_side: the host sent f). */
static void pair_key_of(struct pair_key *k, uint32_t customer, const uint8_t addr[16],
                        const struct flow_rec *f, bool host_side)
{
    memset(k, 0, sizeof *k);
    k->customer = customer;
    memcpy(k->host, addr, 16);
    memcpy(k->peer, peer_addr(f, host_side), 16);
    k->port = peer_port(f, host_side);
    k->proto = f->proto;
}

/* Records this detector has nothing to do with, before any lookup (one test for on_flow and
 * the prefetch pass): not TCP or UDP, no direction, a record its exporter's clock contradicts
 * (BC_SKIP_SKEW: all timing), or between two hosts of one customer (INTERNAL, or the inbound
 * copy the other end's shard gets: a host's own customer's servers, its resolvers, its
 * directory, its monitoring, are not C2). */
enum { BC_TAKE = 0, BC_SKIP, BC_SKIP_SKEW };
static int beacon_skips(const struct flow_rec *f)
{
    if ((f->proto != 6 && f->proto != 17) || f->dir == FLOW_DIR_NONE)
        return BC_SKIP;
    if (f->flags & FLOW_F_CLOCK_SKEW)
        return BC_SKIP_SKEW;
    return f->peer_customer && f->peer_customer == f->customer ? BC_SKIP : BC_TAKE;
}

/* The worker's prefetch pass (detector_ops.prefetch): the key's tag block and pending set of a
 * record on_flow may look up, and the key's hash and places kept for on_flow (beacon_at). */
static void beacon_prefetch(void *self, size_t i, const struct flow_rec *f, uint64_t host_hash)
{
    struct beacon *b = self;
    if (beacon_skips(f) != BC_TAKE) {
        det_memo_none(&b->memo, i);
        return;
    }
    bool host_side = f->dir != FLOW_DIR_IN; /* the key's fields as pair_key_of takes them */
    uint64_t hv = pair_hash(b, host_hash, f->customer, peer_addr(f, host_side),
                            peer_port(f, host_side), f->proto);
    struct bc_at at = bc_at(b, hv);
    __builtin_prefetch(&b->tags[(size_t)at.bucket * BC_WAYS]);
    const struct pset *set = pend_set(b, at);
    __builtin_prefetch(set);
    __builtin_prefetch((const uint8_t *)set + CACHE_LINE);
    uint64_t *v = det_memo_put(&b->memo, i, f);
    if (v) {
        v[0] = hv;
        v[1] = (uint64_t)at.bucket << 32 | at.pset;
    }
}

/* Where on_flow's record's pair lives (its host h, the peer's fields as pair_key_of takes them):
 * the prefetch pass's (memo, what det_memo_get gave for the record), else computed. */
static struct bc_at beacon_at(const struct beacon *b, const struct det_ctx *ctx,
                              const struct host *h, const struct flow_rec *f, bool host_side,
                              const uint64_t *memo)
{
    if (memo)
        return (struct bc_at){memo[0], (uint32_t)(memo[1] >> 32), (uint32_t)memo[1]};
    return bc_at(b, pair_hash(b, det_host_hash(ctx, h), h->customer, peer_addr(f, host_side),
                              peer_port(f, host_side), f->proto));
}

/* What record f says from the pair's side (basis, range, may_start: on_flow's reading of it).
 * Kept inline: with talked and opened gcc put it out of line, a struct returned through memory
 * on every record (+64 instructions a record, bench/RESULTS.md seventy-second part). */
static inline __attribute__((always_inline)) struct obs obs_of(const struct flow_rec *f,
                                                               bool host_side, uint8_t basis,
                                                               uint8_t range, uint16_t hport,
                                                               bool may_start)
{
    return (struct obs){
        .host_side = host_side,
        .may_start = may_start,
        .syn = f->proto == 6 && (f->tcp_flags & 0x02) != 0,
        .mid = tcp_mid(f),
        .udp = f->proto == 17,
        .attempt = f->proto == 6 &&
                   (host_side ? (f->tcp_flags & 0x3f) == 0x02 : (f->tcp_flags & 0x0f) == 0x04),
        .talked = f->proto != 6 || (f->tcp_flags & 0x08) || !f->tcp_flags ||
                  f->bytes > f->packets * (addr_is_v4(f->src) ? TCP_BARE_MAX : TCP_BARE_MAX + 20),
        .opened = f->proto == 6 && host_side && det_tcp_answered(f),
        .basis = basis,
        .range = range,
        /* read for pairs only: a pending first connection's records are judged as one */
        .not_ntp =
            __builtin_expect(
                f->proto == 17 && (f->sport == DET_NTP_PORT || f->dport == DET_NTP_PORT), 0) &&
            !det_ntp_sized(addr_is_v4(f->src), f->bytes, f->packets),
        .hport = hport,
        .first_ms = f->first_ms,
        .last_ms = f->last_ms >= f->first_ms ? f->last_ms : f->first_ms,
        .bytes = f->bytes,
        .packets = f->packets,
    };
}

/* A record of a pending first connection on_flow found (pd, at at): out of line, so that the
 * common record (a new pending entry) carries none of it. */
static __attribute__((noinline)) void beacon_pending(struct beacon *b, const struct beacon_conf *c,
                                                     const struct host *h, const struct flow_rec *f,
                                                     struct bc_at at, struct pend *pd,
                                                     const struct obs *o)
{
    struct pair_key k;
    pair_key_of(&k, h->customer, h->addr, f, o->host_side);
    if (pend_record(b, pd, o, c)) {
        if ((uint64_t)pd->span_ms >= c->long_session * 1000) /* a long session: follow it */
            promote(b, &k, at, pd, c, o->last_ms);
        return;
    }
    if (o->may_start)
        pair_record(b, promote(b, &k, at, pd, c, o->last_ms), o, c);
}

/* A bulk transfer or a flood, never a check-in nor a session's start: more than max_packets
 * packets in each BULK_SPAN_MS the record spans. A router's record covers at most its active
 * timeout (30 min by default, often 1 min), so there the count alone decides; a Zeek or Argus
 * record holds a whole connection, and a C2 channel kept a day at a packet every few seconds
 * (Torii: 17 000 in 24 h) is no bulk transfer. */
#define BULK_SPAN_MS (30 * 60 * 1000ULL)
static inline bool bulk_record(const struct flow_rec *f, const struct beacon_conf *c)
{
    if (__builtin_expect(f->packets <= c->max_packets, 1))
        return false;
    uint64_t spans = f->last_ms > f->first_ms ? (f->last_ms - f->first_ms) / BULK_SPAN_MS : 0;
    return f->packets / (spans + 1) > c->max_packets;
}

static void beacon_on_flow(void *self, struct det_ctx *ctx, struct host *h, void *hstate,
                           const struct flow_rec *f)
{
    (void)hstate;
    struct beacon *b = self;
    /* The prefetch pass keeps a hash only for a record beacon_skips takes (det_memo_none for
     * the others): with one, the test is made. */
    const uint64_t *memo = det_memo_get(&b->memo, ctx, f);
    if (!memo) {
        int skip = beacon_skips(f);
        if (skip != BC_TAKE) {
            b->stat_skew += skip == BC_SKIP_SKEW;
            return;
        }
    }
    bool host_side = f->dir != FLOW_DIR_IN;
    const struct beacon_conf *c = det_conf(ctx, h->customer);
    if (__builtin_expect(f->sampling > c->max_sampling, 0)) {
        b->stat_sampled++;
        return;
    }
    if (c->allow.n | c->resolvers.n) { /* most customers list none: one test of both */
        const uint8_t *peer = peer_addr(f, host_side);
        if (pfxlist_match(&c->allow, peer) || pfxlist_match(&c->resolvers, peer))
            return;
    }
    enum flow_init_basis basis;
    enum flow_init who = det_initiator(ctx, f, &basis);
    uint8_t range = 0;
    if (basis == INIT_BASIS_RANGE) {
        /* Port ranges only guess: an old client's port (1025-5000) against a C2 port in the
         * dynamic range reads the wrong way round. Provisional, with the guess kept as the
         * weakest vote: the pair settles it (the key port is the peer's, so only a peer whose
         * port stays fixed gathers a pair). */
        range = (who == FLOW_INIT_SRC) == host_side ? 1 : 2;
        who = FLOW_INIT_UNKNOWN;
        basis = INIT_BASIS_NONE;
    }
    uint16_t hport = host_side ? f->sport : f->dport;
    bool peer_started = who != FLOW_INIT_UNKNOWN && (who == FLOW_INIT_SRC) != host_side;
    /* The peer started it: the inside host answers a client of its own - unless only a service
     * port says so, the host's port is not a privileged one, and the host already calls this
     * peer's port from other ports (a pair or a pending first connection under this key, with
     * another host port): then the host's changing client port hit a service number this time
     * (an old client's 1025-5000 holds 1433, 1521, 3306, 3389...), and the pair's fixed port
     * decides, as for any provisional start (overruled below, after the lookup). */
    if (peer_started && (basis != INIT_BASIS_SERVICE || hport < 1024))
        return;
    /* A start: not the middle of a TCP connection (flags exported, no SYN), not a bulk record,
     * and from the peer's side only when the record says the host, its destination, started
     * it (asymmetric routing shows one direction; a start the peer's service port claimed and
     * the pair overrules below is provisional: the host's own record only). */
    bool may_start = !tcp_mid(f) && !bulk_record(f, c) && (host_side || who == FLOW_INIT_DST);
    /* The record's pair, else its pending first connection: looked up once. */
    struct bc_at at = beacon_at(b, ctx, h, f, host_side, memo);
    struct pair *p = pair_find(b, at, h->customer, h->addr, f, host_side);
    struct pend *pd = p ? NULL : pend_find(b, at);
    if (peer_started) {
        if (!(p ? p->count && p->last_hport != hport : pd && pd->hport != hport))
            return;
        basis = INIT_BASIS_NONE;
        b->stat_service_overruled++;
    }
    if (p) {
        if (f->first_ms + c->idle * 1000 < p->base_ms)
            return; /* older than the pair by more than it may stay idle: not part of it */
        if (!host_side)
            b->stat_answers++;
        struct obs o = obs_of(f, host_side, (uint8_t)basis, range, hport, may_start);
        pair_record(b, p, &o, c);
        return;
    }
    if (pd) {
        struct obs o = obs_of(f, host_side, (uint8_t)basis, range, hport, may_start);
        beacon_pending(b, c, h, f, at, pd, &o);
        return;
    }
    if (!may_start)
        return;
    struct obs o = obs_of(f, host_side, (uint8_t)basis, range, hport, may_start); /* not stored */
    pend_new(b, at, &o, c->idle * 1000); /* a start: stat_pending counts it */
}

/* ---- prevalence: one table for all workers, built at window close ---------------------- */

static void pv_key_make(struct pv_key *k, const uint8_t peer[16], uint16_t port, uint8_t proto,
                        int level)
{
    memset(k, 0, sizeof *k);
    memcpy(k->peer, peer, 16);
    if (level) {
        if (addr_is_v4(peer))
            k->peer[15] = 0;
        else
            memset(k->peer + 6, 0, 10);
    }
    k->port = port;
    k->proto = proto;
    k->level = (uint8_t)level;
}

/* Hosts and customers of an entry over both generations. */
static uint32_t pv_count(const struct pv_ent *e, uint32_t *customers)
{
    struct hll u = e->g[0].hosts;
    hll_merge(&u, &e->g[1].hosts);
    if (customers) {
        uint32_t set[PV_CUST], n = 0;
        for (int g = 0; g < 2; g++)
            for (unsigned i = 0; i < e->g[g].ncust && i < PV_CUST; i++) {
                bool seen = false;
                for (uint32_t j = 0; j < n; j++)
                    seen |= set[j] == e->g[g].cust[i];
                if (!seen && n < PV_CUST)
                    set[n++] = e->g[g].cust[i];
            }
        *customers = n;
    }
    return hll_count(&u);
}

static struct pv_ent *pv_find(const struct pv_table *t, const struct pv_key *k, uint64_t h)
{
    struct pv_ent *bucket = &t->ent[(h % t->nbuckets) * PV_WAYS];
    uint32_t tag = (uint32_t)(h >> 32) | 1u;
    for (int i = 0; i < PV_WAYS; i++)
        if (bucket[i].tag == tag && memcmp(&bucket[i].k, k, sizeof *k) == 0)
            return &bucket[i];
    return NULL;
}

/* Find or insert; a full bucket gives up its least prevalent entry (counted). */
static struct pv_ent *pv_get(struct pv_table *t, const struct pv_key *k, uint64_t h)
{
    struct pv_ent *e = pv_find(t, k, h);
    if (e)
        return e;
    struct pv_ent *bucket = &t->ent[(h % t->nbuckets) * PV_WAYS];
    uint32_t least = UINT32_MAX;
    for (int i = 0; i < PV_WAYS; i++) {
        if (!bucket[i].tag) {
            e = &bucket[i];
            break;
        }
        uint32_t n = pv_count(&bucket[i], NULL);
        if (n < least) {
            least = n;
            e = &bucket[i];
        }
    }
    if (e->tag)
        t->evicted++;
    else
        t->used++;
    memset(e, 0, sizeof *e);
    e->k = *k;
    e->tag = (uint32_t)(h >> 32) | 1u;
    return e;
}

/* Start a new generation when event time enters the next half horizon: the older one goes. */
static void pv_roll(struct pv_table *t, uint64_t now_ms, uint64_t horizon_s)
{
    uint64_t half = horizon_s * 1000 / 2;
    uint64_t g = half ? now_ms / half : 0;
    if (t->gen_no == 0 || g <= t->gen_no) {
        if (t->gen_no == 0)
            t->gen_no = g;
        return;
    }
    bool both = g > t->gen_no + 1; /* a jump: both generations are out of date */
    t->gen_no = g;
    t->cur ^= 1;
    t->rolls++;
    size_t total = t->nbuckets * PV_WAYS;
    for (size_t i = 0; i < total; i++) {
        struct pv_ent *e = &t->ent[i];
        if (!e->tag)
            continue;
        memset(&e->g[t->cur], 0, sizeof e->g[t->cur]);
        if (both)
            memset(&e->g[t->cur ^ 1], 0, sizeof e->g[t->cur ^ 1]);
        if (e->g[t->cur ^ 1].hosts.n == 0 && !e->g[t->cur ^ 1].hosts.dense) {
            e->tag = 0;
            t->used--;
        }
    }
}

/* A customer into a generation's set (saturating at PV_CUST: a union's count stays
 * min(distinct, PV_CUST) whichever were kept). */
static void pv_add_customer(struct pv_gen *g, uint32_t customer)
{
    for (unsigned i = 0; i < g->ncust; i++)
        if (g->cust[i] == customer)
            return;
    if (g->ncust < PV_CUST)
        g->cust[g->ncust++] = customer;
}

static void pv_add(struct pv_table *t, struct pv_ent *e, uint64_t host_hash, uint32_t customer)
{
    struct pv_gen *g = &e->g[t->cur];
    hll_add(&g->hosts, host_hash);
    pv_add_customer(g, customer);
}

/* d := d union s (hosts and customers): idempotent, order-free. */
static void pv_gen_merge(struct pv_gen *d, const struct pv_gen *s)
{
    hll_merge(&d->hosts, &s->hosts);
    for (unsigned i = 0; i < s->ncust && i < PV_CUST; i++)
        pv_add_customer(d, s->cust[i]);
}

/* Every pair active in the window of the instances selves[0..n) counts its host for its peer
 * (address and network level) in t's current generation. */
static void pv_add_pairs(struct pv_table *t, void *const *selves, size_t n,
                         const struct hash_key *pvk)
{
    for (size_t i = 0; i < n; i++) {
        const struct beacon *b = selves[i];
        size_t total = b->nbuckets * BC_WAYS;
        for (size_t s = 0; s < total; s++) {
            const struct pair *p = &b->pool[s];
            if (!p->used || !p->touched)
                continue;
            uint64_t hh = sk_hash_addr(pvk, p->k.host);
            for (int level = 0; level < 2; level++) {
                struct pv_key pk;
                pv_key_make(&pk, p->k.peer, p->k.port, p->k.proto, level);
                pv_add(t, pv_get(t, &pk, hash_bytes(pvk, &pk, sizeof pk)), hh, p->k.customer);
            }
        }
    }
}

struct prevalence {
    uint32_t hosts, customers, net_hosts, net_customers;
};

/* The prevalence of pair k's peer. The pair's own host is one of the hosts counted whenever the
 * pair is reported (a schedule is repeated contact, a long session long contact), so no count is
 * below 1: the view may predate the pair, or a full table may have given the entry up to others
 * in the same close (least prevalent first); an alert must not say no host talks to its peer. */
static void pv_lookup(const struct beacon *b, const struct pair_key *k, struct prevalence *out)
{
    *out = (struct prevalence){1, 1, 1, 1};
    if (!b->view)
        return;
    for (int level = 0; level < 2; level++) {
        struct pv_key pk;
        pv_key_make(&pk, k->peer, k->port, k->proto, level);
        const struct pv_ent *e = pv_find(b->view, &pk, hash_bytes(&b->pvk, &pk, sizeof pk));
        uint32_t hosts, customers = 0;
        if (!e || (hosts = pv_count(e, &customers)) == 0)
            continue;
        if (level == 0) {
            out->hosts = hosts;
            out->customers = customers ? customers : 1;
        } else {
            out->net_hosts = hosts;
            out->net_customers = customers ? customers : 1;
        }
    }
}

static bool pv_is_infra(const struct prevalence *v, const struct beacon_conf *c)
{
    return (v->hosts >= c->infra_hosts && v->customers >= c->infra_customers) ||
           (v->net_hosts >= c->infra_hosts && v->net_customers >= c->infra_customers);
}

/* Dispatcher thread, every worker idle: every pair active in the closing window counts its
 * host for its peer (address and network level) in worker 0's table, which every worker's
 * on_window then reads. */
static void beacon_merge(void *const *selves, size_t n, struct det_ctx *ctx)
{
    struct beacon *b0 = selves[0];
    const struct beacon_conf *c = det_conf(ctx, 0);
    if (!b0->pv && !b0->stat_pv_nomem) {
        b0->pv = pv_new(b0->cap_prevalence);
        if (!b0->pv) {
            b0->stat_pv_nomem = 1;
            log_error("beacon: no memory for the prevalence table (%zu entries): peers are not "
                      "told from infrastructure",
                      b0->cap_prevalence);
        }
    }
    struct pv_table *t = b0->pv;
    for (size_t i = 0; i < n; i++)
        ((struct beacon *)selves[i])->view = t;
    if (!t)
        return;
    pv_roll(t, ctx->win_end_ms, c->prevalence_horizon);
    pv_add_pairs(t, selves, n, &b0->pvk);
    struct pv_table *in = b0->share_in;
    if (!in || !in->used)
        return;
    for (size_t i = 0; i < in->nbuckets * PV_WAYS; i++) {
        const struct pv_ent *e = &in->ent[i];
        if (e->tag)
            pv_gen_merge(&pv_get(t, &e->k, hash_bytes(&b0->pvk, &e->k, sizeof e->k))->g[t->cur],
                         &e->g[0]);
    }
    pv_clear(in);
}

/* ---- the view shared by several processes (detector.h share_export, share_import) ------ */

/* An entry, in the same bytes on every machine (instances may run builds of other byte
 * orders; multi-byte integers little endian):
 *   0  the peer (16 bytes: struct pv_key's address or network)   16 port (u16)
 *   18 protocol (u8)   19 level (u8: 0 address, 1 network)
 *   20 hosts: exact values n (u8), dense (u8: 1 = HLL registers), then n u32 values (the
 *      hosts' hashes, SipHash of their address bytes: the same on every machine) or HLL_M
 *      one-byte registers
 *   then customers: count (u8, at most PV_CUST), then that many u32 customer indexes (every
 *      instance runs the same customer map).
 * The reader checks every length and value range; the entry's length must match exactly. */
#define PV_ENTRY_KEY 20

static size_t pv_entry_encode(const struct pv_key *k, const struct pv_gen *g, uint8_t *out)
{
    memcpy(out, k->peer, 16);
    le_put16(out + 16, k->port);
    out[18] = k->proto;
    out[19] = k->level;
    size_t o = PV_ENTRY_KEY;
    out[o++] = g->hosts.n;
    out[o++] = g->hosts.dense;
    if (g->hosts.dense) {
        memcpy(out + o, g->hosts.u.reg, HLL_M);
        o += HLL_M;
    } else
        for (unsigned i = 0; i < g->hosts.n; i++, o += 4)
            le_put32(out + o, g->hosts.u.set[i]);
    out[o++] = g->ncust;
    for (unsigned i = 0; i < g->ncust; i++, o += 4)
        le_put32(out + o, g->cust[i]);
    return o;
}

/* 0, or -EINVAL for bytes that are not an entry (a length or a value out of range). */
static int pv_entry_decode(const uint8_t *in, size_t len, struct pv_key *k, struct pv_gen *g)
{
    memset(k, 0, sizeof *k);
    memset(g, 0, sizeof *g);
    if (len < PV_ENTRY_KEY + 3)
        return -EINVAL;
    memcpy(k->peer, in, 16);
    k->port = le_get16(in + 16);
    k->proto = in[18];
    k->level = in[19];
    size_t o = PV_ENTRY_KEY;
    g->hosts.n = in[o++];
    g->hosts.dense = in[o++];
    if (k->level > 1 || g->hosts.dense > 1 || (!g->hosts.dense && g->hosts.n > HLL_EXACT))
        return -EINVAL;
    size_t hb = g->hosts.dense ? HLL_M : (size_t)g->hosts.n * 4;
    if (len < o + hb + 1)
        return -EINVAL;
    if (g->hosts.dense)
        memcpy(g->hosts.u.reg, in + o, HLL_M);
    else
        for (unsigned i = 0; i < g->hosts.n; i++)
            g->hosts.u.set[i] = le_get32(in + o + 4 * i);
    o += hb;
    g->ncust = in[o++];
    if (g->ncust > PV_CUST || len != o + (size_t)g->ncust * 4)
        return -EINVAL;
    for (unsigned i = 0; i < g->ncust; i++)
        g->cust[i] = le_get32(in + o + 4 * i);
    return 0;
}

_Static_assert(PV_ENTRY_KEY + 3 + HLL_M + 4 * PV_CUST <= DET_SHARE_ENTRY_MAX,
               "a prevalence entry must fit DET_SHARE_ENTRY_MAX");

/* Pipeline thread, workers idle, before the close whose beacon_merge adds these pairs: what
 * the merge will add, one entry per peer key (at most prevalence_peers: the table's bound). */
static size_t beacon_share_export(void *const *selves, size_t n, struct det_ctx *ctx,
                                  void (*emit)(void *arg, const void *entry, size_t len), void *arg)
{
    (void)ctx;
    struct beacon *b0 = selves[0];
    if (!b0->share_out && !(b0->share_out = pv_new(b0->cap_prevalence)))
        return 0;
    struct pv_table *t = b0->share_out;
    pv_clear(t);
    pv_add_pairs(t, selves, n, &b0->pvk);
    uint8_t buf[DET_SHARE_ENTRY_MAX];
    size_t out = 0;
    for (size_t i = 0; i < t->nbuckets * PV_WAYS; i++)
        if (t->ent[i].tag) {
            emit(arg, buf, pv_entry_encode(&t->ent[i].k, &t->ent[i].g[0], buf));
            out++;
        }
    b0->stat_shared_out += out;
    return out;
}

/* Pipeline thread: another instance's entry for the open window, kept for the next merge (a
 * full table gives up its least prevalent entry: counted as the table's evictions). */
static int beacon_share_import(void *self0, const void *entry, size_t len)
{
    struct beacon *b0 = self0;
    struct pv_key k;
    struct pv_gen g;
    if (pv_entry_decode(entry, len, &k, &g) < 0) {
        b0->stat_shared_bad++;
        return -EINVAL;
    }
    if (!b0->share_in && !(b0->share_in = pv_new(b0->cap_prevalence)))
        return -ENOMEM;
    struct pv_table *t = b0->share_in;
    pv_gen_merge(&pv_get(t, &k, hash_bytes(&b0->pvk, &k, sizeof k))->g[0], &g);
    b0->stat_shared_in++;
    return 0;
}

/* ---- scoring ------------------------------------------------------------------------- */

static double clamp01(double x)
{
    return isnan(x) || x < 0 ? 0 : x > 1 ? 1 : x;
}

enum sched_kind { SCHED_NONE, SCHED_REGULAR, SCHED_ALTERNATING, SCHED_BURSTS };

struct sched {
    enum sched_kind kind;
    size_t n, fit; /* intervals scored; those in the schedule */
    size_t nmin;
    double period_s;     /* median of the fitting intervals (alternating: the cycle) */
    double jitter;       /* the band's spread, (hi - lo) / (hi + lo) of the fitting intervals; two
                    * gaps: the wider of their two bands' (not the gaps' difference) */
    double gap_a, gap_b; /* alternating: the two gaps */
    double mad_s, skew, ts;
    double lp;       /* log of the chance random times would fit it */
    double q;        /* the times' resolution (s): an interval is known to within +-q */
    double alpha;    /* the chance allowed: `chance` over the host's pairs tested */
    size_t checkins; /* bursts: check-ins (each a burst of starts) */
    bool short_runs; /* a band passed but never n_min check-ins in a run (fit_regular) */
    double d[BC_TS]; /* the scored intervals, in time order */
};

static double ratio_of(const struct beacon_conf *c)
{
    return (1.0 + c->jitter) / (1.0 - c->jitter);
}

/* log of the chance that k independent exponential intervals (connections at random, Poisson
 * times) all lie within a ratio r of each other: log(a B(a, k)) with a = k / (r - 1), i.e.
 * log((k-1)! / ((a+1)(a+2)...(a+k-1))). The ratio of the largest to the smallest of k
 * exponentials does not depend on their rate, so this needs no estimate of it. */
static double log_chance_band(size_t k, double r)
{
    if (r < 1.000001)
        r = 1.000001;
    double a = (double)k / (r - 1.0), s = 0;
    for (size_t i = 1; i < k; i++)
        s += log((double)i) - log(a + (double)i);
    return s;
}

static double log_binom(size_t n, size_t k)
{
    double s = 0;
    for (size_t i = 1; i <= n - k; i++)
        s += log((double)(k + i) / (double)i);
    return s;
}

/* The fewest intervals any schedule needs (a fast or a slow one). */
static size_t nmin_least(const struct beacon_conf *c)
{
    return c->fast_min < c->slow_min ? c->fast_min : c->slow_min;
}

static size_t nmin_of(double period_s, const struct beacon_conf *c)
{
    return period_s < (double)c->fast_max ? c->fast_min : c->slow_min;
}

/* Each interval beyond a schedule's minimum must add this much evidence (nats): a pair is looked
 * at every window while its starts accumulate and its ring slides, and a fixed bar would pass
 * one random pair in about 1/chance looks; with this the chance that any look passes stays near
 * `chance` (a beacon with +-20 % jitter gains about 1.8 nats per interval, 1.3 with one check-in
 * in ten missed). */
#define EVIDENCE_PER_INTERVAL 0.5

/* The bar for n intervals of which nmin are needed (log of a chance). */
static double bar(double log_alpha, size_t n, size_t nmin)
{
    return log_alpha - EVIDENCE_PER_INTERVAL * (double)(n > nmin ? n - nmin : 0);
}

struct band {
    size_t first, k;
    double lp;     /* log of the chance random times give such a band among the n (union bound) */
    double margin; /* lp - the bar: <= 0 passes */
};

/* v[0..n) sorted ascending: of the bands of k >= kmin values within the widest ratio the
 * config allows (per_period: also k >= the minimum for the band's period), the one furthest
 * below the bar. Its chance is a union bound over every band size that could pass (the sizes
 * tried are as many looks) and, for its size k, over the C(n, k) choices of k intervals:
 * sizes * C(n, k) * P(k within its ratio). The intervals are known to within +-q (the times'
 * resolution), so the ratio scored is the widest they could have: (hi + q) / (lo - q); equal
 * intervals are then not a schedule of probability zero but what rounding makes of nearby
 * ones. nmin_fixed: the minimum when not per_period. */
static void best_band(const double *v, size_t n, size_t kmin, bool per_period, size_t nmin_fixed,
                      double log_alpha, double q, const struct beacon_conf *c, struct band *out)
{
    double rmax = ratio_of(c);
    out->lp = out->margin = INFINITY;
    out->first = out->k = 0;
    size_t klo = per_period ? nmin_least(c) : nmin_fixed;
    klo = klo > kmin ? klo : kmin;
    double looks = n >= klo ? log((double)(n - klo + 1)) : 0;
    for (size_t k = n; k >= kmin && k >= 2; k--) {
        size_t bi = 0;
        double br = INFINITY;
        for (size_t i = 0; i + k <= n; i++) {
            double r = v[i] > 0 ? v[i + k - 1] / v[i] : INFINITY;
            if (r < br) {
                br = r;
                bi = i;
            }
        }
        if (br > rmax)
            continue;
        double med = k % 2 ? v[bi + k / 2] : (v[bi + k / 2 - 1] + v[bi + k / 2]) / 2;
        size_t nmin = per_period ? nmin_of(med, c) : nmin_fixed;
        if (per_period && k < nmin)
            continue;
        if (!(v[bi] > q))
            continue;
        double lp = looks + log_binom(n, k) + log_chance_band(k, (v[bi + k - 1] + q) / (v[bi] - q));
        double margin = lp - bar(log_alpha, n, nmin);
        if (margin < out->margin) {
            out->lp = lp;
            out->margin = margin;
            out->first = bi;
            out->k = k;
        }
    }
}

static void sched_stats(struct sched *s, const double *core, size_t k)
{
    double v[BC_TS], tmp[BC_TS];
    memcpy(v, core, k * sizeof *v);
    struct robust r;
    robust_stats(v, tmp, k, 10.0, &r);
    s->mad_s = r.mad;
    s->skew = r.skew;
    double mad_score = r.median > 0 ? clamp01((r.median - r.mad) / r.median) : 1;
    s->ts = (clamp01(1 - fabs(r.skew)) + mad_score) / 2;
}

/* The relative spread of a band of sorted intervals core[0..k): (hi - lo) / (hi + lo), the
 * jitter the evidence reports (intervals within (1 +- it) x the band's middle). */
static double band_spread(const double *core, size_t k)
{
    double lo = core[0], hi = core[k - 1];
    return hi + lo > 0 ? (hi - lo) / (hi + lo) : 0;
}

/* The most intervals of d[0..n) (time order) within their band in one run: interval i's band
 * is [lo[i % 2], hi[i % 2]] (a regular schedule: both the same; two alternating gaps: each
 * their own). A shorter interval (another connection between two check-ins: a task, a second
 * channel) leaves the run as it is, and so does, on a regular schedule (missed_ok), one of two
 * intervals' worth within the band (one check-in missed); any other longer one (a silence the
 * schedule does not explain) ends it. */
static size_t band_run(const double *d, size_t n, const double lo[2], const double hi[2],
                       bool missed_ok)
{
    size_t run = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        double l = lo[i % 2], h = hi[i % 2];
        if (d[i] >= l && d[i] <= h)
            run++;
        else if (d[i] > h && !(missed_ok && d[i] / 2 >= l && d[i] / 2 <= h))
            run = 0;
        best = run > best ? run : best;
    }
    return best;
}

/* d[0..n): intervals (time order). A schedule when a band of them is one random connection times
 * would give with a chance of at most `chance`, and the band shows itself as one: the schedule's
 * minimum of check-ins (n_min) in one run (band_run). Regular gaps only in short runs between
 * silences off their grid are a retry timer's: a request unanswered and sent again at its
 * timeout a few times (a stub resolver's 5 s, 2-5 attempts), then nothing until the next
 * request; a beacon keeps its period. */
static bool fit_regular(const double *d, size_t n, const struct beacon_conf *c, struct sched *s)
{
    if (n < 3)
        return false;
    double v[BC_TS], tmp[BC_TS];
    memcpy(v, d, n * sizeof *v);
    struct robust r;
    robust_stats(v, tmp, n, 0, &r); /* sorts v */
    struct band b;
    best_band(v, n, 3, true, 0, log(s->alpha), s->q, c, &b);
    if (!(b.margin <= 0))
        return false;
    const double *core = v + b.first;
    double period = b.k % 2 ? core[b.k / 2] : (core[b.k / 2 - 1] + core[b.k / 2]) / 2;
    if (period < MIN_PERIOD_S)
        return false;
    const double lo[2] = {core[0], core[0]}, hi[2] = {core[b.k - 1], core[b.k - 1]};
    if (band_run(d, n, lo, hi, true) + 1 < nmin_of(period, c)) {
        s->short_runs = true;
        return false;
    }
    s->n = n;
    s->fit = b.k;
    s->lp = b.lp;
    s->period_s = period;
    s->nmin = nmin_of(period, c);
    s->jitter = band_spread(core, b.k);
    sched_stats(s, core, b.k);
    return true;
}

/* Two alternating gaps: the odd and the even intervals (time order) each a band; random times
 * give both with the product of their chances, and P(U1 U2 <= x) = x (1 - ln x) for
 * independent uniform U1, U2 (Fisher), so the product is held to the x that gives `chance`. */
static bool fit_alternating(const double *d, size_t n, const struct beacon_conf *c, struct sched *s)
{
    if (n < 6)
        return false;
    double half[2][BC_TS / 2 + 1], tmp[BC_TS];
    size_t m[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        half[i % 2][m[i % 2]++] = d[i];
    double alpha = s->alpha, x = alpha;
    for (int it = 0; it < 30; it++) /* x (1 - ln x) = alpha, by fixed point */
        x = alpha / (1.0 - log(x));
    double med[2], lo[2], hi[2], lp = 0, spread = 0;
    size_t fit = 0;
    for (int h = 0; h < 2; h++) {
        struct robust r;
        robust_stats(half[h], tmp, m[h], 0, &r); /* sorts */
        struct band b;
        best_band(half[h], m[h], 3, false, 3, 0, s->q, c, &b);
        if (b.lp == INFINITY)
            return false;
        const double *core = half[h] + b.first;
        med[h] = b.k % 2 ? core[b.k / 2] : (core[b.k / 2 - 1] + core[b.k / 2]) / 2;
        lo[h] = core[0];
        hi[h] = core[b.k - 1];
        spread = fmax(spread, band_spread(core, b.k));
        lp += b.lp;
        fit += b.k;
    }
    /* two gaps, not one schedule seen twice: they differ by more than a schedule's spread */
    if (fmax(med[0], med[1]) <= fmin(med[0], med[1]) * ratio_of(c))
        return false;
    /* each gap a wait between check-ins: a shorter one is the inside of a burst (fit_bursts) */
    if (fmin(med[0], med[1]) < MIN_PERIOD_S)
        return false;
    double cycle = med[0] + med[1];
    size_t nmin = nmin_of(cycle / 2, c);
    if (n < nmin || fit < nmin || !(lp <= bar(log(x), n, nmin)))
        return false;
    if (band_run(d, n, lo, hi, false) + 1 < nmin) { /* as a regular schedule's (fit_regular) */
        s->short_runs = true;
        return false;
    }
    s->n = n;
    s->fit = fit;
    s->lp = lp;
    s->nmin = nmin;
    s->period_s = cycle;
    s->gap_a = med[0];
    s->gap_b = med[1];
    s->jitter = spread;
    double sums[BC_TS];
    size_t ns = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sums[ns++] = d[i] + d[i + 1];
    sched_stats(s, sums, ns);
    return true;
}

/* Retry bursts and long sleeps: the largest jump (>= BURST_RATIO) in the sorted intervals
 * (zeros as one time unit) separates the gaps inside bursts from those between them.
 * Bursts they must be: at least half the check-ins of several starts (merging a few short gaps
 * of random traffic would make it look more regular than it is). t[0..m): sorted starts. */
static bool fit_bursts(const double *t, size_t m, const struct beacon_conf *c, struct sched *s)
{
    double all[BC_TS], tmp[BC_TS];
    size_t na = 0;
    for (size_t i = 1; i < m; i++)
        all[na++] = fmax(t[i] - t[i - 1], UNIT_MS / 1000.0);
    if (na < 4)
        return false;
    struct robust r;
    robust_stats(all, tmp, na, 0, &r); /* sorts */
    size_t split = 0;
    double best = 0;
    for (size_t i = 1; i < na; i++) {
        double q = all[i] / all[i - 1];
        if (q > best) {
            best = q;
            split = i;
        }
    }
    if (best < BURST_RATIO)
        return false;
    double gap = all[split];
    double ck[BC_TS], cd[BC_TS];
    size_t nc = 0, multi = 0, in_burst = 0;
    ck[nc++] = t[0];
    for (size_t i = 1; i < m; i++) {
        if (fmax(t[i] - t[i - 1], UNIT_MS / 1000.0) >= gap) {
            multi += in_burst > 0;
            in_burst = 0;
            ck[nc++] = t[i];
        } else {
            in_burst++;
        }
    }
    multi += in_burst > 0;
    if (2 * multi < nc)
        return false;
    for (size_t i = 1; i < nc; i++)
        cd[i - 1] = ck[i] - ck[i - 1];
    if (!fit_regular(cd, nc - 1, c, s))
        return false;
    memcpy(s->d, cd, (nc - 1) * sizeof *cd);
    s->kind = SCHED_BURSTS;
    s->checkins = nc;
    return true;
}

/* t[0..m): sorted start times (s), known to within q. Finds the schedule random times would give
 * with a chance of at most alpha, if any, into s: bursts first (else the regular gaps inside the
 * bursts would pass for the schedule), then one gap, then two. */
static bool find_schedule(const double *t, size_t m, double q, double alpha,
                          const struct beacon_conf *c, struct sched *s)
{
    memset(s, 0, sizeof *s);
    s->q = q;
    s->alpha = alpha;
    if (fit_bursts(t, m, c, s))
        return true;
    memset(s, 0, sizeof *s);
    s->q = q;
    s->alpha = alpha;
    double d[BC_TS];
    size_t n = 0;
    for (size_t i = 1; i < m; i++)
        if (t[i] - t[i - 1] > 0) /* zeros: parallel connections of one check-in */
            d[n++] = t[i] - t[i - 1];
    memcpy(s->d, d, n * sizeof *d);
    s->checkins = n + 1;
    if (fit_regular(d, n, c, s)) {
        s->kind = SCHED_REGULAR;
        return true;
    }
    if (fit_alternating(d, n, c, s)) {
        s->kind = SCHED_ALTERNATING;
        return true;
    }
    return false;
}

/* Who started the pair's connections: the strongest basis of a start (exporter, TCP flags,
 * service port), else the host's port changing while the peer's stayed fixed, else the host's
 * record of each connection starting first, else the port ranges' guess if it never wavered;
 * INIT_BASIS_NONE when undecided (or the evidence says the peer started them). */
static enum flow_init_basis pair_basis(const struct pair *p)
{
    if (p->basis != INIT_BASIS_NONE)
        return (enum flow_init_basis)p->basis;
    if (p->hport_changes >= 1)
        return INIT_BASIS_FIXED_PORT;
    if (p->opened_in)
        return p->opened_out >= 4u * p->opened_in ? INIT_BASIS_FIRST_PACKET : INIT_BASIS_NONE;
    if (p->opened_out)
        return INIT_BASIS_FIRST_PACKET;
    if (p->range_out && !p->range_in)
        return INIT_BASIS_RANGE;
    return INIT_BASIS_NONE;
}

/* The lowest peer port pair_dual reads: below it, one number names one service over both
 * transports (DNS 53, NTP 123, HTTPS 443 and QUIC), and a C2 channel may sit on it. */
#define DUAL_PORT_MIN 1024

/* Does pair p's host reach the same peer address and port over the other transport too: a TCP
 * pair's twin over UDP or a UDP pair's over TCP, in the pair pool or as a pending first
 * connection within idle_ms of now_ms (its tag: the twin's key is not kept there)? A P2P client
 * listens for its peers on one port for both, BitTorrent's uTP (BEP 29) and TCP alike, and tries
 * a peer that does not answer both ways, again at its own retry interval: a normal host of
 * CTU-Normal-7 reached 78.26.20.251:51413 over uTP once and by TCP SYN every 122.6 s for 20
 * minutes, a schedule to a peer long gone. That a TCP and a UDP flow between the same two ends
 * mark P2P traffic is the first heuristic of Karagiannis et al., "Transport layer identification
 * of P2P traffic" (IMC 2004); below DUAL_PORT_MIN it is a service's number (their exclusions). A
 * C2 implant calls its server over one transport; one that falls back from TCP to UDP on a
 * dynamic port is left to the lists. Only asked of a pair whose schedule or long sessions would
 * alert: one hash and a bucket's look. */
static bool pair_dual(const struct beacon *b, const struct det_ctx *ctx, const struct pair *p,
                      uint64_t now_ms, uint64_t idle_ms)
{
    if ((p->k.proto != 6 && p->k.proto != 17) || p->k.port < DUAL_PORT_MIN)
        return false;
    struct pair_key k = p->k; /* the twin's: pad zero as every pool key's (pair_key_of) */
    k.proto = p->k.proto == 6 ? 17 : 6;
    uint64_t h =
        pair_hash(b, hash_host(ctx->host_key, k.host), k.customer, k.peer, k.port, k.proto);
    struct bc_at at = bc_at(b, h);
    uint32_t tag = (uint32_t)(h >> 32) | 1u;
    size_t base = (size_t)at.bucket * BC_WAYS;
    for (uint32_t m = tags_match(&b->tags[base], BC_WAYS, tag); m; m &= m - 1) {
        const struct pair *q = &b->pool[base + (size_t)__builtin_ctz(m)];
        if (q->used && memcmp(&q->k, &k, sizeof k) == 0)
            return true;
    }
    const struct pset *set = &b->pend[at.pset];
    for (uint32_t m = tags_match(set->tag, PD_WAYS, tag); m; m &= m - 1) {
        const struct pend *e = &set->e[__builtin_ctz(m)];
        if (e->start_ms + e->span_ms + idle_ms >= now_ms)
            return true;
    }
    return false;
}

static bool is_declared_mta(const struct beacon *b, struct det_ctx *ctx, const struct pair *p)
{
    if (p->k.proto != 6 || p->k.port != 25 || b->mta_off == SIZE_MAX)
        return false;
    const uint8_t *sc = det_conf_named(ctx, "spam", p->k.customer);
    return sc && pfxlist_match((const struct pfxlist *)(const void *)(sc + b->mta_off), p->k.host);
}

static void json_prevalence(struct json *j, const struct prevalence *v, const struct beacon_conf *c)
{
    json_obj_open(j, "prevalence");
    json_u64(j, "hosts", v->hosts);
    json_u64(j, "customers", v->customers);
    json_u64(j, "net_hosts", v->net_hosts);
    json_u64(j, "net_customers", v->net_customers);
    json_u64(j, "infra_hosts", c->infra_hosts);
    json_u64(j, "infra_customers", c->infra_customers);
    json_obj_close(j);
}

static void json_traffic(struct json *j, const struct pair *p)
{
    json_u64(j, "connections", p->count);
    json_u64(j, "refused", pair_refused(p));
    json_u64(j, "continuations", p->cont);
    json_u64(j, "bytes_out", p->bytes_out);
    json_u64(j, "bytes_in", p->bytes_in);
    json_u64(j, "packets", p->packets);
}

static void alert_base(struct alert *a, const struct det_ctx *ctx, const struct pair *p)
{
    memset(a, 0, sizeof *a);
    a->detector = "beacon";
    a->customer = p->k.customer;
    a->has_host = a->has_peer = true;
    a->host_is_source = true;
    a->proto = p->k.proto;
    a->port = p->k.port;
    a->win_start_ms = ctx->win_start_ms;
    a->win_end_ms = ctx->win_end_ms;
    a->first_ms = p->base_ms;
    a->last_ms = p->last_ms;
    a->flows = p->count;
    a->bytes = p->bytes_out + p->bytes_in;
    a->packets = p->packets;
    memcpy(a->host, p->k.host, 16);
    memcpy(a->peer, p->k.peer, 16);
}

static const char *const sched_names[] = {"none", "regular", "alternating", "bursts"};

static int u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The starts of q sorted, repeats (parallel connections) left out; returns their count. */
static size_t starts_sorted(const struct pair *q, uint32_t t[BC_TS])
{
    size_t n = 0;
    memcpy(t, q->ts, q->n * sizeof *t);
    qsort(t, q->n, sizeof *t, u32_cmp);
    for (size_t i = 0; i < q->n; i++)
        if (!n || t[i] != t[n - 1])
            t[n++] = t[i];
    return n;
}

/* Whether pair q keeps a period too: of its intervals between starts (zeros, parallel
 * connections, left out) at least half, and at least nmin, within [lo_s, hi_s] (seconds), or
 * all of them (at least four: a pair not under test yet, a node that joined later).
 * Connections at random times put at most a quarter of their intervals within the default band
 * (ratio 2: e^-x - e^-2x is at most 1/4), under half within the widest (jitter 0.6, ratio 4),
 * whatever their rate, and four in a row with a chance of at most 1/256: a busy host's hundreds
 * of web pairs do not keep a period (three in a row, 1/64, took ten of a heavy web user's six
 * hundred and hid its C2's check-ins every 15 minutes). */
static bool keeps_period(const struct pair *q, double lo_s, double hi_s, size_t nmin)
{
    uint32_t t[BC_TS];
    size_t n = starts_sorted(q, t), k = 0, nd = n ? n - 1 : 0;
    for (size_t i = 1; i < n; i++) {
        double d = (t[i] - t[i - 1]) * (UNIT_MS / 1000.0);
        k += d >= lo_s && d <= hi_s;
    }
    return nd >= RHYTHM_STARTS - 1 && (k == nd || (k >= nmin && 2 * k >= nd));
}

/* A scheduler's cycle: a monitor runs several checks on each server it polls (NRPE's or
 * check_by_ssh's one connection a check, Zabbix's one an item), each at its own fixed offset in
 * the check interval, so a pair's starts repeat at the interval L, phases kept, while the gaps
 * between them are whatever the offsets make (the schedule found in them may be none of L).
 * A pair keeps cycle L when, for some lag of k = 1..CYCLE_PHASES starts (half the starts kept),
 * at least three in four of the differences t[i+k] - t[i] (and CYCLE_MIN of them) are within
 * CYCLE_TOL_S or CYCLE_TOL of L: a scheduler holds its offsets to its own latency, a second or
 * two. Starts at random times put a difference within that band with a chance of about
 * 0.04 * sqrt(k). A pair's own cycle: cycle_of. */
#define CYCLE_PHASES (BC_TS / 2)
#define CYCLE_MIN 4
#define CYCLE_TOL_S 3.0
#define CYCLE_TOL 0.02

static double cycle_tol(double L)
{
    return fmax(CYCLE_TOL_S, CYCLE_TOL * L);
}

/* The share of the lag-k differences of t (sorted starts without repeats, n of them) within L's
 * band (0: fewer than CYCLE_MIN of them). */
static double lag_share(const uint32_t *t, size_t n, size_t k, double L)
{
    if (n <= k || n - k < CYCLE_MIN)
        return 0;
    size_t in = 0, nd = n - k;
    double tol = cycle_tol(L);
    for (size_t i = 0; i + k < n; i++)
        in += fabs((t[i + k] - t[i]) * (UNIT_MS / 1000.0) - L) <= tol;
    return (double)in / (double)nd;
}

/* The cycle the pair's starts keep (seconds), or 0: of the lags k whose differences keep their
 * own median, the one that keeps it best (the smallest of equals: two cycles keep it as well as
 * one). A sub-cycle can keep three in four by chance (two pairs of checks as far apart as two
 * others); the check interval keeps them all, up to the scheduler's latency. */
static double cycle_of(const struct pair *p)
{
    uint32_t t[BC_TS];
    size_t n = starts_sorted(p, t);
    double best = 0, L = 0;
    for (size_t k = 1; k <= CYCLE_PHASES && n > k && n - k >= CYCLE_MIN; k++) {
        double d[BC_TS], tmp[BC_TS];
        size_t nd = n - k;
        for (size_t i = 0; i < nd; i++)
            d[i] = (t[i + k] - t[i]) * (UNIT_MS / 1000.0);
        struct robust r;
        robust_stats(d, tmp, nd, 0, &r);
        double sh = r.median > 0 ? lag_share(t, n, k, r.median) : 0;
        if (sh >= 0.75 && sh > best) {
            best = sh;
            L = r.median;
        }
    }
    return L;
}

static bool keeps_cycle(const struct pair *q, double L)
{
    uint32_t t[BC_TS];
    size_t n = starts_sorted(q, t);
    for (size_t k = 1; k <= CYCLE_PHASES; k++)
        if (lag_share(t, n, k, L) >= 0.75)
            return true;
    return false;
}

/* Has TCP pair q failed every time: no connection of the host's established, nothing said (each
 * attempt refused or never answered)? */
static inline bool pair_failing(const struct pair *q)
{
    return q->k.proto == 6 && !q->opened && !q->talked;
}

static inline uint32_t port_key(const struct pair *q)
{
    return (uint32_t)q->k.proto << 16 | q->k.port;
}

/* Does pair q keep p's rhythm: schedule s's period (keeps_period, within `jitter` of it; L 0) or
 * the cycle L p's starts keep (keeps_cycle)? */
static bool keeps_rhythm(const struct pair *q, const struct sched *s, const struct beacon_conf *c,
                         double L)
{
    if (L > 0)
        return keeps_cycle(q, L);
    return keeps_period(q, s->period_s * (1.0 - c->jitter), s->period_s * (1.0 + c->jitter),
                        s->nmin);
}

/* How many of the host's other pairs at this close (grp, n of them, p's among them) keep p's
 * rhythm (keeps_rhythm), up to need - leaving out failing ones (pair_failing) whose port another
 * failing one keeping it, or p failing, shares (*listed: how many were left out, p not counted;
 * all of them when the count stays below need): a bot walking its list of C2 servers in turn, one
 * port for many of them, each server once a cycle (Stratosphere's Trickbot captures: some 30
 * servers on 443 and 449, each tried every 49 minutes, all but three refusing or silent), where
 * a P2P client's peers that left each listen on a port of their own and a monitor's checks are
 * answered (or, connections without data, reachability checks: pair_empty). */
static uint32_t rhythm_peers_of(struct beacon *b, const struct tested *grp, size_t n,
                                const struct pair *p, const struct sched *s,
                                const struct beacon_conf *c, double L, uint32_t *listed)
{
    uint32_t k = 0, need = c->rhythm_peers;
    size_t nf = 0;
    *listed = 0;
    for (size_t i = 0; i < n && k < need; i++) {
        const struct pair *q = &b->pool[grp[i].slot];
        if (q == p || !keeps_rhythm(q, s, c, L))
            continue;
        if (pair_failing(q))
            b->ports[nf++] = port_key(q);
        else
            k++;
    }
    b->nports = 0;
    if (k >= need || !nf)
        return k;
    bool pf = pair_failing(p);
    if (pf)
        b->ports[nf++] = port_key(p);
    qsort(b->ports, nf, sizeof *b->ports, u32_cmp);
    b->nports = nf;
    size_t alone = 0, p_alone = 0;
    for (size_t i = 0, j; i < nf; i = j) {
        for (j = i + 1; j < nf && b->ports[j] == b->ports[i];)
            j++;
        alone += j - i == 1;
        p_alone += j - i == 1 && pf && b->ports[i] == port_key(p);
    }
    *listed = (uint32_t)(nf - alone - (pf && !p_alone));
    return k + (uint32_t)(alone - p_alone);
}

/* Whether at least rhythm_peers of the host's other pairs at this close keep schedule s's period
 * too, or the cycle p's starts keep (keeps_cycle: a monitor's several checks on each server),
 * counted by rhythm_peers_of. That is a rhythm of the host's own kept with many peers at once - a
 * DHT node refreshing its routing table (BEP 5: a node not heard from for 15 minutes is pinged),
 * a P2P client retrying the peers that left, a monitor polling its list - where a C2 implant
 * calls its server (one at a time from a fallback list, which rhythm_peers_of tells apart when
 * its servers fail; *listed: how many failing servers keep the period or the cycle with p's,
 * for the evidence). Looked at for schedules found only. */
static bool host_rhythm(struct beacon *b, const struct tested *grp, size_t n, struct pair *p,
                        const struct sched *s, const struct beacon_conf *c, uint32_t *listed,
                        double *list_L)
{
    *list_L = 0;
    if (rhythm_peers_of(b, grp, n, p, s, c, 0, listed) < c->rhythm_peers) {
        double L = cycle_of(p); /* not the period: perhaps a cycle of several checks */
        uint32_t in_cycle = 0;
        bool cycle = L > 0 && rhythm_peers_of(b, grp, n, p, s, c, L, &in_cycle) >= c->rhythm_peers;
        if (in_cycle > *listed) {
            *listed = in_cycle;
            *list_L = L;
        }
        if (!cycle)
            return false;
    }
    p->rhythm = 1; /* evicted first (pair_admit) */
    return true;
}

/* The failing servers walked in turn with p's peer that host_rhythm counted in `listed` (the
 * period, L 0, or the cycle L it counted them by), as the evidence's "list_servers": up to
 * BC_LIST_SHOWN addresses in the host's pair order. rhythm_peers_of is run again for that L: it
 * leaves their ports sorted in b->ports, a server is listed when another failing one (p perhaps)
 * shares its port. */
static void json_list_servers(struct json *j, struct beacon *b, const struct tested *grp, size_t n,
                              const struct pair *p, const struct sched *s,
                              const struct beacon_conf *c, double L)
{
    uint32_t listed;
    rhythm_peers_of(b, grp, n, p, s, c, L, &listed);
    size_t shown = 0;
    json_arr_open(j, "list_servers");
    for (size_t i = 0; i < n && shown < BC_LIST_SHOWN && listed; i++) {
        const struct pair *q = &b->pool[grp[i].slot];
        if (q == p || !pair_failing(q) || !keeps_rhythm(q, s, c, L))
            continue;
        /* q's port in b->ports beside another failing keeper's of the same port */
        uint32_t key = port_key(q);
        const uint32_t *m = bsearch(&key, b->ports, b->nports, sizeof key, u32_cmp);
        if (m &&
            ((m > b->ports && m[-1] == key) || (m + 1 < b->ports + b->nports && m[1] == key))) {
            json_addr(j, NULL, q->k.peer);
            shown++;
        }
    }
    json_arr_close(j);
}

/* grp: the host's pairs at this close (beacon_on_window), ngrp of them; ntested of them under
 * test: `chance` is shared among those. */
static void beacon_report(struct beacon *b, struct det_ctx *ctx, struct pair *p,
                          const struct beacon_conf *c, enum flow_init_basis basis,
                          const struct tested *grp, size_t ngrp, size_t ntested)
{
    double t[BC_TS], tmp[BC_TS], v[BC_TS];
    size_t m = p->n;
    bool whole_s = m >= 3; /* every start on a whole second: an export of second resolution */
    for (size_t i = 0; i < m; i++) {
        t[i] = p->ts[i] / (1000.0 / UNIT_MS);
        v[i] = p->by[i];
        whole_s = whole_s && p->ts[i] % (1000 / UNIT_MS) == 0;
    }
    struct robust r;
    robust_stats(t, tmp, m, 0, &r); /* sorts the starts */
    struct sched s;
    if (!find_schedule(t, m, whole_s ? 1.0 : UNIT_MS / 1000.0, c->chance / (double)ntested, c,
                       &s)) {
        b->stat_short_runs += s.short_runs; /* regular only in short runs: a retry timer */
        return;
    }
    if (pair_time_service(p)) {
        b->stat_time_service++; /* time synchronisation: NTP messages and nothing else */
        return;
    }
    if (pair_empty(p)) {
        b->stat_empty++; /* reachability checks: handshakes without data */
        return;
    }
    if (p->dual || pair_dual(b, ctx, p, ctx->win_end_ms, (uint64_t)c->idle * 1000)) {
        p->dual = 1;
        b->stat_dual++; /* a P2P client's peer, tried over TCP and UDP */
        return;
    }
    if (2 * (uint64_t)p->long_n >= p->count) {
        /* most of its connections lasted long_session or more: each start reopens a session
         * (a file sync's 900 s long-polls one after another), no check-in; long_report judges
         * the pair */
        b->stat_reopened++;
        return;
    }
    struct prevalence pv;
    pv_lookup(b, &p->k, &pv);
    if (pv_is_infra(&pv, c)) {
        b->stat_infra++;
        return;
    }
    uint32_t listed; /* failing servers walked in turn with p's peer (rhythm_peers_of) */
    double list_L;   /* the cycle they keep with it, 0: the period */
    if (host_rhythm(b, grp, ngrp, p, &s, c, &listed, &list_L)) {
        b->stat_rhythm++;
        return;
    }
    robust_stats(v, tmp, m, 10.0, &r);
    double bmad = r.median >= 1 ? clamp01((r.median - r.mad) / r.median) : 0;
    double ds = (clamp01(1 - fabs(r.skew)) + bmad) / 2;
    double score = 0.6 * s.ts + 0.4 * ds;
    /* a pair keeps the rule it first alerted under (alerted: 1 fast, 2 slow) while its period
     * stays within a schedule's spread of fast_max: a 5-minute check-in whose median crosses
     * 300.0 s is one incident, not two rules taking turns */
    double fmax_s = (double)c->fast_max, r_spread = ratio_of(c);
    bool fast = (p->alerted & 3) == 1   ? s.period_s < fmax_s * r_spread
                : (p->alerted & 3) == 2 ? s.period_s <= fmax_s / r_spread
                                        : s.period_s < fmax_s;
    size_t nd = s.kind == SCHED_BURSTS ? s.checkins - 1 : s.n;

    char ev[3072];
    struct json j;
    json_init(&j, ev, sizeof ev);
    json_obj_open(&j, NULL);
    json_str(&j, "schedule", sched_names[s.kind]);
    json_double(&j, "period_s", s.period_s, s.period_s < 60 ? 2 : 1);
    json_double(&j, "jitter", s.jitter, 3);
    json_double(&j, "mad_s", s.mad_s, 2);
    json_double(&j, "skew", s.skew, 3);
    if (s.kind == SCHED_ALTERNATING) {
        json_arr_open(&j, "gaps_s");
        json_double(&j, NULL, s.gap_a, 1);
        json_double(&j, NULL, s.gap_b, 1);
        json_arr_close(&j);
    }
    json_arr_open(&j, "intervals_s");
    for (size_t i = 0; i < nd; i++)
        json_double(&j, NULL, s.d[i], s.d[i] < 60 ? 2 : 1);
    json_arr_close(&j);
    json_u64(&j, "in_schedule", s.fit);
    json_u64(&j, "checkins", s.checkins);
    json_u64(&j, "pairs_tested", ntested);
    if (listed) {
        json_u64(&j, "list_peers", listed);
        json_list_servers(&j, b, grp, ngrp, p, &s, c, list_L);
    }
    json_double(&j, "ts_score", s.ts, 3);
    json_double(&j, "ds_score", ds, 3);
    json_double(&j, "bytes_per_conn", r.median, 0);
    json_traffic(&j, p);
    json_str(&j, "initiator", flow_init_basis_name(basis));
    json_prevalence(&j, &pv, c);
    json_time(&j, "first_checkin", p->base_ms);
    json_time(&j, "last_checkin", p->base_ms + (uint64_t)(t[m - 1] * 1000.0 + 0.5));
    json_obj_close(&j);

    struct alert a;
    alert_base(&a, ctx, p);
    a.rule_id = fast ? "beacon.fast" : "beacon.slow";
    /* a failing server of a list walked in turn: the host's list is one incident, not one per
     * server (its live servers keep their own) */
    a.peer_group = listed && pair_failing(p) ? 1 : 0;
    a.severity = score >= 0.9 ? SEV_HIGH : SEV_MEDIUM;
    a.score = score;
    a.evidence_json = json_error(&j) ? NULL : ev;
    p->alerted |= fast ? 1 : 2;
    b->stat_alerts++;
    b->stat_alerts_fast += fast;
    det_alert(ctx, &a);
}

/* Is pair p's port a service port used as that service could be: not a UDP session to port 53
 * (a DNS client changes its port with each query, RFC 5452) nor one of messages not sized as
 * NTP's to port 123 (det_ntp_sized) - a C2 channel kept on one socket to a service's number.
 * Two service ports are a bot's channel more than a person's session when held for hours to a
 * server no one else uses: telnet's 23/tcp (Mirai's bots hold their one connection to the CNC
 * there, its source's default CNC port; IoT-23's Mirai captures label that session C&C; a
 * person's remote login is SSH's) and IRC's plain-text 6667/tcp (the channel of IRC botnets
 * since Rbot and Neris, CTU-13's IRC scenarios, to Tsunami/Kaiten and ShellBot today: each bot
 * joins the herder's channel and idles there answering PINGs; a person's client to a public
 * network reaches servers many hosts share, which the prevalence view passes, and takes TLS on
 * 6697, which stays a login). */
static bool bot_channel_port(const struct pair_key *k)
{
    return k->proto == 6 && (k->port == 23 || k->port == 6667);
}

static bool service_use(const struct pair *p)
{
    if (!port_is_service(p->k.proto, p->k.port) || bot_channel_port(&p->k))
        return false;
    return p->k.proto != 17 || (p->k.port != 53 && !(ntp_pair(&p->k) && p->not_ntp));
}

static void long_report(struct beacon *b, struct det_ctx *ctx, struct pair *p,
                        const struct beacon_conf *c, enum flow_init_basis basis)
{
    if (p->long_ms < c->long_total * 1000)
        return;
    if (p->long_n < 2 && service_use(p))
        return; /* one long session on a service port: an SSH login, a VPN, a push channel */
    if (pair_time_service(p)) {
        /* NTP messages and nothing else, however many sessions: an NTP client polling every
         * 64 s keeps one UDP session for hours and starts another after each longer gap */
        b->stat_time_service++;
        return;
    }
    if (pair_empty(p)) {
        b->stat_empty++; /* held open for hours without a byte of data */
        return;
    }
    if (p->dual || pair_dual(b, ctx, p, ctx->win_end_ms, (uint64_t)c->idle * 1000)) {
        p->dual = 1;
        b->stat_dual++; /* a P2P client's session, its peer's port reached both ways */
        return;
    }
    struct prevalence pv;
    pv_lookup(b, &p->k, &pv);
    if (pv.hosts > c->long_rare)
        return;
    if (p->habit) {
        b->stat_habit++; /* one of the host's many long sessions on the port: its browser's */
        return;
    }
    char ev[1024];
    struct json j;
    json_init(&j, ev, sizeof ev);
    json_obj_open(&j, NULL);
    json_double(&j, "total_duration_s", p->long_ms / 1000.0, 0);
    json_u64(&j, "long_sessions", p->long_n);
    json_double(&j, "longest_s", p->longest_ms / 1000.0, 0);
    json_double(&j, "all_sessions_s", p->dur_ms / 1000.0, 0);
    json_traffic(&j, p);
    json_bool(&j, "service_port", port_is_service(p->k.proto, p->k.port));
    json_str(&j, "initiator", flow_init_basis_name(basis));
    json_prevalence(&j, &pv, c);
    json_u64(&j, "rare_max", c->long_rare);
    json_time(&j, "first_seen", p->base_ms);
    json_time(&j, "last_seen", p->last_ms);
    json_obj_close(&j);
    struct alert a;
    alert_base(&a, ctx, p);
    a.rule_id = "beacon.long_session";
    a.severity = SEV_LOW;
    a.score = clamp01(0.4 + 0.1 * (double)p->long_ms /
                                (3600000.0 * (double)(c->long_total ? c->long_total / 3600.0 : 1)));
    if (a.score > 0.6)
        a.score = 0.6;
    a.evidence_json = json_error(&j) ? NULL : ev;
    p->alerted |= 4;
    b->stat_long_alerts++;
    det_alert(ctx, &a);
}

static int host_cmp(const struct tested *a, const struct tested *b)
{
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    return memcmp(a->host, b->host, 16);
}

/* By host, then pool slot (beacon_on_window's groups). */
static int tested_cmp(const void *x, const void *y)
{
    const struct tested *a = x, *b = y;
    int c = host_cmp(a, b);
    return c ? c : (a->slot > b->slot) - (a->slot < b->slot);
}

/* By host, then transport and port (mark_habits' groups). */
static int held_cmp(const void *x, const void *y)
{
    const struct tested *a = x, *b = y;
    int c = host_cmp(a, b);
    if (c)
        return c;
    return a->proto != b->proto ? a->proto - b->proto : a->port - b->port;
}

/* Is pair p forgotten at this close (no connection for `idle`)? */
static inline bool pair_idle(const struct pair *p, const struct beacon_conf *c, uint64_t now_ms)
{
    return p->last_ms + c->idle * 1000 < now_ms;
}

/* The host's own use of a port (the mirror of host_rhythm for long sessions): a pair whose host
 * holds long sessions (at least one of long_session) on the same port and transport with at
 * least rhythm_peers other peers too is marked `habit`, and so are the host's later ones there
 * while a marked pair is kept (the shared services' pairs, infrastructure, are the first a full
 * pool gives up). A marked pair raises no beacon.long_session: a browser's push, chat and
 * streaming connections to many services at once (CTU-Normal's Windows desktops hold them with
 * 8-9 peers on 443 a day, an Android phone's push and messaging clients as many), not a C2
 * channel, which a RAT or an IoT bot holds with one controller. Pairs with long sessions are
 * few; `tested` is the scratch (beacon_on_window fills it afterwards). Pairs forgotten at this
 * close (pair_idle) are left out, as beacon_on_window drops them. */
static void mark_habits(struct beacon *b, const struct det_ctx *ctx)
{
    size_t total = b->nbuckets * BC_WAYS, n = 0;
    for (size_t i = 0; i < total; i++) {
        struct pair *p = &b->pool[i];
        if (!p->used || !p->long_n)
            continue;
        if (pair_idle(p, det_conf(ctx, p->k.customer), ctx->win_end_ms))
            continue;
        struct tested *e = &b->tested[n++];
        memcpy(e->host, p->k.host, 16);
        e->customer = p->k.customer;
        e->slot = (uint32_t)i;
        e->port = p->k.port;
        e->proto = p->k.proto;
    }
    qsort(b->tested, n, sizeof *b->tested, held_cmp);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && held_cmp(&b->tested[i], &b->tested[j]) == 0; j++)
            ;
        const struct beacon_conf *c = det_conf(ctx, b->tested[i].customer);
        bool habit = j - i > c->rhythm_peers;
        for (size_t k = i; k < j && !habit; k++)
            habit = b->pool[b->tested[k].slot].habit;
        for (size_t k = i; k < j; k++)
            b->pool[b->tested[k].slot].habit = habit;
    }
}

static void beacon_on_window(void *self, struct det_ctx *ctx)
{
    struct beacon *b = self;
    size_t total = b->nbuckets * BC_WAYS, nt = 0;
    mark_habits(b, ctx);
    for (size_t i = 0; i < total; i++) {
        struct pair *p = &b->pool[i];
        if (!p->used)
            continue;
        const struct beacon_conf *c = det_conf(ctx, p->k.customer);
        if (pair_idle(p, c, ctx->win_end_ms)) {
            p->used = 0;
            b->tags[i] = 0;
            b->used--;
            b->stat_expired++;
            continue;
        }
        if (p->dirty || p->touched) { /* active in the window: its peer by the view (pair_futile) */
            struct prevalence pv;
            pv_lookup(b, &p->k, &pv);
            p->infra = pv_is_infra(&pv, c);
        }
        /* under test: enough starts to make a schedule (dirty or not: each is looked at
         * whenever it has new starts) */
        size_t testable = nmin_least(c) + 1;
        size_t listed = testable < RHYTHM_STARTS ? testable : RHYTHM_STARTS;
        if (!p->dirty && !p->touched && p->n < listed)
            continue;
        bool dirty = p->dirty, touched = p->touched;
        p->dirty = p->touched = 0;
        enum flow_init_basis basis = pair_basis(p);
        if (basis == INIT_BASIS_NONE) {
            b->stat_undecided += dirty;
            continue;
        }
        if (is_declared_mta(b, ctx, p)) {
            b->stat_mta += dirty;
            continue;
        }
        if (touched)
            long_report(b, ctx, p, c, basis);
        if (p->n >= listed) {
            struct tested *e = &b->tested[nt++];
            memcpy(e->host, p->k.host, 16);
            e->customer = p->k.customer;
            e->slot = (uint32_t)i;
            e->tested = p->n >= testable;
            e->dirty = dirty && e->tested;
        }
    }
    /* each host's pairs under test together: `chance` is shared among them (a resolver holds
     * hundreds of pairs of random queries, each a look a random one could pass) */
    qsort(b->tested, nt, sizeof *b->tested, tested_cmp);
    for (size_t i = 0, j; i < nt; i = j) {
        size_t ntested = b->tested[i].tested;
        for (j = i + 1; j < nt && b->tested[j].customer == b->tested[i].customer &&
                        memcmp(b->tested[j].host, b->tested[i].host, 16) == 0;)
            ntested += b->tested[j++].tested;
        for (size_t k = i; k < j; k++) {
            struct pair *p = &b->pool[b->tested[k].slot];
            if (b->tested[k].dirty)
                beacon_report(b, ctx, p, det_conf(ctx, p->k.customer), pair_basis(p), b->tested + i,
                              j - i, ntested);
        }
    }
}

/* Counters (detector.h). The prevalence table is shared: worker 0's instance owns and reports
 * it, the others report 0, so the sums are right. */
#define T struct beacon_ctr
#define C CTR_COUNTER
#define G CTR_GAUGE
#define ALERTS "Beacon alerts raised, by rule."
#define BEACON_COUNTERS(X)                                                                         \
    X(T, starts, "starts", "detector_beacon_starts_total", NULL, C,                                \
      "Connection starts of customer hosts to outside peers.")                                     \
    X(T, continuations, "continuations", "detector_beacon_continuations_total", NULL, C,           \
      "Records that continue a connection already counted (exporter active-timeout splits).")      \
    X(T, udp_sessions, "udp_session_continued", "detector_beacon_udp_session_continued_total",     \
      NULL, C,                                                                                     \
      "UDP records continuing their socket pair's session after a gap above inactive_timeout.")    \
    X(T, tcp_sessions, "tcp_session_continued", "detector_beacon_tcp_session_continued_total",     \
      NULL, C,                                                                                     \
      "TCP records without SYN continuing their connection after a gap above inactive_timeout.")   \
    X(T, answers, "answers", "detector_beacon_answers_total", NULL, C,                             \
      "Records of the answering direction (bytes each way).")                                      \
    X(T, undecided, "undecided", "detector_beacon_undecided_total", NULL, C,                       \
      "Records whose initiator nothing settled (not counted as starts).")                          \
    X(T, service_overruled, "service_port_overruled",                                              \
      "detector_beacon_service_port_overruled_total", NULL, C,                                     \
      "Client ports that hit a service number, overruled by the pair's fixed port.")               \
    X(T, skew, "clock_skew_skipped", "detector_beacon_clock_skew_skipped_total", NULL, C,          \
      "Records far from their exporter's clock, kept out of the schedule.")                        \
    X(T, sampled, "sampled_skipped", "detector_beacon_sampled_skipped_total", NULL, C,             \
      "Records sampled 1 in more than max_sampling, not used (check-ins cannot be rebuilt).")      \
    X(T, mta, "mta_skipped", "detector_beacon_mta_skipped_total", NULL, C,                         \
      "Records of declared mail servers to port 25, not tracked.")                                 \
    X(T, pend_in, "pending_inserted", "detector_beacon_pending_inserted_total", NULL, C,           \
      "First connections of a pair kept until the pair's second one.")                             \
    X(T, pend_over, "pending_overwritten", "detector_beacon_pending_overwritten_total", NULL, C,   \
      "Pending first connections pushed out of a full pending set.")                               \
    X(T, pend_cap, "pending_capacity", "detector_beacon_pending_capacity_entries", NULL, G,        \
      "Capacity of the pending first-connection cache (pending, this worker's share).")            \
    X(T, admitted, "admitted", "detector_beacon_admitted_total", NULL, C,                          \
      "Pairs given a tracking slot.")                                                              \
    X(T, slots_used, "slots", "detector_beacon_slots_pairs", NULL, G, "Pairs tracked now.")        \
    X(T, slots_cap, "slots_capacity", "detector_beacon_slots_capacity_pairs", NULL, G,             \
      "Capacity of the pair pool (max_pairs, this worker's share).")                               \
    X(T, evicted, "evicted", "detector_beacon_evicted_total", NULL, C,                             \
      "Tracked pairs pushed out of a full bucket (those that cannot alert first, then stale "      \
      "ones, "                                                                                     \
      "then the fewest starts).")                                                                  \
    X(T, evicted_live, "evicted_live", "detector_beacon_evicted_live_total", NULL, C,              \
      "Evicted pairs that could alert and were still active: a schedule may be lost; raise "       \
      "max_pairs.")                                                                                \
    X(T, expired, "expired", "detector_beacon_expired_total", NULL, C,                             \
      "Tracked pairs freed after `idle` without a connection.")                                    \
    X(T, pv_used, "prevalence_peers", "detector_beacon_prevalence_peers", NULL, G,                 \
      "Peers in the prevalence table (shared by all workers).")                                    \
    X(T, pv_evicted, "prevalence_evicted", "detector_beacon_prevalence_evicted_total", NULL, C,    \
      "Peers pushed out of the full prevalence table.")                                            \
    X(T, shared_out, "prevalence_shared_out", "detector_beacon_prevalence_shared_out_total", NULL, \
      C, "Prevalence entries this instance exported for the other detect instances (Kafka).")      \
    X(T, shared_in, "prevalence_shared_in", "detector_beacon_prevalence_shared_in_total", NULL, C, \
      "Prevalence entries of other detect instances merged in (Kafka).")                           \
    X(T, shared_bad, "prevalence_shared_bad", "detector_beacon_prevalence_shared_bad_total", NULL, \
      C, "Shared prevalence entries that could not be read (dropped).")                            \
    X(T, shared_evicted, "prevalence_shared_evicted",                                              \
      "detector_beacon_prevalence_shared_evicted_total", NULL, C,                                  \
      "Peers pushed out of the full tables of shared prevalence entries.")                         \
    X(T, infra, "infrastructure_suppressed", "detector_beacon_infrastructure_suppressed_total",    \
      NULL, C, "Schedules not alerted because their peer is infrastructure (prevalence).")         \
    X(T, time_service, "time_service_skipped", "detector_beacon_time_service_skipped_total", NULL, \
      C, "Schedules not alerted: every packet an NTP message to or from UDP port 123.")            \
    X(T, rhythm, "host_rhythm_skipped", "detector_beacon_host_rhythm_skipped_total", NULL, C,      \
      "Schedules not alerted: the host kept them with rhythm_peers other peers at once.")          \
    X(T, empty, "empty_skipped", "detector_beacon_empty_skipped_total", NULL, C,                   \
      "Schedules and long sessions not alerted: TCP handshakes closed with no data either way "    \
      "(reachability checks).")                                                                    \
    X(T, dual, "dual_transport_skipped", "detector_beacon_dual_transport_skipped_total", NULL, C,  \
      "Schedules and long sessions not alerted: the host reached the peer's port (1024 and up) "   \
      "over TCP and UDP alike (a P2P client's peer).")                                             \
    X(T, habit, "host_sessions_skipped", "detector_beacon_host_sessions_skipped_total", NULL, C,   \
      "Long sessions not alerted: the host held long sessions on the port with rhythm_peers "      \
      "other peers too (a browser's push and streaming connections).")                             \
    X(T, reopened, "sessions_reopened_skipped", "detector_beacon_sessions_reopened_skipped_total", \
      NULL, C,                                                                                     \
      "Schedules not alerted: most of the pair's connections were long sessions, each start a "    \
      "session reopened (beacon.long_session judges the pair).")                                   \
    X(T, short_runs, "short_runs", "detector_beacon_short_runs_total", NULL, C,                    \
      "Looks at a pair whose regular gaps never made n_min check-ins in a run (a retry timer's "   \
      "bursts): no schedule.")                                                                     \
    X(T, alerts_fast, "alerts_fast", "detector_beacon_alerts_total", "rule=\"beacon.fast\"", C,    \
      ALERTS)                                                                                      \
    X(T, alerts_slow, "alerts_slow", "detector_beacon_alerts_total", "rule=\"beacon.slow\"", C,    \
      ALERTS)                                                                                      \
    X(T, long_alerts, "alerts_long_session", "detector_beacon_alerts_total",                       \
      "rule=\"beacon.long_session\"", C, ALERTS)
struct beacon_ctr {
    BEACON_COUNTERS(CTR_FIELD)
};
static const struct ctr_def beacon_ctr_defs[] = {BEACON_COUNTERS(CTR_ROW)};
#undef T
#undef C
#undef G
#undef ALERTS

static void beacon_counters(const void *self, void *snap)
{
    const struct beacon *b = self;
    struct beacon_ctr *o = snap;
    o->starts = b->stat_starts + b->stat_pending;
    o->continuations = b->stat_cont;
    o->udp_sessions = b->stat_udp_sess;
    o->tcp_sessions = b->stat_tcp_sess;
    o->answers = b->stat_answers;
    o->undecided = b->stat_undecided;
    o->service_overruled = b->stat_service_overruled;
    o->skew = b->stat_skew;
    o->sampled = b->stat_sampled;
    o->mta = b->stat_mta;
    o->pend_in = b->stat_pending;
    o->pend_over = b->stat_pend_over;
    o->pend_cap = b->npsets * PD_WAYS;
    o->admitted = b->stat_admitted;
    o->slots_used = b->used;
    o->slots_cap = b->nbuckets * BC_WAYS;
    o->evicted = b->stat_evicted;
    o->evicted_live = b->stat_evicted_live;
    o->expired = b->stat_expired;
    o->pv_used = b->pv ? b->pv->used : 0;
    o->pv_evicted = b->pv ? b->pv->evicted : 0;
    o->shared_out = b->stat_shared_out;
    o->shared_in = b->stat_shared_in;
    o->shared_bad = b->stat_shared_bad;
    o->shared_evicted =
        (b->share_in ? b->share_in->evicted : 0) + (b->share_out ? b->share_out->evicted : 0);
    o->infra = b->stat_infra;
    o->time_service = b->stat_time_service;
    o->rhythm = b->stat_rhythm;
    o->short_runs = b->stat_short_runs;
    o->empty = b->stat_empty;
    o->dual = b->stat_dual;
    o->habit = b->stat_habit;
    o->reopened = b->stat_reopened;
    o->alerts_fast = b->stat_alerts_fast;
    o->alerts_slow = b->stat_alerts - b->stat_alerts_fast;
    o->long_alerts = b->stat_long_alerts;
}

/* The options that size its tables (read by init only). */
static const char *const beacon_sizes[] = {"max_pairs", "pending", "prevalence_peers", NULL};
/* Read for the process (the prevalence view is one for every customer). */
static const char *const beacon_process_keys[] = {"prevalence_horizon", NULL};

const struct detector_ops det_beacon_ops = {
    .name = "beacon",
    .help = "C2 beaconing and long sessions: a host connecting to one peer on a schedule, or "
            "holding long sessions to a peer few hosts talk to",
    .conf_keys = beacon_keys,
    .conf_size = sizeof(struct beacon_conf),
    .sizes = beacon_sizes,
    .process_keys = beacon_process_keys,
    .host_state_size = 0,
    .init = beacon_init,
    .on_flow = beacon_on_flow,
    .prefetch = beacon_prefetch,
    .on_window = beacon_on_window,
    .on_window_merge = beacon_merge,
    .share_export = beacon_share_export,
    .share_import = beacon_share_import,
    DET_COUNTERS(beacon_ctr_defs, struct beacon_ctr, beacon_counters),
    .fini = beacon_fini,
};
