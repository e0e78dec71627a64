/* daemon.c: the collector daemon (see daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alerts.h"
#include "capture.h"
#include "clock.h"
#include "evloop.h"
#include "health.h"
#include "kafka_in.h"
#include "lines.h"
#include "log.h"
#include "metrics.h"
#include "report_dir.h"
#include "run.h"
#include "rx.h"
#include "source.h"
#include "status.h"
#include "udp.h"

#define STATUS_TEXT_MAX (1u << 20)
#define DAEMON_TICK_MS 100        /* pipeline time, expiry, sink service */
#define DAEMON_STATUS_MS 1000     /* /metrics and /healthz */
#define DAEMON_FINAL_BUDGET 65536 /* items each source still hands on at shutdown */

/* ---- privileges and the paths written after the drop ---- */

struct user_ids {
    const char *name;
    uid_t uid;
    gid_t gid;
};

/* Can the user do mode (access(2)'s R_OK, W_OK, X_OK) on path? Asked of the kernel with the
 * user's ids as effective ids (before any thread exists), so modes, ACLs, read-only mounts and
 * every parent directory count. Returns 1 yes, 0 no (errno says why), a negative errno: cannot
 * tell. */
static int user_can(const char *path, int mode, const struct user_ids *u)
{
    gid_t saved[256];
    int ngroups = getgroups(256, saved);
    if (ngroups < 0 || setgroups(1, &u->gid) < 0)
        return -errno;
    int rc, e = 0;
    if (setegid(u->gid) < 0) {
        rc = -errno;
    } else {
        if (seteuid(u->uid) < 0) {
            rc = -errno;
        } else {
            rc = faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0 ? 1 : 0;
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

/* mkdir -p dir as root, giving every directory it creates to the user (mode 0750). 0 or
 * -errno. */
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
                return -errno;
        } else if (errno != EEXIST) {
            return -errno;
        }
        *p = c;
        if (!c)
            break;
    }
    return 0;
}

/* Returns -EACCES (the start is refused). */
static int refuse(const char *what, const char *path, const struct user_ids *u, const char *why)
{
    log_error("%s %s: %s by user %s: %s; refusing to start (give it to that user, or pick "
              "another path)",
              what, path, why, u->name, strerror(errno));
    return -EACCES;
}

/* A directory the user writes in: made for it when missing (by root, so the missing part's
 * parent need not be the user's) or checked writable by it. A missing one must be reachable
 * by the user once made: the nearest existing ancestor searchable by it (and so every directory
 * above), checked before anything is created, so a refusal leaves nothing behind.
 * check_only: the same checks, nothing created. 0 or -EACCES. */
static int prepare_dir(const char *what, const char *dir, const struct user_ids *u, bool check_only)
{
    struct stat st;
    if (stat(dir, &st) < 0 && errno == ENOENT) {
        char up[1024], why[1200];
        snprintf(up, sizeof up, "%s", dir);
        do
            parent_dir(up, up, sizeof up);
        while (stat(up, &st) < 0 && errno == ENOENT);
        if (user_can(up, X_OK, u) != 1) {
            snprintf(why, sizeof why,
                     "not reachable once made (%s or a directory above it is not "
                     "searchable)",
                     up);
            return refuse(what, dir, u, why);
        }
        if (check_only)
            return 0;
        if (make_dir_for(dir, u) < 0)
            return refuse(what, dir, u, "cannot be created");
    }
    if (user_can(dir, W_OK | X_OK, u) != 1)
        return refuse(what, dir, u, "not writable");
    return 0;
}

/* Every path the daemon writes after dropping to [daemon] user: created for the user, or
 * checked writable by it, or the start is refused naming the path. Runs as root, before the
 * drop and before any thread starts. check_only (--check-config): the same checks, nothing
 * created or changed. 0 or -EACCES. */
