/* frag.c: bounded fragment reassembly. See frag.h.
 *
 * Datagrams in progress live in a compact array (swap-remove), scanned linearly: fragments are
 * the rare path and the table is small. Each slot keeps a 64 KiB buffer once allocated, so a
 * steady stream of fragmented datagrams allocates nothing after warm-up. Received data is
 * tracked in 8-byte blocks (the fragment offset unit; only the last fragment may end inside a
 * block, so block granularity is exact). A slot's buffer still holds the previous datagram's
 * bytes: completion therefore requires every block from 0 to the end to be marked, and no
 * fragment may lie past the end, so no byte of a completed datagram comes from anything but a
 * fragment of it. */
#include "frag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"

#define FRAG_MAX_LEN 65535u
#define FRAG_BLOCKS ((FRAG_MAX_LEN + 8) / 8)

struct frag_ent {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t ip_proto; /* IPv4 key part (0 for v6) */
    uint8_t proto;    /* transport protocol, from the first fragment */
    bool v6;
    bool have_last;
    bool have_first;
    uint32_t l4_off;   /* transport header offset in the fragmentable part */
    uint32_t total;    /* fragmentable length once the last fragment is seen */
    uint32_t received; /* bytes stored */
    uint32_t max_end;  /* highest end of a fragment stored */
    uint64_t first_ts;
    uint8_t *buf; /* FRAG_MAX_LEN + 1 bytes, kept with the slot */
    uint8_t seen[(FRAG_BLOCKS + 7) / 8];
};

struct frag_table {
    struct frag_opts o;
    struct frag_ent *ents; /* [0, count) in progress; the rest are free slots */
    uint32_t count;
    struct frag_stats st;
};

