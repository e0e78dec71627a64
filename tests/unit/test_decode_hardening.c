/* test_decode_hardening.c: the decoder's tables under floods of spoofed exporters and
 * observation domains: real exporters keep their templates, new real ones still get in, idle
 * ones are evicted with everything they hold, memory stays under decode_memory_bound(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#include "decode_test_util.h"

static size_t g_records;

static void count(void *arg, struct flow_rec *rec)
{
    (void)arg;
    (void)rec;
    g_records++;
}

/* IPFIX template + 3 data records in domain dom. */
static int valid_msg(uint8_t *buf, size_t cap, uint32_t dom, uint16_t tid, uint64_t ms)
{
    return dt_msg(buf, cap, GEN_IPFIX, dom, tid, 0, ms, 0, true, 3, 7);
}

/* Data only (template must be known). */
static int data_msg(uint8_t *buf, size_t cap, uint32_t dom, uint16_t tid, uint64_t ms)
{
    return dt_msg(buf, cap, GEN_IPFIX, dom, tid, 0, ms, 0, false, 3, 7);
}

/* An IPFIX header with no sets: what a spoofing flood costs least to send. */
static size_t empty_msg(uint8_t *buf, uint32_t dom)
{
    struct gen_msg m;
    gen_msg_begin(&m, buf, 64, GEN_IPFIX, dom, 0, BASE_MS, 0);
    return (size_t)gen_msg_end(&m);
}

static void test_spoofed_exporter_flood(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 8;
    struct decode_ctx *ctx = new_ctx(&cfg);
    size_t bound = decode_memory_bound(&cfg);
    uint8_t real[16], real2[16], spoof[16], buf[2048];
    gen_v4(real, 0xc6336401u);
    gen_v4(real2, 0xc6336402u);
    int len = valid_msg(buf, sizeof buf, 1, 300, BASE_MS);
    g_records = 0;
    decode_datagram(ctx, real, 4739, BASE_MS, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 3);
    uint8_t e[64];
    size_t elen = empty_msg(e, 9);
    for (uint32_t i = 0; i < 100000; i++) {
        gen_v4(spoof, 0x0a000000u + i);
        decode_datagram(ctx, spoof, 4739, BASE_MS + 1000, e, elen, count, NULL);
        assert_true(decode_memory(ctx) <= bound);
    }
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_LIMIT), 0);
    assert_true(decode_counter(ctx, DC_EXPORTERS_EVICTED) >= 100000 - 8);
    /* the established exporter kept its template: data alone decodes */
    len = data_msg(buf, sizeof buf, 1, 300, BASE_MS + 2000);
    g_records = 0;
    decode_datagram(ctx, real, 4739, BASE_MS + 2000, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 3);
    /* a new real exporter still gets in after the flood */
    len = valid_msg(buf, sizeof buf, 1, 300, BASE_MS + 3000);
    decode_datagram(ctx, real2, 4739, BASE_MS + 3000, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 6);
    assert_int_equal(decode_template_count(ctx), 2);
    struct decode_exporter_stats st[8];
    assert_int_equal(decode_exporters(ctx, st, 8), 8);
    /* every surviving exporter is still found (the hash table survived the deletions) */
    size_t found = 0;
    for (size_t i = 0; i < 8; i++) {
        uint64_t before = st[i].datagrams;
        decode_datagram(ctx, st[i].addr, 4739, BASE_MS + 4000, e, elen, count, NULL);
        struct decode_exporter_stats st2[8];
        decode_exporters(ctx, st2, 8);
        found += st2[i].datagrams == before + 1;
    }
    assert_int_equal(found, 8);
    decode_ctx_free(ctx);
}

static void deny_10(void *arg, const uint8_t addr[16], struct exporter_policy *out)
{
    (void)arg;
    out->allowed = addr[12] != 10;
}

static void test_denied_sources_do_not_lock_out(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 4;
    cfg.policy = deny_10;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t spoof[16], real[16], buf[2048], e[64];
    size_t elen = empty_msg(e, 1);
    for (uint32_t i = 0; i < 5000; i++) {
        gen_v4(spoof, 0x0a000000u + i);
        decode_datagram(ctx, spoof, 4739, BASE_MS, e, elen, count, NULL);
    }
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_DENIED), 5000);
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_LIMIT), 0);
    gen_v4(real, 0xc6336401u);
    int len = valid_msg(buf, sizeof buf, 1, 256, BASE_MS);
    g_records = 0;
    decode_datagram(ctx, real, 4739, BASE_MS, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 3);
    decode_ctx_free(ctx);
}

