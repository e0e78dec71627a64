/* test_sflow_realdata.c: every sFlow capture in $TW_SHARED/testdata/sflow (seven projects'
 * test data, several vendors' agents) through the decoder, checked against the oracle in
 * expected.json (tshark 4.0.17 and a walk of the length fields; see its README). Per file: the
 * sFlow datagrams, flow and counter samples the walk finds; per flow sample, in order: the
 * record it gives (agent, sampling rate, input ifIndex, the 5-tuple of the sampled packet (the
 * innermost IP header tshark lists: VXLAN's tenant packet), the IP length times the rate), or
 * none when tshark finds no IP in it. Damaged files: counted, never a record or a crash.
 * Counter samples: the generic interface values tshark shows, through decode_interfaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "addr.h"
#include "capture.h"
#include "decode.h"
#include "pkt.h"

#define MAXR 256
#include "decode_test_util.h"

static char dir[1024];
static bool verbose;

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}
static int64_t num(json_object *o, const char *k)
{
    json_object *v = get(o, k);
    return v ? json_object_get_int64(v) : -1;
}

/* The datagrams of a file, in order, to one ctx. */
struct file_run {
    struct decode_ctx *ctx;
    struct sink s;
    size_t datagrams;
};

static void feed(struct file_run *fr, const uint8_t *d, size_t n, uint64_t ms)
{
    static const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 100};
    decode_datagram(fr->ctx, src, 6343, ms, d, n, collect, &fr->s);
    fr->datagrams++;
}

static void run_pcap(struct file_run *fr, const char *path)
{
    struct capture *c;
    char err[256];
    assert_int_equal(capture_open_file(path, &c, err, sizeof err), 0);
    struct capture_pkt p;
    while (capture_next(c, &p) == CAPTURE_PACKET) {
        struct pkt_info pi;
        int rc = pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi);
        assert_true(rc == PKT_OK);
        assert_int_equal(pi.proto, 17);
        feed(fr, pi.l4_payload, pi.l4_payload_caplen, p.ts_ns / 1000000);
    }
    capture_close(c);
}

static void run_raw(struct file_run *fr, const char *path, json_object *dgs)
{
    static uint8_t buf[1 << 16];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i < json_object_array_length(dgs); i++) {
        json_object *d = json_object_array_get_idx(dgs, i);
        size_t off = (size_t)num(d, "file_offset"), len = (size_t)num(d, "datagram_length");
        assert_true(off + len <= n);
        feed(fr, buf + off, len, BASE_MS + i * 1000);
    }
}

/* The innermost IP header tshark decoded in a flow sample, and the sample's IP length. */
static json_object *sample_ip(json_object *sample, int64_t *ip_len)
{
    json_object *recs = get(sample, "records"), *best = NULL;
    for (size_t i = 0; recs && i < json_object_array_length(recs); i++) {
        json_object *r = json_object_array_get_idx(recs, i), *dec = get(r, "decoded");
        if (!dec)
            continue;
        json_object *ips = get(dec, "ip");
        if (ips && json_object_array_length(ips)) { /* raw header: it wins */
            json_object *ip = json_object_array_get_idx(ips, json_object_array_length(ips) - 1);
            *ip_len = get(ip, "ip_len") ? num(ip, "ip_len") : 40 + num(ip, "payload_len");
            return ip;
        }
        if (get(dec, "ip_length")) { /* sampled IPv4/IPv6 */
            *ip_len = num(dec, "ip_length");
            best = dec;
        }
    }
    return best;
}

