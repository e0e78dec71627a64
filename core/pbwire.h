/* pbwire.h: the protobuf wire format, by hand (no code generator): varints, tags, length-
 * delimited fields, for the few fixed schemas the project reads and writes
 * (collector/flowpb.h: its own flow record, GoFlow2's FlowMessage). Only the wire types
 * protobuf 3 uses for scalars and bytes are produced (0 varint, 2 length-delimited); the reader
 * also skips 1 (64-bit) and 5 (32-bit) fields it does not know.
 * Threads: none (pure functions over caller buffers). No allocation. */
#ifndef TW_PBWIRE_H
#define TW_PBWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pb_wire { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

#define PB_VARINT_MAX 10 /* bytes of a 64-bit varint, at most */

/* ---- writer: appends at w->p; a field that does not fit sets w->err (nothing partial) ---- */
struct pb_writer {
    uint8_t *p, *end;
    bool err;
};

static inline void pb_writer_init(struct pb_writer *w, uint8_t *buf, size_t cap)
{
    w->p = buf;
    w->end = buf + cap;
    w->err = false;
}
/* Bytes a varint of v takes. */
static inline size_t pb_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
void pb_put_varint(struct pb_writer *w, uint64_t v);
/* A varint field (field, value); proto3 leaves a zero out, so does this. */
void pb_put_u64(struct pb_writer *w, uint32_t field, uint64_t v);
/* A length-delimited field (bytes, string, nested message), also when n = 0 unless skip_empty. */
void pb_put_bytes(struct pb_writer *w, uint32_t field, const void *data, size_t n, bool skip_empty);

/* ---- reader ---- */
struct pb_field {
    uint32_t num;
    enum pb_wire wire;
    uint64_t v;          /* PB_VARINT, PB_I64, PB_I32: the value */
    const uint8_t *data; /* PB_LEN: the bytes */
    size_t len;
};

/* A varint at *p (< end): 0 and *p moved past it, or -EBADMSG (truncated, over 10 bytes). */
int pb_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);
/* The next field of a message at *p: 1 with f and *p moved on, 0 at the end, -EBADMSG when the
 * bytes are not a protobuf message (a truncated field, wire types 3/4/6/7, field number 0). */
int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f);

#endif
