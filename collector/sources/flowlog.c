#include "flowlog.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "addr.h"
#include "json_in.h"
#include "log.h"
#include "source.h"
#include "textfield.h"

/* ---- one connection, as both tools describe it ---- */

struct conn {
    uint64_t ts_us, dur_us; /* microseconds: start + duration is rounded once */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t oflags, rflags; /* TCP flags per side (0: none known yet) */
    bool flags_known;
    bool init_unsure; /* Zeek OTH (no handshake seen), Argus "?" direction */
    uint64_t opk, rpk, oby, rby;
    uint64_t opay, rpay;     /* Zeek payload bytes (orig_bytes, resp_bytes) */
    bool have_opk, have_rpk; /* packet counts given per side */
    uint64_t totpk;          /* Argus TotPkts (0: not given) */
};

enum role {
    R_NONE = -1,
    /* Zeek */
    Z_TS = 0,
    Z_ORIG_H,
    Z_ORIG_P,
    Z_RESP_H,
    Z_RESP_P,
    Z_PROTO,
    Z_DURATION,
    Z_ORIG_BYTES,
    Z_RESP_BYTES,
    Z_CONN_STATE,
    Z_HISTORY,
    Z_ORIG_PKTS,
    Z_ORIG_IP_BYTES,
    Z_RESP_PKTS,
    Z_RESP_IP_BYTES,
    /* Argus */
    A_STIME,
    A_DUR,
    A_PROTO,
    A_SADDR,
    A_SPORT,
    A_DADDR,
    A_DPORT,
    A_STATE,
    A_TOTPKTS,
    A_TOTBYTES,
    A_SRCBYTES,
    A_SRCPKTS,
    A_DSTPKTS,
    A_DSTBYTES,
    A_DIR,
    R_COUNT
};

static const char *const role_name[R_COUNT] = {
    [Z_TS] = "ts",
    [Z_ORIG_H] = "id.orig_h",
    [Z_ORIG_P] = "id.orig_p",
    [Z_RESP_H] = "id.resp_h",
    [Z_RESP_P] = "id.resp_p",
    [Z_PROTO] = "proto",
    [Z_DURATION] = "duration",
    [Z_ORIG_BYTES] = "orig_bytes",
    [Z_RESP_BYTES] = "resp_bytes",
    [Z_CONN_STATE] = "conn_state",
    [Z_HISTORY] = "history",
    [Z_ORIG_PKTS] = "orig_pkts",
    [Z_ORIG_IP_BYTES] = "orig_ip_bytes",
    [Z_RESP_PKTS] = "resp_pkts",
    [Z_RESP_IP_BYTES] = "resp_ip_bytes",
    [A_STIME] = "StartTime",
    [A_DUR] = "Dur",
    [A_PROTO] = "Proto",
    [A_SADDR] = "SrcAddr",
    [A_SPORT] = "Sport",
    [A_DADDR] = "DstAddr",
    [A_DPORT] = "Dport",
    [A_STATE] = "State",
    [A_TOTPKTS] = "TotPkts",
    [A_TOTBYTES] = "TotBytes",
    [A_SRCBYTES] = "SrcBytes",
    [A_SRCPKTS] = "SrcPkts",
    [A_DSTPKTS] = "DstPkts",
    [A_DSTBYTES] = "DstBytes",
    [A_DIR] = "Dir",
};

#define BIT(r) (1ull << (r))
#define ZEEK_NEED (BIT(Z_TS) | BIT(Z_ORIG_H) | BIT(Z_RESP_H) | BIT(Z_PROTO))
#define ARGUS_NEED (BIT(A_STIME) | BIT(A_PROTO) | BIT(A_SADDR) | BIT(A_DADDR))

static int role_of(const char *s, size_t n, int first, int last)
{
    for (int r = first; r <= last; r++)
        if (strlen(role_name[r]) == n && strncasecmp(role_name[r], s, n) == 0)
            return r;
    return R_NONE;
}

static int bad(struct flowlog_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bad(struct flowlog_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

const char *flowlog_fmt_name(enum flowlog_fmt f)
{
    static const char *const n[] = {"auto", "zeek", "zeek-json", "argus"};
    return (unsigned)f < 4 ? n[f] : "?";
}

int flowlog_fmt_parse(const char *s, enum flowlog_fmt *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, flowlog_fmt_name((enum flowlog_fmt)i)) == 0) {
            *out = (enum flowlog_fmt)i;
            return 0;
        }
    }
    return -EINVAL;
}

void flowlog_parser_fini(struct flowlog_parser *p)
{
    jin_free(p->json);
    p->json = NULL;
}

void flowlog_parser_init(struct flowlog_parser *p, enum flowlog_fmt fmt)
{
    memset(p, 0, sizeof *p);
    p->fmt = fmt;
    p->sep = '\t';
    memcpy(p->unset, "-", 2);
    memset(p->col, R_NONE, sizeof p->col);
}

/* A header naming the columns (Zeek #fields, the Argus CSV header): each column's role among
 * roles first..last (R_NONE for the others); every role of need must be there, none twice. */
static int map_columns(struct flowlog_parser *p, const char *s, size_t n, char sep, int first,
                       int last, uint64_t need, const char *what, const char *lacks)
{
    uint64_t seen = 0;
    unsigned col = 0;
    struct tf_fields it = tf_fields(s, n, sep);
    const char *f;
    size_t fn;
    while (tf_field_next(&it, &f, &fn)) {
        if (col >= FLOWLOG_MAX_COLS)
            return bad(p, "%s: more than %d columns", what, FLOWLOG_MAX_COLS);
        fn = tf_trim(&f, fn);
        int r = role_of(f, fn, first, last);
        if (r != R_NONE && (seen & BIT(r)))
            return bad(p, "%s: %s twice", what, role_name[r]);
        p->col[col++] = (int8_t)r;
        if (r != R_NONE)
            seen |= BIT(r);
    }
    if ((seen & need) != need)
        return bad(p, "%s %s", what, lacks);
    p->ncols = (uint8_t)col;
    p->header_seen = true;
    return 0;
}

