/* frag.h: bounded IPv4/IPv6 fragment reassembly for export datagrams found in captures.
 *
 * Big IPFIX/v9 messages are often IP-fragmented on the way to the collector; a capture of them
 * holds the fragments. The capture replay (one thread) feeds every pkt_parse() result with
 * info.fragment set; when the last piece arrives it gets the whole transport segment back.
 * Time comes only from packet timestamps, so a replay is deterministic.
 * Bounded: at most max_datagrams in progress and max_bytes of fragment data held; when full the
 * oldest datagram is evicted (counted). Which 8-byte blocks arrived is tracked per datagram:
 * a fragment overlapping one already held drops its datagram (RFC 5722 for IPv6; the BSD and
 * Linux stacks do the same for IPv4), and so does a fragment lying past the end that the last
 * fragment sets, whichever of the two arrives first. A datagram completes only when every
 * byte from 0 to its end arrived, so a reassembled datagram never holds a byte that no
 * fragment carried.
 */
#ifndef TW_FRAG_H
#define TW_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

struct frag_table;

struct frag_opts {
    uint32_t max_datagrams; /* datagrams in progress (0: 256) */
    uint64_t max_bytes;     /* fragment data held in all (0: 16 MiB) */
    uint64_t timeout_ns;    /* a datagram not complete by then is dropped (0: 30 s) */
};

struct frag_stats {
    uint64_t fragments;   /* fragments fed */
    uint64_t reassembled; /* datagrams completed */
    uint64_t timeouts;    /* datagrams dropped incomplete after timeout_ns */
    uint64_t evicted;     /* datagrams dropped to make room (table or byte bound) */
    uint64_t overlaps;    /* datagrams dropped for overlapping fragments (duplicates too) */
    uint64_t beyond_end;  /* datagrams dropped for a fragment past the end the last fragment
                             sets (either order), or two last fragments with different ends */
    uint64_t bad;         /* fragments malformed (size, past 64 KiB, truncated capture) */
    uint32_t in_progress; /* datagrams currently held */
    uint64_t bytes_held;
};

/* A completed datagram. Pointers borrow the table's buffer: valid until the next frag_input. */
struct frag_datagram {
    uint8_t src[16], dst[16]; /* IPv4-mapped like pkt_info */
    bool v6;
    uint8_t proto;     /* IPv4 protocol / IPv6 next header after the fragment header */
    const uint8_t *l4; /* the reassembled fragmentable part (transport header first) */
    uint32_t l4_len;
    uint16_t sport, dport;  /* UDP/TCP ports when the segment has them */
    const uint8_t *payload; /* UDP: data after the 8-byte header (bounded by its length) */
    uint32_t payload_len;
};

/* opts may be NULL (defaults). *out: caller frees with frag_table_free. 0 or -ENOMEM. */
int frag_table_new(const struct frag_opts *opts, struct frag_table **out)
    __attribute__((warn_unused_result));
void frag_table_free(struct frag_table *t);

/* Feed one fragment (pi from pkt_parse with pi->fragment; pi's pointers borrowed for the call).
 * Returns 1 with *out filled when its datagram is complete, 0 when held, -EINVAL when the
 * fragment or its datagram was dropped (counted in the stats), -ENOMEM (counted as bad). */
int frag_input(struct frag_table *t, const struct pkt_info *pi, uint64_t ts_ns,
               struct frag_datagram *out);

/* Forget the datagram pi (a fragment of it) belongs to, uncounted: its first fragment showed
 * it is none the caller reassembles, and the pieces held before it need no timeout. */
void frag_discard(struct frag_table *t, const struct pkt_info *pi);

/* Drop datagrams older than now_ns - timeout (also done inside frag_input). */
void frag_expire(struct frag_table *t, uint64_t now_ns);

void frag_get_stats(const struct frag_table *t, struct frag_stats *out);

#endif
