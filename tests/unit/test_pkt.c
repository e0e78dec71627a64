/* test_pkt: frame parsing (every link type, VLAN stacks, IPv6 extension headers, fragments,
 * truncation, malformed frames) and the fragment reassembler. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frag.h"
#include "gen_pcap.h"
#include "pkt.h"

static uint8_t frame[70000];
static uint8_t ipb[70000];
static uint8_t payload[66000];

static void fill_payload(void)
{
    size_t i;
    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
}

static void mk_v4(struct gen_ip *g, uint8_t proto)
{
    memset(g, 0, sizeof(*g));
    gen_addr4(g->src, 10, 0, 0, 1);
    gen_addr4(g->dst, 192, 0, 2, 7);
    g->proto = proto;
    g->sport = 40000;
    g->dport = 443;
    g->tcp_flags = 0x12;
    g->payload = payload;
    g->payload_len = 100;
}

static void mk_v6(struct gen_ip *g, uint8_t proto)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(gen_addr(g->src, "2001:db8::1"), 0);
    assert_int_equal(gen_addr(g->dst, "2001:db8:1::2"), 0);
    g->proto = proto;
    g->sport = 5353;
    g->dport = 2055;
    g->payload = payload;
    g->payload_len = 200;
}

/* Build g, wrap it per l2, parse it with dlt; returns pkt_parse's result. */
static int build_parse(const struct gen_ip *g, const struct gen_l2 *l2, int dlt,
                       struct pkt_info *pi, uint32_t *flen)
{
    int n = gen_ip_packet(g, ipb, sizeof(ipb));
    int f;
    assert_true(n > 0);
    f = gen_frame(l2, ipb, (size_t)n, frame, sizeof(frame));
    assert_true(f > 0);
    if (flen)
        *flen = (uint32_t)f;
    return pkt_parse(dlt, frame, (uint32_t)f, (uint32_t)f, pi);
}

static void check_v4_tcp(const struct pkt_info *pi, const struct gen_ip *g)
{
    assert_false(pi->v6);
    assert_memory_equal(pi->src, g->src, 16);
    assert_memory_equal(pi->dst, g->dst, 16);
    assert_int_equal(pi->proto, 6);
    assert_int_equal(pi->sport, 40000);
    assert_int_equal(pi->dport, 443);
    assert_int_equal(pi->tcp_flags, 0x12);
    assert_int_equal(pi->ip_len, 20 + 20 + 100);
    assert_int_equal(pi->l4_payload_len, 100);
    assert_int_equal(pi->l4_payload_caplen, 100);
    assert_memory_equal(pi->l4_payload, payload, 100);
    assert_false(pi->fragment);
}

static void check_v6_udp(const struct pkt_info *pi, const struct gen_ip *g)
{
    assert_true(pi->v6);
    assert_memory_equal(pi->src, g->src, 16);
    assert_memory_equal(pi->dst, g->dst, 16);
    assert_int_equal(pi->proto, 17);
    assert_int_equal(pi->sport, 5353);
    assert_int_equal(pi->dport, 2055);
    assert_int_equal(pi->l4_payload_len, 200);
    assert_memory_equal(pi->l4_payload, payload, 200);
}

static void test_every_linktype(void **state)
{
    static const struct {
        int gen_lt, dlt;
        bool swap;
        uint32_t af6;
    } cases[] = {
        {GEN_LT_EN10MB, PKT_LINK_EN10MB, false, 0},   {GEN_LT_SLL, PKT_LINK_LINUX_SLL, false, 0},
        {GEN_LT_SLL2, PKT_LINK_LINUX_SLL2, false, 0}, {GEN_LT_RAW, PKT_LINK_RAW, false, 0},
        {GEN_LT_RAW, PKT_LINK_RAW_LT, false, 0},      {GEN_LT_RAW, PKT_LINK_RAW_BSD, false, 0},
        {GEN_LT_NULL, PKT_LINK_NULL, false, 24},      {GEN_LT_NULL, PKT_LINK_NULL, true, 28},
        {GEN_LT_LOOP, PKT_LINK_LOOP, false, 30},      {GEN_LT_LOOP, PKT_LINK_LOOP, true, 24},
        {GEN_LT_NULL, PKT_LINK_NULL, false, 10},
    };
    struct gen_ip g4, g6;
    struct pkt_info pi;
    size_t i;

    (void)state;
    fill_payload();
    mk_v4(&g4, 6);
    mk_v6(&g6, 17);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gen_l2 l2 = {
            .linktype = cases[i].gen_lt, .null_swap = cases[i].swap, .null_af6 = cases[i].af6};
        assert_int_equal(build_parse(&g4, &l2, cases[i].dlt, &pi, NULL), PKT_OK);
        check_v4_tcp(&pi, &g4);
        assert_int_equal(build_parse(&g6, &l2, cases[i].dlt, &pi, NULL), PKT_OK);
        check_v6_udp(&pi, &g6);
    }
    /* DLT_IPV4 / DLT_IPV6: the family must match */
    {
        struct gen_l2 l2 = {.linktype = GEN_LT_IPV4};
        assert_int_equal(build_parse(&g4, &l2, PKT_LINK_IPV4, &pi, NULL), PKT_OK);
        check_v4_tcp(&pi, &g4);
        assert_int_equal(build_parse(&g6, &l2, PKT_LINK_IPV6, &pi, NULL), PKT_OK);
        check_v6_udp(&pi, &g6);
        assert_int_equal(build_parse(&g6, &l2, PKT_LINK_IPV4, &pi, NULL), PKT_ERR_BAD_IP_HEADER);
    }
    assert_true(pkt_linktype_supported(276));
    assert_false(pkt_linktype_supported(147));
    assert_int_equal(pkt_parse(147, frame, 100, 100, &pi), PKT_ERR_UNKNOWN_LINKTYPE);
}

