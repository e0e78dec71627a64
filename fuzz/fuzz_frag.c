/* fuzz_frag: IP reassembly (collector/sources/frag.c) against an oracle.
 *
 * The input picks a datagram D (IPv4 or IPv6, UDP, up to 64 KiB), cuts it into pieces at
 * 8-byte boundaries, and delivers the pieces in a permutation it picks, with stray pieces
 * mixed in: duplicates, pieces shifted by 8 bytes, pieces anywhere (past the end too) carrying
 * D's own bytes or different ones, and pieces of a second datagram with the same addresses.
 * Every piece goes through pkt_parse then frag_input, exactly as a capture's would.
 *
 * The oracle is a second, byte-level model of the rules in frag.h (a datagram is dropped on
 * an overlap or on a piece past the end the last piece sets, whichever comes first; it
 * completes when every byte from 0 to its end arrived). After every piece the result and the
 * drop counters must equal the model's; a completed datagram must equal, byte for byte, what
 * the model assembled, and D itself when every piece it took carried D's bytes; when no stray
 * piece is mixed in, D must complete. Before the pieces, both slots of the table are filled
 * with the complement of D (over D's length) by reassembling datagrams of it, so bytes left
 * from an earlier datagram can never pass for D's. Any mismatch aborts.
 *
 * Built with MemorySanitizer (cmake -DTW_FUZZ=ON -DTW_MSAN=ON, target fuzz_frag; scripts/
 * test.sh does), the slots are not filled first: each input gets a new table, so a byte of a
 * completed datagram that no piece wrote is never-written heap memory, which MSan reports as
 * soon as it is used (the UDP length, the comparisons below). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#define FUZZ_MSAN 1
#endif
#endif
#ifndef FUZZ_MSAN
#define FUZZ_MSAN 0
#endif

#include "frag.h"
#include "gen_pcap.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXLEN 65535u
#define MAXPIECES 32
#define MAXOPS 64
#define TS 1000000000ull

/* the model of one datagram in progress */
struct model {
    bool present, have_last, consistent;
    uint32_t total, max_end, covered;
    uint32_t dirty;           /* seen[0, dirty) may hold marks of an earlier attempt */
    uint8_t seen[MAXLEN + 1]; /* per byte */
    uint8_t buf[MAXLEN + 1];
};

struct run {
    struct frag_table *t;
    bool v6;
    uint8_t hdr4[64], hdr6[64];
    uint8_t pkt[MAXLEN + 64];
    struct model m[2]; /* id 0: D, id 1: the other datagram E */
    uint64_t bad, overlaps, beyond_end, completed_d;
};

static struct run R;
static uint8_t D[MAXLEN + 1], E[MAXLEN + 1], scratch[MAXLEN + 1];

struct in {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct in *in, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v <<= 8;
        if (in->n) {
            v |= *in->p++;
            in->n--;
        }
    }
    return v;
}

/* The model's answer for piece [off, off + len) of datagram id with bytes src. */
static int model_input(uint32_t id, uint32_t off, uint32_t len, bool more, const uint8_t *src,
                       bool consistent)
{
    struct model *m = &R.m[id];
    uint32_t end = off + len, i;

    if (len == 0 || end > MAXLEN || (more && (len & 7))) {
        R.bad++;
        return -EINVAL; /* as frag_input */
    }
    if (!m->present) {
        memset(m->seen, 0, m->dirty);
        m->dirty = 0;
        m->present = true;
        m->have_last = false;
        m->total = m->max_end = m->covered = 0;
        m->consistent = true;
    }
    if (!more) {
        if ((m->have_last && m->total != end) || m->max_end > end) {
            R.beyond_end++;
            m->present = false;
            return -EINVAL; /* as frag_input */
        }
        m->have_last = true;
        m->total = end;
    }
    if (m->have_last && end > m->total) {
        R.beyond_end++;
        m->present = false;
        return -EINVAL; /* as frag_input */
    }
    for (i = off; i < end; i++) {
        if (m->seen[i]) {
            R.overlaps++;
            m->present = false;
            return -EINVAL; /* as frag_input */
        }
    }
    memset(m->seen + off, 1, len);
    if (end > m->dirty)
        m->dirty = end;
    m->covered += len;
    memcpy(m->buf + off, src, len);
    m->consistent &= consistent;
    if (end > m->max_end)
        m->max_end = end;
    if (!m->have_last || m->covered < m->total)
        return 0; /* (the scan below is the rule; the count only saves time) */
    for (i = 0; i < m->total; i++)
        if (!m->seen[i])
            return 0;
    m->present = false;
    return 1;
}

