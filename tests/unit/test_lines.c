/* test_lines: the table allocator (core/lines.h). calloc_table gives zeroed memory, refuses a
 * size that overflows, and asks for huge pages on a block of several MiB: the kernel records
 * the advice as the "hg" flag of the mapping in /proc/self/smaps (checked where the kernel's
 * THP setting lets the advice count; skipped with a message where THP is off or smaps absent).
 * calloc_lines starts on a cache line. Reserving (lines_reserve_begin/end): a table allocated
 * while it is on is resident at once (mincore), one allocated while it is off is not, and
 * the bytes are counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "lines.h"

static void test_zeroed_and_overflow(void **state)
{
    (void)state;
    size_t n = 3 * HUGE_PAGE + 12345;
    uint8_t *p = calloc_table(n, 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i += 4093)
        assert_int_equal(p[i], 0);
    assert_int_equal(p[n - 1], 0);
    memset(p, 0xab, n); /* every byte writable */
    free(p);
    assert_null(calloc_table(SIZE_MAX / 2, 3));
    uint8_t *small = calloc_table(10, 10);
    assert_non_null(small);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(small[i], 0);
    free(small);
}

static void test_lines_aligned(void **state)
{
    (void)state;
    void *mem;
    for (size_t n = 1; n < 200; n += 37) {
        uint8_t *p = calloc_lines(n, 24, &mem);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % CACHE_LINE, 0);
        for (size_t i = 0; i < n * 24; i++)
            assert_int_equal(p[i], 0);
        free(mem);
    }
    assert_null(calloc_lines(SIZE_MAX / 8, 16, &mem));
    assert_null(mem);
}

/* The smaps VmFlags line of the mapping holding addr, or "" when not found. */
static void vmflags_of(const void *addr, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return;
    char line[512];
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(out, len, "%s", line + 8);
            break;
        }
    }
    fclose(f);
}

static void test_huge_advice(void **state)
{
    (void)state;
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(mode, sizeof mode, f))
            mode[0] = 0;
        fclose(f);
    }
    if (!strstr(mode, "[madvise]") && !strstr(mode, "[always]")) {
        fprintf(stderr, "test_lines: transparent huge pages off here (%s): advice not checked\n",
                mode[0] ? mode : "no sysfs entry");
        skip();
    }
    size_t n = 8 * HUGE_PAGE;
    uint8_t *p = calloc_table(n, 1);
    assert_non_null(p);
    uint8_t *mid = p + n / 2; /* inside the 2 MiB-aligned part that was advised */
    char flags[512];
    vmflags_of(mid, flags, sizeof flags);
    if (!flags[0]) {
        free(p);
        fprintf(stderr, "test_lines: no /proc/self/smaps: advice not checked\n");
        skip();
    }
    assert_non_null(strstr(flags, " hg"));
    free(p);
}

/* Resident pages among the whole pages of [p, p + bytes), and their count in *pages. */
static size_t resident_pages(const uint8_t *p, size_t bytes, size_t *pages)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + ps - 1) & ~(uintptr_t)(ps - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(ps - 1);
    *pages = (hi - lo) / ps;
    unsigned char *vec = malloc(*pages);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
    size_t n = 0;
    for (size_t i = 0; i < *pages; i++)
        n += vec[i] & 1;
    free(vec);
    return n;
}

static void test_reserve(void **state)
{
    (void)state;
    size_t n = 6 * HUGE_PAGE + 4321, pages;
    /* off (the default): calloc's fresh mapping stays untouched */
    assert_false(lines_reserving());
    uint8_t *off = calloc_table(n, 1);
    assert_non_null(off);
    size_t res_off = resident_pages(off, n, &pages);
    assert_true(res_off < pages / 4);
    uint64_t before = lines_reserved_bytes();
    lines_reserve_begin();
    assert_true(lines_reserving());
    uint8_t *on = calloc_table(n, 1);
    void *mem;
    uint8_t *lines = calloc_lines(n / 24, 24, &mem);
    struct lines_reserve_report rr;
    lines_reserve_end(&rr);
    assert_false(lines_reserving());
    assert_non_null(on);
    assert_non_null(lines);
    size_t res_on = resident_pages(on, n, &pages);
    assert_int_equal(res_on, pages); /* every page, at once */
    assert_true(rr.bytes >= (uint64_t)pages * (size_t)sysconf(_SC_PAGESIZE));
    assert_int_equal(lines_reserved_bytes() - before, rr.bytes);
    assert_int_equal(rr.fail_bytes, 0);
    size_t lpages, res_lines = resident_pages(lines, n / 24 * 24, &lpages);
    assert_int_equal(res_lines, lpages);
    for (size_t i = 0; i < n; i += 4093) /* still zeroed */
        assert_int_equal(on[i], 0);
    /* after the end, off again */
    uint8_t *after = calloc_table(n, 1);
    assert_non_null(after);
    assert_true(resident_pages(after, n, &pages) < pages / 4);
    free(off);
    free(on);
    free(mem);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeroed_and_overflow),
        cmocka_unit_test(test_lines_aligned),
        cmocka_unit_test(test_huge_advice),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
