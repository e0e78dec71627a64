#include "gen_eval.h"

#include "gen_order.h"
#include "gen_rng.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define SLICE 10000ULL
#define MAX_FLOWS 400000

struct ecust {
    const char *id, *name, *cidr;
    uint32_t base; /* first host, host order */
    uint32_t hosts;
};

/* badco is the Intercage-like customer: few hosts, many of them hostile */
static const struct ecust custs[] = {
    {"ispa", "ISP A Broadband", "100.64.0.0/18", 0x64400001u, 3000},
    {"hostb", "Hosting B", "100.65.0.0/20", 0x64410001u, 1300},
    {"entc", "Enterprise C", "100.66.0.0/21", 0x64420001u, 600},
    {"unid", "University D", "100.68.0.0/21", 0x64440001u, 200},
    {"badco", "Badco Hosting", "100.67.0.0/22", 0x64430001u, 300},
};
#define NC (sizeof custs / sizeof custs[0])
#define BADCO 4

#define RESOLVER 0xCB007135u /* 203.0.113.53: the provider's resolver */
#define NTPSRV 0xCB00717Bu   /* 203.0.113.123: the provider's NTP server */

enum kind {
    /* misbehaving hosts (labelled, each with the detector expected to find it) */
    A_SPAM,
    A_FAST,
    A_SLOW,
    A_HSCAN,
    A_VSCAN,
    A_FLOOD,
    A_FLOODB,
    A_ALT,
    A_BURST,
    A_HTTP,
    A_TLSLONG,
    A_RATPORT,
    A_LOWPORT,
    A_SLOWH,
    A_SLOWV,
    A_TELNET,
    A_UDPSWEEP,
    A_ICMPSWEEP,
    A_C2LIST,
    A_CNC,
    /* benign look-alikes */
    B_MTA,
    B_BULK,
    B_NTP,
    B_DNS,
    B_WEB,
    B_SESSION,
    B_INSCAN,
    B_NTPPOOL,
    B_SAAS,
    B_TLSPOLL,
    B_PUSH,
    B_RESOLVER,
    B_NTPOWN,
    B_HEAVYWEB,
    B_P2P,
    B_KEEPALIVE,
    B_TRACE,
    B_REACH,
    B_DESKTOP,
    NKIND
};
#define FIRST_BENIGN B_MTA
static const char *const kind_label[NKIND] = {
    "spam",
    "beacon_fast",
    "beacon_slow",
    "scan_h",
    "scan_v",
    "flood",
    "flood_baseline",
    "beacon_alternating",
    "beacon_retry_burst",
    "beacon_http_checkin",
    "c2_tls_long_sessions",
    "rat_long_session_unusual_port",
    "c2_high_port_low_client_port",
    "scan_slow_h",
    "scan_slow_v",
    "scan_telnet_small",
    "scan_udp",
    "scan_icmp",
    "beacon_c2_list",
    "c2_telnet_cnc_keepalive",
    "benign_mta",
    "benign_bulk",
    "benign_ntp",
    "benign_dns",
    "benign_webserver",
    "benign_longsession",
    "benign_inbound_scan",
    "benign_ntp_pool",
    "benign_saas_monitor",
    "benign_tls_poll",
    "benign_push",
    "benign_resolver",
    "benign_ntp_own_server",
    "benign_heavy_web",
    "benign_p2p",
    "benign_keepalive",
    "benign_traceroute",
    "benign_reachability",
    "benign_desktop_sessions",
};
/* the detector expected to find each misbehaving kind, and another that counts as well */
static const char *const kind_detector[FIRST_BENIGN][2] = {
    {"spam", NULL},
    {"beacon", NULL},
    {"beacon", NULL},
    {"scan", NULL},
    {"scan", NULL},
    {"flood", NULL},
    {"flood", NULL},
    {"beacon", NULL},
    {"beacon", NULL},
    {"beacon", NULL},
    {"long_session", "beacon"},
    {"long_session", "beacon"},
    {"beacon", NULL},
    {"scan", NULL},
    {"scan", NULL},
    {"scan", NULL},
    {"scan", NULL},
    {"scan", NULL},
    {"beacon", NULL},
    {"long_session", NULL},
};
/* how many of each at host_scale 1 (benign periodic clients scale with the host count) */
static const unsigned kind_count[NKIND] = {12, 12,  12,  8,   4,   5, 5, 4, 4, 4,   4,   4,  4,
                                           4,  4,   4,   4,   4,   0, 0, 3, 2, 300, 100, 10, 50,
                                           3,  300, 100, 150, 150, 0, 0, 0, 0, 0,   0,   0,  0};
/* Customers' own recursive resolvers (B_RESOLVER), set up apart from kind_count with an RNG of
 * their own, so that the other behaviours and the background are drawn as they were without
 * them: the ISP's and the university's. */
static const uint32_t resolver_custs[] = {0, 3};
/* Hosts keeping time with servers of their own choosing (B_NTPOWN), at host_scale 1: set up
 * like the resolvers, after every other actor and from RNGs of their own. */
#define NTPOWN_COUNT 40
/* Heavy web users (B_HEAVYWEB) on benign hosts at host_scale 1, besides those on half the hosts
 * of the beacon behaviours (add_heavy_web). */
#define HEAVYWEB_COUNT 40
/* BitTorrent clients with the DHT (B_P2P) at host_scale 1, set up like the own-NTP clients. */
#define P2P_COUNT 20
/* Hosts keeping a VPN tunnel or a SIP trunk up with keepalives (B_KEEPALIVE) at host_scale 1,
 * set up like the own-NTP clients. */
#define KEEPALIVE_COUNT 20
/* Hosts tracing the paths to their peers on a timer (B_TRACE) at host_scale 1, set up like the
 * own-NTP clients. */
#define TRACE_COUNT 5
/* Devices testing their Internet link (B_REACH) at host_scale 1, set up like the own-NTP
 * clients. */
#define REACH_COUNT 10
/* Bots walking a list of C2 servers (A_C2LIST), set up like the own-NTP clients but not scaled:
 * half in badco, as kind_count's misbehaving hosts. */
#define C2LIST_COUNT 4
/* Mirai bots holding their CNC session (A_CNC), set up like the C2-list bots. */
#define CNC_COUNT 4
/* Desktops whose browser and apps hold push, chat and streaming sessions (B_DESKTOP) at
 * host_scale 1, after every other actor, from RNGs of their own: each DESKTOP_SVCS services. */
#define DESKTOP_COUNT 20
#define DESKTOP_SVCS 8
static bool scales(enum kind k)
{
    return k == B_NTP || k == B_DNS || k == B_NTPPOOL || k == B_SAAS || k == B_TLSPOLL ||
           k == B_PUSH;
}

struct actor {
    enum kind k;
    uint32_t cust;
    uint32_t host; /* v4, host order */
    uint32_t peer;
    uint16_t port, sport;
    uint64_t start, end, next;
    uint64_t period;
    double jitter, rate, fail;
    uint32_t bytes, pkt_size;
    uint32_t seq;
    uint64_t period2;     /* alternating schedule: the second gap; keepalives: the second timer */
    uint32_t burst, left; /* retry bursts: tries per burst, tries left in this one; P2P: tries
                           * left of the peer that left (peer, port; period apart, from next) */
    uint64_t sess_end;    /* long sessions: end of the current one (0: none open); keepalives:
                           * when the second timer (handshake, liveness check) is next due */
    bool vary;            /* check-in sizes vary (else constant) */
    uint32_t done;      /* scheduled events emitted (check-ins, polls, probes): the truth's count */
    uint32_t limit;     /* stop after this many (0: no limit) */
    uint32_t peers[4];  /* NTP pool: the servers a client polls */
    uint16_t sports[4]; /* own NTP servers: the client's port to each (0: a new one each time);
                         * C2 list: [0] its servers' second port */
    uint8_t nserv;      /* own NTP servers: how many */
    uint64_t period_max;      /* own NTP servers: the longest poll interval */
    bool cohost;              /* on a host another actor labels: no truth line (heavy web use;
                               * a desktop's services after its first) */
    uint32_t nodes, torrents; /* P2P: routing-table nodes, torrents looked up; traceroute: peers;
                               * C2 list: its servers */
    double fail_tcp;          /* P2P: share of peer connections not answered */
    uint64_t seed; /* P2P: its routing table's nodes are drawn from this; traceroute, C2 list: its
                    * peers */
    uint8_t proto_ka; /* keepalives: enum keepalive_proto */
    struct rng own;   /* a resolver's or own-NTP client's draws (not the scenario's stream) */
};

static double uni(struct rng *r, double a, double b)
{
    return a + (b - a) * u01(r);
}

static uint32_t outside(struct rng *r)
{
    static const uint8_t o[] = {23,  31,  45,  62,  77,  81,  88,  93,
                                109, 141, 151, 176, 185, 193, 212, 217};
    return (uint32_t)o[below(r, sizeof o)] << 24 | below(r, 1u << 24);
}

struct out {
    struct gen_flow *f;
    size_t n, cap;
    bool overflow;
};

/* One record; NULL when the output is full (o->overflow). */
static struct gen_flow *rec(struct out *o, uint32_t src, uint32_t dst, uint16_t sport,
                            uint16_t dport, uint8_t proto, uint8_t flags, uint64_t pkts,
                            uint64_t bytes, uint64_t start, uint64_t dur)
{
    if (o->n >= o->cap) {
        o->overflow = true;
        return NULL;
    }
    struct gen_flow *f = &o->f[o->n++];
    if (!pkts)
        pkts = 1;
    gen_flow_v4(f, src, dst, sport, dport, proto, flags, pkts, bytes, start,
                pkts > 1 ? start + dur : start); /* one packet lasts no time */
    return f;
}

/* a TCP connection: the request record and the answer */
static void conn(struct out *o, struct rng *r, uint32_t cli, uint32_t srv, uint16_t sport,
                 uint16_t dport, uint64_t start, uint32_t req, uint32_t resp)
{
    uint64_t dur = 50 + below(r, 2000);
    rec(o, cli, srv, sport, dport, 6, 0x1b, req / 500 + 4, req, start, dur);
    rec(o, srv, cli, dport, sport, 6, 0x1b, resp / 1400 + 4, resp, start + 20, dur - 20);
    if (o->n && !o->overflow)
        o->f[o->n - 1].responder = true;
}

static uint16_t eph(struct rng *r)
{
    return (uint16_t)(32768 + below(r, 28000));
}

static uint64_t jittered(struct rng *r, uint64_t period, double jitter)
{
    return (uint64_t)((double)period * (1.0 + uni(r, -jitter, jitter)));
}

static uint32_t mx_bulk(struct rng *r)
{
    static const uint32_t nets[8] = {0x8EFA1B00u, 0x8EFA1C00u, 0x4A7DC800u, 0x4A7DC900u,
                                     0x28658800u, 0x28658900u, 0x62884000u, 0x62884100u};
    return nets[below(r, 8)] | (1 + below(r, 5));
}

/* ---- destinations many customers' hosts share (written from how such services behave) ---- */

