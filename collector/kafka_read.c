/* kafka_read.c: see kafka_read.h. */
#include "kafka_read.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "kafka_dedup.h"

struct kr_part {
    int64_t hi; /* high watermark read at the start: offsets below it are read */
    bool done;
};

struct kr {
    const struct kafka_read_opts *o;
    struct kafka_read_stats *st;
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts; /* every partition: topic by topic, ids in order */
    struct kr_part *p;                      /* parallel to parts->elems */
    size_t base[KAFKA_READ_MAX_TOPICS + 1]; /* topic t's partitions: p[base[t] .. base[t+1]) */
    size_t left;                            /* partitions not done */
    int tmo;                                /* timeout_ms for librdkafka calls */
    struct kafka_dedup dup;                 /* the sink's re-sent copies (kafka_dedup.h) */
    char last_err[256];                     /* the latest consumer error, for the timeout */
};

/* Served from rd_kafka_consumer_poll on the calling thread. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)err;
    struct kr *k = opaque;
    k->st->errors++;
    snprintf(k->last_err, sizeof k->last_err, "%s", reason);
}

/* A broker request's error as our errno, with err. */
static int request_error(struct kr *k, rd_kafka_resp_err_t e, const char *what, char *err,
                         size_t errlen)
{
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT ||
        e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        snprintf(err, errlen, "kafka %s: %s: no answer within %d ms (%s%s%s)", k->o->ks->brokers,
                 what, k->tmo, rd_kafka_err2str(e), k->last_err[0] ? ": " : "", k->last_err);
        return -ETIMEDOUT;
    }
    snprintf(err, errlen, "kafka %s: %s: %s", k->o->ks->brokers, what, rd_kafka_err2str(e));
    return e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? -ENOENT : -EIO;
}

/* No group is joined (nothing subscribes) and nothing is committed; librdkafka's consumer API
 * (assign, consumer_poll) still wants a group.id. */
