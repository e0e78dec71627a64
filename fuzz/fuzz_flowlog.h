/* fuzz_flowlog.h: the body of the Zeek/Argus log fuzz targets (fuzz_zeek_tsv.c,
 * fuzz_zeek_json.c, fuzz_argus.c), which define FUZZ_FMT and include this. The input is split
 * at newlines and every line goes to one parser of that format (headers included: the input
 * defines its own columns). Every record must keep the invariants a source promises. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "flowlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct flow_rec *f)
{
    if (f->last_ms < f->first_ms || f->sampling != 1 || f->customer || f->dir || f->exporter)
        abort();
    if ((f->proto == 1 || f->proto == 58) && f->sport)
        abort();
    if (f->proto != 6 && f->tcp_flags)
        abort();
    if (addr_is_v4(f->src) != addr_is_v4(f->dst) || !(f->flags & FLOW_F_V6) != addr_is_v4(f->src))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flowlog_parser p;
    flowlog_parser_init(&p, FUZZ_FMT);
    const char *s = (const char *)data;
    size_t i = 0;
    while (i < size) {
        const char *nl = memchr(s + i, '\n', size - i);
        size_t len = nl ? (size_t)(nl - (s + i)) : size - i;
        if (len <= FLOWLOG_LINE_MAX) {
            struct flow_rec f[2];
            bool skipped;
            int n = flowlog_parse_line(&p, s + i, len, f, &skipped);
            if (n > 2 || (n < 0 && p.err[0] == 0) || (n > 0 && skipped))
                abort();
            for (int k = 0; k < n; k++)
                check(&f[k]);
        }
        i += len + 1;
    }
    flowlog_parser_fini(&p);
    return 0;
}
