/* ipfix.c: IPFIX (RFC 7011) messages: template sets (2), options template sets (3), data sets
 * (>= 256), enterprise and variable-length IEs, withdrawals, sequence numbers.
 *
 * A message is walked twice by the same code: first checked as a whole (its length, every
 * set's length, every template and withdrawal record) without changing anything, then, only
 * if nothing was wrong, applied. A malformed message changes no template, sampling, sequence
 * or domain state and decodes no record (RFC 7011 8: a Collecting Process discards a
 * malformed message); it is counted by its fault and in messages_malformed. */
#include "decode_int.h"

#include <errno.h>

#define IPFIX_HDR 16

/* Parse cnt field specifiers at *pp; returns 0, or -EBADMSG when they run past end. */
static int parse_fields(const uint8_t **pp, const uint8_t *end, unsigned cnt, struct tmpl_field *f)
{
    const uint8_t *p = *pp;
    for (unsigned i = 0; i < cnt; i++) {
        if (end - p < 4)
            return -EBADMSG;
        uint16_t ie = be_get16(p), flen = be_get16(p + 2);
        p += 4;
        uint32_t pen = 0;
        if (ie & 0x8000) {
            if (end - p < 4)
                return -EBADMSG;
            pen = be_get32(p);
            p += 4;
        }
        if (i < DECODE_MAX_FIELDS)
            f[i] = (struct tmpl_field){
                .ie = ie & 0x7fff, .len = flen, .pen = pen, .enterprise = (ie & 0x8000) != 0};
    }
    *pp = p;
    return 0;
}

/* Apply a withdrawal record (checked already: tid is the set id or >= 256). */
static void withdraw(struct dec_msg *m, uint16_t tid, uint16_t set_id)
{
    if (!m->ctx->cfg.ipfix_udp_withdrawal) {
        m->ctx->c[DC_TEMPLATES_WITHDRAWAL_IGNORED]++;
        return;
    }
    if (tid == set_id)
        tmpl_withdraw_all(m, set_id == 3);
    else
        tmpl_withdraw(m, tid);
}

/* The records of a template or options template set. Checking (apply false): -EBADMSG with the
 * fault counted at the first bad record. Applying: every record goes in. */
static int ipfix_templates(struct dec_msg *m, uint16_t set_id, const uint8_t *p, const uint8_t *end,
                           bool apply)
{
    struct tmpl_field f[DECODE_MAX_FIELDS];
    bool options = set_id == 3;
    while (end - p >= 4) {
        uint16_t tid = be_get16(p), cnt = be_get16(p + 2);
        if (tid == 0 && dec_all_zero(p, (size_t)(end - p)))
            return 0; /* padding */
        p += 4;
        if (cnt == 0) { /* withdrawal: one id, or all of the set's kind */
            if (tid != set_id && tid < 256)
                goto invalid;
            if (apply)
                withdraw(m, tid, set_id);
            continue;
        }
        unsigned nscope = 0;
        if (options) {
            if (end - p < 2)
                goto invalid;
            nscope = be_get16(p);
            p += 2;
        }
        if (parse_fields(&p, end, cnt, f) < 0 || (options && (nscope == 0 || nscope > cnt)))
            goto invalid;
        if (apply)
            dec_template(m, tid, options, f, cnt);
        else if (tmpl_check(tid, f, cnt) < 0)
            goto invalid;
    }
    return 0; /* fewer than 4 bytes left: padding */
invalid:
    dec_error(m->ctx, m->exp, DC_TEMPLATE_INVALID);
    return -EBADMSG;
}

/* Walk the sets of [p, end). Checking: templates and framing only, -EBADMSG when malformed. */
static int ipfix_sets(struct dec_msg *m, const uint8_t *p, const uint8_t *end, bool apply)
{
    while (end - p >= 4) {
        uint16_t id = be_get16(p), slen = be_get16(p + 2);
        if (slen < 4 || slen > end - p)
            break;
        const uint8_t *body = p + 4, *bend = p + slen;
        if (id == 2 || id == 3) {
            if (ipfix_templates(m, id, body, bend, apply) < 0)
                return -EBADMSG;
        } else if (!apply) {
            /* data and reserved sets: only their length matters here */
        } else if (id >= 256) {
            struct tmpl *t = tmpl_find(m->ctx, m->exp->idx, 10, m->dom->id, id, m->now_ms);
            if (t) {
                tmpl_decode_set(m, t, body, (size_t)(bend - body));
            } else {
                m->seq_broken = true;
                dec_error(m->ctx, m->exp, DC_NO_TEMPLATE);
                dec_pending_push(m, id, body, (size_t)(bend - body));
            }
        } else {
            dec_error(m->ctx, m->exp, DC_BAD_SET_ID);
        }
        p = bend;
    }
    if (p != end) { /* a set length that runs past the message, or bytes after the last set */
        dec_error(m->ctx, m->exp, DC_BAD_SET_LENGTH);
        return -EBADMSG;
    }
    return 0;
}

void ipfix_decode(struct dec_msg *m, const uint8_t *buf, size_t len)
{
    if (len < IPFIX_HDR) {
        dec_error(m->ctx, m->exp, DC_SHORT_HEADER);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    size_t mlen = be_get16(buf + 2);
    if (mlen < IPFIX_HDR || mlen > len) {
        dec_error(m->ctx, m->exp, DC_BAD_LENGTH);
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    const uint8_t *p = buf + IPFIX_HDR, *end = buf + mlen;
    if (ipfix_sets(m, p, end, false) < 0) {
        m->ctx->c[DC_MESSAGES_MALFORMED]++;
        return;
    }
    m->export_ms = (uint64_t)be_get32(buf + 4) * 1000;
    uint32_t seq = be_get32(buf + 8);
    m->dom = dec_domain_get(m, 10, be_get32(buf + 12));
    if (!m->dom)
        return;
    (void)ipfix_sets(m, p, end, true); /* cannot fail: checked above */
    /* the sequence number counts data records sent before this message */
    if (m->seq_broken)
        m->dom->seq_valid = false;
    else
        dec_seq(m, &m->dom->seq_valid, &m->dom->seq_next, seq, (uint32_t)m->records);
}
