/* twgen send: replay a capture's export datagrams to a collector over loopback (see
 * twgen_send.h). The capture is parsed once into one buffer, so the send loop only walks
 * iovecs: it is also the benchmark sender. */
#include "twgen_send.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* tw_gen does not see tw_collector's include directories; these headers need none. */
#include "capture.h"
#include "clock.h"
#include "frag.h"
#include "pkt.h"
#include "udp.h"
#include "ingest.h"

#define SEND_MAX_BYTES (1ULL << 30) /* payload bytes held from one capture */
#define SEND_MAX_DGRAMS (64u << 20) /* datagrams held */
#define SEND_MAX_BATCH 1024u

struct dgram_store {
    uint8_t *buf;
    size_t len, cap;
    uint64_t *off;
    uint32_t *dlen;
    size_t n, ncap;
};

struct load_stats {
    uint64_t packets, not_udp, not_export, fragments_held, parse_errors, truncated;
};

static int store_add(struct dgram_store *s, const uint8_t *data, size_t len)
{
    if (s->n >= SEND_MAX_DGRAMS || s->len + len > SEND_MAX_BYTES || len > 65535)
        return -1;
    if (s->n == s->ncap) {
        size_t nc = s->ncap ? s->ncap * 2 : 1024;
        uint64_t *o = realloc(s->off, nc * sizeof *o);
        if (!o)
            return -1;
        s->off = o;
        uint32_t *l = realloc(s->dlen, nc * sizeof *l);
        if (!l)
            return -1;
        s->dlen = l;
        s->ncap = nc;
    }
    if (s->len + len > s->cap) {
        size_t nc = s->cap ? s->cap : 65536;
        while (nc < s->len + len)
            nc *= 2;
        uint8_t *b = realloc(s->buf, nc);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, data, len);
    s->off[s->n] = s->len;
    s->dlen[s->n] = (uint32_t)len;
    s->len += len;
    s->n++;
    return 0;
}

static void store_free(struct dgram_store *s)
{
    free(s->buf);
    free(s->off);
    free(s->dlen);
}

static int keep(struct dgram_store *s, struct load_stats *ls, int dport_filter, uint16_t dport,
                const uint8_t *data, size_t len)
{
    bool ok = dport_filter > 0 ? dport == dport_filter : ingest_looks_like_export(data, len);
    if (!ok) {
        ls->not_export++;
        return 0;
    }
    if (store_add(s, data, len) < 0) {
        fprintf(stderr, "twgen send: capture too large (limits: %llu bytes, %u datagrams)\n",
                (unsigned long long)SEND_MAX_BYTES, SEND_MAX_DGRAMS);
        return -1;
    }
    return 0;
}

static int load_capture(const char *path, int dport_filter, struct dgram_store *s,
                        struct load_stats *ls)
{
    char err[512];
    struct capture *cap;
    if (capture_open_file(path, &cap, err, sizeof err) < 0) {
        fprintf(stderr, "twgen send: %s\n", err);
        return -1;
    }
    struct frag_table *ft;
    if (frag_table_new(NULL, &ft) < 0) {
        capture_close(cap);
        return -1;
    }
    int rc = 0, cr;
    struct capture_pkt pkt;
    while ((cr = capture_next(cap, &pkt)) == CAPTURE_PACKET) {
        ls->packets++;
        struct pkt_info pi;
        int pr = pkt_parse(pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen, &pi);
        if (pr < 0 && !(pr == PKT_ERR_TRUNCATED_L4 || pr == PKT_ERR_BAD_L4_HEADER)) {
            ls->parse_errors++;
            continue;
        }
        if (pi.fragment) {
            struct frag_datagram dg;
            if (pi.proto != 17) {
                ls->not_udp++;
                continue;
            }
            int fr = frag_input(ft, &pi, pkt.ts_ns, &dg);
            if (fr == 1 && dg.payload) {
                if (keep(s, ls, dport_filter, dg.dport, dg.payload, dg.payload_len) < 0) {
                    rc = -1;
                    break;
                }
            } else if (fr == 0) {
                ls->fragments_held++;
            }
            continue;
        }
        if (pr < 0) {
            ls->parse_errors++;
            continue;
        }
        if (pi.proto != 17 || !pi.l4_payload) {
            ls->not_udp++;
            continue;
        }
        if (pi.l4_payload_caplen < pi.l4_payload_len) {
            ls->truncated++;
            continue;
        }
        if (keep(s, ls, dport_filter, pi.dport, pi.l4_payload, pi.l4_payload_len) < 0) {
            rc = -1;
            break;
        }
    }
    if (cr == CAPTURE_ERROR) {
        fprintf(stderr, "twgen send: %s: %s\n", path, capture_error(cap));
        rc = -1;
    }
    frag_table_free(ft);
    capture_close(cap);
    return rc;
}

