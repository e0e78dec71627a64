/* twgen_hostile.c: the hostile-input corpus and the host-flood capture (see twgen_hostile.h).
 * Every case is built here by code, named for the flaw it carries; nothing binary is committed. */
#include "twgen_hostile.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_export.h"
#include "gen_exportw.h"
#include "gen_pcap.h"

#define BASE_MS 1767225600000ull /* 2026-01-01 00:00:00 UTC */
#define VALID_RECORDS 8          /* the v5 (5) + IPFIX (3) datagrams appended to each case */
#define BUF_CAP 65000

struct hctx {
    const char *dir;
    FILE *man;
    int ncases, failed;
    /* the open case */
    struct gen_pcap *w;
    char name[96], file[128], counter[64], flags[32];
    unsigned extra;
    uint32_t dom; /* this case's observation domain / source id */
    uint64_t ts_ns;
    uint8_t exp[16], col[16];
    bool pcapng;
};

static uint8_t g_buf[BUF_CAP];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int case_begin(struct hctx *h, const char *name, const char *counter, unsigned extra,
                      const char *flags, bool pcapng)
{
    snprintf(h->name, sizeof h->name, "%s", name);
    snprintf(h->file, sizeof h->file, "%s.%s", name, pcapng ? "pcapng" : "pcap");
    snprintf(h->counter, sizeof h->counter, "%s", counter);
    snprintf(h->flags, sizeof h->flags, "%s", flags);
    h->extra = extra;
    h->pcapng = pcapng;
    h->dom = 1000u + (uint32_t)h->ncases;
    h->ts_ns = (BASE_MS + (uint64_t)h->ncases * 1000) * 1000000ull;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", h->dir, h->file);
    struct gen_pcap_opts o = {.linktype = GEN_LT_EN10MB, .pcapng = pcapng};
    if (gen_pcap_open(path, &o, &h->w) < 0) {
        fprintf(stderr, "twgen hostile: cannot write %s: %s\n", path, strerror(errno));
        h->failed++;
        return -1;
    }
    return 0;
}

static void dg_from(struct hctx *h, const uint8_t src[16], const uint8_t *p, size_t len)
{
    if (gen_pcap_write_udp(h->w, h->ts_ns, src, 50000, h->col, 2055, p, len) < 0)
        h->failed++;
    h->ts_ns += 100000; /* 0.1 ms apart */
}

static void dg(struct hctx *h, const uint8_t *p, size_t len)
{
    dg_from(h, h->exp, p, len);
}

static void dg_msg(struct hctx *h, int len)
{
    if (len < 0) {
        fprintf(stderr, "twgen hostile: %s: message did not fit\n", h->name);
        h->failed++;
        return;
    }
    dg(h, g_buf, (size_t)len);
}

/* The valid datagrams every case carries: v5 with 5 flows, IPFIX template + 3 flows. */
static void valid_datagrams(struct hctx *h)
{
    struct gen_flow f[5];
    for (uint32_t i = 0; i < 5; i++)
        gen_flow_fill(&f[i], 99, i, false, BASE_MS);
    struct gen_nf5_hdr v5 = {.uptime_ms = 3600000, .unix_ms = BASE_MS + 1000, .seq = 0};
    uint8_t buf[512];
    int len = gen_nf5(buf, sizeof buf, &v5, f, 5);
    if (len > 0)
        dg(h, buf, (size_t)len);
    struct gen_tmpl t;
    gen_tmpl_flow(&t, 999, GEN_IPFIX, 0);
    struct gen_msg m;
    gen_msg_begin(&m, g_buf, sizeof g_buf, GEN_IPFIX, 7777, 0, BASE_MS + 1000, 0);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 3);
    dg_msg(h, gen_msg_end(&m));
}

static void case_end(struct hctx *h, bool valid_first)
{
    if (!valid_first)
        valid_datagrams(h);
    if (gen_pcap_close(h->w) < 0)
        h->failed++;
    h->w = NULL;
    fprintf(h->man, "%s\t%s\t%s\t%u\t%s\n", h->name, h->file, h->counter, VALID_RECORDS + h->extra,
            h->flags);
    h->ncases++;
}

/* One case whose datagrams are written by the statement that follows. */
#define CASE(h, name, counter, extra, flags)                                                       \
    if (case_begin(h, name, counter, extra, flags, false) == 0)                                    \
        for (int once_ = 1; once_; once_ = 0, case_end(h, false))

/* ---- message helpers ---- */

static void ipfix_begin(struct gen_msg *m, const struct hctx *h, uint32_t seq)
{
    gen_msg_begin(m, g_buf, sizeof g_buf, GEN_IPFIX, h->dom, seq, BASE_MS, 0);
}

static void v9_begin(struct gen_msg *m, const struct hctx *h, uint32_t seq)
{
    gen_msg_begin(m, g_buf, sizeof g_buf, GEN_V9, h->dom, seq, BASE_MS, 3600000);
}

/* A message with one raw set. */
static int one_set(const struct hctx *h, int version, uint16_t set_id, const uint8_t *body,
                   size_t n)
{
    struct gen_msg m;
    if (version == GEN_V9)
        v9_begin(&m, h, 0);
    else
        ipfix_begin(&m, h, 0);
    gen_add_raw_set(&m, set_id, body, n);
    return gen_msg_end(&m);
}

/* Template + n data records (flow template, v4 or v6). */
static int tmpl_data(const struct hctx *h, int version, uint16_t tid, unsigned opts, size_t n,
                     uint32_t seq)
{
    struct gen_tmpl t;
    gen_tmpl_flow(&t, tid, version, opts);
    struct gen_flow f[4];
    for (uint32_t i = 0; i < 4; i++)
        gen_flow_fill(&f[i], 5, i, opts & GEN_T_V6, BASE_MS);
    struct gen_msg m;
    if (version == GEN_V9)
        v9_begin(&m, h, seq);
    else
        ipfix_begin(&m, h, seq);
    gen_add_template(&m, &t);
    if (n)
        gen_add_data(&m, &t, f, n);
    return gen_msg_end(&m);
}

/* Header patched after the fact: IPFIX message length / v9 count. */
static int with_len16(int len, size_t off, uint16_t v)
{
    if (len >= 0)
        put16(g_buf + off, v);
    return len;
}

