/* nf9.c: NetFlow v9 (RFC 3954): header, template/options template flowsets and data flowsets.
 * The header's count is not trusted: flowsets are walked by their lengths.
 *
 * Like IPFIX (ipfix.c), a packet is walked twice by the same code: checked as a whole (every
 * flowset length, every template and options template record) without changing anything, then
 * applied only if nothing was wrong; a malformed packet changes no state and decodes no record.
 * Zero bytes after the last flowset are padding, not a fault. */
#include "decode_int.h"

#include <errno.h>

#define NF9_HDR 20

static int nf9_templates(struct dec_msg *m, const uint8_t *p, const uint8_t *end, bool apply,
                         unsigned *nrec)
{
    struct tmpl_field f[DECODE_MAX_FIELDS];
    while (end - p >= 4) {
        uint16_t tid = be_get16(p), cnt = be_get16(p + 2);
        if (cnt == 0 && tid == 0 && dec_all_zero(p, (size_t)(end - p)))
            return 0; /* padding */
        p += 4;
        if (cnt == 0 || cnt > DECODE_MAX_FIELDS || (size_t)(end - p) < (size_t)cnt * 4)
            goto invalid;
        for (unsigned i = 0; i < cnt; i++, p += 4)
            f[i] = (struct tmpl_field){.ie = be_get16(p), .len = be_get16(p + 2)};
        if (apply) {
            dec_template(m, tid, false, f, cnt);
            (*nrec)++;
        } else if (tmpl_check(tid, f, cnt) < 0) {
            goto invalid;
        }
    }
    return 0;
invalid:
    dec_error(m->ctx, m->exp, DC_TEMPLATE_INVALID);
    return -EBADMSG;
}

static int nf9_options_templates(struct dec_msg *m, const uint8_t *p, const uint8_t *end,
                                 bool apply, unsigned *nrec)
{
    struct tmpl_field f[DECODE_MAX_FIELDS];
    while (end - p >= 6) {
        uint16_t tid = be_get16(p), slen = be_get16(p + 2), olen = be_get16(p + 4);
        if (tid == 0 && dec_all_zero(p, (size_t)(end - p)))
            return 0; /* padding */
        p += 6;
        size_t ns = slen / 4, no = olen / 4;
        if (slen == 0 || slen % 4 || olen % 4 || (size_t)(end - p) < (size_t)slen + olen ||
            ns + no > DECODE_MAX_FIELDS)
            goto invalid;
        for (size_t i = 0; i < ns + no; i++, p += 4)
            f[i] =
                (struct tmpl_field){.ie = be_get16(p), .len = be_get16(p + 2), .v9_scope = i < ns};
        if (apply) {
            dec_template(m, tid, true, f, ns + no);
            (*nrec)++;
        } else if (tmpl_check(tid, f, ns + no) < 0) {
            goto invalid;
        }
    }
    return 0;
invalid:
    dec_error(m->ctx, m->exp, DC_TEMPLATE_INVALID);
    return -EBADMSG;
}

/* Walk the flowsets of [p, end). Checking (apply false): templates and framing only, -EBADMSG when
 * malformed. Applying: nrec and nsets count for the header count check; framed turns false
 * when a data flowset could not be decoded (its record count is unknown). */
static int nf9_sets(struct dec_msg *m, const uint8_t *p, const uint8_t *end, bool apply,
                    unsigned *nrec, unsigned *nsets, bool *framed)
{
    while (end - p >= 4) {
        uint16_t id = be_get16(p), slen = be_get16(p + 2);
        if (slen < 4 || slen > end - p) {
            if (dec_all_zero(p, (size_t)(end - p))) {
                *framed = false; /* padding after the last flowset: the count is not checked */
                return 0;
            }
            dec_error(m->ctx, m->exp, DC_BAD_SET_LENGTH);
            return -EBADMSG;
        }
        const uint8_t *body = p + 4, *bend = p + slen;
        p = bend;
        if (id == 0 || id == 1) {
            int r = id == 0 ? nf9_templates(m, body, bend, apply, nrec)
                            : nf9_options_templates(m, body, bend, apply, nrec);
            if (r < 0)
                return -EBADMSG;
        }
        if (!apply)
            continue;
        if (slen % 4)
            m->ctx->c[DC_V9_SET_UNALIGNED]++;
        (*nsets)++;
        if (id >= 256) {
            struct tmpl *t = tmpl_find(m->ctx, m->exp->idx, 9, m->dom->id, id, m->now_ms);
            if (t) {
                *nrec += (unsigned)tmpl_decode_set(m, t, body, (size_t)(bend - body));
            } else {
                *framed = false;
                dec_error(m->ctx, m->exp, DC_NO_TEMPLATE);
                dec_pending_push(m, id, body, (size_t)(bend - body));
            }
        } else if (id > 1) {
            dec_error(m->ctx, m->exp, DC_BAD_SET_ID);
        }
    }
    return 0; /* fewer than 4 bytes left: padding */
}

void nf9_decode(struct dec_msg *m, const uint8_t *buf, size_t len)
{
    if (len < NF9_HDR) {
        dec_error(m->ctx, m->exp, DC_SHORT_HEADER);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    const uint8_t *p = buf + NF9_HDR, *end = buf + len;
    unsigned nrec = 0, nsets = 0; /* to compare with the header count */
    bool framed = true;
    if (nf9_sets(m, p, end, false, &nrec, &nsets, &framed) < 0) {
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    m->uptime = be_get32(buf + 4);
    m->export_ms = (uint64_t)be_get32(buf + 8) * 1000;
    uint32_t seq = be_get32(buf + 12);
    unsigned count = be_get16(buf + 2);
    m->dom = dec_domain_get(m, 9, be_get32(buf + 16));
    if (!m->dom)
        return;
    dec_seq(m, &m->dom->seq_valid, &m->dom->seq_next, seq, 1);
    (void)nf9_sets(m, p, end, true, &nrec, &nsets, &framed); /* cannot fail: checked above */
    /* RFC 3954 counts records; many exporters count flowsets; anything else is broken */
    if (framed && nrec != count && nsets != count)
        dec_error(m->ctx, m->exp, DC_BAD_COUNT);
}
