/* sink_report.c: see sink_report.h. */
#include "sink_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "log.h"

struct sink_report {
    struct report *r;
    char *path;
    bool written;
};

static int sr_publish(void *self, enum msg_kind kind, const char *key, size_t keylen,
                      const char *json, size_t len)
{
    struct sink_report *s = self;
    (void)key;
    (void)keylen;
    if (!msg_kind_json(kind))
        return 0;                      /* collect's binary records: not for a report */
    report_add(s->r, kind, json, len); /* a message it cannot read is counted in the report */
    return 0;
}

int report_write_file(const struct report *r, const char *customer, const char *path)
{
    struct afile a;
    int rc = afile_open(&a, path, 0666);
    if (rc < 0)
        return rc;
    rc = report_write_html(r, customer, NULL, a.f);
    int rc2 = afile_close(&a, rc == 0, false);
    return rc < 0 ? rc : rc2;
}

static int sr_flush(void *self, int timeout_ms)
{
    struct sink_report *s = self;
    (void)timeout_ms;
    if (!s->path || s->written)
        return 0;
    s->written = true;
    int rc = report_write_file(s->r, NULL, s->path);
    if (rc < 0) {
        log_error("report %s: %s", s->path, strerror(-rc));
        return -1;
    }
    return 0;
}

static void sr_destroy(void *self)
{
    struct sink_report *s = self;
    report_free(s->r);
    free(s->path);
    free(s);
}

static const struct sink_ops sink_report_ops = {
    .name = "report",
    .publish = sr_publish,
    .flush = sr_flush,
    .destroy = sr_destroy,
};

int sink_report_new(const struct report_opts *ro, const char *path, struct sink *out,
                    struct report **model, char *err, size_t errlen)
{
    struct sink_report *s = calloc(1, sizeof *s);
    if (!s || report_new(ro, &s->r) < 0 || (path && !(s->path = strdup(path)))) {
        if (s)
            report_free(s->r);
        free(s);
        snprintf(err, errlen, "report: out of memory");
        return -ENOMEM;
    }
    *out = (struct sink){&sink_report_ops, s};
    if (model)
        *model = s->r;
    return 0;
}
