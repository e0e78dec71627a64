#include "lists.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* A list file that cannot be read at all (err->line 0: missing, unreadable, too large) is
 * reported at the config line that names it; an error inside the list keeps the list's own
 * file and line. */
static void at_config_line(const struct settings *s, const void *field, const char *what,
                           struct conf_error *err)
{
    if (err->line)
        return;
    char msg[sizeof err->file + sizeof err->msg + 128];
    snprintf(msg, sizeof msg, "%s %s: %s", what, err->file, err->msg);
    settings_error_at(s, field, err, "%s", msg);
}

int lists_load(const struct settings *s, struct customer_map **customers, struct feed_set **feeds,
               struct conf_error *err)
{
    struct customer_map *cm = NULL;
    struct feed_set *fs = NULL;
    struct customer_limits lim = {s->max_customers, s->max_prefixes};
    int rc;
    if (s->customers_file[0]) {
        rc = customers_load(s->customers_file, &lim, &cm, err);
        if (rc < 0) {
            at_config_line(s, s->customers_file, "customers.file", err);
            goto fail;
        }
    } else {
        rc = customers_load_mem("(no customer map)", "", 0, &lim, &cm, err);
        if (rc < 0)
            goto fail;
    }
    rc = feed_set_new(&fs);
    if (rc < 0) {
        conf_error_set(err, "(feeds)", 0, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s->nfeeds; i++) {
        const struct feed_settings *f = &s->feeds[i];
        enum feed_format fmt;
        rc = feed_format_parse(f->format, &fmt);
        if (rc < 0) {
            settings_error_at(s, f->format, err, "[blocklist %s]: unknown format '%s'", f->name,
                              f->format);
            goto fail;
        }
        struct feed *fd = NULL;
        rc = feed_load(f->name, f->file, fmt, f->max_entries, &fd, err);
        if (rc < 0) {
            char what[96];
            snprintf(what, sizeof what, "[blocklist %s] file", f->name);
            at_config_line(s, f->file, what, err);
            goto fail;
        }
        rc = feed_set_add(fs, fd);
        if (rc < 0) {
            settings_error_at(s, &s->feeds[i], err,
                              "blocklist %s: cannot add (duplicate name or too many)", f->name);
            goto fail;
        }
    }
    /* per-customer options for a customer the map does not know would never apply */
    for (size_t i = 0; i < s->noverrides; i++) {
        const struct override_kv *o = &s->overrides[i];
        if (customers_find_id(cm, o->customer))
            continue;
        conf_error_set(err, s->source_file[0] ? s->source_file : "command line",
                       o->section_line ? o->section_line : o->line,
                       "[customer %s]: no customer '%s' in the customer map %s", o->customer,
                       o->customer, s->customers_file[0] ? s->customers_file : "(none configured)");
        rc = -EINVAL;
        goto fail;
    }
    *customers = cm;
    *feeds = fs;
    return 0;
fail:
    customers_free(cm);
    feed_set_free(fs);
    return rc;
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