static double mono_s(void)
{
    return (double)clock_mono_ns() / 1e9;
}

static void sleep_until(double t)
{
    double now = mono_s();
    if (t <= now)
        return;
    double d = t - now;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static int parse_u64(const char *s, const char *what, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) {
        fprintf(stderr, "twgen send: bad %s '%s'\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

static void usage(FILE *o)
{
    fprintf(o, "usage: twgen send [--rate PPS] [--count N] [--loop K] [--dport PORT] "
               "[--max-time SECONDS] [--batch N] [--sndbuf BYTES] CAPTURE HOST:PORT\n"
               "  HOST is 127.0.0.0/8 or [::1] only. --loop 0 repeats until --count or "
               "--max-time (default 600 s).\n"
               "  Datagrams: UDP payloads that look like NetFlow v5/v9/IPFIX, or all UDP to "
               "--dport.\n");
}

int twgen_send_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rate", required_argument, NULL, 'r'},
        {"count", required_argument, NULL, 'n'},
        {"loop", required_argument, NULL, 'l'},
        {"dport", required_argument, NULL, 'd'},
        {"max-time", required_argument, NULL, 't'},
        {"batch", required_argument, NULL, 'b'},
        {"sndbuf", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t rate = 0, count = UINT64_MAX, loops = 1, dport = 0, max_time = 600, batch = 64,
             sndbuf = 4u << 20;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:n:l:d:t:b:s:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'r':
            bad = parse_u64(optarg, "--rate", 100000000, &rate);
            break;
        case 'n':
            bad = parse_u64(optarg, "--count", UINT64_MAX, &count);
            break;
        case 'l':
            bad = parse_u64(optarg, "--loop", UINT32_MAX, &loops);
            break;
        case 'd':
            bad = parse_u64(optarg, "--dport", 65535, &dport);
            break;
        case 't':
            bad = parse_u64(optarg, "--max-time", 86400, &max_time);
            break;
        case 'b':
            bad = parse_u64(optarg, "--batch", SEND_MAX_BATCH, &batch);
            break;
        case 's':
            bad = parse_u64(optarg, "--sndbuf", 1u << 30, &sndbuf);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad < 0)
            return 2;
    }
    if (argc - optind != 2 || batch == 0 || max_time == 0) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind], *dest = argv[optind + 1];

    uint8_t addr[16];
    uint16_t port;
    bool v6;
    static const uint8_t lo6[16] = {[15] = 1};
    if (udp_endpoint_parse(dest, addr, &port, &v6) < 0 || port == 0) {
        fprintf(stderr, "twgen send: destination '%s': expected ADDR:PORT or [::1]:PORT\n", dest);
        return 2;
    }
    if (v6 ? memcmp(addr, lo6, 16) != 0 : addr[12] != 127) {
        fprintf(stderr, "twgen send: refusing %s: only 127.0.0.0/8 and ::1 are allowed\n", dest);
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, addr, 16);
        a->sin6_port = htons(port);
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, addr + 12, 4);
        a->sin_port = htons(port);
        sl = sizeof *a;
    }

    struct dgram_store st;
    struct load_stats ls;
    memset(&st, 0, sizeof st);
    memset(&ls, 0, sizeof ls);
    if (load_capture(path, (int)dport, &st, &ls) < 0) {
        store_free(&st);
        return 1;
    }
    fprintf(stderr,
            "twgen send: %s: %zu export datagrams (%zu bytes) from %llu packets; skipped: "
            "%llu not UDP, %llu not exports, %llu unparsable, %llu cut by snaplen, %llu fragments "
            "never completed\n",
            path, st.n, st.len, (unsigned long long)ls.packets, (unsigned long long)ls.not_udp,
            (unsigned long long)ls.not_export, (unsigned long long)ls.parse_errors,
            (unsigned long long)ls.truncated, (unsigned long long)ls.fragments_held);

    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("twgen send: socket");
        store_free(&st);
        return 1;
    }
    /* connected: no per-datagram route lookup (about 1.3x the rate of sendto on loopback) */
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        perror("twgen send: connect");
        close(fd);
        store_free(&st);
        return 1;
    }
    int sb = (int)sndbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof sb) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);

    /* paced: small batches so bursts stay within ~5 ms of the schedule */
    size_t bmax = (size_t)batch;
    if (rate > 0 && rate / 200 < bmax)
        bmax = rate / 200 ? (size_t)(rate / 200) : 1;
    struct mmsghdr *mm = calloc(bmax, sizeof *mm);
    struct iovec *iov = calloc(bmax, sizeof *iov);
    if (!mm || !iov) {
        free(mm);
        free(iov);
        close(fd);
        store_free(&st);
        return 1;
    }

    uint64_t total = st.n * (loops ? loops : UINT64_MAX / (st.n ? st.n : 1));
    if (count < total)
        total = count;
    if (st.n == 0)
        total = 0;
    uint64_t sent = 0, bytes = 0, retries = 0, refused = 0;
    size_t idx = 0;
    int rc = 0;
    bool timed_out = false;
    double t0 = mono_s(), deadline = t0 + (double)max_time;
    while (sent < total) {
        double now = mono_s();
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        size_t nb = bmax;
        if (total - sent < nb)
            nb = (size_t)(total - sent);
        if (rate > 0)
            sleep_until(t0 + (double)sent / (double)rate);
        for (size_t i = 0; i < nb; i++) {
            size_t k = (idx + i) % st.n;
            iov[i].iov_base = st.buf + st.off[k];
            iov[i].iov_len = st.dlen[k];
            memset(&mm[i], 0, sizeof mm[i]);
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
        }
        int n = sendmmsg(fd, mm, (unsigned)nb, 0);
        if (n < 0) {
            /* ECONNREFUSED: an ICMP port-unreachable for an earlier datagram (nobody was
               listening yet); the batch was not sent, so it is retried */
            if (errno == ECONNREFUSED)
                refused++;
            if ((errno == ENOBUFS || errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED) &&
                retries < 1000000) {
                retries++;
                struct timespec ts = {0, 100000};
                nanosleep(&ts, NULL);
                continue;
            }
            perror("twgen send: sendmmsg");
            rc = 1;
            break;
        }
        for (int i = 0; i < n; i++)
            bytes += iov[i].iov_len;
        sent += (uint64_t)n;
        idx = (idx + (size_t)n) % st.n;
    }
    double secs = mono_s() - t0;
    printf("twgen send: datagrams=%llu bytes=%llu seconds=%.3f pps=%.0f capture_datagrams=%zu "
           "retries=%llu refused=%llu%s\n",
           (unsigned long long)sent, (unsigned long long)bytes, secs,
           secs > 0 ? (double)sent / secs : 0.0, st.n, (unsigned long long)retries,
           (unsigned long long)refused, timed_out ? " stopped=max-time" : "");
    fflush(stdout);
    free(mm);
    free(iov);
    close(fd);
    store_free(&st);
    return rc;
}
