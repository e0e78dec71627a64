/* test_export_timing: the generator's export model (gen_exportw with an inactive timeout) and the
 * flow meter hand the records of the same traffic to the collector in the same order. A flow
 * cache cannot know that a SYN nobody answered, a UDP exchange or a ping is over: it lets such
 * a flow go only when the inactive timeout has passed since its last packet, while a FIN or RST
 * ends a TCP flow at once. When the export model released every record at its end instead,
 * the windows closed on different records in the metered raw capture and in the export of the
 * same traffic, and the scan detector's sequential test fired for scanners starting at a
 * window's end in one and not the other (bench/eval raw slice, issue 11). Here the same flows
 * (scan probes, a retried SYN, an RST answer, UDP and ICMP probes with their answers, among
 * ordinary connections) go (a) as packets (gen_flowpkts, the raw path of `twgen eval -f raw`)
 * through pkt_parse and the meter, and (b) as IPFIX datagrams through the decoder; both give
 * the same records in the same order, each at the same time (the meter's clock when it
 * emits; the datagram's time). Without the timeout (inactive_ms 0) the orders differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "decode.h"
#include "gen_exportw.h"
#include "gen_flowpkts.h"
#include "gen_pcap.h"
#include "meter.h"
#include "pkt.h"

#define IDLE_MS 15000
#define T0 1700000000000ULL
#define MAXF 256

struct seen {
    struct flow_rec r[MAXF];
    uint64_t at[MAXF]; /* when the collector got it */
    size_t n;
    uint64_t now; /* the time of the packet / datagram being handled */
};

static struct gen_flow flows[MAXF];
static size_t nflows;

static void add(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                uint8_t flags, uint64_t pkts, uint64_t bytes, uint64_t start, uint64_t dur,
                bool responder)
{
    assert_true(nflows < MAXF);
    struct gen_flow *f = &flows[nflows++];
    gen_flow_v4(f, src, dst, sport, dport, proto, flags, pkts, bytes, T0 + start, T0 + start + dur);
    f->responder = responder;
}

static int by_end(const void *pa, const void *pb)
{
    const struct gen_flow *a = pa, *b = pb;
    return (a->end_ms > b->end_ms) - (a->end_ms < b->end_ms);
}

#define HOST 0x64400010u  /* the customer host */
#define OTHER 0x64400011u /* a neighbour with ordinary traffic */
#define OUT(n) (0x1F000000u + (n))

/* The traffic: a connection a second (request and answer, FIN) from the neighbour for 60 s;
 * the host's SYN probes (one packet, and one retried after 1 s), a probe answered by RST, a UDP
 * probe and its answer, an ICMP echo and its reply, and an outside scanner's SYN answered by
 * the host's RST. Sorted by end time, as the scenario simulators emit flows. */
static void traffic(void)
{
    nflows = 0;
    for (unsigned i = 0; i < 60; i++) {
        add(OTHER, OUT(100 + i), (uint16_t)(40000 + i), 443, 6, 0x1b, 6, 1200, i * 1000 + 300, 400,
            false);
        add(OUT(100 + i), OTHER, 443, (uint16_t)(40000 + i), 6, 0x1b, 5, 3000, i * 1000 + 320, 380,
            true);
    }
    add(HOST, OUT(1), 33000, 22, 6, 0x02, 1, 44, 10000, 0, false);    /* unanswered probe */
    add(HOST, OUT(2), 33001, 22, 6, 0x02, 2, 88, 11500, 1000, false); /* retried once */
    add(HOST, OUT(3), 33002, 22, 6, 0x02, 1, 44, 13100, 0, false);    /* answered by RST: */
    add(OUT(3), HOST, 22, 33002, 6, 0x14, 1, 40, 13130, 0, true);     /* its own flow ends */
    add(HOST, OUT(4), 33003, 161, 17, 0, 1, 70, 15200, 0, false);     /* UDP probe */
    add(OUT(4), HOST, 161, 33003, 17, 0, 1, 300, 15240, 0, false);    /* and its answer */
    add(HOST, OUT(5), 0, 8 << 8, 1, 0, 1, 84, 17400, 0, false);       /* echo request */
    add(OUT(5), HOST, 0, 0, 1, 0, 1, 84, 17420, 0, false);            /* echo reply */
    add(OUT(6), HOST, 51000, 23, 6, 0x02, 1, 44, 19600, 0, false);    /* inbound SYN */
    add(HOST, OUT(6), 23, 51000, 6, 0x14, 1, 40, 19610, 0, true);     /* the host's RST */
    qsort(flows, nflows, sizeof flows[0], by_end);
}

/* ---- (a) packets through the meter ---- */

static void meter_emit(void *arg, struct flow_rec *r)
{
    struct seen *s = arg;
    assert_true(s->n < MAXF);
    s->r[s->n] = *r;
    s->at[s->n++] = s->now;
}