static int prepare_paths(const struct settings *s, const struct user_ids *u, bool check_only)
{
    char dir[1024];
    if (s->kafka_enabled && prepare_dir("kafka.spool_dir", s->kafka.spool_dir, u, check_only) < 0)
        return -EACCES;
    if (s->jsonl[0] && strcmp(s->jsonl, "-") != 0) {
        parent_dir(s->jsonl, dir, sizeof dir);
        /* the reopen after log rotation creates the file anew, as the user */
        if (user_can(dir, W_OK | X_OK, u) != 1)
            return refuse("output.jsonl: directory", dir, u,
                          "not writable (needed to reopen the "
                          "file after log rotation)");
        if (access(s->jsonl, F_OK) == 0) {
            struct stat st;
            if (stat(s->jsonl, &st) == 0 && st.st_uid != u->uid && !check_only &&
                chown(s->jsonl, u->uid, u->gid) < 0)
                return refuse("output.jsonl", s->jsonl, u, "cannot be given");
        }
    }
    if (s->report_dir[0] && prepare_dir("report.directory", s->report_dir, u, check_only) < 0)
        return -EACCES;
    if (s->pidfile[0]) {
        parent_dir(s->pidfile, dir, sizeof dir);
        if (user_can(dir, W_OK | X_OK, u) != 1)
            return refuse("daemon.pidfile: directory", dir, u,
                          "not writable (the pidfile is removed at exit)");
    }
    if (s->incidents_file[0]) {
        parent_dir(s->incidents_file, dir, sizeof dir);
        if (user_can(dir, W_OK | X_OK, u) != 1)
            return refuse("daemon.incidents_file: directory", dir, u,
                          "not writable (the file is written anew and renamed over the old)");
    }
    return 0;
}

/* The files a SIGHUP reads again, as the user by then: the config file, the customer map and
 * every blocklist file must be readable by it, or the start is refused naming the path (else
 * every reload would fail with "Permission denied"). 0 or -EACCES. */
static int check_rereads(const struct settings *s, const struct user_ids *u)
{
    const char *why = "not readable (a SIGHUP reads it again as that user)";
    if (user_can(s->source_file, R_OK, u) != 1)
        return refuse("config file", s->source_file, u, why);
    if (s->customers_file[0] && user_can(s->customers_file, R_OK, u) != 1)
        return refuse("customers.file", s->customers_file, u, why);
    for (size_t i = 0; i < s->nfeeds; i++) {
        char what[96];
        snprintf(what, sizeof what, "[blocklist %s] file", s->feeds[i].name);
        if (s->feeds[i].file[0] && user_can(s->feeds[i].file, R_OK, u) != 1)
            return refuse(what, s->feeds[i].file, u, why);
    }
    return 0;
}

/* 0 or -errno (logged). */
static int drop_privileges(const struct user_ids *u)
{
    if (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0) {
        int e = errno;
        log_error("cannot drop privileges to %s: %s", u->name, strerror(e));
        return -e;
    }
    if (setuid(0) == 0 && u->uid != 0) {
        log_error("privileges could be regained after dropping them; refusing to run");
        return -EPERM;
    }
    log_info("running as %s (uid %u)", u->name, (unsigned)u->uid);
    return 0;
}

/* [daemon] pidfile, held with a lock for the process' life: a second instance started on
 * the same file finds it locked and is refused before it touches anything (sockets, spool,
 * the file itself), naming the holder. Taken first thing, as root. The fd (or -1) in *fd.
 * 0 or -errno (logged). */
static int lock_pidfile(const char *path, int *fd)
{
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) {
        int e = errno;
        log_error("daemon.pidfile %s: %s", path, strerror(e));
        return -e;
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = e == EWOULDBLOCK ? pread(*fd, pid, sizeof pid - 1, 0) : -1;
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        if (e == EWOULDBLOCK)
            log_error("daemon.pidfile %s: held by another transitwatch (pid %s); refusing to "
                      "start a second instance on it",
                      path, pid[0] ? pid : "not written yet");
        else
            log_error("daemon.pidfile %s: cannot lock: %s", path, strerror(e));
        close(*fd);
        *fd = -1;
        return -e;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) < 0 || pwrite(*fd, line, (size_t)len, 0) != len) {
        int e = errno;
        log_error("daemon.pidfile %s: %s", path, strerror(e));
        close(*fd);
        *fd = -1;
        return -e;
    }
    return 0;
}