#define A4(a, b, c, d)                                                                             \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Popular web destinations (CDN, search, social, video): 200 of them, visited Zipf-like. */
static uint32_t popular(struct rng *r)
{
    static const uint32_t nets[8] = {A4(104, 16, 0, 0),  A4(142, 250, 0, 0), A4(13, 107, 0, 0),
                                     A4(151, 101, 0, 0), A4(31, 13, 0, 0),   A4(157, 240, 0, 0),
                                     A4(23, 215, 0, 0),  A4(52, 84, 0, 0)};
    uint32_t i = (uint32_t)(200.0 * pow(u01(r), 2.5)); /* low indexes far more often */
    return nets[i % 8] | ((i * 7919u + 17u) & 0xffffu);
}

/* Public resolvers ordinary hosts use besides the provider's. */
static const uint32_t public_dns[4] = {A4(8, 8, 8, 8), A4(8, 8, 4, 4), A4(1, 1, 1, 1),
                                       A4(9, 9, 9, 9)};

/* Public NTP pool servers (pool.ntp.org members, vendor time services). */
static const uint32_t ntp_pool[12] = {
    A4(162, 159, 200, 1), A4(162, 159, 200, 123), A4(216, 239, 35, 0),   A4(216, 239, 35, 4),
    A4(216, 239, 35, 8),  A4(129, 6, 15, 28),     A4(129, 6, 15, 29),    A4(194, 58, 200, 20),
    A4(17, 253, 4, 253),  A4(20, 101, 57, 9),     A4(185, 125, 190, 56), A4(91, 189, 89, 198)};

/* One popular SaaS monitoring endpoint many hosts report to every 60 s. */
#define SAAS_SERVER A4(34, 120, 5, 17)

/* Update checkers and other polling services: period, jitter, request/response sizes. */
static const struct poll_svc {
    uint32_t addr;
    uint16_t port;
    uint32_t period_s;
    double jitter;
    uint32_t req, resp;
} poll_svcs[8] = {
    {A4(20, 190, 160, 10), 443, 3600, 0.10, 2200, 5400}, /* OS update check, hourly */
    {A4(17, 253, 144, 10), 443, 7200, 0.10, 1800, 3900}, /* another OS's update check */
    {A4(13, 107, 4, 50), 443, 1800, 0.05, 1500, 2600},   /* office suite licence/telemetry */
    {A4(151, 101, 1, 69), 443, 3600, 0.20, 900, 1400},   /* browser update ping */
    {A4(104, 18, 32, 7), 443, 900, 0.02, 700, 31000},    /* antivirus signature poll */
    {A4(52, 84, 10, 10), 443, 600, 0.05, 1100, 1300},    /* file-sync change poll */
    {A4(142, 250, 64, 100), 443, 300, 0.10, 800, 1600},  /* calendar/mail sync */
    {A4(35, 186, 224, 25), 443, 1200, 0.05, 600, 900},   /* chat client presence */
};

/* Push services: one long TLS session kept open, reconnected when the network drops it. */
static const struct push_svc {
    uint32_t addr;
    uint16_t port;
} push_svcs[3] = {
    {A4(17, 57, 144, 10), 5223}, {A4(142, 250, 64, 188), 5228}, {A4(40, 101, 12, 34), 443}};

/* Day curve of the background: busiest about 16:00 UTC, quietest about 04:00 (0.25..1.0). */
static double day_curve(uint64_t t_ms)
{
    double h = (double)(t_ms % 86400000ULL) / 3600000.0;
    double x = sin(M_PI * (h - 4.0) / 24.0);
    return 0.25 + 0.75 * x * x;
}

/* A client's SYN of `size` bytes never answered: one packet (no duration), or two when the
 * client tried again after TCP's initial retransmission timeout of 1 s (RFC 6298). */
static void syn_tries(struct out *o, struct rng *r, uint32_t cli, uint32_t srv, uint16_t sport,
                      uint16_t dport, uint64_t start, uint32_t size)
{
    uint32_t pk = 1 + below(r, 2);
    rec(o, cli, srv, sport, dport, 6, 0x02, pk, (uint64_t)pk * size, start, pk > 1 ? 1000 : 0);
}

/* A TLS/TCP exchange that failed: the client's SYN, never answered. */
static void syn_only(struct out *o, struct rng *r, uint32_t cli, uint32_t srv, uint16_t sport,
                     uint16_t dport, uint64_t start)
{
    syn_tries(o, r, cli, srv, sport, dport, start, 44 + 4 * below(r, 2));
}

/* Up to 60 s of a long TCP session, as an exporter with a 60 s active timeout splits it: the
 * first part carries the SYN, the last one the FIN; both directions. */
static void session_part(struct out *o, struct rng *r, uint32_t cli, uint32_t srv, uint16_t sport,
                         uint16_t dport, uint64_t s, uint64_t dur, bool first, bool last,
                         uint32_t up, uint32_t down)
{
    uint8_t fl = (uint8_t)((first ? 0x1a : 0x18) | (last ? 0x01 : 0));
    uint32_t u = (uint32_t)(up * uni(r, 0.7, 1.3)), d = (uint32_t)(down * uni(r, 0.7, 1.3));
    struct gen_flow *c = rec(o, cli, srv, sport, dport, 6, fl, u / 400 + 2, u + 80, s, dur);
    struct gen_flow *v = rec(o, srv, cli, dport, sport, 6, fl, d / 1200 + 2, d + 80, s + 15,
                             dur > 15 ? dur - 15 : 0);
    if (c && v) {
        v->responder = true;
        c->active_end = v->active_end = !last; /* the last part ends with the FIN */
    }
}

/* Length of the next session of a long-session actor. */
static uint64_t session_len(struct rng *r, const struct actor *a)
{
    switch (a->k) {
    case A_TLSLONG:
        return (uint64_t)uni(r, 10, 45) * 60000; /* minutes, then reconnects */
    case A_RATPORT:
        return (uint64_t)uni(r, 60, 240) * 60000; /* hours */
    case B_DESKTOP:
        return (uint64_t)uni(r, 15, 240) * 60000; /* until the app or the server drops it */
    default:
        return (uint64_t)uni(r, 28, 60) * 60000; /* push: until the NAT drops it */
    }
}

static void long_sessions(struct out *o, struct rng *r, struct actor *a, uint64_t t, uint64_t t1)
{
    while (a->next < t1 && a->next < a->end) {
        uint64_t s = a->next;
        bool first = false;
        if (!a->sess_end) {
            a->sess_end = s + session_len(r, a);
            a->sport = eph(r);
            first = true;
        }
        uint64_t e = s + 60000 < a->sess_end ? s + 60000 : a->sess_end;
        bool last = e >= a->sess_end || e >= a->end;
        if (s >= t)
            session_part(o, r, a->host, a->peer, a->sport, a->port, s, e - s - 10, first, last,
                         a->bytes, a->bytes * 2);
        a->next = e;
        if (!last)
            continue;
        a->sess_end = 0;
        if (a->k == A_TLSLONG) { /* the session dropped: a burst of reconnects, then a new one */
            uint64_t b = e + 2000;
            for (uint32_t i = 0; i < a->burst; i++) {
                b += (uint64_t)uni(r, 3, 15) * 1000;
                conn(o, r, a->host, a->peer, eph(r), a->port, b, 300 + below(r, 400),
                     200 + below(r, 300));
            }
            a->next = b + (uint64_t)uni(r, 20, 90) * 1000;
        } else if (a->k == A_RATPORT) {
            a->next = e + (uint64_t)uni(r, 30, 120) * 1000;
        } else if (a->k == B_DESKTOP) { /* reopened at once, or when the user opens it again */
            a->next = e + (below(r, 3) ? (uint64_t)uni(r, 1, 60) * 1000
                                       : (uint64_t)uni(r, 10, 120) * 60000);
        } else {
            a->next = e + (uint64_t)uni(r, 1, 5) * 1000;
        }
    }
}

/* The gap to a periodic actor's next connection. */
static uint64_t next_gap(struct rng *r, struct actor *a)
{
    switch (a->k) {
    case A_ALT: /* two gaps taking turns (njRAT-like 14 s / 9 s) */
        return jittered(r, a->seq % 2 ? a->period2 : a->period, a->jitter);
    case B_NTPPOOL: /* ntpd: each of 4 servers every poll interval, 64 s doubling to 1024 s */
        if (a->seq % 64 == 63 && a->period < 1024000)
            a->period *= 2;
        return jittered(r, a->period / 4, a->jitter);
    default:
        return jittered(r, a->period, a->jitter);
    }
}

/* A customer's recursive resolver: its cache misses go to authoritative servers over UDP/53
 * from random source ports (RFC 5452), as many as rate a second at the busiest hour (the day
 * curve). Six in ten go to the servers of the TLDs and the big DNS hosters, asked again and
 * again; the rest to the long tail of zones' own servers, of which a few never answer (lame
 * delegations, servers gone: a resolver retries another server of the zone after 400-1 000 ms).
 * An answer comes 5-150 ms after its query. */
static void resolver_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    double n = a->rate * SLICE / 1000.0 * day_curve(t);
    for (; n > 0; n -= 1) {
        if (n < 1 && u01(r) >= n)
            break;
        uint64_t s = t + below(r, SLICE);
        bool tail = u01(r) >= 0.6;
        uint32_t srv = tail ? outside(r) : popular(r);
        for (int try = 0; try < 2; try++) {
            uint16_t sp = eph(r);
            rec(o, a->host, srv, sp, 53, 17, 0, 1, 60 + below(r, 40), s, 0);
            if (!tail || u01(r) >= a->fail) {
                rec(o, srv, a->host, 53, sp, 17, 0, 1, 100 + below(r, 400), s + 5 + below(r, 145),
                    0);
                break;
            }
            s += 400 + below(r, 600);
            srv = outside(r);
        }
    }
}

/* A host keeping time with servers few others use (a university's stratum 1, the company's time
 * appliance at another site, a vendor's server): its client sends each server one NTP request
 * per poll interval, 48 bytes (68 with an MD5 MAC) in one packet, and the server answers with as
 * many 5-80 ms later. ntpd polls from port 123 and doubles its interval from 64 s to 1024 s
 * once the clock is steady; chrony and systemd-timesyncd use an ephemeral port per server
 * (timesyncd from 32 s to 2048 s); an appliance's SNTP client polls at one fixed interval. */
static void ntpown_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    uint32_t size = a->bytes;
    while (a->next < t + SLICE) {
        uint64_t s = a->next;
        unsigned k = a->seq % a->nserv;
        a->next = s + jittered(r, a->period / a->nserv, a->jitter);
        if (++a->seq % (8u * a->nserv) == 0 && a->period < a->period_max)
            a->period *= 2;
        if (s < t || s >= a->end)
            continue;
        a->done++;
        uint16_t sp = a->sports[k] ? a->sports[k] : eph(r);
        rec(o, a->host, a->peers[k], sp, 123, 17, 0, 1, size, s, 0);
        rec(o, a->peers[k], a->host, 123, sp, 17, 0, 1, size, s + 5 + below(r, 76), 0);
    }
}