/* n template records {tid0 + i, 1 field (8, 4)} as one set body (scratch). */
static size_t template_run(uint8_t *body, size_t cap, uint16_t tid0, size_t n, bool options)
{
    size_t k = 0, rec = options ? 14 : 8;
    for (size_t i = 0; i < n && k + rec <= cap; i++) {
        put16(body + k, (uint16_t)(tid0 + i));
        put16(body + k + 2, options ? 2 : 1);
        k += 4;
        if (options) {
            put16(body + k, 1); /* scope count */
            put16(body + k + 2, 149);
            put16(body + k + 4, 4);
            k += 6;
        }
        put16(body + k, 8);
        put16(body + k + 2, 4);
        k += 4;
    }
    return k;
}

/* A template of nfields fields (8, 4) with tid. */
static size_t wide_template(uint8_t *body, size_t cap, uint16_t tid, size_t nfields)
{
    if (4 + 4 * nfields > cap)
        return 0;
    put16(body, tid);
    put16(body + 2, (uint16_t)nfields);
    for (size_t i = 0; i < nfields; i++) {
        put16(body + 4 + 4 * i, 8);
        put16(body + 6 + 4 * i, 4);
    }
    return 4 + 4 * nfields;
}

/* ---- the cases ---- */

static void cases_v5(struct hctx *h)
{
    struct gen_flow f[2];
    gen_flow_fill(&f[0], 3, 0, false, BASE_MS);
    gen_flow_fill(&f[1], 3, 1, false, BASE_MS);
    struct gen_nf5_hdr hd = {.uptime_ms = 3600000, .unix_ms = BASE_MS};
    uint8_t b[256];
    int n = gen_nf5(b, sizeof b, &hd, f, 2);
    CASE(h, "v5_count_exceeds_length", "errors.bad_length", 0, "-")
    {
        put16(b + 2, 10);
        dg(h, b, (size_t)n);
    }
    CASE(h, "v5_count_zero", "errors.bad_length", 0, "-")
    {
        put16(b + 2, 0);
        dg(h, b, (size_t)n);
    }
    CASE(h, "v5_count_65535", "errors.bad_length", 0, "-")
    {
        put16(b + 2, 65535);
        dg(h, b, (size_t)n);
    }
    CASE(h, "v5_header_truncated", "errors.short_header", 0, "-")
    {
        put16(b + 2, 2);
        dg(h, b, 20);
    }
    CASE(h, "datagram_one_byte", "errors.short_header", 0, "-")
    {
        dg(h, (const uint8_t *)"\x05", 1);
    }
    CASE(h, "version_7_unknown", "errors.bad_version", 0, "-")
    {
        put16(b, 7);
        dg(h, b, (size_t)n);
        put16(b, 5);
    }
    CASE(h, "version_65535_garbage", "errors.bad_version", 0, "-")
    {
        memset(g_buf, 0xff, 200);
        dg(h, g_buf, 200);
    }
}