/* At exit: the pidfile goes only while the path is still the file this process locked (one
 * removed and made anew by someone else is theirs). */
static void unlock_pidfile(const char *path, int fd)
{
    struct stat held, now;
    if (fd < 0)
        return;
    if (fstat(fd, &held) == 0 && stat(path, &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino && unlink(path) < 0)
        log_error("daemon.pidfile %s: cannot remove: %s", path, strerror(errno));
    close(fd);
}

/* ---- reload ---- */

static void warn_restart(void *arg, const char *key)
{
    (void)arg;
    log_warn("reload: %s changed: needs a restart; not applied", key);
}

/* SIGHUP: read the config file again and, if it is sound, take its customer map, blocklist
 * feeds and per-customer detector options ([customer ID]: allowlists, thresholds) and
 * [detector.NAME] thresholds into use at once. Anything else in the file (listen addresses,
 * table sizes, sinks) needs a restart: each such key whose value differs from the one in
 * force is named in a warning and counted in *pending. instance_id: --instance-id, over the
 * file's as at start (NULL: none). A bad file or list leaves everything as it was.
 * 0 or -errno (logged). */
static int reload(struct run *r, const char *instance_id, uint64_t *pending)
{
    struct settings *ns = calloc(1, sizeof *ns);
    struct conf_error ce;
    struct customer_map *cm = NULL;
    struct feed_set *fs = NULL;
    char msg[600];
    int rc = -ENOMEM;
    if (!ns || settings_init(ns) < 0) {
        log_error("reload rejected, old configuration stays in force: out of memory");
        goto fail;
    }
    if ((rc = settings_load(ns, r->config_path, &ce)) < 0 ||
        (rc = lists_load(ns, &cm, &fs, &ce)) < 0) {
        log_error("reload rejected, old configuration stays in force: %s",
                  conf_error_str(&ce, msg, sizeof msg));
        goto fail;
    }
    if (instance_id)
        snprintf(ns->kafka.instance_id, sizeof ns->kafka.instance_id, "%s", instance_id);
    lists_warn(fs);
    size_t nc = customers_count(cm), nf = feed_set_count(fs);
    rc = pipeline_swap_lists(r->pipe, cm, fs); /* takes both */
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
    *pending = settings_restart_changes(&r->s, ns, warn_restart, NULL);
    log_info("reload: %zu customers, %zu blocklists, %zu per-customer options in force%s", nc, nf,
             ns->noverrides, *pending ? " (changes that need a restart not applied)" : "");
    return 0;
fail:
    customers_free(cm);
    feed_set_free(fs);
    if (ns) {
        settings_free(ns);
        free(ns);
    }
    return rc;
}

/* ---- the sources and the loop ---- */

struct daemon {
    struct run *r;
    const struct daemon_opts *o;
    volatile sig_atomic_t *stop, *hup;
    struct source *kafka_in; /* detect: the consumer (also in ss) */
    struct evloop *loop;
    struct source_set ss;
    bool ss_ok;
    struct source *caps[SETTINGS_MAX_CAPTURES]; /* the live captures (also in ss) */
    size_t ncap;
    struct metrics *mx;
    char *status;
    struct status_src st;
    struct health health;
    int pidfile_fd;        /* the locked pidfile (-1: none) */
    struct report *report; /* [report]: the report sink's model (borrowed from the sink) */
    struct report_page *pages;
    struct report_dir_failure report_fail; /* of the last write of the pages */
    uint64_t saved_close;                  /* the window close whose incidents were last saved */
};

/* The UDP listeners: on receive threads (rx_threads >= 1) or on this loop. Their output is set
 * once the ingest exists (daemon_attach). 0 or -errno (logged). */
static int open_udp(struct daemon *d)
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
    struct udp_opts uo = {.rcvbuf_bytes = (int)s->rcvbuf,
                          .reuseport = s->reuseport,
                          .batch = s->batch,
                          .coalesce_us = s->rx_coalesce_us};
    struct source_out none = {0};
    struct source *src;
    int rc = s->rx_threads ? rx_source_open(eps, neps, &uo, s->rx_threads, s->rx_ring, &none, &src,
                                            err, sizeof err)
                           : udp_source_open(eps, neps, &uo, &none, &src, err, sizeof err);
    if (rc < 0) {
        log_error("collector.listen: %s", err);
        return rc;
    }
    const struct udp_listener *first =
        s->rx_threads ? rx_source_listener(src) : udp_source_listener(src);
    for (size_t i = 0; i < udp_listener_count(first); i++)
        log_info("listening on UDP port %u (receive buffer %d bytes)", udp_listener_port(first, i),
                 udp_listener_rcvbuf(first, i));
    if (s->rx_threads)
        log_info("%u receive thread%s", s->rx_threads, s->rx_threads > 1 ? "s" : "");
    return source_set_add(&d->ss, src);
}