/* A workstation whose user browses all day: each page opens connections to several sites, so
 * the host makes rate connections a minute at the busiest hour (the day curve), most to the
 * popular sites every host visits again and again, the rest to the long tail; HTTPS mostly. */
static void heavyweb_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    double n = a->rate * SLICE / 60000.0 * day_curve(t);
    for (; n > 0; n -= 1) {
        if (n < 1 && u01(r) >= n)
            break;
        uint32_t dst = u01(r) < 0.7 ? popular(r) : outside(r);
        conn(o, r, a->host, dst, eph(r), u01(r) < 0.9 ? 443 : 80, t + below(r, SLICE),
             300 + below(r, 2000), 1000 + below(r, 300000));
    }
}

/* The port a BitTorrent peer listens on: most clients pick one at random at install, many keep
 * their client's default (Transmission 51413, libtorrent's 6881 and the 6881-6889 range of older
 * clients, qBittorrent's former 8999). */
static uint16_t p2p_port(struct rng *r)
{
    double x = u01(r);
    if (x < 0.06)
        return 51413;
    if (x < 0.11)
        return 6881;
    if (x < 0.13)
        return (uint16_t)(6882 + below(r, 8));
    if (x < 0.14)
        return 8999;
    return (uint16_t)(1024 + below(r, 64512));
}

/* Routing-table node j of a P2P actor at time s: nodes leave (churn, each slot its own
 * lifetime of 1-12 hours) and another takes the slot; address and port drawn from the slot and
 * its generation, so no table is kept. */
static void p2p_node(const struct actor *a, uint32_t j, uint64_t s, uint32_t *addr, uint16_t *port)
{
    struct rng n = {a->seed ^ ((uint64_t)j * 0x9E3779B97F4A7C15ULL)};
    uint64_t life = 3600000ULL * (1 + below(&n, 12)),
             off = below(&n, (uint32_t)(life / 1000)) * 1000ULL;
    struct rng g = {n.s ^ ((s + off) / life) * 0xD1B54A32D192ED03ULL};
    below(&g, 2);
    *addr = outside(&g);
    *port = p2p_port(&g);
}

/* Of a P2P client's peers that do not answer, the share it keeps retrying (one at a time). */
#define P2P_GONE_SHARE 0.05

/* A peer that left, tried by TCP at `at`: the client retries it every interval (+-2 s) for 8-16
 * tries, by TCP each time and over uTP (BEP 29: the same listening port, UDP, from the client's
 * one UDP socket) first at every other try, then by TCP 3-6 s later, as a normal host of CTU-Normal-7 did to
 * 78.26.20.251:51413 (TCP every 122.6 s for 20 minutes, four uTP SYNs in that time). One packet
 * a uTP try: a record of its own at a router's inactive timeout. p2p_slice emits the tries. */
static void p2p_gone(struct actor *a, uint32_t peer, uint16_t port, uint64_t at)
{
    struct rng *r = &a->own;
    a->peer = peer;
    a->port = port;
    a->left = 8 + below(r, 9);
    a->next = at + a->period - 2000 + below(r, 4000);
}

/* A BitTorrent client with the DHT (BEP 5), all day. Its routing table's nodes (100-250) are each
 * pinged when not heard from for 15 minutes (due, plus up to a minute of the refresh tick), from
 * the client's one UDP port; good nodes mostly answer. Every 15 minutes each torrent it shares
 * is looked up: get_peers to 30-60 nodes it had not contacted (many gone or behind NAT: not
 * answered), then TCP connections to 10-30 of the peers found, at their ports, many refused or
 * not answered, the rest exchanging pieces. */
static void p2p_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    const uint64_t Q = 15 * 60000ULL;
    for (uint32_t j = 0; j < a->nodes; j++) {
        uint64_t off = (a->seed >> 7 ^ (uint64_t)j * 0x2545F4914F6CDD1DULL) % Q;
        if (t + SLICE <= a->start + off)
            continue;
        uint64_t k = (t - a->start + Q - off) / Q; /* the cycle whose due time is next */
        uint64_t due = a->start + off + (k ? k - 1 : 0) * Q;
        for (int c = 0; c < 2; c++, due += Q) {
            struct rng tick = {a->seed ^ ((uint64_t)j << 32 | (due / Q))};
            uint64_t s = due + below(&tick, 60000);
            if (s < t || s >= t + SLICE || s >= a->end)
                continue;
            uint32_t node;
            uint16_t port;
            p2p_node(a, j, s, &node, &port);
            rec(o, a->host, node, a->sport, port, 17, 0, 1, 95 + below(r, 40), s, 0);
            if (u01(r) >= a->fail)
                rec(o, node, a->host, port, a->sport, 17, 0, 1, 300 + below(r, 150),
                    s + 30 + below(r, 300), 0);
        }
    }
    for (uint32_t k = 0; k < a->torrents; k++) {
        uint64_t off = (a->seed >> 11 ^ (uint64_t)(k + 1) * 0x9E3779B97F4A7C15ULL) % Q;
        uint64_t s = t - (t - a->start) % Q + off;
        if (s < t)
            s += Q;
        if (s >= t + SLICE || s >= a->end)
            continue;
        uint32_t left = (uint32_t)(t + SLICE - s);
        for (uint32_t q = 30 + below(r, 31); q > 0; q--) {
            uint32_t node = outside(r);
            uint16_t port = p2p_port(r);
            uint64_t at = s + below(r, left);
            rec(o, a->host, node, a->sport, port, 17, 0, 1, 100 + below(r, 30), at, 0);
            if (u01(r) >= a->rate)
                rec(o, node, a->host, port, a->sport, 17, 0, 1, 200 + below(r, 400),
                    at + 30 + below(r, 300), 0);
        }
        for (uint32_t q = 10 + below(r, 21); q > 0; q--) {
            uint32_t peer = outside(r);
            uint16_t port = p2p_port(r);
            uint64_t at = s + below(r, left);
            if (u01(r) < a->fail_tcp) {
                syn_tries(o, r, a->host, peer, eph(r), port, at, 60);
                if (!a->left && u01(r) < P2P_GONE_SHARE) /* a peer that left: retried */
                    p2p_gone(a, peer, port, at);
            } else
                conn(o, r, a->host, peer, eph(r), port, at, 2000 + below(r, 60000),
                     20000 + below(r, 2000000));
        }
    }
    for (; a->left && a->next < t + SLICE; a->left--) { /* the peer that left (p2p_gone) */
        uint64_t s = a->next;
        a->next = s + a->period - 2000 + below(r, 4000);
        if (s < t || s >= a->end)
            continue;
        if (a->left & 1) { /* uTP first, TCP when it is not answered */
            rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, 62, s, 0);
            s += 3000 + below(r, 3000);
        }
        syn_tries(o, r, a->host, a->peer, eph(r), a->port, s, 74);
    }
}

/* The keepalives of a tunnel or a trunk, as the protocols specify them; see keepalive_slice. */
enum keepalive_proto { KA_WIREGUARD, KA_NATT, KA_SIP, KA_OPENVPN, KA_NPROTO };

/* A VPN tunnel or a SIP trunk kept up all day from one UDP socket to a peer only this host uses,
 * one record per message (an exporter whose inactive timeout is below the keepalive's period).
 * WireGuard (PersistentKeepalive = 25): a 32-byte message every 25 s when nothing else was sent,
 * never answered, and a handshake (148 bytes, answered with 92) at the first one after the key
 * is 120 s old (REKEY_AFTER_TIME). IPsec NAT-T (RFC 3948): a 1-byte keepalive every 20 s, 4500
 * to 4500, and an IKEv2 liveness check (an empty INFORMATIONAL, answered) every 30 s without
 * traffic from the peer. A PBX's SIP trunk: OPTIONS every 60 s to the provider and from it,
 * 5060 to 5060, each answered with 200 OK. OpenVPN (keepalive 10 60): a ping every 10 s each
 * way. In slices of use (rate of the busiest hour's, by the day curve) the tunnel carries data
 * (a record each way, many packets) and sends no keepalive. */
static void keepalive_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    uint32_t h = 28; /* IPv4 and UDP headers */
    bool busy = u01(r) < a->rate * day_curve(t);
    if (busy && t >= a->start && t + SLICE <= a->end) {
        uint64_t pk = 20 + below(r, 2000), s = t + below(r, 1000);
        rec(o, a->host, a->peer, a->sport, a->port, 17, 0, pk, pk * (200 + below(r, 1000)), s,
            SLICE - 1000);
        rec(o, a->peer, a->host, a->port, a->sport, 17, 0, pk, pk * (200 + below(r, 1200)), s + 30,
            SLICE - 1000);
    }
    while (a->next < t + SLICE) {
        uint64_t s = a->next;
        a->next = s + a->period + below(r, 50);
        if (s < t || s >= a->end || busy)
            continue;
        a->done++;
        switch (a->proto_ka) {
        case KA_WIREGUARD:
            rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 32, s, 0);
            if (s >= a->sess_end) { /* the key is 120 s old: a new handshake */
                a->sess_end = s + a->period2;
                rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 148, s + 1, 0);
                rec(o, a->peer, a->host, a->port, a->sport, 17, 0, 1, h + 92, s + 30 + below(r, 60),
                    0);
            }
            break;
        case KA_NATT:
            rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 1, s, 0);
            if (s >= a->sess_end) { /* DPD: an INFORMATIONAL request and its answer */
                a->sess_end = s + a->period2;
                uint64_t d = s + below(r, (uint32_t)a->period);
                rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 4 + 80, d, 0);
                rec(o, a->peer, a->host, a->port, a->sport, 17, 0, 1, h + 4 + 80,
                    d + 30 + below(r, 60), 0);
            }
            break;
        case KA_SIP: {
            uint64_t rtt = 20 + below(r, 60), back = s + 20000 + below(r, 20000);
            rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 480 + below(r, 60), s, 0);
            rec(o, a->peer, a->host, a->port, a->sport, 17, 0, 1, h + 400 + below(r, 60), s + rtt,
                0);
            rec(o, a->peer, a->host, a->port, a->sport, 17, 0, 1, h + 470 + below(r, 60), back, 0);
            rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 410 + below(r, 60),
                back + rtt, 0);
            break;
        }
        default: /* OpenVPN: each end's ping on its own timer */
            rec(o, a->host, a->peer, a->sport, a->port, 17, 0, 1, h + 53, s, 0);
            rec(o, a->peer, a->host, a->port, a->sport, 17, 0, 1, h + 53, s + below(r, 10000), 0);
            break;
        }
    }
}

/* A hop of a traceroute actor's path to peer j: the first three hops past the customer's own
 * routers are the transit provider's, shared by every path; the rest the peer's own. */
static uint32_t trace_hop(const struct actor *a, uint32_t j, uint32_t hop, bool shared)
{
    struct rng n = {a->seed ^ (shared ? 0 : (uint64_t)(j + 1) << 40) ^ (uint64_t)hop << 8};
    below(&n, 2);
    return outside(&n);
}