/* ---- TCP flags ---- */

enum {
    FIN = 0x01,
    SYN = 0x02,
    RST = 0x04,
    PSH = 0x08,
    ACK = 0x10,
    URG = 0x20,
    ECE = 0x40,
    CWR = 0x80
};

/* Zeek history: upper case = originator, lower case = responder. */
static void zeek_history(struct conn *c, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool orig = ch >= 'A' && ch <= 'Z';
        uint8_t f = 0;
        switch (orig ? ch : ch - 'a' + 'A') {
        case 'S':
            f = SYN;
            break;
        case 'H':
            f = SYN | ACK;
            break;
        case 'A':
            f = ACK;
            break;
        case 'D':
            f = ACK | PSH;
            break;
        case 'F':
            f = FIN | ACK;
            break;
        case 'R':
            f = RST;
            break;
        default:
            break; /* C G T W I Q ^ and others: nothing about flags */
        }
        if (orig)
            c->oflags |= f;
        else
            c->rflags |= f;
    }
    c->flags_known = true;
}

static bool zeek_state(struct conn *c, const char *s, size_t n)
{
    static const struct {
        const char *st;
        uint8_t o, r;
    } tab[] = {
        {"S0", SYN, 0},
        {"REJ", SYN, RST | ACK},
        {"RSTOS0", SYN | RST, 0},
        {"SH", SYN | FIN, 0},
        {"RSTRH", 0, SYN | ACK | RST},
        {"SHR", 0, SYN | ACK | FIN},
        {"S1", SYN | ACK, SYN | ACK},
        {"SF", SYN | ACK | FIN, SYN | ACK | FIN},
        {"S2", SYN | ACK | FIN, SYN | ACK},
        {"S3", SYN | ACK, SYN | ACK | FIN},
        {"RSTO", SYN | ACK | RST, SYN | ACK},
        {"RSTR", SYN | ACK, SYN | ACK | RST},
        {"OTH", ACK, ACK},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strlen(tab[i].st) == n && memcmp(tab[i].st, s, n) == 0) {
            c->oflags = tab[i].o;
            c->rflags = tab[i].r;
            c->flags_known = true;
            return true;
        }
    }
    return false;
}

/* Argus State: "SRC_DST" flag letters (ra -Z b) or a textual state. */
static void argus_state(struct conn *c, const char *s, size_t n)
{
    const char *us = memchr(s, '_', n);
    if (us) {
        uint8_t *side = &c->oflags;
        for (size_t i = 0; i < n; i++) {
            uint8_t f = 0;
            switch (s[i]) {
            case '_':
                side = &c->rflags;
                continue;
            case 'F':
                f = FIN;
                break;
            case 'S':
                f = SYN;
                break;
            case 'R':
                f = RST;
                break;
            case 'P':
                f = PSH;
                break;
            case 'A':
                f = ACK;
                break;
            case 'U':
                f = URG;
                break;
            case 'E':
                f = ECE;
                break;
            case 'C':
                f = CWR;
                break;
            default:
                break;
            }
            *side |= f;
        }
        c->flags_known = true;
        return;
    }
    static const struct {
        const char *st;
        uint8_t o, r;
    } tab[] = {
        {"REQ", SYN, 0},
        {"INT", SYN, 0},
        {"ACC", SYN, SYN | ACK},
        {"CON", SYN | ACK, SYN | ACK},
        {"EST", SYN | ACK, SYN | ACK},
        {"CLO", SYN | ACK | FIN, SYN | ACK | FIN},
        {"FIN", SYN | ACK | FIN, SYN | ACK | FIN},
        {"RST", SYN, RST | ACK},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strlen(tab[i].st) == n && memcmp(tab[i].st, s, n) == 0) {
            c->oflags = tab[i].o;
            c->rflags = tab[i].r;
            c->flags_known = true;
            return;
        }
    }
}

/* ---- a connection into records ---- */

static uint16_t icmp_reply_type(uint8_t proto, uint8_t type)
{
    if (proto == 1) {
        switch (type) {
        case 8:
            return 0;
        case 13:
            return 14;
        case 15:
            return 16;
        case 17:
            return 18;
        default:
            return type;
        }
    }
    return type == 128 ? 129 : type;
}

static void fill(struct flow_rec *f, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
                 uint16_t dport, uint8_t proto, uint8_t flags, uint64_t packets, uint64_t bytes,
                 uint64_t first, uint64_t last)
{
    memset(f, 0, sizeof *f);
    memcpy(f->src, src, 16);
    memcpy(f->dst, dst, 16);
    f->sport = sport;
    f->dport = dport;
    f->proto = proto;
    f->tcp_flags = flags;
    f->packets = packets;
    f->bytes = bytes;
    f->first_ms = first;
    f->last_ms = last;
}