static void cases_v9(struct hctx *h)
{
    static uint8_t body[BUF_CAP / 2];
    CASE(h, "v9_header_truncated", "errors.short_header", 0, "-")
    {
        int len = tmpl_data(h, GEN_V9, 256, 0, 0, 0);
        (void)len;
        dg(h, g_buf, 19);
    }
    CASE(h, "v9_flowset_length_zero", "errors.bad_set_length", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 0, 9, 9, 9, 9};
        struct gen_msg m;
        v9_begin(&m, h, 0);
        int len = gen_msg_end(&m);
        memcpy(g_buf + len, b, sizeof b);
        dg(h, g_buf, (size_t)len + sizeof b);
    }
    CASE(h, "v9_flowset_length_under_4", "errors.bad_set_length", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 3, 9, 9, 9, 9};
        struct gen_msg m;
        v9_begin(&m, h, 0);
        int len = gen_msg_end(&m);
        memcpy(g_buf + len, b, sizeof b);
        dg(h, g_buf, (size_t)len + sizeof b);
    }
    CASE(h, "v9_flowset_length_past_end", "errors.bad_set_length", 0, "-")
    {
        int len = tmpl_data(h, GEN_V9, 256, 0, 0, 0);
        put16(g_buf + 22, 0x4000);
        dg_msg(h, len);
    }
    CASE(h, "v9_flowset_length_wraps", "errors.bad_set_length", 0, "-")
    {
        int len = tmpl_data(h, GEN_V9, 256, 0, 0, 0);
        put16(g_buf + 22, 0xffff);
        dg_msg(h, len);
    }
    CASE(h, "v9_template_zero_length_field", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, 0};
        dg_msg(h, one_set(h, GEN_V9, 0, b, sizeof b));
    }
    CASE(h, "v9_template_field_count_zero", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 0, 0, 8, 0, 4};
        dg_msg(h, one_set(h, GEN_V9, 0, b, sizeof b));
    }
    CASE(h, "v9_template_field_count_past_end", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 50, 0, 8, 0, 4};
        dg_msg(h, one_set(h, GEN_V9, 0, b, sizeof b));
    }
    CASE(h, "v9_template_id_reserved", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {0, 200, 0, 1, 0, 8, 0, 4};
        dg_msg(h, one_set(h, GEN_V9, 0, b, sizeof b));
    }
    CASE(h, "v9_template_too_many_fields", "errors.template_invalid", 0, "-")
    {
        size_t n = wide_template(body, sizeof body, 256, 600);
        dg_msg(h, one_set(h, GEN_V9, 0, body, n));
    }
    CASE(h, "v9_template_513_fields", "errors.template_invalid", 0, "-")
    {
        size_t n = wide_template(body, sizeof body, 256, 513);
        dg_msg(h, one_set(h, GEN_V9, 0, body, n));
    }
    CASE(h, "v9_template_record_too_long", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 1, 0xff, 0xf0, 0, 2, 0xff, 0xf0};
        dg_msg(h, one_set(h, GEN_V9, 0, b, sizeof b));
    }
    CASE(h, "v9_template_only_zero_fillers", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
        dg_msg(h, one_set(h, GEN_V9, 0, b, sizeof b));
    }
    CASE(h, "v9_options_scope_length_zero", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 0, 0, 4, 0, 34, 0, 4, 0, 0};
        dg_msg(h, one_set(h, GEN_V9, 1, b, sizeof b));
    }
    CASE(h, "v9_options_scope_length_unaligned", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 3, 0, 4, 0, 1, 0, 4, 0, 34, 0, 4, 0, 0};
        dg_msg(h, one_set(h, GEN_V9, 1, b, sizeof b));
    }
    CASE(h, "v9_options_lengths_past_end", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 4, 0, 40, 0, 1, 0, 4, 0, 34, 0, 4, 0, 0};
        dg_msg(h, one_set(h, GEN_V9, 1, b, sizeof b));
    }
    CASE(h, "v9_options_too_many_fields", "errors.template_invalid", 0, "-")
    {
        put16(body, 256);
        put16(body + 2, 4);
        put16(body + 4, 4 * 600);
        put16(body + 6, 1);
        put16(body + 8, 4);
        for (size_t i = 0; i < 600; i++) {
            put16(body + 10 + 4 * i, 34);
            put16(body + 12 + 4 * i, 4);
        }
        dg_msg(h, one_set(h, GEN_V9, 1, body, 10 + 4 * 600 + 2));
    }
    CASE(h, "v9_reserved_flowset_id", "errors.bad_set_id", 0, "-")
    {
        static const uint8_t b[] = {1, 2, 3, 4};
        dg_msg(h, one_set(h, GEN_V9, 5, b, sizeof b));
    }
    CASE(h, "v9_data_without_template", "errors.no_template", 0, "-")
    {
        static const uint8_t b[20] = {10, 0, 0, 1};
        dg_msg(h, one_set(h, GEN_V9, 300, b, sizeof b));
    }
    CASE(h, "v9_template_id_flood", "decode.templates_evicted", 0, "-")
    {
        size_t n = template_run(body, sizeof body, 256, 1100, false);
        dg_msg(h, one_set(h, GEN_V9, 0, body, n));
    }
    CASE(h, "v9_header_count_mismatch", "errors.bad_count", 2, "-")
    {
        dg_msg(h, with_len16(tmpl_data(h, GEN_V9, 256, 0, 2, 0), 2, 77));
    }
    CASE(h, "v9_varlen_past_end", "errors.record_short", 0, "-")
    {
        static const uint8_t t[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff};
        static const uint8_t d[] = {10, 0, 0, 1, 200, 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
        struct gen_msg m;
        v9_begin(&m, h, 0);
        gen_add_raw_set(&m, 0, t, sizeof t);
        gen_add_raw_set(&m, 256, d, sizeof d);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "v9_varlen_long_form_cut", "errors.record_short", 0, "-")
    {
        static const uint8_t t[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff};
        static const uint8_t d[] = {10, 0, 0, 1, 255, 1};
        struct gen_msg m;
        v9_begin(&m, h, 0);
        gen_add_raw_set(&m, 0, t, sizeof t);
        gen_add_raw_set(&m, 256, d, sizeof d);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "v9_template_redefinition", "decode.templates_replaced", 4, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_V9, 256, 0, 2, 0));
        dg_msg(h, tmpl_data(h, GEN_V9, 256, GEN_T_V6, 2, 1));
    }
    CASE(h, "v9_sequence_jump", "decode.seq_lost", 4, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_V9, 256, 0, 2, 0));
        dg_msg(h, tmpl_data(h, GEN_V9, 256, 0, 2, 1000));
    }
    CASE(h, "v9_flowset_length_unaligned", "decode.v9_set_unaligned", 2, "-")
    {
        struct gen_tmpl t;
        gen_tmpl_flow(&t, 256, GEN_V9, 0);
        struct gen_flow f[2];
        gen_flow_fill(&f[0], 5, 0, false, BASE_MS);
        gen_flow_fill(&f[1], 5, 1, false, BASE_MS);
        struct gen_msg m;
        v9_begin(&m, h, 0);
        gen_add_template(&m, &t);
        gen_add_data(&m, &t, f, 2);
        gen_add_padding(&m, 1);
        dg_msg(h, gen_msg_end(&m));
    }
}

