/* gen_pcap.h: build packets and write captures (pcap / pcapng, optionally gzip) for tests,
 * fuzz seeds and benchmarks. Single-threaded; a writer buffers in memory (fast enough for
 * millions of packets). All addresses are 16-byte IPv4-mapped like core/addr.h: a mapped
 * address makes an IPv4 packet, anything else IPv6.
 */
#ifndef TW_GEN_PCAP_H
#define TW_GEN_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link type values as written in files (LINKTYPE_*). */
enum gen_linktype {
    GEN_LT_NULL = 0,
    GEN_LT_EN10MB = 1,
    GEN_LT_RAW = 101,
    GEN_LT_LOOP = 108,
    GEN_LT_SLL = 113,
    GEN_LT_IPV4 = 228,
    GEN_LT_IPV6 = 229,
    GEN_LT_SLL2 = 276,
};

struct gen_pcap_opts {
    int linktype;     /* LINKTYPE_* (0 is NULL; set it explicitly) */
    bool pcapng;      /* pcapng (SHB/IDB/EPB) instead of classic pcap */
    bool nano;        /* nanosecond timestamps (classic magic a1b23c4d / pcapng if_tsresol 9) */
    bool big_endian;  /* write headers big-endian (the other byte order on x86) */
    bool gzip;        /* gzip the output */
    uint32_t snaplen; /* header snaplen and cut applied by gen_pcap_write (0: 262144) */
    uint32_t mtu;     /* gen_pcap_write_udp: fragment IP packets longer than this (0: never) */
};

struct gen_pcap;

/* Open a file writer. Returns 0 or -1 (errno). *out: finish with gen_pcap_close. */
int gen_pcap_open(const char *path, const struct gen_pcap_opts *o, struct gen_pcap **out);
/* Open a writer into memory; finish with gen_pcap_close_mem. */
int gen_pcap_open_mem(const struct gen_pcap_opts *o, struct gen_pcap **out);

/* Write one frame; caplen = min(len, snaplen), wirelen = len. Returns 0 or -1. */
int gen_pcap_write(struct gen_pcap *w, uint64_t ts_ns, const uint8_t *frame, uint32_t len);
/* Write a record with explicit lengths (frame holds caplen bytes; wirelen may be larger). */
int gen_pcap_write_ex(struct gen_pcap *w, uint64_t ts_ns, const uint8_t *frame, uint32_t caplen,
                      uint32_t wirelen);
/* Wrap an IP packet in the writer's link type (defaults: no VLAN) and write it. */
int gen_pcap_write_ip(struct gen_pcap *w, uint64_t ts_ns, const uint8_t *ip, uint32_t len);
/* A UDP datagram from src:sport to dst:dport carrying payload, at ts_ns; IP-fragmented when
 * longer than opts.mtu. Returns the number of records written or -1. */
int gen_pcap_write_udp(struct gen_pcap *w, uint64_t ts_ns, const uint8_t src[16], uint16_t sport,
                       const uint8_t dst[16], uint16_t dport, const uint8_t *payload, size_t len);
/* Flush and close a file writer. Returns 0 or -1 (write error). Frees w. */
int gen_pcap_close(struct gen_pcap *w);
/* Finish a memory writer: *data (caller frees) and *len. Frees w. Returns 0 or -1. */
int gen_pcap_close_mem(struct gen_pcap *w, uint8_t **data, size_t *len);

/* ---- packet builders ---- */

/* An IP packet to build. Zeroed fields take defaults (ttl 64). */
struct gen_ip {
    uint8_t src[16], dst[16]; /* both IPv4-mapped -> IPv4, else IPv6 */
    uint8_t proto;            /* 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, other: raw payload */
    uint8_t ttl, tos;
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint8_t icmp_type, icmp_code;
    uint16_t ip_id;
    uint8_t v4_opt_words;  /* IPv4: 4-byte option words (NOPs) to add, max 10 */
    const uint8_t *v6_ext; /* IPv6: extension header types in order: 0, 43, 44, 51, 60 */
    uint8_t n_v6_ext;      /* (44 makes an atomic fragment header) max 8 */
    const uint8_t *payload;
    uint32_t payload_len;
};

/* Build the packet into buf. Returns its length or -1 when cap is too small / bad input. */
int gen_ip_packet(const struct gen_ip *g, uint8_t *buf, size_t cap);

/* A link layer to put in front of an IP packet. */
struct gen_l2 {
    int linktype;      /* enum gen_linktype */
    uint16_t vlans[8]; /* Ethernet tags, outermost first */
    uint8_t n_vlans;
    bool qinq;         /* outer tags (all but the last) use 0x88a8 */
    bool null_swap;    /* NULL/LOOP: write the AF in the other byte order than usual */
    uint32_t null_af6; /* NULL/LOOP AF for IPv6 (0: 24) */
};

/* Wrap ip (len bytes) into buf. Returns the frame length or -1. */
int gen_frame(const struct gen_l2 *l2, const uint8_t *ip, size_t len, uint8_t *buf, size_t cap);

/* Split an IP packet into fragments whose IP length is at most mtu (v4: offsets multiple of 8;
 * v6: a fragment header is inserted after the 40-byte header). id: identification to use.
 * emit is called per fragment, in order; a nonzero return stops. Returns the number of
 * fragments or -1. */
int gen_ip_fragment(const uint8_t *ip, size_t len, size_t mtu, uint32_t id,
                    int (*emit)(void *arg, const uint8_t *frag, size_t len), void *arg);
/* One fragment of the packet whose header starts ip (only the header is read): c bytes of
 * data (any content: tests also make overlapping and stray pieces) at offset off (a multiple
 * of 8), more-fragments flag more. Written to buf; returns its length or -1. */
int gen_ip_fragment_piece(const uint8_t *ip, uint32_t id, size_t off, bool more,
                          const uint8_t *data, size_t c, uint8_t *buf, size_t cap);

/* Helpers for tests: mapped IPv4 / parsed addresses. */
void gen_addr4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d);
int gen_addr(uint8_t out[16], const char *text); /* "1.2.3.4" or "2001:db8::1"; 0 or -1 */

#endif
