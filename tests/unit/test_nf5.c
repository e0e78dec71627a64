/* test_nf5.c: NetFlow v5 decoding with datagrams built by the generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#include "decode_test_util.h"

static int build(uint8_t *buf, size_t cap, struct gen_flow *f, size_t n, uint16_t sampling,
                 uint32_t seq)
{
    struct gen_nf5_hdr h = {
        .uptime_ms = 3600000, .unix_ms = BASE_MS + 123, .seq = seq, .sampling = sampling};
    for (size_t i = 0; i < n; i++)
        gen_flow_fill(&f[i], 5, (uint32_t)i, false, BASE_MS);
    return gen_nf5(buf, cap, &h, f, n);
}

static void test_fields(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[2048];
    struct gen_flow f[3];
    int len = build(buf, sizeof buf, f, 3, 0, 0);
    assert_true(len == 24 + 3 * 48);
    f[1].proto = 6;
    f[1].tcp_flags = 0x12;
    f[1].src_as = 65001;
    f[1].dst_as = 3320;
    f[1].in_if = 517;
    f[1].out_if = 12;
    struct gen_nf5_hdr h = {.uptime_ms = 3600000, .unix_ms = BASE_MS + 123, .seq = 0};
    len = gen_nf5(buf, sizeof buf, &h, f, 3);
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_memory_equal(s.r[i].src, f[i].src, 16);
        assert_memory_equal(s.r[i].dst, f[i].dst, 16);
        assert_int_equal(s.r[i].sport, f[i].sport);
        assert_int_equal(s.r[i].dport, f[i].dport);
        assert_int_equal(s.r[i].proto, f[i].proto);
        assert_int_equal(s.r[i].bytes, f[i].bytes);
        assert_int_equal(s.r[i].packets, f[i].packets);
        assert_int_equal(s.r[i].first_ms, f[i].start_ms);
        assert_int_equal(s.r[i].last_ms, f[i].end_ms);
        assert_int_equal(s.r[i].sampling, 1);
        assert_int_equal(s.r[i].flags, 0); /* header 0: unsampled, known */
        assert_int_equal(s.r[i].exporter, 1);
    }
    assert_int_equal(s.r[1].tcp_flags, 0x12);
    assert_int_equal(s.r[1].src_as, 65001);
    assert_int_equal(s.r[1].dst_as, 3320);
    assert_int_equal(s.r[1].in_if, 517); /* the input interface's SNMP index */
    assert_int_equal(s.r[0].in_if, 0);
    uint8_t ea[16];
    assert_true(decode_exporter_addr(ctx, s.r[1].exporter, ea));
    assert_memory_equal(ea, exp_a, 16);
    assert_false(decode_exporter_addr(ctx, 0, ea));
    assert_false(decode_exporter_addr(ctx, 2, ea));
    assert_int_equal(decode_counter(ctx, DC_V5_RECORDS), 3);
    assert_int_equal(decode_counter(ctx, DC_V5_DATAGRAMS), 1);
    assert_int_equal(decode_counter(ctx, DC_SAMPLING_UNKNOWN), 0);
    decode_ctx_free(ctx);
}

static void test_header_sampling(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[2048];
    struct gen_flow f[2];
    int len = build(buf, sizeof buf, f, 2, 0x4000 | 100, 0); /* mode 1 (deterministic), 1:100 */
    struct sink s = {0};
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].sampling, 100);
    assert_int_equal(s.r[0].bytes, f[0].bytes * 100);
    assert_int_equal(s.r[0].packets, f[0].packets * 100);
    decode_ctx_free(ctx);
}

static void policy_fn(void *arg, const uint8_t addr[16], struct exporter_policy *out)
{
    const struct exporter_policy *p = arg;
    if (addr[15] == 1)
        *out = *p;
}

