/* bench_kafka.c: messages/s through the Kafka sink (write-ahead spool + idempotent producer,
 * acks=all) to librdkafka's mock cluster on loopback, until every message is acknowledged.
 * Usage: bench_kafka [messages=200000] [spool_block_bytes=0]   Prints one line. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clock.h"
#include "conf.h"
#include "exporter.h"
#include "sink_kafka.h"

static double now_s(void)
{
    return (double)clock_mono_ns() / 1e9;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    unsigned long block = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    char errstr[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof errstr);
    if (!mrk)
        return 1;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    rd_kafka_mock_topic_create(mc, "transitwatch.alerts", 4, 1);
    rd_kafka_mock_topic_create(mc, "transitwatch.summaries", 2, 1);
    char dir[] = "/tmp/tw_bench_kafka_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct kafka_settings s;
    if (conf_defaults(kafka_conf_keys, &s) < 0)
        return 1;
    snprintf(s.brokers, sizeof s.brokers, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    snprintf(s.spool_dir, sizeof s.spool_dir, "%s", dir);
    snprintf(s.properties, sizeof s.properties, "log_level=2");
    s.spool_block_bytes = block;
    struct sink k;
    if (sink_kafka_new(&s, &k, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    char msg[700], key[16];
    double t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "cust%lu", i % 64);
        int len =
            snprintf(msg, sizeof msg,
                     "{\"event\":{\"id\":\"%016lx\",\"kind\":\"alert\"},\"customer\":\"%s\","
                     "\"detector\":\"spam\",\"host\":\"192.0.2.%lu\",\"score\":%lu,\"pad\":\"",
                     i * 2654435761ul, key, i % 250, i % 1000);
        for (; len < 596; len++)
            msg[len] = "abcdefghijklmnop"[(i + (unsigned long)len) & 15];
        len += snprintf(msg + len, sizeof msg - (size_t)len, "\"}");
        if (k.ops->publish(k.self, MSG_ALERT, key, (size_t)kl, msg, (size_t)len) < 0)
            return 2;
        if ((i & 255) == 0)
            k.ops->poll(k.self);
    }
    double t1 = now_s();
    int rc = k.ops->flush(k.self, 120000);
    double t2 = now_s();
    struct kafka_counters c;
    sink_kafka_counters(&k, &c);
    printf("bench_kafka: %lu msgs x ~600 B, spool_block_bytes=%lu: publish %.0f msg/s, "
           "end-to-end (all acked) %.0f msg/s, %.2f s; delivered %llu, lost %llu, flush %s\n",
           n, block, (double)n / (t1 - t0), (double)n / (t2 - t0), t2 - t0,
           (unsigned long long)c.delivered, (unsigned long long)c.spool_lost,
           rc == 0 ? "ok" : "TIMEOUT");
    k.ops->destroy(k.self);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
    return rc == 0 ? 0 : 3;
}
