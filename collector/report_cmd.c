/* report_cmd.c: see report_cmd.h. */
#include "report_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "customers.h"
#include "kafka_read.h"
#include "report.h"
#include "textfield.h"

bool report_cmd_time(const char *s, uint64_t *ms)
{
    char b[40];
    size_t n = strlen(s);
    if (n == 10)
        snprintf(b, sizeof b, "%s 00:00:00", s);
    else if (n == 16)
        snprintf(b, sizeof b, "%s:00", s);
    else
        snprintf(b, sizeof b, "%s", s);
    return n < sizeof b - 10 && tf_datetime(b, strlen(b), ms);
}

/* The kind of one of our messages by its event.dataset; -1 for anything else. The JSON may
 * have blanks around its colons (as json.dumps, Logstash and others write it again). */
static int kind_of(const char *line, size_t len)
{
    static const char key[] = "\"dataset\"", pre[] = "\"transitwatch.";
    const char *end = line + len, *p = line;
    while ((p = memmem(p, (size_t)(end - p), key, sizeof key - 1))) {
        p += sizeof key - 1;
        p += strspn(p, " \t\r\n"); /* the line is NUL-terminated */
        if (*p != ':')
            continue;
        p += 1 + strspn(p + 1, " \t\r\n");
        size_t left = (size_t)(end - p);
        if (left < sizeof pre - 1 || memcmp(p, pre, sizeof pre - 1) != 0)
            continue;
        p += sizeof pre - 1;
        left -= sizeof pre - 1;
        if (left > 6 && memcmp(p, "alert\"", 6) == 0)
            return MSG_ALERT;
        if (left > 8 && memcmp(p, "summary\"", 8) == 0)
            return MSG_SUMMARY;
        if (left > 7 && memcmp(p, "totals\"", 7) == 0)
            return MSG_TOTALS;
    }
    return -1;
}

/* One message (a line without its end, or a Kafka message's value; NUL-terminated) into r by
 * its kind; anything that is not one of our messages is counted unreadable by the report. */
static void take(struct report *r, const char *line, size_t len)
{
    int k = kind_of(line, len);
    report_add(r, k < 0 ? MSG_ALERT : (enum msg_kind)k, k < 0 ? "" : line, k < 0 ? 0 : len);
}

/* Every line of one file (gzip or plain) into r; lines that are not our messages are counted
 * by the report. 0, or -errno when the file cannot be read. */
static int read_file(struct report *r, const char *path, char *line)
{
    gzFile z = strcmp(path, "-") == 0 ? gzdopen(0, "rb") : gzopen(path, "rb");
    if (!z)
        return errno ? -errno : -ENOMEM;
    gzbuffer(z, 1 << 17);
    bool skipping = false; /* the rest of a line longer than REPORT_LINE_MAX */
    while (gzgets(z, line, REPORT_LINE_MAX)) {
        size_t len = strlen(line);
        bool whole = len && line[len - 1] == '\n';
        if (skipping) {
            skipping = !whole;
            continue;
        }
        if (!whole && !gzeof(z)) { /* too long: count it, skip its rest */
            report_add(r, MSG_ALERT, "", 0);
            skipping = true;
            continue;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len)
            take(r, line, len);
    }
    int err = 0;
    const char *msg = gzerror(z, &err);
    gzclose(z);
    if (err != Z_OK && err != Z_BUF_ERROR) {
        fprintf(stderr, "transitwatch report: %s: %s\n", path, msg);
        return -EIO;
    }
    return 0;
}

struct kafka_take {
    struct report *r;
    char *line; /* REPORT_LINE_MAX bytes */
};

/* kafka_read_fn: a message's value, as a file's line. */
static void take_kafka(void *arg, const char *value, size_t len)
{
    struct kafka_take *t = arg;
    if (len >= REPORT_LINE_MAX) { /* as a file's line too long */
        report_add(t->r, MSG_ALERT, "", 0);
        return;
    }
    if (len)
        memcpy(t->line, value, len);
    t->line[len] = 0;
    take(t->r, t->line, len);
}

