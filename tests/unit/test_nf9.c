/* test_nf9.c: NetFlow v9 decoding (templates, options/sampling, padding, pending, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#define MAXR 256
#define DT_VERSION 9
#include "decode_test_util.h"

static void test_template_and_data(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_flow f[10], f6[3];
    fill(f, 10, false);
    fill(f6, 3, true);
    struct gen_tmpl t4, t6;
    gen_tmpl_flow(&t4, 256, GEN_V9, GEN_T_AS);
    gen_tmpl_flow(&t6, 257, GEN_V9, GEN_T_V6 | GEN_T_REDUCED);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 7, 0, BASE_MS, 3600000);
    gen_add_template(&m, &t4);
    gen_add_template(&m, &t6);
    gen_add_data(&m, &t4, f, 10);
    gen_add_padding(&m, 3);
    gen_add_data(&m, &t6, f6, 3);
    int len = gen_msg_end(&m);
    assert_true(len > 0);
    buf[3] = 3; /* a count of flowsets (not records), as many exporters send, is fine */
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 13);
    for (size_t i = 0; i < 10; i++) {
        check_flow(&s.r[i], &f[i], 1);
        assert_int_equal(s.r[i].src_as, f[i].src_as);
        assert_int_equal(s.r[i].flags, FLOW_F_SAMPLING_UNKNOWN);
    }
    for (size_t i = 0; i < 3; i++) {
        check_flow(&s.r[10 + i], &f6[i], 1);
        assert_true(s.r[10 + i].flags & FLOW_F_V6);
    }
    assert_int_equal(decode_counter(ctx, DC_SAMPLING_UNKNOWN), 13);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_ADDED), 2);
    assert_int_equal(decode_template_count(ctx), 2);
    for (int c = DC_FIRST_ERROR; c < DC_COUNT; c++)
        assert_int_equal(decode_counter(ctx, (enum decode_counter)c), 0);
    /* a count that is neither is counted, but the packet is decoded all the same */
    buf[3] = 99;
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 26);
    assert_int_equal(decode_counter(ctx, DC_BAD_COUNT), 1);
    /* the same template again is a refresh */
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 7, 1, BASE_MS, 3600000);
    gen_add_template(&m, &t4);
    len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REFRESHED), 3);
    decode_ctx_free(ctx);
}

/* Options data announce the rate for the source id; 48 sampler ids pick among several. */
static void test_options_sampling(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_flow f[4], o[2];
    fill(f, 4, false);
    memset(o, 0, sizeof o);
    struct gen_tmpl ot, ot48, t, t48, t34;
    gen_tmpl_sampling(&ot, 300, GEN_V9, GEN_S_INTERVAL);
    gen_tmpl_sampling(&ot48, 301, GEN_V9, GEN_S_SAMPLER48 | GEN_S_RANDOM);
    gen_tmpl_flow(&t, 256, GEN_V9, 0);
    gen_tmpl_flow(&t48, 257, GEN_V9, GEN_T_SAMPLER48);
    gen_tmpl_flow(&t34, 258, GEN_V9, GEN_T_INLINE34);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 1, 0, BASE_MS, 100000);
    gen_add_options_template(&m, &ot);
    gen_add_options_template(&m, &ot48);
    o[0].sampling_interval = 1000;
    o[0].sampling_algo = 1;
    gen_add_data(&m, &ot, o, 1);
    o[0].sampler_id = 3;
    o[0].sampling_interval = 50;
    o[1].sampler_id = 4;
    o[1].sampling_interval = 64;
    gen_add_data(&m, &ot48, o, 2);
    gen_add_template(&m, &t);
    gen_add_template(&m, &t48);
    gen_add_template(&m, &t34);
    gen_add_data(&m, &t, f, 1);
    f[1].sampler_id = 4;
    f[2].sampler_id = 9; /* unknown sampler: falls back to the source's rate */
    gen_add_data(&m, &t48, f + 1, 2);
    f[3].sampling_interval = 10; /* inline rate */
    gen_add_data(&m, &t34, f + 3, 1);
    int len = gen_msg_end(&m);
    assert_true(len > 0);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 4);
    check_flow(&s.r[0], &f[0], 1000);
    check_flow(&s.r[1], &f[1], 64);
    check_flow(&s.r[2], &f[2], 1000);
    check_flow(&s.r[3], &f[3], 10);
    assert_int_equal(decode_counter(ctx, DC_OPTION_RECORDS), 3);
    assert_int_equal(decode_counter(ctx, DC_SAMPLING_UNKNOWN), 0);
    /* another source id of the same exporter knows no rate */
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 2, 0, BASE_MS, 100000);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 1);
    len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 5);
    assert_true(s.r[4].flags & FLOW_F_SAMPLING_UNKNOWN);
    decode_ctx_free(ctx);
}

