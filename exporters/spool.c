/* spool.c: the append-only on-disk message log behind the Kafka sink (format in spool.h).
 *
 * Records are grouped into blocks (group commit): one write() and one zlib stream per block,
 * which keeps the cost per message to a memcpy. The block last committed stays in memory, so
 * the live path reads back what it just wrote without touching the disk; only a replay after
 * a failure or a restart reads segments back (pread, block by block). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "afile.h"
#include "log.h"

#define HDR_LEN 32u
#define REC_HDR 7u
#define MAX_RAW (64u << 20)      /* a block's raw payload (one message may be this big) */
#define MAX_REC_DATA (16u << 20) /* one message */
#define MAX_BLOCK_RECS 8192u
#define MAX_SEGS 65536u
#define ACK_SLOT 32u
#define FLAG_ZLIB 1u

static const uint8_t blk_magic[4] = {'T', 'W', 'S', '1'};
static const uint8_t ack_magic[4] = {'T', 'W', 'S', 'A'};

struct seg {
    uint64_t name;       /* from the file name */
    uint64_t first, end; /* sequence range of its records [first, end) */
    uint64_t bytes;      /* file size */
};

struct blkhdr {
    uint32_t disk_len, raw_len, count;
    uint64_t first;
    uint16_t flags;
    uint32_t crc;
};

struct spool {
    char dir[PATH_MAX - 64];
    struct spool_opts o;
    int lock_fd, ack_fd;
    struct seg *segs; /* sorted by sequence; the last one is active when act_fd >= 0 */
    size_t nseg, capseg;
    int act_fd;
    int rd_fd; /* cached read fd for segment rd_name */
    uint64_t rd_name;
    uint64_t head, committed, acked, acked_written, ack_gen;
    /* pending block (raw records) */
    uint8_t *pend;
    size_t pend_len, pend_cap;
    uint32_t *pend_off;
    size_t pend_off_cap;
    uint32_t pend_count;
    uint64_t pend_first;
    /* read block: the last committed or last read block, parsed */
    uint8_t *rb;
    size_t rb_cap;
    uint32_t *rb_off;
    size_t rb_off_cap;
    uint32_t rb_count;
    uint64_t rb_first;
    bool rb_valid;
    uint8_t *zbuf;
    size_t zcap;
    z_stream zd, zi;
    bool zd_ok, zi_ok;
    size_t hint_seg; /* reader position: block at hint_off of segs[hint_seg] starts hint_seq */
    uint64_t hint_off, hint_seq;
    bool full; /* in a "bound reached" episode */
    uint64_t episode_lost;
    bool dirty; /* written since the last fsync */
    uint64_t last_sync_ms;
    int log_corrupt, log_write, log_big;
    struct spool_stats st;
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* Header sanity without the checksum (that needs the payload). */
static bool hdr_parse(const uint8_t *p, struct blkhdr *h)
{
    if (memcmp(p, blk_magic, 4) != 0)
        return false;
    h->disk_len = rd32(p + 4);
    h->raw_len = rd32(p + 8);
    h->count = rd32(p + 12);
    h->first = rd64(p + 16);
    h->flags = (uint16_t)(p[24] | p[25] << 8);
    h->crc = rd32(p + 28);
    if (h->flags & ~FLAG_ZLIB || p[26] || p[27])
        return false;
    if (h->raw_len > MAX_RAW || h->disk_len > MAX_RAW + 1024 || h->count == 0 ||
        h->count > MAX_BLOCK_RECS || h->count > h->raw_len / REC_HDR)
        return false;
    if (!(h->flags & FLAG_ZLIB) && h->disk_len != h->raw_len)
        return false;
    if (h->first > UINT64_MAX - h->count)
        return false;
    return true;
}

static uint32_t blk_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    uLong c = crc32(0L, hdr, 28);
    return (uint32_t)crc32(c, payload, (uInt)len);
}

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    void *p = realloc(*(void **)pp, n * elem);
    if (!p)
        return -ENOMEM;
    *(void **)pp = p;
    *cap = n;
    return 0;
}

