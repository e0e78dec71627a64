/* kafka_in.c: the Kafka consumer source (design in kafka_in.h). */
#include "kafka_in.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "kafka_dedup.h"
#include "le.h"
#include "log.h"

enum { P_FREE = 0, P_ACTIVE, P_HELD, P_EOF };

/* windows whose first offset on topic_prevalence is remembered (a re-read of the replay horizon
 * finds its windows' entries again) */
#define SHARE_RING (KAFKA_IN_REPLAY_MAX + 16)

/* The shared views (kafka_in.h: topic_prevalence). */
struct share {
    rd_kafka_t *prod, *cons;
    rd_kafka_topic_t *pt, *ct, *ft; /* producer's, consumer's topic; topic_flows (metadata) */
    rd_kafka_queue_t *cq;
    uint8_t *buf; /* the chunk being built (KAFKA_SHARE_MSG_MAX) */
    size_t len;
    int nparts; /* partitions of topic_flows, 0: not known yet */
    bool exported, waited, gave_up;
    uint64_t exp_win, wait_since;
    uint8_t
        cover[KAFKA_IN_MAX_PARTITIONS / 8]; /* partitions whose entries of the open window came */
    int64_t pos;                            /* next offset to read */
    struct {
        uint64_t win;
        int64_t off;
    } ring[SHARE_RING]; /* the first offset seen of each recent window */
    unsigned nring;
};

struct kpart {
    uint8_t state;
    bool owned;
    uint64_t eof_since; /* monotonic ms it reached its end */
    uint64_t moved_ms;  /* monotonic ms it last brought a message, was rewound or released */
    int64_t next;       /* next offset to read; < 0: none read yet */
    uint64_t wm_ms;     /* newest collector watermark seen */
    /* the held record (state P_HELD): the first of a window not yet released */
    struct flow_rec held;
    struct flowpb_meta held_meta;
    int64_t held_offset;
};

/* The commit points taken at one release (kafka_in.h: Offsets); -1: none. */
struct cpoint {
    uint64_t win;
    int64_t off[KAFKA_IN_MAX_PARTITIONS];
};

struct kafka_in {
    struct source base;
    struct kafka_in_opts o;
    struct kafka_settings ks;
    bool goflow2;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    int pipefd[2];
    bool more;       /* the last drain stopped at its budget */
    bool rebalanced; /* a reset and a rewind are due */
    bool stopped;    /* finish ran: nothing more is read (the pipeline closes what it has) */
    bool have_released;
    uint64_t released;  /* start of the window released to the pipeline (ms) */
    uint64_t future_ms; /* windows starting later are refused: wall clock + KAFKA_IN_FUTURE_MS */
    uint64_t last_activity, rate_ms, rate_records;
    uint64_t gf_close;                        /* goflow2: the last window close seen */
    int64_t gf_snap[KAFKA_IN_MAX_PARTITIONS]; /* goflow2: positions at that close */
    int log_bad, log_err, log_many, log_share;
    struct share sh;
    struct kafka_dedup dup; /* the sink's re-sent copies, per partition (kafka_dedup.h) */
    struct cpoint *cp;      /* ring of the last cp_max releases' points; NULL: replay_horizon 0 */
    unsigned cp_max, cp_n, cp_head; /* capacity, entries, oldest */
    struct kafka_in_stats st;
    /* the exporters named by records (flow_rec.exporter = index + 1), first come first */
    uint8_t exp[KAFKA_IN_EXPORTERS][16];
    uint32_t nexp, exp_last;
    struct kpart p[KAFKA_IN_MAX_PARTITIONS];
    /* per-partition /metrics rows (tables 1 and 2), rebuilt at each snapshot */
    struct ctr_def wm_defs[KAFKA_IN_PART_ROWS], lag_defs[KAFKA_IN_PART_ROWS];
    char labels[KAFKA_IN_PART_ROWS][32];
};

/* ---- librdkafka callbacks (served from rd_kafka_consumer_poll, in drain) ---- */

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    struct kafka_in *k = opaque;
    k->st.errors++;
    if (tw_log_once(&k->log_err))
        log_warn("kafka consumer: %s: %s (further errors counted: kafka_in_errors_total)",
                 rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)offsets;
    struct kafka_in *k = opaque;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        k->st.commit_failures++;
        if (tw_log_once(&k->log_err))
            log_warn("kafka consumer: offset commit failed: %s", rd_kafka_err2str(err));
    }
}

