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
 * protocol), so a record's protocol picks one map (flow_svc_map, initiator.h) and a port is one
 * bit test. The beacon detector asks for every record's initiator, and a bit test is a fraction
 * of a search. Built before main (a constructor: no thread runs yet), so no call checks whether
 * they are. */
uint64_t flow_svc_bits[FLOW_SVC_MAPS][65536 / 64];

static void svc_set(unsigned map, unsigned port)
{
    flow_svc_bits[map][port / 64] |= 1ULL << (port % 64);
}

static __attribute__((constructor)) void svc_build(void)
{
    for (size_t i = 0; i < sizeof tcp_services / sizeof *tcp_services; i++) {
        svc_set(FLOW_SVC_TCP, tcp_services[i]);
        svc_set(FLOW_SVC_ANY, tcp_services[i]);
    }
    for (size_t i = 0; i < sizeof udp_services / sizeof *udp_services; i++) {
        svc_set(FLOW_SVC_UDP, udp_services[i]);
        svc_set(FLOW_SVC_ANY, udp_services[i]);
    }
}

bool port_is_service(uint8_t proto, uint16_t port)
{
    return port && flow_svc_port(flow_svc_map(proto), port);
}

enum flow_init flow_initiator(const struct flow_rec *f, enum flow_init_basis *basis)
{
    enum flow_init_basis why;
    enum flow_init who = flow_initiator_of(f, &why);
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
