/* test_flowlog.c: Zeek conn.log (TSV, JSON) and Argus binetflow lines into flow records, and
 * the file reader (format sniffing, gzip, end-time order, bad-line accounting). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "addr.h"
#include "flowlog.h"

#define SYN 0x02
#define RST 0x04
#define FIN 0x01
#define ACK 0x10
#define PSH 0x08

static int line(struct flowlog_parser *p, const char *s, struct flow_rec out[2])
{
    return flowlog_parse_line(p, s, strlen(s), out, NULL);
}

static void assert_addr(const uint8_t a[16], const char *text)
{
    uint8_t b[16];
    assert_int_equal(addr_parse(text, b), 0);
    assert_memory_equal(a, b, 16);
}

static const char zeek_hdr[] =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2019-11-08-11-44-16\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"
    "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t"
    "bool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

static void zeek_tsv_init(struct flowlog_parser *p)
{
    flowlog_parser_init(p, FLOWLOG_AUTO);
    struct flow_rec r[2];
    const char *s = zeek_hdr;
    while (*s) {
        const char *nl = strchr(s, '\n');
        bool sk = false;
        assert_int_equal(flowlog_parse_line(p, s, (size_t)(nl - s), r, &sk), 0);
        assert_true(sk);
        s = nl + 1;
    }
    assert_int_equal(p->fmt, FLOWLOG_ZEEK_TSV);
}

static void test_zeek_tsv(void **state)
{
    (void)state;
    struct flowlog_parser p;
    struct flow_rec r[2];
    zeek_tsv_init(&p);
    /* an answered connection with a reset from the responder (Zeek's own example line) */
    assert_int_equal(line(&p,
                          "1521911721.255387\tC8Tful1TvM3Zf5x8fl\t10.164.94.120\t39681\t"
                          "10.47.3.155\t3389\ttcp\t-\t0.004266\t97\t19\tRSTR\t-\t-\t0\t"
                          "ShADTdtr\t10\t730\t6\t342\t-",
                          r),
                     2);
    assert_addr(r[0].src, "10.164.94.120");
    assert_addr(r[0].dst, "10.47.3.155");
    assert_int_equal(r[0].sport, 39681);
    assert_int_equal(r[0].dport, 3389);
    assert_int_equal(r[0].proto, 6);
    assert_int_equal(r[0].packets, 10);
    assert_int_equal(r[0].bytes, 730); /* IP bytes, as NetFlow counts */
    assert_int_equal(r[0].first_ms, 1521911721255ull);
    assert_int_equal(r[0].last_ms, 1521911721259ull);
    assert_int_equal(r[0].tcp_flags, SYN | ACK | PSH);
    assert_int_equal(r[0].sampling, 1);
    assert_addr(r[1].src, "10.47.3.155");
    assert_int_equal(r[1].sport, 3389);
    assert_int_equal(r[1].dport, 39681);
    assert_int_equal(r[1].packets, 6);
    assert_int_equal(r[1].bytes, 342);
    assert_int_equal(r[1].tcp_flags, SYN | ACK | PSH | RST);
    assert_true(r[0].flags & FLOW_F_INIT_SRC);
    assert_true(r[1].flags & FLOW_F_INIT_DST);
    /* an unanswered SYN (S0): the originator's record only, SYN alone */
    assert_int_equal(line(&p,
                          "1521911722.5\tC1\t10.0.0.1\t40000\t192.0.2.7\t23\ttcp\t-\t-\t0\t0\tS0\t"
                          "-\t-\t0\tS\t1\t44\t0\t0\t-",
                          r),
                     1);
    assert_int_equal(r[0].tcp_flags, SYN);
    assert_int_equal(r[0].packets, 1);
    assert_int_equal(r[0].last_ms, r[0].first_ms);
    /* rejected (REJ) without history: SYN, answered by RST+ACK */
    assert_int_equal(
        line(&p,
             "1521911723\tC2\t10.0.0.1\t40001\t192.0.2.7\t25\ttcp\t-\t0.0001\t0\t0\tREJ\t"
             "-\t-\t0\t-\t1\t44\t1\t40\t-",
             r),
        2);
    assert_int_equal(r[0].tcp_flags, SYN);
    assert_int_equal(r[1].tcp_flags, RST | ACK);
    /* SF without history: both sides SYN+ACK+FIN, PSH where payload went */
    assert_int_equal(
        line(&p,
             "1521911724\tC3\t10.0.0.1\t40002\t192.0.2.7\t443\ttcp\tssl\t1.5\t500\t0\tSF\t"
             "-\t-\t0\t-\t5\t760\t4\t212\t-",
             r),
        2);
    assert_int_equal(r[0].tcp_flags, SYN | ACK | FIN | PSH);
    assert_int_equal(r[1].tcp_flags, SYN | ACK | FIN);
    assert_int_equal(r[0].last_ms - r[0].first_ms, 1500);
    /* ICMP echo: type 8 code 0; the answer carries the reply type */
    assert_int_equal(line(&p,
                          "1521911725\tC4\t10.0.0.1\t8\t192.0.2.9\t0\ticmp\t-\t0.01\t56\t56\tOTH\t"
                          "-\t-\t0\t-\t1\t84\t1\t84\t-",
                          r),
                     2);
    assert_int_equal(r[0].proto, 1);
    assert_int_equal(r[0].sport, 0);
    assert_int_equal(r[0].dport, 8 << 8);
    assert_int_equal(r[1].dport, 0);
    assert_int_equal(r[0].tcp_flags, 0);
    assert_false(r[0].flags & (FLOW_F_INIT_SRC | FLOW_F_INIT_DST)); /* OTH: Zeek's guess */
    /* IPv6 ICMP: protocol 58, echo 128 -> 129 */
    assert_int_equal(
        line(&p,
             "1521911726\tC5\t2001:db8::1\t128\t2001:db8::2\t0\ticmp\t-\t0.01\t8\t8\tOTH\t"
             "-\t-\t0\t-\t1\t56\t1\t56\t-",
             r),
        2);
    assert_int_equal(r[0].proto, 58);
    assert_true(r[0].flags & FLOW_F_V6);
    assert_int_equal(r[1].dport, 129 << 8);
    /* UDP with unset byte counts */
    assert_int_equal(
        line(&p,
             "1521911727\tC6\t10.0.0.1\t5353\t224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\t"
             "-\t-\t0\tD\t1\t100\t0\t0\t-",
             r),
        1);
    assert_int_equal(r[0].proto, 17);
    assert_int_equal(r[0].bytes, 100);
    /* malformed: counted by the caller, reason given */
    assert_int_equal(line(&p,
                          "1521911728\tC7\tnot-an-address\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tS0\t"
                          "-\t-\t0\tS\t1\t40\t0\t0\t-",
                          r),
                     -EINVAL);
    assert_non_null(strstr(p.err, "id.orig_h"));
    assert_int_equal(line(&p, "1521911728\tC8\t10.0.0.1\t1", r), -EINVAL);
    assert_int_equal(
        line(&p, "x\tC9\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t40\t0\t0\t-",
             r),
        -EINVAL);
    assert_int_equal(
        line(&p,
             "1\tC9\t10.0.0.1\t70000\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t40\t0\t0\t-",
             r),
        -EINVAL);
    /* unknown transport: skipped, not an error */
    bool sk = false;
    const char *u = "1\tC10\t10.0.0.1\t0\t10.0.0.2\t0\tunknown_transport\t-\t-\t-\t-\tOTH\t-\t-"
                    "\t0\t-\t1\t40\t0\t0\t-";
    assert_int_equal(flowlog_parse_line(&p, u, strlen(u), r, &sk), 0);
    assert_true(sk);
    /* another log's header: its rows are skipped */
    assert_int_equal(line(&p, "#path\tdns", r), 0);
    sk = false;
    assert_int_equal(flowlog_parse_line(&p, u, strlen(u), r, &sk), 0);
    assert_true(sk);
    /* rows before any #fields are an error */
    struct flowlog_parser q;
    flowlog_parser_init(&q, FLOWLOG_ZEEK_TSV);
    assert_int_equal(line(&q, "1\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp", r), -EINVAL);
    /* a #fields line without the needed columns is refused */
    assert_int_equal(line(&q, "#fields\tts\tuid\tquery", r), -EINVAL);
}