static void check_record(const struct decode_ctx *ctx, const struct flow_rec *r, json_object *dg,
                         json_object *smp, json_object *ip, int64_t ip_len, const char *name)
{
    uint8_t a[16], s[16], d[16], got[16];
    assert_int_equal(addr_parse(json_object_get_string(get(dg, "agent")), a), 0);
    assert_true(decode_exporter_addr(ctx, r->exporter, got));
    assert_memory_equal(got, a, 16); /* the agent, not the UDP source */
    const char *sk = get(ip, "src") ? "src" : "src_ip", *dk = get(ip, "dst") ? "dst" : "dst_ip";
    assert_int_equal(addr_parse(json_object_get_string(get(ip, sk)), s), 0);
    assert_int_equal(addr_parse(json_object_get_string(get(ip, dk)), d), 0);
    if (memcmp(r->src, s, 16) || memcmp(r->dst, d, 16))
        fail_msg("%s: sample %lld: addresses differ", name, (long long)num(smp, "sequence_number"));
    int64_t proto = get(ip, "proto") ? num(ip, "proto") : num(ip, "ip_proto");
    assert_int_equal(r->proto, proto);
    if (get(ip, "icmp_type")) {
        assert_int_equal(r->dport, num(ip, "icmp_type") << 8 | num(ip, "icmp_code"));
    } else if (get(ip, "src_port")) {
        assert_int_equal(r->sport, num(ip, "src_port"));
        assert_int_equal(r->dport, num(ip, "dst_port"));
    }
    int64_t rate = num(smp, "sampling_rate");
    assert_int_equal(r->sampling, rate);
    assert_int_equal(r->packets, rate);
    assert_int_equal(r->bytes, ip_len * rate);
    assert_int_equal(r->in_if, num(smp, "input_ifindex"));
    /* extended gateway: the source AS, the destination AS (the path's last, else the router's) */
    json_object *recs = get(smp, "records"), *gw = NULL;
    for (size_t i = 0; recs && i < json_object_array_length(recs); i++) {
        json_object *g = get(json_object_array_get_idx(recs, i), "gateway");
        if (g)
            gw = g;
    }
    int64_t src_as = gw ? num(gw, "src_as") : 0, dst_as = gw ? num(gw, "as") : 0;
    json_object *path = gw ? get(gw, "as_path") : NULL;
    for (size_t i = 0; path && i < json_object_array_length(path); i++) {
        json_object *asns = get(json_object_array_get_idx(path, i), "asns");
        size_t n = json_object_array_length(asns);
        if (n)
            dst_as = json_object_get_int64(json_object_array_get_idx(asns, n - 1));
    }
    assert_int_equal(r->src_as, src_as);
    assert_int_equal(r->dst_as, dst_as);
}

/* The flow-sample records of smp by format into n[]: gateway, switch, router, skipped, and raw
 * headers in which tshark finds no IP (n[4]). */
static void count_formats(json_object *smp, int64_t n[5])
{
    json_object *recs = get(smp, "records");
    for (size_t i = 0; recs && i < json_object_array_length(recs); i++) {
        json_object *r = json_object_array_get_idx(recs, i);
        int64_t fmt = num(r, "enterprise") == 0 ? num(r, "format") : -1;
        if (fmt == 1003 || fmt == 1001 || fmt == 1002)
            n[fmt == 1003 ? 0 : fmt - 1000]++;
        else if (fmt != 1 && fmt != 3 && fmt != 4)
            n[3]++;
        else if (fmt == 1 && !get(get(r, "decoded"), "ip"))
            n[4]++;
    }
}