static int conn_records(struct flowlog_parser *p, struct conn *c, struct flow_rec out[2])
{
    if (addr_is_v4(c->src) != addr_is_v4(c->dst))
        return bad(p, "addresses of different families");
    bool icmp = c->proto == 1 || c->proto == 58;
    if (c->proto == 1 && !addr_is_v4(c->src))
        c->proto = 58; /* Zeek says "icmp" for ICMPv6 too */
    /* Argus gives only the total packets: split in the proportion of the bytes */
    if (!c->have_opk && !c->have_rpk) {
        uint64_t tb = c->oby + c->rby;
        if (c->totpk == 0) {
            c->opk = c->oby ? 1 : 0;
            c->rpk = c->rby ? 1 : 0;
        } else if (c->rby == 0 || tb == 0) {
            c->opk = c->totpk;
        } else if (c->oby == 0) {
            c->rpk = c->totpk;
        } else {
            c->opk = (uint64_t)((double)c->totpk * (double)c->oby / (double)tb + 0.5);
            if (c->opk < 1)
                c->opk = 1;
            if (c->opk >= c->totpk)
                c->opk = c->totpk > 1 ? c->totpk - 1 : 1;
            c->rpk = c->totpk > c->opk ? c->totpk - c->opk : 1;
        }
    }
    if (c->proto == 6 && !c->flags_known) {
        c->oflags = ACK; /* nothing said: an established exchange */
        c->rflags = ACK;
    }
    if (c->proto != 6)
        c->oflags = c->rflags = 0;
    uint64_t start = c->ts_us / 1000, end = (c->ts_us + c->dur_us) / 1000;
    if (c->ts_us + c->dur_us < c->ts_us)
        return bad(p, "duration out of range");
    int n = 0;
    if (c->opk > 0 || c->rpk == 0)
        fill(&out[n++], c->src, c->dst, icmp ? 0 : c->sport, c->dport, c->proto, c->oflags, c->opk,
             c->oby, start, end);
    if (c->rpk > 0)
        fill(&out[n++], c->dst, c->src, icmp ? 0 : c->dport,
             icmp ? (uint16_t)(icmp_reply_type(c->proto, (uint8_t)(c->dport >> 8)) << 8 |
                               (c->dport & 0xff))
                  : c->sport,
             c->proto, c->rflags, c->rpk, c->rby, start, end);
    /* both tools name the side that started the connection the originator / source */
    if (!c->init_unsure) {
        if (c->opk > 0 || c->rpk == 0)
            out[0].flags |= FLOW_F_INIT_SRC;
        if (c->rpk > 0)
            out[n - 1].flags |= FLOW_F_INIT_DST;
    }
    for (int i = 0; i < n; i++) {
        out[i].sampling = 1;
        if (!addr_is_v4(out[i].src))
            out[i].flags |= FLOW_F_V6;
    }
    return n;
}

/* ---- Zeek TSV ---- */

static bool is_unset(const struct flowlog_parser *p, const char *v, size_t n)
{
    size_t un = strlen(p->unset);
    return n == 0 || (n == un && memcmp(v, p->unset, n) == 0) ||
           (n == 7 && memcmp(v, "(empty)", 7) == 0);
}

