/* test_decode_scribble.c: a record handed to the emit callback is the callback's to change
 * (core/flow.h: the pipeline writes dir, customer, peer_customer and flags into it): the
 * decoder's next records must not depend on what it did. A v5 stream, and the same v9 and IPFIX streams
 * (multi-record sets of several templates, IPv4 and IPv6, sampled and unsampled, per-record
 * clock flags, plain and non-plain templates) are decoded once with a callback that only keeps
 * the records and once with one that keeps them and then overwrites every byte of the record;
 * the two must be the same, field by field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#define MAXR 512
#include "decode_test_util.h"

#define NREC 8 /* records per data set */

static void scribble(void *arg, struct flow_rec *rec)
{
    collect(arg, rec);
    memset(rec, 0xA5, sizeof *rec);
}

/* Every field; a new field of struct flow_rec must be added here. */
_Static_assert(sizeof(struct flow_rec) == 104, "compare the new field of flow_rec below");
static void same_rec(const struct flow_rec *a, const struct flow_rec *b, size_t i)
{
    if (memcmp(a->src, b->src, 16) || memcmp(a->dst, b->dst, 16) || a->bytes != b->bytes ||
        a->packets != b->packets || a->first_ms != b->first_ms || a->last_ms != b->last_ms ||
        a->sampling != b->sampling || a->exporter != b->exporter || a->sport != b->sport ||
        a->dport != b->dport || a->proto != b->proto || a->tcp_flags != b->tcp_flags ||
        a->flags != b->flags || a->dir != b->dir || a->src_as != b->src_as ||
        a->dst_as != b->dst_as || a->customer != b->customer ||
        a->peer_customer != b->peer_customer || a->in_if != b->in_if)
        fail_msg("record %zu differs: bytes %llu/%llu packets %llu/%llu sport %u/%u flags %u/%u "
                 "dir %u/%u customer %u/%u in_if %u/%u",
                 i, (unsigned long long)a->bytes, (unsigned long long)b->bytes,
                 (unsigned long long)a->packets, (unsigned long long)b->packets, a->sport, b->sport,
                 a->flags, b->flags, a->dir, b->dir, a->customer, b->customer, a->in_if, b->in_if);
}

/* The flow templates of the stream (ids from 256): the generator's usual layouts, and one
 * with the widths the interpreter handles apart (a 4-byte port narrowed, a 3-byte counter, a
 * 2-byte one widened, 2- and 4-byte interfaces, a 1-byte AS) and unused fields between. */
static size_t templates(struct gen_tmpl *t, int version)
{
    size_t n = 0;
    unsigned times = version == GEN_V9 ? GEN_T_UPTIME : GEN_T_MS;
    gen_tmpl_flow(&t[n++], 256, version, GEN_T_AS | GEN_T_REDUCED | times);
    gen_tmpl_flow(&t[n++], 257, version, GEN_T_AS | GEN_T_REDUCED | GEN_T_V6 | times);
    gen_tmpl_flow(&t[n++], 258, version, GEN_T_MS | GEN_T_OUT_COUNTERS);
    gen_tmpl_flow(&t[n++], 259, version, GEN_T_V6 | GEN_T_SEC);
    gen_tmpl_flow(&t[n++], 260, version, GEN_T_ICMP | GEN_T_AS); /* not plain: ICMP */
    struct gen_tmpl *o = &t[n++];
    gen_tmpl_init(o, 261);
    gen_tmpl_add(o, 8, 4, 0);
    gen_tmpl_add(o, 7, 4, 0); /* sport: 4 bytes into 2 */
    gen_tmpl_add(o, 82, 6, 0);
    gen_tmpl_add(o, 12, 4, 0);
    gen_tmpl_add(o, 11, 2, 0);
    gen_tmpl_add(o, 4, 1, 0);
    gen_tmpl_add(o, 6, 1, 0);
    gen_tmpl_add(o, 1, 3, 0);  /* bytes: 3 bytes */
    gen_tmpl_add(o, 2, 2, 0);  /* packets: 2 bytes into 8 */
    gen_tmpl_add(o, 10, 2, 0); /* in_if: 2 bytes into 4 */
    gen_tmpl_add(o, 14, 4, 0);
    gen_tmpl_add(o, 16, 1, 0);
    gen_tmpl_add(o, 152, 8, 0);
    gen_tmpl_add(o, 153, 8, 0);
    return n;
}

/* Flow j of template k in message msg: every value differs from the record before it; some
 * ends far from the export time (the clock check flags those). */
static void flows(struct gen_flow *f, size_t k, unsigned msg, bool v6)
{
    for (uint32_t j = 0; j < NREC; j++) {
        gen_flow_fill(&f[j], (uint32_t)(msg * 16 + k), j, v6, BASE_MS);
        f[j].in_if = 100 + j;
        f[j].out_if = 200 + j;
        f[j].icmp = (uint16_t)(0x0300 + j);
        if (j % 3 == 1)
            f[j].proto = 1;
        if (j % 4 == 3)
            f[j].end_ms = f[j].start_ms + 3 * 3600000ull; /* hours after the export */
    }
}

/* The stream of version: per domain (1: unsampled, 2: 1:10 by options data) a message with the
 * templates, and then messages of data sets of every template; decoded into s. */