/* one side's packet count not in #fields: that side still a record when it sent (the
 * originator always did), as when neither count is there; it was dropped */
static void test_zeek_tsv_one_count(void **state)
{
    (void)state;
    struct flow_rec r[2];
    struct flowlog_parser h;
    flowlog_parser_init(&h, FLOWLOG_ZEEK_TSV);
    assert_int_equal(line(&h,
                          "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
                          "duration\torig_ip_bytes\tresp_pkts\tresp_ip_bytes",
                          r),
                     0);
    assert_int_equal(line(&h, "1521911728\t10.0.0.1\t5000\t10.0.0.2\t53\tudp\t1\t300\t2\t500", r),
                     2);
    assert_int_equal(r[0].packets, 1);
    assert_int_equal(r[0].bytes, 300);
    assert_int_equal(r[1].packets, 2);
    assert_int_equal(r[1].bytes, 500);
    flowlog_parser_init(&h, FLOWLOG_ZEEK_TSV);
    assert_int_equal(line(&h,
                          "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
                          "duration\torig_pkts\torig_ip_bytes\tresp_ip_bytes",
                          r),
                     0);
    assert_int_equal(line(&h, "1521911728\t10.0.0.1\t5000\t10.0.0.2\t53\tudp\t1\t3\t300\t500", r),
                     2);
    assert_int_equal(r[0].packets, 3);
    assert_int_equal(r[1].packets, 1);
    assert_int_equal(r[1].bytes, 500);
    assert_int_equal(line(&h, "1521911728\t10.0.0.1\t5001\t10.0.0.2\t53\tudp\t1\t3\t300\t0", r), 1);
}