/* A host tracing the paths to its peers (a looking glass, a NOC's monitoring node, a
 * measurement probe) every `period`, as traceroute(8) does by default: UDP probes from one
 * socket, three per hop with a rising TTL, each to the next destination port from 33434, 60-byte
 * packets. The first one or two hops are the customer's own routers (their probes never cross
 * the transit link); every router after answers time exceeded (56 bytes, or 96 with MPLS
 * extensions), but one in six says nothing; the peer, 8-19 hops away, answers port unreachable -
 * or, firewalled (three peers in ten), nothing, and the trace goes on to the 30th hop. A hop's
 * three answers share their key (ICMP type and code, no ports): the exporter's one flow. */
static void trace_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    for (uint32_t j = 0; j < a->nodes; j++) {
        uint64_t off = (a->seed >> 5 ^ (uint64_t)(j + 1) * 0x2545F4914F6CDD1DULL) % a->period;
        uint64_t s = a->start + off; /* the first run at or after t */
        if (t > s)
            s += (t - s + a->period - 1) / a->period * a->period;
        if (s >= t + SLICE || s >= a->end)
            continue;
        a->done++;
        struct rng pj = {a->seed ^ (uint64_t)(j + 1) * 0x9E3779B97F4A7C15ULL};
        uint32_t peer = outside(&pj), inside = 1 + below(&pj, 2), dist = 8 + below(&pj, 12);
        bool quiet = u01(&pj) < 0.3;
        uint32_t last = quiet ? 30 : dist;
        uint16_t sport = eph(r), port = (uint16_t)(33434 + inside * 3);
        for (uint32_t hop = inside + 1; hop <= last; hop++) {
            struct rng ph = {pj.s ^ (uint64_t)hop * 0xD1B54A32D192ED03ULL};
            bool answers = hop < dist ? below(&ph, 6) != 0 : !quiet && hop == dist;
            uint32_t from = hop < dist ? trace_hop(a, j, hop, hop <= inside + 3) : peer;
            uint32_t type = hop < dist ? 11u << 8 : 3u << 8 | 3;
            uint32_t size = hop < dist && below(&ph, 3) == 0 ? 96 : 56;
            uint64_t at = s + (hop - inside - 1) * 3;
            for (uint32_t q = 0; q < 3; q++, port++)
                rec(o, a->host, peer, sport, port, 17, 0, 1, 60, at + q, 0);
            if (answers) /* the hop's three answers: one flow of the exporter */
                rec(o, from, a->host, 0, (uint16_t)type, 1, 0, 3, 3 * size,
                    at + 2 + hop * 2 + below(r, 10), 2);
        }
    }
}

/* A device testing its Internet link (IoT-23's Amazon Echo: three TCP connections to
 * example.com:80 every 5 minutes; its Philips HUE: one to an Akamai address on 443 every 15):
 * on its timer (+-50 ms) it opens `burst` connections one after another and closes each at once,
 * without sending or receiving a byte (SYN, ACK, FIN, ACK: 4 segments of 52-60 bytes; the
 * answer SYN-ACK, FIN). */
static void reach_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    while (a->next < t + SLICE) {
        uint64_t s = a->next;
        a->next = s + a->period - 50 + below(r, 100);
        if (s < t || s >= a->end)
            continue;
        a->done++;
        for (uint32_t k = 0; k < a->burst; k++) {
            uint16_t sport = eph(r);
            uint64_t at = s + k * (120 + below(r, 30)), rtt = 20 + below(r, 40);
            rec(o, a->host, a->peer, sport, a->port, 6, 0x13, 4, 216, at, 2 * rtt + 5);
            struct gen_flow *f =
                rec(o, a->peer, a->host, a->port, sport, 6, 0x13, 2, 112, at + rtt, rtt + 5);
            if (f)
                f->responder = true;
        }
    }
}

/* A bot walking its list of C2 servers in turn (Stratosphere's Trickbot captures, days 4 and 5
 * of one infection: some 30 servers, most on 443, some on 449, the whole list again every 49
 * minutes; all but three refuse or never answer). Server j's slot in a walk starts 66 s after
 * server j-1's: a server that answers takes one connection (a check-in with data); one that does
 * not, three connect()s 22 s apart, each a SYN sent three times 0.5 s apart (refused: the
 * server's RST to each; silent: nothing). The walk starts every period (+-1 %). done counts the
 * walks. */
static void c2list_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    for (uint32_t j = 0; j < a->nodes; j++) {
        struct rng pj = {a->seed ^ (uint64_t)(j + 1) * 0x9E3779B97F4A7C15ULL};
        uint32_t peer = outside(&pj); /* server 0's: a->peer (setup_c2list) */
        uint16_t port = below(&pj, 4) ? a->port : a->sports[0];
        bool live = below(&pj, a->nodes) < a->burst, refused = below(&pj, 2);
        for (uint32_t m = 0; m < (live ? 1u : 3u); m++) {
            uint64_t off = j * 66000ULL + m * 22000ULL, base = a->start + off;
            uint64_t k0 = t > base ? (t - base) / a->period : 0;
            for (uint64_t k = k0 ? k0 - 1 : 0; k <= k0 + 1; k++) {
                struct rng pk = {a->seed ^ (k + 1) * 0xD1B54A32D192ED03ULL};
                uint64_t s = base + k * a->period + below(&pk, (uint32_t)(a->period / 50));
                if (s < t || s >= t + SLICE || s >= a->end)
                    continue;
                a->done += j == 0 && m == 0;
                if (live) {
                    conn(o, r, a->host, peer, eph(r), port, s, a->bytes, a->bytes * 3);
                    continue;
                }
                uint16_t sport = eph(r);
                rec(o, a->host, peer, sport, port, 6, 0x02, 3, 156, s, 1100);
                if (refused)
                    rec(o, peer, a->host, port, sport, 6, 0x14, 3, 120, s + 40, 1100);
            }
        }
    }
}

/* A Mirai bot's session with its CNC (A_CNC), as IoT-23's CTU-IoT-Malware-Capture-44-1 shows it
 * (one session of 6 803 s to port 23, a few packets and about 2 bytes each way a minute: the
 * bot's keepalive every 60 s, the CNC's answer) and as a router with a 15 s inactive timeout
 * exports it: one record each way per keepalive, the first with the handshake. The CNC drops
 * the session after 1-8 hours (a reset); the bot connects again 5-60 s later. */
static void cnc_slice(struct out *o, struct actor *a, uint64_t t)
{
    struct rng *r = &a->own;
    uint64_t t1 = t + SLICE;
    while (a->next < t1 && a->next < a->end) {
        uint64_t s = a->next;
        bool first = !a->sess_end;
        if (first) {
            a->sess_end = s + (uint64_t)(uni(r, 1, 8) * 3600000.0);
            a->sport = eph(r);
        }
        uint16_t cp = a->sport;
        if (s >= t) {
            a->done++;
            rec(o, a->host, a->peer, cp, 23, 6, first ? 0x1a : 0x18, first ? 4 : 3,
                first ? 172 : 122, s, first ? 300 : 200);
            rec(o, a->peer, a->host, 23, cp, 6, first ? 0x1a : 0x18, 3, 122, s + 40, 150);
        }
        a->next = s + 60000 + below(r, 500);
        if (a->next < a->sess_end)
            continue;
        if (a->sess_end >= t && a->sess_end < a->end)
            rec(o, a->peer, a->host, 23, cp, 6, 0x14, 1, 40, a->sess_end, 0);
        a->next = a->sess_end + (uint64_t)uni(r, 5, 60) * 1000;
        a->sess_end = 0;
    }
}

