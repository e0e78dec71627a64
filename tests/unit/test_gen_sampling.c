/* The generator's packet sampler (gen_flowpkts_new_sampled, behind `twgen eval -f sflow -N`):
 * at 1:1 every packet of every flow comes out, in time order, with the flags the capture path
 * gives it; at 1:N each packet independently with probability 1/N: counts within 5 standard
 * deviations of the binomial expectation for one long flow and for many one-packet flows, the
 * share of k-packet flows with at least one sample near 1 - (1 - 1/N)^k (the model the
 * detectors scale by), the same packets for the same seed and others for another seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "gen_flowpkts.h"

#define MAXFLOWS 20000

struct sink {
    uint64_t n, last_us, hash;
    bool ordered;
    uint8_t first_flags, last_flags;
    uint32_t per_flow[MAXFLOWS]; /* samples per flow (by its sport) */
};

static int on_pkt(void *arg, const struct gen_flowpkt *p)
{
    struct sink *s = arg;
    if (p->ts_us < s->last_us)
        s->ordered = false;
    s->last_us = p->ts_us;
    if (s->n == 0)
        s->first_flags = p->tcp_flags;
    s->last_flags = p->tcp_flags;
    s->n++;
    s->hash = (s->hash ^ (p->ts_us * 31 + p->flow->sport)) * 0x100000001B3ULL;
    if (p->flow->sport < MAXFLOWS)
        s->per_flow[p->flow->sport]++;
    return 0;
}

static void flow(struct gen_flow *f, uint16_t sport, uint64_t packets, uint64_t start_ms,
                 uint64_t dur_ms)
{
    memset(f, 0, sizeof *f);
    f->src[10] = f->src[11] = f->dst[10] = f->dst[11] = 0xff;
    f->src[12] = 10;
    f->src[15] = 1;
    f->dst[12] = 192;
    f->dst[15] = 2;
    f->sport = sport;
    f->dport = 443;
    f->proto = 6;
    f->tcp_flags = 0x1b; /* SYN ACK PSH FIN */
    f->packets = packets;
    f->bytes = packets * 100;
    f->start_ms = start_ms;
    f->end_ms = start_ms + dur_ms;
}

/* One long flow of big packets, then n_small flows of k packets each; returns samples. */
static uint64_t run(struct sink *s, uint32_t rate, uint64_t seed, uint64_t big, unsigned n_small,
                    uint64_t k)
{
    memset(s, 0, sizeof *s);
    s->ordered = true;
    struct gen_flowpkts *w;
    assert_int_equal(gen_flowpkts_new_sampled(rate, seed, on_pkt, s, &w), 0);
    struct gen_flow f;
    uint64_t t = 1700000000000ULL;
    if (big) {
        flow(&f, 0, big, t, 60000);
        assert_int_equal(gen_flowpkts_add(w, &f), 0);
    }
    for (unsigned i = 0; i < n_small; i++) {
        flow(&f, (uint16_t)(1 + i), k, t + 60000 + i * 10, k > 1 ? 500 : 0);
        assert_int_equal(gen_flowpkts_add(w, &f), 0);
    }
    uint64_t n = 0;
    assert_int_equal(gen_flowpkts_close(w, &n), 0);
    assert_int_equal(n, s->n);
    assert_true(s->ordered);
    return n;
}

static void every_packet_at_one(void **st)
{
    (void)st;
    static struct sink s;
    assert_int_equal(run(&s, 1, 7, 0, 1, 10), 10);
    assert_int_equal(s.first_flags, 0x02); /* SYN first, FIN last, as in a capture */
    assert_int_equal(s.last_flags, 0x19);
    assert_int_equal(run(&s, 1, 7, 1000, 500, 3), 1000 + 1500);
    struct gen_flowpkts *w;
    assert_int_equal(gen_flowpkts_new_sampled(0, 1, on_pkt, &s, &w), -EINVAL);
}

static void one_in_n(void **st)
{
    (void)st;
    static struct sink s;
    /* 1 000 000 packets of one flow at 1:100: 10 000 expected, sd sqrt(1e6 * 0.01 * 0.99) */
    uint64_t n = run(&s, 100, 2008, 1000000, 0, 1);
    assert_true(fabs((double)n - 10000) < 5 * sqrt(9900));
    /* 20 000 one-packet flows at 1:100: 200 expected */
    n = run(&s, 100, 2008, 0, MAXFLOWS - 1, 1);
    assert_true(fabs((double)n - 200) < 5 * sqrt(198));
    /* 19 999 flows of 20 packets at 1:100: a flow is seen with p = 1 - 0.99^20 = 0.182 */
    run(&s, 100, 11, 0, MAXFLOWS - 1, 20);
    unsigned seen = 0;
    for (unsigned i = 1; i < MAXFLOWS; i++)
        seen += s.per_flow[i] > 0;
    double p = 1 - pow(0.99, 20), e = p * (MAXFLOWS - 1);
    assert_true(fabs(seen - e) < 5 * sqrt(e * (1 - p)));
}

static void seeded(void **st)
{
    (void)st;
    static struct sink a, b, c;
    run(&a, 1000, 42, 500000, 5000, 5);
    run(&b, 1000, 42, 500000, 5000, 5);
    run(&c, 1000, 43, 500000, 5000, 5);
    assert_int_equal(a.n, b.n);
    assert_true(a.hash == b.hash);
    assert_true(a.hash != c.hash);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_packet_at_one),
        cmocka_unit_test(one_in_n),
        cmocka_unit_test(seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
