/* test_flowpb.c: the protobuf wire helpers (the protobuf documentation's own examples), the
 * FlowRecord round trip over random records, every truncation and every byte flip of an encoded
 * record (an error or a record, never a crash), versions and unknown fields; GoFlow2
 * FlowMessage: a message built byte by byte from the published schema, the writer's output
 * read back, the length-prefixed stream and its framing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowpb.h"
#include "pbwire.h"

static void test_wire_examples(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct pb_writer w;
    /* protobuf encoding guide: field 1 = 150 is 08 96 01; varint 300 is ac 02 */
    pb_writer_init(&w, buf, sizeof buf);
    pb_put_u64(&w, 1, 150);
    assert_false(w.err);
    assert_int_equal(w.p - buf, 3);
    assert_memory_equal(buf, "\x08\x96\x01", 3);
    /* field 2 = "testing": 12 07 74 65 73 74 69 6e 67 */
    pb_writer_init(&w, buf, sizeof buf);
    pb_put_bytes(&w, 2, "testing", 7, false);
    assert_memory_equal(buf, "\x12\x07testing", 9);
    const uint8_t *p = (const uint8_t *)"\xac\x02", *end = p + 2;
    uint64_t v;
    assert_int_equal(pb_get_varint(&p, end, &v), 0);
    assert_int_equal(v, 300);
    /* zero is left out (proto3), a full buffer is an error and writes nothing partial */
    pb_writer_init(&w, buf, 2);
    pb_put_u64(&w, 1, 0);
    assert_int_equal(w.p - buf, 0);
    pb_put_u64(&w, 1, 150);
    assert_true(w.err);
    assert_int_equal(w.p - buf, 0);
    /* 11 continuation bytes: not a varint; groups and reserved wire types are refused */
    const uint8_t long_v[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1};
    p = long_v;
    assert_int_equal(pb_get_varint(&p, long_v + 11, &v), -EBADMSG);
    struct pb_field f;
    const uint8_t group[2] = {0x0b, 0x0c};
    p = group;
    assert_int_equal(pb_next(&p, group + 2, &f), -EBADMSG);
    const uint8_t fixed[9] = {0x09, 1, 2, 3, 4, 5, 6, 7, 8}; /* field 1, 64-bit */
    p = fixed;
    assert_int_equal(pb_next(&p, fixed + 9, &f), 1);
    assert_int_equal(f.v, 0x0807060504030201ULL);
}

static void random_rec(struct flow_rec *f, struct flowpb_meta *m, unsigned i)
{
    memset(f, 0, sizeof *f);
    bool v6 = i % 3 == 0;
    for (int k = 0; k < 16; k++) {
        f->src[k] = (uint8_t)rand();
        f->dst[k] = (uint8_t)rand();
    }
    if (!v6) {
        memset(f->src, 0, 10), memset(f->dst, 0, 10);
        f->src[10] = f->src[11] = f->dst[10] = f->dst[11] = 0xff;
    } else
        f->flags |= FLOW_F_V6;
    f->bytes = (uint64_t)rand() << (i % 33);
    f->packets = (uint64_t)rand() % 100000;
    f->first_ms = 1700000000000ULL + (uint64_t)rand();
    f->last_ms = f->first_ms + (uint64_t)(rand() % 600000);
    f->sampling = i % 5 ? 1 : 1000;
    f->exporter = (uint32_t)(i % 7);
    f->sport = (uint16_t)rand();
    f->dport = (uint16_t)rand();
    f->proto = (uint8_t)(i % 2 ? 6 : 17);
    f->tcp_flags = (uint8_t)rand();
    f->flags |=
        (uint8_t)(rand() & (FLOW_F_LATE | FLOW_F_INIT_SRC | FLOW_F_METERED | FLOW_F_PACKET));
    f->src_as = (uint32_t)rand();
    f->dst_as = i % 4 ? 0 : 64512;
    f->in_if = (uint32_t)(i % 11);
    m->part = i % 3;
    m->has_exporter = i % 2;
    memset(m->exporter, 0, sizeof m->exporter);
    if (m->has_exporter) {
        m->exporter[10] = m->exporter[11] = 0xff;
        m->exporter[15] = (uint8_t)i;
    }
    m->window_start_ms = f->last_ms / 60000 * 60000;
    m->watermark_ms = f->last_ms + (uint64_t)(i % 9);
    m->seq = i % 4 ? 1765000000000000ULL + i : 0; /* 0: absent */
}