/* One file: its datagrams decoded, then every expectation of expected.json. */
static void check_file(const char *name, json_object *file)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct file_run fr = {.ctx = new_ctx(NULL)};
    json_object *dgs = get(file, "datagrams"), *sum = get(file, "summary");
    if (strcmp(json_object_get_string(get(file, "container")), "pcap") == 0)
        run_pcap(&fr, path);
    else
        run_raw(&fr, path, dgs);
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_DATAGRAMS), num(sum, "sflow_datagrams"));
    if (verbose)
        fprintf(stderr, "%s\n", name);
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_FLOW_SAMPLES), num(sum, "flow_samples_total"));
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_COUNTER_SAMPLES),
                     num(sum, "counter_samples_total"));
    size_t next = 0, ncounter = 0;
    int64_t formats[5] = {0};
    static struct decode_iface_stats ifs[256];
    size_t nifs = decode_interfaces(fr.ctx, 0, ifs, 256);
    for (size_t i = 0; i < json_object_array_length(dgs); i++) {
        json_object *dg = json_object_array_get_idx(dgs, i), *smps = get(dg, "samples");
        if (!get(dg, "agent") || !json_object_get_string(get(dg, "agent")))
            continue;
        for (size_t k = 0; smps && k < json_object_array_length(smps); k++) {
            json_object *smp = json_object_array_get_idx(smps, k);
            const char *type = json_object_get_string(get(smp, "type"));
            if (strstr(type, "counters_sample")) {
                json_object *recs = get(smp, "records");
                for (size_t q = 0; recs && q < json_object_array_length(recs); q++) {
                    json_object *f = get(json_object_array_get_idx(recs, q), "fields");
                    if (!f || !get(f, "sflow_245.ifinoct"))
                        continue;
                    ncounter++;
                    uint8_t a[16];
                    assert_int_equal(addr_parse(json_object_get_string(get(dg, "agent")), a), 0);
                    bool found = false; /* the table keeps each interface's last values */
                    for (size_t z = 0; z < nifs; z++)
                        found |= memcmp(ifs[z].agent, a, 16) == 0 &&
                                 ifs[z].ifindex == (uint32_t)num(f, "sflow_245.ifindex");
                    if (!found)
                        fail_msg("%s: interface %lld of agent %s missing", name,
                                 (long long)num(f, "sflow_245.ifindex"),
                                 json_object_get_string(get(dg, "agent")));
                }
                continue;
            }
            if (strcmp(type, "flow_sample") && strcmp(type, "expanded_flow_sample"))
                continue;
            count_formats(smp, formats);
            int64_t ip_len = 0;
            json_object *ip = sample_ip(smp, &ip_len);
            if (!ip)
                continue; /* no IP in it: no record (counted in sflow_samples_no_flow) */
            if (next >= fr.s.n)
                fail_msg("%s: only %zu records", name, fr.s.n);
            check_record(fr.ctx, &fr.s.r[next++], dg, smp, ip, ip_len, name);
        }
    }
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_RECORDS), next); /* none beyond the oracle's */
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_EXT_GATEWAY), formats[0]);
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_EXT_SWITCH), formats[1]);
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_EXT_ROUTER), formats[2]);
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_RECORDS_SKIPPED), formats[3]);
    assert_int_equal(decode_counter(fr.ctx, DC_SFLOW_HEADER_UNPARSED), formats[4]);
    if (verbose)
        fprintf(stderr, "  records: gateway %lld switch %lld router %lld skipped %lld\n",
                (long long)formats[0], (long long)formats[1], (long long)formats[2],
                (long long)formats[3]);
    assert_true(ncounter == 0 || nifs > 0);
    uint64_t errors = 0; /* only the crash file is damaged beyond the declared samples */
    for (int c = DC_FIRST_ERROR; c < DC_COUNT; c++)
        errors += decode_counter(fr.ctx, (enum decode_counter)c);
    assert_int_equal(errors, strstr(name, "segv") ? 1 : 0);
    decode_ctx_free(fr.ctx);
}

static json_object *root;

static void test_every_file(void **state)
{
    (void)state;
    json_object *files = get(root, "files");
    size_t n = 0;
    json_object_object_foreach(files, name, file)
    {
        check_file(name, file);
        n++;
    }
    assert_true(n >= 30);
}

static struct decode_ctx *one(const char *name, struct sink *s)
{
    struct file_run fr = {.ctx = new_ctx(NULL)};
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_object *file = get(get(root, "files"), name);
    if (strstr(name, ".pcap"))
        run_pcap(&fr, path);
    else
        run_raw(&fr, path, get(file, "datagrams"));
    *s = fr.s;
    return fr.ctx;
}

