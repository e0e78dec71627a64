/* capture.c: capture files and live interfaces through libpcap. See capture.h.
 *
 * libpcap parses pcap/pcapng from a FILE*; gzip-compressed files are decompressed through a
 * fopencookie() stream (zlib gzread for files, inflate for memory) so libpcap never knows. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie, recvmmsg (CMake defines it too) */
#endif
#include "capture.h"

#include "log.h"
#include "pkt.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CAPTURE_STDIO_BUF (256 * 1024)

/* State behind a decompressing FILE*: either a gzFile (fd) or inflate over a memory buffer. */
struct gz_cookie {
    gzFile gz;          /* file mode */
    z_stream zs;        /* memory mode */
    const uint8_t *mem; /* memory mode: whole input (borrowed) */
    size_t mem_len;
    bool mem_mode;
    bool mem_end;  /* memory mode: stream finished cleanly */
    char err[128]; /* decompression error, for a clearer message than libpcap's */
};

struct capture {
    pcap_t *p;
    FILE *fp;             /* owned by p once opened (pcap_close closes it) */
    struct gz_cookie *gz; /* freed by the cookie close function */
    int linktype;
    int fd; /* live: selectable fd */
    bool live;
    bool nano; /* timestamps in ns (else us, scaled) */
    int state; /* 0 running, CAPTURE_END or CAPTURE_ERROR once finished */
    uint64_t file_size;
    struct capture_stats st;
    char name[256];
    char err[512];
};

/* fopencookie's read: bytes read, 0 at the end, -1 with errno set (its contract, not ours). */
static ssize_t gz_file_read(void *cookie, char *buf, size_t size)
{
    struct gz_cookie *g = cookie;
    int n, errnum;

    if (size > INT_MAX)
        size = INT_MAX;
    n = gzread(g->gz, buf, (unsigned)size);
    if (n < 0) {
        const char *m = gzerror(g->gz, &errnum);
        snprintf(g->err, sizeof(g->err), "gzip: %s", m ? m : "read error");
        errno = EIO;
        return -1;
    }
    /* zlib ends a stream cut short (in its data or its trailer) as a plain end of file and
     * keeps Z_BUF_ERROR: an error here, or a cut file would read as a complete one */
    if (n == 0 && (gzerror(g->gz, &errnum), errnum == Z_BUF_ERROR)) {
        snprintf(g->err, sizeof(g->err), "gzip: unexpected end of file (the file is cut)");
        errno = EIO;
        return -1;
    }
    return n;
}

static ssize_t gz_mem_read(void *cookie, char *buf, size_t size)
{
    struct gz_cookie *g = cookie;
    size_t done = 0;

    if (size > UINT_MAX)
        size = UINT_MAX;
    while (done < size && !g->mem_end) {
        int r;
        if (g->zs.avail_in == 0) {
            snprintf(g->err, sizeof(g->err), "gzip: unexpected end of file");
            errno = EIO;
            return done ? (ssize_t)done : -1;
        }
        g->zs.next_out = (Bytef *)buf + done;
        g->zs.avail_out = (uInt)(size - done);
        r = inflate(&g->zs, Z_NO_FLUSH);
        done = size - g->zs.avail_out;
        if (r == Z_STREAM_END) {
            /* Concatenated members continue; anything else after the end is ignored. */
            if (g->zs.avail_in >= 2 && g->zs.next_in[0] == 0x1f && g->zs.next_in[1] == 0x8b)
                inflateReset(&g->zs);
            else
                g->mem_end = true;
        } else if (r != Z_OK) {
            snprintf(g->err, sizeof(g->err), "gzip: %s", g->zs.msg ? g->zs.msg : "corrupt data");
            errno = EIO;
            return done ? (ssize_t)done : -1;
        }
    }
    return (ssize_t)done;
}

