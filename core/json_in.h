/* json_in.h: reading JSON from outside (blocklist feeds, nfdump's output, Zeek logs) with
 * json-c, one object at a time, its members handed out as text. The writer of our own JSON is
 * json.h (no allocation); reading our own JSON back in place (the text output, the rules'
 * message templates) is json_read.h; this is the reader of text from outside.
 *
 * Why json-c (libjson-c5; jansson was the other candidate): json-c keeps a real number's own
 * digits (json_object_new_double_s), so "1300475167.096535" reaches our exact decimal parsers
 * (textfield.h) as written instead of through a binary double; its tokener parses
 * incrementally (nfdump's pretty-printed objects arrive a line at a time through a pipe), with
 * the nesting bound given at run time. What json-c lets through that RFC 8259 refuses
 * (single-quoted strings, NaN, a raw tab, LF or CR inside a string) reaches the callers as a value
 * they check like any other; integers beyond 64 bits, which json-c clamps, and strings with a
 * NUL byte, which C strings cannot carry, are handed out as JIN_OTHER.
 *
 * Rules: an object must be the whole input (blanks around it allowed) for jin_object; strings
 * must be valid UTF-8; control characters other than tab, LF and CR (NUL among them) are
 * refused anywhere in the input; nesting deeper than the reader's bound is an error. Members are handed out in the object's order; a key given twice is handed out once,
 * with the last value, where it first stood.
 *
 * Threads: a reader (struct jin) is used by one thread; it allocates while parsing (json-c
 * builds each object; nothing is kept between objects). */
#ifndef TW_JSON_IN_H
#define TW_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>

enum jin_type {
    JIN_NULL,   /* text "null" */
    JIN_BOOL,   /* text "true" or "false" */
    JIN_NUMBER, /* text as written (integers: printed back, the same digits) */
    JIN_STRING, /* the decoded string */
    JIN_OTHER,  /* no usable text (s = "", n = 0): an object, an array, an integer beyond 64
                   bits, a string holding a NUL byte */
};

struct jin_value {
    enum jin_type type;
    const char *s; /* borrowed for the callback, NUL-terminated at n */
    size_t n;
};

/* One member: key (decoded, NUL-terminated, klen bytes) and value. Returns 0 to go on, or a
 * negative errno to stop (the reader returns it). */
typedef int (*jin_member_fn)(void *arg, const char *key, size_t klen, const struct jin_value *v);

struct jin;

/* A reader allowing max_depth levels of nesting (the object itself is one). 0 or -ENOMEM. */
int jin_new(int max_depth, struct jin **out);
void jin_free(struct jin *j);
/* Drop an object half read by jin_feed. */
void jin_reset(struct jin *j);
/* Why the last call failed ("" when it did not). */
const char *jin_error(const struct jin *j);

/* s[0..n) must be exactly one JSON object (blanks around it allowed): cb is called for each
 * member. Returns 0, cb's negative return (it stopped), or -EINVAL (jin_error says why). */
int jin_object(struct jin *j, const char *s, size_t n, jin_member_fn cb, void *arg);

/* Incremental: the next piece of an object that started with an earlier piece or starts here
 * (at its '{', after any blanks). Returns 1 when the object ended in this piece (cb was called
 * for its members, *used = bytes up to its closing brace; what follows is the caller's), 0 when
 * it goes on (all n bytes taken), or -EINVAL (the object is dropped, jin_error says why); cb's
 * negative return is returned as is (*used is set: the object ended). */
int jin_feed(struct jin *j, const char *s, size_t n, size_t *used, jin_member_fn cb, void *arg);
/* Is an object half read? */
bool jin_pending(const struct jin *j);

#endif