int frag_table_new(const struct frag_opts *opts, struct frag_table **out)
{
    struct frag_table *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (!t)
        return -ENOMEM;
    if (opts)
        t->o = *opts;
    if (t->o.max_datagrams == 0)
        t->o.max_datagrams = 256;
    if (t->o.max_bytes == 0)
        t->o.max_bytes = 16u << 20;
    if (t->o.timeout_ns == 0)
        t->o.timeout_ns = 30ull * 1000000000u;
    t->ents = calloc(t->o.max_datagrams, sizeof(*t->ents));
    if (!t->ents) {
        free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

void frag_table_free(struct frag_table *t)
{
    uint32_t i;

    if (!t)
        return;
    for (i = 0; i < t->o.max_datagrams; i++)
        free(t->ents[i].buf);
    free(t->ents);
    free(t);
}

/* Remove entry i, keeping its buffer with the slot it is swapped into. */
static void ent_remove(struct frag_table *t, uint32_t i)
{
    struct frag_ent tmp;
    uint32_t last = t->count - 1;

    t->st.bytes_held -= t->ents[i].received;
    if (i != last) {
        tmp = t->ents[i];
        t->ents[i] = t->ents[last];
        t->ents[last] = tmp;
    }
    t->count--;
}

void frag_expire(struct frag_table *t, uint64_t now_ns)
{
    uint32_t i = t->count;

    while (i-- > 0) {
        uint64_t ts = t->ents[i].first_ts;
        if (now_ns > ts && now_ns - ts > t->o.timeout_ns) {
            t->st.timeouts++;
            ent_remove(t, i);
        }
    }
}

/* Index of the oldest entry other than skip (UINT32_MAX when none). */
static uint32_t oldest(const struct frag_table *t, uint32_t skip)
{
    uint32_t i, best = UINT32_MAX;

    for (i = 0; i < t->count; i++)
        if (i != skip && (best == UINT32_MAX || t->ents[i].first_ts < t->ents[best].first_ts))
            best = i;
    return best;
}

static bool range_seen(const struct frag_ent *e, uint32_t b0, uint32_t b1)
{
    uint32_t b;

    for (b = b0; b <= b1; b++)
        if (e->seen[b >> 3] & (1u << (b & 7)))
            return true;
    return false;
}

static void range_mark(struct frag_ent *e, uint32_t b0, uint32_t b1)
{
    uint32_t b;

    for (b = b0; b <= b1; b++)
        e->seen[b >> 3] |= (uint8_t)(1u << (b & 7));
}

/* Every block of [0, total) marked: the datagram has no hole. */
static bool all_seen(const struct frag_ent *e)
{
    uint32_t nb = (e->total + 7) / 8, full = nb / 8, b;

    for (b = 0; b < full; b++)
        if (e->seen[b] != 0xff)
            return false;
    for (b = full * 8; b < nb; b++)
        if (!(e->seen[b >> 3] & (1u << (b & 7))))
            return false;
    return true;
}

static int drop(struct frag_table *t, uint32_t i, uint64_t *counter)
{
    (*counter)++;
    ent_remove(t, i);
    return -EINVAL;
}

static void fill_out(const struct frag_ent *e, struct frag_datagram *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->src, e->src, 16);
    memcpy(out->dst, e->dst, 16);
    out->v6 = e->v6;
    out->proto = e->proto;
    out->l4 = e->buf + e->l4_off;
    out->l4_len = e->total - e->l4_off;
    if ((e->proto == 17 || e->proto == 6 || e->proto == 132) && out->l4_len >= 4) {
        out->sport = be_get16(out->l4);
        out->dport = be_get16(out->l4 + 2);
    }
    if (e->proto == 17 && out->l4_len >= 8) {
        uint32_t ulen = be_get16(out->l4 + 4);
        out->payload = out->l4 + 8;
        out->payload_len = (ulen >= 8 && ulen <= out->l4_len) ? ulen - 8 : out->l4_len - 8;
    }
}

/* The datagram in progress that fragment pi belongs to (t->count when none). */
static uint32_t ent_find(const struct frag_table *t, const struct pkt_info *pi)
{
    uint8_t ip_proto = pi->v6 || !pi->l3 ? 0 : pi->l3[9];
    uint32_t i;

    for (i = 0; i < t->count; i++) {
        const struct frag_ent *e = &t->ents[i];
        if (e->id == pi->frag_id && e->v6 == pi->v6 && e->ip_proto == ip_proto &&
            memcmp(e->src, pi->src, 16) == 0 && memcmp(e->dst, pi->dst, 16) == 0)
            break;
    }
    return i;
}

void frag_discard(struct frag_table *t, const struct pkt_info *pi)
{
    uint32_t i = ent_find(t, pi);

    if (i < t->count)
        ent_remove(t, i);
}

int frag_input(struct frag_table *t, const struct pkt_info *pi, uint64_t ts_ns,
               struct frag_datagram *out)
{
    uint32_t off, len, end, i;
    uint8_t ip_proto;
    struct frag_ent *e;

    t->st.fragments++;
    frag_expire(t, ts_ns);
    if (!pi->fragment || !pi->frag_data || !pi->l3) {
        t->st.bad++;
        return -EINVAL;
    }
    off = pi->frag_offset;
    len = pi->frag_data_len;
    end = off + len;
    if (pi->frag_data_caplen < len || end > FRAG_MAX_LEN || len == 0 ||
        (pi->more_frags && (len & 7) != 0)) {
        t->st.bad++;
        return -EINVAL;
    }
    ip_proto = pi->v6 ? 0 : pi->l3[9];
    i = ent_find(t, pi);
    if (i == t->count) { /* new datagram */
        if (t->count == t->o.max_datagrams) {
            t->st.evicted++;
            ent_remove(t, oldest(t, UINT32_MAX));
        }
        i = t->count;
        e = &t->ents[i];
        if (!e->buf) {
            e->buf = malloc(FRAG_MAX_LEN + 1);
            if (!e->buf) {
                t->st.bad++;
                return -ENOMEM;
            }
        }
        memcpy(e->src, pi->src, 16);
        memcpy(e->dst, pi->dst, 16);
        e->id = pi->frag_id;
        e->v6 = pi->v6;
        e->ip_proto = ip_proto;
        e->proto = pi->v6 ? pi->proto : ip_proto;
        e->have_last = e->have_first = false;
        e->l4_off = 0;
        e->total = 0;
        e->received = 0;
        e->max_end = 0;
        e->first_ts = ts_ns;
        memset(e->seen, 0, sizeof(e->seen));
        t->count++;
    }
    e = &t->ents[i];
    if (!pi->more_frags) {
        /* the last fragment sets the end: two that disagree, or data already held past it,
           mean the pieces do not make one datagram */
        if ((e->have_last && e->total != end) || e->max_end > end)
            return drop(t, i, &t->st.beyond_end);
        e->total = end;
        e->have_last = true;
    }
    if (e->have_last && end > e->total)
        return drop(t, i, &t->st.beyond_end);
    if (range_seen(e, off / 8, (end - 1) / 8))
        return drop(t, i, &t->st.overlaps);
    while (t->st.bytes_held + len > t->o.max_bytes) {
        uint32_t v = oldest(t, i);
        if (v == UINT32_MAX)
            return drop(t, i, &t->st.evicted);
        t->st.evicted++;
        ent_remove(t, v);
        if (i == t->count) /* our entry was swapped into v's place */
            i = v;
    }
    e = &t->ents[i];
    memcpy(e->buf + off, pi->frag_data, len);
    range_mark(e, off / 8, (end - 1) / 8);
    e->received += len;
    if (end > e->max_end)
        e->max_end = end;
    t->st.bytes_held += len;
    if (off == 0) {
        e->have_first = true;
        e->proto = pi->proto;
        e->l4_off = pi->l4 ? (uint32_t)(pi->l4 - pi->frag_data) : 0;
    }
    /* nothing overlaps and nothing lies past the end, so the count is a fast first test */
    if (!e->have_last || e->received != e->total || !all_seen(e))
        return 0;
    if (e->l4_off > e->total)
        return drop(t, i, &t->st.bad);
    fill_out(e, out);
    t->st.reassembled++;
    ent_remove(t, i); /* the buffer stays intact until the slot is reused */
    return 1;
}

void frag_get_stats(const struct frag_table *t, struct frag_stats *out)
{
    *out = t->st;
    out->in_progress = t->count;
}
