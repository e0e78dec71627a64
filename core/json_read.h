/* json_read.h: values out of a JSON text, in place (no allocation, nothing copied until asked).
 * For reading our own messages back (the text output of alerts and summaries, the message
 * templates over a detector's evidence); any text is safe: every step is bounded by the text's
 * length and nesting by JR_MAX_DEPTH, and a malformed text just finds nothing.
 * Pure functions; any thread. */
#ifndef TW_JSON_READ_H
#define TW_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JR_MAX_DEPTH 32

enum jr_type { JR_NONE = 0, JR_STRING, JR_NUMBER, JR_TRUE, JR_FALSE, JR_NULL, JR_OBJECT, JR_ARRAY };

/* A value: its type and its text (strings: between the quotes, escapes left as they are;
 * objects and arrays: from the bracket to its match, both included). */
struct jr_val {
    enum jr_type type;
    const char *p;
    size_t n;
};

/* The whole text s[0..n) as a value (leading/trailing blanks ignored). False when it is not
 * one well-formed JSON value. */
bool jr_parse(const char *s, size_t n, struct jr_val *out);
/* The member at a dotted path below object v ("transitwatch.customer.id"; a number step picks
 * an array element: "ports.0.port"). False when absent. */
bool jr_get(const struct jr_val *v, const char *path, struct jr_val *out);
/* Iterate an object's members (key set, a string) or an array's elements (key type JR_NONE):
 * start with *pos = 0; false at the end. */
bool jr_next(const struct jr_val *container, size_t *pos, struct jr_val *key, struct jr_val *val);
/* A string's value unescaped (\uXXXX outside ASCII becomes '?'), other values' text, into
 * buf (NUL-terminated, cut to cap - 1). Returns the length written. */
size_t jr_text(const struct jr_val *v, char *buf, size_t cap);
/* Numbers: false when v is not a number (or, for jr_u64, not a non-negative integer). */
bool jr_double(const struct jr_val *v, double *out);
bool jr_u64(const struct jr_val *v, uint64_t *out);
/* v is a string equal to s. */
bool jr_is(const struct jr_val *v, const char *s);

#endif
