/* test_template_cache.c: template lifetime, replacement, limits, pending bounds, and memory
 * staying under decode_memory_bound() under floods of template ids, domains and exporters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#include "decode_test_util.h"

static void exporter_addr(uint8_t a[16], uint32_t i)
{
    gen_v4(a, 0xc6336400u + i); /* 198.51.100.0 + i */
}

static int tmpl_msg(uint8_t *buf, size_t cap, uint32_t domain, uint16_t tid, unsigned opts,
                    uint64_t ms)
{
    return dt_msg(buf, cap, GEN_V9, domain, tid, opts, ms, 100000, true, 0, 0);
}

static int data_msg(uint8_t *buf, size_t cap, uint32_t domain, uint16_t tid, unsigned opts,
                    uint64_t ms)
{
    return dt_msg(buf, cap, GEN_V9, domain, tid, opts, ms, 100000, false, 2, 1);
}

static void test_lifetime_and_replace(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.template_lifetime_ms = 60000;
    cfg.pending_max = 0;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], buf[2048];
    exporter_addr(a, 1);
    struct sink s = {0};
    int len = tmpl_msg(buf, sizeof buf, 0, 256, 0, BASE_MS);
    decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    len = data_msg(buf, sizeof buf, 0, 256, 0, BASE_MS + 59000);
    decode_datagram(ctx, a, 2055, BASE_MS + 59000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    /* lazily expired on lookup */
    decode_datagram(ctx, a, 2055, BASE_MS + 61000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 1);
    assert_int_equal(decode_counter(ctx, DC_NO_TEMPLATE), 1);
    assert_int_equal(decode_template_count(ctx), 0);
    /* expired by decode_expire */
    len = tmpl_msg(buf, sizeof buf, 0, 256, 0, BASE_MS + 70000);
    decode_datagram(ctx, a, 2055, BASE_MS + 70000, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_template_count(ctx), 1);
    decode_expire(ctx, BASE_MS + 100000);
    assert_int_equal(decode_template_count(ctx), 1);
    decode_expire(ctx, BASE_MS + 140000);
    assert_int_equal(decode_template_count(ctx), 0);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 2);
    /* redefinition: v4 layout replaced by a v6 layout under the same id */
    len = tmpl_msg(buf, sizeof buf, 0, 256, 0, BASE_MS + 200000);
    decode_datagram(ctx, a, 2055, BASE_MS + 200000, buf, (size_t)len, collect, &s);
    len = tmpl_msg(buf, sizeof buf, 0, 256, GEN_T_V6, BASE_MS + 200000);
    decode_datagram(ctx, a, 2055, BASE_MS + 200000, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REPLACED), 1);
    assert_int_equal(decode_template_count(ctx), 1);
    s.n = 0;
    len = data_msg(buf, sizeof buf, 0, 256, GEN_T_V6, BASE_MS + 200000);
    decode_datagram(ctx, a, 2055, BASE_MS + 200000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_true(s.r[0].flags & FLOW_F_V6);
    decode_ctx_free(ctx);
}