/* Deliver one piece to both; abort on any difference. False when it cannot be sent as a
 * fragment (an IPv4 packet holds at most 65515 bytes of it). */
static bool deliver(uint32_t id, uint32_t off, uint32_t len, bool more, const uint8_t *src,
                    bool consistent)
{
    const uint8_t *hdr = R.v6 ? R.hdr6 : R.hdr4;
    struct pkt_info pi;
    struct frag_datagram dg;
    struct frag_stats st;
    int n = gen_ip_fragment_piece(hdr, id, off, more, src, len, R.pkt, sizeof R.pkt);
    if (n < 0)
        return false;
    int rc = pkt_parse(PKT_LINK_RAW, R.pkt, (uint32_t)n, (uint32_t)n, &pi);
    if (!(rc == PKT_OK || rc == PKT_ERR_TRUNCATED_L4 || rc == PKT_ERR_BAD_L4_HEADER) ||
        !pi.fragment)
        return false; /* not a fragment (offset 0, last): the capture path does not reassemble it */
    if (pi.frag_id != id || pi.frag_offset != off || pi.frag_data_len != len ||
        pi.more_frags != more)
        abort(); /* the piece did not parse as built */
    int want = model_input(id, off, len, more, src, consistent);
    int got = frag_input(R.t, &pi, TS, &dg);
    if (got != want)
        abort();
    frag_get_stats(R.t, &st);
    if (st.bad != R.bad || st.overlaps != R.overlaps || st.beyond_end != R.beyond_end ||
        st.evicted || st.timeouts)
        abort();
    if (got != 1)
        return true;
    const struct model *m = &R.m[id];
    if (dg.l4_len != m->total || dg.v6 != R.v6 || dg.proto != 17 ||
        memcmp(dg.l4, m->buf, m->total) != 0)
        abort();
    if (id == 0 && m->consistent) {
        if (memcmp(dg.l4, D, m->total) != 0)
            abort();
        R.completed_d++;
    }
    return true;
}

/* Fill both slot buffers with the complement of D. */
static void poison(uint32_t len)
{
    struct pkt_info pi;
    struct frag_datagram dg;
    uint32_t i, half = ((len / 2 + 7) & ~7u) < 8 ? 8 : ((len / 2 + 7) & ~7u);
    for (i = 0; i < len; i++) /* L > 8, so both pieces hold data */
        scratch[i] = (uint8_t)~D[i];
    for (i = 0; i < 2; i++) { /* both in progress at once: each takes its own slot */
        int n =
            gen_ip_fragment_piece(R.hdr4, 1000 + i, 0, true, scratch, half, R.pkt, sizeof R.pkt);
        int rc = n < 0 ? -1 : pkt_parse(PKT_LINK_RAW, R.pkt, (uint32_t)n, (uint32_t)n, &pi);
        if ((rc != PKT_OK && rc != PKT_ERR_BAD_L4_HEADER && rc != PKT_ERR_TRUNCATED_L4) ||
            frag_input(R.t, &pi, TS, &dg) != 0)
            abort();
    }
    for (i = 0; i < 2; i++) {
        int n = gen_ip_fragment_piece(R.hdr4, 1000 + i, half, false, scratch + half, len - half,
                                      R.pkt, sizeof R.pkt);
        int rc = n < 0 ? -1 : pkt_parse(PKT_LINK_RAW, R.pkt, (uint32_t)n, (uint32_t)n, &pi);
        if (rc != PKT_OK || frag_input(R.t, &pi, TS, &dg) != 1 || dg.l4_len != len)
            abort();
    }
}

