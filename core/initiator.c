/* initiator.c: see initiator.h. */
#include "initiator.h"

#include <pthread.h>
#include <stdatomic.h>
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

/* The lists as one bitmap over all 65536 ports, two bits a port, built once: bit 2 (port % 32)
 * of word port / 32 says TCP, the bit above it UDP, so one load answers for either protocol or
 * both (svc_mask). The beacon detector asks for every record's initiator, and a bit test is a
 * fraction of a search. */
static uint64_t svc_bits[65536 / 32];
static pthread_once_t svc_once = PTHREAD_ONCE_INIT;
static _Atomic bool svc_ready; /* set (release) once the bitmap is built */

static void svc_set(unsigned port, unsigned bit)
{
    svc_bits[port / 32] |= 1ULL << (2 * (port % 32) + bit);
}

static void svc_build(void)
{
    for (size_t i = 0; i < sizeof tcp_services / sizeof *tcp_services; i++)
        svc_set(tcp_services[i], 0);
    for (size_t i = 0; i < sizeof udp_services / sizeof *udp_services; i++)
        svc_set(udp_services[i], 1);
    atomic_store_explicit(&svc_ready, true, memory_order_release);
}

/* Out of the per-record path: it runs once, and as a call of its own it leaves flow_initiator
 * without register saves. */
static __attribute__((noinline, cold)) void svc_build_once(void)
{
    pthread_once(&svc_once, svc_build);
}

static inline void svc_init(void)
{
    if (__builtin_expect(!atomic_load_explicit(&svc_ready, memory_order_acquire), 0))
        svc_build_once();
}

/* The bits of svc_bits a protocol's service ports are on: TCP's, UDP's, or either's (every
 * other protocol). */
static inline uint64_t svc_mask(unsigned proto)
{
    return proto == 6 ? 1 : proto == 17 ? 2 : 3;
}

/* port_is_service once the bitmap is built, mask = svc_mask(proto), port > 0 */
static inline bool svc_port(uint64_t mask, unsigned port)
{
    return (svc_bits[port / 32] >> (2 * (port % 32))) & mask;
}

bool port_is_service(uint8_t proto, uint16_t port)
{
    svc_init();
    return port && svc_port(svc_mask(proto), port);
}

/* 0 privileged, 1 registered, 2 dynamic (the client range of every common stack). */
static inline int port_class(unsigned port)
{
    return port < 1024 ? 0 : port < 32768 ? 1 : 2;
}

/* flow_initiator's rules by port, for TCP, UDP and SCTP with both ports set: service ports,
 * then port ranges. */
static inline enum flow_init by_ports(const struct flow_rec *f, enum flow_init_basis *why)
{
    svc_init();
    unsigned sp = f->sport, dp = f->dport;
    uint64_t mask = svc_mask(f->proto);
    bool ss = svc_port(mask, sp), ds = svc_port(mask, dp);
    if (ds != ss) {
        *why = INIT_BASIS_SERVICE;
        return ds ? FLOW_INIT_SRC : FLOW_INIT_DST;
    }
    int sc = port_class(sp), dc = port_class(dp);
    enum flow_init who = FLOW_INIT_UNKNOWN;
    if (sc == 2 && dc < 2)
        who = FLOW_INIT_SRC;
    else if (dc == 2 && sc < 2)
        who = FLOW_INIT_DST;
    else if (sc == 1 && dc == 0 && !ss)
        who = FLOW_INIT_SRC;
    else if (dc == 1 && sc == 0 && !ds)
        who = FLOW_INIT_DST;
    *why = who == FLOW_INIT_UNKNOWN ? INIT_BASIS_NONE : INIT_BASIS_RANGE;
    return who;
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
