/* test_kafka.c: the Kafka sink against librdkafka's mock cluster (real protocol on loopback),
 * read back with a real librdkafka consumer: count, topic, key, byte-identity and per-key
 * order. Cases: normal delivery; broker down then up, and injected Produce errors; the process
 * SIGKILLed with messages in flight, then restarted on the same spool; spool bound reached while
 * the broker is down. The SIGKILL case runs this same executable as a child ("--child"). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clock.h"
#include "conf.h"
#include "exporter.h"
#include "json.h"
#include "sink_kafka.h"
#include "tmpdir_test_util.h"

extern char **environ;

#define NKEYS 8u
#define TOPIC_A "transitwatch.alerts"
#define TOPIC_S "transitwatch.summaries"
#define PART_A 4
#define PART_S 2

static const char *self_exe;

struct env {
    rd_kafka_t *mrk; /* the mock cluster lives in this handle */
    rd_kafka_mock_cluster_t *mc;
    char boot[256];
    char dir[64];
};

static uint64_t now_ms(void)
{
    return clock_mono_ms();
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Message id: ~600 bytes of JSON, key = customer, kind by id. Deterministic. */
static size_t make_msg(uint64_t id, char *buf, size_t cap, char *key, size_t *kl,
                       enum msg_kind *kind)
{
    *kind = id % 5 == 0 ? MSG_SUMMARY : MSG_ALERT;
    *kl = (size_t)snprintf(key, 16, "cust%u", (unsigned)(id % NKEYS));
    int n =
        snprintf(buf, cap, "{\"event\":{\"id\":\"tw-%08llu\"},\"customer\":\"%s\",\"detail\":\"",
                 (unsigned long long)id, key);
    uint64_t x = id * 0x9e3779b97f4a7c15ull + 1;
    while (n < 590) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[n++] = "0123456789abcdef"[x & 15];
    }
    n += snprintf(buf + n, cap - (size_t)n, "\"}");
    return (size_t)n;
}

static void env_up(struct env *e)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
    e->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(e->mrk);
    e->mc = rd_kafka_mock_cluster_new(e->mrk, 1);
    assert_non_null(e->mc);
    snprintf(e->boot, sizeof e->boot, "%s", rd_kafka_mock_cluster_bootstraps(e->mc));
    assert_int_equal(rd_kafka_mock_topic_create(e->mc, TOPIC_A, PART_A, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(e->mc, TOPIC_S, PART_S, 1), 0);
    snprintf(e->dir, sizeof e->dir, "/tmp/tw_kafka_XXXXXX");
    assert_non_null(mkdtemp(e->dir));
}

static void env_down(struct env *e)
{
    rd_kafka_mock_cluster_destroy(e->mc);
    rd_kafka_destroy(e->mrk);
    tmpdir_remove(e->dir);
}

static void settings(const char *boot, const char *dir, struct kafka_settings *s)
{
    assert_int_equal(conf_defaults(kafka_conf_keys, s), 0);
    snprintf(s->brokers, sizeof s->brokers, "%s", boot);
    snprintf(s->spool_dir, sizeof s->spool_dir, "%s", dir);
    /* Short timeouts so failures show within the test's time. */
    snprintf(s->properties, sizeof s->properties,
             "message.timeout.ms=2000; retry.backoff.ms=50, linger.ms=2;"
             "reconnect.backoff.max.ms=200; log_level=2");
    s->retry_interval = 0;
    s->spool_fsync = 0; /* never: these tests are about SIGKILL, not power cuts */
}