static void test_limits(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 4;
    cfg.max_templates = 20;
    cfg.max_templates_per_source = 8;
    cfg.max_domains_per_exporter = 3;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], buf[2048];
    struct sink s = {0};
    exporter_addr(a, 0);
    for (uint16_t t = 0; t < 8; t++) {
        int len = tmpl_msg(buf, sizeof buf, 0, (uint16_t)(256 + t), 0, BASE_MS + t);
        decode_datagram(ctx, a, 2055, BASE_MS + t, buf, (size_t)len, collect, &s);
    }
    /* 256 refreshed: 257 is now the least recently refreshed */
    int len0 = tmpl_msg(buf, sizeof buf, 0, 256, 0, BASE_MS + 10);
    decode_datagram(ctx, a, 2055, BASE_MS + 10, buf, (size_t)len0, collect, &s);
    for (uint16_t t = 8; t < 10; t++) { /* the domain is full: 257, then 258 give way */
        int len = tmpl_msg(buf, sizeof buf, 0, (uint16_t)(256 + t), 0, BASE_MS + 20);
        decode_datagram(ctx, a, 2055, BASE_MS + 20, buf, (size_t)len, collect, &s);
    }
    assert_int_equal(decode_template_count(ctx), 8);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATE_LIMIT), 0);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EVICTED), 2);
    static const uint16_t kept[] = {256, 259, 265}, gone[] = {257, 258};
    for (size_t i = 0; i < 3; i++) {
        s.n = 0;
        int len = data_msg(buf, sizeof buf, 0, kept[i], 0, BASE_MS + 30);
        decode_datagram(ctx, a, 2055, BASE_MS + 30, buf, (size_t)len, collect, &s);
        assert_int_equal(s.n, 2);
    }
    for (size_t i = 0; i < 2; i++) {
        s.n = 0;
        int len = data_msg(buf, sizeof buf, 0, gone[i], 0, BASE_MS + 30);
        decode_datagram(ctx, a, 2055, BASE_MS + 30, buf, (size_t)len, collect, &s);
        assert_int_equal(s.n, 0);
    }
    for (uint32_t d = 1; d < 5; d++) {
        int len = tmpl_msg(buf, sizeof buf, d, 256, 0, BASE_MS);
        decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    }
    assert_int_equal(decode_counter(ctx, DC_DOMAIN_LIMIT), 2);
    for (uint32_t e = 1; e < 6; e++) {
        exporter_addr(a, e);
        for (uint16_t t = 0; t < 4; t++) {
            int len = tmpl_msg(buf, sizeof buf, 0, (uint16_t)(256 + t), 0, BASE_MS);
            decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
        }
    }
    assert_int_equal(decode_counter(ctx, DC_EXPORTER_LIMIT), 2 * 4);
    assert_int_equal(decode_template_count(ctx), 20);
    assert_true(decode_counter(ctx, DC_TEMPLATE_LIMIT) > 0); /* the global bound still refuses */
    struct decode_exporter_stats st[8];
    assert_int_equal(decode_exporters(ctx, st, 8), 4);
    assert_int_equal(st[0].templates, 10);
    decode_ctx_free(ctx);
}

