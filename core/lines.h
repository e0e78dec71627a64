/* lines.h: zeroed memory for the tables a record reaches at random (host table, detector
 * tables, the meter). calloc_table: calloc, and a block of several MiB asks the kernel for
 * transparent huge pages (madvise MADV_HUGEPAGE on its 2 MiB-aligned inside): a random access
 * over a 100 MB table then misses the TLB far less often, and the first writes to the table
 * take a fault per 2 MiB instead of one per 4 KiB page (with worker threads each such fault on
 * a page first read as the zero page flushes the other cores' TLBs). Where the kernel's THP
 * setting is `never` the advice does nothing; pages still cost nothing until something lands
 * on them, though with huge pages that something claims 2 MiB (bench/RESULTS.md, issue 15
 * fourteenth part). calloc_lines: the same, starting on a cache line, for tables read a bucket
 * (one or two whole lines) at a time, so that no bucket straddles one line more than it needs
 * (the host table's blocks and slots, det_beacon's tags and pending sets). Any thread. */
#ifndef TW_LINES_H
#define TW_LINES_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CACHE_LINE 64
#define HUGE_PAGE ((size_t)2 << 20)

/* n * size zeroed bytes (free() them), in huge pages where the kernel allows from 2 x HUGE_PAGE
 * on. NULL when n * size overflows or there is no memory. */
static inline void *calloc_table(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    uint8_t *p = calloc(n, size);
    size_t bytes = n * size;
    if (p && bytes >= 2 * HUGE_PAGE) {
        uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
#ifdef MADV_HUGEPAGE
        if (hi > lo)
            (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* advice: failure changes nothing */
#endif
    }
    return p;
}

/* n * size zeroed bytes at a CACHE_LINE boundary; *mem receives what to free() (NULL when the
 * call fails). Returns NULL when n * size overflows or there is no memory. */
static inline void *calloc_lines(size_t n, size_t size, void **mem)
{
    *mem = NULL;
    if (size && n > (SIZE_MAX - CACHE_LINE) / size)
        return NULL;
    uint8_t *p = calloc_table(n * size + CACHE_LINE, 1);
    if (!p)
        return NULL;
    *mem = p;
    return p + (CACHE_LINE - (uintptr_t)p % CACHE_LINE) % CACHE_LINE;
}

#endif
