/* test_capture: reading pcap / pcapng / gzip captures written by the generator, malformed
 * captures (truncated, bogus lengths, unknown link type, snaplen 0, garbage), ordering files by
 * first packet, reassembling fragmented export datagrams from a capture, a live capture on lo,
 * and the real captures in $TW_SHARED/testdata (counts from its README).
 * Returns 77 after the other checks pass when TW_SHARED is absent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "frag.h"
#include "gen_pcap.h"
#include "pkt.h"

static char tmpdir[256];
static bool shared_missing;

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) & 3;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

#define BASE_TS 1700000000123456789ull

/* Write n UDP packets (v4 and v6 alternating) with the given options; ts step 1.5 ms. */
static void write_sample(const char *path, const struct gen_pcap_opts *o, int n)
{
    struct gen_pcap *w;
    uint8_t s4[16], d4[16], s6[16], d6[16], pl[300];
    int i;

    gen_addr4(s4, 10, 1, 2, 3);
    gen_addr4(d4, 127, 0, 0, 1);
    assert_int_equal(gen_addr(s6, "2001:db8::5"), 0);
    assert_int_equal(gen_addr(d6, "::1"), 0);
    for (i = 0; i < (int)sizeof(pl); i++)
        pl[i] = (uint8_t)i;
    assert_int_equal(gen_pcap_open(path, o, &w), 0);
    for (i = 0; i < n; i++) {
        pl[0] = (uint8_t)i;
        if (i & 1)
            assert_int_equal(gen_pcap_write_udp(w, BASE_TS + (uint64_t)i * 1500000u, s6, 1000, d6,
                                                4739, pl, 100 + (size_t)i % 200),
                             1);
        else
            assert_int_equal(gen_pcap_write_udp(w, BASE_TS + (uint64_t)i * 1500000u, s4, 2000, d4,
                                                2055, pl, 100 + (size_t)i % 200),
                             1);
    }
    assert_int_equal(gen_pcap_close(w), 0);
}

/* Read a capture, checking every packet; returns the count and the final rc. */
static int read_all(struct capture *c, bool nano, int *rc_out)
{
    struct capture_pkt p;
    struct pkt_info pi;
    int n = 0, rc;

    while ((rc = capture_next(c, &p)) == CAPTURE_PACKET) {
        uint64_t want = BASE_TS + (uint64_t)n * 1500000u;
        if (!nano)
            want = want / 1000 * 1000;
        assert_int_equal(p.ts_ns, want);
        assert_int_equal(pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi), PKT_OK);
        assert_int_equal(pi.proto, 17);
        assert_int_equal(pi.v6, (n & 1) != 0);
        assert_int_equal(pi.dport, (n & 1) ? 4739 : 2055);
        assert_int_equal(pi.l4_payload_len, 100 + n % 200);
        if (pi.l4_payload_caplen)
            assert_int_equal(pi.l4_payload[0], (uint8_t)n);
        n++;
    }
    *rc_out = rc;
    return n;
}

static void test_formats(void **state)
{
    static const int lts[] = {GEN_LT_EN10MB, GEN_LT_SLL,  GEN_LT_SLL2,
                              GEN_LT_RAW,    GEN_LT_NULL, GEN_LT_LOOP};
    int ng, nano, be, gz, li, rc;

    (void)state;
    for (ng = 0; ng < 2; ng++)
        for (nano = 0; nano < 2; nano++)
            for (be = 0; be < 2; be++)
                for (gz = 0; gz < 2; gz++)
                    for (li = 0; li < 6; li++) {
                        struct gen_pcap_opts o = {.linktype = lts[li],
                                                  .pcapng = ng,
                                                  .nano = nano,
                                                  .big_endian = be,
                                                  .gzip = gz};
                        struct capture *c;
                        char err[256];
                        const char *p = tpath("fmt.pcap");
                        write_sample(p, &o, 50);
                        assert_int_equal(capture_open_file(p, &c, err, sizeof(err)), 0);
                        assert_int_equal(read_all(c, nano, &rc), 50);
                        assert_int_equal(rc, CAPTURE_END);
                        assert_int_equal(capture_next(c, &(struct capture_pkt){0}), CAPTURE_END);
                        assert_true(capture_file_size(c) > 0);
                        assert_true(capture_bytes_read(c) <= capture_file_size(c));
                        assert_true(capture_bytes_read(c) > capture_file_size(c) / 2);
                        assert_int_equal(capture_fd(c), -1);
                        capture_close(c);
                    }
}