static void test_vlan_stacks(void **state)
{
    struct gen_ip g;
    struct pkt_info pi;
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};

    (void)state;
    fill_payload();
    mk_v4(&g, 6);
    l2.n_vlans = 1;
    l2.vlans[0] = 100;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, NULL), PKT_OK);
    check_v4_tcp(&pi, &g);
    assert_int_equal(pi.vlan, 100);
    assert_int_equal(pi.vlan_inner, 100);
    assert_int_equal(pi.vlan_count, 1);

    l2.n_vlans = 3; /* 802.1ad outer tags + 802.1Q inner */
    l2.qinq = true;
    l2.vlans[0] = 10;
    l2.vlans[1] = 20;
    l2.vlans[2] = 4094;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, NULL), PKT_OK);
    check_v4_tcp(&pi, &g);
    assert_int_equal(pi.vlan, 10);
    assert_int_equal(pi.vlan_inner, 4094);
    assert_int_equal(pi.vlan_count, 3);

    mk_v6(&g, 17);
    l2.n_vlans = 2;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, NULL), PKT_OK);
    check_v6_udp(&pi, &g);
    assert_int_equal(pi.vlan_count, 2);

    l2.n_vlans = 8; /* the walk limit */
    assert_int_equal(build_parse(&g, &l2, 1, &pi, NULL), PKT_ERR_TOO_MANY_HEADERS);

    /* VLAN tag cut short */
    l2.n_vlans = 1;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, NULL), PKT_OK);
    assert_int_equal(pkt_parse(1, frame, 16, 16, &pi), PKT_ERR_TRUNCATED_L2);
}

static void test_v6_ext_headers(void **state)
{
    static const uint8_t chain[] = {0, 43, 60, 51};
    static const uint8_t atomic[] = {0, 44, 60};
    struct gen_ip g;
    struct pkt_info pi;
    struct gen_l2 l2 = {.linktype = GEN_LT_RAW};
    uint32_t flen;

    (void)state;
    fill_payload();
    mk_v6(&g, 6);
    g.tcp_flags = 0x02;
    g.v6_ext = chain;
    g.n_v6_ext = sizeof(chain);
    assert_int_equal(build_parse(&g, &l2, PKT_LINK_RAW, &pi, &flen), PKT_OK);
    assert_int_equal(pi.proto, 6);
    assert_int_equal(pi.sport, 5353);
    assert_int_equal(pi.dport, 2055);
    assert_int_equal(pi.tcp_flags, 0x02);
    assert_int_equal(pi.ip_len, 40 + 8 + 8 + 8 + 16 + 20 + 200);
    assert_int_equal(pi.l4_payload_len, 200);

    g.v6_ext = atomic; /* atomic fragment: a whole datagram, ports available */
    g.n_v6_ext = sizeof(atomic);
    g.proto = 17;
    assert_int_equal(build_parse(&g, &l2, PKT_LINK_RAW, &pi, NULL), PKT_OK);
    check_v6_udp(&pi, &g);
    assert_false(pi.fragment);

    /* ESP: stop walking, no ports */
    g.v6_ext = chain;
    g.n_v6_ext = 1;
    g.proto = 50;
    assert_int_equal(build_parse(&g, &l2, PKT_LINK_RAW, &pi, NULL), PKT_OK);
    assert_int_equal(pi.proto, 50);
    assert_int_equal(pi.sport, 0);
    assert_null(pi.l4);

    /* extension header cut by the snaplen */
    g.proto = 6;
    g.n_v6_ext = sizeof(chain);
    assert_int_equal(build_parse(&g, &l2, PKT_LINK_RAW, &pi, &flen), PKT_OK);
    assert_int_equal(pkt_parse(PKT_LINK_RAW, frame, 45, flen, &pi), PKT_ERR_TRUNCATED_L3);
    assert_int_equal(pkt_parse(PKT_LINK_RAW, frame, 30, flen, &pi), PKT_ERR_TRUNCATED_L3);

    /* ICMPv6 */
    mk_v6(&g, 58);
    g.icmp_type = 128;
    g.icmp_code = 0;
    assert_int_equal(build_parse(&g, &l2, PKT_LINK_RAW, &pi, NULL), PKT_OK);
    assert_int_equal(pi.proto, 58);
    assert_int_equal(pi.icmp_type, 128);
}

