/* test_meter: the flow meter end to end on frames built by the generator: every link type
 * (frames -> pkt_parse -> meter -> flow_rec), ICMP keys, TCP FIN/RST, flags, idle and active
 * timeouts on packet time, the table bound and its eviction counter, fragments, snaplen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gen_pcap.h"
#include "meter.h"
#include "pkt.h"

#define MAXREC 65536
static struct flow_rec recs[MAXREC];
static size_t nrec;

static void collect(void *arg, struct flow_rec *r)
{
    (void)arg;
    assert_true(nrec < MAXREC);
    recs[nrec++] = *r;
}

static uint8_t ipb[70000], frame[70000], payload[66000];
static const uint64_t T0 = 1700000000ULL * 1000000000ULL; /* ns */
#define MS 1000000ULL

static struct meter *mk(uint32_t max_flows, uint64_t idle_ms, uint64_t active_ms)
{
    struct meter_opts o = {
        .max_flows = max_flows, .idle_ms = idle_ms, .active_ms = active_ms, .hash_seed = 42};
    struct meter *m;
    nrec = 0;
    assert_int_equal(meter_new(&o, collect, NULL, &m), 0);
    return m;
}

static void v4(struct gen_ip *g, uint8_t proto, uint16_t sport, uint16_t dport)
{
    memset(g, 0, sizeof *g);
    gen_addr4(g->src, 10, 0, 0, 1);
    gen_addr4(g->dst, 192, 0, 2, 7);
    g->proto = proto;
    g->sport = sport;
    g->dport = dport;
    g->payload = payload;
    g->payload_len = 100;
}

/* Build, frame, parse (with caplen cut at snap when nonzero), meter; returns the IP length. */
static int feed_l2(struct meter *m, const struct gen_ip *g, const struct gen_l2 *l2, int dlt,
                   uint64_t ts, uint32_t snap)
{
    int n = gen_ip_packet(g, ipb, sizeof ipb);
    assert_true(n > 0);
    int f = gen_frame(l2, ipb, (size_t)n, frame, sizeof frame);
    assert_true(f > 0);
    uint32_t cap = snap && (uint32_t)f > snap ? snap : (uint32_t)f;
    struct pkt_info pi;
    int rc = pkt_parse(dlt, frame, cap, (uint32_t)f, &pi);
    assert_true(rc == PKT_OK || rc == PKT_ERR_TRUNCATED_L4);
    meter_packet(m, &pi, ts);
    return n;
}

static int feed(struct meter *m, const struct gen_ip *g, uint64_t ts)
{
    struct gen_l2 l2 = {.linktype = GEN_LT_RAW};
    return feed_l2(m, g, &l2, PKT_LINK_RAW_LT, ts, 0);
}

static void check_rec(const struct flow_rec *r, const struct gen_ip *g, uint64_t pk, uint64_t by)
{
    assert_memory_equal(r->src, g->src, 16);
    assert_memory_equal(r->dst, g->dst, 16);
    assert_int_equal(r->proto, g->proto);
    assert_int_equal(r->packets, pk);
    assert_int_equal(r->bytes, by);
    assert_int_equal(r->sampling, 1);
    assert_int_equal(r->exporter, 0);
    assert_true(r->flags & FLOW_F_METERED);
    assert_false(r->flags & FLOW_F_PACKET); /* a whole flow: its flags are the connection's */
    assert_true(r->last_ms >= r->first_ms);
}

