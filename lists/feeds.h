/* feeds.h: blocklist feeds (Spamhaus DROP, abuse.ch Feodo Tracker, plain prefix lists) loaded
 * into frozen longest-prefix-match tables. Part of lists/, the operator's lists (core <- lists
 * <- detectors, exporters <- collector): the blocklist detector matches against feeds, the
 * collector loads them.
 *
 * Threads: feeds are loaded on the main thread (start, --check-config, reload); a loaded feed
 * and a feed_set are immutable, so any number of workers may match against them without
 * locks. A reload loads a new feed_set and swaps the pointer; the old set is freed by the
 * caller once no worker uses it.
 *
 * Formats (FEED_AUTO picks one from the first decisive line of the file):
 *   FEED_DROP           Spamhaus DROP/EDROP/DROPv6 text: "; comment" lines (the header's
 *                       "; Last-Modified:" and "; Expires:" RFC 1123 dates are parsed),
 *                       data "CIDR ; SBLnnnn" (the "; SBL..." part is optional).
 *   FEED_SPAMHAUS_JSON  one JSON object per line (read with core/json_in.h; nesting up to 16
 *                       levels inside it is skipped): {"cidr":"1.10.16.0/20","sblid":"SBL1",
 *                       "rir":"apnic"}, last line {"type":"metadata","timestamp":N,
 *                       "records":N,...}. timestamp -> last_modified_unix.
 *   FEED_PLAIN          one address or prefix per line, '#' comments (also after the entry);
 *                       "# Last updated: YYYY-MM-DD HH:MM:SS UTC" -> last_modified_unix.
 *   FEED_FEODO_CSV      abuse.ch ipblocklist.csv: '#' banner, header (commented or not)
 *                       "first_seen_utc","dst_ip","dst_port","c2_status","last_online",
 *                       "malware" naming the columns (default order without it); keeps port
 *                       and malware.
 * Detection: first line starting with ';' -> DROP, '{' -> JSON, '"' -> CSV, a data line with
 * ';' -> DROP, with ',' -> CSV, otherwise PLAIN; a '#' line naming "dst_ip" -> CSV.
 *
 * Line rules (all formats): lines are trimmed, CRLF accepted, a UTF-8 BOM skipped, a line
 * starting with '#' (or ';', except in CSV) is a comment. A bad data
 * line is skipped and counted, never fatal: malformed (bad syntax, NUL byte, line over 4 KiB,
 * invalid address, bad port), host_bits (e.g. 1.2.3.4/24: REJECTED, not fixed: a list with such
 * entries is damaged and guessing the intended network could block the wrong one), too_wide
 * (IPv4 shorter than /8, IPv6 shorter than /16, or an IPv6 prefix covering the IPv4-mapped
 * range: corruption, it would match a large part of the Internet). The first
 * FEED_BAD_LINES_KEPT bad line numbers and the first reason are kept for the warning.
 * Exact duplicates (same prefix and port) are merged (first line wins, counted). The same
 * prefix with different ports (Feodo CSV) is kept once per port.
 * The load fails (conf_error "file:line: msg") when: the file cannot be read or is empty
 * (zero bytes or only whitespace: a failed download); there were data lines but none valid;
 * a DROP or JSON file has no entry at all (those lists are never empty); the valid entries
 * exceed max_entries (counted before duplicates are merged; 0 = 1M). A PLAIN or FEODO_CSV
 * file with only comments is a valid empty list (Feodo's "recommended" list is often empty).
 */
#ifndef TW_FEEDS_H
#define TW_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

#define FEED_NAME_MAX 31 /* [A-Za-z0-9._-], used in alerts */
#define FEED_SET_MAX 32
#define FEED_MAX_LINE 4096 /* longer lines are malformed */
#define FEED_MAX_FILE (64u << 20)
#define FEED_BAD_LINES_KEPT 4

enum feed_format { FEED_AUTO, FEED_DROP, FEED_SPAMHAUS_JSON, FEED_PLAIN, FEED_FEODO_CSV };

struct feed_entry {
    struct prefix p;
    char listing[24]; /* SBL id or "" ([A-Za-z0-9._:-] only) */
    char malware[24]; /* Feodo malware family or "" (printable ASCII only) */
    uint16_t port;    /* Feodo dst_port; 0 = any */
    uint32_t line;    /* source line, for evidence */
};