static void mark(struct kafka_in *k, rd_kafka_topic_partition_list_t *parts, bool own)
{
    for (int i = 0; i < parts->cnt; i++) {
        int32_t n = parts->elems[i].partition;
        if (n < 0 || n >= KAFKA_IN_MAX_PARTITIONS) {
            if (tw_log_once(&k->log_many))
                log_error("kafka consumer: partition %d of %s is beyond the %d this build reads "
                          "(not read)",
                          (int)n, k->ks.topic_flows, KAFKA_IN_MAX_PARTITIONS);
            continue;
        }
        struct kpart *kp = &k->p[n];
        if (own && !kp->owned)
            k->st.partitions++;
        if (!own && kp->owned)
            k->st.partitions--;
        if (kp->state == P_HELD)
            k->st.held--;
        memset(kp, 0, sizeof *kp);
        kp->owned = own;
        kp->state = own ? P_ACTIVE : P_FREE;
        kp->next = -1;
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kafka_in *k = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    k->st.rebalances++;
    k->last_activity = clock_mono_ms(); /* exit_idle counts from the group's last change too */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        mark(k, parts, true);
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        log_info("kafka consumer: %d partition(s) of %s assigned (%s); %llu owned now", parts->cnt,
                 k->ks.topic_flows, coop ? "cooperative" : "eager",
                 (unsigned long long)k->st.partitions);
    } else {
        mark(k, parts, false);
        if (coop)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
        log_info("kafka consumer: %d partition(s) of %s revoked%s; %llu owned now", parts->cnt,
                 k->ks.topic_flows,
                 err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? "" : " (assignment lost)",
                 (unsigned long long)k->st.partitions);
    }
    if (e) {
        log_error("kafka consumer: rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    /* An empty incremental assignment (a cooperative round that moved nothing to or from this
     * instance) changes nothing here: no reset, no re-read of the replay horizon. */
    if (parts->cnt > 0)
        k->rebalanced = true;
}

/* ---- the shared views (kafka_in.h: topic_prevalence) ---- */

static bool share_on(const struct kafka_in *k)
{
    return k->sh.prod != NULL;
}

/* Partitions of topic_flows from the brokers (0: not known; asked again at the next export). */
static int flow_partitions(struct kafka_in *k)
{
    const struct rd_kafka_metadata *md = NULL;
    int n = 0;
    if (rd_kafka_metadata(k->rk, 0, k->sh.ft, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    return n > KAFKA_IN_MAX_PARTITIONS ? KAFKA_IN_MAX_PARTITIONS : n;
}

static bool share_covered(const struct kafka_in *k)
{
    if (!k->sh.nparts)
        return false;
    for (int n = 0; n < k->sh.nparts; n++)
        if (!(k->sh.cover[n / 8] & (1u << (n % 8))))
            return false;
    return true;
}

/* The chunk so far goes out (flags: bit 0, the publication's last); a new one starts. */
static void share_send(struct kafka_in *k, bool last)
{
    struct share *sh = &k->sh;
    sh->buf[5] = last ? 1 : 0;
    rd_kafka_resp_err_t e =
        rd_kafka_producev(sh->prod, RD_KAFKA_V_RKT(sh->pt), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(sh->buf, sh->len), RD_KAFKA_V_END);
    if (e) {
        k->st.share_dropped++;
        if (tw_log_once(&k->log_share))
            log_warn(
                "kafka: %s: %s (shared view entries lost; counted: kafka_in_share_dropped_total)",
                k->ks.topic_prevalence, rd_kafka_err2str(e));
    } else
        k->st.share_sent++;
    sh->len = KAFKA_SHARE_HDR;
    rd_kafka_poll(sh->prod, 0);
}

/* pipeline_share_fn: one entry into the chunk (a full chunk goes out first). */
static void share_add(void *arg, uint32_t det, const void *e, size_t len)
{
    struct kafka_in *k = arg;
    struct share *sh = &k->sh;
    if (det > 255 || len > KAFKA_SHARE_MSG_MAX - KAFKA_SHARE_HDR - 3 || len > UINT16_MAX) {
        k->st.share_dropped++;
        return;
    }
    if (sh->len + 3 + len > KAFKA_SHARE_MSG_MAX)
        share_send(k, false);
    sh->buf[sh->len++] = (uint8_t)det;
    le_put16(sh->buf + sh->len, (uint16_t)len);
    sh->len += 2;
    memcpy(sh->buf + sh->len, e, len);
    sh->len += len;
    k->st.share_entries_out++;
}

/* Before the open window closes: publish what this instance's detectors add to the shared
 * views at that close, tagged with the window and the partitions it owns (covered now). */
static void share_publish(struct kafka_in *k, uint64_t now)
{
    struct share *sh = &k->sh;
    if (!sh->nparts)
        sh->nparts = flow_partitions(k);
    memset(sh->buf, 0, KAFKA_SHARE_HDR);
    memcpy(sh->buf, "TWPV", 4);
    sh->buf[4] = 1;
    le_put64(sh->buf + 8, k->released);
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++)
        if (k->p[n].owned) {
            sh->buf[16 + n / 8] |= (uint8_t)(1u << (n % 8));
            sh->cover[n / 8] |= (uint8_t)(1u << (n % 8));
        }
    sh->len = KAFKA_SHARE_HDR;
    k->o.hooks.share_export(k->o.hooks.arg, share_add, k);
    share_send(k, true);
    sh->exported = true;
    sh->waited = sh->gave_up = false;
    sh->exp_win = k->released;
    sh->wait_since = now;
}

/* Must the open window's close wait for the other instances' entries? Publishes this
 * instance's first (once per window). */
static bool share_hold(struct kafka_in *k, uint64_t now)
{
    struct share *sh = &k->sh;
    if (!share_on(k) || !k->have_released)
        return false;
    if (!sh->exported || sh->exp_win != k->released)
        share_publish(k, now);
    if (share_covered(k))
        return false;
    if (now - sh->wait_since < k->ks.partition_idle_ms) {
        k->st.share_waits += !sh->waited;
        sh->waited = true;
        return true;
    }
    if (!sh->gave_up) {
        sh->gave_up = true;
        k->st.share_incomplete++;
        if (tw_log_once(&k->log_share))
            log_warn("kafka: the window at %llu closes without every partition's shared entries "
                     "after %u ms (counted: kafka_in_share_incomplete_total)",
                     (unsigned long long)k->released / 1000, k->ks.partition_idle_ms);
    }
    return false;
}

/* share_hold's answer without its side effects (ready). */
static bool share_waiting(const struct kafka_in *k, uint64_t now)
{
    const struct share *sh = &k->sh;
    return share_on(k) && k->have_released && sh->exported && sh->exp_win == k->released &&
           !share_covered(k) && now - sh->wait_since < k->ks.partition_idle_ms;
}

/* The first offset seen of window win (the highest SHARE_RING windows are kept). */
static void ring_note(struct share *sh, uint64_t win, int64_t off)
{
    unsigned low = 0;
    for (unsigned i = 0; i < sh->nring; i++) {
        if (sh->ring[i].win == win) {
            if (off < sh->ring[i].off)
                sh->ring[i].off = off;
            return;
        }
        if (sh->ring[i].win < sh->ring[low].win)
            low = i;
    }
    if (sh->nring < SHARE_RING)
        low = sh->nring++;
    else if (win < sh->ring[low].win)
        return;
    sh->ring[low].win = win;
    sh->ring[low].off = off;
}

/* After a release (window win open now): the cover starts empty, and the consumer goes back
 * to the first message seen of a window >= win. */
static void share_released(struct kafka_in *k, uint64_t win)
{
    struct share *sh = &k->sh;
    if (!share_on(k))
        return;
    memset(sh->cover, 0, sizeof sh->cover);
    sh->exported = false;
    int64_t off = -1;
    for (unsigned i = 0; i < sh->nring; i++)
        if (sh->ring[i].win >= win && (off < 0 || sh->ring[i].off < off))
            off = sh->ring[i].off;
    if (off >= 0 && off < sh->pos) {
        rd_kafka_resp_err_t e = rd_kafka_seek(sh->ct, 0, off, 0);
        if (e)
            k->st.errors++;
        else
            sh->pos = off;
    }
}

/* One message of topic_prevalence: the open window's entries go to the detectors. */
static void share_take(struct kafka_in *k, const uint8_t *d, size_t len)
{
    if (len < KAFKA_SHARE_HDR || memcmp(d, "TWPV", 4) != 0 || d[4] != 1) {
        k->st.share_dropped++;
        return;
    }
    uint64_t win = le_get64(d + 8);
    if (!k->have_released || win != k->released)
        return; /* a later window: read again after the release; an earlier one: done */
    size_t o = KAFKA_SHARE_HDR;
    while (o + 3 <= len) {
        size_t n = le_get16(d + o + 1);
        if (o + 3 + n > len)
            break;
        if (k->o.hooks.share_import(k->o.hooks.arg, d[o], d + o + 3, n) < 0)
            k->st.share_dropped++;
        else
            k->st.share_entries_in++;
        o += 3 + n;
    }
    if (o != len) {
        k->st.share_dropped++;
        return; /* truncated: its cover does not count */
    }
    if (d[5] & 1)
        for (size_t i = 0; i < sizeof k->sh.cover; i++)
            k->sh.cover[i] |= d[16 + i];
}

/* Read what topic_prevalence has (at most budget messages). */
static size_t share_read(struct kafka_in *k, size_t budget)
{
    struct share *sh = &k->sh;
    size_t n = 0;
    if (!share_on(k))
        return 0;
    rd_kafka_poll(sh->prod, 0);
    rd_kafka_message_t *m;
    while (n < budget && (m = rd_kafka_consume_queue(sh->cq, 0)) != NULL) {
        n++;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                error_cb(k->rk, m->err, rd_kafka_message_errstr(m), k);
        } else {
            sh->pos = m->offset + 1;
            k->st.share_read++;
            if (m->len >= KAFKA_SHARE_HDR)
                ring_note(sh, le_get64((const uint8_t *)m->payload + 8), m->offset);
            share_take(k, m->payload, m->len);
        }
        rd_kafka_message_destroy(m);
    }
    return n;
}

static void share_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kafka_in *k = opaque;
    if (m->err) {
        k->st.share_dropped++;
        if (tw_log_once(&k->log_share))
            log_warn(
                "kafka: %s: %s (shared view entries lost; counted: kafka_in_share_dropped_total)",
                k->ks.topic_prevalence, rd_kafka_err2str(m->err));
    }
}