static void actor_slice(struct out *o, struct rng *r, struct actor *a, uint64_t t)
{
    uint64_t t1 = t + SLICE;
    if (t1 <= a->start || t >= a->end)
        return;
    switch (a->k) {
    case A_SPAM:
    case B_MTA:
    case B_BULK: {
        /* an MTA's queue run every 5 minutes retries what big providers deferred */
        while (a->k == B_MTA && a->next < t1) {
            uint64_t s = a->next;
            a->next = s + jittered(r, a->period, a->jitter);
            if (s >= t) {
                a->done++;
                conn(o, r, a->host, a->peer, eph(r), 25, s, 2000 + below(r, 20000),
                     400 + below(r, 200));
            }
        }
        double n = a->rate * SLICE / 60000.0;
        while (n > 0 && u01(r) < n) {
            n -= 1;
            uint64_t s = t + below(r, SLICE);
            if (s < a->start || s >= a->end)
                continue;
            uint32_t mx = a->k == B_BULK ? mx_bulk(r) : outside(r);
            if (u01(r) < a->fail)
                syn_tries(o, r, a->host, mx, eph(r), 25, s, 60 + below(r, 60));
            else
                conn(o, r, a->host, mx, eph(r), 25, s, 3000 + below(r, 30000), 400 + below(r, 600));
        }
        break;
    }
    case A_FAST:
    case A_SLOW:
    case B_NTP:
    case B_DNS:
        while (a->next < t1) {
            uint64_t s = a->next;
            a->next = s + jittered(r, a->period, a->jitter);
            if (s < t || s >= a->end)
                continue;
            a->done++;
            if (a->k == B_NTP) {
                rec(o, a->host, a->peer, 123, 123, 17, 0, 1, 76, s, 0);
                rec(o, a->peer, a->host, 123, 123, 17, 0, 1, 76, s + 15, 0);
            } else if (a->k == B_DNS) {
                uint16_t sp = eph(r);
                rec(o, a->host, a->peer, sp, 53, 17, 0, 1, 70, s, 0);
                rec(o, a->peer, a->host, 53, sp, 17, 0, 1, 180, s + 10, 0);
            } else {
                uint32_t by = (uint32_t)(a->bytes * uni(r, 0.95, 1.05));
                conn(o, r, a->host, a->peer, eph(r), a->port, s, by, by * 3);
            }
        }
        break;
    case A_ALT:
    case A_HTTP:
    case A_LOWPORT:
    case B_SAAS:
    case B_TLSPOLL:
    case B_NTPPOOL:
        while (a->next < t1) {
            uint64_t s = a->next;
            a->next = s + next_gap(r, a);
            a->seq++;
            if (s < t || s >= a->end)
                continue;
            if (++a->done == a->limit)
                a->end = s + 1; /* the last one */
            uint32_t by = a->vary ? (uint32_t)(a->bytes * uni(r, 0.5, 1.5))
                                  : (uint32_t)(a->bytes * uni(r, 0.97, 1.03));
            if (a->k == B_NTPPOOL) {
                uint32_t srv = a->peers[a->seq % 4];
                uint16_t sp = a->sport ? a->sport : eph(r);
                rec(o, a->host, srv, sp, 123, 17, 0, 1, 76, s, 0);
                rec(o, srv, a->host, 123, sp, 17, 0, 1, 76, s + 20 + below(r, 60), 0);
            } else if (a->k == A_LOWPORT) {
                /* an old Windows client: ephemeral ports 1025-5000, one after the other */
                a->sport = (uint16_t)(a->sport >= 5000 ? 1025 : a->sport + 1 + below(r, 3));
                conn(o, r, a->host, a->peer, a->sport, a->port, s, by, by * 2);
            } else {
                conn(o, r, a->host, a->peer, eph(r), a->port, s, by,
                     a->pkt_size ? a->pkt_size : by * 3);
            }
        }
        break;
    case A_BURST: /* tries a few seconds apart, the last one gets through, then a long sleep */
        while (a->next < t1) {
            uint64_t s = a->next;
            if (a->left == 0)
                a->left = a->burst;
            a->left--;
            a->next =
                a->left ? s + (uint64_t)uni(r, 2, 5) * 1000 : s + jittered(r, a->period, a->jitter);
            if (s < t || s >= a->end)
                continue;
            if (a->left) {
                syn_only(o, r, a->host, a->peer, eph(r), a->port, s);
            } else {
                a->done++; /* the check-in that got through */
                conn(o, r, a->host, a->peer, eph(r), a->port, s, a->bytes, a->bytes * 4);
            }
        }
        break;
    case A_TLSLONG:
    case A_RATPORT:
    case B_PUSH:
        long_sessions(o, r, a, t, t1);
        break;
    case A_SLOWH: /* one probe every few seconds, for hours */
    case A_SLOWV:
        while (a->next < t1) {
            uint64_t s = a->next;
            a->next = s + (uint64_t)(uni(r, 0.7, 1.3) * (double)a->period);
            if (s < t || s >= a->end)
                continue;
            a->done++;
            if (a->k == A_SLOWH) {
                uint32_t d = outside(r);
                if (u01(r) < 0.03)
                    conn(o, r, a->host, d, eph(r), a->port, s, 200, 300);
                else
                    syn_only(o, r, a->host, d, eph(r), a->port, s);
            } else {
                uint16_t port = (uint16_t)(1 + a->seq++ % 65535);
                if (port == 22 || port == 80 || port == 443)
                    conn(o, r, a->host, a->peer, eph(r), port, s, 100, 300);
                else
                    syn_only(o, r, a->host, a->peer, eph(r), port, s);
            }
        }
        break;
    case A_TELNET: /* a small, fast sweep nobody answers */
    case A_UDPSWEEP:
    case A_ICMPSWEEP:
        while (a->next < t1 && a->next < a->end) {
            uint64_t s = a->next;
            a->next = s + (uint64_t)(uni(r, 0.5, 1.5) * (double)a->period);
            if (s < t)
                continue;
            a->done++;
            uint32_t d =
                a->k == A_ICMPSWEEP ? (a->peer & 0xffff0000u) | below(r, 65536) : outside(r);
            if (a->k == A_TELNET) {
                rec(o, a->host, d, eph(r), a->seq++ % 5 == 4 ? 2323 : 23, 6, 0x02, 1, 40, s, 0);
            } else if (a->k == A_UDPSWEEP) {
                uint16_t sp = eph(r);
                rec(o, a->host, d, sp, a->port, 17, 0, 1, 60 + below(r, 40), s, 0);
                if (u01(r) < 0.05)
                    rec(o, d, a->host, a->port, sp, 17, 0, 1, 200 + below(r, 800), s + 30, 0);
            } else {
                rec(o, a->host, d, 0, 8 << 8, 1, 0, 1, 84, s, 0);
                if (u01(r) < 0.1)
                    rec(o, d, a->host, 0, 0, 1, 0, 1, 84, s + 20, 0);
            }
        }
        break;
    case A_HSCAN: {
        double n = a->rate * SLICE / 300000.0;
        for (; n > 0; n -= 1) {
            if (n < 1 && u01(r) >= n)
                break;
            uint64_t s = t + below(r, SLICE);
            uint32_t d = outside(r);
            if (u01(r) < 0.04)
                conn(o, r, a->host, d, a->sport, a->port, s, 200, 300);
            else
                rec(o, a->host, d, a->sport, a->port, 6, 0x02, 1, 44, s, 0);
        }
        break;
    }
    case A_VSCAN:
        for (unsigned i = 0; i < 20; i++) {
            uint16_t port = (uint16_t)(1 + a->seq++ % 1024);
            uint64_t s = t + i * (SLICE / 20);
            if (port == 22 || port == 80 || port == 443)
                conn(o, r, a->host, a->peer, a->sport, port, s, 100, 300);
            else
                rec(o, a->host, a->peer, a->sport, port, 6, 0x02, 1, 44, s, 0);
        }
        break;
    case A_FLOOD:
    case A_FLOODB: {
        uint64_t pk = (uint64_t)(a->rate * SLICE / 1000.0 * uni(r, 0.9, 1.1));
        /* one 5-tuple, exported every 10 s (a SYN flood's records carry SYN only) */
        struct gen_flow *f =
            rec(o, a->host, a->peer, a->sport, a->port, a->port == 80 ? 6 : 17,
                a->port == 80 ? 0x02 : 0, pk, pk * a->pkt_size, t + below(r, 500), SLICE - 1000);
        if (f)
            f->active_end = true;
        break;
    }
    case B_WEB: {
        double n = a->rate * SLICE / 60000.0;
        while (n > 0 && u01(r) < n) {
            n -= 1;
            conn(o, r, outside(r), a->host, eph(r), 443, t + below(r, SLICE), 400 + below(r, 1000),
                 2000 + below(r, 100000));
        }
        break;
    }
    case B_SESSION:
        while (a->next < t1) { /* one ssh session split every 60 s by the exporter */
            uint64_t s = a->next;
            a->next += 60000;
            if (s < t)
                continue;
            uint8_t fl = a->seq++ == 0 ? 0x1a : 0x18;
            struct gen_flow *c =
                rec(o, a->host, a->peer, a->sport, 22, 6, fl, 30, 3000 + below(r, 3000), s, 59990);
            struct gen_flow *v =
                rec(o, a->peer, a->host, 22, a->sport, 6, fl, 30, 6000 + below(r, 6000), s, 59990);
            if (c && v) {
                v->responder = true;
                c->active_end = v->active_end = true;
            }
        }
        break;
    case B_INSCAN:
        for (unsigned i = 0; i < 40; i++) { /* an outside scanner sweeps the customers */
            const struct ecust *c = &custs[below(r, NC)];
            uint32_t v = c->base + below(r, c->hosts);
            uint64_t s = t + below(r, SLICE);
            rec(o, a->peer, v, a->sport, a->port, 6, 0x02, 1, 44, s, 0);
            if (u01(r) < 0.3)
                rec(o, v, a->peer, a->port, a->sport, 6, 0x14, 1, 40, s + 1, 0);
        }
        break;
    default:
        break;
    }
}

/* A customer among the first n, in proportion to its hosts. */
static uint32_t pick_cust(struct rng *r, const uint32_t *nh, size_t n)
{
    uint32_t total = 0;
    for (size_t c = 0; c < n; c++)
        total += nh[c];
    uint32_t x = below(r, total);
    for (size_t c = 0; c < n; c++) {
        if (x < nh[c])
            return (uint32_t)c;
        x -= nh[c];
    }
    return 0;
}

void gen_eval_defaults(struct gen_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->start_ms = 1221868800000ULL;
    o->duration_ms = 6 * 3600000ULL;
    o->seed = 2008;
    o->host_scale = 1.0;
    o->bg_rate = 0.3;
}

static void addr_text(uint32_t v, char *buf)
{
    uint8_t a[16];
    gen_v4(a, v);
    addr_format(a, buf); /* buf: ADDR_STRLEN bytes */
}

/* The truth line of one actor, written after the run: "checkins" counts the scheduled events
 * (check-ins, polls, probes) the flows really contain, not what the schedule would give. */
static void truth_actor(FILE *out, const struct actor *a, uint64_t T1)
{
    char h[ADDR_STRLEN], p[ADDR_STRLEN];
    addr_text(a->host, h);
    addr_text(a->peer, p);
    uint64_t end = a->end < T1 ? a->end : T1;
    if (a->cohost)
        return; /* the host's truth line is its behaviour's */
    if (a->k == B_INSCAN) {
        fprintf(out,
                "{\"label\":\"%s\",\"benign\":true,\"customer\":\"*\",\"peer\":\"%s\","
                "\"start_ms\":%llu,\"end_ms\":%llu}\n",
                kind_label[a->k], p, (unsigned long long)a->start, (unsigned long long)a->end);
        return;
    }
    fprintf(out,
            "{\"label\":\"%s\",\"customer\":\"%s\",\"host\":\"%s\",\"peer\":\"%s\","
            "\"port\":%u,\"period_s\":%.1f,",
            kind_label[a->k], custs[a->cust].id, h, a->peer ? p : "", a->port, a->period / 1000.0);
    if (a->period2)
        fprintf(out, "\"period2_s\":%.1f,", a->period2 / 1000.0);
    if (a->period)
        fprintf(out, "\"checkins\":%u,", a->done);
    if (a->k < FIRST_BENIGN)
        fprintf(out, "\"detector\":\"%s\",\"also\":[%s%s%s],", kind_detector[a->k][0],
                kind_detector[a->k][1] ? "\"" : "",
                kind_detector[a->k][1] ? kind_detector[a->k][1] : "",
                kind_detector[a->k][1] ? "\"" : "");
    else
        fprintf(out, "\"benign\":true,");
    fprintf(out, "\"jitter\":%.2f,\"rate\":%.1f,\"start_ms\":%llu,\"end_ms\":%llu}\n", a->jitter,
            a->rate, (unsigned long long)a->start, (unsigned long long)end);
}

/* Room for every actor of the scenario o. */
static size_t actors_max(const struct gen_eval_opts *o)
{
    size_t cap =
        sizeof resolver_custs / sizeof resolver_custs[0] + (size_t)(NTPOWN_COUNT * o->host_scale) +
        1 + (size_t)(HEAVYWEB_COUNT * o->host_scale) + 1 + (size_t)(P2P_COUNT * o->host_scale) + 1 +
        (size_t)(KEEPALIVE_COUNT * o->host_scale) + 1 + (size_t)(TRACE_COUNT * o->host_scale) + 1 +
        (size_t)(REACH_COUNT * o->host_scale) + 1 + C2LIST_COUNT + CNC_COUNT +
        ((size_t)(DESKTOP_COUNT * o->host_scale) + 1) * DESKTOP_SVCS;
    for (int k = 0; k < NKIND; k++)
        cap += (size_t)(kind_count[k] * (scales((enum kind)k) ? o->host_scale : 1.0)) + 1;
    return cap;
}

/* The customers' resolvers (resolver_custs), after every other actor, each on a host no other
 * actor has, drawn from its own RNG. */
static void add_resolvers(struct actor *act, size_t *nact, const uint32_t *nh, uint8_t **used,
                          uint32_t seed, uint64_t T0, uint64_t T1)
{
    for (size_t i = 0; i < sizeof resolver_custs / sizeof resolver_custs[0]; i++) {
        struct actor *a = &act[(*nact)++];
        memset(a, 0, sizeof *a);
        a->k = B_RESOLVER;
        a->cust = resolver_custs[i];
        a->own.s = 0x7265736F6C766572ULL ^ ((uint64_t)seed << 8) ^ i;
        uint32_t hi;
        do
            hi = below(&a->own, nh[a->cust]);
        while (used[a->cust][hi]);
        used[a->cust][hi] = 1; /* its background stays: the host is busy otherwise too */
        a->host = custs[a->cust].base + hi;
        a->start = T0;
        a->end = T1;
        a->rate = uni(&a->own, 8, 12);      /* queries a second to authoritative servers at peak */
        a->fail = uni(&a->own, 0.02, 0.04); /* long-tail servers that never answer (lame) */
    }
}

