/* lines.h: zeroed memory that starts on a cache line, for tables read a bucket (one or two
 * whole lines) at a time, so that no bucket straddles one line more than it needs (the host
 * table's blocks and slots, det_beacon's tags and pending sets). calloc underneath: pages cost
 * nothing until something lands on them. Any thread. */
#ifndef TW_LINES_H
#define TW_LINES_H

#include <stdint.h>
#include <stdlib.h>

#define CACHE_LINE 64

/* n * size zeroed bytes at a CACHE_LINE boundary; *mem receives what to free() (NULL when the
 * call fails). Returns NULL when n * size overflows or there is no memory. */
static inline void *calloc_lines(size_t n, size_t size, void **mem)
{
    *mem = NULL;
    if (size && n > (SIZE_MAX - CACHE_LINE) / size)
        return NULL;
    uint8_t *p = calloc(n * size + CACHE_LINE, 1);
    if (!p)
        return NULL;
    *mem = p;
    return p + (CACHE_LINE - (uintptr_t)p % CACHE_LINE) % CACHE_LINE;
}

#endif