struct frags {
    uint8_t buf[8][2000];
    size_t len[8];
    int n;
};

static int collect(void *arg, const uint8_t *f, size_t len)
{
    struct frags *fr = arg;
    if (fr->n >= 8 || len > sizeof(fr->buf[0]))
        return -1;
    memcpy(fr->buf[fr->n], f, len);
    fr->len[fr->n++] = len;
    return 0;
}

static void make_frags(bool v6, uint32_t plen, struct frags *fr, uint32_t id)
{
    struct gen_ip g;
    int n;

    if (v6)
        mk_v6(&g, 17);
    else
        mk_v4(&g, 17);
    g.sport = 2055;
    g.dport = 9995;
    g.payload_len = plen;
    n = gen_ip_packet(&g, ipb, sizeof(ipb));
    assert_true(n > 0);
    memset(fr, 0, sizeof(*fr));
    n = gen_ip_fragment(ipb, (size_t)n, 1500, id, collect, fr);
    assert_int_equal(n, fr->n);
}

static void test_fragments(void **state)
{
    struct frags fr;
    struct pkt_info pi;
    int v;

    (void)state;
    fill_payload();
    for (v = 0; v < 2; v++) {
        make_frags(v == 1, 4000, &fr, 0x1234);
        assert_int_equal(fr.n, 3);
        assert_int_equal(
            pkt_parse(PKT_LINK_RAW, fr.buf[0], (uint32_t)fr.len[0], (uint32_t)fr.len[0], &pi),
            PKT_OK);
        assert_true(pi.fragment);
        assert_true(pi.first_fragment);
        assert_true(pi.more_frags);
        assert_int_equal(pi.frag_offset, 0);
        assert_int_equal(pi.frag_id, 0x1234);
        assert_int_equal(pi.proto, 17);
        assert_int_equal(pi.sport, 2055);
        assert_int_equal(pi.dport, 9995);
        assert_int_equal(
            pkt_parse(PKT_LINK_RAW, fr.buf[1], (uint32_t)fr.len[1], (uint32_t)fr.len[1], &pi),
            PKT_OK);
        assert_true(pi.fragment);
        assert_false(pi.first_fragment);
        assert_true(pi.more_frags);
        assert_true(pi.frag_offset > 0);
        assert_int_equal(pi.sport, 0);
        assert_null(pi.l4);
        assert_int_equal(pi.proto, 17);
        assert_int_equal(
            pkt_parse(PKT_LINK_RAW, fr.buf[2], (uint32_t)fr.len[2], (uint32_t)fr.len[2], &pi),
            PKT_OK);
        assert_false(pi.more_frags);
        assert_int_equal(pi.frag_offset + pi.frag_data_len, 4008);
    }
}

static void test_truncation_snaplen(void **state)
{
    struct gen_ip g;
    struct pkt_info pi;
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};
    uint32_t flen;

    (void)state;
    fill_payload();
    mk_v4(&g, 6);
    g.payload_len = 1000;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    /* headers only captured: the real size still comes from the IP header */
    assert_int_equal(pkt_parse(1, frame, 54, flen, &pi), PKT_OK);
    assert_int_equal(pi.ip_len, 1040);
    assert_int_equal(pi.l4_payload_len, 1000);
    assert_int_equal(pi.l4_payload_caplen, 0);
    assert_int_equal(pi.sport, 40000);
    /* TCP header cut: L3 facts valid, no ports */
    assert_int_equal(pkt_parse(1, frame, 40, flen, &pi), PKT_ERR_TRUNCATED_L4);
    assert_int_equal(pi.ip_len, 1040);
    assert_memory_equal(pi.dst, g.dst, 16);
    assert_int_equal(pi.sport, 0);
    /* IP header cut */
    assert_int_equal(pkt_parse(1, frame, 30, flen, &pi), PKT_ERR_TRUNCATED_L3);
    assert_int_equal(pkt_parse(1, frame, 14, flen, &pi), PKT_ERR_TRUNCATED_L3);
    assert_int_equal(pkt_parse(1, frame, 13, flen, &pi), PKT_ERR_TRUNCATED_L2);
    assert_int_equal(pkt_parse(1, frame, 0, 0, &pi), PKT_ERR_TRUNCATED_L2);

    /* Ethernet padding: a 60-byte frame around a 40-byte IP packet */
    g.payload_len = 0;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    assert_int_equal(flen, 54);
    memset(frame + 54, 0xee, 6);
    assert_int_equal(pkt_parse(1, frame, 60, 60, &pi), PKT_OK);
    assert_int_equal(pi.ip_len, 40);
    assert_int_equal(pi.l3_caplen, 40);
    assert_int_equal(pi.l4_payload_len, 0);
    assert_int_equal(pi.l4_payload_caplen, 0);
}