static void test_linktypes(void **state)
{
    (void)state;
    static const struct {
        int gen_lt, dlt;
        uint8_t nvl;
        bool qinq, swap;
    } cases[] = {
        {GEN_LT_EN10MB, PKT_LINK_EN10MB, 0, false, false},
        {GEN_LT_EN10MB, PKT_LINK_EN10MB, 1, false, false},
        {GEN_LT_EN10MB, PKT_LINK_EN10MB, 2, true, false},
        {GEN_LT_SLL, PKT_LINK_LINUX_SLL, 0, false, false},
        {GEN_LT_SLL2, PKT_LINK_LINUX_SLL2, 0, false, false},
        {GEN_LT_RAW, PKT_LINK_RAW_LT, 0, false, false},
        {GEN_LT_RAW, PKT_LINK_RAW, 0, false, false},
        {GEN_LT_NULL, PKT_LINK_NULL, 0, false, false},
        {GEN_LT_NULL, PKT_LINK_NULL, 0, false, true},
        {GEN_LT_LOOP, PKT_LINK_LOOP, 0, false, false},
    };
    static const uint8_t ext[] = {0, 60, 43};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int six = 0; six < 2; six++) {
            struct meter *m = mk(64, 15000, 120000);
            struct gen_l2 l2 = {.linktype = cases[c].gen_lt,
                                .n_vlans = cases[c].nvl,
                                .qinq = cases[c].qinq,
                                .null_swap = cases[c].swap,
                                .vlans = {100, 200}};
            struct gen_ip g;
            v4(&g, 17, 5000, 53);
            if (six) {
                assert_int_equal(gen_addr(g.src, "2001:db8::1"), 0);
                assert_int_equal(gen_addr(g.dst, "2001:db8:1::2"), 0);
                g.v6_ext = ext;
                g.n_v6_ext = 3;
            }
            int len = 0;
            for (int i = 0; i < 3; i++)
                len += feed_l2(m, &g, &l2, cases[c].dlt, T0 + (uint64_t)i * MS, 0);
            meter_flush(m);
            assert_int_equal(nrec, 1);
            check_rec(&recs[0], &g, 3, (uint64_t)len);
            assert_int_equal(recs[0].sport, 5000);
            assert_int_equal(recs[0].dport, 53);
            assert_int_equal(!!(recs[0].flags & FLOW_F_V6), six);
            assert_int_equal(recs[0].first_ms, T0 / MS);
            assert_int_equal(recs[0].last_ms, T0 / MS + 2);
            meter_free(m);
        }
    }
}

static void test_icmp_key(void **state)
{
    (void)state;
    struct meter *m = mk(64, 15000, 120000);
    struct gen_ip g;
    v4(&g, 1, 0, 0);
    g.icmp_type = 8;
    feed(m, &g, T0);
    feed(m, &g, T0 + MS);
    g.icmp_type = 3;
    g.icmp_code = 3;
    feed(m, &g, T0 + 2 * MS);
    struct gen_ip g6;
    v4(&g6, 58, 0, 0);
    assert_int_equal(gen_addr(g6.src, "2001:db8::1"), 0);
    assert_int_equal(gen_addr(g6.dst, "2001:db8::2"), 0);
    g6.icmp_type = 128;
    feed(m, &g6, T0 + 3 * MS);
    meter_flush(m);
    assert_int_equal(nrec, 3);
    assert_int_equal(recs[0].dport, 8 << 8);
    assert_int_equal(recs[0].sport, 0);
    assert_int_equal(recs[0].packets, 2);
    assert_int_equal(recs[1].dport, 3 << 8 | 3);
    assert_int_equal(recs[2].dport, 128 << 8);
    assert_int_equal(recs[2].proto, 58);
    meter_free(m);
}

static void test_tcp_end_and_flags(void **state)
{
    (void)state;
    struct meter *m = mk(64, 15000, 120000);
    struct gen_ip g;
    v4(&g, 6, 40000, 443);
    g.tcp_flags = 0x02;
    feed(m, &g, T0);
    g.tcp_flags = 0x18;
    feed(m, &g, T0 + MS);
    assert_int_equal(nrec, 0);
    g.tcp_flags = 0x11; /* FIN ends the flow, counted in it */
    feed(m, &g, T0 + 2 * MS);
    assert_int_equal(nrec, 1);
    assert_int_equal(recs[0].packets, 3);
    assert_int_equal(recs[0].tcp_flags, 0x1b);
    g.tcp_flags = 0x10; /* the last ACK starts a new flow */
    feed(m, &g, T0 + 3 * MS);
    g.tcp_flags = 0x04; /* RST ends it */
    feed(m, &g, T0 + 4 * MS);
    assert_int_equal(nrec, 2);
    assert_int_equal(recs[1].packets, 2);
    assert_int_equal(recs[1].tcp_flags, 0x14);
    struct meter_stats st;
    meter_get_stats(m, &st);
    assert_int_equal(st.ended_tcp, 2);
    assert_int_equal(st.active, 0);
    meter_free(m);
}

