/* customers.h: the customer map, the operator's file that says which address space (and which
 * origin ASNs) belong to which downstream customer.
 *
 * Part of lists/ (core <- lists <- detectors, exporters <- collector). Threads: loaded on the
 * main thread; the loaded map is immutable, so any number of threads may
 * look up in it without locks. A reload loads a new map and swaps the pointer; the old one is
 * freed once no worker uses it any more (the caller's job).
 *
 * File format (CSV, UTF-8, LF or CRLF):
 *
 *     # comment (only as a whole line: '#' inside a field is data)
 *     prefix,customer_id,name[,asn[,abuse]]
 *     192.0.2.0/24,acme,"Acme, Inc.",64500,abuse@acme.example
 *     2001:db8:100::/40,acme,"Acme, Inc."
 *     AS64500,acme,"Acme, Inc."          <- origin ASN -> customer (flows matching no prefix)
 *
 * - A first data line whose first field is "prefix" (any case) is a header and is skipped.
 * - Fields are trimmed; a field may be double-quoted ("" inside quotes is one quote).
 * - prefix: IPv4/IPv6 address or CIDR, host bits must be clear; a bare address is a /32, /128.
 *   Wider than /8 (IPv4) or /16 (IPv6), or IPv6 space covering the IPv4-mapped range
 *   (e.g. ::/64), is refused: such a line is a typo that would make most traffic "inside".
 * - customer_id: 1..63 chars of [A-Za-z0-9._-].  name: 1..127 bytes of valid UTF-8, no control
 *   characters.  asn: empty, "64500" or "AS64500", 1..4294967295.
 * - One customer may have many lines. Every line of a customer must give the same name (else
 *   an error naming both lines); the asn may be left empty on some lines, but where it is given
 *   it must agree with the other lines. The customer's asn field is that value (0: none).
 *   The asn column never creates an origin-ASN mapping: only "AS..." lines do.
 * - abuse (optional, empty allowed): the customer's abuse contact for the abuse report
 *   (`transitwatch report`), e.g. an e-mail address; 1..CUSTOMER_ABUSE_MAX bytes of UTF-8
 *   without control characters. Like the asn: may be left empty on some lines, must agree
 *   where given. Maps with 3 or 4 columns stay valid.
 * - The same prefix (or AS line) twice for the same customer is accepted once; for a different
 *   customer it is an error. Overlapping (nested) prefixes are allowed: the longest wins.
 * - Every error is fatal to the load and reported as "file:line: message" in conf_error.
 *   An empty map (no data lines) loads fine; the caller decides whether that is acceptable.
 */
#ifndef TW_CUSTOMERS_H
#define TW_CUSTOMERS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "trie.h"

#define CUSTOMER_ID_MAX 63             /* characters, without the terminating NUL */
#define CUSTOMER_NAME_MAX 127          /* bytes of UTF-8, without the terminating NUL */
#define CUSTOMER_ABUSE_MAX 255         /* bytes of the abuse contact */
#define CUSTOMERS_MAX_FILE (64u << 20) /* a bigger file is refused */
#define CUSTOMERS_MAX_LINE 4096        /* bytes per line, CR/LF excluded */

struct customer {
    char id[CUSTOMER_ID_MAX + 1];
    char name[CUSTOMER_NAME_MAX + 1];
    uint32_t asn;       /* the customer's own ASN from the asn column; 0 = not given */
    uint32_t index;     /* 0-based; lookups return index + 1 */
    uint32_t nprefixes; /* prefixes mapped to it (AS lines not counted) */
    uint32_t line;      /* line of the file that first named it */
    uint32_t abuse;     /* the abuse contact: customers_abuse() (0 = none) */
};

struct customer_map; /* opaque, immutable after load */

struct customer_limits {
    size_t max_customers; /* 0 = 1M */
    size_t max_prefixes;  /* bounds prefix lines + AS lines together; 0 = 4M */
};

/* Load a file. lim may be NULL (defaults). On success *out is a new map the caller frees with
 * customers_free(). Returns 0, or a negative errno with err filled (file:line: message; -EINVAL
 * for what the file says, -ENOSPC past a limit, -ENOMEM, or conf_read_file's error); *out is
 * then NULL. */
__attribute__((warn_unused_result)) int customers_load(const char *path,
                                                       const struct customer_limits *lim,
                                                       struct customer_map **out,
                                                       struct conf_error *err);
/* The same from memory; name is used in errors; text need not be NUL-terminated and may
 * contain NUL bytes (an error). */
__attribute__((warn_unused_result)) int customers_load_mem(const char *name, const char *text,
                                                           size_t len,
                                                           const struct customer_limits *lim,
                                                           struct customer_map **out,
                                                           struct conf_error *err);

/* Longest-prefix match of a 16-byte address: customer index + 1, or 0. m may be NULL. The trie's
 * answer; an IPv4-mapped address's from a direct table built with the map (customers.c: 256 KiB
 * + 1 KiB per /16 holding a prefix longer than /16, at most 4.25 MiB). */
uint32_t customers_lookup(const struct customer_map *m, const uint8_t addr[16]);
/* Origin ASN -> customer index + 1, or 0. */
uint32_t customers_lookup_as(const struct customer_map *m, uint32_t asn);
/* Borrowed pointer into m; NULL for 0 or out of range. */
const struct customer *customers_get(const struct customer_map *m, uint32_t index1);
const struct customer *customers_find_id(const struct customer_map *m, const char *id);
size_t customers_count(const struct customer_map *m);
/* c's abuse contact from the abuse column ("" when none). Borrowed from m. */
const char *customers_abuse(const struct customer_map *m, const struct customer *c);
size_t customers_prefix_count(const struct customer_map *m);
size_t customers_as_count(const struct customer_map *m);
/* The frozen trie (values are index + 1), e.g. for overlap checks. Borrowed. */
const struct trie *customers_trie(const struct customer_map *m);
/* The prefixes of one customer, in file order: *out points into m (borrowed). Returns the
 * count (0 and *out = NULL for an unknown index). */
size_t customers_prefixes(const struct customer_map *m, uint32_t index1, const struct prefix **out);
void customers_free(struct customer_map *m);

#endif
