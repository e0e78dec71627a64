/* fuzz_sflow.c: sFlow v5 datagrams into a fresh decoder with tight bounds (two interfaces, two
 * sub-agents per agent). The first word is forced to 5 (sFlow's version) most of the time so
 * the input reaches the sample and record walks. Every record must be sane and memory stays
 * within the configured bound. Seed corpus: fuzz/corpus/sflow, written by
 * `twgen sflow-corpus DIR` (tests/gen/twgen_sflow.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An sFlow record: sampled (rate >= 1), from a known agent, at least one packet, no negative
 * duration. */
static void check(void *arg, struct flow_rec *r)
{
    (void)arg;
    if (r->sampling == 0 || r->exporter == 0 || r->packets == 0 || r->last_ms < r->first_ms)
        abort();
}

/* Any other version the dispatcher recognises (an input left unforced can start 0x0005, a
 * NetFlow v5 header): its records are not sFlow's to check (fuzz_nf5 and fuzz_decode cover
 * those decoders). */
static void ignore(void *arg, struct flow_rec *r)
{
    (void)arg;
    (void)r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536];
    if (size > sizeof buf)
        return 0;
    memcpy(buf, data, size);
    if (size >= 5 && !(data[4] & 0x80)) {
        buf[0] = buf[1] = buf[2] = 0;
        buf[3] = 5;
    }
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 4;
    cfg.max_domains_per_exporter = 2;
    cfg.max_interfaces = 2;
    struct decode_ctx *ctx;
    if (decode_ctx_new(&cfg, &ctx) < 0)
        return 0;
    static const uint8_t ex[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    /* a copy of exactly size bytes, so a read past the end is seen by the sanitizer */
    uint8_t *p = malloc(size ? size : 1);
    if (!p) {
        decode_ctx_free(ctx);
        return 0;
    }
    memcpy(p, buf, size);
    bool sflow = size >= 4 && buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 5;
    flow_emit_fn emit = sflow ? check : ignore;
    decode_datagram(ctx, ex, 6343, 1700000000000ull, p, size, emit, NULL);
    decode_datagram(ctx, ex, 6343, 1700000010000ull, p, size, emit, NULL);
    free(p);
    if (decode_memory(ctx) > decode_memory_bound(&cfg))
        abort();
    decode_ctx_free(ctx);
    return 0;
}