struct feed; /* opaque, immutable after load */

struct feed_stats {
    size_t entries;          /* kept after merging duplicates */
    size_t lines;            /* lines read */
    size_t malformed;        /* lines skipped, not counting host_bits and too_wide */
    size_t host_bits;        /* skipped: host bits set */
    size_t too_wide;         /* skipped: prefix too wide */
    size_t duplicates;       /* merged */
    unsigned first_bad_line; /* 0 = none */
    unsigned bad_lines[FEED_BAD_LINES_KEPT];
    unsigned nbad_kept;
    char first_bad_reason[48];
    int64_t expires_unix;       /* DROP "; Expires:", 0 = unknown */
    int64_t last_modified_unix; /* DROP "; Last-Modified:", JSON timestamp, Feodo "Last updated" */
    int64_t records_declared;   /* JSON metadata "records", -1 = none */
};

/* Load a feed. name: 1..31 chars [A-Za-z0-9._-] (copied). On success *out is a new feed the
 * caller frees with feed_free(). Returns 0, or a negative errno with err filled (-EINVAL for
 * the arguments or what the file says, -ENOSPC past max_entries, -ENOMEM, or conf_read_file's
 * error); *out is then NULL. */
__attribute__((warn_unused_result)) int feed_load(const char *name, const char *path,
                                                  enum feed_format fmt, size_t max_entries,
                                                  struct feed **out, struct conf_error *err);
/* Same from memory. srcname is used in errors. text need not be NUL-terminated. */
__attribute__((warn_unused_result)) int feed_load_mem(const char *name, const char *srcname,
                                                      const char *text, size_t len,
                                                      enum feed_format fmt, size_t max_entries,
                                                      struct feed **out, struct conf_error *err);

const char *feed_name(const struct feed *f);
const struct feed_stats *feed_stats(const struct feed *f);
enum feed_format feed_format_of(const struct feed *f); /* the detected format */
/* "auto", "drop", "spamhaus-json", "plain", "feodo-csv" (and aliases). Returns 0 or -EINVAL. */
int feed_format_parse(const char *s, enum feed_format *out);
const char *feed_format_name(enum feed_format fmt);
/* One line for the log about what was skipped and whether the list is past its Expires at
 * time now (unix seconds). Returns the length written, 0 when there is nothing to say. */
size_t feed_warning(const struct feed *f, int64_t now, char *buf, size_t len);

/* Longest-prefix match: the (first) entry of the longest matching prefix, or NULL. Borrowed. */
const struct feed_entry *feed_match(const struct feed *f, const uint8_t addr[16]);
/* The same, preferring among that prefix's entries the one listed with this port, then one
 * with port 0 (any). *port_matched (may be NULL) is true only for an exact port listing. */
const struct feed_entry *feed_match_port(const struct feed *f, const uint8_t addr[16],
                                         uint16_t port, bool *port_matched);
/* Call cb for every entry whose prefix overlaps p (contains it or lies within it), in address
 * order; cb returns nonzero to stop. Returns the number of entries visited. */
size_t feed_overlaps(const struct feed *f, const struct prefix *p,
                     int (*cb)(void *arg, const struct feed_entry *e), void *arg);
size_t feed_entry_count(const struct feed *f);
const struct feed_entry *feed_entry_at(const struct feed *f, size_t i); /* address order */
void feed_free(struct feed *f);

/* A set of named feeds swapped as a whole on reload. */
struct feed_set;
__attribute__((warn_unused_result)) int feed_set_new(struct feed_set **out);
/* Takes f whatever the result (freed on error). Returns 0, -EEXIST (name already in the set),
 * -ENOSPC (FEED_SET_MAX feeds) or -EINVAL. */
__attribute__((warn_unused_result)) int feed_set_add(struct feed_set *s, struct feed *f);
size_t feed_set_count(const struct feed_set *s);
/* Entries of every feed in s together (0: nothing can match, whatever the address). */
size_t feed_set_entries(const struct feed_set *s);
const struct feed *feed_set_get(const struct feed_set *s, size_t i);
const struct feed *feed_set_find(const struct feed_set *s, const char *name);
void feed_set_free(struct feed_set *s);

#endif
