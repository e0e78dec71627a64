#include "exporter.h"

#include <errno.h>

int sinks_add(struct sinks *ss, struct sink s)
{
    if (ss->n >= SINKS_MAX) {
        if (s.ops && s.ops->destroy)
            s.ops->destroy(s.self);
        return -ENOSPC;
    }
    ss->s[ss->n++] = s;
    return 0;
}

int sinks_publish(struct sinks *ss, enum msg_kind kind, const char *key, size_t keylen,
                  const char *json, size_t len)
{
    int lost = 0;
    for (size_t i = 0; i < ss->n; i++)
        if (ss->s[i].ops->publish(ss->s[i].self, kind, key, keylen, json, len) < 0)
            lost++;
    return lost;
}

void sinks_poll(struct sinks *ss)
{
    for (size_t i = 0; i < ss->n; i++)
        if (ss->s[i].ops->poll)
            ss->s[i].ops->poll(ss->s[i].self);
}

int sinks_flush(struct sinks *ss, int timeout_ms)
{
    int rc = 0;
    for (size_t i = 0; i < ss->n; i++) {
        int r = ss->s[i].ops->flush ? ss->s[i].ops->flush(ss->s[i].self, timeout_ms) : 0;
        if (r < 0)
            rc = r;
    }
    return rc;
}

void sinks_reopen(struct sinks *ss)
{
    for (size_t i = 0; i < ss->n; i++)
        if (ss->s[i].ops->reopen)
            ss->s[i].ops->reopen(ss->s[i].self);
}

void sinks_destroy(struct sinks *ss)
{
    for (size_t i = 0; i < ss->n; i++)
        ss->s[i].ops->destroy(ss->s[i].self);
    ss->n = 0;
}
