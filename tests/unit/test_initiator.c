/* test_initiator: flow_initiator() on records as exporters send them: the exporter's word
 * first, then SYN without ACK, ICMP types, service ports and port ranges, and the cases it
 * must leave open (two registered ports, as an old client's 1025-5000 port to a C2 port). */
#include <setjmp.h>
#include <stdbool.h>
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

/* flow_initiator as it was written before it was restructured per record (issue 15, twenty-
 * ninth part): the rules one after another, each on the record's fields, the service ports by
 * port_is_service. The restructured one must give the same answer and basis on every record. */
static enum flow_init ref_initiator(const struct flow_rec *f, enum flow_init_basis *b)
{
#define REF_DECIDE(who, why)                                                                       \
    do {                                                                                           \
        *b = (who) == FLOW_INIT_UNKNOWN ? INIT_BASIS_NONE : (why);                                 \
        return (who);                                                                              \
    } while (0)
    if (f->flags & FLOW_F_INIT_SRC)
        REF_DECIDE(FLOW_INIT_SRC, INIT_BASIS_EXPORTER);
    if (f->flags & FLOW_F_INIT_DST)
        REF_DECIDE(FLOW_INIT_DST, INIT_BASIS_EXPORTER);
    if (f->proto == 6 && (f->tcp_flags & 0x12) == 0x02)
        REF_DECIDE(FLOW_INIT_SRC, INIT_BASIS_TCP_SYN);
    if (f->proto == 6 && (f->tcp_flags & 0x12) == 0x12 && !(f->tcp_flags & 0x09) &&
        f->packets <= (f->sampling ? f->sampling : 1))
        REF_DECIDE(FLOW_INIT_DST, INIT_BASIS_TCP_SYN);
    if (f->proto == 1 || f->proto == 58) {
        unsigned type = f->dport >> 8;
        bool v6 = f->proto == 58;
        bool request = v6 ? (type == 128 || type == 133 || type == 135)
                          : (type == 8 || type == 13 || type == 17);
        bool answer = v6 ? (type < 128 || type == 129 || type == 134 || type == 136)
                         : (type == 0 || type == 3 || type == 4 || type == 5 || type == 11 ||
                            type == 12 || type == 14 || type == 18);
        if (request)
            REF_DECIDE(FLOW_INIT_SRC, INIT_BASIS_ICMP);
        if (answer)
            REF_DECIDE(FLOW_INIT_DST, INIT_BASIS_ICMP);
        REF_DECIDE(FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    }
    if ((f->proto != 6 && f->proto != 17 && f->proto != 132) || !f->sport || !f->dport)
        REF_DECIDE(FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
    bool ss = port_is_service(f->proto, f->sport), ds = port_is_service(f->proto, f->dport);
    if (ds && !ss)
        REF_DECIDE(FLOW_INIT_SRC, INIT_BASIS_SERVICE);
    if (ss && !ds)
        REF_DECIDE(FLOW_INIT_DST, INIT_BASIS_SERVICE);
    int sc = f->sport < 1024 ? 0 : f->sport < 32768 ? 1 : 2;
    int dc = f->dport < 1024 ? 0 : f->dport < 32768 ? 1 : 2;
    if (sc == 2 && dc < 2)
        REF_DECIDE(FLOW_INIT_SRC, INIT_BASIS_RANGE);
    if (dc == 2 && sc < 2)
        REF_DECIDE(FLOW_INIT_DST, INIT_BASIS_RANGE);
    if (sc == 1 && dc == 0 && !ss)
        REF_DECIDE(FLOW_INIT_SRC, INIT_BASIS_RANGE);
    if (dc == 1 && sc == 0 && !ds)
        REF_DECIDE(FLOW_INIT_DST, INIT_BASIS_RANGE);
    REF_DECIDE(FLOW_INIT_UNKNOWN, INIT_BASIS_NONE);
#undef REF_DECIDE
}

/* One record of test_same_as_reference: the answer and the basis, and the answer without one. */
static void same_as_reference(const struct flow_rec *f)
{
    enum flow_init_basis want_b, got_b = (enum flow_init_basis)99;
    enum flow_init want = ref_initiator(f, &want_b);
    assert_int_equal(flow_initiator(f, &got_b), want);
    assert_int_equal(got_b, want_b);
    assert_int_equal(flow_initiator(f, NULL), want);
}

/* Every combination of the fields the rules read (exporter flags, protocols, every TCP flag
 * set, packets against sampling, ports on every boundary and service/non-service pairs, every
 * ICMP type) against ref_initiator; and the service bitmap's protocols against each other. */
static void test_same_as_reference(void **state)
{
    (void)state;
    static const uint8_t protos[] = {0, 1, 6, 17, 47, 58, 132};
    static const uint16_t ports[] = {0,    1,     19,    20,    22,    53,    67,    80,
                                     123,  443,   1023,  1024,  1025,  1194,  3478,  5552,
                                     8443, 19302, 27017, 32767, 32768, 51820, 60000, 65535};
    static const uint64_t packets[] = {0, 1, 2, 5};
    static const uint32_t samplings[] = {0, 1, 3};
    const size_t np = sizeof ports / sizeof *ports;
    size_t checked = 0;
    for (unsigned fl = 0; fl < 4; fl++)
        for (size_t pi = 0; pi < sizeof protos; pi++)
            for (unsigned tf = 0; tf < (protos[pi] == 6 ? 64u : 1u); tf++)
                for (size_t k = 0; k < 4 * 3; k++)
                    for (size_t a = 0; a < np; a++)
                        for (size_t b = 0; b < np; b++) {
                            struct flow_rec f = rec(protos[pi], ports[a], ports[b], (uint8_t)tf);
                            f.flags = (uint8_t)((fl & 1 ? FLOW_F_INIT_SRC : 0) |
                                                (fl & 2 ? FLOW_F_INIT_DST : 0));
                            f.packets = packets[k % 4];
                            f.sampling = samplings[k / 4];
                            same_as_reference(&f);
                            checked++;
                        }
    for (unsigned v6 = 0; v6 < 2; v6++) /* every ICMP type, a few codes */
        for (unsigned ty = 0; ty < 256; ty++)
            for (unsigned code = 0; code < 4; code++) {
                struct flow_rec f = rec(v6 ? 58 : 1, 0, (uint16_t)(ty << 8 | code), 0);
                same_as_reference(&f);
                checked++;
            }
    assert_true(checked > 400000);
    for (unsigned port = 0; port < 65536; port++) {
        bool t = port_is_service(6, (uint16_t)port), u = port_is_service(17, (uint16_t)port);
        assert_int_equal(port_is_service(132, (uint16_t)port), t || u);
        assert_int_equal(port_is_service(1, (uint16_t)port), t || u);
        if (port == 0)
            assert_false(t || u);
    }
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
        cmocka_unit_test(test_same_as_reference),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