static void test_zeek_json(void **state)
{
    (void)state;
    struct flowlog_parser p;
    flowlog_parser_init(&p, FLOWLOG_AUTO);
    struct flow_rec r[2];
    assert_int_equal(
        line(&p,
             "{\"ts\":1591367999.305988,\"uid\":\"CMdzit1AMNsmfAIiQc\","
             "\"id.orig_h\":\"192.168.4.76\",\"id.orig_p\":36844,\"id.resp_h\":\"192.168.4.1\","
             "\"id.resp_p\":53,\"proto\":\"udp\",\"service\":\"dns\",\"duration\":0."
             "06685185432434082,"
             "\"orig_bytes\":62,\"resp_bytes\":141,\"conn_state\":\"SF\",\"missed_bytes\":0,"
             "\"history\":\"Dd\",\"orig_pkts\":2,\"orig_ip_bytes\":118,\"resp_pkts\":2,"
             "\"resp_ip_bytes\":197,\"tunnel_parents\":[\"a\",\"b\"]}",
             r),
        2);
    assert_int_equal(p.fmt, FLOWLOG_ZEEK_JSON);
    assert_addr(r[0].src, "192.168.4.76");
    assert_int_equal(r[0].dport, 53);
    assert_int_equal(r[0].bytes, 118);
    assert_int_equal(r[1].bytes, 197);
    assert_int_equal(r[0].tcp_flags, 0); /* UDP */
    assert_int_equal(r[0].first_ms, 1591367999305ull);
    assert_int_equal(r[0].last_ms, 1591367999372ull);
    /* ISO 8601 times (LogAscii::json_timestamps), history S only */
    assert_int_equal(
        line(
            &p,
            "{\"_path\":\"conn\",\"ts\":\"2020-06-05T14:39:59.305988Z\",\"id.orig_h\":\"10.0.0.1\","
            "\"id.orig_p\":40000,\"id.resp_h\":\"192.0.2.1\",\"id.resp_p\":23,\"proto\":\"tcp\","
            "\"conn_state\":\"S0\",\"history\":\"S\",\"orig_pkts\":2,\"orig_ip_bytes\":88,"
            "\"resp_pkts\":0,\"resp_ip_bytes\":0}",
            r),
        1);
    assert_int_equal(r[0].tcp_flags, SYN);
    assert_int_equal(r[0].first_ms, 1591367999305ull);
    /* history wins over conn_state whatever the order: h = SYN+ACK from the responder */
    assert_int_equal(
        line(&p,
             "{\"history\":\"ShR\",\"conn_state\":\"RSTO\",\"ts\":1,\"id.orig_h\":\"10.0.0.1\","
             "\"id.orig_p\":1,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":2,\"proto\":\"tcp\","
             "\"orig_pkts\":2,\"resp_pkts\":1}",
             r),
        2);
    assert_int_equal(r[0].tcp_flags, SYN | RST);
    assert_int_equal(r[1].tcp_flags, SYN | ACK);
    /* another path: skipped */
    bool sk = false;
    const char *o = "{\"_path\":\"dns\",\"ts\":1,\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":1,"
                    "\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":53,\"proto\":\"udp\"}";
    assert_int_equal(flowlog_parse_line(&p, o, strlen(o), r, &sk), 0);
    assert_true(sk);
    /* malformed */
    assert_int_equal(line(&p, "{\"ts\":1,\"id.orig_h\":\"10.0.0.1\"", r), -EINVAL);
    assert_int_equal(
        line(&p, "{\"ts\":1,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\"}", r), -EINVAL);
    assert_int_equal(line(&p,
                          "{\"ts\":\"yesterday\",\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0."
                          "2\",\"proto\":\"tcp\"}",
                          r),
                     -EINVAL);
    assert_int_equal(line(&p, "{ts:1}", r), -EINVAL);
    flowlog_parser_fini(&p);
}

