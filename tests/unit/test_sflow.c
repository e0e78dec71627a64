/* test_sflow.c: the sFlow v5 decoder (collector/decode/sflow.c) on datagrams the project's
 * generator writes (tests/gen/gen_sflow.h): records from raw headers (IPv4, IPv6, 802.1Q,
 * VXLAN's inner packet), sampled IP records and extended gateway AS numbers, the rate and the
 * [exporter] override, sequence loss per (agent, sub-agent), the agents' drops, the interface
 * table and its rates and bound; and hostile datagrams: every truncation and every word
 * replaced by extreme values is counted, never read past, never a record with nonsense. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_pcap.h"
#include "gen_sflow.h"
#include "pkt.h"

#define MAXR 64
#include "decode_test_util.h"

static const uint8_t agent4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
static const uint8_t udp_src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};

static struct gen_flow flow(bool v6, uint8_t proto)
{
    struct gen_flow f;
    gen_flow_fill(&f, 10, 0, v6, BASE_MS);
    f.proto = proto;
    f.tcp_flags = proto == 6 ? 0x12 : 0;
    if (proto == 1 || proto == 58) {
        f.sport = 0;
        f.dport = 0;
        f.icmp = 8 << 8;
    }
    return f;
}

static int one_flow(uint8_t *buf, size_t cap, const struct gen_flow *f,
                    const struct gen_sflow_opts *o, uint32_t seq)
{
    struct gen_sflow m;
    gen_sflow_begin(&m, buf, cap, agent4, 7, seq, 1000);
    gen_sflow_flow(&m, f, o);
    return gen_sflow_end(&m);
}

static void expect(const struct flow_rec *r, const struct gen_flow *f, uint32_t rate,
                   uint32_t ip_len)
{
    assert_memory_equal(r->src, f->src, 16);
    assert_memory_equal(r->dst, f->dst, 16);
    assert_int_equal(r->proto, f->proto);
    if (f->proto == 1 || f->proto == 58) {
        assert_int_equal(r->dport, f->icmp);
    } else {
        assert_int_equal(r->sport, f->sport);
        assert_int_equal(r->dport, f->dport);
    }
    assert_int_equal(r->sampling, rate);
    assert_int_equal(r->packets, rate);
    assert_int_equal(r->bytes, (uint64_t)ip_len * rate);
    assert_int_equal(r->first_ms, BASE_MS);
    /* one packet's header, at every rate: its TCP flags are not a connection's (flow.h) */
    assert_true(r->flags & FLOW_F_PACKET);
}

static void test_flow_samples(void **state)
{
    (void)state;
    static const struct {
        bool v6;
        uint8_t proto;
        uint16_t vlan;
        bool vxlan, sampled_ip, expanded;
    } cases[] = {
        {false, 6, 0, false, false, false},   {true, 17, 0, false, false, true},
        {false, 1, 100, false, false, false}, {true, 58, 0, false, false, false},
        {false, 6, 0, true, false, false},    {true, 6, 3000, true, false, true},
        {false, 17, 0, false, true, false},   {true, 6, 0, false, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct decode_ctx *ctx = new_ctx(NULL);
        struct gen_flow f = flow(cases[i].v6, cases[i].proto);
        struct gen_sflow_opts o = {.rate = 512,
                                   .in_if = 27,
                                   .out_if = 28,
                                   .ip_len = 1400,
                                   .vlan = cases[i].vlan,
                                   .vxlan = cases[i].vxlan,
                                   .sampled_ip = cases[i].sampled_ip,
                                   .expanded = cases[i].expanded,
                                   .src_as = 65001,
                                   .dst_as = 65002};
        uint8_t buf[2048];
        int n = one_flow(buf, sizeof buf, &f, &o, 1);
        assert_true(n > 0);
        struct sink s = {.n = 0};
        decode_datagram(ctx, udp_src, 40000, BASE_MS, buf, (size_t)n, collect, &s);
        no_errors(ctx);
        assert_int_equal(s.n, 1);
        expect(&s.r[0], &f, 512, 1400);
        assert_int_equal(s.r[0].in_if, 27);
        assert_int_equal(s.r[0].src_as, 65001);
        assert_int_equal(s.r[0].dst_as, 65002);
        assert_int_equal(decode_counter(ctx, DC_SFLOW_INNER_HEADERS), cases[i].vxlan ? 1 : 0);
        uint8_t a[16];
        assert_true(decode_exporter_addr(ctx, s.r[0].exporter, a));
        assert_memory_equal(a, agent4, 16); /* the agent, not the UDP source */
        decode_ctx_free(ctx);
    }
}

static void override_policy(void *arg, const uint8_t addr[16], struct exporter_policy *out)
{
    (void)arg;
    if (memcmp(addr, agent4, 16) == 0)
        out->sampling_override = 1000;
}

static void test_sampling_sequence_drops(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.policy = override_policy;
    struct decode_ctx *ctx = new_ctx(&cfg);
    struct gen_flow f = flow(false, 6);
    uint8_t buf[2048];
    struct sink s = {.n = 0};
    /* datagrams 1, 2, then 5: 2 lost; drops 10 then 15 then 15: 5 dropped samples */
    static const uint32_t seqs[] = {1, 2, 5}, drops[] = {10, 15, 15};
    for (int i = 0; i < 3; i++) {
        struct gen_sflow_opts o = {.rate = 64, .ip_len = 100, .drops = drops[i]};
        int n = one_flow(buf, sizeof buf, &f, &o, seqs[i]);
        decode_datagram(ctx, udp_src, 40000, BASE_MS, buf, (size_t)n, collect, &s);
    }
    assert_int_equal(s.n, 3);
    expect(&s.r[0], &f, 1000, 100); /* the override beats the sample's 64 */
    assert_int_equal(decode_counter(ctx, DC_SEQ_LOST), 2);
    assert_int_equal(decode_counter(ctx, DC_SFLOW_AGENT_DROPS), 5);
    struct decode_exporter_stats ex[2];
    assert_int_equal(decode_exporters(ctx, ex, 2), 1);
    assert_int_equal(ex[0].seq_lost, 2);
    assert_int_equal(ex[0].sflow_drops, 5);
    /* another sub-agent of the same agent has its own sequence */
    struct gen_sflow m;
    gen_sflow_begin(&m, buf, sizeof buf, agent4, 8, 900, 1000);
    int n = gen_sflow_end(&m);
    decode_datagram(ctx, udp_src, 40000, BASE_MS, buf, (size_t)n, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_SEQ_LOST), 2);
    decode_ctx_free(ctx);
}