static void cases_ipfix(struct hctx *h)
{
    static uint8_t body[BUF_CAP / 2];
    CASE(h, "ipfix_header_truncated", "errors.short_header", 0, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 0, 0) < 0 ? -1 : 15);
    }
    CASE(h, "ipfix_message_length_exceeds_datagram", "errors.bad_length", 0, "-")
    {
        int len = tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0);
        dg_msg(h, with_len16(len, 2, (uint16_t)(len + 100)));
    }
    CASE(h, "ipfix_message_length_under_header", "errors.bad_length", 0, "-")
    {
        dg_msg(h, with_len16(tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0), 2, 8));
    }
    CASE(h, "ipfix_message_length_zero", "errors.bad_length", 0, "-")
    {
        dg_msg(h, with_len16(tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0), 2, 0));
    }
    CASE(h, "ipfix_set_length_zero", "errors.bad_set_length", 0, "-")
    {
        dg_msg(h, with_len16(tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0), 18, 0));
    }
    CASE(h, "ipfix_set_length_wraps", "errors.bad_set_length", 0, "-")
    {
        dg_msg(h, with_len16(tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0), 18, 0xffff));
    }
    CASE(h, "ipfix_set_length_under_4", "errors.bad_set_length", 0, "-")
    {
        dg_msg(h, with_len16(tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0), 18, 3));
    }
    CASE(h, "ipfix_set_trailing_bytes", "errors.bad_set_length", 0, "-")
    {
        int len = tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0);
        if (len > 0) {
            g_buf[len] = 0xab;
            g_buf[len + 1] = 0xcd;
            len += 2;
            put16(g_buf + 2, (uint16_t)len);
        }
        dg_msg(h, len);
    }
    CASE(h, "ipfix_template_zero_length_field", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, 0};
        dg_msg(h, one_set(h, GEN_IPFIX, 2, b, sizeof b));
    }
    CASE(h, "ipfix_template_field_count_past_end", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 50, 0, 8, 0, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 2, b, sizeof b));
    }
    CASE(h, "ipfix_enterprise_number_cut", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 1, 0x80, 1, 0, 4, 0, 0};
        dg_msg(h, one_set(h, GEN_IPFIX, 2, b, sizeof b));
    }
    CASE(h, "ipfix_template_id_reserved", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {0, 255, 0, 1, 0, 8, 0, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 2, b, sizeof b));
    }
    CASE(h, "ipfix_template_too_many_fields", "errors.template_invalid", 0, "-")
    {
        size_t n = wide_template(body, sizeof body, 256, 600);
        dg_msg(h, one_set(h, GEN_IPFIX, 2, body, n));
    }
    CASE(h, "ipfix_template_record_too_long", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 1, 0xff, 0xf0, 0, 2, 0xff, 0xf0};
        dg_msg(h, one_set(h, GEN_IPFIX, 2, b, sizeof b));
    }
    CASE(h, "ipfix_template_only_zero_fillers", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
        dg_msg(h, one_set(h, GEN_IPFIX, 2, b, sizeof b));
    }
    CASE(h, "ipfix_options_scope_count_zero", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 1, 0, 0, 0, 34, 0, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 3, b, sizeof b));
    }
    CASE(h, "ipfix_options_scope_count_exceeds_fields", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 1, 0, 2, 0, 34, 0, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 3, b, sizeof b));
    }
    CASE(h, "ipfix_options_scope_count_missing", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 7};
        dg_msg(h, one_set(h, GEN_IPFIX, 3, b, sizeof b));
    }
    CASE(h, "ipfix_options_zero_length_scope", "errors.template_invalid", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 2, 0, 1, 0, 149, 0, 0, 0, 34, 0, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 3, b, sizeof b));
    }
    CASE(h, "ipfix_withdrawal_over_udp", "decode.templates_withdrawal_ignored", 4, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0));
        struct gen_msg m;
        ipfix_begin(&m, h, 2);
        gen_add_withdrawal(&m, 256, false);
        dg_msg(h, gen_msg_end(&m));
        struct gen_tmpl t;
        gen_tmpl_flow(&t, 256, GEN_IPFIX, 0);
        struct gen_flow f[2];
        gen_flow_fill(&f[0], 5, 0, false, BASE_MS);
        gen_flow_fill(&f[1], 5, 1, false, BASE_MS);
        ipfix_begin(&m, h, 2);
        gen_add_data(&m, &t, f, 2);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_withdrawal_flood", "decode.templates_withdrawal_ignored", 0, "-")
    {
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        for (uint16_t i = 0; i < 1000; i++)
            gen_add_withdrawal(&m, (uint16_t)(256 + i), false);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_withdraw_all_templates", "decode.templates_withdrawal_ignored", 0, "-")
    {
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_withdrawal(&m, 2, false);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_withdraw_all_options_templates", "decode.templates_withdrawal_ignored", 0, "-")
    {
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_withdrawal(&m, 3, true);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_reserved_set_id", "errors.bad_set_id", 0, "-")
    {
        static const uint8_t b[] = {1, 2, 3, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 4, b, sizeof b));
    }
    CASE(h, "ipfix_v9_set_id_zero", "errors.bad_set_id", 0, "-")
    {
        static const uint8_t b[] = {1, 0, 0, 1, 0, 8, 0, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 0, b, sizeof b));
    }
    CASE(h, "ipfix_set_id_255", "errors.bad_set_id", 0, "-")
    {
        static const uint8_t b[] = {1, 2, 3, 4};
        dg_msg(h, one_set(h, GEN_IPFIX, 255, b, sizeof b));
    }
    CASE(h, "ipfix_data_without_template", "errors.no_template", 0, "-")
    {
        static const uint8_t b[20] = {10, 0, 0, 1};
        dg_msg(h, one_set(h, GEN_IPFIX, 300, b, sizeof b));
    }
    CASE(h, "ipfix_varlen_past_end", "errors.record_short", 0, "-")
    {
        static const uint8_t t[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff};
        static const uint8_t d[] = {10, 0, 0, 1, 200, 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_raw_set(&m, 2, t, sizeof t);
        gen_add_raw_set(&m, 256, d, sizeof d);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_varlen_long_form_past_end", "errors.record_short", 0, "-")
    {
        static const uint8_t t[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff};
        static const uint8_t d[] = {10, 0, 0, 1, 255, 0xff, 0xf0, 'x', 'x', 'x', 'x', 'x'};
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_raw_set(&m, 2, t, sizeof t);
        gen_add_raw_set(&m, 256, d, sizeof d);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_varlen_long_form_cut", "errors.record_short", 0, "-")
    {
        static const uint8_t t[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff};
        static const uint8_t d[] = {10, 0, 0, 1, 255, 1};
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_raw_set(&m, 2, t, sizeof t);
        gen_add_raw_set(&m, 256, d, sizeof d);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_varlen_enterprise_past_end", "errors.record_short", 0, "-")
    {
        static const uint8_t t[] = {1, 0, 0, 2, 0, 8, 0, 4, 0x80, 82, 0xff, 0xff, 0, 0, 0x72, 0x79};
        static const uint8_t d[] = {10, 0, 0, 1, 60, 'x', 'x', 'x'};
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_raw_set(&m, 2, t, sizeof t);
        gen_add_raw_set(&m, 256, d, sizeof d);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_template_id_flood", "decode.templates_evicted", 0, "-")
    {
        size_t n = template_run(body, sizeof body, 256, 1100, false);
        dg_msg(h, one_set(h, GEN_IPFIX, 2, body, n));
    }
    CASE(h, "ipfix_options_template_id_flood", "decode.templates_evicted", 0, "-")
    {
        size_t n = template_run(body, sizeof body, 256, 1100, true);
        dg_msg(h, one_set(h, GEN_IPFIX, 3, body, n));
    }
    CASE(h, "ipfix_template_redefinition", "decode.templates_replaced", 4, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0));
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, GEN_T_V6, 2, 2));
    }
    CASE(h, "ipfix_options_template_redefines_data_template", "decode.templates_replaced", 2, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0));
        struct gen_tmpl o;
        gen_tmpl_sampling(&o, 256, GEN_IPFIX, GEN_S_INTERVAL);
        struct gen_msg m;
        ipfix_begin(&m, h, 2);
        gen_add_options_template(&m, &o);
        dg_msg(h, gen_msg_end(&m));
    }
    CASE(h, "ipfix_sequence_jump", "decode.seq_lost", 6, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 3, 0));
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 3, 1000));
    }
    CASE(h, "ipfix_pending_overflow", "errors.pending_dropped", 0, "-")
    {
        static const uint8_t b[20] = {10, 0, 0, 1};
        for (int i = 0; i < 300; i++)
            dg_msg(h, one_set(h, GEN_IPFIX, 4000, b, sizeof b));
    }
    CASE(h, "ipfix_observation_domain_flood", "decode.domains_evicted", 0, "-")
    {
        uint32_t dom = h->dom;
        for (uint32_t i = 0; i < 1500; i++) {
            h->dom = 100000 + i;
            struct gen_msg m;
            ipfix_begin(&m, h, 0);
            dg_msg(h, gen_msg_end(&m));
        }
        h->dom = dom;
    }
    CASE(h, "ipfix_spoofed_exporter_flood", "decode.exporters_evicted", 0, "nolive")
    {
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        int len = gen_msg_end(&m);
        for (uint32_t i = 0; i < 1100; i++) {
            uint8_t src[16];
            gen_v4(src, 0x0a000000u + i);
            dg_from(h, src, g_buf, (size_t)len);
        }
    }
    CASE(h, "ipfix_exporter_not_allowed", "errors.exporter_denied", 0, "nolive")
    {
        uint8_t src[16];
        gen_v4(src, 0xc0000263u); /* 192.0.2.99: not on the allow-list */
        /* a template only: sent over loopback it is accepted, and still decodes no record */
        int len = tmpl_data(h, GEN_IPFIX, 256, 0, 0, 0);
        if (len > 0)
            dg_from(h, src, g_buf, (size_t)len);
    }
}