static const char ctu_hdr[] = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,"
                              "TotPkts,TotBytes,SrcBytes,Label";

static void test_argus(void **state)
{
    (void)state;
    struct flowlog_parser p;
    flowlog_parser_init(&p, FLOWLOG_AUTO);
    struct flow_rec r[2];
    assert_int_equal(line(&p, ctu_hdr, r), 0);
    assert_int_equal(p.fmt, FLOWLOG_ARGUS);
    /* a CTU-13 style UDP conversation: packets split by bytes */
    assert_int_equal(line(&p,
                          "2011/08/10 09:46:53.047277,3550.182373,udp,212.50.71.179,39678,  <->,"
                          "147.32.84.229,13363,CON,0,0,12,875,413,flow=Background-UDP-Established",
                          r),
                     2);
    assert_int_equal(r[0].first_ms, 1312969613047ull);
    assert_int_equal(r[0].last_ms, 1312969613047ull + 3550182);
    assert_int_equal(r[0].bytes, 413);
    assert_int_equal(r[1].bytes, 462);
    assert_int_equal(r[0].packets + r[1].packets, 12);
    assert_true(r[0].packets >= 1 && r[1].packets >= 1);
    assert_int_equal(r[0].proto, 17);
    /* TCP flag letters per side */
    assert_int_equal(line(&p,
                          "2011/08/10 09:46:54.1,0.000179,tcp,147.32.84.165,1027,   ->,"
                          "192.0.2.80,445,S_RA,0,0,2,120,62,flow=From-Botnet-V42-TCP-Attempt",
                          r),
                     2);
    assert_int_equal(r[0].tcp_flags, SYN);
    assert_int_equal(r[1].tcp_flags, RST | ACK);
    assert_int_equal(r[1].sport, 445);
    assert_true(r[0].flags & FLOW_F_INIT_SRC);
    assert_true(r[1].flags & FLOW_F_INIT_DST);
    /* unanswered SYN: one record */
    assert_int_equal(
        line(&p, "2011/08/10 09:46:55,0,tcp,147.32.84.165,1028,?>,192.0.2.81,445,S_,0,,1,62,62,x",
             r),
        1);
    assert_int_equal(r[0].tcp_flags, SYN);
    assert_false(r[0].flags & FLOW_F_INIT_SRC); /* '?' in Dir: Argus was unsure */
    /* ICMP: type in Sport; an echo's Dport is its identifier, not a code */
    assert_int_equal(
        line(&p,
             "2011/08/10 "
             "09:46:56,0.003,icmp,147.32.84.165,0x0008,<->,192.0.2.1,0xf095,ECO,0,0,2,84,42,x",
             r),
        2);
    assert_int_equal(r[0].proto, 1);
    assert_int_equal(r[0].dport, 8 << 8);
    assert_int_equal(r[1].dport, 0);
    /* unreachable: type 3 code 3 */
    assert_int_equal(
        line(&p,
             "2011/08/10 09:46:57,0,icmp,147.32.84.165,0x0003,->,192.0.2.1,0x0003,URP,0,,1,70,70,x",
             r),
        1);
    assert_int_equal(r[0].dport, 3 << 8 | 3);
    /* ra -u epoch seconds */
    assert_int_equal(line(&p, "1312969613.5,1,udp,10.0.0.1,53,->,10.0.0.2,53,INT,0,,1,70,70,x", r),
                     1);
    assert_int_equal(r[0].first_ms, 1312969613500ull);
    /* not IP: skipped */
    bool sk = false;
    const char *arp = "2011/08/10 09:46:58,0,arp,147.32.84.165,,who,147.32.84.1,,INT,0,,1,60,60,x";
    assert_int_equal(flowlog_parse_line(&p, arp, strlen(arp), r, &sk), 0);
    assert_true(sk);
    /* a time without a date names the fix */
    assert_int_equal(line(&p, "09:46:58.1,0,udp,10.0.0.1,1,->,10.0.0.2,2,INT,0,,1,60,60,x", r),
                     -EINVAL);
    assert_non_null(strstr(p.err, "-u"));
    assert_int_equal(line(&p, "2011/08/10 09:46:58,0,udp,10.0.0.1,1,->,10.0.0.2", r), -EINVAL);
    assert_int_equal(
        line(&p, "2011/08/10 09:46:58,0,udp,10.0.0.1,99999,->,10.0.0.2,2,INT,0,,1,60,60,x", r),
        -EINVAL);
    /* explicit columns from ra -s ... spkts dpkts dbytes */
    struct flowlog_parser q;
    flowlog_parser_init(&q, FLOWLOG_ARGUS);
    assert_int_equal(
        line(&q,
             "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,"
             "SrcBytes,SrcPkts,DstPkts,DstBytes",
             r),
        0);
    assert_int_equal(
        line(&q, "1.0,0.029,tcp,10.0.0.1,59488,->,10.0.0.2,902,FSA_FSPA,9,653,338,5,4,315", r), 2);
    assert_int_equal(r[0].packets, 5);
    assert_int_equal(r[1].packets, 4);
    assert_int_equal(r[0].tcp_flags, FIN | SYN | ACK);
    assert_int_equal(r[1].tcp_flags, FIN | SYN | PSH | ACK);
    /* a header without addresses is not a binetflow */
    flowlog_parser_init(&q, FLOWLOG_ARGUS);
    assert_int_equal(line(&q, "StartTime,Dur,Proto", r), -EINVAL);
}