static void decode_stream(int version, flow_emit_fn emit, struct sink *s)
{
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.clock_skew_ms = 3600000;
    struct decode_ctx *ctx = new_ctx(&cfg);
    struct gen_tmpl t[8], ot;
    size_t nt = templates(t, version);
    gen_tmpl_sampling(&ot, 300, version, GEN_S_INTERVAL);
    struct gen_flow o = {0};
    o.sampling_interval = 10;
    uint16_t port = version == GEN_V9 ? 2055 : 4739;
    static uint8_t buf[16384];
    unsigned seq[3] = {0, 0, 0};
    for (unsigned msg = 0; msg < 3; msg++) {
        for (uint32_t dom = 1; dom <= 2; dom++) {
            struct gen_msg m;
            uint64_t ms = BASE_MS + msg * 1000;
            gen_msg_begin(&m, buf, sizeof buf, version, dom, seq[dom], ms, 3600000 + msg * 1000);
            if (msg == 0) {
                for (size_t k = 0; k < nt; k++)
                    gen_add_template(&m, &t[k]);
                if (dom == 2) {
                    gen_add_options_template(&m, &ot);
                    gen_add_data(&m, &ot, &o, 1);
                }
            }
            for (size_t k = 0; k < nt; k++) {
                struct gen_flow f[NREC];
                bool v6 = t[k].f[0].ie == 27;
                flows(f, k, msg, v6);
                gen_add_data(&m, &t[k], f, NREC);
            }
            int len = gen_msg_end(&m);
            assert_true(len > 0);
            seq[dom] += version == GEN_V9 ? 1 : (unsigned)(nt * NREC) + (msg == 0 && dom == 2);
            decode_datagram(ctx, exp_a, port, ms, buf, (size_t)len, emit, s);
        }
    }
    no_errors(ctx);
    assert_int_equal(decode_counter(ctx, DC_SEQ_LOST), 0);
    decode_ctx_free(ctx);
}

static void scribbled_same(int version)
{
    static struct sink a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    decode_stream(version, collect, &a);
    decode_stream(version, scribble, &b);
    assert_int_equal(a.n, 3 * 2 * 6 * NREC);
    assert_int_equal(b.n, a.n);
    /* the streams have what they are meant to have */
    size_t v6 = 0, sampled = 0, unknown = 0, skew = 0, in_if = 0;
    for (size_t i = 0; i < a.n; i++) {
        same_rec(&a.r[i], &b.r[i], i);
        v6 += (a.r[i].flags & FLOW_F_V6) != 0;
        sampled += a.r[i].sampling == 10;
        unknown += (a.r[i].flags & FLOW_F_SAMPLING_UNKNOWN) != 0;
        skew += (a.r[i].flags & FLOW_F_CLOCK_SKEW) != 0;
        in_if += a.r[i].in_if != 0;
    }
    assert_int_equal(v6, 3 * 2 * 2 * NREC);
    assert_int_equal(sampled, a.n / 2);
    assert_int_equal(unknown, a.n / 2);
    assert_true(skew > 0 && skew < a.n);
    assert_int_equal(in_if, 3 * 2 * NREC);
}

/* NetFlow v5 (one record reused for a message's records, nf5.c): messages of 30 records, sampled
 * (1:10 in the header) and unsampled, with AS numbers, interfaces, TCP flags and some ends
 * hours from the export time. */
static void decode_v5(flow_emit_fn emit, struct sink *s)
{
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.clock_skew_ms = 3600000;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t buf[24 + 30 * 48];
    for (unsigned msg = 0; msg < 4; msg++) {
        struct gen_flow f[30];
        for (uint32_t j = 0; j < 30; j++) {
            gen_flow_fill(&f[j], 50 + msg, j, false, BASE_MS);
            f[j].src_as = 64500 + j;
            f[j].dst_as = j % 2 ? 3320 : 0;
            f[j].in_if = 100 + j;
            f[j].proto = j % 3 ? 6 : 17;
            f[j].tcp_flags = (uint8_t)(j * 7);
            if (j % 4 == 3)
                f[j].end_ms = f[j].start_ms + 3 * 3600000ull; /* hours after the export */
        }
        struct gen_nf5_hdr h = {.uptime_ms = 3600000 + msg * 1000,
                                .unix_ms = BASE_MS + msg * 1000,
                                .seq = msg * 30,
                                .sampling = msg % 2 ? (uint16_t)(1u << 14 | 10) : 0};
        int len = gen_nf5(buf, sizeof buf, &h, f, 30);
        assert_true(len > 0);
        decode_datagram(ctx, exp_a, 2055, BASE_MS + msg * 1000, buf, (size_t)len, emit, s);
    }
    no_errors(ctx);
    decode_ctx_free(ctx);
}

static void test_v5(void **state)
{
    (void)state;
    static struct sink a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    decode_v5(collect, &a);
    decode_v5(scribble, &b);
    assert_int_equal(a.n, 4 * 30);
    assert_int_equal(b.n, a.n);
    size_t sampled = 0, skew = 0;
    for (size_t i = 0; i < a.n; i++) {
        same_rec(&a.r[i], &b.r[i], i);
        assert_int_equal(a.r[i].src[10], 0xff); /* IPv4-mapped */
        assert_int_equal(a.r[i].dst[0], 0);
        sampled += a.r[i].sampling == 10;
        skew += (a.r[i].flags & FLOW_F_CLOCK_SKEW) != 0;
    }
    assert_int_equal(sampled, a.n / 2);
    assert_true(skew > 0 && skew < a.n);
}

static void test_v9(void **state)
{
    (void)state;
    scribbled_same(GEN_V9);
}

static void test_ipfix(void **state)
{
    (void)state;
    scribbled_same(GEN_IPFIX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v5),
        cmocka_unit_test(test_v9),
        cmocka_unit_test(test_ipfix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