/* Every field at its widest (IPv6, 64-bit counters and times, the exporter's IPv6 address,
 * the record's number): within FLOWPB_MAX. */
static void test_record_widest(void **state)
{
    (void)state;
    struct flow_rec f;
    struct flowpb_meta m;
    memset(&f, 0xff, sizeof f);
    memset(&m, 0xff, sizeof m);
    f.flags |= FLOW_F_V6;
    m.part = FLOWPB_PART_DST;
    m.has_exporter = true;
    uint8_t buf[FLOWPB_MAX];
    int len = flowpb_encode(&f, &m, buf, sizeof buf);
    assert_true(len > 0 && len <= FLOWPB_MAX);
}

static void test_record_round_trip(void **state)
{
    (void)state;
    srand(16);
    for (unsigned i = 0; i < 2000; i++) {
        struct flow_rec f, g;
        struct flowpb_meta m, n;
        random_rec(&f, &m, i);
        uint8_t buf[FLOWPB_MAX];
        int len = flowpb_encode(&f, &m, buf, sizeof buf);
        assert_true(len > 0);
        assert_int_equal(flowpb_decode(buf, (size_t)len, &g, &n), 0);
        assert_memory_equal(&f, &g, sizeof f); /* dir, customer, peer_customer: 0 both */
        assert_int_equal(m.part, n.part);
        assert_int_equal(m.window_start_ms, n.window_start_ms);
        assert_int_equal(m.watermark_ms, n.watermark_ms);
        assert_int_equal(m.seq, n.seq);
        assert_int_equal(m.has_exporter, n.has_exporter);
        if (m.has_exporter)
            assert_memory_equal(m.exporter, n.exporter, 16);
        assert_int_equal(flowpb_encode(&f, &m, buf, (size_t)len - 1), -ENOSPC);
    }
}

