/* fuzz_nfdump: nfdump output (as `nfdump -r FILE -o json|csv` prints it) into the line parser.
 * The first byte picks the format (even: JSON, odd: CSV); the rest is split at newlines, and
 * each record the parser accepts is checked for the invariants records must keep.
 * Seeds: fuzz/corpus/nfdump. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct flow_rec *f)
{
    if (f->last_ms < f->first_ms || f->sampling != 1 || f->customer || f->dir)
        abort();
    if ((f->proto == 1 || f->proto == 58) && f->sport)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct nfdump_parser p;
    if (nfdump_parser_init(&p, (data[0] & 1) ? NFDUMP_FMT_CSV : NFDUMP_FMT_JSON) < 0)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1, i = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
        if (len <= NFDUMP_LINE_MAX) {
            struct flow_rec f;
            if (nfdump_parse_line(&p, s + i, len, &f) == 1)
                check(&f);
        } else {
            nfdump_parser_skip_line(&p);
        }
        i += len + 1;
    }
    nfdump_parser_fini(&p);
    return 0;
}
