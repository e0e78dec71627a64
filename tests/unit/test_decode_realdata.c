/* test_decode_realdata.c: the 92 logstash-codec-netflow raw payloads ($TW_SHARED/testdata/netflow/
 * logstash-codec-netflow/NAME.dat). Files are grouped by vendor prefix (the name up to _tpl/_data/
 * _opttpl...), one exporter per group; within a group template files (name contains "tpl") go
 * first. Every group with data must yield records; the three deliberately invalid files must be
 * counted as errors; a few field values are checked against the logstash spec expectations
 * (spec/codecs/netflow_spec.rb) and tshark's decode of the same payloads. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "gen_export.h"

#define MAXF 128
#define MAXR 2048
#include "decode_test_util.h"

static char dir[1024];
static char *names[MAXF];
static size_t nnames;
static bool verbose;

static size_t group_len(const char *n)
{
    static const char *const cuts[] = {"_tpl", "_data", "_opttpl"};
    size_t best = strlen(n) - 4; /* ".dat" */
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *p = strstr(n, cuts[i]);
        if (p && (size_t)(p - n) < best)
            best = (size_t)(p - n);
    }
    return best;
}

static int cmp_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t gx = group_len(x), gy = group_len(y);
    int c = strncmp(x, y, gx < gy ? gx : gy);
    if (c || gx != gy)
        return c ? c : (gx < gy ? -1 : 1);
    bool tx = strstr(x + gx, "tpl") != NULL, ty = strstr(y + gy, "tpl") != NULL;
    if (tx != ty)
        return tx ? -1 : 1;
    return strcmp(x, y);
}

static size_t read_file(const char *name, uint8_t *buf, size_t cap)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static bool is_invalid(const char *n)
{
    return strcmp(n, "netflow5_test_invalid01.dat") == 0 ||
           strcmp(n, "netflow5_test_invalid02.dat") == 0 ||
           strcmp(n, "netflow9_test_invalid01.dat") == 0;
}

static uint64_t errors(const struct decode_ctx *ctx)
{
    uint64_t e = 0;
    for (int c = DC_FIRST_ERROR; c < DC_COUNT; c++)
        if (c != DC_NO_TEMPLATE) /* data before its template within a group is expected */
            e += decode_counter(ctx, (enum decode_counter)c);
    return e;
}

/* Feed a list of files to one ctx as one exporter; returns the ctx (caller frees). */
static struct decode_ctx *feed(const char *const *files, size_t n, struct sink *s)
{
    struct decode_cfg cfg;
    decode_cfg_defaults(&cfg);
    struct decode_ctx *ctx = NULL;
    assert_int_equal(decode_ctx_new(&cfg, &ctx), 0);
    uint8_t ex[16];
    gen_v4(ex, 0xc0000201);
    static uint8_t buf[65536];
    for (size_t i = 0; i < n; i++) {
        size_t len = read_file(files[i], buf, sizeof buf);
        decode_datagram(ctx, ex, 2055, 1500000000000ull, buf, len, collect, s);
    }
    return ctx;
}