/* Data before template: buffered, decoded when the template arrives. */
static void test_pending(void **state)
{
    (void)state;
    uint8_t buf[4096];
    struct gen_flow f[5];
    fill(f, 5, false);
    struct gen_tmpl t;
    gen_tmpl_flow(&t, 400, GEN_V9, 0);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 5000000);
    gen_add_data(&m, &t, f, 5);
    int dlen = gen_msg_end(&m);
    uint8_t tbuf[512];
    gen_msg_begin(&m, tbuf, sizeof tbuf, GEN_V9, 0, 1, BASE_MS + 1000, 5001000);
    gen_add_template(&m, &t);
    int tlen = gen_msg_end(&m);

    struct decode_ctx *ctx = new_ctx(NULL);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)dlen, collect, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(decode_counter(ctx, DC_NO_TEMPLATE), 1);
    assert_int_equal(decode_counter(ctx, DC_PENDING_BUFFERED), 1);
    decode_datagram(ctx, exp_a, 2055, BASE_MS + 1000, tbuf, (size_t)tlen, collect, &s);
    assert_int_equal(s.n, 5);
    for (size_t i = 0; i < 5; i++)
        check_flow(&s.r[i], &f[i], 1); /* times from the buffered message's own header */
    assert_int_equal(decode_counter(ctx, DC_PENDING_DECODED), 1);
    decode_ctx_free(ctx);

    /* same, without buffering: counted, never misdecoded */
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.pending_max = 0;
    ctx = new_ctx(&cfg);
    s.n = 0;
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)dlen, collect, &s);
    decode_datagram(ctx, exp_a, 2055, BASE_MS + 1000, tbuf, (size_t)tlen, collect, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(decode_counter(ctx, DC_NO_TEMPLATE), 1);
    decode_ctx_free(ctx);

    /* a template from another exporter does not unlock it */
    ctx = new_ctx(NULL);
    s.n = 0;
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)dlen, collect, &s);
    decode_datagram(ctx, exp_b, 2055, BASE_MS + 1000, tbuf, (size_t)tlen, collect, &s);
    assert_int_equal(s.n, 0);
    /* and the buffered set expires */
    decode_expire(ctx, BASE_MS + 60000);
    assert_int_equal(decode_counter(ctx, DC_PENDING_EXPIRED), 1);
    decode_datagram(ctx, exp_a, 2055, BASE_MS + 61000, tbuf, (size_t)tlen, collect, &s);
    assert_int_equal(s.n, 0);
    decode_ctx_free(ctx);
}

/* Two exporters use template id 256 with different layouts. */
static void test_shared_ids(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t a[4096], b[4096];
    struct gen_flow f[2], f6[2];
    fill(f, 2, false);
    fill(f6, 2, true);
    struct gen_tmpl t4, t6;
    gen_tmpl_flow(&t4, 256, GEN_V9, 0);
    gen_tmpl_flow(&t6, 256, GEN_V9, GEN_T_V6 | GEN_T_AS);
    struct gen_msg m;
    gen_msg_begin(&m, a, sizeof a, GEN_V9, 0, 0, BASE_MS, 10000);
    gen_add_template(&m, &t4);
    int alen = gen_msg_end(&m);
    gen_msg_begin(&m, b, sizeof b, GEN_V9, 0, 0, BASE_MS, 10000);
    gen_add_template(&m, &t6);
    int blen = gen_msg_end(&m);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, a, (size_t)alen, collect, &s);
    decode_datagram(ctx, exp_b, 2055, BASE_MS, b, (size_t)blen, collect, &s);
    gen_msg_begin(&m, a, sizeof a, GEN_V9, 0, 1, BASE_MS, 10000);
    gen_add_data(&m, &t4, f, 2);
    alen = gen_msg_end(&m);
    gen_msg_begin(&m, b, sizeof b, GEN_V9, 0, 1, BASE_MS, 10000);
    gen_add_data(&m, &t6, f6, 2);
    blen = gen_msg_end(&m);
    decode_datagram(ctx, exp_b, 2055, BASE_MS, b, (size_t)blen, collect, &s);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, a, (size_t)alen, collect, &s);
    assert_int_equal(s.n, 4);
    check_flow(&s.r[0], &f6[0], 1);
    assert_int_equal(s.r[0].exporter, 2);
    assert_int_equal(s.r[0].dst_as, f6[0].dst_as);
    check_flow(&s.r[2], &f[0], 1);
    assert_int_equal(s.r[2].exporter, 1);
    assert_int_equal(decode_template_count(ctx), 2);
    decode_ctx_free(ctx);
}

