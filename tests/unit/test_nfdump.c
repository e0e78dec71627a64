/* test_nfdump.c: nfdump's output into flow records (collector/sources/nfdump.c): the JSON
 * array of pretty-printed objects (and the same objects compact), bad objects skipped up to the
 * next one, the CSV columns; nfcapd file names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "nfdump.h"

/* Feed text line by line; records into out (at most max), the parse results counted. */
struct run {
    struct flow_rec out[8];
    int nrec, nerr;
};

static void feed(struct nfdump_parser *p, const char *text, struct run *r)
{
    memset(r, 0, sizeof *r);
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        struct flow_rec f;
        int rc = nfdump_parse_line(p, text, n, &f);
        if (rc < 0)
            r->nerr++;
        else if (rc > 0 && r->nrec < 8)
            r->out[r->nrec++] = f;
        text += n + (nl ? 1 : 0);
    }
}

static void assert_addr(const uint8_t a[16], const char *want)
{
    uint8_t w[16];
    assert_int_equal(addr_parse(want, w), 0);
    assert_memory_equal(a, w, 16);
}

static const char rec_tcp[] = "{\n"
                              "\t\"type\" : \"FLOW\",\n"
                              "\t\"first\" : \"2011-03-18T16:52:47.096\",\n"
                              "\t\"last\" : \"2011-03-18T16:52:48.500\",\n"
                              "\t\"in_packets\" : 3,\n"
                              "\t\"in_bytes\" : \"180\",\n"
                              "\t\"proto\" : 6,\n"
                              "\t\"tcp_flags\" : \"...A..S.\",\n"
                              "\t\"src_port\" : 40000,\n"
                              "\t\"dst_port\" : 443,\n"
                              "\t\"src4_addr\" : \"192.0.2.1\",\n"
                              "\t\"dst4_addr\" : \"198.51.100.7\",\n"
                              "\t\"src_as\" : 64500,\n"
                              "\t\"label\" : \"<none>\"\n";

static void test_json(void **state)
{
    (void)state;
    struct nfdump_parser p;
    assert_int_equal(nfdump_parser_init(&p, NFDUMP_FMT_JSON), 0);
    char text[4096];
    snprintf(text, sizeof text,
             "[\n%s},\n"
             "{\n\t\"type\" : \"FLOW\",\n\t\"first\" : \"2011-03-18T16:52:50.000\",\n"
             "\t\"proto\" : 1,\n\t\"icmp_type\" : 8,\n\t\"icmp_code\" : 0,\n"
             "\t\"src6_addr\" : \"2001:db8::1\",\n\t\"dst6_addr\" : \"2001:db8::2\"\n},\n"
             "{\n\t\"type\" : \"STAT\",\n\t\"x\" : 1\n},\n"
             "{\"type\":\"FLOW\",\"first\":\"2011-03-18T16:52:51\",\"proto\":17,"
             "\"src4_addr\":\"192.0.2.9\",\"dst4_addr\":\"192.0.2.10\",\"dst_port\":53}\n"
             "]\n",
             rec_tcp);
    struct run r;
    feed(&p, text, &r);
    assert_int_equal(r.nerr, 0);
    assert_int_equal(r.nrec, 3);
    const struct flow_rec *f = &r.out[0];
    assert_addr(f->src, "192.0.2.1");
    assert_addr(f->dst, "198.51.100.7");
    assert_true(f->first_ms == 1300467167096ull);
    assert_true(f->last_ms == 1300467168500ull);
    assert_int_equal(f->packets, 3);
    assert_int_equal(f->bytes, 180);
    assert_int_equal(f->tcp_flags, 0x12);
    assert_int_equal(f->sport, 40000);
    assert_int_equal(f->dport, 443);
    assert_int_equal(f->src_as, 64500);
    assert_int_equal(f->sampling, 1);
    f = &r.out[1]; /* ICMPv6 echo: dport = type << 8 | code, no last: = first */
    assert_true(f->flags & FLOW_F_V6);
    assert_int_equal(f->dport, 8 << 8);
    assert_true(f->last_ms == f->first_ms);
    assert_int_equal(r.out[2].dport, 53);
    nfdump_parser_fini(&p);
}

