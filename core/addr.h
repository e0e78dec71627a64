/* addr.h: 16-byte addresses (IPv4 as IPv4-mapped IPv6), prefixes, parsing and printing.
 * Pure functions, any thread. */
#ifndef TW_ADDR_H
#define TW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

struct prefix {
    uint8_t addr[16]; /* network order; IPv4 mapped; host bits cleared */
    uint8_t len;      /* prefix length in the 128-bit space (IPv4 /n is 96 + n) */
};

void addr_from_v4(uint8_t out[16], uint32_t v4_host_order);
void addr_from_v4_bytes(uint8_t out[16], const uint8_t v4[4]);
/* Is a an IPv4-mapped address (::ffff:a.b.c.d)? Inline: it runs per record (the beacon's
 * pair hash, the decoders). */
static inline bool addr_is_v4(const uint8_t a[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, mapped, 12) == 0;
}
/* Parse "1.2.3.4" or "2001:db8::1". Returns 0 or -EINVAL. */
/* A group address, no single host: IPv6 multicast (ff00::/8); IPv4 multicast (224/4), the
 * reserved 240/4 and the limited broadcast 255.255.255.255. */
static inline bool addr_is_group(const uint8_t a[16])
{
    return a[0] == 0xff || (a[12] >= 224 && addr_is_v4(a));
}

int addr_parse(const char *s, uint8_t out[16]);
/* Parse "1.2.3.0/24", "2001:db8::/32" or a bare address (host prefix). Host bits set are an
 * error (-EDOM) unless fix_host_bits, then they are cleared. Returns 0, -EINVAL (not an address
 * or prefix) or -EDOM (host bits set). */
int prefix_parse(const char *s, bool fix_host_bits, struct prefix *out);
/* Print an address (IPv4 mapped ones as dotted quad). Returns buf. */
const char *addr_format(const uint8_t a[16], char buf[ADDR_STRLEN]);
/* Print a prefix in its own family's notation ("10.0.0.0/8"). buf >= ADDR_STRLEN + 4. */
const char *prefix_format(const struct prefix *p, char *buf, size_t len);
/* Length as the user writes it (IPv4: len - 96). */
unsigned prefix_user_len(const struct prefix *p);
bool prefix_contains(const struct prefix *p, const uint8_t a[16]);

#endif