static void test_field_variants(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct gen_flow f[2];
    fill(f, 2, false);
    struct gen_tmpl t, ti;
    /* reduced-size: 3-byte bytes, 1-byte packets; OUT counters; absolute seconds */
    gen_tmpl_init(&t, 300);
    gen_tmpl_add(&t, 8, 4, 0);
    gen_tmpl_add(&t, 12, 4, 0);
    gen_tmpl_add(&t, 23, 3, 0);
    gen_tmpl_add(&t, 24, 1, 0);
    gen_tmpl_add(&t, 150, 4, 0);
    gen_tmpl_add(&t, 151, 4, 0);
    gen_tmpl_add(&t, 0, 0, 0); /* filler: ignored */
    gen_tmpl_flow(&ti, 301, GEN_V9, GEN_T_ICMP);
    f[0].bytes = 0x123456;
    f[0].packets = 200;
    f[0].start_ms = BASE_MS - 5000;
    f[0].end_ms = BASE_MS - 1000;
    f[1].proto = 1;
    f[1].icmp = 0x0800;
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 10000);
    gen_add_template(&m, &t);
    gen_add_template(&m, &ti);
    gen_add_data(&m, &t, f, 1);
    gen_add_data(&m, &ti, f + 1, 1);
    int len = gen_msg_end(&m);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].bytes, 0x123456);
    assert_int_equal(s.r[0].packets, 200);
    assert_int_equal(s.r[0].first_ms, BASE_MS - 5000);
    assert_int_equal(s.r[0].last_ms, BASE_MS - 1000);
    assert_int_equal(s.r[1].dport, 0x0800);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATE_INVALID), 0);
    decode_ctx_free(ctx);
}

static void test_invalid_templates(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct sink s = {0};
    struct gen_tmpl t;
    struct gen_msg m;
    /* zero-length real field */
    gen_tmpl_init(&t, 256);
    gen_tmpl_add(&t, 8, 4, 0);
    gen_tmpl_add(&t, 1, 0, 0);
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 1);
    gen_add_template(&m, &t);
    int len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATE_INVALID), 1);
    /* template id < 256, field count 0: each makes its packet malformed (counted once) */
    static const uint8_t low_id[] = {0, 200, 0, 1, 0, 8, 0, 4};
    static const uint8_t zero_cnt[] = {1, 0, 0, 0, 1, 1, 0, 1, 0, 8, 0, 4};
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 1);
    gen_add_raw_set(&m, 0, low_id, sizeof low_id);
    len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 1);
    gen_add_raw_set(&m, 0, zero_cnt, sizeof zero_cnt);
    len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATE_INVALID), 3);
    assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), 3);
    /* options template with scope length 0 */
    static const uint8_t opt0[] = {1, 0, 0, 0, 0, 4, 0, 34, 0, 4, 0, 0};
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 1);
    gen_add_raw_set(&m, 1, opt0, sizeof opt0);
    len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATE_INVALID), 4);
    /* a reserved flowset id is skipped (not malformed); then a set running past the end */
    gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 0, 0, BASE_MS, 1);
    gen_add_raw_set(&m, 7, opt0, 4);
    len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_BAD_SET_ID), 1);
    assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), 4);
    buf[len - 6] = 0x40; /* flowset length 0x40xx > datagram */
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_BAD_SET_LENGTH), 1);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, 19, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_SHORT_HEADER), 1);
    assert_int_equal(decode_template_count(ctx), 0);
    assert_int_equal(s.n, 0);
    decode_ctx_free(ctx);
}

/* A malformed packet changes nothing (the same rule as IPFIX, RFC 7011 8): the templates,
 * options data and records before its fault are not applied. */
static void test_malformed_changes_nothing(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[4096];
    struct mcn x;
    mcn_begin(&x, ctx, GEN_V9, 300, 2055, 100000);
    struct gen_msg m;
    static const uint8_t zlen[] = {1, 9, 0, 2, 0, 8, 0, 4, 0, 1, 0, 0};
    static const uint8_t cut[] = {1, 9, 0, 9, 0, 8, 0, 4};
    for (int v = 0; v < 3; v++) {
        gen_msg_begin(&m, buf, sizeof buf, GEN_V9, 1, 1, BASE_MS + 1000, 101000);
        mcn_changes(&x, &m);
        if (v < 2)
            gen_add_raw_set(&m, 0, v ? cut : zlen, v ? sizeof cut : sizeof zlen);
        int len = gen_msg_end(&m);
        if (v == 2) { /* non-zero bytes that are no flowset after the last one */
            memset(buf + len, 0xee, 5);
            len += 5;
        }
        decode_datagram(ctx, exp_a, 2055, BASE_MS + 1000, buf, (size_t)len, collect, &x.s);
        assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), (uint64_t)v + 1);
        assert_int_equal(x.s.n, 2);
        assert_int_equal(decode_template_count(ctx), 2);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REPLACED), 0);
        assert_int_equal(decode_counter(ctx, DC_OPTION_RECORDS), 1);
    }
    assert_int_equal(decode_counter(ctx, DC_TEMPLATE_INVALID), 2);
    assert_int_equal(decode_counter(ctx, DC_BAD_SET_LENGTH), 1);
    /* zero bytes after the last flowset are padding: that packet is applied */
    mcn_end(&x, 1, 102000, 3);
    assert_int_equal(decode_counter(ctx, DC_MESSAGES_MALFORMED), 3);
    decode_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_and_data),
        cmocka_unit_test(test_options_sampling),
        cmocka_unit_test(test_pending),
        cmocka_unit_test(test_shared_ids),
        cmocka_unit_test(test_field_variants),
        cmocka_unit_test(test_invalid_templates),
        cmocka_unit_test(test_malformed_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
