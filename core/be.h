/* be.h: big-endian (network order) integers read from unaligned byte buffers: the wire formats
 * (NetFlow, IPFIX, sFlow, link/IP/transport headers, capture file magics). Pure functions, any
 * thread. Little-endian ones are in le.h. */
#ifndef TW_BE_H
#define TW_BE_H

#include <stdint.h>

static inline uint16_t be_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be_get64(const uint8_t *p)
{
    return (uint64_t)be_get32(p) << 32 | be_get32(p + 4);
}

#endif