static void test_all_groups(void **state)
{
    (void)state;
    size_t i = 0, groups = 0, total = 0;
    static struct sink s;
    while (i < nnames) {
        size_t g = group_len(names[i]), j = i + 1;
        while (j < nnames && group_len(names[j]) == g && strncmp(names[i], names[j], g) == 0)
            j++;
        s.n = 0;
        struct decode_ctx *ctx = NULL;
        struct decode_cfg cfg;
        decode_cfg_defaults(&cfg);
        assert_int_equal(decode_ctx_new(&cfg, &ctx), 0);
        uint8_t ex[16];
        gen_v4(ex, 0xc0000200u + (uint32_t)groups);
        for (size_t k = i; k < j; k++) {
            static uint8_t buf[65536];
            size_t len = read_file(names[k], buf, sizeof buf);
            uint64_t e0 = errors(ctx), r0 = decode_counter(ctx, DC_RECORDS);
            uint64_t o0 = decode_counter(ctx, DC_OPTION_RECORDS),
                     t0 = decode_counter(ctx, DC_TEMPLATES_ADDED);
            decode_datagram(ctx, ex, 2055, 1500000000000ull, buf, len, collect, &s);
            uint64_t e = errors(ctx) - e0, r = decode_counter(ctx, DC_RECORDS) - r0;
            if (verbose) {
                printf("%-70s len %5zu rec %4llu opt %3llu tmpl %3llu err %llu notmpl %llu\n",
                       names[k], len, (unsigned long long)r,
                       (unsigned long long)(decode_counter(ctx, DC_OPTION_RECORDS) - o0),
                       (unsigned long long)(decode_counter(ctx, DC_TEMPLATES_ADDED) - t0),
                       (unsigned long long)e,
                       (unsigned long long)decode_counter(ctx, DC_NO_TEMPLATE));
                for (int c = DC_FIRST_ERROR; c < DC_COUNT && e; c++)
                    if (decode_counter(ctx, (enum decode_counter)c))
                        printf("    %s %llu\n", decode_counter_name((enum decode_counter)c),
                               (unsigned long long)decode_counter(ctx, (enum decode_counter)c));
            }
            if (is_invalid(names[k]))
                assert_true(e > 0);
            else if (e)
                fail_msg("%s: %llu errors", names[k], (unsigned long long)e);
            if (strstr(names[k], "data") || strstr(names[k], "netflow5") ||
                strstr(names[k], "valid01") || strcmp(names[k], "ipfix.dat") == 0) {
                if (!is_invalid(names[k]) && r + decode_counter(ctx, DC_OPTION_RECORDS) - o0 == 0)
                    fail_msg("%s: no records", names[k]);
            }
        }
        total += s.n;
        decode_ctx_free(ctx);
        groups++;
        i = j;
    }
    if (verbose)
        printf("%zu files, %zu groups, %zu records\n", nnames, groups, total);
    assert_int_equal(nnames, 92);
}

static void addr_is(const uint8_t a[16], uint32_t v4)
{
    uint8_t want[16];
    gen_v4(want, v4);
    assert_memory_equal(a, want, 16);
}

