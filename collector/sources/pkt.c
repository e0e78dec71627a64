/* pkt.c: link layer -> IP -> transport parsing of captured frames. See pkt.h. */
#include "pkt.h"

#include <string.h>

#include "be.h"
#include "le.h"

#define PKT_MAX_TAGS 8      /* VLAN tags / MPLS labels walked before giving up */
#define PKT_MAX_EXT_HDRS 16 /* IPv6 extension headers walked before giving up */

bool pkt_linktype_supported(int lt)
{
    switch (lt) {
    case PKT_LINK_NULL:
    case PKT_LINK_EN10MB:
    case PKT_LINK_RAW:
    case PKT_LINK_RAW_BSD:
    case PKT_LINK_RAW_LT:
    case PKT_LINK_LOOP:
    case PKT_LINK_LINUX_SLL:
    case PKT_LINK_IPV4:
    case PKT_LINK_IPV6:
    case PKT_LINK_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

const char *pkt_err_name(int err)
{
    switch (err) {
    case PKT_OK:
        return "ok";
    case PKT_ERR_TRUNCATED_L2:
        return "truncated_l2";
    case PKT_ERR_UNKNOWN_LINKTYPE:
        return "unknown_linktype";
    case PKT_ERR_NOT_IP:
        return "not_ip";
    case PKT_ERR_BAD_IP_HEADER:
        return "bad_ip_header";
    case PKT_ERR_TRUNCATED_L3:
        return "truncated_l3";
    case PKT_ERR_TRUNCATED_L4:
        return "truncated_l4";
    case PKT_ERR_BAD_L4_HEADER:
        return "bad_l4_header";
    case PKT_ERR_TOO_MANY_HEADERS:
        return "too_many_headers";
    case PKT_ERR_BAD_LENGTH:
        return "ip_length_beyond_frame";
    default:
        return "unknown";
    }
}

/* The transport header at p (cap captured bytes, len bytes per the IP header). */
static int parse_l4(const uint8_t *p, uint32_t cap, uint32_t len, struct pkt_info *o)
{
    uint32_t hl;

    o->l4 = p;
    o->l4_caplen = cap;
    o->l4_len = len;
    switch (o->proto) {
    case 6: /* TCP */
        if (cap < 20)
            return len < 20 ? PKT_ERR_BAD_L4_HEADER : PKT_ERR_TRUNCATED_L4;
        hl = (uint32_t)(p[12] >> 4) * 4;
        if (hl < 20 || hl > len)
            return PKT_ERR_BAD_L4_HEADER;
        o->sport = be_get16(p);
        o->dport = be_get16(p + 2);
        o->tcp_flags = p[13];
        break;
    case 17:  /* UDP */
    case 136: /* UDP-Lite */
        if (cap < 8)
            return len < 8 ? PKT_ERR_BAD_L4_HEADER : PKT_ERR_TRUNCATED_L4;
        hl = 8;
        o->sport = be_get16(p);
        o->dport = be_get16(p + 2);
        if (o->proto == 17 && !o->fragment) {
            /* The UDP length must fit inside the IP length (shorter: IP padding, dropped);
             * 0 only in an IPv6 jumbogram. */
            uint32_t ulen = be_get16(p + 4);
            if (ulen >= 8 && ulen <= len)
                len = ulen;
            else if (!(ulen == 0 && o->v6 && len > 0xffff))
                return PKT_ERR_BAD_L4_HEADER;
        }
        break;
    case 132: /* SCTP */
        if (cap < 12)
            return len < 12 ? PKT_ERR_BAD_L4_HEADER : PKT_ERR_TRUNCATED_L4;
        hl = 12;
        o->sport = be_get16(p);
        o->dport = be_get16(p + 2);
        break;
    case 1:  /* ICMP */
    case 58: /* ICMPv6 */
        if (cap >= 2) {
            o->icmp_type = p[0];
            o->icmp_code = p[1];
        }
        if (cap < 8)
            return len < 8 ? PKT_ERR_BAD_L4_HEADER : PKT_ERR_TRUNCATED_L4;
        hl = 8;
        break;
    default: /* GRE, ESP, ...: whole transport as payload */
        hl = 0;
        break;
    }
    if (hl > len)
        return PKT_ERR_BAD_L4_HEADER;
    o->l4_payload = hl <= cap ? p + hl : NULL; /* options cut by the snaplen: no payload */
    o->l4_payload_len = len - hl;
    o->l4_payload_caplen = cap > hl ? cap - hl : 0;
    if (o->l4_payload_caplen > o->l4_payload_len)
        o->l4_payload_caplen = o->l4_payload_len;
    return PKT_OK;
}

static void map_v4(uint8_t out[16], const uint8_t *v4)
{
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

static int parse_v4(const uint8_t *p, uint32_t cap, uint32_t wire, struct pkt_info *o)
{
    uint32_t ihl, tot, cap3;
    uint16_t fo;

    if (cap < 20)
        return PKT_ERR_TRUNCATED_L3;
    ihl = (uint32_t)(p[0] & 0x0f) * 4;
    if (ihl < 20)
        return PKT_ERR_BAD_IP_HEADER;
    tot = be_get16(p + 2);
    if (tot == 0) /* TSO/GSO capture: length left 0 by the NIC; take the frame's */
        tot = wire > 0xffff ? 0xffff : wire;
    if (tot < ihl)
        return PKT_ERR_BAD_IP_HEADER;
    if (tot > wire) /* claims more than the wire carried: would inflate byte counts */
        return PKT_ERR_BAD_LENGTH;
    if (cap < ihl)
        return PKT_ERR_TRUNCATED_L3;
    o->v6 = false;
    o->l3 = p;
    o->ip_len = tot;
    cap3 = cap < tot ? cap : tot; /* trim Ethernet padding */
    o->l3_caplen = cap3;
    o->tos = p[1];
    o->ttl = p[8];
    o->proto = p[9];
    map_v4(o->src, p + 12);
    map_v4(o->dst, p + 16);
    fo = be_get16(p + 6);
    o->frag_id = be_get16(p + 4);
    o->more_frags = (fo & 0x2000) != 0;
    o->frag_offset = (uint16_t)((fo & 0x1fff) * 8);
    o->fragment = o->more_frags || o->frag_offset != 0;
    o->first_fragment = o->fragment && o->frag_offset == 0;
    if (o->fragment) {
        o->frag_data = p + ihl;
        o->frag_data_len = tot - ihl;
        o->frag_data_caplen = cap3 - ihl;
        if (o->frag_offset != 0)
            return PKT_OK; /* no transport header in later fragments */
    }
    if (o->proto == 51) { /* AH: skip it to reach the transport */
        uint32_t off = ihl, ahl;
        if (cap3 < off + 8)
            return tot < off + 8 ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3;
        ahl = ((uint32_t)p[off + 1] + 2) * 4;
        if (off + ahl > tot)
            return PKT_ERR_BAD_IP_HEADER;
        o->proto = p[off];
        ihl = off + ahl;
        if (cap3 < ihl)
            return PKT_ERR_TRUNCATED_L3;
    }
    return parse_l4(p + ihl, cap3 - ihl, tot - ihl, o);
}

static int parse_v6(const uint8_t *p, uint32_t cap, uint32_t wire, struct pkt_info *o)
{
    uint32_t tot, cap3, off = 40;
    uint8_t nh;
    int n;

    if (cap < 40)
        return PKT_ERR_TRUNCATED_L3;
    tot = 40 + (uint32_t)be_get16(p + 4);
    /* payload length 0: a jumbogram (RFC 2675) or a GSO / BIG TCP capture when the frame holds
     * more than a payload length can say; else no payload (a shorter frame's rest is padding) */
    if (tot == 40 && wire > 40 + 0xffff)
        tot = wire;
    if (tot > wire)
        return PKT_ERR_BAD_LENGTH;
    o->v6 = true;
    o->l3 = p;
    o->ip_len = tot;
    cap3 = cap < tot ? cap : tot;
    o->l3_caplen = cap3;
    o->tos = (uint8_t)((be_get16(p) >> 4) & 0xff);
    o->ttl = p[7];
    memcpy(o->src, p + 8, 16);
    memcpy(o->dst, p + 24, 16);
    nh = p[6];
    for (n = 0;; n++) {
        uint32_t hl;
        if (n >= PKT_MAX_EXT_HDRS)
            return PKT_ERR_TOO_MANY_HEADERS;
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (cap3 < off + 2)
                return tot < off + 2 ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3;
            hl = ((uint32_t)p[off + 1] + 1) * 8;
            break;
        case 51: /* AH: length in 4-byte units minus 2 */
            if (cap3 < off + 2)
                return tot < off + 2 ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3;
            hl = ((uint32_t)p[off + 1] + 2) * 4;
            break;
        case 44: { /* fragment */
            uint16_t fo;
            if (cap3 < off + 8)
                return tot < off + 8 ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3;
            if (o->fragment) /* two fragment headers: malformed */
                return PKT_ERR_BAD_IP_HEADER;
            fo = be_get16(p + off + 2);
            o->frag_offset = (uint16_t)(fo & 0xfff8);
            o->more_frags = (fo & 1) != 0;
            o->frag_id = be_get32(p + off + 4);
            /* An atomic fragment (offset 0, no MF) is a whole datagram (RFC 6946). */
            o->fragment = o->more_frags || o->frag_offset != 0;
            o->first_fragment = o->fragment && o->frag_offset == 0;
            nh = p[off];
            off += 8;
            if (o->fragment) {
                o->frag_data = p + off;
                o->frag_data_len = tot - off;
                o->frag_data_caplen = cap3 - off;
                if (o->frag_offset != 0) {
                    o->proto = nh;
                    return PKT_OK;
                }
            }
            continue;
        }
        default: /* transport, ESP (50) or no next header (59): stop walking */
            o->proto = nh;
            if (nh == 50 || nh == 59) {
                o->l4_len = tot - off;
                o->l4_caplen = cap3 - off;
                return PKT_OK;
            }
            return parse_l4(p + off, cap3 - off, tot - off, o);
        }
        if (off + hl > tot)
            return PKT_ERR_BAD_IP_HEADER;
        if (off + hl > cap3)
            return PKT_ERR_TRUNCATED_L3;
        nh = p[off];
        off += hl;
    }
}

/* After the link layer: keeps what the link layer filled in (VLANs). */
static int parse_ip(const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_info *out)
{
    if (caplen < 1)
        return PKT_ERR_TRUNCATED_L3;
    switch (data[0] >> 4) {
    case 4:
        return parse_v4(data, caplen, wirelen, out);
    case 6:
        return parse_v6(data, caplen, wirelen, out);
    default:
        return PKT_ERR_NOT_IP;
    }
}

/* Whether an Ethernet pseudowire's frame could carry this ethertype on to IP: the ones
 * parse_ethertype walks. */
static bool et_walked(uint16_t et)
{
    switch (et) {
    case 0x0800:
    case 0x86dd:
    case 0x8100:
    case 0x88a8:
    case 0x9100:
    case 0x9200:
    case 0x8847:
    case 0x8848:
    case 0x8864:
        return true;
    default:
        return false;
    }
}

/* The label stack at p (cap bytes) and what its bottom carries. MPLS names no payload type, so
 * it is guessed from the first nibble after the bottom label, as routers' load balancers and
 * Wireshark do: 4 IPv4, 6 IPv6 (PKT_OK, *off at the IP header); 1 the generic associated
 * channel (RFC 5586, OAM: PKT_ERR_NOT_IP); else an Ethernet pseudowire (RFC 4448), with the
 * RFC 4385 control word (first nibble 0, 4 bytes) when an ethertype parse_ethertype walks sits
 * where the frame after it would have one, else without it (a destination MAC may start with a
 * 0 nibble too): returns 1, *et the inner frame's ethertype and *off past its MAC header.
 * Otherwise a negative enum pkt_err. */
static int mpls_payload(const uint8_t *p, uint32_t cap, uint16_t *et, uint32_t *off)
{
    uint32_t o = 0;
    int k;

    for (k = 0;; k++) {
        if (k >= PKT_MAX_TAGS)
            return PKT_ERR_TOO_MANY_HEADERS;
        if (cap < o + 4)
            return PKT_ERR_TRUNCATED_L2;
        o += 4;
        if (p[o - 2] & 1) /* bottom of stack */
            break;
    }
    if (cap < o + 1)
        return PKT_ERR_TRUNCATED_L3;
    switch (p[o] >> 4) {
    case 4:
    case 6:
        *off = o;
        return PKT_OK;
    case 1:
        return PKT_ERR_NOT_IP;
    case 0:
        if (cap >= o + 4 + 14 && et_walked(be_get16(p + o + 4 + 12))) {
            *et = be_get16(p + o + 4 + 12);
            *off = o + 4 + 14;
            return 1;
        }
        break;
    default:
        break;
    }
    if (cap < o + 14)
        return PKT_ERR_TRUNCATED_L2;
    if (!et_walked(be_get16(p + o + 12)))
        return PKT_ERR_NOT_IP;
    *et = be_get16(p + o + 12);
    *off = o + 14;
    return 1;
}

/* Dispatch on an ethertype at p; walks VLAN tags, MPLS labels (and the Ethernet frame of a
 * pseudowire, mpls_payload) and PPPoE session headers, at most PKT_MAX_TAGS in all. */
static int parse_ethertype(uint16_t et, const uint8_t *p, uint32_t cap, uint32_t wire,
                           struct pkt_info *o)
{
    int n;

    for (n = 0; n < PKT_MAX_TAGS; n++) {
        switch (et) {
        case 0x0800:
            return cap && (p[0] >> 4) == 4 ? parse_v4(p, cap, wire, o)
                                           : (cap ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3);
        case 0x86dd:
            return cap && (p[0] >> 4) == 6 ? parse_v6(p, cap, wire, o)
                                           : (cap ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3);
        case 0x8100: /* 802.1Q */
        case 0x88a8: /* 802.1ad */
        case 0x9100: /* old QinQ */
        case 0x9200: {
            uint16_t vid;
            if (cap < 4)
                return PKT_ERR_TRUNCATED_L2;
            vid = be_get16(p) & 0x0fff;
            if (o->vlan_count == 0)
                o->vlan = vid;
            o->vlan_inner = vid;
            o->vlan_count++;
            et = be_get16(p + 2);
            p += 4;
            cap -= 4;
            wire = wire >= 4 ? wire - 4 : 0;
            break;
        }
        case 0x8847:   /* MPLS unicast */
        case 0x8848: { /* MPLS multicast */
            uint32_t off;
            int r = mpls_payload(p, cap, &et, &off);
            if (r != 1)
                return r == PKT_OK ? parse_ip(p + off, cap - off, wire >= off ? wire - off : 0, o)
                                   : r;
            p += off;
            cap -= off;
            wire = wire >= off ? wire - off : 0;
            break;
        }
        case 0x8864: { /* PPPoE session: 6-byte header + 2-byte PPP protocol */
            uint16_t ppp;
            if (cap < 8)
                return PKT_ERR_TRUNCATED_L2;
            ppp = be_get16(p + 6);
            p += 8;
            cap -= 8;
            wire = wire >= 8 ? wire - 8 : 0;
            if (ppp == 0x0021)
                et = 0x0800;
            else if (ppp == 0x0057)
                et = 0x86dd;
            else
                return PKT_ERR_NOT_IP;
            break;
        }
        default:
            return PKT_ERR_NOT_IP;
        }
    }
    return PKT_ERR_TOO_MANY_HEADERS;
}

static int parse_af(uint32_t af, const uint8_t *p, uint32_t cap, uint32_t wire, struct pkt_info *o)
{
    switch (af) {
    case 2: /* AF_INET everywhere */
        return cap && (p[0] >> 4) == 4 ? parse_v4(p, cap, wire, o) : PKT_ERR_BAD_IP_HEADER;
    case 10: /* Linux */
    case 24: /* NetBSD, OpenBSD, BSD/OS */
    case 28: /* FreeBSD */
    case 30: /* Darwin */
        return cap && (p[0] >> 4) == 6 ? parse_v6(p, cap, wire, o) : PKT_ERR_BAD_IP_HEADER;
    default:
        return PKT_ERR_NOT_IP;
    }
}

int pkt_parse_ip(const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_info *out)
{
    memset(out, 0, sizeof(*out));
    if (wirelen < caplen)
        wirelen = caplen;
    return parse_ip(data, caplen, wirelen, out);
}

#define PKT_VXLAN_PORT 4789

int pkt_parse_inner(const struct pkt_info *pi, struct pkt_info *inner)
{
    if (pi->proto != 17 || pi->dport != PKT_VXLAN_PORT || !pi->l4_payload ||
        pi->l4_payload_caplen < 8 || !(pi->l4_payload[0] & 0x08))
        return 1;
    return pkt_parse(PKT_LINK_EN10MB, pi->l4_payload + 8, pi->l4_payload_caplen - 8,
                     pi->l4_payload_len - 8, inner);
}

int pkt_parse(int linktype, const uint8_t *d, uint32_t cap, uint32_t wire, struct pkt_info *o)
{
    memset(o, 0, sizeof(*o));
    if (wire < cap)
        wire = cap;
    switch (linktype) {
    case PKT_LINK_EN10MB:
        if (cap < 14)
            return PKT_ERR_TRUNCATED_L2;
        return parse_ethertype(be_get16(d + 12), d + 14, cap - 14, wire - 14, o);
    case PKT_LINK_LINUX_SLL:
        if (cap < 16)
            return PKT_ERR_TRUNCATED_L2;
        return parse_ethertype(be_get16(d + 14), d + 16, cap - 16, wire - 16, o);
    case PKT_LINK_LINUX_SLL2:
        if (cap < 20)
            return PKT_ERR_TRUNCATED_L2;
        return parse_ethertype(be_get16(d), d + 20, cap - 20, wire - 20, o);
    case PKT_LINK_RAW:
    case PKT_LINK_RAW_BSD:
    case PKT_LINK_RAW_LT:
        return parse_ip(d, cap, wire, o);
    case PKT_LINK_IPV4:
        return cap && (d[0] >> 4) == 4 ? parse_v4(d, cap, wire, o)
                                       : (cap ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3);
    case PKT_LINK_IPV6:
        return cap && (d[0] >> 4) == 6 ? parse_v6(d, cap, wire, o)
                                       : (cap ? PKT_ERR_BAD_IP_HEADER : PKT_ERR_TRUNCATED_L3);
    case PKT_LINK_NULL:
    case PKT_LINK_LOOP: {
        uint32_t be, le;
        int r;
        if (cap < 4)
            return PKT_ERR_TRUNCATED_L2;
        /* DLT_NULL is in the capturing host's order and files travel, so try both. */
        be = be_get32(d);
        le = le_get32(d);
        r = parse_af(be, d + 4, cap - 4, wire - 4, o);
        if (r == PKT_ERR_NOT_IP && le != be)
            r = parse_af(le, d + 4, cap - 4, wire - 4, o);
        return r;
    }
    default:
        return PKT_ERR_UNKNOWN_LINKTYPE;
    }
}
