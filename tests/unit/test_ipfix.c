/* test_ipfix.c: IPFIX decoding: templates, enterprise and variable-length IEs, withdrawal,
 * options/sampling (every sampling IE), time encodings, sequence numbers, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#define MAXR 256
#define DT_VERSION 10
#include "decode_test_util.h"

/* v4 + v6 templates, enterprise IE, short and long variable-length IEs, padding. */
static void test_basic(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[8192];
    struct gen_flow f[6], f6[3];
    fill(f, 6, false);
    fill(f6, 3, true);
    f[1].varlen_len = 300; /* 3-byte length form */
    f[2].varlen_len = 254;
    struct gen_tmpl t4, t6;
    gen_tmpl_flow(&t4, 256, GEN_IPFIX, GEN_T_ENTERPRISE | GEN_T_VARLEN | GEN_T_AS);
    gen_tmpl_flow(&t6, 999, GEN_IPFIX, GEN_T_V6 | GEN_T_ENTERPRISE);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 77, 0, BASE_MS, 0);
    gen_add_template(&m, &t4);
    gen_add_template(&m, &t6);
    gen_add_padding(&m, 2);
    gen_add_data(&m, &t4, f, 6);
    gen_add_padding(&m, 3);
    gen_add_data(&m, &t6, f6, 3);
    int len = gen_msg_end(&m);
    assert_true(len > 0);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 9);
    for (size_t i = 0; i < 6; i++) {
        check_flow(&s.r[i], &f[i], 1);
        assert_int_equal(s.r[i].src_as, f[i].src_as);
        assert_true(s.r[i].flags & FLOW_F_SAMPLING_UNKNOWN);
    }
    for (size_t i = 0; i < 3; i++) {
        check_flow(&s.r[6 + i], &f6[i], 1);
        assert_true(s.r[6 + i].flags & FLOW_F_V6);
    }
    assert_int_equal(decode_counter(ctx, DC_IPFIX_RECORDS), 9);
    no_errors(ctx);
    /* trailing bytes after the message length are ignored; a length beyond the datagram is bad */
    buf[len] = 0xAB;
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len + 1, collect, &s);
    assert_int_equal(s.n, 18);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len - 1, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_BAD_LENGTH), 1);
    decode_ctx_free(ctx);
}

/* RFC 5103 biflow: reverse counters (PEN 29305) become a record of their own, ends swapped. */
static void test_biflow(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[2048];
    struct gen_flow f[2];
    fill(f, 2, false);
    struct gen_tmpl t;
    gen_tmpl_flow(&t, 300, GEN_IPFIX, 0);
    /* the generator writes enterprise elements as 0xEE bytes: 238 bytes, 238 packets */
    gen_tmpl_add(&t, 1, 1, 29305); /* reverseOctetDeltaCount */
    gen_tmpl_add(&t, 2, 1, 29305); /* reversePacketDeltaCount */
    gen_tmpl_add(&t, 6, 1, 29305); /* reverseTcpControlBits */
    gen_tmpl_add(&t, 10, 4, 0);    /* ingressInterface */
    gen_tmpl_add(&t, 14, 2, 0);    /* egressInterface */
    f[0].in_if = 70000;
    f[0].out_if = 3;
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 2);
    int len = gen_msg_end(&m);
    assert_true(len > 0);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 4);
    /* the ingress interface; the answers entered where the forward flow left */
    assert_int_equal(s.r[0].in_if, 70000);
    assert_int_equal(s.r[1].in_if, 3);
    assert_int_equal(s.r[2].in_if, 0);
    for (size_t i = 0; i < 2; i++) {
        const struct flow_rec *fw = &s.r[2 * i], *rv = &s.r[2 * i + 1];
        check_flow(fw, &f[i], 1);
        assert_memory_equal(rv->src, f[i].dst, 16);
        assert_memory_equal(rv->dst, f[i].src, 16);
        assert_int_equal(rv->sport, f[i].dport);
        assert_int_equal(rv->dport, f[i].sport);
        assert_int_equal(rv->proto, f[i].proto);
        assert_int_equal(rv->bytes, 238);
        assert_int_equal(rv->packets, 238);
        assert_int_equal(rv->tcp_flags, 0xEE);
        assert_int_equal(rv->first_ms, fw->first_ms);
        assert_int_equal(rv->last_ms, fw->last_ms);
    }
    assert_int_equal(decode_counter(ctx, DC_BIFLOW_REVERSE), 2);
    assert_int_equal(decode_counter(ctx, DC_IPFIX_RECORDS), 4);
    no_errors(ctx);
    decode_ctx_free(ctx);
}

