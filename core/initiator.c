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

/* The lists as bitmaps over all 65536 ports (8 KiB each), built once: the beacon detector asks
 * for every record, and a bit test is a fraction of a search. */
static uint64_t svc_bits[2][65536 / 64]; /* [0] TCP, [1] UDP */
static pthread_once_t svc_once = PTHREAD_ONCE_INIT;
static _Atomic bool svc_ready; /* set (release) once the bitmaps are built */

static void svc_build(void)
{
    for (size_t i = 0; i < sizeof tcp_services / sizeof *tcp_services; i++)
        svc_bits[0][tcp_services[i] / 64] |= 1ULL << (tcp_services[i] % 64);
    for (size_t i = 0; i < sizeof udp_services / sizeof *udp_services; i++)
        svc_bits[1][udp_services[i] / 64] |= 1ULL << (udp_services[i] % 64);
    atomic_store_explicit(&svc_ready, true, memory_order_release);
}

static bool svc_has(int which, uint16_t port)
{
    return (svc_bits[which][port / 64] >> (port % 64)) & 1;
}

static inline void svc_init(void)
{
    if (!atomic_load_explicit(&svc_ready, memory_order_acquire))
        pthread_once(&svc_once, svc_build);
}

/* port_is_service once the bitmaps are built */
static inline bool svc_port(uint8_t proto, uint16_t port)
{
    return port && ((proto != 17 && svc_has(0, port)) || (proto != 6 && svc_has(1, port)));
}

bool port_is_service(uint8_t proto, uint16_t port)
{
    svc_init();
    return svc_port(proto, port);
}

/* 0 privileged, 1 registered, 2 dynamic (the client range of every common stack). */
static int port_class(uint16_t port)
{
    return port < 1024 ? 0 : port < 32768 ? 1 : 2;
}

static enum flow_init decide(enum flow_init who, enum flow_init_basis why,
                             enum flow_init_basis *basis)
{
    if (basis)
        *basis = who == FLOW_INIT_UNKNOWN ? INIT_BASIS_NONE : why;
    return who;
}

enum flow_init flow_initiator(const struct flow_rec *f, enum flow_init_basis *basis)
{
    if (f->flags & FLOW_F_INIT_SRC)
        return decide(FLOW_INIT_SRC, INIT_BASIS_EXPORTER, basis);
    if (f->flags & FLOW_F_INIT_DST)
        return decide(FLOW_INIT_DST, INIT_BASIS_EXPORTER, basis);
    if (f->proto == 6 && (f->tcp_flags & 0x12) == 0x02) /* SYN, no ACK */
        return decide(FLOW_INIT_SRC, INIT_BASIS_TCP_SYN, basis);
    /* A one-packet record carrying SYN and ACK is a SYN-ACK on its own (the initiator can only
     * send SYN and ACK in two packets): the answer of the destination's connection attempt
     * (packets are sampling-corrected: one sampled packet counts as `sampling`). */
    if (f->proto == 6 && (f->tcp_flags & 0x12) == 0x12 && !(f->tcp_flags & 0x09) &&
        f->packets <= (f->sampling ? f->sampling : 1))
        return decide(FLOW_INIT_DST, INIT_BASIS_TCP_SYN, basis);
    if (f->proto == 1 || f->proto == 58) {
        unsigned type = f->dport >> 8;
        bool v6 = f->proto == 58;
        /* requests: echo, timestamp, address mask (v4); echo, MLD/ND solicitations (v6) */
        bool request = v6 ? (type == 128 || type == 133 || type == 135)
                          : (type == 8 || type == 13 || type == 17);
        /* replies and errors answer something the other end sent */
        bool answer = v6 ? (type < 128 || type == 129 || type == 134 || type == 136)
                         : (type == 0 || type == 3 || type == 4 || type == 5 || type == 11 ||
                            type == 12 || type == 14 || type == 18);
        if (request)
            return decide(FLOW_INIT_SRC, INIT_BASIS_ICMP, basis);
        if (answer)
            return decide(FLOW_INIT_DST, INIT_BASIS_ICMP, basis);
        return decide(FLOW_INIT_UNKNOWN, INIT_BASIS_NONE, basis);
    }
    if ((f->proto != 6 && f->proto != 17 && f->proto != 132) || !f->sport || !f->dport)
        return decide(FLOW_INIT_UNKNOWN, INIT_BASIS_NONE, basis);
    svc_init();
    bool ss = svc_port(f->proto, f->sport), ds = svc_port(f->proto, f->dport);
    if (ds && !ss)
        return decide(FLOW_INIT_SRC, INIT_BASIS_SERVICE, basis);
    if (ss && !ds)
        return decide(FLOW_INIT_DST, INIT_BASIS_SERVICE, basis);
    int sc = port_class(f->sport), dc = port_class(f->dport);
    if (sc == 2 && dc < 2)
        return decide(FLOW_INIT_SRC, INIT_BASIS_RANGE, basis);
    if (dc == 2 && sc < 2)
        return decide(FLOW_INIT_DST, INIT_BASIS_RANGE, basis);
    if (sc == 1 && dc == 0 && !ss)
        return decide(FLOW_INIT_SRC, INIT_BASIS_RANGE, basis);
    if (dc == 1 && sc == 0 && !ds)
        return decide(FLOW_INIT_DST, INIT_BASIS_RANGE, basis);
    return decide(FLOW_INIT_UNKNOWN, INIT_BASIS_NONE, basis);
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