/* A new actor of kind k, all day, on a host no other actor has: its customer drawn from pick,
 * its host (and everything after) from its own RNG, seeded with own. NULL when every host has
 * a part (the scenario is full). */
static struct actor *apart_actor(struct actor *act, size_t *nact, const uint32_t *nh,
                                 uint8_t **used, uint32_t *nfree, uint32_t c, enum kind k,
                                 uint64_t own, uint64_t T0, uint64_t T1)
{
    for (size_t tries = 0; nfree[c] == 0 && tries < NC; tries++)
        c = (c + 1) % NC;
    if (nfree[c] == 0)
        return NULL;
    struct actor *a = &act[(*nact)++];
    memset(a, 0, sizeof *a);
    a->k = k;
    a->cust = c;
    a->own.s = own;
    uint32_t hi;
    do
        hi = below(&a->own, nh[c]);
    while (used[c][hi]);
    used[c][hi] = 1;
    nfree[c]--;
    a->host = custs[c].base + hi;
    a->start = T0;
    a->end = T1;
    return a;
}

/* The hosts keeping time with servers of their own (B_NTPOWN), after the resolvers, each on a
 * host no other actor has, drawn from RNGs of their own. */
static void setup_ntp_own(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)o;
    a->nserv = (uint8_t)(1 + below(&a->own, 4));
    for (unsigned j = 0; j < a->nserv; j++)
        a->peers[j] = outside(&a->own);
    a->peer = a->peers[0];
    a->port = 123;
    a->bytes = below(&a->own, 5) ? 76 : 96; /* one in five signs its requests (MD5) */
    a->jitter = 0.005;
    switch (i % 4) {
    case 0: /* ntpd */
        a->period = 64000, a->period_max = 1024000;
        for (unsigned j = 0; j < a->nserv; j++)
            a->sports[j] = 123;
        break;
    case 1: /* chrony */
    case 2: /* systemd-timesyncd */
        a->period = i % 4 == 1 ? 64000 : 32000;
        a->period_max = i % 4 == 1 ? 1024000 : 2048000;
        for (unsigned j = 0; j < a->nserv; j++)
            a->sports[j] = eph(&a->own);
        break;
    default: /* an appliance's SNTP client: one fixed interval, port 123 or a new one */
        a->period = a->period_max =
            (uint64_t)(uint32_t[]){300, 600, 900, 3600}[below(&a->own, 4)] * 1000;
        if (below(&a->own, 2))
            for (unsigned j = 0; j < a->nserv; j++)
                a->sports[j] = 123;
        break;
    }
    a->next = T0 + below(&a->own, 64000);
}

static bool beacon_kind(enum kind k)
{
    return k == A_FAST || k == A_SLOW || k == A_ALT || k == A_BURST || k == A_HTTP ||
           k == A_LOWPORT || k == A_TLSLONG || k == A_RATPORT || k == A_C2LIST;
}

/* Heavy web users (B_HEAVYWEB), after the own-NTP clients, from RNGs of their own: on every
 * other host of the beacon behaviours (an infected workstation is somebody's desktop: the host
 * tests many pairs at each close, and shares `chance` among them) and on HEAVYWEB_COUNT *
 * host_scale benign hosts no other actor has. */
static void add_heavy_web(struct actor *act, size_t *nact, const uint32_t *nh, uint8_t **used,
                          uint32_t *nfree, const struct gen_eval_opts *o, uint64_t T0, uint64_t T1)
{
    struct rng pick = {0x6865617679776562ULL ^ ((uint64_t)o->seed << 8)};
    size_t nbefore = *nact, nbeacon = 0, seen = 0;
    for (size_t i = 0; i < nbefore; i++)
        nbeacon += beacon_kind(act[i].k);
    nbeacon = (nbeacon + 1) / 2;
    size_t room = nbeacon + (size_t)(HEAVYWEB_COUNT * o->host_scale);
    for (size_t i = 0, k = 0; k < room; k++) {
        uint32_t c, host;
        bool cohost = k < nbeacon;
        if (cohost) { /* the first, third, fifth... host of the beacon behaviours */
            while (!beacon_kind(act[i].k) || seen++ % 2)
                i++;
            c = act[i].cust;
            host = act[i].host;
            i++;
        } else {
            c = pick_cust(&pick, nh, NC - 1);
            for (size_t tries = 0; nfree[c] == 0 && tries < NC; tries++)
                c = (c + 1) % NC;
            if (nfree[c] == 0)
                return; /* every host has a part: the scenario is full */
            uint32_t hi;
            do
                hi = below(&pick, nh[c]);
            while (used[c][hi]);
            used[c][hi] = 1;
            nfree[c]--;
            host = custs[c].base + hi;
        }
        struct actor *a = &act[(*nact)++];
        memset(a, 0, sizeof *a);
        a->k = B_HEAVYWEB;
        a->cohost = cohost;
        a->cust = c;
        a->host = host;
        a->own.s = 0x7765627573657200ULL ^ ((uint64_t)o->seed << 16) ^ k;
        a->start = T0;
        a->end = T1;
        a->rate = uni(&a->own, 2, 6); /* connections a minute at the busiest hour */
    }
}

/* BitTorrent clients (B_P2P), after the heavy web users, each on a host no other actor has,
 * from RNGs of their own. */
static void setup_p2p(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)i;
    (void)o;
    (void)T0;
    a->seed = a->own.s * 0xBF58476D1CE4E5B9ULL + 1;
    a->nodes = 100 + below(&a->own, 151);
    a->torrents = 2 + below(&a->own, 7);
    a->sport = p2p_port(&a->own);
    a->fail = uni(&a->own, 0.1, 0.3);                 /* table nodes not answering a ping */
    a->rate = uni(&a->own, 0.3, 0.6);                 /* lookup queries not answered */
    a->fail_tcp = uni(&a->own, 0.3, 0.6);             /* peer connections not answered */
    a->period = 1000ULL * (60 + below(&a->own, 121)); /* retrying a peer that left */
}

/* Hosts keeping a VPN tunnel or a SIP trunk up (B_KEEPALIVE), after the P2P clients, each on a
 * host no other actor has, to a peer no other host uses, from RNGs of their own. */
static void setup_keepalive(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)o;
    a->proto_ka = (uint8_t)(i % KA_NPROTO);
    a->peer = outside(&a->own);
    static const uint16_t port[KA_NPROTO] = {51820, 4500, 5060, 1194};
    static const uint64_t every[KA_NPROTO] = {25000, 20000, 60000, 10000};
    static const uint64_t second[KA_NPROTO] = {120000, 30000, 60000, 0};
    a->port = port[a->proto_ka];
    a->sport = a->proto_ka == KA_NATT || a->proto_ka == KA_SIP ? a->port : eph(&a->own);
    a->period = every[a->proto_ka];
    a->period2 = second[a->proto_ka];
    a->next = T0 + below(&a->own, (uint32_t)a->period);
    a->rate = uni(&a->own, 0.05, 0.3); /* share of the busiest hour's slices in use */
}

/* Hosts tracing paths (B_TRACE), after the keepalive hosts, each on a host no other actor has,
 * from RNGs of their own: 5-40 peers each, traced every 5, 10, 15 or 30 minutes. */
static void setup_trace(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)i;
    (void)o;
    (void)T0;
    static const uint64_t every[4] = {300000, 600000, 900000, 1800000};
    a->seed = a->own.s * 0x94D049BB133111EBULL + 3;
    a->nodes = 5 + below(&a->own, 36);
    a->period = every[below(&a->own, 4)];
    a->port = 33434;
    struct rng p0 = {a->seed ^ 0x9E3779B97F4A7C15ULL};
    a->peer = outside(&p0); /* the first peer, for the truth line */
}

/* Devices testing their link (B_REACH), after the tracing hosts, each on a host no other actor
 * has, to a check address of its own (a vendor's name resolves to different CDN edges), from
 * RNGs of their own: every 5, 10 or 15 minutes, 1 or 3 connections, to port 80 or 443. */
static void setup_reach(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)i;
    (void)o;
    static const uint64_t every[3] = {300000, 600000, 900000};
    a->period = every[below(&a->own, 3)];
    a->burst = below(&a->own, 2) ? 3 : 1;
    a->port = below(&a->own, 2) ? 443 : 80;
    a->peer = outside(&a->own);
    a->next = T0 + below(&a->own, (uint32_t)a->period);
}

/* Bots walking a list of C2 servers (A_C2LIST), after the link testers, each on a host no other
 * actor has, the even ones in badco, from RNGs of their own: 20-32 servers, most on 443 or 447,
 * the rest on 449 or 8443, 1-3 of them answering; the list walked every 40-60 minutes from some
 * time in the first quarter of the run. */
static void setup_c2list(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)i;
    a->seed = a->own.s * 0xD6E8FEB86659FD93ULL + 5;
    a->start = T0 + below(&a->own, (uint32_t)(o->duration_ms / 4));
    a->nodes = 20 + below(&a->own, 13);
    a->burst = 1 + below(&a->own, 3);
    a->period = 60000ULL * (40 + below(&a->own, 21));
    a->jitter = 0.01;
    a->port = below(&a->own, 2) ? 443 : 447;
    a->sports[0] = below(&a->own, 2) ? 449 : 8443;
    a->bytes = 300 + below(&a->own, 700);
    struct rng p0 = {a->seed ^ 0x9E3779B97F4A7C15ULL};
    a->peer = outside(&p0); /* the first server, for the truth line */
}

/* Mirai bots holding their CNC session (A_CNC), after the C2-list bots, each on a host no other
 * actor has, the even ones in badco, from RNGs of their own: the CNC on 23/tcp, reached from
 * some time in the first quarter of the run. */
static void setup_cnc(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0)
{
    (void)i;
    a->start = a->next = T0 + below(&a->own, (uint32_t)(o->duration_ms / 4));
    a->port = 23;
    a->period = 60000;
    a->peer = outside(&a->own);
}

/* A group of actors set up apart from kind_count (add_apart), each actor on a host no other
 * actor has: its kind, how many (times host_scale when scaled), the keys of its customer pick
 * and of its actors' own RNGs (each actor's: own_key ^ seed << 16 ^ its index), the even ones
 * in badco when hostile (as kind_count's misbehaving hosts), and its actors' fields (setup). */
struct apart_group {
    enum kind k;
    unsigned count;
    bool scaled, hostile;
    uint64_t pick_key, own_key;
    void (*setup)(struct actor *a, unsigned i, const struct gen_eval_opts *o, uint64_t T0);
};