/* The value of a header line ("#name<sep>value"), with \xHH escapes for #separator. */
static int zeek_header(struct flowlog_parser *p, const char *s, size_t n)
{
    if (n >= 10 && memcmp(s, "#separator", 10) == 0) {
        const char *v = s + 10;
        size_t vn = n - 10;
        while (vn && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        uint64_t x;
        if (vn == 4 && v[0] == '\\' && v[1] == 'x' &&
            tf_hex((char[]){'0', 'x', v[2], v[3]}, 4, &x)) {
            p->sep = (char)x;
        } else if (vn == 1) {
            p->sep = v[0];
        } else {
            return bad(p, "#separator: unreadable value");
        }
        if (p->sep == '\n' || p->sep == '\0')
            return bad(p, "#separator: unusable character");
        return 0;
    }
    const char *t = memchr(s, p->sep, n);
    if (!t)
        return 0; /* a comment */
    size_t kn = (size_t)(t - s);
    const char *v = t + 1;
    size_t vn = n - kn - 1;
    if (kn == 12 && memcmp(s, "#unset_field", 12) == 0) {
        if (vn == 0 || vn >= sizeof p->unset)
            return bad(p, "#unset_field: unusable value");
        memcpy(p->unset, v, vn);
        p->unset[vn] = 0;
        return 0;
    }
    if (kn == 5 && memcmp(s, "#path", 5) == 0) {
        p->other_path = !(vn == 4 && memcmp(v, "conn", 4) == 0);
        return 0;
    }
    if (kn == 7 && memcmp(s, "#fields", 7) == 0) {
        return map_columns(p, v, vn, p->sep, Z_TS, Z_RESP_IP_BYTES, ZEEK_NEED, "#fields",
                           "lacks ts, id.orig_h, id.resp_h or proto (not a conn log)");
    }
    return 0; /* #set_separator, #empty_field, #open, #close, #types: not needed */
}

/* One Zeek field value into the connection (shared by TSV and JSON). v is unquoted. */
static int zeek_field(struct flowlog_parser *p, struct conn *c, int role, const char *v, size_t n,
                      uint64_t *have, bool unset)
{
    uint64_t x;
    if (unset) {
        if (BIT(role) & ZEEK_NEED)
            return bad(p, "%s unset", role_name[role]);
        return 0;
    }
    *have |= BIT(role);
    switch (role) {
    case Z_TS:
        if (tf_seconds_us(v, n, &c->ts_us))
            return 0;
        if (!tf_datetime(v, n, &x))
            return bad(p, "ts: not a time");
        c->ts_us = x * 1000;
        return 0;
    case Z_ORIG_H:
    case Z_RESP_H:
        if (!tf_addr(v, n, role == Z_ORIG_H ? c->src : c->dst))
            return bad(p, "%s: not an address", role_name[role]);
        return 0;
    case Z_ORIG_P:
    case Z_RESP_P:
        if (!tf_uint_max(v, n, 65535, &x))
            return bad(p, "%s: not a port", role_name[role]);
        if (role == Z_ORIG_P)
            c->sport = (uint16_t)x;
        else
            c->dport = (uint16_t)x;
        return 0;
    case Z_PROTO:
        if (n == 17 && memcmp(v, "unknown_transport", 17) == 0)
            return 1; /* not a transport we count: skipped */
        if (!tf_proto(v, n, &c->proto))
            return bad(p, "proto: unknown");
        return 0;
    case Z_DURATION:
        if (!tf_seconds_us(v, n, &c->dur_us))
            return bad(p, "duration: not a number of seconds");
        return 0;
    case Z_ORIG_BYTES:
    case Z_RESP_BYTES:
    case Z_ORIG_IP_BYTES:
    case Z_RESP_IP_BYTES:
    case Z_ORIG_PKTS:
    case Z_RESP_PKTS:
        if (!tf_u64(v, n, &x))
            return bad(p, "%s: not a count", role_name[role]);
        switch (role) {
        case Z_ORIG_PKTS:
            c->opk = x;
            c->have_opk = true;
            break;
        case Z_RESP_PKTS:
            c->rpk = x;
            c->have_rpk = true;
            break;
        case Z_ORIG_IP_BYTES:
            c->oby = x;
            break;
        case Z_RESP_IP_BYTES:
            c->rby = x;
            break;
        case Z_ORIG_BYTES:
            c->opay = x;
            break;
        default:
            c->rpay = x;
            break;
        }
        return 0;
    case Z_HISTORY:
        c->oflags = c->rflags = 0;
        zeek_history(c, v, n);
        return 0;
    default:
        return 0;
    }
}

/* After all fields: history wins over conn_state whatever their order; payload sets PSH. */
static void zeek_finish(struct conn *c, uint64_t have, const char *state, size_t state_n)
{
    if (c->proto == 1 || c->proto == 58) { /* orig_p is the ICMP type, resp_p the code */
        c->dport = (uint16_t)((c->sport & 0xff) << 8 | (c->dport & 0xff));
        c->sport = 0;
    }
    if (!(have & BIT(Z_HISTORY)) && state)
        zeek_state(c, state, state_n);
    /* OTH: no SYN seen, the originator is Zeek's guess */
    c->init_unsure = state && state_n == 3 && memcmp(state, "OTH", 3) == 0 && !(c->oflags & SYN) &&
                     !(c->rflags & SYN);
    if (!(have & BIT(Z_ORIG_IP_BYTES))) /* IP bytes as NetFlow counts them, else payload */
        c->oby = c->opay;
    if (!(have & BIT(Z_RESP_IP_BYTES)))
        c->rby = c->rpay;
    if (c->flags_known && !(have & BIT(Z_HISTORY))) {
        if (c->opay && c->oflags & ACK)
            c->oflags |= PSH;
        if (c->rpay && c->rflags & ACK)
            c->rflags |= PSH;
    }
    /* a side without its packet count (none at all, or a log whose #fields lacks one): one
     * packet when it sent (the originator always did) */
    if (!c->have_opk)
        c->opk = 1;
    if (!c->have_rpk)
        c->rpk = c->rby ? 1 : 0;
    c->have_opk = c->have_rpk = true;
}

static int zeek_tsv_line(struct flowlog_parser *p, const char *s, size_t n, struct flow_rec out[2],
                         bool *skipped)
{
    size_t lead = 0; /* a hand-edited log's header line indented by blanks is still one */
    while (lead < n && tf_is_space(s[lead]))
        lead++;
    if (lead < n && s[lead] == '#') {
        *skipped = true;
        return zeek_header(p, s + lead, n - lead);
    }
    if (!p->header_seen)
        return bad(p, "data before the #fields header");
    if (p->other_path) {
        *skipped = true;
        return 0;
    }
    struct conn c;
    memset(&c, 0, sizeof c);
    uint64_t have = 0;
    const char *state = NULL;
    size_t state_n = 0;
    unsigned col = 0;
    struct tf_fields it = tf_fields(s, n, p->sep);
    const char *v;
    size_t vn;
    while (tf_field_next(&it, &v, &vn)) {
        if (col >= p->ncols)
            return bad(p, "more fields than #fields names (%u)", p->ncols);
        int r = p->col[col];
        if (r != R_NONE) {
            if (r == Z_CONN_STATE && !is_unset(p, v, vn)) {
                state = v;
                state_n = vn;
            } else {
                int zr = zeek_field(p, &c, r, v, vn, &have, is_unset(p, v, vn));
                if (zr < 0)
                    return zr;
                if (zr > 0) {
                    *skipped = true;
                    return 0;
                }
            }
        }
        col++;
    }
    if (col != p->ncols)
        return bad(p, "%u fields, #fields names %u", col, p->ncols);
    zeek_finish(&c, have, state, state_n);
    return conn_records(p, &c, out);
}

/* ---- Zeek JSON lines: one object per line, read with core/json_in.h ---- */

/* Nesting the reader allows (Zeek logs arrays of strings, e.g. tunnel_parents). */
#define ZEEK_JSON_DEPTH 33

/* One line's state while its members come. */
struct zeek_json {
    struct flowlog_parser *p;
    struct conn c;
    uint64_t have;
    char state[16]; /* conn_state (longer ones name no state) */
    size_t state_n;
    bool has_state, path_other, skipped;
};

static int zeek_json_member(void *arg, const char *k, size_t kn, const struct jin_value *v)
{
    struct zeek_json *z = arg;
    if (kn == 5 && memcmp(k, "_path", 5) == 0) {
        z->path_other = !(v->n == 4 && memcmp(v->s, "conn", 4) == 0);
        return 0;
    }
    int r = role_of(k, kn, Z_TS, Z_RESP_IP_BYTES);
    if (r == R_NONE)
        return 0;
    if (v->type == JIN_OTHER) {
        bad(z->p, "%s: not a plain value", role_name[r]);
        return -EINVAL;
    }
    bool unset = v->n == 0 || v->type == JIN_NULL;
    if (r == Z_CONN_STATE) {
        z->has_state = !unset && v->n < sizeof z->state;
        if (z->has_state) {
            memcpy(z->state, v->s, v->n);
            z->state_n = v->n;
        }
        return 0;
    }
    int zr = zeek_field(z->p, &z->c, r, v->s, v->n, &z->have, unset);
    if (zr < 0)
        return -EINVAL;
    if (zr > 0) {
        z->skipped = true;
        return -ECANCELED; /* not a connection we count: the rest does not matter */
    }
    return 0;
}

static int zeek_json_line(struct flowlog_parser *p, const char *s, size_t n, struct flow_rec out[2],
                          bool *skipped)
{
    n = tf_trim(&s, n);
    if (n == 0) {
        *skipped = true;
        return 0;
    }
    if (!p->json && jin_new(ZEEK_JSON_DEPTH, &p->json) < 0)
        return bad(p, "out of memory");
    struct zeek_json z = {.p = p};
    p->err[0] = 0;
    int rc = jin_object(p->json, s, n, zeek_json_member, &z);
    if (z.skipped) {
        *skipped = true;
        return 0;
    }
    if (rc < 0)
        return p->err[0] ? -EINVAL : bad(p, "not a JSON object: %s", jin_error(p->json));
    if (z.path_other) {
        *skipped = true;
        return 0;
    }
    if ((z.have & ZEEK_NEED) != ZEEK_NEED)
        return bad(p, "lacks ts, id.orig_h, id.resp_h or proto");
    zeek_finish(&z.c, z.have, z.has_state ? z.state : NULL, z.state_n);
    return conn_records(p, &z.c, out);
}

/* ---- Argus binetflow CSV ---- */

/* ra -c CHAR picks the field separator: the character after the header's first column name
 * (names are letters and digits: "StartTime,Dur,..." as CTU-13 has it, tabs in Stratosphere's
 * later datasets). */
static char argus_separator(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return s[i];
    return ',';
}

static bool argus_separator_ok(char c)
{
    return c == ',' || c == '\t' || c == ';' || c == '|';
}

static int argus_header(struct flowlog_parser *p, const char *s, size_t n)
{
    p->sep = argus_separator(s, n);
    if (!argus_separator_ok(p->sep))
        return bad(p, "header: field separator '%c' is none of , tab ; | (not a binetflow)",
                   p->sep);
    return map_columns(p, s, n, p->sep, A_STIME, A_DIR, ARGUS_NEED, "header",
                       "lacks StartTime, Proto, SrcAddr or DstAddr (not a binetflow)");
}

static bool argus_port(const char *v, size_t n, uint16_t *out)
{
    uint64_t x;
    if (n == 0) {
        *out = 0;
        return true;
    }
    if (!(tf_uint_max(v, n, 65535, &x) || (tf_hex(v, n, &x) && x <= 65535)))
        return false;
    *out = (uint16_t)x;
    return true;
}

static int argus_line(struct flowlog_parser *p, const char *s, size_t n, struct flow_rec out[2],
                      bool *skipped)
{
    const char *t = s;
    size_t tn = tf_trim(&t, n);
    if (tn == 0 || t[0] == '#') {
        *skipped = true;
        return 0;
    }
    if (!p->header_seen) {
        *skipped = true;
        return argus_header(p, t, tn);
    }
    struct conn c;
    memset(&c, 0, sizeof c);
    uint64_t have = 0, x, totby = 0;
    bool have_srcby = false, have_dstby = false;
    const char *state = NULL;
    size_t state_n = 0;
    unsigned col = 0;
    struct tf_fields it = tf_fields(s, n, p->sep);
    const char *v;
    size_t vn;
    while (tf_field_next(&it, &v, &vn)) {
        if (col >= p->ncols) {
            if (p->ncols && p->col[p->ncols - 1] == R_NONE)
                break; /* a last free-text column (Label) may hold commas */
            return bad(p, "more fields than the header names (%u)", p->ncols);
        }
        vn = tf_trim(&v, vn);
        int r = p->col[col];
        bool ok = true;
        if (r != R_NONE)
            have |= BIT(r);
        switch (r) {
        case A_STIME:
            if (tf_datetime(v, vn, &x))
                c.ts_us = x * 1000;
            else if (!tf_seconds_us(v, vn, &c.ts_us))
                return bad(
                    p, vn >= 8 && vn <= 15 && v[2] == ':'
                           ? "StartTime has no date (run ra with -u, or a date in RA_TIME_FORMAT)"
                           : "StartTime: not a time");
            break;
        case A_DUR:
            ok = vn == 0 || tf_seconds_us(v, vn, &c.dur_us);
            break;
        case A_PROTO:
            if (!tf_proto(v, vn, &c.proto)) {
                static const char *const udp_like[] = {"rtp", "rtcp", "udt"};
                bool udp = false;
                for (size_t k = 0; k < 3; k++)
                    udp |= strlen(udp_like[k]) == vn && strncasecmp(udp_like[k], v, vn) == 0;
                if (!udp) { /* arp, llc, man, ipx/spx...: not an IP transport */
                    *skipped = true;
                    return 0;
                }
                c.proto = 17;
            }
            break;
        case A_SADDR:
            ok = tf_addr(v, vn, c.src);
            break;
        case A_DADDR:
            ok = tf_addr(v, vn, c.dst);
            break;
        case A_SPORT:
            ok = argus_port(v, vn, &c.sport);
            break;
        case A_DPORT:
            ok = argus_port(v, vn, &c.dport);
            break;
        case A_STATE:
            state = v;
            state_n = vn;
            break;
        case A_DIR:
            c.init_unsure = memchr(v, '?', vn) != NULL;
            break;
        case A_TOTPKTS:
            ok = vn == 0 || tf_u64(v, vn, &c.totpk);
            break;
        case A_TOTBYTES:
            ok = vn == 0 || tf_u64(v, vn, &totby);
            break;
        case A_SRCBYTES:
            ok = vn == 0 || tf_u64(v, vn, &c.oby);
            have_srcby = vn > 0;
            break;
        case A_DSTBYTES:
            ok = vn == 0 || tf_u64(v, vn, &c.rby);
            have_dstby = vn > 0;
            break;
        case A_SRCPKTS:
        case A_DSTPKTS:
            ok = vn == 0 || tf_u64(v, vn, &x);
            if (ok && vn) {
                *(r == A_SRCPKTS ? &c.opk : &c.rpk) = x;
                *(r == A_SRCPKTS ? &c.have_opk : &c.have_rpk) = true;
            }
            break;
        default:
            break;
        }
        if (!ok)
            return bad(p, "%s: unreadable value", role_name[r]);
        col++;
    }
    if (col < p->ncols)
        return bad(p, "%u fields, the header names %u", col, p->ncols);
    if ((have & ARGUS_NEED) != ARGUS_NEED)
        return bad(p, "lacks StartTime, Proto, SrcAddr or DstAddr");
    if (!have_srcby)
        c.oby = have_dstby ? (totby > c.rby ? totby - c.rby : 0) : totby;
    if (!have_dstby)
        c.rby = totby > c.oby ? totby - c.oby : 0;
    if (c.have_opk != c.have_rpk) { /* one side given: the other from the total */
        if (c.have_opk)
            c.rpk = c.totpk > c.opk ? c.totpk - c.opk : 0;
        else
            c.opk = c.totpk > c.rpk ? c.totpk - c.rpk : 0;
        c.have_opk = c.have_rpk = true;
    }
    if (c.proto == 1 || c.proto == 58) {
        /* Sport holds the type; Dport the code, except for queries (echo, timestamp, ...),
         * where Argus puts the query's identifier there */
        uint8_t type = (uint8_t)c.sport;
        bool query =
            type == 0 || type == 8 || (type >= 13 && type <= 18) || type == 128 || type == 129;
        c.dport = (uint16_t)(type << 8 | (query || c.dport > 255 ? 0 : c.dport));
        c.sport = 0;
    }
    if (state && c.proto == 6)
        argus_state(&c, state, state_n);
    return conn_records(p, &c, out);
}

/* ---- format detection ---- */

static enum flowlog_fmt sniff_line(const char *s, size_t n)
{
    n = tf_trim(&s, n);
    if ((n >= 10 && memcmp(s, "#separator", 10) == 0) || (n >= 7 && memcmp(s, "#fields", 7) == 0))
        return FLOWLOG_ZEEK_TSV;
    /* a conn record, not another Zeek log's (dns, notice and weird also log id.orig_h, dns and
     * notice proto too; JSON has no #path): one of the fields only conn.log has */
    if (n >= 2 && s[0] == '{' && memmem(s, n, "\"id.orig_h\"", 11) &&
        (memmem(s, n, "\"conn_state\"", 12) || memmem(s, n, "\"history\"", 9) ||
         memmem(s, n, "\"orig_pkts\"", 11)))
        return FLOWLOG_ZEEK_JSON;
    if (memmem(s, n, "StartTime", 9) && memmem(s, n, "SrcAddr", 7) && memmem(s, n, "DstAddr", 7) &&
        argus_separator_ok(argus_separator(s, n)))
        return FLOWLOG_ARGUS;
    return FLOWLOG_AUTO;
}

int flowlog_parse_line(struct flowlog_parser *p, const char *line, size_t len,
                       struct flow_rec out[2], bool *skipped)
{
    bool sk = false;
    if (!skipped)
        skipped = &sk;
    *skipped = false;
    p->err[0] = 0;
    if (len > FLOWLOG_LINE_MAX)
        return bad(p, "line longer than %d bytes", FLOWLOG_LINE_MAX);
    if (len && line[len - 1] == '\r')
        len--;
    if (p->fmt == FLOWLOG_AUTO) {
        const char *t = line;
        if (tf_trim(&t, len) == 0) {
            *skipped = true;
            return 0;
        }
        p->fmt = sniff_line(line, len);
        if (p->fmt == FLOWLOG_AUTO)
            return bad(p, "neither a Zeek conn.log nor an Argus binetflow header");
    }
    switch (p->fmt) {
    case FLOWLOG_ZEEK_TSV:
        return zeek_tsv_line(p, line, len, out, skipped);
    case FLOWLOG_ZEEK_JSON:
        return zeek_json_line(p, line, len, out, skipped);
    case FLOWLOG_ARGUS:
        return argus_line(p, line, len, out, skipped);
    default:
        return bad(p, "no format");
    }
}

/* ---- files ---- */

/* Read one line (without newline) into buf (cap FLOWLOG_LINE_MAX + 1). Returns its length,
 * -ENODATA at the end, -E2BIG when it was longer than FLOWLOG_LINE_MAX (the rest is consumed),
 * -EIO on a read error. */
static long read_line(gzFile g, char *buf)
{
    if (!gzgets(g, buf, FLOWLOG_LINE_MAX + 2)) {
        int e;
        gzerror(g, &e);
        return e == Z_OK ? -ENODATA : -EIO; /* Z_BUF_ERROR: a gzip stream cut short */
    }
    size_t n = strlen(buf); /* a NUL inside the line shortens it: the rest fails to parse */
    if (n && buf[n - 1] == '\n')
        return (long)(n - 1);
    if (n <= FLOWLOG_LINE_MAX)
        return (long)n; /* the last line without a newline (or cut at a NUL byte) */
    char tmp[4096];
    while (gzgets(g, tmp, sizeof tmp)) {
        size_t k = strlen(tmp);
        if (k && tmp[k - 1] == '\n')
            break;
    }
    return -E2BIG;
}

enum flowlog_fmt flowlog_sniff(const char *path)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return FLOWLOG_AUTO;
    char *buf = malloc(FLOWLOG_LINE_MAX + 2);
    enum flowlog_fmt f = FLOWLOG_AUTO;
    for (int i = 0; buf && i < 8; i++) { /* the first non-empty line of the first 8 */
        long n = read_line(g, buf);
        if (n < 0)
            break;
        const char *t = buf;
        if (tf_trim(&t, (size_t)n) == 0)
            continue;
        f = sniff_line(buf, (size_t)n);
        break;
    }
    free(buf);
    gzclose(g);
    return f;
}