static void test_policy(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    struct exporter_policy pol = {.allowed = true, .sampling_default = 512};
    cfg.policy = policy_fn;
    cfg.policy_arg = &pol;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t buf[2048];
    struct gen_flow f[1];
    struct sink s = {0};
    /* header 0 + policy default: the default is an explicit statement, it wins */
    int len = build(buf, sizeof buf, f, 1, 0, 0);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.r[0].sampling, 512);
    /* header rate beats the default */
    len = build(buf, sizeof buf, f, 1, 10, 1);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.r[1].sampling, 10);
    decode_ctx_free(ctx);

    /* override beats the header */
    pol = (struct exporter_policy){.allowed = true, .sampling_override = 7};
    ctx = new_ctx(&cfg);
    s.n = 0;
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.r[0].sampling, 7);
    assert_int_equal(s.r[0].bytes, f[0].bytes * 7);
    decode_ctx_free(ctx);

    /* denied */
    pol = (struct exporter_policy){.allowed = false};
    ctx = new_ctx(&cfg);
    s.n = 0;
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_DENIED), 2);
    decode_ctx_free(ctx);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[2048];
    struct gen_flow f[4];
    struct sink s = {0};
    int len = build(buf, sizeof buf, f, 4, 0, 0);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len - 1, collect, &s); /* cut */
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, 23, collect, &s);
    buf[3] = 0; /* count 0 */
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    buf[0] = 0x01;
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, 1, collect, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(decode_counter(ctx, DC_BAD_LENGTH), 2);
    assert_int_equal(decode_counter(ctx, DC_SHORT_HEADER), 2);
    assert_int_equal(decode_counter(ctx, DC_BAD_VERSION), 1);
    assert_true(decode_counter_is_error(DC_BAD_LENGTH));
    assert_false(decode_counter_is_error(DC_RECORDS));
    decode_ctx_free(ctx);
}

static void test_sequence(void **state)
{
    (void)state;
    struct decode_ctx *ctx = new_ctx(NULL);
    uint8_t buf[2048];
    struct gen_flow f[3];
    struct sink s = {0};
    int len = build(buf, sizeof buf, f, 3, 0, 100);
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    len = build(buf, sizeof buf, f, 3, 0, 103); /* in order */
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    len = build(buf, sizeof buf, f, 3, 0, 116); /* 10 lost */
    decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_SEQ_LOST), 10);
    struct decode_exporter_stats st[2];
    assert_int_equal(decode_exporters(ctx, st, 2), 1);
    assert_int_equal(st[0].seq_lost, 10);
    assert_int_equal(st[0].records, 9);
    assert_int_equal(st[0].datagrams, 3);
    assert_memory_equal(st[0].addr, exp_a, 16);
    decode_ctx_free(ctx);
}

static void test_counter_names(void **state)
{
    (void)state;
    for (int c = 0; c < DC_COUNT; c++) {
        const char *n = decode_counter_name((enum decode_counter)c);
        assert_non_null(n);
        assert_true(strlen(n) > 0);
        for (const char *p = n; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        for (int d = 0; d < c; d++)
            assert_string_not_equal(n, decode_counter_name((enum decode_counter)d));
    }
}

/* Records more than 24 h from the export header's time: flagged and counted per exporter when
 * the check is on (daemon), times kept as sent; no flag with the check off (replay). */
static void test_clock_skew(void **state)
{
    (void)state;
    for (int on = 0; on < 2; on++) {
        struct decode_cfg cfg;
        decode_cfg_defaults(&cfg);
        cfg.clock_skew_ms = on ? DECODE_CLOCK_SKEW_MS : 0;
        struct decode_ctx *ctx = new_ctx(&cfg);
        uint8_t buf[2048];
        struct gen_flow f[3];
        for (size_t i = 0; i < 3; i++)
            gen_flow_fill(&f[i], 5, (uint32_t)i, false, BASE_MS);
        /* flow 0: 25 h before the header; flow 1: 23 h before; flow 2: 25 h after */
        f[0].start_ms = f[0].end_ms = BASE_MS - 25 * 3600000ull;
        f[1].start_ms = f[1].end_ms = BASE_MS - 23 * 3600000ull;
        f[2].start_ms = f[2].end_ms = BASE_MS + 25 * 3600000ull;
        struct gen_nf5_hdr h = {.uptime_ms = 30u * 3600000, .unix_ms = BASE_MS, .seq = 0};
        int len = gen_nf5(buf, sizeof buf, &h, f, 3);
        assert_true(len > 0);
        struct sink s = {0};
        decode_datagram(ctx, exp_a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
        assert_int_equal(s.n, 3);
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(s.r[i].first_ms, f[i].start_ms); /* never moved */
            assert_int_equal(s.r[i].last_ms, f[i].end_ms);
            bool want = on && i != 1;
            assert_int_equal(!!(s.r[i].flags & FLOW_F_CLOCK_SKEW), want);
        }
        assert_int_equal(decode_counter(ctx, DC_CLOCK_SKEW), on ? 2 : 0);
        assert_false(decode_counter_is_error(DC_CLOCK_SKEW));
        struct decode_exporter_stats st[2];
        assert_int_equal(decode_exporters(ctx, st, 2), 1);
        assert_int_equal(st[0].clock_skew, on ? 2 : 0);
        decode_ctx_free(ctx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),          cmocka_unit_test(test_clock_skew),
        cmocka_unit_test(test_header_sampling), cmocka_unit_test(test_policy),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_counter_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