/* Sockets, live interfaces and the metrics port, opened as root (before the drop). 0 or -errno
 * (logged). */
static int open_inputs(struct daemon *d)
{
    const struct settings *s = &d->r->s;
    char err[256];
    int rc = evloop_new(&d->loop);
    if (rc < 0 || (rc = source_set_init(&d->ss, d->loop)) < 0)
        return rc;
    d->ss_ok = true;
    if (d->o->mode != DAEMON_DETECT && (rc = open_udp(d)) < 0)
        return rc;
    for (size_t i = 0; d->o->mode != DAEMON_DETECT && i < s->ncaptures; i++) {
        const struct capture_settings *cs = &s->captures[i];
        struct source_out none = {0};
        struct source *src;
        rc = capture_source_open_live(cs->name, cs->interface, cs->bpf, (int)cs->snaplen,
                                      cs->promisc, (int)(cs->buffer >> 20), 0, &none, &src, err,
                                      sizeof err);
        if (rc < 0) {
            log_error("[capture %s]: %s", cs->name, err);
            return rc;
        }
        if ((rc = source_set_add(&d->ss, src)) < 0)
            return rc;
        d->caps[d->ncap++] = src;
        log_info("capturing on %s%s%s", cs->interface, cs->bpf[0] ? " filter " : "", cs->bpf);
    }
    if (s->metrics_listen[0]) {
        if (metrics_start(s->metrics_listen, 5000, &d->mx, err, sizeof err) < 0) {
            log_error("%s", err);
            return -EIO;
        }
        log_info("metrics on http://%s/metrics (port %u)", s->metrics_listen, metrics_port(d->mx));
        d->status = malloc(STATUS_TEXT_MAX);
        if (!d->status)
            return -ENOMEM;
    }
    return 0;
}

/* The exporters whose records were far from their clock, for the health reason. */
static void skew_exporters(const struct ingest *in, char *out, size_t cap)
{
    static struct decode_exporter_stats ex[256]; /* main thread only */
    size_t nex = decode_exporters(ingest_decoder(in), ex, 256), len = 0;
    for (size_t i = 0; i < nex && len + ADDR_STRLEN + 3 < cap; i++) {
        if (!ex[i].clock_skew)
            continue;
        char a[ADDR_STRLEN];
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "",
                                addr_format(ex[i].addr, a));
    }
}