static void test_pending_bounds(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.pending_max = 4;
    cfg.pending_bytes_max = 100000;
    cfg.pending_ms = 5000;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], buf[2048];
    exporter_addr(a, 1);
    struct sink s = {0};
    for (uint16_t t = 0; t < 6; t++) {
        int len = data_msg(buf, sizeof buf, 0, (uint16_t)(300 + t), 0, BASE_MS);
        decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    }
    assert_int_equal(decode_counter(ctx, DC_PENDING_DROPPED), 2); /* oldest first: 300, 301 */
    int len = tmpl_msg(buf, sizeof buf, 0, 300, 0, BASE_MS);
    decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 0);
    len = tmpl_msg(buf, sizeof buf, 0, 305, 0, BASE_MS);
    decode_datagram(ctx, a, 2055, BASE_MS + 1000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    /* the rest expire */
    len = tmpl_msg(buf, sizeof buf, 0, 302, 0, BASE_MS);
    decode_datagram(ctx, a, 2055, BASE_MS + 6000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(decode_counter(ctx, DC_PENDING_EXPIRED), 3);
    decode_ctx_free(ctx);

    /* bytes bound */
    cfg.pending_max = 100;
    cfg.pending_bytes_max = 200;
    ctx = new_ctx(&cfg);
    for (uint16_t t = 0; t < 10; t++) {
        len = data_msg(buf, sizeof buf, 0, (uint16_t)(300 + t), 0, BASE_MS);
        decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    }
    assert_true(decode_counter(ctx, DC_PENDING_DROPPED) >= 7);
    assert_true(decode_memory(ctx) <= decode_memory_bound(&cfg));
    decode_ctx_free(ctx);
}

/* A template sent again (routers refresh each one every so many packets or seconds): an
 * unchanged one is not compiled again but refreshed as before (counted, its lifetime and its
 * place in the eviction order renewed); a changed one, even by an enterprise number alone, is
 * compiled and replaces it. */
static void refresh_once(int version)
{
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.template_lifetime_ms = 60000;
    cfg.max_templates_per_source = 3;
    cfg.pending_max = 0;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], buf[4096];
    exporter_addr(a, 1);
    uint16_t port = version == GEN_V9 ? 2055 : 4739;
    struct gen_tmpl t1, t2, o, t1b, t1c, t4;
    gen_tmpl_flow(&t1, 256, version, 0);
    gen_tmpl_flow(&t2, 257, version, 0);
    gen_tmpl_sampling(&o, 258, version, GEN_S_INTERVAL);
    t1b = t1; /* 256 with one more field no one reads */
    gen_tmpl_add(&t1b, 999, 2, 0);
    t1c = t1b; /* and again with that field an enterprise one (IPFIX; v9: the same as t1b) */
    t1c.f[t1c.nfields - 1].pen = 12345;
    gen_tmpl_flow(&t4, 259, version, 0);
    struct gen_msg m;
    struct sink s = {0};
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 0, BASE_MS, 100000);
    gen_add_template(&m, &t1);
    gen_add_template(&m, &t2);
    gen_add_options_template(&m, &o);
    int len = gen_msg_end(&m);
    decode_datagram(ctx, a, port, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_template_count(ctx), 3);
    assert_int_equal(decode_template_compiles(ctx), 3);
    /* 256 and the options template again, unchanged, 50 s later: refreshed, not compiled */
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 1, BASE_MS + 50000, 150000);
    gen_add_template(&m, &t1);
    gen_add_options_template(&m, &o);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, port, BASE_MS + 50000, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_template_compiles(ctx), 3);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REFRESHED), 2);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_ADDED), 3);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REPLACED), 0);
    /* eviction order: 257 is now the least recently refreshed, 259 takes its place */
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 2, BASE_MS + 50000, 150000);
    gen_add_template(&m, &t4);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, port, BASE_MS + 50000, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EVICTED), 1);
    assert_int_equal(decode_template_compiles(ctx), 4);
    /* lifetime: 256 lives on from its refresh (70 s after its arrival), 257 is gone */
    struct gen_flow f[2];
    gen_flow_fill(&f[0], 2, 0, false, BASE_MS + 70000);
    gen_flow_fill(&f[1], 2, 1, false, BASE_MS + 70000);
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 3, BASE_MS + 70000, 170000);
    gen_add_data(&m, &t1, f, 2);
    gen_add_data(&m, &t2, f, 2);
    len = gen_msg_end(&m);
    s.n = 0;
    decode_datagram(ctx, a, port, BASE_MS + 70000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 0);
    /* changed: compiled and replaced, its records decoded by the new layout */
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 4, BASE_MS + 70000, 170000);
    gen_add_template(&m, &t1b);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, port, BASE_MS + 70000, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_template_compiles(ctx), 5);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REPLACED), 1);
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 5, BASE_MS + 70000, 170000);
    gen_add_template(&m, &t1c);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, port, BASE_MS + 70000, buf, (size_t)len, collect, &s);
    if (version == GEN_IPFIX) {
        assert_int_equal(decode_template_compiles(ctx), 6);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REPLACED), 2);
    } else {
        assert_int_equal(decode_template_compiles(ctx), 5);
        assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REFRESHED), 3);
    }
    gen_msg_begin(&m, buf, sizeof buf, version, 0, 6, BASE_MS + 70000, 170000);
    gen_add_data(&m, &t1c, f, 2);
    len = gen_msg_end(&m);
    s.n = 0;
    decode_datagram(ctx, a, port, BASE_MS + 70000, buf, (size_t)len, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(decode_template_count(ctx), 3);
    assert_true(decode_memory(ctx) <= decode_memory_bound(&cfg));
    decode_ctx_free(ctx);
}

static void test_refresh_without_compile(void **state)
{
    (void)state;
    refresh_once(GEN_V9);
    refresh_once(GEN_IPFIX);
}

/* Floods of template ids, domains and exporters: memory and counts stay bounded. */
static void test_flood(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 16;
    cfg.max_templates = 512;
    cfg.max_templates_per_source = 32;
    cfg.max_domains_per_exporter = 8;
    cfg.pending_max = 32;
    cfg.pending_bytes_max = 8192;
    struct decode_ctx *ctx = new_ctx(&cfg);
    size_t bound = decode_memory_bound(&cfg);
    uint8_t a[16], buf[2048];
    struct sink s = {0};
    uint32_t x = 1;
    size_t peak = 0;
    for (uint32_t i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        exporter_addr(a, (x >> 8) % 40);
        int len = (x >> 4) & 1 ? tmpl_msg(buf, sizeof buf, (x >> 12) % 20,
                                          (uint16_t)(256 + (x >> 16) % 5000),
                                          (x >> 5) & 1 ? GEN_T_V6 : 0, BASE_MS + i)
                               : data_msg(buf, sizeof buf, (x >> 12) % 20,
                                          (uint16_t)(256 + (x >> 16) % 5000), 0, BASE_MS + i);
        decode_datagram(ctx, a, 2055, BASE_MS + i, buf, (size_t)len, collect, &s);
        if (decode_memory(ctx) > peak)
            peak = decode_memory(ctx);
    }
    assert_true(decode_template_count(ctx) <= cfg.max_templates);
    assert_true(peak <= bound);
    print_message("flood: peak %zu bytes, bound %zu, templates %zu\n", peak, bound,
                  decode_template_count(ctx));
    decode_ctx_free(ctx);
}

