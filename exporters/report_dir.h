/* report_dir.h: the daemon's report pages ([report] directory): one page per customer of the
 * model written as DIR/ID-YYYYmmddTHHMMSSZ.html (through a .tmp file and a rename), and the
 * oldest pages beyond the retention removed. The names of the latest pages are what the metrics
 * listener serves at GET /report/ID (metrics_set_reports): the URL only ever selects an entry
 * of that list, never a path.
 * Caller: the daemon's report timer, on the main loop's thread. */
#ifndef TW_REPORT_DIR_H
#define TW_REPORT_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define REPORT_DIR_MAX_FILES 1000000 /* pages looked at when pruning, at most */

struct report_page {
    char id[64];
    char path[600];
};

/* What one report_dir_write could not do: the pages it could not write, and the error of the
 * first of them (or of reading dir), 0 when every page was written. */
struct report_dir_failure {
    unsigned pages;
    int error; /* errno */
};

/* Write every customer's page of r (at most max of them), then keep at most `retention` pages
 * per customer in dir. pages[] (max entries, zeroed before the first call) holds the pages the
 * last call listed and gets each customer's latest page: the one written, or when it cannot be
 * written (logged and counted in *fail; a full disk) the customer's page listed before, which
 * stays on disk. Returns the number of pages listed, or -errno when dir cannot be read. */
int report_dir_write(const struct report *r, const char *dir, unsigned retention, uint64_t now_ms,
                     struct report_page *pages, size_t max, struct report_dir_failure *fail);

#endif
