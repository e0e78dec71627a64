/* textfield.h: small parsers over (pointer, length) for the text sources (nfdump output, Zeek
 * and Argus logs). Nothing here trusts a NUL or allocates; each returns false on anything it
 * does not fully accept. Pure functions, any thread. */
#ifndef TW_TEXTFIELD_H
#define TW_TEXTFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only (no sign, no spaces), at most 20, no overflow. */
bool tf_u64(const char *s, size_t n, uint64_t *out);
/* tf_u64 and <= max. */
bool tf_uint_max(const char *s, size_t n, uint64_t max, uint64_t *out);
/* "0x" followed by 1..16 hex digits. */
bool tf_hex(const char *s, size_t n, uint64_t *out);
/* Strip spaces, tabs and a trailing CR on both sides; returns the new length. */
size_t tf_trim(const char **s, size_t n);
/* An IPv4 or IPv6 address (addr_parse) into 16 bytes. */
bool tf_addr(const char *s, size_t n, uint8_t out[16]);
/* "YYYY-MM-DD HH:MM:SS[.f...]" with '-' or '/' between date parts, ' ' or 'T' before the time,
 * 1..30 fraction digits (kept to the millisecond) and an optional trailing 'Z'; taken as UTC. */
bool tf_datetime(const char *s, size_t n, uint64_t *ms);
/* Non-negative decimal seconds, at most 12 integer and 30 fraction digits (a Unix time such as
 * "1300475167.096535" or a duration such as "0.000341"; "1e-3" is refused) into ms. */
bool tf_seconds(const char *s, size_t n, uint64_t *ms);
/* The same in microseconds. */
bool tf_seconds_us(const char *s, size_t n, uint64_t *us);
/* IP protocol: a number 0..255 or a name (TCP, udp, ICMP, ipv6-icmp, ...; any case). */
bool tf_proto(const char *s, size_t n, uint8_t *out);

#endif