static void test_malformed(void **state)
{
    struct gen_ip g;
    struct pkt_info pi;
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};
    uint32_t flen;

    (void)state;
    fill_payload();
    mk_v4(&g, 6);
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    frame[14] = 0x44; /* IHL 4 */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_IP_HEADER);
    frame[14] = 0x45;
    frame[16] = 0;
    frame[17] = 10; /* total length < IHL */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_IP_HEADER);
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    frame[14 + 20 + 12] = 0x30; /* TCP data offset 3 */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_L4_HEADER);
    assert_int_equal(pi.proto, 6);
    frame[14 + 20 + 12] = 0xf0; /* 60 bytes, beyond the 120-byte segment? no: fits */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_OK);
    assert_int_equal(pi.l4_payload_len, 60);
    /* lengths that claim more than the frame carried on the wire */
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    frame[16] = (uint8_t)((flen - 14 + 1) >> 8);
    frame[17] = (uint8_t)(flen - 14 + 1); /* total length one byte past the frame */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_LENGTH);
    /* ... but a snaplen-cut capture whose wire length covers it is fine */
    assert_int_equal(pkt_parse(1, frame, flen, flen + 1, &pi), PKT_OK);
    mk_v4(&g, 17);
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    frame[14 + 20 + 4] = (uint8_t)((flen - 34 + 1) >> 8);
    frame[14 + 20 + 5] = (uint8_t)(flen - 34 + 1); /* UDP length past the IP payload */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_L4_HEADER);
    frame[14 + 20 + 4] = 0;
    frame[14 + 20 + 5] = 7; /* under its own header */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_L4_HEADER);
    frame[14 + 20 + 5] = 0; /* 0: only in an IPv6 jumbogram */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_L4_HEADER);
    mk_v4(&g, 6);
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    frame[14] = 0x55; /* version 5 */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_BAD_IP_HEADER);
    assert_int_equal(pkt_parse(PKT_LINK_RAW, frame + 14, flen - 14, flen - 14, &pi),
                     PKT_ERR_NOT_IP);
    frame[12] = 0x08;
    frame[13] = 0x06; /* ARP */
    assert_int_equal(pkt_parse(1, frame, flen, flen, &pi), PKT_ERR_NOT_IP);
    /* NULL with an unknown AF */
    memset(frame, 0, 4);
    frame[0] = 99;
    assert_int_equal(pkt_parse(PKT_LINK_NULL, frame, 60, 60, &pi), PKT_ERR_NOT_IP);
    /* names */
    assert_string_equal(pkt_err_name(PKT_ERR_TRUNCATED_L2), "truncated_l2");
    assert_string_equal(pkt_err_name(PKT_ERR_TRUNCATED_L4), "truncated_l4");
    assert_string_equal(pkt_err_name(0), "ok");
    assert_string_equal(pkt_err_name(-100), "unknown");
    {
        int e;
        for (e = 0; e > -PKT_ERR_COUNT; e--)
            assert_string_not_equal(pkt_err_name(e), "unknown");
    }
}

/* IPv6 payload length 0: no payload in a frame padded to Ethernet's 60 bytes (its IP length is
 * 40, not the padding's 46), the frame's length only when it is more than a payload length can
 * say (a jumbogram, a GSO / BIG TCP capture). */
static void test_v6_zero_payload_length(void **state)
{
    struct pkt_info pi;
    (void)state;
    memset(frame, 0, 14 + 40 + 0x10000);
    frame[12] = 0x86;
    frame[13] = 0xdd;
    frame[14] = 0x60;
    frame[14 + 6] = 59; /* no next header */
    frame[14 + 7] = 64;
    frame[14 + 23] = 1;
    frame[14 + 39] = 2;
    assert_int_equal(pkt_parse(1, frame, 60, 60, &pi), PKT_OK);
    assert_int_equal(pi.ip_len, 40);
    assert_int_equal(pkt_parse(1, frame, 54, 54, &pi), PKT_OK);
    assert_int_equal(pi.ip_len, 40);
    /* a GSO capture of 70 000 bytes cut at 128 by the snaplen */
    frame[14 + 6] = 6;
    frame[14 + 40 + 12] = 0x50;
    assert_int_equal(pkt_parse(1, frame, 128, 14 + 70000, &pi), PKT_OK);
    assert_int_equal(pi.ip_len, 70000);
}

