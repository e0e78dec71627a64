/* run.c: set-up and tear-down of one run (see run.h). */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_json.h"
#include "clock.h"
#include "counters.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "sink_jsonl.h"
#include "sink_kafka.h"
#include "sink_report.h"
#include "source.h"

int run_load_lists(struct run *r, struct conf_error *err)
{
    return lists_load(&r->s, &r->customers, &r->feeds, err);
}

int run_load(struct run *r, const char *config, struct conf_error *err)
{
    r->config_path = config;
    int rc = settings_load(&r->s, config, err);
    if (rc < 0)
        return rc;
    return run_load_lists(r, err);
}

static int open_sinks(struct run *r, const char *out_path, bool truncate, bool text)
{
    char err[256];
    const char *path = out_path ? out_path : r->s.jsonl;
    if (path[0]) {
        struct sink sk;
        int rc = text ? sink_text_new(path, truncate, &sk, err, sizeof err)
                      : sink_jsonl_new(path, r->s.jsonl_gzip, truncate, SINK_JSONL_ALL, &sk, err,
                                       sizeof err);
        if (rc < 0) {
            log_error("%s", err);
            return rc;
        }
        sinks_add(&r->sinks, sk);
    }
    if (r->s.kafka_enabled) {
        struct sink sk;
        int rc = sink_kafka_new(&r->s.kafka, &sk, err, sizeof err);
        if (rc < 0) {
            log_error("kafka: %s", err);
            return rc;
        }
        sinks_add(&r->sinks, sk);
    }
    return 0;
}

/* [pipeline] reserve_memory: end the reservation run_start began, and log what it did (rc:
 * run_start's verdict so far, returned; -ENOMEM where the kernel could not). */
static int reserve_end(const struct run *r, int rc)
{
    if (!r->s.reserve_memory)
        return rc;
    int e = lines_reserve_finish("", rc == 0);
    return rc < 0 ? rc : e;
}

int run_start(struct run *r, bool replay, const struct ingest_opts *io, const char *out_path,
              bool truncate, bool text)
{
    lists_warn(r->feeds);
    int rc = open_sinks(r, out_path, truncate, text);
    if (rc < 0)
        return rc;
    if (r->s.reserve_memory && !lines_reserving()) /* the daemon began before its sockets */
        lines_reserve_begin();
    rc = pipeline_new(&r->s, replay, r->customers, r->feeds, &r->sinks, &r->pipe);
    if (rc < 0) {
        log_error("cannot start the pipeline: %s", strerror(-rc));
        return reserve_end(r, rc);
    }
    r->customers = NULL; /* taken */
    r->feeds = NULL;
    struct ingest_opts o;
    if (io)
        o = *io;
    else
        ingest_opts_default(&r->s, &o);
    rc = ingest_new(&r->s, &o, r->pipe, &r->in);
    if (rc < 0) {
        log_error("cannot start the decoders: %s", strerror(-rc));
        return reserve_end(r, rc);
    }
    return reserve_end(r, 0);
}

/* pipeline_forward_fn (collect, the pipeline's thread): encode and publish, keyed by the
 * customer whose part it is. A record the sinks could not take is counted by them. */
static void collect_forward(void *arg, const struct flow_rec *f, const struct flowpb_meta *m)
{
    struct run *r = arg;
    uint8_t buf[FLOWPB_MAX];
    int len = flowpb_encode(f, m, buf, sizeof buf);
    if (m->part == FLOWPB_PART_TICK) { /* to every partition (the Kafka sink) */
        if (len > 0)
            sinks_publish(&r->sinks, MSG_FLOW_TICK, "", 0, (const char *)buf, (size_t)len);
        return;
    }
    uint32_t c = m->part == FLOWPB_PART_DST ? f->peer_customer : f->customer;
    const struct customer *cu = customers_get(pipeline_customers(r->pipe), c);
    if (len <= 0 || !cu)
        return; /* cannot happen: FLOWPB_MAX bounds every record; classified: a customer */
    sinks_publish(&r->sinks, MSG_FLOW, cu->id, strlen(cu->id), (const char *)buf, (size_t)len);
}

int run_collect(struct run *r)
{
    if (!r->s.kafka_enabled) {
        log_error("collect: [kafka] brokers must be set (records go to topic_flows)");
        return -EINVAL;
    }
    pipeline_set_forward(r->pipe, collect_forward, r);
    log_info("collect: flow records to Kafka topic %s, keyed by customer id",
             r->s.kafka.topic_flows);
    return 0;
}

void run_teardown(struct run *r)
{
    ingest_free(r->in);
    pipeline_free(r->pipe);
    if (r->reloaded) {
        settings_free(r->reloaded);
        free(r->reloaded);
        r->reloaded = NULL;
    }
    sinks_destroy(&r->sinks);
    customers_free(r->customers);
    feed_set_free(r->feeds);
    settings_free(&r->s);
}

/* The totals line: every counter (counters.h) at the end of a run, as an ECS metric event.
 * @timestamp: the end of the last window closed (event time: a replay's totals repeat
 * exactly), else the wall clock. */
void run_publish_totals(struct run *r, const char *dataset, const struct source_set *ss)
{
    char buf[16384], msg[384];
    struct pipeline_stats ps;
    pipeline_stats(r->pipe, &ps);
    uint64_t ts = pipeline_last_window_end(r->pipe);
    if (!ts)
        ts = clock_wall_ms();
    snprintf(msg, sizeof msg,
             "transitwatch totals: %llu flow records (%llu unmatched), %llu "
             "windows, %llu alerts, %llu summaries",
             (unsigned long long)ps.flows, (unsigned long long)ps.unmatched,
             (unsigned long long)ps.windows_closed, (unsigned long long)ps.alerts.published,
             (unsigned long long)ps.summaries);
    if (ss) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof msg - l,
                 ", kernel drops: %llu UDP datagrams, %llu captured packets (%llu more at the "
                 "interfaces)",
                 (unsigned long long)source_set_counter(ss, "udp_kernel_drops_total"),
                 (unsigned long long)source_set_counter(ss, "capture_kernel_drops_total"),
                 (unsigned long long)source_set_counter(ss, "capture_interface_drops_total"));
    }
    struct json j;
    json_init(&j, buf, sizeof buf);
    json_obj_open(&j, NULL);
    metric_head_json(&j, ts, msg, dataset);
    json_obj_close(&j);
    json_obj_open(&j, "transitwatch");
    json_obj_open(&j, "totals");
    counters_totals_json(r->in, r->pipe, &j);
    if (ss)
        source_set_json(ss, &j);
    json_obj_close(&j);
    json_obj_close(&j);
    json_obj_close(&j);
    if (json_error(&j))
        log_error("totals line longer than %zu bytes: not published", sizeof buf);
    else
        sinks_publish(&r->sinks, MSG_TOTALS, "", 0, buf, json_len(&j));
}

int run_open_report(struct run *r, const char *title, const char *path, struct report **model)
{
    char *config = NULL, err[128];
    size_t clen = 0;
    FILE *mem = open_memstream(&config, &clen);
    if (mem) {
        settings_write_values(&r->s, mem);
        fclose(mem);
    }
    struct report_opts ro = {
        .title = title, .config = config, .threshold_share = r->s.hostility.share};
    struct sink sk;
    int rc = sink_report_new(&ro, path, &sk, model, err, sizeof err);
    free(config);
    if (rc < 0) {
        log_error("%s", err);
        return rc;
    }
    if (sinks_add(&r->sinks, sk) < 0) {
        sk.ops->destroy(sk.self);
        log_error("report: too many outputs");
        return -ENOSPC;
    }
    return 0;
}