static void test_mem(void **state)
{
    int gz, ng, rc;

    (void)state;
    for (gz = 0; gz < 2; gz++)
        for (ng = 0; ng < 2; ng++) {
            struct gen_pcap_opts o = {
                .linktype = GEN_LT_EN10MB, .nano = true, .gzip = gz, .pcapng = ng};
            struct gen_pcap *w;
            struct capture *c;
            uint8_t *data, s[16], d[16], pl[64] = {0};
            size_t len;
            char err[256];
            int i;

            gen_addr4(s, 1, 1, 1, 1);
            gen_addr4(d, 2, 2, 2, 2);
            assert_int_equal(gen_pcap_open_mem(&o, &w), 0);
            for (i = 0; i < 20; i++) {
                pl[0] = (uint8_t)i;
                assert_int_equal(gen_pcap_write_udp(w, BASE_TS + (uint64_t)i * 1500000u, s, 1, d,
                                                    2055, pl, sizeof(pl)),
                                 1);
            }
            assert_int_equal(gen_pcap_close_mem(w, &data, &len), 0);
            assert_int_equal(capture_open_mem(data, len, &c, err, sizeof(err)), 0);
            for (i = 0; (rc = capture_next(c, &(struct capture_pkt){0})) == CAPTURE_PACKET; i++)
                ;
            assert_int_equal(i, 20);
            assert_int_equal(rc, CAPTURE_END);
            assert_int_equal(capture_bytes_read(c), len);
            capture_close(c);
            /* truncated in memory: good packets first, then an error */
            assert_int_equal(capture_open_mem(data, len - 30, &c, err, sizeof(err)), 0);
            for (i = 0; (rc = capture_next(c, &(struct capture_pkt){0})) == CAPTURE_PACKET; i++)
                ;
            assert_true(i >= 18 && i < 20);
            assert_int_equal(rc, CAPTURE_ERROR);
            assert_true(strlen(capture_error(c)) > 0);
            capture_close(c);
            free(data);
        }
}

static void truncate_file(const char *p, long cut)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(truncate(p, sb.st_size - cut), 0);
}

static void test_truncated_files(void **state)
{
    int ng, gz, rc, n;

    (void)state;
    for (ng = 0; ng < 2; ng++)
        for (gz = 0; gz < 2; gz++) {
            struct gen_pcap_opts o = {.linktype = GEN_LT_EN10MB, .pcapng = ng, .gzip = gz};
            struct capture *c;
            char err[256];
            const char *p = tpath("trunc.pcap");
            struct capture_stats st;
            write_sample(p, &o, 10);
            truncate_file(p, gz ? 12 : 5);
            assert_int_equal(capture_open_file(p, &c, err, sizeof(err)), 0);
            n = read_all(c, false, &rc);
            assert_true(n >= (gz ? 1 : 9) && n <= 9);
            assert_int_equal(rc, CAPTURE_ERROR);
            assert_non_null(strstr(capture_error(c), p));
            if (!gz)
                assert_non_null(strstr(capture_error(c), "truncated"));
            assert_int_equal(capture_next(c, &(struct capture_pkt){0}), CAPTURE_ERROR);
            capture_stats(c, &st);
            assert_int_equal(st.errors, 1);
            assert_int_equal(st.packets, (uint64_t)n);
            capture_close(c);
        }
}

/* A gzip capture cut at any byte (in its data or its 8-byte trailer) is an error naming the
 * file, never a clean end: zlib reports such a cut as an end of file with Z_BUF_ERROR kept. */
static void test_gzip_cut_everywhere(void **state)
{
    struct gen_pcap_opts o = {.linktype = GEN_LT_EN10MB, .gzip = true};
    const char *p = tpath("cut.pcap.gz");
    struct stat sb;
    int rc, n;

    (void)state;
    write_sample(p, &o, 10);
    assert_int_equal(stat(p, &sb), 0);
    for (long cut = 1; cut < sb.st_size; cut++) {
        struct capture *c;
        char err[256];
        write_sample(p, &o, 10);
        truncate_file(p, cut);
        if (capture_open_file(p, &c, err, sizeof(err)) < 0) { /* not even a file header */
            assert_non_null(strstr(err, p));
            continue;
        }
        n = read_all(c, false, &rc);
        assert_true(n <= 10);
        if (rc != CAPTURE_ERROR)
            fail_msg("cut %ld bytes before the end: %d packets and a clean end", cut, n);
        assert_non_null(strstr(capture_error(c), p));
        capture_close(c);
    }
}