/* What /healthz judges: the pipeline's figures, the sinks, the captures. */
static void health_inputs(struct daemon *d, uint64_t mono, struct health_in *hi)
{
    struct pipeline_stats ps;
    pipeline_stats(d->r->pipe, &ps);
    *hi = (struct health_in){.now_ms = mono,
                             .now_unix = clock_wall_ms() / 1000,
                             .customers = customers_count(pipeline_customers(d->r->pipe)),
                             .flows = ps.flows,
                             .unmatched = ps.unmatched,
                             .windows_closed = ps.windows_closed,
                             .clock_skew = ps.time_skew};
    if (hi->clock_skew)
        skew_exporters(d->r->in, hi->skew_exporters, sizeof hi->skew_exporters);
    const struct sinks *sk = &d->r->sinks;
    for (size_t i = 0; i < sk->n && hi->nsinks < SINKS_MAX; i++) {
        if (!sk->s[i].ops->health)
            continue;
        sk->s[i].ops->health(sk->s[i].self, &hi->sink[hi->nsinks]);
        hi->sink_name[hi->nsinks++] = sk->s[i].ops->name;
    }
    hi->ncaptures = d->ncap;
    for (size_t k = 0; k < d->ncap; k++) {
        struct capture_stats cs;
        capture_stats(capture_source_capture(d->caps[k]), &cs);
        hi->capture_name[k] = d->caps[k]->name;
        hi->capture_packets[k] = cs.packets;
        hi->capture_stopped[k] =
            d->caps[k]->failures ? capture_error(capture_source_capture(d->caps[k])) : NULL;
    }
    if (d->report_fail.error) {
        hi->report_dir = d->r->s.report_dir;
        hi->report_failed = d->report_fail.pages;
        hi->report_error = d->report_fail.error;
    }
    if (d->kafka_in) {
        struct kafka_in_stats ks;
        kafka_in_source_stats(d->kafka_in, &ks);
        hi->kafka_in = true;
        hi->kafka_partitions = ks.partitions;
        hi->kafka_lag = ks.lag;
        hi->kafka_stalled =
            kafka_in_source_stalled(d->kafka_in, mono, &hi->kafka_stalled_ms, &hi->kafka_waiting);
    }
}

/* Render /metrics and judge /healthz. */
static void publish_status(struct daemon *d)
{
    uint64_t mono = clock_mono_ms();
    struct health_in hi;
    health_inputs(d, mono, &hi);
    char verdict[1024];
    bool was_ok = d->health.ok;
    bool ok = health_eval(&d->health, &d->r->s, &hi, verdict, sizeof verdict);
    if (ok != was_ok) { /* log transitions only */
        if (ok)
            log_info("health: ok again");
        else
            log_warn("health: %.*s", (int)strcspn(verdict, "\n"), verdict);
    }
    d->st.healthy = ok;
    size_t len = status_render(&d->st, d->status, STATUS_TEXT_MAX);
    metrics_publish(d->mx, d->status, len, verdict, mono);
}

/* [daemon] incidents_file: written when alerts were raised since the last save. */
static void save_incidents(struct daemon *d)
{
    struct alert_mgr *m = pipeline_alert_mgr(d->r->pipe);
    if (d->r->s.incidents_file[0] && m && alert_mgr_changed(m))
        alert_mgr_save(m, d->r->s.incidents_file, clock_wall_ms());
}

/* At start, before the first record: the incidents the last run left. A missing file is a
 * first start; a file that cannot be read back is named and set aside (PATH.bad), and the
 * daemon starts without it rather than not at all. */
static void load_incidents(struct daemon *d)
{
    const char *path = d->r->s.incidents_file;
    struct alert_mgr *m = pipeline_alert_mgr(d->r->pipe);
    if (!path[0] || !m)
        return;
    uint64_t n = 0;
    char err[256];
    int rc = alert_mgr_load(m, path, &n, err, sizeof err);
    if (rc == 0) {
        log_info("incidents file %s: %llu incidents restored", path, (unsigned long long)n);
        return;
    }
    if (rc == -ENOENT) {
        log_info("incidents file %s: none yet (a first start)", path);
        return;
    }
    char bad[600];
    snprintf(bad, sizeof bad, "%s.bad", path);
    bool moved = rename(path, bad) == 0;
    log_error("incidents file %s: %s; starting without its incidents%s%s", path, err,
              moved ? ", the file kept as " : "", moved ? bad : "");
}

static uint64_t on_tick(void *arg, uint64_t now_ms)
{
    (void)now_ms;
    struct daemon *d = arg;
    uint64_t wall = clock_wall_ms();
    pipeline_tick(d->r->pipe, wall);
    ingest_expire(d->r->in, wall);
    sinks_poll(&d->r->sinks);
    uint64_t closed = pipeline_last_window_end(d->r->pipe);
    if (closed != d->saved_close) { /* a window closed: its incidents to the file */
        d->saved_close = closed;
        save_incidents(d);
    }
    return DAEMON_TICK_MS;
}