static void headers(void)
{
    static bool done;
    struct gen_ip g;
    if (done)
        return;
    memset(&g, 0, sizeof g);
    gen_addr4(g.src, 192, 0, 2, 1);
    gen_addr4(g.dst, 198, 51, 100, 2);
    g.proto = 17;
    if (gen_ip_packet(&g, R.hdr4, sizeof R.hdr4) < 20)
        abort();
    if (gen_addr(g.src, "2001:db8::1") < 0 || gen_addr(g.dst, "2001:db8::2") < 0 ||
        gen_ip_packet(&g, R.hdr6, sizeof R.hdr6) < 40)
        abort();
    done = true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    struct frag_opts fo = {.max_datagrams = 2};
    uint32_t cut[MAXPIECES + 1], order[MAXPIECES], np, i, L;

    if (size < 4)
        return 0;
    headers();
    uint32_t flags = take(&in, 1);
    R.v6 = flags & 1;
    /* fragmentable length: 9 .. 2056, or up to 65535 when flag bit 1 asks for it */
    L = 9 + take(&in, 2) % ((flags & 2) ? MAXLEN - 8 : 2048);
    /* D: a UDP header, then bytes of the input (repeated), or a counter when it has none */
    D[0] = 0x08, D[1] = 0x07, D[2] = 0x12, D[3] = 0x83; /* 2055 -> 4739 */
    D[4] = (uint8_t)(L >> 8), D[5] = (uint8_t)L, D[6] = D[7] = 0;
    for (i = 8; i < L; i++)
        D[i] = size > 16 ? data[16 + (i - 8) % (size - 16)] ^ (uint8_t)(i >> 8) : (uint8_t)i;
    for (i = 0; i < L; i++)
        E[i] = (uint8_t)(D[i] ^ 0x11);
    /* genuine pieces: cut points at multiples of 8 strictly inside (0, L) */
    np = 1 + take(&in, 1) % MAXPIECES;
    uint32_t ncut = 0;
    for (i = 0; i + 1 < np; i++) {
        uint32_t c = 8 * (1 + take(&in, 2) % ((L - 1) / 8));
        if (c < L)
            cut[ncut++] = c;
    }
    qsort(cut, ncut, sizeof cut[0], cmp_u32);
    uint32_t k = 0;
    for (i = 0; i < ncut; i++) /* dedupe */
        if (k == 0 || cut[k - 1] != cut[i])
            cut[k++] = cut[i];
    ncut = k;
    np = ncut + 1;
    if (np < 2)
        return 0; /* one piece at offset 0 with no more-fragments flag is not a fragment */
    uint32_t start[MAXPIECES], len[MAXPIECES];
    for (i = 0; i < np; i++) {
        start[i] = i ? cut[i - 1] : 0;
        len[i] = (i < ncut ? cut[i] : L) - start[i];
        order[i] = i;
    }
    for (i = np - 1; i > 0; i--) { /* Fisher-Yates from the input */
        uint32_t j = take(&in, 1) % (i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }

    for (i = 0; i < 2; i++) {
        memset(R.m[i].seen, 0, R.m[i].dirty);
        R.m[i].dirty = 0;
        R.m[i].present = false;
    }
    R.bad = R.overlaps = R.beyond_end = R.completed_d = 0;
    if (frag_table_new(&fo, &R.t) < 0)
        return 0;
    if (!FUZZ_MSAN) /* the poison datagrams complete: they count in no drop counter */
        poison(L);

    uint32_t next = 0, strays = 0, lost = 0;
    for (uint32_t op = 0; op < MAXOPS && in.n; op++) {
        uint32_t sel = take(&in, 1);
        uint32_t j = take(&in, 1) % np;
        switch (sel % 8) {
        case 0:
        case 1:
        case 2: /* the next genuine piece */
            if (next < np) {
                uint32_t g = order[next++];
                lost += !deliver(0, start[g], len[g], g + 1 < np, D + start[g], true);
            }
            break;
        case 3: /* a duplicate */
            strays++;
            deliver(0, start[j], len[j], j + 1 < np, D + start[j], true);
            break;
        case 4: { /* shifted by 8 either way, D's bytes where it lands */
            uint32_t o = (sel & 0x80) ? start[j] + 8 : (start[j] >= 8 ? start[j] - 8 : 8);
            uint32_t n = len[j];
            strays++;
            if (o + n <= L)
                deliver(0, o, n, j + 1 < np || o + n < L, D + o, true);
            else
                deliver(0, o, n, true, scratch, false);
            break;
        }
        case 5:
        case 6: { /* anywhere, up to 64 bytes past the end; D's bytes or others */
            uint32_t o = 8 * (take(&in, 2) % ((L + 64) / 8 + 1));
            uint32_t n = 1 + take(&in, 2) % 4096;
            bool more = sel & 0x40;
            bool same = (sel % 8) == 5 && o + n <= L;
            if (o > 0xfff8)
                break;
            strays++;
            if (same) {
                deliver(0, o, n, more, D + o, true);
            } else {
                for (i = 0; i < n; i++)
                    scratch[i] = (uint8_t)((o + i < L ? D[o + i] : 0) ^ 0x5a);
                deliver(0, o, n, more, scratch, false);
            }
            break;
        }
        default: /* a piece of the other datagram E (same addresses, id 1) */
            deliver(1, start[j], len[j], j + 1 < np, E + start[j], true);
            break;
        }
    }
    while (next < np) {
        uint32_t g = order[next++];
        lost += !deliver(0, start[g], len[g], g + 1 < np, D + start[g], true);
    }
    bool clean = strays == 0 && lost == 0 && R.bad == 0;
    /* only genuine pieces, each once: D must have come out whole */
    if (clean && R.completed_d != 1)
        abort();
    frag_table_free(R.t);
    R.t = NULL;
    return 0;
}