static void test_icmp_mpls_pppoe(void **state)
{
    struct gen_ip g;
    struct pkt_info pi;
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};
    uint8_t f2[2000];
    uint32_t flen;

    (void)state;
    fill_payload();
    mk_v4(&g, 1);
    g.icmp_type = 8;
    g.payload_len = 56;
    assert_int_equal(build_parse(&g, &l2, 1, &pi, &flen), PKT_OK);
    assert_int_equal(pi.proto, 1);
    assert_int_equal(pi.icmp_type, 8);
    assert_int_equal(pi.icmp_code, 0);
    assert_int_equal(pi.l4_payload_len, 56);

    /* MPLS: two labels, then IPv4 */
    memcpy(f2, frame, 12);
    f2[12] = 0x88;
    f2[13] = 0x47;
    memcpy(f2 + 14, "\x00\x01\x00\x40\x00\x02\x01\x40", 8);
    memcpy(f2 + 22, frame + 14, flen - 14);
    assert_int_equal(pkt_parse(1, f2, flen + 8, flen + 8, &pi), PKT_OK);
    assert_int_equal(pi.icmp_type, 8);
    /* PPPoE session with PPP IPv4 */
    f2[12] = 0x88;
    f2[13] = 0x64;
    memcpy(f2 + 14, "\x11\x00\x00\x01\x00\x40\x00\x21", 8);
    assert_int_equal(pkt_parse(1, f2, flen + 8, flen + 8, &pi), PKT_OK);
    assert_int_equal(pi.proto, 1);
}

/* Outer Ethernet to MPLS (0x8847), labels 300012 and 17 (bottom), then the pseudowire's bytes
 * pw (control word and/or inner MAC header) and the IPv4 packet g; returns the frame length. */
static uint32_t mpls_frame(uint8_t *f, const uint8_t *pw, size_t pwlen, const struct gen_ip *g)
{
    static const uint8_t hdr[22] = {0x02, 0,    0,    0,    0,    0x03, 0x02, 0,
                                    0,    0,    0,    0x04, 0x88, 0x47, 0x49, 0x3e,
                                    0xc2, 0xff, 0x00, 0x01, 0x13, 0xff};
    int n = gen_ip_packet(g, ipb, sizeof(ipb));
    assert_true(n > 0);
    memcpy(f, hdr, sizeof(hdr));
    memcpy(f + sizeof(hdr), pw, pwlen);
    memcpy(f + sizeof(hdr) + pwlen, ipb, (size_t)n);
    return (uint32_t)(sizeof(hdr) + pwlen + (size_t)n);
}

/* Ethernet over MPLS (RFC 4448) with and without the RFC 4385 control word, as the IPFIX
 * dataLinkFrameSection of akvorado's ethernet-over-mpls-with-control-word capture carries it. */