/* Check the records of a raw payload and note their offsets. */
static int parse_records(const uint8_t *raw, size_t raw_len, uint32_t count, uint32_t *off)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (raw_len - pos < REC_HDR)
            return -EBADMSG;
        size_t kl = (size_t)raw[pos + 1] | (size_t)raw[pos + 2] << 8;
        size_t dl = rd32(raw + pos + 3);
        if (dl > MAX_REC_DATA || raw_len - pos - REC_HDR < kl + dl)
            return -EBADMSG;
        off[i] = (uint32_t)pos;
        pos += REC_HDR + kl + dl;
    }
    return pos == raw_len ? 0 : -EBADMSG;
}

static void rec_at(const uint8_t *raw, uint32_t off, uint64_t seq, struct spool_rec *r)
{
    const uint8_t *p = raw + off;
    r->seq = seq;
    r->kind = p[0];
    r->keylen = (size_t)p[1] | (size_t)p[2] << 8;
    r->len = rd32(p + 3);
    r->key = (const char *)p + REC_HDR;
    r->data = r->key + r->keylen;
}

/* Decode a block payload into *raw (grown), checking crc, zlib and records. 0, -EBADMSG
 * (damaged) or -ENOMEM. */
static int blk_decode(const uint8_t *hdrb, const struct blkhdr *h, const uint8_t *payload,
                      z_stream *zi, uint8_t **raw, size_t *rawcap, uint32_t **off, size_t *offcap)
{
    if (blk_crc(hdrb, payload, h->disk_len) != h->crc)
        return -EBADMSG;
    if (grow(raw, rawcap, h->raw_len ? h->raw_len : 1, 1) < 0 ||
        grow(off, offcap, h->count, sizeof **off) < 0)
        return -ENOMEM;
    if (h->flags & FLAG_ZLIB) {
        if (inflateReset(zi) != Z_OK)
            return -EBADMSG;
        zi->next_in = (Bytef *)(uintptr_t)payload;
        zi->avail_in = h->disk_len;
        zi->next_out = *raw;
        zi->avail_out = h->raw_len;
        int zr = inflate(zi, Z_FINISH);
        if (zr != Z_STREAM_END || zi->total_out != h->raw_len || zi->avail_in != 0)
            return -EBADMSG;
    } else {
        memcpy(*raw, payload, h->raw_len);
    }
    return parse_records(*raw, h->raw_len, h->count, *off);
}

struct scan_cb {
    void (*block)(void *ctx, const struct blkhdr *h, const uint8_t *blk, size_t blk_len);
    spool_scan_fn *rec;
    void *ctx;
};

static const uint8_t *find_magic(const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 4) {
        const uint8_t *q = memchr(p, 'T', (size_t)(end - p - 3));
        if (!q)
            return end;
        if (memcmp(q, blk_magic, 4) == 0)
            return q;
        p = q + 1;
    }
    return end;
}

/* The one parser of segment images: valid blocks in increasing sequence order. */
static size_t scan_image(const uint8_t *buf, size_t len, const struct scan_cb *cb,
                         uint64_t *corrupt_blocks, uint64_t *corrupt_bytes)
{
    z_stream zi;
    memset(&zi, 0, sizeof zi);
    if (inflateInit(&zi) != Z_OK)
        return 0;
    uint8_t *raw = NULL;
    uint32_t *off = NULL;
    size_t rawcap = 0, offcap = 0, nblocks = 0;
    uint64_t next_min = 0;
    const uint8_t *p = buf, *end = buf + len;
    bool in_bad = false;
    while (p < end) {
        struct blkhdr h;
        bool ok = (size_t)(end - p) >= HDR_LEN && hdr_parse(p, &h) &&
                  (size_t)(end - p - HDR_LEN) >= h.disk_len && h.first >= next_min &&
                  blk_decode(p, &h, p + HDR_LEN, &zi, &raw, &rawcap, &off, &offcap) == 0;
        if (!ok) {
            if (!in_bad)
                (*corrupt_blocks)++;
            in_bad = true;
            const uint8_t *q = find_magic(p + 1, end);
            *corrupt_bytes += (uint64_t)(q - p);
            p = q;
            continue;
        }
        in_bad = false;
        nblocks++;
        next_min = h.first + h.count;
        if (cb->block)
            cb->block(cb->ctx, &h, p, HDR_LEN + h.disk_len);
        if (cb->rec) {
            for (uint32_t i = 0; i < h.count; i++) {
                struct spool_rec r;
                rec_at(raw, off[i], h.first + i, &r);
                if (cb->rec(cb->ctx, &r) != 0)
                    goto out;
            }
        }
        p += HDR_LEN + h.disk_len;
    }
out:
    inflateEnd(&zi);
    free(raw);
    free(off);
    return nblocks;
}

