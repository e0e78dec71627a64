/* test_initiator: flow_initiator() on records as exporters send them: the exporter's word
 * first, then SYN without ACK, ICMP types, service ports and port ranges, and the cases it
 * must leave open (two registered ports, as an old client's 1025-5000 port to a C2 port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "initiator.h"

static struct flow_rec rec(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcp_flags)
{
    struct flow_rec f;
    memset(&f, 0, sizeof f);
    f.proto = proto;
    f.sport = sport;
    f.dport = dport;
    f.tcp_flags = tcp_flags;
    return f;
}

static void expect(struct flow_rec f, enum flow_init who, enum flow_init_basis why)
{
    enum flow_init_basis b = (enum flow_init_basis)99;
    assert_int_equal(flow_initiator(&f, &b), who);
    assert_int_equal(b, why);
}

static void test_exporter_word_first(void **state)
{
    (void)state;
    /* the exporter's word beats every heuristic, even ports that say the opposite */
    struct flow_rec f = rec(6, 443, 51000, 0x12);
    f.flags = FLOW_F_INIT_SRC;
    expect(f, FLOW_INIT_SRC, INIT_BASIS_EXPORTER);
    f = rec(6, 51000, 443, 0x02);
    f.flags = FLOW_F_INIT_DST;
    expect(f, FLOW_INIT_DST, INIT_BASIS_EXPORTER);
    assert_int_equal(flow_initiator(&f, NULL), FLOW_INIT_DST);
}

static void test_tcp_flags(void **state)
{
    (void)state;
    /* a SYN without ACK: the initiator, whatever its ports (a scanner from port 80) */
    expect(rec(6, 80, 22, 0x02), FLOW_INIT_SRC, INIT_BASIS_TCP_SYN);
    expect(rec(6, 4444, 1030, 0x02), FLOW_INIT_SRC, INIT_BASIS_TCP_SYN);
    /* SYN+ACK in a cumulative record says nothing by itself: ports decide */
    expect(rec(6, 443, 50123, 0x1b), FLOW_INIT_DST, INIT_BASIS_SERVICE);
    expect(rec(6, 50123, 443, 0x1b), FLOW_INIT_SRC, INIT_BASIS_SERVICE);
    /* a one-packet record with SYN and ACK is a SYN-ACK: its source answers (a scanned host's
     * reply, even from two registered ports), also when sampled 1:100 */
    struct flow_rec f = rec(6, 4444, 1030, 0x12);
    f.packets = 1;
    f.sampling = 1;
    expect(f, FLOW_INIT_DST, INIT_BASIS_TCP_SYN);
    f = rec(6, 5552, 1030, 0x12);
    f.packets = 100;
    f.sampling = 100;
    expect(f, FLOW_INIT_DST, INIT_BASIS_TCP_SYN);
    /* ...but not with data or a FIN, nor over more packets: a whole connection's record */
    f = rec(6, 1030, 5552, 0x1a);
    f.packets = 1;
    expect(f, FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    f = rec(6, 1030, 5552, 0x12);
    f.packets = 3;
    f.sampling = 1;
    expect(f, FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
}

static void test_icmp(void **state)
{
    (void)state;
    expect(rec(1, 0, 8 << 8, 0), FLOW_INIT_SRC, INIT_BASIS_ICMP);      /* echo request */
    expect(rec(1, 0, 0 << 8, 0), FLOW_INIT_DST, INIT_BASIS_ICMP);      /* echo reply */
    expect(rec(1, 0, 3 << 8 | 3, 0), FLOW_INIT_DST, INIT_BASIS_ICMP);  /* port unreachable */
    expect(rec(58, 0, 128 << 8, 0), FLOW_INIT_SRC, INIT_BASIS_ICMP);   /* v6 echo request */
    expect(rec(58, 0, 129 << 8, 0), FLOW_INIT_DST, INIT_BASIS_ICMP);   /* v6 echo reply */
    expect(rec(58, 0, 1 << 8 | 4, 0), FLOW_INIT_DST, INIT_BASIS_ICMP); /* v6 unreachable */
    expect(rec(1, 0, 9 << 8, 0), FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);  /* router advert. */
}

static void test_ports(void **state)
{
    (void)state;
    /* registered service ports above 1024 */
    expect(rec(6, 3389, 1030, 0x18), FLOW_INIT_DST, INIT_BASIS_SERVICE);
    expect(rec(17, 1030, 3478, 0), FLOW_INIT_SRC, INIT_BASIS_SERVICE);
    /* no service port: a dynamic client port against a registered C2 port */
    expect(rec(6, 49712, 5552, 0x18), FLOW_INIT_SRC, INIT_BASIS_RANGE);
    expect(rec(6, 5552, 49712, 0x18), FLOW_INIT_DST, INIT_BASIS_RANGE);
    /* an unlisted privileged port against a registered one */
    expect(rec(6, 1500, 1022, 0x18), FLOW_INIT_SRC, INIT_BASIS_RANGE);
    /* open cases: an old client's port (1025-5000) against a registered C2 port, two dynamic
     * ports, two service ports (NTP 123->123), no ports */
    expect(rec(6, 1030, 5552, 0x18), FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    expect(rec(6, 50000, 60000, 0x18), FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    expect(rec(17, 123, 123, 0), FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    expect(rec(47, 0, 0, 0), FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    /* protocol matters: 53/tcp and 53/udp are both services, 3478 only on UDP here */
    assert_true(port_is_service(6, 53) && port_is_service(17, 53));
    assert_false(port_is_service(6, 3478));
    assert_true(port_is_service(17, 3478));
    assert_false(port_is_service(6, 0));
    /* WireGuard's default port sits in the dynamic range: still the server's */
    expect(rec(17, 41000, 51820, 0), FLOW_INIT_SRC, INIT_BASIS_SERVICE);
    /* the tables are searched by bisection: the first, last and inner entries are found, their
     * neighbours are not */
    static const uint16_t tcp_in[] = {20, 21, 22, 443, 1194, 3389, 8443, 11211, 27017};
    static const uint16_t tcp_out[] = {19, 24, 444, 1195, 3390, 8444, 27016, 27018, 65535};
    for (size_t i = 0; i < sizeof tcp_in / sizeof *tcp_in; i++) {
        assert_true(port_is_service(6, tcp_in[i]));
        assert_false(port_is_service(6, tcp_out[i]));
    }
    assert_false(port_is_service(6, 24));
    assert_false(port_is_service(17, 65535));
    assert_true(port_is_service(17, 19302));
    assert_true(port_is_service(17, 53) && port_is_service(17, 51820));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(flow_init_basis_name(INIT_BASIS_EXPORTER), "exporter");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_TCP_SYN), "tcp_syn");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_ICMP), "icmp");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_SERVICE), "service_port");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_RANGE), "port_range");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_FIXED_PORT), "fixed_port");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_FIRST_PACKET), "first_packet");
    assert_string_equal(flow_init_basis_name(INIT_BASIS_NONE), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exporter_word_first),
        cmocka_unit_test(test_tcp_flags),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
