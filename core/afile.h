/* afile.h: a file replaced whole. Written to PATH.tmp, then closed and renamed over PATH, so a
 * reader sees the old file or the new one, never a part of either; with `sync` the data is on
 * disk before the rename and the rename itself after it (the directory synced), so a crash
 * leaves the old file or the new one too. On any failure the .tmp is removed and PATH is left as
 * it was. Used by the incidents file, the spool's segment repair and the report pages. */
#ifndef TW_AFILE_H
#define TW_AFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct afile {
    FILE *f; /* write here (or through fileno(f) alone, unbuffered) */
    char path[PATH_MAX], tmp[PATH_MAX + 8];
};

/* Opens PATH.tmp for writing (created with `mode` less the umask, truncated). 0 or -errno
 * (-ENAMETOOLONG for a path of PATH_MAX bytes or more). */
int afile_open(struct afile *a, const char *path, mode_t mode);

/* Ends the write. `ok`: every write of the caller's succeeded (false: abandon, PATH untouched).
 * Flushes, with `sync` fsyncs, closes, renames over PATH and with `sync` syncs its directory.
 * 0, or -errno of the first step that failed (with `ok` false: errno as the caller's failed
 * write left it, EIO when that is 0). */
int afile_close(struct afile *a, bool ok, bool sync);

#endif