/* Who started the connection: biflowDirection (IE 239) marks the forward record and, mirrored,
 * its reverse side; without it a record says nothing (core/initiator.h takes over). */
static void test_biflow_direction(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[2048];
    struct gen_flow f[3];
    fill(f, 3, false);
    f[0].biflow_dir = 1; /* initiator: the source opened it */
    f[1].biflow_dir = 2; /* reverseInitiator: the destination did */
    f[2].biflow_dir = 0; /* arbitrary */
    struct gen_tmpl t;
    gen_tmpl_flow(&t, 301, GEN_IPFIX, 0);
    gen_tmpl_add(&t, 239, 1, 0);
    gen_tmpl_add(&t, 1, 1, 29305); /* reverseOctetDeltaCount */
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 3);
    int len = gen_msg_end(&m);
    assert_true(len > 0);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 6);
    const uint8_t both = FLOW_F_INIT_SRC | FLOW_F_INIT_DST;
    assert_int_equal(s.r[0].flags & both, FLOW_F_INIT_SRC);
    assert_int_equal(s.r[1].flags & both, FLOW_F_INIT_DST);
    assert_int_equal(s.r[2].flags & both, FLOW_F_INIT_DST);
    assert_int_equal(s.r[3].flags & both, FLOW_F_INIT_SRC);
    assert_int_equal(s.r[4].flags & both, 0);
    assert_int_equal(s.r[5].flags & both, 0);
    no_errors(ctx);
    decode_ctx_free(ctx);
}

/* A packet section (IE 315, variable length) beside fields of the template's own: the section
 * gives what the template lacks (addresses, destination port, TCP flags, one packet), the
 * template's fields win where it has them (source port, protocol, octets). */
static void test_section_beside_fields(void **state)
{
    (void)state;
    static const uint8_t frame[42] = {
        2,    0,    0,  0,  0, 1, 2, 0, 0,  0,  0, 2, 0x08, 0x00, /* Ethernet, IPv4 */
        0x45, 0,    0,  28, 0, 0, 0, 0, 64, 17, 0, 0, 10,   0,
        0,    1,    10, 0,  0, 2,       /* UDP, 28 bytes */
        0x13, 0x88, 0,  53, 0, 8, 0, 0, /* 5000 -> 53 */
    };
    uint8_t buf[128] = {0, 10, 0, 94};
    uint32_t secs = (uint32_t)(BASE_MS / 1000);
    for (int i = 0; i < 4; i++)
        buf[4 + i] = (uint8_t)(secs >> (24 - 8 * i));
    buf[15] = 3;                                                    /* domain */
    static const uint8_t tmpl[24] = {0, 2,  0,    24,   1, 0, 0, 4, /* template 256, 4 fields */
                                     1, 59, 0xff, 0xff,             /* 315 dataLinkFrameSection */
                                     0, 7,  0,    2,                /* sourceTransportPort */
                                     0, 1,  0,    4,                /* octetDeltaCount */
                                     0, 4,  0,    1};               /* protocolIdentifier */
    memcpy(buf + 16, tmpl, sizeof tmpl);
    uint8_t *d = buf + 40;
    d[0] = 1; /* set 256, 54 bytes */
    d[3] = 54;
    d[4] = sizeof frame;
    memcpy(d + 5, frame, sizeof frame);
    d[47] = 1234 >> 8; /* source port 1234 */
    d[48] = 1234 & 0xff;
    d[51] = 777 >> 8; /* 777 octets */
    d[52] = 777 & 0xff;
    d[53] = 6;
    struct decode_ctx *ctx = new_ctx(NULL);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, 94, collect, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(decode_counter(ctx, DC_PACKET_SECTIONS), 1);
    const struct flow_rec *r = &s.r[0];
    const uint8_t a[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1};
    const uint8_t b[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2};
    assert_memory_equal(r->src, a, 16);
    assert_memory_equal(r->dst, b, 16);
    assert_int_equal(r->sport, 1234); /* the template's */
    assert_int_equal(r->dport, 53);   /* the section's */
    assert_int_equal(r->proto, 6);    /* the template's */
    assert_int_equal(r->tcp_flags, 0);
    assert_int_equal(r->bytes, 777); /* the template's */
    assert_int_equal(r->packets, 1); /* the section's one packet */
    assert_true(r->flags & FLOW_F_PACKET);
    assert_false(r->flags & FLOW_F_V6);
    no_errors(ctx);
    decode_ctx_free(ctx);
}