/* The producer and the assigned consumer of topic_prevalence, when it is set and the pipeline
 * shares views. 0 or -errno with err. */
static int share_open(struct kafka_in *k, char *err, size_t errlen)
{
    struct share *sh = &k->sh;
    if (k->goflow2 || !k->ks.topic_prevalence[0] || !k->o.hooks.share_export ||
        !k->o.hooks.share_import)
        return 0;
    const char *pd[][2] = {{"bootstrap.servers", k->ks.brokers},
                           {"client.id", "transitwatch-detect-share"},
                           {"enable.idempotence", "true"},
                           {"linger.ms", "5"}};
    const char *cd[][2] = {{"bootstrap.servers", k->ks.brokers},
                           {"client.id", "transitwatch-detect-share"},
                           {"enable.auto.commit", "false"},
                           {"enable.partition.eof", "false"}};
    rd_kafka_conf_t *pc =
        kafka_conf_build(pd, sizeof pd / sizeof pd[0], k->ks.properties, err, errlen);
    if (!pc)
        return -EINVAL;
    rd_kafka_conf_set_opaque(pc, k);
    rd_kafka_conf_set_dr_msg_cb(pc, share_dr);
    if (!(sh->prod = kafka_client_new(false, pc, "share producer", err, errlen)))
        return -EINVAL;
    rd_kafka_conf_t *cc =
        kafka_conf_build(cd, sizeof cd / sizeof cd[0], k->ks.properties, err, errlen);
    if (!cc)
        return -EINVAL;
    rd_kafka_conf_set_opaque(cc, k);
    if (!(sh->cons = kafka_client_new(true, cc, "share consumer", err, errlen)))
        return -EINVAL;
    sh->pt = rd_kafka_topic_new(sh->prod, k->ks.topic_prevalence, NULL);
    sh->ct = rd_kafka_topic_new(sh->cons, k->ks.topic_prevalence, NULL);
    sh->ft = rd_kafka_topic_new(k->rk, k->ks.topic_flows, NULL);
    sh->cq = rd_kafka_queue_new(sh->cons);
    sh->buf = malloc(KAFKA_SHARE_MSG_MAX);
    if (!sh->pt || !sh->ct || !sh->ft || !sh->cq || !sh->buf) {
        snprintf(err, errlen, "kafka share: out of memory");
        return -ENOMEM;
    }
    if (rd_kafka_consume_start_queue(sh->ct, 0, RD_KAFKA_OFFSET_BEGINNING, sh->cq) < 0) {
        snprintf(err, errlen, "kafka share: reading %s: %s", k->ks.topic_prevalence,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -EINVAL;
    }
    rd_kafka_queue_io_event_enable(sh->cq, k->pipefd[1], "1", 1);
    return 0;
}

static void share_close(struct kafka_in *k)
{
    struct share *sh = &k->sh;
    if (sh->ct && sh->cq)
        rd_kafka_consume_stop(sh->ct, 0);
    if (sh->cq)
        rd_kafka_queue_destroy(sh->cq);
    if (sh->ct)
        rd_kafka_topic_destroy(sh->ct);
    if (sh->ft)
        rd_kafka_topic_destroy(sh->ft);
    if (sh->pt)
        rd_kafka_topic_destroy(sh->pt);
    if (sh->prod) {
        rd_kafka_flush(sh->prod, 5000);
        rd_kafka_destroy(sh->prod);
    }
    if (sh->cons)
        rd_kafka_destroy(sh->cons);
    free(sh->buf);
    memset(sh, 0, sizeof *sh);
}

/* ---- offsets ---- */

/* Partition n at offset off into list l. */
static void list_add(rd_kafka_topic_partition_list_t *l, const char *topic, int32_t n, int64_t off)
{
    rd_kafka_topic_partition_list_add(l, topic, n)->offset = off;
}

/* Each owned partition's commit point now: the held record, else the next offset to read. */
static rd_kafka_topic_partition_list_t *commit_points(struct kafka_in *k)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        const struct kpart *kp = &k->p[n];
        if (!kp->owned)
            continue;
        int64_t off = kp->state == P_HELD ? kp->held_offset : kp->next;
        if (off >= 0)
            list_add(l, k->ks.topic_flows, n, off);
    }
    return l;
}