/* A full domain gives up its least recently refreshed template, data or options alike;
 * "withdraw all" of one kind takes exactly that kind (IPFIX, withdrawals honoured). */
static void test_eviction_order_and_withdraw_kinds(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_templates_per_source = 3;
    cfg.ipfix_udp_withdrawal = true;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], buf[4096];
    exporter_addr(a, 1);
    struct gen_tmpl d1, o1, d2, d3, o2;
    gen_tmpl_flow(&d1, 256, GEN_IPFIX, 0);
    gen_tmpl_sampling(&o1, 257, GEN_IPFIX, GEN_S_INTERVAL);
    gen_tmpl_flow(&d2, 258, GEN_IPFIX, 0);
    gen_tmpl_flow(&d3, 259, GEN_IPFIX, 0);
    gen_tmpl_sampling(&o2, 260, GEN_IPFIX, GEN_S_INTERVAL);
    struct gen_msg m;
    struct sink s = {0};
    /* d1, o1, d2 in that order, then d1 refreshed: o1 is now the oldest */
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_template(&m, &d1);
    gen_add_options_template(&m, &o1);
    gen_add_template(&m, &d2);
    gen_add_template(&m, &d1);
    int len = gen_msg_end(&m);
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_template_count(ctx), 3);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_REFRESHED), 1);
    /* d3 makes room: o1 goes (data for o1 then has no template), d1 and d2 stay */
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_template(&m, &d3);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EVICTED), 1);
    struct gen_flow f[1], o = {0};
    gen_flow_fill(&f[0], 2, 0, false, BASE_MS);
    o.sampling_interval = 10;
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_data(&m, &o1, &o, 1);
    gen_add_data(&m, &d1, f, 1);
    gen_add_data(&m, &d2, f, 1);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_NO_TEMPLATE), 1);
    assert_int_equal(s.n, 2);
    /* now d2 is the oldest: o2 pushes it out */
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_options_template(&m, &o2);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EVICTED), 2);
    /* withdraw all options templates: o2 only; then all data templates: d1 and d3 */
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_withdrawal(&m, 3, true);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_WITHDRAWN), 1);
    assert_int_equal(decode_template_count(ctx), 2);
    gen_msg_begin(&m, buf, sizeof buf, GEN_IPFIX, 5, 0, BASE_MS, 0);
    gen_add_withdrawal(&m, 2, false);
    len = gen_msg_end(&m);
    decode_datagram(ctx, a, 4739, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_WITHDRAWN), 3);
    assert_int_equal(decode_template_count(ctx), 0);
    decode_ctx_free(ctx);
}

/* Pending data sets of an exporter that was evicted never decode with the template of the
 * exporter that took its slot; the pending FIFO's own sets still find their template. */
static void test_pending_after_eviction(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 1;
    cfg.template_lifetime_ms = 1000;
    cfg.pending_max = 16;
    cfg.pending_ms = 60000;
    struct decode_ctx *ctx = new_ctx(&cfg);
    uint8_t a[16], b[16], buf[4096];
    exporter_addr(a, 1);
    exporter_addr(b, 2);
    struct sink s = {0};
    /* a: one template (proven), then data for 300 that waits */
    int len = tmpl_msg(buf, sizeof buf, 1, 256, 0, BASE_MS);
    decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    len = data_msg(buf, sizeof buf, 1, 300, 0, BASE_MS);
    decode_datagram(ctx, a, 2055, BASE_MS, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_PENDING_BUFFERED), 1);
    /* a idle past the lifetime: b takes its slot and defines 300 in the same source id */
    len = tmpl_msg(buf, sizeof buf, 1, 300, 0, BASE_MS + 5000);
    decode_datagram(ctx, b, 2055, BASE_MS + 5000, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_EXPORTERS_EVICTED), 1);
    assert_int_equal(decode_counter(ctx, DC_PENDING_DECODED), 0);
    assert_int_equal(s.n, 0);
    /* b's own waiting set is found when its template comes */
    len = data_msg(buf, sizeof buf, 1, 301, 0, BASE_MS + 5001);
    decode_datagram(ctx, b, 2055, BASE_MS + 5001, buf, (size_t)len, collect, &s);
    len = tmpl_msg(buf, sizeof buf, 1, 301, 0, BASE_MS + 5002);
    decode_datagram(ctx, b, 2055, BASE_MS + 5002, buf, (size_t)len, collect, &s);
    assert_int_equal(decode_counter(ctx, DC_PENDING_DECODED), 1);
    assert_int_equal(s.n, 2);
    decode_ctx_free(ctx);
}