static void test_record_damage(void **state)
{
    (void)state;
    struct flow_rec f, g;
    struct flowpb_meta m, n;
    random_rec(&f, &m, 1);
    uint8_t buf[FLOWPB_MAX], bad[FLOWPB_MAX];
    int len = flowpb_encode(&f, &m, buf, sizeof buf);
    /* every truncation: an error or (cut between fields after both addresses) a record */
    for (int cut = 0; cut < len; cut++) {
        int rc = flowpb_decode(buf, (size_t)cut, &g, &n);
        assert_true(rc == 0 || rc == -EBADMSG);
    }
    assert_int_equal(flowpb_decode(buf, 0, &g, &n), -EBADMSG);
    for (int at = 0; at < len; at++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, buf, (size_t)len);
            bad[at] ^= (uint8_t)(1u << bit);
            int rc = flowpb_decode(bad, (size_t)len, &g, &n);
            assert_true(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT);
        }
    /* a newer version is refused; an unknown field number is skipped */
    struct pb_writer w;
    pb_writer_init(&w, bad, sizeof bad);
    pb_put_u64(&w, 1, FLOWPB_VERSION + 1);
    memcpy(w.p, buf + 2, (size_t)len - 2); /* buf starts 08 01 (version 1) */
    assert_memory_equal(buf, "\x08\x01", 2);
    assert_int_equal(flowpb_decode(bad, (size_t)len, &g, &n), -EPROTONOSUPPORT);
    memcpy(bad, buf, (size_t)len);
    pb_writer_init(&w, bad + len, sizeof bad - (size_t)len);
    pb_put_bytes(&w, 99, "later", 5, false);
    pb_put_u64(&w, 100, 7);
    assert_int_equal(flowpb_decode(bad, (size_t)(w.p - bad), &g, &n), 0);
    assert_memory_equal(&f, &g, sizeof f);
    /* a 5-byte address and a part out of range are refused */
    pb_writer_init(&w, bad, sizeof bad);
    pb_put_u64(&w, 1, 1);
    pb_put_bytes(&w, 2, "\1\2\3\4\5", 5, false);
    pb_put_bytes(&w, 3, "\1\2\3\4", 4, false);
    assert_int_equal(flowpb_decode(bad, (size_t)(w.p - bad), &g, &n), -EBADMSG);
    pb_writer_init(&w, bad, sizeof bad);
    pb_put_u64(&w, 1, 1);
    pb_put_bytes(&w, 2, "\1\2\3\4", 4, false);
    pb_put_bytes(&w, 3, "\1\2\3\4", 4, false);
    pb_put_u64(&w, 18, 4);
    assert_int_equal(flowpb_decode(bad, (size_t)(w.p - bad), &g, &n), -EBADMSG);
    /* a tick: no record, only the window (the record argument is not read); a record without
     * addresses that is not a tick is refused */
    struct flowpb_meta t = {
        .part = FLOWPB_PART_TICK, .window_start_ms = 600000, .watermark_ms = 612345};
    int tl = flowpb_encode(NULL, &t, bad, sizeof bad);
    assert_true(tl > 0 && tl < 20);
    assert_int_equal(flowpb_decode(bad, (size_t)tl, &g, &n), 0);
    assert_int_equal(n.part, FLOWPB_PART_TICK);
    assert_int_equal(n.window_start_ms, 600000);
    assert_int_equal(n.watermark_ms, 612345);
    pb_writer_init(&w, bad, sizeof bad);
    pb_put_u64(&w, 1, 1);
    pb_put_u64(&w, 19, 600000);
    assert_int_equal(flowpb_decode(bad, (size_t)(w.p - bad), &g, &n), -EBADMSG);
}

/* A GoFlow2 FlowMessage written byte by byte from goflow2's pb/flow.proto field numbers: an
 * IPFIX record 10.0.0.1:40000 -> 192.0.2.7:443 TCP SYN|ACK, 3 packets / 180 bytes sampled at
 * 1:100, AS 64500 -> 64501, in_if 7, start 1.5 s and end 2.25 s past 1700000000 s. */
static void test_goflow2_schema(void **state)
{
    (void)state;
    const uint8_t msg[] = {
        0x08, 0x04,                      /* type = IPFIX */
        0x18, 0x64,                      /* sampling_rate = 100 */
        0x32, 0x04, 10,   0,    0,    1, /* src_addr */
        0x3a, 0x04, 192,  0,    2,    7, /* dst_addr */
        0x48, 0xb4, 0x01,                /* bytes = 180 */
        0x50, 0x03,                      /* packets = 3 */
        0x5a, 0x04, 198,  51,   100,  1, /* sampler_address (ignored) */
        0x70, 0xf4, 0xf7, 0x03,          /* src_as = 64500 */
        0x78, 0xf5, 0xf7, 0x03,          /* dst_as = 64501 */
        0x90, 0x01, 0x07,                /* in_if = 7 */
        0xa0, 0x01, 0x06,                /* proto = 6 */
        0xa8, 0x01, 0xc0, 0xb8, 0x02,    /* src_port = 40000 */
        0xb0, 0x01, 0xbb, 0x03,          /* dst_port = 443 */
        0xd0, 0x01, 0x12,                /* tcp_flags = 0x12 */
        0xf0, 0x01, 0x80, 0x10,          /* etype = 0x800 */
        0xd8, 0x01, 0x85, 0x02,          /* src_mac = 261 (field 27, ignored) */
    };
    size_t len = sizeof msg;
    uint8_t full[256];
    memcpy(full, msg, len);
    struct pb_writer w;
    pb_writer_init(&w, full + len, sizeof full - len);
    pb_put_u64(&w, 111, (1700000000ULL * 1000 + 1500) * 1000000);
    pb_put_u64(&w, 112, (1700000000ULL * 1000 + 2250) * 1000000);
    len = (size_t)(w.p - full);
    struct flow_rec f;
    assert_int_equal(goflow2_decode(full, len, &f), 0);
    const uint8_t s4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    const uint8_t d4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    assert_memory_equal(f.src, s4, 16);
    assert_memory_equal(f.dst, d4, 16);
    assert_int_equal(f.bytes, 18000);
    assert_int_equal(f.packets, 300);
    assert_int_equal(f.sampling, 100);
    assert_int_equal(f.sport, 40000);
    assert_int_equal(f.dport, 443);
    assert_int_equal(f.proto, 6);
    assert_int_equal(f.tcp_flags, 0x12);
    assert_int_equal(f.src_as, 64500);
    assert_int_equal(f.dst_as, 64501);
    assert_int_equal(f.in_if, 7);
    assert_int_equal(f.first_ms, 1700000001500ULL);
    assert_int_equal(f.last_ms, 1700000002250ULL);
    assert_int_equal(f.flags, 0);
    /* type = SFLOW_5: GoFlow2 made the message of one sFlow sample, one packet (flow.h) */
    full[1] = 1;
    assert_int_equal(goflow2_decode(full, len, &f), 0);
    assert_int_equal(f.flags, FLOW_F_PACKET);
    full[1] = 4;
    /* no destination: refused; mixed families: refused */
    assert_int_equal(goflow2_decode(full, 10, &f), -EBADMSG);
}