static void test_interfaces(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_interfaces = 2;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t buf[2048];
    struct sink s = {.n = 0};
    for (uint32_t t = 0; t < 2; t++) {
        struct gen_sflow m;
        gen_sflow_begin(&m, buf, sizeof buf, agent4, 0, t, 1000);
        for (uint32_t k = 1; k <= 3; k++) {
            struct gen_sflow_iface i = {.ifindex = k,
                                        .speed = 10000000000ull,
                                        .in_octets = 1000000 + t * 1250000 * k,
                                        .out_octets = 5 + t * 125000,
                                        .in_pkts = 7};
            gen_sflow_counters(&m, &i);
        }
        int n = gen_sflow_end(&m);
        decode_datagram(ctx, udp_src, 40000, BASE_MS + t * 10000, buf, (size_t)n, collect, &s);
    }
    assert_int_equal(s.n, 0);
    assert_int_equal(decode_counter(ctx, DC_SFLOW_COUNTER_SAMPLES), 6);
    assert_int_equal(decode_counter(ctx, DC_IFACE_LIMIT), 2); /* interface 3, twice */
    struct decode_iface_stats ifs[4];
    assert_int_equal(decode_interfaces(ctx, 0, NULL, 0), 2);
    assert_int_equal(decode_interfaces(ctx, 0, ifs, 4), 2);
    assert_int_equal(ifs[1].ifindex, 2);
    assert_int_equal(ifs[1].speed, 10000000000ull);
    assert_int_equal(ifs[1].in_bps, 2000000); /* 2.5 MB in 10 s */
    assert_int_equal(ifs[1].out_bps, 100000);
    assert_true(decode_memory(ctx) <= decode_memory_bound(&cfg));
    decode_ctx_free(ctx);
}

/* A counter delta past 2.3e15 octets (where delta x 8000 overflows 64 bits) still gives its
 * rate: 3e15 octets in 10 s are 2.4e15 bit/s. */
static void test_interface_rate_big_delta(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t buf[2048];
    struct sink s = {.n = 0};
    for (uint32_t t = 0; t < 2; t++) {
        struct gen_sflow m;
        gen_sflow_begin(&m, buf, sizeof buf, agent4, 0, t, 1000);
        struct gen_sflow_iface i = {.ifindex = 1,
                                    .speed = 10000000000ull,
                                    .in_octets = t * 3000000000000000ull,
                                    .out_octets = t * 1000};
        gen_sflow_counters(&m, &i);
        int n = gen_sflow_end(&m);
        decode_datagram(ctx, udp_src, 40000, BASE_MS + t * 10000, buf, (size_t)n, collect, &s);
    }
    struct decode_iface_stats ifs[1];
    assert_int_equal(decode_interfaces(ctx, 0, ifs, 1), 1);
    assert_true(ifs[0].in_bps == 2400000000000000ull);
    assert_int_equal(ifs[0].out_bps, 800);
    decode_ctx_free(ctx);
}