/* decode_expire ends exactly the templates a sweep of them all would, at the same ticks, against
 * a model that checks each one: several exporters (v9 and IPFIX), domains and ids, refreshes,
 * time going backwards (a template refreshed "in the future" lives on), lifetimes 0, 1 ms and
 * 5 s; per tick the expired count, the templates held and each exporter's are compared. */
#define MX_EXP 3
#define MX_DOM 2
#define MX_TID 4
#define MX_N (MX_EXP * MX_DOM * MX_TID)

static uint64_t mx_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void expiry_against_model(uint64_t lifetime, uint64_t seed)
{
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.template_lifetime_ms = lifetime;
    cfg.pending_max = 0;
    struct decode_ctx *ctx = new_ctx(&cfg);
    bool held[MX_N] = {false};
    uint64_t refreshed[MX_N] = {0};
    uint64_t expired = 0, now = BASE_MS, x = seed, step = lifetime / 6 + 2;
    struct sink s = {0};
    uint8_t buf[2048], a[16];
    for (int i = 0; i < 20000; i++) {
        uint64_t r = mx_next(&x);
        unsigned what = (unsigned)(r % 16);
        r >>= 4;
        if (what == 0) { /* backwards, up to two lifetimes */
            now -= r % (2 * step * 6 + 2);
        } else if (what < 8) { /* a template arrives or is refreshed */
            unsigned k = (unsigned)(r % MX_N), e = k / (MX_DOM * MX_TID);
            uint32_t dom = k / MX_TID % MX_DOM;
            uint16_t tid = (uint16_t)(256 + k % MX_TID);
            exporter_addr(a, e + 1);
            int len = dt_msg(buf, sizeof buf, e == 2 ? GEN_IPFIX : GEN_V9, dom, tid, 0, now, 100000,
                             true, 0, 0);
            assert_true(len > 0);
            decode_datagram(ctx, a, 2055, now, buf, (size_t)len, collect, &s);
            held[k] = true;
            refreshed[k] = now;
            now += (r >> 8) % step;
        } else { /* a tick */
            size_t n = 0, per[MX_EXP] = {0};
            for (unsigned k = 0; k < MX_N; k++) {
                if (held[k] && now > refreshed[k] && now - refreshed[k] > lifetime) {
                    held[k] = false;
                    expired++;
                }
                if (held[k]) {
                    n++;
                    per[k / (MX_DOM * MX_TID)]++;
                }
            }
            decode_expire(ctx, now);
            assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), expired);
            assert_int_equal(decode_template_count(ctx), n);
            struct decode_exporter_stats st[MX_EXP];
            size_t ne = decode_exporters(ctx, st, MX_EXP);
            for (size_t e = 0; e < ne; e++) {
                uint8_t want[16];
                exporter_addr(want, 1);
                unsigned idx = st[e].addr[15] - want[15];
                assert_true(idx < MX_EXP);
                assert_int_equal(st[e].templates, per[idx]);
            }
            now += (r >> 8) % step;
        }
    }
    assert_true(expired > 100);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_ADDED) -
                         decode_counter(ctx, DC_TEMPLATES_EXPIRED),
                     decode_template_count(ctx));
    decode_ctx_free(ctx);
}

static void test_expiry_against_model(void **state)
{
    (void)state;
    expiry_against_model(5000, 0x9E3779B97F4A7C15ull);
    expiry_against_model(5000, 12345);
    expiry_against_model(1, 777);
    expiry_against_model(0, 4242);
}

/* A tick sweeps the template table only once a template may have expired: never while none is
 * held or all were refreshed within the lifetime, once for a template refreshed just before
 * its expiry (then not again until the oldest survivor may expire), and a template refreshed
 * "in the future" (time went backwards) neither expires nor brings a sweep early. */