static void test_mpls_pseudowire(void **state)
{
    struct gen_ip g;
    struct pkt_info pi;
    uint8_t f[2000];
    uint32_t n;
    /* control word 0, inner MACs 44:4c:a8:98:a5:0d <- 30:63:ea:2b:6e:10, 802.1Q VLAN 100, IPv4 */
    static const uint8_t cw_vlan[] = {0x00, 0x00, 0x00, 0x00, 0x44, 0x4c, 0xa8, 0x98,
                                      0xa5, 0x0d, 0x30, 0x63, 0xea, 0x2b, 0x6e, 0x10,
                                      0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
    /* no control word, destination MAC 00:1b:54:... (a first nibble 0 like a control word's) */
    static const uint8_t nocw_0[] = {0x00, 0x1b, 0x54, 0x01, 0x02, 0x03, 0x00,
                                     0x1b, 0x54, 0x04, 0x05, 0x06, 0x08, 0x00};
    /* no control word, destination MAC 3c:fd:fe:... */
    static const uint8_t nocw_3[] = {0x3c, 0xfd, 0xfe, 0x01, 0x02, 0x03, 0x00,
                                     0x1b, 0x54, 0x04, 0x05, 0x06, 0x08, 0x00};
    /* control word, then an ARP frame */
    static const uint8_t cw_arp[] = {0x00, 0x00, 0x00, 0x00, 0x02, 0, 0,    0,    0,
                                     0x05, 0x02, 0,    0,    0,    0, 0x06, 0x08, 0x06};
    /* generic associated channel (OAM) */
    static const uint8_t gach[] = {0x10, 0x00, 0x00, 0x07};

    (void)state;
    fill_payload();
    mk_v4(&g, 6);
    n = mpls_frame(f, cw_vlan, sizeof(cw_vlan), &g);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_OK);
    check_v4_tcp(&pi, &g);
    assert_int_equal(pi.vlan_count, 1);
    assert_int_equal(pi.vlan, 100);
    /* a section cut inside the inner MAC header, or inside the control word */
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, 22 + 10, n, &pi), PKT_ERR_TRUNCATED_L2);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, 22 + 2, n, &pi), PKT_ERR_TRUNCATED_L2);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, 22, n, &pi), PKT_ERR_TRUNCATED_L3);

    n = mpls_frame(f, nocw_0, sizeof(nocw_0), &g);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_OK);
    check_v4_tcp(&pi, &g);
    assert_int_equal(pi.vlan_count, 0);
    n = mpls_frame(f, nocw_3, sizeof(nocw_3), &g);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_OK);
    check_v4_tcp(&pi, &g);

    n = mpls_frame(f, cw_arp, sizeof(cw_arp), &g);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_ERR_NOT_IP);
    n = mpls_frame(f, gach, sizeof(gach), &g);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_ERR_NOT_IP);
    /* nothing the pseudowire could carry: neither 0x0800 at +16 nor at +12 */
    memset(f + 22, 0, 40);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_ERR_NOT_IP);
    /* a label stack with no bottom */
    for (n = 14; n < 14 + 4 * 9; n += 4)
        memcpy(f + n, "\x00\x01\x00\x40", 4);
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi), PKT_ERR_TOO_MANY_HEADERS);
    /* pseudowires nested in pseudowires: walked without recursion, bounded by PKT_MAX_TAGS */
    for (int levels = 2; levels <= 9; levels += 7) {
        int ipn = gen_ip_packet(&g, ipb, sizeof(ipb));
        n = 12;
        for (int k = 0; k < levels; k++) {
            memcpy(f + n,
                   "\x88\x47\x00\x01\x01\x40\x00\x00\x00\x00\x02\x00\x00\x00\x00\x05\x02"
                   "\x00\x00\x00\x00\x06",
                   22);
            n += 22;
        }
        memcpy(f + n, "\x08\x00", 2);
        memcpy(f + n + 2, ipb, (size_t)ipn);
        n += 2 + (uint32_t)ipn;
        assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f, n, n, &pi),
                         levels == 2 ? PKT_OK : PKT_ERR_TOO_MANY_HEADERS);
    }
}

/* ---- reassembly ---- */

static int feed(struct frag_table *t, const struct frags *fr, int i, uint64_t ts,
                struct frag_datagram *d)
{
    struct pkt_info pi;
    int r = pkt_parse(PKT_LINK_RAW, fr->buf[i], (uint32_t)fr->len[i], (uint32_t)fr->len[i], &pi);
    assert_int_equal(r, PKT_OK);
    assert_true(pi.fragment);
    return frag_input(t, &pi, ts, d);
}