static void metered(struct seen *s)
{
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB, .snaplen = 96};
    struct gen_pcap *pc;
    assert_int_equal(gen_pcap_open_mem(&po, &pc), 0);
    struct gen_flowpkts *w;
    assert_int_equal(gen_flowpkts_new(pc, &w), 0);
    for (size_t i = 0; i < nflows; i++)
        assert_int_equal(gen_flowpkts_add(w, &flows[i]), 0);
    uint64_t npk = 0;
    assert_int_equal(gen_flowpkts_close(w, &npk), 0);
    uint8_t *data;
    size_t len;
    assert_int_equal(gen_pcap_close_mem(pc, &data, &len), 0);

    struct meter_opts mo = {.idle_ms = IDLE_MS, .active_ms = 120000, .hash_seed = 7};
    struct meter *m;
    memset(s, 0, sizeof *s);
    assert_int_equal(meter_new(&mo, meter_emit, s, &m), 0);
    struct capture *c;
    char err[128];
    assert_int_equal(capture_open_mem(data, len, &c, err, sizeof err), 0);
    struct capture_pkt p;
    while (capture_next(c, &p) == CAPTURE_PACKET) {
        struct pkt_info pi;
        assert_int_equal(pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi), PKT_OK);
        s->now = p.ts_ns / 1000000;
        meter_packet(m, &pi, p.ts_ns);
    }
    s->now = UINT64_MAX; /* what the end of the input flushes */
    meter_flush(m);
    capture_close(c);
    meter_free(m);
    free(data);
}

/* ---- (b) IPFIX datagrams through the decoder ---- */

static void exported(struct seen *s, uint32_t inactive_ms)
{
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB};
    struct gen_pcap *pc;
    assert_int_equal(gen_pcap_open_mem(&po, &pc), 0);
    struct gen_exportw_opts eo = {.version = 10, .inactive_ms = inactive_ms};
    gen_v4(eo.exporter, 0x0AFF0001u);
    gen_v4(eo.collector, 0x0AFF0064u);
    struct gen_exportw *w;
    assert_int_equal(gen_exportw_new(&eo, pc, &w), 0);
    for (size_t i = 0; i < nflows; i++)
        assert_int_equal(gen_exportw_add(w, &flows[i]), 0);
    assert_int_equal(gen_exportw_close(w), 0);
    uint8_t *data;
    size_t len;
    assert_int_equal(gen_pcap_close_mem(pc, &data, &len), 0);

    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    struct decode_ctx *d;
    assert_int_equal(decode_ctx_new(&cfg, &d), 0);
    memset(s, 0, sizeof *s);
    struct capture *c;
    char err[128];
    assert_int_equal(capture_open_mem(data, len, &c, err, sizeof err), 0);
    struct capture_pkt p;
    uint64_t last = 0;
    while (capture_next(c, &p) == CAPTURE_PACKET) {
        struct pkt_info pi;
        assert_int_equal(pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi), PKT_OK);
        assert_int_equal(pi.proto, 17);
        s->now = p.ts_ns / 1000000;
        assert_true(s->now >= last); /* datagrams in time order */
        last = s->now;
        decode_datagram(d, pi.src, pi.sport, s->now, pi.l4_payload, pi.l4_payload_caplen,
                        meter_emit, s);
    }
    capture_close(c);
    decode_ctx_free(d);
    free(data);
}

static bool same_flow(const struct flow_rec *a, const struct flow_rec *b)
{
    return memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0 &&
           a->sport == b->sport && a->dport == b->dport && a->proto == b->proto &&
           a->first_ms == b->first_ms && a->last_ms == b->last_ms && a->packets == b->packets;
}

static bool same_order(const struct seen *a, const struct seen *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!same_flow(&a->r[i], &b->r[i]))
            return false;
    return true;
}

static struct seen sm, sx;

static void test_same_order_as_meter(void **state)
{
    (void)state;
    traffic();
    metered(&sm);
    exported(&sx, IDLE_MS);
    assert_int_equal(sm.n, nflows);
    assert_int_equal(sx.n, nflows);
    for (size_t i = 0; i < sm.n; i++) {
        const struct flow_rec *r = &sm.r[i];
        assert_true(same_flow(r, &sx.r[i]));
        bool at_once = r->proto == 6 && (r->tcp_flags & 0x05);
        /* the meter: at the FIN/RST packet, or at the first packet after the timeout */
        if (at_once) {
            assert_int_equal(sm.at[i], r->last_ms);
        } else {
            assert_true(sm.at[i] >= r->last_ms + IDLE_MS);
            assert_true(sm.at[i] < r->last_ms + IDLE_MS + 1000);
        }
        /* the export: in a datagram stamped one second after the newest record it carries,
         * which waited at most 5 s for more */
        uint64_t x = r->last_ms + (at_once ? 0 : IDLE_MS);
        assert_true(sx.at[i] >= x + 1000);
        assert_true(sx.at[i] <= x + 6000 + 1000);
    }
}

/* The old model (every record at its end) gives the probes ahead of 15 s of connections. */
static void test_no_timeout_differs(void **state)
{
    (void)state;
    traffic();
    metered(&sm);
    exported(&sx, 0);
    assert_int_equal(sx.n, nflows);
    assert_false(same_order(&sm, &sx));
}

/* A long flow's part that the exporter's active timeout ended goes at its end. */
static void test_active_end_at_once(void **state)
{
    (void)state;
    nflows = 0;
    add(HOST, OUT(9), 40000, 5223, 6, 0x18, 40, 9000, 0, 59990, false);
    flows[0].active_end = true;
    add(HOST, OUT(10), 40001, 53, 17, 0, 1, 70, 50000, 0, false);
    add(OTHER, OUT(11), 40002, 443, 6, 0x1b, 6, 1200, 59995, 10, false);
    exported(&sx, IDLE_MS);
    assert_int_equal(sx.n, 3);
    assert_int_equal(sx.r[0].dport, 5223); /* at 59.99 s */
    assert_int_equal(sx.r[1].dport, 443);  /* at 60.005 s */
    assert_int_equal(sx.r[2].dport, 53);   /* at 65 s */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_order_as_meter),
        cmocka_unit_test(test_no_timeout_differs),
        cmocka_unit_test(test_active_end_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