size_t spool_scan_mem(const uint8_t *buf, size_t len, spool_scan_fn *cb, void *ctx,
                      uint64_t *corrupt_blocks, uint64_t *corrupt_bytes)
{
    struct scan_cb c = {.rec = cb, .ctx = ctx};
    uint64_t cbk = 0, cby = 0;
    size_t n = scan_image(buf, len, &c, &cbk, &cby);
    if (corrupt_blocks)
        *corrupt_blocks = cbk;
    if (corrupt_bytes)
        *corrupt_bytes = cby;
    return n;
}

static void seg_path(const struct spool *sp, uint64_t name, const char *suffix, char *out,
                     size_t cap)
{
    snprintf(out, cap, "%s/%016llx.tws%s", sp->dir, (unsigned long long)name, suffix);
}

/* ---- ack file ---- */

static uint64_t ack_read(int fd, uint64_t *gen)
{
    uint8_t b[2 * ACK_SLOT];
    ssize_t n = pread(fd, b, sizeof b, 0);
    uint64_t best = 0;
    *gen = 0;
    for (int i = 0; i < 2; i++) {
        if (n < (ssize_t)((i + 1) * ACK_SLOT))
            break;
        const uint8_t *s = b + i * ACK_SLOT;
        if (memcmp(s, ack_magic, 4) != 0 || rd32(s + 24) != (uint32_t)crc32(0L, s, 24))
            continue;
        uint64_t g = rd64(s + 8);
        if (g >= *gen) {
            *gen = g;
            best = rd64(s + 16);
        }
    }
    return best;
}

static int ack_write(struct spool *sp)
{
    uint8_t s[ACK_SLOT] = {0};
    uint64_t g = sp->ack_gen + 1;
    memcpy(s, ack_magic, 4);
    wr64(s + 8, g);
    wr64(s + 16, sp->acked);
    wr32(s + 24, (uint32_t)crc32(0L, s, 24));
    ssize_t w = pwrite(sp->ack_fd, s, sizeof s, (off_t)((g % 2) * ACK_SLOT));
    if (w != (ssize_t)sizeof s) {
        sp->st.write_errors++;
        return w < 0 ? -errno : -EIO;
    }
    sp->ack_gen = g;
    sp->acked_written = sp->acked;
    if (sp->o.fsync == SPOOL_FSYNC_ALWAYS) {
        fdatasync(sp->ack_fd);
        sp->st.fsyncs++;
    } else {
        sp->dirty = true;
    }
    return 0;
}

/* ---- segments ---- */

static void seg_remove(struct spool *sp, size_t i, const char *suffix_rename)
{
    char path[PATH_MAX];
    seg_path(sp, sp->segs[i].name, "", path, sizeof path);
    if (suffix_rename) {
        char to[PATH_MAX];
        seg_path(sp, sp->segs[i].name, suffix_rename, to, sizeof to);
        rename(path, to);
    } else {
        unlink(path);
    }
    if (sp->rd_fd >= 0 && sp->rd_name == sp->segs[i].name) {
        close(sp->rd_fd);
        sp->rd_fd = -1;
    }
    sp->st.bytes -= sp->segs[i].bytes;
    memmove(sp->segs + i, sp->segs + i + 1, (sp->nseg - i - 1) * sizeof *sp->segs);
    sp->nseg--;
    sp->hint_seg = SIZE_MAX;
}

static void delete_acked(struct spool *sp)
{
    size_t n = 0;
    while (n < sp->nseg && sp->segs[n].end <= sp->acked)
        n++;
    /* The active segment too once all of it is acknowledged (the next commit starts a new one):
     * a spool whose disk filled, where that segment could neither grow nor roll, takes messages
     * again as soon as the broker caught up. Its records were delivered, so removing it before
     * the ack point is persisted (which a full disk may refuse until then) loses nothing. */
    if (n == sp->nseg && sp->act_fd >= 0) {
        close(sp->act_fd);
        sp->act_fd = -1;
    }
    while (n-- > 0)
        seg_remove(sp, 0, NULL);
}

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