static void test_goflow2_writer_and_stream(void **state)
{
    (void)state;
    srand(2);
    uint8_t stream[64 * FLOWPB_MAX], *o = stream;
    struct flow_rec in[64];
    for (unsigned i = 0; i < 64; i++) {
        struct flowpb_meta m;
        random_rec(&in[i], &m, i);
        /* GoFlow2 carries none of our flags but the family and a sample's one packet (its
         * type SFLOW_5) */
        in[i].flags &= FLOW_F_V6 | FLOW_F_PACKET;
        in[i].exporter = 0;
        in[i].packets = in[i].packets * in[i].sampling; /* sampled counts times the rate */
        in[i].bytes = (in[i].bytes >> 12) * in[i].sampling;
        in[i].first_ms = in[i].last_ms - (in[i].last_ms - in[i].first_ms);
        if (i % 8 == 0) {
            in[i].proto = 1;
            in[i].sport = 0;
            in[i].dport = 3 << 8 | 1; /* ICMP unreachable, host */
        }
        uint8_t msg[FLOWPB_MAX];
        int len = goflow2_encode(&in[i], in[i].src, msg, sizeof msg);
        assert_true(len > 0);
        struct pb_writer w;
        uint8_t *start = o;
        pb_writer_init(&w, o, (size_t)(stream + sizeof stream - o));
        pb_put_varint(&w, (uint64_t)len);
        memcpy(w.p, msg, (size_t)len);
        o = w.p + len;
        /* a Kafka message with or without its prefix */
        const uint8_t *um;
        size_t ul;
        goflow2_unframe(msg, (size_t)len, &um, &ul);
        assert_ptr_equal(um, msg);
        goflow2_unframe(start, (size_t)(w.p + len - start), &um, &ul);
        assert_ptr_equal(um, w.p);
        assert_int_equal(ul, len);
    }
    const uint8_t *p = stream, *msg;
    size_t len;
    unsigned n = 0;
    while (goflow2_next(&p, o, &msg, &len) == 1) {
        struct flow_rec f;
        assert_int_equal(goflow2_decode(msg, len, &f), 0);
        assert_memory_equal(&f, &in[n], sizeof f);
        n++;
    }
    assert_int_equal(n, 64);
    p = stream;
    assert_int_equal(goflow2_next(&p, stream + 3, &msg, &len), -EBADMSG); /* cut short */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_examples),     cmocka_unit_test(test_record_widest),
        cmocka_unit_test(test_record_round_trip), cmocka_unit_test(test_record_damage),
        cmocka_unit_test(test_goflow2_schema),    cmocka_unit_test(test_goflow2_writer_and_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
