/* pbwire.c: protobuf wire format (see pbwire.h). */
#include "pbwire.h"

#include <errno.h>
#include <string.h>

#include "le.h"

void pb_put_varint(struct pb_writer *w, uint64_t v)
{
    if (w->err || (size_t)(w->end - w->p) < pb_varint_len(v)) {
        w->err = true;
        return;
    }
    while (v >= 0x80) {
        *w->p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *w->p++ = (uint8_t)v;
}

void pb_put_u64(struct pb_writer *w, uint32_t field, uint64_t v)
{
    if (!v)
        return;
    uint64_t tag = (uint64_t)field << 3 | PB_VARINT;
    if ((size_t)(w->end - w->p) < pb_varint_len(tag) + pb_varint_len(v)) {
        w->err = true;
        return;
    }
    pb_put_varint(w, tag);
    pb_put_varint(w, v);
}

void pb_put_bytes(struct pb_writer *w, uint32_t field, const void *data, size_t n, bool skip_empty)
{
    if (!n && skip_empty)
        return;
    uint64_t tag = (uint64_t)field << 3 | PB_LEN;
    if (w->err || (size_t)(w->end - w->p) < pb_varint_len(tag) + pb_varint_len(n) + n) {
        w->err = true;
        return;
    }
    pb_put_varint(w, tag);
    pb_put_varint(w, n);
    if (n)
        memcpy(w->p, data, n);
    w->p += n;
}

int pb_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    const uint8_t *q = *p;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (q >= end)
            return -EBADMSG;
        uint8_t b = *q++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            *p = q;
            return 0;
        }
    }
    return -EBADMSG;
}

int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f)
{
    if (*p >= end)
        return 0;
    const uint8_t *q = *p;
    uint64_t tag;
    if (pb_get_varint(&q, end, &tag) < 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
        return -EBADMSG;
    f->num = (uint32_t)(tag >> 3);
    f->wire = (enum pb_wire)(tag & 7);
    f->data = NULL;
    f->len = 0;
    f->v = 0;
    switch (tag & 7) {
    case PB_VARINT:
        if (pb_get_varint(&q, end, &f->v) < 0)
            return -EBADMSG;
        break;
    case PB_I64:
    case PB_I32: {
        size_t n = (tag & 7) == PB_I64 ? 8 : 4;
        if ((size_t)(end - q) < n)
            return -EBADMSG;
        f->v = n == 8 ? le_get64(q) : le_get32(q);
        q += n;
        break;
    }
    case PB_LEN: {
        uint64_t n;
        if (pb_get_varint(&q, end, &n) < 0 || n > (uint64_t)(end - q))
            return -EBADMSG;
        f->data = q;
        f->len = (size_t)n;
        q += n;
        break;
    }
    default:
        return -EBADMSG; /* groups (3, 4) and reserved types */
    }
    *p = q;
    return 1;
}