/* ra -c '\t' (Stratosphere's later binetflows): tabs, Dir padded, empty dTos, a ``man''
 * record skipped; sniffed from the header like the comma form. And a hand-edited Zeek log's
 * header line indented by a tab (Slips' test10) is still a header. */
static void test_separators(void **state)
{
    (void)state;
    struct flow_rec r[2];
    struct flowlog_parser t;
    flowlog_parser_init(&t, FLOWLOG_AUTO);
    assert_int_equal(line(&t,
                          "StartTime\tDur\tProto\tSrcAddr\tSport\tDir\tDstAddr\tDport\tState\t"
                          "sTos\tdTos\tTotPkts\tTotBytes\tSrcBytes\tSrcPkts\tLabel",
                          r),
                     0);
    assert_int_equal(t.fmt, FLOWLOG_ARGUS);
    bool sk = false;
    const char *man =
        "2018/05/10 10:52:47.283479\t0.045010\tman\t0\t0\t\t0\t0\tSTA\t\t\t0\t0\t0\t0\t";
    assert_int_equal(flowlog_parse_line(&t, man, strlen(man), r, &sk), 0);
    assert_true(sk);
    assert_int_equal(line(&t,
                          "1970/01/01 01:01:21.926904\t20.250914\ttcp\t10.0.2.15\t49163\t   ->\t"
                          "35.225.160.245\t80\tSRPA_FSPA\t0\t\t13\t2144\t926\t7\tflow=Malware-TCP",
                          r),
                     2);
    assert_addr(r[0].dst, "35.225.160.245");
    assert_int_equal(r[0].dport, 80);
    assert_int_equal(r[0].bytes, 926);
    assert_int_equal(r[0].packets, 7);
    assert_int_equal(r[1].bytes, 2144 - 926);
    assert_int_equal(r[1].packets, 6);
    assert_int_equal(r[0].tcp_flags, SYN | RST | PSH | ACK);
    /* a comma line under a tab header is one field short of it: an error, not a guess */
    assert_int_equal(
        line(&t, "1.0,0.029,tcp,10.0.0.1,59488,->,10.0.0.2,902,FSA_FSPA,0,0,9,653,338,5,x", r),
        -EINVAL);
    /* a header whose separator is none of , tab ; | is no binetflow */
    struct flowlog_parser u;
    flowlog_parser_init(&u, FLOWLOG_ARGUS);
    assert_int_equal(line(&u, "StartTime:Dur:Proto:SrcAddr:DstAddr", r), -EINVAL);
    struct flowlog_parser z;
    flowlog_parser_init(&z, FLOWLOG_ZEEK_TSV);
    sk = false;
    const char *ind = "\t#separator \\x09";
    assert_int_equal(flowlog_parse_line(&z, ind, strlen(ind), r, &sk), 0);
    assert_true(sk);
    assert_int_equal(z.sep, '\t');
    flowlog_parser_fini(&z);
}