/* The first packet of a TCP flow says who opened it: SYN alone from the initiator, SYN+ACK
 * from the answering end; a flow first seen mid-connection says nothing. */
static void test_initiator_from_first_packet(void **state)
{
    (void)state;
    struct meter *m = mk(64, 15000, 120000);
    struct gen_ip c, s, mid;
    v4(&c, 6, 40000, 443);
    c.tcp_flags = 0x02;
    v4(&s, 6, 443, 40000);
    memcpy(s.src, c.dst, 16);
    memcpy(s.dst, c.src, 16);
    s.tcp_flags = 0x12;
    v4(&mid, 6, 41000, 443);
    mid.tcp_flags = 0x18;
    feed(m, &c, T0);
    feed(m, &s, T0 + MS);
    feed(m, &mid, T0 + MS);
    c.tcp_flags = 0x10; /* later packets do not change it */
    feed(m, &c, T0 + 2 * MS);
    meter_flush(m);
    assert_int_equal(nrec, 3);
    int seen = 0;
    for (size_t i = 0; i < nrec; i++) {
        uint8_t init = recs[i].flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST);
        if (recs[i].sport == 40000) {
            assert_int_equal(init, FLOW_F_INIT_SRC);
            seen |= 1;
        } else if (recs[i].sport == 443) {
            assert_int_equal(init, FLOW_F_INIT_DST);
            seen |= 2;
        } else {
            assert_int_equal(init, 0);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    meter_free(m);
}

/* UDP whose ports cannot tell: the first datagram between two sockets is the opener's. A query
 * from 41000 to 33000 (two dynamic ports: no port says who serves) and its answer; the
 * answer's flow is INIT_DST while the query's is open, and a datagram the other end sends
 * after the query's flow ended (idle) opens a new exchange: INIT_SRC. Active splits keep what
 * the first said. */
static void test_udp_opener(void **state)
{
    (void)state;
    struct meter *m = mk(64, 10000, 20000);
    struct gen_ip q, a;
    v4(&q, 17, 41000, 33000);
    v4(&a, 17, 33000, 41000);
    memcpy(a.src, q.dst, 16);
    memcpy(a.dst, q.src, 16);
    feed(m, &q, T0);
    feed(m, &a, T0 + 3 * MS);
    feed(m, &q, T0 + 15000 * MS); /* an active split of both at 20 s */
    feed(m, &a, T0 + 15003 * MS);
    feed(m, &q, T0 + 21000 * MS);
    feed(m, &a, T0 + 21003 * MS);
    meter_flush(m);
    assert_int_equal(nrec, 4);
    for (size_t i = 0; i < nrec; i++)
        assert_int_equal(recs[i].flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST),
                         recs[i].sport == 41000 ? FLOW_F_INIT_SRC : FLOW_F_INIT_DST);
    /* the other end speaks again after both flows went idle: its flow opens the exchange */
    nrec = 0;
    feed(m, &a, T0 + 60000 * MS);
    feed(m, &q, T0 + 60004 * MS);
    meter_flush(m);
    assert_int_equal(nrec, 2);
    for (size_t i = 0; i < nrec; i++)
        assert_int_equal(recs[i].flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST),
                         recs[i].sport == 33000 ? FLOW_F_INIT_SRC : FLOW_F_INIT_DST);
    /* where the ports tell, they decide: a capture that begins with an NTP server's answer
     * (123 -> 40000) and its client's next query leaves both flows to the port rules */
    nrec = 0;
    struct gen_ip srv, cli;
    v4(&srv, 17, 123, 40000);
    v4(&cli, 17, 40000, 123);
    memcpy(cli.src, srv.dst, 16);
    memcpy(cli.dst, srv.src, 16);
    feed(m, &srv, T0 + 120000 * MS);
    feed(m, &cli, T0 + 120064 * MS);
    meter_flush(m);
    assert_int_equal(nrec, 2);
    for (size_t i = 0; i < nrec; i++)
        assert_int_equal(recs[i].flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST), 0);
    meter_free(m);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    struct meter *m = mk(64, 10000, 120000);
    struct gen_ip a, b;
    v4(&a, 17, 1, 2);
    v4(&b, 17, 3, 4);
    feed(m, &a, T0);
    feed(m, &a, T0 + 5000 * MS);
    feed(m, &b, T0 + 14999 * MS); /* a idle 9.999 s: stays */
    assert_int_equal(nrec, 0);
    feed(m, &b, T0 + 15000 * MS); /* a idle 10 s: out, by packet time */
    assert_int_equal(nrec, 1);
    assert_int_equal(recs[0].sport, 1);
    assert_int_equal(recs[0].last_ms - recs[0].first_ms, 5000);
    meter_expire(m, T0 / MS + 26000); /* live: wall clock */
    assert_int_equal(nrec, 2);
    struct meter_stats st;
    meter_get_stats(m, &st);
    assert_int_equal(st.ended_idle, 2);
    meter_free(m);
}

