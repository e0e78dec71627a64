/* nf5.c: NetFlow v5: 24-byte header + count fixed 48-byte records. */
#include "decode_int.h"

#define NF5_HDR 24
#define NF5_REC 48

void nf5_decode(struct dec_msg *m, const uint8_t *buf, size_t len)
{
    if (len < NF5_HDR) {
        dec_error(m->ctx, m->exp, DC_SHORT_HEADER);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    uint16_t count = be_get16(buf + 2);
    /* the count is the only framing v5 has: it must fit the datagram (extra bytes are ignored) */
    if (count == 0 || (size_t)count * NF5_REC > len - NF5_HDR) {
        dec_error(m->ctx, m->exp, DC_BAD_LENGTH);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    uint32_t uptime = be_get32(buf + 4);
    uint64_t unix_ms = (uint64_t)be_get32(buf + 8) * 1000 + be_get32(buf + 12) / 1000000u;
    uint32_t seq = be_get32(buf + 16);
    int interval = be_get16(buf + 22) & 0x3fff; /* top 2 bits: sampling mode */
    dec_seq(m, &m->exp->v5_seq_valid, &m->exp->v5_seq_next, seq, count);
    m->export_ms = unix_ms;
    m->uptime = uptime;
    /* what dec_rate reads (the exporter's policy, the header's interval) is the message's */
    uint32_t rate = dec_rate(m, 0, false, 0, interval);
    const uint8_t *p = buf + NF5_HDR;
    /* One record for the message, every field written for each of its records (the emit may
     * change any: core/flow.h, test_decode_scribble), where a memset per record was a `rep
     * stos` of 104 bytes; what the rate and the exporter give a record (dec_stamp) and the
     * counters (dec_count) once per message, as a plain template's set does (decode_tmpl.c)
     * (bench/RESULTS.md, issue 15 forty-ninth part). */
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct flow_rec r;
    memset(&r, 0, sizeof r); /* and its padding, once */
    uint32_t applied = dec_stamp(m, &r, rate);
    uint32_t sampling = r.sampling, exporter = r.exporter;
    uint8_t flags = r.flags;
    for (unsigned i = 0; i < count; i++, p += NF5_REC) {
        memcpy(r.src, v4_mapped, 12);
        memcpy(r.src + 12, p, 4);
        memcpy(r.dst, v4_mapped, 12);
        memcpy(r.dst + 12, p + 4, 4);
        r.sampling = sampling;
        r.exporter = exporter;
        r.flags = flags;
        r.dir = 0;
        r.customer = 0;
        r.peer_customer = 0;
        r.in_if = be_get16(p + 12); /* SNMP index of the input interface */
        r.packets = be_get32(p + 16);
        r.bytes = be_get32(p + 20);
        uint32_t first = be_get32(p + 24), last = be_get32(p + 28);
        r.first_ms = unix_ms - (uint64_t)(int64_t)(int32_t)(uptime - first);
        r.last_ms = unix_ms - (uint64_t)(int64_t)(int32_t)(uptime - last);
        r.sport = be_get16(p + 32);
        r.dport = be_get16(p + 34);
        r.tcp_flags = p[37];
        r.proto = p[38];
        r.src_as = be_get16(p + 40);
        r.dst_as = be_get16(p + 42);
        dec_emit_stamped(m, &r, applied);
    }
    dec_count(m, rate, count);
}