static void test_json_bad(void **state)
{
    (void)state;
    struct nfdump_parser p;
    assert_int_equal(nfdump_parser_init(&p, NFDUMP_FMT_JSON), 0);
    char text[4096];
    /* a bad value: that record only; broken JSON: its lines skipped up to the next object;
     * a record without its addresses; text outside the objects */
    snprintf(
        text, sizeof text,
        "[\n"
        "{\n\t\"type\" : \"FLOW\",\n\t\"src_port\" : 70000,\n\t\"first\" : "
        "\"2011-03-18T16:52:47\",\n"
        "\t\"src4_addr\" : \"192.0.2.1\",\n\t\"dst4_addr\" : \"192.0.2.2\"\n},\n"
        "{\n\t\"type\" : \"FLOW\" \"proto\" : 6,\n\t\"src_port\" : 1,\n\t\"dst_port\" : 2\n},\n"
        "{\n\t\"type\" : \"FLOW\",\n\t\"first\" : \"2011-03-18T16:52:47\"\n},\n"
        "No matching flows\n"
        "%s},\n"
        "]\n",
        rec_tcp);
    struct run r;
    feed(&p, text, &r);
    assert_int_equal(r.nrec, 1);
    assert_int_equal(r.out[0].dport, 443);
    assert_int_equal(r.nerr, 4);
    nfdump_parser_fini(&p);

    /* an object past NFDUMP_OBJ_MAX is dropped; the next one is read */
    assert_int_equal(nfdump_parser_init(&p, NFDUMP_FMT_JSON), 0);
    struct flow_rec f;
    assert_int_equal(nfdump_parse_line(&p, "{", 1, &f), 0);
    char line[NFDUMP_LINE_MAX];
    memset(line, ' ', sizeof line);
    memcpy(line, "\"x\" : 1,", 8);
    int errs = 0;
    for (int i = 0; i < NFDUMP_OBJ_MAX / NFDUMP_LINE_MAX + 2; i++)
        errs += nfdump_parse_line(&p, line, sizeof line, &f) < 0;
    assert_int_equal(errs, 1);
    char text2[2048];
    snprintf(text2, sizeof text2, "},\n%s}\n", rec_tcp);
    feed(&p, text2, &r);
    assert_int_equal(r.nrec, 1);
    assert_int_equal(r.nerr, 0);
    /* a line too long to hand over drops the object it was in */
    assert_int_equal(nfdump_parse_line(&p, "{", 1, &f), 0);
    nfdump_parser_skip_line(&p);
    feed(&p, "\"x\" : 1\n}\n", &r);
    assert_int_equal(r.nrec + r.nerr, 0);
    nfdump_parser_fini(&p);
}

static void test_csv(void **state)
{
    (void)state;
    struct nfdump_parser p;
    assert_int_equal(nfdump_parser_init(&p, NFDUMP_FMT_CSV), 0);
    struct run r;
    feed(
        &p,
        "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das\n"
        "2011-03-18 16:52:47,2011-03-18 16:52:48,1.0,192.0.2.1,198.51.100.7,40000,443,TCP,"
        "...A..S.,0,0,3,180,0,0,0,0,64500,0\n"
        "2011-03-18 16:52:47,2011-03-18 16:52:47,0.0,192.0.2.1,198.51.100.7,0,2048,ICMP,"
        "........,0,0,1,84,0,0,0,0,0,0\n"
        "2011-03-18 16:52:47,bad,0.0,192.0.2.1,198.51.100.7,0,0,UDP,........,0,0,1,84,0,0,0,0,0,0\n"
        "2011-03-18 16:52:47,2011-03-18 16:52:47,0.0,192.0.2.1\n"
        "\n"
        "Summary: total flows: 2\n",
        &r);
    assert_int_equal(r.nrec, 2);
    assert_int_equal(r.nerr, 2);
    assert_int_equal(r.out[0].proto, 6);
    assert_int_equal(r.out[0].tcp_flags, 0x12);
    assert_int_equal(r.out[0].bytes, 180);
    assert_int_equal(r.out[0].src_as, 64500);
    assert_int_equal(r.out[1].dport, 2048);
    assert_int_equal(r.out[1].sport, 0);
    nfdump_parser_fini(&p);
}

static void test_names(void **state)
{
    (void)state;
    uint64_t ms;
    assert_int_equal(nfdump_name_time("/x/nfcapd.201103181652", &ms), 0);
    assert_true(ms == 1300467120000ull);
    assert_int_equal(nfdump_name_time("nfcapd.20110318165247", &ms), 0);
    assert_true(ms == 1300467167000ull);
    assert_int_equal(nfdump_name_time("nfcapd.current.1234", &ms), -EINVAL);
    assert_int_equal(nfdump_name_time("nfcapd.20110231000000", &ms), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_bad),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