static void test_reassembly(void **state)
{
    struct frag_table *t;
    struct frag_datagram d;
    struct frag_stats st;
    struct frags fr;
    int v;

    (void)state;
    fill_payload();
    assert_int_equal(frag_table_new(NULL, &t), 0);
    for (v = 0; v < 2; v++) {
        make_frags(v == 1, 4000, &fr, 77 + (uint32_t)v);
        /* in order */
        assert_int_equal(feed(t, &fr, 0, 1000, &d), 0);
        assert_int_equal(feed(t, &fr, 1, 1001, &d), 0);
        assert_int_equal(feed(t, &fr, 2, 1002, &d), 1);
        assert_int_equal(d.proto, 17);
        assert_int_equal(d.v6, v == 1);
        assert_int_equal(d.sport, 2055);
        assert_int_equal(d.dport, 9995);
        assert_int_equal(d.payload_len, 4000);
        assert_memory_equal(d.payload, payload, 4000);
        /* reverse order */
        assert_int_equal(feed(t, &fr, 2, 2000, &d), 0);
        assert_int_equal(feed(t, &fr, 1, 2000, &d), 0);
        assert_int_equal(feed(t, &fr, 0, 2000, &d), 1);
        assert_int_equal(d.payload_len, 4000);
        assert_memory_equal(d.payload, payload, 4000);
    }
    /* overlap (duplicate fragment) drops the datagram */
    make_frags(false, 4000, &fr, 5);
    assert_int_equal(feed(t, &fr, 0, 3000, &d), 0);
    assert_int_equal(feed(t, &fr, 0, 3000, &d), -EINVAL);
    /* timeout */
    assert_int_equal(feed(t, &fr, 0, 4000, &d), 0);
    assert_int_equal(feed(t, &fr, 1, 4000 + 31000000000ull, &d), 0); /* old one expired */
    frag_get_stats(t, &st);
    assert_int_equal(st.reassembled, 4);
    assert_int_equal(st.overlaps, 1);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.in_progress, 1);
    frag_expire(t, UINT64_MAX);
    frag_get_stats(t, &st);
    assert_int_equal(st.in_progress, 0);
    assert_int_equal(st.bytes_held, 0);
    frag_table_free(t);

    /* bounded by count: 4 slots, 10 datagrams started */
    {
        struct frag_opts o = {.max_datagrams = 4};
        uint32_t i;
        assert_int_equal(frag_table_new(&o, &t), 0);
        for (i = 0; i < 10; i++) {
            make_frags(false, 4000, &fr, 100 + i);
            assert_int_equal(feed(t, &fr, 0, 10 + i, &d), 0);
        }
        frag_get_stats(t, &st);
        assert_int_equal(st.in_progress, 4);
        assert_int_equal(st.evicted, 6);
        /* the newest still completes */
        assert_int_equal(feed(t, &fr, 1, 30, &d), 0);
        assert_int_equal(feed(t, &fr, 2, 30, &d), 1);
        frag_table_free(t);
    }
    /* bounded by bytes */
    {
        struct frag_opts o = {.max_bytes = 3000};
        assert_int_equal(frag_table_new(&o, &t), 0);
        make_frags(false, 4000, &fr, 9);
        assert_int_equal(feed(t, &fr, 0, 1, &d), 0);
        assert_int_equal(feed(t, &fr, 1, 1, &d), 0);
        assert_int_equal(feed(t, &fr, 2, 1, &d), -EINVAL); /* alone over the bound */
        frag_get_stats(t, &st);
        assert_int_equal(st.evicted, 1);
        assert_true(st.bytes_held <= 3000);
        frag_table_free(t);
    }
    /* not a fragment */
    {
        struct pkt_info pi;
        memset(&pi, 0, sizeof(pi));
        assert_int_equal(frag_table_new(NULL, &t), 0);
        assert_int_equal(frag_input(t, &pi, 0, &d), -EINVAL);
        frag_get_stats(t, &st);
        assert_int_equal(st.bad, 1);
        frag_table_free(t);
    }
}

/* ---- reassembly: holes, overlaps and fragments past the end, with a fill pattern ----
 *
 * Every slot buffer of the table is first filled with POISON by reassembling whole datagrams
 * of that byte (a slot keeps its buffer, and so the previous datagram's bytes, for the next
 * one). The datagrams of the cases below never contain POISON: a reassembled datagram must
 * equal its original, so a POISON byte in the output is a hole the reassembler let through. */

#define POISON 0xa5
#define HOLE_SLOTS 4
static uint8_t hdr4[64], hdr6[64]; /* IP headers the pieces are cut from (proto 17) */
static uint8_t orig[65536];        /* the fragmentable part of the case's datagram */
static uint8_t piece_buf[66000];

static void make_headers(void)
{
    struct gen_ip g;
    mk_v4(&g, 17);
    g.payload_len = 0;
    assert_true(gen_ip_packet(&g, hdr4, sizeof(hdr4)) >= 20);
    mk_v6(&g, 17);
    g.payload_len = 0;
    assert_true(gen_ip_packet(&g, hdr6, sizeof(hdr6)) >= 40);
}

/* A UDP datagram of len bytes (header included) with no POISON byte in it. */
static void make_orig(uint32_t len)
{
    uint32_t i;
    for (i = 0; i < len; i++)
        orig[i] = (uint8_t)(i % 0x7f); /* < POISON */
    orig[0] = 0x08;
    orig[1] = 0x07; /* sport 2055 */
    orig[2] = 0x27;
    orig[3] = 0x0b; /* dport 9995 */
    orig[4] = (uint8_t)(len >> 8 & 0x7f);
    orig[5] = (uint8_t)(len & 0x7f); /* a length with no POISON byte: fill_out clamps it */
    orig[6] = orig[7] = 0;
}

/* Feed one piece [off, off + len) of data (orig unless data is given), more-fragments flag. */
static int piece(struct frag_table *t, bool v6, uint32_t id, uint32_t off, uint32_t len, bool more,
                 const uint8_t *data, struct frag_datagram *d)
{
    struct pkt_info pi;
    int n = gen_ip_fragment_piece(v6 ? hdr6 : hdr4, id, off, more, data ? data : orig + off, len,
                                  piece_buf, sizeof(piece_buf));
    int r;
    assert_true(n > 0);
    r = pkt_parse(PKT_LINK_RAW, piece_buf, (uint32_t)n, (uint32_t)n, &pi);
    assert_true(r == PKT_OK || r == PKT_ERR_BAD_L4_HEADER || r == PKT_ERR_TRUNCATED_L4);
    assert_true(pi.fragment);
    return frag_input(t, &pi, 1000, d);
}

