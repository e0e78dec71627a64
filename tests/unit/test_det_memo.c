/* What the worker lets its detectors reuse of a record (detectors/detector.h): the per-batch
 * memo (det_memo_put/none/get) and the record's initiator computed once (det_initiator).
 * And the decisions they feed: every registered detector run over batches the way the worker
 * runs them (the prefetch pass over a batch, then on_flow with each record's place) ends with
 * the same counters and alerts as the same records run one by one with no batch at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "det_test_util.h"

static void test_memo_places(void **st)
{
    (void)st;
    struct det_memo m;
    memset(&m, 0, sizeof m);
    struct flow_rec a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    struct det_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    uint64_t *w = det_memo_put(&m, 2, &a);
    assert_non_null(w);
    w[0] = 77;
    w[DET_MEMO_VALUES - 1] = 78;
    assert_null(det_memo_get(&m, &ctx, &a)); /* no batch */
    ctx.rec.batch_no = 3;
    const uint64_t *v = det_memo_get(&m, &ctx, &a);
    assert_non_null(v);
    assert_int_equal(v[0], 77);
    assert_int_equal(v[DET_MEMO_VALUES - 1], 78);
    assert_null(det_memo_get(&m, &ctx, &b)); /* another record at that place */
    ctx.rec.batch_no = 2;
    assert_null(det_memo_get(&m, &ctx, &a)); /* the record at another place */
    ctx.rec.batch_no = 3;
    det_memo_none(&m, 2); /* the next batch's prefetch kept nothing for that place */
    assert_null(det_memo_get(&m, &ctx, &a));
    ctx.rec.batch_no = DET_BATCH_MAX + 1; /* beyond the memo: never an answer, never a write */
    assert_null(det_memo_put(&m, DET_BATCH_MAX, &a));
    assert_null(det_memo_get(&m, &ctx, &a));
}

static void test_initiator_once(void **st)
{
    (void)st;
    struct det_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    struct flow_rec f = th_rec("10.0.0.1", "192.0.2.1", 40000, 443, 6, 0x1b, 5, 900, 0, 10);
    enum flow_init_basis basis, want_basis;
    enum flow_init want = flow_initiator(&f, &want_basis);
    assert_int_equal(want, FLOW_INIT_SRC);
    /* no batch: computed at each call, so a changed record gets its own answer */
    assert_int_equal(det_initiator(&ctx, &f, &basis), want);
    assert_int_equal(basis, want_basis);
    f.sport = 443;
    f.dport = 40000;
    assert_int_equal(det_initiator(&ctx, &f, NULL), FLOW_INIT_DST);
    /* in a batch: computed once per record, the same answer and basis for every caller */
    ctx.rec = (struct det_rec){.batch_no = 1};
    assert_int_equal(det_initiator(&ctx, &f, &basis), FLOW_INIT_DST);
    assert_true(ctx.rec.init_known);
    assert_int_equal(basis, INIT_BASIS_SERVICE);
    assert_int_equal(det_initiator(&ctx, &f, NULL), FLOW_INIT_DST);
    ctx.rec.init_who = FLOW_INIT_SRC; /* the kept answer is what later callers get */
    assert_int_equal(det_initiator(&ctx, &f, &basis), FLOW_INIT_SRC);
    assert_int_equal(basis, INIT_BASIS_SERVICE);
    ctx.rec = (struct det_rec){.batch_no = 2}; /* the worker's next record: asked again */
    assert_int_equal(det_initiator(&ctx, &f, NULL), FLOW_INIT_DST);
}

/* det_host_hash: the record's (det_rec.host_hash, the pipeline's) in a batch, else hash_host
 * under the context's key, IPv4 and IPv6. */
static void test_host_hash(void **st)
{
    (void)st;
    struct hash_key k;
    struct hash_host_key hk;
    hash_key_from_seed(&k, 42);
    hash_host_key_init(&hk, &k);
    struct det_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.host_key = &hk;
    struct host h;
    memset(&h, 0, sizeof h);
    const char *addrs[] = {"10.1.2.3", "2001:db8::7"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(addr_parse(addrs[i], h.addr), 0);
        assert_int_equal(det_host_hash(&ctx, &h), hash_bytes(&k, h.addr, 16));
        ctx.rec = (struct det_rec){.batch_no = 1, .host_hash = 99};
        assert_int_equal(det_host_hash(&ctx, &h), 99);
        ctx.rec = (struct det_rec){0};
    }
}

#define NB 32
#define NBATCH 300

/* A random record between one of 250 inside hosts (50 of them IPv6) and one of 24 outside peers
 * (of its family), either way. */