int flowlog_first_ms(const char *path, enum flowlog_fmt fmt, uint64_t *ms)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return errno ? -errno : -ENOMEM;
    char *buf = malloc(FLOWLOG_LINE_MAX + 2);
    struct flowlog_parser p;
    flowlog_parser_init(&p, fmt);
    int rc = buf ? -ENODATA : -ENOMEM;
    for (int i = 0; buf && i < 1000 && rc < 0; i++) {
        long n = read_line(g, buf);
        if (n == -ENODATA || n == -EIO)
            break;
        struct flow_rec f[2];
        if (n >= 0 && flowlog_parse_line(&p, buf, (size_t)n, f, NULL) > 0) {
            *ms = f[0].first_ms;
            rc = 0;
        }
    }
    flowlog_parser_fini(&p);
    free(buf);
    gzclose(g);
    return rc;
}

/* min-heap of records by end time */
struct heap_ent {
    struct flow_rec r;
    uint64_t seq; /* arrival order: ties keep it */
};

struct flowlog {
    char *path;
    gzFile g;
    struct flowlog_parser p;
    struct flowlog_stats st;
    char *line;
    struct heap_ent *heap;
    size_t nheap;
    uint64_t seq, max_end;
    bool eof;
    char ioerr[384]; /* a read error, given once the records read before it went out */
};