/* The alerts and summaries topics into r (kafka_read.h). 0, or -errno after the message. */
static int read_kafka(struct report *r, const struct report_cmd *c, char *line)
{
    const struct kafka_settings *ks = c->kafka;
    const char *topics[2] = {ks->topic_alerts, ks->topic_summaries};
    struct kafka_read_opts o = {.ks = ks,
                                .topics = topics,
                                .ntopics = strcmp(topics[0], topics[1]) == 0 ? 1 : 2,
                                .since_ms = c->since_ms,
                                .timeout_ms = ks->flush_timeout * 1000};
    struct kafka_take t = {.r = r, .line = line};
    struct kafka_read_stats st;
    char err[700];
    int e = kafka_read_topics(&o, take_kafka, &t, &st, err, sizeof err);
    if (e < 0) {
        fprintf(stderr, "transitwatch report: %s\n", err);
        return e;
    }
    fprintf(stderr, "transitwatch report: kafka %s: %llu messages from %u partitions of %s%s%s",
            ks->brokers, (unsigned long long)st.messages, st.partitions, topics[0],
            o.ntopics > 1 ? " and " : "", o.ntopics > 1 ? topics[1] : "");
    if (c->since_ms)
        fprintf(stderr, " (%u partitions started at the offset of --since less a day)", st.by_time);
    if (st.duplicates)
        fprintf(stderr, "; %llu duplicates (the sink's re-sends) skipped",
                (unsigned long long)st.duplicates);
    fputs("\n", stderr);
    return 0;
}

static int write_out(const struct report_cmd *c, const struct report *r,
                     const struct report_contact *k)
{
    bool std = !c->output || strcmp(c->output, "-") == 0;
    FILE *f = std ? stdout : fopen(c->output, "w");
    if (!f) {
        fprintf(stderr, "transitwatch report: %s: %s\n", c->output, strerror(errno));
        return 1;
    }
    int rc =
        c->text ? report_write_text(r, c->customer, k, f) : report_write_html(r, c->customer, k, f);
    if ((std ? fflush(f) : fclose(f)) != 0 || rc < 0) {
        fprintf(stderr, "transitwatch report: %s: write error\n", std ? "stdout" : c->output);
        return 1;
    }
    return 0;
}

int report_cmd_run(const struct report_cmd *c)
{
    struct customer_map *map = NULL;
    struct conf_error err;
    char msg[600];
    if (c->customers && customers_load(c->customers, NULL, &map, &err) < 0) {
        fprintf(stderr, "transitwatch report: %s\n", conf_error_str(&err, msg, sizeof msg));
        return 2;
    }
    const struct customer *cu = c->customer && map ? customers_find_id(map, c->customer) : NULL;
    struct report_contact k = {.name = cu ? cu->name : NULL,
                               .abuse = cu ? customers_abuse(map, cu) : NULL};
    char title[160];
    snprintf(title, sizeof title, "%s%s", c->customer ? "Abuse report for customer " : "",
             c->customer ? c->customer : "transitwatch report");
    struct report_opts ro = {.customer = c->customer,
                             .since_ms = c->since_ms,
                             .until_ms = c->until_ms,
                             .title = title,
                             .threshold_share = c->threshold_share};
    struct report *r = NULL;
    char *line = malloc(REPORT_LINE_MAX);
    int rc = 0;
    if (!line || report_new(&ro, &r) < 0) {
        fprintf(stderr, "transitwatch report: out of memory\n");
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < c->nfiles; i++) {
        int e = read_file(r, c->files[i], line);
        if (e < 0) {
            fprintf(stderr, "transitwatch report: %s: %s\n", c->files[i], strerror(-e));
            rc = 1;
        }
    }
    if (rc == 0 && c->kafka && read_kafka(r, c, line) < 0)
        rc = 1;
    uint64_t msgs = 0, bad = 0;
    if (r)
        report_counts(r, &msgs, &bad);
    if (rc == 0 && bad)
        fprintf(stderr,
                "transitwatch report: %llu of %llu messages unreadable (not our JSON, no "
                "@timestamp, or over %u bytes): skipped\n",
                (unsigned long long)bad, (unsigned long long)msgs, REPORT_LINE_MAX);
    if (rc == 0)
        rc = write_out(c, r, c->customer ? &k : NULL);
    free(line);
    report_free(r);
    customers_free(map);
    return rc;
}
