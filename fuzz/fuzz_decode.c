/* fuzz_decode.c: stateful: the input is a series of datagrams, each [u8 exporter/time][u16 len]
 * [len bytes], fed to one ctx with tight bounds; memory and template counts must stay bounded.
 * Byte 0 of each header: low 3 bits pick one of 8 exporters, the rest advance time (bit 7 also
 * runs decode_expire). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *arg, struct flow_rec *r)
{
    (void)arg;
    if (r->last_ms < r->first_ms || r->sampling == 0 || r->exporter == 0 || r->exporter > 4)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_exporters = 4;
    cfg.max_templates = 32;
    cfg.max_templates_per_source = 8;
    cfg.max_domains_per_exporter = 3;
    cfg.template_lifetime_ms = 20000;
    cfg.pending_max = 4;
    cfg.pending_bytes_max = 2048;
    cfg.pending_ms = 5000;
    cfg.ipfix_udp_withdrawal = (size & 1) != 0;
    struct decode_ctx *ctx;
    if (decode_ctx_new(&cfg, &ctx) < 0)
        return 0;
    size_t bound = decode_memory_bound(&cfg);
    uint64_t now = 1700000000000ull;
    size_t off = 0;
    while (size - off >= 3) {
        uint8_t sel = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        uint8_t ex[16] = {0, 0, 0,    0,    0,   0,  0,   0,
                          0, 0, 0xff, 0xff, 198, 51, 100, (uint8_t)(sel & 7)};
        now += (uint64_t)(sel >> 3) * 1000;
        decode_datagram(ctx, ex, 2055, now, data + off, len, check, NULL);
        if (sel & 0x80)
            decode_expire(ctx, now);
        off += len;
        if (decode_memory(ctx) > bound || decode_template_count(ctx) > cfg.max_templates)
            abort();
    }
    decode_ctx_free(ctx);
    return 0;
}