/* A varlen template that names one kind twice, the first time wider: the last field wins
 * whole, in the record (source port, octets, source AS of an odd width) and in the values
 * (none here), record after record (each destination written by its last op only:
 * decode_tmpl.c's last_writes; a plain load stores only its own bytes). */
static void test_varlen_duplicate_kinds(void **state)
{
    (void)state;
    static const uint16_t fields[][2] = {
        {82, 0xffff},          /* interfaceName, variable length */
        {8, 4},       {12, 4}, /* addresses */
        {7, 2},       {7, 1},  /* sourceTransportPort twice: the 1-byte one wins */
        {1, 8},       {1, 2},  /* octetDeltaCount twice: the 2-byte one wins */
        {16, 4},      {16, 3}, /* bgpSourceAsNumber twice: the 3-byte one wins */
        {4, 1},
    };
    enum { NF = sizeof fields / sizeof fields[0], REC = 1 + 3 + 4 + 4 + 2 + 1 + 8 + 2 + 4 + 3 + 1 };
    uint8_t buf[16 + 8 + 4 * NF + 4 + 2 * REC] = {0, 10};
    size_t len = sizeof buf;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    uint32_t secs = (uint32_t)(BASE_MS / 1000);
    for (int i = 0; i < 4; i++)
        buf[4 + i] = (uint8_t)(secs >> (24 - 8 * i));
    buf[15] = 3; /* domain */
    uint8_t *q = buf + 16;
    *q++ = 0, *q++ = 2, *q++ = 0, *q++ = (uint8_t)(8 + 4 * NF); /* template set */
    *q++ = 1, *q++ = 0, *q++ = 0, *q++ = NF;                    /* template 256 */
    for (size_t i = 0; i < NF; i++) {
        *q++ = (uint8_t)(fields[i][0] >> 8), *q++ = (uint8_t)fields[i][0];
        *q++ = (uint8_t)(fields[i][1] >> 8), *q++ = (uint8_t)fields[i][1];
    }
    *q++ = 1, *q++ = 0, *q++ = 0, *q++ = (uint8_t)(4 + 2 * REC); /* data set 256 */
    for (uint8_t k = 1; k <= 2; k++) {
        static const uint8_t rec[REC] = {
            3,    'e',  't',  'h',  10, 0, 0, 1, 10,   0,    0, 2, /* names, addrs */
            0x12, 0x34, 0x56,                                      /* ports */
            1,    2,    3,    4,    5,  6, 7, 8, 0x09, 0x99,       /* octets */
            0xaa, 0xbb, 0xcc, 0xdd, 1,  2, 3,                      /* AS */
            17,
        };
        memcpy(q, rec, REC);
        q[14] = k; /* the winning source port: 1, then 2 */
        q += REC;
    }
    assert_int_equal(q - buf, (ptrdiff_t)len);
    struct decode_ctx *ctx = new_ctx(NULL);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, len, collect, &s);
    assert_int_equal(s.n, 2);
    for (unsigned i = 0; i < 2; i++) {
        const struct flow_rec *r = &s.r[i];
        assert_int_equal(r->sport, i + 1);
        assert_int_equal(r->bytes, 0x999);
        assert_int_equal(r->src_as, 0x010203);
        assert_int_equal(r->proto, 17);
    }
    no_errors(ctx);
    decode_ctx_free(ctx);
}

static void test_times(void **state)
{
    (void)state;
    unsigned kinds[] = {GEN_T_MS, GEN_T_SEC,   GEN_T_US,
                        GEN_T_NS, GEN_T_DELTA, GEN_T_UPTIME | GEN_T_SYSINIT};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct decode_ctx *ctx = new_ctx(NULL);
        uint8_t buf[4096];
        struct gen_flow f[3];
        fill(f, 3, false);
        for (size_t i = 0; i < 3; i++) {
            if (kinds[k] == GEN_T_SEC) { /* whole seconds only */
                f[i].start_ms -= f[i].start_ms % 1000;
                f[i].end_ms -= f[i].end_ms % 1000;
            }
            f[i].sysinit_ms = BASE_MS - 86400000;
        }
        struct gen_tmpl t;
        gen_tmpl_flow(&t, 300, GEN_IPFIX, kinds[k]);
        struct gen_msg m;
        gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 1, 0, BASE_MS, 0);
        gen_add_template(&m, &t);
        gen_add_data(&m, &t, f, 3);
        int len = gen_msg_end(&m);
        struct sink s = {0};
        decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
        assert_int_equal(s.n, 3);
        for (size_t i = 0; i < 3; i++)
            check_flow(&s.r[i], &f[i], 1);
        decode_ctx_free(ctx);
    }
}

