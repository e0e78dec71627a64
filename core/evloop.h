/* evloop.h: the one event loop, in the shape of redis's ae: file events (an fd turned
 * readable), timers (monotonic, repeating), and hooks around the wait (before it: a hook may
 * say it left work undone, and the loop then looks at the fds without waiting; after it).
 *
 * One turn: the before-sleep hooks; wait in poll() for the fds, at most until the next timer
 * (not at all when a hook said it is busy or no fd is registered); the after-sleep hooks; the
 * handlers of readable fds; the timers that are due. The loop's clock (evloop_now_ms) is read
 * once per turn.
 *
 * Threads: a loop belongs to the thread that runs it; every function except evloop_stop() is
 * called on that thread (handlers run there too). evloop_stop() may be called from a handler
 * or a hook; to stop a loop from another thread, set a flag that a hook reads and wake the
 * loop through one of its fds (a ring_bell). Signals interrupt the wait (the flags their
 * handlers set are read by a hook), and a timer bounds how late such a flag is seen.
 * Nothing allocates after evloop_new().
 */
#ifndef TW_EVLOOP_H
#define TW_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVLOOP_MAX_FDS 64
#define EVLOOP_MAX_TIMERS 16
#define EVLOOP_MAX_HOOKS 8

struct evloop;

/* fd became readable (or hung up / failed: the handler's read finds out). */
typedef void evloop_fd_fn(void *arg, int fd);
/* A timer is due: returns the milliseconds until it is due again, or 0 to end it. */
typedef uint64_t evloop_timer_fn(void *arg, uint64_t now_ms);
/* Before the wait: return true when work was left undone (the loop then does not wait). After
 * the wait the return value is ignored. */
typedef bool evloop_hook_fn(void *arg);

/* 0 or -ENOMEM. */
int evloop_new(struct evloop **out) __attribute__((warn_unused_result));
void evloop_free(struct evloop *l);

/* Watch fd for readability. 0, -EEXIST (already watched) or -ENOSPC. */
int evloop_add_fd(struct evloop *l, int fd, evloop_fd_fn *fn, void *arg)
    __attribute__((warn_unused_result));
/* Stop watching fd (also from its own handler). 0 or -ENOENT. */
int evloop_del_fd(struct evloop *l, int fd);

/* A timer first due after_ms from now. Returns its id (>= 0) or -ENOSPC. */
int evloop_add_timer(struct evloop *l, uint64_t after_ms, evloop_timer_fn *fn, void *arg)
    __attribute__((warn_unused_result));
void evloop_del_timer(struct evloop *l, int id);

/* Hooks run in the order they were added. 0 or -ENOSPC. */
int evloop_add_before_sleep(struct evloop *l, evloop_hook_fn *fn, void *arg)
    __attribute__((warn_unused_result));
int evloop_add_after_sleep(struct evloop *l, evloop_hook_fn *fn, void *arg)
    __attribute__((warn_unused_result));

/* One turn, waiting at most max_wait_ms (-1: until an fd or a timer). Returns the number of
 * fd handlers and timers run. */
int evloop_run_once(struct evloop *l, int max_wait_ms);
/* Turns until evloop_stop(), or until nothing could wake the loop any more (no fd, no timer,
 * no busy hook). */
void evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);
bool evloop_stopped(const struct evloop *l);
/* Monotonic milliseconds, as read at the start of this turn's handlers. */
uint64_t evloop_now_ms(const struct evloop *l);

#endif
