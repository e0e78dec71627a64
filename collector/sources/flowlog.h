/* flowlog.h: connection logs of other tools as flow records, read like nfcapd archives:
 * Zeek conn.log (TSV with its #fields header, or JSON lines) and Argus binetflow CSV (the
 * CTU-13 layout: StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,
 * TotBytes,SrcBytes,Label, or any ra -c , column set with that header). Plain or gzip files.
 *
 * Caller: the replay's files source (files.c) on the main thread, through the flow-log source
 * (source.h) or the reader (open / next / stats / close); the line parser is pure and
 * hostile-input safe (fuzz/fuzz_flowlog_*.c): every field is checked, lines are bounded
 * (FLOWLOG_LINE_MAX), a bad line is counted and skipped (the first few are described, with
 * file:line, in flowlog_stats.first_error). Fields through the text toolkit (core/textfield.h),
 * Zeek JSON through the JSON reader (core/json_in.h).
 *
 * How a connection becomes records (both tools log bidirectional connections, our records are
 * one direction each, as NetFlow v5/v9 exports them):
 * - One record per direction that carried packets: the originator's (source = originator,
 *   Zeek id.orig_h:orig_p, Argus SrcAddr:Sport) and the responder's (ends and ports swapped).
 *   A connection with no packet either way (Zeek can log such) gives the originator's record.
 * - The originator's record is marked FLOW_F_INIT_SRC, the responder's FLOW_F_INIT_DST (core/
 *   initiator.h), except when the tool was unsure: Zeek OTH without a SYN either way, an Argus
 *   Dir with '?'.
 * - Times: both records start at the connection start (ts / StartTime) and end at start +
 *   duration (neither tool says when the answer began). Fractions of a second are kept (ms).
 * - Bytes are IP bytes where the log has them (Zeek orig_ip_bytes/resp_ip_bytes, as NetFlow
 *   counts), else payload bytes (orig_bytes/resp_bytes). Argus: SrcBytes and TotBytes - SrcBytes;
 *   packets SrcPkts/DstPkts when present, else TotPkts split in the proportion of the bytes
 *   (each side that has bytes gets at least one): the CTU-13 files give only the total. Zeek
 *   orig_pkts/resp_pkts; a side whose count the log lacks gets one packet when it sent (the
 *   originator always).
 * - TCP flags per direction, so that a SYN without answer (Zeek S0, REJ; Argus S_ / S_RA) and an
 *   answered connection stay apart:
 *   Zeek: from `history` when present (originator upper case, responder lower case: S SYN, H
 *   SYN+ACK, A ACK, D data = ACK+PSH, F FIN+ACK, R RST; other letters add nothing), else from
 *   conn_state: S0 orig SYN; REJ orig SYN, resp RST+ACK; RSTOS0 orig SYN+RST; SH orig SYN+FIN;
 *   RSTRH resp SYN+ACK+RST; SHR resp SYN+ACK+FIN; S1 both SYN+ACK; SF both SYN+ACK+FIN; S2 orig
 *   +FIN; S3 resp +FIN; RSTO orig +RST; RSTR resp +RST; OTH both ACK; PSH added to a side that
 *   sent payload.
 *   Argus: the State column "src_dst" of flag letters (ra -Z b, as in CTU-13: F S R P A U E C,
 *   e.g. S_RA, FSPA_FSPA); textual TCP states give REQ/INT orig SYN, ACC orig SYN resp SYN+ACK,
 *   CON/EST both SYN+ACK, CLO/FIN both SYN+ACK+FIN, RST orig SYN resp RST+ACK.
 * - ICMP: dport = type << 8 | code (Zeek orig_p = type, resp_p = code; Argus Sport = type and
 *   Dport = code, in hex 0x.. or decimal), sport 0; the responder's record of an echo, timestamp,
 *   information or address-mask request carries the reply type (8->0, 13->14, 15->16, 17->18,
 *   ICMPv6 128->129).
 * - Skipped (counted in skipped, not errors): non-IP rows (Argus arp, llc, ...), Zeek lines of
 *   another log (#path not conn), comments and header lines.
 * - Argus times without a zone ("2011/08/10 09:46:53.047277", as CTU-13 has them) are taken as
 *   UTC; ra -u epoch seconds work too. sampling = 1, exporter = 0, AS numbers 0.
 * - Order: both tools write a connection when it ends or by its start, so the reader hands
 *   records out by end time through a bounded reorder heap (FLOWLOG_REORDER records): the
 *   pipeline closes windows on end times and would take earlier ends as late.
 */
#ifndef TW_FLOWLOG_H
#define TW_FLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define FLOWLOG_LINE_MAX 16384
#define FLOWLOG_MAX_COLS 64
#define FLOWLOG_REORDER 65536

