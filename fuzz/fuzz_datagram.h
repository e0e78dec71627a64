/* fuzz_datagram.h: the body of the per-version decoder fuzz targets (fuzz_nf5.c, fuzz_nf9.c,
 * fuzz_ipfix.c), which define FUZZ_VERSION and include this. One datagram of that version
 * (the version field forced, for IPFIX the message length too most of the time) is fed twice
 * to a fresh ctx with tight bounds: the second pass sees the templates the first defined.
 * Template withdrawal is honoured and pending sets are on, to reach those paths. Every record
 * must be sane, and memory and templates stay within the configured bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *arg, struct flow_rec *r)
{
    (void)arg;
    if (r->last_ms < r->first_ms || r->sampling == 0 || r->exporter == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536];
    if (size > sizeof buf)
        return 0;
    memcpy(buf, data, size);
    if (size >= 2) {
        buf[0] = 0;
        buf[1] = FUZZ_VERSION;
    }
    if (FUZZ_VERSION == 10 && size >= 4 && size <= 65535) {
        buf[2] = (uint8_t)(size >> 8);
        buf[3] = (uint8_t)size;
    }
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_templates = 64;
    cfg.max_templates_per_source = 16;
    cfg.max_domains_per_exporter = 4;
    cfg.pending_max = 4;
    cfg.pending_bytes_max = 4096;
    cfg.ipfix_udp_withdrawal = true;
    struct decode_ctx *ctx;
    if (decode_ctx_new(&cfg, &ctx) < 0)
        return 0;
    static const uint8_t ex[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    decode_datagram(ctx, ex, 2055, 1700000000000ull, buf, size, check, NULL);
    decode_datagram(ctx, ex, 2055, 1700000001000ull, buf, size, check, NULL);
    if (decode_memory(ctx) > decode_memory_bound(&cfg) ||
        decode_template_count(ctx) > cfg.max_templates)
        abort();
    decode_ctx_free(ctx);
    return 0;
}