static int gz_close(void *cookie)
{
    struct gz_cookie *g = cookie;

    if (g->mem_mode)
        inflateEnd(&g->zs);
    else if (g->gz)
        gzclose(g->gz);
    free(g);
    return 0;
}

static FILE *gz_fopen(struct gz_cookie *g)
{
    cookie_io_functions_t io = {
        .read = g->mem_mode ? gz_mem_read : gz_file_read,
        .write = NULL,
        .seek = NULL,
        .close = gz_close,
    };
    return fopencookie(g, "r", io);
}

/* err = "name: what" (err may be NULL). */
static void set_err(char *err, size_t errlen, const char *name, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", name, what);
}

/* Map libpcap's wording to something an operator understands. */
static const char *explain_pcap_err(const char *msg)
{
    if (strstr(msg, "unknown file format"))
        return "not a pcap or pcapng capture (unknown file format)";
    return msg;
}

/* Hand fp to libpcap and finish the capture. fp is taken (closed on failure). */
static int open_stream(struct capture *c, FILE *fp, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";

    setvbuf(fp, NULL, _IOFBF, CAPTURE_STDIO_BUF);
    c->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!c->p) {
        if (c->gz && c->gz->err[0])
            set_err(err, errlen, c->name, c->gz->err);
        else
            set_err(err, errlen, c->name, explain_pcap_err(ebuf));
        fclose(fp); /* libpcap leaves it open on failure; frees the cookie too */
        c->gz = NULL;
        return -EINVAL;
    }
    c->fp = fp;
    c->nano = true;
    c->linktype = pcap_datalink(c->p);
    if (!pkt_linktype_supported(c->linktype)) {
        const char *ln = pcap_datalink_val_to_name(c->linktype);
        if (err && errlen)
            snprintf(err, errlen, "%s: unsupported link type %d (%s)", c->name, c->linktype,
                     ln ? ln : "unknown");
        return -EPROTONOSUPPORT;
    }
    return 0;
}

static struct capture *capture_alloc(const char *name)
{
    struct capture *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->fd = -1;
    snprintf(c->name, sizeof(c->name), "%s", name);
    return c;
}

int capture_open_file(const char *path, struct capture **out, char *err, size_t errlen)
{
    struct capture *c;
    struct stat sb;
    uint8_t magic[2];
    bool gz = false;
    FILE *fp = NULL;
    int fd = -1, rc = -EINVAL;

    *out = NULL;
    c = capture_alloc(path);
    if (!c) {
        set_err(err, errlen, path, "out of memory");
        return -ENOMEM;
    }
    if (strcmp(path, "-") == 0) {
        fd = dup(STDIN_FILENO);
        if (fd < 0) {
            rc = -errno;
            set_err(err, errlen, "stdin", strerror(errno));
            goto out;
        }
        gz = true; /* gzread passes uncompressed data through, and stdin cannot rewind */
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = -errno;
            if (err && errlen)
                snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            goto out;
        }
        if (fstat(fd, &sb) < 0) {
            rc = -errno;
            if (err && errlen)
                snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
            goto out;
        }
        if (S_ISDIR(sb.st_mode)) {
            set_err(err, errlen, path, "is a directory, not a capture file");
            rc = -EISDIR;
            goto out;
        }
        if (S_ISREG(sb.st_mode)) {
            ssize_t n;
            c->file_size = (uint64_t)sb.st_size;
            if (sb.st_size == 0) {
                set_err(err, errlen, path, "empty file (not a capture)");
                goto out;
            }
            n = pread(fd, magic, sizeof(magic), 0);
            gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        } else {
            gz = true; /* fifo: no rewinding */
        }
    }
    if (gz) {
        struct gz_cookie *g = calloc(1, sizeof(*g));
        if (!g) {
            set_err(err, errlen, path, "out of memory");
            rc = -ENOMEM;
            goto out;
        }
        g->gz = gzdopen(fd, "rb");
        if (!g->gz) {
            free(g);
            set_err(err, errlen, path, "cannot start gzip reader");
            goto out;
        }
        fd = -1; /* owned by gz now */
        gzbuffer(g->gz, CAPTURE_STDIO_BUF);
        fp = gz_fopen(g);
        if (!fp) {
            rc = -errno;
            gz_close(g);
            set_err(err, errlen, path, strerror(-rc));
            goto out;
        }
        c->gz = g;
    } else {
        fp = fdopen(fd, "rb");
        if (!fp) {
            rc = -errno;
            set_err(err, errlen, path, strerror(errno));
            goto out;
        }
        fd = -1;
    }
    rc = open_stream(c, fp, err, errlen);
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        capture_close(c);
    else
        *out = c;
    return rc;
}

