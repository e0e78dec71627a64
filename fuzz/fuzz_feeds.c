/* fuzz_feeds.c: the blocklist loaders on arbitrary bytes; the first byte picks the format. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_cb(void *arg, const struct feed_entry *e)
{
    (void)e;
    (*(size_t *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed *f = NULL;
    struct conf_error err;
    enum feed_format fmt = FEED_AUTO;

    if (size > 0) {
        fmt = (enum feed_format)(data[0] % 5);
        data++;
        size--;
    }
    if (feed_load_mem("fuzz", "fuzz.txt", (const char *)data, size, fmt, 256, &f, &err) != 0)
        return 0;
    const struct feed_stats *st = feed_stats(f);
    if (st->entries != feed_entry_count(f) || st->entries > 256)
        __builtin_trap();
    for (size_t i = 0; i < feed_entry_count(f); i++) {
        const struct feed_entry *e = feed_entry_at(f, i);
        bool pm;
        /* every entry's own network address matches some entry of a prefix at least as long */
        const struct feed_entry *m = feed_match_port(f, e->p.addr, e->port, &pm);
        if (!m || m->p.len < e->p.len)
            __builtin_trap();
        size_t n = 0;
        if (feed_overlaps(f, &e->p, count_cb, &n) == 0 || n == 0)
            __builtin_trap();
        if (memchr(e->listing, '\0', sizeof(e->listing)) == NULL ||
            memchr(e->malware, '\0', sizeof(e->malware)) == NULL)
            __builtin_trap();
    }
    char w[256];
    (void)feed_warning(f, 1, w, sizeof(w));
    feed_free(f);
    return 0;
}