static void test_active_timeout(void **state)
{
    (void)state;
    struct meter *m = mk(64, 10000, 60000);
    struct gen_ip g;
    v4(&g, 17, 7, 8);
    for (int s = 0; s <= 150; s++)
        feed(m, &g, T0 + (uint64_t)s * 1000 * MS);
    meter_flush(m);
    /* 0..59 s, 60..119 s, 120..150 s */
    assert_int_equal(nrec, 3);
    assert_int_equal(recs[0].packets, 60);
    assert_int_equal(recs[1].packets, 60);
    assert_int_equal(recs[2].packets, 31);
    assert_int_equal(recs[1].first_ms - recs[0].first_ms, 60000);
    struct meter_stats st;
    meter_get_stats(m, &st);
    assert_int_equal(st.ended_active, 2);
    meter_free(m);
}

static void test_table_bound(void **state)
{
    (void)state;
    struct meter *m = mk(16, 60000, 600000);
    struct gen_ip g;
    for (int i = 0; i < 40; i++) {
        v4(&g, 17, (uint16_t)(1000 + i), 80);
        feed(m, &g, T0 + (uint64_t)i * MS);
    }
    struct meter_stats st;
    meter_get_stats(m, &st);
    assert_int_equal(st.capacity, 16);
    assert_int_equal(st.active, 16);
    assert_int_equal(st.evicted, 24);
    assert_int_equal(nrec, 24);
    for (size_t i = 0; i < nrec; i++) /* the least recently seen go first */
        assert_int_equal(recs[i].sport, 1000 + i);
    /* a flow still in the table keeps counting */
    v4(&g, 17, 1039, 80);
    feed(m, &g, T0 + 100 * MS);
    meter_flush(m);
    assert_int_equal(nrec, 40);
    assert_int_equal(recs[39].sport, 1039);
    assert_int_equal(recs[39].packets, 2);
    meter_free(m);
}

/* many flows in a small table: every packet and byte comes out exactly once */
static void test_churn_conserves(void **state)
{
    (void)state;
    struct meter *m = mk(64, 2000, 30000);
    struct gen_ip g;
    uint64_t pk = 0, by = 0, seed = 12345;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        v4(&g, (seed >> 60) & 1 ? 6 : 17, (uint16_t)(seed >> 33) % 200, 80);
        g.tcp_flags = (seed >> 50) % 10 == 0 ? 0x01 : 0x10;
        g.payload_len = (uint32_t)(seed >> 40) % 500;
        by += (uint64_t)feed(m, &g, T0 + (uint64_t)i * 3 * MS);
        pk++;
    }
    meter_flush(m);
    uint64_t rp = 0, rb = 0;
    for (size_t i = 0; i < nrec; i++) {
        rp += recs[i].packets;
        rb += recs[i].bytes;
    }
    assert_int_equal(rp, pk);
    assert_int_equal(rb, by);
    struct meter_stats st;
    meter_get_stats(m, &st);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.flows, nrec);
    meter_free(m);
}