static bool ent_less(const struct heap_ent *a, const struct heap_ent *b)
{
    return a->r.last_ms != b->r.last_ms ? a->r.last_ms < b->r.last_ms : a->seq < b->seq;
}

static void heap_push(struct flowlog *r, const struct flow_rec *f)
{
    size_t i = r->nheap++;
    r->heap[i] = (struct heap_ent){*f, r->seq++};
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!ent_less(&r->heap[i], &r->heap[up]))
            break;
        struct heap_ent t = r->heap[i];
        r->heap[i] = r->heap[up];
        r->heap[up] = t;
        i = up;
    }
}

static void heap_pop(struct flowlog *r, struct flow_rec *out)
{
    *out = r->heap[0].r;
    r->heap[0] = r->heap[--r->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < r->nheap && ent_less(&r->heap[l], &r->heap[m]))
            m = l;
        if (l + 1 < r->nheap && ent_less(&r->heap[l + 1], &r->heap[m]))
            m = l + 1;
        if (m == i)
            break;
        struct heap_ent t = r->heap[i];
        r->heap[i] = r->heap[m];
        r->heap[m] = t;
        i = m;
    }
}

int flowlog_open(const char *path, enum flowlog_fmt fmt, struct flowlog **out, char *err,
                 size_t errlen)
{
    if (fmt == FLOWLOG_AUTO) {
        fmt = flowlog_sniff(path);
        if (fmt == FLOWLOG_AUTO) {
            FILE *f = fopen(path, "rb");
            if (!f) {
                int e = errno;
                snprintf(err, errlen, "%s: %s", path, strerror(e));
                return -e;
            }
            fclose(f);
            snprintf(err, errlen, "%s:1: neither a Zeek conn.log nor an Argus binetflow", path);
            return -EINVAL;
        }
    }
    struct flowlog *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path)) || !(r->line = malloc(FLOWLOG_LINE_MAX + 2)) ||
        !(r->heap = malloc((FLOWLOG_REORDER + 2) * sizeof *r->heap))) {
        snprintf(err, errlen, "%s: out of memory", path);
        flowlog_close(r);
        return -ENOMEM;
    }
    r->g = gzopen(path, "rb");
    if (!r->g) {
        int e = errno ? errno : ENOMEM;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        flowlog_close(r);
        return -e;
    }
    gzbuffer(r->g, 1u << 17);
    flowlog_parser_init(&r->p, fmt);
    *out = r;
    return 0;
}

