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
 * (the host table's blocks and slots, det_beacon's tags and pending sets). Any thread.
 *
 * Reserving (lines_reserve_begin .. lines_reserve_end, process-wide): while it is on, every
 * table these two allocate is also made resident at once, after the huge-page advice so that
 * huge pages are used (madvise MADV_POPULATE_WRITE, Linux 5.14+; elsewhere one byte written per
 * page). The daemon does it for the tables and rings its configuration sizes, from before it
 * opens its sockets to before its loop reads the first datagram ([pipeline] reserve_memory):
 * the first traffic after a start then pays no page faults (~0.9 CPU-s on a quiet Intel VM
 * with the default 1 M hosts; bench/RESULTS.md issue 15 twenty-fifth part). Memory stays what
 * the configuration bounds: only what is allocated anyway is touched, all of it at start.
 * detect's workers, made anew at each rebalance (collector/pipeline.c pipeline_reset), are
 * reserved again there; beacon's prevalence tables (made at the first window close, worker 0's
 * only, prevalence_peers entries) are not.
 * Where the kernel refuses (MADV_POPULATE_WRITE's ENOMEM: the memory is not there), the
 * allocation fails (NULL) and lines_reserve_end reports it; with overcommit the byte-per-page
 * fallback, or a kernel that promised what it does not have, meets the OOM killer instead. */
#ifndef TW_LINES_H
#define TW_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CACHE_LINE 64

/* The declaration of a function that only asks for memory (__builtin_prefetch) and returns
 * nothing: always inlined. GCC 12 at -O2 models the builtin as having no effect, so its
 * pure-const pass finds such a static function const or pure when the early inliner did not
 * inline it (a switch, a computed address), and the call, its result unused, is deleted as dead
 * code: the prefetches vanish from the binary while the source and instruction counts look
 * right (bench/RESULTS.md, issue 15 thirty-eighth part: the ordered host walk's prefetch and a
 * reverted slot prefetch were lost this way). */
#define PREFETCH_FN static inline __attribute__((always_inline))
#define HUGE_PAGE ((size_t)2 << 20)

/* What a reservation did: bytes made resident, its time, and the first table it could not
 * make resident (fail_bytes 0: none; fail_errno: what the kernel said). */
struct lines_reserve_report {
    uint64_t bytes, ns, fail_bytes;
    int fail_errno;
};

/* Start reserving (main thread, before the tables are allocated; any thread may allocate
 * while it is on). */
void lines_reserve_begin(void);
/* Stop reserving; *out: what this reservation did. */
void lines_reserve_end(struct lines_reserve_report *out);
/* Stop reserving and log what it did: on success (ok: what the caller made succeeded) the info
 * line "reserved N MB of tables in T s<when> ([pipeline] reserve_memory)"; where the kernel
 * could not make a table resident, the error naming its size and the settings to lower, and
 * -ENOMEM. Otherwise 0. when: "" at start, " after a rebalance" in pipeline_reset. */
int lines_reserve_finish(const char *when, bool ok);
/* Bytes made resident by reservations so far, tables freed since included (the gauge). */
uint64_t lines_reserved_bytes(void);
/* Whether reserving is on now. */
bool lines_reserving(void);
/* Make the whole pages inside [p, p + bytes) resident (counted). 0 or -errno (ENOMEM: the
 * kernel could not; the range may be partly resident). */
int lines_reserve_range(void *p, size_t bytes);

/* n * size zeroed bytes (free() them), in huge pages where the kernel allows from 2 x HUGE_PAGE
 * on, resident at once while reserving. NULL when n * size overflows or there is no memory
 * (while reserving: also when the kernel cannot make it resident). */
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
    if (p && lines_reserving() && lines_reserve_range(p, bytes) < 0) {
        free(p);
        return NULL;
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