int capture_open_mem(const void *data, size_t len, struct capture **out, char *err, size_t errlen)
{
    struct capture *c;
    const uint8_t *d = data;
    FILE *fp;
    int rc = -EINVAL;

    *out = NULL;
    c = capture_alloc("<memory>");
    if (!c) {
        set_err(err, errlen, "<memory>", "out of memory");
        return -ENOMEM;
    }
    if (len == 0) {
        set_err(err, errlen, c->name, "empty input (not a capture)");
        goto out;
    }
    if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b) {
        struct gz_cookie *g = calloc(1, sizeof(*g));
        if (!g) {
            set_err(err, errlen, c->name, "out of memory");
            rc = -ENOMEM;
            goto out;
        }
        g->mem_mode = true;
        g->mem = d;
        g->mem_len = len;
        if (inflateInit2(&g->zs, 15 + 16) != Z_OK) {
            free(g);
            set_err(err, errlen, c->name, "cannot start gzip reader");
            goto out;
        }
        g->zs.next_in = (Bytef *)(uintptr_t)d; /* zlib's API is not const; never written */
        g->zs.avail_in = len > UINT_MAX ? UINT_MAX : (uInt)len;
        fp = gz_fopen(g);
        if (!fp) {
            rc = -errno;
            gz_close(g);
            set_err(err, errlen, c->name, strerror(-rc));
            goto out;
        }
        c->gz = g;
    } else {
        fp = fmemopen((void *)(uintptr_t)d, len, "r"); /* read-only: never written */
        if (!fp) {
            rc = -errno;
            set_err(err, errlen, c->name, strerror(errno));
            goto out;
        }
    }
    rc = open_stream(c, fp, err, errlen);
out:
    if (rc < 0)
        capture_close(c);
    else
        *out = c;
    return rc;
}

