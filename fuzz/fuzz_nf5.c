/* fuzz_nf5.c: one NetFlow v5 datagram into a fresh decode ctx. */
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
        buf[1] = 5;
    }
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.max_templates = 64;
    struct decode_ctx *ctx;
    if (decode_ctx_new(&cfg, &ctx) < 0)
        return 0;
    static const uint8_t ex[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    decode_datagram(ctx, ex, 2055, 1700000000000ull, buf, size, check, NULL);
    decode_ctx_free(ctx);
    return 0;
}