/* ---- whole-message checks: what comes before a fault is not applied ---- */

static void cases_malformed_whole(struct hctx *h)
{
    static const uint8_t zlen[] = {1, 9, 0, 2, 0, 8, 0, 4, 0, 1, 0, 0}; /* zero-length field */
    struct gen_tmpl t;
    struct gen_flow f[2];
    gen_flow_fill(&f[0], 5, 0, false, BASE_MS);
    gen_flow_fill(&f[1], 5, 1, false, BASE_MS);
    for (int v9 = 0; v9 < 2; v9++) {
        int ver = v9 ? GEN_V9 : GEN_IPFIX;
        gen_tmpl_flow(&t, 256, ver, 0);
        /* a template and two records, then a set whose length runs past the message (k 0) or
           an invalid template (k 1): the template is not kept, so the data that follows in a
           good message waits for it (no record at all) */
        for (int k = 0; k < 2; k++) {
            char name[96];
            snprintf(name, sizeof name, "%s_template_then_%s", v9 ? "v9" : "ipfix",
                     k ? "invalid_template" : "set_length_past_end");
            CASE(h, name, "decode.messages_malformed", 0, "-")
            {
                struct gen_msg m;
                if (v9)
                    v9_begin(&m, h, 0);
                else
                    ipfix_begin(&m, h, 0);
                gen_add_template(&m, &t);
                gen_add_data(&m, &t, f, 2);
                gen_add_raw_set(&m, 2 - 2 * v9, zlen, k ? sizeof zlen : 4);
                int len = gen_msg_end(&m);
                if (len > 0 && !k)
                    put16(g_buf + len - 6, 0x7f00); /* the last set's length */
                dg_msg(h, len);
                if (v9)
                    v9_begin(&m, h, 1);
                else
                    ipfix_begin(&m, h, 2);
                gen_add_data(&m, &t, f, 2);
                dg_msg(h, gen_msg_end(&m));
            }
        }
    }
    /* options data announcing a rate, then bytes after the last set: the rate is not taken
       (the two records that follow in a good message decode at the rate announced before) */
    CASE(h, "ipfix_sampling_then_trailing_bytes", "decode.messages_malformed", 4, "-")
    {
        struct gen_tmpl ot;
        struct gen_flow o = {0};
        gen_tmpl_sampling(&ot, 500, GEN_IPFIX, GEN_S_INTERVAL);
        gen_tmpl_flow(&t, 256, GEN_IPFIX, 0);
        struct gen_msg m;
        ipfix_begin(&m, h, 0);
        gen_add_options_template(&m, &ot);
        o.sampling_interval = 10;
        gen_add_data(&m, &ot, &o, 1);
        gen_add_template(&m, &t);
        gen_add_data(&m, &t, f, 2);
        dg_msg(h, gen_msg_end(&m));
        ipfix_begin(&m, h, 3);
        o.sampling_interval = 100000;
        gen_add_data(&m, &ot, &o, 1);
        int len = gen_msg_end(&m);
        if (len > 0) {
            memset(g_buf + len, 0xee, 2);
            len += 2;
            put16(g_buf + 2, (uint16_t)len);
        }
        dg_msg(h, len);
        ipfix_begin(&m, h, 3);
        gen_add_data(&m, &t, f, 2);
        dg_msg(h, gen_msg_end(&m));
    }
    /* a storm of "withdraw all options templates" records (ignored over UDP by default) */
    CASE(h, "ipfix_withdraw_all_options_storm", "decode.templates_withdrawal_ignored", 2, "-")
    {
        dg_msg(h, tmpl_data(h, GEN_IPFIX, 256, 0, 2, 0));
        struct gen_msg m;
        ipfix_begin(&m, h, 2);
        for (int i = 0; i < 8000; i++)
            gen_add_withdrawal(&m, 3, true);
        dg_msg(h, gen_msg_end(&m));
    }
}

/* ---- IP reassembly: pieces past the end, overlaps, holes ---- */

/* Write piece [off, off + n) of the UDP datagram ip (an IP packet) as a fragment with id. */
static void frag_piece(struct hctx *h, const uint8_t *ip, uint32_t id, size_t off, size_t n,
                       bool more, const uint8_t *data)
{
    static uint8_t f[70000];
    int len = gen_ip_fragment_piece(ip, id, off, more, data, n, f, sizeof f);
    if (len < 0 || gen_pcap_write_ip(h->w, h->ts_ns, f, (uint32_t)len) < 0)
        h->failed++;
    h->ts_ns += 100000;
}

/* The IP packet (UDP to 2055) of an IPFIX message of the case's domain: template 256 and 20
 * records. Returns its length or -1. */
static int export_ip(struct hctx *h, uint8_t *ip, size_t cap)
{
    struct gen_tmpl t;
    struct gen_flow f[20];
    for (uint32_t i = 0; i < 20; i++)
        gen_flow_fill(&f[i], 21, i, false, BASE_MS);
    struct gen_msg m;
    gen_tmpl_flow(&t, 256, GEN_IPFIX, 0);
    ipfix_begin(&m, h, 0);
    gen_add_template(&m, &t);
    gen_add_data(&m, &t, f, 20);
    int len = gen_msg_end(&m);
    struct gen_ip g = {.proto = 17,
                       .sport = 50000,
                       .dport = 2055,
                       .payload = g_buf,
                       .payload_len = len > 0 ? (uint32_t)len : 0};
    memcpy(g.src, h->exp, 16);
    memcpy(g.dst, h->col, 16);
    return len > 0 ? gen_ip_packet(&g, ip, cap) : -1;
}