/* Uptime times with systemInitTimeMilliseconds from options data. */
static void test_sysinit_options(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_flow f[2], o = {0};
    fill(f, 2, false);
    o.sysinit_ms = f[0].sysinit_ms = f[1].sysinit_ms = BASE_MS - 3600000;
    o.sampling_interval = 100;
    struct gen_tmpl ot, t;
    gen_tmpl_sampling(&ot, 500, GEN_IPFIX, GEN_S_SYSINIT | GEN_S_INTERVAL);
    gen_tmpl_flow(&t, 501, GEN_IPFIX, GEN_T_UPTIME);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 1, 0, BASE_MS, 0);
    gen_add_options_template(&m, &ot);
    gen_add_data(&m, &ot, &o, 1);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 2);
    int len = gen_msg_end(&m);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    check_flow(&s.r[0], &f[0], 100);
    check_flow(&s.r[1], &f[1], 100);
    no_errors(ctx);
    decode_ctx_free(ctx);
}

/* Every sampling statement: 34/35, 49/50, 305/306, 309/310 by domain and per sampler id
   (48, 302), inline 34 and 302 in the record, policy override over everything. */
static void test_sampling_ies(void **state)
{
    (void)state;
    struct {
        unsigned sopt, topt;
        struct gen_flow o;
        uint32_t want;
    } cases[] = {
        {GEN_S_INTERVAL, 0, {.sampling_interval = 100, .sampling_algo = 1}, 100},
        {GEN_S_RANDOM, 0, {.sampling_interval = 200, .sampling_algo = 2}, 200},
        {GEN_S_PKT, 0, {.pkt_interval = 1, .pkt_space = 99}, 100},
        {GEN_S_PKT, 0, {.pkt_interval = 2, .pkt_space = 2046}, 1024},
        {GEN_S_POP, 0, {.sampling_size = 1, .sampling_population = 4096}, 4096},
        {GEN_S_SAMPLER48 | GEN_S_INTERVAL,
         GEN_T_SAMPLER48,
         {.sampler_id = 5, .sampling_interval = 32},
         32},
        {GEN_S_SELECTOR302 | GEN_S_PKT,
         GEN_T_SELECTOR302,
         {.sampler_id = 7, .pkt_interval = 1, .pkt_space = 9},
         10},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct decode_ctx *ctx = new_ctx(NULL);
        uint8_t buf[4096];
        struct gen_flow f[2];
        fill(f, 2, false);
        f[0].sampler_id = f[1].sampler_id = cases[k].o.sampler_id;
        struct gen_tmpl ot, t;
        gen_tmpl_sampling(&ot, 600, GEN_IPFIX, cases[k].sopt);
        gen_tmpl_flow(&t, 601, GEN_IPFIX, cases[k].topt);
        struct gen_msg m;
        gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 3, 0, BASE_MS, 0);
        gen_add_options_template(&m, &ot);
        gen_add_data(&m, &ot, &cases[k].o, 1);
        gen_add_template(&m, &t);
        gen_add_data(&m, &t, f, 2);
        int len = gen_msg_end(&m);
        struct sink s = {0};
        decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
        assert_int_equal(s.n, 2);
        check_flow(&s.r[0], &f[0], cases[k].want);
        assert_int_equal(decode_counter(ctx, DC_OPTION_RECORDS), 1);
        assert_int_equal(decode_counter(ctx, DC_SAMPLING_UNKNOWN), 0);
        no_errors(ctx);
        decode_ctx_free(ctx);
    }
    /* inline samplingInterval in the data record beats the domain's rate */
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_flow f[1], o = {.sampling_interval = 100};
    fill(f, 1, false);
    f[0].sampling_interval = 3;
    struct gen_tmpl ot, t;
    gen_tmpl_sampling(&ot, 600, GEN_IPFIX, GEN_S_INTERVAL);
    gen_tmpl_flow(&t, 601, GEN_IPFIX, GEN_T_INLINE34);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 3, 0, BASE_MS, 0);
    gen_add_options_template(&m, &ot);
    gen_add_data(&m, &ot, &o, 1);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 1);
    int len = gen_msg_end(&m);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 1);
    check_flow(&s.r[0], &f[0], 3);
    decode_ctx_free(ctx);
}