int capture_open_live(const char *ifname, const char *bpf, int snaplen, bool promisc, int buffer_mb,
                      struct capture **out, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct capture *c;
    int r, rc = -EINVAL;

    *out = NULL;
    c = capture_alloc(ifname);
    if (!c) {
        set_err(err, errlen, ifname, "out of memory");
        return -ENOMEM;
    }
    c->live = true;
    c->p = pcap_create(ifname, ebuf);
    if (!c->p) {
        set_err(err, errlen, ifname, ebuf);
        goto out;
    }
    pcap_set_snaplen(c->p, snaplen > 0 ? snaplen : 262144);
    pcap_set_promisc(c->p, promisc ? 1 : 0);
    pcap_set_timeout(c->p, 100);
    if (buffer_mb > 0)
        pcap_set_buffer_size(c->p, buffer_mb * 1024 * 1024);
    (void)pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO); /* falls back to us */
    r = pcap_activate(c->p);
    if (r < 0) {
        const char *why = pcap_geterr(c->p);
        if (r == PCAP_ERROR_PERM_DENIED) {
            why = "permission denied (needs root or CAP_NET_RAW)";
            rc = -EPERM;
        } else if (r == PCAP_ERROR_NO_SUCH_DEVICE) {
            why = "no such interface";
            rc = -ENODEV;
        } else if (r == PCAP_ERROR_IFACE_NOT_UP) {
            why = "interface is down";
            rc = -ENETDOWN;
        }
        set_err(err, errlen, ifname, why);
        goto out;
    }
    c->nano = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO;
    c->linktype = pcap_datalink(c->p);
    if (!pkt_linktype_supported(c->linktype)) {
        const char *ln = pcap_datalink_val_to_name(c->linktype);
        if (err && errlen)
            snprintf(err, errlen, "%s: unsupported link type %d (%s)", ifname, c->linktype,
                     ln ? ln : "unknown");
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    if (bpf && bpf[0]) {
        struct bpf_program prog;
        if (pcap_compile(c->p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            if (err && errlen)
                snprintf(err, errlen, "%s: bad filter '%s': %s", ifname, bpf, pcap_geterr(c->p));
            goto out;
        }
        r = pcap_setfilter(c->p, &prog);
        pcap_freecode(&prog);
        if (r < 0) {
            set_err(err, errlen, ifname, pcap_geterr(c->p));
            goto out;
        }
    }
    if (pcap_setnonblock(c->p, 1, ebuf) < 0) {
        set_err(err, errlen, ifname, ebuf);
        goto out;
    }
    c->fd = pcap_get_selectable_fd(c->p);
    rc = 0;
out:
    if (rc < 0)
        capture_close(c);
    else
        *out = c;
    return rc;
}

int capture_next(struct capture *c, struct capture_pkt *pkt)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;

    if (c->state != 0)
        return c->state;
    r = pcap_next_ex(c->p, &h, &data);
    if (r == 1) {
        uint64_t frac = (uint64_t)h->ts.tv_usec;
        pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (c->nano ? frac : frac * 1000u);
        pkt->linktype = c->linktype;
        pkt->data = data;
        pkt->caplen = h->caplen;
        pkt->wirelen = h->len > h->caplen ? h->len : h->caplen;
        c->st.packets++;
        c->st.bytes += pkt->wirelen;
        return CAPTURE_PACKET;
    }
    if (r == 0)
        return c->live ? CAPTURE_IDLE : CAPTURE_END;
    if (r == PCAP_ERROR_BREAK && !c->live) {
        c->state = CAPTURE_END;
        return CAPTURE_END;
    }
    c->st.errors++;
    if (c->gz && c->gz->err[0])
        snprintf(c->err, sizeof(c->err), "%s: %s (after %llu packets)", c->name, c->gz->err,
                 (unsigned long long)c->st.packets);
    else
        snprintf(c->err, sizeof(c->err), "%s: %s (after %llu packets)", c->name, pcap_geterr(c->p),
                 (unsigned long long)c->st.packets);
    c->state = CAPTURE_ERROR;
    return CAPTURE_ERROR;
}

const char *capture_error(const struct capture *c)
{
    return c->err;
}

int capture_linktype(const struct capture *c)
{
    return c->linktype;
}

uint64_t capture_bytes_read(const struct capture *c)
{
    if (c->live || !c->fp)
        return 0;
    if (c->gz) {
        if (c->gz->mem_mode)
            return c->gz->mem_len - c->gz->zs.avail_in;
        z_off_t o = gzoffset(c->gz->gz);
        return o > 0 ? (uint64_t)o : 0;
    }
    off_t o = ftello(c->fp);
    return o > 0 ? (uint64_t)o : 0;
}

uint64_t capture_file_size(const struct capture *c)
{
    return c->file_size;
}

int capture_fd(const struct capture *c)
{
    return c->live ? c->fd : -1;
}

void capture_stats(struct capture *c, struct capture_stats *out)
{
    if (c->live && c->p) {
        struct pcap_stat ps;
        if (pcap_stats(c->p, &ps) == 0) {
            c->st.kernel_drops = ps.ps_drop;
            c->st.if_drops = ps.ps_ifdrop;
        }
    }
    *out = c->st;
}

