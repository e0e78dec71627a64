/* lines.c: reserving the tables calloc_table allocates (lines.h). */
#include "lines.h"

#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_bool reserving;
static _Atomic uint64_t total, this_bytes, fail_bytes, t0_ns;
static atomic_int fail_errno;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void lines_reserve_begin(void)
{
    atomic_store(&this_bytes, 0);
    atomic_store(&fail_bytes, 0);
    atomic_store(&fail_errno, 0);
    atomic_store(&t0_ns, now_ns());
    atomic_store(&reserving, true);
}

void lines_reserve_end(struct lines_reserve_report *out)
{
    atomic_store(&reserving, false);
    *out = (struct lines_reserve_report){.bytes = atomic_load(&this_bytes),
                                         .ns = now_ns() - atomic_load(&t0_ns),
                                         .fail_bytes = atomic_load(&fail_bytes),
                                         .fail_errno = atomic_load(&fail_errno)};
}

int lines_reserve_finish(const char *when, bool ok)
{
    struct lines_reserve_report rr;
    lines_reserve_end(&rr);
    if (rr.fail_bytes) {
        log_error("pipeline.reserve_memory: the kernel could not make a table of %.1f MB "
                  "resident%s (%s): lower the table sizes (hosts_max, the detectors' bounds) or "
                  "give the collector more memory; reserve_memory = no starts without "
                  "reserving and takes the pages as traffic comes",
                  (double)rr.fail_bytes / 1e6, when, strerror(rr.fail_errno));
        return -ENOMEM;
    }
    if (ok)
        log_info("reserved %.0f MB of tables in %.2f s%s ([pipeline] reserve_memory)",
                 (double)rr.bytes / 1e6, (double)rr.ns / 1e9, when);
    return 0;
}

uint64_t lines_reserved_bytes(void)
{
    return atomic_load_explicit(&total, memory_order_relaxed);
}

bool lines_reserving(void)
{
    return atomic_load_explicit(&reserving, memory_order_relaxed);
}

int lines_reserve_range(void *p, size_t bytes)
{
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
    if (hi <= lo)
        return 0; /* no whole page: on the heap's pages, which are in use already */
    int rc = -EINVAL;
#ifdef MADV_POPULATE_WRITE
    rc = madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0 ? 0 : -errno;
#endif
    if (rc == -EINVAL) { /* a kernel before 5.14: write a byte of each page (they are zero) */
        for (volatile uint8_t *q = (volatile uint8_t *)lo; (uintptr_t)q < hi; q += page)
            *q = 0;
        rc = 0;
    }
    if (rc < 0) {
        uint64_t none = 0;
        if (atomic_compare_exchange_strong(&fail_bytes, &none, (uint64_t)bytes))
            atomic_store(&fail_errno, -rc);
        return rc;
    }
    atomic_fetch_add(&total, (uint64_t)(hi - lo));
    atomic_fetch_add(&this_bytes, (uint64_t)(hi - lo));
    return 0;
}