static void test_withdrawal(void **state)
{
    (void)state;
    uint8_t buf[4096];
    struct gen_tmpl t1, t2, ot;
    gen_tmpl_flow(&t1, 256, GEN_IPFIX, 0);
    gen_tmpl_flow(&t2, 257, GEN_IPFIX, GEN_T_V6);
    gen_tmpl_sampling(&ot, 258, GEN_IPFIX, GEN_S_INTERVAL);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 0, 0, BASE_MS, 0);
    gen_add_template(&m, &t1);
    gen_add_template(&m, &t2);
    gen_add_options_template(&m, &ot);
    int tlen = gen_msg_end(&m);
    uint8_t wbuf[256], wall[256];
    gen_msg_begin(&m, wbuf, sizeof wbuf, GEN_IPFIX, 0, 0, BASE_MS, 0);
    gen_add_withdrawal(&m, 256, false);
    int wlen = gen_msg_end(&m);
    gen_msg_begin(&m, wall, sizeof wall, GEN_IPFIX, 0, 0, BASE_MS, 0);
    gen_add_withdrawal(&m, 2, false);
    gen_add_withdrawal(&m, 3, true);
    int alen = gen_msg_end(&m);
    struct sink s = {0};

    /* default: ignored over UDP (RFC 7011 8.4) */
    struct decode_ctx *ctx = new_ctx(NULL);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)tlen, collect, &s);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, wbuf, (size_t)wlen, collect, &s);
    assert_int_equal(decode_template_count(ctx), 3);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_WITHDRAWAL_IGNORED), 1);
    decode_ctx_free(ctx);

    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.ipfix_udp_withdrawal = true;
    ctx = new_ctx(&cfg);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)tlen, collect, &s);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, wbuf, (size_t)wlen, collect, &s);
    assert_int_equal(decode_template_count(ctx), 2);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_WITHDRAWN), 1);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, wall, (size_t)alen, collect, &s);
    assert_int_equal(decode_template_count(ctx), 0);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_WITHDRAWN), 3);
    no_errors(ctx);
    decode_ctx_free(ctx);
}

static void test_sequence(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_flow f[4];
    fill(f, 4, false);
    struct gen_tmpl t;
    gen_tmpl_flow(&t, 256, GEN_IPFIX, 0);
    struct gen_msg m;
    struct sink s = {0};
    uint32_t seqs[] = {1000, 1004, 1008, 1020, 1024};
    for (size_t i = 0; i < 5; i++) {
        gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 0, seqs[i], BASE_MS, 0);
        gen_add_template(&m, &t);
        gen_add_data(&m, &t, f, 4);
        int len = gen_msg_end(&m);
        decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    }
    assert_int_equal(decode_counter(ctx, DC_SEQ_LOST), 8);
    decode_ctx_free(ctx);
}

static void test_malformed(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_msg m;
    struct sink s = {0};
    /* options template with scope count 0, then one with scope count > field count */
    static const uint8_t scope0[] = {1, 0, 0, 1, 0, 0, 0, 34, 0, 4};
    static const uint8_t scope_big[] = {1, 1, 0, 1, 0, 2, 0, 34, 0, 4};
    /* field specifier running past the set */
    static const uint8_t cut[] = {1, 2, 0, 2, 0, 8, 0, 4, 0x80, 1, 0, 4, 0, 0};
    /* zero-length field, and a record length over the maximum */
    static const uint8_t zlen[] = {1, 3, 0, 1, 0, 8, 0, 0};
    static const uint8_t huge[] = {1, 4, 0, 2, 0, 1, 0xff, 0xf0, 0, 2, 0xff, 0xf0};
    /* each one makes its message malformed: counted once, nothing applied */
    const struct {
        uint16_t set;
        const uint8_t *b;
        size_t n;
    } bad[] = {{3, scope0, sizeof scope0},
               {3, scope_big, sizeof scope_big},
               {2, cut, sizeof cut},
               {2, zlen, sizeof zlen},
               {2, huge, sizeof huge}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 0, 0, BASE_MS, 0);
        gen_add_raw_set(&m, bad[i].set, bad[i].b, bad[i].n);
        int len = gen_msg_end(&m);
        decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATE_INVALID), i + 1);
        assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), i + 1);
    }
    /* a set id IPFIX does not use is skipped, not a malformed message */
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 0, 0, BASE_MS, 0);
    gen_add_raw_set(&m, 1, huge, 4);
    int len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_BAD_SET_ID), 1);
    assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), 5);
    assert_int_equal(decode_template_count(ctx), 0);
    /* a varlen record cut short */
    struct gen_tmpl t;
    gen_tmpl_flow(&t, 256, GEN_IPFIX, GEN_T_VARLEN);
    struct gen_flow f = {0};
    f.varlen_len = 40;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 0, 0, BASE_MS, 0);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, &f, 1);
    len = gen_msg_end(&m);
    /* shrink the data set by 10 bytes and the message with it */
    size_t set_off = (size_t)len - (4 + 4 + 4 + 2 + 2 + 1 + 1 + 8 + 8 + 1 + 40 + 8 + 8);
    buf[set_off + 3] = (uint8_t)(buf[set_off + 3] - 10);
    len -= 10;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_RECORD_SHORT), 1);
    assert_int_equal(s.n, 0);
    decode_datagram(ctx, exp_a, 4739, BASE_MS, buf, 15, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_SHORT_HEADER), 1);
    decode_ctx_free(ctx);
}

