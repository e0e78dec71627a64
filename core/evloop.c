/* evloop.c: see evloop.h. poll() over a handful of fds (sources aggregate theirs: a UDP
 * listener exposes one fd for all its sockets: the socket itself, or an epoll fd over several),
 * timers in a small array. */
#include "evloop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "clock.h"

struct ev_fd {
    int fd;
    evloop_fd_fn *fn;
    void *arg;
};

struct ev_timer {
    bool used;
    uint64_t due_ms;
    evloop_timer_fn *fn;
    void *arg;
};

struct ev_hook {
    evloop_hook_fn *fn;
    void *arg;
};

struct evloop {
    struct ev_fd fds[EVLOOP_MAX_FDS];
    size_t nfds;
    struct pollfd pfd[EVLOOP_MAX_FDS];
    struct ev_timer timers[EVLOOP_MAX_TIMERS];
    struct ev_hook before[EVLOOP_MAX_HOOKS], after[EVLOOP_MAX_HOOKS];
    size_t nbefore, nafter;
    uint64_t now_ms;
    bool stop;
};

int evloop_new(struct evloop **out)
{
    struct evloop *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->now_ms = clock_mono_ms();
    *out = l;
    return 0;
}

void evloop_free(struct evloop *l)
{
    free(l);
}

int evloop_add_fd(struct evloop *l, int fd, evloop_fd_fn *fn, void *arg)
{
    for (size_t i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd)
            return -EEXIST;
    if (l->nfds == EVLOOP_MAX_FDS)
        return -ENOSPC;
    l->fds[l->nfds++] = (struct ev_fd){fd, fn, arg};
    return 0;
}

int evloop_del_fd(struct evloop *l, int fd)
{
    for (size_t i = 0; i < l->nfds; i++) {
        if (l->fds[i].fd != fd)
            continue;
        l->fds[i] = l->fds[--l->nfds];
        return 0;
    }
    return -ENOENT;
}

int evloop_add_timer(struct evloop *l, uint64_t after_ms, evloop_timer_fn *fn, void *arg)
{
    for (int i = 0; i < EVLOOP_MAX_TIMERS; i++) {
        if (l->timers[i].used)
            continue;
        l->timers[i] = (struct ev_timer){true, clock_mono_ms() + after_ms, fn, arg};
        return i;
    }
    return -ENOSPC;
}

void evloop_del_timer(struct evloop *l, int id)
{
    if (id >= 0 && id < EVLOOP_MAX_TIMERS)
        l->timers[id].used = false;
}

static int add_hook(struct ev_hook *h, size_t *n, evloop_hook_fn *fn, void *arg)
{
    if (*n == EVLOOP_MAX_HOOKS)
        return -ENOSPC;
    h[(*n)++] = (struct ev_hook){fn, arg};
    return 0;
}

int evloop_add_before_sleep(struct evloop *l, evloop_hook_fn *fn, void *arg)
{
    return add_hook(l->before, &l->nbefore, fn, arg);
}

int evloop_add_after_sleep(struct evloop *l, evloop_hook_fn *fn, void *arg)
{
    return add_hook(l->after, &l->nafter, fn, arg);
}

/* How long the wait may be: until the nearest timer, within max_wait_ms (-1: no bound). */
static int wait_ms(const struct evloop *l, int max_wait_ms)
{
    int64_t w = max_wait_ms;
    uint64_t now = clock_mono_ms();
    for (int i = 0; i < EVLOOP_MAX_TIMERS; i++) {
        if (!l->timers[i].used)
            continue;
        int64_t left = l->timers[i].due_ms > now ? (int64_t)(l->timers[i].due_ms - now) : 0;
        if (w < 0 || left < w)
            w = left;
    }
    return (int)w;
}

static int run_timers(struct evloop *l)
{
    int ran = 0;
    for (int i = 0; i < EVLOOP_MAX_TIMERS && !l->stop; i++) {
        struct ev_timer *t = &l->timers[i];
        if (!t->used || t->due_ms > l->now_ms)
            continue;
        uint64_t again = t->fn(t->arg, l->now_ms);
        ran++;
        if (!t->used) /* the handler deleted it */
            continue;
        if (again)
            t->due_ms = l->now_ms + again;
        else
            t->used = false;
    }
    return ran;
}

int evloop_run_once(struct evloop *l, int max_wait_ms)
{
    bool busy = false;
    for (size_t i = 0; i < l->nbefore; i++)
        busy |= l->before[i].fn(l->before[i].arg);
    if (l->stop)
        return 0;
    int w = busy ? 0 : wait_ms(l, max_wait_ms);
    size_t n = l->nfds;
    for (size_t i = 0; i < n; i++)
        l->pfd[i] = (struct pollfd){.fd = l->fds[i].fd, .events = POLLIN};
    if (!n && w < 0) { /* nothing can ever wake it: the loop has ended */
        l->stop = true;
        return 0;
    }
    int ready = 0;
    if (n || w != 0) {
        ready = poll(l->pfd, (nfds_t)n, w);
        if (ready < 0) /* EINTR: a signal; its flag is read by a hook next turn */
            ready = 0;
    }
    l->now_ms = clock_mono_ms();
    for (size_t i = 0; i < l->nafter; i++)
        l->after[i].fn(l->after[i].arg);
    int ran = 0;
    for (size_t i = 0; i < n && ready > 0 && !l->stop; i++) {
        if (!(l->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ready--;
        /* a handler may have removed fds: find this one again */
        for (size_t k = 0; k < l->nfds; k++) {
            if (l->fds[k].fd == l->pfd[i].fd) {
                l->fds[k].fn(l->fds[k].arg, l->fds[k].fd);
                ran++;
                break;
            }
        }
    }
    return ran + run_timers(l);
}

void evloop_run(struct evloop *l)
{
    l->stop = false;
    while (!l->stop)
        evloop_run_once(l, -1);
}

void evloop_stop(struct evloop *l)
{
    l->stop = true;
}

bool evloop_stopped(const struct evloop *l)
{
    return l->stop;
}

uint64_t evloop_now_ms(const struct evloop *l)
{
    return l->now_ms;
}