void capture_close(struct capture *c)
{
    if (!c)
        return;
    if (c->p)
        pcap_close(c->p); /* closes fp (and through it the gzip cookie) */
    free(c);
}

int capture_first_ts(const char *path, uint64_t *ts_ns, char *err, size_t errlen)
{
    struct capture *c;
    struct capture_pkt pkt;
    int r;

    r = capture_open_file(path, &c, err, errlen);
    if (r < 0)
        return r;
    r = capture_next(c, &pkt);
    if (r == CAPTURE_PACKET) {
        *ts_ns = pkt.ts_ns;
        r = 1;
    } else if (r == CAPTURE_END) {
        r = 0;
    } else {
        if (err && errlen)
            snprintf(err, errlen, "%s", capture_error(c));
        r = -EIO;
    }
    capture_close(c);
    return r;
}

struct ts_entry {
    const char *path;
    uint64_t ts;
    size_t idx;
};

static int ts_cmp(const void *a, const void *b)
{
    const struct ts_entry *x = a, *y = b;

    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

int capture_sort_by_time(const char **paths, size_t n, char *err, size_t errlen)
{
    struct ts_entry *e;
    size_t i;

    if (n < 2)
        return 0;
    e = calloc(n, sizeof(*e));
    if (!e) {
        set_err(err, errlen, "capture_sort_by_time", "out of memory");
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        int r = capture_first_ts(paths[i], &e[i].ts, err, errlen);
        if (r < 0) {
            free(e);
            return r;
        }
        if (r == 0)
            e[i].ts = UINT64_MAX;
        e[i].path = paths[i];
        e[i].idx = i;
    }
    qsort(e, n, sizeof(*e), ts_cmp);
    for (i = 0; i < n; i++)
        paths[i] = e[i].path;
    free(e);
    return 0;
}

/* ---- capture sources ---- */

#define C CTR_COUNTER
#define CAPTURE_ROWS(X)                                                                            \
    X(T, packets, NULL, "capture_packets_total", NULL, C, "Packets read from a live interface.")   \
    X(T, bytes, NULL, "capture_bytes_total", NULL, C,                                              \
      "Bytes on the wire of the packets read from a live interface.")                              \
    X(T, errors, "capture_errors", "capture_errors_total", NULL, C,                                \
      "Read errors of a live capture.")                                                            \
    X(T, kernel_drops, "capture_kernel_drops", "capture_kernel_drops_total", NULL, C,              \
      "Packets the kernel dropped for a live capture (buffer full).")                              \
    X(T, if_drops, "capture_interface_drops", "capture_interface_drops_total", NULL, C,            \
      "Packets the interface or driver dropped for a live capture.")
#define T struct capture_stats
static const struct ctr_def capture_defs[] = {CAPTURE_ROWS(CTR_ROW)};
#undef T
#undef C
_Static_assert(sizeof(struct capture_stats) == sizeof capture_defs / sizeof capture_defs[0] * 8,
               "a capture_stats counter without its row");
_Static_assert(sizeof(struct capture_stats) <= SOURCE_SNAP_MAX, "snapshot too large");

const struct ctr_def *capture_counter_defs(size_t *n)
{
    *n = sizeof capture_defs / sizeof capture_defs[0];
    return capture_defs;
}

struct capture_source {
    struct source base; /* first */
    struct capture *c;
    uint64_t max_packets; /* 0: no limit */
};

static struct capture *cap_of(struct source *s)
{
    return ((struct capture_source *)s)->c;
}

static int cap_src_fd(struct source *s)
{
    return capture_fd(cap_of(s));
}

static bool cap_src_ready(struct source *s)
{
    (void)s;
    return true; /* a file: the next packet is always there (or the end) */
}

static int cap_src_drain_packets(struct source *s, size_t budget)
{
    struct capture_source *cs = (struct capture_source *)s;
    struct capture_pkt pkt;
    size_t n = 0;
    while (n < budget) {
        if (cs->max_packets && cs->c->st.packets >= cs->max_packets)
            return n ? (int)n : SOURCE_EOF;
        int r = capture_next(cs->c, &pkt);
        if (r == CAPTURE_PACKET) {
            s->out.packet(s->out.arg, &pkt);
            n++;
            continue;
        }
        if (r == CAPTURE_IDLE || n)
            break; /* the end or an error is reported by the next call */
        if (r == CAPTURE_END)
            return SOURCE_EOF;
        if (strcmp(s->name, cs->c->name) == 0) /* a file: its error names it already */
            log_error("%s", capture_error(cs->c));
        else /* a live capture: its name, then the interface's error */
            log_error("%s: %s", s->name, capture_error(cs->c));
        s->failures++;
        return -EIO;
    }
    return (int)n;
}

/* Every drain that handed packets ends their run (out.packets_end: the ingest counts what it
 * staged), so nothing handed is held past the drain. */
static int cap_src_drain(struct source *s, size_t budget)
{
    int n = cap_src_drain_packets(s, budget);
    if (n > 0 && s->out.packets_end)
        s->out.packets_end(s->out.arg);
    return n;
}

static size_t cap_src_counters(struct source *s, size_t table, const struct ctr_def **defs,
                               void *snap)
{
    struct capture_stats st;
    capture_stats(cap_of(s), &st);
    size_t n;
    const struct ctr_def *d = capture_counter_defs(&n);
    return source_one_table(table, d, n, &st, sizeof st, defs, snap);
}

static void cap_src_close(struct source *s)
{
    capture_close(cap_of(s));
    free(s);
}

static const struct source_ops capture_live_ops = {
    .kind = "capture",
    .budget = CAPTURE_LIVE_BUDGET,
    .fd = cap_src_fd,
    .drain_each_turn = true, /* libpcap may hold packets without the fd turning readable */
    .drain = cap_src_drain,
    .counters = cap_src_counters,
    .close = cap_src_close,
};

static const struct source_ops capture_file_ops = {
    .kind = "pcap-file",
    .budget = CAPTURE_FILE_BUDGET,
    .ready = cap_src_ready,
    .drain = cap_src_drain,
    .counters = cap_src_counters,
    .close = cap_src_close,
};

static int cap_src_new(const struct source_ops *ops, const char *name, struct capture *c,
                       const struct source_out *out, struct source **src)
{
    struct capture_source *cs = calloc(1, sizeof *cs);
    if (!cs) {
        capture_close(c);
        return -ENOMEM;
    }
    source_init(&cs->base, ops, out, name);
    cs->c = c;
    *src = &cs->base;
    return 0;
}

int capture_source_open_live(const char *name, const char *ifname, const char *bpf, int snaplen,
                             bool promisc, int buffer_mb, uint64_t max_packets,
                             const struct source_out *out, struct source **src, char *err,
                             size_t errlen)
{
    struct capture *c;
    if (capture_open_live(ifname, bpf, snaplen, promisc, buffer_mb, &c, err, errlen) < 0)
        return -EIO;
    int rc = cap_src_new(&capture_live_ops, name, c, out, src);
    if (rc < 0) {
        snprintf(err, errlen, "%s: out of memory", ifname);
        return rc;
    }
    struct capture_source *cs = (struct capture_source *)*src;
    cs->max_packets = max_packets;
    snprintf(cs->base.label_buf, sizeof cs->base.label_buf, "capture=\"%s\"", name);
    cs->base.label = cs->base.label_buf;
    return 0;
}

int capture_source_open_file(const char *path, const struct source_out *out, struct source **src,
                             char *err, size_t errlen)
{
    struct capture *c;
    if (capture_open_file(path, &c, err, errlen) < 0)
        return -EIO;
    int rc = cap_src_new(&capture_file_ops, path, c, out, src);
    if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", path);
    return rc;
}

struct capture *capture_source_capture(struct source *s)
{
    return cap_of(s);
}