/* Values the README and the other projects' own tests assert. */
static void test_known_values(void **state)
{
    (void)state;
    static struct sink s;
    /* Cistern's counter test: ifIndex 9, 100 Mb/s, octets in and out */
    struct decode_ctx *ctx = one("cistern-sflow/counter_sample.dump", &s);
    struct decode_iface_stats ifs[4];
    assert_int_equal(decode_interfaces(ctx, 0, ifs, 4), 1);
    assert_int_equal(ifs[0].ifindex, 9);
    assert_int_equal(ifs[0].speed, 100000000);
    assert_int_equal(ifs[0].in_octets, 79282473);
    assert_int_equal(ifs[0].out_octets, 764247430);
    assert_int_equal(ifs[0].in_pkts, 329128 + 1493);
    decode_ctx_free(ctx);
    /* akvorado data-1140: extended gateway AS numbers, 1024 sampling */
    ctx = one("akvorado/data-1140.pcap", &s);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.r[1].src_as, 13335);
    assert_int_equal(s.r[1].dst_as, 39421); /* empty path: the router's own AS */
    bool path_end = false;
    for (size_t i = 0; i < s.n; i++)
        path_end |= s.r[i].dst_as == 26615; /* AS path [203698 6762 26615] */
    assert_true(path_end);
    decode_ctx_free(ctx);
    /* the discard event: 1799 packets discarded, no flow record */
    ctx = one("cistern-sflow/event_discarded_packet.dump", &s);
    assert_int_equal(decode_counter(ctx, DC_SFLOW_DISCARD_SAMPLES), 1);
    assert_int_equal(decode_counter(ctx, DC_SFLOW_DISCARDED_PACKETS), 1799);
    assert_int_equal(s.n, 0);
    decode_ctx_free(ctx);
    /* VXLAN: the inner packet made the record */
    ctx = one("akvorado/data-encap-vxlan.pcap", &s);
    assert_int_equal(decode_counter(ctx, DC_SFLOW_INNER_HEADERS), 1);
    decode_ctx_free(ctx);
    /* the crash file: the UDP length leaves 8 bytes; counted, nothing decoded */
    ctx = one("tcpdump/sflow_print-segv.pcap", &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(decode_counter(ctx, DC_SHORT_HEADER), 1);
    decode_ctx_free(ctx);
    /* NetFlow v5 sent to 6343 in the 30-PDU file is NetFlow, not sFlow; an IPv6 agent */
    ctx = one("tcpdump/sflow_multiple_counter_30_pdus.pcap", &s);
    assert_int_equal(decode_counter(ctx, DC_V5_DATAGRAMS), 5);
    decode_ctx_free(ctx);
    ctx = one("tcpdump/sflow-print-v6.pcap", &s);
    uint8_t a[16], want[16];
    assert_true(decode_exporter_addr(ctx, s.r[0].exporter, a));
    assert_int_equal(addr_parse("30::1:1:1", want), 0);
    assert_memory_equal(a, want, 16);
    assert_int_equal(decode_counter(ctx, DC_SEQ_LOST), 0); /* sequence 109..133, none lost */
    decode_ctx_free(ctx);
}

/* IPFIX dataLinkFrameSection (IE 315, akvorado's datalink fixtures): the record names no
 * addresses; the sampled frame (802.1Q VLAN 231, UDP) gives them, as tshark decodes it. */
static void test_ipfix_packet_section(void **state)
{
    (void)state;
    struct file_run fr = {.ctx = new_ctx(NULL)};
    char path[2048];
    snprintf(path, sizeof path, "%s/../netflow/akvorado/datalink-template.pcap", dir);
    run_pcap(&fr, path);
    snprintf(path, sizeof path, "%s/../netflow/akvorado/datalink-data.pcap", dir);
    run_pcap(&fr, path);
    assert_int_equal(fr.s.n, 1);
    assert_int_equal(decode_counter(fr.ctx, DC_PACKET_SECTIONS), 1);
    uint8_t a[16], b[16];
    assert_int_equal(addr_parse("51.51.51.51", a), 0);
    assert_int_equal(addr_parse("52.52.52.52", b), 0);
    const struct flow_rec *r = &fr.s.r[0];
    assert_memory_equal(r->src, a, 16);
    assert_memory_equal(r->dst, b, 16);
    assert_int_equal(r->proto, 17);
    assert_int_equal(r->sport, 55501);
    assert_int_equal(r->dport, 11777);
    assert_int_equal(r->packets, 1);
    assert_int_equal(r->bytes, 96);        /* the IP length of the sampled packet */
    assert_true(r->flags & FLOW_F_PACKET); /* one packet: its flags are no connection's */
    decode_ctx_free(fr.ctx);
}