static void poison_slots(struct frag_table *t)
{
    static uint8_t p[32768];
    struct frag_datagram d;
    uint32_t i, k;
    memset(p, POISON, sizeof(p));
    for (i = 0; i < HOLE_SLOTS; i++) /* all slots in use at once, so each gets its buffer */
        assert_int_equal(piece(t, false, 900 + i, 0, 32768, true, p, &d), 0);
    for (i = 0; i < HOLE_SLOTS; i++) {
        assert_int_equal(piece(t, false, 900 + i, 32768, 32000, false, p, &d), 1);
        for (k = 0; k < d.l4_len; k++)
            assert_int_equal(d.l4[k], POISON);
    }
}

static void check_whole(const struct frag_datagram *d, uint32_t len)
{
    uint32_t k;
    assert_int_equal(d->l4_len, len);
    for (k = 0; k < len; k++)
        assert_int_not_equal(d->l4[k], POISON);
    assert_memory_equal(d->l4, orig, len);
}

static void test_reassembly_holes(void **state)
{
    struct frag_opts o = {.max_datagrams = HOLE_SLOTS};
    struct frag_table *t;
    struct frag_datagram d;
    struct frag_stats st;
    int v;

    (void)state;
    make_headers();
    for (v = 0; v < 2; v++) {
        bool v6 = v == 1;
        assert_int_equal(frag_table_new(&o, &t), 0);
        poison_slots(t);
        make_orig(24);

        /* the reported bug: a piece past the end arrives before the last one; the byte count
           (8 + 8 + 8 = 24) then equals the length while [0, 8) never came */
        assert_int_equal(piece(t, v6, 1, 24, 8, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 1, 8, 8, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 1, 16, 8, false, NULL, &d), -EINVAL);
        frag_get_stats(t, &st);
        assert_int_equal(st.beyond_end, 1);
        assert_int_equal(st.in_progress, 0);
        /* the same after the last one */
        assert_int_equal(piece(t, v6, 2, 16, 8, false, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 2, 24, 8, true, NULL, &d), -EINVAL);
        /* two last pieces that disagree on the end */
        assert_int_equal(piece(t, v6, 3, 16, 8, false, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 3, 8, 4, false, NULL, &d), -EINVAL);
        frag_get_stats(t, &st);
        assert_int_equal(st.beyond_end, 3);
        /* overlaps: a duplicate and a piece covering half of another */
        assert_int_equal(piece(t, v6, 4, 0, 16, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 4, 8, 16, false, NULL, &d), -EINVAL);
        assert_int_equal(piece(t, v6, 5, 16, 8, false, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 5, 16, 8, false, NULL, &d), -EINVAL);
        frag_get_stats(t, &st);
        assert_int_equal(st.overlaps, 2);
        /* a hole that never fills: held, never completed, then timed out */
        assert_int_equal(piece(t, v6, 6, 0, 8, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 6, 16, 8, false, NULL, &d), 0);
        frag_get_stats(t, &st);
        assert_int_equal(st.reassembled, HOLE_SLOTS);
        assert_int_equal(st.in_progress, 1);
        frag_expire(t, UINT64_MAX);
        /* whole ones still come out whole, in any order, without a POISON byte */
        assert_int_equal(piece(t, v6, 7, 16, 8, false, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 7, 0, 8, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 7, 8, 8, true, NULL, &d), 1);
        check_whole(&d, 24);
        make_orig(4000); /* a bigger one, last piece first, middle last */
        assert_int_equal(piece(t, v6, 8, 3200, 800, false, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 8, 0, 1600, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 8, 2400, 800, true, NULL, &d), 0);
        assert_int_equal(piece(t, v6, 8, 1600, 800, true, NULL, &d), 1);
        check_whole(&d, 4000);
        assert_int_equal(d.dport, 9995);
        frag_get_stats(t, &st);
        assert_int_equal(st.reassembled, HOLE_SLOTS + 2);
        assert_int_equal(st.in_progress, 0);
        assert_int_equal(st.bytes_held, 0);
        frag_table_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_linktype),         cmocka_unit_test(test_vlan_stacks),
        cmocka_unit_test(test_v6_ext_headers),         cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_truncation_snaplen),     cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_v6_zero_payload_length), cmocka_unit_test(test_icmp_mpls_pppoe),
        cmocka_unit_test(test_mpls_pseudowire),        cmocka_unit_test(test_reassembly),
        cmocka_unit_test(test_reassembly_holes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