static void cases_frag(struct hctx *h)
{
    static uint8_t ip[70000], junk[4096];
    memset(junk, 0xee, sizeof junk);
    /* a datagram decoded whole first (20 records), then one with a hole where a piece past
       the end arrived before the last one: never decoded (the hole would hold the first
       one's bytes, and its records would count twice) */
    CASE(h, "frag_piece_past_end_before_last", "reassembly.dropped_beyond_end", 20, "nolive")
    {
        int iplen = export_ip(h, ip, sizeof ip);
        if (iplen < 0) {
            h->failed++;
        } else {
            size_t L = (size_t)iplen - 20, a = (L / 3) & ~(size_t)7, b = (2 * L / 3) & ~(size_t)7;
            const uint8_t *F = ip + 20;
            frag_piece(h, ip, 1, 0, a, true, F); /* whole */
            frag_piece(h, ip, 1, a, b - a, true, F + a);
            frag_piece(h, ip, 1, b, L - b, false, F + b);
            frag_piece(h, ip, 2, 0, a, true, F); /* hole [a, b) */
            frag_piece(h, ip, 2, (L + 7) & ~(size_t)7, b - a, true, junk);
            frag_piece(h, ip, 2, b, L - b, false, F + b);
        }
    }
    /* a piece that overlaps one held, rewriting the message header */
    CASE(h, "frag_overlap_rewrites_header", "reassembly.dropped_overlap", 0, "nolive")
    {
        int iplen = export_ip(h, ip, sizeof ip);
        if (iplen < 0) {
            h->failed++;
        } else {
            size_t L = (size_t)iplen - 20, a = (L / 2) & ~(size_t)7;
            const uint8_t *F = ip + 20;
            frag_piece(h, ip, 3, 0, a, true, F);
            frag_piece(h, ip, 3, 8, 32, true, junk);      /* dropped with what it overlaps */
            frag_piece(h, ip, 3, a, L - a, false, F + a); /* alone: held until it expires */
        }
    }
}

/* ---- capture-file flaws (replay only) ---- */

/* Write valid datagrams into a memory capture, return its bytes (caller frees). */
static int mem_capture(struct hctx *h, bool pcapng, uint8_t **data, size_t *len)
{
    struct gen_pcap_opts o = {.linktype = GEN_LT_EN10MB, .pcapng = pcapng};
    if (gen_pcap_open_mem(&o, &h->w) < 0)
        return -1;
    valid_datagrams(h);
    return gen_pcap_close_mem(h->w, data, len);
}

static void write_file_case(struct hctx *h, const char *name, bool pcapng, const char *counter,
                            unsigned records, const uint8_t *a, size_t alen, const uint8_t *b,
                            size_t blen)
{
    char path[1024];
    snprintf(h->file, sizeof h->file, "%s.%s", name, pcapng ? "pcapng" : "pcap");
    snprintf(path, sizeof path, "%s/%s", h->dir, h->file);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen)) {
        fprintf(stderr, "twgen hostile: cannot write %s\n", path);
        h->failed++;
    }
    if (f && fclose(f) != 0)
        h->failed++;
    fprintf(h->man, "%s\t%s\t%s\t%u\tnosend\n", name, h->file, counter, records);
    h->ncases++;
}

