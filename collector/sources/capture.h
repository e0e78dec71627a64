/* capture.h: read packets from capture files (pcap, pcapng, gzip-compressed or not) and
 * from live interfaces, through libpcap; and both as sources (source.h).
 *
 * One struct capture is used by one thread at a time (the main loop's). Packet data
 * returned by capture_next() is borrowed and valid until the next capture_next() or
 * capture_close() on the same capture. Timestamps are always nanoseconds (files written with
 * microsecond precision are scaled by libpcap).
 * Malformed input never crashes or hangs: open fails with a clear message in err, and a bad
 * record (truncated file, bogus lengths) ends iteration with a negative return and a message
 * in capture_error(), after every good packet before it was delivered.
 */
#ifndef TW_CAPTURE_H
#define TW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;
struct ctr_def;
struct source;
struct source_out;

struct capture_pkt {
    uint64_t ts_ns;      /* Unix time, nanoseconds */
    int linktype;        /* DLT_* value (pass to pkt_parse) */
    const uint8_t *data; /* borrowed; caplen bytes */
    uint32_t caplen;     /* bytes captured */
    uint32_t wirelen;    /* bytes on the wire */
};

enum capture_rc {
    CAPTURE_PACKET = 1, /* capture_next: a packet in *pkt */
    CAPTURE_END = 0,    /* end of file (file captures) */
    CAPTURE_IDLE = 2,   /* live: nothing available now; poll capture_fd() */
    CAPTURE_ERROR = -1, /* read error or malformed record: see capture_error() */
};

struct capture_stats {
    uint64_t packets;      /* packets delivered */
    uint64_t bytes;        /* sum of wirelen of delivered packets */
    uint64_t errors;       /* read errors / malformed records (iteration stops at the first) */
    uint64_t kernel_drops; /* live: ps_drop from pcap_stats (buffer overflow) */
    uint64_t if_drops;     /* live: ps_ifdrop */
};

/* Open a capture file: pcap (either byte order, micro or nano), pcapng, each optionally
 * gzip-compressed (detected by its magic). path "-" reads stdin (not seekable: no size).
 * Returns 0 or a negative errno with a message naming the file in err (missing file: the
 * open's errno; a directory: -EISDIR; empty file or not a capture: -EINVAL; unsupported link
 * type: -EPROTONOSUPPORT; -ENOMEM). *out: caller closes. */
int capture_open_file(const char *path, struct capture **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The same from memory (fuzzing, tests). data is borrowed and must outlive the capture.
 * Returns 0 or a negative errno as capture_open_file. */
int capture_open_mem(const void *data, size_t len, struct capture **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Open a live interface. bpf may be NULL or "" (no filter). snaplen <= 0: 262144.
 * buffer_mb <= 0: libpcap's default. Non-blocking: capture_next returns CAPTURE_IDLE
 * when nothing is queued. Needs CAP_NET_RAW; err says so when it is missing. Returns 0 or a
 * negative errno with err (-EPERM, -ENODEV, -ENETDOWN, -EPROTONOSUPPORT, -ENOMEM, -EINVAL). */
int capture_open_live(const char *ifname, const char *bpf, int snaplen, bool promisc, int buffer_mb,
                      struct capture **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Next packet: CAPTURE_PACKET, CAPTURE_END, CAPTURE_IDLE (live) or CAPTURE_ERROR.
 * After CAPTURE_END or CAPTURE_ERROR every further call returns the same. */
int capture_next(struct capture *c, struct capture_pkt *pkt);

/* Message of the last error ("" when none). Borrowed, valid until capture_close. */
const char *capture_error(const struct capture *c);

int capture_linktype(const struct capture *c);
/* Bytes consumed from the file (compressed bytes for gzip), for a progress bar. */
uint64_t capture_bytes_read(const struct capture *c);
/* Size of the file on disk; 0 when unknown (stdin, memory, live). */
uint64_t capture_file_size(const struct capture *c);
/* Live: a poll()able fd; -1 for files. */
int capture_fd(const struct capture *c);
/* Counters; for live captures also asks libpcap for kernel drops. */
void capture_stats(struct capture *c, struct capture_stats *out);

void capture_close(struct capture *c);

/* Timestamp of the first packet of a capture file. Returns 1 with *ts_ns set, 0 when the
 * file has no packets, a negative errno with err on error (capture_open_file's, or -EIO). */
int capture_first_ts(const char *path, uint64_t *ts_ns, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Order paths[] (borrowed strings, reordered in place) by first packet time; files without
 * packets go last; ties keep their given order. Returns 0, or a negative errno with err naming the first
 * file that could not be read (paths untouched then). */
int capture_sort_by_time(const char **paths, size_t n, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* ---- capture sources (source.h): packets to out->packet ---- */

#define CAPTURE_LIVE_BUDGET 4096 /* packets per drain */
#define CAPTURE_FILE_BUDGET 1024

/* A live interface as a source (fd: libpcap's selectable fd, also drained after every wait).
 * name: its [capture NAME] (the label capture="NAME" of its counters). max_packets: ends after
 * that many (0: never). Ends on a read error (logged, counted in failures). 0 or -errno with
 * err; out borrowed. */
int capture_source_open_live(const char *name, const char *ifname, const char *bpf, int snaplen,
                             bool promisc, int buffer_mb, uint64_t max_packets,
                             const struct source_out *out, struct source **src, char *err,
                             size_t errlen) __attribute__((warn_unused_result));
/* A capture file (or "-", stdin) as a source: always ready, ends at the end of the file or at
 * the first bad record (logged, counted in failures). 0 or -errno with err. */
int capture_source_open_file(const char *path, const struct source_out *out, struct source **src,
                             char *err, size_t errlen) __attribute__((warn_unused_result));
/* The capture behind a capture source (its counters, the bytes read for a progress bar). */
struct capture *capture_source_capture(struct source *s);
/* The table describing struct capture_stats (/metrics: transitwatch_capture_*). */
const struct ctr_def *capture_counter_defs(size_t *n);

#endif