static void note_bad(struct flowlog *r, const char *why)
{
    r->st.bad_lines++;
    if (!r->st.first_bad_line) {
        r->st.first_bad_line = r->st.lines;
        snprintf(r->st.first_error, sizeof r->st.first_error, "%s", why);
    }
}

int flowlog_next(struct flowlog *r, struct flow_rec *rec, char *err, size_t errlen)
{
    while (!r->eof && r->nheap < FLOWLOG_REORDER) {
        long n = read_line(r->g, r->line);
        if (n == -ENODATA) {
            r->eof = true;
            break;
        }
        if (n == -EIO) {
            int e;
            snprintf(r->ioerr, sizeof r->ioerr, "%s:%llu: read error: %s", r->path,
                     (unsigned long long)r->st.lines + 1, gzerror(r->g, &e));
            r->eof = true;
            break;
        }
        r->st.lines++;
        if (n == -E2BIG) {
            r->st.too_long++;
            note_bad(r, "line too long");
            continue;
        }
        struct flow_rec f[2];
        bool skipped = false;
        int k = flowlog_parse_line(&r->p, r->line, (size_t)n, f, &skipped);
        if (k < 0) {
            note_bad(r, r->p.err);
            continue;
        }
        if (skipped)
            r->st.skipped++;
        if (k > 0)
            r->st.conns++;
        for (int i = 0; i < k; i++) {
            if (f[i].last_ms < r->max_end)
                r->st.reordered++;
            else
                r->max_end = f[i].last_ms;
            heap_push(r, &f[i]);
        }
    }
    if (r->nheap == 0 && r->ioerr[0]) {
        snprintf(err, errlen, "%s", r->ioerr);
        r->ioerr[0] = 0;
        return -EIO;
    }
    if (r->nheap == 0)
        return 0;
    heap_pop(r, rec);
    r->st.records++;
    return 1;
}