static uint64_t on_status(void *arg, uint64_t now_ms)
{
    (void)now_ms;
    publish_status(arg);
    return DAEMON_STATUS_MS;
}

/* [report] period: every customer's page written, the oldest removed, the latest served. */
static void write_reports(struct daemon *d)
{
    const struct settings *s = &d->r->s;
    int n = report_dir_write(d->report, s->report_dir, s->report_retention, clock_wall_ms(),
                             d->pages, REPORT_MAX_CUSTOMERS, &d->report_fail);
    d->st.report_write_errors += d->report_fail.pages;
    if (n < 0 || !d->mx)
        return;
    const char *ids[REPORT_MAX_CUSTOMERS], *paths[REPORT_MAX_CUSTOMERS];
    for (int i = 0; i < n; i++) {
        ids[i] = d->pages[i].id;
        paths[i] = d->pages[i].path;
    }
    metrics_set_reports(d->mx, ids, paths, (size_t)n);
}

static uint64_t on_report(void *arg, uint64_t now_ms)
{
    (void)now_ms;
    struct daemon *d = arg;
    write_reports(d);
    return d->r->s.report_period * 1000;
}

/* The report sink (the model of every message), when [report] directory is set. 0 or -1. */
static int open_report(struct daemon *d)
{
    if (!d->r->s.report_dir[0])
        return 0;
    if (run_open_report(d->r, "transitwatch customer report", NULL, &d->report) < 0)
        return -1;
    if (!(d->pages = calloc(REPORT_MAX_CUSTOMERS, sizeof *d->pages))) {
        log_error("report: out of memory");
        return -1;
    }
    return 0;
}

/* SIGHUP: reopen the sinks' files, reload the lists and options, tell systemd. */
static void on_hup(struct daemon *d)
{
    char note[96];
    snprintf(note, sizeof note, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)clock_mono_ms() * 1000);
    sd_notify(0, note);
    d->st.reloads++;
    d->st.last_reload_unix = clock_wall_ms() / 1000;
    sinks_reopen(&d->r->sinks);
    d->st.last_reload_ok = reload(d->r, d->o->instance_id, &d->st.restart_pending) == 0;
    d->st.reload_failures += !d->st.last_reload_ok;
    if (d->st.last_reload_ok && d->mx)
        status_follow_map(&d->st); /* the new map's customers, by id */
    sd_notify(0, "READY=1");
    if (d->mx)
        publish_status(d); /* show the result at once */
}

/* The signal handlers' flags, once per turn (a signal also ends the wait). */
static bool on_signals(void *arg)
{
    struct daemon *d = arg;
    if (*d->stop)
        evloop_stop(d->loop);
    else if (*d->hup) {
        *d->hup = 0;
        on_hup(d);
    }
    return false;
}

/* The sources hand on to the ingest, which exists now; the loop's timers and hooks. */
static int daemon_attach(struct daemon *d)
{
    struct run *r = d->r;
    struct source_out out = ingest_source_out(r->in);
    for (size_t i = 0; i < d->ss.n; i++)
        d->ss.slot[i].s->out = out;
    uint64_t start_unix = clock_wall_ms() / 1000;
    d->st = (struct status_src){.in = r->in,
                                .p = r->pipe,
                                .sources = &d->ss,
                                .sinks = &r->sinks,
                                .last_reload_ok = true,
                                .last_reload_unix = start_unix,
                                .start_unix = start_unix,
                                .per_customer = r->s.metrics_per_customer,
                                .healthy = true};
    if (d->mx) {
        status_follow_map(&d->st);
        pipeline_set_summary_tap(r->pipe, status_on_summary, &d->st);
    }
    health_init(&d->health);
    if (evloop_add_timer(d->loop, DAEMON_TICK_MS, on_tick, d) < 0 ||
        (d->mx && evloop_add_timer(d->loop, 0, on_status, d) < 0) ||
        (d->report && evloop_add_timer(d->loop, r->s.report_period * 1000, on_report, d) < 0) ||
        evloop_add_before_sleep(d->loop, on_signals, d) < 0)
        return -ENOSPC;
    return 0;
}

