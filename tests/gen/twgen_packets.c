/* twgen_packets.c: `twgen packets`, a capture of raw traffic (not exports) for the flow meter's
 * tests and benchmark.
 *
 *   twgen packets [-n PACKETS] [-f FLOWS] [-l LINKTYPE] [-s SEED] [-S SNAPLEN] [-m MTU] [-6 PCT]
 *                 [-u USEC] [-z] [-g] -o FILE
 *
 * FLOWS connections are open at once (default 10000); each packet goes to a random one. A TCP
 * connection sends SYN, data packets and ends with FIN after its planned length (1..40 packets),
 * then a new connection takes its slot (new source port); UDP and ICMP "connections" just stop
 * and are replaced. -6: percent of IPv6 connections (default 20). -l: LINKTYPE number (1
 * Ethernet (default; every tenth connection carries an 802.1Q tag), 101 raw, 113 SLL, 276 SLL2,
 * 0 null, 108 loop). -m: IP-fragment UDP datagrams longer than MTU (then some UDP datagrams are
 * made large; the summary line says how many datagrams were fragmented into how many
 * fragments). -u: microseconds between packets (default 10). -g: pcapng. -z: gzip.
 * Deterministic for a seed. Prints "twgen packets: packets=... flows=..." on stderr. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_pcap.h"
#include "twgen_packets.h"
#include "twgen_opt.h"

struct conn {
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t proto;
    uint16_t planned, sent;
    uint16_t vlan;
    uint16_t ip_id;
};

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void conn_new(struct conn *c, uint64_t *rng, unsigned v6pct, uint32_t serial)
{
    uint64_t r = rng_next(rng);
    memset(c, 0, sizeof *c);
    bool v6 = (r % 100) < v6pct;
    uint32_t host = (uint32_t)(rng_next(rng) % 4096);
    uint32_t peer = (uint32_t)(rng_next(rng) % 65536);
    if (v6) {
        gen_addr(c->src, "2001:db8:10::");
        gen_addr(c->dst, "2001:db8:99::");
        c->src[14] = (uint8_t)(host >> 8);
        c->src[15] = (uint8_t)host;
        c->dst[14] = (uint8_t)(peer >> 8);
        c->dst[15] = (uint8_t)peer;
    } else {
        gen_addr4(c->src, 10, 1, (uint8_t)(host >> 8), (uint8_t)host);
        gen_addr4(c->dst, 198, 51, (uint8_t)(peer >> 8), (uint8_t)peer);
    }
    unsigned kind = (unsigned)((r >> 8) % 100);
    c->proto = kind < 70 ? 6 : kind < 95 ? 17 : (v6 ? 58 : 1);
    static const uint16_t ports[] = {443, 80, 25, 53, 123, 22, 8080, 993};
    c->dport = ports[(r >> 16) % 8];
    c->sport = (uint16_t)(1024 + (serial * 7919u + (uint32_t)(r >> 32)) % 64000);
    c->planned = (uint16_t)(1 + (r >> 40) % 40);
    c->vlan = (r >> 48) % 10 == 0 ? (uint16_t)(100 + (r >> 52) % 50) : 0;
    c->ip_id = (uint16_t)(r >> 20);
    if (c->proto == 17 && c->dport == 53)
        c->planned = 2;
}

static void usage(FILE *o)
{
    fprintf(o, "usage: twgen packets [-n PACKETS] [-f FLOWS] [-l LINKTYPE] [-s SEED] [-S SNAPLEN] "
               "[-m MTU] [-6 PCT] [-u USEC] [-z] [-g] -o FILE\n");
}

struct frag_ctx {
    struct gen_pcap *w;
    struct gen_l2 *l2;
    uint64_t ts;
    uint64_t written;
    uint8_t *frame;
};

static int write_frag(void *arg, const uint8_t *ip, size_t len)
{
    struct frag_ctx *fc = arg;
    int n = gen_frame(fc->l2, ip, len, fc->frame, 70000);
    if (n < 0 || gen_pcap_write(fc->w, fc->ts, fc->frame, (uint32_t)n) < 0)
        return -1;
    fc->written++;
    fc->ts += 1000;
    return 0;
}

int twgen_packets_main(int argc, char **argv)
{
    uint64_t npk = 100000, seed = 1, gap_us = 10;
    uint32_t nflows = 10000, snaplen = 0, mtu = 0;
    unsigned v6pct = 20;
    int lt = 1, c;
    bool gz = false, ng = false;
    const char *out = NULL;
    int status;
    optind = 1;
    while ((c = getopt(argc, argv, "n:f:l:s:S:m:6:u:zgo:h")) != -1) {
        switch (c) {
        case 'n':
            npk = strtoull(optarg, NULL, 10);
            break;
        case 'f':
            nflows = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'l':
            lt = (int)strtol(optarg, NULL, 10);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'S':
            snaplen = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'm':
            mtu = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case '6':
            v6pct = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'u':
            gap_us = strtoull(optarg, NULL, 10);
            break;
        case 'z':
            gz = true;
            break;
        case 'g':
            ng = true;
            break;
        default:
            if (twgen_opt_exit(c, &out, usage, &status))
                return status;
        }
    }
    if (!out || nflows == 0 || nflows > 10000000 || npk == 0 || v6pct > 100) {
        usage(stderr);
        return 2;
    }
    struct gen_pcap_opts po = {.linktype = lt, .gzip = gz, .pcapng = ng, .snaplen = snaplen};
    struct gen_pcap *w;
    if (gen_pcap_open(out, &po, &w) < 0) {
        fprintf(stderr, "twgen: cannot write %s\n", out);
        return 1;
    }
    struct conn *cs = calloc(nflows, sizeof *cs);
    uint8_t *ip = malloc(70000), *frame = malloc(70000), *payload = calloc(1, 66000);
    if (!cs || !ip || !frame || !payload) {
        fprintf(stderr, "twgen: out of memory\n");
        gen_pcap_close(w);
        free(cs);
        free(ip);
        free(frame);
        free(payload);
        return 1;
    }
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + 1, flows = 0, written = 0, fdg = 0, nfr = 0;
    uint32_t serial = 0;
    for (uint32_t i = 0; i < nflows; i++) {
        conn_new(&cs[i], &rng, v6pct, serial++);
        flows++;
    }
    uint64_t ts = 1700000000ULL * 1000000000ULL;
    int rc = 0;
    while (written < npk) {
        uint64_t r = rng_next(&rng);
        struct conn *k = &cs[r % nflows];
        struct gen_ip g;
        memset(&g, 0, sizeof g);
        memcpy(g.src, k->src, 16);
        memcpy(g.dst, k->dst, 16);
        g.proto = k->proto;
        g.sport = k->sport;
        g.dport = k->dport;
        g.ip_id = k->ip_id++;
        g.payload = payload;
        g.payload_len = (uint32_t)((r >> 32) % 1200);
        bool last = k->sent + 1 >= k->planned;
        if (k->proto == 6) {
            g.tcp_flags = k->sent == 0 ? 0x02 : last ? 0x11 : 0x18;
            if (k->sent == 0)
                g.payload_len = 0;
        } else if (k->proto == 1 || k->proto == 58) {
            g.icmp_type = k->proto == 1 ? 8 : 128;
            g.payload_len = 56;
        } else if (mtu && (r >> 20) % 8 == 0) {
            g.payload_len = mtu + (uint32_t)((r >> 40) % 2000); /* fragmented below */
        }
        struct gen_l2 l2 = {.linktype = lt};
        if (lt == 1 && k->vlan) {
            l2.vlans[0] = k->vlan;
            l2.n_vlans = 1;
        }
        int n = gen_ip_packet(&g, ip, 70000);
        if (n < 0) {
            rc = 1;
            break;
        }
        if (mtu && (uint32_t)n > mtu) {
            struct frag_ctx fc = {w, &l2, ts, 0, frame};
            if (gen_ip_fragment(ip, (size_t)n, mtu, g.ip_id, write_frag, &fc) < 0) {
                rc = 1;
                break;
            }
            written += fc.written;
            nfr += fc.written;
            fdg++;
            ts = fc.ts;
        } else {
            int f = gen_frame(&l2, ip, (size_t)n, frame, 70000);
            if (f < 0 || gen_pcap_write(w, ts, frame, (uint32_t)f) < 0) {
                rc = 1;
                break;
            }
            written++;
        }
        ts += gap_us * 1000;
        if (++k->sent >= k->planned) {
            conn_new(k, &rng, v6pct, serial++);
            flows++;
        }
    }
    if (gen_pcap_close(w) < 0)
        rc = 1;
    free(cs);
    free(ip);
    free(frame);
    free(payload);
    if (rc) {
        fprintf(stderr, "twgen: writing %s failed\n", out);
        return 1;
    }
    fprintf(stderr,
            "twgen packets: packets=%llu flows=%llu fragmented=%llu fragments=%llu file=%s\n",
            (unsigned long long)written, (unsigned long long)flows, (unsigned long long)fdg,
            (unsigned long long)nfr, out);
    return 0;
}