/* akvorado's ethernet-over-mpls-with-control-word: ten dataLinkFrameSection records, two of them
 * Ethernet over MPLS (labels 300012, 17) with the RFC 4385 control word. Expected: tshark on the
 * sections written as an Ethernet capture, the pseudowire declared (-d mpls.label==17,pwethcw):
 * source, destination (198.51.100.x), IP length, protocol, ports, in section order. */
static void test_ipfix_section_eompls(void **state)
{
    (void)state;
    static const struct {
        int src, dst, len, proto, sport, dport;
    } want[10] = {
        {19, 20, 1440, 6, 80, 43908},  {7, 8, 1500, 6, 443, 59706},    {3, 4, 1500, 6, 443, 28911},
        {1, 2, 1492, 6, 443, 55427},   {5, 6, 965, 17, 443, 10000},    {9, 10, 1440, 6, 443, 1470},
        {11, 12, 1500, 6, 443, 59522}, {13, 14, 1500, 6, 8887, 57478}, {15, 16, 1500, 6, 443, 6921},
        {17, 18, 1500, 6, 443, 64028},
    };
    struct file_run fr = {.ctx = new_ctx(NULL)};
    char path[2048];
    snprintf(path, sizeof path,
             "%s/../netflow/akvorado/ethernet-over-mpls-with-control-word-template.pcap", dir);
    run_pcap(&fr, path);
    snprintf(path, sizeof path,
             "%s/../netflow/akvorado/ethernet-over-mpls-with-control-word-data.pcap", dir);
    run_pcap(&fr, path);
    assert_int_equal(fr.s.n, 10);
    assert_int_equal(decode_counter(fr.ctx, DC_PACKET_SECTIONS), 10);
    uint64_t bytes = 0;
    for (size_t i = 0; i < 10; i++) {
        const struct flow_rec *r = &fr.s.r[i];
        uint8_t a[16] = {[10] = 0xff, [11] = 0xff, 198, 51, 100, 0}, b[16];
        memcpy(b, a, 16);
        a[15] = (uint8_t)want[i].src;
        b[15] = (uint8_t)want[i].dst;
        assert_memory_equal(r->src, a, 16);
        assert_memory_equal(r->dst, b, 16);
        assert_int_equal(r->proto, want[i].proto);
        assert_int_equal(r->sport, want[i].sport);
        assert_int_equal(r->dport, want[i].dport);
        assert_int_equal(r->packets, 1);
        assert_int_equal(r->bytes, want[i].len);
        assert_true(r->flags & FLOW_F_PACKET);
        bytes += r->bytes;
    }
    assert_int_equal(bytes, 14337); /* realdata.py's KNOWN figure */
    decode_ctx_free(fr.ctx);
}

int main(void)
{
    const char *sh = getenv("TW_SHARED");
    verbose = getenv("TW_DECODE_VERBOSE") != NULL;
    snprintf(dir, sizeof dir, "%s/testdata/sflow", sh ? sh : "");
    char path[1100];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    if (!sh || access(path, F_OK) != 0) {
        fprintf(stderr,
                "test_sflow_realdata: skipped: %s not found (set TW_SHARED to the shared "
                "test data folder)\n",
                path);
        return 77;
    }
    root = json_object_from_file(path);
    if (!root) { /* present but unreadable: a failure, not a skip */
        fprintf(stderr, "test_sflow_realdata: %s: %s\n", path, json_util_get_last_err());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_ipfix_packet_section),
        cmocka_unit_test(test_ipfix_section_eompls),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_object_put(root);
    return rc;
}