static struct sink new_sink(const struct kafka_settings *s)
{
    struct sink k;
    char err[256];
    int rc = sink_kafka_new(s, &k, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    return k;
}

static struct kafka_counters counters(struct sink *k)
{
    struct kafka_counters c;
    assert_int_equal(sink_kafka_counters(k, &c), 0);
    return c;
}

static int publish_id(struct sink *k, uint64_t id)
{
    char buf[1024], key[16];
    size_t kl;
    enum msg_kind kind;
    size_t n = make_msg(id, buf, sizeof buf, key, &kl, &kind);
    return k->ops->publish(k->self, kind, key, kl, buf, n);
}

/* Poll until the backlog is delivered (bounded). */
static void drain(struct sink *k, int max_ms)
{
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < (uint64_t)max_ms) {
        k->ops->poll(k->self);
        struct kafka_counters c = counters(k);
        if (c.backlog == 0 && c.inflight == 0)
            return;
        sleep_ms(5);
    }
    struct kafka_counters c = counters(k);
    fprintf(stderr, "drain timeout: backlog %llu inflight %llu\n", (unsigned long long)c.backlog,
            (unsigned long long)c.inflight);
    fail();
}

/* Copies of one message whose positions are kept for the order check: every outage or
 * injected error re-sends the backlog once more. */
#define SEEN_COPIES 32

struct seen {
    uint64_t n_ids;         /* ids 0 .. n_ids-1 are checked */
    uint16_t *count;        /* copies seen per id */
    uint64_t *copypos;      /* per id: positions of its first SEEN_COPIES copies in its key's
                            * stream (id * SEEN_COPIES + copy) */
    uint64_t pos[NKEYS][2]; /* per key and topic */
    uint64_t msgs, dups, distinct;
    uint64_t *stream[NKEYS][2]; /* ids in read order per key and topic (for a failure report) */
    uint64_t stream_cap;
};

/* Read everything from the beginning of both topics until every id below need is seen (or the
 * time is up), checking each message. ids in accepted[] (NULL: all below need) must appear.
 * check_order: the last copies per key must come in produce order. Not after a crash: a
 * produce request the killed process had already written to the broker's socket can be
 * applied after the restarted producer's re-sends (no transactional fencing), so one late
 * duplicate may land out of order; completeness is what the crash case proves. */
static void consume_ex(const char *boot, struct seen *sn, uint64_t need, const bool *accepted,
                       int max_ms, bool check_order);

static void consume(const char *boot, struct seen *sn, uint64_t need, const bool *accepted,
                    int max_ms)
{
    consume_ex(boot, sn, need, accepted, max_ms, true);
}