void flowlog_stats(const struct flowlog *r, struct flowlog_stats *out)
{
    *out = r->st;
}

void flowlog_close(struct flowlog *r)
{
    if (!r)
        return;
    if (r->g)
        gzclose(r->g);
    flowlog_parser_fini(&r->p);
    free(r->path);
    free(r->line);
    free(r->heap);
    free(r);
}

/* ---- the flow-log source ---- */

#define C CTR_COUNTER
#define FLOWLOG_ROWS(X)                                                                            \
    X(T, lines, NULL, "log_lines_total", NULL, C, "Lines of Zeek/Argus logs read.")                \
    X(T, conns, NULL, "log_connections_total", NULL, C,                                            \
      "Connections of Zeek/Argus logs turned into records.")                                       \
    X(T, records, NULL, "log_records_total", NULL, C, "Records read from Zeek/Argus logs.")        \
    X(T, bad_lines, NULL, "log_bad_lines_total", NULL, C,                                          \
      "Malformed Zeek/Argus log lines (skipped).")                                                 \
    X(T, too_long, NULL, "log_long_lines_total", NULL, C,                                          \
      "Zeek/Argus log lines longer than the line bound (skipped).")                                \
    X(T, skipped, NULL, "log_skipped_lines_total", NULL, C,                                        \
      "Zeek/Argus log lines that are not IP connections (headers, comments, other protocols).")    \
    X(T, reordered, NULL, "log_reordered_records_total", NULL, C,                                  \
      "Zeek/Argus records put back in end-time order.")
#define T struct flowlog_stats
static const struct ctr_def flowlog_defs[] = {FLOWLOG_ROWS(CTR_ROW)};
#undef T
#undef C

struct flowlog_source {
    struct source base; /* first */
    struct flowlog *r;
    bool ended;
};

static bool fl_src_ready(struct source *s)
{
    (void)s;
    return true; /* a file */
}

/* At the end: bad lines are logged with the first one's file:line and counted in failures. */
static int fl_src_end(struct flowlog_source *fs)
{
    const struct flowlog_stats *st = &fs->r->st;
    fs->ended = true;
    if (fs->base.out.bad_lines)
        fs->base.out.bad_lines(fs->base.out.arg, false, st->bad_lines);
    if (st->bad_lines) {
        log_error("%s:%llu: %s (%llu bad line%s skipped, %llu connections read)", fs->r->path,
                  (unsigned long long)st->first_bad_line, st->first_error,
                  (unsigned long long)st->bad_lines, st->bad_lines == 1 ? "" : "s",
                  (unsigned long long)st->conns);
        fs->base.failures++;
    }
    return SOURCE_EOF;
}

static int fl_src_drain(struct source *s, size_t budget)
{
    struct flowlog_source *fs = (struct flowlog_source *)s;
    if (fs->ended)
        return SOURCE_EOF;
    char err[512];
    struct flow_rec f;
    size_t n = 0;
    while (n < budget) {
        int r = flowlog_next(fs->r, &f, err, sizeof err);
        if (r == 1) {
            s->out.record(s->out.arg, &f);
            n++;
            continue;
        }
        if (r < 0) { /* a read error ends the file (the records before it went out) */
            log_error("%s", err);
            s->failures++;
        }
        if (n)
            return (int)n; /* the end is reported by the next call */
        return fl_src_end(fs);
    }
    return (int)n;
}

static size_t fl_src_counters(struct source *s, size_t table, const struct ctr_def **defs,
                              void *snap)
{
    struct flowlog_source *fs = (struct flowlog_source *)s;
    return source_one_table(table, flowlog_defs, sizeof flowlog_defs / sizeof flowlog_defs[0],
                            &fs->r->st, offsetof(struct flowlog_stats, first_bad_line), defs, snap);
}

static void fl_src_close(struct source *s)
{
    flowlog_close(((struct flowlog_source *)s)->r);
    free(s);
}

static const struct source_ops flowlog_source_ops = {
    .kind = "flowlog",
    .budget = FLOWLOG_SOURCE_BUDGET,
    .ready = fl_src_ready,
    .drain = fl_src_drain,
    .counters = fl_src_counters,
    .close = fl_src_close,
};

int flowlog_source_open(const char *path, enum flowlog_fmt fmt, const struct source_out *out,
                        struct source **src, char *err, size_t errlen)
{
    struct flowlog_source *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    if (flowlog_open(path, fmt, &fs->r, err, errlen) < 0) {
        free(fs);
        return -EIO;
    }
    source_init(&fs->base, &flowlog_source_ops, out, path);
    *src = &fs->base;
    return 0;
}
