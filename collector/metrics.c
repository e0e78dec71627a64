#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "textfield.h"
#include "udp.h"

#define METRICS_MAX_TEXT (4u << 20)

struct metrics {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    char *text;
    size_t len;
    char health[1024]; /* "ok\n" or "degraded: ...\n" (health.h) */
    uint64_t published_ms, stale_ms;
    uint16_t port;
    char **report_ids, **report_paths; /* the latest report page of each customer */
    size_t nreports;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len);

static void reports_free(char **ids, char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
        free(paths[i]);
    }
    free(ids);
    free(paths);
}

void metrics_set_reports(struct metrics *m, const char *const *ids, const char *const *paths,
                         size_t n)
{
    char **ni = calloc(n + 1, sizeof *ni), **np = calloc(n + 1, sizeof *np);
    size_t k = 0;
    for (; ni && np && k < n; k++)
        if (!(ni[k] = strdup(ids[k])) || !(np[k] = strdup(paths[k])))
            break;
    if (!ni || !np || k < n) { /* keep the old list */
        reports_free(ni, np, ni && np ? k + 1 : 0);
        return;
    }
    pthread_mutex_lock(&m->mu);
    char **oi = m->report_ids, **op = m->report_paths;
    size_t on = m->nreports;
    m->report_ids = ni;
    m->report_paths = np;
    m->nreports = n;
    pthread_mutex_unlock(&m->mu);
    reports_free(oi, op, on);
}

/* GET /report/ID: the page listed for ID, read from its file; 404 when there is none. */
static enum MHD_Result report_page(struct metrics *m, struct MHD_Connection *c, const char *id)
{
    int fd = -1;
    if (tf_name_ok(id, 63)) {
        pthread_mutex_lock(&m->mu);
        for (size_t i = 0; i < m->nreports && fd < 0; i++)
            if (strcmp(m->report_ids[i], id) == 0)
                fd = open(m->report_paths[i], O_RDONLY | O_CLOEXEC);
        pthread_mutex_unlock(&m->mu);
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "no report for this customer\n",
                     strlen("no report for this customer\n"));
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_len, void **req)
{
    struct metrics *m = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
    static const char starting[] = "starting: the daemon has not published its first figures\n";
    if (strcmp(url, "/metrics") == 0) {
        pthread_mutex_lock(&m->mu);
        /* before the first figures (the tables are still being reserved): not an empty 200,
         * which a scraper would take for a live target with no series */
        enum MHD_Result rc =
            m->text
                ? reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", m->text, m->len)
                : reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", starting,
                        sizeof starting - 1);
        pthread_mutex_unlock(&m->mu);
        return rc;
    }
    if (strcmp(url, "/healthz") == 0) {
        char body[sizeof m->health];
        pthread_mutex_lock(&m->mu);
        bool live = m->published_ms && clock_mono_ms() - m->published_ms <= m->stale_ms;
        snprintf(body, sizeof body, "%s",
                 live              ? m->health
                 : m->published_ms ? "stalled: the main loop has not published for too long\n"
                                   : starting);
        pthread_mutex_unlock(&m->mu);
        bool ok = strcmp(body, "ok\n") == 0;
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", body,
                     strlen(body));
    }
    if (strncmp(url, "/report/", 8) == 0)
        return report_page(m, c, url + 8);
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics or /healthz\n", 36);
}

int metrics_start(const char *listen, uint64_t stale_ms, struct metrics **out, char *err,
                  size_t errlen)
{
    uint8_t a[16];
    uint16_t port;
    bool v6;
    if (udp_endpoint_parse(listen, a, &port, &v6) < 0) {
        snprintf(err, errlen, "metrics.listen: bad address '%s' (want addr:port or [v6]:port)",
                 listen);
        return -EINVAL;
    }
    struct metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->stale_ms = stale_ms;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (v6) {
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        memcpy(&sin6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        memcpy(&sin.sin_addr, a + 12, 4);
        sa = (const struct sockaddr *)&sin;
    }
    m->d = MHD_start_daemon(flags, port, NULL, NULL, handler, m, MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!m->d) {
        int e = errno ? errno : EADDRNOTAVAIL;
        snprintf(err, errlen, "metrics: cannot listen on %s: %s", listen, strerror(errno));
        pthread_mutex_destroy(&m->mu);
        free(m);
        return -e;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : port;
    *out = m;
    return 0;
}

void metrics_publish(struct metrics *m, const char *text, size_t len, const char *health,
                     uint64_t now_ms)
{
    if (len > METRICS_MAX_TEXT)
        len = METRICS_MAX_TEXT;
    char *copy = malloc(len + 1); /* once a second, off the record path */
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = 0;
    }
    pthread_mutex_lock(&m->mu);
    if (copy) {
        free(m->text);
        m->text = copy;
        m->len = len;
    }
    snprintf(m->health, sizeof m->health, "%s", health ? health : "ok\n");
    m->published_ms = now_ms ? now_ms : clock_mono_ms();
    pthread_mutex_unlock(&m->mu);
}

uint16_t metrics_port(const struct metrics *m)
{
    return m->port;
}

void metrics_stop(struct metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    pthread_mutex_destroy(&m->mu);
    reports_free(m->report_ids, m->report_paths, m->nreports);
    free(m->text);
    free(m);
}