static const struct apart_group apart_groups[] = {
    {B_NTPOWN, NTPOWN_COUNT, true, false, 0x6E74706F776E0000ULL, 0x6E7470636C690000ULL,
     setup_ntp_own},
    {B_P2P, P2P_COUNT, true, false, 0x703270636C69656EULL, 0x7032702D6E6F6465ULL, setup_p2p},
    {B_KEEPALIVE, KEEPALIVE_COUNT, true, false, 0x6B656570616C6976ULL, 0x74756E6E656C0000ULL,
     setup_keepalive},
    {B_TRACE, TRACE_COUNT, true, false, 0x7472616365726F75ULL, 0x7474746C00000000ULL, setup_trace},
    {B_REACH, REACH_COUNT, true, false, 0x7265616368636B00ULL, 0x6C696E6B74657374ULL, setup_reach},
    {A_C2LIST, C2LIST_COUNT, false, true, 0x6332206C69737400ULL, 0x6332776B00000000ULL,
     setup_c2list},
    {A_CNC, CNC_COUNT, false, true, 0x6D6972616920636EULL, 0x636E63206B610000ULL, setup_cnc},
};

static void add_group(struct actor *act, size_t *nact, const uint32_t *nh, uint8_t **used,
                      uint32_t *nfree, const struct gen_eval_opts *o, uint64_t T0, uint64_t T1,
                      const struct apart_group *g)
{
    struct rng pick = {g->pick_key ^ ((uint64_t)o->seed << 8)};
    unsigned n = g->scaled ? (unsigned)(g->count * o->host_scale) : g->count;
    for (unsigned i = 0; i < n; i++) {
        uint32_t c = g->hostile && i % 2 == 0 ? BADCO : pick_cust(&pick, nh, NC - 1);
        struct actor *a = apart_actor(act, nact, nh, used, nfree, c, g->k,
                                      g->own_key ^ ((uint64_t)o->seed << 16) ^ i, T0, T1);
        if (!a)
            return; /* every host has a part: the scenario is full */
        g->setup(a, i, o, T0);
    }
}

/* Services a desktop's browser keeps a session with (B_DESKTOP) that many desktops share: a
 * microblog's and a code host's live updates, a browser's push service, a video CDN, a file
 * sync's notifications, all on 443 (CTU-Normal-42 and -44 hold such sessions with Twitter,
 * GitHub, Mozilla's push service, Fastly and Dropbox), and a music client's session on 4070. */
static const uint32_t desktop_svcs[5] = {A4(104, 244, 42, 2), A4(140, 82, 112, 25),
                                         A4(34, 120, 52, 64), A4(199, 232, 16, 158),
                                         A4(162, 125, 19, 9)};
#define MUSIC_SVC A4(104, 199, 65, 124)

/* Desktops (B_DESKTOP), after the Mirai bots, each on a host no other actor has, from RNGs of
 * their own. A user logs in at some time in the first quarter of the run; within ten minutes
 * the browser restores its tabs and the apps start, and each holds a TLS session with its
 * service until the end, dropped after 15 minutes to 4 hours and reopened at once or when the
 * user opens it again (CTU-Normal's desktops: 8-9 peers a day each, 2-7 sessions of 15 minutes
 * to 6.5 hours with each). Of a desktop's DESKTOP_SVCS services 3 are shared ones of
 * desktop_svcs, half the desktops run the music client, and the rest are the host's own: its
 * apps' backends on cloud addresses no other host of the scenario reaches. One actor per
 * service; the first writes the host's truth line. */
static void add_desktops(struct actor *act, size_t *nact, const uint32_t *nh, uint8_t **used,
                         uint32_t *nfree, const struct gen_eval_opts *o, uint64_t T0, uint64_t T1)
{
    struct rng pick = {0x6465736B746F7000ULL ^ ((uint64_t)o->seed << 8)};
    unsigned n = (unsigned)(DESKTOP_COUNT * o->host_scale);
    for (unsigned i = 0; i < n; i++) {
        struct actor *first =
            apart_actor(act, nact, nh, used, nfree, pick_cust(&pick, nh, NC - 1), B_DESKTOP,
                        0x62726F7773657200ULL ^ ((uint64_t)o->seed << 16) ^ i, T0, T1);
        if (!first)
            return; /* every host has a part: the scenario is full */
        struct rng own = first->own;
        uint64_t login = T0 + below(&own, (uint32_t)(o->duration_ms / 4));
        bool music = below(&own, 2);
        unsigned shared0 = below(&own, 5);
        for (unsigned j = 0; j < DESKTOP_SVCS; j++) {
            struct actor *a = first;
            if (j) {
                a = &act[(*nact)++];
                *a = *first;
                a->cohost = true;
            }
            a->own.s = own.s ^ (uint64_t)(j + 1) * 0x9E3779B97F4A7C15ULL;
            a->start = a->next = login + below(&own, 600000);
            a->sess_end = 0;
            a->port = 443;
            if (j < 3)
                a->peer = desktop_svcs[(shared0 + j) % 5];
            else if (j == 3 && music)
                a->peer = MUSIC_SVC, a->port = 4070;
            else
                a->peer = outside(&own);
            a->bytes = 150 + below(&own, below(&own, 4) ? 600 : 6000); /* a minute, each way */
        }
    }
}

/* The actors set up apart from kind_count, after every other, each from RNGs of its own: adding
 * one leaves the others and the background drawn as they were. */
static void add_apart(struct actor *act, size_t *nact, const uint32_t *nh, uint8_t **used,
                      uint32_t *nfree, const struct gen_eval_opts *o, uint64_t T0, uint64_t T1)
{
    add_resolvers(act, nact, nh, used, o->seed, T0, T1);
    add_group(act, nact, nh, used, nfree, o, T0, T1, &apart_groups[0]); /* own NTP servers */
    add_heavy_web(act, nact, nh, used, nfree, o, T0, T1);
    for (size_t g = 1; g < sizeof apart_groups / sizeof apart_groups[0]; g++)
        add_group(act, nact, nh, used, nfree, o, T0, T1, &apart_groups[g]);
    add_desktops(act, nact, nh, used, nfree, o, T0, T1);
}

/* One slice of actor a's traffic. */
static void slice_of(struct out *o, struct rng *r, struct actor *a, uint64_t t)
{
    if (a->k == B_RESOLVER)
        resolver_slice(o, a, t);
    else if (a->k == B_NTPOWN)
        ntpown_slice(o, a, t);
    else if (a->k == B_HEAVYWEB)
        heavyweb_slice(o, a, t);
    else if (a->k == B_P2P)
        p2p_slice(o, a, t);
    else if (a->k == B_KEEPALIVE)
        keepalive_slice(o, a, t);
    else if (a->k == B_TRACE)
        trace_slice(o, a, t);
    else if (a->k == B_REACH)
        reach_slice(o, a, t);
    else if (a->k == A_C2LIST)
        c2list_slice(o, a, t);
    else if (a->k == A_CNC)
        cnc_slice(o, a, t);
    else if (a->k == B_DESKTOP)
        long_sessions(o, &a->own, a, t, t + SLICE);
    else
        actor_slice(o, r, a, t);
}