static void write_raw(const char *p, const void *d, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* pcapng blocks, little-endian (body padded to 4 bytes by the caller) */
static size_t ng_block(uint8_t *out, uint32_t type, const void *body, uint32_t blen)
{
    uint32_t tot = 12 + blen;
    memcpy(out, &type, 4);
    memcpy(out + 4, &tot, 4);
    memcpy(out + 8, body, blen);
    memcpy(out + 8 + blen, &tot, 4);
    return tot;
}

/* A pcapng whose second interface has another link type: libpcap reads one link type a file,
 * so the packet before it is read and then the error names the file (README "Using it"). */
static void test_pcapng_two_link_types(void **state)
{
    uint8_t f[512], shb[16] = {0x4d, 0x3c, 0x2b, 0x1a, 1,    0,    0,    0,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t idb_eth[8] = {1, 0, 0, 0, 0xff, 0xff, 0, 0},
            idb_raw[8] = {101, 0, 0, 0, 0xff, 0xff, 0, 0};
    uint8_t epb[20 + 64] = {0};
    uint32_t len = 64;
    const char *p = tpath("twolt.pcapng");
    struct capture *c;
    struct capture_pkt pkt;
    char err[256];
    size_t n = 0;

    (void)state;
    memcpy(epb + 12, &len, 4);
    memcpy(epb + 16, &len, 4);
    n += ng_block(f + n, 0x0a0d0d0a, shb, sizeof shb);
    n += ng_block(f + n, 1, idb_eth, sizeof idb_eth);
    n += ng_block(f + n, 6, epb, sizeof epb); /* interface 0 */
    n += ng_block(f + n, 1, idb_raw, sizeof idb_raw);
    epb[0] = 1;
    n += ng_block(f + n, 6, epb, sizeof epb); /* interface 1 */
    write_raw(p, f, n);
    assert_int_equal(capture_open_file(p, &c, err, sizeof(err)), 0);
    assert_int_equal(capture_next(c, &pkt), CAPTURE_PACKET);
    assert_int_equal(capture_next(c, &pkt), CAPTURE_ERROR);
    assert_non_null(strstr(capture_error(c), p));
    assert_non_null(strstr(capture_error(c), "different from the type of the first interface"));
    capture_close(c);
}

static uint8_t *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    uint8_t *d;
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    d = malloc((size_t)n + 1);
    assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return d;
}

static void test_malformed_files(void **state)
{
    struct capture *c = NULL;
    char err[512];
    uint8_t garbage[4096];
    size_t i, len;
    uint8_t *d;
    int rc, n;
    struct gen_pcap_opts o = {.linktype = GEN_LT_EN10MB};

    (void)state;
    /* missing */
    assert_int_equal(capture_open_file(tpath("nope.pcap"), &c, err, sizeof(err)), -ENOENT);
    assert_null(c);
    assert_non_null(strstr(err, "No such file"));
    /* directory */
    assert_int_equal(capture_open_file(tmpdir, &c, err, sizeof(err)), -EISDIR);
    assert_non_null(strstr(err, "directory"));
    /* empty */
    write_raw(tpath("empty.pcap"), "", 0);
    assert_int_equal(capture_open_file(tpath("empty.pcap"), &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "empty"));
    /* garbage */
    for (i = 0; i < sizeof(garbage); i++)
        garbage[i] = (uint8_t)(i * 131 + 17);
    write_raw(tpath("garbage.pcap"), garbage, sizeof(garbage));
    assert_int_equal(capture_open_file(tpath("garbage.pcap"), &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a pcap"));
    assert_int_equal(capture_open_mem(garbage, sizeof(garbage), &c, err, sizeof(err)), -EINVAL);
    /* gzip of garbage and a broken gzip stream */
    garbage[0] = 0x1f;
    garbage[1] = 0x8b;
    write_raw(tpath("garbage.gz"), garbage, sizeof(garbage));
    assert_int_equal(capture_open_file(tpath("garbage.gz"), &c, err, sizeof(err)), -EINVAL);
    assert_true(strlen(err) > 0);
    assert_int_equal(capture_open_mem(garbage, sizeof(garbage), &c, err, sizeof(err)), -EINVAL);
    /* header only (short) */
    write_sample(tpath("ok.pcap"), &o, 3);
    d = slurp(tpath("ok.pcap"), &len);
    write_raw(tpath("short.pcap"), d, 10);
    assert_int_equal(capture_open_file(tpath("short.pcap"), &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "short.pcap"));

    /* unknown link type */
    {
        struct gen_pcap_opts u = {.linktype = 147};
        struct gen_pcap *w;
        assert_int_equal(gen_pcap_open(tpath("lt147.pcap"), &u, &w), 0);
        assert_int_equal(gen_pcap_write(w, 1, garbage, 100), 0);
        assert_int_equal(gen_pcap_close(w), 0);
        assert_int_equal(capture_open_file(tpath("lt147.pcap"), &c, err, sizeof(err)),
                         -EPROTONOSUPPORT);
        assert_non_null(strstr(err, "unsupported link type 147"));
    }
    /* snaplen 0 in the file header: still readable */
    memset(d + 16, 0, 4);
    write_raw(tpath("snap0.pcap"), d, len);
    assert_int_equal(capture_open_file(tpath("snap0.pcap"), &c, err, sizeof(err)), 0);
    assert_int_equal(read_all(c, false, &rc), 3);
    assert_int_equal(rc, CAPTURE_END);
    capture_close(c);
    /* bogus record length (caplen 0xfffffff0) after one good packet */
    {
        size_t first = 24 + 16 + (d[24 + 8] | (size_t)d[24 + 9] << 8);
        d[first + 8] = 0xf0;
        d[first + 9] = d[first + 10] = d[first + 11] = 0xff;
        write_raw(tpath("bogus.pcap"), d, len);
        assert_int_equal(capture_open_file(tpath("bogus.pcap"), &c, err, sizeof(err)), 0);
        n = read_all(c, false, &rc);
        assert_int_equal(n, 1);
        assert_int_equal(rc, CAPTURE_ERROR);
        assert_true(strlen(capture_error(c)) > 0);
        capture_close(c);
        /* caplen > wirelen and caplen 0 records: no crash */
        d[first + 8] = 0;
        d[first + 9] = d[first + 10] = d[first + 11] = 0;
        write_raw(tpath("zero.pcap"), d, len);
        assert_int_equal(capture_open_file(tpath("zero.pcap"), &c, err, sizeof(err)), 0);
        for (n = 0; n < 100 && capture_next(c, &(struct capture_pkt){0}) == CAPTURE_PACKET; n++)
            ;
        assert_true(n < 100);
        capture_close(c);
    }
    free(d);
}

static void test_sort_by_time(void **state)
{
    struct gen_pcap_opts o = {.linktype = GEN_LT_RAW, .nano = true};
    struct gen_pcap *w;
    const char *names[4];
    char a[512], b[512], e[512], g[512], err[256];
    uint8_t s[16], d[16], pl[10] = {0};
    uint64_t ts;

    (void)state;
    gen_addr4(s, 1, 2, 3, 4);
    gen_addr4(d, 5, 6, 7, 8);
    snprintf(a, sizeof(a), "%s", tpath("late.pcap"));
    snprintf(b, sizeof(b), "%s", tpath("early.pcap"));
    snprintf(e, sizeof(e), "%s", tpath("nopkts.pcap"));
    snprintf(g, sizeof(g), "%s", tpath("mid.pcap.gz"));
    assert_int_equal(gen_pcap_open(a, &o, &w), 0);
    assert_int_equal(gen_pcap_write_udp(w, 3000, s, 1, d, 2, pl, sizeof(pl)), 1);
    assert_int_equal(gen_pcap_close(w), 0);
    assert_int_equal(gen_pcap_open(b, &o, &w), 0);
    assert_int_equal(gen_pcap_write_udp(w, 1000, s, 1, d, 2, pl, sizeof(pl)), 1);
    assert_int_equal(gen_pcap_write_udp(w, 9000, s, 1, d, 2, pl, sizeof(pl)), 1);
    assert_int_equal(gen_pcap_close(w), 0);
    assert_int_equal(gen_pcap_open(e, &o, &w), 0);
    assert_int_equal(gen_pcap_close(w), 0);
    o.gzip = true;
    o.pcapng = true;
    assert_int_equal(gen_pcap_open(g, &o, &w), 0);
    assert_int_equal(gen_pcap_write_udp(w, 2000, s, 1, d, 2, pl, sizeof(pl)), 1);
    assert_int_equal(gen_pcap_close(w), 0);

    assert_int_equal(capture_first_ts(b, &ts, err, sizeof(err)), 1);
    assert_int_equal(ts, 1000);
    assert_int_equal(capture_first_ts(e, &ts, err, sizeof(err)), 0);
    names[0] = e;
    names[1] = a;
    names[2] = g;
    names[3] = b;
    assert_int_equal(capture_sort_by_time(names, 4, err, sizeof(err)), 0);
    assert_string_equal(names[0], b);
    assert_string_equal(names[1], g);
    assert_string_equal(names[2], a);
    assert_string_equal(names[3], e);
    names[0] = tpath("missing.pcap");
    assert_int_equal(capture_sort_by_time(names, 4, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "missing.pcap"));
}

/* Export datagrams captured IP-fragmented come back whole through frag. */
static void test_fragmented_exports(void **state)
{
    struct gen_pcap_opts o = {.linktype = GEN_LT_EN10MB, .mtu = 1500};
    struct gen_pcap *w;
    struct capture *c;
    struct capture_pkt p;
    struct frag_table *ft;
    struct frag_datagram dg;
    struct frag_stats fs;
    uint8_t s[16], d[16], s6[16], pl[9000];
    char err[256];
    int i, whole = 0, rec = 0;

    (void)state;
    for (i = 0; i < (int)sizeof(pl); i++)
        pl[i] = (uint8_t)(i ^ (i >> 8));
    gen_addr4(s, 192, 0, 2, 1);
    gen_addr4(d, 198, 51, 100, 9);
    assert_int_equal(gen_addr(s6, "2001:db8::99"), 0);
    assert_int_equal(gen_pcap_open(tpath("frag.pcap"), &o, &w), 0);
    for (i = 0; i < 10; i++) {
        int n = gen_pcap_write_udp(w, BASE_TS + (uint64_t)i * 1000u, s, 50000, d, 4739, pl,
                                   1000 + (size_t)i * 800);
        assert_true(n >= 1);
    }
    {
        uint8_t d6[16];
        assert_int_equal(gen_addr(d6, "2001:db8::1"), 0);
        assert_true(gen_pcap_write_udp(w, BASE_TS + 20000u, s6, 50000, d6, 4739, pl, 8000) > 1);
    }
    assert_int_equal(gen_pcap_close(w), 0);
    assert_int_equal(frag_table_new(NULL, &ft), 0);
    assert_int_equal(capture_open_file(tpath("frag.pcap"), &c, err, sizeof(err)), 0);
    while (capture_next(c, &p) == CAPTURE_PACKET) {
        struct pkt_info pi;
        assert_int_equal(pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi), PKT_OK);
        if (!pi.fragment) {
            assert_int_equal(pi.l4_payload_len, 1000);
            whole++;
            continue;
        }
        if (frag_input(ft, &pi, p.ts_ns, &dg) == 1) {
            assert_int_equal(dg.dport, 4739);
            assert_int_equal(dg.sport, 50000);
            assert_true(dg.payload_len == 8000 ||
                        dg.payload_len == 1000 + (uint32_t)rec * 800 + 800);
            assert_memory_equal(dg.payload, pl, dg.payload_len);
            rec++;
        }
    }
    capture_close(c);
    frag_get_stats(ft, &fs);
    assert_int_equal(whole, 1);
    assert_int_equal(rec, 10);
    assert_int_equal(fs.reassembled, 10);
    assert_int_equal(fs.in_progress, 0);
    frag_table_free(ft);
}

/* frag_discard forgets the datagram a fragment belongs to, uncounted (the ingest's held later
 * pieces of a datagram whose first fragment is no export), and no other. */
static void test_frag_discard(void **state)
{
    uint8_t hdr[20] = {0x45, 0, 0, 0, 0, 7, 0, 0, 64, 17}, data[16] = {0};
    struct pkt_info later = {.l3 = hdr,
                             .frag_data = data,
                             .frag_data_len = 16,
                             .frag_data_caplen = 16,
                             .frag_offset = 1480,
                             .frag_id = 7,
                             .proto = 17,
                             .fragment = true};
    struct pkt_info other, first;
    struct frag_table *ft;
    struct frag_datagram dg;
    struct frag_stats fs;

    (void)state;
    gen_addr4(later.src, 192, 0, 2, 1);
    gen_addr4(later.dst, 198, 51, 100, 9);
    other = first = later;
    other.frag_id = 8;
    first.frag_offset = 0;
    first.first_fragment = first.more_frags = true;
    assert_int_equal(frag_table_new(NULL, &ft), 0);
    assert_int_equal(frag_input(ft, &later, BASE_TS, &dg), 0);
    assert_int_equal(frag_input(ft, &other, BASE_TS, &dg), 0);
    frag_discard(ft, &first);
    frag_get_stats(ft, &fs);
    assert_int_equal(fs.in_progress, 1);
    assert_int_equal(fs.bytes_held, 16);
    assert_int_equal(fs.timeouts + fs.evicted + fs.overlaps + fs.beyond_end + fs.bad, 0);
    frag_discard(ft, &first); /* nothing left of it: a no-op */
    frag_discard(ft, &other);
    frag_get_stats(ft, &fs);
    assert_int_equal(fs.in_progress, 0);
    assert_int_equal(fs.bytes_held, 0);
    frag_table_free(ft);
}

static void test_live_lo(void **state)
{
    struct capture *c;
    struct capture_stats st;
    char err[256], filt[64];
    int s, i, got = 0;
    struct sockaddr_in to = {.sin_family = AF_INET};
    uint16_t port = (uint16_t)(40000 + (getpid() % 20000));

    (void)state;
    snprintf(filt, sizeof(filt), "udp and dst port %u", port);
    if (capture_open_live("lo", filt, 0, false, 2, &c, err, sizeof(err)) < 0) {
        print_message("live capture unavailable (%s): skipped\n", err);
        skip();
    }
    assert_true(capture_fd(c) >= 0);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 5; i++)
        assert_int_equal(sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
    close(s);
    for (i = 0; i < 40 && got < 5; i++) { /* at most ~4 s */
        struct pollfd pf = {.fd = capture_fd(c), .events = POLLIN};
        struct capture_pkt p;
        int r;
        (void)poll(&pf, 1, 100);
        while ((r = capture_next(c, &p)) == CAPTURE_PACKET) {
            struct pkt_info pi;
            assert_int_equal(pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi), PKT_OK);
            assert_int_equal(pi.dport, port);
            assert_int_equal(pi.l4_payload_len, 5);
            got++;
        }
        assert_int_equal(r, CAPTURE_IDLE);
    }
    assert_int_equal(got, 5);
    capture_stats(c, &st);
    assert_int_equal(st.packets, 5);
    capture_close(c);
    /* errors are clear */
    assert_int_equal(capture_open_live("nosuchif0", NULL, 0, false, 0, &c, err, sizeof(err)),
                     -ENODEV);
    assert_non_null(strstr(err, "nosuchif0"));
    assert_int_equal(capture_open_live("lo", "this is not bpf", 0, false, 0, &c, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "bad filter"));
}

/* Real captures: packet counts from the testdata README; export pcaps are all UDP. */
static void test_real_captures(void **state)
{
    static const struct {
        const char *path;
        int pkts;
        int dport; /* every packet UDP to this port (0: mixed traffic) */
    } files[] = {
        {"netflow/pmacct/100-IPFIXv10-CISCO/traffic-00.pcap", 6, 9991},
        {"netflow/pmacct/101-NFv9-CISCO-cust_primitives/traffic-00.pcap", 40, 9991},
        {"netflow/pmacct/102-NFv9-CISCO-f2rd-pretag-sampling-reload/traffic-00.pcap", 25, 9991},
        {"netflow/pmacct/104-IPFIXv10-IPv6-CISCO-sampling_option/traffic-00.pcap", 5, 9992},
        {"netflow/pmacct/106-IPFIXv10-HUAWEI-vrf_name/traffic-00.pcap", 6, 9991},
        {"netflow/pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources/traffic-00.pcap", 11, 9991},
        {"netflow/pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources/traffic-01.pcap", 11, 9991},
        {"netflow/pmacct/112-IPFIXv10-CISCO-options-map-reassignment/traffic-00.pcap", 21, 9991},
        {"netflow/akvorado/nfv5.pcap", 1, 9990},
        {"netflow/akvorado/template.pcap", 1, 2055},
        {"netflow/akvorado/data.pcap", 1, 2055},
        {"netflow/akvorado/data+templates.pcap", 1, 2055},
        {"netflow/akvorado/samplingrate-template.pcap", 1, 8096},
        {"netflow/akvorado/icmp-data.pcap", 1, 2100},
        {"netflow/akvorado/ipfixprobe-data.pcap", 1, 4739},
        {"netflow/akvorado/physicalinterfaces.pcap", 1, 2055},
        {"netflow/scapy/ipfix.pcap", 3, 9995},
        {"netflow/scapy/netflowv9.pcap", 5, 2055},
        {"pcap/stratosphere-slips/test-cc-capture-2.pcap", 1084, 0},
        {"pcap/stratosphere-slips/test8-malicious.pcap", 534, 0},
        {"pcap/stratosphere-slips/test12-icmp-portscan.pcap", 37, 0},
        {"pcap/stratosphere-slips/malicious-ssh-bruteforce.pcap", 1178, 0},
    };
    const char *shared = getenv("TW_SHARED");
    size_t i;

    (void)state;
    if (!shared || !*shared) {
        shared_missing = true;
        print_message("TW_SHARED not set: real captures not checked\n");
        skip();
    }
    {
        char probe[1024];
        struct stat sb;
        snprintf(probe, sizeof(probe), "%s/testdata", shared);
        if (stat(probe, &sb) != 0) {
            shared_missing = true;
            print_message("%s absent: real captures not checked\n", probe);
            skip();
        }
    }
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1024], err[512];
        struct capture *c;
        struct capture_pkt p;
        int n = 0, rc, not_ip = 0, icmp8 = 0;
        snprintf(path, sizeof(path), "%s/testdata/%s", shared, files[i].path);
        if (capture_open_file(path, &c, err, sizeof(err)) < 0)
            fail_msg("%s", err);
        while ((rc = capture_next(c, &p)) == CAPTURE_PACKET) {
            struct pkt_info pi;
            int r = pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi);
            if (files[i].dport) {
                if (r != PKT_OK)
                    fail_msg("%s packet %d: %s", files[i].path, n + 1, pkt_err_name(r));
                assert_int_equal(pi.proto, 17);
                assert_int_equal(pi.dport, files[i].dport);
                assert_true(pi.l4_payload_len > 0);
            }
            if (r == PKT_ERR_NOT_IP)
                not_ip++;
            if (r == PKT_OK && pi.proto == 1 && pi.icmp_type == 8)
                icmp8++;
            n++;
        }
        if (rc != CAPTURE_END)
            fail_msg("%s: %s", files[i].path, capture_error(c));
        if (n != files[i].pkts)
            fail_msg("%s: %d packets, README says %d", files[i].path, n, files[i].pkts);
        assert_int_equal(capture_bytes_read(c), capture_file_size(c));
        if (strstr(files[i].path, "test8"))
            assert_true(not_ip >= 507); /* the ARP scan */
        if (strstr(files[i].path, "test12"))
            assert_true(icmp8 >= 18); /* the ping sweep */
        capture_close(c);
    }
}

static int setup(void **state)
{
    const char *t = getenv("TMPDIR");
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/tw_capture_XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_gzip_cut_everywhere),
        cmocka_unit_test(test_pcapng_two_link_types),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_sort_by_time),
        cmocka_unit_test(test_fragmented_exports),
        cmocka_unit_test(test_frag_discard),
        cmocka_unit_test(test_live_lo),
        cmocka_unit_test(test_real_captures),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    if (rc == 0 && shared_missing) {
        fprintf(stderr, "test_capture: TW_SHARED/testdata absent, real-capture checks skipped\n");
        return 77;
    }
    return rc;
}
