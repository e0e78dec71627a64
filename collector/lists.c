#include "lists.h"

#include <time.h>

#include "log.h"

int lists_load(const struct settings *s, struct customer_map **customers, struct feed_set **feeds,
               struct conf_error *err)
{
    struct customer_map *cm = NULL;
    struct feed_set *fs = NULL;
    struct customer_limits lim = {s->max_customers, s->max_prefixes};
    if (s->customers_file[0]) {
        if (customers_load(s->customers_file, &lim, &cm, err) < 0)
            goto fail;
    } else if (customers_load_mem("(no customer map)", "", 0, &lim, &cm, err) < 0) {
        goto fail;
    }
    if (feed_set_new(&fs) < 0) {
        conf_error_set(err, "(feeds)", 0, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s->nfeeds; i++) {
        const struct feed_settings *f = &s->feeds[i];
        enum feed_format fmt;
        if (feed_format_parse(f->format, &fmt) < 0) {
            conf_error_set(err, s->source_file, 0, "[blocklist %s]: unknown format '%s'", f->name,
                           f->format);
            goto fail;
        }
        struct feed *fd = NULL;
        if (feed_load(f->name, f->file, fmt, f->max_entries, &fd, err) < 0)
            goto fail;
        if (feed_set_add(fs, fd) < 0) {
            conf_error_set(err, f->file, 0, "blocklist %s: cannot add (duplicate name or too many)",
                           f->name);
            goto fail;
        }
    }
    *customers = cm;
    *feeds = fs;
    return 0;
fail:
    customers_free(cm);
    feed_set_free(fs);
    return -1;
}

void lists_warn(const struct feed_set *feeds)
{
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < feed_set_count(feeds); i++) {
        char buf[512];
        if (feed_warning(feed_set_get(feeds, i), now, buf, sizeof buf) > 0)
            log_warn("%s", buf);
    }
}