int gen_eval_run(const struct gen_eval_opts *o, gen_flow_fn emit, void *arg)
{
    struct rng r = {0x5DEECE66DULL ^ ((uint64_t)o->seed << 20) ^ 0xA5A5A5A5ULL};
    uint32_t nh[NC], nfree[NC];
    uint8_t *used[NC];
    size_t total_hosts = 0;
    for (size_t c = 0; c < NC; c++) {
        nh[c] = (uint32_t)(custs[c].hosts * o->host_scale);
        if (nh[c] < 50)
            nh[c] = 50;
        /* every host inside its customer's prefix (from .1, below the broadcast address) */
        unsigned long len = strtoul(strchr(custs[c].cidr, '/') + 1, NULL, 10);
        if (nh[c] > (1u << (32 - len)) - 2) {
            for (size_t k = 0; k < c; k++)
                free(used[k]);
            return -ERANGE;
        }
        used[c] = calloc(nh[c], 1);
        nfree[c] = nh[c];
        total_hosts += nh[c];
    }
    size_t nact = 0, cap = actors_max(o);
    struct actor *act = calloc(cap, sizeof *act);
    struct out s = {calloc(MAX_FLOWS, sizeof(struct gen_flow)), 0, MAX_FLOWS, false};
    struct gen_order ord = {0};
    int rc = 0;
    if (!act || !s.f || gen_order_init(&ord, MAX_FLOWS) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t T0 = o->start_ms, T1 = o->start_ms + o->duration_ms, H = 3600000ULL, M = 60000ULL;
    for (int k = 0; k < NKIND; k++) {
        unsigned n = (unsigned)(kind_count[k] * (scales((enum kind)k) ? o->host_scale : 1.0));
        if (o->no_floods && (k == A_FLOOD || k == A_FLOODB))
            n = 0;
        for (unsigned i = 0; i < n; i++) {
            struct actor *a = &act[nact++];
            memset(a, 0, sizeof *a);
            a->k = (enum kind)k;
            /* half the misbehaving hosts sit in badco, the rest spread over the others; benign
             * look-alikes in proportion to the customers' sizes; a full customer passes on */
            a->cust = k < FIRST_BENIGN ? (i % 2 == 0 ? BADCO : (i / 2) % (NC - 1))
                                       : pick_cust(&r, nh, NC - 1);
            for (size_t tries = 0; nfree[a->cust] == 0 && tries < NC; tries++)
                a->cust = (a->cust + 1) % NC;
            if (nfree[a->cust] == 0) {
                rc = -ENOSPC; /* more actors than hosts: raise the host scale */
                goto out;
            }
            nfree[a->cust]--;
            uint32_t hi;
            do
                hi = below(&r, nh[a->cust]);
            while (used[a->cust][hi]);
            used[a->cust][hi] = 1;
            a->host = custs[a->cust].base + hi;
            a->start = T0;
            a->end = T1;
            a->sport = eph(&r);
            switch (a->k) {
            case A_SPAM:
                a->start =
                    T0 + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 60, 120) * M;
                a->rate = uni(&r, 20, 60);
                a->fail = uni(&r, 0.35, 0.7);
                break;
            case B_MTA:
                a->rate = uni(&r, 30, 50);
                a->fail = 0.2;
                a->period = 5 * M; /* queue_run_delay */
                a->jitter = 0.02;
                a->peer = mx_bulk(&r);
                break;
            case B_BULK:
                a->start = T0 + H;
                a->end = a->start + 2 * H;
                a->rate = 80;
                a->fail = 0.02;
                break;
            case A_FAST:
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 2));
                a->period = (uint64_t)uni(&r, 3, 120) * 1000;
                a->jitter = uni(&r, 0.1, 0.2);
                a->peer = outside(&r);
                a->port = i % 3 ? 443 : 8080;
                a->bytes = 200 + below(&r, 800);
                break;
            case A_SLOW: /* a quarter of an hour to two hours, constant or varying sizes */
                a->start = T0 + below(&r, (uint32_t)(30 * M));
                a->period = (uint64_t)uni(&r, 5, i % 3 == 0 ? 120 : 60) * M;
                a->jitter = uni(&r, 0.05, 0.2);
                a->peer = outside(&r);
                a->port = i % 4 == 1 ? 80 : 443;
                a->bytes = 300 + below(&r, 1500);
                a->vary = i % 2;
                break;
            case A_ALT: /* njRAT-like: gaps of 14 s and 9 s in turn */
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 2));
                a->period = 14000;
                a->period2 = 9000;
                a->jitter = 0.05;
                a->peer = outside(&r);
                a->port = (uint16_t[]){5552, 1177, 7777, 443}[i % 4];
                a->bytes = 100 + below(&r, 200);
                break;
            case A_BURST: /* 3-6 tries a few seconds apart, then 20-40 min of sleep */
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 4));
                a->burst = 3 + below(&r, 4);
                a->period = (uint64_t)uni(&r, 20, 40) * M;
                a->jitter = 0.1;
                a->peer = outside(&r);
                a->port = i % 2 ? 443 : 8080;
                a->bytes = 400 + below(&r, 600);
                break;
            case A_HTTP: /* an HTTP bot's infection: 7 check-ins 15 min apart, the first as it
                          * starts (a bot registers with its C2 when it runs), so about 90 min */
                a->start =
                    T0 + below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + 100 * M; /* 6 gaps of at most 16.5 min; ends at the 7th */
                a->limit = 7;
                a->period = 15 * M;
                a->jitter = 0.1;
                a->peer = outside(&r);
                a->port = 80;
                a->bytes = 300 + below(&r, 200);
                a->pkt_size = 200 + below(&r, 600); /* response size */
                a->vary = true;
                break;
            case A_TLSLONG: /* a few long TLS sessions, each drop followed by reconnects */
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 3));
                a->peer = outside(&r);
                a->port = 443;
                a->burst = 2 + below(&r, 3);
                a->bytes = 1500 + below(&r, 3000);
                break;
            case A_RATPORT: /* a RAT's controller session for hours on an unusual port */
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 3));
                a->peer = outside(&r);
                a->port = (uint16_t[]){2404, 1604, 5552, 4782}[i % 4];
                a->bytes = 200 + below(&r, 800);
                break;
            case A_LOWPORT: /* C2 on a high port, from an old client's low ephemeral ports */
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 2));
                a->period = (uint64_t)uni(&r, 30, 300) * 1000;
                a->jitter = 0.1;
                a->peer = outside(&r);
                a->port = (uint16_t[]){8443, 44443, 31337, 9001}[i % 4];
                a->sport = (uint16_t)(1025 + below(&r, 3000));
                a->bytes = 200 + below(&r, 500);
                break;
            case A_SLOWH: /* a probe every 5-10 s for 3-8 hours */
            case A_SLOWV: /* a port every 3-8 s of one target, for hours */
                a->start = T0 + below(&r, (uint32_t)(o->duration_ms / 3));
                a->end = a->start + (uint64_t)uni(&r, 3, 8) * H;
                a->period = (uint64_t)(a->k == A_SLOWH ? uni(&r, 5, 10) : uni(&r, 3, 8)) * 1000;
                a->peer = outside(&r);
                a->port = (uint16_t[]){22, 23, 445, 3389}[i % 4];
                break;
            case A_TELNET: /* 60-150 unanswered telnet SYNs within a minute or so */
                a->start =
                    T0 + H / 2 +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 30, 90) * 1000;
                a->period = (a->end - a->start) / (60 + below(&r, 91));
                break;
            case A_UDPSWEEP: /* UDP discovery of amplifiers: 300-1000 addresses in 5-15 min */
                a->start =
                    T0 + H / 2 +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 5, 15) * M;
                a->period = (a->end - a->start) / (300 + below(&r, 701));
                a->port = (uint16_t[]){161, 1900, 5060, 11211}[i % 4];
                break;
            case A_ICMPSWEEP: /* echo requests across a /16: 200-1000 in 2-10 min */
                a->start =
                    T0 + H / 2 +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 2, 10) * M;
                a->period = (a->end - a->start) / (200 + below(&r, 801));
                a->peer = outside(&r);
                break;
            case B_NTPPOOL: /* ntpd with 4 pool servers: 64 s, doubling to 1024 s */
                a->period = 64000;
                a->jitter = 0.02;
                for (unsigned j = 0; j < 4; j++)
                    a->peers[j] = ntp_pool[(i + j * 3) % 12];
                a->peer = a->peers[0];
                a->sport =
                    i % 2 ? 123 : 0; /* ntpd binds 123; other clients take an ephemeral port */
                break;
            case B_SAAS: /* a monitoring agent reporting every 60 s to one popular server */
                a->period = 60000;
                a->jitter = 0.01;
                a->peer = SAAS_SERVER;
                a->port = 443;
                a->bytes = 900 + below(&r, 300);
                a->pkt_size = 1500;
                break;
            case B_TLSPOLL: {
                const struct poll_svc *ps = &poll_svcs[i % 8];
                a->period = (uint64_t)ps->period_s * 1000;
                a->jitter = ps->jitter;
                a->peer = ps->addr;
                a->port = ps->port;
                a->bytes = ps->req;
                a->pkt_size = ps->resp;
                break;
            }
            case B_PUSH:
                a->peer = push_svcs[i % 3].addr;
                a->port = push_svcs[i % 3].port;
                a->bytes = 150 + below(&r, 200);
                break;
            case B_NTP:
                a->period = 64000;
                a->jitter = 0.005;
                a->peer = NTPSRV;
                break;
            case B_DNS:
                a->period = 30000;
                a->jitter = 0.05;
                a->peer = RESOLVER;
                break;
            case A_HSCAN:
                a->start =
                    T0 + H / 2 +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 20, 60) * M;
                a->rate = uni(&r, 150, 1000);
                a->port = (uint16_t[]){23, 445, 22, 3389}[i % 4];
                break;
            case A_VSCAN:
                a->start =
                    T0 + H / 2 +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + 15 * M;
                a->peer = outside(&r);
                break;
            case A_FLOOD:
                a->start =
                    T0 + H +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 15, 30) * M;
                a->rate = uni(&r, 60000, 150000);
                a->peer = outside(&r);
                a->port = i % 2 ? 80 : 53;
                a->pkt_size = 60 + below(&r, 400);
                break;
            case A_FLOODB:
                a->start =
                    T0 + H +
                    below(&r, (uint32_t)(o->duration_ms > 2 * H ? o->duration_ms - 2 * H : M));
                a->end = a->start + (uint64_t)uni(&r, 15, 30) * M;
                a->rate = uni(&r, 3000, 8000);
                a->peer = outside(&r);
                a->port = 53;
                a->pkt_size = 100 + below(&r, 400);
                break;
            case B_WEB:
                a->rate = uni(&r, 20, 60);
                break;
            case B_SESSION:
                a->start = T0 + below(&r, (uint32_t)H);
                a->end = a->start + 4 * H;
                a->peer = outside(&r);
                break;
            case B_INSCAN:
                a->peer = outside(&r);
                a->port = i % 2 ? 23 : 22;
                a->start = T0 + i * H;
                a->end = a->start + H;
                break;
            default:
                break;
            }
            a->next = a->start + (a->period ? below(&r, (uint32_t)a->period) : 0);
            if (a->k == A_HTTP)
                a->next = a->start; /* an infection checks in as it starts */
        }
    }
    add_apart(act, &nact, nh, used, nfree, o, T0, T1);
    if (o->customers_csv) {
        fprintf(o->customers_csv,
                "# evaluation customers (tests/gen/gen_eval.c)\nprefix,customer_id,name,asn\n");
        for (size_t c = 0; c < NC; c++)
            fprintf(o->customers_csv, "%s,%s,%s,%zu\n", custs[c].cidr, custs[c].id, custs[c].name,
                    64600 + c);
    }
    if (o->config) {
        fprintf(o->config,
                "# detector settings the evaluation scenario assumes (tests/gen/gen_eval.c)\n"
                "[detector.spam]\nmta = ");
        bool first = true;
        for (size_t i = 0; i < nact; i++) {
            if (act[i].k != B_MTA)
                continue;
            char h[ADDR_STRLEN];
            addr_text(act[i].host, h);
            fprintf(o->config, "%s%s/32", first ? "" : ", ", h);
            first = false;
        }
        fprintf(o->config, "\n[detector.beacon]\nresolvers = 203.0.113.53/32, 203.0.113.123/32\n");
    }

    for (uint64_t t = T0; t < T1 && rc == 0; t += SLICE) {
        s.n = 0;
        /* background: a day curve; web mostly to popular destinations (the same ones for every
         * host, again and again), some to the long tail; DNS to the provider's resolver or a
         * public one */
        double pbg = o->bg_rate * SLICE / 60000.0 * day_curve(t);
        for (size_t c = 0; c < NC; c++) {
            for (uint32_t h = 0; h < nh[c]; h++) {
                if (u01(&r) >= pbg)
                    continue;
                uint32_t in = custs[c].base + h;
                uint64_t st = t + below(&r, SLICE);
                uint32_t kind = below(&r, 20);
                if (kind < 14)
                    conn(&s, &r, in, u01(&r) < 0.6 ? popular(&r) : outside(&r), eph(&r),
                         kind < 10 ? 443 : 80, st, 300 + below(&r, 2000), 1000 + below(&r, 200000));
                else if (kind < 17) {
                    uint16_t sp = eph(&r);
                    uint32_t res = u01(&r) < 0.7 ? RESOLVER : public_dns[below(&r, 4)];
                    rec(&s, in, res, sp, 53, 17, 0, 1, 60 + below(&r, 40), st, 0);
                    rec(&s, res, in, 53, sp, 17, 0, 1, 100 + below(&r, 300), st + 8, 0);
                } else if (kind < 19)
                    conn(&s, &r, outside(&r), in, eph(&r), kind == 17 ? 443 : 22, st,
                         300 + below(&r, 900), 1000 + below(&r, 30000));
                else
                    rec(&s, in, outside(&r), eph(&r), (uint16_t)(1024 + below(&r, 60000)), 17, 0,
                        1 + below(&r, 5), 100 + below(&r, 1000), st, below(&r, 2000));
            }
        }
        for (size_t i = 0; i < nact; i++)
            slice_of(&s, &r, &act[i], t);
        if (s.overflow) {
            rc = -E2BIG;
            break;
        }
        if ((rc = gen_order_push(&ord, s.f, s.n, t + SLICE, emit, arg)) != 0)
            break;
    }
    if (rc == 0)
        rc = gen_order_finish(&ord, emit, arg);
    if (o->truth) {
        for (size_t i = 0; i < nact; i++)
            truth_actor(o->truth, &act[i], T1);
        for (size_t c = 0; c < NC; c++)
            fprintf(o->truth, "{\"label\":\"customer\",\"customer\":\"%s\",\"hosts\":%u%s}\n",
                    custs[c].id, nh[c], c == BADCO ? ",\"hostile\":true" : "");
        fprintf(o->truth,
                "{\"label\":\"scenario\",\"hosts\":%zu,\"duration_s\":%llu,\"start_ms\":%llu}\n",
                total_hosts, (unsigned long long)(o->duration_ms / 1000), (unsigned long long)T0);
    }
out:
    for (size_t c = 0; c < NC; c++)
        free(used[c]);
    free(act);
    free(s.f);
    gen_order_free(&ord);
    return rc;
}
