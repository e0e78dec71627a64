/* daemon.h: the collector daemon (`transitwatch [--config FILE]`): configuration checks,
 * sockets, captures and the metrics endpoint opened as root, paths prepared for [daemon] user,
 * privileges dropped, sinks opened as that user, then the main loop (receive, tick, /metrics
 * and /healthz once a second, SIGHUP reload and reopen, SIGTERM/SIGINT stop), with systemd
 * readiness notifications (READY, RELOADING, STOPPING) when started by systemd.
 * Caller: main.c, on the main thread; the signal flags are set by its handlers. */
#ifndef TW_DAEMON_H
#define TW_DAEMON_H

#include <signal.h>
#include <stdbool.h>

#include <stdint.h>

/* What runs (docs/ARCHITECTURE.md, "Beyond one box"): the same daemon, other sources or sinks. */
enum daemon_mode {
    DAEMON_ALL = 0, /* transitwatch: receive, decode, detect, publish alerts */
    DAEMON_COLLECT, /* transitwatch collect: receive, decode, classify, records to Kafka */
    DAEMON_DETECT,  /* transitwatch detect --from-kafka: records from Kafka, detect, publish */
};

struct daemon_opts {
    const char *config;
    bool check_only; /* every configuration check (the same code as a start), a one-line verdict */
    enum daemon_mode mode;
    uint64_t exit_idle_ms;   /* detect: stop once every partition has been at its end this long
                              (tests, one-shot runs); 0: run until signalled */
    const char *instance_id; /* detect: --instance-id, over [kafka] instance_id; NULL: none */
    volatile sig_atomic_t *stop, *hup; /* set by main.c's signal handlers */
};

/* Returns the process exit code: 0, 1 (failed while running) or 2 (configuration). */
int daemon_main(const struct daemon_opts *o);

#endif