enum flowlog_fmt {
    FLOWLOG_AUTO = 0,
    FLOWLOG_ZEEK_TSV,  /* Zeek conn.log, ASCII writer (#separator, #fields, tab-separated) */
    FLOWLOG_ZEEK_JSON, /* Zeek conn.log, JSON writer (one object per line) */
    FLOWLOG_ARGUS,     /* Argus binetflow (ra -c , or tab, ; or |, with its header line) */
};

/* "auto", "zeek", "zeek-json", "argus" -> fmt; 0 or -EINVAL. */
int flowlog_fmt_parse(const char *s, enum flowlog_fmt *out);
const char *flowlog_fmt_name(enum flowlog_fmt f);

struct flowlog_stats {
    uint64_t lines;          /* lines read */
    uint64_t conns;          /* connections (log rows) turned into records */
    uint64_t records;        /* records handed out */
    uint64_t bad_lines;      /* malformed rows (skipped) */
    uint64_t too_long;       /* lines longer than FLOWLOG_LINE_MAX (skipped, also in bad_lines) */
    uint64_t skipped;        /* well-formed rows that are not IP connections, headers, comments */
    uint64_t reordered;      /* records that came after one ending later (put back in order) */
    uint64_t first_bad_line; /* line number of the first bad line (0 = none) */
    char first_error[160];   /* what was wrong with it */
};

struct jin;

/* Line parser state. Zeek JSON: it allocates a JSON reader at the first line (core/json_in.h);
 * flowlog_parser_fini frees it. */
struct flowlog_parser {
    enum flowlog_fmt fmt;
    bool header_seen; /* TSV: #fields read; Argus: header read */
    bool other_path;  /* TSV: #path is not conn: rows are skipped */
    char sep;         /* TSV separator (tab unless #separator says otherwise) */
    char unset[16];   /* TSV #unset_field (default "-") */
    uint8_t ncols;
    int8_t col[FLOWLOG_MAX_COLS]; /* role of each column */
    char err[128];                /* why the last line was rejected */
    struct jin *json;             /* Zeek JSON: the reader */
};

void flowlog_parser_init(struct flowlog_parser *p, enum flowlog_fmt fmt);
void flowlog_parser_fini(struct flowlog_parser *p);
/* One line without its newline (need not be NUL-terminated; len <= FLOWLOG_LINE_MAX). Fills
 * out[0..n) and returns n (0, 1 or 2 records), or -EINVAL when the line is malformed (p->err says
 * why). Skipped lines return 0 with *skipped set (may be NULL). With FLOWLOG_AUTO the format is
 * taken from the first line that is not empty. */
int flowlog_parse_line(struct flowlog_parser *p, const char *line, size_t len,
                       struct flow_rec out[2], bool *skipped);
/* Format of a file from its first non-empty line (plain or gzip): a Zeek TSV header
 * (#separator / #fields), a JSON object with "id.orig_h" and one of conn.log's own fields
 * ("conn_state", "history", "orig_pkts"), or a CSV header naming StartTime,
 * SrcAddr and DstAddr. Returns the format, or FLOWLOG_AUTO when it is none of them. */
enum flowlog_fmt flowlog_sniff(const char *path);

/* Start time of the first connection in the first 1000 lines: 0, or a negative errno
 * (-ENODATA: none; the open's errno: unreadable; -ENOMEM). */
int flowlog_first_ms(const char *path, enum flowlog_fmt fmt, uint64_t *ms);

struct flowlog;
/* Open path (fmt FLOWLOG_AUTO: sniffed). Returns 0, or a negative errno with err
 * (the open's, -EINVAL: not a known format, -ENOMEM). */
int flowlog_open(const char *path, enum flowlog_fmt fmt, struct flowlog **out, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* Next record in end-time order: 1 (rec set), 0 at the end, -EIO on a read error (err; once
 * the records read before it were given). */
int flowlog_next(struct flowlog *r, struct flow_rec *rec, char *err, size_t errlen);
void flowlog_stats(const struct flowlog *r, struct flowlog_stats *out);
void flowlog_close(struct flowlog *r);

/* ---- the flow-log source (source.h): records to out->record ---- */

#define FLOWLOG_SOURCE_BUDGET 1024 /* records per drain */
struct source;
struct source_out;
/* A log as a source (always ready: a file). At the end its bad lines are logged with the first
 * one's file:line and counted in failures; a read error ends it (logged, counted). 0 or -errno
 * with err. */
int flowlog_source_open(const char *path, enum flowlog_fmt fmt, const struct source_out *out,
                        struct source **src, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