struct fragsink {
    struct meter *m;
    uint64_t ts;
    int count;
    bool skip_first;
    uint32_t bytes;
};

static int frag_feed(void *arg, const uint8_t *ip, size_t len)
{
    struct fragsink *fs = arg;
    struct pkt_info pi;
    fs->count++;
    if (fs->skip_first && fs->count == 1)
        return 0;
    memset(&pi, 0, sizeof pi); /* pkt_parse_ip, unlike pkt_parse, does not clear it */
    assert_int_equal(pkt_parse_ip(ip, (uint32_t)len, (uint32_t)len, &pi), PKT_OK);
    assert_true(pi.fragment);
    fs->bytes += pi.ip_len;
    meter_packet(fs->m, &pi, fs->ts);
    fs->ts += MS;
    return 0;
}

static void test_fragments(void **state)
{
    (void)state;
    for (int six = 0; six < 2; six++) {
        struct meter *m = mk(64, 15000, 120000);
        struct gen_ip g;
        v4(&g, 17, 4444, 5555);
        if (six) {
            assert_int_equal(gen_addr(g.src, "2001:db8::1"), 0);
            assert_int_equal(gen_addr(g.dst, "2001:db8::2"), 0);
        }
        g.payload_len = 4000;
        g.ip_id = 77;
        int n = gen_ip_packet(&g, ipb, sizeof ipb);
        assert_true(n > 0);
        struct fragsink fs = {m, T0, 0, false, 0};
        assert_true(gen_ip_fragment(ipb, (size_t)n, 1400, 77, frag_feed, &fs) >= 3);
        /* the same datagram again without its first fragment: portless */
        struct fragsink fs2 = {m, T0 + 100 * MS, 0, true, 0};
        assert_true(gen_ip_fragment(ipb, (size_t)n, 1400, 78, frag_feed, &fs2) >= 3);
        meter_flush(m);
        assert_int_equal(nrec, 2);
        assert_int_equal(recs[0].sport, 4444);
        assert_int_equal(recs[0].dport, 5555);
        assert_int_equal(recs[0].packets, fs.count);
        assert_int_equal(recs[0].bytes, fs.bytes);
        assert_int_equal(recs[1].sport, 0);
        assert_int_equal(recs[1].dport, 0);
        assert_int_equal(recs[1].packets, fs2.count - 1);
        struct meter_stats st;
        meter_get_stats(m, &st);
        assert_int_equal(st.frag_attributed, fs.count - 1);
        assert_int_equal(st.frag_portless, fs2.count - 1);
        meter_free(m);
    }
}

static void test_snaplen_counts_ip_length(void **state)
{
    (void)state;
    struct meter *m = mk(64, 15000, 120000);
    struct gen_ip g;
    v4(&g, 6, 1234, 80);
    g.tcp_flags = 0x10;
    g.payload_len = 1400;
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};
    int len = feed_l2(m, &g, &l2, PKT_LINK_EN10MB, T0, 40); /* TCP header cut */
    len += feed_l2(m, &g, &l2, PKT_LINK_EN10MB, T0 + MS, 96);
    meter_flush(m);
    assert_int_equal(nrec, 2); /* the cut one has no ports: a flow of its own */
    uint64_t bytes = recs[0].bytes + recs[1].bytes;
    assert_int_equal(bytes, (uint64_t)len);
    struct meter_stats st;
    meter_get_stats(m, &st);
    assert_int_equal(st.no_ports, 1);
    meter_free(m);
}

/* Staging (meter_stage, meter_run) counts exactly what meter_packet counts, in the same order:
 * a seeded mix of TCP (with FIN/RST), UDP, ICMP, IPv6 and fragmented datagrams over a table
 * small enough to evict, with idle and active timeouts, runs ended at odd places (as drains
 * end). The records (every field, in emission order) and the counters must be identical. */
#define SPKT_MAX 6000
static uint8_t spkt[SPKT_MAX][160];
static uint32_t spkt_len[SPKT_MAX];
static uint64_t spkt_ts[SPKT_MAX];
static size_t nspkt;

