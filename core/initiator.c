/* initiator.c: see initiator.h. */
#include "initiator.h"

#include <stddef.h>

/* Well-known server ports, by protocol. Sources: IANA's registry as used by peers' service
 * tables (nmap-services' most frequent open ports, Wireshark's port table), limited to ports
 * that servers, not clients, listen on. Below 1024 every port counts as a service port for the
 * range rule anyway; the lists matter for ports above it and for telling 123->123-style pairs.
 * 51820/udp: WireGuard's registered default, in the dynamic range. */
static const uint16_t tcp_services[] = {
    20,   21,   22,   23,   25,   53,   80,   88,   110,   111,   135,   139,  143,  179,
    389,  443,  445,  465,  514,  515,  587,  631,  636,   873,   989,   990,  993,  995,
    1080, 1194, 1433, 1521, 1723, 1883, 2049, 2082, 2083,  2181,  2375,  2376, 2379, 3128,
    3268, 3306, 3389, 3690, 4443, 5060, 5061, 5222, 5223,  5228,  5432,  5671, 5672, 5900,
    5938, 5984, 5985, 5986, 6379, 6443, 6667, 6697, 8000,  8008,  8080,  8081, 8088, 8443,
    8883, 8888, 9000, 9092, 9093, 9200, 9300, 9418, 10250, 11211, 27017,
};
static const uint16_t udp_services[] = {
    53,   67,   68,   69,   123,  137,  138,  161,  162,  389,  443,  500,   514,   520,
    1194, 1701, 1812, 1813, 1900, 3478, 3479, 4500, 5060, 5353, 5355, 11211, 19302, 51820,
};

/* The lists as bitmaps over all 65536 ports, a bit a port: TCP's, UDP's, and either's (every other
 * protocol), so a record's protocol picks one map (svc_map) and a port is one bit test. The
 * beacon detector asks for every record's initiator, and a bit test is a fraction of a search.
 * Built before main (a constructor: no thread runs yet), so no call checks whether they are. */
enum { SVC_TCP, SVC_UDP, SVC_ANY, SVC_MAPS };
static uint64_t svc_bits[SVC_MAPS][65536 / 64];

static void svc_set(unsigned map, unsigned port)
{
    svc_bits[map][port / 64] |= 1ULL << (port % 64);
}

static __attribute__((constructor)) void svc_build(void)
{
    for (size_t i = 0; i < sizeof tcp_services / sizeof *tcp_services; i++) {
        svc_set(SVC_TCP, tcp_services[i]);
        svc_set(SVC_ANY, tcp_services[i]);
    }
    for (size_t i = 0; i < sizeof udp_services / sizeof *udp_services; i++) {
        svc_set(SVC_UDP, udp_services[i]);
        svc_set(SVC_ANY, udp_services[i]);
    }
}

/* A protocol's map of service ports: TCP's, UDP's, or either's (every other protocol). */
static inline const uint64_t *svc_map(unsigned proto)
{
    return svc_bits[proto == 6 ? SVC_TCP : proto == 17 ? SVC_UDP : SVC_ANY];
}

static inline bool svc_port(const uint64_t *map, unsigned port)
{
    return (map[port / 64] >> (port % 64)) & 1;
}

bool port_is_service(uint8_t proto, uint16_t port)
{
    return port && svc_port(svc_map(proto), port);
}

/* flow_initiator's rules by port, for TCP, UDP and SCTP with both ports set: service ports,
 * then port ranges (initiator.h): a dynamic port (>= 32768) against a lower one is the client;
 * with neither dynamic and neither a service port, a registered port (1024-32767) against a
 * privileged one (< 1024) is. */