#define IP(a, b, c, d)                                                                             \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void test_values(void **state)
{
    (void)state;
    static struct sink s;
    /* netflow5.dat (softflowd): logstash expects 2 records */
    const char *v5[] = {"netflow5.dat"};
    s.n = 0;
    struct decode_ctx *ctx = feed(v5, 1, &s);
    assert_int_equal(s.n, 2);
    addr_is(s.r[0].src, IP(10, 0, 2, 2));
    addr_is(s.r[0].dst, IP(10, 0, 2, 15));
    assert_int_equal(s.r[0].sport, 54435);
    assert_int_equal(s.r[0].dport, 22);
    assert_int_equal(s.r[0].tcp_flags, 16);
    assert_int_equal(s.r[0].proto, 6);
    assert_int_equal(s.r[0].packets, 5);
    assert_int_equal(s.r[0].bytes, 230);
    assert_int_equal(s.r[0].sampling, 1);
    assert_int_equal(s.r[1].packets, 4);
    assert_int_equal(s.r[1].bytes, 304);
    assert_int_equal(s.r[1].tcp_flags, 24);
    /* header: uptime 3381 ms at 1430591888.280; last = 2577 ms uptime (tshark: EndTime 2.577 s) */
    assert_int_equal(s.r[0].last_ms, 1430591888280ull - (3381 - 2577));
    decode_ctx_free(ctx);

    /* netflow9_test_valid01.dat (softflowd): 7 records, the first an NTP flow */
    const char *v9[] = {"netflow9_test_valid01.dat"};
    s.n = 0;
    ctx = feed(v9, 1, &s);
    assert_int_equal(s.n, 7);
    addr_is(s.r[0].src, IP(172, 16, 32, 100));
    addr_is(s.r[0].dst, IP(172, 16, 32, 248));
    assert_int_equal(s.r[0].sport, 123);
    assert_int_equal(s.r[0].dport, 123);
    assert_int_equal(s.r[0].proto, 17);
    assert_int_equal(s.r[0].bytes, 76);
    assert_int_equal(s.r[0].packets, 1);
    /* header: uptime 45076 ms at 1444331070 s; first/last switched 1216/1217 ms (tshark) */
    assert_int_equal(s.r[0].first_ms, 1444331070000ull - (45076 - 1216));
    assert_int_equal(s.r[0].last_ms, 1444331070000ull - (45076 - 1217));
    assert_true(s.r[0].flags & FLOW_F_SAMPLING_UNKNOWN);
    decode_ctx_free(ctx);

    /* Cisco ASA NSEL: logstash's event 1 is an ICMP echo with 56 permanent bytes (IE 85) */
    const char *asa[] = {"netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat"};
    s.n = 0;
    ctx = feed(asa, 2, &s);
    assert_int_equal(s.n, 14);
    addr_is(s.r[1].src, IP(192, 168, 23, 22));
    addr_is(s.r[1].dst, IP(164, 164, 37, 11));
    assert_int_equal(s.r[1].proto, 1);
    assert_int_equal(s.r[1].sport, 17549);
    assert_int_equal(s.r[1].dport, 0x0800); /* echo request: type 8 code 0 */
    assert_int_equal(s.r[1].bytes, 56);
    assert_int_equal(s.r[1].first_ms, 1444384068169ull);
    decode_ctx_free(ctx);

    /* ipfix.dat (softflowd): options record with systemInitTimeMilliseconds and 305/306 = 1/0,
       then flows with 22/21 relative to it */
    const char *ipfix[] = {"ipfix.dat"};
    s.n = 0;
    ctx = feed(ipfix, 1, &s);
    assert_true(s.n >= 2);
    addr_is(s.r[0].src, IP(192, 168, 253, 1));
    addr_is(s.r[0].dst, IP(192, 168, 253, 128));
    assert_int_equal(s.r[0].bytes, 260);
    assert_int_equal(s.r[0].packets, 5);
    assert_int_equal(s.r[0].sport, 60560);
    assert_int_equal(s.r[0].dport, 22);
    assert_int_equal(s.r[0].tcp_flags, 16);
    assert_int_equal(s.r[0].first_ms, 1431516013506ull);
    assert_int_equal(s.r[0].last_ms, 1431516013506ull + 12726);
    assert_int_equal(s.r[0].sampling, 1);
    assert_false(s.r[0].flags & FLOW_F_SAMPLING_UNKNOWN);
    assert_int_equal(s.r[1].bytes, 1000);
    assert_int_equal(s.r[1].packets, 6);
    decode_ctx_free(ctx);

    /* expected values below were read with tshark -d udp.port==2055,cflow from pcaps of the payloads */
    const char *mx80[] = {"netflow5_test_juniper_mx80.dat"}; /* header sampling 1:1000 */
    s.n = 0;
    ctx = feed(mx80, 1, &s);
    assert_int_equal(s.n, 29);
    addr_is(s.r[0].src, IP(10, 0, 0, 1));
    addr_is(s.r[0].dst, IP(192, 168, 0, 2));
    assert_int_equal(s.r[0].sampling, 1000);
    assert_int_equal(s.r[0].bytes, 1500 * 1000);
    assert_int_equal(s.r[0].packets, 1000);
    assert_int_equal(s.r[0].sport, 443);
    assert_int_equal(s.r[0].dport, 61608);
    assert_int_equal(s.r[0].proto, 6);
    assert_int_equal(s.r[0].tcp_flags, 0x10);
    decode_ctx_free(ctx);

    const char *mt[] = {"ipfix_test_mikrotik_tpl.dat", "ipfix_test_mikrotik_data258.dat"};
    s.n = 0;
    ctx = feed(mt, 2, &s);
    assert_int_equal(s.n, 28);
    addr_is(s.r[0].src, IP(10, 10, 8, 197));
    addr_is(s.r[0].dst, IP(192, 168, 128, 17));
    assert_int_equal(s.r[0].bytes, 152);
    assert_int_equal(s.r[0].packets, 2);
    assert_int_equal(s.r[0].sport, 123);
    assert_int_equal(s.r[0].dport, 123);
    assert_int_equal(s.r[0].proto, 17);
    decode_ctx_free(ctx);

    const char *pan[] = {"netflow9_test_paloalto_panos_tpl.dat",
                         "netflow9_test_paloalto_panos_data.dat"};
    s.n = 0;
    ctx = feed(pan, 2, &s);
    assert_int_equal(s.n, 8);
    addr_is(s.r[0].src, IP(23, 35, 171, 27));
    addr_is(s.r[0].dst, IP(10, 32, 91, 205));
    assert_int_equal(s.r[0].bytes, 70);
    assert_int_equal(s.r[0].packets, 1);
    assert_int_equal(s.r[0].sport, 80);
    assert_int_equal(s.r[0].dport, 49519);
    assert_int_equal(s.r[0].tcp_flags, 0x12);
    decode_ctx_free(ctx);

    /* YAF biflow (RFC 5103): a DNS query and its answer in one record; the answer comes out as
     * a record of its own, ends swapped, starting reverseFlowDeltaMilliseconds (1) later */
    const char *yaf[] = {"ipfix_test_yaf_tpl45841.dat", "ipfix_test_yaf_data45841.dat"};
    s.n = 0;
    ctx = feed(yaf, 2, &s);
    assert_int_equal(s.n, 2);
    addr_is(s.r[0].src, IP(172, 16, 32, 201));
    addr_is(s.r[0].dst, IP(172, 16, 32, 100));
    assert_int_equal(s.r[0].sport, 46086);
    assert_int_equal(s.r[0].dport, 53);
    assert_int_equal(s.r[0].bytes, 132);
    assert_int_equal(s.r[0].packets, 2);
    assert_int_equal(s.r[0].first_ms, 1482670715818ULL);
    addr_is(s.r[1].src, IP(172, 16, 32, 100));
    addr_is(s.r[1].dst, IP(172, 16, 32, 201));
    assert_int_equal(s.r[1].sport, 53);
    assert_int_equal(s.r[1].dport, 46086);
    assert_int_equal(s.r[1].proto, 17);
    assert_int_equal(s.r[1].bytes, 200);
    assert_int_equal(s.r[1].packets, 2);
    assert_int_equal(s.r[1].first_ms, 1482670715819ULL);
    assert_int_equal(s.r[1].last_ms, 1482670715819ULL);
    assert_int_equal(decode_counter(ctx, DC_BIFLOW_REVERSE), 1);
    decode_ctx_free(ctx);
}

static int setup(void **state)
{
    (void)state;
    const char *sh = getenv("TW_SHARED");
    verbose = getenv("TW_DECODE_VERBOSE") != NULL;
    if (!sh || !*sh)
        return -1;
    snprintf(dir, sizeof dir, "%s/testdata/netflow/logstash-codec-netflow", sh);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) && nnames < MAXF) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".dat") == 0)
            names[nnames++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nnames, sizeof names[0], cmp_names);
    return 0;
}

int main(void)
{
    if (setup(NULL) < 0) {
        fprintf(stderr,
                "test_decode_realdata: skipped: $TW_SHARED/testdata/netflow/logstash-codec-netflow "
                "not found (set TW_SHARED to the shared test data folder)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_groups),
        cmocka_unit_test(test_values),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    return rc;
}
