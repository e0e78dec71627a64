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
#include <string.h>

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

/* "A malformed message changes nothing" (test_nf9, test_ipfix: RFC 7011 8 and the same rule
 * for v9). mcn_begin() puts ctx in a known state with one message: options template opt_id
 * announcing rate 10 and its data record, template 256 (v4) and 2 records of it (checked: 2
 * records, 2 templates). mcn_changes() adds to an open message everything that would change
 * that state: options data announcing rate 1000, 256 replaced by a v6 layout, 257 new and 2
 * records of it; the caller then spoils the message. mcn_end() decodes data of 256 and of 257
 * (followed by pad zero bytes) and checks that nothing of the spoiled messages was applied:
 * 256 decoded at rate 10, 257 unknown, no sequence loss. */
struct mcn {
    struct decode_ctx *ctx;
    int version;
    uint16_t port;
    struct gen_flow f[2], o, o2;
    struct gen_tmpl ot, t, t6, t7;
    struct sink s;
};

static inline void mcn_begin(struct mcn *x, struct decode_ctx *ctx, int version, uint16_t opt_id,
                             uint16_t port, uint32_t uptime_ms)
{
    uint8_t buf[4096];
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
    x->version = version;
    x->port = port;
    for (uint32_t i = 0; i < 2; i++)
        gen_flow_fill(&x->f[i], version, i, false, BASE_MS);
    x->o.sampling_interval = 10;
    x->o2.sampling_interval = 1000;
    gen_tmpl_sampling(&x->ot, opt_id, version, GEN_S_INTERVAL);
    gen_tmpl_flow(&x->t, 256, version, 0);
    gen_tmpl_flow(&x->t6, 256, version, GEN_T_V6);
    gen_tmpl_flow(&x->t7, 257, version, 0);
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, version, 1, 0, BASE_MS, uptime_ms);
    gen_add_options_template(&m, &x->ot);
    gen_add_data(&m, &x->ot, &x->o, 1);
    gen_add_template(&m, &x->t);
    gen_add_data(&m, &x->t, x->f, 2);
    int len = gen_msg_end(&m);
    decode_datagram(ctx, exp_a, port, BASE_MS, buf, (size_t)len, collect, &x->s);
    assert_int_equal(x->s.n, 2);
    assert_int_equal(decode_template_count(ctx), 2);
}

static inline void mcn_changes(struct mcn *x, struct gen_msg *m)
{
    gen_add_data(m, &x->ot, &x->o2, 1); /* rate 1000 */
    gen_add_template(m, &x->t6);        /* 256 replaced by a v6 layout */
    gen_add_template(m, &x->t7);        /* 257 new */
    gen_add_data(m, &x->t7, x->f, 2);
}

static inline void mcn_end(struct mcn *x, uint32_t seq, uint32_t uptime_ms, size_t pad)
{
    uint8_t buf[4096];
    struct gen_msg m;
    gen_msg_begin(&m, buf, sizeof buf, x->version, 1, seq, BASE_MS + 2000, uptime_ms);
    gen_add_data(&m, &x->t, x->f, 2);
    gen_add_data(&m, &x->t7, x->f, 1);
    int len = gen_msg_end(&m);
    memset(buf + len, 0, pad);
    decode_datagram(x->ctx, exp_a, x->port, BASE_MS + 2000, buf, (size_t)len + pad, collect, &x->s);
    assert_int_equal(x->s.n, 4);
    check_flow(&x->s.r[2], &x->f[0], 10);
    check_flow(&x->s.r[3], &x->f[1], 10);
    assert_int_equal(decode_counter(x->ctx, DC_NO_TEMPLATE), 1);
    assert_int_equal(decode_counter(x->ctx, DC_SEQ_LOST), 0);
}

#endif