/* An Ethernet frame of a valid UDP export (v5, 1 flow) into buf; returns its length. */
static int export_frame(uint8_t *buf, size_t cap)
{
    struct gen_flow f;
    gen_flow_fill(&f, 11, 0, false, BASE_MS);
    struct gen_nf5_hdr hd = {.uptime_ms = 3600000, .unix_ms = BASE_MS};
    uint8_t v5[128], ip[256];
    int n = gen_nf5(v5, sizeof v5, &hd, &f, 1);
    struct gen_ip g = {
        .proto = 17, .sport = 50000, .dport = 2055, .payload = v5, .payload_len = (uint32_t)n};
    gen_v4(g.src, 0x0aff0001u);
    gen_v4(g.dst, 0x0aff0064u);
    int iplen = gen_ip_packet(&g, ip, sizeof ip);
    struct gen_l2 l2 = {.linktype = GEN_LT_EN10MB};
    return iplen < 0 ? -1 : gen_frame(&l2, ip, (size_t)iplen, buf, cap);
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void cases_capture(struct hctx *h)
{
    uint8_t *cap = NULL;
    size_t clen = 0;
    uint8_t fr[512], rec[600];
    int flen = export_frame(fr, sizeof fr);
    if (flen < 0) {
        h->failed++;
        return;
    }
    uint64_t ts = BASE_MS / 1000 + 10;

    /* classic pcap: valid datagrams, then one record whose data stops mid-packet */
    if (mem_capture(h, false, &cap, &clen) == 0) {
        le32(rec, (uint32_t)ts);
        le32(rec + 4, 0);
        le32(rec + 8, (uint32_t)flen);
        le32(rec + 12, (uint32_t)flen);
        memcpy(rec + 16, fr, (size_t)flen);
        write_file_case(h, "pcap_truncated_mid_packet", false, "exit", VALID_RECORDS, cap, clen,
                        rec, 16 + (size_t)flen / 2);
        write_file_case(h, "pcap_truncated_mid_record_header", false, "exit", VALID_RECORDS, cap,
                        clen, rec, 9);
        le32(rec + 8, 0x7fffffffu); /* caplen far past any snaplen */
        write_file_case(h, "pcap_caplen_huge", false, "exit", VALID_RECORDS, cap, clen, rec,
                        16 + (size_t)flen);
        le32(rec + 8, (uint32_t)flen);
        /* an export cut by the snaplen: caplen < wirelen (the file itself is fine) */
        le32(rec + 8, (uint32_t)flen - 20);
        le32(rec + 12, (uint32_t)flen);
        write_file_case(h, "pcap_export_cut_by_snaplen", false, "errors.truncated_l4",
                        VALID_RECORDS, cap, clen, rec, 16 + (size_t)flen - 20);
        /* IPv4 header length 12 bytes (IHL 3) */
        le32(rec + 8, (uint32_t)flen);
        memcpy(rec + 16, fr, (size_t)flen);
        rec[16 + 14] = 0x43;
        write_file_case(h, "pcap_ipv4_header_length_3", false, "errors.bad_ip_header",
                        VALID_RECORDS, cap, clen, rec, 16 + (size_t)flen);
        /* the frame with one 16-bit length field (offset in the frame) set to a lie */
        const struct {
            const char *name, *counter;
            size_t off;
            int val;
        } lens[] = {
            /* IPv4 total length shorter than its own header */
            {"pcap_ipv4_total_length_under_header", "errors.bad_ip_header", 16, 10},
            /* IPv4 total length ending inside the UDP header */
            {"pcap_ipv4_total_length_cuts_udp_header", "errors.bad_l4_header", 16, 24},
            /* IPv4 total length beyond what the frame carried on the wire */
            {"pcap_ipv4_total_length_beyond_frame", "errors.ip_length_beyond_frame", 16,
             flen - 14 + 100},
            /* UDP length beyond the IP payload (the IP length is right) */
            {"pcap_udp_length_beyond_ip_payload", "errors.bad_l4_header", 38, flen - 34 + 40},
            /* UDP length under its own header */
            {"pcap_udp_length_under_header", "errors.bad_l4_header", 38, 4},
        };
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            memcpy(rec + 16, fr, (size_t)flen);
            rec[16 + lens[i].off] = (uint8_t)(lens[i].val >> 8);
            rec[16 + lens[i].off + 1] = (uint8_t)lens[i].val;
            write_file_case(h, lens[i].name, false, lens[i].counter, VALID_RECORDS, cap, clen, rec,
                            16 + (size_t)flen);
        }
        free(cap);
    }
    /* pcapng: valid datagrams, then a block whose length is bogus */
    if (mem_capture(h, true, &cap, &clen) == 0) {
        uint8_t blk[64] = {0};
        le32(blk, 6); /* EPB */
        le32(blk + 4, 0xfffffff0u);
        write_file_case(h, "pcapng_bogus_block_length", true, "exit", VALID_RECORDS, cap, clen, blk,
                        sizeof blk);
        le32(blk + 4, 30); /* not a multiple of 4 */
        write_file_case(h, "pcapng_block_length_unaligned", true, "exit", VALID_RECORDS, cap, clen,
                        blk, 32);
        le32(blk + 4, 8); /* shorter than a block's own header and trailer */
        write_file_case(h, "pcapng_block_length_too_small", true, "exit", VALID_RECORDS, cap, clen,
                        blk, 16);
        le32(blk + 4, 64);
        write_file_case(h, "pcapng_truncated_block", true, "exit", VALID_RECORDS, cap, clen, blk,
                        40);
        free(cap);
    }
}

int twgen_hostile_main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: twgen hostile DIR\n");
        return 2;
    }
    struct hctx h;
    memset(&h, 0, sizeof h);
    h.dir = argv[1];
    gen_v4(h.exp, 0x0aff0001u);
    gen_v4(h.col, 0x0aff0064u);
    char path[1024];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", h.dir);
    h.man = fopen(path, "w");
    if (!h.man) {
        fprintf(stderr, "twgen hostile: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    cases_v5(&h);
    cases_v9(&h);
    cases_ipfix(&h);
    cases_malformed_whole(&h);
    cases_frag(&h);
    cases_capture(&h);
    if (fclose(h.man) != 0)
        h.failed++;
    fprintf(stderr, "twgen hostile: %d cases in %s%s\n", h.ncases, h.dir,
            h.failed ? " (FAILED)" : "");
    return h.failed ? 1 : 0;
}

/* ---- twgen flood ---- */

static int add_flow(struct gen_exportw *w, uint32_t src, uint32_t dst, uint16_t dport, uint64_t ms)
{
    struct gen_flow f;
    gen_flow_v4(&f, src, dst, (uint16_t)(40000 + (src & 0x3fff)), dport, 6, 0x1b, 3, 1500, ms - 200,
                ms);
    return gen_exportw_add(w, &f);
}

int twgen_flood_main(int argc, char **argv)
{
    uint64_t hosts = 300000;
    unsigned offenders = 5;
    const char *out = NULL;
    bool gz = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "n:k:o:z")) != -1) {
        switch (c) {
        case 'n':
            hosts = strtoull(optarg, NULL, 10);
            break;
        case 'k':
            offenders = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'o':
            out = optarg;
            break;
        case 'z':
            gz = true;
            break;
        default:
            fprintf(stderr, "usage: twgen flood -n HOSTS [-k OFFENDERS] [-z] -o FILE\n");
            return 2;
        }
    }
    if (!out || hosts == 0 || hosts > 16000000 || offenders > 250) {
        fprintf(stderr,
                "usage: twgen flood -n HOSTS (1..16M) [-k OFFENDERS (<=250)] [-z] -o FILE\n");
        return 2;
    }
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB, .gzip = gz};
    struct gen_pcap *pc;
    if (gen_pcap_open(out, &po, &pc) < 0) {
        fprintf(stderr, "twgen flood: cannot write %s\n", out);
        return 1;
    }
    struct gen_exportw_opts eo = {.version = 10};
    gen_v4(eo.exporter, 0x0aff0001u);
    gen_v4(eo.collector, 0x0aff0064u);
    struct gen_exportw *w;
    if (gen_exportw_new(&eo, pc, &w) < 0) {
        gen_pcap_close(pc);
        return 1;
    }
    /* 10 minutes of event time; host i at base + i * span / hosts; offenders every 10 s */
    const uint64_t span = 600000;
    uint64_t next_off = 0;
    int rc = 0;
    uint64_t off_flows = 0;
    for (uint64_t i = 0; i < hosts && rc == 0; i++) {
        uint64_t ms = BASE_MS + i * span / hosts;
        while (next_off <= i * span / hosts && rc == 0) {
            for (unsigned k = 0; k < offenders && rc == 0; k++, off_flows++)
                rc = add_flow(w, 0x0affff01u + k, 0xc6120001u /* 198.18.0.1 */, 443, ms);
            next_off += 10000;
        }
        /* distinct inside hosts 10.0.0.1.. (skipping 10.255/16, the offenders' net) */
        uint32_t src = 0x0a000001u + (uint32_t)i;
        uint32_t dst = 0xcb007100u | (uint32_t)(i % 64); /* 203.0.113.0/26: not listed */
        if (rc == 0)
            rc = add_flow(w, src, dst, 80, ms);
    }
    struct gen_exportw_stats st;
    gen_exportw_stats(w, &st);
    if (gen_exportw_close(w) < 0)
        rc = -1;
    if (gen_pcap_close(pc) < 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "twgen flood: write failed\n");
        return 1;
    }
    fprintf(
        stderr,
        "twgen flood: %s: hosts=%llu offenders=%u offender_flows=%llu flows=%llu datagrams=%llu\n",
        out, (unsigned long long)hosts, offenders, (unsigned long long)off_flows,
        (unsigned long long)st.flows, (unsigned long long)st.datagrams);
    return 0;
}