struct open_ctx {
    uint64_t first, end, acked, above;
    bool any;
    int out_fd; /* repair: valid blocks are copied here (-1: not repairing) */
    bool out_err;
};

static void open_block(void *ctx, const struct blkhdr *h, const uint8_t *blk, size_t blk_len)
{
    struct open_ctx *c = ctx;
    if (!c->any)
        c->first = h->first;
    c->any = true;
    c->end = h->first + h->count;
    if (c->end > c->acked)
        c->above += c->end - (h->first > c->acked ? h->first : c->acked);
    if (c->out_fd >= 0 && !c->out_err) {
        struct iovec iov = {(void *)(uintptr_t)blk, blk_len};
        c->out_err = write_all(c->out_fd, &iov, 1) < 0;
    }
}

/* Scan one segment file; when it holds damage, rewrite it with its valid blocks only, so
 * that reading back later never meets the damage. */
static void scan_segment(struct spool *sp, const char *path, struct seg *sg, struct open_ctx *c)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat stb;
    if (fd < 0 || fstat(fd, &stb) < 0 || stb.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t len = (size_t)stb.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    sg->bytes = len;
    if (m == MAP_FAILED)
        return;
    uint64_t bad = 0, badb = 0;
    struct scan_cb cb = {.block = open_block, .ctx = c};
    c->out_fd = -1;
    scan_image(m, len, &cb, &bad, &badb);
    sp->st.corrupt_blocks += bad;
    sp->st.corrupt_bytes += badb;
    if (bad && c->any) {
        struct afile a;
        struct open_ctx c2 = {.acked = c->acked};
        if (afile_open(&a, path, 0640) == 0) {
            c2.out_fd = fileno(a.f); /* written through the descriptor alone */
            uint64_t b2 = 0, bb2 = 0;
            struct scan_cb cb2 = {.block = open_block, .ctx = &c2};
            scan_image(m, len, &cb2, &b2, &bb2);
            struct stat st2;
            bool ok = !c2.out_err && fstat(c2.out_fd, &st2) == 0;
            if (afile_close(&a, ok, true) == 0) {
                sg->bytes = (uint64_t)st2.st_size;
                log_warn("spool: %s repaired: %llu damaged byte(s) dropped", path,
                         (unsigned long long)badb);
            }
        }
    }
    munmap(m, len);
}

static int name_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct seg *)a)->name, y = ((const struct seg *)b)->name;
    return x < y ? -1 : x > y;
}

