/* afile.c: see afile.h. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

int afile_open(struct afile *a, const char *path, mode_t mode)
{
    a->f = NULL;
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path)
        return -ENAMETOOLONG;
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp", path);
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if (!(a->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        return -e;
    }
    return 0;
}

static int err(void)
{
    return errno ? errno : EIO;
}

static void sync_dir(const char *path)
{
    char d[sizeof((struct afile *)0)->path];
    snprintf(d, sizeof d, "%s", path);
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int afile_close(struct afile *a, bool ok, bool sync)
{
    int e = ok ? 0 : err(); /* the caller's failed write's errno */
    if (!e && fflush(a->f) != 0)
        e = err();
    if (!e && sync && fsync(fileno(a->f)) != 0)
        e = err();
    if (fclose(a->f) != 0 && !e)
        e = err();
    a->f = NULL;
    if (!e && rename(a->tmp, a->path) != 0)
        e = err();
    if (e) {
        unlink(a->tmp);
        return -e;
    }
    if (sync)
        sync_dir(a->path);
    return 0;
}