static void check_sane(void *arg, struct flow_rec *r)
{
    (void)arg;
    assert_true(r->sampling >= 1);
    assert_true(r->exporter >= 1);
    assert_true(r->packets >= 1);
}

/* Every prefix of a datagram and every word replaced by 0, 1, 0x7fffffff and 0xffffffff: no
 * read outside (ASan), every record sane, memory within the bound. */
static void test_hostile(void **state)
{
    (void)state;
    uint8_t good[4096], buf[4096];
    struct gen_sflow m;
    gen_sflow_begin(&m, good, sizeof good, agent4, 1, 1, 1000);
    struct gen_flow f = flow(true, 6);
    struct gen_sflow_opts o = {
        .rate = 100, .ip_len = 1500, .vxlan = true, .src_as = 1, .dst_as = 2};
    gen_sflow_flow(&m, &f, &o);
    o.sampled_ip = true;
    o.expanded = true;
    gen_sflow_flow(&m, &f, &o);
    struct gen_sflow_iface i = {.ifindex = 3};
    gen_sflow_counters(&m, &i);
    int n = gen_sflow_end(&m);
    assert_true(n > 0);
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_interfaces = 4;
    struct decode_ctx *ctx = new_ctx(&cfg);
    for (int len = 0; len <= n; len++) { /* a copy of exactly len bytes: ASan sees overreads */
        uint8_t *p = malloc((size_t)len + 1);
        memcpy(p, good, (size_t)len);
        decode_datagram(ctx, udp_src, 1, BASE_MS, p, (size_t)len, check_sane, NULL);
        free(p);
    }
    uint64_t bad = decode_counter(ctx, DC_SFLOW_BAD_SAMPLE) + decode_counter(ctx, DC_SHORT_HEADER);
    assert_true(bad > 0);
    static const uint32_t vals[] = {0, 1, 0x7fffffff, 0xffffffff};
    for (int w = 0; w + 4 <= n; w += 4) {
        for (size_t v = 0; v < 4; v++) {
            memcpy(buf, good, (size_t)n);
            buf[w] = (uint8_t)(vals[v] >> 24);
            buf[w + 1] = (uint8_t)(vals[v] >> 16);
            buf[w + 2] = (uint8_t)(vals[v] >> 8);
            buf[w + 3] = (uint8_t)vals[v];
            uint8_t *p = malloc((size_t)n);
            memcpy(p, buf, (size_t)n);
            decode_datagram(ctx, udp_src, 1, BASE_MS, p, (size_t)n, check_sane, NULL);
            free(p);
        }
    }
    assert_true(decode_counter(ctx, DC_SFLOW_BAD_RECORD) > 0);
    assert_true(decode_memory(ctx) <= decode_memory_bound(&cfg));
    decode_ctx_free(ctx);
}

/* pkt_parse_inner: VXLAN only with the I flag on port 4789; anything else is no tunnel. */
static void test_vxlan_parser(void **state)
{
    (void)state;
    uint8_t buf[2048];
    struct gen_flow f = flow(false, 17);
    f.dport = 4789;
    struct gen_sflow_opts o = {.rate = 1, .ip_len = 200};
    int n = one_flow(buf, sizeof buf, &f, &o, 1);
    assert_true(n > 0);
    /* the raw header starts after datagram header (28), sample header (8 + 28), record
       count (4), record tag/length (8) and the 16 bytes before the header bytes */
    const uint8_t *frame = buf + 28 + 8 + 28 + 4 + 8 + 16;
    struct pkt_info pi, inner;
    assert_int_equal(pkt_parse(PKT_LINK_EN10MB, frame, 128, 214, &pi), PKT_OK);
    assert_int_equal(pi.dport, 4789);
    assert_int_equal(pkt_parse_inner(&pi, &inner), 1); /* zero payload: no I flag */
    pi.dport = 53;
    assert_int_equal(pkt_parse_inner(&pi, &inner), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_samples), cmocka_unit_test(test_sampling_sequence_drops),
        cmocka_unit_test(test_interfaces),   cmocka_unit_test(test_interface_rate_big_delta),
        cmocka_unit_test(test_hostile),      cmocka_unit_test(test_vxlan_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
