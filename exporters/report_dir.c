/* report_dir.c: see report_dir.h. */
#include "report_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "sink_report.h"
#include "textfield.h"

#define STAMP_LEN 16 /* 20260101T000000Z */
#define SUFFIX ".html"

/* "YYYYmmddTHHMMSSZ" of now_ms. */
static void stamp(uint64_t now_ms, char out[STAMP_LEN + 1])
{
    char t[32];
    json_format_time(now_ms, t); /* 2026-01-01T00:00:00.000Z */
    snprintf(out, STAMP_LEN + 1, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", t, t + 5, t + 8, t + 11, t + 14,
             t + 17);
}

/* A page's name: ID-STAMP.html; *idlen = the id's length, or false for any other file. */
static bool page_name(const char *name, size_t *idlen)
{
    size_t n = strlen(name), tail = 1 + STAMP_LEN + sizeof SUFFIX - 1;
    if (n <= tail || strcmp(name + n - (sizeof SUFFIX - 1), SUFFIX) != 0)
        return false;
    const char *st = name + n - tail;
    if (st[0] != '-' || st[9] != 'T' || st[16] != 'Z')
        return false;
    *idlen = n - tail;
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove the oldest pages of each customer beyond retention. 0 or -errno. */
static int prune(const char *dir, unsigned retention)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    size_t idlen;
    while ((e = readdir(d)) && n < REPORT_DIR_MAX_FILES) {
        if (!page_name(e->d_name, &idlen))
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name); /* by id, then oldest first */
    for (size_t i = 0; i < n;) {
        size_t j = i, il;
        page_name(names[i], &il);
        while (j < n && page_name(names[j], &idlen) && idlen == il &&
               strncmp(names[j], names[i], il) == 0)
            j++;
        for (size_t k = i; k + retention < j; k++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[k]);
            if (unlink(path) < 0 && errno != ENOENT)
                log_warn("report: cannot remove %s: %s", path, strerror(errno));
        }
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return 0;
}

int report_dir_write(const struct report *r, const char *dir, unsigned retention, uint64_t now_ms,
                     struct report_page *pages, size_t max, struct report_dir_failure *fail)
{
    *fail = (struct report_dir_failure){0};
    const char *ids[REPORT_MAX_CUSTOMERS];
    size_t n = report_customers(r, ids, REPORT_MAX_CUSTOMERS), w = 0;
    char st[STAMP_LEN + 1];
    stamp(now_ms, st);
    struct report_page *old = malloc(max * sizeof *old); /* the pages listed before */
    if (old)
        memcpy(old, pages, max * sizeof *old);
    memset(pages, 0, max * sizeof *pages);
    for (size_t i = 0; i < n && w < max; i++) {
        struct report_page *p = &pages[w];
        if (!tf_name_ok(ids[i], sizeof p->id - 1)) /* "-" (no customer) or not from the map */
            continue;
        snprintf(p->id, sizeof p->id, "%s", ids[i]);
        int rc = -ENAMETOOLONG;
        if (snprintf(p->path, sizeof p->path, "%s/%s-%s%s", dir, ids[i], st, SUFFIX) <
            (int)sizeof p->path)
            rc = report_write_file(r, ids[i], p->path);
        if (rc < 0) { /* the customer's previous page (kept on disk: newer than any) stays */
            log_error("report %s: %s", p->path, strerror(-rc));
            if (!fail->pages++)
                fail->error = -rc;
            memset(p, 0, sizeof *p);
            for (size_t k = 0; old && k < max && old[k].id[0]; k++)
                if (strcmp(old[k].id, ids[i]) == 0)
                    *p = old[k];
            if (!p->id[0])
                continue;
        }
        w++;
    }
    free(old);
    int rc = prune(dir, retention ? retention : 1);
    if (rc < 0) {
        log_error("report directory %s: %s", dir, strerror(-rc));
        if (!fail->error)
            fail->error = -rc;
    }
    return rc < 0 ? rc : (int)w;
}
