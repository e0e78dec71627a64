/* daemon.c: the collector daemon (see daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "capture.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "rx.h"
#include "status.h"
#include "udp.h"

#define STATUS_TEXT_MAX (1u << 20)

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct live_arg {
    struct ingest *in;
    uint64_t now_ms;
};

static void on_datagram(void *arg, const uint8_t src[16], uint16_t sport, const uint8_t *data,
                        size_t len)
{
    struct live_arg *la = arg;
    ingest_datagram(la->in, src, sport, la->now_ms, data, len);
}

/* A datagram a receive thread queued, with the time it arrived. */
static void on_rx_datagram(void *arg, const uint8_t src[16], uint16_t sport, uint64_t ts_ms,
                           const uint8_t *data, size_t len)
{
    struct live_arg *la = arg;
    ingest_datagram(la->in, src, sport, ts_ms, data, len);
}

/* ---- privileges and the paths written after the drop ---- */

struct user_ids {
    const char *name;
    uid_t uid;
    gid_t gid;
};

/* Can the user create and remove files in dir? Asked of the kernel with the user's ids as
 * effective ids (before any thread exists), so modes, ACLs, read-only mounts and every parent
 * directory count. Returns 1 yes, 0 no (errno says why), -1 cannot tell. */
static int dir_writable_by(const char *dir, const struct user_ids *u)
{
    gid_t saved[256];
    int ngroups = getgroups(256, saved);
    if (ngroups < 0 || setgroups(1, &u->gid) < 0)
        return -1;
    int rc = -1, e = 0;
    if (setegid(u->gid) == 0) {
        if (seteuid(u->uid) == 0) {
            rc = faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0 ? 1 : 0;
            e = errno;
            if (seteuid(0) < 0)
                abort(); /* cannot happen for root; never go on half-dropped */
        }
        if (setegid(0) < 0)
            abort();
    }
    if (setgroups((size_t)ngroups, saved) < 0)
        abort();
    errno = e;
    return rc;
}

static void parent_dir(const char *path, char *out, size_t len)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(out, len, "%s", dirname(tmp));
}

/* mkdir -p dir as root, giving every directory it creates to the user (mode 0750). */
static int make_dir_for(const char *dir, const struct user_ids *u)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir(tmp, 0750) == 0) {
            if (chown(tmp, u->uid, u->gid) < 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        *p = c;
        if (!c)
            break;
    }
    return 0;
}

static int refuse(const char *what, const char *path, const struct user_ids *u, const char *why)
{
    log_error("%s %s: %s by user %s: %s; refusing to start (give it to that user, or pick "
              "another path)", what, path, why, u->name, strerror(errno));
    return -1;
}

/* Every path the daemon writes after dropping to [daemon] user: created for the user, or
 * checked writable by it, or the start is refused naming the path. Runs as root, before the
 * drop and before any thread starts. check_only (--check-config): the same checks, nothing
 * created or changed (a spool directory still to be made is fine). */
static int prepare_paths(const struct settings *s, const struct user_ids *u, bool check_only)
{
    char dir[1024];
    if (s->kafka_enabled) {
        struct stat st;
        bool missing = stat(s->kafka.spool_dir, &st) < 0 && errno == ENOENT;
        if (!(check_only && missing)) {
            if (!check_only && make_dir_for(s->kafka.spool_dir, u) < 0)
                return refuse("kafka.spool_dir", s->kafka.spool_dir, u, "cannot be created");
            if (dir_writable_by(s->kafka.spool_dir, u) != 1)
                return refuse("kafka.spool_dir", s->kafka.spool_dir, u, "not writable");
        }
    }
    if (s->jsonl[0] && strcmp(s->jsonl, "-") != 0) {
        parent_dir(s->jsonl, dir, sizeof dir);
        /* the reopen after log rotation creates the file anew, as the user */
        if (dir_writable_by(dir, u) != 1)
            return refuse("output.jsonl: directory", dir, u, "not writable (needed to reopen the "
                                                             "file after log rotation)");
        if (access(s->jsonl, F_OK) == 0) {
            struct stat st;
            if (stat(s->jsonl, &st) == 0 && st.st_uid != u->uid && !check_only &&
                chown(s->jsonl, u->uid, u->gid) < 0)
                return refuse("output.jsonl", s->jsonl, u, "cannot be given");
        }
    }
    if (s->pidfile[0]) {
        parent_dir(s->pidfile, dir, sizeof dir);
        if (dir_writable_by(dir, u) != 1)
            return refuse("daemon.pidfile: directory", dir, u,
                          "not writable (the pidfile is removed at exit)");
    }
    return 0;
}