static void random_rec(struct th *t, struct flow_rec *f, uint64_t *rs, uint64_t ms)
{
    static const uint16_t ports[] = {22, 53, 80, 123, 443, 445, 1433, 3389, 4444, 8080, 40000};
    char in[48], out[48];
    uint32_t r = th_rand(rs);
    bool v6 = (r >> 8) % 5 == 4;
    if (v6)
        snprintf(in, sizeof in, "2001:db8:0:1::%x", 1 + r % 50);
    else
        snprintf(in, sizeof in, "10.0.%u.%u", (r >> 8) % 5, 1 + r % 50);
    r = th_rand(rs);
    if (v6)
        snprintf(out, sizeof out, "2001:db9::%x", 1 + r % 24);
    else
        snprintf(out, sizeof out, "198.51.100.%u", 1 + r % 24);
    bool inbound = (r >> 8) % 3 == 0;
    uint32_t k = th_rand(rs);
    uint8_t proto = (uint8_t)(k % 10 < 6 ? 6 : k % 10 < 9 ? 17 : 1);
    uint16_t cport = (uint16_t)(32768 + (k >> 4) % 20000);
    uint16_t sport = ports[(k >> 12) % (sizeof ports / sizeof ports[0])];
    uint8_t flags = (uint8_t)((k >> 20) % 4 == 0 ? 0x02 : (k >> 20) % 4 == 1 ? 0x1b : 0x12);
    if (proto == 1)
        sport = 8 << 8; /* echo request (type in dport's high byte) */
    *f = inbound ? th_rec(out, in, cport, sport, proto, flags, 1 + k % 7, 60 + k % 900, ms, 40)
                 : th_rec(in, out, cport, sport, proto, flags, 1 + k % 7, 60 + k % 900, ms, 40);
    if (proto == 1) {
        f->sport = 0;
        f->dport = (uint16_t)((inbound && k % 2 ? 0 : 8) << 8);
    }
    if ((k >> 28) == 0)
        f->flags |= FLOW_F_CLOCK_SKEW;
    f->dir = inbound ? FLOW_DIR_IN : FLOW_DIR_OUT;
    f->customer = th_customer_of(t, flow_inside(f));
}

static void snap_of(const struct th *t, uint64_t *snap)
{
    memset(snap, 0, 512 * sizeof *snap);
    t->ops->counters(t->self, snap);
}

static void test_batches_decide_as_single_records(void **st)
{
    (void)st;
    for (size_t d = 0; d < det_registry_count; d++) {
        const struct detector_ops *ops = det_registry[d];
        struct th *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(th_init(a, ops, NULL), 0);
        assert_int_equal(th_init(b, ops, NULL), 0);
        struct flow_rec recs[NB]; /* the same addresses every batch, as a worker's ring */
        uint64_t rs = 0x9e3779b97f4a7c15ULL, ms = a->ctx.win_start_ms;
        for (int bn = 0; bn < NBATCH; bn++) {
            size_t n = 1 + th_rand(&rs) % NB;
            for (size_t i = 0; i < n; i++)
                random_rec(a, &recs[i], &rs, ms += 997);
            th_advance_to(a, ms + 40);
            th_advance_to(b, ms + 40);
            for (size_t i = 0; ops->prefetch && i < n; i++)
                ops->prefetch(a->self, i, &recs[i], hash_host(&a->host_key, flow_inside(&recs[i])));
            for (size_t i = 0; i < n; i++) {
                uint8_t *sa, *sb;
                struct host *ha = th_host(a, flow_inside(&recs[i]), &sa);
                struct host *hb = th_host(b, flow_inside(&recs[i]), &sb);
                ha->window = a->ctx.window_no;
                hb->window = b->ctx.window_no;
                a->ctx.rec = (struct det_rec){
                    .batch_no = (uint32_t)i + 1,
                    .host_hash = hash_host(&a->host_key, flow_inside(&recs[i])),
                };
                ops->on_flow(a->self, &a->ctx, ha, sa, &recs[i]);
                b->ctx.rec = (struct det_rec){0};
                ops->on_flow(b->self, &b->ctx, hb, sb, &recs[i]);
            }
        }
        th_close(a);
        th_close(b);
        uint64_t sa[512], sb[512];
        snap_of(a, sa);
        snap_of(b, sb);
        for (size_t c = 0; c < ops->nctr; c++)
            if (ctr_value(&ops->ctr_defs[c], sa) != ctr_value(&ops->ctr_defs[c], sb))
                fail_msg("%s: counter %s %llu batched, %llu one by one", ops->name,
                         ops->ctr_defs[c].json,
                         (unsigned long long)ctr_value(&ops->ctr_defs[c], sa),
                         (unsigned long long)ctr_value(&ops->ctr_defs[c], sb));
        assert_int_equal(a->nalerts, b->nalerts);
        for (size_t i = 0; i < a->nalerts; i++) {
            assert_string_equal(a->alerts[i].rule_id, b->alerts[i].rule_id);
            assert_memory_equal(a->alerts[i].host, b->alerts[i].host, 16);
        }
        th_fini(a);
        th_fini(b);
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_places),
        cmocka_unit_test(test_initiator_once),
        cmocka_unit_test(test_host_hash),
        cmocka_unit_test(test_batches_decide_as_single_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