static void consume_ex(const char *boot, struct seen *sn, uint64_t need, const bool *accepted,
                       int max_ms, bool check_order)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char gid[64];
    snprintf(gid, sizeof gid, "tw-test-%d-%llu", (int)getpid(), (unsigned long long)now_ms());
    const char *kv[][2] = {{"bootstrap.servers", boot},
                           {"group.id", gid},
                           {"enable.auto.commit", "false"},
                           {"fetch.wait.max.ms", "20"},
                           {"log_level", "2"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof errstr),
                         RD_KAFKA_CONF_OK);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(PART_A + PART_S);
    for (int p = 0; p < PART_A; p++)
        rd_kafka_topic_partition_list_add(tl, TOPIC_A, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    for (int p = 0; p < PART_S; p++)
        rd_kafka_topic_partition_list_add(tl, TOPIC_S, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    /* Read to the end of every partition, not only until each id was seen once: the copies
     * re-sent last (whose order is checked) come after earlier copies of the same ids. */
    int64_t hwm[PART_A + PART_S], next[PART_A + PART_S];
    for (int i = 0; i < PART_A + PART_S; i++) {
        int64_t lo = 0;
        hwm[i] = 0;
        next[i] = 0;
        rd_kafka_resp_err_t qe = rd_kafka_query_watermark_offsets(
            c, i < PART_A ? TOPIC_A : TOPIC_S, i < PART_A ? i : i - PART_A, &lo, &hwm[i], 10000);
        assert_int_equal(qe, RD_KAFKA_RESP_ERR_NO_ERROR);
    }

    memset(sn, 0, sizeof *sn);
    sn->n_ids = need + 100000;
    sn->count = calloc(sn->n_ids, sizeof *sn->count);
    sn->copypos = calloc(sn->n_ids * SEEN_COPIES, sizeof *sn->copypos);
    sn->stream_cap = 4 * (need + 1000);
    for (unsigned kk = 0; kk < NKEYS; kk++)
        for (int t = 0; t < 2; t++) {
            sn->stream[kk][t] = calloc(sn->stream_cap, sizeof(uint64_t));
            assert_non_null(sn->stream[kk][t]);
        }
    assert_non_null(sn->copypos);
    assert_non_null(sn->count);
    uint64_t wanted = 0, got_wanted = 0;
    for (uint64_t i = 0; i < need; i++)
        wanted += !accepted || accepted[i];
    uint64_t t0 = now_ms();
    for (;;) {
        bool at_end = true;
        for (int i = 0; i < PART_A + PART_S; i++)
            at_end = at_end && next[i] >= hwm[i];
        if ((got_wanted >= wanted && at_end) || now_ms() - t0 >= (uint64_t)max_ms)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
        if (!m)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        {
            bool is_a = strcmp(rd_kafka_topic_name(m->rkt), TOPIC_A) == 0;
            int pi = (is_a ? 0 : PART_A) + (int)m->partition;
            if (m->partition >= 0 && m->partition < (is_a ? PART_A : PART_S))
                next[pi] = m->offset + 1;
        }
        const char *p = memmem(m->payload, m->len, "\"id\":\"tw-", 9);
        assert_non_null(p);
        uint64_t id = strtoull(p + 9, NULL, 10);
        assert_true(id < sn->n_ids);
        char buf[1024], key[16];
        size_t kl;
        enum msg_kind kind;
        size_t n = make_msg(id, buf, sizeof buf, key, &kl, &kind);
        assert_int_equal(m->len, n); /* byte-identical */
        assert_memory_equal(m->payload, buf, n);
        assert_int_equal(m->key_len, kl);
        assert_memory_equal(m->key, key, kl);
        assert_string_equal(rd_kafka_topic_name(m->rkt), kind == MSG_ALERT ? TOPIC_A : TOPIC_S);
        if (sn->count[id]++)
            sn->dups++;
        else {
            sn->distinct++;
            if (id < need && (!accepted || accepted[id]))
                got_wanted++;
        }
        if (sn->count[id] <= SEEN_COPIES) /* counted just above: copy number count - 1 */
            sn->copypos[id * SEEN_COPIES + sn->count[id] - 1] = sn->pos[id % NKEYS][kind];
        if (sn->pos[id % NKEYS][kind] < sn->stream_cap)
            sn->stream[id % NKEYS][kind][sn->pos[id % NKEYS][kind]] = id;
        sn->pos[id % NKEYS][kind]++;
        sn->msgs++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    for (uint64_t i = 0; i < need; i++)
        if ((!accepted || accepted[i]) && !sn->count[i]) {
            fprintf(stderr, "message %llu missing (%llu of %llu seen)\n", (unsigned long long)i,
                    (unsigned long long)got_wanted, (unsigned long long)wanted);
            fail();
        }
    /* Per key and topic, the ids can be read in produce order taking one copy of each: a copy
     * of every id after the copy taken for the one before (greedy: the earliest copy after the
     * previous choice, which finds such a reading whenever one exists). Re-sends repeat a
     * suffix in order; a stale copy (a request that timed out on the client while the broker
     * stored it) may land anywhere, and the reader skips it by event id. */
    for (unsigned kk = 0; check_order && kk < 2 * NKEYS; kk++) {
        unsigned key = kk % NKEYS;
        enum msg_kind want = kk < NKEYS ? MSG_ALERT : MSG_SUMMARY;
        bool have = false;
        uint64_t prev = 0;
        for (uint64_t i = key; i < sn->n_ids; i += NKEYS) {
            if (!sn->count[i] || (i % 5 == 0 ? MSG_SUMMARY : MSG_ALERT) != want)
                continue;
            /* the earliest copy after the one taken for the id before */
            uint64_t at = UINT64_MAX;
            unsigned nc = sn->count[i] < SEEN_COPIES ? sn->count[i] : SEEN_COPIES;
            for (unsigned k = 0; k < nc; k++) {
                uint64_t q = sn->copypos[i * SEEN_COPIES + k];
                if ((!have || q > prev) && q < at)
                    at = q;
            }
            if (at == UINT64_MAX) {
                fprintf(stderr, "key %u: message %llu out of order; the stream around it:\n", key,
                        (unsigned long long)i);
                uint64_t n =
                    sn->pos[key][want] < sn->stream_cap ? sn->pos[key][want] : sn->stream_cap;
                for (uint64_t q = 0; q < n; q++)
                    if (sn->stream[key][want][q] + 40 * NKEYS >= i &&
                        sn->stream[key][want][q] <= i + 40 * NKEYS)
                        fprintf(stderr, "  pos %llu id %llu%s\n", (unsigned long long)q,
                                (unsigned long long)sn->stream[key][want][q],
                                q == prev ? " (taken for the id before)" : "");
                fail();
                return;
            }
            prev = at;
            have = true;
        }
    }
}

static void seen_free(struct seen *sn)
{
    free(sn->count);
    free(sn->copypos);
    for (unsigned kk = 0; kk < NKEYS; kk++)
        for (int t = 0; t < 2; t++)
            free(sn->stream[kk][t]);
}

/* (1) N messages, delivered exactly once, in order. */
static void test_normal_delivery(void **state)
{
    (void)state;
    struct env e;
    env_up(&e);
    struct kafka_settings s;
    settings(e.boot, e.dir, &s);
    struct sink k = new_sink(&s);
    const uint64_t n = 3000;
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(publish_id(&k, i), 0);
        if (i % 100 == 0)
            k.ops->poll(k.self);
    }
    assert_int_equal(k.ops->publish(k.self, MSG_TOTALS, "x", 1, "{}", 2), 0); /* not for Kafka */
    assert_int_equal(k.ops->flush(k.self, 15000), 0);
    struct kafka_counters c = counters(&k);
    assert_int_equal(c.published, n);
    assert_int_equal(c.delivered, n);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.backlog, 0);
    assert_int_equal(c.spool_lost, 0);
    assert_int_equal(c.resent, 0);
    k.ops->destroy(k.self);
    struct seen sn;
    consume(e.boot, &sn, n, NULL, 20000);
    assert_int_equal(sn.dups, 0);
    assert_int_equal(sn.msgs, n);
    seen_free(&sn);
    env_down(&e);
}

