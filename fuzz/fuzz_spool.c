/* fuzz_spool.c: spool segment images are read back after crashes, so treat them as hostile:
 * the memory parser, and a full spool_open() + read-back over the same bytes as a segment file
 * (with the first 64 bytes also used as the ack file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_rec(void *ctx, const struct spool_rec *r)
{
    size_t *n = ctx;
    *n += r->len + r->keylen;
    return 0;
}

static void put(const char *path, const uint8_t *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    if (n && write(fd, d, n) < 0) {
        /* ignored: the spool must cope with whatever is there */
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t total = 0;
    uint64_t cb = 0, cby = 0;
    spool_scan_mem(data, size, count_rec, &total, &cb, &cby);

    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/tw_fuzz_spool_%d", (int)getpid());
    }
    char seg[128], ack[128], tmp[160];
    snprintf(seg, sizeof seg, "%s/0000000000000000.tws", dir);
    snprintf(ack, sizeof ack, "%s/ack", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", seg);
    struct spool_opts o = {.dir = dir,
                           .max_bytes = 1u << 20,
                           .block_bytes = 1,
                           .fsync = SPOOL_FSYNC_NEVER,
                           .zlevel = 1};
    struct spool *sp = NULL;
    char err[256];
    if (spool_open(&o, &sp, err, sizeof err) == 0) /* creates the directory */
        spool_close(sp);
    put(seg, data, size);
    put(ack, data, size < 64 ? size : 64);
    if (spool_open(&o, &sp, err, sizeof err) == 0) {
        struct spool_rec r;
        uint64_t s = spool_acked(sp);
        for (int i = 0; i < 100000 && spool_get(sp, s, &r) == 1; i++)
            s = r.seq + 1;
        uint64_t seq;
        if (spool_append(sp, 0, "k", 1, "{}", 2, &seq) == 0)
            (void)spool_get(sp, seq, &r);
        spool_close(sp);
    }
    unlink(seg);
    unlink(tmp);
    unlink(ack);
    return 0;
}