static void test_idle_exporter_evicted(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 3;
    cfg.template_lifetime_ms = 60000;
    cfg.pending_max = 16;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], buf[2048];
    g_records = 0;
    /* three proven exporters, each with a template and a pending set */
    for (uint32_t i = 0; i < 3; i++) {
        gen_v4(a, 0xc6336400u + i);
        int len = valid_msg(buf, sizeof buf, 1, 256, BASE_MS + i);
        decode_datagram(ctx, a, 4739, BASE_MS + i, buf, (size_t)len, count, NULL);
        len = data_msg(buf, sizeof buf, 1, 999, BASE_MS + i);
        decode_datagram(ctx, a, 4739, BASE_MS + i, buf, (size_t)len, count, NULL);
    }
    assert_int_equal(decode_template_count(ctx), 3);
    size_t mem_full = decode_memory(ctx);
    /* a fourth one while all are busy: refused, nobody loses anything */
    gen_v4(a, 0xc6336409u);
    int len = valid_msg(buf, sizeof buf, 1, 256, BASE_MS + 10);
    decode_datagram(ctx, a, 4739, BASE_MS + 10, buf, (size_t)len, count, NULL);
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_LIMIT), 1);
    assert_int_equal(decode_template_count(ctx), 3);
    /* exporters 1 and 2 keep talking; 0 goes quiet past the template lifetime */
    for (uint32_t i = 1; i < 3; i++) {
        gen_v4(a, 0xc6336400u + i);
        len = valid_msg(buf, sizeof buf, 1, 256, BASE_MS + 50000);
        decode_datagram(ctx, a, 4739, BASE_MS + 50000, buf, (size_t)len, count, NULL);
    }
    gen_v4(a, 0xc6336409u);
    len = valid_msg(buf, sizeof buf, 1, 256, BASE_MS + 70000);
    g_records = 0;
    decode_datagram(ctx, a, 4739, BASE_MS + 70000, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 3);
    assert_int_equal(decode_counter(ctx, DC_EXPORTERS_EVICTED), 1);
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_LIMIT), 1);
    assert_int_equal(decode_template_count(ctx), 3); /* 0's freed, the new one's added */
    assert_true(decode_memory(ctx) <= mem_full + 64);
    struct decode_exporter_stats st[4];
    assert_int_equal(decode_exporters(ctx, st, 4), 3);
    uint8_t want[16];
    gen_v4(want, 0xc6336409u);
    assert_memory_equal(st[0].addr, want, 16); /* took slot 0 */
    assert_int_equal(st[0].templates, 1);
    /* the evicted exporter comes back as a new one */
    gen_v4(a, 0xc6336400u);
    len = data_msg(buf, sizeof buf, 1, 256, BASE_MS + 70001);
    decode_datagram(ctx, a, 4739, BASE_MS + 70001, buf, (size_t)len, count, NULL);
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_LIMIT), 2); /* nobody idle or unproven */
    decode_ctx_free(ctx);
}

static void test_domain_flood(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_domains_per_exporter = 4;
    struct decode_ctx *ctx = new_ctx(&cfg);
    size_t bound = decode_memory_bound(&cfg);
    uint8_t a[16], buf[2048], e[64];
    gen_v4(a, 0xc6336401u);
    int len = valid_msg(buf, sizeof buf, 1, 256, BASE_MS);
    g_records = 0;
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, count, NULL);
    for (uint32_t d = 100; d < 10100; d++) {
        size_t elen = empty_msg(e, d);
        decode_datagram(ctx, a, 4739, BASE_MS + d, e, elen, count, NULL);
    }
    assert_true(decode_memory(ctx) <= bound);
    assert_int_equal(decode_counter(ctx, DC_DOMAIN_LIMIT), 0);
    assert_true(decode_counter(ctx, DC_DOMAINS_EVICTED) >= 10000 - 3);
    /* domain 1 kept its template; a new domain with a template still gets in */
    len = data_msg(buf, sizeof buf, 1, 256, BASE_MS + 20000);
    decode_datagram(ctx, a, 4739, BASE_MS + 20000, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 6);
    len = valid_msg(buf, sizeof buf, 2, 256, BASE_MS + 20001);
    decode_datagram(ctx, a, 4739, BASE_MS + 20001, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 9);
    /* domains that hold templates are never pushed out */
    for (uint32_t d = 3; d < 10; d++) {
        len = valid_msg(buf, sizeof buf, d, 256, BASE_MS + 20002);
        decode_datagram(ctx, a, 4739, BASE_MS + 20002, buf, (size_t)len, count, NULL);
    }
    assert_true(decode_counter(ctx, DC_DOMAIN_LIMIT) > 0);
    len = data_msg(buf, sizeof buf, 1, 256, BASE_MS + 20003);
    decode_datagram(ctx, a, 4739, BASE_MS + 20003, buf, (size_t)len, count, NULL);
    assert_int_equal(g_records, 9 + 2 * 3 + 3);
    decode_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spoofed_exporter_flood),
        cmocka_unit_test(test_denied_sources_do_not_lock_out),
        cmocka_unit_test(test_idle_exporter_evicted),
        cmocka_unit_test(test_domain_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
