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

/* Returns the process exit code: 0, 1 (failed while running) or 2 (configuration). check_only:
 * run every configuration check (the same code as a start) and print a one-line verdict. */
int daemon_main(const char *config, bool check_only, volatile sig_atomic_t *stop,
                volatile sig_atomic_t *hup);

#endif