/* Release of window win (note): its points into the ring. Then the points to commit: those of
 * the oldest window kept within replay_horizon of win (points, with the ring off). Takes
 * points. */
static rd_kafka_topic_partition_list_t *
lagged(struct kafka_in *k, rd_kafka_topic_partition_list_t *points, uint64_t win, bool note)
{
    if (!k->cp)
        return points;
    if (note) {
        struct cpoint *c;
        if (k->cp_n < k->cp_max)
            c = &k->cp[(k->cp_head + k->cp_n++) % k->cp_max];
        else {
            c = &k->cp[k->cp_head];
            k->cp_head = (k->cp_head + 1) % k->cp_max;
        }
        c->win = win;
        for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++)
            c->off[n] = -1;
        for (int i = 0; i < points->cnt; i++)
            c->off[points->elems[i].partition] = points->elems[i].offset;
    }
    uint64_t h = k->ks.replay_horizon * 1000;
    const struct cpoint *c = NULL;
    for (unsigned i = 0; i < k->cp_n && !c; i++) {
        const struct cpoint *e = &k->cp[(k->cp_head + i) % k->cp_max];
        if (e->win <= win && win - e->win <= h)
            c = e;
    }
    if (!c)
        return points; /* nothing kept within the horizon (no release since the rewind) */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(points->cnt + 1);
    uint64_t recs = 0;
    for (int i = 0; i < points->cnt; i++) {
        int32_t n = points->elems[i].partition;
        if (c->off[n] < 0)
            continue; /* not read at that window: its commit stays */
        list_add(l, k->ks.topic_flows, n, c->off[n]);
        if (points->elems[i].offset > c->off[n])
            recs += (uint64_t)(points->elems[i].offset - c->off[n]);
    }
    k->st.commit_lag_windows = (win - c->win) / k->o.window_ms;
    k->st.commit_lag_records = recs;
    rd_kafka_topic_partition_list_destroy(points);
    return l;
}

static void commit(struct kafka_in *k, rd_kafka_topic_partition_list_t *l, bool async)
{
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, l, async);
        k->st.commits++;
        if (e && !async)
            commit_cb(k->rk, e, l, k);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Seek (asynchronously) the partitions of l; errors are logged. */