static inline enum flow_init by_ports(const struct flow_rec *f, enum flow_init_basis *why)
{
    unsigned sp = f->sport, dp = f->dport;
    const uint64_t *map = svc_map(f->proto);
    bool ss = svc_port(map, sp), ds = svc_port(map, dp);
    if (ds != ss) {
        *why = INIT_BASIS_SERVICE;
        return ds ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    bool sdyn = sp >= 32768, ddyn = dp >= 32768;
    if (sdyn != ddyn) {
        *why = INIT_BASIS_RANGE;
        return sdyn ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    if (!sdyn && !ss) { /* ss == ds here */
        bool sreg = sp >= 1024, dreg = dp >= 1024;
        if (sreg != dreg) {
            *why = INIT_BASIS_RANGE;
            return sreg ? FLOW_INIT_SRC : FLOW_INIT_DST;
        }
    }
    *why = INIT_BASIS_NONE;
    return FLOW_INIT_UNKNOWN;
}

/* ICMP (1) and ICMPv6 (58): the message type. */
static enum flow_init by_icmp(const struct flow_rec *f, enum flow_init_basis *why)
{
    unsigned type = f->dport >> 8;
    bool v6 = f->proto == 58;
    /* requests: echo, timestamp, address mask (v4); echo, MLD/ND solicitations (v6) */
    bool request =
        v6 ? (type == 128 || type == 133 || type == 135) : (type == 8 || type == 13 || type == 17);
    /* replies and errors answer something the other end sent */
    bool answer = v6 ? (type < 128 || type == 129 || type == 134 || type == 136)
                     : (type == 0 || type == 3 || type == 4 || type == 5 || type == 11 ||
                        type == 12 || type == 14 || type == 18);
    *why = request || answer ? INIT_BASIS_ICMP : INIT_BASIS_NONE;
    return request ? FLOW_INIT_SRC : answer ? FLOW_INIT_DST : FLOW_INIT_UNKNOWN;
}

/* flow_initiator with *why always set (INIT_BASIS_NONE with FLOW_INIT_UNKNOWN): the rules of
 * initiator.h in their order, each protocol's tested once. */
static inline enum flow_init initiator_of(const struct flow_rec *f, enum flow_init_basis *why)
{
    if (f->flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST)) {
        *why = INIT_BASIS_EXPORTER;
        return f->flags & FLOW_F_INIT_SRC ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    unsigned proto = f->proto;
    if (proto == 6) {
        unsigned fl = f->tcp_flags;
        if ((fl & 0x12) == 0x02) { /* SYN, no ACK */
            *why = INIT_BASIS_TCP_SYN;
            return FLOW_INIT_SRC;
        }
        /* A one-packet record carrying SYN and ACK (no FIN, no PSH) is a SYN-ACK on its own (the
         * initiator can only send SYN and ACK in two packets): the answer of the destination's
         * connection attempt (packets are sampling-corrected: one sampled packet counts as
         * `sampling`). */
        if ((fl & 0x1b) == 0x12 && f->packets <= (f->sampling ? f->sampling : 1)) {
            *why = INIT_BASIS_TCP_SYN;
            return FLOW_INIT_DST;
        }
    } else if (proto == 1 || proto == 58) {
        return by_icmp(f, why);
    } else if (proto != 17 && proto != 132) {
        *why = INIT_BASIS_NONE;
        return FLOW_INIT_UNKNOWN;
    }
    if (!f->sport || !f->dport) {
        *why = INIT_BASIS_NONE;
        return FLOW_INIT_UNKNOWN;
    }
    return by_ports(f, why);
}

enum flow_init flow_initiator(const struct flow_rec *f, enum flow_init_basis *basis)
{
    enum flow_init_basis why;
    enum flow_init who = initiator_of(f, &why);
    if (basis)
        *basis = why;
    return who;
}

const char *flow_init_basis_name(enum flow_init_basis b)
{
    switch (b) {
    case INIT_BASIS_EXPORTER:
        return "exporter";
    case INIT_BASIS_TCP_SYN:
        return "tcp_syn";
    case INIT_BASIS_ICMP:
        return "icmp";
    case INIT_BASIS_SERVICE:
        return "service_port";
    case INIT_BASIS_RANGE:
        return "port_range";
    case INIT_BASIS_FIXED_PORT:
        return "fixed_port";
    case INIT_BASIS_FIRST_PACKET:
        return "first_packet";
    case INIT_BASIS_NONE:
        break;
    }
    return "none";
}