/* Stop: what the sockets already hold is still taken, the open window closed, totals out. */
static void daemon_shutdown(struct daemon *d)
{
    struct run *r = d->r;
    sd_notify(0, "STOPPING=1");
    log_info("stopping: closing the open window, flushing the sinks");
    source_set_finish(&d->ss, DAEMON_FINAL_BUDGET);
    for (size_t k = 0; k < d->ncap; k++) {
        struct capture_stats cst;
        capture_stats(capture_source_capture(d->caps[k]), &cst);
        log_info("capture %s: %llu packets, kernel drops %llu, interface drops %llu",
                 d->caps[k]->name, (unsigned long long)cst.packets,
                 (unsigned long long)cst.kernel_drops, (unsigned long long)cst.if_drops);
    }
    ingest_finish(r->in);
    pipeline_finish(r->pipe);
    save_incidents(d); /* the last window's too */
    run_publish_totals(r, "transitwatch.totals", &d->ss);
    sinks_flush(&r->sinks, (int)(r->s.kafka.flush_timeout * 1000));
    if (d->report)
        write_reports(d); /* the last window's pages */
    log_info("received %llu datagrams, kernel drops %llu",
             (unsigned long long)source_set_counter(&d->ss, "udp_datagrams_total"),
             (unsigned long long)source_set_counter(&d->ss, "udp_kernel_drops_total"));
    pipeline_set_summary_tap(r->pipe, NULL, NULL);
    status_free(&d->st);
}

/* kafka_in_hooks on the pipeline (detect). */
static int reset_pipe(void *arg)
{
    return pipeline_reset(arg);
}

static uint64_t last_close(void *arg)
{
    return pipeline_last_window_end(arg);
}

static size_t share_export(void *arg, pipeline_share_fn *fn, void *fa)
{
    return pipeline_share_export(arg, fn, fa);
}

static int share_import(void *arg, uint32_t det, const void *entry, size_t len)
{
    return pipeline_share_import(arg, det, entry, len);
}

static void all_ended(void *arg)
{
    struct daemon *d = arg;
    evloop_stop(d->loop);
}

/* detect: the consumer source, once the pipeline exists (its hooks). 0 or -errno (logged). */
static int open_kafka_in(struct daemon *d)
{
    struct run *r = d->r;
    char err[512];
    if (!r->s.kafka_enabled) {
        log_error("detect --from-kafka: [kafka] brokers must be set");
        return -EINVAL;
    }
    struct kafka_in_opts ko = {
        .ks = &r->s.kafka,
        .window_ms = r->s.window * 1000,
        .exit_idle_ms = d->o->exit_idle_ms,
        .hooks = {reset_pipe, last_close, share_export, share_import, r->pipe}};
    struct source_out none = {0};
    int rc = kafka_in_source_open(&ko, &none, &d->kafka_in, err, sizeof err);
    if (rc < 0) {
        log_error("%s", err);
        return rc;
    }
    log_info("detect: consumer group %s on %s%s%s", r->s.kafka.group_id, r->s.kafka.topic_flows,
             r->s.kafka.instance_id[0] ? ", instance " : "", r->s.kafka.instance_id);
    if ((rc = source_set_add(&d->ss, d->kafka_in)) < 0) {
        d->kafka_in = NULL; /* closed by the set */
        return rc;
    }
    pipeline_set_exporter_names(r->pipe, kafka_in_exporter_addr, d->kafka_in);
    d->ss.on_all_ended = all_ended; /* --exit-idle */
    d->ss.on_all_ended_arg = d;
    return 0;
}

static int run_loop(struct daemon *d)
{
    if (d->o->mode == DAEMON_COLLECT && run_collect(d->r) < 0)
        return 1;
    if (d->o->mode == DAEMON_DETECT && open_kafka_in(d) < 0)
        return 1;
    if (daemon_attach(d) < 0)
        return 1;
    load_incidents(d);
    if (d->mx)
        publish_status(d); /* /metrics answers 200 from the "started" line on (503 before) */
    log_info("transitwatch %s started", TW_VERSION);
    sd_notify(0, "READY=1\nSTATUS=running");
    evloop_run(d->loop);
    daemon_shutdown(d);
    if (pipeline_broken(d->r->pipe)) {
        log_error("detect: stopped because the pipeline could not be made anew after a "
                  "rebalance (out of memory or threads); exit status 1, nothing committed past "
                  "the last window released");
        return 1;
    }
    return 0;
}