static void seek(struct kafka_in *k, rd_kafka_topic_partition_list_t *l, int timeout_ms)
{
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(k->rk, l, timeout_ms);
        if (e) {
            k->st.errors++;
            log_warn("kafka consumer: seek: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* After a rebalance: every window's state is dropped and every partition this instance owns is
 * read again from its commit (those it kept, and the new ones: a message of a new one that the
 * poll serving the rebalance returned was not taken). */
static int rewind_all(struct kafka_in *k)
{
    k->rebalanced = false;
    k->have_released = false;
    k->sh.exported = false;
    k->sh.nparts = 0; /* asked again: partitions may have been added */
    memset(k->sh.cover, 0, sizeof k->sh.cover);
    k->st.resets++;
    k->st.held = 0;
    k->cp_n = k->cp_head = 0;    /* the points kept are of the state just dropped */
    kafka_dedup_forget(&k->dup); /* what is read again from the commits is taken again */
    int rc = k->o.hooks.reset ? k->o.hooks.reset(k->o.hooks.arg) : 0;
    if (rc < 0) { /* the source ends; the rewind stays due, so nothing is committed at the close
                     (kin_close): what was read since the last release is read again */
        k->rebalanced = true;
        k->base.failures++;
        return rc;
    }
    rd_kafka_topic_partition_list_t *owned = rd_kafka_topic_partition_list_new(16);
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        struct kpart *kp = &k->p[n];
        if (!kp->owned)
            continue;
        list_add(owned, k->ks.topic_flows, n, RD_KAFKA_OFFSET_INVALID);
        kp->state = P_ACTIVE;
        kp->next = -1;
        kp->moved_ms = clock_mono_ms();
    }
    if (!owned->cnt) {
        rd_kafka_topic_partition_list_destroy(owned);
        return 0;
    }
    rd_kafka_resume_partitions(k->rk, owned);
    if (rd_kafka_committed(k->rk, owned, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("kafka consumer: could not read the committed offsets; the partitions are read "
                 "from the beginning");
    /* Reading starts at the commit: that is where a partition whose commit is at its end
     * stands at its end (mark_ends), though nothing is fetched; the beginning reads as the
     * partition's low watermark there. */
    for (int i = 0; i < owned->cnt; i++) {
        if (owned->elems[i].offset < 0)
            owned->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        else
            k->p[owned->elems[i].partition].next = owned->elems[i].offset;
    }
    seek(k, owned, 10000);
    return 0;
}

/* ---- records ---- */

static void pause_one(struct kafka_in *k, int32_t n, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    list_add(l, k->ks.topic_flows, n, RD_KAFKA_OFFSET_INVALID);
    if (pause)
        rd_kafka_pause_partitions(k->rk, l);
    else
        rd_kafka_resume_partitions(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static void hand_on(struct kafka_in *k, struct flow_rec *f, const struct flowpb_meta *m)
{
    if (m->part == FLOWPB_PART_TICK) {
        k->st.ticks++;
    } else {
        k->st.late_records += k->have_released && m->window_start_ms < k->released;
        k->st.records++;
    }
    k->base.out.part(k->base.out.arg, f, m);
}

/* The local index + 1 of an exporter address (a short table searched from the last match:
 * records come in runs of one exporter); 0 when the table is full (counted). */
static uint32_t exporter_index(struct kafka_in *k, const uint8_t a[16])
{
    if (k->nexp && memcmp(k->exp[k->exp_last], a, 16) == 0)
        return k->exp_last + 1;
    for (uint32_t i = 0; i < k->nexp; i++)
        if (memcmp(k->exp[i], a, 16) == 0) {
            k->exp_last = i;
            return i + 1;
        }
    if (k->nexp == KAFKA_IN_EXPORTERS) {
        k->st.exporters_full++;
        return 0;
    }
    memcpy(k->exp[k->nexp], a, 16);
    k->exp_last = k->nexp;
    return ++k->nexp;
}

bool kafka_in_exporter_addr(void *arg, uint32_t idx1, uint8_t out[16])
{
    const struct kafka_in *k = arg;
    if (idx1 == 0 || idx1 > k->nexp)
        return false;
    memcpy(out, k->exp[idx1 - 1], 16);
    return true;
}

/* A collect record of partition n: on, or held until its window is released. */
static void take_record(struct kafka_in *k, int32_t n, int64_t off, const uint8_t *data, size_t len)
{
    struct kpart *kp = &k->p[n];
    struct flow_rec f;
    struct flowpb_meta m;
    int rc = flowpb_decode(data, len, &f, &m);
    if (rc < 0) {
        k->st.bad_records++;
        if (tw_log_once(&k->log_bad))
            log_warn("kafka consumer: %s [%d] offset %lld: %s (skipped; further ones counted: "
                     "kafka_in_bad_records_total)",
                     k->ks.topic_flows, (int)n, (long long)off,
                     rc == -EPROTONOSUPPORT ? "a newer record version" : "not a flow record");
        return;
    }
    if (m.window_start_ms > k->future_ms) {
        /* no collector's window (it follows the exporters' clocks, idle time the wall clock):
         * held, it would stall the partition until every other window passed it, then move
         * the released window there for good (every later record late) */
        k->st.bad_records++;
        if (tw_log_once(&k->log_bad))
            log_warn("kafka consumer: %s [%d] offset %lld: a window more than %llu h ahead of "
                     "this machine's clock (skipped; further bad records counted: "
                     "kafka_in_bad_records_total)",
                     k->ks.topic_flows, (int)n, (long long)off,
                     (unsigned long long)(KAFKA_IN_FUTURE_MS / 3600000));
        return;
    }
    f.exporter = m.has_exporter ? exporter_index(k, m.exporter) : 0;
    if (m.watermark_ms > kp->wm_ms)
        kp->wm_ms = m.watermark_ms;
    if (!k->have_released || m.window_start_ms > k->released) {
        kp->state = P_HELD;
        kp->held = f;
        kp->held_meta = m;
        kp->held_offset = off;
        k->st.held++;
        pause_one(k, n, true);
        return;
    }
    kp->state = P_ACTIVE;
    hand_on(k, &f, &m);
}

static void take_goflow2(struct kafka_in *k, const uint8_t *data, size_t len)
{
    const uint8_t *msg;
    size_t n;
    struct flow_rec f;
    goflow2_unframe(data, len, &msg, &n);
    if (goflow2_decode(msg, n, &f) < 0) {
        k->st.bad_records++;
        if (tw_log_once(&k->log_bad))
            log_warn("kafka consumer: %s: a message that is not a GoFlow2 FlowMessage (skipped; "
                     "further ones counted)",
                     k->ks.topic_flows);
        return;
    }
    k->st.records++;
    k->base.out.record(k->base.out.arg, &f);
}

static void on_message(struct kafka_in *k, const rd_kafka_message_t *m, uint64_t now)
{
    int32_t n = m->partition;
    bool ours = m->rkt && n >= 0 && n < KAFKA_IN_MAX_PARTITIONS && k->p[n].owned;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (ours && k->p[n].state == P_ACTIVE) {
            k->p[n].state = P_EOF;
            k->p[n].eof_since = now;
        }
        return;
    }
    if (m->err) {
        error_cb(k->rk, m->err, rd_kafka_message_errstr(m), k);
        return;
    }
    if (!ours || k->p[n].state == P_HELD)
        return; /* fetched before the pause: read again after the release (seek) */
    if (k->p[n].next >= 0 && m->offset < k->p[n].next) {
        /* Already handed on since the last rewind: librdkafka positioned the partition by
         * itself (an assignment's fetch start whose committed offsets came back after the
         * rewind's seek had read on; an offset reset). Taken again, the open windows would
         * count these records twice. */
        k->st.redelivered++;
        return;
    }
    k->p[n].next = m->offset + 1;
    k->p[n].moved_ms = now;
    k->last_activity = now;
    if (k->goflow2) {
        k->p[n].state = P_ACTIVE;
        take_goflow2(k, m->payload, m->len);
    } else if (kafka_dedup_copy(&k->dup, (uint32_t)n, m->payload, m->len)) {
        /* the Kafka sink sent it again (a failed delivery, a restart): taken, the open windows
         * would count its record twice */
        k->st.resent++;
    } else
        take_record(k, n, m->offset, m->payload, m->len);
}

/* Read to its end (P_EOF, since now): each active owned partition whose next offset (before
 * its first record: where the rewind started it, its commit, else its low watermark) reached
 * the high watermark of its last fetch (a cached figure: no request). librdkafka's end event
 * (on_message) says the same but once per fetch start, and not at all with an operator's
 * enable.partition.eof=false; this does not depend on it. Called when a poll found the
 * consumer's queue empty (what was fetched has been taken), and at the stop. A record that comes later makes
 * the partition active (or held) again; eof_since moves only on the transition. */
static void mark_ends(struct kafka_in *k, uint64_t now)
{
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        struct kpart *kp = &k->p[n];
        int64_t lo = -1, hi = -1;
        if (!kp->owned || kp->state != P_ACTIVE ||
            rd_kafka_get_watermark_offsets(k->rk, k->ks.topic_flows, n, &lo, &hi) != 0 || hi < 0 ||
            (kp->next >= 0 ? kp->next : lo) < hi)
            continue;
        kp->state = P_EOF;
        kp->eof_since = now;
    }
}

/* The smallest held window when every owned partition holds a record or has idled at its end;
 * false otherwise (an active partition, or one at its end for less than partition_idle). */
static bool release_due(const struct kafka_in *k, uint64_t now, uint64_t *win)
{
    uint64_t minw = UINT64_MAX;
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        const struct kpart *kp = &k->p[n];
        if (!kp->owned)
            continue;
        if (kp->state == P_HELD) {
            if (kp->held_meta.window_start_ms < minw)
                minw = kp->held_meta.window_start_ms;
        } else if (kp->state != P_EOF || now - kp->eof_since < k->ks.partition_idle_ms)
            return false;
    }
    *win = minw;
    return minw != UINT64_MAX;
}

/* Release the next window: its held records go on (closing the windows before it), their
 * partitions read on past them, and the commit points taken just before are committed. */
static void release(struct kafka_in *k, uint64_t win)
{
    rd_kafka_topic_partition_list_t *points = commit_points(k);
    rd_kafka_topic_partition_list_t *on = rd_kafka_topic_partition_list_new(4);
    k->released = win;
    k->have_released = true;
    k->st.windows_released++;
    k->st.released_s = win / 1000;
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        struct kpart *kp = &k->p[n];
        if (!kp->owned || kp->state != P_HELD || kp->held_meta.window_start_ms != win)
            continue;
        kp->state = P_ACTIVE;
        kp->next = kp->held_offset + 1;
        kp->moved_ms = clock_mono_ms();
        k->st.held--;
        hand_on(k, &kp->held, &kp->held_meta);
        list_add(on, k->ks.topic_flows, n, kp->held_offset + 1);
    }
    seek(k, rd_kafka_topic_partition_list_copy(on), 0);
    rd_kafka_resume_partitions(k->rk, on);
    rd_kafka_topic_partition_list_destroy(on);
    commit(k, lagged(k, points, win, true), true);
    share_released(k, win);
}

/* GoFlow2: at each window close, commit the positions of the previous one. */
static void goflow2_commit(struct kafka_in *k)
{
    uint64_t c = k->o.hooks.last_close ? k->o.hooks.last_close(k->o.hooks.arg) : 0;
    if (c == k->gf_close)
        return;
    k->gf_close = c;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        if (k->p[n].owned && k->gf_snap[n] > 0)
            list_add(l, k->ks.topic_flows, n, k->gf_snap[n]);
        k->gf_snap[n] = k->p[n].owned ? k->p[n].next : -1;
    }
    commit(k, l, true);
}

/* Once the group was joined: every owned partition at its end for exit_idle, and no record nor
 * rebalance for that long (or none owned that long): the input ended. A rebalance still under
 * way is not seen here (librdkafka tells of it only when it assigns or revokes): exit_idle must
 * exceed the time the group takes to settle. */
static bool exit_due(const struct kafka_in *k, uint64_t now)
{
    /* (last_activity may be later than now: a rebalance served since now was read) */
    if (!k->o.exit_idle_ms || !k->st.rebalances || now < k->last_activity + k->o.exit_idle_ms)
        return false;
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        const struct kpart *kp = &k->p[n];
        if (kp->owned && (kp->state != P_EOF || now - kp->eof_since < k->o.exit_idle_ms))
            return false;
    }
    return true;
}