/* ---- twgen storm ---- */

static const uint8_t col_addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 255, 0, 100};
static const uint8_t exp_addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 255, 0, 1};

/* One IPFIX message of domain dom with one raw set, written as a datagram. */
static int storm_msg(struct gen_pcap *pc, uint64_t *ts, uint32_t dom, uint16_t set_id,
                     const uint8_t *body, size_t n)
{
    struct gen_msg m;
    gen_msg_begin(&m, g_buf, sizeof g_buf, GEN_IPFIX, dom, 0, BASE_MS, 0);
    if (set_id)
        gen_add_raw_set(&m, set_id, body, n);
    int len = gen_msg_end(&m);
    *ts += 1000000; /* 1 ms apart */
    if (len < 0 ||
        gen_pcap_write_udp(pc, *ts, exp_addr, 50000, col_addr, 2055, g_buf, (size_t)len) < 0)
        return -1;
    return 0;
}

int twgen_storm_main(int argc, char **argv)
{
    static uint8_t body[BUF_CAP];
    const char *out = NULL, *kind = argc > 1 ? argv[1] : "";
    unsigned long msgs = 0;
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "n:o:")) != -1) {
        if (c == 'n')
            msgs = strtoul(optarg, NULL, 10);
        else if (c == 'o')
            out = optarg;
        else
            msgs = 0, out = NULL;
    }
    bool wo = strcmp(kind, "withdraw-all-options") == 0, w1 = strcmp(kind, "withdraw-one") == 0;
    bool churn = strcmp(kind, "template-churn") == 0, doms = strcmp(kind, "domain-flood") == 0;
    if (!out || msgs == 0 || msgs > 100000 || !(wo || w1 || churn || doms)) {
        fprintf(stderr, "usage: twgen storm withdraw-all-options|withdraw-one|template-churn|"
                        "domain-flood -n MESSAGES -o FILE\n");
        return 2;
    }
    struct gen_pcap_opts po = {.linktype = GEN_LT_EN10MB};
    struct gen_pcap *pc;
    if (gen_pcap_open(out, &po, &pc) < 0) {
        fprintf(stderr, "twgen storm: cannot write %s\n", out);
        return 1;
    }
    uint64_t ts = BASE_MS * 1000000ull;
    const uint32_t dom = 77;
    int rc = 0;
    unsigned long per = 0; /* records (or, domain-flood, messages) per storm message */
    /* set-up: a domain holding 1024 data templates (a full domain at the default bound) and,
       for the churn, 4000 data sets waiting for templates that never come */
    if (!doms) {
        size_t n = template_run(body, sizeof body, 256, 1024, false);
        rc |= storm_msg(pc, &ts, dom, 2, body, n);
    }
    if (churn) { /* two messages of 2000 data sets each, for ids no template will have */
        static const uint8_t d[20] = {10, 0, 0, 1};
        size_t n = 0;
        for (uint16_t i = 0; i < 2000; i++) {
            put16(body + n, (uint16_t)(60000 + i));
            put16(body + n + 2, 4 + sizeof d);
            memcpy(body + n + 4, d, sizeof d);
            n += 4 + sizeof d;
        }
        for (int k = 0; k < 2 && rc == 0; k++) { /* the sets as one raw message body */
            struct gen_msg m;
            gen_msg_begin(&m, g_buf, sizeof g_buf, GEN_IPFIX, dom, 0, BASE_MS, 0);
            int len = gen_msg_end(&m);
            if (len < 0 || (size_t)len + n > sizeof g_buf) {
                rc = -1;
                break;
            }
            memcpy(g_buf + len, body, n);
            len += (int)n;
            put16(g_buf + 2, (uint16_t)len);
            ts += 1000000;
            rc |=
                gen_pcap_write_udp(pc, ts, exp_addr, 50000, col_addr, 2055, g_buf, (size_t)len) < 0;
            for (size_t i = 0; i < 2000; i++) /* the second message: other ids */
                put16(body + i * (4 + sizeof d), (uint16_t)(62000 + i));
        }
    }
    if (doms) { /* fill the table first (max_domains of the test's config: 4096) */
        for (uint32_t i = 0; i < 4096 && rc == 0; i++)
            rc |= storm_msg(pc, &ts, 1000000 + i, 0, NULL, 0);
    }
    uint32_t next_dom = 2000000;
    uint16_t next_tid = 1280;
    for (unsigned long k = 0; k < msgs && rc == 0; k++) {
        size_t n = 0;
        if (wo || w1) {
            per = 16000; /* 4-byte records: a 64 KB message */
            for (size_t i = 0; i < per; i++) {
                put16(body + n, wo ? 3 : (uint16_t)(40000 + i)); /* ids nobody defined */
                put16(body + n + 2, 0);
                n += 4;
            }
            rc |= storm_msg(pc, &ts, dom, wo ? 3 : 2, body, n);
        } else if (churn) {
            per = 8000; /* new ids into the full domain: each evicts its oldest */
            n = template_run(body, sizeof body, next_tid, per, false);
            next_tid = (uint16_t)(next_tid + per > 59000 ? 1280 : next_tid + per);
            rc |= storm_msg(pc, &ts, dom, 2, body, n);
        } else {
            per = 1; /* a header-only message from a domain never seen before */
            rc |= storm_msg(pc, &ts, next_dom++, 0, NULL, 0);
        }
    }
    if (gen_pcap_close(pc) < 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "twgen storm: write failed\n");
        return 1;
    }
    printf("storm %s messages=%lu per_message=%lu\n", kind, msgs, per);
    return 0;
}
