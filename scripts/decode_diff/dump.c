/* dump.c: the decoder's output, every field of every record and every counter, for
 * scripts/decode-diff.sh. Reads a stream of datagrams (gen.py: per datagram a little-endian
 * header u32 length, u64 now_ms, 16-byte source address, u16 source port, then the bytes) into
 * one decode ctx and prints each emitted record field by field, then every counter.
 *   dump STREAM [VARIANT]   VARIANT 0: default bounds; 1: tight bounds (evictions, pending
 *                           limits), the clock check on, per-exporter sampling policies */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

static unsigned long nrec;

static void emit(void *arg, struct flow_rec *r)
{
    FILE *o = arg;
    nrec++;
    fprintf(o, "R ");
    for (int i = 0; i < 16; i++)
        fprintf(o, "%02x", r->src[i]);
    fprintf(o, " ");
    for (int i = 0; i < 16; i++)
        fprintf(o, "%02x", r->dst[i]);
    fprintf(o,
            " b=%" PRIu64 " p=%" PRIu64 " f=%" PRIu64 " l=%" PRIu64
            " s=%u e=%u sp=%u dp=%u pr=%u tf=%u fl=%u dir=%u sas=%u das=%u c=%u pc=%u if=%u\n",
            r->bytes, r->packets, r->first_ms, r->last_ms, r->sampling, r->exporter, r->sport,
            r->dport, r->proto, r->tcp_flags, r->flags, r->dir, r->src_as, r->dst_as, r->customer,
            r->peer_customer, r->in_if);
    /* the record is borrowed: the pipeline writes into it, so may this */
    r->dir = 3;
    r->customer = 77;
    r->peer_customer = 5;
}

static void policy(void *arg, const uint8_t a[16], struct exporter_policy *out)
{
    (void)arg;
    if (a[15] % 7 == 1)
        out->sampling_default = 10;
    if (a[15] % 11 == 2)
        out->sampling_override = 3;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dump STREAM [VARIANT]\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    cfg.ipfix_udp_withdrawal = true;
    if (argc > 2 && atoi(argv[2]) == 1) {
        cfg.max_templates = 64;
        cfg.max_templates_per_source = 16;
        cfg.max_domains_per_exporter = 4;
        cfg.pending_max = 4;
        cfg.pending_bytes_max = 4096;
        cfg.clock_skew_ms = 3600000;
        cfg.policy = policy;
    }
    struct decode_ctx *ctx;
    if (decode_ctx_new(&cfg, &ctx) < 0)
        return 3;
    static uint8_t buf[70000];
    uint8_t h[30];
    while (fread(h, 1, sizeof h, in) == sizeof h) {
        uint32_t len;
        uint64_t now;
        uint16_t sport;
        memcpy(&len, h, 4);
        memcpy(&now, h + 4, 8);
        memcpy(&sport, h + 28, 2);
        if (len > sizeof buf || fread(buf, 1, len, in) != len)
            return 4;
        uint8_t *b = malloc(len ? len : 1); /* exactly its size: a sanitizer sees overreads */
        if (!b)
            return 3;
        memcpy(b, buf, len);
        decode_datagram(ctx, h + 12, sport, now, b, len, emit, stdout);
        free(b);
    }
    fclose(in);
    for (int c = 0; c < DC_COUNT; c++)
        printf("C %s %" PRIu64 "\n", decode_counter_name(c), decode_counter(ctx, c));
    decode_ctx_free(ctx);
    fprintf(stderr, "%lu records\n", nrec);
    return 0;
}