/* Every owned partition read to its end (at least one owned); *eof: how many are. */
static bool read_to_end(struct kafka_in *k, unsigned *eof)
{
    unsigned owned = 0;
    *eof = 0;
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++)
        if (k->p[n].owned) {
            owned++;
            *eof += k->p[n].state == P_EOF;
        }
    return owned && *eof == owned;
}

/* ---- source ops ---- */

/* The daemon's stop (daemon_shutdown; a last drain and the pipeline's finish, which closes the
 * open window, follow). An instance that has read every partition it owns to its end publishes
 * the open window's shared entries and waits for the other instances' (they stop too when the
 * input has ended: a batch run, a test harness), reading topic_prevalence, at most
 * partition_idle_ms and flush_timeout: its last window then decides as at the end of the input
 * (exit_idle). A stop while the others go on waits the whole bound (counted incomplete). Then
 * nothing more is read: what was not handed on is read again by the partitions' next owner. */
static void kin_finish(struct source *s)
{
    struct kafka_in *k = (struct kafka_in *)s;
    k->stopped = true;
    if (k->goflow2 || !share_on(k))
        return;
    unsigned eof = 0;
    mark_ends(k, clock_mono_ms());
    if (!read_to_end(k, &eof) || k->rebalanced || !k->have_released) {
        log_info("kafka consumer: stopping with %u of %llu partition(s) read to their end%s: the "
                 "open window's shared entries are not exchanged",
                 eof, (unsigned long long)k->st.partitions,
                 k->rebalanced || !k->have_released ? " (a rebalance under way)" : "");
        return;
    }
    uint64_t t0 = clock_mono_ms(), now = t0, bound = k->ks.flush_timeout * 1000;
    if (bound > k->ks.partition_idle_ms)
        bound = k->ks.partition_idle_ms;
    char junk[64];
    while (share_hold(k, now) && now - t0 < bound) {
        struct pollfd pfd = {.fd = k->pipefd[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0)
            while (read(k->pipefd[0], junk, sizeof junk) > 0)
                ;
        share_read(k, SIZE_MAX);
        now = clock_mono_ms();
    }
    if (!share_covered(k) && !k->sh.gave_up) {
        k->sh.gave_up = true;
        k->st.share_incomplete++;
        log_warn("kafka: stopping: the last window closes without every partition's shared "
                 "entries after %llu ms (counted: kafka_in_share_incomplete_total)",
                 (unsigned long long)(now - t0));
    }
}

static int kin_fd(struct source *s)
{
    return ((struct kafka_in *)s)->pipefd[0];
}

static bool kin_ready(struct source *s)
{
    struct kafka_in *k = (struct kafka_in *)s;
    uint64_t now = clock_mono_ms(), win;
    bool due = (!k->goflow2 && release_due(k, now, &win)) || exit_due(k, now);
    return k->more || k->rebalanced || (due && !share_waiting(k, now));
}

static int kin_drain(struct source *s, size_t budget)
{
    struct kafka_in *k = (struct kafka_in *)s;
    if (k->stopped) /* the daemon's last drain: a rebalance served now would drop the windows */
        return SOURCE_EOF;
    char junk[64];
    while (read(k->pipefd[0], junk, sizeof junk) > 0)
        ;
    uint64_t now = clock_mono_ms(), win;
    size_t n = 0;
    k->more = false;
    k->future_ms = clock_wall_ms() + KAFKA_IN_FUTURE_MS;
    while (n < budget) {
        int rc = k->rebalanced ? rewind_all(k) : 0;
        if (rc < 0)
            return rc; /* logged by the pipeline */
        n += share_read(k, budget - n);
        if (!k->goflow2 && release_due(k, now, &win) && !share_hold(k, now)) {
            release(k, win);
            n++;
            continue;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0);
        if (!m) {
            mark_ends(k, now);
            break;
        }
        if (!k->rebalanced) /* a rebalance served by this poll: the rewind reads it again */
            on_message(k, m, now);
        rd_kafka_message_destroy(m);
        n++;
    }
    k->more = n >= budget;
    if (k->goflow2)
        goflow2_commit(k);
    if (!k->more && exit_due(k, now) && !share_hold(k, now)) {
        log_info("kafka consumer: every partition at its end for %llu ms: input ended",
                 (unsigned long long)k->o.exit_idle_ms);
        return SOURCE_EOF;
    }
    return (int)n;
}

static void rate_update(struct kafka_in *k)
{
    uint64_t now = clock_mono_ms();
    if (!k->rate_ms || now - k->rate_ms >= 1000) {
        if (k->rate_ms)
            k->st.rate = (k->st.records - k->rate_records) * 1000 / (now - k->rate_ms);
        k->rate_ms = now;
        k->rate_records = k->st.records;
    }
}

/* Records behind the high watermark of each owned partition (the last fetch's figure); the
 * per-partition rows for the lowest KAFKA_IN_PART_ROWS owned partitions. */
static size_t lag_rows(struct kafka_in *k, uint64_t *lag, uint64_t *wm_s)
{
    size_t rows = 0;
    k->st.lag = k->st.position = 0;
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        const struct kpart *kp = &k->p[n];
        if (!kp->owned)
            continue;
        int64_t lo = -1, hi = -1;
        uint64_t l = 0;
        if (rd_kafka_get_watermark_offsets(k->rk, k->ks.topic_flows, n, &lo, &hi) == 0 && hi >= 0) {
            int64_t at = kp->next >= 0 ? kp->next : lo;
            l = at >= 0 && hi > at ? (uint64_t)(hi - at) : 0;
        }
        k->st.lag += l;
        k->st.position += kp->next > 0 ? (uint64_t)kp->next : 0;
        if (rows < KAFKA_IN_PART_ROWS) {
            snprintf(k->labels[rows], sizeof k->labels[rows], "partition=\"%d\"", (int)n);
            lag[rows] = l;
            wm_s[rows] = kp->wm_ms / 1000;
            rows++;
        }
    }
    return rows;
}