static void close_inputs(struct daemon *d)
{
    metrics_stop(d->mx);
    free(d->status);
    free(d->pages);
    if (d->ss_ok)
        source_set_close(&d->ss);
    evloop_free(d->loop);
}

/* ---- start ---- */

/* --check-config: every configuration check of a start, as root also of the paths [daemon]
 * user will write or read again; one line of verdict. Returns the exit code. */
static int check_config(struct run *r, const char *config)
{
    struct passwd *cpw = r->s.user[0] && geteuid() == 0 ? getpwnam(r->s.user) : NULL;
    struct user_ids cu = {
        .name = r->s.user, .uid = cpw ? cpw->pw_uid : 0, .gid = cpw ? cpw->pw_gid : 0};
    if (cpw && cu.uid != 0 &&
        (check_rereads(&r->s, &cu) < 0 || prepare_paths(&r->s, &cu, true) < 0))
        return 2;
    printf("%s: OK (%zu customers, %zu prefixes, %zu blocklists)\n", config,
           customers_count(r->customers), customers_prefix_count(r->customers),
           feed_set_count(r->feeds));
    return 0;
}

/* [daemon] user: who to become, and whether we can. *drop: a drop from root is due.
 * 0 or -errno (logged). */
static int daemon_user(const struct settings *s, struct user_ids *u, bool *drop)
{
    *drop = false;
    if (!s->user[0])
        return 0;
    struct passwd *pw = getpwnam(s->user);
    if (!pw) { /* checked with the configuration; a user removed since */
        log_error("daemon.user: no such user '%s'", s->user);
        return -ENOENT;
    }
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    *drop = geteuid() == 0 && u->uid != 0;
    if (!*drop && geteuid() != u->uid) {
        log_error("daemon.user %s: not running as root, so cannot become that user", s->user);
        return -EPERM;
    }
    if (*drop && check_rereads(s, u) < 0)
        return -EACCES;
    return *drop ? prepare_paths(s, u, false) : 0;
}

/* As root: the pidfile, inputs, the drop; as the user: sinks, pipeline, ingest; then the loop. */
static int daemon_run(struct daemon *d)
{
    struct run *r = d->r;
    struct user_ids u = {.name = r->s.user};
    bool drop;
    if (r->s.pidfile[0] && lock_pidfile(r->s.pidfile, &d->pidfile_fd) < 0)
        return 1;
    if (r->s.reserve_memory) /* the receive rings too; run_start ends it (and logs) */
        lines_reserve_begin();
    if (daemon_user(&r->s, &u, &drop) < 0 || open_inputs(d) < 0)
        return 1;
    if (drop && drop_privileges(&u) < 0)
        return 1;
    /* sinks are opened as the user: what it cannot write is refused now, naming the path */
    if (run_start(r, false, NULL, NULL, false, false) < 0 || open_report(d) < 0)
        return 1;
    return run_loop(d);
}

int daemon_main(const struct daemon_opts *o)
{
    const char *config = o->config;
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
    if (o->instance_id)
        snprintf(r.s.kafka.instance_id, sizeof r.s.kafka.instance_id, "%s", o->instance_id);
    if (o->check_only) {
        int rc = check_config(&r, config);
        run_teardown(&r);
        return rc;
    }
    enum tw_log_level lvl = TW_LOG_INFO;
    tw_log_level_parse(r.s.log_level, &lvl);
    tw_log_init("transitwatch", lvl, r.s.log_syslog);
    struct daemon d = {.r = &r, .o = o, .stop = o->stop, .hup = o->hup, .pidfile_fd = -1};
    int rc = daemon_run(&d);
    unlock_pidfile(r.s.pidfile, d.pidfile_fd);
    close_inputs(&d);
    run_teardown(&r);
    return rc;
}