static int stage_keep(void *arg, const uint8_t *ip, size_t len)
{
    uint64_t *ts = arg;
    assert_true(nspkt < SPKT_MAX && len <= sizeof spkt[0]);
    memcpy(spkt[nspkt], ip, len);
    spkt_len[nspkt] = (uint32_t)len;
    spkt_ts[nspkt++] = *ts;
    return 0;
}

static void stage_mix(void)
{
    uint64_t x = 7, ts = T0;
    nspkt = 0;
    while (nspkt < SPKT_MAX - 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t r = (uint32_t)(x >> 11);
        struct gen_ip g;
        static const uint8_t protos[] = {6, 6, 6, 17, 17, 1};
        v4(&g, protos[r % 6], (uint16_t)(40000 + r % 5), (uint16_t)(80 + (r >> 3) % 40));
        g.src[15] = (uint8_t)((r >> 9) % 7);
        g.payload_len = 20;
        g.tcp_flags = (r >> 12) % 23 == 0 ? 0x01 : (r >> 12) % 31 == 0 ? 0x04 : 0x10;
        if ((r >> 17) % 11 == 0)
            g.tcp_flags = 0x02;
        if ((r >> 20) % 9 == 0) {
            assert_int_equal(gen_addr(g.src, "2001:db8::1"), 0);
            assert_int_equal(gen_addr(g.dst, "2001:db8::2"), 0);
        }
        ts += (r >> 24) % 40 * MS + ((r >> 22) % 97 == 0 ? 3000 * MS : 0);
        int n = gen_ip_packet(&g, ipb, sizeof ipb);
        assert_true(n > 0);
        if (g.proto == 17 && (r >> 26) % 13 == 0) { /* a fragmented datagram */
            g.payload_len = 300;
            n = gen_ip_packet(&g, ipb, sizeof ipb);
            assert_true(gen_ip_fragment(ipb, (size_t)n, 128, r & 0xffff, stage_keep, &ts) > 1);
            continue;
        }
        stage_keep(&ts, ipb, (size_t)n);
    }
}

static void stage_run(bool staged, struct flow_rec *out, size_t *nout, struct meter_stats *st)
{
    struct meter *m = mk(48, 1000, 5000);
    for (size_t i = 0; i < nspkt; i++) {
        struct pkt_info pi;
        memset(&pi, 0, sizeof pi);
        assert_int_equal(pkt_parse_ip(spkt[i], spkt_len[i], spkt_len[i], &pi), PKT_OK);
        if (!staged) {
            meter_packet(m, &pi, spkt_ts[i]);
            continue;
        }
        meter_stage(m, &pi, spkt_ts[i]);
        if (i % 37 == 36)
            meter_run(m);
    }
    meter_flush(m);
    meter_get_stats(m, st);
    memcpy(out, recs, nrec * sizeof *out);
    *nout = nrec;
    meter_free(m);
}

static struct flow_rec stage_a[MAXREC], stage_b[MAXREC];

static void test_staged_same_flows(void **state)
{
    (void)state;
    stage_mix();
    size_t na, nb;
    struct meter_stats sa, sb;
    stage_run(false, stage_a, &na, &sa);
    stage_run(true, stage_b, &nb, &sb);
    assert_true(na > 500); /* many flows ended: FIN/RST, idle, active, evicted */
    assert_true(sa.evicted > 0 && sa.ended_tcp > 0 && sa.ended_idle > 0);
    assert_true(sa.frag_attributed > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(stage_a, stage_b, na * sizeof stage_a[0]);
    assert_memory_equal(&sa, &sb, sizeof sa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linktypes),
        cmocka_unit_test(test_staged_same_flows),
        cmocka_unit_test(test_icmp_key),
        cmocka_unit_test(test_tcp_end_and_flags),
        cmocka_unit_test(test_initiator_from_first_packet),
        cmocka_unit_test(test_udp_opener),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_active_timeout),
        cmocka_unit_test(test_table_bound),
        cmocka_unit_test(test_churn_conserves),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_snaplen_counts_ip_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