static int open_consumer(struct kr *k, char *err, size_t errlen)
{
    const char *defs[][2] = {
        {"bootstrap.servers", k->o->ks->brokers}, {"client.id", "transitwatch-report"},
        {"group.id", "transitwatch-report"},      {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},    {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
    };
    rd_kafka_conf_t *conf =
        kafka_conf_build(defs, sizeof defs / sizeof defs[0], k->o->ks->properties, err, errlen);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (!(k->rk = kafka_client_new(true, conf, "consumer", err, errlen)))
        return -EINVAL;
    rd_kafka_poll_set_consumer(k->rk);
    return 0;
}

/* Every partition of every topic, from the metadata. */
static int list_partitions(struct kr *k, char *err, size_t errlen)
{
    k->parts = rd_kafka_topic_partition_list_new(16);
    for (size_t t = 0; t < k->o->ntopics; t++) {
        const char *name = k->o->topics[t];
        k->base[t] = (size_t)k->parts->cnt;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, name, NULL);
        if (!rkt) {
            snprintf(err, errlen, "kafka: topic '%s': %s", name,
                     rd_kafka_err2str(rd_kafka_last_error()));
            return -EINVAL;
        }
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, rkt, &md, k->tmo);
        rd_kafka_topic_destroy(rkt);
        if (e)
            return request_error(k, e, "metadata", err, errlen);
        int n = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
        e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        rd_kafka_metadata_destroy(md);
        if (e || n <= 0) {
            snprintf(err, errlen, "kafka %s: topic '%s': %s", k->o->ks->brokers, name,
                     rd_kafka_err2str(e ? e : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
            return e && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? -EIO : -ENOENT;
        }
        if ((size_t)k->parts->cnt + (size_t)n > KAFKA_READ_MAX_PARTITIONS) {
            snprintf(err, errlen, "kafka: more than %d partitions in the topics",
                     KAFKA_READ_MAX_PARTITIONS);
            return -E2BIG;
        }
        for (int i = 0; i < n; i++)
            rd_kafka_topic_partition_list_add(k->parts, name, i);
    }
    k->base[k->o->ntopics] = (size_t)k->parts->cnt;
    k->st->partitions = (uint32_t)k->parts->cnt;
    k->p = calloc((size_t)k->parts->cnt, sizeof *k->p);
    if (!k->p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* Each partition's range: from its offset for since (or its low watermark) to its high
 * watermark now. Sets parts' offsets and the done flags. */
static int plan_ranges(struct kr *k, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *at = NULL;
    uint64_t since = k->o->since_ms;
    if (since > KAFKA_READ_SLACK_MS) {
        at = rd_kafka_topic_partition_list_copy(k->parts);
        for (int i = 0; i < at->cnt; i++)
            at->elems[i].offset = (int64_t)(since - KAFKA_READ_SLACK_MS);
        /* brokers that cannot say (old message formats): every partition from its start */
        if (rd_kafka_offsets_for_times(k->rk, at, k->tmo) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_topic_partition_list_destroy(at);
            at = NULL;
        }
    }
    for (int i = 0; i < k->parts->cnt; i++) {
        rd_kafka_topic_partition_t *e = &k->parts->elems[i];
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t re =
            rd_kafka_query_watermark_offsets(k->rk, e->topic, e->partition, &lo, &hi, k->tmo);
        if (re) {
            char what[300];
            snprintf(what, sizeof what, "offsets of %s [%d]", e->topic, (int)e->partition);
            if (at)
                rd_kafka_topic_partition_list_destroy(at);
            return request_error(k, re, what, err, errlen);
        }
        e->offset = lo;
        /* -1 says no message at or after that time, but is also what a broker that does not
         * look timestamps up answers (librdkafka's mock cluster): read from the start then */
        if (at && !at->elems[i].err && at->elems[i].offset >= 0) {
            e->offset = at->elems[i].offset;
            k->st->by_time++;
        }
        if (e->offset < lo)
            e->offset = lo;
        k->p[i].hi = hi;
        k->p[i].done = e->offset >= hi;
        k->left += !k->p[i].done;
    }
    if (at)
        rd_kafka_topic_partition_list_destroy(at);
    return 0;
}

static void mark_done(struct kr *k, size_t i)
{
    if (k->p[i].done)
        return;
    k->p[i].done = true;
    k->left--;
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, k->parts->elems[i].topic, k->parts->elems[i].partition);
    rd_kafka_pause_partitions(k->rk, one); /* no further fetching of what came later */
    rd_kafka_topic_partition_list_destroy(one);
}

/* The index of a message's partition, or -1. */
static long part_of(const struct kr *k, const rd_kafka_message_t *m)
{
    if (!m->rkt)
        return -1;
    const char *name = rd_kafka_topic_name(m->rkt);
    for (size_t t = 0; t < k->o->ntopics; t++)
        if (strcmp(k->o->topics[t], name) == 0) {
            size_t i = k->base[t] + (size_t)m->partition;
            return m->partition >= 0 && i < k->base[t + 1] ? (long)i : -1;
        }
    return -1;
}

/* One message to fn unless it is a re-sent copy of one read shortly before (kafka_dedup.h:
 * one scope for every partition). */
static void take(struct kr *k, const rd_kafka_message_t *m, kafka_read_fn fn, void *arg)
{
    if (kafka_dedup_copy(&k->dup, 0, m->payload, m->len)) {
        k->st->duplicates++;
        return;
    }
    fn(arg, m->payload, m->len);
    k->st->messages++;
}

/* Assign the partitions with something to read and read them to their watermarks. */
static int read_ranges(struct kr *k, kafka_read_fn fn, void *arg, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *todo = rd_kafka_topic_partition_list_new(k->parts->cnt);
    for (int i = 0; i < k->parts->cnt; i++)
        if (!k->p[i].done)
            rd_kafka_topic_partition_list_add(todo, k->parts->elems[i].topic,
                                              k->parts->elems[i].partition)
                ->offset = k->parts->elems[i].offset;
    rd_kafka_resp_err_t ae = rd_kafka_assign(k->rk, todo);
    rd_kafka_topic_partition_list_destroy(todo);
    if (ae)
        return request_error(k, ae, "assign", err, errlen);
    uint64_t deadline = clock_mono_ms() + (uint64_t)k->tmo;
    while (k->left) {
        /* errors may come as messages too: the bound is checked whatever poll returns */
        if (clock_mono_ms() >= deadline) {
            snprintf(err, errlen,
                     "kafka %s: no message for %d ms with %zu partition(s) not read to their "
                     "end%s%s",
                     k->o->ks->brokers, k->tmo, k->left, k->last_err[0] ? ": " : "", k->last_err);
            return -ETIMEDOUT;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 100);
        if (!m)
            continue;
        long i = part_of(k, m);
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (i >= 0 && m->offset >= k->p[i].hi)
                mark_done(k, (size_t)i);
        } else if (m->err) {
            k->st->errors++;
            snprintf(k->last_err, sizeof k->last_err, "%s", rd_kafka_message_errstr(m));
        } else if (i >= 0 && !k->p[i].done) {
            if (m->offset < k->p[i].hi) {
                take(k, m, fn, arg);
                deadline = clock_mono_ms() + (uint64_t)k->tmo;
            }
            if (m->offset + 1 >= k->p[i].hi)
                mark_done(k, (size_t)i);
        }
        rd_kafka_message_destroy(m);
    }
    return 0;
}

int kafka_read_topics(const struct kafka_read_opts *o, kafka_read_fn fn, void *arg,
                      struct kafka_read_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    if (!o->ks->brokers[0] || !o->ntopics || o->ntopics > KAFKA_READ_MAX_TOPICS) {
        snprintf(err, errlen, "kafka: brokers and 1 to %d topics must be given",
                 KAFKA_READ_MAX_TOPICS);
        return -EINVAL;
    }
    struct kr k = {.o = o, .st = st};
    k.tmo = o->timeout_ms == 0 || o->timeout_ms > INT_MAX ? INT_MAX : (int)o->timeout_ms;
    int rc = kafka_dedup_init(&k.dup, o->ks->dedup_messages);
    if (rc < 0)
        snprintf(err, errlen, "kafka: dedup_messages: %s", strerror(-rc));
    if (rc == 0)
        rc = open_consumer(&k, err, errlen);
    if (rc == 0)
        rc = list_partitions(&k, err, errlen);
    if (rc == 0)
        rc = plan_ranges(&k, err, errlen);
    if (rc == 0)
        rc = read_ranges(&k, fn, arg, err, errlen);
    if (k.rk) /* no group was joined: nothing to leave, nothing to wait for */
        rd_kafka_destroy_flags(k.rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (k.parts)
        rd_kafka_topic_partition_list_destroy(k.parts);
    free(k.p);
    kafka_dedup_fini(&k.dup);
    return rc;
}