/* (2) Broker down during production, then up; then injected Produce errors. */
static void test_broker_down_and_errors(void **state)
{
    (void)state;
    struct env e;
    env_up(&e);
    struct kafka_settings s;
    settings(e.boot, e.dir, &s);
    struct sink k = new_sink(&s);
    uint64_t id = 0;
    for (; id < 300; id++)
        assert_int_equal(publish_id(&k, id), 0);
    assert_int_equal(k.ops->flush(k.self, 10000), 0);

    assert_int_equal(rd_kafka_mock_broker_set_down(e.mc, 1), 0);
    for (; id < 1500; id++) {
        assert_int_equal(publish_id(&k, id), 0); /* never blocks, never refuses */
        if (id % 50 == 0)
            k.ops->poll(k.self);
    }
    uint64_t t0 = now_ms();
    while (counters(&k).failed == 0 && now_ms() - t0 < 20000) {
        k.ops->poll(k.self);
        sleep_ms(10);
    }
    struct kafka_counters c = counters(&k);
    assert_true(c.failed > 0);
    assert_true(c.backlog > 0);
    assert_int_equal(k.ops->flush(k.self, 100),
                     -ETIMEDOUT); /* not deliverable now: stays spooled */
    assert_int_equal(rd_kafka_mock_broker_set_up(e.mc, 1), 0);
    drain(&k, 30000);
    c = counters(&k);
    assert_true(c.resent > 0);

    /* Injected errors on Produce (API key 0): retriable ones (librdkafka retries) and one that
     * fails a batch (the sink re-sends from the spool). Not NOT_ENOUGH_REPLICAS_AFTER_APPEND:
     * its "appended anyway" duplicates rely on broker-side idempotence the mock lacks. */
    rd_kafka_mock_push_request_errors(
        e.mc, 0, 5, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    for (; id < 2000; id++) {
        assert_int_equal(publish_id(&k, id), 0);
        if (id % 20 == 0)
            k.ops->poll(k.self);
    }
    drain(&k, 30000);
    assert_int_equal(k.ops->flush(k.self, 1000), 0);
    c = counters(&k);
    assert_int_equal(c.published, 2000);
    assert_int_equal(c.spool_lost, 0);
    k.ops->destroy(k.self);
    struct seen sn;
    consume(e.boot, &sn, 2000, NULL, 20000);
    fprintf(stderr, "broker down/errors: %llu messages read, %llu duplicates, %llu re-sent\n",
            (unsigned long long)sn.msgs, (unsigned long long)sn.dups, (unsigned long long)c.resent);
    seen_free(&sn);
    env_down(&e);
}

/* The child of (3): publish until killed; *progress = number of publish() calls that returned 0
 * (ids 0 .. progress-1, all accepted). */
static int child_main(const char *boot, const char *dir, const char *progress_path)
{
    int fd = open(progress_path, O_RDWR);
    if (fd < 0)
        return 2;
    uint64_t *progress = mmap(NULL, sizeof *progress, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (progress == MAP_FAILED)
        return 2;
    struct kafka_settings s;
    if (conf_defaults(kafka_conf_keys, &s) < 0)
        return 2;
    snprintf(s.brokers, sizeof s.brokers, "%s", boot);
    snprintf(s.spool_dir, sizeof s.spool_dir, "%s", dir);
    snprintf(s.properties, sizeof s.properties, "message.timeout.ms=2000;linger.ms=20;log_level=2");
    s.spool_fsync = 0;
    struct sink k;
    char err[256];
    if (sink_kafka_new(&s, &k, err, sizeof err) < 0) {
        fprintf(stderr, "child: %s\n", err);
        return 2;
    }
    for (uint64_t id = 0; id < 1000000; id++) {
        if (publish_id(&k, id) != 0)
            return 3;
        __atomic_store_n(progress, id + 1, __ATOMIC_SEQ_CST);
        if (id % 64 == 0)
            k.ops->poll(k.self);
    }
    return 0; /* not reached in the test: the parent kills us */
}

/* (3) SIGKILL with messages in flight; a new sink on the same spool delivers them. */
static void test_sigkill_restart(void **state)
{
    (void)state;
    struct env e;
    env_up(&e);
    char progress_path[128];
    snprintf(progress_path, sizeof progress_path, "%s.progress", e.dir);
    int fd = open(progress_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    uint64_t *progress = mmap(NULL, sizeof *progress, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(progress != MAP_FAILED);
    close(fd);

    char *argv[] = {(char *)self_exe, "--child", e.boot, e.dir, progress_path, NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, self_exe, NULL, NULL, argv, environ), 0);
    uint64_t t0 = now_ms();
    while (__atomic_load_n(progress, __ATOMIC_SEQ_CST) < 20000 && now_ms() - t0 < 20000)
        sleep_ms(1);
    kill(pid, SIGKILL);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    uint64_t n = __atomic_load_n(progress, __ATOMIC_SEQ_CST);
    assert_true(n > 0);

    struct kafka_settings s;
    settings(e.boot, e.dir, &s);
    struct sink k = new_sink(&s);
    struct kafka_counters c = counters(&k);
    uint64_t recovered = c.spool_recovered;
    assert_int_equal(k.ops->flush(k.self, 20000), 0);
    c = counters(&k);
    k.ops->destroy(k.self);
    struct seen sn;
    consume_ex(e.boot, &sn, n, NULL, 20000, false);
    fprintf(stderr,
            "sigkill: %llu accepted before the kill, %llu recovered from the spool, "
            "%llu read back (%llu duplicates)\n",
            (unsigned long long)n, (unsigned long long)recovered, (unsigned long long)sn.msgs,
            (unsigned long long)sn.dups);
    seen_free(&sn);
    munmap(progress, sizeof *progress);
    unlink(progress_path);
    env_down(&e);
}

/* (4) The spool bound is reached while the broker is down: loss is counted, the sink stays
 * healthy, and what it accepted is delivered once the broker is back. */
static void test_spool_bound(void **state)
{
    (void)state;
    struct env e;
    env_up(&e);
    struct kafka_settings s;
    settings(e.boot, e.dir, &s);
    s.spool_max_bytes = 256u << 10;
    s.queue_max_messages = 256;
    assert_int_equal(rd_kafka_mock_broker_set_down(e.mc, 1), 0);
    struct sink k = new_sink(&s);
    /* after recovery, 200 more: about 110 KiB, which fits the 256 KiB bound even if the
     * broker delivers none of them yet (a loaded machine); more would rightly be refused */
    const uint64_t n = 2700;
    bool *accepted = calloc(n, sizeof *accepted);
    assert_non_null(accepted);
    uint64_t lost = 0;
    for (uint64_t id = 0; id < 2500; id++) {
        accepted[id] = publish_id(&k, id) == 0;
        lost += !accepted[id];
        if (id % 50 == 0)
            k.ops->poll(k.self);
    }
    struct kafka_counters c = counters(&k);
    assert_true(lost > 0);
    assert_int_equal(c.spool_lost, lost);
    assert_int_equal(c.spool_lost_episodes, 1);
    assert_true(c.spool_bytes <= s.spool_max_bytes);

    char sb[2048];
    struct json j;
    json_init(&j, sb, sizeof sb);
    json_obj_open(&j, NULL);
    k.ops->stats_json(k.self, &j);
    json_obj_close(&j);
    assert_false(json_error(&j));
    char want[64];
    snprintf(want, sizeof want, "\"spool_lost\":%llu", (unsigned long long)lost);
    assert_non_null(strstr(sb, want));

    assert_int_equal(rd_kafka_mock_broker_set_up(e.mc, 1), 0);
    drain(&k, 30000);
    for (uint64_t id = 2500; id < n; id++) {
        accepted[id] = publish_id(&k, id) == 0;
        assert_true(accepted[id]);
        if (id % 20 == 0)
            k.ops->poll(k.self); /* deliveries free spool space */
    }
    assert_int_equal(k.ops->flush(k.self, 15000), 0);
    c = counters(&k);
    assert_int_equal(c.spool_lost, lost);
    k.ops->destroy(k.self);
    struct seen sn;
    consume(e.boot, &sn, n, accepted, 20000);
    fprintf(stderr, "spool bound: %llu lost of %llu while down\n", (unsigned long long)lost,
            2500ull);
    seen_free(&sn);
    free(accepted);
    env_down(&e);
}

static void test_properties_parse(void **state)
{
    (void)state;
    struct kafka_settings s;
    settings("127.0.0.1:1", "/tmp/tw_kafka_props_unused", &s);
    snprintf(s.properties, sizeof s.properties, "debug=broker,topic, acks = all;bogus");
    struct sink k;
    char err[256];
    assert_int_equal(sink_kafka_new(&s, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "bogus"));
    snprintf(s.properties, sizeof s.properties, "no.such.property=1");
    assert_int_equal(sink_kafka_new(&s, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "no.such.property"));
    tmpdir_remove("/tmp/tw_kafka_props_unused");
}

int main(int argc, char **argv)
{
    self_exe = argv[0];
    if (argc == 5 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3], argv[4]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_properties_parse),
        cmocka_unit_test(test_normal_delivery),
        cmocka_unit_test(test_broker_down_and_errors),
        cmocka_unit_test(test_sigkill_restart),
        cmocka_unit_test(test_spool_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
