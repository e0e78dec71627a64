/* pkt.h: parse one captured frame into L3/L4 facts (addresses, ports, flags, lengths).
 *
 * Callers: the capture replay and the flow meter (any thread; pure function, no state).
 * pkt_parse() never reads beyond caplen and never allocates. Pointers in struct pkt_info
 * borrow the caller's frame and stay valid as long as it does.
 * Errors are returned as enum pkt_err and are meant to be counted by the caller
 * (DESIGN rule 6), never logged per packet.
 */
#ifndef TW_PKT_H
#define TW_PKT_H

#include <stdbool.h>
#include <stdint.h>

/* Link types as libpcap's pcap_datalink() reports them on Linux (DLT_*), plus the LINKTYPE_*
 * values that differ, so a caller may pass either. */
enum pkt_linktype {
    PKT_LINK_NULL = 0,     /* DLT_NULL: 4-byte address family, capturing host's order */
    PKT_LINK_EN10MB = 1,   /* Ethernet (802.1Q/802.1ad/QinQ, MPLS, Ethernet over MPLS, PPPoE) */
    PKT_LINK_RAW = 12,     /* DLT_RAW on Linux: bare IPv4 or IPv6 */
    PKT_LINK_RAW_BSD = 14, /* DLT_RAW on OpenBSD */
    PKT_LINK_RAW_LT = 101, /* LINKTYPE_RAW as written in files */
    PKT_LINK_LOOP = 108,   /* DLT_LOOP: 4-byte address family, network order */
    PKT_LINK_LINUX_SLL = 113,
    PKT_LINK_IPV4 = 228,
    PKT_LINK_IPV6 = 229,
    PKT_LINK_LINUX_SLL2 = 276,
};

enum pkt_err {
    PKT_OK = 0,
    PKT_ERR_TRUNCATED_L2 = -1,     /* frame shorter than its link header(s) */
    PKT_ERR_UNKNOWN_LINKTYPE = -2, /* link type not handled */
    PKT_ERR_NOT_IP = -3,           /* ARP, LLDP, ... (not an error on the wire; counted) */
    PKT_ERR_BAD_IP_HEADER = -4,    /* version/IHL/total length inconsistent */
    PKT_ERR_TRUNCATED_L3 = -5,     /* IP header or extension headers cut by the snaplen */
    PKT_ERR_TRUNCATED_L4 = -6,     /* transport header cut by the snaplen; L3 fields valid */
    PKT_ERR_BAD_L4_HEADER = -7,    /* e.g. TCP data offset < 5 or beyond the IP length; L3 valid */
    PKT_ERR_TOO_MANY_HEADERS = -8, /* VLAN/MPLS/extension header chain longer than we walk */
    PKT_ERR_BAD_LENGTH = -9,       /* IP length beyond the frame's length on the wire */
};
#define PKT_ERR_COUNT 10 /* number of enum values, for counter arrays indexed by -err */

/* All multi-byte fields in host byte order. */
struct pkt_info {
    uint8_t src[16]; /* network order, IPv4 as ::ffff:a.b.c.d */
    uint8_t dst[16];
    const uint8_t *l3;          /* IP header inside the frame (borrowed) */
    const uint8_t *l4;          /* transport header, NULL when absent (later fragment, ESP...) */
    const uint8_t *l4_payload;  /* data after the transport header (NULL when absent) */
    const uint8_t *frag_data;   /* fragment: the fragmentable part carried by this packet */
    uint32_t l3_caplen;         /* captured bytes from l3 on (trimmed to ip_len) */
    uint32_t ip_len;            /* IP total length from the header (v6: 40 + payload length) */
    uint32_t l4_caplen;         /* captured bytes from l4 on */
    uint32_t l4_len;            /* transport length per the IP header(s) */
    uint32_t l4_payload_caplen; /* captured payload bytes */
    uint32_t l4_payload_len;    /* payload bytes per the headers (snaplen-independent) */
    uint32_t frag_data_caplen;  /* captured bytes of frag_data */
    uint32_t frag_data_len;     /* fragmentable bytes in this fragment per the headers */
    uint32_t frag_id;           /* IPv4 identification or IPv6 fragment identification */
    uint16_t frag_offset;       /* offset of this fragment in bytes */
    uint16_t sport, dport;      /* TCP/UDP/SCTP ports, 0 otherwise */
    uint16_t vlan;              /* outermost VLAN id (0 = none) */
    uint16_t vlan_inner;        /* innermost VLAN id (== vlan with a single tag) */
    uint8_t vlan_count;         /* number of 802.1Q/802.1ad tags walked */
    uint8_t proto;     /* transport protocol after extension headers (v6: final next hdr) */
    uint8_t tcp_flags; /* TCP flags byte (FIN 0x01 ... CWR 0x80) */
    uint8_t icmp_type, icmp_code; /* ICMP / ICMPv6 */
    uint8_t ttl;                  /* TTL / hop limit */
    uint8_t tos;                  /* IPv4 TOS / IPv6 traffic class */
    bool v6;
    bool fragment;       /* part of a fragmented datagram (any piece) */
    bool first_fragment; /* offset 0: carries the transport header and ports */
    bool more_frags;     /* MF flag */
};

/* Parse one frame. data is borrowed (caplen bytes readable); wirelen is the original length.
 * Returns PKT_OK or a negative enum pkt_err. On PKT_ERR_TRUNCATED_L4 and PKT_ERR_BAD_L4_HEADER
 * the L3 fields (addresses, proto, ip_len, fragment facts) are valid and ports are 0. */
int pkt_parse(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
              struct pkt_info *out) __attribute__((warn_unused_result));

/* Parse starting at an IP header (version from the first nibble). Same contract. */
int pkt_parse_ip(const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_info *out)
    __attribute__((warn_unused_result));

/* The packet a tunnel in pi carries, when pi is one this parser knows: VXLAN (RFC 7348: UDP
 * to port 4789 with the I flag set, an 8-byte header, then an Ethernet frame). Returns
 * PKT_OK with *inner filled (its pointers borrow pi's frame), 1 when pi is not such a tunnel,
 * or the inner frame's negative enum pkt_err. Callers: the sFlow decoder (a sampled header is
 * classified by the tenant's packet); the flow meter keeps the outer packet. */
int pkt_parse_inner(const struct pkt_info *pi, struct pkt_info *inner)
    __attribute__((warn_unused_result));

/* Short stable name of an error ("truncated_l2", ...) for metrics; "ok" for 0. */
const char *pkt_err_name(int err);

/* Whether pkt_parse handles this link type. */
bool pkt_linktype_supported(int linktype);

#endif