/* RFC 7011 8: a message found malformed anywhere changes nothing. Each variant carries, before
 * its fault, everything that would change state: a replaced template, a new one, options
 * data announcing a new sampling rate, data records, and withdrawals (honoured here). */
static void test_malformed_changes_nothing(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.ipfix_udp_withdrawal = true;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t buf[4096];
    struct mcn x;
    /* the state: template 256, options template 500, rate 10; 3 data records (seq next = 3) */
    mcn_begin(&x, ctx, GEN_IPFIX, 500, 4739, 0);
    struct gen_msg m;
    static const uint8_t zlen[] = {1, 9, 0, 2, 0, 8, 0, 4, 0, 1, 0, 0}; /* zero-length field */
    static const uint8_t cutf[] = {1, 9, 0, 3, 0, 8, 0, 4};             /* fields past the set */
    static const uint8_t low[] = {0, 9, 0, 0};                          /* withdrawal of id 9 */
    for (int v = 0; v < 5; v++) {
        gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 1, 3, BASE_MS + 1000, 0);
        mcn_changes(&x, &m);
        gen_add_withdrawal(&m, 3, true); /* all options templates */
        gen_add_withdrawal(&m, 256, false);
        if (v == 1)
            gen_add_raw_set(&m, 2, zlen, sizeof zlen);
        else if (v == 2)
            gen_add_raw_set(&m, 2, cutf, sizeof cutf);
        else if (v == 3)
            gen_add_raw_set(&m, 2, low, sizeof low);
        int len = gen_msg_end(&m);
        enum decode_counter why = DC_TEMPLATE_INVALID;
        if (v == 0) { /* three bytes after the last set */
            memset(buf + len, 0xee, 3);
            len += 3;
            why = DC_BAD_SET_LENGTH;
        } else if (v == 4) {     /* the last set's length runs past the message */
            buf[len - 6] = 0x7f; /* (the withdrawal set's length, high byte) */
            why = DC_BAD_SET_LENGTH;
        }
        buf[2] = (uint8_t)(len >> 8);
        buf[3] = (uint8_t)len;
        uint64_t before = decode_counter(ctx, why);
        decode_datagram(ctx, exp_a, 4739, BASE_MS + 1000, buf, (size_t)len, collect, &x.s);
        assert_int_equal(decode_counter(ctx, why), before + 1);
        assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), (uint64_t)v + 1);
        assert_int_equal(x.s.n, 2);
        assert_int_equal(decode_template_count(ctx), 2);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATES_ADDED), 2);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REPLACED), 0);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATES_WITHDRAWN), 0);
        assert_int_equal(decode_counter(ctx, DC_OPTION_RECORDS), 1);
    }
    /* 256 still has its v4 layout, the rate is still 10, 257 is unknown, the sequence did
       not move: nothing of the five messages was applied */
    mcn_end(&x, 3, 0, 0);
    decode_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_biflow),
        cmocka_unit_test(test_biflow_direction),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_sysinit_options),
        cmocka_unit_test(test_sampling_ies),
        cmocka_unit_test(test_withdrawal),
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_malformed_changes_nothing),
        cmocka_unit_test(test_section_beside_fields),
        cmocka_unit_test(test_varlen_duplicate_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