#define T struct kafka_in_stats
static const struct ctr_def kin_defs[] = {KAFKA_IN_COUNTERS(CTR_ROW, CTR_ALIAS)};
#undef T

const struct ctr_def *kafka_in_counter_defs(size_t *n)
{
    *n = sizeof kin_defs / sizeof kin_defs[0];
    return kin_defs;
}

static size_t kin_counters(struct source *s, size_t table, const struct ctr_def **defs, void *snap)
{
    struct kafka_in *k = (struct kafka_in *)s;
    const struct ctr_def *d = kin_defs;
    uint64_t lag[KAFKA_IN_PART_ROWS], wm[KAFKA_IN_PART_ROWS];
    size_t rows = lag_rows(k, lag, wm);
    if (table == 0) {
        rate_update(k);
        return source_one_table(0, d, sizeof kin_defs / sizeof kin_defs[0], &k->st, sizeof k->st,
                                defs, snap);
    }
    if (table > 2 || !rows)
        return 0;
    struct ctr_def *rd = table == 1 ? k->wm_defs : k->lag_defs;
    for (size_t i = 0; i < rows; i++)
        rd[i] = (struct ctr_def){
            .json = NULL,
            .metric = table == 1 ? "kafka_in_partition_watermark_seconds"
                                 : "kafka_in_partition_lag_records",
            .label = k->labels[i],
            .kind = CTR_GAUGE,
            .help = table == 1 ? "Newest collector watermark read from the partition (Unix s)."
                               : "Records of the partition not yet read.",
            .off = i * sizeof(uint64_t)};
    memcpy(snap, table == 1 ? wm : lag, rows * sizeof(uint64_t));
    *defs = rd;
    return rows;
}
_Static_assert(sizeof(struct kafka_in_stats) <= SOURCE_SNAP_MAX, "snapshot too large");
_Static_assert(KAFKA_IN_PART_ROWS * sizeof(uint64_t) <= SOURCE_SNAP_MAX, "rows too many");