static int drop_privileges(const struct user_ids *u)
{
    if (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0) {
        log_error("cannot drop privileges to %s: %s", u->name, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 && u->uid != 0) {
        log_error("privileges could be regained after dropping them; refusing to run");
        return -1;
    }
    log_info("running as %s (uid %u)", u->name, (unsigned)u->uid);
    return 0;
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("daemon.pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0) {
        log_error("daemon.pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- reload ---- */

/* SIGHUP: read the config file again and, if it is sound, take its customer map, blocklist
 * feeds and per-customer detector options ([customer ID]: allowlists, thresholds) and
 * [detector.NAME] thresholds into use at once. Anything else in the file (listen addresses,
 * table sizes, sinks) needs a restart. A bad file or list leaves everything as it was. */
static int reload(struct run *r)
{
    struct settings *ns = calloc(1, sizeof *ns);
    struct conf_error ce;
    struct customer_map *cm = NULL;
    struct feed_set *fs = NULL;
    char msg[600];
    if (!ns || settings_init(ns) < 0) {
        log_error("reload rejected, old configuration stays in force: out of memory");
        goto fail;
    }
    if (settings_load(ns, r->config_path, &ce) < 0 || lists_load(ns, &cm, &fs, &ce) < 0) {
        log_error("reload rejected, old configuration stays in force: %s",
                  conf_error_str(&ce, msg, sizeof msg));
        goto fail;
    }
    lists_warn(fs);
    size_t nc = customers_count(cm), nf = feed_set_count(fs);
    int rc = pipeline_swap_lists(r->pipe, cm, fs); /* takes both */
    cm = NULL;
    fs = NULL;
    if (rc < 0) {
        log_error("reload rejected, old configuration stays in force: %s", strerror(-rc));
        goto fail;
    }
    if (pipeline_swap_overrides(r->pipe, ns) < 0)
        log_error("reload: out of memory for per-customer options; the previous ones stay");
    if (r->reloaded) {
        settings_free(r->reloaded);
        free(r->reloaded);
    }
    r->reloaded = ns;
    log_info("reload: %zu customers, %zu blocklists, %zu per-customer options in force", nc, nf,
             ns->noverrides);
    return 0;
fail:
    customers_free(cm);
    feed_set_free(fs);
    if (ns) {
        settings_free(ns);
        free(ns);
    }
    return -1;
}

/* ---- the loop ---- */

struct daemon {
    struct run *r;
    volatile sig_atomic_t *stop, *hup;
    struct udp_listener *ul; /* rx_threads == 0: the sockets are ours */
    struct rx_pool *rx;      /* rx_threads >= 1: receive threads own them */
    struct capture *caps[SETTINGS_MAX_CAPTURES];
    size_t ncap;
    struct metrics *mx;
    char *status;
    struct health health;
    bool pidfile_written;
};

static int open_inputs(struct daemon *d)
{
    const struct settings *s = &d->r->s;
    char err[256];
    const char *eps[64];
    size_t neps = 0;
    char tmp[sizeof s->listen];
    snprintf(tmp, sizeof tmp, "%s", s->listen);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ", ", &save); t && neps < 64; t = strtok_r(NULL, ", ", &save))
        eps[neps++] = t;
    struct udp_opts uo = {.rcvbuf_bytes = (int)s->rcvbuf, .reuseport = s->reuseport,
                          .batch = s->batch};
    if (s->rx_threads) {
        if (rx_pool_start(eps, neps, &uo, s->rx_threads, s->rx_ring, &d->rx, err, sizeof err) < 0) {
            log_error("collector.listen: %s", err);
            return -1;
        }
    } else if (udp_listener_open(eps, neps, &uo, &d->ul, err, sizeof err) < 0) {
        log_error("collector.listen: %s", err);
        return -1;
    }
    const struct udp_listener *first = d->rx ? rx_pool_listener(d->rx) : d->ul;
    size_t nfd = udp_listener_count(first);
    for (size_t i = 0; i < nfd; i++)
        log_info("listening on UDP port %u (receive buffer %d bytes)", udp_listener_port(first, i),
                 udp_listener_rcvbuf(first, i));
    if (d->rx)
        log_info("%u receive thread%s", rx_pool_threads(d->rx), rx_pool_threads(d->rx) > 1 ? "s" : "");
    /* live interfaces for the flow meter, opened before privileges are dropped */
    for (size_t i = 0; i < s->ncaptures; i++) {
        const struct capture_settings *cs = &s->captures[i];
        if (capture_open_live(cs->interface, cs->bpf, (int)cs->snaplen, cs->promisc,
                              (int)(cs->buffer >> 20), &d->caps[d->ncap], err, sizeof err) < 0) {
            log_error("[capture %s]: %s", cs->name, err);
            return -1;
        }
        d->ncap++;
        log_info("capturing on %s%s%s", cs->interface, cs->bpf[0] ? " filter " : "", cs->bpf);
    }
    if (s->metrics_listen[0]) {
        if (metrics_start(s->metrics_listen, 5000, &d->mx, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
        log_info("metrics on http://%s/metrics (port %u)", s->metrics_listen, metrics_port(d->mx));
        d->status = malloc(STATUS_TEXT_MAX);
        if (!d->status)
            return -1;
    }
    return 0;
}

/* Once a second: render /metrics and judge /healthz. */
static void publish_status(struct daemon *d, struct status_src *ss, struct udp_stats *us,
                           uint64_t mono)
{
    if (d->rx) {
        rx_pool_udp_stats(d->rx, us);
        ss->rx_ring_waits = rx_pool_ring_waits(d->rx);
    } else {
        udp_listener_stats(d->ul, us);
    }
    ss->ncaptures = d->ncap;
    for (size_t k = 0; k < d->ncap; k++) {
        ss->capture_name[k] = d->r->s.captures[k].name;
        capture_stats(d->caps[k], &ss->capture[k]);
    }
    struct pipeline_stats ps;
    pipeline_stats(d->r->pipe, &ps);
    struct health_in hi = {.now_ms = mono, .now_unix = wall_ms() / 1000,
                           .customers = customers_count(pipeline_customers(d->r->pipe)),
                           .flows = ps.flows, .unmatched = ps.unmatched,
                           .windows_closed = ps.windows_closed, .clock_skew = ps.time_skew};
    if (hi.clock_skew) { /* which exporters' clocks are off */
        static struct decode_exporter_stats ex[256]; /* main thread only */
        size_t nex = decode_exporters(ingest_decoder(d->r->in), ex, 256), len = 0;
        for (size_t i = 0; i < nex && len + ADDR_STRLEN + 3 < sizeof hi.skew_exporters; i++) {
            if (!ex[i].clock_skew)
                continue;
            char a[ADDR_STRLEN];
            len += (size_t)snprintf(hi.skew_exporters + len, sizeof hi.skew_exporters - len, "%s%s",
                                    len ? ", " : "", addr_format(ex[i].addr, a));
        }
    }
    const struct sinks *sk = &d->r->sinks;
    for (size_t i = 0; i < sk->n && hi.nsinks < SINKS_MAX; i++) {
        if (!sk->s[i].ops->health)
            continue;
        memset(&hi.sink[hi.nsinks], 0, sizeof hi.sink[0]);
        sk->s[i].ops->health(sk->s[i].self, &hi.sink[hi.nsinks]);
        hi.sink_name[hi.nsinks++] = sk->s[i].ops->name;
    }
    hi.ncaptures = d->ncap;
    for (size_t k = 0; k < d->ncap; k++) {
        hi.capture_name[k] = ss->capture_name[k];
        hi.capture_packets[k] = ss->capture[k].packets;
    }
    char verdict[1024];
    bool was_ok = d->health.ok;
    bool ok = health_eval(&d->health, &d->r->s, &hi, verdict, sizeof verdict);
    if (ok != was_ok) { /* log transitions only */
        if (ok)
            log_info("health: ok again");
        else
            log_warn("health: %.*s", (int)strcspn(verdict, "\n"), verdict);
    }
    ss->healthy = ok;
    size_t len = status_render(ss, d->status, STATUS_TEXT_MAX);
    metrics_publish(d->mx, d->status, len, verdict, mono);
}

static int loop(struct daemon *d)
{
    struct run *r = d->r;
    struct pollfd pfd[64 + SETTINGS_MAX_CAPTURES];
    int fds[64];
    size_t nfd;
    if (d->rx) { /* one fd: the receive threads' doorbell */
        nfd = 1;
        pfd[0] = (struct pollfd){.fd = rx_pool_fd(d->rx), .events = POLLIN};
    } else {
        nfd = udp_listener_fds(d->ul, fds, 64);
        for (size_t i = 0; i < nfd; i++)
            pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    for (size_t k = 0; k < d->ncap; k++)
        pfd[nfd + k] = (struct pollfd){.fd = capture_fd(d->caps[k]), .events = POLLIN};
    struct live_arg la = {r->in, wall_ms()};
    struct udp_stats us;
    memset(&us, 0, sizeof us);
    uint64_t start_unix = wall_ms() / 1000;
    struct status_src ss = {.in = r->in, .p = r->pipe, .udp = &us, .sinks = &r->sinks,
                            .last_reload_ok = true, .last_reload_unix = start_unix,
                            .start_unix = start_unix, .per_customer = r->s.metrics_per_customer,
                            .healthy = true};
    if (d->mx)
        pipeline_set_summary_tap(r->pipe, status_on_summary, &ss);
    uint64_t last_tick = 0, last_status = 0;
    health_init(&d->health);
    log_info("transitwatch %s started", TW_VERSION);
    sd_notify(0, "READY=1\nSTATUS=running");
    while (!*d->stop) {
        bool queued = d->rx && rx_pool_arm(d->rx);
        int n = poll(pfd, (nfds_t)(nfd + d->ncap), queued ? 0 : 100);
        la.now_ms = wall_ms();
        if (d->rx) {
            rx_pool_disarm(d->rx);
            /* bounded per turn so timers, signals and captures keep their turn */
            rx_pool_consume(d->rx, on_rx_datagram, &la, 65536);
        } else if (n > 0) {
            for (size_t i = 0; i < nfd; i++) {
                if (!(pfd[i].revents & POLLIN))
                    continue;
                /* drain in batches, bounded so one busy socket cannot starve the rest */
                for (int b = 0; b < 64; b++)
                    if (udp_listener_recv(d->ul, i, on_datagram, &la) <= 0)
                        break;
            }
        }
        /* captures: drained every turn (libpcap may hold packets without the fd turning
         * readable), bounded so one busy interface cannot starve the sockets */
        for (size_t k = 0; k < d->ncap; k++) {
            struct capture_pkt cp;
            for (int b = 0; b < 4096 && capture_next(d->caps[k], &cp) == CAPTURE_PACKET; b++)
                ingest_packet(r->in, &cp);
        }
        uint64_t mono = mono_ms();
        if (mono - last_tick >= 100) {
            last_tick = mono;
            pipeline_tick(r->pipe, la.now_ms);
            ingest_expire(r->in, la.now_ms);
            sinks_poll(&r->sinks);
        }
        if (d->mx && mono - last_status >= 1000) {
            last_status = mono;
            publish_status(d, &ss, &us, mono);
        }
        if (*d->hup) {
            *d->hup = 0;
            char note[96];
            snprintf(note, sizeof note, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long)mono_ms() * 1000);
            sd_notify(0, note);
            ss.reloads++;
            ss.last_reload_unix = la.now_ms / 1000;
            sinks_reopen(&r->sinks);
            if (reload(r) == 0) {
                ss.last_reload_ok = true;
            } else {
                ss.reload_failures++;
                ss.last_reload_ok = false;
            }
            sd_notify(0, "READY=1");
            last_status = 0; /* show the result at once */
        }
    }
    sd_notify(0, "STOPPING=1");
    log_info("stopping: closing the open window, flushing the sinks");
    /* what is already queued in the socket buffers is still taken */
    la.now_ms = wall_ms();
    if (d->rx) {
        rx_pool_stop(d->rx, on_rx_datagram, &la);
        rx_pool_udp_stats(d->rx, &us);
    } else {
        for (size_t i = 0; i < nfd; i++)
            for (int b = 0; b < 1024; b++)
                if (udp_listener_recv(d->ul, i, on_datagram, &la) <= 0)
                    break;
        udp_listener_stats(d->ul, &us);
    }
    for (size_t k = 0; k < d->ncap; k++) {
        struct capture_stats cst;
        capture_stats(d->caps[k], &cst);
        log_info("capture %s: %llu packets, kernel drops %llu, interface drops %llu",
                 r->s.captures[k].name, (unsigned long long)cst.packets,
                 (unsigned long long)cst.kernel_drops, (unsigned long long)cst.if_drops);
    }
    ingest_finish(r->in);
    pipeline_finish(r->pipe);
    run_publish_totals(r, "transitwatch.totals");
    sinks_flush(&r->sinks, (int)(r->s.kafka.flush_timeout * 1000));
    log_info("received %llu datagrams, kernel drops %llu", (unsigned long long)us.datagrams,
             (unsigned long long)us.kernel_drops);
    pipeline_set_summary_tap(r->pipe, NULL, NULL);
    status_free(&ss);
    return 0;
}

static void close_inputs(struct daemon *d)
{
    metrics_stop(d->mx);
    free(d->status);
    for (size_t k = 0; k < d->ncap; k++)
        capture_close(d->caps[k]);
    udp_listener_close(d->ul);
    rx_pool_stop(d->rx, NULL, NULL);
    rx_pool_free(d->rx);
}

int daemon_main(const char *config, bool check_only, volatile sig_atomic_t *stop,
                volatile sig_atomic_t *hup)
{
    struct run r;
    memset(&r, 0, sizeof r);
    if (settings_init(&r.s) < 0)
        return 2;
    struct conf_error err;
    char msg[600];
    if (run_load(&r, config, &err) < 0) {
        fprintf(stderr, "transitwatch: %s\n", conf_error_str(&err, msg, sizeof msg));
        run_teardown(&r);
        return 2;
    }
    if (check_only) {
        /* as root, also what the start checks of the paths [daemon] user will write */
        struct passwd *cpw = r.s.user[0] && geteuid() == 0 ? getpwnam(r.s.user) : NULL;
        struct user_ids cu = {.name = r.s.user, .uid = cpw ? cpw->pw_uid : 0,
                              .gid = cpw ? cpw->pw_gid : 0};
        if (cpw && cu.uid != 0 && prepare_paths(&r.s, &cu, true) < 0) {
            run_teardown(&r);
            return 2;
        }
        printf("%s: OK (%zu customers, %zu prefixes, %zu blocklists)\n", config,
               customers_count(r.customers), customers_prefix_count(r.customers),
               feed_set_count(r.feeds));
        run_teardown(&r);
        return 0;
    }
    enum tw_log_level lvl = TW_LOG_INFO;
    tw_log_level_parse(r.s.log_level, &lvl);
    tw_log_init("transitwatch", lvl, r.s.log_syslog);
    struct daemon d = {.r = &r, .stop = stop, .hup = hup};
    struct user_ids u = {.name = r.s.user};
    int rc = 1;
    bool drop = false;
    if (r.s.user[0]) {
        struct passwd *pw = getpwnam(r.s.user);
        if (!pw) { /* checked with the configuration; a user removed since */
            log_error("daemon.user: no such user '%s'", r.s.user);
            goto out;
        }
        u.uid = pw->pw_uid;
        u.gid = pw->pw_gid;
        drop = geteuid() == 0 && u.uid != 0;
        if (!drop && geteuid() != u.uid) {
            log_error("daemon.user %s: not running as root, so cannot become that user",
                      r.s.user);
            goto out;
        }
        if (drop && prepare_paths(&r.s, &u, false) < 0)
            goto out;
    }
    if (open_inputs(&d) < 0)
        goto out;
    if (r.s.pidfile[0]) {
        if (write_pidfile(r.s.pidfile) < 0)
            goto out;
        d.pidfile_written = true;
    }
    if (drop && drop_privileges(&u) < 0)
        goto out;
    /* sinks are opened as the user: what it cannot write is refused now, naming the path */
    if (run_start(&r, false, NULL, NULL, false, false) < 0)
        goto out;
    rc = loop(&d);
out:
    if (d.pidfile_written && unlink(r.s.pidfile) < 0)
        log_error("daemon.pidfile %s: cannot remove: %s", r.s.pidfile, strerror(errno));
    close_inputs(&d);
    run_teardown(&r);
    return rc;
}