static void tmpl_at(struct decode_ctx *ctx, uint32_t exp, uint16_t tid, uint64_t ms)
{
    uint8_t a[16], buf[2048];
    struct sink s = {0};
    exporter_addr(a, exp);
    int len = tmpl_msg(buf, sizeof buf, exp, tid, 0, ms);
    decode_datagram(ctx, a, 2055, ms, buf, (size_t)len, collect, &s);
}

static void ticks(struct decode_ctx *ctx, uint64_t from, uint64_t to)
{
    for (uint64_t t = from; t <= to; t += 100)
        decode_expire(ctx, t);
}

static void test_expiry_sweeps_only_when_due(void **state)
{
    (void)state;
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.template_lifetime_ms = 60000;
    struct decode_ctx *ctx = new_ctx(&cfg);
    const uint64_t t0 = BASE_MS;
    ticks(ctx, t0 - 10000, t0); /* none held */
    assert_int_equal(decode_template_sweeps(ctx), 0);
    tmpl_at(ctx, 1, 256, t0);
    tmpl_at(ctx, 1, 257, t0);
    tmpl_at(ctx, 2, 258, t0 + 30000);
    ticks(ctx, t0, t0 + 60000);
    assert_int_equal(decode_template_sweeps(ctx), 0);
    assert_int_equal(decode_template_count(ctx), 3);
    tmpl_at(ctx, 1, 256, t0 + 60000); /* refreshed just before it would have expired */
    decode_expire(ctx, t0 + 60001);
    assert_int_equal(decode_template_sweeps(ctx), 1);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 1); /* 257 */
    assert_int_equal(decode_template_count(ctx), 2);
    ticks(ctx, t0 + 60001, t0 + 90000); /* 258, the oldest left, not yet past */
    assert_int_equal(decode_template_sweeps(ctx), 1);
    decode_expire(ctx, t0 + 90001);
    assert_int_equal(decode_template_sweeps(ctx), 2);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 2);
    ticks(ctx, t0 + 90001, t0 + 120000);
    assert_int_equal(decode_template_sweeps(ctx), 2);
    decode_expire(ctx, t0 + 120001);
    assert_int_equal(decode_template_sweeps(ctx), 3);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 3);
    assert_int_equal(decode_template_count(ctx), 0);
    ticks(ctx, t0 + 120001, t0 + 400000);
    assert_int_equal(decode_template_sweeps(ctx), 3);
    /* time goes backwards: 259 refreshed at t0 + 200 s, then 260 at t0 */
    tmpl_at(ctx, 3, 259, t0 + 200000);
    ticks(ctx, t0, t0 + 60000);
    tmpl_at(ctx, 3, 260, t0);
    decode_expire(ctx, t0 + 60000);
    assert_int_equal(decode_template_sweeps(ctx), 3);
    decode_expire(ctx, t0 + 60001); /* 260 goes, 259 is "in the future" and stays */
    assert_int_equal(decode_template_sweeps(ctx), 4);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 4);
    assert_int_equal(decode_template_count(ctx), 1);
    ticks(ctx, t0 + 60001, t0 + 260000);
    assert_int_equal(decode_template_sweeps(ctx), 4);
    decode_expire(ctx, t0 + 260001);
    assert_int_equal(decode_template_sweeps(ctx), 5);
    assert_int_equal(decode_template_count(ctx), 0);
    decode_ctx_free(ctx);

    /* lifetime 0: expired as soon as time moves on */
    cfg.template_lifetime_ms = 0;
    ctx = new_ctx(&cfg);
    tmpl_at(ctx, 1, 256, t0);
    decode_expire(ctx, t0);
    decode_expire(ctx, t0 - 1);
    assert_int_equal(decode_template_sweeps(ctx), 0);
    assert_int_equal(decode_template_count(ctx), 1);
    decode_expire(ctx, t0 + 1);
    assert_int_equal(decode_template_sweeps(ctx), 1);
    assert_int_equal(decode_counter(ctx, DC_TEMPLATES_EXPIRED), 1);
    decode_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifetime_and_replace),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_pending_bounds),
        cmocka_unit_test(test_eviction_order_and_withdraw_kinds),
        cmocka_unit_test(test_refresh_without_compile),
        cmocka_unit_test(test_pending_after_eviction),
        cmocka_unit_test(test_flood),
        cmocka_unit_test(test_expiry_against_model),
        cmocka_unit_test(test_expiry_sweeps_only_when_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
