/* fuzz_datagram.h: the body of the per-version decoder fuzz targets (fuzz_nf5.c, fuzz_nf9.c,
 * fuzz_ipfix.c, fuzz_sflow.c), which define FUZZ_VERSION (fuzz_sflow.c also FUZZ_SFLOW) and
 * include this. One datagram of that version is fed twice to a fresh ctx with tight bounds,
 * from a copy of exactly its size (a read past the end is seen by the sanitizer); the second
 * pass sees the templates the first defined. Every record must be sane, and memory and
 * templates stay within the configured bounds.
 * NetFlow/IPFIX: the version field is forced (for IPFIX the message length too most of the
 * time); template withdrawal is honoured and pending sets are on, to reach those paths.
 * sFlow: the first word is forced to 5 (sFlow's version) unless the fifth byte has its top bit
 * set, so the input reaches the sample and record walks, and other headers the dispatcher
 * knows still come through; two interfaces, two sub-agents per agent. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#ifdef FUZZ_SFLOW
#define FUZZ_PORT 6343
#define FUZZ_GAP_MS 10000
#else
#define FUZZ_PORT 2055
#define FUZZ_GAP_MS 1000
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A record of the fuzzed version: from a known exporter, sampled (rate >= 1), no negative
 * duration; an sFlow sample also stands for at least one packet. */
static void check(void *arg, struct flow_rec *r)
{
    (void)arg;
    if (r->last_ms < r->first_ms || r->sampling == 0 || r->exporter == 0)
        abort();
#ifdef FUZZ_SFLOW
    if (r->packets == 0)
        abort();
#endif
}

/* Any other version the dispatcher recognises (an sFlow input left unforced can start 0x0005,
 * a NetFlow v5 header): its records are not this target's to check (fuzz_nf5 and fuzz_decode
 * cover those decoders). */
static void ignore(void *arg, struct flow_rec *r)
{
    (void)arg;
    (void)r;
}

/* Forces the version in buf (size bytes) as the header comment says; returns whether buf is
 * now a datagram of the fuzzed version. */
static bool force_version(uint8_t *buf, size_t size)
{
#ifdef FUZZ_SFLOW
    if (size >= 5 && !(buf[4] & 0x80)) {
        buf[0] = buf[1] = buf[2] = 0;
        buf[3] = 5;
    }
    return size >= 4 && buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 5;
#else
    if (size >= 2) {
        buf[0] = 0;
        buf[1] = FUZZ_VERSION;
    }
    if (FUZZ_VERSION == 10 && size >= 4 && size <= 65535) {
        buf[2] = (uint8_t)(size >> 8);
        buf[3] = (uint8_t)size;
    }
    return true;
#endif
}

static void fuzz_cfg(struct decode_cfg *cfg)
{
    decode_cfg_defaults(cfg);
#ifdef FUZZ_SFLOW
    cfg->max_exporters = 4;
    cfg->max_domains_per_exporter = 2;
    cfg->max_interfaces = 2;
#else
    cfg->max_templates = 64;
    cfg->max_templates_per_source = 16;
    cfg->max_domains_per_exporter = 4;
    cfg->pending_max = 4;
    cfg->pending_bytes_max = 4096;
    cfg->ipfix_udp_withdrawal = true;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    flow_emit_fn emit = force_version(buf, size) ? check : ignore;
    struct decode_cfg cfg;
    fuzz_cfg(&cfg);
    struct decode_ctx *ctx;
    if (decode_ctx_new(&cfg, &ctx) < 0) {
        free(buf);
        return 0;
    }
    static const uint8_t ex[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    decode_datagram(ctx, ex, FUZZ_PORT, 1700000000000ull, buf, size, emit, NULL);
    decode_datagram(ctx, ex, FUZZ_PORT, 1700000000000ull + FUZZ_GAP_MS, buf, size, emit, NULL);
    free(buf);
    if (decode_memory(ctx) > decode_memory_bound(&cfg) ||
        decode_template_count(ctx) > cfg.max_templates)
        abort();
    decode_ctx_free(ctx);
    return 0;
}
