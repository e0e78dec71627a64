/* decode_test_util.h: what the decoder unit tests share (test_nf5, test_nf9, test_ipfix,
 * test_template_cache, test_decode_hardening, test_decode_realdata; the fuzz targets build
 * their own): a record sink, a context, generated flows, their checks and messages.
 * Header-only, static. Before including it a test may define MAXR (records its sink keeps,
 * default 64) and DT_VERSION (5, 9 or 10: the generator's flow set fill() uses). */
#ifndef TW_DECODE_TEST_UTIL_H
#define TW_DECODE_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "gen_export.h"

#define BASE_MS 1700000000000ull
#ifndef MAXR
#define MAXR 64
#endif

/* The records a decode_datagram call hands out: the first MAXR kept, all counted. */
struct sink {
    struct flow_rec r[MAXR];
    size_t n;
};

static inline void collect(void *arg, struct flow_rec *rec)
{
    struct sink *s = arg;
    if (s->n < MAXR)
        s->r[s->n] = *rec;
    s->n++;
}

/* The generator's first source and destination addresses. */
static const uint8_t exp_a[16]
    __attribute__((unused)) = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
static const uint8_t exp_b[16]
    __attribute__((unused)) = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* A context made with cfg (NULL: the defaults). */
static inline struct decode_ctx *new_ctx(const struct decode_cfg *cfg)
{
    struct decode_cfg d;
    if (!cfg) {
        decode_cfg_defaults(&d);
        cfg = &d;
    }
    struct decode_ctx *ctx = NULL;
    assert_int_equal(decode_ctx_new(cfg, &ctx), 0);
    return ctx;
}

#ifdef DT_VERSION
static inline void fill(struct gen_flow *f, size_t n, bool v6)
{
    for (size_t i = 0; i < n; i++)
        gen_flow_fill(&f[i], DT_VERSION, (uint32_t)i, v6, BASE_MS);
}
#endif

/* r is generated flow f with bytes and packets multiplied by rate. */
static inline void check_flow(const struct flow_rec *r, const struct gen_flow *f, uint32_t rate)
{
    assert_memory_equal(r->src, f->src, 16);
    assert_memory_equal(r->dst, f->dst, 16);
    assert_int_equal(r->sport, f->sport);
    assert_int_equal(r->dport, f->dport);
    assert_int_equal(r->proto, f->proto);
    assert_int_equal(r->tcp_flags, f->tcp_flags);
    assert_int_equal(r->bytes, f->bytes * rate);
    assert_int_equal(r->packets, f->packets * rate);
    assert_int_equal(r->first_ms, f->start_ms);
    assert_int_equal(r->last_ms, f->end_ms);
    assert_int_equal(r->sampling, rate);
}

/* No error counter but no_template moved. */
static inline void no_errors(struct decode_ctx *ctx)
{
    for (int c = DC_FIRST_ERROR; c < DC_COUNT; c++)
        if (c != DC_NO_TEMPLATE && decode_counter(ctx, (enum decode_counter)c))
            fail_msg("error counter %s = %llu", decode_counter_name((enum decode_counter)c),
                     (unsigned long long)decode_counter(ctx, (enum decode_counter)c));
}

/* A v9 or IPFIX message of domain dom at ms: flow template tid (opts) when with_tmpl, then
 * nrec data records of it (gen_flow_fill with seed) when nrec > 0. */
static inline int dt_msg(uint8_t *buf, size_t cap, int version, uint32_t dom, uint16_t tid,
                         unsigned opts, uint64_t ms, uint32_t uptime_ms, bool with_tmpl,
                         size_t nrec, int seed)
{
    struct gen_tmpl t;
    gen_tmpl_flow(&t, tid, version, opts);
    struct gen_flow f[8];
    for (size_t i = 0; i < nrec && i < 8; i++)
        gen_flow_fill(&f[i], seed, (uint32_t)i, opts & GEN_T_V6, ms);
    struct gen_msg m;
    gen_msg_begin(&m, buf, cap, version, dom, 0, ms, uptime_ms);
    if (with_tmpl)
        gen_add_template(&m, &t);
    if (nrec)
        gen_add_data(&m, &t, f, nrec < 8 ? nrec : 8);
    return gen_msg_end(&m);
}

#endif