static void test_limits(void **state)
{
    (void)state;
    struct flowlog_parser p;
    flowlog_parser_init(&p, FLOWLOG_AUTO);
    struct flow_rec r[2];
    char *big = malloc(FLOWLOG_LINE_MAX + 10);
    memset(big, 'a', FLOWLOG_LINE_MAX + 9);
    assert_int_equal(flowlog_parse_line(&p, big, FLOWLOG_LINE_MAX + 1, r, NULL), -EINVAL);
    free(big);
    assert_int_equal(line(&p, "hello world", r), -EINVAL); /* not any format */
    enum flowlog_fmt f;
    assert_int_equal(flowlog_fmt_parse("zeek-json", &f), 0);
    assert_int_equal(f, FLOWLOG_ZEEK_JSON);
    assert_int_equal(flowlog_fmt_parse("bro", &f), -EINVAL);
}

/* the reader: sniffing, gzip, end-time order, bad lines with their line number */
static void test_reader(void **state)
{
    (void)state;
    char path[] = "/tmp/tw-flowlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    gzprintf(g, "%s\n", ctu_hdr);
    /* a long conversation first (ends last), then short ones that end before it */
    gzprintf(g, "2011/08/10 10:00:00,600,udp,10.0.0.1,1000,<->,10.0.0.2,53,CON,0,0,2,200,100,x\n");
    gzprintf(g, "2011/08/10 10:00:01,1,udp,10.0.0.1,1001,<->,10.0.0.2,53,CON,0,0,2,200,100,x\n");
    gzprintf(g, "garbage line\n");
    gzprintf(g, "2011/08/10 10:00:02,1,udp,10.0.0.1,1002,<->,10.0.0.2,53,CON,0,0,2,200,100,x\n");
    gzprintf(g, "2011/08/10 10:00:03,1,udp,10.0.0.1,1003,<->,10.0.0.3,bad,CON,0,0,2,200,100,x\n");
    gzclose(g);
    assert_int_equal(flowlog_sniff(path), FLOWLOG_ARGUS);
    uint64_t first;
    assert_int_equal(flowlog_first_ms(path, FLOWLOG_AUTO, &first), 0);
    assert_int_equal(first, 1312970400000ull);
    struct flowlog *fl;
    char err[256];
    assert_int_equal(flowlog_open(path, FLOWLOG_AUTO, &fl, err, sizeof err), 0);
    struct flow_rec rec;
    uint64_t last = 0;
    int n = 0;
    while (flowlog_next(fl, &rec, err, sizeof err) == 1) {
        assert_true(rec.last_ms >= last);
        last = rec.last_ms;
        n++;
    }
    assert_int_equal(n, 6);
    assert_int_equal(last, 1312970400000ull + 600000);
    struct flowlog_stats st;
    flowlog_stats(fl, &st);
    assert_int_equal(st.lines, 6);
    assert_int_equal(st.conns, 3);
    assert_int_equal(st.records, 6);
    assert_int_equal(st.bad_lines, 2);
    assert_int_equal(st.first_bad_line, 4);
    assert_true(st.reordered >= 2);
    assert_true(st.first_error[0] != 0);
    flowlog_close(fl);
    unlink(path);
    /* Zeek JSON: a conn record is one; a dns.log record (id.orig_h and proto too) is not, so a
     * log directory's dns.log gives no connections (it gave one per query) */
    FILE *jf = fopen(path, "w");
    assert_non_null(jf);
    fputs("{\"ts\":1591367999.3,\"uid\":\"C1\",\"id.orig_h\":\"192.168.4.76\",\"id.orig_p\":36844,"
          "\"id.resp_h\":\"192.168.4.1\",\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":8555,"
          "\"query\":\"testmyids.com\",\"rcode_name\":\"NOERROR\"}\n",
          jf);
    fclose(jf);
    assert_int_equal(flowlog_sniff(path), FLOWLOG_AUTO);
    assert_int_equal(flowlog_open(path, FLOWLOG_AUTO, &fl, err, sizeof err), -EINVAL);
    jf = fopen(path, "w");
    assert_non_null(jf);
    fputs(
        "{\"ts\":1591367999.3,\"uid\":\"C1\",\"id.orig_h\":\"192.168.4.76\",\"id.orig_p\":36844,"
        "\"id.resp_h\":\"192.168.4.1\",\"id.resp_p\":53,\"proto\":\"udp\",\"conn_state\":\"SF\"}\n",
        jf);
    fclose(jf);
    assert_int_equal(flowlog_sniff(path), FLOWLOG_ZEEK_JSON);
    unlink(path);
    /* not a log */
    assert_int_equal(flowlog_open("/nonexistent/x", FLOWLOG_AUTO, &fl, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x"));
}

/* A gzip log cut at any byte (in its data or its 8-byte trailer) ends in a read error naming the
 * file, never a clean end, and the records read before the cut are given first. */
static void test_reader_cut(void **state)
{
    (void)state;
    char path[] = "/tmp/tw-flowlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    gzprintf(g, "%s\n", ctu_hdr);
    for (int i = 0; i < 3; i++)
        gzprintf(g,
                 "2011/08/10 10:00:0%d,1,udp,10.0.0.1,100%d,<->,10.0.0.2,53,CON,0,0,2,200,100,x\n",
                 i, i);
    gzclose(g);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t whole[4096];
    size_t size = fread(whole, 1, sizeof whole, f);
    fclose(f);
    assert_true(size > 20 && size < sizeof whole);
    for (size_t cut = 1; cut + 2 <= size; cut++) { /* the magic kept: a gzip file still */
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(whole, 1, size - cut, f), size - cut);
        fclose(f);
        struct flowlog *fl;
        char err[256] = "";
        if (flowlog_open(path, FLOWLOG_ARGUS, &fl, err, sizeof err) < 0)
            continue; /* nothing to read */
        struct flow_rec rec;
        int n = 0, r;
        while ((r = flowlog_next(fl, &rec, err, sizeof err)) == 1)
            n++;
        if (r != -EIO)
            fail_msg("cut %zu bytes before the end: %d records and a clean end (%d)", cut, n, r);
        assert_non_null(strstr(err, path));
        if (cut <= 8) /* only the trailer cut: every record read before the error */
            assert_int_equal(n, 6);
        flowlog_close(fl);
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeek_tsv),   cmocka_unit_test(test_zeek_json),
        cmocka_unit_test(test_argus),      cmocka_unit_test(test_separators),
        cmocka_unit_test(test_limits),     cmocka_unit_test(test_reader),
        cmocka_unit_test(test_reader_cut), cmocka_unit_test(test_zeek_tsv_one_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