static bool parse_seg_name(const char *n, uint64_t *v)
{
    if (strlen(n) != 20 || strcmp(n + 16, ".tws") != 0)
        return false;
    uint64_t x = 0;
    for (int i = 0; i < 16; i++) {
        char c = n[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return true;
}

static int load_dir(struct spool *sp, char *err, size_t errlen)
{
    DIR *d = opendir(sp->dir);
    if (!d) {
        int rc = -errno;
        snprintf(err, errlen, "spool: cannot list %s: %s", sp->dir, strerror(-rc));
        return rc;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t name;
        if (!parse_seg_name(e->d_name, &name))
            continue;
        if (sp->nseg >= MAX_SEGS)
            break;
        if (grow(&sp->segs, &sp->capseg, sp->nseg + 1, sizeof *sp->segs) < 0) {
            closedir(d);
            snprintf(err, errlen, "spool: out of memory");
            return -ENOMEM;
        }
        sp->segs[sp->nseg++] = (struct seg){.name = name};
    }
    closedir(d);
    if (sp->nseg)
        qsort(sp->segs, sp->nseg, sizeof *sp->segs, name_cmp);

    uint64_t prev_end = 0;
    for (size_t i = 0; i < sp->nseg;) {
        char path[PATH_MAX];
        seg_path(sp, sp->segs[i].name, "", path, sizeof path);
        struct open_ctx c = {.acked = sp->acked};
        scan_segment(sp, path, &sp->segs[i], &c);
        sp->st.bytes += sp->segs[i].bytes;
        if (c.any && c.first < prev_end) { /* overlaps the previous one: keep it aside */
            sp->st.corrupt_blocks++;
            log_warn("spool: segment %s overlaps its predecessor; renamed to .bad", path);
            seg_remove(sp, i, ".bad");
            continue;
        }
        if (!c.any || c.end <= sp->acked) {
            seg_remove(sp, i, NULL);
            continue;
        }
        sp->segs[i].first = c.first;
        sp->segs[i].end = c.end;
        sp->st.recovered += c.above;
        prev_end = c.end;
        i++;
    }
    return 0;
}

/* Create dir and its missing parents (a lab user points the spool anywhere). 0 or a negative
 * errno (mkdir's or stat's, -ENOTDIR, -EINVAL for an empty or too long name). */
static int mkdir_p(const char *dir)
{
    char p[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return -EINVAL;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0750) < 0 && errno != EEXIST)
            return -errno;
        p[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    return 0;
}

int spool_open(const struct spool_opts *o, struct spool **out, char *err, size_t errlen)
{
    struct spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        snprintf(err, errlen, "spool: out of memory");
        return -ENOMEM;
    }
    int rc = -EINVAL;
    sp->lock_fd = sp->ack_fd = sp->act_fd = sp->rd_fd = -1;
    sp->hint_seg = SIZE_MAX;
    sp->o = *o;
    sp->o.dir = NULL;
    if (!o->dir || !*o->dir || strlen(o->dir) >= sizeof sp->dir) {
        snprintf(err, errlen, "spool: bad directory name");
        goto fail;
    }
    memcpy(sp->dir, o->dir, strlen(o->dir) + 1);
    if (sp->o.max_bytes < (256u << 10))
        sp->o.max_bytes = 256u << 10;
    if (!sp->o.segment_bytes) {
        uint64_t s = sp->o.max_bytes / 8;
        sp->o.segment_bytes = s < (64u << 10) ? (64u << 10) : s > (64u << 20) ? (64u << 20) : s;
    }
    if (!sp->o.block_bytes)
        sp->o.block_bytes = 64u << 10;
    if (sp->o.zlevel < 0 || sp->o.zlevel > 9)
        sp->o.zlevel = 1;
    sp->st.max_bytes = sp->o.max_bytes;

    rc = mkdir_p(sp->dir);
    if (rc < 0) {
        snprintf(err, errlen, "spool: cannot create %s: %s", sp->dir, strerror(-rc));
        goto fail;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/lock", sp->dir);
    sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (sp->lock_fd < 0 || flock(sp->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = -errno;
        snprintf(err, errlen, "spool: %s: %s", path,
                 errno == EWOULDBLOCK ? "in use by another process" : strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof path, "%s/ack", sp->dir);
    sp->ack_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (sp->ack_fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "spool: %s: %s", path, strerror(-rc));
        goto fail;
    }
    sp->acked = sp->acked_written = ack_read(sp->ack_fd, &sp->ack_gen);
    if (deflateInit(&sp->zd, sp->o.zlevel) != Z_OK || !(sp->zd_ok = true) ||
        inflateInit(&sp->zi) != Z_OK || !(sp->zi_ok = true)) {
        snprintf(err, errlen, "spool: zlib init failed");
        rc = -ENOMEM;
        goto fail;
    }
    rc = load_dir(sp, err, errlen);
    if (rc < 0)
        goto fail;
    sp->head = sp->acked;
    if (sp->nseg && sp->segs[sp->nseg - 1].end > sp->head)
        sp->head = sp->segs[sp->nseg - 1].end;
    sp->committed = sp->head;
    if (sp->st.corrupt_blocks)
        log_warn("spool %s: %llu damaged block(s) skipped (%llu bytes)", sp->dir,
                 (unsigned long long)sp->st.corrupt_blocks,
                 (unsigned long long)sp->st.corrupt_bytes);
    if (sp->st.recovered)
        log_info("spool %s: %llu undelivered message(s) recovered", sp->dir,
                 (unsigned long long)sp->st.recovered);
    *out = sp;
    return 0;
fail:
    spool_close(sp);
    return rc;
}

static int open_active(struct spool *sp)
{
    if (sp->act_fd >= 0 && sp->segs[sp->nseg - 1].bytes < sp->o.segment_bytes)
        return 0;
    if (sp->act_fd >= 0) { /* roll */
        if (sp->o.fsync != SPOOL_FSYNC_NEVER) {
            fdatasync(sp->act_fd);
            sp->st.fsyncs++;
        }
        close(sp->act_fd);
        sp->act_fd = -1;
        delete_acked(sp);
    }
    if (sp->nseg >= MAX_SEGS)
        return -ENOSPC;
    if (grow(&sp->segs, &sp->capseg, sp->nseg + 1, sizeof *sp->segs) < 0)
        return -ENOMEM;
    char path[PATH_MAX];
    seg_path(sp, sp->pend_first, "", path, sizeof path);
    sp->act_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (sp->act_fd < 0)
        return -errno;
    sp->segs[sp->nseg++] =
        (struct seg){.name = sp->pend_first, .first = sp->pend_first, .end = sp->pend_first};
    return 0;
}

static void swap_pend_rb(struct spool *sp)
{
    uint8_t *b = sp->rb;
    size_t bc = sp->rb_cap;
    uint32_t *o = sp->rb_off;
    size_t oc = sp->rb_off_cap;
    sp->rb = sp->pend;
    sp->rb_cap = sp->pend_cap;
    sp->rb_off = sp->pend_off;
    sp->rb_off_cap = sp->pend_off_cap;
    sp->pend = b;
    sp->pend_cap = bc;
    sp->pend_off = o;
    sp->pend_off_cap = oc;
}

int spool_commit(struct spool *sp)
{
    if (!sp->pend_count)
        return 0;
    const uint8_t *payload = sp->pend;
    uint32_t disk_len = (uint32_t)sp->pend_len;
    uint16_t flags = 0;
    if (sp->o.zlevel > 0) {
        size_t bound = deflateBound(&sp->zd, (uLong)sp->pend_len);
        if (grow(&sp->zbuf, &sp->zcap, bound, 1) == 0 && deflateReset(&sp->zd) == Z_OK) {
            sp->zd.next_in = sp->pend;
            sp->zd.avail_in = (uInt)sp->pend_len;
            sp->zd.next_out = sp->zbuf;
            sp->zd.avail_out = (uInt)sp->zcap;
            if (deflate(&sp->zd, Z_FINISH) == Z_STREAM_END && sp->zd.total_out < sp->pend_len) {
                payload = sp->zbuf;
                disk_len = (uint32_t)sp->zd.total_out;
                flags = FLAG_ZLIB;
            }
        }
    }
    uint8_t h[HDR_LEN] = {0};
    memcpy(h, blk_magic, 4);
    wr32(h + 4, disk_len);
    wr32(h + 8, (uint32_t)sp->pend_len);
    wr32(h + 12, sp->pend_count);
    wr64(h + 16, sp->pend_first);
    wr16(h + 24, flags);
    wr32(h + 28, blk_crc(h, payload, disk_len));
    uint64_t first = sp->pend_first, count = sp->pend_count;
    int rc = open_active(sp);
    if (rc == 0) {
        struct seg *a = &sp->segs[sp->nseg - 1];
        struct iovec iov[2] = {{h, HDR_LEN}, {(void *)(uintptr_t)payload, disk_len}};
        rc = write_all(sp->act_fd, iov, 2);
        if (rc == 0) {
            a->bytes += HDR_LEN + disk_len;
            a->end = first + count;
            sp->st.bytes += HDR_LEN + disk_len;
        } else if (ftruncate(sp->act_fd, (off_t)a->bytes) < 0) {
            /* a torn block stays; readers skip it by its checksum */
        }
    }
    sp->st.bytes -= sp->pend_len + HDR_LEN; /* pending estimate leaves */
    sp->pend_count = 0;
    sp->pend_len = 0;
    if (rc < 0) {
        /* The block's sequence numbers are given again: the lost records leave no gap that
         * would count as waiting for delivery. */
        sp->head = sp->pend_first = first;
        sp->st.write_errors++;
        sp->st.lost += count;
        if (tw_log_once(&sp->log_write))
            log_error("spool %s: write failed (%s): %llu message(s) lost (logged once)", sp->dir,
                      strerror(-rc), (unsigned long long)count);
        return rc;
    }
    sp->committed = sp->pend_first = first + count;
    sp->st.blocks_written++;
    swap_pend_rb(sp);
    sp->rb_first = first;
    sp->rb_count = (uint32_t)count;
    sp->rb_valid = true;
    if (sp->o.fsync == SPOOL_FSYNC_ALWAYS) {
        fdatasync(sp->act_fd);
        sp->st.fsyncs++;
    } else {
        sp->dirty = true;
    }
    return 0;
}

int spool_append(struct spool *sp, uint8_t kind, const char *key, size_t keylen, const char *data,
                 size_t len, uint64_t *seq)
{
    size_t need = REC_HDR + keylen + len + (sp->pend_count ? 0 : HDR_LEN);
    if (keylen > UINT16_MAX || len > MAX_REC_DATA) {
        sp->st.lost++;
        if (tw_log_once(&sp->log_big))
            log_error("spool %s: message of %zu bytes too large, lost (logged once)", sp->dir, len);
        return -EMSGSIZE;
    }
    if (sp->st.bytes + need > sp->o.max_bytes) {
        sp->st.lost++;
        sp->episode_lost++;
        if (!sp->full) {
            sp->full = true;
            sp->st.lost_episodes++;
            log_error("spool %s: size bound %llu bytes reached: new messages are LOST until "
                      "the broker takes the backlog (counted in spool_lost)",
                      sp->dir, (unsigned long long)sp->o.max_bytes);
        }
        return -ENOSPC;
    }
    if (sp->full) {
        sp->full = false;
        log_warn("spool %s: room again; %llu message(s) were lost while it was full", sp->dir,
                 (unsigned long long)sp->episode_lost);
        sp->episode_lost = 0;
    }
    if (grow(&sp->pend, &sp->pend_cap, sp->pend_len + REC_HDR + keylen + len, 1) < 0 ||
        grow(&sp->pend_off, &sp->pend_off_cap, sp->pend_count + 1, sizeof *sp->pend_off) < 0) {
        sp->st.lost++;
        return -ENOMEM;
    }
    if (!sp->pend_count)
        sp->pend_first = sp->head;
    uint8_t *p = sp->pend + sp->pend_len;
    p[0] = kind;
    wr16(p + 1, (uint16_t)keylen);
    wr32(p + 3, (uint32_t)len);
    if (keylen)
        memcpy(p + REC_HDR, key, keylen);
    if (len)
        memcpy(p + REC_HDR + keylen, data, len);
    sp->pend_off[sp->pend_count++] = (uint32_t)sp->pend_len;
    sp->pend_len += REC_HDR + keylen + len;
    sp->st.bytes += need;
    *seq = sp->head++;
    sp->st.appended++;
    if (sp->pend_len >= sp->o.block_bytes || sp->pend_count >= MAX_BLOCK_RECS)
        spool_commit(sp);
    return 0;
}

/* Load into rb the block of segs[si] at *off; on success *off is that block's start. Returns 1
 * loaded, 0 end of segment, a negative errno: damage (-EBADMSG, or the open's or -ENOMEM; the
 * rest of the segment is unusable). */
static int read_block(struct spool *sp, size_t si, uint64_t off, uint64_t want, uint64_t *blk_off)
{
    const struct seg *s = &sp->segs[si];
    if (sp->rd_fd < 0 || sp->rd_name != s->name) {
        if (sp->rd_fd >= 0)
            close(sp->rd_fd);
        char path[PATH_MAX];
        seg_path(sp, s->name, "", path, sizeof path);
        sp->rd_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (sp->rd_fd < 0)
            return -errno;
        sp->rd_name = s->name;
    }
    for (;;) {
        if (off >= s->bytes)
            return 0;
        uint8_t h[HDR_LEN];
        struct blkhdr bh;
        if (pread(sp->rd_fd, h, HDR_LEN, (off_t)off) != HDR_LEN || !hdr_parse(h, &bh) ||
            s->bytes - off - HDR_LEN < bh.disk_len)
            return -EBADMSG;
        if (bh.first + bh.count <= want) {
            off += HDR_LEN + bh.disk_len;
            continue;
        }
        if (grow(&sp->zbuf, &sp->zcap, bh.disk_len ? bh.disk_len : 1, 1) < 0 ||
            pread(sp->rd_fd, sp->zbuf, bh.disk_len, (off_t)(off + HDR_LEN)) !=
                (ssize_t)bh.disk_len ||
            blk_decode(h, &bh, sp->zbuf, &sp->zi, &sp->rb, &sp->rb_cap, &sp->rb_off,
                       &sp->rb_off_cap) < 0) {
            sp->rb_valid = false;
            return -EBADMSG;
        }
        sp->rb_first = bh.first;
        sp->rb_count = bh.count;
        sp->rb_valid = true;
        *blk_off = off;
        return 1;
    }
}

int spool_get(struct spool *sp, uint64_t seq, struct spool_rec *rec)
{
    if (seq >= sp->committed) {
        rec->seq = sp->committed;
        return 0;
    }
    if (!(sp->rb_valid && seq >= sp->rb_first && seq < sp->rb_first + sp->rb_count)) {
        size_t si = 0;
        while (si < sp->nseg && sp->segs[si].end <= seq)
            si++;
        int r = 0;
        while (si < sp->nseg) {
            uint64_t off = 0, blk_off = 0;
            if (sp->hint_seg == si && sp->hint_seq <= seq)
                off = sp->hint_off;
            r = read_block(sp, si, off, seq, &blk_off);
            if (r == 1) {
                sp->hint_seg = si;
                sp->hint_off = blk_off;
                sp->hint_seq = sp->rb_first;
                break;
            }
            if (r < 0) {
                sp->st.corrupt_blocks++;
                if (tw_log_once(&sp->log_corrupt))
                    log_error("spool %s: damaged segment %016llx while reading back; its rest "
                              "is skipped (logged once)",
                              sp->dir, (unsigned long long)sp->segs[si].name);
            }
            si++;
        }
        if (r != 1) {
            rec->seq = sp->committed;
            return 0;
        }
    }
    uint64_t s = seq < sp->rb_first ? sp->rb_first : seq;
    rec_at(sp->rb, sp->rb_off[s - sp->rb_first], s, rec);
    return 1;
}

void spool_ack(struct spool *sp, uint64_t seq)
{
    if (seq > sp->committed)
        seq = sp->committed;
    if (seq <= sp->acked)
        return;
    sp->acked = seq;
    if (sp->nseg && sp->segs[0].end <= seq)
        delete_acked(sp);
}

void spool_tick(struct spool *sp, uint64_t now_ms)
{
    if (sp->acked != sp->acked_written && sp->ack_fd >= 0)
        ack_write(sp);
    if (sp->o.fsync == SPOOL_FSYNC_BATCH && sp->dirty &&
        now_ms - sp->last_sync_ms >= sp->o.fsync_ms) {
        if (sp->act_fd >= 0)
            fdatasync(sp->act_fd);
        if (sp->ack_fd >= 0)
            fdatasync(sp->ack_fd);
        sp->st.fsyncs++;
        sp->dirty = false;
        sp->last_sync_ms = now_ms;
    }
}

uint64_t spool_acked(const struct spool *sp)
{
    return sp->acked;
}
uint64_t spool_committed(const struct spool *sp)
{
    return sp->committed;
}
uint64_t spool_head(const struct spool *sp)
{
    return sp->head;
}

void spool_get_stats(const struct spool *sp, struct spool_stats *st)
{
    *st = sp->st;
    st->segments = sp->nseg;
    st->head = sp->head;
    st->committed = sp->committed;
    st->acked = sp->acked;
}

void spool_close(struct spool *sp)
{
    if (!sp)
        return;
    if (sp->lock_fd >= 0 && sp->ack_fd >= 0) {
        spool_commit(sp);
        if (sp->acked != sp->acked_written)
            ack_write(sp);
        if (sp->o.fsync != SPOOL_FSYNC_NEVER) {
            if (sp->act_fd >= 0)
                fdatasync(sp->act_fd);
            fdatasync(sp->ack_fd);
        }
        delete_acked(sp);
    }
    if (sp->act_fd >= 0)
        close(sp->act_fd);
    if (sp->rd_fd >= 0)
        close(sp->rd_fd);
    if (sp->ack_fd >= 0)
        close(sp->ack_fd);
    if (sp->lock_fd >= 0)
        close(sp->lock_fd);
    if (sp->zd_ok)
        deflateEnd(&sp->zd);
    if (sp->zi_ok)
        inflateEnd(&sp->zi);
    free(sp->segs);
    free(sp->pend);
    free(sp->pend_off);
    free(sp->rb);
    free(sp->rb_off);
    free(sp->zbuf);
    free(sp);
}
