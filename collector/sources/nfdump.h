/* nfdump.h: nfcapd archives (the files NOCs keep for months) into flow records, read through
 * nfdump's own `nfdump -r FILE -o json|csv` in a child process (posix_spawn, a pipe, no shell,
 * TZ=UTC so its local-time stamps are UTC).
 *
 * Caller: the replay's files source (files.c), on the main thread. The line parser is pure and
 * hostile-input safe (nfdump's output is treated like wire input): every field is checked,
 * lines are bounded (NFDUMP_LINE_MAX) and so are objects (NFDUMP_OBJ_MAX), errors are counted,
 * never logged per line. JSON is nfdump 1.7's pretty-printed array of objects, read with the
 * JSON reader (core/json_in.h) as its lines arrive; CSV is split with the text toolkit
 * (core/textfield.h). JSON keeps milliseconds, CSV only whole seconds, hence JSON is the default.
 * Records: addresses, ports (ICMP: dport = type << 8 | code, as nfdump prints it in CSV),
 * protocol, TCP flags, in_packets/in_bytes (nfdump has already applied any sampling: sampling is
 * set to 1), first/last, src/dst AS. What neither format gives (exporter identity as our decoders
 * number it) stays 0.
 */
#ifndef TW_NFDUMP_H
#define TW_NFDUMP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define NFDUMP_LINE_MAX 8192
#define NFDUMP_CSV_COLS 64

enum nfdump_fmt { NFDUMP_FMT_JSON = 0, NFDUMP_FMT_CSV = 1 };

struct nfdump_stats {
    uint64_t lines;    /* lines read */
    uint64_t records;  /* flow records produced */
    uint64_t errors;   /* malformed lines / records (skipped) */
    uint64_t too_long; /* lines longer than NFDUMP_LINE_MAX (skipped) */
    uint64_t skipped;  /* well-formed records that are not flows (other record types) */
};

#define NFDUMP_OBJ_MAX 65536 /* JSON: bytes of one record object; a larger one is malformed */

struct jin;

/* Line parser state (JSON: it owns a JSON reader; nfdump_parser_fini frees it). */
struct nfdump_parser {
    enum nfdump_fmt fmt;
    struct flow_rec cur; /* the record being built */
    bool is_flow, rec_bad;
    unsigned have; /* fields seen (bits) */
    uint8_t icmp_type, icmp_code;
    /* JSON */
    struct jin *json;
    char *obj; /* the object's lines not yet handed to the reader */
    size_t obj_len;
    size_t obj_bytes; /* of the object being read */
    bool resync;      /* an object was dropped: skip its lines up to the next '{' */
    /* CSV: column role by index, from the header line */
    int8_t col[NFDUMP_CSV_COLS];
    unsigned ncols;
    bool header_seen, done;
};

/* 0 or -ENOMEM. */
int nfdump_parser_init(struct nfdump_parser *p, enum nfdump_fmt fmt)
    __attribute__((warn_unused_result));
void nfdump_parser_fini(struct nfdump_parser *p);
/* A line too long to hand over was skipped: the JSON record it belonged to is dropped. */
void nfdump_parser_skip_line(struct nfdump_parser *p);
/* One output line without its newline (need not be NUL-terminated; len <= NFDUMP_LINE_MAX).
 * Returns 1 with *out set when a record is complete, 0 when not (yet), -EINVAL when the line or
 * the record it ends is malformed, -E2BIG when the line or its JSON object is too long (the
 * record is dropped). */
int nfdump_parse_line(struct nfdump_parser *p, const char *line, size_t len, struct flow_rec *out);

/* Is path an nfcapd file (magic 0xA50C, layout version 1 or 2)? */
bool nfdump_is_archive(const char *path);
/* Time of an nfcapd file from its name (nfcapd.YYYYMMDDhhmm[ss]), ms since the epoch.
 * Returns 0 or -EINVAL when the name has no time. */
int nfdump_name_time(const char *path, uint64_t *ms);

/* The reader: runs `BIN -r path -o json|csv` (bin NULL: "nfdump" from PATH) and hands out its
 * records one at a time. 0, or -errno with err (cannot start nfdump). */
struct nfdump_reader;
int nfdump_open(const char *path, enum nfdump_fmt fmt, const char *bin, struct nfdump_reader **out,
                char *err, size_t errlen) __attribute__((warn_unused_result));
/* The next record: 1 (*f set), 0 at the end of nfdump's output. May block on the pipe. */
int nfdump_next(struct nfdump_reader *r, struct flow_rec *f);
/* nfdump's stdout (readable when output waits). */
int nfdump_fd(const struct nfdump_reader *r);
void nfdump_reader_stats(const struct nfdump_reader *r, struct nfdump_stats *out);
/* Wait for nfdump (stopped first when its output was not read to the end: then 0). Returns 0,
 * or -EIO with err (may be NULL) saying how nfdump failed (exit status, signal). */
int nfdump_close(struct nfdump_reader *r, char *err, size_t errlen);

/* ---- the nfcapd source (source.h): records to out->record ---- */

#define NFDUMP_SOURCE_BUDGET 1024 /* records per drain */
struct source;
struct source_out;
/* An archive as a source (fd: nfdump's stdout). At the end nfdump's failure and the lines that
 * could not be read are logged and counted in failures. 0 or -errno with err. */
int nfdump_source_open(const char *path, enum nfdump_fmt fmt, const char *bin,
                       const struct source_out *out, struct source **src, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