static void kin_close(struct source *s)
{
    struct kafka_in *k = (struct kafka_in *)s;
    if (k->rk) {
        /* the pipeline has closed its last window (shutdown): everything read is published */
        if (!k->goflow2 && !k->rebalanced && (!k->cp || k->have_released))
            commit(k, lagged(k, commit_points(k), k->released, false), false);
        share_close(k);
        if (k->q)
            rd_kafka_queue_destroy(k->q);
        rd_kafka_consumer_close(k->rk);
        rd_kafka_destroy(k->rk);
    }
    for (int i = 0; i < 2; i++)
        if (k->pipefd[i] >= 0)
            close(k->pipefd[i]);
    free(k->cp);
    kafka_dedup_fini(&k->dup);
    free(k);
}

static const struct source_ops kafka_in_ops = {
    .kind = "kafka",
    .budget = 4096,
    .fd = kin_fd,
    .ready = kin_ready,
    .drain = kin_drain,
    .finish = kin_finish,
    .counters = kin_counters,
    .close = kin_close,
};

void kafka_in_source_stats(struct source *src, struct kafka_in_stats *st)
{
    struct kafka_in *k = (struct kafka_in *)src;
    uint64_t lag[KAFKA_IN_PART_ROWS], wm[KAFKA_IN_PART_ROWS];
    lag_rows(k, lag, wm);
    *st = k->st;
}

int32_t kafka_in_source_stalled(struct source *src, uint64_t now_ms, uint64_t *idle_ms,
                                unsigned *waiting)
{
    struct kafka_in *k = (struct kafka_in *)src;
    int32_t worst = -1;
    *waiting = 0;
    *idle_ms = 0;
    for (int32_t n = 0; n < KAFKA_IN_MAX_PARTITIONS; n++) {
        const struct kpart *kp = &k->p[n];
        if (!kp->owned)
            continue;
        if (kp->state == P_HELD)
            ++*waiting;
        else if (kp->state == P_ACTIVE && (worst < 0 || kp->moved_ms < k->p[worst].moved_ms))
            worst = n;
    }
    if (!*waiting || worst < 0)
        return -1;
    *idle_ms = now_ms > k->p[worst].moved_ms ? now_ms - k->p[worst].moved_ms : 0;
    return worst;
}

int kafka_in_source_test_seek(struct source *src, int32_t n, int64_t off)
{
    struct kafka_in *k = (struct kafka_in *)src;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    list_add(l, k->ks.topic_flows, n, off);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(k->rk, l, 5000);
    int rc = e || l->elems[0].err ? -EIO : 0;
    if (e)
        rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Our consumer defaults, then the operator's properties. NULL with err. */
static rd_kafka_conf_t *consumer_conf(struct kafka_in *k, char *err, size_t errlen)
{
    const struct kafka_settings *ks = &k->ks;
    const char *defs[][2] = {
        {"bootstrap.servers", ks->brokers},
        {"group.id", ks->group_id},
        {"client.id", "transitwatch-detect"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "true"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"group.instance.id", ks->instance_id},
    };
    size_t ndefs = sizeof defs / sizeof defs[0] - (ks->instance_id[0] ? 0 : 1);
    rd_kafka_conf_t *conf = kafka_conf_build(defs, ndefs, ks->properties, err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
    return conf;
}

static int start_consumer(struct kafka_in *k, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = consumer_conf(k, err, errlen);
    if (!conf || !(k->rk = kafka_client_new(true, conf, "consumer", err, errlen)))
        return -EINVAL;
    rd_kafka_poll_set_consumer(k->rk);
    k->q = rd_kafka_queue_get_consumer(k->rk);
    if (!k->q) {
        snprintf(err, errlen, "kafka consumer: no consumer queue");
        return -EINVAL;
    }
    rd_kafka_queue_io_event_enable(k->q, k->pipefd[1], "1", 1);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, k->ks.topic_flows, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t re = rd_kafka_subscribe(k->rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (re) {
        snprintf(err, errlen, "kafka consumer: subscribe to %s: %s", k->ks.topic_flows,
                 rd_kafka_err2str(re));
        return -EINVAL;
    }
    return 0;
}

int kafka_in_source_open(const struct kafka_in_opts *o, const struct source_out *out,
                         struct source **src, char *err, size_t errlen)
{
    const struct kafka_settings *ks = o->ks;
    bool goflow2 = strcmp(ks->input, "goflow2") == 0;
    if (!goflow2 && strcmp(ks->input, "transitwatch") != 0) {
        snprintf(err, errlen, "kafka.input: expected transitwatch or goflow2, not '%s'", ks->input);
        return -EINVAL;
    }
    if (!ks->brokers[0] || !ks->topic_flows[0] || !ks->group_id[0] || !o->window_ms) {
        snprintf(err, errlen, "kafka: brokers, topic_flows and group_id must be set");
        return -EINVAL;
    }
    struct kafka_in *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    k->o = *o;
    k->ks = *ks;
    k->goflow2 = goflow2;
    k->pipefd[0] = k->pipefd[1] = -1;
    k->last_activity = clock_mono_ms();
    source_init(&k->base, &kafka_in_ops, out, ks->topic_flows);
    if (pipe2(k->pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
        int rc = -errno;
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        kin_close(&k->base);
        return rc;
    }
    if (!goflow2 && ks->replay_horizon) {
        uint64_t w = ks->replay_horizon * 1000 / o->window_ms;
        k->cp_max = (unsigned)(w < KAFKA_IN_REPLAY_MAX ? w : KAFKA_IN_REPLAY_MAX) + 1;
        k->cp = malloc(k->cp_max * sizeof *k->cp);
        if (!k->cp) {
            snprintf(err, errlen, "out of memory");
            kin_close(&k->base);
            return -ENOMEM;
        }
    }
    int rc = goflow2 ? 0 : kafka_dedup_init(&k->dup, ks->dedup_messages);
    if (rc < 0)
        snprintf(err, errlen, "kafka: dedup_messages: %s", strerror(-rc));
    if (rc >= 0)
        rc = start_consumer(k, err, errlen);
    if (rc >= 0)
        rc = share_open(k, err, errlen);
    if (rc < 0) {
        kin_close(&k->base);
        return rc;
    }
    *src = &k->base;
    return 0;
}
